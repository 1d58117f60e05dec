/* pipeline/run/cnp_info.c - `canopy info`: one input, described. */
#include "cnp_info.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gdal.h>
#include <ogr_srs_api.h>

#include "cnp_err.h"
#include "cnp_ident.h"
#include "cnp_json.h"
#include "cnp_product.h"
#include "cnp_raster.h"

typedef struct crs_info {
    char name[256];
    char epsg[32];        /* "EPSG:32620" or ""           */
    char unit[32];        /* "metre", "degree"            */
} crs_info;

static void describe_crs(const char *wkt, crs_info *ci)
{
    memset(ci, 0, sizeof *ci);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(wkt);
    if (!srs)
        return;
    const char *name = OSRGetName(srs);
    snprintf(ci->name, sizeof ci->name, "%s", name ? name : "unnamed");
    const char *node = OSRIsProjected(srs) ? "PROJCS" : "GEOGCS";
    if (OSRAutoIdentifyEPSG(srs) == OGRERR_NONE || OSRGetAuthorityCode(srs, node)) {
        const char *auth = OSRGetAuthorityName(srs, node), *code = OSRGetAuthorityCode(srs, node);
        if (auth && code)
            snprintf(ci->epsg, sizeof ci->epsg, "%s:%s", auth, code);
    }
    char *unit = NULL;
    if (OSRIsProjected(srs))
        OSRGetLinearUnits(srs, &unit);
    else
        OSRGetAngularUnits(srs, &unit);
    snprintf(ci->unit, sizeof ci->unit, "%s", unit ? unit : "");
    OSRDestroySpatialReference(srs);
}

/* Observed pixels as detect sees them: the mask (decoded, buffered), GDAL's
 * mask band and the red/NIR nodata values, read in strips. */
static cnp_status count_observed(const cnp_scene *sc, const cnp_settings *s, int64_t *obs,
                                 int64_t *total)
{
    cnp_reader *rd = NULL;
    cnp_status st = cnp_reader_open(sc, s, &rd);
    if (st != CNP_OK)
        return st;
    const int rows = 64, w = sc->width;
    float *red = malloc((size_t)w * rows * sizeof *red);
    float *nir = malloc((size_t)w * rows * sizeof *nir);
    uint8_t *ok = malloc((size_t)w * rows);
    *obs = 0;
    *total = (int64_t)sc->width * sc->height;
    if (!red || !nir || !ok)
        st = cnp_err(CNP_E_NOMEM, "out of memory");
    const cnp_date_params *r = &sc->radiometry;
    for (int y = 0; st == CNP_OK && y < sc->height; y += rows) {
        const int h = sc->height - y < rows ? sc->height - y : rows;
        if ((st = cnp_reader_read(rd, 0, y, w, h, red, nir, ok)) != CNP_OK)
            break;
        for (size_t i = 0; i < (size_t)w * h; i++)
            *obs += ok[i] && !(r->has_nodata_red && red[i] == r->nodata_red) &&
                    !(r->has_nodata_nir && nir[i] == r->nodata_nir) && !isnan(red[i]) &&
                    !isnan(nir[i]);
    }
    free(red);
    free(nir);
    free(ok);
    cnp_reader_close(&rd);
    return st;
}

static const char *role_name(int b)
{
    static const char *const n[CNP_NBANDS] = { "red", "nir", "green", "blue", "swir2" };
    return n[b];
}

/* Long: `canopy info` prints one report, field by field, in text or JSON. */
cnp_status cnp_info_run(const char *path, const cnp_settings *s, const cnp_info_layers *layers,
                        int json, FILE *out)
{
    cnp_scene sc;
    cnp_status st = cnp_scene_open(&sc, "input", path, NULL, s, "");
    if (st != CNP_OK) {
        cnp_scene_free(&sc);
        return st;
    }
    int64_t nobs = 0, ntot = 0;
    if ((st = count_observed(&sc, s, &nobs, &ntot)) != CNP_OK) {
        cnp_scene_free(&sc);
        return st;
    }
    const cnp_product *p = sc.product;
    crs_info ci;
    describe_crs(sc.wkt, &ci);
    const double share = ntot ? (double)nobs / (double)ntot : 0;
    const char *band_path[CNP_NBANDS];
    int band_index[CNP_NBANDS];
    const int stack[CNP_NBANDS] = { sc.red, sc.nir, sc.green, sc.blue, sc.swir2 };
    for (int b = 0; b < CNP_NBANDS; b++) {
        band_path[b] = p ? p->band[b].path : (stack[b] > 0 ? path : NULL);
        band_index[b] = p ? p->band[b].index : stack[b];
    }
    char rule[600];
    if (p && sc.mask_path)
        snprintf(rule, sizeof rule, "%s", p->mask_text);
    else
        snprintf(rule, sizeof rule, "none (nodata values and GDAL's mask only)");
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    char driver[64] = "GDAL raster";
    if (ds) {
        snprintf(driver, sizeof driver, "GDAL raster (%s)",
                 GDALGetDriverShortName(GDALGetDatasetDriver(ds)));
        GDALClose(ds);
    }

    if (json) {
        cnp_json j;
        cnp_json_begin(&j, out);
        cnp_json_str(&j, "path", path);
        cnp_json_str(&j, "family", p ? p->family : "raster");
        cnp_json_str(&j, "title", p ? p->title : driver);
        cnp_json_str(&j, "profile", p ? p->profile : NULL);
        cnp_json_str(&j, "layout", p ? p->layout : "raster file");
        cnp_json_str(&j, "sensor", p && p->sensor[0] ? p->sensor : NULL);
        cnp_json_str(&j, "date", sc.date[0] ? sc.date : NULL);
        cnp_json_str(&j, "date_source", sc.date_source);
        cnp_json_str(&j, "id", p && p->id[0] ? p->id : NULL);
        cnp_json_str(&j, "footprint", p && p->footprint[0] ? p->footprint : NULL);
        cnp_json_str(&j, "processing_baseline", p && p->baseline[0] ? p->baseline : NULL);
        cnp_json_object(&j, "grid");
        cnp_json_int(&j, "width", sc.width);
        cnp_json_int(&j, "height", sc.height);
        cnp_json_num(&j, "pixel_x", sc.gt[1]);
        cnp_json_num(&j, "pixel_y", -sc.gt[5]);
        cnp_json_num(&j, "pixel_m", sc.pixel_m);
        cnp_json_str(&j, "crs", ci.name);
        cnp_json_str(&j, "epsg", ci.epsg[0] ? ci.epsg : NULL);
        cnp_json_array(&j, "geotransform");
        for (int i = 0; i < 6; i++)
            cnp_json_num(&j, NULL, sc.gt[i]);
        cnp_json_close(&j, ']');
        cnp_json_close(&j, '}');
        cnp_json_object(&j, "bands");
        for (int b = 0; b < CNP_NBANDS; b++) {
            if (!band_path[b] || band_index[b] <= 0) {
                cnp_json_str(&j, role_name(b), NULL);
                continue;
            }
            cnp_json_object(&j, role_name(b));
            cnp_json_str(&j, "file", band_path[b]);
            cnp_json_int(&j, "band", band_index[b]);
            if (p)
                cnp_json_str(&j, "name", p->band[b].name);
            cnp_json_close(&j, '}');
        }
        cnp_json_close(&j, '}');
        cnp_json_num(&j, "scale", sc.radiometry.scale);
        cnp_json_num(&j, "offset", sc.radiometry.offset);
        /* NIR with its own gain (Landsat Level-1): the product's values. */
        cnp_json_num(&j, "nir_scale", sc.nir_rescale ? p->band[CNP_BAND_NIR].scale
                                                     : sc.radiometry.scale);
        cnp_json_num(&j, "nir_offset", sc.nir_rescale ? p->band[CNP_BAND_NIR].offset
                                                      : sc.radiometry.offset);
        cnp_json_str(&j, "scale_source", p && p->scale_source[0] && strcmp(sc.scale_source,
                     "metadata") == 0 ? p->scale_source : sc.scale_source);
        if (sc.radiometry.has_nodata_red)
            cnp_json_num(&j, "nodata", sc.radiometry.nodata_red);
        else
            cnp_json_str(&j, "nodata", NULL);
        cnp_json_object(&j, "mask");
        cnp_json_str(&j, "file", sc.mask_path);
        cnp_json_str(&j, "layer", p && sc.mask_path ? p->mask_name : NULL);
        cnp_json_str(&j, "rule", rule);
        cnp_json_num(&j, "buffer_m", s->mask_buffer_m);
        cnp_json_int(&j, "buffer_px", sc.mask_buffer_px);
        cnp_json_str(&j, "buffer_shape", s->mask_buffer_square ? "square" : "disk");
        cnp_json_close(&j, '}');
        cnp_json_int(&j, "observed_pixels", nobs);
        cnp_json_int(&j, "total_pixels", ntot);
        cnp_json_num(&j, "observed_share", share);
        cnp_json_array(&j, "files");
        for (size_t i = 0; p && i < p->nfiles; i++) {
            cnp_json_object(&j, NULL);
            cnp_json_str(&j, "role", p->files[i].role);
            cnp_json_str(&j, "path", p->files[i].path);
            cnp_json_close(&j, '}');
        }
        cnp_json_close(&j, ']');
        st = cnp_info_layers_run(layers, &sc, &j, out);
        cnp_json_end(&j);
    } else {
        /* Each line through cnp_ident_term_line: the values come from
         * metadata and file names, and this goes to a terminal. */
        cnp_ident_term_line(out, "path:       %s", path);
        if (p) {
            cnp_ident_term_line(out, "family:     %s (%s), %s", p->family, p->title, p->layout);
            cnp_ident_term_line(out, "profile:    %s", p->profile);
            cnp_ident_term_line(out, "sensor:     %s", p->sensor[0] ? p->sensor : "unknown");
            cnp_ident_term_line(out, "id:         %s", p->id[0] ? p->id : "unknown");
            cnp_ident_term_line(out, "footprint:  %s",
                                p->footprint[0] ? p->footprint : "unknown");
            if (p->baseline[0])
                cnp_ident_term_line(out, "baseline:   %s", p->baseline);
        } else {
            cnp_ident_term_line(out, "family:     raster (%s; bands and mask by options)",
                                driver);
        }
        cnp_ident_term_line(out, "date:       %s (%s)", sc.date[0] ? sc.date : "unknown",
                            sc.date_source ? sc.date_source : "none");
        cnp_ident_term_line(out, "grid:       %d x %d pixels of %.6g x %.6g %s, %s%s%s%s",
                            sc.width, sc.height, sc.gt[1], -sc.gt[5], ci.unit, ci.name,
                            ci.epsg[0] ? " (" : "", ci.epsg, ci.epsg[0] ? ")" : "");
        for (int b = 0; b < CNP_NBANDS; b++) {
            static const char *const labels[CNP_NBANDS] = { "red:", "nir:", "green:", "blue:",
                                                             "swir2:" };
            const char *role = labels[b];
            if (!band_path[b] || band_index[b] <= 0)
                cnp_ident_term_line(out, "%-11s none", role);
            else
                cnp_ident_term_line(out, "%-11s %s (band %d%s%s)", role, band_path[b],
                                    band_index[b], p ? ", " : "", p ? p->band[b].name : "");
        }
        cnp_ident_term_line(out, "scale:      %.10g, offset %.10g (reflectance = DN x scale + "
                            "offset; from %s)", sc.radiometry.scale, sc.radiometry.offset,
                            p && p->scale_source[0] && strcmp(sc.scale_source, "metadata") == 0
                                ? p->scale_source : sc.scale_source);
        if (sc.nir_rescale)
            cnp_ident_term_line(out, "nir scale:  %.10g, offset %.10g (its own, from the same "
                                "metadata)", p->band[CNP_BAND_NIR].scale,
                                p->band[CNP_BAND_NIR].offset);
        if (sc.radiometry.has_nodata_red)
            cnp_ident_term_line(out, "nodata:     %.10g", sc.radiometry.nodata_red);
        cnp_ident_term_line(out, "mask:       %s", sc.mask_path ? sc.mask_path : "none");
        cnp_ident_term_line(out, "mask rule:  %s", rule);
        cnp_ident_term_line(out, "buffer:     %g m = %d pixel(s), %s", s->mask_buffer_m,
                            sc.mask_buffer_px, s->mask_buffer_square ? "square" : "disk");
        cnp_ident_term_line(out, "observed:   %.2f%% (%lld of %lld pixels)", 100.0 * share,
                            (long long)nobs, (long long)ntot);
        for (size_t i = 0; p && i < p->nfiles; i++)
            cnp_ident_term_line(out, "file:       %s %s", p->files[i].role, p->files[i].path);
        st = cnp_info_layers_run(layers, &sc, NULL, out);
    }
    cnp_scene_free(&sc);
    return st;
}
