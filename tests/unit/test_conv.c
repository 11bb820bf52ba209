/* Convolution and pooling ops: forward against plain loops in f64,
 * finite-difference gradients, f32 accuracy on LeNet-5's shapes, PyTorch's
 * max-pool tie rule, thread-count independence and bad arguments. */
#include <stdlib.h>
#include <string.h>

#include "zf_gradcheck.h"
#include "zf_test.h"

typedef struct {
    zf_conv2d_params p;
    bool bias;
} conv_case;

/* y[n, o, oh, ow] by the definition. */
static void conv_ref(const zf_tensor *x, const zf_tensor *w, const zf_tensor *b, const zf_conv2d_params *p,
                     double *y, int64_t OH, int64_t OW) {
    int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    int64_t O = w->shape[0], Cg = w->shape[1], KH = w->shape[2], KW = w->shape[3];
    int64_t G = p->groups ? p->groups : 1, Og = O / G;
    int64_t sh = p->stride[0] ? p->stride[0] : 1, sw = p->stride[1] ? p->stride[1] : 1;
    int64_t dh = p->dilation[0] ? p->dilation[0] : 1, dw = p->dilation[1] ? p->dilation[1] : 1;
    const double *xd = zf_data(x), *wd = zf_data(w), *bd = b ? zf_data(b) : NULL;
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < O; o++)
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    double s = bd ? bd[o] : 0;
                    int64_t g = o / Og;
                    for (int64_t c = 0; c < Cg; c++)
                        for (int64_t i = 0; i < KH; i++)
                            for (int64_t j = 0; j < KW; j++) {
                                int64_t ih = oh * sh - p->padding[0] + i * dh, iw = ow * sw - p->padding[1] + j * dw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                s += xd[((n * C + g * Cg + c) * H + ih) * W + iw] * wd[((o * Cg + c) * KH + i) * KW + j];
                            }
                    y[((n * O + o) * OH + oh) * OW + ow] = s;
                }
}

static zf_tensor *conv_fn(zf_ctx *ctx, zf_tensor *const *in, void *arg) {
    conv_case *cc = arg;
    return zf_conv2d(ctx, in[0], in[1], cc->bias ? in[2] : NULL, &cc->p);
}

static void test_conv_cases(zf_ctx *ctx) {
    struct {
        int64_t N, C, H, W, O, KH, KW;
        conv_case cc;
    } cases[] = {
        {2, 3, 7, 6, 4, 3, 3, {{{1, 1}, {0, 0}, {1, 1}, 1}, true}},
        {3, 2, 8, 9, 3, 3, 2, {{{2, 1}, {1, 2}, {1, 1}, 1}, true}},
        {2, 4, 9, 9, 6, 3, 3, {{{1, 2}, {2, 1}, {2, 1}, 2}, false}},
        {1, 3, 5, 5, 2, 1, 1, {{{1, 1}, {0, 0}, {1, 1}, 1}, true}},  /* 1x1 direct */
        {2, 4, 5, 4, 4, 1, 1, {{{1, 1}, {0, 0}, {1, 1}, 4}, false}}, /* depthwise 1x1 */
        {5, 6, 6, 7, 6, 3, 3, {{{2, 2}, {1, 1}, {1, 1}, 6}, true}},  /* depthwise 3x3 */
        {4, 1, 12, 12, 3, 5, 5, {{{1, 1}, {0, 0}, {1, 1}, 0}, true}}, /* zeros = defaults */
        {2, 2, 4, 4, 2, 2, 2, {{{3, 3}, {1, 1}, {2, 2}, 1}, true}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int64_t xs[4] = {cases[k].N, cases[k].C, cases[k].H, cases[k].W};
        int64_t G = cases[k].cc.p.groups ? cases[k].cc.p.groups : 1;
        int64_t wsh[4] = {cases[k].O, cases[k].C / G, cases[k].KH, cases[k].KW};
        zf_tensor *in[3] = {gc_leaf(ctx, 4, xs, 10 + k), gc_leaf(ctx, 4, wsh, 20 + k),
                            gc_leaf(ctx, 1, &cases[k].O, 30 + k)};
        zf_tensor *y = conv_fn(ctx, in, &cases[k].cc);
        CHECK(y != NULL);
        if (!y) continue;
        double *ref = calloc((size_t)zf_numel(y), sizeof *ref);
        conv_ref(in[0], in[1], cases[k].cc.bias ? in[2] : NULL, &cases[k].cc.p, ref, y->shape[2], y->shape[3]);
        double err = 0;
        const double *yd = zf_data(y);
        for (int64_t i = 0; i < zf_numel(y); i++) err = fmax(err, fabs(yd[i] - ref[i]));
        free(ref);
        CHECK(err < 1e-12);
        /* f32 agrees with the f64 result */
        zf_tensor *y32 = zf_conv2d(ctx, zf_cast(ctx, in[0], ZF_F32), zf_cast(ctx, in[1], ZF_F32),
                                   cases[k].cc.bias ? zf_cast(ctx, in[2], ZF_F32) : NULL, &cases[k].cc.p);
        double e32 = 0;
        for (int64_t i = 0; y32 && i < zf_numel(y); i++) e32 = fmax(e32, fabs(((float *)zf_data(y32))[i] - yd[i]));
        CHECK(y32 && e32 < 1e-4);
        char what[32];
        snprintf(what, sizeof what, "conv2d case %zu", k);
        CHECK(gradcheck(what, conv_fn, 3, in, &cases[k].cc, 1e-6, 200) < 1e-6);
    }
}

/* Same bits with 1 and 3 threads, forward and both gradients: a batch split
 * over threads, and a single sample whose products are split instead. */
static void conv_threads_case(const int64_t *xs, const int64_t *wsh) {
    zf_engine *e1 = zf_cpu_engine_new(1), *e3 = zf_cpu_engine_new(3);
    zf_ctx *c1 = zf_ctx_new(e1), *c3 = zf_ctx_new(e3);
    zf_tensor *out[2][3];
    zf_ctx *cs[2] = {c1, c3};
    for (int k = 0; k < 2; k++) {
        zf_ctx *c = cs[k];
        zf_tensor *x = zf_randn(c, ZF_F32, 4, xs, 5, 0);
        zf_tensor *w = zf_randn(c, ZF_F32, 4, wsh, 6, 0);
        zf_requires_grad(x, true);
        zf_requires_grad(w, true);
        zf_tensor *y = zf_conv2d(c, x, w, NULL, &(zf_conv2d_params){.padding = {1, 1}});
        zf_tensor *l = zf_sum(c, zf_mul(c, y, y), 0, NULL, false);
        CHECK(l && zf_backward(c, l, NULL) == ZF_OK);
        out[k][0] = y, out[k][1] = x->grad, out[k][2] = w->grad;
    }
    for (int i = 0; i < 3; i++)
        CHECK(out[0][i] && out[1][i] &&
              memcmp(zf_data(out[0][i]), zf_data(out[1][i]), zf_nbytes(out[0][i])) == 0);
    zf_ctx_free(c1);
    zf_ctx_free(c3);
    zf_engine_free(e1);
    zf_engine_free(e3);
}

static void test_conv_threads(void) {
    conv_threads_case((int64_t[]){37, 3, 13, 11}, (int64_t[]){8, 3, 3, 3});
    conv_threads_case((int64_t[]){1, 8, 40, 37}, (int64_t[]){16, 8, 3, 3});
    conv_threads_case((int64_t[]){2, 40, 9, 9}, (int64_t[]){64, 40, 3, 3});
}

/* f32 accuracy on LeNet-5's shapes (batch 64): forward, input and weight
 * gradients against the f64 ops on the same values (checked against the
 * definition above), as max|f32 - f64| / max|f64|. The weight gradient sums
 * N*OH*OW products per element (36,864 for the first layer); the kernels
 * keep the chains short (per sample, 8 lanes of OH*OW/8 FMAs, then up to 16
 * partials over the batch) and land at ~2e-7. One FMA chain over the whole
 * batch and all positions lands at 4.8e-6 and 2.3e-6 on these inputs, so the
 * 1e-6 bound tells the two apart. Inputs: x >= 0 (pixels, pooled ReLU outputs),
 * zero-mean weights and upstream gradient. */
static double rel_max_err(zf_tensor *a32, zf_tensor *a64) {
    if (!a32 || !a64) return INFINITY;
    const float *a = zf_data(a32);
    const double *b = zf_data(a64);
    double err = 0, scale = 0;
    for (int64_t i = 0; i < zf_numel(a64); i++) err = fmax(err, fabs(a[i] - b[i])), scale = fmax(scale, fabs(b[i]));
    return err / scale;
}

static void conv_accuracy_case(const int64_t *xs, const int64_t *wsh, uint64_t seed) {
    zf_ctx *c = zf_ctx_new(NULL);
    int64_t ys[4] = {xs[0], wsh[0], xs[2] - wsh[2] + 1, xs[3] - wsh[3] + 1};
    zf_tensor *x32 = zf_abs(c, zf_randn(c, ZF_F32, 4, xs, seed, 0));
    zf_tensor *w32 = zf_mul(c, zf_randn(c, ZF_F32, 4, wsh, seed, 1), zf_scalar(c, ZF_F32, 0.2));
    zf_tensor *gy32 = zf_randn(c, ZF_F32, 4, ys, seed, 2);
    zf_tensor *out[2][3];
    for (int k = 0; k < 2; k++) {
        zf_dtype dt = k ? ZF_F64 : ZF_F32;
        zf_tensor *x = zf_clone(c, zf_cast(c, x32, dt)), *w = zf_clone(c, zf_cast(c, w32, dt));
        zf_requires_grad(x, true);
        zf_requires_grad(w, true);
        zf_tensor *y = zf_conv2d(c, x, w, NULL, NULL);
        zf_tensor *l = zf_sum(c, zf_mul(c, y, zf_cast(c, gy32, dt)), 0, NULL, false);
        CHECK(l && zf_backward(c, l, NULL) == ZF_OK);
        out[k][0] = y, out[k][1] = x->grad, out[k][2] = w->grad;
    }
    double ey = rel_max_err(out[0][0], out[1][0]), edx = rel_max_err(out[0][1], out[1][1]);
    double edw = rel_max_err(out[0][2], out[1][2]);
    if (ey > 1e-6 || edx > 1e-6 || edw > 1e-6)
        fprintf(stderr, "conv f32 accuracy, w [%lld, %lld, %lld, %lld]: y %.1e, dx %.1e, dw %.1e\n", (long long)wsh[0],
                (long long)wsh[1], (long long)wsh[2], (long long)wsh[3], ey, edx, edw);
    CHECK(ey <= 1e-6);
    CHECK(edx <= 1e-6);
    CHECK(edw <= 1e-6);
    zf_ctx_free(c);
}

static void test_conv_accuracy(void) {
    conv_accuracy_case((int64_t[]){64, 1, 28, 28}, (int64_t[]){6, 1, 5, 5}, 71);
    conv_accuracy_case((int64_t[]){64, 6, 12, 12}, (int64_t[]){16, 6, 5, 5}, 72);
}

static void test_conv_errors(zf_ctx *ctx) {
    zf_tensor *x = zf_zeros(ctx, ZF_F32, 4, (int64_t[]){1, 3, 5, 5});
    zf_tensor *w = zf_zeros(ctx, ZF_F32, 4, (int64_t[]){2, 2, 3, 3});
    CHECK(zf_conv2d(ctx, x, w, NULL, NULL) == NULL && zf_last_status() == ZF_ERR_SHAPE);
    zf_tensor *w2 = zf_zeros(ctx, ZF_F32, 4, (int64_t[]){2, 3, 7, 7});
    CHECK(zf_conv2d(ctx, x, w2, NULL, NULL) == NULL && zf_last_status() == ZF_ERR_SHAPE);
    zf_tensor *w3 = zf_zeros(ctx, ZF_F32, 4, (int64_t[]){2, 3, 3, 3});
    CHECK(zf_conv2d(ctx, x, w3, NULL, &(zf_conv2d_params){.stride = {-1, 1}}) == NULL &&
          zf_last_status() == ZF_ERR_INVALID_ARG);
    CHECK(zf_conv2d(ctx, x, w3, zf_zeros(ctx, ZF_F32, 1, (int64_t[]){3}), NULL) == NULL &&
          zf_last_status() == ZF_ERR_SHAPE);
    CHECK(zf_conv2d(ctx, x, zf_zeros(ctx, ZF_F64, 4, (int64_t[]){2, 3, 3, 3}), NULL, NULL) == NULL &&
          zf_last_status() == ZF_ERR_DTYPE);
    CHECK(zf_conv2d(ctx, zf_zeros(ctx, ZF_F32, 2, (int64_t[]){3, 5}), w3, NULL, NULL) == NULL &&
          zf_last_status() == ZF_ERR_SHAPE);
    zf_tensor *y3 = zf_conv2d(ctx, zf_zeros(ctx, ZF_F32, 3, (int64_t[]){3, 5, 5}), w3, NULL, NULL);
    CHECK(y3 && y3->ndim == 3 && y3->shape[0] == 2 && y3->shape[1] == 3);
    CHECK(zf_max_pool2d(ctx, x, NULL) == NULL && zf_last_status() == ZF_ERR_INVALID_ARG);
    CHECK(zf_max_pool2d(ctx, x, &(zf_pool2d_params){.kernel = {2, 2}, .padding = {2, 0}}) == NULL &&
          zf_last_status() == ZF_ERR_INVALID_ARG);
    CHECK(zf_avg_pool2d(ctx, x, &(zf_pool2d_params){.kernel = {7, 7}}) == NULL && zf_last_status() == ZF_ERR_SHAPE);
}

typedef struct {
    bool is_max;
    zf_pool2d_params p;
} pool_case;

static zf_tensor *pool_fn(zf_ctx *ctx, zf_tensor *const *in, void *arg) {
    pool_case *pc = arg;
    return pc->is_max ? zf_max_pool2d(ctx, in[0], &pc->p) : zf_avg_pool2d(ctx, in[0], &pc->p);
}

static void test_pool(zf_ctx *ctx) {
    /* 4x4 input 0..15, 2x2 windows */
    zf_tensor *x = zf_reshape(ctx, zf_arange(ctx, ZF_F32, 0, 16, 1), 4, (int64_t[]){1, 1, 4, 4});
    zf_tensor *m = zf_max_pool2d(ctx, x, &(zf_pool2d_params){.kernel = {2, 2}});
    const float *md = m ? zf_data(m) : NULL;
    CHECK(m && m->shape[2] == 2 && md[0] == 5 && md[1] == 7 && md[2] == 13 && md[3] == 15);
    zf_tensor *a = zf_avg_pool2d(ctx, x, &(zf_pool2d_params){.kernel = {2, 2}});
    const float *ad = a ? zf_data(a) : NULL;
    CHECK(a && ad[0] == 2.5f && ad[3] == 12.5f);
    /* padding with and without count_include_pad, ceil_mode */
    zf_tensor *a2 = zf_avg_pool2d(ctx, x, &(zf_pool2d_params){.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}});
    CHECK(a2 && a2->shape[2] == 2 && fabs(((float *)zf_data(a2))[0] - (0 + 1 + 4 + 5) / 9.0) < 1e-6);
    zf_tensor *a3 = zf_avg_pool2d(
        ctx, x, &(zf_pool2d_params){.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}, .exclude_pad = true});
    CHECK(a3 && fabs(((float *)zf_data(a3))[0] - 2.5) < 1e-6);
    zf_tensor *c = zf_max_pool2d(ctx, x, &(zf_pool2d_params){.kernel = {3, 3}, .stride = {2, 2}, .ceil_mode = true});
    CHECK(c && c->shape[2] == 2 && ((float *)zf_data(c))[3] == 15);
    zf_tensor *c2 = zf_max_pool2d(ctx, x, &(zf_pool2d_params){.kernel = {2, 2}, .stride = {3, 3}, .ceil_mode = true});
    CHECK(c2 && c2->shape[2] == 2); /* (4-2+2)/3+1 = 2, last window starts at 3 < 4 */

    /* ties: all equal -> the first element of each window gets the gradient */
    zf_tensor *t = zf_ones(ctx, ZF_F64, 4, (int64_t[]){1, 1, 2, 4});
    zf_requires_grad(t, true);
    zf_tensor *tm = zf_max_pool2d(ctx, t, &(zf_pool2d_params){.kernel = {2, 2}});
    CHECK(tm && zf_backward(ctx, zf_sum(ctx, tm, 0, NULL, false), NULL) == ZF_OK);
    const double *g = t->grad ? zf_data(t->grad) : NULL;
    CHECK(g && g[0] == 1 && g[1] == 0 && g[2] == 1 && g[3] == 0 && g[4] == 0 && g[5] == 0);
    /* overlapping windows accumulate */
    zf_tensor *t2 = zf_from_data(ctx, ZF_F64, 4, (int64_t[]){1, 1, 1, 3}, (double[]){1, 5, 2});
    zf_requires_grad(t2, true);
    zf_tensor *tm2 = zf_max_pool2d(ctx, t2, &(zf_pool2d_params){.kernel = {1, 2}, .stride = {1, 1}});
    CHECK(tm2 && zf_backward(ctx, zf_sum(ctx, tm2, 0, NULL, false), NULL) == ZF_OK);
    CHECK(t2->grad && ((double *)zf_data(t2->grad))[1] == 2);
    /* NaN wins */
    zf_tensor *tn = zf_from_data(ctx, ZF_F32, 4, (int64_t[]){1, 1, 1, 2}, (float[]){NAN, 3});
    zf_tensor *mn = zf_max_pool2d(ctx, tn, &(zf_pool2d_params){.kernel = {1, 2}});
    CHECK(mn && isnan(((float *)zf_data(mn))[0]));

    pool_case cases[] = {
        {true, {.kernel = {2, 2}}},
        {true, {.kernel = {3, 2}, .stride = {2, 1}, .padding = {1, 1}, .dilation = {1, 2}, .ceil_mode = true}},
        {false, {.kernel = {2, 3}, .stride = {1, 2}, .padding = {1, 1}}},
        {false, {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}, .exclude_pad = true, .ceil_mode = true}},
        {false, {.kernel = {2, 2}, .divisor = 3}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        zf_tensor *in[1] = {gc_leaf(ctx, 4, (int64_t[]){2, 3, 7, 6}, 40 + k)};
        char what[32];
        snprintf(what, sizeof what, "pool case %zu", k);
        CHECK(gradcheck(what, pool_fn, 1, in, &cases[k], 1e-6, 300) < 1e-6);
    }
}

int main(void) {
    zf_ctx *ctx = zf_ctx_new(NULL);
    zf_ctx_set_poison(ctx, true);
    test_conv_cases(ctx);
    test_conv_threads();
    test_conv_accuracy();
    test_conv_errors(ctx);
    test_pool(ctx);
    zf_ctx_free(ctx);
    ZF_TEST_MAIN_END();
}
