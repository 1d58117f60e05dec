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
#include "cnp_ident.h"
#include "cnp_output.h"
#include "cnp_runjson.h"
#include "cnp_sign.h"
#include "cnp_staging.h"
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
    FILE        *f;
    json_object *files;        /* --json: the files' states; NULL: text lines */
    int          good, nfiles;
    int          quiet;        /* text: only what is not intact                */
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

/* A heading of the text report (none in JSON). */
static void heading(report *r, const char *text, const char *arg)
{
    if (r->files || r->quiet)
        return;
    fputs(text, r->f);
    if (arg)
        put_label(r->f, arg);
    fputs(":\n", r->f);
}

/* One file's state: "ok", "folder" and "unknown" keep the run intact. `kind`
 * is output, input, rerun or checksums. */
static void note(report *r, const char *kind, const char *state, const char *label,
                 const char *reason)
{
    const int fine = strcmp(state, "ok") == 0 || strcmp(state, "folder") == 0 ||
                     strcmp(state, "unknown") == 0;
    r->good &= fine;
    if (r->files) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "kind", json_object_new_string(kind));
        json_object_object_add(o, "path", json_object_new_string(label));
        json_object_object_add(o, "state", json_object_new_string(state));
        json_object_object_add(o, "reason", reason ? json_object_new_string(reason) : NULL);
        json_object_array_add(r->files, o);
        return;
    }
    if (fine && r->quiet)
        return;
    fprintf(r->f, "%-8s ", state);
    put_label(r->f, label);
    if (strcmp(kind, "rerun") == 0)
        fputs(" (rerun)", r->f);
    if (reason) {
        fputs(" (", r->f);
        put_label(r->f, reason);
        fputc(')', r->f);
    }
    fputc('\n', r->f);
}

/* Hash an open regular file against its recorded size and hash. */
static void check_fd(report *r, int fd, const char *kind, const char *label, int64_t want_size,
                     const char *want)
{
    struct stat sb;
    char hex[65], why[160];
    int64_t got = 0;
    if (fstat(fd, &sb) == 0 && want_size >= 0 && (int64_t)sb.st_size != want_size) {
        snprintf(why, sizeof why, "size %" PRId64 ", recorded %" PRId64, (int64_t)sb.st_size,
                 want_size);
        note(r, kind, "changed", label, why);
        return;
    }
    if (!want) {
        note(r, kind, "unknown", label, "no hash recorded: the run used --no-hash");
        return;
    }
    if (cnp_sha256_fd(fd, want_size, label, hex, &got) != CNP_OK) {
        note(r, kind, "missing", label, cnp_err_msg());
        return;
    }
    if (want_size >= 0 && got != want_size) {      /* it changed while being read */
        note(r, kind, "changed", label, "its size changed while it was read");
        return;
    }
    note(r, kind, strcmp(hex, want) == 0 ? "ok" : "changed", label, NULL);
}

/* An output: a regular file inside `dir`, reached without a symbolic link. */
static void check_output(report *r, const char *dir, json_object *f, const char *kind)
{
    const char *rel = str_of(f, "path"), *why = NULL;
    if (!rel)
        return;
    r->nfiles++;
    const int fd = cnp_fs_open_inside(dir, rel, &why);
    if (fd < 0) {
        const int missing = strcmp(why, "missing") == 0;
        note(r, kind, missing ? "missing" : "refused", rel,
             missing ? NULL : strcmp(why, "not a relative path inside the folder") == 0
                              ? "not a relative path inside OUTDIR" : why);
        return;
    }
    check_fd(r, fd, kind, rel, size_of(f), str_of(f, "sha256"));
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
        note(r, "input", "missing", p, NULL);
        return;
    }
    if (S_ISDIR(sb.st_mode)) {
        if (want)
            note(r, "input", "refused", p, "a folder, recorded with a hash");
        else
            note(r, "input", "folder", p, NULL);
        return;
    }
    const int fd = cnp_fs_open_regular(path, &why);
    if (fd < 0) {
        note(r, "input", strcmp(why, "missing") == 0 ? "missing" : "refused", p, why);
        return;
    }
    check_fd(r, fd, "input", p, size_of(f), want);
    close(fd);
}

/* ---- the rerun --------------------------------------------------------------- */

/* The context layers (zones, masks, area of interest) and their rules, as
 * run.json's "context" recorded them (paths verbatim, as the inputs'). */
static void rerun_context(json_object *run, cnp_job *job)
{
    static const char *zones[16];
    json_object *ctx = get(run, "context", json_type_object);
    json_object *z = get(ctx, "zones", json_type_object);
    json_object *f = get(ctx, "forest_mask", json_type_object);
    json_object *x = get(ctx, "exclude", json_type_object);
    json_object *layers = get(z, "layers", json_type_array);
    size_t nz = 0;
    for (size_t i = 0; layers && i < json_object_array_length(layers) && nz < 16; i++)
        zones[nz++] = json_object_get_string(json_object_array_get_idx(layers, i));
    job->zones = zones;
    job->nzones = nz;
    job->zone_field = str_of(z, "field");
    job->aoi = str_of(get(ctx, "aoi", json_type_object), "path");
    job->ctx.forest = str_of(f, "path");
    job->ctx.exclude = str_of(x, "path");
    json_object *min = get(f, "min", json_type_double), *mini = get(f, "min", json_type_int);
    job->ctx.forest_min = min ? json_object_get_double(min) : mini ? json_object_get_double(mini) : 30;
    json_object *fc = get(f, "classes", json_type_array), *xc = get(x, "classes", json_type_array);
    for (size_t i = 0; fc && i < json_object_array_length(fc) && i < CNP_CTX_MAX_CLASSES; i++)
        job->ctx.forest_classes[job->ctx.nforest_classes++] =
            json_object_get_int(json_object_array_get_idx(fc, i));
    for (size_t i = 0; xc && i < json_object_array_length(xc) && i < CNP_CTX_MAX_CLASSES; i++)
        job->ctx.exclude_classes[job->ctx.nexclude_classes++] =
            json_object_get_int(json_object_array_get_idx(xc, i));
    json_object *ly = get(x, "loss_years_through", json_type_int);
    job->ctx.exclude_last_year = ly ? json_object_get_int(ly) - 2000 : 0;
}

/* The --baseline scenes and their masks, recorded as inputs "baselineN" and
 * "baselineN_mask" (N from 1, in the order given): they change the outputs. */
static cnp_status rerun_baselines(json_object *inputs, const char *outdir, cnp_job *job)
{
    static char paths[2][CNP_JOB_MAX_BASELINES][PATH_MAX];
    int n[2] = { 0, 0 };
    for (size_t i = 0; i < json_object_array_length(inputs); i++) {
        json_object *in = json_object_array_get_idx(inputs, i);
        const char *role = str_of(in, "role"), *path = str_of(in, "path");
        int k = 0, end = 0, mask = 0;
        if (!role || !path || sscanf(role, "baseline%d%n", &k, &end) != 1)
            continue;
        if (strcmp(role + end, "_mask") == 0)
            mask = 1;
        else if (role[end] != '\0')
            continue;                       /* a product's own files: found again */
        if (k < 1 || k > CNP_JOB_MAX_BASELINES || k != n[mask] + 1)
            return cnp_err(CNP_E_DATA, "%s/run.json: input '%s' out of order", outdir, role);
        snprintf(paths[mask][k - 1], sizeof paths[mask][k - 1], "%s", path);
        (mask ? job->baseline_mask : job->baseline)[k - 1] = paths[mask][k - 1];
        n[mask] = k;
    }
    job->nbaseline = n[0];
    job->nbaseline_mask = n[1];
    return CNP_OK;
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
    if (job.nbaseline_mask && job.nbaseline_mask != job.nbaseline)
        return cnp_err(CNP_E_DATA, "%s/run.json: the baselines and their masks do not match",
                       outdir);
    if (!job.before || !job.after)
        return cnp_err(CNP_E_DATA, "%s/run.json: the BEFORE and AFTER inputs are not recorded",
                       outdir);
    rerun_context(run, &job);
    if ((st = rerun_baselines(inputs, outdir, &job)) != CNP_OK)
        return st;

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
    /* A run.json without the key is older than the default cap: it made a
     * chip for every alert. */
    job.max_chips = mc ? (size_t)json_object_get_int64(mc) : 0;
    job.no_hash = hi ? !json_object_get_boolean(hi) : 0;
    if ((st = cnp_outputs_skip_from_settings(settings, &job.skip_outputs)) != CNP_OK)
        return cnp_err(st, "%s/run.json: %s", outdir, cnp_err_msg());
    /* The case and operator are in every report: without them the rerun's
     * reports would differ from the recorded ones. */
    json_object *cs = get(run, "case", json_type_object);
    job.case_id = str_of(cs, "id");
    job.operator_name = str_of(cs, "operator");
    if ((job.case_id && cnp_ident_text_check("case id", job.case_id, 128) != CNP_OK) ||
        (job.operator_name && cnp_ident_text_check("operator", job.operator_name, 200) != CNP_OK))
        return cnp_err(CNP_E_DATA, "%s/run.json: %s", outdir, cnp_err_msg());
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
    heading(r, o->threads ? "rerun (given threads) against the recorded outputs"
                          : "rerun (all threads) against the recorded outputs", NULL);
    for (size_t i = 0; i < json_object_array_length(outputs); i++) {
        const int n = r->nfiles;
        check_output(r, out, json_object_array_get_idx(outputs, i), "rerun");
        r->nfiles = n;          /* the same files, checked twice */
    }
done:
    cnp_fs_remove_tree(tmp);
    cnp_tmp_unguard(tmp);
    return st;
}

/* ---- SHA256SUMS and its signature -------------------------------------------- */

/* The bytes of dir/name (a regular file inside dir, at most `max` bytes). */
static int read_inside(const char *dir, const char *name, size_t max, char **buf, size_t *len,
                       const char **why)
{
    const int fd = cnp_fs_open_inside(dir, name, why);
    struct stat sb;
    *buf = NULL;
    *len = 0;
    if (fd < 0)
        return -1;
    if (fstat(fd, &sb) != 0 || (uint64_t)sb.st_size > max || !(*buf = malloc((size_t)sb.st_size + 1))) {
        *why = "too large";
        close(fd);
        return -1;
    }
    size_t n = 0;
    for (ssize_t k; n < (size_t)sb.st_size && (k = read(fd, *buf + n, (size_t)sb.st_size - n)) > 0;)
        n += (size_t)k;
    close(fd);
    (*buf)[n] = '\0';
    *len = n;
    return 0;
}

/* SHA256SUMS must be what run.json (as read, whose hash it holds) gives. */
static void check_sums(report *r, const char *outdir, json_object *run, const char *run_hex,
                       char **sums, size_t *sums_len)
{
    char *want = NULL;
    size_t want_len = 0;
    const char *why = NULL;
    if (!get(run, "checksums", json_type_object))
        return;                /* a run.json from before SHA256SUMS */
    r->nfiles++;
    if (read_inside(outdir, CNP_SUMS_FILE, (size_t)64 << 20, sums, sums_len, &why) != 0) {
        note(r, "checksums", strcmp(why, "missing") == 0 ? "missing" : "refused", CNP_SUMS_FILE,
             strcmp(why, "missing") == 0 ? NULL : why);
        return;
    }
    if (cnp_runjson_sums(run, run_hex, &want, &want_len) != CNP_OK) {
        note(r, "checksums", "missing", CNP_SUMS_FILE, cnp_err_msg());
        return;
    }
    const int same = want_len == *sums_len && memcmp(want, *sums, want_len) == 0;
    note(r, "checksums", same ? "ok" : "changed", CNP_SUMS_FILE,
         same ? NULL : "not the checksums of run.json's files and of run.json");
    free(want);
}

typedef struct sig_result {
    const char *state;         /* none, valid, invalid, another-key, missing, unchecked */
    const char *key;           /* given, recorded, NULL */
    char        fingerprint[65];
    char        text[400];
} sig_result;

/* The signature of SHA256SUMS, against the given key or the recorded one. */
static void check_signature(const char *outdir, json_object *run, const cnp_sign_key *given,
                            const char *sums, size_t sums_len, sig_result *sr)
{
    json_object *c = get(run, "checksums", json_type_object);
    const char *pem = str_of(c, "public_key"), *why = NULL;
    cnp_sign_key *recorded = NULL;
    char *sig = NULL, *p = NULL, fpr_given[65] = "";
    size_t siglen = 0;

    memset(sr, 0, sizeof *sr);
    if (!str_of(c, "signature")) {
        sr->state = "none";
        snprintf(sr->text, sizeof sr->text, "the run was not signed%s",
                 given ? ", but --pubkey asks for a signature" : "");
        return;
    }
    if (read_inside(outdir, CNP_SUMS_SIG, 4096, &sig, &siglen, &why) != 0) {
        sr->state = "missing";
        snprintf(sr->text, sizeof sr->text, "run.json says the run was signed; %s: %s",
                 CNP_SUMS_SIG, why);
        return;
    }
    if (pem)
        cnp_sign_pub_from_pem(pem, &recorded);
    if (recorded && cnp_sign_key_public(recorded, &p, sr->fingerprint) == CNP_OK)
        free(p);
    if (given && cnp_sign_key_public(given, &p, fpr_given) == CNP_OK)
        free(p);
    const cnp_sign_key *key = given ? given : recorded;
    if (!sums) {
        sr->state = "unchecked";
        snprintf(sr->text, sizeof sr->text, "no %s to check it against", CNP_SUMS_FILE);
    } else if (!key) {
        sr->state = "unchecked";
        snprintf(sr->text, sizeof sr->text, "run.json records no usable public key: give --pubkey");
    } else if (cnp_sign_check(key, sums, sums_len, sig, siglen)) {
        sr->state = "valid";
        sr->key = given ? "given" : "recorded";
        if (given)
            memcpy(sr->fingerprint, fpr_given, sizeof fpr_given);
        snprintf(sr->text, sizeof sr->text, "Ed25519 over %s, key sha256 %.16s: %s",
                 CNP_SUMS_FILE, sr->fingerprint, given ? "the key given with --pubkey"
                 : "the key recorded in run.json; give --pubkey FILE to check that it is "
                   "the key you trust");
    } else if (given && recorded && cnp_sign_check(recorded, sums, sums_len, sig, siglen)) {
        sr->state = "another-key";
        snprintf(sr->text, sizeof sr->text, "signed by another key (sha256 %.16s) than "
                 "--pubkey (sha256 %.16s)", sr->fingerprint, fpr_given);
    } else {
        sr->state = "invalid";
        snprintf(sr->text, sizeof sr->text, "%s is not a signature of %s by %s", CNP_SUMS_SIG,
                 CNP_SUMS_FILE, given ? "the key given with --pubkey" : "the recorded key");
    }
    cnp_sign_key_free(&recorded);
    free(sig);
}

static void report_signature(report *r, const sig_result *sr, int pubkey_given, json_object *root)
{
    const int fine = strcmp(sr->state, "valid") == 0 ||
                     (strcmp(sr->state, "none") == 0 && !pubkey_given);
    r->good &= fine;
    if (root) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "state", json_object_new_string(sr->state));
        json_object_object_add(o, "file", strcmp(sr->state, "none") == 0 ? NULL
                                          : json_object_new_string(CNP_SUMS_SIG));
        json_object_object_add(o, "algorithm", strcmp(sr->state, "none") == 0 ? NULL
                                               : json_object_new_string("Ed25519"));
        json_object_object_add(o, "key", sr->key ? json_object_new_string(sr->key) : NULL);
        json_object_object_add(o, "public_key_sha256", sr->fingerprint[0]
                               ? json_object_new_string(sr->fingerprint) : NULL);
        json_object_object_add(o, "reason", json_object_new_string(sr->text));
        json_object_object_add(root, "signature", o);
        return;
    }
    if (fine && r->quiet)
        return;
    fprintf(r->f, "signature %s (%s)\n", strcmp(sr->state, "invalid") == 0 ? "INVALID"
            : strcmp(sr->state, "another-key") == 0 ? "by another key" : sr->state, sr->text);
}

/* ---- the command -------------------------------------------------------------------- */

cnp_status cnp_verify(const cnp_verify_opts *o, int *intact)
{
    char path[PATH_MAX], run_hex[65];
    char *text = NULL, *sums = NULL;
    size_t len = 0, sums_len = 0;
    json_object *run = NULL, *root = NULL;
    cnp_sign_key *given = NULL;
    cnp_status st = CNP_OK;
    report r = { o->report, NULL, 1, 0, o->quiet };
    const char *why = NULL;
    sig_result sr;

    *intact = 0;
    if (o->pubkey && (st = cnp_sign_pub_load(o->pubkey, &given)) != CNP_OK)
        return st;
    /* A commit killed half-way (cnp_staging.h): neither run is whole yet. */
    snprintf(path, sizeof path, "%s/%s", o->outdir, CNP_STAGING_JOURNAL);
    struct stat sb;
    const int interrupted = lstat(path, &sb) == 0;
    static const char why_interrupted[] = "OUTDIR holds an interrupted commit: the next canopy "
                                          "detect -o OUTDIR finishes or undoes it";
    snprintf(path, sizeof path, "%s/run.json", o->outdir);
    if (read_inside(o->outdir, "run.json", (size_t)256 << 20, &text, &len, &why) == 0)
        run = json_tokener_parse(text);
    if (!run || !json_object_is_type(run, json_type_object)) {
        st = cnp_err(CNP_E_IO, "'%s': cannot read it as run.json (%s)", path,
                     interrupted ? why_interrupted : text ? "not a JSON object" : why);
        goto done;
    }
    cnp_sha256_hex(text, len, run_hex);

    json_object *outputs = get(run, "outputs", json_type_array);
    json_object *inputs = get(run, "inputs", json_type_array);
    if (!outputs || !inputs) {
        st = cnp_err(CNP_E_DATA, "'%s' lists no outputs or inputs (not a canopy run.json)", path);
        goto done;
    }
    if (o->json) {
        root = json_object_new_object();
        r.files = json_object_new_array();
        json_object_object_add(root, "outdir", json_object_new_string(o->outdir));
        json_object_object_add(root, "files", r.files);
    }
    const char *wd = str_of(run, "working_directory");
    if (interrupted)
        note(&r, "commit", "interrupted", CNP_STAGING_JOURNAL, why_interrupted);
    heading(&r, "outputs in ", o->outdir);
    for (size_t i = 0; i < json_object_array_length(outputs); i++)
        check_output(&r, o->outdir, json_object_array_get_idx(outputs, i), "output");
    heading(&r, "inputs", NULL);
    for (size_t i = 0; i < json_object_array_length(inputs); i++)
        check_input(&r, json_object_array_get_idx(inputs, i), wd);
    heading(&r, "checksums and signature", NULL);
    check_sums(&r, o->outdir, run, run_hex, &sums, &sums_len);
    check_signature(o->outdir, run, given, sums, sums_len, &sr);
    report_signature(&r, &sr, given != NULL, root);

    if (o->rerun && (st = check_rerun(o, run, outputs, &r)) != CNP_OK)
        goto done;
    *intact = r.good;
    if (root) {
        json_object *rr = NULL;
        if (o->rerun) {
            rr = json_object_new_object();
            json_object_object_add(rr, "threads", json_object_new_int(o->threads));
            json_object_object_add(rr, "reproduced", json_object_new_boolean(r.good));
        }
        json_object_object_add(root, "rerun", rr);
        json_object_object_add(root, "files_checked", json_object_new_int(r.nfiles));
        json_object_object_add(root, "verdict", json_object_new_string(r.good ? "intact"
                                                                             : "not intact"));
        json_object_object_add(root, "intact", json_object_new_boolean(r.good));
        fprintf(r.f, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
        goto done;
    }
    if (r.good && o->quiet)
        goto done;
    fprintf(r.f, "%s: %d files checked%s\n", r.good ? "intact" : "NOT intact", r.nfiles,
            o->rerun ? (r.good ? ", outputs reproduced byte for byte" : "") : "");
    if (o->rerun && !r.good)
        fprintf(r.f, "(a rerun mismatch means the outputs cannot be reproduced from the "
                     "recorded inputs and settings)\n");

done:
    json_object_put(root);
    json_object_put(run);
    cnp_sign_key_free(&given);
    free(text);
    free(sums);
    return st;
}
