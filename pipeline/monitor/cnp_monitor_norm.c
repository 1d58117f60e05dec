/* pipeline/monitor/cnp_monitor_norm.c - detect's corrections of a new scene
 * in the monitor: the relative normalisation of its NDVI against the
 * footprint's baseline, and the haze test.
 *
 * As detect's two halves (core/cnp_losspass_halves.c), on the footprint's
 * grid: a first pass over the scene gathers the normalisation's reference
 * pixels (the scene's NDVI against the baseline NDVI, the median of each
 * pixel's last clear observations: with one earlier scene exactly BEFORE's
 * NDVI) and the scene's clear line; then the corrections are made once, by
 * detect's code (core/cnp_corrections.h), and the pass that updates the
 * state applies them tile by tile. The window is the part of the grid the
 * scene covers, as detect's window is the part both scenes cover, so cells
 * fall where detect puts them. Unlike detect, nothing is kept between the
 * passes: the scene is read twice, which costs less than a spill file of
 * every footprint's pixels would.
 */
#include "cnp_monitor_pass.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_classes.h"
#include "cnp_corrections.h"
#include "cnp_err.h"

struct mon_norm {
    const cnp_scene *sc;
    int             win[4];
    int             mode;            /* CNP_NORMALIZE_*; OFF without a baseline */
    int             haze;            /* the haze test applies                   */
    cnp_norm_params norm;
    cnp_norm_grid  *grid;            /* the first pass's reference pixels       */
    cnp_corr_norm   corr;            /* then the corrections per cell           */
    cnp_haze_params haze_params;
    cnp_haze_line   haze_line;
    cnp_haze_hist   haze_hist;
    cnp_haze_lut   *haze_lut;        /* UInt16 DNs: the clear line by table     */
    int             haze_fitted;
    int             haze_unfit;      /* no line of its own, no SWIR2: not tested */
    int64_t         hazy;            /* clear by the mask, taken out as haze    */
};

struct mon_norm_ws {
    cnp_norm_grid *ng;               /* the tile's reference pixels              */
    cnp_haze_hist *hh;               /* the tile's clear-line counts             */
    float         *blue, *zero, *fixed;
    uint16_t      *blue16;
    uint8_t       *flags;
    int            blue_u16;         /* blue kept as UInt16 (the table applies)  */
    int64_t        hazy;
};

cnp_status mon_norm_open(const mon_ctx *c, const mon_fp *fp, const cnp_scene *sc,
                         const int win[4], mon_norm **out)
{
    *out = NULL;
    const int has_base = fp->store || fp->dir[0];
    const int mode = has_base ? c->normalize : CNP_NORMALIZE_OFF;
    const int haze = c->haze && sc->blue > 0;
    if (mode == CNP_NORMALIZE_OFF && !haze)
        return CNP_OK;
    mon_norm *m = calloc(1, sizeof *m);
    if (!m)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    m->sc = sc;
    memcpy(m->win, win, sizeof m->win);
    m->mode = mode;
    m->haze = haze;
    cnp_haze_defaults(&m->haze_params, &m->haze_line);
    cnp_status st = CNP_OK;
    if (mode != CNP_NORMALIZE_OFF) {
        cnp_settings s = *c->s;
        s.normalize = mode;
        if ((st = cnp_corr_norm_params(&s, sc->pixel_m, win[2], win[3], &m->norm)) == CNP_OK &&
            cnp_norm_grid_create(&m->norm, win[2], win[3], 0, -1, &m->grid) != CNP_OK)
            st = cnp_err(CNP_E_NOMEM, "out of memory for the normalisation grid");
    }
    /* Without the table the same counts, only slower. */
    if (st == CNP_OK && haze && (m->haze_lut = malloc(sizeof *m->haze_lut)))
        cnp_haze_lut_init(m->haze_lut, &m->haze_params, sc->radiometry.scale,
                          sc->radiometry.offset);
    if (st != CNP_OK)
        mon_norm_free(&m);
    *out = m;
    return st;
}

void mon_norm_free(mon_norm **pm)
{
    if (!pm || !*pm)
        return;
    mon_norm *m = *pm;
    cnp_norm_grid_free(&m->grid);
    cnp_corr_norm_free(&m->corr);
    free(m->haze_lut);
    free(m);
    *pm = NULL;
}

cnp_status mon_norm_ws_open(const mon_norm *m, cnp_reader *rd, size_t n, mon_norm_ws **out)
{
    mon_norm_ws *w = calloc(1, sizeof *w);
    *out = w;
    if (!w)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    if (m->haze) {
        w->blue = malloc(n * sizeof *w->blue);
        w->blue16 = malloc(n * sizeof *w->blue16);
        w->flags = malloc(n);
        w->hh = calloc(1, sizeof *w->hh);
        w->blue_u16 = cnp_reader_dn_u16(rd) && cnp_reader_band_u16(rd, m->sc->blue);
        if (!w->blue || !w->blue16 || !w->flags || !w->hh)
            return cnp_err(CNP_E_NOMEM, "out of memory for the haze test");
    }
    if (m->mode != CNP_NORMALIZE_OFF) {
        w->zero = calloc(n, sizeof *w->zero);
        w->fixed = malloc(n * sizeof *w->fixed);
        if (!w->zero || !w->fixed)
            return cnp_err(CNP_E_NOMEM, "out of memory for the normalisation");
    }
    return CNP_OK;
}

void mon_norm_ws_free(mon_norm_ws **pw)
{
    if (!pw || !*pw)
        return;
    mon_norm_ws *w = *pw;
    cnp_norm_grid_free(&w->ng);
    free(w->hh);
    free(w->blue);
    free(w->blue16);
    free(w->zero);
    free(w->fixed);
    free(w->flags);
    free(w);
    *pw = NULL;
}

/* The part of tile t inside the window, relative to the window, as a
 * cnp_norm_tile over `before` and `after` (tile planes); 0 when none. */
static int clip(const mon_norm *m, const mon_norm_tile *t, const float *before,
                const float *after, cnp_norm_tile *nt, size_t *off)
{
    const int x0 = t->x0 > m->win[0] ? t->x0 : m->win[0];
    const int y0 = t->y0 > m->win[1] ? t->y0 : m->win[1];
    const int x1 = t->x0 + t->tw < m->win[0] + m->win[2] ? t->x0 + t->tw : m->win[0] + m->win[2];
    const int y1 = t->y0 + t->th < m->win[1] + m->win[3] ? t->y0 + t->th : m->win[1] + m->win[3];
    if (x0 >= x1 || y0 >= y1)
        return 0;
    *off = (size_t)(y0 - t->y0) * (size_t)t->tw + (size_t)(x0 - t->x0);
    *nt = (cnp_norm_tile){ x0 - m->win[0], y0 - m->win[1], x1 - x0, y1 - y0, t->tw,
                           before + *off, after + *off };
    return 1;
}

/* The tile's blue DNs, and the view of its bands the haze test takes. */
static cnp_status haze_bands(const mon_norm *m, mon_norm_ws *w, cnp_reader *rd,
                             const mon_norm_tile *t, size_t n, cnp_haze_dn *d)
{
    const cnp_status st = cnp_reader_read_band(rd, m->sc->blue, t->x0, t->y0, t->tw, t->th,
                                               w->blue);
    if (st != CNP_OK)
        return st;
    if (w->blue_u16)
        cnp_classes_u16(w->blue, n, w->blue16);     /* whole numbers: kept exactly */
    *d = cnp_corr_haze_dn(rd, m->sc, w->blue, w->blue_u16 ? w->blue16 : NULL, t->dn_u16,
                          t->red, t->nir, t->ndvi);
    return CNP_OK;
}

cnp_status mon_norm_gather(const mon_norm *m, mon_norm_ws *w, cnp_reader *rd,
                           const mon_norm_tile *t)
{
    const size_t n = (size_t)t->tw * (size_t)t->th;
    cnp_norm_tile nt;
    size_t off;
    cnp_status st;
    if (!clip(m, t, t->base, t->ndvi, &nt, &off))
        return CNP_OK;                      /* the scene does not reach the tile */
    if (m->grid) {
        const int64_t cell = m->norm.cell_px;
        const int64_t cy0 = nt.y0 / cell, cy1 = (nt.y0 + nt.height + cell - 1) / cell;
        if ((st = cnp_norm_grid_create(&m->norm, m->win[2], m->win[3], cy0, cy1, &w->ng)) !=
            CNP_OK)
            return cnp_err(st, "out of memory for the normalisation");
        if (cnp_norm_accumulate(w->ng, &nt) != CNP_OK)
            return cnp_err(CNP_E_ARG, "normalisation: tile %d,%d outside its grid", t->x0,
                           t->y0);
    }
    if (m->haze) {
        cnp_haze_dn d;
        if ((st = haze_bands(m, w, rd, t, n, &d)) != CNP_OK)
            return st;
        memset(w->hh, 0, sizeof *w->hh);
        if ((st = cnp_haze_hist_add_dn(w->hh, &m->haze_params, &d, NULL, m->haze_lut, n)) !=
            CNP_OK)
            return cnp_err(st, "haze: counting the clear line failed");
    }
    return CNP_OK;
}

cnp_status mon_norm_merge(mon_norm *m, mon_norm_ws *w)
{
    cnp_status st;
    m->hazy += w->hazy;
    w->hazy = 0;
    if (w->hh && (st = cnp_haze_hist_merge(&m->haze_hist, w->hh)) != CNP_OK)
        return cnp_err(st, "haze: merging the clear line's counts failed");
    if (w->hh)
        memset(w->hh, 0, sizeof *w->hh);
    if (!w->ng)
        return CNP_OK;
    st = cnp_norm_merge(m->grid, w->ng);
    cnp_norm_grid_free(&w->ng);
    return st == CNP_OK ? CNP_OK : cnp_err(st, "merging the normalisation grid failed");
}

cnp_status mon_norm_finish(mon_norm *m)
{
    if (m->haze) {
        m->haze_fitted = cnp_corr_haze_fit(&m->haze_hist, &m->haze_line);
        if (!cnp_corr_haze_applies(m->haze_fitted, 0))       /* the monitor reads no SWIR2 */
            m->haze = 0, m->haze_unfit = 1;
    }
    if (!m->grid)
        return CNP_OK;
    const cnp_status st = cnp_corr_norm_finish(m->grid, &m->norm, m->win[3], &m->corr);
    cnp_norm_grid_free(&m->grid);
    return st;
}

cnp_status mon_norm_apply(const mon_norm *m, mon_norm_ws *w, cnp_reader *rd, mon_norm_tile *t,
                          float *dnorm)
{
    const size_t n = (size_t)t->tw * (size_t)t->th;
    cnp_norm_tile nt;
    size_t off;
    cnp_status st;
    for (size_t i = 0; i < n; i++)
        dnorm[i] = NAN;
    if (!clip(m, t, t->base, t->ndvi, &nt, &off))
        return CNP_OK;
    if (m->haze) {
        /* Haze the quality mask called clear: not clearly observed. */
        cnp_haze_dn d;
        if ((st = haze_bands(m, w, rd, t, n, &d)) != CNP_OK)
            return st;
        if ((st = cnp_haze_classify_dn(&m->haze_params, &m->haze_line, &d, NULL, n,
                                       w->flags)) != CNP_OK)
            return cnp_err(st, "haze test failed");
        for (size_t i = 0; i < n; i++)
            if ((w->flags[i] & CNP_HAZE_HAZY) && t->obs[i] == CNP_OBS_CLEAR) {
                t->obs[i] = CNP_OBS_CLOUDY;
                t->ndvi[i] = NAN;
                w->hazy++;
            }
    }
    if (m->mode == CNP_NORMALIZE_OFF)
        return CNP_OK;
    /* detect's dNDVI' against the baseline, and the scene's NDVI less the
     * same correction (against a baseline of zeros) for the history. */
    const cnp_norm_tile nz = { nt.x0, nt.y0, nt.width, nt.height, nt.stride, w->zero + off,
                               nt.ndvi_after };
    if ((st = cnp_norm_apply(&m->corr.field, &nt, dnorm + off, t->tw)) != CNP_OK ||
        (st = cnp_norm_apply(&m->corr.field, &nz, w->fixed + off, t->tw)) != CNP_OK)
        return st == CNP_E_NOMEM ? cnp_err(st, "out of memory normalising a tile")
                                 : cnp_err(st, "normalisation: no correction for tile %d,%d",
                                           t->x0, t->y0);
    for (ptrdiff_t y = 0; y < nt.height; y++) {
        const size_t row = off + (size_t)y * (size_t)t->tw;
        memcpy(t->ndvi + row, w->fixed + row, (size_t)nt.width * sizeof *t->ndvi);
    }
    return CNP_OK;
}

int mon_norm_active(const mon_norm *m)
{
    return m && m->mode != CNP_NORMALIZE_OFF;
}

static int cmp_float(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void mon_norm_note(const mon_norm *m, char *out, size_t size)
{
    out[0] = '\0';
    if (!m)
        return;
    size_t k = 0;
    const int64_t ncell = m->corr.ncx * m->corr.ncy;
    float *sorted = ncell ? malloc((size_t)ncell * sizeof *sorted) : NULL;
    if (sorted) {
        memcpy(sorted, m->corr.corr, (size_t)ncell * sizeof *sorted);
        qsort(sorted, (size_t)ncell, sizeof *sorted, cmp_float);
        const double med = ncell % 2 ? sorted[ncell / 2]
                                     : 0.5 * ((double)sorted[ncell / 2 - 1] + sorted[ncell / 2]);
        int64_t none = 0;
        for (int64_t i = 0; i < ncell; i++)
            none += m->corr.level[i] == 0;
        /* + 0.0: a correction of -0.0001 reads 0.000, not -0.000. */
        k += (size_t)snprintf(out + k, size - k, "normalised (%s): correction median %.3f, "
                              "%.3f to %.3f over %lld cells (%lld without reference)",
                              m->mode == CNP_NORMALIZE_SCENE ? "scene" : "local",
                              round(med * 1000.0) / 1000.0 + 0.0,
                              round(sorted[0] * 1000.0) / 1000.0 + 0.0,
                              round(sorted[ncell - 1] * 1000.0) / 1000.0 + 0.0,
                              (long long)ncell, (long long)none);
        free(sorted);
    }
    if (m->haze && k < size)
        snprintf(out + k, size - k, "%shaze: %lld pixels taken out (clear line red = %.3f x "
                 "blue %+.4f, %s)", k ? "; " : "", (long long)m->hazy, m->haze_line.slope,
                 m->haze_line.intercept + 0.0, m->haze_fitted ? "fitted" : "the default");
    else if (m->haze_unfit && k < size)
        snprintf(out + k, size - k, "%shaze: not tested (too little clear land to fit the "
                 "scene's clear line, and no SWIR2 to check the default one)", k ? "; " : "");
}
