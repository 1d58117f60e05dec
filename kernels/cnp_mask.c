/* kernels/cnp_mask.c - quality-layer decoding and buffer dilation.
 *
 * Dilation in two passes over integer arrays:
 *  1. for every row of the window, the horizontal distance from each core
 *     column to the nearest spreading pixel of that row (capped at radius+1),
 *     by one left-to-right and one right-to-left scan of the whole row;
 *  2. a core pixel is reached when, for some row offset dy in [-r, r], that
 *     row's distance is <= the half-width of the shape at dy
 *     (r for a square, floor(sqrt(r^2 - dy^2)) for a disk).
 * Cost O(width * height + core pixels * (2r + 1)); exact for both shapes.
 */
#include "cnp_mask.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

cnp_status cnp_mask_decode(const cnp_mask_rule *rule, const uint16_t *values, size_t n,
                           uint8_t *codes)
{
    if (!rule || (n > 0 && (!values || !codes)))
        return CNP_E_ARG;
    if (rule->kind != CNP_MASK_RULE_NONE && rule->kind != CNP_MASK_RULE_VALUES &&
        rule->kind != CNP_MASK_RULE_BITS)
        return CNP_E_ARG;

    /* One loop per rule kind, each without branches: a bit rule vectorises,
     * a value rule is one table lookup a pixel. */
    if (rule->kind == CNP_MASK_RULE_BITS) {
        const uint32_t spread = rule->spread_bits, invalid = rule->invalid_bits;
        #pragma omp parallel for schedule(static) default(none) \
            shared(values, codes, n, spread, invalid) if (n > 65536)
        for (size_t i = 0; i < n; i++) {
            const uint32_t v = values[i];
            const int sp = (v & spread) != 0, inv = (v & invalid) != 0;
            codes[i] = (uint8_t)(sp ? CNP_MASK_SPREADS : inv ? CNP_MASK_UNOBSERVED : CNP_MASK_CLEAR);
        }
    } else if (rule->kind == CNP_MASK_RULE_VALUES) {
        uint8_t table[256];
        for (int v = 0; v < 256; v++)
            table[v] = !rule->invalid[v] ? CNP_MASK_CLEAR
                     : rule->spread[v]   ? CNP_MASK_SPREADS : CNP_MASK_UNOBSERVED;
        #pragma omp parallel for schedule(static) default(none) \
            shared(values, codes, n, table) if (n > 65536)
        for (size_t i = 0; i < n; i++) {
            const uint16_t v = values[i];
            codes[i] = v < 256 ? table[v] : CNP_MASK_CLEAR;
        }
    } else {
        memset(codes, CNP_MASK_CLEAR, n);
    }
    return CNP_OK;
}

cnp_status cnp_mask_table(const cnp_mask_rule *rule, uint8_t table[256])
{
    uint16_t v16[256];
    uint8_t codes[256];
    if (!table)
        return CNP_E_ARG;
    for (int v = 0; v < 256; v++)
        v16[v] = (uint16_t)v;
    const cnp_status st = cnp_mask_decode(rule, v16, 256, codes);
    if (st == CNP_OK)
        memcpy(table, codes, sizeof codes);
    return st;
}

/* Masks list a few class values (Sentinel-2 SCL: 6 of 12): compare with each
 * of up to 8 values, which vectorises, instead of a byte-wide table lookup. */
enum { FEW_VALUES = 8 };

/* In place: one pointer, so the loop vectorises without alias checks. */
static void decode_few(uint8_t *buf, size_t n, const uint8_t val[FEW_VALUES],
                       const uint8_t code[FEW_VALUES])
{
    const uint8_t v0 = val[0], v1 = val[1], v2 = val[2], v3 = val[3];
    const uint8_t v4 = val[4], v5 = val[5], v6 = val[6], v7 = val[7];
    const uint8_t c0 = code[0], c1 = code[1], c2 = code[2], c3 = code[3];
    const uint8_t c4 = code[4], c5 = code[5], c6 = code[6], c7 = code[7];
    for (size_t i = 0; i < n; i++) {
        const uint8_t v = buf[i];
        buf[i] = (uint8_t)((v == v0 ? c0 : 0) | (v == v1 ? c1 : 0) | (v == v2 ? c2 : 0) |
                             (v == v3 ? c3 : 0) | (v == v4 ? c4 : 0) | (v == v5 ? c5 : 0) |
                             (v == v6 ? c6 : 0) | (v == v7 ? c7 : 0));
    }
}

cnp_status cnp_mask_decode_u8(const uint8_t table[256], const uint8_t *values, size_t n,
                              uint8_t *codes)
{
    if (!table || (n > 0 && (!values || !codes)))
        return CNP_E_ARG;

    uint8_t val[FEW_VALUES], code[FEW_VALUES];
    int nval = 0;
    for (int v = 0; v < 256; v++) {
        if (table[v] == CNP_MASK_CLEAR)
            continue;
        if (nval == FEW_VALUES) {
            nval = -1;
            break;
        }
        val[nval] = (uint8_t)v;
        code[nval++] = table[v];
    }
    if (nval == 0) {
        memset(codes, CNP_MASK_CLEAR, n);
        return CNP_OK;
    }
    if (nval < 0) {
        #pragma omp parallel for schedule(static) default(none) \
            shared(table, values, codes, n) if (n > 65536)
        for (size_t i = 0; i < n; i++)
            codes[i] = table[values[i]];
        return CNP_OK;
    }
    for (int j = nval; j < FEW_VALUES; j++) {   /* pad with a repeat: or-ing it is a no-op */
        val[j] = val[0];
        code[j] = code[0];
    }
    if (codes != values)
        memmove(codes, values, n);
    enum { PIECE = 1 << 16 };
    const size_t npieces = (n + PIECE - 1) / PIECE;
    #pragma omp parallel for schedule(static) default(none) \
        shared(codes, n, val, code, npieces) if (npieces > 1)
    for (size_t p = 0; p < npieces; p++) {
        const size_t i0 = p * PIECE, len = n - i0 < PIECE ? n - i0 : PIECE;
        decode_few(codes + i0, len, val, code);
    }
    return CNP_OK;
}

size_t cnp_mask_scratch_len(ptrdiff_t width, ptrdiff_t height)
{
    if (width <= 0 || height <= 0 || (size_t)width > SIZE_MAX / 2 / (size_t)height)
        return 0;
    return (size_t)width * (size_t)height;
}

int cnp_mask_radius_px(double metres, double pixel_m)
{
    if (!(metres > 0) || !(pixel_m > 0) || !isfinite(metres) || !isfinite(pixel_m))
        return 0;
    const double r = floor(metres / pixel_m + 0.5);
    return r > 4096 ? 4096 : (int)r;
}

/* floor(sqrt(v)) for 0 <= v <= 4096^2, exactly. */
static int isqrt(int v)
{
    int r = (int)sqrt((double)v);
    while (r * r > v)
        r--;
    while ((r + 1) * (r + 1) <= v)
        r++;
    return r;
}

cnp_status cnp_mask_apply(const cnp_mask_window *win, int radius, cnp_mask_shape shape,
                          uint16_t *scratch, uint8_t *observed, ptrdiff_t observed_stride)
{
    if (!win || !observed || radius < 0 || radius > 4096 ||
        (shape != CNP_MASK_DISK && shape != CNP_MASK_SQUARE))
        return CNP_E_ARG;
    if (win->core_w <= 0 || win->core_h <= 0)
        return CNP_OK;
    if (!win->codes || win->width <= 0 || win->height <= 0 || win->stride < win->width ||
        win->core_x < 0 || win->core_y < 0 || win->core_x + win->core_w > win->width ||
        win->core_y + win->core_h > win->height || observed_stride < win->core_w)
        return CNP_E_ARG;
    if (radius > 0 && (!scratch || cnp_mask_scratch_len(win->width, win->height) == 0))
        return CNP_E_ARG;

    const uint8_t *codes = win->codes;
    const ptrdiff_t w = win->width, cs = win->stride;
    const ptrdiff_t cx = win->core_x, cy = win->core_y, cw = win->core_w, ch = win->core_h;
    const int r = radius;

    if (r == 0) {
        #pragma omp parallel for schedule(static) default(none) \
            shared(codes, observed, cs, cx, cy, cw, ch, observed_stride)
        for (ptrdiff_t y = 0; y < ch; y++) {
            const uint8_t *c = codes + (cy + y) * cs + cx;
            uint8_t *o = observed + y * observed_stride;
            for (ptrdiff_t x = 0; x < cw; x++)
                if (c[x] != CNP_MASK_CLEAR)
                    o[x] = 0;
        }
        return CNP_OK;
    }

    /* Rows that can reach the core. */
    const ptrdiff_t y0 = cy - r > 0 ? cy - r : 0;
    const ptrdiff_t y1 = cy + ch + r < win->height ? cy + ch + r : win->height;
    const uint16_t far = (uint16_t)(r + 1);
    /* Rows without a spreading pixel (most of a scene) reach nothing: pass 2
     * skips them, so clear sky costs one scan. */
    uint8_t *row_spreads = calloc((size_t)win->height, 1);
    if (!row_spreads)
        return CNP_E_NOMEM;

    /* Pass 1: horizontal distance to the nearest spreading pixel, per row. */
    #pragma omp parallel for schedule(static) default(none) \
        shared(codes, scratch, w, cs, y0, y1, far, row_spreads)
    for (ptrdiff_t y = y0; y < y1; y++) {
        const uint8_t *c = codes + y * cs;
        uint16_t *d = scratch + y * w;
        /* A row without a spreading pixel needs no distances: pass 2 skips it. */
        row_spreads[y] = memchr(c, CNP_MASK_SPREADS, (size_t)w) != NULL;
        if (!row_spreads[y])
            continue;
        uint16_t run = far;
        for (ptrdiff_t x = 0; x < w; x++) {
            run = c[x] == CNP_MASK_SPREADS ? 0 : (run < far ? (uint16_t)(run + 1) : far);
            d[x] = run;
        }
        run = far;
        for (ptrdiff_t x = w - 1; x >= 0; x--) {
            run = c[x] == CNP_MASK_SPREADS ? 0 : (run < far ? (uint16_t)(run + 1) : far);
            if (run < d[x])
                d[x] = run;
        }
    }

    /* Pass 2: a core pixel is reached when a row within the shape is close enough. */
    #pragma omp parallel for schedule(static) default(none) \
        shared(codes, scratch, observed, w, cs, cx, cy, cw, ch, observed_stride, y0, y1, r, shape, \
               row_spreads)
    for (ptrdiff_t y = 0; y < ch; y++) {
        const ptrdiff_t yy = cy + y;
        const uint8_t *c = codes + yy * cs + cx;
        uint8_t *o = observed + y * observed_stride;
        /* selects, not conditional stores: the loops vectorise */
        for (ptrdiff_t x = 0; x < cw; x++)
            o[x] = c[x] == CNP_MASK_CLEAR ? o[x] : 0;
        for (int dy = -r; dy <= r; dy++) {
            const ptrdiff_t sy = yy + dy;
            if (sy < y0 || sy >= y1 || !row_spreads[sy])
                continue;
            const int half = shape == CNP_MASK_SQUARE ? r : isqrt(r * r - dy * dy);
            const uint16_t *d = scratch + sy * w + cx;
            for (ptrdiff_t x = 0; x < cw; x++)
                o[x] = d[x] > half ? o[x] : 0;
        }
    }
    free(row_spreads);
    return CNP_OK;
}
