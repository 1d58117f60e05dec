/* tests/unit/test_base_meta.c - base/cnp_meta_flat: metadata flattened into
 * items by the flatteners that need no GDAL (Landsat ODL, JSON), within the
 * [limits], and the item look-ups the profiles use.
 *
 * Linked with base/'s objects and libkernels.a only (no GDAL library).
 */
#include <stdlib.h>
#include <string.h>

#include "cnp_config.h"
#include "cnp_meta_flat.h"
#include "cnp_test.h"

static cnp_limits lim_default(void)
{
    cnp_settings s;
    cnp_settings_defaults(&s);
    return s.limits;
}

static int odl(const char *text, cnp_meta *m, const cnp_limits *lim, char *why)
{
    memset(m, 0, sizeof *m);
    return cnp_meta_parse_odl(text, strlen(text), lim, m, why, 256);
}

static const char MTL[] =
    "GROUP = LANDSAT_METADATA_FILE\n"
    "  GROUP = PRODUCT_CONTENTS\n"
    "    LANDSAT_PRODUCT_ID = \"LC08_L2SP_001062_20240615_20240615_02_T1\"\n"
    "  END_GROUP = PRODUCT_CONTENTS\n"
    "  GROUP = IMAGE_ATTRIBUTES\n"
    "    DATE_ACQUIRED = 2024-06-15\n"
    "    WRS_PATH = 1\n"
    "  END_GROUP = IMAGE_ATTRIBUTES\n"
    "END_GROUP = LANDSAT_METADATA_FILE\n"
    "END\n";

static void odl_items_and_groups(void)
{
    const cnp_limits lim = lim_default();
    cnp_meta m;
    char why[256] = "";
    CHECK(odl(MTL, &m, &lim, why) == CNP_META_OK);
    CHECK(cnp_meta_get(&m, "DATE_ACQUIRED") &&
          strcmp(cnp_meta_get(&m, "DATE_ACQUIRED"), "2024-06-15") == 0);
    /* Quotes gone; GROUP/KEY with any enclosing group; case-insensitive. */
    CHECK(cnp_meta_get(&m, "product_contents/landsat_product_id") &&
          strcmp(cnp_meta_get(&m, "PRODUCT_CONTENTS/LANDSAT_PRODUCT_ID"),
                 "LC08_L2SP_001062_20240615_20240615_02_T1") == 0);
    CHECK(cnp_meta_get(&m, "LANDSAT_METADATA_FILE/WRS_PATH") != NULL);
    CHECK(cnp_meta_get(&m, "PRODUCT_CONTENTS/WRS_PATH") == NULL);
    cnp_meta_free(&m);
}

static void odl_padding_and_corruption(void)
{
    const cnp_limits lim = lim_default();
    cnp_meta m;
    char why[256] = "";
    /* Old USGS MTLs are padded with NULs: fine. A NUL inside: not text. */
    char padded[sizeof MTL + 64];
    memset(padded, 0, sizeof padded);
    memcpy(padded, MTL, sizeof MTL - 1);
    memset(&m, 0, sizeof m);
    CHECK(cnp_meta_parse_odl(padded, sizeof padded, &lim, &m, why, sizeof why) == CNP_META_OK);
    cnp_meta_free(&m);
    padded[10] = '\0';
    memset(&m, 0, sizeof m);
    CHECK(cnp_meta_parse_odl(padded, sizeof padded, &lim, &m, why, sizeof why) ==
          CNP_META_CORRUPT);
    cnp_meta_free(&m);
    /* A group never closed (a truncated file). */
    CHECK(odl("GROUP = A\n  X = 1\n", &m, &lim, why) == CNP_META_CORRUPT);
    cnp_meta_free(&m);
}

static void odl_limits(void)
{
    cnp_limits lim = lim_default();
    cnp_meta m;
    char why[256] = "";
    lim.metadata_depth = 1;
    CHECK(odl(MTL, &m, &lim, why) == CNP_META_LIMIT);
    CHECK(strstr(why, "metadata_depth") != NULL);
    cnp_meta_free(&m);
    lim = lim_default();
    lim.metadata_items = 2;
    CHECK(odl(MTL, &m, &lim, why) == CNP_META_LIMIT);
    CHECK(strstr(why, "metadata_items") != NULL);
    cnp_meta_free(&m);
}

static void json_items_and_limits(void)
{
    cnp_limits lim = lim_default();
    cnp_meta m;
    char why[256] = "";
    const char *stac = "{\"type\": \"Feature\", \"stac_version\": \"1.0.0\", \"id\": \"S2A_X\","
                       " \"properties\": {\"datetime\": \"2024-06-15T10:00:00Z\","
                       " \"s2:mgrs_tile\": \"29RKH\"}, \"assets\": {\"red\": {\"href\": \"B04.tif\"}}}";
    memset(&m, 0, sizeof m);
    CHECK(cnp_meta_parse_json(stac, strlen(stac), &lim, &m, why, sizeof why) == CNP_META_OK);
    CHECK(cnp_meta_get(&m, "properties/datetime") &&
          strcmp(cnp_meta_get(&m, "properties/datetime"), "2024-06-15T10:00:00Z") == 0);
    CHECK(cnp_meta_get(&m, "red/href") && strcmp(cnp_meta_get(&m, "red/href"), "B04.tif") == 0);
    cnp_meta_free(&m);

    int rc = 0;
    json_object *o = cnp_meta_json(stac, strlen(stac), &lim, &rc, why, sizeof why);
    CHECK(o != NULL && rc == CNP_META_OK);
    json_object_put(o);
    CHECK(cnp_meta_json("{\"a\": [1, 2", 11, &lim, &rc, why, sizeof why) == NULL &&
          rc == CNP_META_CORRUPT);
    lim.metadata_depth = 2;
    const char *deep = "{\"a\": {\"b\": {\"c\": {\"d\": 1}}}}";
    CHECK(cnp_meta_json(deep, strlen(deep), &lim, &rc, why, sizeof why) == NULL &&
          rc == CNP_META_LIMIT);
}

static void lookups(void)
{
    cnp_meta m;
    memset(&m, 0, sizeof m);
    CHECK(cnp_meta_add(&m, "A/B", "K", "", "", 0) == 0);
    CHECK(cnp_meta_add(&m, "A/C", "K", "v2", "", 0) == 0);
    CHECK(cnp_meta_add(&m, "A", "IMAGE", "B04.jp2", "bandId=3;res=10", 0) == 0);
    CHECK(cnp_meta_find(&m, "K") == &m.v[0]);           /* first, empty or not */
    CHECK(strcmp(cnp_meta_get(&m, "K"), "v2") == 0);    /* first non-empty     */
    CHECK(cnp_meta_get(&m, "B/K") == NULL);
    CHECK(cnp_meta_get_attr(&m, "IMAGE", "bandId", "3") &&
          strcmp(cnp_meta_get_attr(&m, "IMAGE", "bandId", "3"), "B04.jp2") == 0);
    CHECK(cnp_meta_get_attr(&m, "IMAGE", "bandId", "4") == NULL);
    cnp_meta_free(&m);
    CHECK(m.n == 0 && m.v == NULL);
}

int main(void)
{
    static const cnp_test_case cases[] = {
        TEST_CASE(odl_items_and_groups),
        TEST_CASE(odl_padding_and_corruption),
        TEST_CASE(odl_limits),
        TEST_CASE(json_items_and_limits),
        TEST_CASE(lookups),
    };
    return cnp_test_run_all("meta", cases, sizeof cases / sizeof cases[0]);
}
