/* CPU 2-d pooling kernels: MAX_POOL2D, AVG_POOL2D and their gradients.
 *
 * x [P, H, W] planes (P = N*C; the frontend passes contiguous [N, C, H, W]
 * or [C, H, W]), y [P, OH, OW]. Params: i[0..1] kernel (kh, kw), i[2..3]
 * stride, i[4..5] padding; max: i[6..7] dilation; avg: i[6] = 1 to leave the
 * padding out of the divisor, i[7] divisor override (0 = none).
 *
 * Window (oh, ow) starts at (oh*sh - ph, ow*sw - pw). Max pooling follows
 * PyTorch's CPU kernel: the first maximum in row-major window order wins
 * (val > max), a NaN always wins (so the last NaN), and the gradient goes to
 * that one element. Average pooling divides by the window size clipped to
 * the padded input (count_include_pad), or by the number of real input
 * elements, or by the override; an empty window gives 0. Work is split over
 * planes, so every output and gradient is computed the same way whatever the
 * thread count. */
#include <math.h>
#include <string.h>

#include "engine/cpu/cpu.h"

typedef struct {
    const zf_op_call *c;
    int64_t H, W, OH, OW;
    int64_t kh, kw, sh, sw, ph, pw, dh, dw;
    bool is_max, exclude_pad, f64;
    int64_t divisor;
} pool_job;

/* Window rows [h0, h1) (step dh) clipped to the input, for max pooling. */
static inline void max_window(const pool_job *j, int64_t o, int64_t s, int64_t p, int64_t d, int64_t k, int64_t n,
                              int64_t *lo, int64_t *hi) {
    int64_t a = o * s - p, b = a + (k - 1) * d + 1;
    if (b > n) b = n;
    while (a < 0) a += d;
    *lo = a;
    *hi = b;
}

/* Index (into the plane) of the window's maximum, or -1 when the window
 * has no element inside the input. Windows that lie wholly inside the input
 * take a straight loop with branch-free selects. */
#define DEFINE_ARGMAX(T)                                                                          \
    static inline int64_t argmax_##T(const pool_job *j, const T *x, int64_t oh, int64_t ow, T *val) { \
        int64_t hs = oh * j->sh - j->ph, wsx = ow * j->sw - j->pw;                                \
        if (hs >= 0 && wsx >= 0 && hs + (j->kh - 1) * j->dh < j->H && wsx + (j->kw - 1) * j->dw < j->W) { \
            /* setcc/cmov/max only; a NaN sends the window to the exact loop below */             \
            int64_t best = hs * j->W + wsx;                                                       \
            T m = x[best];                                                                        \
            int nan = 0;                                                                          \
            for (int64_t i = 0; i < j->kh; i++) {                                                 \
                int64_t row = (hs + i * j->dh) * j->W + wsx;                                      \
                for (int64_t k = 0; k < j->kw; k++) {                                             \
                    int64_t at = row + k * j->dw;                                                 \
                    T v = x[at];                                                                  \
                    int64_t take = -(int64_t)(v > m);                                             \
                    nan |= v != v;                                                                \
                    best = (at & take) | (best & ~take);                                          \
                    m = v > m ? v : m;                                                            \
                }                                                                                 \
            }                                                                                     \
            if (!nan) {                                                                           \
                *val = m;                                                                         \
                return best;                                                                      \
            }                                                                                     \
        }                                                                                         \
        int64_t h0, h1, w0, w1;                                                                   \
        max_window(j, oh, j->sh, j->ph, j->dh, j->kh, j->H, &h0, &h1);                            \
        max_window(j, ow, j->sw, j->pw, j->dw, j->kw, j->W, &w0, &w1);                            \
        int64_t best = -1;                                                                        \
        T m = -INFINITY;                                                                          \
        for (int64_t ih = h0; ih < h1; ih += j->dh)                                               \
            for (int64_t iw = w0; iw < w1; iw += j->dw) {                                         \
                T v = x[ih * j->W + iw];                                                          \
                if (best < 0) best = ih * j->W + iw;                                              \
                if (v > m || isnan(v)) {                                                          \
                    m = v;                                                                        \
                    best = ih * j->W + iw;                                                        \
                }                                                                                 \
            }                                                                                     \
        *val = m;                                                                                 \
        return best;                                                                              \
    }
DEFINE_ARGMAX(float)
DEFINE_ARGMAX(double)

/* Average window: clipped bounds and the divisor. */
static inline double avg_window(const pool_job *j, int64_t oh, int64_t ow, int64_t *h0, int64_t *h1, int64_t *w0,
                                int64_t *w1) {
    int64_t hs = oh * j->sh - j->ph, ws = ow * j->sw - j->pw;
    int64_t he = hs + j->kh, we = ws + j->kw;
    if (he > j->H + j->ph) he = j->H + j->ph;
    if (we > j->W + j->pw) we = j->W + j->pw;
    int64_t pool = (he - hs) * (we - ws);
    if (hs < 0) hs = 0;
    if (ws < 0) ws = 0;
    if (he > j->H) he = j->H;
    if (we > j->W) we = j->W;
    *h0 = hs, *h1 = he, *w0 = ws, *w1 = we;
    if (j->divisor) return (double)j->divisor;
    return j->exclude_pad ? (double)((he - hs) * (we - ws)) : (double)pool;
}

#define DEFINE_PLANES(T)                                                                               \
    static void forward_##T(const pool_job *j, const T *x, T *y) {                                     \
        for (int64_t oh = 0; oh < j->OH; oh++)                                                         \
            for (int64_t ow = 0; ow < j->OW; ow++) {                                                   \
                T r;                                                                                   \
                if (j->is_max) {                                                                       \
                    argmax_##T(j, x, oh, ow, &r);                                                      \
                } else {                                                                               \
                    int64_t h0, h1, w0, w1;                                                            \
                    double div = avg_window(j, oh, ow, &h0, &h1, &w0, &w1);                            \
                    T s = 0;                                                                           \
                    for (int64_t ih = h0; ih < h1; ih++)                                               \
                        for (int64_t iw = w0; iw < w1; iw++) s += x[ih * j->W + iw];                   \
                    r = (h0 >= h1 || w0 >= w1) ? (T)0 : (T)(s / (T)div);                               \
                }                                                                                      \
                y[oh * j->OW + ow] = r;                                                                \
            }                                                                                          \
    }                                                                                                  \
    /* gx must be zeroed; gy [OH, OW], x the input plane (max only) */                                 \
    static void backward_##T(const pool_job *j, const T *x, const T *gy, T *gx) {                      \
        for (int64_t oh = 0; oh < j->OH; oh++)                                                         \
            for (int64_t ow = 0; ow < j->OW; ow++) {                                                   \
                T g = gy[oh * j->OW + ow];                                                             \
                if (j->is_max) {                                                                       \
                    T m;                                                                               \
                    int64_t k = argmax_##T(j, x, oh, ow, &m);                                          \
                    if (k >= 0) gx[k] += g;                                                            \
                } else {                                                                               \
                    int64_t h0, h1, w0, w1;                                                            \
                    double div = avg_window(j, oh, ow, &h0, &h1, &w0, &w1);                            \
                    T share = (T)(g / (T)div);                                                         \
                    for (int64_t ih = h0; ih < h1; ih++)                                               \
                        for (int64_t iw = w0; iw < w1; iw++) gx[ih * j->W + iw] += share;              \
                }                                                                                      \
            }                                                                                          \
    }
DEFINE_PLANES(float)
DEFINE_PLANES(double)

/* The common 2x2, stride 2, unpadded max pooling of f32, one plane: each
 * output row is a branch-free loop over its windows (vectorizable). The index
 * of the first maximum in window order (0..3: top-left, top-right,
 * bottom-left, bottom-right) selects where the gradient goes; a plane holding
 * a NaN takes the exact loop instead. Rows and columns of the input outside
 * every window are left to the caller (zeroed for gradients). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define ZF_POOL_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ZF_POOL_CLONES
#endif
ZF_POOL_CLONES static void max2x2_fwd_row(int64_t OW, const float *restrict r0, const float *restrict r1,
                                          float *restrict y) {
    for (int64_t ow = 0; ow < OW; ow++) {
        float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
        float m = b > a ? b : a;
        m = c > m ? c : m;
        y[ow] = d > m ? d : m;
    }
}

/* Each window's two gradient values of a row are written as one 64-bit
 * word (the pair of floats), so the loop stores contiguously and vectorizes. */
ZF_POOL_CLONES static void max2x2_bwd_row(int64_t OW, const float *restrict r0, const float *restrict r1,
                                          const float *restrict gy, float *restrict g0, float *restrict g1) {
    for (int64_t ow = 0; ow < OW; ow++) {
        float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
        uint32_t g;
        memcpy(&g, gy + ow, 4);
        uint32_t tb = 0u - (uint32_t)(b > a);
        float m = b > a ? b : a;
        uint32_t tc = 0u - (uint32_t)(c > m);
        m = c > m ? c : m;
        uint32_t td = 0u - (uint32_t)(d > m);
        /* the last strict improvement wins: d, else c, else b, else a */
        uint64_t top = (uint64_t)(g & ~tb & ~tc & ~td) | (uint64_t)(g & tb & ~tc & ~td) << 32;
        uint64_t bot = (uint64_t)(g & tc & ~td) | (uint64_t)(g & td) << 32;
        memcpy(g0 + 2 * ow, &top, 8);
        memcpy(g1 + 2 * ow, &bot, 8);
    }
}

/* Any NaN among n floats (bit test, vectorizable). */
ZF_POOL_CLONES static bool any_nan(const float *restrict x, int64_t n) {
    uint32_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, x + i, 4);
        bad |= (u & 0x7fffffffu) > 0x7f800000u;
    }
    return bad != 0;
}

static bool is_max2x2(const pool_job *j) {
    return j->is_max && !j->f64 && j->kh == 2 && j->kw == 2 && j->sh == 2 && j->sw == 2 && j->ph == 0 &&
           j->pw == 0 && j->dh == 1 && j->dw == 1;
}

/* One plane through the 2x2 path; false when a NaN needs the exact loop. */
static bool max2x2_plane(const pool_job *j, const float *x, float *y, const float *gy, float *gx) {
    if (any_nan(x, j->H * j->W)) return false;
    for (int64_t oh = 0; oh < j->OH; oh++) {
        const float *r0 = x + 2 * oh * j->W, *r1 = r0 + j->W;
        if (y)
            max2x2_fwd_row(j->OW, r0, r1, y + oh * j->OW);
        else
            max2x2_bwd_row(j->OW, r0, r1, gy + oh * j->OW, gx + 2 * oh * j->W, gx + (2 * oh + 1) * j->W);
    }
    return true;
}

static void pool_planes(void *arg, int64_t begin, int64_t end) {
    const pool_job *j = arg;
    const zf_op_call *c = j->c;
    size_t es = j->f64 ? 8 : 4;
    int64_t in_plane = j->H * j->W, out_plane = j->OH * j->OW;
    bool grad = c->op == ZF_OP_MAX_POOL2D_GRAD || c->op == ZF_OP_AVG_POOL2D_GRAD;
    char *out = zf_ptr(c->out);
    for (int64_t p = begin; p < end; p++) {
        if (!grad) {
            const char *x = zf_ptr(c->in[0]) + (size_t)(p * in_plane) * es;
            char *y = out + (size_t)(p * out_plane) * es;
            if (j->f64)
                forward_double(j, (const double *)x, (double *)y);
            else if (!is_max2x2(j) || !max2x2_plane(j, (const float *)x, (float *)y, NULL, NULL))
                forward_float(j, (const float *)x, (float *)y);
        } else {
            const char *gy = zf_ptr(c->in[0]) + (size_t)(p * out_plane) * es;
            const char *x = j->is_max ? zf_ptr(c->in[1]) + (size_t)(p * in_plane) * es : NULL;
            char *gx = out + (size_t)(p * in_plane) * es;
            memset(gx, 0, (size_t)in_plane * es);
            if (j->f64) {
                backward_double(j, (const double *)x, (const double *)gy, (double *)gx);
            } else if (!is_max2x2(j) || !max2x2_plane(j, (const float *)x, NULL, (const float *)gy, (float *)gx)) {
                memset(gx, 0, (size_t)in_plane * es);
                backward_float(j, (const float *)x, (const float *)gy, (float *)gx);
            }
        }
    }
}

static zf_status k_pool(zf_engine *e, const zf_op_call *c) {
    bool grad = c->op == ZF_OP_MAX_POOL2D_GRAD || c->op == ZF_OP_AVG_POOL2D_GRAD;
    const zf_tensor *x = grad ? c->out : c->in[0], *y = grad ? c->in[0] : c->out;
    pool_job j = {.c = c, .is_max = c->op == ZF_OP_MAX_POOL2D || c->op == ZF_OP_MAX_POOL2D_GRAD};
    if (x->ndim < 3 || y->ndim != x->ndim)
        return zf_set_error(ZF_ERR_INTERNAL, "%s kernel: bad operand ranks", zf_op_name(c->op));
    int nd = x->ndim;
    j.H = x->shape[nd - 2], j.W = x->shape[nd - 1], j.OH = y->shape[nd - 2], j.OW = y->shape[nd - 1];
    j.kh = c->p.i[0], j.kw = c->p.i[1], j.sh = c->p.i[2], j.sw = c->p.i[3], j.ph = c->p.i[4], j.pw = c->p.i[5];
    j.dh = j.is_max ? c->p.i[6] : 1, j.dw = j.is_max ? c->p.i[7] : 1;
    j.exclude_pad = !j.is_max && c->p.i[6];
    j.divisor = j.is_max ? 0 : c->p.i[7];
    j.f64 = x->dtype == ZF_F64;
    if (x->dtype != ZF_F32 && x->dtype != ZF_F64)
        return zf_set_error(ZF_ERR_DTYPE, "%s: f32/f64 only, got %s", zf_op_name(c->op), zf_dtype_name(x->dtype));
    for (int k = 0; k < c->n_in; k++)
        if (c->in[k]->dtype != x->dtype || !zf_is_contiguous(c->in[k]))
            return zf_set_error(ZF_ERR_INTERNAL, "%s kernel: operands must be contiguous", zf_op_name(c->op));
    if (!zf_is_contiguous(c->out) || j.kh < 1 || j.kw < 1 || j.sh < 1 || j.sw < 1 || j.dh < 1 || j.dw < 1)
        return zf_set_error(ZF_ERR_INTERNAL, "%s kernel: bad geometry", zf_op_name(c->op));
    int64_t planes = 1;
    for (int d = 0; d < nd - 2; d++) planes *= x->shape[d];
    int64_t work = j.OH * j.OW * j.kh * j.kw + j.H * j.W;
    int64_t grain = work > 0 ? (1 << 14) / work + 1 : planes;
    zf_parallel_for(e->pool, planes, grain, pool_planes, &j);
    return ZF_OK;
}

void zf_cpu_register_pool(zf_kernel_fn *k) {
    k[ZF_OP_MAX_POOL2D] = k_pool;
    k[ZF_OP_MAX_POOL2D_GRAD] = k_pool;
    k[ZF_OP_AVG_POOL2D] = k_pool;
    k[ZF_OP_AVG_POOL2D_GRAD] = k_pool;
}
