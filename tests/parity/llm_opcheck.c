/* llm_opcheck: zerfoo's LLM inference ops with ggml numerics against ggml's
 * own CPU ops, bit for bit, on the same inputs. ggml is llama-cpp-python's
 * build (site-packages/llama_cpp/lib), loaded with dlopen; the few functions
 * used are declared below (ggml.h of the vendored version).
 *
 *   llm_opcheck LIBDIR     exit 0: every output identical; 1: a difference
 *                          (the op, case and first differing element are
 *                          printed); 77: no ggml in LIBDIR (skipped)
 *
 * Ops: rms_norm (+ mul), rope (normal, neox, bases, scaling, positions up to
 * 32k), swiglu / geglu (the split forms llama.cpp's FFNs use), llama.cpp's
 * attention without flash attention (mul_mat of the f16 K cache and q,
 * soft_max_ext with mask and scale, mul_mat of the transposed f16 V cache and
 * the probabilities; prefill and decode, GQA, windows, head dims whose
 * dot products take either of ggml's orders), f32 -> f16 conversion (the KV
 * cache store) and get_rows of block-quantized rows (embeddings). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml_dl.h"
#include "zerfoo/quant.h"
#include "zerfoo/zerfoo.h"

/* ---- the ggml API used (opaque types; enum values of ggml.h) ---- */
struct ggml_context;
struct ggml_tensor;
struct ggml_cgraph;
struct ggml_init_params {
    size_t mem_size;
    void *mem_buffer;
    bool no_alloc;
};
enum { G_F32 = 0, G_F16 = 1, G_Q4_0 = 2, G_Q4_1 = 3, G_Q5_0 = 6, G_Q5_1 = 7, G_Q8_0 = 8, G_Q2_K = 10,
       G_Q3_K = 11, G_Q4_K = 12, G_Q5_K = 13, G_Q6_K = 14, G_I32 = 26 };
enum { G_ROPE_NORMAL = 0, G_ROPE_NEOX = 2 };
typedef struct ggml_tensor gt;

static struct {
    struct ggml_context *(*init)(struct ggml_init_params);
    void (*free)(struct ggml_context *);
    gt *(*new_1d)(struct ggml_context *, int, int64_t);
    gt *(*new_2d)(struct ggml_context *, int, int64_t, int64_t);
    gt *(*new_3d)(struct ggml_context *, int, int64_t, int64_t, int64_t);
    void *(*data)(const gt *);
    gt *(*rms_norm)(struct ggml_context *, gt *, float);
    gt *(*mul)(struct ggml_context *, gt *, gt *);
    gt *(*rope_ext)(struct ggml_context *, gt *, gt *, gt *, int, int, int, float, float, float, float, float, float);
    gt *(*swiglu_split)(struct ggml_context *, gt *, gt *);
    gt *(*geglu_split)(struct ggml_context *, gt *, gt *);
    gt *(*mul_mat)(struct ggml_context *, gt *, gt *);
    gt *(*soft_max_ext)(struct ggml_context *, gt *, gt *, float, float);
    gt *(*permute)(struct ggml_context *, gt *, int, int, int, int);
    gt *(*cont)(struct ggml_context *, gt *);
    gt *(*cpy)(struct ggml_context *, gt *, gt *);
    gt *(*get_rows)(struct ggml_context *, gt *, gt *);
    struct ggml_cgraph *(*new_graph)(struct ggml_context *);
    void (*build_forward_expand)(struct ggml_cgraph *, gt *);
    int (*graph_compute_with_ctx)(struct ggml_context *, struct ggml_cgraph *, int);
    void (*cpu_init)(void);
    void (*fp32_to_fp16_row)(const float *, uint16_t *, int64_t);
    size_t (*quantize_chunk)(int, const float *, void *, int64_t, int64_t, int64_t, const float *);
} G;

static bool load_ggml(const char *dir) {
    void *hb, *hc;
    if (!dir || !ggml_dl_open(dir, "llm_opcheck", &hb, &hc)) return false;
    struct {
        void *h;
        const char *name;
        void **fn;
    } syms[] = {
#define S(h, f) {h, "ggml_" #f, (void **)&G.f}
        S(hb, init), S(hb, free), S(hb, rms_norm), S(hb, mul), S(hb, rope_ext), S(hb, swiglu_split),
        S(hb, geglu_split), S(hb, mul_mat), S(hb, soft_max_ext), S(hb, permute), S(hb, cont), S(hb, cpy),
        S(hb, get_rows), S(hb, new_graph), S(hb, build_forward_expand), S(hb, fp32_to_fp16_row),
        S(hb, quantize_chunk), S(hc, graph_compute_with_ctx), S(hc, cpu_init),
#undef S
        {hb, "ggml_new_tensor_1d", (void **)&G.new_1d}, {hb, "ggml_new_tensor_2d", (void **)&G.new_2d},
        {hb, "ggml_new_tensor_3d", (void **)&G.new_3d}, {hb, "ggml_get_data", (void **)&G.data},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        *syms[i].fn = dlsym(syms[i].h, syms[i].name);
        if (!*syms[i].fn) {
            fprintf(stderr, "llm_opcheck: %s not found\n", syms[i].name);
            return false;
        }
    }
    G.cpu_init();
    return true;
}

static struct ggml_context *g_new(void) { return G.init((struct ggml_init_params){(size_t)512 << 20, NULL, false}); }

static void g_run(struct ggml_context *ctx, gt *out) {
    struct ggml_cgraph *gf = G.new_graph(ctx);
    G.build_forward_expand(gf, out);
    G.graph_compute_with_ctx(ctx, gf, 1); /* the parity tests run llama.cpp on one thread */
}

/* ---- inputs and comparison ---- */

static uint64_t g_rng = 0x9e3779b97f4a7c15u;
static double urand(void) { /* [0, 1) */
    g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
    return (double)(g_rng >> 11) / 9007199254740992.0;
}
static float nrand(void) { /* roughly normal */
    return (float)((urand() + urand() + urand() + urand() - 2.0) * 1.7);
}

static int n_cases, n_bad;

static void compare(const char *op, const char *label, const float *ours, const float *ref, int64_t n) {
    n_cases++;
    if (!ours) {
        n_bad++;
        printf("FAIL %-10s %s: zerfoo error: %s\n", op, label, zf_last_error());
        return;
    }
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < n; i++)
        if (memcmp(&ours[i], &ref[i], 4) != 0) {
            bad++;
            if (first < 0) first = i;
        }
    if (bad) {
        n_bad++;
        printf("FAIL %-10s %s: %lld/%lld elements differ, first [%lld] zerfoo %.9g ggml %.9g\n", op, label,
               (long long)bad, (long long)n, (long long)first, ours[first], ref[first]);
    } else {
        printf("ok   %-10s %s: %lld elements identical\n", op, label, (long long)n);
    }
}

/* ---- rms_norm ---- */

static void check_rms_norm(zf_ctx *zc, int64_t rows, int64_t E, float eps, float mag) {
    struct ggml_context *g = g_new();
    gt *x = G.new_2d(g, G_F32, E, rows), *w = G.new_1d(g, G_F32, E);
    float *xp = G.data(x), *wp = G.data(w);
    for (int64_t i = 0; i < rows * E; i++) xp[i] = nrand() * mag;
    for (int64_t i = 0; i < E; i++) wp[i] = 1.0f + 0.3f * nrand();
    gt *y = G.mul(g, G.rms_norm(g, x, eps), w);
    g_run(g, y);
    zf_ctx_reset(zc);
    zf_tensor *o = zf_rms_norm(zc, zf_from_data(zc, ZF_F32, 2, (int64_t[]){rows, E}, xp),
                               zf_from_data(zc, ZF_F32, 1, (int64_t[]){E}, wp), eps, 0.0);
    char lab[128];
    snprintf(lab, sizeof lab, "[%lld, %lld] eps %g |x| ~%g", (long long)rows, (long long)E, eps, mag);
    compare("rms_norm", lab, o ? zf_data(o) : NULL, G.data(y), rows * E);
    G.free(g);
}

/* ---- rope ---- */

static void check_rope(zf_ctx *zc, int64_t T, int64_t H, int64_t D, bool neox, float base, float fscale,
                       int32_t max_pos, bool factors) {
    struct ggml_context *g = g_new();
    gt *x = G.new_3d(g, G_F32, D, H, T), *pos = G.new_1d(g, G_I32, T), *ff = NULL;
    float *xp = G.data(x);
    int32_t *pp = G.data(pos);
    for (int64_t i = 0; i < T * H * D; i++) xp[i] = nrand();
    for (int64_t t = 0; t < T; t++) pp[t] = t < 8 ? (int32_t)t : (int32_t)(urand() * max_pos);
    if (factors) {
        ff = G.new_1d(g, G_F32, D / 2);
        for (int64_t i = 0; i < D / 2; i++) ((float *)G.data(ff))[i] = 1.0f + (float)(8.0 * urand());
    }
    gt *y = G.rope_ext(g, x, pos, ff, (int)D, neox ? G_ROPE_NEOX : G_ROPE_NORMAL, 0, base, fscale, 0.0f, 1.0f,
                       32.0f, 1.0f);
    g_run(g, y);
    zf_ctx_reset(zc);
    zf_tensor *zff = factors ? zf_from_data(zc, ZF_F32, 1, (int64_t[]){D / 2}, G.data(ff)) : NULL;
    zf_tensor *o = zf_rope_ggml(zc, zf_from_data(zc, ZF_F32, 3, (int64_t[]){T, H, D}, xp),
                                zf_from_data(zc, ZF_I32, 1, (int64_t[]){T}, pp), zff,
                                neox ? ZF_ROPE_NEOX : ZF_ROPE_NORMAL, (int)D, base, fscale);
    char lab[160];
    snprintf(lab, sizeof lab, "%s [%lld, %lld, %lld] base %g scale %g pos < %d%s", neox ? "neox" : "normal",
             (long long)T, (long long)H, (long long)D, base, fscale, max_pos, factors ? " factors" : "");
    compare("rope", lab, o ? zf_data(o) : NULL, G.data(y), T * H * D);
    G.free(g);
}

/* ---- swiglu / geglu ---- */

static void check_glu(zf_ctx *zc, bool gelu, int64_t rows, int64_t n, float mag, bool all_f16) {
    struct ggml_context *g = g_new();
    gt *a = G.new_2d(g, G_F32, n, rows), *b = G.new_2d(g, G_F32, n, rows);
    float *ap = G.data(a), *bp = G.data(b);
    for (int64_t i = 0; i < rows * n; i++) {
        ap[i] = nrand() * mag;
        bp[i] = nrand();
        if (all_f16) { /* every f16 value, the whole GELU table */
            ap[i] = zf_f16_to_f32((uint16_t)i);
            if (!isfinite(ap[i])) ap[i] = 0.25f;
        }
    }
    gt *y = gelu ? G.geglu_split(g, a, b) : G.swiglu_split(g, a, b);
    g_run(g, y);
    zf_ctx_reset(zc);
    zf_tensor *o = zf_glu(zc, zf_from_data(zc, ZF_F32, 2, (int64_t[]){rows, n}, ap),
                          zf_from_data(zc, ZF_F32, 2, (int64_t[]){rows, n}, bp),
                          gelu ? ZF_GLU_GELU_TANH : ZF_GLU_SILU, ZF_NUMERICS_GGML);
    char lab[128];
    snprintf(lab, sizeof lab, "[%lld, %lld] %s", (long long)rows, (long long)n,
             all_f16 ? "every f16 value" : (mag > 50 ? "|x| up to ~300" : "|x| ~ 3"));
    compare(gelu ? "geglu" : "swiglu", lab, o ? zf_data(o) : NULL, G.data(y), rows * n);
    G.free(g);
}

/* ---- attention (llama.cpp's build_attn_mha without flash attention) ---- */

typedef struct {
    int64_t D, H, Hkv, T, S;
    float scale, qmag;
    int64_t window;
    /* ring > 0: zerfoo gets only the last keys, as a window layer's cache
     * holds them: decode (T = 1) the last `ring` positions in a ring of that
     * many rows (row = position % ring, k_rot and k_pos0 set); prefill, the
     * `ring` positions before the batch and the batch's own, in position
     * order (k_pos0 set). ggml keeps the full-size cache, cell = position. */
    int64_t ring;
} attn_case;

static void check_attention(zf_ctx *zc, attn_case a) {
    const int64_t D = a.D, H = a.H, Hkv = a.Hkv, T = a.T, S = a.S, n_kv = (S + 255) / 256 * 256, p0 = S - T;
    struct ggml_context *g = g_new();
    /* cache cells: K [n_kv][Hkv][D], V transposed [Hkv][D][n_kv]; cells >= S
     * hold stale values (masked) */
    gt *kc = G.new_3d(g, G_F16, D, Hkv, n_kv), *vc = G.new_3d(g, G_F16, n_kv, D, Hkv);
    gt *q = G.new_3d(g, G_F32, D, H, T), *mask = G.new_2d(g, G_F32, n_kv, T);
    float *tmp = malloc(sizeof(float) * (size_t)(n_kv * Hkv * D));
    uint16_t *kh = malloc(2 * (size_t)(n_kv * Hkv * D)), *vh = malloc(2 * (size_t)(n_kv * Hkv * D));
    for (int64_t i = 0; i < n_kv * Hkv * D; i++) tmp[i] = nrand();
    G.fp32_to_fp16_row(tmp, kh, n_kv * Hkv * D);
    for (int64_t i = 0; i < n_kv * Hkv * D; i++) tmp[i] = nrand();
    G.fp32_to_fp16_row(tmp, vh, n_kv * Hkv * D); /* vh: [n_kv][Hkv][D], our layout */
    memcpy(G.data(kc), kh, 2 * (size_t)(n_kv * Hkv * D));
    uint16_t *vt = G.data(vc);
    for (int64_t s = 0; s < n_kv; s++)
        for (int64_t h = 0; h < Hkv; h++)
            for (int64_t d = 0; d < D; d++) vt[(h * D + d) * n_kv + s] = vh[(s * Hkv + h) * D + d];
    float *qp = G.data(q), *mp = G.data(mask);
    for (int64_t i = 0; i < T * H * D; i++) qp[i] = nrand() * a.qmag;
    for (int64_t t = 0; t < T; t++)
        for (int64_t s = 0; s < n_kv; s++) {
            const int64_t qpos = p0 + t;
            bool ok = s < S && s <= qpos && (a.window <= 0 || qpos - s < a.window);
            mp[t * n_kv + s] = ok ? 0.0f : -INFINITY;
        }
    gt *kq = G.mul_mat(g, G.permute(g, kc, 0, 2, 1, 3), G.permute(g, q, 0, 2, 1, 3)); /* [n_kv, T, H] */
    gt *sm = G.soft_max_ext(g, kq, mask, a.scale, 0.0f);
    gt *kqv = G.mul_mat(g, vc, sm);                                                   /* [D, T, H] */
    gt *out = G.cont(g, G.permute(g, kqv, 0, 2, 1, 3));                               /* [D, H, T] */
    g_run(g, out);
    zf_ctx_reset(zc);
    zf_tensor *K = zf_from_data(zc, ZF_F16, 3, (int64_t[]){S, Hkv, D}, kh);
    zf_tensor *V = zf_from_data(zc, ZF_F16, 3, (int64_t[]){S, Hkv, D}, vh);
    zf_attn_params ap = {.scale = a.scale, .window = a.window, .q_pos0 = p0, .causal = true,
                         .numerics = ZF_NUMERICS_GGML};
    if (a.ring > 0 && T == 1 && S > a.ring) { /* rows: position % ring */
        const int64_t n = a.ring, P0 = S - n;
        zf_tensor *parts[2] = {zf_narrow(zc, K, 0, P0, n - S % n), zf_narrow(zc, K, 0, S - S % n, S % n)};
        zf_tensor *vparts[2] = {zf_narrow(zc, V, 0, P0, n - S % n), zf_narrow(zc, V, 0, S - S % n, S % n)};
        /* ring row r holds position P0 + (r - S % n) mod n: rows [0, S % n) the newest */
        K = S % n ? zf_cat(zc, 2, (zf_tensor *[]){parts[1], parts[0]}, 0) : parts[0];
        V = S % n ? zf_cat(zc, 2, (zf_tensor *[]){vparts[1], vparts[0]}, 0) : vparts[0];
        ap.k_pos0 = P0;
        ap.k_rot = S % n;
    } else if (a.ring > 0 && p0 > a.ring) { /* the ring's rows in position order, then the batch */
        const int64_t P0 = p0 - a.ring;
        K = zf_narrow(zc, K, 0, P0, S - P0);
        V = zf_narrow(zc, V, 0, P0, S - P0);
        ap.k_pos0 = P0;
    }
    zf_tensor *o = zf_attention(zc, zf_from_data(zc, ZF_F32, 3, (int64_t[]){T, H, D}, qp), K, V, NULL, &ap);
    char lab[160];
    snprintf(lab, sizeof lab, "D %lld, H %lld/%lld, T %lld, S %lld (n_kv %lld), scale %g, window %lld, ring %lld",
             (long long)D, (long long)H, (long long)Hkv, (long long)T, (long long)S, (long long)n_kv, a.scale,
             (long long)a.window, (long long)a.ring);
    compare("attention", lab, o ? zf_data(o) : NULL, G.data(out), T * H * D);
    free(tmp);
    free(kh);
    free(vh);
    G.free(g);
}

/* ---- f32 -> f16 (the KV cache store) ---- */

static void check_f16(zf_ctx *zc) {
    const int64_t n = 1 << 16;
    struct ggml_context *g = g_new();
    gt *x = G.new_1d(g, G_F32, n), *y = G.new_1d(g, G_F16, n);
    float *xp = G.data(x);
    for (int64_t i = 0; i < n; i++) xp[i] = nrand() * (float)pow(2.0, (double)(i % 64) - 40.0);
    g_run(g, G.cpy(g, x, y));
    zf_ctx_reset(zc);
    zf_tensor *o = zf_cast(zc, zf_cast(zc, zf_from_data(zc, ZF_F32, 1, &n, xp), ZF_F16), ZF_F32);
    float *ref = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++) ref[i] = zf_f16_to_f32(((uint16_t *)G.data(y))[i]);
    compare("f32->f16", "values from 2^-40 to 2^24", o ? zf_data(o) : NULL, ref, n);
    free(ref);
    G.free(g);
}

/* ---- get_rows of quantized rows (embedding lookups) ---- */

static void check_get_rows(zf_dtype zt, int gtype, const char *name) {
    const int64_t K = 512, rows = 16;
    struct ggml_context *g = g_new();
    float *src = malloc(sizeof(float) * (size_t)(K * rows));
    for (int64_t i = 0; i < K * rows; i++) src[i] = nrand() * (1.0f + (float)(i / K));
    size_t rs = zf_quant_row_size(zt, K);
    gt *w = G.new_2d(g, gtype, K, rows), *ids = G.new_1d(g, G_I32, rows);
    G.quantize_chunk(gtype, src, G.data(w), 0, rows, K, NULL);
    for (int64_t r = 0; r < rows; r++) ((int32_t *)G.data(ids))[r] = (int32_t)(rows - 1 - r);
    gt *y = G.get_rows(g, w, ids);
    g_run(g, y);
    float *ours = malloc(sizeof(float) * (size_t)(K * rows));
    bool ok = true;
    for (int64_t r = 0; r < rows && ok; r++)
        ok = zf_dequantize(zt, (const char *)G.data(w) + (size_t)(rows - 1 - r) * rs, ours + r * K, K) == ZF_OK;
    compare("get_rows", name, ok ? ours : NULL, G.data(y), K * rows);
    free(ours);
    free(src);
    G.free(g);
}

int main(int argc, char **argv) {
    if (!load_ggml(ggml_dl_dir(argc > 1 ? argv[1] : NULL))) {
        printf("llm_opcheck: ggml not found (llama-cpp-python's lib directory): skipped\n");
        return 77;
    }
    zf_engine *e = zf_cpu_engine_new(2);
    zf_ctx *zc = zf_ctx_new(e);
    for (int64_t E = 64; E <= 1024; E *= 4)
        for (int k = 0; k < 2; k++) check_rms_norm(zc, 7, E, k ? 1e-6f : 1e-5f, k ? 40.0f : 1.0f);
    check_rms_norm(zc, 5, 576, 1e-5f, 1.0f);
    check_rms_norm(zc, 5, 640, 1e-6f, 3.0f);
    check_rms_norm(zc, 3, 1000, 1e-6f, 0.01f);
    for (int neox = 0; neox < 2; neox++) {
        check_rope(zc, 37, 9, 64, neox, 100000.0f, 1.0f, 8192, false);
        check_rope(zc, 37, 4, 256, neox, 1000000.0f, 1.0f, 32768, false);
        check_rope(zc, 37, 4, 256, neox, 10000.0f, 1.0f, 4096, false);
        check_rope(zc, 9, 3, 128, neox, 500000.0f, 0.125f, 16384, true);
    }
    check_glu(zc, false, 4, 1536, 3.0f, false);
    check_glu(zc, false, 3, 1550, 100.0f, false);
    check_glu(zc, true, 4, 2048, 3.0f, false);
    check_glu(zc, true, 3, 1550, 100.0f, false);
    check_glu(zc, true, 1, 65536, 1.0f, true);
    const attn_case ac[] = {
        /* SmolLM2-135M: D 64, 9 heads over 3 */
        {64, 9, 3, 5, 5, 0.125f, 1.0f, 0, 0},     {64, 9, 3, 1, 6, 0.125f, 1.0f, 0, 0},
        {64, 9, 3, 40, 40, 0.125f, 2.0f, 0, 0},   {64, 9, 3, 1, 300, 0.125f, 2.0f, 0, 0},
        {64, 9, 3, 33, 290, 0.125f, 1.0f, 0, 0},  {64, 9, 3, 7, 77, 0.125f, 1.0f, 16, 0},
        /* Gemma 3 270M: D 256, 4 heads over 1, q scaled before (scale 1) */
        {256, 4, 1, 6, 6, 1.0f, 0.0625f, 0, 0},   {256, 4, 1, 1, 7, 1.0f, 0.0625f, 0, 0},
        {256, 4, 1, 20, 520, 1.0f, 0.0625f, 512, 0}, {256, 4, 1, 1, 600, 1.0f, 0.0625f, 512, 0},
        /* ... its window layers' rings after they wrapped: decode, and prefill batches */
        {256, 4, 1, 1, 600, 1.0f, 0.0625f, 512, 512},   {256, 4, 1, 1, 1029, 1.0f, 0.0625f, 512, 512},
        {256, 4, 1, 1, 1024, 1.0f, 0.0625f, 512, 512},  {256, 4, 1, 271, 783, 1.0f, 0.0625f, 512, 512},
        {256, 4, 1, 100, 1300, 1.0f, 0.0625f, 512, 512},
        /* rings whose size is no multiple of 16 or 64 (lanes by position, not row) */
        {64, 9, 3, 1, 300, 0.125f, 2.0f, 77, 77},       {64, 9, 3, 1, 300, 0.125f, 2.0f, 77, 90},
        {64, 9, 3, 30, 300, 0.125f, 1.0f, 77, 77},      {80, 4, 2, 1, 200, 0.11f, 1.0f, 50, 53},
        /* head dims with f64 tails (80, 96) and without tinyBLAS (40: kq; 34: kqv) */
        {80, 4, 2, 9, 30, 0.11f, 1.0f, 0, 0},     {80, 4, 2, 1, 30, 0.11f, 1.0f, 0, 0},
        {96, 2, 2, 3, 70, 0.1f, 1.0f, 0, 0},      {40, 4, 4, 5, 20, 0.16f, 1.0f, 0, 0},
        {34, 2, 1, 5, 20, 0.17f, 1.0f, 0, 0},     {34, 2, 1, 1, 20, 0.17f, 1.0f, 0, 0},
    };
    for (size_t i = 0; i < sizeof ac / sizeof ac[0]; i++) check_attention(zc, ac[i]);
    check_f16(zc);
    const struct {
        zf_dtype z;
        int g;
        const char *name;
    } qt[] = {{ZF_Q4_0, G_Q4_0, "q4_0"}, {ZF_Q4_1, G_Q4_1, "q4_1"}, {ZF_Q5_0, G_Q5_0, "q5_0"},
              {ZF_Q5_1, G_Q5_1, "q5_1"}, {ZF_Q8_0, G_Q8_0, "q8_0"}, {ZF_Q2_K, G_Q2_K, "q2_k"},
              {ZF_Q3_K, G_Q3_K, "q3_k"}, {ZF_Q4_K, G_Q4_K, "q4_k"}, {ZF_Q5_K, G_Q5_K, "q5_k"},
              {ZF_Q6_K, G_Q6_K, "q6_k"}};
    for (size_t i = 0; i < sizeof qt / sizeof qt[0]; i++) check_get_rows(qt[i].z, qt[i].g, qt[i].name);
    zf_ctx_free(zc);
    zf_engine_free(e);
    printf("%d passed, %d failed\n", n_cases - n_bad, n_bad);
    return n_bad ? 1 : 0;
}
