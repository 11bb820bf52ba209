/* Cases of the LLM inference ops: QMATMUL (every GGUF weight type), RMS_NORM,
 * ROPE, ATTENTION, GLU, and the gradients of the three differentiable ones.
 * ggml numerics (llm_opcheck checks their bits against ggml itself) are
 * checked here against the exact math, with tolerances for their f16
 * roundings.
 *
 * qmatmul: the weight is drawn as f32 values [N, K] and stored in the
 * case's weight type inside `run` (zf_copy_ quantizes with the reference
 * quantizer); the reference multiplies x with dequantize(W) (src/formats,
 * bit-exact with gguf-py) in double. For block types the kernels round each
 * row of x to 8 bits first (Q8_0 blocks of 32 or Q8_K blocks of 256, scale
 * a/127 for a block's largest |x| = a, f16-rounded for Q8_0), so the
 * reference carries that rounding in `mag`:
 *   sum_k |Wd_k| * (a_b / 254 * (1 + 2^-10) + |x_k| * 2^-11) / rtol(f32)
 * next to sum_k |x_k Wd_k| (the f32 accumulation). f64 x takes the exact
 * reference path (no rounding of x).
 *
 * rope: angles pos * scale * base^(-2i/n_rot) in double, positions up to
 * 5000; with ggml numerics the angles are ggml's f32 ones (the op's
 * definition) and only sin, cos and the rotation are exact. attention:
 * softmax in double; the f32 kernel's logit error grows with scale * sum_d
 * |q_d k_d|, which `mag` carries; ggml numerics round q and the
 * probabilities to f16 (2^-11 relative each). glu: silu / gelu-tanh in
 * double; ggml's GELU is an f16 table at x rounded to f16. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "zerfoo/quant.h"

enum { X_QMM = 1, X_RMS, X_ROPE, X_ATTN, X_GLU };
#define C H_L_CONTIG
#define T H_L_TRANS
#define S H_L_STRIDED

/* ---- qmatmul ---- */

static int run_qmm(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    zf_dtype wt = (zf_dtype)c->i[0];
    zf_tensor *w = in[1];
    if (wt == ZF_F32) {
        w = zf_contiguous(ctx, zf_cast(ctx, w, ZF_F32));
    } else {
        zf_tensor *q = zf_empty(ctx, wt, 2, w->shape);
        if (!q || zf_copy_(q, w) != ZF_OK) return 0;
        w = q;
    }
    return h_one(out, zf_qmatmul(ctx, in[0], w));
}

/* dequantize(quantize(W)) as the kernels see it */
static double *weights_as_stored(zf_dtype wt, const h_arr *w) {
    int64_t N = w->shape[0], K = w->shape[1];
    double *wd = malloc(sizeof(double) * (size_t)(N * K));
    float *row = malloc(sizeof(float) * (size_t)K), *back = malloc(sizeof(float) * (size_t)K);
    void *q = malloc(zf_quant_row_size(wt, K) + 1);
    for (int64_t n = 0; n < N; n++) {
        for (int64_t k = 0; k < K; k++) row[k] = (float)w->v[n * K + k];
        if (wt == ZF_F32) memcpy(back, row, sizeof(float) * (size_t)K);
        else if (wt == ZF_F16 || wt == ZF_BF16)
            for (int64_t k = 0; k < K; k++) back[k] = (float)h_quantize(wt, row[k]);
        else {
            zf_quantize(wt, row, q, K);
            zf_dequantize(wt, q, back, K);
        }
        for (int64_t k = 0; k < K; k++) wd[n * K + k] = back[k];
    }
    free(row);
    free(back);
    free(q);
    return wd;
}

static void ref_qmm(const h_case *c, const h_arr *in, h_arr *out) {
    const h_arr *x = &in[0], *w = &in[1];
    zf_dtype wt = (zf_dtype)c->i[0];
    int64_t N = w->shape[0], K = w->shape[1], M = x->n / K;
    int64_t osh[ZF_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) osh[d] = x->shape[d];
    osh[x->ndim - 1] = N;
    bool f64 = x->dtype == ZF_F64;
    h_arr_alloc(out, f64 ? ZF_F64 : ZF_F32, x->ndim, osh);
    h_arr_want_mag(out);
    double *wd = weights_as_stored(wt, w);
    int64_t bs = zf_dtype_block(wt) == 256 ? 256 : 32;
    bool rounds_x = !f64 && zf_dtype_is_quant(wt);
    for (int64_t m = 0; m < M; m++) {
        const double *xr = x->v + m * K;
        for (int64_t n = 0; n < N; n++) {
            const double *wr = wd + n * K;
            double s = 0, mag = 0, bound = 0;
            for (int64_t k = 0; k < K; k++) {
                s += xr[k] * wr[k];
                mag += fabs(xr[k] * wr[k]);
            }
            for (int64_t b = 0; rounds_x && b < K; b += bs) {
                double a = 0;
                for (int64_t k = b; k < b + bs; k++) a = fmax(a, fabs(xr[k]));
                for (int64_t k = b; k < b + bs; k++) bound += fabs(wr[k]) * (a / 254 * (1 + 0x1p-10) + fabs(xr[k]) * 0x1p-11);
            }
            out->v[m * N + n] = s;
            out->mag[m * N + n] = mag + bound / 1e-5; /* compare() scales mag by rtol(f32) = 1e-5 */
        }
    }
    free(wd);
}

static const zf_dtype k_wtypes[] = {ZF_F32,  ZF_F16,  ZF_BF16, ZF_Q4_0, ZF_Q4_1, ZF_Q5_0, ZF_Q5_1,
                                    ZF_Q8_0, ZF_Q2_K, ZF_Q3_K, ZF_Q4_K, ZF_Q5_K, ZF_Q6_K};

static h_case qmm_case(zf_dtype wt, zf_dtype xt, int xnd, const int64_t *xsh, h_layout xl, int64_t N, bool grad) {
    h_case c = {0};
    c.op = ZF_OP_QMATMUL;
    c.trace_op = ZF_OP_QMATMUL;
    c.dtype = xt;
    c.n_in = 2;
    c.in[0] = h_in(xt, xnd, xsh, H_V_SIGNED, xl);
    c.in[1] = h_in(grad ? ZF_F64 : ZF_F32, 2, (int64_t[]){N, xsh[xnd - 1]}, H_V_SIGNED, C);
    c.in[1].nograd = true;
    c.i[0] = wt;
    c.i[7] = X_QMM;
    c.run = run_qmm;
    c.ref = ref_qmm;
    c.flags = grad ? H_GRAD : 0;
    char what[48];
    snprintf(what, sizeof what, "%sqmatmul W=%s", grad ? "grad " : "", zf_dtype_name(wt));
    h_label(&c, what);
    return c;
}

static void add_qmm(h_suite *s) {
    for (size_t ti = 0; ti < sizeof k_wtypes / sizeof *k_wtypes; ti++) {
        zf_dtype wt = k_wtypes[ti];
        int64_t blk = zf_dtype_block(wt), K = blk == 256 ? 512 : blk == 32 ? 96 : 40;
        h_case c;
        c = qmm_case(wt, ZF_F32, 2, (int64_t[]){1, K}, C, 33, false); /* decode */
        h_add(s, &c);
        c = qmm_case(wt, ZF_F32, 2, (int64_t[]){5, K}, C, 7, false); /* odd M: a group of 4 and 1 */
        h_add(s, &c);
        c = qmm_case(wt, ZF_F32, 3, (int64_t[]){2, 3, K}, T, 9, false); /* batch dims, transposed x */
        h_add(s, &c);
        c = qmm_case(wt, ZF_F32, 1, (int64_t[]){K}, S, 4, false); /* 1-d strided x */
        h_add(s, &c);
        c = qmm_case(wt, ZF_F64, 2, (int64_t[]){3, K}, C, 6, false); /* exact reference path */
        h_add(s, &c);
        c = qmm_case(wt, ZF_F16, 2, (int64_t[]){2, K}, C, 5, false); /* x cast to f32 */
        h_add(s, &c);
        if (wt == ZF_Q4_K || wt == ZF_Q8_0 || wt == ZF_F16) {
            c = qmm_case(wt, ZF_F32, 2, (int64_t[]){64, 512}, C, 256, false); /* prefill, both threads */
            c.flags |= H_LARGE;
            h_add(s, &c);
        }
        if (wt == ZF_Q4_0 || wt == ZF_Q6_K || wt == ZF_BF16) {
            c = qmm_case(wt, ZF_F64, 2, (int64_t[]){3, blk == 1 ? 20 : blk}, C, 4, true);
            h_add(s, &c);
        }
    }
}

/* ---- rms_norm ---- */

static int run_rms(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    return h_one(out, zf_rms_norm(ctx, in[0], c->n_in > 1 ? in[1] : NULL, c->f[0], c->f[1]));
}

static void ref_rms(const h_case *c, const h_arr *in, h_arr *out) {
    const h_arr *x = &in[0], *w = c->n_in > 1 ? &in[1] : NULL;
    int64_t D = x->shape[x->ndim - 1], rows = D ? x->n / D : 0;
    h_arr_alloc(out, c->dtype, x->ndim, x->shape);
    for (int64_t r = 0; r < rows; r++) {
        double ss = 0;
        for (int64_t i = 0; i < D; i++) ss += x->v[r * D + i] * x->v[r * D + i];
        double sc = 1 / sqrt(ss / (double)D + c->f[0]);
        for (int64_t i = 0; i < D; i++)
            out->v[r * D + i] = x->v[r * D + i] * sc * (w ? w->v[i] + c->f[1] : 1.0);
    }
}

static void add_rms(h_suite *s) {
    const zf_dtype dts[] = {ZF_F64, ZF_F32, ZF_F16, ZF_BF16};
    struct {
        int nd;
        int64_t sh[3];
        h_layout l;
        int weight; /* 0 none, 1 w, 2 (1 + w) */
        double eps;
    } k[] = {
        {2, {4, 16}, C, 1, 1e-6}, {3, {2, 3, 640}, C, 2, 1e-6}, {2, {5, 7}, T, 0, 1e-5},
        {2, {3, 9}, S, 1, 0.0},   {1, {33}, C, 2, 1e-5},
    };
    for (int d = 0; d < 4; d++)
        for (size_t i = 0; i < sizeof k / sizeof *k; i++) {
            h_case c = {0};
            c.op = c.trace_op = ZF_OP_RMS_NORM;
            c.dtype = dts[d];
            c.n_in = k[i].weight ? 2 : 1;
            c.in[0] = h_in(dts[d], k[i].nd, k[i].sh, H_V_SIGNED, k[i].l);
            c.in[1] = h_in(dts[d], 1, &k[i].sh[k[i].nd - 1], H_V_SIGNED, C);
            c.f[0] = k[i].eps;
            c.f[1] = k[i].weight == 2 ? 1.0 : 0.0;
            c.i[7] = X_RMS;
            c.run = run_rms;
            c.ref = ref_rms;
            h_label(&c, k[i].weight == 2 ? "rms_norm (1+w)" : "rms_norm");
            h_add(s, &c);
        }
    { /* > 100k elements */
        h_case c = {0};
        c.op = c.trace_op = ZF_OP_RMS_NORM;
        c.dtype = ZF_F32;
        c.n_in = 2;
        c.in[0] = h_in(ZF_F32, 2, (int64_t[]){200, 640}, H_V_SIGNED, C);
        c.in[1] = h_in(ZF_F32, 1, (int64_t[]){640}, H_V_SIGNED, C);
        c.f[0] = 1e-6;
        c.i[7] = X_RMS;
        c.run = run_rms;
        c.ref = ref_rms;
        c.flags = H_LARGE;
        h_label(&c, "rms_norm");
        h_add(s, &c);
    }
    for (int weight = 0; weight < 3; weight++) {
        h_case c = {0};
        c.op = ZF_OP_RMS_NORM;
        c.dtype = ZF_F64;
        c.n_in = weight ? 2 : 1;
        c.in[0] = h_in(ZF_F64, 2, (int64_t[]){3, 8}, H_V_SIGNED, C);
        c.in[1] = h_in(ZF_F64, 1, (int64_t[]){8}, H_V_SIGNED, C);
        c.f[0] = 1e-5;
        c.f[1] = weight == 2 ? 1.0 : 0.0;
        c.i[7] = X_RMS;
        c.run = run_rms;
        c.flags = H_GRAD;
        h_label(&c, "grad rms_norm");
        h_add(s, &c);
    }
}

/* ---- rope ---- */

static int run_rope(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    zf_tensor *ff = c->n_in > 2 ? in[2] : NULL;
    if (c->i[3]) /* ggml numerics */
        return h_one(out, zf_rope_ggml(ctx, in[0], in[1], ff, (zf_rope_mode)c->i[0], (int)c->i[1], c->f[0], c->f[1]));
    return h_one(out, zf_rope_ext(ctx, in[0], in[1], ff, (zf_rope_mode)c->i[0], (int)c->i[1], c->f[0], c->f[1]));
}

/* Pair i's angle as zf_rope_ggml defines it: f32 products and quotients. */
static double ggml_angle(const h_case *c, const h_arr *in, double pos, int64_t i, int64_t n_rot) {
    float theta = (float)pos, ts = powf((float)c->f[0], -2.0f / (float)n_rot);
    for (int64_t k = 0; k < i; k++) theta = theta * ts;
    if (c->n_in > 2) theta = theta / (float)in[2].v[i];
    return (double)((float)c->f[1] * theta);
}

static void ref_rope(const h_case *c, const h_arr *in, h_arr *out) {
    const h_arr *x = &in[0], *p = &in[1];
    int nd = x->ndim;
    int64_t T = x->shape[nd - 3], H = x->shape[nd - 2], D = x->shape[nd - 1];
    int64_t n_rot = c->i[1] ? c->i[1] : D, half = n_rot / 2, tokens = x->n / (H * D);
    bool neox = c->i[0] == ZF_ROPE_NEOX;
    h_arr_alloc(out, c->dtype, nd, x->shape);
    for (int64_t tok = 0; tok < tokens; tok++) {
        double pos0 = (double)p->iv[p->n == T ? tok % T : tok], pos = pos0 * c->f[1];
        for (int64_t h = 0; h < H; h++) {
            const double *xs = x->v + (tok * H + h) * D;
            double *ys = out->v + (tok * H + h) * D;
            for (int64_t i = 0; i < D; i++) ys[i] = xs[i];
            for (int64_t i = 0; i < half; i++) {
                double inv = pow(c->f[0], -2.0 * (double)i / (double)n_rot);
                if (c->n_in > 2) inv /= in[2].v[i]; /* the kernel's order: an f64 angle of ~5000 rad
                                                      * keeps only ~1e-13 absolute accuracy */
                double th = c->i[3] && c->dtype != ZF_F64 ? ggml_angle(c, in, pos0, i, n_rot) : pos * inv;
                int64_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
                ys[a] = xs[a] * cos(th) - xs[b] * sin(th);
                ys[b] = xs[a] * sin(th) + xs[b] * cos(th);
            }
        }
    }
}

static void add_rope(h_suite *s) {
    const zf_dtype dts[] = {ZF_F64, ZF_F32, ZF_F16, ZF_BF16};
    struct {
        int nd;
        int64_t sh[4];
        h_layout l;
        int pnd; /* positions: 1 = [T], else x's dims without H, D */
        zf_dtype pt;
        int n_rot;
        double base, scale;
        bool ff; /* frequency factors */
    } k[] = {
        {3, {5, 3, 8}, C, 1, ZF_I64, 0, 10000, 1, false},        /* [T, H, D] */
        {4, {2, 3, 2, 16}, C, 2, ZF_I32, 0, 1e6, 1, false},      /* [B, T, H, D], per-token positions */
        {4, {2, 4, 3, 12}, C, 1, ZF_I64, 8, 10000, 0.25, false}, /* partial rotation, linear scaling */
        {3, {3, 2, 64}, T, 1, ZF_I32, 0, 500000, 1, true},       /* transposed view, frequency factors */
        {3, {2, 1, 10}, S, 1, ZF_I64, 6, 10000, 1, true},        /* strided view, partial, factors */
    };
    /* zerfoo's numerics for every dtype; ggml's (i[3]) for f32, f16, bf16 */
    for (int ggml = 0; ggml < 2; ggml++)
        for (int d = ggml; d < 4; d++)
            for (int mode = 0; mode < 2; mode++)
                for (size_t i = 0; i < sizeof k / sizeof *k; i++) {
                    h_case c = {0};
                    c.op = c.trace_op = ZF_OP_ROPE;
                    c.dtype = dts[d];
                    c.n_in = k[i].ff ? 3 : 2;
                    c.in[0] = h_in(dts[d], k[i].nd, k[i].sh, H_V_SIGNED, k[i].l);
                    int64_t half = (k[i].n_rot ? k[i].n_rot : k[i].sh[k[i].nd - 1]) / 2;
                    c.in[2] = h_in(ZF_F32, 1, &half, H_V_POS, C);
                    int64_t pn = k[i].pnd == 1 ? k[i].sh[k[i].nd - 3] : 0;
                    c.in[1] = k[i].pnd == 1 ? h_in_index(k[i].pt, 1, &pn, 5000)
                                            : h_in_index(k[i].pt, k[i].nd - 2, k[i].sh, 5000);
                    c.i[0] = mode;
                    c.i[1] = k[i].n_rot;
                    c.i[3] = ggml;
                    c.f[0] = k[i].base;
                    c.f[1] = k[i].scale;
                    c.i[7] = X_ROPE;
                    c.run = run_rope;
                    c.ref = ref_rope;
                    h_label(&c, ggml ? (mode ? "rope_ggml neox" : "rope_ggml normal")
                                     : (mode ? "rope neox" : "rope normal"));
                    h_add(s, &c);
                }
    {
        h_case c = {0};
        c.op = c.trace_op = ZF_OP_ROPE;
        c.dtype = ZF_F32;
        c.n_in = 2;
        c.in[0] = h_in(ZF_F32, 3, (int64_t[]){128, 8, 128}, H_V_SIGNED, C);
        c.in[1] = h_in_index(ZF_I64, 1, (int64_t[]){128}, 5000);
        c.i[0] = ZF_ROPE_NEOX;
        c.f[0] = 10000;
        c.f[1] = 1;
        c.i[7] = X_ROPE;
        c.run = run_rope;
        c.ref = ref_rope;
        c.flags = H_LARGE;
        h_label(&c, "rope neox");
        h_add(s, &c);
    }
    for (int v = 0; v < 5; v++) {
        h_case c = {0};
        c.op = ZF_OP_ROPE;
        c.i[3] = v == 4; /* zf_rope_ggml (f64 takes zf_rope_ext's math) */
        c.dtype = ZF_F64;
        c.n_in = v == 3 ? 3 : 2;
        c.in[2] = h_in(ZF_F64, 1, (int64_t[]){3}, H_V_POS, C);
        c.in[2].nograd = true;
        c.in[0] = h_in(ZF_F64, 4, (int64_t[]){2, 3, 2, 6}, H_V_SIGNED, C);
        c.in[1] = h_in_index(ZF_I64, 1, (int64_t[]){3}, 300);
        c.i[0] = v ? ZF_ROPE_NEOX : ZF_ROPE_NORMAL;
        c.i[1] = v == 2 ? 4 : 0;
        c.f[0] = 10000;
        c.f[1] = v == 1 ? 0.5 : 1;
        c.i[7] = X_ROPE;
        c.run = run_rope;
        c.flags = H_GRAD;
        h_label(&c, "grad rope");
        h_add(s, &c);
    }
}

/* ---- attention ---- */

static int run_attn(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    zf_attn_params p = {.scale = c->f[0], .softcap = c->f[1], .window = c->i[0], .q_pos0 = c->i[1],
                        .causal = c->i[2] != 0, .numerics = (zf_numerics)c->i[3]};
    return h_one(out, zf_attention(ctx, in[0], in[1], in[2], c->n_in > 3 ? in[3] : NULL, &p));
}

static void ref_attn(const h_case *c, const h_arr *in, h_arr *out) {
    const h_arr *q = &in[0], *k = &in[1], *v = &in[2], *mask = c->n_in > 3 ? &in[3] : NULL;
    int o = q->ndim - 3;
    int64_t B = o ? q->shape[0] : 1, T = q->shape[o], Hq = q->shape[o + 1], D = q->shape[o + 2];
    int64_t Sn = k->shape[o], Hkv = k->shape[o + 1], G = Hq / Hkv;
    double scale = c->f[0] != 0 ? c->f[0] : 1 / sqrt((double)D), cap = c->f[1];
    int64_t window = c->i[0], q0 = c->i[1];
    bool causal = c->i[2] != 0;
    h_arr_alloc(out, ZF_F32, q->ndim, q->shape);
    h_arr_want_mag(out);
    double *z = malloc(sizeof(double) * (size_t)Sn);
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            for (int64_t h = 0; h < Hq; h++) {
                int64_t row = (b * T + t) * Hq + h, g = h / G, qpos = q0 + t;
                const double *qr = q->v + row * D;
                double m = -INFINITY, qk = 0;
                for (int64_t s2 = 0; s2 < Sn; s2++) {
                    z[s2] = -INFINITY;
                    if ((causal && s2 > qpos) || (window > 0 && qpos - s2 >= window)) continue;
                    const double *kr = k->v + ((b * Sn + s2) * Hkv + g) * D;
                    double dot = 0, ab = 0;
                    for (int64_t d = 0; d < D; d++) dot += qr[d] * kr[d], ab += fabs(qr[d] * kr[d]);
                    qk = fmax(qk, ab * scale);
                    dot *= scale;
                    if (cap > 0) dot = cap * tanh(dot / cap);
                    if (mask) dot += mask->v[(mask->ndim == 3 ? b * T + t : t) * Sn + s2];
                    z[s2] = dot;
                    m = fmax(m, dot);
                }
                double sum = 0;
                for (int64_t s2 = 0; s2 < Sn; s2++) sum += m == -INFINITY || z[s2] == -INFINITY ? 0 : exp(z[s2] - m);
                for (int64_t d = 0; d < D; d++) {
                    double acc = 0, mag = 0;
                    for (int64_t s2 = 0; m != -INFINITY && s2 < Sn; s2++) {
                        if (z[s2] == -INFINITY) continue;
                        double p = exp(z[s2] - m) / sum, vv = v->v[((b * Sn + s2) * Hkv + g) * D + d];
                        acc += p * vv;
                        mag += p * fabs(vv);
                    }
                    out->v[row * D + d] = acc;
                    out->mag[row * D + d] = mag * (1 + 0.1 * qk);
                }
            }
    free(z);
}

static const double k_mask_list[] = {0.0, -INFINITY, 0.5, -1.25, 0.0, 0.0, 2.0, -INFINITY, 0.25};

static void add_attn(h_suite *s) {
    struct {
        int64_t B, T, Sn, Hq, Hkv, D;
        zf_dtype kv;
        h_layout kl;
        bool batched, mask, causal;
        int64_t window, q0;
        double scale, cap;
        bool large;
    } k[] = {
        {1, 1, 70, 4, 1, 256, ZF_F16, C, false, false, true, 0, 69, 0, 0, false},  /* Gemma 3 270M decode */
        {1, 7, 7, 9, 3, 64, ZF_F32, C, false, false, true, 0, 0, 0, 0, false},     /* SmolLM2 prefill */
        {1, 5, 15, 2, 2, 16, ZF_F32, T, false, false, true, 4, 10, 0, 0, false},   /* window, transposed k/v */
        {2, 3, 9, 4, 2, 8, ZF_F16, C, true, true, false, 0, 0, 0.3, 2.0, false},   /* mask, soft-cap, batch */
        {2, 2, 33, 6, 3, 32, ZF_F32, S, true, false, true, 0, 31, 0, 0, false},   /* strided k/v */
        {1, 4, 6, 3, 1, 17, ZF_F32, C, false, true, true, 0, 2, 0, 0, false},      /* masked rows, odd D */
        {1, 64, 64, 4, 1, 256, ZF_F16, C, false, false, true, 0, 0, 0, 0, true},  /* long prefill */
        {1, 1, 600, 4, 1, 64, ZF_F16, C, false, true, true, 300, 599, 0, 0, false}, /* decode, keys in parts */
    };
    for (size_t i = 0; i < sizeof k / sizeof *k; i++) {
        h_case c = {0};
        c.op = c.trace_op = ZF_OP_ATTENTION;
        c.dtype = ZF_F32;
        int nd = k[i].batched ? 4 : 3, o = k[i].batched ? 0 : 1;
        int64_t qs[4] = {k[i].B, k[i].T, k[i].Hq, k[i].D}, ks[4] = {k[i].B, k[i].Sn, k[i].Hkv, k[i].D};
        int64_t ms[3] = {k[i].B, k[i].T, k[i].Sn};
        c.n_in = k[i].mask ? 4 : 3;
        c.in[0] = h_in(ZF_F32, nd, qs + o, H_V_SIGNED, C);
        c.in[1] = h_in(k[i].kv, nd, ks + o, H_V_SIGNED, k[i].kl);
        c.in[2] = h_in(k[i].kv, nd, ks + o, H_V_SIGNED, k[i].kl);
        c.in[3] = h_in(ZF_F32, nd - 1, ms + o, H_V_LIST, C);
        c.in[3].list = k_mask_list;
        c.in[3].nlist = sizeof k_mask_list / sizeof *k_mask_list;
        c.f[0] = k[i].scale;
        c.f[1] = k[i].cap;
        c.i[0] = k[i].window;
        c.i[1] = k[i].q0;
        c.i[2] = k[i].causal;
        c.i[7] = X_ATTN;
        c.run = run_attn;
        c.ref = ref_attn;
        c.flags = k[i].large ? H_LARGE : 0;
        h_label(&c, "attention");
        h_add(s, &c);
        if (k[i].kv == ZF_F16 && k[i].cap == 0) { /* ggml numerics: q and p rounded to f16 */
            c.i[3] = ZF_NUMERICS_GGML;
            c.tol_scale = 500;
            h_label(&c, "attention ggml");
            h_add(s, &c);
            if (k[i].T > 1) { /* decode-style rows: the other dot order */
                c.in[0].shape[o ? 0 : 1] = 1; /* T */
                c.in[3].shape[o ? 0 : 1] = 1;
                c.i[1] = k[i].Sn - 1;
                h_label(&c, "attention ggml T=1");
                h_add(s, &c);
            }
        }
    }
}

/* ---- glu ---- */

static int run_glu(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    return h_one(out, zf_glu(ctx, in[0], in[1], (zf_glu_act)c->i[0], (zf_numerics)c->i[1]));
}

static void ref_glu(const h_case *c, const h_arr *in, h_arr *out) {
    h_arr_alloc(out, ZF_F32, in[0].ndim, in[0].shape);
    for (int64_t i = 0; i < out->n; i++) {
        double x = in[0].v[i], a;
        if (c->i[0] == ZF_GLU_SILU) {
            a = x / (1.0 + exp(-x));
        } else {
            if (c->i[1] == ZF_NUMERICS_GGML && x > -10 && x < 10) x = h_quantize(ZF_F16, x);
            a = 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
            if (c->i[1] == ZF_NUMERICS_GGML && x <= -10) a = 0.0;
        }
        out->v[i] = a * in[1].v[i];
    }
}

static const double k_glu_list[] = {0.3, -1.7, 12.5, -11.0, 45.0, -60.0, 0.0, 2.25, -0.01, 9.99, -9.99, 100.0};

static void add_glu(h_suite *s) {
    struct {
        int nd;
        int64_t sh[3];
        h_layout l;
        bool list; /* large and special values */
    } k[] = {
        {2, {3, 40}, C, false}, {3, {2, 3, 64}, C, false}, {2, {5, 17}, T, false}, {2, {4, 33}, S, true},
    };
    for (int act = 0; act < 2; act++)
        for (int num = 0; num < 2; num++)
            for (size_t i = 0; i < sizeof k / sizeof *k; i++) {
                h_case c = {0};
                c.op = c.trace_op = ZF_OP_GLU;
                c.dtype = ZF_F32;
                c.n_in = 2;
                c.in[0] = h_in(ZF_F32, k[i].nd, k[i].sh, k[i].list ? H_V_LIST : H_V_SIGNED, k[i].l);
                c.in[0].list = k_glu_list;
                c.in[0].nlist = sizeof k_glu_list / sizeof *k_glu_list;
                c.in[1] = h_in(ZF_F32, k[i].nd, k[i].sh, H_V_SIGNED, C);
                c.i[0] = act ? ZF_GLU_GELU_TANH : ZF_GLU_SILU;
                c.i[1] = num ? ZF_NUMERICS_GGML : ZF_NUMERICS_DEFAULT;
                c.i[7] = X_GLU;
                /* ggml's GELU is an f16 value (2^-11) of gelu at an f16 x */
                c.tol_scale = act && num ? 300 : 1;
                c.run = run_glu;
                c.ref = ref_glu;
                h_label(&c, act ? (num ? "glu gelu ggml" : "glu gelu") : (num ? "glu silu ggml" : "glu silu"));
                h_add(s, &c);
            }
    {
        h_case c = {0};
        c.op = c.trace_op = ZF_OP_GLU;
        c.dtype = ZF_F32;
        c.n_in = 2;
        c.in[0] = h_in(ZF_F32, 2, (int64_t[]){64, 2048}, H_V_SIGNED, C);
        c.in[1] = h_in(ZF_F32, 2, (int64_t[]){64, 2048}, H_V_SIGNED, C);
        c.i[0] = ZF_GLU_GELU_TANH;
        c.i[1] = ZF_NUMERICS_GGML;
        c.tol_scale = 300;
        c.run = run_glu;
        c.ref = ref_glu;
        c.flags = H_LARGE;
        h_label(&c, "glu gelu ggml");
        h_add(s, &c);
    }
}

void h_cases_llm(h_suite *s) {
    add_qmm(s);
    add_rms(s);
    add_rope(s);
    add_attn(s);
    add_glu(s);
}
