/* Backward rules: one function per differentiable op.
 *
 * A rule gets the node, the gradient of the node's output (gout, same shape
 * as n->out) and writes gin[i], the gradient for input i with input i's
 * shape, or NULL when input i needs none (no requires_grad, or an integer
 * input). Rules run with grad mode off and allocate in ctx. */
#ifndef ZF_AUTOGRAD_INTERNAL_H
#define ZF_AUTOGRAD_INTERNAL_H

#include "core/internal.h"
#include "zerfoo/autograd.h"
#include "zerfoo/ops.h"

typedef zf_status (*zf_backward_fn)(zf_ctx *ctx, const zf_node *n, zf_tensor *gout, zf_tensor **gin);

/* Rule table fillers, one per rules file. */
void zf_register_rules_elementwise(zf_backward_fn *t);
void zf_register_rules_views(zf_backward_fn *t);
void zf_register_rules_reduce(zf_backward_fn *t);
void zf_register_rules_linalg(zf_backward_fn *t);
void zf_register_rules_index(zf_backward_fn *t);
void zf_register_rules_conv(zf_backward_fn *t);
void zf_register_rules_llm(zf_backward_fn *t);

/* Does input i of n need a gradient? */
static inline bool zf_wants_grad(const zf_node *n, int i) {
    return i < n->n_in && n->in[i] && n->in[i]->requires_grad;
}
/* g summed to input i's shape (NULL-safe). */
static inline zf_tensor *zf_grad_to_input(zf_ctx *ctx, const zf_node *n, int i, zf_tensor *g) {
    return g ? zf_sum_to_shape(ctx, g, n->in[i]->ndim, n->in[i]->shape) : NULL;
}
/* A 0-dim tensor of t's dtype. */
static inline zf_tensor *zf_scalar_like(zf_ctx *ctx, const zf_tensor *t, double v) {
    return zf_scalar(ctx, t->dtype, v);
}

#endif
