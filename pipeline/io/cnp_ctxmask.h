/* pipeline/io/cnp_ctxmask.h - external forest and exclusion masks on the
 * scene's grid: --forest-mask (e.g. Hansen tree cover 2000 with --forest-min,
 * or a land-cover map with --forest-classes) and --exclude (e.g. PRODES
 * prior deforestation with --exclude-classes, or Hansen loss year with
 * --exclude-before).
 *
 * Each raster, in any CRS and pixel size, is warped onto the scene's grid as
 * a nearest-neighbour VRT in /vsimem (nothing is resampled into memory);
 * every worker of detect's pass reads its tiles of it through its own handle.
 * A pixel may hold forest only where the forest mask says so (and, as
 * before, NDVI before says so too), and never where the exclusion mask says
 * it was cleared already: there it is "other", not forest, so it gives no
 * loss. A pixel the forest mask has no value for (its nodata, or outside it)
 * is not forest; one the exclusion mask has no value for is not excluded.
 */
#ifndef CNP_CTXMASK_H
#define CNP_CTXMASK_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_change.h"
#include "cnp_geom.h"
#include "cnp_status.h"

enum { CNP_CTX_MAX_CLASSES = 64 };

/* What the options ask for. */
typedef struct cnp_ctxmask_spec {
    const char *forest;          /* --forest-mask FILE, or NULL                 */
    double      forest_min;      /* --forest-min N: forest where value >= N     */
    int         forest_classes[CNP_CTX_MAX_CLASSES];   /* --forest-classes: or  */
    int         nforest_classes; /* where the value is one of these (0: use min) */
    const char *exclude;         /* --exclude FILE, or NULL                     */
    int         exclude_classes[CNP_CTX_MAX_CLASSES];  /* --exclude-classes     */
    int         nexclude_classes;
    int         exclude_last_year;/* --exclude-before: a loss-year raster (years
                                  * since 2000) excludes 1 .. this; 0: not given */
} cnp_ctxmask_spec;

/* cnp_ctxmask_classes() : "1,11,16" into at most CNP_CTX_MAX_CLASSES ints.
 * @return CNP_OK or CNP_E_ARG naming `what`. */
cnp_status cnp_ctxmask_classes(const char *list, const char *what, int *out, int *n);

/* cnp_ctxmask_before_year() : --exclude-before YYYY-MM-DD as the last loss
 * year (since 2000) cleared before it: the date's year when it is Dec 31,
 * else the year before. @return CNP_OK or CNP_E_ARG. */
cnp_status cnp_ctxmask_before_year(const char *date, int *last_year);

typedef struct cnp_ctxmask cnp_ctxmask;

/* cnp_ctxmask_open() :
 * The masks of `spec` on the grid (CRS `wkt`, geotransform `gt`, width x
 * height). NULL in *out when spec asks for none. @return CNP_OK; CNP_E_IO
 * when a file does not open or cannot be warped; CNP_E_DATA when it has no
 * CRS or does not overlap the grid. Messages name the file. */
cnp_status cnp_ctxmask_open(const cnp_ctxmask_spec *spec, const char *wkt, const double gt[6],
                            int width, int height, cnp_ctxmask **out);
void cnp_ctxmask_close(cnp_ctxmask **m);

/* cnp_ctxmask_add_aoi() :
 * An area of interest (--aoi; grid CRS): pixels of window `win` whose centre
 * lies outside it are left out of the run altogether (neither observed nor
 * unobserved, never loss), rasterised once into a compressed /vsimem raster
 * of the window. Makes *m when it is NULL. */
cnp_status cnp_ctxmask_add_aoi(cnp_ctxmask **m, const cnp_geometry *aoi, const char *wkt,
                               const double gt[6], const int win[4]);

/* cnp_ctxmask_open_aoi() :
 * --aoi `spec` (FILE[:LAYER], any OGR vector) on the grid (CRS `wkt`,
 * geotransform `gt`): its polygons as one geometry in *aoi (the caller frees
 * it), `win` shrunk to its envelope (only those blocks are read), and its
 * pixels added to *m (cnp_ctxmask_add_aoi). *repaired: polygons OGR's
 * MakeValid repaired. `where` names the window in the message when none of
 * its polygons overlaps it ("the scenes' overlap"). @return CNP_OK; CNP_E_DATA
 * for no overlap; as cnp_zone_source_open() otherwise. */
cnp_status cnp_ctxmask_open_aoi(const char *spec, const char *where, const char *wkt,
                                const double gt[6], int win[4], cnp_geometry **aoi,
                                int64_t *repaired, cnp_ctxmask **m);

/* Pixels of the window outside the area of interest (after the pass). */
int64_t cnp_ctxmask_outside(const cnp_ctxmask *m);

/* Pixels the masks took out of the forest, over the whole pass (summed
 * atomically by the workers): not forest by the forest mask, and excluded. */
void cnp_ctxmask_counts(const cnp_ctxmask *m, int64_t *not_forest, int64_t *excluded);

/* One worker's handles and buffer (tiles of at most `max_pixels`). */
typedef struct cnp_ctxmask_reader cnp_ctxmask_reader;
cnp_status cnp_ctxmask_reader_open(cnp_ctxmask *m, size_t max_pixels, cnp_ctxmask_reader **out);
void cnp_ctxmask_reader_close(cnp_ctxmask_reader **r);

/* What the masks say of a pixel (cnp_ctxmask_classify). */
enum {
    CNP_CTX_IN = 0,              /* may hold forest (and loss)                    */
    CNP_CTX_NOT_FOREST = 1,      /* not forest by the forest mask                 */
    CNP_CTX_EXCLUDED = 2,        /* cleared already by the exclusion mask         */
    CNP_CTX_OUTSIDE = 3          /* outside the area of interest                  */
};

/* cnp_ctxmask_classify() :
 * Tile (x0, y0, w, h) of the grid (anywhere on it: pixels beyond the area of
 * interest's window are outside it) into why[] (row stride w), CNP_CTX_*:
 * outside first, then not forest, then excluded. Counts nothing. */
cnp_status cnp_ctxmask_classify(cnp_ctxmask_reader *r, int x0, int y0, int w, int h,
                                uint8_t *why);

/* cnp_ctxmask_restrict() :
 * Tile (x0, y0, w, h) of the grid, classes `cls` (kernels/cnp_change.h, row
 * stride w): forest and loss pixels the masks rule out become "other", and
 * `counts` follows; pixels outside the area of interest become "other" too
 * but leave the counts. */
cnp_status cnp_ctxmask_restrict(cnp_ctxmask_reader *r, int x0, int y0, int w, int h,
                                uint8_t *cls, cnp_change_counts *counts);

#endif /* CNP_CTXMASK_H */
