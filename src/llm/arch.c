/* The architecture registry: one descriptor per model family, and reading
 * the family's hyperparameters from GGUF metadata ("<arch>.<key>", key names
 * as in gguf-py's constants.py Keys.LLM / Keys.Attention / Keys.Rope). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "llm/llm_internal.h"

static const llm_arch k_archs[] = {
    /* Llama 1/2/3, SmolLM, TinyLlama, and Mistral files converted as "llama". */
    {.name = "llama", .rope = LLM_ROPE_NORM, .act = LLM_ACT_SILU},
    /* Mistral with its sliding window on every layer when the file sets one. */
    {.name = "mistral", .rope = LLM_ROPE_NORM, .act = LLM_ACT_SILU, .swa_pattern = 1},
    /* Gemma 3: 5 sliding-window layers (local RoPE base 10000) then 1 global
     * layer; QK-norm; norms before and after attention and FFN; GELU(tanh)
     * gated FFN; embeddings scaled by sqrt(n_embd). llama.cpp's converter
     * stores the norm weights as (1 + w), so they multiply directly. */
    {.name = "gemma3",
     .rope = LLM_ROPE_NEOX,
     .act = LLM_ACT_GELU_TANH,
     .qk_norm = true,
     .post_norms = true,
     .embd_scale_sqrt = true,
     .scale_q = true,
     .swa_pattern = 6,
     .rope_base_swa = 10000.0f},
    {.name = "qwen2", .rope = LLM_ROPE_NEOX, .act = LLM_ACT_SILU, .qkv_bias = true},
    {.name = "qwen3", .rope = LLM_ROPE_NEOX, .act = LLM_ACT_SILU, .qk_norm = true},
    /* Phi-3: fused QKV and fused gate/up projections. Its sliding window is
     * ignored, as llama.cpp does today ("Phi SWA is currently disabled"),
     * so that both give the same results on the same file. */
    {.name = "phi3",
     .rope = LLM_ROPE_NEOX,
     .act = LLM_ACT_SILU,
     .fused_qkv = true,
     .fused_gate_up = true,
     .scale_q = true},
};
#define N_ARCHS (sizeof k_archs / sizeof k_archs[0])

const char *zf_llm_supported_archs(void) { return "llama, mistral, gemma3, qwen2, qwen3, phi3"; }

const llm_arch *llm_arch_find(const char *name) {
    for (size_t i = 0; i < N_ARCHS; i++)
        if (strcmp(k_archs[i].name, name) == 0) return &k_archs[i];
    zf_set_error(ZF_ERR_UNSUPPORTED, "unknown architecture '%s' (supported: %s)", name, zf_llm_supported_archs());
    return NULL;
}

bool llm_layer_is_swa(const llm_arch *a, const zf_llm_hparams *hp, int64_t il) {
    if (hp->sliding_window <= 0 || a->swa_pattern == 0) return false;
    if (a->swa_pattern == 1) return true;
    return il % a->swa_pattern < a->swa_pattern - 1;
}

/* "<arch>.<key>" into buf. */
static const char *akey(char *buf, size_t n, const llm_arch *a, const char *key) {
    snprintf(buf, n, "%s.%s", a->name, key);
    return buf;
}

/* Integer key: required keys fail when absent; optional ones keep *out. */
static zf_status get_int(const zf_gguf *g, const llm_arch *a, const char *key, bool required, int64_t lo,
                         int64_t hi, int64_t *out) {
    char k[128];
    akey(k, sizeof k, a, key);
    if (zf_gguf_find_key(g, k) < 0) {
        if (required) return zf_set_error(ZF_ERR_FORMAT, "GGUF metadata lacks '%s' (needed by %s)", k, a->name);
        return ZF_OK;
    }
    int64_t v;
    if (zf_gguf_get_i64(g, k, &v) != ZF_OK)
        return zf_set_error(ZF_ERR_FORMAT, "GGUF metadata '%s' is not an integer", k);
    if (v < lo || v > hi)
        return zf_set_error(ZF_ERR_FORMAT, "GGUF metadata '%s' = %lld is out of range [%lld, %lld]", k, (long long)v,
                            (long long)lo, (long long)hi);
    *out = v;
    return ZF_OK;
}

static zf_status get_float(const zf_gguf *g, const llm_arch *a, const char *key, float *out) {
    char k[128];
    akey(k, sizeof k, a, key);
    if (zf_gguf_find_key(g, k) < 0) return ZF_OK;
    double v;
    if (zf_gguf_get_f64(g, k, &v) != ZF_OK || !isfinite(v))
        return zf_set_error(ZF_ERR_FORMAT, "GGUF metadata '%s' is not a finite float", k);
    *out = (float)v;
    return ZF_OK;
}

#define TRY(x)                          \
    do {                                \
        zf_status st_ = (x);            \
        if (st_ != ZF_OK) return st_;   \
    } while (0)

zf_status llm_read_hparams(const zf_gguf *g, const llm_arch *a, zf_llm_hparams *hp) {
    memset(hp, 0, sizeof *hp);
    snprintf(hp->arch, sizeof hp->arch, "%s", a->name);
    zf_gguf_str s;
    if (zf_gguf_find_key(g, "general.name") >= 0 && zf_gguf_get_str(g, "general.name", &s) == ZF_OK)
        snprintf(hp->name, sizeof hp->name, "%.*s", (int)(s.len < 95 ? s.len : 95), s.ptr);
    const int64_t BIG = (int64_t)1 << 24;
    hp->n_ctx_train = 2048;
    TRY(get_int(g, a, "context_length", false, 1, (int64_t)1 << 30, &hp->n_ctx_train));
    TRY(get_int(g, a, "embedding_length", true, 1, BIG, &hp->n_embd));
    TRY(get_int(g, a, "block_count", true, 1, 4096, &hp->n_layer));
    TRY(get_int(g, a, "feed_forward_length", true, 1, BIG, &hp->n_ff));
    TRY(get_int(g, a, "attention.head_count", true, 1, 4096, &hp->n_head));
    hp->n_head_kv = hp->n_head;
    TRY(get_int(g, a, "attention.head_count_kv", false, 1, 4096, &hp->n_head_kv));
    if (hp->n_head % hp->n_head_kv != 0)
        return zf_set_error(ZF_ERR_FORMAT, "%s: head_count %lld is not a multiple of head_count_kv %lld", a->name,
                            (long long)hp->n_head, (long long)hp->n_head_kv);
    hp->head_dim = hp->n_embd / hp->n_head;
    TRY(get_int(g, a, "attention.key_length", false, 1, 65536, &hp->head_dim));
    hp->head_dim_v = hp->head_dim;
    TRY(get_int(g, a, "attention.value_length", false, 1, 65536, &hp->head_dim_v));
    if (hp->head_dim < 2 || hp->head_dim_v < 1)
        return zf_set_error(ZF_ERR_FORMAT, "%s: head dimension %lld is too small", a->name, (long long)hp->head_dim);
    hp->n_rot = hp->head_dim;
    TRY(get_int(g, a, "rope.dimension_count", false, 0, hp->head_dim, &hp->n_rot));
    if (hp->n_rot % 2 != 0)
        return zf_set_error(ZF_ERR_FORMAT, "%s: rope.dimension_count %lld is odd", a->name, (long long)hp->n_rot);
    hp->norm_eps = 1e-5f;
    TRY(get_float(g, a, "attention.layer_norm_rms_epsilon", &hp->norm_eps));
    hp->rope_base = 10000.0f;
    TRY(get_float(g, a, "rope.freq_base", &hp->rope_base));
    hp->rope_base_swa = a->rope_base_swa > 0 ? a->rope_base_swa : hp->rope_base;
    float factor = 0.0f;
    TRY(get_float(g, a, "rope.scaling.factor", &factor));
    if (factor < 0) /* get_float rejects non-finite values; 0: no scaling, as llama.cpp reads it */
        return zf_set_error(ZF_ERR_FORMAT, "%s: rope.scaling.factor %g must be >= 0", a->name,
                            (double)factor);
    hp->rope_scale = factor > 0 ? 1.0f / factor : 1.0f;
    char k[128];
    if (zf_gguf_find_key(g, akey(k, sizeof k, a, "rope.scaling.type")) >= 0 && zf_gguf_get_str(g, k, &s) == ZF_OK &&
        !(s.len == 6 && memcmp(s.ptr, "linear", 6) == 0) && !(s.len == 4 && memcmp(s.ptr, "none", 4) == 0))
        return zf_set_error(ZF_ERR_UNSUPPORTED, "%s: rope scaling type '%.*s' is not supported (linear only)",
                            a->name, (int)(s.len < 32 ? s.len : 32), s.ptr);
    TRY(get_int(g, a, "attention.sliding_window", false, 0, (int64_t)1 << 30, &hp->sliding_window));
    TRY(get_float(g, a, "final_logit_softcapping", &hp->logit_softcap));
    if (hp->logit_softcap < 0) /* 0: no cap */
        return zf_set_error(ZF_ERR_FORMAT, "%s: final_logit_softcapping %g must be >= 0", a->name,
                            (double)hp->logit_softcap);
    if (hp->rope_base <= 0 || hp->norm_eps <= 0)
        return zf_set_error(ZF_ERR_FORMAT, "%s: rope.freq_base and layer_norm_rms_epsilon must be positive",
                            a->name);
    hp->attn_scale = 1.0f / sqrtf((float)hp->head_dim);
    /* Gemma 3 27B scales queries by 1/sqrt(n_embd/n_head) (llama.cpp, the
     * only 62-layer Gemma 3). */
    if (strcmp(a->name, "gemma3") == 0 && hp->n_layer == 62)
        hp->attn_scale = 1.0f / sqrtf((float)(hp->n_embd / hp->n_head));
    hp->embd_scale = a->embd_scale_sqrt ? sqrtf((float)hp->n_embd) : 1.0f;
    return ZF_OK;
}
