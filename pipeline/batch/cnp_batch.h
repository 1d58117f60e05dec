/* pipeline/batch/cnp_batch.h - `canopy batch`: many scenes in, one detect run per
 * pair of scenes of the same place out.
 *
 * Three steps, each usable on its own (so a cluster can run the middle one in
 * pieces):
 *   plan   find every scene under the inputs (cnp_product_resolve, as `canopy
 *          info` does), group them by footprint (Landsat path/row, Sentinel-2
 *          tile, or overlap for other rasters), sort them by date and pair them;
 *          optionally split the footprints into shards balanced by pixels;
 *   run    run the pairs of all footprints or of one shard, each in a forked
 *          child process for isolation (a crash or a memory blow-up ends
 *          its pair, not the batch; cnp_batch_run.c says what else),
 *          skipping pairs whose outputs are complete, then merge each
 *          footprint's alerts into OUTROOT/<footprint>/alerts.gpkg;
 *   merge  gather the per-shard summaries into OUTROOT/summary.csv and .json.
 *
 * Every output folder belongs to exactly one footprint and every footprint to
 * exactly one shard, so shards never write the same file.
 */
#ifndef CNP_BATCH_H
#define CNP_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cnp_config.h"
#include "cnp_status.h"

typedef struct cnp_batch_scene {
    char   *path;                  /* absolute path handed to detect            */
    char   *mask;                  /* sidecar mask raster (STEM_mask.EXT) or NULL */
    char    id[200];               /* product id or file stem, unique in its footprint */
    char    date[CNP_DATE_LEN];
    char    date_source[16];       /* "metadata" or "file name"                 */
    char    kind[32];              /* product family, or "raster"                */
    int64_t pixels;                /* red band width x height; 0 = unknown      */
    char   *note;                  /* why it cannot be read (its pairs will fail), or NULL */
} cnp_batch_scene;

enum { CNP_PAIR_RUN = 0, CNP_PAIR_SKIP = 1 };

typedef struct cnp_batch_pair {
    int  before, after;            /* indexes into the footprint's scenes       */
    int  gap_days;
    int  action;                   /* CNP_PAIR_RUN or CNP_PAIR_SKIP              */
    char dir[420];                 /* "<before-id>__<after-id>"                 */
    char reason[160];              /* why it is skipped                         */
} cnp_batch_pair;

typedef struct cnp_batch_fp {
    char   name[160];              /* folder name under OUTROOT                 */
    char   label[200];             /* "WRS-2 path/row 001/062", "MGRS tile 29RKH", ... */
    cnp_batch_scene *scene;        /* sorted by date, then id                   */
    size_t nscene;
    cnp_batch_pair *pair;
    size_t npair;
    int64_t work;                  /* pixels to process: sum over pairs to run  */
    int     shard;
} cnp_batch_fp;

/* An input that is not part of any footprint. */
typedef struct cnp_batch_item {
    char *path;
    char  status[12];              /* "ignored", "duplicate" or "failed"        */
    char *reason;
} cnp_batch_item;

enum { CNP_PAIRS_CONSECUTIVE = 0, CNP_PAIRS_BASELINE = 1 };

struct cnp_product_session;

typedef struct cnp_batch_plan {
    char   outroot[4096];          /* absolute                                  */
    /* detect settings applied to every pair */
    cnp_settings settings;
    char  *config_path;            /* as given, for run.json; NULL = built-in   */
    int    no_evidence, no_hash;
    unsigned skip_outputs;         /* CNP_OUT_* products the pairs do not write */
    size_t max_chips;
    /* pairing rules */
    int    pairs_mode;             /* CNP_PAIRS_*                               */
    char   baseline_date[CNP_DATE_LEN];
    int    max_gap_days;           /* 0 = no limit                              */
    double min_observed;           /* 0..1; 0 = no limit                        */
    /* what was found */
    char **input;                  /* the INPUT arguments, as given             */
    size_t ninput;
    cnp_batch_fp *fp;              /* sorted by name                            */
    size_t nfp;
    cnp_batch_item *item;
    size_t nitem;
    int    nshards;                /* 1 for a plan run on one machine           */
    char   plan_id[17];            /* of a plan read from a file, "" otherwise  */
    /* the run's products (io/cnp_product.h), begun by discovery: each product
     * recognised once, also by the pairs' children, which inherit it */
    struct cnp_product_session *products;
    /* zones, forest and exclusion masks, area of interest (every pair;
     * cnp_batch_context.h; NULL: none) */
    struct cnp_batch_context *context;
} cnp_batch_plan;

/* Where a run stands, for progress reports. */
typedef struct cnp_batch_progress {
    size_t total, done, failed;    /* pairs to run, finished, failed of those   */
    int    running;
    double elapsed_s;
} cnp_batch_progress;

struct cnp_batch_row;

/* What a run tells its caller as it goes; the CLI prints it (library code
 * writes no terminal). Every member may be NULL. */
typedef struct cnp_batch_events {
    void *arg;
    /* A note of one line ("batch: 3 pairs to run ..."). */
    void (*note)(void *arg, const char *line);
    /* A pair finished (ok, skipped or failed: r->status). */
    void (*pair_done)(void *arg, const cnp_batch_progress *pg, const struct cnp_batch_row *r);
    /* About once a second while pairs run, and once at the end (final). */
    void (*progress)(void *arg, const cnp_batch_progress *pg, int final);
} cnp_batch_events;

/* Runtime options: how much of the machine to use, not what to compute. */
typedef struct cnp_batch_run_opts {
    int jobs;                      /* pairs at once; 0 = threads / 4, at least 1 */
    int threads;                   /* total; 0 = all cores                      */
    int max_memory_mb;             /* total; 0 = no cap                         */
    int force;                     /* redo complete pairs too                   */
    int argc;                      /* the command line, for run.json            */
    char **argv;
    cnp_batch_events ev;
} cnp_batch_run_opts;

/* One line of the summary. */
typedef struct cnp_batch_row {
    const cnp_batch_fp   *fp;
    const cnp_batch_pair *pair;
    char    status[8];             /* "ok", "failed", "skipped"                 */
    char    message[600];
    int64_t alerts;                /* -1 = unknown                              */
    double  area_ha, observed_share, seconds;   /* NAN = unknown               */
    char    run_id[65];
    int     unreported;            /* --merge: its shard wrote no summary for it */
} cnp_batch_row;

/* cnp_batch_plan_init() : an empty plan with default settings. */
void cnp_batch_plan_init(cnp_batch_plan *p);
void cnp_batch_plan_free(cnp_batch_plan *p);

/* cnp_batch_discover() :
 * Find the scenes under `inputs` (folders searched recursively, .tar/.zip
 * archives, STAC items, product metadata files, rasters, or text files
 * listing any of these one per line), group them into footprints and pair
 * them by the plan's rules. Inputs that are not scenes are kept in p->item.
 * GDAL must be registered. Notes go to `log` (may be NULL).
 * @return CNP_OK (also when some inputs failed: see p->item), CNP_E_CONFIG
 *         (the product profiles cannot be read), CNP_E_NOMEM. */
cnp_status cnp_batch_discover(cnp_batch_plan *p, char *const *inputs, size_t ninputs,
                              FILE *log);

/* cnp_batch_discover_counts() : products recognised and profile folders
 * loaded since discovery began (what CANOPY_DEBUG_COUNTS prints). */
void cnp_batch_discover_counts(const cnp_batch_plan *p, size_t *recognised,
                               size_t *profile_loads);

/* ---- pairing (cnp_batch_pair.c: no GDAL) ---- */

/* Days since 1970-01-01 of a YYYY-MM-DD date (0 when it is not one). */
long cnp_batch_days(const char *date);
/* Sort a footprint's scenes by date, then id. */
void cnp_batch_sort_scenes(cnp_batch_fp *fp);
/* Make the ids of a footprint's scenes unique: a raster's stem found in two
 * folders gets its folder's name in front, then "-2", "-3" ... */
void cnp_batch_unique_ids(cnp_batch_fp *fp);
/* The pairs of a footprint whose scenes are sorted, by the plan's rules
 * (consecutive, or every later scene against the baseline's nearest; same
 * date and --max-gap pairs are kept as skipped); fp->work is summed.
 * @return 0, or -1 out of memory. */
int cnp_batch_pair_up(const cnp_batch_plan *p, cnp_batch_fp *fp);

/* cnp_batch_shard() : assign whole footprints to n shards, largest first to
 * the least loaded (by pixels to process). */
void cnp_batch_shard(cnp_batch_plan *p, int nshards);

/* cnp_batch_plan_write() / _read() : the plan as a JSON file (docs/batch.md). */
cnp_status cnp_batch_plan_write(const cnp_batch_plan *p, const char *path);
cnp_status cnp_batch_plan_read(cnp_batch_plan *p, const char *path);

/* cnp_batch_pair_settings() : the detect settings for one pair (the plan's,
 * plus the scenes' dates where they come from file names). */
void cnp_batch_pair_settings(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                             const cnp_batch_pair *pr, cnp_settings *out);

/* cnp_batch_shard_counts() :
 * For shard K of merged rows: how many of its pairs it has not reported (its
 * task failed, timed out, was cancelled or is still running) and how many
 * failed. A shard with either needs `canopy batch --shard K --plan PLAN`. */
void cnp_batch_shard_counts(const cnp_batch_row *rows, size_t nrows, int shard,
                            size_t *unreported, size_t *failed);

/* cnp_batch_row_not_observed() : 1 for a row skipped as "not observed" (no
 * pixel observed in both scenes, or less than --min-observed). */
int cnp_batch_row_not_observed(const cnp_batch_row *r);

/* cnp_batch_pair_not_observed() :
 * 1 when OUTROOT/<fp>/<pair>/not_observed.json records that this pair, from
 * the same inputs and settings, has no pixel observed in both scenes (so it
 * is skipped, not failed, and not run again); `why` then holds the reason.
 * cnp_batch_pair_not_observed_write() records it; _clear() removes the
 * record (before the pair runs again). */
int cnp_batch_pair_not_observed(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                                const cnp_batch_pair *pr, char *why, size_t wsize);
cnp_status cnp_batch_pair_not_observed_write(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                                             const cnp_batch_pair *pr, const char *why);
void cnp_batch_pair_not_observed_clear(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                                       const cnp_batch_pair *pr);

/* cnp_batch_pair_complete() :
 * 1 when OUTROOT/<fp>/<pair>/run.json exists, was made from the same inputs
 * and settings, and every output it lists has its recorded SHA-256; else 0
 * with the reason in `why`. */
int cnp_batch_pair_complete(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                            const cnp_batch_pair *pr, char *why, size_t wsize);

/* cnp_batch_list() : the plan in words (what --list prints): footprints,
 * scenes, pairs with what a run would do with each, and skipped inputs.
 * shard < 0: every footprint. */
void cnp_batch_list(const cnp_batch_plan *p, int shard, FILE *out);

/* cnp_batch_run() :
 * Run the pairs of shard `shard` (< 0: all footprints), then merge each
 * footprint's alerts. Rows (one per pair, in plan order) are returned in
 * *rows (caller frees). *interrupted is set when SIGINT/SIGTERM stopped it.
 * @return CNP_OK when every pair was attempted (some may have failed: see
 *         the rows), CNP_E_CANCELLED when interrupted, another error when
 *         the run could not go on (cannot write OUTROOT). */
cnp_status cnp_batch_run(const cnp_batch_plan *p, int shard, const cnp_batch_run_opts *o,
                         cnp_batch_row **rows, size_t *nrows);

/* cnp_batch_merge_alerts() : OUTROOT/<fp>/alerts.gpkg from the pairs whose
 * rows say ok, written atomically; left as it is when it already holds
 * exactly those pair runs (unless force). */
cnp_status cnp_batch_merge_alerts(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                                  const cnp_batch_row *rows, size_t nrows, int force,
                                  int *written);

/* cnp_batch_write_summary() : OUTROOT/summary.csv and summary.json (or, with
 * shard >= 0, OUTROOT/shards/shard-K.json), each replaced atomically and only
 * when its content changes. */
cnp_status cnp_batch_write_summary(const cnp_batch_plan *p, int shard,
                                   const cnp_batch_row *rows, size_t nrows);

/* cnp_batch_read_shards() : the rows of every shard summary of the plan, in
 * plan order; a footprint whose shard has not reported gets failed rows. */
cnp_status cnp_batch_read_shards(const cnp_batch_plan *p, cnp_batch_row **rows, size_t *nrows);

#endif /* CNP_BATCH_H */
