/* The transformer forward pass for every registered family, written with
 * zerfoo ops in the session's step context (reset per call, so decode steps
 * reuse its memory and allocate nothing from the system once warm).
 *
 * Shapes: T = tokens in this call, S = key/value rows attended to,
 * E = n_embd, H = n_head, Hkv = n_head_kv, G = H / Hkv, D = head_dim,
 * Dv = head_dim_v. Inputs built here (ids, positions, masks) are the only
 * host-written tensors. */
#include <math.h>
#include <string.h>

#include "llm/llm_internal.h"
#include "zerfoo/ops.h"
#include "zerfoo/quant.h"

/* Per-call constants shared by the layers. */
typedef struct fwd {
    zf_llm_session *s;
    zf_ctx *c;
    const zf_llm_hparams *hp;
    int64_t T, p0;            /* tokens in this call, position of the first */
    zf_tensor *pos;           /* [T] i32 positions p0.. */
    bool dump;                /* ZF_LLM_DUMP is set */
    bool inject;              /* ZF_LLM_INJECT is set */
} fwd;

/* y = x W^T (+ b) for GGUF weight blk.<il>.<wname>.weight (il < 0:
 * <wname>.weight); with ZF_LLM_INJECT, llama.cpp's product replaces ours
 * (dump.c). */
static zf_tensor *linear(fwd *F, zf_tensor *x, zf_tensor *w, zf_tensor *b, const char *wname, int64_t il) {
    zf_tensor *y = llm_linear(F->c, x, w, NULL);
    if (F->inject && y && llm_inject(F->s, F->c, wname, il, y) != ZF_OK) return NULL;
    return b && y ? zf_add(F->c, y, b) : y;
}

/* Writes t as name-il when dumping (see dump.c); returns t. */
static zf_tensor *dump(fwd *F, const char *name, int64_t il, zf_tensor *t) {
    if (F->dump) llm_dump(F->s, name, il, t);
    return t;
}

/* ---- small building blocks ---- */

/* x * rsqrt(mean(x^2, last dim) + eps) * w; x [..., n], w [n]. GGUF stores
 * Gemma's (1 + w) already, so no family needs a weight offset here. */
static zf_tensor *rms_norm(zf_ctx *c, zf_tensor *x, zf_tensor *w, float eps) {
    return zf_rms_norm(c, x, w, eps, 0.0);
}

/* zf_qmatmul reads f16, bf16 and every block type in place; f32 weights
 * go through zf_matmul. */
bool llm_linear_native(zf_dtype t) { return t == ZF_F32 || t == ZF_F16 || t == ZF_BF16 || zf_dtype_is_quant(t); }

zf_tensor *llm_linear(zf_ctx *ctx, zf_tensor *x, zf_tensor *w, zf_tensor *b) {
    if (!x || !w) return NULL;
    zf_tensor *y = w->dtype == ZF_F32 ? zf_matmul(ctx, x, zf_transpose(ctx, w, 0, 1)) : zf_qmatmul(ctx, x, w);
    return b ? zf_add(ctx, y, b) : y;
}

/* x [T, H, D] with its first n_rot dims rotated at positions p0.. (window
 * layers may have their own base and no scaling), angles as ggml's. */
static zf_tensor *rope(fwd *F, zf_tensor *x, const llm_layer *ly) {
    if (!x || F->hp->n_rot == 0) return x;
    zf_rope_mode mode = F->s->m->arch->rope == LLM_ROPE_NEOX ? ZF_ROPE_NEOX : ZF_ROPE_NORMAL;
    return zf_rope_ggml(F->c, x, F->pos, F->s->m->rope_freqs, mode, (int)F->hp->n_rot, ly->rope_base,
                        ly->rope_scale);
}

/* Embedding rows of ids -> [T, E] f32, times embd_scale. */
static zf_tensor *embed(fwd *F, const int32_t *ids) {
    zf_ctx *c = F->c;
    zf_tensor *W = F->s->m->tok_embd;
    zf_tensor *x;
    if (W->dtype == ZF_F32) {
        zf_tensor *idt = zf_from_data(c, ZF_I32, 1, (int64_t[]){F->T}, ids);
        x = zf_embedding(c, W, idt);
    } else if (zf_dtype_is_quant(W->dtype)) {
        /* Block types: dequantize the rows straight from the mapped table. */
        int64_t E = W->shape[1];
        size_t row_bytes = zf_quant_row_size(W->dtype, E);
        x = zf_empty(c, ZF_F32, 2, (int64_t[]){F->T, E});
        if (!x) return NULL;
        const char *base = (const char *)W->storage->data;
        for (int64_t t = 0; t < F->T; t++)
            if (zf_dequantize(W->dtype, base + (size_t)ids[t] * row_bytes, (float *)zf_data(x) + t * E, E) != ZF_OK)
                return NULL;
    } else {
        zf_tensor *idt = zf_from_data(c, ZF_I32, 1, (int64_t[]){F->T}, ids);
        x = zf_cast(c, zf_embedding(c, W, idt), ZF_F32);
    }
    float sc = F->hp->embd_scale;
    return sc != 1.0f ? zf_mul_scalar(c, x, sc) : x;
}

/* Additive mask [T, S]: 0 where query t (position p0+t) may see row s of
 * the keys (position kpos0 + (s - krot) mod S, see kv_gather), -inf
 * elsewhere. */
static zf_tensor *make_mask(fwd *F, int64_t kpos0, int64_t krot, int64_t S, int64_t window) {
    zf_tensor *mk = zf_empty(F->c, ZF_F32, 2, (int64_t[]){F->T, S});
    if (!mk) return NULL;
    float *p = zf_data(mk);
    for (int64_t t = 0; t < F->T; t++) {
        int64_t q = F->p0 + t;
        for (int64_t s = 0; s < S; s++) {
            int64_t k = kpos0 + (s - krot + S) % S;
            bool ok = k >= 0 && k <= q && (window <= 0 || q - k < window);
            p[t * S + s] = ok ? 0.0f : -INFINITY;
        }
    }
    return mk;
}

/* Writes rows [r0, r0+n) of x [T, Hkv, Dh] into cache slots starting at
 * slot0 (wrapping around a ring of `cap` slots). */
static zf_status kv_write(fwd *F, zf_tensor *cache, int64_t cap, zf_tensor *x, int64_t r0, int64_t n, int64_t slot0) {
    zf_ctx *c = F->c;
    while (n > 0) {
        int64_t len = n < cap - slot0 ? n : cap - slot0;
        zf_tensor *dst = zf_narrow(c, cache, 0, slot0, len);
        zf_status st = dst ? zf_copy_(dst, zf_narrow(c, x, 0, r0, len)) : zf_last_status();
        if (st != ZF_OK) return st;
        r0 += len, n -= len, slot0 = 0;
    }
    return ZF_OK;
}

/* Keys and values this call attends to, K [S, Hkv, D] / V [S, Hkv, Dv] in
 * the cache's type: key s has position *kpos0 + s and is row (s + *krot) % S
 * (a window layer's ring after it wrapped: views of the cache; a batch that
 * wraps a ring: a copy in position order). Updates the cache with k, v
 * [T, Hkv, *]. */
static zf_status kv_gather(fwd *F, int64_t il, zf_tensor *k, zf_tensor *v, zf_tensor **K, zf_tensor **V,
                           int64_t *kpos0, int64_t *krot) {
    zf_ctx *c = F->c;
    llm_kv_layer *L = &F->s->kv.layers[il];
    int64_t T = F->T, p0 = F->p0, end = p0 + T;
    zf_status st;
    if (!L->ring || end <= L->cap || T == 1) {
        /* Write first, then read back the valid slots. */
        int64_t slot0 = L->ring ? p0 % L->cap : p0;
        if ((st = kv_write(F, L->k, L->cap, k, 0, T, slot0)) != ZF_OK) return st;
        if ((st = kv_write(F, L->v, L->cap, v, 0, T, slot0)) != ZF_OK) return st;
        int64_t S = end < L->cap ? end : L->cap;
        bool wrapped = L->ring && end > L->cap;
        *kpos0 = wrapped ? end - L->cap : 0; /* the oldest position, in slot end % cap */
        *krot = wrapped ? end % L->cap : 0;
        *K = zf_narrow(c, L->k, 0, 0, S);
        *V = zf_narrow(c, L->v, 0, 0, S);
    } else {
        /* A batch that wraps the ring: the old ring rows in position order
         * (from the oldest, in slot p0 % cap once the ring is full), then the
         * new rows; then the ring keeps the newest cap rows. */
        int64_t old = p0 < L->cap ? p0 : L->cap, r = p0 % L->cap;
        if (old < L->cap) r = 0;
        zf_tensor *kp[3], *vp[3];
        int n = 0;
        if (old > r) kp[n] = zf_narrow(c, L->k, 0, r, old - r), vp[n++] = zf_narrow(c, L->v, 0, r, old - r);
        if (r > 0) kp[n] = zf_narrow(c, L->k, 0, 0, r), vp[n++] = zf_narrow(c, L->v, 0, 0, r);
        kp[n] = zf_cast(c, k, L->k->dtype), vp[n++] = zf_cast(c, v, L->v->dtype);
        *K = n > 1 ? zf_cat(c, n, kp, 0) : kp[0];
        *V = n > 1 ? zf_cat(c, n, vp, 0) : vp[0];
        if (!*K || !*V) return zf_last_status();
        int64_t nk = T < L->cap ? T : L->cap, first = end - nk;
        if ((st = kv_write(F, L->k, L->cap, k, first - p0, nk, first % L->cap)) != ZF_OK) return st;
        if ((st = kv_write(F, L->v, L->cap, v, first - p0, nk, first % L->cap)) != ZF_OK) return st;
        *kpos0 = p0 - old;
        *krot = 0;
    }
    return *K && *V ? ZF_OK : zf_last_status();
}

/* Self-attention of one layer: x [T, E] (normed) -> [T, E]. */
static zf_tensor *attention(fwd *F, int64_t il, zf_tensor *x) {
    zf_ctx *c = F->c;
    const zf_llm_hparams *hp = F->hp;
    const llm_layer *ly = &F->s->m->layers[il];
    int64_t T = F->T, H = hp->n_head, Hkv = hp->n_head_kv, G = H / Hkv, D = hp->head_dim, Dv = hp->head_dim_v;
    zf_tensor *q, *k, *v;
    if (ly->wqkv) {
        zf_tensor *qkv = linear(F, x, ly->wqkv, NULL, "attn_qkv", il); /* [T, H*D + 2*Hkv*D] */
        q = zf_narrow(c, qkv, 1, 0, H * D);
        k = zf_narrow(c, qkv, 1, H * D, Hkv * D);
        v = zf_narrow(c, qkv, 1, H * D + Hkv * D, Hkv * D);
    } else {
        q = dump(F, "Qcur", il, linear(F, x, ly->wq, ly->bq, "attn_q", il));
        k = dump(F, "Kcur", il, linear(F, x, ly->wk, ly->bk, "attn_k", il));
        v = linear(F, x, ly->wv, ly->bv, "attn_v", il);
    }
    q = zf_reshape(c, q, 3, (int64_t[]){T, H, D});
    k = zf_reshape(c, k, 3, (int64_t[]){T, Hkv, D});
    v = dump(F, "Vcur", il, zf_reshape(c, v, 3, (int64_t[]){T, Hkv, Dv}));
    if (ly->q_norm) {
        q = dump(F, "Qcur_normed", il, rms_norm(c, q, ly->q_norm, hp->norm_eps));
        k = dump(F, "Kcur_normed", il, rms_norm(c, k, ly->k_norm, hp->norm_eps));
    }
    q = dump(F, "Qcur", il, rope(F, q, ly));
    k = dump(F, "Kcur", il, rope(F, k, ly));
    if (!q || !k || !v) return NULL;
    zf_tensor *K = NULL, *V = NULL;
    int64_t kpos0 = 0, krot = 0;
    if (kv_gather(F, il, k, v, &K, &V, &kpos0, &krot) != ZF_OK) return NULL;
    const int64_t S = K->shape[0];
    int64_t window = ly->swa ? hp->sliding_window : 0;
    zf_tensor *o;
    if (D == Dv) {
        /* With an f16 cache, what llama.cpp computes (ggml numerics); Gemma 3
         * and Phi-3 scale q first, as llama.cpp's graphs do (ggml_scale). */
        bool ggml = F->s->kv.type == ZF_F16;
        float scale = hp->attn_scale;
        if (ggml && F->s->m->arch->scale_q) {
            q = zf_mul_scalar(c, q, (double)scale);
            scale = 1.0f;
        }
        /* causality and the window from the keys' positions (a ring's rows
         * are read in position order: llama.cpp's bits, see zf_attention) */
        zf_attn_params ap = {.scale = scale, .window = window, .q_pos0 = F->p0, .k_pos0 = kpos0, .k_rot = krot,
                             .causal = true, .numerics = ggml ? ZF_NUMERICS_GGML : ZF_NUMERICS_DEFAULT};
        o = zf_attention(c, q, K, V, NULL, &ap); /* [T, H, D] */
        o = dump(F, "kqv_out", il, zf_reshape(c, o, 2, (int64_t[]){T, H * D}));
        return dump(F, "attn_out", il, linear(F, o, ly->wo, NULL, "attn_output", il));
    }
    /* Composite path (head_dim_v != head_dim). */
    K = zf_cast(c, K, ZF_F32);
    V = zf_cast(c, V, ZF_F32);
    zf_tensor *mask = make_mask(F, kpos0, krot, S, window);
    /* q: [T, H, D] -> [H, T, D] -> [Hkv, G*T, D] (head h uses kv head h / G) */
    zf_tensor *qg = zf_reshape(c, zf_permute(c, zf_mul_scalar(c, q, hp->attn_scale), (int[]){1, 0, 2}), 3,
                               (int64_t[]){Hkv, G * T, D});
    zf_tensor *kT = zf_permute(c, K, (int[]){1, 2, 0});      /* [Hkv, D, S] */
    zf_tensor *vh = zf_permute(c, V, (int[]){1, 0, 2});      /* [Hkv, S, Dv] */
    zf_tensor *sc = zf_matmul(c, qg, kT);                    /* [Hkv, G*T, S] */
    sc = zf_add(c, zf_reshape(c, sc, 4, (int64_t[]){Hkv, G, T, S}), mask);
    zf_tensor *pr = zf_reshape(c, zf_softmax(c, sc, -1), 3, (int64_t[]){Hkv, G * T, S});
    o = zf_matmul(c, pr, vh);                                /* [Hkv, G*T, Dv] */
    o = zf_permute(c, zf_reshape(c, o, 3, (int64_t[]){H, T, Dv}), (int[]){1, 0, 2});
    o = dump(F, "kqv_out", il, zf_reshape(c, o, 2, (int64_t[]){T, H * Dv}));
    return dump(F, "attn_out", il, linear(F, o, ly->wo, NULL, "attn_output", il));
}

/* Gated FFN: down(act(gate(x)) * up(x)) with ggml's activations; x [T, E] -> [T, E]. */
static zf_tensor *ffn(fwd *F, int64_t il, zf_tensor *x) {
    zf_ctx *c = F->c;
    const llm_layer *ly = &F->s->m->layers[il];
    zf_tensor *g, *u;
    if (ly->w_gate) {
        g = linear(F, x, ly->w_gate, NULL, "ffn_gate", il);
        u = linear(F, x, ly->w_up, NULL, "ffn_up", il);
    } else {
        zf_tensor *gu = linear(F, x, ly->w_up, NULL, "ffn_up", il); /* [T, 2F]: gate then up */
        int64_t n = F->hp->n_ff;
        g = zf_narrow(c, gu, 1, 0, n);
        u = zf_narrow(c, gu, 1, n, n);
    }
    dump(F, "ffn_gate", il, g);
    dump(F, "ffn_up", il, u);
    bool gelu = F->s->m->arch->act == LLM_ACT_GELU_TANH;
    zf_tensor *gu = zf_glu(c, g, u, gelu ? ZF_GLU_GELU_TANH : ZF_GLU_SILU, ZF_NUMERICS_GGML);
    dump(F, gelu ? "ffn_geglu" : "ffn_swiglu", il, gu);
    return dump(F, "ffn_out", il, linear(F, gu, ly->w_down, NULL, "ffn_down", il));
}

zf_status llm_forward(zf_llm_session *s, const int32_t *tokens, int64_t n, bool all_logits, float *out) {
    const zf_llm_model *m = s->m;
    zf_ctx_reset(s->step);
    fwd F = {.s = s, .c = s->step, .hp = &m->hp, .T = n, .p0 = s->n_past, .dump = llm_dump_on(),
             .inject = llm_inject_on()};
    if (F.dump || F.inject) llm_dump_step(s);
    zf_ctx *c = F.c;
    for (int64_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= m->hp.n_vocab)
            return zf_set_error(ZF_ERR_INDEX, "token id %d is out of range [0, %lld)", tokens[i],
                                (long long)m->hp.n_vocab);
    F.pos = zf_arange(c, ZF_I32, (double)F.p0, (double)(F.p0 + n), 1.0);
    if (!F.pos) return zf_last_status();
    zf_tensor *x = embed(&F, tokens);
    dump(&F, m->hp.embd_scale != 1.0f ? "inp_scaled" : "embd", -1, x);
    for (int64_t il = 0; il < m->hp.n_layer && x; il++) {
        const llm_layer *ly = &m->layers[il];
        zf_tensor *a = attention(&F, il, dump(&F, "attn_norm", il, rms_norm(c, x, ly->attn_norm, m->hp.norm_eps)));
        if (a && il == m->hp.n_layer - 1 && !all_logits && n > 1) {
            /* only the last row goes on, as in llama.cpp (its matmuls take a
             * one-row path there) */
            a = zf_narrow(c, a, 0, n - 1, 1);
            x = zf_narrow(c, x, 0, n - 1, 1);
        }
        if (ly->attn_post_norm) a = dump(&F, "attn_post_norm", il, rms_norm(c, a, ly->attn_post_norm, m->hp.norm_eps));
        x = dump(&F, ly->attn_post_norm ? "sa_out" : "ffn_inp", il, zf_add(c, x, a));
        zf_tensor *f = ffn(&F, il, dump(&F, "ffn_norm", il, rms_norm(c, x, ly->ffn_norm, m->hp.norm_eps)));
        if (ly->ffn_post_norm) f = dump(&F, "ffn_post_norm", il, rms_norm(c, f, ly->ffn_post_norm, m->hp.norm_eps));
        x = dump(&F, "l_out", il, zf_add(c, x, f));
    }
    zf_tensor *logits = linear(&F, dump(&F, "result_norm", -1, rms_norm(c, x, m->output_norm, m->hp.norm_eps)),
                               m->output, NULL, m->output == m->tok_embd ? "token_embd" : "output", -1);
    float cap = m->hp.logit_softcap;
    if (cap > 0) logits = zf_mul_scalar(c, zf_tanh(c, zf_mul_scalar(c, logits, 1.0 / cap)), cap);
    dump(&F, "result_output", -1, logits);
    if (!logits) return zf_last_status() != ZF_OK ? zf_last_status() : ZF_ERR_INTERNAL;
    return zf_to_f32_buffer(logits, out);
}
