/* pipeline/outputs/cnp_evidence_text.h - what every evidence writer (alerts.csv,
 * alerts.kmz, report.html, report.pdf) says the same way: the alert attributes
 * with the names and rounding of alerts.gpkg, and the facts of the run in
 * sentences (CRS, method, limitations, image credits, software), so a number
 * or a statement reads the same in every output.
 */
#ifndef CNP_EVIDENCE_TEXT_H
#define CNP_EVIDENCE_TEXT_H

#include <stdint.h>
#include <stdio.h>

#include "cnp_evidence.h"

typedef enum cnp_attr_kind { CNP_ATTR_STR, CNP_ATTR_REAL, CNP_ATTR_INT } cnp_attr_kind;

/* The attributes of alerts.gpkg, in its field order. `decimals` is the
 * rounding cnp_detect applies, so "%.*f" prints the stored value exactly. */
typedef struct cnp_attr_def {
    const char   *name;      /* field name, as in alerts.gpkg           */
    cnp_attr_kind kind;
    int           decimals;
    const char   *label;     /* for people (reports, balloon)          */
    const char   *kml_type;  /* KML SimpleField type                   */
} cnp_attr_def;

enum { CNP_NATTRS = 19 };
extern const cnp_attr_def cnp_attrs[CNP_NATTRS];

typedef struct cnp_attr_val {
    const char *s;           /* CNP_ATTR_STR; NULL = null (unknown date) */
    double      d;
    int64_t     i;
} cnp_attr_val;

/* Attribute k is in this run's outputs: `zones` (the last) only with --zones. */
int cnp_attr_shown(const cnp_evidence_ctx *ctx, int k);

cnp_attr_val cnp_attr_get(const cnp_evidence_ctx *ctx, const cnp_alert *a, int k);

/* Attribute k as text into buf; NULL when the value is null. */
const char *cnp_attr_text(const cnp_evidence_ctx *ctx, const cnp_alert *a, int k, char *buf,
                          size_t size);

/* Alert i has evidence/<id>/ chips. */
int cnp_evidence_has_chip(const cnp_evidence_ctx *ctx, size_t i);

/* Width and height of a PNG from its IHDR chunk; 0 when unreadable. */
int cnp_evidence_png_size(const char *path, int *w, int *h);

/* The file at `path` as "data:image/png;base64,..." (for a page that
 * travels alone). @return CNP_OK, CNP_E_IO or CNP_E_NOMEM. */
cnp_status cnp_evidence_put_data_uri(FILE *f, const char *path);

/* "https://www.openstreetmap.org/?mlat=..&amp;mlon=..#map=16/../.." ('&'
 * escaped: it goes into HTML attribute values). */
void cnp_evidence_osm_href(FILE *f, double lat, double lon);

/* --zones: the alerts grouped by zone, as report.html and report.pdf list
 * them: zone z's hits are m->hit[by[k]] for k in [start[z], start[z + 1]),
 * zones in zones.csv's order, by alert within a zone. */
typedef struct cnp_zone_groups {
    size_t *by;              /* nhit indices into m->hit                  */
    size_t *start;           /* nzone + 1 offsets into by                 */
} cnp_zone_groups;

cnp_status cnp_zone_groups_make(const cnp_zone_match *m, cnp_zone_groups *g);
void cnp_zone_groups_free(cnp_zone_groups *g);

/* The run in sentences, for the reports. */
enum { CNP_FACT_LEN = 720 };
typedef struct cnp_evidence_facts {
    char   crs[320];                 /* "WGS 84 / UTM zone 21S (EPSG:32721)"    */
    char   pixel[96];                /* "10 m x 10 m (grid of BEFORE)"         */
    char   window[160];              /* processed window in pixels and hectares */
    char   credits[4][CNP_FACT_LEN]; /* what each image licence asks for      */
    size_t ncredits;
    char   method[5][CNP_FACT_LEN];
    size_t nmethod;
    char   limits[8][CNP_FACT_LEN];
    size_t nlimits;
    char   software[6][96];          /* "canopy 1.2", "GDAL 3.6.2", ...        */
    size_t nsoftware;
} cnp_evidence_facts;

/* cnp_evidence_facts_get() : fill *f from ctx. Deterministic text (no clock).
 * @return CNP_OK, or CNP_E_DATA when the grid's CRS cannot be read. */
cnp_status cnp_evidence_facts_get(const cnp_evidence_ctx *ctx, cnp_evidence_facts *f);

#endif /* CNP_EVIDENCE_TEXT_H */
