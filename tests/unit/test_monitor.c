/* tests/unit/test_monitor.c - the per-pixel monitoring rules (kernels/cnp_monitor). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_monitor.h"
#include "cnp_test.h"

enum { NPX = 8 };

/* A small state: NPX pixels, all NONE with no baseline. */
typedef struct st8 {
    float    ndvi[NPX], base[NPX], loss[NPX], dndvi[NPX];
    uint8_t  obs[NPX], state[NPX], nobs[NPX], nloss[NPX], ev[NPX];
    int32_t  date[NPX];
    uint32_t id[NPX];
} st8;

static void st_init(st8 *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < NPX; i++) {
        s->base[i] = NAN;
        s->loss[i] = NAN;
    }
}

static cnp_monitor_pixels st_view(st8 *s)
{
    cnp_monitor_pixels p = { NPX, s->ndvi, s->obs, s->base, s->date, s->state, s->nobs,
                             s->nloss, s->loss, s->id, s->dndvi, s->ev, 0, NULL, NULL, NULL };
    return p;
}

static const cnp_monitor_rule rule22 = { 0.65, 0.25, 2, 2 };

/* Observe every pixel clear with NDVI v (or cloudy where v is NAN). */
static void see(st8 *s, const cnp_monitor_rule *r, int32_t date, const float v[NPX],
                cnp_monitor_counts *c)
{
    for (int i = 0; i < NPX; i++) {
        s->ndvi[i] = v[i];
        s->obs[i] = isnan(v[i]) ? CNP_OBS_CLOUDY : CNP_OBS_CLEAR;
    }
    cnp_monitor_pixels p = st_view(s);
    CHECK(cnp_monitor_update(r, date, &p, c) == CNP_OK);
}

static void test_observe_classes(void)
{
    const cnp_date_params d = { 1e-4, 0, 1, 1, 0, 0, 65535 };
    const float red[4] = { 500, 0, 500, 500 }, nir[4] = { 3500, 3000, 3500, 65535 };
    const uint8_t observed[4] = { 1, 1, 0, 1 };
    float ndvi[4];
    uint8_t obs[4];
    CHECK(cnp_monitor_observe(&d, red, nir, observed, 4, ndvi, obs) == CNP_OK);
    CHECK(obs[0] == CNP_OBS_CLEAR);
    CHECK_NEAR(ndvi[0], 0.75, 1e-6);
    CHECK(obs[1] == CNP_OBS_NODATA && isnan(ndvi[1]));    /* red == nodata */
    CHECK(obs[2] == CNP_OBS_CLOUDY && isnan(ndvi[2]));    /* masked */
    CHECK(obs[3] == CNP_OBS_NODATA && isnan(ndvi[3]));    /* saturated */
    CHECK(cnp_monitor_observe(&d, red, nir, NULL, 4, ndvi, obs) == CNP_OK);
    CHECK(obs[2] == CNP_OBS_CLEAR);
    CHECK(cnp_monitor_observe(&d, NULL, nir, NULL, 4, ndvi, obs) == CNP_E_ARG);
    CHECK(cnp_monitor_observe(&d, NULL, NULL, NULL, 0, NULL, NULL) == CNP_OK);
}

static void test_probable_then_confirmed(void)
{
    st8 s;
    cnp_monitor_counts c = { 0 };
    st_init(&s);
    const float forest[NPX] = { .8f, .8f, .8f, .8f, .8f, .8f, .8f, .8f };
    const float cut[NPX] = { .3f, .3f, .8f, .8f, .8f, .8f, .8f, .8f };
    see(&s, &rule22, 20240101, forest, &c);
    CHECK(s.ev[0] == CNP_EV_BASELINE && s.date[0] == 20240101 && s.state[0] == CNP_PIX_NONE);
    s.id[0] = 77;   /* a stale id is cleared on trigger */
    see(&s, &rule22, 20240111, cut, &c);
    CHECK(s.state[0] == CNP_PIX_PROBABLE && s.ev[0] == CNP_EV_TRIGGER);
    CHECK(s.id[0] == 0);
    CHECK_NEAR(s.loss[0], .3 - .8, 1e-6);
    CHECK_NEAR(s.dndvi[0], .3 - .8, 1e-6);
    CHECK_NEAR(s.base[0], .8, 1e-6);         /* pre-loss baseline kept */
    CHECK(s.date[0] == 20240101);
    CHECK(s.state[2] == CNP_PIX_NONE && s.date[2] == 20240111);  /* refreshed */
    see(&s, &rule22, 20240121, cut, &c);
    CHECK(s.state[0] == CNP_PIX_CONFIRMED && s.ev[0] == CNP_EV_CONFIRM);
    CHECK(c.triggered == 2 && c.confirmed == 2 && c.rejected == 0);
    /* Confirmed is terminal, also when NDVI recovers. */
    see(&s, &rule22, 20240131, forest, &c);
    CHECK(s.state[0] == CNP_PIX_CONFIRMED && s.ev[0] == CNP_EV_OBSERVED);
    CHECK_NEAR(s.base[0], .8, 1e-6);
}

static void test_cloud_fringe_rejected(void)
{
    st8 s;
    st_init(&s);
    const float forest[NPX] = { .8f, .8f, .8f, .8f, .8f, .8f, .8f, .8f };
    const float fringe[NPX] = { .45f, .8f, .8f, .8f, .8f, .8f, .8f, .8f };
    const float cloud[NPX] = { NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN };
    const float back[NPX] = { .78f, .8f, .8f, .8f, .8f, .8f, .8f, .8f };
    see(&s, &rule22, 20240101, forest, NULL);
    see(&s, &rule22, 20240111, fringe, NULL);
    CHECK(s.state[0] == CNP_PIX_PROBABLE);
    s.id[0] = 5;
    /* Under cloud: nothing changes. */
    see(&s, &rule22, 20240121, cloud, NULL);
    CHECK(s.state[0] == CNP_PIX_PROBABLE && s.ev[0] == CNP_EV_UNSEEN && s.id[0] == 5);
    CHECK(isnan(s.dndvi[0]));
    see(&s, &rule22, 20240131, back, NULL);
    CHECK(s.state[0] == CNP_PIX_REJECTED && s.ev[0] == CNP_EV_REJECT);
    CHECK(s.id[0] == 0 && s.nobs[0] == 0 && s.nloss[0] == 0);
    CHECK_NEAR(s.base[0], .78, 1e-6);
    CHECK(s.date[0] == 20240131);
    /* A real clearing later on a rejected pixel triggers a new episode. */
    const float cut[NPX] = { .2f, .8f, .8f, .8f, .8f, .8f, .8f, .8f };
    see(&s, &rule22, 20240210, cut, NULL);
    CHECK(s.state[0] == CNP_PIX_PROBABLE && s.ev[0] == CNP_EV_TRIGGER);
}

static void test_baseline_most_recent_clear(void)
{
    st8 s;
    st_init(&s);
    const float a[NPX] = { .7f, .7f, .7f, .7f, .7f, .7f, .7f, .7f };
    const float b[NPX] = { NAN, .72f, .72f, .72f, .72f, .72f, .72f, .72f };
    const float c[NPX] = { .5f, .5f, .5f, .5f, .5f, .5f, .5f, .5f };
    see(&s, &rule22, 20240101, a, NULL);
    see(&s, &rule22, 20240111, b, NULL);     /* pixel 0 cloudy: keeps the 0101 baseline */
    CHECK(s.date[0] == 20240101 && s.date[1] == 20240111);
    see(&s, &rule22, 20240121, c, NULL);     /* drop .2 < .25: no loss, refresh */
    CHECK(s.state[0] == CNP_PIX_NONE && s.date[0] == 20240121);
    CHECK_NEAR(s.base[0], .5, 1e-6);
    /* Non-forest baseline: a big drop is not forest loss. */
    const float d[NPX] = { .1f, .1f, .1f, .1f, .1f, .1f, .1f, .1f };
    see(&s, &rule22, 20240131, d, NULL);
    CHECK(s.state[0] == CNP_PIX_NONE && s.ev[0] == CNP_EV_BASELINE);
}

static void test_threshold_boundaries(void)
{
    st8 s;
    st_init(&s);
    /* Exactly at forest_ndvi and exactly at -ndvi_drop (both inclusive), with
     * values exact in binary. */
    const cnp_monitor_rule r = { 0.625, 0.25, 2, 2 };
    const float base[NPX] = { .625f, .625f, .5f, .625f, .625f, .625f, .625f, .625f };
    const float next[NPX] = { .375f, .5f, .25f, .625f, .625f, .625f, .625f, .625f };
    see(&s, &r, 20240101, base, NULL);
    see(&s, &r, 20240102, next, NULL);
    CHECK(s.state[0] == CNP_PIX_PROBABLE);   /* dNDVI == -0.25, forest == 0.625 */
    CHECK(s.state[1] == CNP_PIX_NONE);       /* dNDVI -0.125 */
    CHECK(s.state[2] == CNP_PIX_NONE);       /* baseline 0.5 < 0.625 */
}

/* A pixel an outside mask rules out (may_trigger 0) takes its observations
 * into its baseline but never triggers; its neighbours do as before. */
static void test_may_trigger(void)
{
    st8 s;
    st_init(&s);
    const uint8_t may[NPX] = { 1, 0, 1, 0, 1, 1, 1, 1 };
    const float base[NPX] = { .8f, .8f, .8f, .8f, .8f, .8f, .8f, .8f };
    const float next[NPX] = { .3f, .3f, .8f, .8f, .8f, .8f, .8f, .8f };
    see(&s, &rule22, 20240101, base, NULL);
    for (int i = 0; i < NPX; i++)
        s.ndvi[i] = next[i];
    cnp_monitor_pixels p = st_view(&s);
    p.may_trigger = may;
    cnp_monitor_counts c = { 0 };
    CHECK(cnp_monitor_update(&rule22, 20240111, &p, &c) == CNP_OK);
    CHECK(s.state[0] == CNP_PIX_PROBABLE && s.ev[0] == CNP_EV_TRIGGER);
    CHECK(s.state[1] == CNP_PIX_NONE && s.ev[1] == CNP_EV_BASELINE);
    CHECK(s.date[1] == 20240111 && c.triggered == 1 && c.clear == NPX);
}

static void test_n_of_m(void)
{
    st8 s;
    st_init(&s);
    const cnp_monitor_rule r23 = { 0.65, 0.25, 2, 3 };
    const float forest[NPX] = { .8f, .8f, .8f, .8f, .8f, .8f, .8f, .8f };
    const float cut[NPX] = { .3f, .3f, .3f, .8f, .8f, .8f, .8f, .8f };
    const float mix[NPX] = { .8f, .8f, .3f, .8f, .8f, .8f, .8f, .8f };
    see(&s, &r23, 1, forest, NULL);
    see(&s, &r23, 2, cut, NULL);                       /* 1 of 1 */
    see(&s, &r23, 3, mix, NULL);                       /* px0,1: 1 of 2 */
    CHECK(s.state[0] == CNP_PIX_PROBABLE && s.ev[0] == CNP_EV_CONTRADICT);
    CHECK(s.state[2] == CNP_PIX_CONFIRMED);            /* 2 of 2 */
    const float third[NPX] = { .3f, .8f, .3f, .8f, .8f, .8f, .8f, .8f };
    see(&s, &r23, 4, third, NULL);
    CHECK(s.state[0] == CNP_PIX_CONFIRMED);            /* 2 of 3 */
    CHECK(s.state[1] == CNP_PIX_REJECTED);             /* 1 of 3 */

    /* 1 of 1: confirmed at first sight. */
    const cnp_monitor_rule r11 = { 0.65, 0.25, 1, 1 };
    st_init(&s);
    see(&s, &r11, 1, forest, NULL);
    see(&s, &r11, 2, cut, NULL);
    CHECK(s.state[0] == CNP_PIX_CONFIRMED && s.ev[0] == CNP_EV_TRIGGER);
}

static void test_bad_arguments(void)
{
    st8 s;
    st_init(&s);
    cnp_monitor_pixels p = st_view(&s);
    cnp_monitor_rule r = rule22;
    CHECK(cnp_monitor_update(NULL, 1, &p, NULL) == CNP_E_ARG);
    CHECK(cnp_monitor_update(&r, 0, &p, NULL) == CNP_E_ARG);
    r.confirm_n = 3;
    CHECK(cnp_monitor_update(&r, 1, &p, NULL) == CNP_E_ARG);   /* n > m */
    r = rule22;
    r.ndvi_drop = 0;
    CHECK(cnp_monitor_update(&r, 1, &p, NULL) == CNP_E_ARG);
    r = rule22;
    r.confirm_m = 256;
    r.confirm_n = 1;
    CHECK(cnp_monitor_update(&r, 1, &p, NULL) == CNP_E_ARG);
    float hist[3 * NPX];
    p.hist_k = 3;
    CHECK(cnp_monitor_update(&rule22, 1, &p, NULL) == CNP_E_ARG);   /* no hist */
    p.hist = hist;
    p.hist_k = CNP_MONITOR_HIST_MAX + 1;
    CHECK(cnp_monitor_update(&rule22, 1, &p, NULL) == CNP_E_ARG);
    p.hist_k = 3;
    p.state = NULL;
    CHECK(cnp_monitor_update(&rule22, 1, &p, NULL) == CNP_E_ARG);
}

static void test_assign_ids(void)
{
    /* Components: 0 touches alerts 4 and 2 -> 2 (oldest); 1 is new and big
     * enough -> 10; 2 is new but small -> 0; 3 has nothing unassigned -> 0;
     * 4 new and big -> 11 (component order). */
    const uint32_t min_id[5] = { 2, 0, 0, 3, 0 };
    const int64_t unassigned[5] = { 5, 60, 10, 0, 50 };
    const int64_t pixels[5] = { 90, 60, 10, 40, 50 };
    uint32_t out[5], next = 10;
    CHECK(cnp_monitor_assign_ids(5, min_id, unassigned, pixels, 50, &next, out) == CNP_OK);
    CHECK(out[0] == 2 && out[1] == 10 && out[2] == 0 && out[3] == 0 && out[4] == 11);
    CHECK(next == 12);
    next = UINT32_MAX;
    CHECK(cnp_monitor_assign_ids(5, min_id, unassigned, pixels, 50, &next, out) == CNP_E_ARG);
    CHECK(cnp_monitor_assign_ids(0, NULL, NULL, NULL, 1, &next, NULL) == CNP_OK);
}

static void test_alert_and_obs_status(void)
{
    CHECK(cnp_monitor_alert_status(CNP_ALERT_PROBABLE, 10, 0) == CNP_ALERT_PROBABLE);
    CHECK(cnp_monitor_alert_status(CNP_ALERT_PROBABLE, 10, 1) == CNP_ALERT_CONFIRMED);
    CHECK(cnp_monitor_alert_status(CNP_ALERT_PROBABLE, 0, 0) == CNP_ALERT_REJECTED);
    CHECK(cnp_monitor_alert_status(CNP_ALERT_CONFIRMED, 0, 0) == CNP_ALERT_CONFIRMED);
    CHECK(cnp_monitor_alert_status(CNP_ALERT_REJECTED, 5, 5) == CNP_ALERT_REJECTED);
    CHECK(cnp_monitor_obs_status(5, 5, 0) == CNP_OBS_CLEAR);
    CHECK(cnp_monitor_obs_status(4, 5, 0) == CNP_OBS_CLOUDY);
    CHECK(cnp_monitor_obs_status(1, 2, 2) == CNP_OBS_CLOUDY);
    CHECK(cnp_monitor_obs_status(1, 1, 2) == CNP_OBS_NODATA);
    CHECK(cnp_monitor_obs_status(0, 0, 0) == CNP_OBS_NODATA);
}

/* One pixel with a history of K, for the baseline-median tests. */
typedef struct px1 {
    float    ndvi, base, loss, dndvi, hist[CNP_MONITOR_HIST_MAX];
    uint8_t  obs, state, nobs, nloss, ev;
    int32_t  date;
    uint32_t id;
} px1;

static void px_init(px1 *s)
{
    memset(s, 0, sizeof *s);
    s->base = s->loss = NAN;
    for (int j = 0; j < CNP_MONITOR_HIST_MAX; j++)
        s->hist[j] = NAN;
}

/* The series v[0..n) seen clear (NAN: cloudy) with a history of k; the
 * events in ev[]. */
static void px_series(px1 *s, int k, const float *v, int n, uint8_t *ev)
{
    for (int t = 0; t < n; t++) {
        s->ndvi = v[t];
        s->obs = isnan(v[t]) ? CNP_OBS_CLOUDY : CNP_OBS_CLEAR;
        cnp_monitor_pixels p = { 1, &s->ndvi, &s->obs, &s->base, &s->date, &s->state, &s->nobs,
                                 &s->nloss, &s->loss, &s->id, &s->dndvi, &s->ev, k, s->hist, NULL,
                                 NULL };
        CHECK(cnp_monitor_update(&rule22, 20240101 + t, &p, NULL) == CNP_OK);
        ev[t] = s->ev;
    }
}

/* Dry-season forest (0.70) with one greener wet-season date (0.90): against
 * the last observation alone the next dry date is a loss of 0.20 + noise,
 * confirmed by the one after; the median of three ignores the wet date. */
static void test_median_ignores_one_date(void)
{
    const float v[] = { .70f, .71f, .69f, .95f, .68f, .69f, .70f };
    uint8_t ev[7];
    px1 s;
    px_init(&s);
    px_series(&s, 1, v, 7, ev);
    CHECK(ev[4] == CNP_EV_TRIGGER && ev[5] == CNP_EV_CONFIRM);
    CHECK(s.state == CNP_PIX_CONFIRMED);
    px_init(&s);
    px_series(&s, 0, v, 7, ev);             /* no history: as K = 1 */
    CHECK(ev[4] == CNP_EV_TRIGGER && s.state == CNP_PIX_CONFIRMED);
    px_init(&s);
    px_series(&s, 3, v, 7, ev);
    for (int t = 0; t < 7; t++)
        CHECK(ev[t] == CNP_EV_BASELINE);
    CHECK(s.state == CNP_PIX_NONE);
    /* history newest first; baseline = median(0.70, 0.68, 0.95) */
    CHECK(s.hist[0] == .70f && s.hist[1] == .69f && s.hist[2] == .68f && isnan(s.hist[3]));
    CHECK(s.base == .69f && s.date == 20240107);
}

/* The history fills from one observation (median of what is there), skips
 * cloudy dates, keeps the pre-loss history through an episode, takes the
 * rejecting observation, and still finds a real clearing. */
static void test_history_through_episodes(void)
{
    const float nan = NAN;
    uint8_t ev[8];
    px1 s;
    px_init(&s);
    const float a[] = { .80f, nan, .90f, .50f, .85f, .30f, .30f };
    px_series(&s, 3, a, 7, ev);
    CHECK(ev[0] == CNP_EV_BASELINE && ev[1] == CNP_EV_UNSEEN && ev[2] == CNP_EV_BASELINE);
    /* after .80 and .90 the baseline is their mean, 0.85: .50 triggers */
    CHECK(ev[3] == CNP_EV_TRIGGER);
    /* .85 contradicts with 2/2: rejected, and .85 joins the history */
    CHECK(ev[4] == CNP_EV_REJECT);
    CHECK(s.hist[0] == .85f && s.hist[1] == .90f && s.hist[2] == .80f);
    CHECK(s.base == .85f);
    CHECK(ev[5] == CNP_EV_TRIGGER && ev[6] == CNP_EV_CONFIRM);
    CHECK(s.hist[0] == .85f && s.base == .85f);   /* the forest it was */
    CHECK_NEAR(s.loss, .30 - .85, 1e-6);
}

/* Forest is decided on the greenest value of the history, the change on its
 * median: dry-season deciduous forest (median below forest_ndvi) still
 * alerts when it is cleared. */
static void test_forest_on_greenest(void)
{
    const float v[] = { .62f, .80f, .60f, .30f, .30f };
    uint8_t ev[5];
    px1 s;
    px_init(&s);
    px_series(&s, 3, v, 5, ev);
    CHECK(s.base == .62f);
    CHECK(ev[3] == CNP_EV_TRIGGER && ev[4] == CNP_EV_CONFIRM);
    const float w[] = { .62f, .60f, .61f, .30f };   /* never forest */
    px_init(&s);
    px_series(&s, 3, w, 4, ev);
    CHECK(ev[3] == CNP_EV_BASELINE && s.state == CNP_PIX_NONE);
}

/* A state written without histories: a history of one (its baseline), which
 * fills up as new observations come. */
static void test_history_of_one(void)
{
    px1 s;
    uint8_t ev[3];
    px_init(&s);
    s.base = .80f;
    s.hist[0] = .80f;
    s.date = 20231201;
    const float v[] = { .60f, .82f, .81f };
    px_series(&s, 3, v, 1, ev);
    CHECK(ev[0] == CNP_EV_BASELINE);              /* a drop of 0.20 only */
    CHECK_NEAR(s.base, .70, 1e-6);
    px_series(&s, 3, v + 1, 2, ev);
    CHECK(s.base == .81f && s.hist[2] == .60f);
}

/* A larger random sequence: the update is per pixel, so applying it to the
 * whole array or pixel by pixel must agree (and 1 vs 4 threads, via the runner). */
static void test_bulk_equals_per_pixel(void)
{
    enum { N = 4099, DATES = 12 };
    float *ndvi = malloc(N * sizeof *ndvi), *base = malloc(N * sizeof *base);
    float *loss = malloc(N * sizeof *loss), *dd = malloc(N * sizeof *dd);
    float *base1 = malloc(N * sizeof *base1), *loss1 = malloc(N * sizeof *loss1);
    uint8_t *obs = malloc(N), *state = calloc(N, 1), *nobs = calloc(N, 1), *nloss = calloc(N, 1);
    uint8_t *ev = malloc(N), *state1 = calloc(N, 1), *nobs1 = calloc(N, 1), *nloss1 = calloc(N, 1);
    int32_t *date = calloc(N, sizeof *date), *date1 = calloc(N, sizeof *date1);
    uint32_t *id = calloc(N, sizeof *id), *id1 = calloc(N, sizeof *id1);
    float *hist = malloc(3 * N * sizeof *hist), *hist1 = malloc(3 * N * sizeof *hist1);
    const cnp_monitor_rule r = { 0.6, 0.2, 2, 3 };
    uint64_t x = 88172645463325252ull;
    int same = 1;

    for (int i = 0; i < N; i++)
        base[i] = base1[i] = loss[i] = loss1[i] = NAN;
    for (int i = 0; i < 3 * N; i++)
        hist[i] = hist1[i] = NAN;
    for (int t = 1; t <= DATES; t++) {
        for (int i = 0; i < N; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            ndvi[i] = (float)((x % 1000) / 1000.0);
            obs[i] = (uint8_t)((x >> 20) % 4 == 0 ? CNP_OBS_CLOUDY : CNP_OBS_CLEAR);
            if (obs[i] != CNP_OBS_CLEAR)
                ndvi[i] = NAN;
        }
        cnp_monitor_pixels p = { N, ndvi, obs, base, date, state, nobs, nloss, loss, id, dd, ev,
                                 3, hist, NULL, NULL };
        CHECK(cnp_monitor_update(&r, t, &p, NULL) == CNP_OK);
        for (int i = 0; i < N; i++) {
            float dd1;
            uint8_t ev1;
            cnp_monitor_pixels q = { 1, &ndvi[i], &obs[i], &base1[i], &date1[i], &state1[i],
                                     &nobs1[i], &nloss1[i], &loss1[i], &id1[i], &dd1, &ev1,
                                     3, &hist1[3 * i], NULL, NULL };
            CHECK(cnp_monitor_update(&r, t, &q, NULL) == CNP_OK);
            if (state1[i] != state[i] || ev1 != ev[i] || date1[i] != date[i] ||
                memcmp(&base1[i], &base[i], sizeof(float)) != 0)
                same = 0;
            for (int j = 0; j < 3; j++)
                if (memcmp(&hist1[3 * i + j], &hist[(size_t)j * N + i], sizeof(float)) != 0)
                    same = 0;
        }
    }
    CHECK(same);
    free(ndvi); free(base); free(loss); free(dd); free(base1); free(loss1);
    free(obs); free(state); free(nobs); free(nloss); free(ev); free(state1); free(nobs1);
    free(nloss1); free(date); free(date1); free(id); free(id1); free(hist); free(hist1);
}

/* A normalised dNDVI (dndvi_in) decides loss instead of v - b, and is the
 * dNDVI the update reports; the NDVI given goes into the baseline. */
static void test_normalised_dndvi(void)
{
    st8 s;
    st_init(&s);
    const float base[NPX] = { .8f, .8f, .8f, .8f, .8f, .8f, .8f, .8f };
    /* v - b: -0.3 (loss) at 0, -0.1 at 1; normalised: -0.125 and -0.375. */
    const float next[NPX] = { .5f, .7f, .8f, .8f, .8f, .8f, .8f, .8f };
    const float dn[NPX] = { -.125f, -.375f, 0, 0, 0, 0, 0, 0 };
    see(&s, &rule22, 20240101, base, NULL);
    for (int i = 0; i < NPX; i++)
        s.ndvi[i] = next[i];
    cnp_monitor_pixels p = st_view(&s);
    p.dndvi_in = dn;
    CHECK(cnp_monitor_update(&rule22, 20240111, &p, NULL) == CNP_OK);
    CHECK(s.state[0] == CNP_PIX_NONE && s.ev[0] == CNP_EV_BASELINE);
    CHECK(s.dndvi[0] == -.125f && s.base[0] == .5f);
    CHECK(s.state[1] == CNP_PIX_PROBABLE && s.loss[1] == -.375f && s.base[1] == .8f);
}

CNP_TEST_MAIN("monitor",
              TEST_CASE(test_observe_classes),
              TEST_CASE(test_probable_then_confirmed),
              TEST_CASE(test_cloud_fringe_rejected),
              TEST_CASE(test_baseline_most_recent_clear),
              TEST_CASE(test_threshold_boundaries),
              TEST_CASE(test_may_trigger),
              TEST_CASE(test_n_of_m),
              TEST_CASE(test_bad_arguments),
              TEST_CASE(test_assign_ids),
              TEST_CASE(test_alert_and_obs_status),
              TEST_CASE(test_median_ignores_one_date),
              TEST_CASE(test_history_through_episodes),
              TEST_CASE(test_forest_on_greenest),
              TEST_CASE(test_history_of_one),
              TEST_CASE(test_bulk_equals_per_pixel),
              TEST_CASE(test_normalised_dndvi))
