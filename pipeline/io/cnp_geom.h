/* pipeline/io/cnp_geom.h - a grid's CRS, traced rings as geometries, and
 * geodesic areas.
 *
 * Rings come from kernels/cnp_trace.h in pixel-corner coordinates of a grid
 * (shells, each followed by its holes). One place for what detect's alerts,
 * monitor's alerts and the `unobserved` layer share: the MultiPolygon in the
 * grid's CRS, the same in WGS84, and the geodesic area (edges densified every
 * 32 pixels so the geodesic follows the grid line).
 *
 * The types are opaque so that stages above io/ use them without GDAL's
 * headers: a cnp_geometry is an OGR geometry (outputs/ may cast it to
 * OGRGeometryH), a cnp_crs an OGR transformation to WGS84.
 */
#ifndef CNP_GEOM_H
#define CNP_GEOM_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_status.h"
#include "cnp_trace.h"

/* A grid: its CRS, geotransform and the transformation of its coordinates to
 * WGS84 lon/lat. Not thread-safe: clone it for each thread. */
typedef struct cnp_crs cnp_crs;

/* cnp_crs_open() : the grid of CRS `wkt` and geotransform `gt` (copied).
 * `what` names the grid in messages ("the CRS of 'x.tif'").
 * @return CNP_OK, or CNP_E_DATA when the CRS cannot be read or has no
 *         transformation to WGS84. */
cnp_status cnp_crs_open(const char *wkt, const double gt[6], const char *what, cnp_crs **out);
cnp_status cnp_crs_clone(const cnp_crs *c, cnp_crs **out);
void cnp_crs_close(cnp_crs **c);
const double *cnp_crs_gt(const cnp_crs *c);

/* cnp_crs_to_wgs84() : n points from grid CRS coordinates to lon/lat, in
 * place. @return 1, or 0 when the transformation failed. */
int cnp_crs_to_wgs84(cnp_crs *c, int n, double *x, double *y);

/* cnp_crs_pixel_area_m2() :
 * The area of one pixel in square metres: exact for projected CRSs (linear
 * units converted), geodesic at pixel (cx, cy) for geographic ones. */
cnp_status cnp_crs_pixel_area_m2(cnp_crs *c, double cx, double cy, double *out);

/* cnp_crs_overlap_fraction() :
 * The fraction of a raster's extent (wkt, gt, width x height; edges
 * densified) that lies inside a grid's extent; 0 when they do not meet or
 * cannot be compared. */
double cnp_crs_overlap_fraction(const char *wkt, const double gt[6], int width, int height,
                                const char *grid_wkt, const double grid_gt[6], int grid_w,
                                int grid_h);

/* A geometry (an OGR geometry behind the name). */
typedef struct cnp_geometry cnp_geometry;
void cnp_geometry_free(cnp_geometry *g);

/* The rings and points of a MultiPolygon. */
void cnp_geometry_counts(const cnp_geometry *g, size_t *rings, size_t *points);

/* cnp_geometry_wkb_hex() : the geometry as little-endian WKB in hex (the
 * monitor's state keeps alert outlines this way). malloc'd, or NULL. */
char *cnp_geometry_wkb_hex(const cnp_geometry *g);

/* One thread's tracing context: its own copy of the transformation, and
 * scratch. */
typedef struct cnp_geom_ctx cnp_geom_ctx;

cnp_status cnp_geom_ctx_create(const cnp_crs *crs, cnp_geom_ctx **out);
void cnp_geom_ctx_free(cnp_geom_ctx **g);

/* cnp_geom_multipolygon() :
 * Rings ring[0..n) with vertices in xy as a MultiPolygon in the grid's CRS,
 * shells counter-clockwise (reversed on a south-up grid). */
cnp_geometry *cnp_geom_multipolygon(const double *gt, const int32_t *xy, const cnp_ring *ring,
                                    size_t n);

/* cnp_geom_ring_area() :
 * Geodesic area (m^2, unsigned) of one closed ring of `count` vertices in
 * pixel-corner coordinates. */
cnp_status cnp_geom_ring_area(cnp_geom_ctx *g, const int32_t *xy, size_t count, double *area_m2);

/* cnp_geom_area_m2() :
 * Geodesic area (m^2) of a (Multi)Polygon, or of the polygons of a geometry
 * collection, in the grid's CRS with vertices anywhere (an intersection of an
 * alert with a zone): the measure of cnp_geom_ring_area, so an outline on
 * pixel corners gets the area its alert has. */
cnp_status cnp_geom_area_m2(cnp_geom_ctx *g, const cnp_geometry *geom, double *area_m2);

/* cnp_geom_window_in() :
 * Shrink window `win` (pixels of the grid `gt`) to the pixels that the
 * envelope of `g` (grid CRS) touches. @return 0 when none is left. */
int cnp_geom_window_in(const cnp_geometry *g, const double gt[6], int win[4]);

/* cnp_geom_aoi_split() :
 * An area of interest against the processed window: the geodesic areas of
 * its parts inside and outside the window, and the outside part itself
 * (*outside: a MultiPolygon in the grid's CRS, NULL when empty; may be NULL
 * when not wanted). */
cnp_status cnp_geom_aoi_split(cnp_geom_ctx *g, const cnp_geometry *aoi, const int win[4],
                              double *inside_m2, double *outside_m2, cnp_geometry **outside);

/* cnp_geom_alert() :
 * An alert's MultiPolygon in the grid's CRS (*scene; skipped when scene is
 * NULL), in WGS84 (*wgs84, its vertices the very points its area was computed
 * from) and its geodesic area (shells minus holes). Nothing is returned on
 * failure. */
cnp_status cnp_geom_alert(cnp_geom_ctx *g, const cnp_rings *rings, cnp_geometry **scene,
                          cnp_geometry **wgs84, double *area_m2);

/* cnp_geom_point_to_wgs84() : one point of the grid's CRS to lon/lat.
 * @return CNP_OK or CNP_E_DATA. */
cnp_status cnp_geom_point_to_wgs84(cnp_geom_ctx *g, double x, double y, double *lon,
                                   double *lat);

#endif /* CNP_GEOM_H */
