/* zf_dgemm: f64 GEMM on the shared blocked driver (gemm.c), with its
 * packers and three microkernels: AVX-512 14 x 16, AVX2+FMA 6 x 8 and
 * portable 4 x 8, chosen once at run time. See gemm.h for the contract. */
#include "engine/cpu/gemm.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ZF_HAVE_X86 1
#endif

/* ---- Packers (layouts in gemm.h) ---- */

void zf_gemm_pack_a_f64(void *dst_, const void *a_, int64_t lda, bool trans, int64_t mc,
                        int64_t kc, int mr) {
    double *dst = dst_;
    const double *a = a_;
    for (int64_t i0 = 0; i0 < mc; i0 += mr, dst += (int64_t)mr * kc) {
        const int rows = mc - i0 < mr ? (int)(mc - i0) : mr;
        if (trans) {
            for (int64_t k = 0; k < kc; k++) {
                double *d = dst + k * mr;
                memcpy(d, a + k * lda + i0, sizeof(*d) * (size_t)rows);
                for (int i = rows; i < mr; i++) d[i] = 0.0;
            }
        } else {
            for (int i = 0; i < rows; i++) {
                const double *src = a + (i0 + i) * lda;
                for (int64_t k = 0; k < kc; k++) dst[k * mr + i] = src[k];
            }
            for (int i = rows; i < mr; i++)
                for (int64_t k = 0; k < kc; k++) dst[k * mr + i] = 0.0;
        }
    }
}

void zf_gemm_pack_b_f64(void *dst_, const void *b_, int64_t ldb, bool trans, int64_t kc,
                        int64_t nc, int nr) {
    double *dst = dst_;
    const double *b = b_;
    for (int64_t j0 = 0; j0 < nc; j0 += nr, dst += (int64_t)nr * kc) {
        const int cols = nc - j0 < nr ? (int)(nc - j0) : nr;
        if (!trans) {
            for (int64_t k = 0; k < kc; k++) {
                double *d = dst + k * nr;
                memcpy(d, b + k * ldb + j0, sizeof(*d) * (size_t)cols);
                for (int j = cols; j < nr; j++) d[j] = 0.0;
            }
        } else {
            for (int j = 0; j < cols; j++) {
                const double *src = b + (j0 + j) * ldb;
                for (int64_t k = 0; k < kc; k++) dst[k * nr + j] = src[k];
            }
            for (int j = cols; j < nr; j++)
                for (int64_t k = 0; k < kc; k++) dst[k * nr + j] = 0.0;
        }
    }
}

/* Writes C[0:m, 0:n] = alpha * tile + beta * C from a row-major tile with
 * row stride `ts` (beta == 0: C not read). */
static void store_tile(const double *tile, int ts, double *c, int64_t ldc, double alpha,
                       double beta, int m, int n) {
    for (int i = 0; i < m; i++) {
        double *ci = c + i * ldc;
        const double *ti = tile + i * ts;
        if (beta == 0.0)
            for (int j = 0; j < n; j++) ci[j] = alpha * ti[j];
        else
            for (int j = 0; j < n; j++) ci[j] = alpha * ti[j] + beta * ci[j];
    }
}

/* ---- Portable microkernel: 4 x 8 ---- */

static void micro_generic_4x8(int64_t kc, const void *a_, const void *b_, void *c, int64_t ldc,
                              double alpha, double beta, int m, int n) {
    const double *a = a_, *b = b_;
    double acc[4][8] = {{0}};
    for (int64_t k = 0; k < kc; k++, a += 4, b += 8)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 8; j++) acc[i][j] += a[i] * b[j];
    store_tile(&acc[0][0], 8, c, ldc, alpha, beta, m, n);
}

static const zf_gemm_kernel dgemm_kernel_generic = {
    .name = "f64-generic-4x8",
    .isa = ZF_GEMM_ISA_NONE,
    .esize = sizeof(double),
    .mr = 4, .nr = 8,
    .mc = 128, .kc = 256, .nc = 2048,
    .pack_a = zf_gemm_pack_a_f64,
    .pack_b = zf_gemm_pack_b_f64,
    .micro = micro_generic_4x8,
};

#ifdef ZF_HAVE_X86
/* ---- AVX-512: 14 x 16 tile in 28 zmm accumulators ---- */

#define ZF_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))

static ZF_AVX512 void micro_avx512_14x16(int64_t kc, const void *a_, const void *b_, void *c_,
                                         int64_t ldc, double alpha, double beta, int m, int n) {
    const double *a = a_; /* [kc, 14] */
    const double *b = b_; /* [kc, 16], 64-byte aligned rows */
    double *c = c_;
    __m512d acc0[14], acc1[14]; /* C[i][0:8], C[i][8:16] */
#pragma GCC unroll 14
    for (int i = 0; i < 14; i++) acc0[i] = acc1[i] = _mm512_setzero_pd();
    for (int64_t k = 0; k < kc; k++, a += 14, b += 16) {
        const __m512d b0 = _mm512_load_pd(b), b1 = _mm512_load_pd(b + 8);
#pragma GCC unroll 14
        for (int i = 0; i < 14; i++) {
            const __m512d ai = _mm512_set1_pd(a[i]);
            acc0[i] = _mm512_fmadd_pd(ai, b0, acc0[i]);
            acc1[i] = _mm512_fmadd_pd(ai, b1, acc1[i]);
        }
    }
    if (n == 16) {
        const __m512d va = _mm512_set1_pd(alpha), vb = _mm512_set1_pd(beta);
#pragma GCC unroll 14
        for (int i = 0; i < 14; i++) {
            if (i >= m) break;
            double *ci = c + i * ldc;
            __m512d r0 = _mm512_mul_pd(va, acc0[i]), r1 = _mm512_mul_pd(va, acc1[i]);
            if (beta != 0.0) {
                r0 = _mm512_fmadd_pd(vb, _mm512_loadu_pd(ci), r0);
                r1 = _mm512_fmadd_pd(vb, _mm512_loadu_pd(ci + 8), r1);
            }
            _mm512_storeu_pd(ci, r0);
            _mm512_storeu_pd(ci + 8, r1);
        }
        return;
    }
    double tile[14][16];
#pragma GCC unroll 14
    for (int i = 0; i < 14; i++) {
        _mm512_storeu_pd(tile[i], acc0[i]);
        _mm512_storeu_pd(tile[i] + 8, acc1[i]);
    }
    store_tile(&tile[0][0], 16, c, ldc, alpha, beta, m, n);
}

static const zf_gemm_kernel dgemm_kernel_avx512 = {
    .name = "f64-avx512-14x16",
    .isa = ZF_GEMM_ISA_AVX512,
    .esize = sizeof(double),
    .mr = 14, .nr = 16,
    .mc = 14 * 12, .kc = 256, .nc = 2048,
    .pack_a = zf_gemm_pack_a_f64,
    .pack_b = zf_gemm_pack_b_f64,
    .micro = micro_avx512_14x16,
};

/* ---- AVX2+FMA: 6 x 8 tile in 12 ymm accumulators ---- */

#define ZF_AVX2 __attribute__((target("avx2,fma")))

static ZF_AVX2 void micro_avx2_6x8(int64_t kc, const void *a_, const void *b_, void *c,
                                   int64_t ldc, double alpha, double beta, int m, int n) {
    const double *a = a_; /* [kc, 6] */
    const double *b = b_; /* [kc, 8], 64-byte aligned rows */
    __m256d acc0[6], acc1[6]; /* C[i][0:4], C[i][4:8] */
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++) acc0[i] = acc1[i] = _mm256_setzero_pd();
    for (int64_t k = 0; k < kc; k++, a += 6, b += 8) {
        const __m256d b0 = _mm256_load_pd(b), b1 = _mm256_load_pd(b + 4);
#pragma GCC unroll 6
        for (int i = 0; i < 6; i++) {
            const __m256d ai = _mm256_broadcast_sd(a + i);
            acc0[i] = _mm256_fmadd_pd(ai, b0, acc0[i]);
            acc1[i] = _mm256_fmadd_pd(ai, b1, acc1[i]);
        }
    }
    double tile[6][8];
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++) {
        _mm256_storeu_pd(tile[i], acc0[i]);
        _mm256_storeu_pd(tile[i] + 4, acc1[i]);
    }
    store_tile(&tile[0][0], 8, c, ldc, alpha, beta, m, n);
}

static const zf_gemm_kernel dgemm_kernel_avx2 = {
    .name = "f64-avx2-6x8",
    .isa = ZF_GEMM_ISA_AVX2,
    .esize = sizeof(double),
    .mr = 6, .nr = 8,
    .mc = 6 * 24, .kc = 256, .nc = 2048,
    .pack_a = zf_gemm_pack_a_f64,
    .pack_b = zf_gemm_pack_b_f64,
    .micro = micro_avx2_6x8,
};
#endif

const zf_gemm_kernel *const zf_dgemm_kernels[] = {
#ifdef ZF_HAVE_X86
    &dgemm_kernel_avx512,
    &dgemm_kernel_avx2,
#endif
    &dgemm_kernel_generic,
};

static const zf_gemm_kernel *g_dgemm_kernel;
static pthread_once_t g_dgemm_once = PTHREAD_ONCE_INIT;

static void dgemm_pick_kernel(void) {
    const zf_gemm_kernel *const *k = zf_dgemm_kernels;
    while (!zf_gemm_isa_supported((*k)->isa)) k++; /* the last one is portable */
    g_dgemm_kernel = *k;
}

const zf_gemm_kernel *zf_dgemm_kernel(void) {
    pthread_once(&g_dgemm_once, dgemm_pick_kernel);
    return g_dgemm_kernel;
}

/* ---- Entry point ---- */

/* Tiny problems skip packing (see the f32 twin in gemm_f32.c). */
#define DGEMM_SMALL_FMAS (5 * 5 * 5)
#define SMALL_MAX_N 64

/* One row of C at a time with N independent accumulators; N <= SMALL_MAX_N. */
static void dgemm_small(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                        const double *A, int64_t lda, const double *B, int64_t ldb, double beta,
                        double *C, int64_t ldc) {
    const int64_t sa_i = ta ? 1 : lda, sa_k = ta ? lda : 1; /* op(A)[i][k] = A[i*sa_i + k*sa_k] */
    const int64_t sb_k = tb ? 1 : ldb, sb_j = tb ? ldb : 1; /* op(B)[k][j] = B[k*sb_k + j*sb_j] */
    double acc[SMALL_MAX_N];
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) acc[j] = 0.0;
        for (int64_t k = 0; k < K; k++) {
            const double a = A[i * sa_i + k * sa_k];
            const double *b = B + k * sb_k;
            for (int64_t j = 0; j < N; j++) acc[j] += a * b[j * sb_j];
        }
        double *ci = C + i * ldc;
        for (int64_t j = 0; j < N; j++)
            ci[j] = beta == 0.0 ? alpha * acc[j] : alpha * acc[j] + beta * ci[j];
    }
}

zf_status zf_dgemm(zf_threadpool *pool, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                   double alpha, const double *A, int64_t lda, const double *B, int64_t ldb,
                   double beta, double *C, int64_t ldc) {
    zf_status st = zf_gemm_check_args("zf_dgemm", trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc);
    if (st != ZF_OK) return st;
    if (M == 0 || N == 0) return ZF_OK;
    if (K == 0 || alpha == 0.0) { /* C = beta * C; beta == 0: C not read */
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                C[i * ldc + j] = beta == 0.0 ? 0.0 : beta * C[i * ldc + j];
        return ZF_OK;
    }
    if (N <= SMALL_MAX_N && (double)M * (double)N * (double)K <= DGEMM_SMALL_FMAS) {
        dgemm_small(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return ZF_OK;
    }
    return zf_gemm_blocked(zf_dgemm_kernel(), pool, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
                           beta, C, ldc);
}
