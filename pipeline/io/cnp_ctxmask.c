/* pipeline/io/cnp_ctxmask.c - forest and exclusion masks warped onto the
 * scene's grid and ANDed into detect's classes (cnp_ctxmask.h). */
#include "cnp_ctxmask.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
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

#include "cnp_err.h"
#include "cnp_gdal.h"
#include "cnp_geom.h"
#include "cnp_zones.h"

/* What a warped pixel holds where the source has no value. */
#define NO_VALUE (-2147483647)

enum { FOREST = 0, EXCLUDE = 1, AOI = 2, NMASK = 3 };

struct cnp_ctxmask {
    cnp_ctxmask_spec spec;
    char             vrt[NMASK][160];   /* "" where that mask is not given     */
    int              aoi_x0, aoi_y0;    /* the AOI raster's window in the grid */
    int              aoi_w, aoi_h;
    _Atomic int64_t  not_forest, excluded, outside;
};

struct cnp_ctxmask_reader {
    cnp_ctxmask *m;
    GDALDatasetH ds[NMASK];
    int32_t     *buf[NMASK];
    uint8_t     *why;                   /* restrict's CNP_CTX_* per pixel     */
};

static const char *const role[NMASK] = { "--forest-mask", "--exclude", "--aoi" };

cnp_status cnp_ctxmask_classes(const char *list, const char *what, int *out, int *n)
{
    const char *p = list;
    *n = 0;
    while (*p) {
        char *end = NULL;
        errno = 0;
        const long v = strtol(p, &end, 10);
        if (end == p || errno || v < -2147483646L || v > 2147483647L || (*end && *end != ','))
            return cnp_err(CNP_E_ARG, "%s: expected whole numbers separated by commas, got '%s'",
                           what, list);
        if (*n == CNP_CTX_MAX_CLASSES)
            return cnp_err(CNP_E_ARG, "%s: at most %d values", what, CNP_CTX_MAX_CLASSES);
        out[(*n)++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (*n == 0)
        return cnp_err(CNP_E_ARG, "%s: expected at least one value", what);
    return CNP_OK;
}

cnp_status cnp_ctxmask_before_year(const char *date, int *last_year)
{
    int y, mo, d;
    char tail;
    if (sscanf(date, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3 || strlen(date) != 10 ||
        y < 2001 || y > 2100 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return cnp_err(CNP_E_ARG, "--exclude-before: expected a date YYYY-MM-DD from 2001 on, "
                       "got '%s'", date);
    /* Loss years are whole years: a year counts as before the date only
     * when the date is its last day. */
    *last_year = (mo == 12 && d == 31 ? y : y - 1) - 2000;
    return CNP_OK;
}

/* Warp `src` onto the grid as a nearest-neighbour Int32 VRT at `vrt`. */
static cnp_status warp(const char *src, const char *what, const char *wkt, const double gt[6],
                       int width, int height, const char *vrt)
{
    cnp_err_gdal_reset();
    GDALDatasetH in = GDALOpenEx(src, GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                                 NULL, NULL, NULL);
    if (!in)
        return cnp_err(CNP_E_IO, "%s '%s': cannot open it as a raster: %s", what, src,
                       cnp_err_gdal_reason());
    double sgt[6];
    const char *swkt = GDALGetProjectionRef(in);
    cnp_status st = CNP_OK;
    if (!swkt || !*swkt || GDALGetGeoTransform(in, sgt) != CE_None)
        st = cnp_err(CNP_E_DATA, "%s '%s': has no CRS or geotransform (say where it lies with "
                     "gdal_translate -a_srs and -a_ullr)", what, src);
    else if (cnp_crs_overlap_fraction(swkt, sgt, GDALGetRasterXSize(in), GDALGetRasterYSize(in),
                                      wkt, gt, width, height) <= 0)
        st = cnp_err(CNP_E_DATA, "%s '%s': does not overlap the scene", what, src);
    if (st != CNP_OK) {
        GDALClose(in);
        return st;
    }
    char te[4][32], ts[2][16], nd[16];
    const double x0 = gt[0], y0 = gt[3], x1 = x0 + gt[1] * width, y1 = y0 + gt[5] * height;
    snprintf(te[0], sizeof te[0], "%.17g", fmin(x0, x1));
    snprintf(te[1], sizeof te[1], "%.17g", fmin(y0, y1));
    snprintf(te[2], sizeof te[2], "%.17g", fmax(x0, x1));
    snprintf(te[3], sizeof te[3], "%.17g", fmax(y0, y1));
    snprintf(ts[0], sizeof ts[0], "%d", width);
    snprintf(ts[1], sizeof ts[1], "%d", height);
    snprintf(nd, sizeof nd, "%d", NO_VALUE);
    const char *args[] = { "-of", "VRT", "-t_srs", wkt, "-te", te[0], te[1], te[2], te[3],
                           "-ts", ts[0], ts[1], "-r", "near", "-ot", "Int32", "-dstnodata", nd,
                           "-q" };
    char **argv = NULL;
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++)
        argv = CSLAddString(argv, args[i]);
    GDALWarpAppOptions *opt = GDALWarpAppOptionsNew(argv, NULL);
    CSLDestroy(argv);
    int usage = 0;
    GDALDatasetH out = opt ? GDALWarp(vrt, NULL, 1, &in, opt, &usage) : NULL;
    if (!out)
        st = cnp_err(CNP_E_IO, "%s '%s': cannot warp it onto the scene's grid: %s", what, src,
                     cnp_err_gdal_reason());
    else
        GDALClose(out);
    GDALWarpAppOptionsFree(opt);
    GDALClose(in);
    return st;
}

cnp_status cnp_ctxmask_open(const cnp_ctxmask_spec *spec, const char *wkt, const double gt[6],
                            int width, int height, cnp_ctxmask **out)
{
    *out = NULL;
    if (!spec->forest && !spec->exclude)
        return CNP_OK;
    cnp_ctxmask *m = calloc(1, sizeof *m);
    if (!m)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    m->spec = *spec;
    const char *src[2] = { spec->forest, spec->exclude };
    cnp_status st = CNP_OK;
    for (int k = 0; k < 2 && st == CNP_OK; k++) {
        if (!src[k])
            continue;
        snprintf(m->vrt[k], sizeof m->vrt[k], "/vsimem/canopy-ctx-%ld-%p-%d.vrt", (long)getpid(),
                 (void *)m, k);
        st = warp(src[k], role[k], wkt, gt, width, height, m->vrt[k]);
        if (st != CNP_OK)
            m->vrt[k][0] = '\0';
    }
    if (st != CNP_OK) {
        cnp_ctxmask_close(&m);
        return st;
    }
    *out = m;
    return CNP_OK;
}

void cnp_ctxmask_close(cnp_ctxmask **pm)
{
    if (!pm || !*pm)
        return;
    for (int k = 0; k < NMASK; k++)
        if ((*pm)->vrt[k][0])
            VSIUnlink((*pm)->vrt[k]);
    free(*pm);
    *pm = NULL;
}

void cnp_ctxmask_counts(const cnp_ctxmask *m, int64_t *not_forest, int64_t *excluded)
{
    *not_forest = m ? atomic_load(&m->not_forest) : 0;
    *excluded = m ? atomic_load(&m->excluded) : 0;
}

cnp_status cnp_ctxmask_reader_open(cnp_ctxmask *m, size_t max_pixels, cnp_ctxmask_reader **out)
{
    cnp_ctxmask_reader *r = calloc(1, sizeof *r);
    cnp_status st = CNP_OK;
    *out = NULL;
    if (!r)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    r->m = m;
    if (!(r->why = malloc(max_pixels ? max_pixels : 1))) {
        free(r);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    for (int k = 0; k < NMASK && st == CNP_OK; k++) {
        if (!m->vrt[k][0])
            continue;
        cnp_err_gdal_reset();
        r->ds[k] = GDALOpen(m->vrt[k], GA_ReadOnly);
        r->buf[k] = malloc(max_pixels * sizeof *r->buf[k]);
        if (!r->ds[k])
            st = cnp_err(CNP_E_IO, "%s: cannot open its warped copy: %s", role[k],
                         cnp_err_gdal_reason());
        else if (!r->buf[k])
            st = cnp_err(CNP_E_NOMEM, "out of memory for a tile of %s", role[k]);
    }
    if (st != CNP_OK) {
        cnp_ctxmask_reader_close(&r);
        return st;
    }
    *out = r;
    return CNP_OK;
}

void cnp_ctxmask_reader_close(cnp_ctxmask_reader **pr)
{
    if (!pr || !*pr)
        return;
    for (int k = 0; k < NMASK; k++) {
        if ((*pr)->ds[k])
            GDALClose((*pr)->ds[k]);
        free((*pr)->buf[k]);
    }
    free((*pr)->why);
    free(*pr);
    *pr = NULL;
}

static int in_list(int32_t v, const int *list, int n)
{
    for (int i = 0; i < n; i++)
        if (list[i] == v)
            return 1;
    return 0;
}

static int is_forest(const cnp_ctxmask_spec *s, int32_t v)
{
    if (v == NO_VALUE)
        return 0;
    return s->nforest_classes ? in_list(v, s->forest_classes, s->nforest_classes)
                              : (double)v >= s->forest_min;
}

static int is_excluded(const cnp_ctxmask_spec *s, int32_t v)
{
    if (v == NO_VALUE)
        return 0;
    if (s->nexclude_classes)
        return in_list(v, s->exclude_classes, s->nexclude_classes);
    if (s->exclude_last_year)
        return v >= 1 && v <= s->exclude_last_year;
    return v != 0;
}

/* The area of interest's pixels of the tile: 0 outside its raster's window
 * (a tile of monitor's grid may lie partly or wholly beyond it). */
static cnp_status read_aoi(cnp_ctxmask_reader *r, int x0, int y0, int w, int h)
{
    const cnp_ctxmask *m = r->m;
    int32_t *buf = r->buf[AOI];
    const int ax0 = x0 > m->aoi_x0 ? x0 : m->aoi_x0, ay0 = y0 > m->aoi_y0 ? y0 : m->aoi_y0;
    const int ax1 = x0 + w < m->aoi_x0 + m->aoi_w ? x0 + w : m->aoi_x0 + m->aoi_w;
    const int ay1 = y0 + h < m->aoi_y0 + m->aoi_h ? y0 + h : m->aoi_y0 + m->aoi_h;
    if (ax1 - ax0 < w || ay1 - ay0 < h)
        memset(buf, 0, (size_t)w * (size_t)h * sizeof *buf);
    if (ax1 <= ax0 || ay1 <= ay0)
        return CNP_OK;
    cnp_err_gdal_reset();
    int32_t *at = buf + (size_t)(ay0 - y0) * (size_t)w + (size_t)(ax0 - x0);
    if (GDALRasterIO(GDALGetRasterBand(r->ds[AOI], 1), GF_Read, ax0 - m->aoi_x0, ay0 - m->aoi_y0,
                     ax1 - ax0, ay1 - ay0, at, ax1 - ax0, ay1 - ay0, GDT_Int32, sizeof *buf,
                     (GSpacing)w * (GSpacing)sizeof *buf) != CE_None)
        return cnp_err(CNP_E_IO, "%s: cannot read pixels %d,%d (%dx%d) of its raster: %s",
                       role[AOI], ax0, ay0, ax1 - ax0, ay1 - ay0, cnp_err_gdal_reason());
    return CNP_OK;
}

cnp_status cnp_ctxmask_classify(cnp_ctxmask_reader *r, int x0, int y0, int w, int h,
                                uint8_t *why)
{
    for (int k = 0; k < NMASK; k++) {
        if (!r->ds[k])
            continue;
        if (k == AOI) {
            const cnp_status st = read_aoi(r, x0, y0, w, h);
            if (st != CNP_OK)
                return st;
            continue;
        }
        cnp_err_gdal_reset();
        if (GDALRasterIO(GDALGetRasterBand(r->ds[k], 1), GF_Read, x0, y0, w, h, r->buf[k], w, h,
                         GDT_Int32, 0, 0) != CE_None)
            return cnp_err(CNP_E_IO, "%s: cannot read pixels %d,%d (%dx%d) of its warped copy: %s",
                           role[k], x0, y0, w, h, cnp_err_gdal_reason());
    }
    const cnp_ctxmask_spec *s = &r->m->spec;
    const size_t n = (size_t)w * (size_t)h;
    for (size_t i = 0; i < n; i++) {
        if (r->buf[AOI] && !r->buf[AOI][i])
            why[i] = CNP_CTX_OUTSIDE;
        else if (r->buf[FOREST] && !is_forest(s, r->buf[FOREST][i]))
            why[i] = CNP_CTX_NOT_FOREST;
        else if (r->buf[EXCLUDE] && is_excluded(s, r->buf[EXCLUDE][i]))
            why[i] = CNP_CTX_EXCLUDED;
        else
            why[i] = CNP_CTX_IN;
    }
    return CNP_OK;
}

cnp_status cnp_ctxmask_restrict(cnp_ctxmask_reader *r, int x0, int y0, int w, int h,
                                uint8_t *cls, cnp_change_counts *counts)
{
    const cnp_status st = cnp_ctxmask_classify(r, x0, y0, w, h, r->why);
    if (st != CNP_OK)
        return st;
    const size_t n = (size_t)w * (size_t)h;
    int64_t not_forest = 0, excluded = 0, outside = 0;
    int64_t *const by_class[4] = { &counts->unobserved, &counts->other, &counts->forest,
                                   &counts->loss };
    for (size_t i = 0; i < n; i++) {
        const uint8_t why = r->why[i];
        if (why == CNP_CTX_OUTSIDE) {
            (*by_class[cls[i] & 3])--;
            cls[i] = CNP_CLASS_OTHER;
            outside++;
            continue;
        }
        if (why == CNP_CTX_IN || (cls[i] != CNP_CLASS_FOREST && cls[i] != CNP_CLASS_LOSS))
            continue;
        if (cls[i] == CNP_CLASS_LOSS)
            counts->loss--;
        else
            counts->forest--;
        counts->other++;
        cls[i] = CNP_CLASS_OTHER;
        not_forest += why == CNP_CTX_NOT_FOREST;
        excluded += why == CNP_CTX_EXCLUDED;
    }
    atomic_fetch_add(&r->m->not_forest, not_forest);
    atomic_fetch_add(&r->m->excluded, excluded);
    atomic_fetch_add(&r->m->outside, outside);
    return CNP_OK;
}

int64_t cnp_ctxmask_outside(const cnp_ctxmask *m)
{
    return m ? atomic_load(&m->outside) : 0;
}

cnp_status cnp_ctxmask_add_aoi(cnp_ctxmask **pm, const cnp_geometry *aoi, const char *wkt,
                               const double gt[6], const int win[4])
{
    if (!*pm && !(*pm = calloc(1, sizeof **pm)))
        return cnp_err(CNP_E_NOMEM, "out of memory");
    cnp_ctxmask *m = *pm;
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    char **co = CSLAddString(NULL, "TILED=YES");
    co = CSLAddString(co, "COMPRESS=DEFLATE");
    co = CSLAddString(co, "NBITS=1");
    snprintf(m->vrt[AOI], sizeof m->vrt[AOI], "/vsimem/canopy-ctx-%ld-%p-aoi.tif", (long)getpid(),
             (void *)m);
    cnp_err_gdal_reset();
    GDALDatasetH ds = drv ? GDALCreate(drv, m->vrt[AOI], win[2], win[3], 1, GDT_Byte, co) : NULL;
    CSLDestroy(co);
    if (!ds) {
        m->vrt[AOI][0] = '\0';
        return cnp_err(CNP_E_IO, "--aoi: cannot make its raster: %s", cnp_err_gdal_reason());
    }
    double agt[6] = { gt[0] + win[0] * gt[1], gt[1], 0, gt[3] + win[1] * gt[5], 0, gt[5] };
    GDALSetGeoTransform(ds, agt);
    GDALSetProjection(ds, wkt);
    int band = 1;
    double burn = 1;
    OGRGeometryH g = (OGRGeometryH)(uintptr_t)aoi;
    const CPLErr e = GDALRasterizeGeometries(ds, 1, &band, 1, &g, NULL, NULL, &burn, NULL, NULL,
                                             NULL);
    GDALClose(ds);
    m->aoi_x0 = win[0];
    m->aoi_y0 = win[1];
    m->aoi_w = win[2];
    m->aoi_h = win[3];
    if (e != CE_None)
        return cnp_err(CNP_E_IO, "--aoi: cannot rasterise it: %s", cnp_err_gdal_reason());
    return CNP_OK;
}

cnp_status cnp_ctxmask_open_aoi(const char *spec, const char *where, const char *wkt,
                                const double gt[6], int win[4], cnp_geometry **aoi,
                                int64_t *repaired, cnp_ctxmask **m)
{
    cnp_zone_source *z = NULL;
    *repaired = 0;
    cnp_status st = cnp_zone_source_open("--aoi", spec, NULL, wkt, gt, win, &z);
    if (st == CNP_OK)
        st = cnp_zone_source_union(z, aoi, repaired);
    cnp_zone_source_close(&z);
    if (st != CNP_OK)
        return st;
    if (!*aoi || !cnp_geom_window_in(*aoi, gt, win))
        return cnp_err(CNP_E_DATA, "--aoi '%s': none of its polygons overlaps %s", spec, where);
    return cnp_ctxmask_add_aoi(m, *aoi, wkt, gt, win);
}
