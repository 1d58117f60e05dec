/* kernels/cnp_change.c - DN -> reflectance -> NDVI -> forest / loss per pixel. */
#include "cnp_change.h"

#include <math.h>

/* Inlined into the pixel loop; cnp_ndvi_dn() is the same code for callers. */
static inline double ndvi_dn(double red_dn, double nir_dn, const cnp_date_params *d)
{
    if (d->has_nodata_red && red_dn == d->nodata_red)
        return NAN;
    if (d->has_nodata_nir && nir_dn == d->nodata_nir)
        return NAN;
    /* NaN DNs fail every comparison below, so test them explicitly. */
    if (isnan(red_dn) || isnan(nir_dn))
        return NAN;
    if (red_dn >= d->saturated_dn || nir_dn >= d->saturated_dn)
        return NAN;

    const double red = red_dn * d->scale + d->offset;
    const double nir = nir_dn * d->scale + d->offset;
    const double sum = nir + red;

    if (red < 0.0 || nir < 0.0 || !(sum > 0.0))
        return NAN;
    return (nir - red) / sum;
}

double cnp_ndvi_dn(double red_dn, double nir_dn, const cnp_date_params *d)
{
    return ndvi_dn(red_dn, nir_dn, d);
}

static int tile_ok(const cnp_change_params *p, const cnp_change_tile *t)
{
    if (!p || !t || !t->cls)
        return 0;
    if (t->width < 0 || t->height < 0 || t->stride < t->width)
        return 0;
    for (int i = 0; i < 2; i++)
        if (!t->red[i] || !t->nir[i] || !t->ndvi[i])
            return 0;
    return isfinite(p->forest_ndvi) && isfinite(p->ndvi_drop) && p->ndvi_drop > 0.0;
}

cnp_status cnp_change_classify(const cnp_change_params *p, cnp_change_tile *t,
                               cnp_change_counts *counts)
{
    if (!tile_ok(p, t))
        return CNP_E_ARG;

    const ptrdiff_t w = t->width, h = t->height, stride = t->stride;
    const double forest_ndvi = p->forest_ndvi;
    const double loss_dndvi = -p->ndvi_drop;
    int64_t n_unobs = 0, n_other = 0, n_forest = 0, n_loss = 0;

    #pragma omp parallel for schedule(static) default(none) \
        shared(p, t) firstprivate(w, h, stride, forest_ndvi, loss_dndvi) \
        reduction(+:n_unobs, n_other, n_forest, n_loss)
    for (ptrdiff_t y = 0; y < h; y++) {
        const ptrdiff_t row = y * stride;
        for (ptrdiff_t x = 0; x < w; x++) {
            const ptrdiff_t i = row + x;
            double v[2];

            for (int d = 0; d < 2; d++) {
                v[d] = NAN;
                if (!t->observed[d] || t->observed[d][i])
                    v[d] = ndvi_dn(t->red[d][i], t->nir[d][i], &p->date[d]);
                t->ndvi[d][i] = (float)v[d];
            }

            uint8_t cls;
            if (isnan(v[0]) || isnan(v[1]))
                cls = CNP_CLASS_UNOBSERVED;
            else if (!(v[0] >= forest_ndvi))
                cls = CNP_CLASS_OTHER;
            else if (v[1] - v[0] <= loss_dndvi)
                cls = CNP_CLASS_LOSS;
            else
                cls = CNP_CLASS_FOREST;
            t->cls[i] = cls;

            n_unobs  += cls == CNP_CLASS_UNOBSERVED;
            n_other  += cls == CNP_CLASS_OTHER;
            n_forest += cls == CNP_CLASS_FOREST;
            n_loss   += cls == CNP_CLASS_LOSS;
        }
    }

    if (counts) {
        counts->unobserved += n_unobs;
        counts->other += n_other;
        counts->forest += n_forest;
        counts->loss += n_loss;
    }
    return CNP_OK;
}
