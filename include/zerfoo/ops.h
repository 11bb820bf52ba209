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
/* weight [V, D], ids int of any shape -> [..., D]. A block-quantized weight
 * (q8_0, q4_k, ...; contiguous, no gradient) gives f32 rows, dequantized. */
zf_tensor *zf_embedding(zf_ctx *ctx, zf_tensor *weight, zf_tensor *ids);
/* Keep elements on and below (tril) / above (triu) diagonal k of the last two dims. */
zf_tensor *zf_tril(zf_ctx *ctx, zf_tensor *a, int64_t k);
zf_tensor *zf_triu(zf_ctx *ctx, zf_tensor *a, int64_t k);

/* ---- LLM inference (src/ops/llm_ops.c) ---- */

/* Quantized linear layer: y[..., N] = x[..., K] · W^T.
 * W: [N, K], contiguous, stored as GGUF stores a weight matrix: N rows, each
 *   K / block_size blocks of W's dtype (GGUF lists the dims as [K, N]). Any of
 *   f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q2_k, q3_k, q4_k, q5_k, q6_k;
 *   K a multiple of the block size (32, or 256 for the K types). W may wrap
 *   mmap'd file memory (zf_from_blob); it is only read.
 * x: f32, any leading dims (f16/bf16/f8 are cast to f32 first). f64 x is a
 *   reference path: W is dequantized and the product computed in f64, with
 *   no rounding of x (slow; for gradient checks and tests).
 * Result: f32 [..., N] (f64 for f64 x).
 * Block types: each row of x is first quantized to 8 bits as llama.cpp does
 *   (Q8_0-style blocks of 32 for q4_0 ... q8_0 weights, Q8_K blocks of 256
 *   for the K types) and the blocks are multiplied in integer arithmetic, so
 *   the result differs from dequantize(W) @ x by that rounding of x (about
 *   2^-8 of each block's largest |x|, relative, per element). f16 and bf16
 *   weights are converted to f32 exactly and multiplied in f32.
 * Gradient: for x only, dx = g · dequantize(W): W is treated as frozen, and
 *   a W that requires grad is an error (use zf_matmul for trainable weights). */
zf_tensor *zf_qmatmul(zf_ctx *ctx, zf_tensor *x, zf_tensor *w);

/* Numerics of the LLM inference ops that offer a choice.
 * ZF_NUMERICS_DEFAULT: zerfoo's own (f32 with its summation orders and
 *   vectorized exp; angles in f64).
 * ZF_NUMERICS_GGML: the bits ggml's CPU backend (llama.cpp, built for x86-64
 *   with AVX-512) computes for the same op, on any CPU: its f16 roundings,
 *   summation orders, exp and lookup tables. docs/LLM.md ("Parity") says what
 *   each op reproduces and how it is checked (tests/parity, llm_opcheck). */
typedef enum zf_numerics { ZF_NUMERICS_DEFAULT = 0, ZF_NUMERICS_GGML = 1 } zf_numerics;

/* RMS norm over the last dim D:
 *   y = x / sqrt(mean(x^2) + eps) * (weight + weight_offset)
 * weight: [D] of x's dtype, or NULL for no scale. weight_offset is 0 for
 * Llama/Qwen and 1 for Gemma's Hugging Face weights, which scale by (1 + w).
 * GGUF files of Gemma 1-3 already store 1 + w (llama.cpp's converter adds
 * the 1), so they take offset 0.
 * Float dtypes; computed in f32 (f64 for f64) as ggml's rms_norm does: the
 * squares summed in f64, in order, scale = 1 / sqrtf(mean + eps) in f32, y =
 * (x * scale) * weight. Differentiable in x and weight. */
zf_tensor *zf_rms_norm(zf_ctx *ctx, zf_tensor *x, zf_tensor *weight, double eps, double weight_offset);

/* Rotary position embedding (RoPE).
 * x: [..., T, H, D] (tokens, heads, head dim), e.g. [B, T, H, D] or
 *   [T, H, D]: the layout of a projected q or k before any transpose.
 * pos: i32 or i64 positions, either [T] (shared by every leading index) or
 *   x's shape without the last two dims ([..., T], one per token).
 * The first n_rot dims of each head are rotated (n_rot even and <= D; 0 means
 * D); dims n_rot..D-1 pass through unchanged. Pair i, 0 <= i < n_rot/2, is
 * rotated by the angle
 *   theta = pos * freq_scale * freq_base^(-2i / n_rot)
 * as (a, b) -> (a cos theta - b sin theta, a sin theta + b cos theta), where
 *   ZF_ROPE_NORMAL (Llama, GPT-J style): a = x[2i],  b = x[2i + 1];
 *   ZF_ROPE_NEOX (GPT-NeoX style: Gemma, Qwen, Phi-3): a = x[i], b = x[i + n_rot/2].
 * freq_base is GGUF's rope.freq_base (10000 for Llama 2); freq_scale is 1,
 * or 1 / factor for linear RoPE scaling. Float dtypes (f32 math, f64 for f64);
 * angles are computed in f64. Differentiable in x. */
typedef enum zf_rope_mode { ZF_ROPE_NORMAL = 0, ZF_ROPE_NEOX = 1 } zf_rope_mode;
zf_tensor *zf_rope(zf_ctx *ctx, zf_tensor *x, zf_tensor *pos, zf_rope_mode mode, int n_rot, double freq_base,
                   double freq_scale);
/* As zf_rope, with per-pair frequency factors (GGUF's rope_freqs.weight of
 * Llama 3.1 and Phi-3 long-context RoPE): pair i's angle is divided by
 * freq_factors[i]. freq_factors: float [n_rot/2] (or NULL), not
 * differentiated (an error when it requires grad). */
zf_tensor *zf_rope_ext(zf_ctx *ctx, zf_tensor *x, zf_tensor *pos, zf_tensor *freq_factors, zf_rope_mode mode,
                       int n_rot, double freq_base, double freq_scale);
/* As zf_rope_ext with ZF_NUMERICS_GGML: the angles as ggml computes them,
 * in f32 (theta_i = pos * theta_scale^i by repeated products, theta_scale =
 * powf(freq_base, -2 / n_rot), then / freq_factors[i], * freq_scale, then
 * libm's cosf and sinf), and the rotation's roundings of ggml's build. The
 * angle errors grow with the position (~1e-4 rad at 4096), as llama.cpp's
 * do. f32/f16/bf16 (f64 as zf_rope_ext). Differentiable in x. */
zf_tensor *zf_rope_ggml(zf_ctx *ctx, zf_tensor *x, zf_tensor *pos, zf_tensor *freq_factors, zf_rope_mode mode,
                        int n_rot, double freq_base, double freq_scale);

/* Gated linear unit of LLM feed-forward layers: out = act(gate) * up,
 * elementwise. gate, up: f32 of the same shape [..., n]; out likewise.
 *   ZF_GLU_SILU: gate * sigmoid(gate) (SwiGLU: Llama, Qwen, Phi-3);
 *   ZF_GLU_GELU_TANH: the tanh approximation of GELU (GeGLU: Gemma).
 * ZF_NUMERICS_GGML computes what ggml's swiglu/geglu compute: SiLU with
 * ggml's vector exp on each 16-element group of a row (libm's expf on the
 * rest), GELU from ggml's table at gate rounded to f16 (an f16 result: about
 * 1e-3 relative), 0 below -10 and gate above 10. Not differentiable
 * (build it from zf_silu / zf_gelu and zf_mul to train). */
typedef enum zf_glu_act { ZF_GLU_SILU = 0, ZF_GLU_GELU_TANH = 1 } zf_glu_act;
zf_tensor *zf_glu(zf_ctx *ctx, zf_tensor *gate, zf_tensor *up, zf_glu_act act, zf_numerics numerics);

/* Fused scaled-dot-product attention for prefill and decode, with
 * grouped-query heads:
 *   out[t, h] = softmax_s(cap(scale * q[t, h] · k[s, g]) + mask[t, s]) · v[s, g],
 *   g = h / (Hq / Hkv)
 * q: [T, Hq, D] f32; k, v: [S, Hkv, D] f32 or f16 (a KV cache: any strides
 *   with unit stride along D, e.g. a permuted view of [Hkv, S_max, D]).
 *   An optional leading batch dim B on q, k, v (and out) is allowed.
 * mask: NULL or f32 additive [T, S] (or [B, T, S]); -INFINITY hides a key.
 * Key s has position k_pos0 + s; query t has position q_pos0 + t. With
 * causal, key s is visible to query t only when its position is <= the
 * query's; with window > 0 also only when the query's position minus the
 * key's is < window (sliding-window layers). A query that sees no key gets
 * zeros. k_rot > 0 says that k and v are a ring (a window layer's KV cache
 * after it wrapped): key s is row (s + k_rot) % S of k and v, so row k_rot
 * holds the oldest key; mask columns stay in key order.
 * scale: 0 means 1/sqrt(D). softcap > 0: cap(z) = softcap * tanh(z / softcap)
 * (Gemma 2 style logit soft-capping), else cap(z) = z.
 * Result: [T, Hq, D] ([B, T, Hq, D]) f32. Not differentiable.
 *
 * numerics ZF_NUMERICS_GGML (k, v f16, no softcap): what llama.cpp computes
 * without flash attention: kq = k · q with q rounded to f16, softmax of
 * kq * scale + mask with ggml's exp and f64 sums of 16-element groups, the
 * probabilities rounded to f16, then v · p; the dot products in ggml's
 * orders (T >= 2: its tinyBLAS f16 GEMM; T = 1: ggml_vec_dot_f16), the keys
 * summed in position order, a key at position p in lane p mod 16 (mod 64)
 * and softmax group p / 16, as cell p of llama.cpp's cache where cell =
 * position (so a ring gives the bits of a full-size cache). Gemma 3 and
 * Phi-3 scale q before the op (ggml_scale) and pass scale 1. */
typedef struct zf_attn_params {
    double scale;
    double softcap;
    int64_t window;
    int64_t q_pos0;
    int64_t k_pos0; /* position of key 0 */
    int64_t k_rot;  /* 0, or the row of key 0 in a ring (0 <= k_rot < S) */
    bool causal;
    zf_numerics numerics;
} zf_attn_params;
zf_tensor *zf_attention(zf_ctx *ctx, zf_tensor *q, zf_tensor *k, zf_tensor *v, zf_tensor *mask,
                        const zf_attn_params *p);

#ifdef __cplusplus
}
#endif
#endif
