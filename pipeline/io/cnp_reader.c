/* pipeline/io/cnp_reader.c - per-thread readers of a scene (GDAL): red,
 * NIR and any band of a tile window, the observed mask with its buffer and
 * rule, a shifted scene resampled (cnp_raster.h declares them). */
#include "cnp_raster.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <gdal.h>

#include "cnp_err.h"
#include "cnp_gdal.h"
#include "cnp_raster_int.h"
#include "cnp_raster_shift.h"

/* ---- mask blocks ---------------------------------------------------------- */

/* A tile's mask window reaches a buffer radius into the blocks around it, and
 * side by side tiles share those blocks. A reader keeps the decoded blocks of a
 * GeoTIFF mask itself (least recently used first out) instead of leaving them
 * to GDAL's block cache, which then has nothing to keep for tiles that are
 * whole blocks of their scene: see cnp_scene_reads_blocks_once(). */
#define MASK_BLOCKS_MAX_BYTES (8u << 20)

typedef struct mask_block {
    int      bx, by;            /* block column and row; bx < 0: empty */
    uint64_t used;              /* when last used (a counter) */
    uint8_t *px;                /* block_w * block_h values of esize bytes */
} mask_block;

/* Slots enough for every block one window touches plus the next column the
 * window slides into, so tiles read left to right decode each block once. */
static size_t mask_block_slots(int bw, int bh, int hw, int hh)
{
    const size_t nbx = (size_t)(hw + bw - 1) / (size_t)bw + 1;
    const size_t nby = (size_t)(hh + bh - 1) / (size_t)bh + 1;
    return nbx * nby + nby;
}

/* Bytes of the blocks a reader keeps for mask windows of hw x hh, or 0 when
 * this mask is read through GDAL (a VRT or another format, a type other than
 * Byte or UInt16, or blocks too large to keep, such as whole-width strips). */
static size_t mask_blocks_bytes(GDALDatasetH mds, int hw, int hh)
{
    GDALDriverH drv = mds ? GDALGetDatasetDriver(mds) : NULL;
    if (!drv || strcmp(GDALGetDriverShortName(drv), "GTiff") != 0)
        return 0;
    GDALRasterBandH b = GDALGetRasterBand(mds, 1);
    const GDALDataType t = GDALGetRasterDataType(b);
    if (t != GDT_Byte && t != GDT_UInt16)
        return 0;
    int bw = 0, bh = 0;
    GDALGetBlockSize(b, &bw, &bh);
    if (bw <= 0 || bh <= 0)
        return 0;
    const size_t bytes = mask_block_slots(bw, bh, hw, hh) * (size_t)bw * (size_t)bh *
                         (size_t)GDALGetDataTypeSizeBytes(t);
    return bytes <= MASK_BLOCKS_MAX_BYTES ? bytes : 0;
}

struct cnp_reader {
    GDALDatasetH    ds, mds;
    GDALRasterBandH red, nir, mask_band, mask_raster;
    const cnp_scene *sc;
    cnp_mask_rule   rule;
    uint8_t         table[256]; /* rule's codes of byte values (Byte mask rasters) */
    int             radius, mask_w, mask_h;
    cnp_mask_shape  shape;
    uint16_t       *mbuf;       /* mask raster values of the window and its halo */
    uint8_t        *codes;
    uint16_t       *scratch;
    size_t          mcap, scap;
    mask_block     *blocks;     /* the mask's decoded blocks (NULL: read via GDAL) */
    size_t          nblocks;
    int             block_w, block_h, esize;
    uint64_t        clock;
    int             band_bw, band_bh; /* red/NIR blocks read whole (0: through RasterIO) */
    uint16_t       *band_buf;   /* one block, for windows that are a partial block */
    cnp_shift_bufs  shift;      /* source windows of a shifted scene */
};

/* Red and NIR are read with GDALReadBlock, straight into the caller's buffer,
 * when they are UInt16 bands of a GeoTIFF with the same blocks (the file
 * itself, not a VRT). GDALRasterIO would copy each block into GDAL's block
 * cache first (allocated, locked and evicted under one process-wide mutex)
 * and then out again; a pixel-interleaved GeoTIFF decodes the block once for
 * both bands either way, as it keeps its last decoded block. Windows that are
 * not exactly one block (is_block_window) still go through GDALRasterIO. */
static void band_blocks_setup(cnp_reader *rd)
{
    GDALDriverH drv = GDALGetDatasetDriver(rd->ds);
    if (!drv || strcmp(GDALGetDriverShortName(drv), "GTiff") != 0 || rd->sc->nir_rescale)
        return;
    if (GDALGetRasterDataType(rd->red) != GDT_UInt16 ||
        GDALGetRasterDataType(rd->nir) != GDT_UInt16)
        return;
    int rw, rh, nw, nh;
    GDALGetBlockSize(rd->red, &rw, &rh);
    GDALGetBlockSize(rd->nir, &nw, &nh);
    if (rw <= 0 || rh <= 0 || rw != nw || rh != nh)
        return;
    rd->band_bw = rw;
    rd->band_bh = rh;
}

cnp_status cnp_reader_open(const cnp_scene *sc, const cnp_settings *s, cnp_reader **out)
{
    cnp_reader *rd = calloc(1, sizeof *rd);
    *out = NULL;
    if (!rd)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    rd->sc = sc;
    rd->rule = sc->mask_rule;
    if (cnp_mask_table(&rd->rule, rd->table) != CNP_OK) {
        free(rd);
        return cnp_err(CNP_E_ARG, "%s scene '%s': bad mask rule", sc->role, sc->path);
    }
    rd->radius = sc->mask_buffer_px;
    rd->shape = s->mask_buffer_square ? CNP_MASK_SQUARE : CNP_MASK_DISK;
    rd->ds = cnp_raster_open(sc->read_path);
    if (!rd->ds) {
        cnp_reader_close(&rd);
        return cnp_err(CNP_E_IO, "%s scene '%s': cannot open: %s", sc->role, sc->path,
                       cnp_err_gdal_reason());
    }
    rd->red = GDALGetRasterBand(rd->ds, sc->red);
    rd->nir = GDALGetRasterBand(rd->ds, sc->nir);
    band_blocks_setup(rd);
    if (sc->read_mask_band)
        rd->mask_band = GDALGetMaskBand(rd->red);
    if (sc->mask_read_path) {
        rd->mds = cnp_raster_open(sc->mask_read_path);
        if (!rd->mds) {
            cnp_reader_close(&rd);
            return cnp_err(CNP_E_IO, "%s mask '%s': cannot open: %s", sc->role, sc->mask_path,
                           cnp_err_gdal_reason());
        }
        rd->mask_raster = GDALGetRasterBand(rd->mds, 1);
        rd->mask_w = GDALGetRasterXSize(rd->mds);
        rd->mask_h = GDALGetRasterYSize(rd->mds);
    }
    *out = rd;
    return CNP_OK;
}

void cnp_reader_close(cnp_reader **prd)
{
    if (!prd || !*prd)
        return;
    cnp_reader *rd = *prd;
    if (rd->mds)
        GDALClose(rd->mds);
    if (rd->ds)
        GDALClose(rd->ds);
    free(rd->mbuf);
    free(rd->codes);
    free(rd->scratch);
    free(rd->band_buf);
    cnp_shift_bufs_free(&rd->shift);
    for (size_t i = 0; i < rd->nblocks; i++)
        free(rd->blocks[i].px);
    free(rd->blocks);
    free(rd);
    *prd = NULL;
}

static cnp_status read_band(GDALRasterBandH b, int x0, int y0, int w, int h, GDALDataType t,
                            void *buf, const cnp_scene *sc, const char *what)
{
    cnp_err_gdal_reset();
    if (GDALRasterIO(b, GF_Read, x0, y0, w, h, buf, w, h, t, 0, 0) != CE_None)
        return cnp_err(CNP_E_IO, "%s %s '%s': read failed at pixel %d,%d: %s", sc->role, what,
                       what[0] == 'm' ? sc->mask_path : sc->path, x0, y0, cnp_err_gdal_reason());
    return CNP_OK;
}

/* Products whose NIR band has another gain than red (Landsat Level-1 TOA):
 * NIR DNs become the DNs red's scale and offset turn into the same
 * reflectance. Nodata and saturated DNs keep their meaning. */
static void nir_to_red_units(const cnp_scene *sc, float *nir, size_t n)
{
    const cnp_date_params *r = &sc->radiometry;
    const double gain = sc->nir_gain, bias = sc->nir_bias;
    const float sat = (float)r->saturated_dn, nd = (float)r->nodata_nir;
    for (size_t i = 0; i < n; i++) {
        const float v = nir[i];
        if ((r->has_nodata_nir && v == nd) || !(v < sat))
            continue;
        float u = (float)(v * gain + bias);
        if (!(u < sat))
            u = nextafterf(sat, 0.0f);
        if (r->has_nodata_nir && u == nd)
            u = nextafterf(u, INFINITY);
        nir[i] = u;
    }
}

/* Set up the reader's mask blocks for windows of hw x hh (or go on reading
 * through GDAL). Called again for a larger window, it starts over. */
static cnp_status mask_blocks_setup(cnp_reader *rd, int hw, int hh)
{
    /* Every tile asks: answer from the blocks already set up when they do. */
    if (rd->blocks && mask_block_slots(rd->block_w, rd->block_h, hw, hh) <= rd->nblocks)
        return CNP_OK;
    const size_t bytes = mask_blocks_bytes(rd->mds, hw, hh);
    if (bytes == 0)
        return CNP_OK;
    int bw, bh;
    GDALGetBlockSize(rd->mask_raster, &bw, &bh);
    const size_t slots = mask_block_slots(bw, bh, hw, hh);
    for (size_t i = 0; i < rd->nblocks; i++)
        free(rd->blocks[i].px);
    free(rd->blocks);
    rd->nblocks = 0;
    if (!(rd->blocks = calloc(slots, sizeof *rd->blocks)))
        return cnp_err(CNP_E_NOMEM, "out of memory");
    rd->nblocks = slots;
    rd->block_w = bw;
    rd->block_h = bh;
    rd->esize = GDALGetDataTypeSizeBytes(GDALGetRasterDataType(rd->mask_raster));
    for (size_t i = 0; i < slots; i++) {
        rd->blocks[i].bx = -1;
        if (!(rd->blocks[i].px = malloc((size_t)bw * (size_t)bh * (size_t)rd->esize)))
            return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    return CNP_OK;
}

/* Block (bx, by) of the mask, decoded once while it stays among the kept. */
static const uint8_t *mask_block_at(cnp_reader *rd, int bx, int by)
{
    mask_block *victim = &rd->blocks[0];
    for (size_t i = 0; i < rd->nblocks; i++) {
        mask_block *b = &rd->blocks[i];
        if (b->bx == bx && b->by == by) {
            b->used = ++rd->clock;
            return b->px;
        }
        if (b->used < victim->used)
            victim = b;
    }
    victim->bx = -1;
    cnp_err_gdal_reset();
    if (GDALReadBlock(rd->mask_raster, bx, by, victim->px) != CE_None)
        return NULL;
    victim->bx = bx;
    victim->by = by;
    victim->used = ++rd->clock;
    return victim->px;
}

/* Window (x0, y0, w, h) of the mask raster, in its own type, into out
 * (stride w), from the kept blocks. */
static cnp_status mask_window_from_blocks(cnp_reader *rd, int x0, int y0, int w, int h,
                                          void *out)
{
    const int bw = rd->block_w, bh = rd->block_h;
    const size_t es = (size_t)rd->esize;
    for (int by = y0 / bh; by <= (y0 + h - 1) / bh; by++)
        for (int bx = x0 / bw; bx <= (x0 + w - 1) / bw; bx++) {
            const uint8_t *px = mask_block_at(rd, bx, by);
            if (!px)
                return cnp_err(CNP_E_IO, "%s mask '%s': read failed at block %d,%d: %s",
                               rd->sc->role, rd->sc->mask_path, bx, by, cnp_err_gdal_reason());
            const int cx0 = bx * bw > x0 ? bx * bw : x0;
            const int cx1 = (bx + 1) * bw < x0 + w ? (bx + 1) * bw : x0 + w;
            const int cy0 = by * bh > y0 ? by * bh : y0;
            const int cy1 = (by + 1) * bh < y0 + h ? (by + 1) * bh : y0 + h;
            for (int y = cy0; y < cy1; y++)
                memcpy((uint8_t *)out + ((size_t)(y - y0) * (size_t)w + (size_t)(cx0 - x0)) * es,
                       px + ((size_t)(y - by * bh) * (size_t)bw + (size_t)(cx0 - bx * bw)) * es,
                       (size_t)(cx1 - cx0) * es);
        }
    return CNP_OK;
}

/* The mask raster's codes for window (x0, y0, w, h), read with a halo of the
 * buffer radius (clipped at the raster's edges) so that clouds just outside
 * the window still grow into it: tiles and strips stay independent and give
 * exactly what one whole-raster dilation would. Clears observed[] where the
 * mask says "not observed". */
static cnp_status read_mask(cnp_reader *rd, int x0, int y0, int w, int h, uint8_t *observed)
{
    const int r = rd->radius;
    const int hx0 = x0 - r > 0 ? x0 - r : 0, hy0 = y0 - r > 0 ? y0 - r : 0;
    const int hx1 = x0 + w + r < rd->mask_w ? x0 + w + r : rd->mask_w;
    const int hy1 = y0 + h + r < rd->mask_h ? y0 + h + r : rd->mask_h;
    const int hw = hx1 - hx0, hh = hy1 - hy0;
    const size_t hn = (size_t)hw * (size_t)hh;
    cnp_status st;

    /* Byte masks are read as bytes and decoded in place: no widening, and no
     * UInt16 buffer. */
    const int bytes = GDALGetRasterDataType(rd->mask_raster) == GDT_Byte;
    if (rd->mcap < hn) {
        uint16_t *p = bytes ? NULL : realloc(rd->mbuf, hn * sizeof *p);
        uint8_t *c = bytes || p ? realloc(rd->codes, hn) : NULL;
        if (p)
            rd->mbuf = p;
        if ((!bytes && !p) || !c)
            return cnp_err(CNP_E_NOMEM, "out of memory");
        rd->codes = c;
        rd->mcap = hn;
    }
    const size_t need = r > 0 ? cnp_mask_scratch_len(hw, hh) : 0;
    if (rd->scap < need) {
        uint16_t *p = realloc(rd->scratch, need * sizeof *p);
        if (!p)
            return cnp_err(CNP_E_NOMEM, "out of memory");
        rd->scratch = p;
        rd->scap = need;
    }
    void *raw = bytes ? (void *)rd->codes : (void *)rd->mbuf;
    if ((st = mask_blocks_setup(rd, hw, hh)) != CNP_OK)
        return st;
    st = rd->blocks ? mask_window_from_blocks(rd, hx0, hy0, hw, hh, raw)
                    : read_band(rd->mask_raster, hx0, hy0, hw, hh, bytes ? GDT_Byte : GDT_UInt16,
                                raw, rd->sc, "mask");
    if (st != CNP_OK)
        return st;
    const cnp_mask_window win = { rd->codes, hw, hh, hw, x0 - hx0, y0 - hy0, w, h };
    const cnp_status dst = bytes ? cnp_mask_decode_u8(rd->table, rd->codes, hn, rd->codes)
                                 : cnp_mask_decode(&rd->rule, rd->mbuf, hn, rd->codes);
    if (dst != CNP_OK ||
        cnp_mask_apply(&win, r, rd->shape, rd->scratch, observed, w) != CNP_OK)
        return cnp_err(CNP_E_ARG, "%s mask '%s': bad mask window %d,%d %dx%d", rd->sc->role,
                       rd->sc->mask_path, x0, y0, w, h);
    return CNP_OK;
}

/* Block (x0 / bw, y0 / bh) of `band` into out (stride w) when the window
 * (x0, y0, w, h) is exactly that block, clipped by the raster's edges. */
static cnp_status read_block_window(cnp_reader *rd, GDALRasterBandH band, int x0, int y0, int w,
                                    int h, uint16_t *out)
{
    const int bw = rd->band_bw, bh = rd->band_bh;
    const int whole = w == bw && h == bh;
    if (!whole && !rd->band_buf &&
        !(rd->band_buf = malloc((size_t)bw * (size_t)bh * sizeof *rd->band_buf)))
        return cnp_err(CNP_E_NOMEM, "out of memory");
    uint16_t *dst = whole ? out : rd->band_buf;
    cnp_err_gdal_reset();
    if (GDALReadBlock(band, x0 / bw, y0 / bh, dst) != CE_None)
        return cnp_err(CNP_E_IO, "%s scene '%s': read failed at pixel %d,%d: %s", rd->sc->role,
                       rd->sc->path, x0, y0, cnp_err_gdal_reason());
    if (!whole)
        for (int y = 0; y < h; y++)
            memcpy(out + (size_t)y * (size_t)w, dst + (size_t)y * (size_t)bw,
                   (size_t)w * sizeof *out);
    return CNP_OK;
}

static int is_block_window(const cnp_reader *rd, int x0, int y0, int w, int h)
{
    const int bw = rd->band_bw, bh = rd->band_bh;
    if (bw <= 0 || x0 % bw != 0 || y0 % bh != 0)
        return 0;
    const int xs = GDALGetRasterBandXSize(rd->red), ys = GDALGetRasterBandYSize(rd->red);
    return w == (xs - x0 < bw ? xs - x0 : bw) && h == (ys - y0 < bh ? ys - y0 : bh);
}

/* Red, NIR and the observation flags of one window; DNs as `type`. */
static cnp_status reader_read(cnp_reader *rd, int x0, int y0, int w, int h, GDALDataType type,
                              void *red, void *nir, uint8_t *observed, uint8_t *inside)
{
    const size_t n = (size_t)w * (size_t)h;
    cnp_status st;

    if (type == GDT_UInt16 && is_block_window(rd, x0, y0, w, h)) {
        if ((st = read_block_window(rd, rd->red, x0, y0, w, h, red)) != CNP_OK ||
            (st = read_block_window(rd, rd->nir, x0, y0, w, h, nir)) != CNP_OK)
            return st;
    } else if ((st = read_band(rd->red, x0, y0, w, h, type, red, rd->sc, "scene")) != CNP_OK ||
               (st = read_band(rd->nir, x0, y0, w, h, type, nir, rd->sc, "scene")) != CNP_OK) {
        return st;
    }

    if (rd->mask_band) {
        if ((st = read_band(rd->mask_band, x0, y0, w, h, GDT_Byte, observed, rd->sc,
                            "scene")) != CNP_OK)
            return st;
    } else {
        memset(observed, 1, n);
    }
    if (inside)
        memcpy(inside, observed, n);

    if (rd->sc->nir_rescale && type == GDT_Float32)
        nir_to_red_units(rd->sc, nir, n);
    if (rd->mask_raster &&
        (st = read_mask(rd, x0, y0, w, h, observed)) != CNP_OK)
        return st;
    return CNP_OK;
}

/* A scene put on BEFORE by co-registration (sc->shifted): the window its
 * pixels come from, read as it is and resampled (cnp_raster_shift.h). */
static cnp_status read_shifted(cnp_reader *rd, int x0, int y0, int w, int h, float *red,
                               float *nir, uint8_t *observed, uint8_t *inside)
{
    cnp_shift_win sw;
    cnp_shift_window(rd->sc, GDALGetRasterXSize(rd->ds), GDALGetRasterYSize(rd->ds), x0, y0, w,
                     h, &sw);
    cnp_shift_bufs *b = &rd->shift;
    cnp_status st = cnp_shift_reserve(b, (size_t)sw.w * (size_t)sw.h + 1);
    if (st == CNP_OK && sw.w > 0 && sw.h > 0)
        st = reader_read(rd, sw.x0, sw.y0, sw.w, sw.h, GDT_Float32, b->plane[0], b->plane[1],
                         b->flag[0], inside ? b->flag[1] : NULL);
    return st != CNP_OK ? st : cnp_shift_pair(rd->sc, &sw, b, w, h, red, nir, observed, inside);
}

cnp_status cnp_reader_read(cnp_reader *rd, int x0, int y0, int w, int h,
                           float *red, float *nir, uint8_t *observed)
{
    if (rd->sc->shifted)
        return read_shifted(rd, x0, y0, w, h, red, nir, observed, NULL);
    return reader_read(rd, x0, y0, w, h, GDT_Float32, red, nir, observed, NULL);
}

cnp_status cnp_reader_read_ex(cnp_reader *rd, int x0, int y0, int w, int h, float *red,
                              float *nir, uint8_t *observed, uint8_t *inside)
{
    if (rd->sc->shifted)
        return read_shifted(rd, x0, y0, w, h, red, nir, observed, inside);
    return reader_read(rd, x0, y0, w, h, GDT_Float32, red, nir, observed, inside);
}

cnp_status cnp_reader_read_band(cnp_reader *rd, int band, int x0, int y0, int w, int h,
                                float *out)
{
    GDALRasterBandH b = band >= 1 && band <= GDALGetRasterCount(rd->ds)
                            ? GDALGetRasterBand(rd->ds, band) : NULL;
    if (!b)
        return cnp_err(CNP_E_DATA, "%s scene '%s': no band %d", rd->sc->role, rd->sc->path,
                       band);
    if (!rd->sc->shifted)
        return read_band(b, x0, y0, w, h, GDT_Float32, out, rd->sc, "scene");
    cnp_shift_win sw;
    cnp_shift_window(rd->sc, GDALGetRasterXSize(rd->ds), GDALGetRasterYSize(rd->ds), x0, y0, w,
                     h, &sw);
    cnp_status st = cnp_shift_reserve(&rd->shift, (size_t)sw.w * (size_t)sw.h + 1);
    if (st == CNP_OK && sw.w > 0 && sw.h > 0)
        st = read_band(b, sw.x0, sw.y0, sw.w, sw.h, GDT_Float32, rd->shift.plane[0], rd->sc,
                       "scene");
    int has = 0;
    const double nodata = GDALGetRasterNoDataValue(b, &has);
    return st != CNP_OK ? st : cnp_shift_band(rd->sc, &sw, &rd->shift, has, nodata, w, h, out);
}

double cnp_reader_band_nodata(const cnp_reader *rd, int band, int *has)
{
    *has = 0;
    if (band < 1 || band > GDALGetRasterCount(rd->ds))
        return 0;
    return GDALGetRasterNoDataValue(GDALGetRasterBand(rd->ds, band), has);
}

int cnp_reader_dn_u16(const cnp_reader *rd)
{
    if (rd->sc->shifted)       /* resampled DNs are not integers */
        return 0;
    const GDALDataType r = GDALGetRasterDataType(rd->red), n = GDALGetRasterDataType(rd->nir);
    return !rd->sc->nir_rescale && (r == GDT_UInt16 || r == GDT_Byte) &&
           (n == GDT_UInt16 || n == GDT_Byte);
}

int cnp_reader_band_u16(const cnp_reader *rd, int band)
{
    if (band < 1 || band > GDALGetRasterCount(rd->ds))
        return 0;
    const GDALDataType t = GDALGetRasterDataType(GDALGetRasterBand(rd->ds, band));
    return t == GDT_UInt16 || t == GDT_Byte;
}

cnp_status cnp_reader_read_u16(cnp_reader *rd, int x0, int y0, int w, int h,
                               uint16_t *red, uint16_t *nir, uint8_t *observed)
{
    if (!cnp_reader_dn_u16(rd))
        return cnp_err(CNP_E_ARG, "%s scene '%s': its DNs are not UInt16", rd->sc->role,
                       rd->sc->path);
    return reader_read(rd, x0, y0, w, h, GDT_UInt16, red, nir, observed, NULL);
}

size_t cnp_scene_reads_blocks_once(const cnp_scene *sc, int tile_w, int tile_h,
                                   size_t *mask_bytes)
{
    size_t need = 0;
    *mask_bytes = 0;
    /* A shifted scene's windows reach into the blocks around them. */
    if (sc->warped || sc->read_mask_band || sc->nir_rescale || sc->shifted)
        return 0;
    GDALDatasetH ds = cnp_raster_open(sc->read_path), mds = NULL;
    GDALDriverH drv = ds ? GDALGetDatasetDriver(ds) : NULL;
    if (drv && strcmp(GDALGetDriverShortName(drv), "GTiff") == 0) {
        GDALRasterBandH red = GDALGetRasterBand(ds, sc->red), nir = GDALGetRasterBand(ds, sc->nir);
        int rw, rh, nw, nh;
        GDALGetBlockSize(red, &rw, &rh);
        GDALGetBlockSize(nir, &nw, &nh);
        if (rw == tile_w && rh == tile_h && nw == tile_w && nh == tile_h)
            need = (size_t)tile_w * (size_t)tile_h *
                   (size_t)(GDALGetDataTypeSizeBytes(GDALGetRasterDataType(red)) +
                            GDALGetDataTypeSizeBytes(GDALGetRasterDataType(nir)));
    }
    if (need && sc->mask_read_path) {
        const int r = sc->mask_buffer_px;
        mds = cnp_raster_open(sc->mask_read_path);
        *mask_bytes = mask_blocks_bytes(mds, tile_w + 2 * r, tile_h + 2 * r);
        if (*mask_bytes == 0)
            need = 0;
    }
    if (mds)
        GDALClose(mds);
    if (ds)
        GDALClose(ds);
    return need;
}
