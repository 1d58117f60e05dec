/* pipeline/io/cnp_gdal.c - the bridge from GDAL/CPL errors to cnp_err. */
#include "cnp_gdal.h"

#include <stdio.h>

#include <stdlib.h>

#include <cpl_error.h>
#include <gdal.h>

static _Thread_local char gdal_msg[512];
static cnp_gdal_note_fn gdal_note;
static void *gdal_note_arg;
static CPLErrorHandler previous_handler;

const char *cnp_err_gdal_msg(void) { return gdal_msg; }
void cnp_err_gdal_reset(void) { gdal_msg[0] = '\0'; }

const char *cnp_err_gdal_reason(void)
{
    const char *m = gdal_msg;
    if (!*m)
        m = CPLGetLastErrorMsg();
    return *m ? m : "unknown reason";
}

static void CPL_STDCALL gdal_handler(CPLErr cls, CPLErrorNum no, const char *msg)
{
    (void)no;
    if (cls >= CE_Failure)
        snprintf(gdal_msg, sizeof gdal_msg, "%s", msg);
    else if ((cls == CE_Warning || cls == CE_Debug) && gdal_note)
        gdal_note(gdal_note_arg, cls == CE_Debug, msg);
}

/* CPLSetErrorHandler, not CPLPushErrorHandler: the pushed stack is per thread,
 * and worker threads that read tiles must report through us too. */
void cnp_err_install_gdal_handler(cnp_gdal_note_fn note, void *arg)
{
    gdal_note = note;
    gdal_note_arg = arg;
    previous_handler = CPLSetErrorHandler(gdal_handler);
}

void cnp_err_remove_gdal_handler(void) { CPLSetErrorHandler(previous_handler); }

void cnp_gdal_cache_set(int64_t bytes) { GDALSetCacheMax64((GIntBig)bytes); }
int64_t cnp_gdal_cache_get(void) { return (int64_t)GDALGetCacheMax64(); }
int cnp_gdal_cache_user_set(void) { return getenv("GDAL_CACHEMAX") != NULL; }

void cnp_gdal_gpkg_stamp(char *buf, size_t size, const char *date)
{
    snprintf(buf, size, "%.10sT00:00:00.000Z", date);
}
