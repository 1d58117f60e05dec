/* tests/unit/test_norm.c - relative normalisation (kernels/cnp_norm).
 *
 * Hand-made scenes: a uniform and a west-east bias on stable forest with
 * clearings, pasture and invalid pixels; the median rule on hand-made
 * histograms; the fallback levels; and the same corrections and corrected
 * dNDVI, bit for bit, whether the scene is accumulated in one tile, in
 * ragged tiles merged from partial grids, or finalised strip by strip.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cnp_norm.h"
#include "cnp_test.h"

/* Deterministic noise in [-1, 1] per pixel. */
static double noise(int64_t x, int64_t y, uint64_t salt)
{
    uint64_t z = (uint64_t)x * 0x9E3779B97F4A7C15ull ^ (uint64_t)y * 0xC2B2AE3D27D4EB4Full ^ salt;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-52 - 1.0;
}

typedef struct scene {
    int64_t w, h;
    float *b, *a;
} scene;

/* Forest (NDVI 0.78..0.86) with after = before + bias(x) + noise; clearings
 * (after 0.2), a pasture column band (before 0.35) and invalid pixels. */
static scene make_scene(int64_t w, int64_t h, double bias0, double bias1)
{
    scene s = { w, h, malloc(sizeof(float) * (size_t)(w * h)), malloc(sizeof(float) * (size_t)(w * h)) };
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            const size_t i = (size_t)(y * w + x);
            const double bias = bias0 + (bias1 - bias0) * ((double)x + 0.5) / (double)w;
            double b = 0.82 + 0.04 * noise(x, y, 1);
            double a = b + bias + 0.01 * noise(x, y, 2);
            if (x >= 40 && x < 52)                                  /* pasture */
                b = 0.35, a = 0.33;
            if ((x / 23) % 5 == 3 && (y / 17) % 4 == 1)             /* clearings */
                a = 0.2;
            s.b[i] = (float)b;
            s.a[i] = (x * 7 + y * 3) % 97 == 0 ? NAN : (float)a;    /* invalid */
        }
    return s;
}

static void free_scene(scene *s)
{
    free(s->b);
    free(s->a);
}

static cnp_norm_params params(void)
{
    cnp_norm_params p = { 32, 2, 4, 500, 0.65, 0.5, 128 };
    return p;
}

static cnp_norm_tile tile_of(const scene *s, int64_t x0, int64_t y0, int64_t w, int64_t h)
{
    cnp_norm_tile t = { x0, y0, (ptrdiff_t)w, (ptrdiff_t)h, (ptrdiff_t)s->w,
                        s->b + y0 * s->w + x0, s->a + y0 * s->w + x0 };
    return t;
}

/* Corrections of a whole scene accumulated as one tile. */
static float *corrections(const scene *s, const cnp_norm_params *p, uint8_t **level,
                          int64_t *ncx, int64_t *ncy)
{
    cnp_norm_grid *g = NULL;
    CHECK(cnp_norm_grid_create(p, s->w, s->h, 0, -1, &g) == CNP_OK);
    cnp_norm_grid_cells(g, ncx, ncy);
    cnp_norm_tile t = tile_of(s, 0, 0, s->w, s->h);
    CHECK(cnp_norm_accumulate(g, &t) == CNP_OK);
    float *corr = malloc(sizeof(float) * (size_t)(*ncx * *ncy));
    *level = malloc((size_t)(*ncx * *ncy));
    CHECK(cnp_norm_correct(g, s->h, 0, *ncy, corr, *level, NULL) == CNP_OK);
    cnp_norm_grid_free(&g);
    CHECK(g == NULL);
    return corr;
}

static void test_median_rule(void)
{
    uint32_t h[16] = { 0 };
    CHECK(isnan(cnp_norm_median(h, 16, -1.0, 0.125)));
    h[4] = 1;                                   /* one count: its bin's centre */
    CHECK_NEAR(cnp_norm_median(h, 16, -1.0, 0.125), -1.0 + 4.5 * 0.125, 1e-12);
    h[4] = 2;
    h[10] = 2;                                  /* half at the top of bin 4 */
    CHECK_NEAR(cnp_norm_median(h, 16, -1.0, 0.125), -1.0 + 5.0 * 0.125, 1e-12);
    h[10] = 6;                                  /* 8 counts: the 4th inside bin 10 */
    CHECK_NEAR(cnp_norm_median(h, 16, -1.0, 0.125), -1.0 + (10.0 + 2.0 / 6.0) * 0.125, 1e-12);
}

static void test_uniform_bias(void)
{
    scene s = make_scene(300, 260, -0.04, -0.04);
    const cnp_norm_params p = params();
    int64_t ncx, ncy;
    uint8_t *level;
    float *corr = corrections(&s, &p, &level, &ncx, &ncy);

    CHECK(ncx == 10 && ncy == 9);
    for (int64_t k = 0; k < ncx * ncy; k++) {
        CHECK(level[k] == 1);
        CHECK_NEAR(corr[k], -0.04, 0.004);
    }
    /* The window's size, counted by brute force: cells 2..6 around (4, 4),
     * and cells 0..2 x 6..8 around the corner cell (0, 8). */
    {
        cnp_norm_grid *g = NULL;
        uint32_t count[90];
        float c2[90];
        int64_t want[2] = { 0, 0 };
        CHECK(cnp_norm_grid_create(&p, s.w, s.h, 0, -1, &g) == CNP_OK);
        cnp_norm_tile t = tile_of(&s, 0, 0, s.w, s.h);
        CHECK(cnp_norm_accumulate(g, &t) == CNP_OK);
        CHECK(cnp_norm_correct(g, s.h, 0, ncy, c2, NULL, count) == CNP_OK);
        for (int64_t y = 0; y < s.h; y++)
            for (int64_t x = 0; x < s.w; x++) {
                const size_t i = (size_t)(y * s.w + x);
                const double d = (double)s.a[i] - (double)s.b[i];
                if (!(s.b[i] >= 0.65f) || !(fabs(d) < 0.5))
                    continue;
                want[0] += x >= 64 && x < 224 && y >= 64 && y < 224;
                want[1] += x < 96 && y >= 192;
            }
        CHECK(count[4 * ncx + 4] == (uint32_t)want[0]);
        CHECK(count[8 * ncx + 0] == (uint32_t)want[1]);
        CHECK(memcmp(c2, corr, sizeof c2) == 0);
        cnp_norm_grid_free(&g);
    }
    float *out = malloc(sizeof(float) * (size_t)(s.w * s.h));
    cnp_norm_field f = { corr, ncx, ncy, 0, ncy, p.cell_px };
    cnp_norm_tile t = tile_of(&s, 0, 0, s.w, s.h);
    CHECK(cnp_norm_apply(&f, &t, out, (ptrdiff_t)s.w) == CNP_OK);
    int64_t stable = 0, stable_ok = 0, cleared = 0, cleared_ok = 0, nan_ok = 1;
    for (int64_t i = 0; i < s.w * s.h; i++) {
        if (isnan(s.a[i])) {
            nan_ok &= isnan(out[i]);
            continue;
        }
        if (s.b[i] < 0.65f)
            continue;
        if (s.a[i] < 0.3f) {
            cleared++;
            cleared_ok += out[i] < -0.5f;
        } else {
            stable++;
            stable_ok += fabsf(out[i]) < 0.02f;     /* noise is +-0.01 */
        }
    }
    CHECK(nan_ok);
    CHECK(stable > 50000 && stable_ok == stable);
    CHECK(cleared > 1000 && cleared_ok == cleared);
    free(out);
    free(corr);
    free(level);
    free_scene(&s);
}

static void test_gradient_followed(void)
{
    scene s = make_scene(640, 96, -0.02, -0.06);
    const cnp_norm_params p = params();
    int64_t ncx, ncy;
    uint8_t *level;
    float *corr = corrections(&s, &p, &level, &ncx, &ncy);

    /* Away from the edges a symmetric window's median is the bias at its centre. */
    for (int64_t cx = 2; cx < ncx - 2; cx++) {
        const double bias = -0.02 - 0.04 * ((double)cx + 0.5) / (double)ncx;
        CHECK_NEAR(corr[1 * ncx + cx], bias, 0.004);
    }
    CHECK(corr[ncx + 2] > corr[ncx + ncx - 3]);
    free(corr);
    free(level);
    free_scene(&s);
}

/* Forest only in the first two cell columns of a 10 x 2 cell scene. */
static void test_fallback_levels(void)
{
    const int64_t w = 320, h = 64;
    scene s = make_scene(w, h, -0.03, -0.03);
    cnp_norm_params p = params();
    p.min_count = 100;
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 64; x < w; x++)
            s.b[y * w + x] = 0.3f;
    int64_t ncx, ncy;
    uint8_t *level;
    float *corr = corrections(&s, &p, &level, &ncx, &ncy);

    CHECK(level[0] == 1 && level[3] == 1);      /* forest within 2 cells    */
    CHECK(level[4] == 2 && level[5] == 2);      /* within 4 cells           */
    CHECK(level[6] == 3 && level[9] == 3);      /* only the band of rows    */
    CHECK_NEAR(corr[9], -0.03, 0.004);
    CHECK_NEAR(corr[5], -0.03, 0.004);
    free(corr);
    free(level);

    /* no forest anywhere: no correction, level 0 */
    for (int64_t i = 0; i < w * h; i++)
        s.b[i] = 0.3f;
    corr = corrections(&s, &p, &level, &ncx, &ncy);
    for (int64_t k = 0; k < ncx * ncy; k++)
        CHECK(level[k] == 0 && corr[k] == 0.0f);
    free(corr);
    free(level);
    free_scene(&s);
}

/* Ragged tiles into partial grids of cell-row bands, merged in reverse;
 * applied in other ragged tiles: bit-identical to one tile. */
static void test_tiling_independent(void)
{
    scene s = make_scene(300, 260, -0.02, -0.07);
    const cnp_norm_params p = params();
    int64_t ncx, ncy;
    uint8_t *level_ref;
    float *ref = corrections(&s, &p, &level_ref, &ncx, &ncy);

    static const int64_t bands[4] = { 0, 3, 5, 9 };        /* cell rows per worker */
    cnp_norm_grid *part[3] = { NULL, NULL, NULL }, *all = NULL;
    CHECK(cnp_norm_grid_create(&p, s.w, s.h, 0, -1, &all) == CNP_OK);
    for (int k = 0; k < 3; k++) {
        CHECK(cnp_norm_grid_create(&p, s.w, s.h, bands[k], bands[k + 1], &part[k]) == CNP_OK);
        const int64_t ya = bands[k] * 32, yb = bands[k + 1] * 32 < s.h ? bands[k + 1] * 32 : s.h;
        for (int64_t y = ya; y < yb; y += 13 + k) {
            const int64_t th = y + 13 + k < yb ? 13 + k : yb - y;
            for (int64_t x = 0; x < s.w; x += 37) {
                const int64_t tw = x + 37 < s.w ? 37 : s.w - x;
                cnp_norm_tile t = tile_of(&s, x, y, tw, th);
                CHECK(cnp_norm_accumulate(part[k], &t) == CNP_OK);
            }
        }
    }
    for (int k = 2; k >= 0; k--)
        CHECK(cnp_norm_merge(all, part[k]) == CNP_OK);
    float *corr = malloc(sizeof(float) * (size_t)(ncx * ncy));
    uint8_t *level = malloc((size_t)(ncx * ncy));
    CHECK(cnp_norm_correct(all, s.h, 0, ncy, corr, level, NULL) == CNP_OK);
    CHECK(memcmp(corr, ref, sizeof(float) * (size_t)(ncx * ncy)) == 0);
    CHECK(memcmp(level, level_ref, (size_t)(ncx * ncy)) == 0);

    float *o1 = malloc(sizeof(float) * (size_t)(s.w * s.h));
    float *o2 = malloc(sizeof(float) * (size_t)(s.w * s.h));
    cnp_norm_field f = { ref, ncx, ncy, 0, ncy, p.cell_px };
    cnp_norm_tile t = tile_of(&s, 0, 0, s.w, s.h);
    CHECK(cnp_norm_apply(&f, &t, o1, (ptrdiff_t)s.w) == CNP_OK);
    for (int64_t y = 0; y < s.h; y += 29)
        for (int64_t x = 0; x < s.w; x += 41) {
            const int64_t th = y + 29 < s.h ? 29 : s.h - y, tw = x + 41 < s.w ? 41 : s.w - x;
            cnp_norm_tile tt = tile_of(&s, x, y, tw, th);
            CHECK(cnp_norm_apply(&f, &tt, o2 + y * s.w + x, (ptrdiff_t)s.w) == CNP_OK);
        }
    CHECK(memcmp(o1, o2, sizeof(float) * (size_t)(s.w * s.h)) == 0);

    for (int k = 0; k < 3; k++)
        cnp_norm_grid_free(&part[k]);
    cnp_norm_grid_free(&all);
    free(o1);
    free(o2);
    free(corr);
    free(level);
    free(ref);
    free(level_ref);
    free_scene(&s);
}

/* Strips of 48 rows: each cell row finalised as soon as it is ready gives
 * the corrections of the whole scene. */
static void test_streaming(void)
{
    scene s = make_scene(300, 520, -0.03, -0.05);
    const cnp_norm_params p = params();
    int64_t ncx, ncy;
    uint8_t *level_ref;
    float *ref = corrections(&s, &p, &level_ref, &ncx, &ncy);
    cnp_norm_grid *g = NULL;
    float *corr = calloc((size_t)(ncx * ncy), sizeof(float));
    int64_t done = 0;

    CHECK(cnp_norm_grid_create(&p, s.w, s.h, 0, -1, &g) == CNP_OK);
    CHECK(cnp_norm_rows_ready(g, 0) == 0);
    for (int64_t y = 0; y < s.h; y += 48) {
        const int64_t th = y + 48 < s.h ? 48 : s.h - y;
        cnp_norm_tile t = tile_of(&s, 0, y, s.w, th);
        CHECK(cnp_norm_accumulate(g, &t) == CNP_OK);
        const int64_t ready = cnp_norm_rows_ready(g, y + th);
        CHECK(ready == (y + th >= s.h ? ncy : ((y + th) / 32 > 4 ? (y + th) / 32 - 4 : 0)));
        if (ready > done) {
            CHECK(cnp_norm_correct(g, y + th, done, ready, corr + done * ncx, NULL, NULL) == CNP_OK);
            done = ready;
        }
        if (ready < ncy)     /* one row too far is refused */
            CHECK(cnp_norm_correct(g, y + th, ready, ready + 1, corr, NULL, NULL) == CNP_E_ARG);
    }
    CHECK(done == ncy);
    CHECK(memcmp(corr, ref, sizeof(float) * (size_t)(ncx * ncy)) == 0);
    cnp_norm_grid_free(&g);
    free(corr);
    free(ref);
    free(level_ref);
    free_scene(&s);
}

static void test_arguments(void)
{
    scene s = make_scene(100, 80, 0.0, 0.0);
    cnp_norm_params p = params();
    cnp_norm_grid *g = NULL, *h = NULL;

    CHECK(cnp_norm_defaults(10.0, &p) == CNP_OK);
    CHECK(p.cell_px == 32 && p.radius_cells == 5 && p.wide_cells == 16 && p.min_count == 2000);
    CHECK(cnp_norm_defaults(30.0, &p) == CNP_OK);
    CHECK(p.radius_cells == 2 && p.wide_cells == 6 && p.min_count == 222);
    CHECK(cnp_norm_defaults(0.0, &p) == CNP_E_ARG);
    p = params();
    p.cell_px = 129;
    CHECK(cnp_norm_grid_create(&p, 100, 80, 0, -1, &g) == CNP_E_ARG && g == NULL);
    p = params();
    p.wide_cells = 1;                            /* smaller than radius */
    CHECK(cnp_norm_grid_create(&p, 100, 80, 0, -1, &g) == CNP_E_ARG);
    p = params();
    CHECK(cnp_norm_grid_create(&p, 100, 80, 2, 9, &g) == CNP_E_ARG);   /* 3 cell rows */
    CHECK(cnp_norm_grid_create(&p, 100, 80, 1, 3, &h) == CNP_OK);
    CHECK(cnp_norm_grid_create(&p, 100, 80, 0, -1, &g) == CNP_OK);

    cnp_norm_tile t = tile_of(&s, 0, 0, 100, 80);
    CHECK(cnp_norm_accumulate(h, &t) == CNP_E_ARG);    /* rows outside h     */
    CHECK(cnp_norm_accumulate(g, &t) == CNP_OK);
    cnp_norm_tile t2 = tile_of(&s, 10, 10, 5, 5);
    CHECK(cnp_norm_accumulate(g, &t2) == CNP_E_ARG);   /* pixels added twice */
    cnp_norm_tile t3 = tile_of(&s, 90, 0, 20, 5);
    CHECK(cnp_norm_accumulate(g, &t3) == CNP_E_ARG);   /* outside the scene  */
    cnp_norm_tile t4 = tile_of(&s, 0, 32, 100, 32);
    CHECK(cnp_norm_accumulate(h, &t4) == CNP_OK);
    CHECK(cnp_norm_merge(g, h) == CNP_E_ARG);          /* would double-count */
    cnp_norm_grid_clear(g);
    CHECK(cnp_norm_merge(g, h) == CNP_OK);
    CHECK(cnp_norm_merge(h, g) == CNP_E_ARG);          /* rows outside h     */

    float corr[12];                           /* 4 x 3 cells */
    CHECK(cnp_norm_correct(g, 40, 0, 3, corr, NULL, NULL) == CNP_E_ARG);  /* not ready */
    CHECK(cnp_norm_correct(h, 80, 0, 3, corr, NULL, NULL) == CNP_E_ARG);  /* rows missing */
    CHECK(cnp_norm_correct(g, 80, 0, 3, corr, NULL, NULL) == CNP_OK);
    cnp_norm_field f = { corr, 4, 3, 1, 3, 32 };       /* row 0 missing */
    float out[100 * 80];
    CHECK(cnp_norm_apply(&f, &t, out, 100) == CNP_E_ARG);
    cnp_norm_tile t5 = tile_of(&s, 0, 60, 100, 20);    /* needs rows 1..2 only */
    CHECK(cnp_norm_apply(&f, &t5, out, 100) == CNP_OK);
    CHECK(cnp_norm_apply(&f, &t5, out, 50) == CNP_E_ARG);
    cnp_norm_grid_free(&g);
    cnp_norm_grid_free(&h);
    cnp_norm_grid_free(NULL);
    free_scene(&s);
}

/* The header's interpolation, pixel by pixel: what the chunked loop must
 * give bit for bit. */
static void cell_of(int64_t p, int c, int64_t n, int64_t *i, double *w)
{
    const double f = ((double)p + 0.5) / c - 0.5, fl = floor(f);
    *i = f <= 0.0 ? 0 : fl >= (double)(n - 1) ? n - 1 : (int64_t)fl;
    *w = f <= 0.0 || fl >= (double)(n - 1) ? 0.0 : f - fl;
}

/* cnp_norm_apply() and cnp_norm_accumulate() against their rules one pixel
 * at a time: a tile at an odd offset, rows not a multiple of any chunk,
 * NaN, bins at both ends; the accumulated bins through a one-cell grid's
 * median. */
static void test_pixel_rules(void)
{
    scene s = make_scene(600, 150, 0.03, -0.02);
    for (int64_t i = 0; i < 600 * 150; i += 131)
        s.a[i] = s.b[i] + (float)(0.49 * noise(i, 0, 3));          /* near the ends */
    enum { NCX = 19, NCY = 5 };
    float corr[NCX * NCY];
    for (int k = 0; k < NCX * NCY; k++)
        corr[k] = (float)(0.05 * noise(k, 7, 4));
    const cnp_norm_field f = { corr, NCX, NCY, 0, NCY, 32 };
    cnp_norm_tile t = tile_of(&s, 37, 21, 523, 101);
    float *out = malloc(sizeof(float) * 523 * 101);
    CHECK(cnp_norm_apply(&f, &t, out, 523) == CNP_OK);
    int64_t bad = 0;
    for (int64_t j = 0; j < 101; j++)
        for (int64_t i = 0; i < 523; i++) {
            int64_t ix, iy;
            double wx, wy;
            cell_of(37 + i, 32, NCX, &ix, &wx);
            cell_of(21 + j, 32, NCY, &iy, &wy);
            const int64_t ix1 = wx > 0.0 ? ix + 1 : ix, iy1 = wy > 0.0 ? iy + 1 : iy;
            const float *r0 = corr + iy * NCX, *r1 = corr + iy1 * NCX;
            const double c = (1.0 - wy) * ((1.0 - wx) * r0[ix] + wx * r0[ix1]) +
                             wy * ((1.0 - wx) * r1[ix] + wx * r1[ix1]);
            const size_t k = (size_t)((21 + j) * 600 + 37 + i);
            const double d = (double)s.a[k] - (double)s.b[k];
            const float want = d == d ? (float)(d - c) : NAN;
            const float got = out[j * 523 + i];
            bad += !(want == got || (want != want && got != got));
        }
    CHECK(bad == 0);
    free(out);

    /* One 128-pixel cell, first window only: its correction is the median
     * of the bins the rule puts its pixels in. */
    cnp_norm_params p = { 128, 0, 0, 1, 0.65, 0.5, 128 };
    cnp_norm_grid *g = NULL;
    CHECK(cnp_norm_grid_create(&p, 128, 128, 0, -1, &g) == CNP_OK);
    cnp_norm_tile one = tile_of(&s, 0, 0, 128, 128);
    CHECK(cnp_norm_accumulate(g, &one) == CNP_OK);
    uint32_t hist[128] = { 0 };
    for (int64_t y = 0; y < 128; y++)
        for (int64_t x = 0; x < 128; x++) {
            const double vb = s.b[y * 600 + x], d = (double)s.a[y * 600 + x] - vb;
            if (!(vb >= 0.65) || !(fabs(d) < 0.5))
                continue;
            int bin = (int)floor((d + 0.5) * (128 / 1.0));
            hist[bin < 0 ? 0 : bin > 127 ? 127 : bin]++;
        }
    float c1;
    CHECK(cnp_norm_correct(g, 128, 0, 1, &c1, NULL, NULL) == CNP_OK);
    CHECK(c1 == (float)cnp_norm_median(hist, 128, -0.5, 1.0 / 128));
    cnp_norm_grid_free(&g);
    free_scene(&s);
}

CNP_TEST_MAIN("norm",
              TEST_CASE(test_pixel_rules),
              TEST_CASE(test_median_rule),
              TEST_CASE(test_uniform_bias),
              TEST_CASE(test_gradient_followed),
              TEST_CASE(test_fallback_levels),
              TEST_CASE(test_tiling_independent),
              TEST_CASE(test_streaming),
              TEST_CASE(test_arguments))
