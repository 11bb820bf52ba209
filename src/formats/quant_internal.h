/* Internals of the block-quantized formats (src/formats/quant*.c).
 *
 * Every kernel takes nb whole blocks: `q` points at nb * block bytes, `x` at
 * nb * block_size floats. Reads of multi-byte fields go through memcpy, so no
 * alignment is needed. */
#ifndef ZF_FORMATS_QUANT_INTERNAL_H
#define ZF_FORMATS_QUANT_INTERNAL_H

#include <stdint.h>
#include <string.h>

/* Bit-exact parity with ggml/numpy needs a*b+c rounded twice, never fused. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#define ZF_QK 32   /* elements per block of Q4_0 ... Q8_0 (ggml QK4_0 ... QK8_0) */
#define ZF_QK_K 256 /* elements per super-block of the K types (ggml QK_K) */

/* IEEE binary16 -> binary32, exact (NaN payloads kept, signaling NaNs stay
 * signaling, as numpy and gguf-py do). Kept separate from zf_f16_to_f32 in
 * core/dtype_convert.c, which quiets NaNs the way F16C does: F16 tensors and
 * block scales must dequantize bit-identically to gguf-py, NaNs included. */
static inline float zf_q_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
    if (e == 0x1f) {
        x = sign | 0x7f800000u | (m << 13);
    } else if (e == 0) {
        if (m == 0) {
            x = sign;
        } else { /* subnormal: m * 2^-24, normalize */
            e = 113;
            while (!(m & 0x400u)) {
                m <<= 1;
                e--;
            }
            x = sign | (e << 23) | ((m & 0x3ffu) << 13);
        }
    } else {
        x = sign | ((e + 112) << 23) | (m << 13); /* rebias 15 -> 127 */
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* binary32 -> binary16, round to nearest even; overflow -> inf; NaN -> quiet NaN. */
static inline uint16_t zf_q_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) /* inf, NaN */
        return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u | ((ax >> 13) & 0x3ffu) : 0));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to inf */
    if (ax < 0x38800000u) {                                    /* below 2^-14: subnormal half */
        if (ax <= 0x33000000u) return sign;                    /* <= 2^-25 rounds to 0 */
        uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; /* units of 2^-24 */
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t r = ax - 0x38000000u; /* rebias 127 -> 15 */
    uint32_t q = r >> 13, rem = r & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1))) q++;
    return (uint16_t)(sign | q);
}

static inline float zf_q_ld_f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return zf_q_f16_to_f32(h);
}

static inline void zf_q_st_f16(uint8_t *p, float f) {
    uint16_t h = zf_q_f32_to_f16(f);
    memcpy(p, &h, 2);
}

/* Legacy 32-element blocks (quant_legacy.c). */
void zf_dequant_q4_0(const uint8_t *q, float *x, int64_t nb);
void zf_dequant_q4_1(const uint8_t *q, float *x, int64_t nb);
void zf_dequant_q5_0(const uint8_t *q, float *x, int64_t nb);
void zf_dequant_q5_1(const uint8_t *q, float *x, int64_t nb);
void zf_dequant_q8_0(const uint8_t *q, float *x, int64_t nb);
void zf_quant_q4_0(const float *x, uint8_t *q, int64_t nb);
void zf_quant_q4_1(const float *x, uint8_t *q, int64_t nb);
void zf_quant_q5_0(const float *x, uint8_t *q, int64_t nb);
void zf_quant_q5_1(const float *x, uint8_t *q, int64_t nb);
void zf_quant_q8_0(const float *x, uint8_t *q, int64_t nb);

/* K-quant 256-element super-blocks (quant_k.c). */
void zf_dequant_q2_k(const uint8_t *q, float *x, int64_t nb);
void zf_dequant_q3_k(const uint8_t *q, float *x, int64_t nb);
void zf_dequant_q4_k(const uint8_t *q, float *x, int64_t nb);
void zf_dequant_q5_k(const uint8_t *q, float *x, int64_t nb);
void zf_dequant_q6_k(const uint8_t *q, float *x, int64_t nb);
void zf_quant_q2_k(const float *x, uint8_t *q, int64_t nb);
void zf_quant_q3_k(const float *x, uint8_t *q, int64_t nb);
void zf_quant_q4_k(const float *x, uint8_t *q, int64_t nb);
void zf_quant_q5_k(const float *x, uint8_t *q, int64_t nb);
void zf_quant_q6_k(const float *x, uint8_t *q, int64_t nb);

#endif
