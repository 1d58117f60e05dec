/* pipeline/run/cnp_verify.c - re-hash and reproduce a run's outputs from run.json. */
#include "cnp_verify.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "cnp_config.h"
#include "cnp_detect.h"
#include "cnp_err.h"
#include "cnp_hash.h"
#include "cnp_output.h"

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

/* An input path as recorded: relative paths were relative to the run's
 * working directory. */
static void resolve(const char *path, const char *wd, char *out, size_t size)
{
    if (path[0] == '/' || !wd || strncmp(path, "/vsi", 4) == 0)
        snprintf(out, size, "%s", path);
    else
        snprintf(out, size, "%s/%s", wd, path);
}

/* ok / changed / missing for one file against its recorded hash. */
static int check_file(FILE *rep, const char *label, const char *path, const char *want)
{
    char hex[65];
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(rep, "missing  %s\n", label);
        return 0;
    }
    if (S_ISDIR(st.st_mode)) {      /* a product folder: its files are listed too */
        fprintf(rep, "folder   %s\n", label);
        return 1;
    }
    if (!want) {
        fprintf(rep, "unknown  %s (no hash recorded: the run used --no-hash)\n", label);
        return 1;
    }
    if (cnp_sha256_file(path, hex, NULL) != CNP_OK) {
        fprintf(rep, "missing  %s (%s)\n", label, cnp_err_msg());
        return 0;
    }
    const int same = strcmp(hex, want) == 0;
    fprintf(rep, "%s  %s\n", same ? "ok     " : "changed", label);
    return same;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

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

cnp_status cnp_verify(const cnp_verify_opts *o, int *intact)
{
    char path[PATH_MAX], tmp[PATH_MAX + 64] = "", ini[PATH_MAX + 64] = "";
    json_object *run = NULL;
    cnp_status st = CNP_OK;
    int good = 1, nfiles = 0;

    *intact = 0;
    snprintf(path, sizeof path, "%s/run.json", o->outdir);
    run = json_object_from_file(path);
    if (!run || !json_object_is_type(run, json_type_object)) {
        st = cnp_err(CNP_E_IO, "'%s': cannot read it as run.json (%s)", path,
                     access(path, R_OK) == 0 ? "not a JSON object" : strerror(errno));
        goto done;
    }

    json_object *outputs = get(run, "outputs", json_type_array);
    json_object *inputs = get(run, "inputs", json_type_array);
    if (!outputs || !inputs) {
        st = cnp_err(CNP_E_DATA, "'%s' lists no outputs or inputs (not a canopy run.json)", path);
        goto done;
    }
    const char *wd = str_of(run, "working_directory");
    fprintf(o->report, "outputs in %s:\n", o->outdir);
    for (size_t i = 0; i < json_object_array_length(outputs); i++) {
        json_object *f = json_object_array_get_idx(outputs, i);
        const char *rel = str_of(f, "path"), *want = str_of(f, "sha256");
        if (!rel)
            continue;
        snprintf(path, sizeof path, "%s/%s", o->outdir, rel);
        good &= check_file(o->report, rel, path, want);
        nfiles++;
    }
    fprintf(o->report, "inputs:\n");
    for (size_t i = 0; i < json_object_array_length(inputs); i++) {
        json_object *f = json_object_array_get_idx(inputs, i);
        const char *p = str_of(f, "path"), *want = str_of(f, "sha256");
        if (!p)
            continue;
        resolve(p, wd, path, sizeof path);
        good &= check_file(o->report, p, path, want);
        nfiles++;
    }

    if (o->rerun) {
        char absdir[PATH_MAX], here[PATH_MAX];
        if (!realpath(o->outdir, absdir) || !getcwd(here, sizeof here)) {
            st = cnp_err(CNP_E_IO, "'%s': %s", o->outdir, strerror(errno));
            goto done;
        }
        snprintf(tmp, sizeof tmp, "%s/.canopy-rerun-%ld", absdir, (long)getpid());
        snprintf(ini, sizeof ini, "%s/.canopy-rerun-%ld.ini", absdir, (long)getpid());
        if (wd && chdir(wd) != 0) {
            st = cnp_err(CNP_E_IO, "cannot rerun in the recorded working directory '%s': %s", wd,
                         strerror(errno));
            goto done;
        }
        st = rerun(run, o->outdir, o->threads, tmp, ini);
        if (chdir(here) != 0 && st == CNP_OK)
            st = cnp_err(CNP_E_IO, "cannot return to '%s': %s", here, strerror(errno));
        if (st != CNP_OK)
            goto done;
        fprintf(o->report, "rerun (%s threads) against the recorded outputs:\n",
                o->threads ? "given" : "all");
        for (size_t i = 0; i < json_object_array_length(outputs); i++) {
            json_object *f = json_object_array_get_idx(outputs, i);
            const char *rel = str_of(f, "path"), *want = str_of(f, "sha256");
            if (!rel)
                continue;
            if (snprintf(path, sizeof path, "%s/%s", tmp, rel) >= (int)sizeof path) {
                fprintf(o->report, "missing  %s (rerun) (path too long)\n", rel);
                good = 0;
                continue;
            }
            char label[PATH_MAX + 16];
            snprintf(label, sizeof label, "%s (rerun)", rel);
            good &= check_file(o->report, label, path, want);
        }
    }
    fprintf(o->report, "%s: %d files checked%s\n", good ? "intact" : "NOT intact", nfiles,
            o->rerun ? (good ? ", outputs reproduced byte for byte" : "") : "");
    if (o->rerun && !good)
        fprintf(o->report, "(a rerun mismatch means the outputs cannot be reproduced from the "
                           "recorded inputs and settings)\n");
    *intact = good;

done:
    if (tmp[0])
        nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (ini[0])
        unlink(ini);
    json_object_put(run);
    return st;
}
