/* pipeline/monitor/cnp_monitor_cmd.h - `canopy monitor`: cron-driven monitoring of
 * footprints through time.
 *
 * A state folder (--state DIR) keeps, per footprint (a Landsat path/row, a
 * Sentinel-2 MGRS tile, or a group of overlapping rasters), rasters on the
 * footprint's grid: baseline NDVI, its date, per-pixel alert state and alert
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

/* Exit codes of `canopy monitor`. SCENES_FAILED: the run completed, but some
 * inputs could not be applied (recorded, not retried while unchanged). */
enum { CNP_MON_EXIT_OK = 0, CNP_MON_EXIT_ERROR = 1, CNP_MON_EXIT_USAGE = 2,
       CNP_MON_EXIT_LOCKED = 3, CNP_MON_EXIT_SCENES_FAILED = 4 };

/* cnp_monitor_main() :
 * The `canopy monitor` command: argv[0] is "monitor". Parses its options,
 * runs, prints one JSON log line on stdout (and errors on stderr).
 * @return the exit code (CNP_MON_EXIT_*). */
int cnp_monitor_main(int argc, char **argv);

#endif /* CNP_MONITOR_CMD_H */
