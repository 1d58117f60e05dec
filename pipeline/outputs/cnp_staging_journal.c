/* pipeline/outputs/cnp_staging_journal.c - the commit where folders cannot be
 * swapped: files moved one by one under a journal.
 *
 * Renaming several files is never atomic, so the journal (OUTDIR/.canopy-
 * journal, written whole, synced, then renamed into place) says everything
 * the commit will do before it starts: the old run's files, in the order they
 * are moved aside into OUTDIR/.canopy-old.tmp-HOST-PID (run.json first), the
 * new run's files, in the order they are moved in from the staging folder
 * (run.json last), the folders the commit makes, and the SHA-256 of the new
 * run.json. The rename of the new run.json is the commit point. A process
 * killed before it leaves a journal the next run rolls back (new files out,
 * old files back, run.json last); after it, rolled forward (the old files and
 * the journal removed). Both are idempotent, so a recovery killed in turn is
 * recovered again.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnp_err.h"
#include "cnp_fs.h"
#include "cnp_hash.h"
#include "cnp_staging_int.h"
#include "cnp_tmpfile.h"

typedef struct journal {
    char     host[128];
    long     pid;
    char     staging[PATH_MAX];     /* as written: relative to OUTDIR          */
    char     backup[PATH_MAX];      /* a name in OUTDIR                        */
    char     run_sha256[65];        /* of the new run.json                     */
    stg_list old, fresh;            /* in the order they move                  */
    stg_list newdirs;               /* folders the commit makes, parents first */
} journal;

static void journal_free(journal *j)
{
    stg_list_free(&j->old);
    stg_list_free(&j->fresh);
    stg_list_free(&j->newdirs);
}

/* ---- the file ------------------------------------------------------------------------ */

static cnp_status journal_write(const cnp_staging *sg, const journal *j)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    stg_path(path, sg->outdir, CNP_STAGING_JOURNAL);
    cnp_tmp_path(path, tmp, sizeof tmp);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return cnp_err(CNP_E_IO, "cannot write in output folder '%s': %s", sg->given, strerror(errno));
    fprintf(f, "canopy-journal 1\nhost %s\npid %ld\nstaging %s\nbackup %s\nrun_json %s\n",
            j->host, j->pid, j->staging, j->backup, j->run_sha256);
    for (size_t i = 0; i < j->old.n; i++)
        fprintf(f, "old %s\n", j->old.v[i]);
    for (size_t i = 0; i < j->fresh.n; i++)
        fprintf(f, "new %s\n", j->fresh.v[i]);
    for (size_t i = 0; i < j->newdirs.n; i++)
        fprintf(f, "newdir %s\n", j->newdirs.v[i]);
    fputs("end\n", f);
    const int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        const int e = errno;
        unlink(tmp);
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", path, strerror(e));
    }
    return cnp_fs_fsync_path(sg->outdir);
}

/* A staging folder the journal may name: inside OUTDIR, or beside it. */
static int staging_name_ok(const char *s)
{
    if (strncmp(s, "../.", 4) == 0)
        return !strchr(s + 3, '/') && cnp_fs_relpath_ok(s + 3);
    return strncmp(s, ".canopy-staging.tmp-", 20) == 0 && cnp_fs_relpath_ok(s) && !strchr(s, '/');
}

/* Parse OUTDIR's journal. @return 1 read, 0 none, -1 unreadable or not ours. */
static int journal_read(const cnp_staging *sg, journal *j)
{
    char path[PATH_MAX], line[PATH_MAX + 32];
    int done = 0, ok = 1;
    memset(j, 0, sizeof *j);
    stg_path(path, sg->outdir, CNP_STAGING_JOURNAL);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    if (!fgets(line, sizeof line, f) || strcmp(line, "canopy-journal 1\n") != 0)
        ok = 0;
    while (ok && !done && fgets(line, sizeof line, f)) {
        char *nl = strchr(line, '\n'), *sp = strchr(line, ' ');
        if (!nl) {
            ok = 0;
            break;
        }
        *nl = '\0';
        if (strcmp(line, "end") == 0) {
            done = 1;
            break;
        }
        if (!sp) {
            ok = 0;
            break;
        }
        *sp = '\0';
        const char *k = line, *v = sp + 1;
        if (!strcmp(k, "host"))
            snprintf(j->host, sizeof j->host, "%s", v);
        else if (!strcmp(k, "pid"))
            j->pid = strtol(v, NULL, 10);
        else if (!strcmp(k, "staging") && staging_name_ok(v))
            snprintf(j->staging, sizeof j->staging, "%s", v);
        else if (!strcmp(k, "backup") && strncmp(v, ".canopy-old.tmp-", 16) == 0 && !strchr(v, '/'))
            snprintf(j->backup, sizeof j->backup, "%s", v);
        else if (!strcmp(k, "run_json") && strlen(v) == 64)
            snprintf(j->run_sha256, sizeof j->run_sha256, "%s", v);
        else if ((!strcmp(k, "old") || !strcmp(k, "new") || !strcmp(k, "newdir")) &&
                 cnp_fs_relpath_ok(v))
            ok = stg_list_add(!strcmp(k, "old") ? &j->old : !strcmp(k, "new") ? &j->fresh
                                                                             : &j->newdirs,
                              v) == CNP_OK;
        else
            ok = 0;
    }
    fclose(f);
    if (!ok || !done || !j->staging[0] || !j->backup[0] || !j->run_sha256[0]) {
        journal_free(j);
        return -1;
    }
    return 1;
}

/* ---- the moves -------------------------------------------------------------------------- */

/* The journal's lists are in move order, not sorted. */
static int listed(const stg_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 1;
    return 0;
}

static int exists(const char *p)
{
    struct stat sb;
    return lstat(p, &sb) == 0;
}

/* Move root_a/rel to root_b/rel, making root_b's folders on the way. */
static cnp_status move(const char *root_a, const char *root_b, const char *rel)
{
    char a[PATH_MAX], b[PATH_MAX];
    stg_path(a, root_a, rel);
    stg_path(b, root_b, rel);
    if (stg_mkdirs(root_b, rel, 0) != 0 || rename(a, b) != 0)
        return cnp_err(CNP_E_IO, "cannot move '%s' to '%s': %s", a, b, strerror(errno));
    return CNP_OK;
}

/* Remove the folders of the old run's files that are empty now, deepest first
 * (a folder the user put a file in stays). */
static void remove_empty_folders(const char *root, const stg_list *files)
{
    char p[PATH_MAX];
    for (size_t i = files->n; i-- > 0;) {
        snprintf(p, sizeof p, "%s", files->v[i]);
        for (char *slash; (slash = strrchr(p, '/')) != NULL;) {
            *slash = '\0';
            char full[PATH_MAX];
            stg_path(full, root, p);
            if (rmdir(full) != 0)
                break;
        }
    }
}

/* Past the commit point: drop the old files, the staging folder, the journal. */
static cnp_status roll_forward(const cnp_staging *sg, const journal *j)
{
    char p[PATH_MAX];
    stg_path(p, sg->outdir, j->backup);
    cnp_fs_remove_tree(p);
    remove_empty_folders(sg->outdir, &j->old);
    stg_path(p, sg->outdir, j->staging);
    cnp_fs_remove_tree(p);
    stg_path(p, sg->outdir, CNP_STAGING_JOURNAL);
    unlink(p);
    return cnp_fs_fsync_path(sg->outdir);
}

/* Before it: the new files out, the old ones back (run.json last), the
 * folders the commit made removed when empty. */
static cnp_status roll_back(const cnp_staging *sg, const journal *j)
{
    char p[PATH_MAX], b[PATH_MAX], bk[PATH_MAX];
    cnp_status st = CNP_OK;
    stg_path(bk, sg->outdir, j->backup);
    for (size_t i = j->fresh.n; i-- > 0;) {
        const char *rel = j->fresh.v[i];
        stg_path(p, sg->outdir, rel);
        stg_path(b, bk, rel);
        /* A new file is in OUTDIR when the name was not the old run's, or
         * when the old file was already moved aside. */
        if (exists(p) && (!listed(&j->old, rel) || exists(b)) && unlink(p) != 0)
            st = cnp_err(CNP_E_IO, "cannot remove '%s': %s", p, strerror(errno));
    }
    for (size_t i = j->old.n; st == CNP_OK && i-- > 0;) {
        stg_path(b, bk, j->old.v[i]);
        if (exists(b))
            st = move(bk, sg->outdir, j->old.v[i]);
    }
    if (st != CNP_OK)
        return st;
    for (size_t i = j->newdirs.n; i-- > 0;) {
        stg_path(p, sg->outdir, j->newdirs.v[i]);
        rmdir(p);
    }
    cnp_fs_remove_tree(bk);
    stg_path(p, sg->outdir, j->staging);
    cnp_fs_remove_tree(p);
    stg_path(p, sg->outdir, CNP_STAGING_JOURNAL);
    unlink(p);
    return cnp_fs_fsync_path(sg->outdir);
}

/* The commit point was passed when OUTDIR's run.json is the new one. */
static int committed(const cnp_staging *sg, const journal *j)
{
    char hex[65];
    const char *why;
    const int fd = cnp_fs_open_inside(sg->outdir, "run.json", &why);
    if (fd < 0)
        return 0;
    const int same = cnp_sha256_fd(fd, (int64_t)256 << 20, "run.json", hex, NULL) == CNP_OK &&
                     strcmp(hex, j->run_sha256) == 0;
    close(fd);
    return same;
}

cnp_status stg_journal_recover(const cnp_staging *sg, int locked)
{
    journal j;
    char host[128];
    const int r = journal_read(sg, &j);
    if (r == 0)
        return CNP_OK;
    if (r < 0)
        return cnp_err(CNP_E_IO, "'%s/%s' is unreadable: an interrupted commit cannot be "
                       "finished; restore OUTDIR from a copy", sg->given, CNP_STAGING_JOURNAL);
    cnp_tmp_host(host, sizeof host);
    cnp_status st;
    /* Under the lock no commit of this host is in progress: the journal's
     * process is dead even if its pid has been given to another one. */
    if (strcmp(host, j.host) != 0 || (!locked && !cnp_tmp_pid_gone(j.pid)))
        st = cnp_err(CNP_E_IO, "output folder '%s' is being committed by process %ld on host "
                     "'%s' (%s): try again when it is done (a run on that host finishes or "
                     "undoes a commit its process left)", sg->given, j.pid, j.host,
                     CNP_STAGING_JOURNAL);
    else
        st = committed(sg, &j) ? roll_forward(sg, &j) : roll_back(sg, &j);
    journal_free(&j);
    return st;
}

/* ---- the commit ----------------------------------------------------------------------------- */

/* The journal of this commit: the moves in order, the folders to make, and
 * any file of the user's in the way (which stops it before anything moves). */
static cnp_status plan(const cnp_staging *sg, const stg_old *old, const stg_list *files,
                       journal *j)
{
    char p[PATH_MAX];
    struct stat sb;
    cnp_status st = CNP_OK;
    memset(j, 0, sizeof *j);
    cnp_tmp_host(j->host, sizeof j->host);
    j->pid = (long)getpid();
    snprintf(j->staging, sizeof j->staging, "%s%s", sg->inside ? "" : "../",
             cnp_path_base(sg->dir));
    stg_path(p, sg->outdir, "canopy-old");          /* the tmp name adds the dot */
    cnp_tmp_path(p, j->backup, sizeof j->backup);
    memmove(j->backup, cnp_path_base(j->backup), strlen(cnp_path_base(j->backup)) + 1);
    stg_path(p, sg->dir, "run.json");
    if ((st = cnp_sha256_file(p, j->run_sha256, NULL)) != CNP_OK)
        return st;
    /* Old files aside: run.json first, so OUTDIR never shows the old run.json
     * beside a part of the old files. */
    if (stg_list_has(&old->files, "run.json"))       /* not in an empty OUTDIR */
        st = stg_list_add(&j->old, "run.json");
    for (size_t i = 0; st == CNP_OK && i < old->files.n; i++)
        if (strcmp(old->files.v[i], "run.json") != 0)
            st = stg_list_add(&j->old, old->files.v[i]);
    /* New files in: run.json last, it is the commit point. */
    for (size_t i = 0; st == CNP_OK && i < files->n; i++) {
        const char *rel = files->v[i];
        if (strcmp(rel, "run.json") != 0)
            st = stg_list_add(&j->fresh, rel);
        /* Each folder on the way must be a folder or be made; the name
         * itself free or the old run's. */
        for (const char *c = rel; st == CNP_OK && (c = strchr(c, '/')) != NULL; c++) {
            stg_path_n(p, sg->outdir, rel, (size_t)(c - rel));
            if (lstat(p, &sb) != 0) {
                char d[PATH_MAX];
                snprintf(d, sizeof d, "%.*s", (int)(c - rel), rel);
                st = stg_list_add(&j->newdirs, d);
            } else if (!S_ISDIR(sb.st_mode)) {
                st = cnp_err(CNP_E_ARG, "'%s/%.*s' was not written by Canopy and is in the way "
                             "of this run's '%s': move it away or choose another OUTDIR",
                             sg->given, (int)(c - rel), rel, rel);
            }
        }
        stg_path(p, sg->outdir, rel);
        if (st == CNP_OK && lstat(p, &sb) == 0 &&
            !(S_ISREG(sb.st_mode) && stg_list_has(&old->files, rel)))
            st = cnp_err(CNP_E_ARG, "'%s/%s' was not written by Canopy (the run.json there does "
                         "not list it) and this run writes that name: move it away or choose "
                         "another OUTDIR", sg->given, rel);
    }
    if (st == CNP_OK)
        st = stg_list_add(&j->fresh, "run.json");
    stg_list_sort(&j->newdirs);            /* parents before their children, once each */
    return st;
}

cnp_status stg_journal_commit(const cnp_staging *sg, const stg_old *old, const stg_list *files)
{
    char bk[PATH_MAX], p[PATH_MAX];
    journal j;
    cnp_status st = plan(sg, old, files, &j);
    if (st != CNP_OK || (st = journal_write(sg, &j)) != CNP_OK) {
        journal_free(&j);
        return st;
    }
    stg_crash_point("journal");
    stg_path(bk, sg->outdir, j.backup);
    if (mkdir(bk, 0700) != 0 && errno != EEXIST)
        st = cnp_err(CNP_E_IO, "cannot write in output folder '%s': %s", sg->given, strerror(errno));
    for (size_t i = 0; st == CNP_OK && i < j.old.n; i++) {
        st = move(sg->outdir, bk, j.old.v[i]);
        stg_crash_point("moved-old");
    }
    for (size_t i = 0; st == CNP_OK && i < j.newdirs.n; i++) {
        stg_path(p, sg->outdir, j.newdirs.v[i]);
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            st = cnp_err(CNP_E_IO, "cannot make '%s': %s", p, strerror(errno));
    }
    for (size_t i = 0; st == CNP_OK && i + 1 < j.fresh.n; i++) {
        st = move(sg->dir, sg->outdir, j.fresh.v[i]);
        stg_crash_point("moved-new");
    }
    /* The moved entries reach the disk before the commit point. */
    for (size_t i = 0; st == CNP_OK && i < j.newdirs.n; i++) {
        stg_path(p, sg->outdir, j.newdirs.v[i]);
        st = cnp_fs_fsync_path(p);
    }
    if (st == CNP_OK && (st = cnp_fs_fsync_path(sg->outdir)) == CNP_OK &&
        (st = move(sg->dir, sg->outdir, "run.json")) == CNP_OK) {
        cnp_fs_fsync_path(sg->outdir);
        stg_crash_point("committed");
        st = roll_forward(sg, &j);
    } else {
        const cnp_status st2 = roll_back(sg, &j);
        (void)st2;                 /* the first failure is the one to report */
    }
    journal_free(&j);
    return st;
}
