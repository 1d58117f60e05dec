/* tests/fuzz/cnp_fuzz.c - the fuzz targets' shared set-up: GDAL, settings,
 * in-memory product folders, resolution. */
#include "cnp_fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <gdal.h>

#include "cnp_err.h"
#include "cnp_gdal.h"
#include "cnp_product.h"

#define FUZZ_ROOT "/vsimem/fuzz"

const cnp_settings *cnp_fuzz_settings(void)
{
    static cnp_settings s;
    static int ready;
    if (!ready) {
        GDALAllRegister();
        cnp_err_install_gdal_handler(NULL, NULL);
        cnp_settings_defaults(&s);
        ready = 1;
    }
    return &s;
}

void cnp_fuzz_write(const char *path, const void *data, size_t size)
{
    /* /vsimem has folders only when made: the resolver stats them. */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        VSIMkdirRecursive(dir, 0755);
    }
    /* GDAL frees the buffer it is given with VSIFree() when the file goes. */
    GByte *copy = VSIMalloc(size ? size : 1);
    if (!copy)
        abort();
    if (size)
        memcpy(copy, data, size);
    VSILFILE *f = VSIFileFromMemBuffer(path, copy, (vsi_l_offset)size, TRUE);
    if (f)
        VSIFCloseL(f);
    else
        VSIFree(copy);
}

void cnp_fuzz_touch(const char *path)
{
    cnp_fuzz_write(path, "", 0);
}

void cnp_fuzz_touch_named(const cnp_meta *m, const char *dir, const char *prefix,
                          const char *ext)
{
    const size_t plen = strlen(prefix);
    int made = 0;
    for (size_t i = 0; i < m->n && made < 64; i++) {
        if (strncasecmp(m->v[i].key, prefix, plen) != 0 || !m->v[i].val[0] ||
            strlen(m->v[i].val) > 512)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s%s", dir, m->v[i].val, ext);
        cnp_fuzz_touch(path);
        made++;
    }
}

void cnp_fuzz_resolve_and_clean(const char *path)
{
    cnp_product p;
    int is_product = 0;
    const cnp_status st = cnp_product_resolve(path, cnp_fuzz_settings(), "FUZZ", &p,
                                              &is_product);
    /* CNP_FUZZ_VERBOSE=1: how far each input got (to check a harness's reach). */
    if (getenv("CNP_FUZZ_VERBOSE"))
        fprintf(stderr, "%s: %s\n", path, st == CNP_OK ? (is_product ? "a product" : "not a product")
                                                       : cnp_err_msg());
    if (st == CNP_OK)
        cnp_product_free(&p);
    VSIRmdirRecursive(FUZZ_ROOT);
}

void cnp_fuzz_mtl(const uint8_t *data, size_t size, const char *suffix, cnp_fuzz_parse_fn parse)
{
    const cnp_settings *s = cnp_fuzz_settings();
    static const char dir[] = FUZZ_ROOT "/LC08_L2SP_227065_20240615_20240622_02_T1";
    cnp_meta m = { 0 };
    char why[512], path[256];

    parse((const char *)data, size, &s->limits, &m, why, sizeof why);
    cnp_fuzz_touch_named(&m, dir, "FILE_NAME_", "");
    cnp_meta_free(&m);
    snprintf(path, sizeof path, "%s/LC08_L2SP_227065_20240615_20240622_02_T1%s", dir, suffix);
    cnp_fuzz_write(path, data, size);
    cnp_fuzz_resolve_and_clean(path);
}
