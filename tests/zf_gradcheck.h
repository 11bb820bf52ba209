/* Finite-difference gradient checks for the unit tests (include after
 * zf_test.h). A checked function maps f64 leaf tensors to one tensor y; the
 * check compares the autograd gradient of sum(y * r), r a fixed random
 * tensor, with central differences (step 1e-5) for every element of every
 * input that requires grad (at most `max_elems` elements per input, spread
 * evenly). */
#ifndef ZF_GRADCHECK_H
#define ZF_GRADCHECK_H

#include <math.h>
#include <stdio.h>

#include "zerfoo/zerfoo.h"

typedef zf_tensor *(*gc_fn)(zf_ctx *ctx, zf_tensor *const *in, void *arg);

static double gc_loss(zf_ctx *ctx, gc_fn f, zf_tensor *const *in, void *arg, zf_tensor *r, zf_tensor **y_out) {
    zf_tensor *y = f(ctx, in, arg);
    if (!y) return NAN;
    if (y_out) *y_out = y;
    zf_tensor *l = zf_sum(ctx, zf_mul(ctx, y, r), 0, NULL, false);
    return l ? zf_item(l) : NAN;
}

/* Returns the largest relative error found (and prints failures). */
static double gradcheck(const char *what, gc_fn f, int n, zf_tensor *const *in, void *arg, double tol,
                        int64_t max_elems) {
    zf_ctx *step = zf_ctx_new(NULL);
    zf_tensor *y = f(step, in, arg);
    if (!y) {
        fprintf(stderr, "gradcheck %s: forward failed: %s\n", what, zf_last_error());
        zf_ctx_free(step);
        return INFINITY;
    }
    zf_tensor *r = zf_randn(step, y->dtype, y->ndim, y->shape, 777, 3);
    zf_tensor *l = zf_sum(step, zf_mul(step, y, r), 0, NULL, false);
    for (int k = 0; k < n; k++) zf_zero_grad(in[k]);
    if (!l || zf_backward(step, l, NULL) != ZF_OK) {
        fprintf(stderr, "gradcheck %s: backward failed: %s\n", what, zf_last_error());
        zf_ctx_free(step);
        return INFINITY;
    }
    double worst = 0;
    bool prev = zf_set_grad_enabled(false);
    zf_ctx *tmp = zf_ctx_new(NULL);
    for (int k = 0; k < n; k++) {
        zf_tensor *x = in[k];
        if (!x || !x->requires_grad) continue;
        int64_t N = zf_numel(x), stride = N > max_elems ? N / max_elems : 1;
        double *xd = zf_data(x);
        for (int64_t i = 0; i < N; i += stride) {
            double keep = xd[i], h = 1e-5 * (fabs(keep) > 1 ? fabs(keep) : 1);
            xd[i] = keep + h;
            zf_ctx_reset(tmp);
            double lp = gc_loss(tmp, f, in, arg, r, NULL);
            xd[i] = keep - h;
            zf_ctx_reset(tmp);
            double lm = gc_loss(tmp, f, in, arg, r, NULL);
            xd[i] = keep;
            double num = (lp - lm) / (2 * h);
            double ana = x->grad ? ((double *)zf_data(x->grad))[i] : 0.0;
            double err = fabs(num - ana) / (1e-3 + fabs(num) + fabs(ana));
            if (err > worst) worst = err;
            if (err > tol)
                fprintf(stderr, "gradcheck %s: input %d elem %lld: numeric %.10g analytic %.10g\n", what, k,
                        (long long)i, num, ana);
        }
    }
    zf_set_grad_enabled(prev);
    zf_ctx_free(tmp);
    zf_ctx_free(step);
    return worst;
}

/* An f64 leaf with values from randn (seeded), requiring grad. */
static zf_tensor *gc_leaf(zf_ctx *ctx, int ndim, const int64_t *shape, uint64_t seed) {
    zf_tensor *t = zf_randn(ctx, ZF_F64, ndim, shape, seed, 11);
    if (t) zf_requires_grad(t, true);
    return t;
}

#endif
