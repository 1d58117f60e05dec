/* kernels/cnp_monitor.h - the per-pixel rules of `canopy monitor`.
 *
 * Pure compute on plain arrays: no I/O, no globals. The monitor keeps, per
 * pixel of a footprint's grid, the history of its last K clear observations
 * outside a loss episode, a baseline NDVI (their median, the same median as
 * detect's multi-date baseline, kernels/cnp_baseline.h; with K = 1 the most
 * recent clear observation), the date of the last observation taken into it,
 * an alert state and the id of the alert the pixel belongs to. Each new scene
 * updates them with cnp_monitor_update(); pixels that scene did not see
 * clearly (cloud, shadow, outside its swath) keep everything.
 *
 * Why a median of K: with one observation as the baseline, one greener
 * (wet-season) date followed by an ordinary dry-season one reads as loss, and
 * one unflagged hazy date becomes the reference for the next; the median of
 * the last three ignores one such date. Forest is decided on the greenest
 * observation of the history and the change measured against its median
 * (docs/method.md 3.3: deciduous forest in the dry season is below
 * forest_ndvi).
 *
 * Pixel states and transitions, on a clear observation with NDVI v against
 * the baseline b (dNDVI = v - b, or the normalised dNDVI the caller gives,
 * dndvi_in; "loss" = dNDVI <= -ndvi_drop):
 *
 * "v into the history" below: the history shifts by one (the oldest of K
 * goes), v becomes its newest, b := the median of its clear values.
 *
 *   NONE / REJECTED  no baseline yet      -> v into the history (BASELINE)
 *                    greenest of the history >= forest_ndvi, loss, and
 *                    not ruled out (may_trigger)
 *                                         -> PROBABLE, n_obs = n_loss = 1,
 *                                            baseline kept (TRIGGER); straight
 *                                            to CONFIRMED when confirm_n == 1
 *                    otherwise            -> v into the history (BASELINE)
 *   PROBABLE         loss                 -> n_loss++; CONFIRMED once
 *                                            n_loss >= confirm_n (CONFIRM),
 *                                            else SUPPORT
 *                    no loss              -> n_obs++; REJECTED when confirm_n
 *                                            losses can no longer be reached
 *                                            within confirm_m observations
 *                                            (REJECT: v into the history, alert
 *                                            id cleared), else CONTRADICT
 *   CONFIRMED        any                  -> counted (OBSERVED); terminal
 *
 * With the default confirm_n = confirm_m = 2 a pixel is confirmed when the
 * next clear observation after the one that triggered it shows the loss
 * again, and rejected when it does not (a cloud fringe, a flooded field).
 * A probable pixel keeps its pre-loss baseline and history, so the comparison
 * is always against the forest it was. REJECTED behaves like NONE for new loss; the
 * state records that an episode was rejected there.
 *
 * Everything is integer or a per-pixel float expression, so results are
 * identical for any number of threads.
 */
#ifndef CNP_MONITOR_H
#define CNP_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_change.h"
#include "cnp_status.h"

/* Pixel alert states (the state raster's band 1). */
enum {
    CNP_PIX_NONE      = 0,
    CNP_PIX_PROBABLE  = 1,   /* loss seen once (or fewer than confirm_n times) */
    CNP_PIX_CONFIRMED = 2,   /* loss seen confirm_n times                     */
    CNP_PIX_REJECTED  = 3    /* an episode here was rejected (NDVI recovered) */
};

/* What a scene showed at a pixel (cnp_monitor_observe). */
enum {
    CNP_OBS_CLEAR  = 0,      /* valid NDVI                                    */
    CNP_OBS_CLOUDY = 1,      /* valid DNs, but masked (cloud, shadow, buffer) */
    CNP_OBS_NODATA = 2       /* outside the scene, nodata, saturated, invalid */
};

/* What the update did at a pixel (cnp_monitor_pixels.event). */
enum {
    CNP_EV_UNSEEN     = 0,   /* not clear: nothing changed                    */
    CNP_EV_BASELINE   = 1,   /* baseline set or refreshed                     */
    CNP_EV_TRIGGER    = 2,   /* became PROBABLE (or CONFIRMED when n == 1)    */
    CNP_EV_SUPPORT    = 3,   /* PROBABLE, loss seen again, not yet confirmed  */
    CNP_EV_CONFIRM    = 4,   /* PROBABLE -> CONFIRMED                         */
    CNP_EV_CONTRADICT = 5,   /* PROBABLE, NDVI recovered, not yet rejected    */
    CNP_EV_REJECT     = 6,   /* PROBABLE -> REJECTED                          */
    CNP_EV_OBSERVED   = 7    /* CONFIRMED pixel seen clear                    */
};

/* Alert-level states (cnp_monitor_alert_status). */
enum { CNP_ALERT_PROBABLE = 1, CNP_ALERT_CONFIRMED = 2, CNP_ALERT_REJECTED = 3 };

typedef struct cnp_monitor_rule {
    double forest_ndvi;      /* loss only where the baseline NDVI >= this     */
    double ndvi_drop;        /* loss when dNDVI <= -ndvi_drop (> 0)           */
    int    confirm_n;        /* confirmed after n losses ...                  */
    int    confirm_m;        /* ... within m clear observations; 1<=n<=m<=255 */
} cnp_monitor_rule;

/* cnp_monitor_observe() :
 * For n pixels of one scene: ndvi[i] = NDVI under `d`'s rules (cnp_ndvi_dn),
 * or NAN when not clear; obs[i] = CNP_OBS_NODATA when the DNs themselves are
 * not valid, CNP_OBS_CLOUDY when they are but observed[i] == 0, else
 * CNP_OBS_CLEAR. observed may be NULL (all observed).
 * @return CNP_OK, or CNP_E_ARG on a NULL pointer with n > 0. */
cnp_status cnp_monitor_observe(const cnp_date_params *d, const float *red, const float *nir,
                               const uint8_t *observed, size_t n, float *ndvi, uint8_t *obs);

/* cnp_monitor_observe_u16() : the same from UInt16 DNs (Landsat, Sentinel-2),
 * read without a conversion to float; identical results, since every UInt16
 * is exact as a float. */
cnp_status cnp_monitor_observe_u16(const cnp_date_params *d, const uint16_t *red,
                                   const uint16_t *nir, const uint8_t *observed, size_t n,
                                   float *ndvi, uint8_t *obs);

#define CNP_MONITOR_HIST_MAX 16   /* longest baseline history, observations */

/* One tile of a footprint's state, n pixels in any order (the rule is per
 * pixel). The state arrays are updated in place. */
typedef struct cnp_monitor_pixels {
    size_t         n;
    const float   *ndvi;        /* this scene, NAN where not clear             */
    const uint8_t *obs;         /* this scene, CNP_OBS_*                       */
    float         *base_ndvi;   /* in/out: baseline NDVI, NAN = none yet       */
    int32_t       *base_date;   /* in/out: its date as YYYYMMDD, 0 = none      */
    uint8_t       *state;       /* in/out: CNP_PIX_*                           */
    uint8_t       *n_obs;       /* in/out: clear observations in the episode   */
    uint8_t       *n_loss;      /* in/out: of which showed loss                */
    float         *loss_dndvi;  /* in/out: dNDVI when the episode triggered    */
    uint32_t      *alert_id;    /* in/out: cleared (0) on TRIGGER and REJECT   */
    float         *dndvi;       /* out: this scene's dNDVI vs the baseline, NAN
                                   when not clear or no baseline               */
    uint8_t       *event;       /* out: CNP_EV_*                               */
    int            hist_k;      /* K: observations in the history, 0..HIST_MAX;
                                   0 = none kept (baseline := v, as K = 1)     */
    float         *hist;        /* in/out: hist_k planes of n (plane j at
                                   hist + j * n), newest first, NAN = none     */
    const uint8_t *may_trigger; /* NULL: everywhere; else 0 where the pixel is
                                   not forest by an outside mask or cleared
                                   already (--forest-mask, --exclude): its
                                   observations go into its history, but it
                                   never triggers, as detect's "other"         */
    const float   *dndvi_in;    /* NULL: dNDVI = v - b; else this scene's
                                   normalised dNDVI against base_ndvi
                                   (cnp_norm_apply: detect's dNDVI'; NAN:
                                   v - b there); ndvi then
                                   holds the scene's corrected NDVI, which is
                                   what goes into the history                  */
} cnp_monitor_pixels;

typedef struct cnp_monitor_counts {
    int64_t clear, cloudy, nodata;
    int64_t triggered, supported, confirmed, contradicted, rejected;
} cnp_monitor_counts;

/* cnp_monitor_update() :
 * Apply the scene (date as YYYYMMDD, > 0) to every pixel by the rules above;
 * add the counts to *counts when it is not NULL.
 * @return CNP_OK, or CNP_E_ARG for NULL pointers (n > 0; hist only when
 *         hist_k > 0), a bad rule (non-finite thresholds, ndvi_drop <= 0,
 *         not 1 <= n <= m <= 255), hist_k outside 0..CNP_MONITOR_HIST_MAX or
 *         date <= 0; the arrays are then untouched. */
cnp_status cnp_monitor_update(const cnp_monitor_rule *r, int32_t date, cnp_monitor_pixels *p,
                              cnp_monitor_counts *counts);

/* cnp_monitor_assign_ids() :
 * Alert ids for connected components of alert pixels (PROBABLE or CONFIRMED)
 * after an update. For component c: min_id[c] is the smallest nonzero alert
 * id among its pixels (0 when none has one), unassigned[c] the number of its
 * pixels without an id, pixels[c] all its pixels. Then out[c] is
 *   min_id[c]              when it has pixels without id and touches an
 *                          alert (the oldest alert: ids grow with time);
 *   a new id (*next_id)++  when none of its pixels has an id and it has at
 *                          least min_pixels pixels (minimum mapping unit),
 *                          handed out in component order, so deterministic;
 *   0                      otherwise (nothing to assign, or too small yet).
 * @return CNP_OK; CNP_E_ARG for NULL pointers (ncomp > 0) or when the ids
 *         would pass UINT32_MAX. */
cnp_status cnp_monitor_assign_ids(size_t ncomp, const uint32_t *min_id,
                                  const int64_t *unassigned, const int64_t *pixels,
                                  int64_t min_pixels, uint32_t *next_id, uint32_t *out);

/* cnp_monitor_alert_status() :
 * An alert's state from its pixels after an update: CONFIRMED once any pixel
 * is confirmed (confirmed pixels are terminal, so a confirmed alert stays
 * confirmed), REJECTED when it has no PROBABLE or CONFIRMED pixel left,
 * else PROBABLE. A REJECTED alert stays REJECTED (`prev`). */
int cnp_monitor_alert_status(int prev, int64_t probable_px, int64_t confirmed_px);

/* cnp_monitor_obs_status() :
 * How a scene saw an alert, from its pixels' counts: CNP_OBS_CLEAR when at
 * least half were clear, else CNP_OBS_CLOUDY when cloudy >= nodata, else
 * CNP_OBS_NODATA (also for no pixels at all). */
int cnp_monitor_obs_status(int64_t clear, int64_t cloudy, int64_t nodata);

#endif /* CNP_MONITOR_H */
