/* pipeline/outputs/cnp_mapframe.c - georeferencing sidecars, scale, north and
 * alert numbers for the pictures (see cnp_mapframe.h). */
#include "cnp_mapframe.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <geodesic.h>
#include <ogr_api.h>

#include "cnp_err.h"
#include "cnp_gdal.h"

static int by_rank(const void *pa, const void *pb, void *arg)
{
    const cnp_alert *alerts = arg;
    const cnp_alert *a = &alerts[*(const size_t *)pa], *b = &alerts[*(const size_t *)pb];
    if (a->area_ha != b->area_ha)
        return a->area_ha > b->area_ha ? -1 : 1;
    return strcmp(a->id, b->id);
}

cnp_status cnp_map_rank(const cnp_result *res, size_t **order)
{
    *order = NULL;
    if (res->nalerts == 0)
        return CNP_OK;
    size_t *o = malloc(res->nalerts * sizeof *o);
    if (!o)
        return cnp_err(CNP_E_NOMEM, "out of memory ranking %zu alerts", res->nalerts);
    for (size_t i = 0; i < res->nalerts; i++)
        o[i] = i;
    /* Ids differ, so the order is total: any sort gives the same one. */
    qsort_r(o, res->nalerts, sizeof *o, by_rank, (void *)(uintptr_t)res->alerts);
    *order = o;
    return CNP_OK;
}

/* `s` with the five XML specials escaped (a WKT has quotes). Local until the
 * shared escaping helpers land in base/. */
static void xml_put(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fputc(*s, f);
        }
    }
}

cnp_status cnp_map_georef(const char *png_path, const double gt[6], const char *wkt)
{
    OGRSpatialReferenceH srs = OSRNewSpatialReference(wkt);
    if (!srs)
        return cnp_err(CNP_E_DATA, "'%s': cannot read the CRS to georeference it", png_path);
    /* The mapping GDAL writes for a geotransform in x = easting/longitude. */
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    int nmap = 0;
    const int *map = OSRGetDataAxisToSRSAxisMapping(srs, &nmap);
    char mapping[64] = "";
    for (int i = 0; i < nmap && i < 3; i++)
        snprintf(mapping + strlen(mapping), sizeof mapping - strlen(mapping), "%s%d",
                 i ? "," : "", map[i]);

    double g[6];
    memcpy(g, gt, sizeof g);
    cnp_err_gdal_reset();
    if (!GDALWriteWorldFile(png_path, "pgw", g)) {
        OSRDestroySpatialReference(srs);
        return cnp_err(CNP_E_IO, "cannot write the world file of '%s': %s", png_path,
                       cnp_err_gdal_reason());
    }

    char aux[4300];
    snprintf(aux, sizeof aux, "%s.aux.xml", png_path);
    FILE *f = fopen(aux, "w");
    if (!f) {
        OSRDestroySpatialReference(srs);
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", aux, strerror(errno));
    }
    fprintf(f, "<PAMDataset>\n  <SRS dataAxisToSRSAxisMapping=\"%s\">", mapping);
    xml_put(f, wkt);
    fprintf(f, "</SRS>\n  <GeoTransform> %.16e, %.16e, %.16e, %.16e, %.16e, %.16e</GeoTransform>\n"
               "</PAMDataset>\n", gt[0], gt[1], gt[2], gt[3], gt[4], gt[5]);
    OSRDestroySpatialReference(srs);
    if ((ferror(f) | fclose(f)) != 0)
        return cnp_err(CNP_E_IO, "writing '%s': %s", aux, strerror(errno));
    return CNP_OK;
}

cnp_status cnp_map_pixel_metres(const cnp_scene *sc, OGRSpatialReferenceH srs, double y,
                                double *out)
{
    if (OSRIsGeographic(srs)) {
        /* Geodesic length of one pixel along the parallel at y. */
        const double to_deg = OSRGetAngularUnits(srs, NULL) * 180.0 / M_PI;
        const double deg = fabs(sc->gt[1]) * to_deg, lat_deg = y * to_deg;
        OGRErr e1 = OGRERR_NONE, e2 = OGRERR_NONE;
        const double a = OSRGetSemiMajor(srs, &e1), inv_f = OSRGetInvFlattening(srs, &e2);
        struct geod_geodesic gd;
        double s12 = 0.0;
        if (e1 != OGRERR_NONE || e2 != OGRERR_NONE || !(a > 0.0))
            return cnp_err(CNP_E_DATA, "no ellipsoid in the CRS of '%s'", sc->path);
        geod_init(&gd, a, inv_f > 0.0 ? 1.0 / inv_f : 0.0);
        geod_inverse(&gd, lat_deg, 0.0, lat_deg, deg, &s12, NULL, NULL);
        *out = s12;
    } else {
        *out = fabs(sc->gt[1]) * OSRGetLinearUnits(srs, NULL);
    }
    if (!(*out > 0.0) || !isfinite(*out))
        return cnp_err(CNP_E_DATA, "cannot tell the pixel size of '%s' in metres", sc->path);
    return CNP_OK;
}

int cnp_map_convergence(const double gt[6], OGRCoordinateTransformationH to_scene, double lon,
                        double lat, double *deg)
{
    const double dlat = lat > 89.0 ? -0.001 : 0.001;
    double x[2] = { lon, lon };
    double y[2] = { lat, lat + dlat };
    int ok[2] = { 0, 0 };
    *deg = 0.0;
    if (!to_scene || !OCTTransformEx(to_scene, 2, x, y, NULL, ok) || !ok[0] || !ok[1])
        return 0;
    double px = (x[1] - x[0]) / gt[1], py = (y[1] - y[0]) / gt[5];
    if (dlat < 0) {
        px = -px;
        py = -py;
    }
    if (!(px != 0.0 || py != 0.0) || !isfinite(px) || !isfinite(py))
        return 0;
    *deg = atan2(px, -py) * 180.0 / M_PI;
    return 1;
}

/* ---- numbers and legend on a map picture ---------------------------------- */

static const cnp_color M_OUTLINE = { 255, 230, 0 };   /* as the outlines are drawn */
static const cnp_color M_PANEL = { 24, 24, 24 };
static const cnp_color M_TEXT = { 255, 255, 255 };
static const cnp_color M_HATCH = { 200, 200, 200 };  /* the overview's hatching */

typedef struct box { int x, y, w, h; } box;

static int overlaps(box a, box b)
{
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

static int inside_img(box a, const cnp_rgb8 *img)
{
    return a.x >= 0 && a.y >= 0 && a.x + a.w <= img->width && a.y + a.h <= img->height;
}

static long overlap_area(box a, box b)
{
    const int w = (a.x + a.w < b.x + b.w ? a.x + a.w : b.x + b.w) - (a.x > b.x ? a.x : b.x);
    const int h = (a.y + a.h < b.y + b.h ? a.y + a.h : b.y + b.h) - (a.y > b.y ? a.y : b.y);
    return w > 0 && h > 0 ? (long)w * h : 0;
}

/* An alert's bounding box in picture pixels (rounded outwards). */
static box alert_box(const cnp_alert *a, const double gt[6])
{
    OGREnvelope e;
    OGR_G_GetEnvelope(a->geom, &e);
    const double x0 = (e.MinX - gt[0]) / gt[1], x1 = (e.MaxX - gt[0]) / gt[1];
    const double y0 = (e.MaxY - gt[3]) / gt[5], y1 = (e.MinY - gt[3]) / gt[5];
    const int bx0 = (int)floor(fmin(x0, x1) + 1e-6), bx1 = (int)ceil(fmax(x0, x1) - 1e-6);
    const int by0 = (int)floor(fmin(y0, y1) + 1e-6), by1 = (int)ceil(fmax(y0, y1) - 1e-6);
    return (box){ bx0, by0, bx1 - bx0 > 0 ? bx1 - bx0 : 1, by1 - by0 > 0 ? by1 - by0 : 1 };
}

static const char legend_outline[] = "alert outline";
static const char legend_hatch[] = "not observed";
static const char legend_number[] = "alert number in the report (1 = largest)";

/* Layout of the legend panel at text scale ts, and its drawing at (x, y). */
typedef struct panel {
    int ts, pad, line_h, w, h, bar_px;
    char bar_label[32];
} panel;

static void panel_size(panel *p, int ts, int bar_px, const char *bar_label)
{
    p->ts = ts;
    p->pad = 4 * ts;
    p->line_h = cnp_text_height(ts) + 3 * ts;
    p->bar_px = bar_px;
    snprintf(p->bar_label, sizeof p->bar_label, "%s", bar_label);
    const int sw = 12 * ts;
    int w = cnp_scale_bar_width(bar_px, bar_label, ts);
    const int w2 = sw + 4 * ts + cnp_text_width(legend_outline, ts) + 8 * ts + sw + 4 * ts +
                   cnp_text_width(legend_hatch, ts);
    const int w3 = cnp_text_width("1", ts) + 2 * ts + 4 * ts + cnp_text_width(legend_number, ts);
    w = w > w2 ? w : w2;
    w = w > w3 ? w : w3;
    p->w = p->pad + w + 6 * ts + 26 * ts + p->pad;
    const int text_h = cnp_scale_bar_height(ts) + 3 * ts + 2 * p->line_h;
    const int arrow_h = 2 * cnp_text_height(ts) + 24 * ts;
    p->h = 2 * p->pad + (text_h > arrow_h ? text_h : arrow_h);
}

static void number_box(cnp_rgb8 *img, int x, int y, const char *t, int ts)
{
    cnp_draw_rect_fill(img, x, y, cnp_text_width(t, ts) + 2 * ts, cnp_text_height(ts) + 2 * ts,
                       M_PANEL);
    cnp_draw_text(img, x + ts, y + ts, t, M_TEXT, ts);
}

static void panel_draw(cnp_rgb8 *img, const panel *p, int x, int y, double north_deg)
{
    const int ts = p->ts, sw = 12 * ts, th = cnp_text_height(ts);
    cnp_draw_rect_fill(img, x, y, p->w, p->h, M_PANEL);
    int cy = y + p->pad;
    cnp_draw_scale_bar(img, x + p->pad, cy, p->bar_px, p->bar_label, M_TEXT, M_TEXT, ts);
    cy += cnp_scale_bar_height(ts) + 3 * ts;

    int cx = x + p->pad;
    cnp_draw_line(img, cx, cy + th / 2 - 1.5, cx + sw, cy + th / 2 - 1.5, M_OUTLINE, 2);
    cx += sw + 4 * ts;
    cnp_draw_text(img, cx, cy, legend_outline, M_TEXT, ts);
    cx += cnp_text_width(legend_outline, ts) + 8 * ts;
    uint8_t ones[64 * 64];
    const int sh = th - ts;
    memset(ones, 1, sizeof ones);
    if (sw <= 64 && sh <= 64 && cx + sw <= img->width && cy + sh <= img->height && cx >= 0 &&
        cy >= 0) {
        cnp_rgb8 swatch = { img->px + (size_t)cy * (size_t)img->stride + (size_t)cx * 3, sw, sh,
                            img->stride };
        cnp_draw_mask_overlay(&swatch, ones, 64, M_HATCH, 0.6, 6, 2);
    }
    cx += sw + 4 * ts;
    cnp_draw_text(img, cx, cy, legend_hatch, M_TEXT, ts);
    cy += p->line_h;

    cx = x + p->pad;
    number_box(img, cx, cy - ts, "1", ts);
    cx += cnp_text_width("1", ts) + 2 * ts + 4 * ts;
    cnp_draw_text(img, cx, cy, legend_number, M_TEXT, ts);

    const double ax = x + p->w - p->pad - 13.0 * ts;
    const double ay = y + p->pad + cnp_text_height(ts) + 14.0 * ts;
    cnp_draw_north_arrow(img, ax, ay, north_deg, M_TEXT, ts);
}

/* Scale and north at the picture's centre. */
static cnp_status frame_at_centre(const double gt[6], const cnp_rgb8 *img, const cnp_scene *sc,
                                  double *cell_m, double *north, int *have_north)
{
    OGRSpatialReferenceH srs = OSRNewSpatialReference(sc->wkt);
    OGRSpatialReferenceH wgs84 = OSRNewSpatialReference(NULL);
    OGRCoordinateTransformationH to_wgs = NULL, to_scene = NULL;
    cnp_status st = CNP_OK;
    if (!srs || !wgs84 || OSRSetWellKnownGeogCS(wgs84, "WGS84") != OGRERR_NONE) {
        st = cnp_err(CNP_E_DATA, "cannot read the CRS of '%s'", sc->path);
        goto done;
    }
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(wgs84, OAMS_TRADITIONAL_GIS_ORDER);
    double x = gt[0] + gt[1] * img->width / 2.0, y = gt[3] + gt[5] * img->height / 2.0;
    double pm = 0;
    if ((st = cnp_map_pixel_metres(sc, srs, y, &pm)) != CNP_OK)
        goto done;
    *cell_m = pm * fabs(gt[1] / sc->gt[1]);
    *have_north = 0;
    to_wgs = OCTNewCoordinateTransformation(srs, wgs84);
    to_scene = OCTNewCoordinateTransformation(wgs84, srs);
    if (to_wgs && to_scene && OCTTransform(to_wgs, 1, &x, &y, NULL))
        *have_north = cnp_map_convergence(gt, to_scene, x, y, north);
done:
    if (to_wgs)
        OCTDestroyCoordinateTransformation(to_wgs);
    if (to_scene)
        OCTDestroyCoordinateTransformation(to_scene);
    OSRDestroySpatialReference(srs);
    OSRDestroySpatialReference(wgs84);
    return st;
}

/* Boxes binned on a coarse grid, so that placing thousands of numbers does
 * not compare every candidate with every box. */
enum { BIN = 64 };
typedef struct box_index {
    int     nx, ny;
    size_t *head;        /* per bin: first entry + 1, 0 = none          */
    size_t *next;        /* per entry: next entry of its bin + 1        */
    size_t *box_of;      /* per entry: its box in `boxes`               */
    box    *boxes;
    size_t  nboxes, nentries, cap_entries;
} box_index;

static int index_init(box_index *ix, const cnp_rgb8 *img, size_t max_boxes)
{
    memset(ix, 0, sizeof *ix);
    ix->nx = img->width / BIN + 1;
    ix->ny = img->height / BIN + 1;
    ix->head = calloc((size_t)ix->nx * (size_t)ix->ny, sizeof *ix->head);
    ix->boxes = malloc((max_boxes + 1) * sizeof *ix->boxes);
    return ix->head && ix->boxes;
}

static void index_free(box_index *ix)
{
    free(ix->head);
    free(ix->next);
    free(ix->box_of);
    free(ix->boxes);
}

static void bin_range(const box_index *ix, box b, int r[4])
{
    r[0] = b.x / BIN, r[1] = b.y / BIN;
    r[2] = (b.x + b.w - 1) / BIN, r[3] = (b.y + b.h - 1) / BIN;
    r[0] = r[0] < 0 ? 0 : r[0] >= ix->nx ? ix->nx - 1 : r[0];
    r[2] = r[2] < 0 ? 0 : r[2] >= ix->nx ? ix->nx - 1 : r[2];
    r[1] = r[1] < 0 ? 0 : r[1] >= ix->ny ? ix->ny - 1 : r[1];
    r[3] = r[3] < 0 ? 0 : r[3] >= ix->ny ? ix->ny - 1 : r[3];
}

static int index_add(box_index *ix, box b)
{
    int r[4];
    bin_range(ix, b, r);
    const size_t need = ix->nentries + (size_t)(r[2] - r[0] + 1) * (size_t)(r[3] - r[1] + 1);
    if (need > ix->cap_entries) {
        const size_t cap = need * 2 + 64;
        size_t *nx = realloc(ix->next, cap * sizeof *nx);
        if (!nx)
            return 0;
        ix->next = nx;
        size_t *bo = realloc(ix->box_of, cap * sizeof *bo);
        if (!bo)
            return 0;
        ix->box_of = bo;
        ix->cap_entries = cap;
    }
    const size_t k = ix->nboxes++;
    ix->boxes[k] = b;
    for (int y = r[1]; y <= r[3]; y++)
        for (int x = r[0]; x <= r[2]; x++) {
            size_t *h = &ix->head[(size_t)y * (size_t)ix->nx + (size_t)x];
            ix->box_of[ix->nentries] = k;
            ix->next[ix->nentries] = *h;
            *h = ++ix->nentries;
        }
    return 1;
}

static int index_hits(const box_index *ix, box b)
{
    int r[4];
    bin_range(ix, b, r);
    for (int y = r[1]; y <= r[3]; y++)
        for (int x = r[0]; x <= r[2]; x++)
            for (size_t e = ix->head[(size_t)y * (size_t)ix->nx + (size_t)x]; e; e = ix->next[e - 1])
                if (overlaps(b, ix->boxes[ix->box_of[e - 1]]))
                    return 1;
    return 0;
}

/* The corner whose panel hides the least alert area (bottom-left,
 * bottom-right, top-left, top-right on a tie); w = 0 when the picture is too
 * small to keep most of it visible. */
static box legend_corner(const cnp_rgb8 *img, const panel *pn, const double gt[6],
                         const cnp_result *res)
{
    box legend = { 0, 0, 0, 0 };
    if (pn->w > img->width * 9 / 10 || pn->h > img->height * 6 / 10)
        return legend;
    const box corner[4] = { { 0, img->height - pn->h, pn->w, pn->h },
                            { img->width - pn->w, img->height - pn->h, pn->w, pn->h },
                            { 0, 0, pn->w, pn->h },
                            { img->width - pn->w, 0, pn->w, pn->h } };
    long best = -1;
    for (int c = 0; c < 4; c++) {
        long hidden = 0;
        for (size_t i = 0; i < res->nalerts; i++)
            hidden += overlap_area(corner[c], alert_box(&res->alerts[i], gt));
        if (best < 0 || hidden < best) {
            best = hidden;
            legend = corner[c];
        }
    }
    return legend;
}

/* Numbers in rank order, each in the first free place beside its alert's
 * box: in the picture, off the legend, off the numbers placed before and off
 * every alert's outline (a number that hid an outline would be worse than
 * none). Each one drawn is listed in lf as "rank x y w h". */
static cnp_status place_numbers(cnp_rgb8 *img, const double gt[6], const cnp_result *res,
                                const size_t *order, box legend, int ts, FILE *lf,
                                size_t *nplaced)
{
    box_index outlines, numbers;
    cnp_status st = CNP_OK;
    *nplaced = 0;
    if (!index_init(&outlines, img, res->nalerts) || !index_init(&numbers, img, res->nalerts)) {
        st = cnp_err(CNP_E_NOMEM, "out of memory for the overview's numbers");
        goto done;
    }
    for (size_t i = 0; i < res->nalerts && st == CNP_OK; i++) {
        const box b = alert_box(&res->alerts[i], gt);
        if (!index_add(&outlines, (box){ b.x - 1, b.y - 1, b.w + 3, b.h + 3 }))   /* 2 px line */
            st = cnp_err(CNP_E_NOMEM, "out of memory for the overview's numbers");
    }
    const int gap = 2 + ts;
    for (size_t r = 0; r < res->nalerts && st == CNP_OK; r++) {
        const cnp_alert *a = &res->alerts[order[r]];
        char t[24];
        snprintf(t, sizeof t, "%zu", r + 1);
        const int bw = cnp_text_width(t, ts) + 2 * ts, bh = cnp_text_height(ts) + 2 * ts;
        const box ab = alert_box(a, gt);
        const int px = (int)lround((a->point_x - gt[0]) / gt[1]);
        const int py = (int)lround((a->point_y - gt[3]) / gt[5]);
        const box cand[4] = { { ab.x + ab.w + gap, py - bh / 2, bw, bh },
                              { ab.x - gap - bw, py - bh / 2, bw, bh },
                              { px - bw / 2, ab.y - gap - bh, bw, bh },
                              { px - bw / 2, ab.y + ab.h + gap, bw, bh } };
        for (int c = 0; c < 4; c++) {
            if (!inside_img(cand[c], img) || (legend.w && overlaps(cand[c], legend)) ||
                index_hits(&numbers, cand[c]) || index_hits(&outlines, cand[c]))
                continue;
            if (!index_add(&numbers, cand[c])) {
                st = cnp_err(CNP_E_NOMEM, "out of memory for the overview's numbers");
                break;
            }
            number_box(img, cand[c].x, cand[c].y, t, ts);
            fprintf(lf, "%s%zu %d %d %d %d", *nplaced ? ";" : "", r + 1, cand[c].x, cand[c].y,
                    cand[c].w, cand[c].h);
            ++*nplaced;
            break;
        }
    }
done:
    index_free(&outlines);
    index_free(&numbers);
    return st;
}

cnp_status cnp_map_annotate(cnp_rgb8 *img, const double gt[6], const cnp_scene *sc,
                            const cnp_result *res, cnp_map_marks *marks)
{
    size_t *order = NULL;
    char *labels = NULL;
    size_t labels_len = 0;
    FILE *lf = NULL;
    cnp_status st;
    double cell_m = 0, north = 0;
    int have_north = 0;

    memset(marks, 0, sizeof *marks);
    snprintf(marks->north, sizeof marks->north, "unknown");
    if ((st = frame_at_centre(gt, img, sc, &cell_m, &north, &have_north)) != CNP_OK)
        return st;
    if (have_north)
        snprintf(marks->north, sizeof marks->north, "%.3f deg", north);
    const int longest = img->width > img->height ? img->width : img->height;
    const int ts = longest >= 2000 ? 3 : longest >= 1000 ? 2 : 1;

    /* A bar of about an eighth of the picture. */
    const double bar_m = cnp_scale_bar_metres(cell_m * img->width * 0.5);
    const int bar_px = (int)lround(bar_m / cell_m);
    char bar_label[32];
    cnp_format_metres(bar_label, sizeof bar_label, bar_m);
    snprintf(marks->scale_bar, sizeof marks->scale_bar, "%.15g m %d px", bar_m, bar_px);

    if ((st = cnp_map_rank(res, &order)) != CNP_OK)
        return st;
    if (!(lf = open_memstream(&labels, &labels_len))) {
        st = cnp_err(CNP_E_NOMEM, "out of memory for the overview's numbers");
        goto done;
    }
    panel pn;
    panel_size(&pn, ts, bar_px, bar_label);
    const box legend = legend_corner(img, &pn, gt, res);
    if ((st = place_numbers(img, gt, res, order, legend, ts, lf, &marks->nlabels)) != CNP_OK)
        goto done;
    if (legend.w) {
        panel_draw(img, &pn, legend.x, legend.y, have_north ? north : 0.0);
        marks->legend[0] = legend.x;
        marks->legend[1] = legend.y;
        marks->legend[2] = legend.w;
        marks->legend[3] = legend.h;
    }

done:
    if (lf && (ferror(lf) | fclose(lf)) && st == CNP_OK)
        st = cnp_err(CNP_E_NOMEM, "out of memory for the overview's numbers");
    if (st == CNP_OK) {
        marks->labels = labels;
        labels = NULL;
    }
    free(labels);
    free(order);
    return st;
}
