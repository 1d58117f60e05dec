/* pipeline/batch/cnp_batch_merge.c - `canopy batch`: each footprint's alerts
 * of the pairs that ran ok, merged into OUTROOT/<footprint>/alerts.gpkg.
 *
 * Written under a temporary name and renamed; its timestamp is pinned to the
 * latest scene date (OGR_CURRENT_DATE, set for this thread only), so the
 * same alerts give the same bytes.
 */
#include "cnp_batch_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "cnp_err.h"
#include "cnp_gdal.h"
#include "cnp_tmpfile.h"

/* ---- per-footprint alerts.gpkg ---------------------------------------------------- */

/* 1 when `path` holds exactly these pair runs (its `pairs` table). */
static int merged_matches(const char *path, const cnp_batch_row *const *ok, size_t nok)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds)
        return 0;
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "pairs");
    int match = l != NULL && OGR_L_GetFeatureCount(l, 1) == (GIntBig)nok;
    if (match) {
        OGR_L_ResetReading(l);
        OGRFeatureH f;
        size_t i = 0;
        const int fpair = OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(l), "pair");
        const int frun = OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(l), "run_id");
        while (match && (f = OGR_L_GetNextFeature(l)) != NULL) {
            match = fpair >= 0 && frun >= 0 && i < nok &&
                    strcmp(OGR_F_GetFieldAsString(f, fpair), ok[i]->pair->dir) == 0 &&
                    strcmp(OGR_F_GetFieldAsString(f, frun), ok[i]->run_id) == 0;
            i++;
            OGR_F_Destroy(f);
        }
    }
    GDALClose(ds);
    return match;
}

static void add_field(OGRLayerH l, const char *name, OGRFieldType t)
{
    OGRFieldDefnH fd = OGR_Fld_Create(name, t);
    OGR_L_CreateField(l, fd, 1);
    OGR_Fld_Destroy(fd);
}

/* Every alert of one pair's alerts.gpkg into `dst`, with the pair's ids. */
static cnp_status copy_alerts(const cnp_batch_plan *p, const cnp_batch_row *r, GDALDatasetH out,
                              OGRLayerH *dst, const char *tmp)
{
    char src_path[8400];
    cnp_status st = CNP_OK;
    snprintf(src_path, sizeof src_path, "%s/%s/%s/alerts.gpkg", p->outroot, r->fp->name,
             r->pair->dir);
    GDALDatasetH src = GDALOpenEx(src_path, GDAL_OF_VECTOR | GDAL_OF_READONLY |
                                  GDAL_OF_VERBOSE_ERROR, NULL, NULL, NULL);
    OGRLayerH sl = src ? GDALDatasetGetLayerByName(src, "alerts") : NULL;
    if (!sl) {
        st = cnp_err(CNP_E_IO, "cannot read the alerts of %s: %s", src_path, cnp_err_gdal_reason());
        goto done;
    }
    OGRSpatialReferenceH ssrs = OGR_L_GetSpatialRef(sl);
    if (!*dst) {
        char **lco = CSLAddString(NULL, "FID=fid");
        lco = CSLAddString(lco, "GEOMETRY_NAME=geom");
        lco = CSLAddString(lco, "SPATIAL_INDEX=YES");
        *dst = GDALDatasetCreateLayer(out, "alerts", ssrs, wkbMultiPolygon, lco);
        CSLDestroy(lco);
        if (!*dst) {
            st = cnp_err(CNP_E_IO, "cannot create the alerts layer in '%s': %s", tmp,
                         cnp_err_gdal_reason());
            goto done;
        }
        add_field(*dst, "pair", OFTString);
        add_field(*dst, "before_id", OFTString);
        add_field(*dst, "after_id", OFTString);
        OGRFeatureDefnH sd = OGR_L_GetLayerDefn(sl);
        for (int i = 0; i < OGR_FD_GetFieldCount(sd); i++)
            OGR_L_CreateField(*dst, OGR_FD_GetFieldDefn(sd, i), 1);
    }
    OGRSpatialReferenceH dsrs = OGR_L_GetSpatialRef(*dst);
    OGRCoordinateTransformationH ct = NULL;
    if (ssrs && dsrs && !OSRIsSame(ssrs, dsrs)) {
        ct = OCTNewCoordinateTransformation(ssrs, dsrs);
        if (!ct) {
            st = cnp_err(CNP_E_IO, "%s: cannot transform its alerts to the footprint's CRS",
                         src_path);
            goto done;
        }
    }
    OGRFeatureDefnH dd = OGR_L_GetLayerDefn(*dst);
    const int f_pair = OGR_FD_GetFieldIndex(dd, "pair");
    const int f_b = OGR_FD_GetFieldIndex(dd, "before_id");
    const int f_a = OGR_FD_GetFieldIndex(dd, "after_id");
    OGR_L_ResetReading(sl);
    OGRFeatureH f;
    while (st == CNP_OK && (f = OGR_L_GetNextFeature(sl)) != NULL) {
        OGRFeatureH nf = OGR_F_Create(dd);
        OGR_F_SetFrom(nf, f, 1);
        OGR_F_SetFID(nf, OGRNullFID);
        OGR_F_SetFieldString(nf, f_pair, r->pair->dir);
        OGR_F_SetFieldString(nf, f_b, r->fp->scene[r->pair->before].id);
        OGR_F_SetFieldString(nf, f_a, r->fp->scene[r->pair->after].id);
        OGRGeometryH g = OGR_F_GetGeometryRef(nf);
        if (ct && g && OGR_G_Transform(g, ct) != OGRERR_NONE)
            st = cnp_err(CNP_E_IO, "%s: cannot transform an alert", src_path);
        if (st == CNP_OK && OGR_L_CreateFeature(*dst, nf) != OGRERR_NONE)
            st = cnp_err(CNP_E_IO, "cannot write to '%s': %s", tmp, cnp_err_gdal_reason());
        OGR_F_Destroy(nf);
        OGR_F_Destroy(f);
    }
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
done:
    if (src)
        GDALClose(src);
    return st;
}

cnp_status cnp_batch_merge_alerts(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                                  const cnp_batch_row *rows, size_t nrows, int force,
                                  int *written)
{
    char path[8400], tmp[8500];
    const cnp_batch_row **ok = calloc(nrows + 1, sizeof *ok);
    size_t nok = 0;
    cnp_status st = CNP_OK;
    char latest[CNP_DATE_LEN] = "2000-01-01";

    *written = 0;
    if (!ok)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    for (size_t i = 0; i < nrows; i++) {
        if (rows[i].fp != fp || strcmp(rows[i].status, "ok") != 0)
            continue;
        ok[nok++] = &rows[i];
        const char *d = fp->scene[rows[i].pair->after].date;
        if (strcmp(d, latest) > 0)
            snprintf(latest, sizeof latest, "%s", d);
    }
    snprintf(path, sizeof path, "%s/%s/alerts.gpkg", p->outroot, fp->name);
    /* A merge killed earlier (kill -9, a node lost) left its file behind. */
    cnp_tmp_remove_dead(path);
    if (!force && merged_matches(path, ok, nok)) {
        free(ok);
        return CNP_OK;
    }
    cnp_tmp_path(path, tmp, sizeof tmp);
    unlink(tmp);

    /* The same alerts give the same file: pin the GeoPackage's timestamp. */
    char stamp[40];
    cnp_gdal_gpkg_stamp(stamp, sizeof stamp, latest);
    CPLSetThreadLocalConfigOption("OGR_CURRENT_DATE", stamp);
    cnp_err_gdal_reset();
    GDALDriverH drv = GDALGetDriverByName("GPKG");
    GDALDatasetH out = drv ? GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, NULL) : NULL;
    OGRLayerH dst = NULL;
    if (!out) {
        st = cnp_err(CNP_E_IO, "cannot create '%s': %s", tmp, cnp_err_gdal_reason());
        goto done;
    }
    GDALDatasetStartTransaction(out, 0);
    for (size_t i = 0; i < nok && st == CNP_OK; i++)
        st = copy_alerts(p, ok[i], out, &dst, tmp);
    if (st == CNP_OK && !dst) {
        char **lco = CSLAddString(NULL, "FID=fid");
        lco = CSLAddString(lco, "GEOMETRY_NAME=geom");
        dst = GDALDatasetCreateLayer(out, "alerts", NULL, wkbMultiPolygon, lco);
        CSLDestroy(lco);
        if (dst) {
            add_field(dst, "pair", OFTString);
            add_field(dst, "before_id", OFTString);
            add_field(dst, "after_id", OFTString);
        }
    }
    /* The runs merged, so the next batch can tell whether this file is current. */
    OGRLayerH pl = st == CNP_OK ? GDALDatasetCreateLayer(out, "pairs", NULL, wkbNone, NULL)
                                : NULL;
    if (st == CNP_OK && !pl)
        st = cnp_err(CNP_E_IO, "cannot create the pairs table in '%s': %s", tmp, cnp_err_gdal_reason());
    if (st == CNP_OK) {
        static const struct { const char *name; OGRFieldType t; } pf[] = {
            { "pair", OFTString }, { "before_id", OFTString }, { "before_date", OFTDate },
            { "after_id", OFTString }, { "after_date", OFTDate }, { "alerts", OFTInteger64 },
            { "area_ha", OFTReal }, { "observed_share", OFTReal }, { "run_id", OFTString },
        };
        for (size_t i = 0; i < sizeof pf / sizeof pf[0]; i++)
            add_field(pl, pf[i].name, pf[i].t);
        for (size_t i = 0; i < nok && st == CNP_OK; i++) {
            const cnp_batch_row *r = ok[i];
            const cnp_batch_scene *b = &fp->scene[r->pair->before], *a = &fp->scene[r->pair->after];
            OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(pl));
            OGR_F_SetFieldString(f, 0, r->pair->dir);
            OGR_F_SetFieldString(f, 1, b->id);
            OGR_F_SetFieldString(f, 2, b->date);
            OGR_F_SetFieldString(f, 3, a->id);
            OGR_F_SetFieldString(f, 4, a->date);
            OGR_F_SetFieldInteger64(f, 5, r->alerts);
            OGR_F_SetFieldDouble(f, 6, r->area_ha);
            OGR_F_SetFieldDouble(f, 7, r->observed_share);
            OGR_F_SetFieldString(f, 8, r->run_id);
            if (OGR_L_CreateFeature(pl, f) != OGRERR_NONE)
                st = cnp_err(CNP_E_IO, "cannot write to '%s': %s", tmp, cnp_err_gdal_reason());
            OGR_F_Destroy(f);
        }
    }
    GDALDatasetCommitTransaction(out);
    CPLErrorReset();
    GDALClose(out);
    if (st == CNP_OK && CPLGetLastErrorType() >= CE_Failure)
        st = cnp_err(CNP_E_IO, "writing '%s': %s", tmp, cnp_err_gdal_reason());
    if (st == CNP_OK && rename(tmp, path) != 0)
        st = cnp_err(CNP_E_IO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
    if (st == CNP_OK)
        *written = 1;
done:
    if (st != CNP_OK)
        unlink(tmp);
    CPLSetThreadLocalConfigOption("OGR_CURRENT_DATE", NULL);
    free(ok);
    return st;
}

/* ---- summaries ---------------------------------------------------------------------- */

