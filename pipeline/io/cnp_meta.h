/* pipeline/io/cnp_meta.h - product metadata as text: read within bounds and
 * flattened into one list of items, whatever the format.
 *
 * Landsat MTL comes as ODL text, XML or JSON, Sentinel-2 as XML
 * (MTD_MSIL2A.xml), STAC items as JSON. Each is flattened into (group path,
 * key, value, attributes) items in document order, so profiles name items
 * the same way whatever the format: KEY, or GROUP/KEY where GROUP is any
 * enclosing group. The same list holds a product profile's INI keys.
 *
 * Everything here comes from outside and is bounded by the settings'
 * [limits] (base/cnp_config.h): file size, nesting depth and item count. A
 * file over a limit is refused with a message naming the limit; recursion is
 * never deeper than the depth limit. Parsers work on memory buffers, so the
 * fuzz targets (tests/fuzz/) call exactly what the products use.
 */
#ifndef CNP_META_H
#define CNP_META_H

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

/* cnp_meta_read() :
 * A whole file through GDAL's virtual file systems (a folder, /vsitar/,
 * /vsizip/, /vsicurl/), at most lim->metadata_bytes, into *text (malloc'd,
 * NUL-terminated, *len bytes before the NUL). `why` gets the reason on failure.
 * @return CNP_META_OK; CNP_META_CORRUPT (cannot read it), CNP_META_LIMIT
 *         (larger than the limit), CNP_META_NOMEM. */
int cnp_meta_read(const char *path, const cnp_limits *lim, char **text, size_t *len, char *why,
                  size_t wsize);

/* cnp_meta_parse_odl(), _xml(), _json() :
 * Flatten `len` bytes of one format into *m (appended). NUL bytes end the text
 * when only NUL bytes follow (old MTLs are padded so); another NUL byte, text that
 * is not the format, or (ODL) no items or no END are CNP_META_CORRUPT; nesting
 * deeper than lim->metadata_depth, more than lim->metadata_items items or an
 * ODL line longer than CNP_META_MAX_LINE are CNP_META_LIMIT; `why` says which.
 * @return CNP_META_OK or one of the codes above. */
int cnp_meta_parse_odl(const char *text, size_t len, const cnp_limits *lim, cnp_meta *m,
                       char *why, size_t wsize);
int cnp_meta_parse_xml(const char *text, size_t len, const cnp_limits *lim, cnp_meta *m,
                       char *why, size_t wsize);
int cnp_meta_parse_json(const char *text, size_t len, const cnp_limits *lim, cnp_meta *m,
                        char *why, size_t wsize);

/* cnp_meta_parse() : any of the three, chosen by the first character ('<' XML,
 * '{' JSON, else ODL), as the Landsat MTL comes in all three. */
int cnp_meta_parse(const char *text, size_t len, const cnp_limits *lim, cnp_meta *m, char *why,
                   size_t wsize);

/* cnp_meta_json() :
 * A JSON document of `len` bytes as a json-c object (release it with
 * json_object_put), within the depth and item limits; *rc says why not.
 * @return the object, or NULL with *rc = CNP_META_CORRUPT / _LIMIT / _NOMEM. */
json_object *cnp_meta_json(const char *text, size_t len, const cnp_limits *lim, int *rc,
                           char *why, size_t wsize);

#endif /* CNP_META_H */
