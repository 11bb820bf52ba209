/* AVX-512 (F/BW/VL/VNNI/DQ) dot kernels of the quantized matmul: the recipes
 * of qmatmul.h (ggml's float order; qdot_ref.c states each one plainly),
 * with the integer sums done in SIMD.
 *
 * Integer parts: weight levels are unsigned bytes (q8_0 as q + 128) and x
 * is int8, so products go through u8 x s8 instructions: vpdpbusd for the
 * 32-blocks (one int32 lane per 4 elements, ggml's lane layout), and for
 * the K types vpmaddubsw (pairs -> s16; levels <= 63 keep it exact) then
 * vpdpwssd against the sub-block scales as s16. A zmm holds 64 levels in
 * element order: two 32-blocks of a pair of weight rows [row i | row i+1],
 * or one 64-element slice of a super-block.
 *
 * Float parts, per recipe:
 *   VEC 32-blocks: a pair of weight rows shares a zmm, 8 lanes each; per
 *       block lanes = fma(dw * dx, S, lanes), hsum per half at the end.
 *   VEC K types: per weight row and x row a ymm of 8 lanes (the zmm slice
 *       sums folded: lanes l and l + 8 hold elements 4l.. of the two 32
 *       groups), the minimums as in ggml_vec_dot_q*_K_q8_K.
 *   TILED, GEMM (lanes = 8 x rows of one weight row) and GEMV (lanes = 8
 *       weight rows of one x row): integer totals of 8 (weight, x) pairs
 *       reduced into one ymm (red4z), then one vector FMA per step. The
 *       minimum terms use the bsums of the 8 x rows transposed to pairs of
 *       16-bit sums per lane (bs_pairs) so one vpmaddwd per pair of
 *       sub-blocks gives sb_2p * bs_2p + sb_2p+1 * bs_2p+1 for every row.
 *
 * Built without -m flags: every function carries the target attribute, and
 * none runs unless supported() said yes. The file is compiled with
 * -ffp-contract=off; fmaf here is the FMA instruction. */
#include <math.h>
#include <string.h>

#include "engine/cpu/qmatmul.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define TGT __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512dq,avx2,fma,f16c")))
#define INL TGT static inline __attribute__((always_inline))
#define R ZF_QDOT_MAX_ROWS

static bool supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

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

/* Two 32-byte halves side by side: [a | b]. */
INL __m512i join(__m256i a, __m256i b) { return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1); }
INL __m256i nib_lo(__m256i v) { return _mm256_and_si256(v, _mm256_set1_epi8(15)); }
INL __m256i nib_hi(__m256i v) { return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(15)); }
INL __m256i bits2(__m256i v, int shift) {
    return _mm256_and_si256(_mm256_srli_epi16(v, shift), _mm256_set1_epi8(3));
}
/* Byte mask of vv = [v | v] (32 bytes twice): bit i set when byte i % 32
 * of v has bit `ba` (i < 32) or bit `bb` (i >= 32). */
INL __mmask64 bit_mask(__m512i vv, int ba, int bb) {
    const __m512i pat = join(_mm256_set1_epi8((char)(1 << ba)), _mm256_set1_epi8((char)(1 << bb)));
    return _mm512_test_epi8_mask(vv, pat);
}

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

/* Integer totals of 4 zmm, each two groups of 8 lanes [lo | hi], as one ymm
 * in the order lo0 hi0 lo1 hi1 ... lo3 hi3 (exact: any order adds up the
 * same). */
INL __m256i red4z(__m512i z0, __m512i z1, __m512i z2, __m512i z3) {
    __m512i a = _mm512_add_epi32(_mm512_unpacklo_epi32(z0, z1), _mm512_unpackhi_epi32(z0, z1));
    __m512i b = _mm512_add_epi32(_mm512_unpacklo_epi32(z2, z3), _mm512_unpackhi_epi32(z2, z3));
    /* per 128-bit quarter q: [z0_q z1_q z2_q z3_q], z_q the sum of quarter q */
    __m512i c = _mm512_add_epi32(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
    c = _mm512_add_epi32(c, _mm512_shuffle_i32x4(c, c, _MM_SHUFFLE(2, 3, 0, 1)));
    __m256i r = _mm512_castsi512_si256(_mm512_shuffle_i32x4(c, c, _MM_SHUFFLE(2, 0, 2, 0)));
    return _mm256_permutexvar_epi32(_mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7), r);
}
/* Lane k = the total of the 16 lanes of v[k]. */
INL __m256i red8z(const __m512i v[8]) {
    __m512i z[4];
#pragma GCC unroll 4
    for (int p = 0; p < 4; p++)
        z[p] = _mm512_add_epi32(_mm512_shuffle_i64x2(v[2 * p], v[2 * p + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                                _mm512_shuffle_i64x2(v[2 * p], v[2 * p + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    return red4z(z[0], z[1], z[2], z[3]);
}
/* Lane k = the total of the 8 lanes of v[k]. */
INL __m256i red8y(const __m256i v[8]) {
    __m512i z[4];
#pragma GCC unroll 4
    for (int p = 0; p < 4; p++) z[p] = join(v[2 * p], v[2 * p + 1]);
    return red4z(z[0], z[1], z[2], z[3]);
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

/* ---- 32-element blocks ---- */

static inline int bsz32(zf_dtype t) {
    return t == ZF_Q4_0 ? 18 : t == ZF_Q4_1 ? 20 : t == ZF_Q5_0 ? 22 : t == ZF_Q5_1 ? 24 : 34;
}
/* The bias ggml's signed levels subtract (qdot_ref.c decode32). */
static inline int bias32(zf_dtype t) { return t == ZF_Q4_0 ? 8 : t == ZF_Q5_0 ? 16 : t == ZF_Q8_0 ? 128 : 0; }

/* Unsigned levels of the blocks at b0 (row i) and b1 (row i+1): [row i |
 * row i+1], 32 levels each in element order. */
INL __m512i l32_pair(zf_dtype t, const uint8_t *b0, const uint8_t *b1) {
    if (t == ZF_Q8_0) return _mm512_xor_si512(join(ld256(b0 + 2), ld256(b1 + 2)), _mm512_set1_epi8((char)0x80));
    const int oq = t == ZF_Q4_0 ? 2 : t == ZF_Q4_1 ? 4 : t == ZF_Q5_0 ? 6 : 8; /* qs offset */
    const __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(b0 + oq));
    const __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(b1 + oq));
    __m512i v = _mm512_inserti32x4(_mm512_castsi128_si512(a), c, 2);
    v = _mm512_shuffle_i32x4(v, v, _MM_SHUFFLE(2, 2, 0, 0));      /* [a a c c] */
    v = _mm512_mask_srli_epi16(v, (__mmask32)0xFF00FF00u, v, 4); /* high nibbles in quarters 1, 3 */
    __m512i u = _mm512_and_si512(v, _mm512_set1_epi8(15));
    if (t == ZF_Q5_0 || t == ZF_Q5_1) { /* bit j of qh: bit 4 of element j */
        const int oh = t == ZF_Q5_0 ? 2 : 4;
        const uint64_t m = ld_u32(b0 + oh) | (uint64_t)ld_u32(b1 + oh) << 32;
        u = _mm512_mask_add_epi8(u, (__mmask64)m, u, _mm512_set1_epi8(16));
    }
    return u;
}

/* [f16 at a] x 8 | [f16 at b] x 8 as floats. */
INL __m512 f16_pair(const uint8_t *a, const uint8_t *b) {
    const uint32_t h = (uint32_t)(a[0] | a[1] << 8) | (uint32_t)(b[0] | b[1] << 8) << 16;
    const __m512i idx = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    return _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi32_si128((int)h))));
}
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

/* VEC (ggml_vec_dot_q4_0_q8_0 ... q8_0_q8_0; tinyBLAS_Q0_AVX the same):
 * weight rows in pairs, nr x rows. */
INL void vec32_body(zf_dtype t, int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs,
                    int nr, float *y, int64_t ys) {
    const int bsz = bsz32(t), bias = bias32(t);
    const bool has_m = t == ZF_Q4_1 || t == ZF_Q5_1;
    const int64_t nb = K / 32;
    const size_t od = zf_qx_d_offset(K), os = zf_qx_s_offset(K);
    const __m512i vbias = _mm512_set1_epi8((char)bias);
    for (int i = 0; i < nw; i += 2) {
        const uint8_t *w0 = w + i * ws, *w1 = i + 1 < nw ? w0 + ws : w0;
        __m512 L[R];
        __m128 Sm[R];
#pragma GCC unroll 8
        for (int r = 0; r < nr; r++) {
            L[r] = _mm512_setzero_ps();
            Sm[r] = _mm_setzero_ps();
        }
        for (int64_t b = 0; b < nb; b++, w0 += bsz, w1 += bsz) {
            const __m512i u = l32_pair(t, w0, w1);
            const __m512 dw = f16_pair(w0, w1);
            __m128 mw = _mm_setzero_ps();
            if (has_m) mw = _mm_cvtph_ps(_mm_cvtsi32_si128((int)((uint32_t)(w0[2] | w0[3] << 8) |
                                                                 (uint32_t)(w1[2] | w1[3] << 8) << 16)));
#pragma GCC unroll 8
            for (int r = 0; r < nr; r++) {
                const uint8_t *row = qx + r * qxs;
                const __m512i xb = _mm512_broadcast_i64x4(ld256(row + 32 * b));
                __m512i S = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, xb);
                if (bias) S = _mm512_sub_epi32(S, _mm512_dpbusd_epi32(_mm512_setzero_si512(), vbias, xb));
                const __m512 d = _mm512_mul_ps(dw, _mm512_set1_ps(ld_f32(row + od + 4 * b)));
                L[r] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(S), L[r]);
                if (has_m) Sm[r] = _mm_fmadd_ps(mw, _mm_set1_ps(ld_f32(row + os + 4 * b)), Sm[r]);
            }
        }
#pragma GCC unroll 8
        for (int r = 0; r < nr; r++) {
            /* hsum_float_8 of each half */
            __m512 a = _mm512_add_ps(L[r], _mm512_shuffle_f32x4(L[r], L[r], _MM_SHUFFLE(2, 3, 0, 1)));
            a = _mm512_add_ps(a, _mm512_permute_ps(a, _MM_SHUFFLE(3, 2, 3, 2)));
            a = _mm512_add_ps(a, _mm512_movehdup_ps(a));
            float y0 = _mm512_cvtss_f32(a), y1 = _mm_cvtss_f32(_mm512_extractf32x4_ps(a, 2));
            if (has_m) {
                y0 = y0 + _mm_cvtss_f32(Sm[r]);
                y1 = y1 + _mm_cvtss_f32(_mm_movehdup_ps(Sm[r]));
            }
            y[r * ys + i] = y0;
            if (i + 1 < nw) y[r * ys + i + 1] = y1;
        }
    }
}

/* GEMV and GEMM of repacked q4_0 (ggml_gemv/gemm_q4_0_8x8_q8_0): per block
 * acc = fma(S, dw * dx, acc), S the whole block sum. Lanes = the 8 weight
 * rows; one pass per x row. */
INL void rp_q40_body(int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs, int nr,
                     float *y, int64_t ys) {
    const int64_t nb = K / 32;
    const size_t od = zf_qx_d_offset(K);
    const uint8_t *wr[8];
    rows8(w, (int64_t)ws, nw, wr);
    for (int r = 0; r < nr; r++) {
        const uint8_t *row = qx + r * qxs;
        __m256 acc = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            const size_t o = 18 * (size_t)b;
            const __m512i xb = _mm512_broadcast_i64x4(ld256(row + 32 * b));
            const __m512i B = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(8), xb);
            __m512i S[4];
#pragma GCC unroll 4
            for (int p = 0; p < 4; p++)
                S[p] = _mm512_sub_epi32(
                    _mm512_dpbusd_epi32(_mm512_setzero_si512(), l32_pair(ZF_Q4_0, wr[2 * p] + o, wr[2 * p + 1] + o), xb),
                    B);
            const __m256 d = _mm256_mul_ps(f16_8(wr, o), _mm256_set1_ps(ld_f32(row + od + 4 * b)));
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(red4z(S[0], S[1], S[2], S[3])), d, acc);
        }
        store8(acc, nw, y + r * ys, 1);
    }
}

/* ---- K types ---- */

/* s16 lane index vectors for vpermw: g4[k] spreads scales 4k .. 4k+3 over 8
 * lanes each (sub-blocks of 16 elements); g2[k] spreads scales 2k, 2k+1
 * over 16 lanes each (sub-blocks of 32). */
static const int16_t k_g4[4][32] __attribute__((aligned(64))) = {
#define G4(g) {4*g,4*g,4*g,4*g,4*g,4*g,4*g,4*g, 4*g+1,4*g+1,4*g+1,4*g+1,4*g+1,4*g+1,4*g+1,4*g+1, \
               4*g+2,4*g+2,4*g+2,4*g+2,4*g+2,4*g+2,4*g+2,4*g+2, 4*g+3,4*g+3,4*g+3,4*g+3,4*g+3,4*g+3,4*g+3,4*g+3}
    G4(0), G4(1), G4(2), G4(3),
#undef G4
};
static const int16_t k_g2[4][32] __attribute__((aligned(64))) = {
#define G2(k) {2*k,2*k,2*k,2*k,2*k,2*k,2*k,2*k,2*k,2*k,2*k,2*k,2*k,2*k,2*k,2*k, \
               2*k+1,2*k+1,2*k+1,2*k+1,2*k+1,2*k+1,2*k+1,2*k+1,2*k+1,2*k+1,2*k+1,2*k+1,2*k+1,2*k+1,2*k+1,2*k+1}
    G2(0), G2(1), G2(2), G2(3),
#undef G2
};

INL __m512i spread(const int16_t *idx, __m512i s16) { return _mm512_permutexvar_epi16(_mm512_load_si512(idx), s16); }

static inline int bszk(zf_dtype t) {
    return t == ZF_Q2_K ? 84 : t == ZF_Q3_K ? 110 : t == ZF_Q4_K ? 144 : t == ZF_Q5_K ? 176 : 210;
}
static inline bool has_min(zf_dtype t) { return t == ZF_Q2_K || t == ZF_Q4_K || t == ZF_Q5_K; }

/* One decoded super-block: u[k] the 64 unsigned levels of elements 64k ..
 * 64k+63, sv[k] their sub-block scales per s16 lane (qmatmul.h sa), sb16
 * the 16 per-16 minimum multipliers (sb: q2_K its mins, q4_K/q5_K the
 * 32-block min twice, q3_K 4 * sa, q6_K 32 * sa), dA, dB as in zf_qk_scales. */
typedef struct {
    __m512i u[4], sv[4];
    __m256i sb16;
    float dA, dB;
} kdec;

INL void kdecode(zf_dtype t, const uint8_t *w, kdec *D) {
    switch (t) {
    case ZF_Q4_K:
    case ZF_Q5_K: {
        const bool five = t == ZF_Q5_K;
        D->dA = ld_f16(w);
        D->dB = ld_f16(w + 2);
        /* 8 six-bit scales and mins (quant_k.c scale_min_k4) as bytes sc0..7 | m0..7 */
        const uint32_t a = ld_u32(w + 4), bb = ld_u32(w + 8), c = ld_u32(w + 12);
        const uint32_t sc_lo = a & 0x3f3f3f3f, m_lo = bb & 0x3f3f3f3f;
        const uint32_t sc_hi = (c & 0x0f0f0f0f) | (((a >> 6) & 0x03030303) << 4);
        const uint32_t m_hi = ((c >> 4) & 0x0f0f0f0f) | (((bb >> 6) & 0x03030303) << 4);
        const __m256i sm16 = _mm256_cvtepu8_epi16(_mm_set_epi32((int)m_hi, (int)m_lo, (int)sc_hi, (int)sc_lo));
        const __m512i sc512 = _mm512_castsi256_si512(sm16);
        D->sb16 = _mm256_permutexvar_epi16(_mm256_setr_epi16(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15),
                                           sm16);
        const uint8_t *qs = w + (five ? 48 : 16);
        const __m256i qh1 = five ? ld256(w + 16) : _mm256_setzero_si256();
        const __m512i qh = join(qh1, qh1);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            const __m256i q = ld256(qs + 32 * k);
            __m512i u = join(nib_lo(q), nib_hi(q));
            if (five) u = _mm512_mask_add_epi8(u, bit_mask(qh, 2 * k, 2 * k + 1), u, _mm512_set1_epi8(16));
            D->u[k] = u;
            D->sv[k] = spread(k_g2[k], sc512);
        }
        break;
    }
    case ZF_Q6_K: {
        D->dA = D->dB = ld_f16(w + 208);
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(w + 192)));
        const __m512i sc512 = _mm512_castsi256_si512(sc16);
        D->sb16 = _mm256_slli_epi16(sc16, 5); /* 32 * sc: the -32 offset of every level */
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            /* half h: low nibbles of ql[64h ..] are elements 0..63, high
             * nibbles 64..127; qh[32h + l] bits 2g are the top two bits of
             * element 32g + l */
            const __m512i ql = _mm512_loadu_si512((const void *)(w + 64 * h));
            const __m256i qh = ld256(w + 128 + 32 * h);
            const __m512i m15 = _mm512_set1_epi8(15);
            __m512i ua = _mm512_and_si512(ql, m15), ub = _mm512_and_si512(_mm512_srli_epi16(ql, 4), m15);
            D->u[2 * h] = _mm512_or_si512(ua, _mm512_slli_epi16(join(bits2(qh, 0), bits2(qh, 2)), 4));
            D->u[2 * h + 1] = _mm512_or_si512(ub, _mm512_slli_epi16(join(bits2(qh, 4), bits2(qh, 6)), 4));
            D->sv[2 * h] = spread(k_g4[2 * h], sc512);
            D->sv[2 * h + 1] = spread(k_g4[2 * h + 1], sc512);
        }
        break;
    }
    default: { /* Q2_K, Q3_K: 2-bit fields, byte l of a half's 32 bytes holds elements l, l+32, l+64, l+96 */
        const bool three = t == ZF_Q3_K;
        __m256i sa16;
        if (three) { /* hmask[32] qs[64] scales[12] d */
            D->dA = D->dB = ld_f16(w + 108);
            /* 16 six-bit scales (quant_k.c q3k_scale), stored + 32 */
            const uint32_t a = ld_u32(w + 96), bb = ld_u32(w + 100), c = ld_u32(w + 104);
            const uint32_t w0 = (a & 0x0f0f0f0f) | ((c & 0x03030303) << 4);
            const uint32_t w1 = (bb & 0x0f0f0f0f) | (((c >> 2) & 0x03030303) << 4);
            const uint32_t w2 = ((a >> 4) & 0x0f0f0f0f) | (((c >> 4) & 0x03030303) << 4);
            const uint32_t w3 = ((bb >> 4) & 0x0f0f0f0f) | (((c >> 6) & 0x03030303) << 4);
            __m128i s8 = _mm_sub_epi8(_mm_set_epi32((int)w3, (int)w2, (int)w1, (int)w0), _mm_set1_epi8(32));
            sa16 = _mm256_cvtepi8_epi16(s8);
            D->sb16 = _mm256_slli_epi16(sa16, 2); /* level - 4 */
        } else { /* scales[16] qs[64] d dmin: scale low nibble, min high nibble */
            D->dA = ld_f16(w + 80);
            D->dB = ld_f16(w + 82);
            const __m128i s = _mm_loadu_si128((const __m128i *)(const void *)w);
            sa16 = _mm256_cvtepu8_epi16(_mm_and_si128(s, _mm_set1_epi8(15)));
            D->sb16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s, 4), _mm_set1_epi8(15)));
        }
        const __m512i sc512 = _mm512_castsi256_si512(sa16);
        const uint8_t *qs = w + (three ? 32 : 16);
        const __m256i hm1 = three ? ld256(w) : _mm256_setzero_si256();
        const __m512i hm = join(hm1, hm1);
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            const __m256i q = ld256(qs + 32 * h);
            __m512i ua = join(bits2(q, 0), bits2(q, 2)), ub = join(bits2(q, 4), bits2(q, 6));
            if (three) { /* hmask[l] bit i is the high bit (+4) of element 32i + l */
                ua = _mm512_mask_add_epi8(ua, bit_mask(hm, 4 * h, 4 * h + 1), ua, _mm512_set1_epi8(4));
                ub = _mm512_mask_add_epi8(ub, bit_mask(hm, 4 * h + 2, 4 * h + 3), ub, _mm512_set1_epi8(4));
            }
            D->u[2 * h] = ua;
            D->u[2 * h + 1] = ub;
            D->sv[2 * h] = spread(k_g4[2 * h], sc512);
            D->sv[2 * h + 1] = spread(k_g4[2 * h + 1], sc512);
        }
        break;
    }
    }
}

/* sa-weighted products of slice k of a decoded block with the x slice at xs. */
INL __m512i kslice(const kdec *D, int k, const uint8_t *xs, __m512i acc) {
    const __m512i xq = _mm512_loadu_si512((const void *)xs);
    return _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(D->u[k], xq), D->sv[k]);
}
/* The 16 lanes of a slice sum folded to ggml's 8 (elements 4l.. of both 32 groups). */
INL __m256i fold(__m512i v) { return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1)); }

/* VEC (ggml_vec_dot_q2_K_q8_K ... q6_K_q8_K), one weight row at a time
 * against nr x rows (two integer accumulators per row when few rows). */
INL void veck_body(zf_dtype t, int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs,
                   int nr, float *y, int64_t ys) {
    const int64_t nb = K / 256;
    const int bsz = bszk(t);
    const size_t od = zf_qx_d_offset(K), obs = zf_qx_bsums_offset(K);
    const int par = nr < 4 ? 1 : 0;
    for (int i = 0; i < nw; i++) {
        const uint8_t *wb = w + i * ws;
        __m256 L[R];
        __m128 Mn[R];
        float summs[R];
#pragma GCC unroll 8
        for (int r = 0; r < nr; r++) {
            L[r] = _mm256_setzero_ps();
            Mn[r] = _mm_setzero_ps();
            summs[r] = 0.0f;
        }
        for (int64_t b = 0; b < nb; b++, wb += bsz) {
            kdec D;
            kdecode(t, wb, &D);
            __m512i s[R][2], sb[R];
#pragma GCC unroll 8
            for (int r = 0; r < nr; r++) s[r][0] = s[r][1] = sb[r] = _mm512_setzero_si512();
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++)
#pragma GCC unroll 8
                for (int r = 0; r < nr; r++) {
                    const uint8_t *xs = qx + r * qxs + 256 * b + 64 * k;
                    s[r][k & par] = kslice(&D, k, xs, s[r][k & par]);
                    if (t == ZF_Q3_K) /* 4 * sa * x per element: the level - 4 of ggml's q3_K lanes */
                        sb[r] = _mm512_dpwssd_epi32(
                            sb[r], _mm512_maddubs_epi16(_mm512_set1_epi8(4), _mm512_loadu_si512((const void *)xs)),
                            D.sv[k]);
                }
#pragma GCC unroll 8
            for (int r = 0; r < nr; r++) {
                const uint8_t *row = qx + r * qxs;
                const __m256i SA = fold(_mm512_add_epi32(s[r][0], s[r][1]));
                const float dx = ld_f32(row + od + 4 * b), dd = dx * D.dA, dm = -(dx * D.dB);
                const __m256i mp = _mm256_madd_epi16(D.sb16, ld256(row + obs + 32 * b));
                if (t == ZF_Q4_K || t == ZF_Q5_K) {
                    L[r] = _mm256_fmadd_ps(_mm256_set1_ps(dd), _mm256_cvtepi32_ps(SA), L[r]);
                    /* minimums per 64 elements: lanes 2t + 2t+1 of m_l * B_l */
                    const __m128i h =
                        _mm_hadd_epi32(_mm256_castsi256_si128(mp), _mm256_extracti128_si256(mp, 1));
                    if (t == ZF_Q4_K) {
                        Mn[r] = _mm_fmadd_ps(_mm_set1_ps(dm), _mm_cvtepi32_ps(h), Mn[r]);
                    } else {
                        const __m128i h2 = _mm_hadd_epi32(h, h);
                        summs[r] = fmaf((float)_mm_cvtsi128_si32(_mm_hadd_epi32(h2, h2)), dm, summs[r]);
                    }
                } else if (t == ZF_Q2_K) {
                    L[r] = _mm256_fmadd_ps(_mm256_set1_ps(dm), _mm256_cvtepi32_ps(mp), L[r]);
                    L[r] = _mm256_fmadd_ps(_mm256_set1_ps(dd), _mm256_cvtepi32_ps(SA), L[r]);
                } else {
                    const __m256i V = _mm256_sub_epi32(SA, t == ZF_Q6_K ? mp : fold(sb[r]));
                    L[r] = _mm256_fmadd_ps(_mm256_set1_ps(dd), _mm256_cvtepi32_ps(V), L[r]);
                }
            }
        }
#pragma GCC unroll 8
        for (int r = 0; r < nr; r++) {
            float v = hsum8(L[r]);
            if (t == ZF_Q4_K) v = v + hsum4(Mn[r]);
            if (t == ZF_Q5_K) v = v + summs[r];
            y[r * ys + i] = v;
        }
    }
}

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
/* Lane r: sb_2p * bs_2p + sb_2p+1 * bs_2p+1 of x row r. */
INL __m256i kmin_pair(const kdec *D, const kx8 *X, int p) {
    return _mm256_madd_epi16(X->bs_pairs[p], _mm256_permutexvar_epi32(_mm256_set1_epi32(p), D->sb16));
}

/* TILED (tiled-kernel.cpp VNNI microtile) and GEMM of repacked q4_K/q2_K
 * (ggml_gemm_q4_K_8x8_q8_K: one FMA per 64 elements; q2_K per 128): lanes =
 * 8 x rows, one weight row at a time. */
INL void k8rows_body(zf_dtype t, zf_qmm_recipe rc, int64_t K, const uint8_t *w, size_t ws, int nw,
                     const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    const int64_t nb = K / 256;
    const int bsz = bszk(t);
    const uint8_t *xr[8];
    rows8(qx, qxs, nr, xr);
    __m256 A[ZF_QDOT_MAX_W], B[ZF_QDOT_MAX_W];
    for (int i = 0; i < nw; i++) A[i] = B[i] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        kx8 X;
        kx8_load(xr, K, b, &X);
        for (int i = 0; i < nw; i++) {
            kdec D;
            kdecode(t, w + i * ws + (size_t)b * bsz, &D);
            __m256i mT[8];
#pragma GCC unroll 8
            for (int p = 0; p < 8; p++) mT[p] = kmin_pair(&D, &X, p);
            if (rc == ZF_QR_TILED) {
                __m512i s[8];
#pragma GCC unroll 8
                for (int r = 0; r < 8; r++) {
                    s[r] = _mm512_setzero_si512();
#pragma GCC unroll 4
                    for (int k = 0; k < 4; k++) s[r] = kslice(&D, k, xr[r] + 256 * b + 64 * k, s[r]);
                }
                __m256i SB = mT[0];
#pragma GCC unroll 7
                for (int p = 1; p < 8; p++) SB = _mm256_add_epi32(SB, mT[p]);
                __m256i S1 = red8z(s);
                if (!has_min(t)) S1 = _mm256_sub_epi32(S1, SB);
                __m256 res = _mm256_mul_ps(_mm256_cvtepi32_ps(S1), _mm256_set1_ps(D.dA));
                if (has_min(t)) res = _mm256_fnmadd_ps(_mm256_set1_ps(D.dB), _mm256_cvtepi32_ps(SB), res);
                A[i] = _mm256_fmadd_ps(res, X.dx, A[i]);
            } else { /* GEMM: steps of 64 (q4_K) or 128 (q2_K) elements */
                const int per = t == ZF_Q4_K ? 1 : 2; /* slices per step */
                const __m256 ca = _mm256_mul_ps(_mm256_set1_ps(D.dA), X.dx);
                const __m256 cb = _mm256_mul_ps(_mm256_set1_ps(D.dB), X.dx);
                for (int k0 = 0; k0 < 4; k0 += per) {
                    __m512i s[8];
#pragma GCC unroll 8
                    for (int r = 0; r < 8; r++) {
                        s[r] = kslice(&D, k0, xr[r] + 256 * b + 64 * k0, _mm512_setzero_si512());
                        if (per == 2) s[r] = kslice(&D, k0 + 1, xr[r] + 256 * b + 64 * (k0 + 1), s[r]);
                    }
                    __m256i SB = _mm256_add_epi32(mT[2 * k0], mT[2 * k0 + 1]);
                    if (per == 2) SB = _mm256_add_epi32(SB, _mm256_add_epi32(mT[2 * k0 + 2], mT[2 * k0 + 3]));
                    A[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(red8z(s)), ca, A[i]);
                    B[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(SB), cb, B[i]);
                }
            }
        }
    }
    for (int i = 0; i < nw; i++) store8(rc == ZF_QR_TILED ? A[i] : _mm256_sub_ps(A[i], B[i]), nr, y + i, ys);
}

/* GEMV of repacked q4_K/q2_K (ggml_gemv_q4_K_8x8_q8_K, q2_K): per block A =
 * fma(SA, dA * dx, A), B = fma(SB, dB * dx, B), y = A - B. Lanes = 8 weight
 * rows, one pass per x row. */
INL void kgemv_body(zf_dtype t, int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs,
                    int nr, float *y, int64_t ys) {
    const int64_t nb = K / 256;
    const int bsz = bszk(t);
    const size_t od = zf_qx_d_offset(K), obs = zf_qx_bsums_offset(K);
    const uint8_t *wr[8];
    rows8(w, (int64_t)ws, nw, wr);
    for (int r = 0; r < nr; r++) {
        const uint8_t *row = qx + r * qxs;
        __m256 A = _mm256_setzero_ps(), B = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            const __m256i bs16 = ld256(row + obs + 32 * b);
            __m512i s[8];
            __m256i mp[8];
            float dA[8], dB[8];
#pragma GCC unroll 8
            for (int i = 0; i < 8; i++) {
                kdec D;
                kdecode(t, wr[i] + (size_t)b * bsz, &D);
                __m512i a = kslice(&D, 0, row + 256 * b, _mm512_setzero_si512());
                __m512i c = kslice(&D, 1, row + 256 * b + 64, _mm512_setzero_si512());
                a = kslice(&D, 2, row + 256 * b + 128, a);
                c = kslice(&D, 3, row + 256 * b + 192, c);
                s[i] = _mm512_add_epi32(a, c);
                mp[i] = _mm256_madd_epi16(D.sb16, bs16);
                dA[i] = D.dA;
                dB[i] = D.dB;
            }
            const __m256 dx = _mm256_set1_ps(ld_f32(row + od + 4 * b));
            A = _mm256_fmadd_ps(_mm256_cvtepi32_ps(red8z(s)), _mm256_mul_ps(_mm256_loadu_ps(dA), dx), A);
            B = _mm256_fmadd_ps(_mm256_cvtepi32_ps(red8y(mp)), _mm256_mul_ps(_mm256_loadu_ps(dB), dx), B);
        }
        store8(_mm256_sub_ps(A, B), nw, y + r * ys, 1);
    }
}

/* ---- float weights: x rows are f32 ---- */

INL __m512 ldw(zf_dtype t, const uint8_t *w, int64_t k, __mmask16 m) {
    if (t == ZF_F32) return _mm512_maskz_loadu_ps(m, w + 4 * k);
    __m256i h = _mm256_maskz_loadu_epi16(m, w + 2 * k);
    if (t == ZF_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); /* bf16: top half of f32 */
}

INL void dotf_row(zf_dtype t, int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y,
                  int64_t ys) {
    /* four accumulator chains per row, for every nr: the sums are then
     * rounded the same way whatever the row grouping (qmatmul.c calls this
     * with at most 4 rows: 16 accumulators + 4 weight vectors in registers) */
    __m512 acc[R][4];
#pragma GCC unroll 8
    for (int r = 0; r < nr; r++)
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) acc[r][i] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 64 <= K; k += 64) {
        __m512 wv[4];
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) wv[i] = ldw(t, w, k + 16 * i, 0xFFFF);
#pragma GCC unroll 8
        for (int r = 0; r < nr; r++) {
            const float *x = (const float *)(const void *)(qx + r * qxs) + k;
#pragma GCC unroll 4
            for (int i = 0; i < 4; i++) acc[r][i] = _mm512_fmadd_ps(wv[i], _mm512_loadu_ps(x + 16 * i), acc[r][i]);
        }
    }
    for (; k < K; k += 16) {
        const int n = K - k < 16 ? (int)(K - k) : 16;
        const __mmask16 m = (__mmask16)((1u << n) - 1u);
        const __m512 wv = ldw(t, w, k, m);
#pragma GCC unroll 8
        for (int r = 0; r < nr; r++)
            acc[r][0] = _mm512_fmadd_ps(
                wv, _mm512_maskz_loadu_ps(m, (const float *)(const void *)(qx + r * qxs) + k), acc[r][0]);
    }
#pragma GCC unroll 8
    for (int r = 0; r < nr; r++) {
        __m512 a = _mm512_add_ps(_mm512_add_ps(acc[r][0], acc[r][1]), _mm512_add_ps(acc[r][2], acc[r][3]));
        y[r * ys] = _mm512_reduce_add_ps(a);
    }
}
INL void dotf_body(zf_dtype t, int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs,
                   int nr, float *y, int64_t ys) {
    for (int i = 0; i < nw; i++) dotf_row(t, K, w + i * ws, qx, qxs, nr, y + i, ys);
}

/* ---- entry points: nr dispatched to constant-row bodies ---- */

#define ARGS int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys
#define ENTRY_NR(name, body, t)                          \
    TGT static void name(ARGS) {                         \
        switch (nr) {                                    \
        case 1: body(t, K, w, ws, nw, qx, qxs, 1, y, ys); break; \
        case 2: body(t, K, w, ws, nw, qx, qxs, 2, y, ys); break; \
        case 3: body(t, K, w, ws, nw, qx, qxs, 3, y, ys); break; \
        case 4: body(t, K, w, ws, nw, qx, qxs, 4, y, ys); break; \
        case 5: body(t, K, w, ws, nw, qx, qxs, 5, y, ys); break; \
        case 6: body(t, K, w, ws, nw, qx, qxs, 6, y, ys); break; \
        case 7: body(t, K, w, ws, nw, qx, qxs, 7, y, ys); break; \
        default: body(t, K, w, ws, nw, qx, qxs, 8, y, ys); break; \
        }                                                \
    }
#define ENTRY_K8(name, t, rc) \
    TGT static void name(ARGS) { k8rows_body(t, rc, K, w, ws, nw, qx, qxs, nr, y, ys); }
#define ENTRY_KGEMV(name, t) \
    TGT static void name(ARGS) { kgemv_body(t, K, w, ws, nw, qx, qxs, nr, y, ys); }

ENTRY_NR(vec_q4_0, vec32_body, ZF_Q4_0)
ENTRY_NR(vec_q4_1, vec32_body, ZF_Q4_1)
ENTRY_NR(vec_q5_0, vec32_body, ZF_Q5_0)
ENTRY_NR(vec_q5_1, vec32_body, ZF_Q5_1)
ENTRY_NR(vec_q8_0, vec32_body, ZF_Q8_0)
TGT static void rp_q4_0(ARGS) { rp_q40_body(K, w, ws, nw, qx, qxs, nr, y, ys); }

ENTRY_NR(vec_q2_k, veck_body, ZF_Q2_K)
ENTRY_NR(vec_q3_k, veck_body, ZF_Q3_K)
ENTRY_NR(vec_q4_k, veck_body, ZF_Q4_K)
ENTRY_NR(vec_q5_k, veck_body, ZF_Q5_K)
ENTRY_NR(vec_q6_k, veck_body, ZF_Q6_K)
ENTRY_K8(tiled_q2_k, ZF_Q2_K, ZF_QR_TILED)
ENTRY_K8(tiled_q3_k, ZF_Q3_K, ZF_QR_TILED)
ENTRY_K8(tiled_q4_k, ZF_Q4_K, ZF_QR_TILED)
ENTRY_K8(tiled_q5_k, ZF_Q5_K, ZF_QR_TILED)
ENTRY_K8(tiled_q6_k, ZF_Q6_K, ZF_QR_TILED)
ENTRY_K8(gemm_q2_k, ZF_Q2_K, ZF_QR_GEMM)
ENTRY_K8(gemm_q4_k, ZF_Q4_K, ZF_QR_GEMM)
ENTRY_KGEMV(gemv_q2_k, ZF_Q2_K)
ENTRY_KGEMV(gemv_q4_k, ZF_Q4_K)

#define DOTF_NR(n) dotf_body(t, K, w, ws, nw, qx, qxs, n, y, ys)
#define ENTRY_F(name, tt)                   \
    TGT static void name(ARGS) {            \
        const zf_dtype t = tt;              \
        switch (nr) {                       \
        case 1: DOTF_NR(1); break;          \
        case 2: DOTF_NR(2); break;          \
        case 3: DOTF_NR(3); break;          \
        default: DOTF_NR(4); break;         \
        }                                   \
    }
ENTRY_F(dot_f32, ZF_F32)
ENTRY_F(dot_f16, ZF_F16)
ENTRY_F(dot_bf16, ZF_BF16)

const zf_qkernels zf_qkernels_avx512 = {
    .name = "avx512",
    .supported = supported,
    .max_rows = 8,
    .dot =
        {
            [ZF_QR_VEC] = {[ZF_F32] = dot_f32, [ZF_F16] = dot_f16, [ZF_BF16] = dot_bf16, [ZF_Q4_0] = vec_q4_0,
                           [ZF_Q4_1] = vec_q4_1, [ZF_Q5_0] = vec_q5_0, [ZF_Q5_1] = vec_q5_1, [ZF_Q8_0] = vec_q8_0,
                           [ZF_Q2_K] = vec_q2_k, [ZF_Q3_K] = vec_q3_k, [ZF_Q4_K] = vec_q4_k, [ZF_Q5_K] = vec_q5_k,
                           [ZF_Q6_K] = vec_q6_k},
            [ZF_QR_TILED] = {[ZF_Q2_K] = tiled_q2_k, [ZF_Q3_K] = tiled_q3_k, [ZF_Q4_K] = tiled_q4_k,
                             [ZF_Q5_K] = tiled_q5_k, [ZF_Q6_K] = tiled_q6_k},
            [ZF_QR_GEMV] = {[ZF_Q4_0] = rp_q4_0, [ZF_Q2_K] = gemv_q2_k, [ZF_Q4_K] = gemv_q4_k},
            [ZF_QR_GEMM] = {[ZF_Q4_0] = rp_q4_0, [ZF_Q2_K] = gemm_q2_k, [ZF_Q4_K] = gemm_q4_k},
        },
};

#endif
