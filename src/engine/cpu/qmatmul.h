/* zerfoo — quantized matrix multiply internals (CPU engine).
 *
 *   y[m, n] = sum_k x[m, k] * W[n, k]
 *
 * W is [N, K] in a GGUF weight type, each row K / block_size blocks as
 * stored in the file (layouts in src/formats/quant_legacy.c and quant_k.c,
 * from ggml-common.h). For the block types every row of x is first quantized
 * to 8-bit blocks ("qx rows", below), the way llama.cpp quantizes
 * activations, and the dot products are integer sums of q_w * q_x per
 * sub-block, scaled in float once per block. For f32/f16/bf16 weights the
 * qx row is x itself in f32.
 *
 * qx row layouts (bytes; K elements; every array starts 4-byte aligned and a
 * row is padded to a multiple of 64 bytes, pad bytes zero):
 *   ZF_QX_Q8_0 (weights q4_0, q5_0, q8_0) and ZF_QX_Q8_1 (q4_1, q5_1),
 *     nb = K/32 blocks, nbp = nb rounded up to even:
 *     int8 qs[K] | float d[nbp] | float s[nbp]
 *     Block b: amax = max |x|, d = amax/127 rounded to f16 (ggml stores it
 *     as f16), qs = round-half-even(x * 127/amax), s = d * sum(qs) for Q8_0
 *     and f16(amax/127 * sum(qs)) for Q8_1 (ggml's block_q8_1.s; q4_1 and
 *     q5_1 apply their minimum m as fma(m, s) once per block, as ggml).
 *   ZF_QX_Q8_K (weights q2_k ... q6_k), nb = K/256 super-blocks:
 *     int8 qs[K] | float d[nb] | int16 bsums[K/16]
 *     As ggml's block_q8_K: iscale = 127/amax, qs = round-half-even(x *
 *     iscale), d = 1/iscale, bsums[j] = sum of qs[16j .. 16j+15]. (ggml
 *     takes iscale = -127/max with max the signed largest element: qs and d
 *     both change sign, every product d * qs is the same.)
 *   ZF_QX_F32 (weights f32, f16, bf16): float x[K].
 * A NaN or infinity in x makes every output that uses its block NaN (its d
 * becomes NaN or infinite) instead of silently dropping the value.
 * Sources: ggml-cpu's quantize_row_q8_0 / q8_1 (x86), quantize_row_q8_K_ref.
 *
 * The products follow ggml's CPU mul_mat bit for bit (the ggml that PyPI
 * llama-cpp-python builds with GGML_NATIVE=ON on an AVX-512 x86 CPU):
 * every output is the float rounding sequence of the ggml kernel that would
 * compute it there, the "recipe" below; the integer parts are exact, so any
 * grouping of them gives the same bits, but the float order (lanes, FMA or
 * mul + add, horizontal sums) is ggml's. Which recipe ggml uses depends on
 * the weight type, N (the repack rule) and M (its tiled and gemm paths), so
 * a row's result may differ between a batch and one row at a time, as it
 * does in llama.cpp. All kernel sets (ref, avx2, avx512) give the same bits.
 *
 * A dot kernel computes nw <= ZF_QDOT_MAX_W weight rows against nr <=
 * max_rows qx rows, decoding each weight block once for all of them. */
#ifndef ZF_ENGINE_CPU_QMATMUL_H
#define ZF_ENGINE_CPU_QMATMUL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zerfoo/dtype.h"
#include "zerfoo/error.h"
#include "zerfoo/threadpool.h"

#define ZF_QDOT_MAX_ROWS 8
#define ZF_QDOT_MAX_ROWS_F32 4 /* f32/f16/bf16 weights */
#define ZF_QDOT_MAX_W 8        /* weight rows per dot call */
#define ZF_QDOT_MAX_ROWS_K8 16 /* x rows per TILED / GEMM call */

typedef enum zf_qx_kind { ZF_QX_F32 = 0, ZF_QX_Q8_0, ZF_QX_Q8_1, ZF_QX_Q8_K, ZF_QX_COUNT } zf_qx_kind;

/* Activation format for weights of dtype w (ZF_QX_COUNT when unsupported). */
zf_qx_kind zf_qx_kind_for(zf_dtype w);
/* Bytes of one qx row of K elements (a multiple of 64). */
size_t zf_qx_row_bytes(zf_qx_kind kind, int64_t K);
/* Quantizes x[0..K) into one qx row (K a multiple of the block size). */
void zf_qx_quantize(zf_qx_kind kind, const float *x, uint8_t *row, int64_t K);

/* Byte offsets of a qx row's arrays. */
static inline size_t zf_qx_d_offset(int64_t K) { return (size_t)K; }
static inline size_t zf_qx_s_offset(int64_t K) { return (size_t)K + 4 * (size_t)((K / 32 + 1) & ~(int64_t)1); }
static inline size_t zf_qx_bsums_offset(int64_t K) { return (size_t)K + 4 * (size_t)(K / 256); }

/* y[r * y_stride + i] = dot(W row i, qx row r) for i < nw, r < nr; W row i
 * starts at w + i * w_stride, qx row r at qx + r * qx_stride. K is a
 * multiple of the weight block size. For f32/f16/bf16 weights nr <= 4. */
typedef void (*zf_qdot_fn)(int64_t K, const uint8_t *w, size_t w_stride, int nw, const uint8_t *qx,
                           int64_t qx_stride, int nr, float *y, int64_t y_stride);

/* The ggml kernel whose arithmetic a product reproduces (x86, AVX-512 VNNI
 * build; sources under ggml/src/ggml-cpu/):
 *   VEC    ggml_vec_dot_<w>_q8_<x> (arch/x86/quants.c): per 32 elements 8
 *          int32 lanes (lane l sums elements 4l..4l+3), each lane an FMA
 *          chain over the blocks, then hsum_float_8; q4_1/q5_1/q5_K add a
 *          scalar FMA chain of the block minimums. llamafile's tinyBLAS
 *          (q4_0/q5_0/q8_0 with M >= 2) rounds the same way.
 *   TILED  K types with M >= 8, weights not repacked (tiled/tiled-kernel.cpp
 *          VNNI microtile): per super-block res = fnmadd(dmin, S_min,
 *          S * d) (S * d without minimums), then y = fma(res, dx, y).
 *   GEMV   repacked weights (q4_0 and q4_K on AVX2, q2_K on AVX-512, N %
 *          8 == 0: repack.cpp), the rows past the last group of 4
 *          (arch/x86/repack.cpp ggml_gemv_*_8x8): per block one FMA of the
 *          block's integer sum with dw * dx (and one for the minimums).
 *   GEMM   repacked weights, rows in groups of 4 (ggml_gemm_*_8x8): as GEMV
 *          but q4_K takes one FMA per 64 elements, q2_K per 128. */
typedef enum zf_qmm_recipe { ZF_QR_VEC = 0, ZF_QR_TILED, ZF_QR_GEMV, ZF_QR_GEMM, ZF_QR_COUNT } zf_qmm_recipe;

/* Whether ggml repacks weights of type t with N rows on this CPU. */
bool zf_qmm_ggml_repacks(zf_dtype t, int64_t N);

/* Integer scales of one K-type super-block (qdot_ref.c): for each sub-block
 * j of 16 elements, w_i = dA * sa[j] * q_i - dB * sb[j] with q_i the
 * unsigned level (q2_k 0..3, q3_k 0..7 = low2 + 4*hbit, q4_k 0..15, q5_k
 * 0..31, q6_k 0..63). Returns the block size in bytes. */
int zf_qk_scales(zf_dtype t, const uint8_t *blk, int16_t sa[16], int16_t sb[16], float *dA, float *dB);

/* One instruction set's dot kernels, indexed by weight dtype (NULL: none). */
typedef struct zf_qkernels {
    const char *name;
    bool (*supported)(void); /* can this CPU run them? */
    int max_rows;            /* most x rows per dot call (<= ZF_QDOT_MAX_ROWS) */
    int max_rows_k8;         /* the same for TILED and GEMM (<= ZF_QDOT_MAX_ROWS_K8; 0: max_rows) */
    zf_qdot_fn dot[ZF_QR_COUNT][ZF_DTYPE_COUNT]; /* float weights: VEC only */
} zf_qkernels;

/* Portable C (qdot_ref.c), AVX2+FMA+F16C (qdot_avx2.c), AVX-512
 * F/BW/VL/VNNI (qdot_avx512.c; x86 builds only). */
extern const zf_qkernels zf_qkernels_ref;
extern const zf_qkernels zf_qkernels_avx2;
extern const zf_qkernels zf_qkernels_avx512;
/* The kernel sets, best first, NULL-terminated; and the best this CPU runs
 * (ZF_QMATMUL_ISA=ref|avx2|avx512 in the environment picks one, for tests
 * and benchmarks). */
extern const zf_qkernels *const zf_qkernels_all[];
const zf_qkernels *zf_qkernels_best(void);

/* How zf_qmatmul_run computes: dot kernels on (quantized) x rows, or W
 * dequantized to f32 in tiles of rows multiplied with zf_sgemm (f32 W
 * directly). AUTO: the dots for block types; for f32/f16/bf16 weights the
 * gemm from M >= 64 (the measured crossover is M ~ 48-64). */
typedef enum zf_qmm_path { ZF_QMM_AUTO = 0, ZF_QMM_DOT, ZF_QMM_GEMM } zf_qmm_path;

/* The whole product on a pool (NULL: calling thread): x [M, K] f32 rows,
 * W [N, K] of dtype wt, y [M, N]. Uses `kern` (NULL: the best). Returns
 * ZF_ERR_OOM when a scratch buffer cannot grow. */
zf_status zf_qmatmul_run(const zf_qkernels *kern, zf_threadpool *pool, zf_dtype wt, int64_t M, int64_t N,
                         int64_t K, const float *x, const void *w, float *y);
zf_status zf_qmatmul_run_path(const zf_qkernels *kern, zf_threadpool *pool, zf_qmm_path path, zf_dtype wt,
                              int64_t M, int64_t N, int64_t K, const float *x, const void *w, float *y);

#endif
