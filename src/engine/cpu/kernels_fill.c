/* CPU kernels that write values without reading tensors (fill, arange, eye,
 * rand, randn) and COPY (strided copy with dtype conversion). */
#include <string.h>

#include "core/philox.h"
#include "engine/cpu/cpu.h"
#include "zerfoo/quant.h"

#define TILE 256

/* out is contiguous (the frontend allocates it). Values are produced in f64
 * tiles and converted once. */
typedef struct {
    const zf_op_call *c;
    int64_t n;
} gen_job;

/* 1 - 2^-(mantissa bits + 1): the largest value below 1 of a float dtype. */
static double rand_below_one(zf_dtype t) {
    switch (t) {
    case ZF_F16: return 1.0 - 0x1p-11;
    case ZF_BF16: return 1.0 - 0x1p-8;
    case ZF_F8_E4M3: return 1.0 - 0x1p-4;
    case ZF_F8_E5M2: return 1.0 - 0x1p-3;
    default: return 1.0 - 0x1p-24; /* f32 */
    }
}

static void gen_chunk(void *p, int64_t begin, int64_t end) {
    gen_job *j = p;
    const zf_op_call *c = j->c;
    zf_tensor *out = c->out;
    size_t es = zf_dtype_size(out->dtype);
    char *base = zf_ptr(out);
    double buf[TILE];
    uint64_t seed = (uint64_t)c->p.i[0], stream = (uint64_t)c->p.i[1];
    for (int64_t off = begin; off < end; off += TILE) {
        int64_t m = end - off < TILE ? end - off : TILE;
        for (int64_t k = 0; k < m; k++) {
            int64_t i = off + k;
            double v;
            switch (c->op) {
            case ZF_OP_FILL: v = c->p.f[0]; break;
            case ZF_OP_ARANGE:
                if (c->p.i[0] == 1 && i >= j->n / 2) /* linspace: count back from the end */
                    v = c->p.f[2] - c->p.f[1] * (double)(j->n - 1 - i);
                else
                    v = c->p.f[0] + c->p.f[1] * (double)i;
                break;
            case ZF_OP_RAND: v = zf_rng_uniform(seed, stream, (uint64_t)i); break;
            case ZF_OP_RANDN: v = zf_rng_normal(seed, stream, (uint64_t)i); break;
            case ZF_OP_EYE: {
                int64_t cols = out->shape[1];
                v = (i / cols == i % cols) ? 1.0 : 0.0;
                break;
            }
            default: v = 0; break;
            }
            buf[k] = v;
        }
        if (c->op == ZF_OP_RAND && out->dtype != ZF_F64) {
            /* keep uniform values strictly below 1 after rounding to a
             * narrower float: clamp to the dtype's largest value below 1 */
            double lim = rand_below_one(out->dtype);
            for (int64_t k = 0; k < m; k++)
                if (buf[k] > lim) buf[k] = lim;
        }
        zf_convert_from_f64(out->dtype, buf, base + (size_t)off * es, (size_t)m);
    }
}

static zf_status k_generate(zf_engine *e, const zf_op_call *c) {
    gen_job j = {c, zf_numel(c->out)};
    if (!zf_is_contiguous(c->out)) return zf_set_error(ZF_ERR_INTERNAL, "%s: output must be contiguous", zf_op_name(c->op));
    zf_parallel_for(e->pool, j.n, 1 << 14, gen_chunk, &j);
    return ZF_OK;
}

/* ---- COPY ---- */
typedef struct {
    zf_dtype to, from;
} copy_ctx;

static void copy_row(void *arg, char **p, const int64_t *s, int64_t n) {
    copy_ctx *c = arg;
    if (c->to == c->from) {
        size_t es = zf_dtype_size(c->to);
        if (s[0] == (int64_t)es && s[1] == (int64_t)es) {
            memcpy(p[0], p[1], (size_t)n * es);
            return;
        }
        for (int64_t i = 0; i < n; i++) memcpy(p[0] + i * s[0], p[1] + i * s[1], es);
        return;
    }
    bool to_int = !zf_dtype_is_float(c->to), from_int = !zf_dtype_is_float(c->from);
    for (int64_t off = 0; off < n; off += TILE) {
        int64_t m = n - off < TILE ? n - off : TILE;
        char *po = p[0] + off * s[0];
        const char *pi = p[1] + off * s[1];
        if (from_int) {
            /* int -> anything goes through exact int64: an int -> float
             * conversion then rounds once (through f64, an i64 above 2^53
             * would round twice) */
            int64_t b[TILE];
            zf_load_i64(c->from, pi, s[1], b, m);
            zf_store_i64(c->to, po, s[0], b, m);
        } else if (!to_int && !from_int && c->to != ZF_F64 && c->from != ZF_F64) {
            float b[TILE]; /* f32 holds every f16/bf16/f8 value exactly */
            zf_load_f32(c->from, pi, s[1], b, m);
            zf_store_f32(c->to, po, s[0], b, m);
        } else {
            double b[TILE];
            zf_load_f64(c->from, pi, s[1], b, m);
            zf_store_f64(c->to, po, s[0], b, m);
        }
    }
}

/* ---- COPY to/from block-quantized dtypes, one row (last dim) at a time ----
 * Quantized tensors keep whole blocks contiguous along the last dim; rows
 * are dequantized (or quantized) in 256-element pieces (a multiple of every
 * block size) through an f32 tile. */
typedef struct {
    const zf_tensor *src;
    zf_tensor *dst;
    int64_t K; /* row length */
    zf_status status;
} qcopy_job;

/* Byte pointer of element (row r, column 0) of a tensor with rows of K. */
static char *row_ptr(const zf_tensor *t, int64_t r, int64_t K) {
    int64_t off = 0;
    for (int i = t->ndim - 2; i >= 0; i--) {
        off += (r % t->shape[i]) * t->stride[i];
        r /= t->shape[i];
    }
    (void)K;
    int64_t blk = zf_dtype_block(t->dtype);
    return zf_ptr(t) + off / blk * (int64_t)zf_dtype_size(t->dtype);
}

static void qcopy_rows(void *arg, int64_t begin, int64_t end) {
    qcopy_job *j = arg;
    const zf_tensor *s = j->src;
    zf_tensor *d = j->dst;
    float buf[TILE];
    bool deq = zf_dtype_is_quant(s->dtype);
    zf_dtype q = deq ? s->dtype : d->dtype;
    int64_t blk = zf_dtype_block(q), bsz = (int64_t)zf_dtype_size(q);
    for (int64_t r = begin; r < end; r++) {
        char *ps = row_ptr(s, r, j->K), *pd = row_ptr(d, r, j->K);
        for (int64_t k = 0; k < j->K; k += TILE) {
            int64_t m = j->K - k < TILE ? j->K - k : TILE;
            if (deq) {
                if (zf_dequantize(q, ps + k / blk * bsz, buf, m) != ZF_OK) j->status = ZF_ERR_UNSUPPORTED;
                zf_store_f32(d->dtype, pd + k * d->stride[d->ndim - 1] * (int64_t)zf_dtype_size(d->dtype),
                             d->stride[d->ndim - 1] * (int64_t)zf_dtype_size(d->dtype), buf, m);
            } else {
                zf_load_f32(s->dtype, ps + k * s->stride[s->ndim - 1] * (int64_t)zf_dtype_size(s->dtype),
                            s->stride[s->ndim - 1] * (int64_t)zf_dtype_size(s->dtype), buf, m);
                if (zf_quantize(q, buf, pd + k / blk * bsz, m) != ZF_OK) j->status = ZF_ERR_UNSUPPORTED;
            }
        }
    }
}

static zf_status k_copy_quant(zf_engine *e, const zf_op_call *c) {
    const zf_tensor *src = c->in[0];
    zf_tensor *dst = c->out;
    if (zf_dtype_is_quant(src->dtype) && zf_dtype_is_quant(dst->dtype) && src->dtype != dst->dtype)
        return zf_set_error(ZF_ERR_UNSUPPORTED, "copy: %s -> %s needs a float step", zf_dtype_name(src->dtype),
                            zf_dtype_name(dst->dtype));
    if (src->ndim != dst->ndim || !zf_same_shape(src, dst) || dst->ndim == 0)
        return zf_set_error(ZF_ERR_SHAPE, "copy: quantized copies need equal shapes (no broadcasting)");
    zf_dtype q = zf_dtype_is_quant(src->dtype) ? src->dtype : dst->dtype;
    if (!zf_quant_supported(q)) return zf_set_error(ZF_ERR_UNSUPPORTED, "copy: %s is not supported", zf_dtype_name(q));
    if (zf_dtype_is_quant(src->dtype) && zf_dtype_is_quant(dst->dtype)) {
        memcpy(zf_ptr(dst), zf_ptr(src), zf_nbytes(src));
        return ZF_OK;
    }
    const zf_tensor *qt = zf_dtype_is_quant(src->dtype) ? src : dst;
    if (qt->stride[qt->ndim - 1] != 1)
        return zf_set_error(ZF_ERR_SHAPE, "copy: a %s tensor must be contiguous along its last dim",
                            zf_dtype_name(q));
    qcopy_job j = {src, dst, dst->shape[dst->ndim - 1], ZF_OK};
    int64_t rows = zf_numel(dst) / (j.K ? j.K : 1);
    zf_parallel_for(e->pool, rows, (1 << 14) / (j.K ? j.K : 1) + 1, qcopy_rows, &j);
    if (j.status) return zf_set_error(j.status, "copy: cannot convert %s", zf_dtype_name(q));
    return ZF_OK;
}

static zf_status k_copy(zf_engine *e, const zf_op_call *c) {
    const zf_tensor *src = c->in[0];
    zf_tensor *dst = c->out;
    if (zf_dtype_is_quant(src->dtype) || zf_dtype_is_quant(dst->dtype)) return k_copy_quant(e, c);
    const zf_tensor *ops[2] = {dst, src};
    zf_iter it;
    zf_iter_init(&it, dst->ndim, dst->shape, 2, ops);
    copy_ctx cc = {dst->dtype, src->dtype};
    zf_iter_parallel(e, &it, 1 << 15, copy_row, &cc);
    return ZF_OK;
}

void zf_cpu_register_fill(zf_kernel_fn *k) {
    k[ZF_OP_FILL] = k_generate;
    k[ZF_OP_ARANGE] = k_generate;
    k[ZF_OP_RAND] = k_generate;
    k[ZF_OP_RANDN] = k_generate;
    k[ZF_OP_EYE] = k_generate;
    k[ZF_OP_COPY] = k_copy;
}
