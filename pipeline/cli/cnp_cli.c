/* pipeline/cli/cnp_cli.c - main(): parse, run, map the status to an exit code.
 *
 * Exit codes (one table, here and in the README):
 *   0  success (zero alerts is a success)
 *   1  runtime error: unreadable input, no overlap, nothing observed, cannot write
 *   2  usage or configuration error: bad option, unknown config key, bad value,
 *      an OUTDIR Canopy may not write (cnp_staging.h), a key that is not Ed25519
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gdal.h>

#include "cnp_config.h"
#include "cnp_detect.h"
#include "cnp_batch.h"
#include "cnp_err.h"
#include "cnp_gdal.h"
#include "cnp_info.h"
#include "cnp_output.h"
#include "cnp_ident.h"
#include "cnp_monitor_cmd.h"   /* canopy monitor: pipeline/monitor/cnp_monitor_cmd.c */
#include "cnp_sign.h"
#include "cnp_tmpfile.h"
#include "cnp_verify.h"
#include "cnp_version.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static int exit_code_for(cnp_status st)
{
    switch (st) {
    case CNP_OK:       return EXIT_OK;
    case CNP_E_ARG:
    case CNP_E_CONFIG: return EXIT_USAGE;
    default:           return EXIT_RUNTIME;
    }
}

static void usage_main(FILE *f)
{
    fputs("Usage: canopy COMMAND [OPTIONS]\n"
          "\n"
          "Finds forest loss between two multispectral scenes and writes georeferenced\n"
          "alert polygons and an overview map.\n"
          "\n"
          "Commands:\n"
          "  detect BEFORE AFTER -o OUTDIR   compare two scenes (canopy detect --help)\n"
          "  verify [--rerun] OUTDIR         check a run's outputs and inputs against run.json\n"
          "  info [--json] PATH              what Canopy understands of an input: product,\n"
          "                                  date, grid, band and mask files, scale, mask rule\n"
          "  batch INPUT... -o OUTROOT       detect over scene archives, pair by pair; on one\n"
          "                                  machine or a Slurm array (canopy batch --help)\n"
          "  monitor --state DIR INPUT...    monitor footprints from cron (canopy monitor --help)\n"
          "\n"
          "Options:\n"
          "  -h, --help      show this help\n"
          "  -V, --version   show the version\n", f);
}

static void usage_detect(FILE *f)
{
    fputs("Usage: canopy detect BEFORE AFTER -o OUTDIR [OPTIONS]\n"
          "\n"
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
          "by default) by GDAL/PROJ.\n"
          "\n"
          "Options (each also a key of the --config file, shown in brackets):\n"
          "  -o, --output DIR          output folder: new, empty, or a Canopy run to\n"
          "                            replace with --overwrite\n"
          "      --overwrite           replace the Canopy run in OUTDIR (its files go, files\n"
          "                            Canopy did not write stay)\n"
          "  -c, --config FILE         INI file with settings (default: built-in values,\n"
          "                            the same as configs/default.ini)\n"
          "      --red N               1-based red band [bands] red (default 3)\n"
          "      --nir N               1-based NIR band [bands] nir (default 4)\n"
          "      --green N             green band, for pictures; 0 = none [bands] green (2)\n"
          "      --blue N              blue band, for pictures; 0 = none [bands] blue (1)\n"
          "      --scale X             reflectance = DN * scale + offset [bands] scale\n"
          "      --offset X            (default: band metadata, else 1e-4 and 0) [bands] offset\n"
          "      --before-mask FILE    mask raster on BEFORE's grid (e.g. Sentinel-2 SCL)\n"
          "      --after-mask FILE     mask raster on AFTER's grid\n"
          "      --mask-invalid LIST   mask values meaning not observed [mask] invalid\n"
          "                            (default 0,1,3,8,9,10: SCL nodata, defective, shadow,\n"
          "                            cloud medium/high, cirrus)\n"
          "      --mask-buffer M       clouds and shadows grow by M metres, 0 = off\n"
          "                            [mask] buffer_m (60)\n"
          "      --mask-buffer-shape disk|square   [mask] buffer_shape (disk)\n"
          "      --grid before|after|finest\n"
          "                            the common grid: that scene's [grid] align (before)\n"
          "      --t-srs SRS           or an explicit grid: CRS (EPSG:32721, WKT, PROJ)\n"
          "      --tr RES              and pixel size in its units [grid] t_srs, tr\n"
          "      --profiles DIR        product profiles folder [products] profiles\n"
          "                            (default $CANOPY_CONFIG_DIR, else bin/../configs)\n"
          "      --forest-ndvi X       forest when NDVI before >= X [detect] forest_ndvi (0.65)\n"
          "      --ndvi-drop X         loss when NDVI after - before <= -X [detect] ndvi_drop (0.25)\n"
          "      --high-confidence-drop X\n"
          "                            confidence 'high' when the mean drop >= X\n"
          "                            [detect] high_confidence_drop (0.40)\n"
          "      --min-area HA         minimum mapping unit, hectares [detect] min_area (0.5)\n"
          "      --connectivity 4|8    pixel connectivity of alerts [detect] connectivity (8)\n"
          "      --normalize MODE      local|scene|off: dNDVI relative to stable forest\n"
          "                            around each pixel [detect] normalize (local)\n"
          "      --date-before DATE    YYYY-MM-DD when BEFORE carries no date [dates] before\n"
          "      --date-after DATE     YYYY-MM-DD when AFTER carries no date [dates] after\n"
          "      --overview-size N     longest side of overview.png [output] overview_size (2048)\n"
          "      --threads N           worker threads, 0 = all cores [run] threads (0)\n"
          "      --max-memory MB       memory cap: fewer workers and a smaller GDAL cache\n"
          "                            when needed (recorded in run.json)\n"
          "      --no-evidence         skip the per-alert chips, report.html, report.pdf and\n"
          "                            alerts.kmz\n"
          "      --outputs LIST        write only these of gpkg, geojson, csv, overview\n"
          "                            (comma-separated; default all four; fewer need\n"
          "                            --no-evidence)\n"
          "      --max-chips N         chips for the N largest alerts only (0 = all)\n"
          "      --no-hash             do not hash the inputs (run.json records size and time)\n"
          "      --case-id TEXT        the case these outputs are for, and\n"
          "      --operator TEXT       who ran the analysis: printed on report.html,\n"
          "                            report.pdf and alerts.kmz and kept in run.json\n"
          "                            (printable UTF-8, at most 128 and 200 bytes)\n"
          "      --sign-key FILE       sign SHA256SUMS with this Ed25519 private key (PEM,\n"
          "                            no passphrase) into SHA256SUMS.sig\n"
          "      --max-scene-pixels N  refuse a scene, or a common grid, of more than N\n"
          "                            pixels [limits] scene_pixels (2000000000); the\n"
          "                            other [limits] bound metadata files (README)\n"
          "      --print-config        print the settings in force as INI and exit\n"
          "  -q, --quiet               no progress or summary on success\n"
          "  -h, --help                show this help\n"
          "  -V, --version             show the version\n"
          "\n"
          "\n"
          "report.pdf embeds DejaVu fonts from /usr/share/fonts/truetype/dejavu\n"
          "(Debian's fonts-dejavu-core), or from $CANOPY_FONT_DIR.\n"
          "\n"
          "Exit status: 0 success (also with zero alerts), 1 runtime error (also an\n"
          "OUTDIR that cannot be written), 2 usage or configuration error (also an\n"
          "OUTDIR that is not empty and holds no Canopy run, a run without --overwrite,\n"
          "a file Canopy did not write at an output's name). OUTDIR is then untouched.\n", f);
}

enum {
    OPT_RED = 1000, OPT_NIR, OPT_GREEN, OPT_BLUE, OPT_SCALE, OPT_OFFSET, OPT_BMASK, OPT_AMASK,
    OPT_MASK_INVALID, OPT_FOREST, OPT_DROP, OPT_HIGH, OPT_MINAREA, OPT_CONN, OPT_NORMALIZE, OPT_DBEFORE,
    OPT_DAFTER, OPT_OVSIZE, OPT_THREADS, OPT_PRINT_CONFIG, OPT_NO_EVIDENCE, OPT_MAX_CHIPS,
    OPT_NO_HASH, OPT_MAX_MEMORY, OPT_MASK_BUFFER, OPT_MASK_SHAPE, OPT_GRID, OPT_T_SRS, OPT_TR,
    OPT_PROFILES, OPT_OUTPUTS, OPT_CASE_ID, OPT_OPERATOR, OPT_SIGN_KEY, OPT_OVERWRITE,
    OPT_PUBKEY, OPT_JSON,
    OPT_MAX_PIXELS
};

static const cnp_setting_opt setting_opts[] = {
    { OPT_RED, "bands", "red", "--red" },
    { OPT_NIR, "bands", "nir", "--nir" },
    { OPT_GREEN, "bands", "green", "--green" },
    { OPT_BLUE, "bands", "blue", "--blue" },
    { OPT_SCALE, "bands", "scale", "--scale" },
    { OPT_OFFSET, "bands", "offset", "--offset" },
    { OPT_MASK_INVALID, "mask", "invalid", "--mask-invalid" },
    { OPT_FOREST, "detect", "forest_ndvi", "--forest-ndvi" },
    { OPT_DROP, "detect", "ndvi_drop", "--ndvi-drop" },
    { OPT_HIGH, "detect", "high_confidence_drop", "--high-confidence-drop" },
    { OPT_MINAREA, "detect", "min_area", "--min-area" },
    { OPT_CONN, "detect", "connectivity", "--connectivity" },
    { OPT_NORMALIZE, "detect", "normalize", "--normalize" },
    { OPT_DBEFORE, "dates", "before", "--date-before" },
    { OPT_DAFTER, "dates", "after", "--date-after" },
    { OPT_OVSIZE, "output", "overview_size", "--overview-size" },
    { OPT_THREADS, "run", "threads", "--threads" },
    { OPT_MASK_BUFFER, "mask", "buffer_m", "--mask-buffer" },
    { OPT_MASK_SHAPE, "mask", "buffer_shape", "--mask-buffer-shape" },
    { OPT_GRID, "grid", "align", "--grid" },
    { OPT_T_SRS, "grid", "t_srs", "--t-srs" },
    { OPT_TR, "grid", "tr", "--tr" },
    { OPT_PROFILES, "products", "profiles", "--profiles" },
    { OPT_MAX_PIXELS, "limits", "scene_pixels", "--max-scene-pixels" },
};
enum { N_SETTING_OPTS = sizeof setting_opts / sizeof setting_opts[0] };

static int usage_error(const char *msg)
{
    fprintf(stderr, "canopy: %s", msg);
    fputs("\nTry 'canopy detect --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

/* One line: a value that reaches reports must not bring its own lines. */
static int usage_line(const char *msg)
{
    fprintf(stderr, "canopy: %s\n", msg);
    return EXIT_USAGE;
}

static int cmd_detect(int argc, char **argv, int full_argc, char **full_argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "config", required_argument, NULL, 'c' },
        { "red", required_argument, NULL, OPT_RED },
        { "nir", required_argument, NULL, OPT_NIR },
        { "green", required_argument, NULL, OPT_GREEN },
        { "blue", required_argument, NULL, OPT_BLUE },
        { "scale", required_argument, NULL, OPT_SCALE },
        { "offset", required_argument, NULL, OPT_OFFSET },
        { "before-mask", required_argument, NULL, OPT_BMASK },
        { "after-mask", required_argument, NULL, OPT_AMASK },
        { "mask-invalid", required_argument, NULL, OPT_MASK_INVALID },
        { "forest-ndvi", required_argument, NULL, OPT_FOREST },
        { "ndvi-drop", required_argument, NULL, OPT_DROP },
        { "high-confidence-drop", required_argument, NULL, OPT_HIGH },
        { "min-area", required_argument, NULL, OPT_MINAREA },
        { "connectivity", required_argument, NULL, OPT_CONN },
        { "normalize", required_argument, NULL, OPT_NORMALIZE },
        { "date-before", required_argument, NULL, OPT_DBEFORE },
        { "date-after", required_argument, NULL, OPT_DAFTER },
        { "overview-size", required_argument, NULL, OPT_OVSIZE },
        { "threads", required_argument, NULL, OPT_THREADS },
        { "print-config", no_argument, NULL, OPT_PRINT_CONFIG },
        { "no-evidence", no_argument, NULL, OPT_NO_EVIDENCE },
        { "outputs", required_argument, NULL, OPT_OUTPUTS },
        { "max-chips", required_argument, NULL, OPT_MAX_CHIPS },
        { "no-hash", no_argument, NULL, OPT_NO_HASH },
        { "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
        { "mask-buffer", required_argument, NULL, OPT_MASK_BUFFER },
        { "mask-buffer-shape", required_argument, NULL, OPT_MASK_SHAPE },
        { "grid", required_argument, NULL, OPT_GRID },
        { "t-srs", required_argument, NULL, OPT_T_SRS },
        { "tr", required_argument, NULL, OPT_TR },
        { "profiles", required_argument, NULL, OPT_PROFILES },
        { "case-id", required_argument, NULL, OPT_CASE_ID },
        { "operator", required_argument, NULL, OPT_OPERATOR },
        { "sign-key", required_argument, NULL, OPT_SIGN_KEY },
        { "overwrite", no_argument, NULL, OPT_OVERWRITE },
        { "max-scene-pixels", required_argument, NULL, OPT_MAX_PIXELS },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    /* Command-line settings, applied after the config file so that they win. */
    cnp_setting_override cli[64];
    int ncli = 0, c, print_config = 0;
    cnp_job job;
    cnp_status st;

    memset(&job, 0, sizeof job);
    job.argc = full_argc;
    job.argv = full_argv;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:c:qhV", opts, NULL)) != -1) {
        switch (c) {
        case 'o': job.outdir = optarg; break;
        case 'c': job.config_path = optarg; break;
        case 'q': job.quiet = 1; break;
        case 'h': usage_detect(stdout); return EXIT_OK;
        case 'V': printf("canopy %s\n", cnp_version); return EXIT_OK;
        case OPT_BMASK: job.before_mask = optarg; break;
        case OPT_AMASK: job.after_mask = optarg; break;
        case OPT_PRINT_CONFIG: print_config = 1; break;
        case OPT_NO_EVIDENCE: job.no_evidence = 1; break;
        case OPT_NO_HASH: job.no_hash = 1; break;
        case OPT_CASE_ID:
            if (cnp_ident_text_check("--case-id", optarg, 128) != CNP_OK)
                return usage_line(cnp_err_msg());
            job.case_id = optarg;
            break;
        case OPT_OPERATOR:
            if (cnp_ident_text_check("--operator", optarg, 200) != CNP_OK)
                return usage_line(cnp_err_msg());
            job.operator_name = optarg;
            break;
        case OPT_SIGN_KEY: job.sign_key = optarg; break;
        case OPT_OVERWRITE: job.overwrite = 1; break;
        case OPT_OUTPUTS: {
            unsigned keep;
            if (cnp_outputs_parse(optarg, "--outputs", &keep) != CNP_OK)
                return usage_error(cnp_err_msg());
            job.skip_outputs = CNP_OUT_ALL & ~keep;
            break;
        }
        case OPT_MAX_MEMORY: {
            char *end = NULL;
            const long n = strtol(optarg, &end, 10);
            if (end == optarg || *end || n < 64 || n > 1048576)
                return usage_error("--max-memory: expected megabytes, 64 to 1048576");
            job.max_memory_mb = (int)n;
            break;
        }
        case OPT_MAX_CHIPS: {
            char *end = NULL;
            const long n = strtol(optarg, &end, 10);
            if (end == optarg || *end || n < 0)
                return usage_error("--max-chips: expected a count >= 0 (0 = no limit)");
            job.max_chips = (size_t)n;
            break;
        }
        default: {
            const cnp_setting_opt *o = cnp_setting_opt_find(setting_opts, N_SETTING_OPTS, c);
            if (!o) {
                fputs("Try 'canopy detect --help' for more information.\n", stderr);
                return EXIT_USAGE;
            }
            if (ncli >= (int)(sizeof cli / sizeof cli[0]))
                return usage_error("too many options");
            cli[ncli++] = (cnp_setting_override){ o->section, o->key, optarg, o->name };
        }
        }
    }

    if ((st = cnp_settings_resolve(&job.settings, job.config_path, cli, (size_t)ncli)) !=
        CNP_OK) {
        fprintf(stderr, "canopy: %s\n", cnp_err_msg());
        return exit_code_for(st);
    }
    if (print_config) {
        cnp_settings_write_ini(&job.settings, stdout);
        return EXIT_OK;
    }

    if (argc - optind != 2)
        return usage_error(argc - optind < 2 ? "detect needs two scenes: BEFORE AFTER"
                                                   : "detect takes exactly two scenes: BEFORE AFTER");
    if (!job.outdir)
        return usage_error("missing -o OUTDIR");
    job.before = argv[optind];
    job.after = argv[optind + 1];
    job.font_dir = getenv("CANOPY_FONT_DIR");

    /* A key that cannot sign is known now, not after the whole run. */
    if (job.sign_key) {
        cnp_sign_key *key = NULL;
        if ((st = cnp_sign_key_load(job.sign_key, &key)) != CNP_OK) {
            fprintf(stderr, "canopy: --sign-key %s\n", cnp_err_msg());
            return exit_code_for(st);
        }
        cnp_sign_key_free(&key);
    }

    cnp_tmp_signals_install();     /* Ctrl-C removes the staging folder */

    if (!job.quiet && isatty(STDERR_FILENO))
        job.progress = GDALTermProgress;
    GDALAllRegister();
    cnp_err_install_gdal_handler(0);
    st = cnp_detect_run(&job);
    if (st != CNP_OK)
        fprintf(stderr, "canopy: %s\n", cnp_err_msg());
    cnp_err_remove_gdal_handler();
    GDALDestroy();
    return exit_code_for(st);
}

static void usage_verify(FILE *f)
{
    fputs("Usage: canopy verify [--rerun] [--threads N] [--pubkey FILE] [--json] OUTDIR\n"
          "\n"
          "Re-hashes every output and every input listed in OUTDIR/run.json and reports\n"
          "each as ok, changed, missing or refused (an output that is not a regular file\n"
          "inside OUTDIR, an input that is not a regular file); checks that SHA256SUMS\n"
          "is the one run.json gives and, when the run was signed, its signature\n"
          "SHA256SUMS.sig. With --rerun, also runs the detection again from the recorded\n"
          "inputs and settings (in a temporary folder under $TMPDIR; OUTDIR is only read)\n"
          "and checks that every output is reproduced byte for byte.\n"
          "\n"
          "Options:\n"
          "      --rerun          reproduce the outputs\n"
          "      --threads N      threads for the rerun (0 = all cores)\n"
          "      --pubkey FILE    the Ed25519 public key (PEM) the run must be signed with\n"
          "                       (without it, the key recorded in run.json is used)\n"
          "      --json           one JSON object: each file's state, the signature's\n"
          "                       state and the verdict\n"
          "  -h, --help           show this help\n"
          "\n"
          "Exit status: 0 everything intact (and reproduced), 1 something changed,\n"
          "missing or not reproduced, a bad signature, or run.json unreadable,\n"
          "2 usage error (also a --pubkey that is not an Ed25519 key).\n", f);
}

static int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        { "rerun", no_argument, NULL, 'r' },
        { "threads", required_argument, NULL, 't' },
        { "pubkey", required_argument, NULL, OPT_PUBKEY },
        { "json", no_argument, NULL, OPT_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    cnp_verify_opts o = { NULL, 0, 0, stdout, 0, NULL };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': o.rerun = 1; break;
        case 't': {
            char *end = NULL;
            const long n = strtol(optarg, &end, 10);
            if (end == optarg || *end || n < 0 || n > 4096) {
                fputs("canopy: --threads: expected a count 0-4096\n", stderr);
                return EXIT_USAGE;
            }
            o.threads = (int)n;
            break;
        }
        case OPT_PUBKEY: o.pubkey = optarg; break;
        case OPT_JSON: o.json = 1; break;
        case 'h': usage_verify(stdout); return EXIT_OK;
        default:
            fputs("Try 'canopy verify --help' for more information.\n", stderr);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        fputs("canopy: verify takes one OUTDIR\nTry 'canopy verify --help' for more "
              "information.\n", stderr);
        return EXIT_USAGE;
    }
    o.outdir = argv[optind];

    cnp_tmp_signals_install();     /* Ctrl-C removes the rerun's folder */
    GDALAllRegister();
    cnp_err_install_gdal_handler(0);
    int intact = 0;
    const cnp_status st = cnp_verify(&o, &intact);
    if (st != CNP_OK)
        fprintf(stderr, "canopy: %s\n", cnp_err_msg());
    cnp_err_remove_gdal_handler();
    GDALDestroy();
    if (st != CNP_OK)
        return st == CNP_E_ARG || st == CNP_E_CONFIG ? EXIT_USAGE : EXIT_RUNTIME;
    return intact ? EXIT_OK : EXIT_RUNTIME;
}

static void usage_info(FILE *f)
{
    fputs("Usage: canopy info [OPTIONS] PATH\n"
          "\n"
          "Prints what Canopy understands of PATH, as `canopy detect` would read it:\n"
          "product family and profile, sensor, date, id, footprint (WRS path/row, MGRS\n"
          "tile), grid (size, pixel size, CRS), the files supplying red, NIR and the mask,\n"
          "scale and offset, the mask rule, and the share of pixels observed (the mask is\n"
          "read, with the buffer applied).\n"
          "\n"
          "Options:\n"
          "      --json           one JSON object instead of text\n"
          "  -c, --config FILE    settings file (profile folder, mask buffer, bands)\n"
          "      --profiles DIR   product profiles folder [products] profiles\n"
          "      --mask-buffer M  [mask] buffer_m\n"
          "      --max-scene-pixels N\n"
          "                       refuse a scene of more than N pixels [limits]\n"
          "                       scene_pixels (2000000000)\n"
          "  -h, --help           show this help\n", f);
}

static int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "config", required_argument, NULL, 'c' },
        { "profiles", required_argument, NULL, OPT_PROFILES },
        { "mask-buffer", required_argument, NULL, OPT_MASK_BUFFER },
        { "max-scene-pixels", required_argument, NULL, OPT_MAX_PIXELS },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    cnp_settings s;
    const char *config = NULL, *profiles = NULL, *buffer = NULL, *pixels = NULL;
    int c, json = 0;
    cnp_status st;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'c': config = optarg; break;
        case OPT_PROFILES: profiles = optarg; break;
        case OPT_MASK_BUFFER: buffer = optarg; break;
        case OPT_MAX_PIXELS: pixels = optarg; break;
        case 'h': usage_info(stdout); return EXIT_OK;
        default:
            fputs("Try 'canopy info --help' for more information.\n", stderr);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        fputs("canopy: info takes one PATH\nTry 'canopy info --help' for more information.\n",
              stderr);
        return EXIT_USAGE;
    }
    cnp_settings_defaults(&s);
    if ((config && (st = cnp_settings_load(&s, config)) != CNP_OK) ||
        (profiles && (st = cnp_settings_set(&s, "products", "profiles", profiles,
                                            "--profiles")) != CNP_OK) ||
        (buffer && (st = cnp_settings_set(&s, "mask", "buffer_m", buffer,
                                          "--mask-buffer")) != CNP_OK) ||
        (pixels && (st = cnp_settings_set(&s, "limits", "scene_pixels", pixels,
                                          "--max-scene-pixels")) != CNP_OK)) {
        fprintf(stderr, "canopy: %s\n", cnp_err_msg());
        return exit_code_for(st);
    }
    GDALAllRegister();
    cnp_err_install_gdal_handler(0);
    st = cnp_info_run(argv[optind], &s, json, stdout);
    if (st != CNP_OK)
        fprintf(stderr, "canopy: %s\n", cnp_err_msg());
    cnp_err_remove_gdal_handler();
    GDALDestroy();
    return exit_code_for(st);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        usage_main(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("canopy %s\n", cnp_version);
        return EXIT_OK;
    }
    if (strcmp(cmd, "verify") == 0)
        return cmd_verify(argc - 1, argv + 1);
    if (strcmp(cmd, "info") == 0)
        return cmd_info(argc - 1, argv + 1);
    if (strcmp(cmd, "monitor") == 0)   /* canopy monitor: pipeline/monitor/cnp_monitor_cmd.c */
        return cnp_monitor_main(argc - 1, argv + 1);
    if (strcmp(cmd, "batch") == 0) {     /* pipeline/cli/cnp_batch_cli.c, with detect's settings */
        cnp_batch_setting_opt so[N_SETTING_OPTS];
        for (int i = 0; i < N_SETTING_OPTS; i++)
            so[i] = (cnp_batch_setting_opt){ setting_opts[i].section, setting_opts[i].key,
                                             setting_opts[i].name };
        return cnp_batch_main(argc, argv, so, N_SETTING_OPTS);
    }
    if (strcmp(cmd, "detect") == 0) {
        /* getopt_long permutes the array it parses; run.json records the
         * command line as typed, so parse a copy. */
        char **args = malloc((size_t)argc * sizeof *args);
        if (!args) {
            fputs("canopy: out of memory\n", stderr);
            return EXIT_RUNTIME;
        }
        memcpy(args, argv + 1, (size_t)(argc - 1) * sizeof *args);
        args[argc - 1] = NULL;
        const int rc = cmd_detect(argc - 1, args, argc, argv);
        free(args);
        return rc;
    }
    fprintf(stderr, "canopy: unknown command '%s'\nTry 'canopy --help' for more information.\n",
            cmd);
    return EXIT_USAGE;
}
