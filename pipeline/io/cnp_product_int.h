/* pipeline/io/cnp_product_int.h - what the product resolvers share: the
 * resolution context, small string helpers, metadata templates, STAC access.
 *
 * Internal to io/cnp_product*.c and io/cnp_profile.c; callers use
 * cnp_product.h. The helpers are static inline, one copy per file that uses
 * them, so each stays a plain function of its arguments.
 */
#ifndef CNP_PRODUCT_INT_H
#define CNP_PRODUCT_INT_H

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cpl_vsi.h>
#include <json.h>

#include "cnp_meta.h"
#include "cnp_product.h"
#include "cnp_profile.h"
#include "cnp_str.h"

#define MAX_ITEMS 32
#define ITEM_LEN  256

static inline void copy_str(char *dst, size_t size, const char *src)
{
    cnp_sfmt(dst, size, "%s", src ? src : "");
}


/* Split `s` at any character of `delims` into at most `max` trimmed, non-empty items. */
static inline int split(const char *s, const char *delims, char items[][ITEM_LEN], int max)
{
    int n = 0;
    const char *p = s ? s : "";
    while (*p && n < max) {
        const size_t len = strcspn(p, delims);
        if (len > 0) {
            char tmp[ITEM_LEN];
            cnp_sfmt(tmp, sizeof tmp, "%.*s", (int)(len < ITEM_LEN ? len : ITEM_LEN - 1), p);
            const char *t = cnp_trim(tmp);
            if (*t)
                copy_str(items[n++], ITEM_LEN, t);
        }
        p += len;
        if (*p)
            p++;
    }
    return n;
}

static inline int parse_num(const char *v, double *out)
{
    char *end = NULL;
    if (!v)
        return 0;
    errno = 0;
    const double d = strtod(v, &end);
    if (end == v || errno || !isfinite(d))
        return 0;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return 0;
    *out = d;
    return 1;
}

static inline int valid_ymd(int y, int m, int d)
{
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1950 || y > 2200 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    const int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* "YYYY-MM-DD..." (ISO date or date-time) into out; 0 when not a date. */
static inline int parse_date(const char *v, char out[CNP_DATE_LEN])
{
    int y, m, d, n = 0;
    if (!v || sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || !valid_ymd(y, m, d))
        return 0;
    if (v[10] && v[10] != 'T' && v[10] != ' ' && v[10] != 'Z')
        return 0;
    cnp_sfmt(out, CNP_DATE_LEN, "%04d-%02d-%02d", y, m, d);
    return 1;
}

static inline const char *base_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static inline int ends_with_ci(const char *s, const char *suffix)
{
    const size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static inline int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline int path_exists(const char *path, int *is_dir)
{
    VSIStatBufL st;
    if (VSIStatExL(path, &st, VSI_STAT_EXISTS_FLAG | VSI_STAT_NATURE_FLAG) != 0)
        return 0;
    if (is_dir)
        *is_dir = VSI_ISDIR(st.st_mode);
    return 1;
}

static inline void join(char *out, size_t size, const char *dir, const char *name)
{
    cnp_sfmt(out, size, "%s/%s", dir, name);
}

static inline const char *band_role(int b)
{
    static const char *const r[] = { "red", "nir", "green", "blue", "swir2" };
    return r[b];
}

/* The limits of a run's settings, or the defaults without settings. */
static inline const cnp_limits *limits_of(const cnp_settings *s, cnp_limits *def)
{
    if (s)
        return &s->limits;
    cnp_settings d;
    cnp_settings_defaults(&d);
    *def = d.limits;
    return def;
}

/* ---- JSON access (STAC items) -------------------------------------------- */

static inline json_object *jget(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v))
        return v;
    return NULL;
}

static inline const char *jstr(json_object *o, const char *key)
{
    json_object *v = jget(o, key);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* ---- the resolution context ---------------------------------------------- */

typedef struct rctx {
    const char *user;         /* path as given                              */
    const char *role;
    const cnp_limits *lim;    /* the run's [limits]                         */
    char   dir[4096];         /* GDAL path of the folder holding the files  */
    char   hint[1024];        /* the file named inside dir, or ""           */
    char   layout[32];
    char   archive[4096];     /* the .tar / .zip itself, or ""              */
    int    remote;
    int    stac_url;          /* a remote path that is no raster: a STAC item */
    char **entries;           /* VSIReadDir(dir), CSL, or NULL              */
} rctx;

/* cnp_err() with "ROLE product 'PATH': " in front. */
cnp_status cnp_product_err(const rctx *c, cnp_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Template expansion: {id}, {n}, {band}, {KEY} and {KEY:0W} (metadata). */
typedef struct tctx {
    const cnp_meta *meta;
    const char     *id;
    int             n;
    const char     *band;
} tctx;

/* Expand template `t` into out; -1 when a name has no value (its name in
 * `missing` when not NULL) or the result does not fit. */
int cnp_product_expand(const char *t, const tctx *tc, char *out, size_t size, char *missing,
                       size_t msize);

/* The value of the first of `keys` (a list) the metadata has; *which = its key. */
const char *cnp_product_first_meta(const cnp_meta *meta, const char *keys, const char **which);

/* Record a file read for run.json (once per path). 0 or -1 (memory). */
int cnp_product_add_file(cnp_product *p, const char *role, const char *path);

/* cnp_stac_load() :
 * Read and parse a STAC item within c->lim. @return CNP_OK with *out set;
 * CNP_E_IO (cannot read it), CNP_E_DATA (not an item, or over a limit:
 * *over_limit = 1) with `why`. */
cnp_status cnp_stac_load(const char *path, const cnp_limits *lim, json_object **out,
                         int *over_limit, char *why, size_t wsize);

/* The resolvers of the metadata formats other than the MTL. */
cnp_status cnp_product_resolve_s2_safe(rctx *c, const cnp_profile *pr, const char *mfile,
                                       const cnp_meta *meta, cnp_product *p);
cnp_status cnp_product_resolve_s2_cog(rctx *c, const cnp_profile *pr, cnp_product *p);
cnp_status cnp_product_resolve_stac(rctx *c, const cnp_profile *pr, const cnp_profile_set *ps,
                                    json_object *item, cnp_product *p);

/* ---- the thread's session (cnp_product_session.c) ---- */

/* The session's profiles when it serves settings `s`, else NULL. */
const cnp_profile_set *cnp_product_session_profiles(const cnp_settings *s);
/* A copy of the product the session recognised at `path` for `s`: 1 when
 * found (*p filled), 0 when not, -1 out of memory. */
int cnp_product_session_find(const char *path, const cnp_settings *s, cnp_product *p);
/* Remember a product just recognised (counted; kept when a session serves `s`). */
void cnp_product_session_keep(const char *path, const cnp_settings *s, const cnp_product *p);
/* Count a load of the profile folder on this thread. */
void cnp_product_session_count_load(void);

#endif /* CNP_PRODUCT_INT_H */
