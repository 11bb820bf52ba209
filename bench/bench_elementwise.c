/* Elementwise add and softmax throughput (GB/s) next to memcpy, measured in
 * the same run on the same buffers. Bytes counted: add reads 2 and writes 1
 * array; softmax reads 1 and writes 1; memcpy reads 1 and writes 1.
 * usage: bench_elementwise [threads]   (prints a table; asserts nothing) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zerfoo/zerfoo.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    zf_ctx *ctx;
    zf_tensor *a, *b;
    int kind; /* 0 memcpy, 1 add, 2 softmax */
    void *dst;
    size_t bytes;
} job;

static void run_once(job *j) {
    zf_ctx_reset(j->ctx);
    switch (j->kind) {
    case 0: memcpy(j->dst, zf_data(j->a), j->bytes); break;
    case 1: zf_add(j->ctx, j->a, j->b); break;
    case 2: zf_softmax(j->ctx, j->a, -1); break;
    }
}

/* Best time of `reps` runs after a warm-up. */
static double best_time(job *j, int reps) {
    run_once(j);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        run_once(j);
        double dt = now_s() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    zf_engine *eng = zf_cpu_engine_new(threads);
    zf_ctx *data = zf_ctx_new(eng), *scratch = zf_ctx_new(eng);
    if (!eng || !data || !scratch) {
        fprintf(stderr, "bench_elementwise: %s\n", zf_last_error());
        return 1;
    }
    printf("elementwise throughput, f32, %d threads (GB/s, best of runs)\n", zf_threadpool_size(eng->pool));
    printf("%-12s %-10s %10s %10s %10s %8s %8s\n", "elements", "shape", "memcpy", "add", "softmax", "add/cp",
           "smax/cp");
    const int64_t sizes[][2] = {{256, 256}, {1024, 1024}, {4096, 1024}, {8192, 2048}, {32, 32000}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        zf_ctx_reset(data);
        int64_t shape[2] = {sizes[s][0], sizes[s][1]};
        int64_t n = shape[0] * shape[1];
        zf_tensor *a = zf_randn(data, ZF_F32, 2, shape, 1, 0), *b = zf_randn(data, ZF_F32, 2, shape, 1, 1);
        void *dst = zf_ctx_alloc(data, (size_t)n * 4);
        if (!a || !b || !dst) {
            fprintf(stderr, "bench_elementwise: %s\n", zf_last_error());
            return 1;
        }
        int reps = n > (1 << 22) ? 10 : 50;
        job j = {scratch, a, b, 0, dst, (size_t)n * 4};
        double t_cp = best_time(&j, reps);
        j.kind = 1;
        double t_add = best_time(&j, reps);
        j.kind = 2;
        double t_sm = best_time(&j, reps);
        double gb_cp = 2.0 * n * 4 / t_cp / 1e9, gb_add = 3.0 * n * 4 / t_add / 1e9, gb_sm = 2.0 * n * 4 / t_sm / 1e9;
        char sh[32];
        snprintf(sh, sizeof sh, "%lldx%lld", (long long)shape[0], (long long)shape[1]);
        printf("%-12lld %-10s %10.1f %10.1f %10.1f %8.2f %8.2f\n", (long long)n, sh, gb_cp, gb_add, gb_sm,
               gb_add / gb_cp, gb_sm / gb_cp);
    }
    zf_ctx_free(scratch);
    zf_ctx_free(data);
    zf_engine_free(eng);
    return 0;
}
