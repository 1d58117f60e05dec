/* pipeline/run/cnp_zoneset.c - the --zones layers of a run (cnp_zoneset.h). */
#include "cnp_zoneset.h"

#include <stdlib.h>
#include <string.h>

#include "cnp_err.h"
#include "cnp_geom.h"

cnp_status cnp_zone_set_open(cnp_zone_set *zs, const char *const *specs, size_t n,
                             const char *field, const cnp_scene *grid, const int win[4])
{
    memset(zs, 0, sizeof *zs);
    if (n == 0)
        return CNP_OK;
    if (!(zs->src = calloc(n, sizeof *zs->src)))
        return cnp_err(CNP_E_NOMEM, "out of memory");
    cnp_status st = CNP_OK;
    for (size_t i = 0; i < n && st == CNP_OK; i++) {
        st = cnp_zone_source_open("zones", specs[i], field, grid->wkt, grid->gt, win, &zs->src[i]);
        zs->n += st == CNP_OK;
    }
    /* Two layers of one name (zones.gpkg and zones.shp: "zones") are told
     * apart by their files. */
    unsigned twin = 0;          /* bit i: layer i shares its name */
    for (size_t i = 0; i < zs->n && st == CNP_OK; i++)
        for (size_t k = 0; k < zs->n; k++)
            if (k != i && strcmp(cnp_zone_source_layer(zs->src[i]),
                                 cnp_zone_source_layer(zs->src[k])) == 0)
                twin |= 1u << i;
    for (size_t i = 0; i < zs->n && st == CNP_OK; i++)
        if (twin & (1u << i))
            st = cnp_zone_source_qualify(zs->src[i]);
    if (st != CNP_OK)
        cnp_zone_set_close(zs);
    return st;
}

cnp_status cnp_zone_set_apply(cnp_zone_set *zs, const cnp_scene *grid, cnp_result *res)
{
    cnp_crs *crs = NULL;
    cnp_geom_ctx *g = NULL;
    const cnp_geometry **geoms = NULL;
    memset(&res->zones, 0, sizeof res->zones);
    if (zs->n == 0)
        return CNP_OK;
    cnp_status st = cnp_crs_open(grid->wkt, grid->gt, "the scene's CRS", &crs);
    if (st == CNP_OK)
        st = cnp_geom_ctx_create(crs, &g);
    if (st == CNP_OK && !(geoms = calloc(res->nalerts + 1, sizeof *geoms)))
        st = cnp_err(CNP_E_NOMEM, "out of memory");
    for (size_t i = 0; st == CNP_OK && i < res->nalerts; i++)
        geoms[i] = res->alerts[i].geom;
    if (st == CNP_OK)
        st = cnp_zones_match(zs->src, zs->n, g, geoms, res->nalerts, &res->zones);
    free(geoms);
    cnp_geom_ctx_free(&g);
    cnp_crs_close(&crs);
    return st;
}

void cnp_zone_set_close(cnp_zone_set *zs)
{
    for (size_t i = 0; i < zs->n; i++)
        cnp_zone_source_close(&zs->src[i]);
    free(zs->src);
    memset(zs, 0, sizeof *zs);
}
