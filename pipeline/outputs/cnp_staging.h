/* pipeline/outputs/cnp_staging.h - OUTDIR is replaced as a whole or not at all.
 *
 * A run writes every file into OUTDIR/.canopy-tmp-PID; only when all of them
 * are written does cnp_staging_commit() move them into OUTDIR, run.json last
 * (its presence says the set is complete). On failure cnp_staging_abort()
 * removes what was staged.
 */
#ifndef CNP_STAGING_H
#define CNP_STAGING_H

#include <stddef.h>

#include "cnp_status.h"

struct cnp_json;

typedef struct cnp_staging cnp_staging;
struct cnp_staging {
    char     dir[4096];    /* OUTDIR/.canopy-tmp-PID */
    int      created_outdir;
    int      evidence;     /* evidence outputs are part of this run */
    unsigned skip;         /* CNP_OUT_* products this run does not write */
};

/* cnp_staging_open() : create OUTDIR if needed and the staging folder in it.
 * `evidence`: the evidence outputs are part of the run; `skip`: the CNP_OUT_*
 * products it does not write. @return CNP_OK or CNP_E_IO. */
cnp_status cnp_staging_open(cnp_staging *sg, const char *outdir, int evidence, unsigned skip);

/* The staged path of output `name` ("alerts.gpkg", "evidence/..."). */
void cnp_staging_path(const cnp_staging *sg, const char *name, char *out, size_t size);

/* Remove everything staged, and OUTDIR if cnp_staging_open() made it. */
void cnp_staging_abort(cnp_staging *sg, const char *outdir);

/* cnp_staging_commit() : move the run's files into OUTDIR, run.json last;
 * an output an earlier run left that this run does not write is removed, so
 * OUTDIR holds one run's outputs, all listed in its run.json. */
cnp_status cnp_staging_commit(cnp_staging *sg, const char *outdir);

/* cnp_staging_json_outputs() : the "outputs" array of run.json: every staged
 * file but run.json, in byte order of its path, with its size and SHA-256. */
cnp_status cnp_staging_json_outputs(struct cnp_json *j, const cnp_staging *sg);

#endif /* CNP_STAGING_H */
