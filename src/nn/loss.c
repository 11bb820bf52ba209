/* Losses (see zerfoo/loss.h): the fused cross-entropy / NLL op frontends and
 * MSE and BCE-with-logits composed from elementwise ops. */
#include <math.h>

#include "ops/nn_ops_internal.h"
#include "ops/ops_internal.h"
#include "zerfoo/loss.h"

static zf_tensor *reduce(zf_ctx *ctx, zf_tensor *per, zf_reduction r, const char *name) {
    switch (r) {
    case ZF_REDUCTION_NONE: return per;
    case ZF_REDUCTION_SUM: return zf_sum(ctx, per, 0, NULL, false);
    case ZF_REDUCTION_MEAN: return zf_mean(ctx, per, 0, NULL, false);
    }
    zf_set_error(ZF_ERR_INVALID_ARG, "%s: unknown reduction %d", name, (int)r);
    return NULL;
}

static zf_tensor *class_loss(zf_ctx *ctx, zf_tensor *x, zf_tensor *target, double ls, zf_reduction red,
                             bool logp_in) {
    const char *name = logp_in ? "nll_loss" : "cross_entropy";
    zf_tensor *in[2] = {x, target};
    if (!zf_ops_check(ctx, 2, in, name)) return NULL;
    char xs[64], ts[64];
    if (x->ndim != 2 || target->ndim != 1 || target->shape[0] != x->shape[0]) {
        zf_set_error(ZF_ERR_SHAPE, "%s: expects input [N, C] and target [N], got %s and %s", name,
                     zf_shape_str(x, xs, sizeof xs), zf_shape_str(target, ts, sizeof ts));
        return NULL;
    }
    if (x->dtype != ZF_F32 && x->dtype != ZF_F64) {
        zf_set_error(ZF_ERR_DTYPE, "%s: input must be f32 or f64, got %s", name, zf_dtype_name(x->dtype));
        return NULL;
    }
    if (!zf_dtype_is_int(target->dtype)) {
        zf_set_error(ZF_ERR_DTYPE, "%s: target must hold integer class indices, got %s", name,
                     zf_dtype_name(target->dtype));
        return NULL;
    }
    if (!(ls >= 0 && ls <= 1)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "%s: label_smoothing must be in [0, 1], got %g", name, ls);
        return NULL;
    }
    if ((unsigned)red > ZF_REDUCTION_NONE) {
        zf_set_error(ZF_ERR_INVALID_ARG, "%s: unknown reduction %d", name, (int)red);
        return NULL;
    }
    zf_tensor *xc = x->stride[1] == 1 ? x : zf_contiguous(ctx, x);
    if (!xc) return NULL;
    zf_op_params p = {.f = {ls}, .i = {ZF_IGNORE_INDEX, logp_in}};
    zf_tensor *ops_in[2] = {xc, target};
    zf_tensor *per =
        zf_ops_finish(ctx, ZF_OP_CROSS_ENTROPY, zf_new_tensor(ctx, x->dtype, 1, x->shape), 2, ops_in, &p);
    if (!per || red != ZF_REDUCTION_MEAN) return reduce(ctx, per, red, name);
    /* Mean over the rows whose target is not ignored. */
    zf_tensor *kept = zf_ne(ctx, target, zf_scalar(ctx, target->dtype, ZF_IGNORE_INDEX));
    zf_tensor *count = zf_sum(ctx, zf_cast(ctx, kept, x->dtype), 0, NULL, false);
    return zf_div(ctx, zf_sum(ctx, per, 0, NULL, false), count);
}

zf_tensor *zf_cross_entropy(zf_ctx *ctx, zf_tensor *logits, zf_tensor *target, double label_smoothing,
                            zf_reduction reduction) {
    return class_loss(ctx, logits, target, label_smoothing, reduction, false);
}

zf_tensor *zf_nll_loss(zf_ctx *ctx, zf_tensor *logp, zf_tensor *target, zf_reduction reduction) {
    return class_loss(ctx, logp, target, 0.0, reduction, true);
}

zf_tensor *zf_cross_entropy_grad(zf_ctx *ctx, zf_tensor *g, zf_tensor *x, zf_tensor *target,
                                 const zf_op_params *p) {
    zf_tensor *in[3] = {g, x, target};
    if (!zf_ops_check(ctx, 3, in, "cross_entropy_grad")) return NULL;
    return zf_ops_finish(ctx, ZF_OP_CROSS_ENTROPY_GRAD, zf_new_tensor(ctx, x->dtype, 2, x->shape), 3, in, p);
}

static bool float_pair(zf_ctx *ctx, zf_tensor *a, zf_tensor *b, const char *name) {
    zf_tensor *in[2] = {a, b};
    if (!zf_ops_check(ctx, 2, in, name)) return false;
    if (!zf_dtype_is_float(a->dtype) || a->dtype != b->dtype) {
        zf_set_error(ZF_ERR_DTYPE, "%s: input and target must have the same float dtype (%s vs %s)", name,
                     zf_dtype_name(a->dtype), zf_dtype_name(b->dtype));
        return false;
    }
    return true;
}

zf_tensor *zf_mse_loss(zf_ctx *ctx, zf_tensor *input, zf_tensor *target, zf_reduction reduction) {
    if (!float_pair(ctx, input, target, "mse_loss")) return NULL;
    zf_tensor *d = zf_sub(ctx, input, target);
    if (d && !zf_same_shape(d, input)) {
        zf_set_error(ZF_ERR_SHAPE, "mse_loss: target must broadcast to the input's shape");
        return NULL;
    }
    return reduce(ctx, zf_mul(ctx, d, d), reduction, "mse_loss");
}

zf_tensor *zf_bce_with_logits(zf_ctx *ctx, zf_tensor *logits, zf_tensor *target, zf_tensor *pos_weight,
                              zf_reduction reduction) {
    if (!float_pair(ctx, logits, target, "bce_with_logits")) return NULL;
    char xs[64], ts[64];
    if (!zf_same_shape(logits, target)) {
        zf_set_error(ZF_ERR_SHAPE, "bce_with_logits: target %s must have the logits' shape %s",
                     zf_shape_str(target, ts, sizeof ts), zf_shape_str(logits, xs, sizeof xs));
        return NULL;
    }
    /* (1 - y) * x + w_p * softplus(-x); softplus is log1p(exp(.)) below its
     * threshold and linear above, so no term overflows. */
    zf_tensor *one_minus_y = zf_add_scalar(ctx, zf_neg(ctx, target), 1.0);
    zf_tensor *sp = zf_softplus(ctx, zf_neg(ctx, logits), 1.0, 20.0);
    if (pos_weight) {
        if (pos_weight->dtype != logits->dtype) {
            zf_set_error(ZF_ERR_DTYPE, "bce_with_logits: pos_weight dtype differs from the logits'");
            return NULL;
        }
        /* w_p = 1 + (pos_weight - 1) * y */
        zf_tensor *wp = zf_add_scalar(ctx, zf_mul(ctx, zf_add_scalar(ctx, pos_weight, -1.0), target), 1.0);
        if (wp && !zf_same_shape(wp, logits)) {
            zf_set_error(ZF_ERR_SHAPE, "bce_with_logits: pos_weight must broadcast to the logits' shape");
            return NULL;
        }
        sp = zf_mul(ctx, wp, sp);
    }
    return reduce(ctx, zf_add(ctx, zf_mul(ctx, one_minus_y, logits), sp), reduction, "bce_with_logits");
}
