/* ggml's 32-element block formats Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
 *
 * Layouts (ggml-common.h; d, m are f16):
 *   Q4_0 18 B: d, qs[16]            x = (q - 8) * d,       q in 0..15
 *   Q4_1 20 B: d, m, qs[16]         x = q * d + m,         q in 0..15
 *   Q5_0 22 B: d, qh[4], qs[16]     x = (q - 16) * d,      q in 0..31
 *   Q5_1 24 B: d, m, qh[4], qs[16]  x = q * d + m,         q in 0..31
 *   Q8_0 34 B: d, qs[32] (int8)     x = q * d
 * Nibbles: qs[j] holds element j in its low 4 bits and element j + 16 in its
 * high 4 bits. Q5 high bits: bit j of the little-endian u32 qh is bit 4 of
 * element j.
 *
 * The quantizers are ggml's quantize_row_*_ref, which gguf-py reproduces in
 * numpy: the scale comes from the element of largest magnitude (first one on
 * ties) or from min/max, q = trunc(x/d + offset) clamped, Q8_0 rounds half
 * away from zero. Float -> int conversions are clamped first, so even
 * non-finite inputs are well defined here. */
#include "formats/quant_internal.h"

#include <math.h>

/* trunc(v) clamped to [0, hi]; NaN -> 0 */
static inline uint8_t trunc_clamp(float v, int hi) {
    if (!(v > 0.0f)) return 0;
    if (v >= (float)hi) return (uint8_t)hi;
    return (uint8_t)(int)v;
}

/* Index of the element of largest |x| (first on ties); returns that element. */
static float signed_absmax(const float *x) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < ZF_QK; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    return max;
}

static void min_max(const float *x, float *mn, float *mx) {
    float lo = x[0], hi = x[0];
    for (int j = 1; j < ZF_QK; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    *mn = lo;
    *mx = hi;
}

/* ---- dequantize ---- */

void zf_dequant_q4_0(const uint8_t *q, float *x, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, q += 18, x += ZF_QK) {
        const float d = zf_q_ld_f16(q);
        const uint8_t *qs = q + 2;
        for (int j = 0; j < 16; j++) {
            x[j] = (float)((int)(qs[j] & 0x0f) - 8) * d;
            x[j + 16] = (float)((int)(qs[j] >> 4) - 8) * d;
        }
    }
}

void zf_dequant_q4_1(const uint8_t *q, float *x, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, q += 20, x += ZF_QK) {
        const float d = zf_q_ld_f16(q), m = zf_q_ld_f16(q + 2);
        const uint8_t *qs = q + 4;
        for (int j = 0; j < 16; j++) {
            x[j] = (float)(qs[j] & 0x0f) * d + m;
            x[j + 16] = (float)(qs[j] >> 4) * d + m;
        }
    }
}

void zf_dequant_q5_0(const uint8_t *q, float *x, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, q += 22, x += ZF_QK) {
        const float d = zf_q_ld_f16(q);
        uint32_t qh;
        memcpy(&qh, q + 2, 4);
        const uint8_t *qs = q + 6;
        for (int j = 0; j < 16; j++) {
            int lo = (qs[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
            int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            x[j] = (float)(lo - 16) * d;
            x[j + 16] = (float)(hi - 16) * d;
        }
    }
}

void zf_dequant_q5_1(const uint8_t *q, float *x, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, q += 24, x += ZF_QK) {
        const float d = zf_q_ld_f16(q), m = zf_q_ld_f16(q + 2);
        uint32_t qh;
        memcpy(&qh, q + 4, 4);
        const uint8_t *qs = q + 8;
        for (int j = 0; j < 16; j++) {
            int lo = (qs[j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
            int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            x[j] = (float)lo * d + m;
            x[j + 16] = (float)hi * d + m;
        }
    }
}

void zf_dequant_q8_0(const uint8_t *q, float *x, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, q += 34, x += ZF_QK) {
        const float d = zf_q_ld_f16(q);
        for (int j = 0; j < ZF_QK; j++) x[j] = (float)(int8_t)q[2 + j] * d;
    }
}

/* ---- quantize (ggml quantize_row_*_ref) ---- */

void zf_quant_q4_0(const float *x, uint8_t *q, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, q += 18, x += ZF_QK) {
        const float d = signed_absmax(x) / -8;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        zf_q_st_f16(q, d);
        for (int j = 0; j < 16; j++) {
            uint8_t lo = trunc_clamp(x[j] * id + 8.5f, 15);
            uint8_t hi = trunc_clamp(x[j + 16] * id + 8.5f, 15);
            q[2 + j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

void zf_quant_q4_1(const float *x, uint8_t *q, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, q += 20, x += ZF_QK) {
        float mn, mx;
        min_max(x, &mn, &mx);
        const float d = (mx - mn) / 15;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        zf_q_st_f16(q, d);
        zf_q_st_f16(q + 2, mn);
        for (int j = 0; j < 16; j++) {
            uint8_t lo = trunc_clamp((x[j] - mn) * id + 0.5f, 15);
            uint8_t hi = trunc_clamp((x[j + 16] - mn) * id + 0.5f, 15);
            q[4 + j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

void zf_quant_q5_0(const float *x, uint8_t *q, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, q += 22, x += ZF_QK) {
        const float d = signed_absmax(x) / -16;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        zf_q_st_f16(q, d);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            uint8_t lo = trunc_clamp(x[j] * id + 16.5f, 31);
            uint8_t hi = trunc_clamp(x[j + 16] * id + 16.5f, 31);
            q[6 + j] = (uint8_t)((lo & 0x0f) | ((hi & 0x0f) << 4));
            qh |= (uint32_t)(lo >> 4) << j;
            qh |= (uint32_t)(hi >> 4) << (j + 16);
        }
        memcpy(q + 2, &qh, 4);
    }
}

void zf_quant_q5_1(const float *x, uint8_t *q, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, q += 24, x += ZF_QK) {
        float mn, mx;
        min_max(x, &mn, &mx);
        const float d = (mx - mn) / 31;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        zf_q_st_f16(q, d);
        zf_q_st_f16(q + 2, mn);
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            uint8_t lo = trunc_clamp((x[j] - mn) * id + 0.5f, 31);
            uint8_t hi = trunc_clamp((x[j + 16] - mn) * id + 0.5f, 31);
            q[8 + j] = (uint8_t)((lo & 0x0f) | ((hi & 0x0f) << 4));
            qh |= (uint32_t)(lo >> 4) << j;
            qh |= (uint32_t)(hi >> 4) << (j + 16);
        }
        memcpy(q + 4, &qh, 4);
    }
}

void zf_quant_q8_0(const float *x, uint8_t *q, int64_t nb) {
    for (int64_t b = 0; b < nb; b++, q += 34, x += ZF_QK) {
        float amax = 0.0f;
        for (int j = 0; j < ZF_QK; j++) {
            float a = fabsf(x[j]);
            if (a > amax) amax = a;
        }
        const float d = amax / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        zf_q_st_f16(q, d);
        for (int j = 0; j < ZF_QK; j++) {
            float v = roundf(x[j] * id); /* half away from zero, as ggml */
            int8_t qi = !(v == v) ? 0 : v > 127.0f ? 127 : v < -128.0f ? -128 : (int8_t)v;
            q[2 + j] = (uint8_t)qi;
        }
    }
}
