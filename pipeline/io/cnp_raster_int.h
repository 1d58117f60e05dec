/* pipeline/io/cnp_raster_int.h - what cnp_raster.c and cnp_reader.c share,
 * inside io/. */
#ifndef CNP_RASTER_INT_H
#define CNP_RASTER_INT_H

#include <gdal.h>

/* A raster opened read-only with GDAL's errors reported (the last one kept
 * for the message: cnp_err_gdal_reason()); NULL when it does not open. */
GDALDatasetH cnp_raster_open(const char *path);

#endif /* CNP_RASTER_INT_H */
