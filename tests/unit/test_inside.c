/* tests/unit/test_inside.c - a point inside every alert (kernels/cnp_inside).
 *
 * The shapes where a centroid falls outside (a ring, an L, a U, a C, two
 * diagonal blobs) and a random sweep: the point must be the centre of one of
 * the shape's own pixels, the same whatever the runs' origin, and well inside
 * where the shape leaves room.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cnp_inside.h"
#include "cnp_test.h"

/* Runs (scan order, maximal) of a mask drawn with '#', at origin (ox, oy). */
static size_t runs_from(const char *const *rows, int h, int32_t ox, int32_t oy, cnp_run *out)
{
    size_t n = 0;
    for (int y = 0; y < h; y++) {
        const char *r = rows[y];
        for (int x = 0; r[x];) {
            if (r[x] != '#') {
                x++;
                continue;
            }
            const int x0 = x;
            while (r[x] == '#')
                x++;
            out[n++] = (cnp_run){ oy + y, ox + x0, ox + x };
        }
    }
    return n;
}

static int is_set(const char *const *rows, int h, int32_t x, int32_t y)
{
    return y >= 0 && y < h && x >= 0 && x < (int32_t)strlen(rows[y]) && rows[y][x] == '#';
}

/* Pixels from (x, y) to the nearest pixel outside the shape, along the four
 * axes (the smallest of the four): 1 = on the edge. */
static int depth(const char *const *rows, int h, int32_t x, int32_t y)
{
    int d = 0;
    while (is_set(rows, h, x - d, y) && is_set(rows, h, x + d, y) && is_set(rows, h, x, y - d) &&
           is_set(rows, h, x, y + d))
        d++;
    return d;
}

/* The point of `rows`, checked to be a pixel of the shape at two origins;
 * its depth returned. */
static int check_shape(const char *const *rows, int h, int32_t *px, int32_t *py)
{
    cnp_run run[256];
    const size_t n = runs_from(rows, h, 0, 0, run);
    int32_t x = -1, y = -1, x2 = -1, y2 = -1;
    CHECK(cnp_inside_point(run, n, &x, &y) == CNP_OK);
    CHECK(is_set(rows, h, x, y));
    /* Far from the origin (scene coordinates of a large raster): same pixel. */
    const size_t n2 = runs_from(rows, h, 70000, 50000, run);
    CHECK(n2 == n);
    CHECK(cnp_inside_point(run, n2, &x2, &y2) == CNP_OK);
    CHECK(x2 - 70000 == x && y2 - 50000 == y);
    *px = x;
    *py = y;
    return depth(rows, h, x, y);
}

static void test_ring(void)
{
    /* 3-pixel walls round a 6 x 6 hole: the centroid is in the hole. */
    static const char *const r[] = {
        "############", "############", "############", "###......###", "###......###",
        "###......###", "###......###", "###......###", "###......###", "############",
        "############", "############",
    };
    int32_t x, y;
    CHECK(check_shape(r, 12, &x, &y) == 2);   /* the middle of a 3-pixel wall */
}

static void test_l(void)
{
    static const char *const r[] = {
        "####........", "####........", "####........", "####........", "####........",
        "####........", "####........", "####........", "############", "############",
        "############", "############",
    };
    int32_t x, y;
    CHECK(check_shape(r, 12, &x, &y) >= 2);
}

static void test_u(void)
{
    static const char *const r[] = {
        "###......###", "###......###", "###......###", "###......###", "###......###",
        "###......###", "###......###", "###......###", "############", "############",
        "############",
    };
    int32_t x, y;
    CHECK(check_shape(r, 11, &x, &y) == 2);
}

static void test_c_and_thin(void)
{
    static const char *const c[] = {
        "##########", "#.........", "#.........", "#.........", "#.........", "#.........",
        "##########",
    };
    int32_t x, y;
    CHECK(check_shape(c, 7, &x, &y) == 1);   /* one pixel wide: any pixel is an edge */
    static const char *const one[] = { "#" };
    CHECK(check_shape(one, 1, &x, &y) == 1);
    CHECK(x == 0 && y == 0);
    /* Two blobs touching at a corner (one 8-connected alert, two polygons). */
    static const char *const diag[] = {
        "####....", "####....", "####....", "####....", "....####", "....####", "....####",
        "....####",
    };
    CHECK(check_shape(diag, 8, &x, &y) == 2);
}

static void test_solid_is_central(void)
{
    /* A solid square: the middle pixel (odd side) exactly. */
    static const char *const sq[] = { "#####", "#####", "#####", "#####", "#####" };
    int32_t x, y;
    CHECK(check_shape(sq, 5, &x, &y) == 3);
    CHECK(x == 2 && y == 2);
}

static void test_arguments(void)
{
    cnp_run r[2] = { { 0, 0, 3 }, { 0, 5, 4 } };
    int32_t x, y;
    CHECK(cnp_inside_point(NULL, 1, &x, &y) == CNP_E_ARG);
    CHECK(cnp_inside_point(r, 0, &x, &y) == CNP_E_ARG);
    CHECK(cnp_inside_point(r, 1, NULL, &y) == CNP_E_ARG);
    CHECK(cnp_inside_point(r, 2, &x, &y) == CNP_E_ARG);   /* empty run */
    cnp_run back[2] = { { 1, 0, 3 }, { 0, 0, 3 } };
    CHECK(cnp_inside_point(back, 2, &x, &y) == CNP_E_ARG); /* out of scan order */
}

/* Random blobs: always one of their own pixels. */
static void test_random(void)
{
    uint32_t s = 12345;
    for (int t = 0; t < 300; t++) {
        enum { W = 24, H = 20 };
        char buf[H][W + 1];
        const char *rows[H];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                s ^= s << 13; s ^= s >> 17; s ^= s << 5;
                buf[y][x] = (int)(s % 100) < 35 + (t % 50) ? '#' : '.';
            }
            buf[y][W] = '\0';
            rows[y] = buf[y];
        }
        cnp_run run[W * H];
        const size_t n = runs_from(rows, H, 0, 0, run);
        if (n == 0)
            continue;
        int32_t x, y;
        CHECK(cnp_inside_point(run, n, &x, &y) == CNP_OK);
        CHECK(is_set(rows, H, x, y));
    }
}

CNP_TEST_MAIN("inside", TEST_CASE(test_ring), TEST_CASE(test_l), TEST_CASE(test_u),
              TEST_CASE(test_c_and_thin), TEST_CASE(test_solid_is_central),
              TEST_CASE(test_arguments), TEST_CASE(test_random))
