/* pipeline/io/cnp_discover.c - one input discovery for batch and monitor
 * (cnp_discover.h says what counts as an input).
 *
 * Where the two commands' rules used to differ, these are kept: batch's
 * raster extensions (the longer list), metadata names (MTD_MSIL*.xml, L1C
 * too), STAC test (a parsed item, not "stac_version" anywhere in the text),
 * file-name dates, claimed files and duplicate ids; monitor's footprint key.
 */
#include "cnp_discover.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <gdal.h>
#include <json.h>

#include "cnp_err.h"
#include "cnp_gdal.h"
#include "cnp_ident.h"
#include "cnp_meta.h"
#include "cnp_raster.h"

/* ---- small helpers ------------------------------------------------------- */

static char *dupstr(const char *s) { return s ? strdup(s) : NULL; }

static int ends_with_ci(const char *s, const char *suffix)
{
    const size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static const char *base_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* 0, or -1 out of memory (the message set): cnp_grow_zeroed as the callers
 * here test it. */
static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    return cnp_grow_zeroed(arr, cap, need, elem, "the inputs") == CNP_OK ? 0 : -1;
}

static int valid_ymd(int y, int m, int d)
{
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1950 || y > 2200 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    const int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* A date in a file name: YYYY-MM-DD or YYYYMMDD not inside a longer number. */
static int date_from_name(const char *name, char out[CNP_DATE_LEN])
{
    for (const char *p = name; *p; p++) {
        if (p > name && isdigit((unsigned char)p[-1]))
            continue;
        int y, m, d, n = 0;
        if (sscanf(p, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && n == 10 &&
            !isdigit((unsigned char)p[10]) && valid_ymd(y, m, d)) {
            snprintf(out, CNP_DATE_LEN, "%04d-%02d-%02d", y, m, d);
            return 1;
        }
        int k = 0;
        while (isdigit((unsigned char)p[k]))
            k++;
        if (k == 8 && sscanf(p, "%4d%2d%2d", &y, &m, &d) == 3 && valid_ymd(y, m, d)) {
            snprintf(out, CNP_DATE_LEN, "%04d-%02d-%02d", y, m, d);
            return 1;
        }
    }
    return 0;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- the walk ------------------------------------------------------------- */

typedef struct disc {
    const cnp_discover_opts *o;
    cnp_discovery *out;
    size_t  capscene, capitem;
    char  **cand;                   /* raster candidates, absolute paths       */
    size_t  ncand, capcand;
    char  **claimed;                /* files that products read                */
    size_t  nclaimed, capclaimed;
    char  **keys;                   /* product ids found, for duplicates       */
    size_t  nkeys, capkeys;
    char    skip_real[PATH_MAX];
    int     nomem;
    cnp_status fatal;               /* stops discovery: bad profiles           */
    char    fatal_msg[1024];
} disc;

static void note_item(disc *d, const char *path, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void note_item(disc *d, const char *path, const char *status, const char *fmt, ...)
{
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    cnp_discovery *out = d->out;
    if (grow((void **)&out->item, &d->capitem, out->nitem + 1, sizeof *out->item)) {
        d->nomem = 1;
        return;
    }
    cnp_discover_item *it = &out->item[out->nitem++];
    it->path = dupstr(path);
    snprintf(it->status, sizeof it->status, "%s", status);
    it->reason = dupstr(why);
    if (!it->path || !it->reason)
        d->nomem = 1;
    if (d->o->log) {
        char line[2200];
        snprintf(line, sizeof line, "%s: %s %s: %s", d->o->who ? d->o->who : "discover",
                 status, path, why);
        cnp_ident_write_term(d->o->log, line);
        fputc('\n', d->o->log);
    }
}

static void add_str(disc *d, char ***arr, size_t *n, size_t *cap, const char *s)
{
    if (grow((void **)arr, cap, *n + 1, sizeof **arr) || !((*arr)[*n] = strdup(s))) {
        d->nomem = 1;
        return;
    }
    (*n)++;
}

static void claim(disc *d, const char *path)
{
    char real[PATH_MAX];
    if (path && path[0] == '/' && strncmp(path, "/vsi", 4) != 0 && realpath(path, real))
        add_str(d, &d->claimed, &d->nclaimed, &d->capclaimed, real);
}

static int in_list(char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

static cnp_discover_scene *new_scene(disc *d)
{
    cnp_discovery *out = d->out;
    if (grow((void **)&out->scene, &d->capscene, out->nscene + 1, sizeof *out->scene)) {
        d->nomem = 1;
        return NULL;
    }
    cnp_discover_scene *f = &out->scene[out->nscene++];
    memset(f, 0, sizeof *f);
    return f;
}

static void scene_free(cnp_discover_scene *f)
{
    free(f->path);
    free(f->mask);
    free(f->note);
    free(f->wkt);
    memset(f, 0, sizeof *f);
}

/* Grid, size, date and readability of a scene, through cnp_scene_open as
 * detect will open it (a product comes from the session: not recognised
 * again). Returns the status; the message is in cnp_err_msg(). */
static cnp_status probe_scene(const disc *d, cnp_discover_scene *f)
{
    cnp_scene sc;
    memset(&sc, 0, sizeof sc);
    const cnp_status st = cnp_scene_open(&sc, "", f->path, f->mask, d->o->settings, "");
    if (st == CNP_OK) {
        f->width = sc.src_width > 0 ? sc.src_width : sc.width;
        f->height = sc.src_height > 0 ? sc.src_height : sc.height;
        f->pixels = (int64_t)f->width * f->height;
        memcpy(f->gt, sc.gt, sizeof f->gt);
        f->wkt = dupstr(sc.wkt ? sc.wkt : "");
        if (!f->date[0] && sc.date[0]) {
            snprintf(f->date, sizeof f->date, "%s", sc.date);
            snprintf(f->date_source, sizeof f->date_source, "metadata");
        }
    }
    cnp_scene_free(&sc);
    return st;
}

/* What a change of is worth reporting: family, layout, processing baseline,
 * which bands and quality layer the product has (monitor compares it). */
static void product_format(const cnp_product *p, char *out, size_t size)
{
    char bands[160] = "";
    for (int b = 0; b < CNP_NBANDS; b++) {
        if (!p->band[b].path)
            continue;
        if (bands[0])
            strncat(bands, ",", sizeof bands - strlen(bands) - 1);
        strncat(bands, p->band[b].name, sizeof bands - strlen(bands) - 1);
    }
    snprintf(out, size, "%s; layout %s; baseline %s; bands %s; mask %s", p->family, p->layout,
             p->baseline[0] ? p->baseline : "-", bands, p->mask_name[0] ? p->mask_name : "none");
}

static void add_product(disc *d, const char *path, cnp_product *pr)
{
    const char *id = pr->id[0] ? pr->id : base_of(path);
    for (size_t i = 0; i < d->nkeys; i++)
        if (strcmp(d->keys[i], id) == 0) {
            note_item(d, path, "duplicate", "product %s is already found at %s", id,
                      d->out->scene[i].path);
            return;
        }
    if (!pr->date[0]) {
        note_item(d, path, "ignored", "product %s has no acquisition date", id);
        return;
    }
    /* The id names pair folders and monitor records, the footprint key a
     * footprint's folder: both pass the one validator, or the input fails. */
    char key[CNP_FOOTPRINT_KEY_LEN];
    if (cnp_ident_check(CNP_IDENT_ID, id, "product id", NULL) != CNP_OK ||
        (pr->footprint[0] && cnp_footprint_key(pr->footprint, NULL, NULL, 0, 0, key,
                                               sizeof key, path) != CNP_OK)) {
        note_item(d, path, "failed", "%s", cnp_err_msg());
        return;
    }
    /* keys[] runs parallel to scene[] while products are added. */
    add_str(d, &d->keys, &d->nkeys, &d->capkeys, id);
    cnp_discover_scene *f = d->nomem ? NULL : new_scene(d);
    if (!f)
        return;
    f->path = dupstr(path);
    f->is_product = 1;
    snprintf(f->id, sizeof f->id, "%s", id);
    snprintf(f->date, sizeof f->date, "%s", pr->date);
    snprintf(f->date_source, sizeof f->date_source, "metadata");
    snprintf(f->kind, sizeof f->kind, "%s", pr->family);
    snprintf(f->product, sizeof f->product, "%s", pr->title[0] ? pr->title : pr->family);
    product_format(pr, f->format, sizeof f->format);
    snprintf(f->fp_name, sizeof f->fp_name, "%s", pr->footprint);
    if (pr->footprint[0])
        snprintf(f->fp_key, sizeof f->fp_key, "%s", key);
    for (size_t i = 0; i < pr->nfiles; i++)
        claim(d, pr->files[i].path);
    for (int b = 0; b < CNP_NBANDS; b++)
        claim(d, pr->band[b].path);
    claim(d, pr->mask_path);
    if (!f->path) {
        d->nomem = 1;
        return;
    }
    if (probe_scene(d, f) != CNP_OK)
        f->note = dupstr(cnp_err_msg() + strspn(cnp_err_msg(), " "));
    else if (!f->fp_key[0])
        cnp_footprint_key(NULL, f->wkt, f->gt, f->width, f->height, f->fp_key,
                          sizeof f->fp_key, path);
    if (d->o->log && f->note) {
        char line[2200];
        snprintf(line, sizeof line, "%s: unreadable %s %s (its runs will fail): %s",
                 d->o->who ? d->o->who : "discover", pr->family, f->id, f->note);
        cnp_ident_write_term(d->o->log, line);
        fputc('\n', d->o->log);
    }
}

/* cnp_product_resolve on a path; 1 = a product was added, 0 = not a product,
 * -1 = looked like one but failed (recorded as a failed item when `report`). */
static int try_product(disc *d, const char *path, int report)
{
    cnp_product pr;
    int is_product = 0;
    const cnp_status st = cnp_product_resolve(path, d->o->settings, "", &pr, &is_product);
    if (st != CNP_OK) {
        if (st == CNP_E_NOMEM)
            d->nomem = 1;
        if (st == CNP_E_CONFIG && !d->fatal) {
            /* A bad profile or profile folder: no product can be read. */
            d->fatal = st;
            snprintf(d->fatal_msg, sizeof d->fatal_msg, "%s", cnp_err_msg());
        }
        if (report && !d->fatal)
            note_item(d, path, "failed", "%s", cnp_err_msg());
        return -1;
    }
    if (!is_product)
        return 0;
    add_product(d, path, &pr);
    cnp_product_free(&pr);
    return 1;
}

static int is_raster_name(const char *name)
{
    static const char *const ext[] = { ".tif", ".tiff", ".vrt", ".img", ".jp2", ".nc", ".hdf",
                                       ".h5", ".envi", ".dat", ".kea" };
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (ends_with_ci(name, ext[i]))
            return 1;
    return 0;
}

static int is_archive_name(const char *name)
{
    return ends_with_ci(name, ".tar") || ends_with_ci(name, ".tar.gz") ||
           ends_with_ci(name, ".tgz") || ends_with_ci(name, ".zip");
}

static int is_metadata_name(const char *name)
{
    return ends_with_ci(name, "_MTL.txt") || ends_with_ci(name, "_MTL.xml") ||
           ends_with_ci(name, "_MTL.json") ||
           (strncasecmp(name, "MTD_MSIL", 8) == 0 && ends_with_ci(name, ".xml"));
}

/* A .json that says it is a STAC item (its failures are worth reporting);
 * catalogs, collections and other JSON are not scenes. One over the
 * [limits] is reported too: it could be an item, and it is refused. */
static int looks_like_stac(const char *path, const cnp_limits *lim)
{
    char *text = NULL, why[256];
    size_t len = 0;
    int rc = cnp_meta_read(path, lim, &text, &len, why, sizeof why);
    json_object *o = rc == CNP_META_OK ? cnp_meta_json(text, len, lim, &rc, why, sizeof why)
                                       : NULL;
    free(text);
    json_object *v = NULL;
    json_object *t = NULL;
    const int yes = o && json_object_is_type(o, json_type_object) &&
                    json_object_object_get_ex(o, "stac_version", &v) &&
                    json_object_object_get_ex(o, "type", &t) &&
                    strcmp(json_object_get_string(t), "Feature") == 0;
    json_object_put(o);
    return yes || rc == CNP_META_LIMIT;
}

static void walk(disc *d, const char *path, int top, int depth);

/* A text file listing inputs, one per line ('#' starts a comment). Relative
 * paths are relative to the list file's folder. */
static void read_list(disc *d, const char *path, int depth)
{
    FILE *f = fopen(path, "r");
    char line[4096], dir[PATH_MAX], full[PATH_MAX + 4096];
    if (!f) {
        note_item(d, path, "failed", "cannot read the list: %s", strerror(errno));
        return;
    }
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    while (!d->fatal && fgets(line, sizeof line, f)) {
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        size_t n = strlen(s);
        while (n > 0 && isspace((unsigned char)s[n - 1]))
            s[--n] = '\0';
        if (!*s || *s == '#')
            continue;
        if (s[0] == '/' || strstr(s, "://"))
            snprintf(full, sizeof full, "%s", s);
        else
            snprintf(full, sizeof full, "%s/%s", dir, s);
        walk(d, full, 1, depth + 1);
    }
    fclose(f);
}

/* The entries of a folder, sorted, hidden ones left out (., .., staging
 * folders .canopy-tmp-*). *evidence: some name says "product metadata";
 * *njson: .json files; *nmtl: distinct Landsat MTL stems. */
static char **list_dir(disc *d, DIR *dir, size_t *n, int *evidence, int *njson, int *nmtl)
{
    char **names = NULL, mtl[256] = "";
    size_t cap = 0;
    struct dirent *e;
    *n = 0;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        add_str(d, &names, n, &cap, e->d_name);
        *evidence |= is_metadata_name(e->d_name);
        *njson += ends_with_ci(e->d_name, ".json");
        /* Several Landsat products unpacked into one folder: one MTL stem each. */
        const char *m = strcasestr(e->d_name, "_MTL.");
        if (m && is_metadata_name(e->d_name) && (size_t)(m - e->d_name) < sizeof mtl &&
            (strncmp(mtl, e->d_name, (size_t)(m - e->d_name)) != 0 ||
             mtl[m - e->d_name] != '\0')) {
            (*nmtl)++;
            snprintf(mtl, sizeof mtl, "%.*s", (int)(m - e->d_name), e->d_name);
        }
    }
    if (*n > 1)   /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(names, *n, sizeof *names, cmp_cstr);
    return names;
}

static void walk_dir(disc *d, const char *path, int depth)
{
    DIR *dir = opendir(path);
    if (!dir) {
        note_item(d, path, "failed", "cannot read the folder: %s", strerror(errno));
        return;
    }
    size_t n = 0;
    int evidence = 0, njson = 0, nmtl = 0;
    char **names = list_dir(d, dir, &n, &evidence, &njson, &nmtl);
    closedir(dir);
    evidence |= ends_with_ci(path, ".SAFE");
    /* Several products' metadata side by side: each file on its own, below. */
    const int many = nmtl > 1;

    /* Assets of a product found already (a STAC item beside this folder). */
    for (size_t i = 0; i < n; i++) {
        char full[PATH_MAX + 256];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        if (in_list(d->claimed, d->nclaimed, full))
            goto done;
    }

    /* The folder itself as one product: a Landsat folder, a .SAFE, a COG
     * folder, or a folder with one STAC item and its assets. */
    if (!many && (evidence || njson <= 1)) {
        const int r = try_product(d, path, evidence);
        if (r != 0 && (r > 0 || evidence))
            goto done;
    }
    /* Files first, so that items claim their asset folders before those are seen. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n && !d->nomem && !d->fatal; i++) {
            char full[PATH_MAX + 256];
            struct stat st;
            snprintf(full, sizeof full, "%s/%s", path, names[i]);
            const int is_dir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
            if (is_dir == pass)
                walk(d, full, 0, depth + 1);
        }
    }
done:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void walk_file(disc *d, const char *real, int top, int depth)
{
    const char *name = base_of(real);
    if (is_archive_name(name) || is_metadata_name(name)) {
        try_product(d, real, 1);
    } else if (ends_with_ci(name, ".json")) {
        const int stac = looks_like_stac(real, &d->o->settings->limits);
        const int r = try_product(d, real, stac);
        if (r == 0 || (r < 0 && !stac))
            note_item(d, real, "ignored", "not a STAC item");
    } else if (is_raster_name(name)) {
        add_str(d, &d->cand, &d->ncand, &d->capcand, real);
    } else if (top && (ends_with_ci(name, ".txt") || ends_with_ci(name, ".lst") ||
                       ends_with_ci(name, ".list"))) {
        read_list(d, real, depth);
    } else {
        note_item(d, real, "ignored", "not a scene (unknown kind of file)");
    }
}

static void walk(disc *d, const char *path, int top, int depth)
{
    struct stat st;
    char real[PATH_MAX];

    if (depth > 64) {
        note_item(d, path, "ignored", "too deeply nested (a link loop?)");
        return;
    }
    if (strstr(path, "://") || strncmp(path, "/vsi", 4) == 0) {
        /* Remote: a STAC item or a raster GDAL can reach. */
        if (try_product(d, path, 1) == 0)
            add_str(d, &d->cand, &d->ncand, &d->capcand, path);
        return;
    }
    if (stat(path, &st) != 0 || !realpath(path, real)) {
        note_item(d, path, "failed", "%s", strerror(errno));
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        if (strcmp(real, d->skip_real) == 0) {
            if (d->o->log)
                fprintf(d->o->log, "%s: not searching %s: it is the output folder\n",
                        d->o->who ? d->o->who : "discover", path);
            return;
        }
        walk_dir(d, real, depth);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        note_item(d, path, "ignored", "not a regular file or folder");
        return;
    }
    walk_file(d, real, top, depth);
}

/* ---- rasters ------------------------------------------------------------------ */

/* STEM_mask.EXT beside STEM.EXT is STEM's mask: found with the inputs, or
 * on disk beside a raster named alone (a mask left out of an input list
 * would otherwise turn its clouds into loss). */
static const char *sidecar_of(const disc *d, const char *path, char *buf, size_t size)
{
    const char *dot = strrchr(base_of(path), '.');
    struct stat st;
    if (!dot)
        return NULL;
    if (snprintf(buf, size, "%.*s_mask%s", (int)(dot - path), path, dot) >= (int)size)
        return NULL;
    if (in_list(d->cand, d->ncand, buf))
        return buf;
    return stat(buf, &st) == 0 && S_ISREG(st.st_mode) ? buf : NULL;
}

static int is_sidecar(const disc *d, const char *path)
{
    const char *dot = strrchr(base_of(path), '.');
    if (!dot || dot - path < 5 || strncasecmp(dot - 5, "_mask", 5) != 0)
        return 0;
    char stem[PATH_MAX];
    snprintf(stem, sizeof stem, "%.*s%s", (int)(dot - 5 - path), path, dot);
    return in_list(d->cand, d->ncand, stem);
}

/* A raster's driver, band count and type: what monitor compares between
 * the scenes of a footprint. */
static void raster_format(cnp_discover_scene *f)
{
    cnp_err_gdal_reset();
    GDALDatasetH ds = GDALOpenEx(f->path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    GDALDriverH drv = ds ? GDALGetDatasetDriver(ds) : NULL;
    const char *dn = drv ? GDALGetDriverShortName(drv) : "";
    const int nb = ds ? GDALGetRasterCount(ds) : 0;
    snprintf(f->product, sizeof f->product, "%s raster", dn);
    snprintf(f->format, sizeof f->format, "%s; %d bands; %s", dn, nb,
             nb > 0 ? GDALGetDataTypeName(GDALGetRasterDataType(GDALGetRasterBand(ds, 1)))
                    : "-");
    if (ds)
        GDALClose(ds);
}

static void add_rasters(disc *d)
{
    if (d->ncand > 1)   /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(d->cand, d->ncand, sizeof *d->cand, cmp_cstr);
    for (size_t i = 0; i < d->ncand && !d->nomem; i++) {
        const char *path = d->cand[i];
        if (i > 0 && strcmp(path, d->cand[i - 1]) == 0)
            continue;                               /* listed twice */
        if (in_list(d->claimed, d->nclaimed, path) || is_sidecar(d, path))
            continue;
        char mbuf[PATH_MAX + 16];
        const char *mask = sidecar_of(d, path, mbuf, sizeof mbuf);
        cnp_discover_scene *f = new_scene(d);
        if (!f)
            return;
        f->path = dupstr(path);
        f->mask = dupstr(mask);
        snprintf(f->kind, sizeof f->kind, "raster");
        const char *name = base_of(path), *dot = strrchr(name, '.');
        snprintf(f->id, sizeof f->id, "%.*s",
                 (int)(dot && dot != name ? dot - name : (long)strlen(name)), name);
        const cnp_status st = f->path ? probe_scene(d, f) : CNP_E_NOMEM;
        if (st != CNP_OK || (!f->date[0] && !date_from_name(f->id, f->date))) {
            if (st == CNP_OK)
                note_item(d, path, "ignored", "no acquisition date (in its metadata or its "
                          "file name): cannot be put in time order");
            else
                note_item(d, path, st == CNP_E_IO ? "failed" : "ignored", "%s",
                          cnp_err_msg() + strspn(cnp_err_msg(), " "));
            scene_free(f);
            d->out->nscene--;
            continue;
        }
        if (!f->date_source[0])
            snprintf(f->date_source, sizeof f->date_source, "file name");
        raster_format(f);
        cnp_footprint_key(NULL, f->wkt, f->gt, f->width, f->height, f->fp_key,
                          sizeof f->fp_key, path);
    }
}

/* ---- the whole ------------------------------------------------------------------ */

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

cnp_status cnp_discover(char *const *inputs, size_t n, const cnp_discover_opts *o,
                        cnp_discovery *out)
{
    disc d;
    cnp_product_session *own = NULL;
    memset(&d, 0, sizeof d);
    memset(out, 0, sizeof *out);
    d.o = o;
    d.out = out;
    if (o->skip_dir && !realpath(o->skip_dir, d.skip_real))
        snprintf(d.skip_real, sizeof d.skip_real, "%s", o->skip_dir);
    if (!o->products && cnp_product_session_begin(o->settings, &own) != CNP_OK)
        return CNP_E_NOMEM;

    for (size_t i = 0; i < n && !d.nomem && !d.fatal; i++)
        walk(&d, inputs[i], 1, 0);
    if (!d.nomem && !d.fatal)
        add_rasters(&d);

    free_list(d.cand, d.ncand);
    free_list(d.claimed, d.nclaimed);
    free_list(d.keys, d.nkeys);
    cnp_product_session_end(&own);
    if (d.fatal || d.nomem) {
        cnp_discovery_free(out);
        if (d.fatal)
            return cnp_err(d.fatal, "%s", d.fatal_msg);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    return CNP_OK;
}

void cnp_discovery_free(cnp_discovery *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nscene; i++)
        scene_free(&d->scene[i]);
    free(d->scene);
    for (size_t i = 0; i < d->nitem; i++) {
        free(d->item[i].path);
        free(d->item[i].reason);
    }
    free(d->item);
    memset(d, 0, sizeof *d);
}
