/* MATMUL cases (zf_matmul, NumPy semantics): 2-d, batched with broadcast
 * batch dims on either side, every 1-d combination (vector . vector gives a
 * 0-dim result), transposed and strided operands, odd sizes (edges of
 * blocked kernels), K = 1, long K, and > 100k-element operands. The
 * reference is a naive triple loop in double; the tolerance grows with K
 * and with sum |a_ik b_kj| (the rounding error of a dot product). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

static int run_matmul(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    (void)c;
    return h_one(out, zf_matmul(ctx, in[0], in[1]));
}

/* 1-d a is [1, K] and 1-d b is [K, 1] for the product; those dims are
 * dropped from the result. Batch dims broadcast. */
static void ref_matmul(const h_case *c, const h_arr *in, h_arr *out) {
    const h_arr *a = &in[0], *b = &in[1];
    int64_t M = a->ndim == 1 ? 1 : a->shape[a->ndim - 2], K = a->shape[a->ndim - 1];
    int64_t N = b->ndim == 1 ? 1 : b->shape[b->ndim - 1];
    int nba = a->ndim > 2 ? a->ndim - 2 : 0, nbb = b->ndim > 2 ? b->ndim - 2 : 0, nbatch;
    int64_t bsh[ZF_MAX_DIMS], osh[ZF_MAX_DIMS], bidx[ZF_MAX_DIMS];
    h_broadcast(nba, a->shape, nbb, b->shape, &nbatch, bsh);
    int nd = 0;
    for (int k = 0; k < nbatch; k++) osh[nd++] = bsh[k];
    if (a->ndim > 1) osh[nd++] = M;
    if (b->ndim > 1) osh[nd++] = N;
    h_arr_alloc(out, c->dtype, nd, osh);
    h_arr_want_mag(out);
    int64_t nb = h_numel(nbatch, bsh);
    for (int64_t bi = 0; bi < nb; bi++) {
        h_unravel(bi, nbatch, bsh, bidx);
        /* batch offsets of a and b (their batch dims broadcast to bsh) */
        int64_t ao = 0, bo = 0;
        for (int k = 0; k < nba; k++) {
            int64_t j = bidx[k + nbatch - nba];
            ao = ao * a->shape[k] + (a->shape[k] == 1 ? 0 : j);
        }
        for (int k = 0; k < nbb; k++) {
            int64_t j = bidx[k + nbatch - nbb];
            bo = bo * b->shape[k] + (b->shape[k] == 1 ? 0 : j);
        }
        for (int64_t i = 0; i < M; i++) {
            for (int64_t j = 0; j < N; j++) {
                double s = 0, m = 0;
                for (int64_t k = 0; k < K; k++) {
                    double p = a->v[ao * M * K + i * K + k] * b->v[bo * K * N + k * N + j];
                    s += p;
                    m += fabs(p);
                }
                out->v[(bi * M + i) * N + j] = s;
                out->mag[(bi * M + i) * N + j] = m;
            }
        }
    }
}

typedef struct {
    int na;
    int64_t sa[4];
    h_layout la;
    int nb;
    int64_t sb[4];
    h_layout lb;
    bool large;
} mm_shape;

#define C H_L_CONTIG
#define T H_L_TRANS
#define S H_L_STRIDED
static const mm_shape k_shapes[] = {
    {2, {3, 4}, C, 2, {4, 5}, C, false},
    {3, {2, 3, 4}, C, 2, {4, 5}, C, false},          /* batch on a */
    {2, {3, 4}, C, 3, {2, 4, 5}, C, false},          /* batch on b */
    {4, {2, 1, 3, 4}, C, 3, {3, 4, 2}, C, false},    /* broadcast batch: [2,3,3,2] */
    {1, {4}, C, 1, {4}, C, false},                   /* dot: 0-dim */
    {1, {4}, C, 2, {4, 5}, C, false},                /* [5] */
    {2, {3, 4}, C, 1, {4}, C, false},                /* [3] */
    {3, {2, 3, 4}, C, 1, {4}, C, false},             /* [2,3] */
    {1, {4}, C, 3, {2, 4, 5}, C, false},             /* [2,5] */
    {2, {3, 4}, T, 2, {4, 5}, S, false},             /* transposed a, strided b */
    {3, {2, 3, 4}, S, 2, {4, 5}, T, false},
    {2, {17, 33}, C, 2, {33, 19}, T, false},         /* odd sizes */
    {2, {1, 1}, C, 2, {1, 1}, C, false},
    {2, {5, 1}, C, 2, {1, 6}, C, false},             /* K = 1: outer product */
    {2, {8, 1000}, C, 2, {1000, 8}, C, false},       /* long K */
    {2, {400, 300}, C, 2, {300, 64}, C, true},       /* 120k-element a */
    {2, {64, 300}, T, 2, {300, 400}, C, true},
};

static void add_forward(h_suite *s) {
    const zf_dtype dts[4] = {ZF_F64, ZF_F32, ZF_F16, ZF_BF16};
    for (int d = 0; d < 4; d++) {
        for (size_t si = 0; si < sizeof k_shapes / sizeof k_shapes[0]; si++) {
            const mm_shape *sh = &k_shapes[si];
            if (sh->large && !h_large_dtype(dts[d])) continue;
            h_case c = {0};
            c.op = c.trace_op = ZF_OP_MATMUL;
            c.dtype = dts[d];
            c.n_in = 2;
            c.in[0] = h_in(dts[d], sh->na, sh->sa, H_V_SIGNED, sh->la);
            c.in[1] = h_in(dts[d], sh->nb, sh->sb, H_V_SIGNED, sh->lb);
            c.run = run_matmul;
            c.ref = ref_matmul;
            int64_t K = sh->sa[sh->na - 1];
            c.tol_scale = K > 64 ? (double)K / 64 : 1; /* f32 accumulation error grows with K */
            c.flags = sh->large ? H_LARGE : 0;
            h_label(&c, "matmul");
            h_add(s, &c);
        }
    }
}

static void add_grad(h_suite *s) {
    static const mm_shape g[] = {
        {2, {3, 4}, C, 2, {4, 2}, C, false},
        {3, {2, 3, 4}, C, 2, {4, 2}, C, false}, /* b's gradient sums over the batch */
        {1, {4}, C, 2, {4, 3}, C, false},
        {2, {3, 4}, C, 1, {4}, C, false},
    };
    for (size_t k = 0; k < sizeof g / sizeof g[0]; k++) {
        h_case c = {0};
        c.op = ZF_OP_MATMUL;
        c.dtype = ZF_F64;
        c.n_in = 2;
        c.in[0] = h_in(ZF_F64, g[k].na, g[k].sa, H_V_SIGNED, C);
        c.in[1] = h_in(ZF_F64, g[k].nb, g[k].sb, H_V_SIGNED, C);
        c.run = run_matmul;
        c.flags = H_GRAD;
        h_label(&c, "grad matmul");
        h_add(s, &c);
    }
}

void h_cases_linalg(h_suite *s) {
    add_forward(s);
    add_grad(s);
}
