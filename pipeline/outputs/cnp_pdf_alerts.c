/* pipeline/outputs/cnp_pdf_alerts.c - report.pdf's alerts: a page for each
 * alert with chips (both chips, attributes, every vertex of its outline in
 * WGS 84 and in the grid CRS); the alerts without chips in a compact list,
 * several to a page, with the same attributes and vertices; and with
 * --zones the alerts grouped by zone.
 */
#include "cnp_confidence.h"
#include "cnp_pdf_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ogr_api.h>

#include "cnp_err.h"
#include "cnp_evidence_text.h"

/* ---- attributes and vertices in monospace lines ------------------------------ */

#define COMPACT_LEAD 8.6          /* points a line, at 6.5 pt monospace      */

/* The vertex cells of one ring, as many to a line as fit (a monospace font:
 * every cell of the same width, measured once). */
typedef struct cell_line {
    char   text[1024];
    size_t len, cells, per_line;
    const char *head;             /* column heads, again after a page break */
} cell_line;

static void cells_flush(pdf *p, cell_line *l)
{
    if (!l->cells)
        return;
    if (cnp_pdf_need(p, COMPACT_LEAD)) {
        p->y += COMPACT_LEAD;
        cnp_pdf_show_mono(p, MARGIN_X, p->y, l->head, 6.5);
    }
    p->y += COMPACT_LEAD;
    cnp_pdf_show_mono(p, MARGIN_X, p->y, l->text, 6.5);
    l->len = l->cells = 0;
    l->text[0] = '\0';
}

static void cells_add(pdf *p, cell_line *l, const char *cell)
{
    if (l->cells == l->per_line)
        cells_flush(p, l);
    if (!p->draw) {               /* counting pages: only the cells count */
        l->cells++;
        return;
    }
    const int n = snprintf(l->text + l->len, sizeof l->text - l->len, "%s%s",
                           l->cells ? "   " : "", cell);
    if (n > 0 && (size_t)n < sizeof l->text - l->len)
        l->len += (size_t)n;
    l->cells++;
}

/* Every vertex of the alert: n, latitude, longitude (WGS 84), grid x, y;
 * a line naming each ring when there are more than one. */
static void compact_vertices(pdf *p, const cnp_alert *a, int geographic)
{
    static const char head_m[] = "   n     latitude     longitude       grid x        grid y";
    static const char head_g[] = "   n     latitude     longitude            grid x            grid y";
    cell_line l = { "", 0, 0, 1, geographic ? head_g : head_m };
    OGRGeometryH g = a->geom, w = a->geom_wgs84;
    const int single = wkbFlatten(OGR_G_GetGeometryType(g)) == wkbPolygon;
    const int np = single ? 1 : OGR_G_GetGeometryCount(g);
    const int many = np > 1 || OGR_G_GetGeometryCount(single ? g : OGR_G_GetGeometryRef(g, 0)) > 1;
    char buf[160];

    cnp_pdf_font(p, F_MONO, 6.5);
    const double cell_w = cnp_pdf_text_w(p, l.head), gap_w = cnp_pdf_text_w(p, "   ");
    l.per_line = (size_t)((TEXT_W + gap_w) / (cell_w + gap_w));
    if (l.per_line < 1)
        l.per_line = 1;
    /* The heads over every cell of a line. */
    char heads[1024] = "";
    for (size_t c = 0; c < l.per_line; c++)
        snprintf(heads + strlen(heads), sizeof heads - strlen(heads), "%s%s", c ? "   " : "",
                 l.head);
    l.head = heads;
    cnp_pdf_need(p, 2 * COMPACT_LEAD);
    p->y += COMPACT_LEAD;
    cnp_pdf_show_mono(p, MARGIN_X, p->y, heads, 6.5);
    int n = 0, ring_no = 0;
    for (int pi = 0; pi < np; pi++) {
        OGRGeometryH pg = single ? g : OGR_G_GetGeometryRef(g, pi);
        OGRGeometryH pw = single ? w : OGR_G_GetGeometryRef(w, pi);
        for (int ri = 0; ri < OGR_G_GetGeometryCount(pg); ri++) {
            OGRGeometryH rg = OGR_G_GetGeometryRef(pg, ri), rw = OGR_G_GetGeometryRef(pw, ri);
            ring_no++;
            if (many) {
                cells_flush(p, &l);
                snprintf(buf, sizeof buf, "ring %d: %s", ring_no,
                         ri == 0 ? (np > 1 ? "outer edge of a part" : "outer edge") : "hole");
                cells_add(p, &l, buf);
                cells_flush(p, &l);
            }
            for (int v = 0; v < OGR_G_GetPointCount(rg); v++) {
                /* Formatting is most of a long list's layout: the pass
                 * that counts pages needs only how many cells there are. */
                if (!p->draw)
                    ++n;
                else if (geographic)
                    snprintf(buf, sizeof buf, "%4d %12.7f %13.7f %17.9f %17.9f", ++n,
                             OGR_G_GetY(rw, v), OGR_G_GetX(rw, v), OGR_G_GetX(rg, v),
                             OGR_G_GetY(rg, v));
                else
                    snprintf(buf, sizeof buf, "%4d %12.7f %13.7f %12.2f %13.2f", ++n,
                             OGR_G_GetY(rw, v), OGR_G_GetX(rw, v), OGR_G_GetX(rg, v),
                             OGR_G_GetY(rg, v));
                cells_add(p, &l, buf);
            }
        }
    }
    cells_flush(p, &l);
}

/* Codepoints of the UTF-8 text s[0..n). */
static size_t u8count(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Bytes of the first `cp` codepoints of s (at most n bytes). */
static size_t u8bytes(const char *s, size_t n, size_t cp)
{
    size_t i = 0;
    while (i < n && cp > 0) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        cp--;
    }
    return i;
}

typedef struct mono_lines {
    char   text[1024];
    size_t len, cols, per_line;   /* bytes; codepoints; codepoints a line */
} mono_lines;

static void mono_flush(pdf *p, mono_lines *m)
{
    if (!m->len)
        return;
    m->text[m->len] = '\0';
    cnp_pdf_need(p, COMPACT_LEAD);
    p->y += COMPACT_LEAD;
    cnp_pdf_show_mono(p, MARGIN_X, p->y, m->text, 6.5);
    m->len = m->cols = 0;
}

/* `tok` on the current line when it fits, else on the next, broken where a
 * line ends when it is longer than one. */
static void mono_token(pdf *p, mono_lines *m, const char *tok)
{
    size_t n = strlen(tok), cp = u8count(tok, n);
    if (m->cols && m->cols + 2 + cp > m->per_line)
        mono_flush(p, m);
    if (m->cols) {
        memcpy(m->text + m->len, "  ", 2);
        m->len += 2;
        m->cols += 2;
    }
    while (n) {
        const size_t room = m->per_line > m->cols ? m->per_line - m->cols : 0;
        const size_t take = u8bytes(tok, n, room < cp ? room : cp);
        memcpy(m->text + m->len, tok, take);
        m->len += take;
        m->cols += u8count(tok, take);
        cp -= u8count(tok, take);
        tok += take;
        n -= take;
        if (n)
            mono_flush(p, m);
    }
}

/* Every shown attribute but those of the heading line, as alerts.gpkg and
 * alerts.csv name them ("pixels=728"): monospace lines, filled by counting
 * characters (nothing to measure). */
static void compact_attributes(pdf *p, const cnp_alert *a)
{
    char buf[256];
    mono_lines m = { "", 0, 0, 0 };
    cnp_pdf_font(p, F_MONO, 6.5);
    m.per_line = (size_t)(TEXT_W / cnp_pdf_text_w(p, "0"));
    if (m.per_line > 200)
        m.per_line = 200;             /* 4 bytes a codepoint fit the line */
    for (int k = 0; k < CNP_NATTRS; k++) {
        const char *name = cnp_attrs[k].name;
        if (!cnp_attr_shown(p->ctx, k) || !strcmp(name, "id") || !strcmp(name, "area_ha") ||
            !strcmp(name, "confidence"))
            continue;
        const char *t = cnp_attr_text(p->ctx, a, k, buf, sizeof buf);
        const char *v = t ? t : "unknown";
        const size_t size = strlen(name) + strlen(v) + 2;
        char *tok = malloc(size);
        if (!tok) {
            if (p->st == CNP_OK)
                p->st = cnp_err(CNP_E_NOMEM, "out of memory for report.pdf");
            return;
        }
        snprintf(tok, size, "%s=%s", name, v);
        mono_token(p, &m, tok);
        free(tok);
    }
    mono_flush(p, &m);
}

static void compact_alert(pdf *p, const cnp_alert *a, size_t rank, int geographic)
{
    char buf[256];
    cnp_pdf_need(p, 5 * COMPACT_LEAD + 14);
    p->y += 14;
    cnp_pdf_rule(p, p->y - 10);
    snprintf(buf, sizeof buf, "Alert %zu  \xC2\xB7  %s  \xC2\xB7  %.4f ha  \xC2\xB7  %s confidence",
             rank, a->id, a->area_ha, cnp_confidence_name(a->confidence));
    cnp_pdf_font(p, F_BOLD, 8.5);
    cnp_pdf_show(p, MARGIN_X, p->y, buf);
    p->y += 2;
    compact_attributes(p, a);
    compact_vertices(p, a, geographic);
}

/* An alert with chips: its own page (or more), the chips side by side. */
static void alert_pages(pdf *p, const cnp_alert *a, size_t rank, int geographic)
{
    const cnp_evidence_ctx *ctx = p->ctx;
    char buf[256], path[4300];

    cnp_pdf_new_page(p);
    snprintf(buf, sizeof buf, "Alert %zu  \xC2\xB7  %s  \xC2\xB7  %.4f ha  \xC2\xB7  %s confidence",
             rank, a->id, a->area_ha, cnp_confidence_name(a->confidence));
    cnp_pdf_heading(p, buf, 13);
    p->y += 6;
    {
        const double w = (TEXT_W - 12) / 2;
        double h = 0;
        for (int k = 0; k < 2; k++) {
            snprintf(path, sizeof path, "%s/evidence/%s/%s.png", p->dir, a->id,
                     k ? "after" : "before");
            const double hk = cnp_pdf_picture(p, path, MARGIN_X + k * (w + 12), p->y, w, 330);
            h = hk > h ? hk : h;
        }
        p->y += h + 4;
        cnp_pdf_para(p, "Left BEFORE, right AFTER, on one brightness scale; yellow: the alert's "
                "outline; cyan hatching: not observed. Scale bar and north arrow under each "
                "image; evidence/<id>/before.png and after.png are georeferenced.", F_REGULAR, 7.5,
             MARGIN_X, TEXT_W);
    }
    cnp_pdf_heading(p, "Attributes", 11);
    for (int k = 0; k < CNP_NATTRS; k++) {
        const char *t = cnp_attr_text(ctx, a, k, buf, sizeof buf);
        if (!cnp_attr_shown(ctx, k))
            continue;
        cnp_pdf_kv(p, cnp_attrs[k].label, t ? t : "unknown",
           cnp_attrs[k].kind == CNP_ATTR_STR ? F_REGULAR : F_MONO, 180);
    }
    cnp_pdf_heading(p, "Outline vertices", 11);
    cnp_pdf_para(p, "Every corner of the outline, in order (the last repeats the first): n, "
                 "latitude and longitude (WGS 84), grid x and y (the grid CRS). Ring 1 of each "
                 "part is its outer edge; further rings are holes (forest left standing inside "
                 "the alert).", F_REGULAR, 8, MARGIN_X, TEXT_W);
    compact_vertices(p, a, geographic);
}


static void compact_intro(pdf *p, size_t nwithout)
{
    const cnp_evidence_ctx *ctx = p->ctx;
    char buf[900];
    cnp_pdf_new_page(p);
    snprintf(buf, sizeof buf, "Alerts without chips (%zu)", nwithout);
    cnp_pdf_heading(p, buf, 14);
    if (ctx->chips_left_out > 0 && ctx->max_chips > 0)
        snprintf(buf, sizeof buf, "Chips were made for the %zu largest alerts only "
                 "(--max-chips %zu; --max-chips 0 makes them for every alert). ",
                 ctx->chips_written, ctx->max_chips);
    else
        buf[0] = '\0';
    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "Each alert below, largest first, "
             "with every attribute (named as in alerts.gpkg and alerts.csv) and every corner of its outline in order (the last "
             "repeats the first): n, latitude and longitude (WGS 84), grid x and y (the grid "
             "CRS). Ring 1 of each part is its outer edge; further rings are holes (forest "
             "left standing inside the alert).");
    cnp_pdf_para(p, buf, F_REGULAR, 8, MARGIN_X, TEXT_W);
}

void cnp_pdf_alerts(pdf *p, const size_t *order, int geographic)
{
    const cnp_evidence_ctx *ctx = p->ctx;
    const cnp_result *r = ctx->res;
    size_t nwithout = 0;
    for (size_t k = 0; k < r->nalerts; k++) {
        if (cnp_evidence_has_chip(ctx, order[k]))
            alert_pages(p, &r->alerts[order[k]], k + 1, geographic);
        else
            nwithout++;
    }
    if (!nwithout)
        return;
    compact_intro(p, nwithout);
    for (size_t k = 0; k < r->nalerts; k++)
        if (!cnp_evidence_has_chip(ctx, order[k]))
            compact_alert(p, &r->alerts[order[k]], k + 1, geographic);
}

/* ---- --zones --------------------------------------------------------------------- */

/* A zone's alerts as "#rank id (overlap ha)", one paragraph. */
static void zone_alerts(pdf *p, const cnp_zone_groups *g, size_t z, const size_t *rank_of)
{
    const cnp_zone_match *m = &p->ctx->res->zones;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        if (p->st == CNP_OK)
            p->st = cnp_err(CNP_E_NOMEM, "out of memory for report.pdf");
        return;
    }
    for (size_t k = g->start[z]; k < g->start[z + 1]; k++) {
        const cnp_zone_hit *x = &m->hit[g->by[k]];
        fprintf(f, "%s#%zu %s (%.4f)", k > g->start[z] ? ",  " : "", rank_of[x->alert] + 1,
                p->ctx->res->alerts[x->alert].id, x->area_ha);
    }
    if (fclose(f) == 0)
        cnp_pdf_para(p, text, F_MONO, 7, MARGIN_X + 12, TEXT_W - 12);
    free(text);
}

void cnp_pdf_zones(pdf *p, const size_t *order)
{
    const cnp_zone_match *m = &p->ctx->res->zones;
    const size_t n = p->ctx->res->nalerts;
    if (!m->given)
        return;
    cnp_zone_groups g;
    size_t *rank_of = malloc((n + 1) * sizeof *rank_of), empty = 0;
    if (!rank_of || cnp_zone_groups_make(m, &g) != CNP_OK) {
        free(rank_of);
        if (p->st == CNP_OK)
            p->st = cnp_err(CNP_E_NOMEM, "out of memory for report.pdf's zones");
        return;
    }
    for (size_t k = 0; k < n; k++)
        rank_of[order[k]] = k;
    cnp_pdf_new_page(p);
    cnp_pdf_heading(p, "Alerts by zone", 14);
    cnp_pdf_para(p, "Each zone of --zones that alerts overlap, in zones.csv's order: its "
                 "alerts (#number as in the overview's list, id) with the hectares of each "
                 "inside the zone.", F_REGULAR, 8, MARGIN_X, TEXT_W);
    for (size_t z = 0; z < m->nzone; z++) {
        const cnp_zone *zn = &m->zone[z];
        char buf[1200];
        if (!zn->alerts) {
            empty++;
            continue;
        }
        snprintf(buf, sizeof buf, "%.400s: %.400s  \xC2\xB7  %lld alert%s, %.4f ha", zn->layer,
                 zn->name, (long long)zn->alerts, zn->alerts == 1 ? "" : "s", zn->area_ha);
        cnp_pdf_need(p, 30);
        p->y += 4;
        cnp_pdf_para(p, buf, F_BOLD, 9, MARGIN_X, TEXT_W);
        zone_alerts(p, &g, z, rank_of);
    }
    char buf[200];
    snprintf(buf, sizeof buf, "%zu zone%s inside the processed window without alerts (all in "
             "zones.csv; each alert's zones also in its attributes).", empty,
             empty == 1 ? "" : "s");
    p->y += 4;
    cnp_pdf_para(p, buf, F_REGULAR, 8, MARGIN_X, TEXT_W);
    cnp_zone_groups_free(&g);
    free(rank_of);
}
