/* zerfoo — element types and numeric conversion.
 *
 * Scalar types hold one element per `zf_dtype_size` bytes. Block-quantized
 * types (GGUF's Q4_0 … Q6_K) are storage-only: `zf_dtype_block` elements are
 * packed into `zf_dtype_size` bytes, and they are computed on by dequantizing
 * to f32 (or by engine kernels that read the blocks directly). */
#ifndef ZERFOO_DTYPE_H
#define ZERFOO_DTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum zf_dtype {
    ZF_F64 = 0,
    ZF_F32,
    ZF_F16,
    ZF_BF16,
    ZF_F8_E4M3, /* "e4m3fn": no infinities, NaN = S.1111.111, max 448 */
    ZF_F8_E5M2, /* IEEE-like: infinities and NaNs, max 57344 */
    ZF_I64,
    ZF_I32,
    ZF_I16,
    ZF_I8,
    ZF_U8,
    ZF_BOOL,
    /* GGUF block-quantized, storage only */
    ZF_Q4_0,
    ZF_Q4_1,
    ZF_Q5_0,
    ZF_Q5_1,
    ZF_Q8_0,
    ZF_Q2_K,
    ZF_Q3_K,
    ZF_Q4_K,
    ZF_Q5_K,
    ZF_Q6_K,
    ZF_DTYPE_COUNT
} zf_dtype;

#define ZF_DTYPE_SCALAR_COUNT (ZF_BOOL + 1)

const char *zf_dtype_name(zf_dtype t);
/* Parses a name as printed by zf_dtype_name ("f32", "bf16", "f8_e4m3", "q4_k" ...);
 * returns ZF_DTYPE_COUNT when unknown. */
zf_dtype zf_dtype_from_name(const char *name);
bool zf_dtype_valid(zf_dtype t);
/* Bytes per block (per element for scalar types). */
size_t zf_dtype_size(zf_dtype t);
/* Elements per block: 1 for scalar types, 32 or 256 for quantized ones. */
int64_t zf_dtype_block(zf_dtype t);
bool zf_dtype_is_float(zf_dtype t);   /* f64 f32 f16 bf16 f8 */
bool zf_dtype_is_int(zf_dtype t);     /* i64 … u8 (not bool) */
bool zf_dtype_is_quant(zf_dtype t);

/* ---- scalar conversions (src/core/dtype_convert.c) ----
 * Narrowing conversions round to nearest, ties to even. NaN stays NaN (quiet,
 * sign kept where the format has a signed NaN). Overflow: f16, bf16 and f8_e5m2
 * go to ±inf; f8_e4m3 (no inf) goes to NaN, as ml_dtypes does for
 * float8_e4m3fn. Conversions from f64 round once, directly (no double
 * rounding through f32). */
float zf_f16_to_f32(uint16_t h);
uint16_t zf_f32_to_f16(float f);
uint16_t zf_f64_to_f16(double d);
float zf_bf16_to_f32(uint16_t h);
uint16_t zf_f32_to_bf16(float f);
uint16_t zf_f64_to_bf16(double d);
float zf_f8e4m3_to_f32(uint8_t b);
uint8_t zf_f32_to_f8e4m3(float f);
uint8_t zf_f64_to_f8e4m3(double d);
float zf_f8e5m2_to_f32(uint8_t b);
uint8_t zf_f32_to_f8e5m2(float f);
uint8_t zf_f64_to_f8e5m2(double d);

/* ---- bulk conversions between contiguous arrays of n elements ----
 * Scalar dtypes only (quant types: see formats/quant). Float -> int truncates
 * toward zero and saturates to the int range; NaN -> 0. Anything -> bool is
 * (x != 0); bool -> anything is 0 or 1. Int -> int goes through int64 (exact,
 * wrapping like a C cast). */
void zf_convert_to_f32(zf_dtype src_t, const void *src, float *dst, size_t n);
void zf_convert_from_f32(zf_dtype dst_t, const float *src, void *dst, size_t n);
void zf_convert_to_f64(zf_dtype src_t, const void *src, double *dst, size_t n);
void zf_convert_from_f64(zf_dtype dst_t, const double *src, void *dst, size_t n);
void zf_convert_to_i64(zf_dtype src_t, const void *src, int64_t *dst, size_t n);
void zf_convert_from_i64(zf_dtype dst_t, const int64_t *src, void *dst, size_t n);
/* Any scalar dtype to any scalar dtype; exact where the target can hold it. */
void zf_convert(zf_dtype dst_t, void *dst, zf_dtype src_t, const void *src, size_t n);

#ifdef __cplusplus
}
#endif
#endif
