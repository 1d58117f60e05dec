/* pipeline/monitor/cnp_monitor_pass.c - one scene applied to a footprint's
 * state, on the tile engine.
 *
 * The footprint's state rasters (tile files on its grid, 256 x 256 blocks)
 * are streamed tile by tile: each worker reads a tile of the previous state
 * and of the scene (warped onto the grid by cnp_raster when it is not on it)
 * through handles of its own, updates it with the kernel
 * (kernels/cnp_monitor.h) and collects the tile's runs of alert pixels
 * (PROBABLE or CONFIRMED) split by alert id. Tiles are merged one at a time
 * in scan order: the updated tile is written to the step's files, what the
 * scene saw of each alert is added up in pixel order (so the sums do not
 * depend on threads), and a strip's runs are joined across tile borders
 * (cnp_runs_merge_tiles). The previous files are never modified.
 *
 * With detect's normalisation or haze test on, a first pass over the same
 * tiles gathers what they need (cnp_monitor_norm.c) and the pass above
 * applies them to the scene's tiles before the kernel sees them.
 *
 * Then the runs are labelled into ids (cnp_monitor_ids.c). Memory: a tile per worker plus the runs of alert pixels
 * (proportional to the alerts, not to the scene).
 */
#include "cnp_monitor_pass.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_err.h"
#include "cnp_monitor.h"

static const cnp_tilefile_def files[MON_NFILES] = {
    { "ndvi.tif", 2, MON_P_BASE, CNP_CELL_FLOAT32, { "baseline_ndvi", "loss_dndvi", NULL } },
    { "date.tif", 1, MON_P_DATE, CNP_CELL_INT32, { "baseline_date_yyyymmdd", NULL, NULL } },
    { "pixel.tif", 3, MON_P_STATE, CNP_CELL_BYTE, { "state", "n_observations", "n_loss" } },
    { "alert_id.tif", 1, MON_P_ID, CNP_CELL_UINT32, { "alert_seq", NULL, NULL } },
    { "history.tif", 0, MON_P_HIST, CNP_CELL_FLOAT32, { "baseline_obs_newest", NULL, NULL } },
};

int mon_hist_planes(const cnp_settings *s)
{
    return s->baseline_obs > 1 ? s->baseline_obs : 0;
}

int mon_state_defs(int k, cnp_tilefile_def defs[MON_NFILES])
{
    memcpy(defs, files, sizeof files);
    defs[MON_F_HIST].bands = k;
    return k > 0 ? MON_NFILES : MON_F_HIST;
}

/* A run of alert pixels found in one tile; its cnp_run comes first
 * (cnp_runs_merge_tiles reads it), its id segments are in the tile's list. */
typedef struct tile_run {
    cnp_run     run;
    mon_run_acc a;
    size_t      first_seg, nseg;
} tile_run;

/* What a pixel adds to the sums of an existing alert, kept in pixel order so
 * that the merge adds them up in the same order whatever the threads. */
typedef struct obs_add { uint32_t id; uint8_t obs, event; float dndvi; } obs_add;
typedef struct act_add { uint32_t id; uint8_t state; float loss; int32_t x, y; } act_add;

typedef struct worker {
    cnp_reader   *rd;
    int           dn_u16;             /* 1: the scene is read as UInt16 DNs  */
    cnp_tilefile *prev[MON_NFILES];
    cnp_ctxmask_reader *ctxr;         /* the context masks (NULL: none)     */
    mon_norm_ws  *nws;                /* the corrections' buffers (NULL: none) */
    float        *dnorm;              /* the tile's normalised dNDVI         */
    uint8_t      *why, *may_trigger;
    /* one tile */
    int          x0, y0, tw, th;
    float       *red, *nir, *ndvi, *base2, *dndvi, *hist;
    uint8_t     *observed, *obs, *pix3, *event;
    int32_t     *bdate;
    uint32_t    *id, *idprev;
    tile_run    *tr;  size_t ntr, tr_cap;
    mon_id_seg  *ts;  size_t nts, ts_cap;
    obs_add     *oa;  size_t noa, oa_cap;
    act_add     *aa;  size_t naa, aa_cap;
    cnp_run     *ur;  size_t nur, ur_cap;    /* unobserved runs */
    cnp_monitor_counts counts;
} worker;

/* The tiles of the strip being merged, in tile order. */
typedef struct mon_strip {
    tile_run   *tr;  size_t ntr, tr_cap;
    mon_id_seg *ts;  size_t nts, ts_cap;
    cnp_run    *ur;  size_t nur, ur_cap;
    size_t     *tile_first, *tile_pos, *ur_first;
} mon_strip;

static cnp_status grow(void **p, size_t *cap, size_t need, size_t elem)
{
    return cnp_grow(p, cap, need, elem, "a monitor step");
}

static int is_active(uint8_t state)
{
    return state == CNP_PIX_PROBABLE || state == CNP_PIX_CONFIRMED;
}

/* ---- workers --------------------------------------------------------------- */

static void worker_free(void *ctx, void *wp)
{
    (void)ctx;
    worker *w = wp;
    cnp_reader_close(&w->rd);
    cnp_ctxmask_reader_close(&w->ctxr);
    mon_norm_ws_free(&w->nws);
    free(w->dnorm);
    free(w->why); free(w->may_trigger);
    for (int f = 0; f < MON_NFILES; f++)
        cnp_tilefile_close(&w->prev[f]);
    free(w->red); free(w->nir); free(w->ndvi); free(w->base2); free(w->dndvi); free(w->hist);
    free(w->observed); free(w->obs); free(w->pix3); free(w->event); free(w->bdate);
    free(w->id); free(w->idprev);
    free(w->tr); free(w->ts); free(w->oa); free(w->aa); free(w->ur);
    memset(w, 0, sizeof *w);
}

static cnp_status worker_init(void *ctx, void *wp)
{
    mon_step *s = ctx;
    worker *w = wp;
    const size_t tn = (size_t)CNP_TILE * CNP_TILE;
    cnp_status st;

    w->red = malloc(tn * sizeof(float));
    w->nir = malloc(tn * sizeof(float));
    w->ndvi = malloc(tn * sizeof(float));
    w->base2 = malloc(2 * tn * sizeof(float));
    w->dndvi = malloc(tn * sizeof(float));
    const int hp = mon_hist_planes(s->c->s);
    w->hist = malloc((size_t)(hp ? hp : 1) * tn * sizeof(float));
    w->observed = malloc(tn);
    w->obs = malloc(tn);
    w->pix3 = malloc(3 * tn);
    w->event = malloc(tn);
    w->bdate = malloc(tn * sizeof(int32_t));
    w->id = malloc(tn * sizeof(uint32_t));
    w->idprev = malloc(tn * sizeof(uint32_t));
    if (!w->red || !w->nir || !w->ndvi || !w->base2 || !w->dndvi || !w->hist || !w->observed ||
        !w->obs || !w->pix3 || !w->event || !w->bdate || !w->id || !w->idprev)
        return cnp_err(CNP_E_NOMEM, "out of memory for %dx%d tiles", CNP_TILE, CNP_TILE);
    if (!s->fp->store && s->fp->dir[0]) {
        char path[4400], what[160];
        cnp_tilefile_def defs[MON_NFILES];
        const int nf = mon_state_defs(s->fp->hist_k, defs);
        snprintf(what, sizeof what, "state of footprint %s", s->fp->key);
        if (s->fp->hist_k && s->fp->hist_k != hp) {
            __atomic_store_n(&s->state_failed, 1, __ATOMIC_RELAXED);
            return cnp_err(CNP_E_DATA, "%s: a history of %d observations, not %d as its "
                           "settings say", what, s->fp->hist_k, s->c->s->baseline_obs);
        }
        for (int f = 0; f < nf; f++) {
            snprintf(path, sizeof path, "%s/%s", s->fp->dir, defs[f].name);
            if ((st = cnp_tilefile_open(path, s->fp->width, s->fp->height, defs[f].bands,
                                        what, &w->prev[f])) != CNP_OK) {
                __atomic_store_n(&s->state_failed, 1, __ATOMIC_RELAXED);
                return st;
            }
        }
    }
    if (s->ctxm) {
        w->why = malloc(tn);
        w->may_trigger = malloc(tn);
        if (!w->why || !w->may_trigger)
            return cnp_err(CNP_E_NOMEM, "out of memory for %dx%d tiles", CNP_TILE, CNP_TILE);
        if ((st = cnp_ctxmask_reader_open(s->ctxm, tn, &w->ctxr)) != CNP_OK) {
            __atomic_store_n(&s->scene_failed, 1, __ATOMIC_RELAXED);
            return st;
        }
    }
    if ((st = cnp_reader_open(s->sc, s->c->s, &w->rd)) != CNP_OK) {
        __atomic_store_n(&s->scene_failed, 1, __ATOMIC_RELAXED);
        return st;
    }
    w->dn_u16 = cnp_reader_dn_u16(w->rd);
    if (s->norm && ((st = mon_norm_ws_open(s->norm, w->rd, tn, &w->nws)) != CNP_OK ||
                    !(w->dnorm = malloc(tn * sizeof *w->dnorm))))
        return st != CNP_OK ? st : cnp_err(CNP_E_NOMEM, "out of memory");
    return CNP_OK;
}

/* The worker's tile buffers as the store's planes (np of them). */
static int tile_planes(const mon_step *s, worker *w, size_t n,
                       void *plane[MON_P_HIST + CNP_MONITOR_HIST_MAX])
{
    plane[MON_P_BASE] = w->base2;
    plane[MON_P_LOSS] = w->base2 + n;
    plane[MON_P_DATE] = w->bdate;
    plane[MON_P_STATE] = w->pix3;
    plane[MON_P_NOBS] = w->pix3 + n;
    plane[MON_P_NLOSS] = w->pix3 + 2 * n;
    plane[MON_P_ID] = w->id;
    const int k = mon_hist_planes(s->c->s);
    for (int j = 0; j < k; j++)
        plane[MON_P_HIST + j] = w->hist + (size_t)j * n;
    return MON_P_HIST + k;
}

/* The tile's previous state: this run's last step, the generation's files,
 * or a new footprint's empty state. */
static cnp_status read_state(mon_step *s, worker *w, size_t n)
{
    float *base = w->base2, *loss = w->base2 + n;
    const size_t nh = (size_t)mon_hist_planes(s->c->s) * n;
    /* The first pass of the corrections needs the baseline alone. */
    const int only_base = s->stage == 1;
    if (s->fp->store) {
        void *plane[MON_P_HIST + CNP_MONITOR_HIST_MAX];
        const int np = only_base ? 1 : tile_planes(s, w, n, plane);
        plane[MON_P_BASE] = w->base2;
        const int tx = w->x0 / CNP_TILE, ty = w->y0 / CNP_TILE;
        for (int p = 0; p < np; p++) {
            const cnp_status st = cnp_tilestore_read(s->fp->store, tx, ty, p, plane[p]);
            if (st != CNP_OK) {
                __atomic_store_n(&s->state_failed, 1, __ATOMIC_RELAXED);
                return st;
            }
        }
        return CNP_OK;
    }
    if (!w->prev[MON_F_NDVI]) {
        for (size_t i = 0; i < n; i++)
            base[i] = loss[i] = NAN;
        for (size_t i = 0; i < nh; i++)
            w->hist[i] = NAN;
        memset(w->bdate, 0, n * sizeof *w->bdate);
        memset(w->pix3, 0, 3 * n);
        memset(w->id, 0, n * sizeof *w->id);
        return CNP_OK;
    }
    void *buf[MON_NFILES] = { w->base2, w->bdate, w->pix3, w->id, w->hist };
    for (int f = 0; f < (only_base ? 1 : MON_NFILES); f++) {
        if (!w->prev[f])
            continue;
        const cnp_status st = cnp_tilefile_read(w->prev[f], w->x0, w->y0, w->tw, w->th,
                                                files[f].type, buf[f]);
        if (st != CNP_OK) {
            __atomic_store_n(&s->state_failed, 1, __ATOMIC_RELAXED);
            return st;
        }
    }
    if (!w->prev[MON_F_HIST] && nh && !only_base) {
        /* An earlier version's state: each baseline is a history of one. */
        memcpy(w->hist, base, n * sizeof *base);
        for (size_t i = n; i < nh; i++)
            w->hist[i] = NAN;
    }
    return CNP_OK;
}

/* The scene's NDVI on the tile, or nothing where it does not reach. */
static cnp_status read_scene(mon_step *s, worker *w, size_t n)
{
    const int inside = w->x0 < s->win[0] + s->win[2] && w->x0 + w->tw > s->win[0] &&
                       w->y0 < s->win[1] + s->win[3] && w->y0 + w->th > s->win[1];
    if (!inside) {
        for (size_t i = 0; i < n; i++) {
            w->ndvi[i] = NAN;
            w->obs[i] = CNP_OBS_NODATA;
        }
        return CNP_OK;
    }
    /* UInt16 bands stay UInt16 (in the float buffers' memory): no conversion. */
    uint16_t *red16 = (uint16_t *)(void *)w->red, *nir16 = (uint16_t *)(void *)w->nir;
    const cnp_status st =
        w->dn_u16 ? cnp_reader_read_u16(w->rd, w->x0, w->y0, w->tw, w->th, red16, nir16,
                                        w->observed)
                  : cnp_reader_read(w->rd, w->x0, w->y0, w->tw, w->th, w->red, w->nir,
                                    w->observed);
    if (st != CNP_OK) {
        __atomic_store_n(&s->scene_failed, 1, __ATOMIC_RELAXED);
        return st;
    }
    const cnp_status ost =
        w->dn_u16 ? cnp_monitor_observe_u16(&s->sc->radiometry, red16, nir16, w->observed, n,
                                            w->ndvi, w->obs)
                  : cnp_monitor_observe(&s->sc->radiometry, w->red, w->nir, w->observed, n,
                                        w->ndvi, w->obs);
    if (ost != CNP_OK)
        return cnp_err(CNP_E_ARG, "NDVI of a tile failed");
    return CNP_OK;
}

/* The context masks on the tile: outside the area of interest the scene is
 * not looked at (nothing changes there, and it counts as neither observed
 * nor unobserved); where a mask rules forest out, no pixel triggers.
 * @return the pixels outside. */
static cnp_status apply_context(mon_step *s, worker *w, size_t n, int64_t *outside)
{
    *outside = 0;
    const cnp_status st = cnp_ctxmask_classify(w->ctxr, w->x0, w->y0, w->tw, w->th, w->why);
    if (st != CNP_OK) {
        __atomic_store_n(&s->scene_failed, 1, __ATOMIC_RELAXED);
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        w->may_trigger[i] = w->why[i] == CNP_CTX_IN;
        if (w->why[i] == CNP_CTX_OUTSIDE) {
            w->ndvi[i] = NAN;
            w->obs[i] = CNP_OBS_NODATA;
            (*outside)++;
        }
    }
    return CNP_OK;
}

/* What the scene saw of each existing alert, in pixel order. */
static cnp_status note_observations(mon_step *s, worker *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint32_t k = w->idprev[i];
        if (!k)
            continue;
        if (k >= s->nacc)
            return cnp_err(CNP_E_DATA, "state of footprint %s: alert id %u at %d,%d is beyond "
                           "the last one issued (%u)", s->fp->key, k,
                           w->x0 + (int)(i % (size_t)w->tw), w->y0 + (int)(i / (size_t)w->tw),
                           s->fp->next_seq - 1);
        cnp_status st = grow((void **)&w->oa, &w->oa_cap, w->noa + 1, sizeof *w->oa);
        if (st != CNP_OK)
            return st;
        w->oa[w->noa++] = (obs_add){ k, w->obs[i], w->event[i], w->dndvi[i] };
    }
    return CNP_OK;
}

/* The tile's runs of alert pixels, split by alert id. */
static cnp_status collect_runs(worker *w, size_t n)
{
    const uint8_t *state = w->pix3;
    const float *loss = w->base2 + n;
    cnp_status st;
    for (int r = 0; r < w->th; r++) {
        const size_t row = (size_t)r * (size_t)w->tw;
        const int32_t y = w->y0 + r;
        for (int x = 0; x < w->tw;) {
            if (!is_active(state[row + (size_t)x])) {
                x++;
                continue;
            }
            if ((st = grow((void **)&w->tr, &w->tr_cap, w->ntr + 1, sizeof *w->tr)) != CNP_OK)
                return st;
            tile_run *t = &w->tr[w->ntr++];
            memset(t, 0, sizeof *t);
            t->run.y = y;
            t->run.x0 = w->x0 + x;
            t->first_seg = w->nts;
            for (; x < w->tw && is_active(state[row + (size_t)x]); x++) {
                const size_t i = row + (size_t)x;
                const uint32_t k = w->id[i];
                if (k) {
                    if (!t->a.min_id || k < t->a.min_id)
                        t->a.min_id = k;
                    if ((st = grow((void **)&w->aa, &w->aa_cap, w->naa + 1, sizeof *w->aa)) !=
                        CNP_OK)
                        return st;
                    w->aa[w->naa++] = (act_add){ k, state[i], loss[i], w->x0 + x, y };
                } else {
                    mon_run_acc *u = &t->a;
                    u->unassigned++;
                    u->u_prob += state[i] == CNP_PIX_PROBABLE;
                    u->u_conf += state[i] == CNP_PIX_CONFIRMED;
                    u->u_clear += w->obs[i] == CNP_OBS_CLEAR;
                    u->u_cloudy += w->obs[i] == CNP_OBS_CLOUDY;
                    u->u_nodata += w->obs[i] == CNP_OBS_NODATA;
                    if (w->obs[i] == CNP_OBS_CLEAR && !isnan(w->dndvi[i]))
                        u->u_sum_dndvi += w->dndvi[i];
                    u->u_sum_loss += isnan(loss[i]) ? 0.0 : loss[i];
                    u->u_sum_x += w->x0 + x + 0.5;
                    u->u_sum_y += y + 0.5;
                }
                if (w->nts > t->first_seg && w->ts[w->nts - 1].id == k &&
                    w->ts[w->nts - 1].x1 == w->x0 + x) {
                    w->ts[w->nts - 1].x1++;
                } else {
                    if ((st = grow((void **)&w->ts, &w->ts_cap, w->nts + 1, sizeof *w->ts)) !=
                        CNP_OK)
                        return st;
                    w->ts[w->nts++] = (mon_id_seg){ y, w->x0 + x, w->x0 + x + 1, k, 0 };
                }
            }
            t->run.x1 = w->x0 + x;
            t->nseg = w->nts - t->first_seg;
        }
    }
    return CNP_OK;
}

/* A failure reading or correcting the scene makes it one failed input. */
static cnp_status scene_status(mon_step *s, cnp_status st)
{
    if (st != CNP_OK)
        __atomic_store_n(&s->scene_failed, 1, __ATOMIC_RELAXED);
    return st;
}

/* One tile (a unit is one tile: its state is written when it is merged). */
static cnp_status process_tile(void *ctx, void *wp, const cnp_unit *u)
{
    mon_step *s = ctx;
    worker *w = wp;
    w->x0 = u->x0;
    w->y0 = u->y0;
    w->tw = u->w;
    w->th = u->h;
    const size_t n = (size_t)w->tw * (size_t)w->th;
    cnp_status st;

    w->ntr = w->nts = w->noa = w->naa = 0;
    memset(&w->counts, 0, sizeof w->counts);
    if ((st = read_scene(s, w, n)) != CNP_OK || (st = read_state(s, w, n)) != CNP_OK)
        return st;
    mon_norm_tile nt = { w->x0, w->y0, w->tw, w->th, w->dn_u16, w->red, w->nir, w->ndvi,
                         w->obs, w->base2 };
    if (s->stage == 1)
        return scene_status(s, mon_norm_gather(s->norm, w->nws, w->rd, &nt));
    if (s->stage == 2 && (st = scene_status(s, mon_norm_apply(s->norm, w->nws, w->rd, &nt,
                                                              w->dnorm))) != CNP_OK)
        return st;
    int64_t outside = 0;
    if (w->ctxr && (st = apply_context(s, w, n, &outside)) != CNP_OK)
        return st;
    if ((st = mon_gaps_tile(w->obs, w->base2, w->ctxr ? w->why : NULL, w->x0, w->y0, w->tw,
                            w->th, &w->ur, &w->nur, &w->ur_cap)) != CNP_OK)
        return st;
    memcpy(w->idprev, w->id, n * sizeof *w->id);
    cnp_monitor_pixels px = { n, w->ndvi, w->obs, w->base2, w->bdate, w->pix3, w->pix3 + n,
                              w->pix3 + 2 * n, w->base2 + n, w->id, w->dndvi, w->event,
                              mon_hist_planes(s->c->s), w->hist,
                              w->ctxr ? w->may_trigger : NULL,
                              mon_norm_active(s->norm) ? w->dnorm : NULL };
    if (cnp_monitor_update(&s->c->rule, s->date, &px, &w->counts) != CNP_OK)
        return cnp_err(CNP_E_ARG, "monitor update of a tile failed");
    w->counts.nodata -= outside;
    if ((st = note_observations(s, w, n)) != CNP_OK || (st = collect_runs(w, n)) != CNP_OK)
        return st;
    /* The updated tile is the step's state: each worker writes its own tiles. */
    void *plane[MON_P_HIST + CNP_MONITOR_HIST_MAX];
    const int np = tile_planes(s, w, n, plane);
    for (int p = 0; p < np; p++)
        if ((st = cnp_tilestore_write(s->store, w->x0 / CNP_TILE, w->y0 / CNP_TILE, p,
                                      plane[p])) != CNP_OK) {
            __atomic_store_n(&s->state_failed, 1, __ATOMIC_RELAXED);
            return st;
        }
    return CNP_OK;
}

/* ---- merging tiles in scan order ---------------------------------------------- */

static void run_acc_add(mon_run_acc *d, const mon_run_acc *a)
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

static cnp_status push_seg(mon_step *s, const mon_id_seg *g, uint32_t run)
{
    if (s->nsegs) {
        mon_id_seg *last = &s->segs[s->nsegs - 1];
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

/* A tile run joins the footprint's runs: its sums and its id segments. */
static cnp_status fold_run(void *arg, size_t i, int extended)
{
    mon_step *s = arg;
    const tile_run *t = &s->strip->tr[i];
    cnp_status st = grow((void **)&s->ra, &s->ra_cap, s->act.n, sizeof *s->ra);
    if (st != CNP_OK)
        return st;
    if (extended)
        run_acc_add(&s->ra[s->act.n - 1], &t->a);
    else
        s->ra[s->act.n - 1] = t->a;
    for (size_t j = 0; j < t->nseg; j++)
        if ((st = push_seg(s, &s->strip->ts[t->first_seg + j], (uint32_t)(s->act.n - 1))) !=
            CNP_OK)
            return st;
    return CNP_OK;
}

/* The tile's additions to existing alerts, in the order the pixels came. */
static void add_to_alerts(mon_step *s, const worker *w)
{
    for (size_t j = 0; j < w->noa; j++) {
        const obs_add *o = &w->oa[j];
        mon_id_acc *a = &s->acc[o->id];
        switch (o->obs) {
        case CNP_OBS_CLEAR:
            a->o_clear++;
            if (!isnan(o->dndvi))
                a->o_sum_dndvi += o->dndvi;
            break;
        case CNP_OBS_CLOUDY: a->o_cloudy++; break;
        default:             a->o_nodata++; break;
        }
        a->ev_support += o->event == CNP_EV_SUPPORT;
        a->ev_confirm += o->event == CNP_EV_CONFIRM;
        a->ev_contradict += o->event == CNP_EV_CONTRADICT;
        a->ev_reject += o->event == CNP_EV_REJECT;
    }
    for (size_t j = 0; j < w->naa; j++) {
        const act_add *p = &w->aa[j];
        mon_id_acc *a = &s->acc[p->id];
        a->prob += p->state == CNP_PIX_PROBABLE;
        a->conf += p->state == CNP_PIX_CONFIRMED;
        a->sum_loss += isnan(p->loss) ? 0.0 : p->loss;
        a->sum_x += p->x + 0.5;
        a->sum_y += p->y + 0.5;
    }
}

static cnp_status strip_add(mon_strip *sp, const worker *w, int k)
{
    cnp_status st;
    if (k == 0)
        sp->ntr = sp->nts = 0;
    if ((st = grow((void **)&sp->tr, &sp->tr_cap, sp->ntr + w->ntr, sizeof *sp->tr)) != CNP_OK ||
        (st = grow((void **)&sp->ts, &sp->ts_cap, sp->nts + w->nts, sizeof *sp->ts)) != CNP_OK)
        return st;
    sp->tile_first[k] = sp->ntr;
    for (size_t i = 0; i < w->ntr; i++) {
        sp->tr[sp->ntr + i] = w->tr[i];
        sp->tr[sp->ntr + i].first_seg += sp->nts;
    }
    if (w->nts)
        memcpy(sp->ts + sp->nts, w->ts, w->nts * sizeof *w->ts);
    sp->ntr += w->ntr;
    sp->nts += w->nts;
    sp->tile_first[k + 1] = sp->ntr;
    if (k == 0)
        sp->nur = 0;
    if ((st = grow((void **)&sp->ur, &sp->ur_cap, sp->nur + w->nur, sizeof *sp->ur)) != CNP_OK)
        return st;
    sp->ur_first[k] = sp->nur;
    if (w->nur)
        memcpy(sp->ur + sp->nur, w->ur, w->nur * sizeof *w->ur);
    sp->nur += w->nur;
    sp->ur_first[k + 1] = sp->nur;
    return CNP_OK;
}

static cnp_status merge_tile(void *ctx, void *wp, const cnp_unit *u)
{
    mon_step *s = ctx;
    worker *w = wp;
    cnp_status st;

    if (s->norm && (st = mon_norm_merge(s->norm, w->nws)) != CNP_OK)
        return st;
    if (s->stage == 1)
        return CNP_OK;
    add_to_alerts(s, w);
    cnp_monitor_counts *c = &s->counts;
    c->clear += w->counts.clear;
    c->cloudy += w->counts.cloudy;
    c->nodata += w->counts.nodata;
    c->triggered += w->counts.triggered;
    c->supported += w->counts.supported;
    c->confirmed += w->counts.confirmed;
    c->contradicted += w->counts.contradicted;
    c->rejected += w->counts.rejected;
    if ((st = strip_add(s->strip, w, u->k0)) != CNP_OK)
        return st;
    if (u->k1 < s->tiling.ntiles)
        return CNP_OK;
    /* The strip is complete: its runs join the footprint's. */
    st = cnp_runs_merge_tiles(&s->act, s->strip->tr, sizeof *s->strip->tr,
                              s->strip->tile_first, s->tiling.ntiles, u->y0, u->h,
                              s->strip->tile_pos, fold_run, s);
    if (st == CNP_OK)
        st = cnp_runs_merge_tiles(&s->unobs, s->strip->ur, sizeof *s->strip->ur,
                                  s->strip->ur_first, s->tiling.ntiles, u->y0, u->h,
                                  s->strip->tile_pos, NULL, NULL);
    if (st != CNP_OK)
        return cnp_err(st, "out of memory for alert runs");
    if (u->strip == 0)
        mon_crash_point("mid-step");
    return CNP_OK;
}

/* ---- the pass ---------------------------------------------------------------------- */

cnp_status mon_pass_run(mon_step *s, uint32_t *old_next, uint32_t *new_next)
{
    const int grid[4] = { 0, 0, s->fp->width, s->fp->height };
    mon_strip strip;
    cnp_status st;

    memset(&strip, 0, sizeof strip);
    cnp_runs_init(&s->act);
    cnp_runs_init(&s->unobs);
    cnp_tiling_fixed(&s->tiling, grid, CNP_TILE);
    /* A unit is one tile, merged (and its state written) as soon as it is
     * next in order, so a worker holds one tile. */
    s->tiling.nparts = s->tiling.ntiles;
    strip.tile_first = malloc(((size_t)s->tiling.ntiles + 1) * sizeof *strip.tile_first);
    strip.tile_pos = malloc(((size_t)s->tiling.ntiles + 1) * sizeof *strip.tile_pos);
    strip.ur_first = malloc(((size_t)s->tiling.ntiles + 1) * sizeof *strip.ur_first);
    if (!strip.tile_first || !strip.tile_pos || !strip.ur_first) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
        goto done;
    }
    s->strip = &strip;
    char path[4400];
    snprintf(path, sizeof path, "%s/state.tiles", s->dir);
    /* The planes' element sizes: files[] types, history planes float. */
    size_t plane_size[MON_P_HIST + CNP_MONITOR_HIST_MAX];
    const int np = MON_P_HIST + mon_hist_planes(s->c->s);
    for (int f = 0; f < MON_F_HIST; f++)
        for (int b = 0; b < files[f].bands; b++)
            plane_size[files[f].plane + b] = files[f].type == CNP_CELL_BYTE ? 1 : 4;
    for (int p = MON_P_HIST; p < np; p++)
        plane_size[p] = sizeof(float);
    if ((st = mon_acc_reserve(s, s->fp->next_seq)) != CNP_OK ||
        (st = cnp_tilestore_create(path, s->fp->width, s->fp->height, CNP_TILE, np,
                                   plane_size, &s->store)) != CNP_OK)
        goto done;
    const cnp_engine_ops ops = {
        .ctx = s, .worker_size = sizeof(worker), .worker_init = worker_init,
        .worker_free = worker_free, .process = process_tile, .merge = merge_tile,
    };
    const int threads = cnp_engine_threads(&s->tiling, s->threads, 0);
    /* With corrections, a first pass gathers them (cnp_monitor_norm.c). */
    s->stage = s->norm ? 1 : 0;
    if (s->norm && ((st = cnp_engine_run(&s->tiling, threads, &ops)) != CNP_OK ||
                    (st = scene_status(s, mon_norm_finish(s->norm))) != CNP_OK))
        goto done;
    s->stage = s->norm ? 2 : 0;
    if ((st = cnp_engine_run(&s->tiling, threads, &ops)) != CNP_OK)
        goto done;
    st = mon_assign_ids(s, old_next, new_next);

done:
    s->strip = NULL;
    free(strip.tr);
    free(strip.ts);
    free(strip.tile_first);
    free(strip.tile_pos);
    free(strip.ur);
    free(strip.ur_first);
    return st;
}

void mon_pass_free(mon_step *s)
{
    cnp_tilestore_close(&s->store, 1);
    cnp_runs_free(&s->act);
    cnp_runs_free(&s->unobs);
    free(s->run_flags);
    s->run_flags = NULL;
    free(s->ra);
    free(s->segs);
    free(s->acc);
    s->ra = NULL;
    s->segs = NULL;
    s->acc = NULL;
    s->ra_cap = s->nsegs = s->segs_cap = s->nacc = 0;
}
