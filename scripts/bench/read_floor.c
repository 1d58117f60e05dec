/* scripts/bench/read_floor.c - the read-only floor for `make bench`.
 *
 * Reads the pixels canopy detect must read, and nothing else is done with
 * them: red and NIR of BEFORE and AFTER (and, with --masks, band 1 of the two
 * mask rasters), block by block. No NDVI, no labelling, no output. Its wall
 * time is the least any pipeline reading these files through GDAL can take,
 * so canopy's time divided by it says how much is left above pure I/O and
 * decoding.
 *
 * Each thread opens its own dataset handles (GDAL handles are not thread
 * safe on GDAL < 3.10) and takes whole blocks from a shared counter, so a
 * block is decoded exactly once. Modes:
 *   block  GDALReadBlock, native type (UInt16): the floor.
 *   strip  GDALRasterIO of block-row strips into Float32 buffers: canopy's
 *          own access pattern, for comparison with the floor.
 * Blocks of a pixel-interleaved GeoTIFF hold all bands: reading the red block
 * decodes the tile once and leaves the NIR block in GDAL's block cache.
 *
 * Prints one line: mode, threads, blocks, band pixels read, seconds, the
 * GDAL cache size and a checksum (the same for any thread count).
 * Exit status: 0 ok, 1 read error, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <omp.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>

enum { MAX_FILES = 4, MAX_BANDS = 2 };

typedef struct floor_job {
    const char *path[MAX_FILES];
    int         band[MAX_FILES][MAX_BANDS];   /* 1-based; 0 = unused slot */
    int         nfiles;
    int         strip;                        /* 1: strip mode, 0: block mode */
    int         width, height, bw, bh, nbx, nby;
} floor_job;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "Usage: %s [options] BEFORE AFTER [BEFORE_MASK AFTER_MASK]\n"
            "Reads red and NIR of BEFORE and AFTER (and band 1 of the masks) block by\n"
            "block and does nothing else: the read-only floor of canopy detect.\n\n"
            "  -t, --threads N   reader threads, one dataset handle each (default 1;\n"
            "                    0 = all cores)\n"
            "      --red N       1-based red band (default 3)\n"
            "      --nir N       1-based NIR band (default 4)\n"
            "      --strip       read block-row strips with GDALRasterIO into Float32\n"
            "                    (canopy's access pattern) instead of GDALReadBlock\n"
            "  -h, --help        show this help\n",
            prog);
}

/* Block geometry of BEFORE; every file must have BEFORE's size. */
static int probe(floor_job *job)
{
    for (int i = 0; i < job->nfiles; i++) {
        GDALDatasetH ds = GDALOpenEx(job->path[i], GDAL_OF_RASTER | GDAL_OF_READONLY |
                                     GDAL_OF_VERBOSE_ERROR, NULL, NULL, NULL);
        if (!ds) {
            fprintf(stderr, "read-floor: cannot open '%s': %s\n", job->path[i],
                    CPLGetLastErrorMsg());
            return 1;
        }
        const int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
        const int nb = GDALGetRasterCount(ds);
        int ok = 1;
        for (int k = 0; k < MAX_BANDS; k++)
            if (job->band[i][k] > nb)
                ok = 0;
        if (i == 0) {
            job->width = w;
            job->height = h;
            GDALGetBlockSize(GDALGetRasterBand(ds, job->band[0][0]), &job->bw, &job->bh);
        }
        GDALClose(ds);
        if (!ok || w != job->width || h != job->height) {
            fprintf(stderr, "read-floor: '%s' is %dx%d with %d bands: needs %dx%d and bands "
                    "%d,%d\n", job->path[i], w, h, nb, job->width, job->height,
                    job->band[i][0], job->band[i][1]);
            return 1;
        }
    }
    if (job->bw <= 0 || job->bh <= 0)
        return 1;
    /* Strip mode reads whole block rows, so it hands out block rows. */
    job->nbx = job->strip ? 1 : (job->width + job->bw - 1) / job->bw;
    job->nby = (job->height + job->bh - 1) / job->bh;
    return 0;
}

/* One thread: open its own handles, then take blocks until none are left.
 * Returns 0 or 1 (error, message printed); adds to *sum and *pixels. */
static int read_blocks(const floor_job *job, int *next, uint64_t *sum, uint64_t *pixels)
{
    GDALDatasetH ds[MAX_FILES] = { NULL };
    void *buf = NULL;
    int err = 0;
    const size_t cap = job->strip ? (size_t)job->width * (size_t)job->bh * sizeof(float)
                                  : (size_t)job->bw * (size_t)job->bh * sizeof(uint64_t);

    buf = malloc(cap);
    if (!buf) {
        fprintf(stderr, "read-floor: out of memory\n");
        return 1;
    }
    for (int i = 0; i < job->nfiles && !err; i++) {
        ds[i] = GDALOpenEx(job->path[i], GDAL_OF_RASTER | GDAL_OF_READONLY |
                           GDAL_OF_VERBOSE_ERROR, NULL, NULL, NULL);
        if (!ds[i]) {
            #pragma omp critical(floor_msg)
            fprintf(stderr, "read-floor: cannot open '%s': %s\n", job->path[i],
                    CPLGetLastErrorMsg());
            err = 1;
        }
    }

    const int nblocks = job->nbx * job->nby;
    uint64_t s = 0, n = 0;
    for (;;) {
        int b;
        #pragma omp atomic capture
        b = (*next)++;
        if (err || b >= nblocks)
            break;
        const int bx = b % job->nbx, by = b / job->nbx;
        const int y0 = by * job->bh;
        const int h = job->height - y0 < job->bh ? job->height - y0 : job->bh;

        for (int i = 0; i < job->nfiles && !err; i++) {
            for (int k = 0; k < MAX_BANDS && !err; k++) {
                if (job->band[i][k] == 0)
                    continue;
                GDALRasterBandH band = GDALGetRasterBand(ds[i], job->band[i][k]);
                const GDALDataType t = GDALGetRasterDataType(band);
                CPLErr e;
                if (job->strip) {
                    e = GDALRasterIO(band, GF_Read, 0, y0, job->width, h, buf, job->width, h,
                                     GDT_Float32, 0, 0);
                    const float *f = buf;
                    const size_t np = (size_t)job->width * (size_t)h;
                    /* Touch one value per row: the conversion already touched them all. */
                    for (size_t p = 0; p < np; p += (size_t)job->width)
                        s += (uint64_t)f[p];
                    n += np;
                } else {
                    e = GDALReadBlock(band, bx, by, buf);
                    const size_t np = (size_t)job->bw * (size_t)job->bh;
                    if (t == GDT_UInt16) {
                        const uint16_t *u = buf;
                        for (size_t p = 0; p < np; p += 64)
                            s += u[p];
                    } else {
                        const uint8_t *u = buf;
                        for (size_t p = 0; p < np; p += 64)
                            s += u[p];
                    }
                    const int w = job->width - bx * job->bw < job->bw ? job->width - bx * job->bw
                                                                      : job->bw;
                    n += (uint64_t)w * (uint64_t)h;
                }
                if (e != CE_None) {
                    #pragma omp critical(floor_msg)
                    fprintf(stderr, "read-floor: '%s' band %d: read failed at block %d,%d: %s\n",
                            job->path[i], job->band[i][k], bx, by, CPLGetLastErrorMsg());
                    err = 1;
                }
            }
        }
        if (err) {
            /* Make the other threads stop at their next block. */
            #pragma omp atomic write
            *next = nblocks;
        }
    }
    for (int i = 0; i < job->nfiles; i++)
        if (ds[i])
            GDALClose(ds[i]);
    free(buf);
    #pragma omp atomic
    *sum += s;
    #pragma omp atomic
    *pixels += n;
    return err;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "threads", required_argument, NULL, 't' },
        { "red", required_argument, NULL, 'r' },
        { "nir", required_argument, NULL, 'n' },
        { "strip", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    floor_job job;
    int threads = 1, red = 3, nir = 4, c;

    memset(&job, 0, sizeof job);
    while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
        char *end = NULL;
        long v = 0;
        switch (c) {
        case 't': case 'r': case 'n':
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || !end || *end || v < 0 || v > 4096 || (c != 't' && v == 0)) {
                fprintf(stderr, "read-floor: bad value '%s' for -%c\n", optarg, c);
                return 2;
            }
            if (c == 't')
                threads = (int)v;
            else if (c == 'r')
                red = (int)v;
            else
                nir = (int)v;
            break;
        case 's': job.strip = 1; break;
        case 'h': usage(stdout, argv[0]); return 0;
        default:
            fprintf(stderr, "Try '%s --help' for more information.\n", argv[0]);
            return 2;
        }
    }
    const int nargs = argc - optind;
    if (nargs != 2 && nargs != 4) {
        fprintf(stderr, "read-floor: needs BEFORE AFTER [BEFORE_MASK AFTER_MASK]\n"
                "Try '%s --help' for more information.\n", argv[0]);
        return 2;
    }
    job.nfiles = nargs;
    for (int i = 0; i < nargs; i++) {
        job.path[i] = argv[optind + i];
        job.band[i][0] = i < 2 ? red : 1;
        job.band[i][1] = i < 2 ? nir : 0;
    }
    if (threads == 0)
        threads = omp_get_num_procs();

    GDALAllRegister();
    int rc = probe(&job);
    if (rc == 0) {
        if (threads > job.nbx * job.nby)
            threads = job.nbx * job.nby;
        /* GDAL's block cache: 32 MB, as canopy detect sets it, unless the user
         * set GDAL_CACHEMAX. The default (5% of RAM) only costs here: blocks
         * are read once, and filling a large cache means faulting in fresh
         * pages and evicting. It must still hold what the threads have in
         * flight (all 4 bands of a pixel-interleaved tile per file, a block
         * row in strip mode), or the NIR read would decode the tile again. */
        const int64_t span = job.strip ? job.width : job.bw;
        const int64_t need = (int64_t)threads * job.nfiles * 4 * span * job.bh * 2;
        const int64_t want = need > ((int64_t)32 << 20) ? need : (int64_t)32 << 20;
        if (!getenv("GDAL_CACHEMAX") || GDALGetCacheMax64() < need)
            GDALSetCacheMax64(want);

        int next = 0, failed = 0;
        uint64_t sum = 0, pixels = 0;
        const double t0 = now_s();
        #pragma omp parallel num_threads(threads) default(none) \
            shared(job, next, sum, pixels, failed)
        {
            if (read_blocks(&job, &next, &sum, &pixels)) {
                #pragma omp atomic write
                failed = 1;
            }
        }
        const double dt = now_s() - t0;
        if (failed) {
            rc = 1;
        } else {
            printf("read-floor: mode=%s threads=%d files=%d blocks=%d band_pixels=%" PRIu64
                   " seconds=%.3f mpix_per_s=%.1f cache_mb=%.0f checksum=%" PRIu64 "\n",
                   job.strip ? "strip" : "block", threads, job.nfiles, job.nbx * job.nby, pixels,
                   dt, dt > 0 ? (double)pixels / dt / 1e6 : 0.0,
                   (double)GDALGetCacheMax64() / (1 << 20), sum);
        }
    }
    GDALDestroy();
    return rc;
}
