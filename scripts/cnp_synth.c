/* scripts/cnp_synth.c - canopy-synth: deterministic synthetic scene pairs.
 *
 * Writes a before/after pair of 4-band UInt16 GeoTIFFs (blue, green, red, nir;
 * DN = surface reflectance x 10000), Sentinel-2 SCL-style masks, a truth CSV
 * and a truth loss raster. The landscape is textured forest with pasture
 * blobs, meandering rivers and a smooth seasonal NDVI drift; planted features
 * (clearings of many shapes, degradation, ploughed pasture, clouds, shadows,
 * cirrus, sub-threshold specks) are placed from the seed.
 *
 * Invariants:
 *  - Output is a pure function of (options, seed). Every pixel is a function
 *    of (x, y) and the feature list; features are placed serially from a
 *    splitmix64 stream. No rand(), no clock, and nothing depends on the thread
 *    count or on strip order (OpenMP only splits rows of one strip).
 *  - Memory is bounded by one strip (tile height x scene width) plus the
 *    feature list (a tight bitmap per feature); no full-scene array exists.
 *  - The truth is exact. Per-band noise is a relative +-2% (|dNDVI| <= ~0.011
 *    at NDVI 0.72), the seasonal drop is 0.04..0.07 and degradation adds at
 *    most 0.12, so stable forest stays >= 0.70 before and never drops by 0.20,
 *    degradation never by 0.25; clearings go from >= 0.70 to <= 0.28. Every
 *    planted feature keeps a 3 px gap to every other, loss features have
 *    3 px of forest around their bounding box and avoid the nodata collar, so
 *    loss components never merge with anything: after removing 8-connected
 *    components < 0.5 ha the rule reproduces truth_loss.tif pixel for pixel.
 *  - The phenomenon scenarios (haze ... green_pasture) are built to break
 *    that rule, one way each (docs/method.md): there truth_loss.tif marks
 *    the observed pixels of real loss only, and the rule's false alerts and
 *    misses are what they measure. They add SWIR bands and take their own
 *    random streams and field keys, so the original four scenarios stay
 *    byte for byte what they were.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpl_conv.h"
#include "cpl_error.h"
#include "cpl_string.h"
#include "cpl_vsi.h"
#include "gdal.h"
#include "ogr_srs_api.h"

#include "cnp_status.h"

#define PROG "canopy-synth"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

#define MIN_SIZE      8
#define MAX_SIZE      200000
#define MARGIN_PX     3        /* gap between features, forest around loss   */
#define COVER_PX      5        /* cloud / shadow margin around hidden loss   */
#define COLLAR_PX     3        /* nodata columns on the right of after.tif   */
#define NOISE_REL     0.02f    /* bounded relative per-band noise            */
#define HA            10000.0  /* m2 per hectare                             */
#define BENCH_AREA    (10980.0 * 10980.0)
#define SUN_DX        (-0.6)   /* shadow direction: down-left in the image   */
#define SUN_DY        0.8

/* ------------------------------------------------------------------------ */
/* Errors: one message, printed by main() only.                             */

static char g_msg[512];

static cnp_status fail(cnp_status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static cnp_status fail(cnp_status st, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    #pragma omp critical (cnp_synth_msg)   /* the two writer threads may fail */
    vsnprintf(g_msg, sizeof g_msg, fmt, ap);
    va_end(ap);
    return st;
}

/* GDAL failures are reported by the caller (from CPLGetLastErrorMsg()), so
 * the handler only keeps GDAL from printing them; warnings are shown. */
static void CPL_STDCALL gdal_handler(CPLErr cls, CPLErrorNum no, const char *msg)
{
    (void)no;
    if (cls == CE_Warning)
        fprintf(stderr, PROG ": GDAL warning: %s\n", msg);
}

/* ------------------------------------------------------------------------ */
/* Options                                                                  */

/* The first four are the original scenes (4 bands); the others each stage
 * one phenomenon that defeats two-date NDVI thresholds (6 bands, SWIR too). */
enum scenario { SC_SAMPLE, SC_BENCH, SC_NOISY, SC_CLEAN, SC_HAZE, SC_SOIL, SC_RADIOM,
                SC_PHENO, SC_MISREG, SC_FRINGE, SC_GAPS, SC_PASTURE, SC_COUNT };
static const char *const SCENARIO_NAMES[SC_COUNT] = {
    "sample", "bench", "noisy", "clean", "haze", "bright_soil", "radiometry", "phenology",
    "misregistration", "cloud_fringe", "slc_gaps", "green_pasture"
};
#define MAX_BASE      5        /* phenology: baseline scenes at most          */
#define MAX_SHIFT_PX  2.0      /* misregistration: largest shift per axis     */

typedef struct synth_opts {
    const char *dir;
    int width, height;
    uint64_t seed;
    double pixel;
    int epsg;
    double origin_x, origin_y;
    int tile;
    char compress[8];
    long clearings;            /* -1: scenario default */
    int no_mask;
    char date_before[11], date_after[11];
    int scenario;
    int verbose;
    int date_before_set;
    double shift_x, shift_y;   /* misregistration: AFTER sees (x + sx, y + sy) */
    int shift_set;
    int baselines;             /* phenology: earlier dry-season scenes        */
    int baselines_set;
} synth_opts;

static void usage(FILE *fp)
{
    fputs(
"Usage: " PROG " -o DIR [options]\n"
"Write a deterministic synthetic before/after scene pair with planted\n"
"forest-loss features and its truth into DIR.\n"
"\n"
"  -o, --output DIR         output directory (created if missing)\n"
"      --size W[xH]         scene size in pixels (default 400x400)\n"
"      --seed N             random seed, 0..2^64-1 (default 1)\n"
"      --pixel M            pixel size in metres (default 10)\n"
"      --epsg CODE          CRS as an EPSG code (default 32721, UTM 21S)\n"
"      --origin X,Y         top-left corner in CRS units (default 600000,8900000)\n"
"      --tile N             GeoTIFF tile size and strip height, multiple of 16\n"
"                           (default 128)\n"
"      --compress NAME      NONE, DEFLATE or LZW (default DEFLATE)\n"
"      --clearings N        number of expected clearings (default: per scenario)\n"
"      --no-mask            write no SCL masks and plant no clouds or shadows\n"
"      --date-before DATE   YYYY-MM-DD (default 2024-06-15)\n"
"      --date-after DATE    YYYY-MM-DD (default 2024-08-20)\n"
"      --scenario NAME      sample: every feature kind once (8 clearings);\n"
"                           bench: ~3000 clearings per 10980x10980, scaled by area;\n"
"                           noisy: bench plus ~100000 1-4 px specks per 10980x10980;\n"
"                           clean: no planted features (default sample).\n"
"                           One phenomenon each (6 bands, counts scaled by area\n"
"                           from 400x400):\n"
"                           haze: unflagged haze, smoke and thin cloud in AFTER,\n"
"                             clearings under haze, bright soil clearings;\n"
"                           bright_soil: clearings of bright bare soil (+ haze);\n"
"                           radiometry: AFTER with another sensor's gains and an\n"
"                             aerosol gradient, strong degradation;\n"
"                           phenology: wet-season BEFORE, dry-season AFTER with\n"
"                             deciduous forest, and earlier dry-season baselines;\n"
"                           misregistration: AFTER shifted by --shift;\n"
"                           cloud_fringe: clouds with wide unflagged fringes, and\n"
"                             clearings a few pixels beside narrow-fringed clouds;\n"
"                           slc_gaps: Landsat 7 SLC-off stripes in AFTER cutting\n"
"                             clearings into pieces below 0.5 ha;\n"
"                           green_pasture: forest turned into green pasture\n"
"      --shift DX,DY        misregistration: AFTER's pixel (x, y) shows the ground\n"
"                           at (x + DX, y + DY), pixels, 0..2 each (default 1,1)\n"
"      --baselines K        phenology: baseline scenes, 1..5 (default 3)\n"
"  -v, --verbose            print a summary on stderr\n"
"  -h, --help               show this help and exit\n"
"\n"
"Files: before.tif after.tif (blue, green, red, nir, and for the phenomenon\n"
"scenarios swir1 (1.6 um) and swir2 (2.2 um); UInt16, DN = reflectance x 10000,\n"
"nodata 0), before_mask.tif after_mask.tif (Sentinel-2 SCL codes), truth.csv\n"
"(one row per planted feature), truth_loss.tif (1 = expected alert: the\n"
"observed pixels of real clearings); phenology also baseline1.tif ... with\n"
"baseline1_mask.tif ... (dry season, years before AFTER).\n"
"Exit status: 0 ok, 1 runtime error, 2 usage error.\n", fp);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see '" PROG " --help')\n", stderr);
    return EXIT_USAGE;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

static int parse_double(const char *s, double *out)
{
    char *end = NULL;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

static int parse_size(const char *s, int *w, int *h)
{
    char *end = NULL;
    long a, b;

    errno = 0;
    a = strtol(s, &end, 10);
    if (errno || end == s)
        return 0;
    if (*end == '\0') {
        b = a;
    } else if (*end == 'x' || *end == 'X') {
        const char *p = end + 1;

        b = strtol(p, &end, 10);
        if (errno || end == p || *end)
            return 0;
    } else {
        return 0;
    }
    if (a < MIN_SIZE || a > MAX_SIZE || b < MIN_SIZE || b > MAX_SIZE)
        return 0;
    *w = (int)a;
    *h = (int)b;
    return 1;
}

static int parse_date(const char *s, char out[11])
{
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, m, d;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    y = atoi(s);
    m = atoi(s + 5);
    d = atoi(s + 8);
    if (y < 1 || m < 1 || m > 12 || d < 1)
        return 0;
    const int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 && leap))
        return 0;
    memcpy(out, s, 11);
    return 1;
}

/* parse_args() : fills *o; returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, synth_opts *o)
{
    enum { O_SIZE = 256, O_SEED, O_PIXEL, O_EPSG, O_ORIGIN, O_TILE, O_COMPRESS,
           O_CLEARINGS, O_NO_MASK, O_DATE_B, O_DATE_A, O_SCENARIO, O_SHIFT, O_BASELINES };
    static const struct option opts[] = {
        { "output",      required_argument, NULL, 'o' },
        { "size",        required_argument, NULL, O_SIZE },
        { "seed",        required_argument, NULL, O_SEED },
        { "pixel",       required_argument, NULL, O_PIXEL },
        { "epsg",        required_argument, NULL, O_EPSG },
        { "origin",      required_argument, NULL, O_ORIGIN },
        { "tile",        required_argument, NULL, O_TILE },
        { "compress",    required_argument, NULL, O_COMPRESS },
        { "clearings",   required_argument, NULL, O_CLEARINGS },
        { "no-mask",     no_argument,       NULL, O_NO_MASK },
        { "date-before", required_argument, NULL, O_DATE_B },
        { "date-after",  required_argument, NULL, O_DATE_A },
        { "scenario",    required_argument, NULL, O_SCENARIO },
        { "shift",       required_argument, NULL, O_SHIFT },
        { "baselines",   required_argument, NULL, O_BASELINES },
        { "verbose",     no_argument,       NULL, 'v' },
        { "help",        no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int c;
    long v;

    memset(o, 0, sizeof *o);
    o->width = o->height = 400;
    o->seed = 1;
    o->pixel = 10.0;
    o->epsg = 32721;
    o->origin_x = 600000.0;
    o->origin_y = 8900000.0;
    o->tile = 128;
    strcpy(o->compress, "DEFLATE");
    o->clearings = -1;
    strcpy(o->date_before, "2024-06-15");
    strcpy(o->date_after, "2024-08-20");
    o->scenario = SC_SAMPLE;
    o->shift_x = o->shift_y = 1.0;
    o->baselines = 3;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (!*optarg)
                return usage_error("empty output directory");
            o->dir = optarg;
            break;
        case O_SIZE:
            if (!parse_size(optarg, &o->width, &o->height))
                return usage_error("invalid --size '%s': expected W or WxH, each %d..%d",
                                   optarg, MIN_SIZE, MAX_SIZE);
            break;
        case O_SEED: {
            char *end = NULL;

            errno = 0;
            o->seed = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-' || optarg[0] == '+')
                return usage_error("invalid --seed '%s': expected an integer 0..2^64-1",
                                   optarg);
            break;
        }
        case O_PIXEL:
            if (!parse_double(optarg, &o->pixel) || o->pixel <= 0.0 || o->pixel > 100000.0)
                return usage_error("invalid --pixel '%s': expected metres in (0, 100000]",
                                   optarg);
            break;
        case O_EPSG:
            if (!parse_long(optarg, 1, 999999, &v))
                return usage_error("invalid --epsg '%s': expected a positive code", optarg);
            o->epsg = (int)v;
            break;
        case O_ORIGIN: {
            char buf[128];
            char *comma;

            if (strlen(optarg) >= sizeof buf)
                return usage_error("invalid --origin: too long");
            strcpy(buf, optarg);
            comma = strchr(buf, ',');
            if (!comma)
                return usage_error("invalid --origin '%s': expected X,Y", optarg);
            *comma = '\0';
            if (!parse_double(buf, &o->origin_x) || !parse_double(comma + 1, &o->origin_y))
                return usage_error("invalid --origin '%s': expected X,Y", optarg);
            break;
        }
        case O_TILE:
            if (!parse_long(optarg, 16, 4096, &v) || v % 16)
                return usage_error("invalid --tile '%s': expected a multiple of 16 in 16..4096",
                                   optarg);
            o->tile = (int)v;
            break;
        case O_COMPRESS:
            if (!strcasecmp(optarg, "NONE"))
                strcpy(o->compress, "NONE");
            else if (!strcasecmp(optarg, "DEFLATE"))
                strcpy(o->compress, "DEFLATE");
            else if (!strcasecmp(optarg, "LZW"))
                strcpy(o->compress, "LZW");
            else
                return usage_error("invalid --compress '%s': expected NONE, DEFLATE or LZW",
                                   optarg);
            break;
        case O_CLEARINGS:
            if (!parse_long(optarg, 0, 10000000, &v))
                return usage_error("invalid --clearings '%s': expected 0..10000000", optarg);
            o->clearings = v;
            break;
        case O_NO_MASK:
            o->no_mask = 1;
            break;
        case O_DATE_B:
            if (!parse_date(optarg, o->date_before))
                return usage_error("invalid --date-before '%s': expected YYYY-MM-DD", optarg);
            o->date_before_set = 1;
            break;
        case O_DATE_A:
            if (!parse_date(optarg, o->date_after))
                return usage_error("invalid --date-after '%s': expected YYYY-MM-DD", optarg);
            break;
        case O_SCENARIO: {
            int found = -1;

            for (int i = 0; i < (int)(sizeof SCENARIO_NAMES / sizeof *SCENARIO_NAMES); i++)
                if (!strcmp(optarg, SCENARIO_NAMES[i]))
                    found = i;
            if (found < 0)
                return usage_error("invalid --scenario '%s': see --help for the names", optarg);
            o->scenario = found;
            break;
        }
        case O_SHIFT: {
            char buf[128];
            char *comma;

            if (strlen(optarg) >= sizeof buf)
                return usage_error("invalid --shift: too long");
            strcpy(buf, optarg);
            comma = strchr(buf, ',');
            if (!comma)
                return usage_error("invalid --shift '%s': expected DX,DY", optarg);
            *comma = '\0';
            if (!parse_double(buf, &o->shift_x) || !parse_double(comma + 1, &o->shift_y) ||
                o->shift_x < 0.0 || o->shift_x > MAX_SHIFT_PX ||
                o->shift_y < 0.0 || o->shift_y > MAX_SHIFT_PX)
                return usage_error("invalid --shift '%s': expected DX,DY in pixels, each 0..2",
                                   optarg);
            o->shift_set = 1;
            break;
        }
        case O_BASELINES:
            if (!parse_long(optarg, 1, MAX_BASE, &v))
                return usage_error("invalid --baselines '%s': expected 1..%d", optarg, MAX_BASE);
            o->baselines = (int)v;
            o->baselines_set = 1;
            break;
        case 'v':
            o->verbose = 1;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            if (optopt)
                return usage_error("unknown option '-%c'", optopt);
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (!o->dir)
        return usage_error("missing -o DIR");
    if (o->scenario == SC_CLEAN && o->clearings >= 0)
        return usage_error("--clearings cannot be used with --scenario clean");
    if (o->shift_set && o->scenario != SC_MISREG)
        return usage_error("--shift needs --scenario misregistration");
    if (o->baselines_set && o->scenario != SC_PHENO)
        return usage_error("--baselines needs --scenario phenology");
    /* phenology: BEFORE in the wet season unless told otherwise */
    if (o->scenario == SC_PHENO && !o->date_before_set)
        strcpy(o->date_before, "2024-03-15");
    if (strcmp(o->date_before, o->date_after) >= 0)
        return usage_error("--date-before (%s) must be earlier than --date-after (%s)",
                           o->date_before, o->date_after);
    return -1;
}

static int imax(int a, int b) { return a > b ? a : b; }
static int imin(int a, int b) { return a < b ? a : b; }

/* ------------------------------------------------------------------------ */
/* Randomness: splitmix64 streams for placement, stateless hashes per pixel. */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rng_next(uint64_t *s)
{
    *s += 0x9E3779B97F4A7C15ull;
    return mix64(*s);
}

/* uniform in [0, 1) */
static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

static double rng_range(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * rng_unit(s);
}

/* uniform integer in [lo, hi]; requires lo <= hi */
static int rng_int(uint64_t *s, int lo, int hi)
{
    return lo + (int)(rng_next(s) % (uint64_t)((int64_t)hi - lo + 1));
}

static double rng_logrange(uint64_t *s, double lo, double hi)
{
    return exp(rng_range(s, log(lo), log(hi)));
}

static uint64_t derive_key(uint64_t seed, uint64_t tag)
{
    return mix64(seed ^ mix64(tag * 0xA0761D6478BD642Full + 0xE7037ED1A0B428DBull));
}

/* ------------------------------------------------------------------------ */
/* Value noise. A field is a sum of octaves on power-of-two lattices; one     */
/* routine evaluates a row segment, so a single pixel (placement checks) and  */
/* a whole row (rendering) give bit-identical values.                         */

#define MAX_OCT 5
#define MAX_SHIFT 9              /* largest lattice cell: 512 px */

typedef struct field {
    uint64_t key;
    int noct;
    int shift[MAX_OCT];        /* log2 of the lattice cell, in pixels (>= 1) */
    float amp[MAX_OCT];
    float norm;                /* 1 / sum(amp): values in [0, 1] */
} field;

static void field_init(field *f, uint64_t key, int noct, const int *shift, const float *amp)
{
    float sum = 0.0f;

    assert(noct >= 1 && noct <= MAX_OCT);
    f->key = key;
    f->noct = noct;
    for (int o = 0; o < noct; o++) {
        assert(shift[o] >= 1 && shift[o] <= MAX_SHIFT);
        f->shift[o] = shift[o];
        f->amp[o] = amp[o];
        sum += amp[o];
    }
    f->norm = 1.0f / sum;
}

static float lattice(uint64_t key, int64_t ix, int64_t iy)
{
    const uint64_t h = mix64(key ^ ((uint64_t)ix * 0x9E3779B97F4A7C15ull)
                                 ^ ((uint64_t)iy * 0xC2B2AE3D27D4EB4Full));

    return (float)(h >> 40) * (1.0f / 16777216.0f);
}

static float smooth01(float t)
{
    return t * t * (3.0f - 2.0f * t);
}

static float stretch(float v, float k)
{
    v = (v - 0.5f) * k + 0.5f;
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

/* field_row() : out[i] = f(x0 + i, y) for i in [0, n); x0, y >= 0.
 * cols: scratch of at least n / 2 + 3 floats. Each pixel goes through the
 * same float operations whatever n and x0 are. */
static void field_row(const field *f, int y, int x0, int n, float *out, float *cols)
{
    float wt[1 << MAX_SHIFT];

    for (int i = 0; i < n; i++)
        out[i] = 0.0f;
    for (int o = 0; o < f->noct; o++) {
        const int sh = f->shift[o];
        const int s = 1 << sh;
        const float inv = 1.0f / (float)s;
        const uint64_t key = f->key + (uint64_t)(o + 1) * 0xD1B54A32D192ED03ull;
        const int iy = y >> sh;
        const float fy = smooth01(((float)(y & (s - 1)) + 0.5f) * inv);
        const int cx0 = x0 >> sh;
        const int ncol = ((x0 + n - 1) >> sh) - cx0 + 2;
        const float a = f->amp[o];
        const int xend = x0 + n;

        for (int k = 0; k < s; k++)
            wt[k] = smooth01(((float)k + 0.5f) * inv);
        for (int c = 0; c < ncol; c++) {
            const float v0 = lattice(key, cx0 + c, iy);
            const float v1 = lattice(key, cx0 + c, iy + 1);

            cols[c] = v0 + (v1 - v0) * fy;
        }
        for (int x = x0; x < xend;) {       /* one lattice cell at a time */
            const int c = (x >> sh) - cx0;
            const int cend = imin(((x >> sh) + 1) << sh, xend);
            const float c0 = cols[c], dc = cols[c + 1] - cols[c];
            const float *w = wt + (x & (s - 1));
            float *po = out + (x - x0);

            for (int i = 0; i < cend - x; i++)
                po[i] += a * (c0 + dc * w[i]);
            x = cend;
        }
    }
    for (int i = 0; i < n; i++)
        out[i] *= f->norm;
}

/* ------------------------------------------------------------------------ */
/* Bitmaps: one byte per pixel, 0 = empty (clouds: 1 medium, 2 high prob).   */

typedef struct bitmap {
    uint8_t *px;
    int w, h;
} bitmap;

static int bm_alloc(bitmap *b, int w, int h)
{
    b->w = w;
    b->h = h;
    b->px = calloc((size_t)w * (size_t)h, 1);
    return b->px ? 0 : -1;
}

static void bm_free(bitmap *b)
{
    free(b->px);
    b->px = NULL;
    b->w = b->h = 0;
}

static long bm_count(const bitmap *b)
{
    long n = 0;

    for (size_t i = 0; i < (size_t)b->w * (size_t)b->h; i++)
        n += b->px[i] != 0;
    return n;
}

/* bm_crop() : shrink to the tight bounding box of the set pixels (an empty
 * bitmap becomes 0x0); adds the shift to *dx, *dy. @return 0, -1 on ENOMEM */
static int bm_crop(bitmap *b, int *dx, int *dy)
{
    int xa = b->w, ya = b->h, xb = -1, yb = -1;
    bitmap nb;

    for (int j = 0; j < b->h; j++)
        for (int i = 0; i < b->w; i++)
            if (b->px[(size_t)j * b->w + i]) {
                xa = i < xa ? i : xa;
                xb = i > xb ? i : xb;
                ya = j < ya ? j : ya;
                yb = j > yb ? j : yb;
            }
    if (xb < 0) {
        bm_free(b);
        return 0;
    }
    if (xa == 0 && ya == 0 && xb == b->w - 1 && yb == b->h - 1)
        return 0;
    if (bm_alloc(&nb, xb - xa + 1, yb - ya + 1))
        return -1;
    for (int j = 0; j < nb.h; j++)
        memcpy(nb.px + (size_t)j * nb.w, b->px + (size_t)(j + ya) * b->w + xa, (size_t)nb.w);
    bm_free(b);
    *b = nb;
    *dx += xa;
    *dy += ya;
    return 0;
}

/* bm_components8() : number of 8-connected components, -1 on ENOMEM; the
 * pixel count of the largest one in *largest when not NULL. */
static int bm_components8(const bitmap *b, long *largest)
{
    const size_t n = (size_t)b->w * (size_t)b->h;
    uint8_t *seen = calloc(n ? n : 1, 1);
    int *stack = malloc((n ? n : 1) * sizeof *stack);
    int ncomp = 0;

    if (largest)
        *largest = 0;
    if (!seen || !stack) {
        free(seen);
        free(stack);
        return -1;
    }
    for (size_t s = 0; s < n; s++) {
        size_t top = 0;
        long size = 0;

        if (!b->px[s] || seen[s])
            continue;
        ncomp++;
        seen[s] = 1;
        stack[top++] = (int)s;
        while (top) {
            const int p = stack[--top];
            const int px = p % b->w, py = p / b->w;

            size++;

            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    const int qx = px + dx, qy = py + dy;

                    if (qx < 0 || qy < 0 || qx >= b->w || qy >= b->h)
                        continue;
                    const size_t q = (size_t)qy * b->w + qx;
                    if (b->px[q] && !seen[q]) {
                        seen[q] = 1;
                        stack[top++] = (int)q;
                    }
                }
        }
        if (largest && size > *largest)
            *largest = size;
    }
    free(seen);
    free(stack);
    return ncomp;
}

/* bm_holes() : empty pixels not 4-connected to the border, -1 on ENOMEM. */
static long bm_holes(const bitmap *b)
{
    const size_t n = (size_t)b->w * (size_t)b->h;
    uint8_t *out = calloc(n, 1);
    int *stack = malloc(n * sizeof *stack);
    size_t top = 0;
    long holes = 0;

    if (!out || !stack) {
        free(out);
        free(stack);
        return -1;
    }
    for (int j = 0; j < b->h; j++)
        for (int i = 0; i < b->w; i++) {
            const size_t p = (size_t)j * b->w + i;

            if ((i == 0 || j == 0 || i == b->w - 1 || j == b->h - 1) && !b->px[p] && !out[p]) {
                out[p] = 1;
                stack[top++] = (int)p;
            }
        }
    while (top) {
        const int p = stack[--top];
        const int px = p % b->w, py = p / b->w;
        static const int d4[4][2] = { { 1, 0 }, { -1, 0 }, { 0, 1 }, { 0, -1 } };

        for (int k = 0; k < 4; k++) {
            const int qx = px + d4[k][0], qy = py + d4[k][1];

            if (qx < 0 || qy < 0 || qx >= b->w || qy >= b->h)
                continue;
            const size_t q = (size_t)qy * b->w + qx;
            if (!b->px[q] && !out[q]) {
                out[q] = 1;
                stack[top++] = (int)q;
            }
        }
    }
    for (size_t p = 0; p < n; p++)
        holes += !b->px[p] && !out[p];
    free(out);
    free(stack);
    return holes;
}

/* ------------------------------------------------------------------------ */
/* Shapes                                                                   */

enum shape { S_RECT, S_ROTRECT, S_BLOB, S_L, S_RING, S_DIAG, S_SPECK };

typedef struct blob {
    double r;                  /* mean radius, pixels */
    double aspect, angle;      /* squeeze (>= 1) across the major axis */
    int nh;
    int k[6];
    double a[6], ph[6];
} blob;

static double blob_amp_sum(const blob *b)
{
    double s = 0.0;

    for (int i = 0; i < b->nh; i++)
        s += b->a[i];
    return s;
}

static void blob_random(uint64_t *rng, blob *b, double r, double roughness, int cloudy)
{
    static const int ks_clear[3] = { 2, 3, 5 };
    static const double am_clear[3] = { 0.22, 0.14, 0.07 };
    static const int ks_cloud[5] = { 2, 3, 4, 5, 7 };
    static const double am_cloud[5] = { 0.15, 0.12, 0.08, 0.06, 0.05 };
    double sq = 0.0;

    memset(b, 0, sizeof *b);
    b->aspect = 1.0;
    b->nh = cloudy ? 5 : 3;
    for (int i = 0; i < b->nh; i++) {
        b->k[i] = cloudy ? ks_cloud[i] : ks_clear[i];
        b->a[i] = rng_range(rng, 0.0, (cloudy ? am_cloud[i] : am_clear[i]) * roughness);
        b->ph[i] = rng_range(rng, 0.0, 2.0 * M_PI);
        sq += b->a[i] * b->a[i];
    }
    b->r = r / sqrt(1.0 + sq / 2.0);    /* keep the mean area at pi r^2 */
}

/* blob_frame() : the side of the odd-sized square frame centred on blob `b`
 * (pixel centre of (n/2, n/2) at offset 0.5), with `pad` empty pixels on
 * every side. */
static int blob_frame(const blob *b, int pad)
{
    const double ext = b->r * (1.0 + blob_amp_sum(b));

    return 2 * (int)ceil(ext) + 3 + 2 * pad;
}

/* blob_boundary() : the boundary radius of `b` in direction th. */
static double blob_boundary(const blob *b, double th)
{
    double rb = 1.0;

    for (int h = 0; h < b->nh; h++)
        rb += b->a[h] * cos(b->k[h] * th + b->ph[h]);
    return rb * b->r;
}

/* blob_polar() : pixel (i, j) of the n x n frame of `b` in the blob's own
 * axes (turned by its angle, squeezed by its aspect): distance *r from the
 * centre and the boundary radius *rb in that direction. */
static void blob_polar(const blob *b, int n, int i, int j, double *r, double *rb)
{
    const double c = n / 2.0, cs = cos(b->angle), sn = sin(b->angle);
    const double dx = i + 0.5 - c, dy = j + 0.5 - c;
    const double u = dx * cs + dy * sn;
    const double v = (-dx * sn + dy * cs) * b->aspect;

    *r = hypot(u, v);
    *rb = blob_boundary(b, atan2(v, u));
}

/* blob_raster() : an odd-sized square bitmap centred on the blob centre
 * (pixel centre of (n/2, n/2) at offset 0.5). Values: 2 where the radius
 * is below core x the boundary radius (core > 0), else 1. */
static int blob_raster(const blob *b, double core, bitmap *out)
{
    const int n = blob_frame(b, 0);

    if (bm_alloc(out, n, n))
        return -1;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) {
            double r, rb;

            blob_polar(b, n, i, j, &r, &rb);
            if (r <= rb)
                out->px[(size_t)j * n + i] = (core > 0.0 && r < core * rb) ? 2 : 1;
        }
    return 0;
}

static void fill_rect(bitmap *b, int xa, int ya, int w, int h)
{
    for (int j = ya; j < ya + h; j++)
        memset(b->px + (size_t)j * b->w + xa, 1, (size_t)w);
}

static void flip_x(bitmap *b)
{
    for (int j = 0; j < b->h; j++)
        for (int i = 0; i < b->w / 2; i++) {
            uint8_t *row = b->px + (size_t)j * b->w;
            const uint8_t t = row[i];

            row[i] = row[b->w - 1 - i];
            row[b->w - 1 - i] = t;
        }
}

static void flip_y(bitmap *b)
{
    for (int j = 0; j < b->h / 2; j++)
        for (int i = 0; i < b->w; i++) {
            uint8_t *p = b->px + (size_t)j * b->w + i;
            uint8_t *q = b->px + (size_t)(b->h - 1 - j) * b->w + i;
            const uint8_t t = *p;

            *p = *q;
            *q = t;
        }
}

/* make_shape() : a loss-like shape of about `target` pixels. -1 on ENOMEM. */
static int make_shape(uint64_t *rng, int shape, double target, bitmap *out)
{
    switch (shape) {
    case S_RECT: {
        const double asp = rng_range(rng, 0.4, 2.5);
        const int w = imax(2, (int)lround(sqrt(target * asp)));
        const int h = imax(2, (int)lround(target / w));

        if (bm_alloc(out, w, h))
            return -1;
        fill_rect(out, 0, 0, w, h);
        return 0;
    }
    case S_ROTRECT: {
        const double ratio = rng_range(rng, 1.5, 4.0);
        double bs = sqrt(target / ratio), as = bs * ratio;
        const double th = rng_range(rng, 0.0, M_PI);
        const double cs = cos(th), sn = sin(th);

        if (bs < 3.0) {
            bs = 3.0;
            as = target / 3.0;
        }
        const int w = (int)ceil(fabs(as * cs) + fabs(bs * sn)) + 2;
        const int h = (int)ceil(fabs(as * sn) + fabs(bs * cs)) + 2;
        if (bm_alloc(out, w, h))
            return -1;
        for (int j = 0; j < h; j++)
            for (int i = 0; i < w; i++) {
                const double dx = i + 0.5 - w / 2.0, dy = j + 0.5 - h / 2.0;

                if (fabs(dx * cs + dy * sn) <= as / 2.0 && fabs(-dx * sn + dy * cs) <= bs / 2.0)
                    out->px[(size_t)j * w + i] = 1;
            }
        return 0;
    }
    case S_BLOB: {
        blob b;

        blob_random(rng, &b, sqrt(target / M_PI), 1.0, 0);
        return blob_raster(&b, 0.0, out);
    }
    case S_L: {
        const double t = sqrt(target) * rng_range(rng, 0.28, 0.42);
        const double l1 = (target + t * t) / (2.0 * t) * rng_range(rng, 0.8, 1.25);
        const double l2 = (target - t * l1) / t + t;
        const int ti = imax(2, (int)lround(t));
        const int a = imax(ti + 2, (int)lround(l1)), b = imax(ti + 2, (int)lround(l2));

        if (bm_alloc(out, b, a))
            return -1;
        fill_rect(out, 0, 0, ti, a);          /* vertical arm   */
        fill_rect(out, 0, a - ti, b, ti);     /* horizontal arm */
        if (rng_next(rng) & 1)
            flip_x(out);
        if (rng_next(rng) & 1)
            flip_y(out);
        return 0;
    }
    case S_RING: {
        const double q = rng_range(rng, 0.30, 0.42);
        blob b;

        blob_random(rng, &b, sqrt(target / (M_PI * (1.0 - q * q))), 0.5, 0);
        if (blob_raster(&b, 0.0, out))
            return -1;
        const double c = out->w / 2.0, rin = q * b.r;
        for (int j = 0; j < out->h; j++)
            for (int i = 0; i < out->w; i++)
                if (hypot(i + 0.5 - c, j + 0.5 - c) < rin)
                    out->px[(size_t)j * out->w + i] = 0;    /* forest island */
        return 0;
    }
    case S_DIAG: {
        const double f = rng_range(rng, 0.4, 0.6);
        const double r1 = rng_range(rng, 0.6, 1.6), r2 = rng_range(rng, 0.6, 1.6);
        const int a1 = imax(2, (int)lround(sqrt(f * target * r1)));
        const int b1 = imax(2, (int)lround(f * target / a1));
        const int a2 = imax(2, (int)lround(sqrt((1.0 - f) * target * r2)));
        const int b2 = imax(2, (int)lround((1.0 - f) * target / a2));

        /* two rectangles that meet only at one corner: one 8-connected
         * component, two 4-connected ones */
        if (bm_alloc(out, a1 + a2, b1 + b2))
            return -1;
        fill_rect(out, 0, 0, a1, b1);
        fill_rect(out, a1, b1, a2, b2);
        if (rng_next(rng) & 1)
            flip_x(out);
        return 0;
    }
    default: {   /* S_SPECK: 1..4 pixels, target = max pixels */
        static const uint8_t pats[9][4] = {
            { 1, 0, 0, 0 },            /* 1 px            */
            { 1, 1, 0, 0 }, { 1, 0, 1, 0 }, { 1, 0, 0, 1 }, { 0, 1, 1, 0 },  /* 2 px */
            { 1, 1, 1, 0 }, { 1, 1, 0, 1 }, { 0, 1, 1, 1 },                  /* 3 px */
            { 1, 1, 1, 1 }             /* 4 px            */
        };
        static const int first[5] = { 0, 0, 1, 5, 8 }, count[5] = { 0, 1, 4, 3, 1 };
        const int maxpx = imin(4, imax(1, (int)target));
        const int npx = rng_int(rng, 1, maxpx);
        const int p = first[npx] + rng_int(rng, 0, count[npx] - 1);

        if (bm_alloc(out, 2, 2))
            return -1;
        memcpy(out->px, pats[p], 4);
        return 0;
    }
    }
}

/* ------------------------------------------------------------------------ */
/* Features and the scene                                                   */

/* Kinds are sorted in truth.csv by this order: new ones go at the end. */
enum kind { K_CLEARING, K_SMALL, K_PLOUGH, K_DEGRADE, K_UNDER_CLOUD, K_UNDER_SHADOW,
            K_SPECK, K_CLOUD_B, K_SHADOW_B, K_CIRRUS_B, K_CLOUD_A, K_SHADOW_A,
            K_CIRRUS_A, K_BRIGHT, K_GREEN, K_HAZE_CLEAR, K_BESIDE, K_GAP_CLEAR,
            K_HAZE_A, K_SMOKE_A, K_THIN_A, K_FRINGE_A, K_COUNT };
enum layer { L_GROUND, L_ATMO_B, L_ATMO_A };
enum gcode { G_NONE, G_LOSS, G_SOIL, G_DEGRADE, G_BRIGHT, G_GREEN };  /* ground layer */
/* atmosphere; from A_HAZE on the mask does not flag it, and the feature's
 * bitmap holds a density 1..255 instead of a code */
enum acode { A_NONE, A_SHADOW, A_CIRRUS, A_CLOUD_MED, A_CLOUD_HIGH, A_HAZE, A_SMOKE, A_THIN,
             A_FRINGE };
enum lclass { C_FOREST, C_PASTURE, C_WATER };

static const struct kind_info {
    const char *name;
    int expect, layer, code;
} KINDS[K_COUNT] = {
    [K_CLEARING]     = { "clearing",              1, L_GROUND, G_LOSS },
    [K_SMALL]        = { "small_clearing",        0, L_GROUND, G_SOIL },
    [K_PLOUGH]       = { "ploughed_pasture",      0, L_GROUND, G_SOIL },
    [K_DEGRADE]      = { "degradation",           0, L_GROUND, G_DEGRADE },
    [K_UNDER_CLOUD]  = { "clearing_under_cloud",  0, L_GROUND, G_SOIL },
    [K_UNDER_SHADOW] = { "clearing_under_shadow", 0, L_GROUND, G_SOIL },
    [K_SPECK]        = { "speck",                 0, L_GROUND, G_SOIL },
    [K_CLOUD_B]      = { "cloud_before",          0, L_ATMO_B, A_CLOUD_MED },
    [K_SHADOW_B]     = { "cloud_shadow_before",   0, L_ATMO_B, A_SHADOW },
    [K_CIRRUS_B]     = { "cirrus_before",         0, L_ATMO_B, A_CIRRUS },
    [K_CLOUD_A]      = { "cloud_after",           0, L_ATMO_A, A_CLOUD_MED },
    [K_SHADOW_A]     = { "cloud_shadow_after",    0, L_ATMO_A, A_SHADOW },
    [K_CIRRUS_A]     = { "cirrus_after",          0, L_ATMO_A, A_CIRRUS },
    [K_BRIGHT]       = { "bright_soil_clearing",  1, L_GROUND, G_BRIGHT },
    [K_GREEN]        = { "green_pasture",         1, L_GROUND, G_GREEN },
    [K_HAZE_CLEAR]   = { "clearing_under_haze",   1, L_GROUND, G_LOSS },
    [K_BESIDE]       = { "clearing_beside_cloud", 1, L_GROUND, G_LOSS },
    [K_GAP_CLEAR]    = { "clearing_in_gaps",      1, L_GROUND, G_LOSS },
    [K_HAZE_A]       = { "haze_after",            0, L_ATMO_A, A_HAZE },
    [K_SMOKE_A]      = { "smoke_after",           0, L_ATMO_A, A_SMOKE },
    [K_THIN_A]       = { "thin_cloud_after",      0, L_ATMO_A, A_THIN },
    [K_FRINGE_A]     = { "cloud_fringe_after",    0, L_ATMO_A, A_FRINGE },
};

/* Sentinel-2 SCL code of each atmosphere code */
static const uint8_t SCL_OF_ATMO[5] = { 0, 3, 10, 8, 9 };
enum { SCL_NODATA = 0, SCL_VEG = 4, SCL_BARE = 5, SCL_WATER = 6 };

typedef struct feature {
    int kind;
    int x0, y0;                /* scene position of bm (tight) */
    bitmap bm;
    long npix;
    double sumx, sumy;         /* sums of pixel column / row indices */
    long order;                /* placement sequence */
} feature;

typedef struct rect { int x0, y0, x1, y1; } rect;    /* half-open */

typedef struct river {
    float *yc, *hw;            /* centre row and half width per column */
    float ylo, yhi;
} river;

/* Rows and columns rendered beyond a strip for a shifted AFTER: the layers
 * of a strip are this much taller and wider than the strip. */
#define HALO 4

typedef struct scene {
    const synth_opts *o;
    int W, H, collar, xlimit;  /* features stay left of xlimit */
    int LW;                    /* layer row stride: W + HALO */
    /* phenomenon scenarios (ext): 6 bands, SWIR, and the options below */
    int ext, nb, nbase;
    int sx, sy;                /* misregistration: integer part of the shift */
    float fx, fy;              /* ... and its fraction                        */
    int shifted;
    field f_decid, f_year[MAX_BASE], f_bcloud[MAX_BASE];
    uint64_t key_noise_b2, key_noise_a2, key_noise_k[MAX_BASE], key_noise_k2[MAX_BASE];
    char date_base[MAX_BASE][16];
    field f_pasture, f_tex1, f_tex2, f_ptex, f_season, f_water, f_soil, f_cloud, f_degr;
    uint64_t key_noise_b, key_noise_a;
    float pasture_thr;
    int nriv;
    river *riv;
    feature *feat;
    size_t nfeat, capfeat;
    long order_next;
    /* placement index: reserved rectangles bucketed on a 64 px grid */
    rect *res;
    size_t nres, capres;
    int gw, gh;
    int *ghead;
    int *gnext, *gres;
    size_t ng, capg;
    /* serial scratch for placement checks */
    float *scr_f, *scr_cols;
    uint8_t *scr_cls;
    /* features per strip (CSR) */
    int nstrips;
    size_t *strip_off, *strip_idx;
} scene;

#define GRID_SHIFT 6

static void land_row(const scene *sc, int y, int x0, int n, const float *pas, uint8_t *cls)
{
    const float yc = (float)y + 0.5f;

    for (int i = 0; i < n; i++)
        cls[i] = pas[i] > sc->pasture_thr ? C_PASTURE : C_FOREST;
    for (int r = 0; r < sc->nriv; r++) {
        const river *rv = &sc->riv[r];

        if (yc < rv->ylo || yc > rv->yhi)
            continue;
        for (int i = 0; i < n; i++)
            if (fabsf(yc - rv->yc[x0 + i]) < rv->hw[x0 + i])
                cls[i] = C_WATER;
    }
}

/* row_classes() : land classes of row y, columns [x0, x0 + n), in the
 * scene's scratch row (valid until the next call). */
static const uint8_t *row_classes(const scene *sc, int y, int x0, int n)
{
    field_row(&sc->f_pasture, y, x0, n, sc->scr_f, sc->scr_cols);
    land_row(sc, y, x0, n, sc->scr_f, sc->scr_cls);
    return sc->scr_cls;
}

/* rect_all_class() : every pixel of the rectangle (clipped to the scene) is
 * of class `want`. */
static int rect_all_class(const scene *sc, int xa, int ya, int xb, int yb, int want)
{
    xa = imax(xa, 0);
    ya = imax(ya, 0);
    xb = imin(xb, sc->W);
    yb = imin(yb, sc->H);
    for (int y = ya; y < yb; y++) {
        const uint8_t *cls = row_classes(sc, y, xa, xb - xa);

        for (int i = 0; i < xb - xa; i++)
            if (cls[i] != want)
                return 0;
    }
    return 1;
}

static int pixel_class(const scene *sc, int x, int y)
{
    return row_classes(sc, y, x, 1)[0];
}

static int rect_overlap(rect a, rect b)
{
    return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

typedef struct cells { int ca, cb, ra, rb; } cells;   /* inclusive */

/* res_cells() : the placement grid's cells rectangle r touches, clipped to
 * the scene: columns ca..cb, rows ra..rb. */
static cells res_cells(const scene *sc, rect r)
{
    const cells c = {
        imax(r.x0, 0) >> GRID_SHIFT, imin(imax(r.x1 - 1, 0), sc->W - 1) >> GRID_SHIFT,
        imax(r.y0, 0) >> GRID_SHIFT, imin(imax(r.y1 - 1, 0), sc->H - 1) >> GRID_SHIFT
    };

    return c;
}

static int res_free(const scene *sc, rect r)
{
    const cells g = res_cells(sc, r);

    for (int cy = g.ra; cy <= g.rb; cy++)
        for (int cx = g.ca; cx <= g.cb; cx++)
            for (int e = sc->ghead[(size_t)cy * sc->gw + cx]; e >= 0; e = sc->gnext[e])
                if (rect_overlap(sc->res[sc->gres[e]], r))
                    return 0;
    return 1;
}

static cnp_status res_add(scene *sc, rect r)
{
    const cells g = res_cells(sc, r);

    if (sc->nres == sc->capres) {
        const size_t cap = sc->capres ? 2 * sc->capres : 256;
        rect *p = realloc(sc->res, cap * sizeof *p);

        if (!p)
            return fail(CNP_E_NOMEM, "cannot grow the placement index");
        sc->res = p;
        sc->capres = cap;
    }
    sc->res[sc->nres] = r;
    for (int cy = g.ra; cy <= g.rb; cy++)
        for (int cx = g.ca; cx <= g.cb; cx++) {
            if (sc->ng == sc->capg) {
                const size_t cap = sc->capg ? 2 * sc->capg : 1024;
                int *pn = realloc(sc->gnext, cap * sizeof *pn);

                if (!pn)
                    return fail(CNP_E_NOMEM, "cannot grow the placement index");
                sc->gnext = pn;
                pn = realloc(sc->gres, cap * sizeof *pn);
                if (!pn)
                    return fail(CNP_E_NOMEM, "cannot grow the placement index");
                sc->gres = pn;
                sc->capg = cap;
            }
            const size_t c = (size_t)cy * sc->gw + cx;
            sc->gres[sc->ng] = (int)sc->nres;
            sc->gnext[sc->ng] = sc->ghead[c];
            sc->ghead[c] = (int)sc->ng;
            sc->ng++;
        }
    sc->nres++;
    return CNP_OK;
}

/* feat_add() : takes ownership of *bm (tight, non-empty). */
static cnp_status feat_add(scene *sc, int kind, bitmap *bm, int x0, int y0)
{
    feature *f;

    if (sc->nfeat == sc->capfeat) {
        const size_t cap = sc->capfeat ? 2 * sc->capfeat : 64;
        feature *p = realloc(sc->feat, cap * sizeof *p);

        if (!p)
            return fail(CNP_E_NOMEM, "cannot grow the feature list");
        sc->feat = p;
        sc->capfeat = cap;
    }
    f = &sc->feat[sc->nfeat++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->x0 = x0;
    f->y0 = y0;
    f->bm = *bm;
    f->order = sc->order_next++;
    bm->px = NULL;
    for (int j = 0; j < f->bm.h; j++)
        for (int i = 0; i < f->bm.w; i++)
            if (f->bm.px[(size_t)j * f->bm.w + i]) {
                f->npix++;
                f->sumx += x0 + i;
                f->sumy += y0 + j;
            }
    return CNP_OK;
}

/* ------------------------------------------------------------------------ */
/* Groups: one to three members placed together (a clearing under its cloud, */
/* a cloud and its shadow). Offsets are relative to the group's top-left.     */

enum place_mode { P_ANY, P_TILE, P_LEFT, P_TOP };

typedef struct member {
    int kind;
    bitmap bm;
    int dx, dy;
    int need_forest;           /* bbox + MARGIN_PX must be all forest */
    int need_centre_forest;    /* bbox centre pixel must be forest    */
    int pasture_only;          /* keep only pasture pixels (ploughing) */
    int need_gap_cut;          /* SLC-off gaps must cut it below 0.5 ha */
} member;

typedef struct group {
    member m[4];
    int n, w, h, mode;
} group;

static void group_free(group *g)
{
    for (int i = 0; i < g->n; i++)
        bm_free(&g->m[i].bm);
    g->n = 0;
}

/* group_add() : appends a member (takes *bm), cropping it; offsets are in a
 * free frame until group_close(). */
static int group_add(group *g, int kind, bitmap *bm, int dx, int dy)
{
    member *m = &g->m[g->n];

    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->bm = *bm;
    m->dx = dx;
    m->dy = dy;
    bm->px = NULL;
    g->n++;
    if (bm_crop(&m->bm, &m->dx, &m->dy))
        return -1;
    return 0;
}

static void group_close(group *g)
{
    int xa = INT32_MAX, ya = INT32_MAX, xb = INT32_MIN, yb = INT32_MIN;

    for (int i = 0; i < g->n; i++) {
        const member *m = &g->m[i];

        if (!m->bm.px)
            continue;
        xa = imin(xa, m->dx);
        ya = imin(ya, m->dy);
        xb = imax(xb, m->dx + m->bm.w);
        yb = imax(yb, m->dy + m->bm.h);
    }
    for (int i = 0; i < g->n; i++) {
        g->m[i].dx -= xa;
        g->m[i].dy -= ya;
    }
    g->w = xb - xa;
    g->h = yb - ya;
}

/* loss_ok() : one 8-connected component with an area in [lo, hi] pixels
 * (and a forest island for rings). 1 yes, 0 no, -1 ENOMEM. */
static int loss_ok(const bitmap *b, int shape, double lo, double hi)
{
    const long n = bm_count(b);
    int nc;

    if (n < lo || n > hi)
        return 0;
    nc = bm_components8(b, NULL);
    if (nc < 0)
        return -1;
    if (nc != 1)
        return 0;
    if (shape == S_RING) {
        const long holes = bm_holes(b);

        if (holes < 0)
            return -1;
        if (holes < 6)
            return 0;
    }
    return 1;
}

static double ha_to_px(const scene *sc, double ha)
{
    return ha * HA / (sc->o->pixel * sc->o->pixel);
}

/* loss_shape() : a validated loss shape; `mode` P_LEFT / P_TOP clips a third
 * away so the shape touches that edge. 1 made, 0 impossible, -1 ENOMEM. */
static int loss_shape(const scene *sc, uint64_t *rng, int shape, int mode, double lo_ha,
                      double hi_ha, double tlo_ha, double thi_ha, bitmap *out)
{
    const double lo = ceil(ha_to_px(sc, lo_ha) - 1e-9), hi = floor(ha_to_px(sc, hi_ha) + 1e-9);

    if (hi < 1.0 || hi < lo)
        return 0;
    for (int attempt = 0; attempt < 80; attempt++) {
        const int shp = attempt < 60 ? shape : S_RECT;
        int dx = 0, dy = 0, ok;
        const double tgt = ha_to_px(sc, rng_logrange(rng, tlo_ha, thi_ha));

        if (make_shape(rng, shp, mode == P_LEFT || mode == P_TOP ? tgt * 1.5 : tgt, out))
            return -1;
        if (bm_crop(out, &dx, &dy))
            return -1;
        if (out->px && (mode == P_LEFT || mode == P_TOP)) {
            const int cut = mode == P_LEFT ? out->w / 3 : out->h / 3;

            for (int j = 0; j < out->h; j++)
                for (int i = 0; i < out->w; i++)
                    if ((mode == P_LEFT ? i : j) < cut)
                        out->px[(size_t)j * out->w + i] = 0;
            if (bm_crop(out, &dx, &dy))
                return -1;
        }
        if (out->px) {
            ok = loss_ok(out, shp, lo, hi);
            if (ok < 0)
                return -1;
            if (ok)
                return 1;
        }
        bm_free(out);
    }
    return 0;
}

static int random_shape(uint64_t *rng)
{
    const double r = rng_unit(rng);

    return r < 0.35 ? S_BLOB : r < 0.60 ? S_RECT : r < 0.75 ? S_ROTRECT
         : r < 0.85 ? S_L : r < 0.95 ? S_DIAG : S_RING;
}

/* cover_ok() : every pixel within COVER_PX (Chebyshev) of a set pixel of
 * `inner` (at ox, oy in outer's frame) is set in `outer`. */
static int cover_ok(const bitmap *outer, const bitmap *inner, int ox, int oy)
{
    for (int j = 0; j < inner->h; j++)
        for (int i = 0; i < inner->w; i++) {
            if (!inner->px[(size_t)j * inner->w + i])
                continue;
            for (int v = -COVER_PX; v <= COVER_PX; v++)
                for (int u = -COVER_PX; u <= COVER_PX; u++) {
                    const int x = ox + i + u, y = oy + j + v;

                    if (x < 0 || y < 0 || x >= outer->w || y >= outer->h ||
                        !outer->px[(size_t)y * outer->w + x])
                        return 0;
                }
        }
    return 1;
}

/* shadow_of() : the shadow of `cloud` cast at offset (sx, sy) from it,
 * minus the pixels the cloud itself hides; a new bitmap of the cloud's size,
 * meant to sit at (sx, sy) in the cloud's frame. */
static int shadow_of(const bitmap *cloud, int sx, int sy, bitmap *out)
{
    if (bm_alloc(out, cloud->w, cloud->h))
        return -1;
    for (int j = 0; j < cloud->h; j++)
        for (int i = 0; i < cloud->w; i++) {
            const int cx = i + sx, cy = j + sy;

            if (!cloud->px[(size_t)j * cloud->w + i])
                continue;
            if (cx >= 0 && cy >= 0 && cx < cloud->w && cy < cloud->h &&
                cloud->px[(size_t)cy * cloud->w + cx])
                continue;
            out->px[(size_t)j * cloud->w + i] = 1;
        }
    return 0;
}

/* hidden_group() : a clearing fully hidden by a cloud in AFTER (under_shadow
 * = 0) or by a cloud shadow in BEFORE (under_shadow = 1), with the casting
 * cloud / the cloud's own shadow. 1 made, 0 impossible, -1 ENOMEM. */
static int hidden_group(const scene *sc, uint64_t *rng, int under_shadow, double rlo_px,
                        group *g)
{
    bitmap cl = { 0 }, veil = { 0 }, other = { 0 };
    blob b;
    int ok;
    double rmax = 0.0, cx = 0.0, cy = 0.0;
    long n = 0;

    memset(g, 0, sizeof *g);
    ok = loss_shape(sc, rng, rng_unit(rng) < 0.5 ? S_BLOB : S_RECT, P_ANY, 0.6, 8.0, 0.7, 2.0, &cl);
    if (ok <= 0)
        return ok;
    for (int j = 0; j < cl.h; j++)
        for (int i = 0; i < cl.w; i++)
            if (cl.px[(size_t)j * cl.w + i]) {
                cx += i + 0.5;
                cy += j + 0.5;
                n++;
            }
    cx /= (double)n;
    cy /= (double)n;
    for (int j = 0; j <= cl.h; j++)
        for (int i = 0; i <= cl.w; i++)
            rmax = fmax(rmax, hypot(i - cx, j - cy));

    blob_random(rng, &b, 1.0, 0.8, 1);
    b.r = fmax(rlo_px, (rmax + COVER_PX + 1.5) / (1.0 - blob_amp_sum(&b)));
    for (int grow = 0;; grow++) {
        if (blob_raster(&b, 0.6, &veil))
            goto nomem;
        const int ox = (int)lround(veil.w / 2.0 - cx), oy = (int)lround(veil.h / 2.0 - cy);
        if (cover_ok(&veil, &cl, ox, oy)) {
            const double ext = b.r * (1.0 + blob_amp_sum(&b));

            if (!under_shadow) {
                /* cloud in AFTER over the clearing, its shadow beside it */
                const double len = ext * rng_range(rng, 0.8, 1.4);
                const int sx = (int)lround(len * SUN_DX), sy = (int)lround(len * SUN_DY);

                if (shadow_of(&veil, sx, sy, &other))
                    goto nomem;
                if (group_add(g, K_UNDER_CLOUD, &cl, ox, oy) ||
                    group_add(g, K_CLOUD_A, &veil, 0, 0) ||
                    group_add(g, K_SHADOW_A, &other, sx, sy))
                    goto nomem;
            } else {
                /* shadow in BEFORE over the clearing; its cloud sits clear of it */
                const double len = 2.0 * ext + 4.0;
                const int sx = (int)lround(len * SUN_DX), sy = (int)lround(len * SUN_DY);

                if (bm_alloc(&other, veil.w, veil.h))
                    goto nomem;
                memcpy(other.px, veil.px, (size_t)veil.w * (size_t)veil.h);
                for (size_t p = 0; p < (size_t)veil.w * (size_t)veil.h; p++)
                    veil.px[p] = veil.px[p] ? 1 : 0;
                if (group_add(g, K_UNDER_SHADOW, &cl, ox, oy) ||
                    group_add(g, K_SHADOW_B, &veil, 0, 0) ||
                    group_add(g, K_CLOUD_B, &other, -sx, -sy))
                    goto nomem;
            }
            g->m[0].need_forest = 1;
            group_close(g);
            return 1;
        }
        bm_free(&veil);
        if (grow > 40) {
            bm_free(&cl);
            return 0;
        }
        b.r += 1.0;
    }

nomem:
    bm_free(&cl);
    bm_free(&veil);
    bm_free(&other);
    group_free(g);
    return -1;
}

/* cloud_group() : a cloud (or cirrus when cirrus = 1) and its shadow. */
static int cloud_group(uint64_t *rng, int after, int cirrus, double rlo, double rhi, group *g)
{
    bitmap cloud = { 0 }, shadow = { 0 };
    blob b;

    memset(g, 0, sizeof *g);
    blob_random(rng, &b, rng_range(rng, rlo, rhi), 1.0, 1);
    if (cirrus) {
        b.aspect = rng_range(rng, 2.0, 3.0);
        b.angle = rng_range(rng, 0.0, M_PI);
    }
    if (blob_raster(&b, cirrus ? 0.0 : 0.6, &cloud))
        return -1;
    if (cirrus) {
        if (group_add(g, after ? K_CIRRUS_A : K_CIRRUS_B, &cloud, 0, 0))
            goto nomem;
    } else {
        const double len = b.r * rng_range(rng, 0.8, 1.6);
        const int sx = (int)lround(len * SUN_DX), sy = (int)lround(len * SUN_DY);

        if (shadow_of(&cloud, sx, sy, &shadow))
            goto nomem;
        if (group_add(g, after ? K_CLOUD_A : K_CLOUD_B, &cloud, 0, 0) ||
            group_add(g, after ? K_SHADOW_A : K_SHADOW_B, &shadow, sx, sy))
            goto nomem;
    }
    g->m[0].need_centre_forest = 1;
    group_close(g);
    return 1;

nomem:
    bm_free(&cloud);
    bm_free(&shadow);
    group_free(g);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Phenomenon groups: haze patches, clouds with fringes, clearings cut by     */
/* SLC-off gaps.                                                            */

/* blob_density() : like blob_raster(), but each pixel holds a density
 * 1..255 that rises from the boundary to 255 at `soft` x the boundary radius
 * inwards (haze and smoke thin out towards their edges). Margin `pad` px of
 * empty pixels on every side. */
static int blob_density(const blob *b, double soft, int pad, bitmap *out)
{
    const int n = blob_frame(b, pad);

    if (bm_alloc(out, n, n))
        return -1;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) {
            double r, rb;

            blob_polar(b, n, i, j, &r, &rb);
            if (r <= rb)
                out->px[(size_t)j * n + i] =
                    (uint8_t)(1.0 + 254.0 * fmin(1.0, (1.0 - r / rb) / soft));
        }
    return 0;
}

/* fringe_ring() : the fringe of cloud blob `b`, F px wide, in the frame of
 * blob_raster(b) grown by F on every side (so it sits at (-F, -F) from the
 * cloud): density 255 * 0.9 next to the cloud, falling linearly to 0 at F px. */
static int fringe_ring(const blob *b, int F, bitmap *out)
{
    const int n = blob_frame(b, F);
    const double c = n / 2.0;

    if (bm_alloc(out, n, n))
        return -1;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) {
            const double dx = i + 0.5 - c, dy = j + 0.5 - c;
            const double r = hypot(dx, dy), rb = blob_boundary(b, atan2(dy, dx));

            if (r > rb && r <= rb + F)
                out->px[(size_t)j * n + i] = (uint8_t)(1.0 + 229.0 * (1.0 - (r - rb) / F));
        }
    return 0;
}

/* min_dist() : smallest Chebyshev distance between set pixels of a (at its
 * origin) and b (at bx, by in a's frame); INT32_MAX when either is empty. */
static int min_dist(const bitmap *a, const bitmap *b, int bx, int by)
{
    int best = INT32_MAX;

    for (int j = 0; j < a->h; j++)
        for (int i = 0; i < a->w; i++) {
            if (!a->px[(size_t)j * a->w + i])
                continue;
            for (int v = 0; v < b->h; v++)
                for (int u = 0; u < b->w; u++)
                    if (b->px[(size_t)v * b->w + u]) {
                        const int d = imax(abs(bx + u - i), abs(by + v - j));

                        best = imin(best, d);
                    }
        }
    return best;
}

/* haze_group() : a haze, smoke or thin-cloud patch in AFTER that the mask
 * does not flag; with_clear puts a clearing under it, half-way out from its
 * centre. 1 made, 0 impossible, -1 ENOMEM. */
static int haze_group(const scene *sc, uint64_t *rng, int kind, int with_clear, group *g)
{
    bitmap hz = { 0 }, cl = { 0 };
    blob b;

    memset(g, 0, sizeof *g);
    blob_random(rng, &b, rng_range(rng, 32.0, 52.0) * 10.0 / fmax(sc->o->pixel, 1.0), 0.8, 1);
    if (b.r < 6.0)
        b.r = 6.0;
    if (blob_density(&b, kind == K_THIN_A ? 0.4 : 0.6, 0, &hz))
        return -1;
    if (with_clear) {
        const int ok = loss_shape(sc, rng, rng_unit(rng) < 0.5 ? S_BLOB : S_RECT, P_ANY,
                                  0.6, 4.0, 0.7, 2.0, &cl);
        if (ok <= 0) {
            bm_free(&hz);
            return ok;
        }
        const double phi = rng_range(rng, 0.0, 2.0 * M_PI), rr = 0.45 * b.r;
        const int ox = (int)lround(hz.w / 2.0 + rr * cos(phi) - cl.w / 2.0);
        const int oy = (int)lround(hz.h / 2.0 + rr * sin(phi) - cl.h / 2.0);

        if (group_add(g, K_HAZE_CLEAR, &cl, ox, oy))
            goto nomem;
        g->m[0].need_forest = 1;
    }
    if (group_add(g, kind, &hz, 0, 0))
        goto nomem;
    g->m[g->n - 1].need_centre_forest = !with_clear;
    group_close(g);
    return 1;

nomem:
    bm_free(&hz);
    bm_free(&cl);
    group_free(g);
    return -1;
}

/* fringe_group() : a cloud in AFTER (flagged) with its shadow and an
 * unflagged fringe, F = 9..14 px wide (wide) or 1 px; `beside` adds a small
 * clearing (0.6..1 ha) 2..4 px from the cloud on the side away from the
 * shadow, so that a fixed 60 m buffer at 10 m eats into it, often below
 * the minimum area. 1 made, 0 no, -1 ENOMEM. */
static int fringe_group(const scene *sc, uint64_t *rng, int wide, int beside, group *g)
{
    bitmap cloud = { 0 }, ring = { 0 }, shadow = { 0 }, cl = { 0 };
    blob b;
    const int F = wide ? rng_int(rng, 9, 14) : 1;
    int made = -1;

    memset(g, 0, sizeof *g);
    blob_random(rng, &b, rng_range(rng, 10.0, 16.0), 0.8, 1);
    if (blob_raster(&b, 0.6, &cloud) || fringe_ring(&b, F, &ring))
        goto done;
    {
        const double len = b.r * rng_range(rng, 1.6, 2.2) + F;
        const int sx = (int)lround(len * SUN_DX), sy = (int)lround(len * SUN_DY);

        if (shadow_of(&cloud, sx, sy, &shadow))
            goto done;
        if (beside) {
            const int ok = loss_shape(sc, rng, rng_unit(rng) < 0.5 ? S_BLOB : S_RECT, P_ANY,
                                      0.6, 1.2, 0.65, 1.0, &cl);
            const int gap = rng_int(rng, 2, 4);
            const double phi = rng_range(rng, -1.3, 0.3);   /* right and up: away from the shadow */
            int placed = 0;

            if (ok <= 0) {
                made = ok;
                goto done;
            }
            for (double t = 0.0; t < 3.0 * b.r + 40.0 && !placed; t += 0.5) {
                const int ox = (int)lround(cloud.w / 2.0 + t * cos(phi) - cl.w / 2.0);
                const int oy = (int)lround(cloud.h / 2.0 + t * sin(phi) - cl.h / 2.0);

                if (min_dist(&cloud, &cl, ox, oy) == gap &&
                    min_dist(&ring, &cl, ox + F, oy + F) > 0 &&
                    min_dist(&shadow, &cl, ox - sx, oy - sy) > MARGIN_PX) {
                    if (group_add(g, K_BESIDE, &cl, ox, oy))
                        goto done;
                    g->m[0].need_forest = 1;
                    placed = 1;
                }
            }
            if (!placed) {
                made = 0;
                goto done;
            }
        }
        if (group_add(g, K_CLOUD_A, &cloud, 0, 0) || group_add(g, K_FRINGE_A, &ring, -F, -F) ||
            group_add(g, K_SHADOW_A, &shadow, sx, sy))
            goto done;
        g->m[beside].need_centre_forest = 1;
    }
    group_close(g);
    made = 1;

done:   /* the bitmaps the group took are empty here */
    bm_free(&cloud);
    bm_free(&ring);
    bm_free(&shadow);
    bm_free(&cl);
    if (made < 0)
        group_free(g);
    return made;
}

/* slc_gap() : 1 where Landsat 7's failed scan-line corrector leaves no data
 * in AFTER: wedge-shaped stripes every 480 m along track, slightly tilted,
 * widening from 45 m to 135 m across the scene (a piece of the swath
 * between its centre and its edge). */
static int slc_gap(const scene *sc, int x, int y)
{
    const double px = sc->o->pixel;
    const double period = 480.0 / px;
    const double width = (45.0 + 90.0 * ((double)x + 0.5) / sc->W) / px;
    const double v = (double)y + 0.12 * (double)x;

    return fmod(v, period) < width;
}

/* gap_cut_ok() : the member at (mx, my) is cut by the gaps into at least two
 * observed pieces, each below 0.5 ha, with at least 0.6 ha observed in all.
 * 1 yes, 0 no, -1 ENOMEM. */
static int gap_cut_ok(const scene *sc, const member *m, int mx, int my)
{
    bitmap obs;
    long total = 0, largest = 0;
    const double min_px = ha_to_px(sc, 0.5);

    if (bm_alloc(&obs, m->bm.w, m->bm.h))
        return -1;
    for (int j = 0; j < m->bm.h; j++)
        for (int i = 0; i < m->bm.w; i++) {
            const size_t q = (size_t)j * m->bm.w + i;

            obs.px[q] = m->bm.px[q] && !slc_gap(sc, mx + i, my + j);
            total += obs.px[q];
        }
    const int nc = bm_components8(&obs, &largest);
    bm_free(&obs);
    if (nc < 0)
        return -1;
    return nc >= 2 && (double)largest < min_px && (double)total >= 1.2 * min_px;
}

/* gap_group() : a clearing across the stripes (taller than wide), for
 * gap_cut_ok() to accept where it falls. */
static int gap_group(const scene *sc, uint64_t *rng, group *g)
{
    bitmap bm = { 0 };
    const double px = sc->o->pixel;
    const int w = imax(2, (int)lround(rng_range(rng, 50.0, 90.0) / px));
    const int h = imax(4, (int)lround(rng_range(rng, 150.0, 260.0) / px));

    memset(g, 0, sizeof *g);
    if (bm_alloc(&bm, w, h))
        return -1;
    fill_rect(&bm, 0, 0, w, h);
    if (group_add(g, K_GAP_CLEAR, &bm, 0, 0)) {
        group_free(g);
        return -1;
    }
    g->m[0].need_forest = 1;
    g->m[0].need_gap_cut = 1;
    group_close(g);
    return 1;
}

/* single_group() : one member. */
static int single_group(int kind, bitmap *bm, int mode, group *g)
{
    memset(g, 0, sizeof *g);
    if (group_add(g, kind, bm, 0, 0)) {
        group_free(g);
        return -1;
    }
    g->m[0].need_forest = kind != K_PLOUGH;
    g->m[0].pasture_only = kind == K_PLOUGH;
    g->mode = mode;
    group_close(g);
    return 1;
}

/* tile_quadrants_ok() : member 0 has pixels on both sides of the tile
 * boundaries bx / by (-1: no boundary in that direction). */
static int tile_quadrants_ok(const member *m, int gx, int gy, int bx, int by)
{
    int q[4] = { 0, 0, 0, 0 };

    for (int j = 0; j < m->bm.h; j++)
        for (int i = 0; i < m->bm.w; i++)
            if (m->bm.px[(size_t)j * m->bm.w + i]) {
                const int x = gx + m->dx + i, y = gy + m->dy + j;

                q[(bx >= 0 && x >= bx) + 2 * (by >= 0 && y >= by)] = 1;
            }
    if (bx >= 0 && by >= 0)
        return q[0] && q[1] && q[2] && q[3];
    if (bx >= 0)
        return q[0] && q[1];
    return q[0] && q[2];
}

/* place_group() : tries random positions; on success the members become
 * features. Consumes the group either way. 1 placed, 0 not, <0 error. */
static int place_group(scene *sc, uint64_t *rng, group *g, int attempts, cnp_status *st)
{
    const int nbx = (sc->xlimit - 1) / sc->o->tile, nby = (sc->H - 1) / sc->o->tile;
    int placed = 0;

    for (int a = 0; a < attempts && !placed; a++) {
        int gx, gy, bx = -1, by = -1, ok = 1;

        if (sc->xlimit - g->w < 0 || sc->H - g->h < 0)
            break;
        switch (g->mode) {
        case P_LEFT:
            gx = 0;
            gy = rng_int(rng, 0, sc->H - g->h);
            break;
        case P_TOP:
            gx = rng_int(rng, 0, sc->xlimit - g->w);
            gy = 0;
            break;
        case P_TILE: {
            /* a tile corner first; later attempts settle for one boundary */
            const int relax = a >= attempts / 2 ? 1 + (int)(rng_next(rng) & 1) : 0;

            if (nbx > 0 && relax != 1) {
                bx = sc->o->tile * rng_int(rng, 1, nbx);
                gx = bx - g->w / 2 + rng_int(rng, -g->w / 6, g->w / 6);
            } else {
                gx = rng_int(rng, 0, sc->xlimit - g->w);
            }
            if (nby > 0 && relax != 2) {
                by = sc->o->tile * rng_int(rng, 1, nby);
                gy = by - g->h / 2 + rng_int(rng, -g->h / 6, g->h / 6);
            } else {
                gy = rng_int(rng, 0, sc->H - g->h);
            }
            break;
        }
        default:
            gx = rng_int(rng, 0, sc->xlimit - g->w);
            gy = rng_int(rng, 0, sc->H - g->h);
            break;
        }
        if (gx < 0 || gy < 0 || gx + g->w > sc->xlimit || gy + g->h > sc->H)
            continue;
        if (g->mode == P_TILE && (bx >= 0 || by >= 0) &&
            !tile_quadrants_ok(&g->m[0], gx, gy, bx, by))
            continue;
        if (!res_free(sc, (rect){ gx - MARGIN_PX, gy - MARGIN_PX,
                                  gx + g->w + MARGIN_PX, gy + g->h + MARGIN_PX }))
            continue;
        for (int i = 0; i < g->n && ok; i++) {
            const member *m = &g->m[i];
            const int mx = gx + m->dx, my = gy + m->dy;

            if (m->need_centre_forest &&
                pixel_class(sc, mx + m->bm.w / 2, my + m->bm.h / 2) != C_FOREST)
                ok = 0;
            if (ok && m->need_forest &&
                !rect_all_class(sc, mx - MARGIN_PX, my - MARGIN_PX,
                                mx + m->bm.w + MARGIN_PX, my + m->bm.h + MARGIN_PX, C_FOREST))
                ok = 0;
            if (ok && m->pasture_only) {
                long keep = 0, all = 0;

                if (pixel_class(sc, mx + m->bm.w / 2, my + m->bm.h / 2) != C_PASTURE) {
                    ok = 0;
                    break;
                }
                for (int j = 0; j < m->bm.h; j++) {
                    const uint8_t *cls = row_classes(sc, my + j, mx, m->bm.w);

                    for (int i2 = 0; i2 < m->bm.w; i2++)
                        if (m->bm.px[(size_t)j * m->bm.w + i2]) {
                            all++;
                            keep += cls[i2] == C_PASTURE;
                        }
                }
                ok = keep >= all * 7 / 10;
            }
            if (ok && m->need_gap_cut) {
                const int cut = gap_cut_ok(sc, m, mx, my);

                if (cut < 0)
                    goto nomem;
                ok = cut;
            }
        }
        if (!ok)
            continue;
        placed = 1;
        for (int i = 0; i < g->n; i++) {
            member *m = &g->m[i];
            int mx = gx + m->dx, my = gy + m->dy;

            if (m->pasture_only) {
                for (int j = 0; j < m->bm.h; j++) {
                    const uint8_t *cls = row_classes(sc, my + j, mx, m->bm.w);

                    for (int i2 = 0; i2 < m->bm.w; i2++)
                        if (cls[i2] != C_PASTURE)
                            m->bm.px[(size_t)j * m->bm.w + i2] = 0;
                }
                if (bm_crop(&m->bm, &mx, &my))
                    goto nomem;
            }
            if (m->bm.px && (*st = feat_add(sc, m->kind, &m->bm, mx, my)) != CNP_OK)
                goto failed;
        }
        if ((*st = res_add(sc, (rect){ gx, gy, gx + g->w, gy + g->h })) != CNP_OK)
            goto failed;
    }
    group_free(g);
    return placed;

nomem:
    *st = fail(CNP_E_NOMEM, "out of memory placing features");
failed:
    group_free(g);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Scene set-up and feature planning                                        */

/* ext_init() : what the phenomenon scenarios add. Keys come from
 * derive_key(), which draws nothing from the placement streams, so the
 * original scenarios are unchanged. */
static void ext_init(scene *sc, const synth_opts *o)
{
    static const int sh_de[2] = { 8, 6 };
    static const float am_de[2] = { 1.0f, 0.35f };
    static const int sh_yr[1] = { 8 };
    static const float am_yr[1] = { 1.0f };
    static const int sh_bc[3] = { 5, 4, 2 };
    static const float am_bc[3] = { 1.0f, 0.5f, 0.2f };
    const uint64_t s = o->seed;

    sc->ext = o->scenario >= SC_HAZE;
    sc->nb = sc->ext ? 6 : 4;
    sc->nbase = o->scenario == SC_PHENO ? o->baselines : 0;
    if (o->scenario == SC_MISREG) {
        sc->sx = (int)floor(o->shift_x);
        sc->sy = (int)floor(o->shift_y);
        sc->fx = (float)(o->shift_x - sc->sx);
        sc->fy = (float)(o->shift_y - sc->sy);
        sc->shifted = o->shift_x > 0.0 || o->shift_y > 0.0;
    }
    field_init(&sc->f_decid, derive_key(s, 30), 2, sh_de, am_de);
    sc->key_noise_b2 = derive_key(s, 31);
    sc->key_noise_a2 = derive_key(s, 32);
    for (int k = 0; k < MAX_BASE; k++) {
        field_init(&sc->f_year[k], derive_key(s, 40 + (uint64_t)k), 1, sh_yr, am_yr);
        field_init(&sc->f_bcloud[k], derive_key(s, 50 + (uint64_t)k), 3, sh_bc, am_bc);
        sc->key_noise_k[k] = derive_key(s, 60 + (uint64_t)k);
        sc->key_noise_k2[k] = derive_key(s, 70 + (uint64_t)k);
    }
    /* baselines: AFTER's day in the K years before it (28 Feb for 29 Feb) */
    for (int k = 0; k < sc->nbase; k++) {
        const int year = atoi(o->date_after) - (sc->nbase - k);
        const int feb29 = !strcmp(o->date_after + 5, "02-29");
        const int mon = atoi(o->date_after + 5), day = feb29 ? 28 : atoi(o->date_after + 8);

        snprintf(sc->date_base[k], sizeof sc->date_base[k], "%04d-%02d-%02d",
                 year > 0 ? year % 10000 : 1, mon, day);
    }
}

static cnp_status scene_init(scene *sc, const synth_opts *o)
{
    static const int sh_pas[4] = { 7, 6, 5, 4 };
    static const float am_pas[4] = { 1.0f, 0.5f, 0.25f, 0.125f };
    static const int sh_t1[4] = { 5, 4, 3, 2 };
    static const float am_t1[4] = { 1.0f, 0.6f, 0.4f, 0.25f };
    static const int sh_t2[3] = { 6, 4, 2 };
    static const float am_t2[3] = { 1.0f, 0.5f, 0.3f };
    static const int sh_pt[2] = { 5, 3 };
    static const float am_pt[2] = { 1.0f, 0.5f };
    static const int sh_se[2] = { 9, 7 };
    static const float am_se[2] = { 1.0f, 0.3f };
    static const int sh_wa[2] = { 6, 3 };
    static const float am_wa[2] = { 1.0f, 0.4f };
    static const int sh_so[3] = { 3, 2, 1 };
    static const float am_so[3] = { 1.0f, 0.6f, 0.4f };
    static const int sh_cl[3] = { 4, 3, 2 };
    static const float am_cl[3] = { 1.0f, 0.5f, 0.25f };
    static const int sh_dg[1] = { 4 };
    static const float am_dg[1] = { 1.0f };
    const uint64_t s = o->seed;
    uint64_t rng = derive_key(s, 1);
    enum { NSAMP = 8191 };
    float *samp = NULL;

    memset(sc, 0, sizeof *sc);
    sc->o = o;
    sc->W = o->width;
    sc->H = o->height;
    sc->collar = sc->W >= 16 ? COLLAR_PX : 0;
    sc->xlimit = sc->W - (sc->collar ? sc->collar + MARGIN_PX : 0);
    sc->LW = sc->W + HALO;
    ext_init(sc, o);

    field_init(&sc->f_pasture, derive_key(s, 10), 4, sh_pas, am_pas);
    field_init(&sc->f_tex1, derive_key(s, 11), 4, sh_t1, am_t1);
    field_init(&sc->f_tex2, derive_key(s, 12), 3, sh_t2, am_t2);
    field_init(&sc->f_ptex, derive_key(s, 13), 2, sh_pt, am_pt);
    field_init(&sc->f_season, derive_key(s, 14), 2, sh_se, am_se);
    field_init(&sc->f_water, derive_key(s, 15), 2, sh_wa, am_wa);
    field_init(&sc->f_soil, derive_key(s, 16), 3, sh_so, am_so);
    field_init(&sc->f_cloud, derive_key(s, 17), 3, sh_cl, am_cl);
    field_init(&sc->f_degr, derive_key(s, 18), 1, sh_dg, am_dg);
    sc->key_noise_b = derive_key(s, 20);
    sc->key_noise_a = derive_key(s, 21);

    sc->scr_f = malloc((size_t)sc->W * sizeof *sc->scr_f);
    sc->scr_cols = malloc(((size_t)sc->W / 2 + 4) * sizeof *sc->scr_cols);
    sc->scr_cls = malloc((size_t)sc->W);
    sc->gw = ((sc->W - 1) >> GRID_SHIFT) + 1;
    sc->gh = ((sc->H - 1) >> GRID_SHIFT) + 1;
    sc->ghead = malloc((size_t)sc->gw * (size_t)sc->gh * sizeof *sc->ghead);
    samp = malloc(NSAMP * sizeof *samp);
    if (!sc->scr_f || !sc->scr_cols || !sc->scr_cls || !sc->ghead || !samp) {
        free(samp);
        return fail(CNP_E_NOMEM, "cannot allocate scene scratch");
    }
    for (size_t i = 0; i < (size_t)sc->gw * (size_t)sc->gh; i++)
        sc->ghead[i] = -1;

    /* pasture: the top 20 % of the pasture field, estimated on this scene */
    for (int i = 0; i < NSAMP; i++) {
        const int x = rng_int(&rng, 0, sc->W - 1), y = rng_int(&rng, 0, sc->H - 1);

        field_row(&sc->f_pasture, y, x, 1, &samp[i], sc->scr_cols);
    }
    for (int i = 1; i < NSAMP; i++) {          /* insertion sort: tiny, stable */
        const float v = samp[i];
        int j = i - 1;

        while (j >= 0 && samp[j] > v) {
            samp[j + 1] = samp[j];
            j--;
        }
        samp[j + 1] = v;
    }
    sc->pasture_thr = samp[NSAMP * 8 / 10];
    free(samp);

    /* rivers: one meandering band per ~4000 rows, west to east */
    sc->nriv = 1 + sc->H / 4000;
    sc->riv = calloc((size_t)sc->nriv, sizeof *sc->riv);
    if (!sc->riv)
        return fail(CNP_E_NOMEM, "cannot allocate rivers");
    for (int r = 0; r < sc->nriv; r++) {
        river *rv = &sc->riv[r];
        const double band = (double)sc->H / sc->nriv;
        const double base = band * (r + 0.5) + rng_range(&rng, -0.15, 0.15) * band;
        const double a1 = rng_range(&rng, 20, 45), l1 = rng_range(&rng, 250, 420);
        const double a2 = rng_range(&rng, 6, 14), l2 = rng_range(&rng, 70, 130);
        const double l3 = rng_range(&rng, 150, 300);
        const double p1 = rng_range(&rng, 0, 2 * M_PI), p2 = rng_range(&rng, 0, 2 * M_PI);
        const double p3 = rng_range(&rng, 0, 2 * M_PI);

        /* LW columns: a shifted AFTER looks past the right edge */
        rv->yc = malloc((size_t)sc->LW * sizeof *rv->yc);
        rv->hw = malloc((size_t)sc->LW * sizeof *rv->hw);
        if (!rv->yc || !rv->hw)
            return fail(CNP_E_NOMEM, "cannot allocate rivers");
        rv->ylo = INFINITY;
        rv->yhi = -INFINITY;
        for (int x = 0; x < sc->LW; x++) {
            rv->yc[x] = (float)(base + a1 * sin(2 * M_PI * x / l1 + p1)
                                     + a2 * sin(2 * M_PI * x / l2 + p2));
            rv->hw[x] = (float)(3.0 + 2.5 * (0.5 + 0.5 * sin(2 * M_PI * x / l3 + p3)));
            rv->ylo = fminf(rv->ylo, rv->yc[x] - rv->hw[x] - 1.0f);
            rv->yhi = fmaxf(rv->yhi, rv->yc[x] + rv->hw[x] + 1.0f);
        }
    }
    return CNP_OK;
}

static void scene_free(scene *sc)
{
    for (size_t i = 0; i < sc->nfeat; i++)
        bm_free(&sc->feat[i].bm);
    free(sc->feat);
    for (int r = 0; r < sc->nriv && sc->riv; r++) {
        free(sc->riv[r].yc);
        free(sc->riv[r].hw);
    }
    free(sc->riv);
    free(sc->res);
    free(sc->ghead);
    free(sc->gnext);
    free(sc->gres);
    free(sc->scr_f);
    free(sc->scr_cols);
    free(sc->scr_cls);
    free(sc->strip_off);
    free(sc->strip_idx);
    memset(sc, 0, sizeof *sc);
}

typedef struct plan {
    long n[K_COUNT];           /* requested, by the kind that names the group */
} plan;

static long scaled(double per_bench_scene, double f)
{
    return lround(per_bench_scene * f);
}

/* plan_ext() : the phenomenon scenarios, counts per 400 x 400 px scaled by
 * area (at least one of each kind a scenario has). */
static void plan_ext(const synth_opts *o, plan *p)
{
    static const struct { int scenario, kind, n; } PLAN[] = {
        { SC_HAZE, K_CLEARING, 6 },   { SC_HAZE, K_HAZE_CLEAR, 2 }, { SC_HAZE, K_HAZE_A, 2 },
        { SC_HAZE, K_SMOKE_A, 1 },    { SC_HAZE, K_THIN_A, 1 },     { SC_HAZE, K_BRIGHT, 2 },
        { SC_HAZE, K_CLOUD_A, 1 },
        { SC_SOIL, K_BRIGHT, 8 },     { SC_SOIL, K_CLEARING, 4 },   { SC_SOIL, K_HAZE_A, 1 },
        { SC_SOIL, K_PLOUGH, 1 },
        { SC_RADIOM, K_CLEARING, 8 }, { SC_RADIOM, K_DEGRADE, 10 }, { SC_RADIOM, K_SMALL, 2 },
        { SC_PHENO, K_CLEARING, 8 },  { SC_PHENO, K_SMALL, 2 },
        { SC_MISREG, K_CLEARING, 8 }, { SC_MISREG, K_PLOUGH, 1 },   { SC_MISREG, K_SMALL, 2 },
        { SC_FRINGE, K_FRINGE_A, 3 }, { SC_FRINGE, K_BESIDE, 3 },   { SC_FRINGE, K_CLEARING, 4 },
        { SC_GAPS, K_GAP_CLEAR, 8 },  { SC_GAPS, K_CLEARING, 4 },
        { SC_PASTURE, K_GREEN, 8 },   { SC_PASTURE, K_CLEARING, 4 }, { SC_PASTURE, K_DEGRADE, 3 },
        { SC_PASTURE, K_PLOUGH, 1 },
    };
    const double f = (double)o->width * (double)o->height / (400.0 * 400.0);

    for (size_t i = 0; i < sizeof PLAN / sizeof *PLAN; i++)
        if (PLAN[i].scenario == o->scenario) {
            const long n = lround(PLAN[i].n * f);

            p->n[PLAN[i].kind] = n > 0 ? n : 1;
        }
}

static void make_plan(const synth_opts *o, plan *p)
{
    const double f = (double)o->width * (double)o->height / BENCH_AREA;

    memset(p, 0, sizeof *p);
    switch (o->scenario) {
    case SC_SAMPLE:
        p->n[K_CLEARING] = 8;
        p->n[K_SMALL] = 3;
        p->n[K_PLOUGH] = 1;
        p->n[K_DEGRADE] = 1;
        p->n[K_UNDER_CLOUD] = 1;
        p->n[K_UNDER_SHADOW] = 1;
        p->n[K_CLOUD_B] = 1;
        p->n[K_CLOUD_A] = 1;
        p->n[K_CIRRUS_A] = 1;
        break;
    case SC_BENCH:
    case SC_NOISY:
        p->n[K_CLEARING] = scaled(3000, f) > 0 ? scaled(3000, f) : 1;
        p->n[K_SMALL] = scaled(750, f);
        p->n[K_PLOUGH] = scaled(60, f);
        p->n[K_DEGRADE] = scaled(60, f);
        p->n[K_UNDER_CLOUD] = scaled(6, f);
        p->n[K_UNDER_SHADOW] = scaled(6, f);
        p->n[K_CLOUD_B] = scaled(10, f);
        p->n[K_CLOUD_A] = scaled(10, f);
        p->n[K_CIRRUS_B] = scaled(2, f);
        p->n[K_CIRRUS_A] = scaled(3, f);
        if (o->scenario == SC_NOISY)
            p->n[K_SPECK] = scaled(100000, f);
        break;
    default:
        if (o->scenario >= SC_HAZE)
            plan_ext(o, p);
        break;
    }
    if (o->clearings >= 0)
        p->n[K_CLEARING] = o->clearings;
    if (o->no_mask) {          /* without masks nothing may be hidden */
        p->n[K_UNDER_CLOUD] = p->n[K_UNDER_SHADOW] = 0;
        p->n[K_CLOUD_B] = p->n[K_CLOUD_A] = p->n[K_CIRRUS_B] = p->n[K_CIRRUS_A] = 0;
        p->n[K_FRINGE_A] = p->n[K_BESIDE] = 0;
    }
}

/* the eight clearings of the sample scenario, in placement order */
static const struct sample_clearing {
    int shape, mode;
    double lo, hi;             /* target area, ha */
} SAMPLE_CLEARINGS[8] = {
    { S_RING,    P_ANY,  3.0, 6.0 },   /* forest island inside           */
    { S_BLOB,    P_TILE, 2.0, 5.0 },   /* across a tile corner           */
    { S_BLOB,    P_LEFT, 1.2, 3.0 },   /* touching the left or top edge  */
    { S_BLOB,    P_ANY,  4.0, 7.5 },
    { S_DIAG,    P_ANY,  1.0, 3.0 },   /* two parts meeting at a corner  */
    { S_L,       P_ANY,  1.0, 4.0 },
    { S_ROTRECT, P_ANY,  1.0, 3.0 },
    { S_RECT,    P_ANY,  0.6, 1.5 },
};

static void warn_short(const char *what, long got, long want)
{
    if (got < want)
        fprintf(stderr, PROG ": warning: placed %ld of %ld %s (scene too small or crowded)\n",
                got, want, what);
}

/* place_built() : group g as its builder left it (built: 1 made, 0 none could
 * be, -1 out of memory) placed with up to `tries` attempts; adds the number
 * placed (0 or 1) to *got. */
static cnp_status place_built(scene *sc, uint64_t *rp, group *g, int built, int tries, long *got)
{
    cnp_status st = CNP_OK;
    int r;

    if (built < 0)
        return fail(CNP_E_NOMEM, "out of memory building features");
    if (built == 0)
        return CNP_OK;
    r = place_group(sc, rp, g, tries, &st);
    if (r < 0)
        return st;
    *got += r;
    return CNP_OK;
}

/* plant_ext() : the phenomenon groups, before the ordinary features (they
 * are the largest). Streams of their own. */
static cnp_status plant_ext(scene *sc, const plan *p)
{
    static const int ORDER[] = { K_HAZE_CLEAR, K_HAZE_A, K_SMOKE_A, K_THIN_A, K_FRINGE_A,
                                 K_BESIDE, K_GAP_CLEAR, K_BRIGHT, K_GREEN };
    uint64_t rs = derive_key(sc->o->seed, 4);   /* shapes    */
    uint64_t rp = derive_key(sc->o->seed, 5);   /* positions */
    cnp_status st = CNP_OK;

    for (size_t k = 0; k < sizeof ORDER / sizeof *ORDER; k++) {
        const int kind = ORDER[k];
        long got = 0;

        for (long i = 0; i < p->n[kind]; i++) {
            group g;
            long placed = 0;
            int r;

            for (int attempt = 0; attempt < 8 && placed == 0; attempt++) {
                if (kind == K_HAZE_CLEAR)
                    r = haze_group(sc, &rs, (int[]){ K_HAZE_A, K_SMOKE_A }[i & 1], 1, &g);
                else if (kind == K_HAZE_A || kind == K_SMOKE_A || kind == K_THIN_A)
                    r = haze_group(sc, &rs, kind, 0, &g);
                else if (kind == K_FRINGE_A || kind == K_BESIDE)
                    r = fringe_group(sc, &rs, kind == K_FRINGE_A, kind == K_BESIDE, &g);
                else if (kind == K_GAP_CLEAR)
                    r = gap_group(sc, &rs, &g);
                else {
                    const int shape = random_shape(&rs);
                    bitmap bm = { 0 };

                    /* no rings: their forest island is not what is tested here */
                    r = loss_shape(sc, &rs, shape == S_RING ? S_BLOB : shape, P_ANY, 0.6, 8.0,
                                   0.7, 3.0, &bm);
                    if (r > 0 && single_group(kind, &bm, P_ANY, &g) < 0)
                        r = -1;
                }
                if ((st = place_built(sc, &rp, &g, r, 4000, &placed)) != CNP_OK)
                    return st;
            }
            got += placed;
        }
        warn_short(KINDS[kind].name, got, p->n[kind]);
    }
    return CNP_OK;
}

static cnp_status plant(scene *sc, const plan *p)
{
    const int sample = sc->o->scenario == SC_SAMPLE;
    /* bench and noisy are large and crowded; the others small and sparse */
    const int small = sc->o->scenario != SC_BENCH && sc->o->scenario != SC_NOISY;
    const int tries = small ? 4000 : 400;
    const double big = small ? 1.0 : 2.5;       /* bench clouds are larger */
    uint64_t rs = derive_key(sc->o->seed, 2);   /* shapes    */
    uint64_t rp = derive_key(sc->o->seed, 3);   /* positions */
    cnp_status st = CNP_OK;
    group g;
    long got;
    int r;

    for (int k = 0; k < 2; k++) {
        const int kind = k == 0 ? K_UNDER_SHADOW : K_UNDER_CLOUD;

        got = 0;
        for (long i = 0; i < p->n[kind]; i++) {
            r = hidden_group(sc, &rs, kind == K_UNDER_SHADOW, 8.0, &g);
            if ((st = place_built(sc, &rp, &g, r, tries, &got)) != CNP_OK)
                return st;
        }
        warn_short(KINDS[kind].name, got, p->n[kind]);
    }

    got = 0;
    for (long i = 0; i < p->n[K_CLEARING]; i++) {
        bitmap bm = { 0 };
        int shape = random_shape(&rs), mode = P_ANY;
        double lo = 0.6, hi = 8.0;

        if (sample && i < 8) {
            shape = SAMPLE_CLEARINGS[i].shape;
            mode = SAMPLE_CLEARINGS[i].mode;
            lo = SAMPLE_CLEARINGS[i].lo;
            hi = SAMPLE_CLEARINGS[i].hi;
            if (mode == P_LEFT && (rng_next(&rs) & 1))
                mode = P_TOP;
        } else if (shape == S_RING) {
            lo = 2.5;
        }
        /* a shape that finds no room is rebuilt smaller, up to 4 times */
        for (int round = 0; round < 4; round++, hi = fmax(lo, hi * 0.6)) {
            long placed = 0;

            r = loss_shape(sc, &rs, shape, mode, 0.6, 8.0, lo, hi, &bm);
            if (r > 0 && single_group(K_CLEARING, &bm, mode, &g) < 0)
                r = -1;
            if ((st = place_built(sc, &rp, &g, r, small ? tries / 2 : tries, &placed)) != CNP_OK)
                return st;
            if (placed) {
                got++;
                break;
            }
        }
    }
    warn_short("clearing", got, p->n[K_CLEARING]);

    for (int k = 0; k < 4; k++) {
        static const int kinds[4] = { K_CLOUD_B, K_CLOUD_A, K_CIRRUS_B, K_CIRRUS_A };
        const int kind = kinds[k];
        const int cirrus = kind == K_CIRRUS_B || kind == K_CIRRUS_A;
        const int after = kind == K_CLOUD_A || kind == K_CIRRUS_A;

        got = 0;
        for (long i = 0; i < p->n[kind]; i++) {
            r = cloud_group(&rs, after, cirrus, (cirrus ? 18.0 : 10.0) * big,
                            (cirrus ? 30.0 : 18.0) * big, &g);
            if ((st = place_built(sc, &rp, &g, r, tries, &got)) != CNP_OK)
                return st;
        }
        warn_short(KINDS[kind].name, got, p->n[kind]);
    }

    for (int k = 0; k < 2; k++) {
        const int kind = k == 0 ? K_PLOUGH : K_DEGRADE;

        got = 0;
        for (long i = 0; i < p->n[kind]; i++) {
            bitmap bm = { 0 };
            int dx = 0, dy = 0;

            if (make_shape(&rs, S_BLOB, ha_to_px(sc, rng_range(&rs, 1.0, k ? 5.0 : 3.0)), &bm) ||
                bm_crop(&bm, &dx, &dy))
                r = -1;
            else
                r = bm.px ? 1 : 0;
            if (r > 0 && single_group(kind, &bm, P_ANY, &g) < 0)
                r = -1;
            if ((st = place_built(sc, &rp, &g, r, tries, &got)) != CNP_OK)
                return st;
        }
        warn_short(KINDS[kind].name, got, p->n[kind]);
    }

    for (int k = 0; k < 2; k++) {
        const int kind = k == 0 ? K_SMALL : K_SPECK;
        /* expected 0: strictly below 0.5 ha whatever the pixel size */
        const double hi_ha = kind == K_SMALL ? 0.4 : fmin(0.4, 4.0 * sc->o->pixel * sc->o->pixel / HA);
        const double lo_ha = kind == K_SMALL ? 0.1 : 0.0;
        const int n_tries = kind == K_SPECK ? 100 : tries;

        got = 0;
        for (long i = 0; i < p->n[kind]; i++) {
            bitmap bm = { 0 };

            if (kind == K_SMALL) {
                r = loss_shape(sc, &rs, rng_unit(&rs) < 0.6 ? S_BLOB : S_RECT, P_ANY,
                               lo_ha, hi_ha, fmax(lo_ha, 0.12), 0.38, &bm);
            } else {
                const double maxpx = floor(ha_to_px(sc, hi_ha) + 1e-9);
                int dx = 0, dy = 0;

                r = 0;
                if (maxpx >= 1.0) {
                    if (make_shape(&rs, S_SPECK, maxpx, &bm) || bm_crop(&bm, &dx, &dy))
                        r = -1;
                    else
                        r = 1;
                }
            }
            if (r > 0 && single_group(kind, &bm, P_ANY, &g) < 0)
                r = -1;
            if ((st = place_built(sc, &rp, &g, r, n_tries, &got)) != CNP_OK)
                return st;
        }
        warn_short(KINDS[kind].name, got, p->n[kind]);
    }
    return CNP_OK;
}

static int feat_cmp(const void *pa, const void *pb)
{
    const feature *a = pa, *b = pb;

    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* bucket features by strip (a feature spanning strips is in each of them) */
static cnp_status build_strips(scene *sc)
{
    const int th = sc->o->tile;
    size_t total = 0;

    if (sc->nfeat > 1)   /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(sc->feat, sc->nfeat, sizeof *sc->feat, feat_cmp);
    sc->nstrips = (sc->H + th - 1) / th;
    sc->strip_off = calloc((size_t)sc->nstrips + 1, sizeof *sc->strip_off);
    if (!sc->strip_off)
        return fail(CNP_E_NOMEM, "cannot allocate strip index");
    for (size_t i = 0; i < sc->nfeat; i++) {
        const feature *f = &sc->feat[i];

        for (int s = f->y0 / th; s <= (f->y0 + f->bm.h - 1) / th; s++) {
            sc->strip_off[s + 1]++;
            total++;
        }
    }
    for (int s = 0; s < sc->nstrips; s++)
        sc->strip_off[s + 1] += sc->strip_off[s];
    sc->strip_idx = malloc((total ? total : 1) * sizeof *sc->strip_idx);
    if (!sc->strip_idx)
        return fail(CNP_E_NOMEM, "cannot allocate strip index");
    {
        size_t *fill = calloc((size_t)sc->nstrips, sizeof *fill);

        if (!fill)
            return fail(CNP_E_NOMEM, "cannot allocate strip index");
        for (size_t i = 0; i < sc->nfeat; i++) {
            const feature *f = &sc->feat[i];

            for (int s = f->y0 / th; s <= (f->y0 + f->bm.h - 1) / th; s++)
                sc->strip_idx[sc->strip_off[s] + fill[s]++] = i;
        }
        free(fill);
    }
    return CNP_OK;
}

/* ------------------------------------------------------------------------ */
/* Surface spectra (blue, green, red, nir reflectance), shared by every      */
/* scenario; the extended scenarios add SWIR and phenomena on top.          */

typedef struct cover {
    float ndvi, nir, green, blue;
} cover;

/* red_of(), nir_of() : the red (NIR) reflectance that gives `ndvi` beside
 * the NIR (red) one. */
static float red_of(float nir, float ndvi)
{
    return nir * (1.0f - ndvi) / (1.0f + ndvi);
}

static float nir_of(float red, float ndvi)
{
    return red * (1.0f + ndvi) / (1.0f - ndvi);
}

/* cover_of() : BEFORE's forest or pasture from the raw texture fields
 * (t1: forest, pt: pasture, unused for forest) and u = stretched fine texture. */
static cover cover_of(int c, float t1, float pt, float u)
{
    cover v;

    if (c == C_FOREST) {
        const float t = stretch(t1, 1.8f);

        v.ndvi = 0.72f + 0.18f * t;
        v.nir = 0.25f + 0.15f * (0.75f * t + 0.25f * u);
        const float red = red_of(v.nir, v.ndvi);
        v.green = 0.035f + 0.5f * red + 0.02f * u;
        v.blue = 0.012f + 0.3f * red + 0.008f * u;
    } else {
        const float p = stretch(pt, 1.8f);

        v.ndvi = 0.33f + 0.19f * p;
        v.nir = 0.22f + 0.08f * u;
        const float red = red_of(v.nir, v.ndvi);
        v.green = 0.06f + 0.4f * red;
        v.blue = 0.035f + 0.25f * red;
    }
    return v;
}

/* cover_bands() : BEFORE's blue, green, red, nir reflectance of cover cv. */
static void cover_bands(const cover *cv, float vb[4])
{
    vb[0] = cv->blue;
    vb[1] = cv->green;
    vb[2] = red_of(cv->nir, cv->ndvi);
    vb[3] = cv->nir;
}

/* water_of() : both dates of a water pixel (nir < red: NDVI < 0). */
static void water_of(float w, float vb[4], float va[4])
{
    vb[0] = 0.055f + 0.015f * w;
    vb[1] = 0.045f + 0.015f * w;
    vb[2] = 0.030f + 0.020f * w;
    vb[3] = 0.010f + 0.010f * w;
    va[0] = vb[0] * 1.01f;
    va[1] = vb[1] * 1.01f;
    va[2] = vb[2] * 1.02f;
    va[3] = vb[3] * 0.98f;
}

/* soil_after() : bare soil, NDVI 0.08..0.25 (so: raw soil field). */
static void soil_after(float so, float u, float va[4])
{
    const float s = stretch(so, 1.6f);
    const float red = 0.08f + 0.04f * s, ns = 0.08f + 0.17f * u;

    va[0] = 0.045f + 0.4f * (red - 0.08f);
    va[1] = 0.065f + 0.6f * (red - 0.08f) + 0.01f * u;
    va[2] = red;
    va[3] = nir_of(red, ns);
}

/* veg_after() : vegetation after an NDVI drift d (season) plus e (degradation). */
static void veg_after(const cover *cv, float d, float e, float va[4])
{
    const float na = cv->ndvi - d - e;
    const float nira = cv->nir * (1.0f - 0.6f * d - 0.8f * e);

    va[0] = cv->blue * (1.0f + 0.5f * d + e);
    va[1] = cv->green * (1.0f + d + e);
    va[2] = red_of(nira, na);
    va[3] = nira;
}

/* scl_of() : the SCL code of a pixel under atmosphere code `atmo` (A_NONE:
 * clear) over land class c, where no bare soil is new. */
static uint8_t scl_of(int atmo, int c)
{
    return atmo ? SCL_OF_ATMO[atmo] : c == C_WATER ? SCL_WATER : SCL_VEG;
}

/* pixel_key() : the noise hashes' key of canvas pixel (x, y). */
static uint64_t pixel_key(int x, int y)
{
    return ((uint64_t)(uint32_t)y << 32) | (uint32_t)x;
}

/* ------------------------------------------------------------------------ */
/* Rendering one strip                                                      */

typedef struct strip {
    int ytop, rows;
    size_t plane;              /* W * tile, elements: one output band       */
    size_t lplane;             /* LW * (tile + HALO): one feature layer     */
    uint8_t *ground, *atmo_b, *atmo_a, *dens_a;   /* layers, row stride LW  */
    uint16_t *sb, *sa;         /* nb planes each: blue, green, red, nir[, swir1, swir2] */
    uint16_t *sk;              /* baselines: nbase x nb planes              */
    uint8_t *mb, *ma, *tr, *mk;   /* masks, truth; mk: nbase planes         */
} strip;

/* rasterize_features() : the layers of strip s, and for a shifted AFTER the
 * HALO rows below it too (features of the next strip reach into them). */
static void rasterize_features(const scene *sc, strip *st, int s)
{
    const int LW = sc->LW;
    const int yend = st->ytop + st->rows + (sc->shifted ? HALO : 0);

    memset(st->ground, 0, st->lplane);
    memset(st->atmo_b, 0, st->lplane);
    memset(st->atmo_a, 0, st->lplane);
    memset(st->dens_a, 0, st->lplane);
    for (int t = s; t <= s + (sc->shifted ? 1 : 0) && t < sc->nstrips; t++)
        for (size_t k = sc->strip_off[t]; k < sc->strip_off[t + 1]; k++) {
            const feature *f = &sc->feat[sc->strip_idx[k]];
            const struct kind_info *ki = &KINDS[f->kind];
            uint8_t *layer = ki->layer == L_GROUND ? st->ground
                           : ki->layer == L_ATMO_B ? st->atmo_b : st->atmo_a;
            const int ja = imax(0, st->ytop - f->y0);
            const int jb = imin(f->bm.h, yend - f->y0);

            for (int j = ja; j < jb; j++) {
                const uint8_t *src = f->bm.px + (size_t)j * f->bm.w;
                const size_t at = (size_t)(f->y0 + j - st->ytop) * LW + f->x0;
                uint8_t *dst = layer + at;

                for (int i = 0; i < f->bm.w; i++) {
                    if (!src[i])
                        continue;
                    if (ki->code >= A_HAZE && ki->layer != L_GROUND) {
                        dst[i] = (uint8_t)ki->code;
                        st->dens_a[at + i] = src[i];
                    } else {
                        dst[i] = (uint8_t)(ki->code + (ki->layer != L_GROUND && ki->code == A_CLOUD_MED
                                                      ? src[i] - 1 : 0));
                    }
                }
            }
        }
}

/* the cloud top seen from above: bright, flat spectrum, NDVI ~0.02..0.09 */
static void apply_atmo(float v[4], int code, float ctex, float u)
{
    switch (code) {
    case A_SHADOW:
        v[0] *= 0.40f;
        v[1] *= 0.38f;
        v[2] *= 0.36f;
        v[3] *= 0.33f;
        break;
    case A_CIRRUS:
        v[0] += 0.05f;
        v[1] += 0.04f;
        v[2] += 0.03f;
        v[3] += 0.025f;
        break;
    case A_CLOUD_MED:
    case A_CLOUD_HIGH: {
        const float alpha = code == A_CLOUD_HIGH ? 1.0f : 0.75f;
        const float red = 0.30f + 0.18f * ctex, nc = 0.02f + 0.07f * u;
        const float cl[4] = { red + 0.035f, red + 0.015f, red, nir_of(red, nc) };

        for (int b = 0; b < 4; b++)
            v[b] = alpha * cl[b] + (1.0f - alpha) * v[b];
        break;
    }
    default:
        break;
    }
}

/* dn_row() : DN = reflectance x 10000 x (1 + NOISE_REL e), e uniform in
 * [-1, 1] from a 16-bit noise word, rounded, kept in [1, 65535] (0 = nodata). */
static void dn_row(const float *v, const uint16_t *noise, uint16_t *out, int n)
{
    for (int i = 0; i < n; i++) {
        const float e = (float)noise[i] * (2.0f / 65535.0f) - 1.0f;
        const float f = v[i] * 10000.0f * (1.0f + NOISE_REL * e) + 0.5f;

        out[i] = f < 1.0f ? 1 : f >= 65535.0f ? 65535 : (uint16_t)f;
    }
}

typedef struct row_scratch {
    float *pas, *t1, *t2, *pt, *se, *wa, *so, *ct, *dg, *cols;
    float *fb, *fa;            /* 4 x W reflectances, BEFORE and AFTER */
    uint16_t *nb, *na;         /* 4 x W noise words */
    uint8_t *cls;
} row_scratch;

static void render_row(const scene *sc, const strip *st, int r, const row_scratch *rs,
                       long counts[3])
{
    const int W = sc->W, y = st->ytop + r;
    const size_t base = (size_t)r * W, lbase = (size_t)r * sc->LW;
    const uint8_t *ground = st->ground + lbase, *ab = st->atmo_b + lbase, *aa = st->atmo_a + lbase;
    uint16_t *sb[4], *sa[4];
    int any_soil = 0, any_cloud = 0, any_degr = 0, any_pas = 0, any_wat = 0;

    for (int b = 0; b < 4; b++) {
        sb[b] = st->sb + (size_t)b * st->plane;
        sa[b] = st->sa + (size_t)b * st->plane;
    }
    field_row(&sc->f_pasture, y, 0, W, rs->pas, rs->cols);
    land_row(sc, y, 0, W, rs->pas, rs->cls);
    field_row(&sc->f_tex1, y, 0, W, rs->t1, rs->cols);
    field_row(&sc->f_tex2, y, 0, W, rs->t2, rs->cols);
    field_row(&sc->f_season, y, 0, W, rs->se, rs->cols);
    for (int x = 0; x < W; x++) {
        any_pas |= rs->cls[x] == C_PASTURE;
        any_wat |= rs->cls[x] == C_WATER;
        any_soil |= ground[x] == G_LOSS || ground[x] == G_SOIL;
        any_degr |= ground[x] == G_DEGRADE;
        any_cloud |= ab[x] >= A_CLOUD_MED || aa[x] >= A_CLOUD_MED;
    }
    if (any_pas)
        field_row(&sc->f_ptex, y, 0, W, rs->pt, rs->cols);
    if (any_wat)
        field_row(&sc->f_water, y, 0, W, rs->wa, rs->cols);
    if (any_soil)
        field_row(&sc->f_soil, y, 0, W, rs->so, rs->cols);
    if (any_cloud)
        field_row(&sc->f_cloud, y, 0, W, rs->ct, rs->cols);
    if (any_degr)
        field_row(&sc->f_degr, y, 0, W, rs->dg, rs->cols);

    for (int x = 0; x < W; x++) {
        const size_t k = base + (size_t)x;
        const int c = rs->cls[x], g = ground[x];
        const float u = stretch(rs->t2[x], 1.8f);
        const float d = 0.04f + 0.03f * stretch(rs->se[x], 1.6f);   /* seasonal drop */
        const uint64_t pix = pixel_key(x, y);
        float vb[4], va[4];    /* blue, green, red, nir reflectance */

        counts[c]++;
        if (c == C_WATER) {
            water_of(rs->wa[x], vb, va);
        } else {
            const cover cv = cover_of(c, rs->t1[x], c == C_PASTURE ? rs->pt[x] : 0.0f, u);

            cover_bands(&cv, vb);
            if (g == G_LOSS || g == G_SOIL)
                soil_after(rs->so[x], u, va);
            else
                veg_after(&cv, d, g == G_DEGRADE ? 0.09f + 0.03f * rs->dg[x] : 0.0f, va);
        }
        apply_atmo(vb, ab[x], any_cloud ? rs->ct[x] : 0.0f, u);
        apply_atmo(va, aa[x], any_cloud ? rs->ct[x] : 0.0f, u);
        {
            const uint64_t hb = mix64(sc->key_noise_b + pix), ha = mix64(sc->key_noise_a + pix);

            for (int b = 0; b < 4; b++) {
                rs->fb[(size_t)b * W + x] = vb[b];
                rs->fa[(size_t)b * W + x] = va[b];
                rs->nb[(size_t)b * W + x] = (uint16_t)(hb >> (16 * b));
                rs->na[(size_t)b * W + x] = (uint16_t)(ha >> (16 * b));
            }
        }

        st->mb[k] = scl_of(ab[x], c);
        st->ma[k] = aa[x] ? SCL_OF_ATMO[aa[x]] : c == C_WATER ? SCL_WATER
                  : (g == G_LOSS || g == G_SOIL) ? SCL_BARE : SCL_VEG;
        st->tr[k] = g == G_LOSS;
    }
    for (int b = 0; b < 4; b++) {
        dn_row(rs->fb + (size_t)b * W, rs->nb + (size_t)b * W, sb[b] + base, W);
        dn_row(rs->fa + (size_t)b * W, rs->na + (size_t)b * W, sa[b] + base, W);
    }
    for (int x = W - sc->collar; x < W; x++) {    /* nodata collar, after only */
        for (int b = 0; b < 4; b++)
            sa[b][base + x] = 0;
        st->ma[base + x] = SCL_NODATA;
    }
}

/* ------------------------------------------------------------------------ */
/* The phenomenon scenarios: six bands, SWIR, unflagged atmosphere, another  */
/* sensor, dry season, shifted AFTER, SLC-off gaps.                         */

/* SWIR 1.6 and 2.2 um of BEFORE's forest (dense canopy: darker where the NIR
 * is brighter) or pasture. */
static void swir_of(int c, float t1, float pt, float u, float sw[2])
{
    if (c == C_FOREST) {
        const float t = stretch(t1, 1.8f);

        sw[0] = 0.10f + 0.04f * (1.0f - t) + 0.02f * u;
        sw[1] = 0.040f + 0.025f * (1.0f - t) + 0.01f * u;
    } else {
        const float p = stretch(pt, 1.8f);

        sw[0] = 0.27f - 0.05f * p + 0.02f * u;
        sw[1] = 0.17f - 0.05f * p + 0.015f * u;
    }
}

/* bright_after() : bright, whitish bare soil (sand, kaolinite): red
 * 0.20..0.30 with blue at 0.75 x red - above the clear line, so a HOT test
 * alone calls it hazy - and SWIR2 at 1.3..1.6 x red, which says it is the
 * ground. NDVI ~0.11. */
static void bright_after(float so, float va[6])
{
    const float s = stretch(so, 1.6f);
    const float red = 0.20f + 0.10f * s;

    va[0] = 0.75f * red;
    va[1] = 0.88f * red;
    va[2] = red;
    va[3] = 1.25f * red;
    va[4] = 0.40f + 0.08f * s;
    va[5] = 0.33f + 0.07f * s;
}

/* green_after() : forest turned into green pasture: NDVI 0.62..0.70 (0.10
 * to 0.20 below the forest it was) less the season's drift d, as the rest
 * of the scene; SWIR up by ~2x. */
static void green_after(float t1, float u, float d, float va[6])
{
    const float t = stretch(t1, 1.8f);
    const float ndvi = 0.62f + 0.08f * t - d, nir = (0.28f + 0.04f * u) * (1.0f - 0.6f * d);
    const float red = red_of(nir, ndvi);

    va[0] = 0.035f + 0.25f * red;
    va[1] = 0.06f + 0.45f * red;
    va[2] = red;
    va[3] = nir;
    va[4] = 0.21f + 0.04f * (1.0f - u);
    va[5] = 0.13f + 0.03f * (1.0f - u);
}

/* dry_drop() : NDVI drop of the dry season: deciduous forest (dec 0..1)
 * sheds its leaves, pasture dries; yv scales a year. */
static float dry_drop(int c, float dec, float yv)
{
    return c == C_FOREST ? (0.05f + 0.30f * dec) * yv : 0.15f * yv;
}

/* Haze, smoke, thin cloud: v = v (1 - T s) + P s at strength s = S x density
 * (path radiance P falls with wavelength, SWIR is almost untouched, except
 * under thin cloud). */
static const float HZ_P[3][6] = {
    { 0.075f, 0.060f, 0.045f, 0.028f, 0.006f, 0.002f },   /* haze       */
    { 0.090f, 0.070f, 0.055f, 0.025f, 0.005f, 0.002f },   /* smoke      */
    { 0.100f, 0.095f, 0.090f, 0.085f, 0.060f, 0.045f },   /* thin cloud */
};
static const float HZ_T[3][6] = {
    { 0.20f, 0.17f, 0.14f, 0.10f, 0.03f, 0.01f },
    { 0.25f, 0.22f, 0.18f, 0.13f, 0.04f, 0.02f },
    { 0.25f, 0.25f, 0.25f, 0.23f, 0.18f, 0.15f },
};
static const float HZ_S[3] = { 1.35f, 1.4f, 1.0f };

/* apply_atmo6() : apply_atmo() on six bands, and the unflagged codes with
 * their density (1..255). */
static void apply_atmo6(float v[6], int code, float ctex, float u, int dens)
{
    const float red = 0.30f + 0.18f * ctex, nc = 0.02f + 0.07f * u;
    const float cl[6] = { red + 0.035f, red + 0.015f, red, nir_of(red, nc),
                          0.8f * red, 0.55f * red };

    if (code < A_HAZE) {
        apply_atmo(v, code, ctex, u);
        if (code == A_SHADOW) {
            v[4] *= 0.30f;
            v[5] *= 0.28f;
        } else if (code == A_CIRRUS) {
            v[4] += 0.02f;
            v[5] += 0.012f;
        } else if (code == A_CLOUD_MED || code == A_CLOUD_HIGH) {
            const float alpha = code == A_CLOUD_HIGH ? 1.0f : 0.75f;

            v[4] = alpha * cl[4] + (1.0f - alpha) * v[4];
            v[5] = alpha * cl[5] + (1.0f - alpha) * v[5];
        }
        return;
    }
    const float a = (float)dens / 255.0f;
    if (code == A_FRINGE) {          /* the cloud thinning out: a blend */
        const float alpha = 0.6f * a;

        for (int b = 0; b < 6; b++)
            v[b] = alpha * cl[b] + (1.0f - alpha) * v[b];
        return;
    }
    const int h = code - A_HAZE;
    const float st = HZ_S[h] * a;
    for (int b = 0; b < 6; b++)
        v[b] = v[b] * (1.0f - HZ_T[h][b] * st) + HZ_P[h][b] * st;
}

/* radiometry: AFTER from another sensor (gain per band) under an aerosol
 * gradient west to east (gain slope); forest NDVI drops by ~0.03..0.05. */
static const float RAD_G0[6] = { 1.10f, 1.06f, 1.07f, 0.97f, 0.98f, 1.00f };
static const float RAD_G1[6] = { 0.04f, 0.03f, 0.04f, -0.02f, 0.0f, 0.0f };
static const float RAD_O[6] = { 0.006f, 0.004f, 0.003f, 0.0f, 0.0f, 0.0f };

enum { EF_PAS, EF_T1, EF_T2, EF_SE, EF_PT, EF_WA, EF_SO, EF_CT, EF_DG, EF_DEC, EF_N };
enum { WANT_B = 1, WANT_A = 2, WANT_K = 4 };

typedef struct ext_rows {      /* one canvas row, columns from its x0      */
    float *vb, *va, *vk;       /* nb x LW; nb x LW; nbase x nb x LW        */
    uint8_t *sclb, *scla, *sclk, *tru;    /* LW; LW; nbase x LW; LW        */
} ext_rows;

typedef struct ext_scratch {   /* per thread                               */
    float *f[EF_N], *yr[MAX_BASE], *bc[MAX_BASE], *cols;
    uint8_t *cls;
    ext_rows row, s0, s1;      /* the row; AFTER's two source rows (shift) */
    float *fo;                 /* one band row on its way to DNs           */
    uint16_t *no;
} ext_scratch;

/* ext_pixel() : both dates (and the baselines) of pixel i of the row. */
static void ext_pixel(const scene *sc, const ext_scratch *e, int i, int g, int want,
                      float vb[6], float va[6], float vk[MAX_BASE][6], int *soil_a)
{
    float *const *f = e->f;
    const int c = e->cls[i], scen = sc->o->scenario;
    const float u = stretch(f[EF_T2][i], 1.8f);

    *soil_a = 0;
    if (c == C_WATER) {
        water_of(f[EF_WA][i], vb, va);
        vb[4] = va[4] = 0.012f + 0.004f * f[EF_WA][i];
        vb[5] = va[5] = 0.007f + 0.003f * f[EF_WA][i];
        for (int k = 0; want & WANT_K && k < sc->nbase; k++)
            memcpy(vk[k], va, 6 * sizeof *va);
        return;
    }
    const float pt = c == C_PASTURE ? f[EF_PT][i] : 0.0f;
    const cover cv = cover_of(c, f[EF_T1][i], pt, u);
    const float dec = stretch(f[EF_DEC][i], 2.0f);
    const float dd = scen == SC_PHENO ? dry_drop(c, dec, 1.0f)
                                      : 0.04f + 0.03f * stretch(f[EF_SE][i], 1.6f);
    const float e_ = g != G_DEGRADE ? 0.0f
                   : scen == SC_RADIOM ? 0.12f + 0.05f * f[EF_DG][i] : 0.09f + 0.03f * f[EF_DG][i];

    cover_bands(&cv, vb);
    swir_of(c, f[EF_T1][i], pt, u, vb + 4);
    if (g == G_LOSS || g == G_SOIL) {
        const float s = stretch(f[EF_SO][i], 1.6f);

        soil_after(f[EF_SO][i], u, va);
        va[4] = 0.24f + 0.08f * s;
        va[5] = 0.17f + 0.08f * s;
        *soil_a = 1;
    } else if (g == G_BRIGHT) {
        bright_after(f[EF_SO][i], va);
        *soil_a = 1;
    } else if (g == G_GREEN) {
        green_after(f[EF_T1][i], u, dd, va);
    } else {
        veg_after(&cv, dd, e_, va);
        va[4] = vb[4] * (1.0f + 1.5f * dd + 2.0f * e_);
        va[5] = vb[5] * (1.0f + 1.5f * dd + 2.0f * e_);
    }
    /* baselines: earlier dry seasons, before any planted change */
    for (int k = 0; want & WANT_K && k < sc->nbase; k++) {
        const float dk = dry_drop(c, dec, 0.92f + 0.16f * e->yr[k][i]);

        veg_after(&cv, dk, 0.0f, vk[k]);
        vk[k][4] = vb[4] * (1.0f + 1.5f * dk);
        vk[k][5] = vb[5] * (1.0f + 1.5f * dk);
    }
}

/* ext_row() : the model on canvas row y, columns [x0, x0 + n), into *o
 * (index 0 = column x0): reflectances of the dates in `want`, SCL codes and
 * the truth; counts land classes when counts is not NULL. The strip's
 * layers must hold row y (y - ytop < rows + HALO) and columns < LW. */
static void ext_row(const scene *sc, const strip *st, int y, int x0, int n, int want,
                    const ext_scratch *e, const ext_rows *o, long counts[3])
{
    const int LW = sc->LW, nb = sc->nb;
    const size_t lb = (size_t)(y - st->ytop) * LW + (size_t)x0;
    const uint8_t *ground = st->ground + lb, *ab = st->atmo_b + lb, *aa = st->atmo_a + lb;
    const uint8_t *dens = st->dens_a + lb;
    const field *fl[EF_N] = { &sc->f_pasture, &sc->f_tex1, &sc->f_tex2, &sc->f_season,
                              &sc->f_ptex, &sc->f_water, &sc->f_soil, &sc->f_cloud,
                              &sc->f_degr, &sc->f_decid };

    for (int k = 0; k < EF_N; k++)
        field_row(fl[k], y, x0, n, e->f[k], e->cols);
    land_row(sc, y, x0, n, e->f[EF_PAS], e->cls);
    for (int k = 0; want & WANT_K && k < sc->nbase; k++) {
        field_row(&sc->f_year[k], y, x0, n, e->yr[k], e->cols);
        field_row(&sc->f_bcloud[k], y, x0, n, e->bc[k], e->cols);
    }
    for (int i = 0; i < n; i++) {
        const int c = e->cls[i], g = ground[i];
        const float u = stretch(e->f[EF_T2][i], 1.8f), ctex = e->f[EF_CT][i];
        float vb[6], va[6], vk[MAX_BASE][6];
        int soil_a;

        if (counts)
            counts[c]++;
        ext_pixel(sc, e, i, g, want, vb, va, vk, &soil_a);
        apply_atmo6(vb, ab[i], ctex, u, 0);
        apply_atmo6(va, aa[i], ctex, u, dens[i]);
        if (sc->o->scenario == SC_RADIOM) {
            const float xn = ((float)(x0 + i) + 0.5f) / (float)sc->W;

            for (int b = 0; b < 6; b++)
                va[b] = va[b] * (RAD_G0[b] + RAD_G1[b] * xn) + RAD_O[b];
        }
        for (int b = 0; b < nb; b++) {
            o->vb[(size_t)b * LW + i] = vb[b];
            o->va[(size_t)b * LW + i] = va[b];
        }
        o->sclb[i] = scl_of(ab[i], c);
        o->scla[i] = aa[i] && aa[i] < A_HAZE ? SCL_OF_ATMO[aa[i]] : c == C_WATER ? SCL_WATER
                   : soil_a ? SCL_BARE : SCL_VEG;
        o->tru[i] = g == G_LOSS || g == G_BRIGHT || g == G_GREEN;
        for (int k = 0; want & WANT_K && k < sc->nbase; k++) {
            /* procedural clouds, flagged in the baseline's mask */
            const float cv = stretch(e->bc[k][i], 1.6f);
            const int code = sc->o->no_mask ? A_NONE : cv > 0.86f ? A_CLOUD_HIGH
                           : cv > 0.80f ? A_CLOUD_MED : A_NONE;

            apply_atmo6(vk[k], code, e->bc[k][i], u, 0);
            for (int b = 0; b < nb; b++)
                o->vk[((size_t)k * nb + b) * LW + i] = vk[k][b];
            o->sclk[(size_t)k * LW + i] = scl_of(code, c);
        }
    }
}

/* shift_after() : AFTER at (x + sx + fx, y + sy + fy) from its two source
 * rows: reflectances bilinear, SCL codes from the nearest pixel. */
static void shift_after(const scene *sc, const ext_scratch *e)
{
    const int W = sc->W, LW = sc->LW;
    const float fx = sc->fx, fy = sc->fy;

    for (int b = 0; b < sc->nb; b++) {
        const float *r0 = e->s0.va + (size_t)b * LW, *r1 = e->s1.va + (size_t)b * LW;
        float *out = e->row.va + (size_t)b * LW;

        for (int x = 0; x < W; x++)
            out[x] = (1.0f - fy) * ((1.0f - fx) * r0[x] + fx * r0[x + 1]) +
                     fy * ((1.0f - fx) * r1[x] + fx * r1[x + 1]);
    }
    for (int x = 0; x < W; x++)
        e->row.scla[x] = (fy < 0.5f ? e->s0.scla : e->s1.scla)[fx < 0.5f ? x : x + 1];
}

/* dn_plane_row() : band b of a row of reflectances (stride LW) into DNs,
 * noise from two 64-bit hashes of the output pixel (4 words each). */
static void dn_plane_row(const scene *sc, const ext_scratch *e, const float *v, int y, int b,
                         uint64_t key, uint64_t key2, uint16_t *out)
{
    for (int x = 0; x < sc->W; x++) {
        const uint64_t pix = pixel_key(x, y);
        const uint64_t h = mix64((b < 4 ? key : key2) + pix);

        e->fo[x] = v[x];
        e->no[x] = (uint16_t)(h >> (16 * (b & 3)));
    }
    dn_row(e->fo, e->no, out, sc->W);
}

/* render_row_ext() : row r of the strip, phenomenon scenarios. */
static void render_row_ext(const scene *sc, const strip *st, int r, const ext_scratch *e,
                           long counts[3])
{
    const int W = sc->W, LW = sc->LW, nb = sc->nb, y = st->ytop + r;
    const size_t base = (size_t)r * W;

    ext_row(sc, st, y, 0, W, WANT_B | WANT_A | (sc->nbase ? WANT_K : 0), e, &e->row, counts);
    if (sc->shifted) {
        ext_row(sc, st, y + sc->sy, sc->sx, W + 1, WANT_A, e, &e->s0, NULL);
        ext_row(sc, st, y + sc->sy + 1, sc->sx, W + 1, WANT_A, e, &e->s1, NULL);
        shift_after(sc, e);
    }
    for (int b = 0; b < nb; b++) {
        dn_plane_row(sc, e, e->row.vb + (size_t)b * LW, y, b, sc->key_noise_b, sc->key_noise_b2,
                     st->sb + (size_t)b * st->plane + base);
        dn_plane_row(sc, e, e->row.va + (size_t)b * LW, y, b, sc->key_noise_a, sc->key_noise_a2,
                     st->sa + (size_t)b * st->plane + base);
        for (int k = 0; k < sc->nbase; k++)
            dn_plane_row(sc, e, e->row.vk + ((size_t)k * nb + b) * LW, y, b, sc->key_noise_k[k],
                         sc->key_noise_k2[k], st->sk + ((size_t)k * nb + b) * st->plane + base);
    }
    memcpy(st->mb + base, e->row.sclb, (size_t)W);
    memcpy(st->ma + base, e->row.scla, (size_t)W);
    memcpy(st->tr + base, e->row.tru, (size_t)W);
    for (int k = 0; k < sc->nbase; k++)
        memcpy(st->mk + (size_t)k * st->plane + base, e->row.sclk + (size_t)k * LW, (size_t)W);
    for (int x = 0; x < W; x++) {
        /* SLC-off gaps, then the collar: no data in AFTER, nothing to expect */
        if ((sc->o->scenario == SC_GAPS && slc_gap(sc, x, y)) || x >= W - sc->collar) {
            for (int b = 0; b < nb; b++)
                st->sa[(size_t)b * st->plane + base + x] = 0;
            st->ma[base + x] = SCL_NODATA;
            st->tr[base + x] = 0;
        }
    }
}

/* ext_scratch_alloc() : per-thread scratch of render_row_ext(), one block. */
static int ext_scratch_alloc(const scene *sc, int nthreads, ext_scratch **pe, float **pf,
                             uint8_t **pb, uint16_t **pn)
{
    const size_t LW = (size_t)sc->LW, nb = (size_t)sc->nb, K = (size_t)sc->nbase;
    const size_t rowf = (2 + K) * nb * LW, rowb = (3 + K) * LW;
    const size_t perf = (EF_N + 2 * MAX_BASE + 1) * LW + LW / 2 + 4 + 3 * rowf;
    const size_t perb = LW + 3 * rowb;
    ext_scratch *es = calloc((size_t)nthreads, sizeof *es);
    float *f = malloc((size_t)nthreads * perf * sizeof *f);
    uint8_t *bytes = malloc((size_t)nthreads * perb);
    uint16_t *noise = malloc((size_t)nthreads * LW * sizeof *noise);

    *pe = es;
    *pf = f;
    *pb = bytes;
    *pn = noise;
    if (!es || !f || !bytes || !noise)
        return -1;
    for (int t = 0; t < nthreads; t++) {
        ext_scratch *e = &es[t];
        float *p = f + (size_t)t * perf;
        uint8_t *q = bytes + (size_t)t * perb;
        ext_rows *rows[3] = { &e->row, &e->s0, &e->s1 };

        for (int k = 0; k < EF_N; k++, p += LW)
            e->f[k] = p;
        for (int k = 0; k < MAX_BASE; k++, p += 2 * LW) {
            e->yr[k] = p;
            e->bc[k] = p + LW;
        }
        e->fo = p;
        p += LW;
        e->cols = p;
        p += LW / 2 + 4;
        e->cls = q;
        q += LW;
        for (int j = 0; j < 3; j++) {
            rows[j]->vb = p;
            rows[j]->va = p + nb * LW;
            rows[j]->vk = p + 2 * nb * LW;
            p += rowf;
            rows[j]->sclb = q;
            rows[j]->scla = q + LW;
            rows[j]->tru = q + 2 * LW;
            rows[j]->sclk = q + 3 * LW;
            q += rowb;
        }
        e->no = noise + (size_t)t * LW;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* GDAL output                                                              */

/* Output files: the rasters, then truth.csv at OUT_NRASTER. Baselines k
 * (phenology) are OUT_BASE + k and their masks OUT_BASE_MASK + k. */
enum { OUT_BEFORE, OUT_AFTER, OUT_MASK_B, OUT_MASK_A, OUT_TRUTH, OUT_BASE,
       OUT_BASE_MASK = OUT_BASE + MAX_BASE, OUT_NRASTER = OUT_BASE_MASK + MAX_BASE };

static void out_name(int i, char *buf, size_t n)
{
    static const char *const FIXED[OUT_BASE] = {
        "before.tif", "after.tif", "before_mask.tif", "after_mask.tif", "truth_loss.tif"
    };

    if (i < OUT_BASE)
        snprintf(buf, n, "%s", FIXED[i]);
    else if (i < OUT_BASE_MASK)
        snprintf(buf, n, "baseline%d.tif", i - OUT_BASE + 1);
    else if (i < OUT_NRASTER)
        snprintf(buf, n, "baseline%d_mask.tif", i - OUT_BASE_MASK + 1);
    else
        snprintf(buf, n, "truth.csv");
}

/* out_active() : whether this run writes output i. */
static int out_active(const scene *sc, int i)
{
    const int masks = !sc->o->no_mask;

    if (i == OUT_MASK_B || i == OUT_MASK_A)
        return masks;
    if (i >= OUT_BASE && i < OUT_BASE_MASK)
        return i - OUT_BASE < sc->nbase;
    if (i >= OUT_BASE_MASK && i < OUT_NRASTER)
        return masks && i - OUT_BASE_MASK < sc->nbase;
    return 1;
}

static cnp_status create_raster(const scene *sc, const char *path, const char *name,
                                int nbands, GDALDataType dt, int predictor,
                                OGRSpatialReferenceH srs, int nthreads, GDALDatasetH *out)
{
    const synth_opts *o = sc->o;
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    char **co = NULL;
    char buf[32];
    double gt[6];

    *out = NULL;
    if (!drv)
        return fail(CNP_E_IO, "GDAL has no GTiff driver");
    snprintf(buf, sizeof buf, "%d", o->tile);
    co = CSLSetNameValue(co, "TILED", "YES");
    co = CSLSetNameValue(co, "BLOCKXSIZE", buf);
    co = CSLSetNameValue(co, "BLOCKYSIZE", buf);
    co = CSLSetNameValue(co, "COMPRESS", o->compress);
    if (predictor && strcmp(o->compress, "NONE"))
        co = CSLSetNameValue(co, "PREDICTOR", "2");
    /* the bounded per-pixel noise makes the low bits incompressible: level 1
     * is ~2x faster than the default 6 and no larger on these scenes */
    if (predictor && !strcmp(o->compress, "DEFLATE"))
        co = CSLSetNameValue(co, "ZLEVEL", "1");
    if (nbands > 1)
        co = CSLSetNameValue(co, "INTERLEAVE", "PIXEL");
    co = CSLSetNameValue(co, "BIGTIFF", "IF_SAFER");
    if (nthreads >= 4 && strcmp(o->compress, "NONE")) {
        /* GDAL still writes the compressed tiles in submission order. With
         * fewer cores its workers only fight the render threads. */
        snprintf(buf, sizeof buf, "%d", nthreads / 2);
        co = CSLSetNameValue(co, "NUM_THREADS", buf);
    }
    CPLErrorReset();
    *out = GDALCreate(drv, path, sc->W, sc->H, nbands, dt, co);
    CSLDestroy(co);
    if (!*out)
        return fail(CNP_E_IO, "cannot create '%s': %s", name, CPLGetLastErrorMsg());

    gt[0] = o->origin_x;
    gt[1] = o->pixel;
    gt[2] = 0.0;
    gt[3] = o->origin_y;
    gt[4] = 0.0;
    gt[5] = -o->pixel;
    if (GDALSetGeoTransform(*out, gt) != CE_None || GDALSetSpatialRef(*out, srs) != CE_None)
        return fail(CNP_E_IO, "cannot georeference '%s': %s", name, CPLGetLastErrorMsg());
    return CNP_OK;
}

static cnp_status describe_scene(GDALDatasetH ds, const char *name, const char *date,
                                 const char *generator, int nb)
{
    static const char *const bands[6] = { "blue", "green", "red", "nir", "swir1", "swir2" };

    if (GDALSetMetadataItem(ds, "ACQUISITION_DATE", date, NULL) != CE_None ||
        GDALSetMetadataItem(ds, "GENERATOR", generator, NULL) != CE_None)
        return fail(CNP_E_IO, "cannot set metadata of '%s': %s", name, CPLGetLastErrorMsg());
    for (int b = 0; b < nb; b++) {
        GDALRasterBandH hBand = GDALGetRasterBand(ds, b + 1);

        GDALSetDescription(hBand, bands[b]);
        if (GDALSetRasterNoDataValue(hBand, 0.0) != CE_None ||
            GDALSetRasterScale(hBand, 1e-4) != CE_None ||
            GDALSetRasterOffset(hBand, 0.0) != CE_None)
            return fail(CNP_E_IO, "cannot set band metadata of '%s': %s", name,
                        CPLGetLastErrorMsg());
    }
    return CNP_OK;
}

static cnp_status describe_byte(GDALDatasetH ds, const char *name, const char *desc,
                                const char *date, int nodata)
{
    GDALRasterBandH hBand = GDALGetRasterBand(ds, 1);

    if (date && GDALSetMetadataItem(ds, "ACQUISITION_DATE", date, NULL) != CE_None)
        return fail(CNP_E_IO, "cannot set metadata of '%s': %s", name, CPLGetLastErrorMsg());
    GDALSetDescription(hBand, desc);
    if (nodata && GDALSetRasterNoDataValue(hBand, 0.0) != CE_None)
        return fail(CNP_E_IO, "cannot set nodata of '%s': %s", name, CPLGetLastErrorMsg());
    return CNP_OK;
}

/* create_scene_out() : a reflectance output (nb UInt16 bands), dated. */
static cnp_status create_scene_out(const scene *sc, const char *path, const char *name,
                                   const char *date, const char *generator,
                                   OGRSpatialReferenceH srs, int nthreads, GDALDatasetH *out)
{
    const cnp_status st = create_raster(sc, path, name, sc->nb, GDT_UInt16, 1, srs, nthreads,
                                        out);

    return st != CNP_OK ? st : describe_scene(*out, name, date, generator, sc->nb);
}

/* create_scl_out() : a mask output (one Byte band of SCL codes, nodata 0), dated. */
static cnp_status create_scl_out(const scene *sc, const char *path, const char *name,
                                 const char *date, OGRSpatialReferenceH srs, int nthreads,
                                 GDALDatasetH *out)
{
    const cnp_status st = create_raster(sc, path, name, 1, GDT_Byte, 0, srs, nthreads, out);

    return st != CNP_OK ? st : describe_byte(*out, name, "scl", date, 1);
}

/* write_strip() : one strip of whole tiles, then flush the bands' blocks so
 * the tile order in the file never depends on the block cache size. */
static cnp_status write_strip(GDALDatasetH ds, const char *name, int W, const strip *st,
                              int nbands, GDALDataType dt, void *buf, size_t elsize)
{
    CPLErr e = GDALDatasetRasterIOEx(ds, GF_Write, 0, st->ytop, W, st->rows, buf, W, st->rows,
                                     dt, nbands, NULL, (GSpacing)elsize,
                                     (GSpacing)elsize * W, (GSpacing)(elsize * st->plane),
                                     NULL);

    for (int b = 1; b <= nbands && e == CE_None; b++)
        e = GDALFlushRasterCache(GDALGetRasterBand(ds, b));
    if (e != CE_None)
        return fail(CNP_E_IO, "writing '%s' rows %d..%d: %s", name, st->ytop,
                    st->ytop + st->rows - 1, CPLGetLastErrorMsg());
    return CNP_OK;
}

static cnp_status close_raster(GDALDatasetH *ds, const char *name)
{
    if (!*ds)
        return CNP_OK;
#if GDAL_VERSION_NUM >= GDAL_COMPUTE_VERSION(3, 7, 0)
    const CPLErr e = GDALClose(*ds);
    *ds = NULL;
    if (e != CE_None)
        return fail(CNP_E_IO, "writing '%s': %s", name, CPLGetLastErrorMsg());
#else
    CPLErrorReset();
    GDALClose(*ds);
    *ds = NULL;
    if (CPLGetLastErrorType() >= CE_Failure)
        return fail(CNP_E_IO, "writing '%s': %s", name, CPLGetLastErrorMsg());
#endif
    return CNP_OK;
}

static cnp_status write_truth_csv(const scene *sc, const char *path)
{
    const synth_opts *o = sc->o;
    FILE *fp = fopen(path, "w");

    if (!fp)
        return fail(CNP_E_IO, "cannot create truth.csv: %s", strerror(errno));
    fputs("id,kind,expect_alert,pixels,area_m2,centroid_x,centroid_y,xmin,ymin,xmax,ymax\n", fp);
    for (size_t i = 0; i < sc->nfeat; i++) {
        const feature *f = &sc->feat[i];
        const double cx = o->origin_x + (f->sumx / (double)f->npix + 0.5) * o->pixel;
        const double cy = o->origin_y - (f->sumy / (double)f->npix + 0.5) * o->pixel;

        fprintf(fp, "%zu,%s,%d,%ld,%.2f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n", i + 1,
                KINDS[f->kind].name, KINDS[f->kind].expect, f->npix,
                (double)f->npix * o->pixel * o->pixel, cx, cy,
                o->origin_x + f->x0 * o->pixel, o->origin_y - (f->y0 + f->bm.h) * o->pixel,
                o->origin_x + (f->x0 + f->bm.w) * o->pixel, o->origin_y - f->y0 * o->pixel);
    }
    if (ferror(fp)) {
        fclose(fp);
        return fail(CNP_E_IO, "writing truth.csv failed");
    }
    if (fclose(fp))
        return fail(CNP_E_IO, "writing truth.csv: %s", strerror(errno));
    return CNP_OK;
}

static char *join_path(const char *dir, const char *name, const char *suffix)
{
    const size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 3;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s/%s%s", dir, name, suffix);
    return p;
}

static int strip_alloc(strip *sp, const scene *sc)
{
    const size_t plane = (size_t)sc->W * (size_t)sc->o->tile;
    const size_t lplane = (size_t)sc->LW * (size_t)(sc->o->tile + HALO);
    const size_t nb = (size_t)sc->nb, nk = (size_t)(sc->nbase ? sc->nbase : 1);

    memset(sp, 0, sizeof *sp);
    sp->plane = plane;
    sp->lplane = lplane;
    sp->ground = malloc(lplane);
    sp->atmo_b = malloc(lplane);
    sp->atmo_a = malloc(lplane);
    sp->dens_a = malloc(lplane);
    sp->sb = malloc(nb * plane * sizeof *sp->sb);
    sp->sa = malloc(nb * plane * sizeof *sp->sa);
    sp->sk = malloc(nk * nb * plane * sizeof *sp->sk);
    sp->mb = malloc(plane);
    sp->ma = malloc(plane);
    sp->tr = malloc(plane);
    sp->mk = malloc(nk * plane);
    return sp->ground && sp->atmo_b && sp->atmo_a && sp->dens_a && sp->sb && sp->sa && sp->sk &&
           sp->mb && sp->ma && sp->tr && sp->mk ? 0 : -1;
}

static void strip_free(strip *sp)
{
    free(sp->ground);
    free(sp->atmo_b);
    free(sp->atmo_a);
    free(sp->dens_a);
    free(sp->sb);
    free(sp->sa);
    free(sp->sk);
    free(sp->mb);
    free(sp->ma);
    free(sp->tr);
    free(sp->mk);
    memset(sp, 0, sizeof *sp);
}

/* per-thread row scratch: nine W-float fields, 2 x 4 W reflectances and the
 * lattice columns (floats), 2 x 4 W noise words, W land classes */
static int scratch_alloc(int W, int nthreads, row_scratch **prs, float **pf, uint16_t **pn,
                         uint8_t **pc)
{
    const size_t per = 17 * (size_t)W + (size_t)W / 2 + 4;
    row_scratch *rs = calloc((size_t)nthreads, sizeof *rs);
    float *f = malloc((size_t)nthreads * per * sizeof *f);
    uint16_t *nz = malloc((size_t)nthreads * 8 * (size_t)W * sizeof *nz);
    uint8_t *c = malloc((size_t)nthreads * (size_t)W);

    *prs = rs;
    *pf = f;
    *pn = nz;
    *pc = c;
    if (!rs || !f || !nz || !c)
        return -1;
    for (int t = 0; t < nthreads; t++) {
        float *p = f + (size_t)t * per;
        row_scratch *r = &rs[t];

        r->pas = p;
        r->t1 = p + 1 * (size_t)W;
        r->t2 = p + 2 * (size_t)W;
        r->pt = p + 3 * (size_t)W;
        r->se = p + 4 * (size_t)W;
        r->wa = p + 5 * (size_t)W;
        r->so = p + 6 * (size_t)W;
        r->ct = p + 7 * (size_t)W;
        r->dg = p + 8 * (size_t)W;
        r->fb = p + 9 * (size_t)W;
        r->fa = p + 13 * (size_t)W;
        r->cols = p + 17 * (size_t)W;
        r->nb = nz + (size_t)t * 8 * W;
        r->na = r->nb + 4 * (size_t)W;
        r->cls = c + (size_t)t * W;
    }
    return 0;
}

/* render_strip() : strip s into *sp with nthreads threads. Rows are
 * independent pure functions, so the dynamic schedule changes no byte. */
static void render_strip(const scene *sc, strip *sp, int s, const row_scratch *rs,
                         const ext_scratch *es, int nthreads, long counts[3])
{
    long nf = 0, np = 0, nw = 0;
    const strip *csp = sp;

    sp->ytop = s * sc->o->tile;
    sp->rows = imin(sc->o->tile, sc->H - sp->ytop);
    rasterize_features(sc, sp, s);

    #pragma omp parallel for schedule(dynamic, 2) num_threads(nthreads) default(none) \
        shared(sc, csp, rs, es) reduction(+ : nf, np, nw)
    for (int r = 0; r < csp->rows; r++) {
        long cnt[3] = { 0, 0, 0 };
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        if (sc->ext)
            render_row_ext(sc, csp, r, &es[t], cnt);
        else
            render_row(sc, csp, r, &rs[t], cnt);
        nf += cnt[C_FOREST];
        np += cnt[C_PASTURE];
        nw += cnt[C_WATER];
    }
    counts[C_FOREST] += nf;
    counts[C_PASTURE] += np;
    counts[C_WATER] += nw;
}

/* write_set() : one rendered strip into the BEFORE files (after = 0: scene
 * and mask) or the AFTER files (after = 1: scene, mask, truth). Each file is
 * only ever written by one thread at a time, in strip order. Runs on
 * whichever thread executes the section, so it installs the (thread-local)
 * GDAL error handler itself. */
static cnp_status write_set(const scene *sc, GDALDatasetH *ds, const strip *sp, int after)
{
    const int W = sc->W, nb = sc->nb;
    cnp_status st;

    CPLPushErrorHandler(gdal_handler);
    if (!after) {
        st = write_strip(ds[OUT_BEFORE], "before.tif", W, sp, nb, GDT_UInt16, sp->sb, 2);
        if (st == CNP_OK && ds[OUT_MASK_B])
            st = write_strip(ds[OUT_MASK_B], "before_mask.tif", W, sp, 1, GDT_Byte, sp->mb, 1);
        for (int k = 0; k < sc->nbase && st == CNP_OK; k++) {
            st = write_strip(ds[OUT_BASE + k], "baseline.tif", W, sp, nb, GDT_UInt16,
                             sp->sk + (size_t)k * nb * sp->plane, 2);
            if (st == CNP_OK && ds[OUT_BASE_MASK + k])
                st = write_strip(ds[OUT_BASE_MASK + k], "baseline_mask.tif", W, sp, 1, GDT_Byte,
                                 sp->mk + (size_t)k * sp->plane, 1);
        }
    } else {
        st = write_strip(ds[OUT_AFTER], "after.tif", W, sp, nb, GDT_UInt16, sp->sa, 2);
        if (st == CNP_OK && ds[OUT_MASK_A])
            st = write_strip(ds[OUT_MASK_A], "after_mask.tif", W, sp, 1, GDT_Byte, sp->ma, 1);
        if (st == CNP_OK)
            st = write_strip(ds[OUT_TRUTH], "truth_loss.tif", W, sp, 1, GDT_Byte, sp->tr, 1);
    }
    CPLPopErrorHandler();
    return st;
}

/* mkdir -p: VSIMkdirRecursive() of GDAL 3.6 fails on a plain relative name. */
static int mkdir_p(const char *dir)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static cnp_status synth_run(const synth_opts *o, OGRSpatialReferenceH srs)
{
    scene sc;
    plan pl;
    strip sp[2];
    row_scratch *rsc = NULL;
    float *rbuf = NULL;
    uint16_t *nbuf = NULL;
    uint8_t *cbuf = NULL;
    ext_scratch *esc = NULL;
    float *ebuf = NULL;
    uint8_t *ebytes = NULL;
    uint16_t *enoise = NULL;
    GDALDatasetH ds[OUT_NRASTER] = { NULL };
    char *tmp[OUT_NRASTER + 1] = { NULL }, *fin[OUT_NRASTER + 1] = { NULL };
    char suffix[48], generator[128];
    int nthreads = 1;
    long counts[3] = { 0, 0, 0 };
    cnp_status st = CNP_OK;
    struct stat sbuf;

    memset(sp, 0, sizeof sp);
#ifdef _OPENMP
    nthreads = omp_get_max_threads();
#endif
    if ((st = scene_init(&sc, o)) != CNP_OK)
        goto cleanup;
    make_plan(o, &pl);
    if ((sc.ext && (st = plant_ext(&sc, &pl)) != CNP_OK) ||
        (st = plant(&sc, &pl)) != CNP_OK || (st = build_strips(&sc)) != CNP_OK)
        goto cleanup;

    /* output directory and names */
    if (mkdir_p(o->dir) != 0 || stat(o->dir, &sbuf) != 0 || !S_ISDIR(sbuf.st_mode)) {
        st = fail(CNP_E_IO, "cannot create directory '%s': %s", o->dir, strerror(errno));
        goto cleanup;
    }
    snprintf(suffix, sizeof suffix, ".%ld.tmp", (long)getpid());
    for (int i = 0; i <= OUT_NRASTER; i++) {
        char name[40], hidden[64];

        out_name(i, name, sizeof name);
        snprintf(hidden, sizeof hidden, ".%s", name);
        tmp[i] = join_path(o->dir, hidden, suffix);
        fin[i] = join_path(o->dir, name, "");
        if (!tmp[i] || !fin[i]) {
            st = fail(CNP_E_NOMEM, "out of memory");
            goto cleanup;
        }
    }

    /* GDAL's cache must hold a strip of every output with room to spare, so
     * that the explicit per-strip flush, never eviction (which could happen
     * on another writer's thread), decides when tiles are written. */
    {
        const GIntBig strip_bytes = (GIntBig)sc.W * o->tile *
                                    (2 * sc.nb * 2 + 3 + sc.nbase * (sc.nb * 2 + 1));
        const GIntBig want = 4 * strip_bytes > ((GIntBig)256 << 20) ? 4 * strip_bytes
                                                                   : ((GIntBig)256 << 20);
        if (GDALGetCacheMax64() < want)
            GDALSetCacheMax64(want);
    }
    snprintf(generator, sizeof generator, "canopy-synth seed=%llu scenario=%s",
             (unsigned long long)o->seed, SCENARIO_NAMES[o->scenario]);
    if ((st = create_scene_out(&sc, tmp[OUT_BEFORE], "before.tif", o->date_before, generator,
                               srs, nthreads, &ds[OUT_BEFORE])) != CNP_OK ||
        (st = create_scene_out(&sc, tmp[OUT_AFTER], "after.tif", o->date_after, generator,
                               srs, nthreads, &ds[OUT_AFTER])) != CNP_OK ||
        (st = create_raster(&sc, tmp[OUT_TRUTH], "truth_loss.tif", 1, GDT_Byte, 0, srs,
                            nthreads, &ds[OUT_TRUTH])) != CNP_OK ||
        (st = describe_byte(ds[OUT_TRUTH], "truth_loss.tif", "expected_loss", NULL, 0)) != CNP_OK)
        goto cleanup;
    if (!o->no_mask &&
        ((st = create_scl_out(&sc, tmp[OUT_MASK_B], "before_mask.tif", o->date_before, srs,
                              nthreads, &ds[OUT_MASK_B])) != CNP_OK ||
         (st = create_scl_out(&sc, tmp[OUT_MASK_A], "after_mask.tif", o->date_after, srs,
                              nthreads, &ds[OUT_MASK_A])) != CNP_OK))
        goto cleanup;
    for (int k = 0; k < sc.nbase; k++) {
        const int m = OUT_BASE_MASK + k;

        if ((st = create_scene_out(&sc, tmp[OUT_BASE + k], "baseline.tif", sc.date_base[k],
                                   generator, srs, nthreads, &ds[OUT_BASE + k])) != CNP_OK ||
            (out_active(&sc, m) &&
             (st = create_scl_out(&sc, tmp[m], "baseline_mask.tif", sc.date_base[k], srs,
                                  nthreads, &ds[m])) != CNP_OK))
            goto cleanup;
    }

    if (strip_alloc(&sp[0], &sc) || strip_alloc(&sp[1], &sc) ||
        scratch_alloc(sc.W, nthreads, &rsc, &rbuf, &nbuf, &cbuf) ||
        (sc.ext && ext_scratch_alloc(&sc, nthreads, &esc, &ebuf, &ebytes, &enoise))) {
        st = fail(CNP_E_NOMEM, "cannot allocate strip buffers (%d x %d)", sc.W, o->tile);
        goto cleanup;
    }

    /* Pipeline: while two threads write strip s - 1 (GDAL: the BEFORE and
     * the AFTER files, separate handles, each in strip order), the others
     * render strip s. */
#ifdef _OPENMP
    omp_set_max_active_levels(2);
#endif
    for (int s = 0; s <= sc.nstrips; s++) {
        cnp_status wst_b = CNP_OK, wst_a = CNP_OK;
        const scene *csc = &sc;
        strip *rsp = &sp[s & 1];
        const strip *wsp = &sp[(s + 1) & 1];
        const row_scratch *crs = rsc;
        const ext_scratch *ces = esc;
        const int nstrips = sc.nstrips;

        #pragma omp parallel sections num_threads(3) default(none) \
            shared(s, csc, rsp, wsp, crs, ces, nstrips, nthreads, counts, ds, wst_b, wst_a)
        {
            #pragma omp section
            {
                if (s > 0)
                    wst_b = write_set(csc, ds, wsp, 0);
            }
            #pragma omp section
            {
                if (s > 0)
                    wst_a = write_set(csc, ds, wsp, 1);
            }
            #pragma omp section
            {
                if (s < nstrips)
                    render_strip(csc, rsp, s, crs, ces, nthreads, counts);
            }
        }
        if (wst_b != CNP_OK || wst_a != CNP_OK) {
            st = wst_b != CNP_OK ? wst_b : wst_a;
            goto cleanup;
        }
    }
    for (int i = 0; i < OUT_NRASTER; i++) {
        char name[40];

        out_name(i, name, sizeof name);
        if ((st = close_raster(&ds[i], name)) != CNP_OK)
            goto cleanup;
    }
    if ((st = write_truth_csv(&sc, tmp[OUT_NRASTER])) != CNP_OK)
        goto cleanup;

    /* publish: every file is complete before any is renamed */
    for (int i = 0; i <= OUT_NRASTER; i++) {
        if (!out_active(&sc, i)) {
            if (unlink(fin[i]) != 0 && errno != ENOENT) {   /* stale files would lie */
                st = fail(CNP_E_IO, "cannot remove stale '%s': %s", fin[i], strerror(errno));
                goto cleanup;
            }
            continue;
        }
        if (rename(tmp[i], fin[i]) != 0) {
            st = fail(CNP_E_IO, "cannot rename '%s' to '%s': %s", tmp[i], fin[i],
                      strerror(errno));
            goto cleanup;
        }
    }

    if (o->verbose) {
        long per_kind[K_COUNT] = { 0 };
        const double npx = (double)sc.W * sc.H;

        for (size_t i = 0; i < sc.nfeat; i++)
            per_kind[sc.feat[i].kind]++;
        fprintf(stderr, PROG ": wrote %s: %dx%d px, forest %.1f%%, pasture %.1f%%, "
                "water %.1f%%, %zu features\n", o->dir, sc.W, sc.H,
                100.0 * counts[C_FOREST] / npx, 100.0 * counts[C_PASTURE] / npx,
                100.0 * counts[C_WATER] / npx, sc.nfeat);
        for (int k = 0; k < K_COUNT; k++)
            if (per_kind[k])
                fprintf(stderr, PROG ":   %-22s %ld\n", KINDS[k].name, per_kind[k]);
    }

cleanup:
    for (int i = 0; i < OUT_NRASTER; i++)
        if (ds[i]) {
            GDALClose(ds[i]);
            ds[i] = NULL;
        }
    for (int i = 0; i <= OUT_NRASTER; i++) {
        if (st != CNP_OK && tmp[i])
            unlink(tmp[i]);            /* no-op for files already renamed */
        free(tmp[i]);
        free(fin[i]);
    }
    strip_free(&sp[0]);
    strip_free(&sp[1]);
    free(rsc);
    free(rbuf);
    free(nbuf);
    free(cbuf);
    free(esc);
    free(ebuf);
    free(ebytes);
    free(enoise);
    scene_free(&sc);
    return st;
}

int main(int argc, char **argv)
{
    synth_opts o;
    OGRSpatialReferenceH srs = NULL;
    cnp_status st = CNP_OK;
    const int rc = parse_args(argc, argv, &o);

    if (rc >= 0)
        return rc;

    GDALAllRegister();
    CPLPushErrorHandler(gdal_handler);
    srs = OSRNewSpatialReference(NULL);
    CPLErrorReset();
    if (!srs)
        st = fail(CNP_E_NOMEM, "cannot allocate a spatial reference");
    else if (OSRImportFromEPSG(srs, o.epsg) != OGRERR_NONE)
        st = fail(CNP_E_CONFIG, "invalid --epsg %d: %s", o.epsg,
                  *CPLGetLastErrorMsg() ? CPLGetLastErrorMsg() : "unknown code");
    else
        st = synth_run(&o, srs);

    if (st != CNP_OK)
        fprintf(stderr, PROG ": %s\n", g_msg);
    OSRDestroySpatialReference(srs);
    CPLPopErrorHandler();
    GDALDestroy();
    if (st == CNP_OK)
        return EXIT_OK;
    return (st == CNP_E_ARG || st == CNP_E_CONFIG) ? EXIT_USAGE : EXIT_RUNTIME;
}
