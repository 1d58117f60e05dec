/* pipeline/batch/cnp_batch_run.c - `canopy batch`: running the pairs, merging
 * alerts per footprint, and the summaries.
 *
 * Each pair runs in a child process (fork, then cnp_detect_run): detect sets
 * process-wide state (GDAL's cache size, OGR_CURRENT_DATE, a staging folder
 * named by the pid, static lists while hashing outputs), so threads of one
 * process could not run two pairs at once; a child also keeps a crash to its
 * own pair. Children die with the parent (PR_SET_PDEATHSIG), so a killed batch
 * leaves no writer behind. A pair's folder is replaced whole by detect's
 * commit (cnp_staging.h): a pair killed half-way left its earlier run or none,
 * and a staging folder (or a commit cut short) the next batch removes (or
 * finishes) for every pair before it decides what to run, whether the pair
 * runs again or not; a pair run again replaces its run (overwrite) and keeps
 * the user's files in its folder.
 */
#include "cnp_batch.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <json.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "cnp_detect.h"
#include "cnp_err.h"
#include "cnp_ident.h"
#include "cnp_fs.h"
#include "cnp_gdal.h"
#include "cnp_json.h"
#include "cnp_staging.h"
#include "cnp_tmpfile.h"

static int make_dir(const char *path)
{
    return mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

static json_object *jget(json_object *o, const char *key, json_type t)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t))
        return NULL;
    return v;
}

static double jnum(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v) ||
        !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return NAN;
    return json_object_get_double(v);
}

/* ---- rows ------------------------------------------------------------------ */

static void row_init(cnp_batch_row *r, const cnp_batch_fp *fp, const cnp_batch_pair *pr)
{
    memset(r, 0, sizeof *r);
    r->fp = fp;
    r->pair = pr;
    r->alerts = -1;
    r->area_ha = r->observed_share = r->seconds = NAN;
}

static void row_fail(cnp_batch_row *r, const char *msg)
{
    snprintf(r->status, sizeof r->status, "failed");
    snprintf(r->message, sizeof r->message, "%s", msg);
}

/* The child's exit status for a pair with no pixel observed in both scenes. */
enum { CHILD_NOT_OBSERVED = 3 };

void cnp_batch_shard_counts(const cnp_batch_row *rows, size_t nrows, int shard,
                            size_t *unreported, size_t *failed)
{
    *unreported = *failed = 0;
    for (size_t i = 0; i < nrows; i++) {
        if (rows[i].fp->shard != shard)
            continue;
        if (rows[i].unreported)
            ++*unreported;
        else if (strcmp(rows[i].status, "failed") == 0)
            ++*failed;
    }
}

int cnp_batch_row_not_observed(const cnp_batch_row *r)
{
    return strcmp(r->status, "skipped") == 0 && strncmp(r->message, "not observed: ", 14) == 0;
}

static void row_not_observed(cnp_batch_row *r, const char *why)
{
    snprintf(r->status, sizeof r->status, "skipped");
    snprintf(r->message, sizeof r->message, "not observed: %s", why);
}

/* Numbers of a finished pair from its run.json; applies --min-observed. */
static void row_from_run(const cnp_batch_plan *p, cnp_batch_row *r)
{
    char path[8400];
    snprintf(path, sizeof path, "%s/%s/%s/run.json", p->outroot, r->fp->name, r->pair->dir);
    json_object *run = json_object_from_file(path);
    json_object *counts = jget(run, "counts", json_type_object);
    if (!counts) {
        row_fail(r, "run.json is unreadable");
        json_object_put(run);
        return;
    }
    /* Rounded as the summaries write them, so a row reads the same from
     * run.json and from a shard summary. */
    r->alerts = (int64_t)jnum(counts, "alerts");
    r->area_ha = round(jnum(run, "total_alert_area_ha") * 1e4) / 1e4;
    const double obs = jnum(counts, "observed_pixels"), win = jnum(counts, "window_pixels");
    r->observed_share = win > 0 ? round(obs / win * 1e4) / 1e4 : NAN;
    r->seconds = round(jnum(jget(run, "timings_s", json_type_object), "total") * 100) / 100;
    json_object *id = jget(run, "run_id", json_type_string);
    snprintf(r->run_id, sizeof r->run_id, "%s", id ? json_object_get_string(id) : "");
    json_object_put(run);
    snprintf(r->status, sizeof r->status, "ok");
    if (p->min_observed > 0 && !(r->observed_share >= p->min_observed)) {
        snprintf(r->status, sizeof r->status, "skipped");
        snprintf(r->message, sizeof r->message, "not observed: %.1f%% of the overlap, less than "
                 "--min-observed %g%%: its alerts are left out of the footprint's alerts.gpkg",
                 100 * r->observed_share, 100 * p->min_observed);
    }
}

/* ---- children ------------------------------------------------------------------ */

typedef struct task {
    cnp_batch_row *row;
    pid_t  pid;
    int    fd;
    double t0;
} task;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    g_stop = sig;
}

static void pair_dir(const cnp_batch_plan *p, const cnp_batch_row *r, char *out, size_t size)
{
    snprintf(out, size, "%s/%s/%s", p->outroot, r->fp->name, r->pair->dir);
}

/* In the child: redo the pair from scratch and report "status\nmessage". */
static void child_main(const cnp_batch_plan *p, const cnp_batch_row *r,
                       const cnp_batch_run_opts *o, int threads, int memory_mb, int fd,
                       pid_t parent)
{
    char dir[8400];
    cnp_job job;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    /* The batch stops its children with SIGTERM: they remove their staging. */
    cnp_tmp_signals_install();
    snprintf(dir, sizeof dir, "%s/%s", p->outroot, r->fp->name);
    make_dir(dir);
    pair_dir(p, r, dir, sizeof dir);

    memset(&job, 0, sizeof job);
    const cnp_batch_scene *b = &r->fp->scene[r->pair->before];
    const cnp_batch_scene *a = &r->fp->scene[r->pair->after];
    job.before = b->path;
    job.after = a->path;
    job.before_mask = b->mask;
    job.after_mask = a->mask;
    job.outdir = dir;
    job.config_path = p->config_path;
    cnp_batch_pair_settings(p, r->fp, r->pair, &job.settings);
    job.settings.threads = threads;
    job.quiet = 1;
    job.no_evidence = p->no_evidence;
    job.skip_outputs = p->skip_outputs;
    job.no_hash = p->no_hash;
    /* A pair run again replaces its earlier run; files of the user's in the
     * pair's folder stay (cnp_staging.h). */
    job.overwrite = 1;
    job.max_chips = p->max_chips;
    job.max_memory_mb = memory_mb;
    job.argc = o->argc;
    job.argv = o->argv;
    int nothing_observed = 0;
    job.nothing_observed = &nothing_observed;
    /* An earlier "not observed" of other inputs or settings goes. */
    cnp_batch_pair_not_observed_clear(p, r->fp, r->pair);
    cnp_status st = cnp_detect_run(&job);
    if (st != CNP_OK && nothing_observed) {
        /* Not a failure: clouds over both dates. Recorded, so that the next
         * batch does not run it again for the same answer. */
        char why[1024];
        snprintf(why, sizeof why, "%s", cnp_err_msg());
        if (cnp_batch_pair_not_observed_write(p, r->fp, r->pair, why) == CNP_OK) {
            dprintf(fd, "%d\n%s", (int)st, why);
            close(fd);
            _exit(CHILD_NOT_OBSERVED);
        }
    }
    dprintf(fd, "%d\n%s", (int)st, st == CNP_OK ? "" : cnp_err_msg());
    close(fd);
    _exit(st == CNP_OK ? 0 : 1);
}

static int launch(const cnp_batch_plan *p, task *t, const cnp_batch_run_opts *o, int threads,
                  int memory_mb)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(NULL);     /* what the CLI printed must not be printed again by the child */
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        child_main(p, t->row, o, threads, memory_mb, fds[1], parent);
    }
    close(fds[1]);
    t->pid = pid;
    t->fd = fds[0];
    t->t0 = cnp_now_s();
    return 0;
}

static void finish(const cnp_batch_plan *p, task *t, int wstatus)
{
    char buf[1200];
    ssize_t n, len = 0;
    while (len < (ssize_t)sizeof buf - 1 &&
           (n = read(t->fd, buf + len, sizeof buf - 1 - (size_t)len)) > 0)
        len += n;
    buf[len > 0 ? len : 0] = '\0';
    close(t->fd);
    const double secs = cnp_now_s() - t->t0;
    cnp_batch_row *r = t->row;
    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
        row_from_run(p, r);
    } else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == CHILD_NOT_OBSERVED) {
        const char *nl = strchr(buf, '\n');
        row_not_observed(r, nl && nl[1] ? nl + 1 : "no pixel is observed in both scenes");
    } else if (WIFSIGNALED(wstatus)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s (signal %d)",
                 g_stop ? "interrupted" : "the detect process crashed", WTERMSIG(wstatus));
        row_fail(r, msg);
    } else {
        const char *nl = strchr(buf, '\n');
        row_fail(r, nl && nl[1] ? nl + 1 : "detect failed without a message");
    }
    if (strcmp(r->status, "failed") == 0)
        r->seconds = secs;
    /* A child that crashed or was killed left its staging folder (or a
     * commit half-done): it has been collected, so that is a leftover now. */
    if (!WIFEXITED(wstatus)) {
        char dir[8400];
        pair_dir(p, r, dir, sizeof dir);
        cnp_staging_clean(dir);
    }
    t->pid = 0;
}

/* ---- progress ------------------------------------------------------------------- */

typedef struct progress {
    const cnp_batch_events *ev;
    cnp_batch_progress      pg;
    double                  t0, last;
} progress;

static void progress_tick(progress *p, int final)
{
    p->pg.elapsed_s = cnp_now_s() - p->t0;
    if (p->ev->progress)
        p->ev->progress(p->ev->arg, &p->pg, final);
    p->last = cnp_now_s();
}

static void progress_log(progress *p, const cnp_batch_row *r)
{
    p->pg.elapsed_s = cnp_now_s() - p->t0;
    if (p->ev->pair_done)
        p->ev->pair_done(p->ev->arg, &p->pg, r);
}

static void note(const cnp_batch_events *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(const cnp_batch_events *ev, const char *fmt, ...)
{
    char line[9000];
    va_list ap;
    if (!ev->note)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ev->note(ev->arg, line);
}

/* ---- the run ------------------------------------------------------------------ */

cnp_status cnp_batch_run(const cnp_batch_plan *p, int shard, const cnp_batch_run_opts *o,
                         cnp_batch_row **rows_out, size_t *nrows_out)
{
    size_t nrows = 0, npending = 0, nreused = 0;
    cnp_status st = CNP_OK;
    char path[8400], why[512];

    *rows_out = NULL;
    *nrows_out = 0;
    for (size_t i = 0; i < p->nfp; i++)
        if (shard < 0 || p->fp[i].shard == shard)
            nrows += p->fp[i].npair;
    cnp_batch_row *rows = calloc(nrows + 1, sizeof *rows);
    task *pending = calloc(nrows + 1, sizeof *pending);
    if (!rows || !pending) {
        free(rows);
        free(pending);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    if (make_dir(p->outroot) != 0) {
        free(rows);
        free(pending);
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", p->outroot, strerror(errno));
    }

    /* What is there to do? First what killed runs left in each pair's
     * folder (a run may have been killed in a pair that is complete now, or
     * is skipped now, and will not run again to clean up), then the pairs. */
    size_t k = 0;
    for (size_t i = 0; i < p->nfp; i++) {
        const cnp_batch_fp *fp = &p->fp[i];
        if (shard >= 0 && fp->shard != shard)
            continue;
        for (size_t j = 0; j < fp->npair; j++) {
            cnp_batch_row *r = &rows[k++];
            row_init(r, fp, &fp->pair[j]);
            pair_dir(p, r, path, sizeof path);
            const int clean = cnp_staging_clean(path) == CNP_OK;
            if (!clean)
                snprintf(why, sizeof why, "%s", cnp_err_msg());
            if (fp->pair[j].action == CNP_PAIR_SKIP) {
                snprintf(r->status, sizeof r->status, "skipped");
                snprintf(r->message, sizeof r->message, "%s", fp->pair[j].reason);
            } else if (!o->force && clean &&
                       cnp_batch_pair_not_observed(p, fp, &fp->pair[j], why, sizeof why)) {
                row_not_observed(r, why);
            } else if (!o->force && clean &&
                       cnp_batch_pair_complete(p, fp, &fp->pair[j], why, sizeof why)) {
                row_from_run(p, r);
                nreused++;
            } else {
                pending[npending++].row = r;
                if (!o->force && strcmp(why, "not run yet") != 0)
                    note(&o->ev, "batch: %s/%s: run again: %s", fp->name, fp->pair[j].dir, why);
            }
        }
    }

    int threads = o->threads > 0 ? o->threads : omp_get_num_procs();
    int jobs = o->jobs > 0 ? o->jobs : (threads / 4 > 1 ? threads / 4 : 1);
    if ((size_t)jobs > npending)
        jobs = npending > 0 ? (int)npending : 1;
    const int per_threads = threads / jobs > 0 ? threads / jobs : 1;
    const int per_memory = o->max_memory_mb > 0 ? o->max_memory_mb / jobs : 0;

    progress pg = { &o->ev, { npending, 0, 0, 0, 0 }, cnp_now_s(), 0 };
    if (npending == 0)
        note(&o->ev, "batch: nothing to do: %zu pair%s complete, %zu skipped%s", nreused,
             nreused == 1 ? "" : "s", nrows - nreused, nrows ? "" : " (no pairs)");
    else
        note(&o->ev, "batch: %zu pair%s to run (%zu complete already, %zu skipped), "
             "%d at a time with %d thread%s each", npending, npending == 1 ? "" : "s", nreused,
             nrows - nreused - npending, jobs, per_threads, per_threads == 1 ? "" : "s");

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    g_stop = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    task *run = calloc((size_t)jobs + 1, sizeof *run);
    size_t next = 0;
    if (!run)
        st = cnp_err(CNP_E_NOMEM, "out of memory");
    while (st == CNP_OK && (next < npending || pg.pg.running > 0)) {
        /* Start what fits. */
        for (int s = 0; s < jobs && next < npending && !g_stop; s++) {
            if (run[s].pid)
                continue;
            run[s] = pending[next];
            if (launch(p, &run[s], o, per_threads, per_memory) != 0) {
                row_fail(run[s].row, "cannot start a process for it");
                run[s].pid = 0;
                pg.pg.done++;
                pg.pg.failed++;
                progress_log(&pg, pending[next].row);
            } else {
                pg.pg.running++;
            }
            next++;
        }
        if (g_stop) {
            for (int s = 0; s < jobs; s++)
                if (run[s].pid)
                    kill(run[s].pid, SIGTERM);
            if (next < npending) {
                for (; next < npending; next++)
                    row_fail(pending[next].row, "not run: the batch was interrupted");
            }
        }
        /* Wait for one to finish (redraw the bar every second). */
        int wstatus = 0;
        const pid_t pid = waitpid(-1, &wstatus, WNOHANG);
        if (pid <= 0) {
            struct timespec ts = { 0, 50 * 1000 * 1000 };
            nanosleep(&ts, NULL);
            if (cnp_now_s() - pg.last >= 1.0)
                progress_tick(&pg, 0);
            continue;
        }
        for (int s = 0; s < jobs; s++) {
            if (run[s].pid != pid)
                continue;
            finish(p, &run[s], wstatus);
            pg.pg.running--;
            pg.pg.done++;
            pg.pg.failed += strcmp(run[s].row->status, "failed") == 0;
            progress_log(&pg, run[s].row);
            progress_tick(&pg, 0);
        }
    }
    if (npending)
        progress_tick(&pg, 1);
    free(run);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    /* Merge each footprint's alerts. */
    for (size_t i = 0; i < p->nfp && st == CNP_OK && !g_stop; i++) {
        const cnp_batch_fp *fp = &p->fp[i];
        if (shard >= 0 && fp->shard != shard)
            continue;
        int written = 0;
        snprintf(path, sizeof path, "%s/%s", p->outroot, fp->name);
        if (make_dir(path) != 0) {
            st = cnp_err(CNP_E_IO, "cannot create '%s': %s", path, strerror(errno));
            break;
        }
        st = cnp_batch_merge_alerts(p, fp, rows, nrows, o->force, &written);
        if (st == CNP_OK && written)
            note(&o->ev, "batch: wrote %s/%s/alerts.gpkg", p->outroot, fp->name);
    }
    if (st == CNP_OK && g_stop)
        st = cnp_err(CNP_E_CANCELLED, "interrupted (signal %d)", (int)g_stop);
    free(pending);
    *rows_out = rows;
    *nrows_out = nrows;
    return st;
}

/* ---- per-footprint alerts.gpkg ---------------------------------------------------- */

/* 1 when `path` holds exactly these pair runs (its `pairs` table). */
static int merged_matches(const char *path, const cnp_batch_row *const *ok, size_t nok)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds)
        return 0;
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "pairs");
    int match = l != NULL && OGR_L_GetFeatureCount(l, 1) == (GIntBig)nok;
    if (match) {
        OGR_L_ResetReading(l);
        OGRFeatureH f;
        size_t i = 0;
        const int fpair = OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(l), "pair");
        const int frun = OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(l), "run_id");
        while (match && (f = OGR_L_GetNextFeature(l)) != NULL) {
            match = fpair >= 0 && frun >= 0 && i < nok &&
                    strcmp(OGR_F_GetFieldAsString(f, fpair), ok[i]->pair->dir) == 0 &&
                    strcmp(OGR_F_GetFieldAsString(f, frun), ok[i]->run_id) == 0;
            i++;
            OGR_F_Destroy(f);
        }
    }
    GDALClose(ds);
    return match;
}

static void add_field(OGRLayerH l, const char *name, OGRFieldType t)
{
    OGRFieldDefnH fd = OGR_Fld_Create(name, t);
    OGR_L_CreateField(l, fd, 1);
    OGR_Fld_Destroy(fd);
}

/* Every alert of one pair's alerts.gpkg into `dst`, with the pair's ids. */
static cnp_status copy_alerts(const cnp_batch_plan *p, const cnp_batch_row *r, GDALDatasetH out,
                              OGRLayerH *dst, const char *tmp)
{
    char src_path[8400];
    cnp_status st = CNP_OK;
    snprintf(src_path, sizeof src_path, "%s/%s/%s/alerts.gpkg", p->outroot, r->fp->name,
             r->pair->dir);
    GDALDatasetH src = GDALOpenEx(src_path, GDAL_OF_VECTOR | GDAL_OF_READONLY |
                                  GDAL_OF_VERBOSE_ERROR, NULL, NULL, NULL);
    OGRLayerH sl = src ? GDALDatasetGetLayerByName(src, "alerts") : NULL;
    if (!sl) {
        st = cnp_err(CNP_E_IO, "cannot read the alerts of %s: %s", src_path, cnp_err_gdal_reason());
        goto done;
    }
    OGRSpatialReferenceH ssrs = OGR_L_GetSpatialRef(sl);
    if (!*dst) {
        char **lco = CSLAddString(NULL, "FID=fid");
        lco = CSLAddString(lco, "GEOMETRY_NAME=geom");
        lco = CSLAddString(lco, "SPATIAL_INDEX=YES");
        *dst = GDALDatasetCreateLayer(out, "alerts", ssrs, wkbMultiPolygon, lco);
        CSLDestroy(lco);
        if (!*dst) {
            st = cnp_err(CNP_E_IO, "cannot create the alerts layer in '%s': %s", tmp,
                         cnp_err_gdal_reason());
            goto done;
        }
        add_field(*dst, "pair", OFTString);
        add_field(*dst, "before_id", OFTString);
        add_field(*dst, "after_id", OFTString);
        OGRFeatureDefnH sd = OGR_L_GetLayerDefn(sl);
        for (int i = 0; i < OGR_FD_GetFieldCount(sd); i++)
            OGR_L_CreateField(*dst, OGR_FD_GetFieldDefn(sd, i), 1);
    }
    OGRSpatialReferenceH dsrs = OGR_L_GetSpatialRef(*dst);
    OGRCoordinateTransformationH ct = NULL;
    if (ssrs && dsrs && !OSRIsSame(ssrs, dsrs)) {
        ct = OCTNewCoordinateTransformation(ssrs, dsrs);
        if (!ct) {
            st = cnp_err(CNP_E_IO, "%s: cannot transform its alerts to the footprint's CRS",
                         src_path);
            goto done;
        }
    }
    OGRFeatureDefnH dd = OGR_L_GetLayerDefn(*dst);
    const int f_pair = OGR_FD_GetFieldIndex(dd, "pair");
    const int f_b = OGR_FD_GetFieldIndex(dd, "before_id");
    const int f_a = OGR_FD_GetFieldIndex(dd, "after_id");
    OGR_L_ResetReading(sl);
    OGRFeatureH f;
    while (st == CNP_OK && (f = OGR_L_GetNextFeature(sl)) != NULL) {
        OGRFeatureH nf = OGR_F_Create(dd);
        OGR_F_SetFrom(nf, f, 1);
        OGR_F_SetFID(nf, OGRNullFID);
        OGR_F_SetFieldString(nf, f_pair, r->pair->dir);
        OGR_F_SetFieldString(nf, f_b, r->fp->scene[r->pair->before].id);
        OGR_F_SetFieldString(nf, f_a, r->fp->scene[r->pair->after].id);
        OGRGeometryH g = OGR_F_GetGeometryRef(nf);
        if (ct && g && OGR_G_Transform(g, ct) != OGRERR_NONE)
            st = cnp_err(CNP_E_IO, "%s: cannot transform an alert", src_path);
        if (st == CNP_OK && OGR_L_CreateFeature(*dst, nf) != OGRERR_NONE)
            st = cnp_err(CNP_E_IO, "cannot write to '%s': %s", tmp, cnp_err_gdal_reason());
        OGR_F_Destroy(nf);
        OGR_F_Destroy(f);
    }
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
done:
    if (src)
        GDALClose(src);
    return st;
}

cnp_status cnp_batch_merge_alerts(const cnp_batch_plan *p, const cnp_batch_fp *fp,
                                  const cnp_batch_row *rows, size_t nrows, int force,
                                  int *written)
{
    char path[8400], tmp[8500];
    const cnp_batch_row **ok = calloc(nrows + 1, sizeof *ok);
    size_t nok = 0;
    cnp_status st = CNP_OK;
    char latest[CNP_DATE_LEN] = "2000-01-01";

    *written = 0;
    if (!ok)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    for (size_t i = 0; i < nrows; i++) {
        if (rows[i].fp != fp || strcmp(rows[i].status, "ok") != 0)
            continue;
        ok[nok++] = &rows[i];
        const char *d = fp->scene[rows[i].pair->after].date;
        if (strcmp(d, latest) > 0)
            snprintf(latest, sizeof latest, "%s", d);
    }
    snprintf(path, sizeof path, "%s/%s/alerts.gpkg", p->outroot, fp->name);
    /* A merge killed earlier (kill -9, a node lost) left its file behind. */
    cnp_tmp_remove_dead(path);
    if (!force && merged_matches(path, ok, nok)) {
        free(ok);
        return CNP_OK;
    }
    cnp_tmp_path(path, tmp, sizeof tmp);
    unlink(tmp);

    /* The same alerts give the same file: pin the GeoPackage's timestamp. */
    char stamp[40];
    cnp_gdal_gpkg_stamp(stamp, sizeof stamp, latest);
    CPLSetConfigOption("OGR_CURRENT_DATE", stamp);
    cnp_err_gdal_reset();
    GDALDriverH drv = GDALGetDriverByName("GPKG");
    GDALDatasetH out = drv ? GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, NULL) : NULL;
    OGRLayerH dst = NULL;
    if (!out) {
        st = cnp_err(CNP_E_IO, "cannot create '%s': %s", tmp, cnp_err_gdal_reason());
        goto done;
    }
    GDALDatasetStartTransaction(out, 0);
    for (size_t i = 0; i < nok && st == CNP_OK; i++)
        st = copy_alerts(p, ok[i], out, &dst, tmp);
    if (st == CNP_OK && !dst) {
        char **lco = CSLAddString(NULL, "FID=fid");
        lco = CSLAddString(lco, "GEOMETRY_NAME=geom");
        dst = GDALDatasetCreateLayer(out, "alerts", NULL, wkbMultiPolygon, lco);
        CSLDestroy(lco);
        if (dst) {
            add_field(dst, "pair", OFTString);
            add_field(dst, "before_id", OFTString);
            add_field(dst, "after_id", OFTString);
        }
    }
    /* The runs merged, so the next batch can tell whether this file is current. */
    OGRLayerH pl = st == CNP_OK ? GDALDatasetCreateLayer(out, "pairs", NULL, wkbNone, NULL)
                                : NULL;
    if (st == CNP_OK && !pl)
        st = cnp_err(CNP_E_IO, "cannot create the pairs table in '%s': %s", tmp, cnp_err_gdal_reason());
    if (st == CNP_OK) {
        static const struct { const char *name; OGRFieldType t; } pf[] = {
            { "pair", OFTString }, { "before_id", OFTString }, { "before_date", OFTDate },
            { "after_id", OFTString }, { "after_date", OFTDate }, { "alerts", OFTInteger64 },
            { "area_ha", OFTReal }, { "observed_share", OFTReal }, { "run_id", OFTString },
        };
        for (size_t i = 0; i < sizeof pf / sizeof pf[0]; i++)
            add_field(pl, pf[i].name, pf[i].t);
        for (size_t i = 0; i < nok && st == CNP_OK; i++) {
            const cnp_batch_row *r = ok[i];
            const cnp_batch_scene *b = &fp->scene[r->pair->before], *a = &fp->scene[r->pair->after];
            OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(pl));
            OGR_F_SetFieldString(f, 0, r->pair->dir);
            OGR_F_SetFieldString(f, 1, b->id);
            OGR_F_SetFieldString(f, 2, b->date);
            OGR_F_SetFieldString(f, 3, a->id);
            OGR_F_SetFieldString(f, 4, a->date);
            OGR_F_SetFieldInteger64(f, 5, r->alerts);
            OGR_F_SetFieldDouble(f, 6, r->area_ha);
            OGR_F_SetFieldDouble(f, 7, r->observed_share);
            OGR_F_SetFieldString(f, 8, r->run_id);
            if (OGR_L_CreateFeature(pl, f) != OGRERR_NONE)
                st = cnp_err(CNP_E_IO, "cannot write to '%s': %s", tmp, cnp_err_gdal_reason());
            OGR_F_Destroy(f);
        }
    }
    GDALDatasetCommitTransaction(out);
    CPLErrorReset();
    GDALClose(out);
    if (st == CNP_OK && CPLGetLastErrorType() >= CE_Failure)
        st = cnp_err(CNP_E_IO, "writing '%s': %s", tmp, cnp_err_gdal_reason());
    if (st == CNP_OK && rename(tmp, path) != 0)
        st = cnp_err(CNP_E_IO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
    if (st == CNP_OK)
        *written = 1;
done:
    if (st != CNP_OK)
        unlink(tmp);
    CPLSetConfigOption("OGR_CURRENT_DATE", NULL);
    free(ok);
    return st;
}

/* ---- summaries ---------------------------------------------------------------------- */

/* A text cell: quoted where needed, never a formula (base/cnp_ident). */
static void csv_field(FILE *f, const char *s, int last)
{
    cnp_ident_write_csv(f, s);
    fputc(last ? '\n' : ',', f);
}

static void csv_num(FILE *f, double v, int decimals)
{
    if (isfinite(v))
        fprintf(f, "%.*f", decimals, v);
    fputc(',', f);
}

static void json_row(cnp_json *j, const cnp_batch_row *r)
{
    const cnp_batch_scene *b = &r->fp->scene[r->pair->before], *a = &r->fp->scene[r->pair->after];
    cnp_json_object(j, NULL);
    cnp_json_str(j, "footprint", r->fp->name);
    cnp_json_str(j, "pair", r->pair->dir);
    cnp_json_str(j, "before_id", b->id);
    cnp_json_str(j, "before_date", b->date);
    cnp_json_str(j, "after_id", a->id);
    cnp_json_str(j, "after_date", a->date);
    if (r->alerts >= 0)
        cnp_json_int(j, "alerts", r->alerts);
    else
        cnp_json_str(j, "alerts", NULL);
    cnp_json_num(j, "area_ha", isfinite(r->area_ha) ? round(r->area_ha * 1e4) / 1e4 : NAN);
    cnp_json_num(j, "observed_share",
                 isfinite(r->observed_share) ? round(r->observed_share * 1e4) / 1e4 : NAN);
    cnp_json_num(j, "seconds", isfinite(r->seconds) ? round(r->seconds * 100) / 100 : NAN);
    cnp_json_str(j, "status", r->status);
    cnp_json_str(j, "message", r->message[0] ? r->message : NULL);
    cnp_json_str(j, "run_id", r->run_id[0] ? r->run_id : NULL);
    cnp_json_close(j, '}');
}

/* Replace `path` with `data` unless it holds exactly that already. */
static cnp_status write_if_changed(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (f) {
        char *old = malloc(len + 2);
        const size_t n = old ? fread(old, 1, len + 1, f) : 0;
        const int same = old && n == len && memcmp(old, data, len) == 0;
        free(old);
        fclose(f);
        if (same)
            return CNP_OK;
    }
    char tmp[8500];
    cnp_tmp_remove_dead(path);
    cnp_tmp_path(path, tmp, sizeof tmp);
    f = fopen(tmp, "wb");
    if (!f)
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", tmp, strerror(errno));
    const int bad = fwrite(data, 1, len, f) != len;
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        const int e = errno;
        unlink(tmp);
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", path, strerror(e));
    }
    return CNP_OK;
}

cnp_status cnp_batch_write_summary(const cnp_batch_plan *p, int shard,
                                   const cnp_batch_row *rows, size_t nrows)
{
    char path[8400];
    char *buf = NULL;
    size_t len = 0;
    cnp_status st;
    size_t nok = 0, nfail = 0, nskip = 0, nin = 0, nunobs = 0;

    for (size_t i = 0; i < nrows; i++) {
        nok += strcmp(rows[i].status, "ok") == 0;
        nfail += strcmp(rows[i].status, "failed") == 0;
        nskip += strcmp(rows[i].status, "skipped") == 0;
        nunobs += cnp_batch_row_not_observed(&rows[i]);
    }
    for (size_t i = 0; i < p->nitem && shard < 0; i++)
        nin += strcmp(p->item[i].status, "failed") == 0;

    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    cnp_json j;
    cnp_json_begin(&j, m);
    cnp_json_str(&j, "program", "canopy");
    cnp_json_str(&j, "kind", shard >= 0 ? "batch-shard-summary" : "batch-summary");
    cnp_json_str(&j, "outroot", p->outroot);
    if (shard >= 0) {
        cnp_json_str(&j, "plan_id", p->plan_id);
        cnp_json_int(&j, "shard", shard);
    }
    cnp_json_int(&j, "pairs", (int64_t)nrows);
    cnp_json_int(&j, "ok", (int64_t)nok);
    cnp_json_int(&j, "skipped", (int64_t)nskip);
    cnp_json_int(&j, "not_observed", (int64_t)nunobs);
    cnp_json_int(&j, "failed", (int64_t)nfail);
    if (shard < 0)
        cnp_json_int(&j, "inputs_failed", (int64_t)nin);
    cnp_json_array(&j, "rows");
    for (size_t i = 0; i < nrows; i++)
        json_row(&j, &rows[i]);
    cnp_json_close(&j, ']');
    int any_unreported = 0;
    for (size_t i = 0; i < nrows; i++)
        any_unreported |= rows[i].unreported;
    if (shard < 0 && (p->nshards > 1 || any_unreported)) {
        /* A sharded plan: the shards to run again (not reported, or failed pairs). */
        cnp_json_array(&j, "shards_to_rerun");
        for (int k = 0; k < p->nshards; k++) {
            size_t unrep, nf;
            cnp_batch_shard_counts(rows, nrows, k, &unrep, &nf);
            if (!unrep && !nf)
                continue;
            cnp_json_object(&j, NULL);
            cnp_json_int(&j, "shard", k);
            cnp_json_int(&j, "pairs_not_reported", (int64_t)unrep);
            cnp_json_int(&j, "pairs_failed", (int64_t)nf);
            cnp_json_close(&j, '}');
        }
        cnp_json_close(&j, ']');
    }
    if (shard < 0) {
        cnp_json_array(&j, "inputs_not_used");
        for (size_t i = 0; i < p->nitem; i++) {
            cnp_json_object(&j, NULL);
            cnp_json_str(&j, "path", p->item[i].path);
            cnp_json_str(&j, "status", p->item[i].status);
            cnp_json_str(&j, "reason", p->item[i].reason);
            cnp_json_close(&j, '}');
        }
        cnp_json_close(&j, ']');
    }
    cnp_json_end(&j);
    fclose(m);

    if (shard >= 0) {
        snprintf(path, sizeof path, "%s/shards", p->outroot);
        if (make_dir(p->outroot) != 0 || make_dir(path) != 0) {
            free(buf);
            return cnp_err(CNP_E_IO, "cannot create '%s': %s", path, strerror(errno));
        }
        snprintf(path, sizeof path, "%s/shards/shard-%d.json", p->outroot, shard);
        st = write_if_changed(path, buf, len);
        free(buf);
        return st;
    }
    if (make_dir(p->outroot) != 0) {
        free(buf);
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", p->outroot, strerror(errno));
    }
    snprintf(path, sizeof path, "%s/summary.json", p->outroot);
    st = write_if_changed(path, buf, len);
    free(buf);
    if (st != CNP_OK)
        return st;

    buf = NULL;
    len = 0;
    m = open_memstream(&buf, &len);
    if (!m)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    fputs("footprint,pair,before_id,before_date,after_id,after_date,alerts,area_ha,"
          "observed_share,seconds,status,message\n", m);
    for (size_t i = 0; i < nrows; i++) {
        const cnp_batch_row *r = &rows[i];
        const cnp_batch_scene *b = &r->fp->scene[r->pair->before];
        const cnp_batch_scene *a = &r->fp->scene[r->pair->after];
        csv_field(m, r->fp->name, 0);
        csv_field(m, r->pair->dir, 0);
        csv_field(m, b->id, 0);
        csv_field(m, b->date, 0);
        csv_field(m, a->id, 0);
        csv_field(m, a->date, 0);
        if (r->alerts >= 0)
            fprintf(m, "%lld", (long long)r->alerts);
        fputc(',', m);
        csv_num(m, r->area_ha, 4);
        csv_num(m, r->observed_share, 4);
        csv_num(m, r->seconds, 2);
        csv_field(m, r->status, 0);
        csv_field(m, r->message, 1);
    }
    for (size_t i = 0; i < p->nitem; i++) {
        if (strcmp(p->item[i].status, "failed") != 0)
            continue;
        char msg[8400];
        snprintf(msg, sizeof msg, "input %s: %s", p->item[i].path, p->item[i].reason);
        fputs(",,,,,,,,,,failed,", m);
        csv_field(m, msg, 1);
    }
    fclose(m);
    snprintf(path, sizeof path, "%s/summary.csv", p->outroot);
    st = write_if_changed(path, buf, len);
    free(buf);
    return st;
}

cnp_status cnp_batch_read_shards(const cnp_batch_plan *p, cnp_batch_row **rows_out,
                                 size_t *nrows_out)
{
    size_t nrows = 0;
    for (size_t i = 0; i < p->nfp; i++)
        nrows += p->fp[i].npair;
    cnp_batch_row *rows = calloc(nrows + 1, sizeof *rows);
    json_object **shard = calloc((size_t)p->nshards + 1, sizeof *shard);
    if (!rows || !shard) {
        free(rows);
        free(shard);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    for (int s = 0; s < p->nshards; s++) {
        char path[8400];
        snprintf(path, sizeof path, "%s/shards/shard-%d.json", p->outroot, s);
        shard[s] = json_object_from_file(path);
        json_object *id = jget(shard[s], "plan_id", json_type_string);
        if (shard[s] && (!id || strcmp(json_object_get_string(id), p->plan_id) != 0)) {
            json_object_put(shard[s]);
            shard[s] = NULL;       /* left by another plan */
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < p->nfp; i++) {
        const cnp_batch_fp *fp = &p->fp[i];
        json_object *list = jget(shard[fp->shard], "rows", json_type_array);
        for (size_t j = 0; j < fp->npair; j++) {
            cnp_batch_row *r = &rows[k++];
            row_init(r, fp, &fp->pair[j]);
            json_object *found = NULL;
            for (size_t x = 0; list && x < json_object_array_length(list) && !found; x++) {
                json_object *o = json_object_array_get_idx(list, x);
                json_object *f = jget(o, "footprint", json_type_string);
                json_object *d = jget(o, "pair", json_type_string);
                if (f && d && strcmp(json_object_get_string(f), fp->name) == 0 &&
                    strcmp(json_object_get_string(d), fp->pair[j].dir) == 0)
                    found = o;
            }
            if (!found) {
                char msg[200];
                snprintf(msg, sizeof msg, "shard %d has not reported this pair (not run yet, "
                         "still running, or stopped before its end)", fp->shard);
                row_fail(r, msg);
                r->unreported = 1;
                continue;
            }
            json_object *v;
            v = jget(found, "status", json_type_string);
            snprintf(r->status, sizeof r->status, "%s", v ? json_object_get_string(v) : "failed");
            v = jget(found, "message", json_type_string);
            snprintf(r->message, sizeof r->message, "%s", v ? json_object_get_string(v) : "");
            v = jget(found, "run_id", json_type_string);
            snprintf(r->run_id, sizeof r->run_id, "%s", v ? json_object_get_string(v) : "");
            v = jget(found, "alerts", json_type_int);
            r->alerts = v ? json_object_get_int64(v) : -1;
            r->area_ha = jnum(found, "area_ha");
            r->observed_share = jnum(found, "observed_share");
            r->seconds = jnum(found, "seconds");
        }
    }
    for (int s = 0; s < p->nshards; s++)
        json_object_put(shard[s]);
    free(shard);
    *rows_out = rows;
    *nrows_out = nrows;
    return CNP_OK;
}
