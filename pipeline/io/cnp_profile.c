/* pipeline/io/cnp_profile.c - product profiles: loading the folder, reading
 * one profile within the INI bounds, and the mask rule of its [mask] section. */
#include "cnp_profile.h"

#include <limits.h>
#include <unistd.h>

#include <cpl_string.h>

#include "cnp_err.h"
#include "cnp_ini.h"
#include "cnp_product_int.h"

/* ---- one profile ----------------------------------------------------------- */

static const cnp_meta_item *prof_item(const cnp_profile *pr, const char *sec, const char *key)
{
    for (size_t i = 0; i < pr->kv.n; i++)
        if (strcmp(pr->kv.v[i].sec, sec) == 0 && strcmp(pr->kv.v[i].key, key) == 0)
            return &pr->kv.v[i];
    return NULL;
}

const char *cnp_profile_get(const cnp_profile *pr, const char *sec, const char *key)
{
    const cnp_meta_item *e = prof_item(pr, sec, key);
    return e ? e->val : NULL;
}

int cnp_profile_line(const cnp_profile *pr, const char *sec, const char *key)
{
    const cnp_meta_item *e = prof_item(pr, sec, key);
    return e ? e->line : 0;
}

static cnp_status on_entry(void *user, const char *section, const char *key, const char *value,
                           int line)
{
    cnp_profile *pr = user;
    if (cnp_meta_add(&pr->kv, section, key, value, "", line) != 0)
        return cnp_err(CNP_E_NOMEM, "out of memory reading product profile '%s'", pr->path);
    return CNP_OK;
}

/* [product] priority: an integer an int holds (a double out of int's range
 * cast to int is undefined behaviour). */
static cnp_status parse_priority(const cnp_profile *pr, int *out)
{
    const char *v = cnp_profile_get(pr, "product", "priority");
    double d = 100;
    if (v && !parse_num(v, &d))
        return cnp_err(CNP_E_CONFIG, "%s:%d: priority: '%s' is not a number", pr->path,
                       cnp_profile_line(pr, "product", "priority"), v);
    if (d != floor(d) || d < INT_MIN || d > INT_MAX)
        return cnp_err(CNP_E_CONFIG, "%s:%d: priority: '%s' is not an integer from %d to %d",
                       pr->path, cnp_profile_line(pr, "product", "priority"), v, INT_MIN,
                       INT_MAX);
    *out = (int)d;
    return CNP_OK;
}

cnp_status cnp_profile_parse(const char *text, size_t len, const char *path, cnp_profile *pr,
                             int *is_profile)
{
    memset(pr, 0, sizeof *pr);
    *is_profile = 0;
    copy_str(pr->path, sizeof pr->path, path);
    cnp_status st = cnp_ini_parse(text, len, pr->path, on_entry, pr);
    const char *fam = st == CNP_OK ? cnp_profile_get(pr, "product", "family") : NULL;
    if (st != CNP_OK || !fam) {        /* default.ini and other settings files */
        cnp_meta_free(&pr->kv);
        return st;
    }
    copy_str(pr->family, sizeof pr->family, fam);
    const char *fmt = cnp_profile_get(pr, "product", "format");
    if ((st = parse_priority(pr, &pr->priority)) == CNP_OK &&
        (!fmt || (strcmp(fmt, "mtl") && strcmp(fmt, "s2") && strcmp(fmt, "stac"))))
        st = cnp_err(CNP_E_CONFIG, "%s:%d: format: '%s' is not mtl, s2 or stac", pr->path,
                     cnp_profile_line(pr, "product", "format"), fmt ? fmt : "");
    if (st != CNP_OK) {
        cnp_meta_free(&pr->kv);
        return st;
    }
    *is_profile = 1;
    return CNP_OK;
}

/* ---- the folder ------------------------------------------------------------- */

void cnp_profiles_free(cnp_profile_set *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        cnp_meta_free(&ps->p[i].kv);
    free(ps->p);
    memset(ps, 0, sizeof *ps);
}

static int cmp_profile(const void *a, const void *b)
{
    const cnp_profile *x = a, *y = b;
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
        cnp_sfmt(cand, sizeof cand, "%s%s", exe, rel[i]);
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

/* One .ini file of the folder into *pr; *is_profile as cnp_profile_parse(). */
static cnp_status load_one(const char *path, cnp_profile *pr, int *is_profile)
{
    char *text = NULL;
    size_t len = 0;
    cnp_status st = cnp_ini_read(path, "product profile", &text, &len);
    if (st == CNP_OK)
        st = cnp_profile_parse(text, len, path, pr, is_profile);
    free(text);
    return st;
}

cnp_status cnp_profiles_load(const cnp_settings *s, cnp_profile_set *ps)
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
    size_t cap = 0;
    cnp_status st = CNP_OK;
    for (int i = 0; i < count && st == CNP_OK; i++) {
        if (!ends_with_ci(names[i], ".ini"))
            continue;
        char path[1100];
        cnp_profile pr;
        int is_profile = 0;
        cnp_sfmt(path, sizeof path, "%s/%s", ps->dir, names[i]);
        if ((st = load_one(path, &pr, &is_profile)) != CNP_OK || !is_profile)
            continue;
        if (ps->n == CNP_MAX_PROFILES)
            st = cnp_err(CNP_E_CONFIG, "'%s': more than %d product profiles (limit of the "
                         "profile folder)", ps->dir, CNP_MAX_PROFILES);
        else
            st = cnp_grow((void **)&ps->p, &cap, ps->n + 1, sizeof *ps->p, "profiles");
        if (st != CNP_OK) {
            cnp_meta_free(&pr.kv);
            break;
        }
        ps->p[ps->n++] = pr;
    }
    CSLDestroy(names);
    if (st != CNP_OK) {
        cnp_profiles_free(ps);
        return st;
    }
    if (ps->n == 0) {
        cnp_profiles_free(ps);
        return cnp_err(CNP_E_CONFIG, "no product profiles in '%s' (set CANOPY_CONFIG_DIR or "
                       "[products] profiles)", ps->dir);
    }
    if (ps->n > 1)   /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(ps->p, ps->n, sizeof *ps->p, cmp_profile);
    return CNP_OK;
}

const cnp_profile *cnp_profile_by_family(const cnp_profile_set *ps, const char *family)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->p[i].family, family) == 0)
            return &ps->p[i];
    return NULL;
}

/* ---- mask rules from a profile's [mask] section ------------------------------ */

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

/* Values of flag `name` (a bit number or class value list): their count, -1
 * when the flag is unknown, -2 when a value is not an integer of 0-255 (a
 * double out of int's range cast to int is undefined behaviour). */
static int flag_values(const cnp_profile *pr, const char *name, int vals[], int max)
{
    if (reserved_mask_key(name))
        return -1;
    const char *v = cnp_profile_get(pr, "mask", name);
    if (!v)
        return -1;
    char items[MAX_ITEMS][ITEM_LEN];
    const int n = split(v, ", \t", items, max < MAX_ITEMS ? max : MAX_ITEMS);
    for (int i = 0; i < n; i++) {
        double d;
        if (!parse_num(items[i], &d) || d != floor(d) || d < 0 || d > 255)
            return -2;
        vals[i] = (int)d;
    }
    return n;
}

/* Add `names` in words (and, for the invalid list, their values) to txt. */
static void describe(char *txt, size_t cap, const char *name, const int *vals, int nv,
                     int with_values)
{
    const size_t u = strlen(txt);
    cnp_sfmt(txt + u, cap - u, "%s%s", u ? ", " : "", name);
    if (!with_values)
        return;
    for (int k = 0; k < nv; k++) {
        const size_t u2 = strlen(txt);
        cnp_sfmt(txt + u2, cap - u2, "%s%d", k ? "+" : "(", vals[k]);
    }
    const size_t u3 = strlen(txt);
    cnp_sfmt(txt + u3, cap - u3, ")");
}

cnp_status cnp_profile_mask_rule(const cnp_profile *pr, const char *layer, cnp_product *p)
{
    const char *decode = cnp_profile_get(pr, "mask", "decode");
    const int bits = decode && strcmp(decode, "bits") == 0;
    if (!decode || (!bits && strcmp(decode, "classes") != 0))
        return cnp_err(CNP_E_CONFIG, "%s:%d: [mask] decode: '%s' is not bits or classes",
                       pr->path, cnp_profile_line(pr, "mask", "decode"), decode ? decode : "");
    cnp_mask_rule *r = &p->mask;
    memset(r, 0, sizeof *r);
    r->kind = bits ? CNP_MASK_RULE_BITS : CNP_MASK_RULE_VALUES;
    p->fill_value = -1;
    p->fill_bits = 0;

    char used[1024] = "", spread_txt[512] = "";
    const char *lists[2] = { "invalid", "buffer" };
    for (int l = 0; l < 2; l++) {
        char names[MAX_ITEMS][ITEM_LEN];
        const int n = split(cnp_profile_get(pr, "mask", lists[l]), ", \t", names, MAX_ITEMS);
        for (int i = 0; i < n; i++) {
            int vals[16];
            const int nv = flag_values(pr, names[i], vals, 16);
            if (nv == -1)
                return cnp_err(CNP_E_CONFIG, "%s:%d: [mask] %s: unknown flag '%s'", pr->path,
                               cnp_profile_line(pr, "mask", lists[l]), lists[l], names[i]);
            if (nv < 0)
                return cnp_err(CNP_E_CONFIG, "%s:%d: [mask] flag '%s': '%s' is not a list of "
                               "integers 0-255", pr->path, cnp_profile_line(pr, "mask", names[i]),
                               names[i], cnp_profile_get(pr, "mask", names[i]));
            for (int k = 0; k < nv; k++) {
                const int v = vals[k];
                if (bits ? (v < 0 || v > 15) : (v < 0 || v > 255))
                    return cnp_err(CNP_E_CONFIG, "%s:%d: [mask] flag '%s' = %d is out of "
                                   "range (%s)", pr->path,
                                   cnp_profile_line(pr, "mask", names[i]), names[i], v,
                                   bits ? "bits 0-15" : "classes 0-255");
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
            if (l == 0)
                describe(used, sizeof used, names[i], vals, nv, 1);
            else
                describe(spread_txt, sizeof spread_txt, names[i], vals, nv, 0);
        }
    }
    /* Only unobserved flags spread. */
    r->spread_bits &= r->invalid_bits;
    for (int v = 0; v < 256; v++)
        r->spread[v] = (uint8_t)(r->spread[v] && r->invalid[v]);

    const char *fill = cnp_profile_get(pr, "mask", "fill_flag");
    if (fill && *fill) {
        int vals[4];
        const int nv = flag_values(pr, fill, vals, 4);
        if (nv < 1)
            return cnp_err(CNP_E_CONFIG, "%s:%d: [mask] fill_flag: unknown flag '%s'", pr->path,
                           cnp_profile_line(pr, "mask", "fill_flag"), fill);
        if (bits && vals[0] > 15)   /* 1u << 16 and more is no bit of a 16-bit layer */
            return cnp_err(CNP_E_CONFIG, "%s:%d: [mask] flag '%s' = %d is out of range (bits "
                           "0-15)", pr->path, cnp_profile_line(pr, "mask", fill), fill, vals[0]);
        copy_str(p->fill_text, sizeof p->fill_text, fill);
        if (bits)
            p->fill_bits = 1u << vals[0];
        else
            p->fill_value = vals[0];
    }
    cnp_sfmt(p->mask_text, sizeof p->mask_text, "%s %s: not observed when %s %s; grown by the "
         "buffer: %s", layer, bits ? "bits" : "classes",
         bits ? "any bit is set of" : "the class is one of", used,
         spread_txt[0] ? spread_txt : "none");
    copy_str(p->mask_name, sizeof p->mask_name, layer);
    return CNP_OK;
}
