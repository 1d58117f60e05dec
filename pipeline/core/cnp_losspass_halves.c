/* pipeline/core/cnp_losspass_halves.c - the two halves of detect's pass
 * when the whole scene is needed before a pixel can be classified: the first
 * reads, classifies on the raw dNDVI and keeps planes in the spill file; the
 * second reads them back and decides with the corrections, the haze line and
 * the second index. */
#include "cnp_losspass_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_baseline.h"
#include "cnp_change.h"
#include "cnp_classes.h"
#include "cnp_corrections.h"
#include "cnp_err.h"
#include "cnp_norm.h"
#include "cnp_spill.h"
#include "cnp_swir.h"

/* NBR of one scene's tile (NAN where its NDVI is NAN or SWIR2 is nodata or
 * saturated, or the scene has no SWIR2); swir becomes SWIR2 reflectance.
 * Reflectance as the kernel computes red's: DN x scale + offset (the reader
 * puts NIR in red's units; the products' SWIR2 shares red's scale). `nir`
 * holds the scene's NIR DNs as read: UInt16 when nir_u16. */
static cnp_status scene_nbr(cnp_reader *rd, const cnp_scene *sc, const cnp_date_params *r,
                            int nir_u16, const float *nir, const float *ndvi, int x0, int y0,
                            int tw, int h, float *swir, float *nbr)
{
    const size_t n = (size_t)tw * (size_t)h;
    if (sc->swir2 <= 0) {
        for (size_t i = 0; i < n; i++)
            nbr[i] = swir[i] = NAN;
        return CNP_OK;
    }
    cnp_status st = cnp_reader_read_band(rd, sc->swir2, x0, y0, tw, h, swir);
    if (st != CNP_OK)
        return st;
    int has = 0;
    const double nodata = cnp_reader_band_nodata(rd, sc->swir2, &has);
    const uint16_t *n16 = (const uint16_t *)nir;
    for (size_t i = 0; i < n; i++) {
        const double sdn = swir[i];
        if (ndvi[i] != ndvi[i] || (has && sdn == nodata) || sdn >= r->saturated_dn) {
            nbr[i] = swir[i] = NAN;
            continue;
        }
        const double ndn = nir_u16 ? (double)n16[i] : (double)nir[i];
        const double sr = sdn * r->scale + r->offset;
        nbr[i] = (float)cnp_swir_index(ndn * r->scale + r->offset, sr);
        swir[i] = sr >= 0 ? (float)sr : NAN;
    }
    return CNP_OK;
}

/* NBR of date d for one tile; w->swir[d] becomes SWIR2 reflectance. */
static cnp_status tile_nbr(worker *w, const cnp_loss_pass *c, int d, int x0, int y0, int tw, int h,
                           float *nbr)
{
    return scene_nbr(w->rd[d], c->scene[d], &c->params.date[d], w->dn_u16[d], w->nir[d],
                     w->ndvi[d], x0, y0, tw, h, w->swir[d], nbr);
}

/* AFTER's blue, red and NIR DNs of one tile as the haze test takes them:
 * blue from w->bdn or w->bdn16 (blue16), red and NIR from AFTER's band
 * buffers; the first half and the second compute the same reflectances
 * from them (kernels/cnp_haze.h). */
static cnp_haze_dn haze_dn(const worker *w, const cnp_loss_pass *c, int blue16)
{
    return cnp_corr_haze_dn(w->rd[1], c->scene[1], w->bdn, blue16 ? w->bdn16 : NULL,
                            w->dn_u16[1], w->red[1], w->nir[1], w->ndvi[1]);
}

/* AFTER's blue DN kept, its reflectances counted for the clear line. */
static cnp_status tile_haze_keep(worker *w, const cnp_loss_pass *c, int s, int k, int x0, int y0,
                                 int tw, int h)
{
    cnp_status st = cnp_reader_read_band(w->rd[1], c->scene[1]->blue, x0, y0, tw, h, w->bdn);
    if (st != CNP_OK)
        return st;
    const size_t n = (size_t)tw * (size_t)h;
    if (c->spill_blue_u16) {
        /* UInt16 or Byte DNs read as floats: whole numbers, kept exactly. */
        cnp_classes_u16(w->bdn, n, w->bdn16);
        st = cnp_spill_write(c->spill, s, k, c->plane_blue, w->bdn16);
    } else {
        st = cnp_spill_write(c->spill, s, k, c->plane_blue, w->bdn);
    }
    if (st != CNP_OK)
        return st;
    const cnp_haze_dn d = haze_dn(w, c, c->spill_blue_u16);
    st = cnp_haze_hist_add_dn(w->hh, &c->haze_params, &d, c->swir ? w->swir[1] : NULL,
                              c->haze_lut, n);
    if (st != CNP_OK)
        return cnp_err(st, "haze: counting the clear line failed");
    return CNP_OK;
}

/* dNBR and AFTER's SWIR2 of one tile into the spill. dNBR is measured
 * from the reference NDVI's dates: BEFORE, or the median of the baselines'
 * NBR (tile_baseline() made it). */
static cnp_status tile_swir_keep(worker *w, const cnp_loss_pass *c, int s, int k, int x0, int y0,
                                 int tw, int h)
{
    cnp_status st;
    float *nbr_b = c->nbaseline ? w->ref_nbr : w->dndvi;     /* dndvi: free until the second half */
    if ((!c->nbaseline && (st = tile_nbr(w, c, 0, x0, y0, tw, h, nbr_b)) != CNP_OK) ||
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
        /* With SWIR2 their NBR too (BEFORE's SWIR2 buffer as scratch). */
        if (c->swir && (st = scene_nbr(w->rdb[b], &c->baseline[b], &c->baseline[b].radiometry,
                                       w->bdn_u16[b], w->nir[0], w->bndvi[b], x0, y0, tw, h,
                                       w->swir[0], w->bnbr[b])) != CNP_OK)
            return st;
    }
    const size_t n = (size_t)tw * (size_t)h;
    if ((st = cnp_baseline_median(planes, c->nbaseline, n, 1, w->ref, w->nobs)) != CNP_OK)
        return cnp_err(st, "baseline: median failed");
    if (c->swir && (st = cnp_baseline_median((const float *const *)w->bnbr, c->nbaseline, n, 1,
                                             w->ref_nbr, NULL)) != CNP_OK)
        return cnp_err(st, "baseline: NBR median failed");
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

/* AFTER's observed flag rides in the class byte's top bit: a byte a pixel
 * in the spill instead of AFTER's NDVI (4), which the second half computes
 * again from the DNs kept for the quicklook - the same floats. */

/* The kept planes of the first half back: BEFORE's (or the reference's)
 * NDVI, AFTER's, the classes and AFTER's DNs when kept. */
static cnp_status read_kept(worker *w, const cnp_loss_pass *c, int s, int k, int tw, int h)
{
    cnp_status st;
    if ((st = cnp_spill_read(c->spill, s, k, P_NDVI_B, w->ndvi[0])) != CNP_OK ||
        (st = cnp_spill_read(c->spill, s, k, P_CLS, w->cls)) != CNP_OK)
        return st;
    if (c->plane_red < 0)
        return cnp_spill_read(c->spill, s, k, c->plane_ndvi_a, w->ndvi[1]);
    if ((st = cnp_spill_read(c->spill, s, k, c->plane_red, w->red[1])) != CNP_OK ||
        (st = cnp_spill_read(c->spill, s, k, c->plane_nir, w->nir[1])) != CNP_OK)
        return st;
    cnp_classes_unpack(w->cls, w->obs[1], (size_t)tw * (size_t)h);
    cnp_change_tile t = { .width = tw, .height = h, .stride = tw, .observed = { NULL, w->obs[1] },
                          .ndvi = { NULL, w->ndvi[1] } };
    if (c->spill_dn_u16) {
        t.red16[1] = (const uint16_t *)w->red[1];
        t.nir16[1] = (const uint16_t *)w->nir[1];
    } else {
        t.red[1] = w->red[1];
        t.nir[1] = w->nir[1];
    }
    st = cnp_change_ndvi(&c->params.date[1], &t, 1);
    return st == CNP_OK ? CNP_OK : cnp_err(st, "AFTER's NDVI failed");
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
    /* The baselines first: the SWIR index is measured from them too. They
     * take BEFORE's band buffers, which only BEFORE's NBR would need. */
    if (c->nbaseline && (st = tile_baseline(w, c, x0, y0, tw, h)) != CNP_OK)
        return st;
    if (c->swir && (st = tile_swir_keep(w, c, s, k, x0, y0, tw, h)) != CNP_OK)
        return st;
    if (c->haze && (st = tile_haze_keep(w, c, s, k, x0, y0, tw, h)) != CNP_OK)
        return st;
    const float *ref = w->ndvi[0], *shifted_after = w->ndvi[1];
    const size_t n = (size_t)tw * (size_t)h;
    if (c->nbaseline) {
        if ((st = cnp_spill_write(c->spill, s, k, c->plane_obs, w->nobs)) != CNP_OK)
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
    if (c->plane_red >= 0)
        cnp_classes_pack(w->cls, w->obs[1], n);
    if ((st = cnp_spill_write(c->spill, s, k, P_NDVI_B, ref)) != CNP_OK ||
        (st = cnp_spill_write(c->spill, s, k, P_CLS, w->cls)) != CNP_OK)
        return st;
    if (c->plane_red < 0)
        return cnp_spill_write(c->spill, s, k, c->plane_ndvi_a, w->ndvi[1]);
    /* AFTER's bands as read, UInt16 or float: the quicklook's and the haze
     * test's. */
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
    cnp_status st = read_kept(w, c, s, k, tw, h);
    if (st != CNP_OK)
        return st;
    cnp_dn_rows after = { NULL, NULL, NULL, NULL };
    if (c->ov) {
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
        void *blue = c->spill_blue_u16 ? (void *)w->bdn16 : (void *)w->bdn;
        if ((st = cnp_spill_read(c->spill, s, k, c->plane_blue, blue)) != CNP_OK)
            return st;
        const cnp_haze_dn d = haze_dn(w, c, c->spill_blue_u16);
        if ((st = cnp_haze_classify_dn(&c->haze_params, &c->haze_line, &d,
                                       c->swir ? w->swir[1] : NULL, n, w->hflags)) != CNP_OK)
            return cnp_err(st, "haze test failed");
        w->hazy += cnp_classes_unobserve(w->cls, w->hflags, CNP_HAZE_HAZY, n);
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
        cnp_classes_resplit(w->cls, w->dndvi, loss_at, n, nc);
    }
    w->counts.unobserved += nc[CNP_CLASS_UNOBSERVED];
    w->counts.other += nc[CNP_CLASS_OTHER];
    w->counts.forest += nc[CNP_CLASS_FOREST];
    w->counts.loss += nc[CNP_CLASS_LOSS];
    return cnp_lp_tile_results(w, c, x0, y0, tw, h, &after, w->dndvi);
}

/* The spill file and its planes (cnp_losspass_int.h says which), in
 * lp->spill_dir, else $TMPDIR, else /tmp. */
cnp_status cnp_lp_spill_open(cnp_loss_pass *lp)
{
    cnp_reader *rd = NULL;
    cnp_status st = cnp_reader_open(lp->scene[1], lp->settings, &rd);
    if (st != CNP_OK)
        return st;
    lp->spill_dn_u16 = cnp_reader_dn_u16(rd);
    lp->spill_blue_u16 = lp->spill_dn_u16 && cnp_reader_band_u16(rd, lp->scene[1]->blue);
    cnp_reader_close(&rd);
    const size_t dn = lp->spill_dn_u16 ? 2 : 4;
    size_t esize[CNP_SPILL_MAX_PLANES] = { 4, 1 };
    int nplanes = P_FIXED;
    lp->plane_red = lp->plane_nir = lp->plane_dnbr = lp->plane_swir = lp->plane_obs = -1;
    lp->plane_blue = lp->plane_ndvi_a = -1;
    /* The haze test keeps DNs, not reflectances: 2 bytes a band, not 4, and
     * red and NIR are those the quicklook keeps anyway. */
    if (lp->ov || lp->haze) {
        esize[lp->plane_red = nplanes++] = dn;
        esize[lp->plane_nir = nplanes++] = dn;
    } else {
        esize[lp->plane_ndvi_a = nplanes++] = 4;
    }
    if (lp->swir) {
        esize[lp->plane_dnbr = nplanes++] = 4;
        esize[lp->plane_swir = nplanes++] = 4;
    }
    if (lp->haze)
        esize[lp->plane_blue = nplanes++] = lp->spill_blue_u16 ? 2 : 4;
    if (lp->nbaseline)
        esize[lp->plane_obs = nplanes++] = 1;
    const char *dir = lp->spill_dir;
    if (!dir || !*dir)
        dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    if ((st = cnp_spill_create(dir, &lp->tiling, nplanes, esize, &lp->spill)) != CNP_OK)
        return st;
    lp->spill_bytes = cnp_spill_bytes(lp->spill);
    return CNP_OK;
}
