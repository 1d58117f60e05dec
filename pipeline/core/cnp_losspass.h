/* pipeline/core/cnp_losspass.h - detect's pass over a pair of scenes: every
 * pixel classified, the loss kept as runs, the unobserved area traced.
 *
 * Runs on the tile engine (cnp_engine.h). Each worker reads its tiles of both
 * scenes through its own readers (io/cnp_raster.h), classifies them with the
 * kernel (kernels/cnp_change.h), keeps the tile's loss runs with their sums,
 * traces the tile's unobserved pixels, and samples the quicklook. Units are
 * merged in order: a strip's runs are joined across tile borders
 * (cnp_runs_merge_tiles) and appended to the scene's runs, which joins them
 * across strip seams. Memory: one tile per worker plus the loss runs
 * (16 bytes a run), never a full-scene raster.
 *
 * The relative normalisation, the haze test's clear line and the second
 * index need the whole scene before a pixel is decided: the pass then runs
 * the engine twice (cnp_losspass_halves.c): a first half that reads once and
 * keeps planes in a spill file (cnp_spill.h), a second that decides from
 * them. With none of the three it is one pass, as before.
 */
#ifndef CNP_LOSSPASS_H
#define CNP_LOSSPASS_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_change.h"
#include "cnp_config.h"
#include "cnp_ctxmask.h"
#include "cnp_engine.h"
#include "cnp_baseline.h"
#include "cnp_haze.h"
#include "cnp_norm.h"
#include "cnp_quicklook.h"
#include "cnp_raster.h"
#include "cnp_result.h"
#include "cnp_runs.h"
#include "cnp_swir.h"

/* Sums over loss pixels, merged in a fixed order (deterministic). */
typedef struct cnp_loss_sums {
    double  sum_dndvi, sum_before, sum_after;
    float   min_dndvi;
    double  sum_dnbr;            /* over the pixels with a dNBR (SWIR)         */
    int64_t n_dnbr, n_agree;     /* ... and those where NDVI and NBR both fired */
    int64_t sum_obs;             /* clear observations behind the reference NDVI */
} cnp_loss_sums;

/* The sums of one piece of a component: its runs inside one strip, added in
 * the strip's run order. A component's sums are its pieces' sums in piece
 * order (strip by strip), which no split into units or thread count changes.
 * The scene's runs then keep no sums: 16 bytes a run (row, columns, parent)
 * instead of 48, which is most of what grows with the scene's alerts. */
typedef struct cnp_loss_piece {
    size_t        first;         /* the piece's first run, in the scene's runs */
    cnp_loss_sums st;
} cnp_loss_piece;

typedef struct cnp_loss_pass {
    /* in */
    const cnp_scene    *scene[2];     /* BEFORE, AFTER on one grid               */
    const cnp_settings *settings;
    cnp_tiling          tiling;       /* see cnp_loss_pass_init                 */
    cnp_overview       *ov;           /* the quicklook to fill, or NULL          */
    cnp_progress_fn     progress;     /* may be NULL                             */
    void               *progress_arg;
    double              progress_to;  /* share of the whole run this pass is     */
    size_t              runs_budget;  /* bytes the loss runs may take while the
                                       * workers run (0: no cap; set by
                                       * cnp_loss_pass_plan)                     */
    size_t              after_budget; /* bytes left for alerts once they are gone */
    const char         *spill_dir;    /* folder of the spill file of a normalised
                                       * pass (NULL: $TMPDIR, else /tmp)         */
    cnp_ctxmask        *ctxmask;      /* --forest-mask, --exclude (NULL: none)   */
    /* out */
    cnp_runs            runs;         /* every loss run, scan order, linked       */
    cnp_loss_piece     *pieces;       /* sums per strip piece of a component     */
    size_t              npieces, cap_pieces;
    cnp_change_counts   counts;
    cnp_unobserved      unobserved;   /* traced tile by tile                     */
    cnp_runs            unobserved_runs; /* the same pixels as runs, scan order, not
                                       * linked: for the gaps between loss pieces
                                       * (kernels/cnp_gaps.h)                    */
    /* out, when normalised ([detect] normalize local or scene) */
    cnp_norm_params     norm;         /* the cells and windows used              */
    float              *norm_corr;    /* per cell, row-major: the correction     */
    uint8_t            *norm_level;   /* per cell: window level (cnp_norm.h)      */
    uint32_t           *norm_count;   /* per cell: reference pixels used          */
    int64_t             norm_ncx, norm_ncy;
    uint64_t            spill_bytes;  /* the spill file's size                    */
    /* the second index (kernels/cnp_swir.h), when both scenes have SWIR2 */
    int                 swir;
    cnp_swir_rule       swir_rule;
    int64_t             swir_led_pixels; /* loss the SWIR branch alone found     */
    /* baseline scenes (kernels/cnp_baseline.h): the change is measured from
     * the median of their clear NDVI; unobserved where none was clear */
    const cnp_scene    *baseline;     /* nbaseline scenes on the grid            */
    int                 nbaseline;    /* 0..CNP_BASELINE_MAX                     */
    int64_t             baseline_px;  /* observed pixels measured from a median   */
    int64_t             fallback_px;  /* ... unobserved: no baseline was clear    */
    /* the haze test on AFTER (kernels/cnp_haze.h), when it has a blue band */
    int                 haze, haze_fitted;
    int                 haze_unfit;     /* on, but no line to trust (cnp_corr_haze_applies) */
    int64_t             haze_unfit_land; /* and the clear land it leaves untested */
    cnp_haze_params     haze_params;
    cnp_haze_line       haze_line;    /* fitted from AFTER's clear land, or the default */
    cnp_haze_hist       haze_hist;
    cnp_haze_lut       *haze_lut;     /* UInt16 DNs: the clear line counted by table */
    int64_t             hazy_pixels;  /* observed by the mask, taken out as haze  */
    /* private */
    int                 stage;        /* 0 single pass; 1, 2 the normalised halves */
    int                 spill_dn_u16; /* AFTER's bands kept as UInt16             */
    int                 plane_red, plane_nir, plane_dnbr, plane_swir; /* -1: none */
    int                 plane_ndvi_a; /* AFTER's NDVI, when red and NIR are not kept */
    int                 plane_blue;   /* haze: AFTER's blue DN (red, NIR: above)  */
    int                 spill_blue_u16; /* ... kept as UInt16                     */
    int                 plane_obs;    /* baselines: observations per pixel (u8)   */
    float              *zero_corr;    /* the field without normalisation          */
    struct cnp_spill   *spill;
    cnp_norm_grid      *norm_grid;
    cnp_norm_field      field;
    cnp_change_params   params;
    struct strip_acc   *acc;
} cnp_loss_pass;

/* cnp_loss_pass_init() : the pass over `win` of the scenes' common grid, tiled
 * along BEFORE's blocks. `ov` may be NULL. */
void cnp_loss_pass_init(cnp_loss_pass *lp, const cnp_scene *before, const cnp_scene *after,
                        const cnp_settings *s, const int win[4], cnp_overview *ov);

/* cnp_loss_pass_plan() :
 * How many threads (at most *nthreads) fit in `max_memory_mb` (0 = no cap),
 * and the size GDAL's block cache gets; sets the cache and plans the units.
 * *planned_mb is what the run expects to use, *cache_mb the cache. With a
 * cap, what is left of it goes to the loss runs during the pass
 * (runs_budget) and to the alerts after it (after_budget).
 * @return CNP_OK, or CNP_E_DATA when even one worker does not fit (the
 *         message says how much is needed). */
cnp_status cnp_loss_pass_plan(cnp_loss_pass *lp, int max_memory_mb, int *nthreads,
                              double *planned_mb, int *cache_mb);

/* cnp_loss_pass_run() : the pass on `nthreads` threads. */
cnp_status cnp_loss_pass_run(cnp_loss_pass *lp, int nthreads);

/* cnp_loss_pass_norm_summary() :
 * What the normalisation did, for run.json: the settings' mode, and for a
 * normalised pass its cells summed up in blocks of about 1024 pixels.
 * @return CNP_OK or CNP_E_NOMEM. */
cnp_status cnp_loss_pass_norm_summary(const cnp_loss_pass *lp, cnp_norm_summary *out);

/* Free what the pass found (the caller may take `unobserved` first). */
void cnp_loss_pass_free(cnp_loss_pass *lp);

#endif /* CNP_LOSSPASS_H */
