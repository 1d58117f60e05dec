/* pipeline/base/cnp_meta_flat.c - metadata flattened into items, and the
 * flatteners that need no GDAL: Landsat ODL and JSON (MTL, STAC). The XML
 * flattener (GDAL's parser) and the file reader (GDAL's virtual file
 * systems) stay in io/cnp_meta.c.
 *
 * The flatteners recurse once per nesting level and stop at the depth limit
 * (at most 256), with their buffers in one heap context rather than on the
 * stack, so no input can make them overflow it: json-c nests as deep as it
 * is told.
 */
#include "cnp_meta_flat.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cnp_str.h"


/* ---- the item list ---------------------------------------------------------- */

int cnp_meta_add(cnp_meta *m, const char *sec, const char *key, const char *val,
                 const char *attrs, int line)
{
    if (m->n == m->cap) {
        const size_t cap = m->cap ? 2 * m->cap : 256;
        cnp_meta_item *p = realloc(m->v, cap * sizeof *p);
        if (!p)
            return -1;
        m->v = p;
        m->cap = cap;
    }
    cnp_meta_item *e = &m->v[m->n];
    e->sec = strdup(sec ? sec : "");
    e->key = strdup(key);
    e->val = strdup(val ? val : "");
    e->attrs = strdup(attrs ? attrs : "");
    e->line = line;
    if (!e->sec || !e->key || !e->val || !e->attrs) {
        free(e->sec);
        free(e->key);
        free(e->val);
        free(e->attrs);
        return -1;
    }
    m->n++;
    return 0;
}

void cnp_meta_free(cnp_meta *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].sec);
        free(m->v[i].key);
        free(m->v[i].val);
        free(m->v[i].attrs);
    }
    free(m->v);
    memset(m, 0, sizeof *m);
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

static const cnp_meta_item *find(const cnp_meta *m, const char *spec, int nonempty)
{
    const char *slash = strrchr(spec, '/');
    const char *key = slash ? slash + 1 : spec;
    for (size_t i = 0; i < m->n; i++) {
        if (strcasecmp(m->v[i].key, key) != 0 || (nonempty && !m->v[i].val[0]))
            continue;
        if (slash && !has_component(m->v[i].sec, spec, (size_t)(slash - spec)))
            continue;
        return &m->v[i];
    }
    return NULL;
}

const cnp_meta_item *cnp_meta_find(const cnp_meta *m, const char *spec)
{
    return find(m, spec, 0);
}

const char *cnp_meta_get(const cnp_meta *m, const char *spec)
{
    const cnp_meta_item *e = find(m, spec, 1);
    return e ? e->val : NULL;
}

const char *cnp_meta_get_attr(const cnp_meta *m, const char *key, const char *attr,
                              const char *want)
{
    char needle[128];
    cnp_sfmt(needle, sizeof needle, "%s=%s", attr, want);
    const size_t nlen = strlen(needle);
    for (size_t i = 0; i < m->n; i++) {
        if (strcasecmp(m->v[i].key, key) != 0)
            continue;
        for (const char *p = m->v[i].attrs; *p;) {
            const char *e = strchr(p, ';');
            const size_t len = e ? (size_t)(e - p) : strlen(p);
            if (len == nlen && strncmp(p, needle, len) == 0)
                return m->v[i].val;
            if (!e)
                break;
            p = e + 1;
        }
    }
    return NULL;
}


/* The text's length without NUL padding (old USGS MTLs are padded with NULs
 * to 65535 bytes); 0 with `why` set when a NUL byte is followed by more text:
 * a binary file, or UTF-16. */
int cnp_meta_text_len(const char *text, size_t *len, char *why, size_t wsize)
{
    const char *z = memchr(text, '\0', *len);
    if (!z)
        return 1;
    for (const char *q = z; q < text + *len; q++) {
        if (*q) {
            cnp_sfmt(why, wsize, "a NUL byte at offset %zu: not a text file", (size_t)(z - text));
            return 0;
        }
    }
    *len = (size_t)(z - text);
    return 1;
}

char *cnp_meta_copy_text(const char *text, size_t len)
{
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, text, len);
        s[len] = '\0';
    }
    return s;
}

/* ---- flattening ------------------------------------------------------------- */


int cnp_meta_flat_add(cnp_meta_flat *f, const char *key, const char *val, const char *attrs)
{
    if ((int64_t)f->m->n >= f->lim->metadata_items) {
        cnp_sfmt(f->why, f->wsize, "more than %lld items: over the limit [limits] metadata_items",
             (long long)f->lim->metadata_items);
        f->rc = CNP_META_LIMIT;
        return -1;
    }
    if (cnp_meta_add(f->m, f->sec, key, val, attrs, 0) != 0) {
        cnp_sfmt(f->why, f->wsize, "out of memory");
        f->rc = CNP_META_NOMEM;
        return -1;
    }
    return 0;
}

int cnp_meta_flat_too_deep(cnp_meta_flat *f, const char *what)
{
    cnp_sfmt(f->why, f->wsize, "%s nested deeper than %d levels: over the limit [limits] "
         "metadata_depth", what, f->lim->metadata_depth);
    f->rc = CNP_META_LIMIT;
    return -1;
}

/* Append "/name" (or "name" at the top) to the group path; the old length
 * is returned so the caller can cut it back. */
size_t cnp_meta_flat_push(cnp_meta_flat *f, const char *name)
{
    const size_t used = strlen(f->sec);
    cnp_sfmt(f->sec + used, sizeof f->sec - used, "%s%s", used ? "/" : "", name);
    return used;
}

cnp_meta_flat *cnp_meta_flat_new(cnp_meta *m, const cnp_limits *lim, char *why, size_t wsize)
{
    cnp_meta_flat *f = calloc(1, sizeof *f);
    if (f) {
        f->m = m;
        f->lim = lim;
        f->why = why;
        f->wsize = wsize;
    } else {
        cnp_sfmt(why, wsize, "out of memory");
    }
    return f;
}

/* ---- Landsat ODL ("GROUP = X ... KEY = VALUE ... END_GROUP = X ... END") ------ */

/* One "KEY = VALUE" line; the group path follows GROUP / END_GROUP. */
static int odl_line(cnp_meta_flat *f, char *s, size_t *depth_len, int *depth, int *extra_end)
{
    char *eq = strchr(s, '=');
    if (!eq)
        return 0;
    *eq = '\0';
    char *key = cnp_trim(s), *val = cnp_trim(eq + 1);
    const size_t vl = strlen(val);
    if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
        val[vl - 1] = '\0';
        val++;
    }
    if (strcmp(key, "GROUP") == 0) {
        if (*depth >= f->lim->metadata_depth)
            return cnp_meta_flat_too_deep(f, "GROUPs");
        depth_len[(*depth)++] = cnp_meta_flat_push(f, val);
    } else if (strcmp(key, "END_GROUP") == 0) {
        if (*depth > 0)
            f->sec[depth_len[--(*depth)]] = '\0';
        else
            (*extra_end)++;
    } else {
        return cnp_meta_flat_add(f, key, val, "");
    }
    return 0;
}

int cnp_meta_parse_odl(const char *text, size_t len, const cnp_limits *lim, cnp_meta *m,
                       char *why, size_t wsize)
{
    if (!cnp_meta_text_len(text, &len, why, wsize))
        return CNP_META_CORRUPT;
    char *copy = cnp_meta_copy_text(text, len);
    size_t *depth_len = malloc((size_t)(lim->metadata_depth + 1) * sizeof *depth_len);
    cnp_meta_flat *f = cnp_meta_flat_new(m, lim, why, wsize);
    if (!copy || !depth_len || !f) {
        free(copy);
        free(depth_len);
        free(f);
        cnp_sfmt(why, wsize, "out of memory");
        return CNP_META_NOMEM;
    }
    const size_t items0 = m->n;
    int depth = 0, extra_end = 0, ended = 0, lineno = 0;
    for (char *line = copy; line && *line && !ended && f->rc == CNP_META_OK;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        if (strlen(line) > CNP_META_MAX_LINE) {
            cnp_sfmt(why, wsize, "line %d is longer than %d characters: not Landsat ODL metadata",
                 lineno, CNP_META_MAX_LINE);
            f->rc = CNP_META_LIMIT;
            break;
        }
        char *s = cnp_trim(line);
        line = next;
        if (strcmp(s, "END") == 0)
            ended = 1;
        else if (*s)
            odl_line(f, s, depth_len, &depth, &extra_end);
    }
    int rc = f->rc;
    if (rc == CNP_META_OK) {
        if (m->n == items0)
            cnp_sfmt(why, wsize, "no KEY = VALUE items: not Landsat ODL metadata");
        else if (extra_end)
            cnp_sfmt(why, wsize, "an END_GROUP closes no GROUP");
        else if (depth > 0)
            cnp_sfmt(why, wsize, "a GROUP is never closed (truncated?)");
        else if (!ended)
            cnp_sfmt(why, wsize, "no END line (truncated?)");
        if (m->n == items0 || extra_end || depth > 0 || !ended)
            rc = CNP_META_CORRUPT;
    }
    free(copy);
    free(depth_len);
    free(f);
    return rc;
}

/* ---- JSON ----------------------------------------------------------------------- */

/* Values of a parsed document, up to `max` (past it, counting stops). The
 * tokener has already bounded the depth, so this recursion is bounded too. */
static int64_t json_count(json_object *o, int64_t n, int64_t max)
{
    if (n > max)
        return n;
    n++;
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v) {
            (void)k;
            n = json_count(v, n, max);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        const size_t len = json_object_array_length(o);
        for (size_t i = 0; i < len && n <= max; i++)
            n = json_count(json_object_array_get_idx(o, i), n, max);
    }
    return n;
}

json_object *cnp_meta_json(const char *text, size_t len, const cnp_limits *lim, int *rc,
                           char *why, size_t wsize)
{
    *rc = CNP_META_CORRUPT;
    if (!cnp_meta_text_len(text, &len, why, wsize))
        return NULL;
    if (len > INT32_MAX) {
        cnp_sfmt(why, wsize, "larger than json-c can parse");
        *rc = CNP_META_LIMIT;
        return NULL;
    }
    /* json-c's depth counts one more than the levels it accepts. */
    json_tokener *tok = json_tokener_new_ex(lim->metadata_depth + 1);
    if (!tok) {
        cnp_sfmt(why, wsize, "out of memory");
        *rc = CNP_META_NOMEM;
        return NULL;
    }
    json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    /* The end of the text ends a top-level number or literal, as the NUL
     * terminator does for json_tokener_parse(). */
    if (!o && json_tokener_get_error(tok) == json_tokener_continue)
        o = json_tokener_parse_ex(tok, "", 1);
    const enum json_tokener_error jerr = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (!o) {
        if (jerr == json_tokener_error_depth) {
            cnp_sfmt(why, wsize, "JSON nested deeper than %d levels: over the limit [limits] "
                 "metadata_depth", lim->metadata_depth);
            *rc = CNP_META_LIMIT;
        } else {
            cnp_sfmt(why, wsize, "not valid JSON: %s", jerr == json_tokener_continue
                 ? "unexpected end of data" : json_tokener_error_desc(jerr));
        }
        return NULL;
    }
    if (json_count(o, 0, lim->metadata_items) > lim->metadata_items) {
        cnp_sfmt(why, wsize, "more than %lld values: over the limit [limits] metadata_items",
             (long long)lim->metadata_items);
        json_object_put(o);
        *rc = CNP_META_LIMIT;
        return NULL;
    }
    *rc = CNP_META_OK;
    return o;
}

static void json_flatten(cnp_meta_flat *f, json_object *o, const char *key)
{
    if (f->rc != CNP_META_OK)
        return;
    switch (json_object_get_type(o)) {
    case json_type_object: {
        const size_t used = strlen(f->sec);
        if (key)
            cnp_meta_flat_push(f, key);
        json_object_object_foreach(o, k, v)
            json_flatten(f, v, k);
        f->sec[used] = '\0';
        break;
    }
    case json_type_array: {
        const size_t len = json_object_array_length(o);
        for (size_t i = 0; i < len; i++)
            json_flatten(f, json_object_array_get_idx(o, i), key);
        break;
    }
    case json_type_null:
        break;
    default:
        if (key)
            cnp_meta_flat_add(f, key, json_object_get_string(o), "");
    }
}

int cnp_meta_parse_json(const char *text, size_t len, const cnp_limits *lim, cnp_meta *m,
                        char *why, size_t wsize)
{
    int rc;
    json_object *o = cnp_meta_json(text, len, lim, &rc, why, wsize);
    if (!o)
        return rc;
    cnp_meta_flat *f = cnp_meta_flat_new(m, lim, why, wsize);
    if (!f) {
        json_object_put(o);
        return CNP_META_NOMEM;
    }
    const size_t items0 = m->n;
    json_flatten(f, o, NULL);
    json_object_put(o);
    rc = f->rc;
    free(f);
    if (rc == CNP_META_OK && m->n == items0) {
        cnp_sfmt(why, wsize, "a JSON document without items");
        rc = CNP_META_CORRUPT;
    }
    return rc;
}

