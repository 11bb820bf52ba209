/* Elementwise cases: binary (broadcasting), with-scalar, unary, where.
 *
 * Each op is listed once with the dtypes it claims, how its inputs are drawn
 * (domains: log/sqrt/rsqrt/pow-base positive, log1p above -1, comparisons
 * from a small discrete set so there are exact ties, logical ops with zeros),
 * a double reference and an exact int64 reference for integer dtypes. Every
 * op runs on: equal shapes, two-way broadcasting ([3,1,5] with [4,1]),
 * transposed and strided (offset, step 2) inputs, 0-dim, a scalar against a
 * transposed matrix, and > 100k elements (multi-threaded paths, contiguous
 * and transposed). Differentiable ops also get a finite-difference check. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* ---- binary ---- */
typedef zf_tensor *(*bin_frontend)(zf_ctx *, zf_tensor *, zf_tensor *);

static double f_add(double a, double b) { return a + b; }
static double f_sub(double a, double b) { return a - b; }
static double f_mul(double a, double b) { return a * b; }
static double f_div(double a, double b) { return a / b; }
static double f_pow(double a, double b) { return pow(a, b); }
static double f_max(double a, double b) { return a > b ? a : b; }
static double f_min(double a, double b) { return a < b ? a : b; }
static double f_eq(double a, double b) { return a == b; }
static double f_ne(double a, double b) { return a != b; }
static double f_lt(double a, double b) { return a < b; }
static double f_le(double a, double b) { return a <= b; }
static double f_gt(double a, double b) { return a > b; }
static double f_ge(double a, double b) { return a >= b; }
static double f_and(double a, double b) { return a != 0 && b != 0; }
static double f_or(double a, double b) { return a != 0 || b != 0; }

/* Integer arithmetic wraps (two's complement in int64, then the dtype). */
static int64_t i_add(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static int64_t i_sub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
static int64_t i_mul(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }
static int64_t i_max(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t i_min(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t i_eq(int64_t a, int64_t b) { return a == b; }
static int64_t i_ne(int64_t a, int64_t b) { return a != b; }
static int64_t i_lt(int64_t a, int64_t b) { return a < b; }
static int64_t i_le(int64_t a, int64_t b) { return a <= b; }
static int64_t i_gt(int64_t a, int64_t b) { return a > b; }
static int64_t i_ge(int64_t a, int64_t b) { return a >= b; }
static int64_t i_and(int64_t a, int64_t b) { return a != 0 && b != 0; }
static int64_t i_or(int64_t a, int64_t b) { return a != 0 || b != 0; }

typedef struct {
    zf_op op;
    bin_frontend fn;
    unsigned dtypes;
    h_kind ka, kb;
    double (*f)(double, double);
    int64_t (*fi)(int64_t, int64_t); /* NULL: float dtypes only */
    bool pred;                       /* bool output */
    bool cancel;                     /* error scales with |a| + |b| (add/sub) */
} bin_op;

static const bin_op k_bin[] = {
    {ZF_OP_ADD, zf_add, H_FLOATS | H_INTS, H_V_SIGNED, H_V_SIGNED, f_add, i_add, false, true},
    {ZF_OP_SUB, zf_sub, H_FLOATS | H_INTS, H_V_SIGNED, H_V_SIGNED, f_sub, i_sub, false, true},
    {ZF_OP_MUL, zf_mul, H_FLOATS | H_INTS, H_V_SIGNED, H_V_SIGNED, f_mul, i_mul, false, false},
    {ZF_OP_DIV, zf_div, H_FLOATS, H_V_SIGNED, H_V_SIGNED, f_div, NULL, false, false},
    {ZF_OP_POW, zf_pow, H_FLOATS, H_V_POS, H_V_SIGNED, f_pow, NULL, false, false},
    {ZF_OP_MAXIMUM, zf_maximum, H_FLOATS | H_INTS, H_V_DISCRETE, H_V_DISCRETE, f_max, i_max, false, false},
    {ZF_OP_MINIMUM, zf_minimum, H_FLOATS | H_INTS, H_V_DISCRETE, H_V_DISCRETE, f_min, i_min, false, false},
    {ZF_OP_EQ, zf_eq, H_ALL, H_V_DISCRETE, H_V_DISCRETE, f_eq, i_eq, true, false},
    {ZF_OP_NE, zf_ne, H_ALL, H_V_DISCRETE, H_V_DISCRETE, f_ne, i_ne, true, false},
    {ZF_OP_LT, zf_lt, H_ALL, H_V_DISCRETE, H_V_DISCRETE, f_lt, i_lt, true, false},
    {ZF_OP_LE, zf_le, H_ALL, H_V_DISCRETE, H_V_DISCRETE, f_le, i_le, true, false},
    {ZF_OP_GT, zf_gt, H_ALL, H_V_DISCRETE, H_V_DISCRETE, f_gt, i_gt, true, false},
    {ZF_OP_GE, zf_ge, H_ALL, H_V_DISCRETE, H_V_DISCRETE, f_ge, i_ge, true, false},
    {ZF_OP_LOGICAL_AND, zf_logical_and, H_ALL, H_V_BOOLISH, H_V_BOOLISH, f_and, i_and, true, false},
    {ZF_OP_LOGICAL_OR, zf_logical_or, H_ALL, H_V_BOOLISH, H_V_BOOLISH, f_or, i_or, true, false},
};
#define N_BIN (sizeof k_bin / sizeof k_bin[0])

/* c->i[0]: index in k_bin; c->i[1]: 1 = with-scalar frontend, scalar c->f[0]. */
static int run_binary(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    const bin_op *b = &k_bin[c->i[0]];
    if (c->i[1]) {
        switch (b->op) {
        case ZF_OP_ADD: return h_one(out, zf_add_scalar(ctx, in[0], c->f[0]));
        case ZF_OP_MUL: return h_one(out, zf_mul_scalar(ctx, in[0], c->f[0]));
        default: return h_one(out, zf_pow_scalar(ctx, in[0], c->f[0]));
        }
    }
    return h_one(out, b->fn(ctx, in[0], in[1]));
}

/* out[i] = f(a[bcast(i)], b[bcast(i)]) over the broadcast shape. */
static void ref_binary(const h_case *c, const h_arr *in, h_arr *out) {
    const bin_op *op = &k_bin[c->i[0]];
    const h_arr *a = &in[0], *b = &in[1];
    h_arr sc = {0};
    if (c->i[1]) { /* the scalar is made in a's dtype: converted like a cast from f64 */
        h_arr f64 = {0};
        h_arr_alloc(&f64, ZF_F64, 0, NULL);
        f64.v[0] = c->f[0];
        h_arr_alloc(&sc, c->dtype, 0, NULL);
        h_convert(&f64, 0, &sc, 0);
        h_arr_free(&f64);
        b = &sc;
    }
    int nd;
    int64_t sh[ZF_MAX_DIMS], idx[ZF_MAX_DIMS];
    h_broadcast(a->ndim, a->shape, b->ndim, b->shape, &nd, sh);
    h_arr_alloc(out, op->pred ? ZF_BOOL : c->dtype, nd, sh);
    if (op->cancel && !a->iv) h_arr_want_mag(out);
    for (int64_t i = 0; i < out->n; i++) {
        h_unravel(i, nd, sh, idx);
        int64_t ia = h_bcast_index(a, nd, idx), ib = h_bcast_index(b, nd, idx);
        if (a->iv)
            h_arr_set_int(out, i, op->fi(a->iv[ia], b->iv[ib]));
        else
            h_arr_set(out, i, op->f(a->v[ia], b->v[ib]));
        if (out->mag) out->mag[i] = fabs(a->v[ia]) + fabs(b->v[ib]);
    }
    h_arr_free(&sc);
}

/* ---- unary ---- */
static double u_neg(double x, const double *p) { (void)p; return -x; }
static double u_abs(double x, const double *p) { (void)p; return fabs(x); }
static double u_sign(double x, const double *p) { (void)p; return x > 0 ? 1.0 : (x < 0 ? -1.0 : x); }
static double u_exp(double x, const double *p) { (void)p; return exp(x); }
static double u_log(double x, const double *p) { (void)p; return log(x); }
static double u_log1p(double x, const double *p) { (void)p; return log1p(x); }
static double u_erf(double x, const double *p) { (void)p; return erf(x); }
static double u_sqrt(double x, const double *p) { (void)p; return sqrt(x); }
static double u_rsqrt(double x, const double *p) { (void)p; return 1.0 / sqrt(x); }
static double u_sin(double x, const double *p) { (void)p; return sin(x); }
static double u_cos(double x, const double *p) { (void)p; return cos(x); }
static double u_tanh(double x, const double *p) { (void)p; return tanh(x); }
static double u_sigmoid(double x, const double *p) { (void)p; return 1.0 / (1.0 + exp(-x)); }
static double u_relu(double x, const double *p) { (void)p; return x > 0 ? x : 0.0; }
static double u_leaky(double x, const double *p) { return x > 0 ? x : p[0] * x; }
/* GELU: x * Phi(x), Phi the standard normal CDF. */
static double u_gelu(double x, const double *p) { (void)p; return 0.5 * x * erfc(-x / sqrt(2.0)); }
static double u_gelu_tanh(double x, const double *p) {
    (void)p;
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}
static double u_silu(double x, const double *p) { (void)p; return x / (1.0 + exp(-x)); }
/* PyTorch: log(1 + exp(beta x)) / beta, and x itself where beta x > threshold. */
static double u_softplus(double x, const double *p) { return p[0] * x > p[1] ? x : log1p(exp(p[0] * x)) / p[0]; }
static double u_clamp(double x, const double *p) {
    if (!isnan(p[0]) && x < p[0]) x = p[0];
    if (!isnan(p[1]) && x > p[1]) x = p[1];
    return x;
}
static double u_lnot(double x, const double *p) { (void)p; return x == 0; }

static int64_t ui_neg(int64_t x, const double *p) { (void)p; return (int64_t)(0 - (uint64_t)x); }
static int64_t ui_abs(int64_t x, const double *p) { (void)p; return x < 0 ? (int64_t)(0 - (uint64_t)x) : x; }
static int64_t ui_sign(int64_t x, const double *p) { (void)p; return (x > 0) - (x < 0); }
static int64_t ui_relu(int64_t x, const double *p) { (void)p; return x > 0 ? x : 0; }
static int64_t ui_clamp(int64_t x, const double *p) {
    if (!isnan(p[0]) && (double)x < p[0]) return (int64_t)p[0];
    if (!isnan(p[1]) && (double)x > p[1]) return (int64_t)p[1];
    return x;
}
static int64_t ui_lnot(int64_t x, const double *p) { (void)p; return x == 0; }

typedef struct {
    zf_op op;
    unsigned dtypes;
    h_kind kind;
    double (*f)(double, const double *);
    int64_t (*fi)(int64_t, const double *);
    bool pred;
    double p[2]; /* parameters (slope; beta, threshold; min, max) */
} un_op;

#define NO_P {0, 0}
static const un_op k_un[] = {
    {ZF_OP_NEG, H_FLOATS | H_SINTS, H_V_SIGNED, u_neg, ui_neg, false, NO_P},
    {ZF_OP_ABS, H_FLOATS | H_INTS, H_V_SIGNED, u_abs, ui_abs, false, NO_P},
    {ZF_OP_SIGN, H_FLOATS | H_INTS, H_V_SIGNED, u_sign, ui_sign, false, NO_P},
    {ZF_OP_EXP, H_FLOATS, H_V_SIGNED, u_exp, NULL, false, NO_P},
    {ZF_OP_LOG, H_FLOATS, H_V_POS, u_log, NULL, false, NO_P},
    {ZF_OP_LOG1P, H_FLOATS, H_V_LOG1P, u_log1p, NULL, false, NO_P},
    {ZF_OP_ERF, H_FLOATS, H_V_SIGNED, u_erf, NULL, false, NO_P},
    {ZF_OP_SQRT, H_FLOATS, H_V_POS, u_sqrt, NULL, false, NO_P},
    {ZF_OP_RSQRT, H_FLOATS, H_V_POS, u_rsqrt, NULL, false, NO_P},
    {ZF_OP_SIN, H_FLOATS, H_V_SIGNED, u_sin, NULL, false, NO_P},
    {ZF_OP_COS, H_FLOATS, H_V_SIGNED, u_cos, NULL, false, NO_P},
    {ZF_OP_TANH, H_FLOATS, H_V_SIGNED, u_tanh, NULL, false, NO_P},
    {ZF_OP_SIGMOID, H_FLOATS, H_V_SIGNED, u_sigmoid, NULL, false, NO_P},
    {ZF_OP_RELU, H_FLOATS | H_INTS, H_V_SIGNED, u_relu, ui_relu, false, NO_P},
    {ZF_OP_LEAKY_RELU, H_FLOATS, H_V_SIGNED, u_leaky, NULL, false, {0.1, 0}},
    {ZF_OP_GELU, H_FLOATS, H_V_SIGNED, u_gelu, NULL, false, NO_P},
    {ZF_OP_GELU_TANH, H_FLOATS, H_V_SIGNED, u_gelu_tanh, NULL, false, NO_P},
    {ZF_OP_SILU, H_FLOATS, H_V_SIGNED, u_silu, NULL, false, NO_P},
    {ZF_OP_SOFTPLUS, H_FLOATS, H_V_SIGNED, u_softplus, NULL, false, {1.0, 20.0}},
    {ZF_OP_SOFTPLUS, H_FLOATS, H_V_SIGNED, u_softplus, NULL, false, {2.0, 1.0}}, /* both branches */
    {ZF_OP_CLAMP, H_FLOATS | H_INTS, H_V_SIGNED, u_clamp, ui_clamp, false, {-0.5, 0.8}},
    {ZF_OP_CLAMP, H_FLOATS, H_V_SIGNED, u_clamp, ui_clamp, false, {NAN, 0.5}}, /* one-sided */
    {ZF_OP_LOGICAL_NOT, H_ALL, H_V_BOOLISH, u_lnot, ui_lnot, true, NO_P},
};
#define N_UN (sizeof k_un / sizeof k_un[0])

/* Clamp bounds for integer dtypes (integral, so the result is exact). */
static const double k_int_clamp[2] = {-3, 4};

static const double *un_params(const h_case *c) {
    const un_op *u = &k_un[c->i[0]];
    return u->op == ZF_OP_CLAMP && !h_is_float(c->dtype) ? k_int_clamp : u->p;
}

static int run_unary(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    const un_op *u = &k_un[c->i[0]];
    const double *p = un_params(c);
    zf_tensor *a = in[0];
    switch (u->op) {
    case ZF_OP_NEG: return h_one(out, zf_neg(ctx, a));
    case ZF_OP_ABS: return h_one(out, zf_abs(ctx, a));
    case ZF_OP_SIGN: return h_one(out, zf_sign(ctx, a));
    case ZF_OP_EXP: return h_one(out, zf_exp(ctx, a));
    case ZF_OP_LOG: return h_one(out, zf_log(ctx, a));
    case ZF_OP_LOG1P: return h_one(out, zf_log1p(ctx, a));
    case ZF_OP_ERF: return h_one(out, zf_erf(ctx, a));
    case ZF_OP_SQRT: return h_one(out, zf_sqrt(ctx, a));
    case ZF_OP_RSQRT: return h_one(out, zf_rsqrt(ctx, a));
    case ZF_OP_SIN: return h_one(out, zf_sin(ctx, a));
    case ZF_OP_COS: return h_one(out, zf_cos(ctx, a));
    case ZF_OP_TANH: return h_one(out, zf_tanh(ctx, a));
    case ZF_OP_SIGMOID: return h_one(out, zf_sigmoid(ctx, a));
    case ZF_OP_RELU: return h_one(out, zf_relu(ctx, a));
    case ZF_OP_LEAKY_RELU: return h_one(out, zf_leaky_relu(ctx, a, p[0]));
    case ZF_OP_GELU: return h_one(out, zf_gelu(ctx, a, false));
    case ZF_OP_GELU_TANH: return h_one(out, zf_gelu(ctx, a, true));
    case ZF_OP_SILU: return h_one(out, zf_silu(ctx, a));
    case ZF_OP_SOFTPLUS: return h_one(out, zf_softplus(ctx, a, p[0], p[1]));
    case ZF_OP_CLAMP: return h_one(out, zf_clamp(ctx, a, p[0], p[1]));
    case ZF_OP_LOGICAL_NOT: return h_one(out, zf_logical_not(ctx, a));
    default: return 0;
    }
}

static void ref_unary(const h_case *c, const h_arr *in, h_arr *out) {
    const un_op *u = &k_un[c->i[0]];
    const double *p = un_params(c);
    const h_arr *a = &in[0];
    h_arr_alloc(out, u->pred ? ZF_BOOL : c->dtype, a->ndim, a->shape);
    for (int64_t i = 0; i < a->n; i++) {
        if (a->iv)
            h_arr_set_int(out, i, u->fi(a->iv[i], p));
        else
            h_arr_set(out, i, u->f(a->v[i], p));
    }
}

/* ---- where ---- */
static int run_where(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    (void)c;
    return h_one(out, zf_where(ctx, in[0], in[1], in[2]));
}

static void ref_where(const h_case *c, const h_arr *in, h_arr *out) {
    int n1, nd;
    int64_t s1[ZF_MAX_DIMS], sh[ZF_MAX_DIMS], idx[ZF_MAX_DIMS];
    h_broadcast(in[1].ndim, in[1].shape, in[2].ndim, in[2].shape, &n1, s1);
    h_broadcast(in[0].ndim, in[0].shape, n1, s1, &nd, sh);
    h_arr_alloc(out, c->dtype, nd, sh);
    for (int64_t i = 0; i < out->n; i++) {
        h_unravel(i, nd, sh, idx);
        const h_arr *src = in[0].iv[h_bcast_index(&in[0], nd, idx)] ? &in[1] : &in[2];
        int64_t k = h_bcast_index(src, nd, idx);
        if (src->iv)
            h_arr_set_int(out, i, src->iv[k]);
        else
            h_arr_set(out, i, src->v[k]);
    }
}

/* ---- shapes ---- */
#define C H_L_CONTIG
#define T H_L_TRANS
#define S H_L_STRIDED

typedef struct {
    int na;
    int64_t sa[3];
    h_layout la;
    int nb;
    int64_t sb[3];
    h_layout lb;
    bool large;
} bin_shape;

static const bin_shape k_bin_shapes[] = {
    {2, {4, 5}, C, 2, {4, 5}, C, false},
    {3, {3, 1, 5}, C, 2, {4, 1}, C, false},   /* both sides broadcast: [3,4,5] */
    {2, {4, 5}, T, 2, {4, 5}, S, false},      /* transposed op strided */
    {3, {2, 3, 4}, S, 1, {4}, C, false},      /* strided op broadcast row */
    {0, {0}, C, 0, {0}, C, false},            /* 0-dim */
    {0, {0}, C, 2, {2, 3}, T, false},         /* scalar op transposed */
    {2, {300, 400}, C, 1, {400}, C, true},    /* 120k: multi-threaded */
    {2, {400, 300}, T, 2, {400, 300}, C, true},
};

typedef struct {
    int n;
    int64_t s[3];
    h_layout l;
    bool large;
} un_shape;

static const un_shape k_un_shapes[] = {
    {2, {4, 5}, C, false}, {2, {5, 4}, T, false},     {3, {2, 3, 4}, S, false},
    {0, {0}, C, false},    {2, {300, 400}, C, true},   {2, {400, 300}, T, true},
};

static void add_binary_cases(h_suite *s) {
    for (size_t bi = 0; bi < N_BIN; bi++) {
        const bin_op *b = &k_bin[bi];
        for (int t = 0; t <= ZF_BOOL; t++) {
            if (!(b->dtypes & H_DT(t))) continue;
            for (size_t si = 0; si < sizeof k_bin_shapes / sizeof k_bin_shapes[0]; si++) {
                const bin_shape *sh = &k_bin_shapes[si];
                if (sh->large && !h_large_dtype((zf_dtype)t)) continue;
                h_case c = {0};
                c.op = c.trace_op = b->op;
                c.dtype = (zf_dtype)t;
                c.n_in = 2;
                c.in[0] = h_in(c.dtype, sh->na, sh->sa, b->ka, sh->la);
                c.in[1] = h_in(c.dtype, sh->nb, sh->sb, b->kb, sh->lb);
                c.run = run_binary;
                c.ref = ref_binary;
                c.i[0] = (int64_t)bi;
                c.flags = sh->large ? H_LARGE : 0;
                h_label(&c, zf_op_name(b->op));
                h_add(s, &c);
            }
            /* with-scalar frontends (scalar of a's dtype) */
            if (b->op == ZF_OP_ADD || b->op == ZF_OP_MUL || b->op == ZF_OP_POW) {
                static const int64_t sh[2] = {3, 4};
                bool fl = h_is_float((zf_dtype)t);
                double scalars[2] = {fl ? -1.25 : (t == ZF_U8 ? 3 : -3), b->op == ZF_OP_POW ? 3 : 2};
                for (int k = 0; k < 2; k++) {
                    h_case c = {0};
                    c.op = c.trace_op = b->op;
                    c.dtype = (zf_dtype)t;
                    c.n_in = 1;
                    /* pow with an integer exponent also takes negative bases */
                    c.in[0] = h_in(c.dtype, 2, sh, b->op == ZF_OP_POW && k == 0 ? H_V_POS : H_V_SIGNED,
                                   k ? H_L_TRANS : H_L_CONTIG);
                    c.run = run_binary;
                    c.ref = ref_binary;
                    c.i[0] = (int64_t)bi;
                    c.i[1] = 1;
                    c.f[0] = scalars[k];
                    char what[48];
                    snprintf(what, sizeof what, "%s_scalar(%g)", zf_op_name(b->op), scalars[k]);
                    h_label(&c, what);
                    h_add(s, &c);
                }
            }
        }
    }
}

static void add_unary_cases(h_suite *s) {
    for (size_t ui = 0; ui < N_UN; ui++) {
        const un_op *u = &k_un[ui];
        for (int t = 0; t <= ZF_BOOL; t++) {
            if (!(u->dtypes & H_DT(t))) continue;
            for (size_t si = 0; si < sizeof k_un_shapes / sizeof k_un_shapes[0]; si++) {
                const un_shape *sh = &k_un_shapes[si];
                if (sh->large && !h_large_dtype((zf_dtype)t)) continue;
                h_case c = {0};
                c.op = c.trace_op = u->op;
                c.dtype = (zf_dtype)t;
                c.n_in = 1;
                c.in[0] = h_in(c.dtype, sh->n, sh->s, u->kind, sh->l);
                c.run = run_unary;
                c.ref = ref_unary;
                c.i[0] = (int64_t)ui;
                c.flags = sh->large ? H_LARGE : 0;
                char what[64];
                if (u->p[0] != 0 || u->p[1] != 0)
                    snprintf(what, sizeof what, "%s(%g,%g)", zf_op_name(u->op), un_params(&c)[0], un_params(&c)[1]);
                else
                    snprintf(what, sizeof what, "%s", zf_op_name(u->op));
                h_label(&c, what);
                h_add(s, &c);
            }
        }
    }
}

static void add_where_cases(h_suite *s) {
    static const struct {
        int n[3];
        int64_t sh[3][3];
        h_layout l[3];
        bool large;
    } shapes[] = {
        {{3, 2, 1}, {{3, 1, 5}, {4, 1}, {5}}, {C, C, C}, false}, /* all three broadcast: [3,4,5] */
        {{2, 2, 2}, {{4, 5}, {4, 5}, {4, 5}}, {S, T, S}, false},
        {{0, 0, 0}, {{0}, {0}, {0}}, {C, C, C}, false},
        {{0, 2, 2}, {{0}, {2, 3}, {2, 3}}, {C, T, C}, false},
        {{2, 2, 1}, {{300, 400}, {300, 400}, {400}}, {C, C, C}, true},
    };
    for (int t = 0; t <= ZF_BOOL; t++) {
        for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
            if (shapes[si].large && !h_large_dtype((zf_dtype)t)) continue;
            h_case c = {0};
            c.op = c.trace_op = ZF_OP_WHERE;
            c.dtype = (zf_dtype)t;
            c.n_in = 3;
            c.in[0] = h_in(ZF_BOOL, shapes[si].n[0], shapes[si].sh[0], H_V_SIGNED, shapes[si].l[0]);
            for (int k = 1; k < 3; k++) c.in[k] = h_in(c.dtype, shapes[si].n[k], shapes[si].sh[k], H_V_SIGNED, shapes[si].l[k]);
            c.run = run_where;
            c.ref = ref_where;
            c.flags = shapes[si].large ? H_LARGE : 0;
            h_label(&c, "where");
            h_add(s, &c);
        }
    }
}

/* ---- gradient checks (f64 finite differences) ---- */
static void add_grad_cases(h_suite *s) {
    static const int64_t a3[3] = {3, 1, 4}, b2[2] = {2, 1}, m23[2] = {2, 3}, v3[1] = {3};
    for (size_t bi = 0; bi < N_BIN; bi++) {
        const bin_op *b = &k_bin[bi];
        if (b->pred) continue; /* comparisons/logical: bool outputs, no gradient */
        h_kind ka = b->ka == H_V_DISCRETE ? H_V_SIGNED : b->ka; /* no ties for max/min */
        h_kind kb = b->kb == H_V_DISCRETE ? H_V_SIGNED : b->kb;
        for (int k = 0; k < 2; k++) { /* broadcast [3,1,4] x [2,1], and equal shapes */
            h_case c = {0};
            c.op = b->op;
            c.dtype = ZF_F64;
            c.n_in = 2;
            c.in[0] = k ? h_in(ZF_F64, 2, m23, ka, C) : h_in(ZF_F64, 3, a3, ka, C);
            c.in[1] = k ? h_in(ZF_F64, 2, m23, kb, C) : h_in(ZF_F64, 2, b2, kb, C);
            c.run = run_binary;
            c.i[0] = (int64_t)bi;
            c.flags = H_GRAD;
            h_label(&c, "grad");
            h_add(s, &c);
        }
        if (b->op == ZF_OP_ADD || b->op == ZF_OP_MUL || b->op == ZF_OP_POW) {
            h_case c = {0};
            c.op = b->op;
            c.dtype = ZF_F64;
            c.n_in = 1;
            c.in[0] = h_in(ZF_F64, 2, m23, b->op == ZF_OP_POW ? H_V_POS : H_V_SIGNED, C);
            c.run = run_binary;
            c.i[0] = (int64_t)bi;
            c.i[1] = 1;
            c.f[0] = b->op == ZF_OP_POW ? 2.5 : -1.25;
            c.flags = H_GRAD;
            h_label(&c, "grad scalar");
            h_add(s, &c);
        }
    }
    for (size_t ui = 0; ui < N_UN; ui++) {
        const un_op *u = &k_un[ui];
        if (u->pred) continue;
        for (int k = 0; k < 2; k++) { /* [2,3] and 0-dim */
            h_case c = {0};
            c.op = u->op;
            c.dtype = ZF_F64;
            c.n_in = 1;
            c.in[0] = h_in(ZF_F64, k ? 0 : 2, m23, u->kind, C);
            c.run = run_unary;
            c.i[0] = (int64_t)ui;
            c.flags = H_GRAD;
            h_label(&c, "grad");
            h_add(s, &c);
        }
    }
    h_case c = {0};
    c.op = ZF_OP_WHERE;
    c.dtype = ZF_F64;
    c.n_in = 3;
    c.in[0] = h_in(ZF_BOOL, 2, m23, H_V_SIGNED, C);
    c.in[0].nograd = true;
    c.in[1] = h_in(ZF_F64, 2, m23, H_V_SIGNED, C);
    c.in[2] = h_in(ZF_F64, 1, v3, H_V_SIGNED, C); /* broadcast: gradient summed back */
    c.run = run_where;
    c.flags = H_GRAD;
    h_label(&c, "grad");
    h_add(s, &c);
}

void h_cases_elementwise(h_suite *s) {
    add_binary_cases(s);
    add_unary_cases(s);
    add_where_cases(s);
    add_grad_cases(s);
}
