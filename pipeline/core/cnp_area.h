/* pipeline/core/cnp_area.h - one area measure everywhere: the ellipsoid's.
 *
 * Alert areas have always been geodesic (WGS84), but the minimum mapping unit
 * was a pixel count of the flat grid, so "an alert of 0.4994 ha" could pass
 * --min-area 0.5, and run.json's observed and unobserved areas were flat.
 * Here a grid pixel's geodesic area is bounded over the window (a projection's
 * scale varies across a scene: UTM by about 0.1 %), so a component's pixel
 * count says at once whether it is surely above or below the minimum area;
 * only the ones in between need their outline's geodesic area to decide.
 */
#ifndef CNP_AREA_H
#define CNP_AREA_H

#include <stdint.h>

#include "cnp_geom.h"
#include "cnp_result.h"
#include "cnp_status.h"

typedef struct cnp_area_scale {
    double lo_m2, hi_m2;         /* a pixel's geodesic area is within [lo, hi] */
} cnp_area_scale;

/* cnp_area_scale_init() : bound a pixel's geodesic area over window `win` of
 * the grid (sampled on a 5 x 5 lattice, then widened by 0.05 % for what lies
 * between the samples). */
cnp_status cnp_area_scale_init(cnp_crs *crs, const int win[4], cnp_area_scale *sc);

/* The verdict of the minimum mapping unit on a component of `pixels` pixels:
 * below (its area is surely under min_m2), above (surely at or over), or
 * unsure (trace it and compare its geodesic area). */
enum { CNP_AREA_BELOW = 0, CNP_AREA_ABOVE = 1, CNP_AREA_UNSURE = 2 };
int cnp_area_verdict(const cnp_area_scale *sc, int64_t pixels, double min_m2);

/* cnp_area_rect_m2() : geodesic area of pixels [x0, x0+w) x [y0, y0+h). */
cnp_status cnp_area_rect_m2(cnp_geom_ctx *g, int x0, int y0, int w, int h, double *out);

/* cnp_area_unobserved() :
 * The geodesic area of every piece of `u` (pieces[i].area_m2) and their sum,
 * on `nthreads` threads; each thread its own context on `crs`. */
cnp_status cnp_area_unobserved(cnp_crs *crs, cnp_unobserved *u, int nthreads, double *sum_m2);

#endif /* CNP_AREA_H */
