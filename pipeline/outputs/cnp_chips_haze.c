/* pipeline/outputs/cnp_chips_haze.c - the chips hatch what detection's haze
 * test took out of AFTER, with the same kernel and the run's clear line. */
#include "cnp_chips_int.h"

#include <math.h>

#include "cnp_change.h"
#include "cnp_err.h"
#include "cnp_haze.h"

/* A band's DNs as reflectance into out, NAN where nodata or saturated. */
static cnp_status band_reflectance(cnp_reader *rd, const cnp_scene *sc, int band, int x0, int y0, int cw, int ch,
                                   float *out)
{
    cnp_status st = cnp_reader_read_band(rd, band, x0, y0, cw, ch, out);
    if (st != CNP_OK)
        return st;
    int has = 0;
    const double nd = cnp_reader_band_nodata(rd, band, &has);
    const cnp_date_params *r = &sc->radiometry;
    for (size_t i = 0, n = (size_t)cw * (size_t)ch; i < n; i++) {
        const double v = out[i];
        out[i] = (has && v == nd) || v >= r->saturated_dn ? NAN : (float)(v * r->scale + r->offset);
    }
    return CNP_OK;
}

/* Detection's haze test on AFTER (kernels/cnp_haze.h, with the clear line
 * the run fitted): the pixels it took out are hatched like masked ones, so
 * the chips show what detection saw. */
cnp_status cnp_chips_haze(cnp_reader *rd, const cnp_scene *sc, const cnp_result *res,
                          chip_data *cd, int x0, int y0, int cw, int ch)
{
    const size_t n = (size_t)cw * (size_t)ch;
    const cnp_date_params *r = &sc->radiometry;
    const int swir = res->swir_used && sc->swir2 > 0;
    cnp_status st = band_reflectance(rd, sc, sc->blue, x0, y0, cw, ch, cd->hz[0]);
    if (st == CNP_OK && swir)
        st = band_reflectance(rd, sc, sc->swir2, x0, y0, cw, ch, cd->hz[3]);
    if (st != CNP_OK)
        return cnp_err(st, "evidence chips: %s", cnp_err_msg());
    for (size_t i = 0; i < n; i++) {
        const int valid = cd->observed[i] && !isnan(cnp_ndvi_dn(cd->red[i], cd->nir[i], r));
        cd->hz[1][i] = valid ? (float)(cd->red[i] * r->scale + r->offset) : NAN;
        cd->hz[2][i] = valid ? (float)(cd->nir[i] * r->scale + r->offset) : NAN;
        if (!valid)
            cd->hz[0][i] = NAN;
    }
    cnp_haze_params p;
    cnp_haze_defaults(&p, NULL);
    const cnp_haze_line line = { res->haze_slope, res->haze_intercept };
    const cnp_haze_bands hb = { cd->hz[0], cd->hz[1], cd->hz[2], swir ? cd->hz[3] : NULL };
    if ((st = cnp_haze_classify(&p, &line, &hb, n, cd->hflags)) != CNP_OK)
        return cnp_err(st, "evidence chips: the haze test failed");
    for (size_t i = 0; i < n; i++)
        if (cd->hflags[i] & CNP_HAZE_HAZY)
            cd->observed[i] = 0;
    return CNP_OK;
}
