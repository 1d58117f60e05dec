/* tests/unit/test_plain_batch_pair.c - batch/cnp_batch_pair: which scene of a
 * footprint pairs with which (consecutive, baseline, same date, --max-gap),
 * the work each footprint brings, and the ids that name pair folders.
 *
 * Linked with base/'s objects and cnp_batch_pair.o only (no GDAL library).
 */
#include <stdlib.h>
#include <string.h>

#include "cnp_batch.h"
#include "cnp_test.h"

static cnp_batch_scene S[8];

/* A footprint of n scenes "id@date" (pixels 100 each, the last 200). */
static cnp_batch_fp fp_of(const char *const *spec, size_t n)
{
    cnp_batch_fp fp;
    memset(&fp, 0, sizeof fp);
    memset(S, 0, sizeof S);
    for (size_t i = 0; i < n; i++) {
        const char *at = strchr(spec[i], '@');
        snprintf(S[i].id, sizeof S[i].id, "%.*s", (int)(at - spec[i]), spec[i]);
        snprintf(S[i].date, sizeof S[i].date, "%s", at + 1);
        snprintf(S[i].kind, sizeof S[i].kind, "raster");
        S[i].pixels = i + 1 == n ? 200 : 100;
    }
    fp.scene = S;
    fp.nscene = n;
    return fp;
}

static cnp_batch_plan plan_of(int mode, const char *baseline, int max_gap)
{
    cnp_batch_plan p;
    memset(&p, 0, sizeof p);
    p.pairs_mode = mode;
    snprintf(p.baseline_date, sizeof p.baseline_date, "%s", baseline ? baseline : "");
    p.max_gap_days = max_gap;
    return p;
}

static void days(void)
{
    CHECK(cnp_batch_days("1970-01-01") == 0);
    CHECK(cnp_batch_days("2024-03-01") - cnp_batch_days("2024-02-28") == 2);   /* leap */
    CHECK(cnp_batch_days("2023-03-01") - cnp_batch_days("2023-02-28") == 1);
    CHECK(cnp_batch_days("2000-01-01") == 10957);
    CHECK(cnp_batch_days("not a date") == 0);
}

static void sorted_by_date_then_id(void)
{
    static const char *const spec[] = { "b@2024-08-20", "z@2024-06-15", "a@2024-08-20" };
    cnp_batch_fp fp = fp_of(spec, 3);
    cnp_batch_sort_scenes(&fp);
    CHECK(strcmp(fp.scene[0].id, "z") == 0 && strcmp(fp.scene[1].id, "a") == 0 &&
          strcmp(fp.scene[2].id, "b") == 0);
}

static void consecutive(void)
{
    static const char *const spec[] = { "a@2024-06-15", "b@2024-08-20", "c@2024-10-01" };
    cnp_batch_fp fp = fp_of(spec, 3);
    const cnp_batch_plan p = plan_of(CNP_PAIRS_CONSECUTIVE, NULL, 0);
    CHECK(cnp_batch_pair_up(&p, &fp) == 0);
    CHECK(fp.npair == 2);
    CHECK(fp.pair[0].before == 0 && fp.pair[0].after == 1 && fp.pair[0].gap_days == 66);
    CHECK(strcmp(fp.pair[0].dir, "a__b") == 0 && strcmp(fp.pair[1].dir, "b__c") == 0);
    CHECK(fp.pair[0].action == CNP_PAIR_RUN && fp.pair[1].action == CNP_PAIR_RUN);
    CHECK(fp.work == 100 + 200);           /* each pair: the larger of its scenes */
    free(fp.pair);
}

static void same_date_and_max_gap_skipped(void)
{
    static const char *const spec[] = { "a@2024-06-15", "b@2024-06-15", "c@2025-06-15" };
    cnp_batch_fp fp = fp_of(spec, 3);
    const cnp_batch_plan p = plan_of(CNP_PAIRS_CONSECUTIVE, NULL, 90);
    CHECK(cnp_batch_pair_up(&p, &fp) == 0);
    CHECK(fp.npair == 2);
    CHECK(fp.pair[0].action == CNP_PAIR_SKIP && strstr(fp.pair[0].reason, "same acquisition"));
    CHECK(fp.pair[1].action == CNP_PAIR_SKIP && strstr(fp.pair[1].reason, "--max-gap 90"));
    CHECK(fp.work == 0);
    free(fp.pair);
}

static void baseline_nearest_earlier_on_tie(void)
{
    static const char *const spec[] = { "a@2024-01-01", "b@2024-01-11", "c@2024-01-21",
                                        "d@2024-02-01" };
    cnp_batch_fp fp = fp_of(spec, 4);
    /* 2024-01-16 is 5 days from b and from c: the earlier, b, is the baseline. */
    const cnp_batch_plan p = plan_of(CNP_PAIRS_BASELINE, "2024-01-16", 0);
    CHECK(cnp_batch_pair_up(&p, &fp) == 0);
    CHECK(fp.npair == 2);
    CHECK(strcmp(fp.pair[0].dir, "b__c") == 0 && strcmp(fp.pair[1].dir, "b__d") == 0);
    CHECK(fp.pair[1].gap_days == 21);
    free(fp.pair);
}

static void one_scene_no_pair(void)
{
    static const char *const spec[] = { "a@2024-01-01" };
    cnp_batch_fp fp = fp_of(spec, 1);
    const cnp_batch_plan p = plan_of(CNP_PAIRS_CONSECUTIVE, NULL, 0);
    CHECK(cnp_batch_pair_up(&p, &fp) == 0 && fp.npair == 0 && fp.work == 0);
    free(fp.pair);
}

/* Two rasters with one stem in two folders: the folder's name in front;
 * what still clashes gets -2, -3. */
static void unique_ids(void)
{
    static const char *const spec[] = { "scene@2024-01-01", "scene@2024-02-01",
                                        "x@2024-03-01", "x@2024-04-01" };
    cnp_batch_fp fp = fp_of(spec, 4);
    char *paths[4] = { strdup("/data/placeA/scene.tif"), strdup("/data/placeB/scene.tif"),
                       strdup("/d/same/x.tif"), strdup("/e/same/x.tif") };
    for (int i = 0; i < 4; i++)
        S[i].path = paths[i];
    cnp_batch_unique_ids(&fp);
    CHECK(strcmp(S[0].id, "placeA_scene") == 0 && strcmp(S[1].id, "placeB_scene") == 0);
    CHECK(strcmp(S[2].id, "same_x") == 0 && strcmp(S[3].id, "same_x-2") == 0);
    for (int i = 0; i < 4; i++)
        free(paths[i]);
}

int main(void)
{
    static const cnp_test_case cases[] = {
        TEST_CASE(days),
        TEST_CASE(sorted_by_date_then_id),
        TEST_CASE(consecutive),
        TEST_CASE(same_date_and_max_gap_skipped),
        TEST_CASE(baseline_nearest_earlier_on_tie),
        TEST_CASE(one_scene_no_pair),
        TEST_CASE(unique_ids),
    };
    return cnp_test_run_all("batch_pair", cases, sizeof cases / sizeof cases[0]);
}
