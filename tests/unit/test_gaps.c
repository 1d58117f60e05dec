/* tests/unit/test_gaps.c - alerts across unobserved gaps (kernels/cnp_gaps).
 *
 * Hand-drawn classes: a clearing cut by a stripe of unobserved pixels, two
 * pieces apart by forest, pieces round a cloud (not joined), a diagonal
 * gap; the minimum area counted on loss pixels only; rows pushed in pieces;
 * and random scenes labelled whole and in strips (each with its halo)
 * giving the same alerts.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cnp_change.h"
#include "cnp_gaps.h"
#include "cnp_test.h"

/* Classes from strings: '#' loss, '.' forest, 'u' masked (cloud), 'n' no
 * data (a stripe), 'o' other. */
static uint8_t *classes_from(const char *const *rows, int h, int *w)
{
    *w = (int)strlen(rows[0]);
    uint8_t *c = malloc((size_t)(*w * h));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < *w; x++) {
            const char ch = rows[y][x];
            c[y * *w + x] = ch == '#' ? CNP_CLASS_LOSS : ch == 'u' ? CNP_CLASS_UNOBSERVED
                          : ch == 'n' ? CNP_GAP_CLASS_NODATA
                          : ch == 'o' ? CNP_CLASS_OTHER : CNP_CLASS_FOREST;
        }
    return c;
}

/* Alerts of classes[w x h] cut into strips of sh rows (halo max(1, gap)). */
static size_t alerts_of(const uint8_t *cls, int w, int h, int sh, int gap, int through,
                        int conn, int64_t min_px, cnp_gap_alert **out)
{
    const int halo = gap > 1 ? gap : 1;
    uint8_t *codes = malloc((size_t)(w * h));
    cnp_runs all, strip;
    cnp_gap_stats sall, sstrip;

    cnp_runs_init(&all);
    cnp_runs_init(&strip);
    cnp_gap_stats_init(&sall);
    cnp_gap_stats_init(&sstrip);
    for (int y0 = 0; y0 < h; y0 += sh) {
        const int y1 = y0 + sh < h ? y0 + sh : h;
        const int ha = y0 - halo < 0 ? 0 : y0 - halo, hb = y1 + halo > h ? h : y1 + halo;
        const cnp_mask_window win = { cls + ha * w, w, hb - ha, w, 0, y0 - ha, w, y1 - y0 };
        CHECK(cnp_gaps_mark(&win, gap, through, codes + y0 * w, w) == CNP_OK);
        cnp_runs_clear(&strip);
        cnp_gap_stats_clear(&sstrip);
        for (int y = y0; y < y1; y++)
            CHECK(cnp_gaps_push_row(&strip, &sstrip, codes + y * w, w, y, 0) == CNP_OK);
        CHECK(cnp_runs_link(&strip, conn) == CNP_OK);
        CHECK(cnp_gaps_concat(&all, &sall, &strip, &sstrip, conn) == CNP_OK);
    }
    uint32_t *label = malloc((all.n + 1) * sizeof *label);
    size_t ncomp = 0;
    CHECK(cnp_runs_label(&all, label, &ncomp) == CNP_OK);
    *out = malloc((ncomp + 1) * sizeof **out);
    CHECK(cnp_gaps_summarise(&all, &sall, label, ncomp, min_px, *out) == CNP_OK);
    free(label);
    cnp_runs_free(&all);
    cnp_runs_free(&strip);
    cnp_gap_stats_free(&sall);
    cnp_gap_stats_free(&sstrip);
    free(codes);
    return ncomp;
}

static void test_stripe_joined(void)
{
    static const char *const rows[] = {
        "..........",
        "..####....",
        "..####....",
        "nnnnnnnnnn",
        "nnnnnnnnnn",
        "nnnnnnnnnn",
        "..####....",
        "..###.....",
        "..........",
    };
    int w;
    uint8_t *c = classes_from(rows, 9, &w);
    cnp_gap_alert *a;

    /* a 3 px gap: joined with gap 3 or more, not with 2 */
    size_t n = alerts_of(c, w, 9, 100, 3, 0, 8, 12, &a);
    CHECK(n == 1);
    CHECK(a[0].loss_px == 15 && a[0].keep && a[0].partially_observed);
    CHECK(a[0].bridge_px == 3 * 4);            /* columns 2..5: loss above and below */
    free(a);
    n = alerts_of(c, w, 9, 100, 3, 0, 8, 16, &a);   /* bridges do not count as area */
    CHECK(n == 1 && !a[0].keep);
    free(a);
    n = alerts_of(c, w, 9, 100, 2, 0, 8, 12, &a);
    CHECK(n == 2);
    CHECK(a[0].loss_px == 8 && !a[0].keep && a[0].partially_observed);
    CHECK(a[1].loss_px == 7 && !a[1].keep);
    free(a);
    /* gap 0: plain minimum area, still flagged for bordering the gap */
    n = alerts_of(c, w, 9, 100, 0, 0, 8, 12, &a);
    CHECK(n == 2 && a[0].bridge_px == 0 && a[0].partially_observed);
    free(a);
    /* the same stripe masked (a cloud band): bridged only through_masked */
    for (int i = 0; i < w * 9; i++)
        c[i] = c[i] == CNP_GAP_CLASS_NODATA ? CNP_CLASS_UNOBSERVED : c[i];
    n = alerts_of(c, w, 9, 100, 3, 0, 8, 12, &a);
    CHECK(n == 2 && a[0].partially_observed);
    free(a);
    n = alerts_of(c, w, 9, 100, 3, 1, 8, 12, &a);
    CHECK(n == 1 && a[0].bridge_px == 12);
    free(a);
    free(c);
}

static void test_forest_between_not_joined(void)
{
    static const char *const rows[] = {
        "...........",
        ".###...###.",
        ".###...###.",
        ".###...###.",
        "uuuu.......",
        "...........",
        "uuuu.......",
    };
    int w;
    uint8_t *c = classes_from(rows, 7, &w);
    cnp_gap_alert *a;
    size_t n = alerts_of(c, w, 7, 100, 3, 1, 8, 10, &a);

    /* the cloud below the left piece has forest, not loss, beyond it: no
     * bridge, but the piece borders it; the one further down touches nothing */
    CHECK(n == 2);
    CHECK(a[0].loss_px == 9 && a[0].bridge_px == 0 && a[0].partially_observed);
    CHECK(a[1].loss_px == 9 && a[1].bridge_px == 0 && !a[1].partially_observed);
    CHECK(!a[0].keep && !a[1].keep);
    free(a);
    free(c);
}

/* Pieces round a cloud join only across chords of the cloud at most gap_px
 * long (here the four corner diagonals are 3 pixels, straight across 7),
 * and only when masked pixels may bridge at all. */
static void test_cloud_rim_and_diagonal(void)
{
    static const char *const rim[] = {
        "...............",
        ".......#.......",
        "....uuuuuuu....",
        "....uuuuuuu....",
        "....uuuuuuu....",
        "...#uuuuuuu#...",
        "....uuuuuuu....",
        "....uuuuuuu....",
        "....uuuuuuu....",
        ".......#.......",
        "...............",
    };
    int w;
    uint8_t *c = classes_from(rim, 11, &w);
    cnp_gap_alert *a;
    size_t n = alerts_of(c, w, 11, 100, 2, 1, 8, 1, &a);
    CHECK(n == 4);
    for (size_t k = 0; k < n; k++)
        CHECK(a[k].loss_px == 1 && a[k].bridge_px == 0 && a[k].partially_observed);
    free(a);
    n = alerts_of(c, w, 11, 4, 3, 1, 8, 1, &a);   /* strips of 4 rows, halo 3 */
    CHECK(n == 1 && a[0].loss_px == 4 && a[0].bridge_px == 4 * 3);
    free(a);
    n = alerts_of(c, w, 11, 4, 7, 0, 8, 1, &a);   /* the default: never across a cloud */
    CHECK(n == 4);
    free(a);
    free(c);

    static const char *const diag[] = {
        "##......",
        "###n....",
        ".##nn...",
        "...nnn..",
        "....nn##",
        ".....n##",
        "......##",
    };
    c = classes_from(diag, 7, &w);
    n = alerts_of(c, w, 7, 100, 3, 0, 8, 1, &a);
    CHECK(n == 1 && a[0].loss_px == 13 && a[0].bridge_px > 0);
    free(a);
    n = alerts_of(c, w, 7, 100, 1, 0, 8, 1, &a);
    CHECK(n == 2);
    free(a);
    free(c);
}

/* A run pushed in two pieces that meet: one run, statistics added up. */
static void test_push_in_pieces(void)
{
    const uint8_t row[8] = { 0, CNP_GAP_LOSS, CNP_GAP_BRIDGE, CNP_GAP_LOSS | CNP_GAP_EDGE,
                             CNP_GAP_LOSS, 0, CNP_GAP_LOSS, 0 };
    cnp_runs r;
    cnp_gap_stats s;
    size_t idx = 99;

    cnp_runs_init(&r);
    cnp_gap_stats_init(&s);
    CHECK(cnp_gaps_push_row(&r, &s, row, 3, 5, 10) == CNP_OK);
    CHECK(cnp_gaps_push_row(&r, &s, row + 3, 5, 5, 13) == CNP_OK);
    CHECK(r.n == 2 && s.n == 2);
    CHECK(r.run[0].x0 == 11 && r.run[0].x1 == 15 && r.run[1].x0 == 16);
    CHECK(s.loss[0] == 3 && s.bridge[0] == 1 && s.edge[0] == 1);
    CHECK(s.loss[1] == 1 && s.bridge[1] == 0 && s.edge[1] == 0);
    CHECK(cnp_gaps_find_run(&r, 5, 14, &idx) == CNP_OK && idx == 0);
    CHECK(cnp_gaps_find_run(&r, 5, 16, &idx) == CNP_OK && idx == 1);
    CHECK(cnp_gaps_find_run(&r, 5, 15, &idx) == CNP_E_DATA);
    CHECK(cnp_gaps_find_run(&r, 4, 12, &idx) == CNP_E_DATA);
    /* out of order, misaligned: refused, nothing changed */
    CHECK(cnp_gaps_push_row(&r, &s, row, 8, 4, 0) == CNP_E_ARG);
    CHECK(r.n == 2 && s.n == 2);
    s.n = 1;
    CHECK(cnp_gaps_push_row(&r, &s, row, 8, 6, 0) == CNP_E_ARG);
    s.n = 2;
    CHECK(cnp_gaps_gap_px(250.0, 30.0) == 8 && cnp_gaps_gap_px(60.0, 30.0) == 2);
    CHECK(cnp_gaps_gap_px(0.0, 30.0) == 0 && cnp_gaps_gap_px(100.0, NAN) == 0);
    cnp_runs_free(&r);
    cnp_gap_stats_free(&s);
}

/* Random stripes, clouds and loss: strips of 7, 16 and all rows agree. */
static void test_strips_agree(void)
{
    enum { W = 120, H = 90 };
    static uint8_t cls[W * H];
    uint32_t r = 2024;
    for (int i = 0; i < W * H; i++) {
        r ^= r << 13;
        r ^= r >> 17;
        r ^= r << 5;
        const int x = i % W, y = i / W;
        const int stripe = (y + x / 8) % 14 < 3;
        const int loss = ((x / 11) + (y / 9)) % 4 == 0 && (r & 15) != 0;
        cls[i] = stripe ? CNP_GAP_CLASS_NODATA : loss ? CNP_CLASS_LOSS
               : (r >> 4) % 23 == 0 ? CNP_CLASS_UNOBSERVED
               : (r >> 4) % 9 == 0 ? CNP_CLASS_OTHER : CNP_CLASS_FOREST;
    }
    for (int gap = 0; gap <= 7; gap++) {
        cnp_gap_alert *a, *b, *c;
        const int through = gap % 2;
        const size_t na = alerts_of(cls, W, H, H, gap, through, 8, 40, &a);
        const size_t nb = alerts_of(cls, W, H, 7, gap, through, 8, 40, &b);
        const size_t nc = alerts_of(cls, W, H, 16, gap, through, 8, 40, &c);
        CHECK(na == nb && na == nc && na > 5);
        CHECK(memcmp(a, b, na * sizeof *a) == 0);
        CHECK(memcmp(a, c, na * sizeof *a) == 0);
        int64_t loss = 0;
        for (size_t k = 0; k < na; k++)
            loss += a[k].loss_px;
        int64_t want = 0;
        for (int i = 0; i < W * H; i++)
            want += cls[i] == CNP_CLASS_LOSS;
        CHECK(loss == want);
        free(a);
        free(b);
        free(c);
    }
}

static void test_mark_arguments(void)
{
    uint8_t cls[16] = { 0 }, out[16];
    cnp_mask_window win = { cls, 4, 4, 4, 0, 0, 4, 4 };

    CHECK(cnp_gaps_mark(&win, 1, 0, NULL, 4) == CNP_E_ARG);
    CHECK(cnp_gaps_mark(&win, -1, 0, out, 4) == CNP_E_ARG);
    CHECK(cnp_gaps_mark(&win, 1, 0, out, 3) == CNP_E_ARG);
    win.core_h = 5;
    CHECK(cnp_gaps_mark(&win, 1, 0, out, 4) == CNP_E_ARG);
    win.core_h = 4;
    CHECK(cnp_gaps_mark(&win, 3, 1, out, 4) == CNP_OK);
    for (int i = 0; i < 16; i++)
        CHECK(out[i] == 0);                   /* unobserved, no loss: nothing */
}

CNP_TEST_MAIN("gaps",
              TEST_CASE(test_stripe_joined),
              TEST_CASE(test_forest_between_not_joined),
              TEST_CASE(test_cloud_rim_and_diagonal),
              TEST_CASE(test_push_in_pieces),
              TEST_CASE(test_strips_agree),
              TEST_CASE(test_mark_arguments))
