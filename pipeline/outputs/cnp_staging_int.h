/* pipeline/outputs/cnp_staging_int.h - what cnp_staging.c and
 * cnp_staging_journal.c share: sorted lists of relative paths, a few file
 * steps, and the journalled commit. Not for other modules.
 */
#ifndef CNP_STAGING_INT_H
#define CNP_STAGING_INT_H

#include <stddef.h>

#include "cnp_staging.h"

/* A list of relative paths (malloc'd strings). */
typedef struct stg_list {
    char  **v;
    size_t  n, cap;
} stg_list;

cnp_status stg_list_add(stg_list *l, const char *s);
void stg_list_sort(stg_list *l);                        /* and drop duplicates */
int stg_list_has(const stg_list *l, const char *s);      /* the list sorted */
void stg_list_free(stg_list *l);

/* The files of the run in OUTDIR as its run.json lists them (those that are
 * regular files inside OUTDIR), run.json first: what Canopy wrote there. */
typedef struct stg_old {
    int      is_run;       /* OUTDIR holds a Canopy run.json                 */
    stg_list files;        /* sorted                                         */
} stg_old;

/* root/rel (only the first n bytes of rel with stg_path_n) into out, which
 * holds PATH_MAX bytes; "" when it would not fit (the kernel refuses such a
 * path anyway, and a step given "" fails cleanly). */
void stg_path(char *out, const char *root, const char *rel);
void stg_path_n(char *out, const char *root, const char *rel, size_t n);

/* mkdir -p of `rel`'s folders below `root` (not `rel` itself unless
 * `whole`). @return 0, or -1 (errno) when a part is not a folder. */
int stg_mkdirs(const char *root, const char *rel, int whole);

/* The test hook ($CANOPY_DETECT_CRASH_AT, cnp_tmpfile.h). */
void stg_crash_point(const char *name);

/* stg_journal_commit() : move the old run's files aside and the new run's
 * files (`files`, paths relative to sg->dir) into OUTDIR, one by one, under
 * a journal; run.json moves last and is the commit point. A failure before it
 * is rolled back. @return CNP_OK, CNP_E_ARG for a file of the user's in the
 * way, CNP_E_IO. */
cnp_status stg_journal_commit(const cnp_staging *sg, const stg_old *old, const stg_list *files);

/* stg_journal_recover() : when OUTDIR holds a journal of a dead process of
 * this host, finish its commit (the new run.json is in place) or undo it.
 * `locked`: the caller holds the parent's lock, so no commit of this host is
 * running. @return CNP_OK (also when there is none), CNP_E_IO when it belongs
 * to a running process or another host, or cannot be carried out. */
cnp_status stg_journal_recover(const cnp_staging *sg, int locked);

#endif /* CNP_STAGING_INT_H */
