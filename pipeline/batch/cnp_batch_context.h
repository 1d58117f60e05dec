/* pipeline/batch/cnp_batch_context.h - the context layers of a batch (zones,
 * forest and exclusion masks, area of interest): the same for every pair, in
 * the plan file for shards, and part of what makes a pair's run complete (a
 * pair run with other layers or rules runs again).
 */
#ifndef CNP_BATCH_CONTEXT_H
#define CNP_BATCH_CONTEXT_H

#include <json.h>

#include "cnp_ctxmask.h"
#include "cnp_detect.h"
#include "cnp_json.h"

enum { CNP_BATCH_MAX_ZONES = 16 };

typedef struct cnp_batch_context {
    char  *zones[CNP_BATCH_MAX_ZONES];   /* owned                              */
    size_t nzones;
    char  *zone_field, *aoi, *forest, *exclude;
    cnp_ctxmask_spec rules;              /* its forest and exclude: the above  */
} cnp_batch_context;

/* From the command line's values (copied; files that exist made absolute,
 * so shards on other machines with the same mounts find them). @return
 * CNP_OK or CNP_E_NOMEM. */
cnp_status cnp_batch_context_set(cnp_batch_context *c, const char *const *zones, size_t nzones,
                                 const char *zone_field, const cnp_ctxmask_spec *rules,
                                 const char *aoi);
void cnp_batch_context_free(cnp_batch_context *c);

/* The pair's job gets them (pointers into *c). */
void cnp_batch_context_job(const cnp_batch_context *c, cnp_job *job);

/* The plan file's "context" object (nothing when there are none), and back. */
void cnp_batch_context_write(cnp_json *j, const cnp_batch_context *c);
cnp_status cnp_batch_context_read(json_object *root, cnp_batch_context *c);

/* cnp_batch_context_same() : a pair's run.json was made with these layers
 * and rules (both none included). */
int cnp_batch_context_same(json_object *run, const cnp_batch_context *c);

#endif /* CNP_BATCH_CONTEXT_H */
