/* pipeline/outputs/cnp_pdf_layout.c - report.pdf's page cursor: pages with
 * their footers, wrapped paragraphs, label/value rows, table rows, pictures.
 */
#include "cnp_pdf_int.h"

#include <string.h>

#include "cnp_err.h"
#include "cnp_evidence_text.h"
#include "cnp_ident.h"

void cnp_pdf_font(pdf *p, int which, double size)
{
    cairo_set_font_face(p->cr, p->face[which]);
    cairo_set_font_size(p->cr, size);
}

/* cairo refuses text that is not UTF-8 (and stops drawing): names from the
 * inputs may be anything, so every string is made printable first. */
double cnp_pdf_text_w(pdf *p, const char *s)
{
    char buf[3 * 1024 + 1];
    cairo_text_extents_t e;
    cairo_text_extents(p->cr, cnp_ident_printable(buf, sizeof buf, s), &e);
    return e.x_advance;
}

void cnp_pdf_show(pdf *p, double x, double y, const char *s)
{
    char buf[3 * 1024 + 1];
    if (!p->draw)
        return;
    cairo_move_to(p->cr, x, y);
    cairo_show_text(p->cr, cnp_ident_printable(buf, sizeof buf, s));
}

static int mono_glyphs(pdf *p)
{
    cairo_scaled_font_t *sf = cairo_get_scaled_font(p->cr);
    for (int c = 32; c < 127; c++) {
        const char ch[2] = { (char)c, '\0' };
        cairo_glyph_t *g = NULL;
        int n = 0;
        if (cairo_scaled_font_text_to_glyphs(sf, 0, 0, ch, 1, &g, &n, NULL, NULL, NULL) !=
            CAIRO_STATUS_SUCCESS || n != 1) {
            cairo_glyph_free(g);
            return 0;
        }
        p->mono_glyph[c] = g[0].index;
        cairo_glyph_free(g);
    }
    return p->mono_ready = 1;
}

void cnp_pdf_show_mono(pdf *p, double x, double y, const char *s, double size)
{
    cairo_glyph_t g[512];
    size_t n = 0, i = 0;
    cnp_pdf_font(p, F_MONO, size);
    if (!p->draw)
        return;
    for (const char *c = s; *c; c++)
        if (*c < 32 || *c > 126 || c - s >= (ptrdiff_t)(sizeof g / sizeof *g)) {
            cnp_pdf_show(p, x, y, s);
            return;
        }
    if (!p->mono_ready && !mono_glyphs(p)) {
        cnp_pdf_show(p, x, y, s);
        return;
    }
    const double adv = cnp_pdf_text_w(p, "0");
    for (; s[i]; i++)
        g[n++] = (cairo_glyph_t){ p->mono_glyph[(unsigned char)s[i]], x + adv * (double)i, y };
    cairo_show_glyphs(p->cr, g, (int)n);
}

void cnp_pdf_grey(pdf *p, double v) { cairo_set_source_rgb(p->cr, v, v, v); }

void cnp_pdf_rule(pdf *p, double y)
{
    if (!p->draw)
        return;
    cnp_pdf_grey(p, 0.75);
    cairo_set_line_width(p->cr, 0.5);
    cairo_move_to(p->cr, MARGIN_X, y);
    cairo_line_to(p->cr, PAGE_W - MARGIN_X, y);
    cairo_stroke(p->cr);
    cnp_pdf_grey(p, 0.0);
}

void cnp_pdf_end_page(pdf *p)
{
    if (p->page == 0)
        return;
    if (p->draw) {
        char num[48];
        cnp_pdf_font(p, F_REGULAR, 7.5);
        cnp_pdf_grey(p, 0.35);
        cnp_pdf_show(p, MARGIN_X, PAGE_H - 30, p->footer);
        snprintf(num, sizeof num, "page %d of %d", p->page, p->npages);
        cnp_pdf_show(p, PAGE_W - MARGIN_X - cnp_pdf_text_w(p, num), PAGE_H - 30, num);
        cnp_pdf_grey(p, 0.0);
        cairo_show_page(p->cr);
        /* A report of thousands of alerts takes minutes: one tick a page. */
        const cnp_evidence_ctx *c = p->ctx;
        if (c->progress && p->st == CNP_OK &&
            !c->progress(c->progress_from + (c->progress_to - c->progress_from) * p->page /
                         (p->npages > 0 ? p->npages : 1), "report.pdf", c->progress_arg))
            p->st = cnp_err(CNP_E_CANCELLED, "interrupted by user");
    }
}

void cnp_pdf_new_page(pdf *p)
{
    cnp_pdf_end_page(p);
    p->page++;
    p->y = TOP;
}

/* Room for h more points on this page, else a new one; 1 when it broke. */
int cnp_pdf_need(pdf *p, double h)
{
    if (p->y + h <= BOTTOM)
        return 0;
    cnp_pdf_new_page(p);
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
    /* Widths add up (cairo's text API places glyphs by their advances, no
     * kerning), so each word is measured once, not each trial line: a page
     * of short paragraphs costs its characters, not their squares. */
    const double space_w = cnp_pdf_text_w(p, " ");
    char line[1024];
    size_t len = 0;
    double line_w = 0.0;
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        size_t wl = strcspn(s, " ");
        char trial[1024];
        const size_t sep = len ? 1 : 0;
        if (len + sep + wl < sizeof trial) {
            memcpy(trial, s, wl);
            trial[wl] = '\0';
            const double w = line_w + (sep ? space_w : 0.0) + cnp_pdf_text_w(p, trial);
            if (w <= width) {
                if (sep)
                    line[len] = ' ';
                memcpy(line + len + sep, s, wl);
                len += sep + wl;
                line_w = w;
                s += wl;
                continue;
            }
        }
        if (len) {                       /* the word goes on the next line */
            line[len] = '\0';
            emit(p, line, arg);
            len = 0;
            line_w = 0.0;
            continue;
        }
        /* A word wider than the line: as many characters as fit. */
        size_t n = 0;
        while (n < wl && n < sizeof line - 5) {
            const size_t c = u8len(s + n);
            memcpy(trial, s, n + c);
            trial[n + c] = '\0';
            if (n > 0 && cnp_pdf_text_w(p, trial) > width)
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
    cnp_pdf_need(p, f->lead);
    p->y += f->lead;
    cnp_pdf_show(p, f->x, p->y - f->lead * 0.25, line);
}

/* A paragraph at x, `width` wide, flowing over pages. */
void cnp_pdf_para(pdf *p, const char *s, int font, double size, double x, double width)
{
    flow f = { x, size * 1.35 };
    cnp_pdf_font(p, font, size);
    wrap(p, s, width, emit_flow, &f);
}

void cnp_pdf_heading(pdf *p, const char *s, double size)
{
    cnp_pdf_need(p, size * 2.6);
    p->y += size * 1.6;
    cnp_pdf_font(p, F_BOLD, size);
    cnp_pdf_show(p, MARGIN_X, p->y, s);
    p->y += size * 0.5;
}

/* One "label: value" row; the value wraps in its column. */
void cnp_pdf_kv(pdf *p, const char *label, const char *value, int value_font, double label_w)
{
    const double size = 9.0, lead = size * 1.35;
    cnp_pdf_need(p, lead);
    const double y0 = p->y;
    cnp_pdf_font(p, F_BOLD, size);
    cnp_pdf_show(p, MARGIN_X, p->y + lead * 0.75, label);
    p->y = y0;
    flow f = { MARGIN_X + label_w, lead };
    cnp_pdf_font(p, value_font, value_font == F_MONO ? 8.0 : size);
    wrap(p, value, TEXT_W - label_w, emit_flow, &f);
    p->y += 2.0;
}

/* The PNG at `path` scaled to `w` points wide at (x, y); its height, or 0
 * (and p->st set) when it cannot be read. */
double cnp_pdf_picture(pdf *p, const char *path, double x, double y, double w, double max_h)
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

/* One row of a table of fixed columns (x offsets from the margin). */
void cnp_pdf_row(pdf *p, const double *col, int ncol, const char *const *cell, int font,
                double size)
{
    cnp_pdf_font(p, font, size);
    for (int c = 0; c < ncol; c++)
        cnp_pdf_show(p, MARGIN_X + col[c], p->y, cell[c]);
}

