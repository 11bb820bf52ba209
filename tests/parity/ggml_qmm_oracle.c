/* Bit-exact parity of zf_qmatmul with ggml's CPU mul_mat (the ggml inside
 * PyPI llama-cpp-python, built with GGML_NATIVE=ON on this machine).
 *
 * The ggml libraries (libggml-base.so, libggml-cpu.so from the installed
 * llama_cpp package) are dlopen()ed: argv[1] names their directory, or the
 * program asks python3 where llama_cpp lives. Exit 77 (ctest SKIP) when they
 * cannot be found. The ggml functions used are declared here with minimal
 * types, written from the headers of the installed version (0.3.36's
 * ggml/include/ggml.h, ggml-backend.h, ggml-alloc.h, ggml-cpu.h): every ggml
 * struct is opaque except ggml_init_params, passed by value.
 *
 * Each case is y [M, N] = x [M, K] W [N, K]^T. The weight goes where
 * llama.cpp's loader puts a model weight: into the CPU "extra" buffer type
 * CPU_REPACK when ggml repacks that type on this CPU (q4_0, q4_K with
 * AVX2; q2_K with AVX-512; N % 8 == 0: ggml-cpu/repack.cpp
 * ggml_repack_get_optimal_repack_type), into the plain CPU buffer otherwise.
 * The graph (x, mul_mat) runs on the CPU backend with 1 and 2 threads.
 * zf_qmatmul runs every kernel set this CPU supports (ref, avx2, avx512)
 * on the calling thread and on a pool of 2; every output must have the same
 * bits as ggml's. Mismatches that are understood and not fixed are listed in
 * k_known and reported as KNOWN; any other mismatch fails the test.
 *
 *   usage: ggml_qmm_oracle [GGML_LIB_DIR]
 *   env:   ZF_QMM_TYPES=q4_k,q6_k  (only these types)  ZF_QMM_VERBOSE=1 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpu/qmatmul.h"
#include "ggml_dl.h"
#include "zerfoo/quant.h"
#include "zerfoo/threadpool.h"

/* ---- the ggml API, declared from the installed headers ---- */

enum { G_F32 = 0, G_Q4_0 = 2, G_Q4_1 = 3, G_Q5_0 = 6, G_Q5_1 = 7, G_Q8_0 = 8, G_Q2_K = 10, G_Q3_K = 11,
       G_Q4_K = 12, G_Q5_K = 13, G_Q6_K = 14 };

struct ggml_init_params { /* ggml.h */
    size_t mem_size;
    void *mem_buffer;
    bool no_alloc;
};
typedef void *gptr; /* ggml_context, ggml_tensor, ggml_cgraph, backend, buffer, buffer type, reg, dev */

static struct {
    gptr (*init)(struct ggml_init_params);
    void (*free)(gptr ctx);
    size_t (*tensor_overhead)(void);
    size_t (*graph_overhead)(void);
    gptr (*new_tensor_2d)(gptr ctx, int type, int64_t ne0, int64_t ne1);
    gptr (*mul_mat)(gptr ctx, gptr a, gptr b);
    gptr (*new_graph)(gptr ctx);
    void (*build_forward_expand)(gptr graph, gptr tensor);
    gptr (*alloc_ctx_tensors_from_buft)(gptr ctx, gptr buft);
    gptr (*cpu_buffer_type)(void);
    void (*tensor_set)(gptr t, const void *data, size_t off, size_t size);
    void (*tensor_get)(gptr t, void *data, size_t off, size_t size);
    int (*graph_compute)(gptr backend, gptr graph);
    void (*buffer_free)(gptr buf);
    void (*backend_free)(gptr backend);
    const char *(*buft_name)(gptr buft);
    gptr (*cpu_init)(void);
    void (*cpu_set_n_threads)(gptr backend, int n);
    gptr (*cpu_reg)(void);
    gptr (*reg_dev_get)(gptr reg, size_t i);
    void (*log_set)(void (*cb)(int level, const char *text, void *user), void *user);
    void *(*reg_get_proc_address)(gptr reg, const char *name);
} G;

static gptr g_backend, g_repack_buft;
static bool g_plain; /* weights in the plain CPU buffer even where llama.cpp's loader would repack them */

static void quiet(int level, const char *text, void *user) {
    (void)level, (void)text, (void)user;
}

static int load_ggml(const char *dir) {
    void *base, *cpu;
    if (!ggml_dl_open(dir, "SKIP", &base, &cpu)) return -1;
    int missing = 0;
#define SYM(lib, field, name)                                                     \
    do {                                                                           \
        *(void **)&G.field = dlsym(lib, name);                                     \
        if (!G.field) printf("SKIP: %s not found in the ggml libraries\n", name), missing++; \
    } while (0)
    SYM(base, init, "ggml_init");
    SYM(base, free, "ggml_free");
    SYM(base, tensor_overhead, "ggml_tensor_overhead");
    SYM(base, graph_overhead, "ggml_graph_overhead");
    SYM(base, new_tensor_2d, "ggml_new_tensor_2d");
    SYM(base, mul_mat, "ggml_mul_mat");
    SYM(base, new_graph, "ggml_new_graph");
    SYM(base, build_forward_expand, "ggml_build_forward_expand");
    SYM(base, alloc_ctx_tensors_from_buft, "ggml_backend_alloc_ctx_tensors_from_buft");
    SYM(cpu, cpu_buffer_type, "ggml_backend_cpu_buffer_type");
    SYM(base, tensor_set, "ggml_backend_tensor_set");
    SYM(base, tensor_get, "ggml_backend_tensor_get");
    SYM(base, graph_compute, "ggml_backend_graph_compute");
    SYM(base, buffer_free, "ggml_backend_buffer_free");
    SYM(base, backend_free, "ggml_backend_free");
    SYM(base, buft_name, "ggml_backend_buft_name");
    SYM(cpu, cpu_init, "ggml_backend_cpu_init");
    SYM(cpu, cpu_set_n_threads, "ggml_backend_cpu_set_n_threads");
    SYM(cpu, cpu_reg, "ggml_backend_cpu_reg");
    SYM(base, reg_dev_get, "ggml_backend_reg_dev_get");
    SYM(base, reg_get_proc_address, "ggml_backend_reg_get_proc_address");
    SYM(base, log_set, "ggml_log_set");
#undef SYM
    if (missing) return -1;
    G.log_set(quiet, NULL); /* repack.cpp logs every repacked tensor */
    g_backend = G.cpu_init();
    gptr reg = G.cpu_reg();
    /* ggml-backend.h: ggml_backend_dev_get_extra_bufts_t, a NULL-terminated list */
    gptr *(*extra)(gptr) = (gptr * (*)(gptr)) G.reg_get_proc_address(reg, "ggml_backend_dev_get_extra_bufts");
    for (gptr *b = extra ? extra(G.reg_dev_get(reg, 0)) : NULL; b && *b; b++)
        if (strcmp(G.buft_name(*b), "CPU_REPACK") == 0) g_repack_buft = *b;
    if (!g_backend || !g_repack_buft) {
        printf("SKIP: no CPU backend or no CPU_REPACK buffer type in this ggml\n");
        return -1;
    }
    return 0;
}

/* Whether llama.cpp's loader would put a weight of this type and N rows in
 * CPU_REPACK on this CPU (ggml_repack_get_optimal_repack_type, x86). */
static bool ggml_repacks(zf_dtype t, int64_t N) {
    __builtin_cpu_init();
    bool avx2 = __builtin_cpu_supports("avx2"), avx512 = __builtin_cpu_supports("avx512f");
    if (N % 8) return false;
    return ((t == ZF_Q4_0 || t == ZF_Q4_K) && avx2) || (t == ZF_Q2_K && avx512);
}

static int ggml_type_of(zf_dtype t) {
    switch (t) {
    case ZF_Q4_0: return G_Q4_0;
    case ZF_Q4_1: return G_Q4_1;
    case ZF_Q5_0: return G_Q5_0;
    case ZF_Q5_1: return G_Q5_1;
    case ZF_Q8_0: return G_Q8_0;
    case ZF_Q2_K: return G_Q2_K;
    case ZF_Q3_K: return G_Q3_K;
    case ZF_Q4_K: return G_Q4_K;
    case ZF_Q5_K: return G_Q5_K;
    default: return G_Q6_K;
    }
}

/* y [M, N] from ggml with nth threads. */
static void ggml_product(zf_dtype t, int64_t M, int64_t N, int64_t K, const void *w, const float *x, float *y,
                         int nth) {
    struct ggml_init_params ip = {4 * G.tensor_overhead() + G.graph_overhead(), NULL, true};
    gptr cw = G.init(ip), cx = G.init(ip);
    gptr W = G.new_tensor_2d(cw, ggml_type_of(t), K, N);
    gptr bw = G.alloc_ctx_tensors_from_buft(cw, ggml_repacks(t, N) && !g_plain ? g_repack_buft : G.cpu_buffer_type());
    G.tensor_set(W, w, 0, zf_quant_row_size(t, K) * (size_t)N);
    gptr X = G.new_tensor_2d(cx, G_F32, K, M);
    gptr Y = G.mul_mat(cx, W, X);
    gptr graph = G.new_graph(cx);
    G.build_forward_expand(graph, Y);
    gptr bx = G.alloc_ctx_tensors_from_buft(cx, G.cpu_buffer_type());
    G.tensor_set(X, x, 0, sizeof(float) * (size_t)(M * K));
    G.cpu_set_n_threads(g_backend, nth);
    if (G.graph_compute(g_backend, graph) != 0) {
        fprintf(stderr, "ggml_qmm_oracle: ggml graph compute failed\n");
        exit(2);
    }
    G.tensor_get(Y, y, 0, sizeof(float) * (size_t)(M * N));
    G.buffer_free(bx);
    G.buffer_free(bw);
    G.free(cx);
    G.free(cw);
}

/* The ggml path a product takes on this machine (ggml-cpu.c
 * ggml_compute_forward_mul_mat, tiled/tiled.cpp, llamafile/sgemm.cpp,
 * repack.cpp), for the report. */
static const char *ggml_path(zf_dtype t, int64_t M, int64_t N) {
    if (ggml_repacks(t, N) && g_plain) return "not repacked";
    if (ggml_repacks(t, N)) return M >= 4 ? (M % 4 ? "repack gemm+gemv" : "repack gemm") : "repack gemv";
    bool kq = zf_dtype_block(t) == 256;
    if (kq) return M >= 8 ? "tiled" : "vec_dot";
    if (M >= 2 && (t == ZF_Q4_0 || t == ZF_Q5_0 || t == ZF_Q8_0)) return "tinyBLAS";
    return "vec_dot";
}

/* ---- inputs ---- */

static uint64_t g_rng;
static uint64_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}
static double uniform(void) { return ((rnd() >> 11) + 0.5) / 9007199254740992.0; }
static double gauss(void) { return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform()); }

static void put_f16(uint8_t *p, float v) {
    uint16_t h = zf_f32_to_f16(v);
    memcpy(p, &h, 2);
}

/* Weights: even seeds quantize Gaussian rows (per-row scale, outliers) with
 * zf_quantize; odd seeds are random bytes with random (finite) f16 scales,
 * which reach every level and scale code. */
static void make_weights(zf_dtype t, int64_t N, int64_t K, int seed, uint8_t *q) {
    size_t rs = zf_quant_row_size(t, K);
    if (seed % 2 == 0) {
        float *f = malloc(sizeof(float) * (size_t)K);
        for (int64_t n = 0; n < N; n++) {
            double sc = exp(gauss());
            for (int64_t k = 0; k < K; k++) f[k] = (float)(gauss() * sc * (uniform() < 0.01 ? 8 : 1));
            zf_quantize(t, f, q + n * rs, K);
        }
        free(f);
        return;
    }
    for (size_t i = 0; i < rs * (size_t)N; i++) q[i] = (uint8_t)rnd();
    int bs = (int)zf_dtype_size(t), nb = (int)(K / zf_dtype_block(t));
    for (int64_t n = 0; n < N; n++)
        for (int b = 0; b < nb; b++) {
            uint8_t *blk = q + n * rs + (size_t)b * bs;
            float d = (float)(gauss() * 0.02), m = (float)(fabs(gauss()) * 0.02);
            switch (t) {
            case ZF_Q4_1:
            case ZF_Q5_1: put_f16(blk, d), put_f16(blk + 2, m); break;
            case ZF_Q2_K: put_f16(blk + 80, d), put_f16(blk + 82, m); break;
            case ZF_Q3_K: put_f16(blk + 108, d); break;
            case ZF_Q4_K:
            case ZF_Q5_K: put_f16(blk, d), put_f16(blk + 2, m); break;
            case ZF_Q6_K: put_f16(blk + 208, d); break;
            default: put_f16(blk, d); break; /* q4_0 q5_0 q8_0 */
            }
        }
}

/* Activations: per-row scales over 6 decades, outliers, a zero block, and
 * rows whose largest value is positive or negative. */
static void make_x(int64_t M, int64_t K, float *x) {
    for (int64_t m = 0; m < M; m++) {
        double sc = exp(3 * gauss());
        for (int64_t k = 0; k < K; k++) {
            double v = gauss() * sc;
            if (uniform() < 0.005) v *= 30;
            if (m == 1 && k < 32) v = 0;
            x[m * K + k] = (float)v;
        }
    }
}

/* ---- known mismatches (type, ggml path), reported instead of failing ---- */

typedef struct {
    zf_dtype t;
    const char *path; /* ggml_path() */
    const char *why;
} known;
#define NOT_REPACKED                                                                                       \
    "llama.cpp keeps a weight it does not load for MUL_MAT (a tied token embedding used as the output) " \
    "in the plain CPU buffer, so ggml runs vec_dot/tiled on it; zf_qmatmul cannot tell and takes the "    \
    "repacked recipe for every q4_0/q4_K/q2_K weight with N % 8 == 0"
static const known k_known[] = {
    {ZF_Q4_0, "not repacked", NOT_REPACKED},
    {ZF_Q4_K, "not repacked", NOT_REPACKED},
    {ZF_Q2_K, "not repacked", NOT_REPACKED},
};

static const char *known_why(zf_dtype t, const char *path) {
    for (size_t i = 0; i < sizeof k_known / sizeof *k_known; i++)
        if (k_known[i].path && k_known[i].t == t && strcmp(k_known[i].path, path) == 0) return k_known[i].why;
    return NULL;
}

/* ---- the run ---- */

typedef struct {
    zf_dtype t;
    char path[32];
    int cases, exact, worst_ulp;
} tally;

static tally g_tally[256];
static int g_ntally;

static tally *tally_for(zf_dtype t, const char *path) {
    for (int i = 0; i < g_ntally; i++)
        if (g_tally[i].t == t && strcmp(g_tally[i].path, path) == 0) return &g_tally[i];
    tally *r = &g_tally[g_ntally++];
    r->t = t;
    snprintf(r->path, sizeof r->path, "%s", path);
    return r;
}

static int ulp_diff(float a, float b) {
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    if (ia < 0) ia = INT32_MIN - ia;
    if (ib < 0) ib = INT32_MIN - ib;
    int64_t d = (int64_t)ia - ib;
    d = d < 0 ? -d : d;
    return d > 1000000 ? 1000000 : (int)d;
}

static bool wanted(zf_dtype t) {
    const char *want = getenv("ZF_QMM_TYPES");
    if (!want || !*want) return true;
    const char *name = zf_dtype_name(t);
    size_t n = strlen(name);
    for (const char *p = want; (p = strstr(p, name)) != NULL; p += n)
        if ((p == want || p[-1] == ',') && (p[n] == 0 || p[n] == ',')) return true;
    return false;
}

/* One case: ggml (1 and 2 threads) against every kernel set (1 and 2
 * threads), tallied under ggml's path. */
static void run_case(zf_dtype t, int64_t M, int64_t N, int64_t K, int seed, zf_threadpool *pool, bool verbose) {
    uint8_t *w = malloc(zf_quant_row_size(t, K) * (size_t)N);
    float *x = malloc(sizeof(float) * (size_t)(M * K));
    float *yg = malloc(sizeof(float) * (size_t)(M * N)), *yg2 = malloc(sizeof(float) * (size_t)(M * N));
    float *yz = malloc(sizeof(float) * (size_t)(M * N));
    make_weights(t, N, K, seed, w);
    make_x(M, K, x);
    ggml_product(t, M, N, K, w, x, yg, 1);
    ggml_product(t, M, N, K, w, x, yg2, 2);
    if (memcmp(yg, yg2, sizeof(float) * (size_t)(M * N)) != 0)
        printf("note: ggml itself gives other bits with 2 threads (%s M=%lld N=%lld K=%lld)\n",
               zf_dtype_name(t), (long long)M, (long long)N, (long long)K);
    const char *path = ggml_path(t, M, N);
    tally *ta = tally_for(t, path);
    for (int ki2 = 0; zf_qkernels_all[ki2]; ki2++) {
        const zf_qkernels *kern = zf_qkernels_all[ki2];
        if (!kern->supported()) continue;
        for (int th = 0; th < 2; th++) {
            memset(yz, 0xff, sizeof(float) * (size_t)(M * N));
            if (zf_qmatmul_run(kern, th ? pool : NULL, t, M, N, K, x, w, yz) != ZF_OK) {
                printf("FAIL %s: zf_qmatmul_run: %s\n", zf_dtype_name(t), zf_last_error());
                exit(1);
            }
            int bad = 0, worst = 0;
            int64_t first = -1;
            for (int64_t i = 0; i < M * N; i++)
                if (memcmp(&yz[i], &yg[i], 4) != 0) {
                    if (first < 0) first = i;
                    bad++;
                    int u = ulp_diff(yz[i], yg[i]);
                    worst = u > worst ? u : worst;
                }
            ta->cases++;
            ta->exact += bad == 0;
            ta->worst_ulp = worst > ta->worst_ulp ? worst : ta->worst_ulp;
            if (bad && verbose)
                printf("  %s %-16s %-6s %d thr M=%-2lld N=%-2lld K=%-4lld: %d/%lld differ, "
                       "first [%lld,%lld] zf %.9g ggml %.9g (%d ulp), worst %d ulp\n",
                       zf_dtype_name(t), path, kern->name, th ? 2 : 1, (long long)M, (long long)N,
                       (long long)K, bad, (long long)(M * N), (long long)(first / N),
                       (long long)(first % N), yz[first], yg[first], ulp_diff(yz[first], yg[first]),
                       worst);
        }
    }
    free(w);
    free(x);
    free(yg);
    free(yg2);
    free(yz);
}

int main(int argc, char **argv) {
    const char *dir = ggml_dl_dir(argc > 1 ? argv[1] : NULL);
    if (!dir) {
        printf("SKIP: llama_cpp (PyPI llama-cpp-python) is not installed; no ggml to compare with\n");
        return 77;
    }
    if (load_ggml(dir) != 0) return 77;
    bool verbose = getenv("ZF_QMM_VERBOSE") && atoi(getenv("ZF_QMM_VERBOSE"));
    const zf_dtype types[] = {ZF_Q4_0, ZF_Q4_1, ZF_Q5_0, ZF_Q5_1, ZF_Q8_0,
                              ZF_Q4_K, ZF_Q6_K, ZF_Q2_K, ZF_Q3_K, ZF_Q5_K};
    const int64_t Ms[] = {1, 2, 3, 4, 5, 8, 13, 32, 64};
    const int64_t Ns[] = {64, 40, 37};
    zf_threadpool *pool = zf_threadpool_new(2);
    int unexpected = 0;
    printf("ggml: %s\n", dir);
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) {
        zf_dtype t = types[ti];
        if (!wanted(t)) continue;
        bool kq = zf_dtype_block(t) == 256;
        const int64_t Ks[] = {256, 768, kq ? 1024 : 640};
        for (int ki = 0; ki < 3; ki++)
            for (int ni = 0; ni < 3; ni++)
                for (size_t mi = 0; mi < sizeof Ms / sizeof *Ms; mi++)
                    for (int seed = 0; seed < 2; seed++) {
                        uint64_t key = ti * 10000 + (uint64_t)ki * 1000 + (uint64_t)ni * 100 + mi * 10 + (uint64_t)seed;
                        g_rng = 0x9e3779b97f4a7c15ull ^ key << 17;
                        run_case(t, Ms[mi], Ns[ni], Ks[ki], seed, pool, verbose);
                    }
        if (ggml_repacks(t, 64)) { /* the same weights left unpacked: the KNOWN case */
            g_plain = true;
            for (int64_t M = 1; M <= 8; M += 7) run_case(t, M, 64, 768, 0, pool, verbose);
            g_plain = false;
        }
    }
    printf("%-6s %-18s %8s   %s\n", "type", "ggml path", "exact",
           "(cases: shapes x seeds x kernel sets x 1/2 threads)");
    for (int i = 0; i < g_ntally; i++) {
        tally *ta = &g_tally[i];
        const char *why = known_why(ta->t, ta->path);
        const char *tag = ta->exact == ta->cases ? "ok   " : why ? "KNOWN" : "FAIL ";
        printf("%s %-6s %-18s %4d/%-4d", tag, zf_dtype_name(ta->t), ta->path, ta->exact, ta->cases);
        if (ta->exact != ta->cases) printf("  worst %d ulp%s%s", ta->worst_ulp, why ? ": " : "", why ? why : "");
        printf("\n");
        unexpected += ta->exact != ta->cases && !why;
    }
    zf_threadpool_free(pool);
    G.backend_free(g_backend);
    printf("%s\n", unexpected ? "FAILED: unexpected mismatches" : "all cases bit-exact or KNOWN");
    return unexpected ? 1 : 0;
}
