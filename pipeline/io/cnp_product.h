/* pipeline/io/cnp_product.h - what a path given by the user is: a satellite
 * product (Landsat Collection 2 Level-2, Sentinel-2 L2A, a STAC item, ...) or
 * any other GDAL raster.
 *
 * Product families are described by profiles, one INI file per family in the
 * profile folder (configs/landsat_c2l2.ini, configs/sentinel2_l2a.ini, ...):
 * how a product is recognised, where its band and quality files are, which
 * metadata items give the date, id, footprint, scale and offset, and how its
 * quality layer decodes. The C code only knows three metadata formats
 * ("mtl": Landsat ODL/XML/JSON, "s2": Sentinel-2 SAFE or COG folders,
 * "stac": STAC items); a new sensor in one of them is a new profile file.
 *
 * Resolution reads metadata only (no pixels): cheap, and done again by
 * `canopy info` and `canopy detect` alike.
 */
#ifndef CNP_PRODUCT_H
#define CNP_PRODUCT_H

#include <stddef.h>

#include "cnp_config.h"
#include "cnp_mask.h"
#include "cnp_status.h"

/* Band roles of a product. Red and NIR are required; green and blue are for
 * pictures, SWIR2 (2.2 um) feeds the second index (kernels/cnp_swir.h): the
 * optional ones are left out when a product lacks them. */
enum { CNP_BAND_RED = 0, CNP_BAND_NIR, CNP_BAND_GREEN, CNP_BAND_BLUE, CNP_BAND_SWIR2, CNP_NBANDS };

typedef struct cnp_product_band {
    char  *path;            /* GDAL path of the file holding it; NULL = none    */
    int    index;           /* 1-based band in that file                        */
    char   name[32];        /* as the product calls it: "B4", "B04", "red"      */
    double scale, offset;   /* reflectance = DN * scale + offset                */
    int    has_scale;       /* 0: the product gives none (defaults apply)      */
} cnp_product_band;

/* A file read or referenced, for run.json's chain of custody. */
typedef struct cnp_product_file {
    char *role;             /* "metadata", "red", "nir", "mask", "archive", ... */
    char *path;             /* local path, or a URL / GDAL virtual path         */
} cnp_product_file;

typedef struct cnp_product {
    char   family[32];      /* profile family, e.g. "landsat_c2l2"             */
    char   title[96];       /* "Landsat Collection 2 Level-2"                   */
    char   profile[1100];   /* the profile file that matched                    */
    char   layout[32];      /* "folder", "tar", "safe", "zip", "cog folder", ... */
    char   sensor[96];      /* "LANDSAT_8 OLI_TIRS", "Sentinel-2A"              */
    char   id[192];
    char   date[CNP_DATE_LEN];
    char   date_source[96]; /* the metadata item the date came from             */
    char   footprint[64];   /* "WRS-2 path/row 001/062", "MGRS tile 29RKH"      */
    char   baseline[16];    /* Sentinel-2 processing baseline, or ""            */
    char   scale_source[160];
    cnp_product_band band[CNP_NBANDS];
    char  *mask_path;       /* quality layer, NULL = none                      */
    char   mask_name[32];   /* "QA_PIXEL", "SCL"                               */
    cnp_mask_rule mask;
    char   mask_text[512];  /* the rule in words, for info and run.json         */
    char   fill_text[64];   /* the flag meaning "no data" ("fill"), or ""       */
    uint32_t fill_bits;     /* that flag as bits (bits rule) ...                */
    int    fill_value;      /* ... or as a class value (classes rule), -1 none  */
    int    has_nodata;
    double nodata;          /* of the band files                                */
    cnp_product_file *files;
    size_t nfiles;
} cnp_product;

/* cnp_product_profiles_dir() :
 * The profile folder: [products] profiles, else $CANOPY_CONFIG_DIR, else one
 * beside the executable: BIN/../share/canopy (installed), BIN/../configs (a
 * checkout), BIN/../../configs (build-asan/bin/); never the current folder.
 * Written into buf.
 * @return buf; NULL when no folder beside the executable exists (buf then
 *         lists the places looked at, for the message). */
const char *cnp_product_profiles_dir(const cnp_settings *s, char *buf, size_t size);

/* cnp_product_resolve() :
 * Work out what `path` is. On CNP_OK, *p describes it and *is_product says
 * whether it is a product (1) or a plain raster to open as it is (0; *p is
 * then empty). `role` ("BEFORE", "AFTER", "") prefixes messages.
 * Paths accepted: a product folder, a .tar (Landsat) or .zip (Sentinel-2
 * SAFE), a metadata file (*_MTL.txt/.xml/.json, MTD_MSIL2A.xml), a folder of
 * per-band COGs, a STAC item (local or /vsicurl/, http(s):// URLs too).
 * @return CNP_OK; CNP_E_IO (missing or unreadable file), CNP_E_DATA (not a
 *         usable product: missing band, corrupt metadata, no NIR, ...) or
 *         CNP_E_CONFIG (bad profile), each with a one-line message. */
cnp_status cnp_product_resolve(const char *path, const cnp_settings *s, const char *role,
                               cnp_product *p, int *is_product);

/* Free what *p owns and zero it. NULL-safe. */
void cnp_product_free(cnp_product *p);

/* cnp_product_copy() : a deep copy of `src` into *dst (zeroed first).
 * @return CNP_OK or CNP_E_NOMEM (*dst then empty). */
cnp_status cnp_product_copy(cnp_product *dst, const cnp_product *src);

/* ---- one run's products ------------------------------------------------------
 * A run (a batch, a monitor run) recognises each product once and loads the
 * profiles once: it begins a session, which keeps the profiles and becomes
 * the session of the calling thread. While it is, cnp_product_resolve() uses
 * its profiles (when the settings name the same profile folder and limits)
 * and remembers every product it recognises by path, so that the scene
 * opens that follow (cnp_scene_open resolves its path again) get a copy
 * instead of a second recognition. Other threads are not affected. A child
 * forked by the thread inherits the session and what it holds.
 * The session is handed down explicitly where a caller can take it
 * (io/cnp_discover.h); the thread's copy serves the scene opens that cannot. */
typedef struct cnp_product_session cnp_product_session;

/* The profiles are read on the first product looked at. @return CNP_OK or CNP_E_NOMEM. */
cnp_status cnp_product_session_begin(const cnp_settings *s, cnp_product_session **out);
/* Ends it (it stops being the thread's) and frees it; NULL-safe. */
void cnp_product_session_end(cnp_product_session **ss);
/* Products recognised (by their metadata, not from the session's memory) and
 * profile folders loaded on this thread since the session began. */
void cnp_product_session_counts(const cnp_product_session *ss, size_t *recognised,
                                size_t *profile_loads);

#endif /* CNP_PRODUCT_H */
