/* pipeline/batch/cnp_batch_planfile.c - `canopy batch`: the plan as a file
 * (docs/batch.md), whether a pair's outputs are complete, and the plan in
 * words (--list).
 *
 * A plan read back is checked as discovery checks what it finds: footprint
 * names and scene ids pass the one validator (base/cnp_ident), a pair's
 * folder is its scenes' ids and nothing else.
 */
#include "cnp_batch.h"
#include "cnp_batch_int.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "cnp_err.h"
#include "cnp_hash.h"
#include "cnp_ident.h"
#include "cnp_tmpfile.h"
#include "cnp_json.h"
#include "cnp_output.h"
#include "cnp_version.h"

static char *dupstr(const char *s) { return s ? strdup(s) : NULL; }


void cnp_batch_json_not_used(cnp_json *j, const char *key, const cnp_batch_plan *p)
{
    cnp_json_array(j, key);
    for (size_t i = 0; i < p->nitem; i++) {
        cnp_json_object(j, NULL);
        cnp_json_str(j, "path", p->item[i].path);
        cnp_json_str(j, "status", p->item[i].status);
        cnp_json_str(j, "reason", p->item[i].reason);
        cnp_json_close(j, '}');
    }
    cnp_json_close(j, ']');
}

/* ---- completeness ------------------------------------------------------------ */

/* The settings as INI without the thread count (which changes no output). */
static char *ini_without_threads(const char *ini)
{
    char *out = malloc(strlen(ini) + 1);
    size_t n = 0;
    if (!out)
        return NULL;
    for (const char *l = ini; *l;) {
        const char *e = strchr(l, '\n');
        const size_t len = e ? (size_t)(e - l + 1) : strlen(l);
        if (strncmp(l, "threads", 7) != 0) {
            memcpy(out + n, l, len);
            n += len;
        }
        l += len;
    }
    out[n] = '\0';
    return out;
}

static char *settings_ini(const cnp_settings *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    cnp_settings_write_ini(s, m);
    fclose(m);
    char *out = ini_without_threads(buf);
    free(buf);
    return out;
}

static json_object *jget(json_object *o, const char *key, json_type t)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t))
        return NULL;
    return v;
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v = jget(o, key, json_type_string);
    return v ? json_object_get_string(v) : NULL;
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int cnp_batch_pair_complete(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                            const cnp_batch_pair *pr, char *why, size_t wsize)
{
    char dir[8192], path[8400];
    struct stat st;
    int ok = 0;
    json_object *run = NULL;
    char *want_ini = NULL, *have_ini = NULL;

    snprintf(dir, sizeof dir, "%s/%s/%s", p->outroot, fp->name, pr->dir);
    snprintf(path, sizeof path, "%s/run.json", dir);
    if (stat(dir, &st) != 0) {
        snprintf(why, wsize, "not run yet");
        return 0;
    }
    if (stat(path, &st) != 0) {
        snprintf(why, wsize, "interrupted before it finished (no run.json)");
        return 0;
    }
    run = json_object_from_file(path);
    json_object *outputs = jget(run, "outputs", json_type_array);
    json_object *inputs = jget(run, "inputs", json_type_array);
    json_object *settings = jget(run, "settings", json_type_object);
    if (!outputs || !inputs || !settings || !jstr(settings, "ini")) {
        snprintf(why, wsize, "run.json is unreadable");
        goto done;
    }

    /* The same inputs ... */
    const cnp_batch_scene *b = &fp->scene[pr->before], *a = &fp->scene[pr->after];
    const char *want[4] = { b->path, a->path, b->mask, a->mask }, *have[4] = { 0 };
    static const char *const roles[4] = { "before", "after", "before_mask", "after_mask" };
    for (size_t i = 0; i < json_object_array_length(inputs); i++) {
        json_object *in = json_object_array_get_idx(inputs, i);
        const char *role = jstr(in, "role");
        for (int k = 0; k < 4; k++)
            if (role && strcmp(role, roles[k]) == 0)
                have[k] = jstr(in, "path");
    }
    for (int k = 0; k < 4; k++)
        if (!same(want[k], have[k])) {
            snprintf(why, wsize, "made from other inputs (%s)", roles[k]);
            goto done;
        }

    /* ... the same settings ... */
    cnp_settings s;
    cnp_batch_pair_settings(p, fp, pr, &s);
    want_ini = settings_ini(&s);
    have_ini = ini_without_threads(jstr(settings, "ini"));
    json_object *ev = jget(settings, "evidence", json_type_boolean);
    json_object *mc = jget(settings, "max_chips", json_type_int);
    json_object *hi = jget(settings, "hash_inputs", json_type_boolean);
    unsigned skip;
    if (cnp_outputs_skip_from_settings(settings, &skip) != CNP_OK)
        skip = ~0u;                            /* unreadable: not the same outputs */
    if (!want_ini || !have_ini || strcmp(want_ini, have_ini) != 0 || !ev ||
        skip != p->skip_outputs ||
        json_object_get_boolean(ev) != !p->no_evidence || !mc ||
        (size_t)json_object_get_int64(mc) != p->max_chips || !hi ||
        json_object_get_boolean(hi) != !p->no_hash || !same(jstr(settings, "config"),
                                                             p->config_path)) {
        snprintf(why, wsize, "made with other settings");
        goto done;
    }

    /* ... and every output as recorded (what `canopy verify` checks). */
    for (size_t i = 0; i < json_object_array_length(outputs); i++) {
        json_object *o = json_object_array_get_idx(outputs, i);
        const char *rel = jstr(o, "path"), *sum = jstr(o, "sha256");
        char hex[65];
        if (!rel || !sum)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        if (cnp_sha256_file(path, hex, NULL) != CNP_OK) {
            snprintf(why, wsize, "%s is missing", rel);
            goto done;
        }
        if (strcmp(hex, sum) != 0) {
            snprintf(why, wsize, "%s has changed since the run", rel);
            goto done;
        }
    }
    ok = 1;
done:
    free(want_ini);
    free(have_ini);
    json_object_put(run);
    return ok;
}

/* ---- the plan file ---------------------------------------------------------- */

/* 1 when both files exist and hold the same bytes. */
static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        const int ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
        if (ca == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* One footprint of the plan file: its scenes and pairs. */
static void write_footprint(cnp_json *j, const cnp_batch_fp *fp)
{
    cnp_json_object(j, NULL);
    cnp_json_str(j, "name", fp->name);
    cnp_json_str(j, "label", fp->label);
    cnp_json_int(j, "shard", fp->shard);
    cnp_json_int(j, "pixels", fp->work);
    cnp_json_array(j, "scenes");
    for (size_t k = 0; k < fp->nscene; k++) {
        const cnp_batch_scene *s = &fp->scene[k];
        cnp_json_object(j, NULL);
        cnp_json_str(j, "id", s->id);
        cnp_json_str(j, "date", s->date);
        cnp_json_str(j, "date_source", s->date_source);
        cnp_json_str(j, "kind", s->kind);
        cnp_json_str(j, "path", s->path);
        cnp_json_str(j, "mask", s->mask);
        cnp_json_int(j, "pixels", s->pixels);
        cnp_json_str(j, "unreadable", s->note);
        cnp_json_close(j, '}');
    }
    cnp_json_close(j, ']');
    cnp_json_array(j, "pairs");
    for (size_t k = 0; k < fp->npair; k++) {
        const cnp_batch_pair *pr = &fp->pair[k];
        cnp_json_object(j, NULL);
        cnp_json_str(j, "dir", pr->dir);
        cnp_json_int(j, "before", pr->before);
        cnp_json_int(j, "after", pr->after);
        cnp_json_int(j, "gap_days", pr->gap_days);
        cnp_json_str(j, "action", pr->action == CNP_PAIR_RUN ? "run" : "skip");
        cnp_json_str(j, "reason", pr->reason[0] ? pr->reason : NULL);
        cnp_json_close(j, '}');
    }
    cnp_json_close(j, ']');
    cnp_json_close(j, '}');
}

cnp_status cnp_batch_plan_write(const cnp_batch_plan *p, const char *path)
{
    char tmp[4400];
    cnp_tmp_remove_dead(path);
    cnp_tmp_path(path, tmp, sizeof tmp);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return cnp_err(CNP_E_IO, "cannot write the plan '%s': %s", tmp, strerror(errno));
    cnp_json j;
    cnp_json_begin(&j, f);
    cnp_json_str(&j, "program", "canopy");
    cnp_json_str(&j, "kind", "batch-plan");
    cnp_json_int(&j, "format", 1);
    cnp_json_str(&j, "version", cnp_version);
    cnp_json_str(&j, "outroot", p->outroot);
    cnp_json_array(&j, "inputs");
    for (size_t i = 0; i < p->ninput; i++)
        cnp_json_str(&j, NULL, p->input[i]);
    cnp_json_close(&j, ']');

    cnp_json_object(&j, "settings");
    cnp_json_str(&j, "config", p->config_path);
    char *ini = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&ini, &len);
    if (m) {
        cnp_settings_write_ini(&p->settings, m);
        fclose(m);
    }
    cnp_json_str(&j, "ini", ini);
    free(ini);
    cnp_json_bool(&j, "evidence", !p->no_evidence);
    cnp_outputs_write_json(&j, p->skip_outputs);
    cnp_json_int(&j, "max_chips", (int64_t)p->max_chips);
    cnp_json_bool(&j, "hash_inputs", !p->no_hash);
    cnp_json_close(&j, '}');

    cnp_json_object(&j, "pairing");
    cnp_json_str(&j, "mode", p->pairs_mode == CNP_PAIRS_BASELINE ? "baseline" : "consecutive");
    cnp_json_str(&j, "baseline_date", p->baseline_date[0] ? p->baseline_date : NULL);
    cnp_json_int(&j, "max_gap_days", p->max_gap_days);
    cnp_json_num(&j, "min_observed", p->min_observed);
    cnp_json_close(&j, '}');

    cnp_json_int(&j, "shard_count", p->nshards);
    cnp_json_array(&j, "shards");
    for (int s = 0; s < p->nshards; s++) {
        int64_t work = 0;
        int npairs = 0;
        cnp_json_object(&j, NULL);
        cnp_json_int(&j, "shard", s);
        cnp_json_array(&j, "footprints");
        for (size_t i = 0; i < p->nfp; i++) {
            if (p->fp[i].shard != s)
                continue;
            cnp_json_str(&j, NULL, p->fp[i].name);
            work += p->fp[i].work;
            for (size_t k = 0; k < p->fp[i].npair; k++)
                npairs += p->fp[i].pair[k].action == CNP_PAIR_RUN;
        }
        cnp_json_close(&j, ']');
        cnp_json_int(&j, "pairs", npairs);
        cnp_json_int(&j, "pixels", work);
        cnp_json_close(&j, '}');
    }
    cnp_json_close(&j, ']');

    cnp_json_array(&j, "footprints");
    for (size_t i = 0; i < p->nfp; i++)
        write_footprint(&j, &p->fp[i]);
    cnp_json_close(&j, ']');

    cnp_batch_json_not_used(&j, "not_used", p);
    cnp_json_end(&j);
    const int bad = fclose(f) != 0;
    if (!bad && same_file(tmp, path)) {
        unlink(tmp);            /* the same plan: leave the file (and its time) alone */
        return CNP_OK;
    }
    if (bad || rename(tmp, path) != 0) {
        const int e = errno;
        unlink(tmp);
        return cnp_err(CNP_E_IO, "cannot write the plan '%s': %s", path, strerror(e));
    }
    return CNP_OK;
}

static void copy_field(char *dst, size_t size, json_object *o, const char *key)
{
    const char *s = jstr(o, key);
    snprintf(dst, size, "%s", s ? s : "");
}

static int64_t jint(json_object *o, const char *key)
{
    json_object *v = jget(o, key, json_type_int);
    return v ? json_object_get_int64(v) : 0;
}

/* Footprint i of a plan file (o) into p->fp[i]: 0; 1 when it is malformed
 * (why in `bad`); -1 out of memory (status set). */
static int read_footprint(cnp_batch_plan *p, size_t i, json_object *o, char *bad, size_t bsize)
{
    cnp_batch_fp *fp = &p->fp[i];
    p->nfp = i + 1;     /* counted at once: a refused plan frees it too */
    copy_field(fp->name, sizeof fp->name, o, "name");
    copy_field(fp->label, sizeof fp->label, o, "label");
    fp->shard = (int)jint(o, "shard");
    fp->work = jint(o, "pixels");
    json_object *sc = jget(o, "scenes", json_type_array);
    json_object *pr = jget(o, "pairs", json_type_array);
    fp->nscene = sc ? json_object_array_length(sc) : 0;
    fp->npair = pr ? json_object_array_length(pr) : 0;
    fp->scene = calloc(fp->nscene + 1, sizeof *fp->scene);
    fp->pair = calloc(fp->npair + 1, sizeof *fp->pair);
    if (!fp->scene || !fp->pair) {
        fp->nscene = fp->npair = 0;
        cnp_err(CNP_E_NOMEM, "out of memory");
        return -1;
    }
    if (!fp->name[0] || fp->shard < 0 || fp->shard >= p->nshards) {
        snprintf(bad, bsize, "footprint %zu: no name or shard out of range", i);
        return 1;
    }
    /* Names become folders under OUTROOT: checked as when they were made. */
    char where[64];
    snprintf(where, sizeof where, "footprint %zu", i);
    if (cnp_ident_check(CNP_IDENT_ID, fp->name, "name", where) != CNP_OK) {
        snprintf(bad, bsize, "%s", cnp_err_msg());
        return 1;
    }
    for (size_t k = 0; k < fp->nscene; k++) {
        json_object *x = json_object_array_get_idx(sc, k);
        cnp_batch_scene *c = &fp->scene[k];
        copy_field(c->id, sizeof c->id, x, "id");
        copy_field(c->date, sizeof c->date, x, "date");
        copy_field(c->date_source, sizeof c->date_source, x, "date_source");
        copy_field(c->kind, sizeof c->kind, x, "kind");
        c->path = dupstr(jstr(x, "path"));
        c->mask = dupstr(jstr(x, "mask"));
        c->note = dupstr(jstr(x, "unreadable"));
        c->pixels = jint(x, "pixels");
        if (!c->path || !c->id[0]) {
            snprintf(bad, bsize, "footprint %s: a scene without path or id", fp->name);
            return 1;
        }
        if (cnp_ident_check(CNP_IDENT_ID, c->id, "scene id", fp->name) != CNP_OK) {
            snprintf(bad, bsize, "%s", cnp_err_msg());
            return 1;
        }
    }
    for (size_t k = 0; k < fp->npair; k++) {
        json_object *x = json_object_array_get_idx(pr, k);
        cnp_batch_pair *c = &fp->pair[k];
        copy_field(c->dir, sizeof c->dir, x, "dir");
        copy_field(c->reason, sizeof c->reason, x, "reason");
        c->before = (int)jint(x, "before");
        c->after = (int)jint(x, "after");
        c->gap_days = (int)jint(x, "gap_days");
        c->action = same(jstr(x, "action"), "run") ? CNP_PAIR_RUN : CNP_PAIR_SKIP;
        char dir[sizeof c->dir];
        if (c->before >= 0 && c->after >= 0 && (size_t)c->before < fp->nscene &&
            (size_t)c->after < fp->nscene)
            snprintf(dir, sizeof dir, "%s__%s", fp->scene[c->before].id,
                     fp->scene[c->after].id);
        else
            dir[0] = '\0';
        /* A pair's folder is its scenes' ids, nothing else. */
        if (!dir[0] || strcmp(c->dir, dir) != 0) {
            snprintf(bad, bsize, "footprint %s: pair %zu is malformed", fp->name, k);
            return 1;
        }
    }
    return 0;
}

cnp_status cnp_batch_plan_read(cnp_batch_plan *p, const char *path)
{
    char bad[256] = "";
    cnp_status st = CNP_OK;
    json_object *root = json_object_from_file(path);
    char tmp_ini[] = "/tmp/canopy-plan-XXXXXX";
    int fd = -1;

    cnp_batch_plan_init(p);
    if (!root || !json_object_is_type(root, json_type_object)) {
        st = cnp_err(CNP_E_CONFIG, "plan '%s': %s", path,
                     access(path, R_OK) == 0 ? "not a JSON object" : strerror(errno));
        goto done;
    }
    if (!same(jstr(root, "kind"), "batch-plan") || jint(root, "format") != 1) {
        st = cnp_err(CNP_E_CONFIG, "plan '%s': not a canopy batch plan (format 1)", path);
        goto done;
    }
    copy_field(p->outroot, sizeof p->outroot, root, "outroot");
    json_object *in = jget(root, "inputs", json_type_array);
    const size_t nin = in ? json_object_array_length(in) : 0;
    p->input = calloc(nin + 1, sizeof *p->input);
    for (size_t i = 0; p->input && i < nin; i++)
        p->input[p->ninput++] = dupstr(json_object_get_string(json_object_array_get_idx(in, i)));

    json_object *s = jget(root, "settings", json_type_object);
    const char *ini = jstr(s, "ini");
    if (!s || !ini || !p->outroot[0]) {
        snprintf(bad, sizeof bad, "no settings or outroot");
        goto bad;
    }
    fd = mkstemp(tmp_ini);
    if (fd < 0 || write(fd, ini, strlen(ini)) != (ssize_t)strlen(ini)) {
        st = cnp_err(CNP_E_IO, "cannot write a temporary file: %s", strerror(errno));
        goto done;
    }
    if ((st = cnp_settings_load(&p->settings, tmp_ini)) != CNP_OK)
        goto done;
    p->config_path = dupstr(jstr(s, "config"));
    json_object *ev = jget(s, "evidence", json_type_boolean);
    json_object *hi = jget(s, "hash_inputs", json_type_boolean);
    p->no_evidence = ev ? !json_object_get_boolean(ev) : 0;
    p->no_hash = hi ? !json_object_get_boolean(hi) : 0;
    p->max_chips = (size_t)jint(s, "max_chips");
    if (cnp_outputs_skip_from_settings(s, &p->skip_outputs) != CNP_OK) {
        snprintf(bad, sizeof bad, "%s", cnp_err_msg());
        goto bad;
    }

    json_object *pa = jget(root, "pairing", json_type_object);
    p->pairs_mode = same(jstr(pa, "mode"), "baseline") ? CNP_PAIRS_BASELINE
                                                        : CNP_PAIRS_CONSECUTIVE;
    copy_field(p->baseline_date, sizeof p->baseline_date, pa, "baseline_date");
    p->max_gap_days = (int)jint(pa, "max_gap_days");
    json_object *mo = NULL;
    if (pa && json_object_object_get_ex(pa, "min_observed", &mo))
        p->min_observed = json_object_get_double(mo);
    p->nshards = (int)jint(root, "shard_count");
    if (p->nshards < 1) {
        snprintf(bad, sizeof bad, "shard_count < 1");
        goto bad;
    }

    json_object *fps = jget(root, "footprints", json_type_array);
    const size_t nfp = fps ? json_object_array_length(fps) : 0;
    p->fp = calloc(nfp + 1, sizeof *p->fp);
    if (!p->fp) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nfp; i++) {
        const int r = read_footprint(p, i, json_object_array_get_idx(fps, i), bad, sizeof bad);
        if (r < 0) {
            st = CNP_E_NOMEM;
            goto done;
        }
        if (r > 0)
            goto bad;
    }
    json_object *nu = jget(root, "not_used", json_type_array);
    const size_t nitem = nu ? json_object_array_length(nu) : 0;
    p->item = calloc(nitem + 1, sizeof *p->item);
    for (size_t i = 0; p->item && i < nitem; i++, p->nitem++) {
        json_object *x = json_object_array_get_idx(nu, i);
        p->item[i].path = dupstr(jstr(x, "path"));
        p->item[i].reason = dupstr(jstr(x, "reason"));
        copy_field(p->item[i].status, sizeof p->item[i].status, x, "status");
    }

    /* The plan's id: its bytes, so shard summaries of another plan are refused. */
    char hex[65];
    if (cnp_sha256_file(path, hex, NULL) == CNP_OK)
        snprintf(p->plan_id, sizeof p->plan_id, "%.16s", hex);
    goto done;
bad:
    st = cnp_err(CNP_E_CONFIG, "plan '%s': %s", path, bad);
done:
    if (fd >= 0) {
        close(fd);
        unlink(tmp_ini);
    }
    json_object_put(root);
    return st;
}

/* ---- --list ------------------------------------------------------------------ */

/* Every line through cnp_ident_term_line: labels, paths and reasons come from
 * inputs, and this goes to a terminal. */
void cnp_batch_list(const cnp_batch_plan *p, int shard, FILE *out)
{
    size_t nscene = 0, nrun = 0, ndone = 0, nskip = 0, nfp = 0;
    for (size_t i = 0; i < p->nfp; i++) {
        const cnp_batch_fp *fp = &p->fp[i];
        if (shard >= 0 && fp->shard != shard)
            continue;
        nfp++;
        nscene += fp->nscene;
        char sh[32] = "";
        if (p->nshards > 1)
            snprintf(sh, sizeof sh, "; shard %d", fp->shard);
        cnp_ident_term_line(out, "footprint %s  (%s; %zu scene%s%s)", fp->name, fp->label,
                            fp->nscene, fp->nscene == 1 ? "" : "s", sh);
        for (size_t k = 0; k < fp->nscene; k++) {
            const cnp_batch_scene *s = &fp->scene[k];
            cnp_ident_term_line(out, "  scene %s  %s  [%s]  %s%s%s", s->date, s->id, s->kind,
                                s->path, s->note ? "  UNREADABLE: " : "",
                                s->note ? s->note : "");
        }
        for (size_t k = 0; k < fp->npair; k++) {
            const cnp_batch_pair *pr = &fp->pair[k];
            char why[512];
            if (pr->action == CNP_PAIR_SKIP) {
                cnp_ident_term_line(out, "  pair %s/%s  skip: %s", fp->name, pr->dir,
                                    pr->reason);
                nskip++;
            } else if (cnp_batch_pair_not_observed(p, fp, pr, why, sizeof why)) {
                cnp_ident_term_line(out, "  pair %s/%s  skip: not observed: %s", fp->name,
                                    pr->dir, why);
                nskip++;
            } else if (cnp_batch_pair_complete(p, fp, pr, why, sizeof why)) {
                cnp_ident_term_line(out, "  pair %s/%s  complete", fp->name, pr->dir);
                ndone++;
            } else {
                cnp_ident_term_line(out, "  pair %s/%s  run (%d days; %s)", fp->name, pr->dir,
                                    pr->gap_days, why);
                nrun++;
            }
        }
        if (fp->npair == 0)
            cnp_ident_term_line(out, "  (no pair: one scene)");
    }
    for (size_t i = 0; i < p->nitem && shard < 0; i++)
        cnp_ident_term_line(out, "%s %s: %s", p->item[i].status, p->item[i].path,
                            p->item[i].reason);
    char inputs[96] = "";
    if (shard < 0) {
        size_t nfail = 0, nign = 0;
        for (size_t i = 0; i < p->nitem; i++)
            *(strcmp(p->item[i].status, "failed") == 0 ? &nfail : &nign) += 1;
        snprintf(inputs, sizeof inputs, "; inputs: %zu failed, %zu not used", nfail, nign);
    }
    cnp_ident_term_line(out, "plan: %zu footprint%s, %zu scenes, %zu pairs: %zu to run, %zu "
                        "complete, %zu skipped%s", nfp, nfp == 1 ? "" : "s", nscene,
                        nrun + ndone + nskip, nrun, ndone, nskip, inputs);
}

/* ---- pairs with nothing observed ---------------------------------------------- */

/* "path size mtime" of an input (a new delivery under the same name is
 * another input). */
static void input_stamp(const char *path, char *out, size_t size)
{
    struct stat sb;
    if (!path)
        snprintf(out, size, "-");
    else if (stat(path, &sb) != 0)
        snprintf(out, size, "%s missing", path);
    else
        snprintf(out, size, "%s %lld %lld.%09ld", path, (long long)sb.st_size,
                 (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
}

/* What makes a pair's outcome the same outcome: its inputs, config file and
 * settings (malloc'd text, or NULL). */
static char *pair_identity(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                           const cnp_batch_pair *pr)
{
    const cnp_batch_scene *b = &fp->scene[pr->before], *a = &fp->scene[pr->after];
    char in[4][4200];
    input_stamp(b->path, in[0], sizeof in[0]);
    input_stamp(a->path, in[1], sizeof in[1]);
    input_stamp(b->mask, in[2], sizeof in[2]);
    input_stamp(a->mask, in[3], sizeof in[3]);
    cnp_settings s;
    cnp_batch_pair_settings(p, fp, pr, &s);
    char *ini = settings_ini(&s), *out = NULL;
    if (ini && asprintf(&out, "before=%s\nafter=%s\nbefore_mask=%s\nafter_mask=%s\nconfig=%s\n%s",
                        in[0], in[1], in[2], in[3], p->config_path ? p->config_path : "",
                        ini) < 0)
        out = NULL;
    free(ini);
    return out;
}

static void not_observed_path(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                              const cnp_batch_pair *pr, char *out, size_t size)
{
    snprintf(out, size, "%s/%s/%s/not_observed.json", p->outroot, fp->name, pr->dir);
}

int cnp_batch_pair_not_observed(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                                const cnp_batch_pair *pr, char *why, size_t wsize)
{
    char path[8400];
    not_observed_path(p, fp, pr, path, sizeof path);
    if (access(path, F_OK) != 0)
        return 0;
    json_object *rec = json_object_from_file(path);
    char *want = pair_identity(p, fp, pr);
    const char *have = jstr(rec, "identity"), *reason = jstr(rec, "reason");
    const int match = want && have && reason && strcmp(want, have) == 0;
    if (match)
        snprintf(why, wsize, "%s", reason);
    free(want);
    json_object_put(rec);
    return match;
}

cnp_status cnp_batch_pair_not_observed_write(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                                             const cnp_batch_pair *pr, const char *why)
{
    char path[8400], tmp[8500];
    not_observed_path(p, fp, pr, path, sizeof path);
    char *id = pair_identity(p, fp, pr);
    if (!id)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    /* The pair's folder: detect left none behind. */
    char dir[8400];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        free(id);
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", dir, strerror(errno));
    }
    cnp_tmp_path(path, tmp, sizeof tmp);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        free(id);
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", tmp, strerror(errno));
    }
    cnp_json j;
    cnp_json_begin(&j, f);
    cnp_json_str(&j, "program", "canopy");
    cnp_json_str(&j, "kind", "batch-pair-not-observed");
    cnp_json_str(&j, "reason", why);
    cnp_json_str(&j, "identity", id);
    cnp_json_end(&j);
    free(id);
    const int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        const int e = errno;
        unlink(tmp);
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", path, strerror(e));
    }
    return CNP_OK;
}

void cnp_batch_pair_not_observed_clear(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                                       const cnp_batch_pair *pr)
{
    char path[8400];
    not_observed_path(p, fp, pr, path, sizeof path);
    if (unlink(path) == 0) {
        *strrchr(path, '/') = '\0';
        rmdir(path);          /* only when nothing else is in it: detect starts afresh */
    }
}
