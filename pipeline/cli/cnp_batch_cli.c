/* pipeline/cli/cnp_batch_cli.c - `canopy batch`: options, modes, what it prints
 * and its exit code (the meanings: cnp_help.c's exit uses).
 *
 * A --shard task exits 0 when its pairs fail: the failures are in its shard
 * summary and --merge exits 1 for them (naming the shards to run again); the
 * Slurm merge job runs after the array in any state (--dependency=afterany).
 */
#include "cnp_batch.h"
#include "cnp_batch_context.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gdal.h>
#include <omp.h>

#include "cnp_cli.h"
#include "cnp_cli_cmds.h"
#include "cnp_err.h"
#include "cnp_exit.h"
#include "cnp_fs.h"
#include "cnp_ident.h"
#include "cnp_output.h"

#define EXIT_OK CNP_EXIT_OK
#define EXIT_RUNTIME CNP_EXIT_RUNTIME
#define EXIT_USAGE CNP_EXIT_USAGE

static int valid_date(const char *s)
{
    int y, m, d, n = 0;
    return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && n == 10 &&
           m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static void absolute(const char *in, char *out, size_t size)
{
    char cwd[PATH_MAX];
    if (in[0] == '/' || !getcwd(cwd, sizeof cwd)) {
        snprintf(out, size, "%s", in);
    } else {
        const size_t c = strlen(cwd), i = strlen(in);
        if (c + 1 + i + 1 > size) {
            snprintf(out, size, "%s", in);
        } else {
            memcpy(out, cwd, c);
            out[c] = '/';
            memcpy(out + c + 1, in, i + 1);
        }
    }
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
}

static void report(const cnp_batch_plan *p, const cnp_batch_row *rows, size_t nrows,
                   int quiet, const char *where)
{
    size_t ok = 0, skip = 0, fail = 0, bad = 0, unobs = 0;
    for (size_t i = 0; i < nrows; i++) {
        unobs += cnp_batch_row_not_observed(&rows[i]);
        ok += strcmp(rows[i].status, "ok") == 0;
        skip += strcmp(rows[i].status, "skipped") == 0;
        fail += strcmp(rows[i].status, "failed") == 0;
    }
    for (size_t i = 0; i < p->nitem; i++)
        bad += strcmp(p->item[i].status, "failed") == 0;
    if (!quiet) {
        printf("canopy: %zu pair%s: %zu ok, %zu skipped (%zu not observed), %zu failed", nrows,
               nrows == 1 ? "" : "s", ok, skip, unobs, fail);
        if (bad)
            printf("; %zu input%s could not be read", bad, bad == 1 ? "" : "s");
        printf(" -> %s\n", where);
    }
    for (size_t i = 0; i < nrows && !quiet; i++)
        if (strcmp(rows[i].status, "failed") == 0)
            fprintf(stderr, "canopy: %s/%s failed: %s\n", rows[i].fp->name, rows[i].pair->dir,
                    rows[i].message);
}

static int rows_failed(const cnp_batch_plan *p, const cnp_batch_row *rows, size_t nrows)
{
    for (size_t i = 0; i < nrows; i++)
        if (strcmp(rows[i].status, "failed") == 0)
            return 1;
    for (size_t i = 0; i < p->nitem; i++)
        if (strcmp(p->item[i].status, "failed") == 0)
            return 1;
    return 0;
}

/* What the command line asks for. */
typedef struct batch_args {
    const char *outroot, *plan_path;
    int         list, plan_only, merge, print_config, no_evidence, no_hash;
    unsigned    skip_outputs;
    long        shards, shard, max_chips, max_gap;
    int         max_chips_given;     /* --max-chips on the command line */
    double      min_observed;
    int         pairs_mode;
    char        baseline[CNP_DATE_LEN];
} batch_args;

/* One of batch's own options. @return -1 to go on, else the exit code. */
static int batch_option(cnp_cli *c, const cnp_option *o, batch_args *a, cnp_batch_run_opts *ro)
{
    long n;
    int taken;
    const int rc = cnp_cli_context_option(c, o, &taken);
    if (taken)
        return rc;
    switch (o->id) {
    case 'o': a->outroot = optarg; break;
    case 'j':
        if (cnp_cli_count(optarg, 1, 4096, &n))
            return cnp_cli_usage_error(c, "--jobs: expected a count 1-4096, not '%s'", optarg);
        ro->jobs = (int)n;
        break;
    case OPT_TOTAL_THREADS:
        if (cnp_cli_count(optarg, 0, 4096, &n))
            return cnp_cli_usage_error(c, "--threads: expected a count 0-4096, not '%s'", optarg);
        ro->threads = (int)n;
        break;
    case OPT_TOTAL_MEMORY:
        if (cnp_cli_count(optarg, 64, 1L << 24, &n))
            return cnp_cli_usage_error(c, "--max-memory: expected megabytes, 64 or more, not "
                                       "'%s'", optarg);
        ro->max_memory_mb = (int)n;
        break;
    case OPT_PAIRS:
        if (strcmp(optarg, "consecutive") == 0)
            a->pairs_mode = CNP_PAIRS_CONSECUTIVE;
        else if (strcmp(optarg, "baseline") == 0)
            a->pairs_mode = CNP_PAIRS_BASELINE;
        else
            return cnp_cli_usage_error(c, "--pairs: expected consecutive or baseline, not '%s'",
                                       optarg);
        break;
    case OPT_BASELINE_DATE:
        if (!valid_date(optarg))
            return cnp_cli_usage_error(c, "--baseline-date: expected YYYY-MM-DD, not '%s'",
                                       optarg);
        snprintf(a->baseline, sizeof a->baseline, "%s", optarg);
        break;
    case OPT_MAX_GAP:
        if (cnp_cli_count(optarg, 1, 100000, &a->max_gap))
            return cnp_cli_usage_error(c, "--max-gap: expected days, 1 or more, not '%s'", optarg);
        break;
    case OPT_MIN_OBSERVED: {
        char *end = NULL;
        a->min_observed = strtod(optarg, &end);
        if (end == optarg || *end || !(a->min_observed >= 0 && a->min_observed <= 1))
            return cnp_cli_usage_error(c, "--min-observed: expected a share 0-1, not '%s'",
                                       optarg);
        break;
    }
    case OPT_FORCE: ro->force = 1; break;
    case OPT_LIST: a->list = 1; break;
    case OPT_PLAN_ONLY: a->plan_only = 1; break;
    case OPT_SHARDS:
        if (cnp_cli_count(optarg, 1, 100000, &a->shards))
            return cnp_cli_usage_error(c, "--shards: expected a count 1-100000, not '%s'", optarg);
        break;
    case OPT_PLAN: a->plan_path = optarg; break;
    case OPT_SHARD:
        if (cnp_cli_count(optarg, 0, 99999, &a->shard))
            return cnp_cli_usage_error(c, "--shard: expected a shard number 0-99999, not '%s'",
                                       optarg);
        break;
    case OPT_MERGE: a->merge = 1; break;
    case OPT_NO_EVIDENCE: a->no_evidence = 1; break;
    case OPT_OUTPUTS: {
        unsigned keep;
        if (cnp_outputs_parse(optarg, "--outputs", &keep) != CNP_OK)
            return cnp_cli_usage_error(c, "%s", cnp_err_msg());
        /* The footprint's alerts.gpkg is merged from the pairs' own. */
        if (!(keep & CNP_OUT_GPKG))
            return cnp_cli_usage_error(c, "%s", "--outputs: batch needs gpkg (each footprint's "
                                       "alerts.gpkg gathers its pairs')");
        a->skip_outputs = CNP_OUT_ALL & ~keep;
        break;
    }
    case OPT_NO_HASH: a->no_hash = 1; break;
    case OPT_PRINT_CONFIG: a->print_config = 1; break;
    case OPT_MAX_CHIPS:
        if (cnp_cli_count(optarg, 0, 1L << 30, &a->max_chips))
            return cnp_cli_usage_error(c, "--max-chips: expected a count >= 0, not '%s'", optarg);
        a->max_chips_given = 1;
        break;
    default:
        return cnp_cli_usage_error(c, "--%s is not an option of batch", o->name);
    }
    return -1;
}

/* ---- what batch prints: its events (cnp_batch_events) ------------------------------- */

typedef struct batch_view {
    const cnp_cli *c;
    int            tty;
} batch_view;

static void on_note(void *arg, const char *line)
{
    const batch_view *v = arg;
    if (v->c->quiet)
        return;
    cnp_ident_write_term(stderr, line);
    fputc('\n', stderr);
}

static void fmt_time(double s, char *out, size_t size)
{
    if (!isfinite(s) || s < 0) {
        snprintf(out, size, "--:--");
        return;
    }
    const long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, size, "%ld:%02ld", t / 60, t % 60);
}

/* On a terminal: one line redrawn, with a bar and the time left. */
static void on_progress(void *arg, const cnp_batch_progress *pg, int final)
{
    const batch_view *v = arg;
    if (!v->tty || v->c->quiet)
        return;
    const double el = pg->elapsed_s;
    const double rate = el > 0 ? (double)pg->done / el : 0;
    char eta[32], spent[32], bar[31];
    fmt_time(rate > 0 ? (double)(pg->total - pg->done) / rate : NAN, eta, sizeof eta);
    fmt_time(el, spent, sizeof spent);
    const size_t fill = pg->total ? 30 * pg->done / pg->total : 30;
    for (size_t i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r\033[K[%s] %zu/%zu pairs  %d running  %zu failed  %.1f pairs/min  "
            "%s  ETA %s", bar, pg->done, pg->total, pg->running, pg->failed, 60 * rate, spent,
            final ? "0:00" : eta);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

/* Not on a terminal (a log): a line per pair. */
static void on_pair(void *arg, const cnp_batch_progress *pg, const cnp_batch_row *r)
{
    const batch_view *v = arg;
    char line[2048];
    if (v->c->quiet || v->tty)
        return;
    /* A failure, or a pair skipped without a run (not observed): its reason. */
    if (strcmp(r->status, "failed") == 0 || (strcmp(r->status, "skipped") == 0 && r->alerts < 0))
        snprintf(line, sizeof line, "batch: [%zu/%zu] %s/%s %s: %s", pg->done, pg->total,
                 r->fp->name, r->pair->dir, r->status, r->message);
    else
        snprintf(line, sizeof line, "batch: [%zu/%zu] %s/%s %s: %lld alerts, %.2f ha, %.0f%% "
                 "observed, %.1f s", pg->done, pg->total, r->fp->name, r->pair->dir, r->status,
                 (long long)r->alerts, r->area_ha, 100 * r->observed_share, r->seconds);
    on_note(arg, line);
}

static int run_modes(int argc, char **argv, char **args)
{
    cnp_cli cli;
    batch_args a;
    batch_view view;
    const cnp_option *o;
    int rc = -1;
    cnp_batch_run_opts ro;
    cnp_batch_plan plan;
    cnp_batch_row *rows = NULL;
    size_t nrows = 0;
    cnp_status st = CNP_OK;

    memset(&a, 0, sizeof a);
    a.max_chips = CNP_MAX_CHIPS_DEFAULT;
    a.shard = -1;
    a.pairs_mode = CNP_PAIRS_CONSECUTIVE;
    memset(&ro, 0, sizeof ro);
    ro.argc = argc;
    ro.argv = argv;
    cnp_batch_plan_init(&plan);
    cnp_cli_init(&cli, CNP_CMD_BATCH, "batch");
    view.c = &cli;
    view.tty = isatty(STDERR_FILENO);
    ro.ev = (cnp_batch_events){ &view, on_note, on_pair, on_progress };

    optind = 1;
    while (rc < 0 && (o = cnp_cli_next(&cli, argc - 1, args, &rc)) != NULL)
        rc = batch_option(&cli, o, &a, &ro);
    if (rc >= 0)
        goto out;
    rc = EXIT_OK;
    const char *outroot = a.outroot, *config = cli.config, *plan_path = a.plan_path;
    const int list = a.list, plan_only = a.plan_only, merge = a.merge, no_evidence = a.no_evidence;
    const long shards = a.shards, shard = a.shard;
    const int quiet = cli.quiet;
    const size_t ncli = cli.nset;
    const int ninputs = argc - 1 - optind;
    char **inputs = args + optind;
    const int from_plan = shard >= 0 || merge || (plan_path && !plan_only && ninputs == 0);

    /* Which mode, and do the options fit it? */
    if (shard >= 0 && merge) {
        rc = cnp_cli_usage_error(&cli, "%s", "--shard and --merge are separate steps");
        goto out;
    }
    if (shards && !plan_only) {
        rc = cnp_cli_usage_error(&cli, "%s", "--shards goes with --plan-only");
        goto out;
    }
    if (a.pairs_mode == CNP_PAIRS_BASELINE && !a.baseline[0] && !from_plan) {
        rc = cnp_cli_usage_error(&cli, "%s", "--pairs baseline needs --baseline-date DATE");
        goto out;
    }
    if (from_plan) {
        if (!plan_path) {
            rc = cnp_cli_usage_error(&cli, "%s", "--shard and --merge need --plan FILE");
            goto out;
        }
        if (ninputs > 0 || ncli > 0 || config || outroot || plan_only || no_evidence ||
            a.skip_outputs || a.no_hash || a.max_chips_given || a.max_gap || a.min_observed > 0 ||
            a.baseline[0] || a.pairs_mode != CNP_PAIRS_CONSECUTIVE || cli.nzones || cli.aoi ||
            cli.ctx.forest || cli.ctx.exclude) {
            rc = cnp_cli_usage_error(&cli, "%s", "with --plan FILE, the inputs, OUTROOT, pairing rules and "
                             "detect settings come from the plan: give only --shard K or "
                             "--merge, --list, --jobs, --threads, --max-memory, --force, -q");
            goto out;
        }
    } else {
        if ((rc = cnp_cli_settings(&cli, &plan.settings)) != EXIT_OK)
            goto out;
        if (a.print_config) {
            cnp_settings_write_ini(&plan.settings, stdout);
            goto out;
        }
        if (ninputs < 1) {
            rc = cnp_cli_usage_error(&cli, "%s", "batch needs at least one INPUT (folder, archive, STAC "
                             "item, raster or list file)");
            goto out;
        }
        if (!outroot) {
            rc = cnp_cli_usage_error(&cli, "%s", "missing -o OUTROOT");
            goto out;
        }
        if (cnp_outputs_check(a.skip_outputs, no_evidence) != CNP_OK) {
            rc = cnp_cli_usage_error(&cli, "%s", cnp_err_msg());
            goto out;
        }
        if ((rc = cnp_cli_context_check(&cli)) >= 0)
            goto out;
        rc = EXIT_OK;
        if ((cli.nzones || cli.aoi || cli.ctx.forest || cli.ctx.exclude) &&
            (!(plan.context = calloc(1, sizeof *plan.context)) ||
             cnp_batch_context_set(plan.context, cli.zones, cli.nzones, cli.zone_field, &cli.ctx,
                                   cli.aoi) != CNP_OK)) {
            cnp_cli_error(&cli, "out of memory");
            rc = EXIT_RUNTIME;
            goto out;
        }
        absolute(outroot, plan.outroot, sizeof plan.outroot);
        plan.config_path = config ? strdup(config) : NULL;
        plan.no_evidence = no_evidence;
        plan.skip_outputs = a.skip_outputs;
        plan.no_hash = a.no_hash;
        plan.max_chips = (size_t)a.max_chips;
        plan.pairs_mode = a.pairs_mode;
        snprintf(plan.baseline_date, sizeof plan.baseline_date, "%s", a.baseline);
        plan.max_gap_days = (int)a.max_gap;
        plan.min_observed = a.min_observed;
        /* The threads setting of a config file is the batch's budget. */
        if (!ro.threads)
            ro.threads = plan.settings.threads;
    }
    {
        int threads = ro.threads > 0 ? ro.threads : omp_get_num_procs();
        int jobs = ro.jobs > 0 ? ro.jobs : (threads / 4 > 1 ? threads / 4 : 1);
        if (ro.max_memory_mb > 0 && ro.max_memory_mb / jobs < 64) {
            char msg[160];
            snprintf(msg, sizeof msg, "--max-memory %d MB over %d jobs leaves %d MB a job; "
                     "detect needs at least 64", ro.max_memory_mb, jobs, ro.max_memory_mb / jobs);
            rc = cnp_cli_usage_error(&cli, "%s", msg);
            goto out;
        }
    }

    cnp_cli_gdal_begin(&cli);

    if (from_plan) {
        if ((st = cnp_batch_plan_read(&plan, plan_path)) != CNP_OK)
            goto fail_gdal;
        if (shard >= plan.nshards) {
            char msg[160];
            snprintf(msg, sizeof msg, "--shard %ld: the plan has shards 0 to %d", shard,
                     plan.nshards - 1);
            rc = cnp_cli_usage_error(&cli, "%s", msg);
            goto out_gdal;
        }
        if (list) {
            cnp_batch_list(&plan, (int)shard, stdout);
            goto out_gdal;
        }
        if (merge) {
            if ((st = cnp_batch_read_shards(&plan, &rows, &nrows)) != CNP_OK)
                goto fail_gdal;
            for (size_t i = 0; i < plan.nfp && st == CNP_OK; i++) {
                int complete = 1, written = 0;
                for (size_t k = 0; k < nrows; k++)
                    complete &= rows[k].fp != &plan.fp[i] || !rows[k].unreported;
                char dir[8400];
                snprintf(dir, sizeof dir, "%s/%s", plan.outroot, plan.fp[i].name);
                if (complete && cnp_fs_mkdirs(dir) == CNP_OK)
                    st = cnp_batch_merge_alerts(&plan, &plan.fp[i], rows, nrows, ro.force,
                                                &written);
            }
            if (st == CNP_OK)
                st = cnp_batch_write_summary(&plan, -1, rows, nrows);
            if (st != CNP_OK)
                goto fail_gdal;
            char where[8400];
            snprintf(where, sizeof where, "%s/summary.csv", plan.outroot);
            report(&plan, rows, nrows, quiet, where);
            for (int k = 0; k < plan.nshards; k++) {
                size_t unrep, nf;
                cnp_batch_shard_counts(rows, nrows, k, &unrep, &nf);
                if (unrep || nf)
                    fprintf(stderr, "canopy: shard %d: %zu pair%s not reported (its task failed, "
                            "timed out or was cancelled), %zu failed; rerun it with: canopy "
                            "batch --shard %d --plan %s\n", k, unrep, unrep == 1 ? "" : "s",
                            nf, k, plan_path);
            }
            rc = rows_failed(&plan, rows, nrows) ? EXIT_RUNTIME : EXIT_OK;
            goto out_gdal;
        }
        st = cnp_batch_run(&plan, (int)shard, &ro, &rows, &nrows);
        const cnp_status sst = cnp_batch_write_summary(&plan, (int)shard, rows, nrows);
        if (st == CNP_OK)
            st = sst;
        if (st != CNP_OK)
            goto fail_gdal;
        char where[8400];
        if (shard >= 0) {
            snprintf(where, sizeof where, "%s/shards/shard-%ld.json", plan.outroot, shard);
            report(&plan, rows, nrows, quiet, where);
            rc = EXIT_OK;
        } else {
            snprintf(where, sizeof where, "%s/summary.csv", plan.outroot);
            report(&plan, rows, nrows, quiet, where);
            rc = rows_failed(&plan, rows, nrows) ? EXIT_RUNTIME : EXIT_OK;
        }
        goto out_gdal;
    }

    /* A plan from the inputs. */
    if (!quiet)
        fprintf(stderr, "batch: looking for scenes in %d input%s\n", ninputs,
                ninputs == 1 ? "" : "s");
    if ((st = cnp_batch_discover(&plan, inputs, (size_t)ninputs, quiet ? NULL : stderr)) !=
        CNP_OK)
        goto fail_gdal;
    if (getenv("CANOPY_DEBUG_COUNTS")) {
        /* For tests: each product recognised once, the profiles loaded once. */
        size_t nrec = 0, nload = 0;
        cnp_batch_discover_counts(&plan, &nrec, &nload);
        fprintf(stderr, "canopy: debug: discovery: %zu products recognised, profiles loaded "
                "%zu time%s\n", nrec, nload, nload == 1 ? "" : "s");
    }
    cnp_batch_shard(&plan, plan_only ? (int)(shards ? shards : 1) : 1);
    if (!quiet) {
        size_t nscene = 0, npair = 0;
        for (size_t i = 0; i < plan.nfp; i++) {
            nscene += plan.fp[i].nscene;
            npair += plan.fp[i].npair;
        }
        fprintf(stderr, "batch: found %zu scene%s in %zu footprint%s: %zu pair%s; %zu input%s "
                "not used\n", nscene, nscene == 1 ? "" : "s", plan.nfp, plan.nfp == 1 ? "" : "s",
                npair, npair == 1 ? "" : "s", plan.nitem, plan.nitem == 1 ? "" : "s");
    }
    if (plan_only) {
        char path[PATH_MAX + 32];
        if (plan_path)
            snprintf(path, sizeof path, "%s", plan_path);
        else
            snprintf(path, sizeof path, "%s/plan.json", plan.outroot);
        if (!plan_path && cnp_fs_mkdirs(plan.outroot) != CNP_OK) {
            st = cnp_err(CNP_E_IO, "cannot create '%s': %s", plan.outroot, strerror(errno));
            goto fail_gdal;
        }
        if ((st = cnp_batch_plan_write(&plan, path)) != CNP_OK)
            goto fail_gdal;
        if (list)
            cnp_batch_list(&plan, -1, stdout);
        if (!quiet) {
            size_t npairs = 0;
            for (size_t i = 0; i < plan.nfp; i++)
                for (size_t k = 0; k < plan.fp[i].npair; k++)
                    npairs += plan.fp[i].pair[k].action == CNP_PAIR_RUN;
            printf("canopy: plan of %zu footprint%s, %zu pair%s to run, in %d shard%s -> %s\n",
                   plan.nfp, plan.nfp == 1 ? "" : "s", npairs, npairs == 1 ? "" : "s",
                   plan.nshards, plan.nshards == 1 ? "" : "s", path);
        }
        goto out_gdal;
    }
    if (list) {
        cnp_batch_list(&plan, -1, stdout);
        goto out_gdal;
    }
    if (cnp_fs_mkdirs(plan.outroot) != CNP_OK) {
        st = cnp_err(CNP_E_IO, "cannot create '%s': %s", plan.outroot, strerror(errno));
        goto fail_gdal;
    }
    st = cnp_batch_run(&plan, -1, &ro, &rows, &nrows);
    {
        const cnp_status sst = cnp_batch_write_summary(&plan, -1, rows, nrows);
        if (st == CNP_OK)
            st = sst;
    }
    if (st != CNP_OK)
        goto fail_gdal;
    {
        char where[8400];
        snprintf(where, sizeof where, "%s/summary.csv", plan.outroot);
        report(&plan, rows, nrows, quiet, where);
    }
    rc = rows_failed(&plan, rows, nrows) ? EXIT_RUNTIME : EXIT_OK;
    goto out_gdal;

fail_gdal:
    cnp_cli_error(&cli, cnp_err_msg());
    rc = cnp_exit_for_status(st);
out_gdal:
    cnp_cli_timing(&cli, "batch", cnp_now_s() - cli.t0);
    cnp_cli_gdal_end(&cli);
out:
    free(rows);
    cnp_batch_plan_free(&plan);
    cnp_cli_free(&cli);
    return rc;
}

int cnp_batch_main(int argc, char **argv, char **args)
{
    return run_modes(argc, argv, args);
}
