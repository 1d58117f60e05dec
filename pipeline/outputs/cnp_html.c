/* pipeline/outputs/cnp_html.c - report.html: the run and its alerts on one page that
 * travels alone (sent by e-mail, put in a case file): CSS, script and every
 * image inside the file (images as data: URIs), no network resource; readable
 * from phone to desktop width; printed, it carries the case, the grid's CRS,
 * the input hashes and the run id. Words and numbers come from
 * cnp_evidence_text.h, as in report.pdf.
 *
 * No clock reaches the page, so the same inputs give the same bytes and
 * `canopy verify --rerun` can reproduce it: the run's start and end times are
 * in run.json.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_confidence.h"
#include "cnp_err.h"
#include "cnp_evidence.h"
#include "cnp_evidence_text.h"
#include "cnp_ident.h"
#include "cnp_mapframe.h"

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
    ".scroll{overflow-x:auto;max-width:100%}"
    ".hash{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:12px;"
    "word-break:break-all}"
    "td,th{overflow-wrap:anywhere}"
    "p.fact{margin:6px 0}"
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
    "table.list th,table.list td{white-space:nowrap;overflow-wrap:normal}"
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
    ".two{display:flex;gap:8px}.two a{flex:1 1 0;min-width:0}"
    ".cols .attrs{flex:1 1 360px}"
    ".nochip{flex:1 1 520px;max-width:640px;padding:28px;background:#f6f6f1;"
    "border:1px dashed #b9b9a8;color:#555}"
    ".links{display:flex;flex-wrap:wrap;gap:4px 18px}.links a{white-space:nowrap}"
    ".nw{white-space:nowrap}"
    ".none{font-size:17px}"
    "footer{max-width:1240px;margin:0 auto;padding:0 24px 28px;font-size:13px;color:#5b675f}"
    "#img-status.bad{color:#c62828;font-weight:600}"
    /* Phone width: one column, key-value tables as label over value. */
    "@media (max-width:640px){header.top{padding:14px 16px}header.top h1{font-size:21px}"
    "main{padding:4px 8px 20px}section{padding:12px 12px;margin:12px 0}"
    "table.kv,table.kv tbody,table.kv tr,table.kv th,table.kv td{display:block;width:100%}"
    "table.kv th{white-space:normal;padding:6px 0 0}table.kv td{padding:0 0 6px}"
    "table.attrs th small{display:block;margin:0}"
    ".cols figure,.cols .attrs,.nochip{flex:1 1 100%;max-width:100%}"
    ".card{flex:1 1 140px}.card b{font-size:20px}footer{padding:0 12px 20px}}"
    "@media print{body{background:#fff;font-size:11pt}section{break-inside:avoid;border:0;"
    "padding:6px 0}main{max-width:none;padding:0}"
    "header.top{background:#fff;color:#000;padding:0 0 8px}header.top p{color:#333}"
    ".scroll{overflow:visible}.links{display:none}}";

/* Counts every image that finished loading with pixels, into #img-status. */
static const char img_check_js[] =
    "window.addEventListener('load',function(){"
    "var im=document.images,ok=0,i;"
    "for(i=0;i<im.length;i++)if(im[i].complete&&im[i].naturalWidth>0)ok++;"
    "var p=document.getElementById('img-status');"
    "p.setAttribute('data-loaded',ok);p.setAttribute('data-total',im.length);"
    "p.textContent='Images: '+ok+' of '+im.length+' loaded'+"
    "(ok<im.length?' \\u2014 some evidence images did not load.':'.');"
    "if(ok<im.length)p.className='bad';});";

static void html_scene_row(FILE *f, const char *role, const cnp_scene *sc)
{
    fprintf(f, "<tr><th>%s</th><td><code>", role);
    cnp_ident_write_html(f, cnp_path_base(sc->path));
    fputs("</code>", f);
    if (sc->mask_path) {
        fputs(", mask <code>", f);
        cnp_ident_write_html(f, cnp_path_base(sc->mask_path));
        fputs("</code>", f);
    }
    fputs("<br>acquired ", f);
    if (sc->date[0]) {
        cnp_ident_write_html(f, sc->date);
        fputs(" <small>(date from ", f);
        cnp_ident_write_html(f, sc->date_source ? sc->date_source : "?");
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
    cnp_ident_write_html(f, b->date[0] ? b->date : "?");
    fputs(" to ", f);
    cnp_ident_write_html(f, a->date[0] ? a->date : "?");
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);

    fputs("<header class=\"top\">\n<h1>Forest-loss report</h1>\n<p>", f);
    cnp_ident_write_html(f, cnp_path_base(b->path));
    fputs(" (", f);
    cnp_ident_write_html(f, b->date[0] ? b->date : "date unknown");
    fputs(") &rarr; ", f);
    cnp_ident_write_html(f, cnp_path_base(a->path));
    fputs(" (", f);
    cnp_ident_write_html(f, a->date[0] ? a->date : "date unknown");
    fputs(")</p>\n</header>\n<main>\n", f);

    fputs("<section id=\"run\">\n<h2>Run</h2>\n<table class=\"kv\">\n", f);
    if (ctx->case_id) {
        fputs("<tr><th>Case</th><td id=\"case-id\">", f);
        cnp_ident_write_html(f, ctx->case_id);
        fputs("</td></tr>\n", f);
    }
    if (ctx->operator_name) {
        fputs("<tr><th>Operator</th><td id=\"operator\">", f);
        cnp_ident_write_html(f, ctx->operator_name);
        fputs("</td></tr>\n", f);
    }
    html_scene_row(f, "Before", b);
    html_scene_row(f, "After", a);
    fputs("<tr><th>Run id</th><td><code>", f);
    cnp_ident_write_html(f, run_id[0] ? run_id : "none");
    fputs("</code> <small>(the same inputs and settings give the same id; "
          "run.json lists the input hashes)</small></td></tr>\n", f);
    fputs("<tr><th>Program</th><td>canopy ", f);
    cnp_ident_write_html(f, ctx->program_version ? ctx->program_version : "unknown");
    fputs("</td></tr>\n</table>\n</section>\n", f);
}

static cnp_status html_summary(FILE *f, const cnp_evidence_ctx *ctx, const char *dir)
{
    const cnp_result *res = ctx->res;
    const cnp_settings *s = ctx->settings;
    const double total = (double)(res->observed_pixels + res->unobserved_pixels);
    const double obs_ha = res->observed_area_ha, unobs_ha = res->unobserved_area_ha;
    const double obs_pc = total > 0 ? 100.0 * (double)res->observed_pixels / total : 0;
    const double unobs_pc = total > 0 ? 100.0 * (double)res->unobserved_pixels / total : 0;
    size_t nhigh = 0;

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
    fprintf(f, "<tr><th>Minimum area<small>min_area</small></th><td>%g ha on the ellipsoid, "
               "as every area here (%lld pixels of about %.2f m&sup2; or more)</td></tr>\n",
            s->min_area_ha, (long long)res->min_pixels, res->pixel_area_m2);
    fprintf(f, "<tr><th>Connectivity<small>connectivity</small></th><td>%d-connected pixels "
               "form one alert</td></tr>\n", s->connectivity);
    /* Each date as it was read: its bands, scale and mask rule, from the
     * resolved scene (a product brings its own), never from raw settings. */
    for (int k = 0; k < 2; k++) {
        const cnp_scene *sc = ctx->scene[k];
        const char *rule = cnp_scene_mask_rule(sc);
        char bands[160];
        cnp_scene_band_text(sc, bands, sizeof bands);
        fprintf(f, "<tr><th>%s<small>as read</small></th><td>", k ? "AFTER" : "BEFORE");
        cnp_ident_write_html(f, bands);
        fprintf(f, "; reflectance = DN &times; %g %s %g; mask: ", sc->radiometry.scale,
                sc->radiometry.offset < 0 ? "&minus;" : "+", fabs(sc->radiometry.offset));
        cnp_ident_write_html(f, rule ? rule : "none (only nodata is unobserved)");
        if (rule && sc->mask_buffer_px > 0)
            fprintf(f, ", clouds and shadows grown by %d px", sc->mask_buffer_px);
        fputs("</td></tr>\n", f);
    }
    fputs("<tr><th>Configuration</th><td>", f);
    if (ctx->config_path) {
        fputs("<code>", f);
        cnp_ident_write_html(f, ctx->config_path);
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

    /* The picture inside the page; the link opens the file when the folder
     * travels with it. */
    char png[4300];
    int w = 0, h = 0;
    snprintf(png, sizeof png, "%s/overview.png", dir);
    fputs("<section id=\"overview\">\n<h2>Overview</h2>\n<figure><a href=\"overview.png\">"
          "<img src=\"", f);
    const cnp_status st = cnp_evidence_put_data_uri(f, png);
    fputs("\"", f);
    if (cnp_evidence_png_size(png, &w, &h))
        fprintf(f, " width=\"%d\" height=\"%d\"", w, h);
    fputs(" alt=\"Overview of the AFTER scene with the alerts\"></a>\n"
          "<figcaption>AFTER scene in false colour (NIR, red, green: vegetation red, bare "
          "soil cyan); yellow: alert outlines; numbers: the alerts' numbers below (1 = "
          "largest); grey hatching: not observed in both dates. Georeferenced: overview.png "
          "opens in place in QGIS (overview.pgw, overview.png.aux.xml).</figcaption></figure>\n"
          "</section>\n", f);
    return st;
}

/* Where the numbers come from: case, grid, the inputs with their SHA-256,
 * run id and software. Shown on screen and on paper. */
static void html_provenance(FILE *f, const cnp_evidence_ctx *ctx, const cnp_evidence_facts *fx)
{
    fputs("<section id=\"provenance\">\n<h2>Provenance</h2>\n<table class=\"kv\">\n", f);
    fputs("<tr><th>Case</th><td>", f);
    if (ctx->case_id)
        cnp_ident_write_html(f, ctx->case_id);
    else
        fputs("<i>not given (--case-id)</i>", f);
    fputs("</td></tr>\n<tr><th>Operator</th><td>", f);
    if (ctx->operator_name)
        cnp_ident_write_html(f, ctx->operator_name);
    else
        fputs("<i>not given (--operator)</i>", f);
    fputs("</td></tr>\n<tr><th>Grid CRS</th><td id=\"crs\">", f);
    cnp_ident_write_html(f, fx->crs);
    fputs("</td></tr>\n<tr><th>Pixel size</th><td>", f);
    cnp_ident_write_html(f, fx->pixel);
    fputs("</td></tr>\n<tr><th>Processed window</th><td>", f);
    cnp_ident_write_html(f, fx->window);
    fputs("</td></tr>\n<tr><th>Run id</th><td class=\"hash\">", f);
    cnp_ident_write_html(f, ctx->run_id && ctx->run_id[0] ? ctx->run_id : "none");
    fputs("</td></tr>\n<tr><th>Software</th><td>", f);
    for (size_t i = 0; i < fx->nsoftware; i++) {
        fputs(i ? ", " : "", f);
        cnp_ident_write_html(f, fx->software[i]);
    }
    fputs("</td></tr>\n<tr><th>Time of the run</th><td>in run.json (started_utc, "
          "finished_utc); not on this page, so that a rerun reproduces it byte for byte"
          "</td></tr>\n</table>\n<h3>Input files (SHA-256)</h3>\n<table class=\"kv\">\n", f);
    for (size_t i = 0; i < ctx->ninputs; i++) {
        const cnp_evidence_input *in = &ctx->inputs[i];
        fputs("<tr><th>", f);
        cnp_ident_write_html(f, in->role);
        fputs("</th><td><code>", f);
        cnp_ident_write_html(f, cnp_path_base(in->path));
        fprintf(f, "</code>, %lld bytes<br><span class=\"hash\">", in->size);
        cnp_ident_write_html(f, in->sha256[0] ? in->sha256 : "not hashed (--no-hash)");
        fputs("</span></td></tr>\n", f);
    }
    fputs("</table>\n</section>\n", f);
}

/* Method, limitations and image credits, in the words of report.pdf. */
static void html_method(FILE *f, const cnp_evidence_facts *fx)
{
    static const char *const head[3] = { "Method", "Limitations", "Image credits" };
    static const char *const id[3] = { "method", "limitations", "credits" };
    const size_t n[3] = { fx->nmethod, fx->nlimits, fx->ncredits };
    for (int s = 0; s < 3; s++) {
        fprintf(f, "<section id=\"%s\">\n<h2>%s</h2>\n", id[s], head[s]);
        for (size_t i = 0; i < n[s]; i++) {
            const char *t = s == 0 ? fx->method[i] : s == 1 ? fx->limits[i] : fx->credits[i];
            fputs("<p class=\"fact\">", f);
            cnp_ident_write_html(f, t);
            fputs("</p>\n", f);
        }
        fputs("</section>\n", f);
    }
}

static cnp_status html_alert(FILE *f, const cnp_evidence_ctx *ctx, const cnp_alert *a,
                             size_t rank, const char *dir)
{
    const size_t i = (size_t)(a - ctx->res->alerts);
    char buf[64], png[4300];
    cnp_status st = CNP_OK;

    fprintf(f, "<section class=\"alert\" id=\"alert-%s\">\n<h2><span class=\"rank\">#%zu</span> "
               "Alert <code>%s</code> &middot; %.4f ha <span class=\"badge %s\">%s confidence"
               "</span></h2>\n<div class=\"cols\">\n",
            a->id, rank, a->id, a->area_ha, cnp_confidence_name(a->confidence),
            cnp_confidence_name(a->confidence));
    if (cnp_evidence_has_chip(ctx, i)) {
        /* The two chips side by side: each picture is in the page once. */
        static const char *const when[2] = { "before", "after" };
        fputs("<figure><div class=\"two\">", f);
        for (int k = 0; k < 2 && st == CNP_OK; k++) {
            int w = 0, h = 0;
            snprintf(png, sizeof png, "%s/evidence/%s/%s.png", dir, a->id, when[k]);
            fprintf(f, "<a class=\"chip\" href=\"evidence/%s/%s.png\"><img src=\"", a->id,
                    when[k]);
            st = cnp_evidence_put_data_uri(f, png);
            fputs("\"", f);
            if (cnp_evidence_png_size(png, &w, &h))
                fprintf(f, " width=\"%d\" height=\"%d\"", w, h);
            fprintf(f, " alt=\"Alert %s %s\"></a>", a->id, when[k]);
        }
        fputs("</div>\n<figcaption>Left before, right after, on one brightness scale. Each "
              "opens alone, georeferenced, beside this report.</figcaption></figure>\n", f);
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
    for (int k = 0; k < CNP_NATTRS; k++) {
        const char *t = cnp_attr_text(ctx, a, k, buf, sizeof buf);
        if (!cnp_attr_shown(ctx, k))
            continue;
        fprintf(f, "<tr><th>%s<small>%s</small></th><td class=\"mono\">", cnp_attrs[k].label,
                cnp_attrs[k].name);
        if (t)
            cnp_ident_write_html(f, t);
        else
            fputs("<i>unknown</i>", f);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n<p class=\"links\"><a class=\"osm\" href=\"", f);
    cnp_evidence_osm_href(f, a->point_lat, a->point_lon);
    fprintf(f, "\">Open in OpenStreetMap</a><a class=\"geo\" href=\"geo:%.7f,%.7f\">"
               "geo:%.7f,%.7f</a></p>\n</div>\n</div>\n</section>\n",
            a->point_lat, a->point_lon, a->point_lat, a->point_lon);
    return st;
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
    size_t *order = NULL;
    cnp_status st = cnp_map_rank(res, &order);   /* the overview's numbers */
    if (st != CNP_OK)
        return st;

    fputs("<section id=\"alerts\">\n<h2>Alerts, largest first</h2>\n<div class=\"scroll\">"
          "<table class=\"list\">\n"
          "<tr><th>#</th><th class=\"l\">Alert id</th><th>Area (ha)</th><th>Mean NDVI change"
          "</th><th class=\"l\">Confidence</th><th>Latitude</th><th>Longitude</th></tr>\n", f);
    for (size_t r = 0; r < res->nalerts; r++) {
        const cnp_alert *a = &res->alerts[order[r]];
        fprintf(f, "<tr><td>%zu</td><td class=\"l\"><a href=\"#alert-%s\"><code>%s</code></a>"
                   "</td><td>%.4f</td><td>%.4f</td><td class=\"l\">%s</td><td>%.7f</td>"
                   "<td>%.7f</td></tr>\n",
                r + 1, a->id, a->id, a->area_ha, a->mean_dndvi,
                cnp_confidence_name(a->confidence), a->point_lat, a->point_lon);
    }
    fputs("</table></div>\n<p>Latitude and longitude: the alert's point (WGS 84), inside "
          "it.</p>\n</section>\n", f);
    for (size_t r = 0; r < res->nalerts && st == CNP_OK; r++)
        st = html_alert(f, ctx, &res->alerts[order[r]], r + 1, dir);
    free(order);
    return st;
}

/* --zones: the alerts grouped by zone (zones.csv's order), each with its
 * overlap; the zones without alerts counted. */
static cnp_status html_zones(FILE *f, const cnp_evidence_ctx *ctx)
{
    const cnp_zone_match *m = &ctx->res->zones;
    if (!m->given)
        return CNP_OK;
    cnp_zone_groups g;
    size_t empty = 0;
    cnp_status st = cnp_zone_groups_make(m, &g);
    if (st != CNP_OK)
        return st;
    fputs("<section id=\"zones\">\n<h2>Alerts by zone</h2>\n<div class=\"scroll\">"
          "<table class=\"list\">\n<tr><th class=\"l\">Layer</th><th class=\"l\">Zone</th>"
          "<th>Alerts</th><th>Area (ha)</th><th class=\"l\">Alert ids (overlap, ha)</th></tr>\n", f);
    for (size_t z = 0; z < m->nzone; z++) {
        const cnp_zone *zn = &m->zone[z];
        if (!zn->alerts) {
            empty++;
            continue;
        }
        fputs("<tr><td class=\"l\">", f);
        cnp_ident_write_html(f, zn->layer);
        fputs("</td><td class=\"l\">", f);
        cnp_ident_write_html(f, zn->name);
        fprintf(f, "</td><td>%lld</td><td>%.4f</td><td class=\"l\">", (long long)zn->alerts,
                zn->area_ha);
        for (size_t k = g.start[z]; k < g.start[z + 1]; k++) {
            const cnp_zone_hit *x = &m->hit[g.by[k]];
            const char *id = ctx->res->alerts[x->alert].id;
            fprintf(f, "%s<a href=\"#alert-%s\"><code>%s</code></a> (%.4f)",
                    k > g.start[z] ? ", " : "",
                    id, id, x->area_ha);
        }
        fputs("</td></tr>\n", f);
    }
    fprintf(f, "</table></div>\n<p>%zu zone%s inside the processed window without alerts "
            "(all in zones.csv; each alert's zones also in its attributes).</p>\n</section>\n",
            empty, empty == 1 ? "" : "s");
    cnp_zone_groups_free(&g);
    return CNP_OK;
}

cnp_status cnp_write_report(const char *path, const cnp_evidence_ctx *ctx)
{
    char dir[4200];
    cnp_status st;

    /* Pictures are read from beside the report, into it. */
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        snprintf(dir, sizeof dir, ".");

    cnp_evidence_facts *fx = malloc(sizeof *fx);
    if (!fx)
        return cnp_err(CNP_E_NOMEM, "out of memory for report.html");
    if ((st = cnp_evidence_facts_get(ctx, fx)) != CNP_OK) {
        free(fx);
        return st;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        free(fx);
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", path, strerror(errno));
    }
    html_header(f, ctx);
    st = html_summary(f, ctx, dir);
    if (st == CNP_OK)
        st = html_zones(f, ctx);
    if (st == CNP_OK)
        st = html_alerts(f, ctx, dir);
    html_provenance(f, ctx, fx);
    html_method(f, fx);
    free(fx);
    fputs("</main>\n<footer>\n<p id=\"img-status\" data-loaded=\"\" data-total=\"\">Images: "
          "not checked (scripts are off).</p>\n<p>Written by canopy ", f);
    cnp_ident_write_html(f, ctx->program_version ? ctx->program_version : "unknown");
    fputs(". Alert outlines: alerts.gpkg (scene CRS), alerts.geojson and alerts.kmz (WGS84); "
          "attributes: alerts.csv; run record: run.json.</p>\n</footer>\n<script>", f);
    fputs(img_check_js, f);
    fputs("</script>\n</body>\n</html>\n", f);
    if ((ferror(f) | fclose(f)) && st == CNP_OK)
        st = cnp_err(CNP_E_IO, "writing '%s': %s", path, strerror(errno));
    return st;
}
