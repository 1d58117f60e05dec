/* pipeline/io/cnp_discover.h - what the INPUT paths of `canopy batch` and
 * `canopy monitor` hold: one walker, one set of rules, one footprint key.
 *
 * An input is a product (folder, .SAFE, Sentinel-2 COG folder, .tar/.zip
 * archive, metadata file, STAC item: cnp_product_resolve decides), a raster
 * (by extension), or at the top level a text file listing inputs. Folders
 * that are not products are searched (sorted, files before sub-folders,
 * hidden entries and the skip folder left out); a folder whose files say it
 * is a product but does not resolve is one failed input, not searched.
 * Files a product reads are not inputs of their own; STEM_mask.EXT beside a
 * raster STEM.EXT is its mask. A .json is looked at only when it is a STAC
 * item (stac_version and type Feature, read within [limits]).
 *
 * Every scene is opened as detect will open it (cnp_scene_open: metadata,
 * never pixels) for its grid, size and date; a raster's date may come from
 * its file name (YYYY-MM-DD or YYYYMMDD). Each product is recognised once:
 * discovery runs inside a product session (cnp_product.h), so the scene
 * opens that follow get the product already recognised.
 */
#ifndef CNP_DISCOVER_H
#define CNP_DISCOVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cnp_config.h"
#include "cnp_footprint.h"
#include "cnp_product.h"
#include "cnp_status.h"

typedef struct cnp_discover_scene {
    char   *path;               /* absolute (local), or as given (remote)     */
    char   *mask;               /* STEM_mask.EXT beside a raster, or NULL     */
    int     is_product;
    char    id[192];            /* product id (cnp_ident_check'ed), or the
                                   raster's file stem as it is               */
    char    date[CNP_DATE_LEN];
    char    date_source[16];    /* "metadata" or "file name"                  */
    char    kind[32];           /* product family, or "raster"                */
    char    product[160];       /* product title, or "<GDAL driver> raster"   */
    char    format[512];        /* what a change of is worth reporting        */
    char    fp_name[64];        /* the product's footprint; "" = none         */
    char    fp_key[CNP_FOOTPRINT_KEY_LEN]; /* cnp_footprint_key of fp_name, else
                                   of the grid; "" when neither is known     */
    char   *wkt;                /* grid as detect opens it; NULL = unreadable */
    double  gt[6];
    int     width, height;
    int64_t pixels;             /* width x height; 0 = unknown                */
    char   *note;               /* why it cannot be opened (its runs will
                                   fail), or NULL                            */
} cnp_discover_scene;

/* An input that is not a scene. */
typedef struct cnp_discover_item {
    char *path;
    char  status[12];           /* "ignored", "duplicate" or "failed"         */
    char *reason;
} cnp_discover_item;

typedef struct cnp_discovery {
    cnp_discover_scene *scene;  /* products in the order found, then rasters
                                   by path                                   */
    size_t              nscene;
    cnp_discover_item  *item;
    size_t              nitem;
} cnp_discovery;

typedef struct cnp_discover_opts {
    const cnp_settings  *settings;
    const char          *skip_dir;  /* not searched (OUTROOT, the state); NULL */
    FILE                *log;       /* a line per input not used, or NULL     */
    const char          *who;       /* the lines' prefix: "batch", "monitor"  */
    cnp_product_session *products;  /* the run's session, or NULL: discovery
                                       then has one of its own               */
} cnp_discover_opts;

/* cnp_discover() :
 * Find the scenes under inputs[0..n). One bad input is one item; the others
 * go on. GDAL must be registered.
 * @return CNP_OK (also when some inputs failed: see out->item), CNP_E_CONFIG
 *         (the product profiles cannot be read: no product could be), or
 *         CNP_E_NOMEM; *out is then empty. */
cnp_status cnp_discover(char *const *inputs, size_t n, const cnp_discover_opts *o,
                        cnp_discovery *out);
void cnp_discovery_free(cnp_discovery *d);

#endif /* CNP_DISCOVER_H */
