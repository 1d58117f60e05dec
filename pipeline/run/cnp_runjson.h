/* pipeline/run/cnp_runjson.h - run.json of `canopy detect`. */
#ifndef CNP_RUNJSON_H
#define CNP_RUNJSON_H

#include "cnp_detect.h"
#include "cnp_warn.h"
#include "cnp_evidence.h"
#include "cnp_inputs.h"
#include "cnp_raster.h"
#include "cnp_staging.h"

/* The checksum file of a run and its detached signature, in OUTDIR. */
#define CNP_SUMS_FILE "SHA256SUMS"
#define CNP_SUMS_SIG  "SHA256SUMS.sig"

/* cnp_write_run_json() : write run.json at `path` (in the staging folder,
 * after every other output, which it lists with their hashes), then
 * SHA256SUMS beside it (cnp_runjson_sums) and, with job->sign_key, its
 * Ed25519 signature SHA256SUMS.sig. */
cnp_status cnp_write_run_json(const char *path, const cnp_job *job, const cnp_scene sc[2],
                                 const int win[4], const cnp_result *res, cnp_timings *t,
                                 const char *started, const cnp_inputs *h, const char *run_id,
                                 const cnp_staging *sg, const cnp_evidence_ctx *ev,
                                 const cnp_warnings *warn);

/* cnp_runjson_sums() :
 * The text of SHA256SUMS, in `sha256sum -c` format, made from a run's run.json
 * (parsed) and run.json's own SHA-256: a line for every output as run.json
 * lists it (relative to OUTDIR), one for run.json, then one for every input
 * with a hash, as an absolute path (the recorded working_directory joined to
 * the recorded path). So `sha256sum -c SHA256SUMS`, run in OUTDIR, checks
 * every output, run.json and every input; names with a backslash or a newline
 * are escaped as sha256sum does. verify rebuilds the text to compare it.
 * *text is malloc'd. @return CNP_OK or CNP_E_NOMEM. */
struct json_object;
cnp_status cnp_runjson_sums(struct json_object *run, const char run_sha256[65], char **text,
                            size_t *len);

#endif /* CNP_RUNJSON_H */
