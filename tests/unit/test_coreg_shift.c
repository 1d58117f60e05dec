/* tests/unit/test_coreg_shift.c - resampling by a sub-pixel offset
 * (kernels/cnp_coreg_shift.c).
 *
 * Bilinear resampling is exact on a plane (a linear ramp); an integer offset
 * copies; pixels whose sources leave the plane or are invalid take the fill
 * and lose their flag, their neighbours do not; two tiles with their own
 * source windows give the bits of one whole plane; and a pair shifted by a
 * known amount, put back by the kernel, measures ~0 with phase correlation.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cnp_coreg.h"
#include "cnp_test.h"

enum { W = 40, H = 30 };

static float ramp(double x, double y) { return (float)(3.0 * x + 5.0 * y + 1.0); }

static cnp_coreg_src src_of(const float *p, int64_t w, int64_t h)
{
    return (cnp_coreg_src){ p, w, h, w, 0, 0.0, INFINITY };
}

static void test_ramp_is_exact(void)
{
    static float s[W * H], o[W * H];
    static uint8_t v[W * H];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            s[y * W + x] = ramp(x, y);
    const cnp_coreg_src src = src_of(s, W, H);
    const double ox = 1.25, oy = -0.5;
    memset(v, 1, sizeof v);
    CHECK(cnp_coreg_shift_plane(&src, ox, oy, -1.0f, o, W, H, W, v) == CNP_OK);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            /* inside: x + 1.25 + 1 <= W - 1 and y - 0.5 >= 0 */
            const int inside = x + 2 <= W - 1 && y >= 1;
            CHECK(v[y * W + x] == inside);
            if (inside)
                CHECK_NEAR(o[y * W + x], ramp(x + ox, y + oy), 1e-4);
            else
                CHECK(o[y * W + x] == -1.0f);
        }
}

static void test_integer_offset_copies(void)
{
    static float s[W * H], o[W * H];
    for (int i = 0; i < W * H; i++)
        s[i] = (float)((i * 2654435761u) % 10007u) * 0.37f;
    s[5 * W + 7] = NAN;                /* read only by output (5, 4) */
    const cnp_coreg_src src = src_of(s, W, H);
    uint8_t v[W * H];
    memset(v, 1, sizeof v);
    CHECK(cnp_coreg_shift_plane(&src, 2.0, 1.0, 0.0f, o, W - 2, H - 1, W, v) == CNP_OK);
    for (int y = 0; y < H - 1; y++)
        for (int x = 0; x < W - 2; x++) {
            const int bad = x == 5 && y == 4;
            CHECK(v[y * W + x] == !bad);
            if (!bad)
                CHECK(o[y * W + x] == s[(y + 1) * W + x + 2]);
        }
}

static void test_invalid_sources(void)
{
    static float s[W * H], o[W * H];
    for (int i = 0; i < W * H; i++)
        s[i] = 100.0f;
    s[10 * W + 10] = 0.0f;             /* nodata */
    s[20 * W + 30] = 65535.0f;         /* saturated */
    cnp_coreg_src src = src_of(s, W, H);
    src.has_nodata = 1;
    src.nodata = 0.0;
    src.saturated = 65535.0;
    uint8_t v[W * H];
    memset(v, 1, sizeof v);
    /* a fraction on both axes: each source pixel feeds four outputs */
    CHECK(cnp_coreg_shift_plane(&src, 0.5, 0.5, 0.0f, o, W - 1, H - 1, W, v) == CNP_OK);
    int cleared = 0;
    for (int y = 0; y < H - 1; y++)
        for (int x = 0; x < W - 1; x++) {
            const int near_nd = (x == 9 || x == 10) && (y == 9 || y == 10);
            const int near_sat = (x == 29 || x == 30) && (y == 19 || y == 20);
            CHECK(v[y * W + x] == !(near_nd || near_sat));
            cleared += !v[y * W + x];
            if (v[y * W + x])
                CHECK(o[y * W + x] == 100.0f);
        }
    CHECK(cleared == 8);
    /* the flag mask follows the same sources */
    static uint8_t m[W * H], mo[W * H];
    memset(m, 1, sizeof m);
    m[10 * W + 10] = 0;
    CHECK(cnp_coreg_shift_mask(m, W, H, W, 0.5, 0.0, mo, W - 1, H, W) == CNP_OK);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W - 1; x++)
            CHECK(mo[y * W + x] == !(y == 10 && (x == 9 || x == 10)));
    CHECK(cnp_coreg_shift_mask(m, W, H, W, -0.25, 0.0, mo, W, H, W) == CNP_OK);
    CHECK(mo[0] == 0 && mo[1] == 1);   /* column 0 reads column -1: outside */
    CHECK(cnp_coreg_shift_plane(&src, NAN, 0.0, 0.0f, o, W, H, W, NULL) == CNP_E_ARG);
    CHECK(cnp_coreg_shift_plane(NULL, 0.0, 0.0, 0.0f, o, W, H, W, NULL) == CNP_E_ARG);
}

/* Two tiles, each read with its own halo (as the reader does), give the
 * bits of the whole plane at once. */
static void test_tiles_match_whole(void)
{
    enum { SW = 64, SH = 48 };
    static float s[SW * SH], whole[SW * SH], tile[SW * SH];
    for (int i = 0; i < SW * SH; i++)
        s[i] = (float)sin(i * 0.37) * 1000.0f + 2000.0f;
    const double dx = 1.37, dy = -0.61;
    const cnp_coreg_src all = src_of(s, SW, SH);
    CHECK(cnp_coreg_shift_plane(&all, -dx, -dy, -9.0f, whole, SW, SH, SW, NULL) == CNP_OK);
    const int halo = 3;
    for (int t = 0; t < 2; t++) {
        const int x0 = t * 32, tw = 32;
        const int sx0 = x0 - halo < 0 ? 0 : x0 - halo;
        const int sx1 = x0 + tw + halo > SW ? SW : x0 + tw + halo;
        const cnp_coreg_src part = { s + sx0, sx1 - sx0, SH, SW, 0, 0.0, INFINITY };
        CHECK(cnp_coreg_shift_plane(&part, x0 - dx - sx0, -dy, -9.0f, tile + x0, tw, SH, SW,
                                    NULL) == CNP_OK);
    }
    CHECK(memcmp(whole, tile, sizeof whole) == 0);
}

/* AFTER(x, y) = BEFORE(x + dx, y + dy) of a smooth texture; resampled at
 * (x - dx, y - dy) it matches BEFORE, and phase correlation says so. */
static void test_aligned_pair_measures_zero(void)
{
    enum { N = 192 };
    static float b[N * N], a[N * N], al[N * N];
    static cnp_coreg_block blocks[64];
    const double dx = 1.4, dy = -0.8;
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++) {
            b[y * N + x] = (float)(0.3 + 0.02 * sin(0.21 * x + 0.13 * y) +
                                   0.015 * cos(0.07 * x - 0.29 * y) + 0.01 * sin(0.41 * y));
            const double u = x + dx, v = y + dy;
            a[y * N + x] = (float)(0.3 + 0.02 * sin(0.21 * u + 0.13 * v) +
                                   0.015 * cos(0.07 * u - 0.29 * v) + 0.01 * sin(0.41 * v));
        }
    const cnp_coreg_src src = src_of(a, N, N);
    CHECK(cnp_coreg_shift_plane(&src, -dx, -dy, NAN, al, N, N, N, NULL) == CNP_OK);
    cnp_coreg_params p;
    cnp_coreg_defaults(&p);
    cnp_coreg_ws *ws = NULL;
    CHECK(cnp_coreg_ws_create(p.block, &ws) == CNP_OK);
    cnp_coreg_result before, after;
    /* the inner part: the resampled plane's rim is NaN */
    const float *bi = b + 4 * N + 4, *ai = a + 4 * N + 4, *li = al + 4 * N + 4;
    CHECK(cnp_coreg_estimate(ws, &p, bi, ai, N - 8, N - 8, N, blocks, 64, &before) == CNP_OK);
    CHECK(cnp_coreg_estimate(ws, &p, bi, li, N - 8, N - 8, N, blocks, 64, &after) == CNP_OK);
    CHECK(before.ok && after.ok);
    /* three waves: a poor texture for phase correlation, but a shift */
    CHECK_NEAR(before.dx, dx, 0.2);
    CHECK_NEAR(before.dy, dy, 0.2);
    CHECK_NEAR(after.dx, 0.0, 0.05);
    CHECK_NEAR(after.dy, 0.0, 0.05);
    cnp_coreg_ws_free(&ws);
}

int main(void)
{
    static const cnp_test_case cases[] = {
        TEST_CASE(test_ramp_is_exact),
        TEST_CASE(test_integer_offset_copies),
        TEST_CASE(test_invalid_sources),
        TEST_CASE(test_tiles_match_whole),
        TEST_CASE(test_aligned_pair_measures_zero),
    };
    return cnp_test_run_all("coreg_shift", cases, sizeof cases / sizeof cases[0]);
}
