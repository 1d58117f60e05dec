/* kernels/cnp_confidence.c - the confidence rule of cnp_confidence.h. */
#include "cnp_confidence.h"

#include <math.h>

static double clamp01(double v)
{
    return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
}

cnp_status cnp_confidence(const cnp_swir_rule *rule, const cnp_conf_input *in, cnp_conf *out)
{
    if (!rule || !in || !out || !(rule->ndvi_drop > 0.0) || !(rule->nbr_drop > 0.0) ||
        in->mean_dndvi != in->mean_dndvi || in->norm_level < -1 || in->norm_level > 3 ||
        in->n_obs < 1 || in->agree_share < 0.0 || in->agree_share > 1.0)
        return CNP_E_ARG;     /* a NaN agree_share passes both range tests */

    static const double NORM[4] = { 0.2, 1.0, 0.7, 0.4 };   /* by level 0..3 */
    cnp_conf c;

    c.margin = clamp01((-in->mean_dndvi - rule->ndvi_drop) / rule->ndvi_drop);
    if (in->mean_dnbr == in->mean_dnbr)
        c.margin = fmax(c.margin, clamp01((-in->mean_dnbr - rule->nbr_drop) / rule->nbr_drop));
    c.agree = in->agree_share == in->agree_share ? in->agree_share : 0.5;
    c.norm = in->norm_level < 0 ? 0.5 : NORM[in->norm_level];
    c.obs = (in->n_obs >= 3 ? 1.0 : in->n_obs == 2 ? 0.75 : 0.5) *
            (in->partially_observed ? 0.8 : 1.0);
    c.score = 0.40 * c.margin + 0.25 * c.agree + 0.15 * c.norm + 0.20 * c.obs;
    /* compare in hundredths: 0.40 x 0.6 + ... must land on 0.70 exactly */
    const double s100 = floor(c.score * 100.0 + 0.5 + 1e-9);
    c.level = s100 >= 70.0 ? CNP_CONF_HIGH : s100 >= 45.0 ? CNP_CONF_MEDIUM : CNP_CONF_LOW;
    *out = c;
    return CNP_OK;
}

const char *cnp_confidence_name(int level)
{
    return level == CNP_CONF_HIGH ? "high" : level == CNP_CONF_MEDIUM ? "medium" : "low";
}
