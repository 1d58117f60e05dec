/* pipeline/run/cnp_info_ctx.c - `canopy info PATH --zones ... --forest-mask
 * ... --exclude ... --aoi ...`: what Canopy makes of each context layer on
 * PATH's grid (cnp_info.h). */
#include <stdlib.h>
#include <string.h>

#include "cnp_change.h"
#include "cnp_ctxmask.h"
#include "cnp_err.h"
#include "cnp_geom.h"
#include "cnp_ident.h"
#include "cnp_info.h"
#include "cnp_json.h"
#include "cnp_zones.h"

static cnp_status about_zones(const cnp_info_layers *l, const cnp_scene *sc, const int win[4],
                              cnp_json *j, FILE *out)
{
    cnp_status st = CNP_OK;
    if (j && l->nzones)
        cnp_json_array(j, "zones");
    for (size_t i = 0; i < l->nzones && st == CNP_OK; i++) {
        cnp_zone_source *z = NULL;
        cnp_zone_about a;
        if ((st = cnp_zone_source_open("zones", l->zones[i], l->zone_field, sc->wkt, sc->gt, win,
                                       &z)) != CNP_OK)
            break;
        st = cnp_zone_source_about(z, &a);
        cnp_zone_source_close(&z);
        if (st != CNP_OK)
            break;
        if (j) {
            cnp_json_object(j, NULL);
            cnp_json_str(j, "path", l->zones[i]);
            cnp_json_str(j, "layer", a.layer);
            cnp_json_str(j, "field", a.field);
            cnp_json_str(j, "crs", a.crs);
            cnp_json_int(j, "features", a.features);
            cnp_json_int(j, "features_meeting_the_scene", a.in_window);
            cnp_json_num(j, "extent_share_inside_the_scene", a.overlap);
            cnp_json_close(j, '}');
        } else {
            cnp_ident_term_line(out, "zones:      %s: layer '%s', named by %s, %s", l->zones[i],
                                a.layer, a.field, a.crs);
            cnp_ident_term_line(out, "            %lld features, %lld meeting the scene; %.1f%% "
                                "of its extent inside the scene", (long long)a.features,
                                (long long)a.in_window, 100.0 * a.overlap);
        }
    }
    if (j && l->nzones)
        cnp_json_close(j, ']');
    return st;
}

/* Every pixel of the grid through the masks, as detect's pass would see a
 * scene of forest: how many each takes out, strip by strip. */
static cnp_status count_masks(cnp_ctxmask *m, const cnp_scene *sc, const int win[4])
{
    const int rows = 64, w = win[2];
    cnp_ctxmask_reader *r = NULL;
    uint8_t *cls = malloc((size_t)w * rows);
    cnp_status st = cls ? cnp_ctxmask_reader_open(m, (size_t)w * rows, &r)
                        : cnp_err(CNP_E_NOMEM, "out of memory");
    (void)sc;
    for (int y = win[1]; y < win[1] + win[3] && st == CNP_OK; y += rows) {
        const int h = y + rows <= win[1] + win[3] ? rows : win[1] + win[3] - y;
        cnp_change_counts c = { 0 };
        memset(cls, CNP_CLASS_FOREST, (size_t)w * h);
        st = cnp_ctxmask_restrict(r, win[0], y, w, h, cls, &c);
    }
    cnp_ctxmask_reader_close(&r);
    free(cls);
    return st;
}

static cnp_status about_masks(const cnp_info_layers *l, const cnp_scene *sc, cnp_json *j,
                              FILE *out)
{
    cnp_ctxmask *m = NULL;
    cnp_geometry *aoi = NULL;
    int win[4] = { 0, 0, sc->width, sc->height };
    double in_m2 = 0, out_m2 = 0;
    int64_t not_forest = 0, excluded = 0;
    const int64_t total = (int64_t)sc->width * sc->height;
    cnp_status st = cnp_ctxmask_open(&l->rules, sc->wkt, sc->gt, sc->width, sc->height, &m);
    if (st == CNP_OK && l->aoi) {
        cnp_zone_source *z = NULL;
        int64_t repaired = 0;
        st = cnp_zone_source_open("--aoi", l->aoi, NULL, sc->wkt, sc->gt, win, &z);
        if (st == CNP_OK)
            st = cnp_zone_source_union(z, &aoi, &repaired);
        cnp_zone_source_close(&z);
        if (st == CNP_OK && !aoi)
            st = cnp_err(CNP_E_DATA, "--aoi '%s': none of its polygons meets the scene", l->aoi);
        cnp_crs *crs = NULL;
        cnp_geom_ctx *g = NULL;
        if (st == CNP_OK && (st = cnp_crs_open(sc->wkt, sc->gt, "the scene's CRS", &crs)) == CNP_OK &&
            (st = cnp_geom_ctx_create(crs, &g)) == CNP_OK)
            st = cnp_geom_aoi_split(g, aoi, win, &in_m2, &out_m2, NULL);
        cnp_geom_ctx_free(&g);
        cnp_crs_close(&crs);
        if (st == CNP_OK)
            st = cnp_ctxmask_add_aoi(&m, aoi, sc->wkt, sc->gt, win);
    }
    if (st == CNP_OK && m)
        st = count_masks(m, sc, win);
    cnp_ctxmask_counts(m, &not_forest, &excluded);
    const int64_t outside = cnp_ctxmask_outside(m);
    if (st == CNP_OK && j) {
        if (l->rules.forest) {
            cnp_json_object(j, "forest_mask");
            cnp_json_str(j, "path", l->rules.forest);
            cnp_json_int(j, "pixels_forest", total - outside - not_forest);
            cnp_json_int(j, "pixels_not_forest", not_forest);
            cnp_json_close(j, '}');
        }
        if (l->rules.exclude) {
            cnp_json_object(j, "exclude");
            cnp_json_str(j, "path", l->rules.exclude);
            cnp_json_int(j, "pixels_excluded", excluded);
            cnp_json_close(j, '}');
        }
        if (l->aoi) {
            cnp_json_object(j, "aoi");
            cnp_json_str(j, "path", l->aoi);
            cnp_json_num(j, "area_inside_the_scene_ha", in_m2 / 1e4);
            cnp_json_num(j, "area_outside_the_scene_ha", out_m2 / 1e4);
            cnp_json_int(j, "pixels_inside", total - outside);
            cnp_json_close(j, '}');
        }
    } else if (st == CNP_OK) {
        /* Shares of what the run would look at: the grid, or the area of interest. */
        const double seen = (double)(total - outside);
        const char *of = l->aoi ? "the area of interest" : "the grid";
        if (l->rules.forest)
            cnp_ident_term_line(out, "forest:     %s: %.2f%% of %s forest by its rule (%lld "
                                "pixels not forest)", l->rules.forest,
                                seen > 0 ? 100.0 * (seen - (double)not_forest) / seen : 0, of,
                                (long long)not_forest);
        if (l->rules.exclude)
            cnp_ident_term_line(out, "exclude:    %s: %.2f%% of %s excluded (%lld pixels)",
                                l->rules.exclude, seen > 0 ? 100.0 * (double)excluded / seen : 0,
                                of, (long long)excluded);
        if (l->aoi)
            cnp_ident_term_line(out, "aoi:        %s: %.2f ha inside the scene (%lld pixels), "
                                "%.2f ha outside it", l->aoi, in_m2 / 1e4,
                                (long long)(total - outside), out_m2 / 1e4);
    }
    cnp_geometry_free(aoi);
    cnp_ctxmask_close(&m);
    return st;
}

cnp_status cnp_info_layers_run(const cnp_info_layers *l, const cnp_scene *sc, cnp_json *j,
                               FILE *out)
{
    const int win[4] = { 0, 0, sc->width, sc->height };
    if (!l || (!l->nzones && !l->rules.forest && !l->rules.exclude && !l->aoi))
        return CNP_OK;
    if (j)
        cnp_json_object(j, "context");
    cnp_status st = about_zones(l, sc, win, j, out);
    if (st == CNP_OK)
        st = about_masks(l, sc, j, out);
    if (j)
        cnp_json_close(j, '}');
    return st;
}
