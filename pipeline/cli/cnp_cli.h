/* pipeline/cli/cnp_cli.h - what every command's main does alike: parse the
 * options of the table (cnp_options.h), the common ones (--config, settings,
 * --quiet, --verbose, --json, --help, --version), usage errors, GDAL's
 * messages. Only cli/ prints.
 */
#ifndef CNP_CLI_H
#define CNP_CLI_H

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>

#include "cnp_config.h"
#include "cnp_ctxmask.h"
#include "cnp_options.h"

enum { CNP_CLI_MAX_SETTINGS = 128, CNP_CLI_MAX_WARNINGS = 32, CNP_CLI_MAX_ZONES = 16 };

typedef struct cnp_cli {
    const char *name;          /* "detect"                                         */
    unsigned    cmd;           /* CNP_CMD_*                                        */
    const char *prefix;        /* of every message: "canopy: "                     */
    int         quiet, verbose, json;
    const char *config;        /* -c FILE, or NULL                                 */
    /* Setting options in the order given, applied after --config. */
    cnp_setting_override set[CNP_CLI_MAX_SETTINGS];
    char        origin[CNP_CLI_MAX_SETTINGS][48];
    size_t      nset;
    struct option longopts[96];
    char        shortopts[32];
    /* GDAL's warnings, kept for --json (the handler runs on worker threads). */
    pthread_mutex_t mu;
    char       *warning[CNP_CLI_MAX_WARNINGS];
    size_t      nwarning, nwarning_dropped;
    double      t0;
    /* --zones (in the order given) and --zone-field */
    const char *zones[CNP_CLI_MAX_ZONES];
    size_t      nzones;
    const char *zone_field;
    /* --forest-mask, --exclude and their rules */
    cnp_ctxmask_spec ctx;
    int         forest_min_given;
    const char *aoi;           /* --aoi                                            */
} cnp_cli;

/* Set up *c for command `cmd` named `name`. @return 0, or -1 (table too big). */
int cnp_cli_init(cnp_cli *c, unsigned cmd, const char *name);
void cnp_cli_free(cnp_cli *c);

/* cnp_cli_next() :
 * The next option of argv (getopt_long over the table), or NULL at the end
 * (optind is then the first operand). An option the command does not know
 * prints getopt's message and the "Try --help" line: *rc = 2. The common
 * options are handled here (--help and --version print and set *rc = 0);
 * those the caller must see are returned, with optarg set. *rc stays -1
 * while parsing goes on. */
const cnp_option *cnp_cli_next(cnp_cli *c, int argc, char **argv, int *rc);

/* Prints "canopy: <message>" and the "Try 'canopy CMD --help'" line.
 * @return 2 (usage). */
int cnp_cli_usage_error(const cnp_cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "canopy: <message>" (one line; text from inputs is made safe for a
 * terminal). */
void cnp_cli_error(const cnp_cli *c, const char *msg);

/* The settings in force: defaults, --config, then the setting options.
 * On failure prints the reason. @return the exit code (0 = ok). */
int cnp_cli_settings(cnp_cli *c, cnp_settings *s);

/* A run's warning (cnp_job.warn): one line on stderr, and kept for --json. */
void cnp_cli_warning(void *arg, const char *text);

/* GDALAllRegister and our error handler (warnings to stderr with --verbose,
 * kept for --json); and their end. */
void cnp_cli_gdal_begin(cnp_cli *c);
void cnp_cli_gdal_end(cnp_cli *c);

/* --verbose: "canopy: <what> <seconds> s" on stderr. */
void cnp_cli_timing(const cnp_cli *c, const char *what, double seconds);

/* cnp_cli_context_option() :
 * --zones, --zone-field, --forest-mask, --exclude and their rules into *c. @return -1 when `o` is not one of them
 * or was taken, else the exit code of a usage error. */
int cnp_cli_context_option(cnp_cli *c, const cnp_option *o, int *taken);

/* cnp_cli_context_check() : the context options go together (a rule needs
 * its mask, one rule each). @return -1, or the exit code of a usage error. */
int cnp_cli_context_check(cnp_cli *c);

/* A count argument lo..hi. @return 0, or -1 (not such a number). */
int cnp_cli_count(const char *s, long lo, long hi, long *out);

#endif /* CNP_CLI_H */
