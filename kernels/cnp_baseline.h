/* kernels/cnp_baseline.h - a multi-date baseline: the per-pixel median of
 * the clear NDVI of K earlier scenes.
 *
 * A dry-season AFTER compared with a wet-season BEFORE turns deciduous
 * forest into "loss". Compared instead with scenes of the same season of
 * earlier years, the forest is as leafless as it was then, and only what
 * changed since stands out. The median of K baseline scenes ignores one
 * scene's unflagged haze or a bad acquisition; scenes where a pixel was not
 * clear (NaN) do not count, and the number that did is kept (for
 * confidence: a baseline of one observation is weak).
 *
 * Per pixel, no state: bit-identical for any thread count.
 */
#ifndef CNP_BASELINE_H
#define CNP_BASELINE_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_status.h"

#define CNP_BASELINE_MAX 32      /* baseline scenes at most */

/* cnp_baseline_median1() :
 * The median of the non-NaN values among v[0..k-1] (the mean of the two
 * middle ones for an even count), and their number in *count; NAN when
 * there are fewer than min_obs (>= 1). The kernel below uses exactly this
 * function. k <= CNP_BASELINE_MAX. */
double cnp_baseline_median1(const float *v, int k, int min_obs, int *count);

/* cnp_baseline_median() :
 * For each of n pixels, out[i] = the median of ndvi[0][i] .. ndvi[k-1][i]
 * as cnp_baseline_median1(), and count[i] (optional) the clear scenes.
 * @return CNP_OK, or CNP_E_ARG for NULL pointers (n > 0), k outside
 *         1..CNP_BASELINE_MAX or min_obs outside 1..k (out untouched). */
cnp_status cnp_baseline_median(const float *const *ndvi, int k, size_t n, int min_obs,
                               float *out, uint8_t *count);

#endif /* CNP_BASELINE_H */
