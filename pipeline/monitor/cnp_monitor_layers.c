/* pipeline/monitor/cnp_monitor_layers.c - the context layers a state is made
 * with: their names and rules in its settings ([context]), their contents in
 * state.json's context_layers: the SHA-256 of each file GDAL reads for them,
 * found and hashed by run/cnp_inputs.c as detect's run.json lists them.
 * Zones are neither: they name alerts, measured again when an alert is
 * traced, and judge no pixel.
 */
#include "cnp_monitor_cmd.h"
#include "cnp_monitor_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>
#include <omp.h>

#include "cnp_err.h"
#include "cnp_inputs.h"

typedef cnp_monitor_opts mon_opts;

/* A path as the state records it: absolute, so that a run from another
 * folder names the same file. */
static void ini_path(FILE *m, const char *key, const char *path)
{
    char *abs = realpath(path, NULL);
    fprintf(m, "%s = %s\n", key, abs ? abs : path);
    free(abs);
}

static void ini_list(FILE *m, const char *key, const int *v, int n)
{
    fprintf(m, "%s = ", key);
    for (int i = 0; i < n; i++)
        fprintf(m, "%s%d", i ? "," : "", v[i]);
    fputc('\n', m);
}

/* The context layers a state is made with (none: nothing, as states written
 * before them): a pixel a mask rules out never triggered, so another mask
 * would judge the state by rules it was not made with. */
void mon_context_ini(const mon_opts *o, FILE *m)
{
    const cnp_ctxmask_spec *x = &o->ctx;
    if (!x->forest && !x->exclude && !o->aoi)
        return;
    fputs("\n[context]\n", m);
    if (x->forest) {
        ini_path(m, "forest_mask", x->forest);
        if (x->nforest_classes)
            ini_list(m, "forest_classes", x->forest_classes, x->nforest_classes);
        else
            fprintf(m, "forest_min = %.17g\n", x->forest_min);
    }
    if (x->exclude) {
        ini_path(m, "exclude", x->exclude);
        if (x->nexclude_classes)
            ini_list(m, "exclude_classes", x->exclude_classes, x->nexclude_classes);
        else if (x->exclude_last_year)
            fprintf(m, "exclude_loss_years = 1-%d\n", x->exclude_last_year);
    }
    if (o->aoi)
        ini_path(m, "aoi", o->aoi);
}

/* The run's context layers in its log line: the [context] lines of its
 * settings, "; " between them. */
void mon_log_context(mon_log *l, const char *ini)
{
    const char *p = strstr(ini, "\n[context]\n");
    if (!p)
        return;
    char line[2048];
    size_t k = 0;
    for (p += 11; *p && k + 3 < sizeof line; p++) {
        if (*p != '\n') {
            line[k++] = *p;
        } else if (p[1]) {
            line[k++] = ';';
            line[k++] = ' ';
        }
    }
    line[k] = '\0';
    mon_log_str(l, "context", line);
}

/* One file of a layer as the state records it. */
static json_object *layer_entry(const cnp_input_file *f)
{
    json_object *e = json_object_new_object();
    char *u = cnp_ident_utf8_valid(f->path) ? NULL : cnp_ident_utf8_dup(f->path);
    json_object_object_add(e, "role", json_object_new_string(f->role));
    json_object_object_add(e, "path", json_object_new_string(u ? u : f->path));
    json_object_object_add(e, "sha256", json_object_new_string(f->sha256));
    free(u);
    return e;
}

/* This run's layers and the files GDAL reads with them, hashed side by side
 * (a FILE:LAYER or a /vsi path is recorded as given, unhashed, as in
 * run.json): [{role, path, sha256}] into *out. */
static cnp_status hash_layers(const mon_opts *o, json_object **out)
{
    const char *role[3] = { "forest_mask", "exclude", "aoi" };
    const char *given[3] = { o->ctx.forest, o->ctx.exclude, o->aoi };
    char *abs[3] = { NULL, NULL, NULL };
    cnp_inputs *h = calloc(1, sizeof *h);
    cnp_status st = h ? CNP_OK : cnp_err(CNP_E_NOMEM, "out of memory");
    for (int i = 0; i < 3 && h; i++)
        if (given[i]) {
            abs[i] = realpath(given[i], NULL);      /* as the settings name it */
            cnp_inputs_add_layer(h, role[i], abs[i] ? abs[i] : given[i]);
        }
    if (h && (st = cnp_inputs_start(h, o->s.threads > 0 ? o->s.threads
                                                        : omp_get_num_procs())) == CNP_OK) {
        cnp_inputs_finish(h);
        if ((st = h->st) != CNP_OK)
            cnp_err(st, "%s", h->msg);
    }
    *out = NULL;
    if (st == CNP_OK) {
        *out = json_object_new_array();
        for (int i = 0; i < h->n; i++)
            json_object_array_add(*out, layer_entry(&h->in[i]));
    }
    if (h)
        cnp_inputs_free(h);
    free(h);
    for (int i = 0; i < 3; i++)
        free(abs[i]);
    return st;
}

static const char *entry_str(json_object *e, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(e, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v) : "";
}

/* The entry of `arr` for the same file as `e` (a raster may have two side
 * files with one extension, so the role alone does not tell). */
static json_object *find_file(json_object *arr, json_object *e)
{
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *x = json_object_array_get_idx(arr, i);
        if (strcmp(entry_str(x, "role"), entry_str(e, "role")) == 0 &&
            strcmp(entry_str(x, "path"), entry_str(e, "path")) == 0)
            return x;
    }
    return NULL;
}

/* "--forest-mask", or "--aoi's .dbf" for a file read with the layer. */
static void role_words(const char *role, char *out, size_t size)
{
    static const char *const opt[][2] = { { "forest_mask", "--forest-mask" },
                                          { "exclude", "--exclude" }, { "aoi", "--aoi" } };
    const size_t k = strcspn(role, ":");
    const char *name = role;
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++)
        if (strlen(opt[i][0]) == k && strncmp(role, opt[i][0], k) == 0)
            name = opt[i][1];
    if (role[k])
        snprintf(out, size, "%.*s's .%s", (int)(name == role ? k : strlen(name)), name,
                 role + k + 1);
    else
        snprintf(out, size, "%s", name);
}

/* The first file of this run's layers (`now`) whose contents are not the
 * state's (`was`), in words; 0 when none. */
static int layers_differ(json_object *now, json_object *was, char *why, size_t size)
{
    char what[96];
    for (size_t i = 0; i < json_object_array_length(now); i++) {
        json_object *e = json_object_array_get_idx(now, i);
        json_object *w = find_file(was, e);
        role_words(entry_str(e, "role"), what, sizeof what);
        if (!w) {
            snprintf(why, size, "%s '%s' was not there when the state was made", what,
                     entry_str(e, "path"));
            return 1;
        }
        if (strcmp(entry_str(e, "sha256"), entry_str(w, "sha256")) != 0) {
            snprintf(why, size, "%s '%s' has other contents (SHA-256 %.12s... here, %.12s... "
                     "in the state)", what, entry_str(e, "path"), entry_str(e, "sha256"),
                     entry_str(w, "sha256"));
            return 1;
        }
    }
    for (size_t i = 0; i < json_object_array_length(was); i++) {
        json_object *w = json_object_array_get_idx(was, i);
        if (!find_file(now, w)) {
            role_words(entry_str(w, "role"), what, sizeof what);
            snprintf(why, size, "%s '%s' of the state is gone", what, entry_str(w, "path"));
            return 1;
        }
    }
    return 0;
}

cnp_status mon_layers_check(const cnp_monitor_opts *o, mon_state *st, mon_log *l)
{
    json_object *now = NULL;
    char why[2048];
    cnp_status s = hash_layers(o, &now);
    if (s != CNP_OK)
        return s;
    if (st->layers) {
        const int differ = layers_differ(now, st->layers, why, sizeof why);
        json_object_put(now);
        if (!differ)
            return CNP_OK;
        return cnp_err(CNP_E_CONFIG, "the state in '%s' was made with other layer contents: %s; "
                       "a state keeps the layers it started with: put the file back, or use a new "
                       "--state folder for a new layer", o->state_dir, why);
    }
    /* Made before the contents were recorded: from the next generation on. */
    if (st->generation > 0 && json_object_array_length(now) > 0)
        mon_log_str(l, "layers_recorded", "the state was written by an earlier version, which "
                    "did not record its layers' contents: the next generation records their "
                    "SHA-256, and a layer replaced after that is refused");
    st->layers = now;
    return CNP_OK;
}
