/* tests/unit/test_runs.c - streaming run-based CCL (kernels/cnp_runs).
 *
 * Hand-made shapes pin the contract (late merges, spirals, 4 vs 8
 * connectivity, argument checks); random masks are compared with a brute-force
 * flood fill, labelled in one strip and in strips of several heights, which
 * must all give identical labels.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cnp_runs.h"
#include "cnp_test.h"

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

/* Mask from strings, '#' = foreground; all rows the same length. */
static uint8_t *mask_from(const char *const *rows, int h, int *w)
{
    *w = (int)strlen(rows[0]);
    uint8_t *m = calloc((size_t)(*w * h) + 1, 1);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < *w; x++)
            m[y * *w + x] = rows[y][x] == '#';
    return m;
}

/* Rows [y0, y1) of mask as runs at scene origin (ox, oy), linked. */
static cnp_status build_strip(cnp_runs *r, const uint8_t *m, int w, int y0, int y1,
                              int32_t ox, int32_t oy, int conn)
{
    cnp_status st = CNP_OK;
    for (int y = y0; y < y1 && st == CNP_OK; y++)
        st = cnp_runs_append_row(r, m + (size_t)y * (size_t)w, w, oy + y, ox);
    return st == CNP_OK ? cnp_runs_link(r, conn) : st;
}

/* Label the mask in strips of height sh (sh >= h: one strip). */
static size_t label_in_strips(const uint8_t *m, int w, int h, int sh, int conn,
                              cnp_runs *all, uint32_t **label)
{
    cnp_runs strip;
    cnp_runs_init(&strip);
    cnp_runs_init(all);
    for (int y0 = 0; y0 < h; y0 += sh) {
        const int y1 = y0 + sh < h ? y0 + sh : h;
        cnp_runs_clear(&strip);
        CHECK(build_strip(&strip, m, w, y0, y1, 0, 0, conn) == CNP_OK);
        CHECK(cnp_runs_concat(all, &strip, conn) == CNP_OK);
    }
    cnp_runs_free(&strip);
    size_t ncomp = 0;
    *label = malloc((all->n + 1) * sizeof **label);
    CHECK(cnp_runs_label(all, *label, &ncomp) == CNP_OK);
    return ncomp;
}

/* Reference: flood fill over pixels, components numbered in scan order of
 * their first pixel (which is also the order of their first run). */
static int flood_label(const uint8_t *m, int w, int h, int conn, int32_t *lab)
{
    int *stack = malloc(sizeof *stack * (size_t)(w * h) + 1);
    int ncomp = 0;
    for (int i = 0; i < w * h; i++)
        lab[i] = -1;
    for (int s = 0; s < w * h; s++) {
        if (!m[s] || lab[s] >= 0)
            continue;
        int top = 0;
        stack[top++] = s;
        lab[s] = ncomp;
        while (top) {
            const int p = stack[--top], px = p % w, py = p / w;
            for (int dy = -1; dy <= 1; dy++) {
                for (int dx = -1; dx <= 1; dx++) {
                    if ((dx == 0 && dy == 0) || (conn == 4 && dx && dy))
                        continue;
                    const int qx = px + dx, qy = py + dy;
                    if (qx < 0 || qy < 0 || qx >= w || qy >= h)
                        continue;
                    const int q = qy * w + qx;
                    if (m[q] && lab[q] < 0) {
                        lab[q] = ncomp;
                        stack[top++] = q;
                    }
                }
            }
        }
        ncomp++;
    }
    free(stack);
    return ncomp;
}

/* Labels of one strip split must equal the run labels from the flood fill. */
static void check_against_flood(const uint8_t *m, int w, int h, int conn, int sh)
{
    int32_t *ref = malloc(sizeof *ref * (size_t)(w * h));
    const int nref = flood_label(m, w, h, conn, ref);
    cnp_runs all;
    uint32_t *label;
    const size_t ncomp = label_in_strips(m, w, h, sh, conn, &all, &label);

    CHECK(ncomp == (size_t)nref);
    size_t npix = 0, bad = 0;
    for (size_t i = 0; i < all.n; i++) {
        const cnp_run *r = &all.run[i];
        for (int32_t x = r->x0; x < r->x1; x++, npix++)
            bad += ref[r->y * w + x] != (int32_t)label[i];
    }
    size_t nfg = 0;
    for (int i = 0; i < w * h; i++)
        nfg += m[i] != 0;
    CHECK(bad == 0);
    CHECK(npix == nfg);
    cnp_runs_free(&all);
    free(label);
    free(ref);
}

/* ---- tests ----------------------------------------------------------- */

static void test_init_free(void)
{
    cnp_runs r;
    memset(&r, 0xab, sizeof r);
    cnp_runs_init(&r);
    CHECK(r.run == NULL && r.parent == NULL && r.n == 0 && r.cap == 0);
    cnp_runs_free(&r);
    cnp_runs_free(NULL);
    cnp_runs_clear(NULL);
    cnp_runs_init(NULL);

    size_t ncomp = 99;
    CHECK(cnp_runs_link(&r, 4) == CNP_OK);
    CHECK(cnp_runs_label(&r, NULL, &ncomp) == CNP_OK);
    CHECK(ncomp == 0);
    CHECK(cnp_runs_append_row(&r, NULL, 0, 0, 0) == CNP_OK);
    CHECK(r.n == 0);
}

static void test_single_row(void)
{
    const uint8_t m[] = { 0, 1, 1, 0, 1, 1, 1, 0, 0, 1 };
    cnp_runs r;
    cnp_runs_init(&r);
    CHECK(cnp_runs_append_row(&r, m, 10, 5, 100) == CNP_OK);
    CHECK(r.n == 3);
    CHECK(r.run[0].y == 5 && r.run[0].x0 == 101 && r.run[0].x1 == 103);
    CHECK(r.run[1].y == 5 && r.run[1].x0 == 104 && r.run[1].x1 == 107);
    CHECK(r.run[2].y == 5 && r.run[2].x0 == 109 && r.run[2].x1 == 110);
    for (size_t i = 0; i < r.n; i++)
        CHECK(r.parent[i] == i);
    CHECK(cnp_runs_link(&r, 8) == CNP_OK);
    uint32_t label[3];
    size_t ncomp;
    CHECK(cnp_runs_label(&r, label, &ncomp) == CNP_OK);
    CHECK(ncomp == 3);
    CHECK(label[0] == 0 && label[1] == 1 && label[2] == 2);

    /* All-foreground and all-background rows. */
    const uint8_t ones[4] = { 1, 1, 1, 1 }, zeros[4] = { 0 };
    cnp_runs_clear(&r);
    CHECK(cnp_runs_append_row(&r, zeros, 4, 0, 0) == CNP_OK);
    CHECK(r.n == 0);
    CHECK(cnp_runs_append_row(&r, ones, 4, 0, -2) == CNP_OK);
    CHECK(r.n == 1 && r.run[0].x0 == -2 && r.run[0].x1 == 2);
    cnp_runs_free(&r);
}

static void test_same_row_appends(void)
{
    /* Tiles side by side append the same row twice; a run ending at the tile
     * edge and one starting there must become one maximal run. */
    const uint8_t a[4] = { 1, 0, 1, 1 }, b[4] = { 1, 1, 0, 1 };
    cnp_runs r;
    cnp_runs_init(&r);
    CHECK(cnp_runs_append_row(&r, a, 4, 3, 0) == CNP_OK);
    CHECK(cnp_runs_append_row(&r, b, 4, 3, 4) == CNP_OK);
    CHECK(r.n == 3);
    CHECK(r.run[1].x0 == 2 && r.run[1].x1 == 6);
    CHECK(r.run[2].x0 == 7 && r.run[2].x1 == 8);
    CHECK(r.parent[2] == 2);
    /* Going back left on the same row is out of order. */
    CHECK(cnp_runs_append_row(&r, b, 4, 3, 5) == CNP_E_ARG);
    CHECK(r.n == 3);
    cnp_runs_free(&r);
}

static void test_u_shape_merges_late(void)
{
    static const char *const rows[] = {
        "#...#.#",
        "#...#.#",
        "#...#.#",
        "#####.#",
    };
    int w;
    uint8_t *m = mask_from(rows, 4, &w);
    for (int conn = 4; conn <= 8; conn += 4) {
        cnp_runs r;
        cnp_runs_init(&r);
        CHECK(build_strip(&r, m, w, 0, 4, 0, 0, conn) == CNP_OK);
        CHECK(r.n == 11);
        uint32_t label[11];
        size_t ncomp;
        CHECK(cnp_runs_label(&r, label, &ncomp) == CNP_OK);
        CHECK(ncomp == 2);
        /* Left arm, right arm of the U and its bottom: one component, id 0,
         * even though the arms only meet on the last row. */
        const uint32_t want[11] = { 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1 };
        for (int i = 0; i < 11; i++)
            CHECK(label[i] == want[i]);
        for (size_t i = 0; i < r.n; i++)
            CHECK(r.parent[i] == (want[i] ? 2u : 0u));   /* roots = first runs */
        cnp_runs_free(&r);
    }
    free(m);
}

static void test_spiral(void)
{
    static const char *const rows[] = {
        "#########",
        "........#",
        "#######.#",
        "#.....#.#",
        "#.###.#.#",
        "#.#...#.#",
        "#.#####.#",
        "#.......#",
        "#########",
    };
    int w;
    uint8_t *m = mask_from(rows, 9, &w);
    for (int sh = 1; sh <= 9; sh++) {
        cnp_runs all;
        uint32_t *label;
        CHECK(label_in_strips(m, w, 9, sh, 4, &all, &label) == 1);
        for (size_t i = 0; i < all.n; i++)
            CHECK(label[i] == 0);
        cnp_runs_free(&all);
        free(label);
    }
    check_against_flood(m, w, 9, 4, 2);
    free(m);
}

static void test_diagonal_4_vs_8(void)
{
    static const char *const diag[] = { "#..", ".#.", "..#" };
    static const char *const anti[] = { "..#", ".#.", "#.." };
    static const char *const gap[]  = { "#.#", "...", "#.#" };
    const char *const *shapes[] = { diag, anti, gap };
    const size_t want4[] = { 3, 3, 4 }, want8[] = { 1, 1, 4 };

    for (int s = 0; s < 3; s++) {
        int w;
        uint8_t *m = mask_from(shapes[s], 3, &w);
        for (int sh = 1; sh <= 3; sh++) {
            cnp_runs all;
            uint32_t *label;
            CHECK(label_in_strips(m, w, 3, sh, 4, &all, &label) == want4[s]);
            cnp_runs_free(&all);
            free(label);
            CHECK(label_in_strips(m, w, 3, sh, 8, &all, &label) == want8[s]);
            cnp_runs_free(&all);
            free(label);
        }
        free(m);
    }
}

/* Splitting into two strips at every seam, and into strips of every height,
 * gives exactly the labels of one strip. */
static void test_every_seam(void)
{
    static const char *const rows[] = {
        "#.#.##..#.",
        ".#..#..##.",
        "#...#.#..#",
        "####..#.#.",
        "...#.##...",
        "#.#..#..##",
        ".#..##.#..",
        "#..#...###",
    };
    const int h = 8;
    int w;
    uint8_t *m = mask_from(rows, h, &w);

    for (int conn = 4; conn <= 8; conn += 4) {
        cnp_runs one;
        uint32_t *ref;
        const size_t nref = label_in_strips(m, w, h, h, conn, &one, &ref);
        for (int seam = 1; seam < h; seam++) {
            cnp_runs a, b, all;
            cnp_runs_init(&a);
            cnp_runs_init(&b);
            cnp_runs_init(&all);
            CHECK(build_strip(&a, m, w, 0, seam, 0, 0, conn) == CNP_OK);
            CHECK(build_strip(&b, m, w, seam, h, 0, 0, conn) == CNP_OK);
            CHECK(cnp_runs_concat(&all, &a, conn) == CNP_OK);
            CHECK(cnp_runs_concat(&all, &b, conn) == CNP_OK);
            CHECK(all.n == one.n);
            uint32_t *lab = malloc(all.n * sizeof *lab);
            size_t ncomp;
            CHECK(cnp_runs_label(&all, lab, &ncomp) == CNP_OK);
            CHECK(ncomp == nref);
            for (size_t i = 0; i < all.n; i++)
                CHECK(lab[i] == ref[i]);
            free(lab);
            cnp_runs_free(&a);
            cnp_runs_free(&b);
            cnp_runs_free(&all);
        }
        for (int sh = 1; sh < h; sh++) {
            cnp_runs all;
            uint32_t *lab;
            CHECK(label_in_strips(m, w, h, sh, conn, &all, &lab) == nref);
            for (size_t i = 0; i < all.n; i++)
                CHECK(lab[i] == ref[i]);
            cnp_runs_free(&all);
            free(lab);
        }
        check_against_flood(m, w, h, conn, 3);
        cnp_runs_free(&one);
        free(ref);
    }
    free(m);
}

/* A gap row between strips: no seam union, and none expected. */
static void test_concat_gap_and_empty(void)
{
    const uint8_t row[3] = { 1, 1, 1 };
    cnp_runs a, b, empty;
    cnp_runs_init(&a);
    cnp_runs_init(&b);
    cnp_runs_init(&empty);
    CHECK(cnp_runs_append_row(&a, row, 3, 0, 0) == CNP_OK);
    CHECK(cnp_runs_append_row(&b, row, 3, 2, 0) == CNP_OK);
    CHECK(cnp_runs_concat(&a, &empty, 8) == CNP_OK);
    CHECK(cnp_runs_concat(&empty, &empty, 8) == CNP_E_ARG);
    CHECK(cnp_runs_concat(&a, &b, 8) == CNP_OK);
    uint32_t label[2];
    size_t ncomp;
    CHECK(cnp_runs_label(&a, label, &ncomp) == CNP_OK);
    CHECK(ncomp == 2);
    /* Concat into an empty dst copies the strip as is. */
    CHECK(cnp_runs_concat(&empty, &b, 8) == CNP_OK);
    CHECK(empty.n == 1 && empty.run[0].y == 2 && empty.parent[0] == 0);
    cnp_runs_free(&a);
    cnp_runs_free(&b);
    cnp_runs_free(&empty);
}

static void test_random_vs_flood(void)
{
    const int w = 64, h = 48;
    const int density[] = { 10, 30, 45, 55, 60, 75, 95 };   /* percent */
    const int heights[] = { 1, 2, 3, 7, 16, 48 };
    uint8_t *m = malloc((size_t)(w * h));

    rng_state = 0x2545f491u;
    for (size_t d = 0; d < sizeof density / sizeof *density; d++) {
        for (int rep = 0; rep < 3; rep++) {
            for (int i = 0; i < w * h; i++)
                m[i] = (int)(rng_next() % 100) < density[d];
            for (size_t s = 0; s < sizeof heights / sizeof *heights; s++) {
                check_against_flood(m, w, h, 4, heights[s]);
                check_against_flood(m, w, h, 8, heights[s]);
            }
        }
    }
    free(m);
}

/* Labels appear in first-run order: run i never introduces an id above the
 * largest seen so far + 1, and every root is its component's first run. */
static void test_first_run_order(void)
{
    const int w = 40, h = 30;
    uint8_t *m = malloc((size_t)(w * h));
    rng_state = 12345u;
    for (int i = 0; i < w * h; i++)
        m[i] = rng_next() % 100 < 25;
    cnp_runs all;
    uint32_t *label;
    const size_t ncomp = label_in_strips(m, w, h, 5, 8, &all, &label);
    CHECK(ncomp > 10);
    uint32_t next = 0;
    for (size_t i = 0; i < all.n; i++) {
        CHECK(label[i] <= next);
        if (label[i] == next) {
            CHECK(all.parent[i] == i);   /* label() compressed to roots */
            next++;
        } else {
            CHECK(all.parent[i] < i && label[all.parent[i]] == label[i]);
        }
    }
    CHECK(next == ncomp);

    /* Grouping keeps scan order inside each component. */
    size_t *start = malloc((ncomp + 1) * sizeof *start);
    uint32_t *order = malloc(all.n * sizeof *order);
    CHECK(cnp_runs_group(label, all.n, ncomp, start, order) == CNP_OK);
    CHECK(start[0] == 0 && start[ncomp] == all.n);
    for (size_t c = 0; c < ncomp; c++) {
        CHECK(start[c] < start[c + 1]);
        for (size_t k = start[c]; k < start[c + 1]; k++) {
            CHECK(label[order[k]] == c);
            if (k > start[c])
                CHECK(order[k] > order[k - 1]);
        }
    }
    label[0] = (uint32_t)ncomp;
    CHECK(cnp_runs_group(label, all.n, ncomp, start, order) == CNP_E_ARG);
    free(start);
    free(order);
    cnp_runs_free(&all);
    free(label);
    free(m);
}

static void test_label_array(void)
{
    const cnp_run runs[] = {
        { 0, 0, 2 }, { 0, 4, 5 }, { 1, 2, 4 }, { 2, 0, 1 },
    };
    uint32_t parent[4], label[4];
    size_t ncomp;
    CHECK(cnp_runs_label_array(runs, 4, 4, parent, label, &ncomp) == CNP_OK);
    CHECK(ncomp == 4);
    CHECK(cnp_runs_label_array(runs, 4, 8, parent, label, &ncomp) == CNP_OK);
    CHECK(ncomp == 2);
    CHECK(label[0] == 0 && label[1] == 0 && label[2] == 0 && label[3] == 1);
    /* label may alias parent. */
    CHECK(cnp_runs_label_array(runs, 4, 8, parent, parent, &ncomp) == CNP_OK);
    CHECK(ncomp == 2 && parent[1] == 0 && parent[2] == 0 && parent[3] == 1);
    CHECK(cnp_runs_label_array(NULL, 0, 4, NULL, NULL, &ncomp) == CNP_OK);
    CHECK(ncomp == 0);

    const cnp_run unordered[] = { { 1, 0, 2 }, { 0, 0, 2 } };
    const cnp_run touching[] = { { 0, 0, 2 }, { 0, 2, 3 } };
    CHECK(cnp_runs_label_array(unordered, 2, 4, parent, label, &ncomp) == CNP_E_ARG);
    CHECK(cnp_runs_label_array(touching, 2, 4, parent, label, &ncomp) == CNP_E_ARG);
    CHECK(cnp_runs_label_array(runs, 4, 6, parent, label, &ncomp) == CNP_E_ARG);
    CHECK(cnp_runs_label_array(runs, 4, 4, NULL, label, &ncomp) == CNP_E_ARG);
}

static void test_bad_args(void)
{
    const uint8_t row[4] = { 1, 0, 1, 1 };
    cnp_runs r, s;
    uint32_t label[8];
    size_t ncomp;
    cnp_runs_init(&r);
    cnp_runs_init(&s);

    CHECK(cnp_runs_append_row(NULL, row, 4, 0, 0) == CNP_E_ARG);
    CHECK(cnp_runs_append_row(&r, row, -1, 0, 0) == CNP_E_ARG);
    CHECK(cnp_runs_append_row(&r, NULL, 4, 0, 0) == CNP_E_ARG);
    CHECK(cnp_runs_append_row(&r, row, 4, 0, INT32_MAX - 2) == CNP_E_ARG);
    CHECK(cnp_runs_append_row(&r, row, 4, 0, INT32_MAX - 4) == CNP_OK);
    cnp_runs_clear(&r);
    CHECK(cnp_runs_append_row(&r, row, 4, 5, 0) == CNP_OK);
    CHECK(cnp_runs_append_row(&r, row, 4, 4, 0) == CNP_E_ARG);   /* rows out of order */
    CHECK(r.n == 2);
    CHECK(cnp_runs_append_row(&r, row, 4, 6, 0) == CNP_OK);

    CHECK(cnp_runs_link(NULL, 4) == CNP_E_ARG);
    CHECK(cnp_runs_link(&r, 0) == CNP_E_ARG);
    CHECK(cnp_runs_link(&r, 6) == CNP_E_ARG);
    CHECK(cnp_runs_link(&r, 4) == CNP_OK);

    CHECK(cnp_runs_concat(NULL, &r, 4) == CNP_E_ARG);
    CHECK(cnp_runs_concat(&s, NULL, 4) == CNP_E_ARG);
    CHECK(cnp_runs_concat(&r, &r, 4) == CNP_E_ARG);
    CHECK(cnp_runs_concat(&s, &r, 5) == CNP_E_ARG);
    CHECK(cnp_runs_concat(&s, &r, 4) == CNP_OK);
    CHECK(cnp_runs_concat(&s, &r, 4) == CNP_E_ARG);   /* strip's first y <= dst's last y */
    CHECK(s.n == 4);

    CHECK(cnp_runs_label(NULL, label, &ncomp) == CNP_E_ARG);
    CHECK(cnp_runs_label(&r, NULL, &ncomp) == CNP_E_ARG);
    CHECK(cnp_runs_label(&r, label, NULL) == CNP_E_ARG);

    /* Broken invariants written by hand into the public struct. */
    cnp_runs t;
    cnp_runs_init(&t);
    r.parent[1] = 3;
    CHECK(cnp_runs_link(&r, 4) == CNP_E_ARG);
    CHECK(cnp_runs_label(&r, label, &ncomp) == CNP_E_ARG);
    CHECK(cnp_runs_concat(&t, &r, 4) == CNP_E_ARG);
    CHECK(t.n == 0);
    r.parent[1] = 1;
    r.run[1].x0 = r.run[0].x1;   /* touching runs on one row: not maximal */
    CHECK(cnp_runs_link(&r, 4) == CNP_E_ARG);

    CHECK(cnp_runs_group(NULL, 0, 0, NULL, NULL) == CNP_E_ARG);
    cnp_runs_free(&r);
    cnp_runs_free(&s);
}

/* Many runs in one component (no recursion anywhere), and a comb whose teeth
 * are separate roots until the last row joins them. */
static void test_long_chain(void)
{
    /* A staircase of 1-pixel runs, each touching the previous one diagonally
     * only: one component with 8-connectivity. */
    const int n = 20000;
    cnp_runs r;
    cnp_runs_init(&r);
    uint8_t px = 1;
    for (int y = 0; y < n; y++)
        CHECK(cnp_runs_append_row(&r, &px, 1, y, n - y) == CNP_OK);
    CHECK(cnp_runs_link(&r, 8) == CNP_OK);
    uint32_t *label = malloc((size_t)n * sizeof *label);
    size_t ncomp;
    CHECK(cnp_runs_label(&r, label, &ncomp) == CNP_OK);
    CHECK(ncomp == 1);
    CHECK(label[n - 1] == 0);
    CHECK(cnp_runs_link(&r, 4) == CNP_OK);   /* idempotent, no new unions */
    CHECK(cnp_runs_label(&r, label, &ncomp) == CNP_OK);
    CHECK(ncomp == 1);
    free(label);

    const int teeth = 5000, w = 2 * teeth;
    uint8_t *row = malloc((size_t)w);
    cnp_runs_clear(&r);
    for (int x = 0; x < w; x++)
        row[x] = x % 2 == 0;
    for (int y = 0; y < 50; y++)
        CHECK(cnp_runs_append_row(&r, row, w, y, 0) == CNP_OK);
    memset(row, 1, (size_t)w);
    CHECK(cnp_runs_append_row(&r, row, w, 50, 0) == CNP_OK);
    CHECK(cnp_runs_link(&r, 4) == CNP_OK);
    label = malloc(r.n * sizeof *label);
    CHECK(cnp_runs_label(&r, label, &ncomp) == CNP_OK);
    CHECK(ncomp == 1);
    CHECK(r.parent[r.n - 1] == 0);
    free(label);
    free(row);
    cnp_runs_free(&r);
}


/* ---- cnp_runs_merge_tiles ----------------------------------------------- */

/* A tile run with a payload: the order folds arrive in is recorded. */
typedef struct trun { cnp_run run; int tag; } trun;
typedef struct fold_log { int tags[256], ext[256]; int n; } fold_log;

static cnp_status log_fold(void *arg, size_t i, int extended)
{
    fold_log *l = arg;
    l->tags[l->n] = (int)i;
    l->ext[l->n++] = extended;
    return CNP_OK;
}

/* The runs of each tile of width tw, taken from mask rows [y0, y0+h). */
static size_t tile_runs(const uint8_t *m, int w, int y0, int h, int tw, trun *out,
                        size_t *first)
{
    size_t n = 0;
    const int ntiles = (w + tw - 1) / tw;
    for (int k = 0; k < ntiles; k++) {
        first[k] = n;
        const int x0 = k * tw, x1 = x0 + tw < w ? x0 + tw : w;
        for (int y = y0; y < y0 + h; y++)
            for (int x = x0; x < x1;) {
                if (!m[y * w + x]) { x++; continue; }
                const int xs = x;
                while (x < x1 && m[y * w + x])
                    x++;
                out[n].run = (cnp_run){ y, xs, x };
                out[n].tag = (int)n;
                n++;
            }
    }
    first[ntiles] = n;
    return n;
}

static void test_merge_tiles_joins_cut_runs(void)
{
    static const char *const rows[] = {
        "##########",
        "..###..###",
        "#........#",
    };
    int w;
    uint8_t *m = mask_from(rows, 3, &w);
    /* Every tile width gives the runs of one whole strip, in scan order. */
    cnp_runs ref;
    cnp_runs_init(&ref);
    CHECK(build_strip(&ref, m, w, 0, 3, 0, 0, 8) == CNP_OK);
    for (int tw = 1; tw <= w; tw++) {
        trun tr[64];
        size_t first[16], pos[16];
        const int ntiles = (w + tw - 1) / tw;
        tile_runs(m, w, 0, 3, tw, tr, first);
        cnp_runs got;
        cnp_runs_init(&got);
        fold_log log = { .n = 0 };
        CHECK(cnp_runs_merge_tiles(&got, tr, sizeof *tr, first, ntiles, 0, 3, pos, log_fold,
                                   &log) == CNP_OK);
        CHECK(got.n == ref.n);
        for (size_t i = 0; i < got.n && i < ref.n; i++)
            CHECK(got.run[i].y == ref.run[i].y && got.run[i].x0 == ref.run[i].x0 &&
                  got.run[i].x1 == ref.run[i].x1);
        /* Folds come row by row, tiles left to right, and say which ones
         * extended the previous run. */
        int prev_y = -1, prev_x1 = -1;
        for (int j = 0; j < log.n; j++) {
            const cnp_run *r = &tr[log.tags[j]].run;
            CHECK(r->y > prev_y || (r->y == prev_y && r->x0 >= prev_x1));
            CHECK(log.ext[j] == (r->y == prev_y && r->x0 == prev_x1));
            prev_y = r->y;
            prev_x1 = r->x1;
        }
        cnp_runs_free(&got);
    }
    cnp_runs_free(&ref);
    free(m);
}

static void test_merge_tiles_bad_args(void)
{
    cnp_runs r;
    cnp_runs_init(&r);
    trun tr[2] = { { { 5, 0, 2 }, 0 }, { { 4, 0, 2 }, 1 } };
    size_t first[2] = { 0, 2 }, pos[1];
    /* A run outside the strip's rows, and runs out of order, are refused. */
    CHECK(cnp_runs_merge_tiles(&r, tr, sizeof *tr, first, 1, 0, 3, pos, NULL, NULL) ==
          CNP_E_ARG);
    CHECK(cnp_runs_merge_tiles(&r, tr, sizeof *tr, first, 1, 4, 2, pos, NULL, NULL) ==
          CNP_E_ARG);
    CHECK(cnp_runs_merge_tiles(&r, tr, sizeof(cnp_run) - 1, first, 1, 0, 9, pos, NULL, NULL) ==
          CNP_E_ARG);
    cnp_runs_free(&r);
}

CNP_TEST_MAIN("runs",
    TEST_CASE(test_init_free),
    TEST_CASE(test_single_row),
    TEST_CASE(test_same_row_appends),
    TEST_CASE(test_u_shape_merges_late),
    TEST_CASE(test_spiral),
    TEST_CASE(test_diagonal_4_vs_8),
    TEST_CASE(test_every_seam),
    TEST_CASE(test_concat_gap_and_empty),
    TEST_CASE(test_random_vs_flood),
    TEST_CASE(test_first_run_order),
    TEST_CASE(test_label_array),
    TEST_CASE(test_bad_args),
    TEST_CASE(test_long_chain),
    TEST_CASE(test_merge_tiles_joins_cut_runs),
    TEST_CASE(test_merge_tiles_bad_args))
