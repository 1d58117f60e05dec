/* kernels/cnp_haze.c - HOT and SWIR haze flags, the clear-line fit, and the
 * cloud fringe grown through hazy-looking pixels.
 *
 * The fringe is a breadth-first search from every cloud and shadow pixel of
 * the window: FIFO order reaches each pixel first by a shortest 8-connected
 * path, so the set of pixels within max_px steps is exact and independent
 * of the order seeds are queued in. Any such path stays within max_px
 * (Chebyshev) of its end, which is why a halo of max_px suffices.
 */
#include "cnp_haze.h"
#include "cnp_vector.h"

#include <math.h>
#include <string.h>

void cnp_haze_defaults(cnp_haze_params *p, cnp_haze_line *line)
{
    if (p) {
        p->hot_hazy = 0.02;
        p->hot_fringe = 0.01;
        p->swir_hazy = 1.1;
        p->swir_fringe = 1.25;
        p->nir_min = 0.08;
    }
    if (line) {
        line->slope = 1.6;
        line->intercept = 0.0;
    }
}

double cnp_haze_hot(const cnp_haze_line *line, double blue, double red)
{
    return (line->slope * blue - red + line->intercept) / sqrt(1.0 + line->slope * line->slope);
}

static int params_ok(const cnp_haze_params *p, const cnp_haze_line *l)
{
    return p && l && isfinite(p->hot_hazy) && isfinite(p->hot_fringe) &&
           p->hot_fringe <= p->hot_hazy && isfinite(p->swir_hazy) && isfinite(p->swir_fringe) &&
           isfinite(p->nir_min) && isfinite(l->slope) && isfinite(l->intercept);
}

/* The pixel loops below run in chunks of CHUNK pixels, branch-free, so that
 * the compiler vectorises them; each does the scalar rule's operations in
 * the same order in double precision (no contraction), so the bits are
 * those of the rule as written in the header. */
enum { CHUNK = 256 };

/* Stand-ins for a missing band or mask, so the loops need no branch on a
 * pointer: SWIR2 -inf passes the flags' SWIR check (the rule without a
 * band), +inf the clear line's; every pixel clear. */
static const float minus_inf[CHUNK] = { [0 ... CHUNK - 1] = -INFINITY };
static const float plus_inf[CHUNK] = { [0 ... CHUNK - 1] = INFINITY };
static const uint8_t all_clear[CHUNK] = { [0 ... CHUNK - 1] = 1 };

typedef struct flag_rule {
    double hot_hazy, hot_fringe, swir_hazy, swir_fringe, nir_min, slope, intercept, root;
} flag_rule;

/* cnp_haze_hot() for each pixel, then the two tests; a NaN blue or red
 * makes HOT NaN, which fails both, as a NaN SWIR2 fails its check. */
CNP_VECTOR_CLONES static void flags_chunk(const float *restrict blue, const float *restrict red,
                                          const float *restrict nir, const float *restrict swir,
                                          const flag_rule *r, ptrdiff_t n, uint8_t *restrict flags)
{
    const flag_rule q = *r;
    for (ptrdiff_t i = 0; i < n; i++) {
        const double bl = blue[i], rd = red[i], ni = nir[i], sw = swir[i];
        const double hot = (q.slope * bl - rd + q.intercept) / q.root;
        const int ok = ni >= q.nir_min;
        const int looks = ok & (hot >= q.hot_fringe) & (sw < q.swir_fringe * rd);
        const int hazy = ok & (hot >= q.hot_hazy) & (sw < q.swir_hazy * rd);
        flags[i] = (uint8_t)(hazy | ((looks | hazy) << 1));
    }
}

static flag_rule flag_rule_of(const cnp_haze_params *p, const cnp_haze_line *line)
{
    return (flag_rule){ p->hot_hazy, p->hot_fringe, p->swir_hazy, p->swir_fringe, p->nir_min,
                        line->slope, line->intercept, sqrt(1.0 + line->slope * line->slope) };
}

cnp_status cnp_haze_classify(const cnp_haze_params *p, const cnp_haze_line *line,
                             const cnp_haze_bands *b, size_t n, uint8_t *flags)
{
    if (!params_ok(p, line) || !b)
        return CNP_E_ARG;
    if (n == 0)
        return CNP_OK;
    if (!flags || !b->blue || !b->red || !b->nir)
        return CNP_E_ARG;

    const flag_rule r = flag_rule_of(p, line);
    const float *blue = b->blue, *red = b->red, *nir = b->nir, *swir = b->swir2;
    const size_t nchunk = (n + CHUNK - 1) / CHUNK;

    #pragma omp parallel for schedule(static) default(none) if (n > 65536) \
        shared(r, blue, red, nir, swir, flags, n, nchunk, minus_inf)
    for (size_t k = 0; k < nchunk; k++) {
        const size_t i = k * CHUNK, m = n - i < CHUNK ? n - i : CHUNK;
        flags_chunk(blue + i, red + i, nir + i, swir ? swir + i : minus_inf, &r, (ptrdiff_t)m,
                    flags + i);
    }
    return CNP_OK;
}

/* The clear line's bin of each pixel, -1 for one not counted. Invalid
 * values are replaced before the conversion to int, which would be
 * undefined for them. x / CNP_HAZE_BIN is computed as x x 250, without a
 * division, and both give the same bin and the same range tests: for a
 * float x, 250 x is exact in double and the quotient by the double 0.004
 * (a hair above 0.004) rounds to 250 x or to the double just below it,
 * which differ in floor() and in "< 64" only where 250 x is a whole number
 * in (0, 64] - and no float x in (0, 0.256] is one (k / 250 needs the
 * factor 5^3 in the denominator). test_haze checks the floats around
 * every bin edge. */
#define HAZE_BINS_PER_UNIT 250.0
CNP_VECTOR_CLONES static void bins_chunk(const float *restrict blue, const float *restrict red,
                                         const float *restrict nir, const float *restrict swir,
                                         const uint8_t *restrict clear, double nir_min,
                                         double swir_hazy, ptrdiff_t n, int32_t *restrict bin)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        const double bl = blue[i] * HAZE_BINS_PER_UNIT, rd = red[i] * HAZE_BINS_PER_UNIT;
        const int ok = (clear[i] != 0) & (nir[i] >= nir_min) & (bl >= 0.0) & (rd >= 0.0) &
                       (bl < CNP_HAZE_NBIN) & (rd < CNP_HAZE_NBIN) &
                       ((double)swir[i] >= swir_hazy * (double)red[i]);
        const int32_t bi = (int32_t)(ok ? bl : 0.0), ri = (int32_t)(ok ? rd : 0.0);
        bin[i] = ok ? bi * CNP_HAZE_NBIN + ri : -1;
    }
}

/* The rule one pixel at a time, refusing a count that would overflow; for
 * a histogram already near UINT32_MAX. */
static cnp_status hist_add_checked(cnp_haze_hist *h, const cnp_haze_params *p,
                                   const cnp_haze_bands *b, const uint8_t *clear, size_t n)
{
    /* Into a copy, so that an overflow leaves h as it was. */
    cnp_haze_hist t = *h;
    for (size_t i = 0; i < n; i++) {
        const double bl = b->blue[i] / CNP_HAZE_BIN, rd = b->red[i] / CNP_HAZE_BIN;
        if ((clear && !clear[i]) || !(b->nir[i] >= p->nir_min) || !(bl >= 0.0) || !(rd >= 0.0) ||
            !(bl < CNP_HAZE_NBIN) || !(rd < CNP_HAZE_NBIN) ||
            (b->swir2 && !((double)b->swir2[i] >= p->swir_hazy * (double)b->red[i])))
            continue;
        uint32_t *c = &t.n[(int)bl][(int)rd];
        if (*c == UINT32_MAX)
            return CNP_E_DATA;
        (*c)++;
    }
    *h = t;
    return CNP_OK;
}

/* Whether n more counts fit in every bin of h. */
static int hist_room(const cnp_haze_hist *h, size_t n)
{
    uint32_t most = 0;
    for (int i = 0; i < CNP_HAZE_NBIN; i++)
        for (int j = 0; j < CNP_HAZE_NBIN; j++)
            most = h->n[i][j] > most ? h->n[i][j] : most;
    return (uint64_t)most + n <= UINT32_MAX;
}

/* m <= CHUNK pixels counted, with no overflow check. */
static void hist_add_chunk(cnp_haze_hist *h, const cnp_haze_params *p, const float *blue,
                           const float *red, const float *nir, const float *swir2,
                           const uint8_t *clear, ptrdiff_t m)
{
    int32_t bin[CHUNK];
    bins_chunk(blue, red, nir, swir2, clear, p->nir_min, p->swir_hazy, m, bin);
    for (ptrdiff_t k = 0; k < m; k++)
        if (bin[k] >= 0)
            h->n[bin[k] / CNP_HAZE_NBIN][bin[k] % CNP_HAZE_NBIN]++;
}

cnp_status cnp_haze_hist_add(cnp_haze_hist *h, const cnp_haze_params *p, const cnp_haze_bands *b,
                             const uint8_t *clear, size_t n)
{
    if (!h || !p || !b || !(p->nir_min == p->nir_min) || !isfinite(p->swir_hazy))
        return CNP_E_ARG;
    if (n == 0)
        return CNP_OK;
    if (!b->blue || !b->red || !b->nir)
        return CNP_E_ARG;

    /* No count can overflow when the largest plus n cannot: then count
     * straight into h, from the bins of a chunk at a time. */
    if (!hist_room(h, n))
        return hist_add_checked(h, p, b, clear, n);
    for (size_t i = 0; i < n; i += CHUNK) {
        const size_t m = n - i < CHUNK ? n - i : CHUNK;
        hist_add_chunk(h, p, b->blue + i, b->red + i, b->nir + i,
                       b->swir2 ? b->swir2 + i : plus_inf, clear ? clear + i : all_clear,
                       (ptrdiff_t)m);
    }
    return CNP_OK;
}

/* Reflectance of a chunk's DNs (as doubles), NaN where not valid. */
CNP_VECTOR_CLONES static void reflect_chunk(const double *restrict b, const double *restrict r,
                                            const double *restrict v, const float *restrict ndvi,
                                            double nodata, double saturated, double scale,
                                            double offset, ptrdiff_t n, float *restrict ob,
                                            float *restrict orr, float *restrict ov)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        const int ok = (ndvi[i] == ndvi[i]) & !(b[i] == nodata) & !(b[i] >= saturated);
        ob[i] = ok ? (float)(b[i] * scale + offset) : NAN;
        orr[i] = ok ? (float)(r[i] * scale + offset) : NAN;
        ov[i] = ok ? (float)(v[i] * scale + offset) : NAN;
    }
}

CNP_VECTOR_CLONES static void load_f32(const float *restrict in, ptrdiff_t n, double *restrict out)
{
    for (ptrdiff_t i = 0; i < n; i++)
        out[i] = in[i];
}

CNP_VECTOR_CLONES static void load_u16(const uint16_t *restrict in, ptrdiff_t n,
                                       double *restrict out)
{
    for (ptrdiff_t i = 0; i < n; i++)
        out[i] = in[i];
}

/* From UInt16 DNs, the common case, in two simple loops that vectorise
 * well: each band's reflectance, then NaN where the pixel is not valid. The
 * blue tests as integers: a whole DN equals the nodata value only when that
 * is a whole number in range, and is >= saturated_dn exactly when it is >=
 * its ceiling. */
CNP_VECTOR_CLONES static void scale_u16(const uint16_t *restrict dn, double scale, double offset,
                                        ptrdiff_t n, float *restrict out)
{
    for (ptrdiff_t i = 0; i < n; i++)
        out[i] = (float)((double)dn[i] * scale + offset);
}

CNP_VECTOR_CLONES static void invalid_u16(const uint16_t *restrict b, const float *restrict ndvi,
                                          int32_t nodata, int32_t saturated, ptrdiff_t n,
                                          float *restrict ob, float *restrict orr,
                                          float *restrict ov)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        const int32_t bd = b[i];
        const int ok = (ndvi[i] == ndvi[i]) & (bd != nodata) & (bd < saturated);
        ob[i] = ok ? ob[i] : NAN;
        orr[i] = ok ? orr[i] : NAN;
        ov[i] = ok ? ov[i] : NAN;
    }
}

/* blue's nodata and saturation as UInt16 tests (see invalid_u16). */
typedef struct dn_limits {
    double nodata;               /* NAN without one */
    int32_t nodata16, saturated16;
} dn_limits;

static dn_limits limits_of(const cnp_haze_dn *d)
{
    dn_limits l;
    l.nodata = d->has_nodata ? d->nodata : NAN;
    l.nodata16 = d->has_nodata && d->nodata >= 0.0 && d->nodata <= 65535.0 &&
                 d->nodata == floor(d->nodata) ? (int32_t)d->nodata : -1;
    l.saturated16 = !(d->saturated_dn <= 65535.0) ? 65536
                  : d->saturated_dn <= 0.0 ? 0 : (int32_t)ceil(d->saturated_dn);
    return l;
}

static void load(const float *f, const uint16_t *u, ptrdiff_t n, double *out)
{
    if (u)
        load_u16(u, n, out);
    else
        load_f32(f, n, out);
}

/* The reflectance of pixels [i, i + m) (m <= CHUNK) into blue, red and nir
 * from their first element. */
static void reflect_range(const cnp_haze_dn *d, const dn_limits *l, size_t i, ptrdiff_t m,
                          float *blue, float *red, float *nir)
{
    if (d->blue16 && d->red16 && d->nir16) {
        scale_u16(d->blue16 + i, d->scale, d->offset, m, blue);
        scale_u16(d->red16 + i, d->scale, d->offset, m, red);
        scale_u16(d->nir16 + i, d->scale, d->offset, m, nir);
        invalid_u16(d->blue16 + i, d->ndvi + i, l->nodata16, l->saturated16, m, blue, red, nir);
        return;
    }
    double b[CHUNK], r[CHUNK], v[CHUNK];
    load(d->blue ? d->blue + i : NULL, d->blue16 ? d->blue16 + i : NULL, m, b);
    load(d->red ? d->red + i : NULL, d->red16 ? d->red16 + i : NULL, m, r);
    load(d->nir ? d->nir + i : NULL, d->nir16 ? d->nir16 + i : NULL, m, v);
    reflect_chunk(b, r, v, d->ndvi + i, l->nodata, d->saturated_dn, d->scale, d->offset, m, blue,
                  red, nir);
}

static int dn_ok(const cnp_haze_dn *d, size_t n)
{
    return d && (n == 0 || (d->ndvi && (d->blue || d->blue16) && (d->red || d->red16) &&
                            (d->nir || d->nir16)));
}

cnp_status cnp_haze_reflect(const cnp_haze_dn *d, size_t n, float *blue, float *red, float *nir)
{
    if (!dn_ok(d, n) || (n > 0 && (!blue || !red || !nir)))
        return CNP_E_ARG;
    const dn_limits l = limits_of(d);
    for (size_t i = 0; i < n; i += CHUNK) {
        const ptrdiff_t m = (ptrdiff_t)(n - i < CHUNK ? n - i : CHUNK);
        reflect_range(d, &l, i, m, blue + i, red + i, nir + i);
    }
    return CNP_OK;
}

void cnp_haze_lut_init(cnp_haze_lut *lut, const cnp_haze_params *p, double scale, double offset)
{
    lut->scale = scale;
    lut->offset = offset;
    lut->nir_min = p->nir_min;
    /* Each DN's reflectance and bin as scale_u16() and bins_chunk() make
     * them, so the table gives the same counts. */
    for (int32_t dn = 0; dn <= 65535; dn++) {
        const float refl = (float)((double)dn * scale + offset);
        const double x = refl * HAZE_BINS_PER_UNIT;
        const int in = (x >= 0.0) & (x < CNP_HAZE_NBIN);
        lut->v[dn] = (uint8_t)((in ? (int32_t)x | CNP_HAZE_LUT_IN : 0) |
                               (refl >= p->nir_min ? CNP_HAZE_LUT_NIR : 0));
    }
}

static int lut_fits(const cnp_haze_lut *lut, const cnp_haze_params *p, const cnp_haze_dn *d,
                    const float *swir2)
{
    return lut && !swir2 && d->blue16 && d->red16 && d->nir16 && lut->scale == d->scale &&
           lut->offset == d->offset && lut->nir_min == p->nir_min;
}

/* UInt16 DNs without SWIR2, counted through the table: no reflectance at
 * all. The validity is cnp_haze_reflect()'s (NDVI, blue's nodata and
 * saturation), the tests those of bins_chunk(). A pixel not counted goes to
 * a cell of its own rather than through a branch (about half the pixels
 * of a scene are counted, in no predictable order). */
static void hist_add_lut(cnp_haze_hist *h, const cnp_haze_lut *lut, const cnp_haze_dn *d,
                         const dn_limits *l, size_t n)
{
    uint32_t *cell = &h->n[0][0];
    uint32_t sink = 0;
    const uint8_t *v = lut->v;
    for (size_t i = 0; i < n; i++) {
        const int32_t bd = d->blue16[i];
        const uint8_t b = v[bd], r = v[d->red16[i]], ni = v[d->nir16[i]];
        const int ok = (d->ndvi[i] == d->ndvi[i]) & (bd != l->nodata16) & (bd < l->saturated16) &
                       ((b & r & CNP_HAZE_LUT_IN) != 0) & ((ni & CNP_HAZE_LUT_NIR) != 0);
        uint32_t *to = ok ? cell + (b & CNP_HAZE_LUT_BIN) * CNP_HAZE_NBIN + (r & CNP_HAZE_LUT_BIN)
                          : &sink;
        (*to)++;
    }
}

/* The fused forms below keep a chunk's reflectance in the cache: a tile's
 * three float planes (3 MB for 512 x 512) would go through memory twice. */
cnp_status cnp_haze_hist_add_dn(cnp_haze_hist *h, const cnp_haze_params *p, const cnp_haze_dn *d,
                                const float *swir2, const cnp_haze_lut *lut, size_t n)
{
    if (!h || !p || !(p->nir_min == p->nir_min) || !isfinite(p->swir_hazy) || !dn_ok(d, n))
        return CNP_E_ARG;
    const dn_limits l = limits_of(d);
    const int room = hist_room(h, n);
    if (room && lut_fits(lut, p, d, swir2)) {
        hist_add_lut(h, lut, d, &l, n);
        return CNP_OK;
    }
    cnp_haze_hist t;               /* near overflow: counted into a copy */
    if (!room)
        t = *h;
    float b[CHUNK], r[CHUNK], v[CHUNK];
    for (size_t i = 0; i < n; i += CHUNK) {
        const ptrdiff_t m = (ptrdiff_t)(n - i < CHUNK ? n - i : CHUNK);
        reflect_range(d, &l, i, m, b, r, v);
        const float *sw = swir2 ? swir2 + i : plus_inf;
        if (room) {
            hist_add_chunk(h, p, b, r, v, sw, all_clear, m);
            continue;
        }
        const cnp_haze_bands cb = { b, r, v, swir2 ? sw : NULL };
        if (hist_add_checked(&t, p, &cb, NULL, (size_t)m) != CNP_OK)
            return CNP_E_DATA;
    }
    if (!room)
        *h = t;
    return CNP_OK;
}

cnp_status cnp_haze_classify_dn(const cnp_haze_params *p, const cnp_haze_line *line,
                                const cnp_haze_dn *d, const float *swir2, size_t n,
                                uint8_t *flags)
{
    if (!params_ok(p, line) || !dn_ok(d, n) || (n > 0 && !flags))
        return CNP_E_ARG;
    const flag_rule rule = flag_rule_of(p, line);
    const dn_limits l = limits_of(d);
    const size_t nchunk = (n + CHUNK - 1) / CHUNK;

    #pragma omp parallel for schedule(static) default(none) if (n > 65536) \
        shared(rule, l, d, swir2, flags, n, nchunk, minus_inf)
    for (size_t k = 0; k < nchunk; k++) {
        float b[CHUNK], r[CHUNK], v[CHUNK];
        const size_t i = k * CHUNK, m = n - i < CHUNK ? n - i : CHUNK;
        reflect_range(d, &l, i, (ptrdiff_t)m, b, r, v);
        flags_chunk(b, r, v, swir2 ? swir2 + i : minus_inf, &rule, (ptrdiff_t)m, flags + i);
    }
    return CNP_OK;
}

cnp_status cnp_haze_hist_merge(cnp_haze_hist *dst, const cnp_haze_hist *src)
{
    if (!dst || !src)
        return CNP_E_ARG;
    for (int i = 0; i < CNP_HAZE_NBIN; i++)
        for (int j = 0; j < CNP_HAZE_NBIN; j++)
            if (dst->n[i][j] > UINT32_MAX - src->n[i][j])
                return CNP_E_DATA;
    for (int i = 0; i < CNP_HAZE_NBIN; i++)
        for (int j = 0; j < CNP_HAZE_NBIN; j++)
            dst->n[i][j] += src->n[i][j];
    return CNP_OK;
}

cnp_status cnp_haze_fit(const cnp_haze_hist *h, uint32_t min_count, cnp_haze_line *line)
{
    if (!h || !line || min_count < 1)
        return CNP_E_ARG;

    double sw = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0;
    int points = 0;
    for (int bb = 0; bb < CNP_HAZE_NBIN; bb++) {
        uint64_t total = 0;
        for (int r = 0; r < CNP_HAZE_NBIN; r++)
            total += h->n[bb][r];
        if (total < min_count)
            continue;
        const uint64_t target = (total * 9 + 9) / 10;    /* ceil(0.9 total) */
        uint64_t cum = 0;
        int r = 0;
        while (r < CNP_HAZE_NBIN - 1 && cum + h->n[bb][r] < target)
            cum += h->n[bb][r++];
        const double x = (bb + 0.5) * CNP_HAZE_BIN, y = (r + 0.5) * CNP_HAZE_BIN;
        const double w = sqrt((double)total);
        sw += w;
        sx += w * x;
        sy += w * y;
        sxx += w * x * x;
        sxy += w * x * y;
        points++;
    }
    const double den = sw * sxx - sx * sx;
    if (points < 3 || !(den > 0.0))
        return CNP_E_DATA;
    const double slope = (sw * sxy - sx * sy) / den;
    if (!(slope >= 0.5 && slope <= 4.0))
        return CNP_E_DATA;
    line->slope = slope;
    line->intercept = (sy - slope * sx) / sw;
    return CNP_OK;
}

size_t cnp_haze_fringe_scratch_len(ptrdiff_t width, ptrdiff_t height)
{
    if (width <= 0 || height <= 0 || (uint64_t)width * (uint64_t)height > UINT32_MAX)
        return 0;
    return (size_t)width * (size_t)height;
}

cnp_status cnp_haze_fringe(const cnp_mask_window *win, const uint8_t *looks, int min_px,
                           int max_px, uint16_t *scratch16, uint32_t *queue, uint8_t *observed,
                           ptrdiff_t observed_stride)
{
    if (!win || !observed || min_px < 0 || min_px > 4096 || max_px < 0 || max_px > 255)
        return CNP_E_ARG;
    if (win->core_w <= 0 || win->core_h <= 0)
        return CNP_OK;
    if (max_px > 0 && (!looks || !queue || !scratch16 ||
                       cnp_haze_fringe_scratch_len(win->width, win->height) == 0))
        return CNP_E_ARG;

    /* The codes and the fixed part of the buffer; this also checks the window. */
    const cnp_status st = cnp_mask_apply(win, min_px, CNP_MASK_SQUARE, scratch16, observed,
                                         observed_stride);
    if (st != CNP_OK || max_px == 0)
        return st;

    const ptrdiff_t w = win->width, h = win->height, cs = win->stride;
    uint16_t *dist = scratch16;
    const uint16_t unseen = UINT16_MAX;
    size_t head = 0, tail = 0;

    for (ptrdiff_t y = 0; y < h; y++)
        for (ptrdiff_t x = 0; x < w; x++) {
            const size_t k = (size_t)(y * w + x);
            if (win->codes[y * cs + x] == CNP_MASK_SPREADS) {
                dist[k] = 0;
                queue[tail++] = (uint32_t)k;
            } else {
                dist[k] = unseen;
            }
        }
    while (head < tail) {
        const uint32_t k = queue[head++];
        const ptrdiff_t px = (ptrdiff_t)(k % (uint32_t)w), py = (ptrdiff_t)(k / (uint32_t)w);
        const uint16_t d = dist[k];
        if (d >= max_px)
            continue;
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                const ptrdiff_t qx = px + dx, qy = py + dy;
                if (qx < 0 || qy < 0 || qx >= w || qy >= h)
                    continue;
                const size_t q = (size_t)(qy * w + qx);
                if (dist[q] != unseen || !(looks[qy * cs + qx] & CNP_HAZE_LOOKS))
                    continue;
                dist[q] = (uint16_t)(d + 1);
                queue[tail++] = (uint32_t)q;
            }
    }
    for (ptrdiff_t y = 0; y < win->core_h; y++) {
        const uint16_t *dr = dist + (win->core_y + y) * w + win->core_x;
        uint8_t *o = observed + y * observed_stride;
        for (ptrdiff_t x = 0; x < win->core_w; x++)
            o[x] = dr[x] != unseen ? 0 : o[x];
    }
    return CNP_OK;
}
