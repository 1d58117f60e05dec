/* pipeline/core/cnp_engine.c - units of block-aligned tiles on worker
 * threads, merged in order. */
#include "cnp_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "cnp_err.h"

/* Tiles and strips are aligned to the raster's blocks, also when the window
 * starts inside one: the grid of steps starts at the block boundary at or
 * before the window's start. */
static int grid_origin(int w0, int step) { return w0 - w0 % step; }

static int count_steps(int w0, int wlen, int step)
{
    return (w0 + wlen - grid_origin(w0, step) + step - 1) / step;
}

static void span_of(int w0, int wlen, int step, int k, int *start, int *len)
{
    const int a = grid_origin(w0, step);
    const int s0 = a + k * step > w0 ? a + k * step : w0;
    const int s1 = a + (k + 1) * step < w0 + wlen ? a + (k + 1) * step : w0 + wlen;
    *start = s0;
    *len = s1 - s0;
}

static void tiling_counts(cnp_tiling *t)
{
    t->nstrips = count_steps(t->win[1], t->win[3], t->strip_h);
    t->ntiles = count_steps(t->win[0], t->win[2], t->tile_w);
    t->nparts = 1;
}

void cnp_tiling_init(cnp_tiling *t, const int win[4], int block_w, int block_h)
{
    memset(t, 0, sizeof *t);
    memcpy(t->win, win, sizeof t->win);
    /* Strips follow the block rows so each block is decoded once. */
    t->strip_h = block_h > 0 ? block_h : 256;
    if (t->strip_h > 1024)
        t->strip_h = 1024;
    if ((int64_t)t->strip_h * win[2] < 65536)
        t->strip_h = (int)((65536 + win[2] - 1) / win[2]);
    /* Tiles follow the blocks; a striped raster is read whole-row. */
    t->tile_w = block_w > 0 && block_w < win[2] ? block_w : win[2];
    if (t->tile_w < 64 && t->tile_w < win[2])
        t->tile_w = win[2] < 256 ? win[2] : 256;
    tiling_counts(t);
}

void cnp_tiling_fixed(cnp_tiling *t, const int win[4], int tile)
{
    memset(t, 0, sizeof *t);
    memcpy(t->win, win, sizeof t->win);
    t->strip_h = tile;
    t->tile_w = tile;
    tiling_counts(t);
}

void cnp_tiling_plan_units(cnp_tiling *t, int nthreads)
{
    t->nparts = (3 * nthreads + t->nstrips - 1) / t->nstrips;
    if (t->nparts > t->ntiles)
        t->nparts = t->ntiles;
    if (t->nparts < 1 || nthreads == 1)
        t->nparts = 1;
}

void cnp_tiling_tile(const cnp_tiling *t, int k, int *x0, int *w)
{
    span_of(t->win[0], t->win[2], t->tile_w, k, x0, w);
}

void cnp_tiling_strip(const cnp_tiling *t, int s, int *y0, int *h)
{
    span_of(t->win[1], t->win[3], t->strip_h, s, y0, h);
}

int cnp_tiling_max_threads(const cnp_tiling *t, int nthreads)
{
    const int64_t tiles = (int64_t)t->nstrips * t->ntiles;
    return (int64_t)nthreads > tiles ? (int)tiles : nthreads;
}

int cnp_engine_threads(const cnp_tiling *t, int requested, int max_workers)
{
    int n = requested > 0 ? requested : omp_get_num_procs();
    n = cnp_tiling_max_threads(t, n);
    if (max_workers > 0 && n > max_workers)
        n = max_workers;
    return n < 1 ? 1 : n;
}

static void unit_of(const cnp_tiling *t, int u, cnp_unit *out)
{
    out->strip = u / t->nparts;
    out->part = u % t->nparts;
    out->k0 = (int)((int64_t)t->ntiles * out->part / t->nparts);
    out->k1 = (int)((int64_t)t->ntiles * (out->part + 1) / t->nparts);
    int x1, w1;
    cnp_tiling_strip(t, out->strip, &out->y0, &out->h);
    cnp_tiling_tile(t, out->k0, &out->x0, &w1);
    cnp_tiling_tile(t, out->k1 - 1, &x1, &w1);
    out->w = x1 + w1 - out->x0;
}

cnp_status cnp_engine_run(const cnp_tiling *t, int nthreads, const cnp_engine_ops *ops)
{
    cnp_status fail_st = CNP_OK;
    char fail_msg[1024] = "";
    int failed = 0;
    const int nunits = t->nstrips * t->nparts;
    const double p0 = ops->progress_from, p1 = ops->progress_to > 0 ? ops->progress_to : 1.0;

    if (nthreads < 1 || !ops->process || ops->worker_size == 0)
        return cnp_err(CNP_E_ARG, "tile engine: bad arguments");

    #pragma omp parallel num_threads(nthreads) default(none) \
        shared(t, ops, fail_st, fail_msg, failed, p0, p1, nunits)
    {
        /* Parallelism is across units: kernels called by a worker must not
         * start teams of their own (with one thread the outer team is
         * inactive and they would, spinning idle threads). */
        omp_set_num_threads(1);
        void *w = calloc(1, ops->worker_size);
        cnp_status init_st = w ? CNP_OK : cnp_err(CNP_E_NOMEM, "out of memory for a worker");
        if (init_st == CNP_OK && ops->worker_init)
            init_st = ops->worker_init(ops->ctx, w);
        char init_msg[1024];
        snprintf(init_msg, sizeof init_msg, "%s", cnp_err_msg());

        #pragma omp for ordered schedule(dynamic, 1)
        for (int u = 0; u < nunits; u++) {
            cnp_unit unit;
            unit_of(t, u, &unit);
            int stop;
            #pragma omp atomic read
            stop = failed;
            cnp_status st = init_st;
            if (st != CNP_OK)
                cnp_err(st, "%s", init_msg);
            else if (!stop)
                st = ops->process(ops->ctx, w, &unit);

            #pragma omp ordered
            {
                if (!failed && st == CNP_OK && !stop && ops->merge)
                    st = ops->merge(ops->ctx, w, &unit);
                if (!failed && st == CNP_OK && !stop && ops->progress &&
                    !ops->progress(p0 + (p1 - p0) * (u + 1) / nunits, NULL, ops->progress_arg))
                    st = cnp_err(CNP_E_CANCELLED, "interrupted");
                if (!failed && st != CNP_OK) {
                    fail_st = st;
                    snprintf(fail_msg, sizeof fail_msg, "%s", cnp_err_msg());
                    #pragma omp atomic write
                    failed = 1;
                }
            }
        }
        if (w && ops->worker_free)
            ops->worker_free(ops->ctx, w);
        free(w);
    }
    if (failed)
        return cnp_err(fail_st, "%s", fail_msg);
    return CNP_OK;
}
