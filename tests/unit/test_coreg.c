/* tests/unit/test_coreg.c - phase correlation (kernels/cnp_coreg).
 *
 * The FFT against a plain DFT; known sub-pixel shifts of an analytic
 * texture (sampled exactly at the shifted positions, with independent noise
 * on AFTER) recovered to 0.05 pixel; flat, unrelated and partly
 * invalid images refused; the aggregate independent of block order.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cnp_coreg.h"
#include "cnp_test.h"

static uint64_t rng = 88172645463325252ull;

static double unit(void)      /* xorshift64: fixed seed, [0, 1) */
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) * 0x1.0p-53;
}

enum { NWAVE = 40 };
static double wu[NWAVE], wv[NWAVE], wa[NWAVE], wp[NWAVE];

static void waves_init(void)
{
    for (int k = 0; k < NWAVE; k++) {
        const double f = 0.015 + 0.2 * unit(), th = 2.0 * M_PI * unit();
        wu[k] = f * cos(th);
        wv[k] = f * sin(th);
        wa[k] = 0.004 / f;       /* 1/f: like a landscape */
        wp[k] = 2.0 * M_PI * unit();
    }
}

/* A canopy-like texture (reflectance around 0.3), defined everywhere. */
static double texture(double x, double y)
{
    double v = 0.3;
    for (int k = 0; k < NWAVE; k++)
        v += 0.05 * wa[k] * sin(2.0 * M_PI * (wu[k] * x + wv[k] * y) + wp[k]);
    return v;
}

/* BEFORE(x, y) = texture(x, y); AFTER(x, y) = texture(x + dx, y + dy) + noise. */
static void make_pair(int w, int h, double dx, double dy, double noise, float *b, float *a)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            b[y * w + x] = (float)texture(x, y);
            a[y * w + x] = (float)(texture(x + dx, y + dy) + noise * (2.0 * unit() - 1.0));
        }
}

static void test_fft_matches_dft(void)
{
    enum { N = 16 };
    cnp_coreg_ws *ws = NULL;
    double re[N * N], im[N * N], r0[N * N], i0[N * N];

    CHECK(cnp_coreg_ws_create(N, &ws) == CNP_OK);
    for (int i = 0; i < N * N; i++) {
        r0[i] = re[i] = unit() - 0.5;
        i0[i] = im[i] = unit() - 0.5;
    }
    CHECK(cnp_coreg_fft(ws, re, im, 0) == CNP_OK);
    double err = 0.0;
    for (int v = 0; v < N; v++)
        for (int u = 0; u < N; u++) {
            double sr = 0.0, si = 0.0;
            for (int y = 0; y < N; y++)
                for (int x = 0; x < N; x++) {
                    const double ph = -2.0 * M_PI * (double)(u * x + v * y) / N;
                    sr += r0[y * N + x] * cos(ph) - i0[y * N + x] * sin(ph);
                    si += r0[y * N + x] * sin(ph) + i0[y * N + x] * cos(ph);
                }
            err = fmax(err, fmax(fabs(sr - re[v * N + u]), fabs(si - im[v * N + u])));
        }
    CHECK(err < 1e-9);
    CHECK(cnp_coreg_fft(ws, re, im, 1) == CNP_OK);
    for (int i = 0; i < N * N; i++)
        CHECK(fabs(re[i] - r0[i]) < 1e-12 && fabs(im[i] - i0[i]) < 1e-12);
    cnp_coreg_ws_free(&ws);
    CHECK(ws == NULL);
}

static void test_known_shifts(void)
{
    enum { W = 320, H = 256 };
    static const double SHIFTS[][2] = { { 1.0, 1.0 }, { 0.5, -0.25 }, { -1.3, 0.7 },
                                        { 2.0, -1.75 }, { 0.0, 0.0 }, { -0.1, 0.15 } };
    static float b[W * H], a[W * H];
    static cnp_coreg_block blocks[64];
    cnp_coreg_params p;
    cnp_coreg_ws *ws = NULL;
    cnp_coreg_result r;

    cnp_coreg_defaults(&p);
    CHECK(cnp_coreg_ws_create(p.block, &ws) == CNP_OK);
    CHECK(cnp_coreg_blocks_max(&p, W, H) == 20);
    for (size_t s = 0; s < sizeof SHIFTS / sizeof *SHIFTS; s++) {
        make_pair(W, H, SHIFTS[s][0], SHIFTS[s][1], 0.003, b, a);
        CHECK(cnp_coreg_estimate(ws, &p, b, a, W, H, W, blocks, 64, &r) == CNP_OK);
        if (fabs(r.dx - SHIFTS[s][0]) > 0.05 || fabs(r.dy - SHIFTS[s][1]) > 0.05 || !r.ok)
            fprintf(stderr, "shift (%g, %g): got (%.3f, %.3f) mad (%.3f, %.3f) used %zu ok %d peak %.3f\n",
                    SHIFTS[s][0], SHIFTS[s][1], r.dx, r.dy, r.mad_x, r.mad_y, r.used, r.ok, r.peak);
        CHECK_NEAR(r.dx, SHIFTS[s][0], 0.05);
        CHECK_NEAR(r.dy, SHIFTS[s][1], 0.05);
        CHECK(r.ok && r.blocks == 20 && r.used >= 18 && r.peak > 0.2);
    }
    cnp_coreg_ws_free(&ws);
}

static void test_refused(void)
{
    enum { W = 192, H = 128 };
    static float b[W * H], a[W * H];
    static cnp_coreg_block blocks[16];
    cnp_coreg_params p;
    cnp_coreg_ws *ws = NULL;
    cnp_coreg_result r;

    cnp_coreg_defaults(&p);
    CHECK(cnp_coreg_ws_create(64, &ws) == CNP_OK);
    for (int i = 0; i < W * H; i++)       /* flat: no texture */
        b[i] = a[i] = 0.3f + 0.001f * (float)unit();
    CHECK(cnp_coreg_estimate(ws, &p, b, a, W, H, W, blocks, 16, &r) == CNP_OK);
    CHECK(r.blocks == 6 && r.used == 0 && !r.ok && r.dx == 0.0);
    for (int i = 0; i < W * H; i++) {     /* unrelated textures */
        b[i] = (float)(0.3 + 0.05 * unit());
        a[i] = (float)(0.3 + 0.05 * unit());
    }
    CHECK(cnp_coreg_estimate(ws, &p, b, a, W, H, W, blocks, 16, &r) == CNP_OK);
    CHECK(!r.ok && r.used <= 1);
    /* NaN: 10 % of a block refuses it, 1 % is filled */
    make_pair(W, H, 1.0, 0.0, 0.002, b, a);
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++)
            if ((x * 7 + y * 3) % 10 == 0)
                a[y * W + x] = NAN;
    for (int k = 0; k < 40; k++)
        b[(70 + k % 8) * W + 70 + k / 8] = NAN;
    CHECK(cnp_coreg_estimate(ws, &p, b, a, W, H, W, blocks, 16, &r) == CNP_OK);
    CHECK(!blocks[0].used && blocks[4].used && r.used == 5 && r.ok);
    CHECK_NEAR(r.dx, 1.0, 0.1);
    /* arguments */
    CHECK(cnp_coreg_estimate(ws, &p, b, a, W, H, W, blocks, 5, &r) == CNP_E_ARG);
    p.block = 32;
    CHECK(cnp_coreg_estimate(ws, &p, b, a, W, H, W, blocks, 16, &r) == CNP_E_ARG);
    cnp_coreg_ws_free(&ws);
    CHECK(cnp_coreg_ws_create(48, &ws) == CNP_E_ARG && ws == NULL);
    CHECK(cnp_coreg_ws_create(512, &ws) == CNP_E_ARG);
}

/* The scene result does not depend on the order of its blocks. */
static void test_aggregate_order(void)
{
    enum { NB = 9 };
    cnp_coreg_block bl[NB], rev[NB];
    cnp_coreg_params p;
    cnp_coreg_result r1, r2;

    cnp_coreg_defaults(&p);
    for (int i = 0; i < NB; i++) {
        bl[i] = (cnp_coreg_block){ 0, 0, 1.0 + 0.05 * (i % 4), -0.5 + 0.03 * (i % 3),
                                   0.3 + 0.01 * i, 3.0, i != 4 };
        rev[NB - 1 - i] = bl[i];
    }
    bl[7].dx = 9.0;                 /* one outlier: the median ignores it */
    rev[1].dx = 9.0;
    CHECK(cnp_coreg_aggregate(&p, bl, NB, &r1) == CNP_OK);
    CHECK(cnp_coreg_aggregate(&p, rev, NB, &r2) == CNP_OK);
    CHECK(memcmp(&r1, &r2, sizeof r1) == 0);
    CHECK(r1.used == 8 && r1.ok);
    CHECK_NEAR(r1.dx, 1.075, 1e-12);  /* 1.0 1.0 1.05 1.05 1.1 1.15 1.15 9: (1.05+1.1)/2 */
    CHECK(cnp_coreg_aggregate(&p, NULL, 0, &r1) == CNP_OK && r1.used == 0 && !r1.ok);
}

int main(void)
{
    static const cnp_test_case cases[] = {
        TEST_CASE(test_fft_matches_dft),
        TEST_CASE(test_known_shifts),
        TEST_CASE(test_refused),
        TEST_CASE(test_aggregate_order),
    };
    waves_init();
    return cnp_test_run_all("coreg", cases, sizeof cases / sizeof *cases);
}
