/* pipeline/run/cnp_runjson.c - run.json: the record of what a detect run
 * read, with which settings, what it found and wrote, and how long it took. */
#include "cnp_runjson.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gdal.h>
#include <json.h>
#include <png.h>
#include <proj.h>

#include "cnp_err.h"
#include "cnp_fs.h"
#include "cnp_hash.h"
#include "cnp_json.h"
#include "cnp_num.h"
#include "cnp_outlist.h"
#include "cnp_product.h"
#include "cnp_sign.h"
#include "cnp_version.h"


static void json_scene(cnp_json *j, const char *key, const cnp_scene *sc);

/* The multi-date reference (kernels/cnp_baseline.h): its scenes and how
 * much of the window it covered. */
static void json_baselines(cnp_json *j, const cnp_evidence_ctx *ev, const cnp_result *res)
{
    cnp_json_object(j, "reference");
    cnp_json_str(j, "ndvi", ev->nbaseline ? "median of the baselines' clear NDVI; unobserved "
                                           "where none was clear" : "BEFORE");
    cnp_json_str(j, "forest_test_on", "BEFORE");
    cnp_json_array(j, "baselines");
    for (int k = 0; k < ev->nbaseline; k++)
        json_scene(j, NULL, &ev->baseline[k]);
    cnp_json_close(j, ']');
    if (ev->nbaseline) {
        cnp_json_int(j, "pixels_from_baselines", res->baseline_pixels);
        cnp_json_int(j, "pixels_without_clear_baseline", res->baseline_fallback_pixels);
    }
    cnp_json_close(j, '}');
}

static void json_scene(cnp_json *j, const char *key, const cnp_scene *sc)
{
    cnp_json_object(j, key);
    cnp_json_str(j, "name", cnp_path_base(sc->path));
    cnp_json_str(j, "date", sc->date[0] ? sc->date : NULL);
    cnp_json_str(j, "date_source", sc->date_source);
    cnp_json_int(j, "width", sc->src_width);
    cnp_json_int(j, "height", sc->src_height);
    cnp_json_int(j, "bands", sc->nbands);
    cnp_json_int(j, "red_band", sc->red);
    cnp_json_int(j, "nir_band", sc->nir);
    cnp_json_num(j, "scale", sc->radiometry.scale);
    cnp_json_num(j, "offset", sc->radiometry.offset);
    cnp_json_str(j, "scale_source", sc->scale_source);
    if (sc->radiometry.has_nodata_red)
        cnp_json_num(j, "nodata", sc->radiometry.nodata_red);
    else
        cnp_json_str(j, "nodata", NULL);
    cnp_json_num(j, "saturated_dn", sc->radiometry.saturated_dn);
    cnp_json_bool(j, "warped_to_before_grid", sc->warped);
    /* What the input was understood as (cnp_product.h), and its mask. */
    const cnp_product *p = sc->product;
    if (p) {
        cnp_json_object(j, "product");
        cnp_json_str(j, "family", p->family);
        cnp_json_str(j, "title", p->title);
        cnp_json_str(j, "profile", p->profile);
        cnp_json_str(j, "layout", p->layout);
        cnp_json_str(j, "sensor", p->sensor[0] ? p->sensor : NULL);
        cnp_json_str(j, "id", p->id[0] ? p->id : NULL);
        cnp_json_str(j, "footprint", p->footprint[0] ? p->footprint : NULL);
        cnp_json_str(j, "processing_baseline", p->baseline[0] ? p->baseline : NULL);
        cnp_json_str(j, "scale_source", p->scale_source[0] ? p->scale_source : NULL);
        cnp_json_close(j, '}');
    } else {
        cnp_json_str(j, "product", NULL);
    }
    cnp_json_str(j, "mask", sc->mask_path);
    cnp_json_str(j, "mask_rule", cnp_scene_mask_rule(sc));
    cnp_json_int(j, "mask_buffer_px", sc->mask_path ? sc->mask_buffer_px : 0);
    cnp_json_close(j, '}');
}

/* What was measured of one scene (AFTER, a baseline) against BEFORE, and
 * whether it was resampled. */
static void json_coreg_scene(cnp_json *j, const cnp_coreg_summary *c, const char *role)
{
    cnp_json_bool(j, "measured", c->measured);
    if (c->measured) {
        cnp_json_num(j, "dx", cnp_round_to(c->dx, 1e3));
        cnp_json_num(j, "dy", cnp_round_to(c->dy, 1e3));
        cnp_json_num(j, "mad_x", cnp_round_to(c->mad_x, 1e3));
        cnp_json_num(j, "mad_y", cnp_round_to(c->mad_y, 1e3));
        cnp_json_num(j, "peak", cnp_round_to(c->peak, 1e3));
        cnp_json_int(j, "windows", c->windows);
        cnp_json_int(j, "window_px", c->window_px);
        cnp_json_int(j, "block_px", c->block_px);
        cnp_json_int(j, "blocks", c->blocks);
        cnp_json_int(j, "blocks_used", c->used);
        cnp_json_bool(j, "ok", c->ok);
        char why[160];
        snprintf(why, sizeof why, "too few textured blocks agree (cloud, water, no texture): "
                 "%s used as it is", role);
        if (!c->ok)
            cnp_json_str(j, "why_not", c->windows ? why
                         : "the window is smaller than one 128 px window");
        cnp_json_num(j, "cpu_seconds", cnp_round_to(c->cpu_s, 1e3));
    }
    cnp_json_bool(j, "applied", c->applied);
}

/* The co-registration: AFTER's, then each baseline's (when there are). */
static void json_coreg(cnp_json *j, const cnp_result *res, const cnp_scene *baseline)
{
    static const char *const mode[] = { "auto", "check", "off" };
    const cnp_coreg_summary *c = &res->coreg;
    cnp_json_object(j, "coregistration");
    cnp_json_str(j, "mode", mode[c->mode]);
    cnp_json_str(j, "convention", "AFTER's pixel (x, y) shows BEFORE at (x + dx, y + dy); "
                 "applied: AFTER resampled (bilinear) at (x - dx, y - dy)");
    json_coreg_scene(j, c, "AFTER");
    cnp_json_num(j, "min_shift", c->min_shift);
    cnp_json_num(j, "max_shift", c->max_shift);
    if (res->ncoreg_baseline > 0) {
        /* The same convention with the baseline in AFTER's place. */
        cnp_json_array(j, "baselines");
        for (int b = 0; b < res->ncoreg_baseline; b++) {
            cnp_json_object(j, NULL);
            cnp_json_str(j, "role", baseline[b].role);
            json_coreg_scene(j, &res->coreg_baseline[b], baseline[b].role);
            cnp_json_close(j, '}');
        }
        cnp_json_close(j, ']');
    }
    cnp_json_close(j, '}');
}

static void json_settings(cnp_json *j, const cnp_job *job)
{
    const cnp_settings *s = &job->settings;
    char list[1024];
    cnp_settings_mask_list(s, list, sizeof list);

    cnp_json_object(j, "settings");
    cnp_json_str(j, "config", job->config_path);
    cnp_json_int(j, "red", s->red_band);
    cnp_json_int(j, "nir", s->nir_band);
    cnp_json_int(j, "green", s->green_band);
    cnp_json_int(j, "blue", s->blue_band);
    cnp_json_int(j, "swir2", s->swir2_band);
    if (s->have_scale) cnp_json_num(j, "scale", s->scale); else cnp_json_str(j, "scale", NULL);
    if (s->have_offset) cnp_json_num(j, "offset", s->offset); else cnp_json_str(j, "offset", NULL);
    cnp_json_num(j, "saturated_dn", s->saturated_dn);
    cnp_json_str(j, "mask_invalid", list);
    cnp_json_str(j, "haze", s->haze ? "on" : "off");
    cnp_json_num(j, "forest_ndvi", s->forest_ndvi);
    cnp_json_num(j, "ndvi_drop", s->ndvi_drop);
    cnp_json_num(j, "high_confidence_drop", s->high_confidence_drop);
    cnp_json_num(j, "min_area_ha", s->min_area_ha);
    cnp_json_int(j, "connectivity", s->connectivity);
    cnp_json_num(j, "bridge_gap_m", s->bridge_gap_m);
    static const char *const norm_words[] = { "local", "scene", "off" };
    cnp_json_str(j, "normalize", norm_words[s->normalize]);
    static const char *const coreg_words[] = { "auto", "check", "off" };
    cnp_json_str(j, "coreg", coreg_words[s->coreg]);
    cnp_json_num(j, "coreg_max_shift", s->coreg_max_shift);
    cnp_json_num(j, "coreg_min_shift", s->coreg_min_shift);
    cnp_json_str(j, "date_before", s->date_before[0] ? s->date_before : NULL);
    cnp_json_str(j, "date_after", s->date_after[0] ? s->date_after : NULL);
    cnp_json_int(j, "overview_size", s->overview_size);
    cnp_json_int(j, "threads", s->threads);
    cnp_json_bool(j, "evidence", !job->no_evidence);
    cnp_outputs_write_json(j, job->skip_outputs);
    cnp_json_int(j, "max_chips", (int64_t)job->max_chips);
    cnp_json_bool(j, "hash_inputs", !job->no_hash);
    /* The settings exactly as `--config` reads them back (used by verify --rerun). */
    char *ini = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&ini, &len);
    if (m) {
        cnp_settings_write_ini(s, m);
        fclose(m);
        cnp_json_str(j, "ini", ini);
        free(ini);
    }
    cnp_json_close(j, '}');
}

/* One line of SHA256SUMS: "HASH  NAME". A name holding a backslash or a
 * newline is written as GNU sha256sum writes it: a backslash before HASH, and
 * "\\\\" and "\\n" in NAME. */
/* What was subtracted from dNDVI where (docs/method.md, "Relative
 * normalisation"). */
static void json_normalization(cnp_json *j, const cnp_norm_summary *n)
{
    static const char *const modes[] = { "local", "scene", "off" };
    cnp_json_object(j, "normalization");
    cnp_json_str(j, "mode", modes[n->mode]);
    if (n->mode != CNP_NORMALIZE_OFF && n->block) {
        cnp_json_int(j, "cell_px", n->cell_px);
        cnp_json_int(j, "radius_cells", n->radius_cells);
        cnp_json_int(j, "wide_cells", n->wide_cells);
        cnp_json_int(j, "min_reference_pixels", n->min_count);
        cnp_json_int(j, "cells", n->cells);
        cnp_json_array(j, "cells_by_level");
        for (int l = 0; l < 4; l++)
            cnp_json_int(j, NULL, n->cells_by_level[l]);
        cnp_json_close(j, ']');
        cnp_json_num(j, "median_correction", cnp_round_to(n->median, 1e4));
        cnp_json_num(j, "min_correction", cnp_round_to(n->min, 1e4));
        cnp_json_num(j, "max_correction", cnp_round_to(n->max, 1e4));
        cnp_json_num(j, "spill_mb", cnp_round_to((double)n->spill_bytes / 1048576.0, 10));
        cnp_json_int(j, "block_px", n->block_px);
        cnp_json_array(j, "blocks");
        for (size_t i = 0; i < n->nblock; i++) {
            const cnp_norm_block *b = &n->block[i];
            cnp_json_object(j, NULL);
            cnp_json_int(j, "x0", b->x0);
            cnp_json_int(j, "y0", b->y0);
            cnp_json_int(j, "w", b->w);
            cnp_json_int(j, "h", b->h);
            cnp_json_num(j, "correction", cnp_round_to(b->correction, 1e4));
            cnp_json_int(j, "level", b->level);
            cnp_json_close(j, '}');
        }
        cnp_json_close(j, ']');
    }
    cnp_json_close(j, '}');
}

static void sums_line(FILE *f, const char *hex, const char *name)
{
    if (!strpbrk(name, "\\\n")) {
        fprintf(f, "%s  %s\n", hex, name);
        return;
    }
    fprintf(f, "\\%s  ", hex);
    for (const char *c = name; *c; c++) {
        if (*c == '\\')
            fputs("\\\\", f);
        else if (*c == '\n')
            fputs("\\n", f);
        else
            fputc(*c, f);
    }
    fputc('\n', f);
}

static int is_sha256(const char *s)
{
    if (!s || strlen(s) != 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* "context": the zones layers and the forest and exclusion masks the run
 * was given, with what they did (only when given). */
static void json_context(cnp_json *j, const cnp_job *job, const cnp_result *res)
{
    const cnp_ctxmask_spec *c = &job->ctx;
    if (!job->nzones && !c->forest && !c->exclude && !job->aoi)
        return;
    cnp_json_object(j, "context");
    if (job->aoi) {
        cnp_json_object(j, "aoi");
        cnp_json_str(j, "path", job->aoi);
        cnp_json_num(j, "area_ha", res->aoi_area_ha);
        cnp_json_num(j, "area_outside_the_overlap_ha", res->aoi_outside ? res->outside_area_ha : 0);
        cnp_json_close(j, '}');
    }
    if (job->nzones) {
        cnp_json_object(j, "zones");
        cnp_json_array(j, "layers");
        for (size_t i = 0; i < job->nzones; i++)
            cnp_json_str(j, NULL, job->zones[i]);
        cnp_json_close(j, ']');
        cnp_json_str(j, "field", job->zone_field);
        cnp_json_int(j, "features_in_window", res->zones.features);
        cnp_json_int(j, "zones", (int64_t)res->zones.nzone);
        cnp_json_int(j, "alert_zone_overlaps", (int64_t)res->zones.nhit);
        cnp_json_int(j, "polygons_repaired", res->zones.repaired);
        cnp_json_int(j, "features_without_area", res->zones.not_areal);
        cnp_json_close(j, '}');
    }
    if (c->forest) {
        cnp_json_object(j, "forest_mask");
        cnp_json_str(j, "path", c->forest);
        if (c->nforest_classes) {
            cnp_json_array(j, "classes");
            for (int i = 0; i < c->nforest_classes; i++)
                cnp_json_int(j, NULL, c->forest_classes[i]);
            cnp_json_close(j, ']');
        } else {
            cnp_json_num(j, "min", c->forest_min);
        }
        cnp_json_int(j, "pixels_not_forest", res->ctx_not_forest);
        cnp_json_close(j, '}');
    }
    if (c->exclude) {
        cnp_json_object(j, "exclude");
        cnp_json_str(j, "path", c->exclude);
        if (c->nexclude_classes) {
            cnp_json_array(j, "classes");
            for (int i = 0; i < c->nexclude_classes; i++)
                cnp_json_int(j, NULL, c->exclude_classes[i]);
            cnp_json_close(j, ']');
        } else if (c->exclude_last_year) {
            cnp_json_int(j, "loss_years_through", 2000 + c->exclude_last_year);
        }
        cnp_json_int(j, "pixels_excluded", res->ctx_excluded);
        cnp_json_close(j, '}');
    }
    cnp_json_close(j, '}');
}

cnp_status cnp_runjson_sums(json_object *run, const char run_sha256[65], char **text, size_t *len)
{
    json_object *outputs = NULL, *inputs = NULL;
    const char *wd = jstr(run, "working_directory");
    FILE *m = open_memstream(text, len);
    if (!m)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    json_object_object_get_ex(run, "outputs", &outputs);
    json_object_object_get_ex(run, "inputs", &inputs);
    for (size_t i = 0; json_object_is_type(outputs, json_type_array) &&
                       i < json_object_array_length(outputs); i++) {
        json_object *o = json_object_array_get_idx(outputs, i);
        const char *p = jstr(o, "path"), *h = jstr(o, "sha256");
        if (p && cnp_fs_relpath_ok(p) && is_sha256(h))
            sums_line(m, h, p);
    }
    sums_line(m, run_sha256, "run.json");
    for (size_t i = 0; json_object_is_type(inputs, json_type_array) &&
                       i < json_object_array_length(inputs); i++) {
        json_object *o = json_object_array_get_idx(inputs, i);
        const char *p = jstr(o, "path"), *h = jstr(o, "sha256");
        /* Only local files have a hash; relative paths were relative to the
         * run's working directory, which must then be known and absolute. */
        if (!p || !*p || !is_sha256(h) || (p[0] != '/' && (!wd || wd[0] != '/')))
            continue;
        if (p[0] == '/') {
            sums_line(m, h, p);
        } else {
            char abs[8200];
            snprintf(abs, sizeof abs, "%s%s%s", wd, wd[strlen(wd) - 1] == '/' ? "" : "/", p);
            sums_line(m, h, abs);
        }
    }
    if (fclose(m) != 0) {
        free(*text);
        *text = NULL;
        return cnp_err(CNP_E_NOMEM, "out of memory");
    }
    return CNP_OK;
}

/* SHA256SUMS beside run.json (and its signature), from run.json as written. */
static cnp_status write_sums(const char *run_path, const cnp_sign_key *key)
{
    char dir[4200], path[4300], sig[4300], hex[65];
    char *text = NULL;
    size_t len = 0;
    cnp_status st;
    snprintf(dir, sizeof dir, "%.*s", (int)(cnp_path_base(run_path) - run_path), run_path);
    snprintf(path, sizeof path, "%s%s", dir, CNP_SUMS_FILE);
    snprintf(sig, sizeof sig, "%s%s", dir, CNP_SUMS_SIG);
    if ((st = cnp_sha256_file(run_path, hex, NULL)) != CNP_OK)
        return st;
    json_object *run = json_object_from_file(run_path);
    if (!run)
        return cnp_err(CNP_E_IO, "cannot read back '%s'", run_path);
    st = cnp_runjson_sums(run, hex, &text, &len);
    json_object_put(run);
    if (st != CNP_OK)
        return st;
    FILE *f = fopen(path, "w");
    const int bad = !f || fwrite(text, 1, len, f) != len;
    free(text);
    if (!f || fclose(f) != 0 || bad)
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", path, strerror(errno));
    return key ? cnp_sign_file(key, path, sig) : CNP_OK;
}

/* "checksums": where SHA256SUMS and its signature are, and the signer's key. */
static cnp_status json_checksums(cnp_json *j, const cnp_sign_key *key)
{
    char *pem = NULL, fpr[65] = "";
    cnp_status st = key ? cnp_sign_key_public(key, &pem, fpr) : CNP_OK;
    if (st != CNP_OK)
        return st;
    cnp_json_object(j, "checksums");
    cnp_json_str(j, "file", CNP_SUMS_FILE);
    cnp_json_str(j, "check", "sha256sum -c " CNP_SUMS_FILE " (in OUTDIR; inputs by absolute path)");
    cnp_json_str(j, "signature", key ? CNP_SUMS_SIG : NULL);
    cnp_json_str(j, "signature_algorithm", key ? "Ed25519" : NULL);
    cnp_json_str(j, "public_key", pem);
    cnp_json_str(j, "public_key_sha256", key ? fpr : NULL);
    cnp_json_close(j, '}');
    free(pem);
    return CNP_OK;
}

/* Long: run.json written field by field in its documented order. */
cnp_status cnp_write_run_json(const char *path, const cnp_job *job, const cnp_scene sc[2],
                                 const int win[4], const cnp_result *res, cnp_timings *t,
                                 const char *started, const cnp_inputs *h, const char *run_id,
                                 const cnp_staging *sg, const cnp_evidence_ctx *ev,
                                 const cnp_warnings *warn)
{
    FILE *f = NULL;
    cnp_json j;
    cnp_status st = CNP_OK;
    char finished[32];
    struct rusage ru;
    cnp_sign_key *key = NULL;

    if (job->sign_key && (st = cnp_sign_key_load(job->sign_key, &key)) != CNP_OK)
        return st;
    if (!(f = fopen(path, "w"))) {
        cnp_sign_key_free(&key);
        return cnp_err(CNP_E_IO, "cannot write '%s': %s", path, strerror(errno));
    }
    cnp_json_begin(&j, f);
    cnp_json_str(&j, "program", "canopy");
    cnp_json_str(&j, "version", cnp_version);
    cnp_json_str(&j, "command", "detect");
    cnp_json_str(&j, "run_id", run_id);
    cnp_json_array(&j, "command_line");
    for (int i = 0; i < job->argc; i++)
        cnp_json_str(&j, NULL, job->argv[i]);
    cnp_json_close(&j, ']');
    char cwd[4096];
    cnp_json_str(&j, "working_directory", getcwd(cwd, sizeof cwd) ? cwd : NULL);
    cnp_json_str(&j, "started_utc", started);
    /* Who the outputs are for and who made them (--case-id, --operator). */
    cnp_json_object(&j, "case");
    cnp_json_str(&j, "id", job->case_id);
    cnp_json_str(&j, "operator", job->operator_name);
    cnp_json_close(&j, '}');

    cnp_json_array(&j, "inputs");
    for (int i = 0; i < h->n; i++) {
        cnp_json_object(&j, NULL);
        cnp_json_str(&j, "role", h->in[i].role);
        cnp_json_str(&j, "path", h->in[i].path);
        cnp_json_int(&j, "size", h->in[i].size);
        cnp_json_str(&j, "modified_utc", h->in[i].mtime);
        cnp_json_str(&j, "sha256", h->enabled && h->in[i].hashable ? h->in[i].sha256 : NULL);
        cnp_json_close(&j, '}');
    }
    cnp_json_close(&j, ']');

    json_scene(&j, "before", &sc[0]);
    json_scene(&j, "after", &sc[1]);
    json_baselines(&j, ev, res);
    json_settings(&j, job);

    cnp_json_object(&j, "grid");
    cnp_json_str(&j, "crs_wkt", sc[0].wkt);
    cnp_json_array(&j, "geotransform");
    for (int i = 0; i < 6; i++)
        cnp_json_num(&j, NULL, sc[0].gt[i]);
    cnp_json_close(&j, ']');
    cnp_json_array(&j, "window");
    for (int i = 0; i < 4; i++)
        cnp_json_int(&j, NULL, win[i]);
    cnp_json_close(&j, ']');
    cnp_json_num(&j, "pixel_area_m2", res->pixel_area_m2);
    cnp_json_int(&j, "min_alert_pixels", res->min_pixels);
    cnp_json_close(&j, '}');

    cnp_json_object(&j, "counts");
    cnp_json_int(&j, "alerts", (int64_t)res->nalerts);
    cnp_json_int(&j, "loss_pixels", res->loss_pixels);
    cnp_json_int(&j, "loss_pixels_in_alerts", res->loss_pixels_in_alerts);
    cnp_json_int(&j, "loss_components", res->components);
    cnp_json_int(&j, "loss_components_below_min_area", res->components - (int64_t)res->nalerts);
    cnp_json_int(&j, "window_pixels", res->window_pixels);
    cnp_json_int(&j, "observed_pixels", res->observed_pixels);
    cnp_json_int(&j, "unobserved_pixels", res->unobserved_pixels);
    cnp_json_int(&j, "forest_pixels", res->forest_pixels);
    cnp_json_int(&j, "chips", (int64_t)ev->chips_written);
    cnp_json_int(&j, "chips_left_out", (int64_t)ev->chips_left_out);
    cnp_json_str(&j, "chips_chosen", "largest area first (settings.max_chips of them, 0 = all)");
    cnp_json_close(&j, '}');
    json_context(&j, job, res);
    cnp_json_num(&j, "total_alert_area_ha", cnp_round_to(res->total_area_ha, 1e4));
    cnp_json_num(&j, "observed_area_ha", res->observed_area_ha);
    cnp_json_num(&j, "unobserved_area_ha", res->unobserved_area_ha);
    cnp_json_str(&j, "areas", "geodesic (WGS84 ellipsoid), as every alert's area_ha");
    json_normalization(&j, &res->norm);
    cnp_json_object(&j, "gaps");
    cnp_json_num(&j, "bridge_gap_m", job->settings.bridge_gap_m);
    cnp_json_int(&j, "bridge_gap_px", res->bridge_gap_px);
    cnp_json_int(&j, "bridges", res->bridges);
    cnp_json_int(&j, "partially_observed_alerts", res->partially_observed_alerts);
    cnp_json_close(&j, '}');
    cnp_json_object(&j, "haze");
    cnp_json_bool(&j, "used", res->haze_used);
    if (res->haze_used) {
        cnp_json_str(&j, "clear_line", res->haze_fitted ? "fitted on AFTER's clear land"
                                                        : "default (too little clear land)");
        cnp_json_num(&j, "slope", cnp_round_to(res->haze_slope, 1e4));
        cnp_json_num(&j, "intercept", cnp_round_to(res->haze_intercept, 1e4));
        cnp_json_int(&j, "hazy_pixels", res->hazy_pixels);
    } else {
        cnp_json_str(&j, "why_not", res->haze_unfit
                                        ? "too little clear land in AFTER to fit its clear "
                                          "line, and no SWIR2 to check the default one"
                                        : "[mask] haze = off, or AFTER has no blue band");
    }
    cnp_json_close(&j, '}');
    json_coreg(&j, res, ev->baseline);
    cnp_json_object(&j, "second_index");
    cnp_json_str(&j, "index", "NBR = (NIR - SWIR2) / (NIR + SWIR2)");
    cnp_json_bool(&j, "used", res->swir_used);
    if (res->swir_used) {
        cnp_json_num(&j, "nbr_drop", res->nbr_drop);
        cnp_json_num(&j, "ndvi_support", res->ndvi_support);
        cnp_json_num(&j, "swir2_open", res->swir2_open);
        cnp_json_int(&j, "loss_pixels_swir_led", res->swir_led_pixels);
    } else {
        cnp_json_str(&j, "why_not", "a scene has no SWIR2 band ([bands] swir2, --swir N; "
                     "product profiles name it)");
    }
    cnp_json_close(&j, '}');
    /* What the run said on stderr and went on: dates in the wrong order, a mask
     * that looks like image data. */
    cnp_json_array(&j, "warnings");
    for (size_t i = 0; warn && i < warn->n; i++)
        cnp_json_str(&j, NULL, warn->text[i]);
    cnp_json_close(&j, ']');

    if ((st = cnp_staging_json_outputs(&j, sg)) != CNP_OK ||
        (st = json_checksums(&j, key)) != CNP_OK)
        goto done;

    t->total = t->open + t->detect + t->polygons + t->write + t->evidence + t->hash_wait;
    cnp_json_object(&j, "timings_s");
    cnp_json_num(&j, "open", cnp_round_to(t->open, 1e4));
    cnp_json_num(&j, "detect", cnp_round_to(t->detect, 1e4));
    cnp_json_num(&j, "polygons", cnp_round_to(t->polygons, 1e4));
    cnp_json_num(&j, "write", cnp_round_to(t->write, 1e4));
    cnp_json_num(&j, "write_gpkg", cnp_round_to(t->gpkg, 1e4));
    cnp_json_num(&j, "write_geojson", cnp_round_to(t->geojson, 1e4));
    cnp_json_num(&j, "write_csv", cnp_round_to(t->csv, 1e4));
    cnp_json_num(&j, "write_overview", cnp_round_to(t->overview, 1e4));
    cnp_json_num(&j, "evidence", cnp_round_to(t->evidence, 1e4));
    cnp_json_num(&j, "evidence_chips", cnp_round_to(t->chips, 1e4));
    cnp_json_num(&j, "evidence_kmz", cnp_round_to(t->kmz, 1e4));
    cnp_json_num(&j, "evidence_html", cnp_round_to(t->html, 1e4));
    cnp_json_num(&j, "evidence_pdf", cnp_round_to(t->pdf, 1e4));
    cnp_json_num(&j, "hash_inputs", cnp_round_to(h->seconds, 1e4));
    cnp_json_num(&j, "hash_wait", cnp_round_to(t->hash_wait, 1e4));
    cnp_json_num(&j, "total", cnp_round_to(t->total, 1e4));
    cnp_json_close(&j, '}');
    getrusage(RUSAGE_SELF, &ru);
    cnp_json_num(&j, "peak_rss_mb", cnp_round_to((double)ru.ru_maxrss / 1024.0, 10));
    cnp_json_int(&j, "threads", res->threads);
    cnp_json_int(&j, "strip_height", res->strip_height);
    cnp_json_int(&j, "tile_width", res->tile_width);
    cnp_json_object(&j, "memory");
    if (job->max_memory_mb > 0)
        cnp_json_int(&j, "max_memory_mb", job->max_memory_mb);
    else
        cnp_json_str(&j, "max_memory_mb", NULL);
    cnp_json_num(&j, "planned_mb", cnp_round_to(res->memory_estimate_mb, 10));
    cnp_json_int(&j, "gdal_cache_mb", res->gdal_cache_mb);
    cnp_json_num(&j, "peak_rss_mb", cnp_round_to((double)ru.ru_maxrss / 1024.0, 10));
    cnp_json_close(&j, '}');
    cnp_json_object(&j, "software");
    cnp_json_str(&j, "canopy", cnp_version);
    cnp_json_str(&j, "compiler", "gcc " __VERSION__);
    cnp_json_str(&j, "gdal", GDALVersionInfo("RELEASE_NAME"));
    char pj[32];
    snprintf(pj, sizeof pj, "%d.%d.%d", PROJ_VERSION_MAJOR, PROJ_VERSION_MINOR, PROJ_VERSION_PATCH);
    cnp_json_str(&j, "proj", pj);
    cnp_json_str(&j, "libpng", png_get_libpng_ver(NULL));
    cnp_json_close(&j, '}');
    cnp_utc_now(finished);
    cnp_json_str(&j, "finished_utc", finished);
    cnp_json_end(&j);

done:
    if (fclose(f) != 0 && st == CNP_OK)
        st = cnp_err(CNP_E_IO, "writing '%s': %s", path, strerror(errno));
    if (st == CNP_OK)
        st = write_sums(path, key);
    cnp_sign_key_free(&key);
    return st;
}

