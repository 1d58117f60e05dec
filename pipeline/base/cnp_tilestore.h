/* pipeline/base/cnp_tilestore.h - a grid's planes kept tile by tile in one
 * file, for state that a run writes and reads back itself.
 *
 * The monitor's state changes with every scene; only the last state of a run
 * is kept (as GeoTIFFs, io/cnp_tilefile.h). In between, each scene's state is
 * a tile store: worker threads write and read their own tiles with pwrite and
 * pread at fixed offsets (no shared handle, no lock), and a tile whose plane
 * holds one value everywhere is kept as that value only (most of the state is
 * "no alert here"), which leaves a hole in the file. Reading back a tile costs
 * a copy from the page cache; nothing is compressed.
 *
 * Writes of different (tile, plane) pairs may run on different threads at
 * once; a pair is written at most once before it is read.
 */
#ifndef CNP_TILESTORE_H
#define CNP_TILESTORE_H

#include <stddef.h>

#include "cnp_status.h"

enum { CNP_TILESTORE_MAX_PLANES = 32 };

typedef struct cnp_tilestore cnp_tilestore;

/* cnp_tilestore_create() :
 * A store at `path` (created, truncated) for a width x height grid in square
 * tiles of `tile` pixels, with `nplanes` planes whose elements are esize[p]
 * bytes (1, 2, 4 or 8). Every tile starts as all zero bytes.
 * @return CNP_OK, CNP_E_ARG or CNP_E_IO. */
cnp_status cnp_tilestore_create(const char *path, int width, int height, int tile, int nplanes,
                                const size_t *esize, cnp_tilestore **out);

/* Tiles across and down. */
int cnp_tilestore_tiles_x(const cnp_tilestore *s);
int cnp_tilestore_tiles_y(const cnp_tilestore *s);

/* cnp_tilestore_write() / _read() :
 * Plane p of tile (tx, ty): its tw x th elements (tw, th: the tile clipped to
 * the grid), row-major, in buf. @return CNP_OK, CNP_E_ARG or CNP_E_IO. */
cnp_status cnp_tilestore_write(cnp_tilestore *s, int tx, int ty, int p, const void *buf);
cnp_status cnp_tilestore_read(cnp_tilestore *s, int tx, int ty, int p, void *buf);

/* cnp_tilestore_close() : close, and remove the file when `remove_file`.
 * NULL-safe. */
void cnp_tilestore_close(cnp_tilestore **s, int remove_file);

#endif /* CNP_TILESTORE_H */
