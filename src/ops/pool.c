/* Frontends of the 2-d pooling ops (MAX_POOL2D, AVG_POOL2D) and of their
 * internal gradient ops. Output sizes follow PyTorch's
 * pooling_output_shape, including ceil_mode's rule that the last window
 * must start inside the input or its left padding. */
#include <string.h>

#include "ops/nn_ops_internal.h"
#include "ops/ops_internal.h"

static int64_t pool_extent(int64_t in, int64_t k, int64_t s, int64_t pad, int64_t dil, bool ceil_mode) {
    int64_t num = in + 2 * pad - dil * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
    if (num < 0) return -1;
    int64_t out = num / s + 1;
    if (ceil_mode && (out - 1) * s >= in + pad) out--;
    return out;
}

/* Checks x and params; fills op params and the output shape. */
static bool pool_setup(zf_op op, zf_tensor *x, const zf_pool2d_params *up, zf_op_params *p, int64_t *oshape) {
    const char *name = zf_op_name(op);
    char xs[64];
    if (!up) {
        zf_set_error(ZF_ERR_INVALID_ARG, "%s: NULL params (the kernel size is required)", name);
        return false;
    }
    if (x->ndim != 3 && x->ndim != 4) {
        zf_set_error(ZF_ERR_SHAPE, "%s: expects [N, C, H, W] or [C, H, W], got %s", name,
                     zf_shape_str(x, xs, sizeof xs));
        return false;
    }
    if (x->dtype != ZF_F32 && x->dtype != ZF_F64) {
        zf_set_error(ZF_ERR_DTYPE, "%s: supports f32 and f64, got %s", name, zf_dtype_name(x->dtype));
        return false;
    }
    bool is_max = op == ZF_OP_MAX_POOL2D;
    memset(p, 0, sizeof *p);
    int nd = x->ndim;
    for (int d = 0; d < nd - 2; d++) oshape[d] = x->shape[d];
    for (int k = 0; k < 2; k++) {
        int64_t ks = up->kernel[k], st = up->stride[k] ? up->stride[k] : ks, pad = up->padding[k];
        int64_t dil = is_max && up->dilation[k] ? up->dilation[k] : 1;
        if (!is_max && up->dilation[k] > 1) {
            zf_set_error(ZF_ERR_INVALID_ARG, "%s: dilation is not supported for average pooling", name);
            return false;
        }
        if (ks < 1 || st < 1 || dil < 1 || pad < 0) {
            zf_set_error(ZF_ERR_INVALID_ARG, "%s: kernel, stride and dilation must be >= 1 and padding >= 0", name);
            return false;
        }
        if (pad > ((ks - 1) * dil + 1) / 2) {
            zf_set_error(ZF_ERR_INVALID_ARG, "%s: padding %lld must be at most half the kernel size", name,
                         (long long)pad);
            return false;
        }
        int64_t o = pool_extent(x->shape[nd - 2 + k], ks, st, pad, dil, up->ceil_mode);
        if (o < 1) {
            zf_set_error(ZF_ERR_SHAPE, "%s: input %s is too small for a %lldx%lld window", name,
                         zf_shape_str(x, xs, sizeof xs), (long long)up->kernel[0], (long long)up->kernel[1]);
            return false;
        }
        oshape[nd - 2 + k] = o;
        p->i[0 + k] = ks, p->i[2 + k] = st, p->i[4 + k] = pad;
        if (is_max) p->i[6 + k] = dil;
    }
    if (!is_max) {
        if (up->divisor < 0) {
            zf_set_error(ZF_ERR_INVALID_ARG, "%s: divisor override must be positive", name);
            return false;
        }
        p->i[6] = up->exclude_pad;
        p->i[7] = up->divisor;
    }
    return true;
}

static zf_tensor *pool(zf_ctx *ctx, zf_op op, zf_tensor *x, const zf_pool2d_params *up) {
    zf_tensor *chk[1] = {x};
    if (!zf_ops_check(ctx, 1, chk, zf_op_name(op))) return NULL;
    zf_op_params p;
    int64_t oshape[4];
    if (!pool_setup(op, x, up, &p, oshape)) return NULL;
    zf_tensor *in[1] = {zf_contiguous(ctx, x)};
    if (!in[0]) return NULL;
    return zf_ops_finish(ctx, op, zf_new_tensor(ctx, x->dtype, x->ndim, oshape), 1, in, &p);
}

zf_tensor *zf_max_pool2d(zf_ctx *ctx, zf_tensor *x, const zf_pool2d_params *p) {
    return pool(ctx, ZF_OP_MAX_POOL2D, x, p);
}
zf_tensor *zf_avg_pool2d(zf_ctx *ctx, zf_tensor *x, const zf_pool2d_params *p) {
    return pool(ctx, ZF_OP_AVG_POOL2D, x, p);
}

zf_tensor *zf_pool2d_grad(zf_ctx *ctx, zf_op op, zf_tensor *gy, zf_tensor *x, const zf_op_params *p) {
    zf_tensor *chk[2] = {gy, x};
    if (!zf_ops_check(ctx, 2, chk, zf_op_name(op))) return NULL;
    zf_tensor *gyc = zf_contiguous(ctx, gy);
    zf_tensor *xc = op == ZF_OP_MAX_POOL2D ? zf_contiguous(ctx, x) : NULL;
    if (!gyc || (op == ZF_OP_MAX_POOL2D && !xc)) return NULL;
    zf_tensor *in[2] = {gyc, xc};
    zf_op gop = op == ZF_OP_MAX_POOL2D ? ZF_OP_MAX_POOL2D_GRAD : ZF_OP_AVG_POOL2D_GRAD;
    return zf_ops_finish(ctx, gop, zf_new_tensor(ctx, x->dtype, x->ndim, x->shape), xc ? 2 : 1, in, p);
}
