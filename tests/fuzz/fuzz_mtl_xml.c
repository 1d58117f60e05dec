/* tests/fuzz/fuzz_mtl_xml.c - Landsat MTL as XML (_MTL.xml): the XML
 * flattener, then the product resolver on it (cnp_fuzz.h). */
#include "cnp_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cnp_fuzz_mtl(data, size, "_MTL.xml", cnp_meta_parse_xml);
    return 0;
}
