/* pipeline/core/cnp_alerts.c - alerts from loss runs: components labelled,
 * the minimum mapping unit applied, the rest traced side by side. */
#include "cnp_alerts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cnp_area.h"
#include "cnp_confidence.h"
#include "cnp_err.h"
#include "cnp_gaps.h"
#include "cnp_geom.h"
#include "cnp_inside.h"
#include "cnp_num.h"
#include "cnp_trace.h"

static void alert_id(const cnp_settings *s, const cnp_scene *before, const cnp_scene *after,
                     double x, double y, int64_t pixels, char out[20])
{
    /* Same inputs and settings -> same id; different dates or places -> different
     * ids, so alerts from many runs can share one table. */
    char key[512];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    const int n = snprintf(key, sizeof key, "canopy-alert|%s|%s|%.3f|%.3f|%lld|%d|%.6g|%.6g",
                           before->date, after->date, x, y, (long long)pixels, s->connectivity,
                           s->forest_ndvi, s->ndvi_drop);
    EVP_Digest(key, (size_t)n, md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

typedef struct comp_acc {
    int64_t pixels;
    double  sum_dndvi, sum_before, sum_after, sum_x, sum_y, sum_dnbr;
    int64_t n_dnbr, n_agree, sum_obs;
    float   min_dndvi;
    int32_t first_x, first_y;
    int32_t min_x, max_x, last_y;   /* bounding box: x in [min_x, max_x), y in [first_y, last_y] */
    int     partial;                /* cnp_gaps flags of its runs, or-ed          */
} comp_acc;

/* Bytes a tracing workspace takes for a component: 4 bytes a pixel of its
 * bounding box with a 1-pixel border, grown by half (kernels/cnp_trace.c);
 * a thread keeps the largest it needed. */
static double trace_ws_bytes(const comp_acc *a)
{
    return ((double)a->max_x - a->min_x + 2) * ((double)a->last_y - a->first_y + 3) * 4.0 * 1.5;
}

/* Bytes an alert's two geometries (grid CRS and WGS84) take: two doubles a
 * vertex in each, and a few hundred bytes of objects a ring and its polygon. */
static size_t geom_bytes(const cnp_rings *r) { return 2 * (r->nvert * 16 + r->n * 240); }

/* One tracing thread's buffers and its own geometry context (its own copy of
 * the transformation to WGS84: one must not be shared between threads). */
typedef struct trace_scratch {
    cnp_trace_ws *ws;
    cnp_rings     rings;
    cnp_run      *tmp;
    size_t        tmp_cap;
    cnp_geom_ctx *g;
} trace_scratch;

static cnp_status trace_scratch_init(trace_scratch *t, const cnp_crs *crs)
{
    memset(t, 0, sizeof *t);
    cnp_rings_init(&t->rings);
    t->ws = cnp_trace_ws_create();
    if (!t->ws)
        return cnp_err(CNP_E_NOMEM, "out of memory for tracing");
    return cnp_geom_ctx_create(crs, &t->g);
}

static void trace_scratch_free(trace_scratch *t)
{
    cnp_rings_free(&t->rings);
    cnp_trace_ws_free(t->ws);
    free(t->tmp);
    cnp_geom_ctx_free(&t->g);
    memset(t, 0, sizeof *t);
}

/* Trace one component (its nr runs, listed by `idx`) into alert *al. */
/* The weakest normalisation level over the cells of the alert's bounding
 * box (-1: none ran): 0 below 3 below 2 below 1. */
static int norm_level_of(const cnp_alert_signals *sig, const comp_acc *a, const int win[4])
{
    if (!sig || !sig->norm_level)
        return -1;
    const int64_t c = sig->cell_px;
    const int64_t cx0 = (a->min_x - win[0]) / c, cx1 = (a->max_x - 1 - win[0]) / c;
    const int64_t cy0 = (a->first_y - win[1]) / c, cy1 = (a->last_y - win[1]) / c;
    int worst = 1;
    for (int64_t cy = cy0; cy <= cy1 && cy < sig->ncy; cy++)
        for (int64_t cx = cx0; cx <= cx1 && cx < sig->ncx; cx++) {
            const int l = sig->norm_level[cy * sig->ncx + cx];
            if ((l == 0 ? 4 : l) > (worst == 0 ? 4 : worst))
                worst = l;
        }
    return worst;
}

/* The alert's confidence from its signals (kernels/cnp_confidence.h). */
static cnp_status set_confidence(const cnp_alert_signals *sig, const comp_acc *a,
                                 const int win[4], const cnp_settings *s, cnp_alert *al)
{
    const double n = (double)a->pixels;
    cnp_swir_rule rule;
    if (sig)
        rule = sig->rule;
    else {
        cnp_swir_defaults(&rule);
        rule.forest_ndvi = s->forest_ndvi;
        rule.ndvi_drop = s->ndvi_drop;
    }
    const int swir = sig && sig->swir;
    const cnp_conf_input in = {
        .mean_dndvi = a->sum_dndvi / n,
        .mean_dnbr = swir && a->n_dnbr ? a->sum_dnbr / (double)a->n_dnbr : NAN,
        .agree_share = swir ? (double)a->n_agree / n : NAN,
        .norm_level = norm_level_of(sig, a, win),
        /* the observations behind its reference NDVI, on average (floored):
         * 1 for BEFORE alone, the clear baselines' count with --baseline */
        .n_obs = a->sum_obs >= 2 * a->pixels ? (int)(a->sum_obs / a->pixels) : 1,
        .partially_observed = a->partial != 0,
    };
    cnp_conf conf;
    if (cnp_confidence(&rule, &in, &conf) != CNP_OK)
        return cnp_err(CNP_E_ARG, "confidence: bad inputs for alert %s", al->id);
    al->confidence = conf.level;
    al->confidence_score = cnp_round_to(conf.score, 100);
    al->high_confidence = conf.level == CNP_CONF_HIGH;
    al->mean_dnbr = in.mean_dnbr == in.mean_dnbr ? cnp_round_to(in.mean_dnbr, 1e4) : NAN;
    al->agree_share = in.agree_share == in.agree_share ? cnp_round_to(in.agree_share, 1e4) : NAN;
    al->norm_level = in.norm_level;
    al->partially_observed = a->partial != 0;
    return CNP_OK;
}

static cnp_status build_alert(trace_scratch *t, const cnp_settings *s, const cnp_scene *before,
                              const cnp_scene *after, const cnp_runs *runs, const uint32_t *idx,
                              size_t nr, const comp_acc *a, size_t geom_budget,
                              size_t *geom_used, double *area_out, cnp_alert *al)
{
    cnp_status st;
    if (t->tmp_cap < nr) {
        cnp_run *p = realloc(t->tmp, nr * sizeof *p);
        if (!p)
            return cnp_err(CNP_E_NOMEM, "out of memory tracing an alert");
        t->tmp = p;
        t->tmp_cap = nr;
    }
    for (size_t k = 0; k < nr; k++)
        t->tmp[k] = runs->run[idx[k]];
    cnp_rings_clear(&t->rings);
    if ((st = cnp_trace_runs(t->tmp, nr, t->ws, &t->rings)) != CNP_OK)
        return cnp_err(st, "tracing an alert polygon failed");
    if (geom_budget) {
        /* The geometries are counted against the cap before they are made. */
        size_t used;
        const size_t add = geom_bytes(&t->rings);
        #pragma omp atomic capture
        used = *geom_used += add;
        if (used > geom_budget)
            return cnp_err(CNP_E_DATA, "--max-memory: the alerts' outlines take more than the "
                           "cap leaves for them (%.0f MB; an alert of %d parts needs %.0f MB "
                           "alone): raise --max-memory", (double)geom_budget / (1024.0 * 1024.0),
                           (int)t->rings.npieces, ceil((double)add / (1024.0 * 1024.0)));
    }

    double area_m2 = 0;
    if ((st = cnp_geom_alert(t->g, &t->rings, &al->geom, &al->geom_wgs84, &area_m2)) != CNP_OK)
        return st;

    const double n = (double)a->pixels;
    *area_out = area_m2;
    al->pixels = a->pixels;
    al->area_ha = cnp_round_to(area_m2 / 1e4, 1e4);
    al->mean_dndvi = cnp_round_to(a->sum_dndvi / n, 1e4);
    al->min_dndvi = cnp_round_to(a->min_dndvi, 1e4);
    al->mean_ndvi_before = cnp_round_to(a->sum_before / n, 1e4);
    al->mean_ndvi_after = cnp_round_to(a->sum_after / n, 1e4);
    const double px = a->sum_x / n, py = a->sum_y / n;
    al->centroid_x = before->gt[0] + px * before->gt[1];
    al->centroid_y = before->gt[3] + py * before->gt[5];
    double lon, lat;
    if (cnp_geom_point_to_wgs84(t->g, al->centroid_x, al->centroid_y, &lon, &lat) != CNP_OK)
        return cnp_err(CNP_E_DATA, "cannot transform an alert centroid to WGS84");
    al->centroid_lon = cnp_round_to(lon, 1e7);
    al->centroid_lat = cnp_round_to(lat, 1e7);
    int32_t ix = 0, iy = 0;
    if ((st = cnp_inside_point(t->tmp, nr, &ix, &iy)) != CNP_OK)
        return cnp_err(st, "no point inside an alert");
    al->point_x = before->gt[0] + (ix + 0.5) * before->gt[1];
    al->point_y = before->gt[3] + (iy + 0.5) * before->gt[5];
    if (cnp_geom_point_to_wgs84(t->g, al->point_x, al->point_y, &lon, &lat) != CNP_OK)
        return cnp_err(CNP_E_DATA, "cannot transform an alert's inside point to WGS84");
    al->point_lon = cnp_round_to(lon, 1e7);
    al->point_lat = cnp_round_to(lat, 1e7);
    alert_id(s, before, after, before->gt[0] + a->first_x * before->gt[1],
             before->gt[3] + a->first_y * before->gt[5], a->pixels, al->id);
    return CNP_OK;
}

/* Loss pieces apart by unobserved gaps up to [detect] bridge_gap_m join
 * (kernels/cnp_gaps.h): on this grid, a gap of so many pixels of the
 * window's centre; flags[i] says whether run i borders unobserved area. */
static cnp_status join_gaps(const cnp_settings *s, const cnp_alert_signals *sig, cnp_result *res,
                            cnp_runs *runs, uint8_t *flags)
{
    const cnp_runs none = { NULL, NULL, 0, 0 };
    const cnp_runs *unobs = sig && sig->unobserved_runs ? sig->unobserved_runs : &none;
    size_t nb = 0;
    res->bridge_gap_px = cnp_gaps_gap_px(s->bridge_gap_m, sqrt(res->pixel_area_m2));
    const cnp_status st = cnp_gaps_bridge(runs, unobs, res->bridge_gap_px, flags, &nb);
    if (st != CNP_OK)
        return cnp_err(st, st == CNP_E_NOMEM ? "out of memory joining loss across gaps"
                                             : "joining loss across gaps: bad runs");
    res->bridges = (int64_t)nb;
    return CNP_OK;
}

/* The observed and unobserved areas on the ellipsoid: the window's area, the
 * unobserved pieces' (traced tile by tile during the pass), and the grid
 * outside the window, which counts as unobserved. */
static cnp_status observed_areas(cnp_crs *crs, const int win[4], int nthreads, cnp_result *res)
{
    cnp_geom_ctx *g = NULL;
    double window = 0, grid = 0, unobs = 0;
    cnp_status st = cnp_geom_ctx_create(crs, &g);
    if (st == CNP_OK)
        st = cnp_area_rect_m2(g, win[0], win[1], win[2], win[3], &window);
    if (st == CNP_OK)
        st = cnp_area_rect_m2(g, 0, 0, res->grid_width, res->grid_height, &grid);
    cnp_geom_ctx_free(&g);
    if (st == CNP_OK)
        st = cnp_area_unobserved(crs, &res->unobserved, nthreads, &unobs);
    if (st != CNP_OK)
        return st;
    const double outside = grid > window ? grid - window : 0;
    res->observed_area_ha = cnp_round_to((window - unobs) / 1e4, 1e4);
    res->unobserved_area_ha = cnp_round_to((unobs + outside) / 1e4, 1e4);
    res->outside_area_ha = cnp_round_to(outside / 1e4, 1e4);
    return CNP_OK;
}

cnp_status cnp_alerts_build(const cnp_settings *s, const cnp_scene *before,
                            const cnp_scene *after, const int win[4], cnp_runs *runs,
                            const cnp_loss_piece *pieces, size_t npieces,
                            const cnp_alert_signals *sig, int nthreads, size_t budget,
                            cnp_result *res)
{
    cnp_status st = CNP_OK;
    uint32_t *label = NULL, *order = NULL;
    uint8_t *gap_flags = NULL;
    size_t *start = NULL, *kept = NULL, ncomp = 0;
    double *area = NULL;
    comp_acc *acc = NULL;
    cnp_crs *crs = NULL;
    char what[1100];

    snprintf(what, sizeof what, "the CRS of '%s'", before->path);
    if ((st = cnp_crs_open(before->wkt, before->gt, what, &crs)) != CNP_OK ||
        (st = cnp_crs_pixel_area_m2(crs, win[0] + win[2] / 2.0, win[1] + win[3] / 2.0,
                                    &res->pixel_area_m2)) != CNP_OK)
        goto done;
    /* The minimum mapping unit on the ellipsoid: a component's pixel count
     * decides at once unless its area is within the scale's spread of the
     * unit; those are traced and decided by their outline's area. */
    const double min_m2 = s->min_area_ha * 1e4;
    cnp_area_scale scale;
    if ((st = cnp_area_scale_init(crs, win, &scale)) != CNP_OK)
        goto done;
    res->min_pixels = (int64_t)ceil(min_m2 / scale.hi_m2 - 1e-9);
    if (res->min_pixels < 1)
        res->min_pixels = 1;

    label = malloc((runs->n + 1) * sizeof *label);
    order = malloc((runs->n + 1) * sizeof *order);
    gap_flags = malloc(runs->n + 1);
    if (!label || !order || !gap_flags) {
        st = cnp_err(CNP_E_NOMEM, "out of memory labelling %zu loss runs", runs->n);
        goto done;
    }
    if ((st = join_gaps(s, sig, res, runs, gap_flags)) != CNP_OK)
        goto done;
    if ((st = cnp_runs_label(runs, label, &ncomp)) != CNP_OK) {
        st = cnp_err(st, "labelling failed");
        goto done;
    }
    res->components = (int64_t)ncomp;
    acc = calloc(ncomp + 1, sizeof *acc);
    start = malloc((ncomp + 1) * sizeof *start);
    if (!acc || !start) {
        st = cnp_err(CNP_E_NOMEM, "out of memory for %zu components", ncomp);
        goto done;
    }
    for (size_t c = 0; c < ncomp; c++)
        acc[c].min_dndvi = INFINITY;
    for (size_t i = 0; i < runs->n; i++) {
        comp_acc *a = &acc[label[i]];
        const cnp_run *r = &runs->run[i];
        const int64_t n = r->x1 - r->x0;
        if (a->pixels == 0) {
            a->first_x = a->min_x = r->x0;
            a->first_y = r->y;
            a->max_x = r->x1;
        }
        if (r->x0 < a->min_x)
            a->min_x = r->x0;
        if (r->x1 > a->max_x)
            a->max_x = r->x1;
        a->last_y = r->y;
        a->partial |= gap_flags[i];
        a->pixels += n;
        a->sum_x += (double)n * (r->x0 + r->x1) / 2.0;   /* pixel centres x + 0.5 */
        a->sum_y += (double)n * (r->y + 0.5);
    }
    for (size_t k = 0; k < npieces; k++) {
        comp_acc *a = &acc[label[pieces[k].first]];
        const cnp_loss_sums *ps = &pieces[k].st;
        a->sum_dndvi += ps->sum_dndvi;
        a->sum_before += ps->sum_before;
        a->sum_after += ps->sum_after;
        if (ps->min_dndvi < a->min_dndvi)
            a->min_dndvi = ps->min_dndvi;
        a->sum_dnbr += ps->sum_dnbr;
        a->n_dnbr += ps->n_dnbr;
        a->n_agree += ps->n_agree;
        a->sum_obs += ps->sum_obs;
    }
    if ((st = cnp_runs_group(label, runs->n, ncomp, start, order)) != CNP_OK) {
        st = cnp_err(st, "grouping runs failed");
        goto done;
    }

    size_t nkeep = 0;
    for (size_t c = 0; c < ncomp; c++)
        nkeep += cnp_area_verdict(&scale, acc[c].pixels, min_m2) != CNP_AREA_BELOW;
    res->alerts = calloc(nkeep + 1, sizeof *res->alerts);
    kept = malloc((nkeep + 1) * sizeof *kept);
    area = malloc((nkeep + 1) * sizeof *area);
    if (!res->alerts || !kept || !area) {
        st = cnp_err(CNP_E_NOMEM, "out of memory for %zu alerts", nkeep);
        goto done;
    }
    nkeep = 0;
    for (size_t c = 0; c < ncomp; c++)
        if (cnp_area_verdict(&scale, acc[c].pixels, min_m2) != CNP_AREA_BELOW)
            kept[nkeep++] = c;
    /* Under --max-memory, the tracing threads' workspaces (each as large as
     * the largest alert it traced) and the alerts' geometries share what the
     * cap leaves; the largest alert decides how many threads trace. */
    size_t geom_budget = 0, geom_used = 0;
    if (budget > 0 && nkeep > 0) {
        size_t big = kept[0];
        for (size_t k = 1; k < nkeep; k++)
            if (trace_ws_bytes(&acc[kept[k]]) > trace_ws_bytes(&acc[big]))
                big = kept[k];
        const double ws = trace_ws_bytes(&acc[big]), mb = 1024.0 * 1024.0;
        if (ws > (double)budget / 2) {
            st = cnp_err(CNP_E_DATA, "--max-memory: the alert at pixel %d,%d covers a %dx%d "
                         "pixel box; tracing its outline needs %.0f MB, more than the cap "
                         "leaves for it (%.0f MB): raise --max-memory by at least %.0f MB",
                         acc[big].first_x, acc[big].first_y, acc[big].max_x - acc[big].min_x,
                         acc[big].last_y - acc[big].first_y + 1, ceil(ws / mb),
                         (double)budget / 2 / mb, ceil((2 * ws - (double)budget) / mb));
            goto done;
        }
        const int fit = (int)((double)budget / 2 / ws);
        if (nthreads > fit)
            nthreads = fit > 0 ? fit : 1;
        geom_budget = budget - (size_t)(nthreads * ws);
    }
    /* Alerts are traced side by side; each one's result depends on its own
     * runs only, so any thread count gives the same alerts. */
    res->nalerts = nkeep;
    int failed = 0;
    char fail_msg[1024] = "";
    #pragma omp parallel num_threads(nthreads) default(none) \
        shared(res, kept, nkeep, acc, start, order, runs, crs, s, before, after, failed, \
               fail_msg, st, geom_budget, geom_used, area, sig, win)
    {
        trace_scratch ts;
        cnp_status tst = trace_scratch_init(&ts, crs);
        #pragma omp for schedule(dynamic, 8)
        for (size_t k = 0; k < nkeep; k++) {
            int stop;
            #pragma omp atomic read
            stop = failed;
            if (stop)
                continue;
            if (tst == CNP_OK)
                tst = build_alert(&ts, s, before, after, runs, order + start[kept[k]],
                                  start[kept[k] + 1] - start[kept[k]], &acc[kept[k]],
                                  geom_budget, &geom_used, &area[k], &res->alerts[k]);
            if (tst == CNP_OK)
                tst = set_confidence(sig, &acc[kept[k]], win, s, &res->alerts[k]);

            if (tst != CNP_OK) {
                #pragma omp critical(build_alerts_fail)
                if (!failed) {
                    st = tst;
                    snprintf(fail_msg, sizeof fail_msg, "%s", cnp_err_msg());
                    #pragma omp atomic write
                    failed = 1;
                }
            }
        }
        trace_scratch_free(&ts);
    }
    if (failed) {
        st = cnp_err(st, "%s", fail_msg);
        goto done;
    }
    /* Components whose pixel count left it open keep their alert only when
     * their outline's geodesic area reaches the unit. */
    size_t n = 0;
    for (size_t k = 0; k < nkeep; k++) {
        if (area[k] < min_m2) {
            cnp_geometry_free(res->alerts[k].geom);
            cnp_geometry_free(res->alerts[k].geom_wgs84);
            continue;
        }
        res->alerts[n++] = res->alerts[k];
    }
    res->nalerts = n;
    for (size_t k = 0; k < n; k++) {   /* in alert order: the same sum every time */
        res->loss_pixels_in_alerts += res->alerts[k].pixels;
        res->total_area_ha += res->alerts[k].area_ha;
        res->partially_observed_alerts += res->alerts[k].partially_observed;
    }
    if ((st = observed_areas(crs, win, nthreads, res)) != CNP_OK)
        goto done;
    res->geometry_bytes = geom_used;

done:
    free(gap_flags);
    free(kept);
    free(area);
    free(acc);
    free(start);
    free(order);
    free(label);
    cnp_crs_close(&crs);
    return st;
}

void cnp_unobserved_free(cnp_unobserved *u)
{
    free(u->xy);
    free(u->ring);
    free(u->piece);
    memset(u, 0, sizeof *u);
}

void cnp_result_free(cnp_result *res)
{
    cnp_unobserved_free(&res->unobserved);
    for (size_t i = 0; i < res->nalerts; i++) {
        cnp_geometry_free(res->alerts[i].geom);
        cnp_geometry_free(res->alerts[i].geom_wgs84);
    }
    free(res->alerts);
    free(res->norm.block);
    memset(res, 0, sizeof *res);
}
