/* CPU matmul kernel: batched gemm over [..., M, K] x [..., K, N] with the
 * engine's own blocked kernel (engine/cpu/gemm_f32.c) or, in the "blas"
 * engine, cblas from OpenBLAS. The frontend guarantees equal batch dims
 * (stride 0 where broadcast) and unit stride along one of the last two dims
 * of each operand; the output is contiguous. */
#include "engine/blas_loader.h"
#include "engine/cpu/cpu.h"
#include "engine/cpu/gemm.h"

typedef struct {
    const zf_op_call *c;
    bool use_blas;
    int64_t M, N, K, nbatch;
    bool ta, tb;
    int64_t lda, ldb;
    zf_threadpool *inner_pool; /* pool for each gemm (NULL when batches run in parallel) */
} mm_job;

/* Operand layout: row-major ([r, c] with unit column stride) or transposed. */
static void layout(const zf_tensor *t, bool *trans, int64_t *ld) {
    int64_t r = t->shape[t->ndim - 2], c = t->shape[t->ndim - 1];
    int64_t sr = t->stride[t->ndim - 2], sc = t->stride[t->ndim - 1];
    if (c == 1 || sc == 1) {
        *trans = false;
        *ld = r == 1 ? (c > 1 ? c : 1) : sr;
        if (*ld < c) *ld = c;
    } else {
        *trans = true;
        *ld = sc;
        if (*ld < r) *ld = r;
    }
}

static int64_t batch_offset(const zf_tensor *t, int64_t b) {
    int64_t off = 0;
    for (int i = t->ndim - 3; i >= 0; i--) {
        off += (b % t->shape[i]) * t->stride[i];
        b /= t->shape[i];
    }
    return off;
}

static void mm_batches(void *arg, int64_t begin, int64_t end) {
    const mm_job *j = arg;
    const zf_op_call *c = j->c;
    const zf_tensor *a = c->in[0], *b = c->in[1];
    zf_tensor *o = c->out;
    bool f64 = o->dtype == ZF_F64;
    for (int64_t bi = begin; bi < end; bi++) {
        int64_t oa = batch_offset(a, bi), ob = batch_offset(b, bi), oo = bi * j->M * j->N;
        if (f64) {
            const double *pa = (const double *)zf_ptr(a) + oa, *pb = (const double *)zf_ptr(b) + ob;
            double *po = (double *)zf_ptr(o) + oo;
            if (j->use_blas)
                zf_blas_dgemm(j->ta, j->tb, j->M, j->N, j->K, 1.0, pa, j->lda, pb, j->ldb, 0.0, po, j->N);
            else
                zf_dgemm(j->inner_pool, j->ta, j->tb, j->M, j->N, j->K, 1.0, pa, j->lda, pb, j->ldb, 0.0, po, j->N);
        } else {
            const float *pa = (const float *)zf_ptr(a) + oa, *pb = (const float *)zf_ptr(b) + ob;
            float *po = (float *)zf_ptr(o) + oo;
            if (j->use_blas)
                zf_blas_sgemm(j->ta, j->tb, j->M, j->N, j->K, 1.0f, pa, j->lda, pb, j->ldb, 0.0f, po, j->N);
            else
                zf_sgemm(j->inner_pool, j->ta, j->tb, j->M, j->N, j->K, 1.0f, pa, j->lda, pb, j->ldb, 0.0f, po, j->N);
        }
    }
}

static zf_status run_matmul(zf_engine *e, const zf_op_call *c, bool use_blas) {
    const zf_tensor *a = c->in[0], *b = c->in[1];
    zf_tensor *o = c->out;
    if (o->dtype != ZF_F32 && o->dtype != ZF_F64)
        return zf_set_error(ZF_ERR_DTYPE, "matmul kernel: f32/f64 only, got %s", zf_dtype_name(o->dtype));
    mm_job j = {.c = c, .use_blas = use_blas};
    j.M = o->shape[o->ndim - 2];
    j.N = o->shape[o->ndim - 1];
    j.K = a->shape[a->ndim - 1];
    j.nbatch = zf_numel(o) / (j.M * j.N > 0 ? j.M * j.N : 1);
    layout(a, &j.ta, &j.lda);
    layout(b, &j.tb, &j.ldb);
    if (j.M == 0 || j.N == 0) return ZF_OK;
    int threads = zf_threadpool_size(e->pool);
    double flops = 2.0 * (double)j.M * (double)j.N * (double)j.K;
    /* Many small products (attention heads): one gemm per thread. */
    if (j.nbatch >= threads && flops < 4e6 && !use_blas) {
        j.inner_pool = NULL;
        zf_parallel_for(e->pool, j.nbatch, 1, mm_batches, &j);
    } else {
        j.inner_pool = e->pool;
        mm_batches(&j, 0, j.nbatch);
    }
    return ZF_OK;
}

static zf_status k_matmul(zf_engine *e, const zf_op_call *c) { return run_matmul(e, c, false); }
zf_status zf_cpu_matmul_blas(zf_engine *e, const zf_op_call *c) { return run_matmul(e, c, true); }

void zf_cpu_register_matmul(zf_kernel_fn *k) { k[ZF_OP_MATMUL] = k_matmul; }
