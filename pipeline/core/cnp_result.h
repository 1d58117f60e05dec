/* pipeline/core/cnp_result.h - what a detection found: the alerts, the
 * unobserved area and the counts every output is written from.
 */
#ifndef CNP_RESULT_H
#define CNP_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_baseline.h"
#include "cnp_zones.h"

/* One alert, as written to every output. */
typedef struct cnp_alert {
    char    id[20];
    int64_t pixels;
    double  area_ha;
    double  mean_dndvi, min_dndvi, mean_ndvi_before, mean_ndvi_after;
    double  centroid_x, centroid_y;       /* scene CRS                           */
    double  centroid_lon, centroid_lat;   /* WGS84                               */
    /* A point inside the alert (cnp_inside_point: the centre of one of its
     * pixels), where links, labels and CSV coordinates point: the centroid
     * of a ring or an L lies outside it. */
    double  point_x, point_y;             /* scene CRS                           */
    double  point_lon, point_lat;         /* WGS84                               */
    int     high_confidence;              /* confidence == CNP_CONF_HIGH         */
    int     confidence;                   /* CNP_CONF_* (kernels/cnp_confidence.h) */
    double  confidence_score;             /* 0..1, two decimals                  */
    double  mean_dnbr;                    /* NAN without SWIR                    */
    double  agree_share;                  /* NDVI and NBR both fired, NAN without */
    int     norm_level;                   /* weakest normalisation level, -1 none */
    /* Some of the clearing may lie where nothing was seen: a loss pixel of
     * the alert borders unobserved area, or its pieces were joined across a
     * gap (kernels/cnp_gaps.h). */
    int     partially_observed;
    struct cnp_geometry *geom;            /* MultiPolygon, scene CRS (io/cnp_geom.h) */
    struct cnp_geometry *geom_wgs84;      /* the same in WGS84 (lon, lat), built from the
                                           * points the geodesic area was computed on */
} cnp_alert;

/* What could not be seen, traced tile by tile (so tracing memory stays
 * tile-sized however large a cloud is): one MultiPolygon per tile that has
 * unobserved pixels, rings in pixel-corner coordinates of BEFORE's grid. */
typedef struct cnp_unobserved_piece {
    int32_t tile_x0, tile_y0;
    int64_t pixels;
    double  area_m2;             /* geodesic (core/cnp_area.h)                 */
    size_t  ring0, nrings;       /* into cnp_unobserved.ring                   */
} cnp_unobserved_piece;

typedef struct cnp_unobserved {
    int32_t *xy;                 /* x,y pairs                                  */
    size_t   nvert, cap_vert;
    struct cnp_ring *ring;       /* first/count index vertices in xy           */
    size_t   nring, cap_ring;
    cnp_unobserved_piece *piece;
    size_t   npiece, cap_piece;
} cnp_unobserved;

/* The relative normalisation a run applied (kernels/cnp_norm.h), summed up
 * per block of cells for run.json: what was subtracted where, and how sure
 * it was (level: 1 the local window, 2 the wide one, 3 the band of rows, 0
 * none possible). */
typedef struct cnp_norm_block {
    int32_t x0, y0, w, h;        /* window pixels the block covers            */
    double  correction;          /* mean of its cells' corrections, dNDVI     */
    int     level;               /* the weakest of its cells                  */
} cnp_norm_block;

typedef struct cnp_norm_summary {
    int      mode;               /* CNP_NORMALIZE_* ([detect] normalize)      */
    int      cell_px, radius_cells, wide_cells;
    int64_t  min_count;
    int64_t  cells, cells_by_level[4];
    double   median, min, max;   /* over the cells' corrections               */
    cnp_norm_block *block;       /* row-major blocks of block_px pixels       */
    size_t   nblock;
    int      block_px;
    uint64_t spill_bytes;        /* the spill file the pass used              */
} cnp_norm_summary;

/* The co-registration of AFTER on BEFORE (core/cnp_coreg_scene.h): what was
 * measured, over what, and whether AFTER was resampled. */
typedef struct cnp_coreg_summary {
    int      mode;               /* CNP_COREG_* ([coreg] mode)                */
    int      measured;           /* the estimate ran (mode auto or check)     */
    int      ok;                 /* enough textured blocks agreed             */
    int      applied;            /* AFTER was resampled by (dx, dy)           */
    int      beyond;             /* |dx| or |dy| > max_shift (check mode)     */
    double   dx, dy;             /* AFTER's (x, y) shows BEFORE at (x+dx, y+dy) */
    double   mad_x, mad_y, peak; /* agreement of the blocks, median peak      */
    int64_t  blocks, used;       /* blocks looked at, blocks used             */
    int      windows, window_px, block_px;
    double   max_shift, min_shift;
    double   cpu_s;              /* thread CPU time the estimate took         */
} cnp_coreg_summary;

/* Everything the writers need to know about the run. */
typedef struct cnp_result {
    cnp_alert *alerts;
    size_t     nalerts;
    int64_t    loss_pixels, loss_pixels_in_alerts, unobserved_pixels, observed_pixels;
    int64_t    forest_pixels, window_pixels, components, min_pixels;
    double     total_area_ha, pixel_area_m2;
    double     observed_area_ha, unobserved_area_ha;  /* geodesic, like the alerts'     */
    double     outside_area_ha;           /* the grid outside the window (unobserved) */
    int        threads, strip_height, tile_width;
    double     memory_estimate_mb;        /* what the run planned to use         */
    cnp_unobserved unobserved;
    int        grid_width, grid_height;   /* BEFORE's grid                       */
    int        window[4];                 /* processed part of it                */
    int        gdal_cache_mb;
    size_t     geometry_bytes;            /* what the alerts' geometries take,
                                           * counted under --max-memory          */
    cnp_norm_summary norm;
    /* the second index (kernels/cnp_swir.h) */
    int        swir_used;                 /* both scenes had SWIR2               */
    double     nbr_drop, ndvi_support, swir2_open;
    int64_t    swir_led_pixels;           /* loss found by the SWIR branch alone */
    /* the haze test on AFTER (kernels/cnp_haze.h) */
    int        haze_used, haze_fitted;
    int        haze_unfit;              /* on, but not applied: no line fitted, no SWIR2 */
    double     haze_slope, haze_intercept;
    int64_t    hazy_pixels;
    /* --baseline: pixels measured from the baselines' median, and those left
     * unobserved because no baseline was clear there */
    int64_t    baseline_pixels, baseline_fallback_pixels;
    /* loss pieces joined across unobserved gaps (kernels/cnp_gaps.h) */
    int        bridge_gap_px;             /* [detect] bridge_gap_m on this grid  */
    int64_t    bridges;                   /* joins made (before the minimum area) */
    int64_t    partially_observed_alerts;
    /* --zones: which alerts lie in which zones (io/cnp_zones.h) */
    cnp_zone_match zones;
    /* --forest-mask, --exclude: forest (or loss) pixels they made "other" */
    int64_t    ctx_not_forest, ctx_excluded;
    /* --aoi: the area of interest (grid CRS), and its part outside the
     * processed window (unobserved; NULL when none); NULL without --aoi */
    struct cnp_geometry *aoi, *aoi_outside;
    double     aoi_area_ha;
    /* co-registration (core/cnp_coreg_scene.h): AFTER's, then each
     * baseline's on BEFORE */
    cnp_coreg_summary coreg;
    cnp_coreg_summary coreg_baseline[CNP_BASELINE_MAX];
    int        ncoreg_baseline;
} cnp_result;

/* Free what the unobserved area holds and zero it. */
void cnp_unobserved_free(cnp_unobserved *u);

/* Free the alerts (and their geometries) and the unobserved area; zero *res. */
void cnp_result_free(cnp_result *res);

#endif /* CNP_RESULT_H */
