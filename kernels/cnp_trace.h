/* kernels/cnp_trace.h - boundary tracing of one component into polygon rings.
 *
 * Input is the runs of one connected component (as produced by cnp_runs and
 * gathered with cnp_runs_group); output is rings in pixel-corner coordinates:
 * vertex (x, y) is the top-left corner of pixel (x, y), x to the right, y down.
 * The rings form valid OGC polygons by construction (OGR/GEOS IsValid), also
 * where pixels touch only at a corner. Rules the output satisfies:
 *
 *  1. Pieces. The pixel set is split into its 4-connected pieces, numbered
 *     0..npieces-1 in scan order of their first pixel. Each piece gives exactly
 *     one shell ring, so two pixels touching only at a corner are two pieces: a
 *     MultiPolygon of two polygons touching at a point.
 *  2. Holes are the background regions enclosed by a piece: the bounded
 *     4-connected regions of the pixels outside that piece (such a region may
 *     hold other pieces, islands, which get their own shells). A hole ring
 *     carries the index of the piece on its inner side of the boundary.
 *  3. Simple rings. No vertex repeats except the closing one. Edges are
 *     directed with the piece on the right (in y-down coordinates). At a pinch
 *     vertex (two diagonal foreground pixels, two diagonal background pixels)
 *     the boundary turns towards the foreground, hugging the current pixel,
 *     when the two foreground pixels belong to different pieces, so shells
 *     separate there. When they belong to the same piece it turns towards the
 *     background, so the ring closes around the background pixel it hugs: a
 *     piece touching itself at a corner gets a hole touching its shell at that
 *     vertex, and two enclosed background pixels touching at a corner give two
 *     holes touching at a point. Both are valid OGC.
 *  4. Only corners are kept: no collinear vertices. count >= 5.
 *  5. Orientation, with signed area A = 0.5 * sum(x_i*y_{i+1} - x_{i+1}*y_i)
 *     in pixel coordinates (y down): shells A > 0, holes A < 0. Under a
 *     north-up geotransform y flips, so shells become counter-clockwise in map
 *     coordinates, as RFC 7946 wants.
 *  6. Sum of A over all rings == number of pixels.
 *  7. Deterministic order: rings ordered by piece; per piece the shell first,
 *     then its holes in scan order (y, then x) of their top-left vertex. Every
 *     ring starts at its top-most, then left-most vertex.
 *  8. Every unit edge between a foreground and a background pixel appears in
 *     exactly one ring.
 *
 * Cost: O(bbox pixels + boundary edges) time; the workspace holds a 4-byte
 * cell per pixel of the component's bounding box plus a 1-pixel border, and
 * grows as needed (it scales with the component, not the scene). One
 * workspace per thread; components can be traced in parallel.
 */
#ifndef CNP_TRACE_H
#define CNP_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_runs.h"
#include "cnp_status.h"

/* Opaque scratch: bbox bitmap with piece labels and edge marks, run labels,
 * traced rings before they are put in order. */
typedef struct cnp_trace_ws cnp_trace_ws;

/* cnp_trace_ws_create() : an empty workspace, or NULL when out of memory. */
cnp_trace_ws *cnp_trace_ws_create(void);

/* cnp_trace_ws_free() : NULL-safe. */
void cnp_trace_ws_free(cnp_trace_ws *ws);

typedef struct cnp_ring {
    size_t  first;    /* index of the ring's first vertex in cnp_rings.xy, counted
                         in vertices (xy[2*first], xy[2*first+1]) */
    size_t  count;    /* vertices including the closing one (last == first); >= 5 */
    int32_t piece;    /* 0-based 4-connected piece this ring bounds (shell) or
                         lies in (hole) */
    int     is_hole;
} cnp_ring;

typedef struct cnp_rings {
    int32_t  *xy;   size_t nvert, cap_vert;   /* x0,y0,x1,y1,...; counts in vertices */
    cnp_ring *ring; size_t n, cap;
    int32_t   npieces;
} cnp_rings;

/* cnp_rings_init() : zero *r (no allocation). */
void cnp_rings_init(cnp_rings *r);

/* cnp_rings_free() : free arrays and re-init *r. NULL-safe. */
void cnp_rings_free(cnp_rings *r);

/* cnp_rings_clear() : n = nvert = npieces = 0, capacity kept. NULL-safe. */
void cnp_rings_clear(cnp_rings *r);

/* cnp_trace_runs() :
 * Trace runs[0..n-1] into rings following the rules above. runs must be in
 * scan order (increasing y, then x0), each with x0 < x1, runs on one row not
 * touching (x1 < next x0) and y < INT32_MAX (the bottom corner row must fit).
 * Any such run set works; it is normally one 8- or 4-connected component.
 * out is cleared first and receives the rings (its vertex blocks are stored
 * in ring order) and npieces. n == 0 gives no rings.
 * @return CNP_OK; CNP_E_ARG for NULL pointers or runs that break the order
 *         rules; CNP_E_NOMEM when the workspace or out cannot grow (out is then
 *         left cleared). */
cnp_status cnp_trace_runs(const cnp_run *runs, size_t n, cnp_trace_ws *ws,
                          cnp_rings *out);

#endif /* CNP_TRACE_H */
