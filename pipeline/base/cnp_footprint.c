/* pipeline/base/cnp_footprint.c - the one footprint key (cnp_footprint.h). */
#include "cnp_footprint.h"

#include <stdio.h>
#include <string.h>

#include "cnp_hash.h"
#include "cnp_ident.h"

cnp_status cnp_footprint_key(const char *name, const char *wkt, const double gt[6], int width,
                             int height, char *key, size_t size, const char *input)
{
    if (name && name[0])
        return cnp_ident_footprint_key(name, key, size, input);
    /* The grid's text as monitor states have always hashed it: keys in
     * existing states (and the alert ids made from them) stay the same. */
    char buf[8192], hex[65];
    const int n = snprintf(buf, sizeof buf, "%s|%.17g|%.17g|%.17g|%.17g|%d|%d", wkt ? wkt : "",
                           gt[0], gt[1], gt[3], gt[5], width, height);
    cnp_sha256_hex(buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1), hex);
    snprintf(key, size, "grid-%.8s", hex);
    return cnp_ident_check(CNP_IDENT_KEY, key, "grid footprint key", input);
}
