/* kernels/cnp_runs.h - streaming connected-component labelling on runs.
 *
 * Loss pixels arrive row by row, in horizontal strips that worker threads
 * process in parallel, and a full-scene raster is never held. Each strip keeps
 * its foreground as horizontal runs (row y, columns [x0, x1)) and joins runs
 * that touch on consecutive rows with union-find; strips are then concatenated
 * in scene order, which joins them across the seam.
 *
 * Invariants of a cnp_runs (every function here keeps them, and those that read
 * a cnp_runs check them and return CNP_E_ARG when they do not hold):
 *   - run[] is in scan order: increasing y, then x0; runs on one row are
 *     maximal (a run never touches the next one on its row: x1 < next x0),
 *     and x0 < x1;
 *   - parent[i] <= i (union by smaller index makes the earliest run of a
 *     component its root), so a component's id is decided by its first run in
 *     scan order and does not depend on how the rows were split into strips;
 *   - n <= UINT32_MAX (indices are uint32_t).
 *
 * Not thread-safe on one object; use one cnp_runs per strip and thread.
 */
#ifndef CNP_RUNS_H
#define CNP_RUNS_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_status.h"

typedef struct cnp_run {
    int32_t y, x0, x1;           /* row y, columns [x0, x1) in scene pixel coords */
} cnp_run;

typedef struct cnp_runs {
    cnp_run  *run;               /* in scan order: increasing y, then x0 */
    uint32_t *parent;            /* union-find parent per run (index into run[]) */
    size_t    n, cap;            /* runs used / allocated (both arrays) */
} cnp_runs;

/* cnp_runs_init() : zero *r (no allocation). */
void cnp_runs_init(cnp_runs *r);

/* cnp_runs_free() : free both arrays and re-init *r. NULL-safe. */
void cnp_runs_free(cnp_runs *r);

/* cnp_runs_clear() : n = 0, capacity kept, so a strip buffer can be reused.
 * NULL-safe. */
void cnp_runs_clear(cnp_runs *r);

/* cnp_runs_append_row() :
 * Append the runs of nonzero mask[0..width-1] as row y, columns offset by
 * x_origin. New runs are their own parent (call cnp_runs_link afterwards).
 * Rows must be appended in non-decreasing y. The same row may be appended
 * again (e.g. by tiles side by side) if its new runs start at or right of the
 * row's last run; a run that starts exactly where that last run ends extends
 * it, so runs stay maximal. mask may be NULL when width == 0.
 * @return CNP_OK; CNP_E_ARG for r == NULL, width < 0, mask == NULL with
 *         width > 0, x_origin + width > INT32_MAX, y before the last run's row
 *         or a run left of the row's last run; CNP_E_NOMEM when growing fails
 *         or more than UINT32_MAX runs would be stored. On error *r is
 *         unchanged. */
cnp_status cnp_runs_append_row(cnp_runs *r, const uint8_t *mask, ptrdiff_t width,
                               int32_t y, int32_t x_origin);

/* cnp_runs_push() :
 * Append one run [x0, x1) on row y, in scan order. A run that starts exactly
 * where the row's last run ends extends it instead (runs stay maximal), and
 * *extended (when not NULL) says which happened: callers that keep per-run
 * data merge it then. For pipelines that cut rows into tiles.
 * @return CNP_OK, CNP_E_ARG (empty run or out of scan order), CNP_E_NOMEM. */
cnp_status cnp_runs_push(cnp_runs *r, int32_t y, int32_t x0, int32_t x1, int *extended);

/* cnp_runs_link() :
 * Union every pair of runs on consecutive rows (y, y+1) that touch:
 * connectivity 4 = they share a column (a.x0 < b.x1 && b.x0 < a.x1),
 * 8 = diagonal contact counts too (a.x0 <= b.x1 && b.x0 <= a.x1).
 * One linear sweep per row pair. Idempotent.
 * @return CNP_OK, or CNP_E_ARG for r == NULL, connectivity not 4 or 8, or a
 *         cnp_runs that breaks the invariants above. */
cnp_status cnp_runs_link(cnp_runs *r, int connectivity);

/* cnp_runs_union() :
 * Join the components of runs a and b (union by smaller index, so
 * parent[i] <= i still holds): for links other than touching pixels, such
 * as pieces of one clearing across a gap (kernels/cnp_gaps.h).
 * @return CNP_OK, or CNP_E_ARG for NULL or an index >= r->n. */
cnp_status cnp_runs_union(cnp_runs *r, size_t a, size_t b);

/* cnp_runs_concat() :
 * Append all runs of `strip` (normally already linked) to `dst`, keeping the
 * strip's unions (parent indices offset by dst's old n), then union across the
 * seam between dst's last row and strip's first row when they are
 * consecutive. strip's first y must be > dst's last y. strip is not modified;
 * dst and strip must be different objects.
 * @return CNP_OK; CNP_E_ARG for NULL pointers, dst == strip, bad
 *         connectivity, rows out of order or a strip that breaks the
 *         invariants; CNP_E_NOMEM when growing fails. On error dst is
 *         unchanged. */
cnp_status cnp_runs_concat(cnp_runs *dst, const cnp_runs *strip, int connectivity);

/* cnp_runs_label() :
 * Resolve: label[i] = component id of run i (label has r->n entries),
 * components numbered 0..*ncomp-1 in the order of their first run in scan
 * order, so the result is the same however the rows were split into strips.
 * Also compresses every parent[] to its root. label may be NULL when n == 0.
 * @return CNP_OK, or CNP_E_ARG for NULL pointers or a broken parent[]. */
cnp_status cnp_runs_label(cnp_runs *r, uint32_t *label, size_t *ncomp);

/* cnp_runs_label_array() :
 * Link and label in one call on caller-owned arrays, for code that already
 * has runs in a plain array (cnp_trace uses it to find 4-connected pieces).
 * run[0..n-1] must satisfy the scan-order invariant; parent (n entries) is
 * scratch; label (n entries) receives ids numbered as in cnp_runs_label and
 * may be the same array as parent.
 * @return CNP_OK, or CNP_E_ARG for NULL pointers, bad connectivity, runs out
 *         of order or n > UINT32_MAX. */
cnp_status cnp_runs_label_array(const cnp_run *run, size_t n, int connectivity,
                                uint32_t *parent, uint32_t *label, size_t *ncomp);

/* cnp_runs_group() :
 * Bucket run indices by component (a stable counting sort), so each
 * component's runs can be gathered in scan order for cnp_trace_runs:
 * component c owns order[start[c] .. start[c+1]).
 * label: n entries, each < ncomp. start: ncomp + 1 entries. order: n entries.
 * @return CNP_OK, or CNP_E_ARG for NULL pointers, n > UINT32_MAX or a label
 *         >= ncomp (start/order are then unspecified). */
cnp_status cnp_runs_group(const uint32_t *label, size_t n, size_t ncomp,
                          size_t *start, uint32_t *order);

/* Called by cnp_runs_merge_tiles() for each input run, in the order it is
 * taken: `i` is its index in the input, `extended` 1 when it joined dst's
 * last run (cut by a tile border) and 0 when it became dst's new last run.
 * Return CNP_OK to go on; any other status stops the merge and is returned. */
typedef cnp_status (*cnp_runs_fold_fn)(void *arg, size_t i, int extended);

/* cnp_runs_merge_tiles() :
 * Append the runs of one strip, found tile by tile, to `dst` in scan order.
 * Tile k's runs are elements tile_first[k] .. tile_first[k+1]-1 of `runs`
 * (tile_first has ntiles + 1 entries), each tile's in scan order, tiles left
 * to right, all on rows y0 .. y0+h-1. An element is `stride` bytes and starts
 * with a cnp_run (the caller's payload may follow it). Rows are taken in
 * order and, within a row, tiles left to right; a run that starts where the
 * row's last run ends extends it, so dst's runs stay maximal and the result
 * does not depend on where tile borders are. `fold` (may be NULL) sees every
 * input run in that order, so payloads are combined in a fixed order.
 * pos: scratch of ntiles entries.
 * @return CNP_OK; CNP_E_ARG for bad arguments or runs out of order;
 *         CNP_E_NOMEM; or what fold returned. dst keeps the runs appended
 *         before a failure. */
cnp_status cnp_runs_merge_tiles(cnp_runs *dst, const void *runs, size_t stride,
                                const size_t *tile_first, int ntiles, int32_t y0, int32_t h,
                                size_t *pos, cnp_runs_fold_fn fold, void *arg);

#endif /* CNP_RUNS_H */
