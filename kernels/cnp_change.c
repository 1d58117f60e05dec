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

    const cnp_date_params d0 = p->date[0], d1 = p->date[1];

    #pragma omp parallel for schedule(static) default(none) \
        shared(t) firstprivate(w, h, stride, forest_ndvi, loss_dndvi, d0, d1) \
        reduction(+:n_unobs, n_other, n_forest, n_loss)
    for (ptrdiff_t y = 0; y < h; y++) {
        /* Row pointers in locals: the loop reads no struct through memory, so
         * the compiler keeps everything in registers. */
        const ptrdiff_t row = y * stride;
        const float *restrict rb = t->red[0] + row, *restrict nb = t->nir[0] + row;
        const float *restrict ra = t->red[1] + row, *restrict na = t->nir[1] + row;
        const uint8_t *ob = t->observed[0] ? t->observed[0] + row : NULL;
        const uint8_t *oa = t->observed[1] ? t->observed[1] + row : NULL;
        float *restrict vb = t->ndvi[0] + row, *restrict va = t->ndvi[1] + row;
        uint8_t *restrict cls = t->cls + row;

        for (ptrdiff_t x = 0; x < w; x++) {
            const double b = !ob || ob[x] ? ndvi_dn(rb[x], nb[x], &d0) : NAN;
            const double a = !oa || oa[x] ? ndvi_dn(ra[x], na[x], &d1) : NAN;
            vb[x] = (float)b;
            va[x] = (float)a;

            uint8_t c;
            if (isnan(b) || isnan(a))
                c = CNP_CLASS_UNOBSERVED;
            else if (!(b >= forest_ndvi))
                c = CNP_CLASS_OTHER;
            else if (a - b <= loss_dndvi)
                c = CNP_CLASS_LOSS;
            else
                c = CNP_CLASS_FOREST;
            cls[x] = c;

            n_unobs  += c == CNP_CLASS_UNOBSERVED;
            n_other  += c == CNP_CLASS_OTHER;
            n_forest += c == CNP_CLASS_FOREST;
            n_loss   += c == CNP_CLASS_LOSS;
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
