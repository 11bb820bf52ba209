/* AVX2 (+FMA, F16C) dot kernels of the quantized matmul, for x86 CPUs
 * without AVX-512 VNNI: the recipes of qmatmul.h, bit-identical to
 * qdot_ref.c and qdot_avx512.c.
 *
 * One ymm holds the 32 levels of one 32-element group (a whole 32-block, or
 * one of the 8 groups of a K super-block). Integer products: vpmaddubsw
 * (u8 x s8 -> s16 pairs) then vpmaddwd against ones or the sub-block
 * scales, one int32 lane per 4 elements (ggml's lanes). Levels stay below 64
 * except for the signed 32-blocks (q4_0, q5_0, q8_0), which go through
 * |w| x sign(x, w) as ggml's do, so no pair saturates s16. The integer
 * scales of K super-blocks come from zf_qk_scales.
 *
 * Built without -m flags: every function carries the target attribute; the
 * file is compiled with -ffp-contract=off. */
#include "engine/cpu/qmatmul.h"

#if defined(__x86_64__) || defined(__i386__)
#define TGT __attribute__((target("avx2,fma,f16c")))
#define INL TGT static inline __attribute__((always_inline))
#define R 4 /* 16 ymm registers */
#include "core/cpu_x86.h"
#include "engine/cpu/qdot_x86.h"

static bool supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && zf_cpu_has_f16c();
}

INL __m256i bits(__m256i v, int shift, int mask) {
    return _mm256_and_si256(_mm256_srli_epi16(v, shift), _mm256_set1_epi8((char)mask));
}
/* Bit i of the 32-bit word m spread to byte i: 0xFF where set. */
INL __m256i spread_bits(uint32_t m) {
    const __m256i sh = _mm256_set_epi64x(0x0303030303030303LL, 0x0202020202020202LL, 0x0101010101010101LL, 0);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)m), sh);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}
/* int32 lanes of 4 products each: u8 u x s8 x. */
INL __m256i dot4(__m256i u, __m256i x) { return _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), _mm256_set1_epi16(1)); }

/* ---- 32-element blocks ---- */

/* The 32 levels of a block: unsigned (q4_1, q5_1) or signed with the bias
 * subtracted (q4_0 q - 8, q5_0 q - 16, q8_0 as stored). */
INL __m256i l32(zf_dtype t, const uint8_t *blk) {
    if (t == ZF_Q8_0) return ld256(blk + 2);
    const int oq = t == ZF_Q4_0 ? 2 : t == ZF_Q4_1 ? 4 : t == ZF_Q5_0 ? 6 : 8;
    const __m128i q = _mm_loadu_si128((const __m128i *)(const void *)(blk + oq));
    __m256i u = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(15));
    if (t == ZF_Q5_0 || t == ZF_Q5_1) { /* bit j of qh: bit 4 of element j */
        const __m256i hb = spread_bits(ld_u32(blk + (t == ZF_Q5_0 ? 2 : 4)));
        u = _mm256_or_si256(u, _mm256_and_si256(hb, _mm256_set1_epi8(16)));
    }
    const int bias = bias32(t);
    return bias ? _mm256_sub_epi8(u, _mm256_set1_epi8((char)bias)) : u;
}
/* Lane sums of levels l (from l32) times x. */
INL __m256i dot32(zf_dtype t, __m256i l, __m256i x) {
    if (bias32(t)) return dot4(_mm256_sign_epi8(l, l), _mm256_sign_epi8(x, l));
    return dot4(l, x);
}

/* VEC (ggml_vec_dot_q4_0_q8_0 ... q8_0_q8_0): one weight row at a time. */
INL void vec32_body(zf_dtype t, int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs,
                    int nr, float *y, int64_t ys) {
    const int bsz = bsz32(t);
    const bool has_m = t == ZF_Q4_1 || t == ZF_Q5_1;
    const int64_t nb = K / 32;
    const size_t od = zf_qx_d_offset(K), os = zf_qx_s_offset(K);
    for (int i = 0; i < nw; i++) {
        const uint8_t *wb = w + i * ws;
        __m256 L[R];
        float summs[R];
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            L[r] = _mm256_setzero_ps();
            summs[r] = 0.0f;
        }
        for (int64_t b = 0; b < nb; b++, wb += bsz) {
            const __m256i l = l32(t, wb);
            const float dw = ld_f16(wb), m = has_m ? ld_f16(wb + 2) : 0.0f;
#pragma GCC unroll 4
            for (int r = 0; r < nr; r++) {
                const uint8_t *row = qx + r * qxs;
                const __m256i S = dot32(t, l, ld256(row + 32 * b));
                L[r] = _mm256_fmadd_ps(_mm256_set1_ps(dw * ld_f32(row + od + 4 * b)), _mm256_cvtepi32_ps(S), L[r]);
                if (has_m) summs[r] = fmaf(m, ld_f32(row + os + 4 * b), summs[r]);
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) y[r * ys + i] = has_m ? hsum8(L[r]) + summs[r] : hsum8(L[r]);
    }
}

/* Totals of 8 weight rows' q4_0 blocks at wr[i] + o (lanes) against the
 * x block at xs (qdot_x86_recipes.h rp_q40_body). */
INL __m256i q40_totals(const uint8_t *const wr[8], size_t o, const uint8_t *xs) {
    const __m256i x = ld256(xs);
    __m256i S[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) S[i] = dot32(ZF_Q4_0, l32(ZF_Q4_0, wr[i] + o), x);
    return red8y_hadd(S);
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

/* One decoded super-block: levels and s16 scale vectors of the 8 groups
 * (group g: sub-blocks 2g in the low 128 bits, 2g+1 in the high), the 16
 * minimum multipliers sb16, dA, dB (zf_qk_scales). */
typedef struct {
    __m256i u[8], sc[8], sb16;
    float dA, dB;
} kdec;

INL int kdecode(zf_dtype t, const uint8_t *w, kdec *D) {
    int16_t sa[16], sb[16];
    const int size = zf_qk_scales(t, w, sa, sb, &D->dA, &D->dB);
    D->sb16 = _mm256_loadu_si256((const __m256i *)(const void *)sb);
#pragma GCC unroll 8
    for (int g = 0; g < 8; g++) {
        D->u[g] = klevels(t, w, g);
        D->sc[g] = _mm256_set_m128i(_mm_set1_epi16(sa[2 * g + 1]), _mm_set1_epi16(sa[2 * g]));
    }
    return size;
}
/* sa-weighted lane sums of groups [g0, g1) against the x groups at xs. */
INL __m256i kgroups(const kdec *D, int g0, int g1, const uint8_t *xs, __m256i acc) {
    for (int g = g0; g < g1; g++)
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(D->u[g], ld256(xs + 32 * g)), D->sc[g]));
    return acc;
}

/* VEC (ggml_vec_dot_q2_K_q8_K ... q6_K_q8_K): one weight row at a time
 * against nr x rows. */
INL void veck_body(zf_dtype t, int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs,
                   int nr, float *y, int64_t ys) {
    const int64_t nb = K / 256;
    const size_t od = zf_qx_d_offset(K), obs = zf_qx_bsums_offset(K);
    for (int i = 0; i < nw; i++) {
        const uint8_t *wb = w + i * ws;
        __m256 L[R];
        __m128 Mn[R];
        float summs[R];
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) {
            L[r] = _mm256_setzero_ps();
            Mn[r] = _mm_setzero_ps();
            summs[r] = 0.0f;
        }
        for (int64_t b = 0; b < nb; b++) {
            kdec D;
            wb += kdecode(t, wb, &D);
#pragma GCC unroll 4
            for (int r = 0; r < nr; r++) {
                const uint8_t *row = qx + r * qxs, *xs = row + 256 * b;
                __m256i SB3 = _mm256_setzero_si256();
                if (t == ZF_Q3_K) /* 4 * sa * x per element: the level - 4 of ggml's q3_K lanes */
                    for (int g = 0; g < 8; g++) {
                        const __m256i x4 = _mm256_maddubs_epi16(_mm256_set1_epi8(4), ld256(xs + 32 * g));
                        SB3 = _mm256_add_epi32(SB3, _mm256_madd_epi16(x4, D.sc[g]));
                    }
                veck_step(t, kgroups(&D, 0, 8, xs, _mm256_setzero_si256()),
                          _mm256_madd_epi16(D.sb16, ld256(row + obs + 32 * b)), SB3, ld_f32(row + od + 4 * b), D.dA,
                          D.dB, &L[r], &Mn[r], &summs[r]);
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < nr; r++) y[r * ys + i] = veck_result(t, L[r], Mn[r], summs[r]);
    }
}

/* The ISA hooks of qdot_x86_recipes.h: the integer partial vector of a pair
 * and its reduction over 8 pairs. */
#define KVEC __m256i
INL __m256i kpart(const kdec *D, int g0, int g1, const uint8_t *xs) {
    return kgroups(D, g0, g1, xs, _mm256_setzero_si256());
}
INL __m256i kred8(const __m256i v[8]) { return red8y_hadd(v); }
/* ---- float weights: x rows are f32 ---- */

INL __m256 ldw8(zf_dtype t, const uint8_t *w, int64_t k) {
    if (t == ZF_F32) return _mm256_loadu_ps((const float *)(const void *)w + k);
    const __m128i h = _mm_loadu_si128((const __m128i *)(const void *)(w + 2 * k));
    if (t == ZF_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)); /* bf16: top half of f32 */
}

INL void dotf_row(zf_dtype t, int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y,
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

#include "engine/cpu/qdot_x86_recipes.h"

QDOT_X86_KERNELS(zf_qkernels_avx2, "avx2", supported, R, 0)

#endif
