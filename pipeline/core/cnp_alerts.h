/* pipeline/core/cnp_alerts.h - from loss runs to alerts.
 *
 * The scene's loss runs are labelled into components (first run in scan
 * order numbers a component, so the labels do not depend on how the scene
 * was cut), pieces apart by short unobserved gaps joined first
 * (kernels/cnp_gaps.h, [detect] bridge_gap_m); components under the minimum mapping unit are dropped; the rest
 * are traced into polygons side by side (each alert depends on its own runs
 * only) with their statistics, centroid and a stable id.
 */
#ifndef CNP_ALERTS_H
#define CNP_ALERTS_H

#include <stddef.h>

#include "cnp_config.h"
#include "cnp_losspass.h"
#include "cnp_swir.h"
#include "cnp_raster.h"
#include "cnp_result.h"
#include "cnp_runs.h"

/* What an alert's confidence rests on besides its own sums
 * (kernels/cnp_confidence.h): whether the second index ran, the rule's
 * thresholds, and the normalisation's level per cell (NULL: none ran). */
typedef struct cnp_alert_signals {
    int            swir;
    cnp_swir_rule  rule;
    const uint8_t *norm_level;       /* per cell, row-major, ncx x ncy          */
    int64_t        ncx, ncy;
    int            cell_px;          /* cells from the window's corner          */
    /* the unobserved pixels as runs (cnp_loss_pass.unobserved_runs), for the
     * gaps between loss pieces and partially observed alerts; NULL: none */
    const cnp_runs *unobserved_runs;
} cnp_alert_signals;

/* cnp_alerts_build() :
 * Fill res->alerts (and pixel_area_m2, min_pixels, components,
 * loss_pixels_in_alerts, total_area_ha) from the pass's runs and pieces, on
 * BEFORE's grid, tracing on `nthreads` threads. With `budget` (bytes, 0 =
 * none), tracing workspaces and the alerts' geometries must fit in it: fewer
 * threads trace when the largest alert's workspace asks for it, and the run
 * stops with a message saying what to raise when even that does not fit.
 * @return CNP_OK, CNP_E_NOMEM, or CNP_E_DATA when the grid's CRS cannot be
 *         transformed to WGS84 or the budget cannot be met. */
cnp_status cnp_alerts_build(const cnp_settings *s, const cnp_scene *before,
                            const cnp_scene *after, const int win[4], cnp_runs *runs,
                            const cnp_loss_piece *pieces, size_t npieces,
                            const cnp_alert_signals *sig, int nthreads, size_t budget,
                            cnp_result *res);

#endif /* CNP_ALERTS_H */
