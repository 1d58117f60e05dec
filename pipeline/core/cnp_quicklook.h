/* pipeline/core/cnp_quicklook.h - the overview's pixels, gathered during the
 * detection pass (no second pass over the scene).
 */
#ifndef CNP_QUICKLOOK_H
#define CNP_QUICKLOOK_H

#include <stdint.h>

#include "cnp_status.h"

/* Quicklook accumulator. Workers fill a cnp_overview_part for their strip
 * (unobserved pixels per overview pixel, and AFTER's red and NIR at each
 * overview pixel's centre: nearest-neighbour decimation, no extra read) and
 * merge it into the cnp_overview in strip order. Integer counts and sampled
 * values, so the result does not depend on threads. */
typedef struct cnp_overview {
    int       win[4];          /* processed window of BEFORE's grid      */
    int       factor;          /* scene pixels per overview pixel        */
    int       width, height;   /* overview size                          */
    uint16_t *unobserved;      /* per overview pixel (factor <= 255)     */
    float    *red, *nir;       /* AFTER's DNs at the centre; NAN if invalid */
} cnp_overview;

typedef struct cnp_overview_part {
    const cnp_overview *ov;
    int       oy0, rows, cap_rows;
    int       ox0, cols;           /* the columns this part covers            */
    uint16_t *unobserved;
    float    *red, *nir;
    int      *col;             /* overview column of each window column  */
    uint8_t  *centre_col;      /* 1 where a window column is its cell's centre */
} cnp_overview_part;

cnp_status cnp_overview_init(cnp_overview *ov, const int win[4], int max_size);
void cnp_overview_free(cnp_overview *ov);
cnp_status cnp_overview_part_init(cnp_overview_part *p, const cnp_overview *ov, int strip_h);
void cnp_overview_part_free(cnp_overview_part *p);
/* A new part for the window (x0, y0, w, h) of the scene: a work unit. */
void cnp_overview_part_reset(cnp_overview_part *p, int x0, int w, int y0, int h);
/* A tile's red and NIR DNs, as float or as UInt16 (the other pair NULL). */
typedef struct cnp_dn_rows {
    const float    *red, *nir;
    const uint16_t *red16, *nir16;
} cnp_dn_rows;

void cnp_overview_part_add(cnp_overview_part *p, int x0, int y0, int w, int h,
                           const uint8_t *cls, const cnp_dn_rows *after,
                           const float *ndvi_after);
void cnp_overview_part_merge(cnp_overview *ov, const cnp_overview_part *p);

/* Window pixels along one axis in overview cell `ocell` (edge cells are
 * partial). */
int cnp_overview_cell_span(int ocell, int factor, int len);

#endif /* CNP_QUICKLOOK_H */
