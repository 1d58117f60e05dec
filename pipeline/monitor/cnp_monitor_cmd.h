/* pipeline/monitor/cnp_monitor_cmd.h - `canopy monitor`: cron-driven monitoring of
 * footprints through time.
 *
 * A state folder (--state DIR) keeps, per footprint (a Landsat path/row, a
 * Sentinel-2 MGRS tile, or a group of overlapping rasters), rasters on the
 * footprint's grid: baseline NDVI (the median of the pixel's last K clear
 * observations, kept beside it), its date, per-pixel alert state and alert
 * id; plus the record of every input seen. Each run processes only the
 * scenes it has not seen, in acquisition-date order, writes the alerts to a
 * GeoPackage (DIR/alerts.gpkg) or PostgreSQL/PostGIS (--db PG:...), and the
 * new or newly confirmed alerts to DIR/runs/<UTC time>/new_alerts.geojson.
 *
 * Crash safety: the state is written as a new generation (temporary folder,
 * fsync, rename) named by DIR/CURRENT (replaced atomically); the database
 * writes of that generation are kept beside it and applied in one
 * transaction after it, and replayed by the next run when a crash came in
 * between (the database records the generation it has reached).
 */
#ifndef CNP_MONITOR_CMD_H
#define CNP_MONITOR_CMD_H

#include "cnp_config.h"
#include "cnp_ctxmask.h"
#include "cnp_exit.h"

/* What a run tells its caller as it goes; the CLI prints it. Every member
 * may be NULL. Called from the thread that called cnp_monitor_run(). */
typedef struct cnp_monitor_events {
    void *arg;
    /* The reason a run stops (or a --on-new hook failed), one line. */
    void (*error)(void *arg, const char *msg);
    /* A scene applied: outcome "processed", "skipped" or "failed" with its
     * reason ("" when none); id and reason come from inputs (not escaped). */
    void (*scene)(void *arg, const char *id, const char *outcome, const char *reason,
                  double seconds);
    /* The run's one log line (JSON, no newline): cron appends it to a log. */
    void (*log_line)(void *arg, const char *json);
    /* For tests (CANOPY_DEBUG_COUNTS): products recognised, profile loads. */
    void (*counts)(void *arg, size_t recognised, size_t profile_loads);
} cnp_monitor_events;

typedef struct cnp_monitor_opts {
    const char  *state_dir;       /* --state DIR                                  */
    const char  *db;              /* --db CONN; NULL = DIR/alerts.gpkg             */
    const char  *on_new;          /* --on-new CMD; NULL = none                    */
    char *const *inputs;
    int          ninputs;
    cnp_settings s;               /* resolved (cnp_settings_resolve)              */
    int          confirm_n, confirm_m;
    cnp_monitor_events ev;
    /* --zones, --zone-field: each alert's zones (io/cnp_zones.h) in the
     * database and new_alerts.geojson */
    const char *const *zones;
    size_t       nzones;
    const char  *zone_field;
    /* --forest-mask, --exclude and their rules, --aoi: as detect's
     * (io/cnp_ctxmask.h), put on each footprint's grid; part of the state's
     * settings (a state refuses other ones) */
    cnp_ctxmask_spec ctx;
    const char  *aoi;
} cnp_monitor_opts;

/* cnp_monitor_run() :
 * One monitoring run over o->inputs (GDAL registered and its error handler
 * installed by the caller). Reports through o->ev; writes no terminal.
 * @return the exit code (cnp_exit.h): CNP_EXIT_OK, _RUNTIME, _USAGE or
 *         _LOCKED; the same code is in the log line. */
int cnp_monitor_run(const cnp_monitor_opts *o);

/* cnp_monitor_layers_check() : each --zones layer opens, has the field and a
 * CRS PROJ knows, and so do --forest-mask, --exclude and --aoi, before a run
 * starts (each footprint meets them later: a footprint a zones layer misses
 * has no zones; a scene the masks or the area of interest miss is a failed
 * input). @return as cnp_zone_source_open() and cnp_ctxmask_open(). */
cnp_status cnp_monitor_layers_check(const cnp_monitor_opts *o);

#endif /* CNP_MONITOR_CMD_H */
