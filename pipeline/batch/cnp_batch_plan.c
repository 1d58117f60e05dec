/* pipeline/batch/cnp_batch_plan.c - `canopy batch`: finding scenes, grouping them by
 * footprint, pairing them, sharding, and the plan file.
 *
 * Discovery reads metadata only (cnp_product_resolve, then cnp_scene_open for
 * the grid and size), never pixels. A folder is one product when the product
 * resolver recognises it (Landsat folder, .SAFE, Sentinel-2 COG folder, a
 * folder with one STAC item); otherwise it is searched. Files that products
 * reference are not scenes of their own; a raster STEM.EXT with a STEM_mask.EXT
 * beside it takes that file as its mask.
 *
 * Names become folders (OUTROOT/<footprint>/<before id>__<after id>): a
 * product's id and footprint code pass the one validator (base/cnp_ident) or
 * the product is a failed input; a raster's id is made from its file name
 * (cnp_ident_from_name); a plan file read back is checked the same way.
 */
#include "cnp_batch.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gdal.h>
#include <json.h>
#include <ogr_srs_api.h>
#include <openssl/evp.h>

#include "cnp_err.h"
#include "cnp_hash.h"
#include "cnp_ident.h"
#include "cnp_tmpfile.h"
#include "cnp_json.h"
#include "cnp_meta.h"
#include "cnp_output.h"
#include "cnp_product.h"
#include "cnp_raster.h"
#include "cnp_version.h"

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

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*arr, c * elem);
    if (!q)
        return -1;
    memset((char *)q + *cap * elem, 0, (c - *cap) * elem);
    *arr = q;
    *cap = c;
    return 0;
}

static int valid_ymd(int y, int m, int d)
{
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1950 || y > 2200 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    const int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* Days since 1970-01-01 of a YYYY-MM-DD date (H. Hinnant's days_from_civil). */
static long days_of(const char *date)
{
    int y, m, d;
    if (sscanf(date, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return 0;
    y -= m <= 2;
    const long era = (y >= 0 ? y : y - 399) / 400;
    const long yoe = y - era * 400;
    const long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
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

static void hex8_of(const char *text, char out[9])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 4; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---- the plan ----------------------------------------------------------- */

void cnp_batch_plan_init(cnp_batch_plan *p)
{
    memset(p, 0, sizeof *p);
    cnp_settings_defaults(&p->settings);
    p->nshards = 1;
}

static void fp_free(cnp_batch_fp *fp)
{
    for (size_t i = 0; i < fp->nscene; i++) {
        free(fp->scene[i].path);
        free(fp->scene[i].mask);
        free(fp->scene[i].note);
    }
    free(fp->scene);
    free(fp->pair);
}

void cnp_batch_plan_free(cnp_batch_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nfp; i++)
        fp_free(&p->fp[i]);
    free(p->fp);
    for (size_t i = 0; i < p->nitem; i++) {
        free(p->item[i].path);
        free(p->item[i].reason);
    }
    free(p->item);
    for (size_t i = 0; i < p->ninput; i++)
        free(p->input[i]);
    free(p->input);
    free(p->config_path);
    memset(p, 0, sizeof *p);
}

/* ---- discovery ------------------------------------------------------------ */

typedef struct found {
    cnp_batch_scene s;
    char    footprint[96];          /* from the product; "" = group by overlap */
    char   *key;                    /* realpath or product id, for duplicates  */
    char   *wkt;
    double  gt[6];
    int     w, h;
    int     group;                  /* overlap group (union-find root)        */
} found;

typedef struct disc {
    cnp_batch_plan *p;
    FILE   *log;
    found  *f;
    size_t  nf, capf;
    char  **cand;                   /* raster candidates, absolute paths       */
    size_t  ncand, capcand;
    char  **claimed;                /* files that products read                */
    size_t  nclaimed, capclaimed;
    size_t  capitem;
    char    outroot_real[PATH_MAX];
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
    if (grow((void **)&d->p->item, &d->capitem, d->p->nitem + 1, sizeof *d->p->item)) {
        d->nomem = 1;
        return;
    }
    cnp_batch_item *it = &d->p->item[d->p->nitem++];
    it->path = dupstr(path);
    snprintf(it->status, sizeof it->status, "%s", status);
    it->reason = dupstr(why);
    if (d->log) {
        char line[2200];
        snprintf(line, sizeof line, "batch: %s %s: %s", status, path, why);
        cnp_ident_write_term(d->log, line);
        fputc('\n', d->log);
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

static int is_claimed(const disc *d, const char *real)
{
    for (size_t i = 0; i < d->nclaimed; i++)
        if (strcmp(d->claimed[i], real) == 0)
            return 1;
    return 0;
}

static found *new_found(disc *d)
{
    if (grow((void **)&d->f, &d->capf, d->nf + 1, sizeof *d->f)) {
        d->nomem = 1;
        return NULL;
    }
    found *f = &d->f[d->nf++];
    memset(f, 0, sizeof *f);
    return f;
}

static void found_free(found *f)
{
    free(f->s.path);
    free(f->s.mask);
    free(f->s.note);
    free(f->key);
    free(f->wkt);
}

/* Grid, size and readability of a scene, through cnp_scene_open as detect
 * will open it. Returns the status; the message is in cnp_err_msg(). */
static cnp_status probe_scene(const disc *d, found *f)
{
    cnp_scene sc;
    memset(&sc, 0, sizeof sc);
    const cnp_status st = cnp_scene_open(&sc, "", f->s.path, f->s.mask, &d->p->settings, "");
    if (st == CNP_OK) {
        f->w = sc.src_width > 0 ? sc.src_width : sc.width;
        f->h = sc.src_height > 0 ? sc.src_height : sc.height;
        f->s.pixels = (int64_t)f->w * f->h;
        memcpy(f->gt, sc.gt, sizeof f->gt);
        f->wkt = dupstr(sc.wkt);
        if (!f->s.date[0] && sc.date[0]) {
            snprintf(f->s.date, sizeof f->s.date, "%s", sc.date);
            snprintf(f->s.date_source, sizeof f->s.date_source, "metadata");
        }
    }
    cnp_scene_free(&sc);
    return st;
}

static void add_product(disc *d, const char *path, cnp_product *pr)
{
    for (size_t i = 0; i < d->nf; i++) {
        if (d->f[i].key && strcmp(d->f[i].key, pr->id) == 0) {
            note_item(d, path, "duplicate", "product %s is already found at %s", pr->id,
                      d->f[i].s.path);
            return;
        }
    }
    if (!pr->date[0]) {
        note_item(d, path, "ignored", "product %s has no acquisition date", pr->id);
        return;
    }
    /* The id names pair folders, the footprint code the footprint. */
    char id[sizeof pr->id], key[64];
    snprintf(id, sizeof id, "%s", pr->id);
    if (ends_with_ci(id, ".SAFE"))
        id[strlen(id) - 5] = '\0';
    if (cnp_ident_check(CNP_IDENT_ID, id, "product id", NULL) != CNP_OK ||
        (pr->footprint[0] &&
         cnp_ident_footprint_key(pr->footprint, key, sizeof key, NULL) != CNP_OK)) {
        note_item(d, path, "failed", "%s", cnp_err_msg());
        return;
    }
    found *f = new_found(d);
    if (!f)
        return;
    f->s.path = dupstr(path);
    /* Runs of '_' become one, as for rasters: "__" separates pair ids. */
    cnp_ident_from_name(id, f->s.id, sizeof f->s.id);
    snprintf(f->s.date, sizeof f->s.date, "%s", pr->date);
    snprintf(f->s.date_source, sizeof f->s.date_source, "metadata");
    snprintf(f->s.kind, sizeof f->s.kind, "%s", pr->family);
    snprintf(f->footprint, sizeof f->footprint, "%s", pr->footprint);
    f->key = dupstr(pr->id);
    for (size_t i = 0; i < pr->nfiles; i++)
        claim(d, pr->files[i].path);
    for (int b = 0; b < CNP_NBANDS; b++)
        claim(d, pr->band[b].path);
    claim(d, pr->mask_path);
    if (!f->s.path || !f->key) {
        d->nomem = 1;
        return;
    }
    if (probe_scene(d, f) != CNP_OK)
        f->s.note = dupstr(cnp_err_msg() + strspn(cnp_err_msg(), " "));
    if (d->log && f->s.note)
        fprintf(d->log, "batch: unreadable %s %s (its pairs will fail): %s\n", pr->family,
                f->s.id, f->s.note);
}

/* cnp_product_resolve on a path; 1 = a product was added, 0 = not a product,
 * -1 = looked like one but failed (recorded as a failed item when `report`). */
static int try_product(disc *d, const char *path, int report)
{
    cnp_product pr;
    int is_product = 0;
    const cnp_status st = cnp_product_resolve(path, &d->p->settings, "", &pr, &is_product);
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

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
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

static void walk_dir(disc *d, const char *path, int depth)
{
    DIR *dir = opendir(path);
    if (!dir) {
        note_item(d, path, "failed", "cannot read the folder: %s", strerror(errno));
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int evidence = 0, njson = 0, nmtl = 0;
    char mtl[256] = "";
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;            /* ., .., hidden files, .canopy-tmp-* staging */
        add_str(d, &names, &n, &cap, e->d_name);
        evidence |= is_metadata_name(e->d_name);
        njson += ends_with_ci(e->d_name, ".json");
        /* Several Landsat products unpacked into one folder: one MTL stem each. */
        const char *m = strcasestr(e->d_name, "_MTL.");
        if (m && is_metadata_name(e->d_name) &&
            (size_t)(m - e->d_name) < sizeof mtl &&
            (strncmp(mtl, e->d_name, (size_t)(m - e->d_name)) != 0 ||
             mtl[m - e->d_name] != '\0')) {
            nmtl++;
            snprintf(mtl, sizeof mtl, "%.*s", (int)(m - e->d_name), e->d_name);
        }
    }
    closedir(dir);
    evidence |= ends_with_ci(path, ".SAFE");
    /* Several products' metadata side by side: each file on its own, below. */
    const int many = nmtl > 1;

    /* Assets of a product found already (a STAC item beside this folder). */
    for (size_t i = 0; i < n; i++) {
        char full[PATH_MAX + 256];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        if (is_claimed(d, full))
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
    if (n > 1)   /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(names, n, sizeof *names, cmp_cstr);
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
        if (strcmp(real, d->outroot_real) == 0) {
            if (d->log)
                fprintf(d->log, "batch: not searching %s: it is the output folder\n", path);
            return;
        }
        walk_dir(d, real, depth);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        note_item(d, path, "ignored", "not a regular file or folder");
        return;
    }
    const char *name = base_of(real);
    if (is_archive_name(name) || is_metadata_name(name)) {
        try_product(d, real, 1);
    } else if (ends_with_ci(name, ".json")) {
        const int stac = looks_like_stac(real, &d->p->settings.limits);
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

/* STEM_mask.EXT beside STEM.EXT is STEM's mask. */
static const char *sidecar_of(const disc *d, const char *path, char *buf, size_t size)
{
    const char *dot = strrchr(base_of(path), '.');
    if (!dot)
        return NULL;
    snprintf(buf, size, "%.*s_mask%s", (int)(dot - path), path, dot);
    for (size_t i = 0; i < d->ncand; i++)
        if (d->cand[i] && strcmp(d->cand[i], buf) == 0)
            return buf;
    return NULL;
}

static int is_sidecar(const disc *d, const char *path)
{
    const char *dot = strrchr(base_of(path), '.');
    if (!dot || dot - path < 5 || strncasecmp(dot - 5, "_mask", 5) != 0)
        return 0;
    char stem[PATH_MAX];
    snprintf(stem, sizeof stem, "%.*s%s", (int)(dot - 5 - path), path, dot);
    for (size_t i = 0; i < d->ncand; i++)
        if (d->cand[i] && strcmp(d->cand[i], stem) == 0)
            return 1;
    return 0;
}

static void add_rasters(disc *d)
{
    if (d->ncand > 1)   /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(d->cand, d->ncand, sizeof *d->cand, cmp_cstr);
    for (size_t i = 0; i < d->ncand && !d->nomem; i++) {
        const char *path = d->cand[i];
        if (i > 0 && strcmp(path, d->cand[i - 1]) == 0)
            continue;                               /* listed twice */
        if (is_claimed(d, path) || is_sidecar(d, path))
            continue;
        char mbuf[PATH_MAX + 16];
        const char *mask = sidecar_of(d, path, mbuf, sizeof mbuf);
        found *f = new_found(d);
        if (!f)
            return;
        f->s.path = dupstr(path);
        f->s.mask = dupstr(mask);
        f->key = dupstr(path);
        snprintf(f->s.kind, sizeof f->s.kind, "raster");
        const char *name = base_of(path), *dot = strrchr(name, '.');
        char stem[256];
        snprintf(stem, sizeof stem, "%.*s", (int)(dot ? dot - name : (long)strlen(name)), name);
        cnp_ident_from_name(stem, f->s.id, sizeof f->s.id);
        const cnp_status st = probe_scene(d, f);
        if (st != CNP_OK || (!f->s.date[0] && !date_from_name(stem, f->s.date))) {
            if (st == CNP_OK)
                note_item(d, path, "ignored", "no acquisition date (in its metadata or its "
                          "file name): cannot be put in time order");
            else
                note_item(d, path, st == CNP_E_IO ? "failed" : "ignored", "%s",
                          cnp_err_msg() + strspn(cnp_err_msg(), " "));
            found_free(f);
            d->nf--;
            continue;
        }
        if (!f->s.date_source[0])
            snprintf(f->s.date_source, sizeof f->s.date_source, "file name");
    }
}

/* ---- grouping and pairing ---------------------------------------------------- */

static void bounds_of(const found *f, double b[4])
{
    const double xs[4] = { 0, f->w, 0, f->w }, ys[4] = { 0, 0, f->h, f->h };
    b[0] = b[1] = INFINITY;
    b[2] = b[3] = -INFINITY;
    for (int i = 0; i < 4; i++) {
        const double x = f->gt[0] + xs[i] * f->gt[1] + ys[i] * f->gt[2];
        const double y = f->gt[3] + xs[i] * f->gt[4] + ys[i] * f->gt[5];
        b[0] = fmin(b[0], x);
        b[1] = fmin(b[1], y);
        b[2] = fmax(b[2], x);
        b[3] = fmax(b[3], y);
    }
}

static int uf_find(found *f, int i)
{
    while (f[i].group != i) {
        f[i].group = f[f[i].group].group;
        i = f[i].group;
    }
    return i;
}

/* Rasters without a footprint: same CRS and overlapping extents -> one group. */
static void group_by_overlap(disc *d)
{
    OGRSpatialReferenceH *srs = calloc(d->nf + 1, sizeof *srs);
    double (*b)[4] = calloc(d->nf + 1, sizeof *b);
    if (!srs || !b) {
        d->nomem = 1;
        goto done;
    }
    for (size_t i = 0; i < d->nf; i++) {
        d->f[i].group = (int)i;
        if (d->f[i].footprint[0] || !d->f[i].wkt || !d->f[i].wkt[0])
            continue;
        srs[i] = OSRNewSpatialReference(d->f[i].wkt);
        bounds_of(&d->f[i], b[i]);
    }
    for (size_t i = 0; i < d->nf; i++) {
        for (size_t j = i + 1; j < d->nf && srs[i]; j++) {
            if (!srs[j])
                continue;
            const int overlap = b[i][0] < b[j][2] && b[j][0] < b[i][2] && b[i][1] < b[j][3] &&
                                b[j][1] < b[i][3];
            if (!overlap || !OSRIsSame(srs[i], srs[j]))
                continue;
            const int ri = uf_find(d->f, (int)i), rj = uf_find(d->f, (int)j);
            if (ri != rj)
                d->f[ri > rj ? ri : rj].group = ri < rj ? ri : rj;
        }
    }
done:
    for (size_t i = 0; srs && i < d->nf; i++)
        if (srs[i])
            OSRDestroySpatialReference(srs[i]);
    free(srs);
    free(b);
}

static int cmp_scene(const void *a, const void *b)
{
    const cnp_batch_scene *x = a, *y = b;
    const int c = strcmp(x->date, y->date);
    return c ? c : strcmp(x->id, y->id);
}

static int cmp_fp(const void *a, const void *b)
{
    return strcmp(((const cnp_batch_fp *)a)->name, ((const cnp_batch_fp *)b)->name);
}

static void make_ids_unique(cnp_batch_fp *fp)
{
    for (size_t i = 0; i < fp->nscene; i++) {
        int dup = 0;
        for (size_t j = 0; j < fp->nscene; j++)
            dup |= j != i && strcmp(fp->scene[i].id, fp->scene[j].id) == 0;
        if (!dup || strcmp(fp->scene[i].kind, "raster") != 0)
            continue;
        /* Same stem in two folders: prefix the folder name. */
        char parent[PATH_MAX], clean[200], id[200];
        snprintf(parent, sizeof parent, "%s", fp->scene[i].path);
        char *slash = strrchr(parent, '/');
        if (slash)
            *slash = '\0';
        cnp_ident_from_name(base_of(parent), clean, sizeof clean);
        snprintf(id, sizeof id, "%.59s_%.60s", clean, fp->scene[i].id);
        memcpy(fp->scene[i].id, id, sizeof id);
    }
    for (size_t i = 1; i < fp->nscene; i++) {
        int k = 2;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(fp->scene[i].id, fp->scene[j].id) != 0)
                continue;
            char id[200];
            snprintf(id, sizeof id, "%.110s-%d", fp->scene[i].id, k++);
            memcpy(fp->scene[i].id, id, sizeof id);
            j = (size_t)-1;     /* check again from the start */
        }
    }
}

static int add_pair(cnp_batch_fp *fp, size_t *cap, int bi, int ai, const cnp_batch_plan *p)
{
    if (grow((void **)&fp->pair, cap, fp->npair + 1, sizeof *fp->pair))
        return -1;
    cnp_batch_pair *pr = &fp->pair[fp->npair++];
    const cnp_batch_scene *b = &fp->scene[bi], *a = &fp->scene[ai];
    memset(pr, 0, sizeof *pr);
    pr->before = bi;
    pr->after = ai;
    pr->gap_days = (int)(days_of(a->date) - days_of(b->date));
    snprintf(pr->dir, sizeof pr->dir, "%s__%s", b->id, a->id);
    if (pr->gap_days == 0) {
        pr->action = CNP_PAIR_SKIP;
        snprintf(pr->reason, sizeof pr->reason, "same acquisition date (%s)", a->date);
    } else if (p->max_gap_days > 0 && pr->gap_days > p->max_gap_days) {
        pr->action = CNP_PAIR_SKIP;
        snprintf(pr->reason, sizeof pr->reason, "%d days apart, more than --max-gap %d",
                 pr->gap_days, p->max_gap_days);
    }
    if (pr->action == CNP_PAIR_RUN)
        fp->work += b->pixels > a->pixels ? b->pixels : a->pixels;
    return 0;
}

static int pair_up(const cnp_batch_plan *p, cnp_batch_fp *fp)
{
    size_t cap = 0;
    fp->work = 0;
    if (p->pairs_mode == CNP_PAIRS_CONSECUTIVE) {
        for (size_t i = 1; i < fp->nscene; i++)
            if (add_pair(fp, &cap, (int)i - 1, (int)i, p))
                return -1;
        return 0;
    }
    /* Baseline: the scene nearest the date (the earlier on a tie) against
     * every later one. */
    const long want = days_of(p->baseline_date);
    size_t base = 0;
    for (size_t i = 1; i < fp->nscene; i++)
        if (labs(days_of(fp->scene[i].date) - want) < labs(days_of(fp->scene[base].date) - want))
            base = i;
    for (size_t i = base + 1; i < fp->nscene; i++)
        if (add_pair(fp, &cap, (int)base, (int)i, p))
            return -1;
    return 0;
}

static void build_footprints(disc *d)
{
    cnp_batch_plan *p = d->p;
    size_t capfp = 0;
    int *fp_of = malloc((d->nf + 1) * sizeof *fp_of);
    if (!fp_of) {
        d->nomem = 1;
        return;
    }
    for (size_t i = 0; i < d->nf && !d->nomem; i++) {
        found *f = &d->f[i];
        fp_of[i] = -1;
        if (!f->footprint[0] && (!f->wkt || !f->wkt[0])) {
            /* A product without footprint that cannot be read either. */
            note_item(d, f->s.path, "failed", "%s", f->s.note ? f->s.note
                      : "no footprint in its metadata and no grid to group it by");
            continue;
        }
        /* Same footprint, or same overlap group, as an earlier scene? */
        for (size_t j = 0; j < i && fp_of[i] < 0; j++) {
            if (fp_of[j] < 0)
                continue;
            if (f->footprint[0] ? strcmp(f->footprint, d->f[j].footprint) == 0
                                : !d->f[j].footprint[0] &&
                                      uf_find(d->f, (int)i) == uf_find(d->f, (int)j))
                fp_of[i] = fp_of[j];
        }
        if (fp_of[i] < 0) {
            if (grow((void **)&p->fp, &capfp, p->nfp + 1, sizeof *p->fp)) {
                d->nomem = 1;
                break;
            }
            cnp_batch_fp *fp = &p->fp[p->nfp];
            memset(fp, 0, sizeof *fp);
            fp_of[i] = (int)p->nfp++;
            snprintf(fp->label, sizeof fp->label, "%s", f->footprint[0] ? f->footprint
                                                                           : "overlap");
        }
        cnp_batch_fp *fp = &p->fp[fp_of[i]];
        cnp_batch_scene *s = realloc(fp->scene, (fp->nscene + 1) * sizeof *s);
        if (!s) {
            d->nomem = 1;
            break;
        }
        fp->scene = s;
        fp->scene[fp->nscene++] = f->s;
        memset(&f->s, 0, sizeof f->s);             /* moved */
    }

    for (size_t k = 0; k < p->nfp && !d->nomem; k++) {
        cnp_batch_fp *fp = &p->fp[k];
        qsort(fp->scene, fp->nscene, sizeof *fp->scene, cmp_scene);
        if (strcmp(fp->label, "overlap") == 0) {
            /* Named by its earliest raster and a hash of that raster's grid,
             * so the name does not depend on where the archive lies. */
            size_t first = 0;
            for (size_t i = 0; i < d->nf; i++)
                if (fp_of[i] == (int)k) {
                    first = i;
                    break;
                }
            for (size_t i = 0; i < d->nf; i++)
                if (fp_of[i] == (int)k && d->f[i].key &&
                    strcmp(d->f[i].key, fp->scene[0].path) == 0)
                    first = i;
            const found *f = &d->f[first];
            char grid[8192], h[9];
            snprintf(grid, sizeof grid, "%s|%.17g,%.17g,%.17g,%.17g,%.17g,%.17g|%d,%d",
                     f->wkt ? f->wkt : "", f->gt[0], f->gt[1], f->gt[2], f->gt[3], f->gt[4],
                     f->gt[5], f->w, f->h);
            hex8_of(grid, h);
            snprintf(fp->name, sizeof fp->name, "%.111s-%s", fp->scene[0].id, h);
            snprintf(fp->label, sizeof fp->label, "overlapping rasters (%zu)", fp->nscene);
        } else {
            cnp_ident_from_name(fp->label, fp->name, sizeof fp->name);
        }
        make_ids_unique(fp);
        if (pair_up(p, fp))
            d->nomem = 1;
    }
    free(fp_of);
    if (p->nfp > 1)   /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(p->fp, p->nfp, sizeof *p->fp, cmp_fp);
    for (size_t k = 1; k < p->nfp; k++)            /* two footprints, one name */
        if (strcmp(p->fp[k].name, p->fp[k - 1].name) == 0) {
            char n[160];
            snprintf(n, sizeof n, "%.100s-%zu", p->fp[k].name, k);
            memcpy(p->fp[k].name, n, sizeof n);
        }
}

cnp_status cnp_batch_discover(cnp_batch_plan *p, char *const *inputs, size_t ninputs, FILE *log)
{
    disc d;
    memset(&d, 0, sizeof d);
    d.p = p;
    d.log = log;
    if (!realpath(p->outroot, d.outroot_real))
        snprintf(d.outroot_real, sizeof d.outroot_real, "%s", p->outroot);

    p->input = calloc(ninputs + 1, sizeof *p->input);
    if (!p->input)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    for (size_t i = 0; i < ninputs; i++)
        if ((p->input[p->ninput++] = strdup(inputs[i])) == NULL)
            return cnp_err(CNP_E_NOMEM, "out of memory");

    for (size_t i = 0; i < ninputs && !d.nomem && !d.fatal; i++)
        walk(&d, inputs[i], 1, 0);
    if (!d.nomem && !d.fatal)
        add_rasters(&d);
    if (!d.nomem)
        group_by_overlap(&d);
    if (!d.nomem)
        build_footprints(&d);

    for (size_t i = 0; i < d.nf; i++)
        found_free(&d.f[i]);
    free(d.f);
    for (size_t i = 0; i < d.ncand; i++)
        free(d.cand[i]);
    free(d.cand);
    for (size_t i = 0; i < d.nclaimed; i++)
        free(d.claimed[i]);
    free(d.claimed);
    if (d.fatal)
        return cnp_err(d.fatal, "%s", d.fatal_msg);
    return d.nomem ? cnp_err(CNP_E_NOMEM, "out of memory") : CNP_OK;
}

/* ---- shards ---------------------------------------------------------------- */

void cnp_batch_shard(cnp_batch_plan *p, int nshards)
{
    p->nshards = nshards < 1 ? 1 : nshards;
    int64_t *load = calloc((size_t)p->nshards, sizeof *load);
    size_t *order = malloc((p->nfp + 1) * sizeof *order);
    if (!load || !order) {
        for (size_t i = 0; i < p->nfp; i++)
            p->fp[i].shard = (int)(i % (size_t)p->nshards);
        free(load);
        free(order);
        return;
    }
    for (size_t i = 0; i < p->nfp; i++)
        order[i] = i;
    /* Largest first (ties by name, for a stable plan), each to the least loaded. */
    for (size_t i = 1; i < p->nfp; i++)
        for (size_t j = i; j > 0 && p->fp[order[j]].work > p->fp[order[j - 1]].work; j--) {
            const size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (size_t i = 0; i < p->nfp; i++) {
        int best = 0;
        for (int s = 1; s < p->nshards; s++)
            if (load[s] < load[best])
                best = s;
        p->fp[order[i]].shard = best;
        load[best] += p->fp[order[i]].work > 0 ? p->fp[order[i]].work : 1;
    }
    free(load);
    free(order);
}

/* ---- per-pair settings and completeness --------------------------------------- */

void cnp_batch_pair_settings(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                             const cnp_batch_pair *pr, cnp_settings *out)
{
    *out = p->settings;
    const cnp_batch_scene *b = &fp->scene[pr->before], *a = &fp->scene[pr->after];
    if (strcmp(b->date_source, "file name") == 0)
        snprintf(out->date_before, sizeof out->date_before, "%s", b->date);
    if (strcmp(a->date_source, "file name") == 0)
        snprintf(out->date_after, sizeof out->date_after, "%s", a->date);
}

/* The settings as INI without the thread count (which changes no output). */
static char *ini_without_threads(const char *ini)
{
    char *out = malloc(strlen(ini) + 1);
    size_t n = 0;
    if (!out)
        return NULL;
    for (const char *l = ini; *l;) {
        const char *e = strchr(l, '\n');
        const size_t len = e ? (size_t)(e - l + 1) : strlen(l);
        if (strncmp(l, "threads", 7) != 0) {
            memcpy(out + n, l, len);
            n += len;
        }
        l += len;
    }
    out[n] = '\0';
    return out;
}

static char *settings_ini(const cnp_settings *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    cnp_settings_write_ini(s, m);
    fclose(m);
    char *out = ini_without_threads(buf);
    free(buf);
    return out;
}

static json_object *jget(json_object *o, const char *key, json_type t)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t))
        return NULL;
    return v;
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v = jget(o, key, json_type_string);
    return v ? json_object_get_string(v) : NULL;
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int cnp_batch_pair_complete(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                            const cnp_batch_pair *pr, char *why, size_t wsize)
{
    char dir[8192], path[8400];
    struct stat st;
    int ok = 0;
    json_object *run = NULL;
    char *want_ini = NULL, *have_ini = NULL;

    snprintf(dir, sizeof dir, "%s/%s/%s", p->outroot, fp->name, pr->dir);
    snprintf(path, sizeof path, "%s/run.json", dir);
    if (stat(dir, &st) != 0) {
        snprintf(why, wsize, "not run yet");
        return 0;
    }
    if (stat(path, &st) != 0) {
        snprintf(why, wsize, "interrupted before it finished (no run.json)");
        return 0;
    }
    run = json_object_from_file(path);
    json_object *outputs = jget(run, "outputs", json_type_array);
    json_object *inputs = jget(run, "inputs", json_type_array);
    json_object *settings = jget(run, "settings", json_type_object);
    if (!outputs || !inputs || !settings || !jstr(settings, "ini")) {
        snprintf(why, wsize, "run.json is unreadable");
        goto done;
    }

    /* The same inputs ... */
    const cnp_batch_scene *b = &fp->scene[pr->before], *a = &fp->scene[pr->after];
    const char *want[4] = { b->path, a->path, b->mask, a->mask }, *have[4] = { 0 };
    static const char *const roles[4] = { "before", "after", "before_mask", "after_mask" };
    for (size_t i = 0; i < json_object_array_length(inputs); i++) {
        json_object *in = json_object_array_get_idx(inputs, i);
        const char *role = jstr(in, "role");
        for (int k = 0; k < 4; k++)
            if (role && strcmp(role, roles[k]) == 0)
                have[k] = jstr(in, "path");
    }
    for (int k = 0; k < 4; k++)
        if (!same(want[k], have[k])) {
            snprintf(why, wsize, "made from other inputs (%s)", roles[k]);
            goto done;
        }

    /* ... the same settings ... */
    cnp_settings s;
    cnp_batch_pair_settings(p, fp, pr, &s);
    want_ini = settings_ini(&s);
    have_ini = ini_without_threads(jstr(settings, "ini"));
    json_object *ev = jget(settings, "evidence", json_type_boolean);
    json_object *mc = jget(settings, "max_chips", json_type_int);
    json_object *hi = jget(settings, "hash_inputs", json_type_boolean);
    unsigned skip;
    if (cnp_outputs_skip_from_settings(settings, &skip) != CNP_OK)
        skip = ~0u;                            /* unreadable: not the same outputs */
    if (!want_ini || !have_ini || strcmp(want_ini, have_ini) != 0 || !ev ||
        skip != p->skip_outputs ||
        json_object_get_boolean(ev) != !p->no_evidence || !mc ||
        (size_t)json_object_get_int64(mc) != p->max_chips || !hi ||
        json_object_get_boolean(hi) != !p->no_hash || !same(jstr(settings, "config"),
                                                             p->config_path)) {
        snprintf(why, wsize, "made with other settings");
        goto done;
    }

    /* ... and every output as recorded (what `canopy verify` checks). */
    for (size_t i = 0; i < json_object_array_length(outputs); i++) {
        json_object *o = json_object_array_get_idx(outputs, i);
        const char *rel = jstr(o, "path"), *sum = jstr(o, "sha256");
        char hex[65];
        if (!rel || !sum)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        if (cnp_sha256_file(path, hex, NULL) != CNP_OK) {
            snprintf(why, wsize, "%s is missing", rel);
            goto done;
        }
        if (strcmp(hex, sum) != 0) {
            snprintf(why, wsize, "%s has changed since the run", rel);
            goto done;
        }
    }
    ok = 1;
done:
    free(want_ini);
    free(have_ini);
    json_object_put(run);
    return ok;
}

/* ---- the plan file ---------------------------------------------------------- */

/* 1 when both files exist and hold the same bytes. */
static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        const int ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
        if (ca == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

cnp_status cnp_batch_plan_write(const cnp_batch_plan *p, const char *path)
{
    char tmp[4400];
    cnp_tmp_remove_dead(path);
    cnp_tmp_path(path, tmp, sizeof tmp);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return cnp_err(CNP_E_IO, "cannot write the plan '%s': %s", tmp, strerror(errno));
    cnp_json j;
    cnp_json_begin(&j, f);
    cnp_json_str(&j, "program", "canopy");
    cnp_json_str(&j, "kind", "batch-plan");
    cnp_json_int(&j, "format", 1);
    cnp_json_str(&j, "version", cnp_version);
    cnp_json_str(&j, "outroot", p->outroot);
    cnp_json_array(&j, "inputs");
    for (size_t i = 0; i < p->ninput; i++)
        cnp_json_str(&j, NULL, p->input[i]);
    cnp_json_close(&j, ']');

    cnp_json_object(&j, "settings");
    cnp_json_str(&j, "config", p->config_path);
    char *ini = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&ini, &len);
    if (m) {
        cnp_settings_write_ini(&p->settings, m);
        fclose(m);
    }
    cnp_json_str(&j, "ini", ini);
    free(ini);
    cnp_json_bool(&j, "evidence", !p->no_evidence);
    cnp_outputs_write_json(&j, p->skip_outputs);
    cnp_json_int(&j, "max_chips", (int64_t)p->max_chips);
    cnp_json_bool(&j, "hash_inputs", !p->no_hash);
    cnp_json_close(&j, '}');

    cnp_json_object(&j, "pairing");
    cnp_json_str(&j, "mode", p->pairs_mode == CNP_PAIRS_BASELINE ? "baseline" : "consecutive");
    cnp_json_str(&j, "baseline_date", p->baseline_date[0] ? p->baseline_date : NULL);
    cnp_json_int(&j, "max_gap_days", p->max_gap_days);
    cnp_json_num(&j, "min_observed", p->min_observed);
    cnp_json_close(&j, '}');

    cnp_json_int(&j, "shard_count", p->nshards);
    cnp_json_array(&j, "shards");
    for (int s = 0; s < p->nshards; s++) {
        int64_t work = 0;
        int npairs = 0;
        cnp_json_object(&j, NULL);
        cnp_json_int(&j, "shard", s);
        cnp_json_array(&j, "footprints");
        for (size_t i = 0; i < p->nfp; i++) {
            if (p->fp[i].shard != s)
                continue;
            cnp_json_str(&j, NULL, p->fp[i].name);
            work += p->fp[i].work;
            for (size_t k = 0; k < p->fp[i].npair; k++)
                npairs += p->fp[i].pair[k].action == CNP_PAIR_RUN;
        }
        cnp_json_close(&j, ']');
        cnp_json_int(&j, "pairs", npairs);
        cnp_json_int(&j, "pixels", work);
        cnp_json_close(&j, '}');
    }
    cnp_json_close(&j, ']');

    cnp_json_array(&j, "footprints");
    for (size_t i = 0; i < p->nfp; i++) {
        const cnp_batch_fp *fp = &p->fp[i];
        cnp_json_object(&j, NULL);
        cnp_json_str(&j, "name", fp->name);
        cnp_json_str(&j, "label", fp->label);
        cnp_json_int(&j, "shard", fp->shard);
        cnp_json_int(&j, "pixels", fp->work);
        cnp_json_array(&j, "scenes");
        for (size_t k = 0; k < fp->nscene; k++) {
            const cnp_batch_scene *s = &fp->scene[k];
            cnp_json_object(&j, NULL);
            cnp_json_str(&j, "id", s->id);
            cnp_json_str(&j, "date", s->date);
            cnp_json_str(&j, "date_source", s->date_source);
            cnp_json_str(&j, "kind", s->kind);
            cnp_json_str(&j, "path", s->path);
            cnp_json_str(&j, "mask", s->mask);
            cnp_json_int(&j, "pixels", s->pixels);
            cnp_json_str(&j, "unreadable", s->note);
            cnp_json_close(&j, '}');
        }
        cnp_json_close(&j, ']');
        cnp_json_array(&j, "pairs");
        for (size_t k = 0; k < fp->npair; k++) {
            const cnp_batch_pair *pr = &fp->pair[k];
            cnp_json_object(&j, NULL);
            cnp_json_str(&j, "dir", pr->dir);
            cnp_json_int(&j, "before", pr->before);
            cnp_json_int(&j, "after", pr->after);
            cnp_json_int(&j, "gap_days", pr->gap_days);
            cnp_json_str(&j, "action", pr->action == CNP_PAIR_RUN ? "run" : "skip");
            cnp_json_str(&j, "reason", pr->reason[0] ? pr->reason : NULL);
            cnp_json_close(&j, '}');
        }
        cnp_json_close(&j, ']');
        cnp_json_close(&j, '}');
    }
    cnp_json_close(&j, ']');

    cnp_json_array(&j, "not_used");
    for (size_t i = 0; i < p->nitem; i++) {
        cnp_json_object(&j, NULL);
        cnp_json_str(&j, "path", p->item[i].path);
        cnp_json_str(&j, "status", p->item[i].status);
        cnp_json_str(&j, "reason", p->item[i].reason);
        cnp_json_close(&j, '}');
    }
    cnp_json_close(&j, ']');
    cnp_json_end(&j);
    const int bad = fclose(f) != 0;
    if (!bad && same_file(tmp, path)) {
        unlink(tmp);            /* the same plan: leave the file (and its time) alone */
        return CNP_OK;
    }
    if (bad || rename(tmp, path) != 0) {
        const int e = errno;
        unlink(tmp);
        return cnp_err(CNP_E_IO, "cannot write the plan '%s': %s", path, strerror(e));
    }
    return CNP_OK;
}

static void copy_field(char *dst, size_t size, json_object *o, const char *key)
{
    const char *s = jstr(o, key);
    snprintf(dst, size, "%s", s ? s : "");
}

static int64_t jint(json_object *o, const char *key)
{
    json_object *v = jget(o, key, json_type_int);
    return v ? json_object_get_int64(v) : 0;
}

cnp_status cnp_batch_plan_read(cnp_batch_plan *p, const char *path)
{
    char bad[256] = "";
    cnp_status st = CNP_OK;
    json_object *root = json_object_from_file(path);
    char tmp_ini[] = "/tmp/canopy-plan-XXXXXX";
    int fd = -1;

    cnp_batch_plan_init(p);
    if (!root || !json_object_is_type(root, json_type_object)) {
        st = cnp_err(CNP_E_CONFIG, "plan '%s': %s", path,
                     access(path, R_OK) == 0 ? "not a JSON object" : strerror(errno));
        goto done;
    }
    if (!same(jstr(root, "kind"), "batch-plan") || jint(root, "format") != 1) {
        st = cnp_err(CNP_E_CONFIG, "plan '%s': not a canopy batch plan (format 1)", path);
        goto done;
    }
    copy_field(p->outroot, sizeof p->outroot, root, "outroot");
    json_object *in = jget(root, "inputs", json_type_array);
    const size_t nin = in ? json_object_array_length(in) : 0;
    p->input = calloc(nin + 1, sizeof *p->input);
    for (size_t i = 0; p->input && i < nin; i++)
        p->input[p->ninput++] = dupstr(json_object_get_string(json_object_array_get_idx(in, i)));

    json_object *s = jget(root, "settings", json_type_object);
    const char *ini = jstr(s, "ini");
    if (!s || !ini || !p->outroot[0]) {
        snprintf(bad, sizeof bad, "no settings or outroot");
        goto bad;
    }
    fd = mkstemp(tmp_ini);
    if (fd < 0 || write(fd, ini, strlen(ini)) != (ssize_t)strlen(ini)) {
        st = cnp_err(CNP_E_IO, "cannot write a temporary file: %s", strerror(errno));
        goto done;
    }
    if ((st = cnp_settings_load(&p->settings, tmp_ini)) != CNP_OK)
        goto done;
    p->config_path = dupstr(jstr(s, "config"));
    json_object *ev = jget(s, "evidence", json_type_boolean);
    json_object *hi = jget(s, "hash_inputs", json_type_boolean);
    p->no_evidence = ev ? !json_object_get_boolean(ev) : 0;
    p->no_hash = hi ? !json_object_get_boolean(hi) : 0;
    p->max_chips = (size_t)jint(s, "max_chips");
    if (cnp_outputs_skip_from_settings(s, &p->skip_outputs) != CNP_OK) {
        snprintf(bad, sizeof bad, "%s", cnp_err_msg());
        goto bad;
    }

    json_object *pa = jget(root, "pairing", json_type_object);
    p->pairs_mode = same(jstr(pa, "mode"), "baseline") ? CNP_PAIRS_BASELINE
                                                        : CNP_PAIRS_CONSECUTIVE;
    copy_field(p->baseline_date, sizeof p->baseline_date, pa, "baseline_date");
    p->max_gap_days = (int)jint(pa, "max_gap_days");
    json_object *mo = NULL;
    if (pa && json_object_object_get_ex(pa, "min_observed", &mo))
        p->min_observed = json_object_get_double(mo);
    p->nshards = (int)jint(root, "shard_count");
    if (p->nshards < 1) {
        snprintf(bad, sizeof bad, "shard_count < 1");
        goto bad;
    }

    json_object *fps = jget(root, "footprints", json_type_array);
    const size_t nfp = fps ? json_object_array_length(fps) : 0;
    p->fp = calloc(nfp + 1, sizeof *p->fp);
    if (!p->fp) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nfp; i++) {
        json_object *o = json_object_array_get_idx(fps, i);
        cnp_batch_fp *fp = &p->fp[i];
        p->nfp = i + 1;     /* counted at once: a refused plan frees it too */
        copy_field(fp->name, sizeof fp->name, o, "name");
        copy_field(fp->label, sizeof fp->label, o, "label");
        fp->shard = (int)jint(o, "shard");
        fp->work = jint(o, "pixels");
        json_object *sc = jget(o, "scenes", json_type_array);
        json_object *pr = jget(o, "pairs", json_type_array);
        fp->nscene = sc ? json_object_array_length(sc) : 0;
        fp->npair = pr ? json_object_array_length(pr) : 0;
        fp->scene = calloc(fp->nscene + 1, sizeof *fp->scene);
        fp->pair = calloc(fp->npair + 1, sizeof *fp->pair);
        if (!fp->scene || !fp->pair) {
            fp->nscene = fp->npair = 0;
            st = cnp_err(CNP_E_NOMEM, "out of memory");
            goto done;
        }
        if (!fp->name[0] || fp->shard < 0 || fp->shard >= p->nshards) {
            snprintf(bad, sizeof bad, "footprint %zu: no name or shard out of range", i);
            goto bad;
        }
        /* Names become folders under OUTROOT: checked as when they were made. */
        char where[64];
        snprintf(where, sizeof where, "footprint %zu", i);
        if (cnp_ident_check(CNP_IDENT_ID, fp->name, "name", where) != CNP_OK) {
            snprintf(bad, sizeof bad, "%s", cnp_err_msg());
            goto bad;
        }
        for (size_t k = 0; k < fp->nscene; k++) {
            json_object *x = json_object_array_get_idx(sc, k);
            cnp_batch_scene *c = &fp->scene[k];
            copy_field(c->id, sizeof c->id, x, "id");
            copy_field(c->date, sizeof c->date, x, "date");
            copy_field(c->date_source, sizeof c->date_source, x, "date_source");
            copy_field(c->kind, sizeof c->kind, x, "kind");
            c->path = dupstr(jstr(x, "path"));
            c->mask = dupstr(jstr(x, "mask"));
            c->note = dupstr(jstr(x, "unreadable"));
            c->pixels = jint(x, "pixels");
            if (!c->path || !c->id[0]) {
                snprintf(bad, sizeof bad, "footprint %s: a scene without path or id", fp->name);
                goto bad;
            }
            if (cnp_ident_check(CNP_IDENT_ID, c->id, "scene id", fp->name) != CNP_OK) {
                snprintf(bad, sizeof bad, "%s", cnp_err_msg());
                goto bad;
            }
        }
        for (size_t k = 0; k < fp->npair; k++) {
            json_object *x = json_object_array_get_idx(pr, k);
            cnp_batch_pair *c = &fp->pair[k];
            copy_field(c->dir, sizeof c->dir, x, "dir");
            copy_field(c->reason, sizeof c->reason, x, "reason");
            c->before = (int)jint(x, "before");
            c->after = (int)jint(x, "after");
            c->gap_days = (int)jint(x, "gap_days");
            c->action = same(jstr(x, "action"), "run") ? CNP_PAIR_RUN : CNP_PAIR_SKIP;
            char dir[sizeof c->dir];
            if (c->before >= 0 && c->after >= 0 && (size_t)c->before < fp->nscene &&
                (size_t)c->after < fp->nscene)
                snprintf(dir, sizeof dir, "%s__%s", fp->scene[c->before].id,
                         fp->scene[c->after].id);
            else
                dir[0] = '\0';
            /* A pair's folder is its scenes' ids, nothing else. */
            if (!dir[0] || strcmp(c->dir, dir) != 0) {
                snprintf(bad, sizeof bad, "footprint %s: pair %zu is malformed", fp->name, k);
                goto bad;
            }
        }
    }
    json_object *nu = jget(root, "not_used", json_type_array);
    const size_t nitem = nu ? json_object_array_length(nu) : 0;
    p->item = calloc(nitem + 1, sizeof *p->item);
    for (size_t i = 0; p->item && i < nitem; i++, p->nitem++) {
        json_object *x = json_object_array_get_idx(nu, i);
        p->item[i].path = dupstr(jstr(x, "path"));
        p->item[i].reason = dupstr(jstr(x, "reason"));
        copy_field(p->item[i].status, sizeof p->item[i].status, x, "status");
    }

    /* The plan's id: its bytes, so shard summaries of another plan are refused. */
    char hex[65];
    if (cnp_sha256_file(path, hex, NULL) == CNP_OK)
        snprintf(p->plan_id, sizeof p->plan_id, "%.16s", hex);
    goto done;
bad:
    st = cnp_err(CNP_E_CONFIG, "plan '%s': %s", path, bad);
done:
    if (fd >= 0) {
        close(fd);
        unlink(tmp_ini);
    }
    json_object_put(root);
    return st;
}

/* ---- --list ------------------------------------------------------------------ */

/* Every line through cnp_ident_term_line: labels, paths and reasons come from
 * inputs, and this goes to a terminal. */
void cnp_batch_list(const cnp_batch_plan *p, int shard, FILE *out)
{
    size_t nscene = 0, nrun = 0, ndone = 0, nskip = 0, nfp = 0;
    for (size_t i = 0; i < p->nfp; i++) {
        const cnp_batch_fp *fp = &p->fp[i];
        if (shard >= 0 && fp->shard != shard)
            continue;
        nfp++;
        nscene += fp->nscene;
        char sh[32] = "";
        if (p->nshards > 1)
            snprintf(sh, sizeof sh, "; shard %d", fp->shard);
        cnp_ident_term_line(out, "footprint %s  (%s; %zu scene%s%s)", fp->name, fp->label,
                            fp->nscene, fp->nscene == 1 ? "" : "s", sh);
        for (size_t k = 0; k < fp->nscene; k++) {
            const cnp_batch_scene *s = &fp->scene[k];
            cnp_ident_term_line(out, "  scene %s  %s  [%s]  %s%s%s", s->date, s->id, s->kind,
                                s->path, s->note ? "  UNREADABLE: " : "",
                                s->note ? s->note : "");
        }
        for (size_t k = 0; k < fp->npair; k++) {
            const cnp_batch_pair *pr = &fp->pair[k];
            char why[512];
            if (pr->action == CNP_PAIR_SKIP) {
                cnp_ident_term_line(out, "  pair %s/%s  skip: %s", fp->name, pr->dir,
                                    pr->reason);
                nskip++;
            } else if (cnp_batch_pair_not_observed(p, fp, pr, why, sizeof why)) {
                cnp_ident_term_line(out, "  pair %s/%s  skip: not observed: %s", fp->name,
                                    pr->dir, why);
                nskip++;
            } else if (cnp_batch_pair_complete(p, fp, pr, why, sizeof why)) {
                cnp_ident_term_line(out, "  pair %s/%s  complete", fp->name, pr->dir);
                ndone++;
            } else {
                cnp_ident_term_line(out, "  pair %s/%s  run (%d days; %s)", fp->name, pr->dir,
                                    pr->gap_days, why);
                nrun++;
            }
        }
        if (fp->npair == 0)
            cnp_ident_term_line(out, "  (no pair: one scene)");
    }
    for (size_t i = 0; i < p->nitem && shard < 0; i++)
        cnp_ident_term_line(out, "%s %s: %s", p->item[i].status, p->item[i].path,
                            p->item[i].reason);
    char inputs[96] = "";
    if (shard < 0) {
        size_t nfail = 0, nign = 0;
        for (size_t i = 0; i < p->nitem; i++)
            *(strcmp(p->item[i].status, "failed") == 0 ? &nfail : &nign) += 1;
        snprintf(inputs, sizeof inputs, "; inputs: %zu failed, %zu not used", nfail, nign);
    }
    cnp_ident_term_line(out, "plan: %zu footprint%s, %zu scenes, %zu pairs: %zu to run, %zu "
                        "complete, %zu skipped%s", nfp, nfp == 1 ? "" : "s", nscene,
                        nrun + ndone + nskip, nrun, ndone, nskip, inputs);
}

/* ---- pairs with nothing observed ---------------------------------------------- */

/* "path size mtime" of an input (a new delivery under the same name is
 * another input). */
static void input_stamp(const char *path, char *out, size_t size)
{
    struct stat sb;
    if (!path)
        snprintf(out, size, "-");
    else if (stat(path, &sb) != 0)
        snprintf(out, size, "%s missing", path);
    else
        snprintf(out, size, "%s %lld %lld.%09ld", path, (long long)sb.st_size,
                 (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
}

/* What makes a pair's outcome the same outcome: its inputs, config file and
 * settings (malloc'd text, or NULL). */
static char *pair_identity(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                           const cnp_batch_pair *pr)
{
    const cnp_batch_scene *b = &fp->scene[pr->before], *a = &fp->scene[pr->after];
    char in[4][4200];
    input_stamp(b->path, in[0], sizeof in[0]);
    input_stamp(a->path, in[1], sizeof in[1]);
    input_stamp(b->mask, in[2], sizeof in[2]);
    input_stamp(a->mask, in[3], sizeof in[3]);
    cnp_settings s;
    cnp_batch_pair_settings(p, fp, pr, &s);
    char *ini = settings_ini(&s), *out = NULL;
    if (ini && asprintf(&out, "before=%s\nafter=%s\nbefore_mask=%s\nafter_mask=%s\nconfig=%s\n%s",
                        in[0], in[1], in[2], in[3], p->config_path ? p->config_path : "",
                        ini) < 0)
        out = NULL;
    free(ini);
    return out;
}

static void not_observed_path(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                              const cnp_batch_pair *pr, char *out, size_t size)
{
    snprintf(out, size, "%s/%s/%s/not_observed.json", p->outroot, fp->name, pr->dir);
}

int cnp_batch_pair_not_observed(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                                const cnp_batch_pair *pr, char *why, size_t wsize)
{
    char path[8400];
    not_observed_path(p, fp, pr, path, sizeof path);
    if (access(path, F_OK) != 0)
        return 0;
    json_object *rec = json_object_from_file(path);
    char *want = pair_identity(p, fp, pr);
    const char *have = jstr(rec, "identity"), *reason = jstr(rec, "reason");
    const int match = want && have && reason && strcmp(want, have) == 0;
    if (match)
        snprintf(why, wsize, "%s", reason);
    free(want);
    json_object_put(rec);
    return match;
}

cnp_status cnp_batch_pair_not_observed_write(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                                             const cnp_batch_pair *pr, const char *why)
{
    char path[8400], tmp[8500];
    not_observed_path(p, fp, pr, path, sizeof path);
    char *id = pair_identity(p, fp, pr);
    if (!id)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    /* The pair's folder: detect left none behind. */
    char dir[8400];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        free(id);
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", dir, strerror(errno));
    }
    cnp_tmp_path(path, tmp, sizeof tmp);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        free(id);
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", tmp, strerror(errno));
    }
    cnp_json j;
    cnp_json_begin(&j, f);
    cnp_json_str(&j, "program", "canopy");
    cnp_json_str(&j, "kind", "batch-pair-not-observed");
    cnp_json_str(&j, "reason", why);
    cnp_json_str(&j, "identity", id);
    cnp_json_end(&j);
    free(id);
    const int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        const int e = errno;
        unlink(tmp);
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", path, strerror(e));
    }
    return CNP_OK;
}

void cnp_batch_pair_not_observed_clear(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                                       const cnp_batch_pair *pr)
{
    char path[8400];
    not_observed_path(p, fp, pr, path, sizeof path);
    if (unlink(path) == 0) {
        *strrchr(path, '/') = '\0';
        rmdir(path);          /* only when nothing else is in it: detect starts afresh */
    }
}
