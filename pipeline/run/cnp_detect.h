/* pipeline/run/cnp_detect.h - `canopy detect`: two scenes in, alerts out.
 *
 * The orchestration: open and align the scenes, stream block-row strips
 * through worker threads (each with its own GDAL handles), classify pixels
 * with the kernels, label loss runs across strip seams, drop components under
 * the minimum mapping unit, trace the rest into polygons, and write every
 * output under a temporary name before renaming it into OUTDIR.
 */
#ifndef CNP_DETECT_H
#define CNP_DETECT_H

#include <stdint.h>

#include "cnp_config.h"
#include "cnp_ctxmask.h"
#include "cnp_engine.h"
#include "cnp_result.h"
#include "cnp_status.h"

/* --baseline scenes a run takes at most (each is read beside the pair). */
enum { CNP_JOB_MAX_BASELINES = 8 };

/* Seconds spent in each stage of a run. */
/* Evidence chips by default for this many alerts, the largest (--max-chips;
 * 0 = every alert). A chip set costs about 0.07 s of CPU and 0.3 MB with its
 * copies in the reports (docs/performance.md, "Evidence"): 100 keeps a scene
 * of thousands of alerts within 3 x its detection and about 100 MB, and is
 * more pictures than an investigator looks at; every alert stays in the
 * tables. */
#define CNP_MAX_CHIPS_DEFAULT 100

typedef struct cnp_timings {
    double open, detect, polygons, write, evidence, hash_wait, total;
    double gpkg, geojson, csv, overview;   /* parts of write */
    double chips, kmz, html, pdf;          /* parts of evidence */
} cnp_timings;

/* What a finished run found and wrote, for the CLI to report (the library
 * prints nothing). */
typedef struct cnp_detect_summary {
    size_t      nalerts, nhigh;           /* alerts, of them high confidence      */
    double      area_ha;                  /* total alert area                     */
    double      observed_area_ha, unobserved_area_ha;
    int64_t     loss_pixels, unobserved_pixels, window_pixels;
    cnp_timings t;
    char        run_id[65];
    cnp_coreg_summary coreg;              /* AFTER's measured shift (run.json)    */
    char      **outputs;                  /* OUTDIR's top-level names the run
                                           * wrote ("evidence/" for the folder) */
    size_t      noutputs;
} cnp_detect_summary;

/* Free what cnp_detect_run put in *s (and zero it). */
void cnp_detect_summary_free(cnp_detect_summary *s);

typedef struct cnp_job {
    const char  *before, *after;          /* scene paths                         */
    const char  *before_mask, *after_mask;/* optional mask rasters               */
    /* Earlier scenes of AFTER's season (--baseline): the change is measured
     * from the median of their clear NDVI (kernels/cnp_baseline.h). */
    const char  *baseline[CNP_JOB_MAX_BASELINES];
    const char  *baseline_mask[CNP_JOB_MAX_BASELINES]; /* NULL: none or the product's */
    int          nbaseline, nbaseline_mask;
    const char  *outdir;
    const char  *config_path;             /* NULL when built-in defaults         */
    cnp_settings settings;
    int          quiet;                   /* unused by the library: the CLI prints */
    int          no_evidence;             /* skip chips, report.html, alerts.kmz */
    unsigned     skip_outputs;            /* CNP_OUT_* (cnp_output.h): products not
                                           * written; 0 = all four                 */
    int          no_hash;                 /* do not hash the inputs              */
    int          overwrite;               /* OUTDIR may hold a run to replace    */
    const char  *sign_key;                /* Ed25519 private key (PEM) to sign
                                           * SHA256SUMS with; NULL = unsigned    */
    size_t       max_chips;               /* 0 = a chip for every alert          */
    int          max_memory_mb;           /* 0 = no cap                          */
    cnp_progress_fn progress;             /* NULL: none (the CLI passes GDAL's
                                           * terminal progress when it shows one) */
    void        *progress_arg;
    const char  *case_id;                 /* --case-id, --operator: for the record */
    const char  *operator_name;           /* (cnp_ident_text_check'ed); NULL = not given */
    const char  *font_dir;                /* fonts of report.pdf; NULL = Debian's
                                           * fonts-dejavu-core folder              */
    int          argc;                    /* the command line, for run.json      */
    char       **argv;
    int         *nothing_observed;        /* when set: 1 when the run failed because
                                           * no pixel is observed in both scenes
                                           * (batch skips such a pair)           */
    cnp_detect_summary *summary;          /* filled on success; NULL: not wanted */
    /* A warning (one line, from inputs: not escaped) as it is found, for the
     * CLI to print; run.json keeps them all. NULL: run.json only. */
    void       (*warn)(void *arg, const char *text);
    void        *warn_arg;
    /* --zones FILE[:LAYER] (repeatable) and --zone-field NAME (NULL: each
     * layer's first text field): the zones every alert is placed in. */
    const char *const *zones;
    size_t       nzones;
    const char  *zone_field;
    /* --forest-mask, --exclude and their rules (no file: none) */
    cnp_ctxmask_spec ctx;
    const char  *aoi;                     /* --aoi FILE[:LAYER]: the run is limited
                                           * to it (NULL: the whole overlap)     */
} cnp_job;

cnp_status cnp_detect_run(const cnp_job *job);

#endif /* CNP_DETECT_H */
