/* Layer modules: Linear, Conv2d, pooling, activations, Flatten, Dropout,
 * Embedding, Identity and Sequential, with PyTorch's default inits. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/module_internal.h"

#define W(m) zf_module_param((m), "weight")
#define B(m) zf_module_param((m), "bias")

/* ---- Linear ---- */
static zf_tensor *linear_fwd(zf_module *m, zf_ctx *step, zf_tensor *x) { return zf_linear(step, x, W(m), B(m)); }
static void linear_extra(const zf_module *m, char *buf, size_t n) {
    snprintf(buf, n, "in_features=%lld, out_features=%lld, bias=%s", (long long)m->cfg.i[0], (long long)m->cfg.i[1],
             B(m) ? "True" : "False");
}

/* kaiming_uniform(a=sqrt(5)) weight and U(+-1/sqrt(fan_in)) bias. */
static bool default_init(zf_nn *nn, zf_tensor *w, zf_tensor *b) {
    if (zf_init_kaiming_uniform(w, sqrt(5.0), ZF_FAN_IN, ZF_NL_LEAKY_RELU, &nn->rng)) return false;
    if (!b) return true;
    int64_t fan_in;
    if (zf_init_fans(w, &fan_in, NULL)) return false;
    double bound = fan_in > 0 ? 1.0 / sqrt((double)fan_in) : 0.0;
    return zf_init_uniform(b, -bound, bound, &nn->rng) == ZF_OK;
}

zf_module *zf_nn_linear(zf_nn *nn, int64_t in_features, int64_t out_features, bool bias) {
    if (in_features < 1 || out_features < 1) {
        zf_set_error(ZF_ERR_INVALID_ARG, "Linear: features must be >= 1, got %lld -> %lld", (long long)in_features,
                     (long long)out_features);
        return NULL;
    }
    zf_module *m = zf_mod_new(nn, "Linear", linear_fwd, linear_extra);
    if (!m) return NULL;
    m->cfg.i[0] = in_features, m->cfg.i[1] = out_features;
    zf_tensor *w = zf_mod_param(m, "weight", 2, (int64_t[]){out_features, in_features});
    zf_tensor *b = bias ? zf_mod_param(m, "bias", 1, &out_features) : NULL;
    if (!w || (bias && !b) || !default_init(nn, w, b)) return NULL;
    return m;
}

/* ---- Conv2d ---- */
static zf_tensor *conv_fwd(zf_module *m, zf_ctx *step, zf_tensor *x) {
    return zf_conv2d(step, x, W(m), B(m), &m->cfg.conv);
}
static void conv_extra(const zf_module *m, char *buf, size_t n) {
    const zf_conv2d_params *p = &m->cfg.conv;
    zf_tensor *w = W(m);
    int k = snprintf(buf, n, "%lld, %lld, kernel_size=(%lld, %lld), stride=(%lld, %lld)", (long long)m->cfg.i[0],
                     (long long)m->cfg.i[1], (long long)w->shape[2], (long long)w->shape[3], (long long)p->stride[0],
                     (long long)p->stride[1]);
    if (k > 0 && (size_t)k < n && (p->padding[0] || p->padding[1]))
        k += snprintf(buf + k, n - (size_t)k, ", padding=(%lld, %lld)", (long long)p->padding[0],
                      (long long)p->padding[1]);
    if (k > 0 && (size_t)k < n && (p->dilation[0] != 1 || p->dilation[1] != 1))
        k += snprintf(buf + k, n - (size_t)k, ", dilation=(%lld, %lld)", (long long)p->dilation[0],
                      (long long)p->dilation[1]);
    if (k > 0 && (size_t)k < n && p->groups != 1)
        k += snprintf(buf + k, n - (size_t)k, ", groups=%lld", (long long)p->groups);
    if (k > 0 && (size_t)k < n && !B(m)) snprintf(buf + k, n - (size_t)k, ", bias=False");
}

zf_module *zf_nn_conv2d(zf_nn *nn, int64_t in_channels, int64_t out_channels, int64_t kh, int64_t kw,
                        const zf_conv2d_params *p, bool bias) {
    zf_conv2d_params c = {{1, 1}, {0, 0}, {1, 1}, 1};
    if (p) c = *p;
    for (int k = 0; k < 2; k++) {
        if (!c.stride[k]) c.stride[k] = 1;
        if (!c.dilation[k]) c.dilation[k] = 1;
    }
    if (!c.groups) c.groups = 1;
    if (in_channels < 1 || out_channels < 1 || kh < 1 || kw < 1 || c.groups < 1 || in_channels % c.groups ||
        out_channels % c.groups || c.stride[0] < 1 || c.stride[1] < 1 || c.dilation[0] < 1 || c.dilation[1] < 1 ||
        c.padding[0] < 0 || c.padding[1] < 0) {
        zf_set_error(ZF_ERR_INVALID_ARG,
                     "Conv2d: bad arguments (channels %lld -> %lld, kernel %lldx%lld, groups %lld): channels must "
                     "be divisible by groups, sizes positive",
                     (long long)in_channels, (long long)out_channels, (long long)kh, (long long)kw,
                     (long long)c.groups);
        return NULL;
    }
    zf_module *m = zf_mod_new(nn, "Conv2d", conv_fwd, conv_extra);
    if (!m) return NULL;
    m->cfg.conv = c;
    m->cfg.i[0] = in_channels, m->cfg.i[1] = out_channels;
    zf_tensor *w = zf_mod_param(m, "weight", 4, (int64_t[]){out_channels, in_channels / c.groups, kh, kw});
    zf_tensor *b = bias ? zf_mod_param(m, "bias", 1, &out_channels) : NULL;
    if (!w || (bias && !b) || !default_init(nn, w, b)) return NULL;
    return m;
}

/* ---- pooling ---- */
static zf_tensor *maxpool_fwd(zf_module *m, zf_ctx *step, zf_tensor *x) { return zf_max_pool2d(step, x, &m->cfg.pool); }
static zf_tensor *avgpool_fwd(zf_module *m, zf_ctx *step, zf_tensor *x) { return zf_avg_pool2d(step, x, &m->cfg.pool); }
static void pool_extra(const zf_module *m, char *buf, size_t n) {
    const zf_pool2d_params *p = &m->cfg.pool;
    snprintf(buf, n, "kernel_size=(%lld, %lld), stride=(%lld, %lld), padding=(%lld, %lld), ceil_mode=%s",
             (long long)p->kernel[0], (long long)p->kernel[1], (long long)(p->stride[0] ? p->stride[0] : p->kernel[0]),
             (long long)(p->stride[1] ? p->stride[1] : p->kernel[1]), (long long)p->padding[0],
             (long long)p->padding[1], p->ceil_mode ? "True" : "False");
}
static zf_module *pool_new(zf_nn *nn, const zf_pool2d_params *p, bool is_max) {
    const char *type = is_max ? "MaxPool2d" : "AvgPool2d";
    if (!p || p->kernel[0] < 1 || p->kernel[1] < 1) {
        zf_set_error(ZF_ERR_INVALID_ARG, "%s: a kernel size >= 1 is required", type);
        return NULL;
    }
    zf_module *m = zf_mod_new(nn, type, is_max ? maxpool_fwd : avgpool_fwd, pool_extra);
    if (m) m->cfg.pool = *p;
    return m;
}
zf_module *zf_nn_max_pool2d(zf_nn *nn, const zf_pool2d_params *p) { return pool_new(nn, p, true); }
zf_module *zf_nn_avg_pool2d(zf_nn *nn, const zf_pool2d_params *p) { return pool_new(nn, p, false); }

/* ---- activations and shape modules ---- */
static zf_tensor *relu_fwd(zf_module *m, zf_ctx *s, zf_tensor *x) { return (void)m, zf_relu(s, x); }
static zf_tensor *gelu_fwd(zf_module *m, zf_ctx *s, zf_tensor *x) { return zf_gelu(s, x, m->cfg.i[0] != 0); }
static zf_tensor *silu_fwd(zf_module *m, zf_ctx *s, zf_tensor *x) { return (void)m, zf_silu(s, x); }
static zf_tensor *tanh_fwd(zf_module *m, zf_ctx *s, zf_tensor *x) { return (void)m, zf_tanh(s, x); }
static zf_tensor *sigmoid_fwd(zf_module *m, zf_ctx *s, zf_tensor *x) { return (void)m, zf_sigmoid(s, x); }
static zf_tensor *identity_fwd(zf_module *m, zf_ctx *s, zf_tensor *x) { return (void)m, (void)s, x; }
static void gelu_extra(const zf_module *m, char *buf, size_t n) {
    snprintf(buf, n, "approximate='%s'", m->cfg.i[0] ? "tanh" : "none");
}

zf_module *zf_nn_relu(zf_nn *nn) { return zf_mod_new(nn, "ReLU", relu_fwd, NULL); }
zf_module *zf_nn_silu(zf_nn *nn) { return zf_mod_new(nn, "SiLU", silu_fwd, NULL); }
zf_module *zf_nn_tanh(zf_nn *nn) { return zf_mod_new(nn, "Tanh", tanh_fwd, NULL); }
zf_module *zf_nn_sigmoid(zf_nn *nn) { return zf_mod_new(nn, "Sigmoid", sigmoid_fwd, NULL); }
zf_module *zf_nn_identity(zf_nn *nn) { return zf_mod_new(nn, "Identity", identity_fwd, NULL); }
zf_module *zf_nn_gelu(zf_nn *nn, bool tanh_approximation) {
    zf_module *m = zf_mod_new(nn, "GELU", gelu_fwd, gelu_extra);
    if (m) m->cfg.i[0] = tanh_approximation;
    return m;
}

static zf_tensor *flatten_fwd(zf_module *m, zf_ctx *s, zf_tensor *x) {
    return zf_flatten(s, x, (int)m->cfg.i[0], (int)m->cfg.i[1]);
}
static void flatten_extra(const zf_module *m, char *buf, size_t n) {
    snprintf(buf, n, "start_dim=%d, end_dim=%d", (int)m->cfg.i[0], (int)m->cfg.i[1]);
}
zf_module *zf_nn_flatten(zf_nn *nn, int start_dim, int end_dim) {
    zf_module *m = zf_mod_new(nn, "Flatten", flatten_fwd, flatten_extra);
    if (m) m->cfg.i[0] = start_dim, m->cfg.i[1] = end_dim;
    return m;
}

/* ---- Dropout ---- */
static zf_tensor *dropout_fwd(zf_module *m, zf_ctx *s, zf_tensor *x) {
    if (!m->training || m->cfg.f[0] == 0) return x;
    uint64_t stream = m->cfg.stream_hi | (m->cfg.counter++ & ((1ull << 40) - 1));
    return zf_dropout(s, x, m->cfg.f[0], true, m->cfg.seed, stream);
}
static void dropout_extra(const zf_module *m, char *buf, size_t n) { snprintf(buf, n, "p=%g", m->cfg.f[0]); }
zf_module *zf_nn_dropout(zf_nn *nn, double p) {
    if (!(p >= 0 && p <= 1)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "Dropout: p must be in [0, 1], got %g", p);
        return NULL;
    }
    zf_module *m = zf_mod_new(nn, "Dropout", dropout_fwd, dropout_extra);
    if (!m) return NULL;
    m->is_dropout = true;
    m->cfg.f[0] = p;
    m->cfg.seed = nn->rng.seed;
    m->cfg.stream_hi = (0x5eedull + nn->rng.stream++) << 40;
    return m;
}

/* ---- Embedding ---- */
static zf_tensor *embedding_fwd(zf_module *m, zf_ctx *s, zf_tensor *ids) { return zf_embedding(s, W(m), ids); }
static void embedding_extra(const zf_module *m, char *buf, size_t n) {
    zf_tensor *w = W(m);
    snprintf(buf, n, "%lld, %lld", (long long)w->shape[0], (long long)w->shape[1]);
}
zf_module *zf_nn_embedding(zf_nn *nn, int64_t num_embeddings, int64_t dim) {
    if (num_embeddings < 1 || dim < 1) {
        zf_set_error(ZF_ERR_INVALID_ARG, "Embedding: sizes must be >= 1");
        return NULL;
    }
    zf_module *m = zf_mod_new(nn, "Embedding", embedding_fwd, embedding_extra);
    if (!m) return NULL;
    zf_tensor *w = zf_mod_param(m, "weight", 2, (int64_t[]){num_embeddings, dim});
    if (!w || zf_init_normal(w, 0.0, 1.0, &nn->rng)) return NULL;
    return m;
}

/* ---- Sequential ---- */
static zf_tensor *sequential_fwd(zf_module *m, zf_ctx *s, zf_tensor *x) {
    for (int i = 0; i < m->n_children && x; i++) x = zf_module_forward(m->children[i].m, s, x);
    return x;
}

zf_status zf_sequential_append(zf_module *seq, zf_module *m) {
    if (!seq || seq->forward != sequential_fwd)
        return zf_set_error(ZF_ERR_INVALID_ARG, "sequential_append: not a Sequential module");
    char name[24];
    snprintf(name, sizeof name, "%d", seq->n_children);
    return zf_module_add_child(seq, name, m);
}

zf_module *zf_nn_sequential(zf_nn *nn, int n, zf_module *const *mods) {
    if (n < 0 || (n > 0 && !mods)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "Sequential: bad module list");
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (!mods[i]) {
            if (zf_last_status() == ZF_OK) zf_set_error(ZF_ERR_INVALID_ARG, "Sequential: module %d is NULL", i);
            return NULL;
        }
    zf_module *m = zf_mod_new(nn, "Sequential", sequential_fwd, NULL);
    if (!m) return NULL;
    for (int i = 0; i < n; i++)
        if (zf_sequential_append(m, mods[i])) return NULL;
    return m;
}
