/* pipeline/io/cnp_product.c - product recognition: profiles, Landsat MTL,
 * Sentinel-2 SAFE / COG folders, STAC items.
 *
 * Every metadata format is flattened into one list of (group path, key,
 * value, attributes) items in document order, so profiles can name items
 * the same way whatever the format: KEY, or GROUP/KEY where GROUP is any
 * enclosing group. Files are read through GDAL's virtual file systems, so a
 * .tar (/vsitar/), a .zip (/vsizip/) or a URL (/vsicurl/) reads like a folder.
 */
#include "cnp_product.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_minixml.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ini.h>
#include <json.h>

#include "cnp_err.h"
#include "cnp_gdal.h"

#define MAX_PROFILES 64
#define MAX_ITEMS    32
#define ITEM_LEN     256

/* snprintf that truncates silently: every buffer here has a size chosen for
 * real metadata, and a cut message or name is better than a failure. */
static int sfmt(char *dst, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int sfmt(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(dst, size, fmt, ap);
    va_end(ap);
    return n;
}

/* ---- a flat list of metadata or profile items ------------------------- */

typedef struct kv {
    char *sec;      /* group path "A/B/C" (metadata) or INI section (profile) */
    char *key;
    char *val;
    char *attrs;    /* "name=value;name=value" (XML), or ""                  */
    int   line;     /* line in the profile file, 0 for metadata              */
} kv;

typedef struct kvlist {
    kv    *v;
    size_t n, cap;
} kvlist;

static int kv_add(kvlist *l, const char *sec, const char *key, const char *val,
                  const char *attrs, int line)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        kv *p = realloc(l->v, cap * sizeof *p);
        if (!p)
            return -1;
        l->v = p;
        l->cap = cap;
    }
    kv *e = &l->v[l->n];
    e->sec = strdup(sec ? sec : "");
    e->key = strdup(key);
    e->val = strdup(val ? val : "");
    e->attrs = strdup(attrs ? attrs : "");
    e->line = line;
    if (!e->sec || !e->key || !e->val || !e->attrs) {
        free(e->sec); free(e->key); free(e->val); free(e->attrs);
        return -1;
    }
    l->n++;
    return 0;
}

static void kv_free(kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].sec);
        free(l->v[i].key);
        free(l->v[i].val);
        free(l->v[i].attrs);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* 1 when `group` is one of the '/'-separated components of `path`. */
static int has_component(const char *path, const char *group, size_t glen)
{
    for (const char *p = path; *p;) {
        const char *e = strchr(p, '/');
        const size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == glen && strncasecmp(p, group, glen) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

/* First item matching "KEY" or "GROUP/KEY" (case-insensitive), or NULL. */
static const kv *meta_find(const kvlist *m, const char *spec)
{
    const char *slash = strrchr(spec, '/');
    const char *key = slash ? slash + 1 : spec;
    for (size_t i = 0; i < m->n; i++) {
        if (strcasecmp(m->v[i].key, key) != 0)
            continue;
        if (slash && !has_component(m->v[i].sec, spec, (size_t)(slash - spec)))
            continue;
        return &m->v[i];
    }
    return NULL;
}

/* Value of the first item matching spec with a non-empty value, or NULL. */
static const char *meta_get(const kvlist *m, const char *spec)
{
    const char *slash = strrchr(spec, '/');
    const char *key = slash ? slash + 1 : spec;
    for (size_t i = 0; i < m->n; i++) {
        if (strcasecmp(m->v[i].key, key) != 0 || !m->v[i].val[0])
            continue;
        if (slash && !has_component(m->v[i].sec, spec, (size_t)(slash - spec)))
            continue;
        return m->v[i].val;
    }
    return NULL;
}

/* Value of the first item named `key` whose attribute `attr` equals `want`. */
static const char *meta_get_attr(const kvlist *m, const char *key, const char *attr,
                                 const char *want)
{
    char needle[128];
    sfmt(needle, sizeof needle, "%s=%s", attr, want);
    for (size_t i = 0; i < m->n; i++) {
        if (strcasecmp(m->v[i].key, key) != 0)
            continue;
        for (const char *p = m->v[i].attrs; *p;) {
            const char *e = strchr(p, ';');
            const size_t len = e ? (size_t)(e - p) : strlen(p);
            if (len == strlen(needle) && strncmp(p, needle, len) == 0)
                return m->v[i].val;
            if (!e)
                break;
            p = e + 1;
        }
    }
    return NULL;
}

/* ---- small helpers ---------------------------------------------------- */


static void copy_str(char *dst, size_t size, const char *src)
{
    sfmt(dst, size, "%s", src ? src : "");
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Split `s` at any character of `delims` into at most `max` trimmed, non-empty items. */
static int split(const char *s, const char *delims, char items[][ITEM_LEN], int max)
{
    int n = 0;
    const char *p = s ? s : "";
    while (*p && n < max) {
        const size_t len = strcspn(p, delims);
        if (len > 0) {
            char tmp[ITEM_LEN];
            sfmt(tmp, sizeof tmp, "%.*s", (int)(len < ITEM_LEN ? len : ITEM_LEN - 1), p);
            const char *t = trim(tmp);
            if (*t)
                copy_str(items[n++], ITEM_LEN, t);
        }
        p += len;
        if (*p)
            p++;
    }
    return n;
}

static int parse_num(const char *v, double *out)
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

static int valid_ymd(int y, int m, int d)
{
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1950 || y > 2200 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    const int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* "YYYY-MM-DD..." (ISO date or date-time) into out; 0 when not a date. */
static int parse_date(const char *v, char out[CNP_DATE_LEN])
{
    int y, m, d, n = 0;
    if (!v || sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || !valid_ymd(y, m, d))
        return 0;
    if (v[10] && v[10] != 'T' && v[10] != ' ' && v[10] != 'Z')
        return 0;
    sfmt(out, CNP_DATE_LEN, "%04d-%02d-%02d", y, m, d);
    return 1;
}

static const char *base_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int ends_with_ci(const char *s, const char *suffix)
{
    const size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int path_exists(const char *path, int *is_dir)
{
    VSIStatBufL st;
    if (VSIStatExL(path, &st, VSI_STAT_EXISTS_FLAG | VSI_STAT_NATURE_FLAG) != 0)
        return 0;
    if (is_dir)
        *is_dir = VSI_ISDIR(st.st_mode);
    return 1;
}

/* Whole file through VSI (works in /vsitar/, /vsizip/, /vsicurl/); NUL-terminated. */
static char *read_text(const char *path, size_t limit)
{
    GByte *buf = NULL;
    vsi_l_offset size = 0;
    cnp_err_gdal_reset();
    if (!VSIIngestFile(NULL, path, &buf, &size, (GIntBig)limit))
        return NULL;
    char *out = malloc((size_t)size + 1);
    if (out) {
        memcpy(out, buf, (size_t)size);
        out[size] = '\0';
    }
    VSIFree(buf);
    return out;
}

static int add_file(cnp_product *p, const char *role, const char *path)
{
    for (size_t i = 0; i < p->nfiles; i++)
        if (strcmp(p->files[i].path, path) == 0)
            return 0;
    cnp_product_file *f = realloc(p->files, (p->nfiles + 1) * sizeof *f);
    if (!f)
        return -1;
    p->files = f;
    f[p->nfiles].role = strdup(role);
    f[p->nfiles].path = strdup(path);
    if (!f[p->nfiles].role || !f[p->nfiles].path) {
        free(f[p->nfiles].role);
        free(f[p->nfiles].path);
        return -1;
    }
    p->nfiles++;
    return 0;
}

/* ---- metadata parsers -------------------------------------------------- */

/* Landsat ODL ("GROUP = X ... KEY = VALUE ... END_GROUP = X ... END").
 * Returns 0, or -1 with `why` set (truncated, no items). */
static int parse_odl(char *text, kvlist *m, char *why, size_t wsize)
{
    char sec[1024] = "";
    int depth = 0, ended = 0, items = 0;

    for (char *line = text; line && *line && !ended;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *s = trim(line);
        line = next;
        if (!*s)
            continue;
        if (strcmp(s, "END") == 0) {
            ended = 1;
            break;
        }
        char *eq = strchr(s, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        const size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        if (strcmp(key, "GROUP") == 0) {
            const size_t used = strlen(sec);
            sfmt(sec + used, sizeof sec - used, "%s%s", used ? "/" : "", val);
            depth++;
        } else if (strcmp(key, "END_GROUP") == 0) {
            char *slash = strrchr(sec, '/');
            if (slash)
                *slash = '\0';
            else
                sec[0] = '\0';
            depth--;
        } else {
            if (kv_add(m, sec, key, val, "", 0) != 0) {
                sfmt(why, wsize, "out of memory");
                return -1;
            }
            items++;
        }
    }
    if (items == 0) {
        sfmt(why, wsize, "no KEY = VALUE items: not Landsat ODL metadata");
        return -1;
    }
    if (!ended || depth != 0) {
        sfmt(why, wsize, "%s", depth > 0 ? "a GROUP is never closed (truncated?)"
                                              : "no END line (truncated?)");
        return -1;
    }
    return 0;
}

static void xml_flatten(const CPLXMLNode *n, const char *sec, kvlist *m, int *fail)
{
    for (; n && !*fail; n = n->psNext) {
        if (n->eType != CXT_Element || n->pszValue[0] == '?')
            continue;
        const char *colon = strchr(n->pszValue, ':');
        const char *name = colon ? colon + 1 : n->pszValue;
        char text[4096] = "", attrs[1024] = "";
        for (const CPLXMLNode *c = n->psChild; c; c = c->psNext) {
            if (c->eType == CXT_Text) {
                const size_t used = strlen(text);
                sfmt(text + used, sizeof text - used, "%s", c->pszValue);
            } else if (c->eType == CXT_Attribute && c->psChild) {
                const size_t used = strlen(attrs);
                sfmt(attrs + used, sizeof attrs - used, "%s%s=%s", used ? ";" : "",
                         c->pszValue, c->psChild->pszValue);
            }
        }
        const char *t = trim(text);
        if ((*t || *attrs) && kv_add(m, sec, name, t, attrs, 0) != 0) {
            *fail = 1;
            return;
        }
        char child[2048];
        sfmt(child, sizeof child, "%s%s%s", sec, *sec ? "/" : "", name);
        xml_flatten(n->psChild, child, m, fail);
    }
}

static int parse_xml(const char *text, kvlist *m, char *why, size_t wsize)
{
    cnp_err_gdal_reset();
    CPLXMLNode *root = CPLParseXMLString(text);
    if (!root) {
        const char *g = cnp_err_gdal_msg();
        sfmt(why, wsize, "not well-formed XML%s%s", *g ? ": " : "", g);
        return -1;
    }
    int fail = 0;
    xml_flatten(root, "", m, &fail);
    CPLDestroyXMLNode(root);
    if (fail) {
        sfmt(why, wsize, "out of memory");
        return -1;
    }
    if (m->n == 0) {
        sfmt(why, wsize, "an XML document without items");
        return -1;
    }
    return 0;
}

static void json_flatten(json_object *o, const char *sec, const char *key, kvlist *m, int *fail)
{
    if (*fail)
        return;
    switch (json_object_get_type(o)) {
    case json_type_object: {
        char child[2048];
        sfmt(child, sizeof child, "%s%s%s", sec, (*sec && key) ? "/" : "", key ? key : "");
        json_object_object_foreach(o, k, v)
            json_flatten(v, child, k, m, fail);
        break;
    }
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(o); i++)
            json_flatten(json_object_array_get_idx(o, i), sec, key, m, fail);
        break;
    case json_type_null:
        break;
    default:
        if (key && kv_add(m, sec, key, json_object_get_string(o), "", 0) != 0)
            *fail = 1;
    }
}

static json_object *parse_json_text(const char *text, char *why, size_t wsize)
{
    enum json_tokener_error jerr = json_tokener_success;
    json_object *o = json_tokener_parse_verbose(text, &jerr);
    if (!o)
        sfmt(why, wsize, "not valid JSON: %s", json_tokener_error_desc(jerr));
    return o;
}

/* Any of the three Landsat MTL encodings, by content. */
static int parse_metadata(const char *path, kvlist *m, char *why, size_t wsize)
{
    char *text = read_text(path, 64 << 20);
    int rc = -1;
    if (!text) {
        sfmt(why, wsize, "cannot read it: %s",
                 *cnp_err_gdal_msg() ? cnp_err_gdal_msg() : "no such file");
        return -1;
    }
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '<') {
        rc = parse_xml(p, m, why, wsize);
    } else if (*p == '{') {
        json_object *o = parse_json_text(p, why, wsize);
        if (o) {
            int fail = 0;
            json_flatten(o, "", NULL, m, &fail);
            json_object_put(o);
            rc = fail ? -1 : 0;
            if (fail)
                sfmt(why, wsize, "out of memory");
            else if (m->n == 0) {
                sfmt(why, wsize, "a JSON document without items");
                rc = -1;
            }
        }
    } else {
        rc = parse_odl(text, m, why, wsize);
    }
    free(text);
    return rc;
}

/* ---- profiles --------------------------------------------------------- */

typedef struct profile {
    char   path[1100];
    char   family[32];
    int    priority;
    kvlist kv;
} profile;

typedef struct profile_set {
    profile *p;
    size_t   n;
    char     dir[1024];
} profile_set;

typedef struct prof_load {
    profile *pr;
    FILE    *f;
    int      line;
    int      fail;
} prof_load;

static char *prof_read_line(char *str, int num, void *stream)
{
    prof_load *ctx = stream;
    char *r = fgets(str, num, ctx->f);
    if (r && strchr(r, '\n'))
        ctx->line++;
    return r;
}

static int prof_entry(void *user, const char *section, const char *key, const char *value)
{
    prof_load *ctx = user;
    if (kv_add(&ctx->pr->kv, section, key, value, "", ctx->line + 1) != 0) {
        ctx->fail = 1;
        return 0;
    }
    return 1;
}

static const kv *prof_item(const profile *pr, const char *sec, const char *key)
{
    for (size_t i = 0; i < pr->kv.n; i++)
        if (strcmp(pr->kv.v[i].sec, sec) == 0 && strcmp(pr->kv.v[i].key, key) == 0)
            return &pr->kv.v[i];
    return NULL;
}

static const char *prof_get(const profile *pr, const char *sec, const char *key)
{
    const kv *e = prof_item(pr, sec, key);
    return e ? e->val : NULL;
}

static int prof_line(const profile *pr, const char *sec, const char *key)
{
    const kv *e = prof_item(pr, sec, key);
    return e ? e->line : 0;
}

static void profiles_free(profile_set *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        kv_free(&ps->p[i].kv);
    free(ps->p);
    memset(ps, 0, sizeof *ps);
}

static int cmp_profile(const void *a, const void *b)
{
    const profile *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    return strcmp(x->path, y->path);
}

const char *cnp_product_profiles_dir(const cnp_settings *s, char *buf, size_t size)
{
    const char *env = getenv("CANOPY_CONFIG_DIR");
    if (s && s->profiles_dir[0]) {
        copy_str(buf, size, s->profiles_dir);
        return buf;
    }
    if (env && *env) {
        copy_str(buf, size, env);
        return buf;
    }
    /* Only the executable's own tree, never the current folder: a run must not
     * depend on where it was started, nor pick up a stranger's profiles there.
     * Installed: BIN/../share/canopy; a checkout: BIN/../configs, or a level
     * higher for build-asan/bin/canopy. */
    static const char *const rel[] = { "/../share/canopy", "/../configs", "/../../configs" };
    char exe[4096];
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        copy_str(buf, size, "(the program's own folder is unknown: /proc/self/exe cannot be read)");
        return NULL;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';            /* the folder holding the program */
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        char cand[4200], *real = NULL;
        int is_dir = 0;
        sfmt(cand, sizeof cand, "%s%s", exe, rel[i]);
        if (path_exists(cand, &is_dir) && is_dir && (real = realpath(cand, NULL)) != NULL) {
            copy_str(buf, size, real);
            free(real);
            return buf;
        }
        /* Not found: remember where, for the message. */
        const int w = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", cand);
        if (w > 0 && (size_t)w < size - used)
            used += (size_t)w;
    }
    return NULL;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static cnp_status profiles_load(const cnp_settings *s, profile_set *ps)
{
    memset(ps, 0, sizeof *ps);
    if (!cnp_product_profiles_dir(s, ps->dir, sizeof ps->dir)) {
        char looked[sizeof ps->dir];
        copy_str(looked, sizeof looked, ps->dir);
        ps->dir[0] = '\0';
        return cnp_err(CNP_E_CONFIG, "no product profiles found: CANOPY_CONFIG_DIR is not set "
                       "and none of %s exists (install with `make install`, or set "
                       "CANOPY_CONFIG_DIR or --profiles DIR)", looked);
    }
    char **names = VSIReadDir(ps->dir);
    if (!names) {
        return cnp_err(CNP_E_CONFIG, "product profile folder '%s' cannot be read (set "
                       "CANOPY_CONFIG_DIR or [products] profiles)", ps->dir);
    }
    const int count = CSLCount(names);
    if ((size_t)count > 1)   /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(names, (size_t)count, sizeof *names, cmp_cstr);
    ps->p = calloc(MAX_PROFILES, sizeof *ps->p);
    if (!ps->p) {
        CSLDestroy(names);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    cnp_status st = CNP_OK;
    for (int i = 0; i < count && ps->n < MAX_PROFILES && st == CNP_OK; i++) {
        if (!ends_with_ci(names[i], ".ini"))
            continue;
        profile *pr = &ps->p[ps->n];
        memset(pr, 0, sizeof *pr);
        sfmt(pr->path, sizeof pr->path, "%s/%s", ps->dir, names[i]);
        prof_load ctx = { pr, fopen(pr->path, "r"), 0, 0 };
        if (!ctx.f) {
            st = cnp_err(CNP_E_CONFIG, "cannot read product profile '%s': %s", pr->path,
                         strerror(errno));
            break;
        }
        const int rc = ini_parse_stream(prof_read_line, &ctx, prof_entry, &ctx);
        fclose(ctx.f);
        if (rc != 0 || ctx.fail) {
            st = ctx.fail ? cnp_err(CNP_E_NOMEM, "out of memory")
                          : cnp_err(CNP_E_CONFIG, "%s:%d: syntax error in product profile",
                                    pr->path, rc);
            kv_free(&pr->kv);
            break;
        }
        const char *fam = prof_get(pr, "product", "family");
        if (!fam) {                 /* default.ini and other settings files */
            kv_free(&pr->kv);
            continue;
        }
        copy_str(pr->family, sizeof pr->family, fam);
        const char *pri = prof_get(pr, "product", "priority");
        double d = 100;
        if (pri && !parse_num(pri, &d)) {
            st = cnp_err(CNP_E_CONFIG, "%s:%d: priority: '%s' is not a number", pr->path,
                         prof_line(pr, "product", "priority"), pri);
            kv_free(&pr->kv);
            break;
        }
        pr->priority = (int)d;
        const char *fmt = prof_get(pr, "product", "format");
        if (!fmt || (strcmp(fmt, "mtl") && strcmp(fmt, "s2") && strcmp(fmt, "stac"))) {
            st = cnp_err(CNP_E_CONFIG, "%s:%d: format: '%s' is not mtl, s2 or stac", pr->path,
                         prof_line(pr, "product", "format"), fmt ? fmt : "");
            kv_free(&pr->kv);
            break;
        }
        ps->n++;
    }
    CSLDestroy(names);
    if (st != CNP_OK) {
        profiles_free(ps);
        return st;
    }
    if (ps->n == 0) {
        profiles_free(ps);
        return cnp_err(CNP_E_CONFIG, "no product profiles in '%s' (set CANOPY_CONFIG_DIR or "
                       "[products] profiles)", ps->dir);
    }
    if (ps->n > 1)   /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(ps->p, ps->n, sizeof *ps->p, cmp_profile);
    return CNP_OK;
}

static const profile *profile_by_family(const profile_set *ps, const char *family)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->p[i].family, family) == 0)
            return &ps->p[i];
    return NULL;
}

/* ---- the resolution context ------------------------------------------- */

typedef struct rctx {
    const char *user;         /* path as given                              */
    const char *role;
    char   dir[4096];         /* GDAL path of the folder holding the files  */
    char   hint[1024];        /* the file named inside dir, or ""           */
    char   layout[32];
    char   archive[4096];     /* the .tar / .zip itself, or ""              */
    int    remote;
    int    stac_url;          /* a remote path that is no raster: a STAC item */
    char **entries;           /* VSIReadDir(dir), CSL, or NULL              */
} rctx;

static cnp_status perr(const rctx *c, cnp_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static cnp_status perr(const rctx *c, cnp_status st, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cnp_err(st, "%s%sproduct '%s': %s", c->role, *c->role ? " " : "", c->user, msg);
}

static void join(char *out, size_t size, const char *dir, const char *name)
{
    sfmt(out, size, "%s/%s", dir, name);
}

/* First directory entry matching one of the glob patterns (in pattern order). */
static const char *find_entry(const rctx *c, const char *patterns, const char *format)
{
    char pat[MAX_ITEMS][ITEM_LEN];
    if (c->stac_url)
        return strcmp(format, "stac") == 0 ? c->hint : NULL;
    const int n = split(patterns, ", \t", pat, MAX_ITEMS);
    for (int i = 0; i < n; i++) {
        if (c->hint[0]) {
            if (fnmatch(pat[i], c->hint, FNM_CASEFOLD) == 0)
                return c->hint;
            continue;
        }
        for (char **e = c->entries; e && *e; e++)
            if (fnmatch(pat[i], *e, FNM_CASEFOLD) == 0)
                return *e;
    }
    return NULL;
}

static int has_entry(const rctx *c, const char *name)
{
    for (char **e = c->entries; e && *e; e++)
        if (strcmp(*e, name) == 0)
            return 1;
    return 0;
}

/* Template expansion: {id}, {n}, {band}, {KEY} and {KEY:0W} (metadata). */
typedef struct tctx {
    const kvlist *meta;
    const char   *id;
    int           n;
    const char   *band;
} tctx;

static int expand(const char *t, const tctx *tc, char *out, size_t size, char *missing,
                  size_t msize)
{
    size_t used = 0;
    out[0] = '\0';
    while (*t) {
        if (*t != '{') {
            if (used + 1 < size) {
                out[used++] = *t;
                out[used] = '\0';
            }
            t++;
            continue;
        }
        const char *close = strchr(t, '}');
        if (!close)
            return -1;
        char name[128];
        sfmt(name, sizeof name, "%.*s", (int)(close - t - 1), t + 1);
        int width = 0;
        char *colon = strchr(name, ':');
        if (colon) {
            width = atoi(colon + 1);
            *colon = '\0';
        }
        char val[512];
        const char *v = NULL;
        if (strcmp(name, "id") == 0) {
            v = tc->id;
        } else if (strcmp(name, "n") == 0) {
            sfmt(val, sizeof val, "%d", tc->n);
            v = val;
        } else if (strcmp(name, "band") == 0) {
            v = tc->band;
        } else if (tc->meta) {
            v = meta_get(tc->meta, name);
        }
        if (!v) {
            if (missing)
                copy_str(missing, msize, name);
            return -1;
        }
        double num;
        if (width > 0 && parse_num(v, &num) && num == floor(num) && fabs(num) < 1e9) {
            sfmt(val, sizeof val, "%0*d", width, (int)num);
            v = val;
        }
        used += (size_t)sfmt(out + used, used < size ? size - used : 0, "%s", v);
        if (used >= size)
            return -1;
        t = close + 1;
    }
    return 0;
}

/* Does the metadata satisfy "KEY=pat|pat, KEY=..."? why gets the first failure. */
static int requirements_hold(const profile *pr, const kvlist *meta, char *why, size_t wsize)
{
    char req[MAX_ITEMS][ITEM_LEN];
    const int n = split(prof_get(pr, "product", "require"), ",", req, MAX_ITEMS);
    for (int i = 0; i < n; i++) {
        char *eq = strchr(req[i], '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *key = trim(req[i]);
        const char *v = meta_get(meta, key);
        char alts[MAX_ITEMS][ITEM_LEN];
        const int na = split(eq + 1, "|", alts, MAX_ITEMS);
        int ok = 0;
        for (int a = 0; a < na && v && !ok; a++)
            ok = fnmatch(alts[a], v, FNM_CASEFOLD) == 0;
        if (!ok) {
            sfmt(why, wsize, "%s: %s is %s%s%s, not %s", pr->family, key, v ? "'" : "",
                     v ? v : "missing", v ? "'" : "", eq + 1);
            return 0;
        }
    }
    return 1;
}

static const char *first_meta(const kvlist *meta, const char *keys, const char **which)
{
    char k[MAX_ITEMS][ITEM_LEN];
    const int n = split(keys, ", \t", k, MAX_ITEMS);
    for (int i = 0; i < n; i++) {
        const char *v = meta_get(meta, k[i]);
        if (v) {
            if (which)
                *which = meta_find(meta, k[i])->key;
            return v;
        }
    }
    return NULL;
}

/* ---- mask rules from a profile's [mask] section ------------------------ */

static int reserved_mask_key(const char *k)
{
    static const char *const keys[] = { "file_key", "file_pattern", "decode", "invalid",
                                        "buffer", "fill_flag", "optional", "band",
                                        "safe_file", "cog_file", "assets", NULL };
    for (int i = 0; keys[i]; i++)
        if (strcmp(k, keys[i]) == 0)
            return 1;
    return 0;
}

/* Values of flag `name` (a bit number or class value list), or -1 if unknown. */
static int flag_values(const profile *pr, const char *name, int vals[], int max)
{
    if (reserved_mask_key(name))
        return -1;
    const char *v = prof_get(pr, "mask", name);
    if (!v)
        return -1;
    char items[MAX_ITEMS][ITEM_LEN];
    const int n = split(v, ", \t", items, max < MAX_ITEMS ? max : MAX_ITEMS);
    for (int i = 0; i < n; i++) {
        double d;
        if (!parse_num(items[i], &d) || d != floor(d))
            return -2;
        vals[i] = (int)d;
    }
    return n;
}

static cnp_status mask_rule_from_profile(const profile *pr, const char *layer, cnp_product *p)
{
    const char *decode = prof_get(pr, "mask", "decode");
    const int bits = decode && strcmp(decode, "bits") == 0;
    if (!decode || (!bits && strcmp(decode, "classes") != 0))
        return cnp_err(CNP_E_CONFIG, "%s:%d: [mask] decode: '%s' is not bits or classes",
                       pr->path, prof_line(pr, "mask", "decode"), decode ? decode : "");
    cnp_mask_rule *r = &p->mask;
    memset(r, 0, sizeof *r);
    r->kind = bits ? CNP_MASK_RULE_BITS : CNP_MASK_RULE_VALUES;
    p->fill_value = -1;
    p->fill_bits = 0;

    char used[1024] = "", spread_txt[512] = "";
    const char *lists[2] = { "invalid", "buffer" };
    for (int l = 0; l < 2; l++) {
        char names[MAX_ITEMS][ITEM_LEN];
        const int n = split(prof_get(pr, "mask", lists[l]), ", \t", names, MAX_ITEMS);
        for (int i = 0; i < n; i++) {
            int vals[16];
            const int nv = flag_values(pr, names[i], vals, 16);
            if (nv < 0)
                return cnp_err(CNP_E_CONFIG, "%s:%d: [mask] %s: %s flag '%s'", pr->path,
                               prof_line(pr, "mask", lists[l]), lists[l],
                               nv == -1 ? "unknown" : "non-integer value of", names[i]);
            for (int k = 0; k < nv; k++) {
                const int v = vals[k];
                if (bits ? (v < 0 || v > 15) : (v < 0 || v > 255))
                    return cnp_err(CNP_E_CONFIG, "%s:%d: [mask] flag '%s' = %d is out of "
                                   "range (%s)", pr->path, prof_line(pr, "mask", names[i]),
                                   names[i], v, bits ? "bits 0-15" : "classes 0-255");
                if (l == 0) {
                    if (bits)
                        r->invalid_bits |= 1u << v;
                    else
                        r->invalid[v] = 1;
                } else {
                    if (bits)
                        r->spread_bits |= 1u << v;
                    else
                        r->spread[v] = 1;
                }
            }
            char *txt = l == 0 ? used : spread_txt;
            const size_t cap = l == 0 ? sizeof used : sizeof spread_txt;
            const size_t u = strlen(txt);
            sfmt(txt + u, cap - u, "%s%s", u ? ", " : "", names[i]);
            if (l == 0) {
                for (int k = 0; k < nv; k++) {
                    const size_t u2 = strlen(txt);
                    sfmt(txt + u2, cap - u2, "%s%d", k ? "+" : "(", vals[k]);
                }
                const size_t u3 = strlen(txt);
                sfmt(txt + u3, cap - u3, ")");
            }
        }
    }
    /* Only unobserved flags spread. */
    r->spread_bits &= r->invalid_bits;
    for (int v = 0; v < 256; v++)
        r->spread[v] = (uint8_t)(r->spread[v] && r->invalid[v]);

    const char *fill = prof_get(pr, "mask", "fill_flag");
    if (fill && *fill) {
        int vals[4];
        const int nv = flag_values(pr, fill, vals, 4);
        if (nv < 1)
            return cnp_err(CNP_E_CONFIG, "%s:%d: [mask] fill_flag: unknown flag '%s'", pr->path,
                           prof_line(pr, "mask", "fill_flag"), fill);
        copy_str(p->fill_text, sizeof p->fill_text, fill);
        if (bits)
            p->fill_bits = 1u << vals[0];
        else
            p->fill_value = vals[0];
    }
    sfmt(p->mask_text, sizeof p->mask_text, "%s %s: not observed when %s %s; grown by the "
             "buffer: %s", layer, bits ? "bits" : "classes",
             bits ? "any bit is set of" : "the class is one of", used,
             spread_txt[0] ? spread_txt : "none");
    copy_str(p->mask_name, sizeof p->mask_name, layer);
    return CNP_OK;
}

/* ---- Landsat MTL ------------------------------------------------------- */

static const char *band_role(int b)
{
    static const char *const r[] = { "red", "nir", "green", "blue" };
    return r[b];
}

static cnp_status resolve_mtl(rctx *c, const profile *pr, const char *mfile, const kvlist *meta,
                              cnp_product *p)
{
    const char *src = NULL;
    const char *id = first_meta(meta, prof_get(pr, "product", "id"), NULL);
    if (!id)
        return perr(c, CNP_E_DATA, "%s has no product id (%s)", mfile,
                    prof_get(pr, "product", "id"));
    copy_str(p->id, sizeof p->id, id);

    const char *date = first_meta(meta, prof_get(pr, "product", "date"), &src);
    if (!date)
        return perr(c, CNP_E_DATA, "%s has no acquisition date (%s)", mfile,
                    prof_get(pr, "product", "date"));
    if (!parse_date(date, p->date))
        return perr(c, CNP_E_DATA, "%s: %s '%s' is not a date YYYY-MM-DD", mfile, src, date);
    sfmt(p->date_source, sizeof p->date_source, "%s %s", base_of(mfile), src);

    /* Sensor: the values of the sensor keys, e.g. "LANDSAT_8 OLI_TIRS". */
    char keys[MAX_ITEMS][ITEM_LEN], sens[2][ITEM_LEN] = { "", "" };
    const int nk = split(prof_get(pr, "product", "sensor"), ", \t", keys, MAX_ITEMS);
    for (int i = 0; i < nk && i < 2; i++) {
        const char *v = meta_get(meta, keys[i]);
        copy_str(sens[i], ITEM_LEN, v);
    }
    sfmt(p->sensor, sizeof p->sensor, "%s%s%s", sens[0], sens[1][0] ? " " : "", sens[1]);

    tctx tc = { meta, p->id, 0, NULL };
    const char *fp = prof_get(pr, "product", "footprint");
    if (fp && expand(fp, &tc, p->footprint, sizeof p->footprint, NULL, 0) != 0)
        p->footprint[0] = '\0';

    /* Band numbers for this spacecraft (or spacecraft/sensor). */
    char table_key[2 * ITEM_LEN + 2];
    sfmt(table_key, sizeof table_key, "%s/%s", sens[0], sens[1]);
    const char *table = prof_get(pr, "bands", table_key);
    if (!table)
        table = prof_get(pr, "bands", sens[0]);
    if (!table)
        return perr(c, CNP_E_DATA, "spacecraft '%s' (%s) has no band table in profile %s",
                    sens[0], mfile, pr->path);
    char nums[MAX_ITEMS][ITEM_LEN];
    const int nn = split(table, ", \t", nums, MAX_ITEMS);
    if (nn < 2)
        return cnp_err(CNP_E_CONFIG, "%s:%d: [bands] %s: expected 'red nir green blue' band "
                       "numbers", pr->path, prof_line(pr, "bands", sens[0]), sens[0]);

    double nodata = 0;
    p->has_nodata = parse_num(prof_get(pr, "bands", "nodata"), &nodata);
    p->nodata = nodata;

    for (int b = 0; b < CNP_NBANDS && b < nn; b++) {
        const int n = atoi(nums[b]);
        if (n <= 0)
            continue;
        char fname[1024] = "", key[256], path[8192], missing[128] = "";
        tc.n = n;
        const char *fkey = prof_get(pr, "bands", "file_key");
        int named = 0;
        if (fkey && expand(fkey, &tc, key, sizeof key, NULL, 0) == 0) {
            const char *v = meta_get(meta, key);
            if (v) {
                copy_str(fname, sizeof fname, v);
                named = 1;
            }
        }
        const char *fpat = prof_get(pr, "bands", "file_pattern");
        if (!fname[0] && (!fpat || expand(fpat, &tc, fname, sizeof fname, missing,
                                          sizeof missing) != 0)) {
            if (b >= CNP_BAND_GREEN)
                continue;
            return perr(c, CNP_E_DATA, "%s names no file for band %d (%s)", mfile, n,
                        band_role(b));
        }
        join(path, sizeof path, c->dir, fname);
        if (!path_exists(path, NULL)) {
            if (b >= CNP_BAND_GREEN)
                continue;
            return perr(c, CNP_E_DATA, "%s (%s, band %d%s) is missing", fname, band_role(b), n,
                        named ? ", named by the MTL" : "");
        }
        cnp_product_band *pb = &p->band[b];
        pb->path = strdup(path);
        pb->index = 1;
        sfmt(pb->name, sizeof pb->name, "B%d", n);
        if (!pb->path)
            return cnp_err(CNP_E_NOMEM, "out of memory");

        const char *skey = prof_get(pr, "bands", "scale_key");
        const char *okey = prof_get(pr, "bands", "offset_key");
        char sk[256] = "", ok[256] = "";
        if (skey && okey && expand(skey, &tc, sk, sizeof sk, NULL, 0) == 0 &&
            expand(okey, &tc, ok, sizeof ok, NULL, 0) == 0) {
            const char *sv = meta_get(meta, sk), *ov = meta_get(meta, ok);
            if (!sv || !ov)
                return perr(c, CNP_E_DATA, "%s has no %s: cannot compute reflectance of band "
                            "%d", mfile, !sv ? sk : ok, n);
            if (!parse_num(sv, &pb->scale) || !parse_num(ov, &pb->offset) || pb->scale == 0)
                return perr(c, CNP_E_DATA, "%s: %s = '%s', %s = '%s': not a usable scale and "
                            "offset", mfile, sk, sv, ok, ov);
            pb->has_scale = 1;
            if (b == CNP_BAND_RED)
                sfmt(p->scale_source, sizeof p->scale_source, "%s %s, %s", base_of(mfile),
                         base_of(sk), base_of(ok));
        }
    }

    /* The quality layer. */
    char fname[1024] = "", key[256], path[8192];
    const char *mkey = prof_get(pr, "mask", "file_key");
    const char *mpat = prof_get(pr, "mask", "file_pattern");
    const char *opt = prof_get(pr, "mask", "optional");
    const int optional = opt && (strcmp(opt, "yes") == 0 || strcmp(opt, "1") == 0);
    tc.n = 0;
    int named = 0;
    if (mkey && expand(mkey, &tc, key, sizeof key, NULL, 0) == 0) {
        const char *v = meta_get(meta, key);
        if (v) {
            copy_str(fname, sizeof fname, v);
            named = 1;
        }
    }
    if (!fname[0] && mpat)
        expand(mpat, &tc, fname, sizeof fname, NULL, 0);
    if (fname[0]) {
        join(path, sizeof path, c->dir, fname);
        if (path_exists(path, NULL)) {
            p->mask_path = strdup(path);
            if (!p->mask_path)
                return cnp_err(CNP_E_NOMEM, "out of memory");
            char layer[64];
            const char *us = strrchr(fname, '_');
            sfmt(layer, sizeof layer, "%s", us ? us + 1 : fname);
            char *dot = strrchr(layer, '.');
            if (dot)
                *dot = '\0';
            if (strcasecmp(layer, "PIXEL") == 0)
                copy_str(layer, sizeof layer, "QA_PIXEL");
            cnp_status st = mask_rule_from_profile(pr, layer, p);
            if (st != CNP_OK)
                return st;
        } else if (!optional) {
            return perr(c, CNP_E_DATA, "%s (quality layer%s) is missing", fname,
                        named ? ", named by the MTL" : "");
        }
    } else if (!optional) {
        return perr(c, CNP_E_DATA, "%s names no quality layer (%s)", mfile, mkey ? mkey : "");
    }
    return CNP_OK;
}

/* ---- Sentinel-2 L2A ----------------------------------------------------- */

/* Baseline "NN.NN" as a number; -1 when not in that form. */
static double baseline_num(const char *b)
{
    int maj, min, n = 0;
    if (!b || sscanf(b, "%2d.%2d%n", &maj, &min, &n) != 2 || n != 5 || b[5])
        return -1;
    return maj + min / 100.0;
}

/* The MGRS tile in a name like ..._T29RKH_... or S2A_29RKH_20200219_0_L2A. */
static int tile_from_name(const char *s, char out[8])
{
    for (const char *p = s; *p; p++) {
        const char *q = p;
        if (*q == 'T' && (p == s || p[-1] == '_' || p[-1] == '/'))
            q++;
        else if (!(p == s || p[-1] == '_'))
            continue;
        if (isdigit((unsigned char)q[0]) && isdigit((unsigned char)q[1]) &&
            isupper((unsigned char)q[2]) && isupper((unsigned char)q[3]) &&
            isupper((unsigned char)q[4]) && (q[5] == '_' || q[5] == '\0' || q[5] == '.')) {
            sfmt(out, 8, "%.5s", q);
            return 1;
        }
    }
    return 0;
}

static cnp_status stac_load(const char *path, json_object **out, char *why, size_t wsize);
static json_object *jget(json_object *o, const char *key);
static const char *jstr(json_object *o, const char *key);
static const char *stac_local_file(json_object *asset, const char *item_dir, char *buf,
                                   size_t size);

/* Reflectance scale and offset of a Sentinel-2 band: (DN + offset) / q. */
static cnp_status s2_radiometry(rctx *c, const profile *pr, const kvlist *meta, const char *bname,
                                const char *band_id, const char *baseline, cnp_product_band *pb,
                                char *source, size_t ssize)
{
    double q = 10000;
    const char *qsrc = "default";
    const char *qv = meta ? first_meta(meta, prof_get(pr, "product", "quantification"), &qsrc)
                          : NULL;
    if (qv) {
        if (!parse_num(qv, &q) || q <= 0)
            return perr(c, CNP_E_DATA, "%s '%s' is not a positive number", qsrc, qv);
    } else {
        parse_num(prof_get(pr, "product", "default_quantification"), &q);
        qsrc = "default quantification";
    }
    const double from = baseline_num(prof_get(pr, "product", "offset_from_baseline"));
    const double bl = baseline_num(baseline);
    if (baseline && baseline[0] && bl < 0)
        return perr(c, CNP_E_DATA, "processing baseline '%s' is not of the form NN.NN", baseline);
    double off = 0;
    const char *okey = prof_get(pr, "product", "offset");
    const char *ov = (meta && okey) ? meta_get_attr(meta, okey, "band_id", band_id) : NULL;
    if (ov) {
        if (!parse_num(ov, &off))
            return perr(c, CNP_E_DATA, "%s of %s '%s' is not a number", okey, bname, ov);
        if (bl >= 0 && from >= 0 && bl < from && off != 0)
            return perr(c, CNP_E_DATA, "processing baseline %s predates %s (introduced with "
                        "%s) but the metadata gives %s = %s for %s: inconsistent product",
                        baseline, okey, prof_get(pr, "product", "offset_from_baseline"), okey,
                        ov, bname);
        sfmt(source, ssize, "%s %s / %s", okey, ov, qsrc);
    } else if (meta && bl >= 0 && from >= 0 && bl >= from) {
        return perr(c, CNP_E_DATA, "processing baseline %s (>= %s) but the metadata has no %s "
                    "for %s (band_id %s): wrong or incomplete metadata", baseline,
                    prof_get(pr, "product", "offset_from_baseline"), okey ? okey : "offset",
                    bname, band_id);
    } else {
        sfmt(source, ssize, "%s (no offset before baseline %s)", qsrc,
                 prof_get(pr, "product", "offset_from_baseline"));
    }
    pb->scale = 1.0 / q;
    pb->offset = off / q;
    pb->has_scale = 1;
    return CNP_OK;
}

static cnp_status resolve_s2_safe(rctx *c, const profile *pr, const char *mfile,
                                  const kvlist *meta, cnp_product *p)
{
    const char *src = NULL;
    const char *uri = first_meta(meta, prof_get(pr, "product", "id"), NULL);
    if (uri) {
        copy_str(p->id, sizeof p->id, uri);
        char *dot = strrchr(p->id, '.');
        if (dot && strcasecmp(dot, ".SAFE") == 0)
            *dot = '\0';
    }
    const char *date = first_meta(meta, prof_get(pr, "product", "date"), &src);
    if (!date)
        return perr(c, CNP_E_DATA, "%s has no sensing date (%s)", mfile,
                    prof_get(pr, "product", "date"));
    if (!parse_date(date, p->date))
        return perr(c, CNP_E_DATA, "%s: %s '%s' is not a date", mfile, src, date);
    sfmt(p->date_source, sizeof p->date_source, "%s %s", mfile, src);
    copy_str(p->sensor, sizeof p->sensor,
             first_meta(meta, prof_get(pr, "product", "sensor"), NULL));
    const char *bl = first_meta(meta, prof_get(pr, "product", "baseline"), NULL);
    copy_str(p->baseline, sizeof p->baseline, bl);
    if (!bl)
        return perr(c, CNP_E_DATA, "%s has no processing baseline (%s)", mfile,
                    prof_get(pr, "product", "baseline"));

    char tile[8] = "";
    if (!tile_from_name(p->id, tile)) {
        const char *img = meta_get(meta, "IMAGE_FILE");
        if (img)
            tile_from_name(base_of(img), tile);
    }
    if (tile[0])
        sfmt(p->footprint, sizeof p->footprint, "MGRS tile %s", tile);

    double nodata = 0;
    p->has_nodata = parse_num(prof_get(pr, "bands", "nodata"), &nodata);
    p->nodata = nodata;
    const char *ext = prof_get(pr, "bands", "safe_ext");
    if (!ext)
        ext = ".jp2";

    /* Band files: the IMAGE_FILE entries of the metadata. */
    for (int b = 0; b < CNP_NBANDS + 1; b++) {
        const int is_mask = b == CNP_NBANDS;
        char spec[2][ITEM_LEN];
        const char *def = is_mask ? prof_get(pr, "mask", "band")
                                  : prof_get(pr, "bands", band_role(b));
        const int ns = split(def, ", \t", spec, 2);
        if (ns < 1) {
            if (b >= CNP_BAND_GREEN)
                continue;
            return cnp_err(CNP_E_CONFIG, "%s: [%s] %s is missing", pr->path,
                           is_mask ? "mask" : "bands", is_mask ? "band" : band_role(b));
        }
        tctx tc = { meta, p->id, 0, spec[0] };
        char pat[256];
        const char *ptmpl = is_mask ? prof_get(pr, "mask", "safe_file")
                                    : prof_get(pr, "bands", "safe_file");
        if (!ptmpl || expand(ptmpl, &tc, pat, sizeof pat, NULL, 0) != 0)
            return cnp_err(CNP_E_CONFIG, "%s: [%s] safe_file is missing or bad", pr->path,
                           is_mask ? "mask" : "bands");
        const char *found = NULL;
        for (size_t i = 0; i < meta->n && !found; i++)
            if (strcasecmp(meta->v[i].key, "IMAGE_FILE") == 0 &&
                fnmatch(pat, meta->v[i].val, 0) == 0)
                found = meta->v[i].val;
        if (!found) {
            if (b >= CNP_BAND_GREEN && !is_mask)
                continue;
            return perr(c, CNP_E_DATA, "%s lists no %s image (%s)", mfile, spec[0], pat);
        }
        char path[8192];
        sfmt(path, sizeof path, "%s/%s%s", c->dir, found, ext);
        if (!path_exists(path, NULL)) {
            if (b >= CNP_BAND_GREEN && !is_mask)
                continue;
            return perr(c, CNP_E_DATA, "%s%s (%s, listed in %s) is missing", found, ext,
                        is_mask ? spec[0] : band_role(b), mfile);
        }
        if (is_mask) {
            p->mask_path = strdup(path);
            if (!p->mask_path)
                return cnp_err(CNP_E_NOMEM, "out of memory");
            cnp_status st = mask_rule_from_profile(pr, spec[0], p);
            if (st != CNP_OK)
                return st;
            continue;
        }
        cnp_product_band *pb = &p->band[b];
        pb->path = strdup(path);
        pb->index = 1;
        copy_str(pb->name, sizeof pb->name, spec[0]);
        if (!pb->path)
            return cnp_err(CNP_E_NOMEM, "out of memory");
        char source[160];
        cnp_status st = s2_radiometry(c, pr, meta, spec[0], ns > 1 ? spec[1] : "", bl, pb,
                                      source, sizeof source);
        if (st != CNP_OK)
            return st;
        if (b == CNP_BAND_RED)
            sfmt(p->scale_source, sizeof p->scale_source, "%s %s", mfile, source);
    }
    return CNP_OK;
}

/* A folder of per-band COGs (B04.tif, B08.tif, SCL.tif), maybe with a STAC
 * item beside them for the date, tile, baseline and scale. */
static cnp_status resolve_s2_cog(rctx *c, const profile *pr, cnp_product *p)
{
    json_object *item = NULL;
    char item_path[8192] = "", why[512];
    for (char **e = c->entries; e && *e && !item; e++) {
        if (!ends_with_ci(*e, ".json"))
            continue;
        join(item_path, sizeof item_path, c->dir, *e);
        if (stac_load(item_path, &item, why, sizeof why) != CNP_OK)
            item = NULL;
    }
    json_object *props = item ? jget(item, "properties") : NULL;
    const char *bl = NULL;
    if (item) {
        if (add_file(p, "metadata", item_path) != 0) {
            json_object_put(item);
            return cnp_err(CNP_E_NOMEM, "out of memory");
        }
        copy_str(p->id, sizeof p->id, jstr(item, "id"));
        const char *dt = jstr(props, "datetime");
        if (dt && parse_date(dt, p->date))
            sfmt(p->date_source, sizeof p->date_source, "%s properties.datetime",
                     base_of(item_path));
        const char *plat = jstr(props, "platform");
        copy_str(p->sensor, sizeof p->sensor, plat);
        bl = jstr(props, "s2:processing_baseline");
        const char *grid = jstr(props, "grid:code");
        char tile[8] = "";
        if (grid && starts_with(grid, "MGRS-"))
            copy_str(tile, sizeof tile, grid + 5);
        else
            tile_from_name(p->id, tile);
        if (tile[0])
            sfmt(p->footprint, sizeof p->footprint, "MGRS tile %s", tile);
    } else {
        /* Element 84 folder names: S2A_29RKH_20200219_0_L2A. */
        const char *name = base_of(c->dir);
        copy_str(p->id, sizeof p->id, name);
        char tile[8];
        if (tile_from_name(name, tile))
            sfmt(p->footprint, sizeof p->footprint, "MGRS tile %s", tile);
        const char *u = strchr(name, '_');
        u = u ? strchr(u + 1, '_') : NULL;
        int y, m, d;
        if (u && sscanf(u + 1, "%4d%2d%2d", &y, &m, &d) == 3 && valid_ymd(y, m, d)) {
            sfmt(p->date, sizeof p->date, "%04d-%02d-%02d", y, m, d);
            copy_str(p->date_source, sizeof p->date_source, "folder name");
        }
        if (name[0] == 'S' && name[1] == '2')
            sfmt(p->sensor, sizeof p->sensor, "Sentinel-2%c", name[2]);
    }
    copy_str(p->baseline, sizeof p->baseline, bl);

    double nodata = 0;
    p->has_nodata = parse_num(prof_get(pr, "bands", "nodata"), &nodata);
    p->nodata = nodata;
    cnp_status st = CNP_OK;
    for (int b = 0; b < CNP_NBANDS + 1 && st == CNP_OK; b++) {
        const int is_mask = b == CNP_NBANDS;
        char spec[2][ITEM_LEN];
        const int ns = split(is_mask ? prof_get(pr, "mask", "band")
                                     : prof_get(pr, "bands", band_role(b)), ", \t", spec, 2);
        if (ns < 1)
            continue;
        tctx tc = { NULL, p->id, 0, spec[0] };
        char fname[256], path[8192];
        const char *t = is_mask ? prof_get(pr, "mask", "cog_file")
                                : prof_get(pr, "bands", "cog_file");
        if (!t || expand(t, &tc, fname, sizeof fname, NULL, 0) != 0)
            continue;
        join(path, sizeof path, c->dir, fname);
        if (!path_exists(path, NULL)) {
            if (b >= CNP_BAND_GREEN)
                continue;
            st = perr(c, CNP_E_DATA, "%s (%s) is missing", fname, band_role(b));
            break;
        }
        if (is_mask) {
            p->mask_path = strdup(path);
            st = p->mask_path ? mask_rule_from_profile(pr, spec[0], p)
                              : cnp_err(CNP_E_NOMEM, "out of memory");
            continue;
        }
        cnp_product_band *pb = &p->band[b];
        pb->path = strdup(path);
        pb->index = 1;
        copy_str(pb->name, sizeof pb->name, spec[0]);
        if (!pb->path) {
            st = cnp_err(CNP_E_NOMEM, "out of memory");
            break;
        }
        /* raster:bands of the item's asset whose file this is. */
        json_object *assets = item ? jget(item, "assets") : NULL;
        int from_item = 0;
        if (assets) {
            json_object_object_foreach(assets, k, a) {
                (void)k;
                const char *href = jstr(a, "href");
                if (!href || strcmp(base_of(href), fname) != 0)
                    continue;
                json_object *rb = jget(a, "raster:bands");
                json_object *b0 = rb && json_object_is_type(rb, json_type_array) &&
                                  json_object_array_length(rb) > 0
                                  ? json_object_array_get_idx(rb, 0) : NULL;
                json_object *sc = jget(b0, "scale"), *of = jget(b0, "offset");
                if (sc) {
                    pb->scale = json_object_get_double(sc);
                    pb->offset = of ? json_object_get_double(of) : 0;
                    pb->has_scale = pb->scale != 0;
                    from_item = pb->has_scale;
                }
                break;
            }
        }
        if (from_item) {
            if (b == CNP_BAND_RED)
                sfmt(p->scale_source, sizeof p->scale_source, "%s raster:bands",
                         base_of(item_path));
            continue;
        }
        char source[160];
        const char *base = bl;
        char assumed[8] = "";
        if (!base && p->date[0]) {
            /* No metadata: products sensed from 2022-01-25 on are baseline >= 04.00. */
            copy_str(assumed, sizeof assumed, strcmp(p->date, "2022-01-25") >= 0 ? "04.00"
                                                                                  : "03.01");
            base = assumed;
        }
        double q = 10000, off = 0;
        parse_num(prof_get(pr, "product", "default_quantification"), &q);
        const double from = baseline_num(prof_get(pr, "product", "offset_from_baseline"));
        if (base && baseline_num(base) < 0) {
            st = perr(c, CNP_E_DATA, "processing baseline '%s' is not of the form NN.NN", base);
            break;
        }
        if (base && baseline_num(base) >= from)
            off = -1000;
        pb->scale = 1.0 / q;
        pb->offset = off / q;
        pb->has_scale = 1;
        sfmt(source, sizeof source, "quantification %g, offset %g (%s%s)", q, off,
                 assumed[0] ? "assumed from the date, baseline " : "baseline ",
                 base ? base : "unknown");
        if (b == CNP_BAND_RED)
            copy_str(p->scale_source, sizeof p->scale_source, source);
    }
    if (item)
        json_object_put(item);
    return st;
}

/* ---- STAC items --------------------------------------------------------- */

static json_object *jget(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v))
        return v;
    return NULL;
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v = jget(o, key);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* Parse a STAC item; CNP_E_DATA with `why` when it is JSON but not an item. */
static cnp_status stac_load(const char *path, json_object **out, char *why, size_t wsize)
{
    *out = NULL;
    char *text = read_text(path, 16 << 20);
    if (!text) {
        sfmt(why, wsize, "cannot read it: %s",
                 *cnp_err_gdal_msg() ? cnp_err_gdal_msg() : "no such file");
        return CNP_E_IO;
    }
    json_object *o = parse_json_text(text, why, wsize);
    free(text);
    if (!o)
        return CNP_E_DATA;
    const char *type = jstr(o, "type");
    json_object *assets = jget(o, "assets");
    if (!type || strcmp(type, "Feature") != 0 || !assets ||
        !json_object_is_type(assets, json_type_object)) {
        sfmt(why, wsize, "not a STAC item (a GeoJSON Feature with \"assets\")");
        json_object_put(o);
        return CNP_E_DATA;
    }
    *out = o;
    return CNP_OK;
}

/* The local copy of an asset next to the item, if any. */
static const char *stac_local_file(json_object *asset, const char *item_dir, char *buf,
                                   size_t size)
{
    const char *href = jstr(asset, "href");
    if (!href || !item_dir)
        return NULL;
    join(buf, size, item_dir, base_of(href));
    return path_exists(buf, NULL) ? buf : NULL;
}

/* GDAL path of an asset: a local copy beside a local item, else its href. */
static int stac_href(json_object *asset, const rctx *c, char *buf, size_t size)
{
    const char *href = jstr(asset, "href");
    if (!href)
        return 0;
    if (!c->remote && stac_local_file(asset, c->dir, buf, size))
        return 1;
    if (starts_with(href, "http://") || starts_with(href, "https://"))
        sfmt(buf, size, "/vsicurl/%s", href);
    else if (starts_with(href, "s3://"))
        sfmt(buf, size, "/vsis3/%s", href + 5);
    else if (starts_with(href, "gs://"))
        sfmt(buf, size, "/vsigs/%s", href + 5);
    else if (starts_with(href, "file://"))
        copy_str(buf, size, href + 7);
    else if (href[0] == '/')
        copy_str(buf, size, href);
    else
        join(buf, size, c->dir, starts_with(href, "./") ? href + 2 : href);
    return 1;
}

/* The single eo:bands common_name of an asset, or NULL. */
static const char *asset_common_name(json_object *a)
{
    json_object *eb = jget(a, "eo:bands");
    if (!eb || !json_object_is_type(eb, json_type_array) || json_object_array_length(eb) != 1)
        return NULL;
    return jstr(json_object_array_get_idx(eb, 0), "common_name");
}

static int asset_is_image(json_object *a)
{
    const char *type = jstr(a, "type");
    return !type || strstr(type, "image/") != NULL;
}

/* Pick the asset for a candidate list: for each name in order, an asset whose
 * single eo:band has that common name, else an asset with that key. COGs
 * (image/tiff) before other encodings of the same band. */
static json_object *stac_pick(json_object *assets, const char *candidates, const char **key_out)
{
    char names[MAX_ITEMS][ITEM_LEN];
    const int n = split(candidates, ", \t", names, MAX_ITEMS);
    for (int i = 0; i < n; i++) {
        for (int pass = 0; pass < 2; pass++) {
            json_object_object_foreach(assets, k, a) {
                const char *type = jstr(a, "type");
                const int tiff = type && strstr(type, "tiff");
                if ((pass == 0) != (tiff != 0) || !asset_is_image(a))
                    continue;
                const char *cn = asset_common_name(a);
                if ((cn && strcmp(cn, names[i]) == 0) || strcmp(k, names[i]) == 0) {
                    *key_out = k;
                    return a;
                }
            }
        }
    }
    return NULL;
}

static cnp_status resolve_stac(rctx *c, const profile *pr, const profile_set *ps,
                               const char *ipath, json_object *item, cnp_product *p)
{
    json_object *assets = jget(item, "assets"), *props = jget(item, "properties");
    copy_str(p->id, sizeof p->id, jstr(item, "id"));
    const char *dt = jstr(props, "datetime");
    if (!dt)
        dt = jstr(props, "start_datetime");
    if (dt) {
        if (!parse_date(dt, p->date))
            return perr(c, CNP_E_DATA, "properties.datetime '%s' is not a date", dt);
        copy_str(p->date_source, sizeof p->date_source, "STAC properties.datetime");
    }
    const char *plat = jstr(props, "platform");
    json_object *instr = jget(props, "instruments");
    const char *ins = instr && json_object_is_type(instr, json_type_array) &&
                      json_object_array_length(instr) > 0
                      ? json_object_get_string(json_object_array_get_idx(instr, 0)) : NULL;
    sfmt(p->sensor, sizeof p->sensor, "%s%s%s", plat ? plat : "", ins ? " " : "",
             ins ? ins : "");
    const char *bl = jstr(props, "s2:processing_baseline");
    copy_str(p->baseline, sizeof p->baseline, bl);

    const char *grid = jstr(props, "grid:code");
    json_object *wp = jget(props, "landsat:wrs_path"), *wr = jget(props, "landsat:wrs_row");
    if (grid && starts_with(grid, "MGRS-"))
        sfmt(p->footprint, sizeof p->footprint, "MGRS tile %s", grid + 5);
    else if (grid && starts_with(grid, "WRS2-") && strlen(grid) >= 11)
        sfmt(p->footprint, sizeof p->footprint, "WRS-2 path/row %.3s/%.3s", grid + 5,
                 grid + 8);
    else if (wp && wr)
        sfmt(p->footprint, sizeof p->footprint, "WRS-2 path/row %03d/%03d",
                 atoi(json_object_get_string(wp)), atoi(json_object_get_string(wr)));
    else if (jget(props, "mgrs:utm_zone") && jstr(props, "mgrs:latitude_band") &&
             jstr(props, "mgrs:grid_square"))
        sfmt(p->footprint, sizeof p->footprint, "MGRS tile %02d%s%s",
                 json_object_get_int(jget(props, "mgrs:utm_zone")),
                 jstr(props, "mgrs:latitude_band"), jstr(props, "mgrs:grid_square"));

    for (int b = 0; b < CNP_NBANDS; b++) {
        const char *cand = prof_get(pr, "bands", band_role(b));
        const char *key = NULL;
        json_object *a = cand ? stac_pick(assets, cand, &key) : NULL;
        if (!a) {
            if (b >= CNP_BAND_GREEN)
                continue;
            return perr(c, CNP_E_DATA, "STAC item has no %s asset (looked for eo:bands "
                        "common_name or asset key %s)", b == CNP_BAND_RED ? "red" : "NIR",
                        cand ? cand : "");
        }
        cnp_product_band *pb = &p->band[b];
        char path[8192];
        if (!stac_href(a, c, path, sizeof path))
            return perr(c, CNP_E_DATA, "STAC asset '%s' has no href", key);
        pb->path = strdup(path);
        pb->index = 1;
        copy_str(pb->name, sizeof pb->name, key);
        if (!pb->path)
            return cnp_err(CNP_E_NOMEM, "out of memory");
        json_object *rb = jget(a, "raster:bands");
        json_object *b0 = rb && json_object_is_type(rb, json_type_array) &&
                          json_object_array_length(rb) > 0 ? json_object_array_get_idx(rb, 0)
                                                           : NULL;
        json_object *sc = jget(b0, "scale"), *of = jget(b0, "offset"), *nd = jget(b0, "nodata");
        if (sc && json_object_get_double(sc) != 0) {
            pb->scale = json_object_get_double(sc);
            pb->offset = of ? json_object_get_double(of) : 0;
            pb->has_scale = 1;
            if (b == CNP_BAND_RED)
                sfmt(p->scale_source, sizeof p->scale_source, "STAC raster:bands of '%s'",
                         key);
        }
        if (nd && b == CNP_BAND_RED) {
            p->has_nodata = 1;
            p->nodata = json_object_get_double(nd);
        }
    }

    /* The mask: the first candidate asset present, decoded by its profile. */
    char cands[MAX_ITEMS][ITEM_LEN];
    const int nc = split(prof_get(pr, "mask", "assets"), ", \t", cands, MAX_ITEMS);
    for (int i = 0; i < nc; i++) {
        json_object *a = jget(assets, cands[i]);
        if (!a)
            continue;
        const char *fam = prof_get(pr, "mask", cands[i]);
        const profile *mp = fam ? profile_by_family(ps, fam) : NULL;
        if (!mp)
            return cnp_err(CNP_E_CONFIG, "%s:%d: [mask] %s: no profile of family '%s'",
                           pr->path, prof_line(pr, "mask", cands[i]), cands[i],
                           fam ? fam : "(none)");
        char path[8192];
        if (!stac_href(a, c, path, sizeof path))
            return perr(c, CNP_E_DATA, "STAC asset '%s' has no href", cands[i]);
        p->mask_path = strdup(path);
        if (!p->mask_path)
            return cnp_err(CNP_E_NOMEM, "out of memory");
        char layer[32];
        copy_str(layer, sizeof layer, cands[i]);
        for (char *q = layer; *q; q++)
            *q = (char)toupper((unsigned char)*q);
        cnp_status st = mask_rule_from_profile(mp, layer, p);
        if (st != CNP_OK)
            return st;
        break;
    }
    (void)ipath;
    return CNP_OK;
}

/* ---- the entry point ---------------------------------------------------- */

static int is_remote(const char *p)
{
    return starts_with(p, "/vsicurl") || starts_with(p, "/vsis3/") || starts_with(p, "/vsigs/") ||
           starts_with(p, "/vsiaz") || starts_with(p, "/vsioss/") || starts_with(p, "/vsiswift/") ||
           starts_with(p, "/vsiadls/") || starts_with(p, "/vsihdfs/") ||
           starts_with(p, "/vsiwebhdfs/");
}

/* Work out c->dir / c->hint / c->layout from the user's path. 0: not a
 * product candidate (let GDAL open it as a raster). */
static int classify(rctx *c, char *why, size_t wsize)
{
    char p[4096];
    copy_str(p, sizeof p, c->user);
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    if (starts_with(p, "http://") || starts_with(p, "https://")) {
        char tmp[4096];
        sfmt(tmp, sizeof tmp, "/vsicurl/%s", p);
        copy_str(p, sizeof p, tmp);
    }
    c->remote = is_remote(p);
    int dir = 0;
    if (c->remote) {
        /* A remote path is a file: a raster, or else a STAC item (API item
         * URLs do not end in .json). */
        static const char *const raster_ext[] = { ".tif", ".tiff", ".vrt", ".jp2", ".img",
                                                  ".nc", ".hdf", ".h5", ".zarr", NULL };
        for (int i = 0; raster_ext[i]; i++)
            if (ends_with_ci(p, raster_ext[i]))
                return 0;
        c->stac_url = 1;
    } else if (!path_exists(p, &dir)) {
        return 0;
    }
    if (dir) {
        copy_str(c->dir, sizeof c->dir, p);
        copy_str(c->layout, sizeof c->layout, ends_with_ci(p, ".SAFE") ? "SAFE folder"
                                                                       : "folder");
    } else if (ends_with_ci(p, ".tar") || ends_with_ci(p, ".tar.gz") ||
               ends_with_ci(p, ".tgz") || ends_with_ci(p, ".zip")) {
        const int zip = ends_with_ci(p, ".zip");
        char abs[4096];
        if (p[0] != '/' && !starts_with(p, "/vsi")) {
            char cwd[2048];
            if (!getcwd(cwd, sizeof cwd))
                cwd[0] = '\0';
            sfmt(abs, sizeof abs, "%s/%s", cwd, p);
        } else {
            copy_str(abs, sizeof abs, p);
        }
        copy_str(c->archive, sizeof c->archive, abs);
        sfmt(c->dir, sizeof c->dir, "%s%s", zip ? "/vsizip/" : "/vsitar/", abs);
        copy_str(c->layout, sizeof c->layout, zip ? "zip" : "tar");
        char **top = VSIReadDir(c->dir);
        if (!top) {
            sfmt(why, wsize, "cannot list the %s archive (corrupt or empty?)",
                     zip ? "zip" : "tar");
            return -1;
        }
        /* A .SAFE folder inside, or a single folder holding everything. */
        const char *sub = NULL;
        int nfiles = 0, ndirs = 0;
        for (char **e = top; *e; e++) {
            char full[8192];
            int d = 0;
            join(full, sizeof full, c->dir, *e);
            if (path_exists(full, &d) && d) {
                ndirs++;
                if (ends_with_ci(*e, ".SAFE") || !sub)
                    sub = *e;
            } else {
                nfiles++;
            }
        }
        if (sub && (ends_with_ci(sub, ".SAFE") || (ndirs == 1 && nfiles == 0))) {
            const size_t used = strlen(c->dir);
            sfmt(c->dir + used, sizeof c->dir - used, "/%s", sub);
            if (ends_with_ci(sub, ".SAFE"))
                copy_str(c->layout, sizeof c->layout, zip ? "SAFE zip" : "SAFE tar");
        }
        CSLDestroy(top);
    } else {
        char d[4096];
        copy_str(d, sizeof d, p);
        char *slash = strrchr(d, '/');
        if (slash) {
            *slash = '\0';
            copy_str(c->dir, sizeof c->dir, d[0] ? d : "/");
        } else {
            copy_str(c->dir, sizeof c->dir, ".");
        }
        copy_str(c->hint, sizeof c->hint, base_of(p));
        copy_str(c->layout, sizeof c->layout, c->remote ? "remote item" : "metadata file");
    }
    return 1;
}

cnp_status cnp_product_resolve(const char *path, const cnp_settings *s, const char *role,
                               cnp_product *p, int *is_product)
{
    rctx c;
    profile_set ps;
    char why[1024] = "", miss[512] = "";
    cnp_status st = CNP_OK;

    memset(p, 0, sizeof *p);
    memset(&c, 0, sizeof c);
    *is_product = 0;
    c.user = path;
    c.role = role ? role : "";

    const int cls = classify(&c, why, sizeof why);
    if (cls == 0)
        return CNP_OK;
    if (cls < 0)
        return perr(&c, CNP_E_DATA, "%s", why);
    /* A plain raster file: only metadata-looking names are candidates. */
    if (c.hint[0] && !c.stac_url && !ends_with_ci(c.hint, ".txt") &&
        !ends_with_ci(c.hint, ".xml") && !ends_with_ci(c.hint, ".json"))
        return CNP_OK;
    if ((st = profiles_load(s, &ps)) != CNP_OK)
        return st;
    if (!c.hint[0])
        c.entries = VSIReadDir(c.dir);

    kvlist meta = { 0 };
    char meta_file[1024] = "";
    json_object *item = NULL;
    const profile *match = NULL;

    for (size_t i = 0; i < ps.n && !match && st == CNP_OK; i++) {
        const profile *pr = &ps.p[i];
        const char *fmt = prof_get(pr, "product", "format");
        const char *mf = find_entry(&c, prof_get(pr, "product", "metadata"), fmt);
        if (strcmp(fmt, "s2") == 0 && !mf && !c.hint[0]) {
            /* A per-band COG folder. */
            char files[MAX_ITEMS][ITEM_LEN];
            const int nf = split(prof_get(pr, "product", "cog_files"), ", \t", files, MAX_ITEMS);
            int all = nf > 0;
            for (int k = 0; k < nf; k++)
                all &= has_entry(&c, files[k]);
            if (all) {
                match = pr;
                copy_str(c.layout, sizeof c.layout, "COG folder");
                st = resolve_s2_cog(&c, pr, p);
            }
            continue;
        }
        if (!mf)
            continue;
        char mpath[8192];
        join(mpath, sizeof mpath, c.dir, mf);
        if (strcmp(fmt, "stac") == 0) {
            if (item)
                json_object_put(item);
            item = NULL;
            const cnp_status ls = stac_load(mpath, &item, why, sizeof why);
            if (ls == CNP_E_IO) {
                st = perr(&c, CNP_E_IO, "%s: %s", mf, why);
                break;
            }
            if (ls != CNP_OK) {
                if (!miss[0])
                    sfmt(miss, sizeof miss, "%s: %s", mf, why);
                continue;
            }
            match = pr;
            copy_str(meta_file, sizeof meta_file, mpath);
            st = resolve_stac(&c, pr, &ps, mpath, item, p);
            continue;
        }
        if (strcmp(meta_file, mpath) != 0) {
            kv_free(&meta);
            copy_str(meta_file, sizeof meta_file, mpath);
            if (parse_metadata(mpath, &meta, why, sizeof why) != 0) {
                st = perr(&c, CNP_E_DATA, "%s: corrupt metadata: %s", mf, why);
                break;
            }
        }
        if (!requirements_hold(pr, &meta, why, sizeof why)) {
            if (!miss[0])
                sfmt(miss, sizeof miss, "%s: %s", mf, why);
            continue;
        }
        match = pr;
        st = strcmp(fmt, "mtl") == 0 ? resolve_mtl(&c, pr, mf, &meta, p)
                                     : resolve_s2_safe(&c, pr, mf, &meta, p);
    }

    if (st == CNP_OK && !match) {
        if (miss[0])
            st = perr(&c, CNP_E_DATA, "matches no product profile in %s (%s)", ps.dir, miss);
        else if (c.hint[0])
            st = CNP_OK;            /* some other .txt/.xml/.json: let GDAL try it */
        else if (strcmp(c.layout, "zip") == 0)
            st = perr(&c, CNP_E_DATA, "no .SAFE folder inside: not a Sentinel-2 product "
                      "archive");
        else if (strcmp(c.layout, "tar") == 0)
            st = perr(&c, CNP_E_DATA, "no *_MTL metadata inside: not a Landsat product archive");
        else if (GDALIdentifyDriverEx(c.dir, GDAL_OF_RASTER, NULL, NULL))
            st = CNP_OK;            /* a raster format that is a folder: let GDAL open it */
        else
            st = perr(&c, CNP_E_DATA, "no product in this folder (no Landsat *_MTL file, "
                      "Sentinel-2 MTD_MSIL2A.xml, B04.tif + B08.tif or STAC item)");
    }

    if (st == CNP_OK && match) {
        *is_product = 1;
        copy_str(p->family, sizeof p->family, match->family);
        copy_str(p->title, sizeof p->title, prof_get(match, "product", "title"));
        copy_str(p->profile, sizeof p->profile, match->path);
        copy_str(p->layout, sizeof p->layout, c.layout);
        int fail = 0;
        if (c.archive[0]) {
            fail |= add_file(p, "archive", c.archive);
        } else {
            if (meta_file[0])
                fail |= add_file(p, "metadata", meta_file);
            for (int b = 0; b < CNP_NBANDS; b++)
                if (p->band[b].path)
                    fail |= add_file(p, band_role(b), p->band[b].path);
            if (p->mask_path)
                fail |= add_file(p, "mask", p->mask_path);
        }
        if (fail)
            st = cnp_err(CNP_E_NOMEM, "out of memory");
        if (st == CNP_OK && (!p->band[CNP_BAND_RED].path || !p->band[CNP_BAND_NIR].path))
            st = perr(&c, CNP_E_DATA, "no red or NIR band found");
    }
    if (st != CNP_OK) {
        cnp_product_free(p);
        *is_product = 0;
    }
    if (item)
        json_object_put(item);
    kv_free(&meta);
    CSLDestroy(c.entries);
    profiles_free(&ps);
    return st;
}

void cnp_product_free(cnp_product *p)
{
    if (!p)
        return;
    for (int b = 0; b < CNP_NBANDS; b++)
        free(p->band[b].path);
    free(p->mask_path);
    for (size_t i = 0; i < p->nfiles; i++) {
        free(p->files[i].role);
        free(p->files[i].path);
    }
    free(p->files);
    memset(p, 0, sizeof *p);
}
