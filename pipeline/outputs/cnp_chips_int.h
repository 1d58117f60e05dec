/* pipeline/outputs/cnp_chips_int.h - what the evidence chips' two files share:
 * cnp_chips.c (windows, reading, the text chunks, writing) and
 * cnp_chips_draw.c (the image, the outline, the caption). The conventions
 * are written at the head of cnp_chips.c.
 */
#ifndef CNP_CHIPS_INT_H
#define CNP_CHIPS_INT_H

#include "cnp_evidence.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cpl_conv.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "cnp_change.h"
#include "cnp_draw.h"
#include "cnp_err.h"
#include "cnp_mapframe.h"
#include "cnp_png.h"
#include "cnp_ident.h"

#define CHIP_TARGET   512   /* chips aim for this width, px                   */
#define CHIP_MAX      1024  /* and never exceed this one                      */
#define CHIP_MIN_MARGIN 8   /* scene pixels of context around the alert       */
#define HATCH_PERIOD  8
#define HATCH_WIDTH   2
#define NOTE_MIN_DEG  1.0   /* convergence above this gets the note           */

enum { OBSERVED = 0, MASKED = 1, NODATA = 2 };   /* per-sample state */

static const cnp_color C_OUTLINE = { 255, 230, 0 };
static const cnp_color C_HATCH = { 0, 200, 255 };
static const cnp_color C_PAD = { 112, 112, 112 };
static const cnp_color C_BAND = { 24, 24, 24 };
static const cnp_color C_TEXT = { 235, 235, 235 };
static const cnp_color C_TITLE = { 255, 230, 0 };
static const cnp_color C_BAR = { 255, 255, 255 };


typedef struct chip_geom {
    int x0, y0, side;   /* window in BEFORE pixels; side is a multiple of dec   */
    int zoom, dec;      /* chip px per scene px / scene px per chip px; one is 1 */
    int n;              /* samples per side: side / dec                       */
    int size;           /* image side in chip px: n * zoom                    */
} chip_geom;

typedef struct chip_data {
    float   *val[2][3];    /* reflectance of the displayed bands, n x n       */
    uint8_t *state[2];     /* OBSERVED, MASKED or NODATA, n x n               */
    float   *pool, *scratch; /* percentile input and its scratch, 2 n x n each */
    /* one chunk of scene rows as read: red, NIR, the displayed bands, flags */
    float   *red, *nir, *show[3];
    uint8_t *observed, *inside;
    float   *hz[4];        /* AFTER's blue, red, NIR, SWIR2 reflectance (haze) */
    uint8_t *hflags;
    size_t   chunk_cap;
} chip_data;

typedef struct caption {
    char   lines[8][160];
    int    nlines;
    int    ts;             /* text scale */
    char   bar_label[32];
    int    bar_px;
    double arrow_deg;      /* 0 = straight up */
} caption;

static inline int line_h(int ts) { return cnp_text_height(ts) + 3 * ts; }
static inline int arrow_col(int ts) { return 26 * ts; }
static inline int pad_px(int ts) { return 6 * ts; }
static inline int bar_row_h(int ts) { return cnp_text_height(ts) + 4 * ts; }

/* Pixels come through the scene's reader (io/cnp_raster.h), exactly as
 * detection read them: the product's bands on the common grid, its mask
 * decoded by its own rule and grown by the buffer. */
typedef struct date_src {
    const cnp_scene *sc;
    cnp_reader      *rd;
    int              band[3];        /* displayed bands, 1-based            */
    int              has_nd[3];
    double           nd[3];          /* their nodata                        */
} date_src;

cnp_status cnp_chip_src_open(date_src *d, const cnp_scene *sc, const cnp_settings *s,
                             const int bands[3]);
void cnp_chip_src_close(date_src *d);

typedef struct run_info {
    const cnp_evidence_ctx *ctx;
    const char *band_names;   /* "red green blue" or "nir red green" */
    int         true_colour;
    OGRSpatialReferenceH srs;
    OGRCoordinateTransformationH to_scene;
} run_info;

/* The chip's window around the alert (the head of cnp_chips.c). */
void cnp_chip_window(const cnp_scene *sc, OGRGeometryH geom, chip_geom *g);
/* before.png and after.png of one alert under dir/evidence/<id>/
 * (which exists), read through `src` (one thread's readers). */
cnp_status cnp_chip_write(const char *dir, const run_info *ri, const date_src src[2],
                          const cnp_alert *a);

/* Greedy word wrap of s into cap->lines, each at most `avail` px wide. */
void cnp_chip_add_wrapped(caption *cap, const char *s, int avail);
/* s in lines of about equal width, at most `avail` px each. */
void cnp_chip_add_balanced(caption *cap, const char *s, int avail);
int cnp_chip_caption_height(const caption *cap);
/* The caption band from row `top` down: scale bar, lines, legend, north arrow. */
void cnp_chip_draw_caption(cnp_rgb8 *img, int top, const caption *cap);
/* The alert's outline, 2 px along the pixel edges (xy: scratch, grown). */
cnp_status cnp_chip_draw_outline(cnp_rgb8 *view, OGRGeometryH multi, const cnp_scene *sc,
                                 const chip_geom *g, double **xy, size_t *xy_cap);
/* Date k's window: stretched colour, grey nodata, hatched unobserved
 * (hatch: scratch of size^2 bytes, rgb: of 3 n^2). */
void cnp_chip_render_image(cnp_rgb8 *img, const chip_geom *g, const chip_data *cd, int k,
                           const float lo[3], const float hi[3], uint8_t *hatch, uint8_t *rgb);

/* Detection's haze test on AFTER over a chunk of cw x ch pixels at (x0, y0)
 * (cd's red, NIR and observed as read): observed becomes 0 where it found
 * haze, so the chips hatch those pixels too. */
cnp_status cnp_chips_haze(cnp_reader *rd, const cnp_scene *sc, const cnp_result *res,
                          chip_data *cd, int x0, int y0, int cw, int ch);

#endif /* CNP_CHIPS_INT_H */
