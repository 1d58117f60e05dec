/* pipeline/batch/cnp_batch_plan.c - `canopy batch`: the plan, the scenes the
 * one input discovery finds (io/cnp_discover.h) grouped by footprint, and
 * the footprints split into shards.
 *
 * A footprint's folder is its key (base/cnp_footprint.h), the one monitor
 * uses too: a product's footprint ("MGRS tile 29RKH" -> mgrs-29RKH), or for
 * rasters grouped by overlap (same CRS, overlapping extents) the grid key of
 * the group's earliest raster. Pair folders are "<before id>__<after id>",
 * ids made from product ids or file stems (cnp_ident_from_name).
 */
#include "cnp_batch.h"
#include "cnp_batch_context.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ogr_srs_api.h>

#include "cnp_discover.h"
#include "cnp_err.h"
#include "cnp_ident.h"
#include "cnp_product.h"

static int ends_with_ci(const char *s, const char *suffix)
{
    const size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* 0, or -1 out of memory (the message set): cnp_grow_zeroed as the callers
 * here test it. */
static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    return cnp_grow_zeroed(arr, cap, need, elem, "the inputs") == CNP_OK ? 0 : -1;
}

/* ---- the plan ----------------------------------------------------------- */

void cnp_batch_plan_init(cnp_batch_plan *p)
{
    memset(p, 0, sizeof *p);
    cnp_settings_defaults(&p->settings);
    p->nshards = 1;
}

static void fp_free(cnp_batch_fp *fp)
{
    for (size_t i = 0; i < fp->nscene; i++) {
        free(fp->scene[i].path);
        free(fp->scene[i].mask);
        free(fp->scene[i].note);
    }
    free(fp->scene);
    free(fp->pair);
}

void cnp_batch_plan_free(cnp_batch_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nfp; i++)
        fp_free(&p->fp[i]);
    free(p->fp);
    for (size_t i = 0; i < p->nitem; i++) {
        free(p->item[i].path);
        free(p->item[i].reason);
    }
    free(p->item);
    for (size_t i = 0; i < p->ninput; i++)
        free(p->input[i]);
    free(p->input);
    free(p->config_path);
    if (p->context)
        cnp_batch_context_free(p->context);
    free(p->context);
    cnp_product_session_end(&p->products);
    memset(p, 0, sizeof *p);
}

void cnp_batch_discover_counts(const cnp_batch_plan *p, size_t *recognised,
                               size_t *profile_loads)
{
    cnp_product_session_counts(p->products, recognised, profile_loads);
}

/* ---- grouping ------------------------------------------------------------------ */

/* A scene found, on its way into a footprint. */
typedef struct found {
    cnp_batch_scene s;
    char    fp_name[64];            /* from the product; "" = group by overlap */
    char    fp_key[CNP_FOOTPRINT_KEY_LEN];
    char   *path;                   /* to find the earliest of a group again   */
    char   *wkt;
    double  gt[6];
    int     w, h;
    int     group;                  /* overlap group (union-find root)        */
} found;

typedef struct group_ctx {
    cnp_batch_plan *p;
    found  *f;
    size_t  nf;
    size_t  capitem;
    int     nomem;
} group_ctx;

static void add_item(group_ctx *d, char *path, const char *status, char *reason)
{
    cnp_batch_plan *p = d->p;
    if (grow((void **)&p->item, &d->capitem, p->nitem + 1, sizeof *p->item)) {
        free(path);
        free(reason);
        d->nomem = 1;
        return;
    }
    cnp_batch_item *it = &p->item[p->nitem++];
    it->path = path;
    snprintf(it->status, sizeof it->status, "%s", status);
    it->reason = reason;
}

static void bounds_of(const found *f, double b[4])
{
    const double xs[4] = { 0, f->w, 0, f->w }, ys[4] = { 0, 0, f->h, f->h };
    b[0] = b[1] = INFINITY;
    b[2] = b[3] = -INFINITY;
    for (int i = 0; i < 4; i++) {
        const double x = f->gt[0] + xs[i] * f->gt[1] + ys[i] * f->gt[2];
        const double y = f->gt[3] + xs[i] * f->gt[4] + ys[i] * f->gt[5];
        b[0] = fmin(b[0], x);
        b[1] = fmin(b[1], y);
        b[2] = fmax(b[2], x);
        b[3] = fmax(b[3], y);
    }
}

static int uf_find(found *f, int i)
{
    while (f[i].group != i) {
        f[i].group = f[f[i].group].group;
        i = f[i].group;
    }
    return i;
}

/* Scenes without a footprint: same CRS and overlapping extents -> one group. */
static void group_by_overlap(group_ctx *d)
{
    OGRSpatialReferenceH *srs = calloc(d->nf + 1, sizeof *srs);
    double (*b)[4] = calloc(d->nf + 1, sizeof *b);
    if (!srs || !b) {
        d->nomem = 1;
        goto done;
    }
    for (size_t i = 0; i < d->nf; i++) {
        d->f[i].group = (int)i;
        if (d->f[i].fp_name[0] || !d->f[i].wkt || !d->f[i].wkt[0])
            continue;
        srs[i] = OSRNewSpatialReference(d->f[i].wkt);
        bounds_of(&d->f[i], b[i]);
    }
    for (size_t i = 0; i < d->nf; i++) {
        for (size_t j = i + 1; j < d->nf && srs[i]; j++) {
            if (!srs[j])
                continue;
            const int overlap = b[i][0] < b[j][2] && b[j][0] < b[i][2] && b[i][1] < b[j][3] &&
                                b[j][1] < b[i][3];
            if (!overlap || !OSRIsSame(srs[i], srs[j]))
                continue;
            const int ri = uf_find(d->f, (int)i), rj = uf_find(d->f, (int)j);
            if (ri != rj)
                d->f[ri > rj ? ri : rj].group = ri < rj ? ri : rj;
        }
    }
done:
    for (size_t i = 0; srs && i < d->nf; i++)
        if (srs[i])
            OSRDestroySpatialReference(srs[i]);
    free(srs);
    free(b);
}

static int cmp_fp(const void *a, const void *b)
{
    return strcmp(((const cnp_batch_fp *)a)->name, ((const cnp_batch_fp *)b)->name);
}

/* Each found scene into the footprint of its key, or of its overlap group. */
static int *assign_footprints(group_ctx *d)
{
    cnp_batch_plan *p = d->p;
    size_t capfp = 0;
    int *fp_of = malloc((d->nf + 1) * sizeof *fp_of);
    if (!fp_of) {
        d->nomem = 1;
        return NULL;
    }
    for (size_t i = 0; i < d->nf && !d->nomem; i++) {
        found *f = &d->f[i];
        fp_of[i] = -1;
        if (!f->fp_name[0] && (!f->wkt || !f->wkt[0])) {
            /* A product without footprint that cannot be read either. */
            add_item(d, f->s.path, "failed", strdup(f->s.note ? f->s.note
                     : "no footprint in its metadata and no grid to group it by"));
            f->s.path = NULL;
            continue;
        }
        /* Same footprint, or same overlap group, as an earlier scene? */
        for (size_t j = 0; j < i && fp_of[i] < 0; j++) {
            if (fp_of[j] < 0)
                continue;
            if (f->fp_name[0] ? strcmp(f->fp_key, d->f[j].fp_key) == 0
                              : !d->f[j].fp_name[0] &&
                                    uf_find(d->f, (int)i) == uf_find(d->f, (int)j))
                fp_of[i] = fp_of[j];
        }
        if (fp_of[i] < 0) {
            if (grow((void **)&p->fp, &capfp, p->nfp + 1, sizeof *p->fp)) {
                d->nomem = 1;
                break;
            }
            cnp_batch_fp *fp = &p->fp[p->nfp];
            memset(fp, 0, sizeof *fp);
            fp_of[i] = (int)p->nfp++;
            snprintf(fp->label, sizeof fp->label, "%s", f->fp_name);
            snprintf(fp->name, sizeof fp->name, "%s", f->fp_name[0] ? f->fp_key : "");
        }
        cnp_batch_fp *fp = &p->fp[fp_of[i]];
        cnp_batch_scene *s = realloc(fp->scene, (fp->nscene + 1) * sizeof *s);
        if (!s) {
            d->nomem = 1;
            break;
        }
        fp->scene = s;
        fp->scene[fp->nscene++] = f->s;
        memset(&f->s, 0, sizeof f->s);             /* moved */
    }
    return fp_of;
}

static void build_footprints(group_ctx *d)
{
    cnp_batch_plan *p = d->p;
    int *fp_of = assign_footprints(d);
    for (size_t k = 0; k < p->nfp && !d->nomem; k++) {
        cnp_batch_fp *fp = &p->fp[k];
        cnp_batch_sort_scenes(fp);
        if (!fp->label[0]) {
            /* Named by the grid of its earliest raster (not by where the
             * archive lies), as monitor names a footprint of rasters. */
            for (size_t i = 0; i < d->nf; i++)
                if (fp_of[i] == (int)k && d->f[i].path &&
                    strcmp(d->f[i].path, fp->scene[0].path) == 0)
                    snprintf(fp->name, sizeof fp->name, "%s", d->f[i].fp_key);
            snprintf(fp->label, sizeof fp->label, "overlapping rasters (%zu)", fp->nscene);
        }
        cnp_batch_unique_ids(fp);
        if (cnp_batch_pair_up(p, fp))
            d->nomem = 1;
    }
    free(fp_of);
    if (p->nfp > 1)   /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(p->fp, p->nfp, sizeof *p->fp, cmp_fp);
    for (size_t k = 1; k < p->nfp; k++)            /* two footprints, one name */
        if (strcmp(p->fp[k].name, p->fp[k - 1].name) == 0) {
            char n[160];
            snprintf(n, sizeof n, "%.100s-%zu", p->fp[k].name, k);
            memcpy(p->fp[k].name, n, sizeof n);
        }
}

/* A scene discovery found, as batch names it: ids become folder names
 * ("__" separates a pair's two, so runs of '_' become one). */
static void take_scene(found *f, cnp_discover_scene *x)
{
    char id[sizeof x->id];
    snprintf(id, sizeof id, "%s", x->id);
    if (x->is_product && ends_with_ci(id, ".SAFE"))
        id[strlen(id) - 5] = '\0';
    cnp_ident_from_name(id, f->s.id, sizeof f->s.id);
    f->s.path = x->path;
    f->s.mask = x->mask;
    f->s.note = x->note;
    f->wkt = x->wkt;
    x->path = x->mask = x->note = x->wkt = NULL;    /* moved */
    f->path = f->s.path ? strdup(f->s.path) : NULL;
    snprintf(f->s.date, sizeof f->s.date, "%s", x->date);
    snprintf(f->s.date_source, sizeof f->s.date_source, "%s", x->date_source);
    snprintf(f->s.kind, sizeof f->s.kind, "%s", x->kind);
    f->s.pixels = x->pixels;
    snprintf(f->fp_name, sizeof f->fp_name, "%s", x->fp_name);
    snprintf(f->fp_key, sizeof f->fp_key, "%s", x->fp_key);
    memcpy(f->gt, x->gt, sizeof f->gt);
    f->w = x->width;
    f->h = x->height;
}

cnp_status cnp_batch_discover(cnp_batch_plan *p, char *const *inputs, size_t ninputs, FILE *log)
{
    group_ctx d;
    cnp_discovery found_all;
    memset(&d, 0, sizeof d);
    d.p = p;

    p->input = calloc(ninputs + 1, sizeof *p->input);
    if (!p->input)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    for (size_t i = 0; i < ninputs; i++)
        if ((p->input[p->ninput++] = strdup(inputs[i])) == NULL)
            return cnp_err(CNP_E_NOMEM, "out of memory");
    if (!p->products && cnp_product_session_begin(&p->settings, &p->products) != CNP_OK)
        return cnp_err(CNP_E_NOMEM, "out of memory");

    const cnp_discover_opts o = { &p->settings, p->outroot, log, "batch", p->products };
    cnp_status st = cnp_discover(inputs, ninputs, &o, &found_all);
    if (st != CNP_OK)
        return st;
    d.f = calloc(found_all.nscene + 1, sizeof *d.f);
    if (!d.f)
        d.nomem = 1;
    for (size_t i = 0; d.f && i < found_all.nscene; i++)
        take_scene(&d.f[d.nf++], &found_all.scene[i]);
    for (size_t i = 0; i < found_all.nitem && !d.nomem; i++) {
        cnp_discover_item *x = &found_all.item[i];
        add_item(&d, x->path, x->status, x->reason);
        x->path = x->reason = NULL;                 /* moved */
    }
    cnp_discovery_free(&found_all);
    if (!d.nomem)
        group_by_overlap(&d);
    if (!d.nomem)
        build_footprints(&d);

    for (size_t i = 0; i < d.nf; i++) {
        free(d.f[i].s.path);
        free(d.f[i].s.mask);
        free(d.f[i].s.note);
        free(d.f[i].path);
        free(d.f[i].wkt);
    }
    free(d.f);
    return d.nomem ? cnp_err(CNP_E_NOMEM, "out of memory") : CNP_OK;
}

/* ---- shards ---------------------------------------------------------------- */

void cnp_batch_shard(cnp_batch_plan *p, int nshards)
{
    p->nshards = nshards < 1 ? 1 : nshards;
    int64_t *load = calloc((size_t)p->nshards, sizeof *load);
    size_t *order = malloc((p->nfp + 1) * sizeof *order);
    if (!load || !order) {
        for (size_t i = 0; i < p->nfp; i++)
            p->fp[i].shard = (int)(i % (size_t)p->nshards);
        free(load);
        free(order);
        return;
    }
    for (size_t i = 0; i < p->nfp; i++)
        order[i] = i;
    /* Largest first (ties by name, for a stable plan), each to the least loaded. */
    for (size_t i = 1; i < p->nfp; i++)
        for (size_t j = i; j > 0 && p->fp[order[j]].work > p->fp[order[j - 1]].work; j--) {
            const size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (size_t i = 0; i < p->nfp; i++) {
        int best = 0;
        for (int s = 1; s < p->nshards; s++)
            if (load[s] < load[best])
                best = s;
        p->fp[order[i]].shard = best;
        load[best] += p->fp[order[i]].work > 0 ? p->fp[order[i]].work : 1;
    }
    free(load);
    free(order);
}

/* ---- per-pair settings and completeness --------------------------------------- */

void cnp_batch_pair_settings(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                             const cnp_batch_pair *pr, cnp_settings *out)
{
    *out = p->settings;
    const cnp_batch_scene *b = &fp->scene[pr->before], *a = &fp->scene[pr->after];
    if (strcmp(b->date_source, "file name") == 0)
        snprintf(out->date_before, sizeof out->date_before, "%s", b->date);
    if (strcmp(a->date_source, "file name") == 0)
        snprintf(out->date_after, sizeof out->date_after, "%s", a->date);
}
