/* Internal frontends of the gradient ops of the layer ops (conv, pooling,
 * cross-entropy), called by their backward rules (autograd/rules_nn.c).
 * Each allocates its result in ctx; none is differentiable itself. */
#ifndef ZF_NN_OPS_INTERNAL_H
#define ZF_NN_OPS_INTERNAL_H

#include "zerfoo/autograd.h"
#include "zerfoo/nn.h"

/* gy [N, O, OH, OW], w [O, C/G, KH, KW] -> gx with x_shape [N, C, H, W].
 * p: the forward node's params (i[7] is recomputed). */
zf_tensor *zf_conv2d_grad_input(zf_ctx *ctx, zf_tensor *gy, zf_tensor *w, const int64_t *x_shape,
                                const zf_op_params *p);
/* x [N, C, H, W], gy [N, O, OH, OW] -> gw with w_shape [O, C/G, KH, KW]. */
zf_tensor *zf_conv2d_grad_weight(zf_ctx *ctx, zf_tensor *x, zf_tensor *gy, const int64_t *w_shape,
                                 const zf_op_params *p);
/* gy (pooled shape) and x -> gx (x's shape); op is MAX_POOL2D or AVG_POOL2D. */
zf_tensor *zf_pool2d_grad(zf_ctx *ctx, zf_op op, zf_tensor *gy, zf_tensor *x, const zf_op_params *p);
/* g [N], logits/logp [N, C], target [N] -> d logits [N, C]. */
zf_tensor *zf_cross_entropy_grad(zf_ctx *ctx, zf_tensor *g, zf_tensor *x, zf_tensor *target,
                                 const zf_op_params *p);

#endif
