/* Unit tests of rms_norm, rope and attention (include/zerfoo/ops.h):
 * float64 references written here from the formulas, random inputs, outputs
 * poisoned before every run (zf_ctx_set_poison) on every engine (default
 * CPU, 1-thread CPU, trace), results equal bit for bit across engines, and
 * gradients of rms_norm and rope against central finite differences in f64.
 *
 * Tolerances: |got - ref| <= tol * (1 + |ref|) with tol 1e-12 for f64,
 * 2e-6 for f32 (a few f32 roundings of O(1) values), 1e-5 for attention in
 * f32 (a softmax over up to 70 keys), and one rounding of the output dtype
 * (2^-11 f16, 2^-8 bf16) plus 1e-5 for half-precision inputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "zf_test.h"

static uint64_t g_rng = 0x853c49e6748fea9bull;
static double uniform(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return ((g_rng >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void) { return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform()); }

static zf_engine *g_engines[3];
static const char *g_engine_names[3] = {"cpu", "cpu(1)", "trace"};

/* Random tensor of dtype t (values exactly representable in t) and its
 * values in double. */
static zf_tensor *rand_tensor(zf_ctx *ctx, zf_dtype t, int nd, const int64_t *shape, double scale, double **vals) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= shape[i];
    double *v = malloc(sizeof(double) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) v[i] = gauss() * scale;
    zf_tensor *d = zf_from_data(ctx, ZF_F64, nd, shape, v);
    zf_tensor *r = zf_cast(ctx, d, t);
    zf_to_f64_buffer(r, v);
    *vals = v;
    return r;
}

static double tol_of(zf_dtype t) {
    switch (t) {
    case ZF_F64: return 1e-12;
    case ZF_F32: return 2e-6;
    case ZF_F16: return 1.0 / 2048 + 1e-5;
    default: return 1.0 / 256 + 1e-5;
    }
}

static int compare(const zf_tensor *y, const double *ref, double tol, const char *what) {
    int64_t n = zf_numel(y);
    double *got = malloc(sizeof(double) * (size_t)(n ? n : 1));
    zf_to_f64_buffer(y, got);
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!(fabs(got[i] - ref[i]) <= tol * (1 + fabs(ref[i])))) {
            if (bad++ < 3) fprintf(stderr, "%s [%lld]: got %.10g want %.10g\n", what, (long long)i, got[i], ref[i]);
        }
    }
    free(got);
    return bad;
}

/* ---- rms_norm ---- */

static void rms_ref(const double *x, const double *w, double eps, double off, int64_t rows, int64_t D, double *y) {
    for (int64_t r = 0; r < rows; r++) {
        double ss = 0;
        for (int64_t i = 0; i < D; i++) ss += x[r * D + i] * x[r * D + i];
        double s = 1 / sqrt(ss / (double)D + eps);
        for (int64_t i = 0; i < D; i++) y[r * D + i] = x[r * D + i] * s * (w ? w[i] + off : 1);
    }
}

static void test_rms_norm(void) {
    const zf_dtype ts[] = {ZF_F64, ZF_F32, ZF_F16, ZF_BF16};
    const int64_t shapes[][3] = {{3, 5, 64}, {1, 1, 7}, {2, 1, 640}};
    for (int ti = 0; ti < 4; ti++) {
        for (int si = 0; si < 3; si++) {
            for (int wmode = 0; wmode < 3; wmode++) { /* no weight, w, 1 + w */
                const int64_t *sh = shapes[si], D = sh[2], rows = sh[0] * sh[1];
                double eps = si == 1 ? 1e-5 : 1e-6, off = wmode == 2 ? 1.0 : 0.0;
                zf_ctx *in = zf_ctx_new(NULL);
                double *xv, *wv = NULL;
                zf_tensor *x = rand_tensor(in, ts[ti], 3, sh, si == 2 ? 30 : 1, &xv);
                zf_tensor *w = wmode ? rand_tensor(in, ts[ti], 1, &D, 0.5, &wv) : NULL;
                double *ref = malloc(sizeof(double) * (size_t)(rows * D));
                rms_ref(xv, wv, eps, off, rows, D, ref);
                void *first = NULL;
                for (int e = 0; e < 3; e++) {
                    zf_ctx *ctx = zf_ctx_new(g_engines[e]);
                    zf_ctx_set_poison(ctx, true);
                    zf_tensor *y = zf_rms_norm(ctx, x, w, eps, off);
                    CHECK(y && y->dtype == ts[ti] && zf_same_shape(y, x));
                    if (y) {
                        CHECK(compare(y, ref, tol_of(ts[ti]), g_engine_names[e]) == 0);
                        if (!first) first = memcpy(malloc(zf_nbytes(y)), zf_data(y), zf_nbytes(y));
                        else CHECK(memcmp(first, zf_data(y), zf_nbytes(y)) == 0);
                    }
                    zf_ctx_free(ctx);
                }
                free(first);
                free(ref);
                free(xv);
                free(wv);
                zf_ctx_free(in);
            }
        }
    }
    /* strided x (a transposed view) */
    zf_ctx *ctx = zf_ctx_new(NULL);
    int64_t sh[2] = {16, 3};
    double *xv;
    zf_tensor *x = rand_tensor(ctx, ZF_F64, 2, sh, 1, &xv);
    zf_tensor *y = zf_rms_norm(ctx, zf_transpose(ctx, x, 0, 1), NULL, 0.0, 0.0);
    double xt[48], ref[48];
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 3; j++) xt[j * 16 + i] = xv[i * 3 + j];
    rms_ref(xt, NULL, 0.0, 0.0, 3, 16, ref);
    CHECK(y && compare(y, ref, 1e-12, "strided") == 0);
    /* errors */
    int64_t d5 = 5;
    CHECK(!zf_rms_norm(ctx, x, zf_ones(ctx, ZF_F64, 1, &d5), 1e-6, 0) && zf_last_status() == ZF_ERR_SHAPE);
    CHECK(!zf_rms_norm(ctx, x, zf_ones(ctx, ZF_F32, 1, &sh[1]), 1e-6, 0) && zf_last_status() == ZF_ERR_DTYPE);
    CHECK(!zf_rms_norm(ctx, zf_ones(ctx, ZF_I32, 2, sh), NULL, 1e-6, 0) && zf_last_status() == ZF_ERR_DTYPE);
    CHECK(!zf_rms_norm(ctx, x, NULL, -1, 0) && zf_last_status() == ZF_ERR_INVALID_ARG);
    CHECK(!zf_rms_norm(ctx, NULL, NULL, 1e-6, 0));
    free(xv);
    zf_ctx_free(ctx);
}

/* ---- rope ---- */

static void rope_ref(const double *x, const int64_t *pos, bool pos_per_token, int64_t outer, int64_t T, int64_t H,
                     int64_t D, int n_rot, bool neox, double base, double scale, double *y) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t t = 0; t < T; t++) {
            double p = (double)pos[pos_per_token ? o * T + t : t] * scale;
            for (int64_t h = 0; h < H; h++) {
                const double *xs = x + ((o * T + t) * H + h) * D;
                double *ys = y + ((o * T + t) * H + h) * D;
                for (int64_t i = 0; i < D; i++) ys[i] = xs[i];
                for (int i = 0; i < n_rot / 2; i++) {
                    double th = p * pow(base, -2.0 * i / n_rot);
                    int64_t a = neox ? i : 2 * i, b = neox ? i + n_rot / 2 : 2 * i + 1;
                    ys[a] = xs[a] * cos(th) - xs[b] * sin(th);
                    ys[b] = xs[a] * sin(th) + xs[b] * cos(th);
                }
            }
        }
}

static void test_rope(void) {
    const zf_dtype ts[] = {ZF_F64, ZF_F32, ZF_F16, ZF_BF16};
    for (int ti = 0; ti < 4; ti++)
        for (int mode = 0; mode < 2; mode++)
            for (int variant = 0; variant < 3; variant++) {
                /* 0: [T, H, D] full rotation; 1: [B, T, H, D] partial, per-token i32 positions; 2: pos [T] i64 broadcast over B */
                int64_t B = variant ? 2 : 1, T = 5, H = 3, D = variant == 1 ? 24 : 16;
                int n_rot = variant == 1 ? 16 : 0, nr = n_rot ? n_rot : (int)D;
                double base = variant == 1 ? 1e6 : 10000, scale = variant == 2 ? 0.125 : 1.0;
                int64_t shape[4] = {B, T, H, D};
                const int64_t *sh = variant ? shape : shape + 1;
                int nd = variant ? 4 : 3;
                zf_ctx *in = zf_ctx_new(NULL);
                double *xv;
                zf_tensor *x = rand_tensor(in, ts[ti], nd, sh, 1, &xv);
                bool per_tok = variant == 1;
                int64_t np = per_tok ? B * T : T, pos[10];
                for (int64_t i = 0; i < np; i++) pos[i] = (int64_t)(uniform() * (i == 3 ? 40000 : 200));
                zf_tensor *p;
                if (per_tok) {
                    int32_t p32[10];
                    for (int64_t i = 0; i < np; i++) p32[i] = (int32_t)pos[i];
                    p = zf_from_data(in, ZF_I32, 2, shape, p32);
                } else {
                    p = zf_from_data(in, ZF_I64, 1, &T, pos);
                }
                double *ref = malloc(sizeof(double) * (size_t)zf_numel(x));
                rope_ref(xv, pos, per_tok, B, T, H, D, nr, mode == 1, base, scale, ref);
                void *first = NULL;
                for (int e = 0; e < 3; e++) {
                    zf_ctx *ctx = zf_ctx_new(g_engines[e]);
                    zf_ctx_set_poison(ctx, true);
                    zf_tensor *y = zf_rope(ctx, x, p, (zf_rope_mode)mode, n_rot, base, scale);
                    CHECK(y && zf_same_shape(x, y) && y->dtype == ts[ti]);
                    if (y) {
                        /* f32 angles of up to 4e4 rad: cos/sin of the f64 angle, rounded once */
                        CHECK(compare(y, ref, tol_of(ts[ti]), g_engine_names[e]) == 0);
                        if (!first) first = memcpy(malloc(zf_nbytes(y)), zf_data(y), zf_nbytes(y));
                        else CHECK(memcmp(first, zf_data(y), zf_nbytes(y)) == 0);
                    }
                    zf_ctx_free(ctx);
                }
                free(first);
                free(ref);
                free(xv);
                zf_ctx_free(in);
            }
    zf_ctx *ctx = zf_ctx_new(NULL);
    int64_t sh[3] = {4, 2, 8}, t4 = 4, t3 = 3;
    zf_tensor *x = zf_randn(ctx, ZF_F32, 3, sh, 1, 0), *p = zf_arange(ctx, ZF_I64, 0, 4, 1);
    CHECK(zf_rope(ctx, x, p, ZF_ROPE_NEOX, 0, 10000, 1) != NULL);
    CHECK(!zf_rope(ctx, x, zf_arange(ctx, ZF_I64, 0, 3, 1), ZF_ROPE_NEOX, 0, 1e4, 1) &&
          zf_last_status() == ZF_ERR_SHAPE);
    CHECK(!zf_rope(ctx, x, zf_ones(ctx, ZF_F32, 1, &t4), ZF_ROPE_NEOX, 0, 1e4, 1) && zf_last_status() == ZF_ERR_DTYPE);
    CHECK(!zf_rope(ctx, x, p, ZF_ROPE_NEOX, 3, 1e4, 1) && zf_last_status() == ZF_ERR_INVALID_ARG);
    CHECK(!zf_rope(ctx, x, p, ZF_ROPE_NEOX, 10, 1e4, 1) && zf_last_status() == ZF_ERR_INVALID_ARG);
    CHECK(!zf_rope(ctx, x, p, (zf_rope_mode)7, 0, 1e4, 1) && zf_last_status() == ZF_ERR_INVALID_ARG);
    CHECK(!zf_rope(ctx, x, p, ZF_ROPE_NEOX, 0, -1, 1) && zf_last_status() == ZF_ERR_INVALID_ARG);
    CHECK(!zf_rope(ctx, zf_randn(ctx, ZF_F32, 1, &t3, 1, 0), p, ZF_ROPE_NEOX, 0, 1e4, 1));
    /* frequency factors: [n_rot/2]; all ones changes nothing */
    CHECK(!zf_rope_ext(ctx, x, p, zf_ones(ctx, ZF_F32, 1, &t3), ZF_ROPE_NEOX, 0, 1e4, 1) &&
          zf_last_status() == ZF_ERR_SHAPE);
    zf_tensor *r1 = zf_rope_ext(ctx, x, p, zf_ones(ctx, ZF_F32, 1, &t4), ZF_ROPE_NEOX, 0, 1e4, 1);
    zf_tensor *r0 = zf_rope(ctx, x, p, ZF_ROPE_NEOX, 0, 1e4, 1);
    CHECK(r1 && r0 && memcmp(zf_data(r0), zf_data(r1), zf_nbytes(r0)) == 0);
    zf_ctx_free(ctx);
}

/* ---- gradients by central differences (f64) ---- */

typedef zf_tensor *(*fwd_fn)(zf_ctx *ctx, zf_tensor **in, int variant);

static zf_tensor *fwd_rms(zf_ctx *ctx, zf_tensor **in, int variant) {
    return zf_rms_norm(ctx, in[0], variant ? in[1] : NULL, 1e-5, variant == 2 ? 1.0 : 0.0);
}
static zf_tensor *fwd_rope(zf_ctx *ctx, zf_tensor **in, int variant) {
    return zf_rope(ctx, in[0], in[1], variant ? ZF_ROPE_NEOX : ZF_ROPE_NORMAL, variant == 1 ? 4 : 0, 500, 0.7);
}
/* rope feeding rms_norm: checks both rules in one chain */
static zf_tensor *fwd_chain(zf_ctx *ctx, zf_tensor **in, int variant) {
    (void)variant;
    return zf_rms_norm(ctx, zf_rope(ctx, in[0], in[1], ZF_ROPE_NEOX, 0, 10000, 1), NULL, 1e-6, 0);
}

static double loss(zf_ctx *ctx, fwd_fn f, zf_tensor **in, int variant, const double *g) {
    zf_tensor *y = f(ctx, in, variant);
    int64_t n = zf_numel(y);
    double *v = malloc(sizeof(double) * (size_t)n), s = 0;
    zf_to_f64_buffer(y, v);
    for (int64_t i = 0; i < n; i++) s += v[i] * g[i];
    free(v);
    return s;
}

/* in[0..n_diff) are f64 leaves to check; in[n_diff..) are fixed. */
static void grad_check(fwd_fn f, zf_tensor **in, int n_in, int n_diff, int variant, const char *name) {
    zf_ctx *tmp = zf_ctx_new(NULL);
    bool prev = zf_set_grad_enabled(false);
    zf_tensor *y0 = f(tmp, in, variant);
    zf_set_grad_enabled(prev);
    int64_t ny = zf_numel(y0);
    double *g = malloc(sizeof(double) * (size_t)ny);
    for (int64_t i = 0; i < ny; i++) g[i] = gauss();
    for (int i = 0; i < n_diff; i++) {
        zf_requires_grad(in[i], true);
        zf_zero_grad(in[i]);
    }
    zf_tensor *y = f(tmp, in, variant);
    CHECK(zf_backward(tmp, y, zf_from_data(tmp, ZF_F64, y->ndim, y->shape, g)) == ZF_OK);
    prev = zf_set_grad_enabled(false);
    int bad = 0;
    for (int i = 0; i < n_diff; i++) {
        zf_tensor *a = in[i];
        CHECK(a->grad != NULL);
        if (!a->grad) continue;
        double *an = zf_data(a->grad), *xv = zf_data(a);
        for (int64_t k = 0; k < zf_numel(a); k++) {
            double x0 = xv[k], h = 1e-6 * (1 + fabs(x0));
            xv[k] = x0 + h;
            double lp = loss(tmp, f, in, variant, g);
            xv[k] = x0 - h;
            double lm = loss(tmp, f, in, variant, g);
            xv[k] = x0;
            double num = (lp - lm) / (2 * h);
            if (!(fabs(num - an[k]) <= 1e-6 * (1 + fabs(num)))) {
                if (bad++ < 3)
                    fprintf(stderr, "%s v%d input %d [%lld]: analytic %.10g numeric %.10g\n", name, variant, i,
                            (long long)k, an[k], num);
            }
        }
    }
    CHECK(bad == 0);
    zf_set_grad_enabled(prev);
    for (int i = 0; i < n_diff; i++) zf_requires_grad(in[i], false);
    (void)n_in;
    free(g);
    zf_ctx_free(tmp);
}

static void test_grads(void) {
    zf_ctx *ctx = zf_ctx_new(NULL);
    double *v;
    for (int variant = 0; variant < 3; variant++) {
        int64_t sh[2] = {3, 8}, d = 8;
        zf_tensor *in[2] = {rand_tensor(ctx, ZF_F64, 2, sh, 1, &v), NULL};
        free(v);
        in[1] = rand_tensor(ctx, ZF_F64, 1, &d, 1, &v);
        free(v);
        grad_check(fwd_rms, in, 2, variant ? 2 : 1, variant, "rms_norm");
    }
    for (int variant = 0; variant < 3; variant++) {
        int64_t sh[4] = {2, 3, 2, 6}, t = 3;
        zf_tensor *in[2] = {rand_tensor(ctx, ZF_F64, 4, sh, 1, &v), NULL};
        free(v);
        int64_t pos[3] = {0, 7, 123};
        in[1] = zf_from_data(ctx, ZF_I64, 1, &t, pos);
        grad_check(fwd_rope, in, 2, 1, variant, "rope");
        if (variant == 0) grad_check(fwd_chain, in, 2, 1, 0, "rope+rms_norm");
    }
    zf_ctx_free(ctx);
}

/* ---- attention ---- */

typedef struct {
    int64_t B, T, S, Hq, Hkv, D;
    zf_dtype kv;
    bool causal, mask, batched, permuted;
    int64_t window, qpos0;
    double scale, softcap;
} attn_case;

static void attn_ref(const attn_case *a, const double *q, const double *k, const double *v, const double *mask,
                     double *out) {
    int64_t G = a->Hq / a->Hkv, D = a->D;
    double scale = a->scale != 0 ? a->scale : 1 / sqrt((double)D);
    double *z = malloc(sizeof(double) * (size_t)a->S);
    for (int64_t b = 0; b < a->B; b++)
        for (int64_t t = 0; t < a->T; t++)
            for (int64_t h = 0; h < a->Hq; h++) {
                const double *qr = q + ((b * a->T + t) * a->Hq + h) * D;
                double *o = out + ((b * a->T + t) * a->Hq + h) * D;
                int64_t qpos = a->qpos0 + t, g = h / G;
                double m = -INFINITY;
                for (int64_t s = 0; s < a->S; s++) {
                    bool vis = (!a->causal || s <= qpos) && (a->window <= 0 || qpos - s < a->window);
                    z[s] = -INFINITY;
                    if (!vis) continue;
                    const double *kr = k + ((b * a->S + s) * a->Hkv + g) * D;
                    double dot = 0;
                    for (int64_t i = 0; i < D; i++) dot += qr[i] * kr[i];
                    dot *= scale;
                    if (a->softcap > 0) dot = a->softcap * tanh(dot / a->softcap);
                    if (mask) dot += mask[(b * a->T + t) * a->S + s];
                    z[s] = dot;
                    m = fmax(m, dot);
                }
                for (int64_t i = 0; i < D; i++) o[i] = 0;
                if (m == -INFINITY) continue;
                double sum = 0;
                for (int64_t s = 0; s < a->S; s++) sum += z[s] == -INFINITY ? 0 : exp(z[s] - m);
                for (int64_t s = 0; s < a->S; s++) {
                    if (z[s] == -INFINITY) continue;
                    double p = exp(z[s] - m) / sum;
                    const double *vr = v + ((b * a->S + s) * a->Hkv + g) * D;
                    for (int64_t i = 0; i < D; i++) o[i] += p * vr[i];
                }
            }
    free(z);
}

static void run_attn_case(const attn_case *a) {
    zf_ctx *in = zf_ctx_new(NULL);
    int64_t qs[4] = {a->B, a->T, a->Hq, a->D}, ks[4] = {a->B, a->S, a->Hkv, a->D};
    int o = a->batched ? 0 : 1;
    double *qv, *kv, *vv, *mv = NULL;
    zf_tensor *q = rand_tensor(in, ZF_F32, 4 - o, qs + o, 1, &qv);
    zf_tensor *k, *v;
    if (a->permuted) { /* cache layout [B, Hkv, S, D], viewed as [B, S, Hkv, D] */
        int64_t cs[4] = {a->B, a->Hkv, a->S, a->D};
        zf_tensor *kc = rand_tensor(in, a->kv, 4, cs, 1, &kv), *vc = rand_tensor(in, a->kv, 4, cs, 1, &vv);
        k = zf_transpose(in, kc, 1, 2);
        v = zf_transpose(in, vc, 1, 2);
        zf_to_f64_buffer(k, kv);
        zf_to_f64_buffer(v, vv);
        if (o) {
            k = zf_squeeze(in, k, 0);
            v = zf_squeeze(in, v, 0);
        }
    } else {
        k = rand_tensor(in, a->kv, 4 - o, ks + o, 1, &kv);
        v = rand_tensor(in, a->kv, 4 - o, ks + o, 1, &vv);
    }
    zf_tensor *mask = NULL;
    if (a->mask) {
        int64_t ms[3] = {a->B, a->T, a->S};
        mask = rand_tensor(in, ZF_F32, a->batched ? 3 : 2, a->batched ? ms : ms + 1, 1, &mv);
        float *mp = zf_data(mask);
        for (int64_t i = 0; i < zf_numel(mask); i++)
            if (uniform() < 0.2) mp[i] = -INFINITY, mv[i] = -INFINITY;
    }
    double *ref = malloc(sizeof(double) * (size_t)zf_numel(q));
    attn_ref(a, qv, kv, vv, mv, ref);
    zf_attn_params p = {.scale = a->scale, .softcap = a->softcap, .window = a->window, .q_pos0 = a->qpos0,
                        .causal = a->causal};
    void *first = NULL;
    for (int e = 0; e < 3; e++) {
        zf_ctx *ctx = zf_ctx_new(g_engines[e]);
        zf_ctx_set_poison(ctx, true);
        zf_tensor *y = zf_attention(ctx, q, k, v, mask, &p);
        CHECK(y && zf_same_shape(y, q) && y->dtype == ZF_F32);
        if (y) {
            CHECK(compare(y, ref, 1e-5, g_engine_names[e]) == 0);
            if (!first) first = memcpy(malloc(zf_nbytes(y)), zf_data(y), zf_nbytes(y));
            else CHECK(memcmp(first, zf_data(y), zf_nbytes(y)) == 0);
        }
        zf_ctx_free(ctx);
    }
    free(first);
    free(ref);
    free(qv);
    free(kv);
    free(vv);
    free(mv);
    zf_ctx_free(in);
}

static void test_attention(void) {
    const attn_case cases[] = {
        /* decode: one query at the end of a cache, GQA 4:1, f16 cache (Gemma 3 270M: Hq 4, Hkv 1, D 256) */
        {.B = 1, .T = 1, .S = 70, .Hq = 4, .Hkv = 1, .D = 256, .kv = ZF_F16, .causal = true, .qpos0 = 69},
        /* prefill, causal, f32, 9:3 heads (SmolLM2), D 64 */
        {.B = 1, .T = 7, .S = 7, .Hq = 9, .Hkv = 3, .D = 64, .kv = ZF_F32, .causal = true},
        /* sliding window, chunked prefill after 10 cached tokens */
        {.B = 1, .T = 5, .S = 15, .Hq = 2, .Hkv = 2, .D = 16, .kv = ZF_F32, .causal = true, .window = 4, .qpos0 = 10},
        /* soft-cap, explicit scale, batched, additive mask with -inf entries */
        {.B = 2, .T = 3, .S = 9, .Hq = 4, .Hkv = 2, .D = 8, .kv = ZF_F16, .mask = true, .batched = true,
         .scale = 0.3, .softcap = 2.0},
        /* cache stored [B, Hkv, S, D] and passed as a transposed view */
        {.B = 2, .T = 2, .S = 33, .Hq = 6, .Hkv = 3, .D = 32, .kv = ZF_F32, .causal = true, .batched = true,
         .permuted = true, .qpos0 = 31},
        {.B = 1, .T = 2, .S = 20, .Hq = 2, .Hkv = 1, .D = 40, .kv = ZF_F16, .causal = true, .permuted = true,
         .qpos0 = 18, .window = 8},
        /* not causal, odd D */
        {.B = 1, .T = 4, .S = 6, .Hq = 3, .Hkv = 1, .D = 17, .kv = ZF_F32},
        /* long decode: keys split into parts that are merged (f16 cache, sliding window) */
        {.B = 1, .T = 1, .S = 700, .Hq = 4, .Hkv = 1, .D = 64, .kv = ZF_F16, .causal = true, .qpos0 = 699, .window = 500},
        {.B = 1, .T = 1, .S = 300, .Hq = 6, .Hkv = 2, .D = 40, .kv = ZF_F32, .causal = true, .qpos0 = 299,
         .mask = true, .softcap = 5.0},
        /* prefill chunk after a long cache */
        {.B = 1, .T = 9, .S = 400, .Hq = 8, .Hkv = 2, .D = 32, .kv = ZF_F16, .causal = true, .qpos0 = 391,
         .permuted = true},
        /* queries that see no key: positions before the window */
        {.B = 1, .T = 3, .S = 4, .Hq = 1, .Hkv = 1, .D = 4, .kv = ZF_F32, .causal = true, .mask = true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) run_attn_case(&cases[i]);

    zf_ctx *ctx = zf_ctx_new(NULL);
    int64_t qs[3] = {1, 4, 8}, ks[3] = {5, 2, 8}, bad[3] = {5, 3, 8};
    zf_tensor *q = zf_randn(ctx, ZF_F32, 3, qs, 1, 0), *k = zf_randn(ctx, ZF_F32, 3, ks, 2, 0);
    zf_attn_params p = {.causal = true, .q_pos0 = 4};
    CHECK(zf_attention(ctx, q, k, k, NULL, &p) != NULL);
    CHECK(!zf_attention(ctx, q, zf_randn(ctx, ZF_F32, 3, bad, 1, 0), k, NULL, &p) && zf_last_status() == ZF_ERR_SHAPE);
    CHECK(!zf_attention(ctx, q, k, zf_cast(ctx, k, ZF_F16), NULL, &p) && zf_last_status() == ZF_ERR_DTYPE);
    CHECK(!zf_attention(ctx, q, k, k, NULL, NULL));
    CHECK(!zf_attention(ctx, q, k, k, zf_randn(ctx, ZF_F32, 2, (int64_t[]){1, 4}, 1, 0), &p) &&
          zf_last_status() == ZF_ERR_SHAPE);
    zf_requires_grad(q, true);
    CHECK(!zf_attention(ctx, q, k, k, NULL, &p) && zf_last_status() == ZF_ERR_UNSUPPORTED);
    zf_ctx_free(ctx);
}

/* k_pos0 / k_rot: a ring of rows (key s in row (s + k_rot) % S, position
 * k_pos0 + s) gives the bits of the same keys in order, with either
 * numerics, and k_pos0 shifts positions as q_pos0 does; both sides of a
 * ring whose rows wrap inside a 16-key group. */
static void test_attention_ring(void) {
    zf_ctx *in = zf_ctx_new(NULL);
    const int64_t S = 45, Hq = 4, Hkv = 2, D = 32, rot = 13, kp0 = 100;
    zf_tensor *kf = zf_randn(in, ZF_F32, 3, (int64_t[]){S, Hkv, D}, 1, 3);
    zf_tensor *vf = zf_randn(in, ZF_F32, 3, (int64_t[]){S, Hkv, D}, 1, 4);
    for (int64_t T = 1; T <= 5; T += 4)
        for (int num = 0; num < 2; num++)
            for (int e = 0; e < 3; e++) {
                zf_ctx *ctx = zf_ctx_new(g_engines[e]);
                zf_tensor *q = zf_randn(ctx, ZF_F32, 3, (int64_t[]){T, Hq, D}, 1, 5);
                zf_tensor *k = zf_cast(ctx, kf, ZF_F16), *v = zf_cast(ctx, vf, ZF_F16);
                /* ring rows: row (s + rot) % S holds key s */
                zf_tensor *kr = zf_cat(ctx, 2, (zf_tensor *[]){zf_narrow(ctx, k, 0, S - rot, rot),
                                                              zf_narrow(ctx, k, 0, 0, S - rot)}, 0);
                zf_tensor *vr = zf_cat(ctx, 2, (zf_tensor *[]){zf_narrow(ctx, v, 0, S - rot, rot),
                                                              zf_narrow(ctx, v, 0, 0, S - rot)}, 0);
                zf_numerics nm = num ? ZF_NUMERICS_GGML : ZF_NUMERICS_DEFAULT;
                zf_attn_params p = {.window = 30, .q_pos0 = kp0 + S - T, .k_pos0 = kp0, .causal = true, .numerics = nm};
                zf_tensor *y = zf_attention(ctx, q, k, v, NULL, &p);
                p.k_rot = rot;
                zf_tensor *yr = zf_attention(ctx, q, kr, vr, NULL, &p);
                CHECK(y && yr && memcmp(zf_data(y), zf_data(yr), zf_nbytes(y)) == 0);
                if (!num) { /* the default numerics: positions only matter relative to each other */
                    zf_attn_params p0 = {.window = 30, .q_pos0 = S - T, .causal = true};
                    zf_tensor *y0 = zf_attention(ctx, q, k, v, NULL, &p0);
                    CHECK(y && y0 && memcmp(zf_data(y), zf_data(y0), zf_nbytes(y)) == 0);
                }
                zf_ctx_free(ctx);
            }
    zf_ctx *ctx = zf_ctx_new(NULL);
    zf_tensor *q = zf_randn(ctx, ZF_F32, 3, (int64_t[]){1, Hq, D}, 1, 5);
    zf_attn_params bad = {.k_rot = S};
    CHECK(!zf_attention(ctx, q, kf, vf, NULL, &bad) && zf_last_status() == ZF_ERR_INVALID_ARG);
    bad.k_rot = 0, bad.k_pos0 = -1;
    CHECK(!zf_attention(ctx, q, kf, vf, NULL, &bad) && zf_last_status() == ZF_ERR_INVALID_ARG);
    zf_ctx_free(ctx);
    zf_ctx_free(in);
}

int main(void) {
    g_engines[0] = zf_cpu_engine();
    g_engines[1] = zf_cpu_engine_new(1);
    g_engines[2] = zf_trace_engine_new(g_engines[0]);
    test_rms_norm();
    test_rope();
    test_grads();
    test_attention();
    test_attention_ring();
    zf_engine_free(g_engines[2]);
    zf_engine_free(g_engines[1]);
    ZF_TEST_MAIN_END();
}
