/* tests/unit/test_classes.c - the class-byte loops of a pass
 * (kernels/cnp_classes), each against the rule written one pixel at a
 * time: the flag bit round trip, haze flags making pixels unobserved, the
 * forest split again at the threshold (floats on both sides of it, NaN),
 * and DNs kept as UInt16. Lengths not multiples of any vector or chunk. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "cnp_change.h"
#include "cnp_classes.h"
#include "cnp_test.h"

enum { N = 10007 };

static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

static void test_pack_unpack(void)
{
    static uint8_t cls[N], orig[N], flag[N], back[N];
    uint64_t x = 7;
    for (int i = 0; i < N; i++) {
        orig[i] = cls[i] = (uint8_t)(next(&x) % 4);
        flag[i] = (uint8_t)(next(&x) % 3 == 0 ? 0 : next(&x) % 256);   /* any non-zero */
    }
    cnp_classes_pack(cls, flag, N);
    int bad = 0;
    for (int i = 0; i < N; i++)
        bad += cls[i] != (uint8_t)(orig[i] | (flag[i] ? CNP_CLASS_FLAG : 0));
    CHECK(bad == 0);
    cnp_classes_unpack(cls, back, N);
    for (int i = 0; i < N; i++)
        bad += cls[i] != orig[i] || back[i] != (flag[i] != 0);
    CHECK(bad == 0);
}

static void test_unobserve(void)
{
    static uint8_t cls[N], want[N], flags[N];
    uint64_t x = 11;
    int64_t changed = 0;
    for (int i = 0; i < N; i++) {
        want[i] = cls[i] = (uint8_t)(next(&x) % 4);
        flags[i] = (uint8_t)(next(&x) % 4);
        if ((flags[i] & 1) && cls[i] != CNP_CLASS_UNOBSERVED) {
            want[i] = CNP_CLASS_UNOBSERVED;
            changed++;
        }
    }
    CHECK(cnp_classes_unobserve(cls, flags, 1, N) == changed);
    CHECK(memcmp(cls, want, N) == 0);
    CHECK(changed > 1000);
}

/* The split at loss_at, tested in double as the rule says, on floats right
 * at, just above and just below thresholds that are and are not floats. */
static void test_resplit(void)
{
    static const double at[] = { -0.15, -0.2, -0.25, -0.1 + 1e-12, 0.0 };
    static uint8_t cls[N], want[N];
    static float d[N];
    for (size_t t = 0; t < sizeof at / sizeof at[0]; t++) {
        uint64_t x = 3 + t;
        int64_t want_n[4] = { 5, 6, 7, 8 }, got_n[4] = { 5, 6, 7, 8 };
        const float f = (float)at[t];
        for (int i = 0; i < N; i++) {
            cls[i] = (uint8_t)(next(&x) % 4);
            const int k = (int)(next(&x) % 6);
            d[i] = k == 0 ? f : k == 1 ? nextafterf(f, 1.0f) : k == 2 ? nextafterf(f, -1.0f)
                 : k == 3 ? NAN : (float)((double)(next(&x) % 2000) / 1000.0 - 1.0);
            const uint8_t c = cls[i];
            want[i] = c >= CNP_CLASS_FOREST
                          ? (uint8_t)((double)d[i] <= at[t] ? CNP_CLASS_LOSS : CNP_CLASS_FOREST)
                          : c;
            want_n[want[i]]++;
        }
        cnp_classes_resplit(cls, d, at[t], N, got_n);
        CHECK(memcmp(cls, want, N) == 0);
        CHECK(memcmp(got_n, want_n, sizeof got_n) == 0);
    }
}

static void test_u16(void)
{
    static float in[N];
    static uint16_t out[N];
    for (int i = 0; i < N; i++)
        in[i] = (float)(i * 7 % 65536);
    in[0] = 65535.0f;
    cnp_classes_u16(in, N, out);
    int bad = 0;
    for (int i = 0; i < N; i++)
        bad += out[i] != (uint16_t)in[i];
    CHECK(bad == 0 && out[0] == 65535);
}

CNP_TEST_MAIN("classes",
              TEST_CASE(test_pack_unpack),
              TEST_CASE(test_unobserve),
              TEST_CASE(test_resplit),
              TEST_CASE(test_u16))
