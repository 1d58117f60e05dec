/* pipeline/outputs/cnp_evidence_text.c - the attributes and the run's facts as
 * every evidence writer states them (see cnp_evidence_text.h). */
#include "cnp_evidence_text.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>
#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_srs_api.h>
#include <png.h>
#include <proj.h>

#include "cnp_err.h"
#include "cnp_gdal.h"
#include "cnp_product.h"
#include "cnp_confidence.h"
#include "cnp_ident.h"

const cnp_attr_def cnp_attrs[CNP_NATTRS] = {
    { "id", CNP_ATTR_STR, 0, "Alert id", "string" },
    { "area_ha", CNP_ATTR_REAL, 4, "Area (ha)", "double" },
    { "pixels", CNP_ATTR_INT, 0, "Pixels", "int" },
    { "mean_dndvi", CNP_ATTR_REAL, 4, "Mean NDVI change", "double" },
    { "min_dndvi", CNP_ATTR_REAL, 4, "Strongest NDVI change", "double" },
    { "mean_ndvi_before", CNP_ATTR_REAL, 4, "Mean NDVI before", "double" },
    { "mean_ndvi_after", CNP_ATTR_REAL, 4, "Mean NDVI after", "double" },
    { "confidence", CNP_ATTR_STR, 0, "Confidence", "string" },
    { "confidence_score", CNP_ATTR_REAL, 2, "Confidence score (0-1)", "double" },
    { "centroid_lon", CNP_ATTR_REAL, 7, "Centroid longitude (WGS84)", "double" },
    { "centroid_lat", CNP_ATTR_REAL, 7, "Centroid latitude (WGS84)", "double" },
    { "point_lon", CNP_ATTR_REAL, 7, "Point inside, longitude (WGS84)", "double" },
    { "point_lat", CNP_ATTR_REAL, 7, "Point inside, latitude (WGS84)", "double" },
    { "date_before", CNP_ATTR_STR, 0, "Date before", "string" },
    { "date_after", CNP_ATTR_STR, 0, "Date after", "string" },
    { "before", CNP_ATTR_STR, 0, "Before scene", "string" },
    { "after", CNP_ATTR_STR, 0, "After scene", "string" },
    { "partially_observed", CNP_ATTR_INT, 0, "Borders unobserved area (1 = yes)", "int" },
    { "zones", CNP_ATTR_STR, 0, "Zones (name:overlap ha)", "string" },
};

int cnp_attr_shown(const cnp_evidence_ctx *ctx, int k)
{
    return k < CNP_NATTRS - 1 || ctx->res->zones.given;
}

cnp_attr_val cnp_attr_get(const cnp_evidence_ctx *ctx, const cnp_alert *a, int k)
{
    const cnp_scene *b = ctx->scene[0], *f = ctx->scene[1];
    cnp_attr_val v = { NULL, 0, 0 };
    switch (k) {
    case 0: v.s = a->id; break;
    case 1: v.d = a->area_ha; break;
    case 2: v.i = a->pixels; break;
    case 3: v.d = a->mean_dndvi; break;
    case 4: v.d = a->min_dndvi; break;
    case 5: v.d = a->mean_ndvi_before; break;
    case 6: v.d = a->mean_ndvi_after; break;
    case 7: v.s = cnp_confidence_name(a->confidence); break;
    case 8: v.d = a->confidence_score; break;
    case 9: v.d = a->centroid_lon; break;
    case 10: v.d = a->centroid_lat; break;
    case 11: v.d = a->point_lon; break;
    case 12: v.d = a->point_lat; break;
    case 13: v.s = b->date[0] ? b->date : NULL; break;
    case 14: v.s = f->date[0] ? f->date : NULL; break;
    case 15: v.s = cnp_path_base(b->path); break;
    case 16: v.s = cnp_path_base(f->path); break;
    case 17: v.i = a->partially_observed; break;
    case 18: v.s = ctx->res->zones.given ? ctx->res->zones.text[a - ctx->res->alerts] : NULL; break;
    default: break;
    }
    return v;
}

const char *cnp_attr_text(const cnp_evidence_ctx *ctx, const cnp_alert *a, int k, char *buf,
                          size_t size)
{
    const cnp_attr_val v = cnp_attr_get(ctx, a, k);
    switch (cnp_attrs[k].kind) {
    case CNP_ATTR_STR: return v.s;
    case CNP_ATTR_REAL: snprintf(buf, size, "%.*f", cnp_attrs[k].decimals, v.d); return buf;
    case CNP_ATTR_INT: snprintf(buf, size, "%lld", (long long)v.i); return buf;
    }
    return NULL;
}

int cnp_evidence_has_chip(const cnp_evidence_ctx *ctx, size_t i)
{
    return ctx->has_chip && ctx->has_chip[i];
}

int cnp_evidence_png_size(const char *path, int *w, int *h)
{
    unsigned char b[24];
    FILE *f = fopen(path, "rb");
    *w = *h = 0;
    if (!f)
        return 0;
    const size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n != sizeof b || memcmp(b, "\x89PNG\r\n\x1a\n", 8) != 0 || memcmp(b + 12, "IHDR", 4))
        return 0;
    *w = (int)((uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19]);
    *h = (int)((uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23]);
    return *w > 0 && *h > 0;
}

cnp_status cnp_evidence_put_data_uri(FILE *f, const char *path)
{
    FILE *in = fopen(path, "rb");
    if (!in)
        return cnp_err(CNP_E_IO, "cannot read '%s' to put it in the report: %s", path,
                       strerror(errno));
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0, n;
    cnp_status st = CNP_OK;
    do {
        if (len + 65536 > cap) {
            unsigned char *p = realloc(buf, cap = 2 * cap + 65536);
            if (!p) {
                st = cnp_err(CNP_E_NOMEM, "out of memory reading '%s'", path);
                break;
            }
            buf = p;
        }
        n = fread(buf + len, 1, cap - len, in);
        len += n;
    } while (n > 0);
    if (st == CNP_OK && ferror(in))
        st = cnp_err(CNP_E_IO, "cannot read '%s': %s", path, strerror(errno));
    fclose(in);
    if (st == CNP_OK && len > (size_t)1 << 30)
        st = cnp_err(CNP_E_DATA, "'%s' is too large to put in the report", path);
    if (st == CNP_OK) {
        char *b64 = CPLBase64Encode((int)len, buf);
        if (!b64) {
            st = cnp_err(CNP_E_NOMEM, "out of memory encoding '%s'", path);
        } else {
            fputs("data:image/png;base64,", f);
            fputs(b64, f);
            CPLFree(b64);
        }
    }
    free(buf);
    return st;
}

void cnp_evidence_osm_href(FILE *f, double lat, double lon)
{
    fprintf(f, "https://www.openstreetmap.org/?mlat=%.7f&amp;mlon=%.7f#map=16/%.7f/%.7f", lat, lon,
            lat, lon);
}

/* ---- the run in sentences --------------------------------------------------- */

#define ADD(arr, n, ...) \
    do { if ((n) < sizeof(arr) / sizeof(arr)[0]) snprintf((arr)[(n)++], sizeof(arr)[0], __VA_ARGS__); } while (0)

static int is_sentinel2(const cnp_scene *sc)
{
    const cnp_product *p = sc->product;
    return p && (strncmp(p->family, "sentinel2", 9) == 0 || strstr(p->sensor, "Sentinel-2") ||
                 strncmp(p->id, "S2", 2) == 0);
}

static int is_landsat(const cnp_scene *sc)
{
    const cnp_product *p = sc->product;
    return p && (strncmp(p->family, "landsat", 7) == 0 || strncasecmp(p->sensor, "LANDSAT", 7) == 0 ||
                 strncmp(p->id, "LC0", 3) == 0 || strncmp(p->id, "LE0", 3) == 0 ||
                 strncmp(p->id, "LT0", 3) == 0);
}

static void credits(const cnp_evidence_ctx *ctx, cnp_evidence_facts *f)
{
    const cnp_scene *b = ctx->scene[0], *a = ctx->scene[1];
    /* Copernicus' licence wants the year(s) of the data. */
    if (is_sentinel2(b) || is_sentinel2(a)) {
        char years[32] = "";
        const char *yb = is_sentinel2(b) && b->date[0] ? b->date : NULL;
        const char *ya = is_sentinel2(a) && a->date[0] ? a->date : NULL;
        if (yb && ya && strncmp(yb, ya, 4) != 0)
            snprintf(years, sizeof years, " %.4s, %.4s", yb, ya);
        else if (yb || ya)
            snprintf(years, sizeof years, " %.4s", yb ? yb : ya);
        ADD(f->credits, f->ncredits, "Contains modified Copernicus Sentinel data%s.", years);
    }
    if (is_landsat(b) || is_landsat(a))
        ADD(f->credits, f->ncredits, "Landsat image courtesy of the U.S. Geological Survey.");
    for (int k = 0; k < 2; k++) {
        const cnp_scene *sc = ctx->scene[k];
        if (!is_sentinel2(sc) && !is_landsat(sc))
            ADD(f->credits, f->ncredits, "%s image %s: not a product Canopy recognises; credit "
                "its provider as its licence requires.", k ? "AFTER" : "BEFORE",
                cnp_path_base(sc->path));
    }
}

static void method(const cnp_evidence_ctx *ctx, cnp_evidence_facts *f)
{
    const cnp_settings *s = ctx->settings;
    const cnp_result *r = ctx->res;
    char crs[sizeof f->crs];
    memcpy(crs, f->crs, sizeof crs);
    ADD(f->method, f->nmethod,
        "Two scenes of the same place are compared pixel by pixel on one grid (%s). For each "
        "date the normalised difference vegetation index NDVI = (NIR - red) / (NIR + red) is "
        "computed from surface or top-of-atmosphere reflectance (DN x scale + offset, as each "
        "product's metadata states).", crs);
    const char *rule_b = cnp_scene_mask_rule(ctx->scene[0]);
    const char *rule_a = cnp_scene_mask_rule(ctx->scene[1]);
    ADD(f->method, f->nmethod,
        "A pixel is compared only where both dates observe it: not nodata, not saturated, and "
        "not flagged by the mask as each date was read (BEFORE: %.200s; AFTER: %.200s); clouds "
        "and shadows are grown by %g m because their edges leak.",
        rule_b ? rule_b : "no mask, only nodata", rule_a ? rule_a : "no mask, only nodata",
        s->mask_buffer_m);
    ADD(f->method, f->nmethod,
        "A pixel was forest when its NDVI before was at least %g, and is lost when its NDVI "
        "fell by at least %g. Lost pixels that touch (%d-connected) form one candidate; "
        "candidates of at least %g ha on the WGS 84 ellipsoid (about %lld pixels of %.2f m2 or "
        "more) are alerts. An alert's confidence score (0 to 1) weighs how far its mean "
        "drop passes the threshold (0.40), whether NDVI and the SWIR index agree on its "
        "pixels (0.25), how well the normalisation was supported where it lies (0.15) and "
        "how many clear observations stand behind BEFORE (0.20); 0.70 or more is high, "
        "0.45 or more medium.",
        s->forest_ndvi, s->ndvi_drop, s->connectivity, s->min_area_ha, (long long)r->min_pixels,
        r->pixel_area_m2);
    if (r->norm.mode == CNP_NORMALIZE_OFF || !r->norm.block)
        ADD(f->method, f->nmethod,
            "The NDVI drop is the raw difference of the two dates (no normalisation).");
    else
        ADD(f->method, f->nmethod,
            "Two dates differ in sensor, sun angle and haze, which shifts the NDVI of unchanged "
            "forest; the drop is therefore measured against the median change of stable forest "
            "%s (the correction subtracted ranged from %.3f to %.3f, median %.3f; run.json, "
            "\"normalization\", gives it per block of about %d pixels).",
            r->norm.mode == CNP_NORMALIZE_SCENE ? "in the whole scene"
                                                : "within about 1.5 km of each pixel",
            r->norm.min, r->norm.max, r->norm.median, r->norm.block_px);
    ADD(f->method, f->nmethod,
        "Outlines follow the edges of the lost pixels in the grid's CRS; areas are geodesic "
        "(on the WGS 84 ellipsoid). An alert's point, used for map links and coordinates, is "
        "the centre of one of its own pixels chosen well inside it: the centroid of a ring- "
        "or L-shaped clearing lies outside it. Vertex coordinates are the pixel corners.");
}

/* The co-registration of the dates: what was measured and done. */
static void coreg_limit(const cnp_result *r, cnp_evidence_facts *f)
{
    const cnp_coreg_summary *c = &r->coreg;
    if (!c->measured)
        ADD(f->limits, f->nlimits,
            "The shift between the two dates was not measured (co-registration off): a "
            "shift of a pixel makes forest edges look like loss.");
    else if (!c->ok)
        ADD(f->limits, f->nlimits,
            "The shift between the two dates could not be measured (too few textured "
            "blocks agreed: %lld of %lld); AFTER was used as it is.",
            (long long)c->used, (long long)c->blocks);
    else if (c->applied)
        ADD(f->limits, f->nlimits,
            "AFTER was shifted against BEFORE by %.2f, %.2f pixels (measured by phase "
            "correlation on %lld blocks) and was resampled (bilinear) onto BEFORE's pixels "
            "before comparing; run.json, \"coregistration\", gives the figures.",
            c->dx, c->dy, (long long)c->used);
    else
        ADD(f->limits, f->nlimits,
            "The shift between the two dates was measured by phase correlation on %lld "
            "blocks: %.2f, %.2f pixels, %s.", (long long)c->used, c->dx, c->dy,
            c->beyond ? "more than co-registration corrects; it was not corrected, and "
                        "edges may show as loss" : "too small to correct");
}

static void limits(const cnp_evidence_ctx *ctx, cnp_evidence_facts *f)
{
    const cnp_result *r = ctx->res;
    const cnp_scene *b = ctx->scene[0], *a = ctx->scene[1];
    const double total = (double)(r->observed_pixels + r->unobserved_pixels);
    ADD(f->limits, f->nlimits,
        "Loss where either date is cloudy, shadowed, masked or without data cannot be seen: "
        "%.1f %% of the area (%.2f ha) was not observed in both dates. No alert there does not "
        "mean no loss.", total > 0 ? 100.0 * (double)r->unobserved_pixels / total : 0.0,
        r->unobserved_area_ha);
    ADD(f->limits, f->nlimits,
        "The loss happened between the two acquisitions (%s and %s), not on a known day.",
        b->date[0] ? b->date : "date unknown", a->date[0] ? a->date : "date unknown");
    ADD(f->limits, f->nlimits,
        "An NDVI drop has other causes than clearing: harvest of crops or plantations, fire, "
        "flooding, drought and seasonal change. Each alert should be looked at (the images "
        "here) and, for a case, confirmed in the field or on finer imagery.");
    ADD(f->limits, f->nlimits,
        "Clearings smaller than %g ha and thinning that lowers NDVI by less than %g "
        "(selective logging, degradation) are not reported.",
        ctx->settings->min_area_ha, ctx->settings->ndvi_drop);
    coreg_limit(r, f);
    ADD(f->limits, f->nlimits,
        "Positions are as accurate as the inputs' geolocation: Canopy does not correct it. "
        "The inputs' metadata as read states no geolocation accuracy; for Landsat "
        "Collection 2 see GEOMETRIC_RMSE_MODEL in the MTL, for Sentinel-2 the product's "
        "geometric quality report.");
    if (a->warped)
        ADD(f->limits, f->nlimits,
            "The AFTER scene was resampled onto the BEFORE grid (nearest neighbour), which can "
            "move an edge by up to half a pixel.");
}

cnp_status cnp_evidence_facts_get(const cnp_evidence_ctx *ctx, cnp_evidence_facts *f)
{
    const cnp_scene *b = ctx->scene[0];
    memset(f, 0, sizeof *f);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(b->wkt);
    if (!srs)
        return cnp_err(CNP_E_DATA, "cannot read the CRS of '%s'", b->path);
    const char *name = OSRGetName(srs);
    const char *auth = OSRGetAuthorityName(srs, NULL), *code = OSRGetAuthorityCode(srs, NULL);
    if (auth && code)
        snprintf(f->crs, sizeof f->crs, "%s (%s:%s)", name ? name : "unnamed CRS", auth, code);
    else
        snprintf(f->crs, sizeof f->crs, "%s (no EPSG code)", name ? name : "unnamed CRS");
    char *unit = NULL;
    if (OSRIsGeographic(srs)) {
        snprintf(f->pixel, sizeof f->pixel, "%.9g x %.9g degrees", fabs(b->gt[1]), fabs(b->gt[5]));
    } else {
        OSRGetLinearUnits(srs, &unit);
        snprintf(f->pixel, sizeof f->pixel, "%.9g x %.9g %s", fabs(b->gt[1]), fabs(b->gt[5]),
                 unit && strcmp(unit, "metre") == 0 ? "m" : unit ? unit : "units");
    }
    OSRDestroySpatialReference(srs);
    const int *w = ctx->res->window;
    snprintf(f->window, sizeof f->window, "%d x %d pixels from column %d, row %d of BEFORE's grid "
             "(about %.2f ha)", w[2], w[3], w[0], w[1],
             (double)w[2] * w[3] * ctx->res->pixel_area_m2 / 1e4);
    credits(ctx, f);
    method(ctx, f);
    limits(ctx, f);
    ADD(f->software, f->nsoftware, "canopy %s", ctx->program_version ? ctx->program_version : "unknown");
    ADD(f->software, f->nsoftware, "GDAL %s", GDALVersionInfo("RELEASE_NAME"));
    ADD(f->software, f->nsoftware, "PROJ %d.%d.%d", PROJ_VERSION_MAJOR, PROJ_VERSION_MINOR,
        PROJ_VERSION_PATCH);
    ADD(f->software, f->nsoftware, "libpng %s", png_get_libpng_ver(NULL));
    ADD(f->software, f->nsoftware, "cairo %s", cairo_version_string());
    return CNP_OK;
}

cnp_status cnp_zone_groups_make(const cnp_zone_match *m, cnp_zone_groups *g)
{
    g->by = malloc((m->nhit + 1) * sizeof *g->by);
    g->start = calloc(m->nzone + 1, sizeof *g->start);
    if (!g->by || !g->start) {
        cnp_zone_groups_free(g);
        return cnp_err(CNP_E_NOMEM, "out of memory grouping %zu alerts by zone", m->nhit);
    }
    /* A counting sort: the hits come by alert, and stay so within a zone. */
    for (size_t h = 0; h < m->nhit; h++)
        g->start[m->hit[h].zone + 1]++;
    for (size_t z = 0; z < m->nzone; z++)
        g->start[z + 1] += g->start[z];
    for (size_t h = 0; h < m->nhit; h++)
        g->by[g->start[m->hit[h].zone]++] = h;
    for (size_t z = m->nzone; z > 0; z--)    /* each start went to its zone's end */
        g->start[z] = g->start[z - 1];
    g->start[0] = 0;
    return CNP_OK;
}

void cnp_zone_groups_free(cnp_zone_groups *g)
{
    free(g->by);
    free(g->start);
    g->by = g->start = NULL;
}
