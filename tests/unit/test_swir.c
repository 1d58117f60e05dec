/* tests/unit/test_swir.c - NBR change and the combined loss rule
 * (kernels/cnp_swir).
 *
 * Hand-made pixel pairs (surface reflectance: red, NIR, SWIR2 before and
 * after) for the cases the rule must tell apart: a bare clearing, forest
 * turned into green pasture, strong degradation, a change of moisture only,
 * pasture, thin cloud, haze, and missing bands.
 */
#include <stdint.h>

#include "cnp_swir.h"
#include "cnp_test.h"

enum { NPX = 9 };
/* red, nir, swir2 before; red, nir, swir2 after; expected signals */
static const struct { float b[3], a[3]; uint8_t want; } PX[NPX] = {
    { { 0.033f, 0.30f, 0.060f }, { 0.100f, 0.140f, 0.200f }, CNP_SIG_NDVI | CNP_SIG_NBR | CNP_SIG_LOSS },
    { { 0.033f, 0.30f, 0.060f }, { 0.060f, 0.300f, 0.140f }, CNP_SIG_NBR | CNP_SIG_LOSS },  /* green pasture */
    { { 0.045f, 0.269f, 0.070f }, { 0.079f, 0.221f, 0.101f }, CNP_SIG_NBR },  /* degradation: canopy closed */
    { { 0.033f, 0.30f, 0.060f }, { 0.035f, 0.300f, 0.130f }, CNP_SIG_NBR },  /* moisture only */
    { { 0.090f, 0.26f, 0.150f }, { 0.120f, 0.200f, 0.250f }, 0 },            /* pasture before */
    { { 0.033f, 0.30f, 0.060f }, { 0.115f, 0.316f, 0.096f }, CNP_SIG_NDVI | CNP_SIG_LOSS },  /* thin cloud */
    { { 0.033f, 0.30f, 0.060f }, { 0.088f, 0.297f, 0.062f }, CNP_SIG_NDVI | CNP_SIG_LOSS },  /* haze */
    { { 0.033f, 0.30f, 0.060f }, { 0.060f, 0.300f, NAN }, 0 },               /* green pasture, no SWIR */
    { { NAN, 0.30f, 0.060f }, { 0.100f, 0.140f, 0.200f }, 0 },               /* invalid before */
};

static double ndvi(float red, float nir)
{
    return ((double)nir - red) / ((double)nir + red);
}

typedef struct arrays {
    float nb[NPX], nir[2][NPX], swir[2][NPX], dndvi[NPX], dnbr[NPX];
} arrays;

static void fill(arrays *a, cnp_swir_pixels *p, int with_swir)
{
    for (int i = 0; i < NPX; i++) {
        a->nb[i] = (float)ndvi(PX[i].b[0], PX[i].b[1]);
        a->dndvi[i] = (float)(ndvi(PX[i].a[0], PX[i].a[1]) - a->nb[i]);
        for (int d = 0; d < 2; d++) {
            a->nir[d][i] = d ? PX[i].a[1] : PX[i].b[1];
            a->swir[d][i] = d ? PX[i].a[2] : PX[i].b[2];
        }
    }
    p->ndvi_before = a->nb;
    p->dndvi = a->dndvi;
    for (int d = 0; d < 2; d++) {
        p->nir[d] = with_swir ? a->nir[d] : NULL;
        p->swir2[d] = with_swir ? a->swir[d] : NULL;
    }
    p->dnbr = a->dnbr;
}

static void test_rule_cases(void)
{
    cnp_swir_rule r;
    arrays a;
    cnp_swir_pixels p;
    uint8_t sig[NPX];

    cnp_swir_defaults(&r);
    fill(&a, &p, 1);
    CHECK(cnp_swir_classify(&r, &p, NPX, sig) == CNP_OK);
    for (int i = 0; i < NPX; i++) {
        if (sig[i] != PX[i].want)
            fprintf(stderr, "pixel %d: signals %d, want %d\n", i, sig[i], PX[i].want);
        CHECK(sig[i] == PX[i].want);
    }
    CHECK_NEAR(a.dnbr[1], cnp_swir_index(0.30, 0.14) - cnp_swir_index(0.30, 0.06), 1e-6);
    CHECK(isnan(a.dnbr[7]));

    /* without SWIR: the NDVI branch only */
    fill(&a, &p, 0);
    CHECK(cnp_swir_classify(&r, &p, NPX, sig) == CNP_OK);
    for (int i = 0; i < NPX; i++)
        CHECK(sig[i] == (PX[i].want & CNP_SIG_NDVI ? (CNP_SIG_NDVI | CNP_SIG_LOSS) : 0));
    CHECK(isnan(a.dnbr[0]));
}

/* The thresholds at their edges, one pixel at a time. */
static void test_boundaries(void)
{
    cnp_swir_rule r;
    cnp_swir_defaults(&r);
    CHECK(cnp_swir_signals(&r, 0.65, -0.25, NAN, NAN) == (CNP_SIG_NDVI | CNP_SIG_LOSS));
    CHECK(cnp_swir_signals(&r, 0.6499, -0.5, -0.5, 0.3) == 0);
    CHECK(cnp_swir_signals(&r, 0.8, -0.05, -0.15, 0.12) == (CNP_SIG_NBR | CNP_SIG_LOSS));
    CHECK(cnp_swir_signals(&r, 0.8, -0.049, -0.15, 0.12) == CNP_SIG_NBR);
    CHECK(cnp_swir_signals(&r, 0.8, -0.05, -0.149, 0.12) == 0);
    CHECK(cnp_swir_signals(&r, 0.8, -0.05, -0.15, 0.1199) == CNP_SIG_NBR);
    CHECK(cnp_swir_signals(&r, 0.8, NAN, -0.5, 0.3) == 0);
    CHECK(isnan(cnp_swir_index(0.3, -0.01)) && isnan(cnp_swir_index(0.0, 0.0)));
    CHECK_NEAR(cnp_swir_index(0.3, 0.1), 0.5, 1e-12);
}

static void test_arguments(void)
{
    cnp_swir_rule r;
    arrays a;
    cnp_swir_pixels p;
    uint8_t sig[NPX];

    cnp_swir_defaults(&r);
    fill(&a, &p, 1);
    p.swir2[1] = NULL;                       /* three of four SWIR-side bands */
    CHECK(cnp_swir_classify(&r, &p, NPX, sig) == CNP_E_ARG);
    fill(&a, &p, 1);
    r.nbr_drop = 0.0;
    CHECK(cnp_swir_classify(&r, &p, NPX, sig) == CNP_E_ARG);
    cnp_swir_defaults(&r);
    CHECK(cnp_swir_classify(&r, &p, NPX, NULL) == CNP_E_ARG);
    CHECK(cnp_swir_classify(&r, &p, 0, NULL) == CNP_OK);
}

CNP_TEST_MAIN("swir",
              TEST_CASE(test_rule_cases),
              TEST_CASE(test_boundaries),
              TEST_CASE(test_arguments))
