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

cnp_status cnp_mask_decode_u8(const uint8_t table[256], const uint8_t *values, size_t n,
                              uint8_t *codes)
{
    if (!table || (n > 0 && (!values || !codes)))
        return CNP_E_ARG;
    #pragma omp parallel for schedule(static) default(none) \
        shared(table, values, codes, n) if (n > 65536)
    for (size_t i = 0; i < n; i++)
        codes[i] = table[values[i]];
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
