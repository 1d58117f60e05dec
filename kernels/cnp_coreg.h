/* kernels/cnp_coreg.h - sub-pixel shift between two dates by phase
 * correlation.
 *
 * A shift of one pixel between BEFORE and AFTER turns every forest edge
 * into a thin line of "loss". Phase correlation finds the shift: for two
 * blocks of the same place, the normalised cross-power spectrum
 * F_b conj(F_a) / |F_b conj(F_a)| is a pure phase ramp whose inverse FFT is
 * a peak at the shift. Its sub-pixel part comes from the phase of the
 * cross-power spectrum, a plane once the integer shift is removed, fitted
 * over the low frequencies weighted by their amplitude (as Stone et al.
 * 2001). Blocks are N x N (a power of two, 16..256),
 * their mean removed and a Hann window applied; blocks without texture
 * (flat, cloud, water), with invalid pixels, or with a weak peak are not
 * used; the scene's shift is the median over the blocks used.
 *
 * Convention: AFTER's pixel (x, y) shows what BEFORE shows at
 * (x + dx, y + dy) - canopy-synth --scenario misregistration --shift DX,DY
 * gives (DX, DY). To align AFTER on BEFORE, resample AFTER at (x - dx,
 * y - dy) (the pipeline's job: shifts up to about N / 4 are found).
 *
 * Quality: per block the peak height (1 = identical up to the shift, about
 * 0.1..0.6 for real dates) and the ratio of the peak to the highest value
 * outside its 3 x 3 neighbourhood; per scene the number of blocks used and
 * the median absolute deviation of their shifts. A result is `ok` when at
 * least min_blocks agree within max_mad pixels.
 *
 * The FFT is a radix-2 in double precision written here; blocks are
 * processed one after another in a fixed order, so results are identical
 * for any thread count. One workspace per thread.
 */
#ifndef CNP_COREG_H
#define CNP_COREG_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_status.h"

typedef struct cnp_coreg_params {
    int    block;            /* block side N, power of two in 16..256 (64)       */
    int    step;             /* block spacing, pixels, >= 1 (64: no overlap)     */
    double min_std;          /* texture: both blocks' standard deviation >= this
                                (image units; 0.01 for reflectance)             */
    double max_invalid;      /* share of NaN pixels a block may have (0.02),
                                filled with the block's mean                    */
    double min_peak;         /* a block is used when its peak >= this (0.08)     */
    double min_ratio;        /* ... and peak / second peak >= this (1.5)        */
    int    min_blocks;       /* a scene result is ok with >= this many (3)       */
    double max_mad;          /* ... whose shifts agree within this, px (0.5)     */
} cnp_coreg_params;

/* cnp_coreg_defaults() : the values in brackets above. */
void cnp_coreg_defaults(cnp_coreg_params *p);

typedef struct cnp_coreg_block {
    int64_t x0, y0;          /* block position in the image                     */
    double  dx, dy;          /* its shift (convention above)                    */
    double  peak, ratio;     /* peak height, peak / second peak                 */
    int     used;            /* passed texture, validity, peak and ratio tests  */
} cnp_coreg_block;

typedef struct cnp_coreg_result {
    double dx, dy;           /* median over used blocks (0 when none)           */
    double mad_x, mad_y;     /* median absolute deviations, pixels              */
    double peak;             /* median peak of the used blocks                  */
    size_t blocks, used;     /* blocks looked at, blocks used                   */
    int    ok;               /* used >= min_blocks and both MADs <= max_mad     */
} cnp_coreg_result;

typedef struct cnp_coreg_ws cnp_coreg_ws;

/* cnp_coreg_ws_create() : a workspace for blocks of side `block`
 * (3 x block^2 complex values and tables). @return CNP_OK, CNP_E_ARG for a
 * block that is not a power of two in 16..256, CNP_E_NOMEM. */
cnp_status cnp_coreg_ws_create(int block, cnp_coreg_ws **out);

/* cnp_coreg_ws_free() : free *ws and set it to NULL. NULL-safe. */
void cnp_coreg_ws_free(cnp_coreg_ws **ws);

/* cnp_coreg_fft() :
 * In-place 2-D FFT of a block x block complex array (re, im row-major),
 * forward (inverse = 0) or inverse (scaled by 1 / block^2). Exposed for
 * tests. @return CNP_OK or CNP_E_ARG. */
cnp_status cnp_coreg_fft(cnp_coreg_ws *ws, double *re, double *im, int inverse);

/* cnp_coreg_block_shift() :
 * The shift of one block: before and after point at the block's top-left
 * pixel in their images (row stride in elements, NaN = invalid); writes
 * out->dx, dy, peak, ratio, used (x0, y0 are left to the caller). One pass
 * is pulled towards 0 by about 5 % of the shift (the window stays while
 * the content moves); cnp_coreg_estimate() measures a second time with
 * AFTER's block moved by the whole pixels found, leaving ~1 %.
 * @return CNP_OK (also for a block that is not used), CNP_E_ARG. */
cnp_status cnp_coreg_block_shift(cnp_coreg_ws *ws, const cnp_coreg_params *p,
                                 const float *before, const float *after, ptrdiff_t stride,
                                 cnp_coreg_block *out);

/* cnp_coreg_blocks_max() : blocks cnp_coreg_estimate() looks at in a
 * width x height image (0 when smaller than one block). */
size_t cnp_coreg_blocks_max(const cnp_coreg_params *p, int64_t width, int64_t height);

/* cnp_coreg_aggregate() :
 * The scene result from n blocks (from any number of images or strips, in
 * any order: medians do not depend on it).
 * @return CNP_OK, CNP_E_ARG for NULL pointers. */
cnp_status cnp_coreg_aggregate(const cnp_coreg_params *p, const cnp_coreg_block *blocks,
                               size_t n, cnp_coreg_result *out);

/* cnp_coreg_estimate() :
 * Blocks at (x0, y0) = (i step, j step) that fit in the image, each through
 * cnp_coreg_block_shift(), into blocks[] (capacity cap >=
 * cnp_coreg_blocks_max()), then cnp_coreg_aggregate().
 * @return CNP_OK; CNP_E_ARG for NULL pointers, bad params, a workspace of
 *         another block size or too small a capacity. */
cnp_status cnp_coreg_estimate(cnp_coreg_ws *ws, const cnp_coreg_params *p, const float *before,
                              const float *after, int64_t width, int64_t height,
                              ptrdiff_t stride, cnp_coreg_block *blocks, size_t cap,
                              cnp_coreg_result *out);

/* ---- resampling AFTER onto BEFORE ------------------------------------------ */

/* A plane to resample from: w x h values, row stride in elements; a value
 * is invalid when NaN, equal to `nodata` (when has_nodata) or >= `saturated`
 * (INFINITY: no saturation). */
typedef struct cnp_coreg_src {
    const float *data;
    int64_t      width, height;
    ptrdiff_t    stride;
    int          has_nodata;
    double       nodata, saturated;
} cnp_coreg_src;

/* cnp_coreg_shift_plane() :
 * out(i, j) = src at (i + ox, j + oy), bilinear, for i < w, j < h (row
 * stride ostride). The offset is the same for every pixel, so are the
 * weights: a pixel's value depends only on its (up to four) source pixels,
 * and any cutting of the scene into tiles gives the same bits. A pixel
 * whose source pixels with a non-zero weight include one outside src or an
 * invalid one gets `fill`, and valid (may be NULL; stride ostride) 0 there;
 * valid is left alone elsewhere, so several planes can clear one flag
 * plane. An offset with no fraction copies.
 * To align AFTER (convention above): ox = x0 - dx - sx0, oy = y0 - dy - sy0
 * for the output tile at (x0, y0) and a source read at (sx0, sy0).
 * @return CNP_OK, CNP_E_ARG for NULL pointers, strides below the widths or
 *         an offset that is not finite. */
cnp_status cnp_coreg_shift_plane(const cnp_coreg_src *src, double ox, double oy, float fill,
                                 float *out, int64_t w, int64_t h, ptrdiff_t ostride,
                                 uint8_t *valid);

/* cnp_coreg_shift_mask() :
 * The same for a 0/1 flag plane (observed, inside): out(i, j) is 1 when every
 * source pixel with a non-zero weight lies inside src and is non-zero, else
 * 0 (a pixel half seen is not seen).
 * @return CNP_OK or CNP_E_ARG, as cnp_coreg_shift_plane(). */
cnp_status cnp_coreg_shift_mask(const uint8_t *src, int64_t sw, int64_t sh, ptrdiff_t sstride,
                                double ox, double oy, uint8_t *out, int64_t w, int64_t h,
                                ptrdiff_t ostride);

#endif /* CNP_COREG_H */
