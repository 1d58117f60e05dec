/* pipeline/batch/cnp_batch_summary.c - `canopy batch`: OUTROOT/summary.csv
 * and summary.json (or a shard's summary), and the rows of every shard
 * gathered back by --merge.
 */
#include "cnp_batch_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnp_err.h"
#include "cnp_ident.h"
#include "cnp_json.h"
#include "cnp_tmpfile.h"

/* A text cell: quoted where needed, never a formula (base/cnp_ident). */
static void csv_field(FILE *f, const char *s, int last)
{
    cnp_ident_write_csv(f, s);
    fputc(last ? '\n' : ',', f);
}

static void csv_num(FILE *f, double v, int decimals)
{
    if (isfinite(v))
        fprintf(f, "%.*f", decimals, v);
    fputc(',', f);
}

static void json_row(cnp_json *j, const cnp_batch_row *r)
{
    const cnp_batch_scene *b = &r->fp->scene[r->pair->before], *a = &r->fp->scene[r->pair->after];
    cnp_json_object(j, NULL);
    cnp_json_str(j, "footprint", r->fp->name);
    cnp_json_str(j, "pair", r->pair->dir);
    cnp_json_str(j, "before_id", b->id);
    cnp_json_str(j, "before_date", b->date);
    cnp_json_str(j, "after_id", a->id);
    cnp_json_str(j, "after_date", a->date);
    if (r->alerts >= 0)
        cnp_json_int(j, "alerts", r->alerts);
    else
        cnp_json_str(j, "alerts", NULL);
    cnp_json_num(j, "area_ha", isfinite(r->area_ha) ? round(r->area_ha * 1e4) / 1e4 : NAN);
    cnp_json_num(j, "observed_share",
                 isfinite(r->observed_share) ? round(r->observed_share * 1e4) / 1e4 : NAN);
    cnp_json_num(j, "seconds", isfinite(r->seconds) ? round(r->seconds * 100) / 100 : NAN);
    cnp_json_str(j, "status", r->status);
    cnp_json_str(j, "message", r->message[0] ? r->message : NULL);
    cnp_json_str(j, "run_id", r->run_id[0] ? r->run_id : NULL);
    cnp_json_close(j, '}');
}

/* Replace `path` with `data` unless it holds exactly that already. */
static cnp_status write_if_changed(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (f) {
        char *old = malloc(len + 2);
        const size_t n = old ? fread(old, 1, len + 1, f) : 0;
        const int same = old && n == len && memcmp(old, data, len) == 0;
        free(old);
        fclose(f);
        if (same)
            return CNP_OK;
    }
    char tmp[8500];
    cnp_tmp_remove_dead(path);
    cnp_tmp_path(path, tmp, sizeof tmp);
    f = fopen(tmp, "wb");
    if (!f)
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", tmp, strerror(errno));
    const int bad = fwrite(data, 1, len, f) != len;
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        const int e = errno;
        unlink(tmp);
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", path, strerror(e));
    }
    return CNP_OK;
}

/* A sharded plan's merge: the shards to run again (pairs not reported, or
 * failed), for `summary.json`. */
static void json_shards_to_rerun(cnp_json *j, const cnp_batch_plan *p, int shard,
                                 const cnp_batch_row *rows, size_t nrows)
{
    int any_unreported = 0;
    for (size_t i = 0; i < nrows; i++)
        any_unreported |= rows[i].unreported;
    if (shard < 0 && (p->nshards > 1 || any_unreported)) {
        /* A sharded plan: the shards to run again (not reported, or failed pairs). */
        cnp_json_array(j, "shards_to_rerun");
        for (int k = 0; k < p->nshards; k++) {
            size_t unrep, nf;
            cnp_batch_shard_counts(rows, nrows, k, &unrep, &nf);
            if (!unrep && !nf)
                continue;
            cnp_json_object(j, NULL);
            cnp_json_int(j, "shard", k);
            cnp_json_int(j, "pairs_not_reported", (int64_t)unrep);
            cnp_json_int(j, "pairs_failed", (int64_t)nf);
            cnp_json_close(j, '}');
        }
        cnp_json_close(j, ']');
    }
}

cnp_status cnp_batch_write_summary(const cnp_batch_plan *p, int shard,
                                   const cnp_batch_row *rows, size_t nrows)
{
    char path[8400];
    char *buf = NULL;
    size_t len = 0;
    cnp_status st;
    size_t nok = 0, nfail = 0, nskip = 0, nin = 0, nunobs = 0;

    for (size_t i = 0; i < nrows; i++) {
        nok += strcmp(rows[i].status, "ok") == 0;
        nfail += strcmp(rows[i].status, "failed") == 0;
        nskip += strcmp(rows[i].status, "skipped") == 0;
        nunobs += cnp_batch_row_not_observed(&rows[i]);
    }
    for (size_t i = 0; i < p->nitem && shard < 0; i++)
        nin += strcmp(p->item[i].status, "failed") == 0;

    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    cnp_json j;
    cnp_json_begin(&j, m);
    cnp_json_str(&j, "program", "canopy");
    cnp_json_str(&j, "kind", shard >= 0 ? "batch-shard-summary" : "batch-summary");
    cnp_json_str(&j, "outroot", p->outroot);
    if (shard >= 0) {
        cnp_json_str(&j, "plan_id", p->plan_id);
        cnp_json_int(&j, "shard", shard);
    }
    cnp_json_int(&j, "pairs", (int64_t)nrows);
    cnp_json_int(&j, "ok", (int64_t)nok);
    cnp_json_int(&j, "skipped", (int64_t)nskip);
    cnp_json_int(&j, "not_observed", (int64_t)nunobs);
    cnp_json_int(&j, "failed", (int64_t)nfail);
    if (shard < 0)
        cnp_json_int(&j, "inputs_failed", (int64_t)nin);
    cnp_json_array(&j, "rows");
    for (size_t i = 0; i < nrows; i++)
        json_row(&j, &rows[i]);
    cnp_json_close(&j, ']');
    json_shards_to_rerun(&j, p, shard, rows, nrows);
    if (shard < 0)
        cnp_batch_json_not_used(&j, "inputs_not_used", p);
    cnp_json_end(&j);
    fclose(m);

    if (shard >= 0) {
        snprintf(path, sizeof path, "%s/shards", p->outroot);
        if (cnp_batch_make_dir(p->outroot) != 0 || cnp_batch_make_dir(path) != 0) {
            free(buf);
            return cnp_err(CNP_E_IO, "cannot create '%s': %s", path, strerror(errno));
        }
        snprintf(path, sizeof path, "%s/shards/shard-%d.json", p->outroot, shard);
        st = write_if_changed(path, buf, len);
        free(buf);
        return st;
    }
    if (cnp_batch_make_dir(p->outroot) != 0) {
        free(buf);
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", p->outroot, strerror(errno));
    }
    snprintf(path, sizeof path, "%s/summary.json", p->outroot);
    st = write_if_changed(path, buf, len);
    free(buf);
    if (st != CNP_OK)
        return st;

    buf = NULL;
    len = 0;
    m = open_memstream(&buf, &len);
    if (!m)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    fputs("footprint,pair,before_id,before_date,after_id,after_date,alerts,area_ha,"
          "observed_share,seconds,status,message\n", m);
    for (size_t i = 0; i < nrows; i++) {
        const cnp_batch_row *r = &rows[i];
        const cnp_batch_scene *b = &r->fp->scene[r->pair->before];
        const cnp_batch_scene *a = &r->fp->scene[r->pair->after];
        csv_field(m, r->fp->name, 0);
        csv_field(m, r->pair->dir, 0);
        csv_field(m, b->id, 0);
        csv_field(m, b->date, 0);
        csv_field(m, a->id, 0);
        csv_field(m, a->date, 0);
        if (r->alerts >= 0)
            fprintf(m, "%lld", (long long)r->alerts);
        fputc(',', m);
        csv_num(m, r->area_ha, 4);
        csv_num(m, r->observed_share, 4);
        csv_num(m, r->seconds, 2);
        csv_field(m, r->status, 0);
        csv_field(m, r->message, 1);
    }
    for (size_t i = 0; i < p->nitem; i++) {
        if (strcmp(p->item[i].status, "failed") != 0)
            continue;
        char msg[8400];
        snprintf(msg, sizeof msg, "input %s: %s", p->item[i].path, p->item[i].reason);
        fputs(",,,,,,,,,,failed,", m);
        csv_field(m, msg, 1);
    }
    fclose(m);
    snprintf(path, sizeof path, "%s/summary.csv", p->outroot);
    st = write_if_changed(path, buf, len);
    free(buf);
    return st;
}

cnp_status cnp_batch_read_shards(const cnp_batch_plan *p, cnp_batch_row **rows_out,
                                 size_t *nrows_out)
{
    size_t nrows = 0;
    for (size_t i = 0; i < p->nfp; i++)
        nrows += p->fp[i].npair;
    cnp_batch_row *rows = calloc(nrows + 1, sizeof *rows);
    json_object **shard = calloc((size_t)p->nshards + 1, sizeof *shard);
    if (!rows || !shard) {
        free(rows);
        free(shard);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    for (int s = 0; s < p->nshards; s++) {
        char path[8400];
        snprintf(path, sizeof path, "%s/shards/shard-%d.json", p->outroot, s);
        shard[s] = json_object_from_file(path);
        json_object *id = cnp_batch_jget(shard[s], "plan_id", json_type_string);
        if (shard[s] && (!id || strcmp(json_object_get_string(id), p->plan_id) != 0)) {
            json_object_put(shard[s]);
            shard[s] = NULL;       /* left by another plan */
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < p->nfp; i++) {
        const cnp_batch_fp *fp = &p->fp[i];
        json_object *list = cnp_batch_jget(shard[fp->shard], "rows", json_type_array);
        for (size_t j = 0; j < fp->npair; j++) {
            cnp_batch_row *r = &rows[k++];
            cnp_batch_row_init(r, fp, &fp->pair[j]);
            json_object *found = NULL;
            for (size_t x = 0; list && x < json_object_array_length(list) && !found; x++) {
                json_object *o = json_object_array_get_idx(list, x);
                json_object *f = cnp_batch_jget(o, "footprint", json_type_string);
                json_object *d = cnp_batch_jget(o, "pair", json_type_string);
                if (f && d && strcmp(json_object_get_string(f), fp->name) == 0 &&
                    strcmp(json_object_get_string(d), fp->pair[j].dir) == 0)
                    found = o;
            }
            if (!found) {
                char msg[200];
                snprintf(msg, sizeof msg, "shard %d has not reported this pair (not run yet, "
                         "still running, or stopped before its end)", fp->shard);
                cnp_batch_row_fail(r, msg);
                r->unreported = 1;
                continue;
            }
            json_object *v;
            v = cnp_batch_jget(found, "status", json_type_string);
            snprintf(r->status, sizeof r->status, "%s", v ? json_object_get_string(v) : "failed");
            v = cnp_batch_jget(found, "message", json_type_string);
            snprintf(r->message, sizeof r->message, "%s", v ? json_object_get_string(v) : "");
            v = cnp_batch_jget(found, "run_id", json_type_string);
            snprintf(r->run_id, sizeof r->run_id, "%s", v ? json_object_get_string(v) : "");
            v = cnp_batch_jget(found, "alerts", json_type_int);
            r->alerts = v ? json_object_get_int64(v) : -1;
            r->area_ha = cnp_batch_jnum(found, "area_ha");
            r->observed_share = cnp_batch_jnum(found, "observed_share");
            r->seconds = cnp_batch_jnum(found, "seconds");
        }
    }
    for (int s = 0; s < p->nshards; s++)
        json_object_put(shard[s]);
    free(shard);
    *rows_out = rows;
    *nrows_out = nrows;
    return CNP_OK;
}

