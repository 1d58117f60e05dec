/* kernels/cnp_confidence.h - an alert's confidence from its signals.
 *
 * One small documented function, so that every output says the same. Four
 * parts, each in [0, 1]:
 *
 *   margin  how far past the threshold the alert's mean change is:
 *           (-mean dNDVI - ndvi_drop) / ndvi_drop, clamped; for an alert
 *           led by SWIR the same on dNBR and nbr_drop; the larger of the two
 *           (a drop of twice the threshold scores 1)
 *   agree   the share of its pixels where both NDVI and NBR fired
 *           (kernels/cnp_swir.h); 0.5 when the product has no SWIR
 *   norm    how the dNDVI was normalised (kernels/cnp_norm.h) at the
 *           alert, by the weakest cell it covers: level 1 (window of
 *           +-1.5 km) 1.0, level 2 0.7, level 3 0.4, level 0 (no correction
 *           possible) 0.2; 0.5 when no normalisation ran
 *   obs     what the BEFORE value rests on: 1 clear observation 0.5, 2
 *           0.75, 3 or more (a multi-date baseline) 1.0; times 0.8 when the
 *           alert is partially observed (kernels/cnp_gaps.h)
 *
 *   score = 0.40 margin + 0.25 agree + 0.15 norm + 0.20 obs
 *   level = high when the score rounded to two decimals is >= 0.70,
 *           medium when >= 0.45, else low
 *
 * The weights put the size of the change first, the agreement of two
 * independent indices second; normalisation and observations can lower a
 * strong alert by one level at most. A plain two-date alert without SWIR
 * whose mean drop is 0.40 (the old high_confidence_drop) scores 0.54
 * (medium); a drop of 0.50 or more scores 0.70 (high).
 */
#ifndef CNP_CONFIDENCE_H
#define CNP_CONFIDENCE_H

#include "cnp_status.h"
#include "cnp_swir.h"

enum { CNP_CONF_LOW = 0, CNP_CONF_MEDIUM = 1, CNP_CONF_HIGH = 2 };

typedef struct cnp_conf_input {
    double mean_dndvi;           /* over the alert's loss pixels                */
    double mean_dnbr;            /* NAN without SWIR                            */
    double agree_share;          /* pixels with both NDVI and NBR signals, 0..1;
                                    NAN without SWIR                            */
    int    norm_level;           /* lowest cnp_norm level, 0..3; -1: none ran   */
    int    n_obs;                /* clear observations behind BEFORE, >= 1      */
    int    partially_observed;   /* cnp_gap_alert.partially_observed            */
} cnp_conf_input;

typedef struct cnp_conf {
    double score;                /* 0..1                                        */
    double margin, agree, norm, obs;   /* the parts                             */
    int    level;                /* CNP_CONF_*                                  */
} cnp_conf;

/* cnp_confidence() :
 * The confidence of one alert under `rule` (its ndvi_drop and nbr_drop).
 * @return CNP_OK, or CNP_E_ARG for NULL pointers, a NaN mean_dndvi,
 *         norm_level outside -1..3, n_obs < 1, agree_share outside [0, 1]
 *         or non-positive drops (out untouched). */
cnp_status cnp_confidence(const cnp_swir_rule *rule, const cnp_conf_input *in, cnp_conf *out);

/* cnp_confidence_name() : "low", "medium" or "high" ("low" for anything else). */
const char *cnp_confidence_name(int level);

#endif /* CNP_CONFIDENCE_H */
