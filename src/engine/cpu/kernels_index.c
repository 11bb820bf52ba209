/* CPU kernels of the indexing ops.
 *
 *   select:     GATHER, INDEX_SELECT, EMBEDDING — each output element is one
 *               source element, so any split of the output is race-free;
 *   accumulate: SCATTER_ADD, INDEX_ADD — out = self, then src added at the
 *               indexed positions;
 *   triangle:   TRIL, TRIU.
 *
 * Select and accumulate run on zf_iter with stand-in operands: copies of the
 * tensor structs (same storage and offset) given a geometry made up for the
 * iteration, e.g. a source whose stride along the indexed dim is 0, or an
 * index broadcast over the other dims. The index value then moves a pointer
 * by value * dim_stride. Every index value is checked against [0, size)
 * before anything is written; a bad one is ZF_ERR_INDEX naming the value. */
#include <string.h>

#include "engine/cpu/cpu.h"
#include "zerfoo/quant.h"

#define GRAIN (1 << 14)

/* One index value; the frontends allow only i64 and i32 (checked again in
 * check_indices, since kernels can be called directly). memcpy: an external
 * (from_blob) buffer need not be aligned. */
static inline int64_t load_index(zf_dtype t, const char *p) {
    if (t == ZF_I64) {
        int64_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* One element of es bytes; constant sizes let memcpy inline. */
static inline void copy_elem(char *dst, const char *src, size_t es) {
    switch (es) {
    case 1: *dst = *src; break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, es); break;
    }
}

/* A copy of t's struct with geometry (nd, shape, stride in elements). */
static zf_tensor stand_in(const zf_tensor *t, int nd, const int64_t *shape, const int64_t *stride) {
    zf_tensor v = *t;
    v.ndim = nd;
    for (int i = 0; i < nd; i++) {
        v.shape[i] = shape[i];
        v.stride[i] = stride[i];
    }
    return v;
}

/* t with a 0-dim tensor seen as shape [1] (the frontends count 0-dim as 1-d
 * wherever PyTorch does). */
static zf_tensor nd1(const zf_tensor *t) {
    zf_tensor v = *t;
    if (v.ndim == 0) {
        v.ndim = 1;
        v.shape[0] = 1;
        v.stride[0] = 0;
    }
    return v;
}

/* ---- index checks ---- */
typedef struct {
    zf_dtype t;
    int64_t bound;
    int bad;       /* set by any thread that sees a bad value */
    int64_t value; /* a bad value (the first one after the serial pass) */
} ix_scan;

static void scan_row(void *arg, char **p, const int64_t *s, int64_t n) {
    ix_scan *sc = arg;
    if (__atomic_load_n(&sc->bad, __ATOMIC_RELAXED)) return;
    for (int64_t k = 0; k < n; k++) {
        int64_t v = load_index(sc->t, p[0] + k * s[0]);
        if (v < 0 || v >= sc->bound) {
            __atomic_store_n(&sc->value, v, __ATOMIC_RELAXED);
            __atomic_store_n(&sc->bad, 1, __ATOMIC_RELAXED);
            return;
        }
    }
}

/* Checks every value of `index` against [0, bound) on the pool; when one is
 * bad, a serial pass finds the first in row-major order for the message. */
static zf_status check_indices(zf_engine *e, const zf_op_call *c, const zf_tensor *index, int64_t bound, int dim) {
    if (index->dtype != ZF_I64 && index->dtype != ZF_I32)
        return zf_set_error(ZF_ERR_DTYPE, "%s: index must be i64 or i32, got %s", zf_op_name(c->op),
                            zf_dtype_name(index->dtype));
    if (zf_numel(index) == 0) return ZF_OK;
    ix_scan sc = {index->dtype, bound, 0, 0};
    const zf_tensor *ops[1] = {index};
    zf_iter it;
    zf_iter_init(&it, index->ndim, index->shape, 1, ops);
    zf_iter_parallel(e, &it, 2 * GRAIN, scan_row, &sc);
    if (!sc.bad) return ZF_OK;
    sc.bad = 0;
    zf_iter_range(&it, 0, zf_iter_numel(&it), scan_row, &sc);
    return zf_set_error(ZF_ERR_INDEX, "%s: index %lld is out of range for dim %d of size %lld", zf_op_name(c->op),
                        (long long)sc.value, dim, (long long)bound);
}

/* ---- select: GATHER, INDEX_SELECT, EMBEDDING ---- */
typedef struct {
    zf_dtype ixt;
    int64_t dim_stride; /* bytes between source entries along the indexed dim */
    size_t es;
} select_job;

/* p[0] out, p[1] source at entry 0 of the indexed dim, p[2] index. */
static void select_row(void *arg, char **p, const int64_t *s, int64_t n) {
    const select_job *j = arg;
    int64_t es = (int64_t)j->es;
    if (s[2] == 0) { /* one index value for the whole row: a row copy */
        const char *src = p[1] + load_index(j->ixt, p[2]) * j->dim_stride;
        if (s[0] == es && s[1] == es) {
            memcpy(p[0], src, (size_t)(n * es));
        } else {
            for (int64_t k = 0; k < n; k++) copy_elem(p[0] + k * s[0], src + k * s[1], j->es);
        }
        return;
    }
    for (int64_t k = 0; k < n; k++) {
        int64_t v = load_index(j->ixt, p[2] + k * s[2]);
        copy_elem(p[0] + k * s[0], p[1] + k * s[1] + v * j->dim_stride, j->es);
    }
}

/* out, src and ix all have out's shape; src does not move along the indexed
 * dim (stride 0 there), dim_stride (elements) does that per index value. */
static zf_status run_select(zf_engine *e, const zf_op_call *c, const zf_tensor *out, const zf_tensor *src,
                            const zf_tensor *ix, int64_t bound, int dim, int64_t dim_stride) {
    const zf_tensor *index = c->in[1];
    zf_status st = check_indices(e, c, index, bound, dim);
    if (st != ZF_OK || zf_numel(out) == 0) return st;
    const zf_tensor *ops[3] = {out, src, ix};
    zf_iter it;
    zf_iter_init(&it, out->ndim, out->shape, 3, ops);
    size_t es = zf_dtype_size(out->dtype);
    select_job j = {index->dtype, dim_stride * (int64_t)es, es};
    zf_iter_parallel(e, &it, GRAIN, select_row, &j);
    return ZF_OK;
}

/* out[i] = a[i with dim d replaced by index[i]]; out and index: index's shape. */
static zf_status k_gather(zf_engine *e, const zf_op_call *c) {
    int d = (int)c->p.i[0];
    zf_tensor a = nd1(c->in[0]), ix = nd1(c->in[1]), out = nd1(c->out);
    int64_t st[ZF_MAX_DIMS];
    for (int i = 0; i < a.ndim; i++) st[i] = i == d ? 0 : a.stride[i];
    zf_tensor src = stand_in(&a, ix.ndim, ix.shape, st); /* index.size(k) <= a.size(k) for k != d */
    return run_select(e, c, &out, &src, &ix, a.shape[d], d, a.stride[d]);
}

/* out[..., j, ...] = a[..., index[j], ...] along d; index: [K] or 0-dim. */
static zf_status k_index_select(zf_engine *e, const zf_op_call *c) {
    int d = (int)c->p.i[0];
    const zf_tensor *index = c->in[1];
    zf_tensor a = nd1(c->in[0]), out = nd1(c->out);
    int64_t st[ZF_MAX_DIMS], ish[ZF_MAX_DIMS], ist[ZF_MAX_DIMS];
    for (int i = 0; i < out.ndim; i++) {
        st[i] = i == d ? 0 : a.stride[i];
        ish[i] = i == d ? out.shape[d] : 1;
        ist[i] = i == d && index->ndim ? index->stride[0] : 0;
    }
    zf_tensor src = stand_in(&a, out.ndim, out.shape, st);
    zf_tensor ix = stand_in(index, out.ndim, ish, ist);
    return run_select(e, c, &out, &src, &ix, a.shape[d], d, a.stride[d]);
}

/* Block-quantized table [V, D] (contiguous): out (f32, contiguous [R, D])
 * row r = dequantize(weight row ids[r]). Rows split over threads. */
typedef struct {
    const char *w;
    size_t row_bytes;
    zf_dtype wt, ixt;
    const zf_tensor *ids;
    float *out;
    int64_t D;
    const int64_t *ix_shape, *ix_stride;
    int ix_nd;
    size_t ix_es;
} qembed_job;

static const char *qembed_index_ptr(const qembed_job *j, int64_t r) {
    const char *p = (const char *)zf_ptr(j->ids);
    for (int k = j->ix_nd - 1; k >= 0; k--) {
        int64_t i = r % j->ix_shape[k];
        r /= j->ix_shape[k];
        p += i * j->ix_stride[k] * (int64_t)j->ix_es;
    }
    return p;
}

static void qembed_rows(void *arg, int64_t r0, int64_t r1) {
    const qembed_job *j = arg;
    for (int64_t r = r0; r < r1; r++) {
        int64_t v = load_index(j->ixt, qembed_index_ptr(j, r));
        zf_dequantize(j->wt, j->w + (size_t)v * j->row_bytes, j->out + r * j->D, j->D);
    }
}

static zf_status k_embedding_quant(zf_engine *e, const zf_op_call *c) {
    const zf_tensor *w = c->in[0], *ids = c->in[1];
    zf_tensor *out = c->out;
    if (out->dtype != ZF_F32 || !zf_is_contiguous(out) || !zf_is_contiguous(w))
        return zf_set_error(ZF_ERR_DTYPE, "embedding kernel: a %s table needs contiguous f32 output",
                            zf_dtype_name(w->dtype));
    zf_status st = check_indices(e, c, ids, w->shape[0], 0);
    if (st != ZF_OK || zf_numel(out) == 0) return st;
    qembed_job j = {(const char *)zf_ptr(w), zf_quant_row_size(w->dtype, w->shape[1]), w->dtype, ids->dtype, ids,
                    (float *)zf_ptr(out), w->shape[1], ids->shape, ids->stride, ids->ndim,
                    zf_dtype_size(ids->dtype)};
    zf_parallel_for(e->pool, zf_numel(ids), 1 + GRAIN / (j.D > 0 ? j.D : 1), qembed_rows, &j);
    return ZF_OK;
}

/* weight [V, D], ids [...] -> out [..., D]: out[r, :] = weight[ids[r], :]. */
static zf_status k_embedding(zf_engine *e, const zf_op_call *c) {
    const zf_tensor *w = c->in[0], *ids = c->in[1];
    zf_tensor *out = c->out;
    if (zf_dtype_is_quant(w->dtype)) return k_embedding_quant(e, c);
    int nd = out->ndim; /* ids->ndim + 1 */
    int64_t st[ZF_MAX_DIMS] = {0}, ish[ZF_MAX_DIMS], ist[ZF_MAX_DIMS];
    st[nd - 1] = w->stride[1];
    for (int i = 0; i < nd - 1; i++) {
        ish[i] = ids->shape[i];
        ist[i] = ids->stride[i];
    }
    ish[nd - 1] = 1;
    ist[nd - 1] = 0;
    zf_tensor src = stand_in(w, nd, out->shape, st);
    zf_tensor ix = stand_in(ids, nd, ish, ist);
    return run_select(e, c, out, &src, &ix, w->shape[0], 0, w->stride[0]);
}

/* ---- accumulate: SCATTER_ADD, INDEX_ADD ----
 * The iteration space (index's shape for scatter_add, src's for index_add)
 * is cut into lines along the indexed dim d. Elements of one line write to
 * out entries that share all coordinates but d, and different lines never
 * share those, so threads split the lines and never race; each thread walks
 * its lines one step of d at a time (so rows stay contiguous in memory), and
 * every out entry gets its additions in increasing step order, whatever the
 * thread count. */
typedef struct {
    zf_iter it;         /* over the line shape; p[0] out, p[1] src, p[2] index at step 0 */
    int64_t K;          /* steps along d */
    int64_t step[3];    /* bytes each operand moves per step (out: 0) */
    int64_t dim_stride; /* bytes between out entries along d */
    zf_dtype dt, ixt;
} accum_job;

static void add_elem(zf_dtype t, char *dst, const char *src) {
    if (t == ZF_F64) {
        double a, b;
        memcpy(&a, dst, sizeof a);
        memcpy(&b, src, sizeof b);
        a += b;
        memcpy(dst, &a, sizeof a);
    } else if (zf_dtype_is_float(t)) { /* f32, f16, bf16, f8: rounded to t after each add */
        float a, b;
        zf_convert_to_f32(t, dst, &a, 1);
        zf_convert_to_f32(t, src, &b, 1);
        a += b;
        zf_convert_from_f32(t, &a, dst, 1);
    } else { /* integers wrap; bool becomes logical or */
        int64_t a, b;
        zf_convert_to_i64(t, dst, &a, 1);
        zf_convert_to_i64(t, src, &b, 1);
        a = (int64_t)((uint64_t)a + (uint64_t)b);
        zf_convert_from_i64(t, &a, dst, 1);
    }
}

static void accum_row(void *arg, char **p, const int64_t *s, int64_t n) {
    const accum_job *j = arg;
    if (j->dt == ZF_F32) {
        if (s[0] == 4 && s[1] == 4 && s[2] == 0) { /* contiguous row, one index value */
            float *o = (float *)(p[0] + load_index(j->ixt, p[2]) * j->dim_stride);
            const float *x = (const float *)p[1];
            for (int64_t k = 0; k < n; k++) o[k] += x[k];
            return;
        }
        for (int64_t k = 0; k < n; k++) {
            char *o = p[0] + k * s[0] + load_index(j->ixt, p[2] + k * s[2]) * j->dim_stride;
            float a, b;
            memcpy(&a, o, sizeof a);
            memcpy(&b, p[1] + k * s[1], sizeof b);
            a += b;
            memcpy(o, &a, sizeof a);
        }
        return;
    }
    for (int64_t k = 0; k < n; k++) {
        char *o = p[0] + k * s[0] + load_index(j->ixt, p[2] + k * s[2]) * j->dim_stride;
        add_elem(j->dt, o, p[1] + k * s[1]);
    }
}

static void accum_chunk(void *arg, int64_t begin, int64_t end) {
    const accum_job *j = arg;
    zf_iter it = j->it;
    for (int64_t k = 0; k < j->K; k++) {
        for (int op = 0; op < 3; op++) it.base[op] = j->it.base[op] + k * j->step[op];
        zf_iter_range(&it, begin, end, accum_row, (void *)j);
    }
}

/* out = self (the engine's COPY kernel), then the lines. out_l, src_l, ix_l:
 * the operands over the line shape (size 1 at d) at step 0. */
static zf_status run_accumulate(zf_engine *e, const zf_op_call *c, const zf_tensor *out_l, const zf_tensor *src_l,
                                const zf_tensor *ix_l, int64_t K, const int64_t step[3], int64_t dim_stride,
                                int64_t bound, int dim) {
    const zf_tensor *self = c->in[0], *index = c->in[1];
    zf_status st = check_indices(e, c, index, bound, dim);
    if (st != ZF_OK) return st;
    if (zf_numel(c->out) > 0) {
        zf_op_call copy = {.op = ZF_OP_COPY, .n_in = 1, .in = {self}, .out = c->out};
        st = zf_engine_run(e, &copy);
        if (st != ZF_OK) return st;
    }
    int64_t lines = zf_numel(out_l);
    if (lines == 0 || K == 0) return ZF_OK;
    size_t es = zf_dtype_size(c->out->dtype);
    accum_job j;
    memset(&j, 0, sizeof j);
    const zf_tensor *ops[3] = {out_l, src_l, ix_l};
    zf_iter_init(&j.it, out_l->ndim, out_l->shape, 3, ops);
    j.K = K;
    for (int i = 0; i < 3; i++) j.step[i] = step[i];
    j.dim_stride = dim_stride * (int64_t)es;
    j.dt = c->out->dtype;
    j.ixt = index->dtype;
    int64_t grain = GRAIN / K;
    zf_parallel_for(e->pool, lines, grain < 1 ? 1 : grain, accum_chunk, &j);
    return ZF_OK;
}

/* out = self; out[i with d replaced by index[i]] += src[i] for i over index's
 * shape (index.size(k) <= src.size(k), and <= self.size(k) for k != d). */
static zf_status k_scatter_add(zf_engine *e, const zf_op_call *c) {
    int d = (int)c->p.i[0];
    zf_tensor self = nd1(c->in[0]), ix = nd1(c->in[1]), src = nd1(c->in[2]), out = nd1(c->out);
    int64_t lsh[ZF_MAX_DIMS];
    for (int i = 0; i < ix.ndim; i++) lsh[i] = i == d ? 1 : ix.shape[i];
    zf_tensor out_l = stand_in(&out, ix.ndim, lsh, out.stride);
    zf_tensor src_l = stand_in(&src, ix.ndim, lsh, src.stride);
    zf_tensor ix_l = stand_in(&ix, ix.ndim, lsh, ix.stride);
    int64_t es = (int64_t)zf_dtype_size(src.dtype), ies = (int64_t)zf_dtype_size(ix.dtype);
    int64_t step[3] = {0, src.stride[d] * es, ix.stride[d] * ies};
    return run_accumulate(e, c, &out_l, &src_l, &ix_l, ix.shape[d], step, out.stride[d], self.shape[d], d);
}

/* out = self; out[..., index[j], ...] += src[..., j, ...] along d; index: [K]
 * or 0-dim, src: self's shape with K at d. */
static zf_status k_index_add(zf_engine *e, const zf_op_call *c) {
    int d = (int)c->p.i[0];
    const zf_tensor *index = c->in[1];
    zf_tensor self = nd1(c->in[0]), src = nd1(c->in[2]), out = nd1(c->out);
    int64_t lsh[ZF_MAX_DIMS], zero[ZF_MAX_DIMS] = {0};
    for (int i = 0; i < src.ndim; i++) lsh[i] = i == d ? 1 : src.shape[i];
    zf_tensor out_l = stand_in(&out, src.ndim, lsh, out.stride);
    zf_tensor src_l = stand_in(&src, src.ndim, lsh, src.stride);
    zf_tensor ix_l = stand_in(index, src.ndim, lsh, zero); /* one index value per step */
    int64_t es = (int64_t)zf_dtype_size(src.dtype), ies = (int64_t)zf_dtype_size(index->dtype);
    int64_t step[3] = {0, src.stride[d] * es, (index->ndim ? index->stride[0] : 0) * ies};
    return run_accumulate(e, c, &out_l, &src_l, &ix_l, src.shape[d], step, out.stride[d], self.shape[d], d);
}

/* ---- TRIL / TRIU over the last two dims [..., M, N] ---- */
typedef struct {
    const zf_tensor *a;
    zf_tensor *out;
    bool upper;
    int64_t k; /* diagonal, clamped to [-M, N] (same result, no overflow) */
    int64_t M, N;
} tri_job;

/* Byte offset of row r (row-major over all dims but the last) in t. */
static int64_t row_offset(const zf_tensor *t, int64_t r) {
    int64_t off = 0;
    for (int i = t->ndim - 2; i >= 0; i--) {
        off += (r % t->shape[i]) * t->stride[i];
        r /= t->shape[i];
    }
    return off * (int64_t)zf_dtype_size(t->dtype);
}

/* Zeroes entries [lo, hi) of a row (0 is all-zero bits in every dtype). */
static void zero_run(char *po, int64_t so, int64_t lo, int64_t hi, size_t es) {
    if (so == (int64_t)es) {
        if (hi > lo) memset(po + lo * so, 0, (size_t)(hi - lo) * es);
        return;
    }
    for (int64_t c = lo; c < hi; c++) memset(po + c * so, 0, es);
}

static void tri_chunk(void *arg, int64_t begin, int64_t end) {
    const tri_job *j = arg;
    size_t es = zf_dtype_size(j->a->dtype);
    int64_t sa = j->a->stride[j->a->ndim - 1] * (int64_t)es, so = j->out->stride[j->out->ndim - 1] * (int64_t)es;
    for (int64_t r = begin; r < end; r++) {
        int64_t i = r % j->M, lo, hi; /* columns [lo, hi) are kept */
        if (j->upper) {
            lo = i + j->k < 0 ? 0 : (i + j->k > j->N ? j->N : i + j->k);
            hi = j->N;
        } else {
            lo = 0;
            hi = i + j->k + 1 < 0 ? 0 : (i + j->k + 1 > j->N ? j->N : i + j->k + 1);
        }
        const char *pa = zf_ptr(j->a) + row_offset(j->a, r);
        char *po = zf_ptr(j->out) + row_offset(j->out, r);
        zero_run(po, so, 0, lo, es);
        if (sa == (int64_t)es && so == (int64_t)es) {
            if (hi > lo) memcpy(po + lo * so, pa + lo * sa, (size_t)(hi - lo) * es);
        } else {
            for (int64_t col = lo; col < hi; col++) copy_elem(po + col * so, pa + col * sa, es);
        }
        zero_run(po, so, hi, j->N, es);
    }
}

static zf_status k_triangle(zf_engine *e, const zf_op_call *c) {
    const zf_tensor *a = c->in[0];
    if (a->ndim < 2) return zf_set_error(ZF_ERR_SHAPE, "%s: input must have at least 2 dims", zf_op_name(c->op));
    tri_job j = {a, c->out, c->op == ZF_OP_TRIU, c->p.i[0], a->shape[a->ndim - 2], a->shape[a->ndim - 1]};
    if (j.k > j.N) j.k = j.N;
    if (j.k < -j.M) j.k = -j.M;
    int64_t rows = j.N ? zf_numel(a) / j.N : 0;
    int64_t grain = j.N ? GRAIN / j.N : 1;
    zf_parallel_for(e->pool, rows, grain < 1 ? 1 : grain, tri_chunk, &j);
    return ZF_OK;
}

void zf_cpu_register_index(zf_kernel_fn *k) {
    k[ZF_OP_GATHER] = k_gather;
    k[ZF_OP_INDEX_SELECT] = k_index_select;
    k[ZF_OP_EMBEDDING] = k_embedding;
    k[ZF_OP_SCATTER_ADD] = k_scatter_add;
    k[ZF_OP_INDEX_ADD] = k_index_add;
    k[ZF_OP_TRIL] = k_triangle;
    k[ZF_OP_TRIU] = k_triangle;
}
