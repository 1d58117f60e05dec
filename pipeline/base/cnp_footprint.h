/* pipeline/base/cnp_footprint.h - the one key of a footprint, for batch (its
 * folder under OUTROOT) and monitor (its state folder and alert ids).
 *
 * A product names its footprint ("MGRS tile 21LXK" -> "mgrs-21LXK", "WRS-2
 * path/row 001/062" -> "wrs2-001-062", cnp_ident_footprint_key); a raster
 * without one is keyed by its grid: "grid-" and 8 hex digits of the SHA-256
 * of its CRS, origin, pixel size and size. Every key passes
 * cnp_ident_check(CNP_IDENT_KEY). No GDAL.
 */
#ifndef CNP_FOOTPRINT_H
#define CNP_FOOTPRINT_H

#include <stddef.h>

#include "cnp_status.h"

#define CNP_FOOTPRINT_KEY_LEN 64

/* cnp_footprint_key() :
 * The key of footprint `name` (a product's, "" or NULL for none), else of the
 * grid (wkt, gt, width x height). `input` names the input in a refusal.
 * @return CNP_OK with the key in `key`; CNP_E_DATA when the product's name
 *         gives no valid key (the input is then one failed input). */
cnp_status cnp_footprint_key(const char *name, const char *wkt, const double gt[6], int width,
                             int height, char *key, size_t size, const char *input);

#endif /* CNP_FOOTPRINT_H */
