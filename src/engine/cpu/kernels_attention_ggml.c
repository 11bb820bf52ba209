/* CPU kernel of ATTENTION with ggml numerics (i[3] = 1; semantics in
 * include/zerfoo/ops.h, contract in src/ops/llm_ops.c): the bits llama.cpp's
 * CPU backend computes without flash attention (build_attn_mha: kq =
 * mul_mat(k, q), soft_max_ext(kq, mask, scale), kqv = mul_mat(v, kq), k and
 * v in its f16 cache).
 *
 * Per query row (b, t, h), kv head g = h / G:
 *   qh   = f16(q)                      mul_mat converts src1 to k's type
 *   z_s  = k_s . qh                    (order A or B below, over d)
 *   w_s  = z_s * scale + mask_s        -inf where s is not visible
 *   e_s  = expg(w_s - max_s w)         zf_vexpf_ggml (ggml_v_expf)
 *   sum  = f64 sum, in order, of the 16-key groups' f32 sums (tree R)
 *   p_s  = f16(e_s * (float)(1 / sum))
 *   out  = sum_s p_s v_s               (order A or B, over s)
 * Orders of a dot product over i (every product is of two f16 values, so it
 * is exact in f32 and fmaf = multiply then add):
 *   A, tinyBLAS (llamafile/sgemm.cpp, when T >= 2 and the length is a
 *     multiple of 16): term i goes to lane i % 16, one f32 sum per lane in
 *     order; the result is R of the 16 lanes;
 *   B, ggml_vec_dot_f16 (AVX-512, T = 1): term i < n - n % 64 goes to lane
 *     i % 64 (4 vectors of 16); lanes l, l+16, l+32, l+48 are added as
 *     (l + (l+32)) + ((l+16) + (l+48)), then R, converted to f64; the last
 *     n % 64 terms are added in f64, in order; the result rounded to f32;
 *   R (GCC's _mm512_reduce_add_ps): h_i = a_i + a_{i+8}, q_i = h_i + h_{i+4},
 *     (q_0 + q_2) + (q_1 + q_3).
 * Over s, llama.cpp's cache has n_kv cells, S rounded up to 256, cell =
 * position (llama-cpp-python's window layers keep a full-size cache too), the
 * cells past S masked: their terms are zeros, which change no sum, so the
 * sums here stop at S and B has no f64 tail over s; masked cells before the
 * visible ones (outside a window) likewise add only zeros. So the sums run
 * over the visible keys in position order, the key at position P in lane
 * P % 16 (P % 64) and softmax group P / 16, as cell P: a ring (k_rot > 0),
 * whose rows hold other positions, gives the bits of the full-size cache.
 * Below, keys are handled by position P = k_pos0 + s; row(P) is its row of
 * k and v.
 *
 * Work: one task per query row (tasks ordered so that each thread's range
 * mixes early and late, cheap and costly, causal rows). AVX-512 code reads
 * the f16 rows in place and keeps the 16 lanes of 16 output dims in
 * registers; the portable code (ZF_ATTENTION_PORTABLE=1, or no AVX-512)
 * converts rows and keeps the lanes in memory. Both give the same bits, on
 * any thread count. Compiled with -ffp-contract=off: every fused
 * multiply-add is written out. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpu/cpu.h"
#include "engine/cpu/vmath.h"

#define ZF_CLONES_FMA __attribute__((target_clones("avx512f", "arch=haswell", "default")))

/* ---- portable dot products (rows converted to f32) ---- */

static inline __attribute__((always_inline)) float tree16(const float *a) {
    float h[8], q[4];
    for (int i = 0; i < 8; i++) h[i] = a[i] + a[i + 8];
    for (int i = 0; i < 4; i++) q[i] = h[i] + h[i + 4];
    return (q[0] + q[2]) + (q[1] + q[3]);
}

/* B's combination of 64 lanes into 16, then R. */
static float tree64(const float *a) {
    float l16[16];
    for (int i = 0; i < 16; i++) l16[i] = (a[i] + a[i + 32]) + (a[i + 16] + a[i + 48]);
    return tree16(l16);
}

ZF_CLONES_FMA static float dot_a(const float *x, const float *y, int64_t n) {
    float acc[16] = {0};
    for (int64_t i = 0; i < n; i += 16)
        for (int l = 0; l < 16; l++) acc[l] = fmaf(x[i + l], y[i + l], acc[l]);
    return tree16(acc);
}

ZF_CLONES_FMA static float dot_b(const float *x, const float *y, int64_t n) {
    float acc[64] = {0};
    const int64_t n64 = n - n % 64;
    for (int64_t i = 0; i < n64; i += 64)
        for (int l = 0; l < 64; l++) acc[l] = fmaf(x[i + l], y[i + l], acc[l]);
    double s = (double)tree64(acc);
    for (int64_t i = n64; i < n; i++) s += (double)(x[i] * y[i]);
    return (float)s;
}

/* acc[d] += p * v[d]: one key's term in its lane's accumulators. */
ZF_CLONES_FMA static void pv_add(float *acc, float p, const float *v, int64_t D) {
    for (int64_t d = 0; d < D; d++) acc[d] = fmaf(p, v[d], acc[d]);
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TGT __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma,f16c")))

static inline TGT __m512 ld16h(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }
static inline TGT __mmask16 tail16(int64_t left) {
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
}
static inline TGT __m512 ld16h_m(const uint16_t *p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

/* B over d for one key. */
static inline TGT float dot_b_avx512(const uint16_t *k, const float *qh, int64_t D) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    const int64_t n64 = D - D % 64;
    for (int64_t d = 0; d < n64; d += 64) {
        a0 = _mm512_fmadd_ps(ld16h(k + d), _mm512_loadu_ps(qh + d), a0);
        a1 = _mm512_fmadd_ps(ld16h(k + d + 16), _mm512_loadu_ps(qh + d + 16), a1);
        a2 = _mm512_fmadd_ps(ld16h(k + d + 32), _mm512_loadu_ps(qh + d + 32), a2);
        a3 = _mm512_fmadd_ps(ld16h(k + d + 48), _mm512_loadu_ps(qh + d + 48), a3);
    }
    double s = (double)_mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a2), _mm512_add_ps(a1, a3)));
    for (int64_t d = n64; d < D; d++) s += (double)(zf_f16_to_f32(k[d]) * qh[d]);
    return (float)s;
}

/* z[s - g0] = k_s . qh for positions s in [lo, hi), k_s = k0 + (s + roff) *
 * ks (f16), in order A (a; D % 16 == 0: four keys at a time sharing q's
 * loads) or B. */
static TGT void logits_avx512(const uint16_t *k0, int64_t ks, int64_t roff, const float *qh, int64_t D, int64_t lo,
                              int64_t hi, int64_t g0, bool a, float *z) {
    k0 += roff * ks;
    int64_t s = lo;
    if (a) {
        for (; s < hi; s += 4) {
            const int nk = hi - s < 4 ? (int)(hi - s) : 4;
            __m512 c[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
            for (int64_t d = 0; d < D; d += 16) {
                const __m512 q = _mm512_loadu_ps(qh + d);
#pragma GCC unroll 4
                for (int i = 0; i < 4; i++)
                    if (i < nk) c[i] = _mm512_fmadd_ps(ld16h(k0 + (s + i) * ks + d), q, c[i]);
            }
            for (int i = 0; i < nk; i++) z[s + i - g0] = _mm512_reduce_add_ps(c[i]);
        }
        return;
    }
    for (; s < hi; s++) z[s - g0] = dot_b_avx512(k0 + s * ks, qh, D);
}

/* Rows of positions: row(P) = P + off, less S from P >= wrap on (a ring). */
typedef struct {
    int64_t off, wrap, S;
} rowmap;
static inline int64_t row_of(const rowmap *r, int64_t P) { return P + r->off - (P >= r->wrap ? r->S : 0); }

/* a[l] += p_s v_s[d0..d0+16) for the 16 keys at positions s = s0 + l in [lo,
 * hi) (v_s = v0 + row(s) * vs, f16; m masks the dims past D). */
static inline TGT __attribute__((always_inline)) void pv_group(__m512 *a, const float *p, int64_t s0, int64_t lo,
                                                               int64_t hi, const uint16_t *v0, int64_t vs,
                                                               const rowmap *rm, int64_t d0, __mmask16 m) {
    if (s0 >= lo && s0 + 16 <= hi && (s0 >= rm->wrap || s0 + 16 <= rm->wrap)) {
        const uint16_t *vg = v0 + row_of(rm, s0) * vs + d0;
#pragma GCC unroll 16
        for (int l = 0; l < 16; l++) a[l] = _mm512_fmadd_ps(_mm512_set1_ps(p[l]), ld16h_m(vg + l * vs, m), a[l]);
    } else {
#pragma GCC unroll 16
        for (int l = 0; l < 16; l++)
            if (s0 + l >= lo && s0 + l < hi)
                a[l] = _mm512_fmadd_ps(_mm512_set1_ps(p[l]), ld16h_m(v0 + row_of(rm, s0 + l) * vs + d0, m), a[l]);
    }
}

/* out[d] = sum over positions s in [lo, hi) of p[s - g0] v_s[d], in order A (16 lanes)
 * or B (64 lanes: four passes of 16, combined as (0 + 2) + (1 + 3)); the
 * lanes of a block of 16 dims stay in registers. */
static TGT void pv_avx512(const float *p, int64_t g0, int64_t lo, int64_t hi, const uint16_t *v0, int64_t vs,
                          const rowmap *rm, int64_t D, bool a_order, float *out) {
    for (int64_t d0 = 0; d0 < D; d0 += 16) {
        const __mmask16 m = tail16(D - d0);
        __m512 a[16];
        if (a_order) {
#pragma GCC unroll 16
            for (int l = 0; l < 16; l++) a[l] = _mm512_setzero_ps();
            for (int64_t s0 = g0; s0 < hi; s0 += 16) pv_group(a, p + (s0 - g0), s0, lo, hi, v0, vs, rm, d0, m);
        } else {
            __m512 t[2][16];
            static const int pass[4] = {0, 2, 1, 3};
            for (int k = 0; k < 4; k++) {
                const int j = pass[k];
#pragma GCC unroll 16
                for (int l = 0; l < 16; l++) a[l] = _mm512_setzero_ps();
                for (int64_t s0 = g0 / 64 * 64 + 16 * j; s0 < hi; s0 += 64)
                    if (s0 + 16 > lo) pv_group(a, p + (s0 - g0), s0, lo, hi, v0, vs, rm, d0, m);
#pragma GCC unroll 16
                for (int l = 0; l < 16; l++) t[j & 1][l] = j < 2 ? a[l] : _mm512_add_ps(t[j & 1][l], a[l]);
            }
#pragma GCC unroll 16
            for (int l = 0; l < 16; l++) a[l] = _mm512_add_ps(t[0][l], t[1][l]);
        }
        /* R on each of the 16 dims */
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) a[i] = _mm512_add_ps(a[i], a[i + 8]);
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) a[i] = _mm512_add_ps(a[i], a[i + 4]);
        _mm512_mask_storeu_ps(out + d0, m, _mm512_add_ps(_mm512_add_ps(a[0], a[2]), _mm512_add_ps(a[1], a[3])));
    }
}
#endif

typedef struct {
    const zf_op_call *c;
    zf_attn_dims d;
    bool kq_a, pv_a, avx512;
    int failed;
} gjob;

static const uint16_t *kv_at(const zf_tensor *t, int o, int64_t b, int64_t s, int64_t g) {
    int64_t off = (o ? b * t->stride[0] : 0) + s * t->stride[o] + g * t->stride[o + 1];
    return (const uint16_t *)(const void *)(zf_ptr(t) + off * 2);
}

/* Per-thread scratch: qh [D], z [S], row [D] (portable conversions), acc [64 * D]. */
/* Per-thread scratch (floats): qh [D], z [S + 32] (key s at s - g0), row [D] (portable
 * conversions), acc [64 * D], f16 staging [max(D, S + 32)] (as u16). */
static size_t row_scratch(const gjob *j) {
    const size_t D = (size_t)j->d.D, S = (size_t)j->d.S + 32;
    return sizeof(float) * (D + S + D + 64 * D) + sizeof(uint16_t) * (D > S ? D : S) + 64;
}

/* x = f16(x), in place (mul_mat's conversion of its src1). */
static void round_f16(float *x, uint16_t *tmp, int64_t n) {
    zf_convert_from_f32(ZF_F16, x, tmp, (size_t)n);
    zf_convert_to_f32(ZF_F16, tmp, x, (size_t)n);
}

/* z[s] = expg(z[s] - mx) over whole 16-key groups; returns the f64 sum of
 * the groups' R sums (soft_max's ggml_vec_soft_max_f32). */
ZF_CLONES_FMA static double exp_sum(float *z, int64_t n, float mx) {
    for (int64_t s = 0; s < n; s++) z[s] = zf_vexpf_ggml(z[s] - mx);
    double sum = 0.0;
    for (int64_t s = 0; s < n; s += 16) sum += (double)tree16(z + s);
    return sum;
}

ZF_CLONES_FMA static void scale_by(float *z, int64_t n, float a) {
    for (int64_t s = 0; s < n; s++) z[s] = z[s] * a;
}

/* out[d] = the lanes' sums (B's combination for 64 lanes, then R), computed
 * on whole rows of acc [lanes][D] (destroyed). */
ZF_CLONES_FMA static void reduce_lanes(float *acc, int lanes, int64_t D, float *out) {
    if (lanes == 64)
        for (int l = 0; l < 16; l++) {
            float *a0 = acc + l * D, *a1 = acc + (l + 16) * D, *a2 = acc + (l + 32) * D, *a3 = acc + (l + 48) * D;
            for (int64_t d = 0; d < D; d++) a0[d] = (a0[d] + a2[d]) + (a1[d] + a3[d]);
        }
    for (int w = 8; w >= 4; w /= 2)
        for (int l = 0; l < w; l++) {
            float *a = acc + l * D, *b = acc + (l + w) * D;
            for (int64_t d = 0; d < D; d++) a[d] = a[d] + b[d];
        }
    const float *q0 = acc, *q1 = acc + D, *q2 = acc + 2 * D, *q3 = acc + 3 * D;
    for (int64_t d = 0; d < D; d++) out[d] = (q0[d] + q2[d]) + (q1[d] + q3[d]);
}

static void attn_row(const gjob *j, int64_t row, float *sc) {
    const zf_op_call *c = j->c;
    const zf_tensor *k = c->in[1], *v = c->in[2], *mask = c->n_in > 3 ? c->in[3] : NULL;
    const int64_t D = j->d.D, S = j->d.S, h = row % j->d.Hq, t = (row / j->d.Hq) % j->d.T,
                  b = row / (j->d.Hq * j->d.T), g = h / j->d.G, kp0 = j->d.kpos0;
    float *qh = sc, *z = qh + D, *kr = z + S + 32, *acc = kr + D;
    uint16_t *h16 = (uint16_t *)(acc + 64 * D);
    float *out = (float *)zf_ptr(c->out) + row * D;
    memcpy(qh, (const float *)zf_ptr(c->in[0]) + row * D, sizeof(float) * (size_t)D);
    round_f16(qh, h16, D);
    /* positions of the visible keys [lo, hi), and the 16-key groups [g0, g1) that hold them */
    const int64_t qpos = j->d.qpos0 + t;
    int64_t lo = kp0, hi = kp0 + S;
    if (j->d.causal && qpos + 1 < hi) hi = qpos + 1;
    if (j->d.window > 0 && qpos - j->d.window + 1 > lo) lo = qpos - j->d.window + 1;
    if (lo >= hi) { /* no visible key: zeros, as the op's contract says */
        memset(out, 0, sizeof(float) * (size_t)D);
        return;
    }
    const int64_t g0 = lo / 16 * 16, g1 = (hi + 15) / 16 * 16;
    const rowmap rm = {.off = j->d.krot - kp0, .wrap = kp0 + S - j->d.krot, .S = S};
    const float *mrow = mask ? (const float *)zf_ptr(mask) + ((mask->ndim == 3 ? b * j->d.T : 0) + t) * S : NULL;
    /* logits, scaled and masked (-inf outside [lo, hi)), and their max */
    /* z[s - g0] holds the key at position s; rows of k and v are ks, vs elements apart */
    const uint16_t *k0 = kv_at(k, j->d.o, b, 0, g), *v0 = kv_at(v, j->d.o, b, 0, g);
    const int64_t ks = k->stride[j->d.o], vs = v->stride[j->d.o];
#if defined(__x86_64__) || defined(__i386__)
    if (j->avx512) { /* the keys before the ring's wrap, then those after */
        const int64_t w = hi < rm.wrap ? hi : rm.wrap;
        if (lo < w) logits_avx512(k0, ks, rm.off, qh, D, lo, w, g0, j->kq_a, z);
        if (w < hi) logits_avx512(k0, ks, rm.off - S, qh, D, w > lo ? w : lo, hi, g0, j->kq_a, z);
    }
#endif
    float mx = -INFINITY;
    for (int64_t s = g0; s < g1; s++) {
        float zz = -INFINITY;
        if (s >= lo && s < hi) {
            if (!j->avx512) {
                zf_convert_to_f32(ZF_F16, k0 + row_of(&rm, s) * ks, kr, (size_t)D);
                z[s - g0] = j->kq_a ? dot_a(kr, qh, D) : dot_b(kr, qh, D);
            }
            zz = z[s - g0] * j->d.scale;
            if (mrow) zz = zz + mrow[s - kp0];
        }
        z[s - g0] = zz;
        /* a NaN logit sticks (a later masked -inf must not replace it and
         * make the row look fully masked): the output is NaN, as llama.cpp's */
        mx = mx != mx ? mx : mx > zz ? mx : zz;
    }
    if (mx == -INFINITY) { /* every visible key masked */
        memset(out, 0, sizeof(float) * (size_t)D);
        return;
    }
    /* probabilities, rounded to f16 (zeros outside [lo, hi)) */
    const double sum = exp_sum(z, g1 - g0, mx);
    scale_by(z, g1 - g0, (float)(1.0 / sum));
    round_f16(z, h16, g1 - g0);
    /* out = sum_s p_s v_s in order A (16 lanes) or B (64) */
#if defined(__x86_64__) || defined(__i386__)
    if (j->avx512) {
        pv_avx512(z, g0, lo, hi, v0, vs, &rm, D, j->pv_a, out);
        return;
    }
#endif
    const int lanes = j->pv_a ? 16 : 64;
    memset(acc, 0, sizeof(float) * (size_t)(lanes * D));
    for (int64_t s = lo; s < hi; s++) {
        zf_convert_to_f32(ZF_F16, v0 + row_of(&rm, s) * vs, kr, (size_t)D);
        pv_add(acc + (s % lanes) * D, z[s - g0], kr, D);
    }
    reduce_lanes(acc, lanes, D, out);
}

static void rows_range(void *arg, int64_t r0, int64_t r1) {
    gjob *j = arg;
    float *sc = zf_cpu_scratch(ZF_SCRATCH_ATTN, row_scratch(j));
    if (!sc) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    /* task v is query row (b, t, h) with t taken from both ends in turn
     * (0, T-1, 1, T-2, ...): a causal row's cost grows with t, and the pool
     * gives each thread one contiguous range of tasks */
    const int64_t T = j->d.T, Hq = j->d.Hq;
    for (int64_t v = r0; v < r1; v++) {
        const int64_t h = v % Hq, tv = (v / Hq) % T, b = v / (Hq * T);
        const int64_t t = tv % 2 == 0 ? tv / 2 : T - 1 - tv / 2;
        attn_row(j, (b * T + t) * Hq + h, sc);
    }
}

zf_status zf_cpu_attention_ggml(zf_engine *e, const zf_op_call *c) {
    gjob j = {.c = c, .d = zf_cpu_attention_dims(c), .avx512 = zf_cpu_attention_avx512()};
    /* tinyBLAS takes a GEMM with n >= 2 columns, k % 16 == 0 and m % 4 == 0
     * (kq: m = n_kv cells, a multiple of 256; kqv: m = D) */
    j.kq_a = j.d.T >= 2 && j.d.D % 16 == 0;
    j.pv_a = j.d.T >= 2 && j.d.D % 4 == 0;
    const int64_t rows = j.d.B * j.d.T * j.d.Hq;
    if (rows == 0 || j.d.D == 0) return ZF_OK;
    zf_parallel_for(e->pool, rows, 1 + 16384 / (j.d.S * j.d.D + 1), rows_range, &j);
    return j.failed ? zf_set_error(ZF_ERR_OOM, "attention: out of memory") : ZF_OK;
}
