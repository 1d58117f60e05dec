/* pipeline/io/cnp_tilefile.c - a footprint's state GeoTIFFs: read tile by
 * tile, written from a tile store. */
#include "cnp_tilefile.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>

#include "cnp_err.h"
#include "cnp_fs.h"
#include "cnp_gdal.h"

struct cnp_tilefile {
    GDALDatasetH ds;
    int          bands;
    char        *path;
};

static GDALDataType gdal_type(cnp_cell_type t)
{
    switch (t) {
    case CNP_CELL_INT32:   return GDT_Int32;
    case CNP_CELL_UINT32:  return GDT_UInt32;
    case CNP_CELL_FLOAT32: return GDT_Float32;
    default:               return GDT_Byte;
    }
}

static size_t cell_size(cnp_cell_type t) { return t == CNP_CELL_BYTE ? 1 : 4; }

cnp_status cnp_tilefile_open(const char *path, int w, int h, int bands, const char *what,
                             cnp_tilefile **out)
{
    *out = NULL;
    cnp_err_gdal_reset();
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                                 NULL, NULL, NULL);
    if (!ds)
        return cnp_err(CNP_E_IO, "%s: cannot open '%s': %s", what, path, cnp_err_gdal_reason());
    if (GDALGetRasterXSize(ds) != w || GDALGetRasterYSize(ds) != h ||
        GDALGetRasterCount(ds) != bands) {
        GDALClose(ds);
        return cnp_err(CNP_E_DATA, "%s: '%s' does not match the footprint's grid", what, path);
    }
    cnp_tilefile *t = calloc(1, sizeof *t);
    if (!t || !(t->path = strdup(path))) {
        free(t);
        GDALClose(ds);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    t->ds = ds;
    t->bands = bands;
    *out = t;
    return CNP_OK;
}

cnp_status cnp_tilefile_read(cnp_tilefile *t, int x0, int y0, int w, int h, cnp_cell_type type,
                             void *buf)
{
    cnp_err_gdal_reset();
    if (GDALDatasetRasterIO(t->ds, GF_Read, x0, y0, w, h, buf, w, h, gdal_type(type), t->bands,
                            NULL, 0, 0, 0) != CE_None)
        return cnp_err(CNP_E_IO, "reading state file '%s' at %d,%d: %s", t->path, x0, y0,
                       cnp_err_gdal_reason());
    return CNP_OK;
}

void cnp_tilefile_close(cnp_tilefile **pt)
{
    if (!pt || !*pt)
        return;
    GDALClose((*pt)->ds);
    free((*pt)->path);
    free(*pt);
    *pt = NULL;
}

static GDALDatasetH create_tiff(const char *path, const cnp_tilefile_def *d, int w, int h,
                                const double gt[6], const char *wkt, int threads)
{
    char nt[32];
    double g[6];
    snprintf(nt, sizeof nt, "NUM_THREADS=%d", threads > 0 ? threads : 1);
    char **opts = CSLAddString(NULL, "TILED=YES");
    opts = CSLAddString(opts, "BLOCKXSIZE=256");
    opts = CSLAddString(opts, "BLOCKYSIZE=256");
    opts = CSLAddString(opts, "COMPRESS=DEFLATE");
    opts = CSLAddString(opts, "ZLEVEL=1");
    opts = CSLAddString(opts, nt);
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, w, h, d->bands,
                                 gdal_type(d->type), opts);
    CSLDestroy(opts);
    if (!ds)
        return NULL;
    memcpy(g, gt, sizeof g);
    GDALSetGeoTransform(ds, g);
    GDALSetProjection(ds, wkt);
    for (int b = 0; b < d->bands; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
        if (b < (int)(sizeof d->desc / sizeof d->desc[0]) && d->desc[b])
            GDALSetDescription(band, d->desc[b]);
        if (d->type == CNP_CELL_FLOAT32)
            GDALSetRasterNoDataValue(band, NAN);
    }
    return ds;
}

/* One GeoTIFF from its planes, tile by tile; GDAL compresses the blocks on
 * its worker threads as they leave its cache. */
static cnp_status publish_one(cnp_tilestore *store, const cnp_tilefile_def *d, const char *dir,
                              int width, int height, const double gt[6], const char *wkt,
                              int threads, void *buf)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, d->name);
    cnp_err_gdal_reset();
    GDALDatasetH ds = create_tiff(path, d, width, height, gt, wkt, threads);
    if (!ds)
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", path, cnp_err_gdal_reason());
    const size_t es = cell_size(d->type);
    cnp_status st = CNP_OK;
    for (int ty = 0; ty < cnp_tilestore_tiles_y(store) && st == CNP_OK; ty++) {
        const int y0 = ty * CNP_TILE, th = height - y0 < CNP_TILE ? height - y0 : CNP_TILE;
        for (int tx = 0; tx < cnp_tilestore_tiles_x(store) && st == CNP_OK; tx++) {
            const int x0 = tx * CNP_TILE, tw = width - x0 < CNP_TILE ? width - x0 : CNP_TILE;
            const size_t plane = (size_t)tw * (size_t)th * es;
            for (int b = 0; b < d->bands && st == CNP_OK; b++)
                st = cnp_tilestore_read(store, tx, ty, d->plane + b,
                                        (unsigned char *)buf + (size_t)b * plane);
            if (st == CNP_OK &&
                GDALDatasetRasterIO(ds, GF_Write, x0, y0, tw, th, buf, tw, th,
                                    gdal_type(d->type), d->bands, NULL, 0, 0, 0) != CE_None)
                st = cnp_err(CNP_E_IO, "writing '%s': %s", path, cnp_err_gdal_reason());
        }
    }
    cnp_err_gdal_reset();
    CPLErrorReset();
    GDALClose(ds);
    if (st == CNP_OK && (CPLGetLastErrorType() >= CE_Failure || *cnp_err_gdal_msg()))
        st = cnp_err(CNP_E_IO, "writing '%s': %s", path, cnp_err_gdal_reason());
    if (st == CNP_OK)
        st = cnp_fs_fsync_path(path);
    return st;
}

cnp_status cnp_tilefile_publish(cnp_tilestore *store, const cnp_tilefile_def *defs, size_t n,
                                const char *dir, int width, int height, const double gt[6],
                                const char *wkt, int threads)
{
    int maxb = 1;
    for (size_t i = 0; i < n; i++)
        maxb = defs[i].bands > maxb ? defs[i].bands : maxb;
    void *buf = malloc((size_t)CNP_TILE * CNP_TILE * 4 * (size_t)maxb);
    if (!buf)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    cnp_status st = CNP_OK;
    for (size_t i = 0; i < n && st == CNP_OK; i++)
        st = publish_one(store, &defs[i], dir, width, height, gt, wkt, threads, buf);
    free(buf);
    return st;
}
