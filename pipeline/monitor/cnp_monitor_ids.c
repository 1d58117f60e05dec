/* pipeline/monitor/cnp_monitor_ids.c - after a scene's pass: the runs of
 * alert pixels labelled into connected components across the grid (joined
 * across unobserved gaps, cnp_monitor_gaps.c); a component with pixels that
 * have no alert id yet takes the id of the oldest alert it touches, or a new
 * one when it has none and reaches the minimum mapping unit
 * (cnp_monitor_assign_ids). Only the tiles where pixels got an id are
 * rewritten.
 */
#include "cnp_monitor_pass.h"

#include <stdlib.h>
#include <string.h>

#include "cnp_err.h"
#include "cnp_monitor.h"

cnp_status mon_acc_reserve(mon_step *s, size_t n)
{
    if (n <= s->nacc)
        return CNP_OK;
    mon_id_acc *p = realloc(s->acc, n * sizeof *p);
    if (!p)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    memset(p + s->nacc, 0, (n - s->nacc) * sizeof *p);
    s->acc = p;
    s->nacc = n;
    return CNP_OK;
}

/* Pixels that got an id get it in the step's state; only the tiles that
 * hold one are read and written again. */
static cnp_status write_new_ids(mon_step *s, const uint32_t *label, const uint32_t *cid)
{
    const int ntx = cnp_tilestore_tiles_x(s->store), nty = cnp_tilestore_tiles_y(s->store);
    uint8_t *dirty = calloc((size_t)ntx * (size_t)nty, 1);
    uint32_t *tile = malloc((size_t)CNP_TILE * CNP_TILE * sizeof *tile);
    size_t *row_first = malloc(((size_t)s->fp->height + 1) * sizeof *row_first);
    cnp_status st = CNP_OK;

    if (!dirty || !tile || !row_first) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
        goto done;
    }
    int any = 0;
    for (size_t i = 0; i < s->act.n; i++) {
        const cnp_run *r = &s->act.run[i];
        if (!s->ra[i].unassigned || !cid[label[i]])
            continue;
        for (int tx = r->x0 / CNP_TILE; tx <= (r->x1 - 1) / CNP_TILE; tx++)
            dirty[(size_t)(r->y / CNP_TILE) * (size_t)ntx + (size_t)tx] = any = 1;
    }
    if (!any)
        goto done;
    size_t j = 0;
    for (int y = 0; y <= s->fp->height; y++) {
        while (j < s->act.n && s->act.run[j].y < y)
            j++;
        row_first[y] = j;
    }
    for (int ty = 0; ty < nty && st == CNP_OK; ty++) {
        const int y0 = ty * CNP_TILE, th = s->fp->height - y0 < CNP_TILE ? s->fp->height - y0
                                                                           : CNP_TILE;
        for (int tx = 0; tx < ntx && st == CNP_OK; tx++) {
            if (!dirty[(size_t)ty * (size_t)ntx + (size_t)tx])
                continue;
            const int x0 = tx * CNP_TILE, tw = s->fp->width - x0 < CNP_TILE ? s->fp->width - x0
                                                                            : CNP_TILE;
            if ((st = cnp_tilestore_read(s->store, tx, ty, MON_P_ID, tile)) != CNP_OK)
                break;
            /* Alert pixels are exactly the runs' pixels: an unassigned one in
             * a run takes its component's id. */
            for (int r = 0; r < th; r++) {
                for (size_t k = row_first[y0 + r]; k < row_first[y0 + r + 1]; k++) {
                    const cnp_run *run = &s->act.run[k];
                    const uint32_t id = cid[label[k]];
                    if (!id || !s->ra[k].unassigned || run->x1 <= x0 || run->x0 >= x0 + tw)
                        continue;
                    const int a = run->x0 > x0 ? run->x0 : x0;
                    const int b = run->x1 < x0 + tw ? run->x1 : x0 + tw;
                    uint32_t *px = tile + (size_t)r * (size_t)tw;
                    for (int x = a; x < b; x++)
                        if (!px[x - x0])
                            px[x - x0] = id;
                }
            }
            st = cnp_tilestore_write(s->store, tx, ty, MON_P_ID, tile);
        }
    }
done:
    free(dirty);
    free(tile);
    free(row_first);
    return st;
}

cnp_status mon_assign_ids(mon_step *s, uint32_t *old_next, uint32_t *new_next)
{
    mon_fp *fp = s->fp;
    uint32_t *label = NULL, *cmin = NULL, *cid = NULL;
    int64_t *cun = NULL, *cpx = NULL;
    const int64_t min_px = 1;
    uint8_t *eligible = NULL;
    size_t ncomp = 0;
    cnp_status st;

    if ((st = cnp_runs_link(&s->act, s->c->s->connectivity)) != CNP_OK)
        return cnp_err(st, "labelling alert pixels failed");
    if ((st = mon_gaps_bridge(s)) != CNP_OK)
        return st;
    label = malloc((s->act.n + 1) * sizeof *label);
    if (!label)
        return cnp_err(CNP_E_NOMEM, "out of memory");
    if ((st = cnp_runs_label(&s->act, label, &ncomp)) != CNP_OK) {
        st = cnp_err(st, "labelling alert pixels failed");
        goto done;
    }
    cmin = calloc(ncomp + 1, sizeof *cmin);
    cid = calloc(ncomp + 1, sizeof *cid);
    cun = calloc(ncomp + 1, sizeof *cun);
    cpx = calloc(ncomp + 1, sizeof *cpx);
    if (!cmin || !cid || !cun || !cpx) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < s->act.n; i++) {
        const uint32_t c = label[i];
        const mon_run_acc *r = &s->ra[i];
        if (r->min_id && (!cmin[c] || r->min_id < cmin[c]))
            cmin[c] = r->min_id;
        cun[c] += r->unassigned;
        cpx[c] += s->act.run[i].x1 - s->act.run[i].x0;
    }
    /* The kernel hands out ids by a pixel count; it gets 1 for a component
     * that reaches the unit on the ellipsoid and 0 for one that does not. */
    eligible = malloc(ncomp + 1);
    if (!eligible) {
        st = cnp_err(CNP_E_NOMEM, "out of memory");
        goto done;
    }
    if ((st = mon_mmu_eligible(s, label, ncomp, cpx, eligible)) != CNP_OK)
        goto done;
    for (size_t c = 0; c < ncomp; c++)
        cpx[c] = eligible[c];
    *old_next = fp->next_seq;
    uint32_t next = fp->next_seq;
    if (cnp_monitor_assign_ids(ncomp, cmin, cun, cpx, min_px, &next, cid) != CNP_OK) {
        st = cnp_err(CNP_E_DATA, "footprint %s: out of alert ids", fp->key);
        goto done;
    }
    *new_next = next;
    if ((st = mon_acc_reserve(s, (size_t)next + 1)) != CNP_OK)
        goto done;
    for (size_t i = 0; i < s->act.n; i++) {
        const uint32_t k = cid[label[i]];
        const mon_run_acc *r = &s->ra[i];
        if (!k || !r->unassigned)
            continue;
        mon_id_acc *a = &s->acc[k];
        a->grown += r->unassigned;
        a->prob += r->u_prob;
        a->conf += r->u_conf;
        a->o_clear += r->u_clear;
        a->o_cloudy += r->u_cloudy;
        a->o_nodata += r->u_nodata;
        a->o_sum_dndvi += r->u_sum_dndvi;
        a->sum_loss += r->u_sum_loss;
        a->sum_x += r->u_sum_x;
        a->sum_y += r->u_sum_y;
    }
    for (size_t j = 0; j < s->nsegs; j++)
        if (!s->segs[j].id)
            s->segs[j].id = cid[label[s->segs[j].run]];
    mon_gaps_partial(s);
    st = write_new_ids(s, label, cid);

done:
    free(label);
    free(cmin);
    free(cid);
    free(cun);
    free(cpx);
    free(eligible);
    return st;
}
