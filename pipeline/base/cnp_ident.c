/* pipeline/base/cnp_ident.c - the identifier validator and the escapers of text
 * from inputs, one per target language.
 *
 * Every escaper walks the text one UTF-8 character at a time (decode()), so
 * they agree on what is a character, what is invalid, and where a string may
 * be cut. Output goes to a `sink`: a stream, or a buffer that takes whole
 * pieces only (an escape or a character is never cut in two).
 */
#include "cnp_ident.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_err.h"

/* ---- UTF-8 ------------------------------------------------------------------ */

/* The code point at p and its length in *len; an invalid byte gives -1 with
 * length 1 (RFC 3629: no overlongs, surrogates or code points past U+10FFFF).
 * A NUL ends every sequence, so reading never passes the terminator. */
static long decode(const unsigned char *p, size_t *len)
{
    const unsigned b = p[0];
    unsigned need;
    long cp, min;

    *len = 1;
    if (b < 0x80)
        return (long)b;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1; cp = b & 0x1F; min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2; cp = b & 0x0F; min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3; cp = b & 0x07; min = 0x10000;
    } else {
        return -1;
    }
    for (unsigned i = 1; i <= need; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *len = need + 1;
    return cp;
}

static const char replacement[] = "\xEF\xBF\xBD";   /* U+FFFD */

/* C1 controls: some terminals act on them (0x9B is a CSI). */
static int is_c1(long cp) { return cp >= 0x80 && cp <= 0x9F; }

/* Characters that reorder what is shown ("Trojan Source"). */
static int is_bidi(long cp)
{
    return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

static int is_nonchar(long cp) { return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE; }

/* ---- output: a stream or a bounded buffer --------------------------------------- */

typedef struct sink {
    FILE  *f;          /* or, when NULL: */
    char  *buf;
    size_t size, n;
    int    full;       /* a piece did not fit: nothing more goes in */
} sink;

static void put(sink *o, const char *s, size_t n)
{
    if (o->f) {
        fwrite(s, 1, n, o->f);
        return;
    }
    if (o->full || o->n + n >= o->size) {
        o->full = 1;
        return;
    }
    memcpy(o->buf + o->n, s, n);
    o->n += n;
    o->buf[o->n] = '\0';
}

static void puts_(sink *o, const char *s) { put(o, s, strlen(s)); }

/* `prefix`, then v as `digits` lowercase hex digits (\x1b, \u202e). */
static void put_hex(sink *o, const char *prefix, unsigned long v, int digits)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[16];
    size_t n = strlen(prefix);
    memcpy(tmp, prefix, n);
    for (int i = digits - 1; i >= 0; i--)
        tmp[n++] = hex[(v >> (4 * i)) & 0xF];
    put(o, tmp, n);
}

static sink buf_sink(char *out, size_t size)
{
    sink o = { NULL, out, size, 0, 0 };
    if (size > 0)
        out[0] = '\0';
    return o;
}

/* ---- identifiers -------------------------------------------------------------- */

static int is_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_ident_char(unsigned char c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == '-';
}

static size_t max_of(cnp_ident_kind kind)
{
    return kind == CNP_IDENT_KEY ? CNP_IDENT_KEY_MAX : CNP_IDENT_ID_MAX;
}

int cnp_ident_valid(cnp_ident_kind kind, const char *s, const char **why)
{
    const char *w = NULL;
    if (!s || !*s)
        w = "is empty";
    else if (strlen(s) > max_of(kind))
        w = "is too long";
    else if (!is_alnum((unsigned char)s[0]))
        w = "does not start with a letter or a digit";
    else
        for (const char *p = s; *p && !w; p++)
            if (!is_ident_char((unsigned char)*p))
                w = "has a character other than letters, digits, '.', '_' and '-'";
    if (why)
        *why = w;
    return w == NULL;
}

cnp_status cnp_ident_check(cnp_ident_kind kind, const char *s, const char *what,
                           const char *input)
{
    const char *why = NULL;
    if (cnp_ident_valid(kind, s, &why))
        return CNP_OK;
    /* The value is shown cut short (a crafted one can be long); cnp_err()
     * makes the message safe for a terminal. */
    return cnp_err(CNP_E_DATA, "%s%s%s '%.160s%s' is refused: it %s; an identifier has 1 to "
                   "%zu letters (A-Z, a-z), digits, '.', '_' or '-' and starts with a letter "
                   "or a digit", input ? input : "", input ? ": " : "",
                   what ? what : "identifier", s ? s : "", s && strlen(s) > 160 ? "..." : "",
                   why, max_of(kind));
}

void cnp_ident_from_name(const char *name, char *out, size_t size)
{
    if (size == 0)
        return;
    const size_t lim = size - 1 < CNP_IDENT_ID_MAX ? size - 1 : CNP_IDENT_ID_MAX;
    size_t n = 0;
    int gap = 0;
    /* '_' counts as "other" too, so ids never hold "__" (the separator of
     * batch pair folders). */
    for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p && n < lim; p++) {
        const int keep = is_alnum(*p) || (n > 0 && (*p == '.' || *p == '-'));
        if (!keep) {
            gap = n > 0;
            continue;
        }
        if (gap) {
            if (n + 1 >= lim)
                break;
            out[n++] = '_';
            gap = 0;
        }
        out[n++] = (char)*p;
    }
    out[n] = '\0';
    if (n == 0)
        snprintf(out, size, "%.*s", (int)lim, "unnamed");
}

cnp_status cnp_ident_footprint_key(const char *name, char *key, size_t size, const char *input)
{
    static const char mgrs[] = "MGRS tile ", wrs[] = "WRS-2 path/row ";
    /* Longer than any key: what does not fit is too long either way. */
    char cand[4 * CNP_IDENT_KEY_MAX], what[200], p[8], r[8];
    int used = 0;
    size_t k = 0;

    snprintf(what, sizeof what, "footprint '%.120s', key", name);
    if (strncmp(name, mgrs, sizeof mgrs - 1) == 0) {
        /* The tile as given, all of it: a crafted one is refused, not cut. */
        snprintf(cand, sizeof cand, "mgrs-%.*s", (int)(sizeof cand - 6), name + sizeof mgrs - 1);
    } else if (sscanf(name, "WRS-2 path/row %7[0-9]/%7[0-9]%n", p, r, &used) == 2 &&
               name[used] == '\0' && strncmp(name, wrs, sizeof wrs - 1) == 0) {
        snprintf(cand, sizeof cand, "wrs2-%s-%s", p, r);
    } else {
        for (const unsigned char *s = (const unsigned char *)name; *s && k + 1 < sizeof cand; s++) {
            if (is_alnum(*s))
                cand[k++] = (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
            else if (k && cand[k - 1] != '-')
                cand[k++] = '-';
        }
        while (k && cand[k - 1] == '-')
            k--;
        cand[k] = '\0';
    }
    cnp_status st = cnp_ident_check(CNP_IDENT_KEY, cand, what, input);
    if (st != CNP_OK)
        return st;
    if (strlen(cand) >= size)
        return cnp_err(CNP_E_ARG, "footprint key buffer too small");
    memcpy(key, cand, strlen(cand) + 1);
    return CNP_OK;
}

/* ---- text: one walker per target language ------------------------------------ */

static void utf8_out(sink *o, const char *s)
{
    size_t len;
    for (const unsigned char *p = (const unsigned char *)s; *p; p += len) {
        const long cp = decode(p, &len);
        if (cp < 0)
            puts_(o, replacement);
        else
            put(o, (const char *)p, len);
    }
}

static void term_out(sink *o, const char *s)
{
    size_t len;
    for (const unsigned char *p = (const unsigned char *)s; *p; p += len) {
        const long cp = decode(p, &len);
        if (cp < 0)
            put_hex(o, "\\x", *p, 2);
        else if (cp == '\n')
            puts_(o, "\\n");
        else if (cp == '\t')
            puts_(o, "\\t");
        else if (cp == '\r')
            puts_(o, "\\r");
        else if (cp < 0x20 || cp == 0x7F)
            put_hex(o, "\\x", (unsigned long)cp, 2);
        else if (is_c1(cp) || is_bidi(cp))
            put_hex(o, "\\u", (unsigned long)cp, 4);
        else
            put(o, (const char *)p, len);
    }
}

/* What free text for the record may not hold; NULL when cp may stay. */
static const char *unprintable(long cp)
{
    if (cp < 0x20 || cp == 0x7F || is_c1(cp))
        return "a control character";
    if (cp == 0x2028 || cp == 0x2029)
        return "a line or paragraph separator";
    if (is_bidi(cp))
        return "a bidirectional control character (it reorders what a reader sees)";
    return NULL;
}

static void printable_out(sink *o, const char *s)
{
    size_t len;
    for (const unsigned char *p = (const unsigned char *)s; *p; p += len) {
        const long cp = decode(p, &len);
        if (cp < 0 || unprintable(cp))
            puts_(o, replacement);
        else
            put(o, (const char *)p, len);
    }
}

/* XML 1.0 and HTML text: the five markup characters as entities; what
 * neither may carry as U+FFFD. */
static void markup_out(sink *o, const char *s)
{
    size_t len;
    for (const unsigned char *p = (const unsigned char *)s; *p; p += len) {
        const long cp = decode(p, &len);
        switch (cp) {
        case '&': puts_(o, "&amp;"); continue;
        case '<': puts_(o, "&lt;"); continue;
        case '>': puts_(o, "&gt;"); continue;
        case '"': puts_(o, "&quot;"); continue;
        case '\'': puts_(o, "&#39;"); continue;
        case '\t': case '\n': case '\r': put(o, (const char *)p, 1); continue;
        default: break;
        }
        if (cp < 0x20 || cp == 0x7F || is_c1(cp) || is_nonchar(cp) || is_bidi(cp))
            puts_(o, replacement);
        else
            put(o, (const char *)p, len);
    }
}

static void json_out(sink *o, const char *s)
{
    size_t len;
    put(o, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p += len) {
        const long cp = decode(p, &len);
        switch (cp) {
        case '"': puts_(o, "\\\""); continue;
        case '\\': puts_(o, "\\\\"); continue;
        case '\b': puts_(o, "\\b"); continue;
        case '\f': puts_(o, "\\f"); continue;
        case '\n': puts_(o, "\\n"); continue;
        case '\r': puts_(o, "\\r"); continue;
        case '\t': puts_(o, "\\t"); continue;
        default: break;
        }
        if (cp < 0)
            puts_(o, replacement);
        else if (cp < 0x20 || cp == 0x7F || is_c1(cp) || is_bidi(cp) || cp == 0x2028 ||
                 cp == 0x2029)
            put_hex(o, "\\u", (unsigned long)cp, 4);
        else
            put(o, (const char *)p, len);
    }
    put(o, "\"", 1);
}

static void csv_out(sink *o, const char *s)
{
    /* OWASP's "CSV injection": what a spreadsheet reads as a formula. */
    const int formula = s[0] && strchr("=+-@\t\r", s[0]) != NULL;
    const int quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    size_t len;

    if (quote)
        put(o, "\"", 1);
    if (formula)
        put(o, "'", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p += len) {
        const long cp = decode(p, &len);
        if (cp == '"')
            puts_(o, "\"\"");
        else if (cp < 0 || ((cp < 0x20 || cp == 0x7F) && cp != '\t' && cp != '\r' && cp != '\n'))
            puts_(o, replacement);
        else
            put(o, (const char *)p, len);
    }
    if (quote)
        put(o, "\"", 1);
}

/* ---- the public functions -------------------------------------------------------- */

int cnp_ident_utf8_valid(const char *s)
{
    size_t len;
    for (const unsigned char *p = (const unsigned char *)s; *p; p += len)
        if (decode(p, &len) < 0)
            return 0;
    return 1;
}

char *cnp_ident_utf8_str(char *out, size_t size, const char *s)
{
    sink o = buf_sink(out, size);
    utf8_out(&o, s ? s : "");
    return out;
}

char *cnp_ident_utf8_dup(const char *s)
{
    s = s ? s : "";
    /* Each invalid byte grows to three. */
    const size_t size = 3 * strlen(s) + 1;
    char *out = malloc(size);
    return out ? cnp_ident_utf8_str(out, size, s) : NULL;
}

cnp_status cnp_ident_text_check(const char *what, const char *s, size_t max_bytes)
{
    const size_t n = s ? strlen(s) : 0;
    if (n == 0)
        return cnp_err(CNP_E_ARG, "%s: empty", what);
    if (n > max_bytes)
        return cnp_err(CNP_E_ARG, "%s: %zu bytes, at most %zu allowed", what, n, max_bytes);
    if (s[0] == ' ' || s[n - 1] == ' ')
        return cnp_err(CNP_E_ARG, "%s: leading or trailing space", what);
    size_t len;
    for (const unsigned char *p = (const unsigned char *)s; *p; p += len) {
        const long cp = decode(p, &len);
        const size_t at = (size_t)(p - (const unsigned char *)s) + 1;
        if (cp < 0)
            return cnp_err(CNP_E_ARG, "%s: not valid UTF-8 at byte %zu", what, at);
        const char *why = unprintable(cp);
        if (why)
            return cnp_err(CNP_E_ARG, "%s: %s (U+%04lX) at byte %zu; printable text only", what,
                           why, (unsigned long)cp, at);
    }
    return CNP_OK;
}

char *cnp_ident_printable(char *out, size_t size, const char *s)
{
    sink o = buf_sink(out, size);
    printable_out(&o, s ? s : "");
    return out;
}

char *cnp_ident_term_str(char *out, size_t size, const char *s)
{
    sink o = buf_sink(out, size);
    term_out(&o, s ? s : "");
    return out;
}

void cnp_ident_write_term(FILE *f, const char *s)
{
    sink o = { f, NULL, 0, 0, 0 };
    term_out(&o, s ? s : "");
}

void cnp_ident_term_line(FILE *f, const char *fmt, ...)
{
    char *buf = NULL;
    va_list ap;
    va_start(ap, fmt);
    const int n = vasprintf(&buf, fmt, ap);
    va_end(ap);
    if (n >= 0)
        cnp_ident_write_term(f, buf);
    free(buf);
    fputc('\n', f);
}

void cnp_ident_write_csv(FILE *f, const char *s)
{
    sink o = { f, NULL, 0, 0, 0 };
    csv_out(&o, s ? s : "");
}

void cnp_ident_write_xml(FILE *f, const char *s)
{
    sink o = { f, NULL, 0, 0, 0 };
    markup_out(&o, s ? s : "");
}

void cnp_ident_write_html(FILE *f, const char *s)
{
    sink o = { f, NULL, 0, 0, 0 };
    markup_out(&o, s ? s : "");
}

void cnp_ident_write_json(FILE *f, const char *s)
{
    sink o = { f, NULL, 0, 0, 0 };
    json_out(&o, s ? s : "");
}
