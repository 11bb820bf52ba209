/* Frontends of the LLM inference ops: qmatmul, rms_norm, rope, attention,
 * glu (semantics in include/zerfoo/ops.h). Each checks its arguments, makes the
 * inputs the kernel needs contiguous, allocates the output and dispatches.
 *
 * Kernel contracts (what the frontends guarantee):
 *   QMATMUL   in[0] x: f32 or f64 contiguous [..., K]; in[1] w: [N, K]
 *             contiguous weight dtype; out [..., N] contiguous of x's dtype.
 *   RMS_NORM  in[0] x contiguous float [..., D]; in[1] (optional) w
 *             contiguous [D] of x's dtype; f[0] eps, f[1] weight offset.
 *   ROPE      in[0] x contiguous float [..., T, H, D]; in[1] pos contiguous
 *             i32/i64 with numel T or numel(x)/(H*D); in[2] (optional)
 *             f32 contiguous frequency factors [n_rot/2]; i[0] mode, i[1] n_rot
 *             (resolved, even, <= D), i[2] inverse (rotate by -theta, the
 *             backward), i[3] ggml numerics, f[0] freq_base, f[1] freq_scale.
 *   ATTENTION in q f32 contiguous [B, T, Hq, D] (B may be absent: 3 dims);
 *             k, v f32/f16 [B, S, Hkv, D] with unit stride on D; mask
 *             (optional) f32 contiguous [T, S] or [B, T, S]; f[0] scale
 *             (resolved), f[1] softcap, i[0] window, i[1] q_pos0, i[2] causal,
 *             i[3] numerics (ggml: k, v f16, softcap 0), i[4] k_pos0, i[5]
 *             k_rot (ring rows; always 0 with the default numerics: the
 *             frontend rotates k and v into key order).
 *   GLU       in[0] gate, in[1] up: f32 contiguous, same shape; out likewise;
 *             i[0] act (0 silu, 1 gelu tanh), i[1] numerics. */
#include <math.h>

#include "ops/ops_internal.h"
#include "zerfoo/quant.h"

static bool non_null(zf_ctx *ctx, int n, zf_tensor *const *in, const char *op) {
    if (!ctx) {
        zf_set_error(ZF_ERR_INVALID_ARG, "%s: NULL context", op);
        return false;
    }
    for (int i = 0; i < n; i++) {
        if (!in[i]) {
            if (zf_last_status() == ZF_OK) zf_set_error(ZF_ERR_INVALID_ARG, "%s: input %d is NULL", op, i);
            return false;
        }
    }
    return true;
}

static bool float_input(const zf_tensor *t, const char *what, const char *op) {
    if (zf_dtype_is_float(t->dtype)) return true;
    zf_set_error(ZF_ERR_DTYPE, "%s: %s must be a float tensor, got %s", op, what, zf_dtype_name(t->dtype));
    return false;
}

/* ---- qmatmul ---- */

static bool qmatmul_weight_dtype(zf_dtype t) {
    return t == ZF_F32 || t == ZF_F16 || t == ZF_BF16 || (zf_dtype_is_quant(t) && zf_quant_supported(t));
}

zf_tensor *zf_qmatmul(zf_ctx *ctx, zf_tensor *x, zf_tensor *w) {
    zf_tensor *in[2] = {x, w};
    if (!non_null(ctx, 2, in, "qmatmul")) return NULL;
    if (!qmatmul_weight_dtype(w->dtype)) {
        zf_set_error(ZF_ERR_DTYPE, "qmatmul: weight dtype %s is not supported (f32, f16, bf16, q4_0 ... q6_k)",
                     zf_dtype_name(w->dtype));
        return NULL;
    }
    if (w->ndim != 2 || !zf_is_contiguous(w)) {
        zf_set_error(ZF_ERR_SHAPE, "qmatmul: weight must be a contiguous [N, K] matrix");
        return NULL;
    }
    if (w->requires_grad && zf_is_grad_enabled()) {
        zf_set_error(ZF_ERR_INVALID_ARG, "qmatmul: the weight is frozen (no gradient); use zf_matmul to train it");
        return NULL;
    }
    if (!float_input(x, "x", "qmatmul")) return NULL;
    if (x->ndim < 1) {
        zf_set_error(ZF_ERR_SHAPE, "qmatmul: x must have at least 1 dim");
        return NULL;
    }
    int64_t N = w->shape[0], K = w->shape[1];
    if (x->shape[x->ndim - 1] != K) {
        zf_set_error(ZF_ERR_SHAPE, "qmatmul: x has %lld features, the weight %lld", (long long)x->shape[x->ndim - 1],
                     (long long)K);
        return NULL;
    }
    if (K % zf_dtype_block(w->dtype) != 0) {
        zf_set_error(ZF_ERR_SHAPE, "qmatmul: K = %lld is not a multiple of the %s block size %lld", (long long)K,
                     zf_dtype_name(w->dtype), (long long)zf_dtype_block(w->dtype));
        return NULL;
    }
    zf_dtype ct = x->dtype == ZF_F64 ? ZF_F64 : ZF_F32;
    zf_tensor *xf = x->dtype == ct ? x : zf_cast(ctx, x, ct);
    xf = xf ? zf_contiguous(ctx, xf) : NULL;
    if (!xf) return NULL;
    int64_t shape[ZF_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) shape[i] = x->shape[i];
    shape[x->ndim - 1] = N;
    zf_tensor *ins[2] = {xf, w};
    zf_tensor *out = zf_new_tensor(ctx, ct, x->ndim, shape);
    if (out && K == 0) { /* empty sum */
        zf_op_params z = {.f = {0}};
        if (zf_numel(out) > 0 && zf_dispatch(ctx, ZF_OP_FILL, out, 0, NULL, &z) != ZF_OK) return NULL;
        bool failed = false;
        zf_record(ctx, ZF_OP_QMATMUL, out, 2, ins, NULL, &failed);
        return failed ? NULL : out;
    }
    return zf_ops_finish(ctx, ZF_OP_QMATMUL, out, 2, ins, NULL);
}

/* ---- rms_norm ---- */

zf_tensor *zf_rms_norm(zf_ctx *ctx, zf_tensor *x, zf_tensor *weight, double eps, double weight_offset) {
    zf_tensor *in[2] = {x, weight};
    int n_in = weight ? 2 : 1;
    if (!zf_ops_check(ctx, 1, in, "rms_norm")) return NULL;
    if (!float_input(x, "x", "rms_norm")) return NULL;
    if (x->ndim < 1) {
        zf_set_error(ZF_ERR_SHAPE, "rms_norm: x must have at least 1 dim");
        return NULL;
    }
    if (!(eps >= 0.0) || !isfinite(weight_offset)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "rms_norm: eps must be >= 0 and the weight offset finite");
        return NULL;
    }
    int64_t D = x->shape[x->ndim - 1];
    if (weight) {
        if (zf_dtype_is_quant(weight->dtype) || weight->dtype != x->dtype) {
            zf_set_error(ZF_ERR_DTYPE, "rms_norm: weight dtype %s differs from x's %s; cast it first",
                         zf_dtype_name(weight->dtype), zf_dtype_name(x->dtype));
            return NULL;
        }
        if (weight->ndim != 1 || weight->shape[0] != D) {
            zf_set_error(ZF_ERR_SHAPE, "rms_norm: weight must be [%lld]", (long long)D);
            return NULL;
        }
        in[1] = zf_contiguous(ctx, weight);
        if (!in[1]) return NULL;
    }
    in[0] = zf_contiguous(ctx, x);
    if (!in[0]) return NULL;
    zf_op_params p = {.f = {eps, weight_offset}};
    return zf_ops_finish(ctx, ZF_OP_RMS_NORM, zf_new_tensor(ctx, x->dtype, x->ndim, x->shape), n_in, in, &p);
}

/* ---- rope ---- */

zf_tensor *zf_rope(zf_ctx *ctx, zf_tensor *x, zf_tensor *pos, zf_rope_mode mode, int n_rot, double freq_base,
                   double freq_scale) {
    return zf_rope_ext(ctx, x, pos, NULL, mode, n_rot, freq_base, freq_scale);
}

static zf_tensor *rope_impl(zf_ctx *ctx, zf_tensor *x, zf_tensor *pos, zf_tensor *freq_factors, zf_rope_mode mode,
                            int n_rot, double freq_base, double freq_scale, bool ggml) {
    zf_tensor *in[3] = {x, pos, freq_factors};
    int n_in = freq_factors ? 3 : 2;
    if (!zf_ops_check(ctx, n_in, in, "rope")) return NULL;
    if (!float_input(x, "x", "rope")) return NULL;
    if (pos->dtype != ZF_I32 && pos->dtype != ZF_I64) {
        zf_set_error(ZF_ERR_DTYPE, "rope: positions must be i32 or i64, got %s", zf_dtype_name(pos->dtype));
        return NULL;
    }
    if (x->ndim < 3) {
        zf_set_error(ZF_ERR_SHAPE, "rope: x must be [..., T, H, D]");
        return NULL;
    }
    int64_t D = x->shape[x->ndim - 1], T = x->shape[x->ndim - 3];
    bool pos_ok = pos->ndim == 1 && pos->shape[0] == T;
    if (!pos_ok && pos->ndim == x->ndim - 2) {
        pos_ok = true;
        for (int i = 0; i < pos->ndim; i++) pos_ok &= pos->shape[i] == x->shape[i];
    }
    if (!pos_ok) {
        zf_set_error(ZF_ERR_SHAPE, "rope: positions must be [T] (T = %lld) or x's shape without [H, D]", (long long)T);
        return NULL;
    }
    if (mode != ZF_ROPE_NORMAL && mode != ZF_ROPE_NEOX) {
        zf_set_error(ZF_ERR_INVALID_ARG, "rope: unknown mode %d", (int)mode);
        return NULL;
    }
    if (n_rot == 0) n_rot = (int)D;
    if (n_rot < 0 || n_rot % 2 != 0 || n_rot > D) {
        zf_set_error(ZF_ERR_INVALID_ARG, "rope: n_rot = %d must be even and at most the head dim %lld", n_rot,
                     (long long)D);
        return NULL;
    }
    if (!(freq_base > 0.0) || !isfinite(freq_base) || !(freq_scale > 0.0) || !isfinite(freq_scale)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "rope: freq_base and freq_scale must be positive and finite");
        return NULL;
    }
    if (freq_factors) {
        if (!float_input(freq_factors, "freq_factors", "rope")) return NULL;
        if (freq_factors->ndim != 1 || freq_factors->shape[0] != n_rot / 2) {
            zf_set_error(ZF_ERR_SHAPE, "rope: freq_factors must be [n_rot/2] = [%d]", n_rot / 2);
            return NULL;
        }
        if (freq_factors->requires_grad && zf_is_grad_enabled()) {
            zf_set_error(ZF_ERR_INVALID_ARG, "rope: freq_factors get no gradient; detach them");
            return NULL;
        }
        in[2] = zf_contiguous(ctx, freq_factors->dtype == ZF_F32 ? freq_factors : zf_cast(ctx, freq_factors, ZF_F32));
        if (!in[2]) return NULL;
    }
    in[0] = zf_contiguous(ctx, x);
    in[1] = in[0] ? zf_contiguous(ctx, pos) : NULL;
    if (!in[1]) return NULL;
    zf_op_params p = {.f = {freq_base, freq_scale}, .i = {mode, n_rot, 0, ggml}};
    return zf_ops_finish(ctx, ZF_OP_ROPE, zf_new_tensor(ctx, x->dtype, x->ndim, x->shape), n_in, in, &p);
}

zf_tensor *zf_rope_ext(zf_ctx *ctx, zf_tensor *x, zf_tensor *pos, zf_tensor *freq_factors, zf_rope_mode mode,
                       int n_rot, double freq_base, double freq_scale) {
    return rope_impl(ctx, x, pos, freq_factors, mode, n_rot, freq_base, freq_scale, false);
}

zf_tensor *zf_rope_ggml(zf_ctx *ctx, zf_tensor *x, zf_tensor *pos, zf_tensor *freq_factors, zf_rope_mode mode,
                        int n_rot, double freq_base, double freq_scale) {
    return rope_impl(ctx, x, pos, freq_factors, mode, n_rot, freq_base, freq_scale, true);
}

/* ---- attention ---- */

zf_tensor *zf_attention(zf_ctx *ctx, zf_tensor *q, zf_tensor *k, zf_tensor *v, zf_tensor *mask,
                        const zf_attn_params *p) {
    zf_tensor *in[4] = {q, k, v, mask};
    int n_in = mask ? 4 : 3;
    if (!zf_ops_check(ctx, 3, in, "attention")) return NULL;
    if (!p) {
        zf_set_error(ZF_ERR_INVALID_ARG, "attention: NULL params");
        return NULL;
    }
    if (zf_any_requires_grad(n_in, in)) {
        zf_set_error(ZF_ERR_UNSUPPORTED, "attention: not differentiable; build it from matmul and softmax to train");
        return NULL;
    }
    if (q->dtype != ZF_F32 || (k->dtype != ZF_F32 && k->dtype != ZF_F16) || v->dtype != k->dtype) {
        zf_set_error(ZF_ERR_DTYPE, "attention: q must be f32 and k, v both f32 or both f16 (got %s, %s, %s)",
                     zf_dtype_name(q->dtype), zf_dtype_name(k->dtype), zf_dtype_name(v->dtype));
        return NULL;
    }
    int nd = q->ndim;
    if ((nd != 3 && nd != 4) || k->ndim != nd || v->ndim != nd) {
        zf_set_error(ZF_ERR_SHAPE, "attention: q, k, v must all be [T|S, H, D] or all [B, T|S, H, D]");
        return NULL;
    }
    int o = nd - 3; /* 1 when batched */
    int64_t B = o ? q->shape[0] : 1, T = q->shape[o], Hq = q->shape[o + 1], D = q->shape[o + 2];
    int64_t S = k->shape[o], Hkv = k->shape[o + 1];
    bool ok = k->shape[o + 2] == D && v->shape[o + 2] == D && v->shape[o] == S && v->shape[o + 1] == Hkv &&
              (!o || (k->shape[0] == B && v->shape[0] == B));
    if (!ok || Hkv == 0 || Hq % Hkv != 0) {
        zf_set_error(ZF_ERR_SHAPE, "attention: k and v must be [%s S, Hkv, %lld] with Hkv dividing Hq = %lld",
                     o ? "B," : "", (long long)D, (long long)Hq);
        return NULL;
    }
    if ((D > 1 && (k->stride[nd - 1] != 1 || v->stride[nd - 1] != 1))) {
        k = in[1] = zf_contiguous(ctx, k);
        v = in[2] = k ? zf_contiguous(ctx, v) : NULL;
        if (!v) return NULL;
    }
    if (mask) {
        bool mok = mask->dtype == ZF_F32 &&
                   ((mask->ndim == 2 && mask->shape[0] == T && mask->shape[1] == S) ||
                    (mask->ndim == 3 && mask->shape[0] == B && mask->shape[1] == T && mask->shape[2] == S));
        if (!mok) {
            zf_set_error(ZF_ERR_SHAPE, "attention: mask must be f32 [T, S] or [B, T, S]");
            return NULL;
        }
        in[3] = zf_contiguous(ctx, mask);
        if (!in[3]) return NULL;
    }
    if (p->window < 0 || p->q_pos0 < 0 || p->k_pos0 < 0 || !(p->softcap >= 0.0) || !isfinite(p->scale)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "attention: window, q_pos0, k_pos0 and softcap must be >= 0, scale finite");
        return NULL;
    }
    if (p->k_rot < 0 || (p->k_rot > 0 && p->k_rot >= S)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "attention: k_rot must be in [0, S) (got %lld, S = %lld)",
                     (long long)p->k_rot, (long long)S);
        return NULL;
    }
    if (p->numerics != ZF_NUMERICS_DEFAULT && p->numerics != ZF_NUMERICS_GGML) {
        zf_set_error(ZF_ERR_INVALID_ARG, "attention: unknown numerics %d", (int)p->numerics);
        return NULL;
    }
    if (p->numerics == ZF_NUMERICS_GGML && (k->dtype != ZF_F16 || p->softcap != 0.0)) {
        zf_set_error(ZF_ERR_UNSUPPORTED, "attention: ggml numerics need f16 k and v and no softcap");
        return NULL;
    }
    int64_t rot = p->k_rot;
    if (rot > 0 && p->numerics != ZF_NUMERICS_GGML) { /* rows in key order: a copy */
        zf_tensor *kr = zf_cat(ctx, 2, (zf_tensor *[]){zf_narrow(ctx, k, o, rot, S - rot), zf_narrow(ctx, k, o, 0, rot)}, o);
        zf_tensor *vr = zf_cat(ctx, 2, (zf_tensor *[]){zf_narrow(ctx, v, o, rot, S - rot), zf_narrow(ctx, v, o, 0, rot)}, o);
        if (!kr || !vr) return NULL;
        in[1] = kr, in[2] = vr, rot = 0;
    }
    in[0] = zf_contiguous(ctx, q);
    if (!in[0]) return NULL;
    double scale = p->scale != 0.0 ? p->scale : (D > 0 ? 1.0 / sqrt((double)D) : 1.0);
    zf_op_params kp = {.f = {scale, p->softcap},
                       .i = {p->window, p->q_pos0, p->causal ? 1 : 0, p->numerics, p->k_pos0, rot}};
    return zf_ops_finish(ctx, ZF_OP_ATTENTION, zf_new_tensor(ctx, ZF_F32, nd, q->shape), n_in, in, &kp);
}

/* ---- glu ---- */

zf_tensor *zf_glu(zf_ctx *ctx, zf_tensor *gate, zf_tensor *up, zf_glu_act act, zf_numerics numerics) {
    zf_tensor *in[2] = {gate, up};
    if (!zf_ops_check(ctx, 2, in, "glu")) return NULL;
    if (act != ZF_GLU_SILU && act != ZF_GLU_GELU_TANH) {
        zf_set_error(ZF_ERR_INVALID_ARG, "glu: unknown activation %d", (int)act);
        return NULL;
    }
    if (numerics != ZF_NUMERICS_DEFAULT && numerics != ZF_NUMERICS_GGML) {
        zf_set_error(ZF_ERR_INVALID_ARG, "glu: unknown numerics %d", (int)numerics);
        return NULL;
    }
    if (gate->dtype != ZF_F32 || up->dtype != ZF_F32) {
        zf_set_error(ZF_ERR_DTYPE, "glu: gate and up must be f32 (got %s, %s)", zf_dtype_name(gate->dtype),
                     zf_dtype_name(up->dtype));
        return NULL;
    }
    bool same = gate->ndim == up->ndim;
    for (int i = 0; same && i < gate->ndim; i++) same = gate->shape[i] == up->shape[i];
    if (!same) {
        zf_set_error(ZF_ERR_SHAPE, "glu: gate and up must have the same shape");
        return NULL;
    }
    if (zf_any_requires_grad(2, in)) {
        zf_set_error(ZF_ERR_UNSUPPORTED, "glu: not differentiable; build it from silu/gelu and mul to train");
        return NULL;
    }
    in[0] = zf_contiguous(ctx, gate);
    in[1] = in[0] ? zf_contiguous(ctx, up) : NULL;
    if (!in[1]) return NULL;
    zf_op_params p = {.i = {act, numerics}};
    return zf_ops_finish(ctx, ZF_OP_GLU, zf_new_tensor(ctx, ZF_F32, gate->ndim, gate->shape), 2, in, &p);
}
