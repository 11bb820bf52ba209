/* Small f32 matrix products used by the convolution kernels (see
 * conv_gemm.c). Row-major; sizes >= 0; C must not overlap A or B.
 * accumulate: C += product, otherwise C = product (C not read). */
#ifndef ZF_ENGINE_CPU_CONV_GEMM_H
#define ZF_ENGINE_CPU_CONV_GEMM_H

#include <stdbool.h>
#include <stdint.h>

/* C[M, N] = A[M, K] B[K, N]: element (m, k) of A at a[m*ars + k*acs] (so a
 * transposed A is ars = 1, acs = lda), B row-major with row stride ldb. */
void zf_conv_sgemm_nn(int64_t M, int64_t N, int64_t K, const float *a, int64_t ars, int64_t acs, const float *b,
                      int64_t ldb, float *c, int64_t ldc, bool accumulate);
/* C[M, N] = A[M, K] B[N, K]^T: rows of A (stride lda) and of B (stride ldb)
 * are contiguous along k. */
void zf_conv_sgemm_nt(int64_t M, int64_t N, int64_t K, const float *a, int64_t lda, const float *b, int64_t ldb,
                      float *c, int64_t ldc, bool accumulate);

#endif
