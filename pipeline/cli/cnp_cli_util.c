/* pipeline/cli/cnp_cli_util.c - what every command's main does alike (cnp_cli.h). */
#include "cnp_cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <gdal.h>

#include "cnp_err.h"
#include "cnp_exit.h"
#include "cnp_fs.h"
#include "cnp_gdal.h"
#include "cnp_help.h"
#include "cnp_ident.h"
#include "cnp_version.h"

int cnp_cli_init(cnp_cli *c, unsigned cmd, const char *name)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    c->cmd = cmd;
    c->prefix = "canopy: ";
    c->t0 = cnp_now_s();
    pthread_mutex_init(&c->mu, NULL);
    return cnp_options_getopt(cmd, c->longopts, sizeof c->longopts / sizeof c->longopts[0],
                              c->shortopts, sizeof c->shortopts);
}

void cnp_cli_free(cnp_cli *c)
{
    for (size_t i = 0; i < c->nwarning; i++)
        free(c->warning[i]);
    pthread_mutex_destroy(&c->mu);
}

int cnp_cli_usage_error(const cnp_cli *c, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fputs(c->prefix, stderr);
    cnp_ident_write_term(stderr, msg);
    fprintf(stderr, "\nTry 'canopy %s --help' for more information.\n", c->name);
    return CNP_EXIT_USAGE;
}

void cnp_cli_error(const cnp_cli *c, const char *msg)
{
    fputs(c->prefix, stderr);
    cnp_ident_write_term(stderr, msg);
    fputc('\n', stderr);
}

/* The command-line word a long option came from: getopt_long has just
 * stepped past it (and past its value when that was the next word). */
static const char *long_word(char **argv)
{
    return optarg && optind >= 2 && optarg == argv[optind - 1] ? argv[optind - 2]
                                                               : argv[optind - 1];
}

const cnp_option *cnp_cli_next(cnp_cli *c, int argc, char **argv, int *rc)
{
    int id, li;
    *rc = -1;
    while ((li = -1, id = getopt_long(argc, argv, c->shortopts, c->longopts, &li)) != -1) {
        const cnp_option *o = cnp_option_find(c->cmd, id);
        if (!o) {
            /* getopt_long said what was wrong. */
            fprintf(stderr, "Try 'canopy %s --help' for more information.\n", c->name);
            *rc = CNP_EXIT_USAGE;
            return NULL;
        }
        /* Long options in full only: an abbreviation would change meaning
         * when an option is added (--baseline of batch was --baseline-date). */
        if (li >= 0) {
            const char *w = long_word(argv);
            const size_t n = strlen(o->name);
            if (strncmp(w, "--", 2) != 0 || strncmp(w + 2, o->name, n) != 0 ||
                (w[2 + n] != '\0' && w[2 + n] != '=')) {
                *rc = cnp_cli_usage_error(c, "unrecognized option '%.*s' (long options are "
                                          "written in full: --%s?)",
                                          (int)strcspn(w, "="), w, o->name);
                return NULL;
            }
        }
        if (o->section) {
            if (c->nset >= CNP_CLI_MAX_SETTINGS) {
                *rc = cnp_cli_usage_error(c, "too many options");
                return NULL;
            }
            snprintf(c->origin[c->nset], sizeof c->origin[0], "--%s", o->name);
            c->set[c->nset] = (cnp_setting_override){ o->section, o->key, optarg,
                                                      c->origin[c->nset] };
            c->nset++;
            continue;
        }
        switch (id) {
        case 'c': c->config = optarg; continue;
        case 'q': c->quiet = 1; continue;
        case OPT_VERBOSE: c->verbose = 1; continue;
        case OPT_JSON: c->json = 1; continue;
        case 'h':
            cnp_help_print(stdout, c->cmd);
            *rc = CNP_EXIT_OK;
            return NULL;
        case 'V':
            printf("canopy %s\n", cnp_version);
            *rc = CNP_EXIT_OK;
            return NULL;
        default:
            return o;
        }
    }
    return NULL;
}

int cnp_cli_settings(cnp_cli *c, cnp_settings *s)
{
    const cnp_status st = cnp_settings_resolve(s, c->config, c->set, c->nset);
    if (st != CNP_OK)
        cnp_cli_error(c, cnp_err_msg());
    return cnp_exit_for_status(st);
}

void cnp_cli_warning(void *arg, const char *text)
{
    cnp_cli *c = arg;
    char line[1200], safe[1024];
    cnp_ident_term_str(safe, sizeof safe, text);
    snprintf(line, sizeof line, "canopy: warning: %s\n", safe);
    fputs(line, stderr);        /* even with --quiet: it is about the result */
    if (!c->json)
        return;
    pthread_mutex_lock(&c->mu);
    char *w = c->nwarning < CNP_CLI_MAX_WARNINGS ? strdup(text) : NULL;
    if (w)
        c->warning[c->nwarning++] = w;
    else
        c->nwarning_dropped++;
    pthread_mutex_unlock(&c->mu);
}

static void gdal_note(void *arg, int debug, const char *msg)
{
    cnp_cli *c = arg;
    if (c->verbose) {
        /* One write, so that lines of worker threads do not mix. */
        char line[1200], safe[1024];
        cnp_ident_term_str(safe, sizeof safe, msg);
        snprintf(line, sizeof line, "%sGDAL %s: %s\n", c->prefix, debug ? "debug" : "warning",
                 safe);
        fputs(line, stderr);
    }
    if (!c->json || debug)
        return;
    pthread_mutex_lock(&c->mu);
    int dup = 0;
    for (size_t i = 0; i < c->nwarning && !dup; i++)
        dup = strcmp(c->warning[i], msg) == 0;
    if (!dup && c->nwarning < CNP_CLI_MAX_WARNINGS) {
        char *w = strdup(msg);
        if (w)
            c->warning[c->nwarning++] = w;
    } else if (!dup) {
        c->nwarning_dropped++;
    }
    pthread_mutex_unlock(&c->mu);
}

void cnp_cli_gdal_begin(cnp_cli *c)
{
    GDALAllRegister();
    cnp_err_install_gdal_handler(gdal_note, c);
}

void cnp_cli_gdal_end(cnp_cli *c)
{
    (void)c;
    cnp_err_remove_gdal_handler();
    GDALDestroy();
}

void cnp_cli_timing(const cnp_cli *c, const char *what, double seconds)
{
    if (c->verbose)
        fprintf(stderr, "%s%s %.2f s\n", c->prefix, what, seconds);
}

int cnp_cli_count(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    const long n = strtol(s, &end, 10);
    if (end == s || *end || errno || n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}
