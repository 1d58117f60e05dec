/* pipeline/monitor/cnp_monitor_gaps.c - the minimum mapping unit across
 * unobserved gaps in monitor, by detect's rule (kernels/cnp_gaps.h,
 * [detect] bridge_gap_m): pieces of alert pixels apart by a straight line of
 * at most so many unobserved pixels are one component, so they reach the
 * unit together and share one alert id; an alert whose pixels border
 * unobserved ones, or that was bridged, is partially observed.
 *
 * Unobserved, for a scene: a pixel it did not see clearly (cloud, shadow,
 * buffer, nodata, outside its swath) or one without a baseline before it
 * (never seen clearly, so loss could not be seen there), as detect's
 * unobserved is "not observed in both scenes". Pixels outside the area of
 * interest are neither, as in detect.
 */
#include "cnp_monitor_pass.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cnp_err.h"
#include "cnp_gaps.h"
#include "cnp_geom.h"
#include "cnp_monitor.h"

static int unobserved(const uint8_t *obs, const float *base, const uint8_t *why, size_t i)
{
    if (why && why[i] == CNP_CTX_OUTSIDE)
        return 0;
    return obs[i] != CNP_OBS_CLEAR || isnan(base[i]);
}

cnp_status mon_gaps_tile(const uint8_t *obs, const float *base, const uint8_t *why, int x0,
                         int y0, int tw, int th, cnp_run **runs, size_t *n, size_t *cap)
{
    *n = 0;
    for (int r = 0; r < th; r++) {
        const size_t row = (size_t)r * (size_t)tw;
        for (int x = 0; x < tw;) {
            if (!unobserved(obs, base, why, row + (size_t)x)) {
                x++;
                continue;
            }
            const int a = x;
            while (x < tw && unobserved(obs, base, why, row + (size_t)x))
                x++;
            const cnp_status st = cnp_grow((void **)runs, cap, *n + 1, sizeof **runs,
                                           "a monitor step");
            if (st != CNP_OK)
                return st;
            (*runs)[(*n)++] = (cnp_run){ y0 + r, x0 + a, x0 + x };
        }
    }
    return CNP_OK;
}

/* bridge_gap_m in pixels of the footprint's grid, at its centre (as detect
 * measures it at its window's centre). */
static cnp_status gap_px(const mon_step *s, int *out)
{
    const mon_fp *fp = s->fp;
    char what[200];
    cnp_crs *crs = NULL;
    double a = 0;
    *out = 0;
    if (s->c->s->bridge_gap_m <= 0)
        return CNP_OK;
    snprintf(what, sizeof what, "the CRS of footprint %s", fp->key);
    cnp_status st = cnp_crs_open(fp->wkt, fp->gt, what, &crs);
    if (st == CNP_OK)
        st = cnp_crs_pixel_area_m2(crs, fp->width / 2.0, fp->height / 2.0, &a);
    cnp_crs_close(&crs);
    if (st == CNP_OK)
        *out = cnp_gaps_gap_px(s->c->s->bridge_gap_m, sqrt(a));
    return st;
}

cnp_status mon_gaps_bridge(mon_step *s)
{
    cnp_status st = gap_px(s, &s->bridge_gap_px);
    if (st != CNP_OK)
        return st;
    free(s->run_flags);
    s->run_flags = malloc(s->act.n + 1);
    if (!s->run_flags)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    size_t nb = 0;
    st = cnp_gaps_bridge(&s->act, &s->unobs, s->bridge_gap_px, s->run_flags, &nb);
    if (st != CNP_OK)
        return cnp_err(st, st == CNP_E_NOMEM ? "out of memory joining alerts across gaps"
                                             : "joining alerts across gaps: bad runs");
    s->bridges = (int64_t)nb;
    return CNP_OK;
}

void mon_gaps_partial(mon_step *s)
{
    for (size_t j = 0; j < s->nsegs; j++) {
        const mon_id_seg *g = &s->segs[j];
        if (g->id && g->id < s->nacc && s->run_flags[g->run])
            s->acc[g->id].partial = 1;
    }
}
