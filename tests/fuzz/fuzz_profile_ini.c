/* tests/fuzz/fuzz_profile_ini.c - a product profile (configs/<family>.ini):
 * the bounded INI parser and the profile's checks, its mask rule, and the
 * expansion of each of its file and key templates against a small MTL. */
#include <string.h>

#include "cnp_fuzz.h"
#include "cnp_product_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const templates[][2] = {
        { "product", "footprint" }, { "bands", "file_key" }, { "bands", "file_pattern" },
        { "bands", "scale_key" }, { "bands", "offset_key" }, { "bands", "safe_file" },
        { "bands", "cog_file" }, { "mask", "file_key" }, { "mask", "file_pattern" },
        { "mask", "safe_file" }, { "mask", "cog_file" },
    };
    cnp_profile pr;
    int is_profile = 0;
    cnp_fuzz_settings();
    if (cnp_profile_parse((const char *)data, size, "fuzz.ini", &pr, &is_profile) != CNP_OK ||
        !is_profile)
        return 0;
    cnp_product p;
    memset(&p, 0, sizeof p);
    cnp_profile_mask_rule(&pr, "QA_PIXEL", &p);

    cnp_meta meta = { 0 };
    cnp_meta_add(&meta, "PRODUCT_CONTENTS", "FILE_NAME_BAND_4", "X_SR_B4.TIF", "", 0);
    cnp_meta_add(&meta, "PROJECTION_ATTRIBUTES", "WRS_PATH", "227", "", 0);
    cnp_meta_add(&meta, "PROJECTION_ATTRIBUTES", "WRS_ROW", "-65.5", "", 0);
    const tctx tc = { &meta, "LC08_L2SP_227065_20240615_20240622_02_T1", 4, "B04" };
    for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++) {
        const char *t = cnp_profile_get(&pr, templates[i][0], templates[i][1]);
        char out[512], missing[128];
        if (t)
            cnp_product_expand(t, &tc, out, sizeof out, missing, sizeof missing);
    }
    cnp_meta_free(&meta);
    cnp_meta_free(&pr.kv);
    return 0;
}
