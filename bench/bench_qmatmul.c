/* Quantized matmul y[M, N] = x[M, K] W[N, K]^T (zf_qmatmul's kernel) at the
 * projection shapes of Gemma 3 270M (K = 640: N = 2048 q/ffn, 640 o,
 * 262144 vocab) and SmolLM2-135M (K = 576: N = 1536 ffn, 576 q/o, 49152
 * vocab), for decode (M = 1) and prefill (M = 64), next to memcpy of the
 * same weight bytes on the same threads.
 *
 * Columns: GFLOP/s = 2 M N K / t; GB/s = bytes of W / t (weight streaming);
 * read = a plain 2-thread sum over the same bytes (the matvec's roofline).
 * "cold": several copies of W (>= 96 MiB together) are used in turn, so W
 * comes from DRAM as in a real forward pass; "hot": the same W every call
 * (cache-resident when it fits). memcpy copies the same bytes from the same
 * cold copies, split over the same threads (GB/s counts the bytes once). K-quants need K % 256 == 0, so
 * Q4_K and Q6_K run with K = 768 (llama.cpp itself stores such tensors in a
 * fallback type: q5_0 for q4_k, q8_0 for q6_k). Prefill also shows the
 * dequantize-to-f32 + sgemm path (ZF_QMM_GEMM) for comparison. Best of
 * several runs; printed only.
 *
 *   usage: bench_qmatmul [THREADS]   (default 2) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/cpu/qmatmul.h"
#include "zerfoo/quant.h"
#include "zerfoo/threadpool.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *xalloc(size_t n) {
    void *p = aligned_alloc(64, (n + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "bench_qmatmul: out of memory\n");
        exit(1);
    }
    return p;
}

static uint64_t g_rng = 88172645463325252ull;
static float frand(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (float)((double)(g_rng >> 11) / 9007199254740992.0 * 2 - 1);
}

typedef struct {
    const void *src;
    void *dst;
    size_t n;
} copy_job;

static void copy_range(void *arg, int64_t b, int64_t e) {
    const copy_job *c = arg;
    size_t chunk = (c->n + 63) / 64;
    size_t lo = (size_t)b * chunk, hi = (size_t)e * chunk;
    if (hi > c->n) hi = c->n;
    if (lo < hi) memcpy((char *)c->dst + lo, (const char *)c->src + lo, hi - lo);
}

/* read-only streaming: the roofline of a matvec */
typedef struct {
    const void *src;
    size_t n;
    uint64_t sum[64];
} read_job;

static void read_range(void *arg, int64_t b, int64_t e) {
    read_job *r = arg;
    size_t chunk = (r->n / 8 + 63) / 64;
    const uint64_t *p = r->src;
    for (int64_t c = b; c < e; c++) {
        size_t lo = (size_t)c * chunk, hi = lo + chunk > r->n / 8 ? r->n / 8 : lo + chunk;
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        size_t i = lo;
        for (; i + 4 <= hi; i += 4) s0 += p[i], s1 += p[i + 1], s2 += p[i + 2], s3 += p[i + 3];
        for (; i < hi; i++) s0 += p[i];
        r->sum[c] = s0 + s1 + s2 + s3;
    }
}

typedef struct {
    int ncopies;
    uint8_t **w;
    size_t bytes;
} wset;

/* n copies of one random weight matrix so that together they exceed L3 */
static wset make_wset(zf_dtype t, int64_t N, int64_t K) {
    wset s;
    s.bytes = zf_quant_row_size(t, K) * (size_t)N;
    s.ncopies = (int)((96u << 20) / s.bytes) + 1;
    if (s.ncopies > 64) s.ncopies = 64;
    s.w = malloc(sizeof *s.w * (size_t)s.ncopies);
    float *row = malloc(sizeof(float) * (size_t)K);
    s.w[0] = xalloc(s.bytes);
    for (int64_t n = 0; n < N; n++) {
        for (int64_t k = 0; k < K; k++) row[k] = frand();
        zf_quantize(t, row, s.w[0] + (size_t)n * zf_quant_row_size(t, K), K);
    }
    for (int i = 1; i < s.ncopies; i++) {
        s.w[i] = xalloc(s.bytes);
        memcpy(s.w[i], s.w[0], s.bytes);
    }
    free(row);
    return s;
}
static void free_wset(wset *s) {
    for (int i = 0; i < s->ncopies; i++) free(s->w[i]);
    free(s->w);
}

/* best seconds per call over `reps` calls, rotating over copies when cold */
static double time_qmm(zf_threadpool *pool, zf_qmm_path path, zf_dtype t, const wset *s, bool cold, int64_t M,
                       int64_t N, int64_t K, const float *x, float *y, int reps) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        const uint8_t *w = s->w[cold ? r % s->ncopies : 0];
        double t0 = now_s();
        zf_qmatmul_run_path(NULL, pool, path, t, M, N, K, x, w, y);
        double dt = now_s() - t0;
        if (r > 0 && dt < best) best = dt;
    }
    return best;
}

static double time_read(zf_threadpool *pool, const wset *s, int reps) {
    double best = 1e30;
    static read_job r;
    for (int i = 0; i < reps; i++) {
        r.src = s->w[i % s->ncopies];
        r.n = s->bytes;
        double t0 = now_s();
        zf_parallel_for(pool, 64, 1, read_range, &r);
        double dt = now_s() - t0;
        if (i > 0 && dt < best) best = dt;
    }
    return best;
}

static double time_copy(zf_threadpool *pool, const wset *s, void *dst, int reps) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        copy_job c = {s->w[r % s->ncopies], dst, s->bytes};
        double t0 = now_s();
        zf_parallel_for(pool, 64, 1, copy_range, &c);
        double dt = now_s() - t0;
        if (r > 0 && dt < best) best = dt;
    }
    return best;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    if (threads < 1) threads = 1;
    zf_threadpool *pool = zf_threadpool_new(threads);
    if (!pool) return 1;
    const zf_dtype types[] = {ZF_Q4_K, ZF_Q6_K, ZF_Q4_1, ZF_Q5_0, ZF_Q8_0, ZF_F16};
    const struct {
        const char *model;
        int64_t K, N;
    } shapes[] = {{"gemma3-270m", 640, 2048},  {"gemma3-270m", 640, 640},   {"gemma3-270m", 640, 262144},
                  {"smollm2-135m", 576, 1536}, {"smollm2-135m", 576, 576}, {"smollm2-135m", 576, 49152}};
    printf("qmatmul y[M,N] = x[M,K] W[N,K]^T, %d thread(s), kernels: %s; best of several runs\n", threads,
           zf_qkernels_best()->name);
    printf("%-13s %-5s %4s %6s %7s | %8s %9s %8s | %8s %8s | %9s %9s\n", "model", "type", "K", "N", "MiB",
           "M=1 GF/s", "cold GB/s", "hot GB/s", "read", "memcpy", "M=64 GF/s", "dq+sgemm");
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) {
            zf_dtype t = types[ti];
            int64_t K = shapes[si].K, N = shapes[si].N;
            if (zf_dtype_block(t) == 256) K = (K + 255) / 256 * 256;
            wset s = make_wset(t, N, K);
            const int64_t MP = 64;
            float *x = xalloc(sizeof(float) * (size_t)(MP * K));
            float *y = xalloc(sizeof(float) * (size_t)(MP * N));
            for (int64_t i = 0; i < MP * K; i++) x[i] = frand();
            void *dst = xalloc(s.bytes);
            memset(dst, 0, s.bytes);
            int reps = s.bytes > (64u << 20) ? 6 : 30;
            double t_cold = time_qmm(pool, ZF_QMM_AUTO, t, &s, true, 1, N, K, x, y, reps);
            double t_hot = time_qmm(pool, ZF_QMM_AUTO, t, &s, false, 1, N, K, x, y, reps);
            double t_cp = time_copy(pool, &s, dst, reps);
            double t_rd = time_read(pool, &s, reps);
            int preps = s.bytes > (64u << 20) ? 3 : 8;
            double t_pre = time_qmm(pool, ZF_QMM_DOT, t, &s, true, MP, N, K, x, y, preps);
            double t_dq = time_qmm(pool, ZF_QMM_GEMM, t, &s, true, MP, N, K, x, y, preps);
            double fl1 = 2.0 * (double)N * (double)K, flp = fl1 * (double)MP;
            printf("%-13s %-5s %4lld %6lld %7.2f | %8.1f %9.1f %8.1f | %8.1f %8.1f | %9.1f %9.1f\n",
                   shapes[si].model, zf_dtype_name(t), (long long)K, (long long)N, (double)s.bytes / (1 << 20),
                   fl1 / t_cold * 1e-9, (double)s.bytes / t_cold * 1e-9, (double)s.bytes / t_hot * 1e-9,
                   (double)s.bytes / t_rd * 1e-9, (double)s.bytes / t_cp * 1e-9, flp / t_pre * 1e-9,
                   flp / t_dq * 1e-9);
            fflush(stdout);
            free(dst);
            free(x);
            free(y);
            free_wset(&s);
        }
    }
    zf_threadpool_free(pool);
    return 0;
}
