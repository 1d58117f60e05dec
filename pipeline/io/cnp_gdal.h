/* pipeline/io/cnp_gdal.h - GDAL's error messages, routed into ours.
 *
 * GDAL reports failures through CPLError; the handler installed here keeps
 * the last failure's text per thread, so a caller can put it in its own
 * cnp_err() message instead of GDAL printing it on stderr.
 */
#ifndef CNP_GDAL_H
#define CNP_GDAL_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_err.h"

/* cnp_err_gdal_msg() : the last GDAL failure message seen by the handler on
 * this thread, or "" (cleared by cnp_err_gdal_reset()). */
const char *cnp_err_gdal_msg(void);
void cnp_err_gdal_reset(void);

/* cnp_err_gdal_reason() : the best text GDAL gave for its last failure on this
 * thread (our handler's copy, else CPLGetLastErrorMsg()), or "unknown reason". */
const char *cnp_err_gdal_reason(void);

/* A GDAL warning (debug 0) or debug message (debug 1: only with CPL_DEBUG set)
 * for the CLI to show or collect. Called from whichever thread GDAL reports
 * on, worker threads included: it must be thread-safe. */
typedef void (*cnp_gdal_note_fn)(void *arg, int debug, const char *msg);

/* Route GDAL/CPL errors into cnp_err_gdal_msg(), and warnings and debug
 * messages to `note` (NULL: dropped). Install once from the main thread;
 * remove before GDALDestroy(). */
void cnp_err_install_gdal_handler(cnp_gdal_note_fn note, void *arg);
void cnp_err_remove_gdal_handler(void);

/* GDAL's block cache: its size in bytes, and whether the user set it
 * (GDAL_CACHEMAX in the environment), which Canopy then leaves alone. */
void cnp_gdal_cache_set(int64_t bytes);
int64_t cnp_gdal_cache_get(void);
int cnp_gdal_cache_user_set(void);

/* cnp_gdal_gpkg_stamp() :
 * The OGR_CURRENT_DATE value that pins a GeoPackage's gpkg_contents.last_change
 * to midnight of `date` (YYYY-MM-DD), so the same alerts give the same file.
 * The GeoPackage standard (Requirement 15) wants fractional seconds:
 * YYYY-MM-DDT00:00:00.000Z. */
void cnp_gdal_gpkg_stamp(char *buf, size_t size, const char *date);

#endif /* CNP_GDAL_H */
