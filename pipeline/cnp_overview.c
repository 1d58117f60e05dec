/* pipeline/cnp_overview.c - overview.png: the AFTER scene as a quicklook with
 * the alert outlines and the unobserved area.
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
#include "cnp_output.h"
#include "cnp_png.h"

#ifndef CNP_VERSION
#define CNP_VERSION "unknown"
#endif

cnp_status cnp_overview_init(cnp_overview *ov, const int win[4], int max_size)
{
    memset(ov, 0, sizeof *ov);
    memcpy(ov->win, win, sizeof ov->win);
    const int longest = win[2] > win[3] ? win[2] : win[3];
    ov->factor = (longest + max_size - 1) / max_size;
    if (ov->factor < 1)
        ov->factor = 1;
    ov->width = (win[2] + ov->factor - 1) / ov->factor;
    ov->height = (win[3] + ov->factor - 1) / ov->factor;
    const size_t n = (size_t)ov->width * (size_t)ov->height;
    ov->unobserved = calloc(n, sizeof *ov->unobserved);
    ov->total = calloc(n, sizeof *ov->total);
    if (!ov->unobserved || !ov->total) {
        cnp_overview_free(ov);
        return cnp_err(CNP_E_NOMEM, "out of memory for the overview");
    }
    return CNP_OK;
}

void cnp_overview_free(cnp_overview *ov)
{
    free(ov->unobserved);
    free(ov->total);
    memset(ov, 0, sizeof *ov);
}

/* Called concurrently by strip workers: two strips can share an overview row. */
void cnp_overview_add_strip(cnp_overview *ov, int y0, int h, const uint8_t *cls)
{
    const int w = ov->win[2], f = ov->factor;
    for (int r = 0; r < h; r++) {
        const int oy = (y0 + r - ov->win[1]) / f;
        const uint8_t *row = cls + (size_t)r * w;
        for (int ox = 0; ox < ov->width; ox++) {
            const int x1 = (ox + 1) * f < w ? (ox + 1) * f : w;
            uint32_t un = 0, tot = 0;
            for (int x = ox * f; x < x1; x++) {
                un += row[x] == CNP_CLASS_UNOBSERVED;
                tot++;
            }
            const size_t i = (size_t)oy * ov->width + ox;
            #pragma omp atomic
            ov->unobserved[i] += un;
            #pragma omp atomic
            ov->total[i] += tot;
        }
    }
}

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

cnp_status cnp_write_overview(const char *path, const cnp_overview *ov, const cnp_scene *after,
                              const cnp_result *res)
{
    const size_t n = (size_t)ov->width * (size_t)ov->height;
    float *band[3] = { NULL, NULL, NULL };
    float *scratch = NULL;
    uint8_t *px = NULL, *mask = NULL;
    cnp_status st = CNP_OK;

    /* False colour (NIR, red, green) makes vegetation red and bare soil cyan,
     * the contrast an investigator looks for; without green, NIR-red-red. */
    const int bands[3] = { after->nir, after->red, after->green > 0 ? after->green : after->red };
    for (int i = 0; i < 3; i++)
        band[i] = malloc(n * sizeof(float));
    scratch = malloc(n * sizeof(float));
    px = malloc(n * 3);
    mask = malloc(n);
    if (!band[0] || !band[1] || !band[2] || !scratch || !px || !mask) {
        st = cnp_err(CNP_E_NOMEM, "out of memory for the overview");
        goto done;
    }
    if ((st = cnp_scene_read_decimated(after, ov->win, bands, ov->width, ov->height, band)) !=
        CNP_OK)
        goto done;

    for (size_t i = 0; i < n; i++)
        mask[i] = ov->total[i] && ov->unobserved[i] * 2 >= ov->total[i];
    for (int b = 0; b < 3; b++) {
        /* Stretch on observed pixels only: clouds and nodata would flatten it. */
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (!mask[i])
                scratch[m++] = band[b][i];
        float lo = 0, hi = 1;
        if (m == 0 || cnp_percentiles(scratch, m, 2.0, 98.0, NULL, &lo, &hi) != CNP_OK) {
            lo = 0;
            hi = 1;
        }
        if (!(hi > lo))
            hi = lo + 1;
        for (size_t i = 0; i < n; i++)
            px[3 * i + (size_t)b] = cnp_stretch_u8(band[b][i], lo, hi);
    }

    cnp_rgb8 img = { px, ov->width, ov->height, (ptrdiff_t)ov->width * 3 };
    const cnp_color grey = { 200, 200, 200 };
    cnp_draw_mask_overlay(&img, mask, ov->width, grey, 0.6, 6, 2);
    draw_alerts(&img, ov, after->gt, res);

    char count[32];
    snprintf(count, sizeof count, "%zu", res->nalerts);
    const cnp_png_text text[] = {
        { "Title", "Canopy forest-loss overview" },
        { "Software", "canopy " CNP_VERSION },
        { "Source", after->path },
        { "Alerts", count },
        { "Description", "AFTER scene, false colour (NIR, red, green); yellow: alert outlines; "
                         "grey hatching: not observed in both dates" },
    };
    st = cnp_png_write_rgb(path, &img, text, sizeof text / sizeof text[0]);

done:
    for (int i = 0; i < 3; i++)
        free(band[i]);
    free(scratch);
    free(px);
    free(mask);
    return st;
}
