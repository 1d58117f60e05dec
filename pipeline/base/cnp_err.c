/* pipeline/base/cnp_err.c - per-thread last-error buffer and small shared helpers. */
#include "cnp_err.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_ident.h"

static _Thread_local char last_msg[1024];

cnp_status cnp_err(cnp_status st, const char *fmt, ...)
{
    char buf[sizeof last_msg];
    va_list ap;

    /* Format into a copy first: callers may pass cnp_err_msg() as an argument. */
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* Messages carry names and values from inputs and end up on a terminal,
     * in logs and in JSON: control characters and invalid UTF-8 are escaped
     * once, here (escaping an escaped message changes nothing). */
    cnp_ident_term_str(last_msg, sizeof last_msg, buf);
    return st;
}

const char *cnp_err_msg(void) { return last_msg; }
const char *cnp_path_base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

cnp_status cnp_grow(void **p, size_t *cap, size_t need, size_t elem, const char *what)
{
    if (need <= *cap)
        return CNP_OK;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            return cnp_err(CNP_E_NOMEM, "out of memory for %s", what);
        c *= 2;
    }
    void *q = realloc(*p, c * elem);
    if (!q)
        return cnp_err(CNP_E_NOMEM, "out of memory for %s", what);
    *p = q;
    *cap = c;
    return CNP_OK;
}

cnp_status cnp_grow_zeroed(void **p, size_t *cap, size_t need, size_t elem, const char *what)
{
    const size_t old = *cap;
    const cnp_status st = cnp_grow(p, cap, need, elem, what);
    if (st == CNP_OK && *cap > old)
        memset((char *)*p + old * elem, 0, (*cap - old) * elem);
    return st;
}
