/* Square f32 matmul C = A B (row-major, no transposes, beta = 0): zf_sgemm
 * on a zf_threadpool next to OpenBLAS's cblas_sgemm (dlopen'd, same thread
 * count), measured in the same process on the same inputs. Each number is
 * the best of several timed runs after warm-up, over three rounds of
 * (ours, OpenBLAS) so that passing background load hits both alike.
 *
 *   usage: bench_matmul [THREADS [SIZE ...]]   (default: 2 threads,
 *                                                sizes 256 512 1024 1536 2048) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/blas_loader.h"
#include "engine/cpu/gemm.h"
#include "zerfoo/threadpool.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static float *alloc_matrix(int64_t n) {
    size_t bytes = (size_t)(n * n) * sizeof(float);
    bytes = (bytes + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes);
    if (!p) {
        fprintf(stderr, "bench_matmul: out of memory\n");
        exit(1);
    }
    return p;
}

typedef enum { IMPL_OURS, IMPL_BLAS } impl;

static double time_once(impl which, zf_threadpool *pool, int64_t n, const float *A,
                        const float *B, float *C) {
    double t0 = now_s();
    zf_status st = which == IMPL_OURS
                       ? zf_sgemm(pool, false, false, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n)
                       : zf_blas_sgemm(false, false, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
    double t = now_s() - t0;
    if (st != ZF_OK) {
        fprintf(stderr, "bench_matmul: %s\n", zf_last_error());
        exit(1);
    }
    return t;
}

/* Best time of one phase: a pause so that idle threads from earlier calls go
 * to sleep, two warm-up calls, then timed calls for ~0.3 s (at least 5). */
static double time_phase(impl which, zf_threadpool *pool, int64_t n, const float *A,
                         const float *B, float *C) {
    const struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    for (int w = 0; w < 2; w++) time_once(which, pool, n, A, B, C);
    double best = INFINITY, start = now_s();
    for (int r = 0; r < 5 || now_s() - start < 0.3; r++)
        best = fmin(best, time_once(which, pool, n, A, B, C));
    return best;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    if (threads < 1) threads = 1;
    int64_t default_sizes[] = {256, 512, 1024, 1536, 2048};
    int64_t *sizes = default_sizes;
    int nsizes = (int)(sizeof default_sizes / sizeof default_sizes[0]);
    if (argc > 2) {
        nsizes = argc - 2;
        sizes = calloc((size_t)nsizes, sizeof *sizes);
        if (!sizes) return 1;
        for (int i = 0; i < nsizes; i++) sizes[i] = atoll(argv[i + 2]);
    }

    zf_threadpool *pool = zf_threadpool_new(threads);
    if (!pool) {
        fprintf(stderr, "bench_matmul: %s\n", zf_last_error());
        return 1;
    }
    const bool blas = zf_blas_available();
    if (blas) zf_blas_set_threads(threads);
    printf("f32 matmul C[n,n] = A[n,n] B[n,n], %d thread(s), best of several runs\n", threads);
    printf("zf_sgemm kernel: %s\n", zf_sgemm_kernel()->name);
    if (blas)
        printf("OpenBLAS: %s\n", zf_blas_library());
    else
        printf("OpenBLAS: not found (libopenblas.so.0 etc.); showing zf_sgemm only\n");
    printf("\n%6s  %14s  %14s  %8s  %10s\n", "n", "zf_sgemm GF/s", "OpenBLAS GF/s", "ours/ob",
           "max|diff|");

    for (int s = 0; s < nsizes; s++) {
        const int64_t n = sizes[s];
        if (n < 1) continue;
        float *A = alloc_matrix(n), *B = alloc_matrix(n), *C = alloc_matrix(n),
              *C2 = alloc_matrix(n);
        uint32_t x = 12345u;
        for (int64_t i = 0; i < n * n; i++) {
            x = x * 1664525u + 1013904223u;
            A[i] = (float)(x >> 8) / 16777216.0f - 0.5f;
            x = x * 1664525u + 1013904223u;
            B[i] = (float)(x >> 8) / 16777216.0f - 0.5f;
        }
        const double flops = 2.0 * (double)n * (double)n * (double)n;
        /* Three rounds; in each, one library's warm-up and timed runs back to
         * back, each phase after a pause. (Interleaving single calls, or
         * starting right after the other library, would time each library
         * while the other's idle threads still spin on the same cores:
         * OpenBLAS's spin for tens of ms after a call.) */
        double best_ours = INFINITY, best_blas = INFINITY;
        for (int round = 0; round < 3; round++) {
            best_ours = fmin(best_ours, time_phase(IMPL_OURS, pool, n, A, B, C));
            if (blas) best_blas = fmin(best_blas, time_phase(IMPL_BLAS, pool, n, A, B, C2));
        }
        const double gf_ours = flops / best_ours * 1e-9;
        if (blas) {
            double maxdiff = 0.0;
            for (int64_t i = 0; i < n * n; i++) {
                double d = fabs((double)C[i] - (double)C2[i]);
                if (d > maxdiff) maxdiff = d;
            }
            const double gf_blas = flops / best_blas * 1e-9;
            printf("%6lld  %14.1f  %14.1f  %8.2f  %10.2g\n", (long long)n, gf_ours, gf_blas,
                   gf_ours / gf_blas, maxdiff);
        } else {
            printf("%6lld  %14.1f  %14s  %8s  %10s\n", (long long)n, gf_ours, "-", "-", "-");
        }
        fflush(stdout);
        free(A);
        free(B);
        free(C);
        free(C2);
    }
    zf_threadpool_free(pool);
    if (sizes != default_sizes) free(sizes);
    return 0;
}
