/* zerfoo — block-quantized formats of ggml/GGUF: conversion to and from f32.
 *
 * Types: F32, F16, BF16 and the GGUF block types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0
 * (32 elements per block) and Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (256 per block).
 * Byte layouts are ggml's (ggml-common.h block_q4_0 ... block_q6_K), scales
 * stored as IEEE f16, little-endian. Element i of a row lives in block
 * i / block_size.
 *
 * zf_dequantize matches ggml's dequantize_row_* and gguf-py's
 * gguf.quants.dequantize bit for bit (same operations in the same order, no
 * fused multiply-add). zf_quantize is the reference ("_ref") quantizer of
 * ggml's ggml-quants.c: for Q4_0 … Q8_0 it matches gguf.quants.quantize bit
 * for bit on finite inputs; for the K types (which gguf-py cannot quantize) it
 * follows llama.cpp's reference algorithm without an importance matrix.
 * Non-finite inputs give valid but unspecified blocks.
 *
 * Buffers: src/dst hold n elements; for a block type that is
 * n / zf_dtype_block(t) blocks of zf_dtype_size(t) bytes (zf_quant_row_size).
 * No alignment is required of the quantized side. */
#ifndef ZERFOO_QUANT_H
#define ZERFOO_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zerfoo/dtype.h"
#include "zerfoo/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* True for the types listed above. */
bool zf_quant_supported(zf_dtype t);
/* Bytes that n elements of t take; 0 with an error when t is unsupported or
 * n is negative or not a multiple of the block size. */
size_t zf_quant_row_size(zf_dtype t, int64_t n);
/* dst[0..n) = the n elements in src. */
zf_status zf_dequantize(zf_dtype t, const void *src, float *dst, int64_t n);
/* dst = src[0..n) quantized to t (zf_quant_row_size(t, n) bytes). */
zf_status zf_quantize(zf_dtype t, const float *src, void *dst, int64_t n);

#ifdef __cplusplus
}
#endif
#endif
