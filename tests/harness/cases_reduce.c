/* Reduction cases: sum, mean, max, min, prod, var, logsumexp over dim
 * subsets (all, one, several, negative, size-1 dims, keepdim both ways) on
 * contiguous, transposed and strided inputs, 0-dim inputs and > 100k elements
 * (reduced along rows and along columns, the kernel's two paths); argmax /
 * argmin with exact ties (the first index wins); softmax / log_softmax along
 * every dim, including rows of large values (max subtraction). The reference
 * folds naively in double (int64 for integer sums/products, which wrap to
 * the input dtype). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

typedef struct {
    zf_op op;
    unsigned dtypes;
    h_kind kind;
} red_op;

static const red_op k_red[] = {
    {ZF_OP_SUM, H_FLOATS | H_INTS, H_V_SIGNED},
    {ZF_OP_MEAN, H_FLOATS, H_V_SIGNED},
    {ZF_OP_MAX, H_FLOATS | H_INTS | H_BOOL, H_V_SIGNED},
    {ZF_OP_MIN, H_FLOATS | H_INTS | H_BOOL, H_V_SIGNED},
    {ZF_OP_PROD, H_FLOATS | H_INTS, H_V_PROD},
    {ZF_OP_VAR, H_FLOATS, H_V_SIGNED},
    {ZF_OP_LOGSUMEXP, H_FLOATS, H_V_SIGNED},
};

/* Case parameters: i[0] = number of dims (0 = all), i[1..3] = dims,
 * i[4] = keepdim, i[5] = var correction. */
static int run_reduce(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    int dims[3] = {(int)c->i[1], (int)c->i[2], (int)c->i[3]}, nd = (int)c->i[0];
    bool keep = c->i[4] != 0;
    zf_tensor *a = in[0];
    switch (c->op) {
    case ZF_OP_SUM: return h_one(out, zf_sum(ctx, a, nd, dims, keep));
    case ZF_OP_MEAN: return h_one(out, zf_mean(ctx, a, nd, dims, keep));
    case ZF_OP_MAX: return h_one(out, zf_max(ctx, a, nd, dims, keep));
    case ZF_OP_MIN: return h_one(out, zf_min(ctx, a, nd, dims, keep));
    case ZF_OP_PROD: return h_one(out, zf_prod(ctx, a, nd, dims, keep));
    case ZF_OP_VAR: return h_one(out, zf_var(ctx, a, nd, dims, (int)c->i[5], keep));
    case ZF_OP_LOGSUMEXP: return h_one(out, zf_logsumexp(ctx, a, nd, dims, keep));
    case ZF_OP_ARGMAX: return h_one(out, zf_argmax(ctx, a, dims[0], keep));
    case ZF_OP_ARGMIN: return h_one(out, zf_argmin(ctx, a, dims[0], keep));
    case ZF_OP_SOFTMAX: return h_one(out, zf_softmax(ctx, a, dims[0]));
    case ZF_OP_LOG_SOFTMAX: return h_one(out, zf_log_softmax(ctx, a, dims[0]));
    default: return 0;
    }
}

/* Reduced-dim mask of the case for an input of ndim dims. */
static unsigned red_mask(const h_case *c, int ndim) {
    if (c->i[0] == 0) return (1u << ndim) - 1;
    unsigned m = 0;
    for (int k = 0; k < c->i[0]; k++) {
        int d = (int)c->i[1 + k];
        if (ndim == 0) continue;
        m |= 1u << (d < 0 ? d + ndim : d);
    }
    return m;
}

/* Output shape and, for each input element, its output index. */
static void red_geometry(const h_arr *a, unsigned mask, bool keep, int *ond, int64_t *oshape, int64_t *okeep) {
    int n = 0;
    for (int d = 0; d < a->ndim; d++) {
        bool r = (mask >> d) & 1;
        okeep[d] = r ? 1 : a->shape[d];
        if (keep || !r) oshape[n++] = r ? 1 : a->shape[d];
    }
    *ond = n;
}

static int64_t out_index(const h_arr *a, unsigned mask, const int64_t *okeep, int64_t i) {
    int64_t idx[ZF_MAX_DIMS];
    h_unravel(i, a->ndim, a->shape, idx);
    for (int d = 0; d < a->ndim; d++)
        if ((mask >> d) & 1) idx[d] = 0;
    return h_ravel(a->ndim, okeep, idx);
}

static void ref_reduce(const h_case *c, const h_arr *in, h_arr *out) {
    const h_arr *a = &in[0];
    unsigned mask = red_mask(c, a->ndim);
    int ond;
    int64_t oshape[ZF_MAX_DIMS], okeep[ZF_MAX_DIMS];
    red_geometry(a, mask, c->i[4] != 0, &ond, oshape, okeep);
    zf_dtype odt = (c->op == ZF_OP_ARGMAX || c->op == ZF_OP_ARGMIN) ? ZF_I64 : c->dtype;
    h_arr_alloc(out, odt, ond, oshape);
    int64_t no = out->n, R = no ? a->n / no : 0;
    double *acc = calloc((size_t)no, sizeof *acc);
    int64_t *iacc = calloc((size_t)no, sizeof *iacc), *cnt = calloc((size_t)no, sizeof *cnt);
    bool ints = a->iv != NULL;
    if (c->op == ZF_OP_SUM || c->op == ZF_OP_MEAN) h_arr_want_mag(out);
    /* pass 1 */
    for (int64_t i = 0; i < a->n; i++) {
        int64_t o = out_index(a, mask, okeep, i);
        double x = a->v[i];
        int64_t xi = ints ? a->iv[i] : 0;
        bool first = cnt[o]++ == 0;
        switch (c->op) {
        case ZF_OP_SUM:
        case ZF_OP_MEAN:
            if (ints) iacc[o] = (int64_t)((uint64_t)iacc[o] + (uint64_t)xi);
            acc[o] += x;
            out->mag[o] += fabs(x);
            break;
        case ZF_OP_PROD:
            if (first) acc[o] = 1, iacc[o] = 1;
            if (ints) iacc[o] = (int64_t)((uint64_t)iacc[o] * (uint64_t)xi);
            acc[o] *= x;
            break;
        case ZF_OP_MAX:
        case ZF_OP_ARGMAX:
        case ZF_OP_LOGSUMEXP:
            if (first || x > acc[o]) acc[o] = x;
            if (ints && (first || xi > iacc[o])) iacc[o] = xi;
            break;
        case ZF_OP_MIN:
        case ZF_OP_ARGMIN:
            if (first || x < acc[o]) acc[o] = x;
            if (ints && (first || xi < iacc[o])) iacc[o] = xi;
            break;
        case ZF_OP_VAR: acc[o] += x; break;
        default: break;
        }
    }
    /* arg index: position of the first extreme along the reduced dim (the
     * row-major walk visits each output's block in order) */
    if (c->op == ZF_OP_ARGMAX || c->op == ZF_OP_ARGMIN) {
        memset(cnt, 0, sizeof(int64_t) * (size_t)no);
        int64_t *best = calloc((size_t)no, sizeof *best); /* 1-based; 0 = not found yet */
        for (int64_t i = 0; i < a->n; i++) {
            int64_t o = out_index(a, mask, okeep, i);
            bool hit = ints ? a->iv[i] == iacc[o] : a->v[i] == acc[o];
            if (hit && best[o] == 0) best[o] = cnt[o] + 1;
            cnt[o]++;
        }
        for (int64_t o = 0; o < no; o++) h_arr_set_int(out, o, best[o] - 1);
        free(best);
    } else if (c->op == ZF_OP_VAR || c->op == ZF_OP_LOGSUMEXP) {
        /* pass 2: squared deviations from the mean / exp(x - max) */
        double *s2 = calloc((size_t)no, sizeof *s2);
        for (int64_t i = 0; i < a->n; i++) {
            int64_t o = out_index(a, mask, okeep, i);
            if (c->op == ZF_OP_VAR) {
                double d = a->v[i] - acc[o] / (double)R;
                s2[o] += d * d;
            } else {
                s2[o] += exp(a->v[i] - acc[o]);
            }
        }
        for (int64_t o = 0; o < no; o++) {
            if (c->op == ZF_OP_VAR) {
                double dof = (double)R - (double)c->i[5];
                out->v[o] = dof > 0 ? s2[o] / dof : NAN;
            } else {
                out->v[o] = acc[o] + log(s2[o]);
            }
        }
        free(s2);
    } else {
        for (int64_t o = 0; o < no; o++) {
            if (ints) {
                h_arr_set_int(out, o, iacc[o]);
            } else {
                out->v[o] = c->op == ZF_OP_MEAN ? acc[o] / (double)R : acc[o];
                if (c->op == ZF_OP_MEAN) out->mag[o] /= (double)R;
            }
        }
    }
    free(acc);
    free(iacc);
    free(cnt);
}

/* softmax along dim: exp(x - max) / sum; log_softmax: x - max - log(sum). */
static void ref_softmax(const h_case *c, const h_arr *in, h_arr *out) {
    const h_arr *a = &in[0];
    int d = (int)c->i[1];
    if (a->ndim > 0 && d < 0) d += a->ndim;
    h_arr_alloc(out, c->dtype, a->ndim, a->shape);
    h_arr_want_mag(out);
    int64_t L = a->ndim ? a->shape[d] : 1, inner = 1;
    for (int k = d + 1; k < a->ndim; k++) inner *= a->shape[k];
    int64_t outer = L ? a->n / (L * inner) : 0;
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t j = 0; j < inner; j++) {
            int64_t base = o * L * inner + j;
            double m = -INFINITY, s = 0;
            for (int64_t k = 0; k < L; k++) m = fmax(m, a->v[base + k * inner]);
            for (int64_t k = 0; k < L; k++) s += exp(a->v[base + k * inner] - m);
            for (int64_t k = 0; k < L; k++) {
                double x = a->v[base + k * inner];
                if (c->op == ZF_OP_SOFTMAX) {
                    out->v[base + k * inner] = exp(x - m) / s;
                } else {
                    out->v[base + k * inner] = x - m - log(s);
                    out->mag[base + k * inner] = fabs(x) + fabs(m) + log(s); /* cancellation */
                }
            }
        }
    }
}

/* ---- case lists ---- */
typedef struct {
    int ndim;
    int64_t shape[3];
    h_layout layout;
    int n_dims; /* 0 = all */
    int dims[3];
    bool keep;
    bool large;
} red_shape;

#define C H_L_CONTIG
#define T H_L_TRANS
#define S H_L_STRIDED
static const red_shape k_shapes[] = {
    {3, {3, 4, 5}, C, 0, {0}, false, false},       /* all dims -> 0-dim */
    {3, {3, 4, 5}, C, 0, {0}, true, false},        /* all dims, keepdim [1,1,1] */
    {3, {3, 4, 5}, C, 1, {1}, true, false},
    {3, {3, 4, 5}, C, 2, {0, 2}, false, false},
    {3, {3, 4, 5}, C, 1, {-1}, false, false},
    {3, {3, 4, 5}, T, 1, {0}, false, false},       /* column reduce of a transposed input */
    {3, {3, 4, 5}, S, 2, {2, 1}, true, false},
    {3, {3, 1, 5}, C, 1, {1}, false, false},       /* size-1 dim */
    {0, {0}, C, 0, {0}, false, false},             /* 0-dim */
    {2, {200, 600}, C, 1, {0}, false, true},       /* 120k: over rows (column path) */
    {2, {200, 600}, C, 1, {1}, true, true},        /* along rows */
    {2, {600, 200}, T, 0, {0}, false, true},       /* everything, transposed */
};
#define N_SHAPES (sizeof k_shapes / sizeof k_shapes[0])

static void set_dims(h_case *c, int n_dims, const int *dims, bool keep) {
    c->i[0] = n_dims;
    for (int k = 0; k < 3; k++) c->i[1 + k] = n_dims > k ? dims[k] : 0;
    c->i[4] = keep;
}

static void label_dims(h_case *c, const char *name) {
    char what[64];
    if (c->op == ZF_OP_ARGMAX || c->op == ZF_OP_ARGMIN || c->op == ZF_OP_SOFTMAX || c->op == ZF_OP_LOG_SOFTMAX)
        snprintf(what, sizeof what, "%s(dim=%d%s)", name, (int)c->i[1], c->i[4] ? ",keep" : "");
    else if (c->i[0] == 0)
        snprintf(what, sizeof what, "%s(all%s%s)", name, c->i[4] ? ",keep" : "", c->op == ZF_OP_VAR && !c->i[5] ? ",c=0" : "");
    else
        snprintf(what, sizeof what, "%s(dims=%d%s%s%s)", name, (int)c->i[1], c->i[0] > 1 ? ",.." : "",
                 c->i[4] ? ",keep" : "", c->op == ZF_OP_VAR && !c->i[5] ? ",c=0" : "");
    h_label(c, what);
}

static void add_reduce_cases(h_suite *s) {
    for (size_t r = 0; r < sizeof k_red / sizeof k_red[0]; r++) {
        const red_op *op = &k_red[r];
        for (int t = 0; t <= ZF_BOOL; t++) {
            if (!(op->dtypes & H_DT(t))) continue;
            for (size_t si = 0; si < N_SHAPES; si++) {
                const red_shape *sh = &k_shapes[si];
                if (sh->large && !h_large_dtype((zf_dtype)t)) continue;
                /* large products: float rows only (integer ones wrap to 0,
                 * a product of all 120k values underflows) */
                if (sh->large && op->op == ZF_OP_PROD && (!h_is_float((zf_dtype)t) || sh->n_dims == 0)) continue;
                h_case c = {0};
                c.op = c.trace_op = op->op;
                c.dtype = (zf_dtype)t;
                c.n_in = 1;
                c.in[0] = h_in(c.dtype, sh->ndim, sh->shape, op->kind, sh->layout);
                c.run = run_reduce;
                c.ref = ref_reduce;
                set_dims(&c, sh->n_dims, sh->dims, sh->keep);
                c.i[5] = si == 3 ? 0 : 1; /* var: one population-variance case */
                c.flags = sh->large ? H_LARGE : 0;
                label_dims(&c, zf_op_name(op->op));
                h_add(s, &c);
            }
        }
    }
}

static void add_arg_cases(h_suite *s) {
    static const struct {
        int ndim;
        int64_t shape[3];
        h_layout layout;
        int dim;
        bool keep, large;
    } shapes[] = {
        {3, {3, 4, 5}, C, 1, false, false}, {3, {3, 4, 5}, C, -1, true, false}, {3, {3, 4, 5}, T, 0, false, false},
        {2, {4, 6}, S, 1, false, false},    {0, {0}, C, 0, false, false},        {2, {200, 600}, C, 1, false, true},
        {2, {600, 200}, C, 0, true, true},
    };
    zf_op ops[2] = {ZF_OP_ARGMAX, ZF_OP_ARGMIN};
    for (int o = 0; o < 2; o++) {
        for (int t = 0; t <= ZF_U8; t++) {
            for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
                if (shapes[si].large && !h_large_dtype((zf_dtype)t)) continue;
                h_case c = {0};
                c.op = c.trace_op = ops[o];
                c.dtype = (zf_dtype)t;
                c.n_in = 1;
                /* a discrete value set: ties everywhere, the first index must win */
                c.in[0] = h_in(c.dtype, shapes[si].ndim, shapes[si].shape, H_V_DISCRETE, shapes[si].layout);
                c.run = run_reduce;
                c.ref = ref_reduce;
                set_dims(&c, 1, &shapes[si].dim, shapes[si].keep);
                c.flags = shapes[si].large ? H_LARGE : 0;
                label_dims(&c, zf_op_name(ops[o]));
                h_add(s, &c);
            }
        }
    }
}

static const double k_big_vals[] = {100, 101, -50, 99.5, 100.25, 98, 102, -3};

static void add_softmax_cases(h_suite *s) {
    static const struct {
        int ndim;
        int64_t shape[3];
        h_layout layout;
        int dim;
        bool big, large;
    } shapes[] = {
        {3, {3, 4, 5}, C, 1, false, false},   {3, {3, 4, 5}, C, -1, false, false},
        {3, {3, 4, 5}, C, 0, false, false},   {2, {4, 6}, T, 1, false, false},
        {2, {4, 6}, S, -1, false, false},     {0, {0}, C, 0, false, false},
        {2, {3, 8}, C, 1, true, false},       /* large values: needs the max subtracted */
        {2, {100, 1200}, C, 1, false, true},  {2, {1200, 100}, C, 0, false, true},
    };
    zf_op ops[2] = {ZF_OP_SOFTMAX, ZF_OP_LOG_SOFTMAX};
    for (int o = 0; o < 2; o++) {
        for (int t = 0; t <= ZF_F8_E5M2; t++) {
            for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
                if (shapes[si].large && !h_large_dtype((zf_dtype)t)) continue;
                h_case c = {0};
                c.op = c.trace_op = ops[o];
                c.dtype = (zf_dtype)t;
                c.n_in = 1;
                c.in[0] = h_in(c.dtype, shapes[si].ndim, shapes[si].shape, H_V_SIGNED, shapes[si].layout);
                if (shapes[si].big) {
                    c.in[0].kind = H_V_LIST;
                    c.in[0].list = k_big_vals;
                    c.in[0].nlist = sizeof k_big_vals / sizeof k_big_vals[0];
                }
                c.run = run_reduce;
                c.ref = ref_softmax;
                set_dims(&c, 1, &shapes[si].dim, false);
                /* f32 rows sum up to 1200 terms in f32 */
                c.tol_scale = shapes[si].large ? 4 : 1;
                c.flags = shapes[si].large ? H_LARGE : 0;
                label_dims(&c, zf_op_name(ops[o]));
                h_add(s, &c);
            }
        }
    }
}

/* Finite-difference gradients: [3,4] over dim 1, everything, and
 * [2,3,4] over dims {0,2} with keepdim; softmax along both dims. */
static void add_grad_cases(h_suite *s) {
    static const int64_t m34[2] = {3, 4}, t234[3] = {2, 3, 4};
    for (size_t r = 0; r < sizeof k_red / sizeof k_red[0]; r++) {
        for (int k = 0; k < 3; k++) {
            h_case c = {0};
            c.op = k_red[r].op;
            c.dtype = ZF_F64;
            c.n_in = 1;
            c.in[0] = k == 2 ? h_in(ZF_F64, 3, t234, k_red[r].kind, C) : h_in(ZF_F64, 2, m34, k_red[r].kind, C);
            int d1[1] = {1}, d02[2] = {0, 2};
            if (k == 0) set_dims(&c, 1, d1, false);
            if (k == 1) set_dims(&c, 0, d1, false);
            if (k == 2) set_dims(&c, 2, d02, true);
            c.i[5] = k == 1 ? 0 : 1;
            c.run = run_reduce;
            c.flags = H_GRAD;
            label_dims(&c, "grad");
            h_add(s, &c);
        }
    }
    zf_op ops[2] = {ZF_OP_SOFTMAX, ZF_OP_LOG_SOFTMAX};
    for (int o = 0; o < 2; o++) {
        for (int d = 0; d < 2; d++) {
            h_case c = {0};
            c.op = ops[o];
            c.dtype = ZF_F64;
            c.n_in = 1;
            c.in[0] = h_in(ZF_F64, 2, m34, H_V_SIGNED, C);
            set_dims(&c, 1, &d, false);
            c.run = run_reduce;
            c.flags = H_GRAD;
            label_dims(&c, "grad");
            h_add(s, &c);
        }
    }
}

void h_cases_reduce(h_suite *s) {
    add_reduce_cases(s);
    add_arg_cases(s);
    add_softmax_cases(s);
    add_grad_cases(s);
}
