/* pipeline/io/cnp_geom.c - a grid's CRS, traced rings to OGR geometries and
 * geodesic areas. */
#include "cnp_geom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <geodesic.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "cnp_err.h"

struct cnp_crs {
    char  *wkt, *what;
    double gt[6];
    int    projected;
    double linear_units;                     /* metres per CRS unit        */
    OGRCoordinateTransformationH to_wgs84;
};

struct cnp_geom_ctx {
    cnp_crs *crs;                            /* own copy                    */
    struct geod_geodesic geod;               /* WGS84 ellipsoid             */
    double  *buf;                            /* scratch: lon, lat, vertex_at */
    size_t   cap;
    double  *px;                             /* scratch: a ring in pixels   */
    size_t   pcap;
};

static OGRGeometryH ogr(cnp_geometry *g) { return (OGRGeometryH)g; }
static cnp_geometry *ours(OGRGeometryH g) { return (cnp_geometry *)g; }

/* ---- the grid's CRS ------------------------------------------------------ */

cnp_status cnp_crs_open(const char *wkt, const double gt[6], const char *what, cnp_crs **out)
{
    cnp_status st = CNP_OK;
    OGRSpatialReferenceH srs = NULL, wgs84 = NULL;
    cnp_crs *c = calloc(1, sizeof *c);

    *out = NULL;
    if (!c || !(c->wkt = strdup(wkt ? wkt : "")) || !(c->what = strdup(what ? what : "")))
        st = cnp_err(CNP_E_NOMEM, "out of memory");
    if (st == CNP_OK) {
        memcpy(c->gt, gt, sizeof c->gt);
        srs = OSRNewSpatialReference(c->wkt);
        wgs84 = OSRNewSpatialReference(NULL);
        if (!srs || !wgs84 || OSRImportFromEPSG(wgs84, 4326) != OGRERR_NONE)
            st = cnp_err(CNP_E_DATA, "cannot set up %s", c->what);
    }
    if (st == CNP_OK) {
        OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
        OSRSetAxisMappingStrategy(wgs84, OAMS_TRADITIONAL_GIS_ORDER);
        c->projected = OSRIsProjected(srs);
        c->linear_units = c->projected ? OSRGetLinearUnits(srs, NULL) : 1.0;
        c->to_wgs84 = OCTNewCoordinateTransformation(srs, wgs84);
        if (!c->to_wgs84)
            st = cnp_err(CNP_E_DATA, "no transformation from %s to WGS84", c->what);
    }
    OSRDestroySpatialReference(srs);
    OSRDestroySpatialReference(wgs84);
    if (st != CNP_OK) {
        cnp_crs_close(&c);
        return st;
    }
    *out = c;
    return CNP_OK;
}

cnp_status cnp_crs_clone(const cnp_crs *c, cnp_crs **out)
{
    cnp_crs *d = calloc(1, sizeof *d);
    *out = NULL;
    if (!d)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    *d = *c;
    d->wkt = strdup(c->wkt);
    d->what = strdup(c->what);
    /* A transformation object must not be shared between threads. */
    d->to_wgs84 = OCTClone(c->to_wgs84);
    if (!d->wkt || !d->what || !d->to_wgs84) {
        cnp_crs_close(&d);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    *out = d;
    return CNP_OK;
}

void cnp_crs_close(cnp_crs **pc)
{
    if (!pc || !*pc)
        return;
    cnp_crs *c = *pc;
    if (c->to_wgs84)
        OCTDestroyCoordinateTransformation(c->to_wgs84);
    free(c->wkt);
    free(c->what);
    free(c);
    *pc = NULL;
}

const double *cnp_crs_gt(const cnp_crs *c) { return c->gt; }

int cnp_crs_to_wgs84(cnp_crs *c, int n, double *x, double *y)
{
    return OCTTransform(c->to_wgs84, n, x, y, NULL) ? 1 : 0;
}

cnp_status cnp_crs_pixel_area_m2(cnp_crs *c, double cx, double cy, double *out)
{
    if (c->projected) {
        const double u = c->linear_units;
        *out = fabs(c->gt[1] * c->gt[5]) * u * u;
        return CNP_OK;
    }
    double lon[5], lat[5];
    const double px[5] = { cx, cx + 1, cx + 1, cx, cx }, py[5] = { cy, cy, cy + 1, cy + 1, cy };
    for (int i = 0; i < 5; i++) {
        lon[i] = c->gt[0] + px[i] * c->gt[1];
        lat[i] = c->gt[3] + py[i] * c->gt[5];
    }
    if (!cnp_crs_to_wgs84(c, 5, lon, lat))
        return cnp_err(CNP_E_DATA, "cannot transform %s to WGS84", c->what);
    struct geod_geodesic geod;
    geod_init(&geod, 6378137.0, 1 / 298.257223563);
    double area = 0;
    geod_polygonarea(&geod, lat, lon, 4, &area, NULL);
    *out = fabs(area);
    return CNP_OK;
}

/* ---- geometries ------------------------------------------------------------ */

void cnp_geometry_free(cnp_geometry *g)
{
    if (g)
        OGR_G_DestroyGeometry(ogr(g));
}

void cnp_geometry_counts(const cnp_geometry *cg, size_t *rings, size_t *points)
{
    OGRGeometryH g = (OGRGeometryH)(uintptr_t)cg;
    *rings = *points = 0;
    const int np = OGR_G_GetGeometryCount(g);
    for (int p = 0; p < np; p++) {
        OGRGeometryH poly = OGR_G_GetGeometryRef(g, p);
        const int nr = OGR_G_GetGeometryCount(poly);
        for (int r = 0; r < nr; r++)
            *points += (size_t)OGR_G_GetPointCount(OGR_G_GetGeometryRef(poly, r));
        *rings += (size_t)nr;
    }
}

char *cnp_geometry_wkb_hex(const cnp_geometry *cg)
{
    static const char hx[] = "0123456789abcdef";
    OGRGeometryH g = (OGRGeometryH)(uintptr_t)cg;
    const size_t len = (size_t)OGR_G_WkbSize(g);
    unsigned char *wkb = malloc(len ? len : 1);
    char *s = malloc(2 * len + 1);
    if (!wkb || !s || OGR_G_ExportToWkb(g, wkbNDR, wkb) != OGRERR_NONE) {
        free(wkb);
        free(s);
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        s[2 * i] = hx[wkb[i] >> 4];
        s[2 * i + 1] = hx[wkb[i] & 15];
    }
    s[2 * len] = '\0';
    free(wkb);
    return s;
}

cnp_status cnp_geom_ctx_create(const cnp_crs *crs, cnp_geom_ctx **out)
{
    cnp_geom_ctx *g = calloc(1, sizeof *g);
    *out = NULL;
    if (!g)
        return cnp_err(CNP_E_NOMEM, "out of memory for tracing");
    cnp_status st = cnp_crs_clone(crs, &g->crs);
    if (st != CNP_OK) {
        free(g);
        return st;
    }
    geod_init(&g->geod, 6378137.0, 1 / 298.257223563);
    *out = g;
    return CNP_OK;
}

void cnp_geom_ctx_free(cnp_geom_ctx **pg)
{
    if (!pg || !*pg)
        return;
    cnp_crs_close(&(*pg)->crs);
    free((*pg)->buf);
    free((*pg)->px);
    free(*pg);
    *pg = NULL;
}

cnp_geometry *cnp_geom_multipolygon(const double *gt, const int32_t *xy, const cnp_ring *ring,
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
    return ours(multi);
}

static cnp_status reserve(double **buf, size_t *cap, size_t need)
{
    if (*cap >= need)
        return CNP_OK;
    double *p = realloc(*buf, need * sizeof *p);
    if (!p)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    *buf = p;
    *cap = need;
    return CNP_OK;
}

/* Points of an edge densified every STEP pixels: none for one of length 0
 * unless min_steps is 1. */
enum { STEP = 32 };
static int edge_steps(const double *a, const double *b, int min_steps)
{
    const int s = (int)ceil(fmax(fabs(b[0] - a[0]), fabs(b[1] - a[1])) / STEP);
    return s > min_steps ? s : min_steps;
}

/* The ring in g->px (pixel coordinates of the grid, `count` points,
 * closed) densified every STEP pixels, in lon/lat (g->buf: lon, then lat,
 * then where each vertex's own point is among them), and its geodesic area.
 * Densified, a long straight edge measures on the ellipsoid as the grid's
 * edge it is, not as a geodesic. */
static cnp_status densified_area(cnp_geom_ctx *g, size_t count, int min_steps, size_t *npoints,
                                 double *area_m2)
{
    const double *gt = g->crs->gt, *px = g->px;
    size_t n = 0;
    for (size_t i = 0; i + 1 < count; i++)
        n += (size_t)edge_steps(px + 2 * i, px + 2 * i + 2, min_steps);
    cnp_status st = reserve(&g->buf, &g->cap, 3 * n + 1);
    if (st != CNP_OK)
        return st;
    double *lon = g->buf, *lat = g->buf + n, *vertex_at = g->buf + 2 * n;
    size_t k = 0;
    for (size_t i = 0; i + 1 < count; i++) {
        const double ax = px[2 * i], ay = px[2 * i + 1], bx = px[2 * i + 2], by = px[2 * i + 3];
        const int steps = edge_steps(px + 2 * i, px + 2 * i + 2, min_steps);
        vertex_at[i] = (double)k;
        for (int s = 0; s < steps; s++) {
            const double t = (double)s / steps;
            lon[k] = gt[0] + (ax + t * (bx - ax)) * gt[1];
            lat[k] = gt[3] + (ay + t * (by - ay)) * gt[5];
            k++;
        }
    }
    if (!cnp_crs_to_wgs84(g->crs, (int)k, lon, lat))
        return cnp_err(CNP_E_DATA, "cannot transform a polygon to WGS84");
    double area = 0;
    geod_polygonarea(&g->geod, lat, lon, (int)k, &area, NULL);
    *area_m2 = fabs(area);
    *npoints = n;
    return CNP_OK;
}

/* A traced ring (pixel corners) densified and measured; when `ll` is not
 * NULL it becomes the ring in WGS84, its vertices taken from the same
 * transformed points, reversed when `reverse`. */
static cnp_status ring_area(cnp_geom_ctx *g, const int32_t *xy, size_t count, int reverse,
                            double *area_m2, OGRGeometryH ll)
{
    cnp_status st = reserve(&g->px, &g->pcap, 2 * count + 1);
    if (st != CNP_OK)
        return st;
    for (size_t i = 0; i < 2 * count; i++)
        g->px[i] = xy[i];
    size_t n = 0;
    if ((st = densified_area(g, count, 0, &n, area_m2)) != CNP_OK)
        return st;
    if (ll) {
        const double *lon = g->buf, *lat = g->buf + n, *vertex_at = g->buf + 2 * n;
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

cnp_status cnp_geom_ring_area(cnp_geom_ctx *g, const int32_t *xy, size_t count, double *area_m2)
{
    return ring_area(g, xy, count, 0, area_m2, NULL);
}

/* The same measure for a ring of any vertices in the grid's CRS (an
 * intersection's): in pixel coordinates, so a ring on pixel corners
 * measures as it does traced. An edge of length 0 still gives its point. */
static cnp_status crs_ring_area(cnp_geom_ctx *g, OGRGeometryH ring, double *area_m2)
{
    const double *gt = g->crs->gt;
    const int count = OGR_G_GetPointCount(ring);
    *area_m2 = 0;
    if (count < 4)
        return CNP_OK;
    cnp_status st = reserve(&g->px, &g->pcap, 2 * (size_t)count + 1);
    if (st != CNP_OK)
        return st;
    for (int i = 0; i < count; i++) {
        g->px[2 * i] = (OGR_G_GetX(ring, i) - gt[0]) / gt[1];
        g->px[2 * i + 1] = (OGR_G_GetY(ring, i) - gt[3]) / gt[5];
    }
    size_t n = 0;
    return densified_area(g, (size_t)count, 1, &n, area_m2);
}

/* Polygons add up (shells minus holes); points and lines have no area. */
static cnp_status geometry_area(cnp_geom_ctx *g, OGRGeometryH geom, double *sum)
{
    const OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(geom));
    cnp_status st = CNP_OK;
    if (t == wkbPolygon) {
        const int nr = OGR_G_GetGeometryCount(geom);
        for (int r = 0; r < nr && st == CNP_OK; r++) {
            double a = 0;
            st = crs_ring_area(g, OGR_G_GetGeometryRef(geom, r), &a);
            *sum += r == 0 ? a : -a;
        }
    } else if (t == wkbMultiPolygon || t == wkbGeometryCollection) {
        const int np = OGR_G_GetGeometryCount(geom);
        for (int p = 0; p < np && st == CNP_OK; p++)
            st = geometry_area(g, OGR_G_GetGeometryRef(geom, p), sum);
    }
    return st;
}

cnp_status cnp_geom_area_m2(cnp_geom_ctx *g, const cnp_geometry *geom, double *area_m2)
{
    double sum = 0;
    const cnp_status st = geometry_area(g, (OGRGeometryH)(uintptr_t)geom, &sum);
    *area_m2 = st == CNP_OK ? sum : 0;
    return st;
}

cnp_status cnp_geom_alert(cnp_geom_ctx *g, const cnp_rings *rings, cnp_geometry **scene,
                          cnp_geometry **wgs84, double *area_m2)
{
    OGRGeometryH multi84 = OGR_G_CreateGeometry(wkbMultiPolygon), poly84 = NULL;
    const int reverse = g->crs->gt[5] > 0;
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
        st = ring_area(g, rings->xy + 2 * ring->first, ring->count, reverse, &a, lr84);
        area += ring->is_hole ? -a : a;
    }
    if (poly84)
        OGR_G_AddGeometryDirectly(multi84, poly84);
    if (st != CNP_OK) {
        OGR_G_DestroyGeometry(multi84);
        return st;
    }
    if (scene)
        *scene = cnp_geom_multipolygon(g->crs->gt, rings->xy, rings->ring, rings->n);
    *wgs84 = ours(multi84);
    *area_m2 = area;
    return CNP_OK;
}

cnp_status cnp_geom_point_to_wgs84(cnp_geom_ctx *g, double x, double y, double *lon, double *lat)
{
    if (!cnp_crs_to_wgs84(g->crs, 1, &x, &y))
        return cnp_err(CNP_E_DATA, "cannot transform a point to WGS84");
    *lon = x;
    *lat = y;
    return CNP_OK;
}

double cnp_crs_overlap_fraction(const char *wkt, const double gt[6], int width, int height,
                                const char *grid_wkt, const double grid_gt[6], int grid_w,
                                int grid_h)
{
    OGRSpatialReferenceH a = OSRNewSpatialReference(wkt);
    OGRSpatialReferenceH b = OSRNewSpatialReference(grid_wkt);
    OGRCoordinateTransformationH ct = NULL;
    double frac = 0;
    if (!a || !b)
        goto done;
    OSRSetAxisMappingStrategy(a, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(b, OAMS_TRADITIONAL_GIS_ORDER);
    if (!(ct = OCTNewCoordinateTransformation(a, b)))
        goto done;
    enum { N = 8 };
    double xs[4 * N], ys[4 * N];
    int ok[4 * N];
    for (int i = 0; i < N; i++) {
        const double t = (double)i / N;
        const double px[4] = { t * width, width, (1 - t) * width, 0 };
        const double py[4] = { 0, t * height, height, (1 - t) * height };
        for (int e = 0; e < 4; e++) {
            xs[e * N + i] = gt[0] + px[e] * gt[1];
            ys[e * N + i] = gt[3] + py[e] * gt[5];
        }
    }
    if (!OCTTransformEx(ct, 4 * N, xs, ys, NULL, ok))
        goto done;
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (int i = 0; i < 4 * N; i++) {
        if (!ok[i])
            continue;
        minx = fmin(minx, xs[i]); maxx = fmax(maxx, xs[i]);
        miny = fmin(miny, ys[i]); maxy = fmax(maxy, ys[i]);
    }
    const double fx0 = fmin(grid_gt[0], grid_gt[0] + grid_w * grid_gt[1]);
    const double fx1 = fmax(grid_gt[0], grid_gt[0] + grid_w * grid_gt[1]);
    const double fy0 = fmin(grid_gt[3], grid_gt[3] + grid_h * grid_gt[5]);
    const double fy1 = fmax(grid_gt[3], grid_gt[3] + grid_h * grid_gt[5]);
    const double ix = fmin(maxx, fx1) - fmax(minx, fx0), iy = fmin(maxy, fy1) - fmax(miny, fy0);
    const double area = (maxx - minx) * (maxy - miny);
    if (ix > 0 && iy > 0 && area > 0)
        frac = ix * iy / area;
done:
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(a);
    OSRDestroySpatialReference(b);
    return frac;
}

int cnp_geom_window_in(const cnp_geometry *cg, const double gt[6], int win[4])
{
    OGREnvelope e;
    OGR_G_GetEnvelope((OGRGeometryH)(uintptr_t)cg, &e);
    const double px0 = (e.MinX - gt[0]) / gt[1], px1 = (e.MaxX - gt[0]) / gt[1];
    const double py0 = (e.MaxY - gt[3]) / gt[5], py1 = (e.MinY - gt[3]) / gt[5];
    const double lo_x = fmax(win[0], floor(fmin(px0, px1))), hi_x = fmin(win[0] + win[2], ceil(fmax(px0, px1)));
    const double lo_y = fmax(win[1], floor(fmin(py0, py1))), hi_y = fmin(win[1] + win[3], ceil(fmax(py0, py1)));
    if (!(hi_x > lo_x) || !(hi_y > lo_y))
        return 0;
    win[0] = (int)lo_x, win[1] = (int)lo_y, win[2] = (int)(hi_x - lo_x), win[3] = (int)(hi_y - lo_y);
    return 1;
}

cnp_status cnp_geom_aoi_split(cnp_geom_ctx *g, const cnp_geometry *aoi, const int win[4],
                              double *inside_m2, double *outside_m2, cnp_geometry **outside)
{
    const double *gt = g->crs->gt;
    const double x0 = gt[0] + win[0] * gt[1], x1 = gt[0] + (win[0] + win[2]) * gt[1];
    const double y0 = gt[3] + win[1] * gt[5], y1 = gt[3] + (win[1] + win[3]) * gt[5];
    OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing), rect = OGR_G_CreateGeometry(wkbPolygon);
    OGR_G_AddPoint_2D(ring, x0, y0);
    OGR_G_AddPoint_2D(ring, x1, y0);
    OGR_G_AddPoint_2D(ring, x1, y1);
    OGR_G_AddPoint_2D(ring, x0, y1);
    OGR_G_AddPoint_2D(ring, x0, y0);
    OGR_G_AddGeometryDirectly(rect, ring);
    OGRGeometryH a = (OGRGeometryH)(uintptr_t)aoi;
    OGRGeometryH in = OGR_G_Intersection(a, rect), out = OGR_G_Difference(a, rect);
    OGR_G_DestroyGeometry(rect);
    cnp_status st = CNP_OK;
    *inside_m2 = *outside_m2 = 0;
    if (in)
        st = cnp_geom_area_m2(g, ours(in), inside_m2);
    if (st == CNP_OK && out)
        st = cnp_geom_area_m2(g, ours(out), outside_m2);
    OGR_G_DestroyGeometry(in);
    if (outside) {
        *outside = NULL;
        if (st == CNP_OK && out && *outside_m2 > 0) {
            *outside = ours(OGR_G_ForceToMultiPolygon(out));
            out = NULL;
        }
    }
    OGR_G_DestroyGeometry(out);
    return st;
}
