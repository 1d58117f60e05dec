/* kernels/cnp_classes.c - class-byte loops of a pass (cnp_classes.h). The
 * loops run over every pixel of a tile: without branches, the compiler
 * vectorises them (counts as sums of comparisons rather than an increment
 * through the class, which would chain each pixel to the last). */
#include "cnp_classes.h"
#include "cnp_change.h"
#include "cnp_vector.h"

#include <math.h>

CNP_VECTOR_CLONES void cnp_classes_pack(uint8_t *restrict cls, const uint8_t *restrict flag,
                                        size_t n)
{
    for (size_t i = 0; i < n; i++)
        cls[i] = (uint8_t)(cls[i] | (flag[i] != 0 ? CNP_CLASS_FLAG : 0));
}

CNP_VECTOR_CLONES void cnp_classes_unpack(uint8_t *restrict cls, uint8_t *restrict flag, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        flag[i] = (uint8_t)((cls[i] & CNP_CLASS_FLAG) != 0);
        cls[i] = (uint8_t)(cls[i] & ~CNP_CLASS_FLAG);
    }
}

CNP_VECTOR_CLONES int64_t cnp_classes_unobserve(uint8_t *restrict cls,
                                                const uint8_t *restrict flags, uint8_t bit,
                                                size_t n)
{
    int64_t changed = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t c = cls[i];
        const uint8_t h = (uint8_t)(((flags[i] & bit) != 0) & (c != CNP_CLASS_UNOBSERVED));
        changed += h;
        cls[i] = h ? (uint8_t)CNP_CLASS_UNOBSERVED : c;
    }
    return changed;
}

/* A chunk of the split, then its counts in 32 bits (n <= CHUNK): two
 * loops, each of which vectorises. */
CNP_VECTOR_CLONES static void resplit_chunk(uint8_t *restrict cls, const float *restrict dndvi,
                                            float loss_at, size_t n, int32_t *restrict counts)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t cl = cls[i];
        const uint8_t forest = (uint8_t)-(cl >= CNP_CLASS_FOREST);     /* 0 or 0xff */
        const uint8_t lost = dndvi[i] <= loss_at;
        cls[i] = (uint8_t)((cl & ~forest) | ((CNP_CLASS_FOREST + lost) & forest));
    }
    int32_t other = 0, forest = 0, loss = 0;
    for (size_t i = 0; i < n; i++) {
        other += cls[i] == CNP_CLASS_OTHER;
        forest += cls[i] == CNP_CLASS_FOREST;
        loss += cls[i] == CNP_CLASS_LOSS;
    }
    counts[0] = other;
    counts[1] = forest;
    counts[2] = loss;
}

void cnp_classes_resplit(uint8_t *cls, const float *dndvi, double loss_at, size_t n,
                         int64_t counts[4])
{
    /* (double)d <= loss_at for a float d exactly when d <= the largest
     * float not above loss_at: the test in single precision, 8 a vector. */
    float at = (float)loss_at;
    if ((double)at > loss_at)
        at = nextafterf(at, -INFINITY);
    enum { CHUNK = 4096 };
    for (size_t i = 0; i < n; i += CHUNK) {
        const size_t m = n - i < CHUNK ? n - i : CHUNK;
        int32_t c[3];
        resplit_chunk(cls + i, dndvi + i, at, m, c);
        counts[CNP_CLASS_UNOBSERVED] += (int64_t)m - c[0] - c[1] - c[2];
        counts[CNP_CLASS_OTHER] += c[0];
        counts[CNP_CLASS_FOREST] += c[1];
        counts[CNP_CLASS_LOSS] += c[2];
    }
}

CNP_VECTOR_CLONES void cnp_classes_u16(const float *restrict in, size_t n, uint16_t *restrict out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint16_t)in[i];
}
