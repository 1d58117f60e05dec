/* pipeline/io/cnp_zones.c - zones layers opened, checked and met with the
 * alerts (see cnp_zones.h). */
#include "cnp_zones.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "cnp_err.h"
#include "cnp_gdal.h"
#include "cnp_ident.h"

struct cnp_zone_source {
    GDALDatasetH ds;
    OGRLayerH    lyr;
    char        *file;                  /* as given, for messages               */
    const char  *what;                  /* "zones", "--aoi": for messages       */
    int          may_miss, misses;      /* a window it misses is no error: it
                                         * then meets nothing                   */
    char        *layer;                 /* the layer's name (UTF-8)             */
    int          field;                 /* label field index                    */
    OGRCoordinateTransformationH to_grid;
    double       filt[4];               /* the window in the layer's CRS:
                                         * min x, min y, max x, max y           */
    double       ext[4];                /* the layer's extent, likewise         */
};

/* ---- opening ------------------------------------------------------------- */

/* FILE, else FILE:LAYER split at the last ':' (a path may hold ':' too). */
static GDALDatasetH open_spec(const char *spec, char **file, char **layer)
{
    const unsigned flags = GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR;
    *layer = NULL;
    *file = strdup(spec);
    GDALDatasetH ds = GDALOpenEx(spec, flags, NULL, NULL, NULL);
    const char *colon = strrchr(spec, ':');
    if (ds || !colon || !colon[1] || !*file)
        return ds;
    char *f = strndup(spec, (size_t)(colon - spec));
    CPLPushErrorHandler(CPLQuietErrorHandler);
    ds = f ? GDALOpenEx(f, flags, NULL, NULL, NULL) : NULL;
    CPLPopErrorHandler();
    if (!ds) {
        free(f);
        return NULL;
    }
    free(*file);
    *file = f;
    *layer = strdup(colon + 1);
    return ds;
}

static cnp_status pick_layer(cnp_zone_source *z, const char *want)
{
    z->lyr = want ? GDALDatasetGetLayerByName(z->ds, want)
                  : GDALDatasetGetLayerCount(z->ds) > 0 ? GDALDatasetGetLayer(z->ds, 0) : NULL;
    if (!z->lyr && want)
        return cnp_err(CNP_E_ARG, "%s '%s': no layer '%s' in it", z->what, z->file, want);
    if (!z->lyr)
        return cnp_err(CNP_E_DATA, "%s '%s': holds no vector layer", z->what, z->file);
    if (OGR_L_GetGeomType(z->lyr) == wkbNone)
        return cnp_err(CNP_E_DATA, "%s '%s': layer '%s' has no geometry", z->what, z->file,
                       OGR_L_GetName(z->lyr));
    z->layer = cnp_ident_utf8_dup(want ? want : OGR_L_GetName(z->lyr));
    return z->layer ? CNP_OK : cnp_err(CNP_E_NOMEM, "out of memory");
}

/* The named field, else the first string field, else none (-1: the zones
 * are named by their feature ids). */
static cnp_status pick_field(cnp_zone_source *z, const char *want)
{
    OGRFeatureDefnH fd = OGR_L_GetLayerDefn(z->lyr);
    const int n = OGR_FD_GetFieldCount(fd);
    z->field = -1;
    for (int i = 0; i < n && z->field < 0; i++) {
        OGRFieldDefnH f = OGR_FD_GetFieldDefn(fd, i);
        if (want ? strcmp(OGR_Fld_GetNameRef(f), want) == 0 : OGR_Fld_GetType(f) == OFTString)
            z->field = i;
    }
    if (z->field >= 0 || !want)
        return CNP_OK;
    char names[400] = "";
    for (int i = 0; i < n && strlen(names) < sizeof names - 80; i++) {
        char one[80];
        cnp_ident_utf8_str(one, sizeof one, OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(fd, i)));
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", one);
    }
    return cnp_err(CNP_E_ARG, "%s '%s': layer '%s' has no field '%s' (--zone-field; its "
                   "fields: %s)", z->what, z->file, z->layer, want, n ? names : "none");
}

/* The transformations between the layer's CRS and the grid's, the window in
 * the layer's CRS, and the layer's extent. */
static cnp_status set_up_crs(cnp_zone_source *z, const char *wkt, const double gt[6],
                             const int win[4])
{
    OGRSpatialReferenceH own = OGR_L_GetSpatialRef(z->lyr);
    if (!own)
        return cnp_err(CNP_E_DATA, "%s '%s': layer '%s' has no CRS (a Shapefile needs its "
                       ".prj): say which with ogr2ogr -a_srs", z->what, z->file, z->layer);
    OGRSpatialReferenceH ls = OSRClone(own), gs = OSRNewSpatialReference(wkt);
    OGRCoordinateTransformationH back = NULL;
    cnp_status st = CNP_OK;
    if (ls && gs) {
        OSRSetAxisMappingStrategy(ls, OAMS_TRADITIONAL_GIS_ORDER);
        OSRSetAxisMappingStrategy(gs, OAMS_TRADITIONAL_GIS_ORDER);
        CPLPushErrorHandler(CPLQuietErrorHandler);
        z->to_grid = OCTNewCoordinateTransformation(ls, gs);
        back = OCTNewCoordinateTransformation(gs, ls);
        CPLPopErrorHandler();
    }
    const double x0 = gt[0] + win[0] * gt[1], x1 = gt[0] + (win[0] + win[2]) * gt[1];
    const double y0 = gt[3] + win[1] * gt[5], y1 = gt[3] + (win[1] + win[3]) * gt[5];
    if (!z->to_grid || !back)
        st = cnp_err(CNP_E_DATA, "%s '%s': its CRS cannot be transformed to the scene's "
                     "(unknown to PROJ?)", z->what, z->file);
    else if (!OCTTransformBounds(back, fmin(x0, x1), fmin(y0, y1), fmax(x0, x1), fmax(y0, y1),
                                 &z->filt[0], &z->filt[1], &z->filt[2], &z->filt[3], 21) &&
             (z->misses = z->may_miss) == 0)
        st = cnp_err(CNP_E_DATA, "%s '%s': the scene's extent cannot be transformed to the "
                     "layer's CRS", z->what, z->file);
    if (back)
        OCTDestroyCoordinateTransformation(back);
    OSRDestroySpatialReference(ls);
    OSRDestroySpatialReference(gs);
    if (st != CNP_OK)
        return st;
    OGREnvelope e;
    if (OGR_L_GetExtent(z->lyr, &e, 1) != OGRERR_NONE)
        return cnp_err(CNP_E_DATA, "%s '%s': layer '%s' is empty", z->what, z->file, z->layer);
    z->ext[0] = e.MinX, z->ext[1] = e.MinY, z->ext[2] = e.MaxX, z->ext[3] = e.MaxY;
    if ((e.MaxX < z->filt[0] || e.MinX > z->filt[2] || e.MaxY < z->filt[1] || e.MinY > z->filt[3]) &&
        (z->misses = z->may_miss) == 0)
        return cnp_err(CNP_E_DATA, "%s '%s': layer '%s' does not overlap the scene (its "
                       "extent %.6g,%.6g - %.6g,%.6g lies outside the scene's in its CRS)",
                       z->what, z->file, z->layer, e.MinX, e.MinY, e.MaxX, e.MaxY);
    return CNP_OK;
}

static cnp_status source_open(const char *what, const char *spec, const char *field,
                              const char *wkt, const double gt[6], const int win[4],
                              int may_miss, cnp_zone_source **out)
{
    cnp_zone_source *z = calloc(1, sizeof *z);
    char *want = NULL;
    cnp_status st = CNP_OK;
    *out = NULL;
    if (!z)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    z->what = what;
    z->may_miss = may_miss;
    cnp_err_gdal_reset();
    z->ds = open_spec(spec, &z->file, &want);
    if (!z->file)
        st = cnp_err(CNP_E_NOMEM, "out of memory");
    else if (!z->ds)
        st = cnp_err(CNP_E_IO, "%s '%s': cannot open it as a vector layer: %s", what, spec,
                     cnp_err_gdal_reason());
    if (st == CNP_OK && (st = pick_layer(z, want)) == CNP_OK &&
        (st = pick_field(z, field)) == CNP_OK)
        st = set_up_crs(z, wkt, gt, win);
    free(want);
    if (st != CNP_OK) {
        cnp_zone_source_close(&z);
        return st;
    }
    *out = z;
    return CNP_OK;
}

cnp_status cnp_zone_source_open(const char *what, const char *spec, const char *field,
                                const char *wkt, const double gt[6], const int win[4],
                                cnp_zone_source **out)
{
    return source_open(what, spec, field, wkt, gt, win, 0, out);
}

cnp_status cnp_zone_source_open_any(const char *what, const char *spec, const char *field,
                                    const char *wkt, const double gt[6], const int win[4],
                                    cnp_zone_source **out)
{
    return source_open(what, spec, field, wkt, gt, win, 1, out);
}

void cnp_zone_source_close(cnp_zone_source **pz)
{
    if (!pz || !*pz)
        return;
    cnp_zone_source *z = *pz;
    if (z->to_grid)
        OCTDestroyCoordinateTransformation(z->to_grid);
    if (z->ds)
        GDALClose(z->ds);
    free(z->file);
    free(z->layer);
    free(z);
    *pz = NULL;
}

const char *cnp_zone_source_layer(const cnp_zone_source *z) { return z->layer; }

cnp_status cnp_zone_source_qualify(cnp_zone_source *z)
{
    const char *slash = strrchr(z->file, '/');
    char *q = NULL;
    if (asprintf(&q, "%s:%s", slash ? slash + 1 : z->file, z->layer) < 0)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    char *u = cnp_ident_utf8_dup(q);
    free(q);
    if (!u)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    free(z->layer);
    z->layer = u;
    return CNP_OK;
}

cnp_status cnp_zone_source_about(cnp_zone_source *z, cnp_zone_about *a)
{
    memset(a, 0, sizeof *a);
    snprintf(a->layer, sizeof a->layer, "%s", z->layer);
    if (z->field >= 0)
        cnp_ident_utf8_str(a->field, sizeof a->field,
                           OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(OGR_L_GetLayerDefn(z->lyr),
                                                                  z->field)));
    else
        snprintf(a->field, sizeof a->field, "(feature ids)");
    OGRSpatialReferenceH s = OGR_L_GetSpatialRef(z->lyr);
    const char *name = s ? OSRGetName(s) : NULL, *auth = s ? OSRGetAuthorityName(s, NULL) : NULL;
    const char *code = s ? OSRGetAuthorityCode(s, NULL) : NULL;
    char crs[320];
    if (auth && code)
        snprintf(crs, sizeof crs, "%s (%s:%s)", name ? name : "unnamed", auth, code);
    else
        snprintf(crs, sizeof crs, "%s", name ? name : "unnamed");
    cnp_ident_utf8_str(a->crs, sizeof a->crs, crs);
    a->features = OGR_L_GetFeatureCount(z->lyr, 1);
    OGR_L_SetSpatialFilterRect(z->lyr, z->filt[0], z->filt[1], z->filt[2], z->filt[3]);
    a->in_window = OGR_L_GetFeatureCount(z->lyr, 1);
    OGR_L_SetSpatialFilter(z->lyr, NULL);
    const double *e = z->ext, *f = z->filt;
    const double ix = fmin(e[2], f[2]) - fmax(e[0], f[0]), iy = fmin(e[3], f[3]) - fmax(e[1], f[1]);
    const double area = (e[2] - e[0]) * (e[3] - e[1]);
    a->overlap = ix <= 0 || iy <= 0 ? 0 : area > 0 ? fmin(1, ix * iy / area) : 1;
    return CNP_OK;
}

/* ---- meeting the alerts -------------------------------------------------- */

/* The alerts' envelopes in a grid of cells over their union: a zone's
 * envelope visits the cells it covers, not every alert. */
typedef struct alert_index {
    double  (*env)[4];                  /* per alert: min x, min y, max x, max y */
    double   x0, y0, cw, ch;            /* the grid's origin and cell size       */
    int      nx, ny;
    size_t  *start, *item;              /* cell c's alerts: item[start[c] .. start[c + 1]) */
    size_t  *stamp;                     /* the last zone that looked at alert i, + 1 */
} alert_index;

static void cell_range(const alert_index *ix, const double e[4], int c[4])
{
    c[0] = (int)floor((e[0] - ix->x0) / ix->cw);
    c[1] = (int)floor((e[1] - ix->y0) / ix->ch);
    c[2] = (int)floor((e[2] - ix->x0) / ix->cw);
    c[3] = (int)floor((e[3] - ix->y0) / ix->ch);
    c[0] = c[0] < 0 ? 0 : c[0] >= ix->nx ? ix->nx - 1 : c[0];
    c[2] = c[2] < 0 ? 0 : c[2] >= ix->nx ? ix->nx - 1 : c[2];
    c[1] = c[1] < 0 ? 0 : c[1] >= ix->ny ? ix->ny - 1 : c[1];
    c[3] = c[3] < 0 ? 0 : c[3] >= ix->ny ? ix->ny - 1 : c[3];
}

static cnp_status index_build(alert_index *ix, const cnp_geometry *const *alerts, size_t n)
{
    memset(ix, 0, sizeof *ix);
    ix->env = calloc(n + 1, sizeof *ix->env);
    ix->stamp = calloc(n + 1, sizeof *ix->stamp);
    if (!ix->env || !ix->stamp)
        return cnp_err(CNP_E_NOMEM, "out of memory for the zones");
    double u[4] = { INFINITY, INFINITY, -INFINITY, -INFINITY };
    for (size_t i = 0; i < n; i++) {
        OGREnvelope e;
        if (!alerts[i])
            continue;
        OGR_G_GetEnvelope((OGRGeometryH)(uintptr_t)alerts[i], &e);
        ix->env[i][0] = e.MinX, ix->env[i][1] = e.MinY, ix->env[i][2] = e.MaxX, ix->env[i][3] = e.MaxY;
        u[0] = fmin(u[0], e.MinX), u[1] = fmin(u[1], e.MinY);
        u[2] = fmax(u[2], e.MaxX), u[3] = fmax(u[3], e.MaxY);
    }
    /* About one alert a cell. */
    const int side = n ? (int)fmin(1024, ceil(sqrt((double)n))) : 1;
    ix->nx = ix->ny = side;
    ix->x0 = n ? u[0] : 0, ix->y0 = n ? u[1] : 0;
    ix->cw = n && u[2] > u[0] ? (u[2] - u[0]) / side : 1;
    ix->ch = n && u[3] > u[1] ? (u[3] - u[1]) / side : 1;
    const size_t ncell = (size_t)side * side;
    size_t total = 0;
    ix->start = calloc(ncell + 1, sizeof *ix->start);
    if (!ix->start)
        return cnp_err(CNP_E_NOMEM, "out of memory for the zones");
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            int c[4];
            if (!alerts[i])
                continue;
            cell_range(ix, ix->env[i], c);
            for (int y = c[1]; y <= c[3]; y++)
                for (int x = c[0]; x <= c[2]; x++) {
                    const size_t cell = (size_t)y * side + x;
                    if (pass == 0)
                        ix->start[cell + 1]++;
                    else
                        ix->item[ix->start[cell]++] = i;
                }
        }
        if (pass == 0) {
            for (size_t c = 0; c < ncell; c++)
                ix->start[c + 1] += ix->start[c];
            total = ix->start[ncell];
            if (!(ix->item = malloc((total + 1) * sizeof *ix->item)))
                return cnp_err(CNP_E_NOMEM, "out of memory for the zones");
        } else {
            /* start[c] moved to the end of cell c: shift back. */
            memmove(ix->start + 1, ix->start, ncell * sizeof *ix->start);
            ix->start[0] = 0;
        }
    }
    return CNP_OK;
}

static void index_free(alert_index *ix)
{
    free(ix->env);
    free(ix->stamp);
    free(ix->start);
    free(ix->item);
}

/* What streaming gathers: one entry per feature met (its layer and label),
 * and the hits against those entries. */
typedef struct gather {
    cnp_zone     *zone;
    size_t        nzone, capzone;
    cnp_zone_hit *hit;
    size_t        nhit, caphit;
} gather;

static cnp_status add_zone(gather *gt, const cnp_zone_source *z, OGRFeatureH f)
{
    if (gt->nzone == gt->capzone) {
        const size_t cap = gt->capzone ? 2 * gt->capzone : 256;
        cnp_zone *p = realloc(gt->zone, cap * sizeof *p);
        if (!p)
            return cnp_err(CNP_E_NOMEM, "out of memory for the zones");
        gt->zone = p;
        gt->capzone = cap;
    }
    char fid[32];
    const char *label = z->field >= 0 && OGR_F_IsFieldSetAndNotNull(f, z->field)
                            ? OGR_F_GetFieldAsString(f, z->field) : "";
    if (!*label) {
        snprintf(fid, sizeof fid, "#%lld", (long long)OGR_F_GetFID(f));
        label = fid;
    }
    cnp_zone *e = &gt->zone[gt->nzone];
    memset(e, 0, sizeof *e);
    e->layer = z->layer;                /* borrowed until the zones are merged */
    if (!(e->name = cnp_ident_utf8_dup(label)))
        return cnp_err(CNP_E_NOMEM, "out of memory for the zones");
    gt->nzone++;
    return CNP_OK;
}

static cnp_status add_hit(gather *gt, size_t alert, double area_m2)
{
    if (gt->nhit == gt->caphit) {
        const size_t cap = gt->caphit ? 2 * gt->caphit : 256;
        cnp_zone_hit *p = realloc(gt->hit, cap * sizeof *p);
        if (!p)
            return cnp_err(CNP_E_NOMEM, "out of memory for the zones");
        gt->hit = p;
        gt->caphit = cap;
    }
    gt->hit[gt->nhit++] = (cnp_zone_hit){ alert, gt->nzone - 1, area_m2 / 1e4 };
    return CNP_OK;
}

/* A feature's outline on the grid, areal and valid; NULL when it has none
 * (counted in m). */
static cnp_status zone_geometry(const cnp_zone_source *z, OGRFeatureH f, cnp_zone_match *m,
                                OGRGeometryH *out)
{
    OGRGeometryH g = OGR_F_StealGeometry(f);
    *out = NULL;
    if (!g || OGR_G_IsEmpty(g)) {
        OGR_G_DestroyGeometry(g);
        return CNP_OK;
    }
    if (OGR_G_HasCurveGeometry(g, 0)) {
        OGRGeometryH lin = OGR_G_GetLinearGeometry(g, 0, NULL);
        OGR_G_DestroyGeometry(g);
        g = lin;
    }
    if (!g || OGR_G_GetDimension(g) != 2) {
        m->not_areal++;
        OGR_G_DestroyGeometry(g);
        return CNP_OK;
    }
    if (OGR_G_Transform(g, z->to_grid) != OGRERR_NONE) {
        OGR_G_DestroyGeometry(g);
        return cnp_err(CNP_E_DATA, "%s '%s': feature %lld cannot be transformed to the "
                       "scene's CRS", z->what, z->file, (long long)OGR_F_GetFID(f));
    }
    CPLPushErrorHandler(CPLQuietErrorHandler);
    const int valid = OGR_G_IsValid(g);
    CPLPopErrorHandler();
    if (!valid) {
        OGRGeometryH fixed = OGR_G_MakeValid(g);
        OGR_G_DestroyGeometry(g);
        if (!fixed)
            return cnp_err(CNP_E_DATA, "%s '%s': feature %lld is an invalid polygon that "
                           "OGR_G_MakeValid cannot repair", z->what, z->file, (long long)OGR_F_GetFID(f));
        g = fixed;
        m->repaired++;
    }
    *out = g;
    return CNP_OK;
}

/* One feature against the alerts its envelope meets. */
static cnp_status meet(alert_index *ix, const cnp_geometry *const *alerts, OGRGeometryH zg,
                       size_t serial, cnp_geom_ctx *g, gather *gt)
{
    OGREnvelope e;
    OGR_G_GetEnvelope(zg, &e);
    const double ze[4] = { e.MinX, e.MinY, e.MaxX, e.MaxY };
    int c[4];
    cell_range(ix, ze, c);
    cnp_status st = CNP_OK;
    for (int y = c[1]; y <= c[3] && st == CNP_OK; y++)
        for (int x = c[0]; x <= c[2] && st == CNP_OK; x++) {
            const size_t cell = (size_t)y * ix->nx + x;
            for (size_t k = ix->start[cell]; k < ix->start[cell + 1] && st == CNP_OK; k++) {
                const size_t i = ix->item[k];
                const double *ae = ix->env[i];
                if (ix->stamp[i] == serial + 1 || ae[2] < ze[0] || ae[0] > ze[2] ||
                    ae[3] < ze[1] || ae[1] > ze[3])
                    continue;
                ix->stamp[i] = serial + 1;
                OGRGeometryH ag = (OGRGeometryH)(uintptr_t)alerts[i];
                if (!OGR_G_Intersects(ag, zg))
                    continue;
                OGRGeometryH in = OGR_G_Intersection(ag, zg);
                double a = 0;
                if (in && (st = cnp_geom_area_m2(g, (cnp_geometry *)in, &a)) == CNP_OK && a > 0)
                    st = add_hit(gt, i, a);
                OGR_G_DestroyGeometry(in);
            }
        }
    return st;
}

static cnp_status stream_layer(cnp_zone_source *z, alert_index *ix,
                               const cnp_geometry *const *alerts, cnp_geom_ctx *g, gather *gt,
                               cnp_zone_match *m)
{
    cnp_status st = CNP_OK;
    OGRFeatureH f;
    if (z->misses)
        return CNP_OK;
    OGR_L_SetSpatialFilterRect(z->lyr, z->filt[0], z->filt[1], z->filt[2], z->filt[3]);
    OGR_L_ResetReading(z->lyr);
    while (st == CNP_OK && (f = OGR_L_GetNextFeature(z->lyr)) != NULL) {
        OGRGeometryH zg = NULL;
        m->features++;
        if ((st = zone_geometry(z, f, m, &zg)) == CNP_OK && zg &&
            (st = add_zone(gt, z, f)) == CNP_OK)
            st = meet(ix, alerts, zg, (size_t)m->features, g, gt);
        OGR_G_DestroyGeometry(zg);
        OGR_F_Destroy(f);
    }
    OGR_L_SetSpatialFilter(z->lyr, NULL);
    return st;
}

cnp_status cnp_zone_source_union(cnp_zone_source *z, cnp_geometry **out, int64_t *repaired)
{
    cnp_zone_match m;
    cnp_status st = CNP_OK;
    OGRFeatureH f;
    OGRGeometryH all = OGR_G_CreateGeometry(wkbMultiPolygon);
    memset(&m, 0, sizeof m);
    *out = NULL;
    OGR_L_SetSpatialFilterRect(z->lyr, z->filt[0], z->filt[1], z->filt[2], z->filt[3]);
    OGR_L_ResetReading(z->lyr);
    while (st == CNP_OK && (f = OGR_L_GetNextFeature(z->lyr)) != NULL) {
        OGRGeometryH g = NULL;
        if ((st = zone_geometry(z, f, &m, &g)) == CNP_OK && g) {
            const OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
            for (int i = 0, n = t == wkbPolygon ? 1 : OGR_G_GetGeometryCount(g); i < n; i++) {
                OGRGeometryH part = t == wkbPolygon ? g : OGR_G_GetGeometryRef(g, i);
                if (wkbFlatten(OGR_G_GetGeometryType(part)) == wkbPolygon)
                    OGR_G_AddGeometry(all, part);
                else if (wkbFlatten(OGR_G_GetGeometryType(part)) == wkbMultiPolygon)
                    for (int k = 0; k < OGR_G_GetGeometryCount(part); k++)
                        OGR_G_AddGeometry(all, OGR_G_GetGeometryRef(part, k));
            }
        }
        OGR_G_DestroyGeometry(g);
        OGR_F_Destroy(f);
    }
    OGR_L_SetSpatialFilter(z->lyr, NULL);
    *repaired = m.repaired;
    /* Overlapping parts would count twice: their union, once. */
    OGRGeometryH u = st == CNP_OK && !OGR_G_IsEmpty(all) ? OGR_G_UnionCascaded(all) : NULL;
    OGR_G_DestroyGeometry(all);
    if (st == CNP_OK && u && !OGR_G_IsEmpty(u))
        *out = (cnp_geometry *)u;
    else
        OGR_G_DestroyGeometry(u);
    return st;
}

/* ---- the result, sorted --------------------------------------------------- */

static int layer_order(const char *a, const char *b, const char *const *order, size_t n)
{
    size_t ia = 0, ib = 0;
    for (size_t i = 0; i < n; i++) {
        ia = order[i] == a ? i : ia;
        ib = order[i] == b ? i : ib;
    }
    return (ia > ib) - (ia < ib);
}

/* qsort has no context argument: the layers' order while sorting. */
static const char *const *g_layers;
static size_t g_nlayers;

typedef struct zone_ref { cnp_zone *z; size_t at; } zone_ref;

static int cmp_zone(const void *pa, const void *pb)
{
    const zone_ref *a = pa, *b = pb;
    const int l = layer_order(a->z->layer, b->z->layer, g_layers, g_nlayers);
    if (l)
        return l;
    const int c = strcmp(a->z->name, b->z->name);
    return c ? c : (a->at > b->at) - (a->at < b->at);
}

static int cmp_hit(const void *pa, const void *pb)
{
    const cnp_zone_hit *a = pa, *b = pb;
    if (a->alert != b->alert)
        return (a->alert > b->alert) - (a->alert < b->alert);
    return (a->zone > b->zone) - (a->zone < b->zone);
}

/* Entries of one label become one zone; hits follow. */
static cnp_status merge_zones(gather *gt, cnp_zone_match *m, cnp_zone_source *const *src,
                              size_t nsrc)
{
    zone_ref *ref = malloc((gt->nzone + 1) * sizeof *ref);
    size_t *to = malloc((gt->nzone + 1) * sizeof *to);
    const char **order = malloc((nsrc + 1) * sizeof *order);
    m->zone = calloc(gt->nzone + 1, sizeof *m->zone);
    if (!ref || !to || !order || !m->zone) {
        free(ref), free(to), free(order);
        return cnp_err(CNP_E_NOMEM, "out of memory for the zones");
    }
    for (size_t i = 0; i < nsrc; i++)
        order[i] = src[i]->layer;
    for (size_t i = 0; i < gt->nzone; i++)
        ref[i] = (zone_ref){ &gt->zone[i], i };
    g_layers = order, g_nlayers = nsrc;
    qsort(ref, gt->nzone, sizeof *ref, cmp_zone);
    cnp_status st = CNP_OK;
    for (size_t i = 0; i < gt->nzone && st == CNP_OK; i++) {
        cnp_zone *e = ref[i].z;
        cnp_zone *last = m->nzone ? &m->zone[m->nzone - 1] : NULL;
        if (!last || strcmp(last->name, e->name) != 0 ||
            layer_order(last->layer, e->layer, order, nsrc) != 0) {
            cnp_zone *nz = &m->zone[m->nzone++];
            nz->name = e->name;
            e->name = NULL;
            if (!(nz->layer = strdup(e->layer)))
                st = cnp_err(CNP_E_NOMEM, "out of memory for the zones");
        }
        to[ref[i].at] = m->nzone - 1;
    }
    for (size_t i = 0; i < gt->nhit; i++)
        gt->hit[i].zone = to[gt->hit[i].zone];
    free(ref), free(to), free(order);
    return st;
}

/* Hits of one alert and zone summed, rounded to the 4 decimals alerts'
 * areas have; those that round to nothing dropped; the zones' totals. */
static void merge_hits(gather *gt, cnp_zone_match *m)
{
    if (gt->nhit)       /* qsort(NULL, 0, ...) is undefined */
        qsort(gt->hit, gt->nhit, sizeof *gt->hit, cmp_hit);
    size_t n = 0;
    for (size_t i = 0; i < gt->nhit;) {
        cnp_zone_hit h = gt->hit[i++];
        while (i < gt->nhit && gt->hit[i].alert == h.alert && gt->hit[i].zone == h.zone)
            h.area_ha += gt->hit[i++].area_ha;
        h.area_ha = round(h.area_ha * 1e4) / 1e4;
        if (h.area_ha > 0)
            gt->hit[n++] = h;
    }
    m->hit = gt->hit;
    m->nhit = n;
    gt->hit = NULL;
    for (size_t i = 0; i < n; i++) {
        m->zone[m->hit[i].zone].alerts++;
        m->zone[m->hit[i].zone].area_ha += m->hit[i].area_ha;
    }
    for (size_t z = 0; z < m->nzone; z++)
        m->zone[z].area_ha = round(m->zone[z].area_ha * 1e4) / 1e4;
}

/* `s` into f with '\', ';', ':' (and '/' when `slash`) after a '\'. */
static void put_escaped(FILE *f, const char *s, int slash)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == ';' || *s == ':' || (slash && *s == '/'))
            fputc('\\', f);
        fputc(*s, f);
    }
}

/* Each alert's "name:ha;name:ha" ("layer/name:ha" with several layers). */
static cnp_status alert_texts(cnp_zone_match *m)
{
    m->first = calloc(m->nalerts + 1, sizeof *m->first);
    m->text = calloc(m->nalerts + 1, sizeof *m->text);
    if (!m->first || !m->text)
        return cnp_err(CNP_E_NOMEM, "out of memory for the zones");
    size_t h = 0;
    for (size_t a = 0; a < m->nalerts; a++) {
        size_t len = 0;
        FILE *f = open_memstream(&m->text[a], &len);
        if (!f)
            return cnp_err(CNP_E_NOMEM, "out of memory for the zones");
        m->first[a] = h;
        for (; h < m->nhit && m->hit[h].alert == a; h++) {
            const cnp_zone *z = &m->zone[m->hit[h].zone];
            if (h > m->first[a])
                fputc(';', f);
            if (m->nlayers > 1) {
                put_escaped(f, z->layer, 1);
                fputc('/', f);
            }
            put_escaped(f, z->name, m->nlayers > 1);
            fprintf(f, ":%.4f", m->hit[h].area_ha);
        }
        if (fclose(f) != 0)
            return cnp_err(CNP_E_NOMEM, "out of memory for the zones");
    }
    m->first[m->nalerts] = h;
    return CNP_OK;
}

cnp_status cnp_zones_match(cnp_zone_source *const *src, size_t nsrc, cnp_geom_ctx *g,
                           const cnp_geometry *const *alerts, size_t nalerts,
                           cnp_zone_match *m)
{
    alert_index ix;
    gather gt = { 0 };
    memset(m, 0, sizeof *m);
    m->given = nsrc > 0;
    m->nlayers = nsrc;
    m->nalerts = nalerts;
    cnp_status st = index_build(&ix, alerts, nalerts);
    for (size_t s = 0; s < nsrc && st == CNP_OK; s++)
        st = stream_layer(src[s], &ix, alerts, g, &gt, m);
    index_free(&ix);
    if (st == CNP_OK)
        st = merge_zones(&gt, m, src, nsrc);
    if (st == CNP_OK)
        merge_hits(&gt, m);
    if (st == CNP_OK)
        st = alert_texts(m);
    for (size_t i = 0; i < gt.nzone; i++)
        free(gt.zone[i].name);
    free(gt.zone);
    free(gt.hit);
    if (st != CNP_OK)
        cnp_zone_match_free(m);
    return st;
}

void cnp_zone_match_free(cnp_zone_match *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nzone; i++) {
        free(m->zone[i].layer);
        free(m->zone[i].name);
    }
    for (size_t i = 0; m->text && i < m->nalerts; i++)
        free(m->text[i]);
    free(m->zone);
    free(m->hit);
    free(m->first);
    free(m->text);
    memset(m, 0, sizeof *m);
}
