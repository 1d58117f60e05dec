/* pipeline/core/cnp_engine.h - the tile engine: how a grid streams through
 * worker threads.
 *
 * Every pass over a scene (detect's classification, monitor's update of a
 * footprint's state) has the same shape, so it is written once here:
 *
 *   - the window of the grid is cut into block-row strips and each strip into
 *     block-aligned tiles (cnp_tiling), so every block of the raster that sets
 *     the tiling is decoded once and buffers stay tile-sized;
 *   - a work unit is a run of tiles of one strip (a whole strip when there
 *     are enough strips for the threads, a part of one when there are not);
 *   - each thread owns a worker (its buffers and its own GDAL handles, since
 *     handles are not thread-safe) and processes units in any order;
 *   - units are then merged one at a time, in unit order (an OpenMP ordered
 *     region), which is where anything global is built: results do not
 *     depend on the thread count or on how strips were cut into units.
 *
 * The engine knows nothing of what a pass computes: the caller gives its
 * worker size and four callbacks. The first failure stops the pass (units
 * already started finish) and is reported with its message.
 */
#ifndef CNP_ENGINE_H
#define CNP_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_status.h"

/* How a window is cut. All coordinates are pixels of the grid. */
typedef struct cnp_tiling {
    int win[4];                 /* x0, y0, width, height of the window    */
    int tile_w, strip_h;        /* tile width, strip height               */
    int ntiles, nstrips;        /* per strip; strips in the window        */
    int nparts;                 /* work units per strip (>= 1)            */
} cnp_tiling;

/* cnp_tiling_init() :
 * Tiles and strips aligned to blocks of block_w x block_h (<= 0: unknown),
 * also when the window starts inside a block: a strip follows the block rows
 * (256 rows when unknown, at most 1024, and at least 64 K pixels), a tile the
 * block columns (a striped raster is read in whole rows; tiles narrower than
 * 64 columns are widened). nparts is 1 until cnp_tiling_plan_units(). */
void cnp_tiling_init(cnp_tiling *t, const int win[4], int block_w, int block_h);

/* cnp_tiling_fixed() : square tiles of `tile` pixels from the grid's origin
 * (a grid the caller writes itself, e.g. monitor's state). */
void cnp_tiling_fixed(cnp_tiling *t, const int win[4], int tile);

/* cnp_tiling_plan_units() : enough units for `nthreads` threads to stay busy
 * to the end (about three per thread), never finer than one tile. Any split
 * gives the same results; it only changes how evenly threads are loaded. */
void cnp_tiling_plan_units(cnp_tiling *t, int nthreads);

/* Columns [*x0, *x0 + *w) of tile k, clipped to the window. */
void cnp_tiling_tile(const cnp_tiling *t, int k, int *x0, int *w);
/* Rows [*y0, *y0 + *h) of strip s, clipped to the window. */
void cnp_tiling_strip(const cnp_tiling *t, int s, int *y0, int *h);

/* Threads worth starting for the tiling: at most one per tile. */
int cnp_tiling_max_threads(const cnp_tiling *t, int nthreads);

/* One work unit: tiles [k0, k1) of strip `strip`, part `part` of nparts. */
typedef struct cnp_unit {
    int strip, part, k0, k1;
    int x0, y0, w, h;           /* the pixels it covers                   */
} cnp_unit;

/* Progress in GDAL's GDALProgressFunc shape: fraction done, a message or
 * NULL, the caller's argument; return 0 to cancel. */
typedef int (*cnp_progress_fn)(double done, const char *msg, void *arg);

typedef struct cnp_engine_ops {
    void  *ctx;                                 /* the pass's own state          */
    size_t worker_size;                         /* bytes of one worker           */
    /* Set up a zeroed worker (called on its own thread). */
    cnp_status (*worker_init)(void *ctx, void *worker);
    /* Free what worker_init and process allocated (also after a failure). */
    void (*worker_free)(void *ctx, void *worker);
    /* Process one unit: in parallel with other units, in any order. */
    cnp_status (*process)(void *ctx, void *worker, const cnp_unit *u);
    /* Merge a processed unit: one at a time, in unit order. May be NULL. */
    cnp_status (*merge)(void *ctx, void *worker, const cnp_unit *u);
    cnp_progress_fn progress;                   /* may be NULL                   */
    void  *progress_arg;
    double progress_from, progress_to;          /* the share of a larger task
                                                 * this pass covers (0, 1 = all) */
} cnp_engine_ops;

/* cnp_engine_run() :
 * Run every unit of `t` on `nthreads` threads (>= 1). Kernels called by a
 * worker run on that worker's thread only (OpenMP teams of one), so threads
 * are never oversubscribed and none spins waiting for work.
 * @return CNP_OK; the first failure (with its message); CNP_E_CANCELLED when
 *         progress asked to stop. */
cnp_status cnp_engine_run(const cnp_tiling *t, int nthreads, const cnp_engine_ops *ops);

/* cnp_engine_threads() : the thread count to use: `requested` (0 = every
 * core), at most one per tile of `t`, and at most what `max_workers` allows
 * (<= 0: no limit). */
int cnp_engine_threads(const cnp_tiling *t, int requested, int max_workers);

#endif /* CNP_ENGINE_H */
