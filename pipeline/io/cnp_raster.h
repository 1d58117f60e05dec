/* pipeline/io/cnp_raster.h - input scenes: opening, checking, putting AFTER on
 * BEFORE's grid, and per-thread tile readers.
 *
 * GDAL dataset handles are not thread-safe (no GDAL_OF_THREAD_SAFE before GDAL
 * 3.10), so a cnp_scene only *describes* an input (paths, grid, bands,
 * radiometry) and every worker thread opens its own cnp_reader on it.
 * This is the only module that includes gdal.h besides the writers.
 */
#ifndef CNP_RASTER_H
#define CNP_RASTER_H

#include <stdint.h>

#include "cnp_change.h"
#include "cnp_config.h"
#include "cnp_mask.h"
#include "cnp_status.h"

struct cnp_product;

typedef struct cnp_scene {
    const char *role;            /* "BEFORE" or "AFTER", for messages             */
    char  *path;                 /* as given by the user                          */
    char  *mask_path;            /* optional mask raster as given, or NULL         */
    char  *read_path;            /* what readers open: path or a warped VRT        */
    char  *mask_read_path;       /* likewise for the mask                          */
    int    width, height, nbands;/* of read_path (BEFORE's grid once aligned)      */
    int    src_width, src_height;/* of the original file                          */
    double gt[6];                /* geotransform of read_path                      */
    char  *wkt;                  /* CRS of read_path                               */
    int    block_w, block_h;     /* natural block size of the red band            */
    int    red, nir, green, blue;/* 1-based bands; green/blue 0 = none             */
    int    swir2;                /* SWIR 2.2 um band, 0 = none (cnp_swir.h)       */
    int    read_mask_band;       /* 1: GDAL mask band (alpha/per-dataset) must be read */
    int    warped;               /* 1 when read_path is a warped VRT               */
    const char *scale_source;    /* "option", "metadata" or "default"            */
    cnp_date_params radiometry;  /* scale, offset, nodata, saturation             */
    char   date[CNP_DATE_LEN];   /* acquisition date or ""                        */
    const char *date_source;     /* metadata item name, "option" or "none"        */
    struct cnp_product *product; /* what `path` resolved to (cnp_product.h);
                                  * NULL for a plain raster read as it is         */
    char  *mask_src_path;        /* the mask file warps start from (its own grid) */
    cnp_mask_rule mask_rule;     /* how mask values decode (kernels/cnp_mask.h)   */
    int    mask_buffer_px;       /* clouds grow by this many pixels of read_path  */
    double pixel_m;              /* pixel size of read_path in metres (approx.)   */
    int    nir_rescale;          /* 1: NIR has its own scale/offset; readers turn
                                  * its DNs into red's units: dn * gain + bias    */
    double nir_gain, nir_bias;
    const cnp_settings *settings;/* the run's settings (grid choice, buffer)      */
    cnp_settings *own_settings;  /* settings the scene owns (a grid scene's)     */
    char  *vsimem[6];            /* /vsimem files this scene owns                 */
    int    nvsimem;
    /* Co-registration (pipeline/core/cnp_coreg_scene.h): when `shifted`, every
     * reader of the scene returns it resampled (bilinear) at (x - shift_dx,
     * y - shift_dy), i.e. put on BEFORE (kernels/cnp_coreg.h's convention);
     * pixels whose sources fall outside it, or are invalid, are not observed. */
    int    shifted;
    double shift_dx, shift_dy;
} cnp_scene;

/* cnp_scene_open() :
 * Open `path` (and `mask_path` when not NULL), check bands, CRS and mask grid,
 * and fill `sc`. `date_option` (may be "") is used when the raster carries no date.
 * `path` may be a satellite product (cnp_product.h): its red, NIR (green, blue)
 * band files are then stacked in a VRT (bands 1, 2, 3, 4; --red/--nir do not
 * apply), its quality layer is put on the red band's grid (nearest) and
 * decoded by its profile's rule, and its metadata gives the date, scale and
 * offset. A `mask_path` given by the user replaces the product's mask.
 * `s` must outlive the scene.
 * @return CNP_OK, CNP_E_IO (cannot open), CNP_E_DATA (unusable) or CNP_E_CONFIG
 *         (band number out of range). */
cnp_status cnp_scene_open(cnp_scene *sc, const char *role, const char *path,
                          const char *mask_path, const cnp_settings *s,
                          const char *date_option);

/* cnp_scene_align() :
 * Put both scenes on one grid: BEFORE's ([grid] align = before, the default),
 * AFTER's, the finer one's, or an explicit [grid] t_srs / tr. A scene not on
 * it gets warped VRTs as read paths (bilinear for reflectance, nearest for the
 * mask, an alpha band marking its footprint); its width, height, gt and wkt
 * become the grid's, so afterwards `before` describes the common grid.
 * Compute the window of the grid both scenes cover into win[4] = {x0, y0, w, h}.
 * @return CNP_OK; CNP_E_DATA when the scenes do not overlap or overlap by less
 *         than [detect] min_area; CNP_E_CONFIG for a bad t_srs / tr. */
cnp_status cnp_scene_align(cnp_scene *after, cnp_scene *before, int win[4]);

void cnp_scene_free(cnp_scene *sc);

/* cnp_scene_mask_rule() : the scene's mask in words: its product's rule
 * ("QA_PIXEL bits: ..."), "[mask] invalid values" for a mask raster the user
 * gave, or NULL when there is none. The text run.json and the report give. */
const char *cnp_scene_mask_rule(const cnp_scene *sc);

/* cnp_scene_band_text() : which bands are red and NIR, in words ("red SR_B4,
 * NIR SR_B5 of Landsat Collection 2 Level-2", "red band 3, NIR band 4 of
 * x.tif"). */
void cnp_scene_band_text(const cnp_scene *sc, char *out, size_t size);

/* cnp_scene_open_grid() :
 * A scene that only carries a grid (CRS wkt, gt, width x height), for
 * cnp_scene_align() onto a grid no file has, such as a monitored
 * footprint's. It is never read. `name` names it in messages. */
cnp_status cnp_scene_open_grid(cnp_scene *sc, const char *name, const char *wkt,
                               const double gt[6], int width, int height, const cnp_settings *s);

typedef struct cnp_reader cnp_reader;

cnp_status cnp_reader_open(const cnp_scene *sc, const cnp_settings *s, cnp_reader **out);

/* cnp_reader_read() :
 * Read window (x0, y0, w, h) of red and NIR as float DNs into row-major
 * buffers of stride w, and the observation mask (1 = observed by the mask
 * raster and GDAL's mask band) into `observed`. The mask raster is decoded by
 * sc->mask_rule and its spreading classes (clouds, shadows) grow by
 * sc->mask_buffer_px: the reader reads the mask with a halo of that many
 * pixels around the window itself, so any tiling gives the same flags. */
cnp_status cnp_reader_read(cnp_reader *rd, int x0, int y0, int w, int h,
                           float *red, float *nir, uint8_t *observed);

/* cnp_reader_read_ex() : cnp_reader_read(), and in `inside` (may be NULL) 0
 * where the scene itself has no data (GDAL's mask band: a warped scene's
 * footprint, an alpha band), 1 elsewhere; `observed` also takes the mask
 * raster's rule and buffer, so it is 0 wherever `inside` is. */
cnp_status cnp_reader_read_ex(cnp_reader *rd, int x0, int y0, int w, int h, float *red,
                              float *nir, uint8_t *observed, uint8_t *inside);

/* cnp_reader_read_band() : any band (1-based) of the scene as read (on the
 * common grid), as float DNs, e.g. green and blue for pictures. */
cnp_status cnp_reader_read_band(cnp_reader *rd, int band, int x0, int y0, int w, int h,
                                float *out);

/* The nodata value of band `band` (*has = 0: none). */
double cnp_reader_band_nodata(const cnp_reader *rd, int band, int *has);

/* 1 when red and NIR can be read as UInt16 without losing anything (UInt16 or
 * Byte bands, no NIR rescaling): cnp_reader_read_u16() then skips the
 * conversion to float. */
int cnp_reader_dn_u16(const cnp_reader *rd);

/* 1 when band `band` (1-based) holds UInt16 or Byte DNs: read as floats,
 * its values are whole numbers a UInt16 keeps exactly. */
int cnp_reader_band_u16(const cnp_reader *rd, int band);

/* cnp_reader_read() with UInt16 DNs; CNP_E_ARG unless cnp_reader_dn_u16(). */
cnp_status cnp_reader_read_u16(cnp_reader *rd, int x0, int y0, int w, int h,
                               uint16_t *red, uint16_t *nir, uint8_t *observed);

void cnp_reader_close(cnp_reader **rd);

/* cnp_scene_reads_blocks_once() :
 * Whether readers of `sc` that read it in tiles of tile_w x tile_h aligned to
 * its blocks decode each block of its bands once with no help from GDAL's
 * block cache: a GeoTIFF read as it is (not warped, no GDAL mask band, no NIR
 * rescaling) whose red and NIR blocks are the tiles, and whose mask raster, if
 * any, a reader keeps in blocks of its own. GDAL's cache then only has to hold
 * a tile's red and NIR blocks; a larger one only fills up with the file's other
 * bands, which a pixel-interleaved GeoTIFF pushes into it as each block is
 * decoded.
 * @return the bytes of one tile's red and NIR blocks, or 0 when the cache is
 *         needed; *mask_bytes: the mask blocks each reader keeps (0 if none). */
size_t cnp_scene_reads_blocks_once(const cnp_scene *sc, int tile_w, int tile_h,
                                   size_t *mask_bytes);

/* Read a decimated (averaged) window of bands into float buffers of
 * out_w x out_h; bands[i] == 0 fills with zeros. Used for quicklooks. */
cnp_status cnp_scene_read_decimated(const cnp_scene *sc, const int win[4],
                                    const int bands[3], int out_w, int out_h,
                                    float *out[3]);

/* 1 when the red band of the scene as read has internal overviews. */
int cnp_scene_has_overviews(const cnp_scene *sc);

#endif /* CNP_RASTER_H */
