/* CPU kernels of the fused cross-entropy: CROSS_ENTROPY and its gradient.
 *
 * x [N, C] logits (or log-probabilities when p.i[1] = 1), t [N] integer
 * class indices, ls = p.f[0] label smoothing, ignore = p.i[0]:
 *   logp = x - logsumexp(x)         (x itself for log-probabilities)
 *   l[n] = -(1 - ls) * logp[n, t] - ls/C * sum_c logp[n, c],  0 when t == ignore
 *   dx[n, c] = g[n] * (p[n, c] - (1 - ls) * [c == t] - ls/C),
 * with p = softmax(x) for logits and 0 for log-probabilities. Sums run in
 * double. Rows are independent and split over threads. A target outside
 * [0, C) that is not `ignore` is ZF_ERR_INDEX. */
#include <math.h>
#include <stdatomic.h>

#include "engine/cpu/cpu.h"

typedef struct {
    const zf_op_call *c;
    const zf_tensor *x, *t;
    int64_t N, C;
    double ls;
    int64_t ignore;
    bool logp_in, grad, f64;
    _Atomic int64_t bad_row; /* lowest row with a bad target + 1 (0: none) */
} ce_job;

static inline double ld(const ce_job *j, const char *p, int64_t i) {
    return j->f64 ? ((const double *)p)[i] : (double)((const float *)p)[i];
}

static void ce_rows(void *arg, int64_t begin, int64_t end) {
    ce_job *j = arg;
    const zf_op_call *c = j->c;
    const char *xb = zf_ptr(j->x);
    int64_t xs = j->x->stride[0], ts = j->t->stride[0];
    const char *tb = zf_ptr(j->t);
    size_t tes = zf_dtype_size(j->t->dtype);
    int64_t C = j->C;
    for (int64_t n = begin; n < end; n++) {
        int64_t t;
        zf_convert_to_i64(j->t->dtype, tb + (size_t)(n * ts) * tes, &t, 1);
        const char *x = xb + (size_t)(n * xs) * (j->f64 ? 8 : 4);
        bool ignored = t == j->ignore;
        if (!ignored && (t < 0 || t >= C)) {
            int64_t cur = atomic_load(&j->bad_row); /* keep the lowest bad row */
            while ((cur == 0 || cur > n + 1) && !atomic_compare_exchange_weak(&j->bad_row, &cur, n + 1)) {
            }
            t = 0;
            ignored = true;
        }
        double lse = 0;
        if (!j->logp_in) {
            double m = -INFINITY;
            for (int64_t k = 0; k < C; k++) {
                double v = ld(j, x, k);
                if (v > m || isnan(v)) m = v;
            }
            double s = 0;
            if (isinf(m) && m < 0) m = 0; /* all -inf: logp stays -inf */
            for (int64_t k = 0; k < C; k++) s += exp(ld(j, x, k) - m);
            lse = m + log(s);
        }
        if (!j->grad) {
            double r = 0;
            if (!ignored) {
                r = -(1 - j->ls) * (ld(j, x, t) - lse);
                if (j->ls != 0) {
                    double s = 0;
                    for (int64_t k = 0; k < C; k++) s += ld(j, x, k) - lse;
                    r -= j->ls / (double)C * s;
                }
            }
            if (j->f64)
                ((double *)zf_ptr(c->out))[n] = r;
            else
                ((float *)zf_ptr(c->out))[n] = (float)r;
            continue;
        }
        const zf_tensor *gt = c->in[0];
        double g = ignored ? 0 : ld(j, zf_ptr(gt), n * gt->stride[0]);
        double off = j->ls / (double)C;
        char *o = zf_ptr(c->out) + (size_t)(n * C) * (j->f64 ? 8 : 4);
        for (int64_t k = 0; k < C; k++) {
            double p = j->logp_in ? 0 : exp(ld(j, x, k) - lse);
            double d = ignored ? 0 : g * (p - off - (k == t ? 1 - j->ls : 0));
            if (j->f64)
                ((double *)o)[k] = d;
            else
                ((float *)o)[k] = (float)d;
        }
    }
}

static zf_status k_ce(zf_engine *e, const zf_op_call *c) {
    ce_job j = {.c = c, .grad = c->op == ZF_OP_CROSS_ENTROPY_GRAD};
    j.x = c->in[j.grad ? 1 : 0];
    j.t = c->in[j.grad ? 2 : 1];
    if (j.x->ndim != 2 || j.t->ndim != 1 || j.t->shape[0] != j.x->shape[0] || j.x->stride[1] != 1 ||
        !zf_dtype_is_int(j.t->dtype) || !zf_is_contiguous(c->out))
        return zf_set_error(ZF_ERR_INTERNAL, "%s kernel: bad operands", zf_op_name(c->op));
    if (j.x->dtype != ZF_F32 && j.x->dtype != ZF_F64)
        return zf_set_error(ZF_ERR_DTYPE, "%s: f32/f64 only, got %s", zf_op_name(c->op), zf_dtype_name(j.x->dtype));
    if (c->out->dtype != j.x->dtype || (j.grad && c->in[0]->dtype != j.x->dtype))
        return zf_set_error(ZF_ERR_INTERNAL, "%s kernel: dtypes differ", zf_op_name(c->op));
    j.N = j.x->shape[0], j.C = j.x->shape[1];
    j.ls = c->p.f[0];
    j.ignore = c->p.i[0];
    j.logp_in = c->p.i[1] != 0;
    j.f64 = j.x->dtype == ZF_F64;
    atomic_init(&j.bad_row, 0);
    int64_t grain = j.C > 0 ? (1 << 14) / j.C + 1 : j.N;
    zf_parallel_for(e->pool, j.N, grain, ce_rows, &j);
    int64_t bad = atomic_load(&j.bad_row);
    if (bad) {
        int64_t t;
        zf_convert_to_i64(j.t->dtype, zf_ptr(j.t) + (size_t)((bad - 1) * j.t->stride[0]) * zf_dtype_size(j.t->dtype),
                          &t, 1);
        return zf_set_error(ZF_ERR_INDEX, "cross_entropy: target %lld of row %lld is outside [0, %lld)", (long long)t,
                            (long long)(bad - 1), (long long)j.C);
    }
    return ZF_OK;
}

void zf_cpu_register_loss(zf_kernel_fn *k) {
    k[ZF_OP_CROSS_ENTROPY] = k_ce;
    k[ZF_OP_CROSS_ENTROPY_GRAD] = k_ce;
}
