/* kernels/cnp_mask.h - observation masks: decoding quality layers and growing
 * the unobserved area by a buffer.
 *
 * Pure compute on plain arrays, no I/O, no globals. A quality layer (Landsat
 * QA_PIXEL bits, Sentinel-2 SCL classes, any mask raster) is first decoded
 * into one code per pixel: clear, unobserved, or unobserved *and spreading*
 * (clouds, shadows: their edges leak into the pixels next to them). Then
 * cnp_mask_apply() marks a pixel not observed when it is not clear or when a
 * spreading pixel lies within the buffer radius.
 *
 * Strips stay independent: the caller reads the codes of a window grown by
 * the radius on every side (a halo, clipped at the raster's edges) and gets
 * back exactly the flags a whole-raster dilation would give for the core
 * window. Results are integers and identical for any number of threads.
 */
#ifndef CNP_MASK_H
#define CNP_MASK_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_status.h"

/* Per-pixel codes produced by cnp_mask_decode(). */
enum {
    CNP_MASK_CLEAR      = 0,  /* observed                                       */
    CNP_MASK_UNOBSERVED = 1,  /* not observed, does not grow (fill, nodata)     */
    CNP_MASK_SPREADS    = 2   /* not observed and grown by the buffer (clouds)  */
};

enum { CNP_MASK_RULE_NONE = 0, CNP_MASK_RULE_VALUES = 1, CNP_MASK_RULE_BITS = 2 };

/* How a quality layer's values map to codes.
 *  VALUES: value v (0..255) is unobserved when invalid[v], spreading when also
 *          spread[v]; values above 255 are clear.
 *  BITS:   a value is unobserved when (v & invalid_bits) != 0, spreading when
 *          (v & spread_bits) != 0 (spread_bits is a subset of invalid_bits).
 *  NONE:   every value is clear. */
typedef struct cnp_mask_rule {
    int      kind;
    uint32_t invalid_bits, spread_bits;
    uint8_t  invalid[256], spread[256];
} cnp_mask_rule;

typedef enum cnp_mask_shape {
    CNP_MASK_DISK   = 0,      /* dx^2 + dy^2 <= r^2      */
    CNP_MASK_SQUARE = 1       /* max(|dx|, |dy|) <= r    */
} cnp_mask_shape;

/* cnp_mask_decode() :
 * codes[i] = the code of values[i] under `rule`, for i in [0, n).
 * @return CNP_OK, or CNP_E_ARG on a NULL pointer (with n > 0) or an unknown
 *         rule kind (codes untouched). */
cnp_status cnp_mask_decode(const cnp_mask_rule *rule, const uint16_t *values, size_t n,
                           uint8_t *codes);

/* cnp_mask_table() :
 * The codes of byte values 0..255 under `rule` (a Byte mask raster is decoded
 * by table lookup: Sentinel-2 SCL, most masks).
 * @return CNP_OK, or CNP_E_ARG as cnp_mask_decode() (table untouched). */
cnp_status cnp_mask_table(const cnp_mask_rule *rule, uint8_t table[256]);

/* cnp_mask_decode_u8() :
 * codes[i] = table[values[i]]; `codes` may be `values` (decoded in place).
 * @return CNP_OK, or CNP_E_ARG on a NULL pointer (with n > 0). */
cnp_status cnp_mask_decode_u8(const uint8_t table[256], const uint8_t *values, size_t n,
                              uint8_t *codes);

/* A window of codes: the core window the caller wants flags for, plus a halo
 * of up to `radius` pixels on each side where the raster has them. */
typedef struct cnp_mask_window {
    const uint8_t *codes;          /* CNP_MASK_* codes, halo included           */
    ptrdiff_t      width, height;  /* of codes                                   */
    ptrdiff_t      stride;         /* of codes, in elements                      */
    ptrdiff_t      core_x, core_y; /* where the core window starts in codes      */
    ptrdiff_t      core_w, core_h; /* size of the core window (= of `observed`)  */
} cnp_mask_window;

/* cnp_mask_scratch_len() : elements of uint16_t scratch cnp_mask_apply() needs
 * for a window of codes of width x height (0 on overflow). */
size_t cnp_mask_scratch_len(ptrdiff_t width, ptrdiff_t height);

/* cnp_mask_apply() :
 * For every core pixel, set observed[y * observed_stride + x] = 0 when its code
 * is not CLEAR, or when a SPREADS pixel of the window lies within `radius`
 * pixels (shape DISK or SQUARE). Other flags are left as they are, so the
 * caller can start from another mask (nodata, footprint) and combine.
 * radius 0 only applies the codes. Pixels beyond the window count as clear:
 * give the full halo except where the raster ends.
 * `scratch` holds cnp_mask_scratch_len(width, height) elements.
 * @return CNP_OK, or CNP_E_ARG on NULL pointers, a core window outside the
 *         codes, a stride smaller than the width, radius outside [0, 4096]
 *         or an unknown shape (observed untouched). */
cnp_status cnp_mask_apply(const cnp_mask_window *win, int radius, cnp_mask_shape shape,
                          uint16_t *scratch, uint8_t *observed, ptrdiff_t observed_stride);

/* cnp_mask_radius_px() :
 * Buffer radius in pixels for a buffer of `metres` on pixels of `pixel_m`
 * metres: round(metres / pixel_m), 0 when either is <= 0 or not finite. */
int cnp_mask_radius_px(double metres, double pixel_m);

#endif /* CNP_MASK_H */
