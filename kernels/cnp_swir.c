/* kernels/cnp_swir.c - NBR/NDMI and the combined NDVI + SWIR loss rule. */
#include "cnp_swir.h"

#include <math.h>

void cnp_swir_defaults(cnp_swir_rule *r)
{
    if (!r)
        return;
    r->forest_ndvi = 0.65;
    r->ndvi_drop = 0.25;
    r->nbr_drop = 0.15;
    r->ndvi_support = 0.05;
    r->swir2_open = 0.12;
}

double cnp_swir_index(double nir, double swir)
{
    const double sum = nir + swir;

    if (!(nir >= 0.0) || !(swir >= 0.0) || !(sum > 0.0))    /* NaN fails too */
        return NAN;
    return (nir - swir) / sum;
}

uint8_t cnp_swir_signals(const cnp_swir_rule *r, double ndvi_before, double dndvi, double dnbr,
                         double swir2_after)
{
    uint8_t s = 0;

    if (!(ndvi_before >= r->forest_ndvi) || dndvi != dndvi)
        return 0;
    if (dndvi <= -r->ndvi_drop)
        s |= CNP_SIG_NDVI | CNP_SIG_LOSS;
    if (dnbr <= -r->nbr_drop) {                  /* false for NaN */
        s |= CNP_SIG_NBR;
        if (dndvi <= -r->ndvi_support && swir2_after >= r->swir2_open)
            s |= CNP_SIG_LOSS;
    }
    return s;
}

static int rule_ok(const cnp_swir_rule *r)
{
    return r && isfinite(r->forest_ndvi) && isfinite(r->swir2_open) && r->ndvi_drop > 0.0 &&
           r->nbr_drop > 0.0 && r->ndvi_support >= 0.0 && isfinite(r->ndvi_drop) &&
           isfinite(r->nbr_drop) && isfinite(r->ndvi_support);
}

cnp_status cnp_swir_classify(const cnp_swir_rule *r, const cnp_swir_pixels *p, size_t n,
                             uint8_t *signals)
{
    if (!rule_ok(r) || !p)
        return CNP_E_ARG;
    const int nswir = !!p->nir[0] + !!p->nir[1] + !!p->swir2[0] + !!p->swir2[1];
    if (nswir != 0 && nswir != 4)
        return CNP_E_ARG;
    if (n == 0)
        return CNP_OK;
    if (!signals || !p->ndvi_before || !p->dndvi)
        return CNP_E_ARG;

    const cnp_swir_rule rr = *r;
    const cnp_swir_pixels pp = *p;
    const int swir = nswir == 4;

    #pragma omp parallel for schedule(static) default(none) if (n > 65536) \
        shared(rr, pp, signals, n, swir)
    for (size_t i = 0; i < n; i++) {
        double dnbr = NAN, sw_after = NAN;
        if (swir) {
            dnbr = cnp_swir_index(pp.nir[1][i], pp.swir2[1][i]) -
                   cnp_swir_index(pp.nir[0][i], pp.swir2[0][i]);
            sw_after = pp.swir2[1][i];
        }
        if (pp.dnbr)
            pp.dnbr[i] = (float)dnbr;
        signals[i] = cnp_swir_signals(&rr, pp.ndvi_before[i], pp.dndvi[i], dnbr, sw_after);
    }
    return CNP_OK;
}
