/* pipeline/run/cnp_verify.h - `canopy verify`: is the evidence intact, and can it
 * be reproduced?
 *
 * Reads OUTDIR/run.json, re-hashes every output and every input it lists and
 * reports each as ok / changed / missing / refused (an output that is not a
 * regular file inside OUTDIR, an input that is not a regular file: run.json is
 * not trusted). With rerun, runs the detection again from the recorded inputs
 * and settings into a temporary folder under $TMPDIR (OUTDIR is only read) and
 * checks that every output comes out byte-identical.
 */
#ifndef CNP_VERIFY_H
#define CNP_VERIFY_H

#include <stdio.h>

#include "cnp_status.h"

typedef struct cnp_verify_opts {
    const char *outdir;
    int         rerun;        /* also reproduce the outputs                      */
    int         threads;      /* for the rerun; 0 = all cores                    */
    FILE       *report;       /* one line per file, then a summary               */
} cnp_verify_opts;

/* cnp_verify() :
 * @return CNP_OK when the check could be made (then *intact says whether
 *         everything matched), or an error when run.json is missing or unreadable
 *         or the rerun failed. */
cnp_status cnp_verify(const cnp_verify_opts *o, int *intact);

#endif /* CNP_VERIFY_H */
