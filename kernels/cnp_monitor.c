/* kernels/cnp_monitor.c - per-pixel monitoring rules (see cnp_monitor.h). */
#include "cnp_monitor.h"

#include <math.h>

#include "cnp_baseline.h"

/* One pixel: its NDVI v (NAN when the DNs are not valid) and mask flag. */
static inline void observe_one(double v, int masked, float *ndvi, uint8_t *obs)
{
    if (isnan(v)) {
        *ndvi = NAN;
        *obs = CNP_OBS_NODATA;
    } else if (masked) {
        *ndvi = NAN;
        *obs = CNP_OBS_CLOUDY;
    } else {
        *ndvi = (float)v;
        *obs = CNP_OBS_CLEAR;
    }
}

cnp_status cnp_monitor_observe(const cnp_date_params *d, const float *red, const float *nir,
                               const uint8_t *observed, size_t n, float *ndvi, uint8_t *obs)
{
    if (n == 0)
        return CNP_OK;
    if (!d || !red || !nir || !ndvi || !obs)
        return CNP_E_ARG;

    const ptrdiff_t nn = (ptrdiff_t)n;
    #pragma omp parallel for schedule(static) default(none) \
        shared(d, red, nir, observed, ndvi, obs) firstprivate(nn)
    for (ptrdiff_t i = 0; i < nn; i++)
        observe_one(cnp_ndvi_dn(red[i], nir[i], d), observed && !observed[i], &ndvi[i], &obs[i]);
    return CNP_OK;
}

cnp_status cnp_monitor_observe_u16(const cnp_date_params *d, const uint16_t *red,
                                   const uint16_t *nir, const uint8_t *observed, size_t n,
                                   float *ndvi, uint8_t *obs)
{
    if (n == 0)
        return CNP_OK;
    if (!d || !red || !nir || !ndvi || !obs)
        return CNP_E_ARG;

    const ptrdiff_t nn = (ptrdiff_t)n;
    #pragma omp parallel for schedule(static) default(none) \
        shared(d, red, nir, observed, ndvi, obs) firstprivate(nn)
    for (ptrdiff_t i = 0; i < nn; i++)
        observe_one(cnp_ndvi_dn(red[i], nir[i], d), observed && !observed[i], &ndvi[i], &obs[i]);
    return CNP_OK;
}

static int rule_ok(const cnp_monitor_rule *r)
{
    return r && isfinite(r->forest_ndvi) && isfinite(r->ndvi_drop) && r->ndvi_drop > 0.0 &&
           r->confirm_n >= 1 && r->confirm_m >= r->confirm_n && r->confirm_m <= 255;
}

static int pixels_ok(const cnp_monitor_pixels *p)
{
    return p && p->hist_k >= 0 && p->hist_k <= CNP_MONITOR_HIST_MAX &&
           (p->n == 0 ||
            (p->ndvi && p->obs && p->base_ndvi && p->base_date && p->state && p->n_obs &&
             p->n_loss && p->loss_dndvi && p->alert_id && p->dndvi && p->event &&
             (p->hist_k == 0 || p->hist)));
}

_Static_assert(CNP_MONITOR_HIST_MAX <= CNP_BASELINE_MAX, "history fits the median");

static inline uint8_t inc_sat(uint8_t v) { return v < 255 ? (uint8_t)(v + 1) : v; }

/* Clear observation v of pixel i (of n) goes into its history, the oldest of
 * k goes out; the baseline becomes the history's median. */
static void take_into_baseline(cnp_monitor_pixels *p, size_t i, size_t n, float v,
                               int32_t date)
{
    p->base_date[i] = date;
    if (p->hist_k == 0) {
        p->base_ndvi[i] = v;
        return;
    }
    float h[CNP_MONITOR_HIST_MAX];
    h[0] = v;
    for (int j = p->hist_k - 1; j > 0; j--)
        p->hist[(size_t)j * n + i] = h[j] = p->hist[(size_t)(j - 1) * n + i];
    p->hist[i] = v;
    int count;
    p->base_ndvi[i] = (float)cnp_baseline_median1(h, p->hist_k, 1, &count);
}

/* The greenest clear value of pixel i's history (b itself without one):
 * where forest is decided. */
static double greenest(const cnp_monitor_pixels *p, size_t i, size_t n, double b)
{
    double g = b;
    for (int j = 0; j < p->hist_k; j++) {
        const float x = p->hist[(size_t)j * n + i];
        if (x > g)          /* false for NAN */
            g = x;
    }
    return g;
}

cnp_status cnp_monitor_update(const cnp_monitor_rule *r, int32_t date, cnp_monitor_pixels *p,
                              cnp_monitor_counts *counts)
{
    if (!rule_ok(r) || !pixels_ok(p) || date <= 0)
        return CNP_E_ARG;

    const ptrdiff_t nn = (ptrdiff_t)p->n;
    const double forest = r->forest_ndvi, loss_at = -r->ndvi_drop;
    const int cn = r->confirm_n, cm = r->confirm_m;
    int64_t n_clear = 0, n_cloudy = 0, n_nodata = 0;
    int64_t n_trig = 0, n_sup = 0, n_conf = 0, n_contra = 0, n_rej = 0;

    #pragma omp parallel for schedule(static) default(none) \
        shared(p) firstprivate(nn, forest, loss_at, cn, cm, date) \
        reduction(+:n_clear, n_cloudy, n_nodata, n_trig, n_sup, n_conf, n_contra, n_rej)
    for (ptrdiff_t i = 0; i < nn; i++) {
        p->dndvi[i] = NAN;
        if (p->obs[i] != CNP_OBS_CLEAR) {
            p->event[i] = CNP_EV_UNSEEN;
            n_cloudy += p->obs[i] == CNP_OBS_CLOUDY;
            n_nodata += p->obs[i] != CNP_OBS_CLOUDY;
            continue;
        }
        n_clear++;
        const double v = p->ndvi[i], b = p->base_ndvi[i];
        if (isnan(b)) {
            /* First clear look at this pixel: only a baseline. */
            take_into_baseline(p, (size_t)i, (size_t)nn, (float)v, date);
            p->event[i] = CNP_EV_BASELINE;
            continue;
        }
        /* Normalised: detect's float dNDVI', compared as detect compares it. */
        const double d = p->dndvi_in && !isnan(p->dndvi_in[i]) ? (double)p->dndvi_in[i]
                                                                : v - b;
        const int loss = d <= loss_at;
        p->dndvi[i] = (float)d;

        switch (p->state[i]) {
        case CNP_PIX_PROBABLE:
            p->n_obs[i] = inc_sat(p->n_obs[i]);
            if (loss) {
                p->n_loss[i] = inc_sat(p->n_loss[i]);
                if (p->n_loss[i] >= cn) {
                    p->state[i] = CNP_PIX_CONFIRMED;
                    p->event[i] = CNP_EV_CONFIRM;
                    n_conf++;
                } else {
                    p->event[i] = CNP_EV_SUPPORT;
                    n_sup++;
                }
            } else if (cm - p->n_obs[i] < cn - p->n_loss[i]) {
                /* confirm_n losses are out of reach: the drop was not real. */
                p->state[i] = CNP_PIX_REJECTED;
                p->n_obs[i] = p->n_loss[i] = 0;
                p->alert_id[i] = 0;
                take_into_baseline(p, (size_t)i, (size_t)nn, (float)v, date);
                p->event[i] = CNP_EV_REJECT;
                n_rej++;
            } else {
                p->event[i] = CNP_EV_CONTRADICT;
                n_contra++;
            }
            break;
        case CNP_PIX_CONFIRMED:
            p->n_obs[i] = inc_sat(p->n_obs[i]);
            if (loss)
                p->n_loss[i] = inc_sat(p->n_loss[i]);
            p->event[i] = CNP_EV_OBSERVED;
            break;
        default:   /* NONE, REJECTED */
            if (loss && (!p->may_trigger || p->may_trigger[i]) &&
                greenest(p, (size_t)i, (size_t)nn, b) >= forest) {
                p->state[i] = cn <= 1 ? CNP_PIX_CONFIRMED : CNP_PIX_PROBABLE;
                p->n_obs[i] = p->n_loss[i] = 1;
                p->loss_dndvi[i] = (float)d;
                p->alert_id[i] = 0;
                p->event[i] = CNP_EV_TRIGGER;
                n_trig++;
            } else {
                take_into_baseline(p, (size_t)i, (size_t)nn, (float)v, date);
                p->event[i] = CNP_EV_BASELINE;
            }
            break;
        }
    }

    if (counts) {
        counts->clear += n_clear;
        counts->cloudy += n_cloudy;
        counts->nodata += n_nodata;
        counts->triggered += n_trig;
        counts->supported += n_sup;
        counts->confirmed += n_conf;
        counts->contradicted += n_contra;
        counts->rejected += n_rej;
    }
    return CNP_OK;
}

cnp_status cnp_monitor_assign_ids(size_t ncomp, const uint32_t *min_id,
                                  const int64_t *unassigned, const int64_t *pixels,
                                  int64_t min_pixels, uint32_t *next_id, uint32_t *out)
{
    if (!next_id || (ncomp > 0 && (!min_id || !unassigned || !pixels || !out)))
        return CNP_E_ARG;
    /* Serial on purpose: new ids are handed out in component order. */
    uint32_t next = *next_id;
    for (size_t c = 0; c < ncomp; c++) {
        out[c] = 0;
        if (unassigned[c] <= 0)
            continue;
        if (min_id[c] != 0) {
            out[c] = min_id[c];
        } else if (pixels[c] >= min_pixels) {
            if (next == UINT32_MAX)
                return CNP_E_ARG;
            out[c] = next++;
        }
    }
    *next_id = next;
    return CNP_OK;
}

int cnp_monitor_alert_status(int prev, int64_t probable_px, int64_t confirmed_px)
{
    if (prev == CNP_ALERT_REJECTED)
        return CNP_ALERT_REJECTED;
    if (confirmed_px > 0 || prev == CNP_ALERT_CONFIRMED)
        return CNP_ALERT_CONFIRMED;
    if (probable_px > 0)
        return CNP_ALERT_PROBABLE;
    return CNP_ALERT_REJECTED;
}

int cnp_monitor_obs_status(int64_t clear, int64_t cloudy, int64_t nodata)
{
    const int64_t total = clear + cloudy + nodata;
    if (total > 0 && 2 * clear >= total)
        return CNP_OBS_CLEAR;
    if (total > 0 && cloudy >= nodata)
        return CNP_OBS_CLOUDY;
    return CNP_OBS_NODATA;
}
