/* Views (reshape, permute, slice, expand ...), copies and casts. A view shares
 * its input's storage; autograd records RESHAPE/PERMUTE/SLICE/EXPAND nodes so
 * gradients flow back through them. */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "zerfoo/autograd.h"

/* Makes a view struct of t in ctx with new geometry and records `op`. */
static zf_tensor *make_view(zf_ctx *ctx, zf_tensor *t, int ndim, const int64_t *shape, const int64_t *stride,
                            int64_t offset, zf_op op, const zf_op_params *p, const int64_t *shape_arg) {
    zf_tensor *v = zf_tensor_alias(ctx, t);
    if (!v) return NULL;
    v->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        v->shape[i] = shape[i];
        v->stride[i] = stride[i];
    }
    for (int i = ndim; i < ZF_MAX_DIMS; i++) v->shape[i] = v->stride[i] = 0;
    v->offset = offset;
    bool failed = false;
    zf_node *n = zf_record(ctx, op, v, 1, &t, p, &failed);
    if (failed) return NULL;
    if (n && shape_arg) {
        n->shape_ndim = ndim;
        memcpy(n->shape_arg, shape_arg, sizeof(int64_t) * (size_t)ndim);
    }
    return v;
}

static bool check_in(zf_ctx *ctx, const zf_tensor *t) {
    if (!t) {
        if (zf_last_status() == ZF_OK) zf_set_error(ZF_ERR_INVALID_ARG, "NULL tensor");
        return false;
    }
    if (!ctx) {
        zf_set_error(ZF_ERR_INVALID_ARG, "NULL context");
        return false;
    }
    return true;
}

/* Resolves one -1 in shape; checks numel matches. */
static bool infer_shape(const zf_tensor *t, int ndim, const int64_t *shape, int64_t *out, const char *op) {
    if (ndim < 0 || ndim > ZF_MAX_DIMS || (ndim > 0 && !shape)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "%s: bad ndim %d", op, ndim);
        return false;
    }
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == -1) {
            if (infer >= 0) {
                zf_set_error(ZF_ERR_SHAPE, "%s: only one dim can be -1", op);
                return false;
            }
            infer = i;
            continue;
        }
        if (shape[i] < 0) {
            zf_set_error(ZF_ERR_SHAPE, "%s: invalid size %lld", op, (long long)shape[i]);
            return false;
        }
        if (shape[i] != 0 && known > INT64_MAX / 16 / shape[i]) {
            zf_set_error(ZF_ERR_OVERFLOW, "%s: shape overflows", op);
            return false;
        }
        known *= shape[i];
        out[i] = shape[i];
    }
    int64_t n = zf_numel(t);
    if (infer >= 0) {
        if (known == 0 || n % known != 0) {
            zf_set_error(ZF_ERR_SHAPE, "%s: cannot infer -1 for %lld elements", op, (long long)n);
            return false;
        }
        out[infer] = n / known;
        known *= out[infer];
    }
    if (known != n) {
        zf_set_error(ZF_ERR_SHAPE, "%s: shape has %lld elements but the tensor has %lld", op, (long long)known,
                     (long long)n);
        return false;
    }
    return true;
}

/* Strides for viewing t as `shape` without copying, or false. Groups of old
 * dims that are contiguous with each other can be split/merged freely. */
static bool view_strides(const zf_tensor *t, int ndim, const int64_t *shape, int64_t *stride) {
    if (zf_numel(t) == 0 || zf_is_contiguous(t)) {
        zf_contiguous_strides(ndim, shape, stride);
        return true;
    }
    int oi = t->ndim - 1, ni = ndim - 1;
    while (ni >= 0 || oi >= 0) {
        /* Take one chunk of old dims [.., oi] whose product matches a chunk of new dims. */
        int64_t oprod = 1, nprod = 1;
        int o_end = oi, n_end = ni;
        if (oi >= 0) oprod = t->shape[oi--];
        if (ni >= 0) nprod = shape[ni--];
        while (oprod != nprod) {
            if (oprod < nprod) {
                if (oi < 0) return false;
                if (t->shape[oi] != 1 && t->stride[oi] != t->stride[oi + 1] * t->shape[oi + 1]) return false;
                oprod *= t->shape[oi--];
            } else {
                if (ni < 0) return false;
                nprod *= shape[ni--];
            }
        }
        /* old dims (oi, o_end] are one contiguous run with base stride: */
        int64_t base = o_end >= 0 ? t->stride[o_end] : 1;
        for (int k = oi + 1; k < o_end; k++)
            if (t->shape[k] != 1 && t->stride[k] != t->stride[k + 1] * t->shape[k + 1]) return false;
        int64_t s = base;
        for (int k = n_end; k > ni; k--) {
            stride[k] = s;
            s *= shape[k];
        }
    }
    return true;
}

zf_tensor *zf_view(zf_ctx *ctx, zf_tensor *t, int ndim, const int64_t *shape) {
    if (!check_in(ctx, t)) return NULL;
    int64_t sh[ZF_MAX_DIMS], st[ZF_MAX_DIMS];
    if (!infer_shape(t, ndim, shape, sh, "view")) return NULL;
    if (!view_strides(t, ndim, sh, st)) {
        zf_set_error(ZF_ERR_SHAPE, "view: the tensor's strides do not allow this shape without a copy");
        return NULL;
    }
    return make_view(ctx, t, ndim, sh, st, t->offset, ZF_OP_RESHAPE, NULL, NULL);
}

zf_tensor *zf_reshape(zf_ctx *ctx, zf_tensor *t, int ndim, const int64_t *shape) {
    if (!check_in(ctx, t)) return NULL;
    int64_t sh[ZF_MAX_DIMS], st[ZF_MAX_DIMS];
    if (!infer_shape(t, ndim, shape, sh, "reshape")) return NULL;
    if (view_strides(t, ndim, sh, st)) return make_view(ctx, t, ndim, sh, st, t->offset, ZF_OP_RESHAPE, NULL, NULL);
    zf_tensor *c = zf_contiguous(ctx, t);
    if (!c) return NULL;
    zf_contiguous_strides(ndim, sh, st);
    return make_view(ctx, c, ndim, sh, st, c->offset, ZF_OP_RESHAPE, NULL, NULL);
}

zf_tensor *zf_permute(zf_ctx *ctx, zf_tensor *t, const int *dims) {
    if (!check_in(ctx, t)) return NULL;
    if (!dims && t->ndim > 0) {
        zf_set_error(ZF_ERR_INVALID_ARG, "permute: NULL dims");
        return NULL;
    }
    int64_t sh[ZF_MAX_DIMS], st[ZF_MAX_DIMS], perm[ZF_MAX_DIMS];
    bool seen[ZF_MAX_DIMS] = {false};
    for (int i = 0; i < t->ndim; i++) {
        int d = zf_norm_dim(dims[i], t->ndim, "permute");
        if (d < 0) return NULL;
        if (seen[d]) {
            zf_set_error(ZF_ERR_INVALID_ARG, "permute: dim %d appears twice", d);
            return NULL;
        }
        seen[d] = true;
        perm[i] = d;
        sh[i] = t->shape[d];
        st[i] = t->stride[d];
    }
    return make_view(ctx, t, t->ndim, sh, st, t->offset, ZF_OP_PERMUTE, NULL, perm);
}

zf_tensor *zf_transpose(zf_ctx *ctx, zf_tensor *t, int d0, int d1) {
    if (!check_in(ctx, t)) return NULL;
    int a = zf_norm_dim(d0, t->ndim, "transpose"), b = zf_norm_dim(d1, t->ndim, "transpose");
    if (a < 0 || b < 0) return NULL;
    int dims[ZF_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) dims[i] = i;
    dims[a] = b;
    dims[b] = a;
    return zf_permute(ctx, t, dims);
}

zf_tensor *zf_slice(zf_ctx *ctx, zf_tensor *t, int dim, int64_t start, int64_t end, int64_t step) {
    if (!check_in(ctx, t)) return NULL;
    if (t->ndim == 0) {
        zf_set_error(ZF_ERR_SHAPE, "slice: cannot slice a 0-dim tensor");
        return NULL;
    }
    int d = zf_norm_dim(dim, t->ndim, "slice");
    if (d < 0) return NULL;
    if (step < 1) {
        zf_set_error(ZF_ERR_INVALID_ARG, "slice: step must be >= 1, got %lld", (long long)step);
        return NULL;
    }
    if (zf_dtype_is_quant(t->dtype) && d == t->ndim - 1) {
        zf_set_error(ZF_ERR_DTYPE, "slice: cannot slice the block dim of %s", zf_dtype_name(t->dtype));
        return NULL;
    }
    int64_t n = t->shape[d];
    if (start < 0) start += n;
    if (end < 0) end += n;
    if (start < 0) start = 0;
    if (start > n) start = n;
    if (end > n) end = n;
    if (end < start) end = start;
    int64_t len = (end - start + step - 1) / step;
    int64_t sh[ZF_MAX_DIMS], st[ZF_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) {
        sh[i] = t->shape[i];
        st[i] = t->stride[i];
    }
    sh[d] = len;
    st[d] = t->stride[d] * step;
    zf_op_params p = {.i = {d, start, step}};
    return make_view(ctx, t, t->ndim, sh, st, t->offset + start * t->stride[d], ZF_OP_SLICE, &p, NULL);
}

zf_tensor *zf_narrow(zf_ctx *ctx, zf_tensor *t, int dim, int64_t start, int64_t length) {
    if (!check_in(ctx, t)) return NULL;
    int d = zf_norm_dim(dim, t->ndim, "narrow");
    if (d < 0) return NULL;
    if (start < 0) start += t->shape[d];
    if (start < 0 || length < 0 || start > t->shape[d] || length > t->shape[d] - start) {
        zf_set_error(ZF_ERR_INDEX, "narrow: [%lld, +%lld) is out of range for dim %d of size %lld", (long long)start,
                     (long long)length, d, (long long)t->shape[d]);
        return NULL;
    }
    return zf_slice(ctx, t, d, start, start + length, 1);
}

zf_tensor *zf_expand(zf_ctx *ctx, zf_tensor *t, int ndim, const int64_t *shape) {
    if (!check_in(ctx, t)) return NULL;
    if (ndim < t->ndim || ndim > ZF_MAX_DIMS || (ndim > 0 && !shape)) {
        zf_set_error(ZF_ERR_SHAPE, "expand: cannot expand %d dims to %d", t->ndim, ndim);
        return NULL;
    }
    int64_t sh[ZF_MAX_DIMS], st[ZF_MAX_DIMS];
    for (int i = 0; i < ndim; i++) {
        int j = i - (ndim - t->ndim);
        int64_t want = shape[i];
        if (j < 0) {
            if (want < 0) {
                zf_set_error(ZF_ERR_SHAPE, "expand: -1 is not allowed for a new dim");
                return NULL;
            }
            sh[i] = want;
            st[i] = 0;
            continue;
        }
        if (want == -1) want = t->shape[j];
        if (want == t->shape[j]) {
            sh[i] = want;
            st[i] = t->stride[j];
        } else if (t->shape[j] == 1 && want >= 0) {
            sh[i] = want;
            st[i] = 0;
        } else {
            zf_set_error(ZF_ERR_SHAPE, "expand: size %lld cannot expand to %lld at dim %d", (long long)t->shape[j],
                         (long long)want, i);
            return NULL;
        }
    }
    if (zf_shape_numel(ndim, sh) < 0) return NULL;
    return make_view(ctx, t, ndim, sh, st, t->offset, ZF_OP_EXPAND, NULL, NULL);
}

zf_tensor *zf_squeeze(zf_ctx *ctx, zf_tensor *t, int dim) {
    if (!check_in(ctx, t)) return NULL;
    int64_t sh[ZF_MAX_DIMS];
    int n = 0;
    if (dim == ZF_ALL_DIMS) {
        for (int i = 0; i < t->ndim; i++)
            if (t->shape[i] != 1) sh[n++] = t->shape[i];
    } else {
        int d = zf_norm_dim(dim, t->ndim, "squeeze");
        if (d < 0) return NULL;
        for (int i = 0; i < t->ndim; i++)
            if (i != d || t->shape[i] != 1) sh[n++] = t->shape[i];
    }
    return zf_view(ctx, t, n, sh);
}

zf_tensor *zf_unsqueeze(zf_ctx *ctx, zf_tensor *t, int dim) {
    if (!check_in(ctx, t)) return NULL;
    if (t->ndim >= ZF_MAX_DIMS) {
        zf_set_error(ZF_ERR_SHAPE, "unsqueeze: tensor already has %d dims", ZF_MAX_DIMS);
        return NULL;
    }
    int d = zf_norm_dim(dim, t->ndim + 1, "unsqueeze");
    if (d < 0) return NULL;
    int64_t sh[ZF_MAX_DIMS];
    for (int i = 0, j = 0; i <= t->ndim; i++) sh[i] = i == d ? 1 : t->shape[j++];
    return zf_view(ctx, t, t->ndim + 1, sh);
}

zf_tensor *zf_flatten(zf_ctx *ctx, zf_tensor *t, int start_dim, int end_dim) {
    if (!check_in(ctx, t)) return NULL;
    if (t->ndim == 0) return zf_reshape(ctx, t, 1, (int64_t[]){1});
    int s = zf_norm_dim(start_dim, t->ndim, "flatten"), e = zf_norm_dim(end_dim, t->ndim, "flatten");
    if (s < 0 || e < 0) return NULL;
    if (s > e) {
        zf_set_error(ZF_ERR_INVALID_ARG, "flatten: start_dim %d is after end_dim %d", s, e);
        return NULL;
    }
    int64_t sh[ZF_MAX_DIMS];
    int n = 0;
    for (int i = 0; i < s; i++) sh[n++] = t->shape[i];
    int64_t m = 1;
    for (int i = s; i <= e; i++) m *= t->shape[i];
    sh[n++] = m;
    for (int i = e + 1; i < t->ndim; i++) sh[n++] = t->shape[i];
    return zf_reshape(ctx, t, n, sh);
}

/* Copy of t converted to dtype, recorded as CAST (identity gradient for
 * float->float, none otherwise). */
static zf_tensor *copy_as(zf_ctx *ctx, zf_tensor *t, zf_dtype dtype) {
    zf_tensor *out = zf_new_tensor(ctx, dtype, t->ndim, t->shape);
    if (!out) return NULL;
    if (zf_copy_(out, t) != ZF_OK) return NULL;
    if (zf_dtype_is_float(dtype) && zf_dtype_is_float(t->dtype)) {
        bool failed = false;
        zf_record(ctx, ZF_OP_CAST, out, 1, &t, NULL, &failed);
        if (failed) return NULL;
    }
    return out;
}

zf_tensor *zf_contiguous(zf_ctx *ctx, zf_tensor *t) {
    if (!check_in(ctx, t)) return NULL;
    if (zf_is_contiguous(t)) return t;
    return copy_as(ctx, t, t->dtype);
}

zf_tensor *zf_clone(zf_ctx *ctx, zf_tensor *t) {
    if (!check_in(ctx, t)) return NULL;
    return copy_as(ctx, t, t->dtype);
}

zf_tensor *zf_cast(zf_ctx *ctx, zf_tensor *t, zf_dtype dtype) {
    if (!check_in(ctx, t)) return NULL;
    if (!zf_dtype_valid(dtype)) {
        zf_set_error(ZF_ERR_DTYPE, "cast: invalid dtype %d", (int)dtype);
        return NULL;
    }
    return copy_as(ctx, t, dtype);
}

zf_status zf_copy_(zf_tensor *dst, const zf_tensor *src) {
    if (!dst || !src) return zf_set_error(ZF_ERR_INVALID_ARG, "copy_: NULL tensor");
    int n;
    int64_t sh[ZF_MAX_DIMS];
    if (!zf_broadcast_shapes(dst->ndim, dst->shape, src->ndim, src->shape, &n, sh, "copy_")) return ZF_ERR_SHAPE;
    /* The broadcast shape must be dst's own shape. */
    if (n != dst->ndim) return zf_set_error(ZF_ERR_SHAPE, "copy_: source has more dims than the destination");
    for (int i = 0; i < n; i++)
        if (sh[i] != dst->shape[i])
            return zf_set_error(ZF_ERR_SHAPE, "copy_: source does not broadcast to the destination shape");
    if (zf_numel(dst) == 0) return ZF_OK;
    const zf_tensor *in[1] = {src};
    return zf_dispatch(dst->ctx, ZF_OP_COPY, dst, 1, in, NULL);
}

zf_tensor *zf_detach(zf_ctx *ctx, zf_tensor *t) {
    if (!check_in(ctx, t)) return NULL;
    return zf_tensor_alias(ctx, t);
}
