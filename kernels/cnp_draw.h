/* kernels/cnp_draw.h - raster drawing for quicklooks and evidence chips.
 *
 * Pure compute on caller-owned RGB8 buffers: no I/O, no globals, no printing.
 * Every function paints whole pixels with integer colours, so the output is
 * bit-identical for any OMP_NUM_THREADS and any -march.
 *
 * Pixel convention, used by every function below: coordinates are in pixel
 * units, (0,0) is the top-left CORNER of pixel (0,0), and pixel (i,j) covers
 * the half-open square [i,i+1) x [j,j+1). A continuous point (x,y) therefore
 * belongs to pixel (floor(x), floor(y)): a point on a pixel boundary goes to
 * the pixel right of / below it. A vertical line along x = 3.0 paints
 * column 3 (not 2); a horizontal line along y = 4.0 paints row 4. Pixel
 * centres are at (i + 0.5, j + 0.5).
 *
 * An image view that is NULL, has a NULL px, a non-positive size, or a stride
 * below 3 * width is ignored by the void functions (nothing is drawn).
 * Nothing is ever written outside [0,width) x [0,height): all drawing is
 * clipped to the view, so padding bytes beyond 3 * width in a row stay intact.
 */
#ifndef CNP_DRAW_H
#define CNP_DRAW_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_status.h"

/* RGB interleaved, 3 bytes per pixel; stride in BYTES between row starts
 * (>= 3 * width). Caller-owned; the functions never allocate or free px. */
typedef struct cnp_rgb8 {
    uint8_t  *px;
    int32_t   width, height;
    ptrdiff_t stride;
} cnp_rgb8;

typedef struct cnp_color { uint8_t r, g, b; } cnp_color;

/* Largest brush cnp_draw_line() accepts; wider requests are clamped. */
#define CNP_DRAW_MAX_LINE_WIDTH 64

/* cnp_percentiles() :
 * Stretch limits for a quicklook: *lo and *hi are the values at percentiles
 * p_lo and p_hi (in percent, 0 <= p_lo <= p_hi <= 100) of the finite values
 * among v[0..n-1]; NaN and +-Inf are skipped.
 * Definition (numpy's default "linear"): with the m finite values sorted as
 * s[0..m-1], the value at p is s[k] + f * (s[k+1] - s[k]) where
 * r = p / 100 * (m - 1), k = floor(r), f = r - k. So p = 0 gives the minimum,
 * p = 100 the maximum, and the result always lies between two data values.
 * Exact and deterministic (selection on a copy; v is not modified).
 * scratch : NULL, or a buffer of at least n floats the function may overwrite;
 *           with NULL it allocates (and frees) one of m floats itself.
 * @return CNP_OK; CNP_E_ARG when an argument is NULL, p_lo/p_hi are out of
 *         order or range, or no value is finite (n == 0, all NaN);
 *         CNP_E_NOMEM when scratch is NULL and the allocation fails.
 *         On error *lo and *hi are left untouched. */
cnp_status cnp_percentiles(const float *v, size_t n, double p_lo, double p_hi,
                           float *scratch, float *lo, float *hi);

/* cnp_stretch_u8() :
 * Linear map of v from [lo, hi] to 0..255, rounded to nearest (halves up) and
 * clamped: v <= lo -> 0, v >= hi -> 255; NaN -> 0; +Inf -> 255, -Inf -> 0.
 * Degenerate range (!(hi > lo), e.g. a constant image where lo == hi, or a
 * NaN limit): v < lo -> 0, v > lo -> 255, otherwise 128. */
uint8_t cnp_stretch_u8(float v, float lo, float hi);

/* cnp_stretch_row_u8() :
 * cnp_stretch_u8() over n values, out[i * out_step] = stretch(v[i]) (e.g. a step
 * of 3 fills one channel of an RGB row), with one multiplication per value: a
 * value whose scaled position falls within rounding of a half may land one
 * level from cnp_stretch_u8's. Deterministic. */
void cnp_stretch_row_u8(const float *v, size_t n, float lo, float hi, uint8_t *out,
                        ptrdiff_t out_step);

/* cnp_draw_line() :
 * Paints the segment (x0,y0)-(x1,y1) in colour c, opaque, clipped to img.
 * Both endpoints are painted, and the result does not depend on the
 * direction (a->b paints exactly what b->a paints).
 * width_px == 1: one pixel per column (x-major, |dx| >= |dy|) or per row
 *   (y-major): the pixel containing the segment's point at that column's /
 *   row's centre line (clamped to the segment), so the line is 8-connected.
 *   A degenerate segment (both ends equal) paints the one pixel holding it.
 * width_px > 1: a width_px x width_px square brush is stamped on each of
 *   those pixels, covering offsets -(w-1)/2 .. w/2 (integer division): w = 2
 *   extends right/down by one, w = 3 by one on each side.
 * width_px < 1 is treated as 1, > CNP_DRAW_MAX_LINE_WIDTH as that maximum.
 * Coordinates far outside the image are clipped safely; a segment with a NaN
 * or infinite coordinate is ignored (nothing is drawn). */
void cnp_draw_line(cnp_rgb8 *img, double x0, double y0, double x1, double y1,
                   cnp_color c, int width_px);

/* cnp_draw_polyline() :
 * Draws the npts - 1 segments between consecutive points of xy
 * (x0,y0, x1,y1, ...; 2 * npts doubles) with cnp_draw_line(). The polyline is
 * NOT closed automatically: repeat the first point at the end for a ring.
 * A vertex with a NaN coordinate breaks the line (segments touching it are
 * skipped), which lets one call draw several parts. npts == 1 paints the
 * single point. */
void cnp_draw_polyline(cnp_rgb8 *img, const double *xy, size_t npts,
                       cnp_color c, int width_px);

/* cnp_draw_rect_fill() :
 * Fills pixels [x, x+w) x [y, y+h), clipped to img; w <= 0 or h <= 0 draws
 * nothing. */
void cnp_draw_rect_fill(cnp_rgb8 *img, int32_t x, int32_t y, int32_t w,
                        int32_t h, cnp_color c);

/* cnp_draw_mask_overlay() :
 * Blends colour c over every pixel whose mask byte is non-zero, with opacity
 * alpha in [0, 1] (clamped; NaN counts as 0):
 *     out = (c * a + in * (255 - a) + 127) / 255,  a = round(alpha * 255),
 * in integers per channel, so alpha = 1 paints c exactly.
 * mask : width x height bytes, one per pixel, mask_stride bytes between rows
 *        (>= img->width); same pixel grid as img.
 * hatch_period > 0 : only pixels with (x + y) % hatch_period < hatch_width are
 *        painted: diagonal stripes running bottom-left to top-right ("/"),
 *        hatch_width pixels thick along each row (hatch_width <= 0 paints
 *        nothing). Stripes are anchored at image pixel (0,0), so adjacent
 *        chips cut from one scene do not line up unless the caller offsets
 *        them. hatch_period <= 0 : solid blend.
 * Parallel over rows (OpenMP); the result is thread-count independent. */
void cnp_draw_mask_overlay(cnp_rgb8 *img, const uint8_t *mask,
                           ptrdiff_t mask_stride, cnp_color c, double alpha,
                           int hatch_period, int hatch_width);

/* cnp_draw_text() :
 * Draws s with the built-in 5x7 bitmap font (plus one descender row, for
 * g j p q y , ;), each font pixel scaled to scale x scale image pixels
 * (scale < 1 is treated as 1). (x, y) is the top-left corner of the text box
 * cnp_text_width(s, scale) x cnp_text_height(scale); every painted pixel lies
 * inside that box. Glyph cells are 6 * scale wide (5 columns + 1 gap), one
 * line only: no wrapping, '\n' is not special. Only glyph pixels are painted
 * (transparent background; put a cnp_draw_rect_fill() under it for contrast).
 * Characters: ASCII 32..126 and the degree sign as UTF-8 "\xC2\xB0".
 * Anything else (control characters, other UTF-8 sequences, stray bytes) is
 * drawn as a hollow box, one per UTF-8 code point. s == NULL draws nothing. */
void cnp_draw_text(cnp_rgb8 *img, int32_t x, int32_t y, const char *s,
                   cnp_color c, int scale);

/* cnp_text_width() :
 * Width in pixels of the text box of s: n * 6 * scale - scale for n glyphs
 * (no trailing gap), 0 for an empty string or NULL. Saturates at INT32_MAX. */
int32_t cnp_text_width(const char *s, int scale);

/* cnp_text_height() :
 * Height in pixels of any text box: 8 * scale (7 rows + 1 descender row).
 * Saturates at INT32_MAX. */
int32_t cnp_text_height(int scale);

/* cnp_scale_bar_metres() :
 * A round length for a scale bar on a picture width_m metres wide: the
 * 1-2-5 x 10^k value whose bar is 15-35 % of the width, nearest to 25 %;
 * 2.5 x 10^k fills the one gap the series leaves (widths of 13.3-14.3 x
 * 10^k); 10^floor(log10(width_m / 4)) if nothing fits (never for finite
 * width_m > 0). */
double cnp_scale_bar_metres(double width_m);

/* cnp_format_metres() : "500 m", "2.5 km" (%g of metres below 1000, of
 * kilometres from there). */
void cnp_format_metres(char *buf, size_t size, double m);

/* cnp_draw_scale_bar() :
 * A solid bar len_px long with an end tick at each end (the ticks are inside
 * [x, x + len_px)) and `label` right of it, in the box of
 * cnp_scale_bar_width() x cnp_scale_bar_height() from (x, y). */
void cnp_draw_scale_bar(cnp_rgb8 *img, int32_t x, int32_t y, int32_t len_px, const char *label,
                        cnp_color bar, cnp_color text, int scale);
int32_t cnp_scale_bar_width(int32_t len_px, const char *label, int scale);
int32_t cnp_scale_bar_height(int scale);

/* cnp_draw_north_arrow() :
 * An arrow 20 * scale px long centred on (cx, cy), pointing `deg` degrees
 * clockwise from image up (true north's direction there), with a solid head
 * and an "N" beyond its tip; everything lies within 12 * scale + the height
 * of one text line (cnp_text_height) of (cx, cy). */
void cnp_draw_north_arrow(cnp_rgb8 *img, double cx, double cy, double deg, cnp_color c,
                          int scale);

#endif /* CNP_DRAW_H */
