/* pipeline/io/cnp_geom.h - traced rings to OGR geometries and geodesic areas.
 *
 * Rings come from kernels/cnp_trace.h in pixel-corner coordinates of a grid
 * (shells, each followed by its holes). One place for what detect's alerts,
 * monitor's alerts and the `unobserved` layer share: the MultiPolygon in the
 * grid's CRS, the same in WGS84, and the geodesic area (edges densified every
 * 32 pixels so the geodesic follows the grid line).
 */
#ifndef CNP_GEOM_H
#define CNP_GEOM_H

#include <stddef.h>
#include <stdint.h>

#include <geodesic.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "cnp_status.h"
#include "cnp_trace.h"

/* One thread's context: a transformation object must not be shared between
 * threads, the scratch is the caller's. */
typedef struct cnp_geom_ctx {
    const double *gt;                       /* the grid's geotransform (borrowed)   */
    OGRCoordinateTransformationH to_wgs84;  /* grid CRS -> WGS84 lon/lat (borrowed) */
    struct geod_geodesic geod;              /* WGS84 ellipsoid                      */
    double *buf;                            /* scratch (owned)                      */
    size_t  cap;
} cnp_geom_ctx;

void cnp_geom_init(cnp_geom_ctx *g, const double *gt, OGRCoordinateTransformationH to_wgs84);
void cnp_geom_free(cnp_geom_ctx *g);        /* the scratch; borrowed parts stay */

/* cnp_geom_multipolygon() :
 * Rings ring[0..n) with vertices in xy as a MultiPolygon in the grid's CRS,
 * shells counter-clockwise (reversed on a south-up grid). */
OGRGeometryH cnp_geom_multipolygon(const double *gt, const int32_t *xy, const cnp_ring *ring,
                                   size_t n);

/* cnp_geom_ring_area() :
 * Geodesic area (m^2, unsigned) of one closed ring of `count` vertices; when
 * `ll` (an OGR LinearRing) is not NULL it becomes the ring in WGS84 lon/lat,
 * its vertices from the same transformation, reversed when `reverse`.
 * @return CNP_OK, CNP_E_NOMEM or CNP_E_DATA (transformation failed). */
cnp_status cnp_geom_ring_area(cnp_geom_ctx *g, const int32_t *xy, size_t count, int reverse,
                              double *area_m2, OGRGeometryH ll);

/* cnp_geom_alert() :
 * An alert's MultiPolygon in the grid's CRS (*scene; skipped when scene is
 * NULL), in WGS84 (*wgs84) and its geodesic area (shells minus holes).
 * Nothing is returned on failure. */
cnp_status cnp_geom_alert(cnp_geom_ctx *g, const cnp_rings *rings, OGRGeometryH *scene,
                          OGRGeometryH *wgs84, double *area_m2);

#endif /* CNP_GEOM_H */
