/* zerfoo demo: fits y = sin(x) on [-pi, pi] with a 1-64-64-1 tanh MLP,
 * using autograd and plain SGD with momentum written with zerfoo ops.
 * Parameters live in a long-lived context; each step's activations live in a
 * step context that is reset, so steady-state steps allocate nothing. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tools/zerfoo/commands.h"
#include "zerfoo/zerfoo.h"

#define N_PARAMS 6

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Uniform(-s, s) parameter of the given shape. */
static zf_tensor *param(zf_ctx *ctx, int ndim, const int64_t *shape, double s, uint64_t stream) {
    zf_tensor *u = zf_rand(ctx, ZF_F32, ndim, shape, 1234, stream);
    zf_tensor *p = u ? zf_add_scalar(ctx, zf_mul_scalar(ctx, u, 2 * s), -s) : NULL;
    if (p) zf_requires_grad(p, true);
    return p;
}

int zf_cmd_demo(int argc, char **argv) {
    int64_t steps = 2000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) {
            if (!zf_parse_i64(argv[++i], &steps) || steps < 1 || steps > 10000000) {
                fprintf(stderr, "zerfoo demo: --steps needs a positive integer\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: zerfoo demo [--steps N]\n\nFits sin(x) with a small MLP (autograd + SGD) and prints the "
                   "loss.\n");
            return 0;
        } else {
            fprintf(stderr, "zerfoo demo: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    zf_ctx *params = zf_ctx_new(NULL), *step = zf_ctx_new(NULL);
    if (!params || !step) goto fail;
    const int64_t H = 64, B = 256;
    zf_tensor *p[N_PARAMS] = {
        param(params, 2, (int64_t[]){1, H}, 1.0, 1),          param(params, 1, (int64_t[]){H}, 1.0, 2),
        param(params, 2, (int64_t[]){H, H}, 1.0 / sqrt((double)H), 3), param(params, 1, (int64_t[]){H}, 0.1, 4),
        param(params, 2, (int64_t[]){H, 1}, 1.0 / sqrt((double)H), 5), param(params, 1, (int64_t[]){1}, 0.1, 6),
    };
    zf_tensor *vel[N_PARAMS];
    for (int i = 0; i < N_PARAMS; i++) {
        if (!p[i]) goto fail;
        vel[i] = zf_zeros(params, ZF_F32, p[i]->ndim, p[i]->shape);
        if (!vel[i]) goto fail;
    }
    /* Fixed inputs x in [-pi, pi] and targets sin(x), in the params context. */
    zf_tensor *x = zf_reshape(params, zf_linspace(params, ZF_F32, -M_PI, M_PI, B), 2, (int64_t[]){B, 1});
    zf_tensor *y = zf_sin(params, x);
    if (!x || !y) goto fail;
    printf("zerfoo demo: fitting sin(x) with a 1-%lld-%lld-1 tanh MLP, %lld steps of SGD+momentum\n", (long long)H,
           (long long)H, (long long)steps);
    double t0 = now_s(), loss_v = NAN;
    const double lr = 0.05, mom = 0.9;
    for (int64_t s = 0; s < steps; s++) {
        zf_ctx_reset(step);
        zf_tensor *h1 = zf_tanh(step, zf_add(step, zf_matmul(step, x, p[0]), p[1]));
        zf_tensor *h2 = zf_tanh(step, zf_add(step, zf_matmul(step, h1, p[2]), p[3]));
        zf_tensor *pred = zf_add(step, zf_matmul(step, h2, p[4]), p[5]);
        zf_tensor *d = zf_sub(step, pred, y);
        zf_tensor *loss = zf_mean(step, zf_mul(step, d, d), 0, NULL, false);
        if (!loss) goto fail;
        for (int i = 0; i < N_PARAMS; i++) zf_zero_grad(p[i]);
        if (zf_backward(step, loss, NULL) != ZF_OK) goto fail;
        bool prev = zf_set_grad_enabled(false);
        for (int i = 0; i < N_PARAMS; i++) {
            /* v = mom*v + g; p -= lr*v */
            zf_tensor *v = zf_add(step, zf_mul_scalar(step, vel[i], mom), p[i]->grad);
            zf_tensor *np = zf_sub(step, p[i], zf_mul_scalar(step, v, lr));
            if (!v || !np || zf_copy_(vel[i], v) || zf_copy_(p[i], np)) {
                zf_set_grad_enabled(prev);
                goto fail;
            }
        }
        zf_set_grad_enabled(prev);
        loss_v = zf_item(loss);
        if (s % (steps / 10 > 0 ? steps / 10 : 1) == 0 || s == steps - 1)
            printf("step %6lld  loss %.6f\n", (long long)s, loss_v);
    }
    double dt = now_s() - t0;
    printf("final loss %.6f after %lld steps in %.2f s (%.0f steps/s, step memory %zu KiB reused)\n", loss_v,
           (long long)steps, dt, (double)steps / dt, zf_ctx_reserved_bytes(step) / 1024);
    zf_ctx_free(step);
    zf_ctx_free(params);
    return 0;
fail:
    fprintf(stderr, "zerfoo demo: %s\n", zf_last_error());
    zf_ctx_free(step);
    zf_ctx_free(params);
    return 1;
}
