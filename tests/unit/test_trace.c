/* tests/unit/test_trace.c - boundary tracing into rings (kernels/cnp_trace).
 *
 * check_rings() verifies every rule of cnp_trace.h against the pixel set itself:
 * pieces from an independent flood fill, every ring simple, closed, corners
 * only, starting at its top-left vertex, correctly oriented, ordered, and the
 * boundary edges of the bitmap covered exactly once, each with its piece on
 * the right and background on the left. Hand-made shapes then pin exact
 * counts and coordinates; random components cover the rest.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cnp_runs.h"
#include "cnp_test.h"
#include "cnp_trace.h"

/* ---- helpers --------------------------------------------------------- */

static uint32_t rng_state;

static uint32_t rng_next(void)      /* xorshift32: fixed seed, portable */
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* Runs of a picture ('#' = foreground) with its top-left pixel at (ox, oy). */
static void runs_from_rows(cnp_runs *r, const char *const *rows, int h, int32_t ox, int32_t oy)
{
    cnp_runs_init(r);
    for (int y = 0; y < h; y++) {
        const size_t w = strlen(rows[y]);
        uint8_t *m = malloc(w + 1);
        for (size_t x = 0; x < w; x++)
            m[x] = rows[y][x] == '#';
        CHECK(cnp_runs_append_row(r, m, (ptrdiff_t)w, oy + y, ox) == CNP_OK);
        free(m);
    }
}

/* The pixel set on a grid covering its bbox plus a 1-pixel border. */
typedef struct grid {
    int64_t ox, oy;        /* scene coords of cell (0, 0) */
    int w, h;
    int32_t *piece;        /* reference 4-connected piece, -1 = background */
    int npieces;
    long npix;
} grid;

static int32_t grid_at(const grid *g, int64_t sx, int64_t sy)
{
    const int64_t x = sx - g->ox, y = sy - g->oy;
    if (x < 0 || y < 0 || x >= g->w || y >= g->h)
        return -1;
    return g->piece[y * g->w + x];
}

static void grid_build(grid *g, const cnp_run *runs, size_t n)
{
    int64_t x0 = runs[0].x0, x1 = runs[0].x1;
    for (size_t i = 0; i < n; i++) {
        x0 = runs[i].x0 < x0 ? runs[i].x0 : x0;
        x1 = runs[i].x1 > x1 ? runs[i].x1 : x1;
    }
    g->ox = x0 - 1;
    g->oy = (int64_t)runs[0].y - 1;
    g->w = (int)(x1 - x0 + 2);
    g->h = (int)((int64_t)runs[n - 1].y - runs[0].y + 3);
    g->piece = malloc(sizeof *g->piece * (size_t)g->w * (size_t)g->h);
    for (int i = 0; i < g->w * g->h; i++)
        g->piece[i] = -1;
    g->npix = 0;
    for (size_t i = 0; i < n; i++)
        for (int64_t x = runs[i].x0; x < runs[i].x1; x++, g->npix++)
            g->piece[(runs[i].y - g->oy) * g->w + (x - g->ox)] = -2;

    /* Flood fill in scan order: pieces numbered by first pixel. */
    int *stack = malloc(sizeof *stack * (size_t)g->w * (size_t)g->h);
    g->npieces = 0;
    for (int s = 0; s < g->w * g->h; s++) {
        if (g->piece[s] != -2)
            continue;
        int top = 0;
        stack[top++] = s;
        g->piece[s] = g->npieces;
        while (top) {
            const int p = stack[--top];
            const int nb[4] = { p - 1, p + 1, p - g->w, p + g->w };
            for (int k = 0; k < 4; k++) {
                if (g->piece[nb[k]] == -2) {       /* border cells are never -2 */
                    g->piece[nb[k]] = g->npieces;
                    stack[top++] = nb[k];
                }
            }
        }
        g->npieces++;
    }
    free(stack);
}

static int cmp_xy(const void *a, const void *b)
{
    const int32_t *p = a, *q = b;
    if (p[1] != q[1])
        return p[1] < q[1] ? -1 : 1;
    if (p[0] != q[0])
        return p[0] < q[0] ? -1 : 1;
    return 0;
}

/* Twice the signed area of ring k (y down). */
static int64_t ring_area2(const cnp_rings *rg, size_t k)
{
    const int32_t *v = rg->xy + 2 * rg->ring[k].first;
    int64_t a = 0;
    for (size_t i = 0; i + 1 < rg->ring[k].count; i++)
        a += (int64_t)v[2 * i] * v[2 * i + 3] - (int64_t)v[2 * i + 2] * v[2 * i + 1];
    return a;
}

/* Trace runs and check every rule of cnp_trace.h; returns 0 when any check
 * failed so callers can stop early. */
static int check_rings(const cnp_run *runs, size_t n, const cnp_rings *rg)
{
    const int before = cnp_test_failures;
    grid g;
    grid_build(&g, runs, n);
    CHECK(rg->npieces == g.npieces);

    /* Unit-edge use counts: horizontal edge keyed by its left vertex,
     * vertical by its top vertex, both in grid coords (0..w, 0..h). */
    const size_t nv = (size_t)(g.w + 1) * (size_t)(g.h + 1);
    int *hcnt = calloc(nv, sizeof *hcnt), *vcnt = calloc(nv, sizeof *vcnt);
    int *shells = calloc((size_t)g.npieces + 1, sizeof *shells);
    int64_t area2 = 0;

    for (size_t k = 0; k < rg->n; k++) {
        const cnp_ring *r = &rg->ring[k];
        CHECK(r->count >= 5);
        CHECK(r->first + r->count <= rg->nvert);
        if (r->count < 5 || r->first + r->count > rg->nvert)
            break;
        CHECK(r->piece >= 0 && r->piece < g.npieces);
        if (r->piece < 0 || r->piece >= g.npieces)
            break;
        const int32_t *v = rg->xy + 2 * r->first;
        const size_t m = r->count - 1;              /* distinct vertices */
        CHECK(v[0] == v[2 * m] && v[1] == v[2 * m + 1]);

        /* Order: by piece, shell first, holes by top-left vertex. */
        if (k > 0) {
            const cnp_ring *p = &rg->ring[k - 1];
            CHECK(p->piece <= r->piece);
            if (p->piece == r->piece) {
                CHECK(r->is_hole);
                if (p->is_hole)
                    CHECK(cmp_xy(rg->xy + 2 * p->first, v) < 0);
            } else {
                CHECK(r->piece == p->piece + 1 && !r->is_hole);
            }
        } else {
            CHECK(r->piece == 0 && !r->is_hole);
        }
        shells[r->piece] += !r->is_hole;

        /* Starts at its top-most, then left-most vertex. */
        for (size_t i = 1; i < m; i++)
            CHECK(cmp_xy(v, v + 2 * i) < 0);

        /* Simple: no vertex repeated. */
        int32_t *sorted = malloc(sizeof *sorted * 2 * m);
        memcpy(sorted, v, sizeof *sorted * 2 * m);
        qsort(sorted, m, 2 * sizeof *sorted, cmp_xy);
        for (size_t i = 1; i < m; i++)
            CHECK(cmp_xy(sorted + 2 * (i - 1), sorted + 2 * i) != 0);
        free(sorted);

        /* Axis-parallel edges, corners only. */
        for (size_t i = 0; i < m; i++) {
            const int32_t *a = v + 2 * i, *b = v + 2 * (i + 1);
            const int32_t *c = v + 2 * ((i + 1) % m + 1);
            const int64_t dx1 = b[0] - a[0], dy1 = b[1] - a[1];
            const int64_t dx2 = c[0] - b[0], dy2 = c[1] - b[1];
            CHECK((dx1 == 0) != (dy1 == 0));
            CHECK(dx1 * dy2 - dy1 * dx2 != 0);     /* turn at b */
        }

        /* Orientation. */
        const int64_t a2 = ring_area2(rg, k);
        CHECK(r->is_hole ? a2 < 0 : a2 > 0);
        area2 += a2;

        /* Unit edges: piece on the right, background on the left. */
        for (size_t i = 0; i < m; i++) {
            int64_t x = v[2 * i], y = v[2 * i + 1];
            const int64_t ex = v[2 * i + 2], ey = v[2 * i + 3];
            const int sx = (ex > x) - (ex < x), sy = (ey > y) - (ey < y);
            while (x != ex || y != ey) {
                int64_t rx, ry, lx, ly, kx, ky;
                int *cnt;
                if (sx > 0)      { rx = x;     ry = y;     lx = x;     ly = y - 1; kx = x;     ky = y;     cnt = hcnt; }
                else if (sx < 0) { rx = x - 1; ry = y - 1; lx = x - 1; ly = y;     kx = x - 1; ky = y;     cnt = hcnt; }
                else if (sy > 0) { rx = x - 1; ry = y;     lx = x;     ly = y;     kx = x;     ky = y;     cnt = vcnt; }
                else             { rx = x;     ry = y - 1; lx = x - 1; ly = y - 1; kx = x;     ky = y - 1; cnt = vcnt; }
                CHECK(grid_at(&g, rx, ry) == r->piece);
                CHECK(grid_at(&g, lx, ly) == -1);
                kx -= g.ox;
                ky -= g.oy;
                CHECK(kx >= 0 && ky >= 0 && kx <= g.w && ky <= g.h);
                if (kx >= 0 && ky >= 0 && kx <= g.w && ky <= g.h)
                    cnt[ky * (g.w + 1) + kx]++;
                x += sx;
                y += sy;
            }
        }
    }
    for (int p = 0; p < g.npieces; p++)
        CHECK(shells[p] == 1);
    CHECK(area2 == 2 * g.npix);

    /* Every boundary unit edge of the bitmap exactly once, nothing else. */
    long bad = 0;
    for (int y = 0; y <= g.h; y++) {
        for (int x = 0; x <= g.w; x++) {
            const int64_t sx = x + g.ox, sy = y + g.oy;
            const int hb = (grid_at(&g, sx, sy - 1) >= 0) != (grid_at(&g, sx, sy) >= 0);
            const int vb = (grid_at(&g, sx - 1, sy) >= 0) != (grid_at(&g, sx, sy) >= 0);
            bad += hcnt[y * (g.w + 1) + x] != hb;
            bad += vcnt[y * (g.w + 1) + x] != vb;
        }
    }
    CHECK(bad == 0);

    free(shells);
    free(hcnt);
    free(vcnt);
    free(g.piece);
    return cnp_test_failures == before;
}

/* Trace and check a picture; leaves the result in *out. */
static void trace_rows(const char *const *rows, int h, int32_t ox, int32_t oy,
                       cnp_trace_ws *ws, cnp_rings *out)
{
    cnp_runs r;
    runs_from_rows(&r, rows, h, ox, oy);
    CHECK(cnp_trace_runs(r.run, r.n, ws, out) == CNP_OK);
    check_rings(r.run, r.n, out);
    cnp_runs_free(&r);
}

static int ring_is(const cnp_rings *rg, size_t k, const int32_t *xy, size_t count)
{
    return k < rg->n && rg->ring[k].count == count &&
           memcmp(rg->xy + 2 * rg->ring[k].first, xy, 2 * count * sizeof *xy) == 0;
}

static size_t count_holes(const cnp_rings *rg)
{
    size_t h = 0;
    for (size_t k = 0; k < rg->n; k++)
        h += rg->ring[k].is_hole != 0;
    return h;
}

/* ---- tests ----------------------------------------------------------- */

static void test_rings_lifecycle(void)
{
    cnp_rings rg;
    memset(&rg, 0x5a, sizeof rg);
    cnp_rings_init(&rg);
    CHECK(rg.xy == NULL && rg.ring == NULL && rg.n == 0 && rg.nvert == 0 && rg.npieces == 0);
    cnp_rings_free(NULL);
    cnp_rings_clear(NULL);
    cnp_rings_init(NULL);
    cnp_trace_ws_free(NULL);

    cnp_trace_ws *ws = cnp_trace_ws_create();
    CHECK(ws != NULL);
    const cnp_run px = { 0, 0, 1 };
    CHECK(cnp_trace_runs(&px, 1, ws, &rg) == CNP_OK);
    CHECK(rg.n == 1 && rg.nvert == 5);
    const size_t cap = rg.cap_vert;
    cnp_rings_clear(&rg);
    CHECK(rg.n == 0 && rg.nvert == 0 && rg.npieces == 0 && rg.cap_vert == cap);
    /* n == 0: no rings, out cleared. */
    CHECK(cnp_trace_runs(&px, 1, ws, &rg) == CNP_OK);
    CHECK(cnp_trace_runs(NULL, 0, ws, &rg) == CNP_OK);
    CHECK(rg.n == 0 && rg.nvert == 0 && rg.npieces == 0);
    cnp_rings_free(&rg);
    CHECK(rg.xy == NULL && rg.cap == 0);
    cnp_trace_ws_free(ws);
}

static void test_single_pixel(void)
{
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rg;
    cnp_rings_init(&rg);
    static const char *const rows[] = { "#" };
    trace_rows(rows, 1, 7, -3, ws, &rg);
    const int32_t want[] = { 7, -3, 8, -3, 8, -2, 7, -2, 7, -3 };
    CHECK(rg.n == 1 && rg.npieces == 1);
    CHECK(ring_is(&rg, 0, want, 5));
    CHECK(!rg.ring[0].is_hole && rg.ring[0].piece == 0);
    CHECK(ring_area2(&rg, 0) == 2);
    cnp_rings_free(&rg);
    cnp_trace_ws_free(ws);
}

static void test_rectangle(void)
{
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rg;
    cnp_rings_init(&rg);
    static const char *const rows[] = { "#####", "#####", "#####" };
    trace_rows(rows, 3, 10, 20, ws, &rg);
    const int32_t want[] = { 10, 20, 15, 20, 15, 23, 10, 23, 10, 20 };
    CHECK(rg.n == 1 && ring_is(&rg, 0, want, 5));
    CHECK(ring_area2(&rg, 0) == 30);
    cnp_rings_free(&rg);
    cnp_trace_ws_free(ws);
}

static void test_l_shape(void)
{
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rg;
    cnp_rings_init(&rg);
    static const char *const rows[] = { "#..", "#..", "###" };
    trace_rows(rows, 3, 0, 0, ws, &rg);
    const int32_t want[] = { 0, 0, 1, 0, 1, 2, 3, 2, 3, 3, 0, 3, 0, 0 };
    CHECK(rg.n == 1 && ring_is(&rg, 0, want, 7));
    cnp_rings_free(&rg);
    cnp_trace_ws_free(ws);
}

static void test_one_hole(void)
{
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rg;
    cnp_rings_init(&rg);
    static const char *const rows[] = { "####", "#..#", "#..#", "####" };
    trace_rows(rows, 4, 0, 0, ws, &rg);
    const int32_t shell[] = { 0, 0, 4, 0, 4, 4, 0, 4, 0, 0 };
    const int32_t hole[] = { 1, 1, 1, 3, 3, 3, 3, 1, 1, 1 };
    CHECK(rg.n == 2 && rg.npieces == 1);
    CHECK(ring_is(&rg, 0, shell, 5) && !rg.ring[0].is_hole);
    CHECK(ring_is(&rg, 1, hole, 5) && rg.ring[1].is_hole && rg.ring[1].piece == 0);
    CHECK(ring_area2(&rg, 1) == -8);
    cnp_rings_free(&rg);
    cnp_trace_ws_free(ws);
}

/* Two enclosed background pixels touching at a corner: two holes that touch
 * at that vertex, not one ring through it twice. */
static void test_hole_pinch(void)
{
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rg;
    cnp_rings_init(&rg);
    static const char *const rows[] = { "####", "#.##", "##.#", "####" };
    trace_rows(rows, 4, 0, 0, ws, &rg);
    const int32_t h1[] = { 1, 1, 1, 2, 2, 2, 2, 1, 1, 1 };
    const int32_t h2[] = { 2, 2, 2, 3, 3, 3, 3, 2, 2, 2 };
    CHECK(rg.n == 3 && rg.npieces == 1 && count_holes(&rg) == 2);
    CHECK(ring_is(&rg, 1, h1, 5));
    CHECK(ring_is(&rg, 2, h2, 5));

    static const char *const anti[] = { "####", "##.#", "#.##", "####" };
    trace_rows(anti, 4, 0, 0, ws, &rg);
    CHECK(rg.n == 3 && count_holes(&rg) == 2);
    cnp_rings_free(&rg);
    cnp_trace_ws_free(ws);
}

static void test_two_diagonal_pixels(void)
{
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rg;
    cnp_rings_init(&rg);
    static const char *const diag[] = { "#.", ".#" };
    trace_rows(diag, 2, 0, 0, ws, &rg);
    const int32_t a[] = { 0, 0, 1, 0, 1, 1, 0, 1, 0, 0 };
    const int32_t b[] = { 1, 1, 2, 1, 2, 2, 1, 2, 1, 1 };
    CHECK(rg.n == 2 && rg.npieces == 2 && count_holes(&rg) == 0);
    CHECK(ring_is(&rg, 0, a, 5) && rg.ring[0].piece == 0);
    CHECK(ring_is(&rg, 1, b, 5) && rg.ring[1].piece == 1);

    static const char *const anti[] = { ".#", "#." };
    trace_rows(anti, 2, 0, 0, ws, &rg);
    const int32_t c[] = { 1, 0, 2, 0, 2, 1, 1, 1, 1, 0 };
    const int32_t d[] = { 0, 1, 1, 1, 1, 2, 0, 2, 0, 1 };
    CHECK(rg.n == 2 && rg.npieces == 2);
    CHECK(ring_is(&rg, 0, c, 5) && ring_is(&rg, 1, d, 5));
    cnp_rings_free(&rg);
    cnp_trace_ws_free(ws);
}

/* Four pixels around a background pixel, touching only at corners: four
 * pieces, and the background pixel is a hole of none of them. */
static void test_diamond(void)
{
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rg;
    cnp_rings_init(&rg);
    static const char *const rows[] = { ".#.", "#.#", ".#." };
    trace_rows(rows, 3, 0, 0, ws, &rg);
    CHECK(rg.n == 4 && rg.npieces == 4 && count_holes(&rg) == 0);
    for (size_t k = 0; k < rg.n; k++)
        CHECK(rg.ring[k].count == 5 && rg.ring[k].piece == (int32_t)k);
    cnp_rings_free(&rg);
    cnp_trace_ws_free(ws);
}

static void test_checkerboard(void)
{
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rg;
    cnp_rings_init(&rg);
    static const char *const rows[] = {
        "#.#.#.", ".#.#.#", "#.#.#.", ".#.#.#", "#.#.#.", ".#.#.#",
    };
    trace_rows(rows, 6, -100, -100, ws, &rg);
    CHECK(rg.n == 18 && rg.npieces == 18 && count_holes(&rg) == 0);
    for (size_t k = 0; k < rg.n; k++)
        CHECK(rg.ring[k].count == 5);
    CHECK(rg.nvert == 90);
    cnp_rings_free(&rg);
    cnp_trace_ws_free(ws);
}

/* One piece touching itself at a corner closes off a background pixel: a
 * simple shell plus a hole that touches it at the pinch vertex. */
static void test_self_touch_hole(void)
{
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rg;
    cnp_rings_init(&rg);
    static const char *const rows[] = { ".##", "#.#", "###" };
    trace_rows(rows, 3, 0, 0, ws, &rg);
    const int32_t shell[] = { 1, 0, 3, 0, 3, 3, 0, 3, 0, 1, 1, 1, 1, 0 };
    const int32_t hole[] = { 1, 1, 1, 2, 2, 2, 2, 1, 1, 1 };
    CHECK(rg.n == 2 && rg.npieces == 1);
    CHECK(ring_is(&rg, 0, shell, 7));
    CHECK(ring_is(&rg, 1, hole, 5) && rg.ring[1].is_hole);

    /* A larger C whose tips meet diagonally, and one pinched at the bottom
     * right (the hole's top-left vertex is then not at the pinch). */
    static const char *const c1[] = {
        "#####.",
        "#....#",
        "#....#",
        "######",
    };
    trace_rows(c1, 4, 0, 0, ws, &rg);
    CHECK(rg.n == 2 && rg.npieces == 1 && count_holes(&rg) == 1);
    CHECK(rg.n == 2 && rg.ring[1].count == 5 && ring_area2(&rg, 1) == -2 * 8);
    static const char *const c2[] = {
        "#####",
        "#...#",
        "#..#.",
        "####.",
    };
    trace_rows(c2, 4, 0, 0, ws, &rg);
    CHECK(rg.n == 2 && count_holes(&rg) == 1);
    cnp_rings_free(&rg);
    cnp_trace_ws_free(ws);
}

/* A piece inside a hole of another piece of the same run set. */
static void test_island_in_hole(void)
{
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rg;
    cnp_rings_init(&rg);
    static const char *const rows[] = {
        "#####", "#...#", "#.#.#", "#...#", "#####",
    };
    trace_rows(rows, 5, 0, 0, ws, &rg);
    const int32_t island[] = { 2, 2, 3, 2, 3, 3, 2, 3, 2, 2 };
    CHECK(rg.n == 3 && rg.npieces == 2);
    CHECK(rg.ring[0].piece == 0 && !rg.ring[0].is_hole);
    CHECK(rg.ring[1].piece == 0 && rg.ring[1].is_hole);
    CHECK(ring_area2(&rg, 1) == -18);
    CHECK(ring_is(&rg, 2, island, 5) && rg.ring[2].piece == 1 && !rg.ring[2].is_hole);

    /* The island touching the frame at a corner: still its own piece, and the
     * frame's hole ring passes by the touching vertex once. */
    static const char *const touch[] = {
        "#####", "##..#", "#.#.#", "#...#", "#####",
    };
    trace_rows(touch, 5, 0, 0, ws, &rg);
    CHECK(rg.n == 3 && rg.npieces == 2);
    CHECK(rg.n == 3 && rg.ring[1].is_hole && rg.ring[2].piece == 1);

    /* Island with its own hole, nested in a hole. */
    static const char *const nest[] = {
        "#######",
        "#.....#",
        "#.###.#",
        "#.#.#.#",
        "#.###.#",
        "#.....#",
        "#######",
    };
    trace_rows(nest, 7, 0, 0, ws, &rg);
    CHECK(rg.n == 4 && rg.npieces == 2 && count_holes(&rg) == 2);
    cnp_rings_free(&rg);
    cnp_trace_ws_free(ws);
}

static void test_wide_shape(void)
{
    enum { W = 300 };
    static char r0[W + 1], r1[W + 1], r2[W + 1], r3[W + 1];
    for (int x = 0; x < W; x++) {
        r0[x] = '#';
        r1[x] = x % 10 == 5 ? '.' : '#';         /* 30 one-pixel holes */
        r2[x] = x >= 100 && x < 200 ? '.' : '#'; /* and a long one */
        r3[x] = '#';
    }
    const char *const rows[] = { r0, r1, r2, r3, r0 };
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rg;
    cnp_rings_init(&rg);
    trace_rows(rows, 5, 1000000, 2000000, ws, &rg);
    /* Holes at x = 105..195 touch the long one: 30 - 10 + 1 holes. */
    CHECK(rg.npieces == 1 && rg.n == 22 && count_holes(&rg) == 21);
    CHECK(rg.ring[0].count == 5);
    cnp_rings_free(&rg);
    cnp_trace_ws_free(ws);
}

/* A later piece's shell comes before an earlier piece's hole in scan order;
 * the output still groups rings by piece. */
static void test_ring_order(void)
{
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rg;
    cnp_rings_init(&rg);
    static const char *const rows[] = { "###.#", "#.#..", "###.#", "#.#.." };
    trace_rows(rows, 4, 0, 0, ws, &rg);
    const int32_t hole[] = { 1, 1, 1, 2, 2, 2, 2, 1, 1, 1 };
    const int32_t p1[] = { 4, 0, 5, 0, 5, 1, 4, 1, 4, 0 };
    CHECK(rg.n == 4 && rg.npieces == 3);
    CHECK(ring_is(&rg, 1, hole, 5) && rg.ring[1].piece == 0 && rg.ring[1].is_hole);
    CHECK(ring_is(&rg, 2, p1, 5) && rg.ring[2].piece == 1 && !rg.ring[2].is_hole);
    CHECK(rg.ring[3].piece == 2);
    cnp_rings_free(&rg);
    cnp_trace_ws_free(ws);
}

/* The same shape at two origins gives the same rings, translated. */
static void test_translation(void)
{
    static const char *const rows[] = { ".##.#", "#.##.", "##.##", ".#..#" };
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings a, b;
    cnp_rings_init(&a);
    cnp_rings_init(&b);
    trace_rows(rows, 4, 0, 0, ws, &a);
    trace_rows(rows, 4, -70000, 123456, ws, &b);
    CHECK(a.n == b.n && a.nvert == b.nvert && a.npieces == b.npieces);
    for (size_t i = 0; i < a.nvert && a.nvert == b.nvert; i++)
        CHECK(b.xy[2 * i] == a.xy[2 * i] - 70000 && b.xy[2 * i + 1] == a.xy[2 * i + 1] + 123456);
    for (size_t k = 0; k < a.n && a.n == b.n; k++)
        CHECK(a.ring[k].piece == b.ring[k].piece && a.ring[k].is_hole == b.ring[k].is_hole &&
              a.ring[k].first == b.ring[k].first && a.ring[k].count == b.ring[k].count);
    cnp_rings_free(&a);
    cnp_rings_free(&b);
    cnp_trace_ws_free(ws);
}

/* Random masks, split into 8- and 4-connected components with cnp_runs, each
 * component traced on its own with one reused workspace; plus the whole mask
 * as one run set. */
static void test_random_components(void)
{
    const int w = 40, h = 30;
    const int density[] = { 20, 40, 50, 60, 75, 90 };
    uint8_t *m = malloc((size_t)(w * h));
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rg;
    cnp_rings_init(&rg);
    long ncomp_total = 0, nholes = 0;

    rng_state = 0x9e3779b9u;
    for (size_t d = 0; d < sizeof density / sizeof *density; d++) {
        for (int rep = 0; rep < 4; rep++) {
            for (int i = 0; i < w * h; i++)
                m[i] = (int)(rng_next() % 100) < density[d];
            for (int conn = 4; conn <= 8; conn += 4) {
                cnp_runs all;
                cnp_runs_init(&all);
                for (int y = 0; y < h; y++)
                    CHECK(cnp_runs_append_row(&all, m + y * w, w, y - 5, 3) == CNP_OK);
                CHECK(cnp_runs_link(&all, conn) == CNP_OK);

                /* Whole mask as one run set. */
                CHECK(cnp_trace_runs(all.run, all.n, ws, &rg) == CNP_OK);
                if (!check_rings(all.run, all.n, &rg))
                    goto done_mask;

                uint32_t *label = malloc(all.n * sizeof *label);
                size_t ncomp;
                CHECK(cnp_runs_label(&all, label, &ncomp) == CNP_OK);
                size_t *start = malloc((ncomp + 1) * sizeof *start);
                uint32_t *order = malloc(all.n * sizeof *order);
                cnp_run *comp = malloc(all.n * sizeof *comp);
                CHECK(cnp_runs_group(label, all.n, ncomp, start, order) == CNP_OK);
                for (size_t c = 0; c < ncomp; c++) {
                    const size_t k = start[c + 1] - start[c];
                    for (size_t i = 0; i < k; i++)
                        comp[i] = all.run[order[start[c] + i]];
                    CHECK(cnp_trace_runs(comp, k, ws, &rg) == CNP_OK);
                    nholes += (long)count_holes(&rg);
                    if (!check_rings(comp, k, &rg))
                        break;
                    if (conn == 4)
                        CHECK(rg.npieces == 1);
                }
                ncomp_total += (long)ncomp;
                free(comp);
                free(order);
                free(start);
                free(label);
            done_mask:
                cnp_runs_free(&all);
            }
        }
    }
    CHECK(ncomp_total > 1000);
    CHECK(nholes > 100);
    cnp_rings_free(&rg);
    cnp_trace_ws_free(ws);
    free(m);
}

/* Larger random blobs stress the workspace growth and long boundaries. */
static void test_random_large(void)
{
    const int w = 257, h = 190;
    uint8_t *m = malloc((size_t)(w * h));
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rg;
    cnp_rings_init(&rg);
    rng_state = 77u;
    for (int pass = 0; pass < 3; pass++) {
        /* Smooth-ish blobs: random seeds grown by a few majority passes. */
        for (int i = 0; i < w * h; i++)
            m[i] = rng_next() % 100 < (uint32_t)(45 + 5 * pass);
        for (int it = 0; it < 2; it++) {
            for (int y = 1; y < h - 1; y++)
                for (int x = 1; x < w - 1; x++) {
                    int s = 0;
                    for (int dy = -1; dy <= 1; dy++)
                        for (int dx = -1; dx <= 1; dx++)
                            s += m[(y + dy) * w + x + dx] & 1;
                    m[y * w + x] = (uint8_t)((m[y * w + x] & 1) | ((s >= 5) << 1));
                }
            for (int i = 0; i < w * h; i++)
                m[i] = (uint8_t)(m[i] >> 1);
        }
        cnp_runs all;
        cnp_runs_init(&all);
        for (int y = 0; y < h; y++)
            CHECK(cnp_runs_append_row(&all, m + y * w, w, y, 0) == CNP_OK);
        CHECK(cnp_trace_runs(all.run, all.n, ws, &rg) == CNP_OK);
        check_rings(all.run, all.n, &rg);
        CHECK(count_holes(&rg) > 0);
        cnp_runs_free(&all);
    }
    cnp_rings_free(&rg);
    cnp_trace_ws_free(ws);
    free(m);
}

static void test_bad_args(void)
{
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rg;
    cnp_rings_init(&rg);
    const cnp_run ok[] = { { 0, 0, 2 }, { 1, 1, 3 } };
    const cnp_run unordered[] = { { 1, 0, 2 }, { 0, 0, 2 } };
    const cnp_run unordered_x[] = { { 0, 4, 5 }, { 0, 0, 2 } };
    const cnp_run touching[] = { { 0, 0, 2 }, { 0, 2, 3 } };
    const cnp_run empty[] = { { 0, 2, 2 } };
    const cnp_run bottom[] = { { INT32_MAX, 0, 1 } };
    const cnp_run lowest[] = { { INT32_MAX - 1, INT32_MAX - 1, INT32_MAX } };

    CHECK(cnp_trace_runs(ok, 2, NULL, &rg) == CNP_E_ARG);
    CHECK(cnp_trace_runs(ok, 2, ws, NULL) == CNP_E_ARG);
    CHECK(cnp_trace_runs(NULL, 2, ws, &rg) == CNP_E_ARG);
    CHECK(cnp_trace_runs(unordered, 2, ws, &rg) == CNP_E_ARG);
    CHECK(cnp_trace_runs(unordered_x, 2, ws, &rg) == CNP_E_ARG);
    CHECK(cnp_trace_runs(touching, 2, ws, &rg) == CNP_E_ARG);
    CHECK(cnp_trace_runs(empty, 1, ws, &rg) == CNP_E_ARG);
    CHECK(cnp_trace_runs(bottom, 1, ws, &rg) == CNP_E_ARG);
    CHECK(rg.n == 0);
    /* The extreme pixel whose corners still fit in int32. */
    CHECK(cnp_trace_runs(lowest, 1, ws, &rg) == CNP_OK);
    const int32_t want[] = {
        INT32_MAX - 1, INT32_MAX - 1, INT32_MAX, INT32_MAX - 1, INT32_MAX, INT32_MAX,
        INT32_MAX - 1, INT32_MAX, INT32_MAX - 1, INT32_MAX - 1,
    };
    CHECK(ring_is(&rg, 0, want, 5));
    /* A failed call leaves out cleared. */
    CHECK(cnp_trace_runs(touching, 2, ws, &rg) == CNP_E_ARG);
    CHECK(rg.n == 0 && rg.nvert == 0);
    cnp_rings_free(&rg);
    cnp_trace_ws_free(ws);
}

CNP_TEST_MAIN("trace",
    TEST_CASE(test_rings_lifecycle),
    TEST_CASE(test_single_pixel),
    TEST_CASE(test_rectangle),
    TEST_CASE(test_l_shape),
    TEST_CASE(test_one_hole),
    TEST_CASE(test_hole_pinch),
    TEST_CASE(test_two_diagonal_pixels),
    TEST_CASE(test_diamond),
    TEST_CASE(test_checkerboard),
    TEST_CASE(test_self_touch_hole),
    TEST_CASE(test_island_in_hole),
    TEST_CASE(test_wide_shape),
    TEST_CASE(test_ring_order),
    TEST_CASE(test_translation),
    TEST_CASE(test_random_components),
    TEST_CASE(test_random_large),
    TEST_CASE(test_bad_args))
