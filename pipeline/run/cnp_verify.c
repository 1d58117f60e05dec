/* pipeline/run/cnp_verify.c - re-hash and reproduce a run's outputs from run.json.
 *
 * run.json is not trusted: anyone who can write OUTDIR can edit it. An output
 * it lists is checked only when it is a regular file inside OUTDIR reached
 * without a symbolic link, an input only when it is a regular file, and a
 * file whose size differs from the recorded one is reported changed without
 * being read. So verify neither hashes /dev/zero forever nor tells anyone
 * whether some file outside OUTDIR has a given hash.
 */
#include "cnp_verify.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "cnp_config.h"
#include "cnp_detect.h"
#include "cnp_err.h"
#include "cnp_fs.h"
#include "cnp_hash.h"
#include "cnp_output.h"
#include "cnp_tmpfile.h"

static const char *str_of(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static json_object *get(json_object *o, const char *key, json_type type)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
        return NULL;
    return v;
}

/* The recorded size, or -1 when there is none. */
static int64_t size_of(json_object *o)
{
    json_object *v = get(o, "size", json_type_int);
    return v && json_object_get_int64(v) >= 0 ? json_object_get_int64(v) : -1;
}

/* An input path as recorded: relative paths were relative to the run's
 * working directory. */
static void resolve(const char *path, const char *wd, char *out, size_t size)
{
    if (path[0] == '/' || !wd || strncmp(path, "/vsi", 4) == 0)
        snprintf(out, size, "%s", path);
    else
        snprintf(out, size, "%s/%s", wd, path);
}

/* ---- the report ----------------------------------------------------------- */

typedef struct report {
    FILE *f;
    int   good, nfiles;
} report;

/* A name from run.json on a terminal: control characters as \xNN. */
static void put_label(FILE *f, const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c < 0x20 || *c == 0x7f)
            fprintf(f, "\\x%02x", *c);
        else
            fputc(*c, f);
    }
}

/* One file's state: "ok", "folder" and "unknown" keep the run intact. */
static void note(report *r, const char *state, const char *label, const char *suffix,
                 const char *reason)
{
    const int fine = strcmp(state, "ok") == 0 || strcmp(state, "folder") == 0 ||
                     strcmp(state, "unknown") == 0;
    r->good &= fine;
    fprintf(r->f, "%-8s ", state);
    put_label(r->f, label);
    if (suffix)
        fputs(suffix, r->f);
    if (reason) {
        fputs(" (", r->f);
        put_label(r->f, reason);
        fputc(')', r->f);
    }
    fputc('\n', r->f);
}

/* Hash an open regular file against its recorded size and hash. */
static void check_fd(report *r, int fd, const char *label, const char *suffix, int64_t want_size,
                     const char *want)
{
    struct stat sb;
    char hex[65], why[160];
    int64_t got = 0;
    if (fstat(fd, &sb) == 0 && want_size >= 0 && (int64_t)sb.st_size != want_size) {
        snprintf(why, sizeof why, "size %" PRId64 ", recorded %" PRId64, (int64_t)sb.st_size,
                 want_size);
        note(r, "changed", label, suffix, why);
        return;
    }
    if (!want) {
        note(r, "unknown", label, suffix, "no hash recorded: the run used --no-hash");
        return;
    }
    if (cnp_sha256_fd(fd, want_size, label, hex, &got) != CNP_OK) {
        note(r, "missing", label, suffix, cnp_err_msg());
        return;
    }
    if (want_size >= 0 && got != want_size) {      /* it changed while being read */
        note(r, "changed", label, suffix, "its size changed while it was read");
        return;
    }
    note(r, strcmp(hex, want) == 0 ? "ok" : "changed", label, suffix, NULL);
}

/* An output: a regular file inside `dir`, reached without a symbolic link. */
static void check_output(report *r, const char *dir, json_object *f, const char *suffix)
{
    const char *rel = str_of(f, "path"), *why = NULL;
    if (!rel)
        return;
    r->nfiles++;
    const int fd = cnp_fs_open_inside(dir, rel, &why);
    if (fd < 0) {
        const int missing = strcmp(why, "missing") == 0;
        note(r, missing ? "missing" : "refused", rel, suffix,
             missing ? NULL : strcmp(why, "not a relative path inside the folder") == 0
                              ? "not a relative path inside OUTDIR" : why);
        return;
    }
    check_fd(r, fd, rel, suffix, size_of(f), str_of(f, "sha256"));
    close(fd);
}

/* An input: a regular file anywhere, or a product folder (whose files are
 * listed as inputs of their own). */
static void check_input(report *r, json_object *f, const char *wd)
{
    const char *p = str_of(f, "path"), *want = str_of(f, "sha256"), *why = NULL;
    char path[PATH_MAX];
    struct stat sb;
    if (!p)
        return;
    r->nfiles++;
    resolve(p, wd, path, sizeof path);
    if (stat(path, &sb) != 0) {
        note(r, "missing", p, NULL, NULL);
        return;
    }
    if (S_ISDIR(sb.st_mode)) {
        if (want)
            note(r, "refused", p, NULL, "a folder, recorded with a hash");
        else
            note(r, "folder", p, NULL, NULL);
        return;
    }
    const int fd = cnp_fs_open_regular(path, &why);
    if (fd < 0) {
        note(r, strcmp(why, "missing") == 0 ? "missing" : "refused", p, NULL, why);
        return;
    }
    check_fd(r, fd, p, NULL, size_of(f), want);
    close(fd);
}

/* ---- the rerun --------------------------------------------------------------- */

/* Run detection again from run.json's inputs and settings into `tmp`. */
static cnp_status rerun(json_object *run, const char *outdir, int threads, const char *tmp,
                        const char *ini_path)
{
    json_object *settings = get(run, "settings", json_type_object);
    json_object *inputs = get(run, "inputs", json_type_array);
    const char *ini = str_of(settings, "ini");
    static char paths[4][PATH_MAX];
    cnp_job job;
    cnp_status st;

    if (!settings || !inputs || !ini)
        return cnp_err(CNP_E_DATA, "%s/run.json: no recorded settings or inputs to rerun from",
                       outdir);
    memset(&job, 0, sizeof job);
    for (size_t i = 0; i < json_object_array_length(inputs); i++) {
        json_object *in = json_object_array_get_idx(inputs, i);
        const char *role = str_of(in, "role"), *path = str_of(in, "path");
        if (!role || !path)
            continue;
        static const char *const roles[4] = { "before", "after", "before_mask", "after_mask" };
        for (int k = 0; k < 4; k++) {
            if (strcmp(role, roles[k]) != 0)
                continue;
            /* Verbatim: the rerun runs in the recorded working directory, so
             * outputs that name their inputs come out byte-identical. */
            snprintf(paths[k], sizeof paths[k], "%s", path);
            const char **slot[4] = { &job.before, &job.after, &job.before_mask, &job.after_mask };
            *slot[k] = paths[k];
        }
    }
    if (!job.before || !job.after)
        return cnp_err(CNP_E_DATA, "%s/run.json: the BEFORE and AFTER inputs are not recorded",
                       outdir);

    FILE *f = fopen(ini_path, "w");
    if (!f)
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", ini_path, strerror(errno));
    fputs(ini, f);
    fclose(f);
    cnp_settings_defaults(&job.settings);
    if ((st = cnp_settings_load(&job.settings, ini_path)) != CNP_OK)
        return st;
    job.settings.threads = threads;
    json_object *ev = get(settings, "evidence", json_type_boolean);
    json_object *mc = get(settings, "max_chips", json_type_int);
    json_object *hi = get(settings, "hash_inputs", json_type_boolean);
    job.no_evidence = ev ? !json_object_get_boolean(ev) : 0;
    job.max_chips = mc ? (size_t)json_object_get_int64(mc) : 0;
    job.no_hash = hi ? !json_object_get_boolean(hi) : 0;
    if ((st = cnp_outputs_skip_from_settings(settings, &job.skip_outputs)) != CNP_OK)
        return cnp_err(st, "%s/run.json: %s", outdir, cnp_err_msg());
    job.outdir = tmp;
    job.config_path = str_of(settings, "config");
    job.quiet = 1;
    json_object *cl = get(run, "command_line", json_type_array);
    char *argv0[64];
    int argc = 0;
    for (size_t i = 0; cl && i < json_object_array_length(cl) && argc < 63; i++)
        argv0[argc++] = (char *)(uintptr_t)json_object_get_string(json_object_array_get_idx(cl, i));
    argv0[argc] = NULL;
    job.argc = argc;
    job.argv = argv0;
    return cnp_detect_run(&job);
}

/* Rerun in a fresh folder under $TMPDIR (never in OUTDIR, which may be
 * read-only evidence), from the recorded working directory; compare. */
static cnp_status check_rerun(const cnp_verify_opts *o, json_object *run, json_object *outputs,
                              report *r)
{
    char here[PATH_MAX], tmp[PATH_MAX], out[PATH_MAX + 16], ini[PATH_MAX + 16];
    const char *wd = str_of(run, "working_directory"), *base = getenv("TMPDIR");
    cnp_status st;

    snprintf(tmp, sizeof tmp, "%s/canopy-rerun-XXXXXX", base && *base ? base : "/tmp");
    if (!getcwd(here, sizeof here))
        return cnp_err(CNP_E_IO, "cannot tell the current folder: %s", strerror(errno));
    if (!mkdtemp(tmp))
        return cnp_err(CNP_E_IO, "cannot make a folder for the rerun under '%s': %s",
                       base && *base ? base : "/tmp", strerror(errno));
    cnp_tmp_guard(tmp);
    snprintf(out, sizeof out, "%s/out", tmp);
    snprintf(ini, sizeof ini, "%s/settings.ini", tmp);
    if (wd && chdir(wd) != 0) {
        st = cnp_err(CNP_E_IO, "cannot rerun in the recorded working directory '%s': %s", wd,
                     strerror(errno));
        goto done;
    }
    st = rerun(run, o->outdir, o->threads, out, ini);
    if (chdir(here) != 0 && st == CNP_OK)
        st = cnp_err(CNP_E_IO, "cannot return to '%s': %s", here, strerror(errno));
    if (st != CNP_OK)
        goto done;
    fprintf(r->f, "rerun (%s threads) against the recorded outputs:\n",
            o->threads ? "given" : "all");
    for (size_t i = 0; i < json_object_array_length(outputs); i++) {
        const int n = r->nfiles;
        check_output(r, out, json_object_array_get_idx(outputs, i), " (rerun)");
        r->nfiles = n;          /* the same files, checked twice */
    }
done:
    cnp_fs_remove_tree(tmp);
    cnp_tmp_unguard(tmp);
    return st;
}

cnp_status cnp_verify(const cnp_verify_opts *o, int *intact)
{
    char path[PATH_MAX];
    json_object *run = NULL;
    cnp_status st = CNP_OK;
    report r = { o->report, 1, 0 };
    const char *why = NULL;

    *intact = 0;
    snprintf(path, sizeof path, "%s/run.json", o->outdir);
    const int fd = cnp_fs_open_inside(o->outdir, "run.json", &why);
    if (fd >= 0) {
        run = json_object_from_fd(fd);
        close(fd);
    }
    if (!run || !json_object_is_type(run, json_type_object)) {
        st = cnp_err(CNP_E_IO, "'%s': cannot read it as run.json (%s)", path,
                     fd < 0 ? why : "not a JSON object");
        goto done;
    }

    json_object *outputs = get(run, "outputs", json_type_array);
    json_object *inputs = get(run, "inputs", json_type_array);
    if (!outputs || !inputs) {
        st = cnp_err(CNP_E_DATA, "'%s' lists no outputs or inputs (not a canopy run.json)", path);
        goto done;
    }
    const char *wd = str_of(run, "working_directory");
    fprintf(r.f, "outputs in %s:\n", o->outdir);
    for (size_t i = 0; i < json_object_array_length(outputs); i++)
        check_output(&r, o->outdir, json_object_array_get_idx(outputs, i), NULL);
    fprintf(r.f, "inputs:\n");
    for (size_t i = 0; i < json_object_array_length(inputs); i++)
        check_input(&r, json_object_array_get_idx(inputs, i), wd);

    if (o->rerun && (st = check_rerun(o, run, outputs, &r)) != CNP_OK)
        goto done;
    fprintf(r.f, "%s: %d files checked%s\n", r.good ? "intact" : "NOT intact", r.nfiles,
            o->rerun ? (r.good ? ", outputs reproduced byte for byte" : "") : "");
    if (o->rerun && !r.good)
        fprintf(r.f, "(a rerun mismatch means the outputs cannot be reproduced from the "
                     "recorded inputs and settings)\n");
    *intact = r.good;

done:
    json_object_put(run);
    return st;
}
