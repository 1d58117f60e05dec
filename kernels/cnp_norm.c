/* kernels/cnp_norm.c - per-cell dNDVI histograms, windowed medians, and
 * the bilinear correction.
 *
 * Counts are uint16 per cell and bin: a cell holds at most 128 x 128 =
 * 16384 pixels, and every cell also counts the pixels that passed through
 * it (`seen`), so adding a pixel twice is caught before a count can wrap.
 * A window's histogram is the sum of its cells' histograms; for the first
 * window the sums over its rows are kept per column (one cell row at a
 * time), so a cell costs (2r + 1) x nbins additions. The fallbacks are rare
 * and summed directly.
 */
#include "cnp_norm.h"
#include "cnp_vector.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_CELL = 128, MIN_BINS = 16, MAX_BINS = 1024, MAX_RADIUS = 4096 };

/* The pixel loops of cnp_norm_accumulate() and cnp_norm_apply() are
 * branch-free, in chunks of CHUNK pixels, so that the compiler vectorises
 * them; the operations and their order are those of the rules in the
 * header, in double precision without contraction: the same bits as a
 * pixel-by-pixel loop. x86-64 gets an AVX2 copy beside the baseline one,
 * picked at load time (as in cnp_change.c). */
enum { CHUNK = 256 };

struct cnp_norm_grid {
    cnp_norm_params p;
    int64_t  width, height, ncx, ncy, cy0, cy1;
    uint16_t *hist;     /* [(cy - cy0) * ncx + cx][bin]                      */
    uint16_t *seen;     /* pixels accumulated per cell (reference or not)   */
    uint32_t *vsum;     /* scratch: first-window column sums, ncx x nbins   */
    uint8_t  *need;     /* scratch: per column, the fallback a cell needs   */
};

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static int params_ok(const cnp_norm_params *p)
{
    return p && p->cell_px >= 4 && p->cell_px <= MAX_CELL && p->radius_cells >= 0 &&
           p->radius_cells <= p->wide_cells && p->wide_cells <= MAX_RADIUS &&
           p->min_count >= 1 && isfinite(p->forest_ndvi) && p->max_abs_dndvi > 0.0 &&
           p->max_abs_dndvi <= 2.0 && p->nbins >= MIN_BINS && p->nbins <= MAX_BINS;
}

static int same_params(const cnp_norm_params *a, const cnp_norm_params *b)
{
    return a->cell_px == b->cell_px && a->radius_cells == b->radius_cells &&
           a->wide_cells == b->wide_cells && a->min_count == b->min_count &&
           a->forest_ndvi == b->forest_ndvi && a->max_abs_dndvi == b->max_abs_dndvi &&
           a->nbins == b->nbins;
}

cnp_status cnp_norm_defaults(double pixel_m, cnp_norm_params *p)
{
    if (!p || !(pixel_m > 0.0) || pixel_m > 10000.0)
        return CNP_E_ARG;
    const double cell_m = 32.0 * pixel_m;
    const double min_px = 20.0 * 10000.0 / (pixel_m * pixel_m);

    p->cell_px = 32;
    p->radius_cells = (int)fmin(MAX_RADIUS, fmax(1.0, ceil(1500.0 / cell_m)));
    p->wide_cells = (int)fmin(MAX_RADIUS, fmax(p->radius_cells, ceil(5000.0 / cell_m)));
    p->min_count = (int64_t)fmax(100.0, floor(min_px + 0.5));
    p->forest_ndvi = 0.65;
    p->max_abs_dndvi = 0.5;
    p->nbins = 128;
    return CNP_OK;
}

cnp_status cnp_norm_grid_create(const cnp_norm_params *p, int64_t width, int64_t height,
                                int64_t cy0, int64_t cy1, cnp_norm_grid **out)
{
    if (!out)
        return CNP_E_ARG;
    *out = NULL;
    if (!params_ok(p) || width <= 0 || height <= 0 || width > INT32_MAX || height > INT32_MAX)
        return CNP_E_ARG;
    const int64_t ncx = ceil_div(width, p->cell_px), ncy = ceil_div(height, p->cell_px);
    if (cy1 < 0)
        cy1 = ncy;
    if (cy0 < 0 || cy0 >= cy1 || cy1 > ncy)
        return CNP_E_ARG;

    cnp_norm_grid *g = calloc(1, sizeof *g);
    if (!g)
        return CNP_E_NOMEM;
    const size_t ncell = (size_t)((cy1 - cy0) * ncx);
    g->p = *p;
    g->width = width;
    g->height = height;
    g->ncx = ncx;
    g->ncy = ncy;
    g->cy0 = cy0;
    g->cy1 = cy1;
    g->hist = calloc(ncell * (size_t)p->nbins, sizeof *g->hist);
    g->seen = calloc(ncell, sizeof *g->seen);
    g->vsum = malloc((size_t)ncx * (size_t)p->nbins * sizeof *g->vsum);
    g->need = malloc((size_t)ncx);
    if (!g->hist || !g->seen || !g->vsum || !g->need) {
        cnp_norm_grid_free(&g);
        return CNP_E_NOMEM;
    }
    *out = g;
    return CNP_OK;
}

void cnp_norm_grid_free(cnp_norm_grid **g)
{
    if (!g || !*g)
        return;
    free((*g)->hist);
    free((*g)->seen);
    free((*g)->vsum);
    free((*g)->need);
    free(*g);
    *g = NULL;
}

void cnp_norm_grid_clear(cnp_norm_grid *g)
{
    if (!g)
        return;
    const size_t ncell = (size_t)((g->cy1 - g->cy0) * g->ncx);
    memset(g->hist, 0, ncell * (size_t)g->p.nbins * sizeof *g->hist);
    memset(g->seen, 0, ncell * sizeof *g->seen);
}

void cnp_norm_grid_cells(const cnp_norm_grid *g, int64_t *ncx, int64_t *ncy)
{
    if (ncx)
        *ncx = g ? g->ncx : 0;
    if (ncy)
        *ncy = g ? g->ncy : 0;
}

/* Pixels of the scene inside cell (cx, cy). */
static int64_t cell_area(const cnp_norm_grid *g, int64_t cx, int64_t cy)
{
    const int64_t c = g->p.cell_px;
    const int64_t w = g->width - cx * c < c ? g->width - cx * c : c;
    const int64_t h = g->height - cy * c < c ? g->height - cy * c : c;
    return w * h;
}

/* Overlap of [a0, a1) with cell k's span [k c, (k + 1) c). */
static int64_t span_overlap(int64_t a0, int64_t a1, int64_t k, int64_t c)
{
    const int64_t lo = a0 > k * c ? a0 : k * c, hi = a1 < (k + 1) * c ? a1 : (k + 1) * c;
    return hi > lo ? hi - lo : 0;
}

/* The histogram bin of each pixel, -1 for one that is not a reference
 * pixel (NaN fails both tests). */
CNP_VECTOR_CLONES static void bins_chunk(const float *restrict b, const float *restrict a,
                                         ptrdiff_t n, double forest, double max, double scale,
                                         int nbins, int32_t *restrict bin)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        const double vb = b[i], va = a[i];
        const double d = va - vb;
        const int ok = (vb >= forest) & (fabs(d) < max);
        /* (d + max) x scale >= 0 for a reference pixel: the conversion
         * truncates as floor() would, and k >= 0. */
        int32_t k = (int32_t)(ok ? (d + max) * scale : 0.0);
        k = k >= nbins ? nbins - 1 : k;
        bin[i] = ok ? k : -1;
    }
}

cnp_status cnp_norm_accumulate(cnp_norm_grid *g, const cnp_norm_tile *t)
{
    if (!g || !t || t->width < 0 || t->height < 0 || t->stride < t->width)
        return CNP_E_ARG;
    if (t->width == 0 || t->height == 0)
        return CNP_OK;
    if (!t->ndvi_before || !t->ndvi_after || t->x0 < 0 || t->y0 < 0 ||
        t->x0 + t->width > g->width || t->y0 + t->height > g->height)
        return CNP_E_ARG;

    const int64_t c = g->p.cell_px;
    const int64_t kx0 = t->x0 / c, kx1 = (t->x0 + t->width - 1) / c;
    const int64_t ky0 = t->y0 / c, ky1 = (t->y0 + t->height - 1) / c;
    if (ky0 < g->cy0 || ky1 >= g->cy1)
        return CNP_E_ARG;
    /* Refuse pixels added twice before changing anything. */
    for (int64_t ky = ky0; ky <= ky1; ky++)
        for (int64_t kx = kx0; kx <= kx1; kx++) {
            const int64_t add = span_overlap(t->x0, t->x0 + t->width, kx, c) *
                                span_overlap(t->y0, t->y0 + t->height, ky, c);
            if (g->seen[(ky - g->cy0) * g->ncx + kx] + add > cell_area(g, kx, ky))
                return CNP_E_ARG;
        }

    const int nbins = g->p.nbins;
    const double forest = g->p.forest_ndvi, max = g->p.max_abs_dndvi;
    const double scale = nbins / (2.0 * max);
    const cnp_norm_tile tt = *t;

    /* One cell row per iteration: threads never share a cell. */
    #pragma omp parallel for schedule(dynamic, 1) default(none) \
        shared(g, tt) firstprivate(c, kx0, kx1, ky0, ky1, nbins, forest, max, scale)
    for (int64_t ky = ky0; ky <= ky1; ky++) {
        const int64_t ya = ky * c > tt.y0 ? ky * c : tt.y0;
        const int64_t yb = (ky + 1) * c < tt.y0 + tt.height ? (ky + 1) * c : tt.y0 + tt.height;
        uint16_t *hrow = g->hist + (size_t)((ky - g->cy0) * g->ncx) * (size_t)nbins;

        for (int64_t kx = kx0; kx <= kx1; kx++)
            g->seen[(ky - g->cy0) * g->ncx + kx] +=
                (uint16_t)(span_overlap(tt.x0, tt.x0 + tt.width, kx, c) * (yb - ya));
        int32_t bin[CHUNK];
        for (int64_t y = ya; y < yb; y++) {
            const float *b = tt.ndvi_before + (y - tt.y0) * tt.stride;
            const float *a = tt.ndvi_after + (y - tt.y0) * tt.stride;
            /* Cell by cell along the row, a chunk at a time. */
            for (int64_t kx = kx0; kx <= kx1; kx++) {
                const int64_t xa = kx * c > tt.x0 ? kx * c : tt.x0;
                const int64_t xb = (kx + 1) * c < tt.x0 + tt.width ? (kx + 1) * c
                                                                   : tt.x0 + tt.width;
                uint16_t *cell = hrow + (size_t)kx * (size_t)nbins;
                for (int64_t x = xa; x < xb; x += CHUNK) {
                    const ptrdiff_t m = (ptrdiff_t)(xb - x < CHUNK ? xb - x : CHUNK);
                    bins_chunk(b + (x - tt.x0), a + (x - tt.x0), m, forest, max, scale, nbins, bin);
                    for (ptrdiff_t i = 0; i < m; i++)
                        if (bin[i] >= 0)
                            cell[bin[i]]++;
                }
            }
        }
    }
    return CNP_OK;
}

cnp_status cnp_norm_merge(cnp_norm_grid *dst, const cnp_norm_grid *src)
{
    if (!dst || !src || dst == src || !same_params(&dst->p, &src->p) ||
        dst->width != src->width || dst->height != src->height ||
        src->cy0 < dst->cy0 || src->cy1 > dst->cy1)
        return CNP_E_ARG;
    const size_t off = (size_t)((src->cy0 - dst->cy0) * dst->ncx);
    const size_t ncell = (size_t)((src->cy1 - src->cy0) * src->ncx);
    const size_t nbins = (size_t)src->p.nbins;

    for (size_t k = 0; k < ncell; k++) {
        const int64_t cy = src->cy0 + (int64_t)(k / (size_t)src->ncx);
        const int64_t cx = (int64_t)(k % (size_t)src->ncx);
        if ((int64_t)dst->seen[off + k] + src->seen[k] > cell_area(dst, cx, cy))
            return CNP_E_ARG;
    }
    for (size_t k = 0; k < ncell; k++) {
        dst->seen[off + k] = (uint16_t)(dst->seen[off + k] + src->seen[k]);
        for (size_t b = 0; b < nbins; b++)
            dst->hist[(off + k) * nbins + b] =
                (uint16_t)(dst->hist[(off + k) * nbins + b] + src->hist[k * nbins + b]);
    }
    return CNP_OK;
}

int64_t cnp_norm_rows_ready(const cnp_norm_grid *g, int64_t rows_done)
{
    if (!g || rows_done <= 0)
        return 0;
    if (rows_done >= g->height)
        return g->ncy;
    const int64_t complete = rows_done / g->p.cell_px;
    return complete > g->p.wide_cells ? complete - g->p.wide_cells : 0;
}

double cnp_norm_median(const uint32_t *hist, int n, double lo, double width)
{
    uint64_t total = 0;

    for (int b = 0; b < n; b++)
        total += hist[b];
    if (total == 0)
        return NAN;
    const double half = (double)total / 2.0;
    uint64_t cum = 0;
    for (int b = 0; b < n; b++) {
        if (hist[b] && (double)(cum + hist[b]) >= half)
            return lo + width * ((double)b + (half - (double)cum) / (double)hist[b]);
        cum += hist[b];
    }
    return NAN;   /* not reached */
}

/* Sum of the histograms of cells [cxa, cxb] x [cya, cyb] (clipped) into h. */
static uint64_t window_sum(const cnp_norm_grid *g, int64_t cxa, int64_t cxb, int64_t cya,
                           int64_t cyb, uint32_t *h)
{
    const int nbins = g->p.nbins;
    uint64_t n = 0;

    cxa = cxa < 0 ? 0 : cxa;
    cya = cya < 0 ? 0 : cya;
    cxb = cxb >= g->ncx ? g->ncx - 1 : cxb;
    cyb = cyb >= g->ncy ? g->ncy - 1 : cyb;
    memset(h, 0, (size_t)nbins * sizeof *h);
    for (int64_t cy = cya; cy <= cyb; cy++)
        for (int64_t cx = cxa; cx <= cxb; cx++) {
            const uint16_t *src = g->hist + (size_t)((cy - g->cy0) * g->ncx + cx) * (size_t)nbins;
            for (int b = 0; b < nbins; b++)
                h[b] += src[b];
        }
    for (int b = 0; b < nbins; b++)
        n += h[b];
    return n;
}

static void set_cell(float *corr, uint8_t *level, uint32_t *count, size_t k, double v, int lv,
                     uint64_t n)
{
    corr[k] = (float)v;
    if (level)
        level[k] = (uint8_t)lv;
    if (count)
        count[k] = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* Corrections of cell row cy into corr[k0 ..]. */
static void correct_row(cnp_norm_grid *g, int64_t cy, size_t k0, float *corr, uint8_t *level,
                        uint32_t *count)
{
    const int nbins = g->p.nbins;
    const int64_t r1 = g->p.radius_cells, r2 = g->p.wide_cells, ncx = g->ncx;
    const int64_t ya = cy - r1 < 0 ? 0 : cy - r1, yb = cy + r1 >= g->ncy ? g->ncy - 1 : cy + r1;
    const uint64_t min_count = (uint64_t)g->p.min_count;
    const double lo = -g->p.max_abs_dndvi, width = 2.0 * g->p.max_abs_dndvi / nbins;
    uint32_t *vsum = g->vsum;
    uint8_t *need = g->need;
    int any = 0;

    /* Column sums over the first window's rows. */
    #pragma omp parallel for schedule(static) default(none) \
        shared(g, vsum) firstprivate(ncx, nbins, ya, yb)
    for (int64_t cx = 0; cx < ncx; cx++) {
        uint32_t *v = vsum + (size_t)cx * (size_t)nbins;
        memset(v, 0, (size_t)nbins * sizeof *v);
        for (int64_t y = ya; y <= yb; y++) {
            const uint16_t *src = g->hist + (size_t)((y - g->cy0) * ncx + cx) * (size_t)nbins;
            for (int b = 0; b < nbins; b++)
                v[b] += src[b];
        }
    }
    /* Levels 1 and 2, a cell per iteration. */
    #pragma omp parallel for schedule(dynamic, 8) default(none) reduction(|:any) \
        shared(g, vsum, need, corr, level, count) \
        firstprivate(ncx, nbins, r1, r2, cy, k0, min_count, lo, width)
    for (int64_t cx = 0; cx < ncx; cx++) {
        uint32_t h[MAX_BINS];
        uint64_t n = 0;
        const int64_t xa = cx - r1 < 0 ? 0 : cx - r1, xb = cx + r1 >= ncx ? ncx - 1 : cx + r1;

        memset(h, 0, (size_t)nbins * sizeof *h);
        for (int64_t x = xa; x <= xb; x++) {
            const uint32_t *v = vsum + (size_t)x * (size_t)nbins;
            for (int b = 0; b < nbins; b++)
                h[b] += v[b];
        }
        for (int b = 0; b < nbins; b++)
            n += h[b];
        need[cx] = 0;
        if (n >= min_count) {
            set_cell(corr, level, count, k0 + (size_t)cx, cnp_norm_median(h, nbins, lo, width), 1, n);
            continue;
        }
        n = window_sum(g, cx - r2, cx + r2, cy - r2, cy + r2, h);
        if (n >= min_count) {
            set_cell(corr, level, count, k0 + (size_t)cx, cnp_norm_median(h, nbins, lo, width), 2, n);
            continue;
        }
        need[cx] = 1;
        any |= 1;
    }
    if (!any)
        return;
    /* Level 3: the band of rows, computed once for the row. */
    uint32_t h[MAX_BINS];
    const uint64_t n = window_sum(g, 0, ncx - 1, cy - r2, cy + r2, h);
    const double v = n >= min_count ? cnp_norm_median(h, nbins, lo, width) : 0.0;
    for (int64_t cx = 0; cx < ncx; cx++)
        if (need[cx])
            set_cell(corr, level, count, k0 + (size_t)cx, v, n >= min_count ? 3 : 0, n);
}

cnp_status cnp_norm_correct(cnp_norm_grid *g, int64_t rows_done, int64_t cy0, int64_t cy1,
                            float *corr, uint8_t *level, uint32_t *count)
{
    if (!g || !corr || cy0 < 0 || cy1 <= cy0 || cy1 > cnp_norm_rows_ready(g, rows_done))
        return CNP_E_ARG;
    const int64_t r2 = g->p.wide_cells;
    const int64_t need0 = cy0 - r2 < 0 ? 0 : cy0 - r2;
    const int64_t need1 = cy1 + r2 > g->ncy ? g->ncy : cy1 + r2;
    if (need0 < g->cy0 || need1 > g->cy1)
        return CNP_E_ARG;
    for (int64_t cy = cy0; cy < cy1; cy++)
        correct_row(g, cy, (size_t)((cy - cy0) * g->ncx), corr, level, count);
    return CNP_OK;
}

/* Position of pixel centre p between cell centres: cell index i (clamped)
 * and weight w of cell i + 1. */
static void cell_pos(int64_t p, int c, int64_t ncell, int64_t *i, double *w)
{
    const double f = ((double)p + 0.5) / c - 0.5;
    const double fl = floor(f);

    if (f <= 0.0) {
        *i = 0;
        *w = 0.0;
    } else if (fl >= (double)(ncell - 1)) {
        *i = ncell - 1;
        *w = 0.0;
    } else {
        *i = (int64_t)fl;
        *w = f - fl;
    }
}

/* Each column's correction interpolated along cell rows r0 and r1. */
static void along_rows(const float *r0, const float *r1, const int64_t *col_ix,
                       const double *col_wx, ptrdiff_t n, double *c0, double *c1)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        const int64_t ix = col_ix[i];
        const double wx = col_wx[i];
        const int64_t ix1 = wx > 0.0 ? ix + 1 : ix;
        c0[i] = (1.0 - wx) * r0[ix] + wx * r0[ix1];
        c1[i] = (1.0 - wx) * r1[ix] + wx * r1[ix1];
    }
}

/* One pixel row: dNDVI less the correction between the two cell rows. */
CNP_VECTOR_CLONES static void apply_row(const float *restrict b, const float *restrict a,
                                        const double *restrict c0, const double *restrict c1,
                                        double wy, ptrdiff_t n, float *restrict o)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        const double c = (1.0 - wy) * c0[i] + wy * c1[i];
        const double d = (double)a[i] - (double)b[i];
        o[i] = d == d ? (float)(d - c) : NAN;
    }
}

cnp_status cnp_norm_apply(const cnp_norm_field *f, const cnp_norm_tile *t, float *out,
                          ptrdiff_t out_stride)
{
    if (!f || !t || !out || t->width < 0 || t->height < 0 || t->stride < t->width ||
        out_stride < t->width)
        return CNP_E_ARG;
    if (t->width == 0 || t->height == 0)
        return CNP_OK;
    if (!f->corr || !t->ndvi_before || !t->ndvi_after || f->cell_px < 1 || f->ncx < 1 ||
        f->ncy < 1 || t->x0 < 0 || t->y0 < 0 ||
        t->x0 + t->width > f->ncx * f->cell_px || t->y0 + t->height > f->ncy * f->cell_px)
        return CNP_E_ARG;
    int64_t iy_first, iy_last;
    double w;
    cell_pos(t->y0, f->cell_px, f->ncy, &iy_first, &w);
    cell_pos(t->y0 + t->height - 1, f->cell_px, f->ncy, &iy_last, &w);
    if (iy_last + 1 < f->ncy && w > 0.0)
        iy_last++;
    if (iy_first < f->cy0 || iy_last >= f->cy1)
        return CNP_E_ARG;

    const cnp_norm_field ff = *f;
    const cnp_norm_tile tt = *t;
    /* Each column's cells and weight, once for all rows (the same numbers
     * cell_pos gives per pixel: a division and a floor saved per pixel);
     * and per thread, each column's correction interpolated along the two
     * cell rows a pixel row lies between, kept while they stay the same. */
    const size_t width = (size_t)tt.width;
    const int nthr = omp_get_max_threads() > 0 ? omp_get_max_threads() : 1;
    int64_t *col_ix = malloc(width * (sizeof *col_ix + sizeof(double) * (1 + 2 * (size_t)nthr)));
    if (!col_ix)
        return CNP_E_NOMEM;
    double *col_wx = (double *)(col_ix + tt.width), *rows = col_wx + tt.width;
    for (ptrdiff_t i = 0; i < tt.width; i++)
        cell_pos(tt.x0 + i, ff.cell_px, ff.ncx, &col_ix[i], &col_wx[i]);

    #pragma omp parallel default(none) shared(ff, tt, out, col_ix, col_wx, rows, width, nthr) \
        firstprivate(out_stride)
    {
        const int me = omp_get_thread_num() < nthr ? omp_get_thread_num() : 0;
        double *c0 = rows + 2 * width * (size_t)me, *c1 = c0 + width;
        int64_t have0 = -1, have1 = -1;

        #pragma omp for schedule(static)
        for (ptrdiff_t j = 0; j < tt.height; j++) {
            int64_t iy;
            double wy;

            cell_pos(tt.y0 + j, ff.cell_px, ff.ncy, &iy, &wy);
            const int64_t iy1 = wy > 0.0 ? iy + 1 : iy;
            if (iy != have0 || iy1 != have1) {
                along_rows(ff.corr + (iy - ff.cy0) * ff.ncx, ff.corr + (iy1 - ff.cy0) * ff.ncx,
                           col_ix, col_wx, tt.width, c0, c1);
                have0 = iy;
                have1 = iy1;
            }
            apply_row(tt.ndvi_before + j * tt.stride, tt.ndvi_after + j * tt.stride, c0, c1, wy,
                      tt.width, out + j * out_stride);
        }
    }
    free(col_ix);
    return CNP_OK;
}
