/* Per-thread scratch buffers of the CPU kernels: one cache per thread and
 * slot, grown on demand and kept for the next call, so steady-state calls
 * allocate nothing. The pointers live in TLS; a pthread key frees them when
 * the thread exits. */
#include <pthread.h>
#include <stdlib.h>

#include "engine/cpu/cpu.h"

typedef struct {
    void *buf[ZF_SCRATCH_SLOTS];
    size_t cap[ZF_SCRATCH_SLOTS];
} scratch_set;

static _Thread_local scratch_set *tls_set;
static pthread_key_t set_key;
static pthread_once_t set_once = PTHREAD_ONCE_INIT;
static bool set_key_ok;

static void set_free(void *p) {
    scratch_set *s = p;
    for (int i = 0; i < ZF_SCRATCH_SLOTS; i++) free(s->buf[i]);
    free(s);
}
static void set_key_init(void) { set_key_ok = pthread_key_create(&set_key, set_free) == 0; }

void *zf_cpu_scratch(zf_scratch_slot slot, size_t n) {
    scratch_set *s = tls_set;
    if (!s) {
        pthread_once(&set_once, set_key_init);
        s = calloc(1, sizeof *s);
        if (!s) return NULL;
        if (set_key_ok) pthread_setspecific(set_key, s);
        tls_set = s;
    }
    if (s->cap[slot] >= n && s->buf[slot]) return s->buf[slot];
    size_t cap = (n + 4095) & ~(size_t)4095;
    void *p = aligned_alloc(64, cap ? cap : 4096);
    if (!p) return NULL;
    free(s->buf[slot]);
    s->buf[slot] = p;
    s->cap[slot] = cap;
    return p;
}
