/* tests/unit/test_confidence.c - the confidence rule (kernels/cnp_confidence).
 *
 * The documented examples, each part on hand-made inputs, monotonicity in
 * the drop and the agreement, the level boundaries, and argument checks.
 */
#include "cnp_confidence.h"
#include "cnp_test.h"

static cnp_conf_input plain(double mean_dndvi)
{
    cnp_conf_input in = { mean_dndvi, NAN, NAN, -1, 1, 0 };
    return in;
}

static void test_documented_examples(void)
{
    cnp_swir_rule r;
    cnp_conf c;
    cnp_swir_defaults(&r);

    cnp_conf_input in = plain(-0.40);
    CHECK(cnp_confidence(&r, &in, &c) == CNP_OK);
    CHECK_NEAR(c.score, 0.54, 1e-12);
    CHECK(c.level == CNP_CONF_MEDIUM);
    in = plain(-0.50);
    CHECK(cnp_confidence(&r, &in, &c) == CNP_OK);
    CHECK_NEAR(c.score, 0.70, 1e-12);
    CHECK(c.level == CNP_CONF_HIGH);
    in = plain(-0.26);             /* just past the threshold, nothing else */
    CHECK(cnp_confidence(&r, &in, &c) == CNP_OK);
    CHECK(c.level == CNP_CONF_LOW);
    CHECK(!strcmp(cnp_confidence_name(c.level), "low"));
    CHECK(!strcmp(cnp_confidence_name(CNP_CONF_HIGH), "high"));
    CHECK(!strcmp(cnp_confidence_name(7), "low"));
}

static void test_parts(void)
{
    cnp_swir_rule r;
    cnp_conf c;
    cnp_swir_defaults(&r);

    /* green pasture: NDVI short of the threshold, NBR well past its own */
    cnp_conf_input in = { -0.15, -0.30, 0.0, 1, 3, 0 };
    CHECK(cnp_confidence(&r, &in, &c) == CNP_OK);
    CHECK_NEAR(c.margin, 1.0, 1e-12);
    CHECK(c.agree == 0.0 && c.norm == 1.0 && c.obs == 1.0);
    CHECK_NEAR(c.score, 0.40 + 0.15 + 0.20, 1e-12);
    /* normalisation levels and observations */
    static const double NORM[5] = { 0.5, 0.2, 1.0, 0.7, 0.4 };
    for (int lv = -1; lv <= 3; lv++) {
        in.norm_level = lv;
        CHECK(cnp_confidence(&r, &in, &c) == CNP_OK);
        CHECK(c.norm == NORM[lv + 1]);
    }
    in.n_obs = 2;
    in.partially_observed = 1;
    CHECK(cnp_confidence(&r, &in, &c) == CNP_OK);
    CHECK_NEAR(c.obs, 0.6, 1e-12);
}

static void test_monotone(void)
{
    cnp_swir_rule r;
    cnp_conf c;
    double prev = -1.0;
    cnp_swir_defaults(&r);

    for (double d = -0.2; d >= -0.8; d -= 0.05) {
        cnp_conf_input in = { d, NAN, 0.5, 1, 1, 0 };
        CHECK(cnp_confidence(&r, &in, &c) == CNP_OK);
        CHECK(c.score >= prev && c.score >= 0.0 && c.score <= 1.0);
        prev = c.score;
    }
    prev = -1.0;
    for (double a = 0.0; a <= 1.0; a += 0.1) {
        cnp_conf_input in = { -0.35, -0.2, a, 2, 1, 1 };
        CHECK(cnp_confidence(&r, &in, &c) == CNP_OK);
        CHECK(c.score > prev);
        prev = c.score;
    }
}

static void test_arguments(void)
{
    cnp_swir_rule r;
    cnp_conf c = { 0 };
    cnp_swir_defaults(&r);

    cnp_conf_input in = plain(NAN);
    CHECK(cnp_confidence(&r, &in, &c) == CNP_E_ARG);
    in = plain(-0.3);
    in.norm_level = 4;
    CHECK(cnp_confidence(&r, &in, &c) == CNP_E_ARG);
    in = plain(-0.3);
    in.n_obs = 0;
    CHECK(cnp_confidence(&r, &in, &c) == CNP_E_ARG);
    in = plain(-0.3);
    in.agree_share = 1.5;
    CHECK(cnp_confidence(&r, &in, &c) == CNP_E_ARG);
    in = plain(-0.3);
    r.ndvi_drop = 0.0;
    CHECK(cnp_confidence(&r, &in, &c) == CNP_E_ARG);
    CHECK(c.score == 0.0);
}

CNP_TEST_MAIN("confidence",
              TEST_CASE(test_documented_examples),
              TEST_CASE(test_parts),
              TEST_CASE(test_monotone),
              TEST_CASE(test_arguments))
