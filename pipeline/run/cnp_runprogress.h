/* pipeline/run/cnp_runprogress.h - one progress bar over a whole detect run.
 *
 * The run's stages in their order, each with a fixed share of the bar, so the
 * bar moves through the evidence too (chips, report.pdf) and reaches 1.0 only
 * when OUTDIR is committed. The detection pass, the chips and report.pdf
 * tick inside their share; the other stages report when they end.
 */
#ifndef CNP_RUNPROGRESS_H
#define CNP_RUNPROGRESS_H

#include "cnp_engine.h"
#include "cnp_status.h"

typedef enum cnp_stage {
    CNP_STAGE_DETECT,      /* the detection pass over the scenes               */
    CNP_STAGE_ALERTS,      /* labels into polygons                             */
    CNP_STAGE_WRITE,       /* alerts.gpkg, .geojson, .csv, overview.png        */
    CNP_STAGE_CHIPS,       /* the PNGs under evidence/                          */
    CNP_STAGE_KMZ,
    CNP_STAGE_HTML,
    CNP_STAGE_PDF,
    CNP_STAGE_RECORD,      /* hashing the outputs, run.json, SHA256SUMS, commit */
    CNP_STAGE_COUNT
} cnp_stage;

typedef struct cnp_run_progress {
    cnp_progress_fn fn;    /* NULL: no progress                                */
    void           *arg;
    int             evidence;  /* the evidence stages run                      */
} cnp_run_progress;

/* cnp_run_progress_range() : where `stage` starts and ends on the bar (0..1). */
void cnp_run_progress_range(const cnp_run_progress *p, cnp_stage stage, double *from,
                            double *to);

/* cnp_run_progress_done() : tell the callback that `stage` is done.
 * @return CNP_OK, or CNP_E_CANCELLED (with a message) when it asked to stop. */
cnp_status cnp_run_progress_done(const cnp_run_progress *p, cnp_stage stage);

/* cnp_run_progress_pass() : a cnp_progress_fn for the detection pass, with
 * `arg` the cnp_run_progress: its ticks, named "detect". */
int cnp_run_progress_pass(double done, const char *msg, void *arg);

#endif /* CNP_RUNPROGRESS_H */
