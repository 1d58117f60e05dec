/* pipeline/io/cnp_raster_shift.c - readers of a scene put on BEFORE by
 * co-registration: a source window with a halo, resampled by the kernel. */
#include "cnp_raster_shift.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_coreg.h"
#include "cnp_err.h"

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void cnp_shift_window(const cnp_scene *sc, int rw, int rh, int x0, int y0, int w, int h,
                      cnp_shift_win *out)
{
    /* Output pixel x reads source x - dx and x - dx + 1. */
    const int hx = (int)ceil(fabs(sc->shift_dx)) + 1, hy = (int)ceil(fabs(sc->shift_dy)) + 1;
    const int mx = (int)floor(-sc->shift_dx), my = (int)floor(-sc->shift_dy);
    const int sx0 = clampi(x0 + mx - hx, 0, rw), sx1 = clampi(x0 + w + mx + hx, 0, rw);
    const int sy0 = clampi(y0 + my - hy, 0, rh), sy1 = clampi(y0 + h + my + hy, 0, rh);
    out->x0 = sx0;
    out->y0 = sy0;
    out->w = sx1 - sx0;
    out->h = sy1 - sy0;
    out->ox = (double)x0 - sc->shift_dx - sx0;
    out->oy = (double)y0 - sc->shift_dy - sy0;
}

cnp_status cnp_shift_reserve(cnp_shift_bufs *b, size_t n)
{
    if (n <= b->cap)
        return CNP_OK;
    for (int i = 0; i < 2; i++) {
        float *p = realloc(b->plane[i], n * sizeof *p);
        if (p)
            b->plane[i] = p;
        uint8_t *f = realloc(b->flag[i], n);
        if (f)
            b->flag[i] = f;
        if (!p || !f)
            return cnp_err(CNP_E_NOMEM, "out of memory for co-registration");
    }
    b->cap = n;
    return CNP_OK;
}

void cnp_shift_bufs_free(cnp_shift_bufs *b)
{
    for (int i = 0; i < 2; i++) {
        free(b->plane[i]);
        free(b->flag[i]);
    }
    memset(b, 0, sizeof *b);
}

/* One plane of the source window resampled into out (stride w). */
static cnp_status shift_one(const cnp_shift_win *sw, const float *src, int has_nodata,
                            double nodata, double saturated, float fill, int w, int h, float *out,
                            uint8_t *valid)
{
    if (sw->w <= 0 || sw->h <= 0) {
        for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
            out[i] = fill;
        if (valid)
            memset(valid, 0, (size_t)w * (size_t)h);
        return CNP_OK;
    }
    const cnp_coreg_src s = { src, sw->w, sw->h, sw->w, has_nodata, nodata, saturated };
    if (cnp_coreg_shift_plane(&s, sw->ox, sw->oy, fill, out, w, h, w, valid) != CNP_OK)
        return cnp_err(CNP_E_ARG, "co-registration: bad resampling window");
    return CNP_OK;
}

static cnp_status shift_flags(const cnp_shift_win *sw, const uint8_t *src, int w, int h,
                              uint8_t *out)
{
    if (sw->w <= 0 || sw->h <= 0) {
        memset(out, 0, (size_t)w * (size_t)h);
        return CNP_OK;
    }
    if (cnp_coreg_shift_mask(src, sw->w, sw->h, sw->w, sw->ox, sw->oy, out, w, h, w) != CNP_OK)
        return cnp_err(CNP_E_ARG, "co-registration: bad resampling window");
    return CNP_OK;
}

cnp_status cnp_shift_pair(const cnp_scene *sc, const cnp_shift_win *sw, const cnp_shift_bufs *b,
                          int w, int h, float *red, float *nir, uint8_t *observed,
                          uint8_t *inside)
{
    const cnp_date_params *r = &sc->radiometry;
    const float fill_r = r->has_nodata_red ? (float)r->nodata_red : 0.0f;
    const float fill_n = r->has_nodata_nir ? (float)r->nodata_nir : 0.0f;
    cnp_status st;
    if ((st = shift_flags(sw, b->flag[0], w, h, observed)) != CNP_OK ||
        (inside && (st = shift_flags(sw, b->flag[1], w, h, inside)) != CNP_OK) ||
        (st = shift_one(sw, b->plane[0], r->has_nodata_red, r->nodata_red, r->saturated_dn,
                        fill_r, w, h, red, observed)) != CNP_OK ||
        (st = shift_one(sw, b->plane[1], r->has_nodata_nir, r->nodata_nir, r->saturated_dn,
                        fill_n, w, h, nir, observed)) != CNP_OK)
        return st;
    return CNP_OK;
}

cnp_status cnp_shift_band(const cnp_scene *sc, const cnp_shift_win *sw, const cnp_shift_bufs *b,
                          int has_nodata, double nodata, int w, int h, float *out)
{
    const double sat = sc->radiometry.saturated_dn;
    const float fill = has_nodata ? (float)nodata : isfinite(sat) ? (float)sat : 0.0f;
    return shift_one(sw, b->plane[0], has_nodata, nodata, sat, fill, w, h, out, NULL);
}
