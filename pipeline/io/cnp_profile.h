/* pipeline/io/cnp_profile.h - product profiles: the INI files of the profile
 * folder (configs/landsat_c2l2.ini, ...) that describe a product family, and
 * the mask rule a profile's [mask] section gives.
 *
 * Profiles are read within the INI bounds of base/cnp_ini.h (size, line
 * length, keys); a profile that breaks them, or has a bad value, is a
 * configuration error naming its file and line.
 */
#ifndef CNP_PROFILE_H
#define CNP_PROFILE_H

#include <stddef.h>

#include "cnp_config.h"
#include "cnp_meta.h"
#include "cnp_product.h"

#define CNP_MAX_PROFILES 64   /* profiles in one folder */

typedef struct cnp_profile {
    char     path[1100];
    char     family[32];
    int      priority;        /* tried in increasing order                 */
    cnp_meta kv;              /* every key: sec = INI section, line = its line */
} cnp_profile;

typedef struct cnp_profile_set {
    cnp_profile *p;
    size_t       n;
    char         dir[1024];
} cnp_profile_set;

/* cnp_profile_parse() :
 * Parse `len` bytes of profile INI text named `path` into *pr (zeroed first).
 * *is_profile = 0 for an INI file without [product] family (default.ini and
 * other settings files in the folder); otherwise family, priority (an
 * integer that fits an int) and format (mtl, s2, stac) are checked.
 * @return CNP_OK; CNP_E_CONFIG ("path:line: why") or CNP_E_NOMEM, *pr freed. */
cnp_status cnp_profile_parse(const char *text, size_t len, const char *path, cnp_profile *pr,
                             int *is_profile);

/* Every profile of the folder cnp_product_profiles_dir() names, sorted by
 * priority then path. More than CNP_MAX_PROFILES is a configuration error.
 * @return CNP_OK, CNP_E_CONFIG or CNP_E_NOMEM. */
cnp_status cnp_profiles_load(const cnp_settings *s, cnp_profile_set *ps);
void cnp_profiles_free(cnp_profile_set *ps);

const cnp_profile *cnp_profile_by_family(const cnp_profile_set *ps, const char *family);

/* The value of [sec] key, or NULL; its line (0 when absent). */
const char *cnp_profile_get(const cnp_profile *pr, const char *sec, const char *key);
int cnp_profile_line(const cnp_profile *pr, const char *sec, const char *key);

/* cnp_profile_mask_rule() :
 * The quality-layer rule of the profile's [mask] section (decode bits or
 * classes, invalid and buffer flag lists, fill_flag) into p->mask,
 * p->mask_text, p->fill_*, with `layer` as p->mask_name.
 * @return CNP_OK, or CNP_E_CONFIG naming the profile's file and line. */
cnp_status cnp_profile_mask_rule(const cnp_profile *pr, const char *layer, cnp_product *p);

#endif /* CNP_PROFILE_H */
