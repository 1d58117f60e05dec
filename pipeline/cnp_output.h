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

/* The four products every run writes unless --outputs leaves some out; bits
 * of cnp_job.skip_outputs. In this order in OUTDIR, run.json and messages. */
enum {
    CNP_OUT_GPKG = 1 << 0,       /* alerts.gpkg    */
    CNP_OUT_GEOJSON = 1 << 1,    /* alerts.geojson */
    CNP_OUT_CSV = 1 << 2,        /* alerts.csv     */
    CNP_OUT_OVERVIEW = 1 << 3,   /* overview.png   */
    CNP_OUT_ALL = (1 << 4) - 1,
    CNP_OUT_COUNT = 4
};

/* Product k (0 .. CNP_OUT_COUNT-1): its file ("alerts.gpkg"). */
const char *cnp_output_file(int k);

/* cnp_outputs_parse() :
 * "gpkg,geojson" (gpkg, geojson, csv, overview; comma-separated, any order)
 * into CNP_OUT_* bits; `what` names the list in messages ("--outputs").
 * @return CNP_OK, or CNP_E_ARG with the reason in cnp_err_msg() (an unknown
 * or repeated name, or an empty list). */
cnp_status cnp_outputs_parse(const char *list, const char *what, unsigned *bits);

/* settings.outputs of run.json and of a batch plan: "outputs": [names of the
 * products `skip` (CNP_OUT_* bits) leaves in]. */
struct cnp_json;
void cnp_outputs_write_json(struct cnp_json *j, unsigned skip);

/* cnp_outputs_skip_from_settings() :
 * The CNP_OUT_* products NOT written, from the `outputs` array of run.json's
 * or a batch plan's settings object (no array, as in a run.json from before
 * --outputs existed: all four written, *skip = 0). @return CNP_OK, or
 * CNP_E_DATA with the reason in cnp_err_msg(). */
struct json_object;
cnp_status cnp_outputs_skip_from_settings(struct json_object *settings, unsigned *skip);

/* cnp_outputs_check() :
 * The evidence (report.html, alerts.kmz, chips) goes with all four products:
 * CNP_E_ARG, with a message naming --no-evidence, when some are skipped and
 * the evidence is not off; else CNP_OK. */
cnp_status cnp_outputs_check(unsigned skip, int no_evidence);

/* alerts.gpkg (layer `alerts`, scene CRS) and alerts.geojson (RFC 7946). */
cnp_status cnp_write_gpkg(const char *path, const cnp_result *res, const cnp_scene *before,
                          const cnp_scene *after);
cnp_status cnp_write_geojson(const char *path, const cnp_result *res, const cnp_scene *before,
                             const cnp_scene *after);

/* Quicklook accumulator. Workers fill a cnp_overview_part for their strip
 * (unobserved pixels per overview pixel, and AFTER's red and NIR at each
 * overview pixel's centre: nearest-neighbour decimation, no extra read) and
 * merge it into the cnp_overview in strip order. Integer counts and sampled
 * values, so the result does not depend on threads. */
typedef struct cnp_overview {
    int       win[4];          /* processed window of BEFORE's grid      */
    int       factor;          /* scene pixels per overview pixel        */
    int       width, height;   /* overview size                          */
    uint16_t *unobserved;      /* per overview pixel (factor <= 255)     */
    float    *red, *nir;       /* AFTER's DNs at the centre; NAN if invalid */
} cnp_overview;

typedef struct cnp_overview_part {
    const cnp_overview *ov;
    int       oy0, rows, cap_rows;
    int       ox0, cols;           /* the columns this part covers            */
    uint16_t *unobserved;
    float    *red, *nir;
    int      *col;             /* overview column of each window column  */
    uint8_t  *centre_col;      /* 1 where a window column is its cell's centre */
} cnp_overview_part;

cnp_status cnp_overview_init(cnp_overview *ov, const int win[4], int max_size);
void cnp_overview_free(cnp_overview *ov);
cnp_status cnp_overview_part_init(cnp_overview_part *p, const cnp_overview *ov, int strip_h);
void cnp_overview_part_free(cnp_overview_part *p);
/* A new part for the window (x0, y0, w, h) of the scene: a work unit. */
void cnp_overview_part_reset(cnp_overview_part *p, int x0, int w, int y0, int h);
/* A tile's red and NIR DNs, as float or as UInt16 (the other pair NULL). */
typedef struct cnp_dn_rows {
    const float    *red, *nir;
    const uint16_t *red16, *nir16;
} cnp_dn_rows;

void cnp_overview_part_add(cnp_overview_part *p, int x0, int y0, int w, int h,
                           const uint8_t *cls, const cnp_dn_rows *after,
                           const float *ndvi_after);
void cnp_overview_part_merge(cnp_overview *ov, const cnp_overview_part *p);
cnp_status cnp_write_overview(const char *path, const cnp_overview *ov, const cnp_scene *after,
                              const cnp_result *res);

/* SHA-256 of a file as 64 hex digits + NUL. */
cnp_status cnp_sha256_file(const char *path, char hex[65], int64_t *size);

#endif /* CNP_OUTPUT_H */
