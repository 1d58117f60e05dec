/* tests/unit/test_baseline.c - per-pixel median of K baseline scenes
 * (kernels/cnp_baseline).
 *
 * Hand-made pixels (odd and even counts, NaN, one hazy outlier, too few
 * observations) and a large random block checked pixel by pixel against a
 * sort, so the parallel loop is exercised at 1 and 4 threads.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cnp_baseline.h"
#include "cnp_test.h"

static void test_hand_made(void)
{
    /* 4 scenes x 6 pixels */
    static const float S[4][6] = {
        { 0.80f, 0.80f, NAN,   NAN,   0.70f, 0.10f },
        { 0.78f, 0.76f, 0.60f, NAN,   NAN,   0.20f },
        { 0.52f, NAN,   NAN,   NAN,   NAN,   0.30f },   /* 0.52: hazy that year */
        { 0.79f, 0.74f, NAN,   NAN,   NAN,   0.40f },
    };
    const float *ndvi[4] = { S[0], S[1], S[2], S[3] };
    float out[6];
    uint8_t cnt[6];

    CHECK(cnp_baseline_median(ndvi, 4, 6, 1, out, cnt) == CNP_OK);
    CHECK_NEAR(out[0], 0.785, 1e-6);              /* even: mean of 0.78, 0.79   */
    CHECK(cnt[0] == 4);
    CHECK_NEAR(out[1], 0.76, 1e-7);               /* odd: the middle one        */
    CHECK(cnt[1] == 3);
    CHECK_NEAR(out[2], 0.60, 1e-7);
    CHECK(isnan(out[3]) && cnt[3] == 0);
    CHECK_NEAR(out[5], 0.25, 1e-7);
    CHECK(cnp_baseline_median(ndvi, 4, 6, 2, out, NULL) == CNP_OK);
    CHECK(isnan(out[2]) && isnan(out[4]) && !isnan(out[1]));   /* one is not enough */

    int c = -1;
    CHECK(isnan(cnp_baseline_median1(S[0], 0, 1, &c)) && c == 0);
    CHECK(cnp_baseline_median(ndvi, 4, 6, 5, out, cnt) == CNP_E_ARG);
    CHECK(cnp_baseline_median(ndvi, 33, 6, 1, out, cnt) == CNP_E_ARG);
    CHECK(cnp_baseline_median(NULL, 4, 6, 1, out, cnt) == CNP_E_ARG);
    CHECK(cnp_baseline_median(NULL, 4, 0, 1, NULL, NULL) == CNP_OK);
}

static int cmp_float(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void test_against_sort(void)
{
    enum { K = 7, N = 200000 };
    static float s[K][N];
    const float *ndvi[K];
    static float out[N];
    static uint8_t cnt[N];
    uint32_t r = 7;

    for (int k = 0; k < K; k++) {
        ndvi[k] = s[k];
        for (int i = 0; i < N; i++) {
            r ^= r << 13;
            r ^= r >> 17;
            r ^= r << 5;
            s[k][i] = (r & 7) == 0 ? NAN : (float)(r >> 8) / 16777216.0f;
        }
    }
    CHECK(cnp_baseline_median(ndvi, K, N, 2, out, cnt) == CNP_OK);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        float v[K];
        int m = 0;
        for (int k = 0; k < K; k++)
            if (!isnan(s[k][i]))
                v[m++] = s[k][i];
        qsort(v, (size_t)m, sizeof *v, cmp_float);
        const double want = m < 2 ? NAN : m % 2 ? v[m / 2] : 0.5 * ((double)v[m / 2 - 1] + v[m / 2]);
        bad += cnt[i] != m || !(isnan(want) ? isnan(out[i]) : out[i] == (float)want);
    }
    CHECK(bad == 0);
}

CNP_TEST_MAIN("baseline",
              TEST_CASE(test_hand_made),
              TEST_CASE(test_against_sort))
