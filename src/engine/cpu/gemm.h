/* zerfoo — the CPU engine's own dense matrix multiply (internal header).
 *
 *   C = alpha * op(A) * op(B) + beta * C
 *
 * All matrices are row-major with leading dimensions (row strides, in
 * elements) lda, ldb, ldc. op(A) is [M, K]: A itself is [M, K] (lda >= K), or
 * [K, M] when trans_a (lda >= M). op(B) is [K, N]: B is [K, N] (ldb >= N), or
 * [N, K] when trans_b (ldb >= K). C is [M, N] (ldc >= N). beta == 0 means C
 * is write-only: it is never read, so it may hold NaN or garbage. Leading
 * dimensions must be >= 1 even when the matrix is empty, as in BLAS.
 *
 * The implementation is a blocked GEMM in the GotoBLAS/BLIS style (see
 * gemm.c): op(B) is packed into [kc, nc] panels, op(A) into [mc, kc] blocks,
 * and a register-blocked microkernel (AVX-512, AVX2+FMA or portable C,
 * chosen at run time) computes mr x nr tiles of C from them. Work is split
 * over `pool` (NULL: the calling thread only). Packing buffers are cached per
 * thread and reused; a call allocates only when a buffer must grow.
 *
 * These functions must not be called from inside a job of the same pool. */
#ifndef ZF_ENGINE_CPU_GEMM_H
#define ZF_ENGINE_CPU_GEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zerfoo/error.h"
#include "zerfoo/threadpool.h"

zf_status zf_sgemm(zf_threadpool *pool, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                   float alpha, const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                   float *C, int64_t ldc);

zf_status zf_dgemm(zf_threadpool *pool, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                   double alpha, const double *A, int64_t lda, const double *B, int64_t ldb,
                   double beta, double *C, int64_t ldc);

/* ---- Internals shared by gemm.c and the per-type, per-ISA kernel files ---- */

/* Packs the [mc, kc] block of op(A) whose top-left element is at `a` into
 * ceil(mc/mr) micro-panels of [kc, mr] (element (i, k) of panel p at
 * dst[p*mr*kc + k*mr + i%mr]); rows past mc are zero. `a` points at A[i0][k0]
 * (A[k0][i0] when trans). */
typedef void (*zf_gemm_pack_a_fn)(void *dst, const void *a, int64_t lda, bool trans, int64_t mc,
                                  int64_t kc, int mr);
/* Packs the [kc, nc] block of op(B) at `b` into ceil(nc/nr) micro-panels of
 * [kc, nr] (element (k, j) of panel p at dst[p*nr*kc + k*nr + j%nr]);
 * columns past nc are zero. `b` points at B[k0][j0] (B[j0][k0] when trans). */
typedef void (*zf_gemm_pack_b_fn)(void *dst, const void *b, int64_t ldb, bool trans, int64_t kc,
                                  int64_t nc, int nr);
/* C[0:m, 0:n] = alpha * (a * b) + beta * C, where a is one packed [kc, mr]
 * micro-panel of A, b one packed [kc, nr] micro-panel of B, m <= mr, n <= nr.
 * kc >= 1. beta == 0: C is not read. alpha and beta are of the element type,
 * passed as double (exact for float). */
typedef void (*zf_gemm_micro_fn)(int64_t kc, const void *a, const void *b, void *c, int64_t ldc,
                                 double alpha, double beta, int m, int n);

/* Instruction sets a microkernel may need. */
typedef enum zf_gemm_isa {
    ZF_GEMM_ISA_NONE = 0, /* portable C */
    ZF_GEMM_ISA_AVX2,     /* AVX2 + FMA */
    ZF_GEMM_ISA_AVX512,   /* AVX-512 F/BW/VL + FMA */
} zf_gemm_isa;

/* True when this CPU can run code built for `isa`. */
bool zf_gemm_isa_supported(zf_gemm_isa isa);

/* One microkernel with the packers that feed it and its cache blocking. */
typedef struct zf_gemm_kernel {
    const char *name;
    zf_gemm_isa isa;
    size_t esize;       /* bytes per element: 4 (f32) or 8 (f64) */
    int mr, nr;         /* register tile of C; nr * esize % 64 == 0, so packed B
                           micro-panels (in a page-aligned buffer) start and
                           stay 64-byte aligned and kernels may use aligned loads */
    int64_t mc, kc, nc; /* cache blocks: mc % mr == 0, nc % nr == 0 */
    zf_gemm_pack_a_fn pack_a;
    zf_gemm_pack_b_fn pack_b;
    zf_gemm_micro_fn micro;
} zf_gemm_kernel;

/* Runs the blocked GEMM with `kern`. Arguments already checked: M, N, K >= 1,
 * alpha != 0, pointers valid. Returns ZF_ERR_OOM (message set) when a packing
 * buffer cannot be allocated. */
zf_status zf_gemm_blocked(const zf_gemm_kernel *kern, zf_threadpool *pool, bool trans_a,
                          bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
                          const void *A, int64_t lda, const void *B, int64_t ldb, double beta,
                          void *C, int64_t ldc);

/* Checks the arguments shared by zf_sgemm and zf_dgemm (sizes, leading
 * dimensions, NULL pointers). `who` names the caller in the message. */
zf_status zf_gemm_check_args(const char *who, bool trans_a, bool trans_b, int64_t M, int64_t N,
                             int64_t K, const void *A, int64_t lda, const void *B, int64_t ldb,
                             const void *C, int64_t ldc);

/* Portable packers for any mr / nr (gemm_f32.c, gemm_f64.c). */
void zf_gemm_pack_a_f32(void *dst, const void *a, int64_t lda, bool trans, int64_t mc, int64_t kc,
                        int mr);
void zf_gemm_pack_b_f32(void *dst, const void *b, int64_t ldb, bool trans, int64_t kc, int64_t nc,
                        int nr);
void zf_gemm_pack_a_f64(void *dst, const void *a, int64_t lda, bool trans, int64_t mc, int64_t kc,
                        int mr);
void zf_gemm_pack_b_f64(void *dst, const void *b, int64_t ldb, bool trans, int64_t kc, int64_t nc,
                        int nr);

/* The microkernels, best first; each list ends with the portable one. Only a
 * CPU for which zf_gemm_isa_supported(k->isa) may run kernel k. */
extern const zf_gemm_kernel *const zf_sgemm_kernels[];
extern const zf_gemm_kernel *const zf_dgemm_kernels[];
/* The first kernel of each list that this CPU supports, chosen once. */
const zf_gemm_kernel *zf_sgemm_kernel(void);
const zf_gemm_kernel *zf_dgemm_kernel(void);

/* Per-ISA f32 kernels (x86 builds only; gemm_f32_avx512.c, gemm_f32_avx2.c). */
extern const zf_gemm_kernel zf_sgemm_kernel_avx512;
extern const zf_gemm_kernel zf_sgemm_kernel_avx2;

#endif
