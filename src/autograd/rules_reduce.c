/* Backward rules of the reductions and softmax. The node's output has
 * keepdim shape (the frontend reshapes after), so gout broadcasts against the
 * input directly. */
#include <math.h>

#include "autograd/autograd_internal.h"

/* dims of the p.i[0] bitmask */
static int mask_dims(const zf_node *n, int *dims) {
    int k = 0;
    for (int d = 0; d < n->in[0]->ndim; d++)
        if ((n->p.i[0] >> d) & 1) dims[k++] = d;
    return k;
}

static int64_t reduced_count(const zf_node *n) {
    int64_t r = 1;
    for (int d = 0; d < n->in[0]->ndim; d++)
        if ((n->p.i[0] >> d) & 1) r *= n->in[0]->shape[d];
    return r;
}

#define A (n->in[0])
#define OUT (n->out)
#define S(v) zf_scalar(ctx, A->dtype, (v))
#define EXPAND(t) zf_expand(ctx, (t), A->ndim, A->shape)
#define SET(expr)                                          \
    do {                                                   \
        gin[0] = (expr);                                   \
        return gin[0] ? ZF_OK : zf_last_status();          \
    } while (0)

static zf_status bw_sum(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    SET(zf_contiguous(ctx, EXPAND(g)));
}
static zf_status bw_mean(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    SET(zf_mul(ctx, EXPAND(g), S(1.0 / (double)reduced_count(n))));
}
/* The gradient is shared evenly among the elements equal to the extreme. */
static zf_status bw_extreme(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    int dims[ZF_MAX_DIMS], nd = mask_dims(n, dims);
    zf_tensor *hit = zf_cast(ctx, zf_eq(ctx, A, OUT), A->dtype);
    zf_tensor *cnt = zf_sum(ctx, hit, nd, dims, true);
    SET(zf_mul(ctx, hit, zf_div(ctx, g, cnt)));
}
/* d prod / d a_i = product of the others; handles zeros exactly. */
static zf_status bw_prod(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    int dims[ZF_MAX_DIMS], nd = mask_dims(n, dims);
    zf_tensor *is0 = zf_eq(ctx, A, S(0.0));
    zf_tensor *zc = zf_sum(ctx, zf_cast(ctx, is0, A->dtype), nd, dims, true);
    zf_tensor *prod_nz = zf_prod(ctx, zf_where(ctx, is0, S(1.0), A), nd, dims, true);
    zf_tensor *at_zero = zf_where(ctx, zf_eq(ctx, zc, S(1.0)), prod_nz, S(0.0));
    zf_tensor *elsewhere = zf_where(ctx, zf_eq(ctx, zc, S(0.0)), zf_div(ctx, OUT, zf_where(ctx, is0, S(1.0), A)),
                                    S(0.0));
    SET(zf_mul(ctx, g, zf_where(ctx, is0, at_zero, elsewhere)));
}
static zf_status bw_var(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    int dims[ZF_MAX_DIMS], nd = mask_dims(n, dims);
    double dof = (double)reduced_count(n) - (double)n->p.i[2];
    zf_tensor *dev = zf_sub(ctx, A, zf_mean(ctx, A, nd, dims, true));
    SET(zf_mul(ctx, zf_mul(ctx, dev, S(2.0 / dof)), g));
}
static zf_status bw_logsumexp(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    SET(zf_mul(ctx, g, zf_exp(ctx, zf_sub(ctx, A, OUT))));
}
static zf_status bw_softmax(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    int dims[ZF_MAX_DIMS], nd = mask_dims(n, dims);
    zf_tensor *gy = zf_mul(ctx, g, OUT);
    SET(zf_sub(ctx, gy, zf_mul(ctx, OUT, zf_sum(ctx, gy, nd, dims, true))));
}
static zf_status bw_log_softmax(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    int dims[ZF_MAX_DIMS], nd = mask_dims(n, dims);
    SET(zf_sub(ctx, g, zf_mul(ctx, zf_exp(ctx, OUT), zf_sum(ctx, g, nd, dims, true))));
}

void zf_register_rules_reduce(zf_backward_fn *t) {
    t[ZF_OP_SUM] = bw_sum;
    t[ZF_OP_MEAN] = bw_mean;
    t[ZF_OP_MAX] = bw_extreme;
    t[ZF_OP_MIN] = bw_extreme;
    t[ZF_OP_PROD] = bw_prod;
    t[ZF_OP_VAR] = bw_var;
    t[ZF_OP_LOGSUMEXP] = bw_logsumexp;
    t[ZF_OP_SOFTMAX] = bw_softmax;
    t[ZF_OP_LOG_SOFTMAX] = bw_log_softmax;
}
