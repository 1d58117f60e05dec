/* kernels/cnp_trace.c - boundary tracing of one component into simple rings.
 *
 * The component is drawn into a bitmap of its bounding box plus a 1-pixel
 * border, each cell holding the 4-connected piece of its pixel (0 = background)
 * and, in its top two bits, whether the edges leaving the cell's top-left
 * vertex rightwards and downwards have been traced. The border means every
 * vertex on a boundary has all four surrounding cells in the bitmap, so the
 * walk needs no bounds checks.
 *
 * Every boundary edge is directed with its piece on the right, and the turn
 * rule at each vertex pairs incoming with outgoing edges one to one, so the
 * edges fall into disjoint cycles: the rings. At a pinch the pairing follows
 * the piece labels (see cnp_trace.h, rule 3); each cycle is then the boundary
 * of one 4-connected region of the pixels outside a piece, which is a simple
 * closed curve.
 *
 * Rings are found by scanning vertices in scan order and starting a ring at
 * the first vertex with an untraced edge leaving it rightwards or downwards.
 * That vertex is the ring's top-most, left-most one; the ring leaves it
 * rightwards if it is a shell and downwards if it is a hole (its interior is
 * then on the walker's left), so neither signed areas nor point-in-polygon
 * tests are needed to classify rings.
 */
#include "cnp_trace.h"

#include <stdlib.h>
#include <string.h>

#define LABEL_MASK 0x3fffffffu   /* piece + 1; 0 is background */
#define H_SEEN     0x40000000u   /* edge (x,y)->(x+1,y) traced */
#define V_SEEN     0x80000000u   /* edge (x,y)->(x,y+1) traced */

/* Clockwise order in y-down coordinates: d + 1 is a right turn. */
enum { DIR_E, DIR_S, DIR_W, DIR_N };

struct cnp_trace_ws {
    uint32_t *cell;   size_t cell_cap;    /* bbox bitmap, see above */
    uint32_t *piece;  size_t piece_cap;   /* piece per run (union-find scratch first) */
    int32_t  *xy;     size_t xy_cap;      /* traced vertices (scene coords), in vertices */
    cnp_ring *ring;   size_t ring_cap;    /* rings in trace order */
    size_t   *bucket; size_t bucket_cap;  /* per-piece ring counts, then offsets */
};

/* Grow an array to hold `need` elements (1.5x, so a big bbox does not double
 * the bitmap). Returns the possibly moved array, or NULL (old array and *cap
 * untouched) on failure. */
static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap && p)
        return p;
    size_t c = *cap + *cap / 2;
    if (c < need)
        c = need;
    if (c < 16)
        c = 16;
    if (c > SIZE_MAX / elem)
        return NULL;
    void *q = realloc(p, c * elem);
    if (q)
        *cap = c;
    return q;
}

cnp_trace_ws *cnp_trace_ws_create(void)
{
    return calloc(1, sizeof(cnp_trace_ws));
}

void cnp_trace_ws_free(cnp_trace_ws *ws)
{
    if (!ws)
        return;
    free(ws->cell);
    free(ws->piece);
    free(ws->xy);
    free(ws->ring);
    free(ws->bucket);
    free(ws);
}

void cnp_rings_init(cnp_rings *r)
{
    if (r)
        memset(r, 0, sizeof *r);
}

void cnp_rings_free(cnp_rings *r)
{
    if (!r)
        return;
    free(r->xy);
    free(r->ring);
    cnp_rings_init(r);
}

void cnp_rings_clear(cnp_rings *r)
{
    if (!r)
        return;
    r->n = 0;
    r->nvert = 0;
    r->npieces = 0;
}

/* Direction to leave vertex v by, having arrived moving in direction d.
 * br = pixel behind on the right (the one being hugged), fr/fl = pixels ahead
 * on the right/left. Values are piece + 1, 0 for background. */
static int next_dir(const uint32_t *cell, size_t v, size_t w, int d)
{
    const uint32_t nw = cell[v - w - 1] & LABEL_MASK;
    const uint32_t ne = cell[v - w] & LABEL_MASK;
    const uint32_t sw = cell[v - 1] & LABEL_MASK;
    const uint32_t se = cell[v] & LABEL_MASK;
    uint32_t br, fr, fl;

    switch (d) {
    case DIR_E: br = sw; fr = se; fl = ne; break;
    case DIR_S: br = nw; fr = sw; fl = se; break;
    case DIR_W: br = ne; fr = nw; fl = sw; break;
    default:    br = se; fr = ne; fl = nw; break;
    }
    if (fr)
        return fl ? (d + 3) & 3 : d;        /* wall ahead: left; else straight */
    if (!fl)
        return (d + 1) & 3;                 /* outer corner: right */
    /* Pinch. Different pieces: turn right and stay on br's piece, so pieces
     * separate. Same piece: turn left, closing the ring around the background
     * pixel on our left, so the ring does not come back through this vertex. */
    return fl == br ? (d + 3) & 3 : (d + 1) & 3;
}

typedef struct trace_frame {
    size_t  w;             /* bitmap width (cells) */
    int64_t ox, oy;        /* scene coords of cell (0, 0) */
    size_t  nxy, nring;    /* used in ws->xy / ws->ring */
} trace_frame;

static cnp_status emit(cnp_trace_ws *ws, trace_frame *f, size_t x, size_t y)
{
    int32_t *xy = grow(ws->xy, &ws->xy_cap, f->nxy + 1, 2 * sizeof *xy);
    if (!xy)
        return CNP_E_NOMEM;
    ws->xy = xy;
    xy[2 * f->nxy]     = (int32_t)((int64_t)x + f->ox);
    xy[2 * f->nxy + 1] = (int32_t)((int64_t)y + f->oy);
    f->nxy++;
    return CNP_OK;
}

/* Walk one ring from vertex (x, y), leaving in direction dir0, marking edges;
 * keep only corners, then close the ring by repeating the start. */
static cnp_status trace_ring(cnp_trace_ws *ws, trace_frame *f, size_t x, size_t y,
                             int dir0, uint32_t piece1)
{
    uint32_t *cell = ws->cell;
    const size_t w = f->w;
    const size_t start = y * w + x;
    const size_t first = f->nxy;
    const size_t x0 = x, y0 = y;
    size_t v = start;
    int d = dir0;
    cnp_status st;

    cnp_ring *ring = grow(ws->ring, &ws->ring_cap, f->nring + 1, sizeof *ring);
    if (!ring)
        return CNP_E_NOMEM;
    ws->ring = ring;

    if ((st = emit(ws, f, x, y)) != CNP_OK)
        return st;
    for (;;) {
        switch (d) {
        case DIR_E: cell[v] |= H_SEEN; v++;     x++; break;
        case DIR_S: cell[v] |= V_SEEN; v += w;  y++; break;
        case DIR_W: v--;    x--; cell[v] |= H_SEEN; break;
        default:    v -= w; y--; cell[v] |= V_SEEN; break;
        }
        const int nd = next_dir(cell, v, w, d);
        /* Stop on returning to the first edge (not merely the first vertex):
         * the edge successor map is a permutation, so this always ends. */
        if (v == start && nd == dir0)
            break;
        if (nd != d && (st = emit(ws, f, x, y)) != CNP_OK)
            return st;
        d = nd;
    }
    if ((st = emit(ws, f, x0, y0)) != CNP_OK)
        return st;

    ring[f->nring] = (cnp_ring){
        .first = first, .count = f->nxy - first,
        .piece = (int32_t)(piece1 - 1), .is_hole = dir0 == DIR_S,
    };
    f->nring++;
    return CNP_OK;
}

/* Copy traced rings into out, stably bucketed by piece: a piece's shell is
 * traced before its holes (its top-left vertex comes first in scan order), so
 * this gives shell, then holes in scan order, per piece. */
static cnp_status emit_sorted(cnp_trace_ws *ws, const trace_frame *f, size_t npieces,
                              cnp_rings *out)
{
    size_t *bucket = grow(ws->bucket, &ws->bucket_cap, npieces + 1, sizeof *bucket);
    if (!bucket)
        return CNP_E_NOMEM;
    ws->bucket = bucket;
    cnp_ring *ring = grow(out->ring, &out->cap, f->nring, sizeof *ring);
    if (!ring)
        return CNP_E_NOMEM;
    out->ring = ring;
    int32_t *xy = grow(out->xy, &out->cap_vert, f->nxy, 2 * sizeof *xy);
    if (!xy)
        return CNP_E_NOMEM;
    out->xy = xy;

    memset(bucket, 0, (npieces + 1) * sizeof *bucket);
    for (size_t i = 0; i < f->nring; i++)
        bucket[ws->ring[i].piece + 1]++;
    for (size_t p = 0; p < npieces; p++)
        bucket[p + 1] += bucket[p];
    for (size_t i = 0; i < f->nring; i++)
        ring[bucket[ws->ring[i].piece]++] = ws->ring[i];

    size_t k = 0;
    for (size_t i = 0; i < f->nring; i++) {
        memcpy(xy + 2 * k, ws->xy + 2 * ring[i].first, 2 * ring[i].count * sizeof *xy);
        ring[i].first = k;
        k += ring[i].count;
    }
    out->n = f->nring;
    out->nvert = k;
    out->npieces = (int32_t)npieces;
    return CNP_OK;
}

cnp_status cnp_trace_runs(const cnp_run *runs, size_t n, cnp_trace_ws *ws,
                          cnp_rings *out)
{
    if (!ws || !out || (n && !runs))
        return CNP_E_ARG;
    cnp_rings_clear(out);
    if (n == 0)
        return CNP_OK;

    int64_t xmin = runs[0].x0, xmax = runs[0].x1;
    for (size_t i = 0; i < n; i++) {
        const cnp_run *r = &runs[i];
        if (r->x0 >= r->x1 || r->y == INT32_MAX)
            return CNP_E_ARG;
        if (i > 0 && (r->y < r[-1].y || (r->y == r[-1].y && r->x0 <= r[-1].x1)))
            return CNP_E_ARG;
        if (r->x0 < xmin)
            xmin = r->x0;
        if (r->x1 > xmax)
            xmax = r->x1;
    }
    /* piece + 1 must fit the cell's label bits; pieces <= runs. */
    if (n >= LABEL_MASK)
        return CNP_E_NOMEM;

    const int64_t ymin = runs[0].y, ymax = runs[n - 1].y;
    const uint64_t w64 = (uint64_t)(xmax - xmin) + 2;
    const uint64_t h64 = (uint64_t)(ymax - ymin) + 3;
    if (w64 > SIZE_MAX || h64 > SIZE_MAX)
        return CNP_E_NOMEM;
    const size_t w = (size_t)w64, h = (size_t)h64;
    if (w > SIZE_MAX / sizeof(uint32_t) / h)
        return CNP_E_NOMEM;

    uint32_t *cell = grow(ws->cell, &ws->cell_cap, w * h, sizeof *cell);
    if (!cell)
        return CNP_E_NOMEM;
    ws->cell = cell;
    uint32_t *piece = grow(ws->piece, &ws->piece_cap, n, sizeof *piece);
    if (!piece)
        return CNP_E_NOMEM;
    ws->piece = piece;

    size_t npieces;
    cnp_status st = cnp_runs_label_array(runs, n, 4, piece, piece, &npieces);
    if (st != CNP_OK)
        return st;

    memset(cell, 0, w * h * sizeof *cell);
    for (size_t i = 0; i < n; i++) {
        uint32_t *row = cell + (size_t)(runs[i].y - ymin + 1) * w;
        const size_t x1 = (size_t)(runs[i].x1 - xmin + 1);
        for (size_t x = (size_t)(runs[i].x0 - xmin + 1); x < x1; x++)
            row[x] = piece[i] + 1;
    }

    trace_frame f = { .w = w, .ox = xmin - 1, .oy = ymin - 1, .nxy = 0, .nring = 0 };
    /* Fill pixels lie in rows 1..h-2, so ring-starting vertices do too. */
    for (size_t y = 1; y + 1 < h; y++) {
        for (size_t x = 1; x < w; x++) {
            const size_t v = y * w + x;
            const uint32_t se = cell[v];
            const uint32_t sw = cell[v - 1] & LABEL_MASK;

            if ((se & LABEL_MASK) && !(se & H_SEEN) && !(cell[v - w] & LABEL_MASK))
                st = trace_ring(ws, &f, x, y, DIR_E, se & LABEL_MASK);    /* shell */
            else if (!(se & LABEL_MASK) && sw && !(se & V_SEEN))
                st = trace_ring(ws, &f, x, y, DIR_S, sw);                 /* hole */
            if (st != CNP_OK)
                return st;
        }
    }
    return emit_sorted(ws, &f, npieces, out);
}
