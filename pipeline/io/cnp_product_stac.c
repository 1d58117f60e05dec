/* pipeline/io/cnp_product_stac.c - STAC items (JSON), local or remote: the
 * item read within [limits], its red, NIR and mask assets picked by eo:bands
 * common name or asset key, scale and offset from raster:bands. */
#include "cnp_product_int.h"

#include "cnp_err.h"

cnp_status cnp_stac_load(const char *path, const cnp_limits *lim, json_object **out,
                         int *over_limit, char *why, size_t wsize)
{
    char *text = NULL;
    size_t len = 0;
    int rc = cnp_meta_read(path, lim, &text, &len, why, wsize);
    *out = NULL;
    *over_limit = rc == CNP_META_LIMIT;
    if (rc == CNP_META_NOMEM)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    if (rc != CNP_META_OK)
        return rc == CNP_META_LIMIT ? CNP_E_DATA : CNP_E_IO;
    json_object *o = cnp_meta_json(text, len, lim, &rc, why, wsize);
    free(text);
    *over_limit = rc == CNP_META_LIMIT;
    if (!o)
        return rc == CNP_META_NOMEM ? cnp_err(CNP_E_NOMEM, "out of memory") : CNP_E_DATA;
    const char *type = jstr(o, "type");
    json_object *assets = jget(o, "assets");
    if (!type || strcmp(type, "Feature") != 0 || !assets ||
        !json_object_is_type(assets, json_type_object)) {
        cnp_sfmt(why, wsize, "not a STAC item (a GeoJSON Feature with \"assets\")");
        json_object_put(o);
        return CNP_E_DATA;
    }
    *out = o;
    return CNP_OK;
}

/* The local copy of an asset next to the item, if any. */
static const char *stac_local_file(json_object *asset, const char *item_dir, char *buf,
                                   size_t size)
{
    const char *href = jstr(asset, "href");
    if (!href || !item_dir)
        return NULL;
    join(buf, size, item_dir, base_of(href));
    return path_exists(buf, NULL) ? buf : NULL;
}

/* GDAL path of an asset: a local copy beside a local item, else its href. */
static int stac_href(json_object *asset, const rctx *c, char *buf, size_t size)
{
    const char *href = jstr(asset, "href");
    if (!href)
        return 0;
    if (!c->remote && stac_local_file(asset, c->dir, buf, size))
        return 1;
    if (starts_with(href, "http://") || starts_with(href, "https://"))
        cnp_sfmt(buf, size, "/vsicurl/%s", href);
    else if (starts_with(href, "s3://"))
        cnp_sfmt(buf, size, "/vsis3/%s", href + 5);
    else if (starts_with(href, "gs://"))
        cnp_sfmt(buf, size, "/vsigs/%s", href + 5);
    else if (starts_with(href, "file://"))
        copy_str(buf, size, href + 7);
    else if (href[0] == '/')
        copy_str(buf, size, href);
    else
        join(buf, size, c->dir, starts_with(href, "./") ? href + 2 : href);
    return 1;
}

/* The single eo:bands common_name of an asset, or NULL. */
static const char *asset_common_name(json_object *a)
{
    json_object *eb = jget(a, "eo:bands");
    if (!eb || !json_object_is_type(eb, json_type_array) || json_object_array_length(eb) != 1)
        return NULL;
    return jstr(json_object_array_get_idx(eb, 0), "common_name");
}

static int asset_is_image(json_object *a)
{
    const char *type = jstr(a, "type");
    return !type || strstr(type, "image/") != NULL;
}

/* Pick the asset for a candidate list: for each name in order, an asset whose
 * single eo:band has that common name, else an asset with that key. COGs
 * (image/tiff) before other encodings of the same band. */
static json_object *stac_pick(json_object *assets, const char *candidates, const char **key_out)
{
    char names[MAX_ITEMS][ITEM_LEN];
    const int n = split(candidates, ", \t", names, MAX_ITEMS);
    for (int i = 0; i < n; i++) {
        for (int pass = 0; pass < 2; pass++) {
            json_object_object_foreach(assets, k, a) {
                const char *type = jstr(a, "type");
                const int tiff = type && strstr(type, "tiff");
                if ((pass == 0) != (tiff != 0) || !asset_is_image(a))
                    continue;
                const char *cn = asset_common_name(a);
                if ((cn && strcmp(cn, names[i]) == 0) || strcmp(k, names[i]) == 0) {
                    *key_out = k;
                    return a;
                }
            }
        }
    }
    return NULL;
}

cnp_status cnp_product_resolve_stac(rctx *c, const cnp_profile *pr, const cnp_profile_set *ps,
                                    json_object *item, cnp_product *p)
{
    json_object *assets = jget(item, "assets"), *props = jget(item, "properties");
    copy_str(p->id, sizeof p->id, jstr(item, "id"));
    const char *dt = jstr(props, "datetime");
    if (!dt)
        dt = jstr(props, "start_datetime");
    if (dt) {
        if (!parse_date(dt, p->date))
            return cnp_product_err(c, CNP_E_DATA, "properties.datetime '%s' is not a date", dt);
        copy_str(p->date_source, sizeof p->date_source, "STAC properties.datetime");
    }
    const char *plat = jstr(props, "platform");
    json_object *instr = jget(props, "instruments");
    const char *ins = instr && json_object_is_type(instr, json_type_array) &&
                      json_object_array_length(instr) > 0
                      ? json_object_get_string(json_object_array_get_idx(instr, 0)) : NULL;
    cnp_sfmt(p->sensor, sizeof p->sensor, "%s%s%s", plat ? plat : "", ins ? " " : "",
             ins ? ins : "");
    const char *bl = jstr(props, "s2:processing_baseline");
    copy_str(p->baseline, sizeof p->baseline, bl);

    const char *grid = jstr(props, "grid:code");
    json_object *wp = jget(props, "landsat:wrs_path"), *wr = jget(props, "landsat:wrs_row");
    if (grid && starts_with(grid, "MGRS-"))
        cnp_sfmt(p->footprint, sizeof p->footprint, "MGRS tile %s", grid + 5);
    else if (grid && starts_with(grid, "WRS2-") && strlen(grid) >= 11)
        cnp_sfmt(p->footprint, sizeof p->footprint, "WRS-2 path/row %.3s/%.3s", grid + 5,
                 grid + 8);
    else if (wp && wr)
        cnp_sfmt(p->footprint, sizeof p->footprint, "WRS-2 path/row %03d/%03d",
                 atoi(json_object_get_string(wp)), atoi(json_object_get_string(wr)));
    else if (jget(props, "mgrs:utm_zone") && jstr(props, "mgrs:latitude_band") &&
             jstr(props, "mgrs:grid_square"))
        cnp_sfmt(p->footprint, sizeof p->footprint, "MGRS tile %02d%s%s",
                 json_object_get_int(jget(props, "mgrs:utm_zone")),
                 jstr(props, "mgrs:latitude_band"), jstr(props, "mgrs:grid_square"));

    for (int b = 0; b < CNP_NBANDS; b++) {
        const char *cand = cnp_profile_get(pr, "bands", band_role(b));
        const char *key = NULL;
        json_object *a = cand ? stac_pick(assets, cand, &key) : NULL;
        if (!a) {
            if (b >= CNP_BAND_GREEN)
                continue;
            return cnp_product_err(c, CNP_E_DATA, "STAC item has no %s asset (looked for eo:bands "
                        "common_name or asset key %s)", b == CNP_BAND_RED ? "red" : "NIR",
                        cand ? cand : "");
        }
        cnp_product_band *pb = &p->band[b];
        char path[8192];
        if (!stac_href(a, c, path, sizeof path))
            return cnp_product_err(c, CNP_E_DATA, "STAC asset '%s' has no href", key);
        pb->path = strdup(path);
        pb->index = 1;
        copy_str(pb->name, sizeof pb->name, key);
        if (!pb->path)
            return cnp_err(CNP_E_NOMEM, "out of memory");
        json_object *rb = jget(a, "raster:bands");
        json_object *b0 = rb && json_object_is_type(rb, json_type_array) &&
                          json_object_array_length(rb) > 0 ? json_object_array_get_idx(rb, 0)
                                                           : NULL;
        json_object *sc = jget(b0, "scale"), *of = jget(b0, "offset"), *nd = jget(b0, "nodata");
        if (sc && json_object_get_double(sc) != 0) {
            pb->scale = json_object_get_double(sc);
            pb->offset = of ? json_object_get_double(of) : 0;
            pb->has_scale = 1;
            if (b == CNP_BAND_RED)
                cnp_sfmt(p->scale_source, sizeof p->scale_source, "STAC raster:bands of '%s'",
                         key);
        }
        if (nd && b == CNP_BAND_RED) {
            p->has_nodata = 1;
            p->nodata = json_object_get_double(nd);
        }
    }

    /* The mask: the first candidate asset present, decoded by its profile. */
    char cands[MAX_ITEMS][ITEM_LEN];
    const int nc = split(cnp_profile_get(pr, "mask", "assets"), ", \t", cands, MAX_ITEMS);
    for (int i = 0; i < nc; i++) {
        json_object *a = jget(assets, cands[i]);
        if (!a)
            continue;
        const char *fam = cnp_profile_get(pr, "mask", cands[i]);
        const cnp_profile *mp = fam ? cnp_profile_by_family(ps, fam) : NULL;
        if (!mp)
            return cnp_err(CNP_E_CONFIG, "%s:%d: [mask] %s: no profile of family '%s'",
                           pr->path, cnp_profile_line(pr, "mask", cands[i]), cands[i],
                           fam ? fam : "(none)");
        char path[8192];
        if (!stac_href(a, c, path, sizeof path))
            return cnp_product_err(c, CNP_E_DATA, "STAC asset '%s' has no href", cands[i]);
        p->mask_path = strdup(path);
        if (!p->mask_path)
            return cnp_err(CNP_E_NOMEM, "out of memory");
        char layer[32];
        copy_str(layer, sizeof layer, cands[i]);
        for (char *q = layer; *q; q++)
            *q = (char)toupper((unsigned char)*q);
        cnp_status st = cnp_profile_mask_rule(mp, layer, p);
        if (st != CNP_OK)
            return st;
        break;
    }
    return CNP_OK;
}
