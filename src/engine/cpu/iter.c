/* Strided n-d iteration with dim collapsing, and strided typed load/store. */
#include <string.h>

#include "engine/cpu/cpu.h"

void zf_iter_init(zf_iter *it, int out_ndim, const int64_t *out_shape, int nops, const zf_tensor *const *ops) {
    memset(it, 0, sizeof *it);
    it->nops = nops;
    int64_t shape[ZF_MAX_DIMS];
    int64_t stride[ZF_ITER_MAX_OPS][ZF_MAX_DIMS];
    for (int k = 0; k < nops; k++) {
        const zf_tensor *t = ops[k];
        int64_t es = (int64_t)zf_dtype_size(t->dtype);
        it->base[k] = zf_ptr(t);
        for (int i = 0; i < out_ndim; i++) {
            int j = i - (out_ndim - t->ndim);
            stride[k][i] = (j < 0 || t->shape[j] == 1) ? 0 : t->stride[j] * es;
        }
    }
    /* Drop size-1 dims, then merge dim i into i+1 when contiguous for all. */
    int n = 0;
    for (int i = 0; i < out_ndim; i++) {
        if (out_shape[i] == 1) continue;
        shape[n] = out_shape[i];
        for (int k = 0; k < nops; k++) stride[k][n] = stride[k][i];
        n++;
    }
    if (n == 0) {
        it->ndim = 1;
        it->shape[0] = 1;
        for (int k = 0; k < nops; k++) it->stride[k][0] = 0;
        return;
    }
    int m = 0;
    it->shape[0] = shape[0];
    for (int k = 0; k < nops; k++) it->stride[k][0] = stride[k][0];
    for (int i = 1; i < n; i++) {
        bool merge = true;
        for (int k = 0; k < nops; k++)
            if (it->stride[k][m] != stride[k][i] * shape[i]) merge = false;
        if (merge) {
            it->shape[m] *= shape[i];
            for (int k = 0; k < nops; k++) it->stride[k][m] = stride[k][i];
        } else {
            m++;
            it->shape[m] = shape[i];
            for (int k = 0; k < nops; k++) it->stride[k][m] = stride[k][i];
        }
    }
    it->ndim = m + 1;
}

int64_t zf_iter_numel(const zf_iter *it) {
    int64_t n = 1;
    for (int i = 0; i < it->ndim; i++) n *= it->shape[i];
    return n;
}

void zf_iter_range(const zf_iter *it, int64_t begin, int64_t end, zf_row_fn fn, void *arg) {
    int nd = it->ndim, last = nd - 1;
    int64_t idx[ZF_MAX_DIMS];
    int64_t rem = begin;
    for (int i = last; i >= 0; i--) {
        idx[i] = rem % it->shape[i];
        rem /= it->shape[i];
    }
    int64_t inner[ZF_ITER_MAX_OPS];
    for (int k = 0; k < it->nops; k++) inner[k] = it->stride[k][last];
    int64_t pos = begin;
    while (pos < end) {
        char *p[ZF_ITER_MAX_OPS];
        for (int k = 0; k < it->nops; k++) {
            int64_t off = 0;
            for (int i = 0; i < nd; i++) off += idx[i] * it->stride[k][i];
            p[k] = it->base[k] + off;
        }
        int64_t n = it->shape[last] - idx[last];
        if (n > end - pos) n = end - pos;
        fn(arg, p, inner, n);
        pos += n;
        idx[last] += n;
        for (int i = last; i > 0 && idx[i] >= it->shape[i]; i--) {
            idx[i] = 0;
            idx[i - 1]++;
        }
    }
}

typedef struct {
    const zf_iter *it;
    zf_row_fn fn;
    void *arg;
} iter_job;

static void iter_chunk(void *p, int64_t begin, int64_t end) {
    iter_job *j = p;
    zf_iter_range(j->it, begin, end, j->fn, j->arg);
}

void zf_iter_parallel(zf_engine *e, const zf_iter *it, int64_t grain, zf_row_fn fn, void *arg) {
    iter_job j = {it, fn, arg};
    zf_parallel_for(e ? e->pool : NULL, zf_iter_numel(it), grain, iter_chunk, &j);
}

/* ---- typed strided load/store ---- */
#define DEFINE_LOADSTORE(NAME, CT, TO, FROM)                                                \
    void zf_load_##NAME(zf_dtype t, const char *p, int64_t stride, CT *dst, int64_t n) {    \
        int64_t es = (int64_t)zf_dtype_size(t);                                             \
        if (stride == es) {                                                                 \
            TO(t, p, dst, (size_t)n);                                                       \
        } else if (stride == 0) {                                                           \
            TO(t, p, dst, 1);                                                               \
            for (int64_t i = 1; i < n; i++) dst[i] = dst[0];                                \
        } else {                                                                            \
            for (int64_t i = 0; i < n; i++) TO(t, p + i * stride, dst + i, 1);              \
        }                                                                                   \
    }                                                                                       \
    void zf_store_##NAME(zf_dtype t, char *p, int64_t stride, const CT *src, int64_t n) {   \
        int64_t es = (int64_t)zf_dtype_size(t);                                             \
        if (stride == es) {                                                                 \
            FROM(t, src, p, (size_t)n);                                                     \
        } else {                                                                            \
            for (int64_t i = 0; i < n; i++) FROM(t, src + i, p + i * stride, 1);            \
        }                                                                                   \
    }

DEFINE_LOADSTORE(f32, float, zf_convert_to_f32, zf_convert_from_f32)
DEFINE_LOADSTORE(f64, double, zf_convert_to_f64, zf_convert_from_f64)
DEFINE_LOADSTORE(i64, int64_t, zf_convert_to_i64, zf_convert_from_i64)
