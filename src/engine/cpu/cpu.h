/* CPU engine internals: strided n-d iteration and kernel registration. */
#ifndef ZF_ENGINE_CPU_H
#define ZF_ENGINE_CPU_H

#include <stdint.h>

#include "core/internal.h"
#include "zerfoo/engine.h"

#define ZF_ITER_MAX_OPS 4

/* Iteration over an output shape with up to 4 operands (operand 0 is
 * usually the output). Strides are in bytes, broadcast dims have stride 0.
 * zf_iter_init collapses dims that are contiguous for every operand and drops
 * size-1 dims, so most elementwise work runs as a few long rows. */
typedef struct zf_iter {
    int ndim; /* >= 1 after init (a scalar becomes shape [1]) */
    int nops;
    int64_t shape[ZF_MAX_DIMS];
    int64_t stride[ZF_ITER_MAX_OPS][ZF_MAX_DIMS];
    char *base[ZF_ITER_MAX_OPS];
} zf_iter;

/* ops[0..nops) are viewed with shape (out_ndim, out_shape): each operand's
 * shape must broadcast to it (checked by the caller). */
void zf_iter_init(zf_iter *it, int out_ndim, const int64_t *out_shape, int nops, const zf_tensor *const *ops);
int64_t zf_iter_numel(const zf_iter *it);

/* Row callback: n elements along the innermost dim; p[k] points at operand
 * k's first element, s[k] is its byte stride. */
typedef void (*zf_row_fn)(void *arg, char **p, const int64_t *s, int64_t n);
/* Runs fn over the linear element range [begin, end), split into rows. */
void zf_iter_range(const zf_iter *it, int64_t begin, int64_t end, zf_row_fn fn, void *arg);
/* Runs the whole iteration on the engine's pool, split by element ranges of
 * at least `grain` elements. */
void zf_iter_parallel(zf_engine *e, const zf_iter *it, int64_t grain, zf_row_fn fn, void *arg);

/* Fills every CPU kernel (engine.c); used by the cpu and blas engines. */
void zf_cpu_fill_kernels(zf_kernel_fn *k);
/* The matmul kernel through cblas (the blas engine's MATMUL). */
zf_status zf_cpu_matmul_blas(zf_engine *e, const zf_op_call *c);
/* Kernel table fillers, one per kernel file. */
void zf_cpu_register_fill(zf_kernel_fn *k);
void zf_cpu_register_elementwise(zf_kernel_fn *k);
void zf_cpu_register_reduce(zf_kernel_fn *k);
void zf_cpu_register_matmul(zf_kernel_fn *k);
void zf_cpu_register_index(zf_kernel_fn *k);
void zf_cpu_register_conv(zf_kernel_fn *k);
void zf_cpu_register_pool(zf_kernel_fn *k);
void zf_cpu_register_loss(zf_kernel_fn *k);
void zf_cpu_register_optim(zf_kernel_fn *k);
void zf_cpu_register_qmatmul(zf_kernel_fn *k);
void zf_cpu_register_llm(zf_kernel_fn *k);
void zf_cpu_register_attention(zf_kernel_fn *k);
/* Dims and parameters of an ATTENTION call (contract in src/ops/llm_ops.c):
 * q [B, T, Hq, D], k/v [B, S, Hkv, D] (o = 1 when the B dim is present),
 * G = Hq / Hkv; read by zf_cpu_attention_dims (kernels_attention.c). */
typedef struct zf_attn_dims {
    int o;
    int64_t B, T, Hq, D, S, Hkv, G;
    float scale, softcap;
    int64_t window, qpos0, kpos0, krot;
    bool causal;
} zf_attn_dims;
zf_attn_dims zf_cpu_attention_dims(const zf_op_call *c);
/* ATTENTION with ggml numerics (kernels_attention_ggml.c); k_attention
 * dispatches to it. */
zf_status zf_cpu_attention_ggml(zf_engine *e, const zf_op_call *c);
/* Whether the attention kernels take their AVX-512 code: the CPU has it and
 * ZF_ATTENTION_PORTABLE=1 is not set (kernels_attention.c). */
bool zf_cpu_attention_avx512(void);

/* Per-thread scratch memory (scratch.c): at least n bytes, 64-byte aligned,
 * kept for the calling thread's next request of the same slot (contents are
 * not preserved when it grows). NULL when out of memory. A kernel may hold
 * one slot while the pool's threads use their own. */
typedef enum { ZF_SCRATCH_QX = 0, ZF_SCRATCH_TILE, ZF_SCRATCH_ATTN, ZF_SCRATCH_SLOTS } zf_scratch_slot;
void *zf_cpu_scratch(zf_scratch_slot slot, size_t n);

/* Compute class of a dtype for elementwise math. */
typedef enum { ZF_CC_F32, ZF_CC_F64, ZF_CC_I64 } zf_compute_class;
static inline zf_compute_class zf_compute_class_of(zf_dtype t) {
    if (t == ZF_F64) return ZF_CC_F64;
    if (zf_dtype_is_float(t)) return ZF_CC_F32;
    return ZF_CC_I64;
}

/* Strided load/store of n elements with conversion to/from a compute type.
 * stride in bytes. */
void zf_load_f32(zf_dtype t, const char *p, int64_t stride, float *dst, int64_t n);
void zf_store_f32(zf_dtype t, char *p, int64_t stride, const float *src, int64_t n);
void zf_load_f64(zf_dtype t, const char *p, int64_t stride, double *dst, int64_t n);
void zf_store_f64(zf_dtype t, char *p, int64_t stride, const double *src, int64_t n);
void zf_load_i64(zf_dtype t, const char *p, int64_t stride, int64_t *dst, int64_t n);
void zf_store_i64(zf_dtype t, char *p, int64_t stride, const int64_t *src, int64_t n);

#endif
