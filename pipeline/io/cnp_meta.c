/* pipeline/io/cnp_meta.c - metadata files read within [limits] (through
 * GDAL's virtual file systems) and XML flattened into items (GDAL's parser);
 * the item list and the ODL and JSON flatteners, which need no GDAL, are
 * base/cnp_meta_flat.c.
 *
 * The XML flattener recurses once per nesting level and stops at the depth
 * limit, as the others do: GDAL's XML parser itself accepts 10 000 levels.
 */
#include "cnp_meta.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cpl_minixml.h>
#include <cpl_vsi.h>

#include "cnp_gdal.h"
#include "cnp_str.h"


/* ---- reading ---------------------------------------------------------------- */

int cnp_meta_read(const char *path, const cnp_limits *lim, char **text, size_t *len, char *why,
                  size_t wsize)
{
    const size_t limit = (size_t)lim->metadata_bytes;
    *text = NULL;
    *len = 0;
    cnp_err_gdal_reset();
    /* A size the file system knows refuses a huge file before reading it; the
     * read itself stops one byte past the limit (devices, pipes, servers that
     * do not say). */
    VSIStatBufL sb;
    size_t first = 65536;
    if (VSIStatExL(path, &sb, VSI_STAT_SIZE_FLAG) == 0 && VSI_ISREG(sb.st_mode)) {
        if ((uint64_t)sb.st_size > (uint64_t)limit) {
            cnp_sfmt(why, wsize, "larger than %zu bytes (%llu): over the limit [limits] "
                 "metadata_bytes", limit, (unsigned long long)sb.st_size);
            return CNP_META_LIMIT;
        }
        first = (size_t)sb.st_size + 2;    /* the whole file and the EOF read */
    }
    VSILFILE *f = VSIFOpenL(path, "rb");
    if (!f) {
        cnp_sfmt(why, wsize, "cannot read it: %s", *cnp_err_gdal_msg() ? cnp_err_gdal_msg()
                                                                    : "no such file");
        return CNP_META_CORRUPT;
    }
    size_t cap = 0, n = 0;
    char *buf = NULL;
    int rc = CNP_META_OK;
    for (;;) {
        if (n + 1 >= cap) {
            /* n <= limit here, so limit + 2 always leaves room to grow. */
            size_t ncap = cap ? 2 * cap : first;
            if (ncap > limit + 2)
                ncap = limit + 2;
            char *p = realloc(buf, ncap);
            if (!p) {
                rc = CNP_META_NOMEM;
                break;
            }
            buf = p;
            cap = ncap;
        }
        const size_t got = VSIFReadL(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (n > limit) {
            cnp_sfmt(why, wsize, "larger than %zu bytes: over the limit [limits] metadata_bytes",
                 limit);
            rc = CNP_META_LIMIT;
            break;
        }
        if (got == 0)
            break;
    }
    VSIFCloseL(f);
    if (rc != CNP_META_OK) {
        if (rc == CNP_META_NOMEM)
            cnp_sfmt(why, wsize, "out of memory");
        free(buf);
        return rc;
    }
    if (!buf && !(buf = malloc(1))) {
        cnp_sfmt(why, wsize, "out of memory");
        return CNP_META_NOMEM;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return CNP_META_OK;
}

/* ---- XML ------------------------------------------------------------------------ */

/* Elements in document order: each with its text or attributes is an item
 * named without its namespace prefix, in the group path of its ancestors. */
static void xml_flatten(cnp_meta_flat *f, const CPLXMLNode *n, int depth)
{
    for (; n && f->rc == CNP_META_OK; n = n->psNext) {
        if (n->eType != CXT_Element || n->pszValue[0] == '?')
            continue;
        if (depth >= f->lim->metadata_depth) {
            cnp_meta_flat_too_deep(f, "XML elements");
            return;
        }
        const char *colon = strchr(n->pszValue, ':');
        const char *name = colon ? colon + 1 : n->pszValue;
        f->text[0] = f->attrs[0] = '\0';
        for (const CPLXMLNode *c = n->psChild; c; c = c->psNext) {
            if (c->eType == CXT_Text) {
                const size_t used = strlen(f->text);
                cnp_sfmt(f->text + used, sizeof f->text - used, "%s", c->pszValue);
            } else if (c->eType == CXT_Attribute && c->psChild) {
                const size_t used = strlen(f->attrs);
                cnp_sfmt(f->attrs + used, sizeof f->attrs - used, "%s%s=%s", used ? ";" : "",
                     c->pszValue, c->psChild->pszValue);
            }
        }
        const char *t = cnp_trim(f->text);
        if ((*t || f->attrs[0]) && cnp_meta_flat_add(f, name, t, f->attrs) != 0)
            return;
        const size_t used = cnp_meta_flat_push(f, name);
        xml_flatten(f, n->psChild, depth + 1);
        f->sec[used] = '\0';
    }
}

int cnp_meta_parse_xml(const char *text, size_t len, const cnp_limits *lim, cnp_meta *m,
                       char *why, size_t wsize)
{
    if (!cnp_meta_text_len(text, &len, why, wsize))
        return CNP_META_CORRUPT;
    char *copy = cnp_meta_copy_text(text, len);
    cnp_meta_flat *f = cnp_meta_flat_new(m, lim, why, wsize);
    if (!copy || !f) {
        free(copy);
        free(f);
        cnp_sfmt(why, wsize, "out of memory");
        return CNP_META_NOMEM;
    }
    cnp_err_gdal_reset();
    CPLXMLNode *root = CPLParseXMLString(copy);
    free(copy);
    if (!root) {
        const char *g = cnp_err_gdal_msg();
        cnp_sfmt(why, wsize, "not well-formed XML%s%s", *g ? ": " : "", g);
        free(f);
        return CNP_META_CORRUPT;
    }
    const size_t items0 = m->n;
    xml_flatten(f, root, 0);
    CPLDestroyXMLNode(root);
    int rc = f->rc;
    free(f);
    if (rc == CNP_META_OK && m->n == items0) {
        cnp_sfmt(why, wsize, "an XML document without items");
        rc = CNP_META_CORRUPT;
    }
    return rc;
}

int cnp_meta_parse(const char *text, size_t len, const cnp_limits *lim, cnp_meta *m, char *why,
                   size_t wsize)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    if (i < len && text[i] == '<')
        return cnp_meta_parse_xml(text + i, len - i, lim, m, why, wsize);
    if (i < len && text[i] == '{')
        return cnp_meta_parse_json(text + i, len - i, lim, m, why, wsize);
    return cnp_meta_parse_odl(text, len, lim, m, why, wsize);
}
