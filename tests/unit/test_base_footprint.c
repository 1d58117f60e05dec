/* tests/unit/test_base_footprint.c - base/cnp_footprint: the one footprint key
 * batch and monitor give a footprint.
 *
 * Linked with base/'s objects and libkernels.a only (no GDAL library).
 */
#include <string.h>

#include "cnp_footprint.h"
#include "cnp_test.h"

static const double GT[6] = { 500000.0, 10.0, 0.0, 8000000.0, 0.0, -10.0 };

static void product_names(void)
{
    char key[CNP_FOOTPRINT_KEY_LEN];
    CHECK(cnp_footprint_key("MGRS tile 21LXK", NULL, NULL, 0, 0, key, sizeof key, "x") == CNP_OK);
    CHECK(strcmp(key, "mgrs-21LXK") == 0);
    CHECK(cnp_footprint_key("WRS-2 path/row 001/062", "ignored", GT, 1, 1, key, sizeof key,
                            "x") == CNP_OK);
    CHECK(strcmp(key, "wrs2-001-062") == 0);
}

static void crafted_names_refused(void)
{
    char key[CNP_FOOTPRINT_KEY_LEN];
    CHECK(cnp_footprint_key("MGRS tile Z'OR'x'<'y", NULL, NULL, 0, 0, key, sizeof key, "x") ==
          CNP_E_DATA);
    char longname[200];
    memset(longname, 'A', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK(cnp_footprint_key(longname, NULL, NULL, 0, 0, key, sizeof key, "x") == CNP_E_DATA);
}

/* The grid key is pinned: monitor states made before keep their keys (and
 * the alert ids made from them). */
static void grid_key_pinned(void)
{
    char key[CNP_FOOTPRINT_KEY_LEN];
    CHECK(cnp_footprint_key("", "EPSG:32721", GT, 256, 128, key, sizeof key, "x") == CNP_OK);
    CHECK(strcmp(key, "grid-3e2b1f2b") == 0);
    CHECK(cnp_footprint_key(NULL, "EPSG:32721", GT, 256, 128, key, sizeof key, "x") == CNP_OK);
    CHECK(strcmp(key, "grid-3e2b1f2b") == 0);
}

static void grid_key_follows_the_grid(void)
{
    char a[CNP_FOOTPRINT_KEY_LEN], b[CNP_FOOTPRINT_KEY_LEN], c[CNP_FOOTPRINT_KEY_LEN];
    const double moved[6] = { 500010.0, 10.0, 0.0, 8000000.0, 0.0, -10.0 };
    CHECK(cnp_footprint_key(NULL, "EPSG:32721", GT, 256, 128, a, sizeof a, "x") == CNP_OK);
    CHECK(cnp_footprint_key(NULL, "EPSG:32721", moved, 256, 128, b, sizeof b, "x") == CNP_OK);
    CHECK(cnp_footprint_key(NULL, "EPSG:32722", GT, 256, 128, c, sizeof c, "x") == CNP_OK);
    CHECK(strcmp(a, b) != 0 && strcmp(a, c) != 0);
    CHECK(strncmp(a, "grid-", 5) == 0 && strlen(a) == 13);
}

int main(void)
{
    static const cnp_test_case cases[] = {
        TEST_CASE(product_names),
        TEST_CASE(crafted_names_refused),
        TEST_CASE(grid_key_pinned),
        TEST_CASE(grid_key_follows_the_grid),
    };
    return cnp_test_run_all("footprint", cases, sizeof cases / sizeof cases[0]);
}
