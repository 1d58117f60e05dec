/* pipeline/core/cnp_losspass_norm.c - the relative normalisation of a
 * pass: its parameters, the corrections once the first half is in, and
 * their summary for run.json (kernels/cnp_norm.h does the arithmetic). */
#include "cnp_losspass_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_corrections.h"
#include "cnp_err.h"
#include "cnp_norm.h"

/* Normalisation parameters for the run's pixels and mode
 * (core/cnp_corrections.h: monitor uses the same). */
cnp_status cnp_lp_norm_params(const cnp_loss_pass *lp, cnp_norm_params *p)
{
    return cnp_corr_norm_params(lp->settings, lp->scene[0]->pixel_m, lp->tiling.win[2],
                                lp->tiling.win[3], p);
}

/* The first half's grid turned into corrections per cell. */
cnp_status cnp_lp_norm_finish(cnp_loss_pass *lp)
{
    cnp_corr_norm n;
    const cnp_status st = cnp_corr_norm_finish(lp->norm_grid, &lp->norm, lp->tiling.win[3], &n);
    if (st != CNP_OK)
        return st;
    lp->norm_corr = n.corr;
    lp->norm_level = n.level;
    lp->norm_count = n.count;
    lp->norm_ncx = n.ncx;
    lp->norm_ncy = n.ncy;
    lp->field = n.field;
    cnp_norm_grid_free(&lp->norm_grid);
    return CNP_OK;
}

/* No normalisation (the second index alone needs the two halves): a field
 * of zeros. */
cnp_status cnp_lp_norm_zero(cnp_loss_pass *lp)
{
    const int64_t ncx = (lp->tiling.win[2] + lp->norm.cell_px - 1) / lp->norm.cell_px;
    const int64_t ncy = (lp->tiling.win[3] + lp->norm.cell_px - 1) / lp->norm.cell_px;
    lp->zero_corr = calloc((size_t)(ncx * ncy), sizeof *lp->zero_corr);
    if (!lp->zero_corr)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    lp->field = (cnp_norm_field){ lp->zero_corr, ncx, ncy, 0, ncy, lp->norm.cell_px };
    return CNP_OK;
}

static int cmp_float(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

cnp_status cnp_loss_pass_norm_summary(const cnp_loss_pass *lp, cnp_norm_summary *out)
{
    memset(out, 0, sizeof *out);
    out->mode = lp->settings->normalize;
    if (!lp->norm_corr)
        return CNP_OK;
    const cnp_norm_params *p = &lp->norm;
    const int64_t ncx = lp->norm_ncx, ncy = lp->norm_ncy, ncell = ncx * ncy;
    out->cell_px = p->cell_px;
    out->radius_cells = p->radius_cells;
    out->wide_cells = p->wide_cells;
    out->min_count = p->min_count;
    out->cells = ncell;
    out->spill_bytes = lp->spill_bytes;
    float *sorted = malloc((size_t)ncell * sizeof *sorted);
    if (!sorted)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    memcpy(sorted, lp->norm_corr, (size_t)ncell * sizeof *sorted);
    qsort(sorted, (size_t)ncell, sizeof *sorted, cmp_float);
    out->min = sorted[0];
    out->max = sorted[ncell - 1];
    out->median = ncell % 2 ? sorted[ncell / 2]
                            : 0.5 * ((double)sorted[ncell / 2 - 1] + sorted[ncell / 2]);
    free(sorted);
    for (int64_t i = 0; i < ncell; i++)
        out->cells_by_level[lp->norm_level[i] & 3]++;

    /* Blocks of whole cells, about 1024 pixels a side. */
    const int cpb = 1024 / p->cell_px > 0 ? 1024 / p->cell_px : 1;
    const int64_t nbx = (ncx + cpb - 1) / cpb, nby = (ncy + cpb - 1) / cpb;
    out->block_px = cpb * p->cell_px;
    out->block = calloc((size_t)(nbx * nby), sizeof *out->block);
    if (!out->block)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    out->nblock = (size_t)(nbx * nby);
    const int W = lp->tiling.win[2], H = lp->tiling.win[3];
    for (int64_t by = 0; by < nby; by++)
        for (int64_t bx = 0; bx < nbx; bx++) {
            cnp_norm_block *b = &out->block[by * nbx + bx];
            double sum = 0;
            int64_t n = 0;
            int lv = 1;
            for (int64_t cy = by * cpb; cy < ncy && cy < (by + 1) * cpb; cy++)
                for (int64_t cx = bx * cpb; cx < ncx && cx < (bx + 1) * cpb; cx++) {
                    const int l = lp->norm_level[cy * ncx + cx];
                    sum += lp->norm_corr[cy * ncx + cx];
                    n++;
                    /* weakest: 0 below 3 below 2 below 1 */
                    if ((l == 0 ? 4 : l) > (lv == 0 ? 4 : lv))
                        lv = l;
                }
            b->x0 = lp->tiling.win[0] + (int32_t)(bx * out->block_px);
            b->y0 = lp->tiling.win[1] + (int32_t)(by * out->block_px);
            b->w = (int32_t)(bx * out->block_px + out->block_px > W ? W - bx * out->block_px
                                                                      : out->block_px);
            b->h = (int32_t)(by * out->block_px + out->block_px > H ? H - by * out->block_px
                                                                      : out->block_px);
            b->correction = n ? sum / (double)n : 0.0;
            b->level = lv;
        }
    return CNP_OK;
}
