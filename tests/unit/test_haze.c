/* tests/unit/test_haze.c - haze flags, clear-line fit and cloud fringe
 * (kernels/cnp_haze).
 *
 * Hand-made spectra (surface reflectance) of clear forest, pasture, soil,
 * whitish bright soil and water, and of forest under haze, smoke and thin
 * cloud; a fit through a line with hazy pixels below it; fringes grown on
 * small hand-drawn windows and, strip by strip with a halo, equal to the
 * whole window.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_haze.h"
#include "cnp_test.h"

enum { NPX = 9 };
/* blue, red, nir, swir2 */
static const float SPECTRA[NPX][4] = {
    { 0.025f, 0.033f, 0.30f, 0.060f },   /* 0 clear forest                   */
    { 0.057f, 0.090f, 0.26f, 0.150f },   /* 1 pasture                        */
    { 0.050f, 0.100f, 0.14f, 0.200f },   /* 2 bare soil                      */
    { 0.190f, 0.250f, 0.31f, 0.330f },   /* 3 whitish bright soil: HOT > 0   */
    { 0.060f, 0.035f, 0.015f, 0.007f },  /* 4 water: above the clear line    */
    { 0.119f, 0.088f, 0.297f, 0.062f },  /* 5 forest under dense haze        */
    { 0.128f, 0.095f, 0.290f, 0.060f },  /* 6 forest under smoke             */
    { 0.119f, 0.115f, 0.316f, 0.096f },  /* 7 forest under thin cloud        */
    { 0.064f, 0.068f, 0.310f, 0.075f },  /* 8 forest under a light fringe    */
};

static void bands_of(float v[4][NPX], cnp_haze_bands *b, int with_swir)
{
    for (int i = 0; i < NPX; i++)
        for (int k = 0; k < 4; k++)
            v[k][i] = SPECTRA[i][k];
    b->blue = v[0];
    b->red = v[1];
    b->nir = v[2];
    b->swir2 = with_swir ? v[3] : NULL;
}

static void test_flags(void)
{
    cnp_haze_params p;
    cnp_haze_line l;
    float v[4][NPX];
    cnp_haze_bands b;
    uint8_t f[NPX];
    const uint8_t H = CNP_HAZE_HAZY | CNP_HAZE_LOOKS, L = CNP_HAZE_LOOKS;

    cnp_haze_defaults(&p, &l);
    bands_of(v, &b, 1);
    CHECK(cnp_haze_classify(&p, &l, &b, NPX, f) == CNP_OK);
    CHECK(f[0] == 0 && f[1] == 0 && f[2] == 0);   /* clear land                */
    CHECK(f[3] == 0);                             /* bright soil: SWIR says no */
    CHECK(f[4] == 0);                             /* water: NIR says no        */
    CHECK(f[5] == H && f[6] == H && f[7] == H);
    CHECK(f[8] == L);                             /* only a fringe may grow    */
    CHECK(cnp_haze_hot(&l, SPECTRA[3][0], SPECTRA[3][1]) > p.hot_hazy);   /* the trap */

    /* Without SWIR, HOT alone takes the bright soil for haze (documented). */
    bands_of(v, &b, 0);
    CHECK(cnp_haze_classify(&p, &l, &b, NPX, f) == CNP_OK);
    CHECK(f[3] == H && f[5] == H && f[0] == 0 && f[4] == 0);

    /* NaN anywhere: no flag */
    bands_of(v, &b, 1);
    v[3][5] = NAN;
    v[0][6] = NAN;
    CHECK(cnp_haze_classify(&p, &l, &b, NPX, f) == CNP_OK);
    CHECK(f[5] == 0 && f[6] == 0 && f[7] == H);

    /* arguments */
    p.hot_fringe = 0.03;
    CHECK(cnp_haze_classify(&p, &l, &b, NPX, f) == CNP_E_ARG);
    cnp_haze_defaults(&p, NULL);
    b.nir = NULL;
    CHECK(cnp_haze_classify(&p, &l, &b, NPX, f) == CNP_E_ARG);
    CHECK(cnp_haze_classify(&p, &l, &b, 0, NULL) == CNP_OK);
}

/* Pixels along red = 1.5 blue + 0.004, a third of them hazy (red lowered):
 * the fit keeps to the clear line. */
static void test_fit(void)
{
    enum { N = 30000 };
    static float blue[N], red[N], nir[N];
    static cnp_haze_hist h, h2;
    cnp_haze_bands b = { blue, red, nir, NULL };
    cnp_haze_line l = { 0.0, 0.0 };
    cnp_haze_params p;

    cnp_haze_defaults(&p, NULL);

    memset(&h, 0, sizeof h);
    for (int i = 0; i < N; i++) {
        const double bl = 0.02 + 0.13 * (double)(i % 1000) / 1000.0;
        const double jitter = 0.002 * (double)((i * 7919) % 11 - 5) / 5.0;
        blue[i] = (float)bl;
        red[i] = (float)(1.5 * bl + 0.004 + jitter - (i % 3 == 0 ? 0.03 : 0.0));
        nir[i] = i % 97 == 0 ? 0.01f : 0.25f;     /* some water-dark pixels, ignored */
    }
    CHECK(cnp_haze_fit(&h, 10, &l) == CNP_E_DATA && l.slope == 0.0);   /* empty */
    CHECK(cnp_haze_hist_add(&h, &p, &b, NULL, N / 2) == CNP_OK);
    memset(&h2, 0, sizeof h2);
    b.blue += N / 2;
    b.red += N / 2;
    b.nir += N / 2;
    CHECK(cnp_haze_hist_add(&h2, &p, &b, NULL, N - N / 2) == CNP_OK);
    CHECK(cnp_haze_hist_merge(&h, &h2) == CNP_OK);
    CHECK(cnp_haze_fit(&h, 10, &l) == CNP_OK);
    CHECK_NEAR(l.slope, 1.5, 0.1);
    CHECK_NEAR(l.intercept, 0.004, 0.006);

    /* a clear mask excludes pixels */
    static uint8_t clear[N];
    static cnp_haze_hist h3;
    memset(&h3, 0, sizeof h3);
    b.blue = blue;
    b.red = red;
    b.nir = nir;
    CHECK(cnp_haze_hist_add(&h3, &p, &b, clear, N) == CNP_OK);
    CHECK(cnp_haze_fit(&h3, 1, &l) == CNP_E_DATA);
    CHECK(cnp_haze_fit(&h3, 0, &l) == CNP_E_ARG);
}

/* A hazy block (blue 0.08..0.12) covering many bins alone bends an
 * unguarded fit; with SWIR2 it is kept out and the line stays. */
static void test_fit_swir_guard(void)
{
    enum { N = 40000 };
    static float blue[N], red[N], nir[N], swir[N];
    static cnp_haze_hist h;
    cnp_haze_bands b = { blue, red, nir, swir };
    cnp_haze_line l = { 0.0, 0.0 };
    cnp_haze_params p;

    cnp_haze_defaults(&p, NULL);
    for (int i = 0; i < N; i++) {
        const int hazy = i % 5 < 2;
        const double bl = hazy ? 0.08 + 0.04 * (double)(i % 997) / 997.0
                               : 0.02 + 0.05 * (double)(i % 1009) / 1009.0;
        blue[i] = (float)bl;
        red[i] = (float)(hazy ? 0.7 * bl + 0.02 : 1.5 * bl + 0.004);
        nir[i] = 0.28f;
        swir[i] = hazy ? 0.06f : (float)(1.8 * red[i]);
    }
    b.swir2 = NULL;
    memset(&h, 0, sizeof h);
    CHECK(cnp_haze_hist_add(&h, &p, &b, NULL, N) == CNP_OK);
    CHECK(cnp_haze_fit(&h, 20, &l) == CNP_OK && l.slope < 1.2);    /* bent */
    b.swir2 = swir;
    memset(&h, 0, sizeof h);
    CHECK(cnp_haze_hist_add(&h, &p, &b, NULL, N) == CNP_OK);
    CHECK(cnp_haze_fit(&h, 20, &l) == CNP_OK);
    CHECK_NEAR(l.slope, 1.5, 0.1);
}

/* Window from strings: 'C' cloud (SPREADS), '.' clear, 'h' looks hazy,
 * 's' soil (clear, not hazy). */
static void window_from(const char *const *rows, int h, uint8_t *codes, uint8_t *looks, int *w)
{
    *w = (int)strlen(rows[0]);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < *w; x++) {
            const char c = rows[y][x];
            codes[y * *w + x] = c == 'C' ? CNP_MASK_SPREADS : CNP_MASK_CLEAR;
            looks[y * *w + x] = c == 'h' ? CNP_HAZE_LOOKS : 0;
        }
}

static void test_fringe_follows_haze(void)
{
    static const char *const rows[] = {
        "..........hhhhhhhh..",
        "ss......hhhhhhhhhh..",
        "ss.....CCChhhhhhhhh.",
        "ss....CCCCChhhhhhhh.",
        "ss.....CCChhhhhhhh..",
        "ss........hhhhhh....",
        "....................",
    };
    enum { H = 7 };
    uint8_t codes[H * 20], looks[H * 20], obs[H * 20];
    uint16_t s16[H * 20];
    uint32_t q[H * 20];
    int w;

    window_from(rows, H, codes, looks, &w);
    cnp_mask_window win = { codes, w, H, w, 0, 0, w, H };
    memset(obs, 1, sizeof obs);
    CHECK(cnp_haze_fringe(&win, looks, 1, 5, s16, q, obs, w) == CNP_OK);
    /* clouds and the 1 px ring are out */
    CHECK(obs[3 * w + 6] == 0 && obs[3 * w + 5] == 0 && obs[2 * w + 6] == 0);
    CHECK(obs[3 * w + 4] == 1);                    /* 2 px left, not hazy      */
    /* grown through haze to 5 steps right of the cloud (col 10 + 5 = 15) */
    CHECK(obs[3 * w + 15] == 0 && obs[3 * w + 16] == 1 && obs[3 * w + 18] == 1);
    CHECK(obs[0 * w + 12] == 0);                   /* around the corner        */
    CHECK(obs[1 * w + 0] == 1 && obs[5 * w + 1] == 1);   /* the soil stays     */
    CHECK(obs[6 * w + 10] == 1);

    /* max_px 0: only the fixed square; min_px 0: only the codes */
    memset(obs, 1, sizeof obs);
    CHECK(cnp_haze_fringe(&win, NULL, 2, 0, s16, NULL, obs, w) == CNP_OK);
    CHECK(obs[3 * w + 13] == 1 && obs[3 * w + 12] == 0 && obs[3 * w + 4] == 0 && obs[3 * w + 3] == 1);
    memset(obs, 1, sizeof obs);
    CHECK(cnp_haze_fringe(&win, looks, 0, 2, s16, q, obs, w) == CNP_OK);
    CHECK(obs[3 * w + 5] == 1 && obs[3 * w + 12] == 0 && obs[3 * w + 13] == 1);

    /* arguments */
    CHECK(cnp_haze_fringe(&win, looks, 0, 256, s16, q, obs, w) == CNP_E_ARG);
    CHECK(cnp_haze_fringe(&win, NULL, 0, 3, s16, q, obs, w) == CNP_E_ARG);
    CHECK(cnp_haze_fringe(&win, looks, -1, 3, s16, q, obs, w) == CNP_E_ARG);
    win.core_w = w + 1;
    CHECK(cnp_haze_fringe(&win, looks, 1, 3, s16, q, obs, w) == CNP_E_ARG);
}

/* Random clouds and haze on 150 x 110: strips of 16 rows with a halo of
 * max(min_px, max_px) give exactly the flags of the whole window. */
static void test_fringe_strips_exact(void)
{
    enum { W = 150, H = 110, MINPX = 2, MAXPX = 7 };
    static uint8_t codes[W * H], looks[W * H], whole[W * H], strips[W * H];
    static uint16_t s16[W * H];
    static uint32_t q[W * H];
    uint32_t r = 12345;

    for (int i = 0; i < W * H; i++) {
        r ^= r << 13;
        r ^= r >> 17;
        r ^= r << 5;
        const int x = i % W, y = i / W;
        const int blob = ((x / 9) * 7 + (y / 8) * 3) % 11 == 0;
        codes[i] = blob && (r & 7) ? CNP_MASK_SPREADS : (r % 53 == 0 ? CNP_MASK_UNOBSERVED : 0);
        looks[i] = ((x / 5 + y / 4) % 3 != 0 && (r >> 8) % 5) ? CNP_HAZE_LOOKS : 0;
    }
    cnp_mask_window all = { codes, W, H, W, 0, 0, W, H };
    memset(whole, 1, sizeof whole);
    CHECK(cnp_haze_fringe(&all, looks, MINPX, MAXPX, s16, q, whole, W) == CNP_OK);
    memset(strips, 1, sizeof strips);
    for (int y0 = 0; y0 < H; y0 += 16) {
        const int y1 = y0 + 16 < H ? y0 + 16 : H;
        const int ha = y0 - MAXPX < 0 ? 0 : y0 - MAXPX, hb = y1 + MAXPX > H ? H : y1 + MAXPX;
        cnp_mask_window win = { codes + ha * W, W, hb - ha, W, 0, y0 - ha, W, y1 - y0 };
        CHECK(cnp_haze_fringe(&win, looks + ha * W, MINPX, MAXPX, s16, q, strips + y0 * W, W) ==
              CNP_OK);
    }
    CHECK(memcmp(whole, strips, sizeof whole) == 0);
    int grown = 0, fixed = 0;
    for (int i = 0; i < W * H; i++)
        grown += !whole[i];
    memset(strips, 1, sizeof strips);
    CHECK(cnp_haze_fringe(&all, NULL, MINPX, 0, s16, NULL, strips, W) == CNP_OK);
    for (int i = 0; i < W * H; i++)
        fixed += !strips[i];
    CHECK(grown > fixed + 200);                    /* the haze did carry it */
}

/* Deterministic values in [0, 1). */
static double unit(uint64_t i, uint64_t salt)
{
    uint64_t z = i * 0x9E3779B97F4A7C15ull ^ salt * 0xC2B2AE3D27D4EB4Full;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

static int same(float a, float b) { return a == b || (a != a && b != b); }

enum { NR = 1000 };                  /* not a multiple of the kernels' chunks */

/* The flags and the clear-line counts of the chunked loops against the
 * header's rules one pixel at a time, on pixels spread over every case:
 * NaN bands, NIR below nir_min, outside the histogram, with and without
 * SWIR2 and a clear mask. */
static void test_pixel_rules(void)
{
    static float v[4][NR];
    static uint8_t clear[NR], f[NR];
    for (int i = 0; i < NR; i++) {
        for (int k = 0; k < 4; k++)
            v[k][i] = (float)(0.3 * unit((uint64_t)i, (uint64_t)k) - 0.02);
        if (i % 37 == 5)
            v[i % 4][i] = NAN;
        clear[i] = i % 11 != 0;
    }
    cnp_haze_params p;
    cnp_haze_line l = { 1.9, -0.01 };
    cnp_haze_defaults(&p, NULL);
    p.hot_hazy = 0.005;
    p.hot_fringe = -0.01;            /* both flags often, and neither */
    for (int with_swir = 0; with_swir < 2; with_swir++) {
        const cnp_haze_bands b = { v[0], v[1], v[2], with_swir ? v[3] : NULL };
        CHECK(cnp_haze_classify(&p, &l, &b, NR, f) == CNP_OK);
        int bad = 0, hazy = 0;
        cnp_haze_hist got = { { { 0 } } }, want = { { { 0 } } };
        for (int i = 0; i < NR; i++) {
            const double bl = v[0][i], rd = v[1][i], ni = v[2][i];
            const double sw = with_swir ? (double)v[3][i] : -INFINITY;
            uint8_t e = 0;
            if (bl == bl && rd == rd && ni >= p.nir_min && sw == sw) {
                const double hot = cnp_haze_hot(&l, bl, rd);
                if (hot >= p.hot_fringe && sw < p.swir_fringe * rd)
                    e |= CNP_HAZE_LOOKS;
                if (hot >= p.hot_hazy && sw < p.swir_hazy * rd)
                    e |= CNP_HAZE_HAZY | CNP_HAZE_LOOKS;
            }
            bad += f[i] != e;
            hazy += e == (CNP_HAZE_HAZY | CNP_HAZE_LOOKS);
            const double bb = bl / CNP_HAZE_BIN, rb = rd / CNP_HAZE_BIN;
            if (clear[i] && ni >= p.nir_min && bb >= 0.0 && rb >= 0.0 && bb < CNP_HAZE_NBIN &&
                rb < CNP_HAZE_NBIN && (!with_swir || sw >= p.swir_hazy * rd))
                want.n[(int)bb][(int)rb]++;
        }
        CHECK(bad == 0 && hazy > 10);
        CHECK(cnp_haze_hist_add(&got, &p, &b, clear, NR) == CNP_OK);
        CHECK(memcmp(&got, &want, sizeof got) == 0);
        /* Near UINT32_MAX the checked path counts the same, and refuses
         * an overflow. */
        enum { L = CNP_HAZE_NBIN - 1 };
        CHECK(want.n[L][L] == 0);
        got.n[L][L] = want.n[L][L] = UINT32_MAX - 5;
        CHECK(cnp_haze_hist_add(&got, &p, &b, clear, NR) == CNP_OK);
        int full = -1;
        for (int i = 0; i < CNP_HAZE_NBIN; i++)
            for (int j = 0; j < CNP_HAZE_NBIN; j++) {
                want.n[i][j] *= i != L || j != L ? 2 : 1;
                full = full < 0 && want.n[i][j] && i != L ? i * CNP_HAZE_NBIN + j : full;
            }
        CHECK(memcmp(&got, &want, sizeof got) == 0);
        got.n[full / CNP_HAZE_NBIN][full % CNP_HAZE_NBIN] = UINT32_MAX;
        want = got;
        CHECK(cnp_haze_hist_add(&got, &p, &b, clear, NR) == CNP_E_DATA);
        CHECK(memcmp(&got, &want, sizeof got) == 0);
    }
}

/* The clear line's bins at every bin edge: the floats nearest k x 0.004
 * (k = 0..64) counted as the header's division puts them. */
static void test_bin_edges(void)
{
    enum { SIDE = 300, PER = 2 * SIDE, NE = (CNP_HAZE_NBIN + 1) * PER };
    static float blue[NE], red[NE], nir[NE];
    for (int k = 0; k <= CNP_HAZE_NBIN; k++) {
        float lo = (float)(k * CNP_HAZE_BIN), hi = lo;
        for (int j = 0; j < SIDE; j++) {
            lo = nextafterf(lo, -1.0f);
            blue[k * PER + j] = lo;
            blue[k * PER + SIDE + j] = hi;
            hi = nextafterf(hi, 1.0f);
        }
    }
    cnp_haze_params p;
    cnp_haze_defaults(&p, NULL);
    for (int i = 0; i < NE; i++) {
        red[NE - 1 - i] = blue[i];
        nir[i] = 0.3f;
    }
    cnp_haze_hist got = { { { 0 } } }, want = { { { 0 } } };
    const cnp_haze_bands b = { blue, red, nir, NULL };
    CHECK(cnp_haze_hist_add(&got, &p, &b, NULL, NE) == CNP_OK);
    for (int i = 0; i < NE; i++) {
        const double bb = blue[i] / CNP_HAZE_BIN, rb = red[i] / CNP_HAZE_BIN;
        if (bb >= 0.0 && rb >= 0.0 && bb < CNP_HAZE_NBIN && rb < CNP_HAZE_NBIN)
            want.n[(int)bb][(int)rb]++;
    }
    CHECK(memcmp(&got, &want, sizeof got) == 0);
}

/* cnp_haze_reflect(): the same floats from UInt16 and from float DNs, NaN
 * for an invalid NDVI, a nodata or saturated blue; a NaN blue DN leaves red
 * and NIR. */
static void test_reflect(void)
{
    static uint16_t b16[NR], r16[NR], n16[NR];
    static float bf[NR], rf[NR], nf[NR], ndvi[NR], out[2][3][NR];
    for (int i = 0; i < NR; i++) {
        b16[i] = (uint16_t)(i * 13 % 1200);
        r16[i] = (uint16_t)(i * 7 % 3000);
        n16[i] = (uint16_t)(i * 29 % 9000);
        bf[i] = b16[i];
        rf[i] = r16[i];
        nf[i] = n16[i];
        ndvi[i] = i % 17 == 3 ? NAN : 0.5f;
    }
    /* Whole and fractional nodata and saturation values: the UInt16 path
     * tests them as integers. */
    static const double rule[4][3] = { { 1, 0, 1100 }, { 1, 7.5, 1099.5 }, { 0, 0, INFINITY },
                                       { 1, 13, NAN } };
    cnp_haze_dn d = { .ndvi = ndvi, .scale = 2.75e-5, .offset = -0.2 };
    for (int k = 0; k < 4; k++) {
        d.has_nodata = (int)rule[k][0];
        d.nodata = rule[k][1];
        d.saturated_dn = rule[k][2];
        d.blue = d.red = d.nir = NULL;
        d.blue16 = b16, d.red16 = r16, d.nir16 = n16;
        CHECK(cnp_haze_reflect(&d, NR, out[0][0], out[0][1], out[0][2]) == CNP_OK);
        d.blue16 = d.red16 = d.nir16 = NULL;
        d.blue = bf, d.red = rf, d.nir = nf;
        CHECK(cnp_haze_reflect(&d, NR, out[1][0], out[1][1], out[1][2]) == CNP_OK);
        int bad = 0;
        for (int i = 0; i < NR; i++) {
            const double bd = b16[i];
            const int ok = ndvi[i] == ndvi[i] && !(d.has_nodata && bd == d.nodata) &&
                           !(bd >= d.saturated_dn);
            const float want[3] = { ok ? (float)(b16[i] * 2.75e-5 - 0.2) : NAN,
                                    ok ? (float)(r16[i] * 2.75e-5 - 0.2) : NAN,
                                    ok ? (float)(n16[i] * 2.75e-5 - 0.2) : NAN };
            for (int b = 0; b < 3; b++)
                bad += !same(out[0][b][i], want[b]) || !same(out[1][b][i], want[b]);
        }
        CHECK(bad == 0);
    }
    bf[1] = NAN;
    CHECK(cnp_haze_reflect(&d, 2, out[1][0], out[1][1], out[1][2]) == CNP_OK);
    CHECK(isnan(out[1][0][1]) && out[1][1][1] == (float)(7 * 2.75e-5 - 0.2));
    d.red = NULL;
    CHECK(cnp_haze_reflect(&d, 2, out[1][0], out[1][1], out[1][2]) == CNP_E_ARG);
}

/* The fused forms (cnp_haze_hist_add_dn with and without its table,
 * cnp_haze_classify_dn) give what cnp_haze_reflect() followed by
 * cnp_haze_hist_add() or cnp_haze_classify() gives: DNs over the whole
 * UInt16 range (bins at both ends, saturation, nodata, NaN NDVI), two
 * rules (Landsat's and Sentinel-2's), with and without SWIR2, a table made
 * for another rule (ignored), and a histogram near overflow. */
static void test_fused(void)
{
    enum { NF = 70001 };
    static uint16_t b16[NF], r16[NF], n16[NF];
    static float ndvi[NF], swir[NF], refl[3][NF];
    static uint8_t want_f[NF], got_f[NF];
    static cnp_haze_lut lut, other;
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < NF; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* Mostly the dark, binned range, some of it anywhere. */
        const uint32_t span = (x >> 60) < 3 ? 65536u : (x >> 58) % 2 ? 12000u : 3000u;
        b16[i] = (uint16_t)(i < 65536 ? (uint64_t)i : x % span);
        r16[i] = (uint16_t)((x >> 16) % span);
        n16[i] = (uint16_t)((x >> 32) % 65536u);
        ndvi[i] = (x >> 50) % 13 == 0 ? NAN : 0.4f;
        swir[i] = (float)((x >> 40) % 4000) * 1e-4f;
    }
    static const double rules[2][2] = { { 2.75e-5, -0.2 }, { 1e-4, -0.1 } };
    cnp_haze_params p;
    cnp_haze_line line;
    cnp_haze_defaults(&p, &line);
    line.slope = 1.3;
    line.intercept = 0.004;
    for (int k = 0; k < 2; k++) {
        cnp_haze_dn d = { .blue16 = b16, .red16 = r16, .nir16 = n16, .ndvi = ndvi,
                          .scale = rules[k][0], .offset = rules[k][1], .has_nodata = 1,
                          .nodata = 17, .saturated_dn = 60000 };
        cnp_haze_lut_init(&lut, &p, d.scale, d.offset);
        cnp_haze_lut_init(&other, &p, d.scale * 2, d.offset);
        CHECK(cnp_haze_reflect(&d, NF, refl[0], refl[1], refl[2]) == CNP_OK);
        for (int s = 0; s < 2; s++) {
            const float *sw = s ? swir : NULL;
            const cnp_haze_bands b = { refl[0], refl[1], refl[2], sw };
            cnp_haze_hist want, got_plain, got_lut, got_other;
            memset(&want, 0, sizeof want);
            got_plain = got_lut = got_other = want;
            CHECK(cnp_haze_hist_add(&want, &p, &b, NULL, NF) == CNP_OK);
            CHECK(cnp_haze_hist_add_dn(&got_plain, &p, &d, sw, NULL, NF) == CNP_OK);
            CHECK(cnp_haze_hist_add_dn(&got_lut, &p, &d, sw, &lut, NF) == CNP_OK);
            CHECK(cnp_haze_hist_add_dn(&got_other, &p, &d, sw, &other, NF) == CNP_OK);
            CHECK(memcmp(&want, &got_plain, sizeof want) == 0);
            CHECK(memcmp(&want, &got_lut, sizeof want) == 0);
            CHECK(memcmp(&want, &got_other, sizeof want) == 0);
            uint64_t total = 0;
            for (int i = 0; i < CNP_HAZE_NBIN; i++)
                for (int j = 0; j < CNP_HAZE_NBIN; j++)
                    total += want.n[i][j];
            CHECK(total > 1000);       /* the rule counts something */
            CHECK(cnp_haze_classify(&p, &line, &b, NF, want_f) == CNP_OK);
            CHECK(cnp_haze_classify_dn(&p, &line, &d, sw, NF, got_f) == CNP_OK);
            CHECK(memcmp(want_f, got_f, NF) == 0);
        }
        /* Near overflow: refused as cnp_haze_hist_add() refuses, h unchanged. */
        cnp_haze_hist full, before;
        memset(&full, 0, sizeof full);
        for (int i = 0; i < CNP_HAZE_NBIN; i++)
            for (int j = 0; j < CNP_HAZE_NBIN; j++)
                full.n[i][j] = UINT32_MAX - 1;
        before = full;
        CHECK(cnp_haze_hist_add_dn(&full, &p, &d, NULL, &lut, NF) == CNP_E_DATA);
        CHECK(memcmp(&full, &before, sizeof full) == 0);
    }
}

CNP_TEST_MAIN("haze",
              TEST_CASE(test_pixel_rules),
              TEST_CASE(test_bin_edges),
              TEST_CASE(test_reflect),
              TEST_CASE(test_fused),
              TEST_CASE(test_flags),
              TEST_CASE(test_fit),
              TEST_CASE(test_fit_swir_guard),
              TEST_CASE(test_fringe_follows_haze),
              TEST_CASE(test_fringe_strips_exact))
