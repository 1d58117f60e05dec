/* pipeline/core/cnp_corrections.c - the scene corrections detect and
 * monitor share (cnp_corrections.h). */
#include "cnp_corrections.h"

#include <stdlib.h>
#include <string.h>

#include "cnp_err.h"

cnp_status cnp_corr_norm_params(const cnp_settings *s, double pixel_m, int width, int height,
                                cnp_norm_params *p)
{
    if (!(pixel_m > 0 && pixel_m <= 10000))
        pixel_m = 30.0;
    if (cnp_norm_defaults(pixel_m, p) != CNP_OK)
        return cnp_err(CNP_E_ARG, "normalisation: bad pixel size %g m", pixel_m);
    p->forest_ndvi = s->forest_ndvi;
    if (s->normalize == CNP_NORMALIZE_SCENE) {
        p->cell_px = 128;
        const int cells = ((width > height ? width : height) + p->cell_px - 1) / p->cell_px;
        p->radius_cells = p->wide_cells = cells;
    }
    return CNP_OK;
}

cnp_status cnp_corr_norm_finish(cnp_norm_grid *g, const cnp_norm_params *p, int64_t rows_done,
                                cnp_corr_norm *out)
{
    int64_t ncx, ncy;
    memset(out, 0, sizeof *out);
    cnp_norm_grid_cells(g, &ncx, &ncy);
    const size_t ncell = (size_t)ncx * (size_t)ncy;
    out->corr = malloc(ncell * sizeof *out->corr);
    out->level = malloc(ncell);
    out->count = malloc(ncell * sizeof *out->count);
    if (!out->corr || !out->level || !out->count) {
        cnp_corr_norm_free(out);
        return cnp_err(CNP_E_NOMEM, "out of memory for the normalisation");
    }
    if (cnp_norm_correct(g, rows_done, 0, ncy, out->corr, out->level, out->count) != CNP_OK) {
        cnp_corr_norm_free(out);
        return cnp_err(CNP_E_ARG, "normalisation: corrections failed");
    }
    out->ncx = ncx;
    out->ncy = ncy;
    out->field = (cnp_norm_field){ out->corr, ncx, ncy, 0, ncy, p->cell_px };
    return CNP_OK;
}

void cnp_corr_norm_free(cnp_corr_norm *n)
{
    free(n->corr);
    free(n->level);
    free(n->count);
    memset(n, 0, sizeof *n);
}

cnp_haze_dn cnp_corr_haze_dn(cnp_reader *rd, const cnp_scene *sc, const float *blue,
                             const uint16_t *blue16, int dn_u16, const float *red,
                             const float *nir, const float *ndvi)
{
    const cnp_date_params *r = &sc->radiometry;
    cnp_haze_dn d = { .ndvi = ndvi, .scale = r->scale, .offset = r->offset,
                      .saturated_dn = r->saturated_dn };
    d.nodata = cnp_reader_band_nodata(rd, sc->blue, &d.has_nodata);
    if (blue16)
        d.blue16 = blue16;
    else
        d.blue = blue;
    if (dn_u16) {
        d.red16 = (const uint16_t *)red;
        d.nir16 = (const uint16_t *)nir;
    } else {
        d.red = red;
        d.nir = nir;
    }
    return d;
}

int cnp_corr_haze_fit(const cnp_haze_hist *h, cnp_haze_line *line)
{
    /* A blue bin counts with 50 pixels: fewer is noise, not a surface. */
    return cnp_haze_fit(h, 50, line) == CNP_OK;
}

int cnp_corr_haze_applies(int fitted, int swir2) { return fitted || swir2; }

int64_t cnp_corr_haze_land(const cnp_haze_hist *h)
{
    int64_t n = 0;
    for (int b = 0; b < CNP_HAZE_NBIN; b++)
        for (int r = 0; r < CNP_HAZE_NBIN; r++)
            n += h->n[b][r];
    return n;
}
