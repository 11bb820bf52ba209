/* nn modules: construction and PyTorch-style names, initializers, forward
 * shapes, train/eval behaviour (batch norm running stats, dropout),
 * finite-difference gradients of every layer in f64, state dicts and bad
 * arguments. */
#include <stdlib.h>
#include <string.h>

#include "zf_gradcheck.h"
#include "zf_test.h"

/* ---- names and composition ---- */
typedef struct {
    zf_module *fc1, *act, *fc2;
} mlp_user;

static zf_tensor *mlp_forward(zf_module *self, zf_ctx *step, zf_tensor *x) {
    mlp_user *u = zf_module_user(self);
    zf_tensor *h = zf_module_forward(u->act, step, zf_module_forward(u->fc1, step, x));
    return zf_add(step, zf_module_forward(u->fc2, step, h), x); /* residual */
}

static void test_names(void) {
    zf_ctx *params = zf_ctx_new(NULL), *step = zf_ctx_new(NULL);
    zf_nn nn = zf_nn_init(params, ZF_F32, 42);
    zf_pool2d_params pool = {.kernel = {2, 2}};
    zf_module *lenet = zf_nn_sequential(
        &nn, 12,
        (zf_module *[]){zf_nn_conv2d(&nn, 1, 6, 5, 5, NULL, true), zf_nn_relu(&nn), zf_nn_max_pool2d(&nn, &pool),
                        zf_nn_conv2d(&nn, 6, 16, 5, 5, NULL, true), zf_nn_relu(&nn), zf_nn_max_pool2d(&nn, &pool),
                        zf_nn_flatten(&nn, 1, -1), zf_nn_linear(&nn, 256, 120, true), zf_nn_relu(&nn),
                        zf_nn_linear(&nn, 120, 84, true), zf_nn_relu(&nn), zf_nn_linear(&nn, 84, 10, true)});
    CHECK(lenet != NULL);
    CHECK(zf_module_num_parameters(lenet) == 44426);
    zf_named_tensors *np = zf_module_named_parameters(lenet, step);
    CHECK(np && np->n == 10);
    const char *want[] = {"0.weight", "0.bias", "3.weight", "3.bias", "7.weight",
                          "7.bias",   "9.weight", "9.bias", "11.weight", "11.bias"};
    for (int i = 0; np && i < 10; i++) CHECK(strcmp(np->names[i], want[i]) == 0);
    CHECK(zf_module_get(lenet, "3") && strcmp(zf_module_type(zf_module_get(lenet, "3")), "Conv2d") == 0);
    zf_tensor *x = zf_rand(step, ZF_F32, 4, (int64_t[]){3, 1, 28, 28}, 1, 0);
    zf_tensor *y = zf_module_forward(lenet, step, x);
    CHECK(y && y->ndim == 2 && y->shape[0] == 3 && y->shape[1] == 10);

    /* MLP 784-128-10 has 101,770 parameters */
    zf_module *mlp = zf_nn_sequential(&nn, 4,
                                      (zf_module *[]){zf_nn_flatten(&nn, 1, -1), zf_nn_linear(&nn, 784, 128, true),
                                                      zf_nn_relu(&nn), zf_nn_linear(&nn, 128, 10, true)});
    CHECK(mlp && zf_module_num_parameters(mlp) == 101770);

    /* custom module with named children and a nested Sequential */
    mlp_user u = {zf_nn_linear(&nn, 8, 16, true), zf_nn_gelu(&nn, false), zf_nn_linear(&nn, 16, 8, false)};
    zf_module *block = zf_nn_custom(&nn, "Block", mlp_forward, &u);
    CHECK(zf_module_add_child(block, "fc1", u.fc1) == ZF_OK);
    CHECK(zf_module_add_child(block, "act", u.act) == ZF_OK);
    CHECK(zf_module_add_child(block, "fc2", u.fc2) == ZF_OK);
    CHECK(zf_module_add_child(block, "fc2", u.fc2) == ZF_ERR_INVALID_ARG); /* duplicate */
    CHECK(zf_module_add_child(block, "a.b", u.fc2) == ZF_ERR_INVALID_ARG);
    zf_module *net = zf_nn_sequential(&nn, 2, (zf_module *[]){block, zf_nn_layer_norm(&nn, 1, (int64_t[]){8}, 1e-5, true)});
    zf_named_tensors *sd = zf_module_state_dict(net, step);
    CHECK(sd && sd->n == 5);
    if (sd && sd->n == 5) {
        CHECK(strcmp(sd->names[0], "0.fc1.weight") == 0);
        CHECK(strcmp(sd->names[2], "0.fc2.weight") == 0);
        CHECK(strcmp(sd->names[4], "1.bias") == 0);
    }
    CHECK(zf_module_get(net, "0.fc2") == u.fc2);
    zf_tensor *yb = zf_module_forward(net, step, zf_randn(step, ZF_F32, 2, (int64_t[]){4, 8}, 3, 0));
    CHECK(yb && yb->shape[1] == 8);
    /* a failed constructor makes the Sequential fail, with its message kept */
    CHECK(zf_nn_sequential(&nn, 2, (zf_module *[]){zf_nn_relu(&nn), zf_nn_linear(&nn, 0, 3, true)}) == NULL &&
          zf_last_status() == ZF_ERR_INVALID_ARG && strstr(zf_last_error(), "Linear"));
    /* batch-norm state dict entries in PyTorch order */
    zf_module *bn = zf_nn_batch_norm2d(&nn, 3, 1e-5, 0.1);
    zf_named_tensors *bsd = zf_module_state_dict(bn, step);
    CHECK(bsd && bsd->n == 5 && strcmp(bsd->names[2], "running_mean") == 0 &&
          strcmp(bsd->names[4], "num_batches_tracked") == 0 && bsd->tensors[4]->dtype == ZF_I64);
    zf_named_tensors *bnp = zf_module_named_parameters(bn, step);
    CHECK(bnp && bnp->n == 2);
    FILE *devnull = fopen("/dev/null", "w");
    zf_module_print(net, devnull);
    fclose(devnull);
    zf_ctx_free(step);
    zf_ctx_free(params);
}

/* ---- initializers ---- */
static void moments(const zf_tensor *t, double *mean, double *var, double *lo, double *hi) {
    int64_t n = zf_numel(t);
    double *v = malloc(sizeof *v * (size_t)n), m = 0, s = 0;
    zf_to_f64_buffer(t, v);
    *lo = INFINITY, *hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) m += v[i] / (double)n, *lo = fmin(*lo, v[i]), *hi = fmax(*hi, v[i]);
    for (int64_t i = 0; i < n; i++) s += (v[i] - m) * (v[i] - m) / (double)n;
    *mean = m, *var = s;
    free(v);
}

static void test_init(void) {
    zf_ctx *ctx = zf_ctx_new(NULL);
    zf_init_rng rng = {7, 0};
    zf_tensor *w = zf_zeros(ctx, ZF_F32, 4, (int64_t[]){64, 32, 3, 3}); /* fan_in 288, fan_out 576 */
    int64_t fi, fo;
    CHECK(zf_init_fans(w, &fi, &fo) == ZF_OK && fi == 288 && fo == 576);
    double m, v, lo, hi;
    CHECK(zf_init_kaiming_uniform(w, 0, ZF_FAN_IN, ZF_NL_RELU, &rng) == ZF_OK);
    moments(w, &m, &v, &lo, &hi);
    double bound = sqrt(2.0) * sqrt(3.0 / 288);
    CHECK(hi <= bound && lo >= -bound && hi > 0.98 * bound && fabs(v - bound * bound / 3) < 0.03 * v);
    CHECK(zf_init_kaiming_normal(w, 0, ZF_FAN_OUT, ZF_NL_RELU, &rng) == ZF_OK);
    moments(w, &m, &v, &lo, &hi);
    CHECK(fabs(m) < 0.01 && fabs(v - 2.0 / 576) < 0.05 * v);
    CHECK(zf_init_xavier_uniform(w, 1.0, &rng) == ZF_OK);
    moments(w, &m, &v, &lo, &hi);
    double a = sqrt(6.0 / (288 + 576));
    CHECK(hi <= a && lo >= -a && fabs(v - a * a / 3) < 0.03 * v);
    CHECK(zf_init_xavier_normal(w, 2.0, &rng) == ZF_OK);
    moments(w, &m, &v, &lo, &hi);
    CHECK(fabs(v - 4 * 2.0 / (288 + 576)) < 0.05 * v);
    CHECK(zf_init_normal(w, 3.0, 0.5, &rng) == ZF_OK);
    moments(w, &m, &v, &lo, &hi);
    CHECK(fabs(m - 3) < 0.01 && fabs(v - 0.25) < 0.01);
    CHECK(zf_init_uniform(w, -2, 1, &rng) == ZF_OK);
    moments(w, &m, &v, &lo, &hi);
    CHECK(lo >= -2 && hi < 1 && fabs(m + 0.5) < 0.02);
    CHECK(zf_init_zeros(w) == ZF_OK);
    moments(w, &m, &v, &lo, &hi);
    CHECK(lo == 0 && hi == 0);
    CHECK(rng.stream == 6);
    CHECK_NEAR(zf_init_gain(ZF_NL_LEAKY_RELU, sqrt(5.0)), sqrt(1.0 / 3.0), 1e-15);
    CHECK_NEAR(zf_init_gain(ZF_NL_TANH, 0), 5.0 / 3.0, 1e-15);
    CHECK(zf_init_fans(zf_zeros(ctx, ZF_F32, 1, (int64_t[]){4}), &fi, &fo) == ZF_ERR_SHAPE);
    CHECK(zf_init_uniform(zf_zeros(ctx, ZF_I32, 1, (int64_t[]){4}), 0, 1, &rng) == ZF_ERR_DTYPE);
    CHECK(zf_init_uniform(w, 1, 0, &rng) == ZF_ERR_INVALID_ARG);
    /* same seed, same values; Linear's default bounds */
    zf_nn a1 = zf_nn_init(ctx, ZF_F32, 9), a2 = zf_nn_init(ctx, ZF_F32, 9);
    zf_module *l1 = zf_nn_linear(&a1, 100, 20, true), *l2 = zf_nn_linear(&a2, 100, 20, true);
    zf_tensor *w1 = zf_module_param(l1, "weight"), *w2 = zf_module_param(l2, "weight");
    CHECK(memcmp(zf_data(w1), zf_data(w2), zf_nbytes(w1)) == 0);
    moments(w1, &m, &v, &lo, &hi);
    CHECK(hi <= 0.1 && lo >= -0.1 && hi > 0.09);
    moments(zf_module_param(l1, "bias"), &m, &v, &lo, &hi);
    CHECK(hi <= 0.1 && lo >= -0.1);
    zf_ctx_free(ctx);
}

/* ---- gradients of every layer (f64) ---- */
typedef struct {
    zf_module *m;
} mod_arg;

static zf_tensor *mod_fn(zf_ctx *ctx, zf_tensor *const *in, void *arg) {
    return zf_module_forward(((mod_arg *)arg)->m, ctx, in[0]);
}

/* Checks d/dx and d/dparams of module m on input shape xs. */
static void grad_module(const char *what, zf_module *m, int nd, const int64_t *xs, uint64_t seed) {
    zf_ctx *ctx = zf_ctx_new(NULL);
    zf_named_tensors *np = zf_module_named_parameters(m, ctx);
    zf_tensor *in[16] = {gc_leaf(ctx, nd, xs, seed)};
    int n = 1;
    for (int i = 0; np && i < np->n && n < 16; i++) in[n++] = np->tensors[i];
    mod_arg a = {m};
    double err = gradcheck(what, mod_fn, n, in, &a, 1e-6, 150);
    if (err >= 1e-6) fprintf(stderr, "grad %s: worst relative error %.3g\n", what, err);
    CHECK(err < 1e-6);
    zf_ctx_free(ctx);
}

static zf_tensor *drop_fn(zf_ctx *ctx, zf_tensor *const *in, void *arg) {
    (void)arg;
    return zf_dropout(ctx, in[0], 0.4, true, 5, 6);
}

static void test_layer_grads(void) {
    zf_ctx *params = zf_ctx_new(NULL);
    zf_nn nn = zf_nn_init(params, ZF_F64, 5);
    grad_module("linear", zf_nn_linear(&nn, 7, 5, true), 3, (int64_t[]){2, 3, 7}, 1);
    grad_module("linear no bias", zf_nn_linear(&nn, 4, 3, false), 2, (int64_t[]){5, 4}, 2);
    grad_module("conv2d", zf_nn_conv2d(&nn, 4, 6, 3, 3, &(zf_conv2d_params){{2, 1}, {1, 1}, {1, 2}, 2}, true), 4,
                (int64_t[]){2, 4, 7, 8}, 3);
    grad_module("maxpool", zf_nn_max_pool2d(&nn, &(zf_pool2d_params){.kernel = {2, 2}}), 4, (int64_t[]){2, 3, 6, 6}, 4);
    grad_module("avgpool", zf_nn_avg_pool2d(&nn, &(zf_pool2d_params){.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}}),
                4, (int64_t[]){2, 3, 7, 6}, 5);
    grad_module("batchnorm1d", zf_nn_batch_norm1d(&nn, 5, 1e-5, 0.1), 2, (int64_t[]){6, 5}, 6);
    grad_module("batchnorm1d 3d", zf_nn_batch_norm1d(&nn, 3, 1e-5, 0.1), 3, (int64_t[]){4, 3, 5}, 7);
    grad_module("batchnorm2d", zf_nn_batch_norm2d(&nn, 3, 1e-5, 0.1), 4, (int64_t[]){3, 3, 4, 5}, 8);
    zf_module *bne = zf_nn_batch_norm2d(&nn, 3, 1e-5, 0.1);
    zf_module_train(bne, false);
    grad_module("batchnorm2d eval", bne, 4, (int64_t[]){2, 3, 4, 5}, 9);
    grad_module("layernorm", zf_nn_layer_norm(&nn, 2, (int64_t[]){3, 4}, 1e-5, true), 3, (int64_t[]){2, 3, 4}, 10);
    grad_module("rmsnorm", zf_nn_rms_norm(&nn, 6, 1e-6), 2, (int64_t[]){4, 6}, 11);
    grad_module("gelu", zf_nn_gelu(&nn, false), 2, (int64_t[]){3, 5}, 12);
    grad_module("gelu tanh", zf_nn_gelu(&nn, true), 2, (int64_t[]){3, 5}, 13);
    grad_module("silu", zf_nn_silu(&nn), 2, (int64_t[]){3, 5}, 14);
    grad_module("tanh", zf_nn_tanh(&nn), 2, (int64_t[]){3, 5}, 15);
    grad_module("sigmoid", zf_nn_sigmoid(&nn), 2, (int64_t[]){3, 5}, 16);
    grad_module("relu", zf_nn_relu(&nn), 2, (int64_t[]){3, 5}, 17);
    grad_module("flatten", zf_nn_flatten(&nn, 1, -1), 3, (int64_t[]){2, 3, 4}, 18);
    zf_module *dr = zf_nn_dropout(&nn, 0.3);
    zf_module_train(dr, false);
    grad_module("dropout eval", dr, 2, (int64_t[]){4, 5}, 19);
    zf_ctx_free(params);
    /* training-mode dropout with a fixed (seed, stream): the same mask each call */
    zf_ctx *ctx = zf_ctx_new(NULL);
    zf_tensor *in[1] = {gc_leaf(ctx, 2, (int64_t[]){6, 7}, 20)};
    CHECK(gradcheck("dropout train", drop_fn, 1, in, NULL, 1e-6, 100) < 1e-6);
    zf_ctx_free(ctx);
}

/* Embedding: gradient into the weight, ids as integers. */
static zf_module *g_emb;
static zf_tensor *g_ids;
static zf_tensor *emb_fn(zf_ctx *ctx, zf_tensor *const *in, void *arg) {
    (void)in, (void)arg;
    return zf_module_forward(g_emb, ctx, g_ids);
}
static void test_embedding(void) {
    zf_ctx *params = zf_ctx_new(NULL);
    zf_nn nn = zf_nn_init(params, ZF_F64, 3);
    g_emb = zf_nn_embedding(&nn, 10, 4);
    g_ids = zf_from_data(params, ZF_I64, 2, (int64_t[]){2, 3}, (int64_t[]){1, 3, 3, 9, 0, 1});
    zf_tensor *in[1] = {zf_module_param(g_emb, "weight")};
    CHECK(gradcheck("embedding", emb_fn, 1, in, NULL, 1e-6, 100) < 1e-6);
    zf_ctx *step = zf_ctx_new(NULL);
    zf_tensor *bad = zf_from_data(step, ZF_I64, 1, (int64_t[]){1}, (int64_t[]){10});
    CHECK(zf_module_forward(g_emb, step, bad) == NULL && zf_last_status() == ZF_ERR_INDEX);
    zf_ctx_free(step);
    zf_ctx_free(params);
}

/* ---- train / eval behaviour ---- */
static void test_batchnorm_stats(void) {
    zf_ctx *params = zf_ctx_new(NULL), *step = zf_ctx_new(NULL);
    zf_nn nn = zf_nn_init(params, ZF_F64, 3);
    zf_module *bn = zf_nn_batch_norm1d(&nn, 2, 1e-5, 0.1);
    /* channel 0: 1,2,3,4 (mean 2.5, var_b 1.25, var_u 5/3); channel 1: 0,0,0,4 */
    zf_tensor *x = zf_from_data(step, ZF_F64, 2, (int64_t[]){4, 2}, (double[]){1, 0, 2, 0, 3, 0, 4, 4});
    zf_tensor *y = zf_module_forward(bn, step, x);
    CHECK(y != NULL);
    double *rm = zf_data(zf_module_param(bn, "running_mean")), *rv = zf_data(zf_module_param(bn, "running_var"));
    CHECK_NEAR(rm[0], 0.25, 1e-15);
    CHECK_NEAR(rv[0], 0.9 + 0.1 * 5.0 / 3.0, 1e-15);
    CHECK_NEAR(rm[1], 0.1, 1e-15);
    CHECK(*(int64_t *)zf_data(zf_module_param(bn, "num_batches_tracked")) == 1);
    const double *yd = zf_data(y);
    CHECK_NEAR(yd[0], (1 - 2.5) / sqrt(1.25 + 1e-5), 1e-12);
    zf_module_train(bn, false);
    CHECK(!zf_module_is_training(bn));
    zf_tensor *ye = zf_module_forward(bn, step, x);
    CHECK(ye && fabs(((double *)zf_data(ye))[0] - (1 - 0.25) / sqrt(rv[0] + 1e-5)) < 1e-12);
    CHECK(*(int64_t *)zf_data(zf_module_param(bn, "num_batches_tracked")) == 1);
    /* training on one value per channel is an error, as in PyTorch */
    zf_module_train(bn, true);
    CHECK(zf_module_forward(bn, step, zf_ones(step, ZF_F64, 2, (int64_t[]){1, 2})) == NULL &&
          zf_last_status() == ZF_ERR_SHAPE);
    CHECK(zf_module_forward(bn, step, zf_ones(step, ZF_F64, 2, (int64_t[]){4, 3})) == NULL &&
          zf_last_status() == ZF_ERR_SHAPE);
    zf_ctx_free(step);
    zf_ctx_free(params);
}

static void test_dropout(void) {
    zf_ctx *params = zf_ctx_new(NULL), *step = zf_ctx_new(NULL);
    zf_nn nn = zf_nn_init(params, ZF_F32, 3);
    zf_module *d = zf_nn_dropout(&nn, 0.25);
    zf_tensor *x = zf_ones(step, ZF_F32, 1, (int64_t[]){100000});
    zf_tensor *y1 = zf_module_forward(d, step, x), *y2 = zf_module_forward(d, step, x);
    CHECK(y1 && y2 && memcmp(zf_data(y1), zf_data(y2), zf_nbytes(y1)) != 0); /* new mask per call */
    int64_t zeros = 0;
    bool scaled = true;
    for (int64_t i = 0; y1 && i < 100000; i++) {
        float v = ((float *)zf_data(y1))[i];
        zeros += v == 0;
        scaled &= v == 0 || fabsf(v - 1 / 0.75f) < 1e-6f;
    }
    CHECK(scaled && labs((long)zeros - 25000) < 600);
    /* reproducible: reseeding replays the masks; thread count does not matter */
    zf_module_set_rng(d, 11, 5);
    zf_tensor *a = zf_module_forward(d, step, x);
    zf_module_set_rng(d, 11, 5);
    zf_engine *e3 = zf_cpu_engine_new(3);
    zf_ctx *s3 = zf_ctx_new(e3);
    zf_tensor *b = zf_module_forward(d, s3, zf_ones(s3, ZF_F32, 1, (int64_t[]){100000}));
    CHECK(a && b && memcmp(zf_data(a), zf_data(b), zf_nbytes(a)) == 0);
    zf_module_train(d, false);
    CHECK(zf_module_forward(d, step, x) == x);
    CHECK(zf_nn_dropout(&nn, 1.5) == NULL && zf_last_status() == ZF_ERR_INVALID_ARG);
    zf_tensor *z = zf_dropout(step, x, 1.0, true, 1, 1);
    CHECK(z && ((float *)zf_data(z))[7] == 0);
    zf_ctx_free(s3);
    zf_engine_free(e3);
    zf_ctx_free(step);
    zf_ctx_free(params);
}

/* ---- state dicts ---- */
static void test_state_dict(void) {
    zf_ctx *p1 = zf_ctx_new(NULL), *p2 = zf_ctx_new(NULL), *step = zf_ctx_new(NULL);
    zf_nn n1 = zf_nn_init(p1, ZF_F32, 1), n2 = zf_nn_init(p2, ZF_F64, 2);
    zf_module *a = zf_nn_sequential(&n1, 2, (zf_module *[]){zf_nn_linear(&n1, 4, 3, true), zf_nn_batch_norm1d(&n1, 3, 1e-5, 0.1)});
    zf_module *b = zf_nn_sequential(&n2, 2, (zf_module *[]){zf_nn_linear(&n2, 4, 3, true), zf_nn_batch_norm1d(&n2, 3, 1e-5, 0.1)});
    zf_named_tensors *sa = zf_module_state_dict(a, step);
    CHECK(zf_module_load_state_dict(b, sa, true) == ZF_OK); /* f32 -> f64 */
    double w0;
    zf_get(zf_module_param(zf_module_get(b, "0"), "weight"), (int64_t[]){1, 2}, &w0);
    double w1;
    zf_get(zf_module_param(zf_module_get(a, "0"), "weight"), (int64_t[]){1, 2}, &w1);
    CHECK(w0 == w1);
    /* wrong shape: error naming the entry, nothing written */
    zf_module *c = zf_nn_sequential(&n2, 2, (zf_module *[]){zf_nn_linear(&n2, 4, 5, true), zf_nn_batch_norm1d(&n2, 5, 1e-5, 0.1)});
    zf_tensor *cw = zf_module_param(zf_module_get(c, "0"), "weight");
    double before;
    zf_get(cw, (int64_t[]){0, 0}, &before);
    CHECK(zf_module_load_state_dict(c, sa, true) == ZF_ERR_SHAPE && strstr(zf_last_error(), "0.weight"));
    double after;
    zf_get(cw, (int64_t[]){0, 0}, &after);
    CHECK(before == after);
    /* strict: missing / unexpected entries */
    zf_named_tensors *partial = zf_named_new(step, 1);
    zf_named_push(step, partial, "0.weight", sa->tensors[0]);
    CHECK(zf_module_load_state_dict(b, partial, true) == ZF_ERR_FORMAT);
    CHECK(zf_module_load_state_dict(b, partial, false) == ZF_OK);
    zf_named_tensors *extra = zf_named_new(step, sa->n + 1);
    for (int i = 0; i < sa->n; i++) zf_named_push(step, extra, sa->names[i], sa->tensors[i]);
    zf_named_push(step, extra, "2.weight", sa->tensors[0]);
    CHECK(zf_module_load_state_dict(b, extra, true) == ZF_ERR_FORMAT && strstr(zf_last_error(), "2.weight"));
    CHECK(zf_named_push(step, partial, "x", NULL) == ZF_ERR_INVALID_ARG); /* full */
    zf_ctx_free(step);
    zf_ctx_free(p1);
    zf_ctx_free(p2);
}

static void test_bad_input(void) {
    zf_ctx *params = zf_ctx_new(NULL), *step = zf_ctx_new(NULL);
    zf_nn nn = zf_nn_init(params, ZF_F32, 1);
    zf_module *lin = zf_nn_linear(&nn, 4, 3, true);
    CHECK(zf_module_forward(lin, step, zf_ones(step, ZF_F32, 2, (int64_t[]){2, 5})) == NULL &&
          zf_last_status() == ZF_ERR_SHAPE && strstr(zf_last_error(), "linear"));
    CHECK(zf_module_forward(lin, step, zf_ones(step, ZF_F64, 2, (int64_t[]){2, 4})) == NULL &&
          zf_last_status() == ZF_ERR_DTYPE);
    CHECK(zf_module_forward(lin, step, NULL) == NULL);
    zf_module *conv = zf_nn_conv2d(&nn, 3, 4, 3, 3, NULL, true);
    CHECK(zf_module_forward(conv, step, zf_ones(step, ZF_F32, 4, (int64_t[]){1, 2, 8, 8})) == NULL &&
          zf_last_status() == ZF_ERR_SHAPE);
    CHECK(zf_nn_conv2d(&nn, 3, 4, 3, 3, &(zf_conv2d_params){.groups = 2}, true) == NULL &&
          zf_last_status() == ZF_ERR_INVALID_ARG);
    zf_module *bn = zf_nn_batch_norm2d(&nn, 3, 1e-5, 0.1);
    CHECK(zf_module_forward(bn, step, zf_ones(step, ZF_F32, 2, (int64_t[]){4, 3})) == NULL &&
          zf_last_status() == ZF_ERR_SHAPE);
    zf_nn bad = zf_nn_init(params, ZF_I32, 1);
    CHECK(zf_nn_linear(&bad, 2, 2, true) == NULL && zf_last_status() == ZF_ERR_DTYPE);
    zf_nn none = {0};
    CHECK(zf_nn_relu(&none) == NULL && zf_last_status() == ZF_ERR_INVALID_ARG);
    CHECK(zf_nn_max_pool2d(&nn, NULL) == NULL);
    CHECK(zf_nn_layer_norm(&nn, 0, NULL, 1e-5, true) == NULL);
    CHECK(zf_layer_norm(step, zf_ones(step, ZF_F32, 2, (int64_t[]){2, 3}), 1, zf_ones(step, ZF_F32, 1, (int64_t[]){4}),
                        NULL, 1e-5) == NULL &&
          zf_last_status() == ZF_ERR_SHAPE);
    zf_ctx_free(step);
    zf_ctx_free(params);
}

/* A few LeNet-5 training steps (dropout, batch norm, Adam) give the same
 * bits with 1 and 3 threads. */
static void train_bits(int threads, double *losses, float *w0) {
    zf_engine *e = zf_cpu_engine_new(threads);
    zf_ctx *params = zf_ctx_new(e), *step = zf_ctx_new(e);
    zf_nn nn = zf_nn_init(params, ZF_F32, 3);
    zf_pool2d_params pool = {.kernel = {2, 2}};
    zf_module *m = zf_nn_sequential(
        &nn, 12,
        (zf_module *[]){zf_nn_conv2d(&nn, 1, 6, 5, 5, NULL, true), zf_nn_batch_norm2d(&nn, 6, 1e-5, 0.1),
                        zf_nn_relu(&nn), zf_nn_max_pool2d(&nn, &pool), zf_nn_conv2d(&nn, 6, 16, 5, 5, NULL, true),
                        zf_nn_relu(&nn), zf_nn_max_pool2d(&nn, &pool), zf_nn_flatten(&nn, 1, -1),
                        zf_nn_linear(&nn, 256, 120, true), zf_nn_dropout(&nn, 0.2), zf_nn_relu(&nn),
                        zf_nn_linear(&nn, 120, 10, true)});
    zf_module_set_rng(m, 5, 0);
    zf_adam_params ap = zf_adam_defaults();
    zf_optimizer *opt = zf_adam_new(zf_module_named_parameters(m, params), &ap);
    for (int s = 0; s < 4; s++) {
        zf_ctx_reset(step);
        zf_tensor *x = zf_rand(step, ZF_F32, 4, (int64_t[]){37, 1, 28, 28}, 9, (uint64_t)s);
        zf_tensor *y = zf_cast(step, zf_mul_scalar(step, zf_rand(step, ZF_F32, 1, (int64_t[]){37}, 10, (uint64_t)s), 10),
                               ZF_I64);
        zf_tensor *l = zf_cross_entropy(step, zf_module_forward(m, step, x), y, 0.1, ZF_REDUCTION_MEAN);
        zf_optim_zero_grad(opt);
        losses[s] = l && zf_backward(step, l, NULL) == ZF_OK && zf_optim_step(opt) == ZF_OK ? zf_item(l) : NAN;
    }
    memcpy(w0, zf_data(zf_module_param(zf_module_get(m, "0"), "weight")), 150 * sizeof(float));
    zf_optim_free(opt);
    zf_ctx_free(step);
    zf_ctx_free(params);
    zf_engine_free(e);
}

static void test_determinism(void) {
    double l1[4], l3[4];
    float w1[150], w3[150];
    train_bits(1, l1, w1);
    train_bits(3, l3, w3);
    CHECK(!isnan(l1[3]) && memcmp(l1, l3, sizeof l1) == 0);
    CHECK(memcmp(w1, w3, sizeof w1) == 0);
}

int main(void) {
    test_determinism();
    test_names();
    test_init();
    test_layer_grads();
    test_embedding();
    test_batchnorm_stats();
    test_dropout();
    test_state_dict();
    test_bad_input();
    ZF_TEST_MAIN_END();
}
