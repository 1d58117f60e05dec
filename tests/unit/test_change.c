/* tests/unit/test_change.c - NDVI and change classification kernel. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_change.h"
#include "cnp_test.h"

/* A power-of-two scale keeps reflectances exact, so boundary tests are exact. */
static cnp_date_params plain(void)
{
    cnp_date_params d = { 1.0 / 1024, 0.0, 0, 0, 0.0, 0.0, INFINITY };
    return d;
}

static void test_ndvi_basic(void)
{
    cnp_date_params d = plain();
    CHECK_NEAR(cnp_ndvi_dn(100, 300, &d), 0.5, 1e-12);
    CHECK_NEAR(cnp_ndvi_dn(300, 100, &d), -0.5, 1e-12);
    CHECK_NEAR(cnp_ndvi_dn(0, 500, &d), 1.0, 1e-12);
    CHECK(cnp_ndvi_dn(200, 200, &d) == 0.0);
}

static void test_ndvi_zero_sum(void)
{
    cnp_date_params d = plain();
    CHECK(isnan(cnp_ndvi_dn(0, 0, &d)));
    /* With an offset, DN 0 is negative reflectance: not evaluated. */
    d.offset = -0.2;
    d.scale = 2.75e-5;
    CHECK(isnan(cnp_ndvi_dn(0, 0, &d)));
}

static void test_ndvi_nodata(void)
{
    cnp_date_params d = plain();
    d.has_nodata_red = 1;
    d.nodata_red = 0;
    d.has_nodata_nir = 1;
    d.nodata_nir = -9999;
    CHECK(isnan(cnp_ndvi_dn(0, 500, &d)));
    CHECK(isnan(cnp_ndvi_dn(100, -9999, &d)));
    CHECK(!isnan(cnp_ndvi_dn(100, 500, &d)));
    CHECK(isnan(cnp_ndvi_dn(NAN, 500, &d)));
    CHECK(isnan(cnp_ndvi_dn(100, NAN, &d)));
}

static void test_ndvi_saturation(void)
{
    cnp_date_params d = plain();
    d.saturated_dn = 65535;
    CHECK(isnan(cnp_ndvi_dn(65535, 100, &d)));
    CHECK(isnan(cnp_ndvi_dn(100, 65535, &d)));
    CHECK(!isnan(cnp_ndvi_dn(65534, 100, &d)));
}

static void test_ndvi_negative_reflectance(void)
{
    /* Landsat C2: reflectance = DN * 2.75e-5 - 0.2; DN 7000 -> -0.0075. */
    cnp_date_params d = { 2.75e-5, -0.2, 0, 0, 0, 0, INFINITY };
    CHECK(isnan(cnp_ndvi_dn(7000, 20000, &d)));   /* red < 0 */
    CHECK(isnan(cnp_ndvi_dn(20000, 7000, &d)));   /* nir < 0 */
    const double red = 8000 * 2.75e-5 - 0.2, nir = 20000 * 2.75e-5 - 0.2;
    CHECK_NEAR(cnp_ndvi_dn(8000, 20000, &d), (nir - red) / (nir + red), 1e-12);
}

/* One-pixel classification helper. */
static uint8_t classify1(double rb, double nb, double ra, double na, double forest, double drop,
                         float *ndvi_b, float *ndvi_a)
{
    float red[2] = { (float)rb, (float)ra }, nir[2] = { (float)nb, (float)na };
    float o0, o1;
    uint8_t cls = 255;
    cnp_change_params p = { { plain(), plain() }, forest, drop };
    cnp_change_tile t = { 1, 1, 1, { &red[0], &red[1] }, { &nir[0], &nir[1] }, { NULL, NULL },
                          { &o0, &o1 }, &cls, { NULL, NULL }, { NULL, NULL } };
    CHECK(cnp_change_classify(&p, &t, NULL) == CNP_OK);
    if (ndvi_b) *ndvi_b = o0;
    if (ndvi_a) *ndvi_a = o1;
    return cls;
}

static void test_thresholds_exact_boundaries(void)
{
    /* NDVI before = (300-100)/(400) = 0.5 exactly; forest threshold 0.5 -> forest. */
    CHECK(classify1(100, 300, 100, 300, 0.5, 0.25, NULL, NULL) == CNP_CLASS_FOREST);
    /* Just above the threshold -> not forest. */
    CHECK(classify1(100, 300, 100, 300, nextafter(0.5, 1), 0.25, NULL, NULL) == CNP_CLASS_OTHER);
    /* NDVI before 0.75 (100, 700), after 0.5 (100, 300): dNDVI = -0.25 exactly -> loss at drop 0.25. */
    CHECK(classify1(100, 700, 100, 300, 0.65, 0.25, NULL, NULL) == CNP_CLASS_LOSS);
    /* ... but not at a drop just above 0.25. */
    CHECK(classify1(100, 700, 100, 300, 0.65, nextafter(0.25, 1), NULL, NULL) == CNP_CLASS_FOREST);
    /* A big drop where it was not forest is not loss. */
    CHECK(classify1(300, 500, 500, 300, 0.65, 0.25, NULL, NULL) == CNP_CLASS_OTHER);
}

static void test_unobserved(void)
{
    float nb, na;
    /* Zero-sum after: unobserved, NDVI after NaN, before finite. */
    CHECK(classify1(100, 700, 0, 0, 0.65, 0.25, &nb, &na) == CNP_CLASS_UNOBSERVED);
    CHECK(!isnan(nb) && isnan(na));

    float red[2] = { 100, 100 }, nir[2] = { 700, 100 }, o0, o1;
    uint8_t obs_b = 1, obs_a = 0, cls;
    cnp_change_params p = { { plain(), plain() }, 0.65, 0.25 };
    cnp_change_tile t = { 1, 1, 1, { &red[0], &red[1] }, { &nir[0], &nir[1] },
                          { &obs_b, &obs_a }, { &o0, &o1 }, &cls, { NULL, NULL }, { NULL, NULL } };
    cnp_change_counts c = { 0 };
    CHECK(cnp_change_classify(&p, &t, &c) == CNP_OK);
    CHECK(cls == CNP_CLASS_UNOBSERVED && c.unobserved == 1 && c.loss == 0);
}

static void test_tile_stride_and_counts(void)
{
    /* 3x2 tile inside rows of stride 5; padding must stay untouched. */
    enum { W = 3, H = 2, S = 5 };
    float rb[S * H], nb[S * H], ra[S * H], na[S * H], ob[S * H], oa[S * H];
    uint8_t cls[S * H];
    for (int i = 0; i < S * H; i++) {
        rb[i] = 100; nb[i] = 900; ra[i] = 100; na[i] = 900;
        ob[i] = oa[i] = -7.0f; cls[i] = 99;
    }
    ra[1] = 800; na[1] = 200;          /* loss at (1,0) */
    ra[S + 2] = 0; na[S + 2] = 0;      /* unobserved at (2,1) */
    rb[S] = 500; nb[S] = 600;          /* not forest at (0,1) */
    cnp_change_params p = { { plain(), plain() }, 0.65, 0.25 };
    cnp_change_tile t = { W, H, S, { rb, ra }, { nb, na }, { NULL, NULL }, { ob, oa }, cls, { NULL, NULL }, { NULL, NULL } };
    cnp_change_counts c = { 0 };
    CHECK(cnp_change_classify(&p, &t, &c) == CNP_OK);
    CHECK(cls[1] == CNP_CLASS_LOSS);
    CHECK(cls[S + 2] == CNP_CLASS_UNOBSERVED);
    CHECK(cls[S] == CNP_CLASS_OTHER);
    CHECK(cls[0] == CNP_CLASS_FOREST);
    CHECK(c.loss == 1 && c.unobserved == 1 && c.other == 1 && c.forest == 3);
    CHECK(cls[3] == 99 && cls[4] == 99 && ob[4] == -7.0f);   /* padding untouched */
}

static void test_bad_args(void)
{
    float v = 1, o;
    uint8_t cls;
    cnp_change_params p = { { plain(), plain() }, 0.65, 0.25 };
    cnp_change_tile t = { 1, 1, 1, { &v, &v }, { &v, &v }, { NULL, NULL }, { &o, &o }, &cls, { NULL, NULL }, { NULL, NULL } };
    CHECK(cnp_change_classify(NULL, &t, NULL) == CNP_E_ARG);
    CHECK(cnp_change_classify(&p, NULL, NULL) == CNP_E_ARG);
    t.stride = 0;
    CHECK(cnp_change_classify(&p, &t, NULL) == CNP_E_ARG);
    t.stride = 1;
    p.ndvi_drop = 0;
    CHECK(cnp_change_classify(&p, &t, NULL) == CNP_E_ARG);
    p.ndvi_drop = 0.25;
    t.red[1] = NULL;
    CHECK(cnp_change_classify(&p, &t, NULL) == CNP_E_ARG);
}

static void test_large_tile_thread_independent(void)
{
    /* Counts and classes are the same however OpenMP splits the rows; the
     * runner executes this binary with 1 and 4 threads. Here: a reference
     * computed pixel by pixel with cnp_ndvi_dn. */
    enum { W = 257, H = 131 };
    const size_t n = (size_t)W * H;
    float *buf = malloc(6 * n * sizeof(float));
    uint8_t *cls = malloc(n);
    CHECK(buf && cls);
    if (!buf || !cls) { free(buf); free(cls); return; }
    float *rb = buf, *nb = buf + n, *ra = buf + 2 * n, *na = buf + 3 * n;
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u; rb[i] = (float)(s >> 20);
        s = s * 1664525u + 1013904223u; nb[i] = (float)(s >> 19);
        s = s * 1664525u + 1013904223u; ra[i] = (float)(s >> 20);
        s = s * 1664525u + 1013904223u; na[i] = (float)(s >> 19);
    }
    cnp_change_params p = { { plain(), plain() }, 0.3, 0.2 };
    cnp_change_tile t = { W, H, W, { rb, ra }, { nb, na }, { NULL, NULL },
                          { buf + 4 * n, buf + 5 * n }, cls, { NULL, NULL }, { NULL, NULL } };
    cnp_change_counts c = { 0 };
    CHECK(cnp_change_classify(&p, &t, &c) == CNP_OK);
    int64_t loss = 0, mism = 0;
    for (size_t i = 0; i < n; i++) {
        const double b = cnp_ndvi_dn(rb[i], nb[i], &p.date[0]);
        const double a = cnp_ndvi_dn(ra[i], na[i], &p.date[1]);
        uint8_t want = isnan(a) || isnan(b) ? CNP_CLASS_UNOBSERVED
                     : !(b >= 0.3) ? CNP_CLASS_OTHER
                     : a - b <= -0.2 ? CNP_CLASS_LOSS : CNP_CLASS_FOREST;
        mism += want != cls[i];
        loss += want == CNP_CLASS_LOSS;
    }
    CHECK(mism == 0);
    CHECK(loss == c.loss && loss > 0);
    CHECK(c.unobserved + c.other + c.forest + c.loss == (int64_t)n);
    free(buf);
    free(cls);
}

/* The UInt16 path gives bit for bit what the float path and cnp_ndvi_dn()
 * give, with Landsat-like scale/offset, nodata, saturation, masks, a width
 * that is not a multiple of the kernel's chunk and a row stride. */
static void u16_matches_float(cnp_date_params d)
{
    enum { W = 613, H = 7, S = 640 };
    const size_t n = (size_t)S * H;
    uint16_t *r16 = calloc(4 * n, sizeof *r16);
    float *f = calloc(8 * n, sizeof *f);
    uint8_t *obs = calloc(2 * n, 1), *c16 = calloc(n, 1), *cf = calloc(n, 1);
    CHECK(r16 && f && obs && c16 && cf);
    if (!r16 || !f || !obs || !c16 || !cf) {
        free(r16); free(f); free(obs); free(c16); free(cf);
        return;
    }
    uint32_t s = 777;
    for (size_t i = 0; i < 4 * n; i++) {
        s = s * 1664525u + 1013904223u;
        uint16_t v = (uint16_t)(7000 + (s >> 18) % 20000);
        if ((s >> 8) % 97 == 0) v = 0;            /* nodata */
        if ((s >> 8) % 89 == 1) v = 65535;        /* saturated */
        r16[i] = v;
        f[i] = v;
    }
    for (size_t i = 0; i < 2 * n; i++)
        obs[i] = (uint8_t)((i * 2654435761u >> 7) % 23 != 0 ? 1 + i % 200 : 0);

    cnp_change_params p = { { d, d }, 0.5, 0.2 };
    p.date[1].has_nodata_nir = 0;
    const uint16_t *rb = r16, *nb = r16 + n, *ra = r16 + 2 * n, *na = r16 + 3 * n;
    cnp_change_tile t16 = { W, H, S, { NULL, NULL }, { NULL, NULL }, { obs, obs + n },
                            { f + 4 * n, f + 5 * n }, c16, { rb, ra }, { nb, na } };
    cnp_change_tile tf = { W, H, S, { f, f + 2 * n }, { f + n, f + 3 * n }, { obs, obs + n },
                           { f + 6 * n, f + 7 * n }, cf, { NULL, NULL }, { NULL, NULL } };
    cnp_change_counts c1 = { 0 }, c2 = { 0 };
    CHECK(cnp_change_classify(&p, &t16, &c1) == CNP_OK);
    CHECK(cnp_change_classify(&p, &tf, &c2) == CNP_OK);
    int64_t diff = 0, loss = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const size_t i = (size_t)y * S + (size_t)x;
            const double b = obs[i] ? cnp_ndvi_dn(rb[i], nb[i], &p.date[0]) : NAN;
            const double a = obs[n + i] ? cnp_ndvi_dn(ra[i], na[i], &p.date[1]) : NAN;
            const float fb = (float)b, fa = (float)a;
            diff += c16[i] != cf[i];
            diff += memcmp(&f[4 * n + i], &f[6 * n + i], sizeof(float)) != 0;
            diff += memcmp(&f[5 * n + i], &f[7 * n + i], sizeof(float)) != 0;
            diff += !(isnan(b) ? isnan(f[4 * n + i]) : f[4 * n + i] == fb);
            diff += !(isnan(a) ? isnan(f[5 * n + i]) : f[5 * n + i] == fa);
            loss += c16[i] == CNP_CLASS_LOSS;
        }
    CHECK(diff == 0);
    CHECK(loss > 0 && loss == c1.loss);
    CHECK(c1.unobserved == c2.unobserved && c1.other == c2.other && c1.forest == c2.forest &&
          c1.loss == c2.loss && c1.unobserved > 0);
    CHECK(c1.unobserved + c1.other + c1.forest + c1.loss == (int64_t)W * H);
    if (diff || c1.loss != c2.loss)
        printf("  (differs for nodata %g/%g, saturated %g)\n", d.nodata_red, d.nodata_nir,
               d.saturated_dn);

    /* One date alone (a baseline scene): the same bits as in the pair. */
    float *one = malloc(n * sizeof *one);
    cnp_change_tile t1 = t16;
    t1.ndvi[1] = one;
    t1.cls = NULL;
    CHECK(cnp_change_ndvi(&p.date[1], &t1, 1) == CNP_OK);
    int64_t diff1 = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const size_t i = (size_t)y * S + (size_t)x;
            diff1 += memcmp(&one[i], &f[5 * n + i], sizeof(float)) != 0;
        }
    CHECK(diff1 == 0);
    t1.nir16[1] = NULL;
    CHECK(cnp_change_ndvi(&p.date[1], &t1, 1) == CNP_E_ARG);
    CHECK(cnp_change_ndvi(&p.date[1], &t1, 2) == CNP_E_ARG);
    free(one);

    /* A date given neither way, or half of each, is refused. */
    t16.nir16[1] = NULL;
    CHECK(cnp_change_classify(&p, &t16, NULL) == CNP_E_ARG);
    t16.nir[1] = f + 3 * n;
    CHECK(cnp_change_classify(&p, &t16, NULL) == CNP_E_ARG);
    free(r16); free(f); free(obs); free(c16); free(cf);
}

/* UInt16 DNs are checked against integer forms of nodata and saturation:
 * fractional, out-of-range and infinite thresholds included. */
static void test_u16_matches_float(void)
{
    const double sat[] = { 65535.0, 20000.5, 20000.0, INFINITY, 70000.0, 26999.99 };
    const double nodata[] = { 0.0, 7001.5, -3.0, 65535.0, 8000.0, 1e9 };
    for (int k = 0; k < 6; k++) {
        cnp_date_params d = { 2.75e-5, -0.2, 1, 1, nodata[k], nodata[5 - k], sat[k] };
        u16_matches_float(d);
    }
}

CNP_TEST_MAIN("change",
              TEST_CASE(test_ndvi_basic), TEST_CASE(test_ndvi_zero_sum), TEST_CASE(test_ndvi_nodata),
              TEST_CASE(test_ndvi_saturation), TEST_CASE(test_ndvi_negative_reflectance),
              TEST_CASE(test_thresholds_exact_boundaries), TEST_CASE(test_unobserved),
              TEST_CASE(test_tile_stride_and_counts), TEST_CASE(test_bad_args),
              TEST_CASE(test_large_tile_thread_independent), TEST_CASE(test_u16_matches_float))
