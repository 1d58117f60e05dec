/* pipeline/monitor/cnp_monitor_scan.c - what `canopy monitor`'s INPUT paths hold.
 *
 * An input is a satellite product (folder, .tar/.zip archive, metadata file,
 * STAC item: cnp_product_resolve decides) or a plain raster with an
 * acquisition date in its metadata. Folders that are not products are
 * searched recursively; a folder that looks like a product (its name or its
 * files) but does not resolve is reported with the reason, never searched
 * through. Resolution reads metadata only.
 */
#include "cnp_monitor_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <gdal.h>

#include "cnp_err.h"
#include "cnp_gdal.h"
#include "cnp_ident.h"
#include "cnp_product.h"

static const char *base_of(const char *p)
{
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    const char *s = p + n;
    while (s > p && s[-1] != '/')
        s--;
    return s;
}

static int ends_ci(const char *s, const char *suffix)
{
    const size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* Copy with truncation (no format: gcc's truncation warnings do not apply). */
static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= size)
        n = size - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

void mon_inputs_free(mon_inputs *in)
{
    if (!in)
        return;
    for (size_t i = 0; i < in->n; i++) {
        free(in->v[i].path);
        free(in->v[i].mask);
        free(in->v[i].error);
    }
    free(in->v);
    memset(in, 0, sizeof *in);
}

static cnp_status push(mon_inputs *in, mon_input **out)
{
    if (in->n == in->cap) {
        const size_t cap = in->cap ? 2 * in->cap : 32;
        mon_input *p = realloc(in->v, cap * sizeof *p);
        if (!p)
            return cnp_err(CNP_E_NOMEM, "out of memory");
        in->v = p;
        in->cap = cap;
    }
    *out = &in->v[in->n++];
    memset(*out, 0, sizeof **out);
    return CNP_OK;
}

static void set_error(mon_input *x, const char *msg)
{
    free(x->error);
    x->error = strdup(msg && *msg ? msg : "unknown error");
}

static void signature_of(const char *path, char *out, size_t size)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        copy_str(out, size, "");
        return;
    }
    snprintf(out, size, "%lld:%lld.%09ld", (long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
             sb.st_mtim.tv_nsec);
}

/* A date out of the raster's metadata (the items cnp_raster reads too). */
static int raster_date(GDALDatasetH ds, char out[CNP_DATE_LEN])
{
    static const char *const items[] = { "ACQUISITION_DATE", "DATE_ACQUIRED", "SENSING_TIME",
                                         "datetime", "TIFFTAG_DATETIME" };
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        const char *v = GDALGetMetadataItem(ds, items[i], NULL);
        int y, m, d;
        if (v && (sscanf(v, "%4d-%2d-%2d", &y, &m, &d) == 3 ||
                  sscanf(v, "%4d:%2d:%2d", &y, &m, &d) == 3) &&
            y >= 1950 && y <= 2200 && m >= 1 && m <= 12 && d >= 1 && d <= 31) {
            snprintf(out, CNP_DATE_LEN, "%04d-%02d-%02d", y, m, d);
            return 1;
        }
    }
    out[0] = '\0';
    return 0;
}

static void resolve_product(mon_input *x, const cnp_settings *s)
{
    cnp_product p;
    int is_product = 0;
    x->is_product = 1;
    copy_str(x->id, sizeof x->id, base_of(x->path));
    const cnp_status st = cnp_product_resolve(x->path, s, "", &p, &is_product);
    if (st != CNP_OK) {
        set_error(x, cnp_err_msg());
        return;
    }
    if (!is_product) {
        x->is_product = 0;
        return;
    }
    if (p.id[0])
        copy_str(x->id, sizeof x->id, p.id);
    copy_str(x->date, sizeof x->date, p.date);
    copy_str(x->fp_name, sizeof x->fp_name, p.footprint);
    if (p.footprint[0] &&
        cnp_ident_footprint_key(p.footprint, x->fp_key, sizeof x->fp_key, x->path) != CNP_OK) {
        set_error(x, cnp_err_msg());
        x->fp_key[0] = '\0';
    }
    copy_str(x->product, sizeof x->product, p.title[0] ? p.title : p.family);
    /* What a change of is worth reporting: family, layout, processing
     * baseline, which bands and quality layer the product has. */
    char bands[160] = "";
    for (int b = 0; b < CNP_NBANDS; b++) {
        if (!p.band[b].path)
            continue;
        if (bands[0])
            strncat(bands, ",", sizeof bands - strlen(bands) - 1);
        strncat(bands, p.band[b].name, sizeof bands - strlen(bands) - 1);
    }
    snprintf(x->format, sizeof x->format, "%s; layout %s; baseline %s; bands %s; mask %s",
             p.family, p.layout, p.baseline[0] ? p.baseline : "-", bands,
             p.mask_name[0] ? p.mask_name : "none");
    if (!p.date[0]) {
        char msg[512];
        snprintf(msg, sizeof msg, "product '%s' (%s) has no acquisition date", x->path, p.title);
        set_error(x, msg);
    }
    cnp_product_free(&p);
}

/* A plain raster: used when it has at least 2 bands and a date. Returns 0 to
 * ignore it silently (found by searching, and not a dated scene). */
static int resolve_raster(mon_input *x, int explicit_input)
{
    char msg[1024];
    copy_str(x->id, sizeof x->id, base_of(x->path));
    char *dot = strrchr(x->id, '.');
    if (dot && dot != x->id)
        *dot = '\0';
    copy_str(x->product, sizeof x->product, "raster");
    cnp_err_gdal_reset();
    GDALDatasetH ds = GDALOpenEx(x->path, GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                                 NULL, NULL, NULL);
    if (!ds) {
        if (!explicit_input)
            return 0;
        snprintf(msg, sizeof msg, "'%s': cannot open: %s", x->path,
                 *cnp_err_gdal_msg() ? cnp_err_gdal_msg() : CPLGetLastErrorMsg());
        set_error(x, msg);
        return 1;
    }
    const int has_date = raster_date(ds, x->date);
    const int nb = GDALGetRasterCount(ds);
    GDALDriverH drv = GDALGetDatasetDriver(ds);
    snprintf(x->product, sizeof x->product, "%s raster", drv ? GDALGetDriverShortName(drv) : "");
    snprintf(x->format, sizeof x->format, "%s; %d bands; %s", drv ? GDALGetDriverShortName(drv) : "",
             nb, nb > 0 ? GDALGetDataTypeName(GDALGetRasterDataType(GDALGetRasterBand(ds, 1)))
                        : "-");
    GDALClose(ds);
    if (!has_date && !explicit_input)
        return 0;
    if (!has_date) {
        snprintf(msg, sizeof msg, "'%s': no acquisition date in its metadata "
                 "(ACQUISITION_DATE, DATE_ACQUIRED, SENSING_TIME, datetime)", x->path);
        set_error(x, msg);
    } else if (nb < 2) {
        snprintf(msg, sizeof msg, "'%s': has %d band(s); red and NIR need at least 2", x->path,
                 nb);
        set_error(x, msg);
    }
    /* A sidecar mask: NAME_mask.tif next to NAME.tif. */
    char mpath[PATH_MAX + 16];
    const char *ext = strrchr(x->path, '.');
    if (ext && !strchr(ext, '/')) {
        snprintf(mpath, sizeof mpath, "%.*s_mask%s", (int)(ext - x->path), x->path, ext);
        struct stat sb;
        if (stat(mpath, &sb) == 0 && S_ISREG(sb.st_mode))
            x->mask = strdup(mpath);
    }
    return 1;
}

/* The input's id names it in the state, the database and the log: it must be
 * an identifier (base/cnp_ident), else the input is refused. A refused id is
 * still recorded (so the input is not retried while unchanged) as valid
 * UTF-8, which every place it goes to then escapes. */
static void check_id(mon_input *x)
{
    if (!x->error && cnp_ident_check(CNP_IDENT_ID, x->id, x->is_product ? "product id"
                                     : "scene id (the file name)", x->path) != CNP_OK)
        set_error(x, cnp_err_msg());
    if (!cnp_ident_utf8_valid(x->id)) {
        char id[MON_SCENE_LEN];
        cnp_ident_utf8_str(id, sizeof id, x->id);
        copy_str(x->id, sizeof x->id, id);
    }
}

static int has_entry_like(const char *dir, const char *const *patterns)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    if (!d)
        return 0;
    while (!found && (e = readdir(d)) != NULL)
        for (const char *const *p = patterns; *p && !found; p++)
            found = fnmatch(*p, e->d_name, FNM_CASEFOLD) == 0;
    closedir(d);
    return found;
}

/* A folder that is meant to be one product: by its name or its files. */
static int looks_like_product(const char *dir)
{
    static const char *const files[] = { "*_MTL.txt", "*_MTL.xml", "*_MTL.json", "MTD_MSIL2A.xml",
                                         "MTD_MSIL1C.xml", "B04.tif", "B08.tif", "SCL.tif",
                                         "*_SR_B4.TIF", "*_B4.TIF", NULL };
    static const char *const names[] = { "*.SAFE", "S2[ABCD]_*", "L[CETOM]0[0-9]_*", NULL };
    const char *name = base_of(dir);
    for (const char *const *p = names; *p; p++)
        if (fnmatch(*p, name, 0) == 0)
            return 1;
    return has_entry_like(dir, files);
}

static int looks_like_stac(const char *path)
{
    FILE *f = fopen(path, "r");
    char buf[65536];
    if (!f)
        return 0;
    const size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, "\"stac_version\"") != NULL;
}

static int is_raster_name(const char *name)
{
    return ends_ci(name, ".tif") || ends_ci(name, ".tiff") || ends_ci(name, ".vrt") ||
           ends_ci(name, ".img") || ends_ci(name, ".jp2");
}

static int is_archive_name(const char *name)
{
    return ends_ci(name, ".tar") || ends_ci(name, ".tar.gz") || ends_ci(name, ".tgz") ||
           ends_ci(name, ".zip");
}

static int is_metadata_name(const char *name)
{
    return fnmatch("*_MTL.txt", name, FNM_CASEFOLD) == 0 ||
           fnmatch("*_MTL.xml", name, FNM_CASEFOLD) == 0 ||
           fnmatch("*_MTL.json", name, FNM_CASEFOLD) == 0 ||
           fnmatch("MTD_MSIL2A.xml", name, FNM_CASEFOLD) == 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static cnp_status scan_path(const char *path, int explicit_input, int depth,
                            const cnp_settings *s, const char *skip_real, mon_inputs *out);

static cnp_status scan_dir(const char *dir, int depth, const cnp_settings *s,
                           const char *skip_real, mon_inputs *out)
{
    char real[PATH_MAX];
    if (depth > 32)
        return CNP_OK;
    if (skip_real && realpath(dir, real) && strcmp(real, skip_real) == 0)
        return CNP_OK;
    DIR *d = opendir(dir);
    if (!d)
        return cnp_err(CNP_E_IO, "cannot read folder '%s': %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    cnp_status st = CNP_OK;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) {
                st = cnp_err(CNP_E_NOMEM, "out of memory");
                break;
            }
            names = p;
        }
        if (!(names[n] = strdup(e->d_name))) {
            st = cnp_err(CNP_E_NOMEM, "out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (st == CNP_OK && n > 1)
        qsort(names, n, sizeof *names, cmp_name);
    for (size_t i = 0; i < n && st == CNP_OK; i++) {
        char child[PATH_MAX];
        if (snprintf(child, sizeof child, "%s/%s", dir, names[i]) >= (int)sizeof child)
            continue;
        st = scan_path(child, 0, depth + 1, s, skip_real, out);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return st;
}

static cnp_status scan_path(const char *path, int explicit_input, int depth,
                            const cnp_settings *s, const char *skip_real, mon_inputs *out)
{
    struct stat sb;
    const char *name = base_of(path);
    mon_input *x = NULL;
    cnp_status st;

    if (stat(path, &sb) != 0) {
        if (explicit_input)
            return cnp_err(CNP_E_IO, "input '%s': %s", path, strerror(errno));
        return CNP_OK;
    }
    if (S_ISDIR(sb.st_mode)) {
        if (!looks_like_product(path))
            return scan_dir(path, depth, s, skip_real, out);
    } else if (!S_ISREG(sb.st_mode)) {
        return CNP_OK;
    } else if (ends_ci(name, ".json")) {
        if (!explicit_input && !looks_like_stac(path))
            return CNP_OK;
    } else if (is_raster_name(name)) {
        if (!explicit_input && fnmatch("*_mask.*", name, FNM_CASEFOLD) == 0)
            return CNP_OK;
    } else if (!is_archive_name(name) && !is_metadata_name(name) && !explicit_input) {
        return CNP_OK;
    }

    if ((st = push(out, &x)) != CNP_OK)
        return st;
    if (!(x->path = strdup(path)))
        return cnp_err(CNP_E_NOMEM, "out of memory");
    signature_of(path, x->signature, sizeof x->signature);
    if (S_ISDIR(sb.st_mode) || !is_raster_name(name))
        resolve_product(x, s);
    if (!x->is_product && !x->error && !resolve_raster(x, explicit_input)) {
        free(x->path);
        free(x->mask);
        free(x->error);
        out->n--;
        return CNP_OK;
    }
    check_id(x);
    return CNP_OK;
}

static int cmp_input(const void *a, const void *b)
{
    const mon_input *x = a, *y = b;
    const int c = strcmp(x->date, y->date);
    if (c)
        return c;
    const int d = strcmp(x->id, y->id);
    return d ? d : strcmp(x->path, y->path);
}

cnp_status mon_scan(char *const *paths, int npaths, const cnp_settings *s, const char *skip_dir,
                    mon_inputs *out)
{
    char skip_real[PATH_MAX];
    const char *skip = skip_dir && realpath(skip_dir, skip_real) ? skip_real : NULL;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < npaths; i++) {
        cnp_status st = scan_path(paths[i], 1, 0, s, skip, out);
        if (st != CNP_OK) {
            mon_inputs_free(out);
            return st;
        }
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, cmp_input);
    return CNP_OK;
}
