/* pipeline/core/cnp_losspass_halves.c - the two halves of detect's pass
 * when the whole scene is needed before a pixel can be classified: the first
 * reads, classifies on the raw dNDVI and keeps planes in the spill file; the
 * second reads them back and decides with the corrections, the haze line and
 * the second index. */
#include "cnp_losspass_int.h"

#include <math.h>
#include <string.h>

#include "cnp_baseline.h"
#include "cnp_change.h"
#include "cnp_err.h"
#include "cnp_norm.h"
#include "cnp_spill.h"
#include "cnp_swir.h"

/* NBR of date d for one tile (NAN where its NDVI is NAN or SWIR2 is nodata
 * or saturated); w->swir[d] becomes SWIR2 reflectance. Reflectance as the
 * kernel computes red's: DN x scale + offset (the reader puts NIR in red's
 * units; the products' SWIR2 shares red's scale). */
static cnp_status tile_nbr(worker *w, const cnp_loss_pass *c, int d, int x0, int y0, int tw, int h,
                           float *nbr)
{
    const int nir_u16 = w->dn_u16[d];
    const cnp_scene *sc = c->scene[d];
    cnp_status st = cnp_reader_read_band(w->rd[d], sc->swir2, x0, y0, tw, h, w->swir[d]);
    if (st != CNP_OK)
        return st;
    int has = 0;
    const double nodata = cnp_reader_band_nodata(w->rd[d], sc->swir2, &has);
    const cnp_date_params *r = &c->params.date[d];
    const size_t n = (size_t)tw * (size_t)h;
    const uint16_t *n16 = (const uint16_t *)w->nir[d];
    for (size_t i = 0; i < n; i++) {
        const double sdn = w->swir[d][i];
        if (w->ndvi[d][i] != w->ndvi[d][i] || (has && sdn == nodata) || sdn >= r->saturated_dn) {
            nbr[i] = w->swir[d][i] = NAN;
            continue;
        }
        const double ndn = nir_u16 ? (double)n16[i] : (double)w->nir[d][i];
        const double sr = sdn * r->scale + r->offset;
        nbr[i] = (float)cnp_swir_index(ndn * r->scale + r->offset, sr);
        w->swir[d][i] = sr >= 0 ? (float)sr : NAN;
    }
    return CNP_OK;
}

/* AFTER's blue, red and NIR reflectance of one tile (NAN where its NDVI is
 * NAN), counted for the clear line and kept for the haze test. */
static cnp_status tile_haze_keep(worker *w, const cnp_loss_pass *c, int s, int k, int x0, int y0,
                                 int tw, int h)
{
    const cnp_scene *sc = c->scene[1];
    cnp_status st = cnp_reader_read_band(w->rd[1], sc->blue, x0, y0, tw, h, w->hz[0]);
    if (st != CNP_OK)
        return st;
    int has = 0;
    const double nodata = cnp_reader_band_nodata(w->rd[1], sc->blue, &has);
    const cnp_date_params *r = &c->params.date[1];
    const size_t n = (size_t)tw * (size_t)h;
    const int u16 = w->dn_u16[1];
    const uint16_t *r16 = (const uint16_t *)w->red[1], *n16 = (const uint16_t *)w->nir[1];
    for (size_t i = 0; i < n; i++) {
        const double bdn = w->hz[0][i];
        if (w->ndvi[1][i] != w->ndvi[1][i] || (has && bdn == nodata) || bdn >= r->saturated_dn) {
            w->hz[0][i] = w->hz[1][i] = w->hz[2][i] = NAN;
            continue;
        }
        const double rdn = u16 ? (double)r16[i] : (double)w->red[1][i];
        const double ndn = u16 ? (double)n16[i] : (double)w->nir[1][i];
        w->hz[0][i] = (float)(bdn * r->scale + r->offset);
        w->hz[1][i] = (float)(rdn * r->scale + r->offset);
        w->hz[2][i] = (float)(ndn * r->scale + r->offset);
    }
    const cnp_haze_bands hb = { w->hz[0], w->hz[1], w->hz[2], c->swir ? w->swir[1] : NULL };
    if ((st = cnp_haze_hist_add(w->hh, &c->haze_params, &hb, NULL, n)) != CNP_OK)
        return cnp_err(st, "haze: counting the clear line failed");
    for (int b = 0; b < 3 && st == CNP_OK; b++)
        st = cnp_spill_write(c->spill, s, k, c->plane_haze + b, w->hz[b]);
    return st;
}

/* dNBR and AFTER's SWIR2 of one tile into the spill. */
static cnp_status tile_swir_keep(worker *w, const cnp_loss_pass *c, int s, int k, int x0, int y0,
                                 int tw, int h)
{
    cnp_status st;
    float *nbr_b = w->dndvi;            /* free until the second half */
    if ((st = tile_nbr(w, c, 0, x0, y0, tw, h, nbr_b)) != CNP_OK ||
        (st = tile_nbr(w, c, 1, x0, y0, tw, h, w->dnbr)) != CNP_OK)
        return st;
    const size_t n = (size_t)tw * (size_t)h;
    for (size_t i = 0; i < n; i++)
        w->dnbr[i] = w->dnbr[i] - nbr_b[i];
    if ((st = cnp_spill_write(c->spill, s, k, c->plane_dnbr, w->dnbr)) != CNP_OK)
        return st;
    return cnp_spill_write(c->spill, s, k, c->plane_swir, w->swir[1]);
}

/* The reference NDVI of one tile from the baselines: the median of their
 * clear NDVI (kernels/cnp_baseline.h) and how many observations it rests
 * on, into w->ref and w->nobs. Where no baseline was clear the pixel is
 * unobserved: BEFORE in its own season there would bring the phenology
 * back (on the phenology scene, 3 false alerts under the baselines'
 * clouds). BEFORE's band buffers are free by now: they take each
 * baseline's DNs in turn. */
static cnp_status tile_baseline(worker *w, const cnp_loss_pass *c, int x0, int y0, int tw, int h)
{
    cnp_status st;
    const float *planes[CNP_BASELINE_MAX];
    for (int b = 0; b < c->nbaseline; b++) {
        cnp_change_tile t = { .width = tw, .height = h, .stride = tw, .observed = { w->obs[0] },
                              .ndvi = { w->bndvi[b] } };
        if (w->bdn_u16[b]) {
            uint16_t *r = (uint16_t *)w->red[0], *n = (uint16_t *)w->nir[0];
            st = cnp_reader_read_u16(w->rdb[b], x0, y0, tw, h, r, n, w->obs[0]);
            t.red16[0] = r;
            t.nir16[0] = n;
        } else {
            st = cnp_reader_read(w->rdb[b], x0, y0, tw, h, w->red[0], w->nir[0], w->obs[0]);
            t.red[0] = w->red[0];
            t.nir[0] = w->nir[0];
        }
        if (st != CNP_OK)
            return st;
        if ((st = cnp_change_ndvi(&c->baseline[b].radiometry, &t, 0)) != CNP_OK)
            return cnp_err(st, "baseline %d: NDVI failed", b + 1);
        planes[b] = w->bndvi[b];
    }
    const size_t n = (size_t)tw * (size_t)h;
    if ((st = cnp_baseline_median(planes, c->nbaseline, n, 1, w->ref, w->nobs)) != CNP_OK)
        return cnp_err(st, "baseline: median failed");
    for (size_t i = 0; i < n; i++) {
        if (w->ndvi[0][i] != w->ndvi[0][i])
            continue;                      /* BEFORE not observed: nothing to measure */
        if (w->nobs[i] == 0) {
            w->cls[i] = CNP_CLASS_UNOBSERVED;
            w->fallback_px++;
        } else {
            w->baseline_px++;
        }
    }
    return CNP_OK;
}

/* First half: read and classify on the raw dNDVI, keep the planes, add the
 * tile's stable forest to the unit's normalisation grid. With baselines the
 * kept "before" plane is their median: the change is measured from it,
 * while the forest test stays on BEFORE (the classes made here). */
cnp_status cnp_lp_first_half(worker *w, const cnp_loss_pass *c, int s, int k, int x0, int y0,
                             int tw, int h)
{
    cnp_dn_rows after;
    cnp_status st = cnp_lp_read_classify(w, c, x0, y0, tw, h, &after);
    if (st != CNP_OK)
        return st;
    if (c->swir && (st = tile_swir_keep(w, c, s, k, x0, y0, tw, h)) != CNP_OK)
        return st;
    if (c->haze && (st = tile_haze_keep(w, c, s, k, x0, y0, tw, h)) != CNP_OK)
        return st;
    const float *ref = w->ndvi[0], *shifted_after = w->ndvi[1];
    const size_t n = (size_t)tw * (size_t)h;
    if (c->nbaseline) {
        if ((st = tile_baseline(w, c, x0, y0, tw, h)) != CNP_OK ||
            (st = cnp_spill_write(c->spill, s, k, c->plane_obs, w->nobs)) != CNP_OK)
            return st;
        ref = w->ref;
        /* Stable forest for the normalisation: forest on BEFORE, its change
         * from the reference (AFTER - ref + BEFORE, against BEFORE). */
        for (size_t i = 0; i < n; i++)
            w->dndvi[i] = w->ndvi[1][i] - w->ref[i] + w->ndvi[0][i];
        shifted_after = w->dndvi;
    }
    const cnp_norm_tile nt = { x0 - c->tiling.win[0], y0 - c->tiling.win[1], tw, h, tw,
                               w->ndvi[0], shifted_after };
    if (w->ng && cnp_norm_accumulate(w->ng, &nt) != CNP_OK)
        return cnp_err(CNP_E_ARG, "normalisation: tile %d,%d outside its grid", x0, y0);
    if ((st = cnp_spill_write(c->spill, s, k, P_NDVI_B, ref)) != CNP_OK ||
        (st = cnp_spill_write(c->spill, s, k, P_NDVI_A, w->ndvi[1])) != CNP_OK ||
        (st = cnp_spill_write(c->spill, s, k, P_CLS, w->cls)) != CNP_OK)
        return st;
    if (!c->ov)
        return CNP_OK;
    /* AFTER's bands as the quicklook reads them: UInt16 or float, as read. */
    if ((c->spill_dn_u16 != 0) != (after.red16 != NULL))
        return cnp_err(CNP_E_ARG, "spill: AFTER's data type changed between tiles");
    if ((st = cnp_spill_write(c->spill, s, k, c->plane_red,
                              after.red16 ? (const void *)after.red16 : after.red)) != CNP_OK)
        return st;
    return cnp_spill_write(c->spill, s, k, c->plane_nir,
                           after.nir16 ? (const void *)after.nir16 : after.nir);
}

/* Second half: the kept planes back, dNDVI normalised (kernels/cnp_norm.h),
 * forest re-split into loss and no loss on it. Unobserved and non-forest
 * pixels keep their class: normalisation moves only the loss threshold. */
cnp_status cnp_lp_second_half(worker *w, const cnp_loss_pass *c, int s, int k, int x0, int y0,
                              int tw, int h)
{
    cnp_status st;
    if ((st = cnp_spill_read(c->spill, s, k, P_NDVI_B, w->ndvi[0])) != CNP_OK ||
        (st = cnp_spill_read(c->spill, s, k, P_NDVI_A, w->ndvi[1])) != CNP_OK ||
        (st = cnp_spill_read(c->spill, s, k, P_CLS, w->cls)) != CNP_OK)
        return st;
    cnp_dn_rows after = { NULL, NULL, NULL, NULL };
    if (c->ov) {
        if ((st = cnp_spill_read(c->spill, s, k, c->plane_red, w->red[1])) != CNP_OK ||
            (st = cnp_spill_read(c->spill, s, k, c->plane_nir, w->nir[1])) != CNP_OK)
            return st;
        if (c->spill_dn_u16)
            after = (cnp_dn_rows){ NULL, NULL, (const uint16_t *)w->red[1],
                                   (const uint16_t *)w->nir[1] };
        else
            after = (cnp_dn_rows){ w->red[1], w->nir[1], NULL, NULL };
    }
    const cnp_norm_tile nt = { x0 - c->tiling.win[0], y0 - c->tiling.win[1], tw, h, tw,
                               w->ndvi[0], w->ndvi[1] };
    if ((st = cnp_norm_apply(&c->field, &nt, w->dndvi, tw)) != CNP_OK)
        return st == CNP_E_NOMEM ? cnp_err(st, "out of memory normalising a tile")
                                 : cnp_err(st, "normalisation: no correction for tile %d,%d", x0, y0);
    const size_t n = (size_t)tw * (size_t)h;
    const double loss_at = -c->params.ndvi_drop;
    int64_t nc[4] = { 0, 0, 0, 0 };
    if (c->nbaseline && (st = cnp_spill_read(c->spill, s, k, c->plane_obs, w->nobs)) != CNP_OK)
        return st;
    if (c->swir && ((st = cnp_spill_read(c->spill, s, k, c->plane_dnbr, w->dnbr)) != CNP_OK ||
                    (st = cnp_spill_read(c->spill, s, k, c->plane_swir, w->swir[1])) != CNP_OK))
        return st;
    if (c->haze) {
        /* Haze the quality mask called clear: unobserved, not loss. */
        for (int b = 0; b < 3; b++)
            if ((st = cnp_spill_read(c->spill, s, k, c->plane_haze + b, w->hz[b])) != CNP_OK)
                return st;
        const cnp_haze_bands hb = { w->hz[0], w->hz[1], w->hz[2], c->swir ? w->swir[1] : NULL };
        if ((st = cnp_haze_classify(&c->haze_params, &c->haze_line, &hb, n, w->hflags)) != CNP_OK)
            return cnp_err(st, "haze test failed");
        for (size_t i = 0; i < n; i++)
            if ((w->hflags[i] & CNP_HAZE_HAZY) && w->cls[i] != CNP_CLASS_UNOBSERVED) {
                w->cls[i] = CNP_CLASS_UNOBSERVED;
                w->hazy++;
            }
    }
    if (c->swir) {
        for (size_t i = 0; i < n; i++) {
            uint8_t cl = w->cls[i];
            if (cl >= CNP_CLASS_FOREST) {
                /* With baselines ndvi[0] is their (dry-season) median: the
                 * forest test was made on BEFORE, in the class. */
                const double forest = c->nbaseline ? INFINITY : w->ndvi[0][i];
                const uint8_t sig = cnp_swir_signals(&c->swir_rule, forest, w->dndvi[i],
                                                     w->dnbr[i], w->swir[1][i]);
                cl = sig & CNP_SIG_LOSS ? CNP_CLASS_LOSS : CNP_CLASS_FOREST;
                w->sig[i] = sig;
                w->swir_led += (sig & (CNP_SIG_LOSS | CNP_SIG_NDVI)) == CNP_SIG_LOSS;
            }
            w->cls[i] = cl;
            nc[cl]++;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            uint8_t cl = w->cls[i];
            if (cl >= CNP_CLASS_FOREST)
                cl = (double)w->dndvi[i] <= loss_at ? CNP_CLASS_LOSS : CNP_CLASS_FOREST;
            w->cls[i] = cl;
            nc[cl]++;
        }
    }
    w->counts.unobserved += nc[CNP_CLASS_UNOBSERVED];
    w->counts.other += nc[CNP_CLASS_OTHER];
    w->counts.forest += nc[CNP_CLASS_FOREST];
    w->counts.loss += nc[CNP_CLASS_LOSS];
    return cnp_lp_tile_results(w, c, x0, y0, tw, h, &after, w->dndvi);
}
