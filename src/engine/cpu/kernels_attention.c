/* CPU kernel of ATTENTION (contract in src/ops/llm_ops.c, semantics in
 * include/zerfoo/ops.h): softmax(cap(scale * q k^T) + mask) v with grouped
 * query heads, causal / sliding-window visibility and f32 or f16 K/V.
 *
 * Shapes: q, out [B, T, Hq, D]; k, v [B, S, Hkv, D] (any strides, unit
 * stride on D); G = Hq / Hkv query heads share kv head g = h / G.
 *
 * Work plan ("flash attention" on a CPU): a task takes one (b, g), a chunk
 * of Tc queries and their G heads (R = Tc * G rows), and one of P parts of
 * the keys. It walks its keys in tiles of KV_TILE: each K/V tile is
 * converted to f32 once (f16 caches) and used by all R rows, and every row
 * keeps an online softmax (running max m, sum l, accumulator acc[D]),
 * rescaled when the max grows. With P > 1 (decode: few (b, g) pairs, long
 * S) the parts' (m, l, acc) are merged afterwards:
 *   M = max m_p, out = sum_p acc_p e^(m_p - M) / sum_p l_p e^(m_p - M).
 * Tc and P depend only on the shapes, never on the thread count, so the
 * result is the same bits on any pool. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cpu/cpu.h"
#include "engine/cpu/vmath.h"

#define ZF_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define KV_TILE 64
#define MAX_ROWS 64 /* R = Tc * G per task */

/* ---- tile products ----
 * logits: z[r*zs + s] = q_r . k_s (r < R, s < n, length D);
 * pv:     acc[r*as + d] += sum_s p[r*ps + s] * v[s*vs + d].
 * Portable loops, and AVX-512 versions (chosen at run time) that keep 4 x 4
 * (row, key) dot products, or 4 rows x 64 dims of acc, in registers. */

static void logits_c(const float *q, int64_t qs, int64_t R, const void *kp, int64_t ks, int64_t n, int64_t D,
                     float *z, int64_t zs) {
    const float *k = kp;
    for (int64_t r = 0; r < R; r++)
        for (int64_t s = 0; s < n; s++) {
            float acc[8] = {0};
            int64_t d = 0;
            for (; d + 8 <= D; d += 8)
                for (int i = 0; i < 8; i++) acc[i] += q[r * qs + d + i] * k[s * ks + d + i];
            float t = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
            for (; d < D; d++) t += q[r * qs + d] * k[s * ks + d];
            z[r * zs + s] = t;
        }
}

static void pv_c(const float *p, int64_t ps, int64_t R, const void *vp, int64_t vs, int64_t n, int64_t D, float *acc,
                 int64_t as) {
    const float *v = vp;
    for (int64_t r = 0; r < R; r++)
        for (int64_t s = 0; s < n; s++) {
            const float w = p[r * ps + s];
            if (w == 0.0f) continue;
            for (int64_t d = 0; d < D; d++) acc[r * as + d] += w * v[s * vs + d];
        }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "core/cpu_x86.h"
#define TGT __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma,f16c")))

static inline TGT __mmask16 tail16(int64_t left) {
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
}

#define INL static inline TGT __attribute__((always_inline))

/* 16 (masked) elements of a K/V row from element idx: f32, or f16 widened
 * on the fly (h). */
INL __m512 ldkv(const void *p, int64_t idx, __mmask16 m, bool h) {
    if (h) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)p + idx));
    return _mm512_maskz_loadu_ps(m, (const float *)p + idx);
}

/* rr (1..4, a constant after inlining) rows x 4 keys (nn valid). */
INL void logits_block(int rr, const float *q, int64_t qs, const void *k, int64_t ks, int nn, int64_t D, float *z,
                      int64_t zs, bool h) {
    __m512 acc[4][4];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++)
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) acc[i][j] = _mm512_setzero_ps();
    for (int64_t d = 0; d < D; d += 16) {
        const __mmask16 m = tail16(D - d);
        __m512 kv[4];
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) kv[j] = ldkv(k, (j < nn ? j : 0) * ks + d, j < nn ? m : 0, h);
#pragma GCC unroll 4
        for (int i = 0; i < rr; i++) {
            const __m512 qv = _mm512_maskz_loadu_ps(m, q + i * qs + d);
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++) acc[i][j] = _mm512_fmadd_ps(qv, kv[j], acc[i][j]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < rr; i++)
        for (int j = 0; j < nn; j++) z[i * zs + j] = _mm512_reduce_add_ps(acc[i][j]);
}

/* k, v: f32 or (h) f16 rows ks / vs elements apart. */
INL void logits_any(const float *q, int64_t qs, int64_t R, const void *k, int64_t ks, int64_t n, int64_t D, float *z,
                    int64_t zs, bool h) {
    const size_t es = h ? 2 : 4;
    for (int64_t r0 = 0; r0 < R; r0 += 4) {
        const int rr = R - r0 < 4 ? (int)(R - r0) : 4;
        for (int64_t s0 = 0; s0 < n; s0 += 4) {
            const int nn = n - s0 < 4 ? (int)(n - s0) : 4;
            const float *qp = q + r0 * qs;
            const void *kp = (const char *)k + (size_t)(s0 * ks) * es;
            float *zp = z + r0 * zs + s0;
            switch (rr) {
            case 1: logits_block(1, qp, qs, kp, ks, nn, D, zp, zs, h); break;
            case 2: logits_block(2, qp, qs, kp, ks, nn, D, zp, zs, h); break;
            case 3: logits_block(3, qp, qs, kp, ks, nn, D, zp, zs, h); break;
            default: logits_block(4, qp, qs, kp, ks, nn, D, zp, zs, h); break;
            }
        }
    }
}
static TGT void logits_avx512(const float *q, int64_t qs, int64_t R, const void *k, int64_t ks, int64_t n, int64_t D,
                              float *z, int64_t zs) {
    logits_any(q, qs, R, k, ks, n, D, z, zs, false);
}
static TGT void logits_avx512_f16(const float *q, int64_t qs, int64_t R, const void *k, int64_t ks, int64_t n,
                                  int64_t D, float *z, int64_t zs) {
    logits_any(q, qs, R, k, ks, n, D, z, zs, true);
}

/* rr rows x dims [d0, d0 + 64) of acc += p v over n keys. */
INL void pv_block(int rr, const float *p, int64_t ps, const void *v, int64_t vs, int64_t n, int64_t D, int64_t d0,
                  float *acc, int64_t as, bool h) {
    __mmask16 m[4];
    __m512 a[4][4];
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) m[c] = d0 + 16 * c < D ? tail16(D - d0 - 16 * c) : 0;
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++)
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++)
            a[i][c] = i < rr ? _mm512_maskz_loadu_ps(m[c], acc + i * as + d0 + 16 * c) : _mm512_setzero_ps();
    for (int64_t s = 0; s < n; s++) {
        __m512 vv[4];
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) vv[c] = ldkv(v, s * vs + d0 + 16 * c, m[c], h);
#pragma GCC unroll 4
        for (int i = 0; i < rr; i++) {
            const __m512 w = _mm512_set1_ps(p[i * ps + s]);
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) a[i][c] = _mm512_fmadd_ps(w, vv[c], a[i][c]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < rr; i++)
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) _mm512_mask_storeu_ps(acc + i * as + d0 + 16 * c, m[c], a[i][c]);
}

INL void pv_any(const float *p, int64_t ps, int64_t R, const void *v, int64_t vs, int64_t n, int64_t D, float *acc,
                int64_t as, bool h) {
    for (int64_t r0 = 0; r0 < R; r0 += 4) {
        const int rr = R - r0 < 4 ? (int)(R - r0) : 4;
        const float *pp = p + r0 * ps;
        float *ap = acc + r0 * as;
        for (int64_t d0 = 0; d0 < D; d0 += 64) {
            switch (rr) {
            case 1: pv_block(1, pp, ps, v, vs, n, D, d0, ap, as, h); break;
            case 2: pv_block(2, pp, ps, v, vs, n, D, d0, ap, as, h); break;
            case 3: pv_block(3, pp, ps, v, vs, n, D, d0, ap, as, h); break;
            default: pv_block(4, pp, ps, v, vs, n, D, d0, ap, as, h); break;
            }
        }
    }
}
static TGT void pv_avx512(const float *p, int64_t ps, int64_t R, const void *v, int64_t vs, int64_t n, int64_t D,
                          float *acc, int64_t as) {
    pv_any(p, ps, R, v, vs, n, D, acc, as, false);
}
static TGT void pv_avx512_f16(const float *p, int64_t ps, int64_t R, const void *v, int64_t vs, int64_t n, int64_t D,
                              float *acc, int64_t as) {
    pv_any(p, ps, R, v, vs, n, D, acc, as, true);
}

static bool has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma") &&
           zf_cpu_has_f16c();
}
#else
static bool has_avx512(void) { return false; }
#define logits_avx512 logits_c
#define pv_avx512 pv_c
#define logits_avx512_f16 logits_c
#define pv_avx512_f16 pv_c
#endif

typedef void (*logits_fn)(const float *, int64_t, int64_t, const void *, int64_t, int64_t, int64_t, float *, int64_t);
typedef void (*pv_fn)(const float *, int64_t, int64_t, const void *, int64_t, int64_t, int64_t, float *, int64_t);

/* Names unique across the kernel files: clang 14 gives the resolvers of
 * static target_clones functions global symbols, which would clash at link
 * time with kernels_llm.c's scale_f32 and kernels_attention_ggml.c's exp_sum. */
ZF_CLONES static void attn_scale_f32(float *y, float a, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] *= a;
}

/* z[i] = exp(z[i] - m) for i < n (-inf -> 0); returns the sum. */
ZF_CLONES static float attn_exp_sum(float *z, int64_t n, float m) {
    float acc[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++) {
            z[i + k] = zf_vexpf(z[i + k] - m);
            acc[k] += z[i + k];
        }
    float s = 0.0f;
    for (int k = 0; k < 16; k++) s += acc[k];
    for (; i < n; i++) {
        z[i] = zf_vexpf(z[i] - m);
        s += z[i];
    }
    return s;
}

static bool g_avx512;
static pthread_once_t g_isa_once = PTHREAD_ONCE_INIT;
/* ZF_ATTENTION_PORTABLE=1 forces the portable loops (tests run both). */
static void isa_init(void) {
    const char *env = getenv("ZF_ATTENTION_PORTABLE");
    g_avx512 = has_avx512() && !(env && env[0] == '1');
}

bool zf_cpu_attention_avx512(void) {
    pthread_once(&g_isa_once, isa_init);
    return g_avx512;
}

typedef struct {
    const zf_op_call *c;
    zf_attn_dims d;
    int64_t Tc, nTc, P; /* queries per task, query chunks, key parts */
    float *parts; /* P > 1: per (row, part) m, l, acc[D] */
    int failed;
} attn_job;

/* Thread scratch: K tile, V tile, Q rows [R][D], logits [R][KV_TILE], m, l,
 * acc [R][D]. */
static size_t task_scratch(const attn_job *j) {
    size_t R = (size_t)(j->Tc * j->d.G);
    return sizeof(float) * (2 * KV_TILE * (size_t)j->d.D + R * (KV_TILE + 2 + 2 * (size_t)j->d.D) + 16);
}

static const char *kv_row(const zf_tensor *t, int o, int64_t b, int64_t s, int64_t g) {
    int64_t off = (o ? b * t->stride[0] : 0) + s * t->stride[o] + g * t->stride[o + 1];
    return zf_ptr(t) + off * (int64_t)zf_dtype_size(t->dtype);
}

/* Rows [s0, s1) of k or v for (b, g) as f32: in place for f32 (rows *ld
 * apart), converted into tile (rows D apart) for f16. */
static const float *kv_tile(const zf_tensor *t, int o, int64_t b, int64_t g, int64_t s0, int64_t s1, int64_t D,
                            float *tile, int64_t *ld) {
    if (t->dtype == ZF_F32) {
        *ld = t->stride[o];
        return (const float *)(const void *)kv_row(t, o, b, s0, g);
    }
    if (t->stride[o] == D) { /* consecutive rows: one conversion */
        zf_convert_to_f32(t->dtype, kv_row(t, o, b, s0, g), tile, (size_t)((s1 - s0) * D));
    } else {
        for (int64_t s = s0; s < s1; s++)
            zf_convert_to_f32(t->dtype, kv_row(t, o, b, s, g), tile + (s - s0) * D, (size_t)D);
    }
    *ld = D;
    return tile;
}

/* Keys visible to the query at position qpos (relative to key 0's, k_pos0;
 * k_rot is 0 here, see llm_ops.c): [*lo, *hi). */
static void visible(const attn_job *j, int64_t qpos, int64_t *lo, int64_t *hi) {
    *lo = 0;
    *hi = j->d.S;
    if (j->d.causal && qpos + 1 < *hi) *hi = qpos + 1 < 0 ? 0 : qpos + 1;
    if (j->d.window > 0 && qpos - j->d.window + 1 > *lo) *lo = qpos - j->d.window + 1;
}

static void attn_task(attn_job *j, int64_t task, float *sc) {
    const zf_op_call *c = j->c;
    const zf_tensor *k = c->in[1], *v = c->in[2], *mask = c->n_in > 3 ? c->in[3] : NULL;
    const int64_t D = j->d.D, G = j->d.G;
    const int64_t p = task % j->P, rest = task / j->P;
    const int64_t tc = rest % j->nTc, g = (rest / j->nTc) % j->d.Hkv, b = rest / (j->nTc * j->d.Hkv);
    const int64_t t0 = tc * j->Tc, t1 = t0 + j->Tc < j->d.T ? t0 + j->Tc : j->d.T, R = (t1 - t0) * G;
    float *kt = sc, *vt = kt + KV_TILE * D, *qr = vt + KV_TILE * D, *z = qr + R * D, *m = z + R * KV_TILE, *l = m + R,
          *acc = l + R;
    /* row r = (t - t0) * G + i is query t, head g * G + i */
    for (int64_t r = 0; r < R; r++) {
        const int64_t t = t0 + r / G, h = g * G + r % G;
        memcpy(qr + r * D, (const float *)zf_ptr(c->in[0]) + ((b * j->d.T + t) * j->d.Hq + h) * D,
               sizeof(float) * (size_t)D);
    }
    /* this part's keys, cut to what any row can see */
    int64_t ps0 = j->d.S * p / j->P, ps1 = j->d.S * (p + 1) / j->P, lo_all = j->d.S, hi_all = 0;
    for (int64_t t = t0; t < t1; t++) {
        int64_t lo, hi;
        visible(j, j->d.qpos0 - j->d.kpos0 + t, &lo, &hi);
        lo_all = lo < lo_all ? lo : lo_all;
        hi_all = hi > hi_all ? hi : hi_all;
    }
    if (ps0 < lo_all) ps0 = lo_all;
    if (ps1 > hi_all) ps1 = hi_all;
    for (int64_t r = 0; r < R; r++) m[r] = -INFINITY, l[r] = 0.0f;
    memset(acc, 0, sizeof(float) * (size_t)(R * D));
    /* AVX-512 reads f16 K/V in place (widened in registers); the portable
     * loops get f32 tiles */
    const bool raw = g_avx512, h = k->dtype == ZF_F16;
    const logits_fn logits = !raw ? logits_c : h ? logits_avx512_f16 : logits_avx512;
    const pv_fn pv = !raw ? pv_c : h ? pv_avx512_f16 : pv_avx512;
    /* tiles start at multiples of KV_TILE, so a row's sums do not depend on lo_all */
    for (int64_t s0 = ps0 / KV_TILE * KV_TILE; s0 < ps1; s0 += KV_TILE) {
        const int64_t a = s0 > ps0 ? s0 : ps0, e = s0 + KV_TILE < ps1 ? s0 + KV_TILE : ps1, n = e - a;
        int64_t ldk, ldv;
        const void *kr;
        if (raw) {
            kr = kv_row(k, j->d.o, b, a, g);
            ldk = k->stride[j->d.o];
        } else {
            kr = kv_tile(k, j->d.o, b, g, a, e, D, kt, &ldk);
        }
        logits(qr, D, R, kr, ldk, n, D, z, KV_TILE);
        bool any = false;
        for (int64_t r = 0; r < R; r++) {
            const int64_t t = t0 + r / G;
            const float *mrow =
                mask ? (const float *)zf_ptr(mask) + ((mask->ndim == 3 ? b * j->d.T : 0) + t) * j->d.S : NULL;
            int64_t lo, hi;
            visible(j, j->d.qpos0 - j->d.kpos0 + t, &lo, &hi);
            float *zr = z + r * KV_TILE, mt = -INFINITY;
            for (int64_t s = a; s < e; s++) {
                float zz = -INFINITY;
                if (s >= lo && s < hi) {
                    zz = zr[s - a] * j->d.scale;
                    if (j->d.softcap > 0.0f) zz = j->d.softcap * tanhf(zz / j->d.softcap);
                    if (mrow) zz += mrow[s];
                }
                zr[s - a] = zz;
                mt = zz > mt || zz != zz ? zz : mt; /* a NaN logit sticks and reaches the output */
            }
            if (mt == -INFINITY) { /* nothing visible in this tile: p = 0 */
                memset(zr, 0, sizeof(float) * (size_t)n);
                continue;
            }
            any = true;
            if (mt > m[r]) { /* rescale what was accumulated under the old max */
                const float f = zf_vexpf(m[r] - mt);
                l[r] *= f;
                attn_scale_f32(acc + r * D, f, D);
                m[r] = mt;
            }
            l[r] += attn_exp_sum(zr, n, m[r]);
        }
        if (!any) continue;
        const void *vr;
        if (raw) {
            vr = kv_row(v, j->d.o, b, a, g);
            ldv = v->stride[j->d.o];
        } else {
            vr = kv_tile(v, j->d.o, b, g, a, e, D, vt, &ldv);
        }
        pv(z, KV_TILE, R, vr, ldv, n, D, acc, D);
    }
    for (int64_t r = 0; r < R; r++) {
        const int64_t t = t0 + r / G, h = g * G + r % G, row = (b * j->d.T + t) * j->d.Hq + h;
        if (j->P > 1) {
            float *dst = j->parts + (row * j->P + p) * (D + 2);
            dst[0] = m[r];
            dst[1] = l[r];
            memcpy(dst + 2, acc + r * D, sizeof(float) * (size_t)D);
            continue;
        }
        float *out = (float *)zf_ptr(c->out) + row * D;
        if (l[r] > 0.0f || l[r] != l[r]) {
            const float inv = 1.0f / l[r];
            for (int64_t d = 0; d < D; d++) out[d] = acc[r * D + d] * inv;
        } else {
            memset(out, 0, sizeof(float) * (size_t)D); /* no visible key (or all masked) */
        }
    }
}

static void attn_range(void *arg, int64_t i0, int64_t i1) {
    attn_job *j = arg;
    float *sc = zf_cpu_scratch(ZF_SCRATCH_ATTN, task_scratch(j));
    if (!sc) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int64_t i = i0; i < i1; i++) attn_task(j, i, sc);
}

/* out[row] from the P parts of each row. */
static void merge_range(void *arg, int64_t r0, int64_t r1) {
    const attn_job *j = arg;
    const int64_t D = j->d.D;
    for (int64_t row = r0; row < r1; row++) {
        const float *pp = j->parts + row * j->P * (D + 2);
        float M = -INFINITY, L = 0.0f;
        for (int64_t p = 0; p < j->P; p++) M = pp[p * (D + 2)] > M ? pp[p * (D + 2)] : M;
        float *out = (float *)zf_ptr(j->c->out) + row * D;
        memset(out, 0, sizeof(float) * (size_t)D);
        if (M == -INFINITY) continue;
        for (int64_t p = 0; p < j->P; p++) {
            const float *q = pp + p * (D + 2);
            if (q[0] == -INFINITY) continue;
            const float f = zf_vexpf(q[0] - M);
            L += q[1] * f;
            for (int64_t d = 0; d < D; d++) out[d] += f * q[2 + d];
        }
        if (L > 0.0f || L != L) attn_scale_f32(out, 1.0f / L, D);
    }
}

zf_attn_dims zf_cpu_attention_dims(const zf_op_call *c) {
    const zf_tensor *q = c->in[0], *k = c->in[1];
    zf_attn_dims d = {.o = q->ndim - 3};
    d.B = d.o ? q->shape[0] : 1;
    d.T = q->shape[d.o];
    d.Hq = q->shape[d.o + 1];
    d.D = q->shape[d.o + 2];
    d.S = k->shape[d.o];
    d.Hkv = k->shape[d.o + 1];
    d.G = d.Hq / d.Hkv;
    d.scale = (float)c->p.f[0];
    d.softcap = (float)c->p.f[1];
    d.window = c->p.i[0];
    d.qpos0 = c->p.i[1];
    d.kpos0 = c->p.i[4];
    d.krot = c->p.i[5];
    d.causal = c->p.i[2] != 0;
    return d;
}

static zf_status k_attention(zf_engine *e, const zf_op_call *c) {
    if (c->p.i[3] != 0) return zf_cpu_attention_ggml(e, c); /* ggml numerics */
    zf_cpu_attention_avx512();
    attn_job j = {.c = c, .d = zf_cpu_attention_dims(c)};
    if (j.d.B * j.d.T * j.d.Hq == 0 || j.d.D == 0) return ZF_OK;
    /* shape-only work split (see the top): rows per task <= MAX_ROWS, and
     * at least ~8 tasks when the shapes allow it */
    const int64_t pairs = j.d.B * j.d.Hkv, want = 8;
    int64_t tc_max = MAX_ROWS / j.d.G > 0 ? MAX_ROWS / j.d.G : 1;
    int64_t tc_par = (j.d.T * pairs + want - 1) / want;
    j.Tc = tc_par < tc_max ? tc_par : tc_max;
    if (j.Tc < 1) j.Tc = 1;
    j.nTc = (j.d.T + j.Tc - 1) / j.Tc;
    j.P = 1;
    if (pairs * j.nTc < want && j.d.S >= 2 * 128) {
        j.P = (want + pairs * j.nTc - 1) / (pairs * j.nTc);
        if (j.P > j.d.S / 128) j.P = j.d.S / 128;
    }
    if (j.d.G > MAX_ROWS)
        return zf_set_error(ZF_ERR_UNSUPPORTED, "attention: more than %d query heads per kv head", MAX_ROWS);
    size_t rows = (size_t)(j.d.B * j.d.T * j.d.Hq);
    if (j.P > 1) {
        j.parts = zf_cpu_scratch(ZF_SCRATCH_TILE, sizeof(float) * rows * (size_t)j.P * (size_t)(j.d.D + 2));
        if (!j.parts) return zf_set_error(ZF_ERR_OOM, "attention: out of memory");
    }
    zf_parallel_for(e->pool, pairs * j.nTc * j.P, 1, attn_range, &j);
    if (j.failed) return zf_set_error(ZF_ERR_OOM, "attention: out of memory");
    if (j.P > 1) zf_parallel_for(e->pool, (int64_t)rows, 16, merge_range, &j);
    return ZF_OK;
}

void zf_cpu_register_attention(zf_kernel_fn *k) { k[ZF_OP_ATTENTION] = k_attention; }
