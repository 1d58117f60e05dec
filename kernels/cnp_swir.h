/* kernels/cnp_swir.h - a SWIR index change beside dNDVI, and the rule that
 * combines them.
 *
 * Forest cleared for pasture that is green again by the AFTER date barely
 * changes NDVI (0.80 -> 0.65: dNDVI -0.15, under the 0.25 threshold), but
 * its SWIR reflectance doubles: a closed canopy is dark at 2.2 um (shadow,
 * leaf water), grass and soil are not. NBR = (NIR - SWIR2) / (NIR + SWIR2)
 * falls by 0.2..0.5. NDMI (SWIR1 at 1.6 um in place of SWIR2) behaves alike
 * and may be passed instead where a product has no SWIR2.
 *
 * The rule, for a pixel that was forest (NDVI before >= forest_ndvi), with
 * dNDVI = NDVI after - before (or its normalised value, kernels/cnp_norm.h)
 * and dNBR likewise:
 *
 *   loss  when  dNDVI <= -ndvi_drop                            (NDVI alone)
 *         or    dNBR <= -nbr_drop and dNDVI <= -ndvi_support
 *               and SWIR2 after >= swir2_open                  (SWIR-led)
 *
 * The SWIR-led branch needs the three together: a real NBR drop; some
 * NDVI decline (a change of moisture alone - drought stress, a wet
 * understorey - moves NBR but hardly NDVI; 0.05 holds on a normalised
 * dNDVI, where the season's drift is gone); and an AFTER that is bright
 * in SWIR2 like open land (degraded but closed forest stays below 0.12,
 * pasture and soil are above). Haze leaves NBR nearly as it was (SWIR sees
 * through it), so this branch adds nothing there. docs/method.md gives the
 * figures behind each threshold. Without SWIR bands only the NDVI branch
 * applies.
 *
 * Per pixel, no state: results are bit-identical for any thread count.
 */
#ifndef CNP_SWIR_H
#define CNP_SWIR_H

#include <stddef.h>
#include <stdint.h>

#include "cnp_status.h"

/* Signals (bits) per pixel. */
enum {
    CNP_SIG_NDVI = 1,            /* forest, dNDVI <= -ndvi_drop                 */
    CNP_SIG_NBR  = 2,            /* forest, dNBR <= -nbr_drop                   */
    CNP_SIG_LOSS = 4             /* the combined rule says loss                 */
};

typedef struct cnp_swir_rule {
    double forest_ndvi;          /* forest when NDVI before >= this (0.65)      */
    double ndvi_drop;            /* NDVI branch: dNDVI <= -ndvi_drop (0.25)     */
    double nbr_drop;             /* SWIR branch: dNBR <= -nbr_drop (0.15)       */
    double ndvi_support;         /* ... and dNDVI <= -ndvi_support (0.05)       */
    double swir2_open;           /* ... and SWIR2 after >= swir2_open (0.12)    */
} cnp_swir_rule;

/* cnp_swir_defaults() : the values in brackets above. */
void cnp_swir_defaults(cnp_swir_rule *r);

/* cnp_swir_index() :
 * (nir - swir) / (nir + swir) for reflectances; NAN when either is NaN or
 * negative or their sum is not > 0. NBR with SWIR2, NDMI with SWIR1. */
double cnp_swir_index(double nir, double swir);

/* cnp_swir_signals() :
 * The signals of one pixel by the rule above; dnbr or swir2_after NaN
 * (no SWIR): NDVI branch only; ndvi_before or dndvi NaN: 0. The kernel
 * below uses exactly this function. */
uint8_t cnp_swir_signals(const cnp_swir_rule *r, double ndvi_before, double dndvi, double dnbr,
                         double swir2_after);

/* n pixels of one tile. */
typedef struct cnp_swir_pixels {
    const float *ndvi_before;    /* NAN where not valid                         */
    const float *dndvi;          /* NDVI after - before (normalised or not)     */
    const float *nir[2];         /* [0] before, [1] after; NULL: no SWIR branch */
    const float *swir2[2];       /* idem                                        */
    float       *dnbr;           /* out, optional: NBR after - before, or NAN   */
} cnp_swir_pixels;

/* cnp_swir_classify() :
 * signals[i] for each pixel; the SWIR branch where all four SWIR-side
 * bands are given and valid at the pixel.
 * @return CNP_OK, or CNP_E_ARG for NULL pointers (n > 0), a rule with
 *         non-finite values or non-positive drops, or only some of the
 *         four SWIR-side bands (outputs untouched). */
cnp_status cnp_swir_classify(const cnp_swir_rule *r, const cnp_swir_pixels *p, size_t n,
                             uint8_t *signals);

#endif /* CNP_SWIR_H */
