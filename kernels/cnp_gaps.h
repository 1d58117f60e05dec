/* kernels/cnp_gaps.h - minimum mapping unit across unobserved gaps.
 *
 * Landsat 7's SLC-off stripes, a cloud or its buffer can cut one clearing
 * into pieces that are each below the minimum area; each piece is then
 * dropped and the clearing is lost. Here loss pieces separated only by
 * unobserved pixels count as one alert: an unobserved pixel is a bridge
 * pixel when it lies on a straight run of unobserved pixels - along a row,
 * a column or a diagonal - at most gap_px long with a loss pixel at both
 * ends; loss and bridge pixels are then labelled together (8- or
 * 4-connected) with cnp_runs. Straight runs only: a stripe between two
 * pieces is bridged, a wide cloud is not crossed.
 *
 * Which unobserved pixels may bridge: those with no data at all (class
 * CNP_GAP_CLASS_NODATA: SLC-off stripes, the edge of a swath, a tile's
 * nodata) always; those the mask took out (CNP_CLASS_UNOBSERVED: clouds,
 * shadows, haze, their buffers) only with through_masked, because fringe
 * leftovers round a cloud - false loss the buffer did not reach - would
 * otherwise be joined across the cloud into alerts above the minimum area. cnp_gaps_gap_px() turns
 * a gap width in metres into gap_px. Only loss pixels count towards the
 * minimum area and belong to the alert's outline; an alert that has bridge
 * pixels or whose loss borders an unobserved pixel (8-neighbour) is
 * partially observed.
 *
 * Streaming, as cnp_runs: per strip, cnp_gaps_mark() turns the pixel
 * classes (CNP_CLASS_*, kernels/cnp_change.h) of the strip plus a halo of
 * max(1, gap_px) rows above and below into codes; cnp_gaps_push_row() keeps
 * the runs of loss-or-bridge pixels with per-run statistics in a
 * cnp_gap_stats kept index for index beside the cnp_runs; strips are joined
 * with cnp_gaps_concat(); after cnp_runs_label(), cnp_gaps_summarise()
 * gives each component its loss and bridge pixels and flags. Everything is
 * integer: results do not depend on strip height, tiling or threads.
 */
#ifndef CNP_GAPS_H
#define CNP_GAPS_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_mask.h"
#include "cnp_runs.h"
#include "cnp_status.h"

/* Codes written by cnp_gaps_mark() (bits). */
enum {
    CNP_GAP_LOSS   = 1,          /* a loss pixel                               */
    CNP_GAP_BRIDGE = 2,          /* unobserved, on a short run between loss    */
    CNP_GAP_EDGE   = 4           /* with LOSS: an 8-neighbour is unobserved    */
};

/* A class beside CNP_CLASS_* (kernels/cnp_change.h) for cnp_gaps_mark():
 * unobserved because there is no data at all. */
enum { CNP_GAP_CLASS_NODATA = 4 };

/* cnp_gaps_gap_px() :
 * gap_px for gaps up to gap_m metres across on pixels of pixel_m metres:
 * floor(gap_m / pixel_m) (a diagonal step counts as one pixel), 0 when
 * either is <= 0 or not finite, at most 4096. */
int cnp_gaps_gap_px(double gap_m, double pixel_m);

/* cnp_gaps_mark() :
 * win->codes holds pixel classes (CNP_CLASS_UNOBSERVED, _OTHER, _FOREST,
 * _LOSS, CNP_GAP_CLASS_NODATA) of a window: the core and a halo of
 * max(1, gap_px) pixels where the scene has them (as for cnp_mask_apply();
 * beyond the window nothing is loss). For every core pixel writes
 * out[y * out_stride + x] = LOSS (| EDGE), BRIDGE or 0 as above; bridges
 * run through NODATA pixels, and through UNOBSERVED ones too when
 * through_masked. Both kinds make a neighbouring loss pixel an EDGE.
 * @return CNP_OK; CNP_E_ARG for NULL pointers, a bad window or gap_px
 *         outside [0, 4096] (out untouched). */
cnp_status cnp_gaps_mark(const cnp_mask_window *win, int gap_px, int through_masked,
                         uint8_t *out, ptrdiff_t out_stride);

/* Statistics of the runs of a cnp_runs, index for index (s.n == runs.n). */
typedef struct cnp_gap_stats {
    uint32_t *loss;              /* loss pixels of the run                      */
    uint32_t *bridge;            /* bridge pixels of the run                    */
    uint8_t  *edge;              /* 1: one of its loss pixels borders unobserved */
    size_t    n, cap;
} cnp_gap_stats;

/* cnp_gap_stats_init() / _free() / _clear(): as cnp_runs_init/free/clear. */
void cnp_gap_stats_init(cnp_gap_stats *s);
void cnp_gap_stats_free(cnp_gap_stats *s);
void cnp_gap_stats_clear(cnp_gap_stats *s);

/* cnp_gaps_push_row() :
 * Append the runs of LOSS-or-BRIDGE pixels of codes[0..width-1] as row y,
 * columns offset by x_origin, to r, and their statistics to s. Follows
 * cnp_runs_push(): rows in order, a row may come in pieces left to right,
 * and a run continuing the row's last run extends it (its statistics add
 * up). New runs are their own parent: cnp_runs_link() them afterwards.
 * @return CNP_OK; CNP_E_ARG for NULL pointers, s->n != r->n, or rows out of
 *         order; CNP_E_NOMEM. On error r and s are unchanged. */
cnp_status cnp_gaps_push_row(cnp_runs *r, cnp_gap_stats *s, const uint8_t *codes,
                             ptrdiff_t width, int32_t y, int32_t x_origin);

/* cnp_gaps_concat() :
 * cnp_runs_concat(dst, src, connectivity) and the statistics with them.
 * @return as cnp_runs_concat(); CNP_E_ARG also when a stats object is not
 *         aligned with its runs. On error dst and sdst are unchanged. */
cnp_status cnp_gaps_concat(cnp_runs *dst, cnp_gap_stats *sdst, const cnp_runs *src,
                           const cnp_gap_stats *ssrc, int connectivity);

/* One component of loss-or-bridge pixels. */
typedef struct cnp_gap_alert {
    int64_t loss_px;             /* the alert's area, in pixels                 */
    int64_t bridge_px;           /* unobserved pixels joining its pieces        */
    int     partially_observed;  /* bridge pixels, or loss next to unobserved   */
    int     keep;                /* loss_px >= min_px                           */
} cnp_gap_alert;

/* cnp_gaps_summarise() :
 * out[c] for the ncomp components of a labelled cnp_runs (label from
 * cnp_runs_label()). A component of bridge pixels only has loss_px 0 and
 * is never kept.
 * @return CNP_OK, or CNP_E_ARG for NULL pointers, misaligned stats or a
 *         label >= ncomp. */
cnp_status cnp_gaps_summarise(const cnp_runs *r, const cnp_gap_stats *s, const uint32_t *label,
                              size_t ncomp, int64_t min_px, cnp_gap_alert *out);

/* cnp_gaps_find_run() :
 * The index of the run of r that holds pixel (x, y) (binary search: runs
 * are in scan order), so that a loss pixel or loss run can be given its
 * component's label.
 * @return CNP_OK, CNP_E_DATA when no run holds it, CNP_E_ARG for NULL. */
cnp_status cnp_gaps_find_run(const cnp_runs *r, int32_t y, int32_t x, size_t *idx);

#endif /* CNP_GAPS_H */
