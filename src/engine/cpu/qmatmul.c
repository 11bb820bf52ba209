/* The CPU engine's QMATMUL kernel: y[M, N] = x[M, K] · W[N, K]^T with W in a
 * GGUF weight type (see qmatmul.h for the activation formats).
 *
 * Work plan of one call:
 *   1. quantize the M rows of x into qx rows (split over the pool by rows);
 *      the qx buffer is the calling thread's scratch, grown on demand and
 *      kept, so steady-state calls allocate nothing;
 *   2. split the N output features over the pool in contiguous ranges, so
 *      each thread streams its rows of W from memory exactly once. Inside a
 *      range, W is walked in tiles of rows that fit in L1; for each tile,
 *      groups of up to max_rows rows of x go through the dot kernel (up to
 *      8 rows of W per call), which decodes each weight block once per group.
 * Block types take the dot kernel of the ggml recipe (qmatmul.h) that
 * ggml-cpu would run for this type, N and M, so their bits are ggml's and do
 * not depend on the kernel set, the thread count or the tiling; they may
 * depend on M, as ggml's do. f32/f16/bf16 weights with many rows of x
 * (prefill) go instead through the f32 gemm on tiles of W converted to f32
 * (zf_qmatmul_run_path's AUTO rule); these are not ggml's bits. */
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpu/cpu.h"
#include "engine/cpu/gemm.h"
#include "engine/cpu/qmatmul.h"
#include "zerfoo/quant.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

/* ---- activation quantization (formats in qmatmul.h) ---- */

zf_qx_kind zf_qx_kind_for(zf_dtype w) {
    switch (w) {
    case ZF_F32:
    case ZF_F16:
    case ZF_BF16:
        return ZF_QX_F32;
    case ZF_Q4_0:
    case ZF_Q5_0:
    case ZF_Q8_0:
        return ZF_QX_Q8_0;
    case ZF_Q4_1:
    case ZF_Q5_1:
        return ZF_QX_Q8_1;
    case ZF_Q2_K:
    case ZF_Q3_K:
    case ZF_Q4_K:
    case ZF_Q5_K:
    case ZF_Q6_K:
        return ZF_QX_Q8_K;
    default:
        return ZF_QX_COUNT;
    }
}

static size_t round64(size_t n) { return (n + 63) & ~(size_t)63; }

size_t zf_qx_row_bytes(zf_qx_kind kind, int64_t K) {
    switch (kind) {
    case ZF_QX_F32:
        return round64(4 * (size_t)K);
    case ZF_QX_Q8_0:
    case ZF_QX_Q8_1:
        return round64(zf_qx_s_offset(K) + 4 * (size_t)((K / 32 + 1) & ~(int64_t)1));
    default:
        return round64(zf_qx_bsums_offset(K) + 2 * (size_t)(K / 16));
    }
}

static float f16_round(float v) { return zf_f16_to_f32(zf_f32_to_f16(v)); }

/* x * iscale rounded half to even, as int8 (|x * iscale| <= 127 by construction). */
#if defined(__has_builtin)
#if __has_builtin(__builtin_roundevenf)
#define ZF_ROUNDEVENF __builtin_roundevenf
#endif
#endif
#ifndef ZF_ROUNDEVENF /* clang before 15: nearbyintf rounds half to even in the default mode */
#define ZF_ROUNDEVENF nearbyintf
#endif
static inline int8_t q8(float v) {
    float r = ZF_ROUNDEVENF(v);
    return (int8_t)(r > 127.0f ? 127 : r < -127.0f ? -127 : r == r ? r : 0);
}

/* One block of n values: max |x| and whether any is NaN. */
static float block_amax_ref(const float *x, int n, bool *nan) {
    float amax = 0.0f;
    bool bad = false;
    for (int j = 0; j < n; j++) {
        float a = __builtin_fabsf(x[j]);
        amax = a > amax ? a : amax;
        bad |= x[j] != x[j];
    }
    *nan = bad;
    return amax;
}

/* qs[j] = q8(x[j] * id) for n values; returns their sum. */
static int32_t block_q8_ref(const float *x, int n, float id, int8_t *qs) {
    int32_t sum = 0;
    for (int j = 0; j < n; j++) {
        qs[j] = q8(x[j] * id);
        sum += qs[j];
    }
    return sum;
}

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
/* The same two in AVX-512, n a multiple of 16, the same bits: max is exact
 * and order-free (maxps keeps the running max when |x| is NaN, as the
 * scalar compare does); the product, round-half-even, clamp and NaN -> 0
 * are per element. */
#define QX_TGT __attribute__((target("avx512f,avx512bw,avx512vl")))
QX_TGT static float block_amax_avx512(const float *x, int n, bool *nan) {
    __m512 m = _mm512_setzero_ps();
    __mmask16 bad = 0;
    for (int j = 0; j < n; j += 16) {
        const __m512 v = _mm512_loadu_ps(x + j);
        m = _mm512_max_ps(_mm512_abs_ps(v), m);
        bad |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    }
    *nan = bad != 0;
    return _mm512_reduce_max_ps(m);
}
QX_TGT static int32_t block_q8_avx512(const float *x, int n, float id, int8_t *qs) {
    __m512i sum = _mm512_setzero_si512();
    for (int j = 0; j < n; j += 16) {
        const __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + j), _mm512_set1_ps(id));
        __m512 r = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        r = _mm512_min_ps(_mm512_max_ps(r, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
        const __m512i q = _mm512_maskz_cvtps_epi32(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), r);
        _mm_storeu_si128((__m128i *)(void *)(qs + j), _mm512_cvtepi32_epi8(q));
        sum = _mm512_add_epi32(sum, q);
    }
    return _mm512_reduce_add_epi32(sum);
}
static bool qx_avx512(void) {
    static int v = -1; /* benign race: every thread computes the same value */
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl");
    }
    return v;
}
static float block_amax(const float *x, int n, bool *nan) {
    return qx_avx512() ? block_amax_avx512(x, n, nan) : block_amax_ref(x, n, nan);
}
static int32_t block_q8(const float *x, int n, float id, int8_t *qs) {
    return qx_avx512() ? block_q8_avx512(x, n, id, qs) : block_q8_ref(x, n, id, qs);
}
#else
#define block_amax block_amax_ref
#define block_q8 block_q8_ref
#endif

static void quantize_q8_0(const float *x, uint8_t *row, int64_t K, bool q8_1) {
    int64_t nb = K / 32;
    int8_t *qs = (int8_t *)row;
    float *d = (float *)(row + zf_qx_d_offset(K)), *s = (float *)(row + zf_qx_s_offset(K));
    for (int64_t b = 0; b < nb; b++, x += 32, qs += 32) {
        bool nan;
        const float amax = block_amax(x, 32, &nan);
        const float db = amax / 127, id = amax > 0.0f ? 127.0f / amax : 0.0f;
        int32_t sum = 0;
        if (id > 0.0f) sum = block_q8(x, 32, id, qs);
        else memset(qs, 0, 32);
        d[b] = nan ? __builtin_nanf("") : f16_round(db);
        s[b] = q8_1 ? f16_round(db * (float)sum) : d[b] * (float)sum;
        if (nan) s[b] = d[b];
    }
    if (nb & 1) d[nb] = s[nb] = 0.0f;
}

static void quantize_q8_k(const float *x, uint8_t *row, int64_t K) {
    int64_t nb = K / 256;
    int8_t *qs = (int8_t *)row;
    float *d = (float *)(row + zf_qx_d_offset(K));
    int16_t *bsums = (int16_t *)(row + zf_qx_bsums_offset(K));
    for (int64_t b = 0; b < nb; b++, x += 256, qs += 256) {
        bool nan;
        const float amax = block_amax(x, 256, &nan);
        if (!(amax > 0.0f) || amax > 3.4e38f) { /* zero, inf or NaN block */
            memset(qs, 0, 256);
            memset(bsums + 16 * b, 0, 32);
            d[b] = amax == 0.0f && !nan ? 0.0f : __builtin_nanf("");
            continue;
        }
        const float iscale = 127.0f / amax;
        for (int j = 0; j < 16; j++) bsums[16 * b + j] = (int16_t)block_q8(x + 16 * j, 16, iscale, qs + 16 * j);
        d[b] = nan ? __builtin_nanf("") : 1.0f / iscale;
    }
}

void zf_qx_quantize(zf_qx_kind kind, const float *x, uint8_t *row, int64_t K) {
    size_t used;
    switch (kind) {
    case ZF_QX_F32:
        memcpy(row, x, 4 * (size_t)K);
        used = 4 * (size_t)K;
        break;
    case ZF_QX_Q8_0:
    case ZF_QX_Q8_1:
        quantize_q8_0(x, row, K, kind == ZF_QX_Q8_1);
        used = zf_qx_s_offset(K) + 4 * (size_t)((K / 32 + 1) & ~(int64_t)1);
        break;
    default:
        quantize_q8_k(x, row, K);
        used = zf_qx_bsums_offset(K) + 2 * (size_t)(K / 16);
        break;
    }
    memset(row + used, 0, zf_qx_row_bytes(kind, K) - used);
}

/* ---- kernel sets ---- */

const zf_qkernels *const zf_qkernels_all[] = {
#if defined(__x86_64__) || defined(__i386__)
    &zf_qkernels_avx512,
    &zf_qkernels_avx2,
#endif
    &zf_qkernels_ref,
    NULL,
};

static const zf_qkernels *g_best;
static pthread_once_t g_best_once = PTHREAD_ONCE_INIT;

static void best_init(void) {
    const char *want = getenv("ZF_QMATMUL_ISA");
    for (int i = 0; zf_qkernels_all[i]; i++) {
        const zf_qkernels *k = zf_qkernels_all[i];
        if (!k->supported()) continue;
        if (want && *want && strcmp(want, k->name) != 0) continue;
        g_best = k;
        return;
    }
    g_best = &zf_qkernels_ref;
}

const zf_qkernels *zf_qkernels_best(void) {
    pthread_once(&g_best_once, best_init);
    return g_best;
}

/* ---- which ggml kernel ---- */

/* ggml-cpu/repack.cpp ggml_repack_get_optimal_repack_type on x86: q4_0 and
 * q4_K go to the 8x8 interleaved layouts with AVX2, q2_K with AVX-512F,
 * when the row count is a multiple of 8. llama.cpp's loader puts every such
 * weight (matmul weights; not a token embedding, which is loaded for
 * GET_ROWS) in that buffer. */
bool zf_qmm_ggml_repacks(zf_dtype t, int64_t N) {
    if (N % 8 != 0) return false;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (t == ZF_Q4_0 || t == ZF_Q4_K) return __builtin_cpu_supports("avx2");
    if (t == ZF_Q2_K) return __builtin_cpu_supports("avx512f");
#endif
    return false;
}

/* ---- the product ---- */

typedef struct {
    zf_qdot_fn dot[2]; /* rows [0, m_split) and [m_split, M) */
    int64_t m_split;
    int rows[2]; /* x rows per dot call, per segment */
    zf_qx_kind kind;
    zf_dtype wt;
    int64_t M, N, K;
    const float *x;
    const uint8_t *w;
    size_t wrow; /* bytes per row of W */
    uint8_t *qx;
    size_t qxs; /* bytes per qx row */
    float *y;
    int failed; /* a thread could not get scratch memory */
} qmm_job;

static void quantize_rows(void *arg, int64_t m0, int64_t m1) {
    const qmm_job *j = arg;
    for (int64_t m = m0; m < m1; m++) zf_qx_quantize(j->kind, j->x + m * j->K, j->qx + (size_t)m * j->qxs, j->K);
}

static void mm_range(void *arg, int64_t n0, int64_t n1) {
    const qmm_job *j = arg;
    /* tile of W rows that stays in L1 while every group of x rows uses it */
    int64_t tile = j->M <= j->rows[0] ? n1 - n0 : (int64_t)(16384 / j->wrow) & ~(int64_t)(ZF_QDOT_MAX_W - 1);
    if (tile < ZF_QDOT_MAX_W) tile = ZF_QDOT_MAX_W; /* whole dot calls of ZF_QDOT_MAX_W rows */
    for (int64_t t0 = n0; t0 < n1; t0 += tile) {
        int64_t t1 = t0 + tile < n1 ? t0 + tile : n1;
        for (int seg = 0; seg < 2; seg++) {
            int64_t s0 = seg ? j->m_split : 0, s1 = seg ? j->M : j->m_split;
            const int rows = j->rows[seg];
            for (int64_t m0 = s0; m0 < s1; m0 += rows) {
                int nr = s1 - m0 < rows ? (int)(s1 - m0) : rows;
                const uint8_t *qx = j->qx + (size_t)m0 * j->qxs;
                float *y = j->y + m0 * j->N;
                for (int64_t n = t0; n < t1; n += ZF_QDOT_MAX_W) {
                    int nw = t1 - n < ZF_QDOT_MAX_W ? (int)(t1 - n) : ZF_QDOT_MAX_W;
                    j->dot[seg](j->K, j->w + (size_t)n * j->wrow, j->wrow, nw, qx, (int64_t)j->qxs, nr, y + n, j->N);
                }
            }
        }
    }
}

/* Dequantize-and-gemm path: each thread turns tiles of its W rows into f32
 * (zf_dequantize, the reference decoder) and multiplies them with zf_sgemm
 * on that thread. */
static void gemm_range(void *arg, int64_t n0, int64_t n1) {
    qmm_job *j = arg;
    int64_t tile = (int64_t)(262144 / (4 * (size_t)j->K)) & ~(int64_t)15;
    if (tile < 16) tile = 16;
    float *buf = zf_cpu_scratch(ZF_SCRATCH_TILE, sizeof(float) * (size_t)(tile * j->K));
    if (!buf) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int64_t t0 = n0; t0 < n1; t0 += tile) {
        int64_t nt = t0 + tile < n1 ? tile : n1 - t0;
        const uint8_t *src = j->w + (size_t)t0 * j->wrow;
        if (j->wt == ZF_F16 || j->wt == ZF_BF16) zf_convert_to_f32(j->wt, src, buf, (size_t)(nt * j->K)); /* SIMD */
        else zf_dequantize(j->wt, src, buf, nt * j->K);
        zf_sgemm(NULL, false, true, j->M, nt, j->K, 1.0f, j->x, j->K, buf, j->K, 0.0f, j->y + t0, j->N);
    }
}

zf_status zf_qmatmul_run_path(const zf_qkernels *kern, zf_threadpool *pool, zf_qmm_path path, zf_dtype wt,
                              int64_t M, int64_t N, int64_t K, const float *x, const void *w, float *y) {
    if (!kern) kern = zf_qkernels_best();
    zf_qx_kind kind = zf_qx_kind_for(wt);
    if (kind == ZF_QX_COUNT || !kern->dot[ZF_QR_VEC][wt])
        return zf_set_error(ZF_ERR_DTYPE, "qmatmul: no %s kernel for weights of dtype %s", kern->name,
                            zf_dtype_name(wt));
    if (M <= 0 || N <= 0) return ZF_OK;
    int rows = kind == ZF_QX_F32 && kern->max_rows > ZF_QDOT_MAX_ROWS_F32 ? ZF_QDOT_MAX_ROWS_F32 : kern->max_rows;
    qmm_job j = {.m_split = M, .kind = kind, .wt = wt, .M = M, .N = N, .K = K, .x = x, .w = w, .y = y};
    /* ggml's choice (qmatmul.h): repacked weights take the gemm for rows in
     * groups of 4 and the gemv for the rest; K types otherwise the tiled
     * kernel from 8 rows, else (and legacy types always) the vec_dot. */
    zf_qmm_recipe rc0 = kind == ZF_QX_Q8_K && M >= 8 ? ZF_QR_TILED : ZF_QR_VEC, rc1 = rc0;
    if (zf_qmm_ggml_repacks(wt, N)) {
        j.m_split = M - M % 4;
        rc0 = ZF_QR_GEMM;
        rc1 = ZF_QR_GEMV;
    }
    /* a kernel set without a recipe uses the portable kernel (same bits) */
    const zf_qmm_recipe rc[2] = {rc0, rc1};
    for (int s = 0; s < 2; s++) {
        const zf_qkernels *k = kern->dot[rc[s]][wt] ? kern : &zf_qkernels_ref;
        j.dot[s] = k->dot[rc[s]][wt];
        j.rows[s] = (rc[s] == ZF_QR_TILED || rc[s] == ZF_QR_GEMM) && k->max_rows_k8 ? k->max_rows_k8 : rows;
    }
    j.wrow = zf_quant_row_size(wt, K);
    /* Measured on Zen 5 (2048 x 640 weights, 1 and 2 threads, hot and
     * cold): the integer dots beat dequantize + sgemm at every M up to 256
     * for block types; for float weights sgemm wins from M ~ 48-64. */
    if (path == ZF_QMM_AUTO) path = kind == ZF_QX_F32 && M >= 64 ? ZF_QMM_GEMM : ZF_QMM_DOT;
    if (path == ZF_QMM_GEMM) {
        if (wt == ZF_F32)
            return zf_sgemm(pool, false, true, M, N, K, 1.0f, x, K, (const float *)w, K, 0.0f, y, N);
        zf_parallel_for(pool, N, 16, gemm_range, &j);
        return j.failed ? zf_set_error(ZF_ERR_OOM, "qmatmul: out of memory") : ZF_OK;
    }
    if (kind == ZF_QX_F32) { /* the dot reads x itself */
        j.qx = (uint8_t *)(uintptr_t)x;
        j.qxs = 4 * (size_t)K;
    } else {
        j.qxs = zf_qx_row_bytes(kind, K);
        j.qx = zf_cpu_scratch(ZF_SCRATCH_QX, (size_t)M * j.qxs);
        if (!j.qx) return zf_set_error(ZF_ERR_OOM, "qmatmul: cannot allocate %zu bytes of scratch", (size_t)M * j.qxs);
        zf_parallel_for(pool, M, K >= 4096 ? 1 : 4096 / K, quantize_rows, &j);
    }
    /* at least ~64k multiply-adds per chunk so small products stay on one thread */
    int64_t per_row = M * K > 0 ? M * K : 1;
    int64_t grain = 65536 / per_row;
    zf_parallel_for(pool, N, grain < 1 ? 1 : grain, mm_range, &j);
    return ZF_OK;
}

zf_status zf_qmatmul_run(const zf_qkernels *kern, zf_threadpool *pool, zf_dtype wt, int64_t M, int64_t N,
                         int64_t K, const float *x, const void *w, float *y) {
    return zf_qmatmul_run_path(kern, pool, ZF_QMM_AUTO, wt, M, N, K, x, w, y);
}

/* ---- the engine kernel ---- */

/* f64 reference path: each W row dequantized (exactly, to f32) and dotted
 * with the x rows in double. */
typedef struct {
    const double *x;
    const uint8_t *w;
    double *y;
    zf_dtype wt;
    size_t wrow;
    int64_t M, N, K;
    int failed;
} f64_job;

static void f64_range(void *arg, int64_t n0, int64_t n1) {
    f64_job *j = arg;
    float *wr = zf_cpu_scratch(ZF_SCRATCH_TILE, sizeof(float) * (size_t)j->K);
    if (!wr) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int64_t n = n0; n < n1; n++) {
        zf_dequantize(j->wt, j->w + (size_t)n * j->wrow, wr, j->K);
        for (int64_t m = 0; m < j->M; m++) {
            const double *x = j->x + m * j->K;
            double s = 0;
            for (int64_t k = 0; k < j->K; k++) s += x[k] * wr[k];
            j->y[m * j->N + n] = s;
        }
    }
}

static zf_status k_qmatmul(zf_engine *e, const zf_op_call *c) {
    const zf_tensor *x = c->in[0], *w = c->in[1];
    zf_tensor *o = c->out;
    if (x->dtype != o->dtype || (x->dtype != ZF_F32 && x->dtype != ZF_F64) || w->ndim != 2)
        return zf_set_error(ZF_ERR_DTYPE, "qmatmul kernel: needs f32 or f64 x and out and a 2-d weight");
    int64_t N = w->shape[0], K = w->shape[1];
    int64_t M = K > 0 ? zf_numel(x) / K : 0;
    if (x->dtype == ZF_F64) {
        f64_job j = {(const double *)zf_ptr(x), (const uint8_t *)zf_ptr(w), (double *)zf_ptr(o), w->dtype,
                     zf_quant_row_size(w->dtype, K), M, N, K, 0};
        zf_parallel_for(e->pool, N, 1 + 4096 / (M * K + 1), f64_range, &j);
        return j.failed ? zf_set_error(ZF_ERR_OOM, "qmatmul: out of memory") : ZF_OK;
    }
    return zf_qmatmul_run(NULL, e->pool, w->dtype, M, N, K, (const float *)zf_ptr(x), zf_ptr(w), (float *)zf_ptr(o));
}

void zf_cpu_register_qmatmul(zf_kernel_fn *k) { k[ZF_OP_QMATMUL] = k_qmatmul; }
