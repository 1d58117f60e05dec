/* pipeline/base/cnp_meta_flat.h - metadata flattened into items ("GROUP/KEY"
 * = value, with XML attributes), and the flatteners that need no GDAL:
 * Landsat ODL and JSON (MTL, STAC), within [limits]. The XML flattener and
 * the file reader are io/cnp_meta.h, which includes this.
 *
 * No GDAL: unit-tested by tests/unit/test_base_meta.c.
 */
#ifndef CNP_META_FLAT_H
#define CNP_META_FLAT_H

#include <stddef.h>

#include <json.h>

#include "cnp_config.h"

typedef struct cnp_meta_item {
    char *sec;      /* group path "A/B/C" (metadata) or INI section (profile) */
    char *key;
    char *val;
    char *attrs;    /* "name=value;name=value" (XML), or ""                  */
    int   line;     /* line in the profile file, 0 for metadata              */
} cnp_meta_item;

typedef struct cnp_meta {
    cnp_meta_item *v;
    size_t         n, cap;
} cnp_meta;

/* What a parser says of a file it refuses. */
enum { CNP_META_OK = 0, CNP_META_CORRUPT = -1, CNP_META_LIMIT = -2, CNP_META_NOMEM = -3 };

#define CNP_META_MAX_LINE 65536     /* longest line of ODL text, characters */

/* Append an item (copies every string; NULL sec/val/attrs are ""). 0 or -1 (memory). */
int cnp_meta_add(cnp_meta *m, const char *sec, const char *key, const char *val,
                 const char *attrs, int line);
void cnp_meta_free(cnp_meta *m);

/* First item matching "KEY" or "GROUP/KEY" (case-insensitive), or NULL. */
const cnp_meta_item *cnp_meta_find(const cnp_meta *m, const char *spec);
/* Value of the first item matching spec with a non-empty value, or NULL. */
const char *cnp_meta_get(const cnp_meta *m, const char *spec);
/* Value of the first item named `key` whose attribute `attr` equals `want`. */
const char *cnp_meta_get_attr(const cnp_meta *m, const char *key, const char *attr,
                              const char *want);

/* cnp_meta_parse_odl(), _xml(), _json() :
 * Flatten `len` bytes of one format into *m (appended). NUL bytes end the text
 * when only NUL bytes follow (old MTLs are padded so); another NUL byte, text that
 * is not the format, or (ODL) no items or no END are CNP_META_CORRUPT; nesting
 * deeper than lim->metadata_depth, more than lim->metadata_items items or an
 * ODL line longer than CNP_META_MAX_LINE are CNP_META_LIMIT; `why` says which.
 * @return CNP_META_OK or one of the codes above. */
int cnp_meta_parse_odl(const char *text, size_t len, const cnp_limits *lim, cnp_meta *m,
                       char *why, size_t wsize);
int cnp_meta_parse_json(const char *text, size_t len, const cnp_limits *lim, cnp_meta *m,
                        char *why, size_t wsize);

/* cnp_meta_json() :
 * A JSON document of `len` bytes as a json-c object (release it with
 * json_object_put), within the depth and item limits; *rc says why not.
 * @return the object, or NULL with *rc = CNP_META_CORRUPT / _LIMIT / _NOMEM. */
json_object *cnp_meta_json(const char *text, size_t len, const cnp_limits *lim, int *rc,
                           char *why, size_t wsize);

/* ---- for other flatteners (io/cnp_meta.c's XML) ---------------------------- */

/* A flattening in progress: the items, the limits, the group path. */
typedef struct cnp_meta_flat {
    cnp_meta         *m;
    const cnp_limits *lim;
    int               rc;             /* CNP_META_* of the first failure     */
    char             *why;
    size_t            wsize;
    char              sec[2048];      /* group path of what is being read    */
    char              text[4096];     /* scratch for one item's text         */
    char              attrs[1024];    /* and its attributes                  */
} cnp_meta_flat;

/* NULL (why set) out of memory; free() it. */
cnp_meta_flat *cnp_meta_flat_new(cnp_meta *m, const cnp_limits *lim, char *why, size_t wsize);
/* Add an item in the current group: 0, or -1 with f->rc and why set (limit, memory). */
int cnp_meta_flat_add(cnp_meta_flat *f, const char *key, const char *val, const char *attrs);
/* Record "nested deeper than the limit" for `what`; returns -1. */
int cnp_meta_flat_too_deep(cnp_meta_flat *f, const char *what);
/* Enter group `name`; returns the old length of f->sec to cut it back to. */
size_t cnp_meta_flat_push(cnp_meta_flat *f, const char *name);
/* The text's length without NUL padding (old MTLs are padded to 65535
 * bytes); 0 with why set when a NUL is followed by more text. */
int cnp_meta_text_len(const char *text, size_t *len, char *why, size_t wsize);
/* A NUL-terminated copy of len bytes, or NULL. */
char *cnp_meta_copy_text(const char *text, size_t len);

#endif /* CNP_META_FLAT_H */
