/* pipeline/monitor/cnp_monitor_state.c - the monitor's state generations on disk.
 *
 * A generation is a folder written in full under a temporary name, every file
 * fsync'd, then renamed into place; DIR/CURRENT (also replaced by rename)
 * names the generation in force. Readers only ever see complete generations.
 * state.json holds the settings, the footprints with their alerts and every
 * input seen; outbox.json what the generation writes to the database.
 */
#include "cnp_monitor_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json.h>

#include "cnp_err.h"
#include "cnp_ident.h"
#include "cnp_tilestore.h"

/* ---- small helpers ------------------------------------------------------ */

/* CANOPY_MONITOR_PAUSE_AT="name=FILE": at `name`, create FILE.reached and
 * wait (up to two minutes) for FILE to exist. */
static void pause_point(const char *name)
{
    const char *env = getenv("CANOPY_MONITOR_PAUSE_AT");
    const char *eq = env ? strchr(env, '=') : NULL;
    if (!eq || strlen(name) != (size_t)(eq - env) || strncmp(env, name, strlen(name)) != 0)
        return;
    char reached[4200];
    snprintf(reached, sizeof reached, "%s.reached", eq + 1);
    const int fd = open(reached, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd >= 0)
        close(fd);
    for (int i = 0; i < 1200 && access(eq + 1, F_OK) != 0; i++)
        nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
}

void mon_crash_point(const char *name)
{
    static int hits;
    pause_point(name);
    const char *env = getenv("CANOPY_MONITOR_CRASH_AT");
    if (!env || !*env)
        return;
    const char *colon = strchr(env, ':');
    const size_t len = colon ? (size_t)(colon - env) : strlen(env);
    if (strlen(name) != len || strncmp(env, name, len) != 0)
        return;
    const int k = colon ? atoi(colon + 1) : 1;
    if (++hits >= (k > 0 ? k : 1)) {
        fflush(NULL);
        raise(SIGKILL);
    }
}

static char *xstrdup(const char *s) { return strdup(s ? s : ""); }

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

static cnp_status grow(void **p, size_t *cap, size_t need, size_t elem)
{
    return cnp_grow(p, cap, need, elem, "monitor state");
}

/* ---- state objects -------------------------------------------------------- */

void mon_seen_free(mon_seen *r)
{
    if (!r)
        return;
    free(r->id); free(r->path); free(r->footprint); free(r->date);
    free(r->status); free(r->reason); free(r->signature); free(r->product);
    memset(r, 0, sizeof *r);
}

cnp_status mon_seen_set(mon_seen *d, const char *id, const char *path, const char *footprint,
                        const char *date, const char *status, const char *reason,
                        const char *signature, const char *product)
{
    d->id = xstrdup(id);
    d->path = xstrdup(path);
    d->footprint = xstrdup(footprint);
    d->date = xstrdup(date);
    d->status = xstrdup(status);
    d->reason = xstrdup(reason);
    d->signature = xstrdup(signature);
    d->product = xstrdup(product);
    if (!d->id || !d->path || !d->footprint || !d->date || !d->status || !d->reason ||
        !d->signature || !d->product) {
        mon_seen_free(d);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    return CNP_OK;
}

cnp_status mon_seen_copy(mon_seen *d, const mon_seen *s)
{
    return mon_seen_set(d, s->id, s->path, s->footprint, s->date, s->status, s->reason,
                        s->signature, s->product);
}

static void fp_free(mon_fp *fp)
{
    for (size_t i = 0; i < fp->nalerts; i++) {
        free(fp->alerts[i].geom_hex);
        free(fp->alerts[i].zones);
    }
    free(fp->alerts);
    free(fp->wkt);
    cnp_tilestore_close(&fp->store, 1);
    memset(fp, 0, sizeof *fp);
}

void mon_state_free(mon_state *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nfps; i++)
        fp_free(&s->fps[i]);
    free(s->fps);
    for (size_t i = 0; i < s->nseen; i++)
        mon_seen_free(&s->seen[i]);
    free(s->seen);
    free(s->settings_ini);
    free(s->db);
    if (s->layers)
        json_object_put(s->layers);
    memset(s, 0, sizeof *s);
}

cnp_status mon_state_add_seen(mon_state *s, const mon_seen *r)
{
    cnp_status st = grow((void **)&s->seen, &s->cap_seen, s->nseen + 1, sizeof *s->seen);
    if (st != CNP_OK)
        return st;
    if ((st = mon_seen_copy(&s->seen[s->nseen], r)) != CNP_OK)
        return st;
    s->nseen++;
    return CNP_OK;
}

/* The latest record of `id` (an input failed once may be processed later). */
const mon_seen *mon_state_find_seen(const mon_state *s, const char *id)
{
    for (size_t i = s->nseen; i-- > 0;)
        if (strcmp(s->seen[i].id, id) == 0)
            return &s->seen[i];
    return NULL;
}

mon_fp *mon_state_find_fp(mon_state *s, const char *key)
{
    for (size_t i = 0; i < s->nfps; i++)
        if (strcmp(s->fps[i].key, key) == 0)
            return &s->fps[i];
    return NULL;
}

cnp_status mon_state_add_fp(mon_state *s, mon_fp **out)
{
    cnp_status st = grow((void **)&s->fps, &s->cap_fps, s->nfps + 1, sizeof *s->fps);
    if (st != CNP_OK)
        return st;
    mon_fp *fp = &s->fps[s->nfps++];
    memset(fp, 0, sizeof *fp);
    fp->next_seq = 1;
    *out = fp;
    return CNP_OK;
}

mon_alert *mon_fp_alert(mon_fp *fp, uint32_t seq)
{
    size_t lo = 0, hi = fp->nalerts;
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (fp->alerts[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < fp->nalerts && fp->alerts[lo].seq == seq ? &fp->alerts[lo] : NULL;
}

cnp_status mon_fp_add_alert(mon_fp *fp, uint32_t seq, mon_alert **out)
{
    if (fp->nalerts && fp->alerts[fp->nalerts - 1].seq >= seq)
        return cnp_err(CNP_E_ARG, "alert %u of %s added out of order", seq, fp->key);
    cnp_status st = grow((void **)&fp->alerts, &fp->cap, fp->nalerts + 1, sizeof *fp->alerts);
    if (st != CNP_OK)
        return st;
    mon_alert *a = &fp->alerts[fp->nalerts++];
    memset(a, 0, sizeof *a);
    a->seq = seq;
    snprintf(a->id, sizeof a->id, "%s-%06u", fp->key, seq);
    a->centroid_lon = a->centroid_lat = a->mean_dndvi = NAN;
    *out = a;
    return CNP_OK;
}

mon_alert *mon_state_find_alert(mon_state *s, const char *id)
{
    const char *dash = strrchr(id, '-');
    if (!dash)
        return NULL;
    char key[64];
    const size_t klen = (size_t)(dash - id);
    if (klen >= sizeof key)
        return NULL;
    memcpy(key, id, klen);
    key[klen] = '\0';
    mon_fp *fp = mon_state_find_fp(s, key);
    return fp ? mon_fp_alert(fp, (uint32_t)strtoul(dash + 1, NULL, 10)) : NULL;
}

/* ---- outbox ---------------------------------------------------------------- */

void mon_outbox_free(mon_outbox *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->nscenes; i++)
        mon_seen_free(&o->scenes[i]);
    free(o->scenes);
    free(o->obs);
    free(o->touched);
    free(o->news);
    memset(o, 0, sizeof *o);
}

cnp_status mon_outbox_add_scene(mon_outbox *o, const mon_seen *r)
{
    cnp_status st = grow((void **)&o->scenes, &o->cap_scenes, o->nscenes + 1, sizeof *o->scenes);
    if (st != CNP_OK)
        return st;
    if ((st = mon_seen_copy(&o->scenes[o->nscenes], r)) != CNP_OK)
        return st;
    o->nscenes++;
    return CNP_OK;
}

cnp_status mon_outbox_add_obs(mon_outbox *o, const mon_obs *r)
{
    cnp_status st = grow((void **)&o->obs, &o->cap_obs, o->nobs + 1, sizeof *o->obs);
    if (st != CNP_OK)
        return st;
    o->obs[o->nobs++] = *r;
    return CNP_OK;
}

cnp_status mon_outbox_touch(mon_outbox *o, const char *id)
{
    for (size_t i = 0; i < o->ntouched; i++)
        if (strcmp(o->touched[i], id) == 0)
            return CNP_OK;
    cnp_status st = grow((void **)&o->touched, &o->cap_touched, o->ntouched + 1,
                         sizeof *o->touched);
    if (st != CNP_OK)
        return st;
    copy_str(o->touched[o->ntouched++], MON_ID_LEN, id);
    return CNP_OK;
}

/* One entry per alert: "new", "confirmed" or "new,confirmed". */
cnp_status mon_outbox_add_new(mon_outbox *o, const char *id, const char *change)
{
    for (size_t i = 0; i < o->nnews; i++) {
        if (strcmp(o->news[i].id, id) != 0)
            continue;
        if (!strstr(o->news[i].change, change)) {
            char buf[80];
            copy_str(buf, 40, o->news[i].change);
            strcat(buf, ",");
            strncat(buf, change, 30);
            copy_str(o->news[i].change, sizeof o->news[i].change, buf);
        }
        return CNP_OK;
    }
    cnp_status st = grow((void **)&o->news, &o->cap_news, o->nnews + 1, sizeof *o->news);
    if (st != CNP_OK)
        return st;
    copy_str(o->news[o->nnews].id, MON_ID_LEN, id);
    copy_str(o->news[o->nnews].change, sizeof o->news[o->nnews].change, change);
    o->nnews++;
    return CNP_OK;
}

/* ---- JSON files ------------------------------------------------------------ */

/* Write `obj` to path (via path.tmp, fsync, rename). */
static cnp_status write_json(const char *path, json_object *obj)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", tmp, strerror(errno));
    const size_t len = strlen(text);
    int bad = fwrite(text, 1, len, f) != len || fputc('\n', f) == EOF || fflush(f) != 0 ||
              fsync(fileno(f)) != 0;
    const int e = errno;
    bad |= fclose(f) != 0;
    if (bad) {
        unlink(tmp);
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0)
        return cnp_err(CNP_E_IO, "cannot rename '%s': %s", tmp, strerror(errno));
    return CNP_OK;
}

static json_object *read_json(const char *path, cnp_status *st)
{
    json_object *o = json_object_from_file(path);
    *st = o ? CNP_OK : cnp_err(CNP_E_IO, "cannot read '%s': %s", path,
                               json_util_get_last_err() ? json_util_get_last_err() : "bad JSON");
    return o;
}

/* Paths and reasons may hold any bytes: state.json stays valid UTF-8 JSON. */
static void jadd_str(json_object *o, const char *k, const char *v)
{
    if (v && !cnp_ident_utf8_valid(v)) {
        char *u = cnp_ident_utf8_dup(v);
        json_object_object_add(o, k, u ? json_object_new_string(u) : NULL);
        free(u);
        return;
    }
    json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}
static void jadd_date(json_object *o, const char *k, const char *v)
{
    jadd_str(o, k, v && *v ? v : NULL);
}
static void jadd_int(json_object *o, const char *k, int64_t v)
{
    json_object_object_add(o, k, json_object_new_int64(v));
}
static void jadd_num(json_object *o, const char *k, double v)
{
    json_object_object_add(o, k, isfinite(v) ? json_object_new_double(v) : NULL);
}

static const char *jget_str(json_object *o, const char *k)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, k, &v) || !v)
        return "";
    return json_object_get_string(v);
}
static int64_t jget_int(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) && v ? json_object_get_int64(v) : 0;
}
static double jget_num(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) && v ? json_object_get_double(v) : NAN;
}
static json_object *jget_arr(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_array) ? v
                                                                                          : NULL;
}

static json_object *seen_json(const mon_seen *r)
{
    json_object *o = json_object_new_object();
    jadd_str(o, "id", r->id);
    jadd_str(o, "path", r->path);
    jadd_str(o, "footprint", r->footprint);
    jadd_date(o, "date", r->date);
    jadd_str(o, "status", r->status);
    jadd_str(o, "reason", r->reason);
    jadd_str(o, "signature", r->signature);
    jadd_str(o, "product", r->product);
    return o;
}

static cnp_status seen_from_json(json_object *o, mon_seen *r)
{
    return mon_seen_set(r, jget_str(o, "id"), jget_str(o, "path"), jget_str(o, "footprint"),
                        jget_str(o, "date"), jget_str(o, "status"), jget_str(o, "reason"),
                        jget_str(o, "signature"), jget_str(o, "product"));
}

static json_object *alert_json(const mon_alert *a)
{
    json_object *o = json_object_new_object();
    jadd_int(o, "seq", a->seq);
    jadd_str(o, "id", a->id);
    jadd_int(o, "status", a->status);
    jadd_date(o, "first_detected", a->first_detected);
    jadd_date(o, "confirmed_at", a->confirmed_at);
    jadd_date(o, "rejected_at", a->rejected_at);
    jadd_date(o, "last_observed", a->last_observed);
    jadd_str(o, "first_scene", a->first_scene);
    jadd_int(o, "n_observations", a->n_observations);
    jadd_int(o, "pixels", a->pixels);
    jadd_int(o, "probable_pixels", a->probable_pixels);
    jadd_int(o, "confirmed_pixels", a->confirmed_pixels);
    jadd_num(o, "area_ha", a->area_ha);
    jadd_num(o, "mean_dndvi", a->mean_dndvi);
    jadd_num(o, "centroid_lon", a->centroid_lon);
    jadd_num(o, "centroid_lat", a->centroid_lat);
    jadd_int(o, "partially_observed", a->partially_observed);
    jadd_str(o, "geometry_wkb", a->geom_hex);
    if (a->zones)
        jadd_str(o, "zones", a->zones);
    return o;
}

static cnp_status alert_from_json(json_object *o, mon_fp *fp)
{
    mon_alert *a = NULL;
    cnp_status st = mon_fp_add_alert(fp, (uint32_t)jget_int(o, "seq"), &a);
    if (st != CNP_OK)
        return st;
    a->status = (int)jget_int(o, "status");
    copy_str(a->first_detected, sizeof a->first_detected, jget_str(o, "first_detected"));
    copy_str(a->confirmed_at, sizeof a->confirmed_at, jget_str(o, "confirmed_at"));
    copy_str(a->rejected_at, sizeof a->rejected_at, jget_str(o, "rejected_at"));
    copy_str(a->last_observed, sizeof a->last_observed, jget_str(o, "last_observed"));
    copy_str(a->first_scene, sizeof a->first_scene, jget_str(o, "first_scene"));
    a->n_observations = jget_int(o, "n_observations");
    a->pixels = jget_int(o, "pixels");
    a->probable_pixels = jget_int(o, "probable_pixels");
    a->confirmed_pixels = jget_int(o, "confirmed_pixels");
    a->area_ha = jget_num(o, "area_ha");
    a->mean_dndvi = jget_num(o, "mean_dndvi");
    a->centroid_lon = jget_num(o, "centroid_lon");
    a->centroid_lat = jget_num(o, "centroid_lat");
    a->partially_observed = jget_int(o, "partially_observed") != 0;
    const char *g = jget_str(o, "geometry_wkb");
    if (*g && !(a->geom_hex = strdup(g)))
        return cnp_err(CNP_E_NOMEM, "out of memory");
    const char *z = jget_str(o, "zones");
    if (*z && !(a->zones = strdup(z)))
        return cnp_err(CNP_E_NOMEM, "out of memory");
    return CNP_OK;
}

void mon_gen_dir(const char *dir, int64_t generation, char *out, size_t size)
{
    snprintf(out, size, "%s/state/g%08lld", dir, (long long)generation);
}

cnp_status mon_current_read(const char *dir, int64_t *generation, int64_t *notified)
{
    char path[4200];
    struct stat sb;
    *generation = *notified = 0;
    snprintf(path, sizeof path, "%s/CURRENT", dir);
    if (stat(path, &sb) != 0)
        return CNP_OK;
    cnp_status st;
    json_object *o = read_json(path, &st);
    if (!o)
        return st;
    *generation = jget_int(o, "generation");
    *notified = jget_int(o, "notified");
    json_object_put(o);
    if (*generation < 0 || *notified < 0 || *notified > *generation)
        return cnp_err(CNP_E_DATA, "'%s' is corrupt (generation %lld, notified %lld)", path,
                       (long long)*generation, (long long)*notified);
    return CNP_OK;
}

cnp_status mon_current_write(const char *dir, int64_t generation, int64_t notified)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/CURRENT", dir);
    json_object *o = json_object_new_object();
    jadd_str(o, "format", "canopy-monitor-current/1");
    jadd_int(o, "generation", generation);
    jadd_int(o, "notified", notified);
    cnp_status st = write_json(path, o);
    json_object_put(o);
    if (st == CNP_OK)
        st = cnp_fs_fsync_path(dir);
    return st;
}

cnp_status mon_state_save(const char *gen_dir, const mon_state *s)
{
    char path[4200];
    json_object *o = json_object_new_object();
    jadd_str(o, "format", "canopy-monitor-state/1");
    jadd_int(o, "generation", s->generation);
    jadd_str(o, "settings_ini", s->settings_ini);
    jadd_str(o, "db", s->db);
    json_object *fps = json_object_new_array();
    for (size_t i = 0; i < s->nfps; i++) {
        const mon_fp *fp = &s->fps[i];
        json_object *f = json_object_new_object();
        jadd_str(f, "key", fp->key);
        jadd_str(f, "name", fp->name);
        jadd_str(f, "crs_wkt", fp->wkt);
        json_object *gt = json_object_new_array();
        for (int k = 0; k < 6; k++)
            json_object_array_add(gt, json_object_new_double(fp->gt[k]));
        json_object_object_add(f, "geotransform", gt);
        jadd_int(f, "width", fp->width);
        jadd_int(f, "height", fp->height);
        jadd_date(f, "last_date", fp->last_date);
        jadd_str(f, "last_scene", fp->last_scene);
        jadd_str(f, "format", fp->format);
        jadd_int(f, "next_seq", fp->next_seq);
        jadd_int(f, "baseline_history", fp->hist_k);
        json_object *al = json_object_new_array();
        for (size_t k = 0; k < fp->nalerts; k++)
            json_object_array_add(al, alert_json(&fp->alerts[k]));
        json_object_object_add(f, "alerts", al);
        json_object_array_add(fps, f);
    }
    json_object_object_add(o, "footprints", fps);
    json_object *seen = json_object_new_array();
    for (size_t i = 0; i < s->nseen; i++)
        json_object_array_add(seen, seen_json(&s->seen[i]));
    json_object_object_add(o, "inputs_seen", seen);
    if (s->layers)
        json_object_object_add(o, "context_layers", json_object_get(s->layers));
    snprintf(path, sizeof path, "%s/state.json", gen_dir);
    const cnp_status st = write_json(path, o);
    json_object_put(o);
    return st;
}

cnp_status mon_state_load(const char *gen_dir, mon_state *s)
{
    char path[4200];
    cnp_status st;
    memset(s, 0, sizeof *s);
    snprintf(path, sizeof path, "%s/state.json", gen_dir);
    json_object *o = read_json(path, &st);
    if (!o)
        return st;
    if (strcmp(jget_str(o, "format"), "canopy-monitor-state/1") != 0) {
        json_object_put(o);
        return cnp_err(CNP_E_DATA, "'%s' is not a canopy monitor state", path);
    }
    s->generation = jget_int(o, "generation");
    s->settings_ini = xstrdup(jget_str(o, "settings_ini"));
    s->db = xstrdup(jget_str(o, "db"));
    st = s->settings_ini && s->db ? CNP_OK : cnp_err(CNP_E_NOMEM, "out of memory");
    json_object *fps = jget_arr(o, "footprints");
    for (size_t i = 0; st == CNP_OK && fps && i < json_object_array_length(fps); i++) {
        json_object *f = json_object_array_get_idx(fps, i);
        mon_fp *fp = NULL;
        if ((st = mon_state_add_fp(s, &fp)) != CNP_OK)
            break;
        /* The key names the footprint's folder: checked as when it was made. */
        const char *key = jget_str(f, "key");
        if ((st = cnp_ident_check(CNP_IDENT_KEY, key, "footprint key", path)) != CNP_OK)
            break;
        copy_str(fp->key, sizeof fp->key, key);
        copy_str(fp->name, sizeof fp->name, jget_str(f, "name"));
        fp->wkt = xstrdup(jget_str(f, "crs_wkt"));
        json_object *gt = jget_arr(f, "geotransform");
        for (int k = 0; k < 6; k++)
            fp->gt[k] = gt && k < (int)json_object_array_length(gt)
                            ? json_object_get_double(json_object_array_get_idx(gt, (size_t)k))
                            : 0;
        fp->width = (int)jget_int(f, "width");
        fp->height = (int)jget_int(f, "height");
        copy_str(fp->last_date, sizeof fp->last_date, jget_str(f, "last_date"));
        copy_str(fp->last_scene, sizeof fp->last_scene, jget_str(f, "last_scene"));
        copy_str(fp->format, sizeof fp->format, jget_str(f, "format"));
        fp->next_seq = (uint32_t)jget_int(f, "next_seq");
        const int64_t hk = jget_int(f, "baseline_history");   /* absent: 0 */
        fp->hist_k = hk >= 0 && hk <= CNP_MONITOR_HIST_MAX ? (int)hk : -1;
        snprintf(fp->dir, sizeof fp->dir, "%s/%s", gen_dir, fp->key);
        if (!fp->wkt || fp->width <= 0 || fp->height <= 0 || fp->next_seq < 1 ||
            fp->hist_k < 0) {
            st = cnp_err(CNP_E_DATA, "'%s': footprint %zu is corrupt", path, i);
            break;
        }
        json_object *al = jget_arr(f, "alerts");
        for (size_t k = 0; st == CNP_OK && al && k < json_object_array_length(al); k++)
            st = alert_from_json(json_object_array_get_idx(al, k), fp);
    }
    json_object *layers = jget_arr(o, "context_layers");   /* absent before them */
    if (layers)
        s->layers = json_object_get(layers);
    json_object *seen = jget_arr(o, "inputs_seen");
    for (size_t i = 0; st == CNP_OK && seen && i < json_object_array_length(seen); i++) {
        mon_seen r;
        if ((st = seen_from_json(json_object_array_get_idx(seen, i), &r)) != CNP_OK)
            break;
        st = mon_state_add_seen(s, &r);
        mon_seen_free(&r);
    }
    json_object_put(o);
    if (st != CNP_OK)
        mon_state_free(s);
    return st;
}

static const char *obs_words[] = { "clear", "cloudy", "nodata" };

cnp_status mon_outbox_save(const char *gen_dir, const mon_outbox *ob)
{
    char path[4200];
    json_object *o = json_object_new_object();
    jadd_str(o, "format", "canopy-monitor-outbox/1");
    json_object *r = json_object_new_object();
    jadd_int(r, "generation", ob->run.generation);
    jadd_str(r, "started", ob->run.started);
    jadd_str(r, "finished", ob->run.finished);
    jadd_int(r, "scenes_processed", ob->run.scenes_processed);
    jadd_int(r, "scenes_failed", ob->run.scenes_failed);
    jadd_int(r, "scenes_skipped", ob->run.scenes_skipped);
    jadd_int(r, "alerts_new", ob->run.alerts_new);
    jadd_int(r, "alerts_confirmed", ob->run.alerts_confirmed);
    jadd_int(r, "alerts_rejected", ob->run.alerts_rejected);
    jadd_int(r, "exit_status", ob->run.exit_status);
    jadd_str(r, "message", ob->run.message);
    json_object_object_add(o, "run", r);
    json_object *sc = json_object_new_array();
    for (size_t i = 0; i < ob->nscenes; i++)
        json_object_array_add(sc, seen_json(&ob->scenes[i]));
    json_object_object_add(o, "scenes", sc);
    json_object *obs = json_object_new_array();
    for (size_t i = 0; i < ob->nobs; i++) {
        const mon_obs *b = &ob->obs[i];
        json_object *x = json_object_new_object();
        jadd_str(x, "alert_id", b->alert_id);
        jadd_str(x, "scene_id", b->scene_id);
        jadd_date(x, "date", b->date);
        jadd_str(x, "footprint", b->footprint);
        jadd_str(x, "status", obs_words[b->status]);
        jadd_int(x, "clear_px", b->clear_px);
        jadd_int(x, "cloudy_px", b->cloudy_px);
        jadd_int(x, "nodata_px", b->nodata_px);
        jadd_int(x, "new_px", b->new_px);
        jadd_num(x, "dndvi", b->dndvi);
        jadd_str(x, "effect", b->effect);
        json_object_array_add(obs, x);
    }
    json_object_object_add(o, "observations", obs);
    json_object *t = json_object_new_array();
    for (size_t i = 0; i < ob->ntouched; i++)
        json_object_array_add(t, json_object_new_string(ob->touched[i]));
    json_object_object_add(o, "alerts_changed", t);
    json_object *n = json_object_new_array();
    for (size_t i = 0; i < ob->nnews; i++) {
        json_object *x = json_object_new_object();
        jadd_str(x, "id", ob->news[i].id);
        jadd_str(x, "change", ob->news[i].change);
        json_object_array_add(n, x);
    }
    json_object_object_add(o, "new_alerts", n);
    snprintf(path, sizeof path, "%s/outbox.json", gen_dir);
    const cnp_status st = write_json(path, o);
    json_object_put(o);
    return st;
}

cnp_status mon_outbox_load(const char *gen_dir, mon_outbox *ob)
{
    char path[4200];
    cnp_status st;
    memset(ob, 0, sizeof *ob);
    snprintf(path, sizeof path, "%s/outbox.json", gen_dir);
    json_object *o = read_json(path, &st);
    if (!o)
        return st;
    json_object *r = NULL;
    if (!json_object_object_get_ex(o, "run", &r) || !r) {
        json_object_put(o);
        return cnp_err(CNP_E_DATA, "'%s' has no run record", path);
    }
    ob->run.generation = jget_int(r, "generation");
    copy_str(ob->run.started, sizeof ob->run.started, jget_str(r, "started"));
    copy_str(ob->run.finished, sizeof ob->run.finished, jget_str(r, "finished"));
    ob->run.scenes_processed = jget_int(r, "scenes_processed");
    ob->run.scenes_failed = jget_int(r, "scenes_failed");
    ob->run.scenes_skipped = jget_int(r, "scenes_skipped");
    ob->run.alerts_new = jget_int(r, "alerts_new");
    ob->run.alerts_confirmed = jget_int(r, "alerts_confirmed");
    ob->run.alerts_rejected = jget_int(r, "alerts_rejected");
    ob->run.exit_status = (int)jget_int(r, "exit_status");
    copy_str(ob->run.message, sizeof ob->run.message, jget_str(r, "message"));
    st = CNP_OK;
    json_object *sc = jget_arr(o, "scenes");
    for (size_t i = 0; st == CNP_OK && sc && i < json_object_array_length(sc); i++) {
        mon_seen x;
        if ((st = seen_from_json(json_object_array_get_idx(sc, i), &x)) != CNP_OK)
            break;
        st = mon_outbox_add_scene(ob, &x);
        mon_seen_free(&x);
    }
    json_object *obs = jget_arr(o, "observations");
    for (size_t i = 0; st == CNP_OK && obs && i < json_object_array_length(obs); i++) {
        json_object *x = json_object_array_get_idx(obs, i);
        mon_obs b;
        memset(&b, 0, sizeof b);
        copy_str(b.alert_id, sizeof b.alert_id, jget_str(x, "alert_id"));
        copy_str(b.scene_id, sizeof b.scene_id, jget_str(x, "scene_id"));
        copy_str(b.date, sizeof b.date, jget_str(x, "date"));
        copy_str(b.footprint, sizeof b.footprint, jget_str(x, "footprint"));
        const char *w = jget_str(x, "status");
        b.status = strcmp(w, "clear") == 0 ? 0 : strcmp(w, "cloudy") == 0 ? 1 : 2;
        b.clear_px = jget_int(x, "clear_px");
        b.cloudy_px = jget_int(x, "cloudy_px");
        b.nodata_px = jget_int(x, "nodata_px");
        b.new_px = jget_int(x, "new_px");
        b.dndvi = jget_num(x, "dndvi");
        copy_str(b.effect, sizeof b.effect, jget_str(x, "effect"));
        st = mon_outbox_add_obs(ob, &b);
    }
    json_object *t = jget_arr(o, "alerts_changed");
    for (size_t i = 0; st == CNP_OK && t && i < json_object_array_length(t); i++)
        st = mon_outbox_touch(ob, json_object_get_string(json_object_array_get_idx(t, i)));
    json_object *n = jget_arr(o, "new_alerts");
    for (size_t i = 0; st == CNP_OK && n && i < json_object_array_length(n); i++) {
        json_object *x = json_object_array_get_idx(n, i);
        st = mon_outbox_add_new(ob, jget_str(x, "id"), jget_str(x, "change"));
    }
    json_object_put(o);
    if (st != CNP_OK)
        mon_outbox_free(ob);
    return st;
}
