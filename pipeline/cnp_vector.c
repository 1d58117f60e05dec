/* pipeline/cnp_vector.c - alerts.gpkg (scene CRS) and alerts.geojson (RFC 7946). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "cnp_err.h"
#include "cnp_output.h"

static const char *reason(void)
{
    const char *m = cnp_err_gdal_msg();
    if (!*m)
        m = CPLGetLastErrorMsg();
    return *m ? m : "unknown reason";
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

typedef struct field_def { const char *name; OGRFieldType type; } field_def;

static const field_def fields[] = {
    { "id", OFTString },          { "area_ha", OFTReal },         { "pixels", OFTInteger64 },
    { "mean_dndvi", OFTReal },    { "min_dndvi", OFTReal },       { "mean_ndvi_before", OFTReal },
    { "mean_ndvi_after", OFTReal }, { "confidence", OFTString },  { "centroid_lon", OFTReal },
    { "centroid_lat", OFTReal },  { "date_before", OFTString },   { "date_after", OFTString },
    { "before", OFTString },      { "after", OFTString },
};
enum { N_FIELDS = sizeof fields / sizeof fields[0] };

static void set_date(OGRFeatureH f, int i, const char *date)
{
    if (date[0])
        OGR_F_SetFieldString(f, i, date);
    else
        OGR_F_SetFieldNull(f, i);
}

/* Write the alerts with `driver` to `path`; geometries go through `ct` when not NULL. */
static cnp_status write_layer(const char *driver, const char *path, const cnp_result *res,
                              const cnp_scene *before, const cnp_scene *after,
                              OGRSpatialReferenceH srs, OGRCoordinateTransformationH ct,
                              char **lco)
{
    GDALDriverH drv = GDALGetDriverByName(driver);
    GDALDatasetH ds = NULL;
    cnp_status st = CNP_OK;

    if (!drv)
        return cnp_err(CNP_E_IO, "GDAL has no %s driver", driver);
    cnp_err_gdal_reset();
    ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    if (!ds)
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", path, reason());
    OGRLayerH lyr = GDALDatasetCreateLayer(ds, "alerts", srs, wkbMultiPolygon, lco);
    if (!lyr) {
        st = cnp_err(CNP_E_IO, "cannot create layer in '%s': %s", path, reason());
        goto done;
    }
    for (int i = 0; i < N_FIELDS; i++) {
        OGRFieldDefnH fd = OGR_Fld_Create(fields[i].name, fields[i].type);
        const OGRErr e = OGR_L_CreateField(lyr, fd, 1);
        OGR_Fld_Destroy(fd);
        if (e != OGRERR_NONE) {
            st = cnp_err(CNP_E_IO, "cannot create field %s in '%s': %s", fields[i].name, path,
                         reason());
            goto done;
        }
    }
    if (GDALDatasetStartTransaction(ds, 0) != OGRERR_NONE)
        CPLErrorReset();   /* drivers without transactions just write directly */
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
        OGR_F_SetFieldString(f, i++, a->high_confidence ? "high" : "low");
        OGR_F_SetFieldDouble(f, i++, a->centroid_lon);
        OGR_F_SetFieldDouble(f, i++, a->centroid_lat);
        set_date(f, i++, before->date);
        set_date(f, i++, after->date);
        OGR_F_SetFieldString(f, i++, base_name(before->path));
        OGR_F_SetFieldString(f, i++, base_name(after->path));
        OGRGeometryH g = OGR_G_Clone(a->geom);
        if (ct && OGR_G_Transform(g, ct) != OGRERR_NONE) {
            st = cnp_err(CNP_E_IO, "cannot transform alert %s to WGS84", a->id);
            OGR_G_DestroyGeometry(g);
            OGR_F_Destroy(f);
            break;
        }
        OGR_F_SetGeometryDirectly(f, g);
        if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE)
            st = cnp_err(CNP_E_IO, "cannot write alert %s to '%s': %s", a->id, path, reason());
        OGR_F_Destroy(f);
    }
    if (st == CNP_OK && GDALDatasetCommitTransaction(ds) != OGRERR_NONE)
        CPLErrorReset();

done:
    cnp_err_gdal_reset();
    CPLErrorReset();
    GDALClose(ds);
    if (st == CNP_OK && (CPLGetLastErrorType() >= CE_Failure || *cnp_err_gdal_msg()))
        st = cnp_err(CNP_E_IO, "writing '%s': %s", path, reason());
    return st;
}

cnp_status cnp_write_gpkg(const char *path, const cnp_result *res, const cnp_scene *before,
                          const cnp_scene *after)
{
    OGRSpatialReferenceH srs = OSRNewSpatialReference(before->wkt);
    if (!srs)
        return cnp_err(CNP_E_DATA, "cannot read the CRS of '%s'", before->path);
    char **lco = CSLAddString(NULL, "SPATIAL_INDEX=YES");
    lco = CSLAddString(lco, "FID=fid");
    lco = CSLAddString(lco, "GEOMETRY_NAME=geom");
    const cnp_status st = write_layer("GPKG", path, res, before, after, srs, NULL, lco);
    CSLDestroy(lco);
    OSRDestroySpatialReference(srs);
    return st;
}

cnp_status cnp_write_geojson(const char *path, const cnp_result *res, const cnp_scene *before,
                             const cnp_scene *after)
{
    OGRSpatialReferenceH src = OSRNewSpatialReference(before->wkt);
    OGRSpatialReferenceH wgs84 = OSRNewSpatialReference(NULL);
    OGRCoordinateTransformationH ct = NULL;
    cnp_status st;

    if (!src || !wgs84 || OSRImportFromEPSG(wgs84, 4326) != OGRERR_NONE) {
        st = cnp_err(CNP_E_DATA, "cannot set up the CRS of '%s'", before->path);
        goto done;
    }
    OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(wgs84, OAMS_TRADITIONAL_GIS_ORDER);
    ct = OCTNewCoordinateTransformation(src, wgs84);
    if (!ct) {
        st = cnp_err(CNP_E_DATA, "no transformation from the CRS of '%s' to WGS84", before->path);
        goto done;
    }
    /* RFC7946=YES: lon/lat order, CCW outer rings, 7 decimals. */
    char **lco = CSLAddString(NULL, "RFC7946=YES");
    lco = CSLAddString(lco, "WRITE_NAME=NO");
    st = write_layer("GeoJSON", path, res, before, after, wgs84, ct, lco);
    CSLDestroy(lco);

done:
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(src);
    OSRDestroySpatialReference(wgs84);
    return st;
}
