/* zerfoo — OpenBLAS (or any CBLAS) loaded at run time with dlopen.
 *
 * There is no link-time dependency on BLAS: the first call looks for
 * libopenblas.so.0, libopenblas.so, libcblas.so.3 and libblas.so.3 (in that
 * order) and takes cblas_sgemm / cblas_dgemm from the first library that
 * has both. openblas_set_num_threads is used when present. Initialisation
 * is thread safe (pthread_once); the library stays loaded for the life of
 * the process.
 *
 * zf_blas_sgemm / zf_blas_dgemm take the same arguments as zf_sgemm /
 * zf_dgemm (engine/cpu/gemm.h) minus the pool: row-major, op(A) [M, K],
 * op(B) [K, N], C [M, N], C = alpha op(A) op(B) + beta C; beta == 0 means C
 * is not read. Sizes and leading dimensions must fit in a C int (LP64
 * CBLAS), else ZF_ERR_UNSUPPORTED. */
#ifndef ZF_ENGINE_BLAS_LOADER_H
#define ZF_ENGINE_BLAS_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include "zerfoo/error.h"

/* True when a CBLAS library with sgemm and dgemm was found. */
bool zf_blas_available(void);
/* The file name of the loaded library, or NULL. */
const char *zf_blas_library(void);

/* ZF_ERR_UNSUPPORTED when no BLAS is loaded. */
zf_status zf_blas_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                        const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                        float *C, int64_t ldc);
zf_status zf_blas_dgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
                        const double *A, int64_t lda, const double *B, int64_t ldb, double beta,
                        double *C, int64_t ldc);

/* Sets OpenBLAS's thread count (n >= 1); a no-op for a library without
 * openblas_set_num_threads, or when none is loaded. */
void zf_blas_set_threads(int n);

#endif
