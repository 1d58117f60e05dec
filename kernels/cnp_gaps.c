/* kernels/cnp_gaps.c - joining loss runs across short unobserved gaps.
 *
 * Both run sets are in scan order, so a row's runs are a contiguous slice
 * found through a per-row index, and "what is at pixel (x, y)" is a binary
 * search in that slice. Walks start only where a loss pixel has an
 * unobserved pixel next to it in the walk's direction, so the work grows
 * with the length of the borders between loss and unobserved, not with the
 * scene.
 */
#include "cnp_gaps.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int cnp_gaps_gap_px(double gap_m, double pixel_m)
{
    if (!(gap_m > 0.0) || !(pixel_m > 0.0) || !isfinite(gap_m) || !isfinite(pixel_m))
        return 0;
    const double g = floor(gap_m / pixel_m + 1e-9);
    return g > 4096 ? 4096 : (int)g;
}

#define NONE SIZE_MAX

/* The runs of one set by row: row y's runs are run[first[y - y0] ..
 * first[y - y0 + 1]). */
typedef struct row_index {
    const cnp_run *run;
    int64_t        y0, y1;           /* rows held: [y0, y1]; y1 < y0 when none */
    size_t        *first;
} row_index;

static int ordered(const cnp_runs *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const cnp_run *a = &r->run[i];
        if (a->x0 >= a->x1)
            return 0;
        if (i + 1 < r->n) {
            const cnp_run *b = &r->run[i + 1];
            if (b->y < a->y || (b->y == a->y && b->x0 <= a->x1))
                return 0;
        }
    }
    return 1;
}

static cnp_status index_build(const cnp_runs *r, row_index *ix)
{
    ix->run = r->run;
    ix->first = NULL;
    if (r->n == 0) {
        ix->y0 = 0;
        ix->y1 = -1;
        return CNP_OK;
    }
    ix->y0 = r->run[0].y;
    ix->y1 = r->run[r->n - 1].y;
    const size_t rows = (size_t)(ix->y1 - ix->y0 + 1);
    ix->first = malloc((rows + 1) * sizeof *ix->first);
    if (!ix->first)
        return CNP_E_NOMEM;
    size_t i = 0;
    for (size_t k = 0; k <= rows; k++) {
        while (i < r->n && r->run[i].y < ix->y0 + (int64_t)k)
            i++;
        ix->first[k] = i;
    }
    return CNP_OK;
}

/* The first run of row y that ends after column x (row end when none);
 * *end gets the row's end. */
static size_t first_after(const row_index *ix, int64_t y, int64_t x, size_t *end)
{
    if (y < ix->y0 || y > ix->y1) {
        *end = 0;
        return 0;
    }
    size_t lo = ix->first[y - ix->y0], hi = ix->first[y - ix->y0 + 1];
    *end = hi;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (ix->run[mid].x1 > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The run holding pixel (x, y), or NONE. */
static size_t holding(const row_index *ix, int64_t y, int64_t x)
{
    size_t end;
    const size_t j = first_after(ix, y, x, &end);
    return j < end && ix->run[j].x0 <= x ? j : NONE;
}

/* Does a run of row y overlap columns [a, b)? */
static int overlaps(const row_index *ix, int64_t y, int64_t a, int64_t b)
{
    size_t end;
    const size_t j = first_after(ix, y, a, &end);
    return j < end && ix->run[j].x0 < b;
}

typedef struct bridging {
    cnp_runs        *loss;
    row_index        L, U;
    int              gap;
    uint8_t         *flags;
    size_t           nbridges;
} bridging;

static void join(bridging *b, size_t i, size_t k)
{
    cnp_runs_union(b->loss, i, k);
    if (b->flags) {
        b->flags[i] |= CNP_GAP_BRIDGED;
        b->flags[k] |= CNP_GAP_BRIDGED;
    }
    b->nbridges++;
}

/* From the unobserved pixel (x, y), one step past loss run i in direction
 * (dx, 1): on over unobserved pixels to a loss pixel within the gap. */
static void walk(bridging *b, size_t i, int64_t x, int64_t y, int dx)
{
    for (int m = 1;;) {
        x += dx;
        y++;
        if (holding(&b->U, y, x) != NONE) {
            if (++m > b->gap)
                return;
            continue;
        }
        const size_t k = holding(&b->L, y, x);
        if (k != NONE)
            join(b, i, k);
        return;
    }
}

/* Walks down (dx = 0) or diagonally down (dx = +-1) from the pixels of loss
 * run i whose next pixel that way is unobserved. */
static void walks_down(bridging *b, size_t i, int dx)
{
    const cnp_run *r = &b->loss->run[i];
    const int64_t y = (int64_t)r->y + 1, a = (int64_t)r->x0 + dx, e = (int64_t)r->x1 + dx;
    size_t end;
    for (size_t j = first_after(&b->U, y, a, &end); j < end && b->U.run[j].x0 < e; j++) {
        const int64_t from = b->U.run[j].x0 > a ? b->U.run[j].x0 : a;
        const int64_t to = b->U.run[j].x1 < e ? b->U.run[j].x1 : e;
        for (int64_t x = from; x < to; x++)
            walk(b, i, x, y, dx);
    }
}

static void bridge_run(bridging *b, size_t i)
{
    const cnp_run *r = &b->loss->run[i];
    const int64_t y = r->y, x1 = r->x1;
    /* East: the unobserved run right after this one, and loss right after it. */
    const size_t u = holding(&b->U, y, x1);
    if (u != NONE) {
        const int64_t e = b->U.run[u].x1;
        const size_t k = e - x1 <= b->gap ? holding(&b->L, y, e) : NONE;
        if (k != NONE)
            join(b, i, k);
    }
    for (int dx = -1; dx <= 1; dx++)
        walks_down(b, i, dx);
}

cnp_status cnp_gaps_bridge(cnp_runs *loss, const cnp_runs *unobserved, int gap_px,
                           uint8_t *flags, size_t *nbridges)
{
    if (!loss || !unobserved || gap_px < 0 || gap_px > 4096 || (loss->n && !loss->run) ||
        (unobserved->n && !unobserved->run) || !ordered(loss) || !ordered(unobserved))
        return CNP_E_ARG;
    bridging b = { .loss = loss, .gap = gap_px, .flags = flags };
    cnp_status st = index_build(loss, &b.L);
    if (st == CNP_OK && (st = index_build(unobserved, &b.U)) != CNP_OK)
        free(b.L.first);
    if (st != CNP_OK)
        return st;
    if (flags && loss->n)
        memset(flags, 0, loss->n);
    for (size_t i = 0; i < loss->n; i++) {
        const cnp_run *r = &loss->run[i];
        const int64_t y = r->y;
        if (flags && (holding(&b.U, y, (int64_t)r->x0 - 1) != NONE ||
                      holding(&b.U, y, r->x1) != NONE ||
                      overlaps(&b.U, y - 1, (int64_t)r->x0 - 1, (int64_t)r->x1 + 1) ||
                      overlaps(&b.U, y + 1, (int64_t)r->x0 - 1, (int64_t)r->x1 + 1)))
            flags[i] |= CNP_GAP_EDGE;
        if (gap_px > 0)
            bridge_run(&b, i);
    }
    free(b.L.first);
    free(b.U.first);
    if (nbridges)
        *nbridges = b.nbridges;
    return CNP_OK;
}
