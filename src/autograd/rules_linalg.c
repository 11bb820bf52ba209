/* Backward rule of matmul. The node's inputs are already expanded to the
 * output's batch shape (see src/ops/linalg.c); the EXPAND nodes before them
 * sum the batch gradient back. dA = g @ B^T, dB = A^T @ g. */
#include "autograd/autograd_internal.h"

static zf_status bw_matmul(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    zf_tensor *a = n->in[0], *b = n->in[1];
    if (zf_wants_grad(n, 0)) {
        gin[0] = zf_matmul(ctx, g, zf_transpose(ctx, b, -1, -2));
        if (!gin[0]) return zf_last_status();
    }
    if (zf_wants_grad(n, 1)) {
        gin[1] = zf_matmul(ctx, zf_transpose(ctx, a, -1, -2), g);
        if (!gin[1]) return zf_last_status();
    }
    return ZF_OK;
}

void zf_register_rules_linalg(zf_backward_fn *t) { t[ZF_OP_MATMUL] = bw_matmul; }
