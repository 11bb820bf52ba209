/* Private: vector kernels for the bulk f16 <-> f32 and bf16 <-> f32
 * conversions (src/core/dtype_convert_simd.c).
 *
 * Every kernel gives results bit-identical to the scalar functions of
 * include/zerfoo/dtype.h (zf_f16_to_f32, zf_f32_to_f16, zf_bf16_to_f32,
 * zf_f32_to_bf16) for every input, NaNs included; tests/unit/
 * test_dtype_convert.c checks each instruction-set level against them.
 * Arrays are contiguous, need no particular alignment and must not overlap. */
#ifndef ZERFOO_CORE_DTYPE_CONVERT_SIMD_H
#define ZERFOO_CORE_DTYPE_CONVERT_SIMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum zf_cvt_isa {
    ZF_CVT_SCALAR = 0, /* plain C, any machine */
    ZF_CVT_AVX2,       /* x86-64 AVX2 + F16C */
    ZF_CVT_AVX512,     /* x86-64 AVX-512F */
    ZF_CVT_ISA_COUNT
} zf_cvt_isa;

const char *zf_cvt_isa_name(zf_cvt_isa isa);
/* True when this build has the kernels and this CPU (and OS) can run them. */
bool zf_cvt_isa_available(zf_cvt_isa isa);
/* The widest available level; what the unsuffixed kernels below use. */
zf_cvt_isa zf_cvt_isa_best(void);

/* Kernels at a given level; an unavailable level falls back to scalar. */
void zf_cvt_f16_to_f32_isa(zf_cvt_isa isa, const uint16_t *src, float *dst, size_t n);
void zf_cvt_f32_to_f16_isa(zf_cvt_isa isa, const float *src, uint16_t *dst, size_t n);
void zf_cvt_bf16_to_f32_isa(zf_cvt_isa isa, const uint16_t *src, float *dst, size_t n);
void zf_cvt_f32_to_bf16_isa(zf_cvt_isa isa, const float *src, uint16_t *dst, size_t n);

/* Kernels at zf_cvt_isa_best(). */
void zf_cvt_f16_to_f32(const uint16_t *src, float *dst, size_t n);
void zf_cvt_f32_to_f16(const float *src, uint16_t *dst, size_t n);
void zf_cvt_bf16_to_f32(const uint16_t *src, float *dst, size_t n);
void zf_cvt_f32_to_bf16(const float *src, uint16_t *dst, size_t n);

#endif
