/* pipeline/outputs/cnp_chips.c - per-alert evidence chips: evidence/<id>/before.png,
 * and after.png, the alerts on all threads (each worker with its own readers). The
 * reports put the two side by side where they show them (report.html,
 * report.pdf, the balloons of alerts.kmz): no third picture is encoded.
 *
 * Conventions (the e2e test relies on them, and each is recorded in the PNG
 * text chunks so a reader can check a chip without this file):
 *
 *  Window   a square of BEFORE pixels around the alert's bounding box: the box
 *           plus a margin of half its longer side (at least 8 px) on every
 *           side, no wider than the scene unless the alert needs it. Zoom: the
 *           largest integer Z with side * Z <= 512, then the side is widened to
 *           512 / Z, so small and mid-size alerts give 481-512 px chips (never
 *           under 256); sides of 513-1024 px are shown 1:1; wider ones are
 *           averaged down by the integer D that brings them to <= 1024 px.
 *           Where the window sticks out of the scene it is shifted back inside,
 *           but never so far that the alert loses its last margin/4 (>= 2)
 *           pixels of context; whatever still lies outside is padded grey and
 *           hatched as unobserved. Text chunk "Window" = "x0 y0 w h zoom" in
 *           BEFORE pixel coordinates (x0, y0 may be negative; w == h); zoom is
 *           "Z" (chip pixels per scene pixel, nearest neighbour: each scene
 *           pixel is a Z x Z block) or "1/D" (D x D scene pixels averaged into
 *           one chip pixel). The image is the top w * Z (or w / D) rows.
 *  Outline  the polygon's boundary, which runs along scene pixel edges, is
 *           drawn 2 px wide and shifted by -0.5 px: with cnp_draw's rule (a
 *           point paints the pixel right of / below it, a 2 px brush extends
 *           right/down) a boundary at chip coordinate X paints columns X-1 and
 *           X, i.e. exactly one chip pixel on each side of the boundary,
 *           whatever the edge's direction (left, right, top, bottom, holes).
 *           Colour 255,230,0, drawn last over the image.
 *  Colours  true colour (red, green, blue) when both scenes have green and blue,
 *           else false colour (NIR, red, green or red) ("Bands" chunk). Each
 *           band is stretched linearly between its 2nd and 98th percentile of
 *           the observed pixels of BOTH windows together, in reflectance
 *           (DN * scale + offset of each date), so the two dates share one
 *           brightness scale ("Stretch" chunk: lo hi for each band in turn).
 *  Hatching unobserved pixels get "/" stripes of colour 0,200,255 (2 px in 8,
 *           anchored at the chip's top-left): pixels the scene's own mask rule
 *           leaves unobserved (a product's QA_PIXEL bits or SCL classes, else
 *           [mask] invalid, grown by the buffer: read through the same reader
 *           as detection) over their imagery; nodata ones (DNs detection would
 *           not use, displayed band nodata or NaN, GDAL mask band 0 such as a
 *           warped AFTER's alpha, outside the scene) over neutral grey
 *           112,112,112. A decimated sample takes its state from the block's
 *           centre pixel and the mean of the block's valid pixels.
 *  Caption  a dark band under the image: scale bar ("Scale-Bar" chunk =
 *           "<metres> m <pixels> px"; 1-2-5 series, 15-35 % of the width; 2.5
 *           only where the series has no fitting value), north arrow, the
 *           date, alert id, area, both dates, the point inside the alert
 *           (where links point; a ring's centroid lies outside it) and a
 *           legend. "True-North" = angle of true north at the centroid,
 *           degrees clockwise from image
 *           up; when it exceeds 1 degree the arrow follows true north and the
 *           note "grid north differs from true north by X.X<degree sign>" is added to the
 *           caption and as "North-Note". Pixel size in metres ("Pixel-Size"):
 *           geotransform x linear units, or the geodesic length of one pixel
 *           along the centroid's parallel for a geographic CRS.
 *  Metadata also Title, Software, Alert-Id, Date-Before, Date-After, Area-ha,
 *           Centroid and Point ("lat lon", WGS84), Run-Id, Source, Description.
 *  Georef   before.png and after.png have a world file (.pgw) and the CRS
 *           (.png.aux.xml) for their window, so GIS software places them.
 *
 * Output bytes depend only on the inputs: integer drawing, exact percentiles,
 * no clocks.
 */
#include "cnp_chips_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cnp_err.h"
#include "cnp_ident.h"
#include "cnp_mapframe.h"

/* ---- one date's reader ---------------------------------------------------- */

cnp_status cnp_chip_src_open(date_src *d, const cnp_scene *sc, const cnp_settings *s,
                           const int bands[3])
{
    memset(d, 0, sizeof *d);
    d->sc = sc;
    cnp_status st = cnp_reader_open(sc, s, &d->rd);
    if (st != CNP_OK)
        return cnp_err(st, "evidence chips: %s", cnp_err_msg());
    for (int b = 0; b < 3; b++) {
        d->band[b] = bands[b];
        d->nd[b] = cnp_reader_band_nodata(d->rd, bands[b], &d->has_nd[b]);
    }
    return CNP_OK;
}

void cnp_chip_src_close(date_src *d)
{
    cnp_reader_close(&d->rd);
    memset(d, 0, sizeof *d);
}

/* ---- chip geometry --------------------------------------------------------- */

/* Shift [*x0, *x0 + side) towards the inside of [0, extent) while keeping at
 * least `keep` pixels between it and the alert's [b0, b1). */
static void shift_inside(int *x0, int side, int extent, int b0, int b1, int keep)
{
    if (*x0 < 0 && *x0 + side < extent) {
        int s = -*x0 < extent - (*x0 + side) ? -*x0 : extent - (*x0 + side);
        if (*x0 + s > b0 - keep)
            s = b0 - keep - *x0;
        if (s > 0)
            *x0 += s;
    } else if (*x0 + side > extent && *x0 > 0) {
        int s = *x0 + side - extent < *x0 ? *x0 + side - extent : *x0;
        if (*x0 + side - s < b1 + keep)
            s = *x0 + side - (b1 + keep);
        if (s > 0)
            *x0 -= s;
    }
}

void cnp_chip_window(const cnp_scene *sc, OGRGeometryH geom, chip_geom *g)
{
    OGREnvelope env;
    OGR_G_GetEnvelope(geom, &env);
    const double ax = (env.MinX - sc->gt[0]) / sc->gt[1], bx = (env.MaxX - sc->gt[0]) / sc->gt[1];
    const double ay = (env.MaxY - sc->gt[3]) / sc->gt[5], by = (env.MinY - sc->gt[3]) / sc->gt[5];
    /* Vertices lie on pixel edges; the epsilon absorbs rounding in the CRS. */
    const int bx0 = (int)floor(fmin(ax, bx) + 1e-6), bx1 = (int)ceil(fmax(ax, bx) - 1e-6);
    const int by0 = (int)floor(fmin(ay, by) + 1e-6), by1 = (int)ceil(fmax(ay, by) - 1e-6);
    const int bw = bx1 > bx0 ? bx1 - bx0 : 1, bh = by1 > by0 ? by1 - by0 : 1;
    const int ext = bw > bh ? bw : bh;
    const int margin = (ext + 1) / 2 > CHIP_MIN_MARGIN ? (ext + 1) / 2 : CHIP_MIN_MARGIN;
    const int keep = margin / 4 > 2 ? margin / 4 : 2;
    /* No wider than the scene (unless the alert and its last context are). */
    const int scene_ext = sc->width > sc->height ? sc->width : sc->height;
    int s0 = ext + 2 * margin;
    if (s0 > scene_ext)
        s0 = scene_ext > ext + 2 * keep ? scene_ext : ext + 2 * keep;

    g->zoom = g->dec = 1;
    if (s0 <= CHIP_TARGET) {
        /* Largest integer zoom that fits the target, then as much context as
         * that zoom allows: the chip is CHIP_TARGET - zoom + 1 .. CHIP_TARGET px,
         * never under 256 (s0 <= 256 gives zoom >= 2 and size > 512 - s0). */
        g->zoom = CHIP_TARGET / s0;
        g->side = CHIP_TARGET / g->zoom;
    } else if (s0 <= CHIP_MAX) {
        g->side = s0;
    } else {
        g->dec = (s0 + CHIP_MAX - 1) / CHIP_MAX;
        g->side = (s0 + g->dec - 1) / g->dec * g->dec;
    }
    g->n = g->side / g->dec;
    g->size = g->n * g->zoom;

    g->x0 = bx0 - (g->side - bw) / 2;
    g->y0 = by0 - (g->side - bh) / 2;
    shift_inside(&g->x0, g->side, sc->width, bx0, bx0 + bw, keep);
    shift_inside(&g->y0, g->side, sc->height, by0, by0 + bh, keep);
}

/* ---- reading a window ------------------------------------------------------ */

static int is_nodata(float v, int has, double nd)
{
    return isnan(v) || (has && (double)v == nd);
}

static cnp_status chunk_reserve(chip_data *cd, size_t n)
{
    if (n <= cd->chunk_cap)
        return CNP_OK;
    float **f[9] = { &cd->red, &cd->nir, &cd->show[0], &cd->show[1], &cd->show[2],
                     &cd->hz[0], &cd->hz[1], &cd->hz[2], &cd->hz[3] };
    for (int i = 0; i < 9; i++) {
        float *p = realloc(*f[i], n * sizeof *p);
        if (!p)
            return cnp_err(CNP_E_NOMEM, "out of memory for a chip");
        *f[i] = p;
    }
    uint8_t *o = realloc(cd->observed, n), *in = o ? realloc(cd->inside, n) : NULL;
    if (o)
        cd->observed = o;
    if (!o || !in)
        return cnp_err(CNP_E_NOMEM, "out of memory for a chip");
    cd->inside = in;
    uint8_t *hf = realloc(cd->hflags, n);
    if (!hf)
        return cnp_err(CNP_E_NOMEM, "out of memory for a chip");
    cd->hflags = hf;
    cd->chunk_cap = n;
    return CNP_OK;
}

/* One sample from the D x D scene pixels at (px, py) of a chunk of width cw:
 * its state from the centre pixel (as a decimating nearest-neighbour read
 * would pick it), its values the mean of the block's valid pixels. */
static void sample(const date_src *d, const chip_data *cd, size_t cw, int px, int py, int D,
                   float out[3], uint8_t *state)
{
    const cnp_date_params *rp = &d->sc->radiometry;
    const size_t c = (size_t)(py + D / 2) * cw + (size_t)(px + D / 2);
    int nodata = !cd->inside[c] || isnan(cnp_ndvi_dn(cd->red[c], cd->nir[c], rp));
    for (int b = 0; b < 3; b++) {
        double sum = 0;
        int n = 0;
        for (int y = py; y < py + D; y++)
            for (int x = px; x < px + D; x++) {
                const float v = cd->show[b][(size_t)y * cw + (size_t)x];
                if (!is_nodata(v, d->has_nd[b], d->nd[b])) {
                    sum += v;
                    n++;
                }
            }
        nodata |= is_nodata(cd->show[b][c], d->has_nd[b], d->nd[b]);
        out[b] = n ? (float)(sum / n * rp->scale + rp->offset) : 0.0f;
    }
    *state = nodata ? NODATA : !cd->observed[c] ? MASKED : OBSERVED;
}

/* Fill val[k][*] and state[k] for one date. Samples that are not wholly
 * inside the scene stay NODATA. Scene rows are read in chunks of at least
 * 256 rows (the reader reads a mask halo around each). */
static cnp_status read_date(const date_src *d, const chip_geom *g, chip_data *cd, int k,
                            const cnp_result *haze)
{
    const size_t nn = (size_t)g->n * (size_t)g->n;
    const int W = d->sc->width, H = d->sc->height, D = g->dec;
    /* In-scene samples: [r0, r2) x [r1, r3). */
    int r[4];
    r[0] = g->x0 < 0 ? (-g->x0 + D - 1) / D : 0;
    r[1] = g->y0 < 0 ? (-g->y0 + D - 1) / D : 0;
    r[2] = W - g->x0 >= 0 ? (W - g->x0) / D : 0;
    r[3] = H - g->y0 >= 0 ? (H - g->y0) / D : 0;
    if (r[2] > g->n) r[2] = g->n;
    if (r[3] > g->n) r[3] = g->n;

    memset(cd->state[k], NODATA, nn);
    for (int b = 0; b < 3; b++)
        memset(cd->val[k][b], 0, nn * sizeof(float));
    if (r[2] <= r[0] || r[3] <= r[1])
        return CNP_OK;

    const int x0 = g->x0 + r[0] * D, cw = (r[2] - r[0]) * D;
    const int rows = 256 / D > 0 ? 256 / D : 1;          /* sample rows a chunk */
    cnp_status st;
    for (int j0 = r[1]; j0 < r[3]; j0 += rows) {
        const int j1 = j0 + rows < r[3] ? j0 + rows : r[3];
        const int y0 = g->y0 + j0 * D, ch = (j1 - j0) * D;
        if ((st = chunk_reserve(cd, (size_t)cw * (size_t)ch)) != CNP_OK ||
            (st = cnp_reader_read_ex(d->rd, x0, y0, cw, ch, cd->red, cd->nir, cd->observed,
                                     cd->inside)) != CNP_OK)
            return cnp_err(st, "evidence chips: %s", cnp_err_msg());
        if (haze && (st = cnp_chips_haze(d->rd, d->sc, haze, cd, x0, y0, cw, ch)) != CNP_OK)
            return st;
        for (int b = 0; b < 3; b++)
            if ((st = cnp_reader_read_band(d->rd, d->band[b], x0, y0, cw, ch, cd->show[b])) !=
                CNP_OK)
                return cnp_err(st, "evidence chips: %s", cnp_err_msg());
        for (int j = j0; j < j1; j++)
            for (int i = r[0]; i < r[2]; i++) {
                const size_t at = (size_t)j * (size_t)g->n + (size_t)i;
                float v[3];
                sample(d, cd, (size_t)cw, (i - r[0]) * D, (j - j0) * D, D, v, &cd->state[k][at]);
                for (int b = 0; b < 3; b++)
                    cd->val[k][b][at] = v[b];
            }
    }
    return CNP_OK;
}

/* 2nd-98th percentile per band over the observed samples of both dates; the
 * masked ones when nothing is observed; 0..1 when nothing has data. */
static cnp_status shared_stretch(const chip_data *cd, size_t nn, float lo[3], float hi[3])
{
    for (int b = 0; b < 3; b++) {
        size_t m = 0;
        for (int want = OBSERVED; want <= MASKED && m == 0; want++)
            for (int k = 0; k < 2; k++)
                for (size_t i = 0; i < nn; i++)
                    if (cd->state[k][i] == want)
                        cd->pool[m++] = cd->val[k][b][i];
        lo[b] = 0.0f;
        hi[b] = 1.0f;
        if (m == 0)
            continue;
        const cnp_status st =
            cnp_percentiles(cd->pool, m, 2.0, 98.0, cd->scratch, &lo[b], &hi[b]);
        if (st == CNP_E_NOMEM)
            return cnp_err(st, "out of memory for a chip's stretch");
        if (st != CNP_OK) {          /* every value NaN or infinite */
            lo[b] = 0.0f;
            hi[b] = 1.0f;
        }
    }
    return CNP_OK;
}

/* ---- scale, north ---------------------------------------------------------- */

typedef struct chip_frame {
    double pixel_m;        /* metres per scene pixel along x              */
    double convergence;    /* degrees, true north clockwise from image up */
    int    have_conv;
} chip_frame;

static void grid_convergence(const cnp_scene *sc, OGRCoordinateTransformationH ct,
                             const cnp_alert *a, chip_frame *f)
{
    f->have_conv = cnp_map_convergence(sc->gt, ct, a->centroid_lon, a->centroid_lat,
                                       &f->convergence);
}

/* ---- writing ------------------------------------------------------------------ */

static cnp_status write_png(const char *path, const cnp_rgb8 *img, const cnp_png_text *t,
                            size_t nt, int zoom)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return cnp_err(CNP_E_IO, "evidence chips: path too long: %s", path);
    /* A zoomed chip shows each scene row as `zoom` equal rows; 1:1 and
     * averaged chips are imagery. */
    cnp_status st = cnp_png_write_rgb_as(tmp, img, t, nt,
                                         zoom > 1 ? CNP_PNG_ZOOMED : CNP_PNG_IMAGERY);
    if (st != CNP_OK)
        return st;
    if (rename(tmp, path) != 0) {
        st = cnp_err(CNP_E_IO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        remove(tmp);
    }
    return st;
}

static void lat_lon_text(char *buf, size_t size, double lat, double lon)
{
    snprintf(buf, size, "%.5f\xC2\xB0%c %.5f\xC2\xB0%c", fabs(lat), lat < 0 ? 'S' : 'N',
             fabs(lon), lon < 0 ? 'W' : 'E');
}

static const char *date_or(const cnp_scene *sc) { return sc->date[0] ? sc->date : "unknown"; }

/* One alert's chips on their way: the window, its samples, the frame, the
 * captions and the two images. */
typedef struct chip_job {
    const run_info *ri;
    const cnp_alert *a;
    chip_geom  g;
    chip_data  cd;
    chip_frame fr;
    caption    cap[2];
    float      lo[3], hi[3];
    double     bar_m;
    int        bar_px, note;
    char       note_txt[96];
    int        W, H;
    size_t     stride;
    uint8_t   *px[2], *hatch, *rgb;
    cnp_rgb8   img[2];
} chip_job;

static void job_free(chip_job *j)
{
    chip_data *cd = &j->cd;
    for (int k = 0; k < 2; k++) {
        free(cd->state[k]);
        for (int b = 0; b < 3; b++)
            free(cd->val[k][b]);
        free(j->px[k]);
    }
    free(cd->red);
    free(cd->nir);
    for (int b = 0; b < 3; b++)
        free(cd->show[b]);
    free(cd->observed);
    free(cd->inside);
    for (int b = 0; b < 4; b++)
        free(cd->hz[b]);
    free(cd->hflags);
    free(cd->pool);
    free(cd->scratch);
    free(j->hatch);
    free(j->rgb);
}

/* The window of both dates, read and stretched alike. */
static cnp_status job_read(chip_job *j, const date_src src[2])
{
    const cnp_scene *sc = j->ri->ctx->scene[0];
    chip_data *cd = &j->cd;
    cnp_status st;
    cnp_chip_window(sc, j->a->geom, &j->g);
    const size_t nn = (size_t)j->g.n * (size_t)j->g.n;
    for (int k = 0; k < 2; k++) {
        cd->state[k] = malloc(nn);
        for (int b = 0; b < 3; b++)
            cd->val[k][b] = malloc(nn * sizeof(float));
    }
    cd->pool = malloc(2 * nn * sizeof(float));
    cd->scratch = malloc(2 * nn * sizeof(float));
    int ok = cd->pool && cd->scratch;
    for (int k = 0; k < 2; k++)
        for (int b = 0; b < 3; b++)
            ok = ok && cd->state[k] && cd->val[k][b];
    if (!ok)
        return cnp_err(CNP_E_NOMEM, "out of memory for the chip of alert %s", j->a->id);
    for (int k = 0; k < 2; k++)
        if ((st = read_date(&src[k], &j->g, cd, k,
                            k == 1 && j->ri->ctx->res->haze_used ? j->ri->ctx->res : NULL)) != CNP_OK)
            return st;
    return shared_stretch(cd, nn, j->lo, j->hi);
}

/* Scale bar, north and the captions; both get the larger height (*cap_h)
 * so before and after stay the same size. */
static cnp_status job_captions(chip_job *j, int *cap_h)
{
    const cnp_evidence_ctx *ctx = j->ri->ctx;
    const cnp_scene *sc = ctx->scene[0];
    const cnp_alert *a = j->a;
    const chip_geom *g = &j->g;
    const cnp_status st = cnp_map_pixel_metres(sc, j->ri->srs, a->centroid_y, &j->fr.pixel_m);
    if (st != CNP_OK)
        return cnp_err(st, "evidence chips: %s", cnp_err_msg());
    grid_convergence(sc, j->ri->to_scene, a, &j->fr);
    const double chip_px_m = j->fr.pixel_m * (g->dec > 1 ? (double)g->dec : 1.0 / g->zoom);
    j->bar_m = cnp_scale_bar_metres(chip_px_m * g->size);
    j->bar_px = (int)lround(j->bar_m / chip_px_m);
    j->note = j->fr.have_conv && fabs(j->fr.convergence) > NOTE_MIN_DEG;
    if (j->note)
        snprintf(j->note_txt, sizeof j->note_txt,
                 "grid north differs from true north by %.1f\xC2\xB0", fabs(j->fr.convergence));

    char ll[64], area[32], dates[64];
    lat_lon_text(ll, sizeof ll, a->point_lat, a->point_lon);
    snprintf(area, sizeof area, "%.2f ha", a->area_ha);
    snprintf(dates, sizeof dates, "%s -> %s", date_or(ctx->scene[0]), date_or(ctx->scene[1]));
    *cap_h = 0;
    for (int k = 0; k < 2; k++) {
        caption *c = &j->cap[k];
        memset(c, 0, sizeof *c);
        c->ts = g->size >= 400 ? 2 : 1;
        c->bar_px = j->bar_px;
        c->arrow_deg = j->note ? j->fr.convergence : 0.0;
        cnp_format_metres(c->bar_label, sizeof c->bar_label, j->bar_m);
        const int avail = g->size - 2 * pad_px(c->ts) - arrow_col(c->ts);
        char t[200];
        snprintf(t, sizeof t, "%s %s", k == 0 ? "BEFORE" : "AFTER", date_or(ctx->scene[k]));
        cnp_chip_add_wrapped(c, t, avail);
        snprintf(t, sizeof t, "Alert %s  %s", a->id, area);
        cnp_chip_add_wrapped(c, t, avail);
        cnp_chip_add_wrapped(c, dates, avail);
        cnp_chip_add_wrapped(c, ll, avail);
        if (j->note)
            cnp_chip_add_balanced(c, j->note_txt, g->size - 2 * pad_px(c->ts));
        const int h = cnp_chip_caption_height(c);
        if (h > *cap_h)
            *cap_h = h;
    }
    return CNP_OK;
}

/* Both dates' images: window, outline, caption. */
static cnp_status job_draw(chip_job *j, int cap_h)
{
    const cnp_scene *sc = j->ri->ctx->scene[0];
    double *xy = NULL;
    size_t xy_cap = 0;
    cnp_status st = CNP_OK;
    j->W = j->g.size;
    j->H = j->g.size + cap_h;
    j->stride = (size_t)j->W * 3;
    j->px[0] = malloc(j->stride * (size_t)j->H);
    j->px[1] = malloc(j->stride * (size_t)j->H);
    j->hatch = malloc((size_t)j->W * (size_t)j->W);
    j->rgb = malloc((size_t)j->g.n * (size_t)j->g.n * 3);
    if (!j->px[0] || !j->px[1] || !j->hatch || !j->rgb)
        return cnp_err(CNP_E_NOMEM, "out of memory for the chip of alert %s", j->a->id);
    for (int k = 0; k < 2 && st == CNP_OK; k++) {
        j->img[k] = (cnp_rgb8){ j->px[k], j->W, j->H, (ptrdiff_t)j->stride };
        cnp_chip_render_image(&j->img[k], &j->g, &j->cd, k, j->lo, j->hi, j->hatch, j->rgb);
        cnp_rgb8 view = { j->px[k], j->W, j->W, (ptrdiff_t)j->stride };
        st = cnp_chip_draw_outline(&view, j->a->geom, sc, &j->g, &xy, &xy_cap);
        if (st == CNP_OK)
            cnp_chip_draw_caption(&j->img[k], j->W, &j->cap[k]);
    }
    free(xy);
    return st;
}

/* The text chunks every PNG of the alert carries (see the head of this file). */
typedef struct chip_text {
    char software[128], area[32], cent[64], point[64], window[96], stretch[256], scale[64];
    char pix[48], conv[32], title[2][128], src[2][4200];
    const char *desc;
} chip_text;

static void job_text(const chip_job *j, chip_text *x)
{
    const cnp_evidence_ctx *ctx = j->ri->ctx;
    const cnp_alert *a = j->a;
    const chip_geom *g = &j->g;
    snprintf(x->software, sizeof x->software, "canopy %s", ctx->program_version);
    snprintf(x->area, sizeof x->area, "%.4f", a->area_ha);
    snprintf(x->cent, sizeof x->cent, "%.7f %.7f", a->centroid_lat, a->centroid_lon);
    snprintf(x->point, sizeof x->point, "%.7f %.7f", a->point_lat, a->point_lon);
    if (g->dec > 1)
        snprintf(x->window, sizeof x->window, "%d %d %d %d 1/%d", g->x0, g->y0, g->side,
                 g->side, g->dec);
    else
        snprintf(x->window, sizeof x->window, "%d %d %d %d %d", g->x0, g->y0, g->side,
                 g->side, g->zoom);
    snprintf(x->stretch, sizeof x->stretch, "%.9g %.9g %.9g %.9g %.9g %.9g", (double)j->lo[0],
             (double)j->hi[0], (double)j->lo[1], (double)j->hi[1], (double)j->lo[2],
             (double)j->hi[2]);
    snprintf(x->scale, sizeof x->scale, "%.15g m %d px", j->bar_m, j->bar_px);
    snprintf(x->pix, sizeof x->pix, "%.6f m", j->fr.pixel_m);
    if (j->fr.have_conv)
        snprintf(x->conv, sizeof x->conv, "%.3f deg", j->fr.convergence);
    else
        snprintf(x->conv, sizeof x->conv, "unknown");
    static const char *const role[2] = { "BEFORE", "AFTER" };
    for (int k = 0; k < 2; k++)
        snprintf(x->title[k], sizeof x->title[k], "Canopy evidence: alert %s, %s", a->id,
                 role[k]);
    x->desc = j->ri->true_colour
        ? "True colour (red, green, blue), 2-98 % stretch shared by both dates. Yellow: alert "
          "outline, one chip pixel each side of the boundary. Cyan hatching: not observed "
          "(cloud, shadow, nodata or outside the scene)."
        : "False colour (NIR, red, green): vegetation red. 2-98 % stretch shared by both dates. "
          "Yellow: alert outline, one chip pixel each side of the boundary. Cyan hatching: not "
          "observed (cloud, shadow, nodata or outside the scene).";
    /* Input paths as given may be in any encoding; PNG text is UTF-8. */
    for (int k = 0; k < 2; k++)
        cnp_ident_printable(x->src[k], sizeof x->src[k], ctx->scene[k]->path);
}

/* PNG k (before.png, after.png) of the alert into `path`, georeferenced. */
static cnp_status job_write(const chip_job *j, const chip_text *x, int k, const char *path)
{
    const cnp_evidence_ctx *ctx = j->ri->ctx;
    const cnp_scene *sc = ctx->scene[0];
    const chip_geom *g = &j->g;
    cnp_png_text t[24];
    size_t nt = 0;
#define ADD(kk, v) (t[nt].key = (kk), t[nt].value = (v), nt++)
    ADD("Title", x->title[k]);
    ADD("Software", x->software);
    ADD("Alert-Id", j->a->id);
    ADD("Date-Before", ctx->scene[0]->date);
    ADD("Date-After", ctx->scene[1]->date);
    ADD("Area-ha", x->area);
    ADD("Centroid", x->cent);
    ADD("Point", x->point);
    ADD("Run-Id", ctx->run_id);
    ADD("Source", x->src[k]);
    ADD("Window", x->window);
    ADD("Bands", j->ri->band_names);
    ADD("Stretch", x->stretch);
    ADD("Pixel-Size", x->pix);
    ADD("Scale-Bar", x->scale);
    ADD("True-North", x->conv);
    if (j->note)
        ADD("North-Note", j->note_txt);
    ADD("Description", x->desc);
#undef ADD
    /* GDAL and QGIS place the chips on their window (their image part; the
     * caption hangs below it). */
    const double *sg = sc->gt, f = g->dec > 1 ? (double)g->dec : 1.0 / g->zoom;
    const double cgt[6] = { sg[0] + g->x0 * sg[1] + g->y0 * sg[2], f * sg[1], f * sg[2],
                            sg[3] + g->x0 * sg[4] + g->y0 * sg[5], f * sg[4], f * sg[5] };
    cnp_status st = write_png(path, &j->img[k], t, nt, g->zoom);
    return st == CNP_OK ? cnp_map_georef(path, cgt, sc->wkt) : st;
}

/* Both PNGs of one alert. */
cnp_status cnp_chip_write(const char *dir, const run_info *ri, const date_src src[2],
                             const cnp_alert *a)
{
    chip_job j;
    memset(&j, 0, sizeof j);
    j.ri = ri;
    j.a = a;
    int cap_h = 0;
    cnp_status st = job_read(&j, src);
    if (st == CNP_OK)
        st = job_captions(&j, &cap_h);
    if (st == CNP_OK)
        st = job_draw(&j, cap_h);
    chip_text *x = st == CNP_OK ? malloc(sizeof *x) : NULL;
    if (st == CNP_OK && !x)
        st = cnp_err(CNP_E_NOMEM, "out of memory for the chip of alert %s", a->id);
    if (x)
        job_text(&j, x);
    static const char *const name[2] = { "before.png", "after.png" };
    for (int k = 0; k < 2 && st == CNP_OK; k++) {
        char path[4200];
        if (snprintf(path, sizeof path, "%s/evidence/%s/%s", dir, a->id, name[k]) >=
            (int)sizeof path)
            st = cnp_err(CNP_E_IO, "evidence chips: path too long under '%s'", dir);
        else
            st = job_write(&j, x, k, path);
    }
    free(x);
    job_free(&j);
    return st;
}
