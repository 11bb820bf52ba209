/* Frontends of the elementwise ops: checks, broadcast shape, output
 * allocation, dispatch, autograd recording. */
#include <math.h>

#include "ops/ops_internal.h"

static bool is_predicate(zf_op op) {
    return (op >= ZF_OP_EQ && op <= ZF_OP_LOGICAL_OR) || op == ZF_OP_LOGICAL_NOT;
}

static zf_tensor *binary(zf_ctx *ctx, zf_op op, zf_tensor *a, zf_tensor *b) {
    zf_tensor *in[2] = {a, b};
    const char *name = zf_op_name(op);
    if (!zf_ops_check(ctx, 2, in, name)) return NULL;
    if (a->dtype != b->dtype) {
        zf_set_error(ZF_ERR_DTYPE, "%s: dtypes differ (%s vs %s); cast one first", name, zf_dtype_name(a->dtype),
                     zf_dtype_name(b->dtype));
        return NULL;
    }
    int nd;
    int64_t shape[ZF_MAX_DIMS];
    if (!zf_broadcast_shapes(a->ndim, a->shape, b->ndim, b->shape, &nd, shape, name)) return NULL;
    zf_dtype odt = is_predicate(op) ? ZF_BOOL : a->dtype;
    return zf_ops_finish(ctx, op, zf_new_tensor(ctx, odt, nd, shape), 2, in, NULL);
}

zf_tensor *zf_add(zf_ctx *ctx, zf_tensor *a, zf_tensor *b) { return binary(ctx, ZF_OP_ADD, a, b); }
zf_tensor *zf_sub(zf_ctx *ctx, zf_tensor *a, zf_tensor *b) { return binary(ctx, ZF_OP_SUB, a, b); }
zf_tensor *zf_mul(zf_ctx *ctx, zf_tensor *a, zf_tensor *b) { return binary(ctx, ZF_OP_MUL, a, b); }
zf_tensor *zf_div(zf_ctx *ctx, zf_tensor *a, zf_tensor *b) { return binary(ctx, ZF_OP_DIV, a, b); }
zf_tensor *zf_pow(zf_ctx *ctx, zf_tensor *a, zf_tensor *b) { return binary(ctx, ZF_OP_POW, a, b); }
zf_tensor *zf_maximum(zf_ctx *ctx, zf_tensor *a, zf_tensor *b) { return binary(ctx, ZF_OP_MAXIMUM, a, b); }
zf_tensor *zf_minimum(zf_ctx *ctx, zf_tensor *a, zf_tensor *b) { return binary(ctx, ZF_OP_MINIMUM, a, b); }
zf_tensor *zf_eq(zf_ctx *ctx, zf_tensor *a, zf_tensor *b) { return binary(ctx, ZF_OP_EQ, a, b); }
zf_tensor *zf_ne(zf_ctx *ctx, zf_tensor *a, zf_tensor *b) { return binary(ctx, ZF_OP_NE, a, b); }
zf_tensor *zf_lt(zf_ctx *ctx, zf_tensor *a, zf_tensor *b) { return binary(ctx, ZF_OP_LT, a, b); }
zf_tensor *zf_le(zf_ctx *ctx, zf_tensor *a, zf_tensor *b) { return binary(ctx, ZF_OP_LE, a, b); }
zf_tensor *zf_gt(zf_ctx *ctx, zf_tensor *a, zf_tensor *b) { return binary(ctx, ZF_OP_GT, a, b); }
zf_tensor *zf_ge(zf_ctx *ctx, zf_tensor *a, zf_tensor *b) { return binary(ctx, ZF_OP_GE, a, b); }
zf_tensor *zf_logical_and(zf_ctx *ctx, zf_tensor *a, zf_tensor *b) { return binary(ctx, ZF_OP_LOGICAL_AND, a, b); }
zf_tensor *zf_logical_or(zf_ctx *ctx, zf_tensor *a, zf_tensor *b) { return binary(ctx, ZF_OP_LOGICAL_OR, a, b); }

static zf_tensor *with_scalar(zf_ctx *ctx, zf_op op, zf_tensor *a, double s) {
    zf_tensor *in[1] = {a};
    if (!zf_ops_check(ctx, 1, in, zf_op_name(op))) return NULL;
    return binary(ctx, op, a, zf_scalar(ctx, a->dtype, s));
}
zf_tensor *zf_add_scalar(zf_ctx *ctx, zf_tensor *a, double s) { return with_scalar(ctx, ZF_OP_ADD, a, s); }
zf_tensor *zf_mul_scalar(zf_ctx *ctx, zf_tensor *a, double s) { return with_scalar(ctx, ZF_OP_MUL, a, s); }
zf_tensor *zf_pow_scalar(zf_ctx *ctx, zf_tensor *a, double s) { return with_scalar(ctx, ZF_OP_POW, a, s); }

static zf_tensor *unary_p(zf_ctx *ctx, zf_op op, zf_tensor *a, const zf_op_params *p) {
    zf_tensor *in[1] = {a};
    if (!zf_ops_check(ctx, 1, in, zf_op_name(op))) return NULL;
    zf_dtype odt = is_predicate(op) ? ZF_BOOL : a->dtype;
    return zf_ops_finish(ctx, op, zf_new_tensor(ctx, odt, a->ndim, a->shape), 1, in, p);
}
static zf_tensor *unary(zf_ctx *ctx, zf_op op, zf_tensor *a) { return unary_p(ctx, op, a, NULL); }

zf_tensor *zf_neg(zf_ctx *ctx, zf_tensor *a) { return unary(ctx, ZF_OP_NEG, a); }
zf_tensor *zf_abs(zf_ctx *ctx, zf_tensor *a) { return unary(ctx, ZF_OP_ABS, a); }
zf_tensor *zf_sign(zf_ctx *ctx, zf_tensor *a) { return unary(ctx, ZF_OP_SIGN, a); }
zf_tensor *zf_exp(zf_ctx *ctx, zf_tensor *a) { return unary(ctx, ZF_OP_EXP, a); }
zf_tensor *zf_log(zf_ctx *ctx, zf_tensor *a) { return unary(ctx, ZF_OP_LOG, a); }
zf_tensor *zf_log1p(zf_ctx *ctx, zf_tensor *a) { return unary(ctx, ZF_OP_LOG1P, a); }
zf_tensor *zf_erf(zf_ctx *ctx, zf_tensor *a) { return unary(ctx, ZF_OP_ERF, a); }
zf_tensor *zf_sqrt(zf_ctx *ctx, zf_tensor *a) { return unary(ctx, ZF_OP_SQRT, a); }
zf_tensor *zf_rsqrt(zf_ctx *ctx, zf_tensor *a) { return unary(ctx, ZF_OP_RSQRT, a); }
zf_tensor *zf_sin(zf_ctx *ctx, zf_tensor *a) { return unary(ctx, ZF_OP_SIN, a); }
zf_tensor *zf_cos(zf_ctx *ctx, zf_tensor *a) { return unary(ctx, ZF_OP_COS, a); }
zf_tensor *zf_tanh(zf_ctx *ctx, zf_tensor *a) { return unary(ctx, ZF_OP_TANH, a); }
zf_tensor *zf_sigmoid(zf_ctx *ctx, zf_tensor *a) { return unary(ctx, ZF_OP_SIGMOID, a); }
zf_tensor *zf_relu(zf_ctx *ctx, zf_tensor *a) { return unary(ctx, ZF_OP_RELU, a); }
zf_tensor *zf_silu(zf_ctx *ctx, zf_tensor *a) { return unary(ctx, ZF_OP_SILU, a); }
zf_tensor *zf_logical_not(zf_ctx *ctx, zf_tensor *a) { return unary(ctx, ZF_OP_LOGICAL_NOT, a); }

zf_tensor *zf_leaky_relu(zf_ctx *ctx, zf_tensor *a, double negative_slope) {
    zf_op_params p = {.f = {negative_slope}};
    return unary_p(ctx, ZF_OP_LEAKY_RELU, a, &p);
}
zf_tensor *zf_gelu(zf_ctx *ctx, zf_tensor *a, bool approximate) {
    return unary(ctx, approximate ? ZF_OP_GELU_TANH : ZF_OP_GELU, a);
}
zf_tensor *zf_softplus(zf_ctx *ctx, zf_tensor *a, double beta, double threshold) {
    if (!(beta != 0) || isnan(threshold)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "softplus: beta must be nonzero and threshold a number");
        return NULL;
    }
    zf_op_params p = {.f = {beta, threshold}};
    return unary_p(ctx, ZF_OP_SOFTPLUS, a, &p);
}
zf_tensor *zf_clamp(zf_ctx *ctx, zf_tensor *a, double min, double max) {
    if (!isnan(min) && !isnan(max) && min > max) {
        zf_set_error(ZF_ERR_INVALID_ARG, "clamp: min %g is greater than max %g", min, max);
        return NULL;
    }
    zf_op_params p = {.f = {min, max}};
    return unary_p(ctx, ZF_OP_CLAMP, a, &p);
}

zf_tensor *zf_where(zf_ctx *ctx, zf_tensor *cond, zf_tensor *a, zf_tensor *b) {
    zf_tensor *in[3] = {cond, a, b};
    if (!zf_ops_check(ctx, 3, in, "where")) return NULL;
    if (cond->dtype != ZF_BOOL) {
        zf_set_error(ZF_ERR_DTYPE, "where: condition must be bool, got %s", zf_dtype_name(cond->dtype));
        return NULL;
    }
    if (a->dtype != b->dtype) {
        zf_set_error(ZF_ERR_DTYPE, "where: dtypes differ (%s vs %s)", zf_dtype_name(a->dtype),
                     zf_dtype_name(b->dtype));
        return NULL;
    }
    int n1, n2;
    int64_t s1[ZF_MAX_DIMS], s2[ZF_MAX_DIMS];
    if (!zf_broadcast_shapes(a->ndim, a->shape, b->ndim, b->shape, &n1, s1, "where")) return NULL;
    if (!zf_broadcast_shapes(cond->ndim, cond->shape, n1, s1, &n2, s2, "where")) return NULL;
    return zf_ops_finish(ctx, ZF_OP_WHERE, zf_new_tensor(ctx, a->dtype, n2, s2), 3, in, NULL);
}
