/* pipeline/outputs/cnp_chips_run.c - which alerts get chips, and making them on
 * all threads: each worker opens its own readers and CRS objects and takes
 * the chosen alerts one at a time, in the order of the scene rows they lie on.
 * A chip's bytes depend only on its alert and the scenes (cnp_chips.c), so
 * any number of threads writes the same files; the first failure in that
 * order is the one reported.
 */
#include "cnp_chips_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cnp_err.h"
#include "cnp_gdal.h"

/* GDAL block cache per worker: the blocks of one 256-row chunk of a window of
 * up to 1024 px, of both dates (six 512 x 512 blocks of four UInt16 bands, 2 MB
 * each, a date). */
#define CHIPS_CACHE_PER_WORKER ((int64_t)32 << 20)

typedef struct rank { double area; int64_t pixels; size_t index; } rank;

/* Largest first; ties by pixel count, then by position (deterministic). */
static int by_area_desc(const void *pa, const void *pb)
{
    const rank *a = pa, *b = pb;
    if (a->area != b->area)
        return a->area > b->area ? -1 : 1;
    if (a->pixels != b->pixels)
        return a->pixels > b->pixels ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* The chosen alerts in the order the workers take them: by the scene rows
 * they lie on, so that alerts taken one after the other by one worker read
 * the same blocks (through its own handles and GDAL's cache). */
typedef struct place { int band, x; size_t index; } place;

static int by_place(const void *pa, const void *pb)
{
    const place *a = pa, *b = pb;
    if (a->band != b->band)
        return a->band < b->band ? -1 : 1;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* One worker's own GDAL handles and CRS objects: neither GDAL datasets nor
 * OGR transformations may be shared between threads (GDAL 3.6). */
typedef struct chip_worker {
    date_src src[2];
    run_info ri;
} chip_worker;

static cnp_status worker_open(chip_worker *w, const run_info *shared, const int bands[2][3])
{
    const cnp_evidence_ctx *ctx = shared->ctx;
    OGRSpatialReferenceH wgs84 = OSRNewSpatialReference(NULL);
    memset(w, 0, sizeof *w);
    w->ri = *shared;
    w->ri.srs = OSRNewSpatialReference(ctx->scene[0]->wkt);
    if (!w->ri.srs || !wgs84 || OSRSetWellKnownGeogCS(wgs84, "WGS84") != OGRERR_NONE) {
        OSRDestroySpatialReference(wgs84);
        return cnp_err(CNP_E_DATA, "evidence chips: cannot read the CRS of '%s'",
                       ctx->scene[0]->path);
    }
    OSRSetAxisMappingStrategy(w->ri.srs, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(wgs84, OAMS_TRADITIONAL_GIS_ORDER);
    w->ri.to_scene = OCTNewCoordinateTransformation(wgs84, w->ri.srs);
    OSRDestroySpatialReference(wgs84);
    cnp_status st = CNP_OK;
    for (int k = 0; k < 2 && st == CNP_OK; k++)
        st = cnp_chip_src_open(&w->src[k], ctx->scene[k], ctx->settings, bands[k]);
    return st;
}

static void worker_close(chip_worker *w)
{
    cnp_chip_src_close(&w->src[0]);
    cnp_chip_src_close(&w->src[1]);
    if (w->ri.to_scene)
        OCTDestroyCoordinateTransformation(w->ri.to_scene);
    OSRDestroySpatialReference(w->ri.srs);
    memset(w, 0, sizeof *w);
}

/* evidence/<id>/ and its three PNGs. */
static cnp_status one_alert(const char *dir, chip_worker *w, const cnp_alert *a)
{
    char path[4200];
    if (snprintf(path, sizeof path, "%s/evidence/%s", dir, a->id) >= (int)sizeof path)
        return cnp_err(CNP_E_IO, "evidence chips: path too long under '%s'", dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", path, strerror(errno));
    return cnp_chip_write(dir, &w->ri, w->src, a);
}

/* The first failure in the workers' order of alerts (so the message does not
 * depend on which thread got there first), and the progress made. */
typedef struct chips_state {
    cnp_status st;
    size_t     failed_at;        /* position of the failure, SIZE_MAX: none */
    char       msg[512];
    size_t     done, total;
} chips_state;

static void chips_fail(chips_state *cs, size_t at, cnp_status st)
{
    #pragma omp critical(cnp_chips_state)
    if (at < cs->failed_at || cs->st == CNP_OK) {
        cs->st = st;
        cs->failed_at = at;
        snprintf(cs->msg, sizeof cs->msg, "%s", cnp_err_msg());
    }
}

/* One chip more: progress (one thread at a time, so it only grows). */
static void chips_tick(chips_state *cs, const cnp_evidence_ctx *ctx, size_t at)
{
    #pragma omp critical(cnp_chips_state)
    {
        cs->done++;
        if (ctx->progress && cs->st == CNP_OK &&
            !ctx->progress(ctx->progress_from + (ctx->progress_to - ctx->progress_from) *
                           (double)cs->done / (double)cs->total, "chips", ctx->progress_arg)) {
            cs->st = cnp_err(CNP_E_CANCELLED, "interrupted by user");
            cs->failed_at = at;
            snprintf(cs->msg, sizeof cs->msg, "%s", cnp_err_msg());
        }
    }
}

/* The chosen alerts on `nthreads` workers, each with its own readers. A
 * chip's bytes depend only on its alert and the scenes, so any number of
 * threads writes the same files. */
static cnp_status chips_parallel(const char *dir, cnp_evidence_ctx *ctx, const run_info *ri,
                                 const int bands[2][3], const place *todo, size_t n,
                                 int nthreads)
{
    const cnp_alert *alerts = ctx->res->alerts;
    chips_state cs = { CNP_OK, SIZE_MAX, "", 0, n };
    if ((size_t)nthreads > n)
        nthreads = (int)n;
    #pragma omp parallel num_threads(nthreads) default(none) \
        shared(dir, ctx, ri, bands, todo, n, alerts, cs)
    {
        chip_worker w;
        cnp_status wst = worker_open(&w, ri, bands);
        if (wst != CNP_OK)
            chips_fail(&cs, 0, wst);
        #pragma omp for schedule(dynamic, 1)
        for (size_t r = 0; r < n; r++) {
            cnp_status st;
            #pragma omp atomic read
            st = cs.st;
            if (st != CNP_OK || wst != CNP_OK)
                continue;
            if ((st = one_alert(dir, &w, &alerts[todo[r].index])) != CNP_OK) {
                chips_fail(&cs, r, st);
                continue;
            }
            if (ctx->has_chip)
                ctx->has_chip[todo[r].index] = 1;
            chips_tick(&cs, ctx, r);
        }
        worker_close(&w);
    }
    return cs.st == CNP_OK ? CNP_OK : cnp_err(cs.st, "%s", cs.msg);
}

cnp_status cnp_evidence_chips(const char *dir, cnp_evidence_ctx *ctx)
{
    const cnp_result *res = ctx->res;
    const cnp_scene *sc0 = ctx->scene[0], *sc1 = ctx->scene[1];
    run_info ri;
    rank *order = NULL;
    place *todo = NULL;
    cnp_status st = CNP_OK;

    memset(&ri, 0, sizeof ri);
    ctx->chips_written = 0;
    ctx->chips_left_out = 0;
    if (!res || res->nalerts == 0)
        return CNP_OK;
    if (ctx->has_chip)
        memset(ctx->has_chip, 0, res->nalerts);

    size_t want = res->nalerts;
    if (ctx->max_chips > 0 && ctx->max_chips < want)
        want = ctx->max_chips;
    order = malloc(res->nalerts * sizeof *order);
    todo = malloc(want * sizeof *todo);
    if (!order || !todo) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < res->nalerts; i++)
        order[i] = (rank){ res->alerts[i].area_ha, res->alerts[i].pixels, i };
    qsort(order, res->nalerts, sizeof *order, by_area_desc);
    size_t n = 0;
    for (size_t r = 0; r < want; r++) {
        const cnp_alert *a = &res->alerts[order[r].index];
        if (!a->geom)
            continue;
        chip_geom g;
        cnp_chip_window(sc0, a->geom, &g);
        todo[n++] = (place){ g.y0 / 256, g.x0, order[r].index };
    }
    qsort(todo, n, sizeof *todo, by_place);

    /* One band combination for both dates, so their colours mean the same. */
    ri.ctx = ctx;
    ri.true_colour = sc0->green > 0 && sc0->blue > 0 && sc1->green > 0 && sc1->blue > 0;
    const int use_green = sc0->green > 0 && sc1->green > 0;
    int bands[2][3];
    for (int k = 0; k < 2; k++) {
        const cnp_scene *s = ctx->scene[k];
        if (ri.true_colour) {
            bands[k][0] = s->red; bands[k][1] = s->green; bands[k][2] = s->blue;
        } else {
            bands[k][0] = s->nir; bands[k][1] = s->red;
            bands[k][2] = use_green ? s->green : s->red;
        }
    }
    ri.band_names = ri.true_colour ? "red green blue" : use_green ? "nir red green" : "nir red red";

    const int nthreads = res->threads > 0 ? res->threads : 1;
    /* GDAL's block cache holds what the detection pass planned (as little as
     * 1 MB when it reads every block once), less than one 512 x 512 block of
     * four UInt16 bands: each band a chip reads would decode the window's
     * blocks again. Room for the blocks a worker's window touches, unless the
     * user set GDAL_CACHEMAX or --max-memory sized the cache. */
    const int64_t cache = cnp_gdal_cache_get();
    const int64_t chips_cache = (int64_t)nthreads * CHIPS_CACHE_PER_WORKER;
    const int raise = !cnp_gdal_cache_user_set() && ctx->max_memory_mb == 0 && cache < chips_cache;
    if (raise)
        cnp_gdal_cache_set(chips_cache);
    if (n > 0)
        st = chips_parallel(dir, ctx, &ri, (const int (*)[3])bands, todo, n, nthreads);
    if (raise)
        cnp_gdal_cache_set(cache);
    if (st != CNP_OK)
        goto done;
    ctx->chips_written = n;
    ctx->chips_left_out = res->nalerts - ctx->chips_written;

done:
    free(order);
    free(todo);
    return st;
}
