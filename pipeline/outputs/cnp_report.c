/* pipeline/outputs/cnp_report.c - alerts.csv, alerts.kmz and report.html: the alerts in
 * the forms an investigator opens (a spreadsheet, Google Earth, a browser).
 *
 * Every writer takes the attributes from one table (`attrs` below) with the
 * names and values of alerts.gpkg, so a number reads the same in every output.
 * alerts.csv goes through OGR's CSV driver. doc.kml is written as text (full
 * control of the balloon, style, schema and byte order, which GDAL's KML
 * writers do not give) and zipped with GDAL's zip writer (CPLCreateZip), which
 * stamps no times (GDAL 3.6), so equal runs give equal bytes; images are
 * stored, not deflated again.
 * report.html is one self-contained page: inline CSS, relative image links,
 * no network resource.
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

/* ---- helpers shared by the writers ---------------------------------------- */

static int has_chip(const cnp_evidence_ctx *ctx, size_t i)
{
    return ctx->has_chip && ctx->has_chip[i];
}

typedef enum attr_kind { ATTR_STR, ATTR_REAL, ATTR_INT } attr_kind;

/* The attributes of alerts.gpkg, in its field order. `decimals` is the
 * rounding cnp_detect applies, so "%.*f" prints the stored value exactly. */
typedef struct attr_def {
    const char *name;      /* field name, as in alerts.gpkg           */
    attr_kind   kind;
    int         decimals;
    const char *label;     /* for people (report, balloon)           */
    const char *kml_type;  /* KML SimpleField type                   */
} attr_def;

static const attr_def attrs[] = {
    { "id", ATTR_STR, 0, "Alert id", "string" },
    { "area_ha", ATTR_REAL, 4, "Area (ha)", "double" },
    { "pixels", ATTR_INT, 0, "Pixels", "int" },
    { "mean_dndvi", ATTR_REAL, 4, "Mean NDVI change", "double" },
    { "min_dndvi", ATTR_REAL, 4, "Strongest NDVI change", "double" },
    { "mean_ndvi_before", ATTR_REAL, 4, "Mean NDVI before", "double" },
    { "mean_ndvi_after", ATTR_REAL, 4, "Mean NDVI after", "double" },
    { "confidence", ATTR_STR, 0, "Confidence", "string" },
    { "centroid_lon", ATTR_REAL, 7, "Centroid longitude (WGS84)", "double" },
    { "centroid_lat", ATTR_REAL, 7, "Centroid latitude (WGS84)", "double" },
    { "point_lon", ATTR_REAL, 7, "Point inside, longitude (WGS84)", "double" },
    { "point_lat", ATTR_REAL, 7, "Point inside, latitude (WGS84)", "double" },
    { "date_before", ATTR_STR, 0, "Date before", "string" },
    { "date_after", ATTR_STR, 0, "Date after", "string" },
    { "before", ATTR_STR, 0, "Before scene", "string" },
    { "after", ATTR_STR, 0, "After scene", "string" },
};
enum { N_ATTRS = sizeof attrs / sizeof attrs[0] };

typedef struct attr_val {
    const char *s;         /* ATTR_STR; NULL = null (unknown date) */
    double      d;
    int64_t     i;
} attr_val;

static attr_val attr_get(const cnp_evidence_ctx *ctx, const cnp_alert *a, int k)
{
    const cnp_scene *b = ctx->scene[0], *f = ctx->scene[1];
    attr_val v = { NULL, 0, 0 };
    switch (k) {
    case 0: v.s = a->id; break;
    case 1: v.d = a->area_ha; break;
    case 2: v.i = a->pixels; break;
    case 3: v.d = a->mean_dndvi; break;
    case 4: v.d = a->min_dndvi; break;
    case 5: v.d = a->mean_ndvi_before; break;
    case 6: v.d = a->mean_ndvi_after; break;
    case 7: v.s = a->high_confidence ? "high" : "low"; break;
    case 8: v.d = a->centroid_lon; break;
    case 9: v.d = a->centroid_lat; break;
    case 10: v.d = a->point_lon; break;
    case 11: v.d = a->point_lat; break;
    case 12: v.s = b->date[0] ? b->date : NULL; break;
    case 13: v.s = f->date[0] ? f->date : NULL; break;
    case 14: v.s = cnp_path_base(b->path); break;
    case 15: v.s = cnp_path_base(f->path); break;
    default: break;
    }
    return v;
}

/* Attribute k as text into buf; NULL when the value is null. */
static const char *attr_text(const cnp_evidence_ctx *ctx, const cnp_alert *a, int k, char *buf,
                             size_t size)
{
    const attr_val v = attr_get(ctx, a, k);
    switch (attrs[k].kind) {
    case ATTR_STR: return v.s;
    case ATTR_REAL: snprintf(buf, size, "%.*f", attrs[k].decimals, v.d); return buf;
    case ATTR_INT: snprintf(buf, size, "%lld", (long long)v.i); return buf;
    }
    return NULL;
}

/* Write `s` with &, <, >, " and ' escaped (valid in HTML and XML text and
 * attribute values). */
static void put_esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* Width and height of a PNG from its IHDR chunk; 0 when unreadable. */
static int png_size(const char *path, int *w, int *h)
{
    unsigned char b[24];
    FILE *f = fopen(path, "rb");
    *w = *h = 0;
    if (!f)
        return 0;
    const size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n != sizeof b || memcmp(b, "\x89PNG\r\n\x1a\n", 8) != 0 || memcmp(b + 12, "IHDR", 4))
        return 0;
    *w = (int)((uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19]);
    *h = (int)((uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23]);
    return *w > 0 && *h > 0;
}

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
    GDALDriverH drv = GDALGetDriverByName("CSV");
    GDALDatasetH ds = NULL;
    cnp_status st = CNP_OK;

    if (!drv)
        return cnp_err(CNP_E_IO, "GDAL has no CSV driver");
    cnp_err_gdal_reset();
    ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    if (!ds)
        return cnp_err(CNP_E_IO, "cannot create '%s': %s", path, cnp_err_gdal_reason());
    /* No geometry column: a spreadsheet wants a place as two numbers
     * (point_lon, point_lat: inside the alert; the centroid may not be), not a
     * WKT polygon that can overflow a cell;
     * the outlines are in alerts.gpkg/geojson/kmz. No .csvt sidecar either:
     * the CSV is the one file. LF line ends on every platform. Quotes only
     * where needed: GDAL 3.6's default (IF_AMBIGUOUS) also quotes integers. */
    char **lco = CSLAddString(NULL, "LINEFORMAT=LF");
    lco = CSLAddString(lco, "STRING_QUOTING=IF_NEEDED");
    OGRLayerH lyr = GDALDatasetCreateLayer(ds, "alerts", NULL, wkbNone, lco);
    CSLDestroy(lco);
    if (!lyr) {
        st = cnp_err(CNP_E_IO, "cannot create layer in '%s': %s", path, cnp_err_gdal_reason());
        goto done;
    }
    for (int k = 0; k < N_ATTRS; k++) {
        const OGRFieldType t = attrs[k].kind == ATTR_STR    ? OFTString
                               : attrs[k].kind == ATTR_REAL ? OFTReal
                                                            : OFTInteger64;
        OGRFieldDefnH fd = OGR_Fld_Create(attrs[k].name, t);
        const OGRErr e = OGR_L_CreateField(lyr, fd, 1);
        OGR_Fld_Destroy(fd);
        if (e != OGRERR_NONE) {
            st = cnp_err(CNP_E_IO, "cannot create field %s in '%s': %s", attrs[k].name, path,
                         cnp_err_gdal_reason());
            goto done;
        }
    }
    for (size_t i = 0; i < res->nalerts && st == CNP_OK; i++) {
        const cnp_alert *a = &res->alerts[i];
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
        for (int k = 0; k < N_ATTRS; k++) {
            const attr_val v = attr_get(ctx, a, k);
            if (attrs[k].kind == ATTR_REAL)
                OGR_F_SetFieldDouble(f, k, v.d);
            else if (attrs[k].kind == ATTR_INT)
                OGR_F_SetFieldInteger64(f, k, v.i);
            else if (v.s)
                OGR_F_SetFieldString(f, k, v.s);
            else
                OGR_F_SetFieldNull(f, k);
        }
        if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE)
            st = cnp_err(CNP_E_IO, "cannot write alert %s to '%s': %s", a->id, path, cnp_err_gdal_reason());
        OGR_F_Destroy(f);
    }

done:
    cnp_err_gdal_reset();
    CPLErrorReset();
    GDALClose(ds);
    if (st == CNP_OK && (CPLGetLastErrorType() >= CE_Failure || *cnp_err_gdal_msg()))
        st = cnp_err(CNP_E_IO, "writing '%s': %s", path, cnp_err_gdal_reason());
    /* With no alert the driver still writes the header line at close. */
    return st;
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

static void osm_href(FILE *f, double lat, double lon)
{
    /* '&' escaped: this goes into HTML attribute values. */
    fprintf(f, "https://www.openstreetmap.org/?mlat=%.7f&amp;mlon=%.7f#map=16/%.7f/%.7f", lat, lon,
            lat, lon);
}

/* The balloon: pair chip, attribute table, map link (HTML inside CDATA). */
static void kml_balloon(FILE *f, const cnp_evidence_ctx *ctx, size_t i, const char *dir)
{
    const cnp_alert *a = &ctx->res->alerts[i];
    char buf[64], png[4300];

    fputs("<description><![CDATA[", f);
    if (has_chip(ctx, i)) {
        int w = 0, h = 0;
        snprintf(png, sizeof png, "%s/evidence/%s/pair.png", dir, a->id);
        fprintf(f, "<img src=\"files/%s.png\"", a->id);
        if (png_size(png, &w, &h)) {
            fit_width(&w, &h, 560);
            fprintf(f, " width=\"%d\" height=\"%d\"", w, h);
        }
        fputs(" alt=\"before and after\"><br>", f);
        fputs("<small>Before and after the loss.</small>", f);
    } else {
        fputs("<p><i>No image chip for this alert.</i></p>", f);
    }
    fputs("<table border=\"1\" cellpadding=\"3\" style=\"border-collapse:collapse\">", f);
    for (int k = 0; k < N_ATTRS; k++) {
        const char *t = attr_text(ctx, a, k, buf, sizeof buf);
        fprintf(f, "<tr><th align=\"left\">%s</th><td>", attrs[k].label);
        put_esc(f, t ? t : "unknown");
        fputs("</td></tr>", f);
    }
    fputs("</table><p><a href=\"", f);
    osm_href(f, a->point_lat, a->point_lon);
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
    put_esc(f, ctx->scene[0]->date[0] ? ctx->scene[0]->date : "?");
    fputs(" to ", f);
    put_esc(f, ctx->scene[1]->date[0] ? ctx->scene[1]->date : "?");
    fputs("</name>\n<open>1</open>\n<description>", f);
    fprintf(f, "%zu alerts, %.4f ha. Before: ", res->nalerts, res->total_area_ha);
    put_esc(f, cnp_path_base(ctx->scene[0]->path));
    fputs(". After: ", f);
    put_esc(f, cnp_path_base(ctx->scene[1]->path));
    fputs(". Run ", f);
    put_esc(f, ctx->run_id ? ctx->run_id : "");
    fputs(", canopy ", f);
    put_esc(f, ctx->program_version ? ctx->program_version : "");
    fputs(".", f);
    if (ctx->case_id) {
        fputs(" Case ", f);
        put_esc(f, ctx->case_id);
        fputs(".", f);
    }
    if (ctx->operator_name) {
        fputs(" Operator: ", f);
        put_esc(f, ctx->operator_name);
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
    for (int k = 0; k < N_ATTRS; k++)
        fprintf(f, "<SimpleField name=\"%s\" type=\"%s\"><displayName>%s</displayName>"
                   "</SimpleField>\n", attrs[k].name, attrs[k].kml_type, attrs[k].label);
    fputs("</Schema>\n", f);

    for (size_t i = 0; i < res->nalerts; i++) {
        const cnp_alert *a = &res->alerts[i];
        fprintf(f, "<Placemark>\n<name>%s</name>\n", a->id);
        kml_balloon(f, ctx, i, dir);
        fputs("<styleUrl>#alert</styleUrl>\n<ExtendedData><SchemaData schemaUrl=\"#alerts\">", f);
        for (int k = 0; k < N_ATTRS; k++) {
            const char *t = attr_text(ctx, a, k, buf, sizeof buf);
            if (!t)
                continue;   /* null: unknown date */
            fprintf(f, "<SimpleData name=\"%s\">", attrs[k].name);
            put_esc(f, t);
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
        if (!has_chip(ctx, i))
            continue;
        char from[4300], name[64];
        snprintf(from, sizeof from, "%s/evidence/%s/pair.png", dir, res->alerts[i].id);
        snprintf(name, sizeof name, "files/%s.png", res->alerts[i].id);
        st = zip_member(zip, path, name, NULL, 0, from, 1);
    }

done:
    if (zip && CPLCloseZip(zip) != CE_None && st == CNP_OK)
        st = cnp_err(CNP_E_IO, "writing '%s': %s", path, cnp_err_gdal_reason());
    free(kml);
    free(g84);
    return st;
}

/* ---- report.html ----------------------------------------------------------- */

static const char css[] =
    "*{box-sizing:border-box}"
    "body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',"
    "Arial,sans-serif;color:#1d2a22;background:#f3f5f2}"
    "header.top{background:#1f4d33;color:#fff;padding:22px 32px}"
    "header.top h1{margin:0 0 4px;font-size:26px;font-weight:600}"
    "header.top p{margin:0;color:#cfe3d4}"
    "main{max-width:1240px;margin:0 auto;padding:8px 24px 32px}"
    "section{background:#fff;border:1px solid #d9dfd9;border-radius:6px;margin:18px 0;"
    "padding:16px 22px}"
    "h2{font-size:19px;margin:0 0 12px;color:#1f4d33}"
    "h3{font-size:15px;margin:18px 0 8px}"
    "code,.mono{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:13px}"
    "table{border-collapse:collapse}"
    "table.kv th{text-align:left;font-weight:600;padding:4px 18px 4px 0;vertical-align:top;"
    "white-space:nowrap}"
    "table.kv td{padding:4px 0}"
    "table.kv th small{display:block;font-weight:400;color:#6b776f}"
    "table.attrs th,table.attrs td{padding:2px 14px 2px 0;border-bottom:1px solid #edf0ed}"
    "table.attrs th small{display:inline;margin-left:6px}"
    "table.list{width:100%}"
    "table.list th,table.list td{padding:5px 10px;border-bottom:1px solid #e3e8e3;"
    "text-align:right}"
    "table.list th{background:#eef2ee}"
    "table.list .l{text-align:left}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:6px}"
    ".card{flex:1 1 200px;background:#eef4ef;border-radius:6px;padding:10px 14px}"
    ".card b{display:block;font-size:24px;color:#1f4d33}"
    ".card span{color:#4a5a50;font-size:13px}"
    "figure{margin:0}"
    "figure img{max-width:100%;height:auto;border:1px solid #c8d0c8;display:block}"
    "figcaption{font-size:13px;color:#4a5a50;margin-top:6px}"
    ".alert h2 .rank{color:#6b776f;font-weight:400}"
    "h2 code{font-size:17px}"
    ".badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;"
    "font-weight:600;vertical-align:middle;margin-left:6px}"
    ".high{background:#c62828;color:#fff}.low{background:#f1c232;color:#222}"
    ".cols{display:flex;flex-wrap:wrap;gap:22px;align-items:flex-start}"
    ".cols figure{flex:0 1 auto;max-width:640px}"
    ".cols .attrs{flex:1 1 360px}"
    ".nochip{flex:1 1 520px;max-width:640px;padding:28px;background:#f6f6f1;"
    "border:1px dashed #b9b9a8;color:#555}"
    ".links a{margin-right:18px;white-space:nowrap}"
    ".nw{white-space:nowrap}"
    ".none{font-size:17px}"
    "footer{max-width:1240px;margin:0 auto;padding:0 24px 28px;font-size:13px;color:#5b675f}"
    "#img-status.bad{color:#c62828;font-weight:600}"
    "@media print{body{background:#fff}section{break-inside:avoid;border:0}"
    "header.top{background:#fff;color:#000}header.top p{color:#333}}";

/* Counts every image that finished loading with pixels, into #img-status. */
static const char img_check_js[] =
    "window.addEventListener('load',function(){"
    "var im=document.images,ok=0,i;"
    "for(i=0;i<im.length;i++)if(im[i].complete&&im[i].naturalWidth>0)ok++;"
    "var p=document.getElementById('img-status');"
    "p.setAttribute('data-loaded',ok);p.setAttribute('data-total',im.length);"
    "p.textContent='Images: '+ok+' of '+im.length+' loaded'+"
    "(ok<im.length?' \\u2014 some evidence images are missing next to this file.':'.');"
    "if(ok<im.length)p.className='bad';});";

/* Largest first; ties by id, so the order does not depend on anything else. */
static int cmp_area_desc(const void *pa, const void *pb)
{
    const cnp_alert *a = *(const cnp_alert *const *)pa, *b = *(const cnp_alert *const *)pb;
    if (a->area_ha != b->area_ha)
        return a->area_ha > b->area_ha ? -1 : 1;
    return strcmp(a->id, b->id);
}

static void html_scene_row(FILE *f, const char *role, const cnp_scene *sc)
{
    fprintf(f, "<tr><th>%s</th><td><code>", role);
    put_esc(f, cnp_path_base(sc->path));
    fputs("</code>", f);
    if (sc->mask_path) {
        fputs(", mask <code>", f);
        put_esc(f, cnp_path_base(sc->mask_path));
        fputs("</code>", f);
    }
    fputs("<br>acquired ", f);
    if (sc->date[0]) {
        put_esc(f, sc->date);
        fputs(" <small>(date from ", f);
        put_esc(f, sc->date_source ? sc->date_source : "?");
        fputs(")</small>", f);
    } else {
        fputs("<i>unknown</i>", f);
    }
    fprintf(f, "; %d &times; %d pixels, %d bands (red %d, NIR %d)%s</td></tr>\n",
            sc->src_width, sc->src_height, sc->nbands, sc->red, sc->nir,
            sc->warped ? "; resampled onto the BEFORE grid" : "");
}

static void html_header(FILE *f, const cnp_evidence_ctx *ctx)
{
    const cnp_scene *b = ctx->scene[0], *a = ctx->scene[1];
    const char *run_id = ctx->run_id && ctx->run_id[0] ? ctx->run_id : "";

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>Forest-loss report ", f);
    put_esc(f, b->date[0] ? b->date : "?");
    fputs(" to ", f);
    put_esc(f, a->date[0] ? a->date : "?");
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);

    fputs("<header class=\"top\">\n<h1>Forest-loss report</h1>\n<p>", f);
    put_esc(f, cnp_path_base(b->path));
    fputs(" (", f);
    put_esc(f, b->date[0] ? b->date : "date unknown");
    fputs(") &rarr; ", f);
    put_esc(f, cnp_path_base(a->path));
    fputs(" (", f);
    put_esc(f, a->date[0] ? a->date : "date unknown");
    fputs(")</p>\n</header>\n<main>\n", f);

    fputs("<section id=\"run\">\n<h2>Run</h2>\n<table class=\"kv\">\n", f);
    if (ctx->case_id) {
        fputs("<tr><th>Case</th><td id=\"case-id\">", f);
        put_esc(f, ctx->case_id);
        fputs("</td></tr>\n", f);
    }
    if (ctx->operator_name) {
        fputs("<tr><th>Operator</th><td id=\"operator\">", f);
        put_esc(f, ctx->operator_name);
        fputs("</td></tr>\n", f);
    }
    html_scene_row(f, "Before", b);
    html_scene_row(f, "After", a);
    fputs("<tr><th>Run id</th><td><code>", f);
    put_esc(f, run_id[0] ? run_id : "none");
    fputs("</code> <small>(the same inputs and settings give the same id; "
          "run.json lists the input hashes)</small></td></tr>\n", f);
    fputs("<tr><th>Program</th><td>canopy ", f);
    put_esc(f, ctx->program_version ? ctx->program_version : "unknown");
    fputs("</td></tr>\n</table>\n</section>\n", f);
}

static void html_summary(FILE *f, const cnp_evidence_ctx *ctx)
{
    const cnp_result *res = ctx->res;
    const cnp_settings *s = ctx->settings;
    const double total = (double)(res->observed_pixels + res->unobserved_pixels);
    const double obs_ha = (double)res->observed_pixels * res->pixel_area_m2 / 1e4;
    const double unobs_ha = (double)res->unobserved_pixels * res->pixel_area_m2 / 1e4;
    const double obs_pc = total > 0 ? 100.0 * (double)res->observed_pixels / total : 0;
    const double unobs_pc = total > 0 ? 100.0 * (double)res->unobserved_pixels / total : 0;
    size_t nhigh = 0;
    char list[1024];

    for (size_t i = 0; i < res->nalerts; i++)
        nhigh += res->alerts[i].high_confidence != 0;

    fputs("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n", f);
    fprintf(f, "<div class=\"card\"><b id=\"n-alerts\">%zu</b><span>alert%s (%zu high "
               "confidence)</span></div>\n",
            res->nalerts, res->nalerts == 1 ? "" : "s", nhigh);
    fprintf(f, "<div class=\"card\"><b>%.4f ha</b><span>total alert area</span></div>\n",
            res->total_area_ha);
    fprintf(f, "<div class=\"card\"><b>%.2f ha</b><span>observed in both dates (%.1f%%)</span>"
               "</div>\n", obs_ha, obs_pc);
    fprintf(f, "<div class=\"card\"><b>%.2f ha</b><span>not observed: cloud, shadow, nodata or "
               "outside the AFTER scene (%.1f%%)</span></div>\n</div>\n", unobs_ha, unobs_pc);
    fputs("<p>Loss inside unobserved areas cannot be seen: no alert there does not mean no "
          "loss.</p>\n", f);

    fputs("<h3>Settings in force</h3>\n<table class=\"kv\">\n", f);
    fprintf(f, "<tr><th>Forest before<small>forest_ndvi</small></th><td>NDVI &ge; %g</td></tr>\n",
            s->forest_ndvi);
    fprintf(f, "<tr><th>Loss<small>ndvi_drop</small></th><td>NDVI drop &ge; %g</td></tr>\n",
            s->ndvi_drop);
    fprintf(f, "<tr><th>High confidence<small>high_confidence_drop</small></th>"
               "<td>mean NDVI drop &ge; %g</td></tr>\n", s->high_confidence_drop);
    fprintf(f, "<tr><th>Minimum area<small>min_area</small></th><td>%g ha (%lld pixels of "
               "%.2f m&sup2;)</td></tr>\n",
            s->min_area_ha, (long long)res->min_pixels, res->pixel_area_m2);
    fprintf(f, "<tr><th>Connectivity<small>connectivity</small></th><td>%d-connected pixels "
               "form one alert</td></tr>\n", s->connectivity);
    cnp_settings_mask_list(s, list, sizeof list);
    fputs("<tr><th>Mask values<small>mask_invalid</small></th><td>", f);
    put_esc(f, list[0] ? list : "none");
    fprintf(f, " <small>(%s)</small></td></tr>\n",
            ctx->user_masks
                ? "mask raster values treated as not observed"
                : "not used: no mask raster given");
    fprintf(f, "<tr><th>Bands<small>red, nir</small></th><td>red %d, NIR %d</td></tr>\n",
            s->red_band, s->nir_band);
    fputs("<tr><th>Configuration</th><td>", f);
    if (ctx->config_path) {
        fputs("<code>", f);
        put_esc(f, ctx->config_path);
        fputs("</code> and command-line options", f);
    } else {
        fputs("built-in defaults and command-line options", f);
    }
    fputs("</td></tr>\n", f);
    fprintf(f, "<tr><th>Evidence chips</th><td>%zu written", ctx->chips_written);
    if (ctx->chips_left_out > 0)
        fprintf(f, ", %zu alert%s without a chip (<code class=\"nw\">--max-chips %zu</code>: "
                   "chips for the largest alerts only)", ctx->chips_left_out, ctx->chips_left_out == 1 ? "" : "s",
                ctx->max_chips);
    fputs("</td></tr>\n</table>\n</section>\n", f);

    fputs("<section id=\"overview\">\n<h2>Overview</h2>\n<figure><a href=\"overview.png\">"
          "<img src=\"overview.png\" alt=\"Overview of the AFTER scene with the alerts\"></a>\n"
          "<figcaption>AFTER scene in false colour (NIR, red, green: vegetation red, bare "
          "soil cyan); yellow: alert outlines; grey hatching: not observed in both dates."
          "</figcaption></figure>\n</section>\n", f);
}

static void html_alert(FILE *f, const cnp_evidence_ctx *ctx, const cnp_alert *a, size_t rank,
                       const char *dir)
{
    const size_t i = (size_t)(a - ctx->res->alerts);
    char buf[64], png[4300];

    fprintf(f, "<section class=\"alert\" id=\"alert-%s\">\n<h2><span class=\"rank\">#%zu</span> "
               "Alert <code>%s</code> &middot; %.4f ha <span class=\"badge %s\">%s confidence"
               "</span></h2>\n<div class=\"cols\">\n",
            a->id, rank, a->id, a->area_ha, a->high_confidence ? "high" : "low",
            a->high_confidence ? "high" : "low");
    if (has_chip(ctx, i)) {
        int w = 0, h = 0;
        snprintf(png, sizeof png, "%s/evidence/%s/pair.png", dir, a->id);
        fprintf(f, "<figure><a class=\"chip\" href=\"evidence/%s/pair.png\">"
                   "<img src=\"evidence/%s/pair.png\"", a->id, a->id);
        if (png_size(png, &w, &h))
            fprintf(f, " width=\"%d\" height=\"%d\"", w, h);
        fprintf(f, " alt=\"Alert %s before and after\"></a>\n<figcaption>Before and after. "
                   "Single images: <a href=\"evidence/%s/before.png\">before</a>, "
                   "<a href=\"evidence/%s/after.png\">after</a>.</figcaption></figure>\n",
                a->id, a->id, a->id);
    } else if (ctx->chips_left_out > 0) {
        fprintf(f, "<div class=\"nochip\">No image chip: chips were made for the %zu largest "
                   "alerts only (<code class=\"nw\">--max-chips %zu</code>); %zu alert%s no "
                   "chip. Use the map links or alerts.kmz to look at this place.</div>\n",
                ctx->chips_written, ctx->max_chips, ctx->chips_left_out,
                ctx->chips_left_out == 1 ? " has" : "s have");
    } else {
        fputs("<div class=\"nochip\">No image chip was written for this alert. Use the map "
              "links or alerts.kmz to look at this place.</div>\n", f);
    }

    fputs("<div class=\"attrs\"><table class=\"kv attrs\">\n", f);
    for (int k = 0; k < N_ATTRS; k++) {
        const char *t = attr_text(ctx, a, k, buf, sizeof buf);
        fprintf(f, "<tr><th>%s<small>%s</small></th><td class=\"mono\">", attrs[k].label,
                attrs[k].name);
        if (t)
            put_esc(f, t);
        else
            fputs("<i>unknown</i>", f);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n<p class=\"links\"><a class=\"osm\" href=\"", f);
    osm_href(f, a->point_lat, a->point_lon);
    fprintf(f, "\">Open in OpenStreetMap</a><a class=\"geo\" href=\"geo:%.7f,%.7f\">"
               "geo:%.7f,%.7f</a></p>\n</div>\n</div>\n</section>\n",
            a->point_lat, a->point_lon, a->point_lat, a->point_lon);
}

static cnp_status html_alerts(FILE *f, const cnp_evidence_ctx *ctx, const char *dir)
{
    const cnp_result *res = ctx->res;

    if (res->nalerts == 0) {
        fputs("<section id=\"no-alerts\">\n<h2>No alerts</h2>\n<p class=\"none\">No forest loss "
              "above the minimum area was found in the observed part of the scenes.</p>\n"
              "</section>\n", f);
        return CNP_OK;
    }
    const cnp_alert **order = malloc(res->nalerts * sizeof *order);
    if (!order)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    for (size_t i = 0; i < res->nalerts; i++)
        order[i] = &res->alerts[i];
    qsort(order, res->nalerts, sizeof *order, cmp_area_desc);

    fputs("<section id=\"alerts\">\n<h2>Alerts, largest first</h2>\n<table class=\"list\">\n"
          "<tr><th>#</th><th class=\"l\">Alert id</th><th>Area (ha)</th><th>Mean NDVI change"
          "</th><th class=\"l\">Confidence</th><th>Latitude</th><th>Longitude</th></tr>\n", f);
    for (size_t r = 0; r < res->nalerts; r++) {
        const cnp_alert *a = order[r];
        fprintf(f, "<tr><td>%zu</td><td class=\"l\"><a href=\"#alert-%s\"><code>%s</code></a>"
                   "</td><td>%.4f</td><td>%.4f</td><td class=\"l\">%s</td><td>%.7f</td>"
                   "<td>%.7f</td></tr>\n",
                r + 1, a->id, a->id, a->area_ha, a->mean_dndvi,
                a->high_confidence ? "high" : "low", a->point_lat, a->point_lon);
    }
    fputs("</table>\n</section>\n", f);
    for (size_t r = 0; r < res->nalerts; r++)
        html_alert(f, ctx, order[r], r + 1, dir);
    free(order);
    return CNP_OK;
}

cnp_status cnp_write_report(const char *path, const cnp_evidence_ctx *ctx)
{
    char dir[4200];
    cnp_status st;

    /* Chips are looked up next to the report (for their pixel sizes). */
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        snprintf(dir, sizeof dir, ".");

    FILE *f = fopen(path, "w");
    if (!f)
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", path, strerror(errno));
    html_header(f, ctx);
    html_summary(f, ctx);
    st = html_alerts(f, ctx, dir);
    fputs("</main>\n<footer>\n<p id=\"img-status\" data-loaded=\"\" data-total=\"\">Images: "
          "not checked (scripts are off).</p>\n<p>Written by canopy ", f);
    put_esc(f, ctx->program_version ? ctx->program_version : "unknown");
    fputs(". Alert outlines: alerts.gpkg (scene CRS), alerts.geojson and alerts.kmz (WGS84); "
          "attributes: alerts.csv; run record: run.json.</p>\n</footer>\n<script>", f);
    fputs(img_check_js, f);
    fputs("</script>\n</body>\n</html>\n", f);
    if ((ferror(f) | fclose(f)) && st == CNP_OK)
        st = cnp_err(CNP_E_IO, "writing '%s': %s", path, strerror(errno));
    return st;
}
