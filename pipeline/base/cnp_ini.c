/* pipeline/base/cnp_ini.c - bounded INI reading around inih. */
#include "cnp_ini.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "cnp_err.h"

int cnp_ini_max_line(void)
{
    /* fgets semantics: the buffer holds the line, its '\n' and the NUL. */
    return INI_MAX_LINE - 2;
}

cnp_status cnp_ini_read(const char *path, const char *what, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cnp_err(CNP_E_CONFIG, "cannot open %s '%s': %s", what, path, strerror(errno));
    /* Read up to one byte past the limit, which tells "at the limit" from
     * "over it" without trusting a size that a device or a FIFO does not
     * have; the buffer grows with what comes (a profile is a few KB). */
    size_t cap = 0, n = 0;
    char *buf = NULL;
    cnp_status st = CNP_OK;
    for (;;) {
        if (n + 1 >= cap) {
            size_t ncap = cap ? 2 * cap : 16384;
            if (ncap > CNP_INI_MAX_BYTES + 2)
                ncap = CNP_INI_MAX_BYTES + 2;
            char *p = realloc(buf, ncap);
            if (!p) {
                st = cnp_err(CNP_E_NOMEM, "out of memory reading %s '%s'", what, path);
                break;
            }
            buf = p;
            cap = ncap;
        }
        const size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (n > CNP_INI_MAX_BYTES) {
            st = cnp_err(CNP_E_CONFIG, "%s '%s' is larger than %d bytes: not a settings file "
                         "(limit of INI files)", what, path, CNP_INI_MAX_BYTES);
            break;
        }
        if (got == 0) {
            if (ferror(f))
                st = cnp_err(CNP_E_CONFIG, "cannot read %s '%s'", what, path);
            break;
        }
    }
    fclose(f);
    if (st != CNP_OK) {
        free(buf);
        return st;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return CNP_OK;
}

typedef struct ini_src {
    const char      *p, *end;
    const char      *name;
    cnp_ini_entry_fn entry;
    void            *user;
    int              line;       /* lines handed to inih so far           */
    int              keys;
    int              long_line;  /* the line that did not fit, or 0       */
    int              stop_line;  /* the line whose callback failed, or 0  */
    int              max_line;
    cnp_status       stop;
} ini_src;

/* inih's reader: one line of the text per call. A line that does not fit
 * inih's buffer stops the parse instead of being split. */
static char *next_line(char *str, int num, void *stream)
{
    ini_src *s = stream;
    if (s->p >= s->end || s->long_line || s->stop_line)
        return NULL;
    const size_t left = (size_t)(s->end - s->p);
    const char *nl = memchr(s->p, '\n', left);
    const size_t body = nl ? (size_t)(nl - s->p) : left;
    s->line++;
    s->max_line = num - 2;
    if (num < 3 || body > (size_t)(num - 2)) {
        s->long_line = s->line;
        return NULL;
    }
    const size_t take = body + (nl ? 1 : 0);
    memcpy(str, s->p, take);
    str[take] = '\0';
    s->p += take;
    return str;
}

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
    ini_src *s = user;
    if (s->stop_line)
        return 0;
    if (++s->keys > CNP_INI_MAX_KEYS) {
        s->stop = cnp_err(CNP_E_CONFIG, "%s:%d: more than %d keys (limit of INI files)", s->name,
                          s->line, CNP_INI_MAX_KEYS);
        s->stop_line = s->line;
        return 0;
    }
    const cnp_status st = s->entry(s->user, section, key, value, s->line);
    if (st != CNP_OK) {
        s->stop = st;
        s->stop_line = s->line;
        return 0;
    }
    return 1;
}

cnp_status cnp_ini_parse(const char *text, size_t len, const char *name, cnp_ini_entry_fn entry,
                         void *user)
{
    ini_src s = { text, text + len, name, entry, user, 0, 0, 0, 0, 0, CNP_OK };
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        /* Parse only what precedes it: an earlier problem is still reported first. */
        s.end = nul;
    }
    const int rc = ini_parse_stream(next_line, &s, on_entry, &s);
    if (rc == -2)
        return cnp_err(CNP_E_NOMEM, "out of memory reading '%s'", name);
    /* inih's rc is its first bad line (a syntax error or a refused key). */
    if (rc > 0 && (!s.stop_line || rc < s.stop_line) && (!s.long_line || rc < s.long_line))
        return cnp_err(CNP_E_CONFIG, "%s:%d: syntax error (expected [section] or key = value)",
                       name, rc);
    if (s.stop_line)
        return s.stop;
    if (s.long_line)
        return cnp_err(CNP_E_CONFIG, "%s:%d: line longer than %d characters (limit of INI "
                       "files)", name, s.long_line, s.max_line);
    if (nul) {
        int line = 1;
        for (const char *q = text; q < nul; q++)
            line += *q == '\n';
        return cnp_err(CNP_E_CONFIG, "%s:%d: a NUL byte: not a text file", name, line);
    }
    return CNP_OK;
}
