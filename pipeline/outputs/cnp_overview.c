/* pipeline/outputs/cnp_overview.c - overview.png: the AFTER scene as a quicklook with
 * the alert outlines and the unobserved area, georeferenced (overview.pgw and
 * overview.png.aux.xml beside it) on the processed window.
 *
 * The unobserved share per overview pixel is accumulated by the strip workers
 * while they classify (no second pass over the scene); the colours come from a
 * decimated read that GDAL serves from internal overviews when the file has them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ogr_api.h>

#include "cnp_change.h"
#include "cnp_draw.h"
#include "cnp_err.h"
#include "cnp_mapframe.h"
#include "cnp_output.h"
#include "cnp_png.h"
#include "cnp_version.h"

static void draw_alerts(cnp_rgb8 *img, const cnp_overview *ov, const double *gt,
                        const cnp_result *res)
{
    const cnp_color outline = { 255, 230, 0 };
    double *xy = NULL;
    size_t cap = 0;

    for (size_t k = 0; k < res->nalerts; k++) {
        OGRGeometryH multi = res->alerts[k].geom;
        for (int p = 0; p < OGR_G_GetGeometryCount(multi); p++) {
            OGRGeometryH poly = OGR_G_GetGeometryRef(multi, p);
            for (int r = 0; r < OGR_G_GetGeometryCount(poly); r++) {
                OGRGeometryH ring = OGR_G_GetGeometryRef(poly, r);
                const int n = OGR_G_GetPointCount(ring);
                if ((size_t)n * 2 > cap) {
                    double *q = realloc(xy, (size_t)n * 2 * sizeof *q);
                    if (!q)
                        goto done;   /* a missing outline is better than no map */
                    xy = q;
                    cap = (size_t)n * 2;
                }
                for (int i = 0; i < n; i++) {
                    const double px = (OGR_G_GetX(ring, i) - gt[0]) / gt[1] - ov->win[0];
                    const double py = (OGR_G_GetY(ring, i) - gt[3]) / gt[5] - ov->win[1];
                    xy[2 * i] = px / ov->factor;
                    xy[2 * i + 1] = py / ov->factor;
                }
                cnp_draw_polyline(img, xy, (size_t)n, outline, ov->factor > 4 ? 1 : 2);
            }
        }
    }
done:
    free(xy);
}

/* About this many observed pixels give the quicklook's stretch limits (never
 * twice as many). */
#define STRETCH_SAMPLES 262144

cnp_status cnp_write_overview(const char *path, const cnp_overview *ov, const cnp_scene *after,
                              const cnp_result *res)
{
    const size_t n = (size_t)ov->width * (size_t)ov->height;
    float *band[3] = { NULL, NULL, NULL };
    float *scratch = NULL;
    uint8_t *px = NULL, *mask = NULL;
    cnp_map_marks marks = { { 0, 0, 0, 0 }, "", "", NULL, 0 };
    cnp_status st = CNP_OK;

    /* False colour (NIR, red, green) makes vegetation red and bare soil cyan,
     * the contrast an investigator looks for; without green, NIR-red-red. */
    const int bands[3] = { after->nir, after->red, after->green > 0 ? after->green : after->red };
    /* A decimated GDAL read gives true NIR-red-green colours but decodes the
     * scene a second time unless it has internal overviews (COGs do); otherwise
     * use AFTER's NIR and red sampled during detection (NIR, red, red). */
    const int gdal_read = ov->factor == 1 || cnp_scene_has_overviews(after);
    if (gdal_read)
        for (int i = 0; i < 3; i++)
            band[i] = malloc(n * sizeof(float));
    px = malloc(n * 3);
    mask = malloc(n);
    if ((gdal_read && (!band[0] || !band[1] || !band[2])) || !px || !mask) {
        st = cnp_err(CNP_E_NOMEM, "out of memory for the overview");
        goto done;
    }
    const float *colour[3] = { ov->nir, ov->red, ov->red };
    if (gdal_read) {
        if ((st = cnp_scene_read_decimated(after, ov->win, bands, ov->width, ov->height,
                                           band)) != CNP_OK)
            goto done;
        for (int i = 0; i < 3; i++)
            colour[i] = band[i];
    }

    /* Hatched where at least half of the cell's window pixels (edge cells are
     * partial) were not observed. */
    for (int oy = 0; oy < ov->height; oy++) {
        const uint32_t rows = (uint32_t)cnp_overview_cell_span(oy, ov->factor, ov->win[3]);
        const size_t row = (size_t)oy * (size_t)ov->width;
        for (int ox = 0; ox < ov->width; ox++)
            mask[row + (size_t)ox] = (uint32_t)ov->unobserved[row + (size_t)ox] * 2 >=
                                     rows * (uint32_t)cnp_overview_cell_span(ox, ov->factor, ov->win[2]);
    }
    /* Stretch on observed pixels only: clouds and nodata would flatten it. A
     * quicklook's stretch needs no more than a few hundred thousand samples:
     * every step-th observed pixel (deterministic), so the sample buffer stays
     * small whatever the quicklook's size. */
    size_t observed = 0;
    for (size_t i = 0; i < n; i++)
        observed += !mask[i];
    const size_t step = observed > STRETCH_SAMPLES ? observed / STRETCH_SAMPLES : 1;
    const size_t nsamples = (observed + step - 1) / step;
    if (!(scratch = malloc((nsamples ? nsamples : 1) * sizeof *scratch))) {
        st = cnp_err(CNP_E_NOMEM, "out of memory for the overview");
        goto done;
    }
    float lo = 0, hi = 1;
    for (int b = 0; b < 3; b++) {
        if (b == 0 || colour[b] != colour[b - 1]) {   /* NIR, red, red: red's once */
            size_t m = 0;
            for (size_t i = 0, k = 0; i < n; i++)
                if (!mask[i] && k++ % step == 0)
                    scratch[m++] = colour[b][i];
            if (m == 0 || cnp_percentiles(scratch, m, 2.0, 98.0, NULL, &lo, &hi) != CNP_OK) {
                lo = 0;
                hi = 1;
            }
            if (!(hi > lo))
                hi = lo + 1;
        }
        cnp_stretch_row_u8(colour[b], n, lo, hi, px + b, 3);
    }

    cnp_rgb8 img = { px, ov->width, ov->height, (ptrdiff_t)ov->width * 3 };
    const cnp_color grey = { 200, 200, 200 };
    cnp_draw_mask_overlay(&img, mask, ov->width, grey, 0.6, 6, 2);
    draw_alerts(&img, ov, after->gt, res);
    /* One overview pixel is a factor x factor cell of the window: GDAL and
     * QGIS put the picture exactly under alerts.gpkg. */
    const double *g = after->gt, f = ov->factor;
    const double ogt[6] = { g[0] + ov->win[0] * g[1] + ov->win[1] * g[2], f * g[1], f * g[2],
                            g[3] + ov->win[0] * g[4] + ov->win[1] * g[5], f * g[4], f * g[5] };
    if ((st = cnp_map_annotate(&img, ogt, after, res, &marks)) != CNP_OK)
        goto done;

    char count[48], software[96], legend[64];
    snprintf(count, sizeof count, "%zu (%zu numbered)", res->nalerts, marks.nlabels);
    snprintf(software, sizeof software, "canopy %s", cnp_version);
    snprintf(legend, sizeof legend, "%d %d %d %d", marks.legend[0], marks.legend[1],
             marks.legend[2], marks.legend[3]);
    cnp_png_text text[9] = {
        { "Title", "Canopy forest-loss overview" },
        { "Software", software },
        { "Source", after->path },
        { "Alerts", count },
        { "Description", "AFTER scene, false colour (NIR, red, green); yellow: alert outlines; "
                         "grey hatching: not observed in both dates; numbers: the alerts' "
                         "numbers in report.html and report.pdf (1 = largest)" },
        { "Scale-Bar", marks.scale_bar },
        { "True-North", marks.north },
        { "Label-Boxes", marks.labels ? marks.labels : "" },
    };
    size_t nt = 8;
    if (marks.legend[2] > 0)
        text[nt++] = (cnp_png_text){ "Legend-Box", legend };
    if ((st = cnp_png_write_rgb(path, &img, text, nt)) == CNP_OK)
        st = cnp_map_georef(path, ogt, after->wkt);

done:
    for (int i = 0; i < 3; i++)
        free(band[i]);
    free(marks.labels);
    free(scratch);
    free(px);
    free(mask);
    return st;
}
