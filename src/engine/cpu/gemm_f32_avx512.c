/* AVX-512 f32 GEMM kernel: a 14 x 32 tile of C in 28 zmm accumulators, and
 * packers for its panel layouts (16 x 16 in-register transposes where the
 * source runs the wrong way).
 *
 * Per k step: two aligned loads of the packed B row (32 floats), 14
 * broadcasts of the packed A column, 28 FMAs; 14 * 32 * 2 = 896 flops per 16
 * loads. With 2 FMA pipes and 4-cycle FMA latency (Zen 4/5, Skylake-X and
 * later), 28 independent chains keep both pipes busy. On the 2-core Zen 5
 * this was tuned on, the kernel alone reaches ~98% of peak with its data in
 * L1, and kc = 512, mc = 224, nc = 2048 were best or tied in a sweep.
 *
 * Compiled for AVX-512 by function attributes only: this file is built
 * without -m flags and its code runs only after zf_sgemm_kernel() has
 * checked the CPU. */
#include "engine/cpu/gemm.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define ZF_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))
#define ZF_INLINE inline __attribute__((always_inline))

#define MR 14
#define NR 32

/* Mask of the first n lanes (n <= 0: none, n >= 16: all). */
static ZF_INLINE ZF_AVX512 __mmask16 first_lanes(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

/* C[0:m, 0:n] = alpha * a b + beta * C for the first ROWS (>= m) rows of a
 * 14 x 32 tile: a is a packed [kc, MR] micro-panel of which only the first
 * ROWS rows are read. Inlined with a constant ROWS, so the accumulators
 * live in registers. */
static ZF_INLINE ZF_AVX512 void tile_rows(const int ROWS, int64_t kc, const float *a,
                                          const float *b, float *c, int64_t ldc, float alpha,
                                          float beta, int m, int n) {
    __m512 acc0[MR], acc1[MR]; /* acc0[i]: C[i][0:16], acc1[i]: C[i][16:32] */
#pragma GCC unroll 14
    for (int i = 0; i < ROWS; i++) {
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
        for (int i = 0; i < ROWS; i++) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
            acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
        }
        a += MR;
        b += NR;
    }

    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    const __mmask16 k0 = first_lanes(n), k1 = first_lanes(n - 16);
#pragma GCC unroll 14
    for (int i = 0; i < ROWS; i++) {
        if (i >= m) break;
        float *ci = c + i * ldc;
        __m512 r0 = _mm512_mul_ps(va, acc0[i]), r1 = _mm512_mul_ps(va, acc1[i]);
        if (n == NR) {
            if (beta != 0.0f) {
                r0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci), r0);
                r1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci + 16), r1);
            }
            _mm512_storeu_ps(ci, r0);
            _mm512_storeu_ps(ci + 16, r1);
        } else { /* right edge: masked, never touches C[i][n:] */
            if (beta != 0.0f) {
                r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k0, ci), r0);
                r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k1, ci + 16), r1);
            }
            _mm512_mask_storeu_ps(ci, k0, r0);
            _mm512_mask_storeu_ps(ci + 16, k1, r1);
        }
    }
}

/* The microkernel: full tiles use all 14 rows; a bottom-edge tile (and any
 * call with M < 14) computes only as many rows as it needs, rounded up. */
static ZF_AVX512 void micro_14x32(int64_t kc, const void *a, const void *b, void *c, int64_t ldc,
                                  double alpha_d, double beta_d, int m, int n) {
    const float alpha = (float)alpha_d, beta = (float)beta_d;
    if (m > 8)
        tile_rows(14, kc, a, b, c, ldc, alpha, beta, m, n);
    else if (m > 4)
        tile_rows(8, kc, a, b, c, ldc, alpha, beta, m, n);
    else if (m > 2)
        tile_rows(4, kc, a, b, c, ldc, alpha, beta, m, n);
    else if (m > 1)
        tile_rows(2, kc, a, b, c, ldc, alpha, beta, m, n);
    else
        tile_rows(1, kc, a, b, c, ldc, alpha, beta, m, n);
}

/* ---- Packers specialised for MR = 14, NR = 32 (layouts in gemm.h) ---- */

/* Transposes the 16 x 16 block r[0..15] (row i = r[i]) in place: afterwards
 * r[j] holds old column j. Three rounds of shuffles: 32-bit and 64-bit
 * interleaves inside 128-bit lanes, then 128-bit lane permutes. */
static ZF_INLINE ZF_AVX512 void transpose16(__m512 r[16]) {
    __m512 t[16];
#pragma GCC unroll 8
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    /* In each 128-bit lane l: t[2q] = (r[2q][4l], r[2q+1][4l], r[2q][4l+1],
     * r[2q+1][4l+1]), t[2q+1] the same for columns 4l+2, 4l+3. */
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4) {
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m512d x = _mm512_castps_pd(t[i + h]), y = _mm512_castps_pd(t[i + 2 + h]);
            r[i + 2 * h] = _mm512_castpd_ps(_mm512_unpacklo_pd(x, y));
            r[i + 2 * h + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(x, y));
        }
    }
    /* r[4q + c] lane l (128-bit) now holds column 4l + c of rows 4q..4q+3 */
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        /* Gather 128-bit lanes: first lanes {0,1} of groups (0,1) and (2,3). */
        __m512 a = r[i], b = r[4 + i], c = r[8 + i], d = r[12 + i];
        __m512 ab_lo = _mm512_shuffle_f32x4(a, b, 0x44), ab_hi = _mm512_shuffle_f32x4(a, b, 0xEE);
        __m512 cd_lo = _mm512_shuffle_f32x4(c, d, 0x44), cd_hi = _mm512_shuffle_f32x4(c, d, 0xEE);
        t[i] = _mm512_shuffle_f32x4(ab_lo, cd_lo, 0x88);      /* lane 0 of a, b, c, d */
        t[4 + i] = _mm512_shuffle_f32x4(ab_lo, cd_lo, 0xDD);  /* lane 1 */
        t[8 + i] = _mm512_shuffle_f32x4(ab_hi, cd_hi, 0x88);  /* lane 2 */
        t[12 + i] = _mm512_shuffle_f32x4(ab_hi, cd_hi, 0xDD); /* lane 3 */
    }
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) r[i] = t[i];
}

/* Loads a 16 x 16 block (row i: 16 floats at src + i*ld, lanes outside km
 * zero; rows from nrows on zero) and transposes it: r[j] = column j. */
static ZF_INLINE ZF_AVX512 void load_transposed(__m512 r[16], const float *src, int64_t ld,
                                                int64_t nrows, __mmask16 km) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++)
        r[i] = i < nrows ? _mm512_maskz_loadu_ps(km, src + i * ld) : _mm512_setzero_ps();
    transpose16(r);
}

/* Stores r[0:n] (n <= 16), the lanes in `lanes`, to dst + kk*stride. The
 * partial case goes through memory so that r keeps constant indices (and
 * stays in registers) on the full path. */
static ZF_INLINE ZF_AVX512 void store_rows(const __m512 r[16], int64_t n, float *dst,
                                           int64_t stride, __mmask16 lanes) {
    if (n == 16) {
#pragma GCC unroll 16
        for (int kk = 0; kk < 16; kk++) _mm512_mask_storeu_ps(dst + kk * stride, lanes, r[kk]);
        return;
    }
    __m512 tmp[16];
#pragma GCC unroll 16
    for (int kk = 0; kk < 16; kk++) tmp[kk] = r[kk];
    for (int64_t kk = 0; kk < n; kk++) _mm512_mask_storeu_ps(dst + kk * stride, lanes, tmp[kk]);
}

static ZF_AVX512 void pack_a_14(void *dst_, const void *a_, int64_t lda, bool trans, int64_t mc,
                                int64_t kc, int mr) {
    float *dst = dst_;
    const float *a = a_;
    const __mmask16 row_mask = (__mmask16)((1u << MR) - 1u);
    (void)mr; /* == MR */
    for (int64_t i0 = 0; i0 < mc; i0 += MR, dst += MR * kc) {
        const int rows = mc - i0 < MR ? (int)(mc - i0) : MR;
        if (trans) { /* op(A)[i][k] = a[k*lda + i]: the panel's k-th column is contiguous */
            const __mmask16 m = first_lanes(rows);
            for (int64_t k = 0; k < kc; k++)
                _mm512_mask_storeu_ps(dst + k * MR, row_mask,
                                      _mm512_maskz_loadu_ps(m, a + k * lda + i0));
            continue;
        }
        /* op(A)[i][k] = a[i*lda + k]: transpose 16 x 16 blocks (rows 14, 15 and
         * rows past `rows` are zero) and keep 14 lanes per k. */
        for (int64_t k0 = 0; k0 < kc; k0 += 16) {
            const int64_t kn = kc - k0 < 16 ? kc - k0 : 16;
            __m512 r[16];
            load_transposed(r, a + i0 * lda + k0, lda, rows, first_lanes(kn));
            store_rows(r, kn, dst + k0 * MR, MR, row_mask);
        }
    }
}

static ZF_AVX512 void pack_b_32(void *dst_, const void *b_, int64_t ldb, bool trans, int64_t kc,
                                int64_t nc, int nr) {
    float *dst = dst_; /* 64-byte aligned; each packed row is 128 bytes */
    const float *b = b_;
    (void)nr; /* == NR */
    for (int64_t j0 = 0; j0 < nc; j0 += NR, dst += NR * kc) {
        const int64_t cols = nc - j0 < NR ? nc - j0 : NR;
        if (!trans) { /* op(B)[k][j] = b[k*ldb + j]: copy 32-float row segments */
            if (cols == NR) {
                for (int64_t k = 0; k < kc; k++) {
                    const float *src = b + k * ldb + j0;
                    _mm512_store_ps(dst + k * NR, _mm512_loadu_ps(src));
                    _mm512_store_ps(dst + k * NR + 16, _mm512_loadu_ps(src + 16));
                }
            } else {
                const __mmask16 m0 = first_lanes(cols), m1 = first_lanes(cols - 16);
                for (int64_t k = 0; k < kc; k++) {
                    const float *src = b + k * ldb + j0;
                    _mm512_store_ps(dst + k * NR, _mm512_maskz_loadu_ps(m0, src));
                    _mm512_store_ps(dst + k * NR + 16,
                                    cols > 16 ? _mm512_maskz_loadu_ps(m1, src + 16)
                                              : _mm512_setzero_ps());
                }
            }
            continue;
        }
        /* op(B)[k][j] = b[j*ldb + k]: transpose 16 x 16 blocks, columns past
         * `cols` are zero. */
        for (int h = 0; h < 2; h++) {
            for (int64_t k0 = 0; k0 < kc; k0 += 16) {
                const int64_t kn = kc - k0 < 16 ? kc - k0 : 16;
                __m512 r[16];
                load_transposed(r, b + (j0 + 16 * h) * ldb + k0, ldb, cols - 16 * h,
                                first_lanes(kn));
                store_rows(r, kn, dst + k0 * NR + 16 * h, NR, (__mmask16)0xFFFF);
            }
        }
    }
}

const zf_gemm_kernel zf_sgemm_kernel_avx512 = {
    .name = "f32-avx512-14x32",
    .isa = ZF_GEMM_ISA_AVX512,
    .esize = sizeof(float),
    .mr = MR, .nr = NR,
    .mc = 14 * 16, .kc = 512, .nc = 2048,
    .pack_a = pack_a_14,
    .pack_b = pack_b_32,
    .micro = micro_14x32,
};

#endif
