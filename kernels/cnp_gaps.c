/* kernels/cnp_gaps.c - bridge pixels, runs with statistics, and alerts
 * that span unobserved gaps.
 *
 * A pixel is a bridge when, in one of four directions, walking both ways
 * through unobserved pixels meets a loss pixel on each side within gap_px
 * pixels of unobserved run in all. The walks end at most gap_px pixels
 * away, so that is the halo a core pixel needs (1 for EDGE). Codes are
 * nonzero exactly on loss-or-bridge pixels, so cnp_runs' all-or-nothing
 * cnp_runs_append_row() stores the runs, and the statistics are filled
 * after it succeeded (their room reserved before).
 */
#include "cnp_gaps.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_change.h"

int cnp_gaps_gap_px(double gap_m, double pixel_m)
{
    if (!(gap_m > 0.0) || !(pixel_m > 0.0) || !isfinite(gap_m) || !isfinite(pixel_m))
        return 0;
    const double g = floor(gap_m / pixel_m + 1e-9);
    return g > 4096 ? 4096 : (int)g;
}

static int unobserved(uint8_t c)
{
    return c == CNP_CLASS_UNOBSERVED || c == CNP_GAP_CLASS_NODATA;
}

static int bridgeable(uint8_t c, int through_masked)
{
    return c == CNP_GAP_CLASS_NODATA || (through_masked && c == CNP_CLASS_UNOBSERVED);
}

/* Walk from (x, y) in direction (dx, dy) over bridgeable pixels: the number
 * of them passed before a loss pixel, or -1 when something else (or the
 * window's edge, or more than `limit` of them) comes first. */
static int walk(const cnp_mask_window *win, ptrdiff_t x, ptrdiff_t y, int dx, int dy, int limit,
                int through_masked)
{
    for (int k = 0; k <= limit; k++) {
        x += dx;
        y += dy;
        if (x < 0 || y < 0 || x >= win->width || y >= win->height)
            return -1;
        const uint8_t c = win->codes[y * win->stride + x];
        if (c == CNP_CLASS_LOSS)
            return k;
        if (!bridgeable(c, through_masked))
            return -1;
    }
    return -1;
}

static int is_bridge(const cnp_mask_window *win, ptrdiff_t x, ptrdiff_t y, int gap_px,
                     int through_masked)
{
    static const int DIR[4][2] = { { 1, 0 }, { 0, 1 }, { 1, 1 }, { 1, -1 } };

    for (int d = 0; d < 4; d++) {
        const int a = walk(win, x, y, DIR[d][0], DIR[d][1], gap_px - 1, through_masked);
        if (a < 0)
            continue;
        const int b = walk(win, x, y, -DIR[d][0], -DIR[d][1], gap_px - 1 - a, through_masked);
        if (b >= 0)
            return 1;   /* a + b + 1 <= gap_px unobserved pixels between loss */
    }
    return 0;
}

cnp_status cnp_gaps_mark(const cnp_mask_window *win, int gap_px, int through_masked,
                         uint8_t *out, ptrdiff_t out_stride)
{
    if (!win || !out || gap_px < 0 || gap_px > 4096)
        return CNP_E_ARG;
    if (win->core_w <= 0 || win->core_h <= 0)
        return CNP_OK;
    if (!win->codes || win->width <= 0 || win->height <= 0 || win->stride < win->width ||
        win->core_x < 0 || win->core_y < 0 || win->core_x + win->core_w > win->width ||
        win->core_y + win->core_h > win->height || out_stride < win->core_w)
        return CNP_E_ARG;

    const cnp_mask_window ww = *win;

    #pragma omp parallel for schedule(static) default(none) \
        shared(ww, out, out_stride, gap_px, through_masked)
    for (ptrdiff_t y = 0; y < ww.core_h; y++) {
        const ptrdiff_t yy = ww.core_y + y;
        uint8_t *o = out + y * out_stride;
        for (ptrdiff_t x = 0; x < ww.core_w; x++) {
            const ptrdiff_t xx = ww.core_x + x;
            const uint8_t c = ww.codes[yy * ww.stride + xx];
            uint8_t code = 0;
            if (c == CNP_CLASS_LOSS) {
                code = CNP_GAP_LOSS;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        const ptrdiff_t qx = xx + dx, qy = yy + dy;
                        if (qx >= 0 && qy >= 0 && qx < ww.width && qy < ww.height &&
                            unobserved(ww.codes[qy * ww.stride + qx]))
                            code |= CNP_GAP_EDGE;
                    }
            } else if (bridgeable(c, through_masked) && gap_px > 0 &&
                       is_bridge(&ww, xx, yy, gap_px, through_masked)) {
                code = CNP_GAP_BRIDGE;
            }
            o[x] = code;
        }
    }
    return CNP_OK;
}

void cnp_gap_stats_init(cnp_gap_stats *s)
{
    if (s)
        memset(s, 0, sizeof *s);
}

void cnp_gap_stats_free(cnp_gap_stats *s)
{
    if (!s)
        return;
    free(s->loss);
    free(s->bridge);
    free(s->edge);
    cnp_gap_stats_init(s);
}

void cnp_gap_stats_clear(cnp_gap_stats *s)
{
    if (s)
        s->n = 0;
}

static cnp_status stats_reserve(cnp_gap_stats *s, size_t need)
{
    if (need <= s->cap)
        return CNP_OK;
    if (need > UINT32_MAX)
        return CNP_E_NOMEM;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < need)
        cap *= 2;
    uint32_t *loss = realloc(s->loss, cap * sizeof *loss);
    if (!loss)
        return CNP_E_NOMEM;
    s->loss = loss;
    uint32_t *bridge = realloc(s->bridge, cap * sizeof *bridge);
    if (!bridge)
        return CNP_E_NOMEM;
    s->bridge = bridge;
    uint8_t *edge = realloc(s->edge, cap * sizeof *edge);
    if (!edge)
        return CNP_E_NOMEM;
    s->edge = edge;
    s->cap = cap;
    return CNP_OK;
}

cnp_status cnp_gaps_push_row(cnp_runs *r, cnp_gap_stats *s, const uint8_t *codes,
                             ptrdiff_t width, int32_t y, int32_t x_origin)
{
    if (!r || !s || s->n != r->n || width < 0 || (width > 0 && !codes))
        return CNP_E_ARG;

    size_t nruns = 0;
    for (ptrdiff_t x = 0; x < width; x++)
        nruns += codes[x] && (x == 0 || !codes[x - 1]);
    if (nruns == 0)
        return cnp_runs_append_row(r, codes, width, y, x_origin);   /* checks the order */
    cnp_status st = stats_reserve(s, s->n + nruns);
    if (st != CNP_OK)
        return st;

    const size_t n0 = r->n;
    const int32_t last_x1 = n0 ? r->run[n0 - 1].x1 : 0;
    if ((st = cnp_runs_append_row(r, codes, width, y, x_origin)) != CNP_OK)
        return st;
    /* the row's first run extended the last one when that one grew */
    size_t k = n0 && r->run[n0 - 1].x1 != last_x1 ? n0 - 1 : n0;
    for (ptrdiff_t x = 0; x < width;) {
        if (!codes[x]) {
            x++;
            continue;
        }
        uint32_t loss = 0, bridge = 0;
        uint8_t edge = 0;
        for (; x < width && codes[x]; x++) {
            loss += (codes[x] & CNP_GAP_LOSS) != 0;
            bridge += (codes[x] & CNP_GAP_BRIDGE) != 0;
            edge |= (codes[x] & CNP_GAP_EDGE) != 0;
        }
        if (k < s->n) {                 /* the extended run */
            s->loss[k] += loss;
            s->bridge[k] += bridge;
            s->edge[k] |= edge;
        } else {
            s->loss[k] = loss;
            s->bridge[k] = bridge;
            s->edge[k] = edge;
            s->n = k + 1;
        }
        k++;
    }
    return CNP_OK;
}

cnp_status cnp_gaps_concat(cnp_runs *dst, cnp_gap_stats *sdst, const cnp_runs *src,
                           const cnp_gap_stats *ssrc, int connectivity)
{
    if (!dst || !sdst || !src || !ssrc || sdst == ssrc || sdst->n != dst->n ||
        ssrc->n != src->n)
        return CNP_E_ARG;
    cnp_status st = stats_reserve(sdst, sdst->n + ssrc->n);
    if (st != CNP_OK)
        return st;
    if ((st = cnp_runs_concat(dst, src, connectivity)) != CNP_OK)
        return st;
    if (ssrc->n) {
        memcpy(sdst->loss + sdst->n, ssrc->loss, ssrc->n * sizeof *ssrc->loss);
        memcpy(sdst->bridge + sdst->n, ssrc->bridge, ssrc->n * sizeof *ssrc->bridge);
        memcpy(sdst->edge + sdst->n, ssrc->edge, ssrc->n * sizeof *ssrc->edge);
    }
    sdst->n += ssrc->n;
    return CNP_OK;
}

cnp_status cnp_gaps_summarise(const cnp_runs *r, const cnp_gap_stats *s, const uint32_t *label,
                              size_t ncomp, int64_t min_px, cnp_gap_alert *out)
{
    if (!r || !s || s->n != r->n || (r->n && !label) || (ncomp && !out))
        return CNP_E_ARG;
    for (size_t i = 0; i < r->n; i++)
        if (label[i] >= ncomp)
            return CNP_E_ARG;
    memset(out, 0, ncomp * sizeof *out);
    for (size_t i = 0; i < r->n; i++) {
        cnp_gap_alert *a = &out[label[i]];
        a->loss_px += s->loss[i];
        a->bridge_px += s->bridge[i];
        a->partially_observed |= s->edge[i] || s->bridge[i];
    }
    for (size_t c = 0; c < ncomp; c++)
        out[c].keep = out[c].loss_px > 0 && out[c].loss_px >= min_px;
    return CNP_OK;
}

cnp_status cnp_gaps_find_run(const cnp_runs *r, int32_t y, int32_t x, size_t *idx)
{
    if (!r || !idx || (r->n && !r->run))
        return CNP_E_ARG;
    size_t lo = 0, hi = r->n;      /* first run after (y, x) */
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const cnp_run *m = &r->run[mid];
        if (m->y < y || (m->y == y && m->x0 <= x))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || r->run[lo - 1].y != y || x >= r->run[lo - 1].x1)
        return CNP_E_DATA;
    *idx = lo - 1;
    return CNP_OK;
}
