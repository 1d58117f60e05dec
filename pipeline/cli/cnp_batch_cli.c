/* pipeline/cli/cnp_batch_cli.c - `canopy batch`: options, modes and exit codes.
 *
 * Exit codes:
 *   0  every pair ok or skipped (and, for --shard, the shard ran to its end)
 *   1  some pair failed or some input could not be read (the rest ran);
 *      --shard: the shard could not finish (interrupted, cannot write)
 *   2  usage or configuration error
 * A --shard task exits 0 when its pairs fail: the failures are in its shard
 * summary and --merge exits 1 for them, so a Slurm job chained with
 * --dependency=afterok still merges what the shards did.
 */
#include "cnp_batch.h"

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

#include "cnp_err.h"
#include "cnp_fs.h"
#include "cnp_gdal.h"
#include "cnp_output.h"
#include "cnp_version.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static void usage_batch(FILE *f, const cnp_batch_setting_opt *so, size_t nso)
{
    fputs("Usage: canopy batch INPUT... -o OUTROOT [OPTIONS]\n"
          "       canopy batch --plan-only --shards N -o OUTROOT INPUT... [OPTIONS]\n"
          "       canopy batch --shard K --plan FILE [--jobs N --threads N --max-memory MB]\n"
          "       canopy batch --merge --plan FILE\n"
          "\n"
          "Runs `canopy detect` over scene archives: finds every scene under the INPUTs\n"
          "(folders, searched recursively; .tar/.zip products; STAC items; product metadata\n"
          "files; GeoTIFFs and other rasters; or text files listing any of these, one per\n"
          "line), groups them by footprint (Landsat path/row, Sentinel-2 tile, or overlap\n"
          "for other rasters), sorts them by date, pairs them and writes\n"
          "OUTROOT/<footprint>/<before-id>__<after-id>/ (what detect writes),\n"
          "OUTROOT/<footprint>/alerts.gpkg (every pair's alerts) and OUTROOT/summary.csv\n"
          "and summary.json. Pairs whose outputs are complete are not run again.\n"
          "A raster STEM.tif with a STEM_mask.tif beside it uses that file as its mask.\n"
          "\n"
          "Pairing:\n"
          "      --pairs consecutive|baseline\n"
          "                            each scene against the previous one (default), or\n"
          "                            every later scene against the one nearest\n"
          "      --baseline-date DATE  (YYYY-MM-DD; needed by --pairs baseline)\n"
          "      --max-gap DAYS        skip pairs more than DAYS apart\n"
          "      --min-observed SHARE  0-1: a pair that observed less of its overlap (read\n"
          "                            from its run.json after the run) is reported as\n"
          "                            skipped and left out of the footprint's alerts.gpkg\n"
          "Running:\n"
          "  -o, --output DIR          OUTROOT (created if missing)\n"
          "  -j, --jobs N              pairs at once (default: threads / 4, at least 1)\n"
          "      --threads N           threads in all, shared by the jobs (default: all cores)\n"
          "      --max-memory MB       memory in all; each job gets MB / jobs\n"
          "      --force               run every pair again, complete or not\n"
          "      --list                print the plan (footprints, scenes, pairs and what a\n"
          "                            run would do with each, inputs not used) and exit\n"
          "  -q, --quiet               no progress or summary line\n"
          "Cluster (scripts/slurm/canopy-slurm-submit.sh uses these):\n"
          "      --plan-only           write the plan (default OUTROOT/plan.json) and exit\n"
          "      --shards N            split the footprints into N shards (with --plan-only)\n"
          "      --plan FILE           the plan file to write or to read\n"
          "      --shard K             run shard K (0-based) of --plan FILE\n"
          "      --merge               gather the shard summaries of --plan FILE into\n"
          "                            OUTROOT/summary.csv and summary.json\n"
          "Detect settings, applied to every pair (as for canopy detect; see its --help):\n"
          "  -c, --config FILE         INI file with settings\n"
          "      --no-evidence, --outputs LIST (gpkg and others), --max-chips N,\n"
          "      --no-hash, --print-config\n", f);
    size_t col = 0;
    for (size_t i = 0; i < nso; i++) {
        if (strcmp(so[i].section, "dates") == 0 || strcmp(so[i].key, "threads") == 0)
            continue;
        const size_t w = strlen(so[i].name) + 4;
        if (col == 0 || col + w > 76) {
            fputs(col ? "\n      " : "      ", f);
            col = 6;
        }
        fprintf(f, "%s%s X", col > 6 ? "  " : "", so[i].name);
        col += w + 2;
    }
    fputs("\n"
          "\n"
          "Exit status: 0 every pair ok or skipped, 1 some pair failed or an input could\n"
          "not be read (the others still ran), 2 usage or configuration error.\n"
          "With --shard: 0 the shard ran to its end (failed pairs are in its summary and\n"
          "make --merge exit 1), 1 it could not finish.\n", f);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("canopy: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'canopy batch --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

static int parse_count(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    const long n = strtol(s, &end, 10);
    if (end == s || *end || errno || n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}

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

enum {
    B_PAIRS = 3000, B_BASELINE, B_MAXGAP, B_MINOBS, B_THREADS, B_MAXMEM, B_FORCE, B_LIST,
    B_PLAN_ONLY, B_SHARDS, B_PLAN, B_SHARD, B_MERGE, B_NO_EVIDENCE, B_MAX_CHIPS, B_NO_HASH,
    B_PRINT_CONFIG, B_OUTPUTS, B_SETTING = 4000
};

static void report(const cnp_batch_plan *p, const cnp_batch_row *rows, size_t nrows,
                   int quiet, const char *where)
{
    size_t ok = 0, skip = 0, fail = 0, bad = 0;
    for (size_t i = 0; i < nrows; i++) {
        ok += strcmp(rows[i].status, "ok") == 0;
        skip += strcmp(rows[i].status, "skipped") == 0;
        fail += strcmp(rows[i].status, "failed") == 0;
    }
    for (size_t i = 0; i < p->nitem; i++)
        bad += strcmp(p->item[i].status, "failed") == 0;
    if (!quiet) {
        printf("canopy: %zu pair%s: %zu ok, %zu skipped, %zu failed", nrows,
               nrows == 1 ? "" : "s", ok, skip, fail);
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

static int run_modes(int argc, char **argv, char **args, const cnp_batch_setting_opt *so,
                     size_t nso)
{
    struct option *opts = calloc(nso + 32, sizeof *opts);
    cnp_setting_override *cli = calloc((size_t)argc + 1, sizeof *cli);
    int nopt = 0, ncli = 0, c, rc = EXIT_OK;
    const char *outroot = NULL, *config = NULL, *plan_path = NULL;
    int list = 0, plan_only = 0, merge = 0, print_config = 0, no_evidence = 0, no_hash = 0;
    unsigned skip_outputs = 0;
    long shards = 0, shard = -1, max_chips = 0, max_gap = 0;
    double min_observed = 0;
    int pairs_mode = CNP_PAIRS_CONSECUTIVE;
    char baseline[CNP_DATE_LEN] = "";
    cnp_batch_run_opts ro;
    cnp_batch_plan plan;
    cnp_batch_row *rows = NULL;
    size_t nrows = 0;
    cnp_status st = CNP_OK;

    memset(&ro, 0, sizeof ro);
    ro.argc = argc;
    ro.argv = argv;
    cnp_batch_plan_init(&plan);
    if (!opts || !cli) {
        free(opts);
        free(cli);
        fputs("canopy: out of memory\n", stderr);
        return EXIT_RUNTIME;
    }
    static const struct option own[] = {
        { "output", required_argument, NULL, 'o' },
        { "config", required_argument, NULL, 'c' },
        { "jobs", required_argument, NULL, 'j' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "pairs", required_argument, NULL, B_PAIRS },
        { "baseline-date", required_argument, NULL, B_BASELINE },
        { "max-gap", required_argument, NULL, B_MAXGAP },
        { "min-observed", required_argument, NULL, B_MINOBS },
        { "threads", required_argument, NULL, B_THREADS },
        { "max-memory", required_argument, NULL, B_MAXMEM },
        { "force", no_argument, NULL, B_FORCE },
        { "list", no_argument, NULL, B_LIST },
        { "plan-only", no_argument, NULL, B_PLAN_ONLY },
        { "shards", required_argument, NULL, B_SHARDS },
        { "plan", required_argument, NULL, B_PLAN },
        { "shard", required_argument, NULL, B_SHARD },
        { "merge", no_argument, NULL, B_MERGE },
        { "no-evidence", no_argument, NULL, B_NO_EVIDENCE },
        { "outputs", required_argument, NULL, B_OUTPUTS },
        { "max-chips", required_argument, NULL, B_MAX_CHIPS },
        { "no-hash", no_argument, NULL, B_NO_HASH },
        { "print-config", no_argument, NULL, B_PRINT_CONFIG },
    };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        opts[nopt++] = own[i];
    /* detect's setting options (cnp_cli.c's table), but --threads, which is
     * batch's own (a total shared by the jobs). */
    for (size_t i = 0; i < nso; i++) {
        const char *name = so[i].name + 2;
        int taken = 0;
        for (size_t k = 0; k < sizeof own / sizeof own[0]; k++)
            taken |= strcmp(own[k].name, name) == 0;
        if (!taken)
            opts[nopt++] = (struct option){ name, required_argument, NULL, B_SETTING + (int)i };
    }
    opts[nopt] = (struct option){ NULL, 0, NULL, 0 };

    optind = 1;
    while ((c = getopt_long(argc - 1, args, "o:c:j:qhV", opts, NULL)) != -1) {
        long n;
        switch (c) {
        case 'o': outroot = optarg; break;
        case 'c': config = optarg; break;
        case 'q': ro.quiet = 1; break;
        case 'h': usage_batch(stdout, so, nso); goto out;
        case 'V': printf("canopy %s\n", cnp_version); goto out;
        case 'j':
            if (parse_count(optarg, 1, 4096, &n)) {
                rc = usage_error("--jobs: expected a count 1-4096, not '%s'", optarg);
                goto out;
            }
            ro.jobs = (int)n;
            break;
        case B_THREADS:
            if (parse_count(optarg, 0, 4096, &n)) {
                rc = usage_error("--threads: expected a count 0-4096, not '%s'", optarg);
                goto out;
            }
            ro.threads = (int)n;
            break;
        case B_MAXMEM:
            if (parse_count(optarg, 64, 1L << 24, &n)) {
                rc = usage_error("--max-memory: expected megabytes, 64 or more, not '%s'",
                                 optarg);
                goto out;
            }
            ro.max_memory_mb = (int)n;
            break;
        case B_PAIRS:
            if (strcmp(optarg, "consecutive") == 0) {
                pairs_mode = CNP_PAIRS_CONSECUTIVE;
            } else if (strcmp(optarg, "baseline") == 0) {
                pairs_mode = CNP_PAIRS_BASELINE;
            } else {
                rc = usage_error("--pairs: expected consecutive or baseline, not '%s'", optarg);
                goto out;
            }
            break;
        case B_BASELINE:
            if (!valid_date(optarg)) {
                rc = usage_error("--baseline-date: expected YYYY-MM-DD, not '%s'", optarg);
                goto out;
            }
            snprintf(baseline, sizeof baseline, "%s", optarg);
            break;
        case B_MAXGAP:
            if (parse_count(optarg, 1, 100000, &max_gap)) {
                rc = usage_error("--max-gap: expected days, 1 or more, not '%s'", optarg);
                goto out;
            }
            break;
        case B_MINOBS: {
            char *end = NULL;
            min_observed = strtod(optarg, &end);
            if (end == optarg || *end || !(min_observed >= 0 && min_observed <= 1)) {
                rc = usage_error("--min-observed: expected a share 0-1, not '%s'", optarg);
                goto out;
            }
            break;
        }
        case B_FORCE: ro.force = 1; break;
        case B_LIST: list = 1; break;
        case B_PLAN_ONLY: plan_only = 1; break;
        case B_SHARDS:
            if (parse_count(optarg, 1, 100000, &shards)) {
                rc = usage_error("--shards: expected a count 1-100000, not '%s'", optarg);
                goto out;
            }
            break;
        case B_PLAN: plan_path = optarg; break;
        case B_SHARD:
            if (parse_count(optarg, 0, 99999, &shard)) {
                rc = usage_error("--shard: expected a shard number 0-99999, not '%s'", optarg);
                goto out;
            }
            break;
        case B_MERGE: merge = 1; break;
        case B_NO_EVIDENCE: no_evidence = 1; break;
        case B_OUTPUTS: {
            unsigned keep;
            if (cnp_outputs_parse(optarg, "--outputs", &keep) != CNP_OK) {
                rc = usage_error("%s", cnp_err_msg());
                goto out;
            }
            /* The footprint's alerts.gpkg is merged from the pairs' own. */
            if (!(keep & CNP_OUT_GPKG)) {
                rc = usage_error("%s", "--outputs: batch needs gpkg (each footprint's "
                                 "alerts.gpkg gathers its pairs')");
                goto out;
            }
            skip_outputs = CNP_OUT_ALL & ~keep;
            break;
        }
        case B_NO_HASH: no_hash = 1; break;
        case B_PRINT_CONFIG: print_config = 1; break;
        case B_MAX_CHIPS:
            if (parse_count(optarg, 0, 1L << 30, &max_chips)) {
                rc = usage_error("--max-chips: expected a count >= 0, not '%s'", optarg);
                goto out;
            }
            break;
        default:
            if (c >= B_SETTING && (size_t)(c - B_SETTING) < nso) {
                const cnp_batch_setting_opt *o = &so[c - B_SETTING];
                if (strcmp(o->section, "dates") == 0) {
                    rc = usage_error("%s does not apply to batch: each scene's date comes from "
                                     "its metadata or its file name", o->name);
                    goto out;
                }
                cli[ncli++] = (cnp_setting_override){ o->section, o->key, optarg, o->name };
                break;
            }
            fputs("Try 'canopy batch --help' for more information.\n", stderr);
            rc = EXIT_USAGE;
            goto out;
        }
    }
    const int ninputs = argc - 1 - optind;
    char **inputs = args + optind;
    const int from_plan = shard >= 0 || merge || (plan_path && !plan_only && ninputs == 0);

    /* Which mode, and do the options fit it? */
    if (shard >= 0 && merge) {
        rc = usage_error("%s", "--shard and --merge are separate steps");
        goto out;
    }
    if (shards && !plan_only) {
        rc = usage_error("%s", "--shards goes with --plan-only");
        goto out;
    }
    if (pairs_mode == CNP_PAIRS_BASELINE && !baseline[0] && !from_plan) {
        rc = usage_error("%s", "--pairs baseline needs --baseline-date DATE");
        goto out;
    }
    if (from_plan) {
        if (!plan_path) {
            rc = usage_error("%s", "--shard and --merge need --plan FILE");
            goto out;
        }
        if (ninputs > 0 || ncli > 0 || config || outroot || plan_only || no_evidence ||
            skip_outputs || no_hash || max_chips || max_gap || min_observed > 0 || baseline[0] ||
            pairs_mode != CNP_PAIRS_CONSECUTIVE) {
            rc = usage_error("%s", "with --plan FILE, the inputs, OUTROOT, pairing rules and "
                             "detect settings come from the plan: give only --shard K or "
                             "--merge, --list, --jobs, --threads, --max-memory, --force, -q");
            goto out;
        }
    } else {
        if ((st = cnp_settings_resolve(&plan.settings, config, cli, (size_t)ncli)) != CNP_OK)
            goto fail;
        if (print_config) {
            cnp_settings_write_ini(&plan.settings, stdout);
            goto out;
        }
        if (ninputs < 1) {
            rc = usage_error("%s", "batch needs at least one INPUT (folder, archive, STAC "
                             "item, raster or list file)");
            goto out;
        }
        if (!outroot) {
            rc = usage_error("%s", "missing -o OUTROOT");
            goto out;
        }
        if (cnp_outputs_check(skip_outputs, no_evidence) != CNP_OK) {
            rc = usage_error("%s", cnp_err_msg());
            goto out;
        }
        absolute(outroot, plan.outroot, sizeof plan.outroot);
        plan.config_path = config ? strdup(config) : NULL;
        plan.no_evidence = no_evidence;
        plan.skip_outputs = skip_outputs;
        plan.no_hash = no_hash;
        plan.max_chips = (size_t)max_chips;
        plan.pairs_mode = pairs_mode;
        snprintf(plan.baseline_date, sizeof plan.baseline_date, "%s", baseline);
        plan.max_gap_days = (int)max_gap;
        plan.min_observed = min_observed;
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
            rc = usage_error("%s", msg);
            goto out;
        }
    }

    GDALAllRegister();
    cnp_err_install_gdal_handler(0);

    if (from_plan) {
        if ((st = cnp_batch_plan_read(&plan, plan_path)) != CNP_OK)
            goto fail_gdal;
        if (shard >= plan.nshards) {
            char msg[160];
            snprintf(msg, sizeof msg, "--shard %ld: the plan has shards 0 to %d", shard,
                     plan.nshards - 1);
            rc = usage_error("%s", msg);
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
                    complete &= rows[k].fp != &plan.fp[i] ||
                                strstr(rows[k].message, "has not reported") == NULL;
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
            report(&plan, rows, nrows, ro.quiet, where);
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
            report(&plan, rows, nrows, ro.quiet, where);
            rc = EXIT_OK;
        } else {
            snprintf(where, sizeof where, "%s/summary.csv", plan.outroot);
            report(&plan, rows, nrows, ro.quiet, where);
            rc = rows_failed(&plan, rows, nrows) ? EXIT_RUNTIME : EXIT_OK;
        }
        goto out_gdal;
    }

    /* A plan from the inputs. */
    if (!ro.quiet)
        fprintf(stderr, "batch: looking for scenes in %d input%s\n", ninputs,
                ninputs == 1 ? "" : "s");
    if ((st = cnp_batch_discover(&plan, inputs, (size_t)ninputs, ro.quiet ? NULL : stderr)) !=
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
    if (!ro.quiet) {
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
        if (!ro.quiet) {
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
        report(&plan, rows, nrows, ro.quiet, where);
    }
    rc = rows_failed(&plan, rows, nrows) ? EXIT_RUNTIME : EXIT_OK;
    goto out_gdal;

fail_gdal:
    fprintf(stderr, "canopy: %s\n", cnp_err_msg());
    rc = st == CNP_E_ARG || st == CNP_E_CONFIG ? EXIT_USAGE : EXIT_RUNTIME;
out_gdal:
    cnp_err_remove_gdal_handler();
    GDALDestroy();
    goto out;
fail:
    fprintf(stderr, "canopy: %s\n", cnp_err_msg());
    rc = st == CNP_E_ARG || st == CNP_E_CONFIG ? EXIT_USAGE : EXIT_RUNTIME;
out:
    free(rows);
    cnp_batch_plan_free(&plan);
    free(opts);
    free(cli);
    return rc;
}

int cnp_batch_main(int argc, char **argv, const cnp_batch_setting_opt *setting_opts,
                   size_t nsetting_opts)
{
    /* getopt_long permutes what it parses; run.json records the command line
     * as typed, so parse a copy (argv[1] = "batch" onwards). */
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args) {
        fputs("canopy: out of memory\n", stderr);
        return EXIT_RUNTIME;
    }
    memcpy(args, argv + 1, (size_t)(argc - 1) * sizeof *args);
    const int rc = run_modes(argc, argv, args, setting_opts, nsetting_opts);
    free(args);
    return rc;
}
