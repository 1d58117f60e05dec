/* pipeline/batch/cnp_batch_context.c - a batch's context layers
 * (cnp_batch_context.h). */
#include "cnp_batch_context.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnp_err.h"

/* A copy of `s`; a file that exists, absolute. NULL stays NULL. */
static char *keep(const char *s, int *nomem)
{
    struct stat st;
    char cwd[PATH_MAX], *out = NULL;
    if (!s)
        return NULL;
    if (s[0] != '/' && stat(s, &st) == 0 && getcwd(cwd, sizeof cwd)) {
        if (asprintf(&out, "%s/%s", cwd, s) < 0)
            out = NULL;
    } else {
        out = strdup(s);
    }
    *nomem |= !out;
    return out;
}

static void link_rules(cnp_batch_context *c)
{
    c->rules.forest = c->forest;
    c->rules.exclude = c->exclude;
}

cnp_status cnp_batch_context_set(cnp_batch_context *c, const char *const *zones, size_t nzones,
                                 const char *zone_field, const cnp_ctxmask_spec *rules,
                                 const char *aoi)
{
    int nomem = 0;
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < nzones && i < CNP_BATCH_MAX_ZONES; i++)
        c->zones[c->nzones++] = keep(zones[i], &nomem);
    c->zone_field = keep(zone_field, &nomem);
    c->aoi = keep(aoi, &nomem);
    c->rules = *rules;
    c->forest = keep(rules->forest, &nomem);
    c->exclude = keep(rules->exclude, &nomem);
    link_rules(c);
    return nomem ? cnp_err(CNP_E_NOMEM, "out of memory") : CNP_OK;
}

void cnp_batch_context_free(cnp_batch_context *c)
{
    for (size_t i = 0; i < c->nzones; i++)
        free(c->zones[i]);
    free(c->zone_field);
    free(c->aoi);
    free(c->forest);
    free(c->exclude);
    memset(c, 0, sizeof *c);
}

void cnp_batch_context_job(const cnp_batch_context *c, cnp_job *job)
{
    job->zones = (const char *const *)c->zones;
    job->nzones = c->nzones;
    job->zone_field = c->zone_field;
    job->ctx = c->rules;
    job->aoi = c->aoi;
}

static int given(const cnp_batch_context *c)
{
    return c->nzones || c->forest || c->exclude || c->aoi;
}

void cnp_batch_context_write(cnp_json *j, const cnp_batch_context *c)
{
    const cnp_ctxmask_spec *r = &c->rules;
    if (!given(c))
        return;
    cnp_json_object(j, "context");
    cnp_json_array(j, "zones");
    for (size_t i = 0; i < c->nzones; i++)
        cnp_json_str(j, NULL, c->zones[i]);
    cnp_json_close(j, ']');
    cnp_json_str(j, "zone_field", c->zone_field);
    cnp_json_str(j, "forest_mask", c->forest);
    cnp_json_num(j, "forest_min", r->forest_min);
    cnp_json_array(j, "forest_classes");
    for (int i = 0; i < r->nforest_classes; i++)
        cnp_json_int(j, NULL, r->forest_classes[i]);
    cnp_json_close(j, ']');
    cnp_json_str(j, "exclude", c->exclude);
    cnp_json_array(j, "exclude_classes");
    for (int i = 0; i < r->nexclude_classes; i++)
        cnp_json_int(j, NULL, r->exclude_classes[i]);
    cnp_json_close(j, ']');
    cnp_json_int(j, "exclude_last_year", r->exclude_last_year);
    cnp_json_str(j, "aoi", c->aoi);
    cnp_json_close(j, '}');
}

static const char *str(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static json_object *arr(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
        return NULL;
    return v;
}

static int ints(json_object *a, int *out)
{
    int n = 0;
    for (size_t i = 0; a && i < json_object_array_length(a) && n < CNP_CTX_MAX_CLASSES; i++)
        out[n++] = json_object_get_int(json_object_array_get_idx(a, i));
    return n;
}

cnp_status cnp_batch_context_read(json_object *root, cnp_batch_context *c)
{
    json_object *o = NULL, *v = NULL;
    int nomem = 0;
    memset(c, 0, sizeof *c);
    if (!json_object_object_get_ex(root, "context", &o) || !json_object_is_type(o, json_type_object))
        return CNP_OK;
    json_object *z = arr(o, "zones");
    for (size_t i = 0; z && i < json_object_array_length(z) && i < CNP_BATCH_MAX_ZONES; i++)
        c->zones[c->nzones++] = keep(json_object_get_string(json_object_array_get_idx(z, i)), &nomem);
    c->zone_field = keep(str(o, "zone_field"), &nomem);
    c->forest = keep(str(o, "forest_mask"), &nomem);
    c->exclude = keep(str(o, "exclude"), &nomem);
    c->aoi = keep(str(o, "aoi"), &nomem);
    if (json_object_object_get_ex(o, "forest_min", &v))
        c->rules.forest_min = json_object_get_double(v);
    c->rules.nforest_classes = ints(arr(o, "forest_classes"), c->rules.forest_classes);
    c->rules.nexclude_classes = ints(arr(o, "exclude_classes"), c->rules.exclude_classes);
    if (json_object_object_get_ex(o, "exclude_last_year", &v))
        c->rules.exclude_last_year = json_object_get_int(v);
    link_rules(c);
    return nomem ? cnp_err(CNP_E_NOMEM, "out of memory") : CNP_OK;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int same_ints(json_object *a, const int *v, int n)
{
    if ((a ? (int)json_object_array_length(a) : 0) != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (json_object_get_int(json_object_array_get_idx(a, (size_t)i)) != v[i])
            return 0;
    return 1;
}

static json_object *obj(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
        return NULL;
    return v;
}

int cnp_batch_context_same(json_object *run, const cnp_batch_context *c)
{
    json_object *ctx = obj(run, "context");
    json_object *z = obj(ctx, "zones"), *f = obj(ctx, "forest_mask"), *x = obj(ctx, "exclude");
    json_object *layers = arr(z, "layers"), *v = NULL;
    const cnp_ctxmask_spec *r = &c->rules;
    if ((layers ? json_object_array_length(layers) : 0) != c->nzones)
        return 0;
    for (size_t i = 0; i < c->nzones; i++)
        if (!same_str(json_object_get_string(json_object_array_get_idx(layers, i)), c->zones[i]))
            return 0;
    if (!same_str(str(z, "field"), c->zone_field) || !same_str(str(f, "path"), c->forest) ||
        !same_str(str(x, "path"), c->exclude) || !same_str(str(obj(ctx, "aoi"), "path"), c->aoi))
        return 0;
    if (c->forest && (r->nforest_classes ? !same_ints(arr(f, "classes"), r->forest_classes,
                                                      r->nforest_classes)
                                         : !json_object_object_get_ex(f, "min", &v) ||
                                           json_object_get_double(v) != r->forest_min))
        return 0;
    if (c->exclude && !same_ints(arr(x, "classes"), r->exclude_classes, r->nexclude_classes))
        return 0;
    json_object *ly = NULL;
    const int years = x && json_object_object_get_ex(x, "loss_years_through", &ly)
                          ? json_object_get_int(ly) - 2000 : 0;
    return !c->exclude || years == r->exclude_last_year;
}
