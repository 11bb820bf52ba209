/* AVX-512 (F/BW/VL/VNNI) dot kernels of the quantized matmul (qmatmul.h).
 *
 * The weight levels are unsigned (0 .. 2^bits - 1; q8_0 as q + 128) and x's
 * are signed int8, so products go through the u8 x s8 instructions:
 *   K types: vpmaddubsw (pairs of u8*s8 -> s16; |q| <= 63 and |x| <= 127 keep
 *            it below 2^15) then vpdpwssd against the sub-block scales as
 *            s16, which accumulates sa_j * S_j into s32 lanes without any
 *            horizontal reduction per sub-block;
 *   32-blocks: vpdpbusd (4 u8*s8 products -> s32) per block, then one
 *            convert and FMA with dw*dx per block.
 * One zmm holds 64 levels in element order: for the K types a whole 64-wide
 * slice of a super-block (two nibble halves of 32 bytes side by side), for
 * the 32-blocks two consecutive blocks. Offsets and minimums use x's block
 * sums (bsums, s). Every weight block is decoded once for the nr x rows.
 *
 * Built without -m flags: every function carries the target attribute, and
 * none runs unless supported() said yes. */
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

/* s16 lane index vectors for vpermw: g4[g] spreads 4 scales (4g .. 4g+3) over
 * 8 lanes each (sub-blocks of 16 elements); g2[k] spreads scales 2k, 2k+1
 * over 16 lanes each (sub-blocks of 32 elements). */
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
/* m0,m0,m1,m1,...: the 8 mins of Q4_K/Q5_K (s16 lanes 8..15) per 16 elements */
static const int16_t k_mdup[16] __attribute__((aligned(32))) = {8, 8, 9, 9, 10, 10, 11, 11,
                                                                12, 12, 13, 13, 14, 14, 15, 15};

INL __m512i spread(const int16_t *idx, __m512i s16) { return _mm512_permutexvar_epi16(_mm512_load_si512(idx), s16); }

/* ---- K types: one super-block at a time ----
 * Per super-block and x row: sumi (s32 lanes) = sum_j sa_j * S_j and mins
 * (s32 lanes) = sum_j sb_j * bsum_j, then acc += dA*dx*sumi and
 * accm += dB*dx*mins in float; y = sum(acc) - sum(accm). */

typedef struct {
    __m512 acc[R];
    __m256 accm[R];
} kacc;

INL void kacc_init(kacc *a, int nr) {
    #pragma GCC unroll 8
    for (int r = 0; r < nr; r++) {
        a->acc[r] = _mm512_setzero_ps();
        a->accm[r] = _mm256_setzero_ps();
    }
}
INL void kacc_store(const kacc *a, int nr, float *y, int64_t ys) {
    #pragma GCC unroll 8
    for (int r = 0; r < nr; r++) {
        __m256 m = a->accm[r];
        __m128 m4 = _mm_add_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_add_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_add_ss(m4, _mm_movehdup_ps(m4));
        y[r * ys] = _mm512_reduce_add_ps(a->acc[r]) - _mm_cvtss_f32(m4);
    }
}
/* Adds one super-block's integer sums of row r. sb16: the 16 per-16 minimum
 * multipliers as s16; bsums at `bs`. */
INL void kacc_add(kacc *a, int r, __m512i s0, __m512i s1, float dA, float dB, float dx, __m256i sb16,
                  const uint8_t *bs) {
    __m512i s = _mm512_add_epi32(s0, s1);
    a->acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(dA * dx), _mm512_cvtepi32_ps(s), a->acc[r]);
    __m256i mp = _mm256_madd_epi16(sb16, _mm256_loadu_si256((const __m256i *)bs));
    a->accm[r] = _mm256_fmadd_ps(_mm256_set1_ps(dB * dx), _mm256_cvtepi32_ps(mp), a->accm[r]);
}

#define KROWS_BEGIN                                                                       \
    int64_t nb = K / 256;                                                                 \
    const size_t od = zf_qx_d_offset(K), obs = zf_qx_bsums_offset(K);                    \
    kacc A;                                                                               \
    kacc_init(&A, nr);

/* Two accumulator chains per row hide the vpdpwssd latency when there are
 * few rows; with 4 or more rows one chain per row keeps registers free. */
#define PAR(nr, p) ((nr) < 4 ? (p) : 0)

/* One 64-level slice u against x rows at byte offset `xo` of each row, with
 * scale vector sv, into sumi[r][par]. */
INL void kslice(__m512i u, __m512i sv, const uint8_t *qx, int64_t qxs, size_t xo, int nr, __m512i sumi[][2],
                int par) {
    #pragma GCC unroll 8
    for (int r = 0; r < nr; r++) {
        __m512i xq = _mm512_loadu_si512((const void *)(qx + r * qxs + xo));
        sumi[r][par] = _mm512_dpwssd_epi32(sumi[r][par], _mm512_maddubs_epi16(u, xq), sv);
    }
}

INL void dot_q4k_body(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys,
                      bool five) {
    KROWS_BEGIN
    const __m256i mdup_idx = _mm256_load_si256((const __m256i *)k_mdup);
    const int bsz = five ? 176 : 144;
    for (int64_t b = 0; b < nb; b++, w += bsz) {
        const float d = ld_f16(w), dmin = ld_f16(w + 2);
        /* 8 six-bit scales and mins (layout: quant_k.c scale_min_k4) as bytes
         * sc0..7 | m0..7 */
        const uint32_t a = ld_u32(w + 4), bb = ld_u32(w + 8), c = ld_u32(w + 12);
        const uint32_t sc_lo = a & 0x3f3f3f3f, m_lo = bb & 0x3f3f3f3f;
        const uint32_t sc_hi = (c & 0x0f0f0f0f) | (((a >> 6) & 0x03030303) << 4);
        const uint32_t m_hi = ((c >> 4) & 0x0f0f0f0f) | (((bb >> 6) & 0x03030303) << 4);
        const __m256i sm16 = _mm256_cvtepu8_epi16(_mm_set_epi32((int)m_hi, (int)m_lo, (int)sc_hi, (int)sc_lo));
        const __m512i sc512 = _mm512_castsi256_si512(sm16);
        const __m256i mins16 = _mm256_permutexvar_epi16(mdup_idx, sm16);
        const uint8_t *qs = w + (five ? 48 : 16);
        const __m256i qh1 = five ? _mm256_loadu_si256((const __m256i *)(w + 16)) : _mm256_setzero_si256();
        const __m512i qh = join(qh1, qh1);
        __m512i sumi[R][2];
        #pragma GCC unroll 8
        for (int r = 0; r < nr; r++) sumi[r][0] = sumi[r][1] = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * k));
            __m512i u = join(nib_lo(q), nib_hi(q)); /* elements 64k .. 64k+63 */
            if (five) u = _mm512_mask_add_epi8(u, bit_mask(qh, 2 * k, 2 * k + 1), u, _mm512_set1_epi8(16));
            kslice(u, spread(k_g2[k], sc512), qx, qxs, (size_t)(256 * b + 64 * k), nr, sumi, PAR(nr, k & 1));
        }
        #pragma GCC unroll 8
        for (int r = 0; r < nr; r++)
            kacc_add(&A, r, sumi[r][0], sumi[r][1], d, dmin, ld_f32(qx + r * qxs + od + 4 * b), mins16,
                     qx + r * qxs + obs + 32 * b);
    }
    kacc_store(&A, nr, y, ys);
}

INL void dot_q6k_body(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    KROWS_BEGIN
    for (int64_t b = 0; b < nb; b++, w += 210) {
        const float d = ld_f16(w + 208);
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + 192)));
        const __m512i sc512 = _mm512_castsi256_si512(sc16);
        const __m256i off16 = _mm256_slli_epi16(sc16, 5); /* 32 * sc: the -32 offset of every level */
        __m512i sumi[R][2];
        #pragma GCC unroll 8
        for (int r = 0; r < nr; r++) sumi[r][0] = sumi[r][1] = _mm512_setzero_si512();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            /* half h: low nibbles of ql[64h .. 64h+63] are elements 0..63,
             * high nibbles 64..127; qh[32h + l] bits 2g are the top two bits
             * of element 32g + l */
            const __m512i ql = _mm512_loadu_si512((const void *)(w + 64 * h));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(w + 128 + 32 * h));
            const __m512i m15 = _mm512_set1_epi8(15);
            __m512i ua = _mm512_and_si512(ql, m15), ub = _mm512_and_si512(_mm512_srli_epi16(ql, 4), m15);
            ua = _mm512_or_si512(ua, _mm512_slli_epi16(join(bits2(qh, 0), bits2(qh, 2)), 4));
            ub = _mm512_or_si512(ub, _mm512_slli_epi16(join(bits2(qh, 4), bits2(qh, 6)), 4));
            kslice(ua, spread(k_g4[2 * h], sc512), qx, qxs, (size_t)(256 * b + 128 * h), nr, sumi, 0);
            kslice(ub, spread(k_g4[2 * h + 1], sc512), qx, qxs, (size_t)(256 * b + 128 * h + 64), nr, sumi, PAR(nr, 1));
        }
        #pragma GCC unroll 8
        for (int r = 0; r < nr; r++)
            kacc_add(&A, r, sumi[r][0], sumi[r][1], d, d, ld_f32(qx + r * qxs + od + 4 * b), off16,
                     qx + r * qxs + obs + 32 * b);
    }
    kacc_store(&A, nr, y, ys);
}

/* Q2_K (three = false) and Q3_K: 2-bit fields, byte l of a half's 32 bytes
 * holds elements l, l+32, l+64, l+96 at bits 0, 2, 4, 6. */
INL void dot_q23k_body(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys,
                       bool three) {
    KROWS_BEGIN
    const int bsz = three ? 110 : 84;
    for (int64_t b = 0; b < nb; b++, w += bsz) {
        float dA, dB;
        __m256i sa16, sb16;
        if (three) { /* hmask[32] qs[64] scales[12] d */
            dA = dB = ld_f16(w + 108);
            /* 16 six-bit scales (quant_k.c q3k_scale): low nibbles in bytes
             * 0..7 (j < 8 low, j >= 8 high nibble of byte j-8), top bits in
             * byte 8 + j%4 at bit 2*(j/4); stored + 32 */
            const uint32_t a = ld_u32(w + 96), bb = ld_u32(w + 100), c = ld_u32(w + 104);
            const uint32_t w0 = (a & 0x0f0f0f0f) | ((c & 0x03030303) << 4);
            const uint32_t w1 = (bb & 0x0f0f0f0f) | (((c >> 2) & 0x03030303) << 4);
            const uint32_t w2 = ((a >> 4) & 0x0f0f0f0f) | (((c >> 4) & 0x03030303) << 4);
            const uint32_t w3 = ((bb >> 4) & 0x0f0f0f0f) | (((c >> 6) & 0x03030303) << 4);
            __m128i s8 = _mm_sub_epi8(_mm_set_epi32((int)w3, (int)w2, (int)w1, (int)w0), _mm_set1_epi8(32));
            sa16 = _mm256_cvtepi8_epi16(s8);
            sb16 = _mm256_slli_epi16(sa16, 2); /* level - 4 */
        } else { /* scales[16] qs[64] d dmin: scale low nibble, min high nibble */
            dA = ld_f16(w + 80);
            dB = ld_f16(w + 82);
            const __m128i s = _mm_loadu_si128((const __m128i *)w);
            sa16 = _mm256_cvtepu8_epi16(_mm_and_si128(s, _mm_set1_epi8(15)));
            sb16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s, 4), _mm_set1_epi8(15)));
        }
        const __m512i sc512 = _mm512_castsi256_si512(sa16);
        const uint8_t *qs = w + (three ? 32 : 16);
        const __m256i hm1 = three ? _mm256_loadu_si256((const __m256i *)w) : _mm256_setzero_si256();
        const __m512i hm = join(hm1, hm1);
        __m512i sumi[R][2];
        #pragma GCC unroll 8
        for (int r = 0; r < nr; r++) sumi[r][0] = sumi[r][1] = _mm512_setzero_si512();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * h));
            __m512i ua = join(bits2(q, 0), bits2(q, 2)), ub = join(bits2(q, 4), bits2(q, 6));
            if (three) { /* hmask[l] bit i is the high bit (+4) of element 32i + l */
                ua = _mm512_mask_add_epi8(ua, bit_mask(hm, 4 * h, 4 * h + 1), ua, _mm512_set1_epi8(4));
                ub = _mm512_mask_add_epi8(ub, bit_mask(hm, 4 * h + 2, 4 * h + 3), ub, _mm512_set1_epi8(4));
            }
            kslice(ua, spread(k_g4[2 * h], sc512), qx, qxs, (size_t)(256 * b + 128 * h), nr, sumi, 0);
            kslice(ub, spread(k_g4[2 * h + 1], sc512), qx, qxs, (size_t)(256 * b + 128 * h + 64), nr, sumi, PAR(nr, 1));
        }
        #pragma GCC unroll 8
        for (int r = 0; r < nr; r++)
            kacc_add(&A, r, sumi[r][0], sumi[r][1], dA, dB, ld_f32(qx + r * qxs + od + 4 * b), sb16,
                     qx + r * qxs + obs + 32 * b);
    }
    kacc_store(&A, nr, y, ys);
}

/* ---- 32-element blocks, two at a time ---- */

/* Levels of one pair of blocks (or one block and zeros when !two). */
INL __m512i legacy_levels(zf_dtype t, const uint8_t *b0, int bsz, bool two) {
    const uint8_t *b1 = b0 + bsz;
    if (t == ZF_Q8_0) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(b0 + 2));
        __m256i c = two ? _mm256_loadu_si256((const __m256i *)(b1 + 2)) : _mm256_set1_epi8((char)0x80);
        return _mm512_xor_si512(join(a, c), _mm512_set1_epi8((char)0x80)); /* q + 128 */
    }
    const int oq = t == ZF_Q4_0 ? 2 : t == ZF_Q4_1 ? 4 : t == ZF_Q5_0 ? 6 : 8; /* qs offset */
    __m128i a = _mm_loadu_si128((const __m128i *)(b0 + oq));
    __m128i c = two ? _mm_loadu_si128((const __m128i *)(b1 + oq)) : _mm_setzero_si128();
    __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(a), c, 1);
    /* qwords [lo0 lo0 hi0 hi0 lo1 lo1 hi1 hi1]: block 0 elements 0..31, block 1 */
    const __m512i idx = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
    __m512i u = _mm512_permutex2var_epi64(_mm512_castsi256_si512(nib_lo(v)), idx, _mm512_castsi256_si512(nib_hi(v)));
    if (t == ZF_Q5_0 || t == ZF_Q5_1) { /* bit j of qh: bit 4 of element j */
        const int oh = t == ZF_Q5_0 ? 2 : 4;
        uint64_t m = ld_u32(b0 + oh) | (two ? (uint64_t)ld_u32(b1 + oh) << 32 : 0);
        u = _mm512_mask_add_epi8(u, (__mmask64)m, u, _mm512_set1_epi8(16));
    }
    return u;
}

typedef struct {
    __m512 acc[R][2];
    __m128 off[R];
} lacc;

/* Blocks b, b+1 (b only when !two) of the weight row at w into accumulator
 * set `par` (two sets break the FMA dependency chain). */
INL void legacy_pair(zf_dtype t, const uint8_t *w, int bsz, bool two, const uint8_t *qx, int64_t qxs, int nr,
                     int64_t b, size_t od, size_t os, lacc *A, int par) {
    const bool has_m = t == ZF_Q4_1 || t == ZF_Q5_1;
    const float cmul = t == ZF_Q4_0 ? -8.0f : t == ZF_Q5_0 ? -16.0f : -128.0f;
    const __m512i bcast2 = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i u = legacy_levels(t, w, bsz, two);
    uint32_t hd = (uint32_t)(w[0] | (w[1] << 8)), hm = 0;
    if (two) hd |= (uint32_t)(w[bsz] | (w[bsz + 1] << 8)) << 16;
    if (has_m) {
        hm = (uint32_t)(w[2] | (w[3] << 8));
        if (two) hm |= (uint32_t)(w[bsz + 2] | (w[bsz + 3] << 8)) << 16;
    }
    const __m128 dw = _mm_cvtph_ps(_mm_cvtsi32_si128((int)hd)); /* [dw0, dw1, 0, 0] */
    const __m128 cw = has_m ? _mm_cvtph_ps(_mm_cvtsi32_si128((int)hm)) : _mm_mul_ps(dw, _mm_set1_ps(cmul));
#pragma GCC unroll 8
    for (int r = 0; r < nr; r++) {
        const uint8_t *row = qx + r * qxs;
        const __m512i xq = _mm512_loadu_si512((const void *)(row + 32 * b));
        const __m512i S = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, xq);
        const __m128 dx = _mm_castpd_ps(_mm_load_sd((const double *)(const void *)(row + od + 4 * b)));
        const __m128 sx = _mm_castpd_ps(_mm_load_sd((const double *)(const void *)(row + os + 4 * b)));
        const __m512 scale = _mm512_permutexvar_ps(bcast2, _mm512_castps128_ps512(_mm_mul_ps(dw, dx)));
        A->acc[r][par] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(S), scale, A->acc[r][par]);
        A->off[r] = _mm_fmadd_ps(cw, sx, A->off[r]);
    }
}

INL void dot32_body(zf_dtype t, int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y,
                    int64_t ys) {
    const int bsz = t == ZF_Q4_0 ? 18 : t == ZF_Q4_1 ? 20 : t == ZF_Q5_0 ? 22 : t == ZF_Q5_1 ? 24 : 34;
    const int64_t nb = K / 32;
    const size_t od = zf_qx_d_offset(K), os = zf_qx_s_offset(K);
    lacc A;
#pragma GCC unroll 8
    for (int r = 0; r < nr; r++) {
        A.acc[r][0] = A.acc[r][1] = _mm512_setzero_ps();
        A.off[r] = _mm_setzero_ps();
    }
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4, w += 4 * bsz) {
        legacy_pair(t, w, bsz, true, qx, qxs, nr, b, od, os, &A, 0);
        legacy_pair(t, w + 2 * bsz, bsz, true, qx, qxs, nr, b + 2, od, os, &A, 1);
    }
    if (b + 2 <= nb) {
        legacy_pair(t, w, bsz, true, qx, qxs, nr, b, od, os, &A, 0);
        b += 2;
        w += 2 * bsz;
    }
    if (b < nb) legacy_pair(t, w, bsz, false, qx, qxs, nr, b, od, os, &A, 1);
#pragma GCC unroll 8
    for (int r = 0; r < nr; r++) {
        __m128 o = A.off[r];
        y[r * ys] = _mm512_reduce_add_ps(_mm512_add_ps(A.acc[r][0], A.acc[r][1])) + _mm_cvtss_f32(o) +
                    _mm_cvtss_f32(_mm_movehdup_ps(o));
    }
}

/* ---- float weights: x rows are f32 ---- */

INL __m512 ldw(zf_dtype t, const uint8_t *w, int64_t k, __mmask16 m) {
    if (t == ZF_F32) return _mm512_maskz_loadu_ps(m, w + 4 * k);
    __m256i h = _mm256_maskz_loadu_epi16(m, w + 2 * k);
    if (t == ZF_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); /* bf16: top half of f32 */
}

INL void dotf_body(zf_dtype t, int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y,
                   int64_t ys) {
    /* four accumulator chains per row, for every nr: the sums are then
     * rounded the same way whatever the row grouping (qmatmul.c calls this
     * with at most 4 rows: 16 accumulators + 4 weight vectors in registers) */
    const int na = 4;
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
            const float *x = (const float *)(qx + r * qxs) + k;
#pragma GCC unroll 4
            for (int i = 0; i < 4; i++)
                acc[r][i % na] = _mm512_fmadd_ps(wv[i], _mm512_loadu_ps(x + 16 * i), acc[r][i % na]);
        }
    }
    for (; k < K; k += 16) {
        const int n = K - k < 16 ? (int)(K - k) : 16;
        const __mmask16 m = (__mmask16)((1u << n) - 1u);
        const __m512 wv = ldw(t, w, k, m);
#pragma GCC unroll 8
        for (int r = 0; r < nr; r++)
            acc[r][0] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, (const float *)(qx + r * qxs) + k), acc[r][0]);
    }
#pragma GCC unroll 8
    for (int r = 0; r < nr; r++) {
        __m512 a = acc[r][0];
#pragma GCC unroll 3
        for (int i = 1; i < na; i++) a = _mm512_add_ps(a, acc[r][i]);
        y[r * ys] = _mm512_reduce_add_ps(a);
    }
}

/* ---- entry points: nr dispatched to constant-row bodies ---- */

#define ENTRY(name, call)                                                                                   \
    TGT static void name(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y,   \
                         int64_t ys) {                                                                     \
        switch (nr) {                                                                                      \
        case 1: call(1); break;                                                                            \
        case 2: call(2); break;                                                                            \
        case 3: call(3); break;                                                                            \
        case 4: call(4); break;                                                                            \
        case 5: call(5); break;                                                                            \
        case 6: call(6); break;                                                                            \
        case 7: call(7); break;                                                                            \
        default: call(8); break;                                                                           \
        }                                                                                                  \
    }

#define C_Q4K(n) dot_q4k_body(K, w, qx, qxs, n, y, ys, false)
#define C_Q5K(n) dot_q4k_body(K, w, qx, qxs, n, y, ys, true)
#define C_Q6K(n) dot_q6k_body(K, w, qx, qxs, n, y, ys)
#define C_Q2K(n) dot_q23k_body(K, w, qx, qxs, n, y, ys, false)
#define C_Q3K(n) dot_q23k_body(K, w, qx, qxs, n, y, ys, true)
#define C_Q40(n) dot32_body(ZF_Q4_0, K, w, qx, qxs, n, y, ys)
#define C_Q41(n) dot32_body(ZF_Q4_1, K, w, qx, qxs, n, y, ys)
#define C_Q50(n) dot32_body(ZF_Q5_0, K, w, qx, qxs, n, y, ys)
#define C_Q51(n) dot32_body(ZF_Q5_1, K, w, qx, qxs, n, y, ys)
#define C_Q80(n) dot32_body(ZF_Q8_0, K, w, qx, qxs, n, y, ys)
#define C_F32(n) dotf_body(ZF_F32, K, w, qx, qxs, n, y, ys)
#define C_F16(n) dotf_body(ZF_F16, K, w, qx, qxs, n, y, ys)
#define C_BF16(n) dotf_body(ZF_BF16, K, w, qx, qxs, n, y, ys)

ENTRY(dot_q2_k, C_Q2K)
ENTRY(dot_q3_k, C_Q3K)
ENTRY(dot_q4_k, C_Q4K)
ENTRY(dot_q5_k, C_Q5K)
ENTRY(dot_q6_k, C_Q6K)
ENTRY(dot_q4_0, C_Q40)
ENTRY(dot_q4_1, C_Q41)
ENTRY(dot_q5_0, C_Q50)
ENTRY(dot_q5_1, C_Q51)
ENTRY(dot_q8_0, C_Q80)
ENTRY(dot_f32, C_F32)
ENTRY(dot_f16, C_F16)
ENTRY(dot_bf16, C_BF16)

const zf_qkernels zf_qkernels_avx512 = {
    .name = "avx512",
    .supported = supported,
    .max_rows = 8,
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
