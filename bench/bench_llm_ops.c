/* The fused LLM ops at Gemma 3 270M shapes (hidden 640, 4 query heads and
 * 1 kv head of 256, f16 KV cache): attention for decode (one query against
 * S cached keys) and prefill (T queries, causal), rms_norm and rope on a
 * [T, H, D] activation. Printed next to the composite the op replaces where
 * one exists (rms_norm built from mean/mul/rsqrt). Best of several runs on
 * the CPU engine with THREADS threads; printed only.
 *
 *   usage: bench_llm_ops [THREADS]   (default 2) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "zerfoo/zerfoo.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef zf_tensor *(*op_fn)(zf_ctx *ctx, void *arg);

static double best_of(zf_ctx *ctx, op_fn f, void *arg, int reps) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        zf_ctx_reset(ctx);
        double t0 = now_s();
        zf_tensor *y = f(ctx, arg);
        double dt = now_s() - t0;
        if (!y) {
            fprintf(stderr, "bench_llm_ops: %s\n", zf_last_error());
            exit(1);
        }
        if (dt < best) best = dt;
    }
    return best;
}

typedef struct {
    zf_tensor *q, *k, *v, *x, *w, *pos;
    zf_attn_params p;
} args;

static zf_tensor *run_attn(zf_ctx *ctx, void *a_) {
    args *a = a_;
    return zf_attention(ctx, a->q, a->k, a->v, NULL, &a->p);
}
static zf_tensor *run_rms(zf_ctx *ctx, void *a_) {
    args *a = a_;
    return zf_rms_norm(ctx, a->x, a->w, 1e-6, 0.0);
}
static zf_tensor *run_rms_composite(zf_ctx *ctx, void *a_) {
    args *a = a_;
    int last = -1;
    zf_tensor *ms = zf_mean(ctx, zf_mul(ctx, a->x, a->x), 1, &last, true);
    return zf_mul(ctx, zf_mul(ctx, a->x, zf_rsqrt(ctx, zf_add_scalar(ctx, ms, 1e-6))), a->w);
}
static zf_tensor *run_rope(zf_ctx *ctx, void *a_) {
    args *a = a_;
    return zf_rope(ctx, a->q, a->pos, ZF_ROPE_NEOX, 0, 10000.0, 1.0);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    zf_engine *e = zf_cpu_engine_new(threads < 1 ? 1 : threads);
    zf_ctx *in = zf_ctx_new(e), *work = zf_ctx_new(e);
    if (!e || !in || !work) return 1;
    const int64_t Hq = 4, Hkv = 1, D = 256, E = 640;
    printf("LLM ops, Gemma 3 270M shapes (Hq %lld, Hkv %lld, D %lld, E %lld), %d thread(s), best of several runs\n",
           (long long)Hq, (long long)Hkv, (long long)D, (long long)E, threads);
    printf("%-34s %10s %10s %10s\n", "op", "us", "GFLOP/s", "KV GB/s");
    const int64_t cases[][2] = {{1, 256}, {1, 1024}, {1, 4096}, {64, 64}, {64, 512}, {256, 256}}; /* T, S */
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int64_t T = cases[i][0], S = cases[i][1];
        zf_ctx_reset(in);
        args a = {0};
        a.q = zf_randn(in, ZF_F32, 3, (int64_t[]){T, Hq, D}, 1, 0);
        a.k = zf_cast(in, zf_randn(in, ZF_F32, 3, (int64_t[]){S, Hkv, D}, 2, 0), ZF_F16);
        a.v = zf_cast(in, zf_randn(in, ZF_F32, 3, (int64_t[]){S, Hkv, D}, 3, 0), ZF_F16);
        a.p = (zf_attn_params){.causal = true, .q_pos0 = S - T};
        double t = best_of(work, run_attn, &a, 30);
        /* visible (q, k) pairs: causal over the last T positions */
        double pairs = (double)T * (double)S - (double)T * (double)(T - 1) / 2;
        char name[64];
        snprintf(name, sizeof name, "attention T=%lld S=%lld f16 kv", (long long)T, (long long)S);
        printf("%-34s %10.1f %10.1f %10.1f\n", name, t * 1e6, 4.0 * pairs * (double)(Hq * D) / t * 1e-9,
               2.0 * (double)(S * Hkv * D) * 2 / t * 1e-9);
    }
    for (int64_t T = 1; T <= 64; T *= 64) {
        zf_ctx_reset(in);
        args a = {0};
        a.x = zf_randn(in, ZF_F32, 2, (int64_t[]){T, E}, 4, 0);
        a.w = zf_randn(in, ZF_F32, 1, (int64_t[]){E}, 5, 0);
        a.q = zf_randn(in, ZF_F32, 3, (int64_t[]){T, Hq, D}, 6, 0);
        a.pos = zf_arange(in, ZF_I64, 0, (double)T, 1);
        char name[64];
        snprintf(name, sizeof name, "rms_norm [%lld, %lld]", (long long)T, (long long)E);
        printf("%-34s %10.2f\n", name, best_of(work, run_rms, &a, 200) * 1e6);
        snprintf(name, sizeof name, "  (mean/mul/rsqrt composite)");
        printf("%-34s %10.2f\n", name, best_of(work, run_rms_composite, &a, 200) * 1e6);
        snprintf(name, sizeof name, "rope neox [%lld, %lld, %lld]", (long long)T, (long long)Hq, (long long)D);
        printf("%-34s %10.2f\n", name, best_of(work, run_rope, &a, 200) * 1e6);
    }
    zf_ctx_free(work);
    zf_ctx_free(in);
    zf_engine_free(e);
    return 0;
}
