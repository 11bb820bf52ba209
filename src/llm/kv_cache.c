/* KV cache storage: one K and one V tensor per layer in the session's
 * long-lived context. Full-attention layers keep every position (slot =
 * position); sliding-window layers keep only their window, as a ring. */
#include <stdlib.h>

#include "llm/llm_internal.h"

zf_status llm_kv_init(llm_kv *kv, const zf_llm_model *m, int64_t n_ctx, zf_dtype type) {
    const zf_llm_hparams *hp = &m->hp;
    if (type != ZF_F16 && type != ZF_F32)
        return zf_set_error(ZF_ERR_DTYPE, "KV cache type must be f16 or f32, got %s", zf_dtype_name(type));
    kv->ctx = zf_ctx_new(m->engine);
    kv->layers = calloc((size_t)hp->n_layer, sizeof *kv->layers);
    if (!kv->ctx || !kv->layers) {
        llm_kv_free(kv);
        return zf_set_error(ZF_ERR_OOM, "out of memory for the KV cache");
    }
    kv->n_layer = hp->n_layer;
    kv->n_ctx = n_ctx;
    kv->type = type;
    kv->bytes = 0;
    for (int64_t il = 0; il < hp->n_layer; il++) {
        llm_kv_layer *L = &kv->layers[il];
        int64_t win = hp->sliding_window;
        L->ring = m->layers[il].swa && win < n_ctx;
        L->cap = L->ring ? win : n_ctx;
        L->k = zf_zeros(kv->ctx, type, 3, (int64_t[]){L->cap, hp->n_head_kv, hp->head_dim});
        L->v = zf_zeros(kv->ctx, type, 3, (int64_t[]){L->cap, hp->n_head_kv, hp->head_dim_v});
        if (!L->k || !L->v) {
            zf_status st = zf_last_status();
            llm_kv_free(kv);
            return st;
        }
        kv->bytes += zf_nbytes(L->k) + zf_nbytes(L->v);
    }
    return ZF_OK;
}

void llm_kv_free(llm_kv *kv) {
    zf_ctx_free(kv->ctx);
    free(kv->layers);
    kv->ctx = NULL;
    kv->layers = NULL;
}
