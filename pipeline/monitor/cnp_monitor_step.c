/* pipeline/monitor/cnp_monitor_step.c - one scene applied to one footprint.
 *
 * The footprint's state rasters (GeoTIFFs on its grid, 256 x 256 blocks) are
 * streamed tile by tile: each tile of the previous state and of the scene
 * (warped onto the grid by cnp_raster when it is not on it) is read, updated
 * by the kernel (kernels/cnp_monitor) and written to a new set of files in a
 * step folder; the previous files are never modified. Memory is the tile
 * buffers plus the runs of alert pixels (proportional to the alerts, not to
 * the scene).
 *
 * Pass 1 also collects the runs of alert pixels (PROBABLE or CONFIRMED) and
 * labels them into connected components across tile borders (cnp_runs); a
 * component with pixels that have no alert id yet takes the id of the oldest
 * alert it touches, or a new one when it has none and reaches the minimum
 * mapping unit (cnp_monitor_assign_ids). Pass 2, only when some pixel got an
 * id, writes the final alert-id raster. Alerts whose pixels changed are then
 * traced (cnp_trace) into MultiPolygons in WGS84.
 */
#include "cnp_monitor_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <openssl/evp.h>

#include "cnp_err.h"
#include "cnp_gdal.h"
#include "cnp_geom.h"
#include "cnp_monitor.h"
#include "cnp_raster.h"
#include "cnp_runs.h"
#include "cnp_trace.h"

enum { TILE = 256 };

/* The state files of a footprint: name, bands, type. */
enum { F_NDVI = 0, F_DATE, F_PIXEL, F_ID, NFILES };
static const struct { const char *name; int bands; GDALDataType type; const char *desc[3]; }
    files[NFILES] = {
    { "ndvi.tif", 2, GDT_Float32, { "baseline_ndvi", "loss_dndvi", NULL } },
    { "date.tif", 1, GDT_Int32, { "baseline_date_yyyymmdd", NULL, NULL } },
    { "pixel.tif", 3, GDT_Byte, { "state", "n_observations", "n_loss" } },
    { "alert_id.tif", 1, GDT_UInt32, { "alert_seq", NULL, NULL } },
};

/* A run of alert pixels found in one tile, with what its pixels without an
 * alert id contribute (they get the id of the component later). */
typedef struct run_acc {
    uint32_t min_id;                     /* smallest nonzero id in the run   */
    int64_t  unassigned, u_prob, u_conf, u_clear, u_cloudy, u_nodata;
    double   u_sum_dndvi, u_sum_loss, u_sum_x, u_sum_y;
} run_acc;

typedef struct tile_run {
    int32_t y, x0, x1;
    run_acc a;
    size_t  first_seg, nseg;             /* its id segments in tile_segs     */
} tile_run;

/* A piece of a run with one alert id (0 = none yet; `run` then says which
 * run of the footprint it belongs to). */
typedef struct id_seg {
    int32_t  y, x0, x1;
    uint32_t id;
    uint32_t run;
} id_seg;

/* Per alert id: what this scene saw of it and what it holds afterwards. */
typedef struct id_acc {
    int64_t o_clear, o_cloudy, o_nodata;
    double  o_sum_dndvi;
    int64_t ev_support, ev_confirm, ev_contradict, ev_reject;
    int64_t prob, conf, grown;
    double  sum_loss, sum_x, sum_y;
} id_acc;

typedef struct step {
    mon_ctx         *c;
    mon_fp          *fp;
    const mon_input *in;
    cnp_scene       *sc;
    int              win[4];
    int32_t          date;
    char             dir[4200];
    GDALDatasetH     prev[NFILES], out[NFILES];
    cnp_reader      *rd;
    /* tile buffers */
    float          *red, *nir, *ndvi, *base2, *dndvi;
    uint8_t        *observed, *obs, *pix3, *event;
    int32_t        *bdate;
    uint32_t       *id, *idprev;
    /* pass 1 */
    cnp_runs        act;
    run_acc        *ra;   size_t ra_cap;
    id_seg         *segs; size_t nsegs, segs_cap;
    id_acc         *acc;  size_t nacc;
    tile_run       *tr;   size_t ntr, tr_cap;
    id_seg         *ts;   size_t nts, ts_cap;
    size_t         *tr_first, *tr_pos;
    cnp_monitor_counts counts;
    int             scene_error;        /* the failure was in reading the scene */
} step;

static cnp_status grow(void **p, size_t *cap, size_t need, size_t elem)
{
    return cnp_grow(p, cap, need, elem, "a monitor step");
}

static double round_to(double v, double scale) { return round(v * scale) / scale; }

static int32_t date_num(const char *d)
{
    int y, m, dd;
    return sscanf(d, "%4d-%2d-%2d", &y, &m, &dd) == 3 ? y * 10000 + m * 100 + dd : 0;
}

/* ---- state rasters ----------------------------------------------------------- */

static cnp_status close_checked(GDALDatasetH *ds, const char *path)
{
    if (!*ds)
        return CNP_OK;
    cnp_err_gdal_reset();
    CPLErrorReset();
    GDALClose(*ds);
    *ds = NULL;
    if (CPLGetLastErrorType() >= CE_Failure || *cnp_err_gdal_msg())
        return cnp_err(CNP_E_IO, "writing '%s': %s", path, cnp_err_gdal_reason());
    return CNP_OK;
}

static cnp_status create_file(step *s, int f)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", s->dir, files[f].name);
    static const char *const opt_list[] = { "TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256",
                                            "COMPRESS=DEFLATE", "ZLEVEL=1", NULL };
    char **opts = NULL;
    for (const char *const *o = opt_list; *o; o++)
        opts = CSLAddString(opts, *o);
    cnp_err_gdal_reset();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, s->fp->width,
                                 s->fp->height, files[f].bands, files[f].type, opts);
    CSLDestroy(opts);
    if (!ds)
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", path, cnp_err_gdal_reason());
    GDALSetGeoTransform(ds, s->fp->gt);
    GDALSetProjection(ds, s->fp->wkt);
    for (int b = 0; b < files[f].bands; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
        GDALSetDescription(band, files[f].desc[b]);
        if (files[f].type == GDT_Float32)
            GDALSetRasterNoDataValue(band, NAN);
    }
    s->out[f] = ds;
    return CNP_OK;
}

static cnp_status open_prev(step *s, int f)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", s->fp->dir, files[f].name);
    cnp_err_gdal_reset();
    s->prev[f] = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                            NULL, NULL, NULL);
    if (!s->prev[f])
        return cnp_err(CNP_E_IO, "state of footprint %s: cannot open '%s': %s", s->fp->key,
                       path, cnp_err_gdal_reason());
    if (GDALGetRasterXSize(s->prev[f]) != s->fp->width ||
        GDALGetRasterYSize(s->prev[f]) != s->fp->height ||
        GDALGetRasterCount(s->prev[f]) != files[f].bands)
        return cnp_err(CNP_E_DATA, "state of footprint %s: '%s' does not match the footprint's "
                       "grid", s->fp->key, path);
    return CNP_OK;
}

static cnp_status rio(GDALDatasetH ds, GDALRWFlag rw, int x0, int y0, int w, int h,
                      GDALDataType t, int nb, void *buf, const char *what)
{
    cnp_err_gdal_reset();
    if (GDALDatasetRasterIO(ds, rw, x0, y0, w, h, buf, w, h, t, nb, NULL, 0, 0, 0) != CE_None)
        return cnp_err(CNP_E_IO, "%s state file '%s' at %d,%d: %s",
                       rw == GF_Read ? "reading" : "writing", what, x0, y0, cnp_err_gdal_reason());
    return CNP_OK;
}

/* ---- pass 1 ---------------------------------------------------------------- */

static int is_active(uint8_t state)
{
    return state == CNP_PIX_PROBABLE || state == CNP_PIX_CONFIRMED;
}

static cnp_status acc_reserve(step *s, size_t n)
{
    if (n <= s->nacc)
        return CNP_OK;
    id_acc *p = realloc(s->acc, n * sizeof *p);
    if (!p)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    memset(p + s->nacc, 0, (n - s->nacc) * sizeof *p);
    s->acc = p;
    s->nacc = n;
    return CNP_OK;
}

static cnp_status process_tile(step *s, int x0, int y0, int tw, int th)
{
    const size_t n = (size_t)tw * (size_t)th;
    float *base = s->base2, *loss = s->base2 + n;
    uint8_t *state = s->pix3, *nobs = s->pix3 + n, *nloss = s->pix3 + 2 * n;
    cnp_status st;

    /* The scene, or nothing where it does not reach. */
    const int inside = x0 < s->win[0] + s->win[2] && x0 + tw > s->win[0] &&
                       y0 < s->win[1] + s->win[3] && y0 + th > s->win[1];
    if (inside) {
        if ((st = cnp_reader_read(s->rd, x0, y0, tw, th, s->red, s->nir, s->observed)) !=
            CNP_OK) {
            s->scene_error = 1;
            return st;
        }
        if (cnp_monitor_observe(&s->sc->radiometry, s->red, s->nir, s->observed, n, s->ndvi,
                                s->obs) != CNP_OK)
            return cnp_err(CNP_E_ARG, "NDVI of a tile failed");
    } else {
        for (size_t i = 0; i < n; i++) {
            s->ndvi[i] = NAN;
            s->obs[i] = CNP_OBS_NODATA;
        }
    }

    if (s->prev[F_NDVI]) {
        if ((st = rio(s->prev[F_NDVI], GF_Read, x0, y0, tw, th, GDT_Float32, 2, s->base2,
                      files[F_NDVI].name)) != CNP_OK ||
            (st = rio(s->prev[F_DATE], GF_Read, x0, y0, tw, th, GDT_Int32, 1, s->bdate,
                      files[F_DATE].name)) != CNP_OK ||
            (st = rio(s->prev[F_PIXEL], GF_Read, x0, y0, tw, th, GDT_Byte, 3, s->pix3,
                      files[F_PIXEL].name)) != CNP_OK ||
            (st = rio(s->prev[F_ID], GF_Read, x0, y0, tw, th, GDT_UInt32, 1, s->id,
                      files[F_ID].name)) != CNP_OK)
            return st;
    } else {
        for (size_t i = 0; i < n; i++)
            base[i] = loss[i] = NAN;
        memset(s->bdate, 0, n * sizeof *s->bdate);
        memset(s->pix3, 0, 3 * n);
        memset(s->id, 0, n * sizeof *s->id);
    }
    memcpy(s->idprev, s->id, n * sizeof *s->id);

    cnp_monitor_pixels px = { n, s->ndvi, s->obs, base, s->bdate, state, nobs, nloss, loss,
                              s->id, s->dndvi, s->event };
    if (cnp_monitor_update(&s->c->rule, s->date, &px, &s->counts) != CNP_OK)
        return cnp_err(CNP_E_ARG, "monitor update of a tile failed");

    /* What the scene saw of each existing alert. */
    for (size_t i = 0; i < n; i++) {
        const uint32_t k = s->idprev[i];
        if (!k)
            continue;
        if (k >= s->nacc)
            return cnp_err(CNP_E_DATA, "state of footprint %s: alert id %u at %d,%d is beyond "
                           "the last one issued (%u)", s->fp->key, k, x0 + (int)(i % (size_t)tw),
                           y0 + (int)(i / (size_t)tw), s->fp->next_seq - 1);
        id_acc *a = &s->acc[k];
        switch (s->obs[i]) {
        case CNP_OBS_CLEAR:
            a->o_clear++;
            if (!isnan(s->dndvi[i]))
                a->o_sum_dndvi += s->dndvi[i];
            break;
        case CNP_OBS_CLOUDY: a->o_cloudy++; break;
        default:             a->o_nodata++; break;
        }
        a->ev_support += s->event[i] == CNP_EV_SUPPORT;
        a->ev_confirm += s->event[i] == CNP_EV_CONFIRM;
        a->ev_contradict += s->event[i] == CNP_EV_CONTRADICT;
        a->ev_reject += s->event[i] == CNP_EV_REJECT;
    }

    /* Runs of alert pixels, split by alert id. */
    for (int r = 0; r < th; r++) {
        const size_t row = (size_t)r * (size_t)tw;
        const int32_t y = y0 + r;
        for (int x = 0; x < tw;) {
            if (!is_active(state[row + (size_t)x])) {
                x++;
                continue;
            }
            if ((st = grow((void **)&s->tr, &s->tr_cap, s->ntr + 1, sizeof *s->tr)) != CNP_OK)
                return st;
            tile_run *t = &s->tr[s->ntr++];
            memset(t, 0, sizeof *t);
            t->y = y;
            t->x0 = x0 + x;
            t->first_seg = s->nts;
            for (; x < tw && is_active(state[row + (size_t)x]); x++) {
                const size_t i = row + (size_t)x;
                const uint32_t k = s->id[i];
                const double cx = x0 + x + 0.5, cy = y + 0.5;
                if (k) {
                    if (!t->a.min_id || k < t->a.min_id)
                        t->a.min_id = k;
                    id_acc *a = &s->acc[k];
                    a->prob += state[i] == CNP_PIX_PROBABLE;
                    a->conf += state[i] == CNP_PIX_CONFIRMED;
                    a->sum_loss += isnan(loss[i]) ? 0.0 : loss[i];
                    a->sum_x += cx;
                    a->sum_y += cy;
                } else {
                    run_acc *u = &t->a;
                    u->unassigned++;
                    u->u_prob += state[i] == CNP_PIX_PROBABLE;
                    u->u_conf += state[i] == CNP_PIX_CONFIRMED;
                    u->u_clear += s->obs[i] == CNP_OBS_CLEAR;
                    u->u_cloudy += s->obs[i] == CNP_OBS_CLOUDY;
                    u->u_nodata += s->obs[i] == CNP_OBS_NODATA;
                    if (s->obs[i] == CNP_OBS_CLEAR && !isnan(s->dndvi[i]))
                        u->u_sum_dndvi += s->dndvi[i];
                    u->u_sum_loss += isnan(loss[i]) ? 0.0 : loss[i];
                    u->u_sum_x += cx;
                    u->u_sum_y += cy;
                }
                if (s->nts > t->first_seg && s->ts[s->nts - 1].id == k &&
                    s->ts[s->nts - 1].x1 == x0 + x) {
                    s->ts[s->nts - 1].x1++;
                } else {
                    if ((st = grow((void **)&s->ts, &s->ts_cap, s->nts + 1, sizeof *s->ts)) !=
                        CNP_OK)
                        return st;
                    s->ts[s->nts++] = (id_seg){ y, x0 + x, x0 + x + 1, k, 0 };
                }
            }
            t->x1 = x0 + x;
            t->nseg = s->nts - t->first_seg;
        }
    }

    if ((st = rio(s->out[F_NDVI], GF_Write, x0, y0, tw, th, GDT_Float32, 2, s->base2,
                  files[F_NDVI].name)) != CNP_OK ||
        (st = rio(s->out[F_DATE], GF_Write, x0, y0, tw, th, GDT_Int32, 1, s->bdate,
                  files[F_DATE].name)) != CNP_OK ||
        (st = rio(s->out[F_PIXEL], GF_Write, x0, y0, tw, th, GDT_Byte, 3, s->pix3,
                  files[F_PIXEL].name)) != CNP_OK ||
        (st = rio(s->out[F_ID], GF_Write, x0, y0, tw, th, GDT_UInt32, 1, s->id,
                  "alert_id (before assignment)")) != CNP_OK)
        return st;
    return CNP_OK;
}

static void run_acc_add(run_acc *d, const run_acc *a)
{
    if (a->min_id && (!d->min_id || a->min_id < d->min_id))
        d->min_id = a->min_id;
    d->unassigned += a->unassigned;
    d->u_prob += a->u_prob;
    d->u_conf += a->u_conf;
    d->u_clear += a->u_clear;
    d->u_cloudy += a->u_cloudy;
    d->u_nodata += a->u_nodata;
    d->u_sum_dndvi += a->u_sum_dndvi;
    d->u_sum_loss += a->u_sum_loss;
    d->u_sum_x += a->u_sum_x;
    d->u_sum_y += a->u_sum_y;
}

static cnp_status push_seg(step *s, const id_seg *g, uint32_t run)
{
    if (s->nsegs) {
        id_seg *last = &s->segs[s->nsegs - 1];
        if (last->y == g->y && last->x1 == g->x0 && last->id == g->id &&
            (g->id != 0 || last->run == run)) {
            last->x1 = g->x1;
            return CNP_OK;
        }
    }
    cnp_status st = grow((void **)&s->segs, &s->segs_cap, s->nsegs + 1, sizeof *s->segs);
    if (st != CNP_OK)
        return st;
    s->segs[s->nsegs] = *g;
    s->segs[s->nsegs].run = run;
    s->nsegs++;
    return CNP_OK;
}

/* One row of tiles, then its runs merged in scan order into the footprint's. */
static cnp_status process_strip(step *s, int y0, int th, int ntiles)
{
    cnp_status st;
    s->ntr = s->nts = 0;
    for (int k = 0; k < ntiles; k++) {
        const int x0 = k * TILE, tw = s->fp->width - x0 < TILE ? s->fp->width - x0 : TILE;
        s->tr_first[k] = s->ntr;
        if ((st = process_tile(s, x0, y0, tw, th)) != CNP_OK)
            return st;
    }
    s->tr_first[ntiles] = s->ntr;
    memcpy(s->tr_pos, s->tr_first, (size_t)(ntiles + 1) * sizeof *s->tr_pos);
    for (int32_t y = y0; y < y0 + th; y++) {
        for (int k = 0; k < ntiles; k++) {
            for (; s->tr_pos[k] < s->tr_first[k + 1] && s->tr[s->tr_pos[k]].y == y;
                 s->tr_pos[k]++) {
                const tile_run *t = &s->tr[s->tr_pos[k]];
                int extended = 0;
                if ((st = cnp_runs_push(&s->act, y, t->x0, t->x1, &extended)) != CNP_OK)
                    return cnp_err(st, "out of memory for alert runs");
                if ((st = grow((void **)&s->ra, &s->ra_cap, s->act.n, sizeof *s->ra)) != CNP_OK)
                    return st;
                if (extended)
                    run_acc_add(&s->ra[s->act.n - 1], &t->a);
                else
                    s->ra[s->act.n - 1] = t->a;
                for (size_t j = 0; j < t->nseg; j++)
                    if ((st = push_seg(s, &s->ts[t->first_seg + j], (uint32_t)(s->act.n - 1))) !=
                        CNP_OK)
                        return st;
            }
        }
    }
    return CNP_OK;
}

/* ---- pass 2: the final alert ids ------------------------------------------- */

static cnp_status write_final_ids(step *s, GDALDatasetH idpre, const uint32_t *label,
                                  const uint32_t *cid, const char *path)
{
    cnp_status st = CNP_OK;
    size_t *row_first = malloc(((size_t)s->fp->height + 1) * sizeof *row_first);
    if (!row_first)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    size_t j = 0;
    for (int y = 0; y <= s->fp->height; y++) {
        while (j < s->act.n && s->act.run[j].y < y)
            j++;
        row_first[y] = j;
    }
    if ((st = create_file(s, F_ID)) != CNP_OK)
        goto done;
    for (int y0 = 0; y0 < s->fp->height && st == CNP_OK; y0 += TILE) {
        const int th = s->fp->height - y0 < TILE ? s->fp->height - y0 : TILE;
        for (int x0 = 0; x0 < s->fp->width && st == CNP_OK; x0 += TILE) {
            const int tw = s->fp->width - x0 < TILE ? s->fp->width - x0 : TILE;
            if ((st = rio(idpre, GF_Read, x0, y0, tw, th, GDT_UInt32, 1, s->id, path)) !=
                    CNP_OK ||
                (st = rio(s->out[F_PIXEL], GF_Read, x0, y0, tw, th, GDT_Byte, 1, s->pix3,
                          files[F_PIXEL].name)) != CNP_OK)
                break;
            for (int r = 0; r < th; r++) {
                size_t k = row_first[y0 + r];
                const size_t end = row_first[y0 + r + 1];
                for (int x = 0; x < tw; x++) {
                    const size_t i = (size_t)r * (size_t)tw + (size_t)x;
                    if (s->id[i] || !is_active(s->pix3[i]))
                        continue;
                    while (k < end && s->act.run[k].x1 <= x0 + x)
                        k++;
                    if (k < end && s->act.run[k].x0 <= x0 + x)
                        s->id[i] = cid[label[k]];
                }
            }
            st = rio(s->out[F_ID], GF_Write, x0, y0, tw, th, GDT_UInt32, 1, s->id,
                     files[F_ID].name);
        }
    }
done:
    free(row_first);
    return st;
}

/* ---- geometry -------------------------------------------------------------- */

static char *to_hex(const unsigned char *b, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    char *s = malloc(2 * n + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = hx[b[i] >> 4];
        s[2 * i + 1] = hx[b[i] & 15];
    }
    s[2 * n] = '\0';
    return s;
}

/* Trace runs (one alert, scan order) into a WGS84 MultiPolygon as WKB hex. */
static cnp_status trace_alert(cnp_geom_ctx *g, const cnp_run *runs, size_t n, cnp_trace_ws *ws,
                              cnp_rings *rings, char **hex, double *area_m2)
{
    cnp_status st;
    if ((st = cnp_trace_runs(runs, n, ws, rings)) != CNP_OK)
        return cnp_err(st, "tracing an alert polygon failed");
    /* In WGS84 from the same transformation as the area (pipeline/io/cnp_geom.h). */
    OGRGeometryH multi = NULL;
    double area = 0;
    st = cnp_geom_alert(g, rings, NULL, &multi, &area);
    if (st == CNP_OK) {
        const size_t len = (size_t)OGR_G_WkbSize(multi);
        unsigned char *wkb = malloc(len ? len : 1);
        if (!wkb || OGR_G_ExportToWkb(multi, wkbNDR, wkb) != OGRERR_NONE) {
            st = cnp_err(CNP_E_NOMEM, "cannot encode an alert polygon");
        } else {
            free(*hex);
            if (!(*hex = to_hex(wkb, len)))
                st = cnp_err(CNP_E_NOMEM, "out of memory");
        }
        free(wkb);
    }
    if (multi)
        OGR_G_DestroyGeometry(multi);
    *area_m2 = area;
    return st;
}

static cnp_status geo_init(cnp_geom_ctx *g, const mon_fp *fp, OGRSpatialReferenceH *srs,
                           OGRSpatialReferenceH *wgs84)
{
    cnp_geom_init(g, fp->gt, NULL);
    *srs = OSRNewSpatialReference(fp->wkt);
    *wgs84 = OSRNewSpatialReference(NULL);
    if (!*srs || !*wgs84 || OSRImportFromEPSG(*wgs84, 4326) != OGRERR_NONE)
        return cnp_err(CNP_E_DATA, "footprint %s: cannot set up its CRS", fp->key);
    OSRSetAxisMappingStrategy(*srs, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(*wgs84, OAMS_TRADITIONAL_GIS_ORDER);
    g->to_wgs84 = OCTNewCoordinateTransformation(*srs, *wgs84);
    if (!g->to_wgs84)
        return cnp_err(CNP_E_DATA, "footprint %s: no transformation to WGS84", fp->key);
    return CNP_OK;
}

/* Pixel area in m^2: exact for projected CRSs, geodesic at the centre else. */
static cnp_status pixel_area(cnp_geom_ctx *g, const mon_fp *fp, OGRSpatialReferenceH srs, double *out)
{
    if (OSRIsProjected(srs)) {
        const double u = OSRGetLinearUnits(srs, NULL);
        *out = fabs(fp->gt[1] * fp->gt[5]) * u * u;
        return CNP_OK;
    }
    const int32_t cx = fp->width / 2, cy = fp->height / 2;
    const int32_t sq[10] = { cx, cy, cx + 1, cy, cx + 1, cy + 1, cx, cy + 1, cx, cy };
    return cnp_geom_ring_area(g, sq, 5, 0, out, NULL);
}

/* ---- alerts after the scene -------------------------------------------------- */

static int cmp_seg_scan(const void *a, const void *b)
{
    const id_seg *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    if (x->y != y->y)
        return x->y < y->y ? -1 : 1;
    return (x->x0 > y->x0) - (x->x0 < y->x0);
}

static void effect_add(char *buf, size_t size, const char *w)
{
    if (buf[0])
        strncat(buf, ",", size - strlen(buf) - 1);
    strncat(buf, w, size - strlen(buf) - 1);
}

/* Update the alert records, write observation rows and trace what changed. */
static cnp_status finish_alerts(step *s, uint32_t old_next, uint32_t new_next,
                                mon_step_counts *counts)
{
    mon_fp *fp = s->fp;
    cnp_geom_ctx g;
    OGRSpatialReferenceH srs = NULL, wgs84 = NULL;
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rings;
    cnp_run *tmp = NULL;
    size_t tmp_cap = 0, *first = NULL;
    double px_area = 0;
    cnp_status st;

    cnp_rings_init(&rings);
    if (!ws)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    if ((st = geo_init(&g, fp, &srs, &wgs84)) != CNP_OK ||
        (st = pixel_area(&g, fp, srs, &px_area)) != CNP_OK)
        goto done;

    /* Segments grouped by alert id, each group in scan order. */
    if (s->nsegs)
        qsort(s->segs, s->nsegs, sizeof *s->segs, cmp_seg_scan);
    first = malloc(((size_t)new_next + 1) * sizeof *first);
    if (!first) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
        goto done;
    }
    {
        size_t j = 0;
        for (uint32_t k = 0; k <= new_next; k++) {
            while (j < s->nsegs && s->segs[j].id < k)
                j++;
            first[k] = j;
        }
    }

    for (uint32_t k = 1; k < new_next; k++) {
        const int is_new = k >= old_next;
        mon_alert *a = is_new ? NULL : mon_fp_alert(fp, k);
        if (!is_new && (!a || a->status == CNP_ALERT_REJECTED))
            continue;
        const id_acc *x = &s->acc[k];
        if (is_new && (st = mon_fp_add_alert(fp, k, &a)) != CNP_OK)
            goto done;
        const int prev = is_new ? CNP_ALERT_PROBABLE : a->status;
        const int now = cnp_monitor_alert_status(prev, x->prob, x->conf);
        const int obs = cnp_monitor_obs_status(x->o_clear, x->o_cloudy, x->o_nodata);
        mon_obs row;
        memset(&row, 0, sizeof row);
        snprintf(row.alert_id, sizeof row.alert_id, "%s", a->id);
        snprintf(row.scene_id, sizeof row.scene_id, "%s", s->in->id);
        snprintf(row.date, sizeof row.date, "%s", s->sc->date);
        snprintf(row.footprint, sizeof row.footprint, "%s", fp->key);
        row.status = obs;
        row.clear_px = x->o_clear;
        row.cloudy_px = x->o_cloudy;
        row.nodata_px = x->o_nodata;
        row.new_px = x->grown;
        row.dndvi = x->o_clear ? round_to(x->o_sum_dndvi / (double)x->o_clear, 1e4) : NAN;
        if (is_new)
            effect_add(row.effect, sizeof row.effect, "triggered");
        else if (x->grown)
            effect_add(row.effect, sizeof row.effect, "grew");
        if (x->ev_support && now != CNP_ALERT_CONFIRMED)
            effect_add(row.effect, sizeof row.effect, "supported");
        if (now == CNP_ALERT_CONFIRMED && (is_new || prev != CNP_ALERT_CONFIRMED))
            effect_add(row.effect, sizeof row.effect, "confirmed");
        if (now == CNP_ALERT_REJECTED)
            effect_add(row.effect, sizeof row.effect, "rejected");
        else if (x->ev_contradict || x->ev_reject)
            effect_add(row.effect, sizeof row.effect, "contradicted");
        if (!row.effect[0])
            snprintf(row.effect, sizeof row.effect, "%s",
                     obs == CNP_OBS_CLEAR ? "observed" : "unseen");
        if ((st = mon_outbox_add_obs(s->c->ob, &row)) != CNP_OK ||
            (st = mon_outbox_touch(s->c->ob, a->id)) != CNP_OK)
            goto done;

        if (is_new) {
            snprintf(a->first_detected, sizeof a->first_detected, "%s", s->sc->date);
            snprintf(a->first_scene, sizeof a->first_scene, "%s", s->in->id);
            a->new_in_run = 1;
            counts->alerts_new++;
            if ((st = mon_outbox_add_new(s->c->ob, a->id, "new")) != CNP_OK)
                goto done;
        } else if (x->grown) {
            counts->alerts_grown++;
        }
        if (obs == CNP_OBS_CLEAR) {
            a->n_observations++;
            snprintf(a->last_observed, sizeof a->last_observed, "%s", s->sc->date);
        }
        if (now == CNP_ALERT_CONFIRMED && (is_new || prev != CNP_ALERT_CONFIRMED)) {
            snprintf(a->confirmed_at, sizeof a->confirmed_at, "%s", s->sc->date);
            a->confirmed_in_run = 1;
            counts->alerts_confirmed++;
            if ((st = mon_outbox_add_new(s->c->ob, a->id, "confirmed")) != CNP_OK)
                goto done;
        }
        if (now == CNP_ALERT_REJECTED) {
            snprintf(a->rejected_at, sizeof a->rejected_at, "%s", s->sc->date);
            a->rejected_in_run = 1;
            counts->alerts_rejected++;
        }
        a->status = now;
        a->touched = 1;
        if (now == CNP_ALERT_REJECTED)
            continue;   /* keeps the outline it had when it was last alive */

        const int64_t npx = x->prob + x->conf;
        a->probable_pixels = x->prob;
        a->confirmed_pixels = x->conf;
        if (npx > 0)
            a->mean_dndvi = round_to(x->sum_loss / (double)npx, 1e4);
        const int changed = is_new || x->grown || x->ev_reject || !a->geom_hex ||
                            npx != a->pixels;
        a->pixels = npx;
        if (!changed || npx == 0)
            continue;

        /* Its runs, merged where segments meet. */
        size_t nr = 0;
        for (size_t j = first[k]; j < first[k + 1]; j++) {
            const id_seg *q = &s->segs[j];
            if (nr && tmp[nr - 1].y == q->y && tmp[nr - 1].x1 == q->x0) {
                tmp[nr - 1].x1 = q->x1;
                continue;
            }
            if ((st = grow((void **)&tmp, &tmp_cap, nr + 1, sizeof *tmp)) != CNP_OK)
                goto done;
            tmp[nr++] = (cnp_run){ q->y, q->x0, q->x1 };
        }
        double area = 0;
        if ((st = trace_alert(&g, tmp, nr, ws, &rings, &a->geom_hex, &area)) != CNP_OK)
            goto done;
        a->area_ha = round_to(area / 1e4, 1e4);
        double lon = fp->gt[0] + x->sum_x / (double)npx * fp->gt[1];
        double lat = fp->gt[3] + x->sum_y / (double)npx * fp->gt[5];
        if (!OCTTransform(g.to_wgs84, 1, &lon, &lat, NULL)) {
            st = cnp_err(CNP_E_DATA, "cannot transform an alert centroid to WGS84");
            goto done;
        }
        a->centroid_lon = round_to(lon, 1e7);
        a->centroid_lat = round_to(lat, 1e7);
    }
    fp->next_seq = new_next;

done:
    free(first);
    free(tmp);
    cnp_geom_free(&g);
    cnp_rings_free(&rings);
    cnp_trace_ws_free(ws);
    if (g.to_wgs84)
        OCTDestroyCoordinateTransformation(g.to_wgs84);
    OSRDestroySpatialReference(srs);
    OSRDestroySpatialReference(wgs84);
    return st;
}

/* ---- the step ------------------------------------------------------------------ */

static void step_free(step *s)
{
    for (int f = 0; f < NFILES; f++) {
        if (s->prev[f])
            GDALClose(s->prev[f]);
        if (s->out[f])
            GDALClose(s->out[f]);
    }
    cnp_reader_close(&s->rd);
    free(s->red); free(s->nir); free(s->ndvi); free(s->base2); free(s->dndvi);
    free(s->observed); free(s->obs); free(s->pix3); free(s->event); free(s->bdate);
    free(s->id); free(s->idprev);
    cnp_runs_free(&s->act);
    free(s->ra); free(s->segs); free(s->acc); free(s->tr); free(s->ts);
    free(s->tr_first); free(s->tr_pos);
}

/* Minimum mapping unit in pixels of the footprint's grid. */
static cnp_status min_pixels_of(const mon_fp *fp, const cnp_settings *set, int64_t *out)
{
    cnp_geom_ctx g;
    OGRSpatialReferenceH srs = NULL, wgs84 = NULL;
    double a = 0;
    cnp_status st = geo_init(&g, fp, &srs, &wgs84);
    if (st == CNP_OK)
        st = pixel_area(&g, fp, srs, &a);
    if (st == CNP_OK) {
        *out = a > 0 ? (int64_t)ceil(set->min_area_ha * 1e4 / a - 1e-9) : 1;
        if (*out < 1)
            *out = 1;
    }
    cnp_geom_free(&g);
    if (g.to_wgs84)
        OCTDestroyCoordinateTransformation(g.to_wgs84);
    OSRDestroySpatialReference(srs);
    OSRDestroySpatialReference(wgs84);
    return st;
}

/* Run both passes of `sc` (already on the footprint's grid) into s->dir. */
static cnp_status run_step(step *s, mon_step_counts *counts)
{
    mon_fp *fp = s->fp;
    const size_t tn = (size_t)TILE * TILE;
    const int ntiles = (fp->width + TILE - 1) / TILE;
    uint32_t *label = NULL, *cmin = NULL, *cid = NULL;
    int64_t *cun = NULL, *cpx = NULL;
    char idpre_path[4300];
    GDALDatasetH idpre = NULL;
    cnp_status st;

    s->red = malloc(tn * sizeof(float));
    s->nir = malloc(tn * sizeof(float));
    s->ndvi = malloc(tn * sizeof(float));
    s->base2 = malloc(2 * tn * sizeof(float));
    s->dndvi = malloc(tn * sizeof(float));
    s->observed = malloc(tn);
    s->obs = malloc(tn);
    s->pix3 = malloc(3 * tn);
    s->event = malloc(tn);
    s->bdate = malloc(tn * sizeof(int32_t));
    s->id = malloc(tn * sizeof(uint32_t));
    s->idprev = malloc(tn * sizeof(uint32_t));
    s->tr_first = malloc(((size_t)ntiles + 1) * sizeof(size_t));
    s->tr_pos = malloc(((size_t)ntiles + 1) * sizeof(size_t));
    if (!s->red || !s->nir || !s->ndvi || !s->base2 || !s->dndvi || !s->observed || !s->obs ||
        !s->pix3 || !s->event || !s->bdate || !s->id || !s->idprev || !s->tr_first ||
        !s->tr_pos)
        return cnp_err(CNP_E_NOMEM, "out of memory for %dx%d tiles", TILE, TILE);
    if ((st = acc_reserve(s, fp->next_seq)) != CNP_OK)
        return st;

    if (fp->dir[0])
        for (int f = 0; f < NFILES; f++)
            if ((st = open_prev(s, f)) != CNP_OK)
                return st;
    for (int f = 0; f < NFILES; f++)
        if ((st = create_file(s, f)) != CNP_OK)
            return st;
    if ((st = cnp_reader_open(s->sc, s->c->s, &s->rd)) != CNP_OK) {
        s->scene_error = 1;
        return st;
    }

    for (int y0 = 0; y0 < fp->height; y0 += TILE) {
        const int th = fp->height - y0 < TILE ? fp->height - y0 : TILE;
        if ((st = process_strip(s, y0, th, ntiles)) != CNP_OK)
            return st;
        if (y0 == 0)
            mon_crash_point("mid-step");
    }
    for (int f = 0; f < NFILES; f++)
        if (s->prev[f]) {
            GDALClose(s->prev[f]);
            s->prev[f] = NULL;
        }
    cnp_reader_close(&s->rd);

    /* Components of alert pixels and their ids. */
    size_t ncomp = 0;
    if ((st = cnp_runs_link(&s->act, s->c->s->connectivity)) != CNP_OK)
        return cnp_err(st, "labelling alert pixels failed");
    label = malloc((s->act.n + 1) * sizeof *label);
    if (!label)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    if ((st = cnp_runs_label(&s->act, label, &ncomp)) != CNP_OK) {
        st = cnp_err(st, "labelling alert pixels failed");
        goto done;
    }
    cmin = calloc(ncomp + 1, sizeof *cmin);
    cid = calloc(ncomp + 1, sizeof *cid);
    cun = calloc(ncomp + 1, sizeof *cun);
    cpx = calloc(ncomp + 1, sizeof *cpx);
    if (!cmin || !cid || !cun || !cpx) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < s->act.n; i++) {
        const uint32_t c = label[i];
        const run_acc *r = &s->ra[i];
        if (r->min_id && (!cmin[c] || r->min_id < cmin[c]))
            cmin[c] = r->min_id;
        cun[c] += r->unassigned;
        cpx[c] += s->act.run[i].x1 - s->act.run[i].x0;
    }
    int64_t min_px = 1;
    if ((st = min_pixels_of(fp, s->c->s, &min_px)) != CNP_OK)
        goto done;
    const uint32_t old_next = fp->next_seq;
    uint32_t next = old_next;
    if (cnp_monitor_assign_ids(ncomp, cmin, cun, cpx, min_px, &next, cid) != CNP_OK) {
        st = cnp_err(CNP_E_DATA, "footprint %s: out of alert ids", fp->key);
        goto done;
    }
    if ((st = acc_reserve(s, (size_t)next + 1)) != CNP_OK)
        goto done;
    int need_pass2 = 0;
    for (size_t i = 0; i < s->act.n; i++) {
        const uint32_t k = cid[label[i]];
        const run_acc *r = &s->ra[i];
        if (!k || !r->unassigned)
            continue;
        need_pass2 = 1;
        id_acc *a = &s->acc[k];
        a->grown += r->unassigned;
        a->prob += r->u_prob;
        a->conf += r->u_conf;
        a->o_clear += r->u_clear;
        a->o_cloudy += r->u_cloudy;
        a->o_nodata += r->u_nodata;
        a->o_sum_dndvi += r->u_sum_dndvi;
        a->sum_loss += r->u_sum_loss;
        a->sum_x += r->u_sum_x;
        a->sum_y += r->u_sum_y;
    }
    for (size_t j = 0; j < s->nsegs; j++)
        if (!s->segs[j].id)
            s->segs[j].id = cid[label[s->segs[j].run]];

    /* The state files are complete but for the final ids. */
    snprintf(idpre_path, sizeof idpre_path, "%s/alert_id_pre.tif", s->dir);
    {
        char path[4300];
        static const int order[] = { F_NDVI, F_DATE, F_PIXEL };
        for (size_t q = 0; q < 3; q++) {
            snprintf(path, sizeof path, "%s/%s", s->dir, files[order[q]].name);
            if ((st = close_checked(&s->out[order[q]], path)) != CNP_OK)
                goto done;
        }
        snprintf(path, sizeof path, "%s/%s", s->dir, files[F_ID].name);
        if ((st = close_checked(&s->out[F_ID], path)) != CNP_OK)
            goto done;
        if (rename(path, idpre_path) != 0) {
            st = cnp_err(CNP_E_IO, "cannot rename '%s': %s", path, strerror(errno));
            goto done;
        }
        if (need_pass2) {
            snprintf(path, sizeof path, "%s/%s", s->dir, files[F_PIXEL].name);
            s->out[F_PIXEL] = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL,
                                         NULL);
            idpre = GDALOpenEx(idpre_path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
            if (!s->out[F_PIXEL] || !idpre) {
                st = cnp_err(CNP_E_IO, "cannot reopen the step's state files in '%s'", s->dir);
                goto done;
            }
            if ((st = write_final_ids(s, idpre, label, cid, idpre_path)) != CNP_OK)
                goto done;
            GDALClose(idpre);
            idpre = NULL;
            GDALClose(s->out[F_PIXEL]);
            s->out[F_PIXEL] = NULL;
            snprintf(path, sizeof path, "%s/%s", s->dir, files[F_ID].name);
            if ((st = close_checked(&s->out[F_ID], path)) != CNP_OK)
                goto done;
            unlink(idpre_path);
        } else if (rename(idpre_path, path) != 0) {
            st = cnp_err(CNP_E_IO, "cannot rename '%s': %s", idpre_path, strerror(errno));
            goto done;
        }
    }
    st = finish_alerts(s, old_next, next, counts);

done:
    if (idpre)
        GDALClose(idpre);
    free(label);
    free(cmin);
    free(cid);
    free(cun);
    free(cpx);
    return st;
}

/* ---- footprints ------------------------------------------------------------------ */

/* Fraction of the scene's extent inside footprint `fp` (0 when no overlap). */
static double overlap_fraction(const mon_fp *fp, const cnp_scene *sc)
{
    OGRSpatialReferenceH a = OSRNewSpatialReference(sc->wkt);
    OGRSpatialReferenceH b = OSRNewSpatialReference(fp->wkt);
    OGRCoordinateTransformationH ct = NULL;
    double frac = 0;
    if (!a || !b)
        goto done;
    OSRSetAxisMappingStrategy(a, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(b, OAMS_TRADITIONAL_GIS_ORDER);
    if (!(ct = OCTNewCoordinateTransformation(a, b)))
        goto done;
    enum { N = 8 };
    double xs[4 * N], ys[4 * N];
    int ok[4 * N];
    for (int i = 0; i < N; i++) {
        const double t = (double)i / N;
        const double px[4] = { t * sc->width, sc->width, (1 - t) * sc->width, 0 };
        const double py[4] = { 0, t * sc->height, sc->height, (1 - t) * sc->height };
        for (int e = 0; e < 4; e++) {
            xs[e * N + i] = sc->gt[0] + px[e] * sc->gt[1];
            ys[e * N + i] = sc->gt[3] + py[e] * sc->gt[5];
        }
    }
    if (!OCTTransformEx(ct, 4 * N, xs, ys, NULL, ok))
        goto done;
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (int i = 0; i < 4 * N; i++) {
        if (!ok[i])
            continue;
        minx = fmin(minx, xs[i]); maxx = fmax(maxx, xs[i]);
        miny = fmin(miny, ys[i]); maxy = fmax(maxy, ys[i]);
    }
    const double fx0 = fmin(fp->gt[0], fp->gt[0] + fp->width * fp->gt[1]);
    const double fx1 = fmax(fp->gt[0], fp->gt[0] + fp->width * fp->gt[1]);
    const double fy0 = fmin(fp->gt[3], fp->gt[3] + fp->height * fp->gt[5]);
    const double fy1 = fmax(fp->gt[3], fp->gt[3] + fp->height * fp->gt[5]);
    const double ix = fmin(maxx, fx1) - fmax(minx, fx0), iy = fmin(maxy, fy1) - fmax(miny, fy0);
    const double area = (maxx - minx) * (maxy - miny);
    if (ix > 0 && iy > 0 && area > 0)
        frac = ix * iy / area;
done:
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(a);
    OSRDestroySpatialReference(b);
    return frac;
}

static void grid_key(const cnp_scene *sc, char *out, size_t size)
{
    char buf[8192];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    const int n = snprintf(buf, sizeof buf, "%s|%.17g|%.17g|%.17g|%.17g|%d|%d", sc->wkt,
                           sc->gt[0], sc->gt[1], sc->gt[3], sc->gt[5], sc->width, sc->height);
    EVP_Digest(buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1), md, &len,
               EVP_sha256(), NULL);
    snprintf(out, size, "grid-%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
}

/* A VRT in /vsimem with the footprint's grid, opened as the reference scene
 * (never read: it only carries the grid for cnp_scene_align). */
static cnp_status grid_scene(const mon_fp *fp, const cnp_settings *ref_s, char *vpath,
                             size_t vsize, cnp_scene *ref)
{
    snprintf(vpath, vsize, "/vsimem/canopy-monitor-%ld-%s.vrt", (long)getpid(), fp->key);
    cnp_err_gdal_reset();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("VRT"), vpath, fp->width, fp->height, 2,
                                 GDT_Byte, NULL);
    if (!ds)
        return cnp_err(CNP_E_IO, "footprint %s: cannot build its grid: %s", fp->key,
                       cnp_err_gdal_reason());
    double gt[6];
    memcpy(gt, fp->gt, sizeof gt);
    GDALSetGeoTransform(ds, gt);
    GDALSetProjection(ds, fp->wkt);
    GDALClose(ds);
    return cnp_scene_open(ref, "FOOTPRINT", vpath, NULL, ref_s, "");
}

/* The footprint grid of a first scene: its own, or [grid] t_srs / tr. */
static cnp_status first_grid(mon_ctx *c, const mon_input *in, cnp_scene *sc, mon_fp *fp)
{
    const cnp_settings *s = c->s;
    cnp_scene tmp;
    int win[4];
    cnp_status st = CNP_OK;
    const cnp_scene *g = sc;

    memset(&tmp, 0, sizeof tmp);
    if (s->grid_t_srs[0] || s->grid_tr > 0) {
        if ((st = cnp_scene_open(&tmp, "SCENE", in->path, in->mask, s, "")) != CNP_OK ||
            (st = cnp_scene_align(&tmp, sc, win)) != CNP_OK)
            goto done;
    }
    fp->wkt = strdup(g->wkt);
    memcpy(fp->gt, g->gt, sizeof fp->gt);
    fp->width = g->width;
    fp->height = g->height;
    if (!fp->wkt)
        st = cnp_err(CNP_E_NOMEM, "out of memory");
done:
    cnp_scene_free(&tmp);
    return st;
}

cnp_status mon_step_scene(mon_ctx *c, const mon_input *in, const char **outcome, char *reason,
                          size_t rsize, char *fp_key, size_t ksize, mon_step_counts *counts)
{
    cnp_scene sc, ref;
    cnp_settings ref_s = *c->s;
    char vpath[300] = "";
    mon_fp *fp = NULL;
    int created = 0, win[4] = { 0 };
    step s;
    cnp_status st;
    mon_step_counts sc_counts = { 0 };

    memset(&sc, 0, sizeof sc);
    memset(&ref, 0, sizeof ref);
    memset(&s, 0, sizeof s);
    cnp_runs_init(&s.act);
    *outcome = "failed";
    reason[0] = '\0';
    fp_key[0] = '\0';

    if ((st = cnp_scene_open(&sc, "SCENE", in->path, in->mask, c->s, "")) != CNP_OK) {
        snprintf(reason, rsize, "%s", cnp_err_msg());
        st = CNP_OK;
        goto out;
    }
    if (!sc.date[0] || date_num(sc.date) <= 0) {
        snprintf(reason, rsize, "'%s': no acquisition date", in->path);
        goto out;
    }

    /* Its footprint: by name, else the grid footprint it overlaps most. */
    if (in->fp_key[0]) {
        fp = mon_state_find_fp(c->st, in->fp_key);
    } else {
        double best = 0.1;
        for (size_t i = 0; i < c->st->nfps; i++) {
            if (strncmp(c->st->fps[i].key, "grid-", 5) != 0)
                continue;
            const double f = overlap_fraction(&c->st->fps[i], &sc);
            if (f > best) {
                best = f;
                fp = &c->st->fps[i];
            }
        }
    }
    if (!fp) {
        if ((st = mon_state_add_fp(c->st, &fp)) != CNP_OK)
            goto out;
        created = 1;
        if ((st = first_grid(c, in, &sc, fp)) != CNP_OK) {
            snprintf(reason, rsize, "%s", cnp_err_msg());
            st = CNP_OK;
            goto out;
        }
        if (in->fp_key[0]) {
            snprintf(fp->key, sizeof fp->key, "%s", in->fp_key);
            snprintf(fp->name, sizeof fp->name, "%s", in->fp_name);
        } else {
            grid_key(&sc, fp->key, sizeof fp->key);
            snprintf(fp->name, sizeof fp->name, "rasters overlapping %.100s", in->id);
        }
        /* Re-open: first_grid may have warped it. */
        cnp_scene_free(&sc);
        if ((st = cnp_scene_open(&sc, "SCENE", in->path, in->mask, c->s, "")) != CNP_OK) {
            snprintf(reason, rsize, "%s", cnp_err_msg());
            st = CNP_OK;
            goto out;
        }
    }
    snprintf(fp_key, ksize, "%s", fp->key);

    if (fp->last_date[0] && strcmp(sc.date, fp->last_date) < 0) {
        *outcome = "skipped";
        snprintf(reason, rsize, "acquired %s, before the last scene applied to footprint %s "
                 "(%s, %s): scenes are applied in date order", sc.date, fp->key, fp->last_scene,
                 fp->last_date);
        goto out;
    }

    /* Onto the footprint's grid. */
    ref_s.red_band = 1;
    ref_s.nir_band = 2;
    ref_s.green_band = ref_s.blue_band = 0;
    ref_s.grid_mode = CNP_GRID_BEFORE;
    ref_s.grid_t_srs[0] = '\0';
    ref_s.grid_tr = 0;
    if ((st = grid_scene(fp, &ref_s, vpath, sizeof vpath, &ref)) != CNP_OK)
        goto out;
    if ((st = cnp_scene_align(&sc, &ref, win)) != CNP_OK) {
        snprintf(reason, rsize, "footprint %s: %s", fp->key, cnp_err_msg());
        st = CNP_OK;
        goto out;
    }

    s.c = c;
    s.fp = fp;
    s.in = in;
    s.sc = &sc;
    memcpy(s.win, win, sizeof win);
    s.date = date_num(sc.date);
    snprintf(s.dir, sizeof s.dir, "%s/%s/step%04d", c->work_dir, fp->key, fp->nsteps + 1);
    if ((st = cnp_fs_mkdirs(s.dir)) != CNP_OK)
        goto out;

    /* Alert records change in place: keep a copy to restore on failure. */
    const size_t nalerts0 = fp->nalerts;
    mon_alert *saved = nalerts0 ? malloc(nalerts0 * sizeof *saved) : NULL;
    const size_t nobs0 = c->ob->nobs, ntouch0 = c->ob->ntouched, nnews0 = c->ob->nnews;
    if (nalerts0 && !saved) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
        goto out;
    }
    if (nalerts0)
        memcpy(saved, fp->alerts, nalerts0 * sizeof *saved);
    for (size_t i = 0; i < nalerts0; i++)
        saved[i].geom_hex = NULL;
    for (size_t i = 0; i < nalerts0 && st == CNP_OK; i++)
        if (fp->alerts[i].geom_hex && !(saved[i].geom_hex = strdup(fp->alerts[i].geom_hex)))
            st = cnp_err(CNP_E_NOMEM, "out of memory");

    if (st == CNP_OK)
        st = run_step(&s, &sc_counts);
    const int scene_error = s.scene_error;
    step_free(&s);
    memset(&s, 0, sizeof s);
    if (st != CNP_OK) {
        /* Undo: the alert records, the outbox rows, the step folder. */
        for (size_t i = 0; i < fp->nalerts; i++)
            free(fp->alerts[i].geom_hex);
        if (nalerts0)
            memcpy(fp->alerts, saved, nalerts0 * sizeof *saved);
        fp->nalerts = nalerts0;
        free(saved);
        c->ob->nobs = nobs0;
        c->ob->ntouched = ntouch0;
        c->ob->nnews = nnews0;
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s/step%04d", c->work_dir, fp->key, fp->nsteps + 1);
        cnp_fs_remove_tree(dir);
        if (scene_error) {
            snprintf(reason, rsize, "%s", cnp_err_msg());
            st = CNP_OK;
        }
        goto out;
    }
    for (size_t i = 0; i < nalerts0; i++)
        free(saved[i].geom_hex);
    free(saved);

    /* The step's files are now the footprint's state. */
    char old_dir[4200];
    snprintf(old_dir, sizeof old_dir, "%s", fp->dir);
    snprintf(fp->dir, sizeof fp->dir, "%s/%s/step%04d", c->work_dir, fp->key, fp->nsteps + 1);
    if (fp->nsteps > 0)
        cnp_fs_remove_tree(old_dir);    /* an earlier step of this run */
    fp->nsteps++;
    fp->touched = 1;
    if (fp->format[0] && strcmp(fp->format, in->format) != 0)
        snprintf(reason, rsize, "format changed: %s -> %s", fp->format, in->format);
    snprintf(fp->format, sizeof fp->format, "%s", in->format);
    snprintf(fp->last_date, sizeof fp->last_date, "%s", sc.date);
    snprintf(fp->last_scene, sizeof fp->last_scene, "%s", in->id);
    counts->alerts_new += sc_counts.alerts_new;
    counts->alerts_confirmed += sc_counts.alerts_confirmed;
    counts->alerts_rejected += sc_counts.alerts_rejected;
    counts->alerts_grown += sc_counts.alerts_grown;
    *outcome = "processed";
    created = 0;

out:
    if (created && st == CNP_OK) {
        /* A footprint that never got a scene is not kept. */
        free(fp->wkt);
        free(fp->alerts);
        c->st->nfps--;
    }
    cnp_scene_free(&ref);
    cnp_scene_free(&sc);
    if (vpath[0])
        VSIUnlink(vpath);
    return st;
}
