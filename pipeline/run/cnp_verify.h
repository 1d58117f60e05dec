/* pipeline/run/cnp_verify.h - `canopy verify`: is the evidence intact, and can it
 * be reproduced?
 *
 * Reads OUTDIR/run.json, re-hashes every output and every input it lists and
 * reports each as ok / changed / missing / refused (an output that is not a
 * regular file inside OUTDIR, an input that is not a regular file: run.json is
 * not trusted). With rerun, runs the detection again from the recorded inputs
 * and settings into a temporary folder under $TMPDIR (OUTDIR is only read) and
 * checks that every output comes out byte-identical.
 *
 * SHA256SUMS must be exactly what run.json gives (cnp_runjson_sums), and its
 * signature, when the run was signed, valid: made with the key given as
 * pubkey, or else with the key run.json records (which proves only that the
 * files were not changed since someone holding that key signed them).
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
    int         json;         /* the report as one JSON object instead           */
    int         quiet;        /* text report: only what is not intact            */
    const char *pubkey;       /* Ed25519 public key (PEM) the signature must be
                               * made with; NULL = the key run.json records      */
} cnp_verify_opts;

/* cnp_verify() :
 * @return CNP_OK when the check could be made (then *intact says whether
 *         everything matched), or an error when run.json is missing or unreadable,
 *         the pubkey file is not an Ed25519 public key (CNP_E_CONFIG) or the
 *         rerun failed. */
cnp_status cnp_verify(const cnp_verify_opts *o, int *intact);

#endif /* CNP_VERIFY_H */
