/* Backward rules of the elementwise ops. Binary rules sum the gradient back
 * over broadcast dims (zf_grad_to_input). */
#include <math.h>

#include "autograd/autograd_internal.h"

#define SQRT_1_2 0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794
#define SQRT_2_PI 0.79788456080286535588

/* Evaluates expr into gin[i] only when input i wants a gradient. */
#define GRAD(i, expr)                                                   \
    do {                                                                \
        if (zf_wants_grad(n, i)) {                                      \
            gin[i] = zf_grad_to_input(ctx, n, i, (expr));               \
            if (!gin[i]) return zf_last_status();                       \
        }                                                               \
    } while (0)

#define A (n->in[0])
#define B (n->in[1])
#define OUT (n->out)
#define S(v) zf_scalar_like(ctx, A, (v))

static zf_status bw_add(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, g);
    GRAD(1, g);
    return ZF_OK;
}
static zf_status bw_sub(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, g);
    GRAD(1, zf_neg(ctx, g));
    return ZF_OK;
}
static zf_status bw_mul(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_mul(ctx, g, B));
    GRAD(1, zf_mul(ctx, g, A));
    return ZF_OK;
}
static zf_status bw_div(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_div(ctx, g, B));
    /* d(a/b)/db = -(a/b)/b */
    GRAD(1, zf_neg(ctx, zf_div(ctx, zf_mul(ctx, g, OUT), B)));
    return ZF_OK;
}
static zf_status bw_pow(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    /* d/da = b * a^(b-1); d/db = a^b * log(a), taken as 0 where a == 0 */
    GRAD(0, zf_mul(ctx, g, zf_mul(ctx, B, zf_pow(ctx, A, zf_sub(ctx, B, S(1.0))))));
    if (zf_wants_grad(n, 1)) {
        zf_tensor *lg = zf_where(ctx, zf_eq(ctx, A, S(0.0)), S(0.0), zf_log(ctx, A));
        GRAD(1, zf_mul(ctx, g, zf_mul(ctx, OUT, lg)));
    }
    return ZF_OK;
}
/* maximum/minimum: the gradient goes to the selected input, split evenly on ties. */
static zf_status bw_maxmin(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    zf_tensor *win = n->op == ZF_OP_MAXIMUM ? zf_gt(ctx, A, B) : zf_lt(ctx, A, B);
    zf_tensor *tie = zf_eq(ctx, A, B);
    zf_tensor *half = zf_mul(ctx, g, S(0.5));
    zf_tensor *zero = S(0.0);
    GRAD(0, zf_where(ctx, win, g, zf_where(ctx, tie, half, zero)));
    zf_tensor *lose = n->op == ZF_OP_MAXIMUM ? zf_lt(ctx, A, B) : zf_gt(ctx, A, B);
    GRAD(1, zf_where(ctx, lose, g, zf_where(ctx, tie, half, zero)));
    return ZF_OK;
}

static zf_status bw_neg(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_neg(ctx, g));
    return ZF_OK;
}
static zf_status bw_abs(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_mul(ctx, g, zf_sign(ctx, A)));
    return ZF_OK;
}
static zf_status bw_zero(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_mul(ctx, g, S(0.0)));
    return ZF_OK;
}
static zf_status bw_exp(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_mul(ctx, g, OUT));
    return ZF_OK;
}
static zf_status bw_log(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_div(ctx, g, A));
    return ZF_OK;
}
static zf_status bw_log1p(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_div(ctx, g, zf_add(ctx, A, S(1.0))));
    return ZF_OK;
}
static zf_status bw_erf(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    /* 2/sqrt(pi) * exp(-x^2) */
    zf_tensor *e = zf_exp(ctx, zf_neg(ctx, zf_mul(ctx, A, A)));
    GRAD(0, zf_mul(ctx, g, zf_mul(ctx, e, S(1.12837916709551257390))));
    return ZF_OK;
}
static zf_status bw_sqrt(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_div(ctx, zf_mul(ctx, g, S(0.5)), OUT));
    return ZF_OK;
}
static zf_status bw_rsqrt(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    /* d x^-1/2 = -1/2 x^-3/2 = -1/2 * out / x */
    GRAD(0, zf_mul(ctx, g, zf_div(ctx, zf_mul(ctx, OUT, S(-0.5)), A)));
    return ZF_OK;
}
static zf_status bw_sin(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_mul(ctx, g, zf_cos(ctx, A)));
    return ZF_OK;
}
static zf_status bw_cos(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_neg(ctx, zf_mul(ctx, g, zf_sin(ctx, A))));
    return ZF_OK;
}
static zf_status bw_tanh(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_mul(ctx, g, zf_sub(ctx, S(1.0), zf_mul(ctx, OUT, OUT))));
    return ZF_OK;
}
static zf_status bw_sigmoid(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_mul(ctx, g, zf_mul(ctx, OUT, zf_sub(ctx, S(1.0), OUT))));
    return ZF_OK;
}
static zf_status bw_relu(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_where(ctx, zf_gt(ctx, A, S(0.0)), g, S(0.0)));
    return ZF_OK;
}
static zf_status bw_leaky(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_where(ctx, zf_gt(ctx, A, S(0.0)), g, zf_mul(ctx, g, S(n->p.f[0]))));
    return ZF_OK;
}
static zf_status bw_gelu(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    /* Phi(x) + x * phi(x) */
    zf_tensor *cdf = zf_mul(ctx, zf_add(ctx, zf_erf(ctx, zf_mul(ctx, A, S(SQRT_1_2))), S(1.0)), S(0.5));
    zf_tensor *pdf = zf_mul(ctx, zf_exp(ctx, zf_mul(ctx, zf_mul(ctx, A, A), S(-0.5))), S(INV_SQRT_2PI));
    GRAD(0, zf_mul(ctx, g, zf_add(ctx, cdf, zf_mul(ctx, A, pdf))));
    return ZF_OK;
}
static zf_status bw_gelu_tanh(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    /* u = c (x + k x^3), t = tanh u: 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3k x^2) */
    const double c = SQRT_2_PI, k = 0.044715;
    zf_tensor *x2 = zf_mul(ctx, A, A);
    zf_tensor *u = zf_mul(ctx, zf_add(ctx, A, zf_mul(ctx, zf_mul(ctx, x2, A), S(k))), S(c));
    zf_tensor *t = zf_tanh(ctx, u);
    zf_tensor *left = zf_mul(ctx, zf_add(ctx, t, S(1.0)), S(0.5));
    zf_tensor *du = zf_mul(ctx, zf_add(ctx, zf_mul(ctx, x2, S(3 * k)), S(1.0)), S(c));
    zf_tensor *right = zf_mul(ctx, zf_mul(ctx, zf_mul(ctx, A, zf_sub(ctx, S(1.0), zf_mul(ctx, t, t))), du), S(0.5));
    GRAD(0, zf_mul(ctx, g, zf_add(ctx, left, right)));
    return ZF_OK;
}
static zf_status bw_silu(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    /* s (1 + x (1 - s)) */
    zf_tensor *s = zf_sigmoid(ctx, A);
    zf_tensor *d = zf_mul(ctx, s, zf_add(ctx, S(1.0), zf_mul(ctx, A, zf_sub(ctx, S(1.0), s))));
    GRAD(0, zf_mul(ctx, g, d));
    return ZF_OK;
}
static zf_status bw_softplus(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    double beta = n->p.f[0], thr = n->p.f[1];
    zf_tensor *bx = zf_mul(ctx, A, S(beta));
    zf_tensor *s = zf_sigmoid(ctx, bx);
    GRAD(0, zf_where(ctx, zf_gt(ctx, bx, S(thr)), g, zf_mul(ctx, g, s)));
    return ZF_OK;
}
static zf_status bw_clamp(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    double lo = isnan(n->p.f[0]) ? -INFINITY : n->p.f[0], hi = isnan(n->p.f[1]) ? INFINITY : n->p.f[1];
    zf_tensor *inside = zf_logical_and(ctx, zf_ge(ctx, A, S(lo)), zf_le(ctx, A, S(hi)));
    GRAD(0, zf_where(ctx, inside, g, S(0.0)));
    return ZF_OK;
}
static zf_status bw_where(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    zf_tensor *c = n->in[0], *z = zf_scalar(ctx, g->dtype, 0.0);
    GRAD(1, zf_where(ctx, c, g, z));
    GRAD(2, zf_where(ctx, c, z, g));
    return ZF_OK;
}
static zf_status bw_cast(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_cast(ctx, g, A->dtype));
    return ZF_OK;
}

void zf_register_rules_elementwise(zf_backward_fn *t) {
    t[ZF_OP_ADD] = bw_add;
    t[ZF_OP_SUB] = bw_sub;
    t[ZF_OP_MUL] = bw_mul;
    t[ZF_OP_DIV] = bw_div;
    t[ZF_OP_POW] = bw_pow;
    t[ZF_OP_MAXIMUM] = bw_maxmin;
    t[ZF_OP_MINIMUM] = bw_maxmin;
    t[ZF_OP_NEG] = bw_neg;
    t[ZF_OP_ABS] = bw_abs;
    t[ZF_OP_SIGN] = bw_zero;
    t[ZF_OP_EXP] = bw_exp;
    t[ZF_OP_LOG] = bw_log;
    t[ZF_OP_LOG1P] = bw_log1p;
    t[ZF_OP_ERF] = bw_erf;
    t[ZF_OP_SQRT] = bw_sqrt;
    t[ZF_OP_RSQRT] = bw_rsqrt;
    t[ZF_OP_SIN] = bw_sin;
    t[ZF_OP_COS] = bw_cos;
    t[ZF_OP_TANH] = bw_tanh;
    t[ZF_OP_SIGMOID] = bw_sigmoid;
    t[ZF_OP_RELU] = bw_relu;
    t[ZF_OP_LEAKY_RELU] = bw_leaky;
    t[ZF_OP_GELU] = bw_gelu;
    t[ZF_OP_GELU_TANH] = bw_gelu_tanh;
    t[ZF_OP_SILU] = bw_silu;
    t[ZF_OP_SOFTPLUS] = bw_softplus;
    t[ZF_OP_CLAMP] = bw_clamp;
    t[ZF_OP_WHERE] = bw_where;
    t[ZF_OP_CAST] = bw_cast;
}
