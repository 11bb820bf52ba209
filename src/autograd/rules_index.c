/* Backward rules of the joining and indexing ops. Index inputs (integer)
 * never get a gradient. The node's p.i[0] is the (normalized) dim, or the
 * diagonal for tril/triu. */
#include "autograd/autograd_internal.h"

/* Evaluates expr into gin[i] only when input i wants a gradient. */
#define GRAD(i, expr)                                   \
    do {                                                \
        if (zf_wants_grad(n, i)) {                      \
            gin[i] = (expr);                            \
            if (!gin[i]) return zf_last_status();       \
        }                                               \
    } while (0)

/* t given like's shape. Callers pass a t whose sizes are <= like's in every
 * dim (a 0-dim tensor counting as [1]): equal counts only differ by that
 * 0-dim/[1] case and are reshaped; smaller ones are written into the leading
 * corner of zeros. */
static zf_tensor *fit_to(zf_ctx *ctx, zf_tensor *t, const zf_tensor *like) {
    if (!t || zf_same_shape(t, like)) return t;
    if (zf_numel(t) == zf_numel(like)) return zf_reshape(ctx, t, like->ndim, like->shape);
    zf_tensor *z = zf_zeros(ctx, t->dtype, like->ndim, like->shape);
    zf_tensor *v = z;
    for (int k = 0; v && k < t->ndim; k++) v = zf_narrow(ctx, v, k, 0, t->shape[k]);
    if (!v || zf_copy_(v, t) != ZF_OK) return NULL;
    return z;
}

/* cat: input i gets its slice of g along dim. An input of shape [0] that cat
 * skipped (its ndim differs from the output's) gets an empty gradient. */
static zf_status bw_cat(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    int d = (int)n->p.i[0];
    int64_t off = 0;
    for (int i = 0; i < n->n_in; i++) {
        const zf_tensor *in = n->in[i];
        if (in->ndim != g->ndim) {
            GRAD(i, zf_zeros(ctx, g->dtype, in->ndim, in->shape));
            continue;
        }
        GRAD(i, zf_narrow(ctx, g, d, off, in->shape[d]));
        off += in->shape[d];
    }
    return ZF_OK;
}

/* gather: every picked entry sends its gradient back to where it came from. */
static zf_status bw_gather(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    const zf_tensor *a = n->in[0];
    int d = (int)n->p.i[0];
    GRAD(0, zf_scatter_add(ctx, zf_zeros(ctx, g->dtype, a->ndim, a->shape), d, n->in[1], g));
    return ZF_OK;
}

/* scatter_add: self passes g through; src[i] reads g where it was added.
 * src may be larger than index (only the index-shaped corner was used). */
static zf_status bw_scatter_add(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    int d = (int)n->p.i[0];
    GRAD(0, g);
    GRAD(2, fit_to(ctx, zf_gather(ctx, g, d, n->in[1]), n->in[2]));
    return ZF_OK;
}

/* index_select: the gradient rows go back to the selected positions. */
static zf_status bw_index_select(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    const zf_tensor *a = n->in[0];
    int d = (int)n->p.i[0];
    GRAD(0, zf_index_add(ctx, zf_zeros(ctx, g->dtype, a->ndim, a->shape), d, n->in[1], g));
    return ZF_OK;
}

/* index_add: self passes g through; src reads the rows it was added to. */
static zf_status bw_index_add(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    int d = (int)n->p.i[0];
    GRAD(0, g);
    GRAD(2, fit_to(ctx, zf_index_select(ctx, g, d, n->in[1]), n->in[2]));
    return ZF_OK;
}

/* embedding: weight [V, D] gets g's rows [K, D] (K = numel(ids)) added at ids. */
static zf_status bw_embedding(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    const zf_tensor *w = n->in[0];
    zf_tensor *ids = n->in[1];
    if (!zf_wants_grad(n, 0)) return ZF_OK;
    int64_t k = zf_numel(ids);
    zf_tensor *rows = zf_reshape(ctx, g, 2, (int64_t[]){k, w->shape[1]});
    zf_tensor *flat = zf_reshape(ctx, ids, 1, (int64_t[]){k});
    GRAD(0, zf_index_add(ctx, zf_zeros(ctx, g->dtype, w->ndim, w->shape), 0, flat, rows));
    return ZF_OK;
}

static zf_status bw_tril(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_tril(ctx, g, n->p.i[0]));
    return ZF_OK;
}
static zf_status bw_triu(zf_ctx *ctx, const zf_node *n, zf_tensor *g, zf_tensor **gin) {
    GRAD(0, zf_triu(ctx, g, n->p.i[0]));
    return ZF_OK;
}

void zf_register_rules_index(zf_backward_fn *t) {
    t[ZF_OP_CAT] = bw_cat;
    t[ZF_OP_GATHER] = bw_gather;
    t[ZF_OP_SCATTER_ADD] = bw_scatter_add;
    t[ZF_OP_INDEX_SELECT] = bw_index_select;
    t[ZF_OP_INDEX_ADD] = bw_index_add;
    t[ZF_OP_EMBEDDING] = bw_embedding;
    t[ZF_OP_TRIL] = bw_tril;
    t[ZF_OP_TRIU] = bw_triu;
}
