/* kernels/cnp_inside.c - a point inside an alert (see cnp_inside.h). */
#include "cnp_inside.h"

#include <math.h>

/* First run with y >= row (runs are sorted by y). */
static size_t row_begin(const cnp_run *run, size_t n, int32_t row)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (run[mid].y < row)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The run of row `row` that covers column x, or NULL. */
static const cnp_run *run_at(const cnp_run *run, size_t n, int32_t row, int32_t x)
{
    size_t lo = row_begin(run, n, row), hi = row_begin(run, n, row + 1);
    /* Last run of the row with x0 <= x: runs on a row are sorted by x0. */
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (run[mid].x0 <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == row_begin(run, n, row))
        return NULL;
    const cnp_run *r = &run[lo - 1];
    return x < r->x1 ? r : NULL;
}

static int scan_ordered(const cnp_run *run, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (run[i].x0 >= run[i].x1)
            return 0;
        if (i > 0 && (run[i].y < run[i - 1].y ||
                      (run[i].y == run[i - 1].y && run[i].x0 <= run[i - 1].x1)))
            return 0;
    }
    return 1;
}

typedef struct candidate {
    int32_t x, y;
    int64_t depth;
    double  dist2;    /* squared distance of the pixel centre to the centroid */
} candidate;

static int better(const candidate *a, const candidate *b)
{
    if (a->depth != b->depth)
        return a->depth > b->depth;
    if (a->dist2 != b->dist2)
        return a->dist2 < b->dist2;
    if (a->y != b->y)
        return a->y < b->y;
    return a->x < b->x;
}

cnp_status cnp_inside_point(const cnp_run *run, size_t n, int32_t *px, int32_t *py)
{
    if (!run || n == 0 || !px || !py || !scan_ordered(run, n))
        return CNP_E_ARG;

    /* Pixel centroid, summed in scan order (the same double every time). */
    double sx = 0.0, sy = 0.0, np = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double len = (double)run[i].x1 - run[i].x0;
        sx += len * ((double)run[i].x0 + run[i].x1) / 2.0;
        sy += len * (run[i].y + 0.5);
        np += len;
    }
    const double cx = sx / np, cy = sy / np;

    /* The centroid's row, or the nearest row that has runs (upper first). */
    const int32_t ymin = run[0].y, ymax = run[n - 1].y;
    int32_t row = (int32_t)floor(cy);
    if (row < ymin)
        row = ymin;
    if (row > ymax)
        row = ymax;
    for (int32_t d = 0;; d++) {
        if (row - d >= ymin && row_begin(run, n, row - d) < row_begin(run, n, row - d + 1)) {
            row -= d;
            break;
        }
        if (row + d <= ymax && row_begin(run, n, row + d) < row_begin(run, n, row + d + 1)) {
            row += d;
            break;
        }
    }

    candidate best = { 0, 0, -1, 0.0 };
    for (size_t i = row_begin(run, n, row); i < n && run[i].y == row; i++) {
        const int32_t x = run[i].x0 + (run[i].x1 - 1 - run[i].x0) / 2;
        int32_t ya = row, yb = row;
        while (ya > ymin && run_at(run, n, ya - 1, x))
            ya--;
        while (yb < ymax && run_at(run, n, yb + 1, x))
            yb++;
        const int32_t y = ya + (yb - ya) / 2;
        const cnp_run *h = run_at(run, n, y, x);   /* never NULL: [ya, yb] is unbroken */
        const int64_t hd = (int64_t)(x - h->x0 < h->x1 - 1 - x ? x - h->x0 : h->x1 - 1 - x) + 1;
        const int64_t vd = (int64_t)(y - ya < yb - y ? y - ya : yb - y) + 1;
        const double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
        const candidate c = { x, y, hd < vd ? hd : vd, dx * dx + dy * dy };
        if (best.depth < 0 || better(&c, &best))
            best = c;
    }
    *px = best.x;
    *py = best.y;
    return CNP_OK;
}
