/* tests/unit/test_draw.c - percentile stretch, lines, fills, mask overlay and
 * bitmap text (kernels/cnp_draw.c).
 *
 * Images live inside a larger buffer with guard bytes around them and a row
 * stride wider than 3 * width, so any write outside the view is caught both
 * by the checks here and by ASan.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_draw.h"
#include "cnp_test.h"

#define GUARD   64
#define PAD     5                        /* bytes per row beyond 3 * width */
#define GUARD_B 0xA5

typedef struct canvas {
    uint8_t *buf;
    size_t   size;
    cnp_rgb8 img;
} canvas;

static canvas canvas_new(int32_t w, int32_t h)
{
    canvas cv;
    const ptrdiff_t stride = 3 * (ptrdiff_t)w + PAD;

    cv.size = (size_t)(stride * h) + 2 * GUARD;
    cv.buf = malloc(cv.size);
    memset(cv.buf, GUARD_B, cv.size);
    cv.img.px = cv.buf + GUARD;
    cv.img.width = w;
    cv.img.height = h;
    cv.img.stride = stride;
    for (int32_t y = 0; y < h; y++)
        memset(cv.img.px + y * stride, 0, 3 * (size_t)w);
    return cv;
}

static const uint8_t *px_at(const canvas *cv, int32_t x, int32_t y)
{
    return cv->img.px + y * cv->img.stride + 3 * x;
}

static int painted(const canvas *cv, int32_t x, int32_t y)
{
    const uint8_t *p = px_at(cv, x, y);
    return p[0] || p[1] || p[2];
}

static int count_painted(const canvas *cv)
{
    int n = 0;
    for (int32_t y = 0; y < cv->img.height; y++)
        for (int32_t x = 0; x < cv->img.width; x++)
            n += painted(cv, x, y);
    return n;
}

/* Every byte outside the view (guards and row padding) is untouched. */
static int guards_intact(const canvas *cv)
{
    const uint8_t *px = cv->img.px;
    for (size_t i = 0; i < cv->size; i++) {
        const uint8_t *b = cv->buf + i;
        const ptrdiff_t off = b - px;
        const int inside = off >= 0 && off < cv->img.stride * cv->img.height &&
                           off % cv->img.stride < 3 * (ptrdiff_t)cv->img.width;
        if (!inside && *b != GUARD_B)
            return 0;
    }
    return 1;
}

static void canvas_clear(canvas *cv)
{
    for (int32_t y = 0; y < cv->img.height; y++)
        memset(cv->img.px + y * cv->img.stride, 0, 3 * (size_t)cv->img.width);
}

static void canvas_free(canvas *cv)
{
    free(cv->buf);
    cv->buf = NULL;
}

static const cnp_color WHITE = { 255, 255, 255 };
static const cnp_color RED = { 255, 0, 0 };

/* ---- percentiles ------------------------------------------------------- */

static void test_percentiles_known(void)
{
    const float v[] = { 5.0f, NAN, 1.0f, 3.0f, INFINITY, 2.0f, -INFINITY, 4.0f, NAN };
    const size_t n = sizeof v / sizeof v[0];
    float scratch[sizeof v / sizeof v[0]];
    float lo = -1.0f, hi = -1.0f;

    CHECK(cnp_percentiles(v, n, 0.0, 100.0, NULL, &lo, &hi) == CNP_OK);
    CHECK(lo == 1.0f && hi == 5.0f);
    CHECK(cnp_percentiles(v, n, 25.0, 50.0, scratch, &lo, &hi) == CNP_OK);
    CHECK(lo == 2.0f && hi == 3.0f);
    /* r = 0.1 * 4 = 0.4 -> 1 + 0.4 (2 - 1); r = 0.9 * 4 = 3.6 -> 4.6 */
    CHECK(cnp_percentiles(v, n, 10.0, 90.0, NULL, &lo, &hi) == CNP_OK);
    CHECK_NEAR(lo, 1.4, 1e-6);
    CHECK_NEAR(hi, 4.6, 1e-6);
    CHECK(cnp_percentiles(v, n, 2.0, 98.0, scratch, &lo, &hi) == CNP_OK);
    CHECK_NEAR(lo, 1.08, 1e-6);
    CHECK_NEAR(hi, 4.92, 1e-6);
    CHECK(v[0] == 5.0f && v[2] == 1.0f && isnan(v[1]));   /* input untouched */

    const float one[] = { NAN, 7.5f };
    CHECK(cnp_percentiles(one, 2, 2.0, 98.0, NULL, &lo, &hi) == CNP_OK);
    CHECK(lo == 7.5f && hi == 7.5f);
}

static void test_percentiles_errors(void)
{
    const float nan3[] = { NAN, NAN, INFINITY };
    const float ok[] = { 1.0f, 2.0f };
    float lo = 42.0f, hi = 43.0f;

    CHECK(cnp_percentiles(nan3, 3, 2.0, 98.0, NULL, &lo, &hi) == CNP_E_ARG);
    CHECK(lo == 42.0f && hi == 43.0f);
    CHECK(cnp_percentiles(ok, 0, 2.0, 98.0, NULL, &lo, &hi) == CNP_E_ARG);
    CHECK(cnp_percentiles(NULL, 2, 2.0, 98.0, NULL, &lo, &hi) == CNP_E_ARG);
    CHECK(cnp_percentiles(ok, 2, 98.0, 2.0, NULL, &lo, &hi) == CNP_E_ARG);
    CHECK(cnp_percentiles(ok, 2, -1.0, 98.0, NULL, &lo, &hi) == CNP_E_ARG);
    CHECK(cnp_percentiles(ok, 2, 2.0, 100.5, NULL, &lo, &hi) == CNP_E_ARG);
    CHECK(cnp_percentiles(ok, 2, NAN, 98.0, NULL, &lo, &hi) == CNP_E_ARG);
    CHECK(cnp_percentiles(ok, 2, 2.0, 98.0, NULL, NULL, &hi) == CNP_E_ARG);
}

static int cmp_f(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static float ref_percentile(const float *sorted, size_t m, double p)
{
    const double r = p / 100.0 * (double)(m - 1);
    const size_t k = (size_t)floor(r);
    const double f = r - (double)k;
    if (k + 1 >= m || f == 0.0)
        return sorted[k];
    return (float)((double)sorted[k] + f * ((double)sorted[k + 1] - (double)sorted[k]));
}

/* Against a full sort, on inputs with many ties, sorted and reversed runs
 * (the classic quickselect worst cases) and NaNs sprinkled in. */
static void test_percentiles_vs_sort(void)
{
    enum { N = 5003 };
    static float v[N], sorted[N];
    const double ps[][2] = { { 0, 100 }, { 2, 98 }, { 50, 50 }, { 0.01, 99.99 },
                             { 33.3, 66.6 }, { 100, 100 }, { 0, 0 } };
    uint32_t seed = 12345u;

    for (int kind = 0; kind < 4; kind++) {
        size_t m = 0;
        for (size_t i = 0; i < N; i++) {
            seed = seed * 1664525u + 1013904223u;
            float x;
            switch (kind) {
            case 0:  x = (float)(seed >> 8) / 65536.0f; break;    /* distinct-ish */
            case 1:  x = (float)((seed >> 16) % 7); break;         /* heavy ties  */
            case 2:  x = (float)i; break;                          /* ascending   */
            default: x = (float)(N - i) * 0.5f; break;             /* descending  */
            }
            if (i % 97 == 13)
                x = NAN;
            v[i] = x;
            if (!isnan(x))
                sorted[m++] = x;
        }
        qsort(sorted, m, sizeof *sorted, cmp_f);
        for (size_t j = 0; j < sizeof ps / sizeof ps[0]; j++) {
            float lo, hi;
            CHECK(cnp_percentiles(v, N, ps[j][0], ps[j][1], NULL, &lo, &hi) == CNP_OK);
            CHECK(lo == ref_percentile(sorted, m, ps[j][0]));
            CHECK(hi == ref_percentile(sorted, m, ps[j][1]));
        }
    }
}

/* ---- stretch ----------------------------------------------------------- */

static void test_stretch(void)
{
    CHECK(cnp_stretch_u8(-5.0f, 0.0f, 10.0f) == 0);
    CHECK(cnp_stretch_u8(0.0f, 0.0f, 10.0f) == 0);
    CHECK(cnp_stretch_u8(5.0f, 0.0f, 10.0f) == 128);       /* 127.5 rounds up */
    CHECK(cnp_stretch_u8(1.0f, 0.0f, 10.0f) == 26);        /* 25.5 rounds up  */
    CHECK(cnp_stretch_u8(10.0f, 0.0f, 10.0f) == 255);
    CHECK(cnp_stretch_u8(1e30f, 0.0f, 10.0f) == 255);
    CHECK(cnp_stretch_u8(NAN, 0.0f, 10.0f) == 0);
    CHECK(cnp_stretch_u8(INFINITY, 0.0f, 10.0f) == 255);
    CHECK(cnp_stretch_u8(-INFINITY, 0.0f, 10.0f) == 0);
    CHECK(cnp_stretch_u8(0.0f, -3e38f, 3e38f) == 128);     /* no float overflow */
    /* degenerate range: step at lo */
    CHECK(cnp_stretch_u8(1.0f, 2.0f, 2.0f) == 0);
    CHECK(cnp_stretch_u8(2.0f, 2.0f, 2.0f) == 128);
    CHECK(cnp_stretch_u8(3.0f, 2.0f, 2.0f) == 255);
    /* monotone over the range */
    uint8_t prev = 0;
    for (int i = 0; i <= 1000; i++) {
        const uint8_t q = cnp_stretch_u8((float)i * 0.01f, 0.0f, 10.0f);
        CHECK(q >= prev);
        prev = q;
    }
    CHECK(prev == 255);
}

/* The row stretch, written plainly: one multiplication a value, rounded half up. */
static uint8_t stretch_row_reference(float x, float lo, float hi)
{
    if (isnan(x) || x <= lo)
        return 0;
    if (x >= hi)
        return 255;
    const double f = floor(((double)x - lo) * (255.0 / ((double)hi - (double)lo)) + 0.5);
    return f >= 255.0 ? 255 : (uint8_t)f;
}

static void test_stretch_row(void)
{
    const float ranges[][2] = { { 0.0f, 10.0f }, { -0.2f, 0.9f }, { 100.0f, 4000.0f },
                                { -3e38f, 3e38f }, { 1.0f, 1.0000001f } };
    enum { N = 4096 };
    static float v[N];
    static uint8_t out[3 * N];
    uint32_t seed = 7;
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        const float lo = ranges[r][0], hi = ranges[r][1];
        const float special[] = { NAN, INFINITY, -INFINITY, lo, hi, nextafterf(lo, hi),
                                  nextafterf(hi, lo), nextafterf(lo, -INFINITY),
                                  nextafterf(hi, INFINITY), -FLT_MAX, FLT_MAX, 0.0f };
        const size_t ns = sizeof special / sizeof special[0];
        for (size_t i = 0; i < N; i++) {
            seed = seed * 1664525u + 1013904223u;
            const double t = (double)(seed >> 8) / 16777216.0 * 1.2 - 0.1;
            v[i] = i < ns ? special[i] : (float)(lo + t * ((double)hi - (double)lo));
        }
        memset(out, 0xAB, sizeof out);
        cnp_stretch_row_u8(v, N, lo, hi, out + 1, 3);
        int same = 1, guards = 1;
        for (size_t i = 0; i < N; i++) {
            same &= out[3 * i + 1] == stretch_row_reference(v[i], lo, hi);
            guards &= out[3 * i] == 0xAB && out[3 * i + 2] == 0xAB;
        }
        CHECK(same);
        CHECK(guards);
    }
}

/* ---- lines ------------------------------------------------------------- */

/* Checks that exactly the n listed pixels are painted. */
static int exactly(const canvas *cv, const int32_t (*xy)[2], int n)
{
    int ok = count_painted(cv) == n;
    for (int i = 0; i < n; i++)
        ok &= painted(cv, xy[i][0], xy[i][1]);
    return ok && guards_intact(cv);
}

static void test_line_axis_aligned(void)
{
    canvas cv = canvas_new(10, 8);

    /* pixel centres (1.5,2.5)..(6.5,2.5): row 2, columns 1..6 */
    cnp_draw_line(&cv.img, 1.5, 2.5, 6.5, 2.5, WHITE, 1);
    const int32_t h[][2] = { {1,2}, {2,2}, {3,2}, {4,2}, {5,2}, {6,2} };
    CHECK(exactly(&cv, h, 6));
    const uint8_t *p = px_at(&cv, 3, 2);
    CHECK(p[0] == 255 && p[1] == 255 && p[2] == 255);

    /* on the boundary x = 3.0 between columns 2 and 3: column 3 is painted */
    canvas_clear(&cv);
    cnp_draw_line(&cv.img, 3.0, 1.5, 3.0, 5.5, RED, 1);
    const int32_t v[][2] = { {3,1}, {3,2}, {3,3}, {3,4}, {3,5} };
    CHECK(exactly(&cv, v, 5));
    p = px_at(&cv, 3, 1);
    CHECK(p[0] == 255 && p[1] == 0 && p[2] == 0);

    /* on the boundary y = 4.0: row 4; corner-to-corner includes both ends */
    canvas_clear(&cv);
    cnp_draw_line(&cv.img, 2.0, 4.0, 5.0, 4.0, WHITE, 1);
    const int32_t hb[][2] = { {2,4}, {3,4}, {4,4}, {5,4} };
    CHECK(exactly(&cv, hb, 4));

    /* degenerate segment: the single pixel holding the point */
    canvas_clear(&cv);
    cnp_draw_line(&cv.img, 7.99, 0.0, 7.99, 0.0, WHITE, 1);
    const int32_t pt[][2] = { {7,0} };
    CHECK(exactly(&cv, pt, 1));
    canvas_free(&cv);
}

static void test_line_diagonal(void)
{
    canvas cv = canvas_new(10, 8);

    cnp_draw_line(&cv.img, 0.5, 0.5, 4.5, 4.5, WHITE, 1);
    const int32_t d[][2] = { {0,0}, {1,1}, {2,2}, {3,3}, {4,4} };
    CHECK(exactly(&cv, d, 5));

    /* reversed direction paints the same pixels */
    canvas_clear(&cv);
    cnp_draw_line(&cv.img, 4.5, 4.5, 0.5, 0.5, WHITE, 1);
    CHECK(exactly(&cv, d, 5));

    /* shallow slope 1/4 through pixel centres: floor(0.5 + i / 4) */
    canvas_clear(&cv);
    cnp_draw_line(&cv.img, 0.5, 0.5, 8.5, 2.5, WHITE, 1);
    const int32_t s[][2] = { {0,0}, {1,0}, {2,1}, {3,1}, {4,1}, {5,1}, {6,2}, {7,2}, {8,2} };
    CHECK(exactly(&cv, s, 9));

    /* steep: y-major, one pixel per row: floor(0.5 + (row + 1) / 4) */
    canvas_clear(&cv);
    cnp_draw_line(&cv.img, 2.5, 7.5, 0.5, -0.5, WHITE, 1);
    const int32_t st[][2] = { {0,0}, {1,1}, {1,2}, {1,3}, {1,4}, {2,5}, {2,6}, {2,7} };
    CHECK(exactly(&cv, st, 8));
    canvas_free(&cv);
}

static void test_line_width(void)
{
    canvas cv = canvas_new(10, 8);

    cnp_draw_line(&cv.img, 2.5, 3.5, 5.5, 3.5, WHITE, 3);     /* rows 2..4, cols 1..6 */
    CHECK(count_painted(&cv) == 18);
    for (int32_t y = 2; y <= 4; y++)
        for (int32_t x = 1; x <= 6; x++)
            CHECK(painted(&cv, x, y));

    canvas_clear(&cv);
    cnp_draw_line(&cv.img, 2.5, 3.5, 5.5, 3.5, WHITE, 2);     /* rows 3..4, cols 2..6 */
    CHECK(count_painted(&cv) == 10);
    CHECK(painted(&cv, 2, 3) && painted(&cv, 6, 4) && !painted(&cv, 1, 3));

    canvas_clear(&cv);
    cnp_draw_line(&cv.img, 2.5, 3.5, 5.5, 3.5, WHITE, 0);     /* < 1 -> 1 */
    CHECK(count_painted(&cv) == 4);

    /* a huge brush is clamped and clipped, never written out of bounds */
    canvas_clear(&cv);
    cnp_draw_line(&cv.img, 0.5, 0.5, 9.5, 7.5, WHITE, 1 << 30);
    CHECK(count_painted(&cv) == 80);
    CHECK(guards_intact(&cv));
    canvas_free(&cv);
}

static void test_line_clipping(void)
{
    canvas cv = canvas_new(10, 8);

    /* entirely outside, in every direction, including absurd magnitudes */
    cnp_draw_line(&cv.img, -5.0, -5.0, -1.0, -3.0, WHITE, 1);
    cnp_draw_line(&cv.img, 10.0, 0.5, 30.0, 7.5, WHITE, 1);
    cnp_draw_line(&cv.img, 0.5, 8.0, 9.5, 8.0, WHITE, 1);
    cnp_draw_line(&cv.img, -1e300, -1e300, -1e300, 1e300, WHITE, 5);
    cnp_draw_line(&cv.img, -1.7e308, 1.7e308, 1.7e308, 1.7e308, WHITE, 1);
    CHECK(count_painted(&cv) == 0);
    CHECK(guards_intact(&cv));

    /* non-finite coordinates are ignored */
    cnp_draw_line(&cv.img, NAN, 1.5, 5.5, 1.5, WHITE, 1);
    cnp_draw_line(&cv.img, 0.5, 1.5, 5.5, NAN, WHITE, 1);
    cnp_draw_line(&cv.img, -INFINITY, 1.5, INFINITY, 1.5, WHITE, 1);
    CHECK(count_painted(&cv) == 0);

    /* crossing far outside: exactly the visible part of the row */
    cnp_draw_line(&cv.img, -1e9, 2.5, 1e9, 2.5, WHITE, 1);
    CHECK(count_painted(&cv) == 10);
    for (int32_t x = 0; x < 10; x++)
        CHECK(painted(&cv, x, 2));

    /* crossing at both magnitude extremes still finds the row */
    canvas_clear(&cv);
    cnp_draw_line(&cv.img, -1.7e308, 5.5, 1.7e308, 5.5, WHITE, 1);
    CHECK(count_painted(&cv) == 10);
    for (int32_t x = 0; x < 10; x++)
        CHECK(painted(&cv, x, 5));

    /* a long diagonal from far away: the same pixels as the short one */
    canvas_clear(&cv);
    cnp_draw_line(&cv.img, -1e6 + 0.5, -1e6 + 0.5, 1e6 + 0.5, 1e6 + 0.5, WHITE, 1);
    CHECK(count_painted(&cv) == 8);
    for (int32_t i = 0; i < 8; i++)
        CHECK(painted(&cv, i, i));

    /* wide brush whose centres run just outside still paints the edge row */
    canvas_clear(&cv);
    cnp_draw_line(&cv.img, 0.5, -0.5, 9.5, -0.5, WHITE, 3);
    CHECK(count_painted(&cv) == 10);
    for (int32_t x = 0; x < 10; x++)
        CHECK(painted(&cv, x, 0));
    CHECK(guards_intact(&cv));

    /* invalid views are ignored */
    cnp_rgb8 bad = cv.img;
    bad.stride = 3 * bad.width - 1;
    cnp_draw_line(&bad, 0.5, 0.5, 5.5, 5.5, WHITE, 1);
    cnp_draw_line(NULL, 0.5, 0.5, 5.5, 5.5, WHITE, 1);
    CHECK(count_painted(&cv) == 10);
    canvas_free(&cv);
}

static void test_polyline_closed_square(void)
{
    canvas cv = canvas_new(10, 8);
    const double sq[] = { 1.5, 1.5,  5.5, 1.5,  5.5, 5.5,  1.5, 5.5,  1.5, 1.5 };

    cnp_draw_polyline(&cv.img, sq, 5, WHITE, 1);
    /* the ring of the 5x5 block of columns 1..5, rows 1..5: 16 pixels */
    CHECK(count_painted(&cv) == 16);
    for (int32_t y = 0; y < 8; y++)
        for (int32_t x = 0; x < 10; x++) {
            const int on_ring = x >= 1 && x <= 5 && y >= 1 && y <= 5 &&
                                (x == 1 || x == 5 || y == 1 || y == 5);
            CHECK(painted(&cv, x, y) == on_ring);
        }
    CHECK(guards_intact(&cv));

    /* without the closing point the left side is missing (rows 2..4) */
    canvas_clear(&cv);
    cnp_draw_polyline(&cv.img, sq, 4, WHITE, 1);
    CHECK(count_painted(&cv) == 13);

    /* a NaN vertex breaks the line into two parts */
    canvas_clear(&cv);
    const double parts[] = { 0.5, 0.5,  3.5, 0.5,  NAN, NAN,  0.5, 7.5,  3.5, 7.5 };
    cnp_draw_polyline(&cv.img, parts, 5, WHITE, 1);
    CHECK(count_painted(&cv) == 8);
    CHECK(painted(&cv, 0, 0) && painted(&cv, 3, 7) && !painted(&cv, 0, 3));

    /* one point, and nothing */
    canvas_clear(&cv);
    cnp_draw_polyline(&cv.img, sq, 1, WHITE, 1);
    cnp_draw_polyline(&cv.img, NULL, 3, WHITE, 1);
    cnp_draw_polyline(&cv.img, sq, 0, WHITE, 1);
    CHECK(count_painted(&cv) == 1 && painted(&cv, 1, 1));
    canvas_free(&cv);
}

static void test_rect_fill(void)
{
    canvas cv = canvas_new(10, 8);

    cnp_draw_rect_fill(&cv.img, 2, 3, 4, 2, RED);
    CHECK(count_painted(&cv) == 8);
    CHECK(painted(&cv, 2, 3) && painted(&cv, 5, 4) && !painted(&cv, 6, 4) && !painted(&cv, 2, 5));

    canvas_clear(&cv);
    cnp_draw_rect_fill(&cv.img, -3, -3, 5, 5, RED);              /* clipped: 2x2 */
    cnp_draw_rect_fill(&cv.img, 8, 6, INT32_MAX, INT32_MAX, RED);  /* clipped: 2x2 */
    cnp_draw_rect_fill(&cv.img, 4, 4, 0, 3, RED);
    cnp_draw_rect_fill(&cv.img, 4, 4, 3, -1, RED);
    cnp_draw_rect_fill(&cv.img, INT32_MIN, INT32_MIN, INT32_MAX, INT32_MAX, RED);
    CHECK(count_painted(&cv) == 8);
    CHECK(guards_intact(&cv));
    canvas_free(&cv);
}

/* ---- mask overlay ------------------------------------------------------ */

static void test_mask_overlay(void)
{
    enum { W = 9, H = 7, MS = W + 3 };
    canvas cv = canvas_new(W, H);
    uint8_t mask[MS * H];

    memset(mask, 0xEE, sizeof mask);                 /* padding: must be ignored */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            mask[y * MS + x] = (uint8_t)(x >= 2 ? 1 + x : 0);

    /* hatch: period 4, width 1, opaque */
    cnp_draw_mask_overlay(&cv.img, mask, MS, RED, 1.0, 4, 1);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const int want = x >= 2 && (x + y) % 4 < 1;
            const uint8_t *p = px_at(&cv, x, y);
            CHECK(painted(&cv, x, y) == want);
            if (want)
                CHECK(p[0] == 255 && p[1] == 0 && p[2] == 0);
        }
    CHECK(guards_intact(&cv));

    /* hatch width 2: two of every four diagonals */
    canvas_clear(&cv);
    cnp_draw_mask_overlay(&cv.img, mask, MS, WHITE, 1.0, 4, 2);
    int n = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            CHECK(painted(&cv, x, y) == (x >= 2 && (x + y) % 4 < 2));
            n += painted(&cv, x, y);
        }
    CHECK(n > 0);

    /* solid blend at 50 %: a = 128, (255 * 128 + 0 + 127) / 255 = 128 */
    canvas_clear(&cv);
    cnp_draw_rect_fill(&cv.img, 0, 0, W, H, (cnp_color){ 0, 0, 200 });
    cnp_draw_mask_overlay(&cv.img, mask, MS, RED, 0.5, 0, 0);
    const uint8_t *p = px_at(&cv, 4, 3), *q = px_at(&cv, 1, 3);
    CHECK(p[0] == 128 && p[1] == 0 && p[2] == (200 * 127 + 127) / 255);
    CHECK(q[0] == 0 && q[1] == 0 && q[2] == 200);

    /* alpha 0 / NaN and hatch width 0 leave the image alone */
    cnp_draw_mask_overlay(&cv.img, mask, MS, WHITE, 0.0, 0, 0);
    cnp_draw_mask_overlay(&cv.img, mask, MS, WHITE, NAN, 0, 0);
    cnp_draw_mask_overlay(&cv.img, mask, MS, WHITE, 1.0, 4, 0);
    cnp_draw_mask_overlay(&cv.img, mask, W - 1, WHITE, 1.0, 0, 0);   /* bad stride */
    CHECK(p[0] == 128 && p[1] == 0);
    CHECK(guards_intact(&cv));
    canvas_free(&cv);
}

/* ---- text -------------------------------------------------------------- */

static void test_text_metrics(void)
{
    CHECK(cnp_text_width("", 1) == 0);
    CHECK(cnp_text_width(NULL, 1) == 0);
    CHECK(cnp_text_width("A", 1) == 5);
    CHECK(cnp_text_width("AB", 1) == 11);
    CHECK(cnp_text_width("AB", 2) == 22);
    CHECK(cnp_text_width("AB", 0) == 11);                 /* scale < 1 -> 1 */
    CHECK(cnp_text_width("12.5\xC2\xB0", 1) == 5 * 6 - 1);  /* degree is one glyph */
    CHECK(cnp_text_width("\xC3\xA9t\xC3\xA9", 1) == 17);  /* "été": 3 glyphs */
    CHECK(cnp_text_width("\xE2\x82\xAC", 1) == 5);        /* euro sign: one box */
    CHECK(cnp_text_width("ABCDEFGHIJ", INT32_MAX) == INT32_MAX);
    CHECK(cnp_text_height(1) == 8);
    CHECK(cnp_text_height(3) == 24);
    CHECK(cnp_text_height(0) == 8);
    CHECK(cnp_text_height(INT32_MAX) == INT32_MAX);
    for (int s = 1; s <= 4; s++)
        CHECK(cnp_text_width("x", s) + s == 6 * s);       /* advance = width + gap */
}

/* Painted pixels of one glyph string all lie inside its text box. */
static int inside_box(const canvas *cv, int32_t x0, int32_t y0, int32_t w, int32_t h)
{
    for (int32_t y = 0; y < cv->img.height; y++)
        for (int32_t x = 0; x < cv->img.width; x++)
            if (painted(cv, x, y) && (x < x0 || x >= x0 + w || y < y0 || y >= y0 + h))
                return 0;
    return 1;
}

static void test_text_eight(void)
{
    canvas cv = canvas_new(24, 24);
    const int32_t x0 = 3, y0 = 2, s = 2;
    const int32_t w = cnp_text_width("8", s), h = cnp_text_height(s);

    cnp_draw_text(&cv.img, x0, y0, "8", WHITE, s);
    CHECK(w == 10 && h == 16);
    CHECK(count_painted(&cv) == 17 * s * s);  /* 17 font pixels in "8" */
    CHECK(inside_box(&cv, x0, y0, w, h));
    /* top bar ".###." and the left side "#...#": font pixel (1,0), (0,1) */
    CHECK(painted(&cv, x0 + 1 * s, y0) && painted(&cv, x0 + 2 * s - 1, y0 + s - 1));
    CHECK(!painted(&cv, x0, y0));
    CHECK(painted(&cv, x0, y0 + s));
    /* the 8 has two enclosed counters: font pixel (2,1) is empty */
    CHECK(!painted(&cv, x0 + 2 * s, y0 + s));
    CHECK(guards_intact(&cv));
    canvas_free(&cv);
}

static void test_text_all_glyphs(void)
{
    canvas cv = canvas_new(16, 16);
    char s[2] = { 0, 0 };
    int descenders = 0;

    for (int ch = 33; ch <= 126; ch++) {
        canvas_clear(&cv);
        s[0] = (char)ch;
        cnp_draw_text(&cv.img, 4, 3, s, WHITE, 1);
        CHECK(count_painted(&cv) > 0);
        CHECK(inside_box(&cv, 4, 3, cnp_text_width(s, 1), cnp_text_height(1)));
        descenders += painted(&cv, 4, 10) | painted(&cv, 5, 10) | painted(&cv, 6, 10) |
                      painted(&cv, 7, 10) | painted(&cv, 8, 10);
    }
    CHECK(descenders == 7);                         /* , ; g j p q y */

    canvas_clear(&cv);
    cnp_draw_text(&cv.img, 4, 3, " ", WHITE, 3);
    CHECK(count_painted(&cv) == 0);

    /* unknown characters draw the 5x7 box outline: 20 pixels */
    cnp_draw_text(&cv.img, 0, 0, "\x01", WHITE, 1);
    CHECK(count_painted(&cv) == 20);
    CHECK(painted(&cv, 0, 0) && painted(&cv, 4, 6) && !painted(&cv, 2, 3));
    canvas_clear(&cv);
    cnp_draw_text(&cv.img, 0, 0, "\xE2\x82\xAC", WHITE, 1);
    CHECK(count_painted(&cv) == 20);
    canvas_clear(&cv);
    cnp_draw_text(&cv.img, 0, 0, "\xC2\xB0", WHITE, 1);
    CHECK(count_painted(&cv) == 8);                 /* degree ring, not a box */
    CHECK(painted(&cv, 1, 0) && !painted(&cv, 1, 1));
    canvas_free(&cv);
}

static void test_text_clipping(void)
{
    canvas cv = canvas_new(16, 10);
    const char *t = "Loss 12.5% (2023-06) [ok] \xC2\xB0 #=+_/:;,'\"";

    cnp_draw_text(&cv.img, -7, -3, t, WHITE, 1);
    cnp_draw_text(&cv.img, 12, 8, t, WHITE, 2);
    cnp_draw_text(&cv.img, INT32_MIN, INT32_MIN, t, WHITE, INT32_MAX);
    cnp_draw_text(&cv.img, INT32_MAX, INT32_MAX, t, WHITE, INT32_MAX);
    cnp_draw_text(&cv.img, -3, -3, "E", WHITE, INT32_MAX);      /* fills the view */
    cnp_draw_text(&cv.img, 0, 0, NULL, WHITE, 1);
    CHECK(guards_intact(&cv));
    CHECK(count_painted(&cv) == 16 * 10);
    canvas_free(&cv);
}

/* Scale bars: a round length (1, 2, 5 x 10^k; 2.5 x 10^k only where none of
 * those fits) of 15-35 % of the picture, nearest to 25 %. */
static void test_scale_bar_length(void)
{
    CHECK(cnp_scale_bar_metres(4000.0) == 1000.0);    /* 25 % exactly        */
    CHECK(cnp_scale_bar_metres(5120.0) == 1000.0);    /* 19.5 %              */
    CHECK(cnp_scale_bar_metres(2000.0) == 500.0);
    CHECK(cnp_scale_bar_metres(14000.0) == 2500.0);   /* 1-2-5 has no fit    */
    for (double w = 1.0; w < 1e7; w *= 1.37) {
        const double b = cnp_scale_bar_metres(w), f = b / w;
        CHECK(f >= 0.15 && f <= 0.35);
        const double m = b / pow(10.0, floor(log10(b)));
        CHECK(fabs(m - 1) < 1e-9 || fabs(m - 2) < 1e-9 || fabs(m - 5) < 1e-9 ||
              fabs(m - 2.5) < 1e-9);
    }
    char buf[32];
    cnp_format_metres(buf, sizeof buf, 500.0);
    CHECK(strcmp(buf, "500 m") == 0);
    cnp_format_metres(buf, sizeof buf, 2500.0);
    CHECK(strcmp(buf, "2.5 km") == 0);
}

/* The bar: end ticks at both ends, the label right of it, nothing outside
 * the box cnp_scale_bar_width() announces. */
static void test_scale_bar_draw(void)
{
    canvas cv = canvas_new(200, 40);
    const int32_t w = cnp_scale_bar_width(100, "1 km", 2);
    CHECK(w == 100 + 12 + cnp_text_width("1 km", 2));
    cnp_draw_scale_bar(&cv.img, 10, 5, 100, "1 km", WHITE, WHITE, 2);
    CHECK(guards_intact(&cv));
    for (int32_t y = 0; y < 40; y++)
        for (int32_t x = 0; x < 200; x++) {
            const uint8_t *p = cv.img.px + y * cv.img.stride + 3 * x;
            if (p[0])
                CHECK(x >= 10 && x < 10 + w && y >= 5 && y < 5 + cnp_scale_bar_height(2));
        }
    /* Both ticks span the full height; the bar runs between them. */
    CHECK(cv.img.px[(5 + 0) * cv.img.stride + 3 * 10] == 255);
    CHECK(cv.img.px[(5 + 0) * cv.img.stride + 3 * 109] == 255);
    CHECK(cv.img.px[(5 + 6) * cv.img.stride + 3 * 60] == 255);
    CHECK(cv.img.px[(5 + 0) * cv.img.stride + 3 * 60] == 0);
    canvas_free(&cv);
}

/* The arrow points where it is told: straight up, its tip above its centre;
 * turned 90 degrees, its tip to the right. */
static void test_north_arrow(void)
{
    for (int k = 0; k < 2; k++) {
        canvas cv = canvas_new(80, 80);
        cnp_draw_north_arrow(&cv.img, 40.0, 40.0, k ? 90.0 : 0.0, WHITE, 1);
        CHECK(guards_intact(&cv));
        double sx = 0, sy = 0, n = 0;
        for (int32_t y = 0; y < 80; y++)
            for (int32_t x = 0; x < 80; x++)
                if (cv.img.px[y * cv.img.stride + 3 * x]) {
                    sx += x + 0.5;
                    sy += y + 0.5;
                    n++;
                }
        CHECK(n > 20);
        if (k == 0) {
            CHECK(fabs(sx / n - 40.0) < 1.0 && sy / n < 40.0);
        } else {
            CHECK(fabs(sy / n - 40.0) < 1.0 && sx / n > 40.0);
        }
        canvas_free(&cv);
    }
}

CNP_TEST_MAIN("draw",
    TEST_CASE(test_percentiles_known),
    TEST_CASE(test_percentiles_errors),
    TEST_CASE(test_percentiles_vs_sort),
    TEST_CASE(test_stretch),
    TEST_CASE(test_stretch_row),
    TEST_CASE(test_line_axis_aligned),
    TEST_CASE(test_line_diagonal),
    TEST_CASE(test_line_width),
    TEST_CASE(test_line_clipping),
    TEST_CASE(test_polyline_closed_square),
    TEST_CASE(test_rect_fill),
    TEST_CASE(test_mask_overlay),
    TEST_CASE(test_text_metrics),
    TEST_CASE(test_text_eight),
    TEST_CASE(test_text_all_glyphs),
    TEST_CASE(test_text_clipping),
    TEST_CASE(test_scale_bar_length),
    TEST_CASE(test_scale_bar_draw),
    TEST_CASE(test_north_arrow))
