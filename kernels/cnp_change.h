/* kernels/cnp_change.h - per-pixel change classification of one tile.
 *
 * Pure compute on plain arrays: DN to reflectance, NDVI per date, validity,
 * forest and loss. No I/O, no globals; parallel over rows inside (OpenMP) and
 * bit-identical for any number of threads (no reductions in floating point).
 *
 * Decision rules (documented in the README, tested at exact boundaries):
 *   reflectance = DN * scale + offset                      (double precision)
 *   a date is valid at a pixel when: observed (mask), red and NIR differ from
 *     their nodata values, DN < saturated_dn, both reflectances >= 0 and their
 *     sum > 0 (a negative reflectance after the offset means a failed retrieval)
 *   NDVI  = (nir - red) / (nir + red)
 *   dNDVI = NDVI_after - NDVI_before
 *   forest when NDVI_before >= forest_ndvi; loss when forest and dNDVI <= -ndvi_drop
 */
#ifndef CNP_CHANGE_H
#define CNP_CHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_status.h"

/* Pixel classes written to cnp_change_tile.cls. */
enum {
    CNP_CLASS_UNOBSERVED = 0, /* not valid in at least one date            */
    CNP_CLASS_OTHER      = 1, /* valid in both dates, not forest before     */
    CNP_CLASS_FOREST     = 2, /* forest before, no loss                     */
    CNP_CLASS_LOSS       = 3  /* forest before, NDVI dropped by the threshold */
};

typedef struct cnp_date_params {
    double scale, offset;        /* reflectance = DN * scale + offset         */
    int    has_nodata_red, has_nodata_nir;
    double nodata_red, nodata_nir;
    double saturated_dn;         /* DN >= this is saturated; INFINITY = none  */
} cnp_date_params;

typedef struct cnp_change_params {
    cnp_date_params date[2];     /* [0] before, [1] after                     */
    double forest_ndvi;          /* forest when NDVI before >= this           */
    double ndvi_drop;            /* loss when dNDVI <= -ndvi_drop (> 0)       */
} cnp_change_params;

/* One tile. All arrays have width x height elements with the same row stride
 * (in elements). Each date's DNs come either as float (red/nir: any raster
 * type, exact for integer DNs up to 2^24) or as UInt16 (red16/nir16: Landsat,
 * Sentinel-2; no conversion on reading); set one pair per date, NULL the
 * other. Both give the same result for the same DN values. */
typedef struct cnp_change_tile {
    ptrdiff_t      width, height, stride;
    const float   *red[2], *nir[2];
    const uint8_t *observed[2];  /* optional: 0 = not observed; NULL = all observed */
    float         *ndvi[2];      /* out: NDVI per date, NAN where that date is invalid */
    uint8_t       *cls;          /* out: CNP_CLASS_* */
    const uint16_t *red16[2], *nir16[2]; /* UInt16 DNs of a date whose red/nir are NULL */
} cnp_change_tile;

typedef struct cnp_change_counts {
    int64_t unobserved, other, forest, loss;
} cnp_change_counts;

/* cnp_ndvi_dn() :
 * NDVI of one pixel from DN values under `d`'s rules, or NAN when not valid.
 * The kernel below uses exactly this function, so tests can use it as reference. */
double cnp_ndvi_dn(double red_dn, double nir_dn, const cnp_date_params *d);

/* cnp_change_classify() :
 * Fill t->ndvi[0..1] and t->cls for every pixel; add the class counts to
 * *counts when it is not NULL.
 * @return CNP_OK, or CNP_E_ARG on a NULL pointer, bad shape or bad threshold
 *         (outputs untouched). */
cnp_status cnp_change_classify(const cnp_change_params *p, cnp_change_tile *t,
                               cnp_change_counts *counts);

/* cnp_change_ndvi() :
 * NDVI of one date only (a baseline scene, kernels/cnp_baseline.h): date d
 * of `t` (its red/nir or red16/nir16, observed) into t->ndvi[d], with the
 * same arithmetic as cnp_change_classify(), so the same bits; t->cls and the
 * other date are not used.
 * @return CNP_OK, or CNP_E_ARG on a NULL pointer, bad shape or d not 0/1. */
cnp_status cnp_change_ndvi(const cnp_date_params *p, cnp_change_tile *t, int d);

#endif /* CNP_CHANGE_H */
