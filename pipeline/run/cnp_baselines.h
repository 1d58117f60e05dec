/* pipeline/run/cnp_baselines.h - the --baseline scenes of a detect run:
 * opened through the one scene reader (io/cnp_raster.h) with their
 * products' rules, and put on the pair's grid, where the loss pass reads
 * them beside BEFORE and AFTER (core/cnp_losspass.h).
 */
#ifndef CNP_BASELINES_H
#define CNP_BASELINES_H

#include "cnp_detect.h"
#include "cnp_raster.h"

typedef struct cnp_baselines {
    cnp_scene sc[CNP_JOB_MAX_BASELINES];
    char      role[CNP_JOB_MAX_BASELINES][24];   /* "BASELINE k": sc[k].role */
    int       n;
    cnp_scene grid;              /* the pair's grid, which they are aligned on */
    int       have_grid;
} cnp_baselines;

/* cnp_baselines_open() :
 * Open job->baseline[0 .. nbaseline-1] (with job->baseline_mask[k] when
 * given) as "BASELINE k" and align each onto `grid` (BEFORE once the pair
 * is aligned: it then describes the common grid); a baseline that covers
 * only part of the grid is unobserved elsewhere.
 * @return CNP_OK; what cnp_scene_open() or cnp_scene_align() returned, the
 *         message naming the baseline. b is then freed. */
cnp_status cnp_baselines_open(cnp_baselines *b, const cnp_job *job, const cnp_scene *grid);

/* cnp_baselines_free() : close what cnp_baselines_open() opened. */
void cnp_baselines_free(cnp_baselines *b);

#endif /* CNP_BASELINES_H */
