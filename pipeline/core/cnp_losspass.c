/* pipeline/core/cnp_losspass.c - detect's pass: classify, keep the loss as
 * runs, trace the unobserved area, sample the quicklook. */
#include "cnp_losspass.h"
#include "cnp_losspass_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_coreg_scene.h"
#include "cnp_corrections.h"
#include "cnp_err.h"
#include "cnp_gdal.h"
#include "cnp_haze.h"
#include "cnp_norm.h"
#include "cnp_spill.h"
#include "cnp_swir.h"
#include "cnp_trace.h"

/* ---- unobserved pieces ---------------------------------------------------- */

static cnp_status grow(void **p, size_t *cap, size_t need, size_t elem)
{
    return cnp_grow(p, cap, need, elem, "the unobserved area");
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
    u->piece[u->npiece++] = (cnp_unobserved_piece){ tx, ty, pixels, 0.0, u->nring, rings->n };
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

struct strip_acc {
    tile_run      *segs;
    size_t         nsegs, segs_cap;
    cnp_run       *usegs;                    /* unobserved runs, tile by tile */
    size_t         nusegs, usegs_cap;
    size_t        *utile_first;              /* ntiles + 1 */
    size_t        *tile_first, *tile_pos;    /* ntiles + 1 */
    cnp_runs       runs;                     /* the strip's runs, scan order */
    cnp_loss_sums *stats;                    /* per run of `runs` */
    size_t         nstats, stats_cap;
    uint32_t      *label;                    /* strip-local component of each run */
    size_t         label_cap;
};

static void worker_free(void *ctx, void *wp)
{
    (void)ctx;
    worker *w = wp;
    for (int d = 0; d < 2; d++) {
        cnp_reader_close(&w->rd[d]);
        free(w->red[d]);
        free(w->nir[d]);
        free(w->ndvi[d]);
        free(w->obs[d]);
    }
    for (int k = 0; k < CNP_BASELINE_MAX; k++) {
        cnp_reader_close(&w->rdb[k]);
        free(w->bndvi[k]);
        free(w->bnbr[k]);
    }
    free(w->ref);
    free(w->ref_nbr);
    free(w->nobs);
    free(w->cls);
    free(w->dndvi);
    free(w->swir[0]);
    free(w->swir[1]);
    free(w->dnbr);
    free(w->sig);
    free(w->bdn);
    free(w->bdn16);
    free(w->hflags);
    free(w->hh);
    cnp_norm_grid_free(&w->ng);
    free(w->rowmask);
    free(w->segs);
    free(w->tile_first);
    free(w->useg);
    free(w->utile_first);
    cnp_overview_part_free(&w->ovp);
    cnp_runs_free(&w->uruns);
    cnp_trace_ws_free(w->tws);
    cnp_rings_free(&w->urings);
    cnp_unobserved_free(&w->unobs);
    cnp_ctxmask_reader_close(&w->ctxr);
    memset(w, 0, sizeof *w);
}

static cnp_status worker_init(void *ctx, void *wp)
{
    const cnp_loss_pass *c = ctx;
    worker *w = wp;
    const int tile_w = c->tiling.tile_w, strip_h = c->tiling.strip_h;
    const size_t n = (size_t)tile_w * (size_t)strip_h;
    const size_t ntiles = (size_t)c->tiling.ntiles;
    cnp_status st;

    cnp_runs_init(&w->uruns);
    cnp_rings_init(&w->urings);
    w->tws = cnp_trace_ws_create();
    if (!w->tws)
        return cnp_err(CNP_E_NOMEM, "out of memory for tracing");
    for (int d = 0; d < 2; d++) {
        if ((st = cnp_reader_open(c->scene[d], c->settings, &w->rd[d])) != CNP_OK)
            return st;
        w->dn_u16[d] = cnp_reader_dn_u16(w->rd[d]);
        w->red[d] = malloc(n * sizeof(float));
        w->nir[d] = malloc(n * sizeof(float));
        w->ndvi[d] = malloc(n * sizeof(float));
        w->obs[d] = malloc(n);
        if (!w->red[d] || !w->nir[d] || !w->ndvi[d] || !w->obs[d])
            return cnp_err(CNP_E_NOMEM, "out of memory for a %dx%d tile", tile_w, strip_h);
    }
    for (int k = 0; k < c->nbaseline; k++) {
        if ((st = cnp_reader_open(&c->baseline[k], c->settings, &w->rdb[k])) != CNP_OK)
            return st;
        w->bdn_u16[k] = cnp_reader_dn_u16(w->rdb[k]);
        if (!(w->bndvi[k] = malloc(n * sizeof(float))))
            return cnp_err(CNP_E_NOMEM, "out of memory for a %dx%d tile", tile_w, strip_h);
    }
    if (c->nbaseline) {
        w->ref = malloc(n * sizeof(float));
        w->nobs = malloc(n);
        if (!w->ref || !w->nobs)
            return cnp_err(CNP_E_NOMEM, "out of memory for a %dx%d tile", tile_w, strip_h);
    }
    for (int k = 0; c->swir && k < c->nbaseline; k++)
        if (!(w->bnbr[k] = malloc(n * sizeof(float))))
            return cnp_err(CNP_E_NOMEM, "out of memory for a %dx%d tile", tile_w, strip_h);
    if (c->swir && c->nbaseline && !(w->ref_nbr = malloc(n * sizeof(float))))
        return cnp_err(CNP_E_NOMEM, "out of memory for a %dx%d tile", tile_w, strip_h);
    w->cls = malloc(n);
    w->dndvi = malloc(n * sizeof(float));
    if (c->haze) {
        w->bdn = malloc(n * sizeof(float));
        w->bdn16 = malloc(n * sizeof(uint16_t));
        w->hflags = malloc(n);
        w->hh = calloc(1, sizeof *w->hh);
        if (!w->bdn || !w->bdn16 || !w->hflags || !w->hh)
            return cnp_err(CNP_E_NOMEM, "out of memory for a %dx%d tile", tile_w, strip_h);
    }
    if (c->swir) {
        w->swir[0] = malloc(n * sizeof(float));
        w->swir[1] = malloc(n * sizeof(float));
        w->dnbr = malloc(n * sizeof(float));
        w->sig = malloc(n);
        if (!w->swir[0] || !w->swir[1] || !w->dnbr || !w->sig)
            return cnp_err(CNP_E_NOMEM, "out of memory for a %dx%d tile", tile_w, strip_h);
    }
    if (c->ctxmask && (st = cnp_ctxmask_reader_open(c->ctxmask, n, &w->ctxr)) != CNP_OK)
        return st;
    w->rowmask = malloc((size_t)tile_w);
    w->tile_first = malloc((ntiles + 1) * sizeof *w->tile_first);
    w->utile_first = malloc((ntiles + 1) * sizeof *w->utile_first);
    if (!w->cls || !w->dndvi || !w->rowmask || !w->tile_first || !w->utile_first)
        return cnp_err(CNP_E_NOMEM, "out of memory for a %dx%d tile", tile_w, strip_h);
    return c->ov ? cnp_overview_part_init(&w->ovp, c->ov, strip_h) : CNP_OK;
}

static cnp_status segs_reserve(worker *w, size_t need)
{
    return cnp_grow((void **)&w->segs, &w->segs_cap, need, sizeof *w->segs, "loss runs");
}

/* Read both dates of one tile and classify it on the raw dNDVI; *after gets
 * AFTER's bands for the quicklook. */
cnp_status cnp_lp_read_classify(worker *w, const cnp_loss_pass *c, int x0, int y0, int tw, int h,
                                cnp_dn_rows *after)
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
    *after = (cnp_dn_rows){ red[1], nir[1], red16[1], nir16[1] };
    return CNP_OK;
}

/* What a classified tile leaves: its share of the quicklook, its unobserved
 * pixels traced, its loss runs with their sums (of `dndvi` when given, the
 * normalised change; else of NDVI after - before) appended to w->segs. */
cnp_status cnp_lp_tile_results(worker *w, const cnp_loss_pass *c, int x0, int y0, int tw, int h,
                               const cnp_dn_rows *after, const float *dndvi)
{
    cnp_status st;
    /* External forest and exclusion masks: the final classes, whichever way
     * they were decided (one pass or two halves). */
    if (w->ctxr && (st = cnp_ctxmask_restrict(w->ctxr, x0, y0, tw, h, w->cls, &w->counts)) != CNP_OK)
        return st;
    if (c->ov)
        cnp_overview_part_add(&w->ovp, x0, y0, tw, h, w->cls, after, w->ndvi[1]);

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
        /* Kept as runs too: the gaps between loss pieces are found on them. */
        if ((st = cnp_grow((void **)&w->useg, &w->useg_cap, w->nuseg + w->uruns.n,
                           sizeof *w->useg, "the unobserved area")) != CNP_OK)
            return st;
        memcpy(w->useg + w->nuseg, w->uruns.run, w->uruns.n * sizeof *w->useg);
        w->nuseg += w->uruns.n;
        if ((st = cnp_trace_runs(w->uruns.run, w->uruns.n, w->tws, &w->urings)) != CNP_OK)
            return cnp_err(st, "tracing the unobserved area failed");
        if ((st = unobserved_add(&w->unobs, &w->urings, x0, y0, unobs_px)) != CNP_OK)
            return st;
    }

    for (int r = 0; r < h; r++) {
        const uint8_t *cls = w->cls + (size_t)r * tw;
        const float *nb = w->ndvi[0] + (size_t)r * tw, *na = w->ndvi[1] + (size_t)r * tw;
        const float *dd = dndvi ? dndvi + (size_t)r * tw : NULL;
        /* The second index's signals, in the second half with SWIR. */
        const uint8_t *sg = c->swir && c->stage == 2 ? w->sig + (size_t)r * tw : NULL;
        const float *db = sg ? w->dnbr + (size_t)r * tw : NULL;
        const uint8_t *ob = c->nbaseline && c->stage == 2 ? w->nobs + (size_t)r * tw : NULL;
        for (int x = 0; x < tw;) {
            const uint8_t *next = memchr(cls + x, CNP_CLASS_LOSS, (size_t)(tw - x));
            if (!next)
                break;
            x = (int)(next - cls);
            if ((st = segs_reserve(w, w->nsegs + 1)) != CNP_OK)
                return st;
            tile_run *seg = &w->segs[w->nsegs++];
            cnp_loss_sums *rs = &seg->st;
            *rs = (cnp_loss_sums){ 0.0, 0.0, 0.0, INFINITY, 0.0, 0, 0, 0 };
            const int xs = x;
            for (; x < tw && cls[x] == CNP_CLASS_LOSS; x++) {
                const float d = dndvi ? dd[x] : na[x] - nb[x];
                rs->sum_obs += ob ? ob[x] : 1;
                rs->sum_dndvi += d;
                rs->sum_before += nb[x];
                rs->sum_after += na[x];
                if (d < rs->min_dndvi)
                    rs->min_dndvi = d;
                if (sg) {
                    const float b = db[x];
                    if (b == b) {
                        rs->sum_dnbr += b;
                        rs->n_dnbr++;
                    }
                    rs->n_agree += (sg[x] & (CNP_SIG_NDVI | CNP_SIG_NBR)) ==
                                   (CNP_SIG_NDVI | CNP_SIG_NBR);
                }
            }
            seg->run = (cnp_run){ y0 + r, x0 + xs, x0 + x };
        }
    }
    return CNP_OK;
}

/* Single pass: read, classify, keep. */
static cnp_status tile_single(worker *w, const cnp_loss_pass *c, int x0, int y0, int tw, int h)
{
    cnp_dn_rows after;
    cnp_status st = cnp_lp_read_classify(w, c, x0, y0, tw, h, &after);
    return st != CNP_OK ? st : cnp_lp_tile_results(w, c, x0, y0, tw, h, &after, NULL);
}

/* Tiles [k0, k1) of the unit's strip, one by one (each tile one block of the
 * BEFORE raster, so every block is decoded once and buffers stay tile-sized). */
static cnp_status process_unit(void *ctx, void *wp, const cnp_unit *u)
{
    const cnp_loss_pass *c = ctx;
    worker *w = wp;
    cnp_status st;

    memset(&w->counts, 0, sizeof w->counts);
    w->swir_led = 0;
    w->baseline_px = w->fallback_px = 0;
    w->hazy = 0;
    if (w->hh)
        memset(w->hh, 0, sizeof *w->hh);
    if (c->stage == 1 && c->settings->normalize != CNP_NORMALIZE_OFF) {
        /* The normalisation grid of the cell rows this unit touches. */
        const int64_t cell = c->norm.cell_px, ry = u->y0 - c->tiling.win[1];
        if ((st = cnp_norm_grid_create(&c->norm, c->tiling.win[2], c->tiling.win[3], ry / cell,
                                       (ry + u->h - 1) / cell + 1, &w->ng)) != CNP_OK)
            return cnp_err(st, "out of memory for the normalisation");
    }
    if (c->ov && c->stage != 1)
        cnp_overview_part_reset(&w->ovp, u->x0, u->w, u->y0, u->h);
    unobserved_clear(&w->unobs);
    w->nsegs = w->nuseg = 0;
    for (int k = u->k0; k < u->k1; k++) {
        int x0, tw;
        cnp_tiling_tile(&c->tiling, k, &x0, &tw);
        w->tile_first[k - u->k0] = w->nsegs;
        w->utile_first[k - u->k0] = w->nuseg;
        st = c->stage == 0 ? tile_single(w, c, x0, u->y0, tw, u->h)
           : c->stage == 1 ? cnp_lp_first_half(w, c, u->strip, k, x0, u->y0, tw, u->h)
                           : cnp_lp_second_half(w, c, u->strip, k, x0, u->y0, tw, u->h);
        if (st != CNP_OK)
            return st;
    }
    w->tile_first[u->k1 - u->k0] = w->nsegs;
    w->utile_first[u->k1 - u->k0] = w->nuseg;
    return CNP_OK;
}

static void strip_acc_free(struct strip_acc *a)
{
    if (!a)
        return;
    free(a->segs);
    free(a->tile_first);
    free(a->usegs);
    free(a->utile_first);
    free(a->tile_pos);
    cnp_runs_free(&a->runs);
    free(a->stats);
    free(a->label);
    free(a);
}

/* A unit's runs join its strip's, after those of the units left of it. */
static cnp_status strip_acc_add(struct strip_acc *a, const worker *w, int k0, int k1)
{
    if (k0 == 0)
        a->nsegs = a->nusegs = 0;
    cnp_status st = cnp_grow((void **)&a->segs, &a->segs_cap, a->nsegs + w->nsegs,
                             sizeof *a->segs, "loss runs");
    if (st == CNP_OK)
        st = cnp_grow((void **)&a->usegs, &a->usegs_cap, a->nusegs + w->nuseg,
                      sizeof *a->usegs, "the unobserved area");
    if (st != CNP_OK)
        return st;
    if (w->nsegs)
        memcpy(a->segs + a->nsegs, w->segs, w->nsegs * sizeof *w->segs);
    if (w->nuseg)
        memcpy(a->usegs + a->nusegs, w->useg, w->nuseg * sizeof *w->useg);
    for (int k = k0; k <= k1; k++) {
        a->tile_first[k] = a->nsegs + w->tile_first[k - k0];
        a->utile_first[k] = a->nusegs + w->utile_first[k - k0];
    }
    a->nsegs += w->nsegs;
    a->nusegs += w->nuseg;
    return CNP_OK;
}

/* A tile run joins the strip's: its sums extend the strip's last run's or
 * start a new one's. */
static cnp_status fold_sums(void *arg, size_t i, int extended)
{
    struct strip_acc *a = arg;
    const cnp_loss_sums *s = &a->segs[i].st;
    if (extended) {
        cnp_loss_sums *last = &a->stats[a->nstats - 1];
        last->sum_dndvi += s->sum_dndvi;
        last->sum_before += s->sum_before;
        last->sum_after += s->sum_after;
        if (s->min_dndvi < last->min_dndvi)
            last->min_dndvi = s->min_dndvi;
        last->sum_dnbr += s->sum_dnbr;
        last->n_dnbr += s->n_dnbr;
        last->n_agree += s->n_agree;
        last->sum_obs += s->sum_obs;
    } else {
        a->stats[a->nstats++] = *s;
    }
    return CNP_OK;
}

/* Row-major merge of a whole strip's tile runs; a run cut by a tile border is
 * joined back into one. The result does not depend on how tiles were grouped
 * into units. */
static cnp_status strip_acc_merge(struct strip_acc *a, const cnp_loss_pass *c, int y0, int h)
{
    cnp_status st;

    cnp_runs_clear(&a->runs);
    a->nstats = 0;
    if ((st = cnp_grow((void **)&a->stats, &a->stats_cap, a->nsegs, sizeof *a->stats,
                       "loss statistics")) != CNP_OK)
        return st;
    st = cnp_runs_merge_tiles(&a->runs, a->segs, sizeof *a->segs, a->tile_first,
                              c->tiling.ntiles, y0, h, a->tile_pos, fold_sums, a);
    if (st != CNP_OK)
        return cnp_err(st, "out of memory for loss runs");
    if ((st = cnp_runs_link(&a->runs, c->settings->connectivity)) != CNP_OK)
        return cnp_err(st, "labelling failed");
    return CNP_OK;
}

/* The strip's unobserved runs, joined across tile borders, after the
 * scene's (they need no labels). */
static cnp_status strip_acc_unobserved(struct strip_acc *a, cnp_loss_pass *c, int y0, int h)
{
    const cnp_status st = cnp_runs_merge_tiles(&c->unobserved_runs, a->usegs, sizeof *a->usegs,
                                               a->utile_first, c->tiling.ntiles, y0, h,
                                               a->tile_pos, NULL, NULL);
    return st == CNP_OK ? CNP_OK : cnp_err(st, "out of memory for the unobserved area");
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
/* The normalisation's scene grid: a histogram per cell (2 bytes a bin) and
 * its counters, held from the first half to the corrections. */
static double norm_grid_mb(const cnp_loss_pass *lp)
{
    cnp_norm_params p;
    if (lp->settings->normalize == CNP_NORMALIZE_OFF || cnp_lp_norm_params(lp, &p) != CNP_OK)
        return 0.0;
    const double ncx = ceil((double)lp->tiling.win[2] / p.cell_px);
    const double ncy = ceil((double)lp->tiling.win[3] / p.cell_px);
    return ncx * ncy * (p.nbins * 2.0 + 16.0) / (1024.0 * 1024.0);
}

cnp_status cnp_loss_pass_plan(cnp_loss_pass *lp, int max_memory_mb, int *nthreads,
                              double *planned_mb, int *cache_mb)
{
    const cnp_loss_pass *c = lp;
    const cnp_overview *ov = c->ov;   /* NULL: no quicklook this run */
    const double mb = 1024.0 * 1024.0, base_mb = 62.0, thread_mb = 8.0;
    const cnp_scene *b = c->scene[0], *a = c->scene[1];
    const int tile_w = c->tiling.tile_w, strip_h = c->tiling.strip_h;
    const int r = b->mask_buffer_px > a->mask_buffer_px ? b->mask_buffer_px : a->mask_buffer_px;
    const int nbands = b->nbands > a->nbands ? b->nbands : a->nbands;
    const double tile = (double)tile_w * strip_h;
    const double halo = (double)(tile_w + 2 * r) * (strip_h + 2 * r);
    const double share = ov ? (double)(strip_h / ov->factor + 2) * ov->width * 10.0 : 0.0;
    size_t mask_blocks[2];
    const size_t once0 = cnp_scene_reads_blocks_once(b, tile_w, strip_h, &mask_blocks[0]);
    const size_t once1 = cnp_scene_reads_blocks_once(a, tile_w, strip_h, &mask_blocks[1]);
    /* A baseline: its NDVI plane, its reader's mask window and block; the
     * median and the observation counts. */
    const double baselines = c->nbaseline ? c->nbaseline * (4.0 * tile + halo * 5.0 + tile * 2.0) +
                                            5.0 * tile : 0.0;
    /* With SWIR2 also their NBR planes and its median. */
    const double baseline_nbr = c->nbaseline && c->swir ? (c->nbaseline + 1) * 4.0 * tile : 0.0;
    const double per_worker = (tile * (31.0 + (c->swir ? 12.0 : 0.0) + (c->haze ? 7.0 : 0.0)) +
                               baseline_nbr +
                               baselines +
                               share + 2.0 * tile * nbands * 2.0 +
                               2.0 * halo * 5.0 + (double)(mask_blocks[0] + mask_blocks[1])) /
                              mb + thread_mb;
    /* The quicklook store (10 bytes a pixel) lives throughout; drawing it
     * (3 + 1 bytes a pixel, and two copies of at most 2 x 262144 stretch
     * samples: 4 MB) happens after the workers are gone. */
    const double overview = (ov ? (double)ov->width * ov->height * 10.0 / mb : 0.0) +
                            norm_grid_mb(lp);
    const double drawing = ov ? (double)ov->width * ov->height * 4.0 / mb + 4.0 : 0.0;
    const size_t once = once0 && once1 ? (once0 > once1 ? once0 : once1) : 0;
    int cache = once ? (int)((once + mb - 1) / mb) : 32;

    if (max_memory_mb > 0) {
        if (!once) {
            cache = max_memory_mb / 8;
            if (cache > 32)
                cache = 32;
            if (cache < 8)
                cache = 8;
        }
        const double room = max_memory_mb - base_mb - cache - overview;
        if (ov && room < drawing)
            return cnp_err(CNP_E_DATA, "--max-memory %d MB is too small for this scene: it "
                           "needs at least %.0f MB (try --overview-size 1024)",
                           max_memory_mb, ceil(base_mb + cache + overview + drawing));
        /* The loss runs found during the pass need room beside the workers. */
        const double runs_reserve = 8.0;
        const int fit = room > runs_reserve ? (int)((room - runs_reserve) / per_worker) : 0;
        if (fit < 1)
            return cnp_err(CNP_E_DATA, "--max-memory %d MB is too small for this scene: it needs "
                           "at least %.0f MB (one %dx%d tile worker)", max_memory_mb,
                           ceil(base_mb + cache + overview + per_worker + runs_reserve), tile_w,
                           strip_h);
        if (*nthreads > fit)
            *nthreads = fit;
    }
    if (a->shifted && max_memory_mb <= 0)
        cache = cnp_coreg_cache_mb(a, strip_h, *nthreads, cache);
    /* A user's own GDAL_CACHEMAX stands unless --max-memory asks for a cap. */
    if (max_memory_mb > 0 || !cnp_gdal_cache_user_set())
        cnp_gdal_cache_set(once ? (int64_t)once : (int64_t)cache * 1024 * 1024);
    else
        cache = (int)(cnp_gdal_cache_get() / (1024 * 1024));
    *cache_mb = cache;
    const double workers = *nthreads * per_worker;
    *planned_mb = base_mb + cache + overview + (workers > drawing ? workers : drawing);
    if (max_memory_mb > 0) {
        const double fixed = base_mb + cache + overview;
        const double during = max_memory_mb - fixed - workers, after = max_memory_mb - fixed - drawing;
        lp->runs_budget = during > 1 ? (size_t)(during * mb) : 1;
        lp->after_budget = after > 1 ? (size_t)(after * mb) : 1;
    }
    cnp_tiling_plan_units(&lp->tiling, *nthreads);
    return CNP_OK;
}

/* A unit's results join the scene's, in unit order; a strip's runs once its
 * last unit is in. */
static cnp_status merge_unit(void *ctx, void *wp, const cnp_unit *u)
{
    cnp_loss_pass *c = ctx;
    worker *w = wp;
    struct strip_acc *acc = c->acc;
    cnp_status st;
    if (c->stage == 1) {
        c->baseline_px += w->baseline_px;
        c->fallback_px += w->fallback_px;
        if (w->hh && (st = cnp_haze_hist_merge(&c->haze_hist, w->hh)) != CNP_OK)
            return cnp_err(st, "haze: merging the clear line's counts failed");
        if (!w->ng)
            return CNP_OK;
        /* Integer counts: the grid is the same whatever the merge order. */
        st = cnp_norm_merge(c->norm_grid, w->ng);
        cnp_norm_grid_free(&w->ng);
        return st == CNP_OK ? CNP_OK : cnp_err(st, "merging the normalisation grid failed");
    }
    if ((st = strip_acc_add(acc, w, u->k0, u->k1)) != CNP_OK ||
        (st = unobserved_append(&c->unobserved, &w->unobs)) != CNP_OK)
        return st;
    if (c->ov)
        cnp_overview_part_merge(c->ov, &w->ovp);
    c->counts.unobserved += w->counts.unobserved;
    c->counts.other += w->counts.other;
    c->counts.forest += w->counts.forest;
    c->counts.loss += w->counts.loss;
    c->swir_led_pixels += w->swir_led;
    c->hazy_pixels += w->hazy;
    if (u->part < c->tiling.nparts - 1)
        return CNP_OK;

    if ((st = strip_acc_merge(acc, c, u->y0, u->h)) != CNP_OK ||
        (st = strip_acc_unobserved(acc, c, u->y0, u->h)) != CNP_OK)
        return st;
    /* The strip's runs join the scene's; their sums are folded into one piece
     * per strip-local component (numbered by first run, so in run order). */
    const size_t base = c->runs.n, n = acc->runs.n;
    size_t ncomp = 0;
    if ((st = cnp_grow((void **)&acc->label, &acc->label_cap, n + 1, sizeof *acc->label,
                       "loss runs")) != CNP_OK)
        return st;
    if (cnp_runs_label(&acc->runs, acc->label, &ncomp) != CNP_OK)
        return cnp_err(CNP_E_ARG, "labelling failed");
    if ((st = cnp_grow((void **)&c->pieces, &c->cap_pieces, c->npieces + ncomp,
                       sizeof *c->pieces, "loss statistics")) != CNP_OK)
        return st;
    if (cnp_runs_concat(&c->runs, &acc->runs, c->settings->connectivity) != CNP_OK)
        return cnp_err(CNP_E_NOMEM, "out of memory merging loss runs");
    const size_t held = (c->runs.cap + c->unobserved_runs.cap) *
                        (sizeof *c->runs.run + sizeof *c->runs.parent) +
                        c->cap_pieces * sizeof *c->pieces;
    if (c->runs_budget && held > c->runs_budget)
        return cnp_err(CNP_E_DATA, "--max-memory: the loss found by row %d already takes "
                       "%.0f MB (%zu runs of loss pixels), more than the cap leaves for it "
                       "(%.0f MB): raise --max-memory, or check the scenes (is most of AFTER "
                       "cloud or another place?)", u->y0 + u->h,
                       (double)held / (1024.0 * 1024.0), c->runs.n,
                       (double)c->runs_budget / (1024.0 * 1024.0));
    if (ncomp == 0)     /* no loss in the strip: c->pieces may still be NULL */
        return CNP_OK;
    cnp_loss_piece *pc = c->pieces + c->npieces;
    for (size_t k = 0; k < ncomp; k++)
        pc[k] = (cnp_loss_piece){ SIZE_MAX, { 0.0, 0.0, 0.0, INFINITY, 0.0, 0, 0, 0 } };
    for (size_t i = 0; i < n; i++) {
        cnp_loss_piece *q = &pc[acc->label[i]];
        const cnp_loss_sums *rs = &acc->stats[i];
        if (q->first == SIZE_MAX)
            q->first = base + i;
        q->st.sum_dndvi += rs->sum_dndvi;
        q->st.sum_before += rs->sum_before;
        q->st.sum_after += rs->sum_after;
        if (rs->min_dndvi < q->st.min_dndvi)
            q->st.min_dndvi = rs->min_dndvi;
        q->st.sum_dnbr += rs->sum_dnbr;
        q->st.n_dnbr += rs->n_dnbr;
        q->st.n_agree += rs->n_agree;
        q->st.sum_obs += rs->sum_obs;
    }
    c->npieces += ncomp;
    return CNP_OK;
}

void cnp_loss_pass_init(cnp_loss_pass *lp, const cnp_scene *before, const cnp_scene *after,
                        const cnp_settings *s, const int win[4], cnp_overview *ov)
{
    memset(lp, 0, sizeof *lp);
    lp->scene[0] = before;
    lp->scene[1] = after;
    lp->settings = s;
    lp->ov = ov;
    cnp_runs_init(&lp->runs);
    cnp_runs_init(&lp->unobserved_runs);
    cnp_tiling_init(&lp->tiling, win, before->block_w, before->block_h);
    lp->params.date[0] = before->radiometry;
    lp->params.date[1] = after->radiometry;
    lp->params.forest_ndvi = s->forest_ndvi;
    lp->params.ndvi_drop = s->ndvi_drop;
    lp->swir = before->swir2 > 0 && after->swir2 > 0;
    lp->haze = s->haze && after->blue > 0;
    cnp_haze_defaults(&lp->haze_params, &lp->haze_line);
    cnp_swir_defaults(&lp->swir_rule);
    lp->swir_rule.forest_ndvi = s->forest_ndvi;
    lp->swir_rule.ndvi_drop = s->ndvi_drop;
}

/* One run of the engine over the tiling, as stage `stage`, covering
 * [from, to) of the pass's progress. */
static cnp_status run_stage(cnp_loss_pass *lp, int nthreads, int stage, double from, double to)
{
    lp->stage = stage;
    const cnp_engine_ops ops = {
        .ctx = lp, .worker_size = sizeof(worker), .worker_init = worker_init,
        .worker_free = worker_free, .process = process_unit, .merge = merge_unit,
        .progress = lp->progress, .progress_arg = lp->progress_arg,
        .progress_from = from * lp->progress_to, .progress_to = to * lp->progress_to,
    };
    return cnp_engine_run(&lp->tiling, nthreads, &ops);
}


/* Normalised: read and keep (stage 1), correct, classify from what was kept
 * (stage 2). The scenes are decoded once. */
static cnp_status run_normalised(cnp_loss_pass *lp, int nthreads)
{
    cnp_status st;
    const int normalise = lp->settings->normalize != CNP_NORMALIZE_OFF;
    if ((st = cnp_lp_norm_params(lp, &lp->norm)) != CNP_OK)
        return st;
    if (normalise && (st = cnp_norm_grid_create(&lp->norm, lp->tiling.win[2], lp->tiling.win[3],
                                                0, -1, &lp->norm_grid)) != CNP_OK)
        return cnp_err(st, "out of memory for the normalisation grid");
    if ((st = cnp_lp_spill_open(lp)) != CNP_OK) {
        cnp_norm_grid_free(&lp->norm_grid);
        return st;
    }
    if (lp->haze && lp->spill_blue_u16 && (lp->haze_lut = malloc(sizeof *lp->haze_lut)))
        cnp_haze_lut_init(lp->haze_lut, &lp->haze_params, lp->params.date[1].scale,
                          lp->params.date[1].offset);
    if ((st = run_stage(lp, nthreads, 1, 0.0, 0.6)) == CNP_OK)
        st = normalise ? cnp_lp_norm_finish(lp) : cnp_lp_norm_zero(lp);
    free(lp->haze_lut);            /* without it the same counts, only slower */
    lp->haze_lut = NULL;
    /* The clear line of AFTER's own clear land; the default line when it
     * has too little to fit one, and then only with SWIR2 to check it. */
    if (st == CNP_OK && lp->haze) {
        lp->haze_fitted = cnp_corr_haze_fit(&lp->haze_hist, &lp->haze_line);
        if (!cnp_corr_haze_applies(lp->haze_fitted, lp->swir)) {
            lp->haze = 0;
            lp->haze_unfit = 1;
            lp->haze_unfit_land = cnp_corr_haze_land(&lp->haze_hist);
        }
    }
    if (st == CNP_OK)
        st = run_stage(lp, nthreads, 2, 0.6, 1.0);
    cnp_spill_close(&lp->spill);
    cnp_norm_grid_free(&lp->norm_grid);
    return st;
}

cnp_status cnp_loss_pass_run(cnp_loss_pass *lp, int nthreads)
{
    const size_t ntiles = (size_t)lp->tiling.ntiles;
    struct strip_acc *acc = calloc(1, sizeof *acc);
    if (acc) {
        cnp_runs_init(&acc->runs);
        acc->tile_first = malloc((ntiles + 1) * sizeof *acc->tile_first);
        acc->utile_first = malloc((ntiles + 1) * sizeof *acc->utile_first);
        acc->tile_pos = malloc((ntiles + 1) * sizeof *acc->tile_pos);
    }
    if (!acc || !acc->tile_first || !acc->utile_first || !acc->tile_pos) {
        strip_acc_free(acc);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    lp->acc = acc;
    const int one_pass = lp->settings->normalize == CNP_NORMALIZE_OFF && !lp->swir && !lp->haze &&
                         !lp->nbaseline;
    const cnp_status st = one_pass ? run_stage(lp, nthreads, 0, 0.0, 1.0)
                                   : run_normalised(lp, nthreads);
    strip_acc_free(acc);
    lp->acc = NULL;
    return st;
}


void cnp_loss_pass_free(cnp_loss_pass *lp)
{
    cnp_runs_free(&lp->runs);
    cnp_runs_free(&lp->unobserved_runs);
    free(lp->pieces);
    lp->pieces = NULL;
    lp->npieces = lp->cap_pieces = 0;
    cnp_unobserved_free(&lp->unobserved);
    free(lp->norm_corr);
    free(lp->norm_level);
    free(lp->norm_count);
    free(lp->zero_corr);
    lp->zero_corr = NULL;
    lp->norm_corr = NULL;
    lp->norm_level = NULL;
    lp->norm_count = NULL;
}
