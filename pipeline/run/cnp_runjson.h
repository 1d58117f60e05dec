/* pipeline/run/cnp_runjson.h - run.json of `canopy detect`. */
#ifndef CNP_RUNJSON_H
#define CNP_RUNJSON_H

#include "cnp_detect.h"
#include "cnp_evidence.h"
#include "cnp_inputs.h"
#include "cnp_raster.h"
#include "cnp_staging.h"

/* Seconds spent in each stage of a run. */
typedef struct cnp_timings {
    double open, detect, polygons, write, evidence, hash_wait, total;
    double gpkg, geojson, csv, overview;   /* parts of write */
    double chips, kmz, html, pdf;          /* parts of evidence */
} cnp_timings;

/* cnp_write_run_json() : write run.json at `path` (in the staging folder,
 * after every other output, which it lists with their hashes). */
cnp_status cnp_write_run_json(const char *path, const cnp_job *job, const cnp_scene sc[2],
                                 const int win[4], const cnp_result *res, cnp_timings *t,
                                 const char *started, const cnp_inputs *h, const char *run_id,
                                 const cnp_staging *sg, const cnp_evidence_ctx *ev);

#endif /* CNP_RUNJSON_H */
