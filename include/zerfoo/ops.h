/* zerfoo — tensor ops (eager; recorded on the autograd tape when an input
 * requires grad and grad mode is on).
 *
 * Every op allocates its result in `ctx` and returns it, or returns NULL and
 * sets zf_last_error(). NULL inputs propagate (an op given NULL returns NULL
 * without overwriting the first error), so a chain of calls can be checked
 * once at the end.
 *
 * dtypes: binary ops need both inputs of the same dtype (no implicit
 * promotion; use zf_cast). Float ops compute in f32 for f32/f16/bf16/f8 and
 * in f64 for f64; integer arithmetic is exact in int64. Comparisons and
 * logical ops return bool. Broadcasting follows NumPy. Negative dims count
 * from the end. */
#ifndef ZERFOO_OPS_H
#define ZERFOO_OPS_H

#include "zerfoo/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- binary, broadcasting ---- */
zf_tensor *zf_add(zf_ctx *ctx, zf_tensor *a, zf_tensor *b);
zf_tensor *zf_sub(zf_ctx *ctx, zf_tensor *a, zf_tensor *b);
zf_tensor *zf_mul(zf_ctx *ctx, zf_tensor *a, zf_tensor *b);
zf_tensor *zf_div(zf_ctx *ctx, zf_tensor *a, zf_tensor *b);
zf_tensor *zf_pow(zf_ctx *ctx, zf_tensor *a, zf_tensor *b);
zf_tensor *zf_maximum(zf_ctx *ctx, zf_tensor *a, zf_tensor *b);
zf_tensor *zf_minimum(zf_ctx *ctx, zf_tensor *a, zf_tensor *b);
zf_tensor *zf_eq(zf_ctx *ctx, zf_tensor *a, zf_tensor *b);
zf_tensor *zf_ne(zf_ctx *ctx, zf_tensor *a, zf_tensor *b);
zf_tensor *zf_lt(zf_ctx *ctx, zf_tensor *a, zf_tensor *b);
zf_tensor *zf_le(zf_ctx *ctx, zf_tensor *a, zf_tensor *b);
zf_tensor *zf_gt(zf_ctx *ctx, zf_tensor *a, zf_tensor *b);
zf_tensor *zf_ge(zf_ctx *ctx, zf_tensor *a, zf_tensor *b);
zf_tensor *zf_logical_and(zf_ctx *ctx, zf_tensor *a, zf_tensor *b);
zf_tensor *zf_logical_or(zf_ctx *ctx, zf_tensor *a, zf_tensor *b);
/* With a scalar of a's dtype. */
zf_tensor *zf_add_scalar(zf_ctx *ctx, zf_tensor *a, double s);
zf_tensor *zf_mul_scalar(zf_ctx *ctx, zf_tensor *a, double s);
zf_tensor *zf_pow_scalar(zf_ctx *ctx, zf_tensor *a, double s);

/* ---- unary ---- */
zf_tensor *zf_neg(zf_ctx *ctx, zf_tensor *a);
zf_tensor *zf_abs(zf_ctx *ctx, zf_tensor *a);
zf_tensor *zf_sign(zf_ctx *ctx, zf_tensor *a);
zf_tensor *zf_exp(zf_ctx *ctx, zf_tensor *a);
zf_tensor *zf_log(zf_ctx *ctx, zf_tensor *a);
zf_tensor *zf_log1p(zf_ctx *ctx, zf_tensor *a);
zf_tensor *zf_erf(zf_ctx *ctx, zf_tensor *a);
zf_tensor *zf_sqrt(zf_ctx *ctx, zf_tensor *a);
zf_tensor *zf_rsqrt(zf_ctx *ctx, zf_tensor *a);
zf_tensor *zf_sin(zf_ctx *ctx, zf_tensor *a);
zf_tensor *zf_cos(zf_ctx *ctx, zf_tensor *a);
zf_tensor *zf_tanh(zf_ctx *ctx, zf_tensor *a);
zf_tensor *zf_sigmoid(zf_ctx *ctx, zf_tensor *a);
zf_tensor *zf_relu(zf_ctx *ctx, zf_tensor *a);
zf_tensor *zf_leaky_relu(zf_ctx *ctx, zf_tensor *a, double negative_slope);
/* approximate = false: x*Phi(x) (erf); true: the tanh approximation. */
zf_tensor *zf_gelu(zf_ctx *ctx, zf_tensor *a, bool approximate);
zf_tensor *zf_silu(zf_ctx *ctx, zf_tensor *a);
/* log(1+exp(beta*x))/beta, linear above threshold (PyTorch defaults 1, 20). */
zf_tensor *zf_softplus(zf_ctx *ctx, zf_tensor *a, double beta, double threshold);
/* NaN for a bound means "no bound". */
zf_tensor *zf_clamp(zf_ctx *ctx, zf_tensor *a, double min, double max);
zf_tensor *zf_logical_not(zf_ctx *ctx, zf_tensor *a);
/* cond (bool) ? a : b, broadcasting all three. */
zf_tensor *zf_where(zf_ctx *ctx, zf_tensor *cond, zf_tensor *a, zf_tensor *b);

/* ---- reductions ----
 * dims: n_dims entries (n_dims 0 or dims NULL: all dims); keepdim keeps the
 * reduced dims with size 1. */
zf_tensor *zf_sum(zf_ctx *ctx, zf_tensor *a, int n_dims, const int *dims, bool keepdim);
zf_tensor *zf_mean(zf_ctx *ctx, zf_tensor *a, int n_dims, const int *dims, bool keepdim);
zf_tensor *zf_max(zf_ctx *ctx, zf_tensor *a, int n_dims, const int *dims, bool keepdim);
zf_tensor *zf_min(zf_ctx *ctx, zf_tensor *a, int n_dims, const int *dims, bool keepdim);
zf_tensor *zf_prod(zf_ctx *ctx, zf_tensor *a, int n_dims, const int *dims, bool keepdim);
zf_tensor *zf_logsumexp(zf_ctx *ctx, zf_tensor *a, int n_dims, const int *dims, bool keepdim);
/* correction: 1 = unbiased (PyTorch default), 0 = population. */
zf_tensor *zf_var(zf_ctx *ctx, zf_tensor *a, int n_dims, const int *dims, int correction, bool keepdim);
/* Index (i64) of the first max/min along one dim. */
zf_tensor *zf_argmax(zf_ctx *ctx, zf_tensor *a, int dim, bool keepdim);
zf_tensor *zf_argmin(zf_ctx *ctx, zf_tensor *a, int dim, bool keepdim);
zf_tensor *zf_softmax(zf_ctx *ctx, zf_tensor *a, int dim);
zf_tensor *zf_log_softmax(zf_ctx *ctx, zf_tensor *a, int dim);

/* ---- linear algebra ----
 * matmul: 1-d and 2-d as in NumPy; [..., M, K] x [..., K, N] -> [..., M, N]
 * with broadcast batch dims. f32, f64 and f16/bf16 (computed in f32). */
zf_tensor *zf_matmul(zf_ctx *ctx, zf_tensor *a, zf_tensor *b);

/* ---- joining, splitting, indexing ---- */
zf_tensor *zf_cat(zf_ctx *ctx, int n, zf_tensor *const *ts, int dim);
zf_tensor *zf_stack(zf_ctx *ctx, int n, zf_tensor *const *ts, int dim);
/* Views of consecutive pieces of `split_size` along dim (the last may be
 * shorter); writes them to out and returns how many (-1 on error, also when
 * max_out is too small). out NULL with max_out 0: only returns the count. */
int zf_split(zf_ctx *ctx, zf_tensor *a, int64_t split_size, int dim, zf_tensor **out, int max_out);
/* n_chunks pieces of ceil(size/n_chunks) (as torch.chunk). */
int zf_chunk(zf_ctx *ctx, zf_tensor *a, int n_chunks, int dim, zf_tensor **out, int max_out);
/* out[i][j] = a[index[i][j]][j] (dim 0), index i64 or i32, same ndim as a. */
zf_tensor *zf_gather(zf_ctx *ctx, zf_tensor *a, int dim, zf_tensor *index);
/* A copy of self with src added at index positions along dim. */
zf_tensor *zf_scatter_add(zf_ctx *ctx, zf_tensor *self, int dim, zf_tensor *index, zf_tensor *src);
/* Picks entries of a 1-d i64/i32 index along dim. */
zf_tensor *zf_index_select(zf_ctx *ctx, zf_tensor *a, int dim, zf_tensor *index);
/* A copy of self with src slices added at 1-d index positions along dim. */
zf_tensor *zf_index_add(zf_ctx *ctx, zf_tensor *self, int dim, zf_tensor *index, zf_tensor *src);
/* weight [V, D], ids int of any shape -> [..., D]. */
zf_tensor *zf_embedding(zf_ctx *ctx, zf_tensor *weight, zf_tensor *ids);
/* Keep elements on and below (tril) / above (triu) diagonal k of the last two dims. */
zf_tensor *zf_tril(zf_ctx *ctx, zf_tensor *a, int64_t k);
zf_tensor *zf_triu(zf_ctx *ctx, zf_tensor *a, int64_t k);

#ifdef __cplusplus
}
#endif
#endif
