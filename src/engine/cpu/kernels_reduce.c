/* CPU reductions (sum, mean, max, min, prod, var, logsumexp, argmax,
 * argmin) and softmax / log_softmax.
 *
 * The input is split into kept dims (outer) and reduced dims (inner, p.i[0]
 * bitmask). Each output element folds its reduced block, read in tiles and
 * accumulated in double (int64 for integer sums/products/extrema, so large
 * integers stay exact). When the reduced dims are all outside a contiguous
 * block of kept dims (bias gradients: sum over the batch of [B, C]) whole rows
 * are accumulated at once instead. Outputs are contiguous with keepdim shape. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpu/cpu.h"
#include "engine/cpu/vmath.h"

#define TILE 256

typedef struct {
    const zf_op_call *c;
    const zf_tensor *a;
    int nk, nr;                 /* kept and reduced dims */
    int64_t kshape[ZF_MAX_DIMS], kstride[ZF_MAX_DIMS]; /* strides in bytes */
    int64_t rshape[ZF_MAX_DIMS], rstride[ZF_MAX_DIMS];
    int64_t R;                  /* reduced element count */
    bool int_path;
    size_t es_out;
} red_job;

/* Splits dims by mask and collapses contiguous runs of reduced dims. */
static void split_dims(red_job *j, int64_t mask) {
    const zf_tensor *a = j->a;
    int64_t es = (int64_t)zf_dtype_size(a->dtype);
    j->nk = j->nr = 0;
    j->R = 1;
    for (int d = 0; d < a->ndim; d++) {
        if ((mask >> d) & 1) {
            j->R *= a->shape[d];
            if (a->shape[d] == 1) continue;
            if (j->nr > 0 && j->rstride[j->nr - 1] == a->stride[d] * es * a->shape[d]) {
                j->rshape[j->nr - 1] *= a->shape[d];
                j->rstride[j->nr - 1] = a->stride[d] * es;
            } else {
                j->rshape[j->nr] = a->shape[d];
                j->rstride[j->nr++] = a->stride[d] * es;
            }
        } else {
            j->kshape[j->nk] = a->shape[d];
            j->kstride[j->nk++] = a->stride[d] * es;
        }
    }
    if (j->nr == 0) { /* nothing (or only size-1 dims) reduced */
        j->rshape[0] = 1;
        j->rstride[0] = 0;
        j->nr = 1;
    }
}

typedef struct {
    double s, m;  /* sum (or product), extreme */
    int64_t is, im, idx, pos;
    bool nan;
} fold_state;

/* Calls fn on each tile of the reduced block starting at base. */
typedef void (*tile_fn)(void *st, const double *x, const int64_t *xi, int64_t n);

static void walk_block(const red_job *j, const char *base, tile_fn fn, void *st) {
    int nr = j->nr, last = nr - 1;
    int64_t idx[ZF_MAX_DIMS] = {0};
    double buf[TILE];
    int64_t ibuf[TILE];
    zf_dtype t = j->a->dtype;
    for (;;) {
        const char *p = base;
        for (int i = 0; i < last; i++) p += idx[i] * j->rstride[i];
        int64_t n = j->rshape[last], s = j->rstride[last];
        for (int64_t off = 0; off < n; off += TILE) {
            int64_t m = n - off < TILE ? n - off : TILE;
            if (j->int_path) {
                zf_load_i64(t, p + off * s, s, ibuf, m);
                fn(st, NULL, ibuf, m);
            } else {
                zf_load_f64(t, p + off * s, s, buf, m);
                fn(st, buf, NULL, m);
            }
        }
        int i = last - 1;
        for (; i >= 0; i--) {
            if (++idx[i] < j->rshape[i]) break;
            idx[i] = 0;
        }
        if (i < 0) break;
    }
}

static void t_sum(void *p, const double *x, const int64_t *xi, int64_t n) {
    fold_state *f = p;
    if (xi) {
        for (int64_t i = 0; i < n; i++) f->is = (int64_t)((uint64_t)f->is + (uint64_t)xi[i]);
    } else {
        double s = 0;
        for (int64_t i = 0; i < n; i++) s += x[i];
        f->s += s;
    }
}
static void t_prod(void *p, const double *x, const int64_t *xi, int64_t n) {
    fold_state *f = p;
    if (xi) {
        for (int64_t i = 0; i < n; i++) f->is = (int64_t)((uint64_t)f->is * (uint64_t)xi[i]);
    } else {
        for (int64_t i = 0; i < n; i++) f->s *= x[i];
    }
}
static void t_max(void *p, const double *x, const int64_t *xi, int64_t n) {
    fold_state *f = p;
    for (int64_t i = 0; i < n; i++, f->pos++) {
        if (xi) {
            if (f->pos == 0 || xi[i] > f->im) f->im = xi[i], f->idx = f->pos;
        } else if (!f->nan) {
            if (x[i] != x[i]) f->nan = true, f->m = x[i], f->idx = f->pos;
            else if (f->pos == 0 || x[i] > f->m) f->m = x[i], f->idx = f->pos;
        }
    }
}
static void t_min(void *p, const double *x, const int64_t *xi, int64_t n) {
    fold_state *f = p;
    for (int64_t i = 0; i < n; i++, f->pos++) {
        if (xi) {
            if (f->pos == 0 || xi[i] < f->im) f->im = xi[i], f->idx = f->pos;
        } else if (!f->nan) {
            if (x[i] != x[i]) f->nan = true, f->m = x[i], f->idx = f->pos;
            else if (f->pos == 0 || x[i] < f->m) f->m = x[i], f->idx = f->pos;
        }
    }
}
/* second passes: sum of squared deviations from f->m, sum of exp(x - f->m) */
static void t_sqdev(void *p, const double *x, const int64_t *xi, int64_t n) {
    fold_state *f = p;
    (void)xi;
    for (int64_t i = 0; i < n; i++) f->s += (x[i] - f->m) * (x[i] - f->m);
}
static void t_sumexp(void *p, const double *x, const int64_t *xi, int64_t n) {
    fold_state *f = p;
    (void)xi;
    for (int64_t i = 0; i < n; i++) f->s += exp(x[i] - f->m);
}

static void reduce_chunk(void *arg, int64_t begin, int64_t end) {
    const red_job *j = arg;
    const zf_op_call *c = j->c;
    zf_op op = c->op;
    char *out = zf_ptr(c->out);
    const char *abase = zf_ptr(j->a);
    for (int64_t o = begin; o < end; o++) {
        /* kept index o (row-major over kept dims) -> base pointer */
        const char *base = abase;
        int64_t rem = o;
        for (int i = j->nk - 1; i >= 0; i--) {
            base += (rem % j->kshape[i]) * j->kstride[i];
            rem /= j->kshape[i];
        }
        fold_state f = {0};
        double r = 0;
        int64_t ri = 0;
        bool as_int = false;
        switch (op) {
        case ZF_OP_SUM:
        case ZF_OP_MEAN:
            walk_block(j, base, t_sum, &f);
            if (j->int_path) ri = f.is, as_int = true;
            else r = op == ZF_OP_MEAN ? f.s / (double)j->R : f.s;
            break;
        case ZF_OP_PROD:
            f.s = 1;
            f.is = 1;
            walk_block(j, base, t_prod, &f);
            if (j->int_path) ri = f.is, as_int = true;
            else r = f.s;
            break;
        case ZF_OP_MAX:
        case ZF_OP_ARGMAX:
            walk_block(j, base, t_max, &f);
            if (op == ZF_OP_ARGMAX) ri = f.idx, as_int = true;
            else if (j->int_path) ri = f.im, as_int = true;
            else r = f.m;
            break;
        case ZF_OP_MIN:
        case ZF_OP_ARGMIN:
            walk_block(j, base, t_min, &f);
            if (op == ZF_OP_ARGMIN) ri = f.idx, as_int = true;
            else if (j->int_path) ri = f.im, as_int = true;
            else r = f.m;
            break;
        case ZF_OP_VAR: {
            walk_block(j, base, t_sum, &f);
            f.m = f.s / (double)j->R;
            f.s = 0;
            walk_block(j, base, t_sqdev, &f);
            double dof = (double)j->R - (double)c->p.i[2];
            r = dof > 0 ? f.s / dof : NAN;
            break;
        }
        case ZF_OP_LOGSUMEXP: {
            walk_block(j, base, t_max, &f);
            if (j->R == 0) {
                r = -INFINITY;
            } else if (f.nan || isinf(f.m)) {
                r = f.m; /* NaN, +inf, or all -inf */
            } else {
                f.s = 0;
                walk_block(j, base, t_sumexp, &f);
                r = f.m + log(f.s);
            }
            break;
        }
        default: break;
        }
        if (as_int)
            zf_store_i64(c->out->dtype, out + o * (int64_t)j->es_out, 0, &ri, 1);
        else
            zf_store_f64(c->out->dtype, out + o * (int64_t)j->es_out, 0, &r, 1);
    }
}

/* Column path: reduced dims all outside a contiguous block of kept dims.
 * acc[k] over kept elements [begin, end) accumulates whole rows. */
typedef struct {
    const red_job *j;
    int64_t K;        /* kept (inner, contiguous) element count */
} col_job;

static void col_chunk(void *arg, int64_t begin, int64_t end) {
    const col_job *cj = arg;
    const red_job *j = cj->j;
    const zf_op_call *c = j->c;
    zf_op op = c->op;
    zf_dtype t = j->a->dtype;
    int64_t es = (int64_t)zf_dtype_size(t);
    double acc[TILE], x[TILE];
    for (int64_t k0 = begin; k0 < end; k0 += TILE) {
        int64_t m = end - k0 < TILE ? end - k0 : TILE;
        double init = op == ZF_OP_PROD ? 1.0 : (op == ZF_OP_MAX ? -INFINITY : (op == ZF_OP_MIN ? INFINITY : 0.0));
        for (int64_t i = 0; i < m; i++) acc[i] = init;
        /* iterate the reduced dims */
        int64_t idx[ZF_MAX_DIMS] = {0};
        for (;;) {
            const char *p = zf_ptr(j->a) + k0 * es;
            for (int i = 0; i < j->nr; i++) p += idx[i] * j->rstride[i];
            zf_load_f64(t, p, es, x, m);
            switch (op) {
            case ZF_OP_PROD: for (int64_t i = 0; i < m; i++) acc[i] *= x[i]; break;
            case ZF_OP_MAX:
                for (int64_t i = 0; i < m; i++) acc[i] = (x[i] > acc[i] || x[i] != x[i]) && acc[i] == acc[i] ? x[i] : acc[i];
                break;
            case ZF_OP_MIN:
                for (int64_t i = 0; i < m; i++) acc[i] = (x[i] < acc[i] || x[i] != x[i]) && acc[i] == acc[i] ? x[i] : acc[i];
                break;
            default: for (int64_t i = 0; i < m; i++) acc[i] += x[i]; break;
            }
            int i = j->nr - 1;
            for (; i >= 0; i--) {
                if (++idx[i] < j->rshape[i]) break;
                idx[i] = 0;
            }
            if (i < 0) break;
        }
        if (op == ZF_OP_MEAN)
            for (int64_t i = 0; i < m; i++) acc[i] /= (double)j->R;
        zf_store_f64(c->out->dtype, zf_ptr(c->out) + k0 * (int64_t)j->es_out, (int64_t)j->es_out, acc, m);
    }
}

static zf_status k_reduce(zf_engine *e, const zf_op_call *c) {
    red_job j;
    memset(&j, 0, sizeof j);
    j.c = c;
    j.a = c->in[0];
    j.es_out = zf_dtype_size(c->out->dtype);
    j.int_path = !zf_dtype_is_float(j.a->dtype);
    split_dims(&j, c->p.i[0]);
    int64_t O = zf_numel(c->out);
    /* Column path: float input, kept dims form one contiguous inner block. */
    bool simple = c->op == ZF_OP_SUM || c->op == ZF_OP_MEAN || c->op == ZF_OP_PROD || c->op == ZF_OP_MAX ||
                  c->op == ZF_OP_MIN;
    if (simple && !j.int_path && O > 1 && j.R > 1) {
        int64_t es = (int64_t)zf_dtype_size(j.a->dtype), s = es;
        bool contig = true;
        for (int i = j.nk - 1; i >= 0; i--) {
            if (j.kshape[i] == 1) continue;
            if (j.kstride[i] != s) contig = false;
            s *= j.kshape[i];
        }
        int64_t mask = c->p.i[0];
        int last_kept = -1, first_red_after = 0;
        for (int d = 0; d < j.a->ndim; d++) {
            if (!((mask >> d) & 1) && j.a->shape[d] != 1) last_kept = d;
        }
        for (int d = 0; d < j.a->ndim; d++)
            if (((mask >> d) & 1) && j.a->shape[d] != 1 && d > last_kept) first_red_after = 1;
        (void)last_kept;
        if (contig && !first_red_after) {
            col_job cj = {&j, O};
            zf_parallel_for(e->pool, O, TILE, col_chunk, &cj);
            return ZF_OK;
        }
    }
    int64_t grain = j.R > 0 ? (1 << 15) / j.R : 1 << 15;
    zf_parallel_for(e->pool, O, grain < 1 ? 1 : grain, reduce_chunk, &j);
    return ZF_OK;
}

/* ---- softmax / log_softmax along one dim ---- */
typedef struct {
    const zf_op_call *c;
    int dim;
    int64_t L, ls_in, ls_out; /* row length, byte strides along dim */
    red_job kept;             /* kept dims of the input (strides in bytes) */
    int64_t okstride[ZF_MAX_DIMS];
} sm_job;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define ZF_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ZF_CLONES
#endif

/* One contiguous f32 row: max, sum of exp(x - max), then the output. The
 * simd reductions let the compiler vectorize (lane order changes rounding,
 * within the harness's f32 tolerance). */
ZF_CLONES static void softmax_row_f32(const float *restrict x, float *restrict y, int64_t L, bool logsm) {
    float m = -INFINITY;
    bool nan = false;
#pragma omp simd reduction(max : m) reduction(| : nan)
    for (int64_t i = 0; i < L; i++) {
        m = x[i] > m ? x[i] : m;
        nan |= x[i] != x[i];
    }
    if (nan) {
        for (int64_t i = 0; i < L; i++) y[i] = NAN;
        return;
    }
    if (m == -INFINITY) m = 0.0f; /* all -inf: exp gives 0, the sum 0 -> NaN like PyTorch */
    float s = 0;
    if (logsm) {
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < L; i++) s += zf_vexpf(x[i] - m);
        float ls = m + logf(s);
#pragma omp simd
        for (int64_t i = 0; i < L; i++) y[i] = x[i] - ls;
    } else {
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < L; i++) {
            float e = zf_vexpf(x[i] - m);
            y[i] = e;
            s += e;
        }
        float inv = 1.0f / s;
#pragma omp simd
        for (int64_t i = 0; i < L; i++) y[i] *= inv;
    }
}

static void sm_chunk(void *arg, int64_t begin, int64_t end) {
    const sm_job *j = arg;
    const zf_op_call *c = j->c;
    const zf_tensor *a = c->in[0];
    bool logsm = c->op == ZF_OP_LOG_SOFTMAX;
    zf_dtype ti = a->dtype, to = c->out->dtype;
    for (int64_t o = begin; o < end; o++) {
        const char *pi = zf_ptr(a);
        char *po = zf_ptr(c->out);
        int64_t rem = o;
        for (int i = j->kept.nk - 1; i >= 0; i--) {
            int64_t k = rem % j->kept.kshape[i];
            rem /= j->kept.kshape[i];
            pi += k * j->kept.kstride[i];
            po += k * j->okstride[i];
        }
        if (ti == ZF_F32 && to == ZF_F32 && j->ls_in == 4 && j->ls_out == 4) {
            softmax_row_f32((const float *)pi, (float *)po, j->L, logsm);
            continue;
        }
        /* generic: three passes in double over tiles */
        double buf[TILE], m = -INFINITY, s = 0;
        for (int64_t off = 0; off < j->L; off += TILE) {
            int64_t n = j->L - off < TILE ? j->L - off : TILE;
            zf_load_f64(ti, pi + off * j->ls_in, j->ls_in, buf, n);
            for (int64_t i = 0; i < n; i++) m = (buf[i] > m || buf[i] != buf[i]) && m == m ? buf[i] : m;
        }
        if (m == -INFINITY) m = 0;
        for (int64_t off = 0; off < j->L; off += TILE) {
            int64_t n = j->L - off < TILE ? j->L - off : TILE;
            zf_load_f64(ti, pi + off * j->ls_in, j->ls_in, buf, n);
            for (int64_t i = 0; i < n; i++) s += exp(buf[i] - m);
        }
        double ls = m + log(s);
        for (int64_t off = 0; off < j->L; off += TILE) {
            int64_t n = j->L - off < TILE ? j->L - off : TILE;
            zf_load_f64(ti, pi + off * j->ls_in, j->ls_in, buf, n);
            for (int64_t i = 0; i < n; i++) buf[i] = logsm ? buf[i] - ls : exp(buf[i] - ls);
            zf_store_f64(to, po + off * j->ls_out, j->ls_out, buf, n);
        }
    }
}

static zf_status k_softmax(zf_engine *e, const zf_op_call *c) {
    const zf_tensor *a = c->in[0];
    sm_job j;
    memset(&j, 0, sizeof j);
    j.c = c;
    int64_t mask = c->p.i[0];
    int d = 0;
    while (d < a->ndim && !((mask >> d) & 1)) d++;
    j.dim = d;
    int64_t esi = (int64_t)zf_dtype_size(a->dtype), eso = (int64_t)zf_dtype_size(c->out->dtype);
    j.L = a->ndim ? a->shape[d] : 1;
    j.ls_in = a->ndim ? a->stride[d] * esi : esi;
    j.ls_out = a->ndim ? c->out->stride[d] * eso : eso;
    for (int i = 0; i < a->ndim; i++) {
        if (i == d) continue;
        j.kept.kshape[j.kept.nk] = a->shape[i];
        j.kept.kstride[j.kept.nk] = a->stride[i] * esi;
        j.okstride[j.kept.nk++] = c->out->stride[i] * eso;
    }
    int64_t O = zf_numel(a) / (j.L ? j.L : 1);
    if (j.L == 0) return ZF_OK;
    int64_t grain = (1 << 14) / j.L;
    zf_parallel_for(e->pool, O, grain < 1 ? 1 : grain, sm_chunk, &j);
    return ZF_OK;
}

void zf_cpu_register_reduce(zf_kernel_fn *k) {
    k[ZF_OP_SUM] = k_reduce;
    k[ZF_OP_MEAN] = k_reduce;
    k[ZF_OP_MAX] = k_reduce;
    k[ZF_OP_MIN] = k_reduce;
    k[ZF_OP_PROD] = k_reduce;
    k[ZF_OP_VAR] = k_reduce;
    k[ZF_OP_LOGSUMEXP] = k_reduce;
    k[ZF_OP_ARGMAX] = k_reduce;
    k[ZF_OP_ARGMIN] = k_reduce;
    k[ZF_OP_SOFTMAX] = k_softmax;
    k[ZF_OP_LOG_SOFTMAX] = k_softmax;
}
