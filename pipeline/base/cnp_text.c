/* pipeline/base/cnp_text.c - printable UTF-8 for the record (see cnp_text.h). */
#include "cnp_text.h"

#include <stdint.h>
#include <string.h>

#include "cnp_err.h"

/* Decode one UTF-8 sequence at s; its length into *len, 0 when malformed. */
static uint32_t utf8_next(const unsigned char *s, size_t *len)
{
    *len = 0;
    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    size_t n;
    uint32_t cp, min;
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2, cp = s[0] & 0x1F, min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3, cp = s[0] & 0x0F, min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4, cp = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    *len = n;
    return cp;
}

static const char *forbidden(uint32_t cp)
{
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
        return "a control character";
    if (cp == 0x2028 || cp == 0x2029)
        return "a line or paragraph separator";
    if (cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
        (cp >= 0x2066 && cp <= 0x2069))
        return "a bidirectional control character (it reorders what a reader sees)";
    return NULL;
}

cnp_status cnp_text_check(const char *what, const char *s, size_t max_bytes)
{
    const size_t n = s ? strlen(s) : 0;
    if (n == 0)
        return cnp_err(CNP_E_ARG, "%s: empty", what);
    if (n > max_bytes)
        return cnp_err(CNP_E_ARG, "%s: %zu bytes, at most %zu allowed", what, n, max_bytes);
    if (s[0] == ' ' || s[n - 1] == ' ')
        return cnp_err(CNP_E_ARG, "%s: leading or trailing space", what);
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len;
        const uint32_t cp = utf8_next(p + i, &len);
        if (len == 0)
            return cnp_err(CNP_E_ARG, "%s: not valid UTF-8 at byte %zu", what, i + 1);
        const char *why = forbidden(cp);
        if (why)
            return cnp_err(CNP_E_ARG, "%s: %s (U+%04X) at byte %zu; printable text only", what,
                           why, (unsigned)cp, i + 1);
        i += len;
    }
    return CNP_OK;
}

char *cnp_text_printable(const char *s, char *out, size_t size)
{
    static const char repl[] = "\xEF\xBF\xBD";
    size_t o = 0;
    if (size == 0)
        return out;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    for (size_t i = 0; p[i];) {
        size_t len;
        const uint32_t cp = utf8_next(p + i, &len);
        const int ok = len > 0 && !forbidden(cp);
        const size_t n = ok ? len : 3;
        if (o + n >= size)
            break;
        memcpy(out + o, ok ? (const char *)p + i : repl, n);
        o += n;
        i += len > 0 ? len : 1;
    }
    out[o] = '\0';
    return out;
}
