/* kernels/cnp_gaps.h - minimum mapping unit across unobserved gaps.
 *
 * Landsat 7's SLC-off stripes, a cloud or its buffer can cut one clearing
 * into pieces that are each below the minimum area; each piece is then
 * dropped and the clearing is lost. Here loss pieces separated only by a
 * short straight line of unobserved pixels are joined into one alert:
 *
 *   a loss pixel p and a direction d (east, south, south-east, south-west;
 *   the other four are the same walks seen from the far end) bridge to the
 *   loss pixel p + (m + 1) d when the m pixels between are all unobserved
 *   and 1 <= m <= gap_px.
 *
 * Straight lines only: a stripe between two pieces is crossed, a cloud
 * wider than the gap is not, so fringe leftovers on both sides of a cloud
 * are not joined into one alert. Only loss pixels count towards the minimum
 * area and belong to the alert's outline (a bridged alert is a
 * multipolygon). An alert is partially observed when one of its loss
 * pixels has an unobserved 8-neighbour, or when it was bridged: some of the
 * clearing may lie under the gap.
 *
 * Works on runs, after the pass: the scene's loss runs (cnp_runs, linked)
 * and its unobserved runs (same invariants, not linked), so no raster and
 * no halo between strips is needed; the unions it adds are those a
 * pixel-by-pixel walk over the whole scene gives (tests/unit/test_gaps.c
 * checks that on random scenes). Pixels outside the runs' window are
 * neither loss nor unobserved. Integer and single-threaded: the same for
 * any tiling and thread count.
 */
#ifndef CNP_GAPS_H
#define CNP_GAPS_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_runs.h"
#include "cnp_status.h"

/* Flags per loss run written by cnp_gaps_bridge() (bits). */
enum {
    CNP_GAP_EDGE    = 1,         /* a loss pixel of the run borders unobserved  */
    CNP_GAP_BRIDGED = 2          /* the run was joined to another across a gap */
};

/* cnp_gaps_gap_px() :
 * gap_px for gaps up to gap_m metres across on pixels of pixel_m metres:
 * floor(gap_m / pixel_m) (a diagonal step counts as one pixel), 0 when
 * either is <= 0 or not finite, at most 4096. */
int cnp_gaps_gap_px(double gap_m, double pixel_m);

/* cnp_gaps_bridge() :
 * Union the loss runs joined across gaps of at most gap_px unobserved
 * pixels (0: none) in loss->parent (cnp_runs_union), and set flags[i]
 * (loss->n entries, cleared first; may be NULL) for each loss run.
 * *nbridges (may be NULL) gets the number of bridges found (a pair of runs
 * joined by several walks counts each walk).
 * @return CNP_OK; CNP_E_ARG for NULL runs, runs out of scan order, or
 *         gap_px outside [0, 4096]; CNP_E_NOMEM (nothing changed). */
cnp_status cnp_gaps_bridge(cnp_runs *loss, const cnp_runs *unobserved, int gap_px,
                           uint8_t *flags, size_t *nbridges);

#endif /* CNP_GAPS_H */
