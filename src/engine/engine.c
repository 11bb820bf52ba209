/* Engine dispatch and the CPU engine. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "engine/cpu/cpu.h"
#include "zerfoo/engine.h"

zf_status zf_engine_run(zf_engine *e, const zf_op_call *call) {
    if (!e || !call) return zf_set_error(ZF_ERR_INVALID_ARG, "engine_run: NULL argument");
    if ((unsigned)call->op >= ZF_OP_COUNT) return zf_set_error(ZF_ERR_INVALID_ARG, "engine_run: bad op %d", call->op);
    zf_kernel_fn k = e->kernels[call->op];
    if (!k)
        return zf_set_error(ZF_ERR_UNSUPPORTED, "engine %s has no kernel for op %s", e->name, zf_op_name(call->op));
    return k(e, call);
}

zf_status zf_dispatch(zf_ctx *ctx, zf_op op, zf_tensor *out, int n_in, const zf_tensor *const *in,
                      const zf_op_params *p) {
    zf_op_call c;
    memset(&c, 0, sizeof c);
    c.op = op;
    c.n_in = n_in;
    for (int i = 0; i < n_in && i < ZF_MAX_OP_INPUTS; i++) c.in[i] = in[i];
    c.out = out;
    if (p) c.p = *p;
    return zf_engine_run(zf_ctx_engine(ctx), &c);
}

static void *host_alloc(zf_engine *e, size_t n) {
    (void)e;
    void *p = NULL;
    return posix_memalign(&p, 64, n ? n : 1) == 0 ? p : NULL;
}
static void host_free(zf_engine *e, void *p) {
    (void)e;
    free(p);
}
static void host_sync(zf_engine *e) { (void)e; }

typedef struct {
    zf_engine base;
    bool owns_pool;
    bool is_default;
} cpu_engine;

static void cpu_destroy(zf_engine *e) {
    cpu_engine *c = (cpu_engine *)e;
    if (c->is_default) return;
    if (c->owns_pool) zf_threadpool_free(e->pool);
    free(c);
}

/* Fills a CPU engine's kernel table (shared by "cpu" and "blas"). */
void zf_cpu_fill_kernels(zf_kernel_fn *k) {
    zf_cpu_register_fill(k);
    zf_cpu_register_elementwise(k);
    zf_cpu_register_reduce(k);
    zf_cpu_register_matmul(k);
    zf_cpu_register_index(k);
    zf_cpu_register_conv(k);
    zf_cpu_register_pool(k);
    zf_cpu_register_loss(k);
    zf_cpu_register_optim(k);
    zf_cpu_register_qmatmul(k);
    zf_cpu_register_llm(k);
    zf_cpu_register_attention(k);
}

static cpu_engine *cpu_engine_make(const char *name, zf_threadpool *pool, bool owns_pool) {
    cpu_engine *c = calloc(1, sizeof *c);
    if (!c) {
        zf_set_error(ZF_ERR_OOM, "cpu engine: out of memory");
        return NULL;
    }
    c->base.name = name;
    c->base.alloc = host_alloc;
    c->base.free = host_free;
    c->base.sync = host_sync;
    c->base.destroy = cpu_destroy;
    c->base.host_memory = true;
    c->base.pool = pool;
    c->owns_pool = owns_pool;
    zf_cpu_fill_kernels(c->base.kernels);
    return c;
}

static zf_engine *g_cpu;
static pthread_once_t g_cpu_once = PTHREAD_ONCE_INIT;
static void cpu_default_init(void) {
    cpu_engine *c = cpu_engine_make("cpu", zf_default_threadpool(), false);
    if (c) c->is_default = true;
    g_cpu = c ? &c->base : NULL;
}

zf_engine *zf_cpu_engine(void) {
    pthread_once(&g_cpu_once, cpu_default_init);
    if (!g_cpu) zf_set_error(ZF_ERR_OOM, "cannot create the CPU engine");
    return g_cpu;
}

zf_engine *zf_cpu_engine_new(int nthreads) {
    zf_threadpool *pool = zf_threadpool_new(nthreads);
    if (!pool) return NULL;
    cpu_engine *c = cpu_engine_make("cpu", pool, true);
    if (!c) {
        zf_threadpool_free(pool);
        return NULL;
    }
    return &c->base;
}

void zf_engine_free(zf_engine *e) {
    if (e && e->destroy) e->destroy(e);
}
