/* pipeline/monitor/cnp_monitor_int.h - internals shared by the cnp_monitor_*.c files.
 *
 *   cnp_monitor_cmd.c    options, lock, reconcile, the run, hook
 *   cnp_monitor_log.c    the JSON log line
 *   cnp_monitor_state.c  state generations: CURRENT, state.json, outbox.json
 *   cnp_monitor_scan.c   finding inputs (products, archives, STAC, rasters)
 *   cnp_monitor_step.c   one scene applied to one footprint, tile by tile
 *   cnp_monitor_db.c     the alerts database through OGR (GPKG or PG:)
 *   cnp_monitor_layers.c the context layers: settings lines and contents
 *
 * Layout of a state folder DIR:
 *   DIR/lock                 flock(2) target: one run at a time
 *   DIR/CURRENT              {"generation": N, "notified": K} (atomic rename)
 *   DIR/state/gNNNNNNNN/     generation N: state.json, outbox.json and
 *                            <footprint>/{ndvi,date,pixel,alert_id,history}.tif
 *                            (history.tif: none in states of earlier versions)
 *   DIR/state/work-PID/      a run in progress (removed by the next run)
 *   DIR/alerts.gpkg          the database unless --db
 *   DIR/runs/<UTC>-gN/       new_alerts.geojson of generation N
 */
#ifndef CNP_MONITOR_INT_H
#define CNP_MONITOR_INT_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "cnp_config.h"
#include "cnp_fs.h"
#include "cnp_ident.h"
#include "cnp_monitor.h"
#include "cnp_status.h"

#define MON_ID_LEN 96
#define MON_SCENE_LEN 200
/* A valid key fits its buffers, with "-<seq>" in an alert id. */
_Static_assert(CNP_IDENT_KEY_MAX + 12 < MON_ID_LEN && CNP_IDENT_KEY_MAX < 64, "key sizes");
_Static_assert(CNP_IDENT_ID_MAX < MON_SCENE_LEN, "scene id size");

/* One alert as the state keeps it (and as the `alerts` table shows it). */
typedef struct mon_alert {
    uint32_t seq;                       /* the number in the alert-id raster  */
    char     id[MON_ID_LEN];            /* "<footprint key>-<seq, 6 digits>" */
    int      status;                    /* CNP_ALERT_*                        */
    char     first_detected[CNP_DATE_LEN], confirmed_at[CNP_DATE_LEN];
    char     rejected_at[CNP_DATE_LEN], last_observed[CNP_DATE_LEN];
    char     first_scene[MON_SCENE_LEN];
    int64_t  n_observations, pixels, probable_pixels, confirmed_pixels;
    double   area_ha, mean_dndvi, centroid_lon, centroid_lat;
    char    *geom_hex;                  /* WKB (little endian) as hex: a
                                           MultiPolygon in WGS84 lon/lat      */
    char    *zones;                     /* --zones: "name:ha;..." of its outline
                                           when last traced; NULL: none       */
    int      partially_observed;        /* when last traced, some of it bordered
                                           unobserved pixels or was joined across
                                           a gap (cnp_monitor_gaps.c)         */
    /* this run only (not saved) */
    int      touched, new_in_run, confirmed_in_run, rejected_in_run;
} mon_alert;

/* A footprint: a grid and the alerts on it. */
typedef struct mon_fp {
    char      key[64];                  /* an identifier (cnp_ident_check CNP_IDENT_KEY):
                                           mgrs-21LXK, wrs2-001-062, grid-1a2b3c4d */
    char      name[128];                /* as products say: "MGRS tile 21LXK" */
    char     *wkt;
    double    gt[6];
    int       width, height;
    char      last_date[CNP_DATE_LEN];  /* last scene applied                 */
    char      last_scene[MON_SCENE_LEN];
    char      format[512];              /* what the last scene looked like    */
    uint32_t  next_seq;                 /* next alert number (from 1)         */
    int       hist_k;                   /* bands of its history.tif: observations
                                           per pixel; 0 = none (an earlier
                                           version's state: one baseline each) */
    mon_alert *alerts;                  /* by increasing seq                  */
    size_t    nalerts, cap;
    /* this run only */
    int       touched, nsteps;
    char      dir[4200];                /* folder of its state in the generation
                                           it was loaded from, "" = none yet      */
    struct cnp_tilestore *store;        /* its state after this run's last step
                                           (NULL: none yet, read dir)            */
    char      step_dir[4200];           /* the folder that store is in           */
} mon_fp;

/* An input seen by some run (never processed again). */
typedef struct mon_seen {
    char *id, *path, *footprint, *date, *status, *reason, *signature, *product;
} mon_seen;

/* A row of the `observations` table. */
typedef struct mon_obs {
    char    alert_id[MON_ID_LEN], scene_id[MON_SCENE_LEN], date[CNP_DATE_LEN];
    char    footprint[64];
    int     status;                     /* CNP_OBS_* */
    int64_t clear_px, cloudy_px, nodata_px, new_px;
    double  dndvi;                      /* mean over clear pixels; NAN = null */
    char    effect[96];                 /* "triggered,confirmed", "none", ... */
} mon_obs;

typedef struct mon_newalert { char id[MON_ID_LEN]; char change[32]; } mon_newalert;

/* The `runs` row of a generation. */
typedef struct mon_runrow {
    int64_t generation;
    char    started[32], finished[32];
    int64_t scenes_processed, scenes_failed, scenes_skipped;
    int64_t alerts_new, alerts_confirmed, alerts_rejected;
    int     exit_status;
    char    message[512];
} mon_runrow;

/* What a generation writes to the database (outbox.json). */
typedef struct mon_outbox {
    mon_runrow   run;
    mon_seen    *scenes;  size_t nscenes, cap_scenes;   /* copies, owned      */
    mon_obs     *obs;     size_t nobs, cap_obs;
    char       (*touched)[MON_ID_LEN]; size_t ntouched, cap_touched;
    mon_newalert *news;   size_t nnews, cap_news;
} mon_outbox;

typedef struct mon_state {
    int64_t  generation;
    char    *settings_ini;              /* normalised settings the state was made with */
    char    *db;                        /* the database it writes to ("" = DIR/alerts.gpkg) */
    mon_fp  *fps;   size_t nfps, cap_fps;
    mon_seen *seen; size_t nseen, cap_seen;
    struct json_object *layers;         /* context_layers: [{role, path, sha256}] of
                                         * each file of its layers; NULL in a state
                                         * written before they were recorded */
} mon_state;

/* ---- cnp_monitor_state.c ------------------------------------------------ */

void mon_state_free(mon_state *s);
void mon_seen_free(mon_seen *r);
cnp_status mon_seen_copy(mon_seen *dst, const mon_seen *src);
/* Fill *dst with copies of the strings (NULL -> ""). */
cnp_status mon_seen_set(mon_seen *dst, const char *id, const char *path, const char *footprint,
                        const char *date, const char *status, const char *reason,
                        const char *signature, const char *product);
cnp_status mon_state_add_seen(mon_state *s, const mon_seen *r);
const mon_seen *mon_state_find_seen(const mon_state *s, const char *id);
mon_fp *mon_state_find_fp(mon_state *s, const char *key);
cnp_status mon_state_add_fp(mon_state *s, mon_fp **out);
mon_alert *mon_fp_alert(mon_fp *fp, uint32_t seq);
cnp_status mon_fp_add_alert(mon_fp *fp, uint32_t seq, mon_alert **out);
mon_alert *mon_state_find_alert(mon_state *s, const char *id);

void mon_outbox_free(mon_outbox *o);
cnp_status mon_outbox_add_scene(mon_outbox *o, const mon_seen *r);
cnp_status mon_outbox_add_obs(mon_outbox *o, const mon_obs *r);
cnp_status mon_outbox_touch(mon_outbox *o, const char *id);
cnp_status mon_outbox_add_new(mon_outbox *o, const char *id, const char *change);

/* The manifest: generation (0 = none yet) and the last one notified. */
cnp_status mon_current_read(const char *dir, int64_t *generation, int64_t *notified);
cnp_status mon_current_write(const char *dir, int64_t generation, int64_t notified);

/* DIR/state/gNNNNNNNN */
void mon_gen_dir(const char *dir, int64_t generation, char *out, size_t size);

/* Load state.json (and footprints) of a generation folder. */
cnp_status mon_state_load(const char *gen_dir, mon_state *s);
/* Write state.json / outbox.json into a folder (fsync'd). */
cnp_status mon_state_save(const char *gen_dir, const mon_state *s);
cnp_status mon_outbox_save(const char *gen_dir, const mon_outbox *o);
cnp_status mon_outbox_load(const char *gen_dir, mon_outbox *o);

/* Test hook: when $CANOPY_MONITOR_CRASH_AT is "name" or "name:K", the
 * process kills itself (SIGKILL) the K-th time (default 1st) it passes the
 * point `name`. */
void mon_crash_point(const char *name);

/* ---- cnp_monitor_scan.c ------------------------------------------------- */

typedef struct mon_input {
    char *path;                 /* as found                                */
    char *mask;                 /* sidecar mask of a plain raster, or NULL */
    int   is_product;
    char  id[MON_SCENE_LEN];
    char  old_id[MON_SCENE_LEN];  /* a raster's bare stem when its id got its
                                     folder's name (a clash); else ""          */
    char  date[CNP_DATE_LEN];
    char  date_option[CNP_DATE_LEN]; /* the date when only its file name gives it */
    char  fp_name[128];         /* product footprint ("MGRS tile 21LXK"), "" = by overlap */
    char  fp_key[64];           /* its key (cnp_ident_footprint_key), "" = by overlap */
    char  product[160];         /* "Sentinel-2 Level-2A", "GeoTIFF"        */
    char  format[512];          /* family, baseline, layout, bands, mask   */
    char  signature[64];        /* size and time of `path`                 */
    char *error;                /* why it cannot be used, or NULL          */
} mon_input;

typedef struct mon_inputs {
    mon_input *v;
    size_t     n, cap;
} mon_inputs;

struct cnp_product_session;

/* Find every input under `paths` by the one input discovery (io/cnp_discover.h;
 * `skip_dir`, the state folder, is not entered) in the run's product session.
 * An input that cannot be used is kept with its reason in ->error. A path
 * that does not exist is an error. Sorted by (date, id). */
cnp_status mon_scan(char *const *paths, int npaths, const cnp_settings *s, const char *skip_dir,
                    struct cnp_product_session *products, mon_inputs *out);
void mon_inputs_free(mon_inputs *in);

/* ---- cnp_monitor_step.c ------------------------------------------------- */

enum { CNP_MON_MAX_ZONES = 16 };

typedef struct mon_ctx {
    const cnp_settings *s;
    cnp_monitor_rule    rule;
    const char         *state_dir;
    char                work_dir[3800];
    mon_state          *st;
    mon_outbox         *ob;
    int                 quiet;
    const char *const  *zones;           /* --zones, --zone-field                */
    size_t              nzones;
    const char         *zone_field;
    const struct cnp_ctxmask_spec *ctx;  /* --forest-mask, --exclude, rules      */
    const char         *aoi;             /* --aoi, or NULL                       */
    struct json_object *coreg_log;       /* the log line's coregistration list  */
    int64_t            *aoi_repaired;    /* the most --aoi polygons MakeValid
                                            repaired on a footprint's grid       */
    struct json_object *corr_log;        /* the log line's corrections list     */
    int                 normalize, haze; /* what this run applies: the
                                            settings', or off for a state made
                                            before the monitor applied them   */
} mon_ctx;

typedef struct mon_step_counts {
    int64_t alerts_new, alerts_confirmed, alerts_rejected, alerts_grown;
} mon_step_counts;

/* Apply one input to its footprint (found or created). On CNP_OK the scene
 * was applied, or recorded as skipped/failed: *outcome says which
 * ("processed", "failed", "skipped") and `reason` why (for failed/skipped).
 * Another status is a failure of the run itself (state cannot be written). */
cnp_status mon_step_scene(mon_ctx *c, const mon_input *in, const char **outcome, char *reason,
                          size_t rsize, char *fp_key, size_t ksize, mon_step_counts *counts);

/* ---- cnp_monitor_log.c -------------------------------------------------- */

struct json_object;

/* The run's JSON line: counts, and per input what failed, was skipped or
 * changed format. */
typedef struct mon_log {
    const struct cnp_monitor_events *ev;   /* where the line goes (cnp_monitor_cmd.h) */
    struct json_object *o, *failures, *skipped, *format_changes, *coregistration;
    struct json_object *corrections;
    int64_t found, already_seen, processed, failed, skipped_n;
    mon_step_counts counts;
    int     has_aoi;                     /* --aoi given: aoi_repaired is logged */
    int64_t aoi_repaired;
} mon_log;

void mon_log_init(mon_log *l, const char *state_dir, const char *started);
void mon_log_str(mon_log *l, const char *k, const char *v);     /* v NULL -> null */
void mon_log_int(mon_log *l, const char *k, int64_t v);
/* An entry {input, path, footprint, <what>: why} appended to `arr`. */
void mon_log_entry(struct json_object *arr, const char *id, const char *path, const char *key,
                   const char *what, const char *why);
/* Hand the line to l->ev->log_line, free it, return exit_code. */
/* mon_log_zones() : "new_alerts_by_zone" (with --zones): per zone the
 * run's new alerts that meet it and their overlap, by name. */
void mon_log_zones(mon_log *l, const mon_outbox *ob, mon_state *st);
int mon_log_finish(mon_log *l, const char *status, int exit_code, const char *error);

/* ---- cnp_monitor_layers.c ----------------------------------------------- */

struct cnp_monitor_opts;
/* The [context] section of the settings (nothing without layers). */
void mon_context_ini(const struct cnp_monitor_opts *o, FILE *m);
/* "context" in the log line: the [context] lines of settings `ini`. */
void mon_log_context(mon_log *l, const char *ini);
/* mon_layers_check() : hash the run's layers (each file GDAL reads with
 * them); a state that recorded them refuses other contents (CNP_E_CONFIG,
 * naming the file); one that did not takes them (the log line says so
 * once), as a new state does. */
cnp_status mon_layers_check(const struct cnp_monitor_opts *o, mon_state *st, mon_log *l);

/* ---- cnp_monitor_notify.c ----------------------------------------------- */

/* Queue run_dir's new_alerts.geojson (generation `gen`) for the --on-new
 * hook: a marker file, fsync'd; an earlier, interrupted announcement of the
 * same generation is taken off the queue. */
cnp_status mon_notify_queue(const char *state_dir, const char *run_dir, int64_t gen);
/* Run `cmd FILE` for every queued announcement, oldest first, taking each off
 * the queue when it exits 0. At the first failure *failed = 1 and the rest
 * stay queued for the next run. Logs on_new_status/_delivered/_pending. */
cnp_status mon_notify_deliver(const char *state_dir, const char *cmd, mon_log *l, int *failed);

/* ---- cnp_monitor_db.c --------------------------------------------------- */

typedef struct mon_db mon_db;

/* Open (creating a GeoPackage when `conn` is a missing file), take its lock
 * (mon_db_lock) and make sure the tables exist. */
cnp_status mon_db_open(const char *conn, mon_db **out);
void mon_db_close(mon_db **db);
/* Take the database for this run, waiting (a while) for another run's hold:
 * flock(2) on a GeoPackage, a session advisory lock on PostgreSQL. Held from
 * reading the generation to the last write that relies on it; closing the
 * database releases it too. */
cnp_status mon_db_lock(mon_db *db);
void mon_db_unlock(mon_db *db);
/* The highest generation in `runs` (0 = none). */
cnp_status mon_db_generation(mon_db *db, int64_t *gen);
/* Apply a generation's outbox (alerts rows from `st`) in one transaction. */
cnp_status mon_db_apply(mon_db *db, const mon_outbox *ob, mon_state *st);
/* Write new_alerts.geojson (RFC 7946) for the outbox's new alerts. */
cnp_status mon_write_new_alerts(const char *path, const mon_outbox *ob, mon_state *st);

#endif /* CNP_MONITOR_INT_H */
