/* pipeline/core/cnp_area.c - geodesic areas for the minimum mapping unit and
 * the observed and unobserved totals. */
#include "cnp_area.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cnp_err.h"

cnp_status cnp_area_scale_init(cnp_crs *crs, const int win[4], cnp_area_scale *sc)
{
    cnp_geom_ctx *g = NULL;
    cnp_status st = cnp_geom_ctx_create(crs, &g);
    sc->lo_m2 = INFINITY;
    sc->hi_m2 = 0;
    for (int j = 0; j < 5 && st == CNP_OK; j++)
        for (int i = 0; i < 5 && st == CNP_OK; i++) {
            double a = 0;
            const int x = win[0] + (int)((int64_t)(win[2] - 1) * i / 4);
            const int y = win[1] + (int)((int64_t)(win[3] - 1) * j / 4);
            if ((st = cnp_area_rect_m2(g, x, y, 1, 1, &a)) != CNP_OK)
                break;
            sc->lo_m2 = a < sc->lo_m2 ? a : sc->lo_m2;
            sc->hi_m2 = a > sc->hi_m2 ? a : sc->hi_m2;
        }
    cnp_geom_ctx_free(&g);
    /* A projection's scale is smooth: between lattice points it strays from
     * them by far less than this. */
    sc->lo_m2 *= 1 - 5e-4;
    sc->hi_m2 *= 1 + 5e-4;
    return st;
}

int cnp_area_verdict(const cnp_area_scale *sc, int64_t pixels, double min_m2)
{
    if ((double)pixels * sc->hi_m2 < min_m2)
        return CNP_AREA_BELOW;
    if ((double)pixels * sc->lo_m2 >= min_m2)
        return CNP_AREA_ABOVE;
    return CNP_AREA_UNSURE;
}

cnp_status cnp_area_rect_m2(cnp_geom_ctx *g, int x0, int y0, int w, int h, double *out)
{
    const int32_t ring[10] = { x0, y0, x0 + w, y0, x0 + w, y0 + h, x0, y0 + h, x0, y0 };
    return cnp_geom_ring_area(g, ring, 5, out);
}

cnp_status cnp_area_unobserved(cnp_crs *crs, cnp_unobserved *u, int nthreads, double *sum_m2)
{
    cnp_status st = CNP_OK;
    int failed = 0;
    char fail_msg[1024] = "";

    #pragma omp parallel num_threads(nthreads) default(none) shared(crs, u, st, failed, fail_msg)
    {
        cnp_geom_ctx *g = NULL;
        cnp_status tst = cnp_geom_ctx_create(crs, &g);
        #pragma omp for schedule(dynamic, 16)
        for (size_t p = 0; p < u->npiece; p++) {
            cnp_unobserved_piece *pc = &u->piece[p];
            double area = 0;
            for (size_t r = pc->ring0; r < pc->ring0 + pc->nrings && tst == CNP_OK; r++) {
                double a = 0;
                tst = cnp_geom_ring_area(g, u->xy + 2 * u->ring[r].first, u->ring[r].count, &a);
                area += u->ring[r].is_hole ? -a : a;
            }
            pc->area_m2 = area;
            if (tst != CNP_OK) {
                #pragma omp critical(area_unobserved_fail)
                if (!failed) {
                    st = tst;
                    snprintf(fail_msg, sizeof fail_msg, "%s", cnp_err_msg());
                    failed = 1;
                }
            }
        }
        cnp_geom_ctx_free(&g);
    }
    if (failed)
        return cnp_err(st, "%s", fail_msg);
    /* In piece order: the same sum for any thread count. */
    double sum = 0;
    for (size_t p = 0; p < u->npiece; p++)
        sum += u->piece[p].area_m2;
    *sum_m2 = sum;
    return CNP_OK;
}
