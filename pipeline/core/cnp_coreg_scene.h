/* pipeline/core/cnp_coreg_scene.h - co-registration of AFTER on BEFORE
 * before detect's pass: measure the shift, then correct it, refuse it or
 * only record it ([coreg], docs/method.md 3.2).
 *
 * The estimate reads a fixed grid of windows (at most 4 x 4 of 128 x 128 px,
 * spread evenly over the window of the pass and snapped to multiples of 128
 * px of the grid, so a tiled GeoTIFF decodes one block per window and date)
 * through the readers every command uses, takes NDVI of both dates with
 * unobserved pixels as NaN, and runs phase correlation (kernels/cnp_coreg.h)
 * on 2 x 2 blocks of 64 x 64 px in each, 16 px from its edges: the scene's shift is the median over the
 * blocks that pass the kernel's texture and peak tests. Windows and blocks
 * are processed one after another in a fixed order: the result does not
 * depend on threads or tiling. Correcting means setting the scene's shift
 * (io/cnp_raster.h, cnp_scene.shifted): from then on every reader of AFTER
 * (the pass, its haze and SWIR reads, the chips) gets it resampled onto
 * BEFORE's pixels.
 */
#ifndef CNP_COREG_SCENE_H
#define CNP_COREG_SCENE_H

#include <stddef.h>

#include "cnp_config.h"
#include "cnp_raster.h"
#include "cnp_result.h"

/* cnp_coreg_scene() :
 * Measure AFTER's (or a baseline's) shift against BEFORE over win = {x0, y0, w, h} of the
 * common grid under s's [coreg] settings, fill *out, and in mode auto set
 * after's shift when the estimate is ok and the shift is at least
 * min_shift px (hypot of dx, dy).
 * @return CNP_OK; CNP_E_DATA in mode auto for an ok estimate beyond
 *         max_shift on either axis (the message says what was measured and
 *         what to do; nothing else was done); the reader's errors. */
cnp_status cnp_coreg_scene(const cnp_scene *before, cnp_scene *after, const cnp_settings *s,
                           const int win[4], cnp_coreg_summary *out);

/* cnp_coreg_scene_warning() :
 * What the user should hear about a measured estimate that changes nothing:
 * too few textured blocks agreed (no correction), or, in mode check, a shift
 * beyond max_shift. Written into buf; @return buf, or NULL when there is
 * nothing to say (also for a window under 256 px on a side: fewer than
 * 2 x 2 windows to measure on, run.json only). */
const char *cnp_coreg_scene_warning(const cnp_coreg_summary *c, char *buf, size_t size);
/* The same for a scene of another role (a baseline's: "BASELINE 1"). */
const char *cnp_coreg_scene_warning_for(const cnp_coreg_summary *c, const char *role, char *buf,
                                        size_t size);

/* cnp_coreg_cache_mb() :
 * GDAL's block cache, MB, for a pass over a shifted AFTER (at least `cache`):
 * its tiles are read with a halo that reaches into the blocks around them,
 * so the cache holds the strips above and below every worker's (AFTER's
 * bands are decoded together: all of them count). Without it each block is
 * decoded up to nine times. */
int cnp_coreg_cache_mb(const cnp_scene *after, int strip_h, int nthreads, int cache);

#endif /* CNP_COREG_SCENE_H */
