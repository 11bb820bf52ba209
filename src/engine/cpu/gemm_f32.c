/* zf_sgemm: f32 GEMM entry point, generic packers, portable microkernel and
 * the run-time choice of microkernel. See gemm.h for the contract. */
#include "engine/cpu/gemm.h"

#include <pthread.h>
#include <string.h>

/* ---- Generic packers (any mr / nr); layouts are described in gemm.h ---- */

void zf_gemm_pack_a_f32(void *dst_, const void *a_, int64_t lda, bool trans, int64_t mc,
                        int64_t kc, int mr) {
    float *dst = dst_;
    const float *a = a_;
    for (int64_t i0 = 0; i0 < mc; i0 += mr, dst += (int64_t)mr * kc) {
        const int rows = mc - i0 < mr ? (int)(mc - i0) : mr;
        if (trans) { /* op(A)[i][k] = a[k*lda + i]: rows of the panel are contiguous */
            for (int64_t k = 0; k < kc; k++) {
                float *d = dst + k * mr;
                memcpy(d, a + k * lda + i0, sizeof(*d) * (size_t)rows);
                for (int i = rows; i < mr; i++) d[i] = 0.0f;
            }
        } else { /* op(A)[i][k] = a[i*lda + k]: read along k, write with stride mr */
            for (int i = 0; i < rows; i++) {
                const float *src = a + (i0 + i) * lda;
                for (int64_t k = 0; k < kc; k++) dst[k * mr + i] = src[k];
            }
            for (int i = rows; i < mr; i++)
                for (int64_t k = 0; k < kc; k++) dst[k * mr + i] = 0.0f;
        }
    }
}

void zf_gemm_pack_b_f32(void *dst_, const void *b_, int64_t ldb, bool trans, int64_t kc,
                        int64_t nc, int nr) {
    float *dst = dst_;
    const float *b = b_;
    for (int64_t j0 = 0; j0 < nc; j0 += nr, dst += (int64_t)nr * kc) {
        const int cols = nc - j0 < nr ? (int)(nc - j0) : nr;
        if (!trans) { /* op(B)[k][j] = b[k*ldb + j]: copy row segments */
            for (int64_t k = 0; k < kc; k++) {
                float *d = dst + k * nr;
                memcpy(d, b + k * ldb + j0, sizeof(*d) * (size_t)cols);
                for (int j = cols; j < nr; j++) d[j] = 0.0f;
            }
        } else { /* op(B)[k][j] = b[j*ldb + k]: read along k, write with stride nr */
            for (int j = 0; j < cols; j++) {
                const float *src = b + (j0 + j) * ldb;
                for (int64_t k = 0; k < kc; k++) dst[k * nr + j] = src[k];
            }
            for (int j = cols; j < nr; j++)
                for (int64_t k = 0; k < kc; k++) dst[k * nr + j] = 0.0f;
        }
    }
}

/* ---- Portable microkernel: 4 x 16 ---- */

#define GEN_MR 4
#define GEN_NR 16

static void sgemm_micro_generic(int64_t kc, const void *a_, const void *b_, void *c_, int64_t ldc,
                                double alpha_d, double beta_d, int m, int n) {
    const float *a = a_, *b = b_;
    float *c = c_;
    const float alpha = (float)alpha_d, beta = (float)beta_d;
    float acc[GEN_MR][GEN_NR] = {{0}};
    for (int64_t k = 0; k < kc; k++, a += GEN_MR, b += GEN_NR)
        for (int i = 0; i < GEN_MR; i++)
            for (int j = 0; j < GEN_NR; j++) acc[i][j] += a[i] * b[j];
    for (int i = 0; i < m; i++) {
        float *ci = c + i * ldc;
        if (beta == 0.0f)
            for (int j = 0; j < n; j++) ci[j] = alpha * acc[i][j];
        else
            for (int j = 0; j < n; j++) ci[j] = alpha * acc[i][j] + beta * ci[j];
    }
}

static const zf_gemm_kernel sgemm_kernel_generic = {
    .name = "f32-generic-4x16",
    .isa = ZF_GEMM_ISA_NONE,
    .esize = sizeof(float),
    .mr = GEN_MR, .nr = GEN_NR,
    .mc = 128, .kc = 256, .nc = 2048,
    .pack_a = zf_gemm_pack_a_f32,
    .pack_b = zf_gemm_pack_b_f32,
    .micro = sgemm_micro_generic,
};

/* ---- Kernel choice, once per process ---- */

const zf_gemm_kernel *const zf_sgemm_kernels[] = {
#if defined(__x86_64__) || defined(__i386__)
    &zf_sgemm_kernel_avx512,
    &zf_sgemm_kernel_avx2,
#endif
    &sgemm_kernel_generic,
};

static const zf_gemm_kernel *g_sgemm_kernel;
static pthread_once_t g_sgemm_once = PTHREAD_ONCE_INIT;

static void sgemm_pick_kernel(void) {
    const zf_gemm_kernel *const *k = zf_sgemm_kernels;
    while (!zf_gemm_isa_supported((*k)->isa)) k++; /* the last one is portable */
    g_sgemm_kernel = *k;
}

const zf_gemm_kernel *zf_sgemm_kernel(void) {
    pthread_once(&g_sgemm_once, sgemm_pick_kernel);
    return g_sgemm_kernel;
}

/* ---- Small problems: no packing, no threads ---- */

/* Up to this many multiply-adds (and N <= SMALL_MAX_N) the fixed cost of the
 * packed path (buffers, packing, microkernel set-up) outweighs its speed. */
#define SGEMM_SMALL_FMAS (5 * 5 * 5)
#define SMALL_MAX_N 64

/* One row of C at a time: acc[0:N] += op(A)[i][k] * op(B)[k][0:N] for each k,
 * so the N accumulators are independent (no dependency chain along k).
 * Accumulates in f32 like the blocked path. N <= SMALL_MAX_N. */
static void sgemm_small(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                        const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                        float *C, int64_t ldc) {
    const int64_t sa_i = ta ? 1 : lda, sa_k = ta ? lda : 1; /* op(A)[i][k] = A[i*sa_i + k*sa_k] */
    const int64_t sb_k = tb ? 1 : ldb, sb_j = tb ? ldb : 1; /* op(B)[k][j] = B[k*sb_k + j*sb_j] */
    float acc[SMALL_MAX_N];
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) acc[j] = 0.0f;
        for (int64_t k = 0; k < K; k++) {
            const float a = A[i * sa_i + k * sa_k];
            const float *b = B + k * sb_k;
            for (int64_t j = 0; j < N; j++) acc[j] += a * b[j * sb_j];
        }
        float *ci = C + i * ldc;
        for (int64_t j = 0; j < N; j++)
            ci[j] = beta == 0.0f ? alpha * acc[j] : alpha * acc[j] + beta * ci[j];
    }
}

/* C = beta * C (beta == 0: zero, C not read). */
static void sgemm_scale_c(int64_t M, int64_t N, float beta, float *C, int64_t ldc) {
    for (int64_t i = 0; i < M; i++) {
        float *ci = C + i * ldc;
        if (beta == 0.0f)
            for (int64_t j = 0; j < N; j++) ci[j] = 0.0f;
        else if (beta != 1.0f)
            for (int64_t j = 0; j < N; j++) ci[j] *= beta;
    }
}

zf_status zf_sgemm(zf_threadpool *pool, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                   float alpha, const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                   float *C, int64_t ldc) {
    zf_status st = zf_gemm_check_args("zf_sgemm", trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc);
    if (st != ZF_OK) return st;
    if (M == 0 || N == 0) return ZF_OK;
    if (K == 0 || alpha == 0.0f) {
        sgemm_scale_c(M, N, beta, C, ldc);
        return ZF_OK;
    }
    if (N <= SMALL_MAX_N && (double)M * (double)N * (double)K <= SGEMM_SMALL_FMAS) {
        sgemm_small(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return ZF_OK;
    }
    return zf_gemm_blocked(zf_sgemm_kernel(), pool, trans_a, trans_b, M, N, K, alpha, A, lda, B,
                           ldb, beta, C, ldc);
}
