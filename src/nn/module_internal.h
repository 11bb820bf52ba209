/* The module struct shared by the files of src/nn (opaque to users: zerfoo/nn.h). */
#ifndef ZF_NN_MODULE_INTERNAL_H
#define ZF_NN_MODULE_INTERNAL_H

#include <stdio.h>

#include "core/internal.h"
#include "zerfoo/autograd.h"
#include "zerfoo/nn.h"

typedef struct {
    const char *name;
    zf_tensor *t;
    bool buffer; /* saved in the state dict, not trained */
} zf_mod_entry;

typedef struct {
    const char *name;
    zf_module *m;
} zf_mod_child;

/* Layer configuration; which fields mean what is up to each layer. */
typedef struct {
    zf_conv2d_params conv;
    zf_pool2d_params pool;
    double f[4];
    int64_t i[4];
    int ndim;
    int64_t shape[ZF_MAX_DIMS];
    /* dropout: stream = hi | counter */
    uint64_t seed, stream_hi, counter;
} zf_mod_cfg;

/* Writes the text inside "Type(...)" of the module's one-line repr. */
typedef void (*zf_mod_extra_fn)(const zf_module *m, char *buf, size_t n);

struct zf_module {
    const char *type;
    zf_forward_fn forward;
    zf_mod_extra_fn extra;
    zf_ctx *ctx;
    zf_dtype dtype;
    bool training;
    bool is_dropout;
    zf_mod_entry *entries;
    int n_entries, cap_entries;
    zf_mod_child *children;
    int n_children, cap_children;
    void *user;
    zf_mod_cfg cfg;
};

/* A module of `type` in nn->ctx (training mode, no entries). */
zf_module *zf_mod_new(zf_nn *nn, const char *type, zf_forward_fn forward, zf_mod_extra_fn extra);
/* A new parameter tensor registered on m (zeros; the caller initializes it). */
zf_tensor *zf_mod_param(zf_module *m, const char *name, int ndim, const int64_t *shape);
/* Checks that nn is usable (ctx set, dtype f32/f64). */
bool zf_nn_ok(const zf_nn *nn, const char *who);

#endif
