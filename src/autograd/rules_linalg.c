/* Backward rule of matmul. The node's inputs are already expanded to the
 * output's batch shape (see src/ops/linalg.c); the EXPAND nodes before them
 * sum the batch gradient back. dA = g @ B^T, dB = A^T @ g.
 *
 * An input stored transposed (unit stride along its second-to-last dim, as
 * the weight view w^T of a linear layer) gets its gradient in the same
 * layout, computed as (B g^T)^T or (g^T A)^T: the view's own backward then
 * hands a contiguous gradient to the parameter, whose accumulation stays on
 * the fast contiguous path. */
#include "autograd/autograd_internal.h"

static bool stored_transposed(const zf_tensor *t) {
    int r = t->ndim - 2, c = t->ndim - 1;
    return t->ndim >= 2 && t->shape[r] > 1 && t->shape[c] > 1 && t->stride[r] == 1 && t->stride[c] != 1;
}

static zf_status bw_matmul(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    zf_tensor *a = n->in[0], *b = n->in[1];
    if (zf_wants_grad(n, 0)) {
        if (stored_transposed(a))
            gin[0] = zf_transpose(ctx, zf_matmul(ctx, b, zf_transpose(ctx, g, -1, -2)), -1, -2);
        else
            gin[0] = zf_matmul(ctx, g, zf_transpose(ctx, b, -1, -2));
        if (!gin[0]) return zf_last_status();
    }
    if (zf_wants_grad(n, 1)) {
        if (stored_transposed(b))
            gin[1] = zf_transpose(ctx, zf_matmul(ctx, zf_transpose(ctx, g, -1, -2), a), -1, -2);
        else
            gin[1] = zf_matmul(ctx, zf_transpose(ctx, a, -1, -2), g);
        if (!gin[1]) return zf_last_status();
    }
    return ZF_OK;
}

void zf_register_rules_linalg(zf_backward_fn *t) { t[ZF_OP_MATMUL] = bw_matmul; }
