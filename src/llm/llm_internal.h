/* LLM runtime internals: architecture descriptors, the loaded model, the KV
 * cache and the forward pass (not public). */
#ifndef ZF_LLM_INTERNAL_H
#define ZF_LLM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "zerfoo/engine.h"
#include "zerfoo/gguf.h"
#include "zerfoo/llm.h"
#include "zerfoo/tensor.h"

/* From the tokenizer module (zerfoo/tokenizer.h); used through tokens.c only. */
typedef struct zf_tokenizer zf_tokenizer;

/* How RoPE pairs dimensions (ggml's rope modes): NORM rotates (x[2i], x[2i+1])
 * (llama: the converter permutes Q/K to this order), NEOX rotates (x[i],
 * x[i + n_rot/2]) (gemma, qwen, phi3). */
typedef enum { LLM_ROPE_NORM, LLM_ROPE_NEOX } llm_rope_mode;
typedef enum { LLM_ACT_SILU, LLM_ACT_GELU_TANH } llm_act;

/* One family in the registry. Tensor names follow llama.cpp's GGUF naming
 * (gguf-py constants.py): token_embd, blk.N.attn_q, ... */
typedef struct llm_arch {
    const char *name;        /* general.architecture */
    llm_rope_mode rope;
    llm_act act;             /* FFN: act(gate(x)) * up(x) -> down */
    bool qkv_bias;           /* optional attn_{q,k,v}.bias (qwen2) */
    bool qk_norm;            /* attn_q_norm / attn_k_norm over head_dim (qwen3, gemma3) */
    bool post_norms;         /* post_attention_norm / post_ffw_norm (gemma3) */
    bool fused_qkv;          /* attn_qkv instead of q/k/v when present (phi3) */
    bool fused_gate_up;      /* ffn_up holds [gate; up], no ffn_gate (phi3) */
    bool embd_scale_sqrt;    /* embeddings times sqrt(n_embd) (gemma) */
    bool scale_q;            /* llama.cpp scales q by attn_scale before attention (gemma3, phi3) */
    /* Which layers use the sliding window when the file sets one:
     * 0: none, 1: every layer, n > 1: layers with il % n < n - 1. */
    int swa_pattern;
    float rope_base_swa;     /* RoPE base of window layers (0: same as global) */
} llm_arch;

/* The registry (arch.c). NULL + error naming the architecture when unknown. */
const llm_arch *llm_arch_find(const char *name);
/* Fills hp from "<arch>.*" metadata; errors name the missing/bad key. */
zf_status llm_read_hparams(const zf_gguf *g, const llm_arch *a, zf_llm_hparams *hp);
/* True when layer il uses the sliding window. */
bool llm_layer_is_swa(const llm_arch *a, const zf_llm_hparams *hp, int64_t il);

/* Weights of one block. Matrices are [n_out, n_in] (GGUF ne reversed), used
 * as y = x W^T; vectors [n]. NULL when absent (optional ones). */
typedef struct llm_layer {
    zf_tensor *attn_norm;
    zf_tensor *wq, *wk, *wv, *wqkv, *wo;
    zf_tensor *bq, *bk, *bv;
    zf_tensor *q_norm, *k_norm;   /* [head_dim] */
    zf_tensor *attn_post_norm;
    zf_tensor *ffn_norm;
    zf_tensor *w_gate, *w_up, *w_down;
    zf_tensor *ffn_post_norm;
    bool swa;
    float rope_base, rope_scale;
} llm_layer;

struct zf_llm_model {
    zf_gguf *gguf;
    const llm_arch *arch;
    zf_llm_hparams hp;
    zf_engine *engine;     /* own CPU engine (its thread count) */
    zf_ctx *wctx;          /* weight tensors (views of the mapping, or dequantized copies) */
    zf_tensor *tok_embd;   /* [n_vocab, n_embd] */
    zf_tensor *output_norm;
    zf_tensor *output;     /* [n_vocab, n_embd]; == tok_embd when tied */
    zf_tensor *rope_freqs; /* optional [n_rot/2] frequency divisors */
    llm_layer *layers;
    zf_tokenizer *tok;
    uint64_t extra_bytes;
    bool has_swa;
};

/* ---- tokenizer glue (tokens.c) ---- */
zf_status llm_tokenizer_load(zf_llm_model *m);
void llm_tokenizer_free(zf_llm_model *m);
bool llm_adds_bos(const zf_llm_model *m);

/* True when llm_linear uses weights of this dtype in place (forward.c). */
bool llm_linear_native(zf_dtype t);

/* ---- KV cache (kv_cache.c) ----
 * Per layer K [cap, n_head_kv, head_dim] and V [cap, n_head_kv, head_dim_v]
 * in kv_type. Full-attention layers: cap = n_ctx, slot = position.
 * Window layers with window < n_ctx: a ring of cap = window slots, slot =
 * position % window. */
typedef struct llm_kv_layer {
    zf_tensor *k, *v;
    int64_t cap;
    bool ring;
} llm_kv_layer;

typedef struct llm_kv {
    zf_ctx *ctx;
    llm_kv_layer *layers;
    int64_t n_layer;
    int64_t n_ctx;
    zf_dtype type;
    uint64_t bytes;
} llm_kv;

zf_status llm_kv_init(llm_kv *kv, const zf_llm_model *m, int64_t n_ctx, zf_dtype type);
void llm_kv_free(llm_kv *kv);

struct zf_llm_session {
    zf_llm_model *m;
    llm_kv kv;
    zf_ctx *step;          /* per-forward scratch, reset every call */
    int64_t n_ctx, n_batch;
    int32_t *tokens;       /* [n_ctx] history */
    int64_t n_past;
    float *logits;         /* [logits_cap rows, n_vocab] */
    int64_t logits_rows;
    /* Random draws used by this session's generate calls so far: the next
     * call continues the sampler's stream from here, so two replies with
     * the same seed do not reuse the same random numbers. Reset with the
     * session. */
    uint64_t sample_draws;
    int64_t dump_step;     /* ZF_LLM_DUMP: forward calls since the reset (dump.c) */
};

/* ---- forward pass (forward.c) ----
 * Runs tokens[0..n) at positions n_past.. (n <= n_batch), updates the KV
 * cache, and writes logits of the last token (or all n when all_logits) to
 * out ([rows, n_vocab]). Does not change s->n_past. */
zf_status llm_forward(zf_llm_session *s, const int32_t *tokens, int64_t n, bool all_logits, float *out);

/* ---- intermediate dumps (dump.c), ZF_LLM_DUMP=DIR ----
 * llm_dump_step starts a forward call (its step number, its directory); llm_dump writes t as
 * NAME-il (il < 0: NAME) in llama.cpp's naming. No-ops when the variable is
 * unset. */
bool llm_dump_on(void);
void llm_dump_step(zf_llm_session *s);
void llm_dump(zf_llm_session *s, const char *name, int64_t il, const zf_tensor *t);
/* ZF_LLM_INJECT=DIR (a ggml_trace.py directory): llm_inject overwrites y,
 * the product with GGUF weight blk.<il>.<wname>.weight (il < 0:
 * <wname>.weight), with llama.cpp's ("mm:<weight name>" of the same step),
 * so that the dumps compare everything but the matmuls. An error when the
 * file is missing or its size differs. */
bool llm_inject_on(void);
zf_status llm_inject(zf_llm_session *s, zf_ctx *c, const char *wname, int64_t il, zf_tensor *y);

/* y = x W^T (+ b): x [T, n_in], W [n_out, n_in] (f32, f16 or a block type) -> [T, n_out]. */
zf_tensor *llm_linear(zf_ctx *ctx, zf_tensor *x, zf_tensor *w, zf_tensor *b);

#endif
