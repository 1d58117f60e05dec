/* pipeline/cnp_output.h - the writers behind `canopy detect`'s OUTDIR files.
 *
 * Each writer writes one file at the path it is given (a temporary name in a
 * staging folder; cnp_detect renames it into OUTDIR once everything succeeded).
 */
#ifndef CNP_OUTPUT_H
#define CNP_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_detect.h"
#include "cnp_raster.h"

/* alerts.gpkg (layer `alerts`, scene CRS) and alerts.geojson (RFC 7946). */
cnp_status cnp_write_gpkg(const char *path, const cnp_result *res, const cnp_scene *before,
                          const cnp_scene *after);
cnp_status cnp_write_geojson(const char *path, const cnp_result *res, const cnp_scene *before,
                             const cnp_scene *after);

/* Quicklook accumulator: unobserved share per overview cell, filled by the
 * strip workers (atomic adds), drawn by cnp_write_overview(). */
typedef struct cnp_overview {
    int       win[4];          /* processed window of BEFORE's grid      */
    int       factor;          /* scene pixels per overview pixel        */
    int       width, height;   /* overview size                          */
    uint32_t *unobserved;      /* per overview pixel                     */
    uint32_t *total;
} cnp_overview;

cnp_status cnp_overview_init(cnp_overview *ov, const int win[4], int max_size);
void cnp_overview_add_strip(cnp_overview *ov, int y0, int h, const uint8_t *cls);
void cnp_overview_free(cnp_overview *ov);
cnp_status cnp_write_overview(const char *path, const cnp_overview *ov, const cnp_scene *after,
                              const cnp_result *res);

/* SHA-256 of a file as 64 hex digits + NUL. */
cnp_status cnp_sha256_file(const char *path, char hex[65], int64_t *size);

#endif /* CNP_OUTPUT_H */
