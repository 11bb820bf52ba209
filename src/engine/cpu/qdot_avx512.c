/* AVX-512 (F/BW/VL/VNNI/DQ) dot kernels of the quantized matmul: the recipes
 * of qmatmul.h (ggml's float order; qdot_ref.c states each one plainly),
 * with the integer sums done in SIMD.
 *
 * Integer parts: weight levels are unsigned bytes (q8_0 as q + 128) and x
 * is int8, so products go through u8 x s8 instructions: vpdpbusd for the
 * 32-blocks (one int32 lane per 4 elements, ggml's lane layout), and for
 * the K types (VEC, GEMV) vpmaddubsw (pairs -> s16; levels <= 63 keep it
 * exact) then vpdpwssd against the sub-block scales as s16. A zmm holds 64
 * levels in element order: two 32-blocks of a pair of weight rows [row i |
 * row i+1], or one 64-element slice of a super-block.
 *
 * Float parts, per recipe:
 *   VEC 32-blocks: a pair of weight rows shares a zmm, 8 lanes each; per
 *       block lanes = fma(dw * dx, S, lanes), hsum per half at the end.
 *   VEC K types: per weight row and x row a ymm of 8 lanes (the zmm slice
 *       sums folded: lanes l and l + 8 hold elements 4l.. of the two 32
 *       groups), the minimums as in ggml_vec_dot_q*_K_q8_K.
 *   TILED and GEMM (K types, q4_0): lanes = 16 x rows, as ggml's VNNI
 *       microtile: x transposed per block (a zmm per dword of the 16 rows),
 *       each weight dword broadcast against it (vpdpbusd), sub-block sums
 *       scaled with vpmulld; no horizontal sums. The minimum terms use the
 *       bsums of the x rows transposed to pairs of 16-bit sums per lane
 *       (bs_pairs): one vpmaddwd per pair of sub-blocks gives sb_2p * bs_2p
 *       + sb_2p+1 * bs_2p+1 for every row.
 *   GEMV (lanes = 8 weight rows of one x row): integer totals of 8 (weight,
 *       x) pairs reduced into one ymm (red4z), then one vector FMA.
 *
 * Built without -m flags: every function carries the target attribute, and
 * none runs unless supported() said yes. The file is compiled with
 * -ffp-contract=off; fmaf here is the FMA instruction. */
#include "engine/cpu/qmatmul.h"

#if defined(__x86_64__) || defined(__i386__)
#define TGT __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512dq,avx2,fma,f16c")))
#define INL TGT static inline __attribute__((always_inline))
#define R ZF_QDOT_MAX_ROWS
#include "core/cpu_x86.h"
#include "engine/cpu/qdot_x86.h"

static bool supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma") && zf_cpu_has_f16c();
}

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
/* ---- 32-element blocks ---- */

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
/* The hsum_float_8 of each half of L (rows i, i+1) plus, for q4_1/q5_1,
 * the minimum terms; stores y[i] and (when i + 1 < nw) y[i + 1]. */
INL void vec32_store(bool has_m, __m512 L, __m128 Sm, int i, int nw, float *y) {
    __m512 a = _mm512_add_ps(L, _mm512_shuffle_f32x4(L, L, _MM_SHUFFLE(2, 3, 0, 1)));
    a = _mm512_add_ps(a, _mm512_permute_ps(a, _MM_SHUFFLE(3, 2, 3, 2)));
    a = _mm512_add_ps(a, _mm512_movehdup_ps(a));
    float y0 = _mm512_cvtss_f32(a), y1 = _mm_cvtss_f32(_mm512_extractf32x4_ps(a, 2));
    if (has_m) {
        y0 = y0 + _mm_cvtss_f32(Sm);
        y1 = y1 + _mm_cvtss_f32(_mm_movehdup_ps(Sm));
    }
    y[i] = y0;
    if (i + 1 < nw) y[i + 1] = y1;
}

/* VEC for one or two x rows (decode): the weight rows (up to
 * ZF_QDOT_MAX_W, as 4 pairs) walk the blocks together, so 8 rows of W
 * stream at once and the x block (and q8_0's bias term) is loaded once per
 * block. Each pair's lanes take the same FMA chain as vec32_body's, so the
 * bits are the same. The weight rows of a call are contiguous (ws apart);
 * the rows two calls ahead are prefetched along the way (prefetches past
 * the end of W are harmless hints). */
#define VEC32_PAIRS (ZF_QDOT_MAX_W / 2)
INL void vec32_wide(zf_dtype t, int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs,
                    int nr, float *y, int64_t ys) {
    const int bsz = bsz32(t), bias = bias32(t);
    const bool has_m = t == ZF_Q4_1 || t == ZF_Q5_1;
    const int64_t nb = K / 32;
    const size_t od = zf_qx_d_offset(K), os = zf_qx_s_offset(K);
    const __m512i vbias = _mm512_set1_epi8((char)bias);
    const uint8_t *w0[VEC32_PAIRS], *w1[VEC32_PAIRS];
#pragma GCC unroll 4
    for (int p = 0; p < VEC32_PAIRS; p++) {
        const int i0 = 2 * p < nw ? 2 * p : 0, i1 = 2 * p + 1 < nw ? 2 * p + 1 : i0;
        w0[p] = w + i0 * ws;
        w1[p] = w + i1 * ws;
    }
    /* prefetch: the next call's rows, spread over the blocks */
    const size_t span = (size_t)nw * ws, pstep = (span / (size_t)nb + 63) & ~(size_t)63;
    const uint8_t *pf = w + 2 * span; /* two calls ahead: measured best of 0-4 on the 262144 x 640 q8_0 */
    __m512 L[VEC32_PAIRS][2];
    __m128 Sm[VEC32_PAIRS][2];
#pragma GCC unroll 4
    for (int p = 0; p < VEC32_PAIRS; p++)
#pragma GCC unroll 2
        for (int r = 0; r < nr; r++) {
            L[p][r] = _mm512_setzero_ps();
            Sm[p][r] = _mm_setzero_ps();
        }
    for (int64_t b = 0; b < nb; b++) {
        for (size_t o = 0; o < pstep; o += 64) _mm_prefetch((const char *)pf + o, _MM_HINT_T0);
        pf += pstep;
        __m512i xb[2], xbias[2];
        __m512 dx[2];
        __m128 sx[2];
#pragma GCC unroll 2
        for (int r = 0; r < nr; r++) {
            const uint8_t *row = qx + r * qxs;
            xb[r] = _mm512_broadcast_i64x4(ld256(row + 32 * b));
            if (bias) xbias[r] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), vbias, xb[r]);
            dx[r] = _mm512_set1_ps(ld_f32(row + od + 4 * b));
            if (has_m) sx[r] = _mm_set1_ps(ld_f32(row + os + 4 * b));
        }
#pragma GCC unroll 4
        for (int p = 0; p < VEC32_PAIRS; p++) {
            const uint8_t *a = w0[p] + (size_t)b * bsz, *c = w1[p] + (size_t)b * bsz;
            const __m512i u = l32_pair(t, a, c);
            const __m512 dw = f16_pair(a, c);
            __m128 mw = _mm_setzero_ps();
            if (has_m)
                mw = _mm_cvtph_ps(
                    _mm_cvtsi32_si128((int)((uint32_t)(a[2] | a[3] << 8) | (uint32_t)(c[2] | c[3] << 8) << 16)));
#pragma GCC unroll 2
            for (int r = 0; r < nr; r++) {
                __m512i S = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, xb[r]);
                if (bias) S = _mm512_sub_epi32(S, xbias[r]);
                const __m512 d = _mm512_mul_ps(dw, dx[r]);
                L[p][r] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(S), L[p][r]);
                if (has_m) Sm[p][r] = _mm_fmadd_ps(mw, sx[r], Sm[p][r]);
            }
        }
    }
#pragma GCC unroll 4
    for (int p = 0; p < VEC32_PAIRS; p++)
#pragma GCC unroll 2
        for (int r = 0; r < nr; r++)
            if (2 * p < nw) vec32_store(has_m, L[p][r], Sm[p][r], 2 * p, nw, y + r * ys);
}

/* VEC for q4_0/q5_0/q8_0 with several x rows (prefill): two pairs of
 * weight rows walk the blocks together, so each x block, its scale and its
 * bias term are loaded once for 4 weight rows; the bias term enters as
 * dpbusd's accumulator (-bias * the 4-element sums of x: the same integer
 * as the separate subtraction, dpbusd wraps without saturating). Each
 * pair's lanes take vec32_body's FMA chain: the same bits. */
INL void vec32_quad(zf_dtype t, int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs,
                    int nr, float *y, int64_t ys) {
    const int bsz = bsz32(t), bias = bias32(t);
    const int64_t nb = K / 32;
    const size_t od = zf_qx_d_offset(K);
    const __m512i vbias = _mm512_set1_epi8((char)bias); /* unsigned: 8, 16, 128 */
    for (int i = 0; i < nw; i += 4) {
        const uint8_t *w0[2], *w1[2];
#pragma GCC unroll 2
        for (int p = 0; p < 2; p++) {
            const int i0 = i + 2 * p < nw ? i + 2 * p : i, i1 = i0 + 1 < nw ? i0 + 1 : i0;
            w0[p] = w + i0 * ws;
            w1[p] = w + i1 * ws;
        }
        __m512 L[2][R];
#pragma GCC unroll 8
        for (int r = 0; r < nr; r++) L[0][r] = L[1][r] = _mm512_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            __m512i u[2];
            __m512 dw[2];
#pragma GCC unroll 2
            for (int p = 0; p < 2; p++) {
                const uint8_t *a = w0[p] + (size_t)b * bsz, *c = w1[p] + (size_t)b * bsz;
                u[p] = l32_pair(t, a, c);
                dw[p] = f16_pair(a, c);
            }
#pragma GCC unroll 8
            for (int r = 0; r < nr; r++) {
                const uint8_t *row = qx + r * qxs;
                const __m512i xb = _mm512_broadcast_i64x4(ld256(row + 32 * b));
                const __m512i acc = _mm512_sub_epi32(_mm512_setzero_si512(),
                                                     _mm512_dpbusd_epi32(_mm512_setzero_si512(), vbias, xb));
                const __m512 dx = _mm512_set1_ps(ld_f32(row + od + 4 * b));
#pragma GCC unroll 2
                for (int p = 0; p < 2; p++) {
                    const __m512i S = _mm512_dpbusd_epi32(acc, u[p], xb);
                    L[p][r] = _mm512_fmadd_ps(_mm512_mul_ps(dw[p], dx), _mm512_cvtepi32_ps(S), L[p][r]);
                }
            }
        }
#pragma GCC unroll 2
        for (int p = 0; p < 2; p++)
            if (i + 2 * p < nw)
#pragma GCC unroll 8
                for (int r = 0; r < nr; r++) vec32_store(false, L[p][r], _mm_setzero_ps(), i + 2 * p, nw, y + r * ys);
    }
}

/* VEC (ggml_vec_dot_q4_0_q8_0 ... q8_0_q8_0; tinyBLAS_Q0_AVX the same):
 * weight rows in pairs, nr x rows. */
INL void vec32_body(zf_dtype t, int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs,
                    int nr, float *y, int64_t ys) {
    if (nr <= 2) {
        vec32_wide(t, K, w, ws, nw, qx, qxs, nr, y, ys);
        return;
    }
    if (t == ZF_Q4_0 || t == ZF_Q5_0 || t == ZF_Q8_0) {
        vec32_quad(t, K, w, ws, nw, qx, qxs, nr, y, ys);
        return;
    }
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
        for (int r = 0; r < nr; r++) vec32_store(has_m, L[r], Sm[r], i, nw, y + r * ys);
    }
}

/* Totals of 8 weight rows' q4_0 blocks at wr[i] + o (lanes) against the
 * x block at xs (qdot_x86_recipes.h rp_q40_body). */
INL __m256i q40_totals(const uint8_t *const wr[8], size_t o, const uint8_t *xs) {
    const __m512i xb = _mm512_broadcast_i64x4(ld256(xs));
    const __m512i B = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(8), xb);
    __m512i S[4];
#pragma GCC unroll 4
    for (int p = 0; p < 4; p++)
        S[p] = _mm512_sub_epi32(
            _mm512_dpbusd_epi32(_mm512_setzero_si512(), l32_pair(ZF_Q4_0, wr[2 * p] + o, wr[2 * p + 1] + o), xb), B);
    return red4z(S[0], S[1], S[2], S[3]);
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

/* One decoded super-block: u[k] the 64 unsigned levels of elements 64k ..
 * 64k+63, sv[k] their sub-block scales per s16 lane (qmatmul.h sa), sb16
 * the 16 per-16 minimum multipliers (sb: q2_K its mins, q4_K/q5_K the
 * 32-block min twice, q3_K 4 * sa, q6_K 32 * sa), dA, dB as in zf_qk_scales. */
typedef struct {
    __m512i u[4], sv[4];
    __m256i sa16, sb16; /* sa16: the 16 per-16 scales as s16 */
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
        const __m256i mdup = _mm256_setr_epi16(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
        D->sb16 = _mm256_permutexvar_epi16(mdup, sm16); /* m0 m0 m1 m1 ...: per 16 elements */
        D->sa16 = _mm256_permutexvar_epi16(_mm256_sub_epi16(mdup, _mm256_set1_epi16(8)), sm16);
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
        D->sa16 = sc16;
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
        D->sa16 = sa16;
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
                const __m256i mp = _mm256_madd_epi16(D.sb16, ld256(row + obs + 32 * b));
                veck_step(t, fold(_mm512_add_epi32(s[r][0], s[r][1])), mp,
                          t == ZF_Q3_K ? fold(sb[r]) : _mm256_setzero_si256(), ld_f32(row + od + 4 * b), D.dA, D.dB,
                          &L[r], &Mn[r], &summs[r]);
            }
        }
#pragma GCC unroll 8
        for (int r = 0; r < nr; r++) y[r * ys + i] = veck_result(t, L[r], Mn[r], summs[r]);
    }
}

/* The ISA hooks of qdot_x86_recipes.h (GEMV): a pair's partial sums in 16
 * lanes (two accumulators for a whole block) and their reduction over 8
 * pairs. */
#define KVEC __m512i
INL __m512i kpart(const kdec *D, int g0, int g1, const uint8_t *xs) {
    __m512i a = _mm512_setzero_si512(), c = _mm512_setzero_si512();
    for (int k = g0 / 2; k < g1 / 2; k++) {
        if (k & 1) c = kslice(D, k, xs + 64 * k, c);
        else a = kslice(D, k, xs + 64 * k, a);
    }
    return _mm512_add_epi32(a, c);
}
INL __m256i kred8(const __m512i v[8]) { return red8z(v); }

/* x block b (256 bytes) of 8 rows transposed: xT[stride * j + r] = dword j
 * (bytes 4j .. 4j+3) of row r. */
INL void x8_transpose(const uint8_t *const xr[8], int64_t b, int32_t *xT, int stride) {
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) { /* 16 dwords of every row */
        __m512i v[8], t[8], u[8];
#pragma GCC unroll 8
        for (int r = 0; r < 8; r++) v[r] = _mm512_loadu_si512((const void *)(xr[r] + 256 * b + 64 * c));
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) {
            t[2 * i] = _mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]);
            t[2 * i + 1] = _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]);
        }
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            u[4 * h + 0] = _mm512_unpacklo_epi64(t[4 * h], t[4 * h + 2]);
            u[4 * h + 1] = _mm512_unpackhi_epi64(t[4 * h], t[4 * h + 2]);
            u[4 * h + 2] = _mm512_unpacklo_epi64(t[4 * h + 1], t[4 * h + 3]);
            u[4 * h + 3] = _mm512_unpackhi_epi64(t[4 * h + 1], t[4 * h + 3]);
        }
        /* u[e] quarter q: dword 4q + e' of rows 0-3 (e < 4) or 4-7; pair the quarters */
        const __m512i ia = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
        const __m512i ib = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
#pragma GCC unroll 4
        for (int e = 0; e < 4; e++) {
            const __m512i lo = _mm512_permutex2var_epi64(u[e], ia, u[e + 4]); /* dwords e, 8 + e */
            const __m512i hi = _mm512_permutex2var_epi64(u[e], ib, u[e + 4]); /* dwords 4 + e, 12 + e */
            int32_t *o = xT + stride * (16 * c);
            _mm256_store_si256((__m256i *)(void *)(o + stride * e), _mm512_castsi512_si256(lo));
            _mm256_store_si256((__m256i *)(void *)(o + stride * (8 + e)), _mm512_extracti64x4_epi64(lo, 1));
            _mm256_store_si256((__m256i *)(void *)(o + stride * (4 + e)), _mm512_castsi512_si256(hi));
            _mm256_store_si256((__m256i *)(void *)(o + stride * (12 + e)), _mm512_extracti64x4_epi64(hi, 1));
        }
    }
}

/* The 16 x rows of a TILED/GEMM call, one super-block: dx per lane and the
 * bsums as pairs of 16-bit sums per lane (qdot_x86.h kx8, twice). */
typedef struct {
    __m512 dx;
    __m512i bs_pairs[8];
} kx16;

INL void kx16_load(const uint8_t *const xr[16], int64_t K, int64_t b, kx16 *X) {
    kx8 lo, hi;
    kx8_load(xr, K, b, &lo);
    kx8_load(xr + 8, K, b, &hi);
    X->dx = _mm512_insertf32x8(_mm512_castps256_ps512(lo.dx), hi.dx, 1);
#pragma GCC unroll 8
    for (int p = 0; p < 8; p++) X->bs_pairs[p] = join(lo.bs_pairs[p], hi.bs_pairs[p]);
}
/* Lane r: sb_2p * bs_2p + sb_2p+1 * bs_2p+1 of x row r. */
INL __m512i kmin_pair16(__m256i sb16, const kx16 *X, int p) {
    const __m512i pair = _mm512_permutexvar_epi32(_mm512_set1_epi32(p), _mm512_castsi256_si512(sb16));
    return _mm512_madd_epi16(X->bs_pairs[p], pair);
}

/* TILED (tiled-kernel.cpp VNNI microtile) and GEMM of repacked q4_K/q2_K
 * (ggml_gemm_q4_K_8x8_q8_K: one FMA per 64 elements; q2_K per 128): lanes =
 * 16 x rows, laid out as ggml's microtile does: per super-block the x rows
 * are transposed (a zmm per dword of the 16 rows) and the weight rows
 * decoded to bytes; each x dword vector is loaded once and meets every
 * weight row's broadcast dword (vpdpbusd), one accumulator per weight row
 * and sub-block, scaled (vpmulld) when the sub-block ends. */
#define QDOT_OWN_K8ROWS
INL void k8rows_body(zf_dtype t, zf_qmm_recipe rc, int64_t K, const uint8_t *w, size_t ws, int nw,
                     const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    const int64_t nb = K / 256;
    const int bsz = bszk(t);
    const int G = t == ZF_Q4_K || t == ZF_Q5_K ? 8 : 4; /* dwords per scale (sub-block) */
    const int ng = 64 / G;
    const int step = rc == ZF_QR_TILED ? ng : t == ZF_Q4_K ? 2 : 8; /* sub-blocks per FMA */
    enum { W = ZF_QDOT_MAX_W, XR = ZF_QDOT_MAX_ROWS_K8 };
    const uint8_t *xr[XR];
#pragma GCC unroll 16
    for (int r = 0; r < XR; r++) xr[r] = qx + (r < nr ? r : 0) * qxs;
    int32_t xT[64 * XR] __attribute__((aligned(64)));
    int32_t lv[W][64] __attribute__((aligned(64)));
    int32_t sa[W][16] __attribute__((aligned(64)));
    __m256i sb16[W];
    float dA[W], dB[W];
    __m512 A[W], B[W];
#pragma GCC unroll 8
    for (int i = 0; i < W; i++) A[i] = B[i] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        kx16 X;
        kx16_load(xr, K, b, &X);
        x8_transpose(xr, b, xT, XR);
        x8_transpose(xr + 8, b, xT + 8, XR);
        for (int i = 0; i < W; i++) { /* rows past nw repeat row 0 */
            kdec D;
            kdecode(t, w + (i < nw ? i : 0) * ws + (size_t)b * bsz, &D);
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) _mm512_store_si512((void *)(lv[i] + 16 * k), D.u[k]);
            _mm512_store_si512((void *)sa[i], _mm512_cvtepi16_epi32(D.sa16));
            sb16[i] = D.sb16;
            dA[i] = D.dA;
            dB[i] = D.dB;
        }
        /* read them back from memory: a broadcast load per dword (load
         * ports) rather than register shuffles, which GCC would otherwise
         * derive from the stored vectors (shuffle port bound) */
        __asm__ volatile("" ::: "memory");
        for (int g0 = 0; g0 < ng; g0 += step) {
            __m512i S[W];
#pragma GCC unroll 8
            for (int i = 0; i < W; i++) S[i] = _mm512_setzero_si512();
            for (int g = g0; g < g0 + step; g++) {
                __m512i P[W];
#pragma GCC unroll 8
                for (int i = 0; i < W; i++) P[i] = _mm512_setzero_si512();
#pragma GCC unroll 8
                for (int d = g * G; d < g * G + G; d++) {
                    const __m512i xv = _mm512_load_si512((const void *)(xT + XR * d));
#pragma GCC unroll 8
                    for (int i = 0; i < W; i++) P[i] = _mm512_dpbusd_epi32(P[i], _mm512_set1_epi32(lv[i][d]), xv);
                }
                const int sg = G == 8 ? 2 * g : g;
#pragma GCC unroll 8
                for (int i = 0; i < W; i++)
                    S[i] = _mm512_add_epi32(S[i], _mm512_mullo_epi32(P[i], _mm512_set1_epi32(sa[i][sg])));
            }
            for (int i = 0; i < nw; i++) {
                __m512i SB = kmin_pair16(sb16[i], &X, g0 * G / 8);
                for (int p = g0 * G / 8 + 1; p < (g0 + step) * G / 8; p++)
                    SB = _mm512_add_epi32(SB, kmin_pair16(sb16[i], &X, p));
                if (rc == ZF_QR_TILED) { /* qdot_x86.h tiled_step, 16 lanes */
                    __m512i S1 = has_min(t) ? S[i] : _mm512_sub_epi32(S[i], SB);
                    __m512 res = _mm512_mul_ps(_mm512_cvtepi32_ps(S1), _mm512_set1_ps(dA[i]));
                    if (has_min(t)) res = _mm512_fnmadd_ps(_mm512_set1_ps(dB[i]), _mm512_cvtepi32_ps(SB), res);
                    A[i] = _mm512_fmadd_ps(res, X.dx, A[i]);
                } else {
                    A[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(S[i]), _mm512_mul_ps(_mm512_set1_ps(dA[i]), X.dx), A[i]);
                    B[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(SB), _mm512_mul_ps(_mm512_set1_ps(dB[i]), X.dx), B[i]);
                }
            }
        }
    }
    for (int i = 0; i < nw; i++) {
        float v[16];
        _mm512_storeu_ps(v, rc == ZF_QR_TILED ? A[i] : _mm512_sub_ps(A[i], B[i]));
        for (int r = 0; r < nr; r++) y[r * ys + i] = v[r];
    }
}

/* GEMM of repacked q4_0 (ggml_gemm_q4_0_8x8_q8_0: acc = fma(S, dw * dx,
 * acc) per block): lanes = 16 x rows as in k8rows_body, S = sum of the
 * unsigned levels times x (a broadcast weight dword against each x dword
 * vector) less 8 * sum(x). */
INL void gemm_q40_body(int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs, int nr,
                       float *y, int64_t ys) {
    enum { XR = ZF_QDOT_MAX_ROWS_K8 };
    const int64_t nb = K / 32;
    const size_t od = zf_qx_d_offset(K);
    const uint8_t *xr[XR];
#pragma GCC unroll 16
    for (int r = 0; r < XR; r++) xr[r] = qx + (r < nr ? r : 0) * qxs;
    int32_t lv[ZF_QDOT_MAX_W][8] __attribute__((aligned(32)));
    __m512 A[ZF_QDOT_MAX_W];
    for (int i = 0; i < nw; i++) A[i] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        __m512i xT[8];
        {
            __m256i in[8], lo[8], hi[8];
#pragma GCC unroll 8
            for (int r = 0; r < 8; r++) in[r] = ld256(xr[r] + 32 * b);
            transpose8(in, lo);
#pragma GCC unroll 8
            for (int r = 0; r < 8; r++) in[r] = ld256(xr[8 + r] + 32 * b);
            transpose8(in, hi);
#pragma GCC unroll 8
            for (int d = 0; d < 8; d++) xT[d] = join(lo[d], hi[d]);
        }
        __m512i Bx = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int d = 0; d < 8; d++) Bx = _mm512_dpbusd_epi32(Bx, _mm512_set1_epi8(8), xT[d]);
        const __m512 dx = _mm512_insertf32x8(_mm512_castps256_ps512(f32_8(xr, od + 4 * (size_t)b)),
                                             f32_8(xr + 8, od + 4 * (size_t)b), 1);
        for (int i = 0; i < nw; i++) {
            const uint8_t *blk = w + i * ws + 18 * (size_t)b;
            const __m128i q = _mm_loadu_si128((const __m128i *)(const void *)(blk + 2));
            const __m256i u = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(15));
            _mm256_store_si256((__m256i *)(void *)lv[i], u);
        }
        __asm__ volatile("" ::: "memory"); /* broadcast loads, as in k8rows_body */
        for (int i = 0; i < nw; i++) {
            const uint8_t *blk = w + i * ws + 18 * (size_t)b;
            __m512i P = _mm512_setzero_si512();
#pragma GCC unroll 8
            for (int d = 0; d < 8; d++) P = _mm512_dpbusd_epi32(P, _mm512_set1_epi32(lv[i][d]), xT[d]);
            const __m512 dd = _mm512_mul_ps(_mm512_set1_ps(ld_f16(blk)), dx);
            A[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(P, Bx)), dd, A[i]);
        }
    }
    for (int i = 0; i < nw; i++) {
        float v[16];
        _mm512_storeu_ps(v, A[i]);
        for (int r = 0; r < nr; r++) y[r * ys + i] = v[r];
    }
}
TGT static void gemm_q4_0_16(QDOT_ARGS_DECL) { gemm_q40_body(K, w, ws, nw, qx, qxs, nr, y, ys); }
#define QDOT_GEMM_Q4_0 gemm_q4_0_16

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
#include "engine/cpu/qdot_x86_recipes.h"

QDOT_X86_KERNELS(zf_qkernels_avx512, "avx512", supported, 8, ZF_QDOT_MAX_ROWS_K8)

#endif
