/* pipeline/core/cnp_spill.h - a pass's planes kept on disk between its two
 * halves.
 *
 * Some corrections need the whole scene before any pixel can be classified:
 * the relative normalisation's local medians (kernels/cnp_norm.h) need the
 * forest all around a pixel, in every direction. Detect therefore reads and
 * decodes each scene once, keeps what the second half needs (BEFORE's NDVI,
 * the classes, AFTER's DNs for the quicklook and the haze test, from which
 * AFTER's NDVI is computed again) in a spill file, and
 * classifies from it once the corrections are known. Re-reading the scenes
 * would decode every block twice; holding the planes in memory would take
 * 5-25 bytes a pixel of RAM (11 by default). The file lives in the page
 * cache when there is room and on disk when there is not: RAM stays bounded
 * by tiles.
 *
 * Layout: plane by plane; within a plane strip by strip of the tiling; within
 * a strip tile by tile, each tile's rows contiguous. A tile written by one
 * unit is one pwrite; reading back the same tile is one pread. The file is
 * unlinked as soon as it is open, so nothing is left behind after a crash.
 *
 * Writes of different (strip, tile, plane) may run on different threads at
 * once; each is written once before it is read.
 */
#ifndef CNP_SPILL_H
#define CNP_SPILL_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_engine.h"
#include "cnp_status.h"

enum { CNP_SPILL_MAX_PLANES = 12 };

typedef struct cnp_spill cnp_spill;

/* cnp_spill_create() :
 * An anonymous spill file in folder `dir` for every pixel of tiling `t`'s
 * window, `nplanes` planes of esize[p] bytes an element.
 * @return CNP_OK; CNP_E_ARG; CNP_E_IO (the message names the folder). */
cnp_status cnp_spill_create(const char *dir, const cnp_tiling *t, int nplanes,
                            const size_t *esize, cnp_spill **out);

/* Bytes the file takes (on disk or in the page cache). */
uint64_t cnp_spill_bytes(const cnp_spill *s);

/* cnp_spill_write() / cnp_spill_read() :
 * Plane p of tile k of strip s: its w x h elements (the tile as
 * cnp_tiling_tile/strip clip it), row-major, in buf.
 * @return CNP_OK, CNP_E_ARG or CNP_E_IO. */
cnp_status cnp_spill_write(cnp_spill *sp, int s, int k, int p, const void *buf);
cnp_status cnp_spill_read(const cnp_spill *sp, int s, int k, int p, void *buf);

/* Close (the file is already unlinked). NULL-safe. */
void cnp_spill_close(cnp_spill **s);

#endif /* CNP_SPILL_H */
