/* CPU 2-d convolution kernels: CONV2D, CONV2D_GRAD_INPUT, CONV2D_GRAD_WEIGHT.
 *
 * Shapes (all contiguous, f32 or f64; the frontend guarantees both):
 *   x [N, C, H, W], w [O, C/G, KH, KW], bias [O] (optional), y [N, O, OH, OW].
 * Per sample n and group g, with Cg = C/G, Og = O/G, CKK = Cg*KH*KW and
 * L = OH*OW, the convolution is one gemm over the im2col matrix
 *   cols [CKK, L]   (row (c*KH + i)*KW + j, column oh*OW + ow holds
 *                    x[n, g*Cg + c, oh*sh - ph + i*dh, ow*sw - pw + j*dw], 0 outside)
 *   y[n, g]  [Og, L]  = w[g] [Og, CKK] @ cols                 (+ bias)
 *   dcols    [CKK, L] = w[g]^T @ gy[n, g],  dx[n, g] = col2im(dcols)
 *   dw[g]  [Og, CKK] += gy[n, g] @ cols^T
 * A 1x1 convolution with stride 1 and no padding uses x itself as cols.
 *
 * Threads work on whole samples. The workspace (input 2, made by the frontend
 * in the step arena) holds S = p.i[7] & 0xffffffff slices of CKK*L elements
 * (none for the 1x1 case), one per concurrently running task; for the weight
 * gradient it is followed by P = p.i[7] >> 32 partial sums of dw. P depends
 * only on the shapes, never on the thread count, and the partials are added
 * in a fixed order, so dw is the same bits whatever the number of threads.
 * When there are fewer slices than threads (tiny batches) the samples run
 * one after the other and each product is split over the pool instead (by
 * blocks of the result, which leaves every element's sum unchanged). */
#include <string.h>

#include "engine/cpu/conv_gemm.h"
#include "engine/cpu/cpu.h"
#include "engine/cpu/gemm.h"

typedef struct {
    int64_t N, C, H, W, O, KH, KW, OH, OW;
    int64_t sh, sw, ph, pw, dh, dw, G;
    int64_t Cg, Og, CKK, L;
    bool direct; /* cols == x */
    int64_t slice;  /* workspace elements per slice: CKK*L, 0 when direct */
    bool f64;
    int64_t slices, partials;
} conv_geom;

static zf_status geom_init(conv_geom *g, const zf_tensor *x, const zf_tensor *w, const zf_tensor *y,
                           const zf_op_params *p) {
    memset(g, 0, sizeof *g);
    g->N = x->shape[0], g->C = x->shape[1], g->H = x->shape[2], g->W = x->shape[3];
    g->O = w->shape[0], g->KH = w->shape[2], g->KW = w->shape[3];
    g->OH = y->shape[2], g->OW = y->shape[3];
    g->sh = p->i[0], g->sw = p->i[1], g->ph = p->i[2], g->pw = p->i[3];
    g->dh = p->i[4], g->dw = p->i[5], g->G = p->i[6];
    g->slices = p->i[7] & 0xffffffff;
    g->partials = p->i[7] >> 32;
    if (g->G < 1 || g->C % g->G || g->O % g->G || g->slices < 1)
        return zf_set_error(ZF_ERR_INTERNAL, "conv2d kernel: bad groups or workspace layout");
    g->Cg = g->C / g->G, g->Og = g->O / g->G;
    g->CKK = g->Cg * g->KH * g->KW;
    g->L = g->OH * g->OW;
    g->direct = g->KH == 1 && g->KW == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
    g->slice = g->direct ? 0 : g->CKK * g->L;
    g->f64 = x->dtype == ZF_F64;
    return ZF_OK;
}

/* ---- im2col / col2im, one input sample-group x [Cg, H, W] ---- */
#define DEFINE_IM2COL(T)                                                                                  \
    static void im2col_##T(const conv_geom *g, const T *x, T *col) {                                      \
        for (int64_t c = 0; c < g->Cg; c++)                                                               \
            for (int64_t i = 0; i < g->KH; i++)                                                           \
                for (int64_t j = 0; j < g->KW; j++) {                                                     \
                    T *row = col + ((c * g->KH + i) * g->KW + j) * g->L;                                  \
                    const T *xc = x + c * g->H * g->W;                                                    \
                    int64_t woff = j * g->dw - g->pw;                                                     \
                    /* output columns ow whose input column lies inside [0, W) */                        \
                    int64_t lo = woff >= 0 ? 0 : (-woff + g->sw - 1) / g->sw;                             \
                    int64_t hi = g->W - woff > 0 ? (g->W - woff + g->sw - 1) / g->sw : 0;                 \
                    if (hi > g->OW) hi = g->OW;                                                           \
                    if (lo > hi) lo = hi;                                                                 \
                    for (int64_t oh = 0; oh < g->OH; oh++, row += g->OW) {                                \
                        int64_t ih = oh * g->sh - g->ph + i * g->dh;                                      \
                        if (ih < 0 || ih >= g->H) {                                                       \
                            memset(row, 0, sizeof(T) * (size_t)g->OW);                                    \
                            continue;                                                                     \
                        }                                                                                 \
                        const T *xr = xc + ih * g->W; /* input column of ow: ow*sw + woff */             \
                        for (int64_t ow = 0; ow < lo; ow++) row[ow] = 0;                                  \
                        if (g->sw == 1 && hi > lo)                                                        \
                            memcpy(row + lo, xr + lo + woff, sizeof(T) * (size_t)(hi - lo));              \
                        else                                                                              \
                            for (int64_t ow = lo; ow < hi; ow++) row[ow] = xr[ow * g->sw + woff];         \
                        for (int64_t ow = hi; ow < g->OW; ow++) row[ow] = 0;                              \
                    }                                                                                     \
                }                                                                                         \
    }                                                                                                     \
    /* dx [Cg, H, W] += col2im(col); dx must be zeroed by the caller */                                   \
    static void col2im_##T(const conv_geom *g, const T *col, T *dx) {                                     \
        for (int64_t c = 0; c < g->Cg; c++)                                                               \
            for (int64_t i = 0; i < g->KH; i++)                                                           \
                for (int64_t j = 0; j < g->KW; j++) {                                                     \
                    const T *row = col + ((c * g->KH + i) * g->KW + j) * g->L;                            \
                    T *xc = dx + c * g->H * g->W;                                                         \
                    int64_t woff = j * g->dw - g->pw;                                                     \
                    int64_t lo = woff >= 0 ? 0 : (-woff + g->sw - 1) / g->sw;                             \
                    int64_t hi = g->W - woff > 0 ? (g->W - woff + g->sw - 1) / g->sw : 0;                 \
                    if (hi > g->OW) hi = g->OW;                                                           \
                    for (int64_t oh = 0; oh < g->OH; oh++, row += g->OW) {                                \
                        int64_t ih = oh * g->sh - g->ph + i * g->dh;                                      \
                        if (ih < 0 || ih >= g->H) continue;                                               \
                        T *restrict xr = xc + ih * g->W;                                                  \
                        if (g->sw == 1)                                                                   \
                            for (int64_t ow = lo; ow < hi; ow++) xr[ow + woff] += row[ow];                \
                        else                                                                              \
                            for (int64_t ow = lo; ow < hi; ow++) xr[ow * g->sw + woff] += row[ow];        \
                    }                                                                                     \
                }                                                                                         \
    }

DEFINE_IM2COL(float)
DEFINE_IM2COL(double)

static void im2col(const conv_geom *g, const char *x, char *col) {
    if (g->f64)
        im2col_double(g, (const double *)x, (double *)col);
    else
        im2col_float(g, (const float *)x, (float *)col);
}
static void col2im(const conv_geom *g, const char *col, char *dx) {
    if (g->f64)
        col2im_double(g, (const double *)col, (double *)dx);
    else
        col2im_float(g, (const float *)col, (float *)dx);
}

/* Blocks [b0, b1) of an f32 product: rows of C or of B (nt), or 16-column
 * tiles (nn). The small kernels read their operands in place, so a block is
 * a plain call, and every element is computed as without the split. */
typedef struct {
    bool nt, by_rows;
    int64_t M, N, K, ars, acs, ldb, ldc;
    const float *A, *B;
    float *C;
    bool acc;
} sgemm_split;

static void sgemm_block(void *arg, int64_t b0, int64_t b1) {
    const sgemm_split *s = arg;
    if (s->nt) /* rows of C (M) or rows of B (N) */
        s->by_rows ? zf_conv_sgemm_nt(b1 - b0, s->N, s->K, s->A + b0 * s->ars, s->ars, s->B, s->ldb, s->C + b0 * s->ldc,
                                      s->ldc, s->acc)
                   : zf_conv_sgemm_nt(s->M, b1 - b0, s->K, s->A, s->ars, s->B + b0 * s->ldb, s->ldb, s->C + b0,
                                      s->ldc, s->acc);
    else { /* 16-column tiles of B and C: each column takes the same path (vector or tail) as unsplit */
        int64_t c0 = b0 * 16, c1 = b1 * 16 < s->N ? b1 * 16 : s->N;
        zf_conv_sgemm_nn(s->M, c1 - c0, s->K, s->A, s->ars, s->acs, s->B + c0, s->ldb, s->C + c0, s->ldc, s->acc);
    }
}

/* Row-major product on f32 or f64 buffers. f32 uses the in-place small
 * kernels of conv_gemm.c (the shapes here are a few rows by a wide matrix),
 * split over `pool` by blocks of the result when one is given; f64
 * (gradient checks) uses the blocked gemm. A is [M, K] (or [K, M] when ta),
 * B is [K, N] (or [N, K] when tb). */
static void gemm(const conv_geom *g, zf_threadpool *pool, bool ta, bool tb, int64_t M, int64_t N, int64_t K,
                 const void *A, int64_t lda, const void *B, int64_t ldb, double beta, void *C, int64_t ldc) {
    if (g->f64 || (ta && tb)) {
        if (g->f64)
            zf_dgemm(pool, ta, tb, M, N, K, 1.0, A, lda, B, ldb, beta, C, ldc);
        else
            zf_sgemm(pool, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, (float)beta, C, ldc);
        return;
    }
    sgemm_split s = {tb, false, M, N, K, tb ? lda : (ta ? 1 : lda), ta ? lda : 1, ldb, ldc, A, B, C, beta != 0};
    int64_t work = M * N * K, blocks = tb ? N : (N + 15) / 16;
    if (tb && M >= N) s.by_rows = true, blocks = M;
    if (!pool || work < (1 << 18)) {
        sgemm_block(&s, 0, blocks);
        return;
    }
    zf_parallel_for(pool, blocks, 4, sgemm_block, &s);
}

typedef struct {
    const zf_op_call *c;
    conv_geom g;
    size_t es;
    char *ws;              /* slices, then partials */
    zf_threadpool *gemm_pool;
    int workers;           /* tasks that do work: min(threads, slices) */
} conv_job;

/* Bytes from the start of element arrays. */
#define AT(base, elems) ((base) + (size_t)(elems) * j->es)

static void forward_sample(const conv_job *j, int64_t n, char *slice) {
    const conv_geom *g = &j->g;
    const zf_tensor *x = j->c->in[0], *w = j->c->in[1], *b = j->c->n_in > 3 ? j->c->in[3] : NULL;
    char *y = AT(zf_ptr(j->c->out), n * g->O * g->L);
    const char *xn = AT(zf_ptr(x), n * g->C * g->H * g->W);
    for (int64_t gi = 0; gi < g->G; gi++) {
        const char *xg = AT(xn, gi * g->Cg * g->H * g->W);
        const char *cols = xg;
        if (!g->direct) {
            im2col(g, xg, slice);
            cols = slice;
        }
        char *yg = AT(y, gi * g->Og * g->L);
        gemm(g, j->gemm_pool, false, false, g->Og, g->L, g->CKK, AT(zf_ptr(w), gi * g->Og * g->CKK), g->CKK, cols,
             g->L, 0.0, yg, g->L);
    }
    if (!b) return;
    for (int64_t o = 0; o < g->O; o++) {
        if (g->f64) {
            double bv = ((const double *)zf_ptr(b))[o], *row = (double *)y + o * g->L;
            for (int64_t l = 0; l < g->L; l++) row[l] += bv;
        } else {
            float bv = ((const float *)zf_ptr(b))[o], *row = (float *)y + o * g->L;
            for (int64_t l = 0; l < g->L; l++) row[l] += bv;
        }
    }
}

static void grad_input_sample(const conv_job *j, int64_t n, char *slice) {
    const conv_geom *g = &j->g;
    const zf_tensor *gy = j->c->in[0], *w = j->c->in[1];
    char *dx = AT(zf_ptr(j->c->out), n * g->C * g->H * g->W);
    const char *gyn = AT(zf_ptr(gy), n * g->O * g->L);
    if (!g->direct) memset(dx, 0, (size_t)(g->C * g->H * g->W) * j->es);
    for (int64_t gi = 0; gi < g->G; gi++) {
        char *dxg = AT(dx, gi * g->Cg * g->H * g->W);
        char *dcols = g->direct ? dxg : slice;
        gemm(g, j->gemm_pool, true, false, g->CKK, g->L, g->Og, AT(zf_ptr(w), gi * g->Og * g->CKK), g->CKK,
             AT(gyn, gi * g->Og * g->L), g->L, 0.0, dcols, g->L);
        if (!g->direct) col2im(g, dcols, dxg);
    }
}

/* Partial dw of samples [n0, n1) into `part` [O, CKK]. */
static void grad_weight_chunk(const conv_job *j, int64_t n0, int64_t n1, char *slice, char *part) {
    const conv_geom *g = &j->g;
    const zf_tensor *x = j->c->in[0], *gy = j->c->in[1];
    for (int64_t n = n0; n < n1; n++) {
        const char *xn = AT(zf_ptr(x), n * g->C * g->H * g->W);
        const char *gyn = AT(zf_ptr(gy), n * g->O * g->L);
        for (int64_t gi = 0; gi < g->G; gi++) {
            const char *xg = AT(xn, gi * g->Cg * g->H * g->W);
            const char *cols = xg;
            if (!g->direct) {
                im2col(g, xg, slice);
                cols = slice;
            }
            gemm(g, j->gemm_pool, false, true, g->Og, g->CKK, g->L, AT(gyn, gi * g->Og * g->L), g->L, cols, g->L,
                 n == n0 ? 0.0 : 1.0, AT(part, gi * g->Og * g->CKK), g->CKK);
        }
    }
}

static char *slice_of(const conv_job *j, int64_t s) { return AT(j->ws, s * j->g.slice); }
static char *partial_of(const conv_job *j, int64_t q) {
    return AT(j->ws, j->g.slices * j->g.slice + q * j->g.O * j->g.CKK);
}

/* Task `tid` of `nt`: partitions q = tid, tid + workers, ... of `nparts`
 * over the batch, each with workspace slice `tid`. */
static void run_parts(const conv_job *j, int tid, int64_t nparts) {
    const conv_geom *g = &j->g;
    if (tid >= j->workers) return;
    char *slice = slice_of(j, tid);
    for (int64_t q = tid; q < nparts; q += j->workers) {
        int64_t n0 = g->N * q / nparts, n1 = g->N * (q + 1) / nparts;
        switch (j->c->op) {
        case ZF_OP_CONV2D:
            for (int64_t n = n0; n < n1; n++) forward_sample(j, n, slice);
            break;
        case ZF_OP_CONV2D_GRAD_INPUT:
            for (int64_t n = n0; n < n1; n++) grad_input_sample(j, n, slice);
            break;
        default:
            if (n1 > n0) grad_weight_chunk(j, n0, n1, slice, partial_of(j, q));
            break;
        }
    }
}

static void conv_task(void *arg, int tid, int nt) {
    const conv_job *j = arg;
    (void)nt;
    int64_t nparts = j->c->op == ZF_OP_CONV2D_GRAD_WEIGHT ? j->g.partials : j->g.slices;
    run_parts(j, tid, nparts);
}

static zf_status k_conv(zf_engine *e, const zf_op_call *c) {
    const zf_tensor *x, *w, *y, *ws;
    switch (c->op) {
    case ZF_OP_CONV2D: x = c->in[0], w = c->in[1], y = c->out, ws = c->in[2]; break;
    case ZF_OP_CONV2D_GRAD_INPUT: x = c->out, w = c->in[1], y = c->in[0], ws = c->in[2]; break;
    default: x = c->in[0], w = c->out, y = c->in[1], ws = c->in[2]; break;
    }
    if (!ws || x->ndim != 4 || w->ndim != 4 || y->ndim != 4)
        return zf_set_error(ZF_ERR_INTERNAL, "%s kernel: bad operands", zf_op_name(c->op));
    conv_job j = {.c = c, .es = zf_dtype_size(x->dtype), .ws = zf_ptr(ws)};
    zf_status st = geom_init(&j.g, x, w, y, &c->p);
    if (st) return st;
    const zf_tensor *ops[5] = {x, w, y, ws, c->op == ZF_OP_CONV2D && c->n_in > 3 ? c->in[3] : NULL};
    for (int k = 0; k < 5; k++) {
        if (ops[k] && (ops[k]->dtype != x->dtype || !zf_is_contiguous(ops[k])))
            return zf_set_error(ZF_ERR_INTERNAL, "%s kernel: operands must be contiguous %s", zf_op_name(c->op),
                                zf_dtype_name(x->dtype));
    }
    if (x->dtype != ZF_F32 && x->dtype != ZF_F64)
        return zf_set_error(ZF_ERR_DTYPE, "%s: f32/f64 only, got %s", zf_op_name(c->op), zf_dtype_name(x->dtype));
    if (c->op == ZF_OP_CONV2D_GRAD_WEIGHT && (j.g.partials < 1 || j.g.partials > j.g.N))
        return zf_set_error(ZF_ERR_INTERNAL, "conv2d_grad_weight kernel: bad partial count");
    int64_t need = j.g.slices * j.g.slice +
                   (c->op == ZF_OP_CONV2D_GRAD_WEIGHT ? j.g.partials * j.g.O * j.g.CKK : 0);
    if (zf_numel(ws) < need) return zf_set_error(ZF_ERR_INTERNAL, "%s kernel: workspace too small", zf_op_name(c->op));
    if (j.g.N == 0 || zf_numel(c->out) == 0) return ZF_OK;
    if (j.g.L == 0 || j.g.CKK == 0) { /* empty reduction: zero result */
        memset(zf_ptr(c->out), 0, (size_t)zf_numel(c->out) * j.es);
        return ZF_OK;
    }

    int threads = zf_threadpool_size(e->pool);
    int64_t nparts = c->op == ZF_OP_CONV2D_GRAD_WEIGHT ? j.g.partials : j.g.slices;
    if (threads > 1 && j.g.slices >= 2 && nparts >= 2) {
        j.workers = threads < j.g.slices ? threads : (int)j.g.slices;
        j.gemm_pool = NULL;
        zf_threadpool_run(e->pool, conv_task, &j);
    } else {
        j.workers = 1;
        j.gemm_pool = e->pool;
        run_parts(&j, 0, nparts);
    }
    if (c->op != ZF_OP_CONV2D_GRAD_WEIGHT) return ZF_OK;
    /* dw = partial 0 + partial 1 + ... in order. */
    int64_t nw = j.g.O * j.g.CKK;
    char *dw = zf_ptr(c->out);
    memcpy(dw, partial_of(&j, 0), (size_t)nw * j.es);
    for (int64_t q = 1; q < j.g.partials; q++) {
        if (j.g.f64) {
            const double *src = (const double *)partial_of(&j, q);
            for (int64_t i = 0; i < nw; i++) ((double *)dw)[i] += src[i];
        } else {
            const float *src = (const float *)partial_of(&j, q);
            for (int64_t i = 0; i < nw; i++) ((float *)dw)[i] += src[i];
        }
    }
    return ZF_OK;
}

void zf_cpu_register_conv(zf_kernel_fn *k) {
    k[ZF_OP_CONV2D] = k_conv;
    k[ZF_OP_CONV2D_GRAD_INPUT] = k_conv;
    k[ZF_OP_CONV2D_GRAD_WEIGHT] = k_conv;
}
