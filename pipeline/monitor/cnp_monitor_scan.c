/* pipeline/monitor/cnp_monitor_scan.c - what `canopy monitor`'s INPUT paths
 * hold, by the one input discovery batch uses too (io/cnp_discover.h).
 *
 * A scene becomes an input; an input discovery could not use ("failed") is
 * kept with its reason, so that the state records it and does not try it
 * again while it is unchanged; inputs it ignored (not scenes, no date,
 * duplicates) are not inputs. A product's footprint gives the key
 * (base/cnp_footprint.h); a raster's footprint is the grid it overlaps
 * (cnp_monitor_step.c), keyed the same way when it is new.
 */
#include "cnp_monitor_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cnp_discover.h"
#include "cnp_err.h"
#include "cnp_ident.h"

static const char *base_of(const char *p)
{
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    const char *s = p + n;
    while (s > p && s[-1] != '/')
        s--;
    return s;
}

/* Copy with truncation (no format: gcc's truncation warnings do not apply). */
static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= size)
        n = size - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

void mon_inputs_free(mon_inputs *in)
{
    if (!in)
        return;
    for (size_t i = 0; i < in->n; i++) {
        free(in->v[i].path);
        free(in->v[i].mask);
        free(in->v[i].error);
    }
    free(in->v);
    memset(in, 0, sizeof *in);
}

static cnp_status push(mon_inputs *in, mon_input **out)
{
    if (in->n == in->cap) {
        const size_t cap = in->cap ? 2 * in->cap : 32;
        mon_input *p = realloc(in->v, cap * sizeof *p);
        if (!p)
            return cnp_err(CNP_E_NOMEM, "out of memory");
        in->v = p;
        in->cap = cap;
    }
    *out = &in->v[in->n++];
    memset(*out, 0, sizeof **out);
    return CNP_OK;
}

static void signature_of(const char *path, char *out, size_t size)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        copy_str(out, size, "");
        return;
    }
    snprintf(out, size, "%lld:%lld.%09ld", (long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
             sb.st_mtim.tv_nsec);
}

/* The input's id names it in the state, the database and the log: it must be
 * an identifier (base/cnp_ident), else the input is refused. A refused id is
 * still recorded (so the input is not retried while unchanged) as valid
 * UTF-8, which every place it goes to then escapes. */
static void check_id(mon_input *x)
{
    if (!x->error && cnp_ident_check(CNP_IDENT_ID, x->id, x->is_product ? "product id"
                                     : "scene id (the file name)", x->path) != CNP_OK)
        x->error = strdup(cnp_err_msg());
    if (!cnp_ident_utf8_valid(x->id)) {
        char id[MON_SCENE_LEN];
        cnp_ident_utf8_str(id, sizeof id, x->id);
        copy_str(x->id, sizeof x->id, id);
    }
}

static cnp_status take_scene(mon_inputs *out, cnp_discover_scene *s)
{
    mon_input *x = NULL;
    cnp_status st = push(out, &x);
    if (st != CNP_OK)
        return st;
    x->path = s->path;
    x->mask = s->mask;
    s->path = s->mask = NULL;                       /* moved */
    x->is_product = s->is_product;
    copy_str(x->id, sizeof x->id, s->id);
    copy_str(x->date, sizeof x->date, s->date);
    if (strcmp(s->date_source, "file name") == 0)
        copy_str(x->date_option, sizeof x->date_option, s->date);
    /* A raster's footprint is the grid it overlaps, found when it is applied. */
    if (s->fp_name[0]) {
        copy_str(x->fp_name, sizeof x->fp_name, s->fp_name);
        copy_str(x->fp_key, sizeof x->fp_key, s->fp_key);
    }
    copy_str(x->product, sizeof x->product, s->product);
    copy_str(x->format, sizeof x->format, s->format);
    signature_of(x->path, x->signature, sizeof x->signature);
    check_id(x);
    return CNP_OK;
}

static cnp_status take_failed(mon_inputs *out, cnp_discover_item *it)
{
    mon_input *x = NULL;
    cnp_status st = push(out, &x);
    if (st != CNP_OK)
        return st;
    x->path = it->path;
    x->error = it->reason;
    it->path = it->reason = NULL;                   /* moved */
    copy_str(x->id, sizeof x->id, base_of(x->path));
    signature_of(x->path, x->signature, sizeof x->signature);
    check_id(x);
    return CNP_OK;
}

/* Rasters and failed inputs are named by their file stem; two in different
 * folders with one stem (placeA/scene_20240615.tif, placeB/scene_20240615.tif)
 * would be one input to the state, and the second never applied. Each of a clashing set
 * gets its folder's name in front, as batch names them. Decided before any
 * is renamed; the bare stem is kept (old_id), so a state that applied the
 * file under it does not apply it again. */
static cnp_status unique_raster_ids(mon_inputs *in)
{
    unsigned char *dup = calloc(in->n + 1, 1);
    if (!dup)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    for (size_t i = 0; i < in->n; i++)
        for (size_t j = 0; j < in->n && !in->v[i].is_product; j++)
            dup[i] |= j != i && strcmp(in->v[i].id, in->v[j].id) == 0;
    for (size_t i = 0; i < in->n; i++) {
        mon_input *x = &in->v[i];
        /* Failed inputs too (five STAC items all called item.json): each is
         * recorded under its own id, so none is retried while unchanged. */
        if (!dup[i] || x->is_product)
            continue;
        char parent[PATH_MAX], clean[MON_SCENE_LEN], id[MON_SCENE_LEN];
        copy_str(parent, sizeof parent, x->path);
        char *slash = strrchr(parent, '/');
        if (slash)
            *slash = '\0';
        cnp_ident_from_name(base_of(parent), clean, sizeof clean);
        snprintf(id, sizeof id, "%.59s_%.60s", clean, x->id);
        copy_str(x->old_id, sizeof x->old_id, x->id);
        copy_str(x->id, sizeof x->id, id);
        check_id(x);
    }
    free(dup);
    return CNP_OK;
}

static int cmp_input(const void *a, const void *b)
{
    const mon_input *x = a, *y = b;
    const int c = strcmp(x->date, y->date);
    if (c)
        return c;
    const int d = strcmp(x->id, y->id);
    return d ? d : strcmp(x->path, y->path);
}

cnp_status mon_scan(char *const *paths, int npaths, const cnp_settings *s, const char *skip_dir,
                    cnp_product_session *products, mon_inputs *out)
{
    cnp_discovery found;
    memset(out, 0, sizeof *out);
    /* An INPUT that is not there is the run's error (a mount that is
     * missing), not a failed input to remember. */
    for (int i = 0; i < npaths; i++) {
        struct stat sb;
        if (!strstr(paths[i], "://") && strncmp(paths[i], "/vsi", 4) != 0 &&
            stat(paths[i], &sb) != 0)
            return cnp_err(CNP_E_IO, "input '%s': %s", paths[i], strerror(errno));
    }
    const cnp_discover_opts o = { s, skip_dir, NULL, "monitor", products };
    cnp_status st = cnp_discover(paths, (size_t)(npaths > 0 ? npaths : 0), &o, &found);
    if (st != CNP_OK)
        return st;
    for (size_t i = 0; i < found.nscene && st == CNP_OK; i++)
        st = take_scene(out, &found.scene[i]);
    for (size_t i = 0; i < found.nitem && st == CNP_OK; i++)
        if (strcmp(found.item[i].status, "failed") == 0)
            st = take_failed(out, &found.item[i]);
    cnp_discovery_free(&found);
    if (st == CNP_OK)
        st = unique_raster_ids(out);
    if (st != CNP_OK) {
        mon_inputs_free(out);
        return st;
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, cmp_input);
    return CNP_OK;
}
