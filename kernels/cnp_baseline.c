/* kernels/cnp_baseline.c - per-pixel median over K dates (insertion sort
 * of at most CNP_BASELINE_MAX values on the stack). */
#include "cnp_baseline.h"

#include <math.h>

double cnp_baseline_median1(const float *v, int k, int min_obs, int *count)
{
    float s[CNP_BASELINE_MAX];
    int m = 0;

    for (int j = 0; j < k; j++) {
        const float x = v[j];
        if (x != x)
            continue;
        int i = m++;
        while (i > 0 && s[i - 1] > x) {
            s[i] = s[i - 1];
            i--;
        }
        s[i] = x;
    }
    *count = m;
    if (m < min_obs || m == 0)
        return NAN;
    return m % 2 ? (double)s[m / 2] : 0.5 * ((double)s[m / 2 - 1] + (double)s[m / 2]);
}

cnp_status cnp_baseline_median(const float *const *ndvi, int k, size_t n, int min_obs,
                               float *out, uint8_t *count)
{
    if (k < 1 || k > CNP_BASELINE_MAX || min_obs < 1 || min_obs > k)
        return CNP_E_ARG;
    if (n == 0)
        return CNP_OK;
    if (!ndvi || !out)
        return CNP_E_ARG;
    for (int j = 0; j < k; j++)
        if (!ndvi[j])
            return CNP_E_ARG;

    #pragma omp parallel for schedule(static) default(none) if (n > 65536) \
        shared(ndvi, k, n, min_obs, out, count)
    for (size_t i = 0; i < n; i++) {
        float v[CNP_BASELINE_MAX];
        int c;
        for (int j = 0; j < k; j++)
            v[j] = ndvi[j][i];
        out[i] = (float)cnp_baseline_median1(v, k, min_obs, &c);
        if (count)
            count[i] = (uint8_t)c;
    }
    return CNP_OK;
}
