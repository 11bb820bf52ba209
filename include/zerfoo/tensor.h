/* zerfoo — contexts (arenas) and tensors.
 *
 * Ownership: every tensor, storage and autograd node is allocated in a
 * zf_ctx arena and lives until that context is reset or freed. A view made in
 * a context may point at storage owned by a longer-lived context (a step
 * context viewing parameters), never the other way round.
 *
 * Layout: shape and strides are in elements, row-major, outermost first, up to
 * ZF_MAX_DIMS dims; `offset` is in elements from the start of the storage.
 * A 0-dim tensor is a scalar with one element. Quantized dtypes are
 * contiguous only; their last dim is a multiple of the block size. */
#ifndef ZERFOO_TENSOR_H
#define ZERFOO_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "zerfoo/dtype.h"
#include "zerfoo/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZF_MAX_DIMS 8

typedef struct zf_ctx zf_ctx;
typedef struct zf_engine zf_engine;
typedef struct zf_node zf_node;

typedef struct zf_storage {
    void *data;         /* engine memory, 64-byte aligned when owned */
    size_t nbytes;
    zf_engine *engine;  /* where the bytes live */
    bool external;      /* wraps caller memory (from_blob, mmap): never freed by zerfoo */
} zf_storage;

typedef struct zf_tensor {
    zf_dtype dtype;
    int ndim;
    int64_t shape[ZF_MAX_DIMS];
    int64_t stride[ZF_MAX_DIMS]; /* elements; 0 for broadcast (expanded) dims */
    int64_t offset;              /* elements */
    zf_storage *storage;
    zf_ctx *ctx;                 /* the context that owns this struct */
    /* autograd */
    bool requires_grad;
    struct zf_tensor *grad;      /* leaf gradient, accumulated by zf_backward */
    zf_node *grad_fn;            /* node that produced this tensor, NULL for leaves */
    char name[48];
} zf_tensor;

/* ---- contexts ---- */
/* engine NULL: the default CPU engine. NULL on failure. */
zf_ctx *zf_ctx_new(zf_engine *engine);
void zf_ctx_free(zf_ctx *ctx);
/* Drops every tensor made in ctx and keeps the memory for reuse: after the
 * first step of a loop, steady-state steps allocate nothing from the system. */
void zf_ctx_reset(zf_ctx *ctx);
zf_engine *zf_ctx_engine(const zf_ctx *ctx);
size_t zf_ctx_used_bytes(const zf_ctx *ctx);     /* live bytes since last reset */
size_t zf_ctx_reserved_bytes(const zf_ctx *ctx); /* bytes held from the system */
/* Test aid: fill every new tensor's memory with a NaN/0xFF pattern. */
void zf_ctx_set_poison(zf_ctx *ctx, bool poison);
/* Upper bound on bytes this ctx may hold (0 = unlimited); exceeding it is an
 * ZF_ERR_OOM error, which lets tests exercise allocation failure. */
void zf_ctx_set_limit(zf_ctx *ctx, size_t max_bytes);
/* Raw arena allocation (64-byte aligned), NULL + error on failure. */
void *zf_ctx_alloc(zf_ctx *ctx, size_t nbytes);

/* ---- creation (NULL + zf_last_error() on failure) ---- */
zf_tensor *zf_empty(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape);
zf_tensor *zf_zeros(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape);
zf_tensor *zf_ones(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape);
zf_tensor *zf_full(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape, double value);
zf_tensor *zf_scalar(zf_ctx *ctx, zf_dtype dtype, double value); /* 0-dim */
/* [start, end) by step; dtype may be int or float. */
zf_tensor *zf_arange(zf_ctx *ctx, zf_dtype dtype, double start, double end, double step);
zf_tensor *zf_linspace(zf_ctx *ctx, zf_dtype dtype, double start, double end, int64_t n);
zf_tensor *zf_eye(zf_ctx *ctx, zf_dtype dtype, int64_t n, int64_t m);
/* Uniform [0,1) and standard normal from the counter-based RNG:
 * same (seed, stream) -> same numbers whatever the thread count. */
zf_tensor *zf_rand(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape, uint64_t seed, uint64_t stream);
zf_tensor *zf_randn(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape, uint64_t seed, uint64_t stream);
/* Copies numel elements of `dtype` from host memory. */
zf_tensor *zf_from_data(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape, const void *data);
/* Wraps caller memory without copying; the caller keeps it alive. */
zf_tensor *zf_from_blob(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape, void *data, size_t nbytes);

/* ---- properties ---- */
int64_t zf_numel(const zf_tensor *t);
size_t zf_nbytes(const zf_tensor *t); /* bytes of the elements (contiguous size) */
bool zf_is_contiguous(const zf_tensor *t);
/* Host pointer to element 0 (storage->data + offset). CPU tensors only. */
void *zf_data(const zf_tensor *t);
/* Reads one element as double (any scalar dtype); idx has t->ndim entries. */
zf_status zf_get(const zf_tensor *t, const int64_t *idx, double *out);
zf_status zf_set(zf_tensor *t, const int64_t *idx, double value);
/* Copies all elements, converted to f64 / f32, in row-major order, into dst
 * (numel entries). Works for any scalar or quant dtype and any strides. */
zf_status zf_to_f64_buffer(const zf_tensor *t, double *dst);
zf_status zf_to_f32_buffer(const zf_tensor *t, float *dst);
/* Reads element 0 of a one-element tensor. */
double zf_item(const zf_tensor *t);
bool zf_same_shape(const zf_tensor *a, const zf_tensor *b);
void zf_tensor_set_name(zf_tensor *t, const char *name);

/* Prints dtype, shape and values (summarized past `max_items` per dim). */
void zf_print(FILE *f, const zf_tensor *t);
/* Formats a shape as "[2, 3, 4]" into buf; returns buf. */
const char *zf_shape_str(const zf_tensor *t, char *buf, size_t n);

/* ---- views (share storage; recorded by autograd) ----
 * Negative dims count from the end, as in PyTorch. */
/* Reshape: a view when the strides allow, otherwise a contiguous copy.
 * One entry may be -1 (inferred). */
zf_tensor *zf_reshape(zf_ctx *ctx, zf_tensor *t, int ndim, const int64_t *shape);
/* Like reshape but fails (ZF_ERR_SHAPE) instead of copying. */
zf_tensor *zf_view(zf_ctx *ctx, zf_tensor *t, int ndim, const int64_t *shape);
zf_tensor *zf_permute(zf_ctx *ctx, zf_tensor *t, const int *dims);
zf_tensor *zf_transpose(zf_ctx *ctx, zf_tensor *t, int d0, int d1);
/* Python-style t[..., start:end:step, ...] on one dim; start/end are clamped,
 * negative values count from the end; step >= 1. */
zf_tensor *zf_slice(zf_ctx *ctx, zf_tensor *t, int dim, int64_t start, int64_t end, int64_t step);
zf_tensor *zf_narrow(zf_ctx *ctx, zf_tensor *t, int dim, int64_t start, int64_t length);
/* Broadcast to `shape` (size-1 dims grow with stride 0; -1 keeps a size). */
zf_tensor *zf_expand(zf_ctx *ctx, zf_tensor *t, int ndim, const int64_t *shape);
/* dim = ZF_ALL_DIMS squeezes every size-1 dim. */
#define ZF_ALL_DIMS 127
zf_tensor *zf_squeeze(zf_ctx *ctx, zf_tensor *t, int dim);
zf_tensor *zf_unsqueeze(zf_ctx *ctx, zf_tensor *t, int dim);
zf_tensor *zf_flatten(zf_ctx *ctx, zf_tensor *t, int start_dim, int end_dim);
/* Contiguous copy when needed, `t` itself when already contiguous. */
zf_tensor *zf_contiguous(zf_ctx *ctx, zf_tensor *t);
/* Always a fresh contiguous copy (clone). */
zf_tensor *zf_clone(zf_ctx *ctx, zf_tensor *t);
/* Converts to `dtype`: any scalar <-> any scalar; a block-quantized dtype
 * <-> a scalar one dequantizes / quantizes row by row (reference quantizer). */
zf_tensor *zf_cast(zf_ctx *ctx, zf_tensor *t, zf_dtype dtype);
/* Copies src into dst elementwise (broadcasting src, converting dtype).
 * dst may be a strided view. Not recorded by autograd. */
zf_status zf_copy_(zf_tensor *dst, const zf_tensor *src);
/* A tensor sharing t's data, cut from the autograd graph. */
zf_tensor *zf_detach(zf_ctx *ctx, zf_tensor *t);

#ifdef __cplusplus
}
#endif
#endif
