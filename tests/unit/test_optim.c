/* Optimizers against their update formulas written out here in f64 (SGD
 * with momentum / dampening / Nesterov / weight decay, Adam, AdamW), the EMA
 * of the weights (values, swap, state, misuse), state export and import,
 * skipped parameters, no allocation per step, LR schedules, gradient
 * clipping and bad arguments. */
#include <string.h>

#include "zf_test.h"

#define N 6

/* A parameter and a fixed sequence of gradients (one per step). */
static double g_of(int step, int i) { return sin(1.3 * i + 0.7 * step) + 0.1 * step; }

typedef struct {
    double lr, mom, damp, wd;
    bool nesterov;
} sgd_ref;

static void ref_sgd(const sgd_ref *h, double *p, int steps) {
    double buf[N];
    for (int s = 0; s < steps; s++)
        for (int i = 0; i < N; i++) {
            double d = g_of(s, i) + h->wd * p[i];
            if (h->mom != 0) {
                buf[i] = s == 0 ? d : h->mom * buf[i] + (1 - h->damp) * d;
                d = h->nesterov ? d + h->mom * buf[i] : buf[i];
            }
            p[i] -= h->lr * d;
        }
}

static void ref_adam(const zf_adam_params *h, bool decoupled, double *p, int steps) {
    double m[N] = {0}, v[N] = {0};
    for (int s = 0; s < steps; s++) {
        int t = s + 1;
        for (int i = 0; i < N; i++) {
            double d = g_of(s, i);
            if (decoupled)
                p[i] *= 1 - h->lr * h->weight_decay;
            else
                d += h->weight_decay * p[i];
            m[i] = h->beta1 * m[i] + (1 - h->beta1) * d;
            v[i] = h->beta2 * v[i] + (1 - h->beta2) * d * d;
            double mh = m[i] / (1 - pow(h->beta1, t));
            double den = sqrt(v[i]) / sqrt(1 - pow(h->beta2, t)) + h->eps;
            p[i] -= h->lr * mh / den;
        }
    }
}

/* Runs `steps` steps of opt on parameter p (f64), setting the gradients. */
static void run_steps(zf_optimizer *opt, zf_tensor *p, int first, int steps) {
    for (int s = first; s < first + steps; s++) {
        if (!p->grad) p->grad = zf_zeros(p->ctx, p->dtype, p->ndim, p->shape);
        for (int i = 0; i < N; i++) ((double *)zf_data(p->grad))[i] = g_of(s, i);
        CHECK(zf_optim_step(opt) == ZF_OK);
    }
}

static zf_tensor *make_param(zf_ctx *ctx) {
    zf_tensor *p = zf_zeros(ctx, ZF_F64, 1, (int64_t[]){N});
    for (int i = 0; i < N; i++) ((double *)zf_data(p))[i] = 0.5 - 0.2 * i;
    zf_requires_grad(p, true);
    return p;
}

static double max_diff(const zf_tensor *p, const double *ref) {
    double e = 0;
    for (int i = 0; i < N; i++) e = fmax(e, fabs(((double *)zf_data(p))[i] - ref[i]));
    return e;
}

static void test_sgd(void) {
    sgd_ref cases[] = {{0.1, 0, 0, 0, false}, {0.05, 0.9, 0, 0, false}, {0.05, 0.9, 0.3, 0.01, false},
                       {0.02, 0.8, 0, 0.1, true}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        zf_ctx *ctx = zf_ctx_new(NULL), *tmp = zf_ctx_new(NULL);
        zf_tensor *p = make_param(ctx);
        zf_named_tensors *l = zf_named_new(ctx, 1);
        zf_named_push(ctx, l, "w", p);
        zf_sgd_params sp = {cases[k].lr, cases[k].mom, cases[k].damp, cases[k].wd, cases[k].nesterov};
        zf_optimizer *opt = zf_sgd_new(l, &sp);
        CHECK(opt && strcmp(zf_optim_name(opt), "sgd") == 0);
        run_steps(opt, p, 0, 3);
        double ref[N];
        for (int i = 0; i < N; i++) ref[i] = 0.5 - 0.2 * i;
        ref_sgd(&cases[k], ref, 3);
        CHECK(max_diff(p, ref) < 1e-14);
        CHECK(zf_optim_steps(opt) == 3);
        /* state round trip: a second optimizer continues identically */
        zf_named_tensors *st = zf_optim_state(opt, tmp);
        CHECK(st && st->n == (cases[k].mom != 0 ? 1 : 0));
        if (st && st->n) CHECK(strcmp(st->names[0], "w.momentum_buffer") == 0);
        zf_tensor *p2 = zf_clone(ctx, p);
        zf_requires_grad(p2, true);
        zf_named_tensors *l2 = zf_named_new(ctx, 1);
        zf_named_push(ctx, l2, "w", p2);
        zf_optimizer *opt2 = zf_sgd_new(l2, &sp);
        CHECK(zf_optim_load_state(opt2, st) == ZF_OK);
        run_steps(opt, p, 3, 2);
        run_steps(opt2, p2, 3, 2);
        CHECK(memcmp(zf_data(p), zf_data(p2), zf_nbytes(p)) == 0);
        zf_optim_free(opt);
        zf_optim_free(opt2);
        zf_ctx_free(tmp);
        zf_ctx_free(ctx);
    }
}

static void test_adam(void) {
    for (int decoupled = 0; decoupled < 2; decoupled++) {
        for (int wd = 0; wd < 2; wd++) {
            zf_ctx *ctx = zf_ctx_new(NULL), *tmp = zf_ctx_new(NULL);
            zf_tensor *p = make_param(ctx);
            zf_named_tensors *l = zf_named_new(ctx, 1);
            zf_named_push(ctx, l, "layer.weight", p);
            zf_adam_params h = decoupled ? zf_adamw_defaults() : zf_adam_defaults();
            h.lr = 0.01;
            if (!wd) h.weight_decay = 0;
            else h.weight_decay = 0.05;
            zf_optimizer *opt = decoupled ? zf_adamw_new(l, &h) : zf_adam_new(l, &h);
            size_t used = zf_ctx_used_bytes(ctx);
            run_steps(opt, p, 0, 1);
            size_t used1 = zf_ctx_used_bytes(ctx); /* the grad was allocated by the test */
            run_steps(opt, p, 1, 4);
            CHECK(zf_ctx_used_bytes(ctx) == used1 && used1 >= used);
            double ref[N];
            for (int i = 0; i < N; i++) ref[i] = 0.5 - 0.2 * i;
            ref_adam(&h, decoupled, ref, 5);
            CHECK(max_diff(p, ref) < 1e-14);
            zf_named_tensors *st = zf_optim_state(opt, tmp);
            CHECK(st && st->n == 3 && strcmp(st->names[1], "layer.weight.exp_avg_sq") == 0 &&
                  zf_item(st->tensors[2]) == 5);
            zf_tensor *p2 = zf_clone(ctx, p);
            zf_requires_grad(p2, true);
            zf_named_tensors *l2 = zf_named_new(ctx, 1);
            zf_named_push(ctx, l2, "layer.weight", p2);
            zf_optimizer *opt2 = decoupled ? zf_adamw_new(l2, &h) : zf_adam_new(l2, &h);
            CHECK(zf_optim_load_state(opt2, st) == ZF_OK);
            run_steps(opt, p, 5, 2);
            run_steps(opt2, p2, 5, 2);
            CHECK(memcmp(zf_data(p), zf_data(p2), zf_nbytes(p)) == 0);
            /* incomplete / mismatched state is refused and changes nothing */
            zf_named_tensors *bad = zf_named_new(tmp, 2);
            zf_named_push(tmp, bad, "layer.weight.exp_avg", st->tensors[0]);
            zf_named_push(tmp, bad, "layer.weight.step", st->tensors[2]);
            CHECK(zf_optim_load_state(opt2, bad) == ZF_ERR_FORMAT);
            zf_named_tensors *wrong = zf_named_new(tmp, 3);
            zf_named_push(tmp, wrong, "layer.weight.exp_avg", zf_zeros(tmp, ZF_F64, 1, (int64_t[]){N + 1}));
            zf_named_push(tmp, wrong, "layer.weight.exp_avg_sq", st->tensors[1]);
            zf_named_push(tmp, wrong, "layer.weight.step", st->tensors[2]);
            CHECK(zf_optim_load_state(opt2, wrong) == ZF_ERR_SHAPE);
            zf_named_tensors *stray = zf_named_new(tmp, 1);
            zf_named_push(tmp, stray, "other.exp_avg", st->tensors[0]);
            CHECK(zf_optim_load_state(opt2, stray) == ZF_ERR_FORMAT);
            zf_optim_free(opt);
            zf_optim_free(opt2);
            zf_ctx_free(tmp);
            zf_ctx_free(ctx);
        }
    }
}

/* f32 parameters follow the f64 trajectory closely; a parameter without a
 * gradient is left alone. */
static void test_f32_and_skip(void) {
    zf_ctx *ctx = zf_ctx_new(NULL);
    zf_tensor *a = zf_ones(ctx, ZF_F32, 1, (int64_t[]){N}), *b = zf_ones(ctx, ZF_F32, 1, (int64_t[]){3});
    zf_requires_grad(a, true);
    zf_requires_grad(b, true);
    zf_named_tensors *l = zf_named_new(ctx, 2);
    zf_named_push(ctx, l, "a", a);
    zf_named_push(ctx, l, "b", b);
    zf_adam_params h = zf_adam_defaults();
    zf_optimizer *opt = zf_adam_new(l, &h);
    a->grad = zf_full(ctx, ZF_F32, 1, (int64_t[]){N}, 0.5);
    CHECK(zf_optim_step(opt) == ZF_OK);
    CHECK(((float *)zf_data(b))[0] == 1.0f);
    CHECK(fabsf(((float *)zf_data(a))[0] - (1.0f - 1e-3f)) < 1e-7f);
    zf_ctx *tmp = zf_ctx_new(NULL);
    zf_named_tensors *st = zf_optim_state(opt, tmp);
    CHECK(st && st->n == 3); /* b has no state yet */
    zf_optim_zero_grad(opt);
    CHECK(((float *)zf_data(a->grad))[0] == 0);
    zf_optim_set_lr(opt, 0.5);
    CHECK(zf_optim_lr(opt) == 0.5);
    zf_optim_free(opt);
    zf_ctx_free(tmp);
    zf_ctx_free(ctx);
}

/* A parameter list {"w": make_param, "frozen": [2] ones, never a gradient}. */
static zf_named_tensors *ema_params(zf_ctx *ctx) {
    zf_named_tensors *l = zf_named_new(ctx, 2);
    zf_tensor *q = zf_ones(ctx, ZF_F64, 1, (int64_t[]){2});
    zf_requires_grad(q, true);
    zf_named_push(ctx, l, "w", make_param(ctx));
    zf_named_push(ctx, l, "frozen", q);
    return l;
}

/* The EMA follows avg = d * avg + (1 - d) * p after every step, from the
 * parameters at zf_optim_set_ema, for a parameter without a gradient too;
 * a swap exchanges the values bit for bit and a second one restores them;
 * the state carries the averages (a loaded copy continues bit for bit);
 * misuse is refused. */
static void test_ema(void) {
    zf_ctx *ctx = zf_ctx_new(NULL), *tmp = zf_ctx_new(NULL);
    zf_named_tensors *l = ema_params(ctx);
    zf_tensor *p = l->tensors[0], *q = l->tensors[1];
    const sgd_ref h = {0.1, 0.9, 0, 0, false};
    zf_sgd_params hp = {.lr = h.lr, .momentum = h.mom};
    zf_optimizer *opt = zf_sgd_new(l, &hp);
    CHECK(!zf_optim_has_ema(opt) && isnan(zf_optim_ema_decay(opt)));
    CHECK(zf_optim_swap_ema(opt) == ZF_ERR_INVALID_ARG && strstr(zf_last_error(), "EMA is off"));
    CHECK(zf_optim_set_ema(opt, 1.0) == ZF_ERR_INVALID_ARG && strstr(zf_last_error(), "[0, 1)"));
    CHECK(zf_optim_set_ema(opt, -0.1) == ZF_ERR_INVALID_ARG && zf_optim_set_ema(opt, NAN) == ZF_ERR_INVALID_ARG);
    CHECK(zf_optim_set_ema(NULL, 0.5) == ZF_ERR_INVALID_ARG && !zf_optim_has_ema(opt));
    run_steps(opt, p, 0, 2);
    /* averaging starts from the parameters of now */
    CHECK(zf_optim_set_ema(opt, 0.9) == ZF_OK && zf_optim_has_ema(opt) && zf_optim_ema_decay(opt) == 0.9);
    double avg[N], ref[N];
    for (int i = 0; i < N; i++) avg[i] = ((double *)zf_data(p))[i];
    for (int s = 2; s < 7; s++) {
        run_steps(opt, p, s, 1);
        for (int i = 0; i < N; i++) ref[i] = 0.5 - 0.2 * i;
        ref_sgd(&h, ref, s + 1);
        for (int i = 0; i < N; i++) avg[i] = 0.9 * avg[i] + 0.1 * ref[i];
    }
    CHECK(max_diff(p, ref) < 1e-12);
    double trained[N];
    memcpy(trained, zf_data(p), sizeof trained);
    CHECK(zf_optim_swap_ema(opt) == ZF_OK && zf_optim_ema_swapped(opt));
    CHECK(max_diff(p, avg) < 1e-12);
    CHECK(((double *)zf_data(q))[0] == 1.0 && ((double *)zf_data(q))[1] == 1.0);
    /* while swapped: no step, no state export or import */
    CHECK(zf_optim_step(opt) == ZF_ERR_INVALID_ARG && strstr(zf_last_error(), "swap"));
    CHECK(zf_optim_state(opt, tmp) == NULL && zf_last_status() == ZF_ERR_INVALID_ARG);
    CHECK(zf_optim_load_state(opt, zf_named_new(tmp, 0)) == ZF_ERR_INVALID_ARG);
    CHECK(zf_optim_swap_ema(opt) == ZF_OK && !zf_optim_ema_swapped(opt));
    CHECK(memcmp(zf_data(p), trained, sizeof trained) == 0);
    /* a new decay keeps the averages */
    CHECK(zf_optim_set_ema(opt, 0.5) == ZF_OK && zf_optim_ema_decay(opt) == 0.5);
    zf_named_tensors *st = zf_optim_state(opt, tmp);
    CHECK(st && st->n == 3 && zf_named_find(st, "w.momentum_buffer") && zf_named_find(st, "frozen.ema"));
    zf_tensor *wa = st ? zf_named_find(st, "w.ema") : NULL;
    CHECK(wa && max_diff(wa, avg) < 1e-12);
    /* a copy loaded from the state continues bit for bit */
    zf_named_tensors *l2 = ema_params(ctx);
    zf_copy_(l2->tensors[0], p);
    zf_optimizer *opt2 = zf_sgd_new(l2, &hp);
    CHECK(zf_optim_set_ema(opt2, 0.5) == ZF_OK && zf_optim_load_state(opt2, st) == ZF_OK);
    run_steps(opt, p, 7, 3);
    run_steps(opt2, l2->tensors[0], 7, 3);
    CHECK(zf_optim_swap_ema(opt) == ZF_OK && zf_optim_swap_ema(opt2) == ZF_OK);
    CHECK(memcmp(zf_data(p), zf_data(l2->tensors[0]), N * sizeof(double)) == 0);
    CHECK(memcmp(zf_data(q), zf_data(l2->tensors[1]), 2 * sizeof(double)) == 0);
    CHECK(zf_optim_swap_ema(opt) == ZF_OK && zf_optim_swap_ema(opt2) == ZF_OK);
    /* averages into an optimizer without EMA, or none into one with it */
    zf_optimizer *plain = zf_sgd_new(ema_params(ctx), &hp);
    CHECK(zf_optim_load_state(plain, st) == ZF_ERR_FORMAT && strstr(zf_last_error(), "EMA is off"));
    zf_named_tensors *no_avg = zf_named_new(tmp, 1);
    zf_named_push(tmp, no_avg, "w.momentum_buffer", zf_named_find(st, "w.momentum_buffer"));
    CHECK(zf_optim_load_state(opt2, no_avg) == ZF_ERR_FORMAT && strstr(zf_last_error(), "0 of 2"));
    CHECK(zf_optim_load_state(plain, no_avg) == ZF_OK);
    zf_optim_free(plain);
    zf_optim_free(opt2);
    zf_optim_free(opt);
    zf_ctx_free(tmp);
    zf_ctx_free(ctx);
}

static void test_bad_args(void) {
    zf_ctx *ctx = zf_ctx_new(NULL);
    zf_tensor *p = make_param(ctx);
    zf_named_tensors *l = zf_named_new(ctx, 2);
    zf_named_push(ctx, l, "w", p);
    CHECK(zf_sgd_new(l, NULL) == NULL && zf_last_status() == ZF_ERR_INVALID_ARG);
    CHECK(zf_sgd_new(l, &(zf_sgd_params){.lr = -1}) == NULL);
    CHECK(zf_sgd_new(l, &(zf_sgd_params){.lr = 0.1, .nesterov = true}) == NULL);
    CHECK(zf_sgd_new(l, &(zf_sgd_params){.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}) == NULL);
    zf_adam_params h = zf_adam_defaults();
    h.beta1 = 1.0;
    CHECK(zf_adam_new(l, &h) == NULL && zf_last_status() == ZF_ERR_INVALID_ARG);
    h = zf_adam_defaults();
    h.eps = -1;
    CHECK(zf_adamw_new(l, &h) == NULL);
    h = zf_adam_defaults();
    zf_named_tensors *empty = zf_named_new(ctx, 0);
    CHECK(zf_adam_new(empty, &h) == NULL);
    zf_named_push(ctx, l, "w2", p); /* same tensor twice */
    CHECK(zf_adam_new(l, &h) == NULL && zf_last_status() == ZF_ERR_INVALID_ARG);
    zf_named_tensors *il = zf_named_new(ctx, 1);
    zf_named_push(ctx, il, "i", zf_zeros(ctx, ZF_I32, 1, (int64_t[]){2}));
    CHECK(zf_adam_new(il, &h) == NULL && zf_last_status() == ZF_ERR_DTYPE);
    CHECK(zf_optim_step(NULL) == ZF_ERR_INVALID_ARG);
    zf_ctx_free(ctx);
}

static void test_schedules(void) {
    zf_lr_schedule st = {.kind = ZF_LR_STEP, .base_lr = 0.1, .step_size = 10, .gamma = 0.5};
    CHECK_NEAR(zf_lr_at(&st, 0), 0.1, 1e-15);
    CHECK_NEAR(zf_lr_at(&st, 9), 0.1, 1e-15);
    CHECK_NEAR(zf_lr_at(&st, 10), 0.05, 1e-15);
    CHECK_NEAR(zf_lr_at(&st, 25), 0.025, 1e-15);
    zf_lr_schedule co = {.kind = ZF_LR_COSINE, .base_lr = 1.0, .total_steps = 100, .min_lr = 0.1};
    CHECK_NEAR(zf_lr_at(&co, 0), 1.0, 1e-15);
    CHECK_NEAR(zf_lr_at(&co, 50), 0.55, 1e-15);
    CHECK_NEAR(zf_lr_at(&co, 100), 0.1, 1e-15);
    CHECK_NEAR(zf_lr_at(&co, 150), 0.1, 1e-15);
    zf_lr_schedule wu = {.kind = ZF_LR_WARMUP, .base_lr = 0.2, .warmup_steps = 4, .warmup_start = 0.25};
    CHECK_NEAR(zf_lr_at(&wu, 0), 0.05, 1e-15);
    CHECK_NEAR(zf_lr_at(&wu, 2), 0.125, 1e-15);
    CHECK_NEAR(zf_lr_at(&wu, 4), 0.2, 1e-15);
    zf_lr_schedule wc = {.kind = ZF_LR_WARMUP_COSINE, .base_lr = 1.0, .total_steps = 110, .warmup_steps = 10};
    CHECK_NEAR(zf_lr_at(&wc, 5), 0.5, 1e-15);
    CHECK_NEAR(zf_lr_at(&wc, 10), 1.0, 1e-15);
    CHECK_NEAR(zf_lr_at(&wc, 60), 0.5, 1e-15);
    CHECK_NEAR(zf_lr_at(&wc, 110), 0.0, 1e-15);
    zf_lr_schedule k = {.kind = ZF_LR_CONSTANT, .base_lr = 0.3};
    CHECK(zf_lr_at(&k, 1000) == 0.3);
    zf_lr_schedule bad1 = {.kind = ZF_LR_STEP, .base_lr = 0.1};
    CHECK(isnan(zf_lr_at(&bad1, 3)) && zf_lr_check(&bad1) == ZF_ERR_INVALID_ARG);
    zf_lr_schedule bad2 = {.kind = ZF_LR_WARMUP_COSINE, .base_lr = 1, .total_steps = 5, .warmup_steps = 5};
    CHECK(zf_lr_check(&bad2) == ZF_ERR_INVALID_ARG);
    zf_lr_schedule bad3 = {.kind = (zf_lr_kind)42, .base_lr = 1};
    CHECK(zf_lr_check(&bad3) == ZF_ERR_INVALID_ARG);
}

static void test_clip(void) {
    zf_ctx *ctx = zf_ctx_new(NULL), *s = zf_ctx_new(NULL);
    zf_tensor *a = zf_zeros(ctx, ZF_F32, 1, (int64_t[]){2}), *b = zf_zeros(ctx, ZF_F64, 1, (int64_t[]){1});
    zf_tensor *c = zf_zeros(ctx, ZF_F32, 1, (int64_t[]){1}); /* no grad: skipped */
    a->grad = zf_from_data(ctx, ZF_F32, 1, (int64_t[]){2}, (float[]){3, 0});
    b->grad = zf_from_data(ctx, ZF_F64, 1, (int64_t[]){1}, (double[]){4});
    zf_named_tensors *l = zf_named_new(ctx, 3);
    zf_named_push(ctx, l, "a", a);
    zf_named_push(ctx, l, "b", b);
    zf_named_push(ctx, l, "c", c);
    double norm = 0;
    CHECK(zf_clip_grad_norm(s, l, 10.0, &norm) == ZF_OK && norm == 5.0);
    CHECK(((float *)zf_data(a->grad))[0] == 3.0f); /* below max: untouched */
    CHECK(zf_clip_grad_norm(s, l, 1.0, &norm) == ZF_OK && norm == 5.0);
    CHECK_NEAR(((float *)zf_data(a->grad))[0], 3.0 / (5 + 1e-6), 1e-7);
    CHECK_NEAR(((double *)zf_data(b->grad))[0], 4.0 / (5 + 1e-6), 1e-15);
    CHECK(zf_clip_grad_norm(s, l, 1.0, &norm) == ZF_OK && fabs(norm - 1.0) < 1e-6);
    ((double *)zf_data(b->grad))[0] = NAN;
    CHECK(zf_clip_grad_norm(s, l, 1.0, &norm) == ZF_OK && isnan(norm));
    CHECK(zf_clip_grad_norm(s, l, -1.0, &norm) == ZF_ERR_INVALID_ARG);
    zf_ctx_free(s);
    zf_ctx_free(ctx);
}

int main(void) {
    test_sgd();
    test_adam();
    test_f32_and_skip();
    test_ema();
    test_bad_args();
    test_schedules();
    test_clip();
    ZF_TEST_MAIN_END();
}
