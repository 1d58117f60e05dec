/* pipeline/core/cnp_quicklook.c - the overview's store and the parts the
 * workers fill for their units, merged in unit order. */
#include "cnp_quicklook.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_change.h"
#include "cnp_err.h"

cnp_status cnp_overview_init(cnp_overview *ov, const int win[4], int max_size)
{
    memset(ov, 0, sizeof *ov);
    memcpy(ov->win, win, sizeof ov->win);
    const int longest = win[2] > win[3] ? win[2] : win[3];
    ov->factor = (longest + max_size - 1) / max_size;
    if (ov->factor < 1)
        ov->factor = 1;
    if (ov->factor > 255)   /* unobserved counts are 16-bit: factor^2 must fit */
        return cnp_err(CNP_E_DATA, "scene too large for a %d px overview (%d px)", max_size, longest);
    ov->width = (win[2] + ov->factor - 1) / ov->factor;
    ov->height = (win[3] + ov->factor - 1) / ov->factor;
    const size_t n = (size_t)ov->width * (size_t)ov->height;
    ov->unobserved = calloc(n, sizeof *ov->unobserved);
    ov->red = malloc(n * sizeof *ov->red);
    ov->nir = malloc(n * sizeof *ov->nir);
    if (!ov->unobserved || !ov->red || !ov->nir) {
        cnp_overview_free(ov);
        return cnp_err(CNP_E_NOMEM, "out of memory for the overview");
    }
    for (size_t i = 0; i < n; i++)
        ov->red[i] = ov->nir[i] = NAN;
    return CNP_OK;
}

void cnp_overview_free(cnp_overview *ov)
{
    free(ov->unobserved);
    free(ov->red);
    free(ov->nir);
    memset(ov, 0, sizeof *ov);
}

int cnp_overview_cell_span(int ocell, int factor, int len)
{
    const int start = ocell * factor;
    return start + factor <= len ? factor : len - start;
}

cnp_status cnp_overview_part_init(cnp_overview_part *p, const cnp_overview *ov, int strip_h)
{
    memset(p, 0, sizeof *p);
    p->ov = ov;
    p->cap_rows = strip_h / ov->factor + 2;
    const size_t n = (size_t)p->cap_rows * (size_t)ov->width;
    p->unobserved = calloc(n, sizeof *p->unobserved);
    p->red = malloc(n * sizeof *p->red);
    p->nir = malloc(n * sizeof *p->nir);
    p->col = malloc((size_t)ov->win[2] * sizeof *p->col);
    p->centre_col = malloc((size_t)ov->win[2]);
    if (!p->unobserved || !p->red || !p->nir || !p->col || !p->centre_col)
        return cnp_err(CNP_E_NOMEM, "out of memory for the overview");
    for (int x = 0; x < ov->win[2]; x++) {
        const int ox = x / ov->factor;
        p->col[x] = ox;
        p->centre_col[x] = x == ox * ov->factor + cnp_overview_cell_span(ox, ov->factor, ov->win[2]) / 2;
    }
    return CNP_OK;
}

void cnp_overview_part_free(cnp_overview_part *p)
{
    free(p->unobserved);
    free(p->red);
    free(p->nir);
    free(p->col);
    free(p->centre_col);
    memset(p, 0, sizeof *p);
}

void cnp_overview_part_reset(cnp_overview_part *p, int x0, int w, int y0, int h)
{
    const cnp_overview *ov = p->ov;
    p->oy0 = (y0 - ov->win[1]) / ov->factor;
    p->rows = (y0 + h - 1 - ov->win[1]) / ov->factor - p->oy0 + 1;
    p->ox0 = (x0 - ov->win[0]) / ov->factor;
    p->cols = (x0 + w - 1 - ov->win[0]) / ov->factor - p->ox0 + 1;
    for (int r = 0; r < p->rows; r++) {
        const size_t i0 = (size_t)r * ov->width + (size_t)p->ox0;
        memset(p->unobserved + i0, 0, (size_t)p->cols * sizeof *p->unobserved);
        for (size_t i = i0; i < i0 + (size_t)p->cols; i++)
            p->red[i] = p->nir[i] = NAN;
    }
}

void cnp_overview_part_add(cnp_overview_part *p, int x0, int y0, int w, int h,
                           const uint8_t *cls, const cnp_dn_rows *after,
                           const float *ndvi_after)
{
    const cnp_overview *ov = p->ov;
    const int *col = p->col + (x0 - ov->win[0]);
    const uint8_t *centre = p->centre_col + (x0 - ov->win[0]);
    for (int r = 0; r < h; r++) {
        const int wy = y0 + r - ov->win[1], oy = wy / ov->factor;
        const int centre_row = wy == oy * ov->factor + cnp_overview_cell_span(oy, ov->factor, ov->win[3]) / 2;
        const size_t row = (size_t)(oy - p->oy0) * ov->width;
        const size_t i0 = (size_t)r * w;
        if (memchr(cls + i0, CNP_CLASS_UNOBSERVED, (size_t)w))
            for (int x = 0; x < w; x++)
                p->unobserved[row + (size_t)col[x]] += cls[i0 + x] == CNP_CLASS_UNOBSERVED;
        if (!centre_row)
            continue;
        for (int x = 0; x < w; x++) {
            if (!centre[x] || isnan(ndvi_after[i0 + x]))
                continue;
            const size_t i = i0 + (size_t)x;
            p->red[row + (size_t)col[x]] = after->red ? after->red[i] : after->red16[i];
            p->nir[row + (size_t)col[x]] = after->nir ? after->nir[i] : after->nir16[i];
        }
    }
}

/* Parts are merged in order; a part only writes the centres it holds, and
 * only its own columns are visited (cells cut by its edges are shared with
 * the part beside it: their counts add up). */
void cnp_overview_part_merge(cnp_overview *ov, const cnp_overview_part *p)
{
    const size_t base = (size_t)p->oy0 * ov->width;
    for (int r = 0; r < p->rows; r++) {
        const size_t i0 = (size_t)r * ov->width + (size_t)p->ox0;
        for (size_t i = i0; i < i0 + (size_t)p->cols; i++) {
            ov->unobserved[base + i] += p->unobserved[i];
            if (!isnan(p->red[i])) {
                ov->red[base + i] = p->red[i];
                ov->nir[base + i] = p->nir[i];
            }
        }
    }
}

