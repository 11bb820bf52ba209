/* zf_quantize / zf_dequantize: argument checks and dispatch by dtype, plus
 * the element-wise F32, F16 and BF16 cases. See include/zerfoo/quant.h. */
#include "zerfoo/quant.h"

#include "formats/quant_internal.h"

typedef void (*dequant_fn)(const uint8_t *q, float *x, int64_t nb);
typedef void (*quant_fn)(const float *x, uint8_t *q, int64_t nb);

static void f32_load(const uint8_t *q, float *x, int64_t n) { memcpy(x, q, (size_t)n * 4); }
static void f32_store(const float *x, uint8_t *q, int64_t n) { memcpy(q, x, (size_t)n * 4); }

static void f16_load(const uint8_t *q, float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = zf_q_ld_f16(q + 2 * i);
}
static void f16_store(const float *x, uint8_t *q, int64_t n) {
    for (int64_t i = 0; i < n; i++) zf_q_st_f16(q + 2 * i, x[i]);
}

/* bf16 is the top half of an f32. */
static void bf16_load(const uint8_t *q, float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, q + 2 * i, 2);
        uint32_t u = (uint32_t)h << 16;
        memcpy(&x[i], &u, 4);
    }
}

/* Round to nearest even; NaN keeps its top bits and is made quiet (as
 * ggml_compute_fp32_to_bf16 and gguf-py's BF16.quantize_blocks). */
static void bf16_store(const float *x, uint8_t *q, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        uint16_t h;
        if ((u & 0x7fffffffu) > 0x7f800000u) h = (uint16_t)((u >> 16) | 0x40u);
        else h = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
        memcpy(q + 2 * i, &h, 2);
    }
}

typedef struct {
    dequant_fn dequant;
    quant_fn quant;
} quant_ops;

static const quant_ops k_ops[ZF_DTYPE_COUNT] = {
    [ZF_F32] = {f32_load, f32_store},
    [ZF_F16] = {f16_load, f16_store},
    [ZF_BF16] = {bf16_load, bf16_store},
    [ZF_Q4_0] = {zf_dequant_q4_0, zf_quant_q4_0},
    [ZF_Q4_1] = {zf_dequant_q4_1, zf_quant_q4_1},
    [ZF_Q5_0] = {zf_dequant_q5_0, zf_quant_q5_0},
    [ZF_Q5_1] = {zf_dequant_q5_1, zf_quant_q5_1},
    [ZF_Q8_0] = {zf_dequant_q8_0, zf_quant_q8_0},
    [ZF_Q2_K] = {zf_dequant_q2_k, zf_quant_q2_k},
    [ZF_Q3_K] = {zf_dequant_q3_k, zf_quant_q3_k},
    [ZF_Q4_K] = {zf_dequant_q4_k, zf_quant_q4_k},
    [ZF_Q5_K] = {zf_dequant_q5_k, zf_quant_q5_k},
    [ZF_Q6_K] = {zf_dequant_q6_k, zf_quant_q6_k},
};

bool zf_quant_supported(zf_dtype t) { return zf_dtype_valid(t) && k_ops[t].dequant != NULL; }

size_t zf_quant_row_size(zf_dtype t, int64_t n) {
    if (!zf_quant_supported(t)) {
        zf_set_error(ZF_ERR_DTYPE, "quant: dtype %s is not a quantization format (f32, f16, bf16, q4_0 ... q6_k)",
                     zf_dtype_name(t));
        return 0;
    }
    int64_t blk = zf_dtype_block(t);
    if (n < 0 || n % blk != 0) {
        zf_set_error(ZF_ERR_SHAPE, "quant: %lld elements is not a non-negative multiple of the %s block size %lld",
                     (long long)n, zf_dtype_name(t), (long long)blk);
        return 0;
    }
    uint64_t nb = (uint64_t)(n / blk), bs = zf_dtype_size(t);
    if (nb > SIZE_MAX / bs) {
        zf_set_error(ZF_ERR_OVERFLOW, "quant: %lld %s elements overflow size_t bytes", (long long)n, zf_dtype_name(t));
        return 0;
    }
    return (size_t)(nb * bs);
}

/* Checks arguments; *nb gets the number of blocks (elements for F32/F16/BF16). */
static zf_status check(zf_dtype t, const void *src, const void *dst, int64_t n, int64_t *nb) {
    if (n == 0) {
        *nb = 0;
        return zf_quant_supported(t) ? ZF_OK
                                     : zf_set_error(ZF_ERR_DTYPE, "quant: dtype %s is not a quantization format",
                                                    zf_dtype_name(t));
    }
    if (zf_quant_row_size(t, n) == 0) return zf_last_status();
    if (!src || !dst) return zf_set_error(ZF_ERR_INVALID_ARG, "quant: NULL buffer");
    /* the float side must fit size_t bytes too */
    if ((uint64_t)n > SIZE_MAX / sizeof(float))
        return zf_set_error(ZF_ERR_OVERFLOW, "quant: %lld floats overflow size_t bytes", (long long)n);
    *nb = n / zf_dtype_block(t);
    return ZF_OK;
}

zf_status zf_dequantize(zf_dtype t, const void *src, float *dst, int64_t n) {
    int64_t nb;
    zf_status s = check(t, src, dst, n, &nb);
    if (s || nb == 0) return s;
    k_ops[t].dequant((const uint8_t *)src, dst, nb);
    return ZF_OK;
}

zf_status zf_quantize(zf_dtype t, const float *src, void *dst, int64_t n) {
    int64_t nb;
    zf_status s = check(t, src, dst, n, &nb);
    if (s || nb == 0) return s;
    k_ops[t].quant(src, (uint8_t *)dst, nb);
    return ZF_OK;
}
