/* pipeline/monitor/cnp_monitor_db.c - the monitor's alerts database through OGR.
 *
 * A GeoPackage (the default, DIR/alerts.gpkg) or any OGR connection that
 * supports transactions, in practice PostgreSQL/PostGIS ("PG:dbname=..").
 * Four tables, created when missing:
 *   alerts        one row per alert: current outline (MultiPolygon, WGS84)
 *                 and attributes, replaced whenever the alert changes
 *   observations  one row per (alert, scene): the ledger of what each scene
 *                 saw of each alert and what it did to it
 *   scenes        one row per input a run recorded: processed, failed, skipped
 *   runs          one row per state generation: counts and exit status
 * Everything one generation writes is applied in one transaction, together
 * with its `runs` row, so the highest generation in `runs` says how far the
 * database has got.
 *
 * No SQL text is made from data: rows are written through OGR features, and
 * an alert row is found by its FID (read once per transaction), never by an
 * attribute filter holding its id. Text goes in as valid UTF-8 (PostgreSQL
 * refuses anything else, for good). mon_db_lock() takes the database itself
 * (flock on the GeoPackage file, a PostgreSQL advisory lock with a constant
 * key), so two states given one --db cannot both take it for their own.
 */
#include "cnp_monitor_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "cnp_err.h"
#include "cnp_gdal.h"
#include "cnp_ident.h"
#include "cnp_monitor.h"

/* How long a run waits for another run's hold on the database. */
#define DB_LOCK_WAIT_S 300
/* The PostgreSQL advisory lock key of a canopy monitor database ("canopymn"):
 * a constant, so the SQL text holds no data. Advisory locks are per database. */
#define PG_LOCK_SQL_KEY "7161678176219630958"

struct mon_db {
    GDALDatasetH ds;
    OGRLayerH    alerts, obs, scenes, runs;
    char         name[512];       /* for messages: path or "PostgreSQL" */
    int          is_pg;
    int          lock_fd;         /* GeoPackage: the file, for flock; -1 = none */
    int          locked;
};

typedef struct field_def { const char *name; OGRFieldType type; int width; } field_def;

static const field_def alert_fields[] = {
    { "id", OFTString, 96 }, { "footprint", OFTString, 64 }, { "status", OFTString, 16 },
    { "first_detected", OFTDate, 0 }, { "confirmed_at", OFTDate, 0 },
    { "rejected_at", OFTDate, 0 }, { "last_observed", OFTDate, 0 },
    { "first_scene", OFTString, 200 }, { "n_observations", OFTInteger64, 0 },
    { "area_ha", OFTReal, 0 }, { "pixels", OFTInteger64, 0 },
    { "probable_pixels", OFTInteger64, 0 }, { "confirmed_pixels", OFTInteger64, 0 },
    { "mean_dndvi", OFTReal, 0 }, { "centroid_lon", OFTReal, 0 }, { "centroid_lat", OFTReal, 0 },
    { "zones", OFTString, 0 },          /* --zones: "name:ha;..." (null without) */
    { "partially_observed", OFTInteger, 0 },   /* 1: bordered a gap or bridged one */
    { NULL, 0, 0 }
};
static const field_def obs_fields[] = {
    { "alert_id", OFTString, 96 }, { "scene_id", OFTString, 200 }, { "date", OFTDate, 0 },
    { "footprint", OFTString, 64 }, { "status", OFTString, 8 },
    { "clear_px", OFTInteger64, 0 }, { "cloudy_px", OFTInteger64, 0 },
    { "nodata_px", OFTInteger64, 0 }, { "new_px", OFTInteger64, 0 }, { "dndvi", OFTReal, 0 },
    { "effect", OFTString, 96 }, { NULL, 0, 0 }
};
static const field_def scene_fields[] = {
    { "scene_id", OFTString, 200 }, { "date", OFTDate, 0 }, { "footprint", OFTString, 64 },
    { "status", OFTString, 16 }, { "reason", OFTString, 0 }, { "product", OFTString, 160 },
    { "path", OFTString, 0 }, { "generation", OFTInteger64, 0 }, { NULL, 0, 0 }
};
static const field_def run_fields[] = {
    { "generation", OFTInteger64, 0 }, { "started", OFTDateTime, 0 },
    { "finished", OFTDateTime, 0 }, { "scenes_processed", OFTInteger64, 0 },
    { "scenes_failed", OFTInteger64, 0 }, { "scenes_skipped", OFTInteger64, 0 },
    { "alerts_new", OFTInteger64, 0 }, { "alerts_confirmed", OFTInteger64, 0 },
    { "alerts_rejected", OFTInteger64, 0 }, { "exit_status", OFTInteger, 0 },
    { "message", OFTString, 0 }, { NULL, 0, 0 }
};

static cnp_status ensure_layer(mon_db *db, const char *name, OGRwkbGeometryType gtype,
                               const field_def *fields, OGRLayerH *out)
{
    OGRLayerH lyr = GDALDatasetGetLayerByName(db->ds, name);
    if (!lyr) {
        OGRSpatialReferenceH srs = NULL;
        if (gtype != wkbNone) {
            srs = OSRNewSpatialReference(NULL);
            OSRImportFromEPSG(srs, 4326);
            OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
        }
        char **opts = CSLAddString(NULL, "FID=fid");
        if (gtype != wkbNone)
            opts = CSLAddString(opts, "GEOMETRY_NAME=geom");
        cnp_err_gdal_reset();
        lyr = GDALDatasetCreateLayer(db->ds, name, srs, gtype, opts);
        CSLDestroy(opts);
        if (srs)
            OSRDestroySpatialReference(srs);
        if (!lyr)
            return cnp_err(CNP_E_IO, "database %s: cannot create table '%s': %s", db->name, name,
                           cnp_err_gdal_reason());
    }
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(lyr);
    for (const field_def *f = fields; f->name; f++) {
        if (OGR_FD_GetFieldIndex(defn, f->name) >= 0)
            continue;
        OGRFieldDefnH fd = OGR_Fld_Create(f->name, f->type);
        if (f->width)
            OGR_Fld_SetWidth(fd, f->width);
        cnp_err_gdal_reset();
        const OGRErr e = OGR_L_CreateField(lyr, fd, TRUE);
        OGR_Fld_Destroy(fd);
        if (e != OGRERR_NONE)
            return cnp_err(CNP_E_IO, "database %s: cannot add column '%s' to '%s': %s", db->name,
                           f->name, name, cnp_err_gdal_reason());
    }
    *out = lyr;
    return CNP_OK;
}

static void exec_sql(mon_db *db, const char *sql)
{
    OGRLayerH r = GDALDatasetExecuteSQL(db->ds, sql, NULL, NULL);
    if (r)
        GDALDatasetReleaseResultSet(db->ds, r);
}

cnp_status mon_db_open(const char *conn, mon_db **out)
{
    mon_db *db = calloc(1, sizeof *db);
    cnp_status st = CNP_OK;
    *out = NULL;
    if (!db)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    db->lock_fd = -1;
    const int is_pg = db->is_pg = strncmp(conn, "PG:", 3) == 0;
    if (is_pg) {
        snprintf(db->name, sizeof db->name, "PostgreSQL");
    } else {
        snprintf(db->name, sizeof db->name, "'%s'", conn);
    }
    cnp_err_gdal_reset();
    if (!is_pg && access(conn, F_OK) != 0) {
        /* A new GeoPackage is made complete under a temporary name and renamed,
         * so a run killed while creating it leaves no half-made file behind. */
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp-%ld", conn, (long)getpid());
        unlink(tmp);
        GDALDriverH drv = GDALGetDriverByName("GPKG");
        db->ds = drv ? GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, NULL) : NULL;
        if (!db->ds) {
            st = cnp_err(CNP_E_IO, "cannot create the database %s: %s", db->name, cnp_err_gdal_reason());
            goto fail;
        }
        if ((st = ensure_layer(db, "alerts", wkbMultiPolygon, alert_fields, &db->alerts)) ||
            (st = ensure_layer(db, "observations", wkbNone, obs_fields, &db->obs)) ||
            (st = ensure_layer(db, "scenes", wkbNone, scene_fields, &db->scenes)) ||
            (st = ensure_layer(db, "runs", wkbNone, run_fields, &db->runs))) {
            GDALClose(db->ds);
            db->ds = NULL;
            unlink(tmp);
            goto fail;
        }
        CPLErrorReset();
        GDALClose(db->ds);
        db->ds = NULL;
        /* link(), not rename(): when two runs make it at once, the second
         * finds the first's file in place and uses it, not replaces it. */
        if (CPLGetLastErrorType() >= CE_Failure)
            st = cnp_err(CNP_E_IO, "cannot create the database %s: %s", db->name,
                         cnp_err_gdal_reason());
        else if ((st = cnp_fs_fsync_path(tmp)) == CNP_OK && link(tmp, conn) != 0 &&
                 errno != EEXIST)
            st = cnp_err(CNP_E_IO, "cannot create the database %s: %s", db->name,
                         strerror(errno));
        unlink(tmp);
        if (st != CNP_OK)
            goto fail;
    }
    if (!is_pg && (db->lock_fd = open(conn, O_RDWR | O_CLOEXEC)) < 0) {
        st = cnp_err(CNP_E_IO, "cannot open the database %s: %s", db->name, strerror(errno));
        goto fail;
    }
    db->ds = GDALOpenEx(conn, GDAL_OF_VECTOR | GDAL_OF_UPDATE | GDAL_OF_VERBOSE_ERROR, NULL,
                        NULL, NULL);
    if (!db->ds) {
        st = cnp_err(CNP_E_IO, "cannot open the database %s: %s", db->name, cnp_err_gdal_reason());
        goto fail;
    }
    /* Locked before the tables are made: two runs on a new PostgreSQL
     * database would otherwise both create them. */
    if ((st = mon_db_lock(db)) != CNP_OK)
        goto fail;
    if ((st = ensure_layer(db, "alerts", wkbMultiPolygon, alert_fields, &db->alerts)) != CNP_OK ||
        (st = ensure_layer(db, "observations", wkbNone, obs_fields, &db->obs)) != CNP_OK ||
        (st = ensure_layer(db, "scenes", wkbNone, scene_fields, &db->scenes)) != CNP_OK ||
        (st = ensure_layer(db, "runs", wkbNone, run_fields, &db->runs)) != CNP_OK)
        goto fail;
    exec_sql(db, "CREATE UNIQUE INDEX IF NOT EXISTS alerts_id_key ON alerts (id)");
    exec_sql(db, "CREATE INDEX IF NOT EXISTS observations_alert_key ON observations (alert_id)");
    exec_sql(db, "CREATE INDEX IF NOT EXISTS scenes_scene_key ON scenes (scene_id)");
    cnp_err_gdal_reset();
    *out = db;
    return CNP_OK;

fail:
    mon_db_close(&db);
    return st;
}

void mon_db_close(mon_db **pdb)
{
    if (!pdb || !*pdb)
        return;
    if ((*pdb)->ds)
        GDALClose((*pdb)->ds);
    /* Closed after SQLite's own handle: closing a descriptor of the file
     * drops every fcntl lock the process holds on it, SQLite's included. */
    if ((*pdb)->lock_fd >= 0)
        close((*pdb)->lock_fd);
    free(*pdb);
    *pdb = NULL;
}

/* One try at PostgreSQL's advisory lock: 1 taken, 0 held by another session,
 * -1 error. */
static int pg_try_lock(mon_db *db)
{
    cnp_err_gdal_reset();
    OGRLayerH r = GDALDatasetExecuteSQL(db->ds, "SELECT pg_try_advisory_lock(" PG_LOCK_SQL_KEY
                                                ")", NULL, NULL);
    int got = -1;
    if (r) {
        OGRFeatureH f = OGR_L_GetNextFeature(r);
        if (f) {
            got = OGR_F_GetFieldAsInteger(f, 0) != 0;
            OGR_F_Destroy(f);
        }
        GDALDatasetReleaseResultSet(db->ds, r);
    }
    return got;
}

cnp_status mon_db_lock(mon_db *db)
{
    if (db->locked)
        return CNP_OK;
    const double until = cnp_now_s() + DB_LOCK_WAIT_S;
    for (;;) {
        int got;
        if (db->is_pg) {
            if ((got = pg_try_lock(db)) < 0)
                return cnp_err(CNP_E_IO, "database %s: cannot take its lock: %s", db->name,
                               cnp_err_gdal_reason());
        } else {
            got = flock(db->lock_fd, LOCK_EX | LOCK_NB) == 0;
            if (!got && errno != EWOULDBLOCK && errno != EINTR)
                return cnp_err(CNP_E_IO, "database %s: cannot lock it: %s", db->name,
                               strerror(errno));
        }
        if (got) {
            db->locked = 1;
            return CNP_OK;
        }
        if (cnp_now_s() > until)
            return cnp_err(CNP_E_IO, "database %s: another run has held it for more than %d s "
                           "(another state folder with the same --db?)", db->name,
                           DB_LOCK_WAIT_S);
        nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
    }
}

void mon_db_unlock(mon_db *db)
{
    if (!db || !db->locked)
        return;
    db->locked = 0;
    if (!db->is_pg) {
        flock(db->lock_fd, LOCK_UN);
        return;
    }
    /* Session locks stack: release every level this session took. */
    for (int i = 0; i < 8; i++) {
        OGRLayerH r = GDALDatasetExecuteSQL(db->ds, "SELECT pg_advisory_unlock(" PG_LOCK_SQL_KEY
                                                    ")", NULL, NULL);
        int released = 0;
        if (r) {
            OGRFeatureH f = OGR_L_GetNextFeature(r);
            if (f) {
                released = OGR_F_GetFieldAsInteger(f, 0) != 0;
                OGR_F_Destroy(f);
            }
            GDALDatasetReleaseResultSet(db->ds, r);
        }
        if (!released)
            break;
    }
}

cnp_status mon_db_generation(mon_db *db, int64_t *gen)
{
    *gen = 0;
    OGR_L_SetAttributeFilter(db->runs, NULL);
    OGR_L_ResetReading(db->runs);
    const int idx = OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(db->runs), "generation");
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(db->runs)) != NULL) {
        if (OGR_F_IsFieldSetAndNotNull(f, idx)) {
            const int64_t g = OGR_F_GetFieldAsInteger64(f, idx);
            if (g > *gen)
                *gen = g;
        }
        OGR_F_Destroy(f);
    }
    return CNP_OK;
}

static void set_str(OGRFeatureH f, const char *name, const char *v)
{
    const int i = OGR_F_GetFieldIndex(f, name);
    if (i < 0)
        return;
    if (!v || !*v) {
        OGR_F_SetFieldNull(f, i);
    } else if (cnp_ident_utf8_valid(v)) {
        OGR_F_SetFieldString(f, i, v);
    } else {
        char *u = cnp_ident_utf8_dup(v);
        OGR_F_SetFieldString(f, i, u ? u : "");
        free(u);
    }
}

static void set_int(OGRFeatureH f, const char *name, int64_t v)
{
    const int i = OGR_F_GetFieldIndex(f, name);
    if (i >= 0)
        OGR_F_SetFieldInteger64(f, i, v);
}

static void set_num(OGRFeatureH f, const char *name, double v)
{
    const int i = OGR_F_GetFieldIndex(f, name);
    if (i < 0)
        return;
    if (isfinite(v))
        OGR_F_SetFieldDouble(f, i, v);
    else
        OGR_F_SetFieldNull(f, i);
}

static const char *status_word(int s)
{
    return s == CNP_ALERT_CONFIRMED ? "confirmed" : s == CNP_ALERT_REJECTED ? "rejected"
                                                                              : "probable";
}

static OGRGeometryH geom_from_hex(const char *hex)
{
    if (!hex || !*hex)
        return NULL;
    const size_t n = strlen(hex) / 2;
    unsigned char *b = malloc(n ? n : 1);
    if (!b)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        b[i] = (unsigned char)v;
    }
    OGRGeometryH g = NULL;
    if (OGR_G_CreateFromWkb(b, NULL, &g, (int)n) != OGRERR_NONE)
        g = NULL;
    free(b);
    return g;
}

static void fill_alert(OGRFeatureH f, const mon_alert *a, const char *footprint)
{
    set_str(f, "id", a->id);
    set_str(f, "footprint", footprint);
    set_str(f, "status", status_word(a->status));
    set_str(f, "first_detected", a->first_detected);
    set_str(f, "confirmed_at", a->confirmed_at);
    set_str(f, "rejected_at", a->rejected_at);
    set_str(f, "last_observed", a->last_observed);
    set_str(f, "first_scene", a->first_scene);
    set_int(f, "n_observations", a->n_observations);
    set_num(f, "area_ha", a->area_ha);
    set_int(f, "pixels", a->pixels);
    set_int(f, "probable_pixels", a->probable_pixels);
    set_int(f, "confirmed_pixels", a->confirmed_pixels);
    set_num(f, "mean_dndvi", a->mean_dndvi);
    set_num(f, "centroid_lon", a->centroid_lon);
    set_num(f, "centroid_lat", a->centroid_lat);
    set_str(f, "zones", a->zones);
    set_int(f, "partially_observed", a->partially_observed);
    OGRGeometryH g = geom_from_hex(a->geom_hex);
    if (g)
        OGR_F_SetGeometryDirectly(f, g);
}

/* The footprint key of an alert id "<key>-<seq>". */
static void key_of(const char *id, char *out, size_t size)
{
    const char *dash = strrchr(id, '-');
    const size_t n = dash ? (size_t)(dash - id) : strlen(id);
    snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), id);
}

static const char *obs_word(int s)
{
    return s == CNP_OBS_CLEAR ? "clear" : s == CNP_OBS_CLOUDY ? "cloudy" : "nodata";
}

static cnp_status create_feature(mon_db *db, OGRLayerH lyr, OGRFeatureH f, const char *what)
{
    cnp_err_gdal_reset();
    if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE)
        return cnp_err(CNP_E_IO, "database %s: cannot write %s: %s", db->name, what,
                       cnp_err_gdal_reason());
    return CNP_OK;
}

/* An alert row: its id and FID. */
typedef struct row_fid { char id[MON_ID_LEN]; GIntBig fid; } row_fid;

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const row_fid *)a)->id, ((const row_fid *)b)->id);
}

/* Every alert row's id and FID, sorted by id, read with the other columns
 * and the geometry left out. */
static cnp_status alert_rows(mon_db *db, row_fid **out, size_t *n)
{
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(db->alerts);
    const int idx = OGR_FD_GetFieldIndex(defn, "id");
    const char *ignored[64];
    size_t ni = 0, cap = 0;
    cnp_status st = CNP_OK;

    *out = NULL;
    *n = 0;
    for (int k = 0; k < OGR_FD_GetFieldCount(defn) && ni + 2 < 64; k++)
        if (k != idx)
            ignored[ni++] = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, k));
    ignored[ni++] = "OGR_GEOMETRY";
    ignored[ni] = NULL;
    OGR_L_SetIgnoredFields(db->alerts, ignored);
    OGR_L_SetAttributeFilter(db->alerts, NULL);
    OGR_L_ResetReading(db->alerts);
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(db->alerts)) != NULL) {
        if (st == CNP_OK && OGR_F_IsFieldSetAndNotNull(f, idx) &&
            (st = cnp_grow((void **)out, &cap, *n + 1, sizeof **out, "alert rows")) == CNP_OK) {
            snprintf((*out)[*n].id, sizeof (*out)[*n].id, "%s", OGR_F_GetFieldAsString(f, idx));
            (*out)[(*n)++].fid = OGR_F_GetFID(f);
        }
        OGR_F_Destroy(f);
    }
    OGR_L_SetIgnoredFields(db->alerts, NULL);
    if (st == CNP_OK && *n > 1)
        qsort(*out, *n, sizeof **out, cmp_row);
    return st;
}

static cnp_status apply(mon_db *db, const mon_outbox *ob, mon_state *st)
{
    cnp_status s = CNP_OK;
    char key[64];
    row_fid *rows = NULL;
    size_t nrows = 0;

    if (ob->ntouched > 0 && (s = alert_rows(db, &rows, &nrows)) != CNP_OK)
        return s;
    for (size_t i = 0; i < ob->ntouched && s == CNP_OK; i++) {
        const mon_alert *a = mon_state_find_alert(st, ob->touched[i]);
        if (!a) {
            free(rows);
            return cnp_err(CNP_E_DATA, "alert %s is in the outbox but not in the state",
                           ob->touched[i]);
        }
        key_of(a->id, key, sizeof key);
        row_fid want;
        snprintf(want.id, sizeof want.id, "%s", a->id);
        const row_fid *r = nrows ? bsearch(&want, rows, nrows, sizeof *rows, cmp_row) : NULL;
        OGRFeatureH f = r ? OGR_L_GetFeature(db->alerts, r->fid) : NULL;
        if (f) {
            fill_alert(f, a, key);
            cnp_err_gdal_reset();
            if (OGR_L_SetFeature(db->alerts, f) != OGRERR_NONE)
                s = cnp_err(CNP_E_IO, "database %s: cannot update alert %s: %s", db->name,
                            a->id, cnp_err_gdal_reason());
        } else {
            f = OGR_F_Create(OGR_L_GetLayerDefn(db->alerts));
            fill_alert(f, a, key);
            s = create_feature(db, db->alerts, f, "an alert");
        }
        OGR_F_Destroy(f);
    }
    free(rows);
    mon_crash_point("db-mid");
    for (size_t i = 0; i < ob->nobs && s == CNP_OK; i++) {
        const mon_obs *b = &ob->obs[i];
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(db->obs));
        set_str(f, "alert_id", b->alert_id);
        set_str(f, "scene_id", b->scene_id);
        set_str(f, "date", b->date);
        set_str(f, "footprint", b->footprint);
        set_str(f, "status", obs_word(b->status));
        set_int(f, "clear_px", b->clear_px);
        set_int(f, "cloudy_px", b->cloudy_px);
        set_int(f, "nodata_px", b->nodata_px);
        set_int(f, "new_px", b->new_px);
        set_num(f, "dndvi", b->dndvi);
        set_str(f, "effect", b->effect);
        s = create_feature(db, db->obs, f, "an observation");
        OGR_F_Destroy(f);
    }
    for (size_t i = 0; i < ob->nscenes && s == CNP_OK; i++) {
        const mon_seen *r = &ob->scenes[i];
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(db->scenes));
        set_str(f, "scene_id", r->id);
        set_str(f, "date", r->date);
        set_str(f, "footprint", r->footprint);
        set_str(f, "status", r->status);
        set_str(f, "reason", r->reason);
        set_str(f, "product", r->product);
        set_str(f, "path", r->path);
        set_int(f, "generation", ob->run.generation);
        s = create_feature(db, db->scenes, f, "a scene");
        OGR_F_Destroy(f);
    }
    if (s == CNP_OK) {
        const mon_runrow *r = &ob->run;
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(db->runs));
        set_int(f, "generation", r->generation);
        set_str(f, "started", r->started);
        set_str(f, "finished", r->finished);
        set_int(f, "scenes_processed", r->scenes_processed);
        set_int(f, "scenes_failed", r->scenes_failed);
        set_int(f, "scenes_skipped", r->scenes_skipped);
        set_int(f, "alerts_new", r->alerts_new);
        set_int(f, "alerts_confirmed", r->alerts_confirmed);
        set_int(f, "alerts_rejected", r->alerts_rejected);
        set_int(f, "exit_status", r->exit_status);
        set_str(f, "message", r->message);
        s = create_feature(db, db->runs, f, "the run");
        OGR_F_Destroy(f);
    }
    return s;
}

cnp_status mon_db_apply(mon_db *db, const mon_outbox *ob, mon_state *st)
{
    cnp_err_gdal_reset();
    if (GDALDatasetStartTransaction(db->ds, FALSE) != OGRERR_NONE)
        return cnp_err(CNP_E_IO, "database %s: cannot start a transaction: %s", db->name,
                       cnp_err_gdal_reason());
    cnp_status s = apply(db, ob, st);
    if (s != CNP_OK) {
        GDALDatasetRollbackTransaction(db->ds);
        return s;
    }
    cnp_err_gdal_reset();
    if (GDALDatasetCommitTransaction(db->ds) != OGRERR_NONE)
        return cnp_err(CNP_E_IO, "database %s: commit failed: %s", db->name, cnp_err_gdal_reason());
    return CNP_OK;
}

cnp_status mon_write_new_alerts(const char *path, const mon_outbox *ob, mon_state *st)
{
    char tmp[4200];
    cnp_status s = CNP_OK;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    GDALDriverH drv = GDALGetDriverByName("GeoJSON");
    cnp_err_gdal_reset();
    GDALDatasetH ds = drv ? GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, NULL) : NULL;
    if (!ds)
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", tmp, cnp_err_gdal_reason());
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, 4326);
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    char **lopts = CSLAddString(CSLAddString(NULL, "RFC7946=YES"), "COORDINATE_PRECISION=7");
    OGRLayerH lyr = GDALDatasetCreateLayer(ds, "new_alerts", srs, wkbMultiPolygon, lopts);
    CSLDestroy(lopts);
    OSRDestroySpatialReference(srs);
    if (!lyr) {
        GDALClose(ds);
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", tmp, cnp_err_gdal_reason());
    }
    static const field_def extra[] = { { "change", OFTString, 32 }, { NULL, 0, 0 } };
    for (const field_def *fd = extra; fd->name; fd++) {
        OGRFieldDefnH d = OGR_Fld_Create(fd->name, fd->type);
        OGR_L_CreateField(lyr, d, TRUE);
        OGR_Fld_Destroy(d);
    }
    for (const field_def *fd = alert_fields; fd->name; fd++) {
        OGRFieldDefnH d = OGR_Fld_Create(fd->name, fd->type);
        OGR_L_CreateField(lyr, d, TRUE);
        OGR_Fld_Destroy(d);
    }
    char key[64];
    for (size_t i = 0; i < ob->nnews && s == CNP_OK; i++) {
        const mon_alert *a = mon_state_find_alert(st, ob->news[i].id);
        if (!a)
            continue;
        key_of(a->id, key, sizeof key);
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
        set_str(f, "change", ob->news[i].change);
        fill_alert(f, a, key);
        cnp_err_gdal_reset();
        if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE)
            s = cnp_err(CNP_E_IO, "writing '%s': %s", tmp, cnp_err_gdal_reason());
        OGR_F_Destroy(f);
    }
    CPLErrorReset();
    GDALClose(ds);
    if (s == CNP_OK && CPLGetLastErrorType() >= CE_Failure)
        s = cnp_err(CNP_E_IO, "writing '%s': %s", tmp, cnp_err_gdal_reason());
    if (s == CNP_OK)
        s = cnp_fs_fsync_path(tmp);
    if (s == CNP_OK && rename(tmp, path) != 0)
        s = cnp_err(CNP_E_IO, "cannot rename '%s': %s", tmp, strerror(errno));
    if (s != CNP_OK)
        unlink(tmp);
    return s;
}
