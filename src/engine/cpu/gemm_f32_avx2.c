/* AVX2+FMA f32 microkernel: a 6 x 16 tile of C in 12 ymm accumulators
 * (2 registers for the packed B row and 1 for the A broadcast: 15 of 16).
 * Compiled for AVX2 by function attribute only; runs only after
 * zf_sgemm_kernel() has checked the CPU. */
#include "engine/cpu/gemm.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define ZF_AVX2 __attribute__((target("avx2,fma")))

#define MR 6
#define NR 16

static ZF_AVX2 void micro_6x16(int64_t kc, const void *a_, const void *b_, void *c_, int64_t ldc,
                               double alpha_d, double beta_d, int m, int n) {
    const float *a = a_; /* [kc, MR] */
    const float *b = b_; /* [kc, NR], 64-byte aligned rows */
    float *c = c_;
    __m256 acc0[MR], acc1[MR]; /* acc0[i]: C[i][0:8], acc1[i]: C[i][8:16] */
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        acc0[i] = _mm256_setzero_ps();
        acc1[i] = _mm256_setzero_ps();
    }
    for (int i = 0; i < m; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
    for (int64_t k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
        for (int i = 0; i < MR; i++) {
            const __m256 ai = _mm256_broadcast_ss(a + i);
            acc0[i] = _mm256_fmadd_ps(ai, b0, acc0[i]);
            acc1[i] = _mm256_fmadd_ps(ai, b1, acc1[i]);
        }
        a += MR;
        b += NR;
    }

    const float alpha = (float)alpha_d, beta = (float)beta_d;
    if (n == NR) {
        const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
        for (int i = 0; i < MR; i++) {
            if (i >= m) break;
            float *ci = c + i * ldc;
            __m256 r0 = _mm256_mul_ps(va, acc0[i]), r1 = _mm256_mul_ps(va, acc1[i]);
            if (beta != 0.0f) {
                r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci), r0);
                r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci + 8), r1);
            }
            _mm256_storeu_ps(ci, r0);
            _mm256_storeu_ps(ci + 8, r1);
        }
        return;
    }
    /* Edge tile: spill the accumulators and finish in scalar code. */
    float tile[MR][NR];
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        _mm256_storeu_ps(tile[i], acc0[i]);
        _mm256_storeu_ps(tile[i] + 8, acc1[i]);
    }
    for (int i = 0; i < m; i++) {
        float *ci = c + i * ldc;
        for (int j = 0; j < n; j++)
            ci[j] = beta == 0.0f ? alpha * tile[i][j] : alpha * tile[i][j] + beta * ci[j];
    }
}

const zf_gemm_kernel zf_sgemm_kernel_avx2 = {
    .name = "f32-avx2-6x16",
    .isa = ZF_GEMM_ISA_AVX2,
    .esize = sizeof(float),
    .mr = MR, .nr = NR,
    .mc = 6 * 32, .kc = 256, .nc = 4096,
    .pack_a = zf_gemm_pack_a_f32,
    .pack_b = zf_gemm_pack_b_f32,
    .micro = micro_6x16,
};

#endif
