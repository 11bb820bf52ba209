/* Unit tests of the quantized matmul (zf_qmatmul, engine/cpu/qmatmul.h).
 *
 * Weights: random rows (per-row scales, outliers, an all-zero block)
 * quantized with zf_quantize, the reference ("_ref") quantizers, to every
 * weight type; the reference matrix Wd is zf_dequantize of those bytes.
 * Two references in f64 for y[m, n] = sum_k x[m, k] * Wd[n, k]:
 *
 *  1. exact: with x replaced by its 8-bit quantization x^ (decoded from the
 *     qx row; x itself for f32/f16/bf16 weights). The kernels compute this
 *     up to f32 rounding: |y - y^| <= 1e-5 * sum_k |Wd x^| (plus, for
 *     q4_1/q5_1, the f16 rounding of ggml's block_q8_1 sum s: sum_b |m_b| *
 *     |s_b - d_b * sum(q_b)|, since the kernels use the stored s as ggml does).
 *  2. the true x: the tolerance is the 8-bit rounding of x. For a block of x
 *     with largest magnitude a, x^ = d * round(x * 127 / a) with d = a / 127
 *     (rounded to f16 for the 32-blocks, relative error <= 2^-11), so
 *     |x^_k - x_k| <= a / 254 * (1 + 2^-10) + |x_k| * 2^-11 and
 *     |y - y_ref| <= sum_k |Wd[n, k]| * that + 1e-5 * sum_k |Wd x|.
 *
 * Every kernel set this CPU runs (ref, avx2, avx512) is checked and must
 * give the ref kernels' bits, odd M (1 .. 9: groups of 4 rows and
 * remainders, ggml's tiled recipe from 8), K with an odd number of
 * 32-blocks, and the op on every engine with poisoned outputs (results must
 * be bitwise equal across engines and thread counts), the backward
 * (dx = g . Wd) and the argument errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpu/qmatmul.h"
#include "zerfoo/quant.h"
#include "zf_test.h"

static const zf_dtype k_types[] = {ZF_F32,  ZF_F16,  ZF_BF16, ZF_Q4_0, ZF_Q4_1, ZF_Q5_0, ZF_Q5_1,
                                   ZF_Q8_0, ZF_Q2_K, ZF_Q3_K, ZF_Q4_K, ZF_Q5_K, ZF_Q6_K};
#define N_TYPES (int)(sizeof k_types / sizeof *k_types)

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static double uniform(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return ((g_rng >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void) { return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform()); }

typedef struct {
    zf_dtype t;
    int64_t N, K;
    size_t rs; /* bytes per row */
    uint8_t *q;
    float *wd; /* dequantized [N, K] */
} weights;

static weights make_weights(zf_dtype t, int64_t N, int64_t K) {
    weights w = {.t = t, .N = N, .K = K, .rs = zf_quant_row_size(t, K)};
    float *f = malloc(sizeof(float) * (size_t)(N * K));
    w.q = malloc(w.rs * (size_t)N + 1);
    w.wd = malloc(sizeof(float) * (size_t)(N * K));
    for (int64_t n = 0; n < N; n++) {
        double scale = exp(gauss());
        for (int64_t k = 0; k < K; k++) {
            double v = gauss() * scale;
            if (uniform() < 0.01) v *= 8; /* outliers */
            if (n == 1 && k < 32) v = 0;  /* an all-zero block */
            f[n * K + k] = (float)v;
        }
        zf_quantize(t, f + n * K, w.q + n * w.rs, K);
        zf_dequantize(t, w.q + n * w.rs, w.wd + n * K, K);
    }
    free(f);
    return w;
}
static void free_weights(weights *w) {
    free(w->q);
    free(w->wd);
}

static float *make_x(int64_t M, int64_t K) {
    float *x = malloc(sizeof(float) * (size_t)(M * K));
    for (int64_t m = 0; m < M; m++) {
        double scale = m == 2 ? 1e-3 : exp(gauss());
        for (int64_t k = 0; k < K; k++) {
            double v = gauss() * scale;
            if (uniform() < 0.005) v *= 30; /* activation outliers */
            if (m == 0 && k >= 32 && k < 64) v = 0;
            x[m * K + k] = (float)v;
        }
    }
    return x;
}

/* x^ (the values the kernels multiply) and, for q8_1, the extra tolerance of
 * the f16-rounded block sums, per row. */
static void decode_qx(zf_qx_kind kind, const float *x, int64_t K, double *xh, double *s_err) {
    *s_err = 0;
    if (kind == ZF_QX_F32) {
        for (int64_t k = 0; k < K; k++) xh[k] = x[k];
        return;
    }
    uint8_t *row = malloc(zf_qx_row_bytes(kind, K));
    zf_qx_quantize(kind, x, row, K);
    const int8_t *qs = (const int8_t *)row;
    const float *d = (const float *)(row + zf_qx_d_offset(K));
    int64_t bs = kind == ZF_QX_Q8_K ? 256 : 32;
    for (int64_t k = 0; k < K; k++) xh[k] = (double)d[k / bs] * qs[k];
    if (kind == ZF_QX_Q8_1) {
        const float *s = (const float *)(row + zf_qx_s_offset(K));
        for (int64_t b = 0; b < K / 32; b++) {
            double sum = 0;
            for (int j = 0; j < 32; j++) sum += qs[32 * b + j];
            *s_err += fabs((double)s[b] - (double)d[b] * sum); /* times |m| <= max |w| below */
        }
    }
    free(row);
}

/* Checks y [M, N] against both references; returns the number of failures. */
static int check_result(const weights *w, int64_t M, const float *x, const float *y, const char *who) {
    zf_qx_kind kind = zf_qx_kind_for(w->t);
    int64_t K = w->K, N = w->N;
    double *xh = malloc(sizeof(double) * (size_t)K);
    int bad = 0;
    for (int64_t m = 0; m < M; m++) {
        double s_err;
        decode_qx(kind, x + m * K, K, xh, &s_err);
        for (int64_t n = 0; n < N; n++) {
            const float *wr = w->wd + n * K;
            double exact = 0, mag = 0, ref = 0, bound = 0, wmax = 0;
            for (int64_t k = 0; k < K; k++) {
                exact += wr[k] * xh[k];
                mag += fabs(wr[k] * xh[k]);
                ref += (double)wr[k] * x[m * K + k];
                wmax = fmax(wmax, fabs(wr[k]));
            }
            for (int64_t b = 0; kind != ZF_QX_F32 && b < K; b += 32) { /* x rounding, per 32 (Q8_K: per 256) */
                int64_t bs = kind == ZF_QX_Q8_K ? 256 : 32, b0 = b / bs * bs;
                double a = 0;
                for (int64_t k = b0; k < b0 + bs; k++) a = fmax(a, fabs(x[m * K + k]));
                for (int64_t k = b; k < b + 32; k++)
                    bound += fabs(wr[k]) * (a / 254 * (1 + 1.0 / 1024) + fabs(x[m * K + k]) / 2048);
            }
            double tol_exact = 1e-5 * mag + wmax * s_err + 1e-30;
            double tol_ref = bound + 1e-5 * mag + 1e-30;
            double v = y[m * N + n];
            if (!(fabs(v - exact) <= tol_exact) || !(fabs(v - ref) <= tol_ref)) {
                if (bad++ < 3)
                    fprintf(stderr, "%s %s M=%lld N=%lld K=%lld [%lld,%lld]: got %.9g exact %.9g (tol %.3g) ref %.9g (tol %.3g)\n",
                            who, zf_dtype_name(w->t), (long long)M, (long long)N, (long long)K, (long long)m,
                            (long long)n, v, exact, tol_exact, ref, tol_ref);
            }
        }
    }
    free(xh);
    return bad;
}

/* Every supported kernel set, direct calls, several shapes. */
static void test_kernels(void) {
    zf_threadpool *pool = zf_threadpool_new(2);
    for (int ti = 0; ti < N_TYPES; ti++) {
        zf_dtype t = k_types[ti];
        int64_t blk = zf_dtype_block(t) > 1 ? zf_dtype_block(t) : 32;
        const int64_t Ks[] = {blk, 3 * blk, blk == 32 ? 288 : 1024};
        for (int ki = 0; ki < 3; ki++) {
            int64_t K = Ks[ki], N = ki == 1 ? 37 : ki == 2 ? 24 : 9; /* 24: ggml repacks q4_0, q4_K, q2_K */
            weights w = make_weights(t, N, K);
            static const int64_t Ms[] = {1, 2, 3, 5, 7, 9}; /* 1, 2: the decode kernels */
            for (int mi = 0; mi < 6; mi++) {
                const int64_t M = Ms[mi];
                float *x = make_x(M, K);
                float *y = malloc(sizeof(float) * (size_t)(M * N));
                float *y0 = malloc(sizeof(float) * (size_t)(M * N));
                for (int i = 0; zf_qkernels_all[i]; i++) {
                    const zf_qkernels *kern = zf_qkernels_all[i];
                    if (!kern->supported()) continue;
                    memset(y, 0xff, sizeof(float) * (size_t)(M * N));
                    CHECK(zf_qmatmul_run(kern, i % 2 ? pool : NULL, t, M, N, K, x, w.q, y) == ZF_OK);
                    CHECK(check_result(&w, M, x, y, kern->name) == 0);
                    /* block types: every kernel set gives the ref kernels' bits (ggml's; see
                     * tests/parity/ggml_qmm_oracle.c) */
                    CHECK(zf_qmatmul_run(&zf_qkernels_ref, NULL, t, M, N, K, x, w.q, y0) == ZF_OK);
                    if (zf_dtype_is_quant(t)) CHECK(memcmp(y, y0, sizeof(float) * (size_t)(M * N)) == 0);
                }
                free(x);
                free(y);
                free(y0);
            }
            free_weights(&w);
        }
    }
    zf_threadpool_free(pool);
}

/* The dequantize + sgemm path (any weight type, x not rounded). */
static void test_gemm_path(void) {
    zf_threadpool *pool = zf_threadpool_new(2);
    for (int ti = 0; ti < N_TYPES; ti++) {
        zf_dtype t = k_types[ti];
        int64_t K = zf_dtype_block(t) == 256 ? 512 : 160, N = 45, M = 37;
        weights w = make_weights(t, N, K);
        float *x = make_x(M, K), *y = malloc(sizeof(float) * (size_t)(M * N));
        CHECK(zf_qmatmul_run_path(NULL, pool, ZF_QMM_GEMM, t, M, N, K, x, w.q, y) == ZF_OK);
        int bad = 0;
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
                double ref = 0, mag = 0;
                for (int64_t k = 0; k < K; k++) {
                    ref += (double)x[m * K + k] * w.wd[n * K + k];
                    mag += fabs((double)x[m * K + k] * w.wd[n * K + k]);
                }
                bad += !(fabs(y[m * N + n] - ref) <= 1e-5 * mag + 1e-30);
            }
        CHECK(bad == 0);
        free(x);
        free(y);
        free_weights(&w);
    }
    zf_threadpool_free(pool);
}

/* K with an odd number of 32-blocks and non-multiple-of-16 K for floats. */
static void test_float_tails(void) {
    const zf_dtype ts[] = {ZF_F32, ZF_F16, ZF_BF16};
    for (int ti = 0; ti < 3; ti++) {
        for (int64_t K = 1; K <= 70; K += 23) {
            weights w = make_weights(ts[ti], 5, K);
            float *x = make_x(3, K), y[15];
            for (int i = 0; zf_qkernels_all[i]; i++) {
                if (!zf_qkernels_all[i]->supported()) continue;
                CHECK(zf_qmatmul_run(zf_qkernels_all[i], NULL, ts[ti], 3, 5, K, x, w.q, y) == ZF_OK);
                CHECK(check_result(&w, 3, x, y, zf_qkernels_all[i]->name) == 0);
            }
            free(x);
            free_weights(&w);
        }
    }
}

/* Properties of the activation quantization. */
static void test_qx(void) {
    const int64_t K = 512;
    float *x = make_x(3, K);
    for (int kind = ZF_QX_Q8_0; kind < ZF_QX_COUNT; kind++) {
        size_t rb = zf_qx_row_bytes((zf_qx_kind)kind, K);
        CHECK(rb % 64 == 0);
        uint8_t *row = malloc(rb);
        memset(row, 0xAB, rb);
        zf_qx_quantize((zf_qx_kind)kind, x, row, K);
        const int8_t *qs = (const int8_t *)row;
        const float *d = (const float *)(row + zf_qx_d_offset(K));
        int64_t bs = kind == ZF_QX_Q8_K ? 256 : 32;
        bool ok = true;
        for (int64_t b = 0; b < K / bs; b++) {
            float a = 0;
            for (int64_t k = b * bs; k < (b + 1) * bs; k++) a = fmaxf(a, fabsf(x[k]));
            if (a == 0) {
                ok &= d[b] == 0;
                continue;
            }
            if (kind != ZF_QX_Q8_K) ok &= d[b] == zf_f16_to_f32(zf_f32_to_f16(a / 127)); /* f16 as ggml */
            for (int64_t k = b * bs; k < (b + 1) * bs; k++) {
                float v = x[k] * (127.0f / a); /* round half to even */
                ok &= qs[k] == (int8_t)nearbyintf(v) && qs[k] >= -127;
            }
        }
        CHECK(ok);
        if (kind == ZF_QX_Q8_K) {
            const int16_t *bsums = (const int16_t *)(row + zf_qx_bsums_offset(K));
            bool sums = true;
            for (int j = 0; j < K / 16; j++) {
                int s = 0;
                for (int i = 0; i < 16; i++) s += qs[16 * j + i];
                sums &= bsums[j] == s;
            }
            CHECK(sums);
        }
        free(row);
    }
    /* NaN in x reaches the output */
    weights w = make_weights(ZF_Q4_K, 2, 256);
    x[7] = NAN;
    float y[2];
    CHECK(zf_qmatmul_run(NULL, NULL, ZF_Q4_K, 1, 2, 256, x, w.q, y) == ZF_OK);
    CHECK(isnan(y[0]) && isnan(y[1]));
    free_weights(&w);
    w = make_weights(ZF_Q8_0, 2, 64);
    CHECK(zf_qmatmul_run(NULL, NULL, ZF_Q8_0, 1, 2, 64, x, w.q, y) == ZF_OK);
    CHECK(isnan(y[0]) && isnan(y[1]));
    x[7] = INFINITY; /* an infinity too */
    CHECK(zf_qmatmul_run(NULL, NULL, ZF_Q8_0, 1, 2, 64, x, w.q, y) == ZF_OK);
    CHECK(isnan(y[0]) && isnan(y[1]));
    free_weights(&w);
    w = make_weights(ZF_Q6_K, 2, 256);
    CHECK(zf_qmatmul_run(NULL, NULL, ZF_Q6_K, 1, 2, 256, x, w.q, y) == ZF_OK);
    CHECK(isnan(y[0]) && isnan(y[1]));
    free_weights(&w);
    free(x);
}

/* The op: engines, poison, leading dims, strided and f16 x, backward. */
static void test_op(void) {
    zf_engine *engines[3] = {zf_cpu_engine(), zf_cpu_engine_new(1), NULL};
    engines[2] = zf_trace_engine_new(engines[1]);
    const zf_dtype ts[] = {ZF_Q4_K, ZF_Q6_K, ZF_Q8_0, ZF_Q4_1, ZF_F16};
    for (int ti = 0; ti < 5; ti++) {
        zf_dtype t = ts[ti];
        int64_t N = 19, K = 512, M = 6;
        weights w = make_weights(t, N, K);
        float *x = make_x(M, K);
        float *first = malloc(sizeof(float) * (size_t)(M * N));
        for (int e = 0; e < 3; e++) {
            zf_ctx *ctx = zf_ctx_new(engines[e]);
            zf_ctx_set_poison(ctx, true);
            int64_t ws[2] = {N, K}, xs[3] = {2, 3, K};
            zf_tensor *W = zf_from_blob(ctx, t, 2, ws, w.q, w.rs * (size_t)N);
            zf_tensor *X = zf_from_data(ctx, ZF_F32, 3, xs, x);
            zf_tensor *Y = zf_qmatmul(ctx, X, W);
            CHECK(Y && Y->ndim == 3 && Y->shape[0] == 2 && Y->shape[1] == 3 && Y->shape[2] == N &&
                  Y->dtype == ZF_F32);
            if (Y) {
                const float *y = zf_data(Y);
                CHECK(check_result(&w, M, x, y, engines[e]->name) == 0);
                if (e == 0) memcpy(first, y, sizeof(float) * (size_t)(M * N));
                else CHECK(memcmp(first, y, sizeof(float) * (size_t)(M * N)) == 0);
            }
            /* x as a strided view: [K, M]^T */
            int64_t ts2[2] = {K, M};
            float *xt = malloc(sizeof(float) * (size_t)(M * K));
            for (int64_t m = 0; m < M; m++)
                for (int64_t k = 0; k < K; k++) xt[k * M + m] = x[m * K + k];
            zf_tensor *XT = zf_transpose(ctx, zf_from_data(ctx, ZF_F32, 2, ts2, xt), 0, 1);
            zf_tensor *Y2 = zf_qmatmul(ctx, XT, W);
            CHECK(Y2 && memcmp(zf_data(Y2), first, sizeof(float) * (size_t)(M * N)) == 0);
            free(xt);
            /* 1-d x */
            int64_t k1[1] = {K};
            zf_tensor *Y1 = zf_qmatmul(ctx, zf_from_data(ctx, ZF_F32, 1, k1, x), W);
            CHECK(Y1 && Y1->ndim == 1 && Y1->shape[0] == N && memcmp(zf_data(Y1), first, sizeof(float) * N) == 0);
            if (e == 0) { /* f16 x is cast to f32 first */
                zf_tensor *Yh = zf_qmatmul(ctx, zf_cast(ctx, X, ZF_F16), W);
                CHECK(Yh && Yh->dtype == ZF_F32);
            }
            zf_ctx_free(ctx);
        }
        if (zf_trace_count(engines[2]) > 0) {
            const zf_trace_record *r = zf_trace_get(engines[2], 0);
            CHECK(r->op == ZF_OP_QMATMUL || r->op == ZF_OP_COPY);
        }
        free(first);
        free(x);
        free_weights(&w);
    }
    zf_engine_free(engines[2]);
    zf_engine_free(engines[1]);
}

static void test_backward(void) {
    const zf_dtype ts[] = {ZF_Q4_0, ZF_Q5_K, ZF_BF16};
    for (int ti = 0; ti < 3; ti++) {
        int64_t N = 11, K = 256, M = 3;
        weights w = make_weights(ts[ti], N, K);
        float *x = make_x(M, K);
        zf_ctx *ctx = zf_ctx_new(NULL), *tmp = zf_ctx_new(NULL);
        int64_t ws[2] = {N, K}, xs[2] = {M, K}, gs[2] = {M, N};
        zf_tensor *W = zf_from_blob(ctx, ts[ti], 2, ws, w.q, w.rs * (size_t)N);
        zf_tensor *X = zf_from_data(ctx, ZF_F32, 2, xs, x);
        zf_requires_grad(X, true);
        float g[33];
        for (int i = 0; i < M * N; i++) g[i] = (float)gauss();
        zf_tensor *G = zf_from_data(ctx, ZF_F32, 2, gs, g);
        zf_tensor *Y = zf_qmatmul(ctx, X, W);
        CHECK(Y && Y->requires_grad);
        CHECK(zf_backward(tmp, Y, G) == ZF_OK);
        CHECK(X->grad != NULL);
        if (X->grad) {
            const float *dx = zf_data(X->grad);
            int bad = 0;
            for (int64_t m = 0; m < M; m++)
                for (int64_t k = 0; k < K; k++) {
                    double ref = 0, mag = 0;
                    for (int64_t n = 0; n < N; n++) {
                        ref += (double)g[m * N + n] * w.wd[n * K + k];
                        mag += fabs((double)g[m * N + n] * w.wd[n * K + k]);
                    }
                    bad += !(fabs(dx[m * K + k] - ref) <= 1e-5 * mag + 1e-30);
                }
            CHECK(bad == 0);
        }
        zf_ctx_free(tmp);
        zf_ctx_free(ctx);
        free(x);
        free_weights(&w);
    }
}

static void test_errors(void) {
    zf_ctx *ctx = zf_ctx_new(NULL);
    int64_t ws[2] = {4, 64}, xs[2] = {2, 64}, bad_x[2] = {2, 32};
    weights w = make_weights(ZF_Q8_0, 4, 64);
    zf_tensor *W = zf_from_blob(ctx, ZF_Q8_0, 2, ws, w.q, w.rs * 4);
    zf_tensor *X = zf_randn(ctx, ZF_F32, 2, xs, 1, 0);
    CHECK(zf_qmatmul(ctx, X, W) != NULL);
    CHECK(zf_qmatmul(ctx, zf_randn(ctx, ZF_F32, 2, bad_x, 1, 0), W) == NULL && zf_last_status() == ZF_ERR_SHAPE);
    CHECK(zf_qmatmul(ctx, zf_ones(ctx, ZF_I32, 2, xs), W) == NULL && zf_last_status() == ZF_ERR_DTYPE);
    CHECK(zf_qmatmul(ctx, X, NULL) == NULL);
    CHECK(zf_qmatmul(NULL, X, W) == NULL);
    zf_tensor *W3 = zf_from_blob(ctx, ZF_Q8_0, 1, &ws[1], w.q, w.rs);
    CHECK(zf_qmatmul(ctx, X, W3) == NULL && zf_last_status() == ZF_ERR_SHAPE);
    zf_tensor *Wi = zf_ones(ctx, ZF_I8, 2, ws);
    CHECK(zf_qmatmul(ctx, X, Wi) == NULL && zf_last_status() == ZF_ERR_DTYPE);
    zf_tensor *Wf = zf_randn(ctx, ZF_F32, 2, ws, 2, 0);
    zf_requires_grad(Wf, true);
    CHECK(zf_qmatmul(ctx, X, Wf) == NULL && zf_last_status() == ZF_ERR_INVALID_ARG);
    bool prev = zf_set_grad_enabled(false);
    CHECK(zf_qmatmul(ctx, X, Wf) != NULL); /* fine without grad mode */
    zf_set_grad_enabled(prev);
    zf_tensor *WT = zf_transpose(ctx, zf_randn(ctx, ZF_F32, 2, ws, 2, 0), 0, 1);
    CHECK(zf_qmatmul(ctx, zf_randn(ctx, ZF_F32, 2, (int64_t[]){2, 4}, 1, 0), WT) == NULL);
    /* empty M */
    int64_t e[2] = {0, 64};
    zf_tensor *Y = zf_qmatmul(ctx, zf_zeros(ctx, ZF_F32, 2, e), W);
    CHECK(Y && Y->shape[0] == 0 && Y->shape[1] == 4);
    free_weights(&w);
    zf_ctx_free(ctx);
}

int main(void) {
    printf("qmatmul kernels: best = %s\n", zf_qkernels_best()->name);
    test_qx();
    test_kernels();
    test_float_tails();
    test_gemm_path();
    test_op();
    test_backward();
    test_errors();
    ZF_TEST_MAIN_END();
}
