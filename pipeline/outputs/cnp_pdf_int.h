/* pipeline/outputs/cnp_pdf_int.h - report.pdf's parts (cnp_pdf*.c): the page
 * cursor and text helpers every page uses. Laid out twice (cnp_pdf.c): once
 * to count the pages (draw = 0: nothing is drawn, everything is measured),
 * once to draw.
 */
#ifndef CNP_PDF_INT_H
#define CNP_PDF_INT_H

#include <stddef.h>

#include <cairo.h>

#include "cnp_evidence.h"

/* A4 portrait, in points. */
#define PAGE_W   595.276
#define PAGE_H   841.890
#define MARGIN_X 48.0
#define TOP      54.0
#define BOTTOM   (PAGE_H - 58.0)
#define TEXT_W   (PAGE_W - 2 * MARGIN_X)

enum { F_REGULAR, F_BOLD, F_MONO };

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
    unsigned long mono_glyph[128]; /* the monospace font's glyph of each ASCII */
    int       mono_ready;          /* character, looked up once              */
} pdf;

void   cnp_pdf_font(pdf *p, int which, double size);
/* Width of `s` at the current font (made printable first, as shown). */
double cnp_pdf_text_w(pdf *p, const char *s);
void   cnp_pdf_show(pdf *p, double x, double y, const char *s);
/* A line of printable ASCII in F_MONO at `size`, as glyphs placed one
 * advance apart (no text-to-glyph lookup): the vertex tables are most of a
 * report of thousands of alerts. Spaces are glyphs too, so the line is one
 * plain string in the page (a gap would be a position adjustment, and a
 * new text position every few cells), and a reader copies it with its
 * spaces. Other text goes through cnp_pdf_show. */
void   cnp_pdf_show_mono(pdf *p, double x, double y, const char *s, double size);
void   cnp_pdf_grey(pdf *p, double v);
void   cnp_pdf_rule(pdf *p, double y);
void   cnp_pdf_end_page(pdf *p);
void   cnp_pdf_new_page(pdf *p);
/* Room for h more points on this page, else a new one; 1 when it broke. */
int    cnp_pdf_need(pdf *p, double h);
/* A paragraph at x, `width` wide, flowing over pages. */
void   cnp_pdf_para(pdf *p, const char *s, int font, double size, double x, double width);
void   cnp_pdf_heading(pdf *p, const char *s, double size);
/* One "label: value" row; the value wraps in its column. */
void   cnp_pdf_kv(pdf *p, const char *label, const char *value, int value_font, double label_w);
/* One row of a table of fixed columns (x offsets from the margin). */
void   cnp_pdf_row(pdf *p, const double *col, int ncol, const char *const *cell, int font,
                   double size);
/* The PNG at `path` scaled to `w` points wide (at most max_h high) at (x, y);
 * its height, or 0 (and p->st set) when it cannot be read. */
double cnp_pdf_picture(pdf *p, const char *path, double x, double y, double w, double max_h);

/* The alerts' pages (cnp_pdf_alerts.c), `order` ranks them (1 = largest):
 * a page with chips, attributes and vertices for each alert with chips, then
 * the alerts without chips, compact, several to a page. */
void cnp_pdf_alerts(pdf *p, const size_t *order, int geographic);

/* --zones: the alerts grouped by zone, as report.html lists them. */
void cnp_pdf_zones(pdf *p, const size_t *order);

#endif /* CNP_PDF_INT_H */
