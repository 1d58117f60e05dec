/* pipeline/batch/cnp_batch_run.c - `canopy batch`: running the pairs, merging
 * alerts per footprint, and the summaries.
 *
 * Each pair runs in a child process (fork, then cnp_detect_run), for
 * isolation only: a crash, an abort or a memory blow-up (the OOM killer) in
 * one pair kills that pair, not the batch, and GDAL's block cache, which is
 * the process's whatever we do, is capped per pair (--max-memory / jobs).
 * Detect's per-pair state is its own (OGR_CURRENT_DATE is set per thread,
 * temporary names carry the target's name), so pairs run in one process
 * would give the same outputs. Children die with the parent (PR_SET_PDEATHSIG), so a killed batch
 * leaves no writer behind. A pair's folder is replaced whole by detect's
 * commit (cnp_staging.h): a pair killed half-way left its earlier run or none,
 * and a staging folder (or a commit cut short) the next batch removes (or
 * finishes) for every pair before it decides what to run, whether the pair
 * runs again or not; a pair run again replaces its run (overwrite) and keeps
 * the user's files in its folder.
 */
#include "cnp_batch_context.h"
#include "cnp_batch_int.h"

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
#include "cnp_product.h"
#include "cnp_staging.h"
#include "cnp_tmpfile.h"

int cnp_batch_make_dir(const char *path)
{
    return mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

json_object *cnp_batch_jget(json_object *o, const char *key, json_type t)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t))
        return NULL;
    return v;
}

double cnp_batch_jnum(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v) ||
        !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return NAN;
    return json_object_get_double(v);
}

/* ---- rows ------------------------------------------------------------------ */

void cnp_batch_row_init(cnp_batch_row *r, const cnp_batch_fp *fp, const cnp_batch_pair *pr)
{
    memset(r, 0, sizeof *r);
    r->fp = fp;
    r->pair = pr;
    r->alerts = -1;
    r->area_ha = r->observed_share = r->seconds = NAN;
}

void cnp_batch_row_fail(cnp_batch_row *r, const char *msg)
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
    json_object *counts = cnp_batch_jget(run, "counts", json_type_object);
    if (!counts) {
        cnp_batch_row_fail(r, "run.json is unreadable");
        json_object_put(run);
        return;
    }
    /* Rounded as the summaries write them, so a row reads the same from
     * run.json and from a shard summary. */
    r->alerts = (int64_t)cnp_batch_jnum(counts, "alerts");
    r->area_ha = round(cnp_batch_jnum(run, "total_alert_area_ha") * 1e4) / 1e4;
    const double obs = cnp_batch_jnum(counts, "observed_pixels"), win = cnp_batch_jnum(counts, "window_pixels");
    r->observed_share = win > 0 ? round(obs / win * 1e4) / 1e4 : NAN;
    r->seconds = round(cnp_batch_jnum(cnp_batch_jget(run, "timings_s", json_type_object), "total") * 100) / 100;
    json_object *id = cnp_batch_jget(run, "run_id", json_type_string);
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
    cnp_batch_make_dir(dir);
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
    if (p->context)
        cnp_batch_context_job(p->context, &job);
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
        cnp_batch_row_fail(r, msg);
    } else {
        const char *nl = strchr(buf, '\n');
        cnp_batch_row_fail(r, nl && nl[1] ? nl + 1 : "detect failed without a message");
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

/* Run the pending pairs, `jobs` children at a time, until all have finished
 * or a signal stopped the batch (the rest are then failed rows). */
static cnp_status run_pending(const cnp_batch_plan *p, const cnp_batch_run_opts *o,
                              task *pending, size_t npending, int jobs, int per_threads,
                              int per_memory, progress *pgp)
{
    cnp_status st = CNP_OK;
    progress pg = *pgp;
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
                cnp_batch_row_fail(run[s].row, "cannot start a process for it");
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
                    cnp_batch_row_fail(pending[next].row, "not run: the batch was interrupted");
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
    *pgp = pg;
    return st;
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
    if (cnp_batch_make_dir(p->outroot) != 0) {
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
            cnp_batch_row_init(r, fp, &fp->pair[j]);
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

    /* A plan read from a file has no product session yet: one for the
     * children to inherit, so each loads the profiles once. */
    cnp_product_session *own = NULL;
    if (!p->products && cnp_product_session_begin(&p->settings, &own) != CNP_OK)
        own = NULL;                             /* only slower */

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    g_stop = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    st = run_pending(p, o, pending, npending, jobs, per_threads, per_memory, &pg);
    cnp_product_session_end(&own);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    /* Merge each footprint's alerts. */
    for (size_t i = 0; i < p->nfp && st == CNP_OK && !g_stop; i++) {
        const cnp_batch_fp *fp = &p->fp[i];
        if (shard >= 0 && fp->shard != shard)
            continue;
        int written = 0;
        snprintf(path, sizeof path, "%s/%s", p->outroot, fp->name);
        if (cnp_batch_make_dir(path) != 0) {
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
