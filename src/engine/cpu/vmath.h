/* Vectorizable float math for the CPU kernels. These are plain inline
 * functions without branches on data, so loops that call them auto-vectorize
 * (AVX-512/AVX2 clones are made with target_clones in the kernel files).
 *
 * zf_vexpf: exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n*ln2 split
 * in two parts (Cody-Waite), exp(r) by a degree-7 Taylor
 * polynomial on |r| <= ln2/2: max relative error about 2 ulp. Overflow gives
 * inf, results below ~2.5e-38 (x < -86.64) are flushed to 0, NaN propagates. */
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
