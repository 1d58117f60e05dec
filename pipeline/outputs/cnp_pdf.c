/* pipeline/outputs/cnp_pdf.c - report.pdf: the printable case report (cairo).
 *
 * Pages: a cover (case, operator, run id, scenes, counts, every input with
 * its SHA-256), the overview map with the alert list, per alert one page or
 * more (before and after chips, attributes, dates, and every vertex of its
 * outline in WGS 84 latitude/longitude and in the grid CRS), then method,
 * settings, limitations, image credits and software. Words and numbers come
 * from cnp_evidence_text.h, as in report.html.
 *
 * The same inputs give the same bytes: the fonts are files named here
 * (DejaVu, embedded as subsets whose names cairo derives from the glyphs),
 * cairo is told no creation date (it would stamp the clock otherwise) and
 * writes no document id, and nothing else varies. Pages are laid out twice:
 * once to count them (for "page n of N"), once to draw.
 */
#include "cnp_confidence.h"
#include "cnp_evidence.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cairo.h>
#include <cairo-ft.h>
#include <cairo-pdf.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <ogr_api.h>

#include "cnp_err.h"
#include "cnp_evidence_text.h"
#include "cnp_mapframe.h"
#include "cnp_product.h"
#include "cnp_ident.h"

#define DEFAULT_FONT_DIR "/usr/share/fonts/truetype/dejavu"
static const char *const font_file[3] = { "DejaVuSans.ttf", "DejaVuSans-Bold.ttf",
                                          "DejaVuSansMono.ttf" };
enum { F_REGULAR, F_BOLD, F_MONO };

/* A4 portrait, in points. */
#define PAGE_W   595.276
#define PAGE_H   841.890
#define MARGIN_X 48.0
#define TOP      54.0
#define BOTTOM   (PAGE_H - 58.0)
#define TEXT_W   (PAGE_W - 2 * MARGIN_X)

static void font_path(const char *dir, int which, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", dir && dir[0] ? dir : DEFAULT_FONT_DIR, font_file[which]);
}

cnp_status cnp_pdf_check_fonts(const char *font_dir)
{
    for (int i = 0; i < 3; i++) {
        char path[4200];
        struct stat st;
        font_path(font_dir, i, path, sizeof path);
        const int found = stat(path, &st) == 0;
        if (!found || !S_ISREG(st.st_mode))
            return cnp_err(CNP_E_IO, "report.pdf: font '%s' not found (%s): install Debian's "
                           "fonts-dejavu-core, or set CANOPY_FONT_DIR to a folder with %s, %s "
                           "and %s", path, found ? "not a regular file" : strerror(errno),
                           font_file[0], font_file[1], font_file[2]);
    }
    return CNP_OK;
}

/* ---- the layout cursor --------------------------------------------------- */

typedef struct pdf {
    cairo_t  *cr;
    int       draw;            /* 0: lay out only, to count the pages          */
    int       page, npages;    /* 1-based current page; total (second pass)    */
    double    y;               /* cursor, points from the top                  */
    cairo_font_face_t *face[3];
    const cnp_evidence_ctx *ctx;
    const char *dir;           /* the staging OUTDIR: pictures are read there  */
    char      footer[600];
    cnp_status st;             /* first failure (a picture that cannot be read) */
} pdf;

static void set_font(pdf *p, int which, double size)
{
    cairo_set_font_face(p->cr, p->face[which]);
    cairo_set_font_size(p->cr, size);
}

/* cairo refuses text that is not UTF-8 (and stops drawing): names from the
 * inputs may be anything, so every string is made printable first. */
static double text_w(pdf *p, const char *s)
{
    char buf[3 * 1024 + 1];
    cairo_text_extents_t e;
    cairo_text_extents(p->cr, cnp_ident_printable(buf, sizeof buf, s), &e);
    return e.x_advance;
}

static void show(pdf *p, double x, double y, const char *s)
{
    char buf[3 * 1024 + 1];
    if (!p->draw)
        return;
    cairo_move_to(p->cr, x, y);
    cairo_show_text(p->cr, cnp_ident_printable(buf, sizeof buf, s));
}

static void grey(pdf *p, double v) { cairo_set_source_rgb(p->cr, v, v, v); }

static void rule(pdf *p, double y)
{
    if (!p->draw)
        return;
    grey(p, 0.75);
    cairo_set_line_width(p->cr, 0.5);
    cairo_move_to(p->cr, MARGIN_X, y);
    cairo_line_to(p->cr, PAGE_W - MARGIN_X, y);
    cairo_stroke(p->cr);
    grey(p, 0.0);
}

static void end_page(pdf *p)
{
    if (p->page == 0)
        return;
    if (p->draw) {
        char num[48];
        set_font(p, F_REGULAR, 7.5);
        grey(p, 0.35);
        show(p, MARGIN_X, PAGE_H - 30, p->footer);
        snprintf(num, sizeof num, "page %d of %d", p->page, p->npages);
        show(p, PAGE_W - MARGIN_X - text_w(p, num), PAGE_H - 30, num);
        grey(p, 0.0);
        cairo_show_page(p->cr);
        /* A report of thousands of alerts takes minutes: one tick a page. */
        const cnp_evidence_ctx *c = p->ctx;
        if (c->progress && p->st == CNP_OK &&
            !c->progress(c->progress_from + (c->progress_to - c->progress_from) * p->page /
                         (p->npages > 0 ? p->npages : 1), "report.pdf", c->progress_arg))
            p->st = cnp_err(CNP_E_CANCELLED, "interrupted by user");
    }
}

static void new_page(pdf *p)
{
    end_page(p);
    p->page++;
    p->y = TOP;
}

/* Room for h more points on this page, else a new one; 1 when it broke. */
static int need(pdf *p, double h)
{
    if (p->y + h <= BOTTOM)
        return 0;
    new_page(p);
    return 1;
}

/* Bytes of the UTF-8 character starting at s. */
static size_t u8len(const char *s)
{
    const unsigned char c = (unsigned char)*s;
    return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

/* Wraps `s` into lines at most `width` wide at the current font: at spaces,
 * and inside a word (a hash, a path) only when the word alone is wider.
 * Each line goes to emit(p, line, arg). */
static void wrap(pdf *p, const char *s, double width,
                 void (*emit)(pdf *, const char *, void *), void *arg)
{
    char line[1024];
    size_t len = 0;
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        size_t wl = strcspn(s, " ");
        char trial[1024];
        const size_t sep = len ? 1 : 0;
        if (len + sep + wl < sizeof trial) {
            memcpy(trial, line, len);
            if (sep)
                trial[len] = ' ';
            memcpy(trial + len + sep, s, wl);
            trial[len + sep + wl] = '\0';
            if (text_w(p, trial) <= width) {
                memcpy(line, trial, len + sep + wl + 1);
                len += sep + wl;
                s += wl;
                continue;
            }
        }
        if (len) {                       /* the word goes on the next line */
            line[len] = '\0';
            emit(p, line, arg);
            len = 0;
            continue;
        }
        /* A word wider than the line: as many characters as fit. */
        size_t n = 0;
        while (n < wl && n < sizeof line - 5) {
            const size_t c = u8len(s + n);
            memcpy(trial, s, n + c);
            trial[n + c] = '\0';
            if (n > 0 && text_w(p, trial) > width)
                break;
            n += c;
        }
        memcpy(line, s, n);
        line[n] = '\0';
        emit(p, line, arg);
        s += n;
    }
    if (len) {
        line[len] = '\0';
        emit(p, line, arg);
    }
}

typedef struct flow { double x, lead; } flow;

static void emit_flow(pdf *p, const char *line, void *arg)
{
    const flow *f = arg;
    need(p, f->lead);
    p->y += f->lead;
    show(p, f->x, p->y - f->lead * 0.25, line);
}

/* A paragraph at x, `width` wide, flowing over pages. */
static void para(pdf *p, const char *s, int font, double size, double x, double width)
{
    flow f = { x, size * 1.35 };
    set_font(p, font, size);
    wrap(p, s, width, emit_flow, &f);
}

static void heading(pdf *p, const char *s, double size)
{
    need(p, size * 2.6);
    p->y += size * 1.6;
    set_font(p, F_BOLD, size);
    show(p, MARGIN_X, p->y, s);
    p->y += size * 0.5;
}

/* One "label: value" row; the value wraps in its column. */
static void kv(pdf *p, const char *label, const char *value, int value_font, double label_w)
{
    const double size = 9.0, lead = size * 1.35;
    need(p, lead);
    const double y0 = p->y;
    set_font(p, F_BOLD, size);
    show(p, MARGIN_X, p->y + lead * 0.75, label);
    p->y = y0;
    flow f = { MARGIN_X + label_w, lead };
    set_font(p, value_font, value_font == F_MONO ? 8.0 : size);
    wrap(p, value, TEXT_W - label_w, emit_flow, &f);
    p->y += 2.0;
}

/* The PNG at `path` scaled to `w` points wide at (x, y); its height, or 0
 * (and p->st set) when it cannot be read. */
static double picture(pdf *p, const char *path, double x, double y, double w, double max_h)
{
    int pw = 0, ph = 0;
    if (!cnp_evidence_png_size(path, &pw, &ph)) {
        if (p->st == CNP_OK)
            p->st = cnp_err(CNP_E_IO, "report.pdf: cannot read '%s'", path);
        return 0.0;
    }
    double s = w / pw;
    if (ph * s > max_h)
        s = max_h / ph;
    if (!p->draw)
        return ph * s;
    cairo_surface_t *img = cairo_image_surface_create_from_png(path);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        if (p->st == CNP_OK)
            p->st = cnp_err(CNP_E_IO, "report.pdf: cannot read '%s': %s", path,
                            cairo_status_to_string(cairo_surface_status(img)));
        cairo_surface_destroy(img);
        return 0.0;
    }
    cairo_save(p->cr);
    cairo_translate(p->cr, x, y);
    cairo_scale(p->cr, s, s);
    cairo_set_source_surface(p->cr, img, 0, 0);
    /* Chips are scene pixels blown up: keep their edges sharp in print. */
    cairo_pattern_set_filter(cairo_get_source(p->cr), CAIRO_FILTER_NEAREST);
    cairo_paint(p->cr);
    cairo_restore(p->cr);
    cairo_surface_destroy(img);
    return ph * s;
}

/* ---- pages -------------------------------------------------------------------- */

static const char *or_none(const char *s, const char *none) { return s && s[0] ? s : none; }

static void scene_line(const cnp_scene *sc, char *buf, size_t size)
{
    const cnp_product *pr = sc->product;
    char what[400] = "";
    if (pr)
        snprintf(what, sizeof what, "; %s%s%s%s%s", pr->title, pr->sensor[0] ? ", " : "",
                 pr->sensor, pr->id[0] ? ", " : "", pr->id);
    snprintf(buf, size, "%s, acquired %s (from %s); %d x %d pixels%s%s", cnp_path_base(sc->path),
             or_none(sc->date, "on an unknown date"), or_none(sc->date_source, "?"),
             sc->src_width, sc->src_height, what,
             sc->warped ? "; resampled onto the BEFORE grid" : "");
}

static void cover(pdf *p, const cnp_evidence_facts *fx)
{
    const cnp_evidence_ctx *ctx = p->ctx;
    const cnp_result *r = ctx->res;
    char buf[1200];

    new_page(p);
    set_font(p, F_BOLD, 20);
    p->y += 20;
    show(p, MARGIN_X, p->y, "Forest-loss evidence report");
    set_font(p, F_REGULAR, 11);
    p->y += 18;
    snprintf(buf, sizeof buf, "Loss of forest between %s and %s",
             or_none(ctx->scene[0]->date, "an unknown date"),
             or_none(ctx->scene[1]->date, "an unknown date"));
    show(p, MARGIN_X, p->y, buf);
    p->y += 10;
    rule(p, p->y);
    p->y += 8;

    const double lw = 92;
    kv(p, "Case", or_none(ctx->case_id, "not given"), F_REGULAR, lw);
    kv(p, "Operator", or_none(ctx->operator_name, "not given"), F_REGULAR, lw);
    kv(p, "Run id", or_none(ctx->run_id, "none"), F_MONO, lw);
    scene_line(ctx->scene[0], buf, sizeof buf);
    kv(p, "Before", buf, F_REGULAR, lw);
    scene_line(ctx->scene[1], buf, sizeof buf);
    kv(p, "After", buf, F_REGULAR, lw);
    kv(p, "Grid", fx->crs, F_REGULAR, lw);
    snprintf(buf, sizeof buf, "%s; window %s", fx->pixel, fx->window);
    kv(p, "Pixels", buf, F_REGULAR, lw);
    size_t nhigh = 0;
    for (size_t i = 0; i < r->nalerts; i++)
        nhigh += r->alerts[i].high_confidence != 0;
    const double total = (double)(r->observed_pixels + r->unobserved_pixels);
    snprintf(buf, sizeof buf, "%zu alert%s (%zu high confidence), %.4f ha in all; %.1f %% of "
             "the area observed in both dates", r->nalerts, r->nalerts == 1 ? "" : "s", nhigh,
             r->total_area_ha,
             total > 0 ? 100.0 * (double)r->observed_pixels / total : 0.0);
    kv(p, "Found", buf, F_REGULAR, lw);

    heading(p, "Input files", 12);
    para(p, "Each file the run read, with its size and SHA-256 as recorded in run.json. "
            "`canopy verify OUTDIR` checks them again.", F_REGULAR, 8.5, MARGIN_X, TEXT_W);
    p->y += 4;
    for (size_t i = 0; i < ctx->ninputs; i++) {
        const cnp_evidence_input *in = &ctx->inputs[i];
        snprintf(buf, sizeof buf, "%s, %lld bytes", cnp_path_base(in->path), in->size);
        kv(p, in->role, buf, F_REGULAR, lw);
        kv(p, "", in->sha256[0] ? in->sha256 : "not hashed (--no-hash)", F_MONO, lw);
    }
    heading(p, "Software", 12);
    buf[0] = '\0';
    for (size_t i = 0; i < fx->nsoftware; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? ", " : "",
                 fx->software[i]);
    para(p, buf, F_REGULAR, 9, MARGIN_X, TEXT_W);
}

/* One row of a table of fixed columns (x offsets from the margin). */
static void row(pdf *p, const double *col, int ncol, const char *const *cell, int font,
                double size)
{
    set_font(p, font, size);
    for (int c = 0; c < ncol; c++)
        show(p, MARGIN_X + col[c], p->y, cell[c]);
}

static void overview_page(pdf *p, const size_t *order)
{
    const cnp_evidence_ctx *ctx = p->ctx;
    const cnp_result *r = ctx->res;
    char path[4300];

    new_page(p);
    heading(p, "Overview", 14);
    snprintf(path, sizeof path, "%s/overview.png", p->dir);
    p->y += 4;
    p->y += picture(p, path, MARGIN_X, p->y, TEXT_W, 470) + 4;
    para(p, "AFTER scene in false colour (NIR, red, green: vegetation red, bare soil cyan). "
            "Yellow: alert outlines; numbers: the alerts' numbers below (1 = largest); grey "
            "hatching: not observed in both dates. The picture is georeferenced "
            "(overview.png with overview.pgw and overview.png.aux.xml open in place in GIS "
            "software).", F_REGULAR, 8, MARGIN_X, TEXT_W);
    if (r->nalerts == 0) {
        heading(p, "No alerts", 12);
        para(p, "No forest loss above the minimum area was found in the observed part of "
                "the scenes.", F_REGULAR, 9, MARGIN_X, TEXT_W);
        return;
    }
    heading(p, "Alerts, largest first", 12);
    static const double col[6] = { 0, 22, 112, 172, 232, 332 };
    static const char *const head[6] = { "#", "Alert id", "Area (ha)", "Confidence",
                                         "Latitude", "Longitude" };
    for (size_t k = 0; k < r->nalerts; k++) {
        if (k == 0 || need(p, 12)) {
            need(p, 24);
            p->y += 12;
            row(p, col, 6, head, F_BOLD, 8.5);
        }
        const cnp_alert *a = &r->alerts[order[k]];
        char n[24], area[32], lat[32], lon[32];
        snprintf(n, sizeof n, "%zu", k + 1);
        snprintf(area, sizeof area, "%.4f", a->area_ha);
        snprintf(lat, sizeof lat, "%.7f", a->point_lat);
        snprintf(lon, sizeof lon, "%.7f", a->point_lon);
        const char *cell[6] = { n, a->id, area, cnp_confidence_name(a->confidence), lat, lon };
        p->y += 12;
        row(p, col, 6, cell, F_MONO, 8);
    }
    p->y += 6;
    para(p, "Latitude and longitude (WGS 84): the alert's point, inside it.", F_REGULAR, 8,
         MARGIN_X, TEXT_W);
}

/* The vertices of an alert, ring by ring, in WGS 84 and in the grid CRS:
 * the two geometries have the same rings and vertices in the same order. */
static void vertex_table(pdf *p, const cnp_alert *a, int geographic)
{
    static const double col[5] = { 0, 36, 74, 168, 262 };
    static const char *const head[5] = { "Vertex", "Ring", "Latitude", "Longitude",
                                         "Grid x, y" };
    OGRGeometryH g = a->geom, w = a->geom_wgs84;
    const int single = wkbFlatten(OGR_G_GetGeometryType(g)) == wkbPolygon;
    const int np = single ? 1 : OGR_G_GetGeometryCount(g);
    int n = 0, ring_no = 0;
    heading(p, "Outline vertices", 11);
    para(p, "Every corner of the outline, in order (the last repeats the first). Ring 1 of "
            "each part is its outer edge; further rings are holes (forest left standing "
            "inside the alert). Latitude and longitude: WGS 84; grid x, y: the grid CRS.",
         F_REGULAR, 8, MARGIN_X, TEXT_W);
    for (int pi = 0; pi < np; pi++) {
        OGRGeometryH pg = single ? g : OGR_G_GetGeometryRef(g, pi);
        OGRGeometryH pw = single ? w : OGR_G_GetGeometryRef(w, pi);
        for (int ri = 0; ri < OGR_G_GetGeometryCount(pg); ri++) {
            OGRGeometryH rg = OGR_G_GetGeometryRef(pg, ri), rw = OGR_G_GetGeometryRef(pw, ri);
            const int nv = OGR_G_GetPointCount(rg);
            ring_no++;
            for (int v = 0; v < nv; v++) {
                if (n == 0 || need(p, 10.5)) {
                    need(p, 21);
                    p->y += 10.5;
                    row(p, col, 5, head, F_BOLD, 8);
                }
                char no[16], ring[32], lat[32], lon[32], xy[96];
                snprintf(no, sizeof no, "%d", ++n);
                snprintf(ring, sizeof ring, "%d%s", ring_no,
                         np > 1 ? (ri == 0 ? " outer" : " hole") : ri == 0 ? "" : " hole");
                snprintf(lat, sizeof lat, "%.7f", OGR_G_GetY(rw, v));
                snprintf(lon, sizeof lon, "%.7f", OGR_G_GetX(rw, v));
                if (geographic)
                    snprintf(xy, sizeof xy, "%.9f, %.9f", OGR_G_GetX(rg, v), OGR_G_GetY(rg, v));
                else
                    snprintf(xy, sizeof xy, "%.2f, %.2f", OGR_G_GetX(rg, v), OGR_G_GetY(rg, v));
                const char *cell[5] = { no, ring, lat, lon, xy };
                p->y += 10.5;
                row(p, col, 5, cell, F_MONO, 7.5);
            }
        }
    }
}

static void alert_pages(pdf *p, const cnp_alert *a, size_t rank, int geographic)
{
    const cnp_evidence_ctx *ctx = p->ctx;
    const size_t i = (size_t)(a - ctx->res->alerts);
    char buf[256], path[4300];

    new_page(p);
    snprintf(buf, sizeof buf, "Alert %zu  \xC2\xB7  %s  \xC2\xB7  %.4f ha  \xC2\xB7  %s confidence",
             rank, a->id, a->area_ha, cnp_confidence_name(a->confidence));
    heading(p, buf, 13);
    p->y += 6;
    if (cnp_evidence_has_chip(ctx, i)) {
        const double w = (TEXT_W - 12) / 2;
        double h = 0;
        for (int k = 0; k < 2; k++) {
            snprintf(path, sizeof path, "%s/evidence/%s/%s.png", p->dir, a->id,
                     k ? "after" : "before");
            const double hk = picture(p, path, MARGIN_X + k * (w + 12), p->y, w, 330);
            h = hk > h ? hk : h;
        }
        p->y += h + 4;
        para(p, "Left BEFORE, right AFTER, on one brightness scale; yellow: the alert's "
                "outline; cyan hatching: not observed. Scale bar and north arrow under each "
                "image; evidence/<id>/before.png and after.png are georeferenced.", F_REGULAR, 7.5,
             MARGIN_X, TEXT_W);
    } else {
        para(p, ctx->chips_left_out > 0
                 ? "No image chip: chips were made for the largest alerts only (--max-chips)."
                 : "No image chip was written for this alert.", F_REGULAR, 9, MARGIN_X, TEXT_W);
    }
    heading(p, "Attributes", 11);
    for (int k = 0; k < CNP_NATTRS; k++) {
        const char *t = cnp_attr_text(ctx, a, k, buf, sizeof buf);
        if (!cnp_attr_shown(ctx, k))
            continue;
        kv(p, cnp_attrs[k].label, t ? t : "unknown",
           cnp_attrs[k].kind == CNP_ATTR_STR ? F_REGULAR : F_MONO, 180);
    }
    vertex_table(p, a, geographic);
}

static void method_pages(pdf *p, const cnp_evidence_facts *fx)
{
    const cnp_evidence_ctx *ctx = p->ctx;
    const cnp_settings *s = ctx->settings;
    char buf[1200];

    new_page(p);
    heading(p, "Method", 14);
    for (size_t i = 0; i < fx->nmethod; i++) {
        para(p, fx->method[i], F_REGULAR, 9, MARGIN_X, TEXT_W);
        p->y += 4;
    }
    heading(p, "Settings", 12);
    const double lw = 150;
    snprintf(buf, sizeof buf, "%g", s->forest_ndvi);
    kv(p, "forest_ndvi", buf, F_MONO, lw);
    snprintf(buf, sizeof buf, "%g", s->ndvi_drop);
    kv(p, "ndvi_drop", buf, F_MONO, lw);
    snprintf(buf, sizeof buf, "%g", s->high_confidence_drop);
    kv(p, "high_confidence_drop", buf, F_MONO, lw);
    snprintf(buf, sizeof buf, "%g ha", s->min_area_ha);
    kv(p, "min_area", buf, F_MONO, lw);
    snprintf(buf, sizeof buf, "%d", s->connectivity);
    kv(p, "connectivity", buf, F_MONO, lw);
    /* Each date as it was read (a product brings its own bands and mask). */
    for (int k = 0; k < 2; k++) {
        const cnp_scene *sc = ctx->scene[k];
        const char *rule = cnp_scene_mask_rule(sc);
        char bands[160];
        cnp_scene_band_text(sc, bands, sizeof bands);
        snprintf(buf, sizeof buf, "%s; DN x %g %+g; mask: %.600s", bands, sc->radiometry.scale,
                 sc->radiometry.offset, rule ? rule : "none (only nodata is unobserved)");
        kv(p, k ? "AFTER as read" : "BEFORE as read", buf, F_REGULAR, lw);
    }
    snprintf(buf, sizeof buf, "%g m", s->mask_buffer_m);
    kv(p, "mask buffer", buf, F_MONO, lw);
    kv(p, "configuration", ctx->config_path ? ctx->config_path : "built-in defaults",
       F_REGULAR, lw);
    heading(p, "Limitations", 14);
    for (size_t i = 0; i < fx->nlimits; i++) {
        para(p, fx->limits[i], F_REGULAR, 9, MARGIN_X, TEXT_W);
        p->y += 4;
    }
    heading(p, "Image credits", 14);
    for (size_t i = 0; i < fx->ncredits; i++) {
        para(p, fx->credits[i], F_REGULAR, 9, MARGIN_X, TEXT_W);
        p->y += 4;
    }
    heading(p, "Software", 12);
    buf[0] = '\0';
    for (size_t i = 0; i < fx->nsoftware; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? ", " : "",
                 fx->software[i]);
    para(p, buf, F_REGULAR, 9, MARGIN_X, TEXT_W);
}

/* Every page, drawn (draw = 1) or only laid out. */
static void layout(pdf *p, const cnp_evidence_facts *fx, const size_t *order, int geographic)
{
    p->page = 0;
    cover(p, fx);
    overview_page(p, order);
    for (size_t r = 0; r < p->ctx->res->nalerts; r++)
        alert_pages(p, &p->ctx->res->alerts[order[r]], r + 1, geographic);
    method_pages(p, fx);
    end_page(p);
}

/* ---- fonts and the document -------------------------------------------------- */

static const cairo_user_data_key_t ft_key;

static void done_face(void *face) { FT_Done_Face((FT_Face)face); }

cnp_status cnp_write_pdf(const char *path, const char *dir, const cnp_evidence_ctx *ctx)
{
    FT_Library ft = NULL;
    cairo_surface_t *surf = NULL;
    cnp_evidence_facts *fx = NULL;
    size_t *order = NULL;
    pdf p;
    cnp_status st;

    memset(&p, 0, sizeof p);
    if ((st = cnp_pdf_check_fonts(ctx->font_dir)) != CNP_OK)
        return st;
    if (!(fx = malloc(sizeof *fx)))
        return cnp_err(CNP_E_NOMEM, "out of memory for report.pdf");
    if ((st = cnp_evidence_facts_get(ctx, fx)) != CNP_OK ||
        (st = cnp_map_rank(ctx->res, &order)) != CNP_OK)
        goto done;
    if (FT_Init_FreeType(&ft) != 0) {
        st = cnp_err(CNP_E_NOMEM, "report.pdf: cannot start FreeType");
        goto done;
    }
    for (int i = 0; i < 3; i++) {
        char fp[4200];
        FT_Face face;
        font_path(ctx->font_dir, i, fp, sizeof fp);
        if (FT_New_Face(ft, fp, 0, &face) != 0) {
            st = cnp_err(CNP_E_IO, "report.pdf: font '%s' cannot be read", fp);
            goto done;
        }
        p.face[i] = cairo_ft_font_face_create_for_ft_face(face, 0);
        /* The face lives as long as cairo keeps the font. */
        if (cairo_font_face_set_user_data(p.face[i], &ft_key, face, done_face) !=
            CAIRO_STATUS_SUCCESS) {
            FT_Done_Face(face);
            st = cnp_err(CNP_E_NOMEM, "out of memory for report.pdf's fonts");
            goto done;
        }
    }

    surf = cairo_pdf_surface_create(path, PAGE_W, PAGE_H);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        st = cnp_err(CNP_E_IO, "cannot create '%s': %s", path,
                     cairo_status_to_string(cairo_surface_status(surf)));
        goto done;
    }
    /* No clock: an empty creation date is left out (cairo stamps the time
     * otherwise), and the same inputs give the same bytes. */
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATE_DATE, "");
    char title[512];
    snprintf(title, sizeof title, "Forest-loss evidence report%s%s", ctx->case_id ? ", case " : "",
             ctx->case_id ? ctx->case_id : "");
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_TITLE, title);
    if (ctx->operator_name)
        cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_AUTHOR, ctx->operator_name);
    snprintf(title, sizeof title, "canopy %s", or_none(ctx->program_version, "unknown"));
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATOR, title);

    p.cr = cairo_create(surf);
    p.ctx = ctx;
    p.dir = dir;
    snprintf(p.footer, sizeof p.footer, "%s%.200s%sRun %.16s  \xC2\xB7  canopy %.60s",
             ctx->case_id ? "Case " : "", ctx->case_id ? ctx->case_id : "",
             ctx->case_id ? "  \xC2\xB7  " : "", or_none(ctx->run_id, "none"),
             or_none(ctx->program_version, "unknown"));
    OGRSpatialReferenceH srs = OSRNewSpatialReference(ctx->scene[0]->wkt);
    const int geographic = srs && OSRIsGeographic(srs);
    OSRDestroySpatialReference(srs);
    p.draw = 0;
    layout(&p, fx, order, geographic);
    p.npages = p.page;
    p.draw = 1;
    layout(&p, fx, order, geographic);
    st = p.st;
    cairo_destroy(p.cr);
    p.cr = NULL;
    cairo_surface_finish(surf);
    if (st == CNP_OK && cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS)
        st = cnp_err(CNP_E_IO, "writing '%s': %s", path,
                     cairo_status_to_string(cairo_surface_status(surf)));

done:
    if (p.cr)
        cairo_destroy(p.cr);
    if (surf)
        cairo_surface_destroy(surf);
    for (int i = 0; i < 3; i++)
        if (p.face[i])
            cairo_font_face_destroy(p.face[i]);
    /* cairo keeps fonts in caches of its own: empty them (no cairo object is
     * left) so the FreeType faces, and then the library, can go. */
    cairo_debug_reset_static_data();
    if (ft)
        FT_Done_FreeType(ft);
    free(order);
    free(fx);
    return st;
}
