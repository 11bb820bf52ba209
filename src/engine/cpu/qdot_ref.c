/* Portable dot kernels of the quantized matmul (see qmatmul.h): the fallback
 * on CPUs without AVX2, and the plain statement of each recipe the SIMD
 * kernels reproduce bit for bit.
 *
 * Every weight block is first decoded to unsigned integer levels q and
 * integer scales, so that for each sub-block j of 16 elements
 *   w_i = dA * sa_j * q_i - dB * sb_j                       (K types)
 *   w_i = dw * (q_i - bias) + m                             (32-blocks)
 * The integer sums of q * x (x the 8-bit activations) are exact; the float
 * steps are written out with fmaf where ggml's kernels fuse (its _fmadd
 * intrinsics, and the scalar `summs += a * b` that GCC contracts) and plain
 * * and + where they do not. This file is built with -ffp-contract=off.
 * Formulas from the block layouts of ggml-common.h (see
 * src/formats/quant_legacy.c and quant_k.c for the byte layouts). */
#include <math.h>
#include <string.h>

#include "engine/cpu/qmatmul.h"

static inline float ld_f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return zf_f16_to_f32(h);
}
static inline uint32_t ld_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* ---- 32-element blocks ---- */

/* Decodes block `blk` of type t: q[32] unsigned levels, *dw, the per-level
 * bias ggml's signed levels subtract (q4_0 8, q5_0 16, q8_0 128: its int8
 * levels are stored here as q + 128; 0 for q4_1/q5_1) and *m (q4_1/q5_1's
 * minimum, else 0). Returns the block size in bytes. */
static int decode32(zf_dtype t, const uint8_t *blk, uint8_t *q, float *dw, int *bias, float *m) {
    *dw = ld_f16(blk);
    *m = 0.0f;
    switch (t) {
    case ZF_Q4_0:
    case ZF_Q4_1: {
        const uint8_t *qs = blk + (t == ZF_Q4_0 ? 2 : 4);
        for (int j = 0; j < 16; j++) {
            q[j] = qs[j] & 15;
            q[j + 16] = qs[j] >> 4;
        }
        *bias = t == ZF_Q4_0 ? 8 : 0;
        if (t == ZF_Q4_1) *m = ld_f16(blk + 2);
        return t == ZF_Q4_0 ? 18 : 20;
    }
    case ZF_Q5_0:
    case ZF_Q5_1: {
        int o = t == ZF_Q5_0 ? 2 : 4; /* qh offset */
        uint32_t qh = ld_u32(blk + o);
        const uint8_t *qs = blk + o + 4;
        for (int j = 0; j < 16; j++) {
            q[j] = (uint8_t)((qs[j] & 15) | (((qh >> j) & 1) << 4));
            q[j + 16] = (uint8_t)((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
        }
        *bias = t == ZF_Q5_0 ? 16 : 0;
        if (t == ZF_Q5_1) *m = ld_f16(blk + 2);
        return t == ZF_Q5_0 ? 22 : 24;
    }
    default: /* ZF_Q8_0 */
        for (int j = 0; j < 32; j++) q[j] = (uint8_t)(blk[2 + j] ^ 0x80);
        *bias = 128;
        return 34;
    }
}

/* ggml's hsum_float_8 (and tinyBLAS's hsum): high half + low half, then
 * lanes (0+2) + (1+3). */
static float hsum8(const float L[8]) {
    return ((L[0] + L[4]) + (L[2] + L[6])) + ((L[1] + L[5]) + (L[3] + L[7]));
}

/* One weight row against one qx row. VEC: 8 lanes of 4 elements per block,
 * lane l = fma(dw * dx, S_l, lane l), hsum at the end, + the minimums'
 * scalar FMA chain (q4_1/q5_1: ggml_vec_dot_q4_1_q8_1, q5_1). GEMV/GEMM
 * (q4_0 repacked, ggml_gemv/gemm_q4_0_8x8_q8_0): acc = fma(S, dw * dx, acc)
 * with S the block's whole sum. */
static float dot32_row(zf_dtype t, zf_qmm_recipe rc, int64_t K, const uint8_t *w, const uint8_t *row) {
    const int64_t nb = K / 32;
    const size_t od = zf_qx_d_offset(K), os = zf_qx_s_offset(K);
    float L[8] = {0}, summs = 0.0f, acc = 0.0f;
    uint8_t q[32];
    for (int64_t b = 0; b < nb; b++) {
        float dw, m, dx, sx;
        int bias;
        w += decode32(t, w, q, &dw, &bias, &m);
        const int8_t *xq = (const int8_t *)row + 32 * b;
        memcpy(&dx, row + od + 4 * b, 4);
        memcpy(&sx, row + os + 4 * b, 4);
        const float d = dw * dx;
        int32_t S = 0;
        for (int l = 0; l < 8; l++) {
            int32_t Sl = 0;
            for (int i = 4 * l; i < 4 * l + 4; i++) Sl += ((int32_t)q[i] - bias) * xq[i];
            L[l] = fmaf(d, (float)Sl, L[l]);
            S += Sl;
        }
        if (t == ZF_Q4_1 || t == ZF_Q5_1) summs = fmaf(m, sx, summs);
        acc = fmaf((float)S, d, acc);
    }
    if (rc != ZF_QR_VEC) return acc;
    return t == ZF_Q4_1 || t == ZF_Q5_1 ? hsum8(L) + summs : hsum8(L);
}

/* ---- 256-element super-blocks ---- */

typedef struct {
    uint8_t q[256];
    int32_t sa[16], sb[16]; /* per 16 elements */
    float dA, dB;
} kblock;

/* 6-bit scale and min of sub-block j (0..7) of Q4_K/Q5_K (ggml get_scale_min_k4). */
static void scale_min_k4(int j, const uint8_t *s, int32_t *sc, int32_t *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

int zf_qk_scales(zf_dtype t, const uint8_t *blk, int16_t sa[16], int16_t sb[16], float *dA, float *dB) {
    switch (t) {
    case ZF_Q2_K: /* scales[16] qs[64] d dmin: scale low nibble, min high nibble */
        *dA = ld_f16(blk + 80);
        *dB = ld_f16(blk + 82);
        for (int j = 0; j < 16; j++) {
            sa[j] = blk[j] & 15;
            sb[j] = blk[j] >> 4;
        }
        return 84;
    case ZF_Q3_K: { /* hmask[32] qs[64] scales[12] d; w = d*sc*(level-4), sc 6-bit + 32 */
        const uint8_t *s = blk + 96;
        *dA = *dB = ld_f16(blk + 108);
        for (int j = 0; j < 16; j++) {
            int lo = j < 8 ? (s[j] & 15) : (s[j - 8] >> 4);
            int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
            sa[j] = (int16_t)((lo | (hi << 4)) - 32);
            sb[j] = (int16_t)(4 * sa[j]);
        }
        return 110;
    }
    case ZF_Q4_K:
    case ZF_Q5_K: /* d dmin scales[12] ...: 8 sub-blocks of 32 */
        *dA = ld_f16(blk);
        *dB = ld_f16(blk + 2);
        for (int j = 0; j < 8; j++) {
            int32_t sc, m;
            scale_min_k4(j, blk + 4, &sc, &m);
            sa[2 * j] = sa[2 * j + 1] = (int16_t)sc;
            sb[2 * j] = sb[2 * j + 1] = (int16_t)m;
        }
        return t == ZF_Q5_K ? 176 : 144;
    default: /* ZF_Q6_K: ql[128] qh[64] scales[16] (int8) d; w = d*sc*(q-32) */
        *dA = *dB = ld_f16(blk + 208);
        for (int j = 0; j < 16; j++) {
            sa[j] = (int8_t)blk[192 + j];
            sb[j] = (int16_t)(32 * sa[j]);
        }
        return 210;
    }
}

/* Levels of a K-type super-block. 2-bit fields (q2_k, q3_k low bits):
 * element e of a half (128 elements) is in byte e % 32 of the half's 32
 * bytes, at bits 2 * (e / 32). */
static int decodek(zf_dtype t, const uint8_t *blk, kblock *k) {
    int16_t sa[16], sb[16];
    int size = zf_qk_scales(t, blk, sa, sb, &k->dA, &k->dB);
    for (int j = 0; j < 16; j++) {
        k->sa[j] = sa[j];
        k->sb[j] = sb[j];
    }
    switch (t) {
    case ZF_Q2_K:
        for (int e = 0; e < 256; e++) k->q[e] = (blk[16 + 32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
        break;
    case ZF_Q3_K: /* level = low2 + 4 * (bit e / 32 of hmask[e % 32]) */
        for (int e = 0; e < 256; e++) {
            int lo = (blk[32 + 32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
            int hb = (blk[e % 32] >> (e / 32)) & 1;
            k->q[e] = (uint8_t)(lo | (hb << 2));
        }
        break;
    case ZF_Q4_K:
    case ZF_Q5_K: {
        bool five = t == ZF_Q5_K;
        const uint8_t *qh = blk + 16, *qs = blk + (five ? 48 : 16);
        /* 32-byte slice c holds elements 64c + l (low nibble), 64c + 32 + l
         * (high); q5_k's bit 4 is bit 2c (low) / 2c + 1 (high) of qh[l] */
        for (int e = 0; e < 256; e++) {
            int c = e / 64, l = e % 32, hi = (e % 64) >= 32;
            int v = hi ? qs[32 * c + l] >> 4 : qs[32 * c + l] & 15;
            if (five) v |= ((qh[l] >> (2 * c + hi)) & 1) << 4;
            k->q[e] = (uint8_t)v;
        }
        break;
    }
    default: { /* ZF_Q6_K */
        const uint8_t *ql = blk, *qh = blk + 128;
        /* half h: element 128h + 32g + l (g = 0..3) has the low nibble of
         * ql[64h + l + 32(g&1)] (high nibble when g >= 2) and bits 2g of qh[32h + l] */
        for (int e = 0; e < 256; e++) {
            int h = e / 128, g = (e % 128) / 32, l = e % 32;
            int b = ql[64 * h + l + 32 * (g & 1)];
            int lo = g >= 2 ? b >> 4 : b & 15;
            k->q[e] = (uint8_t)(lo | (((qh[32 * h + l] >> (2 * g)) & 3) << 4));
        }
        break;
    }
    }
    return size;
}

/* One weight row against one qx row (recipes in qmatmul.h). Per super-block
 * the integer parts: S16[j] = sum q * x over sub-block j (16 elements),
 * lane sums over elements e with (e % 32) / 4 == l, and the block totals
 * SA = sum_j sa_j S16[j], SB = sum_j sb_j bsum_j. */
static float dotk_row(zf_dtype t, zf_qmm_recipe rc, int64_t K, const uint8_t *w, const uint8_t *row) {
    const int64_t nb = K / 256;
    const size_t od = zf_qx_d_offset(K), obs = zf_qx_bsums_offset(K);
    float L[8] = {0}, Mn[4] = {0}, summs = 0.0f, A = 0.0f, B = 0.0f;
    kblock k;
    for (int64_t b = 0; b < nb; b++) {
        w += decodek(t, w, &k);
        const int8_t *xq = (const int8_t *)row + 256 * b;
        float dx;
        memcpy(&dx, row + od + 4 * b, 4);
        int16_t bs[16];
        memcpy(bs, row + obs + 32 * b, 32);
        int32_t S16[16] = {0}, SAl[8] = {0}, SBl[8] = {0}, SA = 0, SB = 0;
        for (int e = 0; e < 256; e++) {
            int32_t p = (int32_t)k.q[e] * xq[e], j = e / 16, l = (e % 32) / 4;
            S16[j] += p;
            SAl[l] += k.sa[j] * p;
            if (t == ZF_Q3_K) SBl[l] += k.sb[j] * xq[e]; /* q3_K vec: the -4 per element */
        }
        for (int j = 0; j < 16; j++) {
            SA += k.sa[j] * S16[j];
            SB += k.sb[j] * bs[j];
        }
        switch (rc) {
        case ZF_QR_VEC: {
            const float dd = dx * k.dA, dm = -(dx * k.dB);
            if (t == ZF_Q4_K || t == ZF_Q5_K) { /* minimums per 64 elements: m_2t B_2t + m_2t+1 B_2t+1 */
                int32_t MT = 0;
                for (int u = 0; u < 4; u++) {
                    int32_t MB = 0;
                    for (int j = 4 * u; j < 4 * u + 4; j++) MB += k.sb[j] * bs[j];
                    if (t == ZF_Q4_K) Mn[u] = fmaf(dm, (float)MB, Mn[u]);
                    MT += MB;
                }
                if (t == ZF_Q5_K) summs = fmaf((float)MT, dm, summs);
                for (int l = 0; l < 8; l++) L[l] = fmaf(dd, (float)SAl[l], L[l]);
            } else if (t == ZF_Q2_K) { /* lane l: minimums of sub-blocks 2l, 2l+1 first */
                for (int l = 0; l < 8; l++) {
                    L[l] = fmaf(dm, (float)(k.sb[2 * l] * bs[2 * l] + k.sb[2 * l + 1] * bs[2 * l + 1]), L[l]);
                    L[l] = fmaf(dd, (float)SAl[l], L[l]);
                }
            } else if (t == ZF_Q6_K) { /* lane l less 32 * (sc bsum of sub-blocks 2l, 2l+1) */
                for (int l = 0; l < 8; l++) {
                    const int32_t off = k.sb[2 * l] * bs[2 * l] + k.sb[2 * l + 1] * bs[2 * l + 1];
                    L[l] = fmaf(dd, (float)(SAl[l] - off), L[l]);
                }
            } else { /* Q3_K: levels - 4 element by element */
                for (int l = 0; l < 8; l++) L[l] = fmaf(dd, (float)(SAl[l] - SBl[l]), L[l]);
            }
            break;
        }
        case ZF_QR_TILED: {
            const bool has_min = t == ZF_Q2_K || t == ZF_Q4_K || t == ZF_Q5_K;
            float r = (float)(has_min ? SA : SA - SB) * k.dA;
            if (has_min) r = fmaf(-k.dB, (float)SB, r);
            A = fmaf(r, dx, A);
            break;
        }
        case ZF_QR_GEMM:
            if (t == ZF_Q4_K || t == ZF_Q2_K) { /* one FMA per 64 (q4_K) or 128 (q2_K) elements */
                const int per = t == ZF_Q4_K ? 4 : 8;
                const float ca = k.dA * dx, cb = k.dB * dx;
                for (int j0 = 0; j0 < 16; j0 += per) {
                    int32_t a = 0, bm = 0;
                    for (int j = j0; j < j0 + per; j++) {
                        a += k.sa[j] * S16[j];
                        bm += k.sb[j] * bs[j];
                    }
                    A = fmaf((float)a, ca, A);
                    B = fmaf((float)bm, cb, B);
                }
                break;
            }
            /* fall through */
        default: /* GEMV */
            A = fmaf((float)SA, k.dA * dx, A);
            B = fmaf((float)SB, k.dB * dx, B);
            break;
        }
    }
    switch (rc) {
    case ZF_QR_VEC:
        if (t == ZF_Q4_K) return hsum8(L) + ((Mn[0] + Mn[2]) + (Mn[1] + Mn[3]));
        if (t == ZF_Q5_K) return hsum8(L) + summs;
        return hsum8(L);
    case ZF_QR_TILED: return A;
    default: return A - B;
    }
}

#define REF_DOT(name, fn, t, rc)                                                                            \
    static void name(int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs, int nr, \
                     float *y, int64_t ys) {                                                                \
        for (int r = 0; r < nr; r++)                                                                        \
            for (int i = 0; i < nw; i++) y[r * ys + i] = fn(t, rc, K, w + i * ws, qx + r * qxs);            \
    }
#define REF_TYPE(tn, fn, t)                         \
    REF_DOT(vec_##tn, fn, t, ZF_QR_VEC)             \
    REF_DOT(tiled_##tn, fn, t, ZF_QR_TILED)         \
    REF_DOT(gemv_##tn, fn, t, ZF_QR_GEMV)           \
    REF_DOT(gemm_##tn, fn, t, ZF_QR_GEMM)
REF_TYPE(q4_0, dot32_row, ZF_Q4_0)
REF_TYPE(q4_1, dot32_row, ZF_Q4_1)
REF_TYPE(q5_0, dot32_row, ZF_Q5_0)
REF_TYPE(q5_1, dot32_row, ZF_Q5_1)
REF_TYPE(q8_0, dot32_row, ZF_Q8_0)
REF_TYPE(q2_k, dotk_row, ZF_Q2_K)
REF_TYPE(q3_k, dotk_row, ZF_Q3_K)
REF_TYPE(q4_k, dotk_row, ZF_Q4_K)
REF_TYPE(q5_k, dotk_row, ZF_Q5_K)
REF_TYPE(q6_k, dotk_row, ZF_Q6_K)

/* ---- float weights (x stays f32) ---- */

static void dotf(zf_dtype t, int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y,
                 int64_t ys) {
    float acc[ZF_QDOT_MAX_ROWS][8] = {{0}};
    float wv[8];
    for (int64_t k0 = 0; k0 < K; k0 += 8) {
        int n = K - k0 < 8 ? (int)(K - k0) : 8;
        if (t == ZF_F32) memcpy(wv, w + 4 * k0, 4 * (size_t)n);
        else zf_convert_to_f32(t, w + 2 * k0, wv, (size_t)n);
        for (int r = 0; r < nr; r++) {
            const float *x = (const float *)(qx + r * qxs) + k0;
            for (int i = 0; i < n; i++) acc[r][i] += wv[i] * x[i];
        }
    }
    for (int r = 0; r < nr; r++) {
        float s = 0;
        for (int i = 0; i < 8; i++) s += acc[r][i];
        y[r * ys] = s;
    }
}

#define REF_FDOT(name, t)                                                                                   \
    static void name(int64_t K, const uint8_t *w, size_t ws, int nw, const uint8_t *qx, int64_t qxs, int nr, \
                     float *y, int64_t ys) {                                                                \
        for (int i = 0; i < nw; i++) dotf(t, K, w + i * ws, qx, qxs, nr, y + i, ys);                        \
    }
REF_FDOT(dot_f32, ZF_F32)
REF_FDOT(dot_f16, ZF_F16)
REF_FDOT(dot_bf16, ZF_BF16)

static bool always(void) { return true; }

#define REF_ROW(tn, T) [ZF_QR_VEC][T] = vec_##tn, [ZF_QR_TILED][T] = tiled_##tn, [ZF_QR_GEMV][T] = gemv_##tn, \
                       [ZF_QR_GEMM][T] = gemm_##tn

const zf_qkernels zf_qkernels_ref = {
    .name = "ref",
    .supported = always,
    .max_rows = ZF_QDOT_MAX_ROWS,
    .dot =
        {
            [ZF_QR_VEC][ZF_F32] = dot_f32,
            [ZF_QR_VEC][ZF_F16] = dot_f16,
            [ZF_QR_VEC][ZF_BF16] = dot_bf16,
            REF_ROW(q4_0, ZF_Q4_0),
            REF_ROW(q4_1, ZF_Q4_1),
            REF_ROW(q5_0, ZF_Q5_0),
            REF_ROW(q5_1, ZF_Q5_1),
            REF_ROW(q8_0, ZF_Q8_0),
            REF_ROW(q2_k, ZF_Q2_K),
            REF_ROW(q3_k, ZF_Q3_K),
            REF_ROW(q4_k, ZF_Q4_K),
            REF_ROW(q5_k, ZF_Q5_K),
            REF_ROW(q6_k, ZF_Q6_K),
        },
};
