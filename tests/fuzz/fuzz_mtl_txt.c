/* tests/fuzz/fuzz_mtl_txt.c - Landsat MTL as ODL text (_MTL.txt): the ODL
 * flattener, then the product resolver on it (cnp_fuzz.h). */
#include "cnp_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cnp_fuzz_mtl(data, size, "_MTL.txt", cnp_meta_parse_odl);
    return 0;
}
