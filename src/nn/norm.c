/* Normalization and dropout: the functional forms (zf_batch_norm,
 * zf_layer_norm, zf_dropout), composed from reductions and elementwise ops
 * so autograd differentiates them, and the BatchNorm1d/2d, LayerNorm and
 * RMSNorm (on the fused zf_rms_norm op) modules. */
#include <math.h>
#include <stdio.h>

#include "nn/module_internal.h"

/* v [C] viewed as [1, C, 1, ...] to broadcast against x with nd dims. */
static zf_tensor *per_channel(zf_ctx *ctx, zf_tensor *v, int nd) {
    if (!v) return NULL;
    int64_t sh[ZF_MAX_DIMS];
    for (int d = 0; d < nd; d++) sh[d] = d == 1 ? v->shape[0] : 1;
    return zf_reshape(ctx, v, nd, sh);
}

static bool check_vec(const zf_tensor *v, int64_t C, zf_dtype dt, const char *what) {
    char s[64];
    if (!v) return true;
    if (v->ndim != 1 || v->shape[0] != C) {
        zf_set_error(ZF_ERR_SHAPE, "batch_norm: %s must be [%lld], got %s", what, (long long)C,
                     zf_shape_str(v, s, sizeof s));
        return false;
    }
    if (v->dtype != dt) {
        zf_set_error(ZF_ERR_DTYPE, "batch_norm: %s dtype %s differs from the input's %s", what,
                     zf_dtype_name(v->dtype), zf_dtype_name(dt));
        return false;
    }
    return true;
}

zf_tensor *zf_batch_norm(zf_ctx *ctx, zf_tensor *x, zf_tensor *running_mean, zf_tensor *running_var,
                         zf_tensor *weight, zf_tensor *bias, bool training, double momentum, double eps) {
    if (!ctx || !x) {
        if (zf_last_status() == ZF_OK) zf_set_error(ZF_ERR_INVALID_ARG, "batch_norm: NULL argument");
        return NULL;
    }
    char s[64];
    if (x->ndim < 2 || (x->dtype != ZF_F32 && x->dtype != ZF_F64)) {
        zf_set_error(x->ndim < 2 ? ZF_ERR_SHAPE : ZF_ERR_DTYPE,
                     "batch_norm: expects an f32/f64 input [N, C, ...], got %s %s", zf_dtype_name(x->dtype),
                     zf_shape_str(x, s, sizeof s));
        return NULL;
    }
    int64_t C = x->shape[1], n = zf_numel(x) / (C ? C : 1);
    if (!check_vec(running_mean, C, x->dtype, "running_mean") || !check_vec(running_var, C, x->dtype, "running_var") ||
        !check_vec(weight, C, x->dtype, "weight") || !check_vec(bias, C, x->dtype, "bias"))
        return NULL;
    if (!(eps >= 0) || !(momentum >= 0 && momentum <= 1)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "batch_norm: need eps >= 0 and momentum in [0, 1]");
        return NULL;
    }
    int nd = x->ndim, dims[ZF_MAX_DIMS], k = 0;
    for (int d = 0; d < nd; d++)
        if (d != 1) dims[k++] = d;
    zf_tensor *mean, *var;
    if (training || !running_mean || !running_var) {
        if (n <= 1) {
            zf_set_error(ZF_ERR_SHAPE, "batch_norm: expected more than 1 value per channel when training, got %s",
                         zf_shape_str(x, s, sizeof s));
            return NULL;
        }
        mean = zf_mean(ctx, x, k, dims, true);
        var = zf_var(ctx, x, k, dims, 0, true);
        if (!mean || !var) return NULL;
        if (training && running_mean && running_var) {
            bool prev = zf_set_grad_enabled(false);
            zf_tensor *m1 = zf_reshape(ctx, zf_detach(ctx, mean), 1, &C);
            zf_tensor *v1 = zf_reshape(ctx, zf_detach(ctx, var), 1, &C);
            zf_tensor *rm = zf_add(ctx, zf_mul_scalar(ctx, running_mean, 1 - momentum), zf_mul_scalar(ctx, m1, momentum));
            zf_tensor *rv = zf_add(ctx, zf_mul_scalar(ctx, running_var, 1 - momentum),
                                   zf_mul_scalar(ctx, v1, momentum * (double)n / (double)(n - 1)));
            zf_status st = rm && rv ? zf_copy_(running_mean, rm) : zf_last_status();
            if (!st) st = zf_copy_(running_var, rv);
            zf_set_grad_enabled(prev);
            if (st) return NULL;
        }
    } else {
        mean = per_channel(ctx, running_mean, nd);
        var = per_channel(ctx, running_var, nd);
    }
    zf_tensor *y = zf_mul(ctx, zf_sub(ctx, x, mean), zf_rsqrt(ctx, zf_add_scalar(ctx, var, eps)));
    if (weight) y = zf_mul(ctx, y, per_channel(ctx, weight, nd));
    if (bias) y = zf_add(ctx, y, per_channel(ctx, bias, nd));
    return y;
}

zf_tensor *zf_layer_norm(zf_ctx *ctx, zf_tensor *x, int ndim_norm, zf_tensor *weight, zf_tensor *bias, double eps) {
    if (!ctx || !x) {
        if (zf_last_status() == ZF_OK) zf_set_error(ZF_ERR_INVALID_ARG, "layer_norm: NULL argument");
        return NULL;
    }
    if (ndim_norm < 1 || ndim_norm > x->ndim || !zf_dtype_is_float(x->dtype)) {
        zf_set_error(ZF_ERR_SHAPE, "layer_norm: cannot normalize the last %d dims of a %d-dim %s tensor", ndim_norm,
                     x->ndim, zf_dtype_name(x->dtype));
        return NULL;
    }
    zf_tensor *aff[2] = {weight, bias};
    for (int a = 0; a < 2; a++) {
        if (!aff[a]) continue;
        bool ok = aff[a]->ndim == ndim_norm && aff[a]->dtype == x->dtype;
        for (int d = 0; ok && d < ndim_norm; d++) ok = aff[a]->shape[d] == x->shape[x->ndim - ndim_norm + d];
        if (!ok) {
            char s1[64], s2[64];
            zf_set_error(ZF_ERR_SHAPE, "layer_norm: %s %s does not match the normalized dims of x %s",
                         a ? "bias" : "weight", zf_shape_str(aff[a], s1, sizeof s1), zf_shape_str(x, s2, sizeof s2));
            return NULL;
        }
    }
    int dims[ZF_MAX_DIMS];
    for (int d = 0; d < ndim_norm; d++) dims[d] = x->ndim - ndim_norm + d;
    zf_tensor *mean = zf_mean(ctx, x, ndim_norm, dims, true);
    zf_tensor *var = zf_var(ctx, x, ndim_norm, dims, 0, true);
    zf_tensor *y = zf_mul(ctx, zf_sub(ctx, x, mean), zf_rsqrt(ctx, zf_add_scalar(ctx, var, eps)));
    if (weight) y = zf_mul(ctx, y, weight);
    if (bias) y = zf_add(ctx, y, bias);
    return y;
}

zf_tensor *zf_dropout(zf_ctx *ctx, zf_tensor *x, double p, bool training, uint64_t seed, uint64_t stream) {
    if (!ctx || !x) {
        if (zf_last_status() == ZF_OK) zf_set_error(ZF_ERR_INVALID_ARG, "dropout: NULL argument");
        return NULL;
    }
    if (!(p >= 0 && p <= 1) || !zf_dtype_is_float(x->dtype)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "dropout: needs p in [0, 1] and a float input");
        return NULL;
    }
    if (!training || p == 0) return x;
    if (p == 1) return zf_mul_scalar(ctx, x, 0.0);
    zf_dtype dt = x->dtype == ZF_F64 ? ZF_F64 : ZF_F32;
    zf_tensor *u = zf_rand(ctx, dt, x->ndim, x->shape, seed, stream);
    zf_tensor *keep = zf_cast(ctx, zf_ge(ctx, u, zf_scalar(ctx, dt, p)), x->dtype);
    return zf_mul(ctx, x, zf_mul_scalar(ctx, keep, 1.0 / (1.0 - p)));
}

/* ---- modules ---- */
static zf_tensor *bn_fwd(zf_module *m, zf_ctx *s, zf_tensor *x) {
    int want = (int)m->cfg.i[0];
    if (x->ndim != want && !(want == 3 && x->ndim == 2)) {
        char b[64];
        zf_set_error(ZF_ERR_SHAPE, "%s: expected a %s input, got %s", m->type,
                     want == 4 ? "4-d [N, C, H, W]" : "2-d [N, C] or 3-d [N, C, L]", zf_shape_str(x, b, sizeof b));
        return NULL;
    }
    zf_tensor *rm = zf_module_param(m, "running_mean"), *rv = zf_module_param(m, "running_var");
    zf_tensor *y = zf_batch_norm(s, x, rm, rv, zf_module_param(m, "weight"), zf_module_param(m, "bias"), m->training,
                                 m->cfg.f[1], m->cfg.f[0]);
    if (y && m->training) { /* num_batches_tracked += 1, in place on its engine */
        zf_tensor *nbt = zf_module_param(m, "num_batches_tracked"), *one = zf_scalar(s, ZF_I64, 1);
        const zf_tensor *in[2] = {nbt, one};
        if (!one || zf_dispatch(nbt->ctx, ZF_OP_ADD, nbt, 2, in, NULL) != ZF_OK) return NULL;
    }
    return y;
}
static void bn_extra(const zf_module *m, char *buf, size_t n) {
    snprintf(buf, n, "%lld, eps=%g, momentum=%g, affine=True, track_running_stats=True", (long long)m->cfg.i[1],
             m->cfg.f[0], m->cfg.f[1]);
}

static zf_module *bn_new(zf_nn *nn, int64_t C, double eps, double momentum, bool two_d) {
    const char *type = two_d ? "BatchNorm2d" : "BatchNorm1d";
    if (C < 1 || !(eps >= 0) || !(momentum >= 0 && momentum <= 1)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "%s: need num_features >= 1, eps >= 0, momentum in [0, 1]", type);
        return NULL;
    }
    zf_module *m = zf_mod_new(nn, type, bn_fwd, bn_extra);
    if (!m) return NULL;
    m->cfg.i[0] = two_d ? 4 : 3;
    m->cfg.i[1] = C;
    m->cfg.f[0] = eps, m->cfg.f[1] = momentum;
    zf_tensor *w = zf_mod_param(m, "weight", 1, &C), *b = zf_mod_param(m, "bias", 1, &C);
    if (!w || !b || zf_init_constant(w, 1.0)) return NULL;
    if (zf_module_add_buffer(m, "running_mean", zf_zeros(nn->ctx, nn->dtype, 1, &C)) ||
        zf_module_add_buffer(m, "running_var", zf_ones(nn->ctx, nn->dtype, 1, &C)) ||
        zf_module_add_buffer(m, "num_batches_tracked", zf_zeros(nn->ctx, ZF_I64, 0, NULL)))
        return NULL;
    return m;
}
zf_module *zf_nn_batch_norm1d(zf_nn *nn, int64_t num_features, double eps, double momentum) {
    return bn_new(nn, num_features, eps, momentum, false);
}
zf_module *zf_nn_batch_norm2d(zf_nn *nn, int64_t num_features, double eps, double momentum) {
    return bn_new(nn, num_features, eps, momentum, true);
}

static zf_tensor *ln_fwd(zf_module *m, zf_ctx *s, zf_tensor *x) {
    return zf_layer_norm(s, x, m->cfg.ndim, zf_module_param(m, "weight"), zf_module_param(m, "bias"), m->cfg.f[0]);
}
static void ln_extra(const zf_module *m, char *buf, size_t n) {
    int k = snprintf(buf, n, "(");
    for (int d = 0; d < m->cfg.ndim && k > 0 && (size_t)k < n; d++)
        k += snprintf(buf + k, n - (size_t)k, "%lld%s", (long long)m->cfg.shape[d], m->cfg.ndim == 1 ? "," : (d + 1 < m->cfg.ndim ? ", " : ""));
    if (k > 0 && (size_t)k < n)
        snprintf(buf + k, n - (size_t)k, "), eps=%g, elementwise_affine=%s", m->cfg.f[0],
                 zf_module_param(m, "weight") ? "True" : "False");
}
zf_module *zf_nn_layer_norm(zf_nn *nn, int ndim, const int64_t *shape, double eps, bool affine) {
    if (ndim < 1 || ndim > ZF_MAX_DIMS || !shape || !(eps >= 0)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "LayerNorm: bad normalized shape or eps");
        return NULL;
    }
    for (int d = 0; d < ndim; d++)
        if (shape[d] < 1) {
            zf_set_error(ZF_ERR_INVALID_ARG, "LayerNorm: normalized sizes must be >= 1");
            return NULL;
        }
    zf_module *m = zf_mod_new(nn, "LayerNorm", ln_fwd, ln_extra);
    if (!m) return NULL;
    m->cfg.ndim = ndim;
    for (int d = 0; d < ndim; d++) m->cfg.shape[d] = shape[d];
    m->cfg.f[0] = eps;
    if (affine) {
        zf_tensor *w = zf_mod_param(m, "weight", ndim, shape), *b = zf_mod_param(m, "bias", ndim, shape);
        if (!w || !b || zf_init_constant(w, 1.0)) return NULL;
    }
    return m;
}

static zf_tensor *rms_fwd(zf_module *m, zf_ctx *s, zf_tensor *x) {
    return zf_rms_norm(s, x, zf_module_param(m, "weight"), m->cfg.f[0], 0.0);
}
static void rms_extra(const zf_module *m, char *buf, size_t n) {
    snprintf(buf, n, "(%lld,), eps=%g", (long long)m->cfg.i[0], m->cfg.f[0]);
}
zf_module *zf_nn_rms_norm(zf_nn *nn, int64_t dim, double eps) {
    if (dim < 1 || !(eps >= 0)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "RMSNorm: need dim >= 1 and eps >= 0");
        return NULL;
    }
    zf_module *m = zf_mod_new(nn, "RMSNorm", rms_fwd, rms_extra);
    if (!m) return NULL;
    m->cfg.i[0] = dim;
    m->cfg.f[0] = eps;
    zf_tensor *w = zf_mod_param(m, "weight", 1, &dim);
    if (!w || zf_init_constant(w, 1.0)) return NULL;
    return m;
}
