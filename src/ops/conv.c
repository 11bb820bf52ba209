/* Frontends of the convolution ops: zf_conv2d (ZF_OP_CONV2D) and the
 * internal gradient ops CONV2D_GRAD_INPUT / CONV2D_GRAD_WEIGHT, and
 * zf_linear. They check arguments, make the operands contiguous, size the
 * kernel's workspace in the step arena (see engine/cpu/kernels_conv.c) and
 * dispatch. */
#include <string.h>

#include "ops/nn_ops_internal.h"
#include "ops/ops_internal.h"

/* Elements of dw partial sums kept at most (P * |w| <= this), so large
 * weights do not multiply memory; P depends on shapes only. */
#define WGRAD_PARTIAL_BUDGET (1 << 22)
#define WGRAD_MAX_PARTIALS 16

typedef struct {
    int64_t N, C, H, W, O, KH, KW, OH, OW, G;
} conv_shape;

static int engine_threads(zf_ctx *ctx) {
    zf_engine *e = zf_ctx_engine(ctx);
    return e ? zf_threadpool_size(e->pool) : 1;
}

/* Fills p.i[0..6] from the user's params with defaults; false + error. */
static bool conv_params(const zf_conv2d_params *up, zf_op_params *p) {
    memset(p, 0, sizeof *p);
    zf_conv2d_params d = {{1, 1}, {0, 0}, {1, 1}, 1};
    if (up) d = *up;
    for (int k = 0; k < 2; k++) {
        if (d.stride[k] == 0) d.stride[k] = 1;
        if (d.dilation[k] == 0) d.dilation[k] = 1;
        if (d.stride[k] < 1 || d.dilation[k] < 1 || d.padding[k] < 0) {
            zf_set_error(ZF_ERR_INVALID_ARG, "conv2d: stride and dilation must be >= 1 and padding >= 0");
            return false;
        }
    }
    if (d.groups == 0) d.groups = 1;
    if (d.groups < 1) {
        zf_set_error(ZF_ERR_INVALID_ARG, "conv2d: groups must be >= 1, got %lld", (long long)d.groups);
        return false;
    }
    int64_t v[7] = {d.stride[0], d.stride[1], d.padding[0], d.padding[1], d.dilation[0], d.dilation[1], d.groups};
    memcpy(p->i, v, sizeof v);
    return true;
}

/* Output extent of one spatial dim, or -1 when the input is too small. */
static int64_t out_extent(int64_t in, int64_t k, int64_t s, int64_t pad, int64_t dil) {
    int64_t span = in + 2 * pad - dil * (k - 1) - 1;
    return span < 0 ? -1 : span / s + 1;
}

/* Sets p.i[7] (workspace slices and dw partials) and returns the
 * workspace tensor. */
static zf_tensor *workspace(zf_ctx *ctx, zf_dtype dt, const conv_shape *s, zf_op_params *p, bool wgrad) {
    int64_t S = engine_threads(ctx);
    if (S > s->N) S = s->N;
    if (S < 1) S = 1;
    int64_t Cg = s->C / s->G, CKK = Cg * s->KH * s->KW, L = s->OH * s->OW;
    bool direct = s->KH == 1 && s->KW == 1 && p->i[0] == 1 && p->i[1] == 1 && p->i[2] == 0 && p->i[3] == 0;
    int64_t P = 0, wn = s->O * CKK;
    if (wgrad) {
        P = WGRAD_MAX_PARTIALS;
        while (P > 1 && P * wn > WGRAD_PARTIAL_BUDGET) P /= 2;
        if (P > s->N) P = s->N;
        if (P < 1) P = 1;
    }
    p->i[7] = S | (P << 32);
    int64_t n = S * (direct ? 0 : CKK * L) + P * wn;
    return zf_new_tensor(ctx, dt, 1, (int64_t[]){n > 0 ? n : 1});
}

zf_tensor *zf_conv2d(zf_ctx *ctx, zf_tensor *x, zf_tensor *w, zf_tensor *b, const zf_conv2d_params *up) {
    zf_tensor *chk[2] = {x, w};
    if (!zf_ops_check(ctx, 2, chk, "conv2d")) return NULL;
    if (x->ndim == 3) { /* unbatched [C, H, W] */
        zf_tensor *y = zf_conv2d(ctx, zf_unsqueeze(ctx, x, 0), w, b, up);
        return y ? zf_squeeze(ctx, y, 0) : NULL;
    }
    char xs[64], ws[64];
    if (x->ndim != 4 || w->ndim != 4) {
        zf_set_error(ZF_ERR_SHAPE, "conv2d: expects x [N, C, H, W] and w [O, C/groups, KH, KW], got x %s and w %s",
                     zf_shape_str(x, xs, sizeof xs), zf_shape_str(w, ws, sizeof ws));
        return NULL;
    }
    if (x->dtype != w->dtype || (b && b->dtype != x->dtype)) {
        zf_set_error(ZF_ERR_DTYPE, "conv2d: input, weight and bias dtypes differ");
        return NULL;
    }
    if (x->dtype != ZF_F32 && x->dtype != ZF_F64) {
        zf_set_error(ZF_ERR_DTYPE, "conv2d: supports f32 and f64, got %s", zf_dtype_name(x->dtype));
        return NULL;
    }
    zf_op_params p;
    if (!conv_params(up, &p)) return NULL;
    conv_shape s = {x->shape[0], x->shape[1], x->shape[2], x->shape[3], w->shape[0], w->shape[2], w->shape[3],
                    0, 0, p.i[6]};
    if (s.C != w->shape[1] * s.G || s.O % s.G != 0) {
        zf_set_error(ZF_ERR_SHAPE, "conv2d: x %s and w %s do not fit groups=%lld (need C = w.shape[1] * groups, O "
                     "divisible by groups)", zf_shape_str(x, xs, sizeof xs), zf_shape_str(w, ws, sizeof ws),
                     (long long)s.G);
        return NULL;
    }
    if (b && (b->ndim != 1 || b->shape[0] != s.O)) {
        zf_set_error(ZF_ERR_SHAPE, "conv2d: bias must be [%lld], got %s", (long long)s.O,
                     zf_shape_str(b, xs, sizeof xs));
        return NULL;
    }
    s.OH = out_extent(s.H, s.KH, p.i[0], p.i[2], p.i[4]);
    s.OW = out_extent(s.W, s.KW, p.i[1], p.i[3], p.i[5]);
    if (s.OH < 1 || s.OW < 1) {
        zf_set_error(ZF_ERR_SHAPE, "conv2d: input %s is smaller than the (dilated) kernel %lldx%lld after padding",
                     zf_shape_str(x, xs, sizeof xs), (long long)s.KH, (long long)s.KW);
        return NULL;
    }
    zf_tensor *xc = zf_contiguous(ctx, x), *wc = zf_contiguous(ctx, w), *bc = b ? zf_contiguous(ctx, b) : NULL;
    zf_tensor *wsp = workspace(ctx, x->dtype, &s, &p, false);
    if (!xc || !wc || !wsp || (b && !bc)) return NULL;
    zf_tensor *in[4] = {xc, wc, wsp, bc};
    int64_t oshape[4] = {s.N, s.O, s.OH, s.OW};
    return zf_ops_finish(ctx, ZF_OP_CONV2D, zf_new_tensor(ctx, x->dtype, 4, oshape), b ? 4 : 3, in, &p);
}

static conv_shape shape_of(const int64_t *xs, const int64_t *wsh, const int64_t *ys, const zf_op_params *p) {
    conv_shape s = {xs[0], xs[1], xs[2], xs[3], wsh[0], wsh[2], wsh[3], ys[2], ys[3], p->i[6]};
    return s;
}

zf_tensor *zf_conv2d_grad_input(zf_ctx *ctx, zf_tensor *gy, zf_tensor *w, const int64_t *x_shape,
                                const zf_op_params *p0) {
    zf_tensor *chk[2] = {gy, w};
    if (!zf_ops_check(ctx, 2, chk, "conv2d_grad_input")) return NULL;
    zf_op_params p = *p0;
    conv_shape s = shape_of(x_shape, w->shape, gy->shape, &p);
    zf_tensor *gyc = zf_contiguous(ctx, gy), *wc = zf_contiguous(ctx, w);
    zf_tensor *wsp = workspace(ctx, gy->dtype, &s, &p, false);
    if (!gyc || !wc || !wsp) return NULL;
    zf_tensor *in[3] = {gyc, wc, wsp};
    return zf_ops_finish(ctx, ZF_OP_CONV2D_GRAD_INPUT, zf_new_tensor(ctx, gy->dtype, 4, x_shape), 3, in, &p);
}

zf_tensor *zf_conv2d_grad_weight(zf_ctx *ctx, zf_tensor *x, zf_tensor *gy, const int64_t *w_shape,
                                 const zf_op_params *p0) {
    zf_tensor *chk[2] = {x, gy};
    if (!zf_ops_check(ctx, 2, chk, "conv2d_grad_weight")) return NULL;
    zf_op_params p = *p0;
    conv_shape s = shape_of(x->shape, w_shape, gy->shape, &p);
    zf_tensor *xc = zf_contiguous(ctx, x), *gyc = zf_contiguous(ctx, gy);
    zf_tensor *wsp = workspace(ctx, x->dtype, &s, &p, true);
    if (!xc || !gyc || !wsp) return NULL;
    zf_tensor *in[3] = {xc, gyc, wsp};
    return zf_ops_finish(ctx, ZF_OP_CONV2D_GRAD_WEIGHT, zf_new_tensor(ctx, x->dtype, 4, w_shape), 3, in, &p);
}

zf_tensor *zf_linear(zf_ctx *ctx, zf_tensor *x, zf_tensor *w, zf_tensor *b) {
    zf_tensor *chk[2] = {x, w};
    if (!zf_ops_check(ctx, 2, chk, "linear")) return NULL;
    char xs[64], ws[64];
    if (w->ndim != 2 || x->ndim < 1 || x->shape[x->ndim - 1] != w->shape[1]) {
        zf_set_error(ZF_ERR_SHAPE, "linear: x %s does not fit weight %s (x [..., in], w [out, in])",
                     zf_shape_str(x, xs, sizeof xs), zf_shape_str(w, ws, sizeof ws));
        return NULL;
    }
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0])) {
        zf_set_error(ZF_ERR_SHAPE, "linear: bias must be [%lld], got %s", (long long)w->shape[0],
                     zf_shape_str(b, xs, sizeof xs));
        return NULL;
    }
    zf_tensor *y = zf_matmul(ctx, x, zf_transpose(ctx, w, 0, 1));
    return b ? zf_add(ctx, y, b) : y;
}
