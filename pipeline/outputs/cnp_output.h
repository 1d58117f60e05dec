/* pipeline/outputs/cnp_output.h - the writers behind `canopy detect`'s OUTDIR files.
 *
 * Each writer writes one file at the path it is given (a temporary name in a
 * staging folder; cnp_detect renames it into OUTDIR once everything succeeded).
 */
#ifndef CNP_OUTPUT_H
#define CNP_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_outlist.h"
#include "cnp_quicklook.h"
#include "cnp_raster.h"
#include "cnp_result.h"


/* alerts.gpkg (layer `alerts`, scene CRS) and alerts.geojson (RFC 7946). */
cnp_status cnp_write_gpkg(const char *path, const cnp_result *res, const cnp_scene *before,
                          const cnp_scene *after);
cnp_status cnp_write_geojson(const char *path, const cnp_result *res, const cnp_scene *before,
                             const cnp_scene *after);

cnp_status cnp_write_overview(const char *path, const cnp_overview *ov, const cnp_scene *after,
                              const cnp_result *res);

#endif /* CNP_OUTPUT_H */
