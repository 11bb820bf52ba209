/* Training-step throughput of the two models (random data, no data
 * loading): forward + cross-entropy + backward + Adam step at batch 64.
 * usage: bench_nn [threads] [steps]. Prints samples/s per model. The
 * comparison with PyTorch on the same machine lives in the trainer's
 * benchmark script. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "zerfoo/zerfoo.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
/* CPU time of the whole process (all threads): on a loaded machine the
 * wall time includes waiting for a core, this does not. */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static zf_module *make_mlp(zf_nn *nn) {
    return zf_nn_sequential(nn, 4,
                            (zf_module *[]){zf_nn_flatten(nn, 1, -1), zf_nn_linear(nn, 784, 128, true),
                                            zf_nn_relu(nn), zf_nn_linear(nn, 128, 10, true)});
}

static zf_module *make_lenet5(zf_nn *nn) {
    zf_pool2d_params pool = {.kernel = {2, 2}};
    return zf_nn_sequential(
        nn, 13,
        (zf_module *[]){zf_nn_conv2d(nn, 1, 6, 5, 5, NULL, true), zf_nn_relu(nn), zf_nn_max_pool2d(nn, &pool),
                        zf_nn_conv2d(nn, 6, 16, 5, 5, NULL, true), zf_nn_relu(nn), zf_nn_max_pool2d(nn, &pool),
                        zf_nn_flatten(nn, 1, -1), zf_nn_linear(nn, 256, 120, true), zf_nn_relu(nn),
                        zf_nn_linear(nn, 120, 84, true), zf_nn_relu(nn), zf_nn_linear(nn, 84, 10, true),
                        zf_nn_identity(nn)});
}

static int run(const char *name, zf_module *(*make)(zf_nn *), zf_engine *e, int steps) {
    const int64_t B = 64;
    zf_ctx *params = zf_ctx_new(e), *step = zf_ctx_new(e), *data = zf_ctx_new(e);
    zf_nn nn = zf_nn_init(params, ZF_F32, 1);
    zf_module *m = make(&nn);
    zf_named_tensors *np = m ? zf_module_named_parameters(m, params) : NULL;
    zf_adam_params ap = zf_adam_defaults();
    zf_optimizer *opt = np ? zf_adam_new(np, &ap) : NULL;
    zf_tensor *x = zf_rand(data, ZF_F32, 4, (int64_t[]){B, 1, 28, 28}, 7, 0);
    zf_tensor *yf = zf_mul_scalar(data, zf_rand(data, ZF_F32, 1, (int64_t[]){B}, 8, 0), 10.0);
    zf_tensor *y = zf_cast(data, yf, ZF_I64);
    if (!opt || !x || !y) {
        fprintf(stderr, "bench_nn: %s\n", zf_last_error());
        return 1;
    }
    double t0 = 0, c0 = 0, loss = 0;
    int warm = 5;
    for (int s = 0; s < warm + steps; s++) {
        if (s == warm) t0 = now_s(), c0 = cpu_s();
        zf_ctx_reset(step);
        zf_tensor *l = zf_cross_entropy(step, zf_module_forward(m, step, x), y, 0.0, ZF_REDUCTION_MEAN);
        zf_optim_zero_grad(opt);
        if (!l || zf_backward(step, l, NULL) || zf_optim_step(opt)) {
            fprintf(stderr, "bench_nn: %s\n", zf_last_error());
            return 1;
        }
        loss = zf_item(l);
    }
    double dt = now_s() - t0, dc = cpu_s() - c0;
    printf("%-7s batch %lld  %6.0f samples/s  (%.3f ms/step wall, %.3f ms/step CPU, %lld params, loss %.4f, step "
           "arena %zu KiB)\n",
           name, (long long)B, (double)(B * steps) / dt, 1e3 * dt / steps, 1e3 * dc / steps,
           (long long)zf_module_num_parameters(m), loss, zf_ctx_reserved_bytes(step) / 1024);
    zf_optim_free(opt);
    zf_ctx_free(data);
    zf_ctx_free(step);
    zf_ctx_free(params);
    return 0;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2, steps = argc > 2 ? atoi(argv[2]) : 300;
    zf_engine *e = zf_cpu_engine_new(threads);
    if (!e) return 1;
    printf("forward + cross-entropy + backward + Adam, %d threads\n", threads);
    int rc = run("mlp", make_mlp, e, steps) || run("lenet5", make_lenet5, e, steps);
    zf_engine_free(e);
    return rc;
}
