/* pipeline/outputs/cnp_chips_draw.c - drawing an evidence chip: the window's
 * image (stretched colour, grey nodata, hatched unobserved pixels), the
 * alert's outline and the caption band (conventions: cnp_chips.c).
 */
#include "cnp_chips_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_err.h"

/* ---- drawing ----------------------------------------------------------------- */




/* Greedy word wrap of s into cap->lines, each at most `avail` px wide (a
 * single word wider than that gets a line of its own). */
void cnp_chip_add_wrapped(caption *cap, const char *s, int avail)
{
    enum { L = sizeof cap->lines[0] };
    char line[L];
    size_t len = 0;
    const char *p = s;
    while (*p && cap->nlines < 8) {
        while (*p == ' ')
            p++;
        const char *q = p;
        while (*q && *q != ' ')
            q++;
        size_t wl = (size_t)(q - p);
        if (wl == 0)
            break;
        if (wl > L - 2)
            wl = L - 2;
        char trial[2 * L];
        size_t tl = len;
        memcpy(trial, line, len);
        if (len)
            trial[tl++] = ' ';
        memcpy(trial + tl, p, wl);
        tl += wl;
        trial[tl] = '\0';
        if (len && (tl >= L || cnp_text_width(trial, cap->ts) > avail)) {
            memcpy(cap->lines[cap->nlines], line, len);
            cap->lines[cap->nlines++][len] = '\0';
            memcpy(line, p, wl);
            len = wl;
        } else {
            memcpy(line, trial, tl);
            len = tl;
        }
        p = q;
    }
    if (len && cap->nlines < 8) {
        memcpy(cap->lines[cap->nlines], line, len);
        cap->lines[cap->nlines++][len] = '\0';
    }
}

/* Like cnp_chip_add_wrapped(), with the words spread evenly over the lines it
 * needs ("a b c d" / "e f" rather than "a b c d e" / "f"). */
void cnp_chip_add_balanced(caption *cap, const char *s, int avail)
{
    const int tw = cnp_text_width(s, cap->ts);
    const int need = avail > 0 ? (tw + avail - 1) / avail : 1;
    if (need > 1) {
        for (int w = tw / need; w < avail; w += 3 * cap->ts) {
            caption trial = *cap;
            cnp_chip_add_wrapped(&trial, s, w);
            if (trial.nlines - cap->nlines <= need) {
                *cap = trial;
                return;
            }
        }
    }
    cnp_chip_add_wrapped(cap, s, avail);
}


int cnp_chip_caption_height(const caption *cap)
{
    const int ts = cap->ts;
    const int text = bar_row_h(ts) + (cap->nlines + 1) * line_h(ts);   /* + legend */
    const int arrow = 2 * cnp_text_height(ts) + 24 * ts;
    return 2 * pad_px(ts) + (text > arrow ? text : arrow);
}

void cnp_chip_draw_caption(cnp_rgb8 *img, int top, const caption *cap)
{
    const int ts = cap->ts, pad = pad_px(ts);
    cnp_draw_rect_fill(img, 0, top, img->width, img->height - top, C_BAND);

    cnp_draw_scale_bar(img, pad, top + pad + ts, cap->bar_px, cap->bar_label, C_BAR, C_TEXT, ts);

    int y = top + pad + bar_row_h(ts);
    for (int i = 0; i < cap->nlines; i++, y += line_h(ts))
        cnp_draw_text(img, pad, y, cap->lines[i], i == 0 ? C_TITLE : C_TEXT, ts);

    /* Legend: the outline's colour and a hatched swatch, as drawn above. */
    const int th = cnp_text_height(ts), sw = 12 * ts, sh = th - ts;
    int x = pad;
    cnp_draw_line(img, x, y + th / 2 - 1.5, x + sw, y + th / 2 - 1.5, C_OUTLINE, 2);
    x += sw + 4 * ts;
    cnp_draw_text(img, x, y, "alert", C_TEXT, ts);
    x += cnp_text_width("alert", ts) + 8 * ts;
    cnp_draw_rect_fill(img, x, y, sw, sh, C_PAD);
    uint8_t ones[32 * 32];
    memset(ones, 1, sizeof ones);
    if (sw <= 32 && sh <= 32 && x + sw <= img->width && y + sh <= img->height) {
        cnp_rgb8 swatch = { img->px + (size_t)y * (size_t)img->stride + (size_t)x * 3, sw, sh,
                            img->stride };
        cnp_draw_mask_overlay(&swatch, ones, 32, C_HATCH, 1.0, HATCH_PERIOD, HATCH_WIDTH);
    }
    x += sw + 4 * ts;
    cnp_draw_text(img, x, y, "not observed", C_TEXT, ts);

    const double cx = img->width - pad - arrow_col(ts) / 2.0;
    const double cy = top + pad + cnp_text_height(ts) + 14.0 * ts;
    cnp_draw_north_arrow(img, cx, cy, cap->arrow_deg, C_TEXT, ts);
}

/* Outline of every ring of the alert, in chip pixels (see the file header). */
cnp_status cnp_chip_draw_outline(cnp_rgb8 *view, OGRGeometryH multi, const cnp_scene *sc,
                                 const chip_geom *g, double **xy, size_t *cap)
{
    const double f = g->dec > 1 ? 1.0 / g->dec : (double)g->zoom;
    /* A MultiPolygon as promised, but a bare Polygon is drawn too. */
    const int single = wkbFlatten(OGR_G_GetGeometryType(multi)) == wkbPolygon;
    const int np = single ? 1 : OGR_G_GetGeometryCount(multi);
    for (int p = 0; p < np; p++) {
        OGRGeometryH poly = single ? multi : OGR_G_GetGeometryRef(multi, p);
        for (int r = 0; r < OGR_G_GetGeometryCount(poly); r++) {
            OGRGeometryH ring = OGR_G_GetGeometryRef(poly, r);
            const int n = OGR_G_GetPointCount(ring);
            if (n <= 0)
                continue;
            if ((size_t)n * 2 > *cap) {
                double *q = realloc(*xy, (size_t)n * 2 * sizeof *q);
                if (!q)
                    return cnp_err(CNP_E_NOMEM, "out of memory for an alert outline");
                *xy = q;
                *cap = (size_t)n * 2;
            }
            for (int i = 0; i < n; i++) {
                const double px = (OGR_G_GetX(ring, i) - sc->gt[0]) / sc->gt[1] - g->x0;
                const double py = (OGR_G_GetY(ring, i) - sc->gt[3]) / sc->gt[5] - g->y0;
                (*xy)[2 * i] = px * f - 0.5;
                (*xy)[2 * i + 1] = py * f - 0.5;
            }
            cnp_draw_polyline(view, *xy, (size_t)n, C_OUTLINE, 2);
        }
    }
    return CNP_OK;
}

/* Image part of one date's chip: imagery (or grey where there is no data)
 * and the hatching of unobserved pixels; `hatch` is scratch of size^2 bytes,
 * `rgb` of 3 n^2 (each sample is stretched once, then drawn zoom^2 times). */
void cnp_chip_render_image(cnp_rgb8 *img, const chip_geom *g, const chip_data *cd, int k,
                           const float lo[3], const float hi[3], uint8_t *hatch, uint8_t *rgb)
{
    const int z = g->zoom, S = g->size;
    const size_t nn = (size_t)g->n * (size_t)g->n;
    for (size_t i = 0; i < nn; i++) {
        if (cd->state[k][i] == NODATA) {
            rgb[3 * i] = C_PAD.r;
            rgb[3 * i + 1] = C_PAD.g;
            rgb[3 * i + 2] = C_PAD.b;
        } else {
            for (int b = 0; b < 3; b++)
                rgb[3 * i + b] = cnp_stretch_u8(cd->val[k][b][i], lo[b], hi[b]);
        }
    }
    for (int y = 0; y < S; y++) {
        uint8_t *row = img->px + (size_t)y * (size_t)img->stride;
        uint8_t *hrow = hatch + (size_t)y * (size_t)S;
        const size_t base = (size_t)(y / z) * (size_t)g->n;
        for (int x = 0; x < S; x++) {
            const size_t i = base + (size_t)(x / z);
            memcpy(row + 3 * x, rgb + 3 * i, 3);
            hrow[x] = cd->state[k][i] != OBSERVED;
        }
    }
    cnp_rgb8 view = { img->px, S, S, img->stride };
    cnp_draw_mask_overlay(&view, hatch, S, C_HATCH, 1.0, HATCH_PERIOD, HATCH_WIDTH);
}

