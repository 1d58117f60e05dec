/* pipeline/batch/cnp_batch_int.h - what the cnp_batch_*.c files share:
 *
 *   cnp_batch_plan.c      the plan, footprints from the one input discovery, shards
 *   cnp_batch_pair.c      pairing (no GDAL)
 *   cnp_batch_planfile.c  the plan file, completeness, --list
 *   cnp_batch_run.c       the pairs in child processes
 *   cnp_batch_merge.c     a footprint's alerts.gpkg
 *   cnp_batch_summary.c   summary.csv / .json, shard summaries
 */
#ifndef CNP_BATCH_INT_H
#define CNP_BATCH_INT_H

#include <json.h>

#include "cnp_batch.h"
#include "cnp_json.h"

/* mkdir that is content when the folder exists: 0, or -1 (errno). */
int cnp_batch_make_dir(const char *path);
/* o[key] when it has type t, else NULL. */
json_object *cnp_batch_jget(json_object *o, const char *key, json_type t);
/* o[key] as a number, NAN when absent or not a number. */
double cnp_batch_jnum(json_object *o, const char *key);
/* A summary row of pair pr, nothing known yet; a failed one with msg. */
void cnp_batch_row_init(cnp_batch_row *r, const cnp_batch_fp *fp, const cnp_batch_pair *pr);
void cnp_batch_row_fail(cnp_batch_row *r, const char *msg);
/* The inputs the plan did not use, with why, as JSON array `key` (the plan
 * file and summary.json both list them). */
void cnp_batch_json_not_used(cnp_json *j, const char *key, const cnp_batch_plan *p);

#endif /* CNP_BATCH_INT_H */
