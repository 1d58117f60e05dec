/* pipeline/core/cnp_losspass_int.h - what the files of detect's pass share:
 * a worker's buffers, the planes the first half keeps for the second, and
 * the steps each file provides. Not for use outside core/cnp_losspass*.c.
 *
 *   cnp_losspass.c        workers, units, merges, the plan, the run
 *   cnp_losspass_halves.c the two halves of a pass that needs the whole
 *                         scene first (normalisation, haze line, dNBR),
 *                         and the spill file between them
 *   cnp_losspass_norm.c   the normalisation's parameters, corrections and
 *                         their summary for run.json
 */
#ifndef CNP_LOSSPASS_INT_H
#define CNP_LOSSPASS_INT_H

#include "cnp_haze.h"
#include "cnp_losspass.h"
#include "cnp_quicklook.h"
#include "cnp_raster.h"
#include "cnp_trace.h"

/* A loss run found in one tile, with its sums; tiles are processed left to
 * right, then their runs are merged row by row into the strip's runs. The
 * cnp_run comes first: cnp_runs_merge_tiles reads it. */
typedef struct tile_run {
    cnp_run       run;
    cnp_loss_sums st;
} tile_run;

typedef struct worker {
    cnp_reader *rd[2];
    int         dn_u16[2];                   /* 1: date read as UInt16 into red/nir */
    float      *red[2], *nir[2], *ndvi[2];   /* one tile: tile_w x strip_h */
    float      *dndvi;                       /* normalised dNDVI (second half)   */
    float      *swir[2], *dnbr;              /* SWIR2 reflectance, NBR change     */
    uint8_t    *sig;                         /* cnp_swir signals (second half)    */
    float      *bdn;                         /* AFTER's blue DN ...                */
    uint16_t   *bdn16;                       /* ... as the spill keeps it, UInt16  */
    uint8_t    *hflags;                      /* cnp_haze flags                    */
    cnp_haze_hist *hh;                       /* the unit's clear-line counts      */
    int64_t     hazy;                        /* pixels the haze test took out     */
    uint8_t    *obs[2], *cls, *rowmask;
    cnp_norm_grid *ng;                       /* the unit's reference pixels (first half) */
    int64_t     swir_led;                    /* loss found by the SWIR branch alone */
    cnp_reader *rdb[CNP_BASELINE_MAX];       /* the baselines' readers          */
    int         bdn_u16[CNP_BASELINE_MAX];
    float      *bndvi[CNP_BASELINE_MAX];     /* their NDVI, one tile each        */
    float      *bnbr[CNP_BASELINE_MAX];      /* with SWIR2: their NBR            */
    float      *ref_nbr;                     /* ... and its median               */
    float      *ref;                         /* the median: the reference NDVI   */
    uint8_t    *nobs;                        /* clear observations behind it     */
    int64_t     baseline_px, fallback_px;
    tile_run   *segs;                        /* runs of every tile of the unit */
    size_t      nsegs, segs_cap;
    size_t     *tile_first;                  /* first seg of each tile of the unit */
    cnp_change_counts counts;
    cnp_overview_part ovp;                   /* the unit's share of the quicklook */
    cnp_runs    uruns;                       /* one tile's unobserved runs */
    cnp_run    *useg;                        /* unobserved runs of every tile of the unit */
    size_t      nuseg, useg_cap;
    size_t     *utile_first;                 /* first of each tile's in useg */
    cnp_trace_ws *tws;
    cnp_rings   urings;
    cnp_unobserved unobs;                    /* the unit's unobserved pieces */
    cnp_ctxmask_reader *ctxr;                /* forest/exclusion masks (NULL: none) */
} worker;

/* One strip's loss runs, gathered from its units in tile order (inside the
 * ordered merge, so by one thread at a time), then merged row by row. */

/* The planes the first half keeps for the second: always these two, then
 * AFTER's red and NIR DNs for the quicklook and the haze test - from which
 * the second half computes AFTER's NDVI again, with AFTER's observed flag
 * kept in the class byte's top bit (CNP_CLASS_FLAG) - or else AFTER's NDVI; dNBR and AFTER's
 * SWIR2 for the second index, AFTER's blue DN for the haze test when there
 * are (their numbers in cnp_loss_pass.plane_*). */
enum { P_NDVI_B, P_CLS, P_FIXED };

/* Read both dates of one tile and classify it on the raw dNDVI. */
cnp_status cnp_lp_read_classify(worker *w, const cnp_loss_pass *c, int x0, int y0, int tw, int h,
                                cnp_dn_rows *after);
/* A classified tile's quicklook share, unobserved pixels and loss runs. */
cnp_status cnp_lp_tile_results(worker *w, const cnp_loss_pass *c, int x0, int y0, int tw, int h,
                               const cnp_dn_rows *after, const float *dndvi);
/* Tile k of strip s in the first and in the second half. */
cnp_status cnp_lp_first_half(worker *w, const cnp_loss_pass *c, int s, int k, int x0, int y0,
                             int tw, int h);
cnp_status cnp_lp_second_half(worker *w, const cnp_loss_pass *c, int s, int k, int x0, int y0,
                              int tw, int h);
/* The normalisation's parameters; its corrections once the first half is
 * in; a field of zeros when only the haze test or the second index needed
 * the halves. */
cnp_status cnp_lp_norm_params(const cnp_loss_pass *lp, cnp_norm_params *p);
cnp_status cnp_lp_norm_finish(cnp_loss_pass *lp);
cnp_status cnp_lp_norm_zero(cnp_loss_pass *lp);
/* The spill file with the planes this pass keeps (cnp_losspass_halves.c). */
cnp_status cnp_lp_spill_open(cnp_loss_pass *lp);

#endif /* CNP_LOSSPASS_INT_H */
