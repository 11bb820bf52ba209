/* zerfoo — the engine interface.
 *
 * All arithmetic goes through an engine: the frontend (ops.h) checks
 * arguments, computes the output shape, allocates the output (contiguous
 * unless stated) and calls the engine's kernel for the op. Kernels accept
 * strided inputs of any layout (broadcast dims have stride 0), must not
 * allocate memory that outlives the call, and return a status.
 *
 * Engines: "cpu" (reference + SIMD + threads), "blas" (cpu with cblas
 * matmul, OpenBLAS loaded at run time), "trace" (wraps another engine and
 * records each op with shapes, dtypes and time). */
#ifndef ZERFOO_ENGINE_H
#define ZERFOO_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "zerfoo/op_table.h"
#include "zerfoo/tensor.h"
#include "zerfoo/threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZF_MAX_OP_INPUTS 4

typedef struct zf_op_params {
    double f[8];
    int64_t i[8];
} zf_op_params;

typedef struct zf_op_call {
    zf_op op;
    int n_in;
    const zf_tensor *in[ZF_MAX_OP_INPUTS];
    zf_tensor *out;
    zf_op_params p;
} zf_op_call;

typedef zf_status (*zf_kernel_fn)(zf_engine *engine, const zf_op_call *call);

struct zf_engine {
    const char *name;
    zf_kernel_fn kernels[ZF_OP_COUNT];
    /* Device memory; host engines return host memory. */
    void *(*alloc)(zf_engine *e, size_t nbytes);
    void (*free)(zf_engine *e, void *p);
    void (*sync)(zf_engine *e);
    void (*destroy)(zf_engine *e);
    bool host_memory;     /* data pointers are host-addressable */
    zf_threadpool *pool;  /* CPU threads (may be NULL: single-threaded) */
    void *impl;
};

/* The process-wide CPU engine (uses zf_default_threadpool()). */
zf_engine *zf_cpu_engine(void);
/* A new CPU engine with its own pool of nthreads (0 = online CPUs). */
zf_engine *zf_cpu_engine_new(int nthreads);
/* CPU engine whose f32/f64 matmul calls cblas from OpenBLAS (dlopen'd).
 * NULL + ZF_ERR_UNSUPPORTED when no OpenBLAS is installed. */
zf_engine *zf_blas_engine_new(int nthreads);
/* Trace engine wrapping `inner` (not owned). */
zf_engine *zf_trace_engine_new(zf_engine *inner);
void zf_engine_free(zf_engine *e); /* no-op for zf_cpu_engine() */

/* Trace records. */
typedef struct zf_trace_record {
    zf_op op;
    int n_in;
    zf_dtype in_dtype[ZF_MAX_OP_INPUTS];
    int64_t in_shape[ZF_MAX_OP_INPUTS][ZF_MAX_DIMS];
    int in_ndim[ZF_MAX_OP_INPUTS];
    zf_dtype out_dtype;
    int out_ndim;
    int64_t out_shape[ZF_MAX_DIMS];
    double seconds;
    zf_status status;
} zf_trace_record;
size_t zf_trace_count(const zf_engine *trace);
const zf_trace_record *zf_trace_get(const zf_engine *trace, size_t i);
void zf_trace_clear(zf_engine *trace);
/* One line per record: op, input shapes/dtypes, output, time. */
void zf_trace_dump(const zf_engine *trace, FILE *f);

/* Runs one op call on an engine: a missing kernel is ZF_ERR_UNSUPPORTED
 * naming the op and engine. */
zf_status zf_engine_run(zf_engine *e, const zf_op_call *call);

#ifdef __cplusplus
}
#endif
#endif
