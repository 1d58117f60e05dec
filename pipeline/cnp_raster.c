/* pipeline/cnp_raster.c - input scenes and per-thread readers (GDAL). */
#include "cnp_raster.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_utils.h>
#include <ogr_srs_api.h>

#include "cnp_err.h"

static char *dup_str(const char *s) { return s ? strdup(s) : NULL; }

static const char *gdal_reason(void)
{
    const char *m = cnp_err_gdal_msg();
    if (!*m)
        m = CPLGetLastErrorMsg();
    return *m ? m : "unknown reason";
}

static GDALDatasetH open_raster(const char *path)
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

cnp_status cnp_scene_open(cnp_scene *sc, const char *role, const char *path,
                          const char *mask_path, const cnp_settings *s,
                          const char *date_option)
{
    GDALDatasetH ds = NULL, mds = NULL;
    cnp_status st = CNP_OK;

    memset(sc, 0, sizeof *sc);
    sc->role = role;
    sc->path = dup_str(path);
    sc->read_path = dup_str(path);
    sc->mask_path = dup_str(mask_path);
    sc->mask_read_path = dup_str(mask_path);
    if (!sc->path || !sc->read_path || (mask_path && (!sc->mask_path || !sc->mask_read_path)))
        return cnp_err(CNP_E_NOMEM, "out of memory");

    ds = open_raster(path);
    if (!ds) {
        st = cnp_err(CNP_E_IO, "%s scene '%s': cannot open: %s", role, path, gdal_reason());
        goto done;
    }
    sc->width = sc->src_width = GDALGetRasterXSize(ds);
    sc->height = sc->src_height = GDALGetRasterYSize(ds);
    sc->nbands = GDALGetRasterCount(ds);
    if (sc->nbands < 2) {
        st = cnp_err(CNP_E_DATA, "%s scene '%s': has %d band(s); red and NIR need at least 2",
                     role, path, sc->nbands);
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

    /* Radiometry: option > band metadata > default. */
    cnp_date_params *r = &sc->radiometry;
    int has_scale = 0, has_offset = 0;
    const double md_scale = GDALGetRasterScale(red, &has_scale);
    const double md_offset = GDALGetRasterOffset(red, &has_offset);
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

    const char *src = find_date(ds, sc->date);
    sc->date_source = src ? src : "none";
    if (!src && date_option && *date_option) {
        memcpy(sc->date, date_option, CNP_DATE_LEN);
        sc->date_source = "option";
    }

    if (mask_path) {
        double mgt[6];
        mds = open_raster(mask_path);
        if (!mds) {
            st = cnp_err(CNP_E_IO, "%s mask '%s': cannot open: %s", role, mask_path, gdal_reason());
            goto done;
        }
        const int same_size = GDALGetRasterXSize(mds) == sc->width &&
                              GDALGetRasterYSize(mds) == sc->height;
        int same_gt = GDALGetGeoTransform(mds, mgt) == CE_None;
        for (int i = 0; same_gt && i < 6; i++)
            same_gt = fabs(mgt[i] - sc->gt[i]) <= 1e-6 * fmax(1.0, fabs(sc->gt[i]));
        if (!same_size || !same_gt) {
            st = cnp_err(CNP_E_DATA, "%s mask '%s': not on the grid of '%s' (%dx%d pixels, "
                         "origin %.3f,%.3f, pixel %.3f; the scene is %dx%d, origin %.3f,%.3f, "
                         "pixel %.3f)", role, mask_path, path, GDALGetRasterXSize(mds),
                         GDALGetRasterYSize(mds), mgt[0], mgt[3], mgt[1], sc->width,
                         sc->height, sc->gt[0], sc->gt[3], sc->gt[1]);
            goto done;
        }
    }

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
    if (sc->warped) {
        VSIUnlink(sc->read_path);
        if (sc->mask_read_path)
            VSIUnlink(sc->mask_read_path);
    }
    free(sc->path);
    free(sc->mask_path);
    free(sc->read_path);
    free(sc->mask_read_path);
    free(sc->wkt);
    memset(sc, 0, sizeof *sc);
}

static int same_grid(const cnp_scene *a, const cnp_scene *b)
{
    if (a->width != b->width || a->height != b->height)
        return 0;
    for (int i = 0; i < 6; i++)
        if (fabs(a->gt[i] - b->gt[i]) > 1e-9 * fmax(1.0, fabs(a->gt[i])))
            return 0;
    OGRSpatialReferenceH sa = OSRNewSpatialReference(a->wkt);
    OGRSpatialReferenceH sb = OSRNewSpatialReference(b->wkt);
    const int same = sa && sb && OSRIsSame(sa, sb);
    OSRDestroySpatialReference(sa);
    OSRDestroySpatialReference(sb);
    return same;
}

/* Warp `src` onto `grid`'s grid as a VRT in /vsimem. */
static cnp_status warp_to_grid(const char *src, const cnp_scene *grid, const char *resampling,
                               int add_alpha, const char *vrt_path)
{
    char te[4][32], ts[2][16];
    const double x0 = grid->gt[0], y0 = grid->gt[3];
    const double x1 = x0 + grid->gt[1] * grid->width, y1 = y0 + grid->gt[5] * grid->height;
    snprintf(te[0], sizeof te[0], "%.17g", fmin(x0, x1));
    snprintf(te[1], sizeof te[1], "%.17g", fmin(y0, y1));
    snprintf(te[2], sizeof te[2], "%.17g", fmax(x0, x1));
    snprintf(te[3], sizeof te[3], "%.17g", fmax(y0, y1));
    snprintf(ts[0], sizeof ts[0], "%d", grid->width);
    snprintf(ts[1], sizeof ts[1], "%d", grid->height);

    const char *args[] = { "-of", "VRT", "-t_srs", grid->wkt, "-te", te[0], te[1], te[2], te[3],
                           "-ts", ts[0], ts[1], "-r", resampling, "-q",
                           add_alpha ? "-dstalpha" : NULL };
    char **argv = NULL;
    for (size_t i = 0; i < sizeof args / sizeof args[0] && args[i]; i++)
        argv = CSLAddString(argv, args[i]);
    cnp_status st = CNP_OK;
    GDALWarpAppOptions *opt = GDALWarpAppOptionsNew(argv, NULL);
    CSLDestroy(argv);
    GDALDatasetH in = open_raster(src);
    GDALDatasetH out = NULL;
    int usage_error = 0;

    if (!opt || !in) {
        st = cnp_err(CNP_E_IO, "cannot warp '%s': %s", src, gdal_reason());
        goto done;
    }
    out = GDALWarp(vrt_path, NULL, 1, &in, opt, &usage_error);
    if (!out)
        st = cnp_err(CNP_E_IO, "cannot warp '%s' onto the BEFORE grid: %s", src, gdal_reason());

done:
    if (out)
        GDALClose(out);
    if (in)
        GDALClose(in);
    GDALWarpAppOptionsFree(opt);
    return st;
}

/* Pixel window of `grid` covered by `sc`'s footprint (edges densified, so a
 * rotation between UTM zones is followed). */
static cnp_status footprint_window(const cnp_scene *sc, const cnp_scene *grid, int win[4])
{
    enum { N = 32 };
    double xs[4 * N], ys[4 * N];
    int ok[4 * N];
    cnp_status st = CNP_OK;
    OGRSpatialReferenceH ssrc = OSRNewSpatialReference(sc->wkt);
    OGRSpatialReferenceH sdst = OSRNewSpatialReference(grid->wkt);
    OGRCoordinateTransformationH ct = NULL;

    if (!ssrc || !sdst) {
        st = cnp_err(CNP_E_DATA, "cannot read the CRS of '%s'", sc->path);
        goto done;
    }
    OSRSetAxisMappingStrategy(ssrc, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(sdst, OAMS_TRADITIONAL_GIS_ORDER);
    ct = OCTNewCoordinateTransformation(ssrc, sdst);
    if (!ct) {
        st = cnp_err(CNP_E_DATA, "no transformation from the CRS of '%s' to that of '%s'",
                     sc->path, grid->path);
        goto done;
    }
    for (int i = 0; i < N; i++) {
        const double t = (double)i / N;
        const double px[4] = { t * sc->src_width, sc->src_width, (1 - t) * sc->src_width, 0 };
        const double py[4] = { 0, t * sc->src_height, sc->src_height, (1 - t) * sc->src_height };
        for (int e = 0; e < 4; e++) {
            xs[e * N + i] = sc->gt[0] + px[e] * sc->gt[1];
            ys[e * N + i] = sc->gt[3] + py[e] * sc->gt[5];
        }
    }
    OCTTransformEx(ct, 4 * N, xs, ys, NULL, ok);
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (int i = 0; i < 4 * N; i++) {
        if (!ok[i])
            continue;
        const double px = (xs[i] - grid->gt[0]) / grid->gt[1];
        const double py = (ys[i] - grid->gt[3]) / grid->gt[5];
        minx = fmin(minx, px); maxx = fmax(maxx, px);
        miny = fmin(miny, py); maxy = fmax(maxy, py);
    }
    const int x0 = (int)fmax(0, floor(minx + 1e-6)), y0 = (int)fmax(0, floor(miny + 1e-6));
    const int x1 = (int)fmin(grid->width, ceil(maxx - 1e-6));
    const int y1 = (int)fmin(grid->height, ceil(maxy - 1e-6));
    if (!(minx < maxx) || x1 <= x0 || y1 <= y0) {
        st = cnp_err(CNP_E_DATA, "the scenes do not overlap: '%s' and '%s' cover different areas",
                     grid->path, sc->path);
        goto done;
    }
    win[0] = x0; win[1] = y0; win[2] = x1 - x0; win[3] = y1 - y0;

done:
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(ssrc);
    OSRDestroySpatialReference(sdst);
    return st;
}

cnp_status cnp_scene_align(cnp_scene *after, const cnp_scene *before, int win[4])
{
    cnp_status st;
    char path[128];

    if (same_grid(after, before)) {
        win[0] = 0; win[1] = 0; win[2] = before->width; win[3] = before->height;
        return CNP_OK;
    }
    if ((st = footprint_window(after, before, win)) != CNP_OK)
        return st;

    snprintf(path, sizeof path, "/vsimem/canopy-%ld-%p-scene.vrt", (long)getpid(), (void *)after);
    if ((st = warp_to_grid(after->path, before, "bilinear", 1, path)) != CNP_OK)
        return st;
    free(after->read_path);
    after->read_path = strdup(path);
    after->warped = 1;
    if (after->mask_path) {
        snprintf(path, sizeof path, "/vsimem/canopy-%ld-%p-mask.vrt", (long)getpid(), (void *)after);
        if ((st = warp_to_grid(after->mask_path, before, "near", 0, path)) != CNP_OK)
            return st;
        free(after->mask_read_path);
        after->mask_read_path = strdup(path);
    }
    if (!after->read_path || (after->mask_path && !after->mask_read_path))
        return cnp_err(CNP_E_NOMEM, "out of memory");

    /* The warped VRT carries an alpha band: outside AFTER's footprint is unobserved. */
    after->read_mask_band = 1;
    after->width = before->width;
    after->height = before->height;
    memcpy(after->gt, before->gt, sizeof after->gt);
    free(after->wkt);
    after->wkt = strdup(before->wkt);
    return after->wkt ? CNP_OK : cnp_err(CNP_E_NOMEM, "out of memory");
}

struct cnp_reader {
    GDALDatasetH    ds, mds;
    GDALRasterBandH red, nir, mask_band, mask_raster;
    const cnp_scene *sc;
    unsigned char   invalid[256];
    uint16_t       *mbuf;       /* mask raster values of the current window */
    size_t          mcap;
};

cnp_status cnp_reader_open(const cnp_scene *sc, const cnp_settings *s, cnp_reader **out)
{
    cnp_reader *rd = calloc(1, sizeof *rd);
    *out = NULL;
    if (!rd)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    rd->sc = sc;
    memcpy(rd->invalid, s->mask_invalid, sizeof rd->invalid);
    rd->ds = open_raster(sc->read_path);
    if (!rd->ds) {
        cnp_reader_close(&rd);
        return cnp_err(CNP_E_IO, "%s scene '%s': cannot open: %s", sc->role, sc->path,
                       gdal_reason());
    }
    rd->red = GDALGetRasterBand(rd->ds, sc->red);
    rd->nir = GDALGetRasterBand(rd->ds, sc->nir);
    if (sc->read_mask_band)
        rd->mask_band = GDALGetMaskBand(rd->red);
    if (sc->mask_read_path) {
        rd->mds = open_raster(sc->mask_read_path);
        if (!rd->mds) {
            cnp_reader_close(&rd);
            return cnp_err(CNP_E_IO, "%s mask '%s': cannot open: %s", sc->role, sc->mask_path,
                           gdal_reason());
        }
        rd->mask_raster = GDALGetRasterBand(rd->mds, 1);
    }
    *out = rd;
    return CNP_OK;
}

void cnp_reader_close(cnp_reader **prd)
{
    if (!prd || !*prd)
        return;
    cnp_reader *rd = *prd;
    if (rd->mds)
        GDALClose(rd->mds);
    if (rd->ds)
        GDALClose(rd->ds);
    free(rd->mbuf);
    free(rd);
    *prd = NULL;
}

static cnp_status read_band(GDALRasterBandH b, int x0, int y0, int w, int h, GDALDataType t,
                            void *buf, const cnp_scene *sc, const char *what)
{
    cnp_err_gdal_reset();
    if (GDALRasterIO(b, GF_Read, x0, y0, w, h, buf, w, h, t, 0, 0) != CE_None)
        return cnp_err(CNP_E_IO, "%s %s '%s': read failed at pixel %d,%d: %s", sc->role, what,
                       what[0] == 'm' ? sc->mask_path : sc->path, x0, y0, gdal_reason());
    return CNP_OK;
}

cnp_status cnp_reader_read(cnp_reader *rd, int x0, int y0, int w, int h,
                           float *red, float *nir, uint8_t *observed)
{
    const size_t n = (size_t)w * (size_t)h;
    cnp_status st;

    if ((st = read_band(rd->red, x0, y0, w, h, GDT_Float32, red, rd->sc, "scene")) != CNP_OK ||
        (st = read_band(rd->nir, x0, y0, w, h, GDT_Float32, nir, rd->sc, "scene")) != CNP_OK)
        return st;

    if (rd->mask_band) {
        if ((st = read_band(rd->mask_band, x0, y0, w, h, GDT_Byte, observed, rd->sc,
                            "scene")) != CNP_OK)
            return st;
    } else {
        memset(observed, 1, n);
    }

    if (rd->mask_raster) {
        if (rd->mcap < n) {
            uint16_t *p = realloc(rd->mbuf, n * sizeof *p);
            if (!p)
                return cnp_err(CNP_E_NOMEM, "out of memory");
            rd->mbuf = p;
            rd->mcap = n;
        }
        if ((st = read_band(rd->mask_raster, x0, y0, w, h, GDT_UInt16, rd->mbuf, rd->sc,
                            "mask")) != CNP_OK)
            return st;
        for (size_t i = 0; i < n; i++) {
            const uint16_t v = rd->mbuf[i];
            if (v < 256 && rd->invalid[v])
                observed[i] = 0;
        }
    }
    return CNP_OK;
}

cnp_status cnp_scene_read_decimated(const cnp_scene *sc, const int win[4],
                                    const int bands[3], int out_w, int out_h,
                                    float *out[3])
{
    GDALDatasetH ds = open_raster(sc->read_path);
    cnp_status st = CNP_OK;
    if (!ds)
        return cnp_err(CNP_E_IO, "%s scene '%s': cannot open: %s", sc->role, sc->path,
                       gdal_reason());

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
                         sc->path, gdal_reason());
    }
    GDALClose(ds);
    return st;
}

int cnp_scene_has_overviews(const cnp_scene *sc)
{
    GDALDatasetH ds = open_raster(sc->read_path);
    if (!ds)
        return 0;
    const int n = GDALGetOverviewCount(GDALGetRasterBand(ds, sc->red));
    GDALClose(ds);
    return n > 0;
}
