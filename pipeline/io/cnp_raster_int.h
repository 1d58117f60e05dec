/* pipeline/io/cnp_raster_int.h - what the scene files share inside io/:
 * cnp_raster.c (opening), cnp_grid.c (grids, alignment), cnp_reader.c. */
#ifndef CNP_RASTER_INT_H
#define CNP_RASTER_INT_H

#include <stddef.h>

#include <gdal.h>

#include "cnp_raster.h"

/* A raster opened read-only with GDAL's errors reported (the last one kept
 * for the message: cnp_err_gdal_reason()); NULL when it does not open. */
GDALDatasetH cnp_raster_open(const char *path);

/* ---- grids (cnp_grid.c) -------------------------------------------------- */

/* A target grid: CRS, geotransform and size. */
typedef struct cnp_grid_def {
    const char *wkt;
    double      gt[6];
    int         width, height;
} cnp_grid_def;

/* 1 when the two WKT strings name the same CRS (equal text, or OSRIsSame). */
int cnp_grid_same_crs(const char *a, const char *b);

/* 1 when every coefficient agrees within `tol`, relative above 1. */
int cnp_grid_same_gt(const double a[6], const double b[6], double tol);

/* Pixel size in metres: exact for projected CRSs, at the centre for geographic ones. */
double cnp_grid_pixel_metres(const char *wkt, const double gt[6], int height);

/* Warp `src` onto grid `g` as a VRT at `vrt_path` (in /vsimem), resampled
 * with `resampling` (a gdalwarp -r name), with an alpha band if `add_alpha`. */
cnp_status cnp_grid_warp(const char *src, const cnp_grid_def *g, const char *resampling,
                         int add_alpha, const char *vrt_path);

/* ---- scenes (cnp_raster.c) ----------------------------------------------- */

/* The scene's pixel size in metres and its mask buffer in pixels, from its grid. */
void cnp_scene_set_buffer(cnp_scene *sc);

/* Remember a /vsimem file to unlink when the scene is freed. */
cnp_status cnp_scene_own_vsimem(cnp_scene *sc, const char *path);

/* A /vsimem VRT name unique to this scene and its next temporary file. */
void cnp_scene_vsimem_name(const cnp_scene *sc, const char *what, char *out, size_t size);

/* A scene (or grid window) larger than [limits] scene_pixels: a tiny VRT can
 * claim 10^12 pixels, which `info` and `detect` would read for days.
 * `fmt` names it in the message; `s` NULL: the default limit. */
cnp_status cnp_scene_check_pixels(const cnp_settings *s, int w, int h, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif /* CNP_RASTER_INT_H */
