/* AVX-512 f32 microkernel: a 14 x 32 tile of C in 28 zmm accumulators.
 *
 * Per k step: two aligned loads of the packed B row (32 floats), 14
 * broadcasts of the packed A column, 28 FMAs; 14 * 32 * 2 = 896 flops per 16
 * loads. With 2 FMA pipes and 4-cycle FMA latency, 28 independent chains keep
 * both pipes busy. Compiled for AVX-512 by function attribute only: this file
 * is built without -m flags and its code runs only after zf_sgemm_kernel()
 * has checked the CPU. */
#include "engine/cpu/gemm.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define ZF_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))

#define MR 14
#define NR 32

/* Masks for columns [0, 16) and [16, 32) of a row of n <= 32 valid floats. */
static inline ZF_AVX512 __mmask16 lo_mask(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}
static inline ZF_AVX512 __mmask16 hi_mask(int n) {
    return n >= 32 ? (__mmask16)0xFFFF : n <= 16 ? (__mmask16)0 : (__mmask16)((1u << (n - 16)) - 1u);
}

static ZF_AVX512 void micro_14x32(int64_t kc, const void *a_, const void *b_, void *c_,
                                  int64_t ldc, double alpha_d, double beta_d, int m, int n) {
    const float *a = a_; /* [kc, MR] */
    const float *b = b_; /* [kc, NR], 64-byte aligned rows */
    float *c = c_;
    __m512 acc0[MR], acc1[MR]; /* acc0[i]: C[i][0:16], acc1[i]: C[i][16:32] */
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) {
        acc0[i] = _mm512_setzero_ps();
        acc1[i] = _mm512_setzero_ps();
    }
    /* Pull the C tile towards L1 while the k loop runs. */
    for (int i = 0; i < m; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + NR - 1), _MM_HINT_T0);
    }
    for (int64_t k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        _mm_prefetch((const char *)(a + 8 * MR), _MM_HINT_T0);
#pragma GCC unroll 14
        for (int i = 0; i < MR; i++) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
            acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
        }
        a += MR;
        b += NR;
    }

    const __m512 va = _mm512_set1_ps((float)alpha_d);
    const float beta = (float)beta_d;
    const __m512 vb = _mm512_set1_ps(beta);
    if (n == NR) {
#pragma GCC unroll 14
        for (int i = 0; i < MR; i++) {
            if (i >= m) break;
            float *ci = c + i * ldc;
            __m512 r0 = _mm512_mul_ps(va, acc0[i]), r1 = _mm512_mul_ps(va, acc1[i]);
            if (beta != 0.0f) {
                r0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci), r0);
                r1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci + 16), r1);
            }
            _mm512_storeu_ps(ci, r0);
            _mm512_storeu_ps(ci + 16, r1);
        }
    } else {
        const __mmask16 k0 = lo_mask(n), k1 = hi_mask(n);
#pragma GCC unroll 14
        for (int i = 0; i < MR; i++) {
            if (i >= m) break;
            float *ci = c + i * ldc;
            __m512 r0 = _mm512_mul_ps(va, acc0[i]), r1 = _mm512_mul_ps(va, acc1[i]);
            if (beta != 0.0f) {
                r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k0, ci), r0);
                r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k1, ci + 16), r1);
            }
            _mm512_mask_storeu_ps(ci, k0, r0);
            _mm512_mask_storeu_ps(ci + 16, k1, r1);
        }
    }
}

const zf_gemm_kernel zf_sgemm_kernel_avx512 = {
    .name = "f32-avx512-14x32",
    .isa = ZF_GEMM_ISA_AVX512,
    .esize = sizeof(float),
    .mr = MR, .nr = NR,
    .mc = 14 * 24, .kc = 256, .nc = 4096,
    .pack_a = zf_gemm_pack_a_f32,
    .pack_b = zf_gemm_pack_b_f32,
    .micro = micro_14x32,
};

#endif
