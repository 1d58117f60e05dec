/* pipeline/io/cnp_zones.h - zones (properties, concessions, protected areas,
 * indigenous lands): which alerts lie in which, and by how many hectares.
 *
 * A zones layer is any OGR vector (GeoPackage, Shapefile, GeoJSON,
 * FlatGeobuf, PostGIS) in any CRS. It is never loaded whole: its features are
 * streamed once through an OGR spatial filter on the processed window (a
 * driver's spatial index answers it), reprojected onto the scene grid's CRS,
 * repaired with OGR_G_MakeValid when invalid, and each one is met with the
 * alerts whose envelopes it touches (a grid of the alerts' envelopes held in
 * memory: memory follows the alerts, not the layer). The overlap of an alert
 * and a zone is the geodesic area of their intersection, measured as the
 * alerts' own areas are (cnp_geom_area_m2), in hectares to 4 decimals.
 *
 * Features sharing a label in one layer are one zone (a property in several
 * parts). Everything is sorted before it is returned, so the result does not
 * depend on the layer's order or the thread count.
 */
#ifndef CNP_ZONES_H
#define CNP_ZONES_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_geom.h"
#include "cnp_status.h"

/* One zone: a label of one layer. */
typedef struct cnp_zone {
    char   *layer;          /* the layer's name (UTF-8)                         */
    char   *name;           /* its label (UTF-8; invalid bytes as U+FFFD)       */
    int64_t alerts;         /* alerts that overlap it                           */
    double  area_ha;        /* the sum of their overlaps                        */
} cnp_zone;

/* Alert `alert` overlaps zone `zone` by area_ha hectares. */
typedef struct cnp_zone_hit {
    size_t alert, zone;
    double area_ha;
} cnp_zone_hit;

/* What the zones layers made of a run's alerts. */
typedef struct cnp_zone_match {
    int           given;    /* --zones was given: the outputs carry zones      */
    size_t        nlayers;
    cnp_zone     *zone;     /* every zone met inside the window, by layer, name */
    size_t        nzone;
    cnp_zone_hit *hit;      /* by alert, then zone                             */
    size_t        nhit;
    size_t       *first;    /* alert i's hits: hit[first[i] .. first[i + 1])   */
    char        **text;     /* alert i's list, "name:ha;name:ha" ("" for none) */
    size_t        nalerts;
    int64_t       features, repaired, not_areal;
} cnp_zone_match;

/* One opened zones layer. */
typedef struct cnp_zone_source cnp_zone_source;

/* cnp_zone_source_open() :
 * `spec` is FILE or FILE:LAYER (the first layer when none is named), `field`
 * the label field (NULL: the first string field; with none, zones are named
 * by their feature ids, "#12"; so is a feature whose label is empty). The grid (its CRS `wkt`,
 * geotransform `gt`) and the processed window `win` (x, y, w, h in pixels)
 * give the CRS the zones are reprojected to and the extent they must meet.
 * @return CNP_OK; CNP_E_IO when the file does not open; CNP_E_ARG for a
 * missing layer or field; CNP_E_DATA for a
 * layer without a CRS, with one PROJ cannot transform, or whose extent does
 * not meet the window. The message starts "<what> '<file>'" ("zones"). */
cnp_status cnp_zone_source_open(const char *what, const char *spec, const char *field,
                                const char *wkt, const double gt[6], const int win[4],
                                cnp_zone_source **out);

/* The same for a layer that may miss the window (a monitor's footprints:
 * a cadastre covers some of them): then it opens, meeting no alert. */
cnp_status cnp_zone_source_open_any(const char *what, const char *spec, const char *field,
                                    const char *wkt, const double gt[6], const int win[4],
                                    cnp_zone_source **out);
void cnp_zone_source_close(cnp_zone_source **z);

/* The layer's name as the outputs give it; cnp_zone_source_qualify() makes
 * it "FILE:LAYER" (FILE without its folder), for two layers of one name. */
const char *cnp_zone_source_layer(const cnp_zone_source *z);
cnp_status cnp_zone_source_qualify(cnp_zone_source *z);

/* cnp_zone_source_union() :
 * The layer's polygons met inside the window, in the grid's CRS, repaired,
 * as one geometry (an area of interest, --aoi). *out is NULL when none is.
 * *repaired counts the polygons MakeValid repaired. */
cnp_status cnp_zone_source_union(cnp_zone_source *z, cnp_geometry **out, int64_t *repaired);

/* What `canopy info` says about an opened layer. */
typedef struct cnp_zone_about {
    char    layer[256], field[256], crs[320];
    int64_t features;       /* in the layer (-1: the driver cannot tell cheaply) */
    int64_t in_window;      /* of them, meeting the window's extent             */
    double  overlap;        /* share of the layer's extent inside the window's  */
} cnp_zone_about;
cnp_status cnp_zone_source_about(cnp_zone_source *z, cnp_zone_about *a);

/* cnp_zones_match() :
 * Meet `nalerts` alert outlines (MultiPolygons in the grid's CRS) with every
 * zone of `src[0..nsrc)`, areas measured with `g` (a context on the same
 * grid). Fills *m (free it with cnp_zone_match_free). */
cnp_status cnp_zones_match(cnp_zone_source *const *src, size_t nsrc, cnp_geom_ctx *g,
                           const cnp_geometry *const *alerts, size_t nalerts,
                           cnp_zone_match *m);
void cnp_zone_match_free(cnp_zone_match *m);

#endif /* CNP_ZONES_H */
