/* tests/fuzz/fuzz_mtd_msil2a.c - Sentinel-2 L2A metadata (MTD_MSIL2A.xml):
 * the XML flattener, then the input as the metadata of a .SAFE folder whose
 * IMAGE_FILE entries exist (as empty .jp2 files), resolved. */
#include <stdio.h>

#include "cnp_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const cnp_settings *s = cnp_fuzz_settings();
    static const char safe[] =
        "/vsimem/fuzz/S2B_MSIL2A_20240820T135219_N0510_R110_T21LXH_20240820T153012.SAFE";
    cnp_meta m = { 0 };
    char why[512], path[256];

    cnp_meta_parse_xml((const char *)data, size, &s->limits, &m, why, sizeof why);
    cnp_fuzz_touch_named(&m, safe, "IMAGE_FILE", ".jp2");
    cnp_meta_free(&m);
    snprintf(path, sizeof path, "%s/MTD_MSIL2A.xml", safe);
    cnp_fuzz_write(path, data, size);
    cnp_fuzz_resolve_and_clean(safe);
    return 0;
}
