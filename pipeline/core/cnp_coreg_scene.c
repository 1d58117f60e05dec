/* pipeline/core/cnp_coreg_scene.c - measure AFTER's shift on a grid of
 * windows, and decide what to do with it. */
#include "cnp_coreg_scene.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnp_change.h"
#include "cnp_coreg.h"
#include "cnp_err.h"

enum {
    WIN_PX = 128,      /* a window: one 128 px block of a tiled GeoTIFF           */
    MAX_PER_AXIS = 4,  /* at most 16 windows: the estimate costs ~3 % of a pass   */
    BLOCK_PX = 64,     /* phase correlation blocks ...                            */
    BLOCKS_AXIS = 2,   /* ... 2 x 2 per window ...                                */
    MARGIN = 16,       /* ... MARGIN px from its edges (the second pass's room)   */
    STEP = 32,         /* ... overlapping by half                                 */
};

static double thread_cpu_s(void)
{
    struct timespec t;
    return clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) == 0 ? t.tv_sec + t.tv_nsec * 1e-9 : 0.0;
}

/* Window k of n along an axis of [start, start + len): the centre of its
 * n-th of the axis, snapped down to a multiple of WIN_PX and kept inside. */
static int window_at(int start, int len, int k, int n)
{
    int p = start + (int)(((int64_t)(len - WIN_PX) * (2 * k + 1)) / (2 * n));
    p -= p % WIN_PX;
    if (p < start)
        p = start;
    if (p > start + len - WIN_PX)
        p = start + len - WIN_PX;
    return p;
}

typedef struct est_bufs {
    float   *red, *nir, *ndvi[2];
    uint8_t *obs;
} est_bufs;

/* NDVI of one window of one date, NaN where it is not observed or invalid. */
static cnp_status window_ndvi(cnp_reader *rd, const cnp_scene *sc, int x0, int y0,
                              const est_bufs *b, float *ndvi)
{
    cnp_status st = cnp_reader_read(rd, x0, y0, WIN_PX, WIN_PX, b->red, b->nir, b->obs);
    if (st != CNP_OK)
        return st;
    for (size_t i = 0; i < (size_t)WIN_PX * WIN_PX; i++)
        ndvi[i] = b->obs[i] ? (float)cnp_ndvi_dn(b->red[i], b->nir[i], &sc->radiometry) : NAN;
    return CNP_OK;
}

/* The blocks of one window: BLOCKS_AXIS^2 blocks at MARGIN + i STEP, each
 * measured twice as cnp_coreg_estimate() does (cnp_coreg.h: the second time
 * with AFTER's block moved by the whole pixels found, which removes the
 * window's pull towards 0), but with a margin around them so that every
 * block can take the second pass for shifts up to MARGIN px. */
static cnp_status window_blocks(cnp_coreg_ws *ws, const cnp_coreg_params *p, const float *b,
                                const float *a, cnp_coreg_block *out)
{
    for (int j = 0; j < BLOCKS_AXIS; j++)
        for (int i = 0; i < BLOCKS_AXIS; i++) {
            const int x0 = MARGIN + i * STEP, y0 = MARGIN + j * STEP;
            const ptrdiff_t off = (ptrdiff_t)y0 * WIN_PX + x0;
            cnp_coreg_block *blk = &out[j * BLOCKS_AXIS + i], r;
            if (cnp_coreg_block_shift(ws, p, b + off, a + off, WIN_PX, blk) != CNP_OK)
                return CNP_E_ARG;
            const long ix = lround(blk->dx), iy = lround(blk->dy);
            if (blk->used && (ix || iy) && labs(ix) <= MARGIN && labs(iy) <= MARGIN) {
                const ptrdiff_t off2 = (ptrdiff_t)(y0 - iy) * WIN_PX + (x0 - ix);
                if (cnp_coreg_block_shift(ws, p, b + off, a + off2, WIN_PX, &r) != CNP_OK)
                    return CNP_E_ARG;
                if (r.used) {
                    r.dx += (double)ix;
                    r.dy += (double)iy;
                    *blk = r;
                }
            }
            blk->x0 = x0;
            blk->y0 = y0;
        }
    return CNP_OK;
}

/* The blocks of every window, in window order, and their aggregate. */
static cnp_status measure(const cnp_scene *sc[2], const cnp_settings *s, const int win[4],
                          int nx, int ny, cnp_coreg_summary *out)
{
    cnp_coreg_params p;
    cnp_coreg_defaults(&p);
    p.block = p.step = BLOCK_PX;
    const size_t per = BLOCKS_AXIS * BLOCKS_AXIS, n = (size_t)nx * ny;
    const size_t px = (size_t)WIN_PX * WIN_PX;
    cnp_coreg_block *blocks = calloc(n * per, sizeof *blocks);
    float *mem = malloc(4 * px * sizeof *mem);
    uint8_t *obs = malloc(px);
    cnp_reader *rd[2] = { NULL, NULL };
    cnp_coreg_ws *ws = NULL;
    cnp_status st = CNP_OK;
    if (!blocks || !mem || !obs || cnp_coreg_ws_create(p.block, &ws) != CNP_OK)
        st = cnp_err(CNP_E_NOMEM, "out of memory for co-registration");
    for (int d = 0; d < 2 && st == CNP_OK; d++)
        st = cnp_reader_open(sc[d], s, &rd[d]);
    const est_bufs b = { mem, mem + px, { mem + 2 * px, mem + 3 * px }, obs };
    size_t k = 0;
    for (int j = 0; j < ny && st == CNP_OK; j++)
        for (int i = 0; i < nx && st == CNP_OK; i++) {
            const int x0 = window_at(win[0], win[2], i, nx), y0 = window_at(win[1], win[3], j, ny);
            for (int d = 0; d < 2 && st == CNP_OK; d++)
                st = window_ndvi(rd[d], sc[d], x0, y0, &b, b.ndvi[d]);
            if (st == CNP_OK && window_blocks(ws, &p, b.ndvi[0], b.ndvi[1], blocks + k) != CNP_OK)
                st = cnp_err(CNP_E_ARG, "co-registration: bad window %d,%d", x0, y0);
            k += per;
        }
    cnp_coreg_result r = { 0 };
    if (st == CNP_OK && cnp_coreg_aggregate(&p, blocks, k, &r) != CNP_OK)
        st = cnp_err(CNP_E_ARG, "co-registration: aggregate failed");
    out->dx = r.dx;
    out->dy = r.dy;
    out->mad_x = r.mad_x;
    out->mad_y = r.mad_y;
    out->peak = r.peak;
    out->blocks = (int64_t)r.blocks;
    out->used = (int64_t)r.used;
    out->ok = r.ok;
    out->block_px = p.block;
    cnp_reader_close(&rd[0]);
    cnp_reader_close(&rd[1]);
    cnp_coreg_ws_free(&ws);
    free(blocks);
    free(mem);
    free(obs);
    return st;
}

cnp_status cnp_coreg_scene(const cnp_scene *before, cnp_scene *after, const cnp_settings *s,
                           const int win[4], cnp_coreg_summary *out)
{
    memset(out, 0, sizeof *out);
    out->mode = s->coreg;
    out->max_shift = s->coreg_max_shift;
    out->min_shift = s->coreg_min_shift;
    out->window_px = WIN_PX;
    after->shifted = 0;
    after->shift_dx = after->shift_dy = 0.0;
    if (s->coreg == CNP_COREG_OFF)
        return CNP_OK;
    const double t0 = thread_cpu_s();
    const int nx = win[2] / WIN_PX < MAX_PER_AXIS ? win[2] / WIN_PX : MAX_PER_AXIS;
    const int ny = win[3] / WIN_PX < MAX_PER_AXIS ? win[3] / WIN_PX : MAX_PER_AXIS;
    out->measured = 1;
    out->windows = nx * ny;
    cnp_status st = CNP_OK;
    const cnp_scene *sc[2] = { before, after };
    if (nx > 0 && ny > 0)
        st = measure(sc, s, win, nx, ny, out);
    out->cpu_s = thread_cpu_s() - t0;
    if (st != CNP_OK || !out->ok)
        return st;
    out->beyond = fabs(out->dx) > s->coreg_max_shift || fabs(out->dy) > s->coreg_max_shift;
    if (s->coreg != CNP_COREG_AUTO)
        return CNP_OK;
    if (out->beyond)
        return cnp_err(CNP_E_DATA, "%s is shifted by %.2f, %.2f pixels against BEFORE "
                       "(phase correlation, %lld blocks agree within %.2f px): more than the "
                       "%g px that co-registration corrects ([coreg] max_shift). Check that the "
                       "scenes show the same place and are georeferenced; --coreg check runs "
                       "without correcting, --coreg-max-shift (at most 8) corrects more",
                       after->role, out->dx, out->dy, (long long)out->used,
                       out->mad_x > out->mad_y ? out->mad_x : out->mad_y, s->coreg_max_shift);
    if (hypot(out->dx, out->dy) >= s->coreg_min_shift) {
        after->shifted = out->applied = 1;
        after->shift_dx = out->dx;
        after->shift_dy = out->dy;
    }
    return CNP_OK;
}

const char *cnp_coreg_scene_warning(const cnp_coreg_summary *c, char *buf, size_t size)
{
    return cnp_coreg_scene_warning_for(c, "AFTER", buf, size);
}

const char *cnp_coreg_scene_warning_for(const cnp_coreg_summary *c, const char *role, char *buf,
                                        size_t size)
{
    /* A scene with fewer than 2 x 2 windows (under 256 px on a side) has
     * too little to measure on for a failure to mean anything: run.json
     * says so, stderr stays for what does. */
    if (!c->measured || c->windows < 4)
        return NULL;
    char which[48];
    if (strcmp(role, "AFTER") == 0)
        snprintf(which, sizeof which, "the dates");
    else
        snprintf(which, sizeof which, "BEFORE and %s", role);
    if (!c->ok)
        snprintf(buf, size, "co-registration: the shift between %s could not be measured "
                 "(%lld of %lld blocks textured and agreeing, in %d windows); %s is used as it "
                 "is", which, (long long)c->used, (long long)c->blocks, c->windows, role);
    else if (c->beyond)
        snprintf(buf, size, "co-registration: %s is shifted by %.2f, %.2f pixels against "
                 "BEFORE, more than [coreg] max_shift (%g px); not corrected (--coreg check): "
                 "edges may show as loss", role, c->dx, c->dy, c->max_shift);
    else
        return NULL;
    return buf;
}

int cnp_coreg_cache_mb(const cnp_scene *after, int strip_h, int nthreads, int cache)
{
    const double strip = (double)strip_h * after->width * after->nbands * 2.0;
    const int need = (int)ceil((2 * nthreads + 4) * strip / (1024.0 * 1024.0));
    return need > cache ? need : cache;
}
