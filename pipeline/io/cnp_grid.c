/* pipeline/io/cnp_grid.c - grids: compared, measured, warped onto; the common
 * grid of two scenes (cnp_scene_align) and scenes that are only a grid.
 * Scenes are opened in cnp_raster.c; what both files share: cnp_raster_int.h. */
#include "cnp_raster.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <gdal_utils.h>
#include <ogr_srs_api.h>

#include "cnp_err.h"
#include "cnp_gdal.h"
#include "cnp_raster_int.h"

/* ---- grids --------------------------------------------------------------- */

int cnp_grid_same_crs(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return 1;
    OGRSpatialReferenceH sa = OSRNewSpatialReference(a);
    OGRSpatialReferenceH sb = OSRNewSpatialReference(b);
    const int same = sa && sb && OSRIsSame(sa, sb);
    OSRDestroySpatialReference(sa);
    OSRDestroySpatialReference(sb);
    return same;
}

int cnp_grid_same_gt(const double a[6], const double b[6], double tol)
{
    for (int i = 0; i < 6; i++)
        if (fabs(a[i] - b[i]) > tol * fmax(1.0, fabs(a[i])))
            return 0;
    return 1;
}

double cnp_grid_pixel_metres(const char *wkt, const double gt[6], int height)
{
    OGRSpatialReferenceH srs = OSRNewSpatialReference(wkt);
    double m = fabs(gt[1]);
    if (srs && OSRIsProjected(srs)) {
        m *= OSRGetLinearUnits(srs, NULL);
    } else if (srs && OSRIsGeographic(srs)) {
        const double lat = gt[3] + gt[5] * height / 2.0;
        m *= 6378137.0 * M_PI / 180.0 * cos(lat * M_PI / 180.0);
    }
    OSRDestroySpatialReference(srs);
    return m;
}

cnp_status cnp_grid_warp(const char *src, const cnp_grid_def *g, const char *resampling,
                         int add_alpha, const char *vrt_path)
{
    char te[4][32], ts[2][16];
    const double x0 = g->gt[0], y0 = g->gt[3];
    const double x1 = x0 + g->gt[1] * g->width, y1 = y0 + g->gt[5] * g->height;
    snprintf(te[0], sizeof te[0], "%.17g", fmin(x0, x1));
    snprintf(te[1], sizeof te[1], "%.17g", fmin(y0, y1));
    snprintf(te[2], sizeof te[2], "%.17g", fmax(x0, x1));
    snprintf(te[3], sizeof te[3], "%.17g", fmax(y0, y1));
    snprintf(ts[0], sizeof ts[0], "%d", g->width);
    snprintf(ts[1], sizeof ts[1], "%d", g->height);

    const char *args[] = { "-of", "VRT", "-t_srs", g->wkt, "-te", te[0], te[1], te[2], te[3],
                           "-ts", ts[0], ts[1], "-r", resampling, "-q",
                           add_alpha ? "-dstalpha" : NULL };
    char **argv = NULL;
    for (size_t i = 0; i < sizeof args / sizeof args[0] && args[i]; i++)
        argv = CSLAddString(argv, args[i]);
    cnp_status st = CNP_OK;
    GDALWarpAppOptions *opt = GDALWarpAppOptionsNew(argv, NULL);
    CSLDestroy(argv);
    GDALDatasetH in = cnp_raster_open(src);
    GDALDatasetH out = NULL;
    int usage_error = 0;

    if (!opt || !in) {
        st = cnp_err(CNP_E_IO, "cannot warp '%s': %s", src, cnp_err_gdal_reason());
        goto done;
    }
    out = GDALWarp(vrt_path, NULL, 1, &in, opt, &usage_error);
    if (!out)
        st = cnp_err(CNP_E_IO, "cannot warp '%s' onto the common grid: %s", src, cnp_err_gdal_reason());

done:
    if (out)
        GDALClose(out);
    if (in)
        GDALClose(in);
    GDALWarpAppOptionsFree(opt);
    return st;
}

/* ---- the common grid of two scenes ------------------------------------ */

static cnp_grid_def scene_grid(const cnp_scene *sc)
{
    cnp_grid_def g;
    g.wkt = sc->wkt;
    memcpy(g.gt, sc->gt, sizeof g.gt);
    g.width = sc->width;
    g.height = sc->height;
    return g;
}

static int on_grid(const cnp_scene *sc, const cnp_grid_def *g)
{
    return sc->width == g->width && sc->height == g->height &&
           cnp_grid_same_gt(sc->gt, g->gt, 1e-9) &&
           cnp_grid_same_crs(sc->wkt, g->wkt);
}

/* Pixel window of grid `g` covered by `sc`'s own footprint (edges densified,
 * so a rotation between UTM zones is followed). 0 when they do not meet. */
static int footprint_window(const cnp_scene *sc, const cnp_grid_def *g, int win[4],
                            int *bad_crs)
{
    enum { N = 32 };
    double xs[4 * N], ys[4 * N];
    int ok[4 * N], found = 0;
    OGRSpatialReferenceH ssrc = OSRNewSpatialReference(sc->wkt);
    OGRSpatialReferenceH sdst = OSRNewSpatialReference(g->wkt);
    OGRCoordinateTransformationH ct = NULL;

    *bad_crs = 0;
    if (!ssrc || !sdst) {
        *bad_crs = 1;
        goto done;
    }
    OSRSetAxisMappingStrategy(ssrc, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(sdst, OAMS_TRADITIONAL_GIS_ORDER);
    ct = OCTNewCoordinateTransformation(ssrc, sdst);
    if (!ct) {
        *bad_crs = 1;
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
        const double px = (xs[i] - g->gt[0]) / g->gt[1];
        const double py = (ys[i] - g->gt[3]) / g->gt[5];
        minx = fmin(minx, px); maxx = fmax(maxx, px);
        miny = fmin(miny, py); maxy = fmax(maxy, py);
    }
    const int x0 = (int)fmax(0, floor(minx + 1e-6)), y0 = (int)fmax(0, floor(miny + 1e-6));
    const int x1 = (int)fmin(g->width, ceil(maxx - 1e-6));
    const int y1 = (int)fmin(g->height, ceil(maxy - 1e-6));
    if (minx < maxx && x1 > x0 && y1 > y0) {
        win[0] = x0; win[1] = y0; win[2] = x1 - x0; win[3] = y1 - y0;
        found = 1;
    }

done:
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(ssrc);
    OSRDestroySpatialReference(sdst);
    return found;
}

/* An explicit grid: [grid] t_srs (else the reference scene's CRS) and
 * [grid] tr (else the pixel size GDAL suggests), pixels aligned on
 * multiples of the pixel size (like gdalwarp -tap). */
static cnp_status custom_grid(const cnp_scene *ref, const cnp_settings *s, cnp_grid_def *g,
                              char **wkt_out)
{
    cnp_status st = CNP_OK;
    GDALDatasetH ds = NULL;
    void *tr = NULL;
    char *wkt = NULL;

    *wkt_out = NULL;
    if (s->grid_t_srs[0]) {
        OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
        char *w = NULL;
        if (!srs || OSRSetFromUserInput(srs, s->grid_t_srs) != OGRERR_NONE ||
            OSRExportToWkt(srs, &w) != OGRERR_NONE) {
            OSRDestroySpatialReference(srs);
            CPLFree(w);
            return cnp_err(CNP_E_CONFIG, "--t-srs / [grid] t_srs: '%s' is not a coordinate "
                           "reference system GDAL knows", s->grid_t_srs);
        }
        wkt = strdup(w);
        CPLFree(w);
        OSRDestroySpatialReference(srs);
    } else {
        wkt = strdup(ref->wkt);
    }
    if (!wkt)
        return cnp_err(CNP_E_NOMEM, "out of memory");

    ds = cnp_raster_open(ref->read_path);
    char opt[4200];
    snprintf(opt, sizeof opt, "DST_SRS=%s", wkt);
    char *opts[] = { opt, NULL };
    tr = ds ? GDALCreateGenImgProjTransformer2(ds, NULL, opts) : NULL;
    double sgt[6];
    int sw = 0, sh = 0;
    if (!tr || GDALSuggestedWarpOutput(ds, GDALGenImgProjTransform, tr, sgt, &sw, &sh) !=
               CE_None) {
        st = cnp_err(CNP_E_DATA, "cannot project '%s' onto %s: %s", ref->path,
                     s->grid_t_srs[0] ? s->grid_t_srs : "its CRS", cnp_err_gdal_reason());
        goto done;
    }
    const double res = s->grid_tr > 0 ? s->grid_tr : fabs(sgt[1]);
    const double xmin = floor(sgt[0] / res) * res, ymax = ceil(sgt[3] / res) * res;
    const double xmax = ceil((sgt[0] + sw * sgt[1]) / res) * res;
    const double ymin = floor((sgt[3] + sh * sgt[5]) / res) * res;
    const double w = round((xmax - xmin) / res), h = round((ymax - ymin) / res);
    if (!(w >= 1 && h >= 1 && w * h < 4e12 && w < INT_MAX && h < INT_MAX)) {
        st = cnp_err(CNP_E_CONFIG, "--tr / [grid] tr: %g gives a grid of %.0f x %.0f pixels",
                     res, w, h);
        goto done;
    }
    g->wkt = wkt;
    g->gt[0] = xmin; g->gt[1] = res; g->gt[2] = 0;
    g->gt[3] = ymax; g->gt[4] = 0; g->gt[5] = -res;
    g->width = (int)w;
    g->height = (int)h;
    *wkt_out = wkt;
    wkt = NULL;

done:
    if (tr)
        GDALDestroyGenImgProjTransformer(tr);
    if (ds)
        GDALClose(ds);
    free(wkt);
    return st;
}

/* Put `sc` on grid `g`: reflectance bilinear with an alpha band (outside its
 * footprint is unobserved), the mask nearest-neighbour from its source file. */
static cnp_status warp_scene(cnp_scene *sc, const cnp_grid_def *g)
{
    char path[200];
    cnp_status st;

    cnp_scene_vsimem_name(sc, "scene", path, sizeof path);
    if ((st = cnp_grid_warp(sc->read_path, g, "bilinear", 1, path)) != CNP_OK ||
        (st = cnp_scene_own_vsimem(sc, path)) != CNP_OK)
        return st;
    free(sc->read_path);
    sc->read_path = strdup(path);
    if (sc->mask_src_path) {
        cnp_scene_vsimem_name(sc, "mask", path, sizeof path);
        if ((st = cnp_grid_warp(sc->mask_src_path, g, "near", 0, path)) != CNP_OK ||
            (st = cnp_scene_own_vsimem(sc, path)) != CNP_OK)
            return st;
        free(sc->mask_read_path);
        sc->mask_read_path = strdup(path);
    }
    char *wkt = strdup(g->wkt);
    if (!sc->read_path || (sc->mask_src_path && !sc->mask_read_path) || !wkt) {
        free(wkt);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    sc->warped = 1;
    sc->read_mask_band = 1;
    sc->width = g->width;
    sc->height = g->height;
    memcpy(sc->gt, g->gt, sizeof sc->gt);
    free(sc->wkt);
    sc->wkt = wkt;
    GDALDatasetH ds = cnp_raster_open(sc->read_path);
    if (ds) {
        GDALGetBlockSize(GDALGetRasterBand(ds, sc->red), &sc->block_w, &sc->block_h);
        GDALClose(ds);
    }
    cnp_scene_set_buffer(sc);
    return CNP_OK;
}

cnp_status cnp_scene_align(cnp_scene *after, cnp_scene *before, int win[4])
{
    const cnp_settings *s = before->settings;
    cnp_scene *ref = before;
    char *own_wkt = NULL;
    cnp_grid_def g;
    int wb[4], wa[4], bad_b = 0, bad_a = 0;
    cnp_status st = CNP_OK;

    if (s && s->grid_mode == CNP_GRID_AFTER)
        ref = after;
    else if (s && s->grid_mode == CNP_GRID_FINEST && after->pixel_m < before->pixel_m * (1 - 1e-9))
        ref = after;
    if (s && (s->grid_t_srs[0] || s->grid_tr > 0)) {
        if ((st = custom_grid(ref, s, &g, &own_wkt)) != CNP_OK)
            return st;
    } else {
        g = scene_grid(ref);
    }

    const int fb = footprint_window(before, &g, wb, &bad_b);
    const int fa = footprint_window(after, &g, wa, &bad_a);
    if (bad_b || bad_a) {
        st = cnp_err(CNP_E_DATA, "no transformation from the CRS of '%s' to the common grid",
                     bad_b ? before->path : after->path);
        goto done;
    }
    const int x0 = fb && fa ? (wb[0] > wa[0] ? wb[0] : wa[0]) : 0;
    const int y0 = fb && fa ? (wb[1] > wa[1] ? wb[1] : wa[1]) : 0;
    const int x1 = fb && fa ? (wb[0] + wb[2] < wa[0] + wa[2] ? wb[0] + wb[2] : wa[0] + wa[2]) : 0;
    const int y1 = fb && fa ? (wb[1] + wb[3] < wa[1] + wa[3] ? wb[1] + wb[3] : wa[1] + wa[3]) : 0;
    if (!fb || !fa || x1 <= x0 || y1 <= y0) {
        st = cnp_err(CNP_E_DATA, "the scenes do not overlap: '%s' and '%s' cover different "
                     "areas", before->path, after->path);
        goto done;
    }
    win[0] = x0; win[1] = y0; win[2] = x1 - x0; win[3] = y1 - y0;
    /* Each scene passed on its own grid; a finer common grid can still be huge. */
    if ((st = cnp_scene_check_pixels(s, win[2], win[3],
                                     "the common grid's overlap of '%s' and '%s'",
                                     before->path, after->path)) != CNP_OK)
        goto done;

    /* An overlap smaller than one alert could be is a mistake, not a run. */
    const double pm = cnp_grid_pixel_metres(g.wkt, g.gt, g.height);
    const double pixel_ha = pm * pm * fabs(g.gt[5] / g.gt[1]) / 1e4;
    const double overlap_ha = (double)win[2] * win[3] * pixel_ha;
    if (s && overlap_ha < s->min_area_ha) {
        st = cnp_err(CNP_E_DATA, "the scenes overlap by only %.4g ha (%d x %d pixels), less "
                     "than the minimum area of %g ha: '%s' and '%s' barely meet", overlap_ha,
                     win[2], win[3], s->min_area_ha, before->path, after->path);
        goto done;
    }

    if (!on_grid(before, &g) && (st = warp_scene(before, &g)) != CNP_OK)
        goto done;
    if (!on_grid(after, &g) && (st = warp_scene(after, &g)) != CNP_OK)
        goto done;

done:
    free(own_wkt);
    return st;
}

cnp_status cnp_scene_open_grid(cnp_scene *sc, const char *name, const char *wkt,
                               const double gt[6], int width, int height, const cnp_settings *s)
{
    static int serial;
    char vpath[300];
    double g[6];
    int n;
    #pragma omp atomic capture
    n = ++serial;
    snprintf(vpath, sizeof vpath, "/vsimem/canopy-grid-%ld-%d.vrt", (long)getpid(), n);
    cnp_err_gdal_reset();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("VRT"), vpath, width, height, 2, GDT_Byte,
                                 NULL);
    if (!ds)
        return cnp_err(CNP_E_IO, "%s: cannot build its grid: %s", name, cnp_err_gdal_reason());
    memcpy(g, gt, sizeof g);
    GDALSetGeoTransform(ds, g);
    GDALSetProjection(ds, wkt);
    GDALClose(ds);
    /* Aligning onto this scene puts the other on exactly this grid. */
    cnp_settings *gs = malloc(sizeof *gs);
    if (!gs) {
        VSIUnlink(vpath);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    *gs = *s;
    gs->red_band = 1;
    gs->nir_band = 2;
    gs->green_band = gs->blue_band = gs->swir2_band = 0;
    gs->grid_mode = CNP_GRID_BEFORE;
    gs->grid_t_srs[0] = '\0';
    gs->grid_tr = 0;
    cnp_status st = cnp_scene_open(sc, name, vpath, NULL, gs, "");
    sc->own_settings = gs;
    if (st == CNP_OK)
        st = cnp_scene_own_vsimem(sc, vpath);
    else
        VSIUnlink(vpath);
    return st;
}
