/* kernels/cnp_haze.h - haze, smoke and thin cloud the quality mask calls
 * clear, and a cloud fringe that follows the haze instead of a fixed disk.
 *
 * Haze adds path radiance that falls with wavelength: blue gains most, red
 * less, NIR little, SWIR almost nothing. NDVI drops under it as if the
 * forest were cut. Two tests find it, on surface reflectance:
 *
 *   HOT (haze-optimised transform, Zhang et al. 2002): over clear land, red
 *   and blue lie near one "clear line" red = slope x blue + intercept, bare
 *   soil and vegetation alike (soil is brighter along the line, not off
 *   it). Haze moves a pixel towards blue, off the line:
 *       HOT = (slope x blue - red + intercept) / sqrt(1 + slope^2)
 *   is the distance above the line, in reflectance.
 *
 *   SWIR check: SWIR 2.2 um sees through haze, and every clear land surface
 *   is at least about as bright at 2.2 um as in red (vegetation ~2x, bare
 *   soil 1.2..2x). A pixel whose red outshines its SWIR2 has light added
 *   above the ground. This keeps bright, whitish bare soil in a fresh
 *   clearing - which HOT alone can call hazy - observed.
 *
 * Pixel flags (cnp_haze_classify): HAZY = HOT >= hot_hazy and swir2 <
 * swir_hazy x red; LOOKS = HOT >= hot_fringe and swir2 < swir_fringe x red
 * (weaker: the fringe of a cloud, or the edge of a haze patch). Pixels with
 * NIR below nir_min (water, deep shadow) are neither: water sits above the
 * clear line. Without a SWIR2 band the SWIR check is skipped (and bright soil
 * is at risk: docs/method.md). A pipeline marks HAZY pixels unobserved.
 *
 * Cloud fringe (cnp_haze_fringe): instead of a disk of fixed radius around
 * clouds and shadows, a pixel is unobserved when it is within min_px
 * (square) of a cloud or shadow pixel, or when an 8-connected path of at
 * most max_px steps leads to it from a cloud or shadow pixel through LOOKS
 * pixels only. The buffer grows as far as the fringe really reaches and
 * stops at a clearing next to the cloud (bare soil does not look hazy).
 * Strips stay exact: give a halo of max(min_px, max_px) pixels.
 *
 * The clear line is fitted per scene (cnp_haze_hist_*, cnp_haze_fit) from
 * integer histograms, mergeable across tiles, so it does not depend on
 * tiling or threads; all tests are per pixel or integer. Reflectances are
 * floats, NAN where not valid.
 */
#ifndef CNP_HAZE_H
#define CNP_HAZE_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_mask.h"
#include "cnp_status.h"

enum {
    CNP_HAZE_HAZY  = 1,          /* unobserved: haze, smoke, thin cloud       */
    CNP_HAZE_LOOKS = 2           /* looks hazy: a fringe may grow through it  */
};

typedef struct cnp_haze_line {
    double slope, intercept;     /* clear line: red = slope x blue + intercept */
} cnp_haze_line;

typedef struct cnp_haze_params {
    double hot_hazy;             /* HOT >= this for HAZY (reflectance)         */
    double hot_fringe;           /* HOT >= this for LOOKS (<= hot_hazy)        */
    double swir_hazy;            /* HAZY needs swir2 < swir_hazy x red         */
    double swir_fringe;          /* LOOKS needs swir2 < swir_fringe x red      */
    double nir_min;              /* NIR below this: never hazy (water, shadow) */
} cnp_haze_params;

/* cnp_haze_defaults() : hot_hazy 0.02, hot_fringe 0.01, swir_hazy 1.2,
 * swir_fringe 1.4, nir_min 0.08; clear line slope 1.6, intercept 0 (used
 * when a scene has too little clear land to fit one). Either may be NULL. */
void cnp_haze_defaults(cnp_haze_params *p, cnp_haze_line *line);

/* cnp_haze_hot() : the HOT of one pixel (NAN for NaN input). The kernel
 * uses exactly this function. */
double cnp_haze_hot(const cnp_haze_line *line, double blue, double red);

/* The bands of n pixels; swir2 may be NULL (no SWIR check). */
typedef struct cnp_haze_bands {
    const float *blue, *red, *nir, *swir2;
} cnp_haze_bands;

/* AFTER's bands as DNs, each either float or UInt16 (the other NULL), and
 * the rule that makes them reflectance. */
typedef struct cnp_haze_dn {
    const float    *blue, *red, *nir;
    const uint16_t *blue16, *red16, *nir16;
    const float    *ndvi;        /* the date's NDVI: NaN = not valid          */
    double scale, offset;        /* reflectance = DN x scale + offset         */
    int    has_nodata;           /* blue's nodata value, if it has one        */
    double nodata;
    double saturated_dn;         /* DN >= this is saturated                   */
} cnp_haze_dn;

/* cnp_haze_reflect() :
 * The blue, red and NIR reflectance of n pixels, each (float)(DN x scale +
 * offset) computed in double; all three NAN where the NDVI is NaN or the
 * blue DN is nodata or saturated. A pass can keep the DNs (2 bytes each
 * for UInt16) and recompute the same floats when it needs them.
 * @return CNP_OK, or CNP_E_ARG for NULL pointers (n > 0). */
cnp_status cnp_haze_reflect(const cnp_haze_dn *d, size_t n, float *blue, float *red, float *nir);

/* cnp_haze_classify() :
 * flags[i] = CNP_HAZE_HAZY | CNP_HAZE_LOOKS, CNP_HAZE_LOOKS or 0 for each
 * of the n pixels (0 where a band is NaN).
 * @return CNP_OK, or CNP_E_ARG for NULL pointers (n > 0), a NULL blue, red
 *         or nir band, or thresholds that are not finite or with
 *         hot_fringe > hot_hazy (flags untouched). */
cnp_status cnp_haze_classify(const cnp_haze_params *p, const cnp_haze_line *line,
                             const cnp_haze_bands *b, size_t n, uint8_t *flags);

/* Clear-line histogram: counts of (blue, red) over clear land, in bins of
 * CNP_HAZE_BIN reflectance from 0. A value type: zero it to start. */
#define CNP_HAZE_NBIN 64
#define CNP_HAZE_BIN  0.004
typedef struct cnp_haze_hist {
    uint32_t n[CNP_HAZE_NBIN][CNP_HAZE_NBIN];   /* [blue bin][red bin] */
} cnp_haze_hist;

/* cnp_haze_hist_add() :
 * Count the n pixels that are clear (clear == NULL: all; else clear[i] !=
 * 0), valid, with NIR >= p->nir_min, blue and red inside the histogram,
 * and - with a SWIR2 band - swir2 >= p->swir_hazy x red: the SWIR says the
 * red is the ground's, so unflagged haze, which can cover a fifth of a
 * scene, does not bend the line it is measured from.
 * @return CNP_OK, CNP_E_ARG for NULL pointers (n > 0), or CNP_E_DATA when a
 *         count would overflow (h unchanged). */
cnp_status cnp_haze_hist_add(cnp_haze_hist *h, const cnp_haze_params *p, const cnp_haze_bands *b,
                             const uint8_t *clear, size_t n);

/* A table of what each UInt16 DN gives the clear line's count, for one
 * rule (reflectance = DN x scale + offset, nir_min): its bin, whether the
 * bin is inside the histogram, whether NIR that bright passes nir_min. */
enum { CNP_HAZE_LUT_BIN = 0x3f, CNP_HAZE_LUT_IN = 0x40, CNP_HAZE_LUT_NIR = 0x80 };
typedef struct cnp_haze_lut {
    double  scale, offset, nir_min;       /* the rule it was made for */
    uint8_t v[65536];
} cnp_haze_lut;

/* cnp_haze_lut_init() : the table for p->nir_min and the DN rule. */
void cnp_haze_lut_init(cnp_haze_lut *lut, const cnp_haze_params *p, double scale, double offset);

/* cnp_haze_hist_add_dn() / cnp_haze_classify_dn() :
 * cnp_haze_reflect() followed by cnp_haze_hist_add() (every pixel clear)
 * or cnp_haze_classify(), a chunk at a time: the same counts and flags,
 * without a tile's reflectance planes going through memory. swir2 may be
 * NULL (no SWIR check). With UInt16 DNs, no SWIR2 and a table made for the
 * same rule (lut may be NULL), the counts come from the table instead of
 * reflectances: the same counts, several times faster.
 * @return as the two functions they stand for. */
cnp_status cnp_haze_hist_add_dn(cnp_haze_hist *h, const cnp_haze_params *p, const cnp_haze_dn *d,
                                const float *swir2, const cnp_haze_lut *lut, size_t n);
cnp_status cnp_haze_classify_dn(const cnp_haze_params *p, const cnp_haze_line *line,
                                const cnp_haze_dn *d, const float *swir2, size_t n,
                                uint8_t *flags);

/* cnp_haze_hist_merge() : dst += src. @return CNP_OK, CNP_E_ARG, or
 * CNP_E_DATA on overflow (dst unchanged). */
cnp_status cnp_haze_hist_merge(cnp_haze_hist *dst, const cnp_haze_hist *src);

/* cnp_haze_fit() :
 * The clear line of a histogram: per blue bin holding at least min_count
 * pixels, the 90th percentile of red (haze only lowers red for a given
 * blue, so the upper part of each column is the clear land); then a least
 * squares line through those points weighted by the square root of their
 * counts.
 * @return CNP_OK; CNP_E_ARG for NULL pointers or min_count < 1; CNP_E_DATA
 *         when fewer than 3 bins qualify or the slope is outside [0.5, 4]
 *         (*line unchanged: keep the default). */
cnp_status cnp_haze_fit(const cnp_haze_hist *h, uint32_t min_count, cnp_haze_line *line);

/* cnp_haze_fringe_scratch_len() : elements of each scratch array
 * cnp_haze_fringe() needs for a window of width x height (0 on overflow). */
size_t cnp_haze_fringe_scratch_len(ptrdiff_t width, ptrdiff_t height);

/* cnp_haze_fringe() :
 * For every core pixel of `win` (codes and halo as for cnp_mask_apply()),
 * set observed[y * observed_stride + x] = 0 when its code is not CLEAR, when
 * a SPREADS pixel lies within min_px (square), or when it is reached from a
 * SPREADS pixel by at most max_px 8-connected steps through pixels whose
 * `looks` flags (same layout and stride as win->codes) have
 * CNP_HAZE_LOOKS. Other flags are left alone. scratch16 and queue hold
 * cnp_haze_fringe_scratch_len() elements each; looks and queue may be NULL
 * when max_px is 0, scratch16 too when min_px is 0 as well.
 * @return CNP_OK; CNP_E_ARG for NULL pointers, a bad window, min_px outside
 *         [0, 4096] or max_px outside [0, 255] (observed untouched). */
cnp_status cnp_haze_fringe(const cnp_mask_window *win, const uint8_t *looks, int min_px,
                           int max_px, uint16_t *scratch16, uint32_t *queue, uint8_t *observed,
                           ptrdiff_t observed_stride);

#endif /* CNP_HAZE_H */
