/* pipeline/io/cnp_maskcheck.c - does a mask raster look like a mask? */
#include "cnp_maskcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cpl_error.h>
#include <gdal.h>

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cnp_mask_looks_like_data(const char *path, char *why, size_t wsize)
{
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    CPLPopErrorHandler();
    if (!ds)
        return 0;
    int looks = 0;
    GDALRasterBandH b = GDALGetRasterCount(ds) > 0 ? GDALGetRasterBand(ds, 1) : NULL;
    const int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
    const int sw = w < 512 ? w : 512, sh = h < 512 ? h : 512;
    double *v = b && sw > 0 && sh > 0 ? malloc((size_t)sw * (size_t)sh * sizeof *v) : NULL;
    if (v) {
        GDALRasterIOExtraArg arg;
        INIT_RASTERIO_EXTRA_ARG(arg);
        arg.eResampleAlg = GRIORA_NearestNeighbour;   /* values as they are, no blends */
        CPLPushErrorHandler(CPLQuietErrorHandler);
        const CPLErr e = GDALRasterIOEx(b, GF_Read, 0, 0, w, h, v, sw, sh, GDT_Float64, 0, 0, &arg);
        CPLPopErrorHandler();
        if (e == CE_None) {
            int has_nodata = 0;
            const double nodata = GDALGetRasterNoDataValue(b, &has_nodata);
            size_t n = 0;
            for (size_t i = 0; i < (size_t)sw * (size_t)sh; i++)
                if (isfinite(v[i]) && !(has_nodata && v[i] == nodata))
                    v[n++] = v[i];
            size_t distinct = 0;
            double frac = NAN;
            if (n > 1)
                qsort(v, n, sizeof *v, cmp_double);
            for (size_t i = 0; i < n; i++) {
                distinct += i == 0 || v[i] != v[i - 1];
                if (isnan(frac) && v[i] != floor(v[i]))
                    frac = v[i];
            }
            if (!isnan(frac)) {
                snprintf(why, wsize, "it holds values with a fraction (%g), as reflectance or "
                         "NDVI does, where a mask holds classes", frac);
                looks = 1;
            } else if (distinct > CNP_MASK_MAX_CLASSES) {
                snprintf(why, wsize, "it holds %zu distinct values (%g to %g) in a sample of "
                         "%d x %d pixels, as image data does, where a mask holds a few classes",
                         distinct, v[0], v[n - 1], sw, sh);
                looks = 1;
            }
        }
    }
    free(v);
    GDALClose(ds);
    return looks;
}
