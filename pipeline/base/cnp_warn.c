/* pipeline/base/cnp_warn.c - the warnings of a run. */
#include "cnp_warn.h"

#include <stdarg.h>
#include <stdio.h>

const char *cnp_warn(cnp_warnings *w, const char *fmt, ...)
{
    if (!w || w->n >= CNP_MAX_WARNINGS)
        return NULL;
    char *t = w->text[w->n++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t, sizeof w->text[0], fmt, ap);
    va_end(ap);
    for (char *c = t; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    return t;
}
