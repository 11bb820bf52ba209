/* Portable dot kernels of the quantized matmul (see qmatmul.h): the fallback
 * on CPUs without AVX2, and the reference the SIMD kernels are tested
 * against (same integer sums, floats rounded in another order).
 *
 * Every weight block is first decoded to unsigned integer levels q and
 * integer scales, so that for each sub-block j of 16 elements
 *   w_i = dA * sa_j * q_i - dB * sb_j                       (K types)
 *   w_i = dw * q_i + c                                      (32-blocks)
 * and with x_i ~ dx * qx_i the dot is an integer sum per sub-block:
 *   K types:   dx * (dA * sum_j sa_j * S_j - dB * sum_j sb_j * bsum_j)
 *   32-blocks: dw * dx * S + c * s_x,   S = sum q_i * qx_i, s_x = dx * sum qx_i
 * Formulas from the block layouts of ggml-common.h (see
 * src/formats/quant_legacy.c and quant_k.c for the byte layouts). */
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

/* Decodes block `blk` of type t: q[32] levels, *dw, *c (offset per element:
 * -8 dw for q4_0, -16 dw q5_0, 0 for q8_0 handled as q + 128 - 128, m for
 * q4_1/q5_1). Returns the block size in bytes. */
static int decode32(zf_dtype t, const uint8_t *blk, uint8_t *q, float *dw, float *c) {
    *dw = ld_f16(blk);
    switch (t) {
    case ZF_Q4_0:
    case ZF_Q4_1: {
        const uint8_t *qs = blk + (t == ZF_Q4_0 ? 2 : 4);
        for (int j = 0; j < 16; j++) {
            q[j] = qs[j] & 15;
            q[j + 16] = qs[j] >> 4;
        }
        *c = t == ZF_Q4_0 ? -8.0f * *dw : ld_f16(blk + 2);
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
        *c = t == ZF_Q5_0 ? -16.0f * *dw : ld_f16(blk + 2);
        return t == ZF_Q5_0 ? 22 : 24;
    }
    default: /* ZF_Q8_0: int8 levels stored as q + 128 */
        for (int j = 0; j < 32; j++) q[j] = (uint8_t)(blk[2 + j] ^ 0x80);
        *c = -128.0f * *dw;
        return 34;
    }
}

static void dot32(zf_dtype t, int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y,
                  int64_t ys) {
    int64_t nb = K / 32;
    size_t od = zf_qx_d_offset(K), os = zf_qx_s_offset(K);
    float acc[ZF_QDOT_MAX_ROWS] = {0};
    uint8_t q[32];
    for (int64_t b = 0; b < nb; b++) {
        float dw, c;
        w += decode32(t, w, q, &dw, &c);
        for (int r = 0; r < nr; r++) {
            const uint8_t *row = qx + r * qxs;
            const int8_t *xq = (const int8_t *)row + 32 * b;
            float dx, sx;
            memcpy(&dx, row + od + 4 * b, 4);
            memcpy(&sx, row + os + 4 * b, 4);
            int32_t S = 0;
            for (int j = 0; j < 32; j++) S += (int32_t)q[j] * xq[j];
            acc[r] += dw * dx * (float)S + c * sx;
        }
    }
    for (int r = 0; r < nr; r++) y[r * ys] = acc[r];
}

static void dot_q4_0(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    dot32(ZF_Q4_0, K, w, qx, qxs, nr, y, ys);
}
static void dot_q4_1(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    dot32(ZF_Q4_1, K, w, qx, qxs, nr, y, ys);
}
static void dot_q5_0(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    dot32(ZF_Q5_0, K, w, qx, qxs, nr, y, ys);
}
static void dot_q5_1(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    dot32(ZF_Q5_1, K, w, qx, qxs, nr, y, ys);
}
static void dot_q8_0(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    dot32(ZF_Q8_0, K, w, qx, qxs, nr, y, ys);
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

static void dotk(zf_dtype t, int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y,
                 int64_t ys) {
    int64_t nb = K / 256;
    size_t od = zf_qx_d_offset(K), obs = zf_qx_bsums_offset(K);
    float acc[ZF_QDOT_MAX_ROWS] = {0};
    kblock k;
    for (int64_t b = 0; b < nb; b++) {
        w += decodek(t, w, &k);
        for (int r = 0; r < nr; r++) {
            const uint8_t *row = qx + r * qxs;
            const int8_t *xq = (const int8_t *)row + 256 * b;
            float dx;
            memcpy(&dx, row + od + 4 * b, 4);
            int32_t sumA = 0, sumB = 0;
            for (int j = 0; j < 16; j++) {
                int32_t S = 0;
                for (int i = 0; i < 16; i++) S += (int32_t)k.q[16 * j + i] * xq[16 * j + i];
                int16_t bs;
                memcpy(&bs, row + obs + 2 * (16 * b + j), 2);
                sumA += k.sa[j] * S;
                sumB += k.sb[j] * bs;
            }
            acc[r] += dx * (k.dA * (float)sumA - k.dB * (float)sumB);
        }
    }
    for (int r = 0; r < nr; r++) y[r * ys] = acc[r];
}

static void dot_q2_k(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    dotk(ZF_Q2_K, K, w, qx, qxs, nr, y, ys);
}
static void dot_q3_k(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    dotk(ZF_Q3_K, K, w, qx, qxs, nr, y, ys);
}
static void dot_q4_k(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    dotk(ZF_Q4_K, K, w, qx, qxs, nr, y, ys);
}
static void dot_q5_k(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    dotk(ZF_Q5_K, K, w, qx, qxs, nr, y, ys);
}
static void dot_q6_k(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    dotk(ZF_Q6_K, K, w, qx, qxs, nr, y, ys);
}

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

static void dot_f32(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    dotf(ZF_F32, K, w, qx, qxs, nr, y, ys);
}
static void dot_f16(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    dotf(ZF_F16, K, w, qx, qxs, nr, y, ys);
}
static void dot_bf16(int64_t K, const uint8_t *w, const uint8_t *qx, int64_t qxs, int nr, float *y, int64_t ys) {
    dotf(ZF_BF16, K, w, qx, qxs, nr, y, ys);
}

static bool always(void) { return true; }

const zf_qkernels zf_qkernels_ref = {
    .name = "ref",
    .supported = always,
    .max_rows = ZF_QDOT_MAX_ROWS,
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
