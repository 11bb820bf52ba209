/* The "blas" engine: the CPU engine with OpenBLAS's cblas for matmul
 * (loaded at run time by engine/blas_loader.c). Its own thread pool runs the
 * other kernels; OpenBLAS is told to use as many threads. */
#include <stdlib.h>

#include "engine/blas_loader.h"
#include "engine/cpu/cpu.h"

typedef struct {
    zf_engine base;
} blas_engine;

static void *blas_alloc(zf_engine *e, size_t n) {
    (void)e;
    void *p = NULL;
    return posix_memalign(&p, 64, n ? n : 1) == 0 ? p : NULL;
}
static void blas_free(zf_engine *e, void *p) {
    (void)e;
    free(p);
}
static void blas_sync(zf_engine *e) { (void)e; }
static void blas_destroy(zf_engine *e) {
    zf_threadpool_free(e->pool);
    free(e);
}

zf_engine *zf_blas_engine_new(int nthreads) {
    if (!zf_blas_available()) {
        zf_set_error(ZF_ERR_UNSUPPORTED, "blas engine: no OpenBLAS/cblas library could be loaded");
        return NULL;
    }
    blas_engine *b = calloc(1, sizeof *b);
    if (!b) {
        zf_set_error(ZF_ERR_OOM, "blas engine: out of memory");
        return NULL;
    }
    b->base.pool = zf_threadpool_new(nthreads);
    if (!b->base.pool) {
        free(b);
        return NULL;
    }
    zf_blas_set_threads(zf_threadpool_size(b->base.pool));
    b->base.name = "blas";
    b->base.alloc = blas_alloc;
    b->base.free = blas_free;
    b->base.sync = blas_sync;
    b->base.destroy = blas_destroy;
    b->base.host_memory = true;
    zf_cpu_fill_kernels(b->base.kernels);
    b->base.kernels[ZF_OP_MATMUL] = zf_cpu_matmul_blas;
    return &b->base;
}
