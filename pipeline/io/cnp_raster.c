/* pipeline/io/cnp_raster.c - input scenes: opened with their product's rules
 * (GDAL). Put on a common grid: cnp_grid.c; their per-thread readers:
 * cnp_reader.c. */
#include "cnp_raster.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_vrt.h>

#include "cnp_err.h"
#include "cnp_gdal.h"
#include "cnp_product.h"
#include "cnp_raster_int.h"
#include "cnp_raster_shift.h"

static char *dup_str(const char *s) { return s ? strdup(s) : NULL; }

GDALDatasetH cnp_raster_open(const char *path)
{
    cnp_err_gdal_reset();
    return GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                      NULL, NULL, NULL);
}

/* A date from the raster's metadata: the first of the usual items that parses. */
static const char *find_date(GDALDatasetH ds, char out[CNP_DATE_LEN])
{
    static const char *const items[] = { "ACQUISITION_DATE", "DATE_ACQUIRED",
                                         "SENSING_TIME", "datetime", "TIFFTAG_DATETIME" };
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        const char *v = GDALGetMetadataItem(ds, items[i], NULL);
        int y, m, d;
        /* TIFFTAG_DATETIME is "YYYY:MM:DD HH:MM:SS"; the others ISO 8601. */
        if (v && (sscanf(v, "%4d-%2d-%2d", &y, &m, &d) == 3 ||
                  sscanf(v, "%4d:%2d:%2d", &y, &m, &d) == 3) &&
            y >= 1950 && y <= 2200 && m >= 1 && m <= 12 && d >= 1 && d <= 31) {
            snprintf(out, CNP_DATE_LEN, "%04d-%02d-%02d", y, m, d);
            return items[i];
        }
    }
    out[0] = '\0';
    return NULL;
}

static double type_max(GDALDataType t)
{
    switch (t) {
    case GDT_Byte:   return 255.0;
    case GDT_UInt16: return 65535.0;
    case GDT_Int16:  return 32767.0;
    case GDT_UInt32: return 4294967295.0;
    case GDT_Int32:  return 2147483647.0;
    default:         return INFINITY;
    }
}

void cnp_scene_set_buffer(cnp_scene *sc)
{
    sc->pixel_m = cnp_grid_pixel_metres(sc->wkt, sc->gt, sc->height);
    sc->mask_buffer_px = sc->settings ? cnp_mask_radius_px(sc->settings->mask_buffer_m,
                                                           sc->pixel_m) : 0;
}

cnp_status cnp_scene_own_vsimem(cnp_scene *sc, const char *path)
{
    const int max = (int)(sizeof sc->vsimem / sizeof sc->vsimem[0]);
    if (sc->nvsimem >= max)
        return cnp_err(CNP_E_ARG, "too many temporary files for one scene");
    if (!(sc->vsimem[sc->nvsimem] = strdup(path)))
        return cnp_err(CNP_E_NOMEM, "out of memory");
    sc->nvsimem++;
    return CNP_OK;
}

void cnp_scene_vsimem_name(const cnp_scene *sc, const char *what, char *out, size_t size)
{
    snprintf(out, size, "/vsimem/canopy-%ld-%p-%d-%s.vrt", (long)getpid(), (const void *)sc,
             sc->nvsimem, what);
}

/* ---- products: bands stacked in a VRT, the mask on the red band's grid --- */

/* Put the mask file `mpath` on grid `g`: the file itself when already on it,
 * a nearest-neighbour VRT when its pixels are whole multiples aligned with
 * the grid (Sentinel-2 SCL 20 m on 10 m), else a nearest-neighbour warp. */
static cnp_status mask_onto(cnp_scene *sc, const char *mpath, const cnp_grid_def *g)
{
    GDALDatasetH mds = cnp_raster_open(mpath), vrt = NULL;
    cnp_status st = CNP_OK;
    double mgt[6];
    char vpath[200];

    if (!mds)
        return cnp_err(CNP_E_IO, "%s mask '%s': cannot open: %s", sc->role, mpath,
                       cnp_err_gdal_reason());
    const int mw = GDALGetRasterXSize(mds), mh = GDALGetRasterYSize(mds);
    const char *mwkt = GDALGetProjectionRef(mds);
    if (GDALGetGeoTransform(mds, mgt) != CE_None || !mwkt || !*mwkt) {
        st = cnp_err(CNP_E_DATA, "%s mask '%s': not georeferenced", sc->role, mpath);
        goto done;
    }
    if (mw == g->width && mh == g->height && cnp_grid_same_gt(mgt, g->gt, 1e-6) &&
        cnp_grid_same_crs(mwkt, g->wkt)) {
        free(sc->mask_read_path);
        sc->mask_read_path = strdup(mpath);
        st = sc->mask_read_path ? CNP_OK : cnp_err(CNP_E_NOMEM, "out of memory");
        goto done;
    }
    const double fx = (mgt[0] - g->gt[0]) / g->gt[1], fy = (mgt[3] - g->gt[3]) / g->gt[5];
    const double fw = mw * mgt[1] / g->gt[1], fh = mh * mgt[5] / g->gt[5];
    const int whole = fabs(fx - round(fx)) < 1e-6 && fabs(fy - round(fy)) < 1e-6 &&
                      fabs(fw - round(fw)) < 1e-6 && fabs(fh - round(fh)) < 1e-6 && fw >= 1 &&
                      fh >= 1 && mgt[2] == 0 && mgt[4] == 0 && fw < INT_MAX && fh < INT_MAX &&
                      fabs(fx) < INT_MAX && fabs(fy) < INT_MAX;
    cnp_scene_vsimem_name(sc, "mask", vpath, sizeof vpath);
    if (whole && cnp_grid_same_crs(mwkt, g->wkt)) {
        GDALRasterBandH mb = GDALGetRasterBand(mds, 1);
        cnp_err_gdal_reset();
        vrt = GDALCreate(GDALGetDriverByName("VRT"), vpath, g->width, g->height, 1,
                         GDALGetRasterDataType(mb), NULL);
        if (!vrt) {
            st = cnp_err(CNP_E_IO, "%s mask '%s': cannot build a VRT: %s", sc->role, mpath,
                         cnp_err_gdal_reason());
            goto done;
        }
        GDALSetProjection(vrt, g->wkt);
        double vgt[6];
        memcpy(vgt, g->gt, sizeof vgt);
        GDALSetGeoTransform(vrt, vgt);
        GDALRasterBandH vb = GDALGetRasterBand(vrt, 1);
        int has = 0;
        const double nd = GDALGetRasterNoDataValue(mb, &has);
        if (has)
            GDALSetRasterNoDataValue(vb, nd);
        VRTAddSimpleSource((VRTSourcedRasterBandH)vb, mb, 0, 0, mw, mh, (int)round(fx),
                           (int)round(fy), (int)round(fw), (int)round(fh), "near",
                           VRT_NODATA_UNSET);
        GDALClose(vrt);
        vrt = NULL;
    } else {
        if ((st = cnp_grid_warp(mpath, g, "near", 0, vpath)) != CNP_OK)
            goto done;
    }
    if ((st = cnp_scene_own_vsimem(sc, vpath)) != CNP_OK)
        goto done;
    free(sc->mask_read_path);
    sc->mask_read_path = strdup(vpath);
    if (!sc->mask_read_path)
        st = cnp_err(CNP_E_NOMEM, "out of memory");

done:
    if (mds)
        GDALClose(mds);
    return st;
}

/* The product's red, NIR (green, blue) files as one VRT: bands 1, 2, (3, 4). */
static cnp_status build_stack(cnp_scene *sc, const char *user_mask)
{
    const cnp_product *p = sc->product;
    GDALDatasetH src[CNP_NBANDS] = { NULL };
    GDALDatasetH vrt = NULL;
    cnp_status st = CNP_OK;
    double gt[6] = { 0 };
    int w = 0, h = 0, n = 0, *slot[CNP_NBANDS] = { &sc->red, &sc->nir, &sc->green, &sc->blue,
                                                    &sc->swir2 };
    char vpath[200];
    static const char *const names[CNP_NBANDS] = { "red", "NIR", "green", "blue", "SWIR2" };
    int coarse[CNP_NBANDS] = { 0 };   /* an optional band on a coarser grid */

    for (int b = 0; b < CNP_NBANDS; b++) {
        const cnp_product_band *pb = &p->band[b];
        double bgt[6];
        if (!pb->path)
            continue;
        src[b] = cnp_raster_open(pb->path);
        if (!src[b] && b >= CNP_BAND_GREEN)
            continue;               /* pictures only: do without it */
        if (!src[b]) {
            st = cnp_err(CNP_E_IO, "%s product '%s': cannot open its %s band '%s': %s", sc->role,
                         sc->path, names[b], pb->path, cnp_err_gdal_reason());
            goto done;
        }
        if (pb->index > GDALGetRasterCount(src[b]) ||
            GDALGetGeoTransform(src[b], bgt) != CE_None) {
            st = cnp_err(CNP_E_DATA, "%s product '%s': %s band '%s' has no band %d or no "
                         "geotransform", sc->role, sc->path, names[b], pb->path, pb->index);
            goto done;
        }
        if (b == CNP_BAND_RED) {
            w = GDALGetRasterXSize(src[b]);
            h = GDALGetRasterYSize(src[b]);
            memcpy(gt, bgt, sizeof gt);
        } else if (GDALGetRasterXSize(src[b]) != w || GDALGetRasterYSize(src[b]) != h ||
                   !cnp_grid_same_gt(bgt, gt, 1e-6)) {
            /* SWIR2 of a coarser grid over the same extent (Sentinel-2's
             * 20 m B12 beside its 10 m red) is resampled onto red's grid. */
            const double ew = GDALGetRasterXSize(src[b]) * bgt[1] - w * gt[1];
            const double eh = GDALGetRasterYSize(src[b]) * bgt[5] - h * gt[5];
            if (b == CNP_BAND_SWIR2 && fabs(bgt[0] - gt[0]) < 1e-6 * fabs(gt[1]) + 1e-9 &&
                fabs(bgt[3] - gt[3]) < 1e-6 * fabs(gt[5]) + 1e-9 && fabs(ew) < fabs(gt[1]) &&
                fabs(eh) < fabs(gt[5]) && bgt[2] == 0 && bgt[4] == 0 && gt[2] == 0 && gt[4] == 0) {
                coarse[b] = 1;
                continue;
            }
            if (b >= CNP_BAND_GREEN) {      /* pictures only: drop it */
                GDALClose(src[b]);
                src[b] = NULL;
                continue;
            }
            st = cnp_err(CNP_E_DATA, "%s product '%s': the %s band '%s' is not on the red "
                         "band's grid (%dx%d pixels of %g; red: %dx%d of %g)", sc->role, sc->path,
                         names[b], pb->path, GDALGetRasterXSize(src[b]),
                         GDALGetRasterYSize(src[b]), bgt[1], w, h, gt[1]);
            goto done;
        }
    }

    cnp_scene_vsimem_name(sc, "stack", vpath, sizeof vpath);
    cnp_err_gdal_reset();
    vrt = GDALCreate(GDALGetDriverByName("VRT"), vpath, w, h, 0, GDT_Byte, NULL);
    if (!vrt) {
        st = cnp_err(CNP_E_IO, "%s product '%s': cannot build a VRT: %s", sc->role, sc->path,
                     cnp_err_gdal_reason());
        goto done;
    }
    GDALSetProjection(vrt, GDALGetProjectionRef(src[CNP_BAND_RED]));
    GDALSetGeoTransform(vrt, gt);
    for (int b = 0; b < CNP_NBANDS; b++) {
        if (!src[b])
            continue;
        GDALRasterBandH sb = GDALGetRasterBand(src[b], p->band[b].index);
        if (GDALAddBand(vrt, GDALGetRasterDataType(sb), NULL) != CE_None) {
            st = cnp_err(CNP_E_IO, "%s product '%s': cannot build a VRT: %s", sc->role,
                         sc->path, cnp_err_gdal_reason());
            goto done;
        }
        GDALRasterBandH vb = GDALGetRasterBand(vrt, ++n);
        int has = 0;
        double nd = GDALGetRasterNoDataValue(sb, &has);
        if (!has && p->has_nodata) {
            nd = p->nodata;
            has = 1;
        }
        if (has)
            GDALSetRasterNoDataValue(vb, nd);
        if (coarse[b])
            VRTAddSimpleSource((VRTSourcedRasterBandH)vb, sb, 0, 0, GDALGetRasterXSize(src[b]),
                               GDALGetRasterYSize(src[b]), 0, 0, w, h, "bilinear",
                               VRT_NODATA_UNSET);
        else
            VRTAddSimpleSource((VRTSourcedRasterBandH)vb, sb, 0, 0, w, h, 0, 0, w, h, NULL,
                               VRT_NODATA_UNSET);
        *slot[b] = n;
    }
    GDALClose(vrt);
    vrt = NULL;
    if ((st = cnp_scene_own_vsimem(sc, vpath)) != CNP_OK)
        goto done;
    free(sc->read_path);
    if (!(sc->read_path = strdup(vpath))) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
        goto done;
    }

    /* The quality layer onto the red band's grid, unless the user gave a mask. */
    if (!user_mask && p->mask_path) {
        const cnp_grid_def g = { GDALGetProjectionRef(src[CNP_BAND_RED]), { gt[0], gt[1], gt[2],
                             gt[3], gt[4], gt[5] }, w, h };
        sc->mask_path = strdup(p->mask_path);
        sc->mask_src_path = strdup(p->mask_path);
        if (!sc->mask_path || !sc->mask_src_path) {
            st = cnp_err(CNP_E_NOMEM, "out of memory");
            goto done;
        }
        if ((st = mask_onto(sc, p->mask_path, &g)) != CNP_OK)
            goto done;
        sc->mask_rule = p->mask;
    }

done:
    if (vrt)
        GDALClose(vrt);
    for (int b = 0; b < CNP_NBANDS; b++)
        if (src[b])
            GDALClose(src[b]);
    return st;
}

static int is_fill(const cnp_product *p, uint16_t v)
{
    return p->fill_bits ? (v & p->fill_bits) != 0 : (int)v == p->fill_value;
}

/* A product whose quality layer says "fill" everywhere has no data at all:
 * refuse it by name rather than with "nothing observed" after the run. */
static cnp_status check_not_all_fill(const cnp_scene *sc)
{
    const cnp_product *p = sc->product;
    if (!p || !p->mask_path || !sc->mask_read_path || (!p->fill_bits && p->fill_value < 0) ||
        strcmp(sc->mask_src_path ? sc->mask_src_path : "", p->mask_path) != 0)
        return CNP_OK;
    GDALDatasetH ds = cnp_raster_open(sc->mask_read_path);
    if (!ds)
        return cnp_err(CNP_E_IO, "%s mask '%s': cannot open: %s", sc->role, sc->mask_path,
                       cnp_err_gdal_reason());
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    const int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
    int any = 0, failed = 0;
    /* A nearest-neighbour sample first, every row only when it is all fill. */
    const int ow = w < 512 ? w : 512, oh = h < 512 ? h : 512;
    uint16_t *buf = malloc((size_t)(ow > w ? ow : w) * (size_t)(oh > 64 ? oh : 64) *
                           sizeof *buf);
    if (!buf) {
        GDALClose(ds);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    if (GDALRasterIO(b, GF_Read, 0, 0, w, h, buf, ow, oh, GDT_UInt16, 0, 0) != CE_None)
        failed = 1;
    for (size_t i = 0; !failed && i < (size_t)ow * (size_t)oh && !any; i++)
        any = !is_fill(p, buf[i]);
    for (int y = 0; !failed && !any && y < h; y += 64) {
        const int rows = h - y < 64 ? h - y : 64;
        if (GDALRasterIO(b, GF_Read, 0, y, w, rows, buf, w, rows, GDT_UInt16, 0, 0) != CE_None)
            failed = 1;
        for (size_t i = 0; !failed && i < (size_t)w * (size_t)rows && !any; i++)
            any = !is_fill(p, buf[i]);
    }
    free(buf);
    GDALClose(ds);
    if (failed)
        return cnp_err(CNP_E_IO, "%s mask '%s': read failed: %s", sc->role, sc->mask_path,
                       cnp_err_gdal_reason());
    if (!any)
        return cnp_err(CNP_E_DATA, "%s product '%s': entirely fill: every pixel of its %s has "
                       "the '%s' flag, there is no data to compare", sc->role, sc->path,
                       p->mask_name, p->fill_text);
    return CNP_OK;
}

cnp_status cnp_scene_check_pixels(const cnp_settings *s, int w, int h, const char *fmt, ...)
{
    cnp_settings d;
    if (!s) {
        cnp_settings_defaults(&d);
        s = &d;
    }
    const int64_t max = s->limits.scene_pixels;
    if ((int64_t)w * h <= max)
        return CNP_OK;
    char what[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return cnp_err(CNP_E_DATA, "%s: %d x %d pixels: more than %lld, the limit [limits] "
                   "scene_pixels (--max-scene-pixels)", what, w, h, (long long)max);
}

cnp_status cnp_scene_open(cnp_scene *sc, const char *role, const char *path,
                          const char *mask_path, const cnp_settings *s,
                          const char *date_option)
{
    GDALDatasetH ds = NULL, mds = NULL;
    cnp_status st = CNP_OK;
    cnp_product *prod = NULL;
    int is_product = 0;

    memset(sc, 0, sizeof *sc);
    sc->role = role;
    sc->settings = s;
    sc->path = dup_str(path);
    sc->mask_path = dup_str(mask_path);
    sc->mask_read_path = dup_str(mask_path);
    sc->mask_src_path = dup_str(mask_path);
    if (!sc->path || (mask_path && (!sc->mask_path || !sc->mask_read_path ||
                                    !sc->mask_src_path)))
        return cnp_err(CNP_E_NOMEM, "out of memory");

    /* A satellite product (folder, archive, metadata file, STAC item) or a raster? */
    if (!(prod = calloc(1, sizeof *prod)))
        return cnp_err(CNP_E_NOMEM, "out of memory");
    if ((st = cnp_product_resolve(path, s, role, prod, &is_product)) != CNP_OK) {
        free(prod);
        return st;
    }
    if (is_product) {
        sc->product = prod;
        if ((st = build_stack(sc, mask_path)) != CNP_OK)
            return st;
    } else {
        free(prod);
        if (!(sc->read_path = dup_str(path)))
            return cnp_err(CNP_E_NOMEM, "out of memory");
    }

    ds = cnp_raster_open(sc->read_path);
    if (!ds) {
        st = cnp_err(CNP_E_IO, "%s scene '%s': cannot open: %s", role, path, cnp_err_gdal_reason());
        goto done;
    }
    sc->width = sc->src_width = GDALGetRasterXSize(ds);
    sc->height = sc->src_height = GDALGetRasterYSize(ds);
    sc->nbands = GDALGetRasterCount(ds);
    if ((st = cnp_scene_check_pixels(s, sc->width, sc->height, "%s scene '%s'", role,
                                     path)) != CNP_OK)
        goto done;
    if (!sc->product) {
        if (sc->nbands < 2) {
            st = cnp_err(CNP_E_DATA, "%s scene '%s': has %d band(s); red and NIR need at "
                         "least 2", role, path, sc->nbands);
            goto done;
        }
        if (s->red_band > sc->nbands || s->nir_band > sc->nbands) {
            st = cnp_err(CNP_E_CONFIG, "%s scene '%s': band %d out of range (it has %d bands)",
                         role, path, s->red_band > sc->nbands ? s->red_band : s->nir_band,
                         sc->nbands);
            goto done;
        }
        sc->red = s->red_band;
        sc->nir = s->nir_band;
        sc->green = s->green_band <= sc->nbands ? s->green_band : 0;
        sc->blue = s->blue_band <= sc->nbands ? s->blue_band : 0;
        if (s->swir2_band > sc->nbands) {
            st = cnp_err(CNP_E_CONFIG, "%s scene '%s': SWIR2 band %d out of range (it has %d "
                         "bands)", role, path, s->swir2_band, sc->nbands);
            goto done;
        }
        sc->swir2 = s->swir2_band;
    }

    if (GDALGetGeoTransform(ds, sc->gt) != CE_None) {
        st = cnp_err(CNP_E_DATA, "%s scene '%s': not georeferenced (no geotransform)", role, path);
        goto done;
    }
    if (sc->gt[2] != 0.0 || sc->gt[4] != 0.0) {
        st = cnp_err(CNP_E_DATA, "%s scene '%s': rotated grids are not supported; "
                     "warp it north-up first (gdalwarp)", role, path);
        goto done;
    }
    const char *wkt = GDALGetProjectionRef(ds);
    if (!wkt || !*wkt) {
        st = cnp_err(CNP_E_DATA, "%s scene '%s': has no coordinate reference system", role, path);
        goto done;
    }
    sc->wkt = strdup(wkt);

    GDALRasterBandH red = GDALGetRasterBand(ds, sc->red);
    GDALRasterBandH nir = GDALGetRasterBand(ds, sc->nir);
    const GDALDataType rt = GDALGetRasterDataType(red), nt = GDALGetRasterDataType(nir);
    if (GDALDataTypeIsComplex(rt) || GDALDataTypeIsComplex(nt)) {
        st = cnp_err(CNP_E_DATA, "%s scene '%s': complex bands are not reflectance", role, path);
        goto done;
    }
    GDALGetBlockSize(red, &sc->block_w, &sc->block_h);

    /* Radiometry: option > product metadata or band metadata > default. */
    cnp_date_params *r = &sc->radiometry;
    int has_scale = 0, has_offset = 0;
    double md_scale = GDALGetRasterScale(red, &has_scale);
    double md_offset = GDALGetRasterOffset(red, &has_offset);
    if (sc->product) {
        const cnp_product_band *pr = &sc->product->band[CNP_BAND_RED];
        const cnp_product_band *pn = &sc->product->band[CNP_BAND_NIR];
        has_scale = has_offset = pr->has_scale;
        md_scale = pr->scale;
        md_offset = pr->offset;
        /* Per-band gains (Landsat Level-1): NIR is read in red's units. */
        if (pr->has_scale && pn->has_scale && !s->have_scale && !s->have_offset &&
            (fabs(pr->scale - pn->scale) > 1e-12 * fabs(pr->scale) ||
             fabs(pr->offset - pn->offset) > 1e-12 * fmax(1, fabs(pr->offset)))) {
            sc->nir_rescale = 1;
            sc->nir_gain = pn->scale / pr->scale;
            sc->nir_bias = (pn->offset - pr->offset) / pr->scale;
        }
    }
    r->scale = s->scale;
    r->offset = s->offset;
    sc->scale_source = "default";
    if (!s->have_scale && has_scale && md_scale != 0.0) {
        r->scale = md_scale;
        sc->scale_source = "metadata";
    }
    if (!s->have_offset && has_offset && (has_scale || md_offset != 0.0)) {
        r->offset = md_offset;
        sc->scale_source = "metadata";
    }
    if (s->have_scale || s->have_offset)
        sc->scale_source = "option";
    r->nodata_red = GDALGetRasterNoDataValue(red, &r->has_nodata_red);
    r->nodata_nir = GDALGetRasterNoDataValue(nir, &r->has_nodata_nir);
    r->saturated_dn = s->saturated_dn > 0 ? s->saturated_dn
                                          : fmin(type_max(rt), type_max(nt));

    /* Nodata values are handled by the kernel; any other mask (alpha band,
     * internal mask) has to be read. */
    const int mflags = GDALGetMaskFlags(red) | GDALGetMaskFlags(nir);
    sc->read_mask_band = !(mflags & GMF_ALL_VALID) && !(mflags & GMF_NODATA);

    if (sc->product && sc->product->date[0]) {
        memcpy(sc->date, sc->product->date, CNP_DATE_LEN);
        sc->date_source = sc->product->date_source;
    } else {
        const char *src = find_date(ds, sc->date);
        sc->date_source = src ? src : "none";
        if (!src && date_option && *date_option) {
            memcpy(sc->date, date_option, CNP_DATE_LEN);
            sc->date_source = "option";
        }
    }

    if (mask_path) {
        double mgt[6];
        mds = cnp_raster_open(mask_path);
        if (!mds) {
            st = cnp_err(CNP_E_IO, "%s mask '%s': cannot open: %s", role, mask_path, cnp_err_gdal_reason());
            goto done;
        }
        const int same_size = GDALGetRasterXSize(mds) == sc->width &&
                              GDALGetRasterYSize(mds) == sc->height;
        int same = GDALGetGeoTransform(mds, mgt) == CE_None;
        for (int i = 0; same && i < 6; i++)
            same = fabs(mgt[i] - sc->gt[i]) <= 1e-6 * fmax(1.0, fabs(sc->gt[i]));
        if (!same_size || !same) {
            st = cnp_err(CNP_E_DATA, "%s mask '%s': not on the grid of '%s' (%dx%d pixels, "
                         "origin %.3f,%.3f, pixel %.3f; the scene is %dx%d, origin %.3f,%.3f, "
                         "pixel %.3f)", role, mask_path, path, GDALGetRasterXSize(mds),
                         GDALGetRasterYSize(mds), mgt[0], mgt[3], mgt[1], sc->width,
                         sc->height, sc->gt[0], sc->gt[3], sc->gt[1]);
            goto done;
        }
        /* A mask raster: the [mask] invalid values; all but the raster's own
         * nodata value (no data, not a cloud) grow by the buffer. */
        int has_nd = 0;
        const double mnd = GDALGetRasterNoDataValue(GDALGetRasterBand(mds, 1), &has_nd);
        sc->mask_rule.kind = CNP_MASK_RULE_VALUES;
        memcpy(sc->mask_rule.invalid, s->mask_invalid, sizeof sc->mask_rule.invalid);
        memcpy(sc->mask_rule.spread, s->mask_invalid, sizeof sc->mask_rule.spread);
        if (has_nd && mnd >= 0 && mnd <= 255 && mnd == floor(mnd))
            sc->mask_rule.spread[(int)mnd] = 0;
    }
    cnp_scene_set_buffer(sc);
    st = check_not_all_fill(sc);

done:
    if (mds)
        GDALClose(mds);
    if (ds)
        GDALClose(ds);
    return st;
}

void cnp_scene_free(cnp_scene *sc)
{
    if (!sc)
        return;
    /* Newest first: a warped VRT may reference the stack VRT. */
    for (int i = sc->nvsimem - 1; i >= 0; i--) {
        VSIUnlink(sc->vsimem[i]);
        free(sc->vsimem[i]);
    }
    if (sc->product) {
        cnp_product_free(sc->product);
        free(sc->product);
    }
    free(sc->path);
    free(sc->mask_path);
    free(sc->mask_src_path);
    free(sc->read_path);
    free(sc->mask_read_path);
    free(sc->wkt);
    free(sc->own_settings);
    memset(sc, 0, sizeof *sc);
}

cnp_status cnp_scene_read_decimated(const cnp_scene *sc, const int win[4],
                                    const int bands[3], int out_w, int out_h,
                                    float *out[3])
{
    GDALDatasetH ds = cnp_raster_open(sc->read_path);
    cnp_status st = CNP_OK;
    if (!ds)
        return cnp_err(CNP_E_IO, "%s scene '%s': cannot open: %s", sc->role, sc->path,
                       cnp_err_gdal_reason());

    GDALRasterIOExtraArg extra;
    INIT_RASTERIO_EXTRA_ARG(extra);
    extra.eResampleAlg = GRIORA_Average;
    for (int i = 0; i < 3 && st == CNP_OK; i++) {
        if (bands[i] <= 0) {
            memset(out[i], 0, (size_t)out_w * (size_t)out_h * sizeof(float));
            continue;
        }
        GDALRasterBandH b = GDALGetRasterBand(ds, bands[i]);
        cnp_err_gdal_reset();
        if (GDALRasterIOEx(b, GF_Read, win[0], win[1], win[2], win[3], out[i], out_w, out_h,
                           GDT_Float32, 0, 0, &extra) != CE_None)
            st = cnp_err(CNP_E_IO, "%s scene '%s': quicklook read failed: %s", sc->role,
                         sc->path, cnp_err_gdal_reason());
    }
    GDALClose(ds);
    return st;
}

int cnp_scene_has_overviews(const cnp_scene *sc)
{
    GDALDatasetH ds = cnp_raster_open(sc->read_path);
    if (!ds)
        return 0;
    const int n = GDALGetOverviewCount(GDALGetRasterBand(ds, sc->red));
    GDALClose(ds);
    return n > 0;
}

const char *cnp_scene_mask_rule(const cnp_scene *sc)
{
    const cnp_product *p = sc->product;
    if (p && sc->mask_path && sc->mask_src_path && p->mask_path &&
        strcmp(sc->mask_src_path, p->mask_path) == 0)
        return p->mask_text;
    return sc->mask_path ? "[mask] invalid values" : NULL;
}

void cnp_scene_band_text(const cnp_scene *sc, char *out, size_t size)
{
    const cnp_product *p = sc->product;
    if (p && p->band[CNP_BAND_RED].name[0] && p->band[CNP_BAND_NIR].name[0])
        snprintf(out, size, "red %s, NIR %s of %s", p->band[CNP_BAND_RED].name,
                 p->band[CNP_BAND_NIR].name, p->title);
    else
        snprintf(out, size, "red band %d, NIR band %d of %s", sc->red, sc->nir,
                 cnp_path_base(sc->path));
}
