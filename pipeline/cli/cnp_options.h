/* pipeline/cli/cnp_options.h - every command-line option of every command, in
 * one table.
 *
 * An option is described once: its names, the commands it belongs to, the
 * setting it sets (an option that sets a [section] key of the settings goes
 * through cnp_settings_set, as the key does from a --config file), and its
 * help text. getopt_long's arrays, each command's --help and the man pages
 * are all made from this table, so they cannot drift apart.
 */
#ifndef CNP_OPTIONS_H
#define CNP_OPTIONS_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

/* Commands, as bits of cnp_option.cmds. */
enum {
    CNP_CMD_DETECT = 1 << 0,
    CNP_CMD_BATCH = 1 << 1,
    CNP_CMD_MONITOR = 1 << 2,
    CNP_CMD_INFO = 1 << 3,
    CNP_CMD_VERIFY = 1 << 4,
};

/* What getopt_long returns for options without a short letter. */
enum {
    OPT_FIRST = 1000,
    /* settings */
    OPT_RED, OPT_NIR, OPT_GREEN, OPT_BLUE, OPT_SCALE, OPT_OFFSET, OPT_MASK_INVALID,
    OPT_MASK_BUFFER, OPT_MASK_SHAPE, OPT_GRID, OPT_T_SRS, OPT_TR, OPT_PROFILES, OPT_FOREST,
    OPT_DROP, OPT_HIGH, OPT_MINAREA, OPT_CONN, OPT_BRIDGE_GAP, OPT_BASELINE, OPT_BASELINE_MASK,
    OPT_NORMALIZE, OPT_COREG, OPT_COREG_MAX, OPT_SWIR, OPT_HAZE, OPT_DBEFORE, OPT_DAFTER, OPT_OVSIZE,
    OPT_THREADS, OPT_SCENE_PIXELS,
    /* detect */
    OPT_BMASK, OPT_AMASK, OPT_PRINT_CONFIG, OPT_NO_EVIDENCE, OPT_OUTPUTS, OPT_MAX_CHIPS,
    OPT_NO_HASH, OPT_MAX_MEMORY, OPT_OVERWRITE, OPT_SIGN_KEY, OPT_CASE_ID, OPT_OPERATOR,
    OPT_PROGRESS,
    OPT_JSON, OPT_VERBOSE,
    /* batch */
    OPT_PAIRS, OPT_BASELINE_DATE, OPT_MAX_GAP, OPT_MIN_OBSERVED, OPT_TOTAL_THREADS,
    OPT_TOTAL_MEMORY, OPT_FORCE, OPT_LIST, OPT_PLAN_ONLY, OPT_SHARDS, OPT_PLAN, OPT_SHARD,
    OPT_MERGE,
    /* monitor */
    OPT_STATE, OPT_DB, OPT_ON_NEW, OPT_CONFIRM, OPT_BASELINE_OBS,
    /* verify */
    OPT_RERUN, OPT_PUBKEY,
    /* context layers: zones, masks, area of interest */
    OPT_ZONES, OPT_ZONE_FIELD, OPT_FOREST_MASK, OPT_FOREST_MIN, OPT_FOREST_CLASSES, OPT_EXCLUDE,
    OPT_EXCLUDE_CLASSES, OPT_EXCLUDE_BEFORE, OPT_AOI,
};

typedef struct cnp_option {
    int         id;             /* getopt_long's value: a letter or OPT_*          */
    const char *name;           /* long name, without "--"                          */
    int         has_arg;        /* no_argument or required_argument                 */
    unsigned    cmds;           /* CNP_CMD_* bits                                   */
    const char *section, *key;  /* the setting it sets, or NULL: the command's own  */
    const char *arg;            /* its argument in --help ("N", "FILE"), NULL: none */
    const char *group;          /* the heading it is listed under in --help         */
    const char *help;           /* lines separated by '\n'                          */
} cnp_option;

/* The option `id` of command `cmd`, or NULL. */
const cnp_option *cnp_option_find(unsigned cmd, int id);

/* cnp_options_getopt() :
 * getopt_long's arrays for `cmd`: `longopts` (cap entries, NULL-terminated)
 * and `shortopts` ("o:c:qhV"). @return 0, or -1 when the arrays are too
 * small. */
int cnp_options_getopt(unsigned cmd, struct option *longopts, size_t cap, char *shortopts,
                       size_t scap);

/* cnp_option_at() : the next option of `cmd` from table index *i on (start
 * with *i = 0), or NULL at the end; *i moves past it. */
const cnp_option *cnp_option_at(unsigned cmd, size_t *i);

/* The options section of `cmd`'s --help, grouped under their headings. */
void cnp_options_usage(FILE *f, unsigned cmd);

/* The same as man page source (roff), for the OPTIONS section. */
void cnp_options_man(FILE *f, unsigned cmd);

/* `n` bytes of text for roff: backslashes, hyphens and a leading '.' or '\''
 * escaped. */
void cnp_roff_text(FILE *f, const char *s, size_t n);

#endif /* CNP_OPTIONS_H */
