/* Frontends of the joining, splitting and indexing ops (PyTorch semantics).
 *
 * cat is composite: it copies each input into a narrow view of the output
 * (COPY kernel) and records one CAT node over all inputs. stack is unsqueeze
 * + cat; split and chunk return narrow views. The other ops check their
 * arguments here and leave the index values to the kernel, which checks every
 * value before it writes anything (ZF_ERR_INDEX naming the value).
 *
 * Index tensors are i64 or i32 and hold values in [0, size): negative indices
 * are errors, as in torch.gather / index_select / embedding. A 0-dim tensor
 * counts as 1-d of size 1 wherever PyTorch does so (gather, scatter_add,
 * index_select, index_add). */
#include <limits.h>

#include "ops/ops_internal.h"

static bool check_index_dtype(const zf_tensor *index, const char *op) {
    if (index->dtype == ZF_I64 || index->dtype == ZF_I32) return true;
    zf_set_error(ZF_ERR_DTYPE, "%s: index must be i64 or i32, got %s", op, zf_dtype_name(index->dtype));
    return false;
}

static bool check_same_dtype(const zf_tensor *a, const zf_tensor *b, const char *what, const char *op) {
    if (a->dtype == b->dtype) return true;
    zf_set_error(ZF_ERR_DTYPE, "%s: %s dtypes differ (%s vs %s); cast one first", op, what, zf_dtype_name(a->dtype),
                 zf_dtype_name(b->dtype));
    return false;
}

/* Size of dim d, counting a 0-dim tensor as shape [1]. */
static int64_t size_nd1(const zf_tensor *t, int d) { return t->ndim == 0 ? 1 : t->shape[d]; }
static int ndim_nd1(const zf_tensor *t) { return t->ndim == 0 ? 1 : t->ndim; }

/* Dispatches an indexed op and records it. Unlike zf_ops_finish it also runs
 * the kernel when the output is empty but the index is not (self of size 0
 * along dim), so out-of-range index values are always reported. */
static zf_tensor *finish_indexed(zf_ctx *ctx, zf_op op, zf_tensor *out, int n_in, zf_tensor *const *in, int dim,
                                 const zf_tensor *index) {
    if (!out) return NULL;
    zf_op_params p = {.i = {dim}};
    if (zf_numel(out) > 0 || zf_numel(index) > 0) {
        if (zf_dispatch(ctx, op, out, n_in, (const zf_tensor *const *)in, &p) != ZF_OK) return NULL;
    }
    bool failed = false;
    zf_record(ctx, op, out, n_in, in, &p, &failed);
    return failed ? NULL : out;
}

/* ---- cat / stack ---- */

/* torch.cat skips 1-d empty tensors (shape [0]) whatever the other shapes
 * are, a legacy rule kept for concatenating onto an empty accumulator. */
static bool cat_skippable(const zf_tensor *t) { return t->ndim == 1 && t->shape[0] == 0; }

zf_tensor *zf_cat(zf_ctx *ctx, int n, zf_tensor *const *ts, int dim) {
    if (!ctx) {
        zf_set_error(ZF_ERR_INVALID_ARG, "cat: NULL context");
        return NULL;
    }
    if (n <= 0 || !ts) {
        zf_set_error(ZF_ERR_INVALID_ARG, "cat: expected a non-empty list of tensors, got %d", n);
        return NULL;
    }
    if (!zf_ops_check(ctx, n, ts, "cat")) return NULL;
    /* ref: the first tensor that is not a skippable [0] (or ts[0]). */
    int ref_i = 0;
    while (ref_i < n && cat_skippable(ts[ref_i])) ref_i++;
    if (ref_i == n) ref_i = 0;
    const zf_tensor *ref = ts[ref_i];
    bool skip_empty = !cat_skippable(ref);
    if (ref->ndim == 0) {
        zf_set_error(ZF_ERR_SHAPE, "cat: zero-dimensional tensor %d cannot be concatenated", ref_i);
        return NULL;
    }
    int d = zf_norm_dim(dim, ref->ndim, "cat");
    if (d < 0) return NULL;
    int64_t shape[ZF_MAX_DIMS];
    for (int k = 0; k < ref->ndim; k++) shape[k] = ref->shape[k];
    shape[d] = 0;
    for (int i = 0; i < n; i++) {
        const zf_tensor *t = ts[i];
        if (!check_same_dtype(ref, t, "input", "cat")) return NULL;
        if (skip_empty && cat_skippable(t)) continue;
        if (t->ndim != ref->ndim) {
            zf_set_error(ZF_ERR_SHAPE, "cat: tensor %d has %d dims, expected %d", i, t->ndim, ref->ndim);
            return NULL;
        }
        for (int k = 0; k < t->ndim; k++) {
            if (k != d && t->shape[k] != ref->shape[k]) {
                zf_set_error(ZF_ERR_SHAPE, "cat: sizes must match except in dim %d; tensor %d has size %lld at dim %d, "
                             "expected %lld", d, i, (long long)t->shape[k], k, (long long)ref->shape[k]);
                return NULL;
            }
        }
        if (t->shape[d] > INT64_MAX - shape[d]) {
            zf_set_error(ZF_ERR_OVERFLOW, "cat: the output size along dim %d overflows", d);
            return NULL;
        }
        shape[d] += t->shape[d];
    }
    zf_tensor *out = zf_new_tensor(ctx, ref->dtype, ref->ndim, shape);
    if (!out) return NULL;
    /* out is fresh and needs no grad, so its narrow views record nothing. */
    int64_t off = 0;
    for (int i = 0; i < n; i++) {
        const zf_tensor *t = ts[i];
        if ((skip_empty && cat_skippable(t)) || t->shape[d] == 0) continue;
        zf_tensor *v = zf_narrow(ctx, out, d, off, t->shape[d]);
        if (!v || zf_copy_(v, t) != ZF_OK) return NULL;
        off += t->shape[d];
    }
    zf_op_params p = {.i = {d}};
    bool failed = false;
    zf_record(ctx, ZF_OP_CAT, out, n, ts, &p, &failed);
    return failed ? NULL : out;
}

zf_tensor *zf_stack(zf_ctx *ctx, int n, zf_tensor *const *ts, int dim) {
    if (!ctx) {
        zf_set_error(ZF_ERR_INVALID_ARG, "stack: NULL context");
        return NULL;
    }
    if (n <= 0 || !ts) {
        zf_set_error(ZF_ERR_INVALID_ARG, "stack: expected a non-empty list of tensors, got %d", n);
        return NULL;
    }
    if (!zf_ops_check(ctx, n, ts, "stack")) return NULL;
    for (int i = 1; i < n; i++) {
        if (!zf_same_shape(ts[i], ts[0])) {
            char s0[96], si[96];
            zf_set_error(ZF_ERR_SHAPE, "stack: every tensor must have the same shape; tensor 0 is %s, tensor %d is %s",
                         zf_shape_str(ts[0], s0, sizeof s0), i, zf_shape_str(ts[i], si, sizeof si));
            return NULL;
        }
        if (!check_same_dtype(ts[0], ts[i], "input", "stack")) return NULL;
    }
    if (ts[0]->ndim >= ZF_MAX_DIMS) {
        zf_set_error(ZF_ERR_SHAPE, "stack: inputs already have %d dims", ZF_MAX_DIMS);
        return NULL;
    }
    int d = zf_norm_dim(dim, ts[0]->ndim + 1, "stack");
    if (d < 0) return NULL;
    zf_tensor **u = zf_ctx_alloc(ctx, sizeof *u * (size_t)n);
    if (!u) return NULL;
    for (int i = 0; i < n; i++) {
        u[i] = zf_unsqueeze(ctx, ts[i], d);
        if (!u[i]) return NULL;
    }
    return zf_cat(ctx, n, u, d);
}

/* ---- split / chunk ---- */

/* Writes n_pieces narrow views of `piece` elements along d (the last one gets
 * what remains of `size`). out NULL: only counts. */
static int narrow_pieces(zf_ctx *ctx, zf_tensor *a, int d, int64_t n_pieces, int64_t piece, zf_tensor **out,
                         int max_out, const char *op) {
    if (n_pieces > INT_MAX) {
        zf_set_error(ZF_ERR_OVERFLOW, "%s: %lld pieces do not fit in an int", op, (long long)n_pieces);
        return -1;
    }
    if (!out) return (int)n_pieces;
    if (n_pieces > max_out) {
        zf_set_error(ZF_ERR_INVALID_ARG, "%s: %lld pieces do not fit in max_out = %d", op, (long long)n_pieces,
                     max_out);
        return -1;
    }
    int64_t size = a->shape[d], start = 0;
    for (int64_t i = 0; i < n_pieces; i++) {
        int64_t len = size - start < piece ? size - start : piece;
        out[i] = zf_narrow(ctx, a, d, start, len);
        if (!out[i]) return -1;
        start += len;
    }
    return (int)n_pieces;
}

/* Common checks of split/chunk; returns the normalized dim or -1. */
static int split_dim(zf_ctx *ctx, zf_tensor *a, int dim, zf_tensor **out, int max_out, const char *op) {
    zf_tensor *in[1] = {a};
    if (!zf_ops_check(ctx, 1, in, op)) return -1;
    if (a->ndim == 0) {
        zf_set_error(ZF_ERR_SHAPE, "%s: expects at least a 1-dimensional tensor", op);
        return -1;
    }
    if (max_out < 0 || (max_out > 0 && !out)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "%s: bad output array (max_out %d)", op, max_out);
        return -1;
    }
    return zf_norm_dim(dim, a->ndim, op);
}

/* out NULL (with max_out 0) returns the number of pieces without making them;
 * more pieces than max_out is an error rather than a silent truncation. */
int zf_split(zf_ctx *ctx, zf_tensor *a, int64_t split_size, int dim, zf_tensor **out, int max_out) {
    int d = split_dim(ctx, a, dim, out, max_out, "split");
    if (d < 0) return -1;
    int64_t size = a->shape[d];
    if (split_size < 0 || (split_size == 0 && size != 0)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "split: split_size must be positive, got %lld for dim %d of size %lld",
                     (long long)split_size, d, (long long)size);
        return -1;
    }
    /* As torch.split: at least one piece, even for an empty dim. */
    int64_t n = split_size == 0 ? 1 : size / split_size + (size % split_size != 0);
    if (n < 1) n = 1;
    return narrow_pieces(ctx, a, d, n, split_size, out, max_out, "split");
}

int zf_chunk(zf_ctx *ctx, zf_tensor *a, int n_chunks, int dim, zf_tensor **out, int max_out) {
    int d = split_dim(ctx, a, dim, out, max_out, "chunk");
    if (d < 0) return -1;
    if (n_chunks <= 0) {
        zf_set_error(ZF_ERR_INVALID_ARG, "chunk: n_chunks must be positive, got %d", n_chunks);
        return -1;
    }
    int64_t size = a->shape[d];
    /* torch.chunk: pieces of ceil(size / n_chunks), so there may be fewer
     * than n_chunks; an empty dim gives n_chunks empty pieces. */
    if (size == 0) return narrow_pieces(ctx, a, d, n_chunks, 0, out, max_out, "chunk");
    int64_t piece = size / n_chunks + (size % n_chunks != 0);
    int64_t n = size / piece + (size % piece != 0);
    return narrow_pieces(ctx, a, d, n, piece, out, max_out, "chunk");
}

/* ---- gather / scatter_add ---- */

/* index.size(k) <= t.size(k) for every k (k != skip); 0-dim counts as [1]. */
static bool index_fits(const zf_tensor *index, const zf_tensor *t, int skip, const char *tname, const char *op) {
    for (int k = 0; k < ndim_nd1(index); k++) {
        if (k == skip) continue;
        if (size_nd1(index, k) > size_nd1(t, k)) {
            zf_set_error(ZF_ERR_SHAPE, "%s: index size %lld at dim %d exceeds the %s size %lld", op,
                         (long long)size_nd1(index, k), k, tname, (long long)size_nd1(t, k));
            return false;
        }
    }
    return true;
}

static bool same_ndim_nd1(const zf_tensor *a, const zf_tensor *b, const char *what, const char *op) {
    if (ndim_nd1(a) == ndim_nd1(b)) return true;
    zf_set_error(ZF_ERR_SHAPE, "%s: %s must have the same number of dims as the input (%d vs %d)", op, what, b->ndim,
                 a->ndim);
    return false;
}

zf_tensor *zf_gather(zf_ctx *ctx, zf_tensor *a, int dim, zf_tensor *index) {
    zf_tensor *in[2] = {a, index};
    if (!zf_ops_check(ctx, 2, in, "gather") || !check_index_dtype(index, "gather")) return NULL;
    int d = zf_norm_dim(dim, a->ndim, "gather");
    if (d < 0 || !same_ndim_nd1(a, index, "index", "gather") || !index_fits(index, a, d, "input", "gather"))
        return NULL;
    /* out: index's shape, a's dtype */
    zf_tensor *out = zf_new_tensor(ctx, a->dtype, index->ndim, index->shape);
    return finish_indexed(ctx, ZF_OP_GATHER, out, 2, in, d, index);
}

zf_tensor *zf_scatter_add(zf_ctx *ctx, zf_tensor *self, int dim, zf_tensor *index, zf_tensor *src) {
    zf_tensor *in[3] = {self, index, src};
    if (!zf_ops_check(ctx, 3, in, "scatter_add") || !check_index_dtype(index, "scatter_add") ||
        !check_same_dtype(self, src, "self and src", "scatter_add"))
        return NULL;
    int d = zf_norm_dim(dim, self->ndim, "scatter_add");
    if (d < 0 || !same_ndim_nd1(self, index, "index", "scatter_add") ||
        !same_ndim_nd1(self, src, "src", "scatter_add") || !index_fits(index, src, -1, "src", "scatter_add") ||
        !index_fits(index, self, d, "self", "scatter_add"))
        return NULL;
    zf_tensor *out = zf_new_tensor(ctx, self->dtype, self->ndim, self->shape);
    return finish_indexed(ctx, ZF_OP_SCATTER_ADD, out, 3, in, d, index);
}

/* ---- index_select / index_add / embedding ---- */

static bool check_vector_index(const zf_tensor *index, const char *op) {
    if (!check_index_dtype(index, op)) return false;
    if (index->ndim > 1) {
        zf_set_error(ZF_ERR_SHAPE, "%s: index must be 1-d, got %d dims", op, index->ndim);
        return false;
    }
    return true;
}

zf_tensor *zf_index_select(zf_ctx *ctx, zf_tensor *a, int dim, zf_tensor *index) {
    zf_tensor *in[2] = {a, index};
    if (!zf_ops_check(ctx, 2, in, "index_select") || !check_vector_index(index, "index_select")) return NULL;
    int d = zf_norm_dim(dim, a->ndim, "index_select");
    if (d < 0) return NULL;
    int64_t k = zf_numel(index);
    if (a->ndim == 0 && k != 1) {
        zf_set_error(ZF_ERR_SHAPE, "index_select: index into a 0-dim tensor must have 1 value, got %lld",
                     (long long)k);
        return NULL;
    }
    /* out: a's shape with dim d of size numel(index) (0-dim stays 0-dim) */
    int64_t shape[ZF_MAX_DIMS];
    for (int i = 0; i < a->ndim; i++) shape[i] = i == d ? k : a->shape[i];
    zf_tensor *out = zf_new_tensor(ctx, a->dtype, a->ndim, shape);
    return finish_indexed(ctx, ZF_OP_INDEX_SELECT, out, 2, in, d, index);
}

zf_tensor *zf_index_add(zf_ctx *ctx, zf_tensor *self, int dim, zf_tensor *index, zf_tensor *src) {
    zf_tensor *in[3] = {self, index, src};
    if (!zf_ops_check(ctx, 3, in, "index_add") || !check_vector_index(index, "index_add") ||
        !check_same_dtype(self, src, "self and src", "index_add"))
        return NULL;
    int d = zf_norm_dim(dim, self->ndim, "index_add");
    if (d < 0 || !same_ndim_nd1(self, src, "src", "index_add")) return NULL;
    /* src: self's shape with dim d of size numel(index) */
    for (int k = 0; k < ndim_nd1(self); k++) {
        int64_t want = k == d ? zf_numel(index) : size_nd1(self, k);
        if (size_nd1(src, k) != want) {
            zf_set_error(ZF_ERR_SHAPE, "index_add: src size %lld at dim %d should be %lld (%s)",
                         (long long)size_nd1(src, k), k, (long long)want,
                         k == d ? "the number of indices" : "self's size");
            return NULL;
        }
    }
    zf_tensor *out = zf_new_tensor(ctx, self->dtype, self->ndim, self->shape);
    return finish_indexed(ctx, ZF_OP_INDEX_ADD, out, 3, in, d, index);
}

/* A block-quantized table (q8_0, q4_k, ...; an LLM's token embeddings kept
 * in the mapped file): rows are dequantized into an f32 output. The table
 * takes no gradient. */
static bool check_quant_table(zf_tensor *weight) {
    if (weight->ndim != 2 || !zf_is_contiguous(weight)) {
        zf_set_error(ZF_ERR_SHAPE, "embedding: a %s table must be a contiguous 2-d [V, D] tensor",
                     zf_dtype_name(weight->dtype));
        return false;
    }
    if (weight->shape[1] % zf_dtype_block(weight->dtype) != 0) {
        zf_set_error(ZF_ERR_SHAPE, "embedding: D = %lld is not a multiple of the %s block size %lld",
                     (long long)weight->shape[1], zf_dtype_name(weight->dtype),
                     (long long)zf_dtype_block(weight->dtype));
        return false;
    }
    if (weight->requires_grad && zf_is_grad_enabled()) {
        zf_set_error(ZF_ERR_INVALID_ARG, "embedding: a %s table is frozen (no gradient)", zf_dtype_name(weight->dtype));
        return false;
    }
    return true;
}

zf_tensor *zf_embedding(zf_ctx *ctx, zf_tensor *weight, zf_tensor *ids) {
    zf_tensor *in[2] = {weight, ids};
    bool quant = weight && zf_dtype_is_quant(weight->dtype);
    if (quant) { /* the generic check refuses block types: check ids alone */
        if (!ids && ctx && zf_last_status() == ZF_OK) zf_set_error(ZF_ERR_INVALID_ARG, "embedding: input 1 is NULL");
        if (!zf_ops_check(ctx, 1, in + 1, "embedding") || !check_quant_table(weight)) return NULL;
    } else if (!zf_ops_check(ctx, 2, in, "embedding")) {
        return NULL;
    }
    if (!check_index_dtype(ids, "embedding")) return NULL;
    if (weight->ndim != 2) {
        zf_set_error(ZF_ERR_SHAPE, "embedding: weight must be 2-d [V, D], got %d dims", weight->ndim);
        return NULL;
    }
    if (ids->ndim >= ZF_MAX_DIMS) {
        zf_set_error(ZF_ERR_SHAPE, "embedding: ids have %d dims; at most %d fit", ids->ndim, ZF_MAX_DIMS - 1);
        return NULL;
    }
    /* out: [ids..., D] */
    int64_t shape[ZF_MAX_DIMS];
    for (int i = 0; i < ids->ndim; i++) shape[i] = ids->shape[i];
    shape[ids->ndim] = weight->shape[1];
    zf_tensor *out = zf_new_tensor(ctx, quant ? ZF_F32 : weight->dtype, ids->ndim + 1, shape);
    return finish_indexed(ctx, ZF_OP_EMBEDDING, out, 2, in, 0, ids);
}

/* ---- tril / triu ---- */

static zf_tensor *triangle(zf_ctx *ctx, zf_op op, zf_tensor *a, int64_t k) {
    zf_tensor *in[1] = {a};
    const char *name = zf_op_name(op);
    if (!zf_ops_check(ctx, 1, in, name)) return NULL;
    if (a->ndim < 2) {
        zf_set_error(ZF_ERR_SHAPE, "%s: input must have at least 2 dims, got %d", name, a->ndim);
        return NULL;
    }
    zf_op_params p = {.i = {k}};
    return zf_ops_finish(ctx, op, zf_new_tensor(ctx, a->dtype, a->ndim, a->shape), 1, in, &p);
}

zf_tensor *zf_tril(zf_ctx *ctx, zf_tensor *a, int64_t k) { return triangle(ctx, ZF_OP_TRIL, a, k); }
zf_tensor *zf_triu(zf_ctx *ctx, zf_tensor *a, int64_t k) { return triangle(ctx, ZF_OP_TRIU, a, k); }
