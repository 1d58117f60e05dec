/* pipeline/run/cnp_zoneset.h - the --zones layers of a run: opened and
 * checked before any work (a bad layer costs nothing and writes nothing),
 * then met with the run's alerts into cnp_result.zones.
 */
#ifndef CNP_ZONESET_H
#define CNP_ZONESET_H

#include <stddef.h>

#include "cnp_raster.h"
#include "cnp_result.h"
#include "cnp_zones.h"

typedef struct cnp_zone_set {
    cnp_zone_source **src;
    size_t            n;
} cnp_zone_set;

/* cnp_zone_set_open() : each of specs[0..n) (FILE[:LAYER], n <= 32) against
 * `grid`'s CRS and the processed window `win`. @return as
 * cnp_zone_source_open(). */
cnp_status cnp_zone_set_open(cnp_zone_set *zs, const char *const *specs, size_t n,
                             const char *field, const cnp_scene *grid, const int win[4]);

/* cnp_zone_set_apply() : res->zones from res's alerts (on `grid`). With no
 * layers, res->zones says none were given. */
cnp_status cnp_zone_set_apply(cnp_zone_set *zs, const cnp_scene *grid, cnp_result *res);

void cnp_zone_set_close(cnp_zone_set *zs);

#endif /* CNP_ZONESET_H */
