/* Frontends of the reductions and softmax. Reduced dims are passed to the
 * kernel as a bitmask in p.i[0] (bit d = dim d), keepdim in p.i[1]; the
 * kernel output is allocated with keepdim shape and reshaped afterwards
 * when keepdim is false. */
#include <math.h>

#include "ops/ops_internal.h"

/* Builds the dims mask; n_dims 0 / NULL dims: all dims. */
static bool dims_mask(const zf_tensor *a, int n_dims, const int *dims, int64_t *mask, const char *op) {
    *mask = 0;
    if (n_dims == 0 || !dims) {
        *mask = a->ndim ? (int64_t)((1u << a->ndim) - 1) : 0;
        return true;
    }
    if (n_dims < 0 || n_dims > ZF_MAX_DIMS) {
        zf_set_error(ZF_ERR_INVALID_ARG, "%s: bad number of dims %d", op, n_dims);
        return false;
    }
    for (int i = 0; i < n_dims; i++) {
        int d = zf_norm_dim(dims[i], a->ndim, op);
        if (d < 0) return false;
        if (a->ndim == 0) continue; /* dim 0 / -1 of a scalar: nothing to reduce */
        if (*mask & (1 << d)) {
            zf_set_error(ZF_ERR_INVALID_ARG, "%s: dim %d appears twice", op, d);
            return false;
        }
        *mask |= 1 << d;
    }
    return true;
}

static zf_tensor *reduce(zf_ctx *ctx, zf_op op, zf_tensor *a, int n_dims, const int *dims, bool keepdim,
                         int correction) {
    zf_tensor *in[1] = {a};
    const char *name = zf_op_name(op);
    if (!zf_ops_check(ctx, 1, in, name)) return NULL;
    bool float_only = op == ZF_OP_MEAN || op == ZF_OP_VAR || op == ZF_OP_LOGSUMEXP;
    if (float_only && !zf_dtype_is_float(a->dtype)) {
        zf_set_error(ZF_ERR_DTYPE, "%s: needs a float dtype, got %s", name, zf_dtype_name(a->dtype));
        return NULL;
    }
    if (a->dtype == ZF_BOOL && op != ZF_OP_MAX && op != ZF_OP_MIN) {
        zf_set_error(ZF_ERR_DTYPE, "%s: bool tensors are not supported (cast first)", name);
        return NULL;
    }
    int64_t mask;
    if (!dims_mask(a, n_dims, dims, &mask, name)) return NULL;
    int64_t kshape[ZF_MAX_DIMS], oshape[ZF_MAX_DIMS];
    int on = 0;
    for (int d = 0; d < a->ndim; d++) {
        bool r = (mask >> d) & 1;
        if ((op == ZF_OP_MAX || op == ZF_OP_MIN) && r && a->shape[d] == 0) {
            zf_set_error(ZF_ERR_SHAPE, "%s: cannot reduce over an empty dim %d", name, d);
            return NULL;
        }
        kshape[d] = r ? 1 : a->shape[d];
        if (!r) oshape[on++] = a->shape[d];
    }
    /* Integer sums/prods accumulate in i64 and keep the input dtype, as
     * in NumPy with an explicit dtype: the caller chooses widening casts. */
    zf_op_params p = {.i = {mask, 1, correction}};
    zf_tensor *out = zf_ops_finish(ctx, op, zf_new_tensor(ctx, a->dtype, a->ndim, kshape), 1, in, &p);
    if (!out || keepdim) return out;
    return zf_reshape(ctx, out, on, oshape);
}

zf_tensor *zf_sum(zf_ctx *ctx, zf_tensor *a, int n_dims, const int *dims, bool keepdim) {
    return reduce(ctx, ZF_OP_SUM, a, n_dims, dims, keepdim, 0);
}
zf_tensor *zf_mean(zf_ctx *ctx, zf_tensor *a, int n_dims, const int *dims, bool keepdim) {
    return reduce(ctx, ZF_OP_MEAN, a, n_dims, dims, keepdim, 0);
}
zf_tensor *zf_max(zf_ctx *ctx, zf_tensor *a, int n_dims, const int *dims, bool keepdim) {
    return reduce(ctx, ZF_OP_MAX, a, n_dims, dims, keepdim, 0);
}
zf_tensor *zf_min(zf_ctx *ctx, zf_tensor *a, int n_dims, const int *dims, bool keepdim) {
    return reduce(ctx, ZF_OP_MIN, a, n_dims, dims, keepdim, 0);
}
zf_tensor *zf_prod(zf_ctx *ctx, zf_tensor *a, int n_dims, const int *dims, bool keepdim) {
    return reduce(ctx, ZF_OP_PROD, a, n_dims, dims, keepdim, 0);
}
zf_tensor *zf_logsumexp(zf_ctx *ctx, zf_tensor *a, int n_dims, const int *dims, bool keepdim) {
    return reduce(ctx, ZF_OP_LOGSUMEXP, a, n_dims, dims, keepdim, 0);
}
zf_tensor *zf_var(zf_ctx *ctx, zf_tensor *a, int n_dims, const int *dims, int correction, bool keepdim) {
    if (correction < 0) {
        zf_set_error(ZF_ERR_INVALID_ARG, "var: correction must be >= 0");
        return NULL;
    }
    return reduce(ctx, ZF_OP_VAR, a, n_dims, dims, keepdim, correction);
}

static zf_tensor *arg_reduce(zf_ctx *ctx, zf_op op, zf_tensor *a, int dim, bool keepdim) {
    zf_tensor *in[1] = {a};
    const char *name = zf_op_name(op);
    if (!zf_ops_check(ctx, 1, in, name)) return NULL;
    int d = zf_norm_dim(dim, a->ndim, name);
    if (d < 0) return NULL;
    if (a->ndim > 0 && a->shape[d] == 0) {
        zf_set_error(ZF_ERR_SHAPE, "%s: cannot reduce over an empty dim", name);
        return NULL;
    }
    int64_t kshape[ZF_MAX_DIMS], oshape[ZF_MAX_DIMS];
    int on = 0;
    for (int i = 0; i < a->ndim; i++) {
        kshape[i] = i == d ? 1 : a->shape[i];
        if (i != d) oshape[on++] = a->shape[i];
    }
    zf_op_params p = {.i = {a->ndim ? (int64_t)1 << d : 0, 1, 0}};
    zf_tensor *out = zf_ops_finish(ctx, op, zf_new_tensor(ctx, ZF_I64, a->ndim, kshape), 1, in, &p);
    if (!out || keepdim) return out;
    return zf_reshape(ctx, out, on, oshape);
}

zf_tensor *zf_argmax(zf_ctx *ctx, zf_tensor *a, int dim, bool keepdim) {
    return arg_reduce(ctx, ZF_OP_ARGMAX, a, dim, keepdim);
}
zf_tensor *zf_argmin(zf_ctx *ctx, zf_tensor *a, int dim, bool keepdim) {
    return arg_reduce(ctx, ZF_OP_ARGMIN, a, dim, keepdim);
}

static zf_tensor *softmax_like(zf_ctx *ctx, zf_op op, zf_tensor *a, int dim) {
    zf_tensor *in[1] = {a};
    const char *name = zf_op_name(op);
    if (!zf_ops_check(ctx, 1, in, name)) return NULL;
    if (!zf_dtype_is_float(a->dtype)) {
        zf_set_error(ZF_ERR_DTYPE, "%s: needs a float dtype, got %s", name, zf_dtype_name(a->dtype));
        return NULL;
    }
    int d = zf_norm_dim(dim, a->ndim, name);
    if (d < 0) return NULL;
    zf_op_params p = {.i = {a->ndim ? (int64_t)1 << d : 0, 1, 0}};
    return zf_ops_finish(ctx, op, zf_new_tensor(ctx, a->dtype, a->ndim, a->shape), 1, in, &p);
}

zf_tensor *zf_softmax(zf_ctx *ctx, zf_tensor *a, int dim) { return softmax_like(ctx, ZF_OP_SOFTMAX, a, dim); }
zf_tensor *zf_log_softmax(zf_ctx *ctx, zf_tensor *a, int dim) {
    return softmax_like(ctx, ZF_OP_LOG_SOFTMAX, a, dim);
}
