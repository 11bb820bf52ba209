/* Tensor creation, properties, element access and printing. Creation that
 * computes values (fill, arange, rand ...) goes through the engine's kernels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "zerfoo/engine.h"

int64_t zf_shape_numel(int ndim, const int64_t *shape) {
    if (ndim < 0 || ndim > ZF_MAX_DIMS) {
        zf_set_error(ZF_ERR_INVALID_ARG, "ndim %d is out of range [0, %d]", ndim, ZF_MAX_DIMS);
        return -1;
    }
    if (ndim > 0 && !shape) {
        zf_set_error(ZF_ERR_INVALID_ARG, "shape is NULL for ndim %d", ndim);
        return -1;
    }
    int64_t n = 1, span = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            zf_set_error(ZF_ERR_SHAPE, "negative size %lld in dim %d", (long long)shape[i], i);
            return -1;
        }
        /* span: the product of the nonzero sizes, which the contiguous
         * strides reach even when another dim is 0 ([0, 2^40, 2^40, 2^40]
         * has no elements but a stride of 2^80) */
        if (shape[i] != 0 && span > INT64_MAX / 16 / shape[i]) {
            zf_set_error(ZF_ERR_OVERFLOW, "tensor size overflows (dim %d = %lld)", i, (long long)shape[i]);
            return -1;
        }
        span *= shape[i] ? shape[i] : 1;
        n *= shape[i];
    }
    return n;
}

void zf_contiguous_strides(int ndim, const int64_t *shape, int64_t *stride) {
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        stride[i] = s;
        s *= shape[i] > 0 ? shape[i] : 1;
    }
}

int zf_norm_dim(int dim, int ndim, const char *op) {
    int lim = ndim > 0 ? ndim : 1;
    if (dim < -lim || dim >= lim) {
        zf_set_error(ZF_ERR_INDEX, "%s: dim %d is out of range for a %d-dim tensor", op, dim, ndim);
        return -1;
    }
    return dim < 0 ? dim + lim : dim;
}

bool zf_broadcast_shapes(int na, const int64_t *sa, int nb, const int64_t *sb, int *nout, int64_t *out,
                         const char *op) {
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int ia = na - n + i, ib = nb - n + i;
        int64_t da = ia >= 0 ? sa[ia] : 1, db = ib >= 0 ? sb[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            zf_set_error(ZF_ERR_SHAPE, "%s: shapes cannot broadcast: size %lld vs %lld at dim %d", op,
                         (long long)da, (long long)db, i);
            return false;
        }
        out[i] = da == 1 ? db : da;
    }
    *nout = n;
    return true;
}

zf_tensor *zf_new_tensor(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape) {
    if (!ctx) {
        zf_set_error(ZF_ERR_INVALID_ARG, "NULL context");
        return NULL;
    }
    if (!zf_dtype_valid(dtype)) {
        zf_set_error(ZF_ERR_DTYPE, "invalid dtype %d", (int)dtype);
        return NULL;
    }
    int64_t n = zf_shape_numel(ndim, shape);
    if (n < 0) return NULL;
    int64_t blk = zf_dtype_block(dtype);
    if (blk > 1 && (ndim == 0 || shape[ndim - 1] % blk != 0)) {
        zf_set_error(ZF_ERR_SHAPE, "%s tensors need a last dim that is a multiple of %lld", zf_dtype_name(dtype),
                     (long long)blk);
        return NULL;
    }
    size_t nbytes = (size_t)(n / blk) * zf_dtype_size(dtype);
    zf_tensor *t = zf_ctx_alloc_zeroed(ctx, sizeof *t);
    zf_storage *s = t ? zf_ctx_alloc(ctx, sizeof *s) : NULL;
    void *data = s ? zf_ctx_alloc_data(ctx, nbytes) : NULL;
    if (!data) return NULL;
    s->data = data;
    s->nbytes = nbytes;
    s->engine = zf_ctx_engine(ctx);
    s->external = false;
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    zf_contiguous_strides(ndim, shape, t->stride);
    t->storage = s;
    t->ctx = ctx;
    return t;
}

zf_tensor *zf_tensor_alias(zf_ctx *ctx, const zf_tensor *src) {
    zf_tensor *t = zf_ctx_alloc(ctx, sizeof *t);
    if (!t) return NULL;
    *t = *src;
    t->ctx = ctx;
    t->requires_grad = false;
    t->grad = NULL;
    t->grad_fn = NULL;
    t->name[0] = '\0';
    return t;
}

zf_tensor *zf_empty(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape) {
    return zf_new_tensor(ctx, dtype, ndim, shape);
}

static zf_tensor *fill_op(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape, zf_op op,
                          const zf_op_params *p) {
    zf_tensor *t = zf_new_tensor(ctx, dtype, ndim, shape);
    if (!t) return NULL;
    if (zf_dtype_is_quant(dtype)) {
        zf_set_error(ZF_ERR_DTYPE, "%s: cannot create values of quantized dtype %s", zf_op_name(op),
                     zf_dtype_name(dtype));
        return NULL;
    }
    if (zf_numel(t) == 0) return t;
    return zf_dispatch(ctx, op, t, 0, NULL, p) == ZF_OK ? t : NULL;
}

zf_tensor *zf_full(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape, double value) {
    zf_op_params p = {.f = {value}};
    return fill_op(ctx, dtype, ndim, shape, ZF_OP_FILL, &p);
}
zf_tensor *zf_zeros(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape) {
    return zf_full(ctx, dtype, ndim, shape, 0.0);
}
zf_tensor *zf_ones(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape) {
    return zf_full(ctx, dtype, ndim, shape, 1.0);
}
zf_tensor *zf_scalar(zf_ctx *ctx, zf_dtype dtype, double value) { return zf_full(ctx, dtype, 0, NULL, value); }

zf_tensor *zf_arange(zf_ctx *ctx, zf_dtype dtype, double start, double end, double step) {
    if (!(step != 0) || !isfinite(start) || !isfinite(end) || !isfinite(step)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "arange: start, end and step must be finite and step nonzero");
        return NULL;
    }
    double n = ceil((end - start) / step);
    if (n < 0) n = 0;
    if (n > (double)(INT64_MAX / 16)) {
        zf_set_error(ZF_ERR_OVERFLOW, "arange: %g elements is too many", n);
        return NULL;
    }
    int64_t shape[1] = {(int64_t)n};
    zf_op_params p = {.f = {start, step}};
    return fill_op(ctx, dtype, 1, shape, ZF_OP_ARANGE, &p);
}

zf_tensor *zf_linspace(zf_ctx *ctx, zf_dtype dtype, double start, double end, int64_t n) {
    if (n < 0 || !isfinite(start) || !isfinite(end)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "linspace: n must be >= 0 and the ends finite");
        return NULL;
    }
    int64_t shape[1] = {n};
    double step = n > 1 ? (end - start) / (double)(n - 1) : 0.0;
    /* i[0]=1: symmetric evaluation so the last element is exactly `end`. */
    zf_op_params p = {.f = {start, step, end}, .i = {1}};
    return fill_op(ctx, dtype, 1, shape, ZF_OP_ARANGE, &p);
}

zf_tensor *zf_eye(zf_ctx *ctx, zf_dtype dtype, int64_t n, int64_t m) {
    int64_t shape[2] = {n, m};
    zf_op_params p = {.f = {0}};
    return fill_op(ctx, dtype, 2, shape, ZF_OP_EYE, &p);
}

zf_tensor *zf_rand(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape, uint64_t seed, uint64_t stream) {
    if (!zf_dtype_is_float(dtype)) {
        zf_set_error(ZF_ERR_DTYPE, "rand: needs a float dtype, got %s", zf_dtype_name(dtype));
        return NULL;
    }
    zf_op_params p = {.i = {(int64_t)seed, (int64_t)stream}};
    return fill_op(ctx, dtype, ndim, shape, ZF_OP_RAND, &p);
}

zf_tensor *zf_randn(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape, uint64_t seed, uint64_t stream) {
    if (!zf_dtype_is_float(dtype)) {
        zf_set_error(ZF_ERR_DTYPE, "randn: needs a float dtype, got %s", zf_dtype_name(dtype));
        return NULL;
    }
    zf_op_params p = {.i = {(int64_t)seed, (int64_t)stream}};
    return fill_op(ctx, dtype, ndim, shape, ZF_OP_RANDN, &p);
}

zf_tensor *zf_from_data(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape, const void *data) {
    if (!data) {
        zf_set_error(ZF_ERR_INVALID_ARG, "from_data: NULL data");
        return NULL;
    }
    zf_tensor *t = zf_new_tensor(ctx, dtype, ndim, shape);
    if (!t) return NULL;
    if (!t->storage->engine->host_memory) {
        zf_set_error(ZF_ERR_UNSUPPORTED, "from_data: engine %s has no host memory", t->storage->engine->name);
        return NULL;
    }
    memcpy(t->storage->data, data, t->storage->nbytes);
    return t;
}

zf_tensor *zf_from_blob(zf_ctx *ctx, zf_dtype dtype, int ndim, const int64_t *shape, void *data, size_t nbytes) {
    if (!ctx || !data) {
        zf_set_error(ZF_ERR_INVALID_ARG, "from_blob: NULL argument");
        return NULL;
    }
    if (!zf_dtype_valid(dtype)) {
        zf_set_error(ZF_ERR_DTYPE, "from_blob: invalid dtype");
        return NULL;
    }
    int64_t n = zf_shape_numel(ndim, shape);
    if (n < 0) return NULL;
    int64_t blk = zf_dtype_block(dtype);
    if (blk > 1 && (ndim == 0 || shape[ndim - 1] % blk != 0)) {
        zf_set_error(ZF_ERR_SHAPE, "from_blob: %s needs a last dim that is a multiple of %lld",
                     zf_dtype_name(dtype), (long long)blk);
        return NULL;
    }
    size_t need = (size_t)(n / blk) * zf_dtype_size(dtype);
    if (need > nbytes) {
        zf_set_error(ZF_ERR_SHAPE, "from_blob: shape needs %zu bytes but the buffer has %zu", need, nbytes);
        return NULL;
    }
    zf_tensor *t = zf_ctx_alloc_zeroed(ctx, sizeof *t);
    zf_storage *s = t ? zf_ctx_alloc(ctx, sizeof *s) : NULL;
    if (!s) return NULL;
    s->data = data;
    s->nbytes = nbytes;
    s->engine = zf_ctx_engine(ctx);
    s->external = true;
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    zf_contiguous_strides(ndim, shape, t->stride);
    t->storage = s;
    t->ctx = ctx;
    return t;
}

int64_t zf_numel(const zf_tensor *t) {
    if (!t) return 0;
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

size_t zf_nbytes(const zf_tensor *t) {
    if (!t) return 0;
    return (size_t)(zf_numel(t) / zf_dtype_block(t->dtype)) * zf_dtype_size(t->dtype);
}

bool zf_is_contiguous(const zf_tensor *t) {
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] == 1) continue;
        if (t->stride[i] != s) return false;
        s *= t->shape[i];
    }
    return true;
}

void *zf_data(const zf_tensor *t) {
    if (!t || !t->storage) return NULL;
    return zf_ptr(t);
}

bool zf_same_shape(const zf_tensor *a, const zf_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

void zf_tensor_set_name(zf_tensor *t, const char *name) {
    if (!t) return;
    snprintf(t->name, sizeof t->name, "%s", name ? name : "");
}

static zf_status element_ptr(const zf_tensor *t, const int64_t *idx, char **out) {
    if (!t) return zf_set_error(ZF_ERR_INVALID_ARG, "NULL tensor");
    if (zf_dtype_is_quant(t->dtype))
        return zf_set_error(ZF_ERR_DTYPE, "element access is not supported on %s", zf_dtype_name(t->dtype));
    if (!t->storage->engine->host_memory)
        return zf_set_error(ZF_ERR_UNSUPPORTED, "element access needs host memory");
    int64_t off = 0;
    for (int i = 0; i < t->ndim; i++) {
        if (idx[i] < 0 || idx[i] >= t->shape[i])
            return zf_set_error(ZF_ERR_INDEX, "index %lld is out of range for dim %d of size %lld",
                                (long long)idx[i], i, (long long)t->shape[i]);
        off += idx[i] * t->stride[i];
    }
    *out = zf_ptr(t) + off * (int64_t)zf_esize(t->dtype);
    return ZF_OK;
}

zf_status zf_get(const zf_tensor *t, const int64_t *idx, double *out) {
    char *p;
    zf_status s = element_ptr(t, idx, &p);
    if (s) return s;
    zf_convert_to_f64(t->dtype, p, out, 1);
    return ZF_OK;
}

zf_status zf_set(zf_tensor *t, const int64_t *idx, double value) {
    char *p;
    zf_status s = element_ptr(t, idx, &p);
    if (s) return s;
    zf_convert_from_f64(t->dtype, &value, p, 1);
    return ZF_OK;
}

double zf_item(const zf_tensor *t) {
    if (!t || zf_numel(t) != 1) {
        zf_set_error(ZF_ERR_SHAPE, "item: tensor must have exactly one element");
        return NAN;
    }
    int64_t idx[ZF_MAX_DIMS] = {0};
    double v = NAN;
    zf_get(t, idx, &v);
    return v;
}

static zf_status to_buffer(const zf_tensor *t, zf_dtype dst_t, void *dst) {
    if (!t || !dst) return zf_set_error(ZF_ERR_INVALID_ARG, "NULL argument");
    int64_t shape[ZF_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) shape[i] = t->shape[i];
    /* A contiguous tensor of the target dtype wrapping dst; COPY converts. */
    zf_ctx *tmp = zf_ctx_new(t->storage->engine);
    if (!tmp) return zf_last_status();
    size_t es = zf_esize(dst_t);
    zf_tensor *out = zf_from_blob(tmp, dst_t, t->ndim, shape, dst, (size_t)zf_numel(t) * es);
    zf_status s = out ? zf_copy_(out, t) : zf_last_status();
    zf_ctx_free(tmp);
    return s;
}

zf_status zf_to_f64_buffer(const zf_tensor *t, double *dst) { return to_buffer(t, ZF_F64, dst); }
zf_status zf_to_f32_buffer(const zf_tensor *t, float *dst) { return to_buffer(t, ZF_F32, dst); }

const char *zf_shape_str(const zf_tensor *t, char *buf, size_t n) {
    size_t used = 0;
    used += (size_t)snprintf(buf, n, "[");
    for (int i = 0; t && i < t->ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    if (used < n) snprintf(buf + used, n - used, "]");
    return buf;
}

static void print_rec(FILE *f, const zf_tensor *t, int dim, int64_t off, int indent) {
    const int64_t edge = 3;
    int64_t n = t->shape[dim];
    bool summarize = n > 2 * edge + 1;
    fputc('[', f);
    for (int64_t i = 0; i < n; i++) {
        if (summarize && i == edge) {
            fprintf(f, dim == t->ndim - 1 ? "..., " : "...,\n%*s", indent + 1, "");
            i = n - edge;
        }
        int64_t o = off + i * t->stride[dim];
        if (dim == t->ndim - 1) {
            double v;
            zf_convert_to_f64(t->dtype, zf_ptr(t) + o * (int64_t)zf_esize(t->dtype), &v, 1);
            if (zf_dtype_is_float(t->dtype))
                fprintf(f, "%.6g", v);
            else
                fprintf(f, "%lld", (long long)v);
        } else {
            print_rec(f, t, dim + 1, o, indent + 1);
        }
        if (i + 1 < n) fprintf(f, dim == t->ndim - 1 ? ", " : ",\n%*s", indent + 1, "");
    }
    fputc(']', f);
}

void zf_print(FILE *f, const zf_tensor *t) {
    char sh[128];
    if (!t) {
        fprintf(f, "tensor(NULL)\n");
        return;
    }
    fprintf(f, "tensor(%s, %s", zf_dtype_name(t->dtype), zf_shape_str(t, sh, sizeof sh));
    if (zf_dtype_is_quant(t->dtype) || !t->storage->engine->host_memory) {
        fprintf(f, ")\n");
        return;
    }
    fprintf(f, ",\n  ");
    if (t->ndim == 0) {
        double v;
        zf_convert_to_f64(t->dtype, zf_ptr(t), &v, 1);
        fprintf(f, "%.6g", v);
    } else if (zf_numel(t) == 0) {
        fprintf(f, "[]");
    } else {
        print_rec(f, t, 0, 0, 2);
    }
    fprintf(f, ")\n");
}
