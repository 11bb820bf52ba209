/* Backward rules of the view ops. */
#include "autograd/autograd_internal.h"

static zf_status bw_reshape(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    gin[0] = zf_reshape(ctx, g, n->in[0]->ndim, n->in[0]->shape);
    return gin[0] ? ZF_OK : zf_last_status();
}

static zf_status bw_permute(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    int inv[ZF_MAX_DIMS];
    for (int i = 0; i < n->shape_ndim; i++) inv[n->shape_arg[i]] = i;
    gin[0] = zf_permute(ctx, g, inv);
    return gin[0] ? ZF_OK : zf_last_status();
}

/* Gradient of a slice: zeros of the input's shape with g written into the
 * same slice. */
static zf_status bw_slice(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    const zf_tensor *in = n->in[0];
    zf_tensor *z = zf_zeros(ctx, g->dtype, in->ndim, in->shape);
    if (!z) return zf_last_status();
    int dim = (int)n->p.i[0];
    int64_t start = n->p.i[1], step = n->p.i[2];
    zf_tensor *v = zf_slice(ctx, z, dim, start, start + step * g->shape[dim], step);
    if (!v) return zf_last_status();
    zf_status s = zf_copy_(v, g);
    if (s) return s;
    gin[0] = z;
    return ZF_OK;
}

static zf_status bw_expand(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    gin[0] = zf_sum_to_shape(ctx, g, n->in[0]->ndim, n->in[0]->shape);
    return gin[0] ? ZF_OK : zf_last_status();
}

void zf_register_rules_views(zf_backward_fn *t) {
    t[ZF_OP_RESHAPE] = bw_reshape;
    t[ZF_OP_PERMUTE] = bw_permute;
    t[ZF_OP_SLICE] = bw_slice;
    t[ZF_OP_EXPAND] = bw_expand;
}
