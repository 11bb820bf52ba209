/* zf_sgemm / zf_dgemm (every microkernel this CPU can run) and zf_blas_*
 * against a float64 reference: many shapes, all four transpose
 * combinations, padded leading dimensions, alpha/beta cases, and beta = 0
 * with C poisoned with NaN; with 1-, 2- and 4-thread pools. The padding
 * columns of C must come back untouched. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/blas_loader.h"
#include "engine/cpu/gemm.h"
#include "zerfoo/threadpool.h"

static int g_pass, g_fail;

/* splitmix64: deterministic inputs in [-1, 1), never all zero. */
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static double rnd(void) {
    uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

/* n elements of `size` bytes (at least one), or exit: a test helper. */
static void *alloc_n(int64_t n, size_t size) {
    void *p = malloc(size * (size_t)(n > 0 ? n : 1));
    if (!p) {
        printf("out of memory\n");
        exit(1);
    }
    return p;
}

#define PAD_VALUE 12345.0 /* sentinel in C's padding columns */

typedef struct {
    int64_t M, N, K;
} shape;

typedef struct {
    bool ta, tb;
    int64_t M, N, K;
    int64_t lda, ldb, ldc;
    double alpha, beta;
    bool nan_c; /* beta == 0 and C starts as NaN */
} gemm_case;

/* Inputs in double; each implementation converts them to its own type. */
typedef struct {
    double *A, *B, *C0; /* stored shapes: A [rows_a, lda], B [rows_b, ldb], C [M, ldc] */
    double *ref, *bound; /* [M, N] expected value and allowed error scale */
} case_data;

static void make_case(const gemm_case *t, case_data *d) {
    const int64_t rows_a = t->ta ? t->K : t->M, rows_b = t->tb ? t->N : t->K;
    const int64_t na = rows_a * t->lda, nb = rows_b * t->ldb, nc = t->M * t->ldc;
    d->A = alloc_n(na, sizeof(double));
    d->B = alloc_n(nb, sizeof(double));
    d->C0 = alloc_n(nc, sizeof(double));
    d->ref = alloc_n(t->M * t->N, sizeof(double));
    d->bound = alloc_n(t->M * t->N, sizeof(double));
    for (int64_t i = 0; i < na; i++) d->A[i] = rnd();
    for (int64_t i = 0; i < nb; i++) d->B[i] = rnd();
    for (int64_t i = 0; i < t->M; i++)
        for (int64_t j = 0; j < t->ldc; j++)
            d->C0[i * t->ldc + j] = j >= t->N ? PAD_VALUE : t->nan_c ? NAN : rnd();
    for (int64_t i = 0; i < t->M; i++) {
        for (int64_t j = 0; j < t->N; j++) {
            double s = 0.0, sabs = 0.0;
            for (int64_t k = 0; k < t->K; k++) {
                double a = t->ta ? d->A[k * t->lda + i] : d->A[i * t->lda + k];
                double b = t->tb ? d->B[j * t->ldb + k] : d->B[k * t->ldb + j];
                s += a * b;
                sabs += fabs(a * b);
            }
            double c = d->C0[i * t->ldc + j];
            double r = t->alpha * s, bound = fabs(t->alpha) * sabs;
            if (t->beta != 0.0) {
                r += t->beta * c;
                bound += fabs(t->beta * c);
            }
            d->ref[i * t->N + j] = r;
            d->bound[i * t->N + j] = bound;
        }
    }
}

static void free_case(case_data *d) {
    free(d->A);
    free(d->B);
    free(d->C0);
    free(d->ref);
    free(d->bound);
}

/* Compares the result (already widened to double) with the reference:
 * |got - ref| <= tol * (|alpha| sum_k |a b| + |beta c|) + tiny. tol grows
 * with K: each of the K roundings of a dot product may add one unit. */
static bool check(const char *who, const gemm_case *t, const case_data *d, const double *got,
                  double eps) {
    const double tol = eps * (double)(t->K + 4) * 2.0;
    for (int64_t i = 0; i < t->M; i++) {
        for (int64_t j = 0; j < t->ldc; j++) {
            double g = got[i * t->ldc + j];
            if (j >= t->N) {
                if (g != PAD_VALUE) {
                    printf("FAIL %s: C padding overwritten at (%lld,%lld)\n", who, (long long)i,
                           (long long)j);
                    return false;
                }
                continue;
            }
            double r = d->ref[i * t->N + j], b = d->bound[i * t->N + j];
            if (!(fabs(g - r) <= tol * b + 1e-30)) {
                printf("FAIL %s: C[%lld][%lld] = %.9g, want %.9g (err %.3g, allowed %.3g)\n", who,
                       (long long)i, (long long)j, g, r, fabs(g - r), tol * b);
                return false;
            }
        }
    }
    return true;
}

typedef enum { RUN_SGEMM, RUN_DGEMM, RUN_BLAS_S, RUN_BLAS_D } run_kind;

/* Runs one implementation on case t. kern != NULL: the blocked driver with
 * that kernel directly (to test every kernel the CPU supports). */
static bool run_one(run_kind kind, const zf_gemm_kernel *kern, zf_threadpool *pool,
                    const gemm_case *t, const case_data *d, const char *label) {
    const int64_t rows_a = t->ta ? t->K : t->M, rows_b = t->tb ? t->N : t->K;
    const int64_t na = rows_a * t->lda, nb = rows_b * t->ldb, nc = t->M * t->ldc;
    double *got = alloc_n(nc, sizeof(double));
    zf_status st;
    double eps;
    if (kind == RUN_SGEMM || kind == RUN_BLAS_S) {
        float *A = alloc_n(na, sizeof(float));
        float *B = alloc_n(nb, sizeof(float));
        float *C = alloc_n(nc, sizeof(float));
        for (int64_t i = 0; i < na; i++) A[i] = (float)d->A[i];
        for (int64_t i = 0; i < nb; i++) B[i] = (float)d->B[i];
        for (int64_t i = 0; i < nc; i++) C[i] = (float)d->C0[i];
        if (kind == RUN_BLAS_S)
            st = zf_blas_sgemm(t->ta, t->tb, t->M, t->N, t->K, (float)t->alpha, A, t->lda, B,
                               t->ldb, (float)t->beta, C, t->ldc);
        else if (kern)
            st = zf_gemm_blocked(kern, pool, t->ta, t->tb, t->M, t->N, t->K, t->alpha, A, t->lda,
                                 B, t->ldb, t->beta, C, t->ldc);
        else
            st = zf_sgemm(pool, t->ta, t->tb, t->M, t->N, t->K, (float)t->alpha, A, t->lda, B,
                          t->ldb, (float)t->beta, C, t->ldc);
        for (int64_t i = 0; i < nc; i++) got[i] = C[i];
        free(A);
        free(B);
        free(C);
        eps = 0x1p-24;
    } else {
        double *C = alloc_n(nc, sizeof(double));
        memcpy(C, d->C0, sizeof(double) * (size_t)nc);
        if (kind == RUN_BLAS_D)
            st = zf_blas_dgemm(t->ta, t->tb, t->M, t->N, t->K, t->alpha, d->A, t->lda, d->B,
                               t->ldb, t->beta, C, t->ldc);
        else if (kern)
            st = zf_gemm_blocked(kern, pool, t->ta, t->tb, t->M, t->N, t->K, t->alpha, d->A,
                                 t->lda, d->B, t->ldb, t->beta, C, t->ldc);
        else
            st = zf_dgemm(pool, t->ta, t->tb, t->M, t->N, t->K, t->alpha, d->A, t->lda, d->B,
                          t->ldb, t->beta, C, t->ldc);
        memcpy(got, C, sizeof(double) * (size_t)nc);
        free(C);
        eps = 0x1p-53;
    }
    char who[256];
    snprintf(who, sizeof who, "%s %c%c M=%lld N=%lld K=%lld lda=%lld ldb=%lld ldc=%lld "
             "alpha=%g beta=%g%s threads=%d", label, t->ta ? 'T' : 'N', t->tb ? 'T' : 'N',
             (long long)t->M, (long long)t->N, (long long)t->K, (long long)t->lda,
             (long long)t->ldb, (long long)t->ldc, t->alpha, t->beta, t->nan_c ? " (C=NaN)" : "",
             zf_threadpool_size(pool));
    bool ok = st == ZF_OK;
    if (!ok) printf("FAIL %s: status %s: %s\n", who, zf_status_name(st), zf_last_error());
    ok = ok && check(who, t, d, got, eps);
    free(got);
    return ok;
}

static void record(bool ok) {
    if (ok)
        g_pass++;
    else
        g_fail++;
}

/* Shapes crossing the register tiles (mr 4..14, nr 8..32), the cache blocks
 * (kc 256/512, mc 128..224, nc 2048), the small-problem and threading
 * thresholds, and thread bands of uneven size. */
static const shape k_shapes[] = {
    {1, 1, 1},      {1, 1, 7},     {2, 3, 1},       {7, 5, 3},      {4, 4, 8},     {16, 16, 16},
    {17, 33, 65},   {13, 31, 255}, {14, 32, 256},   {15, 33, 257},  {29, 65, 300}, {1, 300, 40},
    {300, 1, 40},   {1, 1, 1000},  {500, 3, 2},     {3, 500, 2},    {64, 64, 1},   {100, 100, 1},
    {97, 129, 513}, {337, 47, 31}, {43, 290, 70},   {300, 200, 150}, {129, 2099, 3}, {2049, 5, 9},
    {224, 64, 96},  {450, 37, 600}, {161, 97, 257}, {8, 1000, 130},
};
/* The leading-dimension padding used for the padded variants. */
#define LD_PAD 5

/* Pools of 1, 2 and 4 threads (4: two-dimensional thread grids). */
#define NPOOLS 3
static zf_threadpool *g_pools[NPOOLS];

static void run_case(const gemm_case *t) {
    case_data d;
    make_case(t, &d);
    for (int p = 0; p < NPOOLS; p++) {
        record(run_one(RUN_SGEMM, NULL, g_pools[p], t, &d, "zf_sgemm"));
        record(run_one(RUN_DGEMM, NULL, g_pools[p], t, &d, "zf_dgemm"));
    }
    /* Every other kernel this CPU supports, directly through the driver. The
     * driver needs K >= 1 and alpha != 0 (zf_sgemm handles the rest). */
    if (t->K >= 1 && t->alpha != 0.0) {
        for (int dt = 0; dt < 2; dt++) {
            const zf_gemm_kernel *const *list = dt ? zf_dgemm_kernels : zf_sgemm_kernels;
            const zf_gemm_kernel *best = dt ? zf_dgemm_kernel() : zf_sgemm_kernel();
            for (int i = 0;; i++) {
                const zf_gemm_kernel *k = list[i];
                if (k != best && zf_gemm_isa_supported(k->isa))
                    record(run_one(dt ? RUN_DGEMM : RUN_SGEMM, k, g_pools[1], t, &d, k->name));
                if (k->isa == ZF_GEMM_ISA_NONE) break;
            }
        }
    }
    if (zf_blas_available()) {
        record(run_one(RUN_BLAS_S, NULL, NULL, t, &d, "zf_blas_sgemm"));
        record(run_one(RUN_BLAS_D, NULL, NULL, t, &d, "zf_blas_dgemm"));
    }
    free_case(&d);
}

static void test_shapes(void) {
    const size_t nshapes = sizeof k_shapes / sizeof k_shapes[0];
    /* alpha, beta, NaN-poisoned C */
    static const struct {
        double alpha, beta;
        bool nan_c;
    } k_ab[] = {{1.0, 0.0, true}, {0.5, 2.0, false}, {-1.5, 1.0, false}};
    for (size_t s = 0; s < nshapes; s++) {
        for (int tr = 0; tr < 4; tr++) {
            for (int pad = 0; pad < 2; pad++) {
                const shape sh = k_shapes[s];
                gemm_case t = {.ta = tr & 1, .tb = (tr >> 1) & 1, .M = sh.M, .N = sh.N, .K = sh.K};
                const int64_t extra = pad ? LD_PAD : 0;
                t.lda = (t.ta ? t.M : t.K) + extra;
                t.ldb = (t.tb ? t.K : t.N) + extra;
                t.ldc = t.N + extra;
                /* Cycle alpha/beta over the combinations to bound the run time. */
                const int ab = (int)((s + (size_t)tr + (size_t)pad) % 3);
                t.alpha = k_ab[ab].alpha;
                t.beta = k_ab[ab].beta;
                t.nan_c = k_ab[ab].nan_c;
                run_case(&t);
            }
        }
    }
}

/* Degenerate sizes and scalars: M/N/K = 0, alpha = 0 (A and B not needed),
 * beta = 0 with NaN in C. */
static void test_degenerate(void) {
    static const gemm_case cases[] = {
        {false, false, 0, 5, 3, 3, 5, 5, 1.0, 0.0, false},
        {false, false, 4, 0, 3, 3, 1, 1, 1.0, 0.0, false},
        {false, false, 4, 5, 0, 1, 5, 5, 1.0, 0.0, true},  /* K = 0: C = 0 */
        {true, true, 4, 5, 0, 4, 1, 5, 1.0, 0.5, false},   /* K = 0: C = beta C */
        {false, false, 6, 7, 8, 8, 7, 7, 0.0, 0.0, true},  /* alpha = 0 */
        {false, true, 6, 7, 8, 8, 8, 9, 0.0, -2.0, false}, /* alpha = 0: C = beta C */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
}

/* Bad arguments are errors, not crashes. */
static void test_errors(void) {
    float a[4] = {0}, b[4] = {0}, c[4] = {0};
    record(zf_sgemm(NULL, false, false, -1, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2) ==
           ZF_ERR_INVALID_ARG);
    record(zf_sgemm(NULL, false, false, 2, 2, 2, 1.0f, a, 1, b, 2, 0.0f, c, 2) ==
           ZF_ERR_INVALID_ARG); /* lda < K */
    record(zf_sgemm(NULL, true, false, 2, 2, 3, 1.0f, a, 1, b, 2, 0.0f, c, 2) ==
           ZF_ERR_INVALID_ARG); /* trans: lda < M */
    record(zf_sgemm(NULL, false, false, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 1) ==
           ZF_ERR_INVALID_ARG); /* ldc < N */
    record(zf_sgemm(NULL, false, false, 2, 2, 2, 1.0f, NULL, 2, b, 2, 0.0f, c, 2) ==
           ZF_ERR_INVALID_ARG);
    double da[4] = {0}, db[4] = {0}, dc[4] = {0};
    record(zf_dgemm(NULL, false, true, 2, 2, 2, 1.0, da, 2, db, 1, 0.0, dc, 2) ==
           ZF_ERR_INVALID_ARG); /* trans_b: ldb < K */
    zf_clear_error();
}

/* The same call twice must give bit-identical results (deterministic split). */
static void test_repeatable(zf_threadpool *pool2) {
    const int64_t M = 200, N = 300, K = 700;
    float *A = alloc_n(M * K, sizeof(float)), *B = alloc_n(K * N, sizeof(float));
    float *C1 = alloc_n(M * N, sizeof(float)), *C2 = alloc_n(M * N, sizeof(float));
    for (int64_t i = 0; i < M * K; i++) A[i] = (float)rnd();
    for (int64_t i = 0; i < K * N; i++) B[i] = (float)rnd();
    zf_status s1 = zf_sgemm(pool2, false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C1, N);
    zf_status s2 = zf_sgemm(pool2, false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C2, N);
    bool ok = s1 == ZF_OK && s2 == ZF_OK && memcmp(C1, C2, sizeof(float) * M * N) == 0;
    if (!ok) printf("FAIL repeatable: results differ between identical calls\n");
    record(ok);
    free(A);
    free(B);
    free(C1);
    free(C2);
}

int main(void) {
    static const int nthreads[NPOOLS] = {1, 2, 4};
    for (int p = 0; p < NPOOLS; p++) {
        g_pools[p] = zf_threadpool_new(nthreads[p]);
        if (!g_pools[p]) {
            printf("cannot create a thread pool: %s\n", zf_last_error());
            return 1;
        }
    }
    printf("sgemm kernel: %s, dgemm kernel: %s, BLAS: %s\n", zf_sgemm_kernel()->name,
           zf_dgemm_kernel()->name, zf_blas_available() ? zf_blas_library() : "none");
    zf_blas_set_threads(2);
    test_errors();
    test_degenerate();
    test_shapes();
    test_repeatable(g_pools[1]);
    for (int p = 0; p < NPOOLS; p++) zf_threadpool_free(g_pools[p]);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
