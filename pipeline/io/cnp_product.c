/* pipeline/io/cnp_product.c - product recognition: what a path is, which
 * profile it matches, and the Landsat MTL resolver.
 *
 * Metadata files are read and flattened by io/cnp_meta.c within the run's
 * [limits]; profiles come from io/cnp_profile.c; Sentinel-2 and STAC items
 * have resolvers of their own (cnp_product_s2.c, cnp_product_stac.c). Files
 * are read through GDAL's virtual file systems, so a .tar (/vsitar/), a .zip
 * (/vsizip/) or a URL (/vsicurl/) reads like a folder.
 */
#include "cnp_product_int.h"

#include <fnmatch.h>
#include <unistd.h>

#include <cpl_string.h>
#include <gdal.h>

#include "cnp_err.h"

int cnp_product_add_file(cnp_product *p, const char *role, const char *path)
{
    for (size_t i = 0; i < p->nfiles; i++)
        if (strcmp(p->files[i].path, path) == 0)
            return 0;
    cnp_product_file *f = realloc(p->files, (p->nfiles + 1) * sizeof *f);
    if (!f)
        return -1;
    p->files = f;
    f[p->nfiles].role = strdup(role);
    f[p->nfiles].path = strdup(path);
    if (!f[p->nfiles].role || !f[p->nfiles].path) {
        free(f[p->nfiles].role);
        free(f[p->nfiles].path);
        return -1;
    }
    p->nfiles++;
    return 0;
}

/* Any of the three Landsat MTL encodings, by content, within c->lim.
 * Returns a CNP_META_* code with `why` set. */
static int parse_metadata(const rctx *c, const char *path, cnp_meta *m, char *why, size_t wsize)
{
    char *text = NULL;
    size_t len = 0;
    int rc = cnp_meta_read(path, c->lim, &text, &len, why, wsize);
    if (rc == CNP_META_OK)
        rc = cnp_meta_parse(text, len, c->lim, m, why, wsize);
    free(text);
    return rc;
}

cnp_status cnp_product_err(const rctx *c, cnp_status st, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cnp_err(st, "%s%sproduct '%s': %s", c->role, *c->role ? " " : "", c->user, msg);
}

/* First directory entry matching one of the glob patterns (in pattern order). */
static const char *find_entry(const rctx *c, const char *patterns, const char *format)
{
    char pat[MAX_ITEMS][ITEM_LEN];
    if (c->stac_url)
        return strcmp(format, "stac") == 0 ? c->hint : NULL;
    const int n = split(patterns, ", \t", pat, MAX_ITEMS);
    for (int i = 0; i < n; i++) {
        if (c->hint[0]) {
            if (fnmatch(pat[i], c->hint, FNM_CASEFOLD) == 0)
                return c->hint;
            continue;
        }
        for (char **e = c->entries; e && *e; e++)
            if (fnmatch(pat[i], *e, FNM_CASEFOLD) == 0)
                return *e;
    }
    return NULL;
}

static int has_entry(const rctx *c, const char *name)
{
    for (char **e = c->entries; e && *e; e++)
        if (strcmp(*e, name) == 0)
            return 1;
    return 0;
}

/* Template expansion: {id}, {n}, {band}, {KEY} and {KEY:0W} (metadata). */
int cnp_product_expand(const char *t, const tctx *tc, char *out, size_t size, char *missing,
                       size_t msize)
{
    size_t used = 0;
    out[0] = '\0';
    while (*t) {
        if (*t != '{') {
            if (used + 1 < size) {
                out[used++] = *t;
                out[used] = '\0';
            }
            t++;
            continue;
        }
        const char *close = strchr(t, '}');
        if (!close)
            return -1;
        char name[128];
        cnp_sfmt(name, sizeof name, "%.*s", (int)(close - t - 1), t + 1);
        int width = 0;
        char *colon = strchr(name, ':');
        if (colon) {
            width = atoi(colon + 1);
            *colon = '\0';
        }
        char val[512];
        const char *v = NULL;
        if (strcmp(name, "id") == 0) {
            v = tc->id;
        } else if (strcmp(name, "n") == 0) {
            cnp_sfmt(val, sizeof val, "%d", tc->n);
            v = val;
        } else if (strcmp(name, "band") == 0) {
            v = tc->band;
        } else if (tc->meta) {
            v = cnp_meta_get(tc->meta, name);
        }
        if (!v) {
            if (missing)
                copy_str(missing, msize, name);
            return -1;
        }
        double num;
        if (width > 0 && parse_num(v, &num) && num == floor(num) && fabs(num) < 1e9) {
            cnp_sfmt(val, sizeof val, "%0*d", width, (int)num);
            v = val;
        }
        used += (size_t)cnp_sfmt(out + used, used < size ? size - used : 0, "%s", v);
        if (used >= size)
            return -1;
        t = close + 1;
    }
    return 0;
}

/* Does the metadata satisfy "KEY=pat|pat, KEY=..."? why gets the first failure. */
static int requirements_hold(const cnp_profile *pr, const cnp_meta *meta, char *why, size_t wsize)
{
    char req[MAX_ITEMS][ITEM_LEN];
    const int n = split(cnp_profile_get(pr, "product", "require"), ",", req, MAX_ITEMS);
    for (int i = 0; i < n; i++) {
        char *eq = strchr(req[i], '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *key = cnp_trim(req[i]);
        const char *v = cnp_meta_get(meta, key);
        char alts[MAX_ITEMS][ITEM_LEN];
        const int na = split(eq + 1, "|", alts, MAX_ITEMS);
        int ok = 0;
        for (int a = 0; a < na && v && !ok; a++)
            ok = fnmatch(alts[a], v, FNM_CASEFOLD) == 0;
        if (!ok) {
            cnp_sfmt(why, wsize, "%s: %s is %s%s%s, not %s", pr->family, key, v ? "'" : "",
                     v ? v : "missing", v ? "'" : "", eq + 1);
            return 0;
        }
    }
    return 1;
}

const char *cnp_product_first_meta(const cnp_meta *meta, const char *keys, const char **which)
{
    char k[MAX_ITEMS][ITEM_LEN];
    const int n = split(keys, ", \t", k, MAX_ITEMS);
    for (int i = 0; i < n; i++) {
        const char *v = cnp_meta_get(meta, k[i]);
        if (v) {
            if (which)
                *which = cnp_meta_find(meta, k[i])->key;
            return v;
        }
    }
    return NULL;
}

/* ---- Landsat MTL ------------------------------------------------------- */

/* Long: the MTL items in the order the profile names them (id, date,
 * footprint, bands, scale, mask); its steps share the metadata and the
 * profile, and read best top to bottom. */
static cnp_status resolve_mtl(rctx *c, const cnp_profile *pr, const char *mfile, const cnp_meta *meta,
                              cnp_product *p)
{
    const char *src = NULL;
    const char *id = cnp_product_first_meta(meta, cnp_profile_get(pr, "product", "id"), NULL);
    if (!id)
        return cnp_product_err(c, CNP_E_DATA, "%s has no product id (%s)", mfile,
                    cnp_profile_get(pr, "product", "id"));
    copy_str(p->id, sizeof p->id, id);

    const char *date = cnp_product_first_meta(meta, cnp_profile_get(pr, "product", "date"), &src);
    if (!date)
        return cnp_product_err(c, CNP_E_DATA, "%s has no acquisition date (%s)", mfile,
                    cnp_profile_get(pr, "product", "date"));
    if (!parse_date(date, p->date))
        return cnp_product_err(c, CNP_E_DATA, "%s: %s '%s' is not a date YYYY-MM-DD", mfile, src, date);
    cnp_sfmt(p->date_source, sizeof p->date_source, "%s %s", base_of(mfile), src);

    /* Sensor: the values of the sensor keys, e.g. "LANDSAT_8 OLI_TIRS". */
    char keys[MAX_ITEMS][ITEM_LEN], sens[2][ITEM_LEN] = { "", "" };
    const int nk = split(cnp_profile_get(pr, "product", "sensor"), ", \t", keys, MAX_ITEMS);
    for (int i = 0; i < nk && i < 2; i++) {
        const char *v = cnp_meta_get(meta, keys[i]);
        copy_str(sens[i], ITEM_LEN, v);
    }
    cnp_sfmt(p->sensor, sizeof p->sensor, "%s%s%s", sens[0], sens[1][0] ? " " : "", sens[1]);

    tctx tc = { meta, p->id, 0, NULL };
    const char *fp = cnp_profile_get(pr, "product", "footprint");
    if (fp && cnp_product_expand(fp, &tc, p->footprint, sizeof p->footprint, NULL, 0) != 0)
        p->footprint[0] = '\0';

    /* Band numbers for this spacecraft (or spacecraft/sensor). */
    char table_key[2 * ITEM_LEN + 2];
    cnp_sfmt(table_key, sizeof table_key, "%s/%s", sens[0], sens[1]);
    const char *table = cnp_profile_get(pr, "bands", table_key);
    if (!table)
        table = cnp_profile_get(pr, "bands", sens[0]);
    if (!table)
        return cnp_product_err(c, CNP_E_DATA, "spacecraft '%s' (%s) has no band table in profile %s",
                    sens[0], mfile, pr->path);
    char nums[MAX_ITEMS][ITEM_LEN];
    const int nn = split(table, ", \t", nums, MAX_ITEMS);
    if (nn < 2)
        return cnp_err(CNP_E_CONFIG, "%s:%d: [bands] %s: expected 'red nir green blue' band "
                       "numbers", pr->path, cnp_profile_line(pr, "bands", sens[0]), sens[0]);

    double nodata = 0;
    p->has_nodata = parse_num(cnp_profile_get(pr, "bands", "nodata"), &nodata);
    p->nodata = nodata;

    for (int b = 0; b < CNP_NBANDS && b < nn; b++) {
        const int n = atoi(nums[b]);
        if (n <= 0)
            continue;
        char fname[1024] = "", key[256], path[8192], missing[128] = "";
        tc.n = n;
        const char *fkey = cnp_profile_get(pr, "bands", "file_key");
        int named = 0;
        if (fkey && cnp_product_expand(fkey, &tc, key, sizeof key, NULL, 0) == 0) {
            const char *v = cnp_meta_get(meta, key);
            if (v) {
                copy_str(fname, sizeof fname, v);
                named = 1;
            }
        }
        const char *fpat = cnp_profile_get(pr, "bands", "file_pattern");
        if (!fname[0] && (!fpat || cnp_product_expand(fpat, &tc, fname, sizeof fname, missing,
                                          sizeof missing) != 0)) {
            if (b >= CNP_BAND_GREEN)
                continue;
            return cnp_product_err(c, CNP_E_DATA, "%s names no file for band %d (%s)", mfile, n,
                        band_role(b));
        }
        join(path, sizeof path, c->dir, fname);
        if (!path_exists(path, NULL)) {
            if (b >= CNP_BAND_GREEN)
                continue;
            return cnp_product_err(c, CNP_E_DATA, "%s (%s, band %d%s) is missing", fname, band_role(b), n,
                        named ? ", named by the MTL" : "");
        }
        cnp_product_band *pb = &p->band[b];
        pb->path = strdup(path);
        pb->index = 1;
        cnp_sfmt(pb->name, sizeof pb->name, "B%d", n);
        if (!pb->path)
            return cnp_err(CNP_E_NOMEM, "out of memory");

        const char *skey = cnp_profile_get(pr, "bands", "scale_key");
        const char *okey = cnp_profile_get(pr, "bands", "offset_key");
        char sk[256] = "", ok[256] = "";
        if (skey && okey && cnp_product_expand(skey, &tc, sk, sizeof sk, NULL, 0) == 0 &&
            cnp_product_expand(okey, &tc, ok, sizeof ok, NULL, 0) == 0) {
            const char *sv = cnp_meta_get(meta, sk), *ov = cnp_meta_get(meta, ok);
            if (!sv || !ov)
                return cnp_product_err(c, CNP_E_DATA, "%s has no %s: cannot compute reflectance of band "
                            "%d", mfile, !sv ? sk : ok, n);
            if (!parse_num(sv, &pb->scale) || !parse_num(ov, &pb->offset) || pb->scale == 0)
                return cnp_product_err(c, CNP_E_DATA, "%s: %s = '%s', %s = '%s': not a usable scale and "
                            "offset", mfile, sk, sv, ok, ov);
            pb->has_scale = 1;
            if (b == CNP_BAND_RED)
                cnp_sfmt(p->scale_source, sizeof p->scale_source, "%s %s, %s", base_of(mfile),
                         base_of(sk), base_of(ok));
        }
    }

    /* The quality layer. */
    char fname[1024] = "", key[256], path[8192];
    const char *mkey = cnp_profile_get(pr, "mask", "file_key");
    const char *mpat = cnp_profile_get(pr, "mask", "file_pattern");
    const char *opt = cnp_profile_get(pr, "mask", "optional");
    const int optional = opt && (strcmp(opt, "yes") == 0 || strcmp(opt, "1") == 0);
    tc.n = 0;
    int named = 0;
    if (mkey && cnp_product_expand(mkey, &tc, key, sizeof key, NULL, 0) == 0) {
        const char *v = cnp_meta_get(meta, key);
        if (v) {
            copy_str(fname, sizeof fname, v);
            named = 1;
        }
    }
    if (!fname[0] && mpat)
        cnp_product_expand(mpat, &tc, fname, sizeof fname, NULL, 0);
    if (fname[0]) {
        join(path, sizeof path, c->dir, fname);
        if (path_exists(path, NULL)) {
            p->mask_path = strdup(path);
            if (!p->mask_path)
                return cnp_err(CNP_E_NOMEM, "out of memory");
            char layer[64];
            const char *us = strrchr(fname, '_');
            cnp_sfmt(layer, sizeof layer, "%s", us ? us + 1 : fname);
            char *dot = strrchr(layer, '.');
            if (dot)
                *dot = '\0';
            if (strcasecmp(layer, "PIXEL") == 0)
                copy_str(layer, sizeof layer, "QA_PIXEL");
            cnp_status st = cnp_profile_mask_rule(pr, layer, p);
            if (st != CNP_OK)
                return st;
        } else if (!optional) {
            return cnp_product_err(c, CNP_E_DATA, "%s (quality layer%s) is missing", fname,
                        named ? ", named by the MTL" : "");
        }
    } else if (!optional) {
        return cnp_product_err(c, CNP_E_DATA, "%s names no quality layer (%s)", mfile, mkey ? mkey : "");
    }
    return CNP_OK;
}

/* ---- the entry point ---------------------------------------------------- */

static int is_remote(const char *p)
{
    return starts_with(p, "/vsicurl") || starts_with(p, "/vsis3/") || starts_with(p, "/vsigs/") ||
           starts_with(p, "/vsiaz") || starts_with(p, "/vsioss/") || starts_with(p, "/vsiswift/") ||
           starts_with(p, "/vsiadls/") || starts_with(p, "/vsihdfs/") ||
           starts_with(p, "/vsiwebhdfs/");
}

/* Work out c->dir / c->hint / c->layout from the user's path. 0: not a
 * product candidate (let GDAL open it as a raster). */
static int classify(rctx *c, char *why, size_t wsize)
{
    char p[4096];
    copy_str(p, sizeof p, c->user);
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    if (starts_with(p, "http://") || starts_with(p, "https://")) {
        char tmp[4096];
        cnp_sfmt(tmp, sizeof tmp, "/vsicurl/%s", p);
        copy_str(p, sizeof p, tmp);
    }
    c->remote = is_remote(p);
    int dir = 0;
    if (c->remote) {
        /* A remote path is a file: a raster, or else a STAC item (API item
         * URLs do not end in .json). */
        static const char *const raster_ext[] = { ".tif", ".tiff", ".vrt", ".jp2", ".img",
                                                  ".nc", ".hdf", ".h5", ".zarr", NULL };
        for (int i = 0; raster_ext[i]; i++)
            if (ends_with_ci(p, raster_ext[i]))
                return 0;
        c->stac_url = 1;
    } else if (!path_exists(p, &dir)) {
        return 0;
    }
    if (dir) {
        copy_str(c->dir, sizeof c->dir, p);
        copy_str(c->layout, sizeof c->layout, ends_with_ci(p, ".SAFE") ? "SAFE folder"
                                                                       : "folder");
    } else if (ends_with_ci(p, ".tar") || ends_with_ci(p, ".tar.gz") ||
               ends_with_ci(p, ".tgz") || ends_with_ci(p, ".zip")) {
        const int zip = ends_with_ci(p, ".zip");
        char abs[4096];
        if (p[0] != '/' && !starts_with(p, "/vsi")) {
            char cwd[2048];
            if (!getcwd(cwd, sizeof cwd))
                cwd[0] = '\0';
            cnp_sfmt(abs, sizeof abs, "%s/%s", cwd, p);
        } else {
            copy_str(abs, sizeof abs, p);
        }
        copy_str(c->archive, sizeof c->archive, abs);
        cnp_sfmt(c->dir, sizeof c->dir, "%s%s", zip ? "/vsizip/" : "/vsitar/", abs);
        copy_str(c->layout, sizeof c->layout, zip ? "zip" : "tar");
        char **top = VSIReadDir(c->dir);
        if (!top) {
            cnp_sfmt(why, wsize, "cannot list the %s archive (corrupt or empty?)",
                     zip ? "zip" : "tar");
            return -1;
        }
        /* A .SAFE folder inside, or a single folder holding everything. */
        const char *sub = NULL;
        int nfiles = 0, ndirs = 0;
        for (char **e = top; *e; e++) {
            char full[8192];
            int d = 0;
            join(full, sizeof full, c->dir, *e);
            if (path_exists(full, &d) && d) {
                ndirs++;
                if (ends_with_ci(*e, ".SAFE") || !sub)
                    sub = *e;
            } else {
                nfiles++;
            }
        }
        if (sub && (ends_with_ci(sub, ".SAFE") || (ndirs == 1 && nfiles == 0))) {
            const size_t used = strlen(c->dir);
            cnp_sfmt(c->dir + used, sizeof c->dir - used, "/%s", sub);
            if (ends_with_ci(sub, ".SAFE"))
                copy_str(c->layout, sizeof c->layout, zip ? "SAFE zip" : "SAFE tar");
        }
        CSLDestroy(top);
    } else {
        char d[4096];
        copy_str(d, sizeof d, p);
        char *slash = strrchr(d, '/');
        if (slash) {
            *slash = '\0';
            copy_str(c->dir, sizeof c->dir, d[0] ? d : "/");
        } else {
            copy_str(c->dir, sizeof c->dir, ".");
        }
        copy_str(c->hint, sizeof c->hint, base_of(p));
        copy_str(c->layout, sizeof c->layout, c->remote ? "remote item" : "metadata file");
    }
    return 1;
}

/* Long: one recognition read top to bottom: what the path is, the run's
 * memory of it, the profiles tried in order, then what the match gives. */
cnp_status cnp_product_resolve(const char *path, const cnp_settings *s, const char *role,
                               cnp_product *p, int *is_product)
{
    rctx c;
    cnp_profile_set own;
    const cnp_profile_set *ps = NULL;
    cnp_limits def_lim;
    char why[1024] = "", miss[512] = "";
    cnp_status st = CNP_OK;

    memset(p, 0, sizeof *p);
    memset(&c, 0, sizeof c);
    *is_product = 0;
    c.user = path;
    c.role = role ? role : "";
    c.lim = limits_of(s, &def_lim);

    const int cls = classify(&c, why, sizeof why);
    if (cls == 0)
        return CNP_OK;
    if (cls < 0)
        return cnp_product_err(&c, CNP_E_DATA, "%s", why);
    /* A plain raster file: only metadata-looking names are candidates. */
    if (c.hint[0] && !c.stac_url && !ends_with_ci(c.hint, ".txt") &&
        !ends_with_ci(c.hint, ".xml") && !ends_with_ci(c.hint, ".json"))
        return CNP_OK;
    /* Recognised already in this run? */
    const int known = cnp_product_session_find(path, s, p);
    if (known != 0) {
        *is_product = known > 0;
        return known > 0 ? CNP_OK : cnp_err(CNP_E_NOMEM, "out of memory");
    }
    memset(&own, 0, sizeof own);
    if (!(ps = cnp_product_session_profiles(s))) {
        if ((st = cnp_profiles_load(s, &own)) != CNP_OK)
            return st;
        cnp_product_session_count_load();
        ps = &own;
    }
    if (!c.hint[0])
        c.entries = VSIReadDir(c.dir);

    cnp_meta meta = { 0 };
    char meta_file[1024] = "";
    json_object *item = NULL;
    const cnp_profile *match = NULL;

    for (size_t i = 0; i < ps->n && !match && st == CNP_OK; i++) {
        const cnp_profile *pr = &ps->p[i];
        const char *fmt = cnp_profile_get(pr, "product", "format");
        const char *mf = find_entry(&c, cnp_profile_get(pr, "product", "metadata"), fmt);
        if (strcmp(fmt, "s2") == 0 && !mf && !c.hint[0]) {
            /* A per-band COG folder. */
            char files[MAX_ITEMS][ITEM_LEN];
            const int nf = split(cnp_profile_get(pr, "product", "cog_files"), ", \t", files, MAX_ITEMS);
            int all = nf > 0;
            for (int k = 0; k < nf; k++)
                all &= has_entry(&c, files[k]);
            if (all) {
                match = pr;
                copy_str(c.layout, sizeof c.layout, "COG folder");
                st = cnp_product_resolve_s2_cog(&c, pr, p);
            }
            continue;
        }
        if (!mf)
            continue;
        char mpath[8192];
        join(mpath, sizeof mpath, c.dir, mf);
        if (strcmp(fmt, "stac") == 0) {
            if (item)
                json_object_put(item);
            item = NULL;
            int over = 0;
            const cnp_status ls = cnp_stac_load(mpath, c.lim, &item, &over, why, sizeof why);
            if (ls == CNP_E_IO || ls == CNP_E_NOMEM || over) {
                st = ls == CNP_E_NOMEM ? ls : cnp_product_err(&c, ls, "%s: %s%s", mf,
                                                              over ? "refused: " : "", why);
                break;
            }
            if (ls != CNP_OK) {
                if (!miss[0])
                    cnp_sfmt(miss, sizeof miss, "%s: %s", mf, why);
                continue;
            }
            match = pr;
            copy_str(meta_file, sizeof meta_file, mpath);
            st = cnp_product_resolve_stac(&c, pr, ps, item, p);
            continue;
        }
        if (strcmp(meta_file, mpath) != 0) {
            cnp_meta_free(&meta);
            copy_str(meta_file, sizeof meta_file, mpath);
            const int rc = parse_metadata(&c, mpath, &meta, why, sizeof why);
            if (rc != CNP_META_OK) {
                st = rc == CNP_META_NOMEM ? cnp_err(CNP_E_NOMEM, "out of memory")
                     : cnp_product_err(&c, CNP_E_DATA, "%s: %s: %s", mf, rc == CNP_META_LIMIT
                                       ? "refused" : "corrupt metadata", why);
                break;
            }
        }
        if (!requirements_hold(pr, &meta, why, sizeof why)) {
            if (!miss[0])
                cnp_sfmt(miss, sizeof miss, "%s: %s", mf, why);
            continue;
        }
        match = pr;
        st = strcmp(fmt, "mtl") == 0 ? resolve_mtl(&c, pr, mf, &meta, p)
                                     : cnp_product_resolve_s2_safe(&c, pr, mf, &meta, p);
    }

    if (st == CNP_OK && !match) {
        if (miss[0])
            st = cnp_product_err(&c, CNP_E_DATA, "matches no product profile in %s (%s)", ps->dir, miss);
        else if (c.hint[0])
            st = CNP_OK;            /* some other .txt/.xml/.json: let GDAL try it */
        else if (strcmp(c.layout, "zip") == 0)
            st = cnp_product_err(&c, CNP_E_DATA, "no .SAFE folder inside: not a Sentinel-2 product "
                      "archive");
        else if (strcmp(c.layout, "tar") == 0)
            st = cnp_product_err(&c, CNP_E_DATA, "no *_MTL metadata inside: not a Landsat product archive");
        else if (GDALIdentifyDriverEx(c.dir, GDAL_OF_RASTER, NULL, NULL))
            st = CNP_OK;            /* a raster format that is a folder: let GDAL open it */
        else
            st = cnp_product_err(&c, CNP_E_DATA, "no product in this folder (no Landsat *_MTL file, "
                      "Sentinel-2 MTD_MSIL2A.xml, B04.tif + B08.tif or STAC item)");
    }

    if (st == CNP_OK && match) {
        *is_product = 1;
        copy_str(p->family, sizeof p->family, match->family);
        copy_str(p->title, sizeof p->title, cnp_profile_get(match, "product", "title"));
        copy_str(p->profile, sizeof p->profile, match->path);
        copy_str(p->layout, sizeof p->layout, c.layout);
        int fail = 0;
        if (c.archive[0]) {
            fail |= cnp_product_add_file(p, "archive", c.archive);
        } else {
            if (meta_file[0])
                fail |= cnp_product_add_file(p, "metadata", meta_file);
            for (int b = 0; b < CNP_NBANDS; b++)
                if (p->band[b].path)
                    fail |= cnp_product_add_file(p, band_role(b), p->band[b].path);
            if (p->mask_path)
                fail |= cnp_product_add_file(p, "mask", p->mask_path);
        }
        if (fail)
            st = cnp_err(CNP_E_NOMEM, "out of memory");
        if (st == CNP_OK && (!p->band[CNP_BAND_RED].path || !p->band[CNP_BAND_NIR].path))
            st = cnp_product_err(&c, CNP_E_DATA, "no red or NIR band found");
    }
    if (st != CNP_OK) {
        cnp_product_free(p);
        *is_product = 0;
    }
    if (st == CNP_OK && *is_product)
        cnp_product_session_keep(path, s, p);
    if (item)
        json_object_put(item);
    cnp_meta_free(&meta);
    CSLDestroy(c.entries);
    cnp_profiles_free(&own);
    return st;
}

cnp_status cnp_product_copy(cnp_product *dst, const cnp_product *src)
{
    *dst = *src;
    for (int b = 0; b < CNP_NBANDS; b++)
        dst->band[b].path = NULL;
    dst->mask_path = NULL;
    dst->files = NULL;
    dst->nfiles = 0;
    int fail = 0;
    for (int b = 0; b < CNP_NBANDS; b++)
        if (src->band[b].path && !(dst->band[b].path = strdup(src->band[b].path)))
            fail = 1;
    if (src->mask_path && !(dst->mask_path = strdup(src->mask_path)))
        fail = 1;
    for (size_t i = 0; i < src->nfiles && !fail; i++)
        fail = cnp_product_add_file(dst, src->files[i].role, src->files[i].path) != 0;
    if (fail) {
        cnp_product_free(dst);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    return CNP_OK;
}

void cnp_product_free(cnp_product *p)
{
    if (!p)
        return;
    for (int b = 0; b < CNP_NBANDS; b++)
        free(p->band[b].path);
    free(p->mask_path);
    for (size_t i = 0; i < p->nfiles; i++) {
        free(p->files[i].role);
        free(p->files[i].path);
    }
    free(p->files);
    memset(p, 0, sizeof *p);
}
