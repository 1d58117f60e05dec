/* tests/fuzz/fuzz_mtl_json.c - Landsat MTL as JSON (_MTL.json): the JSON
 * flattener, then the product resolver on it (cnp_fuzz.h). */
#include "cnp_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cnp_fuzz_mtl(data, size, "_MTL.json", cnp_meta_parse_json);
    return 0;
}
