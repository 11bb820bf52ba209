/* Thread pool: every index runs exactly once, nested calls run inline, many
 * back-to-back jobs, and RNG results that do not depend on the thread count. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "zf_test.h"

typedef struct {
    _Atomic int *hits;
    zf_threadpool *pool;
    _Atomic int nested;
} job;

static void mark(void *p, int64_t b, int64_t e) {
    job *j = p;
    for (int64_t i = b; i < e; i++) atomic_fetch_add(&j->hits[i], 1);
}

static void inner(void *p, int64_t b, int64_t e) {
    job *j = p;
    atomic_fetch_add(&j->nested, (int)(e - b));
}

static void outer(void *p, int64_t b, int64_t e) {
    job *j = p;
    for (int64_t i = b; i < e; i++) zf_parallel_for(j->pool, 100, 1, inner, j); /* inline: no deadlock */
}

int main(void) {
    enum { N = 100003 };
    static _Atomic int hits[N];
    for (int threads = 1; threads <= 4; threads++) {
        zf_threadpool *pool = zf_threadpool_new(threads);
        CHECK(pool && zf_threadpool_size(pool) == threads);
        job j = {hits, pool, 0};
        for (int rep = 0; rep < 200; rep++) {
            memset(hits, 0, sizeof hits);
            int64_t n = rep == 0 ? N : 1 + (rep * 7919) % N;
            zf_parallel_for(pool, n, 1 + rep % 5, mark, &j);
            bool once = true;
            for (int64_t i = 0; i < n; i++) once &= hits[i] == 1;
            for (int64_t i = n; i < N; i++) once &= hits[i] == 0;
            if (!once) {
                CHECK(once);
                break;
            }
        }
        zf_parallel_for(pool, 8, 1, outer, &j);
        CHECK(atomic_load(&j.nested) == 800);
        zf_threadpool_free(pool);
    }
    CHECK(zf_threadpool_new(100000) == NULL && zf_last_status() == ZF_ERR_INVALID_ARG);

    /* Same seed, same numbers on 1, 2 and 3 threads. */
    float *ref = NULL;
    for (int threads = 1; threads <= 3; threads++) {
        zf_engine *e = zf_cpu_engine_new(threads);
        zf_ctx *ctx = zf_ctx_new(e);
        zf_tensor *r = zf_randn(ctx, ZF_F32, 1, (int64_t[]){300000}, 7, 3);
        CHECK(r != NULL);
        if (r) {
            if (!ref) {
                ref = malloc(300000 * sizeof(float));
                memcpy(ref, zf_data(r), 300000 * sizeof(float));
            } else {
                CHECK(memcmp(ref, zf_data(r), 300000 * sizeof(float)) == 0);
            }
        }
        zf_ctx_free(ctx);
        zf_engine_free(e);
    }
    free(ref);
    ZF_TEST_MAIN_END();
}
