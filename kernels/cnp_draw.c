/* kernels/cnp_draw.c - percentile stretch, lines, fills, mask overlays and
 * bitmap text on RGB8 views (see cnp_draw.h for the pixel convention).
 *
 * Everything here paints integer colours into whole pixels: there is no
 * anti-aliasing, so quicklooks and evidence chips are byte-identical across
 * runs, thread counts and compilers. Geometry is evaluated in double, but each
 * painted pixel is derived from the ORIGINAL segment (not from an incremental
 * error term), so clipping a long segment does not move its visible pixels.
 */
#include "cnp_draw.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* ------------------------------------------------------------------------ */
/* Percentiles                                                              */
/* ------------------------------------------------------------------------ */

static int cmp_float(const void *pa, const void *pb)
{
    const float a = *(const float *)pa, b = *(const float *)pb;
    return (a > b) - (a < b);
}

/* Rearranges a[0..n-1] (all finite) so that a[k] holds the k-th smallest value,
 * everything before it is <= and everything after it >= a[k]. Quickselect with
 * a median-of-3 pivot and Hoare partitioning, which splits runs of equal values
 * (common in quantised reflectances) evenly and stays linear on sorted and
 * reversed input. The pivot choice is deterministic; to keep adversarial
 * inputs from going quadratic, the loop falls back to sorting the remaining
 * range after ~2 log2(n) rounds (introselect). */
static void select_kth(float *a, size_t n, size_t k)
{
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1;   /* inclusive range that holds k */
    const ptrdiff_t kk = (ptrdiff_t)k;
    unsigned budget = 2;

    for (size_t m = n; m > 1; m >>= 1)
        budget += 2;
    while (hi > lo) {
        if (budget-- == 0) {
            qsort(a + lo, (size_t)(hi - lo + 1), sizeof *a, cmp_float);
            return;
        }
        /* Order a[lo] <= a[mid] <= a[hi] and split on a[mid]: the two ends act
         * as sentinels, so both scans stop inside the range and both parts
         * below are non-empty. */
        const ptrdiff_t mid = lo + (hi - lo) / 2;
        float t;
        if (a[mid] < a[lo]) { t = a[mid]; a[mid] = a[lo]; a[lo] = t; }
        if (a[hi] < a[mid]) { t = a[hi]; a[hi] = a[mid]; a[mid] = t; }
        if (a[mid] < a[lo]) { t = a[mid]; a[mid] = a[lo]; a[lo] = t; }
        const float pivot = a[mid];

        ptrdiff_t i = lo - 1, j = hi + 1;
        for (;;) {
            do i++; while (a[i] < pivot);
            do j--; while (a[j] > pivot);
            if (i >= j)
                break;
            t = a[i]; a[i] = a[j]; a[j] = t;
        }
        /* Now a[lo..j] <= pivot <= a[j+1..hi], with lo <= j < hi. */
        if (kk <= j)
            hi = j;
        else
            lo = j + 1;
    }
}

/* Value at fractional rank r (0 <= r <= m - 1) of the m values in a, which
 * are rearranged in place: s[k] + f * (s[k+1] - s[k]), k = floor(r). */
static float value_at_rank(float *a, size_t m, double r)
{
    size_t k = (size_t)floor(r);
    if (k > m - 1)
        k = m - 1;
    const double f = r - (double)k;

    select_kth(a, m, k);
    const float s0 = a[k];
    if (!(f > 0.0) || k + 1 >= m)
        return s0;
    /* a[k+1..] are all >= s0 after selection: their minimum is s[k+1]. */
    float s1 = a[k + 1];
    for (size_t i = k + 2; i < m; i++)
        if (a[i] < s1)
            s1 = a[i];
    double v = (double)s0 + f * ((double)s1 - (double)s0);
    if (v < (double)s0)                  /* guard rounding: stay in [s0, s1] */
        v = (double)s0;
    if (v > (double)s1)
        v = (double)s1;
    return (float)v;
}

cnp_status cnp_percentiles(const float *v, size_t n, double p_lo, double p_hi,
                           float *scratch, float *lo, float *hi)
{
    if (!v || !lo || !hi || !(p_lo >= 0.0) || !(p_hi <= 100.0) || !(p_lo <= p_hi))
        return CNP_E_ARG;

    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += isfinite(v[i]) != 0;
    if (m == 0)
        return CNP_E_ARG;

    float *a = scratch;
    if (!a) {
        a = malloc(m * sizeof *a);
        if (!a)
            return CNP_E_NOMEM;
    }
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            a[j++] = v[i];

    const double r_lo = p_lo / 100.0 * (double)(m - 1);
    const double r_hi = p_hi / 100.0 * (double)(m - 1);
    const float vlo = value_at_rank(a, m, r_lo);
    /* Selecting rank k_lo left every value >= s[k_lo] at index >= k_lo, so
     * rank r_hi >= k_lo can be found within that tail alone. r_hi - k_lo is
     * exact (k_lo is an integer <= r_hi < 2^53), so both ranks see the same
     * fraction they would in a full sort. */
    const size_t k_lo = (size_t)floor(r_lo);
    const float vhi = value_at_rank(a + k_lo, m - k_lo, r_hi - (double)k_lo);

    if (a != scratch)
        free(a);
    *lo = vlo;
    *hi = vhi;
    return CNP_OK;
}

static inline uint8_t stretch_one(float v, float lo, float hi)
{
    if (isnan(v))
        return 0;
    if (!(hi > lo))                      /* constant image, NaN or swapped limits */
        return v < lo ? 0 : v > lo ? 255 : 128;
    if (v <= lo)
        return 0;
    if (v >= hi)
        return 255;
    /* double: hi - lo can overflow float (e.g. -3e38 .. 3e38). */
    const double t = ((double)v - (double)lo) / ((double)hi - (double)lo);
    const double q = floor(t * 255.0 + 0.5);
    return (uint8_t)(q < 0.0 ? 0.0 : q > 255.0 ? 255.0 : q);
}

uint8_t cnp_stretch_u8(float v, float lo, float hi) { return stretch_one(v, lo, hi); }

void cnp_stretch_row_u8(const float *v, size_t n, float lo, float hi, uint8_t *out,
                        ptrdiff_t out_step)
{
    if (!(hi > lo) || !isfinite((double)hi - (double)lo)) {
        for (size_t i = 0; i < n; i++)
            out[(ptrdiff_t)i * out_step] = stretch_one(v[i], lo, hi);
        return;
    }
    /* One multiplication per value instead of a division, and no branches:
     * values are clamped to [lo, hi] first (NaN to lo), so the rounded value
     * is positive and truncation is floor(). */
    const double k = 255.0 / ((double)hi - (double)lo), dlo = lo, dhi = hi;
    for (size_t i = 0; i < n; i++) {
        const double x = v[i];
        const double xc = x > dlo ? (x < dhi ? x : dhi) : dlo;
        const int q = (int)((xc - dlo) * k + 0.5);
        out[(ptrdiff_t)i * out_step] = (uint8_t)(q < 255 ? q : 255);
    }
}

/* ------------------------------------------------------------------------ */
/* Pixel access                                                             */
/* ------------------------------------------------------------------------ */

static bool img_ok(const cnp_rgb8 *img)
{
    return img && img->px && img->width > 0 && img->height > 0 &&
           img->stride >= 3 * (ptrdiff_t)img->width;
}

/* Fills [x0,x1) x [y0,y1) clipped to img. int64 bounds: callers pass
 * positions that may lie far outside the int32 image range. */
static void fill_span(cnp_rgb8 *img, int64_t x0, int64_t y0, int64_t x1,
                      int64_t y1, cnp_color c)
{
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > img->width) x1 = img->width;
    if (y1 > img->height) y1 = img->height;
    for (int64_t y = y0; y < y1; y++) {
        uint8_t *p = img->px + (ptrdiff_t)y * img->stride + 3 * (ptrdiff_t)x0;
        for (int64_t x = x0; x < x1; x++, p += 3) {
            p[0] = c.r;
            p[1] = c.g;
            p[2] = c.b;
        }
    }
}

void cnp_draw_rect_fill(cnp_rgb8 *img, int32_t x, int32_t y, int32_t w,
                        int32_t h, cnp_color c)
{
    if (!img_ok(img) || w <= 0 || h <= 0)
        return;
    fill_span(img, x, y, (int64_t)x + w, (int64_t)y + h, c);
}

/* ------------------------------------------------------------------------ */
/* Lines                                                                    */
/* ------------------------------------------------------------------------ */

/* a + t (b - a) for t in [0, 1], exact at both ends (t = 0 gives a, t = 1
 * gives b), so a segment's endpoints land in the pixels that hold them.
 * Computed on halves so that b - a cannot overflow for any finite a, b;
 * scaling by 0.5 and 2 is exact, so for ordinary values this is bit-for-bit
 * the plain formula. */
static double lerp(double a, double b, double t)
{
    const double hd = 0.5 * b - 0.5 * a;
    return t <= 0.5 ? 2.0 * (0.5 * a + t * hd) : 2.0 * (0.5 * b - (1.0 - t) * hd);
}

void cnp_draw_line(cnp_rgb8 *img, double x0, double y0, double x1, double y1,
                   cnp_color c, int width_px)
{
    if (!img_ok(img) || !isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1))
        return;
    const int w = width_px < 1 ? 1 : width_px > CNP_DRAW_MAX_LINE_WIDTH
                                     ? CNP_DRAW_MAX_LINE_WIDTH : width_px;
    const int64_t blo = -(int64_t)((w - 1) / 2), bhi = blo + w - 1;  /* brush offsets */

    /* Walk the major axis u (x when |dx| >= |dy|, else y) one pixel at a
     * time; at each pixel's centre line, clamped to the segment, the minor
     * coordinate v of the segment decides the pixel: floor(v), the pixel that
     * contains that point of the line. Every pixel is computed from the
     * original endpoints, so clipping (restricting the walk to pixels whose
     * brush reaches the image) never moves a visible pixel, and the walk is
     * at most ~width + brush steps however far away the ends are. */
    const bool xmajor = fabs(0.5 * x1 - 0.5 * x0) >= fabs(0.5 * y1 - 0.5 * y0);
    double u0 = xmajor ? x0 : y0, u1 = xmajor ? x1 : y1;
    double v0 = xmajor ? y0 : x0, v1 = xmajor ? y1 : x1;
    /* Canonical order, so that a->b and b->a run the same arithmetic. */
    if (u1 < u0 || (u1 == u0 && v1 < v0)) {
        double t = u0; u0 = u1; u1 = t;
        t = v0; v0 = v1; v1 = t;
    }
    const int64_t ulim = xmajor ? img->width : img->height;
    const int64_t vlim = xmajor ? img->height : img->width;
    /* Pixel centres whose brush touches the image: [-bhi, lim - 1 - blo]. */
    const double umin = (double)-bhi, umax = (double)(ulim - blo);
    const double vmin = (double)-bhi, vmax = (double)(vlim - blo);
    if (u1 < umin || u0 >= umax)
        return;
    const int64_t ia = u0 < umin ? -bhi : (int64_t)floor(u0);
    const int64_t ib = u1 >= umax ? ulim - 1 - blo : (int64_t)floor(u1);
    const double hdu = 0.5 * u1 - 0.5 * u0;

    for (int64_t iu = ia; iu <= ib; iu++) {
        double su = (double)iu + 0.5;
        if (su < u0) su = u0;
        if (su > u1) su = u1;
        const double sv = hdu > 0.0 ? lerp(v0, v1, (0.5 * su - 0.5 * u0) / hdu) : v0;
        if (!(sv >= vmin && sv < vmax))  /* brush cannot reach: also keeps floor() in range */
            continue;
        const int64_t iv = (int64_t)floor(sv);
        const int64_t px = xmajor ? iu : iv, py = xmajor ? iv : iu;
        fill_span(img, px + blo, py + blo, px + bhi + 1, py + bhi + 1, c);
    }
}

void cnp_draw_polyline(cnp_rgb8 *img, const double *xy, size_t npts,
                       cnp_color c, int width_px)
{
    if (!xy || npts == 0)
        return;
    if (npts == 1) {
        cnp_draw_line(img, xy[0], xy[1], xy[0], xy[1], c, width_px);
        return;
    }
    /* cnp_draw_line() ignores segments with a NaN end: that is the break. */
    for (size_t i = 0; i + 1 < npts; i++)
        cnp_draw_line(img, xy[2 * i], xy[2 * i + 1], xy[2 * i + 2], xy[2 * i + 3],
                      c, width_px);
}

/* ------------------------------------------------------------------------ */
/* Mask overlay                                                             */
/* ------------------------------------------------------------------------ */

void cnp_draw_mask_overlay(cnp_rgb8 *img, const uint8_t *mask,
                           ptrdiff_t mask_stride, cnp_color c, double alpha,
                           int hatch_period, int hatch_width)
{
    if (!img_ok(img) || !mask || mask_stride < img->width)
        return;
    if (!(alpha > 0.0))                  /* also NaN */
        return;
    if (hatch_period > 0 && hatch_width <= 0)
        return;
    /* One integer weight for every pixel: the blend is exact integer maths,
     * independent of thread count and FP contraction. */
    const int a = alpha >= 1.0 ? 255 : (int)floor(alpha * 255.0 + 0.5);
    const int64_t W = img->width, H = img->height;
    const ptrdiff_t stride = img->stride;
    uint8_t *const px = img->px;
    const int64_t period = hatch_period, hw = hatch_width;
    const int cr = c.r * a, cg = c.g * a, cb = c.b * a;

    #pragma omp parallel for schedule(static) default(none) \
        shared(px, mask, mask_stride, stride, W, H, a, period, hw, cr, cg, cb)
    for (int64_t y = 0; y < H; y++) {
        const uint8_t *m = mask + (ptrdiff_t)y * mask_stride;
        uint8_t *p = px + (ptrdiff_t)y * stride;
        for (int64_t x = 0; x < W; x++) {
            if (!m[x] || (period > 0 && (x + y) % period >= hw))
                continue;
            uint8_t *q = p + 3 * x;
            q[0] = (uint8_t)((cr + q[0] * (255 - a) + 127) / 255);
            q[1] = (uint8_t)((cg + q[1] * (255 - a) + 127) / 255);
            q[2] = (uint8_t)((cb + q[2] * (255 - a) + 127) / 255);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Text                                                                     */
/* ------------------------------------------------------------------------ */

#define GLYPH_COLS    5
#define GLYPH_ROWS    8                  /* 7 body rows + 1 descender row */
#define GLYPH_ADVANCE 6                  /* 5 columns + 1 column gap      */
#define GLYPH_DEGREE  (127 - 32)
#define GLYPH_BOX     (128 - 32)

/* Hand-drawn 5x7 font with a descender row. One byte per row, top to bottom;
 * bit 4 is the leftmost column, bit 0 the rightmost. Index = code - 32 for
 * ASCII 32..126, then the degree sign and the box for anything unknown. */
static const uint8_t font5x8[][GLYPH_ROWS] = {
    {0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00}, /* space */
    {0x04,0x04,0x04,0x04,0x04,0x00,0x04,0x00}, /* ! */
    {0x0A,0x0A,0x0A,0x00,0x00,0x00,0x00,0x00}, /* " */
    {0x0A,0x0A,0x1F,0x0A,0x1F,0x0A,0x0A,0x00}, /* # */
    {0x04,0x0F,0x14,0x0E,0x05,0x1E,0x04,0x00}, /* $ */
    {0x18,0x19,0x02,0x04,0x08,0x13,0x03,0x00}, /* % */
    {0x0C,0x12,0x14,0x08,0x15,0x12,0x0D,0x00}, /* & */
    {0x04,0x04,0x04,0x00,0x00,0x00,0x00,0x00}, /* ' */
    {0x02,0x04,0x08,0x08,0x08,0x04,0x02,0x00}, /* ( */
    {0x08,0x04,0x02,0x02,0x02,0x04,0x08,0x00}, /* ) */
    {0x00,0x04,0x15,0x0E,0x15,0x04,0x00,0x00}, /* '*' */
    {0x00,0x04,0x04,0x1F,0x04,0x04,0x00,0x00}, /* + */
    {0x00,0x00,0x00,0x00,0x00,0x0C,0x04,0x08}, /* , */
    {0x00,0x00,0x00,0x1F,0x00,0x00,0x00,0x00}, /* - */
    {0x00,0x00,0x00,0x00,0x00,0x0C,0x0C,0x00}, /* . */
    {0x00,0x01,0x02,0x04,0x08,0x10,0x00,0x00}, /* / */
    {0x0E,0x11,0x13,0x15,0x19,0x11,0x0E,0x00}, /* 0 */
    {0x04,0x0C,0x04,0x04,0x04,0x04,0x0E,0x00}, /* 1 */
    {0x0E,0x11,0x01,0x02,0x04,0x08,0x1F,0x00}, /* 2 */
    {0x1F,0x02,0x04,0x02,0x01,0x11,0x0E,0x00}, /* 3 */
    {0x02,0x06,0x0A,0x12,0x1F,0x02,0x02,0x00}, /* 4 */
    {0x1F,0x10,0x1E,0x01,0x01,0x11,0x0E,0x00}, /* 5 */
    {0x06,0x08,0x10,0x1E,0x11,0x11,0x0E,0x00}, /* 6 */
    {0x1F,0x01,0x02,0x04,0x08,0x08,0x08,0x00}, /* 7 */
    {0x0E,0x11,0x11,0x0E,0x11,0x11,0x0E,0x00}, /* 8 */
    {0x0E,0x11,0x11,0x0F,0x01,0x02,0x0C,0x00}, /* 9 */
    {0x00,0x0C,0x0C,0x00,0x0C,0x0C,0x00,0x00}, /* : */
    {0x00,0x00,0x0C,0x0C,0x00,0x0C,0x04,0x08}, /* ; */
    {0x02,0x04,0x08,0x10,0x08,0x04,0x02,0x00}, /* < */
    {0x00,0x00,0x1F,0x00,0x1F,0x00,0x00,0x00}, /* = */
    {0x08,0x04,0x02,0x01,0x02,0x04,0x08,0x00}, /* > */
    {0x0E,0x11,0x01,0x02,0x04,0x00,0x04,0x00}, /* ? */
    {0x0E,0x11,0x01,0x0D,0x15,0x15,0x0E,0x00}, /* @ */
    {0x0E,0x11,0x11,0x1F,0x11,0x11,0x11,0x00}, /* A */
    {0x1E,0x11,0x11,0x1E,0x11,0x11,0x1E,0x00}, /* B */
    {0x0E,0x11,0x10,0x10,0x10,0x11,0x0E,0x00}, /* C */
    {0x1C,0x12,0x11,0x11,0x11,0x12,0x1C,0x00}, /* D */
    {0x1F,0x10,0x10,0x1E,0x10,0x10,0x1F,0x00}, /* E */
    {0x1F,0x10,0x10,0x1E,0x10,0x10,0x10,0x00}, /* F */
    {0x0E,0x11,0x10,0x17,0x11,0x11,0x0F,0x00}, /* G */
    {0x11,0x11,0x11,0x1F,0x11,0x11,0x11,0x00}, /* H */
    {0x0E,0x04,0x04,0x04,0x04,0x04,0x0E,0x00}, /* I */
    {0x07,0x02,0x02,0x02,0x02,0x12,0x0C,0x00}, /* J */
    {0x11,0x12,0x14,0x18,0x14,0x12,0x11,0x00}, /* K */
    {0x10,0x10,0x10,0x10,0x10,0x10,0x1F,0x00}, /* L */
    {0x11,0x1B,0x15,0x15,0x11,0x11,0x11,0x00}, /* M */
    {0x11,0x11,0x19,0x15,0x13,0x11,0x11,0x00}, /* N */
    {0x0E,0x11,0x11,0x11,0x11,0x11,0x0E,0x00}, /* O */
    {0x1E,0x11,0x11,0x1E,0x10,0x10,0x10,0x00}, /* P */
    {0x0E,0x11,0x11,0x11,0x15,0x12,0x0D,0x00}, /* Q */
    {0x1E,0x11,0x11,0x1E,0x14,0x12,0x11,0x00}, /* R */
    {0x0F,0x10,0x10,0x0E,0x01,0x01,0x1E,0x00}, /* S */
    {0x1F,0x04,0x04,0x04,0x04,0x04,0x04,0x00}, /* T */
    {0x11,0x11,0x11,0x11,0x11,0x11,0x0E,0x00}, /* U */
    {0x11,0x11,0x11,0x11,0x11,0x0A,0x04,0x00}, /* V */
    {0x11,0x11,0x11,0x15,0x15,0x15,0x0A,0x00}, /* W */
    {0x11,0x11,0x0A,0x04,0x0A,0x11,0x11,0x00}, /* X */
    {0x11,0x11,0x11,0x0A,0x04,0x04,0x04,0x00}, /* Y */
    {0x1F,0x01,0x02,0x04,0x08,0x10,0x1F,0x00}, /* Z */
    {0x0E,0x08,0x08,0x08,0x08,0x08,0x0E,0x00}, /* [ */
    {0x00,0x10,0x08,0x04,0x02,0x01,0x00,0x00}, /* backslash */
    {0x0E,0x02,0x02,0x02,0x02,0x02,0x0E,0x00}, /* ] */
    {0x04,0x0A,0x11,0x00,0x00,0x00,0x00,0x00}, /* ^ */
    {0x00,0x00,0x00,0x00,0x00,0x00,0x1F,0x00}, /* _ */
    {0x08,0x04,0x02,0x00,0x00,0x00,0x00,0x00}, /* ` */
    {0x00,0x00,0x0E,0x01,0x0F,0x11,0x0F,0x00}, /* a */
    {0x10,0x10,0x16,0x19,0x11,0x11,0x1E,0x00}, /* b */
    {0x00,0x00,0x0E,0x10,0x10,0x11,0x0E,0x00}, /* c */
    {0x01,0x01,0x0D,0x13,0x11,0x11,0x0F,0x00}, /* d */
    {0x00,0x00,0x0E,0x11,0x1F,0x10,0x0E,0x00}, /* e */
    {0x06,0x09,0x08,0x1C,0x08,0x08,0x08,0x00}, /* f */
    {0x00,0x00,0x0F,0x11,0x11,0x0F,0x01,0x0E}, /* g */
    {0x10,0x10,0x16,0x19,0x11,0x11,0x11,0x00}, /* h */
    {0x04,0x00,0x0C,0x04,0x04,0x04,0x0E,0x00}, /* i */
    {0x02,0x00,0x06,0x02,0x02,0x02,0x12,0x0C}, /* j */
    {0x10,0x10,0x12,0x14,0x18,0x14,0x12,0x00}, /* k */
    {0x0C,0x04,0x04,0x04,0x04,0x04,0x0E,0x00}, /* l */
    {0x00,0x00,0x1A,0x15,0x15,0x15,0x15,0x00}, /* m */
    {0x00,0x00,0x16,0x19,0x11,0x11,0x11,0x00}, /* n */
    {0x00,0x00,0x0E,0x11,0x11,0x11,0x0E,0x00}, /* o */
    {0x00,0x00,0x1E,0x11,0x11,0x1E,0x10,0x10}, /* p */
    {0x00,0x00,0x0F,0x11,0x11,0x0F,0x01,0x01}, /* q */
    {0x00,0x00,0x16,0x19,0x10,0x10,0x10,0x00}, /* r */
    {0x00,0x00,0x0F,0x10,0x0E,0x01,0x1E,0x00}, /* s */
    {0x08,0x08,0x1C,0x08,0x08,0x09,0x06,0x00}, /* t */
    {0x00,0x00,0x11,0x11,0x11,0x13,0x0D,0x00}, /* u */
    {0x00,0x00,0x11,0x11,0x11,0x0A,0x04,0x00}, /* v */
    {0x00,0x00,0x11,0x11,0x15,0x15,0x0A,0x00}, /* w */
    {0x00,0x00,0x11,0x0A,0x04,0x0A,0x11,0x00}, /* x */
    {0x00,0x00,0x11,0x11,0x11,0x0F,0x01,0x0E}, /* y */
    {0x00,0x00,0x1F,0x02,0x04,0x08,0x1F,0x00}, /* z */
    {0x02,0x04,0x04,0x08,0x04,0x04,0x02,0x00}, /* { */
    {0x04,0x04,0x04,0x04,0x04,0x04,0x04,0x00}, /* | */
    {0x08,0x04,0x04,0x02,0x04,0x04,0x08,0x00}, /* } */
    {0x00,0x00,0x08,0x15,0x02,0x00,0x00,0x00}, /* ~ */
    {0x0C,0x12,0x12,0x0C,0x00,0x00,0x00,0x00}, /* degree */
    {0x1F,0x11,0x11,0x11,0x11,0x11,0x1F,0x00}, /* box */
};

/* Decodes one glyph from *ps and advances it; -1 at the terminating NUL.
 * One glyph per UTF-8 code point: a lead byte swallows the continuation bytes
 * that follow it, so "é" is one box, not two. */
static int next_glyph(const unsigned char **ps)
{
    const unsigned char *s = *ps;
    const unsigned b = *s;

    if (b == 0)
        return -1;
    if (b >= 32 && b <= 126) {
        *ps = s + 1;
        return (int)b - 32;
    }
    if (b == 0xC2 && s[1] == 0xB0) {     /* U+00B0 DEGREE SIGN */
        *ps = s + 2;
        return GLYPH_DEGREE;
    }
    int need = b >= 0xC0 && b <= 0xDF ? 1 : b >= 0xE0 && b <= 0xEF ? 2
             : b >= 0xF0 && b <= 0xF7 ? 3 : 0;
    s++;
    while (need-- > 0 && (*s & 0xC0) == 0x80)
        s++;
    *ps = s;
    return GLYPH_BOX;
}

static int64_t clamp_scale(int scale)
{
    return scale < 1 ? 1 : scale;
}

int32_t cnp_text_height(int scale)
{
    const int64_t h = GLYPH_ROWS * clamp_scale(scale);
    return h > INT32_MAX ? INT32_MAX : (int32_t)h;
}

int32_t cnp_text_width(const char *s, int scale)
{
    if (!s)
        return 0;
    const int64_t sc = clamp_scale(scale);
    const int64_t adv = GLYPH_ADVANCE * sc;
    const unsigned char *p = (const unsigned char *)s;
    int64_t w = 0;

    while (next_glyph(&p) >= 0) {
        w += adv;
        if (w - sc > INT32_MAX)
            return INT32_MAX;
    }
    return w == 0 ? 0 : (int32_t)(w - sc);
}

void cnp_draw_text(cnp_rgb8 *img, int32_t x, int32_t y, const char *s,
                   cnp_color c, int scale)
{
    if (!img_ok(img) || !s)
        return;
    const int64_t sc = clamp_scale(scale);
    const unsigned char *p = (const unsigned char *)s;
    int g;

    /* The pen only moves right: stop once it has left the image, which also
     * keeps pen arithmetic far from overflow for huge strings or scales. */
    for (int64_t pen = x; pen < img->width && (g = next_glyph(&p)) >= 0;
         pen += GLYPH_ADVANCE * sc) {
        if (pen + GLYPH_COLS * sc <= 0)
            continue;
        for (int r = 0; r < GLYPH_ROWS; r++) {
            const unsigned bits = font5x8[g][r];
            for (int col = 0; col < GLYPH_COLS; col++)
                if (bits & (0x10u >> col))
                    fill_span(img, pen + col * sc, y + r * sc,
                              pen + (col + 1) * sc, y + (r + 1) * sc, c);
        }
    }
}

/* ---- map furniture: scale bar, north arrow ------------------------------- */

double cnp_scale_bar_metres(double width_m)
{
    static const double steps[] = { 1.0, 2.0, 5.0, 2.5 };
    double best = 0.0, best_err = INFINITY;
    const int e0 = (int)floor(log10(width_m)) - 2;
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        if (s == 3 && best > 0.0)
            break;
        for (int e = e0; e <= e0 + 3; e++) {
            const double v = steps[s] * pow(10.0, e), f = v / width_m;
            if (f >= 0.15 && f <= 0.35 && fabs(log(f / 0.25)) < best_err) {
                best = v;
                best_err = fabs(log(f / 0.25));
            }
        }
    }
    return best > 0.0 ? best : pow(10.0, floor(log10(width_m * 0.25)));
}

void cnp_format_metres(char *buf, size_t size, double m)
{
    if (m >= 1000.0)
        snprintf(buf, size, "%g km", m / 1000.0);
    else
        snprintf(buf, size, "%g m", m);
}

int32_t cnp_scale_bar_width(int32_t len_px, const char *label, int scale)
{
    const int32_t ts = (int32_t)clamp_scale(scale);
    return len_px + 6 * ts + cnp_text_width(label, scale);
}

int32_t cnp_scale_bar_height(int scale)
{
    return cnp_text_height(scale) + (int32_t)clamp_scale(scale);
}

void cnp_draw_scale_bar(cnp_rgb8 *img, int32_t x, int32_t y, int32_t len_px, const char *label,
                        cnp_color bar, cnp_color text, int scale)
{
    const int32_t ts = (int32_t)clamp_scale(scale), bh = 2 * ts + 1;
    cnp_draw_rect_fill(img, x, y + 2 * ts, len_px, bh, bar);
    cnp_draw_rect_fill(img, x, y, ts, bh + 4 * ts, bar);
    cnp_draw_rect_fill(img, x + len_px - ts, y, ts, bh + 4 * ts, bar);
    cnp_draw_text(img, x + len_px + 6 * ts, y + ts, label, text, scale);
}

void cnp_draw_north_arrow(cnp_rgb8 *img, double cx, double cy, double deg, cnp_color c,
                          int scale)
{
    const int ts = (int)clamp_scale(scale);
    const double t = deg * M_PI / 180.0;
    const double ux = sin(t), uy = -cos(t), vx = -uy, vy = ux;   /* along, across */
    const double half = 10.0 * ts, head = 6.0 * ts;
    const double tx = cx + ux * half, ty = cy + uy * half;
    cnp_draw_line(img, cx - ux * half, cy - uy * half, tx - ux * head * 0.5,
                  ty - uy * head * 0.5, c, ts + 1);
    /* Solid head: lines from the tip to points along its base. */
    const int steps = (int)(8 * head);
    for (int i = 0; i <= steps; i++) {
        const double s = -0.5 + (double)i / steps;
        const double bx = tx - ux * head + vx * head * 0.9 * s;
        const double by = ty - uy * head + vy * head * 0.9 * s;
        cnp_draw_line(img, tx, ty, bx, by, c, 1);
    }
    const int lw = cnp_text_width("N", ts), lh = cnp_text_height(ts);
    const double lx = cx + ux * (half + 3.0 * ts + lh * 0.5);
    const double ly = cy + uy * (half + 3.0 * ts + lh * 0.5);
    cnp_draw_text(img, (int32_t)lround(lx - lw * 0.5), (int32_t)lround(ly - lh * 0.5), "N", c,
                  ts);
}
