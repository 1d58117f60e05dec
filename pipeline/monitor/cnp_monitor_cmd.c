/* pipeline/monitor/cnp_monitor_cmd.c - `canopy monitor`: the run, the lock, the
 * commit protocol and the log line.
 *
 * One run:
 *   1. take DIR/lock (flock, non-blocking: a second run exits 3 at once);
 *   2. read DIR/CURRENT (generation G), drop whatever an interrupted run left
 *      (work folders, uncommitted generations), load generation G;
 *   3. refuse other settings or another database than the state's (exit 2);
 *   4. reconcile, holding the database's own lock (mon_db_lock): the
 *      database records the generations it has applied; when it is at G-1 (a
 *      crash after the state commit), apply G's outbox now; when G's new
 *      alerts were never announced, announce them now;
 *   5. find the inputs, apply the unseen ones in date order, footprint by
 *      footprint, into a work folder (cnp_monitor_step);
 *   6. commit: write generation G+1 (rasters, state.json, outbox.json) under
 *      a temporary name; take the database's lock and check it is still at G
 *      (else another state writes to it: refuse, exit 2); fsync, rename, then
 *      replace CURRENT -> the state is committed; then apply the outbox to the
 *      database in one transaction and let the lock go; then
 *      new_alerts.geojson, --on-new, and CURRENT's "notified" mark.
 * A kill at any point leaves either generation G (the rerun redoes the work,
 * deterministically) or G+1 with the database at G or G+1 (the rerun
 * replays the outbox), so the end state is the one an uninterrupted run
 * reaches.
 */
#include "cnp_monitor_cmd.h"
#include "cnp_zones.h"
#include "cnp_monitor_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <omp.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <json.h>

#include "cnp_config.h"
#include "cnp_err.h"
#include "cnp_gdal.h"
#include "cnp_ident.h"
#include "cnp_monitor_pass.h"
#include "cnp_product.h"
#include "cnp_version.h"

typedef cnp_monitor_opts mon_opts;

/* ---- settings and the database name as the state records them ---------------- */

/* with_history = 0: as versions before baseline histories wrote them (no
 * baseline_obs line), to recognise their states; with_corr = 0: as
 * versions before the monitor applied [detect] normalize and [mask] haze
 * (no such lines in [monitor]). */
static char *normalised_settings(const mon_opts *o, int with_history, int with_corr)
{
    cnp_settings s = o->s, d;
    cnp_settings_defaults(&d);
    /* What does not change results is not part of the state's identity. */
    s.threads = d.threads;
    s.overview_size = d.overview_size;
    memcpy(s.date_before, d.date_before, sizeof s.date_before);
    memcpy(s.date_after, d.date_after, sizeof s.date_after);
    memcpy(s.profiles_dir, d.profiles_dir, sizeof s.profiles_dir);
    s.grid_mode = d.grid_mode;
    s.limits = d.limits;      /* limits refuse inputs; they change no result */
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    cnp_settings_write_ini(&s, m);
    fprintf(m, "\n[monitor]\nconfirm = %d/%d\n", o->confirm_n, o->confirm_m);
    if (with_history)
        fprintf(m, "baseline_obs = %d\n", o->s.baseline_obs);
    if (with_corr)
        cnp_settings_write_monitor_corrections(&o->s, m);
    mon_context_ini(o, m);
    fclose(m);
    return buf;
}

/* The connection without its password, as recorded in the state. */
static void db_description(const char *db, char *out, size_t size)
{
    if (!db) {
        snprintf(out, size, "%s", "");
        return;
    }
    size_t k = 0;
    for (const char *p = db; *p && k + 1 < size;) {
        if (strncmp(p, "password=", 9) == 0) {
            const char *q = p + 9;
            while (*q && *q != ' ')
                q++;
            k += (size_t)snprintf(out + k, size - k, "password=***");
            p = q;
            continue;
        }
        out[k++] = *p++;
    }
    out[k < size ? k : size - 1] = '\0';
}

/* The first line where two INI texts differ, with its section. */
static void first_difference(const char *a, const char *b, char *out, size_t size)
{
    char sec[64] = "";
    while (*a || *b) {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        const size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
        if (la && a[0] == '[')
            snprintf(sec, sizeof sec, "%.*s", (int)(la < 60 ? la : 60), a);
        if (la != lb || strncmp(a, b, la) != 0) {
            snprintf(out, size, "%s '%.*s' here, '%.*s' in the state", sec, (int)la, a, (int)lb, b);
            return;
        }
        a += la + (ea ? 1 : 0);
        b += lb + (eb ? 1 : 0);
    }
    snprintf(out, size, "(no difference)");
}

/* 1 when the [monitor] section of settings `ini` has a line "key = ...". */
static int monitor_has(const char *ini, const char *key)
{
    const char *p = strstr(ini, "\n[monitor]\n");
    const size_t k = strlen(key);
    for (p = p ? p + 10 : NULL; p && *p && *p != '[';) {
        if (strncmp(p, key, k) == 0 && strncmp(p + k, " = ", 3) == 0)
            return 1;
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return 0;
}

/* A state written before baseline histories (its settings have no
 * baseline_obs; its pixels one baseline each) goes on with this run's
 * baseline_obs when its other settings are the same: each pixel's baseline
 * is a history of one observation (cnp_monitor_pass.c), which fills up with
 * the next ones. Said once in the log line; the next generation records the
 * new settings. Other differences are refused as before. */
static cnp_status adopt_old_state(const mon_opts *o, mon_state *st, const char *ini, mon_log *l)
{
    if (strstr(st->settings_ini, "\nbaseline_obs = "))
        return CNP_OK;
    char *old = normalised_settings(o, 0, monitor_has(st->settings_ini, "normalize"));
    if (!old)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    const int same = strcmp(old, st->settings_ini) == 0;
    free(old);
    if (!same)
        return CNP_OK;
    char *copy = strdup(ini);
    if (!copy)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    free(st->settings_ini);
    st->settings_ini = copy;
    char msg[300];
    snprintf(msg, sizeof msg, "the state was written by an earlier version with one baseline "
             "per pixel: each baseline counts as a history of one observation, which grows to "
             "baseline_obs = %d with the next clear ones", o->s.baseline_obs);
    mon_log_str(l, "state_upgraded", msg);
    return CNP_OK;
}

/* The value of `key` in [section] of settings `ini` into v ("" if none). */
static void ini_value(const char *ini, const char *section, const char *key, char *v, size_t size)
{
    char sec[64], line[80];
    snprintf(sec, sizeof sec, "\n[%s]\n", section);
    snprintf(line, sizeof line, "\n%s = ", key);
    const char *p = strstr(ini, sec), *end = p ? strstr(p + 1, "\n[") : NULL;
    const char *q = p ? strstr(p + 1, line) : NULL;
    v[0] = '\0';
    if (q && (!end || q < end))
        snprintf(v, size, "%.*s", (int)strcspn(q + strlen(line), "\n"), q + strlen(line));
}

/* A state made before the monitor applied detect's normalisation and haze
 * test has no record of them in [monitor]: it goes on as it ran, with
 * neither (*off = 1), when its settings are the same otherwise - whatever
 * this run's [detect] normalize and [mask] haze, which it did not apply
 * (*ini becomes this run's settings as that version wrote them, with the
 * state's values of those two, which the state keeps). Said in the log
 * line; a new --state folder applies them. */
static cnp_status corrections_of_old_state(const mon_opts *o, const mon_state *st, char **ini,
                                           mon_log *l, int *off)
{
    *off = 0;
    if (monitor_has(st->settings_ini, "normalize"))
        return CNP_OK;
    mon_opts was = *o;
    char norm[32], haze[32];
    ini_value(st->settings_ini, "detect", "normalize", norm, sizeof norm);
    ini_value(st->settings_ini, "mask", "haze", haze, sizeof haze);
    if (cnp_settings_set(&was.s, "detect", "normalize", norm, "state") != CNP_OK ||
        cnp_settings_set(&was.s, "mask", "haze", haze, "state") != CNP_OK)
        return CNP_OK;                  /* not a state of ours: refused as it differs */
    char *old = normalised_settings(&was, monitor_has(st->settings_ini, "baseline_obs"), 0);
    char *old_h = normalised_settings(&was, 1, 0);
    *off = old && old_h && strcmp(old, st->settings_ini) == 0;
    free(old);
    free(*off ? *ini : old_h);
    if (!*off)
        return old && old_h ? CNP_OK : cnp_err(CNP_E_NOMEM, "out of memory");
    *ini = old_h;
    mon_log_str(l, "corrections_off", "the state was made by an earlier version, which "
                "compared raw dNDVI and had no haze test: it goes on without them (a new "
                "--state folder applies [detect] normalize and [mask] haze)");
    return CNP_OK;
}

/* ---- folders ----------------------------------------------------------------- */

/* Remove everything under DIR/state but generation `keep`. */
static void clean_state_dir(const char *dir, int64_t keep)
{
    char sdir[4200], keep_name[32];
    snprintf(sdir, sizeof sdir, "%s/state", dir);
    snprintf(keep_name, sizeof keep_name, "g%08lld", (long long)keep);
    DIR *d = opendir(sdir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            (keep > 0 && strcmp(e->d_name, keep_name) == 0))
            continue;
        char p[4500];
        snprintf(p, sizeof p, "%s/%s", sdir, e->d_name);
        cnp_fs_remove_tree(p);
    }
    closedir(d);
}

/* Put a footprint's files into the new generation: written from this run's
 * last state when it changed (compressed on `threads` threads), else hard
 * links to the previous generation's (so nothing is copied). Every file and
 * the folder are fsync'd. */
static cnp_status place_footprint(mon_fp *fp, const char *gen_tmp, int threads)
{
    char target[4400], from[4500], to[4500];
    cnp_tilefile_def defs[MON_NFILES];
    cnp_status st;
    /* A footprint a scene changed has the run's history; another keeps the
     * files (and the history, or none) it had. */
    const int nf = mon_state_defs(fp->hist_k, defs);
    snprintf(target, sizeof target, "%s/%s", gen_tmp, fp->key);
    if (mkdir(target, 0777) != 0)
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", target, strerror(errno));
    if (fp->store) {
        if ((st = cnp_tilefile_publish(fp->store, defs, (size_t)nf, target, fp->width,
                                       fp->height, fp->gt, fp->wkt, threads)) != CNP_OK)
            return st;
        cnp_tilestore_close(&fp->store, 1);
        cnp_fs_remove_tree(fp->step_dir);
    } else {
        for (int i = 0; i < nf; i++) {
            snprintf(from, sizeof from, "%s/%s", fp->dir, defs[i].name);
            snprintf(to, sizeof to, "%s/%s", target, defs[i].name);
            if (link(from, to) != 0)
                return cnp_err(CNP_E_IO, "cannot link '%s' to '%s': %s", from, to,
                               strerror(errno));
            if ((st = cnp_fs_fsync_path(to)) != CNP_OK)
                return st;
        }
    }
    return cnp_fs_fsync_path(target);
}

/* ---- announcing new alerts -------------------------------------------------- */

/* new_alerts.geojson of generation `gen` into DIR/runs/<UTC>-gN/, queued for
 * the hook when something is new, then CURRENT's notified mark. The hook
 * runs after (mon_notify_deliver), so a failed or interrupted one is retried
 * by the next run. */
static cnp_status announce(const mon_opts *o, int64_t gen, const mon_outbox *ob, mon_state *st,
                           mon_log *l)
{
    char stamp[32], dir[4300], path[4400];
    time_t t = time(NULL);
    struct tm tm;
    cnp_status s;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(dir, sizeof dir, "%s/runs/%s-g%06lld", o->state_dir, stamp, (long long)gen);
    if ((s = cnp_fs_mkdirs(dir)) != CNP_OK)
        return s;
    snprintf(path, sizeof path, "%s/new_alerts.geojson", dir);
    if ((s = mon_write_new_alerts(path, ob, st)) != CNP_OK)
        return s;
    mon_log_str(l, "new_alerts_file", path);
    mon_log_int(l, "new_alerts_in_file", (int64_t)ob->nnews);
    if (o->nzones)
        mon_log_zones(l, ob, st);
    if (o->on_new && ob->nnews > 0 && (s = mon_notify_queue(o->state_dir, dir, gen)) != CNP_OK)
        return s;
    mon_crash_point("before-notified");
    return mon_current_write(o->state_dir, gen, gen);
}

/* ---- the run ------------------------------------------------------------------ */

/* The database is at generation `dbgen`, not at the state's G: found when the
 * run starts, or (`during`) when it comes to commit. */
static cnp_status db_ahead(const mon_opts *o, int64_t G, int64_t dbgen, int during)
{
    if (dbgen < G)
        return cnp_err(CNP_E_DATA, "the database went back to generation %lld while this run "
                       "worked on the state in '%s' at %lld", (long long)dbgen, o->state_dir,
                       (long long)G);
    if (G == 0 || during)
        return cnp_err(CNP_E_CONFIG, "the database holds generation %lld but the state in '%s' "
                       "is at %lld: it belongs to another state folder%s; give this state its "
                       "own database", (long long)dbgen, o->state_dir, (long long)G,
                       during ? " (written while this run worked)" : "");
    return cnp_err(CNP_E_DATA, "the database holds generation %lld but the state in '%s' is at "
                   "%lld: the state was restored from an older copy; restore the database to "
                   "match, or start a new state folder", (long long)dbgen, o->state_dir,
                   (long long)G);
}

static void report_error(const mon_opts *o, const char *msg)
{
    if (o->ev.error)
        o->ev.error(o->ev.arg, msg);
}

static int fail_run(const mon_opts *o, mon_log *l, const char *status, int code)
{
    char msg[1100];
    snprintf(msg, sizeof msg, "%s", cnp_err_msg());
    report_error(o, msg);
    return mon_log_finish(l, status, code, msg);
}

int cnp_monitor_run(const mon_opts *o)
{
    char started[32], lock_path[4200], db_conn[4200], db_desc[1024], gen_dir[4200];
    char gen_tmp[4300], work[3800], msg[2048];
    mon_state st;
    mon_outbox ob;
    mon_inputs in;
    mon_db *db = NULL;
    cnp_product_session *products = NULL;      /* the run's: each product recognised once */
    mon_log l;
    int64_t G = 0, notified = 0, dbgen = 0;
    int lock_fd = -1, code = CNP_EXIT_OK, hook_failed = 0, corr_off = 0;
    char *ini = NULL;
    cnp_status s;

    memset(&st, 0, sizeof st);
    memset(&ob, 0, sizeof ob);
    memset(&in, 0, sizeof in);
    cnp_utc_now(started);
    mon_log_init(&l, o->state_dir, started);
    l.ev = &o->ev;
    work[0] = '\0';

    if ((s = cnp_fs_mkdirs(o->state_dir)) != CNP_OK)
        return fail_run(o, &l, "error", CNP_EXIT_RUNTIME);

    /* One run at a time. */
    snprintf(lock_path, sizeof lock_path, "%s/lock", o->state_dir);
    lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (lock_fd < 0) {
        cnp_err(CNP_E_IO, "cannot open '%s': %s", lock_path, strerror(errno));
        return fail_run(o, &l, "error", CNP_EXIT_RUNTIME);
    }
    if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno;
        char holder[128] = "";
        const ssize_t n = pread(lock_fd, holder, sizeof holder - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        close(lock_fd);
        if (e == EWOULDBLOCK) {
            cnp_err(CNP_E_IO, "another run holds the lock on '%s'%s%s%s; exiting without doing "
                    "anything", lock_path, holder[0] ? " (" : "", holder, holder[0] ? ")" : "");
            return fail_run(o, &l, "locked", CNP_EXIT_LOCKED);
        }
        cnp_err(CNP_E_IO, "cannot lock '%s': %s", lock_path, strerror(e));
        return fail_run(o, &l, "error", CNP_EXIT_RUNTIME);
    }
    {
        char holder[128];
        const int n = snprintf(holder, sizeof holder, "pid %ld since %s\n", (long)getpid(),
                               started);
        if (ftruncate(lock_fd, 0) != 0 || pwrite(lock_fd, holder, (size_t)n, 0) != n) {
            /* Only informative. */
        }
    }
    mon_crash_point("locked");
    {
        /* Test hook: keep the lock a while (overlapping-run tests). */
        const char *hold = getenv("CANOPY_MONITOR_HOLD_LOCK_S");
        if (hold && atoi(hold) > 0)
            sleep((unsigned)atoi(hold));
    }

    /* The state in force; leftovers of an interrupted run go. */
    if ((s = mon_current_read(o->state_dir, &G, &notified)) != CNP_OK)
        goto error;
    clean_state_dir(o->state_dir, G);
    {
        /* A GeoPackage whose creation was interrupted (cnp_monitor_db.c). */
        DIR *d = opendir(o->state_dir);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (strncmp(e->d_name, "alerts.gpkg.tmp-", 16) == 0) {
                char p[4600];
                snprintf(p, sizeof p, "%s/%s", o->state_dir, e->d_name);
                unlink(p);
            }
        }
        if (d)
            closedir(d);
    }
    if (G > 0) {
        mon_gen_dir(o->state_dir, G, gen_dir, sizeof gen_dir);
        if ((s = mon_state_load(gen_dir, &st)) != CNP_OK)
            goto error;
    }
    mon_log_int(&l, "generation_before", G);

    /* Same settings and database as the state's, or refuse. */
    ini = normalised_settings(o, 1, 1);
    db_description(o->db, db_desc, sizeof db_desc);
    if (!ini) {
        s = cnp_err(CNP_E_NOMEM, "out of memory");
        goto error;
    }
    if (G > 0 && (s = corrections_of_old_state(o, &st, &ini, &l, &corr_off)) != CNP_OK)
        goto error;
    if (G > 0 && (s = adopt_old_state(o, &st, ini, &l)) != CNP_OK)
        goto error;
    if (G > 0 && strcmp(st.settings_ini, ini) != 0) {
        first_difference(ini, st.settings_ini, msg, sizeof msg);
        s = cnp_err(CNP_E_CONFIG, "the state in '%s' was made with other settings (%s); a "
                    "state keeps the settings it started with: use a new --state folder for "
                    "new settings", o->state_dir, msg);
        goto error;
    }
    if (G > 0 && strcmp(st.db, db_desc) != 0) {
        s = cnp_err(CNP_E_CONFIG, "the state in '%s' writes to %s%s%s, not to %s%s%s; use a new "
                    "--state folder for another database", o->state_dir,
                    st.db[0] ? "'" : "", st.db[0] ? st.db : "its alerts.gpkg", st.db[0] ? "'" : "",
                    db_desc[0] ? "'" : "", db_desc[0] ? db_desc : "alerts.gpkg",
                    db_desc[0] ? "'" : "");
        goto error;
    }
    if ((s = mon_layers_check(o, &st, &l)) != CNP_OK)
        goto error;
    if (G == 0) {
        free(st.settings_ini);
        free(st.db);
        st.settings_ini = strdup(ini);
        st.db = strdup(db_desc);
        if (!st.settings_ini || !st.db) {
            s = cnp_err(CNP_E_NOMEM, "out of memory");
            goto error;
        }
    }
    mon_log_str(&l, "database", db_desc[0] ? db_desc : "alerts.gpkg");
    mon_log_context(&l, ini);

    /* The database, and how far it got. */
    if (o->db)
        snprintf(db_conn, sizeof db_conn, "%s", o->db);
    else
        snprintf(db_conn, sizeof db_conn, "%s/alerts.gpkg", o->state_dir);
    if ((s = mon_db_open(db_conn, &db)) != CNP_OK ||      /* and locked */
        (s = mon_db_generation(db, &dbgen)) != CNP_OK)
        goto error;
    if (dbgen > G) {
        s = db_ahead(o, G, dbgen, 0);
        goto error;
    }
    if (dbgen < G) {
        if (dbgen != G - 1) {
            s = cnp_err(CNP_E_DATA, "the database is at generation %lld, the state in '%s' at "
                        "%lld: more than one generation apart, cannot reconcile",
                        (long long)dbgen, o->state_dir, (long long)G);
            goto error;
        }
        /* The last run committed its state but not its database writes. */
        mon_outbox rec;
        if ((s = mon_outbox_load(gen_dir, &rec)) != CNP_OK)
            goto error;
        s = mon_db_apply(db, &rec, &st);
        mon_outbox_free(&rec);
        if (s != CNP_OK)
            goto error;
        mon_log_int(&l, "database_replayed_generation", G);
    }
    mon_db_unlock(db);
    if (notified < G) {
        mon_outbox rec;
        if ((s = mon_outbox_load(gen_dir, &rec)) != CNP_OK)
            goto error;
        s = announce(o, G, &rec, &st, &l);
        mon_outbox_free(&rec);
        if (s != CNP_OK)
            goto error;
        mon_log_int(&l, "announcement_replayed_generation", G);
    }
    /* What earlier runs could not deliver goes first. */
    if (o->on_new && (s = mon_notify_deliver(o->state_dir, o->on_new, &l, &hook_failed)) != CNP_OK)
        goto error;

    /* What is there, and what is new. */
    if ((s = cnp_product_session_begin(&o->s, &products)) != CNP_OK ||
        (s = mon_scan(o->inputs, o->ninputs, &o->s, o->state_dir, products, &in)) != CNP_OK)
        goto error;
    snprintf(work, sizeof work, "%s/state/work-%ld", o->state_dir, (long)getpid());
    if ((s = cnp_fs_mkdirs(work)) != CNP_OK)
        goto error;
    mon_ctx c = { &o->s, { o->s.forest_ndvi, o->s.ndvi_drop, o->confirm_n, o->confirm_m },
                  o->state_dir, "", &st, &ob, 0, o->zones, o->nzones, o->zone_field,
                  &o->ctx, o->aoi, l.coregistration, &l.aoi_repaired, l.corrections,
                  corr_off ? CNP_NORMALIZE_OFF : o->s.normalize, corr_off ? 0 : o->s.haze };
    l.has_aoi = o->aoi != NULL;
    snprintf(c.work_dir, sizeof c.work_dir, "%s", work);
    ob.run.generation = G + 1;
    snprintf(ob.run.started, sizeof ob.run.started, "%s", started);

    l.found = (int64_t)in.n;
    int nscene = 0;
    for (size_t i = 0; i < in.n; i++) {
        const mon_input *x = &in.v[i];
        const mon_seen *prev = mon_state_find_seen(&st, x->id);
        if (!prev && x->old_id[0]) {
            /* Applied before its name got its folder's: the same file. */
            const mon_seen *old = mon_state_find_seen(&st, x->old_id);
            if (old && strcmp(old->path, x->path) == 0)
                prev = old;
        }
        if (prev && (strcmp(prev->status, "failed") != 0 ||
                     strcmp(prev->signature, x->signature) == 0)) {
            l.already_seen++;
            continue;
        }
        const double t_scene = cnp_now_s();
        const char *outcome = "failed";
        char reason[2048] = "", key[64] = "";
        if (x->error) {
            snprintf(reason, sizeof reason, "%s", x->error);
        } else {
            if ((s = mon_step_scene(&c, x, &outcome, reason, sizeof reason, key, sizeof key,
                                    &l.counts)) != CNP_OK)
                goto error;
        }
        mon_seen rec;
        if ((s = mon_seen_set(&rec, x->id, x->path, key, x->date, outcome,
                              strcmp(outcome, "processed") == 0 && !reason[0] ? "" : reason,
                              x->signature, x->product)) != CNP_OK)
            goto error;
        s = mon_state_add_seen(&st, &rec);
        if (s == CNP_OK)
            s = mon_outbox_add_scene(&ob, &rec);
        mon_seen_free(&rec);
        if (s != CNP_OK)
            goto error;
        if (o->ev.scene)
            o->ev.scene(o->ev.arg, x->id, outcome, reason, cnp_now_s() - t_scene);
        if (strcmp(outcome, "processed") == 0) {
            l.processed++;
            if (reason[0])
                mon_log_entry(l.format_changes, x->id, x->path, key, "change", reason);
        } else if (strcmp(outcome, "skipped") == 0) {
            l.skipped_n++;
            mon_log_entry(l.skipped, x->id, x->path, key, "reason", reason);
        } else {
            l.failed++;
            mon_log_entry(l.failures, x->id, x->path, key, "reason", reason);
        }
        nscene++;
        mon_crash_point("after-scene");
    }

    if (ob.nscenes == 0) {
        /* Nothing new: nothing changes. */
        cnp_fs_remove_tree(work);
        mon_log_int(&l, "generation", G);
        mon_log_str(&l, "new_alerts_file", NULL);
        goto done;
    }

    /* Generation G+1: written in full under a temporary name, then renamed. */
    mon_gen_dir(o->state_dir, G + 1, gen_dir, sizeof gen_dir);
    snprintf(gen_tmp, sizeof gen_tmp, "%s.tmp", gen_dir);
    if ((s = cnp_fs_mkdirs(gen_tmp)) != CNP_OK)
        goto error;
    for (size_t i = 0; i < st.nfps; i++) {
        if ((s = place_footprint(&st.fps[i], gen_tmp,
                                 o->s.threads > 0 ? o->s.threads : omp_get_num_procs())) != CNP_OK)
            goto error;
        if (i == 0)
            mon_crash_point("mid-generation");
    }
    st.generation = G + 1;
    ob.run.scenes_processed = l.processed;
    ob.run.scenes_failed = l.failed;
    ob.run.scenes_skipped = l.skipped_n;
    ob.run.alerts_new = l.counts.alerts_new;
    ob.run.alerts_confirmed = l.counts.alerts_confirmed;
    ob.run.alerts_rejected = l.counts.alerts_rejected;
    ob.run.exit_status = l.failed > 0 ? CNP_EXIT_PARTIAL : CNP_EXIT_OK;
    snprintf(ob.run.message, sizeof ob.run.message, "%lld processed, %lld failed, %lld skipped",
             (long long)l.processed, (long long)l.failed, (long long)l.skipped_n);
    cnp_utc_now(ob.run.finished);
    if ((s = mon_state_save(gen_tmp, &st)) != CNP_OK ||
        (s = mon_outbox_save(gen_tmp, &ob)) != CNP_OK ||
        (s = cnp_fs_fsync_path(gen_tmp)) != CNP_OK)
        goto error;
    /* From checking the database's generation to writing this one, the
     * database is this run's: a state that shares it (two states given one
     * --db) waits, then finds the generation moved and commits nothing. */
    if ((s = mon_db_lock(db)) != CNP_OK || (s = mon_db_generation(db, &dbgen)) != CNP_OK)
        goto error;
    if (dbgen != G) {
        s = db_ahead(o, G, dbgen, 1);
        goto error;
    }
    mon_crash_point("before-rename");
    if (rename(gen_tmp, gen_dir) != 0) {
        s = cnp_err(CNP_E_IO, "cannot rename '%s': %s", gen_tmp, strerror(errno));
        goto error;
    }
    {
        char sdir[4300];
        snprintf(sdir, sizeof sdir, "%s/state", o->state_dir);
        if ((s = cnp_fs_fsync_path(sdir)) != CNP_OK)
            goto error;
    }
    mon_crash_point("before-commit");
    if ((s = mon_current_write(o->state_dir, G + 1, G)) != CNP_OK)
        goto error;
    /* Committed: from here a crash is repaired by the next run's replay. */
    mon_crash_point("after-commit");
    if ((s = mon_db_apply(db, &ob, &st)) != CNP_OK)
        goto error;
    mon_crash_point("after-db");
    mon_db_unlock(db);
    if ((s = announce(o, G + 1, &ob, &st, &l)) != CNP_OK)
        goto error;
    /* After a failure this run leaves the queue to the next one, in order. */
    if (o->on_new && !hook_failed &&
        (s = mon_notify_deliver(o->state_dir, o->on_new, &l, &hook_failed)) != CNP_OK)
        goto error;
    mon_crash_point("after-announce");
    mon_log_int(&l, "generation", G + 1);
    clean_state_dir(o->state_dir, G + 1);
    (void)nscene;

done:
    if (hook_failed) {
        cnp_err(CNP_E_IO, "--on-new command failed (see on_new_status); the alerts are in the "
                "database and in new_alerts.geojson, and the next run calls it again");
        report_error(o, cnp_err_msg());
        code = mon_log_finish(&l, "error", CNP_EXIT_RUNTIME, cnp_err_msg());
    } else if (l.failed > 0) {
        /* The others were applied; cron should still hear of it. */
        cnp_err(CNP_E_DATA, "%lld input%s failed (see failures); the others were applied",
                (long long)l.failed, l.failed == 1 ? "" : "s");
        report_error(o, cnp_err_msg());
        code = mon_log_finish(&l, "scenes_failed", CNP_EXIT_PARTIAL, cnp_err_msg());
    } else {
        code = mon_log_finish(&l, "ok", CNP_EXIT_OK, NULL);
    }
    goto cleanup;

error:
    if (work[0])
        cnp_fs_remove_tree(work);
    {
        const int usage = s == CNP_E_CONFIG || s == CNP_E_ARG;
        code = fail_run(o, &l, "error", usage ? CNP_EXIT_USAGE : CNP_EXIT_RUNTIME);
    }

cleanup:
    if (products && o->ev.counts) {
        /* For tests: each product recognised once, the profiles loaded once. */
        size_t nrec = 0, nload = 0;
        cnp_product_session_counts(products, &nrec, &nload);
        o->ev.counts(o->ev.arg, nrec, nload);
    }
    cnp_product_session_end(&products);
    free(ini);
    mon_db_close(&db);
    mon_inputs_free(&in);
    mon_outbox_free(&ob);
    mon_state_free(&st);
    if (lock_fd >= 0)
        close(lock_fd);
    return code;
}

cnp_status cnp_monitor_layers_check(const cnp_monitor_opts *o)
{
    static const char wgs84[] =
        "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563]],"
        "PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433],AUTHORITY[\"EPSG\",\"4326\"]]";
    static const double world_gt[6] = { -180, 1, 0, 90, 0, -1 };
    static const int world[4] = { 0, 0, 360, 180 };
    cnp_status st = CNP_OK;
    for (size_t i = 0; i < o->nzones && st == CNP_OK; i++) {
        cnp_zone_source *z = NULL;
        st = cnp_zone_source_open_any("zones", o->zones[i], o->zone_field, wgs84, world_gt, world,
                                      &z);
        cnp_zone_source_close(&z);
    }
    cnp_ctxmask *m = NULL;
    if (st == CNP_OK)
        st = cnp_ctxmask_open(&o->ctx, wgs84, world_gt, world[2], world[3], &m);
    cnp_ctxmask_close(&m);
    if (st == CNP_OK && o->aoi) {
        cnp_zone_source *z = NULL;
        st = cnp_zone_source_open_any("--aoi", o->aoi, NULL, wgs84, world_gt, world, &z);
        cnp_zone_source_close(&z);
    }
    return st;
}
