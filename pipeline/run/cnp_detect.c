/* pipeline/run/cnp_detect.c - `canopy detect` from scenes to OUTDIR.
 *
 * Memory is bounded by one block-row strip per worker thread plus the loss
 * runs (proportional to the loss found, not to the scene). Strips are read and
 * classified in parallel, each worker with its own GDAL handles; their runs
 * are merged into the global union-find in strip order (an OpenMP `ordered`
 * region), so labels, statistics and ids do not depend on the thread count.
 */
#include "cnp_detect.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <omp.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <geodesic.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <openssl/evp.h>
#include <png.h>
#include <proj.h>

#include "cnp_change.h"
#include "cnp_err.h"
#include "cnp_fs.h"
#include "cnp_hash.h"
#include "cnp_evidence.h"
#include "cnp_geom.h"
#include "cnp_json.h"
#include "cnp_output.h"
#include "cnp_product.h"
#include "cnp_raster.h"
#include "cnp_runs.h"
#include "cnp_trace.h"
#include "cnp_inputs.h"
#include "cnp_num.h"
#include "cnp_runjson.h"
#include "cnp_staging.h"
#include "cnp_version.h"

/* ---- strip workers ---------------------------------------------------- */

/* Per-run sums, merged per component in run order (deterministic). */
typedef struct run_stats {
    double sum_dndvi, sum_before, sum_after;
    float  min_dndvi;
} run_stats;

typedef struct stats_vec {
    run_stats *v;
    size_t     n, cap;
} stats_vec;

static cnp_status stats_reserve(stats_vec *s, size_t n)
{
    return cnp_grow((void **)&s->v, &s->cap, n, sizeof *s->v, "loss statistics");
}

/* The sums of one piece of a component: its runs inside one strip, added in
 * the strip's run order. A component's sums are its pieces' sums in piece
 * order (strip by strip), which no split into units or thread count changes.
 * The scene's runs then keep no sums: 16 bytes a run (row, columns, parent)
 * instead of 48, which is most of what grows with the scene's alerts. */
typedef struct comp_piece {
    size_t    first;             /* the piece's first run, in the scene's runs */
    run_stats st;
} comp_piece;

typedef struct piece_vec {
    comp_piece *v;
    size_t      n, cap;
} piece_vec;

typedef struct detect_ctx {
    const cnp_job   *job;
    const cnp_scene *scene[2];
    int              win[4];
    int              strip_h, nstrips;
    int              tile_w;          /* columns per tile: the BEFORE block width */
    int              nparts;          /* work units per strip (column ranges of tiles) */
    cnp_change_params params;
    cnp_overview    *ov;
    cnp_unobserved  *unobs;
} detect_ctx;

/* ---- unobserved pieces ---------------------------------------------------- */

static cnp_status grow(void **p, size_t *cap, size_t need, size_t elem)
{
    return cnp_grow(p, cap, need, elem, "the unobserved area");
}

static void unobserved_free(cnp_unobserved *u)
{
    free(u->xy);
    free(u->ring);
    free(u->piece);
    memset(u, 0, sizeof *u);
}

static void unobserved_clear(cnp_unobserved *u) { u->nvert = u->nring = u->npiece = 0; }

/* Append one tile's traced rings as a piece. */
static cnp_status unobserved_add(cnp_unobserved *u, const cnp_rings *rings, int32_t tx, int32_t ty,
                                 int64_t pixels)
{
    cnp_status st;
    if ((st = grow((void **)&u->xy, &u->cap_vert, u->nvert + rings->nvert, 2 * sizeof *u->xy)) ||
        (st = grow((void **)&u->ring, &u->cap_ring, u->nring + rings->n, sizeof *u->ring)) ||
        (st = grow((void **)&u->piece, &u->cap_piece, u->npiece + 1, sizeof *u->piece)))
        return st;
    memcpy(u->xy + 2 * u->nvert, rings->xy, rings->nvert * 2 * sizeof *u->xy);
    for (size_t i = 0; i < rings->n; i++) {
        u->ring[u->nring + i] = rings->ring[i];
        u->ring[u->nring + i].first += u->nvert;
    }
    u->piece[u->npiece++] = (cnp_unobserved_piece){ tx, ty, pixels, u->nring, rings->n };
    u->nvert += rings->nvert;
    u->nring += rings->n;
    return CNP_OK;
}

/* Append all of `src` to `dst` (strip order). */
static cnp_status unobserved_append(cnp_unobserved *dst, const cnp_unobserved *src)
{
    cnp_status st;
    if ((st = grow((void **)&dst->xy, &dst->cap_vert, dst->nvert + src->nvert, 2 * sizeof *dst->xy)) ||
        (st = grow((void **)&dst->ring, &dst->cap_ring, dst->nring + src->nring, sizeof *dst->ring)) ||
        (st = grow((void **)&dst->piece, &dst->cap_piece, dst->npiece + src->npiece,
                   sizeof *dst->piece)))
        return st;
    if (src->nvert)
        memcpy(dst->xy + 2 * dst->nvert, src->xy, src->nvert * 2 * sizeof *src->xy);
    for (size_t i = 0; i < src->nring; i++) {
        dst->ring[dst->nring + i] = src->ring[i];
        dst->ring[dst->nring + i].first += dst->nvert;
    }
    for (size_t i = 0; i < src->npiece; i++) {
        dst->piece[dst->npiece + i] = src->piece[i];
        dst->piece[dst->npiece + i].ring0 += dst->nring;
    }
    dst->nvert += src->nvert;
    dst->nring += src->nring;
    dst->npiece += src->npiece;
    return CNP_OK;
}

/* A loss run found in one tile, with its sums; tiles are processed left to
 * right, then their runs are merged row by row into the strip's runs. */
typedef struct tile_run {
    cnp_run   run;
    run_stats st;
} tile_run;

typedef struct worker {
    cnp_reader *rd[2];
    int         dn_u16[2];                   /* 1: date read as UInt16 into red/nir */
    float      *red[2], *nir[2], *ndvi[2];   /* one tile: tile_w x strip_h */
    uint8_t    *obs[2], *cls, *rowmask;
    tile_run   *segs;                        /* runs of every tile of the unit */
    size_t      nsegs, segs_cap;
    size_t     *tile_first;                  /* first seg of each tile of the unit */
    cnp_change_counts counts;
    cnp_overview_part ovp;                   /* the unit's share of the quicklook */
    cnp_runs    uruns;                       /* one tile's unobserved runs */
    cnp_trace_ws *tws;
    cnp_rings   urings;
    cnp_unobserved unobs;                    /* the unit's unobserved pieces */
} worker;

/* One strip's loss runs, gathered from its units in tile order (inside the
 * ordered section, so by one thread at a time), then merged row by row. */
typedef struct strip_acc {
    tile_run   *segs;
    size_t      nsegs, segs_cap;
    size_t     *tile_first, *tile_pos;       /* ntiles + 1 */
    cnp_runs    runs;                        /* the strip's runs, scan order */
    stats_vec   stats;                       /* per run of `runs` */
    uint32_t   *label;                       /* strip-local component of each run */
    size_t      label_cap;
} strip_acc;

/* Tiles and strips are aligned to the raster's blocks, also when the window
 * starts inside one: [start, end) of tile k / strip s, clipped to the window. */
static int grid_origin(int w0, int step) { return w0 - w0 % step; }

static int ntiles_of(const detect_ctx *c)
{
    const int a = grid_origin(c->win[0], c->tile_w);
    return (c->win[0] + c->win[2] - a + c->tile_w - 1) / c->tile_w;
}

static void span_of(int w0, int wlen, int step, int k, int *start, int *len)
{
    const int a = grid_origin(w0, step);
    const int s0 = a + k * step > w0 ? a + k * step : w0;
    const int s1 = a + (k + 1) * step < w0 + wlen ? a + (k + 1) * step : w0 + wlen;
    *start = s0;
    *len = s1 - s0;
}

static void worker_free(worker *w)
{
    for (int d = 0; d < 2; d++) {
        cnp_reader_close(&w->rd[d]);
        free(w->red[d]);
        free(w->nir[d]);
        free(w->ndvi[d]);
        free(w->obs[d]);
    }
    free(w->cls);
    free(w->rowmask);
    free(w->segs);
    free(w->tile_first);
    cnp_overview_part_free(&w->ovp);
    cnp_runs_free(&w->uruns);
    cnp_trace_ws_free(w->tws);
    cnp_rings_free(&w->urings);
    unobserved_free(&w->unobs);
    memset(w, 0, sizeof *w);
}

static cnp_status worker_init(worker *w, const detect_ctx *c)
{
    const size_t n = (size_t)c->tile_w * (size_t)c->strip_h;
    const size_t ntiles = (size_t)ntiles_of(c);
    cnp_status st;

    memset(w, 0, sizeof *w);
    cnp_runs_init(&w->uruns);
    cnp_rings_init(&w->urings);
    w->tws = cnp_trace_ws_create();
    if (!w->tws)
        return cnp_err(CNP_E_NOMEM, "out of memory for tracing");
    for (int d = 0; d < 2; d++) {
        if ((st = cnp_reader_open(c->scene[d], &c->job->settings, &w->rd[d])) != CNP_OK)
            return st;
        w->dn_u16[d] = cnp_reader_dn_u16(w->rd[d]);
        w->red[d] = malloc(n * sizeof(float));
        w->nir[d] = malloc(n * sizeof(float));
        w->ndvi[d] = malloc(n * sizeof(float));
        w->obs[d] = malloc(n);
        if (!w->red[d] || !w->nir[d] || !w->ndvi[d] || !w->obs[d])
            return cnp_err(CNP_E_NOMEM, "out of memory for a %dx%d tile", c->tile_w, c->strip_h);
    }
    w->cls = malloc(n);
    w->rowmask = malloc((size_t)c->tile_w);
    w->tile_first = malloc((ntiles + 1) * sizeof *w->tile_first);
    if (!w->cls || !w->rowmask || !w->tile_first)
        return cnp_err(CNP_E_NOMEM, "out of memory for a %dx%d tile", c->tile_w, c->strip_h);
    return c->ov ? cnp_overview_part_init(&w->ovp, c->ov, c->strip_h) : CNP_OK;
}

static cnp_status segs_reserve(worker *w, size_t need)
{
    return cnp_grow((void **)&w->segs, &w->segs_cap, need, sizeof *w->segs, "loss runs");
}

/* Read and classify one tile; append its loss runs (with sums) to w->segs. */
static cnp_status process_tile(worker *w, const detect_ctx *c, int x0, int y0, int tw, int h)
{
    cnp_status st;

    /* UInt16 bands stay UInt16 (in the float buffers' memory): no conversion. */
    const uint16_t *red16[2] = { NULL, NULL }, *nir16[2] = { NULL, NULL };
    const float *red[2] = { NULL, NULL }, *nir[2] = { NULL, NULL };
    for (int d = 0; d < 2; d++) {
        if (w->dn_u16[d]) {
            uint16_t *r = (uint16_t *)w->red[d], *n = (uint16_t *)w->nir[d];
            st = cnp_reader_read_u16(w->rd[d], x0, y0, tw, h, r, n, w->obs[d]);
            red16[d] = r;
            nir16[d] = n;
        } else {
            st = cnp_reader_read(w->rd[d], x0, y0, tw, h, w->red[d], w->nir[d], w->obs[d]);
            red[d] = w->red[d];
            nir[d] = w->nir[d];
        }
        if (st != CNP_OK)
            return st;
    }

    cnp_change_tile t = {
        .width = tw, .height = h, .stride = tw,
        .red = { red[0], red[1] }, .nir = { nir[0], nir[1] },
        .red16 = { red16[0], red16[1] }, .nir16 = { nir16[0], nir16[1] },
        .observed = { w->obs[0], w->obs[1] }, .ndvi = { w->ndvi[0], w->ndvi[1] },
        .cls = w->cls,
    };
    if ((st = cnp_change_classify(&c->params, &t, &w->counts)) != CNP_OK)
        return cnp_err(st, "change classification failed");
    const cnp_dn_rows after = { red[1], nir[1], red16[1], nir16[1] };
    if (c->ov)
        cnp_overview_part_add(&w->ovp, x0, y0, tw, h, w->cls, &after, w->ndvi[1]);

    /* The tile's unobserved pixels, traced here while they are at hand. */
    cnp_runs_clear(&w->uruns);
    int64_t unobs_px = 0;
    for (int r = 0; r < h; r++) {
        const uint8_t *cls = w->cls + (size_t)r * tw;
        /* Most rows have no unobserved pixel (memchr is far cheaper than the
         * loop); skipping an empty row appends nothing, as the loop would. */
        if (!memchr(cls, CNP_CLASS_UNOBSERVED, (size_t)tw))
            continue;
        for (int x = 0; x < tw; x++) {
            w->rowmask[x] = cls[x] == CNP_CLASS_UNOBSERVED;
            unobs_px += w->rowmask[x];
        }
        if ((st = cnp_runs_append_row(&w->uruns, w->rowmask, tw, y0 + r, x0)) != CNP_OK)
            return cnp_err(st, "out of memory for the unobserved area");
    }
    if (unobs_px) {
        if ((st = cnp_trace_runs(w->uruns.run, w->uruns.n, w->tws, &w->urings)) != CNP_OK)
            return cnp_err(st, "tracing the unobserved area failed");
        if ((st = unobserved_add(&w->unobs, &w->urings, x0, y0, unobs_px)) != CNP_OK)
            return st;
    }

    for (int r = 0; r < h; r++) {
        const uint8_t *cls = w->cls + (size_t)r * tw;
        const float *nb = w->ndvi[0] + (size_t)r * tw, *na = w->ndvi[1] + (size_t)r * tw;
        for (int x = 0; x < tw;) {
            const uint8_t *next = memchr(cls + x, CNP_CLASS_LOSS, (size_t)(tw - x));
            if (!next)
                break;
            x = (int)(next - cls);
            if ((st = segs_reserve(w, w->nsegs + 1)) != CNP_OK)
                return st;
            tile_run *seg = &w->segs[w->nsegs++];
            run_stats *rs = &seg->st;
            rs->sum_dndvi = rs->sum_before = rs->sum_after = 0.0;
            rs->min_dndvi = INFINITY;
            const int xs = x;
            for (; x < tw && cls[x] == CNP_CLASS_LOSS; x++) {
                const float d = na[x] - nb[x];
                rs->sum_dndvi += d;
                rs->sum_before += nb[x];
                rs->sum_after += na[x];
                if (d < rs->min_dndvi)
                    rs->min_dndvi = d;
            }
            seg->run = (cnp_run){ y0 + r, x0 + xs, x0 + x };
        }
    }
    return CNP_OK;
}

/* Tiles [k0, k1) of strip s, one by one (each tile one block of the BEFORE
 * raster, so every block is decoded once and buffers stay tile-sized). */
static cnp_status process_unit(worker *w, const detect_ctx *c, int s, int k0, int k1)
{
    int y0, h;
    span_of(c->win[1], c->win[3], c->strip_h, s, &y0, &h);
    cnp_status st;

    memset(&w->counts, 0, sizeof w->counts);
    if (c->ov) {
        int ux0, ux1, tw;
        span_of(c->win[0], c->win[2], c->tile_w, k0, &ux0, &tw);
        span_of(c->win[0], c->win[2], c->tile_w, k1 - 1, &ux1, &tw);
        cnp_overview_part_reset(&w->ovp, ux0, ux1 + tw - ux0, y0, h);
    }
    unobserved_clear(&w->unobs);
    w->nsegs = 0;
    for (int k = k0; k < k1; k++) {
        int x0, tw;
        span_of(c->win[0], c->win[2], c->tile_w, k, &x0, &tw);
        w->tile_first[k - k0] = w->nsegs;
        if ((st = process_tile(w, c, x0, y0, tw, h)) != CNP_OK)
            return st;
    }
    w->tile_first[k1 - k0] = w->nsegs;
    return CNP_OK;
}

static void strip_acc_free(strip_acc *a)
{
    free(a->segs);
    free(a->tile_first);
    free(a->tile_pos);
    cnp_runs_free(&a->runs);
    free(a->stats.v);
    free(a->label);
    memset(a, 0, sizeof *a);
}

/* A unit's runs join its strip's, after those of the units left of it. */
static cnp_status strip_acc_add(strip_acc *a, const worker *w, int k0, int k1)
{
    if (k0 == 0)
        a->nsegs = 0;
    cnp_status st = cnp_grow((void **)&a->segs, &a->segs_cap, a->nsegs + w->nsegs,
                             sizeof *a->segs, "loss runs");
    if (st != CNP_OK)
        return st;
    if (w->nsegs)
        memcpy(a->segs + a->nsegs, w->segs, w->nsegs * sizeof *w->segs);
    for (int k = k0; k <= k1; k++)
        a->tile_first[k] = a->nsegs + w->tile_first[k - k0];
    a->nsegs += w->nsegs;
    return CNP_OK;
}

/* Row-major merge of a whole strip's tile runs; a run cut by a tile border is
 * joined back into one. The result does not depend on how tiles were grouped
 * into units. */
static cnp_status strip_acc_merge(strip_acc *a, const detect_ctx *c, int s)
{
    const int ntiles = ntiles_of(c);
    int y0, h;
    span_of(c->win[1], c->win[3], c->strip_h, s, &y0, &h);
    cnp_status st;

    cnp_runs_clear(&a->runs);
    a->stats.n = 0;
    if ((st = stats_reserve(&a->stats, a->nsegs)) != CNP_OK)
        return st;
    memcpy(a->tile_pos, a->tile_first, (size_t)(ntiles + 1) * sizeof *a->tile_pos);
    for (int y = y0; y < y0 + h; y++) {
        for (int k = 0; k < ntiles; k++) {
            for (; a->tile_pos[k] < a->tile_first[k + 1] && a->segs[a->tile_pos[k]].run.y == y;
                 a->tile_pos[k]++) {
                const tile_run *seg = &a->segs[a->tile_pos[k]];
                int extended = 0;
                if ((st = cnp_runs_push(&a->runs, y, seg->run.x0, seg->run.x1, &extended)) !=
                    CNP_OK)
                    return cnp_err(st, "out of memory for loss runs");
                if (extended) {
                    run_stats *last = &a->stats.v[a->stats.n - 1];
                    last->sum_dndvi += seg->st.sum_dndvi;
                    last->sum_before += seg->st.sum_before;
                    last->sum_after += seg->st.sum_after;
                    if (seg->st.min_dndvi < last->min_dndvi)
                        last->min_dndvi = seg->st.min_dndvi;
                } else {
                    a->stats.v[a->stats.n++] = seg->st;
                }
            }
        }
    }
    if ((st = cnp_runs_link(&a->runs, c->job->settings.connectivity)) != CNP_OK)
        return cnp_err(st, "labelling failed");
    return CNP_OK;
}

/* Memory plan: per worker, its tile buffers (float bands, 2 NDVI, 2 masks,
 * classes: 27 bytes a pixel), its share of the quicklook, what its dataset
 * handles keep (GTiff holds the last decoded block of all bands: 2 bytes a
 * band a pixel, per date), its mask window with the buffer's halo (5 bytes a
 * pixel, per date), the mask blocks its readers keep and a thread's own stack
 * and allocator arena; shared, GDAL's block cache, the quicklook and a base
 * for code, GDAL drivers and PROJ. The base and the per-thread overhead were
 * measured (peak RSS with 1 to 8 threads on a 10980² pair). Loss runs come on
 * top (16 bytes per run of loss pixels). With --max-memory the cache shrinks
 * and fewer workers run so that the plan fits.
 *
 * When both scenes are read block by block with each block decoded once
 * (cnp_scene_reads_blocks_once), GDAL's cache is kept to a tile's red and NIR
 * blocks: the readers take those blocks straight into their own buffers, and
 * kept larger, a pixel-interleaved GeoTIFF fills the cache with the bands
 * Canopy does not read, copying two of them out of every decoded block for
 * nothing. The memory is better spent elsewhere. */
static cnp_status plan_memory(const cnp_job *job, const detect_ctx *c, int *nthreads,
                              cnp_result *res)
{
    const cnp_overview *ov = c->ov;   /* NULL: no quicklook this run */
    const double mb = 1024.0 * 1024.0, base_mb = 62.0, thread_mb = 8.0;
    const cnp_scene *b = c->scene[0], *a = c->scene[1];
    const int r = b->mask_buffer_px > a->mask_buffer_px ? b->mask_buffer_px : a->mask_buffer_px;
    const int nbands = b->nbands > a->nbands ? b->nbands : a->nbands;
    const double tile = (double)c->tile_w * c->strip_h;
    const double halo = (double)(c->tile_w + 2 * r) * (c->strip_h + 2 * r);
    const double share = ov ? (double)(c->strip_h / ov->factor + 2) * ov->width * 10.0 : 0.0;
    size_t mask_blocks[2];
    const size_t once0 = cnp_scene_reads_blocks_once(b, c->tile_w, c->strip_h, &mask_blocks[0]);
    const size_t once1 = cnp_scene_reads_blocks_once(a, c->tile_w, c->strip_h, &mask_blocks[1]);
    const double per_worker = (tile * 27.0 + share + 2.0 * tile * nbands * 2.0 +
                               2.0 * halo * 5.0 + (double)(mask_blocks[0] + mask_blocks[1])) /
                              mb + thread_mb;
    /* The quicklook store (10 bytes a pixel) lives throughout; drawing it
     * (3 + 1 bytes a pixel, and two copies of at most 2 x 262144 stretch
     * samples: 4 MB) happens after the workers are gone. */
    const double overview = ov ? (double)ov->width * ov->height * 10.0 / mb : 0.0;
    const double drawing = ov ? (double)ov->width * ov->height * 4.0 / mb + 4.0 : 0.0;
    const size_t once = once0 && once1 ? (once0 > once1 ? once0 : once1) : 0;
    int cache = once ? (int)((once + mb - 1) / mb) : 32;

    if (job->max_memory_mb > 0) {
        if (!once) {
            cache = job->max_memory_mb / 8;
            if (cache > 32)
                cache = 32;
            if (cache < 8)
                cache = 8;
        }
        const double room = job->max_memory_mb - base_mb - cache - overview;
        if (ov && room < drawing)
            return cnp_err(CNP_E_DATA, "--max-memory %d MB is too small for this scene: it "
                           "needs at least %.0f MB (try --overview-size 1024)",
                           job->max_memory_mb, ceil(base_mb + cache + overview + drawing));
        const int fit = room > 0 ? (int)(room / per_worker) : 0;
        if (fit < 1)
            return cnp_err(CNP_E_DATA, "--max-memory %d MB is too small for this scene: it needs "
                           "at least %.0f MB (one %dx%d tile worker)", job->max_memory_mb,
                           ceil(base_mb + cache + overview + per_worker), c->tile_w,
                           c->strip_h);
        if (*nthreads > fit)
            *nthreads = fit;
    }
    /* A user's own GDAL_CACHEMAX stands unless --max-memory asks for a cap. */
    if (job->max_memory_mb > 0 || !getenv("GDAL_CACHEMAX"))
        GDALSetCacheMax64(once ? (GIntBig)once : (GIntBig)cache * 1024 * 1024);
    else
        cache = (int)(GDALGetCacheMax64() / (1024 * 1024));
    res->gdal_cache_mb = cache;
    const double workers = *nthreads * per_worker;
    res->memory_estimate_mb = base_mb + cache + overview + (workers > drawing ? workers : drawing);
    return CNP_OK;
}

/* Classify every strip and collect the loss runs into `all`. The work unit is
 * a column range of a strip's tiles (c->nparts per strip), so that more
 * threads than strips find work; units finish in any order and are merged in
 * order (OpenMP ordered), a strip's runs once its last unit is in. */
static cnp_status unit_merge(const detect_ctx *c, strip_acc *acc, const worker *w, int s, int p,
                             int k0, int k1, cnp_runs *all, piece_vec *pieces,
                             cnp_change_counts *counts)
{
    cnp_status st;
    if ((st = strip_acc_add(acc, w, k0, k1)) != CNP_OK ||
        (st = unobserved_append(c->unobs, &w->unobs)) != CNP_OK)
        return st;
    if (c->ov)
        cnp_overview_part_merge(c->ov, &w->ovp);
    counts->unobserved += w->counts.unobserved;
    counts->other += w->counts.other;
    counts->forest += w->counts.forest;
    counts->loss += w->counts.loss;
    if (p < c->nparts - 1)
        return CNP_OK;

    if ((st = strip_acc_merge(acc, c, s)) != CNP_OK)
        return st;
    /* The strip's runs join the scene's; their sums are folded into one piece
     * per strip-local component (numbered by first run, so in run order). */
    const size_t base = all->n, n = acc->runs.n;
    size_t ncomp = 0;
    if ((st = cnp_grow((void **)&acc->label, &acc->label_cap, n + 1, sizeof *acc->label,
                       "loss runs")) != CNP_OK)
        return st;
    if (cnp_runs_label(&acc->runs, acc->label, &ncomp) != CNP_OK)
        return cnp_err(CNP_E_ARG, "labelling failed");
    if ((st = cnp_grow((void **)&pieces->v, &pieces->cap, pieces->n + ncomp, sizeof *pieces->v,
                       "loss statistics")) != CNP_OK)
        return st;
    if (cnp_runs_concat(all, &acc->runs, c->job->settings.connectivity) != CNP_OK)
        return cnp_err(CNP_E_NOMEM, "out of memory merging loss runs");
    if (ncomp == 0)     /* no loss in the strip: pieces->v may still be NULL */
        return CNP_OK;
    comp_piece *pc = pieces->v + pieces->n;
    for (size_t k = 0; k < ncomp; k++)
        pc[k] = (comp_piece){ SIZE_MAX, { 0.0, 0.0, 0.0, INFINITY } };
    for (size_t i = 0; i < n; i++) {
        comp_piece *q = &pc[acc->label[i]];
        const run_stats *rs = &acc->stats.v[i];
        if (q->first == SIZE_MAX)
            q->first = base + i;
        q->st.sum_dndvi += rs->sum_dndvi;
        q->st.sum_before += rs->sum_before;
        q->st.sum_after += rs->sum_after;
        if (rs->min_dndvi < q->st.min_dndvi)
            q->st.min_dndvi = rs->min_dndvi;
    }
    pieces->n += ncomp;
    return CNP_OK;
}

static cnp_status detect_strips(const detect_ctx *c, int nthreads, cnp_runs *all,
                                piece_vec *pieces, cnp_change_counts *counts)
{
    cnp_status fail_st = CNP_OK;
    char fail_msg[1024] = "";
    int failed = 0;
    const int show_progress = !c->job->quiet && isatty(STDERR_FILENO);
    const int ntiles = ntiles_of(c), nunits = c->nstrips * c->nparts;
    strip_acc acc;

    memset(&acc, 0, sizeof acc);
    cnp_runs_init(&acc.runs);
    acc.tile_first = malloc(((size_t)ntiles + 1) * sizeof *acc.tile_first);
    acc.tile_pos = malloc(((size_t)ntiles + 1) * sizeof *acc.tile_pos);
    if (!acc.tile_first || !acc.tile_pos) {
        strip_acc_free(&acc);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }

    #pragma omp parallel num_threads(nthreads) default(none) \
        shared(c, all, pieces, counts, fail_st, fail_msg, failed, show_progress, acc, ntiles, \
               nunits)
    {
        /* Parallelism is across units: the kernels called by a worker must not
         * start teams of their own (with --threads 1 the outer team is inactive
         * and they would, spinning idle threads). */
        omp_set_num_threads(1);
        worker w;
        const cnp_status init_st = worker_init(&w, c);
        char init_msg[1024];
        snprintf(init_msg, sizeof init_msg, "%s", cnp_err_msg());

        #pragma omp for ordered schedule(dynamic, 1)
        for (int u = 0; u < nunits; u++) {
            const int s = u / c->nparts, p = u % c->nparts;
            const int k0 = (int)((int64_t)ntiles * p / c->nparts);
            const int k1 = (int)((int64_t)ntiles * (p + 1) / c->nparts);
            int stop;
            #pragma omp atomic read
            stop = failed;
            cnp_status st = init_st;
            if (st != CNP_OK)
                cnp_err(st, "%s", init_msg);
            else if (!stop)
                st = process_unit(&w, c, s, k0, k1);

            #pragma omp ordered
            {
                if (!failed && st == CNP_OK && !stop)
                    st = unit_merge(c, &acc, &w, s, p, k0, k1, all, pieces, counts);
                if (!failed && st != CNP_OK) {
                    fail_st = st;
                    snprintf(fail_msg, sizeof fail_msg, "%s", cnp_err_msg());
                    #pragma omp atomic write
                    failed = 1;
                }
                if (show_progress)
                    GDALTermProgress((double)(u + 1) / nunits, NULL, NULL);
            }
        }
        worker_free(&w);
    }
    strip_acc_free(&acc);
    if (failed)
        return cnp_err(fail_st, "%s", fail_msg);
    return CNP_OK;
}

/* ---- geometry --------------------------------------------------------- */

/* Pixel area in square metres at the window centre: exact for projected CRSs
 * (linear units converted), geodesic for geographic ones. */
static cnp_status pixel_area_m2(const cnp_scene *sc, const int win[4], cnp_geom_ctx *g,
                                double *out)
{
    OGRSpatialReferenceH srs = OSRNewSpatialReference(sc->wkt);
    if (!srs)
        return cnp_err(CNP_E_DATA, "cannot read the CRS of '%s'", sc->path);
    if (OSRIsProjected(srs)) {
        const double u = OSRGetLinearUnits(srs, NULL);
        *out = fabs(sc->gt[1] * sc->gt[5]) * u * u;
        OSRDestroySpatialReference(srs);
        return CNP_OK;
    }
    OSRDestroySpatialReference(srs);
    const double cx = win[0] + win[2] / 2.0, cy = win[1] + win[3] / 2.0;
    double lon[5], lat[5];
    const double px[5] = { cx, cx + 1, cx + 1, cx, cx }, py[5] = { cy, cy, cy + 1, cy + 1, cy };
    for (int i = 0; i < 5; i++) {
        lon[i] = sc->gt[0] + px[i] * sc->gt[1];
        lat[i] = sc->gt[3] + py[i] * sc->gt[5];
    }
    if (!OCTTransform(g->to_wgs84, 5, lon, lat, NULL))
        return cnp_err(CNP_E_DATA, "cannot transform '%s' to WGS84", sc->path);
    double area = 0;
    geod_polygonarea(&g->geod, lat, lon, 4, &area, NULL);
    *out = fabs(area);
    return CNP_OK;
}

static void alert_id(const cnp_settings *s, const cnp_scene *before, const cnp_scene *after,
                     double x, double y, int64_t pixels, char out[20])
{
    /* Same inputs and settings -> same id; different dates or places -> different
     * ids, so alerts from many runs can share one table. */
    char key[512];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    const int n = snprintf(key, sizeof key, "canopy-alert|%s|%s|%.3f|%.3f|%lld|%d|%.6g|%.6g",
                           before->date, after->date, x, y, (long long)pixels, s->connectivity,
                           s->forest_ndvi, s->ndvi_drop);
    EVP_Digest(key, (size_t)n, md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

typedef struct comp_acc {
    int64_t pixels;
    double  sum_dndvi, sum_before, sum_after, sum_x, sum_y;
    float   min_dndvi;
    int32_t first_x, first_y;
} comp_acc;

/* One tracing thread's buffers and its own copy of the transformation to
 * WGS84 (a transformation object must not be shared between threads). */
typedef struct trace_scratch {
    cnp_trace_ws *ws;
    cnp_rings     rings;
    cnp_run      *tmp;
    size_t        tmp_cap;
    cnp_geom_ctx  g;
} trace_scratch;

static cnp_status trace_scratch_init(trace_scratch *t, const cnp_geom_ctx *g)
{
    memset(t, 0, sizeof *t);
    cnp_rings_init(&t->rings);
    cnp_geom_init(&t->g, g->gt, OCTClone(g->to_wgs84));
    t->ws = cnp_trace_ws_create();
    if (!t->ws || !t->g.to_wgs84)
        return cnp_err(CNP_E_NOMEM, "out of memory for tracing");
    return CNP_OK;
}

static void trace_scratch_free(trace_scratch *t)
{
    cnp_rings_free(&t->rings);
    cnp_trace_ws_free(t->ws);
    free(t->tmp);
    cnp_geom_free(&t->g);
    if (t->g.to_wgs84)
        OCTDestroyCoordinateTransformation(t->g.to_wgs84);
    memset(t, 0, sizeof *t);
}

/* Trace one component (its nr runs, listed by `idx`) into alert *al. */
static cnp_status build_alert(trace_scratch *t, const cnp_settings *s, const cnp_scene *before,
                              const cnp_scene *after, const cnp_runs *runs, const uint32_t *idx,
                              size_t nr, const comp_acc *a, cnp_alert *al)
{
    cnp_status st;
    if (t->tmp_cap < nr) {
        cnp_run *p = realloc(t->tmp, nr * sizeof *p);
        if (!p)
            return cnp_err(CNP_E_NOMEM, "out of memory tracing an alert");
        t->tmp = p;
        t->tmp_cap = nr;
    }
    for (size_t k = 0; k < nr; k++)
        t->tmp[k] = runs->run[idx[k]];
    cnp_rings_clear(&t->rings);
    if ((st = cnp_trace_runs(t->tmp, nr, t->ws, &t->rings)) != CNP_OK)
        return cnp_err(st, "tracing an alert polygon failed");

    double area_m2 = 0;
    if ((st = cnp_geom_alert(&t->g, &t->rings, (OGRGeometryH *)&al->geom,
                             (OGRGeometryH *)&al->geom_wgs84, &area_m2)) != CNP_OK)
        return st;

    const double n = (double)a->pixels;
    al->pixels = a->pixels;
    al->area_ha = cnp_round_to(area_m2 / 1e4, 1e4);
    al->mean_dndvi = cnp_round_to(a->sum_dndvi / n, 1e4);
    al->min_dndvi = cnp_round_to(a->min_dndvi, 1e4);
    al->mean_ndvi_before = cnp_round_to(a->sum_before / n, 1e4);
    al->mean_ndvi_after = cnp_round_to(a->sum_after / n, 1e4);
    al->high_confidence = -(a->sum_dndvi / n) >= s->high_confidence_drop;
    const double px = a->sum_x / n, py = a->sum_y / n;
    al->centroid_x = before->gt[0] + px * before->gt[1];
    al->centroid_y = before->gt[3] + py * before->gt[5];
    double lon = al->centroid_x, lat = al->centroid_y;
    if (!OCTTransform(t->g.to_wgs84, 1, &lon, &lat, NULL))
        return cnp_err(CNP_E_DATA, "cannot transform an alert centroid to WGS84");
    al->centroid_lon = cnp_round_to(lon, 1e7);
    al->centroid_lat = cnp_round_to(lat, 1e7);
    alert_id(s, before, after, before->gt[0] + a->first_x * before->gt[1],
             before->gt[3] + a->first_y * before->gt[5], a->pixels, al->id);
    return CNP_OK;
}

static cnp_status build_alerts(const cnp_job *job, const cnp_scene *before, const cnp_scene *after,
                               const int win[4], cnp_runs *runs, const piece_vec *pieces,
                               int nthreads, cnp_result *res)
{
    const cnp_settings *s = &job->settings;
    cnp_status st = CNP_OK;
    uint32_t *label = NULL, *order = NULL;
    size_t *start = NULL, *kept = NULL, ncomp = 0;
    comp_acc *acc = NULL;
    cnp_geom_ctx g;
    OGRSpatialReferenceH scene_srs = NULL, wgs84 = NULL;

    cnp_geom_init(&g, before->gt, NULL);
    scene_srs = OSRNewSpatialReference(before->wkt);
    wgs84 = OSRNewSpatialReference(NULL);
    if (!scene_srs || !wgs84 || OSRImportFromEPSG(wgs84, 4326) != OGRERR_NONE) {
        st = cnp_err(CNP_E_DATA, "cannot set up the CRS of '%s'", before->path);
        goto done;
    }
    OSRSetAxisMappingStrategy(scene_srs, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(wgs84, OAMS_TRADITIONAL_GIS_ORDER);
    g.to_wgs84 = OCTNewCoordinateTransformation(scene_srs, wgs84);
    if (!g.to_wgs84) {
        st = cnp_err(CNP_E_DATA, "no transformation from the CRS of '%s' to WGS84", before->path);
        goto done;
    }
    if ((st = pixel_area_m2(before, win, &g, &res->pixel_area_m2)) != CNP_OK)
        goto done;
    res->min_pixels = (int64_t)ceil(s->min_area_ha * 1e4 / res->pixel_area_m2 - 1e-9);
    if (res->min_pixels < 1)
        res->min_pixels = 1;

    label = malloc((runs->n + 1) * sizeof *label);
    order = malloc((runs->n + 1) * sizeof *order);
    if (!label || !order) {
        st = cnp_err(CNP_E_NOMEM, "out of memory labelling %zu loss runs", runs->n);
        goto done;
    }
    if ((st = cnp_runs_label(runs, label, &ncomp)) != CNP_OK) {
        st = cnp_err(st, "labelling failed");
        goto done;
    }
    res->components = (int64_t)ncomp;
    acc = calloc(ncomp + 1, sizeof *acc);
    start = malloc((ncomp + 1) * sizeof *start);
    if (!acc || !start) {
        st = cnp_err(CNP_E_NOMEM, "out of memory for %zu components", ncomp);
        goto done;
    }
    for (size_t c = 0; c < ncomp; c++)
        acc[c].min_dndvi = INFINITY;
    for (size_t i = 0; i < runs->n; i++) {
        comp_acc *a = &acc[label[i]];
        const cnp_run *r = &runs->run[i];
        const int64_t n = r->x1 - r->x0;
        if (a->pixels == 0) {
            a->first_x = r->x0;
            a->first_y = r->y;
        }
        a->pixels += n;
        a->sum_x += (double)n * (r->x0 + r->x1) / 2.0;   /* pixel centres x + 0.5 */
        a->sum_y += (double)n * (r->y + 0.5);
    }
    for (size_t k = 0; k < pieces->n; k++) {
        comp_acc *a = &acc[label[pieces->v[k].first]];
        const run_stats *ps = &pieces->v[k].st;
        a->sum_dndvi += ps->sum_dndvi;
        a->sum_before += ps->sum_before;
        a->sum_after += ps->sum_after;
        if (ps->min_dndvi < a->min_dndvi)
            a->min_dndvi = ps->min_dndvi;
    }
    if ((st = cnp_runs_group(label, runs->n, ncomp, start, order)) != CNP_OK) {
        st = cnp_err(st, "grouping runs failed");
        goto done;
    }

    size_t nkeep = 0;
    for (size_t c = 0; c < ncomp; c++)
        nkeep += acc[c].pixels >= res->min_pixels;
    res->alerts = calloc(nkeep + 1, sizeof *res->alerts);
    kept = malloc((nkeep + 1) * sizeof *kept);
    if (!res->alerts || !kept) {
        st = cnp_err(CNP_E_NOMEM, "out of memory for %zu alerts", nkeep);
        goto done;
    }
    nkeep = 0;
    for (size_t c = 0; c < ncomp; c++)
        if (acc[c].pixels >= res->min_pixels)
            kept[nkeep++] = c;
    /* Alerts are traced side by side; each one's result depends on its own
     * runs only, so any thread count gives the same alerts. */
    res->nalerts = nkeep;
    int failed = 0;
    char fail_msg[1024] = "";
    #pragma omp parallel num_threads(nthreads) default(none) \
        shared(res, kept, nkeep, acc, start, order, runs, g, s, before, after, failed, fail_msg, st)
    {
        trace_scratch ts;
        cnp_status tst = trace_scratch_init(&ts, &g);
        #pragma omp for schedule(dynamic, 8)
        for (size_t k = 0; k < nkeep; k++) {
            int stop;
            #pragma omp atomic read
            stop = failed;
            if (stop)
                continue;
            if (tst == CNP_OK)
                tst = build_alert(&ts, s, before, after, runs, order + start[kept[k]],
                                  start[kept[k] + 1] - start[kept[k]], &acc[kept[k]],
                                  &res->alerts[k]);
            if (tst != CNP_OK) {
                #pragma omp critical(build_alerts_fail)
                if (!failed) {
                    st = tst;
                    snprintf(fail_msg, sizeof fail_msg, "%s", cnp_err_msg());
                    #pragma omp atomic write
                    failed = 1;
                }
            }
        }
        trace_scratch_free(&ts);
    }
    if (failed) {
        st = cnp_err(st, "%s", fail_msg);
        goto done;
    }
    for (size_t k = 0; k < nkeep; k++) {   /* in alert order: the same sum every time */
        res->loss_pixels_in_alerts += res->alerts[k].pixels;
        res->total_area_ha += res->alerts[k].area_ha;
    }

done:
    free(kept);
    free(acc);
    free(start);
    free(order);
    free(label);
    if (g.to_wgs84)
        OCTDestroyCoordinateTransformation(g.to_wgs84);
    OSRDestroySpatialReference(scene_srs);
    OSRDestroySpatialReference(wgs84);
    return st;
}

static void free_result(cnp_result *res)
{
    unobserved_free(&res->unobserved);
    for (size_t i = 0; i < res->nalerts; i++) {
        OGR_G_DestroyGeometry(res->alerts[i].geom);
        OGR_G_DestroyGeometry(res->alerts[i].geom_wgs84);
    }
    free(res->alerts);
    memset(res, 0, sizeof *res);
}

/* ---- products ---------------------------------------------------------- */

/* One of the four outputs every run writes, into the staging folder. */
static cnp_status write_one_product(int which, const cnp_staging *sg, const cnp_result *res,
                                    const cnp_scene sc[2], const cnp_evidence_ctx *ev,
                                    const cnp_overview *ov, cnp_timings *t)
{
    char path[4200];   /* staging dir + name */
    const double t0 = cnp_now_s();
    cnp_status st;

    cnp_staging_path(sg, cnp_output_file(which), path, sizeof path);
    switch (which) {
    case 0:  st = cnp_write_gpkg(path, res, &sc[0], &sc[1]);    t->gpkg = cnp_now_s() - t0;     break;
    case 1:  st = cnp_write_geojson(path, res, &sc[0], &sc[1]); t->geojson = cnp_now_s() - t0;  break;
    case 2:  st = cnp_write_csv(path, ev);                      t->csv = cnp_now_s() - t0;      break;
    default: st = cnp_write_overview(path, ov, &sc[1], res);    t->overview = cnp_now_s() - t0; break;
    }
    return st;
}

/* The four outputs (those --outputs keeps) are independent files, written
 * side by side when there are threads for it, in lanes: GeoJSON (OGR's
 * slowest writer: it formats every coordinate through a C++ stream) has one;
 * with two threads the quicklook, GeoPackage and CSV share the other, with
 * three or more the quicklook has its own too. Each file is deterministic on
 * its own, so the order they finish in changes nothing. The first failure in
 * product order is reported. */
static cnp_status write_products(const cnp_staging *sg, const cnp_result *res, const cnp_scene sc[2],
                                 const cnp_evidence_ctx *ev, const cnp_overview *ov, int nthreads,
                                 cnp_timings *t)
{
    static const int lanes[2][3][4] = {
        { { 1, -1 }, { 3, 0, 2, -1 }, { -1 } },   /* 1 or 2 threads */
        { { 1, -1 }, { 3, -1 }, { 0, 2, -1 } },   /* 3 or more      */
    };
    const int (*lane)[4] = lanes[nthreads >= 3];
    const int nlanes = nthreads >= 3 ? 3 : 2;
    cnp_status st[4] = { CNP_OK, CNP_OK, CNP_OK, CNP_OK };
    char msg[4][1024] = { "", "", "", "" };

    #pragma omp parallel for schedule(static, 1) num_threads(nthreads < nlanes ? nthreads : nlanes) \
        default(none) shared(sg, res, sc, ev, ov, t, st, msg, lane, nlanes)
    for (int l = 0; l < nlanes; l++) {
        for (int i = 0; lane[l][i] >= 0; i++) {
            const int k = lane[l][i];
            if (sg->skip & (1u << k))
                continue;
            st[k] = write_one_product(k, sg, res, sc, ev, ov, t);
            if (st[k] != CNP_OK) {
                snprintf(msg[k], sizeof msg[k], "%s", cnp_err_msg());
                break;
            }
        }
    }
    for (int k = 0; k < 4; k++)
        if (st[k] != CNP_OK)
            return cnp_err(st[k], "%s", msg[k]);
    return CNP_OK;
}

/* ---- the command -------------------------------------------------------- */

cnp_status cnp_detect_run(const cnp_job *job)
{
    const cnp_settings *s = &job->settings;
    cnp_scene sc[2];
    cnp_runs runs;
    piece_vec pieces = { 0 };
    cnp_result res;
    cnp_overview ov;
    cnp_staging sg;
    cnp_inputs hj;
    int hashing = 0, staged = 0, win[4] = { 0 };
    cnp_timings t = { 0 };
    char started[32], path[4200], run_id[65] = "";
    cnp_evidence_ctx ev;
    cnp_status st;
    double t0 = cnp_now_s();

    if ((st = cnp_outputs_check(job->skip_outputs, job->no_evidence)) != CNP_OK)
        return st;
    memset(sc, 0, sizeof sc);
    memset(&res, 0, sizeof res);
    memset(&ov, 0, sizeof ov);
    memset(&ev, 0, sizeof ev);
    cnp_runs_init(&runs);
    cnp_utc_now(started);

    if ((st = cnp_scene_open(&sc[0], "BEFORE", job->before, job->before_mask, s,
                             s->date_before)) != CNP_OK ||
        (st = cnp_scene_open(&sc[1], "AFTER", job->after, job->after_mask, s,
                             s->date_after)) != CNP_OK ||
        (st = cnp_scene_align(&sc[1], &sc[0], win)) != CNP_OK)
        goto done;

    /* Hash the inputs (and the files of products) on threads of their own
     * while the scenes are processed. */
    cnp_inputs_init(&hj, job, sc);
    if (hj.enabled) {
        if ((st = cnp_inputs_start(&hj, s->threads > 0 ? s->threads : omp_get_num_procs())) != CNP_OK)
            goto done;
        hashing = 1;
    }

    const int quicklook = !(job->skip_outputs & CNP_OUT_OVERVIEW);
    detect_ctx c = { .job = job, .scene = { &sc[0], &sc[1] }, .ov = quicklook ? &ov : NULL,
                     .unobs = &res.unobserved };
    res.grid_width = sc[0].width;
    res.grid_height = sc[0].height;
    memcpy(res.window, win, sizeof win);
    memcpy(c.win, win, sizeof win);
    /* Strips follow the BEFORE raster's block rows so each block is decoded once. */
    c.strip_h = sc[0].block_h > 0 ? sc[0].block_h : 256;
    if (c.strip_h > 1024)
        c.strip_h = 1024;
    if ((int64_t)c.strip_h * win[2] < 65536)
        c.strip_h = (int)((65536 + win[2] - 1) / win[2]);
    c.nstrips = (win[1] + win[3] - grid_origin(win[1], c.strip_h) + c.strip_h - 1) / c.strip_h;
    /* Tiles follow the BEFORE raster's blocks; a striped raster is read whole-row. */
    c.tile_w = sc[0].block_w > 0 && sc[0].block_w < win[2] ? sc[0].block_w : win[2];
    if (c.tile_w < 64 && c.tile_w < win[2])
        c.tile_w = win[2] < 256 ? win[2] : 256;
    c.params.date[0] = sc[0].radiometry;
    c.params.date[1] = sc[1].radiometry;
    c.params.forest_ndvi = s->forest_ndvi;
    c.params.ndvi_drop = s->ndvi_drop;
    if (quicklook && (st = cnp_overview_init(&ov, win, s->overview_size)) != CNP_OK)
        goto done;

    int nthreads = s->threads > 0 ? s->threads : omp_get_num_procs();
    const int ntiles = ntiles_of(&c);
    if ((int64_t)nthreads > (int64_t)c.nstrips * ntiles)
        nthreads = c.nstrips * ntiles;
    if ((st = plan_memory(job, &c, &nthreads, &res)) != CNP_OK)
        goto done;
    /* Enough units for every thread to stay busy to the end (about three per
     * thread), never finer than one tile. Any split gives the same outputs. */
    c.nparts = (3 * nthreads + c.nstrips - 1) / c.nstrips;
    if (c.nparts > ntiles)
        c.nparts = ntiles;
    if (c.nparts < 1 || nthreads == 1)
        c.nparts = 1;
    res.threads = nthreads;
    res.strip_height = c.strip_h;
    res.tile_width = c.tile_w;
    t.open = cnp_now_s() - t0;

    t0 = cnp_now_s();
    cnp_change_counts counts = { 0 };
    if ((st = detect_strips(&c, nthreads, &runs, &pieces, &counts)) != CNP_OK)
        goto done;
    res.loss_pixels = counts.loss;
    res.unobserved_pixels = counts.unobserved + (int64_t)sc[0].width * sc[0].height
                            - (int64_t)win[2] * win[3];
    res.observed_pixels = counts.other + counts.forest + counts.loss;
    res.forest_pixels = counts.forest + counts.loss;
    res.window_pixels = (int64_t)win[2] * win[3];
    t.detect = cnp_now_s() - t0;
    if (res.observed_pixels == 0) {
        st = cnp_err(CNP_E_DATA, "no pixel is observed in both scenes (all nodata, masked or "
                     "invalid): nothing can be compared");
        goto done;
    }

    t0 = cnp_now_s();
    if ((st = build_alerts(job, &sc[0], &sc[1], win, &runs, &pieces, nthreads, &res)) != CNP_OK)
        goto done;
    t.polygons = cnp_now_s() - t0;

    t0 = cnp_now_s();
    if (hashing) {
        cnp_inputs_finish(&hj);
        hashing = 0;
        if (hj.st != CNP_OK) {
            st = cnp_err(hj.st, "%s", hj.msg);
            goto done;
        }
    }
    t.hash_wait = cnp_now_s() - t0;
    cnp_inputs_run_id(&hj, job, run_id);

    t0 = cnp_now_s();
    if ((st = cnp_staging_open(&sg, job->outdir, !job->no_evidence, job->skip_outputs)) != CNP_OK)
        goto done;
    staged = 1;
    /* GeoPackage stamps the current time into gpkg_contents; pin it so that the
     * same inputs give the same file. */
    char stamp[40];
    snprintf(stamp, sizeof stamp, "%sT00:00:00Z", sc[1].date[0] ? sc[1].date : "2000-01-01");
    CPLSetConfigOption("OGR_CURRENT_DATE", stamp);
    ev.settings = &job->settings;
    ev.config_path = job->config_path;
    ev.user_masks = job->before_mask || job->after_mask;
    ev.scene[0] = &sc[0];
    ev.scene[1] = &sc[1];
    ev.res = &res;
    ev.run_id = run_id;
    ev.program_version = cnp_version;
    ev.max_chips = job->max_chips;
    ev.has_chip = calloc(res.nalerts + 1, 1);
    if (!ev.has_chip) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
        goto done;
    }
    if ((st = write_products(&sg, &res, sc, &ev, &ov, nthreads, &t)) != CNP_OK)
        goto done;
    t.write = cnp_now_s() - t0;

    t0 = cnp_now_s();
    if (!job->no_evidence) {
        cnp_staging_path(&sg, "evidence", path, sizeof path);
        if (mkdir(path, 0777) != 0) {
            st = cnp_err(CNP_E_IO, "cannot create '%s': %s", path, strerror(errno));
            goto done;
        }
        if ((st = cnp_evidence_chips(sg.dir, &ev)) != CNP_OK)
            goto done;
        cnp_staging_path(&sg, "alerts.kmz", path, sizeof path);
        if ((st = cnp_write_kmz(path, sg.dir, &ev)) != CNP_OK)
            goto done;
        cnp_staging_path(&sg, "report.html", path, sizeof path);
        if ((st = cnp_write_report(path, &ev)) != CNP_OK)
            goto done;
    }
    t.evidence = cnp_now_s() - t0;

    cnp_staging_path(&sg, "run.json", path, sizeof path);
    if ((st = cnp_write_run_json(path, job, sc, win, &res, &t, started, &hj, run_id, &sg, &ev)) !=
        CNP_OK)
        goto done;
    if ((st = cnp_staging_commit(&sg, job->outdir)) != CNP_OK)
        goto done;
    staged = 0;

    if (!job->quiet)
        printf("canopy: %zu alert%s, %.2f ha (%lld loss pixels, %.1f%% of the window "
               "unobserved) -> %s/\n",
               res.nalerts, res.nalerts == 1 ? "" : "s", res.total_area_ha,
               (long long)res.loss_pixels,
               100.0 * (double)res.unobserved_pixels / (double)res.window_pixels, job->outdir);

done:
    if (hashing)
        cnp_inputs_finish(&hj);
    CPLSetConfigOption("OGR_CURRENT_DATE", NULL);
    if (staged)
        cnp_staging_abort(&sg, job->outdir);
    free(ev.has_chip);
    free_result(&res);
    cnp_overview_free(&ov);
    free(pieces.v);
    cnp_runs_free(&runs);
    cnp_scene_free(&sc[0]);
    cnp_scene_free(&sc[1]);
    return st;
}
