/* kernels/cnp_coreg.c - radix-2 FFT, phase correlation per block, medians.
 *
 * Medians and deviations select the k-th smallest value by counting
 * (O(n^2) over at most a few thousand blocks), which needs no scratch array
 * and does not depend on the order of the blocks.
 */
#include "cnp_coreg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct cnp_coreg_ws {
    int       n;
    double   *cosv, *sinv;       /* cos, sin of 2 pi k / n, k < n / 2          */
    uint32_t *rev;               /* bit-reversed index                          */
    double   *win;               /* Hann window                                 */
    double   *pr, *pi, *qr, *qi; /* before's and after's spectra, n x n        */
    double   *cr, *ci;           /* one column                                  */
};

void cnp_coreg_defaults(cnp_coreg_params *p)
{
    if (!p)
        return;
    p->block = 64;
    p->step = 64;
    p->min_std = 0.01;
    p->max_invalid = 0.02;
    p->min_peak = 0.08;
    p->min_ratio = 1.5;
    p->min_blocks = 3;
    p->max_mad = 0.5;
}

static int log2_of(int n)
{
    int k = 0;
    while ((1 << k) < n)
        k++;
    return (1 << k) == n ? k : -1;
}

cnp_status cnp_coreg_ws_create(int block, cnp_coreg_ws **out)
{
    if (!out)
        return CNP_E_ARG;
    *out = NULL;
    const int lg = log2_of(block);
    if (block < 16 || block > 256 || lg < 0)
        return CNP_E_ARG;
    cnp_coreg_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return CNP_E_NOMEM;
    const size_t n = (size_t)block, nn = n * n;
    ws->n = block;
    ws->cosv = malloc(n / 2 * sizeof *ws->cosv);
    ws->sinv = malloc(n / 2 * sizeof *ws->sinv);
    ws->rev = malloc(n * sizeof *ws->rev);
    ws->win = malloc(n * sizeof *ws->win);
    ws->pr = malloc(nn * sizeof *ws->pr);
    ws->pi = malloc(nn * sizeof *ws->pi);
    ws->qr = malloc(nn * sizeof *ws->qr);
    ws->qi = malloc(nn * sizeof *ws->qi);
    ws->cr = malloc(n * sizeof *ws->cr);
    ws->ci = malloc(n * sizeof *ws->ci);
    if (!ws->cosv || !ws->sinv || !ws->rev || !ws->win || !ws->pr || !ws->pi || !ws->qr ||
        !ws->qi || !ws->cr || !ws->ci) {
        cnp_coreg_ws_free(&ws);
        return CNP_E_NOMEM;
    }
    for (size_t k = 0; k < n / 2; k++) {
        ws->cosv[k] = cos(2.0 * M_PI * (double)k / (double)n);
        ws->sinv[k] = sin(2.0 * M_PI * (double)k / (double)n);
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t r = 0;
        for (int b = 0; b < lg; b++)
            r |= ((uint32_t)(i >> b) & 1u) << (lg - 1 - b);
        ws->rev[i] = r;
        ws->win[i] = 0.5 - 0.5 * cos(2.0 * M_PI * ((double)i + 0.5) / (double)n);
    }
    *out = ws;
    return CNP_OK;
}

void cnp_coreg_ws_free(cnp_coreg_ws **ws)
{
    if (!ws || !*ws)
        return;
    cnp_coreg_ws *w = *ws;
    free(w->cosv);
    free(w->sinv);
    free(w->rev);
    free(w->win);
    free(w->pr);
    free(w->pi);
    free(w->qr);
    free(w->qi);
    free(w->cr);
    free(w->ci);
    free(w);
    *ws = NULL;
}

/* In place, contiguous: bit-reversal permutation, then butterflies. */
static void fft1d(const cnp_coreg_ws *ws, double *re, double *im, int inverse)
{
    const int n = ws->n;
    const double sgn = inverse ? 1.0 : -1.0;

    for (int i = 0; i < n; i++) {
        const int j = (int)ws->rev[i];
        if (j > i) {
            double t = re[i];
            re[i] = re[j];
            re[j] = t;
            t = im[i];
            im[i] = im[j];
            im[j] = t;
        }
    }
    for (int len = 2; len <= n; len <<= 1) {
        const int half = len / 2, step = n / len;
        for (int i = 0; i < n; i += len)
            for (int k = 0; k < half; k++) {
                const double wr = ws->cosv[k * step], wi = sgn * ws->sinv[k * step];
                const double xr = re[i + k + half], xi = im[i + k + half];
                const double vr = xr * wr - xi * wi, vi = xr * wi + xi * wr;
                re[i + k + half] = re[i + k] - vr;
                im[i + k + half] = im[i + k] - vi;
                re[i + k] += vr;
                im[i + k] += vi;
            }
    }
}

static void fft2d(cnp_coreg_ws *ws, double *re, double *im, int inverse)
{
    const int n = ws->n;

    for (int y = 0; y < n; y++)
        fft1d(ws, re + (size_t)y * n, im + (size_t)y * n, inverse);
    for (int x = 0; x < n; x++) {
        for (int y = 0; y < n; y++) {
            ws->cr[y] = re[(size_t)y * n + x];
            ws->ci[y] = im[(size_t)y * n + x];
        }
        fft1d(ws, ws->cr, ws->ci, inverse);
        for (int y = 0; y < n; y++) {
            re[(size_t)y * n + x] = ws->cr[y];
            im[(size_t)y * n + x] = ws->ci[y];
        }
    }
    if (inverse) {
        const double s = 1.0 / ((double)n * n);
        for (size_t i = 0; i < (size_t)n * n; i++) {
            re[i] *= s;
            im[i] *= s;
        }
    }
}

cnp_status cnp_coreg_fft(cnp_coreg_ws *ws, double *re, double *im, int inverse)
{
    if (!ws || !re || !im)
        return CNP_E_ARG;
    fft2d(ws, re, im, inverse);
    return CNP_OK;
}

/* Mean-free, windowed copy of a block into re (im = 0); NaN -> the mean.
 * Returns the block's standard deviation over valid pixels. */
static double load_block(const cnp_coreg_ws *ws, const float *src, ptrdiff_t stride,
                         double *re, double *im, size_t *invalid)
{
    const int n = ws->n;
    double sum = 0.0, sum2 = 0.0;
    size_t valid = 0;

    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            const double v = src[y * stride + x];
            if (v == v) {
                sum += v;
                sum2 += v * v;
                valid++;
            }
        }
    *invalid = (size_t)n * n - valid;
    if (valid == 0)
        return 0.0;
    const double mean = sum / (double)valid;
    const double var = sum2 / (double)valid - mean * mean;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            const double v = src[y * stride + x];
            re[(size_t)y * n + x] = (v == v ? v - mean : 0.0) * ws->win[y] * ws->win[x];
            im[(size_t)y * n + x] = 0.0;
        }
    return var > 0.0 ? sqrt(var) : 0.0;
}

/* Sub-pixel part of the shift: with the integer peak (px, py) removed, the
 * phase of the cross-power spectrum C = P conj(Q) is a plane,
 * -2 pi (u dx + v dy) / N; fit it by least squares weighted by |C| over
 * the frequencies |u|, |v| <= N / 4 (where a residual of up to a pixel
 * cannot wrap, and where the signal is). */
static void phase_plane(const cnp_coreg_ws *ws, const double *cr, const double *ci, int px,
                        int py, double *dx, double *dy)
{
    const int n = ws->n, q = n / 4;
    double suu = 0.0, suv = 0.0, svv = 0.0, sup = 0.0, svp = 0.0;

    for (int v = -q; v <= q; v++)
        for (int u = -q; u <= q; u++) {
            if (u == 0 && v == 0)
                continue;
            const size_t k = (size_t)((v + n) % n) * n + (size_t)((u + n) % n);
            const double mag = sqrt(cr[k] * cr[k] + ci[k] * ci[k]);
            if (!(mag > 0.0))
                continue;
            /* C x exp(+2 pi i (u px + v py) / N), then its phase */
            const double ang = 2.0 * M_PI * ((double)u * px + (double)v * py) / n;
            const double re = cr[k] * cos(ang) - ci[k] * sin(ang);
            const double im = cr[k] * sin(ang) + ci[k] * cos(ang);
            const double ph = atan2(im, re);
            suu += mag * u * u;
            suv += mag * u * v;
            svv += mag * v * v;
            sup += mag * u * ph;
            svp += mag * v * ph;
        }
    const double det = suu * svv - suv * suv, a = -2.0 * M_PI / n;
    if (!(det > 0.0)) {
        *dx = *dy = 0.0;
        return;
    }
    *dx = (svv * sup - suv * svp) / det / a;
    *dy = (suu * svp - suv * sup) / det / a;
}

cnp_status cnp_coreg_block_shift(cnp_coreg_ws *ws, const cnp_coreg_params *p,
                                 const float *before, const float *after, ptrdiff_t stride,
                                 cnp_coreg_block *out)
{
    if (!ws || !p || !before || !after || !out || stride < ws->n || p->block != ws->n)
        return CNP_E_ARG;
    const int n = ws->n;
    const size_t nn = (size_t)n * n;
    size_t inv_b, inv_a;

    out->dx = out->dy = out->peak = out->ratio = 0.0;
    out->used = 0;
    const double sb = load_block(ws, before, stride, ws->pr, ws->pi, &inv_b);
    const double sa = load_block(ws, after, stride, ws->qr, ws->qi, &inv_a);
    if ((double)(inv_b > inv_a ? inv_b : inv_a) > p->max_invalid * (double)nn ||
        !(sb >= p->min_std) || !(sa >= p->min_std))
        return CNP_OK;

    fft2d(ws, ws->pr, ws->pi, 0);
    fft2d(ws, ws->qr, ws->qi, 0);
    /* C = P conj(Q) into q; C / |C| into p, on the low frequencies only
     * (|u|, |v| <= N / 4): whitening gives the weak, noisy high frequencies
     * as much weight as the strong ones, which buries the peak. */
    const int q = n / 4;
    for (size_t i = 0; i < nn; i++) {
        const int u = (int)(i % (size_t)n), v = (int)(i / (size_t)n);
        const int low = (u <= q || u >= n - q) && (v <= q || v >= n - q);
        const double rr = ws->pr[i] * ws->qr[i] + ws->pi[i] * ws->qi[i];
        const double ri = ws->pi[i] * ws->qr[i] - ws->pr[i] * ws->qi[i];
        const double mag = sqrt(rr * rr + ri * ri);
        ws->qr[i] = rr;
        ws->qi[i] = ri;
        ws->pr[i] = low && mag > 1e-300 ? rr / mag : 0.0;
        ws->pi[i] = low && mag > 1e-300 ? ri / mag : 0.0;
    }
    fft2d(ws, ws->pr, ws->pi, 1);
    /* a perfect match peaks at 1: scale by N^2 / (frequencies kept) */
    const double kept = (double)(2 * q + 1) * (double)(2 * q + 1);
    for (size_t i = 0; i < nn; i++)
        ws->pr[i] *= (double)nn / kept;

    const double *c = ws->pr;
    size_t best = 0;
    for (size_t i = 1; i < nn; i++)
        if (c[i] > c[best])
            best = i;
    const int px = (int)(best % (size_t)n), py = (int)(best / (size_t)n);
    double second = -INFINITY;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            const int ddx = abs(x - px), ddy = abs(y - py);
            const int wx = ddx < n - ddx ? ddx : n - ddx, wy = ddy < n - ddy ? ddy : n - ddy;
            if ((wx > 2 || wy > 2) && c[(size_t)y * n + x] > second)
                second = c[(size_t)y * n + x];
        }
    const double c0 = c[best];
    const int ix = px > n / 2 ? px - n : px, iy = py > n / 2 ? py - n : py;
    double sx, sy;

    phase_plane(ws, ws->qr, ws->qi, ix, iy, &sx, &sy);
    out->dx = ix + sx;
    out->dy = iy + sy;
    out->peak = c0;
    out->ratio = second > 0.0 ? c0 / second : INFINITY;
    out->used = c0 >= p->min_peak && out->ratio >= p->min_ratio;
    return CNP_OK;
}

size_t cnp_coreg_blocks_max(const cnp_coreg_params *p, int64_t width, int64_t height)
{
    if (!p || p->step < 1 || p->block < 1 || width < p->block || height < p->block)
        return 0;
    return (size_t)((width - p->block) / p->step + 1) * (size_t)((height - p->block) / p->step + 1);
}

/* A block's dx (axis 0), dy (1) or peak (2), or its distance from
 * `centre` when dev. */
static double value_of(const cnp_coreg_block *b, int axis, int dev, double centre)
{
    const double v = axis == 0 ? b->dx : axis == 1 ? b->dy : b->peak;
    return dev ? fabs(v - centre) : v;
}

/* k-th smallest (0-based) of the used blocks' values, by counting. */
static double kth(const cnp_coreg_block *b, size_t n, int axis, int dev, double centre, size_t k)
{
    for (size_t i = 0; i < n; i++) {
        if (!b[i].used)
            continue;
        const double v = value_of(&b[i], axis, dev, centre);
        size_t less = 0, equal = 0;
        for (size_t j = 0; j < n; j++) {
            if (!b[j].used)
                continue;
            const double u = value_of(&b[j], axis, dev, centre);
            less += u < v;
            equal += u == v;
        }
        if (less <= k && k < less + equal)
            return v;
    }
    return 0.0;   /* not reached for k < used */
}

static double median(const cnp_coreg_block *b, size_t n, size_t m, int axis, int dev,
                     double centre)
{
    if (m % 2)
        return kth(b, n, axis, dev, centre, m / 2);
    return 0.5 * (kth(b, n, axis, dev, centre, m / 2 - 1) + kth(b, n, axis, dev, centre, m / 2));
}

cnp_status cnp_coreg_aggregate(const cnp_coreg_params *p, const cnp_coreg_block *blocks,
                               size_t n, cnp_coreg_result *out)
{
    if (!p || !out || (n && !blocks))
        return CNP_E_ARG;
    size_t m = 0;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++)
        m += blocks[i].used != 0;
    out->blocks = n;
    out->used = m;
    if (m == 0)
        return CNP_OK;
    out->dx = median(blocks, n, m, 0, 0, 0.0);
    out->dy = median(blocks, n, m, 1, 0, 0.0);
    out->mad_x = median(blocks, n, m, 0, 1, out->dx);
    out->mad_y = median(blocks, n, m, 1, 1, out->dy);
    out->peak = median(blocks, n, m, 2, 0, 0.0);
    out->ok = m >= (size_t)p->min_blocks && out->mad_x <= p->max_mad && out->mad_y <= p->max_mad;
    return CNP_OK;
}

cnp_status cnp_coreg_estimate(cnp_coreg_ws *ws, const cnp_coreg_params *p, const float *before,
                              const float *after, int64_t width, int64_t height,
                              ptrdiff_t stride, cnp_coreg_block *blocks, size_t cap,
                              cnp_coreg_result *out)
{
    if (!ws || !p || !before || !after || !out || p->block != ws->n || p->step < 1 ||
        stride < width || (cap && !blocks))
        return CNP_E_ARG;
    const size_t need = cnp_coreg_blocks_max(p, width, height);
    if (cap < need)
        return CNP_E_ARG;
    size_t k = 0;
    for (int64_t y0 = 0; y0 + p->block <= height; y0 += p->step)
        for (int64_t x0 = 0; x0 + p->block <= width; x0 += p->step) {
            const ptrdiff_t off = (ptrdiff_t)y0 * stride + (ptrdiff_t)x0;
            cnp_coreg_block *b = &blocks[k++];
            cnp_status st = cnp_coreg_block_shift(ws, p, before + off, after + off, stride, b);
            if (st != CNP_OK)
                return st;
            /* The window stays put while the content moves, which pulls the
             * estimate towards 0 by ~5 % of the shift: measure again with
             * AFTER's block moved by the whole pixels found, and add. */
            const int64_t ix = (int64_t)lround(b->dx), iy = (int64_t)lround(b->dy);
            if (b->used && (ix || iy) && x0 - ix >= 0 && y0 - iy >= 0 &&
                x0 - ix + p->block <= width && y0 - iy + p->block <= height) {
                cnp_coreg_block r;
                const ptrdiff_t off2 = (ptrdiff_t)(y0 - iy) * stride + (ptrdiff_t)(x0 - ix);
                if ((st = cnp_coreg_block_shift(ws, p, before + off, after + off2, stride, &r)) !=
                    CNP_OK)
                    return st;
                if (r.used) {
                    r.dx += (double)ix;
                    r.dy += (double)iy;
                    *b = r;
                }
            }
            b->x0 = x0;
            b->y0 = y0;
        }
    return cnp_coreg_aggregate(p, blocks, k, out);
}
