/* Sessions: the KV cache, the token history, and evaluation of token runs
 * in batches of at most n_batch tokens. */
#include <stdlib.h>
#include <string.h>

#include "llm/llm_internal.h"

zf_llm_session_params zf_llm_session_defaults(void) {
    return (zf_llm_session_params){.n_ctx = 0, .kv_type = ZF_F16, .n_batch = 0};
}

zf_llm_session *zf_llm_session_new(zf_llm_model *m, const zf_llm_session_params *params) {
    if (!m) {
        zf_set_error(ZF_ERR_INVALID_ARG, "zf_llm_session_new: NULL model");
        return NULL;
    }
    zf_llm_session_params p = params ? *params : zf_llm_session_defaults();
    int64_t n_ctx = p.n_ctx > 0 ? p.n_ctx : (m->hp.n_ctx_train < 4096 ? m->hp.n_ctx_train : 4096);
    if (n_ctx > ((int64_t)1 << 24)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "context length %lld is too large", (long long)n_ctx);
        return NULL;
    }
    zf_llm_session *s = calloc(1, sizeof *s);
    if (!s) {
        zf_set_error(ZF_ERR_OOM, "zf_llm_session_new: out of memory");
        return NULL;
    }
    s->m = m;
    s->n_ctx = n_ctx;
    s->n_batch = p.n_batch > 0 ? p.n_batch : 512;
    if (s->n_batch > n_ctx) s->n_batch = n_ctx;
    s->tokens = malloc((size_t)n_ctx * sizeof *s->tokens);
    s->step = zf_ctx_new(m->engine);
    if (!s->tokens || !s->step || llm_kv_init(&s->kv, m, n_ctx, p.kv_type) != ZF_OK) {
        if (zf_last_status() == ZF_OK) zf_set_error(ZF_ERR_OOM, "zf_llm_session_new: out of memory");
        zf_llm_session_free(s);
        return NULL;
    }
    return s;
}

void zf_llm_session_free(zf_llm_session *s) {
    if (!s) return;
    llm_kv_free(&s->kv);
    zf_ctx_free(s->step);
    free(s->tokens);
    free(s->logits);
    free(s);
}

void zf_llm_session_reset(zf_llm_session *s) {
    if (!s) return;
    s->n_past = 0;
    s->sample_draws = 0;
}

int64_t zf_llm_session_n_past(const zf_llm_session *s) { return s ? s->n_past : 0; }
int64_t zf_llm_session_n_ctx(const zf_llm_session *s) { return s ? s->n_ctx : 0; }
const int32_t *zf_llm_session_tokens(const zf_llm_session *s) { return s ? s->tokens : NULL; }
uint64_t zf_llm_session_kv_bytes(const zf_llm_session *s) { return s ? s->kv.bytes : 0; }

zf_status zf_llm_session_truncate(zf_llm_session *s, int64_t n_keep) {
    if (!s || n_keep < 0 || n_keep > s->n_past)
        return zf_set_error(ZF_ERR_INVALID_ARG, "truncate: n_keep %lld is not in [0, n_past]", (long long)n_keep);
    if (n_keep == s->n_past) return ZF_OK;
    /* A ring (sliding-window layer) has overwritten the window that position
     * n_keep needs: such a cache can only restart from empty. */
    for (int64_t il = 0; il < s->kv.n_layer; il++)
        if (s->kv.layers[il].ring && s->n_past > s->kv.layers[il].cap && n_keep > 0) {
            s->n_past = 0;
            return ZF_OK;
        }
    s->n_past = n_keep;
    return ZF_OK;
}

/* Room for `rows` rows of logits. */
static zf_status logits_reserve(zf_llm_session *s, int64_t rows) {
    if (rows <= s->logits_rows) return ZF_OK;
    float *p = realloc(s->logits, (size_t)rows * (size_t)s->m->hp.n_vocab * sizeof *p);
    if (!p) return zf_set_error(ZF_ERR_OOM, "out of memory for %lld rows of logits", (long long)rows);
    s->logits = p;
    s->logits_rows = rows;
    return ZF_OK;
}

zf_status zf_llm_eval(zf_llm_session *s, const int32_t *tokens, int64_t n, bool all_logits, const float **logits) {
    if (!s || (!tokens && n > 0) || n < 0) return zf_set_error(ZF_ERR_INVALID_ARG, "zf_llm_eval: bad arguments");
    if (n == 0) return zf_set_error(ZF_ERR_INVALID_ARG, "zf_llm_eval: no tokens");
    if (s->n_past + n > s->n_ctx)
        return zf_set_error(ZF_ERR_INVALID_ARG,
                            "%lld tokens do not fit in the context: %lld already cached, context length %lld",
                            (long long)n, (long long)s->n_past, (long long)s->n_ctx);
    zf_status st = logits_reserve(s, all_logits ? n : 1);
    if (st != ZF_OK) return st;
    int64_t V = s->m->hp.n_vocab;
    for (int64_t i = 0; i < n; i += s->n_batch) {
        int64_t len = n - i < s->n_batch ? n - i : s->n_batch;
        bool last = i + len == n;
        if (!all_logits && !last) {
            /* Only the cache matters for this piece; its logits row is thrown away. */
            st = llm_forward(s, tokens + i, len, false, s->logits);
        } else {
            st = llm_forward(s, tokens + i, len, all_logits, all_logits ? s->logits + i * V : s->logits);
        }
        if (st != ZF_OK) return st;
        memcpy(s->tokens + s->n_past, tokens + i, (size_t)len * sizeof *tokens);
        s->n_past += len;
    }
    if (logits) *logits = s->logits;
    return ZF_OK;
}
