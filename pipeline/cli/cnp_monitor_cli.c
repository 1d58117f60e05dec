/* pipeline/cli/cnp_monitor_cli.c - `canopy monitor`: options, and what it
 * prints (the run itself: pipeline/monitor/cnp_monitor_cmd.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_cli.h"
#include "cnp_cli_cmds.h"
#include "cnp_err.h"
#include "cnp_exit.h"
#include "cnp_fs.h"
#include "cnp_gdal.h"
#include "cnp_ident.h"
#include "cnp_monitor_cmd.h"

static void on_counts(void *arg, size_t recognised, size_t loads)
{
    (void)arg;
    fprintf(stderr, "canopy: debug: discovery: %zu products recognised, profiles loaded "
            "%zu time%s\n", recognised, loads, loads == 1 ? "" : "s");
}

static void on_error(void *arg, const char *msg)
{
    cnp_cli_error(arg, msg);
}

static void on_scene(void *arg, const char *id, const char *outcome, const char *reason,
                     double seconds)
{
    const cnp_cli *c = arg;
    if (strcmp(outcome, "failed") == 0 && !c->quiet) {
        fputs("canopy: monitor: ", stderr);
        cnp_ident_write_term(stderr, id);
        fputs(": failed, skipped: ", stderr);
        cnp_ident_write_term(stderr, reason);
        fputc('\n', stderr);
    } else if (c->verbose) {
        fputs("canopy: monitor: ", stderr);
        cnp_ident_write_term(stderr, id);
        fprintf(stderr, ": %s in %.2f s\n", outcome, seconds);
    }
}

/* The run's log line: stdout, which cron appends to a log. */
static void on_log_line(void *arg, const char *json)
{
    (void)arg;
    puts(json);
    fflush(stdout);
}

/* N or N/M with 1 <= N <= M <= 255. @return 0, or -1. */
static int parse_confirm(const char *s, int *n_out, int *m_out)
{
    int n = 0, m = 0, used = 0;
    if (sscanf(s, "%d%n", &n, &used) == 1 && s[used] == '\0')
        m = n;
    else if (!(sscanf(s, "%d/%d%n", &n, &m, &used) == 2 && s[used] == '\0'))
        n = 0;
    if (n < 1 || m < n || m > 255)
        return -1;
    *n_out = n;
    *m_out = m;
    return 0;
}

int cnp_monitor_main(int argc, char **argv)
{
    cnp_cli c;
    cnp_monitor_opts o;
    const cnp_option *opt;
    int rc = -1, print_config = 0;

    memset(&o, 0, sizeof o);
    o.confirm_n = o.confirm_m = 2;
    cnp_cli_init(&c, CNP_CMD_MONITOR, "monitor");
    c.prefix = "canopy: monitor: ";
    optind = 1;
    while (rc < 0 && (opt = cnp_cli_next(&c, argc, argv, &rc)) != NULL) {
        int taken;
        if ((rc = cnp_cli_context_option(&c, opt, &taken)), taken)
            continue;
        switch (opt->id) {
        case OPT_STATE: o.state_dir = optarg; break;
        case OPT_DB: o.db = optarg; break;
        case OPT_ON_NEW: o.on_new = optarg; break;
        case OPT_PRINT_CONFIG: print_config = 1; break;
        case OPT_CONFIRM:
            if (parse_confirm(optarg, &o.confirm_n, &o.confirm_m) != 0)
                rc = cnp_cli_usage_error(&c, "--confirm: expected N or N/M with 1 <= N <= M "
                                         "<= 255");
            break;
        default:
            rc = cnp_cli_usage_error(&c, "--%s is not an option of monitor", opt->name);
        }
    }
    if (rc >= 0 || (rc = cnp_cli_context_check(&c)) >= 0)
        goto out;
    o.zones = c.zones;
    o.nzones = c.nzones;
    o.zone_field = c.zone_field;
    o.ctx = c.ctx;
    o.aoi = c.aoi;
    if ((rc = cnp_cli_settings(&c, &o.s)) != CNP_EXIT_OK)
        goto out;
    if (print_config) {
        cnp_settings_write_ini(&o.s, stdout);
        printf("\n[monitor]\nconfirm = %d/%d\nbaseline_obs = %d\n", o.confirm_n, o.confirm_m,
               o.s.baseline_obs);
        cnp_settings_write_monitor_corrections(&o.s, stdout);
        goto out;
    }
    if (!o.state_dir) {
        rc = cnp_cli_usage_error(&c, "missing --state DIR");
        goto out;
    }
    if (optind >= argc) {
        rc = cnp_cli_usage_error(&c, "no INPUT: give product folders, archives, STAC items, "
                                 "rasters or folders to search");
        goto out;
    }
    o.inputs = argv + optind;
    o.ninputs = argc - optind;
    o.ev = (cnp_monitor_events){ &c, on_error, on_scene, on_log_line,
                                 getenv("CANOPY_DEBUG_COUNTS") ? on_counts : NULL };
    cnp_cli_gdal_begin(&c);
    /* Tiles are read and written once each: a small block cache is enough
     * (a user's own GDAL_CACHEMAX stands). */
    if (!cnp_gdal_cache_user_set())
        cnp_gdal_cache_set((int64_t)64 * 1024 * 1024);
    const cnp_status zst = cnp_monitor_layers_check(&o);
    if (zst != CNP_OK) {
        cnp_cli_error(&c, cnp_err_msg());
        rc = cnp_exit_for_status(zst);
    } else {
        rc = cnp_monitor_run(&o);
    }
    cnp_cli_timing(&c, "monitor", cnp_now_s() - c.t0);
    cnp_cli_gdal_end(&c);
out:
    cnp_cli_free(&c);
    return rc;
}
