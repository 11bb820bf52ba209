/* matmul frontend: NumPy semantics for 1-d/2-d, broadcast batch dims.
 * a: [..., M, K], b: [..., K, N] -> [..., M, N]. The kernel gets both
 * operands expanded to the common batch shape, each with a gemm-friendly
 * layout in its last two dims (unit stride along one of them); other layouts
 * are copied first. f16/bf16 are computed in f32 and rounded once. */
#include "ops/ops_internal.h"

/* Unit stride along one of the last two dims (and sane leading stride)? */
static bool gemm_layout(const zf_tensor *t) {
    int64_t r = t->shape[t->ndim - 2], c = t->shape[t->ndim - 1];
    int64_t sr = t->stride[t->ndim - 2], sc = t->stride[t->ndim - 1];
    if (c == 1 || sc == 1) return r == 1 || sr >= (c > 1 ? c : 1);
    if (r == 1 || sr == 1) return sc >= (r > 1 ? r : 1);
    return false;
}

zf_tensor *zf_matmul(zf_ctx *ctx, zf_tensor *a, zf_tensor *b) {
    zf_tensor *in[2] = {a, b};
    if (!zf_ops_check(ctx, 2, in, "matmul")) return NULL;
    if (a->dtype != b->dtype) {
        zf_set_error(ZF_ERR_DTYPE, "matmul: dtypes differ (%s vs %s)", zf_dtype_name(a->dtype),
                     zf_dtype_name(b->dtype));
        return NULL;
    }
    if (a->ndim == 0 || b->ndim == 0) {
        zf_set_error(ZF_ERR_SHAPE, "matmul: inputs must have at least 1 dim");
        return NULL;
    }
    zf_dtype dt = a->dtype;
    if (dt == ZF_F16 || dt == ZF_BF16) {
        zf_tensor *r = zf_matmul(ctx, zf_cast(ctx, a, ZF_F32), zf_cast(ctx, b, ZF_F32));
        return r ? zf_cast(ctx, r, dt) : NULL;
    }
    if (dt != ZF_F32 && dt != ZF_F64) {
        zf_set_error(ZF_ERR_DTYPE, "matmul: supports f64, f32, f16 and bf16, got %s", zf_dtype_name(dt));
        return NULL;
    }
    /* 1-d operands: [K] -> [1, K] (a) or [K, 1] (b), squeezed again after. */
    bool sq_a = a->ndim == 1, sq_b = b->ndim == 1;
    zf_tensor *a2 = sq_a ? zf_unsqueeze(ctx, a, 0) : a;
    zf_tensor *b2 = sq_b ? zf_unsqueeze(ctx, b, 1) : b;
    if (!a2 || !b2) return NULL;
    int64_t M = a2->shape[a2->ndim - 2], K = a2->shape[a2->ndim - 1];
    int64_t K2 = b2->shape[b2->ndim - 2], N = b2->shape[b2->ndim - 1];
    if (K != K2) {
        zf_set_error(ZF_ERR_SHAPE, "matmul: inner dims differ (%lld vs %lld)", (long long)K, (long long)K2);
        return NULL;
    }
    int nb;
    int64_t batch[ZF_MAX_DIMS];
    if (!zf_broadcast_shapes(a2->ndim - 2, a2->shape, b2->ndim - 2, b2->shape, &nb, batch, "matmul")) return NULL;
    if (nb + 2 > ZF_MAX_DIMS) {
        zf_set_error(ZF_ERR_SHAPE, "matmul: too many dims");
        return NULL;
    }
    int64_t sa[ZF_MAX_DIMS], sb[ZF_MAX_DIMS], so[ZF_MAX_DIMS];
    for (int i = 0; i < nb; i++) sa[i] = sb[i] = so[i] = batch[i];
    sa[nb] = M, sa[nb + 1] = K;
    sb[nb] = K, sb[nb + 1] = N;
    so[nb] = M, so[nb + 1] = N;
    zf_tensor *ae = zf_expand(ctx, a2, nb + 2, sa);
    zf_tensor *be = zf_expand(ctx, b2, nb + 2, sb);
    if (!ae || !be) return NULL;
    if (!gemm_layout(ae)) ae = zf_contiguous(ctx, ae);
    if (!gemm_layout(be)) be = zf_contiguous(ctx, be);
    zf_tensor *ins[2] = {ae, be};
    zf_tensor *out = zf_ops_finish(ctx, ZF_OP_MATMUL, zf_new_tensor(ctx, dt, nb + 2, so), 2, ins, NULL);
    if (!out) return NULL;
    if (sq_b) out = zf_squeeze(ctx, out, -1);
    if (sq_a && out) out = zf_squeeze(ctx, out, sq_b ? -1 : -2);
    return out;
}
