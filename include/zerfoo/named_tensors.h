/* zerfoo — lists of named tensors (state dicts, optimizer state, the
 * tensors of a safetensors file). */
#ifndef ZERFOO_NAMED_TENSORS_H
#define ZERFOO_NAMED_TENSORS_H

#include "zerfoo/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* n entries. Whoever makes a list says where its arrays and name strings
 * live (usually a context passed to the maker); the tensors are not copied
 * unless stated. */
typedef struct zf_named_tensors {
    int n;
    int cap; /* room in the arrays (zf_named_push fails past it) */
    const char **names;
    zf_tensor **tensors;
} zf_named_tensors;

/* An empty list with room for `cap` entries, allocated in ctx. */
zf_named_tensors *zf_named_new(zf_ctx *ctx, int cap);
/* Appends (name copied into ctx, tensor not copied); ZF_ERR_INVALID_ARG when
 * the list is full. `ctx` must be the one the list was made in. */
zf_status zf_named_push(zf_ctx *ctx, zf_named_tensors *l, const char *name, zf_tensor *t);
/* The tensor named `name`, or NULL. */
zf_tensor *zf_named_find(const zf_named_tensors *l, const char *name);

#ifdef __cplusplus
}
#endif
#endif
