/* tests/fuzz/cnp_fuzz.h - what the fuzz targets share.
 *
 * One target per parser of external text (tests/fuzz/fuzz_<target>.c). Each
 * feeds the input to the parser on a memory buffer, then, for metadata,
 * through the product resolver as `canopy info` would see it: the input
 * becomes a file of an in-memory product folder under /vsimem/fuzz/ (GDAL's
 * memory file system, no temporary files), next to empty files for what it
 * names, so resolution goes past "band file missing".
 *
 * Built two ways: with clang and libFuzzer (`make fuzz`), and with the
 * project's compiler and cnp_fuzz_replay.c as main() (`make test` replays
 * every file of tests/fuzz/corpus/<target>/ through its target).
 */
#ifndef CNP_FUZZ_H
#define CNP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_config.h"
#include "cnp_meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The settings of every target: the defaults (profiles from the configs/
 * folder found from the executable, or $CANOPY_CONFIG_DIR). GDAL is
 * registered and its errors routed into ours on the first call. */
const cnp_settings *cnp_fuzz_settings(void);

/* An in-memory file holding `size` bytes of `data` (or an empty one). */
void cnp_fuzz_write(const char *path, const void *data, size_t size);
void cnp_fuzz_touch(const char *path);

/* An empty file dir/NAME for each item whose key starts with `prefix` (at
 * most 64), NAME its value with `ext` appended: the band files metadata names. */
void cnp_fuzz_touch_named(const cnp_meta *m, const char *dir, const char *prefix,
                          const char *ext);

/* cnp_product_resolve() on `path`, the result freed; then /vsimem/fuzz/ is
 * emptied for the next input. */
void cnp_fuzz_resolve_and_clean(const char *path);

typedef int (*cnp_fuzz_parse_fn)(const char *text, size_t len, const cnp_limits *lim,
                                 cnp_meta *m, char *why, size_t wsize);

/* A Landsat MTL target: `parse` on the buffer, then the input as the _MTL
 * file (`suffix`) of a product folder, resolved. */
void cnp_fuzz_mtl(const uint8_t *data, size_t size, const char *suffix, cnp_fuzz_parse_fn parse);

#endif /* CNP_FUZZ_H */
