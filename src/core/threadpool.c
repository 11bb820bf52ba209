/* Thread pool with claimable tasks.
 *
 * A job is `size` tasks (tid 0 .. size-1). Its state word packs the job's
 * generation (high 32 bits) and the next unclaimed task (low 32 bits).
 * Workers and the caller claim tasks with a compare-and-swap that also checks
 * the generation, so a worker that wakes late can never claim a task of a
 * newer job with stale arguments. The caller runs whatever nobody else has
 * claimed, so a job never waits for a worker that is not running (an
 * oversubscribed machine); it only waits for tasks already started.
 * Workers spin briefly after a job, then sleep on a condition variable.
 * A call made from inside a pool task runs inline (no nested jobs). */
#include "zerfoo/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "zerfoo/error.h"

#define SPIN_ITERS 20000

struct zf_threadpool {
    int size;
    pthread_t *threads;
    pthread_mutex_t job_lock; /* serializes callers */
    pthread_mutex_t mu;
    pthread_cond_t wake;
    _Atomic uint64_t state;   /* gen << 32 | next task */
    _Atomic int done;         /* tasks finished in the current job */
    _Atomic int sleeping;     /* workers waiting on `wake` */
    atomic_bool quit;
    zf_thread_fn fn;          /* written before the generation is published */
    void *arg;
};

static _Thread_local bool tl_in_task;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Claims and runs tasks of generation `gen` until none are left. */
static void run_tasks(zf_threadpool *pool, uint32_t gen) {
    for (;;) {
        uint64_t s = atomic_load_explicit(&pool->state, memory_order_acquire);
        if ((uint32_t)(s >> 32) != gen) return;
        uint32_t task = (uint32_t)s;
        if ((int)task >= pool->size) return;
        if (!atomic_compare_exchange_weak_explicit(&pool->state, &s, s + 1, memory_order_acq_rel,
                                                   memory_order_relaxed))
            continue;
        tl_in_task = true;
        pool->fn(pool->arg, (int)task, pool->size);
        tl_in_task = false;
        atomic_fetch_add_explicit(&pool->done, 1, memory_order_release);
    }
}

static void *worker_main(void *p) {
    zf_threadpool *pool = p;
    uint32_t seen = 0;
    for (;;) {
        uint32_t gen;
        int spins = 0;
        while ((gen = (uint32_t)(atomic_load_explicit(&pool->state, memory_order_acquire) >> 32)) == seen &&
               !atomic_load(&pool->quit)) {
            if (++spins < SPIN_ITERS) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&pool->mu);
            atomic_fetch_add(&pool->sleeping, 1);
            while ((uint32_t)(atomic_load(&pool->state) >> 32) == seen && !atomic_load(&pool->quit))
                pthread_cond_wait(&pool->wake, &pool->mu);
            atomic_fetch_sub(&pool->sleeping, 1);
            pthread_mutex_unlock(&pool->mu);
            spins = 0;
        }
        if (atomic_load(&pool->quit)) return NULL;
        seen = gen;
        run_tasks(pool, gen);
    }
}

static int online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

zf_threadpool *zf_threadpool_new(int nthreads) {
    if (nthreads <= 0) nthreads = online_cpus();
    if (nthreads > 1024) {
        zf_set_error(ZF_ERR_INVALID_ARG, "threadpool: %d threads is too many", nthreads);
        return NULL;
    }
    zf_threadpool *pool = calloc(1, sizeof *pool);
    if (!pool) {
        zf_set_error(ZF_ERR_OOM, "threadpool: out of memory");
        return NULL;
    }
    pool->size = nthreads;
    pthread_mutex_init(&pool->job_lock, NULL);
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->wake, NULL);
    atomic_init(&pool->state, (uint64_t)nthreads); /* generation 0, nothing to claim */
    if (nthreads > 1) {
        pool->threads = calloc((size_t)nthreads - 1, sizeof(pthread_t));
        if (!pool->threads) {
            zf_threadpool_free(pool);
            zf_set_error(ZF_ERR_OOM, "threadpool: out of memory");
            return NULL;
        }
        for (int i = 1; i < nthreads; i++) {
            if (pthread_create(&pool->threads[i - 1], NULL, worker_main, pool) != 0) {
                pool->size = i; /* join only the started ones */
                zf_threadpool_free(pool);
                zf_set_error(ZF_ERR_OOM, "threadpool: cannot start thread %d", i);
                return NULL;
            }
        }
    }
    return pool;
}

void zf_threadpool_free(zf_threadpool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mu);
    atomic_store(&pool->quit, true);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mu);
    if (pool->threads)
        for (int i = 1; i < pool->size; i++) pthread_join(pool->threads[i - 1], NULL);
    free(pool->threads);
    pthread_mutex_destroy(&pool->job_lock);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->wake);
    free(pool);
}

int zf_threadpool_size(const zf_threadpool *pool) { return pool ? pool->size : 1; }

void zf_threadpool_run(zf_threadpool *pool, zf_thread_fn fn, void *arg) {
    if (!pool || pool->size == 1 || tl_in_task) {
        int n = zf_threadpool_size(pool);
        for (int t = 0; t < n; t++) fn(arg, t, n);
        return;
    }
    pthread_mutex_lock(&pool->job_lock);
    pool->fn = fn;
    pool->arg = arg;
    atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
    uint32_t gen = (uint32_t)(atomic_load(&pool->state) >> 32) + 1;
    atomic_store_explicit(&pool->state, (uint64_t)gen << 32, memory_order_release);
    if (atomic_load(&pool->sleeping) > 0) {
        pthread_mutex_lock(&pool->mu);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mu);
    }
    run_tasks(pool, gen);
    /* Every task is claimed now; wait for the ones other threads started. */
    while (atomic_load_explicit(&pool->done, memory_order_acquire) < pool->size) cpu_relax();
    pthread_mutex_unlock(&pool->job_lock);
}

typedef struct {
    zf_range_fn fn;
    void *arg;
    int64_t n;
    int nchunks;
} range_job;

static void range_trampoline(void *p, int tid, int nthreads) {
    (void)nthreads;
    range_job *job = p;
    if (tid >= job->nchunks) return;
    int64_t begin = job->n * tid / job->nchunks;
    int64_t end = job->n * (tid + 1) / job->nchunks;
    if (end > begin) job->fn(job->arg, begin, end);
}

void zf_parallel_for(zf_threadpool *pool, int64_t n, int64_t grain, zf_range_fn fn, void *arg) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int size = zf_threadpool_size(pool);
    int64_t chunks = n / grain;
    if (chunks > size) chunks = size;
    if (chunks <= 1 || tl_in_task) {
        fn(arg, 0, n);
        return;
    }
    range_job job = {fn, arg, n, (int)chunks};
    zf_threadpool_run(pool, range_trampoline, &job);
}

static zf_threadpool *g_default_pool;
static pthread_once_t g_default_once = PTHREAD_ONCE_INIT;

static void default_pool_init(void) {
    int n = 0;
    const char *env = getenv("ZF_NUM_THREADS");
    if (env) n = atoi(env);
    g_default_pool = zf_threadpool_new(n);
}

zf_threadpool *zf_default_threadpool(void) {
    pthread_once(&g_default_once, default_pool_init);
    return g_default_pool;
}
