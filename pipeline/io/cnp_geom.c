/* pipeline/io/cnp_geom.c - traced rings to OGR geometries and geodesic areas. */
#include "cnp_geom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_err.h"

void cnp_geom_init(cnp_geom_ctx *g, const double *gt, OGRCoordinateTransformationH to_wgs84)
{
    memset(g, 0, sizeof *g);
    g->gt = gt;
    g->to_wgs84 = to_wgs84;
    geod_init(&g->geod, 6378137.0, 1 / 298.257223563);
}

void cnp_geom_free(cnp_geom_ctx *g)
{
    free(g->buf);
    g->buf = NULL;
    g->cap = 0;
}

OGRGeometryH cnp_geom_multipolygon(const double *gt, const int32_t *xy, const cnp_ring *ring,
                                   size_t n)
{
    OGRGeometryH multi = OGR_G_CreateGeometry(wkbMultiPolygon), poly = NULL;
    /* A north-up grid flips y, turning the tracer's shells counter-clockwise;
     * a south-up grid does not, so reverse rings there to keep shells CCW. */
    const int reverse = gt[5] > 0;
    for (size_t r = 0; r < n; r++) {
        const int32_t *v = xy + 2 * ring[r].first;
        const size_t count = ring[r].count;
        if (!ring[r].is_hole) {
            if (poly)
                OGR_G_AddGeometryDirectly(multi, poly);
            poly = OGR_G_CreateGeometry(wkbPolygon);
        }
        OGRGeometryH lr = OGR_G_CreateGeometry(wkbLinearRing);
        OGR_G_SetPointCount(lr, (int)count);
        for (size_t i = 0; i < count; i++) {
            const size_t j = reverse ? count - 1 - i : i;
            OGR_G_SetPoint_2D(lr, (int)i, gt[0] + v[2 * j] * gt[1], gt[3] + v[2 * j + 1] * gt[5]);
        }
        OGR_G_AddGeometryDirectly(poly, lr);
    }
    if (poly)
        OGR_G_AddGeometryDirectly(multi, poly);
    return multi;
}

cnp_status cnp_geom_ring_area(cnp_geom_ctx *g, const int32_t *xy, size_t count, int reverse,
                              double *area_m2, OGRGeometryH ll)
{
    enum { STEP = 32 };
    size_t n = 0;
    for (size_t i = 0; i + 1 < count; i++) {
        const int32_t dx = abs(xy[2 * i + 2] - xy[2 * i]), dy = abs(xy[2 * i + 3] - xy[2 * i + 1]);
        n += (size_t)((dx > dy ? dx : dy) + STEP - 1) / STEP;
    }
    /* lon, lat, and where each vertex's own point is among them */
    if (g->cap < 3 * n + 1) {
        double *p = realloc(g->buf, (3 * n + 1) * sizeof *p);
        if (!p)
            return cnp_err(CNP_E_NOMEM, "out of memory");
        g->buf = p;
        g->cap = 3 * n + 1;
    }
    double *lon = g->buf, *lat = g->buf + n, *vertex_at = g->buf + 2 * n;
    size_t k = 0;
    for (size_t i = 0; i + 1 < count; i++) {
        const double ax = xy[2 * i], ay = xy[2 * i + 1], bx = xy[2 * i + 2], by = xy[2 * i + 3];
        const int32_t dx = abs(xy[2 * i + 2] - xy[2 * i]), dy = abs(xy[2 * i + 3] - xy[2 * i + 1]);
        const int steps = ((dx > dy ? dx : dy) + STEP - 1) / STEP;
        vertex_at[i] = (double)k;
        for (int s = 0; s < steps; s++) {
            const double t = (double)s / steps;
            lon[k] = g->gt[0] + (ax + t * (bx - ax)) * g->gt[1];
            lat[k] = g->gt[3] + (ay + t * (by - ay)) * g->gt[5];
            k++;
        }
    }
    if (!OCTTransform(g->to_wgs84, (int)k, lon, lat, NULL))
        return cnp_err(CNP_E_DATA, "cannot transform a polygon to WGS84");
    double area = 0;
    geod_polygonarea(&g->geod, lat, lon, (int)k, &area, NULL);
    *area_m2 = fabs(area);

    if (ll) {
        OGR_G_SetPointCount(ll, (int)count);
        for (size_t i = 0; i < count; i++) {
            size_t j = reverse ? count - 1 - i : i;
            if (j == count - 1)
                j = 0;                       /* the closing vertex is the first */
            const size_t at = (size_t)vertex_at[j];
            OGR_G_SetPoint_2D(ll, (int)i, lon[at], lat[at]);
        }
    }
    return CNP_OK;
}

cnp_status cnp_geom_alert(cnp_geom_ctx *g, const cnp_rings *rings, OGRGeometryH *scene,
                          OGRGeometryH *wgs84, double *area_m2)
{
    OGRGeometryH multi84 = OGR_G_CreateGeometry(wkbMultiPolygon), poly84 = NULL;
    const int reverse = g->gt[5] > 0;
    cnp_status st = CNP_OK;
    double area = 0;

    for (size_t r = 0; r < rings->n && st == CNP_OK; r++) {
        const cnp_ring *ring = &rings->ring[r];
        if (!ring->is_hole) {
            if (poly84)
                OGR_G_AddGeometryDirectly(multi84, poly84);
            poly84 = OGR_G_CreateGeometry(wkbPolygon);
        }
        OGRGeometryH lr84 = OGR_G_CreateGeometry(wkbLinearRing);
        OGR_G_AddGeometryDirectly(poly84, lr84);
        double a = 0;
        st = cnp_geom_ring_area(g, rings->xy + 2 * ring->first, ring->count, reverse, &a, lr84);
        area += ring->is_hole ? -a : a;
    }
    if (poly84)
        OGR_G_AddGeometryDirectly(multi84, poly84);
    if (st != CNP_OK) {
        OGR_G_DestroyGeometry(multi84);
        return st;
    }
    if (scene)
        *scene = cnp_geom_multipolygon(g->gt, rings->xy, rings->ring, rings->n);
    *wgs84 = multi84;
    *area_m2 = area;
    return CNP_OK;
}
