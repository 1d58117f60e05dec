/* pipeline/cli/cnp_help.c - --help, man pages and bash completion, made from
 * the option table and the exit-code table (cnp_help.h). */
#include "cnp_help.h"

#include <string.h>

#include "cnp_exit.h"
#include "cnp_options.h"
#include "cnp_version.h"

typedef struct command {
    const char *name;
    unsigned    cmd;
    const char *summary;       /* one line: canopy --help, the man page's NAME     */
    const char *synopsis;      /* lines after "Usage: "                            */
    const char *description;   /* paragraphs before the options                   */
    const char *notes;         /* after the options; NULL: none                   */
} command;

static const command commands[] = {
    { "detect", CNP_CMD_DETECT, "compare two scenes, write forest-loss alerts",
      "canopy detect BEFORE AFTER -o OUTDIR [OPTIONS]",
      "Compares two scenes of the same place and writes to OUTDIR: alerts.gpkg,\n"
      "alerts.geojson, alerts.csv, alerts.kmz, overview.png (georeferenced by\n"
      "overview.pgw and overview.png.aux.xml), report.html, report.pdf,\n"
      "evidence/<alert-id>/*.png, run.json and SHA256SUMS (sha256sum -c SHA256SUMS in\n"
      "OUTDIR checks every output, run.json and every input).\n"
      "BEFORE and AFTER are each a satellite product, recognised by the profiles in\n"
      "configs/ (Landsat 4-9 Collection 2 Level-2: folder, _MTL.txt/.xml/.json or .tar;\n"
      "Sentinel-2 L2A: .SAFE folder, its .zip, MTD_MSIL2A.xml, or a folder of B04.tif,\n"
      "B08.tif, SCL.tif; a STAC item, local or URL), or any GDAL raster with red and\n"
      "NIR bands (bands and mask by the options below). Products bring their own bands,\n"
      "scale, offset, date and quality mask. Both scenes are put on one grid (BEFORE's\n"
      "by default) by GDAL/PROJ.\n",
      "report.pdf embeds DejaVu fonts from /usr/share/fonts/truetype/dejavu\n"
      "(Debian's fonts-dejavu-core), or from $CANOPY_FONT_DIR.\n"
      "With --json, stdout holds one object: alerts, area, outputs, run.json's path\n"
      "and GDAL's warnings." },
    { "batch", CNP_CMD_BATCH, "detect over scene archives, pair by pair",
      "canopy batch INPUT... -o OUTROOT [OPTIONS]\n"
      "canopy batch --plan-only --shards N -o OUTROOT INPUT... [OPTIONS]\n"
      "canopy batch --shard K --plan FILE [--jobs N --threads N --max-memory MB]\n"
      "canopy batch --merge --plan FILE",
      "Runs `canopy detect` over scene archives: finds every scene under the INPUTs\n"
      "(folders, searched recursively; .tar/.zip products; STAC items; product metadata\n"
      "files; GeoTIFFs and other rasters; or text files listing any of these, one per\n"
      "line), groups them by footprint (Landsat path/row, Sentinel-2 tile, or overlap\n"
      "for other rasters), sorts them by date, pairs them and writes\n"
      "OUTROOT/<footprint>/<before-id>__<after-id>/ (what detect writes),\n"
      "OUTROOT/<footprint>/alerts.gpkg (every pair's alerts) and OUTROOT/summary.csv\n"
      "and summary.json. Pairs whose outputs are complete are not run again.\n"
      "A raster STEM.tif with a STEM_mask.tif beside it uses that file as its mask.\n",
      "Detect settings apply to every pair; --date-before and --date-after do not\n"
      "apply: each scene's date comes from its metadata or its file name.\n"
      "A --shard task exits 0 when its pairs fail: the failures are in its shard\n"
      "summary and --merge exits 1 for them, naming the shards to run again; the\n"
      "Slurm merge job runs after the array in any state (--dependency=afterany)." },
    { "monitor", CNP_CMD_MONITOR, "monitor footprints through time, from cron",
      "canopy monitor --state DIR [--db CONN] [OPTIONS] INPUT...",
      "Applies every scene under INPUT not seen before to the monitoring state in DIR,\n"
      "in acquisition-date order, footprint by footprint, and keeps the alerts in a\n"
      "database. INPUT: product folders, .tar/.zip archives, STAC items, GeoTIFFs with an\n"
      "ACQUISITION_DATE, or folders searched recursively. Meant to run from cron.\n"
      "\n"
      "A pixel is probable when its NDVI drops by ndvi_drop below its forest baseline\n"
      "(the most recent clear observation), confirmed when the loss is seen again on\n"
      "the next clear observation (--confirm), rejected when NDVI recovers. Alerts keep\n"
      "their id from first detection on.\n",
      "Detect settings are recorded in the state, and a run with other settings on the\n"
      "same state is refused ([limits] and --threads are not part of them).\n"
      "A plain raster's mask is NAME_mask.tif beside NAME.tif when present ([mask] invalid\n"
      "values). Each run prints one JSON line on stdout and writes\n"
      "DIR/runs/<UTC time>-g<generation>/new_alerts.geojson when it changed anything." },
    { "info", CNP_CMD_INFO, "what Canopy understands of an input",
      "canopy info [OPTIONS] PATH",
      "Prints what Canopy understands of PATH, as `canopy detect` would read it:\n"
      "product family and profile, sensor, date, id, footprint (WRS path/row, MGRS\n"
      "tile), grid (size, pixel size, CRS), the files supplying red, NIR and the mask,\n"
      "scale and offset, the mask rule, and the share of pixels observed (the mask is\n"
      "read, with the buffer applied).\n",
      NULL },
    { "verify", CNP_CMD_VERIFY, "check a run's outputs and inputs",
      "canopy verify [OPTIONS] OUTDIR",
      "Re-hashes every output and every input listed in OUTDIR/run.json and reports\n"
      "each as ok, changed, missing or refused (an output that is not a regular file\n"
      "inside OUTDIR, an input that is not a regular file); checks that SHA256SUMS\n"
      "is the one run.json gives and, when the run was signed, its signature\n"
      "SHA256SUMS.sig. With --rerun, also runs the detection again from the recorded\n"
      "inputs and settings (in a temporary folder under $TMPDIR; OUTDIR is only read)\n"
      "and checks that every output is reproduced byte for byte.\n",
      "With --json, stdout holds one object: each file's state, the signature's state\n"
      "and the verdict. With --quiet, only what is not intact is listed." },
};
enum { NCOMMANDS = sizeof commands / sizeof commands[0] };

/* What each code means for each command, beyond the table's one line. */
typedef struct exit_use {
    unsigned    cmds;
    int         code;
    const char *detail;     /* NULL: the table's meaning says it all */
} exit_use;

enum { ALL = CNP_CMD_DETECT | CNP_CMD_BATCH | CNP_CMD_MONITOR | CNP_CMD_INFO | CNP_CMD_VERIFY };

static const exit_use exit_uses[] = {
    { CNP_CMD_DETECT | CNP_CMD_INFO, CNP_EXIT_OK, NULL },
    { CNP_CMD_BATCH, CNP_EXIT_OK, "every pair ok or skipped; with --shard: the shard ran to its\n"
      "end (failed pairs are in its summary and make --merge exit 1)" },
    { CNP_CMD_MONITOR, CNP_EXIT_OK, "with or without new alerts" },
    { CNP_CMD_VERIFY, CNP_EXIT_OK, "everything intact (and reproduced)" },
    { CNP_CMD_DETECT, CNP_EXIT_RUNTIME, "an input cannot be read or used, OUTDIR cannot be\n"
      "written; OUTDIR is then untouched" },
    { CNP_CMD_BATCH, CNP_EXIT_RUNTIME, "some pair failed or an input could not be read (the\n"
      "others still ran); with --shard: the shard could not finish" },
    { CNP_CMD_MONITOR, CNP_EXIT_RUNTIME, "an INPUT path missing, the database unreachable, the\n"
      "state unwritable, a failed --on-new command (called again by the\n"
      "next run)" },
    { CNP_CMD_INFO, CNP_EXIT_RUNTIME, "PATH cannot be read or is not a scene" },
    { CNP_CMD_VERIFY, CNP_EXIT_RUNTIME, "something changed, missing or not reproduced, a bad\n"
      "signature, or run.json unreadable" },
    { CNP_CMD_DETECT, CNP_EXIT_USAGE, "also an OUTDIR that is not empty and holds no Canopy run,\n"
      "a run without --overwrite, a file Canopy did not write at an\n"
      "output's name, a --sign-key that is not Ed25519; OUTDIR is\n"
      "then untouched" },
    { CNP_CMD_BATCH | CNP_CMD_INFO, CNP_EXIT_USAGE, NULL },
    { CNP_CMD_MONITOR, CNP_EXIT_USAGE, "also other settings or another --db than the state's, or\n"
      "a database that belongs to another state" },
    { CNP_CMD_VERIFY, CNP_EXIT_USAGE, "also a --pubkey that is not an Ed25519 key" },
    { CNP_CMD_MONITOR, CNP_EXIT_LOCKED, "(DIR/lock)" },
    { CNP_CMD_MONITOR, CNP_EXIT_PARTIAL, "some inputs could not be applied (recorded in the log\n"
      "line's failures, not retried while unchanged); the others were" },
};

static const command *command_of(unsigned cmd)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (commands[i].cmd == cmd)
            return &commands[i];
    return NULL;
}

unsigned cnp_help_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return commands[i].cmd;
    return 0;
}

/* `text`'s lines, each after `indent`. */
static void lines(FILE *f, const char *indent, const char *text)
{
    while (*text) {
        const size_t n = strcspn(text, "\n");
        fprintf(f, "%s%.*s\n", indent, (int)n, text);
        text += n + (text[n] == '\n');
    }
}

/* Does some command (in `cmds`) exit with `code`? Then its use, else NULL. */
static const exit_use *exit_use_of(unsigned cmds, int code)
{
    for (size_t i = 0; i < sizeof exit_uses / sizeof exit_uses[0]; i++)
        if ((exit_uses[i].cmds & cmds) && exit_uses[i].code == code)
            return &exit_uses[i];
    return NULL;
}

void cnp_help_exit_status(FILE *f, unsigned cmd)
{
    fputs("Exit status:\n", f);
    for (size_t i = 0; i < cnp_exit_count; i++) {
        const cnp_exit_info *e = &cnp_exit_table[i];
        const exit_use *u = exit_use_of(cmd ? cmd : ALL, e->code);
        if (!u)
            continue;
        fprintf(f, "  %d  %s\n", e->code, e->meaning);
        if (cmd && u->detail)
            lines(f, "     ", u->detail);
    }
}

void cnp_help_main(FILE *f)
{
    fputs("Usage: canopy COMMAND [OPTIONS]\n"
          "\n"
          "Finds forest loss between two multispectral scenes and writes georeferenced\n"
          "alert polygons and an overview map.\n"
          "\n"
          "Commands (canopy COMMAND --help for each):\n", f);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        /* The synopsis's first line, without "canopy " and what is optional. */
        char use[64];
        size_t k = 0;
        for (const char *p = commands[i].synopsis + strlen("canopy ");
             *p && *p != '\n' && k + 1 < sizeof use; p++) {
            if (p[0] == ' ' && p[1] == '[') {
                p = strchr(p, ']');
                if (!p)
                    break;
                continue;
            }
            use[k++] = *p;
        }
        use[k] = '\0';
        fprintf(f, "  %-31s %s\n", use, commands[i].summary);
    }
    fputs("\n"
          "Options:\n"
          "  -h, --help      show this help\n"
          "  -V, --version   show the version\n"
          "\n", f);
    cnp_help_exit_status(f, 0);
}

void cnp_help_print(FILE *f, unsigned cmd)
{
    const command *c = command_of(cmd);
    if (!c)
        return;
    const char *syn = c->synopsis;
    for (int first = 1; *syn; first = 0) {
        const size_t n = strcspn(syn, "\n");
        fprintf(f, "%s%.*s\n", first ? "Usage: " : "       ", (int)n, syn);
        syn += n + (syn[n] == '\n');
    }
    fprintf(f, "\n%s\n", c->description);
    cnp_options_usage(f, cmd);
    if (c->notes)
        fprintf(f, "\n%s\n", c->notes);
    fputc('\n', f);
    cnp_help_exit_status(f, cmd);
}

/* ---- man pages ------------------------------------------------------------------ */

static void roff(FILE *f, const char *s) { cnp_roff_text(f, s, strlen(s)); }

/* Paragraphs of `text` (blank lines between them) for roff to fill. */
static void roff_paragraphs(FILE *f, const char *text)
{
    while (*text) {
        const char *end = strstr(text, "\n\n");
        const size_t n = end ? (size_t)(end - text) : strlen(text);
        fputs(".PP\n", f);
        cnp_roff_text(f, text, n);
        if (n && text[n - 1] != '\n')
            fputc('\n', f);
        text += n;
        while (*text == '\n')
            text++;
    }
}

static void man_exit(FILE *f, unsigned cmd)
{
    fputs(".SH EXIT STATUS\n", f);
    for (size_t i = 0; i < cnp_exit_count; i++) {
        const cnp_exit_info *e = &cnp_exit_table[i];
        const exit_use *u = exit_use_of(cmd ? cmd : ALL, e->code);
        if (!u)
            continue;
        fprintf(f, ".TP\n.B %d\n", e->code);
        roff(f, e->meaning);
        fputc('\n', f);
        if (cmd && u->detail) {
            roff(f, u->detail);
            fputc('\n', f);
        }
    }
}

void cnp_help_man(FILE *f, unsigned cmd)
{
    const command *c = cmd ? command_of(cmd) : NULL;
    if (cmd && !c)
        return;
    char title[32];
    snprintf(title, sizeof title, "canopy%s%s", c ? "-" : "", c ? c->name : "");
    fputs(".\\\" Generated from canopy's option table (pipeline/cli); do not edit.\n", f);
    fprintf(f, ".TH %s 1 \"\" \"canopy %s\" \"User Commands\"\n", title, cnp_version);
    fputs(".SH NAME\n", f);
    roff(f, title);
    fputs(" \\- ", f);
    roff(f, c ? c->summary : "forest-loss alerts from multispectral scene pairs");
    fputs("\n.SH SYNOPSIS\n", f);
    if (!c) {
        fputs(".B canopy\n.I COMMAND\n[\\fIOPTIONS\\fR]\n", f);
        fputs(".SH DESCRIPTION\n.PP\nFinds forest loss between two multispectral scenes and "
              "writes georeferenced alert polygons and an overview map.\n", f);
        fputs(".SH COMMANDS\n", f);
        for (size_t i = 0; i < NCOMMANDS; i++) {
            fprintf(f, ".TP\n.BR canopy\\-%s (1)\n", commands[i].name);
            roff(f, commands[i].summary);
            fputc('\n', f);
        }
        fputs(".SH OPTIONS\n.TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nshow the help\n"
              ".TP\n\\fB\\-V\\fR, \\fB\\-\\-version\\fR\nshow the version\n", f);
        man_exit(f, 0);
        return;
    }
    for (const char *syn = c->synopsis; *syn;) {
        const size_t n = strcspn(syn, "\n");
        fputs(".PP\n", f);
        cnp_roff_text(f, syn, n);
        fputc('\n', f);
        syn += n + (syn[n] == '\n');
    }
    fputs(".SH DESCRIPTION\n", f);
    roff_paragraphs(f, c->description);
    fputs(".SH OPTIONS\n", f);
    cnp_options_man(f, cmd);
    if (c->notes) {
        fputs(".SH NOTES\n", f);
        roff_paragraphs(f, c->notes);
    }
    man_exit(f, cmd);
    fputs(".SH SEE ALSO\n.BR canopy (1)\n", f);
}

/* ---- bash completion -------------------------------------------------------------- */

/* The words an argument like "before|after|finest" allows, space-separated;
 * "" when it is not such a list. */
static void choices(const char *arg, char *out, size_t size)
{
    out[0] = '\0';
    if (!arg || !strchr(arg, '|'))
        return;
    size_t k = 0;
    for (const char *p = arg; *p && k + 1 < size; p++)
        out[k++] = *p == '|' ? ' ' : *p;
    out[k] = '\0';
}

static void bash_command(FILE *f, const command *c)
{
    size_t i = 0;
    fprintf(f, "    %s)\n        case $prev in\n", c->name);
    for (const cnp_option *o; (o = cnp_option_at(c->cmd, &i)) != NULL;) {
        if (!o->arg)
            continue;
        char words[128];
        choices(o->arg, words, sizeof words);
        fprintf(f, "        %s--%s) ", o->id < 128 ? (char[]){ '-', (char)o->id, '|', 0 } : "",
                o->name);
        if (words[0])
            fprintf(f, "COMPREPLY=($(compgen -W '%s' -- \"$cur\")); return;;\n", words);
        else if (strcmp(o->arg, "FILE") == 0)
            fputs("COMPREPLY=($(compgen -f -- \"$cur\")); return;;\n", f);
        else if (strcmp(o->arg, "DIR") == 0)
            fputs("COMPREPLY=($(compgen -d -- \"$cur\")); return;;\n", f);
        else
            fputs("return;;\n", f);
    }
    fputs("        esac\n        opts='", f);
    i = 0;
    int first = 1;
    for (const cnp_option *o; (o = cnp_option_at(c->cmd, &i)) != NULL; first = 0)
        fprintf(f, "%s%s--%s", first ? "" : " ",
                o->id < 128 ? (char[]){ '-', (char)o->id, ' ', 0 } : "", o->name);
    fputs("';;\n", f);
}

void cnp_help_bash(FILE *f)
{
    fputs("# bash completion for canopy. Generated from its option table; do not edit.\n"
          "_canopy()\n{\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
          "    local opts\n"
          "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
          "        COMPREPLY=($(compgen -W '", f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "%s ", commands[i].name);
    fputs("--help --version' -- \"$cur\"))\n"
          "        return\n"
          "    fi\n"
          "    case ${COMP_WORDS[1]} in\n", f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        bash_command(f, &commands[i]);
    fputs("    *) return;;\n"
          "    esac\n"
          "    if [[ $cur == -* ]]; then\n"
          "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
          "    else\n"
          "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
          "    fi\n"
          "}\n"
          "complete -o filenames -F _canopy canopy\n", f);
}

/* ---- README ------------------------------------------------------------------------ */

void cnp_help_readme_exit(FILE *f)
{
    fputs("| code | name | meaning |\n|---|---|---|\n", f);
    for (size_t i = 0; i < cnp_exit_count; i++) {
        const cnp_exit_info *e = &cnp_exit_table[i];
        if (exit_use_of(ALL, e->code))
            fprintf(f, "| %d | %s | %s |\n", e->code, e->name, e->meaning);
    }
}
