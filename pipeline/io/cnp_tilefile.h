/* pipeline/io/cnp_tilefile.h - the GeoTIFFs a monitored footprint's state is
 * kept in between runs.
 *
 * A state generation keeps, per footprint, tiled GeoTIFFs (256 x 256 blocks,
 * DEFLATE) on the footprint's grid: readers open them once per worker thread
 * (GDAL handles are not thread-safe) and read tile by tile. Within a run the
 * state lives in a tile store (base/cnp_tilestore.h); cnp_tilefile_publish()
 * writes the run's last state out as those GeoTIFFs, compressed on all
 * threads.
 */
#ifndef CNP_TILEFILE_H
#define CNP_TILEFILE_H

#include <stddef.h>

#include "cnp_status.h"
#include "cnp_tilestore.h"

enum { CNP_TILE = 256 };                /* block size of every tile file */

typedef enum cnp_cell_type {
    CNP_CELL_BYTE = 0,
    CNP_CELL_INT32,
    CNP_CELL_UINT32,
    CNP_CELL_FLOAT32
} cnp_cell_type;

typedef struct cnp_tilefile cnp_tilefile;

/* cnp_tilefile_open() :
 * Open a state GeoTIFF for reading; it must be w x h pixels with `bands`
 * bands. `what` names it in messages.
 * @return CNP_OK, CNP_E_IO (cannot open) or CNP_E_DATA (another grid). */
cnp_status cnp_tilefile_open(const char *path, int w, int h, int bands, const char *what,
                             cnp_tilefile **out);

/* Read window (x0, y0, w, h) of all bands, band-sequential, as `type`. */
cnp_status cnp_tilefile_read(cnp_tilefile *t, int x0, int y0, int w, int h, cnp_cell_type type,
                             void *buf);

void cnp_tilefile_close(cnp_tilefile **t);

/* One GeoTIFF of a state: its name, its bands taken from consecutive planes
 * of a tile store starting at `plane`, their type and descriptions. */
typedef struct cnp_tilefile_def {
    const char   *name;
    int           bands, plane;
    cnp_cell_type type;
    const char   *desc[4];
} cnp_tilefile_def;

/* cnp_tilefile_publish() :
 * Write the tile store's planes as the GeoTIFFs `defs[0..n)` in folder
 * `dir` (grid: gt, wkt; float bands get NaN as nodata), DEFLATE-compressed
 * on `threads` threads, each synced. The store's tiles must be CNP_TILE
 * pixels. @return CNP_OK or CNP_E_IO. */
cnp_status cnp_tilefile_publish(cnp_tilestore *store, const cnp_tilefile_def *defs, size_t n,
                                const char *dir, int width, int height, const double gt[6],
                                const char *wkt, int threads);

#endif /* CNP_TILEFILE_H */
