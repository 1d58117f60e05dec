/* kernels/cnp_runs.c - run storage and union-find for streaming CCL.
 *
 * Union is by smaller index: the root of a tree is always its earliest run, so
 * parent[i] <= i holds everywhere. That gives three things: find() terminates
 * even on untrusted input once the invariant is checked, labels can be
 * resolved in one forward pass, and component ids depend only on scan order,
 * not on how strips were cut or in which order unions happened.
 */
#include "cnp_runs.h"

#include <stdlib.h>
#include <string.h>

#define MAX_RUNS ((size_t)UINT32_MAX)

void cnp_runs_init(cnp_runs *r)
{
    if (r)
        memset(r, 0, sizeof *r);
}

void cnp_runs_free(cnp_runs *r)
{
    if (!r)
        return;
    free(r->run);
    free(r->parent);
    cnp_runs_init(r);
}

void cnp_runs_clear(cnp_runs *r)
{
    if (r)
        r->n = 0;
}

/* Make room for `need` runs. Both arrays are grown before cap changes, so a
 * failure half-way leaves a consistent (if partly bigger) object. */
static cnp_status reserve(cnp_runs *r, size_t need)
{
    if (need <= r->cap)
        return CNP_OK;
    if (need > MAX_RUNS)
        return CNP_E_NOMEM;

    size_t cap = r->cap ? r->cap : 64;
    while (cap < need)
        cap = cap > MAX_RUNS / 2 ? MAX_RUNS : cap * 2;
    if (cap > SIZE_MAX / sizeof(cnp_run))
        return CNP_E_NOMEM;

    cnp_run *run = realloc(r->run, cap * sizeof *run);
    if (!run)
        return CNP_E_NOMEM;
    r->run = run;
    uint32_t *parent = realloc(r->parent, cap * sizeof *parent);
    if (!parent)
        return CNP_E_NOMEM;
    r->parent = parent;
    r->cap = cap;
    return CNP_OK;
}

/* Scan order and maximality: the row sweep in link_rows() relies on both. */
static int runs_ordered(const cnp_run *run, size_t n)
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

static int parents_ok(const uint32_t *parent, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (parent[i] > i)
            return 0;
    return 1;
}

/* Iterative find with full path compression: a scene can hold millions of
 * runs in one component, too deep for recursion. */
static uint32_t uf_find(uint32_t *parent, uint32_t i)
{
    uint32_t root = i;
    while (parent[root] != root)
        root = parent[root];
    while (parent[i] != root) {
        const uint32_t next = parent[i];
        parent[i] = root;
        i = next;
    }
    return root;
}

static void uf_union(uint32_t *parent, uint32_t a, uint32_t b)
{
    a = uf_find(parent, a);
    b = uf_find(parent, b);
    if (a < b)
        parent[b] = a;
    else if (b < a)
        parent[a] = b;
}

cnp_status cnp_runs_union(cnp_runs *r, size_t a, size_t b)
{
    if (!r || a >= r->n || b >= r->n)
        return CNP_E_ARG;
    uf_union(r->parent, (uint32_t)a, (uint32_t)b);
    return CNP_OK;
}

/* Union runs [a0, a1) of row y with runs [b0, b1) of row y+1. slack is 0 for
 * 4-connectivity and 1 for 8 (diagonal contact). Two-pointer sweep: whichever
 * run ends first cannot touch anything further right on the other row, because
 * runs on a row are separated by at least one background pixel. */
static void link_rows(const cnp_run *run, uint32_t *parent, size_t a0, size_t a1,
                      size_t b0, size_t b1, int64_t slack)
{
    size_t i = a0, j = b0;

    while (i < a1 && j < b1) {
        const cnp_run *a = &run[i];
        const cnp_run *b = &run[j];

        if (a->x0 < (int64_t)b->x1 + slack && b->x0 < (int64_t)a->x1 + slack)
            uf_union(parent, (uint32_t)i, (uint32_t)j);
        if (a->x1 < b->x1)
            i++;
        else
            j++;
    }
}

/* End of the row that starts at index i. */
static size_t row_end(const cnp_run *run, size_t n, size_t i)
{
    const int32_t y = run[i].y;
    while (i < n && run[i].y == y)
        i++;
    return i;
}

static void link_all(const cnp_run *run, uint32_t *parent, size_t n, int64_t slack)
{
    size_t a0 = 0;
    size_t a1 = n ? row_end(run, n, 0) : 0;

    while (a1 < n) {
        const size_t b1 = row_end(run, n, a1);
        if ((int64_t)run[a1].y == (int64_t)run[a0].y + 1)
            link_rows(run, parent, a0, a1, a1, b1, slack);
        a0 = a1;
        a1 = b1;
    }
}

/* label[i] = label[parent[i]] is already final when i is reached, because
 * parent[i] < i; so one forward pass numbers components by first run. Writing
 * label[i] only after reading parent[i] lets label alias parent. */
static size_t resolve(const uint32_t *parent, uint32_t *label, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        const uint32_t p = parent[i];
        label[i] = p == i ? (uint32_t)k++ : label[p];
    }
    return k;
}

static int slack_of(int connectivity, int64_t *slack)
{
    if (connectivity != 4 && connectivity != 8)
        return 0;
    *slack = connectivity == 8;
    return 1;
}

cnp_status cnp_runs_append_row(cnp_runs *r, const uint8_t *mask, ptrdiff_t width,
                               int32_t y, int32_t x_origin)
{
    if (!r || width < 0 || (width > 0 && !mask))
        return CNP_E_ARG;
    if ((int64_t)x_origin + width > INT32_MAX)
        return CNP_E_ARG;

    cnp_run *last = r->n ? &r->run[r->n - 1] : NULL;
    if (last && y < last->y)
        return CNP_E_ARG;

    /* Count first, so the arrays grow once and an error leaves r untouched. */
    size_t nruns = 0;
    ptrdiff_t first = -1;
    for (ptrdiff_t x = 0; x < width; x++) {
        if (mask[x] && (x == 0 || !mask[x - 1])) {
            if (first < 0)
                first = x;
            nruns++;
        }
    }
    if (nruns == 0)
        return CNP_OK;

    int extend = 0;
    if (last && last->y == y) {
        const int64_t fx = (int64_t)x_origin + first;
        if (fx < last->x1)
            return CNP_E_ARG;
        extend = fx == last->x1;
    }
    if (r->n > MAX_RUNS - nruns)
        return CNP_E_NOMEM;
    cnp_status st = reserve(r, r->n + nruns - (size_t)extend);
    if (st != CNP_OK)
        return st;

    for (ptrdiff_t x = first; x < width;) {
        const ptrdiff_t x0 = x;
        while (x < width && mask[x])
            x++;
        const int32_t rx0 = (int32_t)(x_origin + x0);
        const int32_t rx1 = (int32_t)(x_origin + x);
        if (extend) {
            r->run[r->n - 1].x1 = rx1;
            extend = 0;
        } else {
            r->run[r->n] = (cnp_run){ y, rx0, rx1 };
            r->parent[r->n] = (uint32_t)r->n;
            r->n++;
        }
        while (x < width && !mask[x])
            x++;
    }
    return CNP_OK;
}

cnp_status cnp_runs_push(cnp_runs *r, int32_t y, int32_t x0, int32_t x1, int *extended)
{
    if (!r || x1 <= x0)
        return CNP_E_ARG;
    cnp_run *last = r->n ? &r->run[r->n - 1] : NULL;
    if (last && (y < last->y || (y == last->y && x0 < last->x1)))
        return CNP_E_ARG;
    if (last && y == last->y && x0 == last->x1) {
        last->x1 = x1;
        if (extended)
            *extended = 1;
        return CNP_OK;
    }
    if (r->n >= MAX_RUNS)
        return CNP_E_NOMEM;
    cnp_status st = reserve(r, r->n + 1);
    if (st != CNP_OK)
        return st;
    r->run[r->n] = (cnp_run){ y, x0, x1 };
    r->parent[r->n] = (uint32_t)r->n;
    r->n++;
    if (extended)
        *extended = 0;
    return CNP_OK;
}

cnp_status cnp_runs_link(cnp_runs *r, int connectivity)
{
    int64_t slack;

    if (!r || !slack_of(connectivity, &slack))
        return CNP_E_ARG;
    if (r->n == 0)
        return CNP_OK;
    if (!r->run || !r->parent || r->n > MAX_RUNS ||
        !runs_ordered(r->run, r->n) || !parents_ok(r->parent, r->n))
        return CNP_E_ARG;
    link_all(r->run, r->parent, r->n, slack);
    return CNP_OK;
}

cnp_status cnp_runs_concat(cnp_runs *dst, const cnp_runs *strip, int connectivity)
{
    int64_t slack;

    if (!dst || !strip || dst == strip || !slack_of(connectivity, &slack))
        return CNP_E_ARG;
    if (strip->n == 0)
        return CNP_OK;
    if (!strip->run || !strip->parent ||
        !runs_ordered(strip->run, strip->n) || !parents_ok(strip->parent, strip->n))
        return CNP_E_ARG;

    const size_t base = dst->n;
    if (base && strip->run[0].y <= dst->run[base - 1].y)
        return CNP_E_ARG;
    if (strip->n > MAX_RUNS - base)
        return CNP_E_NOMEM;
    cnp_status st = reserve(dst, base + strip->n);
    if (st != CNP_OK)
        return st;

    memcpy(dst->run + base, strip->run, strip->n * sizeof *strip->run);
    for (size_t i = 0; i < strip->n; i++)
        dst->parent[base + i] = strip->parent[i] + (uint32_t)base;
    dst->n = base + strip->n;

    if (base && (int64_t)dst->run[base].y == (int64_t)dst->run[base - 1].y + 1) {
        size_t a0 = base;
        while (a0 > 0 && dst->run[a0 - 1].y == dst->run[base - 1].y)
            a0--;
        const size_t b1 = row_end(dst->run, dst->n, base);
        link_rows(dst->run, dst->parent, a0, base, base, b1, slack);
    }
    return CNP_OK;
}

cnp_status cnp_runs_label(cnp_runs *r, uint32_t *label, size_t *ncomp)
{
    if (!r || !ncomp || (r->n && (!label || !r->parent)))
        return CNP_E_ARG;
    if (r->n > MAX_RUNS || !parents_ok(r->parent, r->n))
        return CNP_E_ARG;

    *ncomp = resolve(r->parent, label, r->n);
    /* parent[parent[i]] is already a root when i is reached: full compression
     * in the same single pass. */
    for (size_t i = 0; i < r->n; i++)
        r->parent[i] = r->parent[r->parent[i]];
    return CNP_OK;
}

cnp_status cnp_runs_label_array(const cnp_run *run, size_t n, int connectivity,
                                uint32_t *parent, uint32_t *label, size_t *ncomp)
{
    int64_t slack;

    if (!ncomp || !slack_of(connectivity, &slack))
        return CNP_E_ARG;
    if (n && (!run || !parent || !label))
        return CNP_E_ARG;
    if (n > MAX_RUNS || !runs_ordered(run, n))
        return CNP_E_ARG;

    for (size_t i = 0; i < n; i++)
        parent[i] = (uint32_t)i;
    link_all(run, parent, n, slack);
    *ncomp = resolve(parent, label, n);
    return CNP_OK;
}

cnp_status cnp_runs_group(const uint32_t *label, size_t n, size_t ncomp,
                          size_t *start, uint32_t *order)
{
    if (!start || (n && (!label || !order)) || n > MAX_RUNS ||
        ncomp >= SIZE_MAX / sizeof *start)
        return CNP_E_ARG;

    memset(start, 0, (ncomp + 1) * sizeof *start);
    for (size_t i = 0; i < n; i++) {
        if (label[i] >= ncomp)
            return CNP_E_ARG;
        start[label[i] + 1]++;
    }
    for (size_t c = 0; c < ncomp; c++)
        start[c + 1] += start[c];
    /* Fill using start[c] as a cursor, then shift back: no extra array. */
    for (size_t i = 0; i < n; i++)
        order[start[label[i]]++] = (uint32_t)i;
    for (size_t c = ncomp; c > 0; c--)
        start[c] = start[c - 1];
    start[0] = 0;
    return CNP_OK;
}

cnp_status cnp_runs_merge_tiles(cnp_runs *dst, const void *runs, size_t stride,
                                const size_t *tile_first, int ntiles, int32_t y0, int32_t h,
                                size_t *pos, cnp_runs_fold_fn fold, void *arg)
{
    if (!dst || !tile_first || !pos || ntiles < 0 || h < 0 || stride < sizeof(cnp_run) ||
        (!runs && ntiles > 0 && tile_first[ntiles] > tile_first[0]))
        return CNP_E_ARG;
    const unsigned char *base = runs;
    for (int k = 0; k < ntiles; k++)
        pos[k] = tile_first[k];
    for (int32_t y = y0; y < y0 + h; y++) {
        for (int k = 0; k < ntiles; k++) {
            for (; pos[k] < tile_first[k + 1]; pos[k]++) {
                const cnp_run *r = (const cnp_run *)(const void *)(base + pos[k] * stride);
                if (r->y != y)
                    break;
                int extended = 0;
                cnp_status st = cnp_runs_push(dst, y, r->x0, r->x1, &extended);
                if (st == CNP_OK && fold)
                    st = fold(arg, pos[k], extended);
                if (st != CNP_OK)
                    return st;
            }
        }
    }
    for (int k = 0; k < ntiles; k++)
        if (pos[k] != tile_first[k + 1])
            return CNP_E_ARG;   /* a run outside rows y0 .. y0+h-1, or out of order */
    return CNP_OK;
}
