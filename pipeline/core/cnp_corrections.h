/* pipeline/core/cnp_corrections.h - what detect and monitor share of the
 * corrections a scene needs before its pixels can be classified: the
 * relative normalisation's parameters and its corrections from a gathered
 * grid (kernels/cnp_norm.h), and the haze test's view of a scene's DNs and
 * its clear line (kernels/cnp_haze.h). Detect gathers over its window's
 * first half (core/cnp_losspass_halves.c), monitor over a first pass of the
 * new scene against the footprint's baseline (monitor/cnp_monitor_norm.c);
 * both call these, so the two give the same corrections on the same pixels.
 */
#ifndef CNP_CORRECTIONS_H
#define CNP_CORRECTIONS_H

#include <stdint.h>

#include "cnp_config.h"
#include "cnp_haze.h"
#include "cnp_norm.h"
#include "cnp_raster.h"

/* cnp_corr_norm_params() :
 * The normalisation's parameters for pixels of pixel_m metres (30 when
 * that is not in (0, 10000]) over a window of width x height pixels, by
 * s->normalize and s->forest_ndvi. In scene mode every cell's window is
 * the whole window: one median.
 * @return CNP_OK, or CNP_E_ARG (message set). */
cnp_status cnp_corr_norm_params(const cnp_settings *s, double pixel_m, int width, int height,
                                cnp_norm_params *p);

/* The corrections per cell (cnp_norm_correct), owned: free with
 * cnp_corr_norm_free(). field points into corr. */
typedef struct cnp_corr_norm {
    float         *corr;
    uint8_t       *level;
    uint32_t      *count;
    int64_t        ncx, ncy;
    cnp_norm_field field;
} cnp_corr_norm;

/* cnp_corr_norm_finish() :
 * Every cell's correction from a grid of params p holding the whole window
 * (rows_done pixel rows of it, all accumulated).
 * @return CNP_OK, CNP_E_NOMEM or CNP_E_ARG (message set; *out freed). */
cnp_status cnp_corr_norm_finish(cnp_norm_grid *g, const cnp_norm_params *p, int64_t rows_done,
                                cnp_corr_norm *out);

/* cnp_corr_norm_free() : free what cnp_corr_norm_finish() made; zeroes *n. */
void cnp_corr_norm_free(cnp_corr_norm *n);

/* cnp_corr_haze_dn() :
 * A scene's tile as the haze test takes it: blue DNs as floats, or UInt16
 * when blue16 is not NULL; red and NIR as read (UInt16 when dn_u16), the
 * NDVI computed from them, the scene's radiometry and blue's nodata from
 * its reader. */
cnp_haze_dn cnp_corr_haze_dn(cnp_reader *rd, const cnp_scene *sc, const float *blue,
                             const uint16_t *blue16, int dn_u16, const float *red,
                             const float *nir, const float *ndvi);

/* cnp_corr_haze_fit() :
 * The clear line of a scene's own clear land from its counts; the default
 * line stays in *line when there is too little to fit one.
 * @return 1 when fitted, else 0. */
int cnp_corr_haze_fit(const cnp_haze_hist *h, cnp_haze_line *line);

/* cnp_corr_haze_applies() :
 * Whether the haze test is applied to a scene whose clear line was `fitted`
 * or not, with SWIR2 (`swir2`) or without. The default line was drawn from
 * reference spectra, not from this sensor's: alone, with no SWIR2 to check a
 * pixel against, it can call most of a scene hazy (a small crop of a sensor
 * whose blue runs bright), so a scene that cannot fit its own line and has
 * no SWIR2 is not tested.
 * @return 1 when applied. */
int cnp_corr_haze_applies(int fitted, int swir2);

/* cnp_corr_haze_land() : the pixels of clear land the clear line was counted
 * over (none: the haze test has nothing it could flag). */
int64_t cnp_corr_haze_land(const cnp_haze_hist *h);

#endif /* CNP_CORRECTIONS_H */
