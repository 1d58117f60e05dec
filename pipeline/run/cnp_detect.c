/* pipeline/run/cnp_detect.c - `canopy detect` from scenes to OUTDIR.
 *
 * Memory is bounded by one block-row strip per worker thread plus the loss
 * runs (proportional to the loss found, not to the scene). Strips are read and
 * classified in parallel, each worker with its own GDAL handles; their runs
 * are merged into the global union-find in strip order (an OpenMP `ordered`
 * region), so labels, statistics and ids do not depend on the thread count.
 */
#include "cnp_detect.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <omp.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <geodesic.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <openssl/evp.h>
#include <png.h>
#include <proj.h>

#include "cnp_change.h"
#include "cnp_coreg_scene.h"
#include "cnp_err.h"
#include "cnp_fs.h"
#include "cnp_hash.h"
#include "cnp_evidence.h"
#include "cnp_geom.h"
#include "cnp_json.h"
#include "cnp_output.h"
#include "cnp_product.h"
#include "cnp_raster.h"
#include "cnp_runs.h"
#include "cnp_trace.h"
#include "cnp_alerts.h"
#include "cnp_ident.h"
#include "cnp_inputs.h"
#include "cnp_maskcheck.h"
#include "cnp_losspass.h"
#include "cnp_num.h"
#include "cnp_runjson.h"
#include "cnp_runprogress.h"
#include "cnp_baselines.h"
#include "cnp_staging.h"
#include "cnp_version.h"
#include "cnp_warn.h"
#include "cnp_zoneset.h"

/* ---- the memory cap --------------------------------------------------------- */

/* OGR's GeoJSON writer builds a JSON tree of a whole feature before writing
 * it: about 1 KB a vertex (measured: 513 MB for one alert of 125,000 parts of
 * 5 vertices). A feature it cannot hold within the cap stops the run before
 * anything is written, saying what to change. */
static cnp_status check_geojson_fits(const cnp_result *res, unsigned skip, size_t budget)
{
    if (!budget || (skip & CNP_OUT_GEOJSON) || res->nalerts == 0)
        return CNP_OK;
    size_t big = 0, big_rings = 0, big_points = 0;
    for (size_t i = 0; i < res->nalerts; i++) {
        size_t rings, points;
        cnp_geometry_counts(res->alerts[i].geom_wgs84, &rings, &points);
        if (points > big_points) {
            big = i;
            big_rings = rings;
            big_points = points;
        }
    }
    const double need = (double)big_points * 1024.0, mb = 1024.0 * 1024.0;
    const double left = budget > res->geometry_bytes ? (double)(budget - res->geometry_bytes) : 0;
    if (need <= left)
        return CNP_OK;
    return cnp_err(CNP_E_DATA, "--max-memory: alert %s has %zu rings and %zu vertices; GDAL's "
                   "GeoJSON writer needs about %.0f MB to write it, more than the cap leaves "
                   "(%.0f MB): raise --max-memory by %.0f MB, or leave GeoJSON out "
                   "(--outputs gpkg,csv,overview --no-evidence)", res->alerts[big].id,
                   big_rings, big_points, ceil(need / mb), left / mb, ceil((need - left) / mb));
}

/* ---- products ---------------------------------------------------------- */

/* One of the four outputs every run writes, into the staging folder. */
static cnp_status write_one_product(int which, const cnp_staging *sg, const cnp_result *res,
                                    const cnp_scene sc[2], const cnp_evidence_ctx *ev,
                                    const cnp_overview *ov, cnp_timings *t)
{
    char path[4200];   /* staging dir + name */
    const double t0 = cnp_now_s();
    cnp_status st;

    cnp_staging_path(sg, cnp_output_file(which), path, sizeof path);
    switch (which) {
    case 0:  st = cnp_write_gpkg(path, res, &sc[0], &sc[1]);    t->gpkg = cnp_now_s() - t0;     break;
    case 1:  st = cnp_write_geojson(path, res, &sc[0], &sc[1]); t->geojson = cnp_now_s() - t0;  break;
    case 2:  st = cnp_write_csv(path, ev);                      t->csv = cnp_now_s() - t0;      break;
    default: st = cnp_write_overview(path, ov, &sc[1], res);    t->overview = cnp_now_s() - t0; break;
    }
    return st;
}

/* The four outputs (those --outputs keeps) are independent files, written
 * side by side when there are threads for it, in lanes: GeoJSON (OGR's
 * slowest writer: it formats every coordinate through a C++ stream) has one;
 * with two threads the quicklook, GeoPackage and CSV share the other, with
 * three or more the quicklook has its own too. Each file is deterministic on
 * its own, so the order they finish in changes nothing. The first failure in
 * product order is reported. */
static cnp_status write_products(const cnp_staging *sg, const cnp_result *res, const cnp_scene sc[2],
                                 const cnp_evidence_ctx *ev, const cnp_overview *ov, int nthreads,
                                 cnp_timings *t)
{
    static const int lanes[2][3][4] = {
        { { 1, -1 }, { 3, 0, 2, -1 }, { -1 } },   /* 1 or 2 threads */
        { { 1, -1 }, { 3, -1 }, { 0, 2, -1 } },   /* 3 or more      */
    };
    const int (*lane)[4] = lanes[nthreads >= 3];
    const int nlanes = nthreads >= 3 ? 3 : 2;
    cnp_status st[4] = { CNP_OK, CNP_OK, CNP_OK, CNP_OK };
    char msg[4][1024] = { "", "", "", "" };

    #pragma omp parallel for schedule(static, 1) num_threads(nthreads < nlanes ? nthreads : nlanes) \
        default(none) shared(sg, res, sc, ev, ov, t, st, msg, lane, nlanes)
    for (int l = 0; l < nlanes; l++) {
        for (int i = 0; lane[l][i] >= 0; i++) {
            const int k = lane[l][i];
            if (sg->skip & (1u << k))
                continue;
            st[k] = write_one_product(k, sg, res, sc, ev, ov, t);
            if (st[k] != CNP_OK) {
                snprintf(msg[k], sizeof msg[k], "%s", cnp_err_msg());
                break;
            }
        }
    }
    for (int k = 0; k < 4; k++)
        if (st[k] != CNP_OK)
            return cnp_err(st[k], "%s", msg[k]);
    return CNP_OK;
}

/* ---- the summary -------------------------------------------------------- */

void cnp_detect_summary_free(cnp_detect_summary *s)
{
    if (!s)
        return;
    cnp_fs_free_list(s->outputs, s->noutputs);
    memset(s, 0, sizeof *s);
}

/* The committed run, as the CLI reports it: counts from `res`, and OUTDIR's
 * top-level names that run.json lists or that the run wrote beside it. */
static cnp_status summarise(cnp_detect_summary *sum, const cnp_result *res,
                            const cnp_timings *t, const char *run_id, const char *outdir)
{
    char **list = NULL;
    size_t n = 0, k = 0;
    memset(sum, 0, sizeof *sum);
    sum->nalerts = res->nalerts;
    for (size_t i = 0; i < res->nalerts; i++)
        sum->nhigh += res->alerts[i].high_confidence != 0;
    sum->area_ha = res->total_area_ha;
    sum->observed_area_ha = res->observed_area_ha;
    sum->unobserved_area_ha = res->unobserved_area_ha;
    sum->loss_pixels = res->loss_pixels;
    sum->unobserved_pixels = res->unobserved_pixels;
    sum->window_pixels = res->window_pixels;
    sum->t = *t;
    sum->coreg = res->coreg;
    snprintf(sum->run_id, sizeof sum->run_id, "%s", run_id);
    /* The committed folder may hold the user's own files too (--overwrite
     * keeps them): only the names of what Canopy writes count. */
    static const char *const ours[] = {
        "alerts.gpkg", "alerts.geojson", "alerts.csv", "zones.csv", "alerts.kmz", "overview.png",
        "overview.pgw", "overview.png.aux.xml", "report.html", "report.pdf", "run.json",
        CNP_SUMS_FILE, CNP_SUMS_SIG,
    };
    cnp_status st = cnp_fs_list_files(outdir, &list, &n);
    if (st != CNP_OK)
        return st;
    sum->outputs = calloc(sizeof ours / sizeof ours[0] + 2, sizeof *sum->outputs);
    if (!sum->outputs) {
        cnp_fs_free_list(list, n);
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    int evidence = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(list[i], "evidence/", 9) == 0) {
            evidence = 1;
            continue;
        }
        for (size_t o = 0; o < sizeof ours / sizeof ours[0]; o++)
            if (strcmp(list[i], ours[o]) == 0 && !(sum->outputs[k++] = strdup(list[i])))
                st = cnp_err(CNP_E_NOMEM, "out of memory");
    }
    if (evidence && st == CNP_OK && !(sum->outputs[k++] = strdup("evidence/")))
        st = cnp_err(CNP_E_NOMEM, "out of memory");
    sum->noutputs = k;
    cnp_fs_free_list(list, n);
    if (st != CNP_OK)
        cnp_detect_summary_free(sum);
    return st;
}

/* ---- the command -------------------------------------------------------- */

/* Tell the caller now (a failure later must not hide it); cnp_warn keeps it
 * for run.json. */
static void warn_now(const cnp_job *job, const char *text)
{
    if (text && job->warn)
        job->warn(job->warn_arg, text);
}

/* What runs, but is probably not what the user meant: dates in the wrong
 * order, a mask raster that holds image data. */
static void check_inputs(const cnp_job *job, const cnp_scene sc[2], const cnp_baselines *b,
                         cnp_warnings *w)
{
    for (int k = 0; k < b->n; k++)
        if (b->sc[k].date[0] && sc[1].date[0] && strcmp(b->sc[k].date, sc[1].date) >= 0)
            warn_now(job, cnp_warn(w, "baseline %d (%s) is not earlier than AFTER (%s): a "
                                 "baseline should show the place before the change, in "
                                 "AFTER's season of earlier years", k + 1, b->sc[k].date,
                                 sc[1].date));
    if (sc[0].date[0] && sc[1].date[0] && strcmp(sc[0].date, sc[1].date) > 0)
        warn_now(job, cnp_warn(w, "BEFORE's date (%s) is later than AFTER's (%s): the loss found "
                             "is what changed from AFTER to BEFORE; give the older scene first",
                             sc[0].date, sc[1].date));
    static const char *const role[2] = { "BEFORE", "AFTER" };
    static const char *const opt[2] = { "--before-mask", "--after-mask" };
    for (int i = 0; i < 2; i++) {
        char why[300];
        if (sc[i].mask_path && cnp_mask_looks_like_data(sc[i].mask_path, why, sizeof why))
            warn_now(job, cnp_warn(w, "%s's mask '%s' does not look like a mask: %s; check %s "
                                 "(a reflectance band given as a mask decodes into nonsense)",
                                 role[i], cnp_path_base(sc[i].mask_path), why, opt[i]));
    }
}

/* --aoi (io/cnp_ctxmask.h): res->aoi, the window shrunk to it, its pixels
 * as a mask. */
static cnp_status open_aoi(const cnp_job *job, const cnp_scene *grid, int win[4],
                           cnp_result *res, cnp_ctxmask **ctxm)
{
    int64_t repaired = 0;
    if (!job->aoi)
        return CNP_OK;
    const cnp_status st = cnp_ctxmask_open_aoi(job->aoi, "the scenes' overlap", grid->wkt,
                                               grid->gt, win, &res->aoi, &repaired, ctxm);
    char msg[160];
    snprintf(msg, sizeof msg, "--aoi: %lld invalid polygon%s repaired with OGR's MakeValid (the "
             "run uses the repaired outline)", (long long)repaired, repaired == 1 ? "" : "s");
    if (st == CNP_OK && repaired > 0 && job->warn)
        job->warn(job->warn_arg, msg);
    return st;
}

/* Zones' polygons that were repaired or are not polygons: the overlaps are
 * of the repaired outline, or not counted. */
static void warn_zones(const cnp_job *job, const cnp_zone_match *m, cnp_warnings *w)
{
    if (m->repaired)
        warn_now(job, cnp_warn(w, "zones: %lld invalid polygon%s repaired with OGR's MakeValid "
                               "(overlaps are measured on the repaired outlines)",
                               (long long)m->repaired, m->repaired == 1 ? "" : "s"));
    if (m->not_areal)
        warn_now(job, cnp_warn(w, "zones: %lld feature%s without an area (points or lines) "
                               "left out", (long long)m->not_areal, m->not_areal == 1 ? "" : "s"));
}

/* Long: the whole command in its order (open, align, pass, alerts, outputs,
 * commit), with one clean-up for every exit. */
cnp_status cnp_detect_run(const cnp_job *job)
{
    const cnp_settings *s = &job->settings;
    cnp_scene sc[2];
    cnp_baselines base;
    cnp_loss_pass lp;
    cnp_result res;
    cnp_overview ov;
    cnp_staging sg;
    cnp_inputs hj;
    int hashing = 0, staged = 0, win[4] = { 0 };
    cnp_timings t = { 0 };
    char started[32], path[4200], run_id[65] = "";
    cnp_evidence_ctx ev;
    cnp_warnings warn = { 0 };
    cnp_zone_set zones = { 0 };
    cnp_ctxmask *ctxm = NULL;
    cnp_run_progress rp = { job->progress, job->progress_arg, !job->no_evidence };
    double p_from;
    cnp_status st;
    double t0 = cnp_now_s();

    if ((st = cnp_outputs_check(job->skip_outputs, job->no_evidence)) != CNP_OK)
        return st;
    if (!job->no_evidence && (st = cnp_pdf_check_fonts(job->font_dir)) != CNP_OK)
        return st;
    const cnp_staging_opts so = { job->overwrite, !job->no_evidence, job->skip_outputs,
                                  job->nzones > 0 };
    if ((st = cnp_staging_check(job->outdir, &so)) != CNP_OK)
        return st;
    memset(sc, 0, sizeof sc);
    memset(&hj, 0, sizeof hj);
    memset(&base, 0, sizeof base);
    memset(&lp, 0, sizeof lp);
    memset(&res, 0, sizeof res);
    memset(&ov, 0, sizeof ov);
    memset(&ev, 0, sizeof ev);
    cnp_runs_init(&lp.runs);
    cnp_utc_now(started);

    if ((st = cnp_scene_open(&sc[0], "BEFORE", job->before, job->before_mask, s,
                             s->date_before)) != CNP_OK ||
        (st = cnp_scene_open(&sc[1], "AFTER", job->after, job->after_mask, s,
                             s->date_after)) != CNP_OK ||
        (st = cnp_scene_align(&sc[1], &sc[0], win)) != CNP_OK ||
        (st = cnp_baselines_open(&base, job, &sc[0])) != CNP_OK ||
        (st = cnp_ctxmask_open(&job->ctx, sc[0].wkt, sc[0].gt, sc[0].width, sc[0].height,
                               &ctxm)) != CNP_OK ||
        (st = open_aoi(job, &sc[0], win, &res, &ctxm)) != CNP_OK ||
        (st = cnp_zone_set_open(&zones, job->zones, job->nzones, job->zone_field, &sc[0],
                                win)) != CNP_OK)
        goto done;
    check_inputs(job, sc, &base, &warn);
    /* Co-registration: AFTER put on BEFORE (or the run refused) before
     * anything else reads it. */
    if ((st = cnp_coreg_scene(&sc[0], &sc[1], s, win, &res.coreg)) != CNP_OK)
        goto done;
    char coreg_msg[400];
    if (cnp_coreg_scene_warning(&res.coreg, coreg_msg, sizeof coreg_msg))
        warn_now(job, cnp_warn(&warn, "%s", coreg_msg));
    /* The baselines too: the change is measured from them. */
    for (int b = 0; b < base.n; b++) {
        if ((st = cnp_coreg_scene(&sc[0], &base.sc[b], s, win, &res.coreg_baseline[b])) != CNP_OK)
            goto done;
        res.ncoreg_baseline = b + 1;
        if (cnp_coreg_scene_warning_for(&res.coreg_baseline[b], base.sc[b].role, coreg_msg,
                                        sizeof coreg_msg))
            warn_now(job, cnp_warn(&warn, "%s", coreg_msg));
    }

    /* Hash the inputs (and the files of products) on threads of their own
     * while the scenes are processed. */
    cnp_inputs_init(&hj, job, sc, base.sc, base.n);
    if (hj.enabled) {
        if ((st = cnp_inputs_start(&hj, s->threads > 0 ? s->threads : omp_get_num_procs())) != CNP_OK)
            goto done;
        hashing = 1;
    }

    const int quicklook = !(job->skip_outputs & CNP_OUT_OVERVIEW);
    res.grid_width = sc[0].width;
    res.grid_height = sc[0].height;
    memcpy(res.window, win, sizeof win);
    if (quicklook && (st = cnp_overview_init(&ov, win, s->overview_size)) != CNP_OK)
        goto done;
    cnp_loss_pass_init(&lp, &sc[0], &sc[1], s, win, quicklook ? &ov : NULL);
    lp.baseline = base.sc;
    lp.nbaseline = base.n;
    lp.ctxmask = ctxm;
    lp.progress = job->progress ? cnp_run_progress_pass : NULL;
    lp.progress_arg = &rp;
    cnp_run_progress_range(&rp, CNP_STAGE_DETECT, &p_from, &lp.progress_to);

    int nthreads = cnp_engine_threads(&lp.tiling, s->threads, 0);
    if ((st = cnp_loss_pass_plan(&lp, job->max_memory_mb, &nthreads, &res.memory_estimate_mb,
                                 &res.gdal_cache_mb)) != CNP_OK)
        goto done;
    res.threads = nthreads;
    res.strip_height = lp.tiling.strip_h;
    res.tile_width = lp.tiling.tile_w;
    t.open = cnp_now_s() - t0;

    t0 = cnp_now_s();
    if ((st = cnp_loss_pass_run(&lp, nthreads)) != CNP_OK)
        goto done;
    if ((st = cnp_loss_pass_norm_summary(&lp, &res.norm)) != CNP_OK)
        goto done;
    res.swir_used = lp.swir;
    res.nbr_drop = lp.swir_rule.nbr_drop;
    res.ndvi_support = lp.swir_rule.ndvi_support;
    res.swir2_open = lp.swir_rule.swir2_open;
    res.swir_led_pixels = lp.swir_led_pixels;
    res.haze_used = lp.haze;
    res.haze_fitted = lp.haze_fitted;
    res.haze_unfit = lp.haze_unfit;
    if (lp.haze_unfit && lp.haze_unfit_land > 0)      /* none: nothing it could flag */
        warn_now(job, cnp_warn(&warn, "haze test not applied: AFTER has too little clear land to "
                             "fit its own clear line and no SWIR2 to check the default one; "
                             "haze, if any, may read as loss"));
    res.haze_slope = lp.haze_line.slope;
    res.haze_intercept = lp.haze_line.intercept;
    res.hazy_pixels = lp.hazy_pixels;
    res.baseline_pixels = lp.baseline_px;
    res.baseline_fallback_pixels = lp.fallback_px;
    cnp_ctxmask_counts(ctxm, &res.ctx_not_forest, &res.ctx_excluded);
    const cnp_change_counts counts = lp.counts;
    res.unobserved = lp.unobserved;
    memset(&lp.unobserved, 0, sizeof lp.unobserved);
    res.loss_pixels = counts.loss;
    res.unobserved_pixels = counts.unobserved + (res.aoi ? 0 : (int64_t)sc[0].width * sc[0].height
                                                               - (int64_t)win[2] * win[3]);
    res.observed_pixels = counts.other + counts.forest + counts.loss;
    res.forest_pixels = counts.forest + counts.loss;
    res.window_pixels = (int64_t)win[2] * win[3] - cnp_ctxmask_outside(ctxm);
    t.detect = cnp_now_s() - t0;
    if (res.observed_pixels == 0) {
        if (job->nothing_observed)
            *job->nothing_observed = 1;
        st = cnp_err(CNP_E_DATA, "no pixel is observed in both scenes (all nodata, masked or "
                     "invalid): nothing can be compared");
        goto done;
    }

    t0 = cnp_now_s();
    /* Under --max-memory the alerts get what the cap leaves after the runs
     * (and their labels) are counted. */
    size_t budget = lp.after_budget;
    if (budget) {
        const size_t held = lp.runs.cap * 24 + lp.unobserved_runs.cap * 16 +
                            lp.cap_pieces * sizeof *lp.pieces;
        budget = budget > held ? budget - held : 1;
    }
    const cnp_alert_signals sig = { lp.swir, lp.swir_rule, lp.norm_level, lp.norm_ncx,
                                    lp.norm_ncy, lp.norm.cell_px, &lp.unobserved_runs };
    if ((st = cnp_alerts_build(s, &sc[0], &sc[1], win, &lp.runs, lp.pieces, lp.npieces, &sig,
                               nthreads, budget, &res)) != CNP_OK ||
        (st = check_geojson_fits(&res, job->skip_outputs, budget)) != CNP_OK ||
        (st = cnp_zone_set_apply(&zones, &sc[0], &res)) != CNP_OK)
        goto done;
    warn_zones(job, &res.zones, &warn);
    t.polygons = cnp_now_s() - t0;
    if ((st = cnp_run_progress_done(&rp, CNP_STAGE_ALERTS)) != CNP_OK)
        goto done;

    t0 = cnp_now_s();
    if (hashing) {
        cnp_inputs_finish(&hj);
        hashing = 0;
        if (hj.st != CNP_OK) {
            st = cnp_err(hj.st, "%s", hj.msg);
            goto done;
        }
    }
    t.hash_wait = cnp_now_s() - t0;
    cnp_inputs_run_id(&hj, job, run_id);

    t0 = cnp_now_s();
    if ((st = cnp_staging_open(&sg, job->outdir, &so)) != CNP_OK)
        goto done;
    staged = 1;
    ev.settings = &job->settings;
    ev.config_path = job->config_path;
    ev.user_masks = job->before_mask || job->after_mask;
    ev.scene[0] = &sc[0];
    ev.scene[1] = &sc[1];
    ev.baseline = base.sc;
    ev.nbaseline = base.n;
    ev.res = &res;
    ev.run_id = run_id;
    ev.program_version = cnp_version;
    ev.max_chips = job->max_chips;
    ev.case_id = job->case_id;
    ev.operator_name = job->operator_name;
    ev.font_dir = job->font_dir;
    ev.max_memory_mb = job->max_memory_mb;
    cnp_evidence_input ev_in[CNP_MAX_INPUTS];
    for (int i = 0; i < hj.n; i++)
        ev_in[i] = (cnp_evidence_input){ hj.in[i].role, hj.in[i].path,
                                         hj.enabled && hj.in[i].hashable ? hj.in[i].sha256 : "",
                                         (long long)hj.in[i].size };
    ev.inputs = ev_in;
    ev.ninputs = (size_t)hj.n;
    ev.has_chip = calloc(res.nalerts + 1, 1);
    if (!ev.has_chip) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
        goto done;
    }
    if ((st = write_products(&sg, &res, sc, &ev, &ov, nthreads, &t)) != CNP_OK ||
        (st = cnp_run_progress_done(&rp, CNP_STAGE_WRITE)) != CNP_OK)
        goto done;
    if (res.zones.given) {
        cnp_staging_path(&sg, "zones.csv", path, sizeof path);
        if ((st = cnp_write_zones_csv(path, &ev)) != CNP_OK)
            goto done;
    }
    ev.progress = job->progress;
    ev.progress_arg = job->progress_arg;
    t.write = cnp_now_s() - t0;

    t0 = cnp_now_s();
    if (!job->no_evidence) {
        cnp_staging_path(&sg, "evidence", path, sizeof path);
        if (mkdir(path, 0777) != 0) {
            st = cnp_err(CNP_E_IO, "cannot create '%s': %s", path, strerror(errno));
            goto done;
        }
        double t1 = cnp_now_s();
        cnp_run_progress_range(&rp, CNP_STAGE_CHIPS, &ev.progress_from, &ev.progress_to);
        if ((st = cnp_evidence_chips(sg.dir, &ev)) != CNP_OK ||
            (st = cnp_run_progress_done(&rp, CNP_STAGE_CHIPS)) != CNP_OK)
            goto done;
        t.chips = cnp_now_s() - t1;
        t1 = cnp_now_s();
        cnp_staging_path(&sg, "alerts.kmz", path, sizeof path);
        if ((st = cnp_write_kmz(path, sg.dir, &ev)) != CNP_OK ||
            (st = cnp_run_progress_done(&rp, CNP_STAGE_KMZ)) != CNP_OK)
            goto done;
        t.kmz = cnp_now_s() - t1;
        t1 = cnp_now_s();
        cnp_staging_path(&sg, "report.html", path, sizeof path);
        if ((st = cnp_write_report(path, &ev)) != CNP_OK ||
            (st = cnp_run_progress_done(&rp, CNP_STAGE_HTML)) != CNP_OK)
            goto done;
        t.html = cnp_now_s() - t1;
        t1 = cnp_now_s();
        cnp_staging_path(&sg, "report.pdf", path, sizeof path);
        cnp_run_progress_range(&rp, CNP_STAGE_PDF, &ev.progress_from, &ev.progress_to);
        if ((st = cnp_write_pdf(path, sg.dir, &ev)) != CNP_OK ||
            (st = cnp_run_progress_done(&rp, CNP_STAGE_PDF)) != CNP_OK)
            goto done;
        t.pdf = cnp_now_s() - t1;
    }
    t.evidence = cnp_now_s() - t0;

    cnp_staging_path(&sg, "run.json", path, sizeof path);
    if ((st = cnp_write_run_json(path, job, sc, win, &res, &t, started, &hj, run_id, &sg, &ev,
                                 &warn)) !=
        CNP_OK)
        goto done;
    if ((st = cnp_staging_commit(&sg, job->outdir)) != CNP_OK)
        goto done;
    staged = 0;
    /* Committed: a request to stop now comes too late to change anything. */
    (void)cnp_run_progress_done(&rp, CNP_STAGE_RECORD);

    if (job->summary)
        st = summarise(job->summary, &res, &t, run_id, job->outdir);

done:
    if (hashing)
        cnp_inputs_finish(&hj);
    cnp_inputs_free(&hj);
    if (staged)
        cnp_staging_abort(&sg, job->outdir);
    free(ev.has_chip);
    cnp_result_free(&res);
    cnp_overview_free(&ov);
    cnp_loss_pass_free(&lp);
    cnp_scene_free(&sc[0]);
    cnp_scene_free(&sc[1]);
    cnp_baselines_free(&base);
    cnp_zone_set_close(&zones);
    cnp_ctxmask_close(&ctxm);
    return st;
}
