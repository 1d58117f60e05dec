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

#include "cnp_config.h"
#include "cnp_meta_flat.h"

/* cnp_meta_read() :
 * A whole file through GDAL's virtual file systems (a folder, /vsitar/,
 * /vsizip/, /vsicurl/), at most lim->metadata_bytes, into *text (malloc'd,
 * NUL-terminated, *len bytes before the NUL). `why` gets the reason on failure.
 * @return CNP_META_OK; CNP_META_CORRUPT (cannot read it), CNP_META_LIMIT
 *         (larger than the limit), CNP_META_NOMEM. */
int cnp_meta_read(const char *path, const cnp_limits *lim, char **text, size_t *len, char *why,
                  size_t wsize);

/* cnp_meta_parse_xml() : as cnp_meta_parse_odl() (cnp_meta_flat.h), for XML. */
int cnp_meta_parse_xml(const char *text, size_t len, const cnp_limits *lim, cnp_meta *m,
                       char *why, size_t wsize);

/* cnp_meta_parse() : any of the three, chosen by the first character ('<' XML,
 * '{' JSON, else ODL), as the Landsat MTL comes in all three. */
int cnp_meta_parse(const char *text, size_t len, const cnp_limits *lim, cnp_meta *m, char *why,
                   size_t wsize);

#endif /* CNP_META_H */
