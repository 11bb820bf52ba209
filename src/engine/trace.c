/* Trace engine: forwards every op to an inner engine and records op, input
 * and output shapes/dtypes, status and wall time. A debugging aid, and the
 * op harness's second engine. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zerfoo/engine.h"

typedef struct {
    zf_engine base;
    zf_engine *inner;
    zf_trace_record *recs;
    size_t n, cap;
} trace_engine;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static zf_status trace_kernel(zf_engine *e, const zf_op_call *c) {
    trace_engine *t = (trace_engine *)e;
    double t0 = now_s();
    zf_status s = t->inner->kernels[c->op](t->inner, c);
    double dt = now_s() - t0;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        zf_trace_record *r = realloc(t->recs, cap * sizeof *r);
        if (!r) return s; /* tracing is best effort; the op's result stands */
        t->recs = r;
        t->cap = cap;
    }
    zf_trace_record *r = &t->recs[t->n++];
    memset(r, 0, sizeof *r);
    r->op = c->op;
    r->n_in = c->n_in;
    for (int i = 0; i < c->n_in && i < ZF_MAX_OP_INPUTS; i++) {
        r->in_dtype[i] = c->in[i]->dtype;
        r->in_ndim[i] = c->in[i]->ndim;
        memcpy(r->in_shape[i], c->in[i]->shape, sizeof r->in_shape[i]);
    }
    r->out_dtype = c->out->dtype;
    r->out_ndim = c->out->ndim;
    memcpy(r->out_shape, c->out->shape, sizeof r->out_shape);
    r->seconds = dt;
    r->status = s;
    return s;
}

static void *trace_alloc(zf_engine *e, size_t n) {
    zf_engine *in = ((trace_engine *)e)->inner;
    return in->alloc(in, n);
}
static void trace_free(zf_engine *e, void *p) {
    zf_engine *in = ((trace_engine *)e)->inner;
    in->free(in, p);
}
static void trace_sync(zf_engine *e) {
    zf_engine *in = ((trace_engine *)e)->inner;
    if (in->sync) in->sync(in);
}
static void trace_destroy(zf_engine *e) {
    trace_engine *t = (trace_engine *)e;
    free(t->recs);
    free(t);
}

zf_engine *zf_trace_engine_new(zf_engine *inner) {
    if (!inner) {
        zf_set_error(ZF_ERR_INVALID_ARG, "trace engine: NULL inner engine");
        return NULL;
    }
    trace_engine *t = calloc(1, sizeof *t);
    if (!t) {
        zf_set_error(ZF_ERR_OOM, "trace engine: out of memory");
        return NULL;
    }
    t->inner = inner;
    t->base.name = "trace";
    for (int op = 0; op < ZF_OP_COUNT; op++)
        if (inner->kernels[op]) t->base.kernels[op] = trace_kernel;
    t->base.alloc = trace_alloc;
    t->base.free = trace_free;
    t->base.sync = trace_sync;
    t->base.destroy = trace_destroy;
    t->base.host_memory = inner->host_memory;
    t->base.pool = inner->pool;
    return &t->base;
}

static const trace_engine *as_trace(const zf_engine *e) {
    return (e && e->destroy == trace_destroy) ? (const trace_engine *)e : NULL;
}

size_t zf_trace_count(const zf_engine *e) {
    const trace_engine *t = as_trace(e);
    return t ? t->n : 0;
}

const zf_trace_record *zf_trace_get(const zf_engine *e, size_t i) {
    const trace_engine *t = as_trace(e);
    return (t && i < t->n) ? &t->recs[i] : NULL;
}

void zf_trace_clear(zf_engine *e) {
    trace_engine *t = (trace_engine *)as_trace(e);
    if (t) t->n = 0;
}

static void print_shape(FILE *f, int nd, const int64_t *s) {
    fputc('[', f);
    for (int i = 0; i < nd; i++) fprintf(f, "%s%lld", i ? "," : "", (long long)s[i]);
    fputc(']', f);
}

void zf_trace_dump(const zf_engine *e, FILE *f) {
    const trace_engine *t = as_trace(e);
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) {
        const zf_trace_record *r = &t->recs[i];
        fprintf(f, "%-12s", zf_op_name(r->op));
        for (int k = 0; k < r->n_in; k++) {
            fprintf(f, " %s", zf_dtype_name(r->in_dtype[k]));
            print_shape(f, r->in_ndim[k], r->in_shape[k]);
        }
        fprintf(f, " -> %s", zf_dtype_name(r->out_dtype));
        print_shape(f, r->out_ndim, r->out_shape);
        fprintf(f, " %.3f us%s\n", r->seconds * 1e6, r->status ? " FAILED" : "");
    }
}
