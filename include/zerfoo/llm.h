/* zerfoo — LLM inference from GGUF files.
 *
 *   zf_llm_model    weights (mmap'd, used in place) + hyperparameters + tokenizer,
 *                   built by the architecture registry from the file's metadata.
 *   zf_llm_session  one conversation: KV cache, token history, scratch memory.
 *   zf_sampler      turns logits into a token (greedy, temperature, top-k/p,
 *                   min-p, penalties) with a counter-based RNG.
 *
 * Ownership: a session borrows its model (free sessions first). Pointers
 * returned by getters live as long as the object they came from. Every
 * function that can fail returns NULL or a status and sets zf_last_error().
 *
 * Positions and tokens are int32 ids in [0, n_vocab). Logits are f32 rows of
 * n_vocab values. */
#ifndef ZERFOO_LLM_H
#define ZERFOO_LLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zerfoo/dtype.h"
#include "zerfoo/error.h"
#include "zerfoo/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- model ---- */

typedef struct zf_llm_model zf_llm_model;

/* Hyperparameters as read from the GGUF metadata (<arch>.* keys). */
typedef struct zf_llm_hparams {
    char arch[32];         /* general.architecture */
    char name[96];         /* general.name ("" when absent) */
    int64_t n_vocab;
    int64_t n_ctx_train;   /* <arch>.context_length */
    int64_t n_embd;        /* embedding_length */
    int64_t n_layer;       /* block_count */
    int64_t n_head;        /* attention.head_count */
    int64_t n_head_kv;     /* attention.head_count_kv (default n_head) */
    int64_t head_dim;      /* attention.key_length (default n_embd / n_head) */
    int64_t head_dim_v;    /* attention.value_length (default head_dim) */
    int64_t n_ff;          /* feed_forward_length */
    int64_t n_rot;         /* rope.dimension_count (default head_dim) */
    float norm_eps;        /* attention.layer_norm_rms_epsilon */
    float rope_base;       /* rope.freq_base of full-attention layers */
    float rope_base_swa;   /* RoPE base of sliding-window layers */
    float rope_scale;      /* 1 / rope.scaling.factor (linear scaling), 1 when none */
    int64_t sliding_window; /* attention.sliding_window, 0 when none */
    float logit_softcap;   /* final_logit_softcapping, 0 when none */
    float attn_scale;      /* multiplies q·k (1/sqrt(head_dim) unless the family says otherwise) */
    float embd_scale;      /* multiplies token embeddings (sqrt(n_embd) for Gemma, else 1) */
    bool tied_output;      /* lm head = token_embd */
} zf_llm_hparams;

typedef struct zf_llm_load_params {
    int n_threads;   /* CPU threads (0: ZF_NUM_THREADS or online CPUs) */
    bool f32_weights; /* dequantize every weight to f32 at load (test aid; uses more memory) */
} zf_llm_load_params;

/* Opens `path`, checks the architecture and every tensor's presence, type
 * and shape. Errors name the file, the key or tensor, and the architecture
 * ("unknown architecture 'xyz' (supported: llama, gemma3, ...)").
 * params NULL: defaults. */
zf_llm_model *zf_llm_load(const char *path, const zf_llm_load_params *params);
void zf_llm_free(zf_llm_model *m); /* NULL is fine */

const zf_llm_hparams *zf_llm_hparams_of(const zf_llm_model *m);
/* Comma-separated list of the architectures the registry knows. */
const char *zf_llm_supported_archs(void);
/* The underlying file (metadata, tensors); owned by the model. */
const zf_gguf *zf_llm_gguf(const zf_llm_model *m);
/* Bytes of the GGUF file and bytes of weights held in memory outside it
 * (dequantized copies); 0 extra when weights are used in place. */
uint64_t zf_llm_file_bytes(const zf_llm_model *m);
uint64_t zf_llm_extra_weight_bytes(const zf_llm_model *m);

/* Tokenizer wrappers (built from the file's tokenizer.* metadata). */
/* Encodes text; add_special adds BOS (and EOS) as the model asks; special
 * tokens written in the text (<start_of_turn> ...) are parsed as tokens.
 * Returns the token count (which may exceed cap: call again with more room),
 * or -1 on error. */
int64_t zf_llm_tokenize(const zf_llm_model *m, const char *text, size_t len, bool add_special, int32_t *out,
                        int64_t cap);
/* Text bytes of one token (control tokens give ""), not NUL-terminated. */
const char *zf_llm_token_text(const zf_llm_model *m, int32_t tok, size_t *len);
int32_t zf_llm_token_bos(const zf_llm_model *m); /* -1 when none */
/* True for end-of-generation tokens (EOS, EOT, <end_of_turn>, <|im_end|> ...). */
bool zf_llm_token_is_eog(const zf_llm_model *m, int32_t tok);

/* ---- session (KV cache) ---- */

typedef struct zf_llm_session zf_llm_session;

typedef struct zf_llm_session_params {
    int64_t n_ctx;    /* context length in tokens (0: min(n_ctx_train, 4096)) */
    zf_dtype kv_type; /* ZF_F16 (default) or ZF_F32 */
    int64_t n_batch;  /* most tokens per forward pass during prefill (0: 512) */
} zf_llm_session_params;

/* Start from these (n_ctx 0, kv_type ZF_F16, n_batch 0) and change fields. */
zf_llm_session_params zf_llm_session_defaults(void);
/* KV cache: full-attention layers hold n_ctx positions, sliding-window layers
 * min(window, n_ctx). params NULL: defaults. */
zf_llm_session *zf_llm_session_new(zf_llm_model *m, const zf_llm_session_params *params);
void zf_llm_session_free(zf_llm_session *s);
/* Empties the KV cache and the token history and restarts the session's
 * random stream (successive generate calls continue it otherwise). */
void zf_llm_session_reset(zf_llm_session *s);
int64_t zf_llm_session_n_past(const zf_llm_session *s); /* tokens in the cache */
int64_t zf_llm_session_n_ctx(const zf_llm_session *s);
const int32_t *zf_llm_session_tokens(const zf_llm_session *s); /* n_past ids */
uint64_t zf_llm_session_kv_bytes(const zf_llm_session *s);

/* Runs the model on `n` tokens appended after the cached ones (split into
 * n_batch pieces) and stores logits: of every token when all_logits, else of
 * the last one only. *logits (may be NULL) gets a pointer to them, [n or 1, n_vocab],
 * valid until the next call. ZF_ERR_INVALID_ARG when n_past + n > n_ctx
 * (nothing is evaluated then). */
zf_status zf_llm_eval(zf_llm_session *s, const int32_t *tokens, int64_t n, bool all_logits, const float **logits);
/* Drops cached tokens from position n_keep on (n_keep <= n_past). */
zf_status zf_llm_session_truncate(zf_llm_session *s, int64_t n_keep);

/* ---- sampler ---- */

typedef struct zf_sampler_params {
    float temperature;       /* <= 0: greedy (argmax) */
    int32_t top_k;           /* 0: off */
    float top_p;             /* 1: off */
    float min_p;             /* 0: off */
    float repeat_penalty;    /* 1: off (llama.cpp rule: logit>0 ? /p : *p) */
    int32_t penalty_last_n;  /* tokens of history the penalties look at (0: none, -1: all) */
    float presence_penalty;  /* 0: off */
    float frequency_penalty; /* 0: off */
    uint64_t seed;
} zf_sampler_params;

zf_sampler_params zf_sampler_defaults(void); /* temperature 0.8, top_k 40, top_p 0.95, min_p 0.05 */
typedef struct zf_sampler zf_sampler;
zf_sampler *zf_sampler_new(const zf_sampler_params *p, int64_t n_vocab);
void zf_sampler_free(zf_sampler *s);
/* Forgets the history and restarts the random stream. */
void zf_sampler_reset(zf_sampler *s);
/* The RNG counter of the next draw: saving it and restoring it into a new
 * sampler with the same seed continues the stream instead of repeating it
 * (a session does this between replies). */
uint64_t zf_sampler_draws(const zf_sampler *s);
void zf_sampler_set_draws(zf_sampler *s, uint64_t next_draw);
/* Adds a token to the history the penalties look at. */
void zf_sampler_accept(zf_sampler *s, int32_t tok);
/* Picks a token from one logits row (n_vocab floats, not modified). -1 on
 * error (non-finite logits everywhere). Draw i of a sampler uses RNG counter
 * i: the same seed gives the same tokens. */
int32_t zf_sampler_sample(zf_sampler *s, const float *logits);

/* ---- chat templates ---- */

typedef enum zf_chat_template {
    ZF_CHAT_NONE = 0, /* plain concatenation: "role: content\n" */
    ZF_CHAT_CHATML,   /* <|im_start|>role\n...<|im_end|>\n (Qwen, SmolLM2) */
    ZF_CHAT_GEMMA,    /* <start_of_turn>user\n...<end_of_turn>\n, "assistant" -> "model" */
    ZF_CHAT_LLAMA3,   /* <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|> */
    ZF_CHAT_PHI3,     /* <|user|>\n...<|end|>\n<|assistant|>\n */
    ZF_CHAT_MISTRAL,  /* [INST] ... [/INST] */
} zf_chat_template;

typedef struct zf_chat_msg {
    const char *role; /* "system", "user" or "assistant" */
    const char *content;
} zf_chat_msg;

/* The family of tokenizer.chat_template when present (recognized by its
 * markers), else a guess from the architecture. */
zf_chat_template zf_chat_template_detect(const zf_llm_model *m);
const char *zf_chat_template_name(zf_chat_template t);
/* Formats messages (plus the assistant prefix when add_assistant) into buf
 * (NUL-terminated when cap > 0). Returns the full length, which may be >=
 * cap: call again with more room. BOS is not included (the tokenizer adds it). */
size_t zf_chat_format(zf_chat_template t, const zf_chat_msg *msgs, int n_msgs, bool add_assistant, char *buf,
                      size_t cap);

/* ---- generation ---- */

/* Called with each new piece of text (UTF-8, possibly a partial character
 * sequence held back until complete). Return nonzero to stop. */
typedef int (*zf_llm_stream_fn)(void *user, const char *text, size_t len);

typedef enum zf_llm_stop_reason {
    ZF_STOP_LENGTH = 0, /* max_tokens reached */
    ZF_STOP_EOG,        /* the model ended its turn */
    ZF_STOP_STRING,     /* a stop string appeared */
    ZF_STOP_CALLBACK,   /* the stream callback asked to stop */
    ZF_STOP_CONTEXT,    /* the context is full */
} zf_llm_stop_reason;

typedef struct zf_llm_gen_params {
    int64_t max_tokens;          /* new tokens at most (<= 0: until EOG or a full context) */
    zf_sampler_params sampling;
    const char *const *stop;     /* stop strings (not included in the output) */
    int n_stop;
    zf_llm_stream_fn on_text;
    void *user;
    bool ignore_eog;             /* keep going past end-of-generation tokens */
} zf_llm_gen_params;

zf_llm_gen_params zf_llm_gen_defaults(void); /* 256 tokens, zf_sampler_defaults() */

typedef struct zf_llm_gen_stats {
    int64_t n_prompt;   /* prompt tokens evaluated (cached ones not counted) */
    int64_t n_gen;      /* tokens generated */
    double prompt_s;    /* seconds of prefill */
    double gen_s;       /* seconds of decode */
    zf_llm_stop_reason stop;
} zf_llm_gen_stats;

/* Appends `prompt` tokens to the session (reusing the cached prefix when the
 * history starts with them) and generates. out_tokens (may be NULL) gets up
 * to out_cap generated ids. */
zf_status zf_llm_generate_tokens(zf_llm_session *s, const int32_t *prompt, int64_t n_prompt,
                                 const zf_llm_gen_params *p, int32_t *out_tokens, int64_t out_cap,
                                 zf_llm_gen_stats *stats);
/* Completion of raw text (tokenized with the model's BOS rule). */
zf_status zf_llm_generate(zf_llm_session *s, const char *prompt, const zf_llm_gen_params *p,
                          zf_llm_gen_stats *stats);
/* One chat turn: formats the conversation with the model's template, reuses
 * the cached prefix, streams the reply. The reply text is returned in
 * *reply (malloc'd, caller frees) when reply is not NULL. */
zf_status zf_llm_chat(zf_llm_session *s, const zf_chat_msg *msgs, int n_msgs, const zf_llm_gen_params *p,
                      char **reply, zf_llm_gen_stats *stats);

/* ---- evaluation ---- */

/* Perplexity of `tokens` in windows of n_ctx tokens (each window scored on
 * its second half, as llama.cpp's perplexity tool does: the first n_ctx/2
 * tokens give context). Returns the perplexity, NaN on error; *n_scored gets
 * the number of scored tokens. */
double zf_llm_perplexity(zf_llm_session *s, const int32_t *tokens, int64_t n, int64_t n_ctx, int64_t *n_scored);

#ifdef __cplusplus
}
#endif
#endif
