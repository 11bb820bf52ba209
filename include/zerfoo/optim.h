/* zerfoo — optimizers, learning-rate schedules and gradient clipping
 * (src/optim/).
 *
 * An optimizer updates a list of named parameters (zf_module_named_parameters)
 * in place from their ->grad, with PyTorch's exact update formulas. Its state
 * (momentum buffers, Adam moments, step counts) lives in a context the
 * optimizer owns; a step allocates nothing (fused in-place update ops,
 * ZF_OP_SGD_UPDATE / ZF_OP_ADAM_UPDATE). Parameters whose ->grad is NULL are
 * skipped, as PyTorch skips p.grad None. The parameter list is copied; the
 * parameter tensors must outlive the optimizer. An optimizer can also keep
 * an exponential moving average of the parameters (zf_optim_set_ema). */
#ifndef ZERFOO_OPTIM_H
#define ZERFOO_OPTIM_H

#include <stdbool.h>
#include <stdint.h>

#include "zerfoo/named_tensors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zf_optimizer zf_optimizer;

/* torch.optim.SGD:
 *   g = grad + weight_decay * p
 *   momentum != 0: buf = g (first step) else momentum * buf + (1 - dampening) * g
 *                  g = nesterov ? g + momentum * buf : buf
 *   p -= lr * g */
typedef struct zf_sgd_params {
    double lr;
    double momentum;
    double dampening;
    double weight_decay;
    bool nesterov; /* needs momentum > 0 and dampening 0 */
} zf_sgd_params;

/* torch.optim.Adam / AdamW (amsgrad off), with t the parameter's step count:
 *   Adam:  g = grad + weight_decay * p
 *   AdamW: p *= 1 - lr * weight_decay; g = grad
 *   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
 *   p -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps) */
typedef struct zf_adam_params {
    double lr;
    double beta1, beta2;
    double eps;
    double weight_decay;
} zf_adam_params;

/* PyTorch's defaults: Adam lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight
 * decay 0; AdamW the same with weight decay 1e-2; SGD has no default lr
 * (give one) and momentum/dampening/weight decay 0. */
zf_adam_params zf_adam_defaults(void);
zf_adam_params zf_adamw_defaults(void);

/* NULL + ZF_ERR_INVALID_ARG for negative lr/eps/weight decay, betas outside
 * [0, 1), nesterov without momentum, an empty or non-float parameter list. */
zf_optimizer *zf_sgd_new(const zf_named_tensors *params, const zf_sgd_params *p);
zf_optimizer *zf_adam_new(const zf_named_tensors *params, const zf_adam_params *p);
zf_optimizer *zf_adamw_new(const zf_named_tensors *params, const zf_adam_params *p);
void zf_optim_free(zf_optimizer *opt);

/* One update of every parameter with a gradient. */
zf_status zf_optim_step(zf_optimizer *opt);
/* Zeroes every parameter's ->grad (keeps the buffers). */
void zf_optim_zero_grad(zf_optimizer *opt);
double zf_optim_lr(const zf_optimizer *opt);
void zf_optim_set_lr(zf_optimizer *opt, double lr);
/* Number of zf_optim_step calls so far (also restored by load_state). */
int64_t zf_optim_steps(const zf_optimizer *opt);
/* "sgd", "adam" or "adamw". */
const char *zf_optim_name(const zf_optimizer *opt);

/* State as named tensors "<param name>.<slot>" (the optimizer's own
 * tensors, not copies; the list is allocated in ctx). Slots: SGD
 * "momentum_buffer" (once it exists); Adam/AdamW "exp_avg", "exp_avg_sq" and
 * "step" (an f64 0-dim tensor, PyTorch's state['step']); with EMA on, "ema"
 * for every parameter. ZF_ERR_INVALID_ARG while the averages are swapped in
 * (zf_optim_swap_ema). */
zf_named_tensors *zf_optim_state(const zf_optimizer *opt, zf_ctx *ctx);
/* Restores state exported by zf_optim_state (values copied and converted).
 * Every slot must match its parameter's shape; a parameter with no entries
 * gets fresh state. The "ema" entries must be there for every parameter when
 * EMA is on and absent when it is off (turn it on after loading to start
 * averaging from the loaded parameters). Checked completely before anything
 * is written. */
zf_status zf_optim_load_state(zf_optimizer *opt, const zf_named_tensors *state);
/* Sets the step counter reported by zf_optim_steps (checkpoint resume). */
void zf_optim_set_steps(zf_optimizer *opt, int64_t steps);

/* ---- weight averaging (EMA) ----
 * With EMA on, every zf_optim_step ends by updating an average of each
 * parameter (with or without a gradient), one in-place op each
 * (ZF_OP_EMA_UPDATE):
 *   avg = decay * avg + (1 - decay) * p
 * (torch.optim.swa_utils.AveragedModel's EMA, timm's ModelEmaV2). Evaluating
 * with the averages instead of the last parameters often generalizes better.
 * Only parameters are averaged; buffers (BatchNorm's running statistics)
 * are not.
 *
 * zf_optim_set_ema: the first call copies the parameters' current values
 * into the averages; a later call only changes the decay. decay in [0, 1)
 * (0: the average is the last parameters), otherwise ZF_ERR_INVALID_ARG. */
zf_status zf_optim_set_ema(zf_optimizer *opt, double decay);
/* The decay; NaN when EMA is off. */
double zf_optim_ema_decay(const zf_optimizer *opt);
bool zf_optim_has_ema(const zf_optimizer *opt);
/* Exchanges the values of the parameters and their averages (bit for bit):
 * call it to evaluate or save the model with the averaged weights, and once
 * more to go back. While swapped, zf_optim_step and zf_optim_state refuse
 * (ZF_ERR_INVALID_ARG). ZF_ERR_INVALID_ARG when EMA is off. After the first
 * call, a swap allocates nothing. */
zf_status zf_optim_swap_ema(zf_optimizer *opt);
/* True while the parameters hold the averages. */
bool zf_optim_ema_swapped(const zf_optimizer *opt);

/* ---- learning-rate schedules ----
 * A schedule is a pure function of the step (0-based count of optimizer
 * steps taken so far), so resuming needs only the step:
 *   zf_optim_set_lr(opt, zf_lr_at(&sched, step)) before each zf_optim_step. */
typedef enum zf_lr_kind {
    ZF_LR_CONSTANT = 0,  /* base_lr */
    ZF_LR_STEP,          /* base_lr * gamma^floor(step / step_size) (StepLR) */
    ZF_LR_COSINE,        /* min_lr + (base_lr - min_lr) * (1 + cos(pi * min(step, total) / total)) / 2
                            (CosineAnnealingLR's closed form, T_max = total_steps) */
    ZF_LR_WARMUP,        /* linear warmup from base_lr * warmup_start over warmup_steps, then base_lr
                            (LinearLR(start_factor=warmup_start, total_iters=warmup_steps)) */
    ZF_LR_WARMUP_COSINE, /* ZF_LR_WARMUP for warmup_steps, then cosine from base_lr to min_lr over
                            the remaining total_steps - warmup_steps */
} zf_lr_kind;

typedef struct zf_lr_schedule {
    zf_lr_kind kind;
    double base_lr;
    int64_t step_size;    /* STEP */
    double gamma;         /* STEP */
    int64_t total_steps;  /* COSINE, WARMUP_COSINE (T_max) */
    double min_lr;        /* COSINE, WARMUP_COSINE (eta_min) */
    int64_t warmup_steps; /* WARMUP, WARMUP_COSINE */
    double warmup_start;  /* factor of base_lr at step 0 (0 is allowed) */
} zf_lr_schedule;

/* Learning rate at `step`; NaN + error for an invalid schedule (e.g.
 * step_size < 1, total_steps < 1 for cosine, warmup_steps > total_steps). */
double zf_lr_at(const zf_lr_schedule *s, int64_t step);
/* ZF_OK when s is valid, otherwise the reason. */
zf_status zf_lr_check(const zf_lr_schedule *s);

/* ---- gradient clipping ----
 * torch.nn.utils.clip_grad_norm_: total = sqrt(sum over params of
 * ||grad||^2) (parameters without grad are skipped); when max_norm / (total +
 * 1e-6) < 1 every grad is multiplied by that factor in place. Writes the
 * total norm (before clipping) to *total_norm (may be NULL). `scratch` holds
 * temporaries (the per-step context); squares are summed in double. A
 * non-finite total is returned as is and nothing is scaled. */
zf_status zf_clip_grad_norm(zf_ctx *scratch, const zf_named_tensors *params, double max_norm,
                            double *total_norm);

#ifdef __cplusplus
}
#endif
#endif
