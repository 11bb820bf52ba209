/* Helpers shared by the x86 dot kernels (qdot_avx2.c, qdot_avx512.c): the
 * includer defines INL (static inline, always_inline, with its target
 * attribute), so each kernel set gets its own copies built for its ISA.
 * Everything here uses AVX2 + FMA + F16C instructions only. Recipes and
 * the qx row layout: qmatmul.h. */
#ifndef ZF_ENGINE_CPU_QDOT_X86_H
#define ZF_ENGINE_CPU_QDOT_X86_H

#include <math.h>
#include <string.h>

#include <immintrin.h>

#include "engine/cpu/qmatmul.h"

INL float ld_f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}
INL uint32_t ld_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
INL float ld_f32(const uint8_t *p) {
    float v;
    memcpy(&v, p, 4);
    return v;
}
INL __m256i ld256(const uint8_t *p) { return _mm256_loadu_si256((const __m256i *)(const void *)p); }

/* ggml's hsum_float_8: high half + low half, then lanes (0+2) + (1+3). */
INL float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
/* (m0 + m2) + (m1 + m3), ggml's reduction of q4_K's 4 minimum lanes. */
INL float hsum4(__m128 m) {
    m = _mm_add_ps(m, _mm_movehl_ps(m, m));
    m = _mm_add_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* Lane k = the total of the 8 int32 lanes of v[k] (exact, any order). */
INL __m256i red8y_hadd(const __m256i v[8]) {
    const __m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    const __m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(v[4], v[5]), _mm256_hadd_epi32(v[6], v[7]));
    /* a = [v0..v3 low halves | v0..v3 high halves], b the same for v4..v7 */
    return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}
/* out[c] lane r = in[r] lane c (8 x 8 int32). */
INL void transpose8(const __m256i in[8], __m256i out[8]) {
    __m256i t[8], u[8];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_epi32(in[2 * i], in[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_epi32(in[2 * i], in[2 * i + 1]);
    }
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        u[4 * h + 0] = _mm256_unpacklo_epi64(t[4 * h], t[4 * h + 2]);
        u[4 * h + 1] = _mm256_unpackhi_epi64(t[4 * h], t[4 * h + 2]);
        u[4 * h + 2] = _mm256_unpacklo_epi64(t[4 * h + 1], t[4 * h + 3]);
        u[4 * h + 3] = _mm256_unpackhi_epi64(t[4 * h + 1], t[4 * h + 3]);
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        out[c] = _mm256_permute2x128_si256(u[c], u[c + 4], 0x20);
        out[c + 4] = _mm256_permute2x128_si256(u[c], u[c + 4], 0x31);
    }
}

/* Row pointers for up to 8 rows (the missing ones repeat row 0; their
 * results are not stored). */
INL void rows8(const uint8_t *base, int64_t stride, int n, const uint8_t *p[8]) {
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) p[i] = base + (i < n ? i : 0) * stride;
}
INL void store8(__m256 v, int n, float *y, int64_t stride) {
    float t[8];
    _mm256_storeu_ps(t, v);
    for (int i = 0; i < n; i++) y[i * stride] = t[i];
}

/* The dot kernel signature (qmatmul.h zf_qdot_fn). */
#define QDOT_ARGS_DECL                                                                                   \
    int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs, int nr, float *y, \
        int64_t ys

/* ---- 32-element blocks ---- */

static inline int bsz32(zf_dtype t) {
    return t == ZF_Q4_0 ? 18 : t == ZF_Q4_1 ? 20 : t == ZF_Q5_0 ? 22 : t == ZF_Q5_1 ? 24 : 34;
}
/* The bias ggml's signed levels subtract (qdot_ref.c decode32). */
static inline int bias32(zf_dtype t) { return t == ZF_Q4_0 ? 8 : t == ZF_Q5_0 ? 16 : t == ZF_Q8_0 ? 128 : 0; }

/* 8 f16 values at p[i] + off as floats. */
INL __m256 f16_8(const uint8_t *const p[8], size_t off) {
    uint16_t h[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) memcpy(&h[i], p[i] + off, 2);
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)h));
}
/* 8 floats at p[i] + off. */
INL __m256 f32_8(const uint8_t *const p[8], size_t off) {
    float f[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) memcpy(&f[i], p[i] + off, 4);
    return _mm256_loadu_ps(f);
}

/* ---- K types ---- */

static inline int bszk(zf_dtype t) {
    return t == ZF_Q2_K ? 84 : t == ZF_Q3_K ? 110 : t == ZF_Q4_K ? 144 : t == ZF_Q5_K ? 176 : 210;
}
static inline bool has_min(zf_dtype t) { return t == ZF_Q2_K || t == ZF_Q4_K || t == ZF_Q5_K; }

/* The 8 x rows of a TILED/GEMM call, one super-block: dx per lane and the
 * bsums as pairs (bs_2p, bs_2p+1) of 16-bit sums per lane. */
typedef struct {
    __m256 dx;
    __m256i bs_pairs[8];
} kx8;

INL void kx8_load(const uint8_t *const xr[8], int64_t K, int64_t b, kx8 *X) {
    const size_t od = zf_qx_d_offset(K), obs = zf_qx_bsums_offset(K);
    __m256i in[8];
    X->dx = f32_8(xr, od + 4 * (size_t)b);
#pragma GCC unroll 8
    for (int r = 0; r < 8; r++) in[r] = ld256(xr[r] + obs + 32 * b);
    transpose8(in, X->bs_pairs);
}
/* Lane r: sb_2p * bs_2p + sb_2p+1 * bs_2p+1 of x row r (sb16: the block's
 * 16 minimum multipliers). */
INL __m256i kmin_pair(__m256i sb16, const kx8 *X, int p) {
    return _mm256_madd_epi16(X->bs_pairs[p], _mm256_permutevar8x32_epi32(sb16, _mm256_set1_epi32(p)));
}

/* One VEC step of a K type (ggml_vec_dot_q2_K_q8_K ... q6_K_q8_K, float
 * part) for one weight row and one x row: SA the 8 sa-weighted lane sums of
 * the block, mp = madd(sb16, bsums) (lane l: sub-blocks 2l, 2l+1), SB3 (q3_K
 * only) the lane sums of 4 * sa * x. L, Mn, summs: the row's accumulators. */
INL void veck_step(zf_dtype t, __m256i SA, __m256i mp, __m256i SB3, float dx, float dA, float dB, __m256 *L,
                   __m128 *Mn, float *summs) {
    const float dd = dx * dA, dm = -(dx * dB);
    if (t == ZF_Q4_K || t == ZF_Q5_K) {
        *L = _mm256_fmadd_ps(_mm256_set1_ps(dd), _mm256_cvtepi32_ps(SA), *L);
        /* minimums per 64 elements: lanes 2t + 2t+1 of m_l * B_l */
        const __m128i h = _mm_hadd_epi32(_mm256_castsi256_si128(mp), _mm256_extracti128_si256(mp, 1));
        if (t == ZF_Q4_K) {
            *Mn = _mm_fmadd_ps(_mm_set1_ps(dm), _mm_cvtepi32_ps(h), *Mn);
        } else {
            const __m128i h2 = _mm_hadd_epi32(h, h);
            *summs = fmaf((float)_mm_cvtsi128_si32(_mm_hadd_epi32(h2, h2)), dm, *summs);
        }
    } else if (t == ZF_Q2_K) {
        *L = _mm256_fmadd_ps(_mm256_set1_ps(dm), _mm256_cvtepi32_ps(mp), *L);
        *L = _mm256_fmadd_ps(_mm256_set1_ps(dd), _mm256_cvtepi32_ps(SA), *L);
    } else {
        const __m256i V = _mm256_sub_epi32(SA, t == ZF_Q6_K ? mp : SB3);
        *L = _mm256_fmadd_ps(_mm256_set1_ps(dd), _mm256_cvtepi32_ps(V), *L);
    }
}
/* The VEC result of a row. */
INL float veck_result(zf_dtype t, __m256 L, __m128 Mn, float summs) {
    float v = hsum8(L);
    if (t == ZF_Q4_K) v = v + hsum4(Mn);
    if (t == ZF_Q5_K) v = v + summs;
    return v;
}
/* One TILED step (tiled-kernel.cpp epilogue) for 8 lanes: S1 the sa-weighted
 * totals, SB the minimum totals; A = fma(res, dx, A). */
INL __m256 tiled_step(zf_dtype t, __m256i S1, __m256i SB, float dA, float dB, __m256 dx, __m256 A) {
    if (!has_min(t)) S1 = _mm256_sub_epi32(S1, SB);
    __m256 res = _mm256_mul_ps(_mm256_cvtepi32_ps(S1), _mm256_set1_ps(dA));
    if (has_min(t)) res = _mm256_fnmadd_ps(_mm256_set1_ps(dB), _mm256_cvtepi32_ps(SB), res);
    return _mm256_fmadd_ps(res, dx, A);
}

#endif
