/* pipeline/outputs/cnp_staging.c - a run's files are written into a staging
 * folder and OUTDIR is replaced by it in one step (see cnp_staging.h). */
#include "cnp_staging.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "cnp_err.h"
#include "cnp_fs.h"
#include "cnp_hash.h"
#include "cnp_json.h"
#include "cnp_outlist.h"
#include "cnp_staging_int.h"
#include "cnp_tmpfile.h"

/* ---- lists ------------------------------------------------------------------------ */

cnp_status stg_list_add(stg_list *l, const char *s)
{
    char *d = strdup(s);
    if (!d || cnp_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v, "a file list") != CNP_OK) {
        free(d);
        return cnp_err(CNP_E_NOMEM, "out of memory for a file list");
    }
    l->v[l->n++] = d;
    return CNP_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void stg_list_sort(stg_list *l)
{
    if (!l->n)
        return;
    qsort(l->v, l->n, sizeof *l->v, cmp_str);
    size_t k = 1;
    for (size_t i = 1; i < l->n; i++) {
        if (strcmp(l->v[i], l->v[k - 1]) == 0)
            free(l->v[i]);
        else
            l->v[k++] = l->v[i];
    }
    l->n = k;
}

int stg_list_has(const stg_list *l, const char *s)
{
    return l->n && bsearch(&s, l->v, l->n, sizeof *l->v, cmp_str) != NULL;
}

void stg_list_free(stg_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* ---- small file steps ----------------------------------------------------------------- */

void stg_path_n(char *out, const char *root, const char *rel, size_t n)
{
    const size_t a = strlen(root);
    if (a + 1 + n >= PATH_MAX) {
        out[0] = '\0';
        return;
    }
    memcpy(out, root, a);
    out[a] = '/';
    memcpy(out + a + 1, rel, n);
    out[a + 1 + n] = '\0';
}

void stg_path(char *out, const char *root, const char *rel)
{
    stg_path_n(out, root, rel, strlen(rel));
}

int stg_mkdirs(const char *root, const char *rel, int whole)
{
    char p[PATH_MAX];
    struct stat sb;
    stg_path(p, root, rel);
    if (!p[0]) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *c = p + strlen(root) + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        if (mkdir(p, 0777) != 0 && (errno != EEXIST || lstat(p, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
            if (errno == EEXIST)
                errno = ENOTDIR;
            return -1;
        }
        *c = '/';
    }
    if (whole && mkdir(p, 0777) != 0 && (errno != EEXIST || lstat(p, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
        if (errno == EEXIST)
            errno = ENOTDIR;
        return -1;
    }
    return 0;
}

void stg_crash_point(const char *name)
{
    cnp_tmp_crash_point("CANOPY_DETECT", name);
}

/* Test hook: $CANOPY_DETECT_COMMIT=journal skips the exchange, =inside also
 * stages inside OUTDIR: the two ways used where the exchange is refused. */
static const char *forced_commit(void)
{
    const char *e = getenv("CANOPY_DETECT_COMMIT");
    return e ? e : "";
}

/* Names starting with ".canopy-" are Canopy's temporary names in OUTDIR. */
static int temp_name(const char *name)
{
    return strncmp(name, ".canopy-", 8) == 0;
}

/* OUTDIR as an absolute path without links, its parent and its name. An
 * OUTDIR that does not exist yet needs an existing parent. */
static cnp_status resolve(cnp_staging *sg, const char *outdir)
{
    char buf[PATH_MAX], real[PATH_MAX];
    snprintf(sg->given, sizeof sg->given, "%s", outdir);
    size_t n = strlen(outdir);
    if (n == 0 || n >= sizeof buf)
        return cnp_err(CNP_E_ARG, "-o '%s': not a usable folder name", outdir);
    memcpy(buf, outdir, n + 1);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    if (realpath(buf, real)) {
        snprintf(sg->outdir, sizeof sg->outdir, "%s", real);
    } else {
        if (errno != ENOENT)
            return cnp_err(CNP_E_IO, "cannot %s output folder '%s': %s",
                           errno == ENOTDIR ? "create" : "use", outdir, strerror(errno));
        char *slash = strrchr(buf, '/');
        const char *name = slash ? slash + 1 : buf;
        if (slash == buf)
            snprintf(real, sizeof real, "/");
        else if (slash) {
            *slash = '\0';
            if (!realpath(buf, real))
                return cnp_err(CNP_E_IO, "cannot create output folder '%s': %s", outdir,
                               strerror(errno));
        } else if (!getcwd(real, sizeof real)) {
            return cnp_err(CNP_E_IO, "cannot create output folder '%s': %s", outdir,
                           strerror(errno));
        }
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
            snprintf(sg->outdir, sizeof sg->outdir, "%s%s%s", real,
                     strcmp(real, "/") == 0 ? "" : "/", name) >= (int)sizeof sg->outdir)
            return cnp_err(CNP_E_ARG, "-o '%s': not a usable folder name", outdir);
    }
    const char *last = strrchr(sg->outdir, '/');
    if (!last || !last[1] || strlen(last + 1) >= sizeof sg->name)
        return cnp_err(CNP_E_ARG, "-o '%s': the root folder cannot be replaced", outdir);
    snprintf(sg->name, sizeof sg->name, "%s", last + 1);
    snprintf(sg->parent, sizeof sg->parent, "%.*s", last == sg->outdir ? 1 : (int)(last - sg->outdir),
             sg->outdir);
    return CNP_OK;
}

/* Commits into one parent folder one at a time (best effort: an unreadable
 * parent cannot be locked). @return an fd to close, or -1. */
static int lock_parent(const cnp_staging *sg)
{
    const int fd = open(sg->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void unlock_parent(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* ---- what OUTDIR holds ------------------------------------------------------------------ */

enum { OUT_NEW, OUT_EMPTY, OUT_RUN, OUT_FOREIGN };

/* Add rel to the old run's files when it is a regular file inside OUTDIR. */
static cnp_status add_old(const cnp_staging *sg, stg_old *old, const char *rel)
{
    const char *why;
    const int fd = cnp_fs_open_inside(sg->outdir, rel, &why);
    if (fd < 0)
        return CNP_OK;
    close(fd);
    return stg_list_add(&old->files, rel);
}

/* The run whose run.json is in OUTDIR: what it says Canopy wrote. */
static cnp_status read_old_run(const cnp_staging *sg, stg_old *old)
{
    const char *why;
    const int fd = cnp_fs_open_inside(sg->outdir, "run.json", &why);
    json_object *run = fd >= 0 ? json_object_from_fd(fd) : NULL, *v = NULL, *outs = NULL;
    cnp_status st = CNP_OK;
    if (fd >= 0)
        close(fd);
    if (!run || !json_object_object_get_ex(run, "program", &v) ||
        !json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), "canopy") ||
        !json_object_object_get_ex(run, "outputs", &outs) || !json_object_is_type(outs, json_type_array)) {
        json_object_put(run);
        return CNP_OK;
    }
    old->is_run = 1;
    st = stg_list_add(&old->files, "run.json");
    for (size_t i = 0; st == CNP_OK && i < json_object_array_length(outs); i++) {
        json_object *o = json_object_array_get_idx(outs, i), *p = NULL;
        if (json_object_object_get_ex(o, "path", &p) && json_object_is_type(p, json_type_string) &&
            cnp_fs_relpath_ok(json_object_get_string(p))) {
            st = add_old(sg, old, json_object_get_string(p));
        }
    }
    /* SHA256SUMS and its signature are named by "checksums", not listed. */
    if (st == CNP_OK && json_object_object_get_ex(run, "checksums", &v) &&
        json_object_is_type(v, json_type_object)) {
        if ((st = add_old(sg, old, "SHA256SUMS")) == CNP_OK)
            st = add_old(sg, old, "SHA256SUMS.sig");
    }
    stg_list_sort(&old->files);
    json_object_put(run);
    return st;
}

/* OUT_NEW, OUT_EMPTY, OUT_RUN (old filled in) or OUT_FOREIGN. */
static cnp_status classify(const cnp_staging *sg, int *state, stg_old *old)
{
    struct stat sb;
    memset(old, 0, sizeof *old);
    if (stat(sg->outdir, &sb) != 0) {
        if (errno != ENOENT)
            return cnp_err(CNP_E_IO, "cannot use output folder '%s': %s", sg->given, strerror(errno));
        *state = OUT_NEW;
        return CNP_OK;
    }
    if (!S_ISDIR(sb.st_mode))
        return cnp_err(CNP_E_IO, "output '%s' exists and is not a folder", sg->given);
    DIR *d = opendir(sg->outdir);
    if (!d)
        return cnp_err(CNP_E_IO, "cannot read output folder '%s': %s", sg->given, strerror(errno));
    int entries = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && !temp_name(e->d_name);
    closedir(d);
    if (entries == 0) {
        *state = OUT_EMPTY;
        return CNP_OK;
    }
    const cnp_status st = read_old_run(sg, old);
    *state = old->is_run ? OUT_RUN : OUT_FOREIGN;
    return st;
}

/* The names a run with these options writes at the top of OUTDIR. */
enum { MAX_FIXED_NAMES = 16 };

static int fixed_names(const cnp_staging *o, const char *names[MAX_FIXED_NAMES])
{
    int n = 0;
    for (int k = 0; k < CNP_OUT_COUNT; k++) {
        if (o->skip & (1u << k))
            continue;
        names[n++] = cnp_output_file(k);
        if ((1u << k) == CNP_OUT_OVERVIEW) {  /* its georeferencing goes with it */
            names[n++] = "overview.pgw";
            names[n++] = "overview.png.aux.xml";
        }
    }
    if (o->evidence) {
        names[n++] = "alerts.kmz";
        names[n++] = "report.html";
        names[n++] = "report.pdf";
        names[n++] = "evidence";
    }
    if (o->zones)
        names[n++] = "zones.csv";
    names[n++] = "SHA256SUMS";
    names[n++] = "run.json";
    return n;
}

static cnp_status not_ours(const cnp_staging *sg, const char *rel)
{
    return cnp_err(CNP_E_ARG, "'%s/%s' was not written by Canopy (the run.json there does not "
                   "list it) and this run writes that name: move it away or choose another "
                   "OUTDIR", sg->given, rel);
}

/* May this run replace what OUTDIR holds? */
static cnp_status admit(const cnp_staging *sg, int state, const stg_old *old)
{
    if (state == OUT_FOREIGN)
        return cnp_err(CNP_E_ARG, "output folder '%s' is not empty and holds no Canopy run "
                       "(no run.json of Canopy's): Canopy writes only into a new or empty folder, "
                       "or over a run of its own (--overwrite)", sg->given);
    if (state == OUT_RUN && !sg->overwrite)
        return cnp_err(CNP_E_ARG, "output folder '%s' holds a Canopy run: give --overwrite to "
                       "replace it (files Canopy did not write are kept)", sg->given);
    if (state != OUT_RUN)
        return CNP_OK;
    const char *names[MAX_FIXED_NAMES];
    const int n = fixed_names(sg, names);
    for (int i = 0; i < n; i++) {
        char p[PATH_MAX];
        struct stat sb;
        stg_path(p, sg->outdir, names[i]);
        if (lstat(p, &sb) != 0 || stg_list_has(&old->files, names[i]))
            continue;
        /* evidence/ of the user's may hold the chips beside the user's notes. */
        if (strcmp(names[i], "evidence") == 0 && S_ISDIR(sb.st_mode))
            continue;
        return not_ours(sg, names[i]);
    }
    return CNP_OK;
}

/* Recover an interrupted commit and classify OUTDIR, under the lock. */
static cnp_status inspect(const cnp_staging *sg, int *state, stg_old *old)
{
    const int lk = lock_parent(sg);
    cnp_status st = stg_journal_recover(sg, lk >= 0);
    if (st == CNP_OK)
        st = classify(sg, state, old);
    unlock_parent(lk);
    return st;
}

/* A temporary name in OUTDIR: "OUTDIR/.canopy-WHAT.tmp-HOST-PID". */
static void inside_name(const cnp_staging *sg, const char *what, char *out, size_t size)
{
    char p[PATH_MAX], name[64];
    snprintf(name, sizeof name, "canopy-%s", what);    /* the tmp name adds the dot */
    stg_path(p, sg->outdir, name);
    cnp_tmp_path(p, out, size);
}

/* A probe made and removed in OUTDIR leaves its times as they were (best
 * effort: only the owner may set them). */
static void keep_times(const char *dir, const struct stat *before)
{
    const struct timespec ts[2] = { before->st_atim, before->st_mtim };
    utimensat(AT_FDCWD, dir, ts, 0);
}

/* Can a folder be made where the run needs one? Made and removed again. */
static cnp_status probe_writable(const cnp_staging *sg, int state)
{
    char p[PATH_MAX];
    struct stat sb;
    if (state == OUT_NEW)
        cnp_tmp_path(sg->outdir, p, sizeof p);
    else
        inside_name(sg, "probe", p, sizeof p);
    const int have_times = state != OUT_NEW && stat(sg->outdir, &sb) == 0;
    if (mkdir(p, 0700) != 0)
        return cnp_err(CNP_E_IO, state == OUT_NEW ? "cannot create output folder '%s': %s"
                                                  : "cannot write in output folder '%s': %s",
                       sg->given, strerror(errno));
    rmdir(p);
    if (have_times)
        keep_times(sg->outdir, &sb);
    return CNP_OK;
}

cnp_status cnp_staging_check(const char *outdir, const cnp_staging_opts *o)
{
    cnp_staging sg;
    stg_old old = { 0 };
    int state = OUT_NEW;
    memset(&sg, 0, sizeof sg);
    sg.overwrite = o->overwrite;
    sg.evidence = o->evidence;
    sg.skip = o->skip;
    cnp_status st = resolve(&sg, outdir);
    if (st == CNP_OK && (st = inspect(&sg, &state, &old)) == CNP_OK &&
        (st = admit(&sg, state, &old)) == CNP_OK)
        st = probe_writable(&sg, state);
    stg_list_free(&old.files);
    return st;
}

/* ---- leftovers --------------------------------------------------------------------------- */

/* What dead processes of this host left: staging folders beside OUTDIR and
 * inside it, and those of older versions (".canopy-tmp-PID", verify's
 * ".canopy-rerun-PID"), which carry no host name. */
static void remove_dead(const cnp_staging *sg)
{
    static const char *const inside[] = { "staging", "old", "probe", "journal" };
    static const char *const legacy[] = { ".canopy-tmp-", ".canopy-rerun-" };
    char p[PATH_MAX];
    cnp_tmp_remove_dead(sg->outdir);
    for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "canopy-%s", inside[i]);
        stg_path(p, sg->outdir, name);
        cnp_tmp_remove_dead(p);
    }
    DIR *d = opendir(sg->outdir);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        for (size_t i = 0; i < sizeof legacy / sizeof legacy[0]; i++) {
            const size_t n = strlen(legacy[i]);
            char *end;
            if (strncmp(e->d_name, legacy[i], n) != 0)
                continue;
            const long pid = strtol(e->d_name + n, &end, 10);
            if (end == e->d_name + n || (*end && strcmp(end, ".ini") != 0))
                continue;
            stg_path(p, sg->outdir, e->d_name);
            struct stat sb;
            if (lstat(p, &sb) != 0 || !cnp_tmp_owner_gone(pid, sb.st_mtime))
                continue;
            cnp_fs_remove_tree(p);
        }
    }
    if (d)
        closedir(d);
}

cnp_status cnp_staging_clean(const char *outdir)
{
    cnp_staging sg;
    char parent[PATH_MAX];
    struct stat sb;
    size_t n = strlen(outdir);
    if (n == 0 || n >= sizeof parent)
        return CNP_OK;
    memcpy(parent, outdir, n + 1);
    while (n > 1 && parent[n - 1] == '/')
        parent[--n] = '\0';
    char *slash = strrchr(parent, '/');
    if (slash)
        *(slash == parent ? slash + 1 : slash) = '\0';
    if (stat(slash ? parent : ".", &sb) != 0 || !S_ISDIR(sb.st_mode))
        return CNP_OK;                         /* nothing can have been left there */
    memset(&sg, 0, sizeof sg);
    cnp_status st = resolve(&sg, outdir);
    if (st != CNP_OK)
        return st;
    const int lk = lock_parent(&sg);
    st = stg_journal_recover(&sg, lk >= 0);
    unlock_parent(lk);
    remove_dead(&sg);
    return st;
}

/* ---- open, abort ------------------------------------------------------------------------ */

/* Stage beside OUTDIR when the parent is writable and on OUTDIR's mount (a
 * folder made inside OUTDIR can be renamed into the staging folder): only
 * then can the two be swapped. Else stage inside OUTDIR. */
static cnp_status choose_staging(cnp_staging *sg, int state)
{
    char probe[PATH_MAX], into[PATH_MAX + 16];
    cnp_tmp_path(sg->outdir, sg->dir, sizeof sg->dir);
    const int sibling_ok = mkdir(sg->dir, 0777) == 0;
    const int e = errno;
    if (state == OUT_NEW) {
        return sibling_ok ? CNP_OK : cnp_err(CNP_E_IO, "cannot create output folder '%s': %s",
                                             sg->given, strerror(e));
    }
    if (sibling_ok && strcmp(forced_commit(), "inside") != 0) {
        struct stat sb;
        const int have_times = stat(sg->outdir, &sb) == 0;
        inside_name(sg, "probe", probe, sizeof probe);
        snprintf(into, sizeof into, "%s/probe", sg->dir);
        if (mkdir(probe, 0700) != 0) {
            const int e2 = errno;
            rmdir(sg->dir);
            return cnp_err(CNP_E_IO, "cannot write in output folder '%s': %s", sg->given,
                           strerror(e2));
        }
        const int same_mount = rename(probe, into) == 0;
        rmdir(same_mount ? into : probe);
        if (have_times)
            keep_times(sg->outdir, &sb);
        if (same_mount)
            return CNP_OK;
    }
    if (sibling_ok)
        rmdir(sg->dir);
    sg->inside = 1;
    inside_name(sg, "staging", sg->dir, sizeof sg->dir);
    if (mkdir(sg->dir, 0777) != 0)
        return cnp_err(CNP_E_IO, "cannot write in output folder '%s': %s", sg->given,
                       strerror(errno));
    return CNP_OK;
}

cnp_status cnp_staging_open(cnp_staging *sg, const char *outdir, const cnp_staging_opts *o)
{
    stg_old old = { 0 };
    int state = OUT_NEW;
    memset(sg, 0, sizeof *sg);
    sg->overwrite = o->overwrite;
    sg->evidence = o->evidence;
    sg->skip = o->skip;
    sg->zones = o->zones;
    cnp_status st = resolve(sg, outdir);
    if (st == CNP_OK && (st = inspect(sg, &state, &old)) == CNP_OK &&
        (st = admit(sg, state, &old)) == CNP_OK) {
        remove_dead(sg);
        st = choose_staging(sg, state);
    }
    stg_list_free(&old.files);
    if (st == CNP_OK)
        cnp_tmp_guard(sg->dir);
    else
        sg->dir[0] = '\0';
    return st;
}

void cnp_staging_path(const cnp_staging *sg, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", sg->dir, name);
}

void cnp_staging_abort(cnp_staging *sg, const char *outdir)
{
    (void)outdir;
    if (!sg->dir[0])
        return;
    cnp_fs_remove_tree(sg->dir);
    cnp_tmp_unguard(sg->dir);
    sg->dir[0] = '\0';
}

/* ---- the commit -------------------------------------------------------------------------- */

/* fsync every file and folder of the staging folder: after the swap its
 * content must survive a power cut as the old run's would have. */
static cnp_status sync_tree(const char *dir, const stg_list *files)
{
    char p[PATH_MAX];
    stg_list dirs = { 0 };
    cnp_status st = CNP_OK;
    for (size_t i = 0; i < files->n && st == CNP_OK; i++) {
        stg_path(p, dir, files->v[i]);
        st = cnp_fs_fsync_path(p);
        /* Every folder on the way holds an entry that must be synced too. */
        for (const char *c = files->v[i]; st == CNP_OK && (c = strchr(c, '/')) != NULL; c++) {
            snprintf(p, sizeof p, "%.*s", (int)(c - files->v[i]), files->v[i]);
            st = stg_list_add(&dirs, p);
        }
    }
    stg_list_sort(&dirs);
    for (size_t i = 0; i < dirs.n && st == CNP_OK; i++) {
        stg_path(p, dir, dirs.v[i]);
        st = cnp_fs_fsync_path(p);
    }
    stg_list_free(&dirs);
    return st == CNP_OK ? cnp_fs_fsync_path(dir) : st;
}

/* A folder of OUTDIR that holds files of the old run (so Canopy made it). */
static int canopy_folder(const stg_old *old, const char *rel)
{
    const size_t n = strlen(rel);
    for (size_t i = 0; i < old->files.n; i++)
        if (strncmp(old->files.v[i], rel, n) == 0 && old->files.v[i][n] == '/')
            return 1;
    return 0;
}

/* Hard-link the user's files of OUTDIR/rel into the staging folder, making
 * the folders they need, and the user's folders even when empty. *refused:
 * a link the file system refuses (the journal is used instead). */
static cnp_status link_user_files(const cnp_staging *sg, const stg_old *old, const char *rel,
                                  int depth, int *refused)
{
    char from[PATH_MAX], to[PATH_MAX], child[PATH_MAX];
    cnp_status st = CNP_OK;
    if (*rel)
        stg_path(from, sg->outdir, rel);
    else
        snprintf(from, sizeof from, "%s", sg->outdir);
    if (depth >= 32)
        return cnp_err(CNP_E_IO, "'%s': folders nested too deeply to keep", from);
    DIR *d = opendir(from);
    if (!d)
        return cnp_err(CNP_E_IO, "cannot read '%s': %s", from, strerror(errno));
    for (struct dirent *e; st == CNP_OK && !*refused && (e = readdir(d)) != NULL;) {
        struct stat sb;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || (!*rel && temp_name(e->d_name)))
            continue;
        if (*rel)
            stg_path(child, rel, e->d_name);
        else
            snprintf(child, sizeof child, "%s", e->d_name);
        stg_path(from, sg->outdir, child);
        stg_path(to, sg->dir, child);
        if (lstat(from, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            if (!canopy_folder(old, child)) {          /* the user's: kept, with its mode */
                if (stg_mkdirs(sg->dir, child, 1) != 0)
                    st = errno == ENOTDIR ? not_ours(sg, child)
                                          : cnp_err(CNP_E_IO, "cannot make '%s': %s", to,
                                                    strerror(errno));
                else
                    chmod(to, sb.st_mode & 07777);
            }
            if (st == CNP_OK)
                st = link_user_files(sg, old, child, depth + 1, refused);
            continue;
        }
        if (S_ISREG(sb.st_mode) && stg_list_has(&old->files, child))
            continue;                      /* the old run's: replaced */
        if (lstat(to, &sb) == 0 || (stg_mkdirs(sg->dir, child, 0) != 0 && errno == ENOTDIR)) {
            st = not_ours(sg, child);
        } else if (linkat(AT_FDCWD, from, AT_FDCWD, to, 0) != 0) {
            *refused = 1;
        }
    }
    closedir(d);
    return st;
}

/* Swap the staging folder with OUTDIR. *refused: the file system would not
 * (the caller moves the files under the journal instead). */
static cnp_status exchange(const cnp_staging *sg, const stg_old *old, int *refused)
{
    struct stat sb;
    stg_list all = { 0 };
    size_t n = 0;
    cnp_status st = link_user_files(sg, old, "", 0, refused);
    if (st != CNP_OK || *refused)
        return st;
    /* The new run's files and the user's links, all of them synced. */
    if ((st = cnp_fs_list_files(sg->dir, &all.v, &n)) != CNP_OK)
        return st;
    all.n = all.cap = n;
    st = sync_tree(sg->dir, &all);
    stg_list_free(&all);
    if (st != CNP_OK)
        return st;
    stg_crash_point("linked");
    if (stat(sg->outdir, &sb) == 0)
        chmod(sg->dir, sb.st_mode & 07777);      /* OUTDIR keeps its permissions */
    if (renameat2(AT_FDCWD, sg->dir, AT_FDCWD, sg->outdir, RENAME_EXCHANGE) != 0) {
        *refused = 1;
        return CNP_OK;
    }
    cnp_fs_fsync_path(sg->parent);
    stg_crash_point("exchanged");
    cnp_fs_remove_tree(sg->dir);                 /* the old run, now */
    return CNP_OK;
}

/* A new OUTDIR: the staging folder is renamed to it. */
static cnp_status rename_new(const cnp_staging *sg, const stg_list *files)
{
    cnp_status st = sync_tree(sg->dir, files);
    if (st != CNP_OK)
        return st;
    if (sg->inside)
        return cnp_err(CNP_E_IO, "output folder '%s' was removed during the run", sg->given);
    /* NOREPLACE: an OUTDIR another process made meanwhile is not replaced
     * (a file system without the flag gets rename(), which replaces only an
     * empty folder). */
    if (renameat2(AT_FDCWD, sg->dir, AT_FDCWD, sg->outdir, RENAME_NOREPLACE) != 0 &&
        (errno != EINVAL || rename(sg->dir, sg->outdir) != 0))
        return cnp_err(CNP_E_IO, "cannot create output folder '%s': %s", sg->given,
                       errno == EEXIST || errno == ENOTEMPTY ? "another process made it during "
                       "the run" : strerror(errno));
    cnp_fs_fsync_path(sg->parent);
    return CNP_OK;
}

/* The process's current folder is OUTDIR or inside it: swapped away, it would
 * be a deleted folder to a user who ran `canopy detect ... -o .`. */
static int cwd_inside(const cnp_staging *sg)
{
    char cwd[PATH_MAX];
    const size_t n = strlen(sg->outdir);
    return getcwd(cwd, sizeof cwd) && strncmp(cwd, sg->outdir, n) == 0 &&
           (cwd[n] == '\0' || cwd[n] == '/');
}

cnp_status cnp_staging_commit(cnp_staging *sg, const char *outdir)
{
    stg_old old = { 0 };
    stg_list files = { 0 };
    size_t n = 0;
    int state = OUT_NEW;
    (void)outdir;

    stg_crash_point("staged");
    cnp_tmp_hold_signals(1);
    const int lk = lock_parent(sg);
    /* Again under the lock: OUTDIR may have changed during the run. */
    cnp_status st = stg_journal_recover(sg, lk >= 0);
    if (st == CNP_OK && (st = classify(sg, &state, &old)) == CNP_OK &&
        (st = admit(sg, state, &old)) == CNP_OK &&
        (st = cnp_fs_list_files(sg->dir, &files.v, &n)) == CNP_OK) {
        files.n = files.cap = n;              /* the new run's files */
        if (state == OUT_NEW) {
            st = rename_new(sg, &files);
        } else {
            int journal = sg->inside || *forced_commit() || cwd_inside(sg);
            if (!journal)
                st = exchange(sg, &old, &journal);
            if (st == CNP_OK && journal && (st = sync_tree(sg->dir, &files)) == CNP_OK)
                st = stg_journal_commit(sg, &old, &files);
        }
    }
    unlock_parent(lk);
    stg_list_free(&files);
    stg_list_free(&old.files);
    if (st == CNP_OK) {
        cnp_tmp_unguard(sg->dir);
        sg->dir[0] = '\0';
    }
    cnp_tmp_hold_signals(0);
    return st;
}

cnp_status cnp_staging_json_outputs(cnp_json *j, const cnp_staging *sg)
{
    char **list = NULL, path[4200];
    size_t n = 0;
    cnp_status st = cnp_fs_list_files(sg->dir, &list, &n);
    if (st != CNP_OK)
        return st;
    cnp_json_array(j, "outputs");
    for (size_t i = 0; i < n && st == CNP_OK; i++) {
        /* Every staged output but run.json (which lists them); SHA256SUMS
         * and its signature come after it. */
        if (strcmp(list[i], "run.json") == 0 || strncmp(list[i], "SHA256SUMS", 10) == 0)
            continue;
        char hex[65];
        int64_t size = 0;
        cnp_staging_path(sg, list[i], path, sizeof path);
        if ((st = cnp_sha256_file(path, hex, &size)) != CNP_OK)
            break;
        cnp_json_object(j, NULL);
        cnp_json_str(j, "path", list[i]);
        cnp_json_int(j, "size", size);
        cnp_json_str(j, "sha256", hex);
        cnp_json_close(j, '}');
    }
    cnp_json_close(j, ']');
    cnp_fs_free_list(list, n);
    return st;
}
