/* pipeline/base/cnp_str.c - string helpers of the parsers. */
#include "cnp_str.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cnp_sfmt(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(dst, size, fmt, ap);
    va_end(ap);
    return n;
}

char *cnp_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}
