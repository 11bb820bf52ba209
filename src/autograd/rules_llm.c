/* Backward rules of the LLM inference ops (src/ops/llm_ops.c).
 *
 * qmatmul: y = x W^T with W frozen, so only dx = g W, W dequantized to g's
 *   dtype (f32, or f64 on the f64 reference path).
 * rms_norm: y = x r w', r = (mean(x^2) + eps)^(-1/2), w' = w + offset, and
 *   with h = g w' (h = g without a weight) and xh = x r:
 *   dx = r (h - xh * mean(h * xh)),  dw = sum over leading dims of g * xh.
 * rope: each pair is rotated by theta, an orthogonal map, so the gradient is
 *   the rotation by -theta of g (the ROPE kernel with i[2] = 1). */
#include "autograd/autograd_internal.h"

static zf_status bw_qmatmul(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    if (!zf_wants_grad(n, 0)) return ZF_OK;
    gin[0] = zf_matmul(ctx, g, zf_cast(ctx, n->in[1], g->dtype));
    return gin[0] ? ZF_OK : zf_last_status();
}

static zf_status bw_rms_norm(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    zf_tensor *x = n->in[0], *w = n->n_in > 1 ? n->in[1] : NULL;
    double eps = n->p.f[0], off = n->p.f[1];
    int last = -1;
    zf_tensor *r = zf_rsqrt(ctx, zf_add_scalar(ctx, zf_mean(ctx, zf_mul(ctx, x, x), 1, &last, true), eps));
    zf_tensor *xh = zf_mul(ctx, x, r);
    if (zf_wants_grad(n, 0)) {
        zf_tensor *h = w ? zf_mul(ctx, g, off != 0.0 ? zf_add_scalar(ctx, w, off) : w) : g;
        zf_tensor *proj = zf_mean(ctx, zf_mul(ctx, h, xh), 1, &last, true);
        gin[0] = zf_mul(ctx, r, zf_sub(ctx, h, zf_mul(ctx, xh, proj)));
        if (!gin[0]) return zf_last_status();
    }
    if (w && zf_wants_grad(n, 1)) {
        gin[1] = zf_sum_to_shape(ctx, zf_mul(ctx, g, xh), 1, w->shape);
        if (!gin[1]) return zf_last_status();
    }
    return ZF_OK;
}

static zf_status bw_rope(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    if (!zf_wants_grad(n, 0)) return ZF_OK;
    zf_tensor *gc = zf_contiguous(ctx, g);
    zf_tensor *out = gc ? zf_new_tensor(ctx, gc->dtype, gc->ndim, gc->shape) : NULL;
    if (!out) return zf_last_status();
    zf_op_params p = n->p;
    p.i[2] = !p.i[2]; /* rotate back */
    const zf_tensor *in[3] = {gc, n->in[1], n->n_in > 2 ? n->in[2] : NULL};
    zf_status s = zf_numel(out) ? zf_dispatch(ctx, ZF_OP_ROPE, out, n->n_in, in, &p) : ZF_OK;
    if (s) return s;
    gin[0] = out;
    return ZF_OK;
}

void zf_register_rules_llm(zf_backward_fn *t) {
    t[ZF_OP_QMATMUL] = bw_qmatmul;
    t[ZF_OP_RMS_NORM] = bw_rms_norm;
    t[ZF_OP_ROPE] = bw_rope;
}
