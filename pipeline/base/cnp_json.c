/* pipeline/base/cnp_json.c - streaming JSON writer. */
#include "cnp_json.h"

#include <math.h>

#include "cnp_ident.h"

/* Through the one JSON escaper (base/cnp_ident): names and ids from inputs
 * may hold anything, and run.json must stay valid UTF-8 JSON. */
void cnp_json_escape(FILE *f, const char *s)
{
    cnp_ident_write_json(f, s);
}

static void key(cnp_json *j, const char *k)
{
    if (j->need_comma[j->depth])
        fputc(',', j->f);
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->f);
    if (k) {
        cnp_json_escape(j->f, k);
        fputs(": ", j->f);
    }
    j->need_comma[j->depth] = 1;
}

void cnp_json_begin(cnp_json *j, FILE *f)
{
    j->f = f;
    j->depth = 0;
    fputc('{', f);
    j->depth = 1;
    j->need_comma[1] = 0;
}

void cnp_json_end(cnp_json *j)
{
    cnp_json_close(j, '}');
    fputc('\n', j->f);
}

static void open_(cnp_json *j, const char *k, char bracket)
{
    key(j, k);
    fputc(bracket, j->f);
    if (j->depth < 31)
        j->depth++;
    j->need_comma[j->depth] = 0;
}

void cnp_json_object(cnp_json *j, const char *k) { open_(j, k, '{'); }
void cnp_json_array(cnp_json *j, const char *k) { open_(j, k, '['); }

void cnp_json_close(cnp_json *j, char bracket)
{
    const int had = j->need_comma[j->depth];
    if (j->depth > 0)
        j->depth--;
    if (had) {
        fputc('\n', j->f);
        for (int i = 0; i < j->depth; i++)
            fputs("  ", j->f);
    }
    fputc(bracket, j->f);
}

void cnp_json_str(cnp_json *j, const char *k, const char *v)
{
    key(j, k);
    if (v)
        cnp_json_escape(j->f, v);
    else
        fputs("null", j->f);
}

void cnp_json_int(cnp_json *j, const char *k, int64_t v)
{
    key(j, k);
    fprintf(j->f, "%lld", (long long)v);
}

void cnp_json_num(cnp_json *j, const char *k, double v)
{
    key(j, k);
    if (isfinite(v))
        fprintf(j->f, "%.10g", v);
    else
        fputs("null", j->f);
}

void cnp_json_bool(cnp_json *j, const char *k, int v)
{
    key(j, k);
    fputs(v ? "true" : "false", j->f);
}
