/* pipeline/outputs/cnp_mapframe.c - georeferencing sidecars, scale, north and
 * alert numbers for the pictures (see cnp_mapframe.h). */
#include "cnp_mapframe.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <geodesic.h>

#include "cnp_err.h"
#include "cnp_gdal.h"

static int by_rank(const void *pa, const void *pb, void *arg)
{
    const cnp_alert *alerts = arg;
    const cnp_alert *a = &alerts[*(const size_t *)pa], *b = &alerts[*(const size_t *)pb];
    if (a->area_ha != b->area_ha)
        return a->area_ha > b->area_ha ? -1 : 1;
    return strcmp(a->id, b->id);
}

cnp_status cnp_map_rank(const cnp_result *res, size_t **order)
{
    *order = NULL;
    if (res->nalerts == 0)
        return CNP_OK;
    size_t *o = malloc(res->nalerts * sizeof *o);
    if (!o)
        return cnp_err(CNP_E_NOMEM, "out of memory ranking %zu alerts", res->nalerts);
    for (size_t i = 0; i < res->nalerts; i++)
        o[i] = i;
    /* Ids differ, so the order is total: any sort gives the same one. */
    qsort_r(o, res->nalerts, sizeof *o, by_rank, (void *)(uintptr_t)res->alerts);
    *order = o;
    return CNP_OK;
}

/* `s` with the five XML specials escaped (a WKT has quotes). Local until the
 * shared escaping helpers land in base/. */
static void xml_put(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fputc(*s, f);
        }
    }
}

cnp_status cnp_map_georef(const char *png_path, const double gt[6], const char *wkt)
{
    OGRSpatialReferenceH srs = OSRNewSpatialReference(wkt);
    if (!srs)
        return cnp_err(CNP_E_DATA, "'%s': cannot read the CRS to georeference it", png_path);
    /* The mapping GDAL writes for a geotransform in x = easting/longitude. */
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    int nmap = 0;
    const int *map = OSRGetDataAxisToSRSAxisMapping(srs, &nmap);
    char mapping[64] = "";
    for (int i = 0; i < nmap && i < 3; i++)
        snprintf(mapping + strlen(mapping), sizeof mapping - strlen(mapping), "%s%d",
                 i ? "," : "", map[i]);

    double g[6];
    memcpy(g, gt, sizeof g);
    cnp_err_gdal_reset();
    if (!GDALWriteWorldFile(png_path, "pgw", g)) {
        OSRDestroySpatialReference(srs);
        return cnp_err(CNP_E_IO, "cannot write the world file of '%s': %s", png_path,
                       cnp_err_gdal_reason());
    }

    char aux[4300];
    snprintf(aux, sizeof aux, "%s.aux.xml", png_path);
    FILE *f = fopen(aux, "w");
    if (!f) {
        OSRDestroySpatialReference(srs);
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", aux, strerror(errno));
    }
    fprintf(f, "<PAMDataset>\n  <SRS dataAxisToSRSAxisMapping=\"%s\">", mapping);
    xml_put(f, wkt);
    fprintf(f, "</SRS>\n  <GeoTransform> %.16e, %.16e, %.16e, %.16e, %.16e, %.16e</GeoTransform>\n"
               "</PAMDataset>\n", gt[0], gt[1], gt[2], gt[3], gt[4], gt[5]);
    OSRDestroySpatialReference(srs);
    if ((ferror(f) | fclose(f)) != 0)
        return cnp_err(CNP_E_IO, "writing '%s': %s", aux, strerror(errno));
    return CNP_OK;
}

cnp_status cnp_map_pixel_metres(const cnp_scene *sc, OGRSpatialReferenceH srs, double y,
                                double *out)
{
    if (OSRIsGeographic(srs)) {
        /* Geodesic length of one pixel along the parallel at y. */
        const double to_deg = OSRGetAngularUnits(srs, NULL) * 180.0 / M_PI;
        const double deg = fabs(sc->gt[1]) * to_deg, lat_deg = y * to_deg;
        OGRErr e1 = OGRERR_NONE, e2 = OGRERR_NONE;
        const double a = OSRGetSemiMajor(srs, &e1), inv_f = OSRGetInvFlattening(srs, &e2);
        struct geod_geodesic gd;
        double s12 = 0.0;
        if (e1 != OGRERR_NONE || e2 != OGRERR_NONE || !(a > 0.0))
            return cnp_err(CNP_E_DATA, "no ellipsoid in the CRS of '%s'", sc->path);
        geod_init(&gd, a, inv_f > 0.0 ? 1.0 / inv_f : 0.0);
        geod_inverse(&gd, lat_deg, 0.0, lat_deg, deg, &s12, NULL, NULL);
        *out = s12;
    } else {
        *out = fabs(sc->gt[1]) * OSRGetLinearUnits(srs, NULL);
    }
    if (!(*out > 0.0) || !isfinite(*out))
        return cnp_err(CNP_E_DATA, "cannot tell the pixel size of '%s' in metres", sc->path);
    return CNP_OK;
}

int cnp_map_convergence(const double gt[6], OGRCoordinateTransformationH to_scene, double lon,
                        double lat, double *deg)
{
    const double dlat = lat > 89.0 ? -0.001 : 0.001;
    double x[2] = { lon, lon };
    double y[2] = { lat, lat + dlat };
    int ok[2] = { 0, 0 };
    *deg = 0.0;
    if (!to_scene || !OCTTransformEx(to_scene, 2, x, y, NULL, ok) || !ok[0] || !ok[1])
        return 0;
    double px = (x[1] - x[0]) / gt[1], py = (y[1] - y[0]) / gt[5];
    if (dlat < 0) {
        px = -px;
        py = -py;
    }
    if (!(px != 0.0 || py != 0.0) || !isfinite(px) || !isfinite(py))
        return 0;
    *deg = atan2(px, -py) * 180.0 / M_PI;
    return 1;
}
