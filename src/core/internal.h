/* Internal helpers shared by the core, engines and autograd (not public). */
#ifndef ZF_CORE_INTERNAL_H
#define ZF_CORE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "zerfoo/engine.h"
#include "zerfoo/tensor.h"

void *zf_ctx_alloc_zeroed(zf_ctx *ctx, size_t nbytes);
/* Tensor data memory on the ctx's engine (poisoned when the ctx asks). */
void *zf_ctx_alloc_data(zf_ctx *ctx, size_t nbytes);
bool zf_ctx_poison(const zf_ctx *ctx);

/* A tensor struct in ctx sharing `src`'s storage, dtype and autograd-free. */
zf_tensor *zf_tensor_alias(zf_ctx *ctx, const zf_tensor *src);
/* Validates ndim/shape and returns numel, or -1 with the error set. */
int64_t zf_shape_numel(int ndim, const int64_t *shape);
/* Fills row-major contiguous strides. */
void zf_contiguous_strides(int ndim, const int64_t *shape, int64_t *stride);
/* Normalizes a possibly-negative dim for ndim dims; -1 + error if out of range. */
int zf_norm_dim(int dim, int ndim, const char *op);
/* Broadcast shape of a and b; returns false + ZF_ERR_SHAPE on mismatch. */
bool zf_broadcast_shapes(int na, const int64_t *sa, int nb, const int64_t *sb, int *nout, int64_t *out,
                         const char *op);
/* Element size of scalar dtypes (bytes). */
static inline size_t zf_esize(zf_dtype t) { return zf_dtype_size(t); }
/* Byte pointer to element 0 of t (host engines). */
static inline char *zf_ptr(const zf_tensor *t) {
    return (char *)t->storage->data + (int64_t)zf_dtype_size(t->dtype) * t->offset / zf_dtype_block(t->dtype);
}


/* ---- op dispatch and autograd recording ---- */
/* Runs op on ctx's engine with output `out` (already allocated). */
zf_status zf_dispatch(zf_ctx *ctx, zf_op op, zf_tensor *out, int n_in, const zf_tensor *const *in,
                      const zf_op_params *p);
/* True when grad mode is on and any input requires grad. */
bool zf_any_requires_grad(int n, zf_tensor *const *in);
/* Records a node for `out` when zf_any_requires_grad; returns the node (or
 * NULL when nothing was recorded). On allocation failure sets the error and
 * returns NULL with *failed = true. */
zf_node *zf_record(zf_ctx *ctx, zf_op op, zf_tensor *out, int n_in, zf_tensor *const *in, const zf_op_params *p,
                   bool *failed);
/* Allocates an uninitialized contiguous tensor with no autograd state. */
zf_tensor *zf_new_tensor(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape);
#endif
