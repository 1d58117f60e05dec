/* tests/fuzz/fuzz_stac_item.c - STAC items (JSON): the bounded JSON parser,
 * then the input resolved twice: as an item file whose assets lie next to it
 * (empty files named after their hrefs), and as the item of a Sentinel-2
 * COG folder (B04.tif, B08.tif, SCL.tif), which reads its raster:bands. */
#include <stdio.h>
#include <string.h>

#include <json.h>

#include "cnp_fuzz.h"

/* An empty file beside the item for each asset href (at most 64). */
static void touch_assets(json_object *item, const char *dir)
{
    json_object *assets = NULL;
    int made = 0;
    if (!json_object_is_type(item, json_type_object) ||
        !json_object_object_get_ex(item, "assets", &assets) ||
        !json_object_is_type(assets, json_type_object))
        return;
    json_object_object_foreach(assets, k, a) {
        (void)k;
        json_object *href = NULL;
        if (made >= 64 || !json_object_is_type(a, json_type_object) ||
            !json_object_object_get_ex(a, "href", &href) ||
            !json_object_is_type(href, json_type_string))
            continue;
        const char *h = json_object_get_string(href);
        const char *base = strrchr(h, '/');
        base = base ? base + 1 : h;
        if (!*base || strlen(base) > 200)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, base);
        cnp_fuzz_touch(path);
        made++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const cnp_settings *s = cnp_fuzz_settings();
    static const char idir[] = "/vsimem/fuzz/item";
    static const char cog[] = "/vsimem/fuzz/S2B_21LXH_20240820_0_L2A";
    static const char *const bands[] = { "B04.tif", "B08.tif", "SCL.tif" };
    char why[512], path[256];
    int rc = 0;

    json_object *o = cnp_meta_json((const char *)data, size, &s->limits, &rc, why, sizeof why);
    if (o)
        touch_assets(o, idir);
    json_object_put(o);
    snprintf(path, sizeof path, "%s/S2B_21LXH_20240820_0_L2A.json", idir);
    cnp_fuzz_write(path, data, size);
    cnp_fuzz_resolve_and_clean(path);

    for (size_t i = 0; i < sizeof bands / sizeof bands[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", cog, bands[i]);
        cnp_fuzz_touch(path);
    }
    snprintf(path, sizeof path, "%s/S2B_21LXH_20240820_0_L2A.json", cog);
    cnp_fuzz_write(path, data, size);
    cnp_fuzz_resolve_and_clean(cog);
    return 0;
}
