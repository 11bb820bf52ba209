/* Parameter initializers (torch.nn.init's formulas). Values are drawn with
 * zf_rand / zf_randn (counter-based, keyed by rng->seed and a fresh stream
 * per call) into a scratch context, transformed there and copied into the
 * tensor, so the tensor's own context gets no temporaries. */
#include <math.h>

#include "core/internal.h"
#include "zerfoo/autograd.h"
#include "zerfoo/nn.h"

double zf_init_gain(zf_nonlinearity nl, double param) {
    switch (nl) {
    case ZF_NL_TANH: return 5.0 / 3.0;
    case ZF_NL_RELU: return sqrt(2.0);
    case ZF_NL_LEAKY_RELU: return sqrt(2.0 / (1.0 + param * param));
    case ZF_NL_SELU: return 3.0 / 4.0;
    case ZF_NL_LINEAR:
    case ZF_NL_SIGMOID:
    default: return 1.0;
    }
}

zf_status zf_init_fans(const zf_tensor *t, int64_t *fan_in, int64_t *fan_out) {
    if (!t) return zf_set_error(ZF_ERR_INVALID_ARG, "init: NULL tensor");
    if (t->ndim < 2)
        return zf_set_error(ZF_ERR_SHAPE, "init: fan in/out need a tensor with at least 2 dims, got %d", t->ndim);
    int64_t field = 1;
    for (int d = 2; d < t->ndim; d++) field *= t->shape[d];
    if (fan_in) *fan_in = t->shape[1] * field;
    if (fan_out) *fan_out = t->shape[0] * field;
    return ZF_OK;
}

static zf_status check_target(const zf_tensor *t) {
    if (!t) return zf_set_error(ZF_ERR_INVALID_ARG, "init: NULL tensor");
    if (!zf_dtype_is_float(t->dtype))
        return zf_set_error(ZF_ERR_DTYPE, "init: needs a float tensor, got %s", zf_dtype_name(t->dtype));
    return ZF_OK;
}

/* t = draw * scale + shift, draw uniform [0,1) or standard normal. */
static zf_status fill_random(zf_tensor *t, bool normal, double scale, double shift, zf_init_rng *rng) {
    zf_status st = check_target(t);
    if (st) return st;
    if (!rng) return zf_set_error(ZF_ERR_INVALID_ARG, "init: NULL rng");
    uint64_t stream = rng->stream++;
    if (zf_numel(t) == 0) return ZF_OK;
    zf_ctx *tmp = zf_ctx_new(zf_ctx_engine(t->ctx));
    if (!tmp) return zf_last_status();
    bool prev = zf_set_grad_enabled(false);
    zf_dtype dt = t->dtype == ZF_F64 ? ZF_F64 : ZF_F32;
    zf_tensor *r = normal ? zf_randn(tmp, dt, t->ndim, t->shape, rng->seed, stream)
                          : zf_rand(tmp, dt, t->ndim, t->shape, rng->seed, stream);
    zf_tensor *v = zf_add_scalar(tmp, zf_mul_scalar(tmp, r, scale), shift);
    st = v ? zf_copy_(t, v) : zf_last_status();
    zf_set_grad_enabled(prev);
    zf_ctx_free(tmp);
    return st;
}

zf_status zf_init_constant(zf_tensor *t, double value) {
    zf_status st = check_target(t);
    if (st) return st;
    if (zf_numel(t) == 0) return ZF_OK;
    zf_op_params p = {.f = {value}};
    if (zf_is_contiguous(t)) return zf_dispatch(t->ctx, ZF_OP_FILL, t, 0, NULL, &p);
    zf_ctx *tmp = zf_ctx_new(zf_ctx_engine(t->ctx));
    if (!tmp) return zf_last_status();
    zf_tensor *s = zf_scalar(tmp, t->dtype, value);
    st = s ? zf_copy_(t, s) : zf_last_status();
    zf_ctx_free(tmp);
    return st;
}

zf_status zf_init_zeros(zf_tensor *t) { return zf_init_constant(t, 0.0); }

zf_status zf_init_uniform(zf_tensor *t, double a, double b, zf_init_rng *rng) {
    if (!(a <= b)) return zf_set_error(ZF_ERR_INVALID_ARG, "init_uniform: need a <= b, got [%g, %g)", a, b);
    return fill_random(t, false, b - a, a, rng);
}

zf_status zf_init_normal(zf_tensor *t, double mean, double std, zf_init_rng *rng) {
    if (!(std >= 0)) return zf_set_error(ZF_ERR_INVALID_ARG, "init_normal: std must be >= 0, got %g", std);
    return fill_random(t, true, std, mean, rng);
}

zf_status zf_init_xavier_uniform(zf_tensor *t, double gain, zf_init_rng *rng) {
    int64_t fi, fo;
    zf_status st = zf_init_fans(t, &fi, &fo);
    if (st) return st;
    double a = gain * sqrt(6.0 / (double)(fi + fo > 0 ? fi + fo : 1));
    return zf_init_uniform(t, -a, a, rng);
}

zf_status zf_init_xavier_normal(zf_tensor *t, double gain, zf_init_rng *rng) {
    int64_t fi, fo;
    zf_status st = zf_init_fans(t, &fi, &fo);
    if (st) return st;
    return zf_init_normal(t, 0.0, gain * sqrt(2.0 / (double)(fi + fo > 0 ? fi + fo : 1)), rng);
}

static zf_status kaiming_std(const zf_tensor *t, double a, zf_fan_mode mode, zf_nonlinearity nl, double *std) {
    int64_t fi, fo;
    zf_status st = zf_init_fans(t, &fi, &fo);
    if (st) return st;
    int64_t fan = mode == ZF_FAN_OUT ? fo : fi;
    if (fan < 1) return zf_set_error(ZF_ERR_SHAPE, "init_kaiming: tensor has a zero fan");
    *std = zf_init_gain(nl, a) / sqrt((double)fan);
    return ZF_OK;
}

zf_status zf_init_kaiming_uniform(zf_tensor *t, double a, zf_fan_mode mode, zf_nonlinearity nl, zf_init_rng *rng) {
    double std;
    zf_status st = kaiming_std(t, a, mode, nl, &std);
    if (st) return st;
    double bound = sqrt(3.0) * std;
    return zf_init_uniform(t, -bound, bound, rng);
}

zf_status zf_init_kaiming_normal(zf_tensor *t, double a, zf_fan_mode mode, zf_nonlinearity nl, zf_init_rng *rng) {
    double std;
    zf_status st = kaiming_std(t, a, mode, nl, &std);
    if (st) return st;
    return zf_init_normal(t, 0.0, std, rng);
}
