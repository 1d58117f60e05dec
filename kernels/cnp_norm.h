/* kernels/cnp_norm.h - relative radiometric normalisation of dNDVI.
 *
 * Two dates rarely agree radiometrically: another sensor (Landsat 8 against
 * Sentinel-2), another sun and view angle, another aerosol load shift the
 * NDVI of unchanged forest by a few hundredths, smoothly across a scene. On
 * stable forest dNDVI should be 0, so the median dNDVI of the forest around
 * a pixel is the date-to-date bias there; subtracting it keeps slight
 * degradation from being pushed over the loss threshold. The median ignores
 * the few pixels that really changed.
 *
 * The steps, each on plain arrays:
 *   1. cnp_norm_accumulate(): a tile adds its reference pixels to integer
 *      histograms of dNDVI per cell (cell_px x cell_px pixels, cells aligned
 *      to the scene origin). Reference pixel: NDVI valid on both dates (not
 *      NaN), NDVI before >= forest_ndvi and |dNDVI| < max_abs_dndvi.
 *   2. cnp_norm_merge(): grids filled by different workers are added up.
 *   3. cnp_norm_correct(): the correction of a cell is the median dNDVI of
 *      the reference pixels of the cells within radius_cells of it
 *      (Chebyshev distance, clipped at the scene) when they number at least
 *      min_count (level 1); else of those within wide_cells (level 2); else
 *      of the whole band of cell rows within wide_cells, every column
 *      (level 3: the whole scene when it is no taller than 2 wide_cells + 1
 *      cells; a band rather than the scene so that a streaming pass never
 *      waits for the end); else 0 (level 0: no correction).
 *   4. cnp_norm_apply(): dNDVI - correction, the correction interpolated
 *      bilinearly between cell centres (no seams at cell edges).
 *
 * Streaming: a pass that reads the scene in strips accumulates each strip,
 * merges it, and finalises cell row cy as soon as cell rows up to
 * cy + wide_cells are complete (cnp_norm_rows_ready()); pixel rows of cell
 * row cy can be corrected once corrections of cy - 1 .. cy + 1 exist. The
 * lag is (wide_cells + 2) x cell_px pixel rows.
 *
 * Determinism: histograms hold integer counts, so any tiling, merge order or
 * number of threads gives the same grid; medians and the interpolation are
 * computed per cell and per pixel in a fixed order, so results are
 * bit-identical however the scene was cut and for any thread count.
 *
 * A grid is not thread-safe: one thread at a time per grid (give each
 * worker its own grid and merge).
 */
#ifndef CNP_NORM_H
#define CNP_NORM_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_status.h"

typedef struct cnp_norm_params {
    int     cell_px;        /* cell side, pixels, 4..128                       */
    int     radius_cells;   /* first window, cells (Chebyshev), 0..4096        */
    int     wide_cells;     /* fallback window, radius_cells..4096             */
    int64_t min_count;      /* reference pixels a window needs, >= 1           */
    double  forest_ndvi;    /* reference: NDVI before >= this                  */
    double  max_abs_dndvi;  /* reference: |dNDVI| < this; histogram range, (0, 2] */
    int     nbins;          /* bins over [-max_abs_dndvi, max_abs_dndvi), 16..1024 */
} cnp_norm_params;

/* cnp_norm_defaults() :
 * The defaults for pixels of pixel_m metres (docs/method.md says why):
 * 32 px cells, first window +-1.5 km, fallback +-5 km (rounded up to whole
 * cells), min_count = 20 ha of pixels (at least 100), forest_ndvi 0.65,
 * max_abs_dndvi 0.5, 128 bins (1/128 NDVI each).
 * @return CNP_OK, or CNP_E_ARG when pixel_m is not in (0, 10000]. */
cnp_status cnp_norm_defaults(double pixel_m, cnp_norm_params *p);

typedef struct cnp_norm_grid cnp_norm_grid;

/* cnp_norm_grid_create() :
 * An empty grid for a scene of width x height pixels holding the cell rows
 * [cy0, cy1) (cy1 = -1: to the last). A worker that accumulates one strip
 * needs only the cell rows the strip touches; the grid cnp_norm_correct()
 * works on needs the rows within wide_cells of those it corrects.
 * Memory: (cy1 - cy0) x ceil(width / cell_px) x nbins x 2 bytes.
 * @return CNP_OK; CNP_E_ARG for bad params or shapes; CNP_E_NOMEM. */
cnp_status cnp_norm_grid_create(const cnp_norm_params *p, int64_t width, int64_t height,
                                int64_t cy0, int64_t cy1, cnp_norm_grid **out);

/* cnp_norm_grid_free() : free *g and set it to NULL. NULL-safe. */
void cnp_norm_grid_free(cnp_norm_grid **g);

/* cnp_norm_grid_clear() : every count back to 0 (reuse a worker's grid). */
void cnp_norm_grid_clear(cnp_norm_grid *g);

/* cnp_norm_grid_cells() : the scene's cell grid, ncx x ncy cells. */
void cnp_norm_grid_cells(const cnp_norm_grid *g, int64_t *ncx, int64_t *ncy);

/* A tile of both dates' NDVI (NAN where a date is not valid). */
typedef struct cnp_norm_tile {
    int64_t      x0, y0;               /* scene position of pixel (0, 0)      */
    ptrdiff_t    width, height, stride; /* stride in elements, >= width       */
    const float *ndvi_before, *ndvi_after;
} cnp_norm_tile;

/* cnp_norm_accumulate() :
 * Add the tile's reference pixels to the grid. Tiles may have any size and
 * position; each scene pixel must be added once (a cell that would count
 * more pixels than it has is refused).
 * @return CNP_OK; CNP_E_ARG for NULL pointers, a tile outside the scene or
 *         the grid's cell rows, or pixels added twice (grid unchanged). */
cnp_status cnp_norm_accumulate(cnp_norm_grid *g, const cnp_norm_tile *t);

/* cnp_norm_merge() :
 * dst += src, for grids of the same params and scene; src's cell rows must
 * lie within dst's.
 * @return CNP_OK, or CNP_E_ARG (mismatch, overflow: dst unchanged). */
cnp_status cnp_norm_merge(cnp_norm_grid *dst, const cnp_norm_grid *src);

/* cnp_norm_rows_ready() :
 * How many cell rows (from the top) cnp_norm_correct() can finalise when
 * the first rows_done pixel rows of the scene have all been accumulated. */
int64_t cnp_norm_rows_ready(const cnp_norm_grid *g, int64_t rows_done);

/* cnp_norm_correct() :
 * Corrections of cell rows [cy0, cy1), every column, row-major into
 * corr[(cy - cy0) * ncx + cx] (dNDVI units), level[] (1, 2, 3 or 0 as
 * above) and count[] (reference pixels in the window used: the
 * normalisation's size, for confidence). level and count may be NULL.
 * @return CNP_OK; CNP_E_ARG for NULL pointers, rows not ready for
 *         rows_done (cnp_norm_rows_ready), or rows the grid does not hold
 *         within wide_cells. */
cnp_status cnp_norm_correct(cnp_norm_grid *g, int64_t rows_done, int64_t cy0, int64_t cy1,
                            float *corr, uint8_t *level, uint32_t *count);

/* Corrections of cell rows [cy0, cy1) of a scene, as cnp_norm_correct()
 * wrote them. */
typedef struct cnp_norm_field {
    const float *corr;
    int64_t      ncx, ncy, cy0, cy1;
    int          cell_px;
} cnp_norm_field;

/* cnp_norm_apply() :
 * out[y * out_stride + x] = (NDVI after - NDVI before) - correction(x, y),
 * NAN where either NDVI is NaN; the correction interpolated bilinearly
 * between cell centres and held constant beyond the outer centres. The
 * field must hold the cell rows around every row of the tile (cy - 1 ..
 * cy + 1 where the scene has them).
 * @return CNP_OK, CNP_E_NOMEM (a column table of 16 bytes a column), or
 *         CNP_E_ARG for NULL pointers, shapes, or missing rows
 *         (out untouched). */
cnp_status cnp_norm_apply(const cnp_norm_field *f, const cnp_norm_tile *t, float *out,
                          ptrdiff_t out_stride);

/* cnp_norm_median() :
 * The median of a histogram of n bins over [lo, lo + n * width): the
 * value below which half the counts lie, linear within its bin. NAN when
 * every count is 0. The one rule cnp_norm_correct() uses; tests use it as
 * reference. */
double cnp_norm_median(const uint32_t *hist, int n, double lo, double width);

#endif /* CNP_NORM_H */
