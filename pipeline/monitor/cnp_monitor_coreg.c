/* pipeline/monitor/cnp_monitor_coreg.c - co-registration of a new scene on
 * its footprint, by detect's code (core/cnp_coreg_scene.h, [coreg]): the
 * scene's NDVI against the footprint's baseline NDVI (the state's ndvi.tif,
 * band 1, or this run's last step), on the same windows and blocks as
 * detect's BEFORE and AFTER. In mode auto a shift of at least min_shift px
 * is corrected (the pass reads the scene resampled onto the grid) and one
 * beyond max_shift refuses the scene; in mode check it is only recorded. A
 * new footprint has nothing to measure against: its first scene is its
 * reference.
 */
#include "cnp_monitor_pass.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_coreg_scene.h"
#include "cnp_err.h"

/* The footprint's baseline as a cnp_coreg_source. */
typedef struct base_src {
    const mon_fp *fp;
    cnp_tilefile *tf;         /* the generation's ndvi.tif (no store yet)      */
    float        *buf;        /* a tile's plane, or a window's two bands       */
    int           failed;     /* reading the state failed (not the scene)     */
} base_src;

/* Window (x0, y0, n x n) from the tiles of this run's store that it meets. */
static cnp_status from_store(base_src *b, int x0, int y0, int n, float *out)
{
    const mon_fp *fp = b->fp;
    for (int ty = y0 / CNP_TILE; ty <= (y0 + n - 1) / CNP_TILE; ty++)
        for (int tx = x0 / CNP_TILE; tx <= (x0 + n - 1) / CNP_TILE; tx++) {
            const cnp_status st = cnp_tilestore_read(fp->store, tx, ty, MON_P_BASE, b->buf);
            if (st != CNP_OK)
                return st;
            const int tx0 = tx * CNP_TILE, ty0 = ty * CNP_TILE;
            const int tw = fp->width - tx0 < CNP_TILE ? fp->width - tx0 : CNP_TILE;
            const int th = fp->height - ty0 < CNP_TILE ? fp->height - ty0 : CNP_TILE;
            for (int y = y0 > ty0 ? y0 : ty0; y < y0 + n && y < ty0 + th; y++)
                for (int x = x0 > tx0 ? x0 : tx0; x < x0 + n && x < tx0 + tw; x++)
                    out[(size_t)(y - y0) * (size_t)n + (size_t)(x - x0)] =
                        b->buf[(size_t)(y - ty0) * (size_t)tw + (size_t)(x - tx0)];
        }
    return CNP_OK;
}

static cnp_status base_ndvi(void *arg, int x0, int y0, int n, float *out)
{
    base_src *b = arg;
    cnp_status st;
    if (b->fp->store) {
        st = from_store(b, x0, y0, n, out);
    } else {
        st = cnp_tilefile_read(b->tf, x0, y0, n, n, CNP_CELL_FLOAT32, b->buf);
        if (st == CNP_OK)
            memcpy(out, b->buf, (size_t)n * (size_t)n * sizeof *out);
    }
    b->failed = st != CNP_OK;
    return st;
}

static cnp_status base_open(const mon_fp *fp, base_src *b)
{
    memset(b, 0, sizeof *b);
    b->fp = fp;
    /* a tile of the store, or two bands of a 128 px window */
    b->buf = malloc((size_t)CNP_TILE * CNP_TILE * sizeof *b->buf);
    if (!b->buf)
        return cnp_err(CNP_E_NOMEM, "out of memory for co-registration");
    if (fp->store)
        return CNP_OK;
    char path[4400], what[160];
    snprintf(path, sizeof path, "%s/ndvi.tif", fp->dir);
    snprintf(what, sizeof what, "state of footprint %s", fp->key);
    return cnp_tilefile_open(path, fp->width, fp->height, 2, what, &b->tf);
}

cnp_status mon_coreg_scene(const mon_ctx *c, const mon_fp *fp, cnp_scene *sc, const int win[4],
                           cnp_coreg_summary *out, int *state_failed)
{
    base_src b;
    cnp_coreg_scene_src *ss = NULL;
    char ref[200];
    cnp_status st;

    memset(out, 0, sizeof *out);
    out->mode = c->s->coreg;
    *state_failed = 0;
    if (c->s->coreg == CNP_COREG_OFF || (!fp->store && !fp->dir[0]))
        return CNP_OK;
    if ((st = base_open(fp, &b)) != CNP_OK) {
        *state_failed = 1;
        goto done;
    }
    if ((st = cnp_coreg_scene_source(sc, c->s, &ss)) != CNP_OK)
        goto done;
    const cnp_coreg_source src[2] = { { base_ndvi, &b }, cnp_coreg_scene_source_of(ss) };
    st = cnp_coreg_measure(src, c->s, win, out);
    *state_failed = st != CNP_OK && b.failed;
    snprintf(ref, sizeof ref, "the baseline of footprint %s", fp->key);
    if (st == CNP_OK)
        st = cnp_coreg_decide(out, c->s, sc, "the scene", ref);
done:
    cnp_coreg_scene_source_free(&ss);
    cnp_tilefile_close(&b.tf);
    free(b.buf);
    return st;
}

void mon_coreg_note(const cnp_coreg_summary *c, char *out, size_t size)
{
    out[0] = '\0';
    if (!c->measured)
        return;
    if (!c->ok)
        snprintf(out, size, "not measured: %lld of %lld blocks textured and agreeing, in %d "
                 "windows; used as it is", (long long)c->used, (long long)c->blocks,
                 c->windows);
    else
        /* Rounded to what is printed first: a shift of -0.001 reads 0.00,
         * not -0.00. */
        snprintf(out, size, "shifted by %.2f, %.2f px (%lld blocks): %s",
                 round(c->dx * 100.0) / 100.0 + 0.0, round(c->dy * 100.0) / 100.0 + 0.0,
                 (long long)c->used, c->applied ? "corrected"
                                    : c->beyond ? "beyond max_shift, not corrected (check)"
                                                : "left as it is");
}
