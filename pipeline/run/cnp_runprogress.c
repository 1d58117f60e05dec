/* pipeline/run/cnp_runprogress.c - the stages' shares of the progress bar. */
#include "cnp_runprogress.h"

#include "cnp_err.h"

/* Where each stage ends, in per cent. Rough shares of a default run's time
 * (docs/performance.md): without evidence the detection pass is most of it;
 * with evidence the chips and report.pdf take about half of a run with a few
 * hundred alerts. */
static const double stage_end[2][CNP_STAGE_COUNT] = {
    /* detect alerts write chips  kmz  html  pdf  record */
    {      82,    88,   96,   96,  96,   96,  96,  100 },  /* --no-evidence */
    {      40,    44,   50,   78,  80,   82,  96,  100 },  /* evidence      */
};

static const char *const stage_name[CNP_STAGE_COUNT] = {
    "detect", "alerts", "write", "chips", "alerts.kmz", "report.html", "report.pdf", "record",
};

void cnp_run_progress_range(const cnp_run_progress *p, cnp_stage stage, double *from,
                            double *to)
{
    const double *end = stage_end[p->evidence != 0];
    *from = stage == 0 ? 0.0 : end[stage - 1] / 100.0;
    *to = end[stage] / 100.0;
}

cnp_status cnp_run_progress_done(const cnp_run_progress *p, cnp_stage stage)
{
    if (!p->fn)
        return CNP_OK;
    if (!p->fn(stage_end[p->evidence != 0][stage] / 100.0, stage_name[stage], p->arg))
        return cnp_err(CNP_E_CANCELLED, "interrupted by user");
    return CNP_OK;
}

int cnp_run_progress_pass(double done, const char *msg, void *arg)
{
    const cnp_run_progress *p = arg;
    return p->fn(done, msg ? msg : "detect", p->arg);
}
