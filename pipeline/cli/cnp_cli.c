/* pipeline/cli/cnp_cli.c - main(): parse, run, print, map the status to an
 * exit code (the table: base/cnp_exit.h). detect, info and verify are here;
 * batch and monitor in cnp_batch_cli.c and cnp_monitor_cli.c. Every option
 * comes from one table (cnp_options.h), every --help from cnp_help.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gdal.h>

#include "cnp_cli.h"
#include "cnp_cli_cmds.h"
#include "cnp_config.h"
#include "cnp_detect.h"
#include "cnp_err.h"
#include "cnp_exit.h"
#include "cnp_fs.h"
#include "cnp_help.h"
#include "cnp_info.h"
#include "cnp_ident.h"
#include "cnp_json.h"
#include "cnp_output.h"
#include "cnp_sign.h"
#include "cnp_tmpfile.h"
#include "cnp_verify.h"
#include "cnp_version.h"

/* ---- detect ------------------------------------------------------------------- */

static void detect_timings(const cnp_cli *c, const cnp_timings *t)
{
    if (!c->verbose)
        return;
    fprintf(stderr, "%sopen %.2f s, detect %.2f s, polygons %.2f s, write %.2f s, evidence "
            "%.2f s, hash wait %.2f s; total %.2f s\n", c->prefix, t->open, t->detect,
            t->polygons, t->write, t->evidence, t->hash_wait, t->total);
}

static void json_warnings(cnp_json *j, cnp_cli *c)
{
    pthread_mutex_lock(&c->mu);
    cnp_json_array(j, "warnings");
    for (size_t i = 0; i < c->nwarning; i++)
        cnp_json_str(j, NULL, c->warning[i]);
    cnp_json_close(j, ']');
    cnp_json_int(j, "warnings_not_listed", (int64_t)c->nwarning_dropped);
    pthread_mutex_unlock(&c->mu);
}

/* --json: one object on stdout, for a finished run or a failed one. */
static void detect_json(cnp_cli *c, const cnp_job *job, const cnp_detect_summary *sum,
                        cnp_status st)
{
    cnp_json j;
    char path[4200];
    cnp_json_begin(&j, stdout);
    cnp_json_str(&j, "command", "detect");
    cnp_json_str(&j, "status", st == CNP_OK ? "ok" : "error");
    cnp_json_int(&j, "exit_status", cnp_exit_for_status(st));
    cnp_json_str(&j, "error", st == CNP_OK ? NULL : cnp_err_msg());
    cnp_json_str(&j, "outdir", job->outdir);
    if (st == CNP_OK) {
        snprintf(path, sizeof path, "%s/run.json", job->outdir);
        cnp_json_str(&j, "run_json", path);
        cnp_json_str(&j, "run_id", sum->run_id);
        cnp_json_int(&j, "alerts", (int64_t)sum->nalerts);
        cnp_json_int(&j, "alerts_high_confidence", (int64_t)sum->nhigh);
        cnp_json_num(&j, "area_ha", sum->area_ha);
        cnp_json_int(&j, "loss_pixels", sum->loss_pixels);
        cnp_json_num(&j, "observed_area_ha", sum->observed_area_ha);
        cnp_json_num(&j, "unobserved_area_ha", sum->unobserved_area_ha);
        cnp_json_num(&j, "unobserved_share_of_window",
                     sum->window_pixels ? (double)sum->unobserved_pixels /
                                          (double)sum->window_pixels : 0);
        cnp_json_object(&j, "coregistration");   /* run.json has the rest */
        cnp_json_bool(&j, "measured", sum->coreg.measured);
        cnp_json_bool(&j, "ok", sum->coreg.ok);
        cnp_json_num(&j, "dx", round(sum->coreg.dx * 1e3) / 1e3);
        cnp_json_num(&j, "dy", round(sum->coreg.dy * 1e3) / 1e3);
        cnp_json_bool(&j, "applied", sum->coreg.applied);
        cnp_json_close(&j, '}');
        cnp_json_array(&j, "outputs");
        for (size_t i = 0; i < sum->noutputs; i++)
            cnp_json_str(&j, NULL, sum->outputs[i]);
        cnp_json_close(&j, ']');
        cnp_json_object(&j, "seconds");
        cnp_json_num(&j, "open", sum->t.open);
        cnp_json_num(&j, "detect", sum->t.detect);
        cnp_json_num(&j, "polygons", sum->t.polygons);
        cnp_json_num(&j, "write", sum->t.write);
        cnp_json_num(&j, "evidence", sum->t.evidence);
        cnp_json_num(&j, "hash_wait", sum->t.hash_wait);
        cnp_json_num(&j, "total", sum->t.total);
        cnp_json_close(&j, '}');
    }
    json_warnings(&j, c);
    cnp_json_end(&j);
    fflush(stdout);
}

/* --progress: a line on stderr each time the whole per cent or the stage
 * changes ("canopy: progress 37% chips"), for logs and for programs that run
 * canopy; a terminal gets GDAL's bar without it. Called from one thread at a
 * time, with a fraction that only grows. */
typedef struct progress_lines {
    const char *prefix;
    int         pct;
    char        stage[32];
} progress_lines;

static int progress_line(double done, const char *msg, void *arg)
{
    progress_lines *pl = arg;
    const int pct = (int)(done * 100.0 + 1e-9);
    const char *stage = msg ? msg : "";
    if (pct == pl->pct && strcmp(stage, pl->stage) == 0)
        return 1;
    pl->pct = pct;
    snprintf(pl->stage, sizeof pl->stage, "%s", stage);
    fprintf(stderr, "%sprogress %d%% %s\n", pl->prefix, pct, pl->stage);
    return 1;
}

/* The options only detect has. @return -1 to go on, else the exit code. */
static int detect_option(cnp_cli *c, const cnp_option *o, cnp_job *job, int *print_config)
{
    long n;
    int taken;
    const int rc = cnp_cli_context_option(c, o, &taken);
    if (taken)
        return rc;
    switch (o->id) {
    case 'o': job->outdir = optarg; break;
    case OPT_BMASK: job->before_mask = optarg; break;
    case OPT_AMASK: job->after_mask = optarg; break;
    case OPT_BASELINE:
    case OPT_BASELINE_MASK: {
        const int mask = o->id == OPT_BASELINE_MASK;
        int *count = mask ? &job->nbaseline_mask : &job->nbaseline;
        if (*count >= CNP_JOB_MAX_BASELINES)
            return cnp_cli_usage_error(c, "--%s: at most %d", o->name, CNP_JOB_MAX_BASELINES);
        (mask ? job->baseline_mask : job->baseline)[(*count)++] = optarg;
        break;
    }
    case OPT_PRINT_CONFIG: *print_config = 1; break;
    case OPT_NO_EVIDENCE: job->no_evidence = 1; break;
    case OPT_NO_HASH: job->no_hash = 1; break;
    case OPT_SIGN_KEY: job->sign_key = optarg; break;
    case OPT_OVERWRITE: job->overwrite = 1; break;
    case OPT_PROGRESS: job->progress = progress_line; break;
    /* One line: a value that reaches reports must not bring its own lines. */
    case OPT_CASE_ID:
        if (cnp_ident_text_check("--case-id", optarg, 128) != CNP_OK) {
            cnp_cli_error(c, cnp_err_msg());
            return CNP_EXIT_USAGE;
        }
        job->case_id = optarg;
        break;
    case OPT_OPERATOR:
        if (cnp_ident_text_check("--operator", optarg, 200) != CNP_OK) {
            cnp_cli_error(c, cnp_err_msg());
            return CNP_EXIT_USAGE;
        }
        job->operator_name = optarg;
        break;
    case OPT_OUTPUTS: {
        unsigned keep;
        if (cnp_outputs_parse(optarg, "--outputs", &keep) != CNP_OK)
            return cnp_cli_usage_error(c, "%s", cnp_err_msg());
        job->skip_outputs = CNP_OUT_ALL & ~keep;
        break;
    }
    case OPT_MAX_MEMORY:
        if (cnp_cli_count(optarg, 64, 1048576, &n))
            return cnp_cli_usage_error(c, "--max-memory: expected megabytes, 64 to 1048576");
        job->max_memory_mb = (int)n;
        break;
    case OPT_MAX_CHIPS:
        if (cnp_cli_count(optarg, 0, 1L << 30, &n))
            return cnp_cli_usage_error(c, "--max-chips: expected a count >= 0 (0 = every alert)");
        job->max_chips = (size_t)n;
        break;
    default:
        return cnp_cli_usage_error(c, "--%s is not an option of detect", o->name);
    }
    return -1;
}

static int cmd_detect(int argc, char **argv, int full_argc, char **full_argv)
{
    cnp_cli c;
    cnp_job job;
    cnp_detect_summary sum;
    int rc = -1, print_config = 0;
    const cnp_option *o;

    memset(&job, 0, sizeof job);
    memset(&sum, 0, sizeof sum);
    job.max_chips = CNP_MAX_CHIPS_DEFAULT;
    job.argc = full_argc;
    job.argv = full_argv;
    cnp_cli_init(&c, CNP_CMD_DETECT, "detect");
    optind = 1;
    while (rc < 0 && (o = cnp_cli_next(&c, argc, argv, &rc)) != NULL)
        rc = detect_option(&c, o, &job, &print_config);
    if (rc >= 0)
        goto out;
    job.quiet = c.quiet;
    job.zones = c.zones;
    job.nzones = c.nzones;
    job.zone_field = c.zone_field;
    if ((rc = cnp_cli_context_check(&c)) >= 0)
        goto out;
    job.ctx = c.ctx;
    job.aoi = c.aoi;
    if ((rc = cnp_cli_settings(&c, &job.settings)) != CNP_EXIT_OK)
        goto out;
    if (print_config) {
        cnp_settings_write_ini(&job.settings, stdout);
        goto out;
    }
    if (argc - optind != 2) {
        rc = cnp_cli_usage_error(&c, "%s", argc - optind < 2
                                 ? "detect needs two scenes: BEFORE AFTER"
                                 : "detect takes exactly two scenes: BEFORE AFTER");
        goto out;
    }
    if (!job.outdir) {
        rc = cnp_cli_usage_error(&c, "missing -o OUTDIR");
        goto out;
    }
    if (job.nbaseline_mask && job.nbaseline_mask != job.nbaseline) {
        rc = cnp_cli_usage_error(&c, "%d --baseline-mask for %d --baseline: give one mask per "
                                 "baseline scene, in the same order, or none",
                                 job.nbaseline_mask, job.nbaseline);
        goto out;
    }
    job.before = argv[optind];
    job.after = argv[optind + 1];
    job.font_dir = getenv("CANOPY_FONT_DIR");

    /* A key that cannot sign is known now, not after the whole run. */
    if (job.sign_key) {
        cnp_sign_key *key = NULL;
        const cnp_status st = cnp_sign_key_load(job.sign_key, &key);
        if (st != CNP_OK) {
            fprintf(stderr, "%s--sign-key ", c.prefix);
            cnp_ident_write_term(stderr, cnp_err_msg());
            fputc('\n', stderr);
            rc = cnp_exit_for_status(st);
            goto out;
        }
        cnp_sign_key_free(&key);
    }

    cnp_tmp_signals_install();     /* Ctrl-C removes the staging folder */
    progress_lines pl = { c.prefix, -1, "" };
    if (job.progress == progress_line)
        job.progress_arg = &pl;
    else if (!c.quiet && isatty(STDERR_FILENO))
        job.progress = GDALTermProgress;
    job.summary = &sum;
    job.warn = cnp_cli_warning;
    job.warn_arg = &c;
    cnp_cli_gdal_begin(&c);
    const cnp_status st = cnp_detect_run(&job);
    if (st != CNP_OK)
        cnp_cli_error(&c, cnp_err_msg());
    if (c.json)
        detect_json(&c, &job, &sum, st);
    else if (st == CNP_OK && !c.quiet)
        printf("canopy: %zu alert%s, %.2f ha (%lld loss pixels, %.1f%% of the window "
               "unobserved) -> %s/\n", sum.nalerts, sum.nalerts == 1 ? "" : "s", sum.area_ha,
               (long long)sum.loss_pixels,
               100.0 * (double)sum.unobserved_pixels / (double)sum.window_pixels, job.outdir);
    if (st == CNP_OK)
        detect_timings(&c, &sum.t);
    cnp_cli_gdal_end(&c);
    rc = cnp_exit_for_status(st);
out:
    cnp_detect_summary_free(&sum);
    cnp_cli_free(&c);
    return rc < 0 ? CNP_EXIT_OK : rc;
}

/* ---- verify ------------------------------------------------------------------- */

static int cmd_verify(int argc, char **argv)
{
    cnp_cli c;
    cnp_verify_opts vo = { NULL, 0, 0, stdout, 0, 0, NULL };
    int rc = -1;
    long n;
    const cnp_option *o;

    cnp_cli_init(&c, CNP_CMD_VERIFY, "verify");
    optind = 1;
    while (rc < 0 && (o = cnp_cli_next(&c, argc, argv, &rc)) != NULL) {
        switch (o->id) {
        case OPT_RERUN: vo.rerun = 1; break;
        case OPT_PUBKEY: vo.pubkey = optarg; break;
        case OPT_THREADS:
            if (cnp_cli_count(optarg, 0, 4096, &n)) {
                cnp_cli_error(&c, "--threads: expected a count 0-4096");
                rc = CNP_EXIT_USAGE;
            } else {
                vo.threads = (int)n;
            }
            break;
        default:
            rc = cnp_cli_usage_error(&c, "--%s is not an option of verify", o->name);
        }
    }
    if (rc >= 0)
        goto out;
    if (argc - optind != 1) {
        rc = cnp_cli_usage_error(&c, "verify takes one OUTDIR");
        goto out;
    }
    vo.outdir = argv[optind];
    vo.json = c.json;
    vo.quiet = c.quiet;

    cnp_tmp_signals_install();     /* Ctrl-C removes the rerun's folder */
    cnp_cli_gdal_begin(&c);
    int intact = 0;
    const cnp_status st = cnp_verify(&vo, &intact);
    if (st != CNP_OK)
        cnp_cli_error(&c, cnp_err_msg());
    cnp_cli_timing(&c, "verify", cnp_now_s() - c.t0);
    cnp_cli_gdal_end(&c);
    rc = st != CNP_OK ? cnp_exit_for_status(st) : intact ? CNP_EXIT_OK : CNP_EXIT_RUNTIME;
out:
    cnp_cli_free(&c);
    return rc;
}

/* ---- info --------------------------------------------------------------------- */

static int cmd_info(int argc, char **argv)
{
    cnp_cli c;
    cnp_settings s;
    int rc = -1;
    const cnp_option *o;

    cnp_cli_init(&c, CNP_CMD_INFO, "info");
    optind = 1;
    while (rc < 0 && (o = cnp_cli_next(&c, argc, argv, &rc)) != NULL) {
        int taken;
        rc = cnp_cli_context_option(&c, o, &taken);
        if (!taken)
            rc = cnp_cli_usage_error(&c, "--%s is not an option of info", o->name);
    }
    if (rc >= 0 || (rc = cnp_cli_context_check(&c)) >= 0)
        goto out;
    if (argc - optind != 1) {
        rc = cnp_cli_usage_error(&c, "info takes one PATH");
        goto out;
    }
    /* The settings info needs (profiles, buffer, limits), unvalidated as a
     * whole: a config file made for other scenes still describes this one. */
    cnp_settings_defaults(&s);
    cnp_status st = CNP_OK;
    if (c.config)
        st = cnp_settings_load(&s, c.config);
    for (size_t i = 0; i < c.nset && st == CNP_OK; i++)
        st = cnp_settings_set(&s, c.set[i].section, c.set[i].key, c.set[i].value,
                              c.set[i].option);
    if (st != CNP_OK) {
        cnp_cli_error(&c, cnp_err_msg());
        rc = cnp_exit_for_status(st);
        goto out;
    }
    cnp_cli_gdal_begin(&c);
    /* --quiet: only whether PATH can be read (the exit status) and why not. */
    FILE *out = stdout;
    FILE *null = c.quiet && !c.json ? fopen("/dev/null", "w") : NULL;
    if (null)
        out = null;
    const cnp_info_layers layers = { c.zones, c.nzones, c.zone_field, c.aoi, c.ctx };
    st = cnp_info_run(argv[optind], &s, &layers, c.json, out);
    if (null)
        fclose(null);
    if (st != CNP_OK)
        cnp_cli_error(&c, cnp_err_msg());
    cnp_cli_timing(&c, "info", cnp_now_s() - c.t0);
    cnp_cli_gdal_end(&c);
    rc = cnp_exit_for_status(st);
out:
    cnp_cli_free(&c);
    return rc;
}

/* ---- main --------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc < 2) {
        cnp_help_main(stderr);
        return CNP_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        cnp_help_main(stdout);
        return CNP_EXIT_OK;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("canopy %s\n", cnp_version);
        return CNP_EXIT_OK;
    }
    if (strcmp(cmd, "verify") == 0)
        return cmd_verify(argc - 1, argv + 1);
    if (strcmp(cmd, "info") == 0)
        return cmd_info(argc - 1, argv + 1);
    if (strcmp(cmd, "monitor") == 0)
        return cnp_monitor_main(argc - 1, argv + 1);
    if (strcmp(cmd, "batch") == 0 || strcmp(cmd, "detect") == 0) {
        /* getopt_long permutes the array it parses; run.json records the
         * command line as typed, so parse a copy. */
        char **args = calloc((size_t)argc + 1, sizeof *args);
        if (!args) {
            fputs("canopy: out of memory\n", stderr);
            return CNP_EXIT_RUNTIME;
        }
        memcpy(args, argv + 1, (size_t)(argc - 1) * sizeof *args);
        const int rc = cmd[0] == 'b' ? cnp_batch_main(argc, argv, args)
                                     : cmd_detect(argc - 1, args, argc, argv);
        free(args);
        return rc;
    }
    fprintf(stderr, "canopy: unknown command '");
    cnp_ident_write_term(stderr, cmd);
    fputs("'\nTry 'canopy --help' for more information.\n", stderr);
    return CNP_EXIT_USAGE;
}
