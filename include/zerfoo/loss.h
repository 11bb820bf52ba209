/* zerfoo — loss functions (src/nn/loss.c), with PyTorch's semantics.
 *
 * Every loss returns a 0-dim tensor for ZF_REDUCTION_MEAN / _SUM, or the
 * per-element losses for ZF_REDUCTION_NONE, allocated in `ctx` and recorded
 * by autograd. f32 and f64. NULL + zf_last_error() on bad shapes, dtypes or
 * targets (an out-of-range class index is ZF_ERR_INDEX, never a crash). */
#ifndef ZERFOO_LOSS_H
#define ZERFOO_LOSS_H

#include "zerfoo/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum zf_reduction {
    ZF_REDUCTION_MEAN = 0,
    ZF_REDUCTION_SUM,
    ZF_REDUCTION_NONE,
} zf_reduction;

/* Targets equal to this class index are ignored (PyTorch's default). */
#define ZF_IGNORE_INDEX (-100)

/* Cross-entropy from logits [N, C] and class indices target [N] (i64 or
 * i32), torch.nn.functional.cross_entropy with label_smoothing in [0, 1]:
 *   l_n = -(1 - ls) * logp[n, t_n] - (ls / C) * sum_c logp[n, c]
 * with logp = log_softmax(logits) fused in one op (ZF_OP_CROSS_ENTROPY) and
 * a fused backward (softmax - smoothed one-hot). Rows whose target is
 * ZF_IGNORE_INDEX give 0 and are left out of the mean (mean divides by the
 * number of other rows; all ignored gives NaN as PyTorch). NONE: [N]. */
zf_tensor *zf_cross_entropy(zf_ctx *ctx, zf_tensor *logits, zf_tensor *target, double label_smoothing,
                            zf_reduction reduction);

/* Mean squared error: (input - target)^2, same shapes (target broadcasts
 * to input's shape). */
zf_tensor *zf_mse_loss(zf_ctx *ctx, zf_tensor *input, zf_tensor *target, zf_reduction reduction);

/* Binary cross-entropy with logits, numerically stable for any logit:
 *   l = (1 - y) * x + w_p * softplus(-x),  w_p = 1 + (pos_weight - 1) * y
 * (torch.nn.functional.binary_cross_entropy_with_logits); without
 * pos_weight the gradient is sigmoid(x) - y.
 * target has logits' shape, float in [0, 1]; pos_weight NULL or broadcast
 * to the last dim (one weight per class). */
zf_tensor *zf_bce_with_logits(zf_ctx *ctx, zf_tensor *logits, zf_tensor *target, zf_tensor *pos_weight,
                              zf_reduction reduction);

/* Negative log-likelihood from log-probabilities logp [N, C] and class
 * indices [N] (ignore index as above). */
zf_tensor *zf_nll_loss(zf_ctx *ctx, zf_tensor *logp, zf_tensor *target, zf_reduction reduction);

#ifdef __cplusplus
}
#endif
#endif
