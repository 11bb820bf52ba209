/* AVX2 (+FMA, F16C) dot kernels of the quantized matmul (qmatmul.h), for
 * x86 CPUs without AVX-512 VNNI.
 *
 * One ymm holds the 32 levels of one 32-element group (a whole 32-block, or
 * one of the 8 groups of a K super-block). Products: vpmaddubsw (u8 levels x
 * s8 x -> s16 pairs) then vpmaddwd, against the sub-block scales (K types)
 * or ones (32-blocks) -> s32. Levels stay below 64 except for q8_0, which is
 * signed and goes through |w| x sign(x, w) so no pair saturates s16. The
 * integer scales of K super-blocks come from zf_qk_scales.
 *
 * Built without -m flags: every function carries the target attribute. */
#include <string.h>

#include "engine/cpu/qmatmul.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define TGT __attribute__((target("avx2,fma,f16c")))
#define INL TGT static inline __attribute__((always_inline))
#define R 4 /* 16 ymm registers */

static bool supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

INL float ld_f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}
INL float ld_f32(const uint8_t *p) {
    float v;
    memcpy(&v, p, 4);
    return v;
}
INL __m256i ld256(const uint8_t *p) { return _mm256_loadu_si256((const __m256i *)(const void *)p); }
INL __m256i bits(__m256i v, int shift, int mask) {
    return _mm256_and_si256(_mm256_srli_epi16(v, shift), _mm256_set1_epi8((char)mask));
}
INL float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Bit i of the 32-bit word m spread to byte i: 0xFF where set. */
INL __m256i spread_bits(uint32_t m) {
    const __m256i sh = _mm256_set_epi64x(0x0303030303030303LL, 0x0202020202020202LL, 0x0101010101010101LL, 0);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)m), sh);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

/* ---- K types ---- */

/* Levels of group g (elements 32g .. 32g+31) of a super-block. */
INL __m256i klevels(zf_dtype t, const uint8_t *w, int g) {
    const int h = g / 4, s = g % 4;
    switch (t) {
    case ZF_Q2_K:
        return bits(ld256(w + 16 + 32 * h), 2 * s, 3);
    case ZF_Q3_K: { /* + 4 where bit g of hmask[l] is set */
        __m256i lo = bits(ld256(w + 32 + 32 * h), 2 * s, 3);
        return _mm256_or_si256(lo, _mm256_slli_epi16(bits(ld256(w), g, 1), 2));
    }
    case ZF_Q4_K:
    case ZF_Q5_K: {
        const bool five = t == ZF_Q5_K;
        __m256i q = bits(ld256(w + (five ? 48 : 16) + 32 * (g / 2)), 4 * (g & 1), 15);
        if (five) q = _mm256_or_si256(q, _mm256_slli_epi16(bits(ld256(w + 16), g, 1), 4));
        return q;
    }
    default: { /* Q6_K: see qdot_ref.c decodek */
        __m256i lo = bits(ld256(w + 64 * h + 32 * (s & 1)), s >= 2 ? 4 : 0, 15);
        return _mm256_or_si256(lo, _mm256_slli_epi16(bits(ld256(w + 128 + 32 * h), 2 * s, 3), 4));
    }
    }
}

INL void dotk_body(zf_dtype t, int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y,
                   int64_t ys) {
    const int64_t nb = K / 256;
    const size_t od = zf_qx_d_offset(K), obs = zf_qx_bsums_offset(K);
    __m256 acc[R], accm[R];
    #pragma GCC unroll 4
    for (int r = 0; r < nr; r++) acc[r] = accm[r] = _mm256_setzero_ps();
    int16_t sa[16], sb[16];
    for (int64_t b = 0; b < nb; b++) {
        float dA, dB;
        const int size = zf_qk_scales(t, w, sa, sb, &dA, &dB);
        __m256i sumi[R];
        #pragma GCC unroll 4
        for (int r = 0; r < nr; r++) sumi[r] = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int g = 0; g < 8; g++) {
            const __m256i u = klevels(t, w, g);
            const __m256i sc = _mm256_set_m128i(_mm_set1_epi16(sa[2 * g + 1]), _mm_set1_epi16(sa[2 * g]));
            #pragma GCC unroll 4
            for (int r = 0; r < nr; r++) {
                const __m256i xq = ld256(qx + r * qxs + 256 * b + 32 * g);
                sumi[r] = _mm256_add_epi32(sumi[r], _mm256_madd_epi16(_mm256_maddubs_epi16(u, xq), sc));
            }
        }
        const __m256i sb16 = _mm256_loadu_si256((const __m256i *)(const void *)sb);
        #pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            const uint8_t *row = qx + r * qxs;
            const float dx = ld_f32(row + od + 4 * b);
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dA * dx), _mm256_cvtepi32_ps(sumi[r]), acc[r]);
            const __m256i mp = _mm256_madd_epi16(sb16, ld256(row + obs + 32 * b));
            accm[r] = _mm256_fmadd_ps(_mm256_set1_ps(dB * dx), _mm256_cvtepi32_ps(mp), accm[r]);
        }
        w += size;
    }
    #pragma GCC unroll 4
    for (int r = 0; r < nr; r++) y[r * ys] = hsum8(acc[r]) - hsum8(accm[r]);
}

/* ---- 32-element blocks ---- */

INL void dot32_body(zf_dtype t, int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y,
                    int64_t ys) {
    const int bsz = t == ZF_Q4_0 ? 18 : t == ZF_Q4_1 ? 20 : t == ZF_Q5_0 ? 22 : t == ZF_Q5_1 ? 24 : 34;
    const int oq = t == ZF_Q4_0 ? 2 : t == ZF_Q4_1 ? 4 : t == ZF_Q5_0 ? 6 : t == ZF_Q5_1 ? 8 : 2;
    const int64_t nb = K / 32;
    const size_t od = zf_qx_d_offset(K), os = zf_qx_s_offset(K);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[R];
    float off[R];
    #pragma GCC unroll 4
    for (int r = 0; r < nr; r++) {
        acc[r] = _mm256_setzero_ps();
        off[r] = 0.0f;
    }
    for (int64_t b = 0; b < nb; b++, w += bsz) {
        const float dw = ld_f16(w);
        float c = 0.0f; /* per-element offset times sum(x) */
        __m256i u;
        if (t == ZF_Q8_0) {
            u = ld256(w + 2); /* signed: handled with abs/sign below */
        } else {
            const __m128i q = _mm_loadu_si128((const __m128i *)(const void *)(w + oq));
            const __m256i v = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
            u = _mm256_and_si256(v, _mm256_set1_epi8(15)); /* elements 0..15 low nibbles, 16..31 high */
            if (t == ZF_Q5_0 || t == ZF_Q5_1) {
                uint32_t qh;
                memcpy(&qh, w + (t == ZF_Q5_0 ? 2 : 4), 4);
                u = _mm256_or_si256(u, _mm256_and_si256(spread_bits(qh), _mm256_set1_epi8(16)));
            }
            c = t == ZF_Q4_0 ? -8.0f * dw : t == ZF_Q5_0 ? -16.0f * dw : ld_f16(w + 2);
        }
        const __m256i au = t == ZF_Q8_0 ? _mm256_sign_epi8(u, u) : u;
        #pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            const uint8_t *row = qx + r * qxs;
            __m256i xq = ld256(row + 32 * b);
            if (t == ZF_Q8_0) xq = _mm256_sign_epi8(xq, u);
            const __m256i S = _mm256_madd_epi16(_mm256_maddubs_epi16(au, xq), ones);
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dw * ld_f32(row + od + 4 * b)), _mm256_cvtepi32_ps(S), acc[r]);
            off[r] += c * ld_f32(row + os + 4 * b);
        }
    }
    #pragma GCC unroll 4
    for (int r = 0; r < nr; r++) y[r * ys] = hsum8(acc[r]) + off[r];
}

/* ---- float weights: x rows are f32 ---- */

INL __m256 ldw8(zf_dtype t, const uint8_t *w, int64_t k) {
    if (t == ZF_F32) return _mm256_loadu_ps((const float *)(const void *)w + k);
    const __m128i h = _mm_loadu_si128((const __m128i *)(const void *)(w + 2 * k));
    if (t == ZF_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)); /* bf16: top half of f32 */
}

INL void dotf_body(zf_dtype t, int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y,
                   int64_t ys) {
    __m256 acc[R][2];
    #pragma GCC unroll 4
    for (int r = 0; r < nr; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        const __m256 w0 = ldw8(t, w, k), w1 = ldw8(t, w, k + 8);
        #pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            const float *x = (const float *)(const void *)(qx + r * qxs) + k;
            acc[r][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x), acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + 8), acc[r][1]);
        }
    }
    float tail[R] = {0};
    for (; k < K; k++) {
        float wk;
        if (t == ZF_F32) memcpy(&wk, w + 4 * k, 4);
        else if (t == ZF_F16) wk = ld_f16(w + 2 * k);
        else {
            uint32_t u = (uint32_t)(w[2 * k] | (w[2 * k + 1] << 8)) << 16;
            memcpy(&wk, &u, 4);
        }
        #pragma GCC unroll 4
        for (int r = 0; r < nr; r++) tail[r] += wk * ld_f32(qx + r * qxs + 4 * k);
    }
    #pragma GCC unroll 4
    for (int r = 0; r < nr; r++) y[r * ys] = hsum8(_mm256_add_ps(acc[r][0], acc[r][1])) + tail[r];
}

/* ---- entry points ---- */

#define ENTRY(name, body, t)                                                                                \
    TGT static void name(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y,   \
                         int64_t ys) {                                                                     \
        switch (nr) {                                                                                      \
        case 1: body(t, K, w, qx, qxs, 1, y, ys); break;                                                   \
        case 2: body(t, K, w, qx, qxs, 2, y, ys); break;                                                   \
        case 3: body(t, K, w, qx, qxs, 3, y, ys); break;                                                   \
        default: body(t, K, w, qx, qxs, 4, y, ys); break;                                                  \
        }                                                                                                  \
    }

ENTRY(dot_q2_k, dotk_body, ZF_Q2_K)
ENTRY(dot_q3_k, dotk_body, ZF_Q3_K)
ENTRY(dot_q4_k, dotk_body, ZF_Q4_K)
ENTRY(dot_q5_k, dotk_body, ZF_Q5_K)
ENTRY(dot_q6_k, dotk_body, ZF_Q6_K)
ENTRY(dot_q4_0, dot32_body, ZF_Q4_0)
ENTRY(dot_q4_1, dot32_body, ZF_Q4_1)
ENTRY(dot_q5_0, dot32_body, ZF_Q5_0)
ENTRY(dot_q5_1, dot32_body, ZF_Q5_1)
ENTRY(dot_q8_0, dot32_body, ZF_Q8_0)
ENTRY(dot_f32, dotf_body, ZF_F32)
ENTRY(dot_f16, dotf_body, ZF_F16)
ENTRY(dot_bf16, dotf_body, ZF_BF16)

const zf_qkernels zf_qkernels_avx2 = {
    .name = "avx2",
    .supported = supported,
    .max_rows = 4,
    .dot =
        {
            [ZF_F32] = dot_f32,
            [ZF_F16] = dot_f16,
            [ZF_BF16] = dot_bf16,
            [ZF_Q4_0] = dot_q4_0,
            [ZF_Q4_1] = dot_q4_1,
            [ZF_Q5_0] = dot_q5_0,
            [ZF_Q5_1] = dot_q5_1,
            [ZF_Q8_0] = dot_q8_0,
            [ZF_Q2_K] = dot_q2_k,
            [ZF_Q3_K] = dot_q3_k,
            [ZF_Q4_K] = dot_q4_k,
            [ZF_Q5_K] = dot_q5_k,
            [ZF_Q6_K] = dot_q6_k,
        },
};

#endif
