/* Layer ops: CONV2D (stride, padding, dilation, groups, bias, 1x1, strided
 * input) and its gradient ops, MAX_POOL2D / AVG_POOL2D (padding, dilation,
 * ceil mode, count_include_pad, divisor override, exact ties) and their
 * gradient ops, CROSS_ENTROPY (label smoothing, ignored rows, NLL form) and
 * its gradient op, and the in-place optimizer updates SGD_UPDATE /
 * ADAM_UPDATE / EMA_UPDATE. References are plain loops in double written here. The
 * gradient ops are reached the way training reaches them: a forward, then
 * zf_backward with a fixed upstream gradient (the case's last input). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define C H_L_CONTIG

/* ---- conv2d: c->i = stride h w, pad h w, dilation h w, groups, bias ---- */
static zf_conv2d_params conv_p(const h_case *c) {
    zf_conv2d_params p = {{c->i[0], c->i[1]}, {c->i[2], c->i[3]}, {c->i[4], c->i[5]}, c->i[6]};
    return p;
}

/* Leaf copy of t that wants a gradient (for the gradient-op cases). */
static zf_tensor *leaf(zf_ctx *ctx, zf_tensor *t) {
    zf_tensor *l = zf_clone(ctx, zf_detach(ctx, t));
    if (l) zf_requires_grad(l, true);
    return l;
}

/* CONV2D: in = x, w[, b]; CONV2D_GRAD_*: in = x, w, b, gy. */
static int run_conv(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    zf_conv2d_params p = conv_p(c);
    bool bias = c->i[7] != 0;
    if (c->op == ZF_OP_CONV2D) return h_one(out, zf_conv2d(ctx, in[0], in[1], bias ? in[2] : NULL, &p));
    zf_tensor *x = leaf(ctx, in[0]), *w = leaf(ctx, in[1]);
    zf_tensor *y = zf_conv2d(ctx, x, w, bias ? in[2] : NULL, &p);
    if (!y || zf_backward(ctx, y, in[3]) != ZF_OK) return 0;
    return h_one(out, c->op == ZF_OP_CONV2D_GRAD_INPUT ? x->grad : w->grad);
}

typedef struct {
    int64_t N, Cin, H, W, O, Cg, KH, KW, OH, OW, G, Og;
} conv_dims;

static conv_dims conv_geom(const h_case *c, const h_arr *x, const h_arr *w) {
    conv_dims d = {x->shape[0], x->shape[1], x->shape[2], x->shape[3], w->shape[0], w->shape[1], w->shape[2],
                   w->shape[3], 0, 0, c->i[6], 0};
    d.OH = (d.H + 2 * c->i[2] - c->i[4] * (d.KH - 1) - 1) / c->i[0] + 1;
    d.OW = (d.W + 2 * c->i[3] - c->i[5] * (d.KW - 1) - 1) / c->i[1] + 1;
    d.Og = d.O / d.G;
    return d;
}

/* Calls f(n, o, oh, ow, c_in, i, j, ih, iw) for every in-bounds tap. */
#define FOR_TAPS(d, c, BODY)                                                                            \
    for (int64_t n = 0; n < d.N; n++)                                                                   \
        for (int64_t o = 0; o < d.O; o++)                                                               \
            for (int64_t oh = 0; oh < d.OH; oh++)                                                       \
                for (int64_t ow = 0; ow < d.OW; ow++)                                                   \
                    for (int64_t cg = 0; cg < d.Cg; cg++)                                               \
                        for (int64_t i = 0; i < d.KH; i++)                                              \
                            for (int64_t j = 0; j < d.KW; j++) {                                        \
                                int64_t ih = oh * c->i[0] - c->i[2] + i * c->i[4];                      \
                                int64_t iw = ow * c->i[1] - c->i[3] + j * c->i[5];                      \
                                if (ih < 0 || ih >= d.H || iw < 0 || iw >= d.W) continue;               \
                                int64_t ci = (o / d.Og) * d.Cg + cg;                                    \
                                int64_t xi = ((n * d.Cin + ci) * d.H + ih) * d.W + iw;                  \
                                int64_t wi = ((o * d.Cg + cg) * d.KH + i) * d.KW + j;                   \
                                int64_t yi = ((n * d.O + o) * d.OH + oh) * d.OW + ow;                   \
                                BODY;                                                                   \
                            }

static void ref_conv(const h_case *c, const h_arr *in, h_arr *out) {
    conv_dims d = conv_geom(c, &in[0], &in[1]);
    const double *x = in[0].v, *w = in[1].v;
    if (c->op == ZF_OP_CONV2D) {
        h_arr_alloc(out, c->dtype, 4, (int64_t[]){d.N, d.O, d.OH, d.OW});
        h_arr_want_mag(out);
        if (c->i[7])
            for (int64_t k = 0; k < out->n; k++) {
                int64_t o = (k / (d.OH * d.OW)) % d.O;
                out->v[k] = in[2].v[o];
                out->mag[k] = fabs(in[2].v[o]);
            }
        FOR_TAPS(d, c, (out->v[yi] += x[xi] * w[wi], out->mag[yi] += fabs(x[xi] * w[wi])));
    } else if (c->op == ZF_OP_CONV2D_GRAD_INPUT) {
        const double *gy = in[3].v;
        h_arr_alloc(out, c->dtype, 4, in[0].shape);
        h_arr_want_mag(out);
        FOR_TAPS(d, c, (out->v[xi] += gy[yi] * w[wi], out->mag[xi] += fabs(gy[yi] * w[wi])));
    } else {
        const double *gy = in[3].v;
        h_arr_alloc(out, c->dtype, 4, in[1].shape);
        h_arr_want_mag(out);
        FOR_TAPS(d, c, (out->v[wi] += gy[yi] * x[xi], out->mag[wi] += fabs(gy[yi] * x[xi])));
    }
}

typedef struct {
    int64_t x[4], w[4];
    int64_t p[8]; /* stride h w, pad h w, dil h w, groups, bias */
    h_layout lx;
} conv_shape;

static const conv_shape k_convs[] = {
    {{2, 3, 7, 6}, {4, 3, 3, 3}, {1, 1, 0, 0, 1, 1, 1, 1}, C},
    {{3, 4, 9, 8}, {6, 2, 3, 2}, {2, 1, 1, 2, 2, 1, 2, 1}, C},   /* groups 2, dilation, asymmetric */
    {{2, 6, 6, 7}, {6, 1, 3, 3}, {2, 2, 1, 1, 1, 1, 6, 0}, C},   /* depthwise, no bias */
    {{2, 5, 4, 6}, {3, 5, 1, 1}, {1, 1, 0, 0, 1, 1, 1, 1}, C},   /* 1x1: x itself is the im2col matrix */
    {{3, 2, 5, 5}, {4, 2, 2, 2}, {3, 3, 1, 1, 2, 2, 1, 1}, H_L_STRIDED},
    {{9, 1, 12, 12}, {6, 1, 5, 5}, {1, 1, 0, 0, 1, 1, 1, 1}, C}, /* LeNet's first layer, odd batch */
};

static void add_conv(h_suite *s) {
    const zf_op ops[3] = {ZF_OP_CONV2D, ZF_OP_CONV2D_GRAD_INPUT, ZF_OP_CONV2D_GRAD_WEIGHT};
    const zf_dtype dts[2] = {ZF_F64, ZF_F32};
    for (int oi = 0; oi < 3; oi++)
        for (int di = 0; di < 2; di++)
            for (size_t k = 0; k < sizeof k_convs / sizeof k_convs[0]; k++) {
                const conv_shape *cs = &k_convs[k];
                h_case c = {0};
                c.op = c.trace_op = ops[oi];
                c.dtype = dts[di];
                memcpy(c.i, cs->p, sizeof cs->p);
                c.n_in = oi ? 4 : 3;
                c.in[0] = h_in(dts[di], 4, cs->x, H_V_SIGNED, cs->lx);
                c.in[1] = h_in(dts[di], 4, cs->w, H_V_SIGNED, C);
                c.in[2] = h_in(dts[di], 1, &cs->w[0], H_V_SIGNED, C);
                if (oi) {
                    h_arr xa = {.ndim = 4}, wa = {.ndim = 4};
                    memcpy(xa.shape, cs->x, sizeof cs->x);
                    memcpy(wa.shape, cs->w, sizeof cs->w);
                    conv_dims d = conv_geom(&c, &xa, &wa);
                    c.in[3] = h_in(dts[di], 4, (int64_t[]){d.N, d.O, d.OH, d.OW}, H_V_SIGNED, C);
                }
                c.run = run_conv;
                c.ref = ref_conv;
                c.tol_scale = 4;
                h_label(&c, zf_op_name(ops[oi]));
                h_add(s, &c);
            }
    for (size_t k = 0; k < 3; k++) {
        h_case c = {0};
        c.op = ZF_OP_CONV2D;
        c.dtype = ZF_F64;
        memcpy(c.i, k_convs[k].p, sizeof k_convs[k].p);
        c.n_in = 3;
        c.in[0] = h_in(ZF_F64, 4, k_convs[k].x, H_V_SIGNED, C);
        c.in[1] = h_in(ZF_F64, 4, k_convs[k].w, H_V_SIGNED, C);
        c.in[2] = h_in(ZF_F64, 1, &k_convs[k].w[0], H_V_SIGNED, C);
        c.in[2].nograd = !k_convs[k].p[7]; /* unused bias */
        c.run = run_conv;
        c.flags = H_GRAD;
        h_label(&c, "grad conv2d");
        h_add(s, &c);
    }
}

/* ---- pooling: c->i = kernel h w, stride h w, pad h w, dilation h w;
 * c->f[0] ceil_mode, f[1] exclude_pad, f[2] divisor ---- */
static bool is_max_op(zf_op op) { return op == ZF_OP_MAX_POOL2D || op == ZF_OP_MAX_POOL2D_GRAD; }

static zf_pool2d_params pool_p(const h_case *c) {
    zf_pool2d_params p = {.kernel = {c->i[0], c->i[1]}, .stride = {c->i[2], c->i[3]}, .padding = {c->i[4], c->i[5]},
                          .ceil_mode = c->f[0] != 0, .exclude_pad = c->f[1] != 0, .divisor = (int64_t)c->f[2]};
    if (is_max_op(c->op)) p.dilation[0] = c->i[6], p.dilation[1] = c->i[7];
    return p;
}

/* in = x (, gy for the gradient ops) */
static int run_pool(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    zf_pool2d_params p = pool_p(c);
    bool mx = is_max_op(c->op);
    if (c->op == ZF_OP_MAX_POOL2D || c->op == ZF_OP_AVG_POOL2D)
        return h_one(out, mx ? zf_max_pool2d(ctx, in[0], &p) : zf_avg_pool2d(ctx, in[0], &p));
    zf_tensor *x = leaf(ctx, in[0]);
    zf_tensor *y = mx ? zf_max_pool2d(ctx, x, &p) : zf_avg_pool2d(ctx, x, &p);
    if (!y || zf_backward(ctx, y, in[1]) != ZF_OK) return 0;
    return h_one(out, x->grad);
}

static int64_t pool_extent(int64_t in, int64_t k, int64_t s, int64_t pad, int64_t dil, bool ceil) {
    int64_t o = (in + 2 * pad - dil * (k - 1) - 1 + (ceil ? s - 1 : 0)) / s + 1;
    if (ceil && (o - 1) * s >= in + pad) o--;
    return o;
}

static void ref_pool(const h_case *c, const h_arr *in, h_arr *out) {
    const h_arr *x = &in[0];
    bool mx = is_max_op(c->op), grad = c->op == ZF_OP_MAX_POOL2D_GRAD || c->op == ZF_OP_AVG_POOL2D_GRAD;
    int64_t P = x->shape[0] * x->shape[1], H = x->shape[2], W = x->shape[3];
    int64_t kh = c->i[0], kw = c->i[1], sh = c->i[2], sw = c->i[3], ph = c->i[4], pw = c->i[5];
    int64_t dh = mx ? c->i[6] : 1, dw = mx ? c->i[7] : 1;
    int64_t OH = pool_extent(H, kh, sh, ph, dh, c->f[0] != 0), OW = pool_extent(W, kw, sw, pw, dw, c->f[0] != 0);
    if (grad)
        h_arr_alloc(out, c->dtype, 4, x->shape);
    else
        h_arr_alloc(out, c->dtype, 4, (int64_t[]){x->shape[0], x->shape[1], OH, OW});
    h_arr_want_mag(out);
    for (int64_t p = 0; p < P; p++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t yi = (p * OH + oh) * OW + ow, best = -1, cnt = 0, hs = oh * sh - ph, ws = ow * sw - pw;
                double m = -INFINITY, sum = 0, mag = 0;
                for (int64_t i = 0; i < kh; i++)
                    for (int64_t j = 0; j < kw; j++) {
                        int64_t ih = hs + i * dh, iw = ws + j * dw;
                        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                        double v = x->v[(p * H + ih) * W + iw];
                        if (best < 0 || v > m) m = v, best = (p * H + ih) * W + iw; /* first maximum */
                        sum += v, mag += fabs(v), cnt++;
                    }
                /* average divisor: window clipped to the padded input, or real elements, or override */
                int64_t he = hs + kh < H + ph ? hs + kh : H + ph, we = ws + kw < W + pw ? ws + kw : W + pw;
                double div = c->f[2] ? c->f[2] : c->f[1] ? (double)cnt : (double)((he - hs) * (we - ws));
                if (!grad) {
                    out->v[yi] = mx ? m : (cnt ? sum / div : 0);
                    out->mag[yi] = mx ? fabs(m) : mag / div;
                    continue;
                }
                double g = in[1].v[yi];
                if (mx) {
                    out->v[best] += g;
                    out->mag[best] += fabs(g);
                    continue;
                }
                for (int64_t i = 0; i < kh; i++)
                    for (int64_t j = 0; j < kw; j++) {
                        int64_t ih = hs + i, iw = ws + j;
                        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                        out->v[(p * H + ih) * W + iw] += g / div;
                        out->mag[(p * H + ih) * W + iw] += fabs(g / div);
                    }
            }
}

typedef struct {
    int64_t i[8];
    double f[3];
    h_kind kind;
} pool_shape;

static const pool_shape k_pools[] = {
    {{2, 2, 2, 2, 0, 0, 1, 1}, {0, 0, 0}, H_V_SIGNED},
    {{2, 2, 2, 2, 0, 0, 1, 1}, {0, 0, 0}, H_V_DISCRETE}, /* many exact ties */
    {{3, 3, 2, 2, 1, 1, 1, 1}, {1, 0, 0}, H_V_SIGNED},   /* padding, ceil mode */
    {{2, 3, 1, 2, 1, 1, 2, 1}, {0, 1, 0}, H_V_DISCRETE}, /* dilation (max), exclude pad (avg) */
    {{3, 2, 3, 1, 0, 1, 1, 1}, {1, 0, 3}, H_V_SIGNED},   /* ceil mode, divisor override (avg) */
};

static void add_pool(h_suite *s) {
    const zf_op ops[4] = {ZF_OP_MAX_POOL2D, ZF_OP_MAX_POOL2D_GRAD, ZF_OP_AVG_POOL2D, ZF_OP_AVG_POOL2D_GRAD};
    const zf_dtype dts[2] = {ZF_F64, ZF_F32};
    const int64_t xs[4] = {2, 3, 9, 8};
    for (int oi = 0; oi < 4; oi++)
        for (int di = 0; di < 2; di++)
            for (size_t k = 0; k < sizeof k_pools / sizeof k_pools[0]; k++) {
                const pool_shape *ps = &k_pools[k];
                h_case c = {0};
                c.op = c.trace_op = ops[oi];
                c.dtype = dts[di];
                memcpy(c.i, ps->i, sizeof ps->i);
                memcpy(c.f, ps->f, sizeof ps->f);
                bool mx = is_max_op(ops[oi]);
                if (!mx) c.i[6] = c.i[7] = 1;
                if (mx) c.f[1] = c.f[2] = 0;
                c.n_in = (oi & 1) ? 2 : 1;
                c.in[0] = h_in(dts[di], 4, xs, ps->kind, k == 2 ? H_L_TRANS : C);
                if (oi & 1) {
                    int64_t d = mx ? c.i[6] : 1, d2 = mx ? c.i[7] : 1;
                    c.in[1] = h_in(dts[di], 4,
                                   (int64_t[]){2, 3, pool_extent(9, c.i[0], c.i[2], c.i[4], d, c.f[0] != 0),
                                               pool_extent(8, c.i[1], c.i[3], c.i[5], d2, c.f[0] != 0)},
                                   H_V_SIGNED, C);
                }
                c.run = run_pool;
                c.ref = ref_pool;
                h_label(&c, zf_op_name(ops[oi]));
                h_add(s, &c);
            }
    for (int oi = 0; oi < 4; oi += 2)
        for (size_t k = 0; k < 3; k += 2) {
            h_case c = {0};
            c.op = ops[oi];
            c.dtype = ZF_F64;
            memcpy(c.i, k_pools[k].i, sizeof k_pools[k].i);
            memcpy(c.f, k_pools[k].f, sizeof k_pools[k].f);
            c.n_in = 1;
            c.in[0] = h_in(ZF_F64, 4, xs, H_V_SIGNED, C);
            c.run = run_pool;
            c.flags = H_GRAD;
            h_label(&c, oi ? "grad avg_pool2d" : "grad max_pool2d");
            h_add(s, &c);
        }
}

/* ---- cross-entropy: in = logits [N, C], target [N] (, gy [N]); c->f[0]
 * label smoothing, c->i[0] = 1: the input is log-probabilities (NLL) ---- */
static int run_ce(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    if (c->op == ZF_OP_CROSS_ENTROPY) {
        if (c->i[0]) return h_one(out, zf_nll_loss(ctx, in[0], in[1], ZF_REDUCTION_NONE));
        return h_one(out, zf_cross_entropy(ctx, in[0], in[1], c->f[0], ZF_REDUCTION_NONE));
    }
    zf_tensor *x = leaf(ctx, in[0]);
    zf_tensor *l = c->i[0] ? zf_nll_loss(ctx, x, in[1], ZF_REDUCTION_NONE)
                           : zf_cross_entropy(ctx, x, in[1], c->f[0], ZF_REDUCTION_NONE);
    if (!l || zf_backward(ctx, l, in[2]) != ZF_OK) return 0;
    return h_one(out, x->grad);
}

static void ref_ce(const h_case *c, const h_arr *in, h_arr *out) {
    const h_arr *x = &in[0];
    int64_t N = x->shape[0], K = x->shape[1];
    double ls = c->f[0];
    bool grad = c->op == ZF_OP_CROSS_ENTROPY_GRAD;
    if (grad)
        h_arr_alloc(out, c->dtype, 2, x->shape);
    else
        h_arr_alloc(out, c->dtype, 1, &N);
    h_arr_want_mag(out);
    for (int64_t n = 0; n < N; n++) {
        const double *r = x->v + n * K;
        int64_t t = in[1].iv[n];
        double lse = 0;
        if (!c->i[0]) {
            double m = -INFINITY, s = 0;
            for (int64_t k = 0; k < K; k++) m = fmax(m, r[k]);
            for (int64_t k = 0; k < K; k++) s += exp(r[k] - m);
            lse = m + log(s);
        }
        if (!grad) {
            double l = -(1 - ls) * (r[t] - lse), sum = 0, mag = 0;
            for (int64_t k = 0; k < K; k++) sum += r[k] - lse, mag += fabs(r[k]) + fabs(lse);
            out->v[n] = l - ls / (double)K * sum;
            out->mag[n] = fabs(r[t]) + fabs(lse) + ls * mag / (double)K;
            continue;
        }
        double g = in[2].v[n];
        for (int64_t k = 0; k < K; k++) {
            double p = c->i[0] ? 0 : exp(r[k] - lse);
            out->v[n * K + k] = g * (p - ls / (double)K - (k == t ? 1 - ls : 0));
            out->mag[n * K + k] = fabs(g) * (p + 1);
        }
    }
}

static void add_ce(h_suite *s) {
    const zf_dtype dts[2] = {ZF_F64, ZF_F32};
    const double smooth[3] = {0, 0.15, 0};
    for (int grad = 0; grad < 2; grad++)
        for (int di = 0; di < 2; di++)
            for (int v = 0; v < 3; v++) {
                h_case c = {0};
                c.op = c.trace_op = grad ? ZF_OP_CROSS_ENTROPY_GRAD : ZF_OP_CROSS_ENTROPY;
                c.dtype = dts[di];
                c.f[0] = smooth[v];
                c.i[0] = v == 2; /* NLL on log-probability-like inputs */
                c.n_in = grad ? 3 : 2;
                c.in[0] = h_in(dts[di], 2, (int64_t[]){37, 11}, H_V_SIGNED, v == 1 ? H_L_STRIDED : C);
                c.in[1] = h_in_index(ZF_I64, 1, (int64_t[]){37}, 11);
                if (grad) c.in[2] = h_in(dts[di], 1, (int64_t[]){37}, H_V_SIGNED, C);
                c.run = run_ce;
                c.ref = ref_ce;
                h_label(&c, zf_op_name(c.op));
                h_add(s, &c);
            }
    for (int v = 0; v < 2; v++) {
        h_case c = {0};
        c.op = ZF_OP_CROSS_ENTROPY;
        c.dtype = ZF_F64;
        c.f[0] = v ? 0.2 : 0;
        c.n_in = 2;
        c.in[0] = h_in(ZF_F64, 2, (int64_t[]){4, 5}, H_V_SIGNED, C);
        c.in[1] = h_in_index(ZF_I64, 1, (int64_t[]){4}, 5);
        c.run = run_ce;
        c.flags = H_GRAD;
        h_label(&c, "grad cross_entropy");
        h_add(s, &c);
    }
}

/* ---- optimizer updates: in = param, grad; two steps with the same
 * gradient. SGD: c->f = lr, momentum, dampening, weight decay, c->i[0]
 * nesterov. Adam: c->f = lr, beta1, beta2, eps; c->i[1] weight decay * 1e3,
 * c->i[0] = 1: AdamW. EMA: see add_ema. ---- */
static int run_update(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    zf_tensor *p = leaf(ctx, in[0]);
    zf_named_tensors *l = zf_named_new(ctx, 1);
    if (!p || !l || zf_named_push(ctx, l, "p", p)) return 0;
    zf_optimizer *opt;
    bool ema = c->op == ZF_OP_EMA_UPDATE;
    if (c->op == ZF_OP_SGD_UPDATE || ema) {
        zf_sgd_params h = {c->f[0], c->f[1], c->f[2], c->f[3], c->i[0] != 0};
        if (ema) h = (zf_sgd_params){.lr = c->f[1]};
        opt = zf_sgd_new(l, &h);
    } else {
        zf_adam_params h = {c->f[0], c->f[1], c->f[2], c->f[3], (double)c->i[1] * 1e-3};
        opt = c->i[0] ? zf_adamw_new(l, &h) : zf_adam_new(l, &h);
    }
    p->grad = zf_clone(ctx, in[1]);
    bool ok = opt && p->grad && (!ema || zf_optim_set_ema(opt, c->f[0]) == ZF_OK) && zf_optim_step(opt) == ZF_OK &&
              zf_optim_step(opt) == ZF_OK && (!ema || zf_optim_swap_ema(opt) == ZF_OK);
    zf_optim_free(opt);
    return ok ? h_one(out, p) : 0;
}

static void ref_update(const h_case *c, const h_arr *in, h_arr *out) {
    h_arr_alloc(out, c->dtype, in[0].ndim, in[0].shape);
    h_arr_want_mag(out);
    for (int64_t k = 0; k < out->n; k++) {
        double p = in[0].v[k], g = in[1].v[k], b = 0, m = 0, v = 0;
        for (int t = 1; t <= 2; t++) {
            if (c->op == ZF_OP_SGD_UPDATE) {
                double d = g + c->f[3] * p;
                if (c->f[1] != 0) {
                    b = t == 1 ? d : c->f[1] * b + (1 - c->f[2]) * d;
                    d = c->i[0] ? d + c->f[1] * b : b;
                }
                p -= c->f[0] * d;
            } else {
                double wd = (double)c->i[1] * 1e-3, d = g;
                if (c->i[0]) p *= 1 - c->f[0] * wd;
                else d += wd * p;
                m = c->f[1] * m + (1 - c->f[1]) * d;
                v = c->f[2] * v + (1 - c->f[2]) * d * d;
                p -= c->f[0] / (1 - pow(c->f[1], t)) * m / (sqrt(v) / sqrt(1 - pow(c->f[2], t)) + c->f[3]);
            }
        }
        out->v[k] = p;
        out->mag[k] = fabs(p) + fabs(in[0].v[k]);
    }
}

static void add_updates(h_suite *s) {
    const double sgd[4][5] = {{0.1, 0, 0, 0, 0}, {0.05, 0.9, 0, 0, 0}, {0.05, 0.9, 0.2, 0.01, 0}, {0.02, 0.8, 0, 0.1, 1}};
    const double adam[3][6] = {{1e-3, 0.9, 0.999, 1e-8, 0, 0}, {1e-2, 0.8, 0.99, 1e-6, 50, 0},
                               {1e-3, 0.9, 0.999, 1e-8, 10, 1}};
    const zf_dtype dts[2] = {ZF_F64, ZF_F32};
    for (int di = 0; di < 2; di++) {
        for (int k = 0; k < 4; k++) {
            h_case c = {0};
            c.op = c.trace_op = ZF_OP_SGD_UPDATE;
            c.dtype = dts[di];
            memcpy(c.f, sgd[k], 4 * sizeof(double));
            c.i[0] = (int64_t)sgd[k][4];
            c.n_in = 2;
            c.in[0] = h_in(dts[di], 2, (int64_t[]){33, 17}, H_V_SIGNED, C);
            c.in[1] = h_in(dts[di], 2, (int64_t[]){33, 17}, H_V_SIGNED, k == 3 ? H_L_TRANS : C);
            c.run = run_update;
            c.ref = ref_update;
            h_label(&c, "sgd_update (2 steps)");
            h_add(s, &c);
        }
        for (int k = 0; k < 3; k++) {
            h_case c = {0};
            c.op = c.trace_op = ZF_OP_ADAM_UPDATE;
            c.dtype = dts[di];
            memcpy(c.f, adam[k], 4 * sizeof(double));
            c.i[1] = (int64_t)adam[k][4];
            c.i[0] = (int64_t)adam[k][5];
            c.n_in = 2;
            c.in[0] = h_in(dts[di], 1, (int64_t[]){70001}, H_V_SIGNED, C);
            c.in[1] = h_in(dts[di], 1, (int64_t[]){70001}, H_V_SIGNED, C);
            c.run = run_update;
            c.ref = ref_update;
            h_label(&c, k == 2 ? "adamw update (2 steps)" : "adam_update (2 steps)");
            h_add(s, &c);
        }
    }
}

/* ---- EMA_UPDATE: in = param, grad (run_update). EMA on with decay
 * c->f[0], two SGD steps of lr c->f[1] with the same gradient, then the
 * averages swapped into the parameter (the output). ---- */
static void ref_ema(const h_case *c, const h_arr *in, h_arr *out) {
    h_arr_alloc(out, c->dtype, in[0].ndim, in[0].shape);
    h_arr_want_mag(out);
    for (int64_t k = 0; k < out->n; k++) {
        double p = in[0].v[k], a = p;
        for (int t = 1; t <= 2; t++) {
            p -= c->f[1] * in[1].v[k];
            a = c->f[0] * a + (1 - c->f[0]) * p;
        }
        out->v[k] = a;
        out->mag[k] = fabs(a) + fabs(in[0].v[k]);
    }
}

static void add_ema(h_suite *s) {
    const double cfg[3][2] = {{0.999, 0.1}, {0.9, 0.5}, {0, 0.3}}; /* decay, lr */
    const zf_dtype dts[2] = {ZF_F64, ZF_F32};
    for (int di = 0; di < 2; di++) {
        for (int k = 0; k < 3; k++) {
            h_case c = {0};
            c.op = c.trace_op = ZF_OP_EMA_UPDATE;
            c.dtype = dts[di];
            c.f[0] = cfg[k][0];
            c.f[1] = cfg[k][1];
            c.n_in = 2;
            int64_t shape[2] = {33, 17}, n = k == 1 ? 70001 : 0; /* 70001: several threads' chunks */
            c.in[0] = n ? h_in(dts[di], 1, &n, H_V_SIGNED, C) : h_in(dts[di], 2, shape, H_V_SIGNED, C);
            c.in[1] = n ? h_in(dts[di], 1, &n, H_V_SIGNED, C) : h_in(dts[di], 2, shape, H_V_SIGNED, C);
            c.run = run_update;
            c.ref = ref_ema;
            h_label(&c, "ema_update (2 sgd steps, swapped in)");
            h_add(s, &c);
        }
    }
}

void h_cases_nn(h_suite *s) {
    add_conv(s);
    add_pool(s);
    add_ce(s);
    add_updates(s);
    add_ema(s);
}
