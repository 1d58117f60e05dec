/* kernels/cnp_change.c - DN -> reflectance -> NDVI -> forest / loss per pixel.
 *
 * The pixel loop is written without branches (selects instead of early
 * returns) in chunks of CHUNK pixels, so that the compiler vectorises it; the
 * arithmetic is exactly that of ndvi_dn() below, operation for operation in
 * double precision (no contraction: -ffp-contract=off), so vector and scalar
 * code give the same bits. */
#include "cnp_change.h"
#include "cnp_vector.h"

#include <math.h>

enum { CHUNK = 256 };

/* The observed flags of a tile given without a mask: loads from here keep
 * the loop free of a branch on the pointer. */
static const uint8_t all_observed[CHUNK] = { [0 ... CHUNK - 1] = 1 };

/* Inlined into callers; cnp_ndvi_dn() is the same code for tests. */
static inline double ndvi_dn(double red_dn, double nir_dn, const cnp_date_params *d)
{
    if (d->has_nodata_red && red_dn == d->nodata_red)
        return NAN;
    if (d->has_nodata_nir && nir_dn == d->nodata_nir)
        return NAN;
    /* NaN DNs fail every comparison below, so test them explicitly. */
    if (isnan(red_dn) || isnan(nir_dn))
        return NAN;
    if (red_dn >= d->saturated_dn || nir_dn >= d->saturated_dn)
        return NAN;

    const double red = red_dn * d->scale + d->offset;
    const double nir = nir_dn * d->scale + d->offset;
    const double sum = nir + red;

    if (red < 0.0 || nir < 0.0 || !(sum > 0.0))
        return NAN;
    return (nir - red) / sum;
}

double cnp_ndvi_dn(double red_dn, double nir_dn, const cnp_date_params *d)
{
    return ndvi_dn(red_dn, nir_dn, d);
}

/* One date's rules with "no nodata" turned into a NaN nodata value (a DN
 * never compares equal to it) and "never saturated" into +inf, so the
 * vector loops need no flags; and the same rules for UInt16 DNs as integer
 * thresholds (exactly equivalent for integer DNs). */
typedef struct date_rule {
    double  scale, offset, nodata_red, nodata_nir, saturated;
    int32_t nodata_red16, nodata_nir16;  /* -1: no UInt16 DN is nodata       */
    int32_t saturated16;                 /* DN >= this is saturated: 65536 = none */
} date_rule;

static int32_t nodata_u16(int has, double v)
{
    return has && v >= 0.0 && v <= 65535.0 && v == floor(v) ? (int32_t)v : -1;
}

/* Smallest integer DN with DN >= saturated (as a double comparison). */
static int32_t saturated_u16(double saturated)
{
    if (!(saturated <= 65535.0))   /* also NaN: nothing compares >= NaN */
        return 65536;
    if (saturated <= 0.0)
        return 0;
    return (int32_t)ceil(saturated);
}

static date_rule rule_of(const cnp_date_params *d)
{
    return (date_rule){ d->scale, d->offset, d->has_nodata_red ? d->nodata_red : NAN,
                        d->has_nodata_nir ? d->nodata_nir : NAN, d->saturated_dn,
                        nodata_u16(d->has_nodata_red, d->nodata_red),
                        nodata_u16(d->has_nodata_nir, d->nodata_nir),
                        saturated_u16(d->saturated_dn) };
}

/* The loops come in small steps so that each is vectorised with few live
 * registers: a loop mixing bytes with doubles would run 32 pixels abreast
 * and spill. Step 1 turns DNs into doubles, red poisoned with NaN where the
 * pixel is masked, nodata or saturated (or a DN is NaN). */
CNP_VECTOR_CLONES static void dn_chunk_u16(const uint16_t *restrict red, const uint16_t *restrict nir,
                                           const uint8_t *restrict observed, const date_rule *d,
                                           ptrdiff_t n, double *restrict rd, double *restrict nd)
{
    const int32_t ndr = d->nodata_red16, ndn = d->nodata_nir16, sat = d->saturated16;
    for (ptrdiff_t x = 0; x < n; x++) {
        const int32_t r = red[x], v = nir[x];
        const int bad = (observed[x] == 0) | (r == ndr) | (v == ndn) | (r >= sat) | (v >= sat);
        rd[x] = bad ? NAN : (double)r;
        nd[x] = (double)v;
    }
}

CNP_VECTOR_CLONES static void dn_chunk_f32(const float *restrict red, const float *restrict nir,
                                           const uint8_t *restrict observed, const date_rule *d,
                                           ptrdiff_t n, double *restrict rd, double *restrict nd)
{
    const double ndr = d->nodata_red, ndn = d->nodata_nir, sat = d->saturated;
    for (ptrdiff_t x = 0; x < n; x++) {
        const double r = red[x], v = nir[x];
        const int bad = (observed[x] == 0) | (r == ndr) | (v == ndn) | !(r < sat) | !(v < sat);
        rd[x] = bad ? NAN : r;
        nd[x] = v;
    }
}

/* Step 2: ndvi_dn()'s arithmetic; NaN where not valid. */
CNP_VECTOR_CLONES static void ndvi_chunk(const double *restrict rd, const double *restrict nd,
                                         double scale, double offset, ptrdiff_t n,
                                         double *restrict out)
{
    for (ptrdiff_t x = 0; x < n; x++) {
        const double red = rd[x] * scale + offset;
        const double nir = nd[x] * scale + offset;
        const double sum = nir + red;
        const int ok = (red >= 0.0) & (nir >= 0.0) & (sum > 0.0);
        const double v = (nir - red) / sum;
        out[x] = ok ? v : NAN;
    }
}

typedef struct row_counts {
    int64_t n[4];
} row_counts;

/* Step 3: classes from the two dates' NDVI (NaN = not valid), as int32. */
CNP_VECTOR_CLONES static void classify_chunk(const double *restrict b, const double *restrict a,
                                             ptrdiff_t n, double forest_ndvi, double loss_dndvi,
                                             float *restrict vb, float *restrict va,
                                             int32_t *restrict code)
{
    for (ptrdiff_t x = 0; x < n; x++) {
        const double bx = b[x], ax = a[x];
        vb[x] = (float)bx;
        va[x] = (float)ax;
        const int valid = (bx == bx) & (ax == ax);
        const int forest = bx >= forest_ndvi;
        const int loss = ax - bx <= loss_dndvi;
        code[x] = valid * (1 + forest * (1 + loss));
    }
}

/* Step 4: bytes out, classes counted. */
CNP_VECTOR_CLONES static void store_classes(const int32_t *restrict code, ptrdiff_t n,
                                            uint8_t *restrict cls, row_counts *counts)
{
    int32_t n0 = 0, n1 = 0, n2 = 0, n3 = 0;
    for (ptrdiff_t x = 0; x < n; x++) {
        const int32_t c = code[x];
        cls[x] = (uint8_t)c;
        n0 += c == CNP_CLASS_UNOBSERVED;
        n1 += c == CNP_CLASS_OTHER;
        n2 += c == CNP_CLASS_FOREST;
        n3 += c == CNP_CLASS_LOSS;
    }
    counts->n[CNP_CLASS_UNOBSERVED] += n0;
    counts->n[CNP_CLASS_OTHER] += n1;
    counts->n[CNP_CLASS_FOREST] += n2;
    counts->n[CNP_CLASS_LOSS] += n3;
}

static int tile_ok(const cnp_change_params *p, const cnp_change_tile *t)
{
    if (!p || !t || !t->cls)
        return 0;
    if (t->width < 0 || t->height < 0 || t->stride < t->width)
        return 0;
    for (int i = 0; i < 2; i++)
        if ((!t->red[i] && !t->red16[i]) || (!t->nir[i] && !t->nir16[i]) ||
            (!t->red[i] != !t->nir[i]) || !t->ndvi[i])
            return 0;
    return isfinite(p->forest_ndvi) && isfinite(p->ndvi_drop) && p->ndvi_drop > 0.0;
}

/* NDVI of pixels [x, x + n) of row offset `row` for date d. */
static void ndvi_of(const cnp_change_tile *t, int d, const date_rule *r, ptrdiff_t row,
                    ptrdiff_t x, ptrdiff_t n, double *rd, double *nd, double *out)
{
    const ptrdiff_t i = row + x;
    const uint8_t *obs = t->observed[d] ? t->observed[d] + i : all_observed;
    if (t->red[d])
        dn_chunk_f32(t->red[d] + i, t->nir[d] + i, obs, r, n, rd, nd);
    else
        dn_chunk_u16(t->red16[d] + i, t->nir16[d] + i, obs, r, n, rd, nd);
    ndvi_chunk(rd, nd, r->scale, r->offset, n, out);
}

cnp_status cnp_change_ndvi(const cnp_date_params *p, cnp_change_tile *t, int d)
{
    if (!p || !t || (d != 0 && d != 1) || t->width < 0 || t->height < 0 ||
        t->stride < t->width || !t->ndvi[d] || (!t->red[d] && !t->red16[d]) ||
        (!t->nir[d] && !t->nir16[d]) || (!t->red[d] != !t->nir[d]))
        return CNP_E_ARG;
    const date_rule r = rule_of(p);
    for (ptrdiff_t y = 0; y < t->height; y++) {
        double v[CHUNK], rd[CHUNK], nd[CHUNK];
        const ptrdiff_t row = y * t->stride;
        for (ptrdiff_t x = 0; x < t->width; x += CHUNK) {
            const ptrdiff_t n = t->width - x < CHUNK ? t->width - x : CHUNK;
            ndvi_of(t, d, &r, row, x, n, rd, nd, v);
            float *out = t->ndvi[d] + row + x;
            for (ptrdiff_t i = 0; i < n; i++)
                out[i] = (float)v[i];
        }
    }
    return CNP_OK;
}

cnp_status cnp_change_classify(const cnp_change_params *p, cnp_change_tile *t,
                               cnp_change_counts *counts)
{
    if (!tile_ok(p, t))
        return CNP_E_ARG;

    const ptrdiff_t w = t->width, h = t->height, stride = t->stride;
    const double forest_ndvi = p->forest_ndvi;
    const double loss_dndvi = -p->ndvi_drop;
    const date_rule r0 = rule_of(&p->date[0]), r1 = rule_of(&p->date[1]);
    int64_t n_unobs = 0, n_other = 0, n_forest = 0, n_loss = 0;

    #pragma omp parallel for schedule(static) default(none) \
        shared(t) firstprivate(w, h, stride, forest_ndvi, loss_dndvi, r0, r1) \
        reduction(+:n_unobs, n_other, n_forest, n_loss)
    for (ptrdiff_t y = 0; y < h; y++) {
        double b[CHUNK], a[CHUNK], rd[CHUNK], nd[CHUNK];
        int32_t code[CHUNK];
        row_counts rc = { { 0, 0, 0, 0 } };
        const ptrdiff_t row = y * stride;
        for (ptrdiff_t x = 0; x < w; x += CHUNK) {
            const ptrdiff_t n = w - x < CHUNK ? w - x : CHUNK;
            ndvi_of(t, 0, &r0, row, x, n, rd, nd, b);
            ndvi_of(t, 1, &r1, row, x, n, rd, nd, a);
            classify_chunk(b, a, n, forest_ndvi, loss_dndvi, t->ndvi[0] + row + x,
                           t->ndvi[1] + row + x, code);
            store_classes(code, n, t->cls + row + x, &rc);
        }
        n_unobs += rc.n[CNP_CLASS_UNOBSERVED];
        n_other += rc.n[CNP_CLASS_OTHER];
        n_forest += rc.n[CNP_CLASS_FOREST];
        n_loss += rc.n[CNP_CLASS_LOSS];
    }

    if (counts) {
        counts->unobserved += n_unobs;
        counts->other += n_other;
        counts->forest += n_forest;
        counts->loss += n_loss;
    }
    return CNP_OK;
}
