/* pipeline/outputs/cnp_vector.c - alerts.gpkg (scene CRS) and alerts.geojson (RFC 7946). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "cnp_confidence.h"
#include "cnp_err.h"
#include "cnp_ident.h"
#include "cnp_gdal.h"
#include "cnp_geom.h"
#include "cnp_trace.h"
#include "cnp_output.h"

typedef struct field_def { const char *name; OGRFieldType type; } field_def;

static const field_def fields[] = {
    { "id", OFTString },          { "area_ha", OFTReal },         { "pixels", OFTInteger64 },
    { "mean_dndvi", OFTReal },    { "min_dndvi", OFTReal },       { "mean_ndvi_before", OFTReal },
    { "mean_ndvi_after", OFTReal }, { "confidence", OFTString },  { "confidence_score", OFTReal },
    { "centroid_lon", OFTReal },
    { "centroid_lat", OFTReal },  { "point_lon", OFTReal },       { "point_lat", OFTReal },
    { "date_before", OFTDate },   { "date_after", OFTDate },
    { "before", OFTString },      { "after", OFTString },
    { "partially_observed", OFTInteger },
};
enum { N_FIELDS = sizeof fields / sizeof fields[0] };

static void set_date(OGRFeatureH f, int i, const char *date)
{
    if (date[0])
        OGR_F_SetFieldString(f, i, date);
    else
        OGR_F_SetFieldNull(f, i);
}

/* Write the alerts with `driver` to `path`, in the scene CRS or (wgs84) in
 * WGS84 lon/lat. GeoJSON has no date type: its dates stay the ISO strings
 * they always were, where the GeoPackage types them Date as the monitor's
 * database does. */
static cnp_status write_layer(const char *driver, const char *path, const cnp_result *res,
                              const cnp_scene *before, const cnp_scene *after,
                              OGRSpatialReferenceH srs, int wgs84, char **lco)
{
    const int typed_dates = strcmp(driver, "GPKG") == 0;
    GDALDriverH drv = GDALGetDriverByName(driver);
    GDALDatasetH ds = NULL;
    cnp_status st = CNP_OK;

    if (!drv)
        return cnp_err(CNP_E_IO, "GDAL has no %s driver", driver);
    cnp_err_gdal_reset();
    ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    if (!ds)
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", path, cnp_err_gdal_reason());
    OGRLayerH lyr = GDALDatasetCreateLayer(ds, "alerts", srs, wkbMultiPolygon, lco);
    if (!lyr) {
        st = cnp_err(CNP_E_IO, "cannot create layer in '%s': %s", path, cnp_err_gdal_reason());
        goto done;
    }
    for (int i = 0; i < N_FIELDS; i++) {
        const OGRFieldType t = fields[i].type == OFTDate && !typed_dates ? OFTString
                                                                        : fields[i].type;
        OGRFieldDefnH fd = OGR_Fld_Create(fields[i].name, t);
        const OGRErr e = OGR_L_CreateField(lyr, fd, 1);
        OGR_Fld_Destroy(fd);
        if (e != OGRERR_NONE) {
            st = cnp_err(CNP_E_IO, "cannot create field %s in '%s': %s", fields[i].name, path,
                         cnp_err_gdal_reason());
            goto done;
        }
    }
    if (GDALDatasetStartTransaction(ds, 0) != OGRERR_NONE)
        CPLErrorReset();   /* drivers without transactions just write directly */
    /* File names are bytes; GeoJSON and GeoPackage text must be UTF-8 (a file
     * name is at most 255 bytes, 3 each once repaired). */
    char bname[800], aname[800];
    cnp_ident_utf8_str(bname, sizeof bname, cnp_path_base(before->path));
    cnp_ident_utf8_str(aname, sizeof aname, cnp_path_base(after->path));
    for (size_t k = 0; k < res->nalerts && st == CNP_OK; k++) {
        const cnp_alert *a = &res->alerts[k];
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
        int i = 0;
        OGR_F_SetFieldString(f, i++, a->id);
        OGR_F_SetFieldDouble(f, i++, a->area_ha);
        OGR_F_SetFieldInteger64(f, i++, a->pixels);
        OGR_F_SetFieldDouble(f, i++, a->mean_dndvi);
        OGR_F_SetFieldDouble(f, i++, a->min_dndvi);
        OGR_F_SetFieldDouble(f, i++, a->mean_ndvi_before);
        OGR_F_SetFieldDouble(f, i++, a->mean_ndvi_after);
        OGR_F_SetFieldString(f, i++, cnp_confidence_name(a->confidence));
        OGR_F_SetFieldDouble(f, i++, a->confidence_score);
        OGR_F_SetFieldDouble(f, i++, a->centroid_lon);
        OGR_F_SetFieldDouble(f, i++, a->centroid_lat);
        OGR_F_SetFieldDouble(f, i++, a->point_lon);
        OGR_F_SetFieldDouble(f, i++, a->point_lat);
        set_date(f, i++, before->date);
        set_date(f, i++, after->date);
        OGR_F_SetFieldString(f, i++, bname);
        OGR_F_SetFieldString(f, i++, aname);
        OGR_F_SetFieldInteger(f, i++, a->partially_observed);
        /* Set (copied), not handed over: the result keeps its geometries. */
        OGR_F_SetGeometry(f, wgs84 ? a->geom_wgs84 : a->geom);
        if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE)
            st = cnp_err(CNP_E_IO, "cannot write alert %s to '%s': %s", a->id, path, cnp_err_gdal_reason());
        OGR_F_Destroy(f);
    }
    if (st == CNP_OK && GDALDatasetCommitTransaction(ds) != OGRERR_NONE)
        CPLErrorReset();

done:
    cnp_err_gdal_reset();
    CPLErrorReset();
    GDALClose(ds);
    if (st == CNP_OK && (CPLGetLastErrorType() >= CE_Failure || *cnp_err_gdal_msg()))
        st = cnp_err(CNP_E_IO, "writing '%s': %s", path, cnp_err_gdal_reason());
    return st;
}

/* The `unobserved` layer: one MultiPolygon per tile with pixels not seen in
 * both dates, plus one for BEFORE's grid outside the processed window (outside
 * AFTER's footprint), so "no alert here" can be told from "not observed here". */
static cnp_status write_unobserved(GDALDatasetH ds, const char *path, const cnp_result *res,
                                   const cnp_scene *before, OGRSpatialReferenceH srs)
{
    const double *gt = before->gt;
    const cnp_unobserved *u = &res->unobserved;
    cnp_status st = CNP_OK;
    char **lco = CSLAddString(NULL, "SPATIAL_INDEX=YES");
    lco = CSLAddString(lco, "FID=fid");
    lco = CSLAddString(lco, "GEOMETRY_NAME=geom");
    lco = CSLAddString(lco, "DESCRIPTION=Areas not observed in both dates (cloud, shadow, "
                            "nodata, masked, outside the overlap), cut along processing tiles");
    OGRLayerH lyr = GDALDatasetCreateLayer(ds, "unobserved", srs, wkbMultiPolygon, lco);
    CSLDestroy(lco);
    if (!lyr)
        return cnp_err(CNP_E_IO, "cannot create layer unobserved in '%s': %s", path, cnp_err_gdal_reason());
    static const field_def ufields[] = {
        { "reason", OFTString }, { "tile_x_off", OFTInteger }, { "tile_y_off", OFTInteger },
        { "pixels", OFTInteger64 }, { "area_ha", OFTReal },
    };
    for (size_t i = 0; i < sizeof ufields / sizeof ufields[0]; i++) {
        OGRFieldDefnH fd = OGR_Fld_Create(ufields[i].name, ufields[i].type);
        OGR_L_CreateField(lyr, fd, 1);
        OGR_Fld_Destroy(fd);
    }
    GDALDatasetStartTransaction(ds, 0);
    for (size_t k = 0; k <= u->npiece && st == CNP_OK; k++) {
        OGRGeometryH multi = NULL;
        int64_t pixels = 0;
        double area_ha = 0;
        const char *why;
        int col = -1, row = -1;
        if (k < u->npiece) {
            const cnp_unobserved_piece *pc = &u->piece[k];
            multi = cnp_geom_multipolygon(gt, u->xy, u->ring + pc->ring0, pc->nrings);
            pixels = pc->pixels;
            area_ha = pc->area_m2 / 1e4;
            why = "not observed";
            col = pc->tile_x0;
            row = pc->tile_y0;
        } else {
            /* BEFORE's grid minus the processed window (GEOS does the difference). */
            const int *w = res->window;
            if ((int64_t)w[2] * w[3] == (int64_t)res->grid_width * res->grid_height)
                break;
            char wkt[512];
            const double gx0 = gt[0], gy0 = gt[3];
            const double gx1 = gt[0] + res->grid_width * gt[1], gy1 = gt[3] + res->grid_height * gt[5];
            const double wx0 = gt[0] + w[0] * gt[1], wy0 = gt[3] + w[1] * gt[5];
            const double wx1 = gt[0] + (w[0] + w[2]) * gt[1], wy1 = gt[3] + (w[1] + w[3]) * gt[5];
            OGRGeometryH grid = NULL, win = NULL;
            snprintf(wkt, sizeof wkt, "POLYGON((%.10g %.10g,%.10g %.10g,%.10g %.10g,%.10g %.10g,%.10g %.10g))",
                     gx0, gy0, gx1, gy0, gx1, gy1, gx0, gy1, gx0, gy0);
            char *p = wkt;
            OGR_G_CreateFromWkt(&p, NULL, &grid);
            snprintf(wkt, sizeof wkt, "POLYGON((%.10g %.10g,%.10g %.10g,%.10g %.10g,%.10g %.10g,%.10g %.10g))",
                     wx0, wy0, wx1, wy0, wx1, wy1, wx0, wy1, wx0, wy0);
            p = wkt;
            OGR_G_CreateFromWkt(&p, NULL, &win);
            OGRGeometryH diff = grid && win ? OGR_G_Difference(grid, win) : NULL;
            OGR_G_DestroyGeometry(grid);
            OGR_G_DestroyGeometry(win);
            if (!diff || OGR_G_IsEmpty(diff)) {
                OGR_G_DestroyGeometry(diff);
                break;
            }
            multi = OGR_G_ForceToMultiPolygon(diff);
            pixels = (int64_t)res->grid_width * res->grid_height - (int64_t)w[2] * w[3];
            area_ha = res->outside_area_ha;
            why = "outside the overlap";
        }
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
        OGR_F_SetFieldString(f, 0, why);
        if (col >= 0) {
            OGR_F_SetFieldInteger(f, 1, col);
            OGR_F_SetFieldInteger(f, 2, row);
        }
        OGR_F_SetFieldInteger64(f, 3, pixels);
        OGR_F_SetFieldDouble(f, 4, round(area_ha * 1e4) / 1e4);
        OGR_F_SetGeometryDirectly(f, multi);
        if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE)
            st = cnp_err(CNP_E_IO, "cannot write the unobserved area to '%s': %s", path, cnp_err_gdal_reason());
        OGR_F_Destroy(f);
    }
    GDALDatasetCommitTransaction(ds);
    return st;
}

cnp_status cnp_write_gpkg(const char *path, const cnp_result *res, const cnp_scene *before,
                          const cnp_scene *after)
{
    OGRSpatialReferenceH srs = OSRNewSpatialReference(before->wkt);
    if (!srs)
        return cnp_err(CNP_E_DATA, "cannot read the CRS of '%s'", before->path);
    /* GeoPackage stamps the current time into gpkg_contents; pin it (for this
     * thread only: the other products are written beside it) so that the
     * same inputs give the same file. */
    char stamp[40];
    cnp_gdal_gpkg_stamp(stamp, sizeof stamp, after->date[0] ? after->date : "2000-01-01");
    CPLSetThreadLocalConfigOption("OGR_CURRENT_DATE", stamp);
    char **lco = CSLAddString(NULL, "SPATIAL_INDEX=YES");
    lco = CSLAddString(lco, "FID=fid");
    lco = CSLAddString(lco, "GEOMETRY_NAME=geom");
    cnp_status st = write_layer("GPKG", path, res, before, after, srs, 0, lco);
    CSLDestroy(lco);
    if (st == CNP_OK) {
        cnp_err_gdal_reset();
        GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_UPDATE | GDAL_OF_VERBOSE_ERROR,
                                     NULL, NULL, NULL);
        if (!ds) {
            st = cnp_err(CNP_E_IO, "cannot reopen '%s': %s", path, cnp_err_gdal_reason());
        } else {
            st = write_unobserved(ds, path, res, before, srs);
            CPLErrorReset();
            GDALClose(ds);
            if (st == CNP_OK && CPLGetLastErrorType() >= CE_Failure)
                st = cnp_err(CNP_E_IO, "writing '%s': %s", path, cnp_err_gdal_reason());
        }
    }
    CPLSetThreadLocalConfigOption("OGR_CURRENT_DATE", NULL);
    OSRDestroySpatialReference(srs);
    return st;
}

cnp_status cnp_write_geojson(const char *path, const cnp_result *res, const cnp_scene *before,
                             const cnp_scene *after)
{
    OGRSpatialReferenceH wgs84 = OSRNewSpatialReference(NULL);
    cnp_status st;

    if (!wgs84 || OSRImportFromEPSG(wgs84, 4326) != OGRERR_NONE) {
        OSRDestroySpatialReference(wgs84);
        return cnp_err(CNP_E_DATA, "cannot set up WGS84 for '%s'", path);
    }
    OSRSetAxisMappingStrategy(wgs84, OAMS_TRADITIONAL_GIS_ORDER);
    /* RFC7946=YES: lon/lat order, CCW outer rings, 7 decimals. The alerts
     * carry their WGS84 geometry already (transformed once, on all threads,
     * with the geodesic areas). */
    char **lco = CSLAddString(NULL, "RFC7946=YES");
    lco = CSLAddString(lco, "WRITE_NAME=NO");
    st = write_layer("GeoJSON", path, res, before, after, wgs84, 1, lco);
    CSLDestroy(lco);
    OSRDestroySpatialReference(wgs84);
    return st;
}
