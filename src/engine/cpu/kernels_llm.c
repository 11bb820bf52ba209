/* CPU kernels of RMS_NORM and ROPE (contracts in
 * src/ops/llm_ops.c, semantics in include/zerfoo/ops.h).
 *
 * f32 runs on the data in place; f16/bf16 rows are converted to f32 in
 * per-thread scratch and back; f64 runs in double (the gradient checks use
 * it). Work is split over rows (tokens). Hot loops are plain C with several independent
 * accumulators, compiled for AVX-512, AVX2 and baseline (target_clones). */
#include <math.h>
#include <string.h>

#include "engine/cpu/cpu.h"

#define ZF_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/* ---- vector helpers ---- */

ZF_CLONES static float sumsq_f32(const float *x, int64_t n) {
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += x[i + j] * x[i + j];
    float s = 0.0f;
    for (int j = 0; j < 16; j++) s += acc[j];
    for (; i < n; i++) s += x[i] * x[i];
    return s;
}

/* y = x * s * (w + off), w NULL: y = x * s */
ZF_CLONES static void scale_f32(float *y, const float *x, float s, const float *w, float off, int64_t n) {
    if (w)
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
        /* as ggml_rms_norm: scale = 1 / sqrt(mean + eps) in f32 */
        const float mean = sumsq_f32(xf, D) / (float)D;
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
    bool neox, inverse, pos_per_token;
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
    rope_job j = {.c = c, .neox = c->p.i[0] == 1, .n_rot = c->p.i[1], .inverse = c->p.i[2] != 0};
    j.T = x->shape[x->ndim - 3];
    j.H = x->shape[x->ndim - 2];
    j.D = x->shape[x->ndim - 1];
    j.pos_per_token = zf_numel(pos) != j.T;
    int64_t rows = j.H > 0 && j.D > 0 ? zf_numel(x) / (j.H * j.D) : 0;
    zf_parallel_for(e->pool, rows, 1 + 8192 / (j.H * j.D + 1), rope_rows, &j);
    return j.failed ? zf_set_error(ZF_ERR_OOM, "rope: out of memory") : ZF_OK;
}

void zf_cpu_register_llm(zf_kernel_fn *k) {
    k[ZF_OP_RMS_NORM] = k_rms_norm;
    k[ZF_OP_ROPE] = k_rope;
}
