/* Thread pool: a generation counter announces each job; workers spin on it for
 * a short while, then wait on a condition variable. See threadpool.h. */
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
    pthread_cond_t done_cv;
    _Atomic uint64_t generation; /* bumped per job */
    _Atomic int pending;         /* workers still running the current job */
    _Atomic int sleeping;        /* workers waiting on `wake` */
    atomic_bool quit;
    zf_thread_fn fn;
    void *arg;
};

typedef struct {
    zf_threadpool *pool;
    int tid;
} worker_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *p) {
    worker_arg wa = *(worker_arg *)p;
    free(p);
    zf_threadpool *pool = wa.pool;
    uint64_t seen = 0;
    for (;;) {
        uint64_t gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen &&
               !atomic_load(&pool->quit)) {
            if (++spins < SPIN_ITERS) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&pool->mu);
            atomic_fetch_add(&pool->sleeping, 1);
            while (atomic_load(&pool->generation) == seen && !atomic_load(&pool->quit))
                pthread_cond_wait(&pool->wake, &pool->mu);
            atomic_fetch_sub(&pool->sleeping, 1);
            pthread_mutex_unlock(&pool->mu);
        }
        if (atomic_load(&pool->quit)) return NULL;
        seen = gen;
        pool->fn(pool->arg, wa.tid, pool->size);
        if (atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool->mu);
            pthread_cond_signal(&pool->done_cv);
            pthread_mutex_unlock(&pool->mu);
        }
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
    pthread_cond_init(&pool->done_cv, NULL);
    if (nthreads > 1) {
        pool->threads = calloc((size_t)nthreads - 1, sizeof(pthread_t));
        if (!pool->threads) goto oom;
        for (int i = 1; i < nthreads; i++) {
            worker_arg *wa = malloc(sizeof *wa);
            if (!wa) goto oom_started;
            wa->pool = pool;
            wa->tid = i;
            if (pthread_create(&pool->threads[i - 1], NULL, worker_main, wa) != 0) {
                free(wa);
                pool->size = i; /* join only the started ones */
                zf_threadpool_free(pool);
                zf_set_error(ZF_ERR_OOM, "threadpool: cannot start thread %d", i);
                return NULL;
            }
            continue;
        oom_started:
            pool->size = i;
            zf_threadpool_free(pool);
            zf_set_error(ZF_ERR_OOM, "threadpool: out of memory");
            return NULL;
        }
    }
    return pool;
oom:
    free(pool);
    zf_set_error(ZF_ERR_OOM, "threadpool: out of memory");
    return NULL;
}

void zf_threadpool_free(zf_threadpool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mu);
    atomic_store(&pool->quit, true);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 1; i < pool->size; i++) pthread_join(pool->threads[i - 1], NULL);
    free(pool->threads);
    pthread_mutex_destroy(&pool->job_lock);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->done_cv);
    free(pool);
}

int zf_threadpool_size(const zf_threadpool *pool) { return pool ? pool->size : 1; }

void zf_threadpool_run(zf_threadpool *pool, zf_thread_fn fn, void *arg) {
    if (!pool || pool->size == 1) {
        fn(arg, 0, 1);
        return;
    }
    pthread_mutex_lock(&pool->job_lock);
    pool->fn = fn;
    pool->arg = arg;
    atomic_store(&pool->pending, pool->size - 1);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    if (atomic_load(&pool->sleeping) > 0) {
        pthread_mutex_lock(&pool->mu);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mu);
    }
    fn(arg, 0, pool->size);
    int spins = 0;
    while (atomic_load_explicit(&pool->pending, memory_order_acquire) > 0) {
        if (++spins < SPIN_ITERS) {
            cpu_relax();
            continue;
        }
        pthread_mutex_lock(&pool->mu);
        while (atomic_load(&pool->pending) > 0) pthread_cond_wait(&pool->done_cv, &pool->mu);
        pthread_mutex_unlock(&pool->mu);
    }
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
    if (chunks <= 1) {
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
