/* Arena contexts. Memory comes in chunks; allocations bump a cursor in the
 * current chunk. zf_ctx_reset keeps the memory: when a step needed several
 * chunks, they are merged into one chunk of the total size, so the next
 * identical step is served by a single chunk and allocates nothing.
 * Engines whose memory is not host memory get per-allocation engine buffers,
 * tracked in a list and released on reset/free. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "zerfoo/engine.h"

#define CHUNK_MIN (1u << 20) /* 1 MiB */
#define ALIGN 64

typedef struct chunk {
    struct chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    /* data follows, ALIGN-aligned */
} chunk;

typedef struct dev_alloc {
    struct dev_alloc *next;
    void *p;
} dev_alloc;

struct zf_ctx {
    zf_engine *engine;
    chunk *head;       /* current chunk (most recent first) */
    size_t reserved;   /* bytes held from the system (chunks) */
    size_t used;       /* bytes handed out since reset */
    size_t limit;      /* 0 = unlimited */
    bool poison;
    dev_alloc *dev;    /* engine allocations (non-host engines) */
};

static size_t align_up(size_t n) { return (n + (ALIGN - 1)) & ~(size_t)(ALIGN - 1); }

static chunk *chunk_new(size_t size) {
    size_t hdr = align_up(sizeof(chunk));
    if (size > SIZE_MAX - hdr - ALIGN) return NULL;
    void *mem = NULL;
    if (posix_memalign(&mem, ALIGN, hdr + size) != 0) return NULL;
    chunk *c = mem;
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

static inline unsigned char *chunk_data(chunk *c) { return (unsigned char *)c + align_up(sizeof(chunk)); }

zf_ctx *zf_ctx_new(zf_engine *engine) {
    zf_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        zf_set_error(ZF_ERR_OOM, "zf_ctx_new: out of memory");
        return NULL;
    }
    ctx->engine = engine ? engine : zf_cpu_engine();
    if (!ctx->engine) {
        free(ctx);
        return NULL;
    }
    return ctx;
}

static void free_chunks(chunk *c) {
    while (c) {
        chunk *n = c->next;
        free(c);
        c = n;
    }
}

static void free_dev(zf_ctx *ctx) {
    dev_alloc *d = ctx->dev;
    while (d) {
        dev_alloc *n = d->next;
        ctx->engine->free(ctx->engine, d->p);
        d = n; /* the dev_alloc records live in the arena */
    }
    ctx->dev = NULL;
}

void zf_ctx_free(zf_ctx *ctx) {
    if (!ctx) return;
    free_dev(ctx);
    free_chunks(ctx->head);
    free(ctx);
}

void zf_ctx_reset(zf_ctx *ctx) {
    if (!ctx) return;
    free_dev(ctx);
    if (ctx->head && ctx->head->next) {
        /* Several chunks: replace them by one that holds them all. */
        size_t total = 0;
        for (chunk *c = ctx->head; c; c = c->next) total += c->size;
        free_chunks(ctx->head);
        ctx->head = chunk_new(total);
        ctx->reserved = ctx->head ? total : 0;
    }
    if (ctx->head) ctx->head->used = 0;
    ctx->used = 0;
}

zf_engine *zf_ctx_engine(const zf_ctx *ctx) { return ctx ? ctx->engine : NULL; }
size_t zf_ctx_used_bytes(const zf_ctx *ctx) { return ctx ? ctx->used : 0; }
size_t zf_ctx_reserved_bytes(const zf_ctx *ctx) { return ctx ? ctx->reserved : 0; }
void zf_ctx_set_poison(zf_ctx *ctx, bool poison) {
    if (ctx) ctx->poison = poison;
}
void zf_ctx_set_limit(zf_ctx *ctx, size_t max_bytes) {
    if (ctx) ctx->limit = max_bytes;
}
bool zf_ctx_poison(const zf_ctx *ctx) { return ctx && ctx->poison; }

void *zf_ctx_alloc(zf_ctx *ctx, size_t nbytes) {
    if (!ctx) {
        zf_set_error(ZF_ERR_INVALID_ARG, "zf_ctx_alloc: NULL context");
        return NULL;
    }
    if (nbytes > SIZE_MAX / 2) {
        zf_set_error(ZF_ERR_OVERFLOW, "allocation of %zu bytes is too large", nbytes);
        return NULL;
    }
    size_t need = align_up(nbytes ? nbytes : 1);
    if (ctx->limit && ctx->used + need > ctx->limit) {
        zf_set_error(ZF_ERR_OOM, "context memory limit of %zu bytes exceeded (asked for %zu more)", ctx->limit,
                     nbytes);
        return NULL;
    }
    chunk *c = ctx->head;
    if (!c || c->size - c->used < need) {
        size_t size = need > CHUNK_MIN ? need : CHUNK_MIN;
        if (c && c->size * 2 > size && c->size * 2 >= c->size) size = c->size * 2 > need ? c->size * 2 : size;
        chunk *n = chunk_new(size);
        if (!n && size > need) n = chunk_new(size = need);
        if (!n) {
            zf_set_error(ZF_ERR_OOM, "out of memory allocating %zu bytes", nbytes);
            return NULL;
        }
        n->next = c;
        ctx->head = c = n;
        ctx->reserved += size;
    }
    void *p = chunk_data(c) + c->used;
    c->used += need;
    ctx->used += need;
    return p;
}

void *zf_ctx_alloc_zeroed(zf_ctx *ctx, size_t nbytes) {
    void *p = zf_ctx_alloc(ctx, nbytes);
    if (p) memset(p, 0, nbytes);
    return p;
}

void *zf_ctx_alloc_data(zf_ctx *ctx, size_t nbytes) {
    zf_engine *e = ctx->engine;
    void *p;
    if (e->host_memory || !e->alloc) {
        p = zf_ctx_alloc(ctx, nbytes);
        if (p && ctx->poison) memset(p, 0xFF, nbytes);
        return p;
    }
    dev_alloc *d = zf_ctx_alloc(ctx, sizeof *d);
    if (!d) return NULL;
    p = e->alloc(e, nbytes);
    if (!p) {
        zf_set_error(ZF_ERR_OOM, "engine %s: out of device memory allocating %zu bytes", e->name, nbytes);
        return NULL;
    }
    d->p = p;
    d->next = ctx->dev;
    ctx->dev = d;
    return p;
}
