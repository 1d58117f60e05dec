/* pipeline/io/cnp_raster_shift.h - what readers of a shifted scene do
 * (cnp_scene.shifted: AFTER put on BEFORE after co-registration): read a
 * window moved by the shift and grown by a halo, then resample it with the
 * kernel (kernels/cnp_coreg.h, cnp_coreg_shift_plane). For the readers
 * (cnp_reader.c) only.
 */
#ifndef CNP_RASTER_SHIFT_H
#define CNP_RASTER_SHIFT_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_raster.h"

/* A reader's buffers for the source windows: two planes and two flag planes. */
typedef struct cnp_shift_bufs {
    float   *plane[2];
    uint8_t *flag[2];
    size_t   cap;
} cnp_shift_bufs;

/* The source window of a tile: where it starts and its size in the raster
 * (empty when the tile's sources all lie outside), and the offset of the
 * tile's first pixel in it. */
typedef struct cnp_shift_win {
    int    x0, y0, w, h;
    double ox, oy;
} cnp_shift_win;

/* cnp_shift_window() : for tile (x0, y0, w, h) of a raster of rw x rh, the
 * window that holds every source pixel of it: the tile moved by -shift,
 * grown by ceil(|shift|) + 1 on each side, clipped to the raster. */
void cnp_shift_window(const cnp_scene *sc, int rw, int rh, int x0, int y0, int w, int h,
                      cnp_shift_win *out);

/* Room for n pixels in each buffer. @return CNP_OK or CNP_E_NOMEM. */
cnp_status cnp_shift_reserve(cnp_shift_bufs *b, size_t n);
void cnp_shift_bufs_free(cnp_shift_bufs *b);

/* cnp_shift_pair() :
 * Red and NIR DNs (b->plane), observed (b->flag[0]) and, when `inside` is
 * not NULL, inside (b->flag[1]) of the source window, resampled into the
 * tile's w x h buffers. A pixel is observed when its sources all are and
 * its red and NIR are valid (sc->radiometry: nodata, saturation); invalid
 * DNs become the band's nodata, else 0. */
cnp_status cnp_shift_pair(const cnp_scene *sc, const cnp_shift_win *sw, const cnp_shift_bufs *b,
                          int w, int h, float *red, float *nir, uint8_t *observed,
                          uint8_t *inside);

/* cnp_shift_band() : one band's source window (b->plane[0]) resampled into
 * out; sources that are nodata (has_nodata) or saturated give the nodata
 * value, else the saturation DN, else 0. */
cnp_status cnp_shift_band(const cnp_scene *sc, const cnp_shift_win *sw, const cnp_shift_bufs *b,
                          int has_nodata, double nodata, int w, int h, float *out);

#endif /* CNP_RASTER_SHIFT_H */
