/* Vectorizable float math for the CPU kernels. These are plain inline
 * functions without branches on data, so loops that call them auto-vectorize
 * (AVX-512/AVX2 clones are made with target_clones in the kernel files).
 *
 * zf_vexpf: exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n*ln2 split
 * in two parts (Cody-Waite), exp(r) by a degree-7 Taylor
 * polynomial on |r| <= ln2/2: max relative error about 2 ulp. Overflow gives
 * inf, underflow 0 (subnormal results are flushed), NaN propagates. */
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
    const float hi = 88.7228391f, lo = -87.3365448f; /* exp(lo) = FLT_MIN */
    float xc = x > hi ? hi : (x < lo ? lo : x);
    float n = __builtin_roundevenf(xc * 1.44269504088896341f);
    float r = xc - n * 0.693145751953125f; /* ln2 hi part (exact product) */
    r = r - n * 1.42860682030941723212e-6f;  /* ln2 lo part */
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    /* 2^n in two halves so n = 128 does not overflow the exponent field */
    int32_t ni = (int32_t)n;
    int32_t n1 = ni / 2, n2 = ni - n1;
    float s1 = zf_bits_to_f32((uint32_t)(n1 + 127) << 23);
    float s2 = zf_bits_to_f32((uint32_t)(n2 + 127) << 23);
    float res = p * s1 * s2;
    res = x > hi ? INFINITY : res;
    res = x < lo ? 0.0f : res;
    return x != x ? x : res;
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
