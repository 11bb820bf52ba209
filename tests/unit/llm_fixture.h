/* Tiny random-weight GGUF models for the LLM unit tests, written with the
 * GGUF writer: a SentencePiece-style vocabulary of 3 specials, 256 byte
 * tokens and a few chat control tokens (every text falls back to bytes),
 * and f32 (or Q8_0) weights drawn from a fixed-seed generator. */
#ifndef ZF_TEST_LLM_FIXTURE_H
#define ZF_TEST_LLM_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zerfoo/gguf.h"
#include "zerfoo/llm.h"
#include "zerfoo/quant.h"

typedef struct fx_cfg {
    const char *arch;      /* "llama", "gemma3", "qwen2", "qwen3", "phi3", "mistral" */
    int64_t E, H, Hkv, D, F, L;
    int64_t window;        /* attention.sliding_window, 0: none */
    bool q8;               /* matrices stored as Q8_0 */
    bool tied;             /* no output.weight */
    const char *chat_template; /* tokenizer.chat_template, NULL: none */
    const char *skip_tensor;   /* leave this tensor out (error tests) */
} fx_cfg;

static const char *const fx_controls[] = {"<start_of_turn>", "<end_of_turn>", "<|im_start|>", "<|im_end|>"};
#define FX_N_CONTROLS 4
#define FX_VOCAB (3 + 256 + FX_N_CONTROLS)

static fx_cfg fx_default(const char *arch) {
    fx_cfg c = {.arch = arch, .E = 32, .H = 4, .Hkv = 2, .D = 8, .F = 64, .L = 2};
    return c;
}

static uint64_t fx_rng_state;
static double fx_randn(void) {
    /* xorshift64* + Box-Muller: deterministic weights for the tests */
    double u[2];
    for (int i = 0; i < 2; i++) {
        fx_rng_state ^= fx_rng_state >> 12;
        fx_rng_state ^= fx_rng_state << 25;
        fx_rng_state ^= fx_rng_state >> 27;
        u[i] = ((fx_rng_state * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
    }
    return sqrt(-2.0 * log(1.0 - u[0])) * cos(6.283185307179586 * u[1]);
}

/* Tensor data must live until the writer writes: kept here, freed after. */
static void *fx_bufs[512];
static int fx_nbufs;
static void fx_free_bufs(void) {
    while (fx_nbufs > 0) free(fx_bufs[--fx_nbufs]);
}

/* Adds tensor `name` with zf shape [rows, cols] (cols 0: a vector of rows). */
static bool fx_tensor(zf_gguf_writer *w, const fx_cfg *c, const char *name, int64_t rows, int64_t cols, bool norm) {
    if (c->skip_tensor && strcmp(c->skip_tensor, name) == 0) return true;
    int64_t n = cols ? rows * cols : rows;
    float *v = malloc((size_t)n * sizeof *v);
    if (!v) return false;
    double sc = cols ? 1.0 / sqrt((double)cols) : 0.1;
    for (int64_t i = 0; i < n; i++) v[i] = (float)((norm ? 1.0 : 0.0) + sc * fx_randn());
    int64_t ne[2] = {cols ? cols : rows, cols ? rows : 1};
    zf_status st;
    if (fx_nbufs + 2 > (int)(sizeof fx_bufs / sizeof fx_bufs[0])) {
        free(v);
        return false;
    }
    fx_bufs[fx_nbufs++] = v;
    if (cols && c->q8 && cols % 32 == 0) {
        void *q = malloc(zf_quant_row_size(ZF_Q8_0, n));
        if (!q) return false;
        fx_bufs[fx_nbufs++] = q;
        st = zf_quantize(ZF_Q8_0, v, q, n);
        if (st == ZF_OK) st = zf_gguf_writer_add_tensor(w, name, ZF_Q8_0, 2, ne, q);
    } else {
        st = zf_gguf_writer_add_tensor(w, name, ZF_F32, cols ? 2 : 1, ne, v);
    }
    return st == ZF_OK;
}

/* Writes the model to a new temporary file; its path goes to `path`. */
static bool fx_write(const fx_cfg *c, char *path, size_t n) {
    snprintf(path, n, "/tmp/zf_llm_fx_%ld_%s_XXXXXX", (long)getpid(), c->arch);
    int fd = mkstemp(path);
    if (fd < 0) return false;
    close(fd);
    fx_rng_state = 0x9E3779B97F4A7C15ull ^ (uint64_t)c->L * 77 ^ (uint64_t)c->E;
    zf_gguf_writer *w = zf_gguf_writer_new();
    char k[128];
#define AK(s) (snprintf(k, sizeof k, "%s." s, c->arch), k)
    bool ok = w && zf_gguf_writer_set_str(w, "general.architecture", c->arch) == ZF_OK;
    ok = ok && zf_gguf_writer_set_str(w, "general.name", "zerfoo test model") == ZF_OK;
    ok = ok && zf_gguf_writer_set_u32(w, AK("context_length"), 256) == ZF_OK;
    ok = ok && zf_gguf_writer_set_u32(w, AK("embedding_length"), (uint32_t)c->E) == ZF_OK;
    ok = ok && zf_gguf_writer_set_u32(w, AK("block_count"), (uint32_t)c->L) == ZF_OK;
    ok = ok && zf_gguf_writer_set_u32(w, AK("feed_forward_length"), (uint32_t)c->F) == ZF_OK;
    ok = ok && zf_gguf_writer_set_u32(w, AK("attention.head_count"), (uint32_t)c->H) == ZF_OK;
    ok = ok && zf_gguf_writer_set_u32(w, AK("attention.head_count_kv"), (uint32_t)c->Hkv) == ZF_OK;
    ok = ok && zf_gguf_writer_set_u32(w, AK("attention.key_length"), (uint32_t)c->D) == ZF_OK;
    ok = ok && zf_gguf_writer_set_u32(w, AK("attention.value_length"), (uint32_t)c->D) == ZF_OK;
    ok = ok && zf_gguf_writer_set_f32(w, AK("attention.layer_norm_rms_epsilon"), 1e-6f) == ZF_OK;
    ok = ok && zf_gguf_writer_set_f32(w, AK("rope.freq_base"), 10000.0f) == ZF_OK;
    if (c->window) ok = ok && zf_gguf_writer_set_u32(w, AK("attention.sliding_window"), (uint32_t)c->window) == ZF_OK;
#undef AK
    /* vocabulary: <unk> <s> </s>, <0x00>..<0xFF>, control tokens */
    static char bytes[256][8];
    const char *toks[FX_VOCAB];
    float scores[FX_VOCAB];
    int32_t types[FX_VOCAB];
    toks[0] = "<unk>", toks[1] = "<s>", toks[2] = "</s>";
    types[0] = 2, types[1] = 3, types[2] = 3;
    for (int i = 0; i < 256; i++) {
        snprintf(bytes[i], sizeof bytes[i], "<0x%02X>", i);
        toks[3 + i] = bytes[i];
        types[3 + i] = 6;
    }
    for (int i = 0; i < FX_N_CONTROLS; i++) {
        toks[259 + i] = fx_controls[i];
        types[259 + i] = 3;
    }
    for (int i = 0; i < FX_VOCAB; i++) scores[i] = 0.0f;
    ok = ok && zf_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama") == ZF_OK;
    ok = ok && zf_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, FX_VOCAB) == ZF_OK;
    ok = ok && zf_gguf_writer_set_arr(w, "tokenizer.ggml.scores", ZF_GGUF_FLOAT32, scores, FX_VOCAB) == ZF_OK;
    ok = ok && zf_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", ZF_GGUF_INT32, types, FX_VOCAB) == ZF_OK;
    ok = ok && zf_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1) == ZF_OK;
    ok = ok && zf_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2) == ZF_OK;
    ok = ok && zf_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0) == ZF_OK;
    ok = ok && zf_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", true) == ZF_OK;
    ok = ok && zf_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", false) == ZF_OK;
    if (c->chat_template) ok = ok && zf_gguf_writer_set_str(w, "tokenizer.chat_template", c->chat_template) == ZF_OK;
    bool phi3 = strcmp(c->arch, "phi3") == 0, gemma = strcmp(c->arch, "gemma3") == 0;
    bool qkn = gemma || strcmp(c->arch, "qwen3") == 0, bias = strcmp(c->arch, "qwen2") == 0;
    int64_t E = c->E, qo = c->H * c->D, kvo = c->Hkv * c->D;
    ok = ok && fx_tensor(w, c, "token_embd.weight", FX_VOCAB, E, false);
    ok = ok && fx_tensor(w, c, "output_norm.weight", E, 0, true);
    if (!c->tied) ok = ok && fx_tensor(w, c, "output.weight", FX_VOCAB, E, false);
    char nm[96];
    for (int64_t l = 0; ok && l < c->L; l++) {
#define T(s, r, cc, norm) (snprintf(nm, sizeof nm, "blk.%lld." s, (long long)l), fx_tensor(w, c, nm, r, cc, norm))
        ok = ok && T("attn_norm.weight", E, 0, true);
        if (phi3) {
            ok = ok && T("attn_qkv.weight", qo + 2 * kvo, E, false);
        } else {
            ok = ok && T("attn_q.weight", qo, E, false) && T("attn_k.weight", kvo, E, false) &&
                 T("attn_v.weight", kvo, E, false);
        }
        if (bias) ok = ok && T("attn_q.bias", qo, 0, false) && T("attn_k.bias", kvo, 0, false) && T("attn_v.bias", kvo, 0, false);
        if (qkn) ok = ok && T("attn_q_norm.weight", c->D, 0, true) && T("attn_k_norm.weight", c->D, 0, true);
        ok = ok && T("attn_output.weight", E, qo, false);
        if (gemma) ok = ok && T("post_attention_norm.weight", E, 0, true) && T("post_ffw_norm.weight", E, 0, true);
        ok = ok && T("ffn_norm.weight", E, 0, true);
        if (phi3) {
            ok = ok && T("ffn_up.weight", 2 * c->F, E, false);
        } else {
            ok = ok && T("ffn_gate.weight", c->F, E, false) && T("ffn_up.weight", c->F, E, false);
        }
        ok = ok && T("ffn_down.weight", E, c->F, false);
#undef T
    }
    ok = ok && zf_gguf_writer_write(w, path) == ZF_OK;
    zf_gguf_writer_free(w);
    fx_free_bufs();
    if (!ok) unlink(path);
    return ok;
}

/* Loads a fixture model (and removes its file, which stays mapped). */
static zf_llm_model *fx_load(const fx_cfg *c, bool f32_weights) {
    char path[256];
    if (!fx_write(c, path, sizeof path)) return NULL;
    zf_llm_load_params lp = {.n_threads = 2, .f32_weights = f32_weights};
    zf_llm_model *m = zf_llm_load(path, &lp);
    unlink(path);
    return m;
}

#endif
