/* Joining, splitting and indexing cases, with PyTorch semantics:
 *   CAT (zf_cat, zf_stack, zf_split, zf_chunk: all credited to CAT),
 *   GATHER      out[i][j] = a[index[i][j]][j] (dim 0), index sizes <= a's
 *               off the gather dim, any size along it,
 *   SCATTER_ADD out = self; out[index[i][j]][j] += src[i][j] (dim 0), with
 *               duplicate indices (accumulation), src larger than index,
 *   INDEX_SELECT / INDEX_ADD along one dim with a 1-d i64 or i32 index
 *               (repeats / duplicates),
 *   EMBEDDING   weight [V, D] rows picked by int ids of any shape; also
 *               block-quantized tables (q8_0, q4_k, ...), whose rows come
 *               out dequantized in f32 (reference: zf_dequantize of the
 *               stored rows, bit-exact with gguf-py),
 *   TRIL / TRIU on the last two dims for diagonals -10 .. 10 and batches.
 * Every case also runs on transposed/strided inputs and > 100k elements.
 * Data movement must be exact; the additive ops compare with tolerance. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "zerfoo/quant.h"

enum { X_CAT, X_STACK, X_SPLIT, X_CHUNK, X_GATHER, X_SCATTER_ADD, X_INDEX_SELECT, X_INDEX_ADD, X_EMBEDDING, X_TRIL, X_TRIU };

/* c->i[0]: variant; c->i[1]: dim (tril/triu: diagonal); c->i[2]: split size
 * or chunk count. */
static int run_index(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    int dim = (int)c->i[1];
    switch (c->i[0]) {
    case X_CAT: return h_one(out, zf_cat(ctx, c->n_in, in, dim));
    case X_STACK: return h_one(out, zf_stack(ctx, c->n_in, in, dim));
    case X_SPLIT: {
        int n = zf_split(ctx, in[0], c->i[2], dim, out, H_MAX_OUT);
        return n < 0 ? 0 : n;
    }
    case X_CHUNK: {
        int n = zf_chunk(ctx, in[0], (int)c->i[2], dim, out, H_MAX_OUT);
        return n < 0 ? 0 : n;
    }
    case X_GATHER: return h_one(out, zf_gather(ctx, in[0], dim, in[1]));
    case X_SCATTER_ADD: return h_one(out, zf_scatter_add(ctx, in[0], dim, in[1], in[2]));
    case X_INDEX_SELECT: return h_one(out, zf_index_select(ctx, in[0], dim, in[1]));
    case X_INDEX_ADD: return h_one(out, zf_index_add(ctx, in[0], dim, in[1], in[2]));
    case X_EMBEDDING: return h_one(out, zf_embedding(ctx, in[0], in[1]));
    case X_TRIL: return h_one(out, zf_tril(ctx, in[0], c->i[1]));
    case X_TRIU: return h_one(out, zf_triu(ctx, in[0], c->i[1]));
    default: return 0;
    }
}

static int nrm(int64_t d, int ndim) { return (int)(d < 0 ? d + ndim : d); }

static void put(h_arr *out, int64_t o, const h_arr *a, int64_t k) {
    out->v[o] = a->v[k];
    if (out->iv) out->iv[o] = a->iv[k];
}

/* out[o] += a[k] (ints wrap to the dtype) */
static void add_to(h_arr *out, int64_t o, const h_arr *a, int64_t k) {
    if (out->iv) {
        h_arr_set_int(out, o, (int64_t)((uint64_t)out->iv[o] + (uint64_t)a->iv[k]));
    } else {
        out->v[o] += a->v[k];
        out->mag[o] += fabs(a->v[k]);
    }
}

static void copy_arr(h_arr *out, const h_arr *a) {
    h_arr_alloc(out, a->dtype, a->ndim, a->shape);
    h_arr_want_mag(out);
    for (int64_t i = 0; i < a->n; i++) {
        put(out, i, a, i);
        out->mag[i] = fabs(a->v[i]);
    }
}

/* Pieces of a along dim: sizes[k] elements each, starting at 0. */
static int ref_pieces(const h_arr *a, int d, const int64_t *sizes, int n, h_arr *out) {
    int64_t start = 0, idx[ZF_MAX_DIMS];
    for (int p = 0; p < n; p++) {
        int64_t sh[ZF_MAX_DIMS];
        memcpy(sh, a->shape, sizeof sh);
        sh[d] = sizes[p];
        h_arr_alloc(&out[p], a->dtype, a->ndim, sh);
        for (int64_t i = 0; i < out[p].n; i++) {
            h_unravel(i, a->ndim, sh, idx);
            idx[d] += start;
            put(&out[p], i, a, h_ravel(a->ndim, a->shape, idx));
        }
        start += sizes[p];
    }
    return n;
}

static void ref_index(const h_case *c, const h_arr *in, h_arr *out) {
    const h_arr *a = &in[0];
    int64_t idx[ZF_MAX_DIMS], j[ZF_MAX_DIMS], sh[ZF_MAX_DIMS];
    switch (c->i[0]) {
    case X_CAT: {
        int d = nrm(c->i[1], a->ndim);
        memcpy(sh, a->shape, sizeof sh);
        sh[d] = 0;
        for (int k = 0; k < c->n_in; k++) sh[d] += in[k].shape[d];
        h_arr_alloc(out, a->dtype, a->ndim, sh);
        for (int64_t i = 0; i < out->n; i++) {
            h_unravel(i, a->ndim, sh, idx);
            int k = 0;
            while (idx[d] >= in[k].shape[d]) idx[d] -= in[k++].shape[d];
            put(out, i, &in[k], h_ravel(a->ndim, in[k].shape, idx));
        }
        return;
    }
    case X_STACK: { /* a new dim of size n at d */
        int d = nrm(c->i[1], a->ndim + 1);
        for (int k = 0, m = 0; k <= a->ndim; k++) sh[k] = k == d ? c->n_in : a->shape[m++];
        h_arr_alloc(out, a->dtype, a->ndim + 1, sh);
        for (int64_t i = 0; i < out->n; i++) {
            h_unravel(i, a->ndim + 1, sh, idx);
            for (int k = 0, m = 0; k <= a->ndim; k++)
                if (k != d) j[m++] = idx[k];
            put(out, i, &in[idx[d]], h_ravel(a->ndim, a->shape, j));
        }
        return;
    }
    case X_SPLIT:
    case X_CHUNK: {
        int d = nrm(c->i[1], a->ndim);
        int64_t L = a->shape[d];
        int64_t size = c->i[0] == X_SPLIT ? c->i[2] : (L + c->i[2] - 1) / c->i[2]; /* chunk: ceil */
        int64_t sizes[H_MAX_OUT];
        int n = 0;
        for (int64_t st = 0; st < L && n < H_MAX_OUT; st += size) sizes[n++] = L - st < size ? L - st : size;
        ref_pieces(a, d, sizes, n, out);
        return;
    }
    case X_GATHER: {
        const h_arr *ix = &in[1];
        int d = nrm(c->i[1], a->ndim);
        h_arr_alloc(out, a->dtype, ix->ndim, ix->shape);
        for (int64_t i = 0; i < out->n; i++) {
            h_unravel(i, ix->ndim, ix->shape, idx);
            idx[d] = ix->iv[i];
            put(out, i, a, h_ravel(a->ndim, a->shape, idx));
        }
        return;
    }
    case X_SCATTER_ADD: {
        const h_arr *ix = &in[1], *src = &in[2];
        int d = nrm(c->i[1], a->ndim);
        copy_arr(out, a);
        for (int64_t i = 0; i < ix->n; i++) {
            h_unravel(i, ix->ndim, ix->shape, idx);
            int64_t k = h_ravel(src->ndim, src->shape, idx);
            idx[d] = ix->iv[i];
            add_to(out, h_ravel(a->ndim, a->shape, idx), src, k);
        }
        return;
    }
    case X_INDEX_SELECT: {
        const h_arr *ix = &in[1];
        int d = nrm(c->i[1], a->ndim);
        memcpy(sh, a->shape, sizeof sh);
        sh[d] = ix->n;
        h_arr_alloc(out, a->dtype, a->ndim, sh);
        for (int64_t i = 0; i < out->n; i++) {
            h_unravel(i, a->ndim, sh, idx);
            idx[d] = ix->iv[idx[d]];
            put(out, i, a, h_ravel(a->ndim, a->shape, idx));
        }
        return;
    }
    case X_INDEX_ADD: {
        const h_arr *ix = &in[1], *src = &in[2];
        int d = nrm(c->i[1], a->ndim);
        copy_arr(out, a);
        for (int64_t i = 0; i < src->n; i++) {
            h_unravel(i, src->ndim, src->shape, idx);
            idx[d] = ix->iv[idx[d]];
            add_to(out, h_ravel(a->ndim, a->shape, idx), src, i);
        }
        return;
    }
    case X_EMBEDDING: {
        const h_arr *ids = &in[1];
        int64_t D = a->shape[1];
        for (int k = 0; k < ids->ndim; k++) sh[k] = ids->shape[k];
        sh[ids->ndim] = D;
        h_arr_alloc(out, a->dtype, ids->ndim + 1, sh);
        for (int64_t i = 0; i < ids->n; i++)
            for (int64_t e = 0; e < D; e++) put(out, i * D + e, a, ids->iv[i] * D + e);
        return;
    }
    case X_TRIL:
    case X_TRIU: { /* keep j - i <= k (tril) / j - i >= k (triu) on the last two dims */
        int64_t k = c->i[1];
        h_arr_alloc(out, a->dtype, a->ndim, a->shape);
        for (int64_t i = 0; i < a->n; i++) {
            h_unravel(i, a->ndim, a->shape, idx);
            int64_t r = idx[a->ndim - 2], col = idx[a->ndim - 1];
            bool keep = c->i[0] == X_TRIL ? col - r <= k : col - r >= k;
            if (keep) put(out, i, a, i);
            else h_arr_set(out, i, 0.0);
        }
        return;
    }
    default: return;
    }
}

/* ---- case construction ---- */
#define C H_L_CONTIG
#define T H_L_TRANS
#define S H_L_STRIDED

static h_case base(zf_op op, int variant, zf_dtype t, int64_t dim) {
    h_case c = {0};
    c.op = op;
    c.trace_op = op == ZF_OP_CAT ? ZF_OP_COUNT : op; /* cat is composite: no kernel of its own */
    c.dtype = t;
    c.run = run_index;
    c.ref = ref_index;
    c.i[0] = variant;
    c.i[1] = dim;
    return c;
}

static void finish(h_suite *s, h_case *c, const char *what, bool exact, bool large) {
    c->flags |= (exact ? H_EXACT : 0) | (large ? H_LARGE : 0);
    char w[64];
    if (c->i[0] == X_TRIL || c->i[0] == X_TRIU)
        snprintf(w, sizeof w, "%s(k=%lld)", what, (long long)c->i[1]);
    else
        snprintf(w, sizeof w, "%s(dim=%lld)", what, (long long)c->i[1]);
    h_label(c, w);
    h_add(s, c);
}

static void add_cat_cases(h_suite *s, zf_dtype t) {
    bool L = h_large_dtype(t);
    /* cat: three pieces along dim 1 (one transposed, one strided), along 0, along -1 of 3-d, one input */
    h_case c = base(ZF_OP_CAT, X_CAT, t, 1);
    c.n_in = 3;
    c.in[0] = h_in(t, 2, (int64_t[]){2, 3}, H_V_SIGNED, C);
    c.in[1] = h_in(t, 2, (int64_t[]){2, 1}, H_V_SIGNED, S);
    c.in[2] = h_in(t, 2, (int64_t[]){2, 4}, H_V_SIGNED, T);
    finish(s, &c, "cat", true, false);
    c = base(ZF_OP_CAT, X_CAT, t, 0);
    c.n_in = 2;
    c.in[0] = h_in(t, 2, (int64_t[]){1, 3}, H_V_SIGNED, C);
    c.in[1] = h_in(t, 2, (int64_t[]){2, 3}, H_V_SIGNED, T);
    finish(s, &c, "cat", true, false);
    c = base(ZF_OP_CAT, X_CAT, t, -1);
    c.n_in = 2;
    c.in[0] = h_in(t, 3, (int64_t[]){2, 3, 2}, H_V_SIGNED, C);
    c.in[1] = h_in(t, 3, (int64_t[]){2, 3, 5}, H_V_SIGNED, S);
    finish(s, &c, "cat", true, false);
    c = base(ZF_OP_CAT, X_CAT, t, 0);
    c.n_in = 1;
    c.in[0] = h_in(t, 2, (int64_t[]){3, 4}, H_V_SIGNED, T);
    finish(s, &c, "cat one", true, false);
    if (L) {
        c = base(ZF_OP_CAT, X_CAT, t, 1);
        c.n_in = 2;
        c.in[0] = h_in(t, 2, (int64_t[]){300, 200}, H_V_SIGNED, C);
        c.in[1] = h_in(t, 2, (int64_t[]){300, 200}, H_V_SIGNED, T);
        finish(s, &c, "cat", true, true);
    }
    /* stack: a new dim first, in the middle, last */
    for (int d = 0; d < 3; d++) {
        int64_t dims[3] = {0, 1, -1};
        c = base(ZF_OP_CAT, X_STACK, t, dims[d]);
        c.n_in = 3;
        for (int k = 0; k < 3; k++) c.in[k] = h_in(t, 2, (int64_t[]){2, 3}, H_V_SIGNED, k == 1 ? T : C);
        finish(s, &c, "stack", true, false);
    }
    /* split: [7,4] in 3s along 0 (3,3,1); [4,6] in 4s along -1 (4,2); chunk: 7 in 3 (3,3,1), 6 in 4 (2,2,2) */
    struct {
        int variant;
        int64_t shape[2];
        int dim;
        int64_t k;
        int n_out;
    } sp[] = {{X_SPLIT, {7, 4}, 0, 3, 3}, {X_SPLIT, {4, 6}, -1, 4, 2}, {X_CHUNK, {7, 4}, 0, 3, 3}, {X_CHUNK, {4, 6}, 1, 4, 3}};
    for (int k = 0; k < 4; k++) {
        c = base(ZF_OP_CAT, sp[k].variant, t, sp[k].dim);
        c.n_in = 1;
        c.in[0] = h_in(t, 2, sp[k].shape, H_V_SIGNED, k % 2 ? T : C);
        c.i[2] = sp[k].k;
        c.n_out = sp[k].n_out;
        c.flags = H_SHARES; /* pieces are views */
        char w[32];
        snprintf(w, sizeof w, "%s %lld", sp[k].variant == X_SPLIT ? "split" : "chunk", (long long)sp[k].k);
        finish(s, &c, w, true, false);
    }
}

static void add_gather_scatter_cases(h_suite *s, zf_dtype t, bool additive) {
    bool L = h_large_dtype(t);
    h_case c;
    if (!additive) {
        /* gather along 0; along 1 with fewer rows than a; along -1 of 3-d with a longer index dim */
        c = base(ZF_OP_GATHER, X_GATHER, t, 0);
        c.n_in = 2;
        c.in[0] = h_in(t, 2, (int64_t[]){3, 4}, H_V_SIGNED, C);
        c.in[1] = h_in_index(ZF_I64, 2, (int64_t[]){2, 4}, 3);
        finish(s, &c, "gather", true, false);
        c = base(ZF_OP_GATHER, X_GATHER, t, 1);
        c.n_in = 2;
        c.in[0] = h_in(t, 2, (int64_t[]){3, 5}, H_V_SIGNED, T);
        c.in[1] = h_in_index(ZF_I64, 2, (int64_t[]){2, 7}, 5);
        finish(s, &c, "gather", true, false);
        c = base(ZF_OP_GATHER, X_GATHER, t, -1);
        c.n_in = 2;
        c.in[0] = h_in(t, 3, (int64_t[]){2, 3, 4}, H_V_SIGNED, S);
        c.in[1] = h_in_index(ZF_I64, 3, (int64_t[]){2, 2, 6}, 4);
        finish(s, &c, "gather", true, false);
        if (L) {
            c = base(ZF_OP_GATHER, X_GATHER, t, 1);
            c.n_in = 2;
            c.in[0] = h_in(t, 2, (int64_t[]){400, 300}, H_V_SIGNED, C);
            c.in[1] = h_in_index(ZF_I64, 2, (int64_t[]){400, 300}, 300);
            finish(s, &c, "gather", true, true);
        }
        return;
    }
    /* scatter_add: duplicates along 0; src wider than index along 1; large */
    c = base(ZF_OP_SCATTER_ADD, X_SCATTER_ADD, t, 0);
    c.n_in = 3;
    c.in[0] = h_in(t, 2, (int64_t[]){3, 5}, H_V_SIGNED, C);
    c.in[1] = h_in_index(ZF_I64, 2, (int64_t[]){4, 5}, 3);
    c.in[2] = h_in(t, 2, (int64_t[]){4, 5}, H_V_SIGNED, T);
    finish(s, &c, "scatter_add", false, false);
    c = base(ZF_OP_SCATTER_ADD, X_SCATTER_ADD, t, 1);
    c.n_in = 3;
    c.in[0] = h_in(t, 2, (int64_t[]){3, 5}, H_V_SIGNED, T);
    c.in[1] = h_in_index(ZF_I64, 2, (int64_t[]){3, 4}, 5);
    c.in[2] = h_in(t, 2, (int64_t[]){3, 6}, H_V_SIGNED, S);
    finish(s, &c, "scatter_add", false, false);
    if (L) {
        c = base(ZF_OP_SCATTER_ADD, X_SCATTER_ADD, t, 1);
        c.n_in = 3;
        c.in[0] = h_in(t, 2, (int64_t[]){300, 400}, H_V_SIGNED, C);
        c.in[1] = h_in_index(ZF_I64, 2, (int64_t[]){300, 400}, 400);
        c.in[2] = h_in(t, 2, (int64_t[]){300, 400}, H_V_SIGNED, C);
        finish(s, &c, "scatter_add", false, true);
    }
}

static void add_select_cases(h_suite *s, zf_dtype t, bool additive) {
    bool L = h_large_dtype(t);
    h_case c;
    if (!additive) {
        c = base(ZF_OP_INDEX_SELECT, X_INDEX_SELECT, t, 0);
        c.n_in = 2;
        c.in[0] = h_in(t, 2, (int64_t[]){5, 4}, H_V_SIGNED, C);
        c.in[1] = h_in_index(ZF_I64, 1, (int64_t[]){7}, 5); /* repeats */
        finish(s, &c, "index_select", true, false);
        c = base(ZF_OP_INDEX_SELECT, X_INDEX_SELECT, t, 1);
        c.n_in = 2;
        c.in[0] = h_in(t, 3, (int64_t[]){2, 5, 3}, H_V_SIGNED, T);
        c.in[1] = h_in_index(ZF_I32, 1, (int64_t[]){3}, 5);
        finish(s, &c, "index_select", true, false);
        c = base(ZF_OP_INDEX_SELECT, X_INDEX_SELECT, t, -1);
        c.n_in = 2;
        c.in[0] = h_in(t, 2, (int64_t[]){4, 6}, H_V_SIGNED, S);
        c.in[1] = h_in_index(ZF_I64, 1, (int64_t[]){2}, 6);
        finish(s, &c, "index_select", true, false);
        if (L) {
            c = base(ZF_OP_INDEX_SELECT, X_INDEX_SELECT, t, 0);
            c.n_in = 2;
            c.in[0] = h_in(t, 2, (int64_t[]){400, 300}, H_V_SIGNED, C);
            c.in[1] = h_in_index(ZF_I64, 1, (int64_t[]){400}, 400);
            finish(s, &c, "index_select", true, true);
        }
        return;
    }
    c = base(ZF_OP_INDEX_ADD, X_INDEX_ADD, t, 0);
    c.n_in = 3;
    c.in[0] = h_in(t, 2, (int64_t[]){5, 4}, H_V_SIGNED, C);
    c.in[1] = h_in_index(ZF_I64, 1, (int64_t[]){6}, 5); /* duplicates accumulate */
    c.in[2] = h_in(t, 2, (int64_t[]){6, 4}, H_V_SIGNED, T);
    finish(s, &c, "index_add", false, false);
    c = base(ZF_OP_INDEX_ADD, X_INDEX_ADD, t, 1);
    c.n_in = 3;
    c.in[0] = h_in(t, 2, (int64_t[]){3, 6}, H_V_SIGNED, S);
    c.in[1] = h_in_index(ZF_I32, 1, (int64_t[]){4}, 6);
    c.in[2] = h_in(t, 2, (int64_t[]){3, 4}, H_V_SIGNED, C);
    finish(s, &c, "index_add", false, false);
    if (L) {
        c = base(ZF_OP_INDEX_ADD, X_INDEX_ADD, t, 0);
        c.n_in = 3;
        c.in[0] = h_in(t, 2, (int64_t[]){400, 300}, H_V_SIGNED, C);
        c.in[1] = h_in_index(ZF_I64, 1, (int64_t[]){400}, 400);
        c.in[2] = h_in(t, 2, (int64_t[]){400, 300}, H_V_SIGNED, C);
        finish(s, &c, "index_add", false, true);
    }
}

static void add_embedding_cases(h_suite *s, zf_dtype t) {
    struct {
        int64_t V, D;
        h_layout lw;
        zf_dtype it;
        int nd;
        int64_t ids[2];
        bool large;
    } e[] = {
        {10, 6, C, ZF_I64, 2, {2, 3}, false}, {10, 6, T, ZF_I32, 1, {4}, false}, {7, 5, S, ZF_I64, 0, {0}, false},
        {1000, 128, C, ZF_I64, 1, {1000}, true},
    };
    for (int k = 0; k < 4; k++) {
        if (e[k].large && !h_large_dtype(t)) continue;
        h_case c = base(ZF_OP_EMBEDDING, X_EMBEDDING, t, 0);
        c.n_in = 2;
        c.in[0] = h_in(t, 2, (int64_t[]){e[k].V, e[k].D}, H_V_SIGNED, e[k].lw);
        c.in[1] = h_in_index(e[k].it, e[k].nd, e[k].ids, e[k].V);
        c.flags = H_EXACT | (e[k].large ? H_LARGE : 0);
        h_label(&c, "embedding");
        h_add(s, &c);
    }
}

/* Quantized tables: in[0] holds f32 values, stored in the case's block type
 * (c->i[2]) inside run; the reference dequantizes the same stored rows. */
static int run_qembed(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    zf_tensor *q = zf_empty(ctx, (zf_dtype)c->i[2], 2, in[0]->shape);
    if (!q || zf_copy_(q, in[0]) != ZF_OK) return 0;
    return h_one(out, zf_embedding(ctx, q, in[1]));
}

static void ref_qembed(const h_case *c, const h_arr *in, h_arr *out) {
    zf_dtype wt = (zf_dtype)c->i[2];
    const h_arr *w = &in[0], *ids = &in[1];
    int64_t V = w->shape[0], D = w->shape[1], sh[ZF_MAX_DIMS];
    for (int k = 0; k < ids->ndim; k++) sh[k] = ids->shape[k];
    sh[ids->ndim] = D;
    h_arr_alloc(out, ZF_F32, ids->ndim + 1, sh);
    float *row = malloc(sizeof(float) * (size_t)(V * D)), *back = malloc(sizeof(float) * (size_t)D);
    void *q = malloc(zf_quant_row_size(wt, D));
    for (int64_t k = 0; k < V * D; k++) row[k] = (float)w->v[k];
    for (int64_t i = 0; i < ids->n; i++) {
        zf_quantize(wt, row + ids->iv[i] * D, q, D);
        zf_dequantize(wt, q, back, D);
        for (int64_t e = 0; e < D; e++) out->v[i * D + e] = back[e];
    }
    free(row);
    free(back);
    free(q);
}

static void add_quant_embedding_cases(h_suite *s) {
    static const zf_dtype wts[] = {ZF_Q4_0, ZF_Q4_1, ZF_Q5_0, ZF_Q5_1, ZF_Q8_0,
                                   ZF_Q2_K, ZF_Q3_K, ZF_Q4_K, ZF_Q5_K, ZF_Q6_K};
    for (size_t k = 0; k < sizeof wts / sizeof *wts; k++) {
        int64_t D = zf_dtype_block(wts[k]) * 2;
        bool large = wts[k] == ZF_Q8_0 || wts[k] == ZF_Q4_K; /* > 100k outputs: both threads */
        h_case c = base(ZF_OP_EMBEDDING, X_EMBEDDING, ZF_F32, 0);
        c.run = run_qembed;
        c.ref = ref_qembed;
        c.i[2] = wts[k];
        c.n_in = 2;
        c.in[0] = h_in(ZF_F32, 2, (int64_t[]){9, D}, H_V_SIGNED, C);
        c.in[1] = large ? h_in_index(ZF_I32, 1, (int64_t[]){256}, 9) : h_in_index(ZF_I64, 2, (int64_t[]){2, 3}, 9);
        char w[64];
        snprintf(w, sizeof w, "embedding %s table", zf_dtype_name(wts[k]));
        c.flags = H_EXACT | (large ? H_LARGE : 0);
        h_label(&c, w);
        h_add(s, &c);
    }
}

static void add_tri_cases(h_suite *s, zf_dtype t) {
    struct {
        int nd;
        int64_t sh[3];
        h_layout l;
        int64_t k;
        bool large;
    } tr[] = {
        {2, {4, 5}, C, 0, false},    {2, {4, 5}, C, 1, false},     {2, {5, 4}, T, -1, false},
        {2, {4, 5}, C, -10, false},  {2, {4, 5}, S, 10, false},    {3, {2, 3, 4}, C, 0, false},
        {2, {400, 300}, C, 7, true},
    };
    for (int v = 0; v < 2; v++) {
        for (size_t k = 0; k < sizeof tr / sizeof tr[0]; k++) {
            if (tr[k].large && !h_large_dtype(t)) continue;
            zf_op op = v ? ZF_OP_TRIU : ZF_OP_TRIL;
            h_case c = base(op, v ? X_TRIU : X_TRIL, t, tr[k].k);
            c.n_in = 1;
            c.in[0] = h_in(t, tr[k].nd, tr[k].sh, H_V_SIGNED, tr[k].l);
            finish(s, &c, zf_op_name(op), true, tr[k].large);
        }
    }
}

/* Finite differences through the differentiable inputs (indices fixed). */
static void add_grad_cases(h_suite *s) {
    h_case c;
    c = base(ZF_OP_CAT, X_CAT, ZF_F64, 1);
    c.n_in = 3;
    c.in[0] = h_in(ZF_F64, 2, (int64_t[]){2, 3}, H_V_SIGNED, C);
    c.in[1] = h_in(ZF_F64, 2, (int64_t[]){2, 1}, H_V_SIGNED, C);
    c.in[2] = h_in(ZF_F64, 2, (int64_t[]){2, 2}, H_V_SIGNED, C);
    c.flags = H_GRAD;
    finish(s, &c, "grad cat", false, false);
    c = base(ZF_OP_CAT, X_STACK, ZF_F64, 1);
    c.n_in = 2;
    c.in[0] = h_in(ZF_F64, 2, (int64_t[]){2, 3}, H_V_SIGNED, C);
    c.in[1] = h_in(ZF_F64, 2, (int64_t[]){2, 3}, H_V_SIGNED, C);
    c.flags = H_GRAD;
    finish(s, &c, "grad stack", false, false);
    c = base(ZF_OP_GATHER, X_GATHER, ZF_F64, 1);
    c.n_in = 2;
    c.in[0] = h_in(ZF_F64, 2, (int64_t[]){3, 4}, H_V_SIGNED, C);
    c.in[1] = h_in_index(ZF_I64, 2, (int64_t[]){3, 5}, 4); /* repeated picks: gradients add */
    c.flags = H_GRAD;
    finish(s, &c, "grad gather", false, false);
    c = base(ZF_OP_SCATTER_ADD, X_SCATTER_ADD, ZF_F64, 0);
    c.n_in = 3;
    c.in[0] = h_in(ZF_F64, 2, (int64_t[]){3, 4}, H_V_SIGNED, C);
    c.in[1] = h_in_index(ZF_I64, 2, (int64_t[]){4, 4}, 3);
    c.in[2] = h_in(ZF_F64, 2, (int64_t[]){4, 4}, H_V_SIGNED, C);
    c.flags = H_GRAD;
    finish(s, &c, "grad scatter_add", false, false);
    c = base(ZF_OP_INDEX_SELECT, X_INDEX_SELECT, ZF_F64, 0);
    c.n_in = 2;
    c.in[0] = h_in(ZF_F64, 2, (int64_t[]){4, 3}, H_V_SIGNED, C);
    c.in[1] = h_in_index(ZF_I64, 1, (int64_t[]){6}, 4);
    c.flags = H_GRAD;
    finish(s, &c, "grad index_select", false, false);
    c = base(ZF_OP_INDEX_ADD, X_INDEX_ADD, ZF_F64, 1);
    c.n_in = 3;
    c.in[0] = h_in(ZF_F64, 2, (int64_t[]){3, 4}, H_V_SIGNED, C);
    c.in[1] = h_in_index(ZF_I64, 1, (int64_t[]){5}, 4);
    c.in[2] = h_in(ZF_F64, 2, (int64_t[]){3, 5}, H_V_SIGNED, C);
    c.flags = H_GRAD;
    finish(s, &c, "grad index_add", false, false);
    c = base(ZF_OP_EMBEDDING, X_EMBEDDING, ZF_F64, 0);
    c.n_in = 2;
    c.in[0] = h_in(ZF_F64, 2, (int64_t[]){5, 3}, H_V_SIGNED, C);
    c.in[1] = h_in_index(ZF_I64, 2, (int64_t[]){2, 4}, 5);
    c.flags = H_GRAD;
    h_label(&c, "grad embedding");
    h_add(s, &c);
    for (int v = 0; v < 2; v++) {
        c = base(v ? ZF_OP_TRIU : ZF_OP_TRIL, v ? X_TRIU : X_TRIL, ZF_F64, v ? 1 : -1);
        c.n_in = 1;
        c.in[0] = h_in(ZF_F64, 3, (int64_t[]){2, 3, 4}, H_V_SIGNED, C);
        c.flags = H_GRAD;
        finish(s, &c, v ? "grad triu" : "grad tril", false, false);
    }
}

void h_cases_index(h_suite *s) {
    for (int ti = 0; ti <= ZF_BOOL; ti++) {
        zf_dtype t = (zf_dtype)ti;
        bool arith = t != ZF_BOOL; /* additive ops: floats and ints */
        add_cat_cases(s, t);
        add_gather_scatter_cases(s, t, false);
        add_select_cases(s, t, false);
        add_tri_cases(s, t);
        if (arith) {
            add_gather_scatter_cases(s, t, true);
            add_select_cases(s, t, true);
        }
        if (h_is_float(t)) add_embedding_cases(s, t);
    }
    add_quant_embedding_cases(s);
    add_grad_cases(s);
}
