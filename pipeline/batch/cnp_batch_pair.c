/* pipeline/batch/cnp_batch_pair.c - `canopy batch`: which scene of a footprint
 * pairs with which (by date, gap and baseline) and the ids that name the
 * pairs' folders.
 *
 * No GDAL, no files: plain C on a footprint's scenes, so that
 * tests/unit/test_plain_batch_pair.c links it with base/ alone.
 */
#include "cnp_batch.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnp_err.h"
#include "cnp_ident.h"

static const char *base_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* 0, or -1 out of memory (the message set): cnp_grow_zeroed as the callers
 * here test it. */
static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    return cnp_grow_zeroed(arr, cap, need, elem, "the inputs") == CNP_OK ? 0 : -1;
}

/* Days since 1970-01-01 of a YYYY-MM-DD date (H. Hinnant's days_from_civil). */
long cnp_batch_days(const char *date)
{
    int y, m, d;
    if (sscanf(date, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return 0;
    y -= m <= 2;
    const long era = (y >= 0 ? y : y - 399) / 400;
    const long yoe = y - era * 400;
    const long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int cmp_scene(const void *a, const void *b)
{
    const cnp_batch_scene *x = a, *y = b;
    const int c = strcmp(x->date, y->date);
    return c ? c : strcmp(x->id, y->id);
}

void cnp_batch_unique_ids(cnp_batch_fp *fp)
{
    /* Which stems clash, decided before any is renamed: renaming the first
     * of two must not hide the clash from the second. */
    unsigned char *dup = calloc(fp->nscene + 1, 1);
    for (size_t i = 0; dup && i < fp->nscene; i++)
        for (size_t j = 0; j < fp->nscene; j++)
            dup[i] |= j != i && strcmp(fp->scene[i].id, fp->scene[j].id) == 0;
    for (size_t i = 0; dup && i < fp->nscene; i++) {
        if (!dup[i] || strcmp(fp->scene[i].kind, "raster") != 0)
            continue;
        /* Same stem in two folders: prefix the folder name. */
        char parent[PATH_MAX], clean[200], id[200];
        snprintf(parent, sizeof parent, "%s", fp->scene[i].path);
        char *slash = strrchr(parent, '/');
        if (slash)
            *slash = '\0';
        cnp_ident_from_name(base_of(parent), clean, sizeof clean);
        snprintf(id, sizeof id, "%.59s_%.60s", clean, fp->scene[i].id);
        memcpy(fp->scene[i].id, id, sizeof id);
    }
    free(dup);
    /* Still the same (or no memory to tell): -2, -3 ... */
    for (size_t i = 1; i < fp->nscene; i++) {
        int k = 2;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(fp->scene[i].id, fp->scene[j].id) != 0)
                continue;
            char id[200];
            snprintf(id, sizeof id, "%.110s-%d", fp->scene[i].id, k++);
            memcpy(fp->scene[i].id, id, sizeof id);
            j = (size_t)-1;     /* check again from the start */
        }
    }
}

static int add_pair(cnp_batch_fp *fp, size_t *cap, int bi, int ai, const cnp_batch_plan *p)
{
    if (grow((void **)&fp->pair, cap, fp->npair + 1, sizeof *fp->pair))
        return -1;
    cnp_batch_pair *pr = &fp->pair[fp->npair++];
    const cnp_batch_scene *b = &fp->scene[bi], *a = &fp->scene[ai];
    memset(pr, 0, sizeof *pr);
    pr->before = bi;
    pr->after = ai;
    pr->gap_days = (int)(cnp_batch_days(a->date) - cnp_batch_days(b->date));
    snprintf(pr->dir, sizeof pr->dir, "%s__%s", b->id, a->id);
    if (pr->gap_days == 0) {
        pr->action = CNP_PAIR_SKIP;
        snprintf(pr->reason, sizeof pr->reason, "same acquisition date (%s)", a->date);
    } else if (p->max_gap_days > 0 && pr->gap_days > p->max_gap_days) {
        pr->action = CNP_PAIR_SKIP;
        snprintf(pr->reason, sizeof pr->reason, "%d days apart, more than --max-gap %d",
                 pr->gap_days, p->max_gap_days);
    }
    if (pr->action == CNP_PAIR_RUN)
        fp->work += b->pixels > a->pixels ? b->pixels : a->pixels;
    return 0;
}

int cnp_batch_pair_up(const cnp_batch_plan *p, cnp_batch_fp *fp)
{
    size_t cap = 0;
    fp->work = 0;
    if (p->pairs_mode == CNP_PAIRS_CONSECUTIVE) {
        for (size_t i = 1; i < fp->nscene; i++)
            if (add_pair(fp, &cap, (int)i - 1, (int)i, p))
                return -1;
        return 0;
    }
    /* Baseline: the scene nearest the date (the earlier on a tie) against
     * every later one. */
    const long want = cnp_batch_days(p->baseline_date);
    size_t base = 0;
    for (size_t i = 1; i < fp->nscene; i++)
        if (labs(cnp_batch_days(fp->scene[i].date) - want) < labs(cnp_batch_days(fp->scene[base].date) - want))
            base = i;
    for (size_t i = base + 1; i < fp->nscene; i++)
        if (add_pair(fp, &cap, (int)base, (int)i, p))
            return -1;
    return 0;
}


void cnp_batch_sort_scenes(cnp_batch_fp *fp)
{
    if (fp->nscene > 1)   /* qsort(NULL, 0, ...) is undefined behaviour */
        qsort(fp->scene, fp->nscene, sizeof *fp->scene, cmp_scene);
}
