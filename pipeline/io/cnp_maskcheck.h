/* pipeline/io/cnp_maskcheck.h - does a mask raster look like a mask?
 *
 * A mask raster holds a handful of classes (SCL: 12, Fmask: 5, QA bit words:
 * a few dozen combinations). A reflectance or NDVI band given as a mask by
 * mistake decodes into nonsense without an error; this check lets the run say
 * so (a warning: the run goes on).
 */
#ifndef CNP_MASKCHECK_H
#define CNP_MASKCHECK_H

#include <stddef.h>

/* Distinct values in the sample above which a mask looks like image data. */
#define CNP_MASK_MAX_CLASSES 256

/* cnp_mask_looks_like_data() :
 * Reads band 1 of the raster at `path` decimated to at most 512 x 512 pixels
 * (GDAL takes an overview when there is one) and returns 1 when it looks like
 * image data: a value with a fraction, or more than CNP_MASK_MAX_CLASSES
 * distinct values; `why` then says what was seen. 0 otherwise, also when the
 * raster cannot be read (reading the scene reports that). */
int cnp_mask_looks_like_data(const char *path, char *why, size_t wsize);

#endif /* CNP_MASKCHECK_H */
