/* CPU kernels of RMS_NORM, ROPE and GLU (contracts in src/ops/llm_ops.c,
 * semantics in include/zerfoo/ops.h).
 *
 * f32 runs on the data in place; f16/bf16 rows are converted to f32 in
 * per-thread scratch and back; f64 runs in double (the gradient checks use
 * it). Work is split over rows (tokens). Hot loops are plain C compiled for
 * AVX-512, AVX2 and baseline (target_clones).
 *
 * ggml numerics (ROPE i[3], GLU i[1]) reproduce ggml's CPU kernels bit for
 * bit: this file is compiled with -ffp-contract=off, and every fused
 * multiply-add ggml's build makes is an explicit fmaf here. rms_norm always
 * rounds as ggml's does. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "engine/cpu/cpu.h"
#include "engine/cpu/vmath.h"

#define ZF_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
/* Clones for loops with fmaf (a call without FMA): AVX-512F, AVX2 + FMA. */
#define ZF_CLONES_FMA __attribute__((target_clones("avx512f", "arch=haswell", "default")))

/* ---- vector helpers ---- */

/* Sum of squares as ggml's rms_norm: each f32 square added in double, in
 * order (a dependency chain of ~4 cycles per element: a row of a few
 * thousand costs microseconds). */
static double sumsq_f32(const float *x, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)(x[i] * x[i]);
    return s;
}

/* y = x * s * (w + off), w NULL: y = x * s; off 0: (x * s) * w as ggml's
 * rms_norm followed by its mul. */
ZF_CLONES static void scale_f32(float *y, const float *x, float s, const float *w, float off, int64_t n) {
    if (w && off == 0.0f)
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * s * w[i];
    else if (w)
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * s * (w[i] + off);
    else
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * s;
}

/* sn[i], cs[i] = sin, cos of th[i] (cs may be th), to ~1e-16 absolute for
 * |th| < 2^20 * pi/2 (positions up to ~1.6e6 at frequency 1): the quadrant
 * k = round(th * 2/pi) is removed with pi/2 split in two doubles (a 33-bit
 * head, so k * head is exact, and the rest), then Taylor polynomials of
 * degree 17 / 16 on |r| <= pi/4 (truncation < 1e-19). Branch-free, so the
 * loop vectorizes; libm's sin and cos cost ~20 ns each here. */
ZF_CLONES static void sincos_vec(const double *th, double *sn, double *cs, int64_t n) {
    const double two_over_pi = 0.6366197723675814, pio2_hi = 1.5707963267341256, pio2_lo = 6.077100506506192e-11;
    const double shifter = 6755399441055744.0; /* 1.5 * 2^52: adding it rounds to an integer */
    for (int64_t i = 0; i < n; i++) {
        const double x = th[i];
        const double k = (x * two_over_pi + shifter) - shifter;
        const double r = (x - k * pio2_hi) - k * pio2_lo, r2 = r * r;
        const double sp =
            r + r * r2 *
                    (-1.0 / 6 +
                     r2 * (1.0 / 120 +
                           r2 * (-1.0 / 5040 +
                                 r2 * (1.0 / 362880 +
                                       r2 * (-1.0 / 39916800 +
                                             r2 * (1.0 / 6227020800 +
                                                   r2 * (-1.0 / 1307674368000 + r2 * (1.0 / 355687428096000))))))));
        const double cp =
            1.0 + r2 * (-0.5 +
                        r2 * (1.0 / 24 +
                              r2 * (-1.0 / 720 +
                                    r2 * (1.0 / 40320 +
                                          r2 * (-1.0 / 3628800 +
                                                r2 * (1.0 / 479001600 +
                                                      r2 * (-1.0 / 87178291200 + r2 * (1.0 / 20922789888000))))))));
        const int64_t q = (int64_t)k & 3; /* sin(r + q pi/2), cos(r + q pi/2) */
        const double s0 = q & 1 ? cp : sp, c0 = q & 1 ? sp : cp;
        sn[i] = q & 2 ? -s0 : s0;
        cs[i] = (q == 1 || q == 2) ? -c0 : c0;
    }
}

/* ---- rms_norm ---- */

/* Set by a task that could not get its scratch memory. */
static void set_failed(int *flag) { __atomic_store_n(flag, 1, __ATOMIC_RELAXED); }

typedef struct {
    const zf_op_call *c;
    int64_t D;
    int failed;
} row_job;

static void rms_rows(void *arg, int64_t r0, int64_t r1) {
    row_job *j = arg;
    const zf_op_call *c = j->c;
    const zf_tensor *x = c->in[0], *w = c->n_in > 1 ? c->in[1] : NULL;
    const int64_t D = j->D;
    const double eps = c->p.f[0], off = c->p.f[1];
    const zf_dtype t = x->dtype;
    if (t == ZF_F64) {
        const double *wp = w ? (const double *)zf_ptr(w) : NULL;
        for (int64_t r = r0; r < r1; r++) {
            const double *xr = (const double *)zf_ptr(x) + r * D;
            double *yr = (double *)zf_ptr(c->out) + r * D;
            double ss = 0;
            for (int64_t i = 0; i < D; i++) ss += xr[i] * xr[i];
            const double s = 1.0 / sqrt(ss / (double)D + eps);
            for (int64_t i = 0; i < D; i++) yr[i] = xr[i] * s * (wp ? wp[i] + off : 1.0);
        }
        return;
    }
    /* f32 in place; f16/bf16 through scratch: [x row | w as f32] */
    float *buf = NULL, *wf = NULL;
    if (t != ZF_F32 || (w && w->dtype != ZF_F32)) {
        buf = zf_cpu_scratch(ZF_SCRATCH_TILE, sizeof(float) * (size_t)(2 * D));
        if (!buf) {
            set_failed(&j->failed);
            return;
        }
        wf = buf + D;
        if (w) zf_convert_to_f32(w->dtype, zf_ptr(w), wf, (size_t)D);
    } else if (w) {
        wf = (float *)zf_ptr(w);
    }
    if (!w) wf = NULL;
    const size_t es = zf_dtype_size(t);
    for (int64_t r = r0; r < r1; r++) {
        const char *xr = zf_ptr(x) + (size_t)(r * D) * es;
        char *yr = zf_ptr(c->out) + (size_t)(r * D) * es;
        const float *xf = (const float *)xr;
        if (buf) {
            zf_convert_to_f32(t, xr, buf, (size_t)D);
            xf = buf;
        }
        /* as ggml_rms_norm: the mean rounded to f32, scale = 1 / sqrt(mean + eps) in f32 */
        const float mean = (float)(sumsq_f32(xf, D) / (double)D);
        const float s = 1.0f / sqrtf(mean + (float)eps);
        if (buf) {
            scale_f32(buf, buf, s, wf, (float)off, D);
            zf_convert_from_f32(t, buf, yr, (size_t)D);
        } else {
            scale_f32((float *)yr, xf, s, wf, (float)off, D);
        }
    }
}

static zf_status k_rms_norm(zf_engine *e, const zf_op_call *c) {
    const zf_tensor *x = c->in[0];
    row_job j = {c, x->shape[x->ndim - 1], 0};
    if (j.D == 0) return ZF_OK;
    int64_t rows = zf_numel(x) / j.D;
    zf_parallel_for(e->pool, rows, 1 + 16384 / j.D, rms_rows, &j);
    return j.failed ? zf_set_error(ZF_ERR_OOM, "rms_norm: out of memory") : ZF_OK;
}

/* ---- rope ---- */

typedef struct {
    const zf_op_call *c;
    int64_t T, H, D, n_rot;
    bool neox, inverse, pos_per_token, ggml;
    int failed;
} rope_job;

static int64_t pos_at(const zf_tensor *pos, int64_t i) {
    return pos->dtype == ZF_I64 ? ((const int64_t *)zf_ptr(pos))[i] : ((const int32_t *)zf_ptr(pos))[i];
}

/* Rotates the first n_rot dims of one head (y may be x) by the angles whose
 * cos and sin are co, si: pair i is (2i, 2i+1) in normal mode, (i, i +
 * n_rot/2) in neox mode. Dims n_rot.. are copied. */
ZF_CLONES static void rotate_f32(float *y, const float *x, const float *co, const float *si, int64_t n_rot, int64_t D,
                                 bool neox) {
    const int64_t half = n_rot / 2;
    if (neox) {
        for (int64_t i = 0; i < half; i++) {
            const float a = x[i], b = x[i + half];
            y[i] = a * co[i] - b * si[i];
            y[i + half] = a * si[i] + b * co[i];
        }
    } else {
        for (int64_t i = 0; i < half; i++) {
            const float a = x[2 * i], b = x[2 * i + 1];
            y[2 * i] = a * co[i] - b * si[i];
            y[2 * i + 1] = a * si[i] + b * co[i];
        }
    }
    if (y != x)
        for (int64_t i = n_rot; i < D; i++) y[i] = x[i];
}
/* As rotate_f32 with ggml's rounding (rotate_pairs in ggml-cpu/ops.cpp as
 * compiled for x86-64: the first product of each output fused). */
ZF_CLONES_FMA static void rotate_ggml(float *y, const float *x, const float *co, const float *si, int64_t n_rot,
                                      int64_t D, bool neox) {
    const int64_t half = n_rot / 2;
    for (int64_t i = 0; i < half; i++) {
        const int64_t i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
        const float a = x[i0], b = x[i1];
        y[i0] = fmaf(a, co[i], -(b * si[i]));
        y[i1] = fmaf(a, si[i], b * co[i]);
    }
    if (y != x)
        for (int64_t i = n_rot; i < D; i++) y[i] = x[i];
}

/* cos and sin of pair i's angle at position p as ggml_rope_cache_init
 * computes them in f32: theta_i = p * theta_scale^i by repeated f32
 * products, theta_scale = powf(base, -2 / n_rot), divided by the frequency
 * factor, times freq_scale, then libm's cosf and sinf (sin negated for the
 * inverse rotation). */
static void ggml_angles(float p, float base, float fscale, const float *ff, int64_t n_rot, bool inverse, float *co,
                        float *si) {
    const float theta_scale = powf(base, -2.0f / (float)n_rot);
    float theta = p;
    for (int64_t i = 0; i < n_rot / 2; i++) {
        const float th = fscale * (ff ? theta / ff[i] : theta);
        co[i] = cosf(th);
        si[i] = inverse ? -sinf(th) : sinf(th);
        theta *= theta_scale;
    }
}

static void rotate_f64(double *y, const double *x, const double *co, const double *si, int64_t n_rot, int64_t D,
                       bool neox) {
    const int64_t half = n_rot / 2;
    for (int64_t i = 0; i < half; i++) {
        const int64_t i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
        const double a = x[i0], b = x[i1];
        y[i0] = a * co[i] - b * si[i];
        y[i1] = a * si[i] + b * co[i];
    }
    for (int64_t i = n_rot; i < D; i++) y[i] = x[i];
}

static void rope_rows(void *arg, int64_t r0, int64_t r1) {
    rope_job *j = arg;
    const zf_op_call *c = j->c;
    const zf_tensor *x = c->in[0], *pos = c->in[1];
    const zf_dtype t = x->dtype;
    const int64_t half = j->n_rot / 2, HD = j->H * j->D;
    const double base = c->p.f[0], fscale = c->p.f[1];
    /* scratch: inv_freq, cos, sin (double, half each), cos and sin as f32,
     * one head as f32 */
    double *inv = zf_cpu_scratch(ZF_SCRATCH_TILE, sizeof(double) * (size_t)(3 * half) +
                                                      sizeof(float) * (size_t)(2 * half + j->D));
    if (!inv) {
        set_failed(&j->failed);
        return;
    }
    double *cs = inv + half, *sn = cs + half; /* cs first holds the angles */
    float *cf = (float *)(sn + half), *sf = cf + half, *hb = sf + half;
    const float *ff = c->n_in > 2 ? (const float *)zf_ptr(c->in[2]) : NULL;
    for (int64_t i = 0; i < half; i++) {
        inv[i] = pow(base, -2.0 * (double)i / (double)j->n_rot);
        if (ff) inv[i] /= (double)ff[i];
    }
    const size_t es = zf_dtype_size(t);
    if (j->ggml && t != ZF_F64) {
        for (int64_t r = r0; r < r1; r++) {
            ggml_angles((float)pos_at(pos, j->pos_per_token ? r : r % j->T), (float)base, (float)fscale, ff, j->n_rot,
                        j->inverse, cf, sf);
            for (int64_t h = 0; h < j->H; h++) {
                const size_t o = (size_t)(r * HD + h * j->D);
                if (t == ZF_F32) {
                    rotate_ggml((float *)zf_ptr(c->out) + o, (const float *)zf_ptr(x) + o, cf, sf, j->n_rot, j->D,
                                j->neox);
                } else {
                    zf_convert_to_f32(t, zf_ptr(x) + o * es, hb, (size_t)j->D);
                    rotate_ggml(hb, hb, cf, sf, j->n_rot, j->D, j->neox);
                    zf_convert_from_f32(t, hb, zf_ptr(c->out) + o * es, (size_t)j->D);
                }
            }
        }
        return;
    }
    for (int64_t r = r0; r < r1; r++) {
        const double p = (double)pos_at(pos, j->pos_per_token ? r : r % j->T) * fscale;
        const double pp = j->inverse ? -p : p;
        for (int64_t i = 0; i < half; i++) cs[i] = pp * inv[i];
        sincos_vec(cs, sn, cs, half);
        if (t != ZF_F64)
            for (int64_t i = 0; i < half; i++) cf[i] = (float)cs[i], sf[i] = (float)sn[i];
        for (int64_t h = 0; h < j->H; h++) {
            const size_t o = (size_t)(r * HD + h * j->D);
            if (t == ZF_F64) {
                rotate_f64((double *)zf_ptr(c->out) + o, (const double *)zf_ptr(x) + o, cs, sn, j->n_rot, j->D,
                           j->neox);
            } else if (t == ZF_F32) {
                rotate_f32((float *)zf_ptr(c->out) + o, (const float *)zf_ptr(x) + o, cf, sf, j->n_rot, j->D,
                           j->neox);
            } else {
                zf_convert_to_f32(t, zf_ptr(x) + o * es, hb, (size_t)j->D);
                rotate_f32(hb, hb, cf, sf, j->n_rot, j->D, j->neox);
                zf_convert_from_f32(t, hb, zf_ptr(c->out) + o * es, (size_t)j->D);
            }
        }
    }
}

static zf_status k_rope(zf_engine *e, const zf_op_call *c) {
    const zf_tensor *x = c->in[0], *pos = c->in[1];
    rope_job j = {.c = c, .neox = c->p.i[0] == 1, .n_rot = c->p.i[1], .inverse = c->p.i[2] != 0,
                  .ggml = c->p.i[3] != 0};
    j.T = x->shape[x->ndim - 3];
    j.H = x->shape[x->ndim - 2];
    j.D = x->shape[x->ndim - 1];
    j.pos_per_token = zf_numel(pos) != j.T;
    int64_t rows = j.H > 0 && j.D > 0 ? zf_numel(x) / (j.H * j.D) : 0;
    zf_parallel_for(e->pool, rows, 1 + 8192 / (j.H * j.D + 1), rope_rows, &j);
    return j.failed ? zf_set_error(ZF_ERR_OOM, "rope: out of memory") : ZF_OK;
}

/* ---- glu: out = act(gate) * up, per row of the last dim ---- */

/* ggml's GELU(tanh) table (GGML_GELU_FP16): f16 bits of x -> f16 bits of
 * gelu(x), gelu computed in f32 with libm's tanhf and the one fused
 * multiply-add of ggml's build (ggml_gelu_f32 in ggml-cpu/vec.h). */
static uint16_t g_gelu_f16[1 << 16];
static pthread_once_t g_gelu_once = PTHREAD_ONCE_INIT;

static void gelu_table_init(void) {
    const float a = 0.044715f, sqrt_2_over_pi = 0.79788456080286535587989211986876f;
    for (uint32_t i = 0; i < (1u << 16); i++) {
        const float x = zf_f16_to_f32((uint16_t)i);
        g_gelu_f16[i] = zf_f32_to_f16(0.5f * x * (1.0f + tanhf(sqrt_2_over_pi * x * fmaf(a * x, x, 1.0f))));
    }
}

/* ggml_vec_swiglu_f32: 16-wide groups from the row start with ggml's vector
 * exp, the rest (n % 16) with libm's expf. */
ZF_CLONES_FMA static void swiglu_ggml(float *y, const float *g, const float *u, int64_t n) {
    const int64_t n16 = n - n % 16;
    for (int64_t i = 0; i < n16; i++) y[i] = zf_vsiluf_ggml(g[i]) * u[i];
    for (int64_t i = n16; i < n; i++) y[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

/* ggml_vec_geglu_f32: 0 below -10, x above 10, else the table at x rounded
 * to f16; t: n u16 of scratch. */
ZF_CLONES static void geglu_ggml(float *y, const float *g, const float *u, int64_t n, uint16_t *t) {
    zf_convert_from_f32(ZF_F16, g, t, (size_t)n);
    for (int64_t i = 0; i < n; i++) t[i] = g_gelu_f16[t[i]];
    zf_convert_to_f32(ZF_F16, t, y, (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        const float x = g[i];
        y[i] = x <= -10.0f ? 0.0f : (x >= 10.0f ? x : y[i]) * u[i];
    }
}

ZF_CLONES static void swiglu_f32(float *y, const float *g, const float *u, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = g[i] * zf_vsigmoidf(g[i]) * u[i];
}

ZF_CLONES static void geglu_f32(float *y, const float *g, const float *u, int64_t n) {
    const float sqrt_2_over_pi = 0.79788456080286535587989211986876f;
    for (int64_t i = 0; i < n; i++) {
        const float x = g[i];
        y[i] = 0.5f * x * (1.0f + zf_vtanhf(sqrt_2_over_pi * (x + 0.044715f * x * x * x))) * u[i];
    }
}

typedef struct {
    const zf_op_call *c;
    int failed;
} glu_job;

static void glu_rows(void *arg, int64_t r0, int64_t r1) {
    glu_job *j = arg;
    const zf_op_call *c = j->c;
    const int64_t n = c->out->shape[c->out->ndim - 1];
    const bool gelu = c->p.i[0] == 1, ggml = c->p.i[1] != 0;
    const float *g = (const float *)zf_ptr(c->in[0]), *u = (const float *)zf_ptr(c->in[1]);
    float *y = (float *)zf_ptr(c->out);
    uint16_t *t = gelu && ggml ? zf_cpu_scratch(ZF_SCRATCH_TILE, sizeof(uint16_t) * (size_t)n) : NULL;
    if (gelu && ggml && !t) {
        set_failed(&j->failed);
        return;
    }
    for (int64_t r = r0; r < r1; r++) {
        const int64_t o = r * n;
        if (gelu && ggml)
            geglu_ggml(y + o, g + o, u + o, n, t);
        else if (gelu)
            geglu_f32(y + o, g + o, u + o, n);
        else
            (ggml ? swiglu_ggml : swiglu_f32)(y + o, g + o, u + o, n);
    }
}

static zf_status k_glu(zf_engine *e, const zf_op_call *c) {
    const zf_tensor *y = c->out;
    const int64_t n = y->ndim ? y->shape[y->ndim - 1] : 1;
    if (n == 0 || zf_numel(y) == 0) return ZF_OK;
    if (c->p.i[0] == 1 && c->p.i[1] != 0) pthread_once(&g_gelu_once, gelu_table_init);
    glu_job j = {c, 0};
    zf_parallel_for(e->pool, zf_numel(y) / n, 1 + 8192 / n, glu_rows, &j);
    return j.failed ? zf_set_error(ZF_ERR_OOM, "glu: out of memory") : ZF_OK;
}

void zf_cpu_register_llm(zf_kernel_fn *k) {
    k[ZF_OP_RMS_NORM] = k_rms_norm;
    k[ZF_OP_ROPE] = k_rope;
    k[ZF_OP_GLU] = k_glu;
}
