/* tests/unit/test_gaps.c - alerts across unobserved gaps (kernels/cnp_gaps).
 *
 * Hand-drawn scenes: a clearing cut by a stripe, pieces apart by forest, a
 * wide cloud not crossed, a diagonal gap, the edge flag; then random scenes
 * where the run-based bridging must give exactly the components and flags
 * of a plain pixel-by-pixel reference written here from the rule in
 * cnp_gaps.h.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cnp_gaps.h"
#include "cnp_test.h"

enum { OTHER = 0, LOSS = 1, UNOBS = 2 };

/* '#' loss, 'u' unobserved, anything else observed. */
static uint8_t *grid_from(const char *const *rows, int h, int *w)
{
    *w = (int)strlen(rows[0]);
    uint8_t *g = malloc((size_t)(*w * h));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < *w; x++)
            g[y * *w + x] = rows[y][x] == '#' ? LOSS : rows[y][x] == 'u' ? UNOBS : OTHER;
    return g;
}

static void runs_of(const uint8_t *g, int w, int h, uint8_t cls, cnp_runs *r)
{
    uint8_t *row = malloc((size_t)w);
    cnp_runs_init(r);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++)
            row[x] = g[y * w + x] == cls;
        CHECK(cnp_runs_append_row(r, row, w, y, 0) == CNP_OK);
    }
    free(row);
}

typedef struct outcome {
    uint32_t *label;       /* per pixel: component of a loss pixel, else UINT32_MAX */
    uint8_t  *flags;       /* per pixel: the flags of its run                     */
    size_t    ncomp, nbridges;
} outcome;

static void outcome_free(outcome *o)
{
    free(o->label);
    free(o->flags);
}

/* The kernel's answer, spread back onto pixels. */
static outcome by_runs(const uint8_t *g, int w, int h, int conn, int gap)
{
    cnp_runs L, U;
    runs_of(g, w, h, LOSS, &L);
    runs_of(g, w, h, UNOBS, &U);
    CHECK(cnp_runs_link(&L, conn) == CNP_OK);
    uint8_t *fl = malloc(L.n + 1);
    uint32_t *lab = malloc((L.n + 1) * sizeof *lab);
    outcome o = { malloc((size_t)(w * h) * sizeof *o.label), calloc((size_t)(w * h), 1), 0, 0 };
    CHECK(cnp_gaps_bridge(&L, &U, gap, fl, &o.nbridges) == CNP_OK);
    CHECK(cnp_runs_label(&L, lab, &o.ncomp) == CNP_OK);
    for (int i = 0; i < w * h; i++)
        o.label[i] = UINT32_MAX;
    for (size_t i = 0; i < L.n; i++)
        for (int x = L.run[i].x0; x < L.run[i].x1; x++) {
            o.label[L.run[i].y * w + x] = lab[i];
            o.flags[L.run[i].y * w + x] = fl[i];
        }
    free(fl);
    free(lab);
    cnp_runs_free(&L);
    cnp_runs_free(&U);
    return o;
}

static int at(const uint8_t *g, int w, int h, int x, int y)
{
    return x < 0 || y < 0 || x >= w || y >= h ? OTHER : g[y * w + x];
}

static int find(int *p, int i)
{
    while (p[i] != i)
        i = p[i] = p[p[i]];
    return i;
}

static void unite(int *p, int a, int b)
{
    a = find(p, a);
    b = find(p, b);
    if (a != b)
        p[a > b ? a : b] = a < b ? a : b;
}

/* The rule of cnp_gaps.h, pixel by pixel over the whole grid. */
static outcome by_pixels(const uint8_t *g, int w, int h, int conn, int gap)
{
    int *p = malloc((size_t)(w * h) * sizeof *p);
    uint8_t *pf = calloc((size_t)(w * h), 1);
    outcome o = { malloc((size_t)(w * h) * sizeof *o.label), calloc((size_t)(w * h), 1), 0, 0 };
    static const int dir[4][2] = { { 1, 0 }, { 0, 1 }, { 1, 1 }, { -1, 1 } };
    for (int i = 0; i < w * h; i++)
        p[i] = i;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (g[y * w + x] != LOSS)
                continue;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    const int c = at(g, w, h, x + dx, y + dy);
                    if (c == UNOBS && (dx || dy))
                        pf[y * w + x] |= CNP_GAP_EDGE;
                    if (c == LOSS && (dx || dy) && (conn == 8 || !dx || !dy))
                        unite(p, y * w + x, (y + dy) * w + x + dx);
                }
            for (int d = 0; d < 4; d++) {
                int m = 0, xx = x + dir[d][0], yy = y + dir[d][1];
                while (at(g, w, h, xx, yy) == UNOBS && m <= gap) {
                    m++;
                    xx += dir[d][0];
                    yy += dir[d][1];
                }
                if (m >= 1 && m <= gap && at(g, w, h, xx, yy) == LOSS) {
                    unite(p, y * w + x, yy * w + xx);
                    pf[y * w + x] |= CNP_GAP_BRIDGED;
                    pf[yy * w + xx] |= CNP_GAP_BRIDGED;
                    o.nbridges++;
                }
            }
        }
    /* Components numbered by first pixel in scan order, as cnp_runs_label. */
    int *num = malloc((size_t)(w * h) * sizeof *num);
    for (int i = 0; i < w * h; i++) {
        o.label[i] = UINT32_MAX;
        num[i] = -1;
    }
    for (int i = 0; i < w * h; i++)
        if (g[i] == LOSS) {
            const int r = find(p, i);
            if (num[r] < 0)
                num[r] = (int)o.ncomp++;
            o.label[i] = (uint32_t)num[r];
        }
    /* Flags belong to runs: a run's flags are the OR of its pixels'. */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w;) {
            if (g[y * w + x] != LOSS) {
                x++;
                continue;
            }
            int e = x;
            uint8_t f = 0;
            for (; e < w && g[y * w + e] == LOSS; e++)
                f |= pf[y * w + e];
            for (; x < e; x++)
                o.flags[y * w + x] = f;
        }
    free(num);
    free(p);
    free(pf);
    return o;
}

static int same(const outcome *a, const outcome *b, int n)
{
    if (a->ncomp != b->ncomp || a->nbridges != b->nbridges)
        return 0;
    for (int i = 0; i < n; i++)
        if (a->label[i] != b->label[i] || a->flags[i] != b->flags[i])
            return 0;
    return 1;
}

static size_t components(const char *const *rows, int h, int gap, uint8_t *flag_any)
{
    int w;
    uint8_t *g = grid_from(rows, h, &w);
    outcome o = by_runs(g, w, h, 8, gap);
    outcome r = by_pixels(g, w, h, 8, gap);
    CHECK(same(&o, &r, w * h));
    *flag_any = 0;
    for (int i = 0; i < w * h; i++)
        *flag_any |= o.flags[i];
    const size_t n = o.ncomp;
    outcome_free(&o);
    outcome_free(&r);
    free(g);
    return n;
}

static void test_stripe_joined(void)
{
    static const char *const rows[] = {
        "..........",
        "..####....",
        "..####....",
        "uuuuuuuuuu",
        "uuuuuuuuuu",
        "uuuuuuuuuu",
        "..####....",
        "..####....",
    };
    uint8_t f;
    CHECK(components(rows, 8, 3, &f) == 1);
    CHECK(f == (CNP_GAP_EDGE | CNP_GAP_BRIDGED));
    CHECK(components(rows, 8, 2, &f) == 2);     /* the stripe is wider than the gap */
    CHECK(f == CNP_GAP_EDGE);
    CHECK(components(rows, 8, 0, &f) == 2);
}

static void test_forest_between_not_joined(void)
{
    static const char *const rows[] = {
        "..........",
        "..###.....",
        "..###.....",
        "..........",
        "..###.....",
        "..###.....",
    };
    uint8_t f;
    CHECK(components(rows, 6, 5, &f) == 2);
    CHECK(f == 0);
}

static void test_wide_cloud_not_crossed(void)
{
    static const char *const rows[] = {
        "###uuuuuu###",
        "###uuuuuu###",
        "............",
    };
    uint8_t f;
    CHECK(components(rows, 3, 5, &f) == 2);
    CHECK(components(rows, 3, 6, &f) == 1);
}

static void test_diagonal_and_partly_unobserved(void)
{
    static const char *const rows[] = {
        "##......",
        "##u.....",
        "...u....",
        "....##..",
        "....##..",
    };
    uint8_t f;
    CHECK(components(rows, 5, 2, &f) == 1);
    CHECK(components(rows, 5, 1, &f) == 2);
    CHECK(f == CNP_GAP_EDGE);
}

/* Random scenes: loss blobs, stripes and clouds; both readings agree for
 * every gap and connectivity. */
static void test_random_agree(void)
{
    uint64_t s = 12345;
    for (int t = 0; t < 60; t++) {
        const int w = 24 + t % 17, h = 20 + t % 13;
        uint8_t *g = malloc((size_t)(w * h));
        for (int i = 0; i < w * h; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            const unsigned v = (unsigned)(s >> 33) % 100;
            g[i] = v < 40 ? LOSS : v < 40u + 15u + (unsigned)t % 25u ? UNOBS : OTHER;
        }
        for (int y = t % 5; y < h; y += 6 + t % 3)       /* stripes */
            for (int x = 0; x < w; x++)
                g[y * w + x] = UNOBS;
        for (int gap = 0; gap <= 4; gap++)
            for (int conn = 4; conn <= 8; conn += 4) {
                outcome a = by_runs(g, w, h, conn, gap);
                outcome b = by_pixels(g, w, h, conn, gap);
                CHECK(same(&a, &b, w * h));
                outcome_free(&a);
                outcome_free(&b);
            }
        free(g);
    }
}

static void test_arguments(void)
{
    cnp_runs L, U;
    cnp_runs_init(&L);
    cnp_runs_init(&U);
    CHECK(cnp_gaps_bridge(NULL, &U, 1, NULL, NULL) == CNP_E_ARG);
    CHECK(cnp_gaps_bridge(&L, &U, -1, NULL, NULL) == CNP_E_ARG);
    CHECK(cnp_gaps_bridge(&L, &U, 4097, NULL, NULL) == CNP_E_ARG);
    CHECK(cnp_gaps_bridge(&L, &U, 3, NULL, NULL) == CNP_OK);
    cnp_run rows_out_of_order[2] = { { 5, 0, 4 }, { 4, 0, 4 } };
    cnp_runs bad = { rows_out_of_order, NULL, 2, 2 };
    CHECK(cnp_gaps_bridge(&L, &bad, 1, NULL, NULL) == CNP_E_ARG);
    cnp_runs_free(&L);
    cnp_runs_free(&U);
    CHECK(cnp_gaps_gap_px(150, 30) == 5);
    CHECK(cnp_gaps_gap_px(150, 10) == 15);
    CHECK(cnp_gaps_gap_px(0, 30) == 0);
    CHECK(cnp_gaps_gap_px(1e9, 1e-3) == 4096);
    CHECK(cnp_gaps_gap_px(NAN, 30) == 0);
}

CNP_TEST_MAIN("gaps",
              TEST_CASE(test_stripe_joined),
              TEST_CASE(test_forest_between_not_joined),
              TEST_CASE(test_wide_cloud_not_crossed),
              TEST_CASE(test_diagonal_and_partly_unobserved),
              TEST_CASE(test_random_agree),
              TEST_CASE(test_arguments))
