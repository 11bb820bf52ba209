/* zerfoo — one thread pool for CPU work.
 *
 * A job is `size` tasks; the pool's threads and the caller claim them, so the
 * caller never waits for a thread that has not started (it runs unclaimed
 * tasks itself). Workers spin briefly after a job and then sleep on a
 * condition variable, so an idle process burns no CPU. A pool runs one job at
 * a time: calls from several threads at once are serialized, and a call made
 * from inside a task runs inline. */
#ifndef ZERFOO_THREADPOOL_H
#define ZERFOO_THREADPOOL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zf_threadpool zf_threadpool;

/* fn(arg, tid, nthreads): called once per task tid in [0, nthreads), on any
 * thread (one OS thread may run several tasks one after the other). */
typedef void (*zf_thread_fn)(void *arg, int tid, int nthreads);
/* fn(arg, begin, end): one chunk [begin, end) of a parallel loop. */
typedef void (*zf_range_fn)(void *arg, int64_t begin, int64_t end);

/* nthreads <= 0: the number of online CPUs. NULL on failure (zf_last_error). */
zf_threadpool *zf_threadpool_new(int nthreads);
void zf_threadpool_free(zf_threadpool *pool);
int zf_threadpool_size(const zf_threadpool *pool);

/* Runs the `size` tasks of fn (pool NULL: one inline call, nthreads = 1). */
void zf_threadpool_run(zf_threadpool *pool, zf_thread_fn fn, void *arg);
/* Splits [0, n) into chunks of at least `grain` items (fewer threads when n is
 * small) and runs fn on each. pool NULL or n < 2*grain: one inline call. */
void zf_parallel_for(zf_threadpool *pool, int64_t n, int64_t grain, zf_range_fn fn, void *arg);

/* The process-wide default pool used by the CPU engine, created on first use
 * with ZF_NUM_THREADS threads (default: online CPUs). */
zf_threadpool *zf_default_threadpool(void);

#ifdef __cplusplus
}
#endif
#endif
