/* pipeline/run/cnp_info.h - `canopy info PATH`: what Canopy understood of an input.
 *
 * Resolves PATH exactly as `canopy detect` does (product recognition, band
 * stacking, mask rule) and prints it: family, sensor, date, id, footprint,
 * grid, the files that supply red, NIR and the mask, scale and offset, the
 * mask rule and the share of pixels observed (the mask is read, with the
 * buffer applied, as detect would).
 */
#ifndef CNP_INFO_H
#define CNP_INFO_H

#include <stdio.h>

#include "cnp_config.h"
#include "cnp_ctxmask.h"
#include "cnp_json.h"
#include "cnp_raster.h"
#include "cnp_status.h"

/* Context layers to describe on the input's grid (--zones, --forest-mask,
 * --exclude, --aoi and their rules, as detect takes them). */
typedef struct cnp_info_layers {
    const char *const *zones;
    size_t       nzones;
    const char  *zone_field, *aoi;
    cnp_ctxmask_spec rules;
} cnp_info_layers;

/* cnp_info_run() :
 * Describe `path` on `out`, as text or (json != 0) as one JSON object, and
 * each of `layers` (NULL: none) on its grid. GDAL must be registered.
 * @return CNP_OK, the error of opening the input, or a layer's error. */
cnp_status cnp_info_run(const char *path, const cnp_settings *s, const cnp_info_layers *layers,
                        int json, FILE *out);

/* cnp_info_layers_run() (cnp_info_ctx.c) : the layers' part, into `j` (a
 * "context" object) or as text lines on `out` when j is NULL: each zones
 * layer's CRS, feature counts and extent overlap; the pixels of the grid
 * each mask takes out; the area of interest inside and outside the grid. */
cnp_status cnp_info_layers_run(const cnp_info_layers *layers, const cnp_scene *sc, cnp_json *j,
                               FILE *out);

#endif /* CNP_INFO_H */
