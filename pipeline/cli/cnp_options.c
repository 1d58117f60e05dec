/* pipeline/cli/cnp_options.c - the one table of command-line options, and what
 * is made from it: getopt_long's arrays, --help and man page sections. */
#include "cnp_options.h"

#include <string.h>

enum {
    D = CNP_CMD_DETECT, B = CNP_CMD_BATCH, M = CNP_CMD_MONITOR, I = CNP_CMD_INFO,
    V = CNP_CMD_VERIFY
};

#define GROUP_DETECT "Options (each setting also a key of the --config file, in brackets):"
#define GROUP_SETTINGS "Detect settings (as for canopy detect; each also a --config key):"
#define GROUP_PAIRING "Pairing:"
#define GROUP_RUNNING "Running:"
#define GROUP_CLUSTER "Cluster (scripts/slurm/canopy-slurm-submit.sh uses these):"
#define GROUP_MONITOR "Options:"
#define GROUP_OTHER "Options:"

static const cnp_option options[] = {
    /* ---- where the run goes --------------------------------------------------------- */
    { 'o', "output", required_argument, D, NULL, NULL, "DIR", GROUP_DETECT,
      "output folder: new, empty, or a Canopy run to\nreplace with --overwrite" },
    { 'o', "output", required_argument, B, NULL, NULL, "DIR", GROUP_RUNNING,
      "OUTROOT (created if missing)" },
    { OPT_OVERWRITE, "overwrite", no_argument, D, NULL, NULL, NULL, GROUP_DETECT,
      "replace the Canopy run in OUTDIR (its files go, files\nCanopy did not write stay)" },
    { OPT_STATE, "state", required_argument, M, NULL, NULL, "DIR", GROUP_MONITOR,
      "the state folder (created on first use)" },
    { OPT_DB, "db", required_argument, M, NULL, NULL, "CONN", GROUP_MONITOR,
      "database: a GeoPackage path or PG:\"dbname=... host=...\"\n(default DIR/alerts.gpkg)" },
    { OPT_ON_NEW, "on-new", required_argument, M, NULL, NULL, "CMD", GROUP_MONITOR,
      "run CMD FILE when a run finds new or newly confirmed\nalerts; FILE is that run's "
      "new_alerts.geojson" },
    { OPT_CONFIRM, "confirm", required_argument, M, NULL, NULL, "N[/M]", GROUP_MONITOR,
      "confirmed after N observations with loss within M clear\nobservations (default 2/2: "
      "seen again on the next one)" },
    { OPT_BASELINE_OBS, "baseline-obs", required_argument, M, "monitor", "baseline_obs", "N",
      GROUP_MONITOR, "each pixel's baseline: the median NDVI of its last N\nclear observations, "
      "1-16 [monitor] baseline_obs (default 3;\n1 = the most recent one)" },
    { 'c', "config", required_argument, D | B | M | I, NULL, NULL, "FILE", GROUP_DETECT,
      "INI file with settings (default: built-in values,\nthe same as configs/default.ini)" },

    /* ---- settings: [bands] --------------------------------------------------------- */
    { OPT_RED, "red", required_argument, D | B | M, "bands", "red", "N", GROUP_DETECT,
      "1-based red band [bands] red (default 3)" },
    { OPT_NIR, "nir", required_argument, D | B | M, "bands", "nir", "N", GROUP_DETECT,
      "1-based NIR band [bands] nir (default 4)" },
    { OPT_GREEN, "green", required_argument, D | B | M, "bands", "green", "N", GROUP_DETECT,
      "green band, for pictures; 0 = none [bands] green (2)" },
    { OPT_BLUE, "blue", required_argument, D | B | M, "bands", "blue", "N", GROUP_DETECT,
      "blue band, for pictures; 0 = none [bands] blue (1)" },
    { OPT_SWIR, "swir", required_argument, D | B, "bands", "swir2", "N", GROUP_DETECT,
      "SWIR 2.2 um band for the second index (NBR); 0 =\nnone [bands] swir2 (0; products: "
      "from the profile)" },
    { OPT_SCALE, "scale", required_argument, D | B | M, "bands", "scale", "X", GROUP_DETECT,
      "reflectance = DN * scale + offset [bands] scale" },
    { OPT_OFFSET, "offset", required_argument, D | B | M, "bands", "offset", "X", GROUP_DETECT,
      "(default: band metadata, else 1e-4 and 0) [bands] offset" },
    { OPT_BMASK, "before-mask", required_argument, D, NULL, NULL, "FILE", GROUP_DETECT,
      "mask raster on BEFORE's grid (e.g. Sentinel-2 SCL)" },
    { OPT_AMASK, "after-mask", required_argument, D, NULL, NULL, "FILE", GROUP_DETECT,
      "mask raster on AFTER's grid" },
    { OPT_BASELINE, "baseline", required_argument, D, NULL, NULL, "SCENE", GROUP_DETECT,
      "an earlier scene of AFTER's season (repeatable, up\nto 8): the change is measured from "
      "the median of\ntheir clear NDVI; forest is still decided on BEFORE" },
    { OPT_BASELINE_MASK, "baseline-mask", required_argument, D, NULL, NULL, "FILE",
      GROUP_DETECT, "mask raster of the baseline given in the same place\n(repeatable)" },
    /* ---- [mask] ----------------------------------------------------------------------- */
    { OPT_MASK_INVALID, "mask-invalid", required_argument, D | B | M, "mask", "invalid", "LIST",
      GROUP_DETECT,
      "mask values meaning not observed [mask] invalid\n(default 0,1,3,8,9,10: SCL nodata, "
      "defective, shadow,\ncloud medium/high, cirrus)" },
    { OPT_MASK_BUFFER, "mask-buffer", required_argument, D | B | M | I, "mask", "buffer_m", "M",
      GROUP_DETECT, "clouds and shadows grow by M metres, 0 = off\n[mask] buffer_m (60)" },
    { OPT_MASK_SHAPE, "mask-buffer-shape", required_argument, D | B | M, "mask", "buffer_shape",
      "disk|square", GROUP_DETECT, "[mask] buffer_shape (disk)" },
    { OPT_HAZE, "haze", required_argument, D | B | M, "mask", "haze", "on|off", GROUP_DETECT,
      "haze, smoke, thin cloud the mask calls clear are\nunobserved in AFTER (monitor: in "
      "each new scene;\nneeds blue) [mask] haze (on)" },
    /* ---- [grid] ----------------------------------------------------------------------- */
    { OPT_GRID, "grid", required_argument, D | B, "grid", "align", "before|after|finest",
      GROUP_DETECT, "the common grid: that scene's [grid] align (before)" },
    { OPT_T_SRS, "t-srs", required_argument, D | B | M, "grid", "t_srs", "SRS", GROUP_DETECT,
      "or an explicit grid: CRS (EPSG:32721, WKT, PROJ)" },
    { OPT_TR, "tr", required_argument, D | B | M, "grid", "tr", "RES", GROUP_DETECT,
      "and pixel size in its units [grid] t_srs, tr" },
    /* ---- [products] -------------------------------------------------------------------- */
    { OPT_PROFILES, "profiles", required_argument, D | B | M | I, "products", "profiles", "DIR",
      GROUP_DETECT,
      "product profiles folder [products] profiles\n(default $CANOPY_CONFIG_DIR, else "
      "bin/../configs)" },
    /* ---- [detect] ------------------------------------------------------------------------ */
    { OPT_FOREST, "forest-ndvi", required_argument, D | B | M, "detect", "forest_ndvi", "X",
      GROUP_DETECT, "forest when NDVI before >= X [detect] forest_ndvi (0.65)" },
    { OPT_DROP, "ndvi-drop", required_argument, D | B | M, "detect", "ndvi_drop", "X",
      GROUP_DETECT, "loss when NDVI after - before <= -X\n[detect] ndvi_drop (0.25)" },
    { OPT_HIGH, "high-confidence-drop", required_argument, D | B | M, "detect",
      "high_confidence_drop", "X", GROUP_DETECT,
      "confidence 'high' when the mean drop >= X\n[detect] high_confidence_drop (0.40)" },
    { OPT_MINAREA, "min-area", required_argument, D | B | M, "detect", "min_area", "HA",
      GROUP_DETECT, "minimum mapping unit, hectares [detect] min_area (0.5)" },
    { OPT_CONN, "connectivity", required_argument, D | B | M, "detect", "connectivity", "4|8",
      GROUP_DETECT, "pixel connectivity of alerts [detect] connectivity (8)" },
    { OPT_BRIDGE_GAP, "bridge-gap", required_argument, D | B | M, "detect", "bridge_gap_m", "M",
      GROUP_DETECT, "loss pieces apart by unobserved gaps up to M metres\nare one alert; 0 = off "
      "[detect] bridge_gap_m (150)" },
    { OPT_NORMALIZE, "normalize", required_argument, D | B | M, "detect", "normalize",
      "local|scene|off", GROUP_DETECT,
      "dNDVI relative to stable forest around each pixel\n(local), to the scene (scene) or "
      "raw (off)\n(monitor: against each footprint's baseline)\n[detect] normalize (local)" },
    /* ---- [coreg] ------------------------------------------------------------------------- */
    { OPT_COREG, "coreg", required_argument, D | B | M, "coreg", "mode", "auto|check|off",
      GROUP_DETECT,
      "co-registration: measure the shift of AFTER\n(and of each baseline; monitor: of each new scene\n"
      "against its footprint's baseline) and resample it\nonto BEFORE (auto), measure only (check), "
      "or\nneither (off) [coreg] mode (auto)" },
    { OPT_COREG_MAX, "coreg-max-shift", required_argument, D | B | M, "coreg", "max_shift", "PX",
      GROUP_DETECT,
      "refuse (exit 1) a larger shift [coreg] max_shift (2)" },
    /* ---- [dates], [output], [run], [limits] --------------------------------------------- */
    { OPT_DBEFORE, "date-before", required_argument, D, "dates", "before", "DATE", GROUP_DETECT,
      "YYYY-MM-DD when BEFORE carries no date [dates] before" },
    { OPT_DAFTER, "date-after", required_argument, D, "dates", "after", "DATE", GROUP_DETECT,
      "YYYY-MM-DD when AFTER carries no date [dates] after" },
    { OPT_OVSIZE, "overview-size", required_argument, D | B, "output", "overview_size", "N",
      GROUP_DETECT, "longest side of overview.png [output] overview_size\n(2048)" },
    { OPT_THREADS, "threads", required_argument, D | M, "run", "threads", "N", GROUP_DETECT,
      "worker threads, 0 = all cores [run] threads (0)" },
    { OPT_THREADS, "threads", required_argument, V, NULL, NULL, "N", GROUP_OTHER,
      "threads for the rerun (0 = all cores)" },
    { OPT_TOTAL_THREADS, "threads", required_argument, B, NULL, NULL, "N", GROUP_RUNNING,
      "threads in all, shared by the jobs (default: all cores)" },
    { 'j', "jobs", required_argument, B, NULL, NULL, "N", GROUP_RUNNING,
      "pairs at once (default: threads / 4, at least 1)" },
    { OPT_MAX_MEMORY, "max-memory", required_argument, D, NULL, NULL, "MB", GROUP_DETECT,
      "memory cap: fewer workers and a smaller GDAL cache\nwhen needed (recorded in run.json)" },
    { OPT_TOTAL_MEMORY, "max-memory", required_argument, B, NULL, NULL, "MB", GROUP_RUNNING,
      "memory in all; each job gets MB / jobs" },

    /* ---- what detect writes ---------------------------------------------------------------- */
    { OPT_NO_EVIDENCE, "no-evidence", no_argument, D | B, NULL, NULL, NULL, GROUP_DETECT,
      "skip the per-alert chips, report.html, report.pdf and\nalerts.kmz" },
    { OPT_OUTPUTS, "outputs", required_argument, D | B, NULL, NULL, "LIST", GROUP_DETECT,
      "write only these of gpkg, geojson, csv, overview\n(comma-separated; default all four; "
      "fewer need\n--no-evidence; batch needs gpkg)" },
    { OPT_MAX_CHIPS, "max-chips", required_argument, D | B, NULL, NULL, "N", GROUP_DETECT,
      "chips for the N largest alerts only (default 100;\n0 = every alert)" },
    { OPT_NO_HASH, "no-hash", no_argument, D | B, NULL, NULL, NULL, GROUP_DETECT,
      "do not hash the inputs (run.json records size and time)" },
    { OPT_CASE_ID, "case-id", required_argument, D, NULL, NULL, "TEXT", GROUP_DETECT,
      "the case these outputs are for, on report.html,\nreport.pdf, alerts.kmz and in run.json "
      "(printable\nUTF-8, at most 128 bytes)" },
    { OPT_OPERATOR, "operator", required_argument, D, NULL, NULL, "TEXT", GROUP_DETECT,
      "who ran the analysis, likewise (at most 200 bytes)" },
    { OPT_SIGN_KEY, "sign-key", required_argument, D, NULL, NULL, "FILE", GROUP_DETECT,
      "sign SHA256SUMS with this Ed25519 private key (PEM,\nno passphrase) into SHA256SUMS.sig" },
    { OPT_SCENE_PIXELS, "max-scene-pixels", required_argument, D | B | M | I, "limits",
      "scene_pixels", "N", GROUP_DETECT,
      "refuse a scene, or a common grid, of more than N\npixels [limits] scene_pixels "
      "(2000000000); the\nother [limits] bound metadata files (README)" },
    { OPT_PRINT_CONFIG, "print-config", no_argument, D | B | M, NULL, NULL, NULL, GROUP_DETECT,
      "print the settings in force as INI and exit" },

    /* ---- context layers: where the loss happened ------------------------------------------- */
    { OPT_ZONES, "zones", required_argument, D | B | M | I, NULL, NULL, "FILE[:LAYER]", GROUP_DETECT,
      "zones (properties, protected areas; any OGR vector,\nany CRS): each alert gets the "
      "zones it overlaps,\nwith the overlap in ha; zones.csv sums them per\nzone (repeatable)" },
    { OPT_ZONE_FIELD, "zone-field", required_argument, D | B | M | I, NULL, NULL, "NAME", GROUP_DETECT,
      "the field naming the zones (default: the first text\nfield of each layer)" },
    { OPT_FOREST_MASK, "forest-mask", required_argument, D | B | M | I, NULL, NULL, "FILE",
      GROUP_DETECT,
      "forest only where this raster (any grid, warped onto\nthe scene's) says forest, and "
      "NDVI before too" },
    { OPT_FOREST_MIN, "forest-min", required_argument, D | B | M | I, NULL, NULL, "N", GROUP_DETECT,
      "forest where the mask's value >= N (default 30: Hansen\ntree cover percent)" },
    { OPT_FOREST_CLASSES, "forest-classes", required_argument, D | B | M | I, NULL, NULL, "LIST",
      GROUP_DETECT, "or where it is one of these values (e.g. 1)" },
    { OPT_EXCLUDE, "exclude", required_argument, D | B | M | I, NULL, NULL, "FILE", GROUP_DETECT,
      "no loss where this raster says cleared already (PRODES\nprior deforestation, Hansen "
      "loss year): non-zero values" },
    { OPT_EXCLUDE_CLASSES, "exclude-classes", required_argument, D | B | M | I, NULL, NULL, "LIST",
      GROUP_DETECT, "or these values only (e.g. PRODES years 11,16,17)" },
    { OPT_EXCLUDE_BEFORE, "exclude-before", required_argument, D | B | M | I, NULL, NULL, "DATE",
      GROUP_DETECT, "or, for a loss-year raster (years since 2000), the\nyears cleared "
      "before DATE (e.g. 2020-12-31, EUDR)" },
    { OPT_AOI, "aoi", required_argument, D | B | M | I, NULL, NULL, "FILE[:LAYER]", GROUP_DETECT,
      "area of interest (any OGR vector, any CRS): only its\nblocks are read, alerts and "
      "the unobserved area are\ninside it only" },

    /* ---- batch --------------------------------------------------------------------------- */
    { OPT_PAIRS, "pairs", required_argument, B, NULL, NULL, "consecutive|baseline",
      GROUP_PAIRING,
      "each scene against the previous one (default), or\nevery later scene against the one "
      "nearest" },
    { OPT_BASELINE_DATE, "baseline-date", required_argument, B, NULL, NULL, "DATE",
      GROUP_PAIRING, "(YYYY-MM-DD; needed by --pairs baseline)" },
    { OPT_MAX_GAP, "max-gap", required_argument, B, NULL, NULL, "DAYS", GROUP_PAIRING,
      "skip pairs more than DAYS apart" },
    { OPT_MIN_OBSERVED, "min-observed", required_argument, B, NULL, NULL, "SHARE",
      GROUP_PAIRING,
      "0-1: a pair that observed less of its overlap (read\nfrom its run.json after the run) "
      "is reported as\nskipped and left out of the footprint's alerts.gpkg" },
    { OPT_FORCE, "force", no_argument, B, NULL, NULL, NULL, GROUP_RUNNING,
      "run every pair again, complete or not" },
    { OPT_LIST, "list", no_argument, B, NULL, NULL, NULL, GROUP_RUNNING,
      "print the plan (footprints, scenes, pairs and what a\nrun would do with each, inputs "
      "not used) and exit" },
    { OPT_PLAN_ONLY, "plan-only", no_argument, B, NULL, NULL, NULL, GROUP_CLUSTER,
      "write the plan (default OUTROOT/plan.json) and exit" },
    { OPT_SHARDS, "shards", required_argument, B, NULL, NULL, "N", GROUP_CLUSTER,
      "split the footprints into N shards (with --plan-only)" },
    { OPT_PLAN, "plan", required_argument, B, NULL, NULL, "FILE", GROUP_CLUSTER,
      "the plan file to write or to read" },
    { OPT_SHARD, "shard", required_argument, B, NULL, NULL, "K", GROUP_CLUSTER,
      "run shard K (0-based) of --plan FILE" },
    { OPT_MERGE, "merge", no_argument, B, NULL, NULL, NULL, GROUP_CLUSTER,
      "gather the shard summaries of --plan FILE into\nOUTROOT/summary.csv and summary.json" },

    /* ---- verify --------------------------------------------------------------------------- */
    { OPT_RERUN, "rerun", no_argument, V, NULL, NULL, NULL, GROUP_OTHER,
      "also run the detection again and check that every\noutput is reproduced" },
    { OPT_PUBKEY, "pubkey", required_argument, V, NULL, NULL, "FILE", GROUP_OTHER,
      "the Ed25519 public key (PEM) the run must be signed\nwith (without it, the key recorded "
      "in run.json)" },

    /* ---- every command ---------------------------------------------------------------------- */
    { OPT_JSON, "json", no_argument, D | I | V, NULL, NULL, NULL, GROUP_OTHER,
      "one JSON object on stdout instead of text" },
    { 'q', "quiet", no_argument, D | B | M | I | V, NULL, NULL, NULL, GROUP_OTHER,
      "errors only: no progress, notes or summary" },
    { OPT_PROGRESS, "progress", no_argument, D, NULL, NULL, NULL, GROUP_OTHER,
      "progress on stderr as lines \"progress N% STAGE\", also\nwhen it is not a terminal "
      "(a terminal gets a bar)" },
    { OPT_VERBOSE, "verbose", no_argument, D | B | M | I | V, NULL, NULL, NULL, GROUP_OTHER,
      "also each stage's time and GDAL's warnings on stderr" },
    { 'h', "help", no_argument, D | B | M | I | V, NULL, NULL, NULL, GROUP_OTHER,
      "show this help" },
    { 'V', "version", no_argument, D | B | M | I | V, NULL, NULL, NULL, GROUP_OTHER,
      "show the version" },
};
enum { NOPTIONS = sizeof options / sizeof options[0] };

const cnp_option *cnp_option_find(unsigned cmd, int id)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if ((options[i].cmds & cmd) && options[i].id == id)
            return &options[i];
    return NULL;
}

int cnp_options_getopt(unsigned cmd, struct option *longopts, size_t cap, char *shortopts,
                       size_t scap)
{
    size_t n = 0, s = 0;
    for (size_t i = 0; i < NOPTIONS; i++) {
        const cnp_option *o = &options[i];
        if (!(o->cmds & cmd))
            continue;
        if (n + 1 >= cap)
            return -1;
        longopts[n++] = (struct option){ o->name, o->has_arg, NULL, o->id };
        if (o->id < 128) {
            if (s + 3 >= scap)
                return -1;
            shortopts[s++] = (char)o->id;
            if (o->has_arg == required_argument)
                shortopts[s++] = ':';
        }
    }
    longopts[n] = (struct option){ NULL, 0, NULL, 0 };
    shortopts[s] = '\0';
    return 0;
}

const cnp_option *cnp_option_at(unsigned cmd, size_t *i)
{
    for (; *i < NOPTIONS; (*i)++)
        if (options[*i].cmds & cmd)
            return &options[(*i)++];
    return NULL;
}

/* The heading `o` is listed under in `cmd`'s --help: detect lists its
 * settings with its other options; the other commands list them apart. */
static const char *group_of(const cnp_option *o, unsigned cmd)
{
    if (cmd == CNP_CMD_DETECT)
        return GROUP_DETECT;
    if (strcmp(o->group, GROUP_DETECT) != 0)
        return o->group;
    if (o->section || cmd == CNP_CMD_BATCH)
        return o->id == 'c' ? GROUP_OTHER : GROUP_SETTINGS;
    return GROUP_OTHER;
}

/* "  -o, --output DIR", "      --red N" */
static int option_label(const cnp_option *o, char *out, size_t size)
{
    char letter[8] = "    ";
    if (o->id < 128)
        snprintf(letter, sizeof letter, "-%c, ", o->id);
    return snprintf(out, size, "  %s--%s%s%s", letter, o->name, o->arg ? " " : "",
                    o->arg ? o->arg : "");
}

static void usage_one(FILE *f, const cnp_option *o)
{
    enum { COL = 28 };
    char label[96];
    const int len = option_label(o, label, sizeof label);
    fputs(label, f);
    const char *line = o->help;
    int first = 1;
    while (*line) {
        const size_t n = strcspn(line, "\n");
        if (first && len < COL - 1)
            fprintf(f, "%*s%.*s\n", COL - len, "", (int)n, line);
        else
            fprintf(f, "%s%*s%.*s\n", first ? "\n" : "", COL, "", (int)n, line);
        first = 0;
        line += n + (line[n] == '\n');
    }
}

/* The headings of `cmd`'s --help in order: batch's own first; else in the
 * order their first option comes in the table. @return how many. */
static size_t group_order(unsigned cmd, const char *out[8])
{
    static const char *const batch[] = { GROUP_PAIRING, GROUP_RUNNING, GROUP_CLUSTER,
                                         GROUP_SETTINGS, GROUP_OTHER };
    size_t n = 0;
    if (cmd == CNP_CMD_BATCH)
        for (; n < sizeof batch / sizeof batch[0]; n++)
            out[n] = batch[n];
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (!(options[i].cmds & cmd))
            continue;
        const char *g = group_of(&options[i], cmd);
        int seen = 0;
        for (size_t k = 0; k < n; k++)
            seen |= strcmp(out[k], g) == 0;
        if (!seen && n < 8)
            out[n++] = g;
    }
    return n;
}

void cnp_options_usage(FILE *f, unsigned cmd)
{
    const char *groups[8];
    const size_t ngroups = group_order(cmd, groups);
    for (size_t g = 0; g < ngroups; g++) {
        fprintf(f, "%s%s\n", g ? "\n" : "", groups[g]);
        for (size_t k = 0; k < NOPTIONS; k++)
            if ((options[k].cmds & cmd) && strcmp(group_of(&options[k], cmd), groups[g]) == 0)
                usage_one(f, &options[k]);
    }
}

/* roff: a backslash, a hyphen and a leading dot or quote must be escaped. */
void cnp_roff_text(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\')
            fputs("\\e", f);
        else if (s[i] == '-')
            fputs("\\-", f);
        else if ((i == 0 || s[i - 1] == '\n') && (s[i] == '.' || s[i] == '\''))
            fprintf(f, "\\&%c", s[i]);
        else
            fputc(s[i], f);
    }
}

void cnp_options_man(FILE *f, unsigned cmd)
{
    size_t i = 0;
    for (const cnp_option *o; (o = cnp_option_at(cmd, &i)) != NULL;) {
        fputs(".TP\n", f);
        if (o->id < 128)
            fprintf(f, "\\fB\\-%c\\fR, ", o->id);
        fputs("\\fB", f);
        cnp_roff_text(f, "--", 2);
        cnp_roff_text(f, o->name, strlen(o->name));
        fputs("\\fR", f);
        if (o->arg) {
            fputs(" \\fI", f);
            cnp_roff_text(f, o->arg, strlen(o->arg));
            fputs("\\fR", f);
        }
        fputc('\n', f);
        /* One paragraph: the --help lines joined, roff fills them. */
        cnp_roff_text(f, o->help, strlen(o->help));
        fputc('\n', f);
    }
}
