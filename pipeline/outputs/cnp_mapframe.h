/* pipeline/outputs/cnp_mapframe.h - what a map picture needs besides its
 * pixels: where it lies (a world file and the CRS beside the PNG, so GDAL and
 * QGIS place it), its scale, where north is, and the alert numbers that
 * overview.png, report.html and report.pdf share.
 */
#ifndef CNP_MAPFRAME_H
#define CNP_MAPFRAME_H

#include <stddef.h>

#include <ogr_srs_api.h>

#include "cnp_draw.h"
#include "cnp_raster.h"
#include "cnp_result.h"

/* cnp_map_rank() :
 * *order (malloc'd, res->nalerts entries; caller frees) lists the alert
 * indices largest first, ties by id: alert order[r] is number r + 1 ("#1")
 * in every picture and report. *order is NULL when there is no alert.
 * @return CNP_OK or CNP_E_NOMEM. */
cnp_status cnp_map_rank(const cnp_result *res, size_t **order);

/* cnp_map_georef() :
 * Beside the PNG at `png_path` (".../name.png"): the world file name.pgw
 * (GDALWriteWorldFile, read by GDAL, QGIS, ArcGIS) and name.png.aux.xml with
 * the CRS (`wkt`) and the same geotransform (`gt`: GDAL's, for the PNG's
 * pixel corners). Deterministic bytes; safe to call from several threads.
 * @return CNP_OK, CNP_E_DATA (unreadable CRS) or CNP_E_IO. */
cnp_status cnp_map_georef(const char *png_path, const double gt[6], const char *wkt);

/* cnp_map_pixel_metres() :
 * Metres per pixel of `sc` along x: the geotransform's x size in the CRS's
 * linear units, or for a geographic CRS (`srs`, the scene's) the geodesic
 * length of one pixel along the parallel at `y` (the scene CRS's y there).
 * @return CNP_OK, or CNP_E_DATA when it cannot be told. */
cnp_status cnp_map_pixel_metres(const cnp_scene *sc, OGRSpatialReferenceH srs, double y,
                                double *out);

/* cnp_map_convergence() :
 * Angle in the image between "up" and true north at (lon, lat) (WGS84),
 * degrees clockwise, from that point and one 0.001 degree north of it (south
 * near the pole) put through `to_scene` (WGS84 -> scene CRS) and `gt`.
 * @return 1 with *deg set, 0 when the transformation fails (*deg = 0). */
int cnp_map_convergence(const double gt[6], OGRCoordinateTransformationH to_scene, double lon,
                        double lat, double *deg);

/* What cnp_map_annotate() drew, for the PNG's text chunks. */
typedef struct cnp_map_marks {
    int    legend[4];       /* x y w h of the legend panel; w == 0: none (the
                             * picture is too small for it)                 */
    char   scale_bar[64];   /* "<metres> m <pixels> px"                    */
    char   north[32];       /* "<degrees> deg": true north, clockwise from up
                             * at the picture's centre; "unknown"           */
    char  *labels;          /* "rank x y w h;..." of every number drawn
                             * (malloc'd, caller frees)                     */
    size_t nlabels;
} cnp_map_marks;

/* cnp_map_annotate() :
 * Draws on `img` (a picture of scene `sc`'s grid with geotransform `gt`,
 * whose pixels may be cells of several scene pixels) the alerts' numbers
 * (cnp_map_rank: "1" is #1 of the reports) in small dark boxes beside each
 * alert's outline (right, left, above or below, whichever is free; a number
 * that has no free place is left out), and a legend panel in the corner that
 * hides the fewest alerts: scale bar, north arrow, the outline, the hatching
 * of unobserved areas and the numbers explained. Text scale grows with the
 * picture. Integer drawing: the same inputs give the same pixels.
 * @return CNP_OK, CNP_E_NOMEM, or CNP_E_DATA when the CRS cannot be read. */
cnp_status cnp_map_annotate(cnp_rgb8 *img, const double gt[6], const cnp_scene *sc,
                            const cnp_result *res, cnp_map_marks *marks);

#endif /* CNP_MAPFRAME_H */
