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
#include "cnp_status.h"

/* cnp_info_run() :
 * Describe `path` on `out`, as text or (json != 0) as one JSON object.
 * GDAL must be registered. @return CNP_OK or the error of opening the input. */
cnp_status cnp_info_run(const char *path, const cnp_settings *s, int json, FILE *out);

#endif /* CNP_INFO_H */
