/* pipeline/outputs/cnp_staging.h - OUTDIR is replaced as a whole or not at all,
 * never silently, and never loses a file Canopy did not write.
 *
 * What OUTDIR may be: missing (it is made), empty, or a Canopy run (run.json
 * of program "canopy") to be replaced, which takes `overwrite`; anything else
 * is refused before the run starts. What Canopy wrote is what the old run.json
 * lists (its outputs, run.json, SHA256SUMS and its signature); every other
 * file or folder in OUTDIR is the user's and is kept, and a file of the
 * user's at a name the new run writes stops the run (nothing is changed).
 *
 * How it is replaced: the run writes into a staging folder, ".NAME.tmp-HOST-
 * PID" beside OUTDIR (cnp_tmpfile.h names). At the commit the user's files
 * are hard-linked into it, and the two folders are swapped with one
 * renameat2(RENAME_EXCHANGE): before it OUTDIR is the whole old run, after it
 * the whole new one. The old run, now under the staging name, is removed.
 * Where the exchange is refused (a file system without it, a folder of an
 * overlayfs lower layer: EXDEV, a hard link refused) or cannot be set up (the
 * parent folder is not writable, OUTDIR is a mount point: the staging folder
 * is then made inside OUTDIR), and where OUTDIR is the current folder (or
 * holds it: `-o .` must not leave the user in a deleted folder), the files
 * are moved one by one under a journal
 * (cnp_staging_journal.c): a kill in the middle is rolled back, or forward
 * once the new run.json is in place, by the next run into OUTDIR.
 *
 * Commits into one parent folder are serialised (flock on it); SIGINT,
 * SIGTERM and SIGHUP wait for a commit to end; the staging folder is removed
 * when a signal ends the process (cnp_tmp_signals_install), and by the next
 * run when the process was killed outright. Names in OUTDIR that start with
 * ".canopy-" are Canopy's temporary names.
 */
#ifndef CNP_STAGING_H
#define CNP_STAGING_H

#include <stddef.h>

#include "cnp_status.h"

struct cnp_json;

/* A commit interrupted in the journalled way leaves this file in OUTDIR. */
#define CNP_STAGING_JOURNAL ".canopy-journal"

typedef struct cnp_staging_opts {
    int      overwrite;    /* OUTDIR may hold a Canopy run to replace       */
    int      evidence;     /* the run writes alerts.kmz, report.html, evidence/ */
    unsigned skip;         /* CNP_OUT_* products it does not write          */
    int      zones;        /* the run writes zones.csv (--zones)            */
} cnp_staging_opts;

typedef struct cnp_staging cnp_staging;
struct cnp_staging {
    char     dir[4096];    /* the staging folder the run writes into        */
    char     outdir[4096]; /* OUTDIR, absolute                              */
    char     parent[4096]; /* the folder OUTDIR is in                       */
    char     name[256];    /* OUTDIR's name in it                           */
    char     given[4096];  /* OUTDIR as given, for messages                 */
    int      inside;       /* the staging folder is inside OUTDIR           */
    int      overwrite;    /* as in cnp_staging_opts                        */
    int      evidence;
    unsigned skip;
    int      zones;
};

/* cnp_staging_check() : may a run with these options write `outdir`? Made
 * before the run's work, so that a refusal costs nothing and changes nothing
 * (an interrupted journalled commit there is finished or undone first).
 * @return CNP_OK; CNP_E_ARG (exit 2) for an OUTDIR that is neither missing,
 * empty nor a Canopy run, a run without overwrite, or a file of the user's
 * at the name of an output; CNP_E_IO (exit 1) when it cannot be written. */
cnp_status cnp_staging_check(const char *outdir, const cnp_staging_opts *o);

/* cnp_staging_open() : the checks again, the leftovers of dead processes
 * removed, and the staging folder made. @return as cnp_staging_check(). */
cnp_status cnp_staging_open(cnp_staging *sg, const char *outdir, const cnp_staging_opts *o);

/* cnp_staging_clean() : what dead processes of this host left for `outdir`,
 * without a run: an interrupted journalled commit finished or undone (under
 * the parent's lock), and their staging folders beside and inside OUTDIR
 * removed, as cnp_staging_open() does. Those of running processes, and of
 * other hosts, stay. For a caller that looks at OUTDIR to decide whether to
 * run at all (a batch resuming). Nothing to do when OUTDIR's parent does not
 * exist. @return CNP_OK, or CNP_E_IO when an interrupted commit there cannot
 * be recovered (another host's, a running one's, an unreadable journal). */
cnp_status cnp_staging_clean(const char *outdir);

/* The staged path of output `name` ("alerts.gpkg", "evidence/..."). */
void cnp_staging_path(const cnp_staging *sg, const char *name, char *out, size_t size);

/* Remove everything staged; OUTDIR is as it was. */
void cnp_staging_abort(cnp_staging *sg, const char *outdir);

/* cnp_staging_commit() : replace OUTDIR with the staged run (see above).
 * @return CNP_OK; on failure OUTDIR is as it was and the caller aborts. */
cnp_status cnp_staging_commit(cnp_staging *sg, const char *outdir);

/* cnp_staging_json_outputs() : the "outputs" array of run.json: every staged
 * file but run.json and SHA256SUMS*, in byte order of its path, with its size
 * and SHA-256. */
cnp_status cnp_staging_json_outputs(struct cnp_json *j, const cnp_staging *sg);

#endif /* CNP_STAGING_H */
