/* Lists of named tensors (zerfoo/named_tensors.h), allocated in an arena. */
#include <string.h>

#include "core/internal.h"
#include "zerfoo/named_tensors.h"

zf_named_tensors *zf_named_new(zf_ctx *ctx, int cap) {
    if (cap < 0) {
        zf_set_error(ZF_ERR_INVALID_ARG, "named_new: negative capacity");
        return NULL;
    }
    zf_named_tensors *l = zf_ctx_alloc_zeroed(ctx, sizeof *l);
    if (!l) return NULL;
    l->names = zf_ctx_alloc_zeroed(ctx, sizeof(char *) * (size_t)(cap ? cap : 1));
    l->tensors = zf_ctx_alloc_zeroed(ctx, sizeof(zf_tensor *) * (size_t)(cap ? cap : 1));
    if (!l->names || !l->tensors) return NULL;
    l->cap = cap;
    return l;
}

zf_status zf_named_push(zf_ctx *ctx, zf_named_tensors *l, const char *name, zf_tensor *t) {
    if (!ctx || !l || !name) return zf_set_error(ZF_ERR_INVALID_ARG, "named_push: NULL argument");
    if (l->n >= l->cap) return zf_set_error(ZF_ERR_INVALID_ARG, "named_push: list is full (%d entries)", l->cap);
    size_t len = strlen(name);
    char *s = zf_ctx_alloc(ctx, len + 1);
    if (!s) return zf_last_status();
    memcpy(s, name, len + 1);
    l->names[l->n] = s;
    l->tensors[l->n] = t;
    l->n++;
    return ZF_OK;
}

zf_tensor *zf_named_find(const zf_named_tensors *l, const char *name) {
    if (!l || !name) return NULL;
    for (int i = 0; i < l->n; i++)
        if (l->names[i] && strcmp(l->names[i], name) == 0) return l->tensors[i];
    return NULL;
}
