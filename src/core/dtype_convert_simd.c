/* Vector kernels for the bulk f16 <-> f32 and bf16 <-> f32 conversions; see
 * dtype_convert_simd.h. Each kernel is compiled for its instruction set with
 * __attribute__((target)) and chosen at run time, so the library itself
 * needs no -m flags and runs on any x86-64 (or other) CPU.
 *
 * Why the results equal the scalar functions bit for bit:
 *  - f16: vcvtph2ps / vcvtps2ph (F16C, and their AVX-512F forms) convert
 *    exactly / round to nearest even with the rounding given in the
 *    immediate (not MXCSR), handle f16 subnormals and ignore MXCSR.FTZ;
 *    NaNs come out quiet with the payload kept (Intel SDM, VCVTPH2PS and
 *    VCVTPS2PH), which is what zf_f16_to_f32 / zf_f32_to_f16 do. With
 *    MXCSR.DAZ set an f32 subnormal input reads as zero, but every f32
 *    subnormal rounds to a signed zero in f16 anyway.
 *  - bf16: done with integer lanes, the same arithmetic as zf_f32_to_bf16.
 *    The AVX512_BF16 instruction vcvtneps2bf16 is not used: it flushes
 *    subnormal inputs and outputs to zero, which ml_dtypes does not. */
#include "core/dtype_convert_simd.h"

#include <stdatomic.h>

#include "zerfoo/dtype.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define ZF_CVT_X86 1
#include "core/cpu_x86.h"
#include <immintrin.h>
#else
#define ZF_CVT_X86 0
#endif

static void f16_to_f32_scalar(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = zf_f16_to_f32(src[i]);
}

static void f32_to_f16_scalar(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = zf_f32_to_f16(src[i]);
}

static void bf16_to_f32_scalar(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = zf_bf16_to_f32(src[i]);
}

static void f32_to_bf16_scalar(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = zf_f32_to_bf16(src[i]);
}

#if ZF_CVT_X86

/* ---- AVX2 + F16C: 8 lanes --------------------------------------------- */

__attribute__((target("avx2,f16c"))) static void f16_to_f32_avx2(const uint16_t *src, float *dst,
                                                                 size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    f16_to_f32_scalar(src + i, dst + i, n - i);
}

__attribute__((target("avx2,f16c"))) static void f32_to_f16_avx2(const float *src, uint16_t *dst,
                                                                 size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    f32_to_f16_scalar(src + i, dst + i, n - i);
}

__attribute__((target("avx2"))) static void bf16_to_f32_avx2(const uint16_t *src, float *dst,
                                                           size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + i)));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_slli_epi32(w, 16));
    }
    bf16_to_f32_scalar(src + i, dst + i, n - i);
}

/* zf_f32_to_bf16 on 8 lanes; results in the low 16 bits of each 32-bit lane. */
__attribute__((target("avx2"))) static inline __m256i bf16_round_avx2(__m256i u) {
    const __m256i hi = _mm256_srli_epi32(u, 16);
    const __m256i lsb = _mm256_and_si256(hi, _mm256_set1_epi32(1));
    const __m256i r =
        _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb), 16);
    /* NaN: |u| > 0x7f800000; both sides are below 2^31, so a signed compare works */
    const __m256i a = _mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff));
    const __m256i nan = _mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x7f800000));
    const __m256i qnan =
        _mm256_or_si256(_mm256_and_si256(hi, _mm256_set1_epi32(0x8000)), _mm256_set1_epi32(0x7fc0));
    return _mm256_blendv_epi8(r, qnan, nan);
}

__attribute__((target("avx2"))) static void f32_to_bf16_avx2(const float *src, uint16_t *dst,
                                                           size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i a = bf16_round_avx2(_mm256_loadu_si256((const __m256i *)(src + i)));
        __m256i b = bf16_round_avx2(_mm256_loadu_si256((const __m256i *)(src + i + 8)));
        /* lanes are 0..0xffff, so the unsigned-saturating pack is exact; it
         * interleaves 64-bit blocks as a0-3 b0-3 a4-7 b4-7, the permute
         * restores a0-7 b0-7 */
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xd8);
        _mm256_storeu_si256((__m256i *)(dst + i), p);
    }
    f32_to_bf16_scalar(src + i, dst + i, n - i);
}

/* ---- AVX-512F: 16 lanes ----------------------------------------------- */

__attribute__((target("avx512f,avx2,f16c"))) static void f16_to_f32_avx512(const uint16_t *src,
                                                                          float *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))));
    f16_to_f32_avx2(src + i, dst + i, n - i);
}

__attribute__((target("avx512f,avx2,f16c"))) static void f32_to_f16_avx512(const float *src,
                                                                          uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256(
            (__m256i *)(dst + i),
            _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    f32_to_f16_avx2(src + i, dst + i, n - i);
}

__attribute__((target("avx512f,avx2,f16c"))) static void bf16_to_f32_avx512(const uint16_t *src,
                                                                           float *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(src + i)));
        _mm512_storeu_si512(dst + i, _mm512_slli_epi32(w, 16));
    }
    bf16_to_f32_avx2(src + i, dst + i, n - i);
}

__attribute__((target("avx512f,avx2,f16c"))) static void f32_to_bf16_avx512(const float *src,
                                                                           uint16_t *dst, size_t n) {
    const __m512i one = _mm512_set1_epi32(1), bias = _mm512_set1_epi32(0x7fff);
    const __m512i absmask = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
    const __m512i signbit = _mm512_set1_epi32(0x8000), qnan = _mm512_set1_epi32(0x7fc0);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i u = _mm512_loadu_si512(src + i);
        __m512i hi = _mm512_srli_epi32(u, 16);
        __m512i r = _mm512_srli_epi32(
            _mm512_add_epi32(_mm512_add_epi32(u, bias), _mm512_and_si512(hi, one)), 16);
        __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, absmask), inf);
        r = _mm512_mask_blend_epi32(nan, r, _mm512_or_si512(_mm512_and_si512(hi, signbit), qnan));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm512_cvtepi32_epi16(r)); /* lanes < 2^16 */
    }
    f32_to_bf16_avx2(src + i, dst + i, n - i);
}

static int detect_isas(void) {
    __builtin_cpu_init();
    int mask = 1 << ZF_CVT_SCALAR;
    bool avx2 = __builtin_cpu_supports("avx2") && zf_cpu_has_f16c();
    if (avx2) mask |= 1 << ZF_CVT_AVX2;
    if (avx2 && __builtin_cpu_supports("avx512f")) mask |= 1 << ZF_CVT_AVX512;
    return mask;
}

#else /* not x86 */

static int detect_isas(void) { return 1 << ZF_CVT_SCALAR; }

#endif

/* Bit per available level, computed once: cpuid is slow (a VM exit under a
 * hypervisor). Racing first callers all store the same value. */
static _Atomic int g_isa_mask;

bool zf_cvt_isa_available(zf_cvt_isa isa) {
    int mask = atomic_load_explicit(&g_isa_mask, memory_order_relaxed);
    if (!mask) {
        mask = detect_isas();
        atomic_store_explicit(&g_isa_mask, mask, memory_order_relaxed);
    }
    return (unsigned)isa < ZF_CVT_ISA_COUNT && ((mask >> isa) & 1);
}

const char *zf_cvt_isa_name(zf_cvt_isa isa) {
    switch (isa) {
    case ZF_CVT_SCALAR: return "scalar";
    case ZF_CVT_AVX2: return "avx2+f16c";
    case ZF_CVT_AVX512: return "avx512f";
    default: return "invalid";
    }
}

zf_cvt_isa zf_cvt_isa_best(void) {
    if (zf_cvt_isa_available(ZF_CVT_AVX512)) return ZF_CVT_AVX512;
    if (zf_cvt_isa_available(ZF_CVT_AVX2)) return ZF_CVT_AVX2;
    return ZF_CVT_SCALAR;
}

void zf_cvt_f16_to_f32_isa(zf_cvt_isa isa, const uint16_t *src, float *dst, size_t n) {
#if ZF_CVT_X86
    if (isa == ZF_CVT_AVX512 && zf_cvt_isa_available(isa)) { f16_to_f32_avx512(src, dst, n); return; }
    if (isa == ZF_CVT_AVX2 && zf_cvt_isa_available(isa)) { f16_to_f32_avx2(src, dst, n); return; }
#endif
    (void)isa;
    f16_to_f32_scalar(src, dst, n);
}

void zf_cvt_f32_to_f16_isa(zf_cvt_isa isa, const float *src, uint16_t *dst, size_t n) {
#if ZF_CVT_X86
    if (isa == ZF_CVT_AVX512 && zf_cvt_isa_available(isa)) { f32_to_f16_avx512(src, dst, n); return; }
    if (isa == ZF_CVT_AVX2 && zf_cvt_isa_available(isa)) { f32_to_f16_avx2(src, dst, n); return; }
#endif
    (void)isa;
    f32_to_f16_scalar(src, dst, n);
}

void zf_cvt_bf16_to_f32_isa(zf_cvt_isa isa, const uint16_t *src, float *dst, size_t n) {
#if ZF_CVT_X86
    if (isa == ZF_CVT_AVX512 && zf_cvt_isa_available(isa)) { bf16_to_f32_avx512(src, dst, n); return; }
    if (isa == ZF_CVT_AVX2 && zf_cvt_isa_available(isa)) { bf16_to_f32_avx2(src, dst, n); return; }
#endif
    (void)isa;
    bf16_to_f32_scalar(src, dst, n);
}

void zf_cvt_f32_to_bf16_isa(zf_cvt_isa isa, const float *src, uint16_t *dst, size_t n) {
#if ZF_CVT_X86
    if (isa == ZF_CVT_AVX512 && zf_cvt_isa_available(isa)) { f32_to_bf16_avx512(src, dst, n); return; }
    if (isa == ZF_CVT_AVX2 && zf_cvt_isa_available(isa)) { f32_to_bf16_avx2(src, dst, n); return; }
#endif
    (void)isa;
    f32_to_bf16_scalar(src, dst, n);
}

void zf_cvt_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
    zf_cvt_f16_to_f32_isa(zf_cvt_isa_best(), src, dst, n);
}

void zf_cvt_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
    zf_cvt_f32_to_f16_isa(zf_cvt_isa_best(), src, dst, n);
}

void zf_cvt_bf16_to_f32(const uint16_t *src, float *dst, size_t n) {
    zf_cvt_bf16_to_f32_isa(zf_cvt_isa_best(), src, dst, n);
}

void zf_cvt_f32_to_bf16(const float *src, uint16_t *dst, size_t n) {
    zf_cvt_f32_to_bf16_isa(zf_cvt_isa_best(), src, dst, n);
}
