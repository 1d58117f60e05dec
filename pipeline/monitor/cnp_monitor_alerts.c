/* pipeline/monitor/cnp_monitor_alerts.c - after a scene's pass: which new
 * components reach the minimum mapping unit, the alert records updated, a
 * row per alert the scene saw, and the outlines of the alerts that changed
 * traced again. */
#include "cnp_monitor_pass.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_area.h"
#include "cnp_err.h"
#include "cnp_geom.h"
#include "cnp_monitor.h"
#include "cnp_num.h"
#include "cnp_trace.h"
#include "cnp_zones.h"

static cnp_status grow(void **p, size_t *cap, size_t need, size_t elem)
{
    return cnp_grow(p, cap, need, elem, "a monitor step");
}

/* The minimum mapping unit on the ellipsoid (core/cnp_area.h), as detect
 * applies it: eligible[c] = 1 when component c reaches min_area. Its pixel
 * count decides unless the area is within the grid's scale spread of the
 * unit; such a component is traced and decided by its outline's area. */
cnp_status mon_mmu_eligible(mon_step *s, const uint32_t *label, size_t ncomp,
                            const int64_t *cpx, uint8_t *eligible)
{
    const mon_fp *fp = s->fp;
    const int grid[4] = { 0, 0, fp->width, fp->height };
    const double min_m2 = s->c->s->min_area_ha * 1e4;
    char what[200];
    cnp_crs *crs = NULL;
    cnp_geom_ctx *g = NULL;
    cnp_trace_ws *ws = NULL;
    cnp_rings rings;
    cnp_area_scale scale;
    size_t *start = NULL;
    uint32_t *order = NULL;
    cnp_run *tmp = NULL;
    cnp_status st;

    cnp_rings_init(&rings);
    snprintf(what, sizeof what, "the CRS of footprint %s", fp->key);
    if ((st = cnp_crs_open(fp->wkt, fp->gt, what, &crs)) != CNP_OK ||
        (st = cnp_area_scale_init(crs, grid, &scale)) != CNP_OK)
        goto done;
    int unsure = 0;
    for (size_t c = 0; c < ncomp; c++) {
        const int v = cnp_area_verdict(&scale, cpx[c], min_m2);
        eligible[c] = v == CNP_AREA_ABOVE;
        unsure |= v == CNP_AREA_UNSURE;
    }
    if (!unsure)
        goto done;
    start = malloc((ncomp + 1) * sizeof *start);
    order = malloc((s->act.n + 1) * sizeof *order);
    tmp = malloc((s->act.n + 1) * sizeof *tmp);
    ws = cnp_trace_ws_create();
    if (!start || !order || !tmp || !ws) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
        goto done;
    }
    if ((st = cnp_runs_group(label, s->act.n, ncomp, start, order)) != CNP_OK ||
        (st = cnp_geom_ctx_create(crs, &g)) != CNP_OK) {
        st = cnp_err(st, "grouping alert pixels failed");
        goto done;
    }
    for (size_t c = 0; c < ncomp && st == CNP_OK; c++) {
        if (cnp_area_verdict(&scale, cpx[c], min_m2) != CNP_AREA_UNSURE)
            continue;
        const size_t nr = start[c + 1] - start[c];
        for (size_t k = 0; k < nr; k++)
            tmp[k] = s->act.run[order[start[c] + k]];
        if ((st = cnp_trace_runs(tmp, nr, ws, &rings)) != CNP_OK) {
            st = cnp_err(st, "tracing alert pixels failed");
            break;
        }
        double area = 0;
        for (size_t r = 0; r < rings.n && st == CNP_OK; r++) {
            double a = 0;
            st = cnp_geom_ring_area(g, rings.xy + 2 * rings.ring[r].first, rings.ring[r].count,
                                    &a);
            area += rings.ring[r].is_hole ? -a : a;
        }
        eligible[c] = area >= min_m2;
    }
done:
    free(start);
    free(order);
    free(tmp);
    cnp_rings_free(&rings);
    cnp_trace_ws_free(ws);
    cnp_geom_ctx_free(&g);
    cnp_crs_close(&crs);
    return st;
}

/* Trace runs (one alert, scan order) into a WGS84 MultiPolygon as WKB hex;
 * with `scene`, the outline in the grid's CRS too (for the zones). */
static cnp_status trace_alert(cnp_geom_ctx *g, const cnp_run *runs, size_t n, cnp_trace_ws *ws,
                              cnp_rings *rings, char **hex, double *area_m2, cnp_geometry **scene)
{
    cnp_status st;
    if ((st = cnp_trace_runs(runs, n, ws, rings)) != CNP_OK)
        return cnp_err(st, "tracing an alert polygon failed");
    /* In WGS84 from the same transformation as the area (io/cnp_geom.h). */
    cnp_geometry *multi = NULL;
    double area = 0;
    st = cnp_geom_alert(g, rings, scene, &multi, &area);
    if (st == CNP_OK) {
        char *h = cnp_geometry_wkb_hex(multi);
        if (!h) {
            st = cnp_err(CNP_E_NOMEM, "cannot encode an alert polygon");
        } else {
            free(*hex);
            *hex = h;
        }
    }
    cnp_geometry_free(multi);
    *area_m2 = area;
    return st;
}

/* The footprint's grid and a tracing context on it. */
static cnp_status geo_init(const mon_fp *fp, cnp_crs **crs, cnp_geom_ctx **g)
{
    char what[200];
    snprintf(what, sizeof what, "the CRS of footprint %s", fp->key);
    cnp_status st = cnp_crs_open(fp->wkt, fp->gt, what, crs);
    if (st == CNP_OK && g)
        st = cnp_geom_ctx_create(*crs, g);
    return st;
}

/* The outlines traced again in this step (grid CRS), by alert number, for
 * --zones. */
typedef struct traced {
    uint32_t     *seq;
    cnp_geometry **geom;
    size_t        n, cap;
} traced;

static cnp_status traced_add(traced *t, uint32_t seq, cnp_geometry *g)
{
    if (t->n == t->cap) {
        const size_t cap = t->cap ? 2 * t->cap : 64;
        uint32_t *s = realloc(t->seq, cap * sizeof *s);
        if (s)
            t->seq = s;
        cnp_geometry **gg = s ? realloc(t->geom, cap * sizeof *gg) : NULL;
        if (!gg) {
            cnp_geometry_free(g);
            return cnp_err(CNP_E_NOMEM, "out of memory");
        }
        t->geom = gg;
        t->cap = cap;
    }
    t->seq[t->n] = seq;
    t->geom[t->n++] = g;
    return CNP_OK;
}

static void traced_free(traced *t)
{
    for (size_t i = 0; i < t->n; i++)
        cnp_geometry_free(t->geom[i]);
    free(t->seq);
    free(t->geom);
}

/* --zones: each outline traced again gets its zones, on the footprint's
 * grid (a layer that misses the footprint gives none). */
static cnp_status zones_of_traced(const mon_ctx *c, mon_fp *fp, cnp_geom_ctx *g, traced *t)
{
    cnp_zone_source *src[CNP_MON_MAX_ZONES] = { NULL };
    cnp_zone_match m;
    const int win[4] = { 0, 0, fp->width, fp->height };
    size_t n = 0;
    cnp_status st = CNP_OK;
    memset(&m, 0, sizeof m);
    if (!c->nzones || !t->n)
        return CNP_OK;
    for (size_t i = 0; i < c->nzones && i < CNP_MON_MAX_ZONES && st == CNP_OK; i++) {
        st = cnp_zone_source_open_any("zones", c->zones[i], c->zone_field, fp->wkt, fp->gt, win,
                                      &src[i]);
        n += st == CNP_OK;
    }
    if (st == CNP_OK)
        st = cnp_zones_match(src, n, g, (const cnp_geometry *const *)t->geom, t->n, &m);
    for (size_t i = 0; i < t->n && st == CNP_OK; i++) {
        mon_alert *a = mon_fp_alert(fp, t->seq[i]);
        if (!a)
            continue;
        free(a->zones);
        a->zones = m.text[i][0] ? strdup(m.text[i]) : NULL;
        if (m.text[i][0] && !a->zones)
            st = cnp_err(CNP_E_NOMEM, "out of memory");
    }
    cnp_zone_match_free(&m);
    for (size_t i = 0; i < n; i++)
        cnp_zone_source_close(&src[i]);
    return st;
}

static int cmp_seg_scan(const void *a, const void *b)
{
    const mon_id_seg *x = a, *y = b;
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

/* Update the alert records, write observation rows and trace what changed.
 * Long: each alert's record, its observation row and its trace are
 * updated together, alert by alert.
 */
cnp_status mon_alerts_finish(mon_step *s, uint32_t old_next, uint32_t new_next,
                             mon_step_counts *counts)
{
    mon_fp *fp = s->fp;
    cnp_crs *crs = NULL;
    cnp_geom_ctx *g = NULL;
    cnp_trace_ws *ws = cnp_trace_ws_create();
    cnp_rings rings;
    cnp_run *tmp = NULL;
    size_t tmp_cap = 0, *first = NULL;
    traced tr = { 0 };
    cnp_status st;

    cnp_rings_init(&rings);
    if (!ws)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    /* (tr is freed at done) */
    if ((st = geo_init(fp, &crs, &g)) != CNP_OK)
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
        const mon_id_acc *x = &s->acc[k];
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
        row.dndvi = x->o_clear ? cnp_round_to(x->o_sum_dndvi / (double)x->o_clear, 1e4) : NAN;
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
            a->mean_dndvi = cnp_round_to(x->sum_loss / (double)npx, 1e4);
        const int changed = is_new || x->grown || x->ev_reject || !a->geom_hex ||
                            npx != a->pixels;
        a->pixels = npx;
        if (!changed || npx == 0)
            continue;
        a->partially_observed = x->partial;

        /* Its runs, merged where segments meet. */
        size_t nr = 0;
        for (size_t j = first[k]; j < first[k + 1]; j++) {
            const mon_id_seg *q = &s->segs[j];
            if (nr && tmp[nr - 1].y == q->y && tmp[nr - 1].x1 == q->x0) {
                tmp[nr - 1].x1 = q->x1;
                continue;
            }
            if ((st = grow((void **)&tmp, &tmp_cap, nr + 1, sizeof *tmp)) != CNP_OK)
                goto done;
            tmp[nr++] = (cnp_run){ q->y, q->x0, q->x1 };
        }
        double area = 0;
        cnp_geometry *outline = NULL;
        if ((st = trace_alert(g, tmp, nr, ws, &rings, &a->geom_hex, &area,
                              s->c->nzones ? &outline : NULL)) != CNP_OK ||
            (outline && (st = traced_add(&tr, k, outline)) != CNP_OK))
            goto done;
        a->area_ha = cnp_round_to(area / 1e4, 1e4);
        double lon, lat;
        if (cnp_geom_point_to_wgs84(g, fp->gt[0] + x->sum_x / (double)npx * fp->gt[1],
                                    fp->gt[3] + x->sum_y / (double)npx * fp->gt[5], &lon,
                                    &lat) != CNP_OK) {
            st = cnp_err(CNP_E_DATA, "cannot transform an alert centroid to WGS84");
            goto done;
        }
        a->centroid_lon = cnp_round_to(lon, 1e7);
        a->centroid_lat = cnp_round_to(lat, 1e7);
    }
    fp->next_seq = new_next;
    st = zones_of_traced(s->c, fp, g, &tr);

done:
    traced_free(&tr);
    free(first);
    free(tmp);
    cnp_geom_ctx_free(&g);
    cnp_crs_close(&crs);
    cnp_rings_free(&rings);
    cnp_trace_ws_free(ws);
    return st;
}

