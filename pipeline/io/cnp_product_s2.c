/* pipeline/io/cnp_product_s2.c - Sentinel-2 Level-2A products: a SAFE folder
 * (or its .zip) read through MTD_MSIL2A.xml, and the per-band COG folder
 * (B04.tif, B08.tif, SCL.tif) with or without its STAC item. */
#include "cnp_product_int.h"

#include <fnmatch.h>

#include "cnp_err.h"

/* Baseline "NN.NN" as a number; -1 when not in that form. */
static double baseline_num(const char *b)
{
    int maj, min, n = 0;
    if (!b || sscanf(b, "%2d.%2d%n", &maj, &min, &n) != 2 || n != 5 || b[5])
        return -1;
    return maj + min / 100.0;
}

/* The MGRS tile in a name like ..._T29RKH_... or S2A_29RKH_20200219_0_L2A. */
static int tile_from_name(const char *s, char out[8])
{
    for (const char *p = s; *p; p++) {
        const char *q = p;
        if (*q == 'T' && (p == s || p[-1] == '_' || p[-1] == '/'))
            q++;
        else if (!(p == s || p[-1] == '_'))
            continue;
        if (isdigit((unsigned char)q[0]) && isdigit((unsigned char)q[1]) &&
            isupper((unsigned char)q[2]) && isupper((unsigned char)q[3]) &&
            isupper((unsigned char)q[4]) && (q[5] == '_' || q[5] == '\0' || q[5] == '.')) {
            cnp_sfmt(out, 8, "%.5s", q);
            return 1;
        }
    }
    return 0;
}

/* Reflectance scale and offset of a Sentinel-2 band: (DN + offset) / q. */
static cnp_status s2_radiometry(rctx *c, const cnp_profile *pr, const cnp_meta *meta, const char *bname,
                                const char *band_id, const char *baseline, cnp_product_band *pb,
                                char *source, size_t ssize)
{
    double q = 10000;
    const char *qsrc = "default";
    const char *qv = meta ? cnp_product_first_meta(meta, cnp_profile_get(pr, "product", "quantification"), &qsrc)
                          : NULL;
    if (qv) {
        if (!parse_num(qv, &q) || q <= 0)
            return cnp_product_err(c, CNP_E_DATA, "%s '%s' is not a positive number", qsrc, qv);
    } else {
        parse_num(cnp_profile_get(pr, "product", "default_quantification"), &q);
        qsrc = "default quantification";
    }
    const double from = baseline_num(cnp_profile_get(pr, "product", "offset_from_baseline"));
    const double bl = baseline_num(baseline);
    if (baseline && baseline[0] && bl < 0)
        return cnp_product_err(c, CNP_E_DATA, "processing baseline '%s' is not of the form NN.NN", baseline);
    double off = 0;
    const char *okey = cnp_profile_get(pr, "product", "offset");
    const char *ov = (meta && okey) ? cnp_meta_get_attr(meta, okey, "band_id", band_id) : NULL;
    if (ov) {
        if (!parse_num(ov, &off))
            return cnp_product_err(c, CNP_E_DATA, "%s of %s '%s' is not a number", okey, bname, ov);
        if (bl >= 0 && from >= 0 && bl < from && off != 0)
            return cnp_product_err(c, CNP_E_DATA, "processing baseline %s predates %s (introduced with "
                        "%s) but the metadata gives %s = %s for %s: inconsistent product",
                        baseline, okey, cnp_profile_get(pr, "product", "offset_from_baseline"), okey,
                        ov, bname);
        cnp_sfmt(source, ssize, "%s %s / %s", okey, ov, qsrc);
    } else if (meta && bl >= 0 && from >= 0 && bl >= from) {
        return cnp_product_err(c, CNP_E_DATA, "processing baseline %s (>= %s) but the metadata has no %s "
                    "for %s (band_id %s): wrong or incomplete metadata", baseline,
                    cnp_profile_get(pr, "product", "offset_from_baseline"), okey ? okey : "offset",
                    bname, band_id);
    } else {
        cnp_sfmt(source, ssize, "%s (no offset before baseline %s)", qsrc,
                 cnp_profile_get(pr, "product", "offset_from_baseline"));
    }
    pb->scale = 1.0 / q;
    pb->offset = off / q;
    pb->has_scale = 1;
    return CNP_OK;
}

cnp_status cnp_product_resolve_s2_safe(rctx *c, const cnp_profile *pr, const char *mfile,
                                       const cnp_meta *meta, cnp_product *p)
{
    const char *src = NULL;
    const char *uri = cnp_product_first_meta(meta, cnp_profile_get(pr, "product", "id"), NULL);
    if (uri) {
        copy_str(p->id, sizeof p->id, uri);
        char *dot = strrchr(p->id, '.');
        if (dot && strcasecmp(dot, ".SAFE") == 0)
            *dot = '\0';
    }
    const char *date = cnp_product_first_meta(meta, cnp_profile_get(pr, "product", "date"), &src);
    if (!date)
        return cnp_product_err(c, CNP_E_DATA, "%s has no sensing date (%s)", mfile,
                    cnp_profile_get(pr, "product", "date"));
    if (!parse_date(date, p->date))
        return cnp_product_err(c, CNP_E_DATA, "%s: %s '%s' is not a date", mfile, src, date);
    cnp_sfmt(p->date_source, sizeof p->date_source, "%s %s", mfile, src);
    copy_str(p->sensor, sizeof p->sensor,
             cnp_product_first_meta(meta, cnp_profile_get(pr, "product", "sensor"), NULL));
    const char *bl = cnp_product_first_meta(meta, cnp_profile_get(pr, "product", "baseline"), NULL);
    copy_str(p->baseline, sizeof p->baseline, bl);
    if (!bl)
        return cnp_product_err(c, CNP_E_DATA, "%s has no processing baseline (%s)", mfile,
                    cnp_profile_get(pr, "product", "baseline"));

    char tile[8] = "";
    if (!tile_from_name(p->id, tile)) {
        const char *img = cnp_meta_get(meta, "IMAGE_FILE");
        if (img)
            tile_from_name(base_of(img), tile);
    }
    if (tile[0])
        cnp_sfmt(p->footprint, sizeof p->footprint, "MGRS tile %s", tile);

    double nodata = 0;
    p->has_nodata = parse_num(cnp_profile_get(pr, "bands", "nodata"), &nodata);
    p->nodata = nodata;
    const char *ext = cnp_profile_get(pr, "bands", "safe_ext");
    if (!ext)
        ext = ".jp2";

    /* Band files: the IMAGE_FILE entries of the metadata. */
    for (int b = 0; b < CNP_NBANDS + 1; b++) {
        const int is_mask = b == CNP_NBANDS;
        char spec[2][ITEM_LEN];
        const char *def = is_mask ? cnp_profile_get(pr, "mask", "band")
                                  : cnp_profile_get(pr, "bands", band_role(b));
        const int ns = split(def, ", \t", spec, 2);
        if (ns < 1) {
            if (b >= CNP_BAND_GREEN)
                continue;
            return cnp_err(CNP_E_CONFIG, "%s: [%s] %s is missing", pr->path,
                           is_mask ? "mask" : "bands", is_mask ? "band" : band_role(b));
        }
        tctx tc = { meta, p->id, 0, spec[0] };
        char pat[256];
        /* A band of another resolution names its own pattern (swir2_safe_file:
         * B12 exists at 20 m, not 10 m). */
        char own_key[64];
        cnp_sfmt(own_key, sizeof own_key, "%s_safe_file", is_mask ? "" : band_role(b));
        const char *own = is_mask ? NULL : cnp_profile_get(pr, "bands", own_key);
        const char *ptmpl = is_mask ? cnp_profile_get(pr, "mask", "safe_file")
                                    : own ? own : cnp_profile_get(pr, "bands", "safe_file");
        if (!ptmpl || cnp_product_expand(ptmpl, &tc, pat, sizeof pat, NULL, 0) != 0)
            return cnp_err(CNP_E_CONFIG, "%s: [%s] safe_file is missing or bad", pr->path,
                           is_mask ? "mask" : "bands");
        const char *found = NULL;
        for (size_t i = 0; i < meta->n && !found; i++)
            if (strcasecmp(meta->v[i].key, "IMAGE_FILE") == 0 &&
                fnmatch(pat, meta->v[i].val, 0) == 0)
                found = meta->v[i].val;
        if (!found) {
            if (b >= CNP_BAND_GREEN && !is_mask)
                continue;
            return cnp_product_err(c, CNP_E_DATA, "%s lists no %s image (%s)", mfile, spec[0], pat);
        }
        char path[8192];
        cnp_sfmt(path, sizeof path, "%s/%s%s", c->dir, found, ext);
        if (!path_exists(path, NULL)) {
            if (b >= CNP_BAND_GREEN && !is_mask)
                continue;
            return cnp_product_err(c, CNP_E_DATA, "%s%s (%s, listed in %s) is missing", found, ext,
                        is_mask ? spec[0] : band_role(b), mfile);
        }
        if (is_mask) {
            p->mask_path = strdup(path);
            if (!p->mask_path)
                return cnp_err(CNP_E_NOMEM, "out of memory");
            cnp_status st = cnp_profile_mask_rule(pr, spec[0], p);
            if (st != CNP_OK)
                return st;
            continue;
        }
        cnp_product_band *pb = &p->band[b];
        pb->path = strdup(path);
        pb->index = 1;
        copy_str(pb->name, sizeof pb->name, spec[0]);
        if (!pb->path)
            return cnp_err(CNP_E_NOMEM, "out of memory");
        char source[160];
        cnp_status st = s2_radiometry(c, pr, meta, spec[0], ns > 1 ? spec[1] : "", bl, pb,
                                      source, sizeof source);
        if (st != CNP_OK)
            return st;
        if (b == CNP_BAND_RED)
            cnp_sfmt(p->scale_source, sizeof p->scale_source, "%s %s", mfile, source);
    }
    return CNP_OK;
}

/* A folder of per-band COGs (B04.tif, B08.tif, SCL.tif), maybe with a STAC
 * item beside them for the date, tile, baseline and scale.
 * Long: the folder's files, then its item's fields, in the order a reader
 * checks them; the steps share the item and the profile.
 */
cnp_status cnp_product_resolve_s2_cog(rctx *c, const cnp_profile *pr, cnp_product *p)
{
    json_object *item = NULL;
    char item_path[8192] = "", why[512];
    for (char **e = c->entries; e && *e && !item; e++) {
        if (!ends_with_ci(*e, ".json"))
            continue;
        join(item_path, sizeof item_path, c->dir, *e);
        /* Other JSON beside the bands is not the item; an item over a limit
         * is this product's metadata refused, not something to do without. */
        int over = 0;
        if (cnp_stac_load(item_path, c->lim, &item, &over, why, sizeof why) != CNP_OK) {
            item = NULL;
            if (over)
                return cnp_product_err(c, CNP_E_DATA, "%s: refused: %s", *e, why);
        }
    }
    json_object *props = item ? jget(item, "properties") : NULL;
    const char *bl = NULL;
    if (item) {
        if (cnp_product_add_file(p, "metadata", item_path) != 0) {
            json_object_put(item);
            return cnp_err(CNP_E_NOMEM, "out of memory");
        }
        copy_str(p->id, sizeof p->id, jstr(item, "id"));
        const char *dt = jstr(props, "datetime");
        if (dt && parse_date(dt, p->date))
            cnp_sfmt(p->date_source, sizeof p->date_source, "%s properties.datetime",
                     base_of(item_path));
        const char *plat = jstr(props, "platform");
        copy_str(p->sensor, sizeof p->sensor, plat);
        bl = jstr(props, "s2:processing_baseline");
        const char *grid = jstr(props, "grid:code");
        char tile[8] = "";
        if (grid && starts_with(grid, "MGRS-"))
            copy_str(tile, sizeof tile, grid + 5);
        else
            tile_from_name(p->id, tile);
        if (tile[0])
            cnp_sfmt(p->footprint, sizeof p->footprint, "MGRS tile %s", tile);
    } else {
        /* Element 84 folder names: S2A_29RKH_20200219_0_L2A. */
        const char *name = base_of(c->dir);
        copy_str(p->id, sizeof p->id, name);
        char tile[8];
        if (tile_from_name(name, tile))
            cnp_sfmt(p->footprint, sizeof p->footprint, "MGRS tile %s", tile);
        const char *u = strchr(name, '_');
        u = u ? strchr(u + 1, '_') : NULL;
        int y, m, d;
        if (u && sscanf(u + 1, "%4d%2d%2d", &y, &m, &d) == 3 && valid_ymd(y, m, d)) {
            cnp_sfmt(p->date, sizeof p->date, "%04d-%02d-%02d", y, m, d);
            copy_str(p->date_source, sizeof p->date_source, "folder name");
        }
        if (name[0] == 'S' && name[1] == '2')
            cnp_sfmt(p->sensor, sizeof p->sensor, "Sentinel-2%c", name[2]);
    }
    copy_str(p->baseline, sizeof p->baseline, bl);

    double nodata = 0;
    p->has_nodata = parse_num(cnp_profile_get(pr, "bands", "nodata"), &nodata);
    p->nodata = nodata;
    cnp_status st = CNP_OK;
    for (int b = 0; b < CNP_NBANDS + 1 && st == CNP_OK; b++) {
        const int is_mask = b == CNP_NBANDS;
        char spec[2][ITEM_LEN];
        const int ns = split(is_mask ? cnp_profile_get(pr, "mask", "band")
                                     : cnp_profile_get(pr, "bands", band_role(b)), ", \t", spec, 2);
        if (ns < 1)
            continue;
        tctx tc = { NULL, p->id, 0, spec[0] };
        char fname[256], path[8192];
        const char *t = is_mask ? cnp_profile_get(pr, "mask", "cog_file")
                                : cnp_profile_get(pr, "bands", "cog_file");
        if (!t || cnp_product_expand(t, &tc, fname, sizeof fname, NULL, 0) != 0)
            continue;
        join(path, sizeof path, c->dir, fname);
        if (!path_exists(path, NULL)) {
            if (b >= CNP_BAND_GREEN)
                continue;
            st = cnp_product_err(c, CNP_E_DATA, "%s (%s) is missing", fname, band_role(b));
            break;
        }
        if (is_mask) {
            p->mask_path = strdup(path);
            st = p->mask_path ? cnp_profile_mask_rule(pr, spec[0], p)
                              : cnp_err(CNP_E_NOMEM, "out of memory");
            continue;
        }
        cnp_product_band *pb = &p->band[b];
        pb->path = strdup(path);
        pb->index = 1;
        copy_str(pb->name, sizeof pb->name, spec[0]);
        if (!pb->path) {
            st = cnp_err(CNP_E_NOMEM, "out of memory");
            break;
        }
        /* raster:bands of the item's asset whose file this is. */
        json_object *assets = item ? jget(item, "assets") : NULL;
        int from_item = 0;
        if (assets) {
            json_object_object_foreach(assets, k, a) {
                (void)k;
                const char *href = jstr(a, "href");
                if (!href || strcmp(base_of(href), fname) != 0)
                    continue;
                json_object *rb = jget(a, "raster:bands");
                json_object *b0 = rb && json_object_is_type(rb, json_type_array) &&
                                  json_object_array_length(rb) > 0
                                  ? json_object_array_get_idx(rb, 0) : NULL;
                json_object *sc = jget(b0, "scale"), *of = jget(b0, "offset");
                if (sc) {
                    pb->scale = json_object_get_double(sc);
                    pb->offset = of ? json_object_get_double(of) : 0;
                    pb->has_scale = pb->scale != 0;
                    from_item = pb->has_scale;
                }
                break;
            }
        }
        if (from_item) {
            if (b == CNP_BAND_RED)
                cnp_sfmt(p->scale_source, sizeof p->scale_source, "%s raster:bands",
                         base_of(item_path));
            continue;
        }
        char source[160];
        const char *base = bl;
        char assumed[8] = "";
        if (!base && p->date[0]) {
            /* No metadata: products sensed from 2022-01-25 on are baseline >= 04.00. */
            copy_str(assumed, sizeof assumed, strcmp(p->date, "2022-01-25") >= 0 ? "04.00"
                                                                                  : "03.01");
            base = assumed;
        }
        double q = 10000, off = 0;
        parse_num(cnp_profile_get(pr, "product", "default_quantification"), &q);
        const double from = baseline_num(cnp_profile_get(pr, "product", "offset_from_baseline"));
        if (base && baseline_num(base) < 0) {
            st = cnp_product_err(c, CNP_E_DATA, "processing baseline '%s' is not of the form NN.NN", base);
            break;
        }
        if (base && baseline_num(base) >= from)
            off = -1000;
        pb->scale = 1.0 / q;
        pb->offset = off / q;
        pb->has_scale = 1;
        cnp_sfmt(source, sizeof source, "quantification %g, offset %g (%s%s)", q, off,
                 assumed[0] ? "assumed from the date, baseline " : "baseline ",
                 base ? base : "unknown");
        if (b == CNP_BAND_RED)
            copy_str(p->scale_source, sizeof p->scale_source, source);
    }
    if (item)
        json_object_put(item);
    return st;
}
