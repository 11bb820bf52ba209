/* Losses: values against formulas computed here, PyTorch's semantics
 * (label smoothing, ignored targets, reductions), finite-difference
 * gradients in f64, numerical stability and bad input. */
#include <string.h>

#include "zf_gradcheck.h"
#include "zf_test.h"

/* reference cross-entropy of one row */
static double ce_row(const double *x, int64_t C, int64_t t, double ls) {
    double m = -INFINITY, s = 0, sum_logp = 0;
    for (int64_t c = 0; c < C; c++) m = fmax(m, x[c]);
    for (int64_t c = 0; c < C; c++) s += exp(x[c] - m);
    double lse = m + log(s);
    for (int64_t c = 0; c < C; c++) sum_logp += x[c] - lse;
    return -(1 - ls) * (x[t] - lse) - ls / (double)C * sum_logp;
}

static void test_cross_entropy_values(zf_ctx *ctx) {
    const int64_t N = 5, C = 7;
    zf_tensor *x = zf_randn(ctx, ZF_F64, 2, (int64_t[]){N, C}, 3, 0);
    int64_t tg[5] = {0, 6, 3, ZF_IGNORE_INDEX, 2};
    zf_tensor *t = zf_from_data(ctx, ZF_I64, 1, (int64_t[]){N}, tg);
    const double *xd = zf_data(x);
    for (int k = 0; k < 2; k++) {
        double ls = k ? 0.1 : 0.0, sum = 0;
        for (int n = 0; n < N; n++)
            if (tg[n] != ZF_IGNORE_INDEX) sum += ce_row(xd + n * C, C, tg[n], ls);
        zf_tensor *mean = zf_cross_entropy(ctx, x, t, ls, ZF_REDUCTION_MEAN);
        zf_tensor *s = zf_cross_entropy(ctx, x, t, ls, ZF_REDUCTION_SUM);
        zf_tensor *none = zf_cross_entropy(ctx, x, t, ls, ZF_REDUCTION_NONE);
        CHECK(mean && mean->ndim == 0);
        CHECK_NEAR(zf_item(mean), sum / 4, 1e-13);
        CHECK_NEAR(zf_item(s), sum, 1e-13);
        CHECK(none && none->ndim == 1 && ((double *)zf_data(none))[3] == 0);
        CHECK_NEAR(((double *)zf_data(none))[1], ce_row(xd + C, C, 6, ls), 1e-13);
    }
    /* i32 targets; f32 logits; huge logits stay finite */
    zf_tensor *big = zf_from_data(ctx, ZF_F32, 2, (int64_t[]){2, 3}, (float[]){1000, 0, -1000, -5e4f, 5e4f, 0});
    zf_tensor *t32 = zf_from_data(ctx, ZF_I32, 1, (int64_t[]){2}, (int32_t[]){0, 0});
    zf_tensor *lb = zf_cross_entropy(ctx, big, t32, 0.0, ZF_REDUCTION_NONE);
    CHECK(lb && ((float *)zf_data(lb))[0] == 0.0f && fabsf(((float *)zf_data(lb))[1] - 1e5f) < 1);
    /* all ignored: mean is NaN (0/0), as PyTorch */
    zf_tensor *ti = zf_from_data(ctx, ZF_I64, 1, (int64_t[]){2}, (int64_t[]){ZF_IGNORE_INDEX, ZF_IGNORE_INDEX});
    zf_tensor *li = zf_cross_entropy(ctx, big, ti, 0.0, ZF_REDUCTION_MEAN);
    CHECK(li && isnan(zf_item(li)));
    /* nll_loss on log_softmax equals cross_entropy */
    zf_tensor *nll = zf_nll_loss(ctx, zf_log_softmax(ctx, x, 1), t, ZF_REDUCTION_MEAN);
    CHECK(nll && fabs(zf_item(nll) - zf_item(zf_cross_entropy(ctx, x, t, 0.0, ZF_REDUCTION_MEAN))) < 1e-13);
}

typedef struct {
    zf_tensor *target, *pos_weight;
    double ls;
    zf_reduction red;
    int which; /* 0 ce, 1 mse, 2 bce, 3 nll */
} loss_arg;

static zf_tensor *loss_fn(zf_ctx *ctx, zf_tensor *const *in, void *arg) {
    loss_arg *a = arg;
    switch (a->which) {
    case 0: return zf_cross_entropy(ctx, in[0], a->target, a->ls, a->red);
    case 1: return zf_mse_loss(ctx, in[0], in[1], a->red);
    case 2: return zf_bce_with_logits(ctx, in[0], in[1], a->pos_weight, a->red);
    default: return zf_nll_loss(ctx, zf_log_softmax(ctx, in[0], 1), a->target, a->red);
    }
}

static void test_loss_grads(zf_ctx *ctx) {
    zf_tensor *t = zf_from_data(ctx, ZF_I64, 1, (int64_t[]){4}, (int64_t[]){2, ZF_IGNORE_INDEX, 0, 4});
    zf_reduction reds[3] = {ZF_REDUCTION_MEAN, ZF_REDUCTION_SUM, ZF_REDUCTION_NONE};
    for (int r = 0; r < 3; r++) {
        for (int k = 0; k < 2; k++) {
            zf_tensor *in[1] = {gc_leaf(ctx, 2, (int64_t[]){4, 5}, 10 + r)};
            loss_arg a = {t, NULL, k * 0.2, reds[r], 0};
            CHECK(gradcheck("cross_entropy", loss_fn, 1, in, &a, 1e-6, 100) < 1e-6);
        }
        zf_tensor *in[1] = {gc_leaf(ctx, 2, (int64_t[]){4, 5}, 20 + r)};
        loss_arg a = {t, NULL, 0, reds[r], 3};
        CHECK(gradcheck("nll", loss_fn, 1, in, &a, 1e-6, 100) < 1e-6);
        zf_tensor *in2[2] = {gc_leaf(ctx, 2, (int64_t[]){3, 4}, 30 + r), gc_leaf(ctx, 2, (int64_t[]){3, 4}, 40 + r)};
        loss_arg m = {NULL, NULL, 0, reds[r], 1};
        CHECK(gradcheck("mse", loss_fn, 2, in2, &m, 1e-6, 100) < 1e-6);
        zf_tensor *y = zf_rand(ctx, ZF_F64, 2, (int64_t[]){3, 4}, 50 + r, 0);
        zf_tensor *in3[2] = {gc_leaf(ctx, 2, (int64_t[]){3, 4}, 60 + r), y};
        zf_tensor *pw = zf_add_scalar(ctx, zf_rand(ctx, ZF_F64, 1, (int64_t[]){4}, 70 + r, 0), 0.5);
        loss_arg b = {NULL, r == 1 ? pw : NULL, 0, reds[r], 2};
        CHECK(gradcheck("bce", loss_fn, 2, in3, &b, 1e-6, 100) < 1e-6);
    }
}

static void test_bce_mse_values(zf_ctx *ctx) {
    /* stable for large logits: l = softplus(x) - x*y */
    zf_tensor *x = zf_from_data(ctx, ZF_F32, 1, (int64_t[]){4}, (float[]){100, -100, 0, 3});
    zf_tensor *y = zf_from_data(ctx, ZF_F32, 1, (int64_t[]){4}, (float[]){0, 1, 1, 0.25f});
    zf_tensor *l = zf_bce_with_logits(ctx, x, y, NULL, ZF_REDUCTION_NONE);
    const float *ld = l ? zf_data(l) : NULL;
    CHECK(ld && fabsf(ld[0] - 100) < 1e-4f && fabsf(ld[1] - 100) < 1e-4f);
    CHECK(ld && fabsf(ld[2] - (float)log(2.0)) < 1e-6f && fabsf(ld[3] - (float)(log1p(exp(3.0)) - 0.75)) < 1e-5f);
    zf_requires_grad(x, true);
    zf_tensor *lm = zf_bce_with_logits(ctx, x, y, NULL, ZF_REDUCTION_SUM);
    CHECK(lm && zf_backward(ctx, lm, NULL) == ZF_OK);
    const float *g = x->grad ? zf_data(x->grad) : NULL;
    CHECK(g && fabsf(g[0] - 1) < 1e-6f && fabsf(g[1] + 1) < 1e-6f && fabsf(g[2] + 0.5f) < 1e-6f);
    zf_tensor *a = zf_from_data(ctx, ZF_F64, 1, (int64_t[]){3}, (double[]){1, 2, 3});
    zf_tensor *b = zf_from_data(ctx, ZF_F64, 1, (int64_t[]){3}, (double[]){1, 0, 5});
    CHECK_NEAR(zf_item(zf_mse_loss(ctx, a, b, ZF_REDUCTION_MEAN)), 8.0 / 3, 1e-15);
    CHECK_NEAR(zf_item(zf_mse_loss(ctx, a, b, ZF_REDUCTION_SUM)), 8.0, 1e-15);
}

static void test_loss_errors(zf_ctx *ctx) {
    zf_tensor *x = zf_zeros(ctx, ZF_F32, 2, (int64_t[]){3, 4});
    zf_tensor *t = zf_from_data(ctx, ZF_I64, 1, (int64_t[]){3}, (int64_t[]){0, 4, 1});
    CHECK(zf_cross_entropy(ctx, x, t, 0, ZF_REDUCTION_MEAN) == NULL && zf_last_status() == ZF_ERR_INDEX &&
          strstr(zf_last_error(), "row 1"));
    zf_tensor *neg = zf_from_data(ctx, ZF_I64, 1, (int64_t[]){3}, (int64_t[]){0, 1, -3});
    CHECK(zf_cross_entropy(ctx, x, neg, 0, ZF_REDUCTION_MEAN) == NULL && zf_last_status() == ZF_ERR_INDEX);
    zf_tensor *t2 = zf_from_data(ctx, ZF_I64, 1, (int64_t[]){2}, (int64_t[]){0, 1});
    CHECK(zf_cross_entropy(ctx, x, t2, 0, ZF_REDUCTION_MEAN) == NULL && zf_last_status() == ZF_ERR_SHAPE);
    CHECK(zf_cross_entropy(ctx, x, zf_zeros(ctx, ZF_F32, 1, (int64_t[]){3}), 0, ZF_REDUCTION_MEAN) == NULL &&
          zf_last_status() == ZF_ERR_DTYPE);
    CHECK(zf_cross_entropy(ctx, x, t2, 1.5, ZF_REDUCTION_MEAN) == NULL);
    CHECK(zf_cross_entropy(ctx, zf_zeros(ctx, ZF_I32, 2, (int64_t[]){3, 4}), t, 0, ZF_REDUCTION_MEAN) == NULL &&
          zf_last_status() == ZF_ERR_DTYPE);
    CHECK(zf_cross_entropy(ctx, x, t, 0, (zf_reduction)9) == NULL && zf_last_status() == ZF_ERR_INVALID_ARG);
    CHECK(zf_mse_loss(ctx, x, zf_zeros(ctx, ZF_F32, 2, (int64_t[]){3, 5}), ZF_REDUCTION_MEAN) == NULL &&
          zf_last_status() == ZF_ERR_SHAPE);
    CHECK(zf_mse_loss(ctx, zf_zeros(ctx, ZF_F32, 1, (int64_t[]){4}), x, ZF_REDUCTION_MEAN) == NULL &&
          zf_last_status() == ZF_ERR_SHAPE);
    CHECK(zf_bce_with_logits(ctx, x, zf_zeros(ctx, ZF_F64, 2, (int64_t[]){3, 4}), NULL, ZF_REDUCTION_MEAN) == NULL &&
          zf_last_status() == ZF_ERR_DTYPE);
    CHECK(zf_bce_with_logits(ctx, x, zf_zeros(ctx, ZF_F32, 1, (int64_t[]){4}), NULL, ZF_REDUCTION_MEAN) == NULL &&
          zf_last_status() == ZF_ERR_SHAPE);
    CHECK(zf_cross_entropy(ctx, NULL, t, 0, ZF_REDUCTION_MEAN) == NULL);
}

int main(void) {
    zf_ctx *ctx = zf_ctx_new(NULL);
    test_cross_entropy_values(ctx);
    test_loss_grads(ctx);
    test_bce_mse_values(ctx);
    test_loss_errors(ctx);
    zf_ctx_free(ctx);
    ZF_TEST_MAIN_END();
}
