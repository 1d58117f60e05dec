/* pipeline/outputs/cnp_pdf.c - report.pdf: the printable case report (cairo).
 *
 * Pages: a cover (case, operator, run id, scenes, counts, every input with
 * its SHA-256), the overview map with the alert list, with --zones the alerts
 * by zone, per alert with chips one page or more (before and after chips,
 * attributes, dates, and every vertex of its outline in WGS 84
 * latitude/longitude and in the grid CRS), the alerts without chips
 * compact, several to a page, with the same attributes and vertices
 * (cnp_pdf_alerts.c), then method, settings, limitations, image credits and
 * software. Words and numbers come from cnp_evidence_text.h, as in
 * report.html.
 *
 * The same inputs give the same bytes: the fonts are files named here
 * (DejaVu, embedded as subsets whose names cairo derives from the glyphs),
 * cairo is told no creation date (it would stamp the clock otherwise) and
 * writes no document id, and nothing else varies. Pages are laid out twice:
 * once to count them (for "page n of N"), once to draw.
 */
#include "cnp_confidence.h"
#include "cnp_evidence.h"
#include "cnp_pdf_int.h"

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

    cnp_pdf_new_page(p);
    cnp_pdf_font(p, F_BOLD, 20);
    p->y += 20;
    cnp_pdf_show(p, MARGIN_X, p->y, "Forest-loss evidence report");
    cnp_pdf_font(p, F_REGULAR, 11);
    p->y += 18;
    snprintf(buf, sizeof buf, "Loss of forest between %s and %s",
             or_none(ctx->scene[0]->date, "an unknown date"),
             or_none(ctx->scene[1]->date, "an unknown date"));
    cnp_pdf_show(p, MARGIN_X, p->y, buf);
    p->y += 10;
    cnp_pdf_rule(p, p->y);
    p->y += 8;

    const double lw = 92;
    cnp_pdf_kv(p, "Case", or_none(ctx->case_id, "not given"), F_REGULAR, lw);
    cnp_pdf_kv(p, "Operator", or_none(ctx->operator_name, "not given"), F_REGULAR, lw);
    cnp_pdf_kv(p, "Run id", or_none(ctx->run_id, "none"), F_MONO, lw);
    scene_line(ctx->scene[0], buf, sizeof buf);
    cnp_pdf_kv(p, "Before", buf, F_REGULAR, lw);
    scene_line(ctx->scene[1], buf, sizeof buf);
    cnp_pdf_kv(p, "After", buf, F_REGULAR, lw);
    cnp_pdf_kv(p, "Grid", fx->crs, F_REGULAR, lw);
    snprintf(buf, sizeof buf, "%s; window %s", fx->pixel, fx->window);
    cnp_pdf_kv(p, "Pixels", buf, F_REGULAR, lw);
    size_t nhigh = 0;
    for (size_t i = 0; i < r->nalerts; i++)
        nhigh += r->alerts[i].high_confidence != 0;
    const double total = (double)(r->observed_pixels + r->unobserved_pixels);
    snprintf(buf, sizeof buf, "%zu alert%s (%zu high confidence), %.4f ha in all; %.1f %% of "
             "the area observed in both dates", r->nalerts, r->nalerts == 1 ? "" : "s", nhigh,
             r->total_area_ha,
             total > 0 ? 100.0 * (double)r->observed_pixels / total : 0.0);
    cnp_pdf_kv(p, "Found", buf, F_REGULAR, lw);
    if (ctx->chips_left_out > 0)
        snprintf(buf, sizeof buf, "for the %zu largest alerts (--max-chips %zu), each with a "
                 "page of its own; the %zu others are listed after them with every attribute "
                 "and vertex", ctx->chips_written, ctx->max_chips, ctx->chips_left_out);
    else
        snprintf(buf, sizeof buf, "for %s alert (%zu), each with a page of its own",
                 ctx->chips_written == 1 ? "the" : "every", ctx->chips_written);
    cnp_pdf_kv(p, "Image chips", buf, F_REGULAR, lw);

    cnp_pdf_heading(p, "Input files", 12);
    cnp_pdf_para(p, "Each file the run read, with its size and SHA-256 as recorded in run.json. "
            "`canopy verify OUTDIR` checks them again.", F_REGULAR, 8.5, MARGIN_X, TEXT_W);
    p->y += 4;
    for (size_t i = 0; i < ctx->ninputs; i++) {
        const cnp_evidence_input *in = &ctx->inputs[i];
        snprintf(buf, sizeof buf, "%s, %lld bytes", cnp_path_base(in->path), in->size);
        cnp_pdf_kv(p, in->role, buf, F_REGULAR, lw);
        cnp_pdf_kv(p, "", in->sha256[0] ? in->sha256 : "not hashed (--no-hash)", F_MONO, lw);
    }
    cnp_pdf_heading(p, "Software", 12);
    buf[0] = '\0';
    for (size_t i = 0; i < fx->nsoftware; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? ", " : "",
                 fx->software[i]);
    cnp_pdf_para(p, buf, F_REGULAR, 9, MARGIN_X, TEXT_W);
}

static void overview_page(pdf *p, const size_t *order)
{
    const cnp_evidence_ctx *ctx = p->ctx;
    const cnp_result *r = ctx->res;
    char path[4300];

    cnp_pdf_new_page(p);
    cnp_pdf_heading(p, "Overview", 14);
    snprintf(path, sizeof path, "%s/overview.png", p->dir);
    p->y += 4;
    p->y += cnp_pdf_picture(p, path, MARGIN_X, p->y, TEXT_W, 470) + 4;
    cnp_pdf_para(p, "AFTER scene in false colour (NIR, red, green: vegetation red, bare soil cyan). "
            "Yellow: alert outlines; numbers: the alerts' numbers below (1 = largest); grey "
            "hatching: not observed in both dates. The picture is georeferenced "
            "(overview.png with overview.pgw and overview.png.aux.xml open in place in GIS "
            "software).", F_REGULAR, 8, MARGIN_X, TEXT_W);
    if (r->nalerts == 0) {
        cnp_pdf_heading(p, "No alerts", 12);
        cnp_pdf_para(p, "No forest loss above the minimum area was found in the observed part of "
                "the scenes.", F_REGULAR, 9, MARGIN_X, TEXT_W);
        return;
    }
    cnp_pdf_heading(p, "Alerts, largest first", 12);
    /* Columns at whole characters of the monospace rows: each row is one
     * line of glyphs (a list of thousands of alerts is pages of them). */
    static const int at[6] = { 0, 5, 23, 35, 47, 61 };
    static const char *const head[6] = { "#", "Alert id", "Area (ha)", "Confidence",
                                         "Latitude", "Longitude" };
    cnp_pdf_font(p, F_MONO, 8);
    const double adv = cnp_pdf_text_w(p, "0");
    double col[6];
    for (int c = 0; c < 6; c++)
        col[c] = at[c] * adv;
    for (size_t k = 0; k < r->nalerts; k++) {
        if (k == 0 || cnp_pdf_need(p, 12)) {
            cnp_pdf_need(p, 24);
            p->y += 12;
            cnp_pdf_row(p, col, 6, head, F_BOLD, 8.5);
        }
        const cnp_alert *a = &r->alerts[order[k]];
        char line[160];
        snprintf(line, sizeof line, "%-*zu%-*s%-*.4f%-*s%-*.7f%.7f", at[1], k + 1,
                 at[2] - at[1], a->id, at[3] - at[2], a->area_ha, at[4] - at[3],
                 cnp_confidence_name(a->confidence), at[5] - at[4], a->point_lat,
                 a->point_lon);
        p->y += 12;
        cnp_pdf_show_mono(p, MARGIN_X, p->y, line, 8);
    }
    p->y += 6;
    cnp_pdf_para(p, "Latitude and longitude (WGS 84): the alert's point, inside it.", F_REGULAR, 8,
         MARGIN_X, TEXT_W);
}

static void method_pages(pdf *p, const cnp_evidence_facts *fx)
{
    const cnp_evidence_ctx *ctx = p->ctx;
    const cnp_settings *s = ctx->settings;
    char buf[1200];

    cnp_pdf_new_page(p);
    cnp_pdf_heading(p, "Method", 14);
    for (size_t i = 0; i < fx->nmethod; i++) {
        cnp_pdf_para(p, fx->method[i], F_REGULAR, 9, MARGIN_X, TEXT_W);
        p->y += 4;
    }
    cnp_pdf_heading(p, "Settings", 12);
    const double lw = 150;
    snprintf(buf, sizeof buf, "%g", s->forest_ndvi);
    cnp_pdf_kv(p, "forest_ndvi", buf, F_MONO, lw);
    snprintf(buf, sizeof buf, "%g", s->ndvi_drop);
    cnp_pdf_kv(p, "ndvi_drop", buf, F_MONO, lw);
    snprintf(buf, sizeof buf, "%g", s->high_confidence_drop);
    cnp_pdf_kv(p, "high_confidence_drop", buf, F_MONO, lw);
    snprintf(buf, sizeof buf, "%g ha", s->min_area_ha);
    cnp_pdf_kv(p, "min_area", buf, F_MONO, lw);
    snprintf(buf, sizeof buf, "%d", s->connectivity);
    cnp_pdf_kv(p, "connectivity", buf, F_MONO, lw);
    /* Each date as it was read (a product brings its own bands and mask). */
    for (int k = 0; k < 2; k++) {
        const cnp_scene *sc = ctx->scene[k];
        const char *rule = cnp_scene_mask_rule(sc);
        char bands[160];
        cnp_scene_band_text(sc, bands, sizeof bands);
        snprintf(buf, sizeof buf, "%s; DN x %g %+g; mask: %.600s", bands, sc->radiometry.scale,
                 sc->radiometry.offset, rule ? rule : "none (only nodata is unobserved)");
        cnp_pdf_kv(p, k ? "AFTER as read" : "BEFORE as read", buf, F_REGULAR, lw);
    }
    snprintf(buf, sizeof buf, "%g m", s->mask_buffer_m);
    cnp_pdf_kv(p, "mask buffer", buf, F_MONO, lw);
    cnp_pdf_kv(p, "configuration", ctx->config_path ? ctx->config_path : "built-in defaults",
       F_REGULAR, lw);
    cnp_pdf_heading(p, "Limitations", 14);
    for (size_t i = 0; i < fx->nlimits; i++) {
        cnp_pdf_para(p, fx->limits[i], F_REGULAR, 9, MARGIN_X, TEXT_W);
        p->y += 4;
    }
    cnp_pdf_heading(p, "Image credits", 14);
    for (size_t i = 0; i < fx->ncredits; i++) {
        cnp_pdf_para(p, fx->credits[i], F_REGULAR, 9, MARGIN_X, TEXT_W);
        p->y += 4;
    }
    cnp_pdf_heading(p, "Software", 12);
    buf[0] = '\0';
    for (size_t i = 0; i < fx->nsoftware; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? ", " : "",
                 fx->software[i]);
    cnp_pdf_para(p, buf, F_REGULAR, 9, MARGIN_X, TEXT_W);
}

/* Every page, drawn (draw = 1) or only laid out. */
static void layout(pdf *p, const cnp_evidence_facts *fx, const size_t *order, int geographic)
{
    p->page = 0;
    cover(p, fx);
    overview_page(p, order);
    cnp_pdf_zones(p, order);
    cnp_pdf_alerts(p, order, geographic);
    method_pages(p, fx);
    cnp_pdf_end_page(p);
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
