/* kernels/cnp_vector.h - CNP_VECTOR_CLONES: on x86-64 (GCC), an AVX2 copy
 * of a branch-free pixel loop beside the baseline one, picked at load time.
 * The loops do the same operations in the same order (no contraction), so
 * both copies give the same bits. Not under ASan or clang. */
#ifndef CNP_VECTOR_H
#define CNP_VECTOR_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define CNP_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CNP_VECTOR_CLONES
#endif

#endif /* CNP_VECTOR_H */
