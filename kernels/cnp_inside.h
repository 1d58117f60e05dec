/* kernels/cnp_inside.h - a point inside an alert, for map links and labels.
 *
 * An alert's centroid can lie outside it (a ring of clearing round a patch of
 * forest, an L, a U): a link or a label placed there points at trees that are
 * still standing. This picks one of the alert's own pixels instead, well
 * inside where the shape leaves room, from the runs the alert was traced from.
 *
 * Pure compute on a caller-owned array: no allocation, no globals, serial and
 * deterministic (the same runs give the same pixel on any machine).
 */
#ifndef CNP_INSIDE_H
#define CNP_INSIDE_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_runs.h"
#include "cnp_status.h"

/* cnp_inside_point() :
 * *px, *py = one pixel of the runs (its centre, px + 0.5, py + 0.5 in
 * pixel-corner coordinates, lies inside the polygon traced from them).
 * Rule: the row that holds the pixel centroid (the nearest row with runs when
 * it has none); on it, for each run, the middle column, the middle of the
 * column's unbroken vertical extent through that row, and the "cross depth"
 * there (the smaller of the horizontal and vertical distances to the edge).
 * The deepest wins; ties go to the point nearest the centroid, then the
 * upper, then the left one. A solid rectangle gives its middle pixel; a ring
 * the middle of a wall.
 * run: n runs in scan order (cnp_runs.h: increasing y, then x0, maximal, x0 <
 * x1), normally one component's as gathered by cnp_runs_group. They need not
 * be connected.
 * Cost: O(n) plus, per run on the chosen row, O(extent * log n).
 * @return CNP_OK; CNP_E_ARG for NULL pointers, n == 0 or runs that break the
 *         scan-order invariant (*px, *py untouched). */
cnp_status cnp_inside_point(const cnp_run *run, size_t n, int32_t *px, int32_t *py);

#endif /* CNP_INSIDE_H */
