/* pipeline/run/cnp_baselines.c - the --baseline scenes, opened and aligned. */
#include "cnp_baselines.h"

#include <stdio.h>
#include <string.h>

#include "cnp_err.h"

cnp_status cnp_baselines_open(cnp_baselines *b, const cnp_job *job, const cnp_scene *grid)
{
    const cnp_settings *s = &job->settings;
    cnp_status st = CNP_OK;
    memset(b, 0, sizeof *b);
    if (job->nbaseline == 0)
        return CNP_OK;
    /* A grid of its own: aligning onto it never moves the pair's grid,
     * whatever [grid] align says. */
    if ((st = cnp_scene_open_grid(&b->grid, "the pair's grid", grid->wkt, grid->gt, grid->width,
                                  grid->height, s)) != CNP_OK)
        return st;
    b->have_grid = 1;
    for (int k = 0; k < job->nbaseline && st == CNP_OK; k++) {
        /* The scene keeps a pointer to its role for its messages. */
        char *role = b->role[k];
        int win[4];
        snprintf(role, sizeof b->role[k], "BASELINE %d", k + 1);
        const char *mask = k < job->nbaseline_mask ? job->baseline_mask[k] : NULL;
        if ((st = cnp_scene_open(&b->sc[k], role, job->baseline[k], mask, s, "")) != CNP_OK)
            break;
        b->n = k + 1;
        if ((st = cnp_scene_align(&b->sc[k], &b->grid, win)) != CNP_OK)
            st = cnp_err(st, "%s '%s': %s", role, cnp_path_base(job->baseline[k]), cnp_err_msg());
    }
    if (st != CNP_OK)
        cnp_baselines_free(b);
    return st;
}

void cnp_baselines_free(cnp_baselines *b)
{
    for (int k = 0; k < b->n; k++)
        cnp_scene_free(&b->sc[k]);
    if (b->have_grid)
        cnp_scene_free(&b->grid);
    memset(b, 0, sizeof *b);
}
