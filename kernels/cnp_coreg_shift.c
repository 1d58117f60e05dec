/* kernels/cnp_coreg_shift.c - resampling one plane by a constant sub-pixel
 * offset (bilinear): AFTER put back on BEFORE once the shift is known.
 *
 * One offset for the whole plane means one set of four weights: a pixel is
 * the same sum of the same source values in the same order wherever the
 * tile around it starts, so tiles and thread counts change no bit. Source
 * pixels with a zero weight are never read (an integer offset copies, and a
 * NaN beside the sampled pixel does not spread into it).
 */
#include "cnp_coreg.h"

#include <math.h>

/* The whole pixels and the fraction of an offset, and how many source
 * columns (rows) a pixel reads: 1 without a fraction, else 2. */
static void split_offset(double o, int64_t *whole, double wt[2], int *taps)
{
    const double fl = floor(o);
    *whole = (int64_t)fl;
    wt[1] = o - fl;
    wt[0] = 1.0 - wt[1];
    *taps = wt[1] > 0.0 ? 2 : 1;
}

static int valid_value(const cnp_coreg_src *s, double v)
{
    return v == v && !(s->has_nodata && v == s->nodata) && v < s->saturated;
}

cnp_status cnp_coreg_shift_plane(const cnp_coreg_src *src, double ox, double oy, float fill,
                                 float *out, int64_t w, int64_t h, ptrdiff_t ostride,
                                 uint8_t *valid)
{
    if (!src || !src->data || !out || w < 0 || h < 0 || ostride < w ||
        src->stride < src->width || !isfinite(ox) || !isfinite(oy))
        return CNP_E_ARG;
    int64_t ix, iy;
    double wx[2], wy[2];
    int nx, ny;
    split_offset(ox, &ix, wx, &nx);
    split_offset(oy, &iy, wy, &ny);
    for (int64_t j = 0; j < h; j++) {
        float *o = out + j * ostride;
        uint8_t *v = valid ? valid + j * ostride : NULL;
        const int64_t sy = j + iy;
        const int rows_in = sy >= 0 && sy + ny <= src->height;
        for (int64_t i = 0; i < w; i++) {
            const int64_t sx = i + ix;
            int ok = rows_in && sx >= 0 && sx + nx <= src->width;
            double acc = 0.0;
            for (int b = 0; ok && b < ny; b++) {
                const float *row = src->data + (sy + b) * src->stride + sx;
                double racc = 0.0;
                for (int a = 0; a < nx; a++) {
                    const double s = row[a];
                    if (!valid_value(src, s)) {
                        ok = 0;
                        break;
                    }
                    racc += wx[a] * s;
                }
                acc += wy[b] * racc;
            }
            o[i] = ok ? (float)acc : fill;
            if (!ok && v)
                v[i] = 0;
        }
    }
    return CNP_OK;
}

cnp_status cnp_coreg_shift_mask(const uint8_t *src, int64_t sw, int64_t sh, ptrdiff_t sstride,
                                double ox, double oy, uint8_t *out, int64_t w, int64_t h,
                                ptrdiff_t ostride)
{
    if (!src || !out || w < 0 || h < 0 || ostride < w || sstride < sw || !isfinite(ox) ||
        !isfinite(oy))
        return CNP_E_ARG;
    int64_t ix, iy;
    double wx[2], wy[2];
    int nx, ny;
    split_offset(ox, &ix, wx, &nx);
    split_offset(oy, &iy, wy, &ny);
    for (int64_t j = 0; j < h; j++) {
        uint8_t *o = out + j * ostride;
        const int64_t sy = j + iy;
        const int rows_in = sy >= 0 && sy + ny <= sh;
        for (int64_t i = 0; i < w; i++) {
            const int64_t sx = i + ix;
            int ok = rows_in && sx >= 0 && sx + nx <= sw;
            for (int b = 0; ok && b < ny; b++)
                for (int a = 0; ok && a < nx; a++)
                    ok = src[(sy + b) * sstride + sx + a] != 0;
            o[i] = (uint8_t)ok;
        }
    }
    return CNP_OK;
}
