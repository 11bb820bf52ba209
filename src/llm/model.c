/* Loading a model: open the GGUF file, pick the architecture, read the
 * hyperparameters, and bind every weight tensor by name with its shape
 * checked. Weights are views of the mapped file; a weight whose type the
 * matmul path cannot use directly is dequantized to f32 once, here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/llm_internal.h"
#include "zerfoo/ops.h"
#include "zerfoo/quant.h"

typedef struct loader {
    zf_llm_model *m;
    bool f32_weights;
} loader;

/* How a weight is used, which decides whether it stays in its stored type. */
enum { USE_F32, USE_LINEAR, USE_ROWS };

/* Binds tensor `name` with zf shape shape[0..ndim) (GGUF ne reversed).
 * Missing: NULL, and an error when required. USE_LINEAR weights stay in
 * their stored type when llm_linear takes it, USE_ROWS weights (embedding
 * rows, dequantized per lookup) always do; others become f32. */
static zf_tensor *bind(loader *L, const char *name, int ndim, const int64_t *shape, bool required, int use,
                       bool *failed) {
    zf_llm_model *m = L->m;
    if (*failed) return NULL; /* keep the first error */
    int64_t idx = zf_gguf_find_tensor(m->gguf, name);
    if (idx < 0) {
        if (required) {
            zf_set_error(ZF_ERR_FORMAT, "%s model: tensor '%s' is missing", m->arch->name, name);
            *failed = true;
        }
        return NULL;
    }
    const zf_gguf_tensor_info *ti = zf_gguf_tensor(m->gguf, idx);
    bool ok = ti && (int)ti->n_dims <= ndim + 1;
    for (int d = 0; ok && d < ZF_GGUF_MAX_DIMS; d++) {
        int64_t want = d < ndim ? shape[ndim - 1 - d] : 1;
        if (ti->ne[d] != want) ok = false;
    }
    if (!ok) {
        char got[96] = "", exp[96] = "";
        size_t u = 0, v = 0;
        for (uint32_t d = 0; ti && d < ti->n_dims && u < sizeof got; d++)
            u += (size_t)snprintf(got + u, sizeof got - u, "%s%lld", d ? ", " : "", (long long)ti->ne[d]);
        for (int d = 0; d < ndim && v < sizeof exp; d++)
            v += (size_t)snprintf(exp + v, sizeof exp - v, "%s%lld", d ? ", " : "", (long long)shape[ndim - 1 - d]);
        zf_set_error(ZF_ERR_FORMAT, "%s model: tensor '%s' has ne [%s], expected [%s]", m->arch->name, name, got,
                     exp);
        *failed = true;
        return NULL;
    }
    if (ti->dtype == ZF_DTYPE_COUNT) {
        zf_set_error(ZF_ERR_UNSUPPORTED, "%s model: tensor '%s' has type %s, which zerfoo cannot compute on",
                     m->arch->name, name, zf_ggml_type_name(ti->ggml_type));
        *failed = true;
        return NULL;
    }
    const void *data = zf_gguf_tensor_data(m->gguf, idx);
    zf_tensor *t = data ? zf_from_blob(m->wctx, ti->dtype, ndim, shape, (void *)data, ti->size) : NULL;
    bool keep = !L->f32_weights && (use == USE_ROWS || (use == USE_LINEAR && llm_linear_native(ti->dtype)));
    if (t && t->dtype != ZF_F32 && !keep) {
        /* Dequantize / convert once into an f32 copy. */
        zf_tensor *f = zf_empty(m->wctx, ZF_F32, ndim, shape);
        if (f && zf_dtype_is_quant(t->dtype)) {
            if (zf_dequantize(t->dtype, data, zf_data(f), zf_numel(f)) != ZF_OK) f = NULL;
        } else if (f && zf_copy_(f, t) != ZF_OK) {
            f = NULL;
        }
        t = f;
        if (t) m->extra_bytes += zf_nbytes(t);
    }
    if (!t) {
        char why[256];
        snprintf(why, sizeof why, "%s", zf_last_error());
        zf_set_error(zf_last_status() ? zf_last_status() : ZF_ERR_INTERNAL, "%s model: tensor '%s': %s",
                     m->arch->name, name, why);
        *failed = true;
        return NULL;
    }
    zf_tensor_set_name(t, name);
    return t;
}

#define V1(n) 1, (int64_t[]){n}
#define M2(r, c) 2, (int64_t[]){r, c}

static zf_status bind_layer(loader *L, int64_t il) {
    zf_llm_model *m = L->m;
    const zf_llm_hparams *hp = &m->hp;
    const llm_arch *a = m->arch;
    llm_layer *ly = &m->layers[il];
    int64_t E = hp->n_embd, q_out = hp->n_head * hp->head_dim, kv_out = hp->n_head_kv * hp->head_dim,
            v_out = hp->n_head_kv * hp->head_dim_v;
    bool f = false;
    char n[96];
#define NAME(s) (snprintf(n, sizeof n, "blk.%lld." s, (long long)il), n)
    ly->attn_norm = bind(L, NAME("attn_norm.weight"), V1(E), true, USE_F32, &f);
    if (a->fused_qkv && zf_gguf_find_tensor(m->gguf, NAME("attn_qkv.weight")) >= 0) {
        if (hp->head_dim_v != hp->head_dim)
            return zf_set_error(ZF_ERR_FORMAT, "%s: fused attn_qkv needs key_length == value_length", a->name);
        ly->wqkv = bind(L, NAME("attn_qkv.weight"), M2(q_out + 2 * kv_out, E), true, USE_LINEAR, &f);
    } else {
        ly->wq = bind(L, NAME("attn_q.weight"), M2(q_out, E), true, USE_LINEAR, &f);
        ly->wk = bind(L, NAME("attn_k.weight"), M2(kv_out, E), true, USE_LINEAR, &f);
        ly->wv = bind(L, NAME("attn_v.weight"), M2(v_out, E), true, USE_LINEAR, &f);
    }
    if (a->qkv_bias) {
        ly->bq = bind(L, NAME("attn_q.bias"), V1(q_out), false, USE_F32, &f);
        ly->bk = bind(L, NAME("attn_k.bias"), V1(kv_out), false, USE_F32, &f);
        ly->bv = bind(L, NAME("attn_v.bias"), V1(v_out), false, USE_F32, &f);
    }
    ly->wo = bind(L, NAME("attn_output.weight"), M2(E, hp->n_head * hp->head_dim_v), true, USE_LINEAR, &f);
    if (a->qk_norm) {
        ly->q_norm = bind(L, NAME("attn_q_norm.weight"), V1(hp->head_dim), true, USE_F32, &f);
        ly->k_norm = bind(L, NAME("attn_k_norm.weight"), V1(hp->head_dim), true, USE_F32, &f);
    }
    if (a->post_norms) {
        ly->attn_post_norm = bind(L, NAME("post_attention_norm.weight"), V1(E), true, USE_F32, &f);
        ly->ffn_post_norm = bind(L, NAME("post_ffw_norm.weight"), V1(E), true, USE_F32, &f);
    }
    ly->ffn_norm = bind(L, NAME("ffn_norm.weight"), V1(E), true, USE_F32, &f);
    bool fused = a->fused_gate_up && zf_gguf_find_tensor(m->gguf, NAME("ffn_gate.weight")) < 0;
    if (!fused) ly->w_gate = bind(L, NAME("ffn_gate.weight"), M2(hp->n_ff, E), true, USE_LINEAR, &f);
    ly->w_up = bind(L, NAME("ffn_up.weight"), M2(fused ? 2 * hp->n_ff : hp->n_ff, E), true, USE_LINEAR, &f);
    ly->w_down = bind(L, NAME("ffn_down.weight"), M2(E, hp->n_ff), true, USE_LINEAR, &f);
#undef NAME
    ly->swa = llm_layer_is_swa(a, hp, il);
    ly->rope_base = ly->swa ? hp->rope_base_swa : hp->rope_base;
    /* llama.cpp: linear scaling applies to full-attention layers only when a
     * family has separate local RoPE settings (Gemma 3). */
    ly->rope_scale = (ly->swa && a->rope_base_swa > 0) ? 1.0f : hp->rope_scale;
    return f ? zf_last_status() : ZF_OK;
}

static zf_status load_weights(loader *L) {
    zf_llm_model *m = L->m;
    zf_llm_hparams *hp = &m->hp;
    bool f = false;
    int64_t ie = zf_gguf_find_tensor(m->gguf, "token_embd.weight");
    if (ie < 0) return zf_set_error(ZF_ERR_FORMAT, "%s model: tensor 'token_embd.weight' is missing", m->arch->name);
    const zf_gguf_tensor_info *ti = zf_gguf_tensor(m->gguf, ie);
    if (ti->n_dims != 2 || ti->ne[0] != hp->n_embd || ti->ne[1] < 1)
        return zf_set_error(ZF_ERR_FORMAT, "%s model: token_embd.weight must be [n_embd=%lld, n_vocab]",
                            m->arch->name, (long long)hp->n_embd);
    hp->n_vocab = ti->ne[1];
    hp->tied_output = zf_gguf_find_tensor(m->gguf, "output.weight") < 0;
    /* Tied: the embedding table is also the LM head, so it is a matrix. */
    m->tok_embd = bind(L, "token_embd.weight", M2(hp->n_vocab, hp->n_embd), true,
                       hp->tied_output ? USE_LINEAR : USE_ROWS, &f);
    m->output_norm = bind(L, "output_norm.weight", V1(hp->n_embd), true, USE_F32, &f);
    m->output = hp->tied_output ? m->tok_embd
                                : bind(L, "output.weight", M2(hp->n_vocab, hp->n_embd), true, USE_LINEAR, &f);
    m->rope_freqs = bind(L, "rope_freqs.weight", V1(hp->n_rot / 2), false, USE_F32, &f);
    if (f) return zf_last_status();
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) return zf_set_error(ZF_ERR_OOM, "out of memory for %lld layers", (long long)hp->n_layer);
    for (int64_t il = 0; il < hp->n_layer; il++) {
        zf_status st = bind_layer(L, il);
        if (st != ZF_OK) return st;
        if (m->layers[il].swa) m->has_swa = true;
    }
    return ZF_OK;
}

zf_llm_model *zf_llm_load(const char *path, const zf_llm_load_params *params) {
    if (!path) {
        zf_set_error(ZF_ERR_INVALID_ARG, "zf_llm_load: NULL path");
        return NULL;
    }
    zf_llm_load_params p = params ? *params : (zf_llm_load_params){0};
    zf_llm_model *m = calloc(1, sizeof *m);
    if (!m) {
        zf_set_error(ZF_ERR_OOM, "zf_llm_load: out of memory");
        return NULL;
    }
    m->gguf = zf_gguf_open(path);
    if (!m->gguf) goto fail;
    zf_gguf_str arch;
    if (zf_gguf_find_key(m->gguf, "general.architecture") < 0 ||
        zf_gguf_get_str(m->gguf, "general.architecture", &arch) != ZF_OK) {
        zf_set_error(ZF_ERR_FORMAT, "GGUF metadata lacks a string 'general.architecture'");
        goto fail;
    }
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(arch.len < 63 ? arch.len : 63), arch.ptr);
    m->arch = llm_arch_find(name);
    if (!m->arch || llm_read_hparams(m->gguf, m->arch, &m->hp) != ZF_OK) goto fail;
    m->engine = zf_cpu_engine_new(p.n_threads);
    m->wctx = m->engine ? zf_ctx_new(m->engine) : NULL;
    if (!m->wctx) goto fail;
    loader L = {.m = m, .f32_weights = p.f32_weights};
    if (load_weights(&L) != ZF_OK) goto fail;
    if (llm_tokenizer_load(m) != ZF_OK) goto fail;
    return m;
fail:;
    /* Prefix the file name, keeping the status. */
    zf_status st = zf_last_status() != ZF_OK ? zf_last_status() : ZF_ERR_INTERNAL;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", zf_last_error());
    zf_llm_free(m);
    zf_set_error(st, "%s: %s", path, msg);
    return NULL;
}

void zf_llm_free(zf_llm_model *m) {
    if (!m) return;
    llm_tokenizer_free(m);
    free(m->layers);
    zf_ctx_free(m->wctx);
    if (m->engine) zf_engine_free(m->engine);
    zf_gguf_close(m->gguf);
    free(m);
}

const zf_llm_hparams *zf_llm_hparams_of(const zf_llm_model *m) { return m ? &m->hp : NULL; }
const zf_gguf *zf_llm_gguf(const zf_llm_model *m) { return m ? m->gguf : NULL; }
uint64_t zf_llm_file_bytes(const zf_llm_model *m) { return m ? zf_gguf_file_size(m->gguf) : 0; }
uint64_t zf_llm_extra_weight_bytes(const zf_llm_model *m) { return m ? m->extra_bytes : 0; }
