/* Vectorizable float math for the CPU kernels. These are plain inline
 * functions without branches on data, so loops that call them auto-vectorize
 * (AVX-512/AVX2 clones are made with target_clones in the kernel files).
 *
 * zf_vexpf: exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n*ln2 split
 * in two parts (Cody-Waite), exp(r) by a degree-7 Taylor
 * polynomial on |r| <= ln2/2: max relative error about 2 ulp. Overflow gives
 * inf, results below ~2.5e-38 (x < -86.64) are flushed to 0, NaN propagates.
 *
 * zf_vexpf_ggml: exp(x) as ggml's AVX-512 ggml_v_expf (ggml-cpu/vec.h, from
 * ARM's optimized-routines expf) computes it, bit for bit on any target: the
 * same constants and fused multiply-adds (fmaf is exact everywhere; it is
 * fast in clones with FMA, which AVX-512F implies), and the final
 * scalef(j, n) = j * 2^n rounded once. Inference kernels that must match
 * llama.cpp use it (numerics ZF_NUMERICS_GGML). */
#ifndef ZF_ENGINE_CPU_VMATH_H
#define ZF_ENGINE_CPU_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float zf_bits_to_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline float zf_vexpf(float x) {
    const float hi = 88.7228391f, lo = -86.64f; /* exp(lo) ~ 2.5e-38: below it the result is 0 */
    float xc = x > hi ? hi : x;
    xc = xc < lo ? lo : xc;
    xc = x == x ? xc : 0.0f; /* NaN (returned below) must not reach the int conversion */
    /* n = round-to-nearest-even(xc / ln2) by the 1.5*2^23 trick (vectorizes, unlike roundevenf) */
    const float shifter = 12582912.0f;
    float n = (xc * 1.44269504088896341f + shifter) - shifter;
    float r = xc - n * 0.693145751953125f; /* ln2 hi part (exact product) */
    r = r - n * 1.42860682030941723212e-6f; /* ln2 lo part */
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    /* 2^n as 2^(n-1) * 2, so n = 128 (x near hi) stays in the exponent range;
     * n >= -125 here, so the biased exponent n + 126 is >= 1. */
    int32_t ni = (int32_t)n;
    float s = zf_bits_to_f32((uint32_t)(ni + 126) << 23);
    float res = p * s * 2.0f;
    res = x > hi ? INFINITY : res;
    res = x < lo ? 0.0f : res;
    return x == x ? res : x;
}

/* 2^n for -126 <= n <= 127. */
static inline float zf_pow2i(int32_t n) { return zf_bits_to_f32((uint32_t)(n + 127) << 23); }

static inline float zf_vexpf_ggml(float x) {
    const float shifter = 0x1.8p23f; /* adding it rounds to an integer */
    const float n = fmaf(x, 0x1.715476p+0f, shifter) - shifter;
    const float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x)); /* x - n ln2, in two parts */
    const float u = b * b;
    const float j = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
                         fmaf(0x1.ffffecp-1f, b, 1.0f));
    /* j * 2^n with one rounding: 2^n = 2^n1 * 2^n2, both normal, and j * 2^n1
     * exact (j is in [0.7, 1.5)) */
    /* (two-way selects only, so that loops over it vectorize) */
    float nc = n > 192.0f ? 192.0f : n;
    nc = nc < -192.0f ? -192.0f : nc;
    nc = n == n ? nc : 0.0f;
    const int32_t ni = (int32_t)nc;
    int32_t n1 = ni > 127 ? 127 : ni;
    n1 = ni < -126 ? ni + 70 : n1;
    float res = j * zf_pow2i(n1) * zf_pow2i(ni - n1);
    const float out = n <= 0.0f ? 0.0f : INFINITY; /* |n| > 192 */
    res = fabsf(n) > 192.0f ? out : res;
    return x == x ? res : x;
}

/* ggml's SiLU, x / (1 + exp(-x)) with zf_vexpf_ggml (ggml_v_silu). */
static inline float zf_vsiluf_ggml(float x) { return x / (1.0f + zf_vexpf_ggml(0.0f - x)); }

static inline float zf_vsigmoidf(float x) { return 1.0f / (1.0f + zf_vexpf(-x)); }

/* tanh: odd Taylor polynomial near 0 (|x| < 0.25, error < 1e-9 relative),
 * 1 - 2/(exp(2|x|)+1) elsewhere, sign restored. */
static inline float zf_vtanhf(float x) {
    float ax = fabsf(x);
    float x2 = x * x;
    float small = x * (1.0f + x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * (-17.0f / 315 + x2 * (62.0f / 2835)))));
    float e = zf_vexpf(2.0f * (ax < 20.0f ? ax : 20.0f));
    float big = 1.0f - 2.0f / (e + 1.0f);
    big = copysignf(big, x);
    float r = ax < 0.25f ? small : big;
    return x != x ? x : r;
}

#endif
