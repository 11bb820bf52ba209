/* zerfoo — neural-network layers (modules), functional layer ops and
 * parameter initializers.
 *
 * Lifetimes. Modules, their parameters and buffers live in a long-lived
 * context (the "params" ctx, usually one per model): they are created by the
 * zf_nn_* constructors from a zf_nn builder and freed when that context is
 * freed. A forward pass takes a per-step context (`step`) in which every
 * activation and autograd node is allocated; reset it after each step
 * (after the optimizer update). Parameter gradients (->grad) are allocated
 * by zf_backward in the params ctx on first use and reused after that.
 *
 * Layout. Images are NCHW: x [N, C, H, W]. Linear weights are [out, in]
 * (PyTorch's layout), conv weights [out, in/groups, kh, kw]. Every module and
 * op computes in the dtype of its parameters and input (f32 or f64; the
 * input's dtype must equal the parameters').
 *
 * Names. Each module has children and parameters with local names; the
 * full names of zf_module_named_parameters / zf_module_state_dict join them
 * with dots ("0.weight", "fc1.bias", "features.3.running_mean"), exactly as
 * PyTorch's state_dict names the same model, so checkpoints can be exchanged
 * with PyTorch through safetensors.
 *
 * Errors: constructors and forwards return NULL and set zf_last_error() on bad
 * arguments or shapes (never abort). NULL inputs propagate like in ops.h. */
#ifndef ZERFOO_NN_H
#define ZERFOO_NN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "zerfoo/named_tensors.h"
#include "zerfoo/ops.h"
#include "zerfoo/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Functional layer ops (src/ops/conv.c, src/ops/norm.c). Recorded by
 * autograd like any op; f32 and f64.
 * ====================================================================== */

/* y = x @ w^T + b. x [..., in], w [out, in], b [out] or NULL -> [..., out]. */
zf_tensor *zf_linear(zf_ctx *ctx, zf_tensor *x, zf_tensor *w, zf_tensor *b);

/* 2-d convolution (cross-correlation, as torch.nn.functional.conv2d).
 * x [N, C, H, W], w [O, C/groups, KH, KW], b [O] or NULL ->
 * [N, O, OH, OW] with OH = (H + 2*pad_h - dil_h*(KH-1) - 1)/stride_h + 1.
 * Zero padding. C and O must be divisible by groups. Implemented as one op
 * (ZF_OP_CONV2D: im2col into step-arena scratch + the engine's gemm, threads
 * over the batch) with its own backward ops. */
typedef struct zf_conv2d_params {
    int64_t stride[2];   /* (h, w); 0 means 1 */
    int64_t padding[2];  /* (h, w); zeros added on both sides */
    int64_t dilation[2]; /* (h, w); 0 means 1 */
    int64_t groups;      /* 0 means 1 */
} zf_conv2d_params;
zf_tensor *zf_conv2d(zf_ctx *ctx, zf_tensor *x, zf_tensor *w, zf_tensor *b, const zf_conv2d_params *p);

/* 2-d pooling over x [N, C, H, W] (or [C, H, W]) with windows [KH, KW].
 * Output size as in PyTorch, including ceil_mode (a window must start
 * inside the input or its left padding). Max pooling pads with -inf and
 * routes each window's gradient to its first maximum in row-major window
 * order (NaN counts as a maximum), like PyTorch's CPU kernel. */
typedef struct zf_pool2d_params {
    int64_t kernel[2];   /* (kh, kw), required */
    int64_t stride[2];   /* 0 means the kernel size (PyTorch default) */
    int64_t padding[2];  /* at most half the kernel size */
    int64_t dilation[2]; /* max pooling only; 0 means 1 */
    bool ceil_mode;
    bool exclude_pad;    /* avg pooling: count_include_pad = false */
    int64_t divisor;     /* avg pooling: divisor_override (0 = none) */
} zf_pool2d_params;
zf_tensor *zf_max_pool2d(zf_ctx *ctx, zf_tensor *x, const zf_pool2d_params *p);
zf_tensor *zf_avg_pool2d(zf_ctx *ctx, zf_tensor *x, const zf_pool2d_params *p);

/* Batch normalization, x [N, C] or [N, C, ...] (statistics over every dim
 * but 1). Training (`training` true): normalizes with the biased batch
 * variance and, when running_mean/running_var are given, updates them in
 * place (not recorded): r = (1-momentum)*r + momentum*batch_stat, with the
 * unbiased variance for running_var, as PyTorch. Evaluation: uses the
 * running statistics. weight/bias [C] or NULL. */
zf_tensor *zf_batch_norm(zf_ctx *ctx, zf_tensor *x, zf_tensor *running_mean, zf_tensor *running_var,
                         zf_tensor *weight, zf_tensor *bias, bool training, double momentum, double eps);
/* Layer normalization over the last `ndim_norm` dims of x (biased variance).
 * weight/bias have those dims' shape, or NULL. */
zf_tensor *zf_layer_norm(zf_ctx *ctx, zf_tensor *x, int ndim_norm, zf_tensor *weight, zf_tensor *bias, double eps);
/* RMS normalization: zf_rms_norm in ops.h (a fused op). */
/* Inverted dropout: training: x * mask / (1 - p), mask[i] = (u[i] >= p) with
 * u from the counter-based RNG (seed, stream) — the same mask whatever the
 * thread count. Not training or p == 0: x itself. 0 <= p < 1 (p == 1 gives
 * zeros). */
zf_tensor *zf_dropout(zf_ctx *ctx, zf_tensor *x, double p, bool training, uint64_t seed, uint64_t stream);

/* ======================================================================
 * Initializers (src/nn/init.c). They overwrite t in place (any float
 * dtype, contiguous) with values from the counter-based RNG; each call takes
 * the next stream of `rng`, so a model built from the same seed is the same
 * on every machine and thread count. Fans follow torch.nn.init: for
 * t [out, in, k...], fan_in = in * prod(k), fan_out = out * prod(k).
 * ====================================================================== */
typedef struct zf_init_rng {
    uint64_t seed;
    uint64_t stream; /* next stream; incremented by each initializer call */
} zf_init_rng;

typedef enum zf_nonlinearity {
    ZF_NL_LINEAR = 0, /* also conv, sigmoid: gain 1 */
    ZF_NL_SIGMOID,
    ZF_NL_TANH,       /* 5/3 */
    ZF_NL_RELU,       /* sqrt(2) */
    ZF_NL_LEAKY_RELU, /* sqrt(2 / (1 + a^2)) */
    ZF_NL_SELU,       /* 3/4 */
} zf_nonlinearity;
typedef enum zf_fan_mode { ZF_FAN_IN = 0, ZF_FAN_OUT } zf_fan_mode;

/* torch.nn.init.calculate_gain; `param` is leaky_relu's negative slope. */
double zf_init_gain(zf_nonlinearity nl, double param);
/* fan_in / fan_out of a tensor with >= 2 dims (ZF_ERR_SHAPE otherwise). */
zf_status zf_init_fans(const zf_tensor *t, int64_t *fan_in, int64_t *fan_out);

zf_status zf_init_zeros(zf_tensor *t);
zf_status zf_init_constant(zf_tensor *t, double value);
/* U[a, b) */
zf_status zf_init_uniform(zf_tensor *t, double a, double b, zf_init_rng *rng);
/* N(mean, std^2) */
zf_status zf_init_normal(zf_tensor *t, double mean, double std, zf_init_rng *rng);
/* Glorot: U(-g*sqrt(6/(fan_in+fan_out)), +...) and N(0, g^2 * 2/(fan_in+fan_out)). */
zf_status zf_init_xavier_uniform(zf_tensor *t, double gain, zf_init_rng *rng);
zf_status zf_init_xavier_normal(zf_tensor *t, double gain, zf_init_rng *rng);
/* He: bound = gain(nl, a) * sqrt(3/fan), std = gain(nl, a) / sqrt(fan). */
zf_status zf_init_kaiming_uniform(zf_tensor *t, double a, zf_fan_mode mode, zf_nonlinearity nl, zf_init_rng *rng);
zf_status zf_init_kaiming_normal(zf_tensor *t, double a, zf_fan_mode mode, zf_nonlinearity nl, zf_init_rng *rng);

/* ======================================================================
 * Modules (src/nn/module.c and one file per layer family).
 * ====================================================================== */
typedef struct zf_module zf_module;

/* The builder passed to every constructor: where modules live, the
 * parameter dtype and the init RNG. Make one with zf_nn_init (or fill it
 * yourself) and keep passing the same struct so streams do not repeat. */
typedef struct zf_nn {
    zf_ctx *ctx;      /* long-lived context for modules and parameters (not owned) */
    zf_dtype dtype;   /* parameter dtype: ZF_F32 or ZF_F64 */
    zf_init_rng rng;  /* initializer streams */
} zf_nn;
/* {ctx, dtype, {seed, 0}}. */
zf_nn zf_nn_init(zf_ctx *ctx, zf_dtype dtype, uint64_t seed);

/* ---- layers (PyTorch defaults noted) ---- */
/* Linear: weight [out, in] kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)),
 * bias [out] U(-1/sqrt(in), 1/sqrt(in)). Input [..., in] -> [..., out]. */
zf_module *zf_nn_linear(zf_nn *nn, int64_t in_features, int64_t out_features, bool bias);
/* Conv2d: weight [out, in/groups, kh, kw] kaiming_uniform(a=sqrt(5)), bias [out]
 * U(+-1/sqrt(fan_in)) with fan_in = in/groups*kh*kw. p NULL: stride 1, no
 * padding, dilation 1, groups 1. */
zf_module *zf_nn_conv2d(zf_nn *nn, int64_t in_channels, int64_t out_channels, int64_t kh, int64_t kw,
                        const zf_conv2d_params *p, bool bias);
/* Pooling modules; p->kernel required (see zf_pool2d_params). */
zf_module *zf_nn_max_pool2d(zf_nn *nn, const zf_pool2d_params *p);
zf_module *zf_nn_avg_pool2d(zf_nn *nn, const zf_pool2d_params *p);
/* BatchNorm1d ([N, C] or [N, C, L]) / BatchNorm2d ([N, C, H, W]): weight
 * ones, bias zeros, buffers running_mean zeros, running_var ones,
 * num_batches_tracked (i64 scalar). PyTorch: eps 1e-5, momentum 0.1. */
zf_module *zf_nn_batch_norm1d(zf_nn *nn, int64_t num_features, double eps, double momentum);
zf_module *zf_nn_batch_norm2d(zf_nn *nn, int64_t num_features, double eps, double momentum);
/* LayerNorm over the trailing dims `shape` (ndim of them): weight ones, bias
 * zeros when affine. PyTorch: eps 1e-5. */
zf_module *zf_nn_layer_norm(zf_nn *nn, int ndim, const int64_t *shape, double eps, bool affine);
/* RMSNorm over the last dim (the fused zf_rms_norm op of ops.h, offset 0):
 * x * rsqrt(mean(x^2) + eps) * weight, weight [dim] ones. */
zf_module *zf_nn_rms_norm(zf_nn *nn, int64_t dim, double eps);
/* Dropout(p): active in training mode only. Each forward in training mode
 * draws a new mask from (seed, stream = the module's call counter); see
 * zf_module_set_rng to make runs reproducible and resumable. */
zf_module *zf_nn_dropout(zf_nn *nn, double p);
/* Embedding: weight [num, dim] N(0, 1); input integer ids [...] -> [..., dim]. */
zf_module *zf_nn_embedding(zf_nn *nn, int64_t num_embeddings, int64_t dim);
/* Flatten dims start..end (PyTorch nn.Flatten: 1, -1). */
zf_module *zf_nn_flatten(zf_nn *nn, int start_dim, int end_dim);
zf_module *zf_nn_relu(zf_nn *nn);
zf_module *zf_nn_gelu(zf_nn *nn, bool tanh_approximation);
zf_module *zf_nn_silu(zf_nn *nn);
zf_module *zf_nn_tanh(zf_nn *nn);
zf_module *zf_nn_sigmoid(zf_nn *nn);
zf_module *zf_nn_identity(zf_nn *nn);

/* ---- composition: the model graph ----
 * Sequential runs its children in order; they are named "0", "1", ... as in
 * torch.nn.Sequential. NULL entries make the call fail (so constructor
 * errors propagate): zf_nn_sequential(nn, 3, (zf_module *[]){a, b, c}). */
zf_module *zf_nn_sequential(zf_nn *nn, int n, zf_module *const *mods);
/* Appends a child named by its index. */
zf_status zf_sequential_append(zf_module *seq, zf_module *m);

/* A module with a forward written in C: the graph is whatever that
 * function does with its children (residual connections, several
 * branches...). `user` is passed back through zf_module_user. Register
 * children, parameters and buffers with the calls below; their names make
 * the state-dict names ("encoder.fc1.weight"). */
typedef zf_tensor *(*zf_forward_fn)(zf_module *self, zf_ctx *step, zf_tensor *x);
zf_module *zf_nn_custom(zf_nn *nn, const char *type_name, zf_forward_fn forward, void *user);
void *zf_module_user(const zf_module *m);
/* Names: non-empty, no dots, unique within the module (ZF_ERR_INVALID_ARG). */
zf_status zf_module_add_child(zf_module *m, const char *name, zf_module *child);
/* Registers t (in the module's ctx) as a trainable parameter: sets requires_grad. */
zf_status zf_module_add_param(zf_module *m, const char *name, zf_tensor *t);
/* Registers t as a buffer: saved in the state dict, not trained. */
zf_status zf_module_add_buffer(zf_module *m, const char *name, zf_tensor *t);

/* ---- using modules ---- */
/* Runs the module on x; activations go to `step`. Modules take one input;
 * a custom module with several inputs keeps them in its `user` struct or
 * calls its children's forwards and the functional ops directly. */
zf_tensor *zf_module_forward(zf_module *m, zf_ctx *step, zf_tensor *x);
/* Training mode (dropout active, batch norm uses batch statistics), set
 * recursively. Modules start in training mode, as in PyTorch. */
void zf_module_train(zf_module *m, bool training);
bool zf_module_is_training(const zf_module *m);
/* Seeds every dropout in the tree: the k-th dropout (depth-first order)
 * uses seed `seed`, stream k << 40 | counter, and its counter is set to
 * `counter` (e.g. the global step when resuming). */
void zf_module_set_rng(zf_module *m, uint64_t seed, uint64_t counter);

const char *zf_module_type(const zf_module *m);   /* "Linear", "Conv2d", ... */
int zf_module_num_children(const zf_module *m);
zf_module *zf_module_child_at(const zf_module *m, int i);
const char *zf_module_child_name(const zf_module *m, int i);
/* Child by dotted path ("features.0"), or NULL. */
zf_module *zf_module_get(const zf_module *m, const char *path);
/* Local parameter or buffer by name ("weight", "running_mean"), or NULL. */
zf_tensor *zf_module_param(const zf_module *m, const char *name);

/* Trainable parameters with full names, depth-first in registration order
 * (PyTorch's named_parameters order). The list is allocated in ctx. */
zf_named_tensors *zf_module_named_parameters(const zf_module *m, zf_ctx *ctx);
/* Parameters and buffers in PyTorch state_dict order (per module: its
 * parameters, then its buffers, then its children). */
zf_named_tensors *zf_module_state_dict(const zf_module *m, zf_ctx *ctx);
/* Copies values from sd into the module's tensors (converting dtype). Every
 * entry must match the module's shape. strict: every module entry must be in
 * sd and sd must have no other entries. All entries are checked before
 * anything is written, so a failed load leaves the module unchanged. */
zf_status zf_module_load_state_dict(zf_module *m, const zf_named_tensors *sd, bool strict);
/* Total number of trainable parameter elements. */
int64_t zf_module_num_parameters(const zf_module *m);
/* Zeroes every parameter's ->grad (keeps the buffers). */
void zf_module_zero_grad(zf_module *m);
/* The module tree, one line per module, like PyTorch's repr. */
void zf_module_print(const zf_module *m, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
