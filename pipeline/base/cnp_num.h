/* pipeline/base/cnp_num.h - how numbers are rounded before they are written.
 *
 * Outputs carry a fixed number of decimals (areas to 1e-4 ha, coordinates to
 * 1e-7 degrees), so that the same computation gives the same text in every
 * format and sums do not show float noise.
 */
#ifndef CNP_NUM_H
#define CNP_NUM_H

#include <math.h>

/* v rounded to the nearest multiple of 1/scale (scale 1e4: four decimals). */
static inline double cnp_round_to(double v, double scale) { return round(v * scale) / scale; }

#endif /* CNP_NUM_H */
