/* Backward rules of the layer ops: conv2d, max/avg pooling and the fused
 * cross-entropy. Each runs the op's gradient kernel(s) through the internal
 * frontends of ops/nn_ops_internal.h. */
#include "autograd/autograd_internal.h"
#include "ops/nn_ops_internal.h"

/* CONV2D inputs: x, w, workspace[, bias]. */
static zf_status bw_conv2d(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    zf_tensor *x = n->in[0], *w = n->in[1];
    if (zf_wants_grad(n, 0)) {
        gin[0] = zf_conv2d_grad_input(ctx, g, w, x->shape, &n->p);
        if (!gin[0]) return zf_last_status();
    }
    if (zf_wants_grad(n, 1)) {
        gin[1] = zf_conv2d_grad_weight(ctx, x, g, w->shape, &n->p);
        if (!gin[1]) return zf_last_status();
    }
    if (n->n_in > 3 && zf_wants_grad(n, 3)) {
        gin[3] = zf_sum(ctx, g, 3, (int[]){0, 2, 3}, false);
        if (!gin[3]) return zf_last_status();
    }
    return ZF_OK;
}

static zf_status bw_pool(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    gin[0] = zf_pool2d_grad(ctx, n->op, g, n->in[0], &n->p);
    return gin[0] ? ZF_OK : zf_last_status();
}

/* CROSS_ENTROPY inputs: logits (or log-probs), target. */
static zf_status bw_cross_entropy(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    if (!zf_wants_grad(n, 0)) return ZF_OK;
    gin[0] = zf_cross_entropy_grad(ctx, g, n->in[0], n->in[1], &n->p);
    return gin[0] ? ZF_OK : zf_last_status();
}

void zf_register_rules_conv(zf_backward_fn *t) {
    t[ZF_OP_CONV2D] = bw_conv2d;
    t[ZF_OP_MAX_POOL2D] = bw_pool;
    t[ZF_OP_AVG_POOL2D] = bw_pool;
    t[ZF_OP_CROSS_ENTROPY] = bw_cross_entropy;
}
