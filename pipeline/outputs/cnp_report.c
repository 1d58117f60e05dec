/* pipeline/outputs/cnp_report.c - alerts.csv and alerts.kmz: the alerts in the
 * forms an investigator opens in a spreadsheet and in Google Earth.
 *
 * Both take the attributes from one table (cnp_evidence_text.h) with the
 * names and values of alerts.gpkg, so a number reads the same in every output.
 * Names from inputs are text of the target language through base/cnp_ident:
 * cnp_ident_write_csv (RFC 4180, no formulas) and cnp_ident_write_xml
 * (doc.kml; report.html uses cnp_ident_write_html). doc.kml is written as text (full
 * control of the balloon, style, schema and byte order, which GDAL's KML
 * writers do not give) and zipped with GDAL's zip writer (CPLCreateZip), which
 * stamps no times (GDAL 3.6), so equal runs give equal bytes; images are
 * stored, not deflated again.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "cnp_err.h"
#include "cnp_gdal.h"
#include "cnp_evidence.h"
#include "cnp_evidence_text.h"
#include "cnp_ident.h"

/* Scale (w, h) down to at most max_w wide. */
static void fit_width(int *w, int *h, int max_w)
{
    if (*w > max_w) {
        *h = (int)((double)*h * max_w / *w + 0.5);
        *w = max_w;
    }
}

/* ---- alerts.csv ------------------------------------------------------------ */

cnp_status cnp_write_csv(const char *path, const cnp_evidence_ctx *ctx)
{
    const cnp_result *res = ctx->res;
    /* No geometry column: a spreadsheet wants a place as two numbers
     * (point_lon, point_lat: inside the alert; the centroid may not be), not
     * a WKT polygon that can overflow a cell; the outlines are in
     * alerts.gpkg/geojson/kmz. No .csvt sidecar either: the CSV is the one
     * file. LF line ends on every platform. Numbers as GDAL's CSV driver
     * writes them (%.15g of the rounded value); text cells through
     * cnp_ident_write_csv, which quotes only where needed and keeps a name
     * such as "=1+2.tif" from being read as a formula. */
    FILE *f = fopen(path, "w");
    if (!f)
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", path, strerror(errno));
    for (int k = 0; k < CNP_NATTRS; k++)
        if (cnp_attr_shown(ctx, k))
            fprintf(f, "%s%s", k ? "," : "", cnp_attrs[k].name);
    fputc('\n', f);
    for (size_t i = 0; i < res->nalerts; i++) {
        for (int k = 0; k < CNP_NATTRS; k++) {
            const cnp_attr_val v = cnp_attr_get(ctx, &res->alerts[i], k);
            if (!cnp_attr_shown(ctx, k))
                continue;
            if (k)
                fputc(',', f);
            if (cnp_attrs[k].kind == CNP_ATTR_REAL && isfinite(v.d))
                fprintf(f, "%.15g", v.d);
            else if (cnp_attrs[k].kind == CNP_ATTR_INT)
                fprintf(f, "%lld", (long long)v.i);
            else if (cnp_attrs[k].kind == CNP_ATTR_STR && v.s)
                cnp_ident_write_csv(f, v.s);
        }
        fputc('\n', f);
    }
    if (ferror(f) | fclose(f))
        return cnp_err(CNP_E_IO, "writing '%s': %s", path, strerror(errno));
    return CNP_OK;
}

/* ---- zones.csv ------------------------------------------------------------- */

cnp_status cnp_write_zones_csv(const char *path, const cnp_evidence_ctx *ctx)
{
    /* One row per zone met inside the window, those without alerts too (an
     * area of interest with none is an answer), by layer (in --zones order)
     * and name; the date is AFTER's, the date the loss was seen by. */
    const cnp_zone_match *m = &ctx->res->zones;
    const char *date = ctx->scene[1]->date;
    FILE *f = fopen(path, "w");
    if (!f)
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", path, strerror(errno));
    fputs("layer,zone,date,alerts,area_ha\n", f);
    for (size_t z = 0; z < m->nzone; z++) {
        cnp_ident_write_csv(f, m->zone[z].layer);
        fputc(',', f);
        cnp_ident_write_csv(f, m->zone[z].name);
        fprintf(f, ",%s,%lld,%.15g\n", date, (long long)m->zone[z].alerts, m->zone[z].area_ha);
    }
    if (ferror(f) | fclose(f))
        return cnp_err(CNP_E_IO, "writing '%s': %s", path, strerror(errno));
    return CNP_OK;
}

/* ---- alerts.kmz ------------------------------------------------------------ */

/* KML colours are aabbggrr: the yellow of overview.png's outlines (255,230,0). */
#define KML_LINE "ff00e6ff"
#define KML_FILL "3300e6ff"

/* Shoelace sum (twice the signed area) of ring r, in lon/lat. */
static double ring_signed_area(OGRGeometryH r)
{
    const int n = OGR_G_GetPointCount(r);
    double s = 0;
    for (int i = 0; i + 1 < n; i++)
        s += OGR_G_GetX(r, i) * OGR_G_GetY(r, i + 1) - OGR_G_GetX(r, i + 1) * OGR_G_GetY(r, i);
    return s;
}

/* One LinearRing, counter-clockwise when `ccw` (KML's rule for outer
 * boundaries), clockwise otherwise. */
static void kml_ring(FILE *f, OGRGeometryH r, int ccw)
{
    const int n = OGR_G_GetPointCount(r);
    const int reverse = (ring_signed_area(r) > 0) != ccw;
    fputs("<LinearRing><coordinates>", f);
    for (int i = 0; i < n; i++) {
        const int j = reverse ? n - 1 - i : i;
        fprintf(f, "%s%.7f,%.7f", i ? " " : "", OGR_G_GetX(r, j), OGR_G_GetY(r, j));
    }
    fputs("</coordinates></LinearRing>", f);
}

static void kml_polygon(FILE *f, OGRGeometryH p)
{
    const int nr = OGR_G_GetGeometryCount(p);
    fputs("<Polygon>", f);
    for (int r = 0; r < nr; r++) {
        fputs(r == 0 ? "<outerBoundaryIs>" : "<innerBoundaryIs>", f);
        kml_ring(f, OGR_G_GetGeometryRef(p, r), r == 0);
        fputs(r == 0 ? "</outerBoundaryIs>" : "</innerBoundaryIs>", f);
    }
    fputs("</Polygon>", f);
}

/* A (multi)polygon in lon/lat: a plain Polygon for one part, else MultiGeometry. */
static void kml_geometry(FILE *f, OGRGeometryH g)
{
    const OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbPolygon) {
        kml_polygon(f, g);
        return;
    }
    const int np = OGR_G_GetGeometryCount(g);
    if (np == 1) {
        kml_polygon(f, OGR_G_GetGeometryRef(g, 0));
        return;
    }
    fputs("<MultiGeometry>", f);
    for (int p = 0; p < np; p++)
        kml_polygon(f, OGR_G_GetGeometryRef(g, p));
    fputs("</MultiGeometry>", f);
}

/* The balloon: both chips side by side, attribute table, map link (HTML
 * inside CDATA). */
static void kml_balloon(FILE *f, const cnp_evidence_ctx *ctx, size_t i, const char *dir)
{
    const cnp_alert *a = &ctx->res->alerts[i];
    char buf[64], png[4300];

    fputs("<description><![CDATA[", f);
    if (cnp_evidence_has_chip(ctx, i)) {
        static const char *const when[2] = { "before", "after" };
        for (int k = 0; k < 2; k++) {
            int w = 0, h = 0;
            snprintf(png, sizeof png, "%s/evidence/%s/%s.png", dir, a->id, when[k]);
            fprintf(f, "%s<img src=\"files/%s-%s.png\"", k ? " " : "", a->id, when[k]);
            if (cnp_evidence_png_size(png, &w, &h)) {
                fit_width(&w, &h, 276);
                fprintf(f, " width=\"%d\" height=\"%d\"", w, h);
            }
            fprintf(f, " alt=\"%s\">", when[k]);
        }
        fputs("<br><small>Left before, right after the loss.</small>", f);
    } else {
        fputs("<p><i>No image chip for this alert.</i></p>", f);
    }
    fputs("<table border=\"1\" cellpadding=\"3\" style=\"border-collapse:collapse\">", f);
    for (int k = 0; k < CNP_NATTRS; k++) {
        const char *t = cnp_attr_text(ctx, a, k, buf, sizeof buf);
        if (!cnp_attr_shown(ctx, k))
            continue;
        fprintf(f, "<tr><th align=\"left\">%s</th><td>", cnp_attrs[k].label);
        cnp_ident_write_xml(f, t ? t : "unknown");
        fputs("</td></tr>", f);
    }
    fputs("</table><p><a href=\"", f);
    cnp_evidence_osm_href(f, a->point_lat, a->point_lon);
    fputs("\">Open in OpenStreetMap</a></p>]]></description>\n", f);
}

/* doc.kml into memory. `g84[i]` is alert i in lon/lat. */
/* Where overview.png lies on the ground: its corners in WGS84, lower-left,
 * lower-right, upper-right, upper-left (gx:LatLonQuad's order). Read back
 * from the picture and its sidecars as written, so the KMZ shows it exactly
 * where GIS software does. 0 when there is no overview to lay. */
static int overview_quad(const char *dir, double quad[4][2])
{
    char png[4300];
    snprintf(png, sizeof png, "%s/overview.png", dir);
    cnp_err_gdal_reset();
    GDALDatasetH ds = GDALOpenEx(png, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds)
        return 0;
    double gt[6];
    OGRSpatialReferenceH srs = GDALGetSpatialRef(ds) ? OSRClone(GDALGetSpatialRef(ds)) : NULL;
    const int W = GDALGetRasterXSize(ds), H = GDALGetRasterYSize(ds);
    int ok = GDALGetGeoTransform(ds, gt) == CE_None && srs;
    GDALClose(ds);
    OGRSpatialReferenceH wgs84 = OSRNewSpatialReference(NULL);
    OGRCoordinateTransformationH ct = NULL;
    if (ok && wgs84 && OSRSetWellKnownGeogCS(wgs84, "WGS84") == OGRERR_NONE) {
        OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
        OSRSetAxisMappingStrategy(wgs84, OAMS_TRADITIONAL_GIS_ORDER);
        ct = OCTNewCoordinateTransformation(srs, wgs84);
    }
    static const int corner[4][2] = { { 0, 1 }, { 1, 1 }, { 1, 0 }, { 0, 0 } };
    for (int i = 0; i < 4 && ok && ct; i++) {
        const double u = corner[i][0] * W, v = corner[i][1] * H;
        double x = gt[0] + u * gt[1] + v * gt[2], y = gt[3] + u * gt[4] + v * gt[5];
        ok = OCTTransform(ct, 1, &x, &y, NULL);
        quad[i][0] = x;
        quad[i][1] = y;
    }
    ok = ok && ct;
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(srs);
    OSRDestroySpatialReference(wgs84);
    cnp_err_gdal_reset();
    return ok;
}

static void kml_overlay(FILE *f, const double quad[4][2])
{
    fputs("<Folder>\n<name>Overview</name>\n<GroundOverlay>\n<name>overview.png</name>\n"
          "<description>AFTER scene in false colour (NIR, red, green); yellow: alert outlines; "
          "numbers: the alerts&apos; numbers in report.html and report.pdf; grey hatching: not "
          "observed.</description>\n<Icon><href>files/overview.png</href></Icon>\n"
          "<gx:LatLonQuad><coordinates>", f);
    for (int i = 0; i < 4; i++)
        fprintf(f, "%s%.7f,%.7f", i ? " " : "", quad[i][0], quad[i][1]);
    fputs("</coordinates></gx:LatLonQuad>\n</GroundOverlay>\n</Folder>\n", f);
}

static void kml_document(FILE *f, const cnp_evidence_ctx *ctx, const char *dir,
                         OGRGeometryH *g84, const double (*quad)[2])
{
    const cnp_result *res = ctx->res;
    char buf[64];

    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<kml xmlns=\"http://www.opengis.net/kml/2.2\" "
          "xmlns:gx=\"http://www.google.com/kml/ext/2.2\">\n<Document>\n", f);
    fputs("<name>Canopy forest-loss alerts ", f);
    cnp_ident_write_xml(f, ctx->scene[0]->date[0] ? ctx->scene[0]->date : "?");
    fputs(" to ", f);
    cnp_ident_write_xml(f, ctx->scene[1]->date[0] ? ctx->scene[1]->date : "?");
    fputs("</name>\n<open>1</open>\n<description>", f);
    fprintf(f, "%zu alerts, %.4f ha. Before: ", res->nalerts, res->total_area_ha);
    cnp_ident_write_xml(f, cnp_path_base(ctx->scene[0]->path));
    fputs(". After: ", f);
    cnp_ident_write_xml(f, cnp_path_base(ctx->scene[1]->path));
    fputs(". Run ", f);
    cnp_ident_write_xml(f, ctx->run_id ? ctx->run_id : "");
    fputs(", canopy ", f);
    cnp_ident_write_xml(f, ctx->program_version ? ctx->program_version : "");
    fputs(".", f);
    if (ctx->case_id) {
        fputs(" Case ", f);
        cnp_ident_write_xml(f, ctx->case_id);
        fputs(".", f);
    }
    if (ctx->operator_name) {
        fputs(" Operator: ", f);
        cnp_ident_write_xml(f, ctx->operator_name);
        fputs(".", f);
    }
    fputs("</description>\n", f);

    /* Look at all alerts when the file opens. */
    if (res->nalerts > 0) {
        OGREnvelope all = { 0, 0, 0, 0 }, e;
        for (size_t i = 0; i < res->nalerts; i++) {
            OGR_G_GetEnvelope(g84[i], &e);
            if (i == 0) {
                all = e;
                continue;
            }
            all.MinX = fmin(all.MinX, e.MinX);
            all.MaxX = fmax(all.MaxX, e.MaxX);
            all.MinY = fmin(all.MinY, e.MinY);
            all.MaxY = fmax(all.MaxY, e.MaxY);
        }
        const double lat = (all.MinY + all.MaxY) / 2, lon = (all.MinX + all.MaxX) / 2;
        const double wm = (all.MaxX - all.MinX) * 111320.0 * cos(lat * M_PI / 180);
        const double hm = (all.MaxY - all.MinY) * 110574.0;
        fprintf(f, "<LookAt><longitude>%.7f</longitude><latitude>%.7f</latitude>"
                   "<altitude>0</altitude><heading>0</heading><tilt>0</tilt>"
                   "<range>%.0f</range></LookAt>\n",
                lon, lat, 1.5 * fmax(wm, hm) + 1000);
    }

    fputs("<Style id=\"alert\"><LineStyle><color>" KML_LINE "</color><width>3</width></LineStyle>"
          "<PolyStyle><color>" KML_FILL "</color><fill>1</fill><outline>1</outline></PolyStyle>"
          "<BalloonStyle><text><![CDATA[<h3>Alert $[name]</h3>$[description]]]></text>"
          "</BalloonStyle></Style>\n", f);
    /* The alerts in a Document of their own holding their Schema: GDAL's
     * LIBKML driver reads a KMZ's typed fields only from the layer's own
     * Document (a Folder in the root Document loses them). */
    fputs("<Document>\n<name>alerts</name>\n<open>1</open>\n"
          "<Schema name=\"alerts\" id=\"alerts\">\n", f);
    for (int k = 0; k < CNP_NATTRS; k++)
        if (cnp_attr_shown(ctx, k))
            fprintf(f, "<SimpleField name=\"%s\" type=\"%s\"><displayName>%s</displayName>"
                   "</SimpleField>\n", cnp_attrs[k].name, cnp_attrs[k].kml_type, cnp_attrs[k].label);
    fputs("</Schema>\n", f);

    for (size_t i = 0; i < res->nalerts; i++) {
        const cnp_alert *a = &res->alerts[i];
        fprintf(f, "<Placemark>\n<name>%s</name>\n", a->id);
        kml_balloon(f, ctx, i, dir);
        fputs("<styleUrl>#alert</styleUrl>\n<ExtendedData><SchemaData schemaUrl=\"#alerts\">", f);
        for (int k = 0; k < CNP_NATTRS; k++) {
            const char *t = cnp_attr_text(ctx, a, k, buf, sizeof buf);
            if (!t || !cnp_attr_shown(ctx, k))
                continue;   /* null: unknown date */
            fprintf(f, "<SimpleData name=\"%s\">", cnp_attrs[k].name);
            cnp_ident_write_xml(f, t);
            fputs("</SimpleData>", f);
        }
        fputs("</SchemaData></ExtendedData>\n", f);
        kml_geometry(f, g84[i]);
        fputs("\n</Placemark>\n", f);
    }
    fputs("</Document>\n", f);
    /* After the alerts, so readers that take the first layer still get them
     * (Google Earth draws ground overlays under placemarks anyway). */
    if (quad)
        kml_overlay(f, quad);
    fputs("</Document>\n</kml>\n", f);
}

/* One member of the zip being written: `data` (len bytes), or the file `src`
 * when data is NULL, copied in 1 MiB pieces. `stored`: no compression (PNG is
 * compressed already: deflating it again cost about 2 s on the demo's chips
 * for 13 % less). GDAL's zip writer stamps no times (GDAL 3.6), so equal
 * inputs give equal bytes. */
static cnp_status zip_member(void *zip, const char *zpath, const char *name, const void *data,
                             size_t len, const char *src, int stored)
{
    enum { PIECE = 1 << 20 };
    char **opt = stored ? CSLSetNameValue(NULL, "COMPRESSED", "NO") : NULL;
    cnp_status st = CNP_OK;
    VSILFILE *in = NULL;
    char *buf = NULL;

    cnp_err_gdal_reset();
    const CPLErr e = CPLCreateFileInZip(zip, name, opt);
    CSLDestroy(opt);
    if (e != CE_None)
        return cnp_err(CNP_E_IO, "cannot add %s to '%s': %s", name, zpath, cnp_err_gdal_reason());
    if (data) {
        for (size_t off = 0; off < len && st == CNP_OK; off += PIECE) {
            const size_t n = len - off < PIECE ? len - off : PIECE;
            if (CPLWriteFileInZip(zip, (const char *)data + off, (int)n) != CE_None)
                st = cnp_err(CNP_E_IO, "cannot write %s into '%s': %s", name, zpath,
                             cnp_err_gdal_reason());
        }
    } else if (!(in = VSIFOpenL(src, "rb"))) {
        st = cnp_err(CNP_E_IO, "cannot read '%s' for the KMZ: %s", src, strerror(errno));
    } else if (!(buf = malloc(PIECE))) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
    } else {
        size_t n;
        while (st == CNP_OK && (n = VSIFReadL(buf, 1, PIECE, in)) > 0)
            if (CPLWriteFileInZip(zip, buf, (int)n) != CE_None)
                st = cnp_err(CNP_E_IO, "cannot write %s into '%s': %s", name, zpath,
                             cnp_err_gdal_reason());
    }
    if (CPLCloseFileInZip(zip) != CE_None && st == CNP_OK)
        st = cnp_err(CNP_E_IO, "cannot write %s into '%s': %s", name, zpath, cnp_err_gdal_reason());
    if (in)
        VSIFCloseL(in);
    free(buf);
    return st;
}

cnp_status cnp_write_kmz(const char *path, const char *dir, const cnp_evidence_ctx *ctx)
{
    const cnp_result *res = ctx->res;
    /* The alerts' WGS84 geometries (made with their areas), borrowed. */
    OGRGeometryH *g84 = calloc(res->nalerts + 1, sizeof *g84);
    char *kml = NULL;
    size_t kml_len = 0;
    void *zip = NULL;
    cnp_status st = CNP_OK;

    if (!g84) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < res->nalerts; i++)
        g84[i] = res->alerts[i].geom_wgs84;

    FILE *mf = open_memstream(&kml, &kml_len);
    if (!mf) {
        st = cnp_err(CNP_E_NOMEM, "out of memory for doc.kml");
        goto done;
    }
    double quad[4][2];
    const int overlay = overview_quad(dir, quad);
    kml_document(mf, ctx, dir, g84, overlay ? (const double (*)[2])quad : NULL);
    if (ferror(mf) | fclose(mf)) {
        st = cnp_err(CNP_E_NOMEM, "out of memory for doc.kml");
        goto done;
    }

    /* doc.kml goes first, as Google Earth expects. */
    cnp_err_gdal_reset();
    if (!(zip = CPLCreateZip(path, NULL))) {
        st = cnp_err(CNP_E_IO, "cannot create '%s': %s", path, cnp_err_gdal_reason());
        goto done;
    }
    if ((st = zip_member(zip, path, "doc.kml", kml, kml_len, NULL, 0)) != CNP_OK)
        goto done;
    if (overlay) {
        char from[4300];
        snprintf(from, sizeof from, "%s/overview.png", dir);
        st = zip_member(zip, path, "files/overview.png", NULL, 0, from, 1);
    }
    for (size_t i = 0; i < res->nalerts && st == CNP_OK; i++) {
        if (!cnp_evidence_has_chip(ctx, i))
            continue;
        for (int k = 0; k < 2 && st == CNP_OK; k++) {
            char from[4300], name[64];
            const char *when = k ? "after" : "before";
            snprintf(from, sizeof from, "%s/evidence/%s/%s.png", dir, res->alerts[i].id, when);
            snprintf(name, sizeof name, "files/%s-%s.png", res->alerts[i].id, when);
            st = zip_member(zip, path, name, NULL, 0, from, 1);
        }
    }

done:
    if (zip && CPLCloseZip(zip) != CE_None && st == CNP_OK)
        st = cnp_err(CNP_E_IO, "writing '%s': %s", path, cnp_err_gdal_reason());
    free(kml);
    free(g84);
    return st;
}
