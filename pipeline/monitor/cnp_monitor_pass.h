/* pipeline/monitor/cnp_monitor_pass.h - one scene applied to a footprint's
 * state: the pass over the grid and what it leaves for the alert records.
 *
 *   cnp_monitor_pass.c    the pass on the tile engine: state tiles and the
 *                         scene read, updated by the kernel, written; runs of
 *                         alert pixels labelled; new alert ids assigned
 *   cnp_monitor_alerts.c  the minimum mapping unit, alert records, observation
 *                         rows, outlines
 *   cnp_monitor_step.c    which footprint a scene belongs to, its grid, and
 *                         undoing a failed step
 *   cnp_monitor_ids.c     components of alert pixels and their ids
 *   cnp_monitor_gaps.c    alert pieces joined across unobserved gaps
 *   cnp_monitor_coreg.c   the scene's shift against the footprint's baseline
 *   cnp_monitor_norm.c    detect's normalisation and haze test of the scene
 */
#ifndef CNP_MONITOR_PASS_H
#define CNP_MONITOR_PASS_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_ctxmask.h"
#include "cnp_engine.h"
#include "cnp_result.h"
#include "cnp_monitor_int.h"
#include "cnp_raster.h"
#include "cnp_runs.h"
#include "cnp_tilefile.h"
#include "cnp_tilestore.h"

/* The state files of a footprint, and the planes of the tile store a run
 * keeps them in (in this order: ndvi.tif's two bands are planes 0 and 1...).
 * history.tif has K bands (planes MON_P_HIST ...): each pixel's last K clear
 * observations of its baseline, newest first; states of earlier versions,
 * and those with K = 1, have no history.tif. */
enum { MON_F_NDVI = 0, MON_F_DATE, MON_F_PIXEL, MON_F_ID, MON_F_HIST, MON_NFILES };
enum { MON_P_BASE = 0, MON_P_LOSS, MON_P_DATE, MON_P_STATE, MON_P_NOBS, MON_P_NLOSS, MON_P_ID,
       MON_P_HIST };
_Static_assert(MON_P_HIST + CNP_MONITOR_HIST_MAX <= CNP_TILESTORE_MAX_PLANES, "store planes");

/* mon_hist_planes() : the history planes a state keeps: baseline_obs, or
 * none for 1 (the baseline is then the history: the state is as earlier
 * versions wrote it, and costs nothing more). */
int mon_hist_planes(const cnp_settings *s);

/* mon_state_defs() : the state files of a footprint with a history of k
 * (0: none, as an earlier version's state) into defs; @return how many. */
int mon_state_defs(int k, cnp_tilefile_def defs[MON_NFILES]);

/* A run of alert pixels, with what its pixels without an alert id
 * contribute (they get the id of their component later). */
typedef struct mon_run_acc {
    uint32_t min_id;                     /* smallest nonzero id in the run   */
    int64_t  unassigned, u_prob, u_conf, u_clear, u_cloudy, u_nodata;
    double   u_sum_dndvi, u_sum_loss, u_sum_x, u_sum_y;
} mon_run_acc;

/* A piece of a run with one alert id (0 = none yet; `run` then says which
 * run of the footprint it belongs to). */
typedef struct mon_id_seg {
    int32_t  y, x0, x1;
    uint32_t id;
    uint32_t run;
} mon_id_seg;

/* Per alert id: what this scene saw of it and what it holds afterwards. */
typedef struct mon_id_acc {
    int64_t o_clear, o_cloudy, o_nodata;
    double  o_sum_dndvi;
    int64_t ev_support, ev_confirm, ev_contradict, ev_reject;
    int64_t prob, conf, grown;
    double  sum_loss, sum_x, sum_y;
    int     partial;                 /* a run of it has cnp_gaps flags        */
} mon_id_acc;

typedef struct mon_norm mon_norm;

typedef struct mon_step {
    mon_ctx         *c;
    mon_fp          *fp;
    const mon_input *in;
    cnp_scene       *sc;              /* on the footprint's grid              */
    int              win[4];          /* the part of the grid the scene covers */
    int32_t          date;            /* YYYYMMDD                             */
    char             dir[4200];       /* the step's folder                    */
    int              threads;
    cnp_ctxmask     *ctxm;            /* --forest-mask, --exclude, --aoi on the
                                         footprint's grid (NULL: none)       */
    mon_norm        *norm;            /* the scene's corrections (NULL: none) */
    int              stage;           /* 0 the one pass; with corrections 1
                                         gathers them, 2 applies them         */
    /* the pass */
    cnp_tiling       tiling;
    cnp_tilestore   *store;           /* the state this step writes            */
    struct mon_strip *strip;          /* the strip being merged               */
    int              scene_failed, state_failed;
    /* what it found */
    cnp_runs         act;             /* runs of alert pixels, scan order      */
    cnp_runs         unobs;           /* runs of pixels unobserved in this scene
                                         (cnp_monitor_gaps.c), scan order     */
    uint8_t         *run_flags;       /* cnp_gaps flags per run of act         */
    int              bridge_gap_px;   /* [detect] bridge_gap_m on the grid     */
    int64_t          bridges;
    mon_run_acc     *ra;              /* per run of act                       */
    size_t           ra_cap;
    mon_id_seg      *segs;            /* act's runs cut by alert id            */
    size_t           nsegs, segs_cap;
    mon_id_acc      *acc;             /* per alert id                          */
    size_t           nacc;
    cnp_monitor_counts counts;
} mon_step;

/* mon_pass_run() : the pass of s->sc over the footprint into s->dir, then the
 * alert ids: *old_next / *new_next bracket the ids handed out.
 * On failure s->scene_failed says whether reading the scene failed (the
 * scene is then one failed input) rather than the state. */
cnp_status mon_pass_run(mon_step *s, uint32_t *old_next, uint32_t *new_next);

/* mon_pass_free() : what the pass found. */
void mon_pass_free(mon_step *s);

/* mon_mmu_eligible() : the minimum mapping unit on the ellipsoid
 * (core/cnp_area.h), as detect applies it: eligible[c] = 1 when component c
 * of the runs s->act (labels `label`, cpx[c] pixels) reaches min_area
 * (cnp_monitor_alerts.c). */
cnp_status mon_mmu_eligible(mon_step *s, const uint32_t *label, size_t ncomp,
                            const int64_t *cpx, uint8_t *eligible);

/* mon_alerts_finish() : update the alert records of ids [1, new_next), write
 * observation rows and trace what changed (cnp_monitor_alerts.c). */
cnp_status mon_alerts_finish(mon_step *s, uint32_t old_next, uint32_t new_next,
                             mon_step_counts *counts);

/* mon_acc_reserve() : s->acc for ids [0, n) (new ones zeroed). */
cnp_status mon_acc_reserve(mon_step *s, size_t n);

/* mon_assign_ids() : label s->act into components and hand out their ids:
 * *old_next / *new_next bracket the new ones (cnp_monitor_ids.c). */
cnp_status mon_assign_ids(mon_step *s, uint32_t *old_next, uint32_t *new_next);

/* mon_gaps_tile() : the runs of unobserved pixels of a tile (x0, y0, tw x
 * th; the scene's obs, the baseline before it, the context masks' CNP_CTX_*
 * or NULL) into *runs (n of them, cap grown), scan order
 * (cnp_monitor_gaps.c). */
cnp_status mon_gaps_tile(const uint8_t *obs, const float *base, const uint8_t *why, int x0,
                         int y0, int tw, int th, cnp_run **runs, size_t *n, size_t *cap);

/* mon_gaps_bridge() : join s->act's runs (linked) across s->unobs's gaps of
 * up to bridge_gap_m, and set s->run_flags (cnp_gaps.h). */
cnp_status mon_gaps_bridge(mon_step *s);

/* mon_gaps_partial() : s->acc[id].partial for every alert id whose runs
 * bear a cnp_gaps flag (after the ids are assigned). */
void mon_gaps_partial(mon_step *s);

/* mon_coreg_scene() : measure sc's shift (on the footprint's grid, window
 * win) against fp's baseline and, in [coreg] mode auto, correct it or
 * refuse the scene (CNP_E_DATA) (cnp_monitor_coreg.c). *state_failed: the
 * failure was reading the state, not the scene. */
cnp_status mon_coreg_scene(const mon_ctx *c, const mon_fp *fp, cnp_scene *sc, const int win[4],
                           cnp_coreg_summary *out, int *state_failed);

/* mon_coreg_note() : what was measured, one line for the log ("" when
 * nothing was). */
void mon_coreg_note(const cnp_coreg_summary *c, char *out, size_t size);

/* ---- cnp_monitor_norm.c: detect's corrections of the scene ---------------- */

typedef struct mon_norm_ws mon_norm_ws;

/* One tile of the scene and the baseline, on the footprint's grid. */
typedef struct mon_norm_tile {
    int          x0, y0, tw, th;
    int          dn_u16;              /* red and NIR hold UInt16 DNs            */
    const float *red, *nir;           /* as read                                */
    float       *ndvi;                /* in/out: NAN where not clear            */
    uint8_t     *obs;                 /* in/out: CNP_OBS_*                      */
    const float *base;                /* the baseline NDVI, NAN = none          */
} mon_norm_tile;

/* mon_norm_open() : what scene sc (window win of fp's grid) needs by the
 * run's c->normalize and c->haze: *out NULL when neither applies (the
 * normalisation needs a baseline, the haze test a blue band). */
cnp_status mon_norm_open(const mon_ctx *c, const mon_fp *fp, const cnp_scene *sc,
                         const int win[4], mon_norm **out);
void mon_norm_free(mon_norm **m);

/* A worker's buffers for tiles of n pixels, read through rd. */
cnp_status mon_norm_ws_open(const mon_norm *m, cnp_reader *rd, size_t n, mon_norm_ws **out);
void mon_norm_ws_free(mon_norm_ws **w);

/* mon_norm_gather() : the first pass's share of one tile (any order);
 * mon_norm_merge() adds it (and the second pass's counts) to m, one tile
 * at a time; mon_norm_finish() makes the corrections once all are in. */
cnp_status mon_norm_gather(const mon_norm *m, mon_norm_ws *w, cnp_reader *rd,
                           const mon_norm_tile *t);
cnp_status mon_norm_merge(mon_norm *m, mon_norm_ws *w);
cnp_status mon_norm_finish(mon_norm *m);

/* mon_norm_apply() : the corrections on one tile: hazy pixels become
 * CNP_OBS_CLOUDY (not clearly observed), t->ndvi the corrected NDVI and
 * dnorm (t->tw x t->th) detect's normalised dNDVI against t->base (NAN
 * where either is). dnorm is left NAN without normalisation. */
cnp_status mon_norm_apply(const mon_norm *m, mon_norm_ws *w, cnp_reader *rd, mon_norm_tile *t,
                          float *dnorm);
/* mon_norm_active() : 1 when m corrects dNDVI (dnorm is meaningful). */
int mon_norm_active(const mon_norm *m);

/* mon_norm_note() : what was applied, one line for the log ("" for none). */
void mon_norm_note(const mon_norm *m, char *out, size_t size);

#endif /* CNP_MONITOR_PASS_H */
