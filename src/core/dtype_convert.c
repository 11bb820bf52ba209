/* Numeric conversion between scalar dtypes; see include/zerfoo/dtype.h.
 *
 * Format facts (all formats: sign bit on top, then biased exponent, then
 * fraction; exponent field 0 = zero/subnormal):
 *   f16   IEEE 754-2008 binary16: 5-bit exponent, bias 15, 10 fraction bits,
 *         max 65504 (0x7bff), min normal 2^-14, min subnormal 2^-24.
 *   bf16  the upper half of IEEE binary32: 8-bit exponent, bias 127,
 *         7 fraction bits, max 0x7f7f ~ 3.39e38, min subnormal 2^-133.
 *   f8_e4m3  OCP 8-bit Floating Point Specification (OFP8) rev. 1.0, E4M3
 *         ("e4m3fn"): bias 7, 3 fraction bits, no infinities, S.1111.111 is
 *         the only NaN, max S.1111.110 = 448, min normal 2^-6, min subnormal 2^-9.
 *   f8_e5m2  OFP8 E5M2: bias 15, 2 fraction bits, IEEE-style S.11111.00 = inf
 *         and S.11111.{01,10,11} = NaN, max 57344, min subnormal 2^-16.
 *
 * Rounding is to nearest, ties to even, from the exact value of the source
 * (f64 and i64 sources round once, never through f32). Results that round
 * above the largest finite value overflow: to ±inf, or to NaN for e4m3.
 * Values that round to zero keep their sign.
 *
 * NaN encodings follow the references checked by
 * tests/parity/test_dtype_parity.py (ml_dtypes 0.6, numpy 2.x) where those
 * fix them, and the x86 F16C instructions where they do not, so that the
 * vector kernels in dtype_convert_simd.c match bit for bit:
 *   -> bf16   sign | 0x7fc0            (ml_dtypes: canonical quiet NaN, sign kept)
 *   -> e4m3   sign | 0x7f, e5m2 sign | 0x7e   (ml_dtypes)
 *   -> f16    sign | 0x7e00 | top 10 payload bits   (quiet; vcvtps2ph)
 *   f16 -> f32   sign | 0x7fc00000 | payload << 13  (quiet; vcvtph2ps)
 *   bf16 -> f32  the bits shifted up, payload untouched (ml_dtypes)
 *   f8 -> f32    sign | 0x7fc00000  (ml_dtypes)
 * numpy differs only for f16 signaling NaNs, which it leaves signaling. */
#include <string.h>

#include "core/dtype_convert_simd.h"
#include "zerfoo/dtype.h"

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint64_t f64_bits(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* ---- one rounding core for every narrow format ------------------------- */

/* A narrow binary format, described by its magnitude encodings (sign apart). */
typedef struct {
    int mant;         /* fraction bits */
    int emin;         /* unbiased exponent of the smallest normal = 1 - bias */
    int emax;         /* unbiased exponent of the largest finite value */
    uint32_t maxfin;  /* encoding of the largest finite magnitude */
    uint32_t ovf;     /* what overflow gives: inf, or NaN for a format without inf */
    uint32_t qnan;    /* the quiet NaN produced for a NaN input */
    int sign_shift;   /* bit index of the sign */
} narrow_fmt;

static const narrow_fmt k_f16 = {10, -14, 15, 0x7bff, 0x7c00, 0x7e00, 15};
static const narrow_fmt k_bf16 = {7, -126, 127, 0x7f7f, 0x7f80, 0x7fc0, 15};
static const narrow_fmt k_e4m3 = {3, -6, 8, 0x7e, 0x7f, 0x7f, 7};
static const narrow_fmt k_e5m2 = {2, -14, 15, 0x7b, 0x7c, 0x7e, 7};

/* Rounds the positive value sig * 2^(e - 63) to the format and returns its
 * magnitude encoding. Requires bit 63 of sig set (sig normalized), so e is
 * the exponent of the leading bit. Round to nearest, ties to even.
 *
 * With q the significand kept (hidden bit included for normal results), the
 * encoding is ((max(e, emin) - emin) << mant) + q: for a normal result
 * q = 2^mant + frac gives biased exponent e - emin + 1 = e + bias, and a
 * carry out of q (q = 2^(mant+1)) bumps the exponent by itself; for a
 * subnormal result q < 2^mant sits in the fraction field with exponent field
 * 0, and q = 2^mant is exactly the smallest normal. */
static inline uint32_t round_mag(const narrow_fmt *f, int e, uint64_t sig) {
    if (e > f->emax) return f->ovf;
    int shift = 63 - f->mant; /* bits of sig rounded away; >= 53 */
    uint32_t base = 0;
    if (e >= f->emin)
        base = (uint32_t)(e - f->emin) << f->mant;
    else
        shift += f->emin - e;
    if (shift > 64) return 0; /* below half the smallest subnormal */
    uint64_t q, rem, half;
    if (shift == 64) { /* in [half, 1) of the smallest subnormal */
        q = 0;
        rem = sig;
        half = UINT64_C(1) << 63;
    } else {
        q = sig >> shift;
        rem = sig & ((UINT64_C(1) << shift) - 1);
        half = UINT64_C(1) << (shift - 1);
    }
    q += (rem > half) || (rem == half && (q & 1));
    uint32_t bits = base + (uint32_t)q;
    return bits > f->maxfin ? f->ovf : bits;
}

/* Narrows a finite nonzero binary32 magnitude a (bits, sign cleared). */
static inline uint32_t round_f32_mag(const narrow_fmt *f, uint32_t a) {
    uint32_t ex = a >> 23, m = a & 0x7fffffu;
    if (ex) return round_mag(f, (int)ex - 127, (uint64_t)(m | 0x800000u) << 40);
    int lz = __builtin_clz(m); /* subnormal: m * 2^-149, leading bit 31 - lz */
    return round_mag(f, 31 - lz - 149, (uint64_t)m << (32 + lz));
}

/* Narrows a finite nonzero binary64 magnitude a (bits, sign cleared). */
static inline uint32_t round_f64_mag(const narrow_fmt *f, uint64_t a) {
    int ex = (int)(a >> 52);
    uint64_t m = a & ((UINT64_C(1) << 52) - 1);
    if (ex) return round_mag(f, ex - 1023, (m | (UINT64_C(1) << 52)) << 11);
    int lz = __builtin_clzll(m); /* subnormal: m * 2^-1074 */
    return round_mag(f, 63 - lz - 1074, m << lz);
}

/* Formats other than f16 turn every NaN into their one quiet NaN. */
static inline uint32_t narrow_from_f32(const narrow_fmt *f, float x) {
    uint32_t u = f32_bits(x);
    uint32_t sign = (u >> 31) << f->sign_shift;
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | f->qnan;
    if (a == 0x7f800000u) return sign | f->ovf;
    if (a == 0) return sign;
    return sign | round_f32_mag(f, a);
}

static inline uint32_t narrow_from_f64(const narrow_fmt *f, double x) {
    uint64_t u = f64_bits(x);
    uint32_t sign = (uint32_t)(u >> 63) << f->sign_shift;
    uint64_t a = u & ~(UINT64_C(1) << 63);
    const uint64_t inf = UINT64_C(0x7ff0000000000000);
    if (a > inf) return sign | f->qnan;
    if (a == inf) return sign | f->ovf;
    if (a == 0) return sign;
    return sign | round_f64_mag(f, a);
}

static inline uint32_t narrow_from_i64(const narrow_fmt *f, int64_t v) {
    if (v == 0) return 0;
    uint32_t sign = v < 0 ? UINT32_C(1) << f->sign_shift : 0;
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v; /* exact, INT64_MIN too */
    int lz = __builtin_clzll(mag);
    return sign | round_mag(f, 63 - lz, mag << lz);
}

/* ---- scalar conversions ----------------------------------------------- */

float zf_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    uint32_t u;
    if (e == 0x1f) /* inf, or NaN made quiet with its payload kept */
        u = sign | 0x7f800000u | (m ? 0x400000u | (m << 13) : 0);
    else if (e) /* normal: rebias 15 -> 127 */
        u = sign | ((e + 112) << 23) | (m << 13);
    else if (m == 0)
        u = sign;
    else { /* subnormal m * 2^-24 is a normal f32 with exponent p - 24 */
        int p = 31 - __builtin_clz(m);
        u = sign | ((uint32_t)(p + 103) << 23) | ((m << (23 - p)) & 0x7fffffu);
    }
    return f32_from_bits(u);
}

/* Hot scalar path, written out for f16 (same results as round_f32_mag). */
uint16_t zf_f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) /* NaN: quiet, top payload bits kept */
        return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    /* 65520 = 0x477ff000, halfway from the max 65504 (odd) to 2^16: up to inf */
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);
    if (a >= 0x38800000u) { /* |f| >= 2^-14: normal result */
        uint32_t r = a - (112u << 23);      /* rebias 127 -> 15 */
        r += 0xfffu + ((r >> 13) & 1);      /* ties to even; carries into exponent */
        return (uint16_t)(sign | (r >> 13));
    }
    /* |f| <= 2^-25 (half the smallest subnormal; the tie goes to even 0) */
    if (a <= 0x33000000u) return sign;
    /* subnormal result round(|f| * 2^24), 1..0x400 (0x400 = smallest normal):
     * |f| = m * 2^(ex - 150), so |f| * 2^24 = m >> (126 - ex), shift 14..24 */
    uint32_t ex = a >> 23, m = (a & 0x7fffffu) | 0x800000u;
    unsigned s = 126 - ex;
    uint32_t q = m >> s, rem = m & ((1u << s) - 1), half = 1u << (s - 1);
    q += (rem > half) || (rem == half && (q & 1));
    return (uint16_t)(sign | q);
}

uint16_t zf_f64_to_f16(double d) {
    uint64_t u = f64_bits(d);
    uint64_t a = u & ~(UINT64_C(1) << 63);
    if (a > UINT64_C(0x7ff0000000000000)) { /* NaN: as f32 -> f16 would give */
        uint16_t sign = (uint16_t)((u >> 48) & 0x8000u);
        return (uint16_t)(sign | 0x7e00u | ((a >> 42) & 0x3ffu));
    }
    return (uint16_t)narrow_from_f64(&k_f16, d);
}

float zf_bf16_to_f32(uint16_t h) { return f32_from_bits((uint32_t)h << 16); }

uint16_t zf_f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)(((u >> 16) & 0x8000u) | 0x7fc0u);
    /* Ties to even on the low 16 bits; a carry bumps the exponent, and the
     * largest finite values round into 0x7f80 = inf, as they should. */
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

uint16_t zf_f64_to_bf16(double d) { return (uint16_t)narrow_from_f64(&k_bf16, d); }

float zf_f8e4m3_to_f32(uint8_t b) {
    uint32_t sign = (uint32_t)(b & 0x80u) << 24;
    uint32_t e = (b >> 3) & 0xfu, m = b & 0x7u;
    uint32_t u;
    if ((b & 0x7fu) == 0x7fu)
        u = sign | 0x7fc00000u;
    else if (e) /* rebias 7 -> 127 */
        u = sign | ((e + 120) << 23) | (m << 20);
    else if (m == 0)
        u = sign;
    else { /* subnormal m * 2^-9 */
        int p = 31 - __builtin_clz(m);
        u = sign | ((uint32_t)(p + 118) << 23) | ((m << (23 - p)) & 0x7fffffu);
    }
    return f32_from_bits(u);
}

uint8_t zf_f32_to_f8e4m3(float f) { return (uint8_t)narrow_from_f32(&k_e4m3, f); }
uint8_t zf_f64_to_f8e4m3(double d) { return (uint8_t)narrow_from_f64(&k_e4m3, d); }

float zf_f8e5m2_to_f32(uint8_t b) {
    uint32_t sign = (uint32_t)(b & 0x80u) << 24;
    uint32_t e = (b >> 2) & 0x1fu, m = b & 0x3u;
    uint32_t u;
    if (e == 0x1f)
        u = sign | (m ? 0x7fc00000u : 0x7f800000u);
    else if (e) /* rebias 15 -> 127 */
        u = sign | ((e + 112) << 23) | (m << 21);
    else if (m == 0)
        u = sign;
    else { /* subnormal m * 2^-16 */
        int p = 31 - __builtin_clz(m);
        u = sign | ((uint32_t)(p + 111) << 23) | ((m << (23 - p)) & 0x7fffffu);
    }
    return f32_from_bits(u);
}

uint8_t zf_f32_to_f8e5m2(float f) { return (uint8_t)narrow_from_f32(&k_e5m2, f); }
uint8_t zf_f64_to_f8e5m2(double d) { return (uint8_t)narrow_from_f64(&k_e5m2, d); }

/* ---- element helpers for the bulk conversions ------------------------- */

/* Truncates toward zero and saturates to [lo, hi]; NaN -> 0. Every float
 * source widens exactly to double first. (double)hi + 1 and (double)lo are
 * exact powers of two for every int dtype (for i64, (double)INT64_MAX is
 * already 2^63), and any x in [hi, hi + 1) or (lo - 1, lo] truncates to the
 * saturated value anyway, so two comparisons decide. */
static inline int64_t f64_to_int_sat(double x, int64_t lo, int64_t hi) {
    if (x != x) return 0;
    if (x >= (double)hi + 1.0) return hi;
    if (x < (double)lo) return lo;
    return (int64_t)x;
}

static bool int_range(zf_dtype t, int64_t *lo, int64_t *hi) {
    switch (t) {
    case ZF_I64: *lo = INT64_MIN; *hi = INT64_MAX; return true;
    case ZF_I32: *lo = INT32_MIN; *hi = INT32_MAX; return true;
    case ZF_I16: *lo = INT16_MIN; *hi = INT16_MAX; return true;
    case ZF_I8: *lo = INT8_MIN; *hi = INT8_MAX; return true;
    case ZF_U8: *lo = 0; *hi = UINT8_MAX; return true;
    default: return false;
    }
}

/* memmove that accepts NULL pointers when there is nothing to copy. */
static inline void copy_bytes(void *dst, const void *src, size_t bytes) {
    if (bytes) memmove(dst, src, bytes);
}

/* Stores n int64 values v (already in range, or to be wrapped as a C cast
 * does; GCC and Clang define out-of-range signed narrowing as modulo 2^N) into
 * an int or bool array. */
static void store_ints(zf_dtype t, void *dst, const int64_t *v, size_t n) {
    switch (t) {
    case ZF_I64: copy_bytes(dst, v, n * sizeof *v); break;
    case ZF_I32: for (size_t i = 0; i < n; i++) ((int32_t *)dst)[i] = (int32_t)v[i]; break;
    case ZF_I16: for (size_t i = 0; i < n; i++) ((int16_t *)dst)[i] = (int16_t)v[i]; break;
    case ZF_I8: for (size_t i = 0; i < n; i++) ((int8_t *)dst)[i] = (int8_t)v[i]; break;
    case ZF_U8: for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = (uint8_t)v[i]; break;
    case ZF_BOOL: for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = v[i] != 0; break;
    default: break;
    }
}

/* Float -> int dtypes through a stack tile of saturated int64. */
#define TILE 256

static void f64_to_ints(zf_dtype t, const double *src, void *dst, size_t n) {
    int64_t lo, hi, tile[TILE];
    if (!int_range(t, &lo, &hi)) return;
    for (size_t i0 = 0; i0 < n; i0 += TILE) {
        size_t m = n - i0 < TILE ? n - i0 : TILE;
        for (size_t i = 0; i < m; i++) tile[i] = f64_to_int_sat(src[i0 + i], lo, hi);
        store_ints(t, (char *)dst + i0 * zf_dtype_size(t), tile, m);
    }
}

static void f32_to_ints(zf_dtype t, const float *src, void *dst, size_t n) {
    int64_t lo, hi, tile[TILE];
    if (!int_range(t, &lo, &hi)) return;
    for (size_t i0 = 0; i0 < n; i0 += TILE) {
        size_t m = n - i0 < TILE ? n - i0 : TILE;
        for (size_t i = 0; i < m; i++) tile[i] = f64_to_int_sat(src[i0 + i], lo, hi);
        store_ints(t, (char *)dst + i0 * zf_dtype_size(t), tile, m);
    }
}

/* ---- bulk conversions ------------------------------------------------- */

void zf_convert_to_f32(zf_dtype src_t, const void *src, float *dst, size_t n) {
    switch (src_t) {
    case ZF_F64: for (size_t i = 0; i < n; i++) dst[i] = (float)((const double *)src)[i]; break;
    case ZF_F32: copy_bytes(dst, src, n * sizeof(float)); break;
    case ZF_F16: zf_cvt_f16_to_f32(src, dst, n); break;
    case ZF_BF16: zf_cvt_bf16_to_f32(src, dst, n); break;
    case ZF_F8_E4M3: for (size_t i = 0; i < n; i++) dst[i] = zf_f8e4m3_to_f32(((const uint8_t *)src)[i]); break;
    case ZF_F8_E5M2: for (size_t i = 0; i < n; i++) dst[i] = zf_f8e5m2_to_f32(((const uint8_t *)src)[i]); break;
    /* int64 -> float rounds once (to nearest even in the default mode) */
    case ZF_I64: for (size_t i = 0; i < n; i++) dst[i] = (float)((const int64_t *)src)[i]; break;
    case ZF_I32: for (size_t i = 0; i < n; i++) dst[i] = (float)((const int32_t *)src)[i]; break;
    case ZF_I16: for (size_t i = 0; i < n; i++) dst[i] = ((const int16_t *)src)[i]; break;
    case ZF_I8: for (size_t i = 0; i < n; i++) dst[i] = ((const int8_t *)src)[i]; break;
    case ZF_U8: for (size_t i = 0; i < n; i++) dst[i] = ((const uint8_t *)src)[i]; break;
    case ZF_BOOL: for (size_t i = 0; i < n; i++) dst[i] = ((const uint8_t *)src)[i] != 0; break;
    default: break; /* quantized: formats/quant */
    }
}

void zf_convert_from_f32(zf_dtype dst_t, const float *src, void *dst, size_t n) {
    switch (dst_t) {
    case ZF_F64: for (size_t i = 0; i < n; i++) ((double *)dst)[i] = src[i]; break;
    case ZF_F32: copy_bytes(dst, src, n * sizeof(float)); break;
    case ZF_F16: zf_cvt_f32_to_f16(src, dst, n); break;
    case ZF_BF16: zf_cvt_f32_to_bf16(src, dst, n); break;
    case ZF_F8_E4M3: for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = zf_f32_to_f8e4m3(src[i]); break;
    case ZF_F8_E5M2: for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = zf_f32_to_f8e5m2(src[i]); break;
    case ZF_I64: case ZF_I32: case ZF_I16: case ZF_I8: case ZF_U8: f32_to_ints(dst_t, src, dst, n); break;
    case ZF_BOOL: for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = src[i] != 0; break;
    default: break;
    }
}

void zf_convert_to_f64(zf_dtype src_t, const void *src, double *dst, size_t n) {
    switch (src_t) {
    case ZF_F64: copy_bytes(dst, src, n * sizeof(double)); break;
    case ZF_F32: for (size_t i = 0; i < n; i++) dst[i] = ((const float *)src)[i]; break;
    case ZF_F16: for (size_t i = 0; i < n; i++) dst[i] = zf_f16_to_f32(((const uint16_t *)src)[i]); break;
    case ZF_BF16: for (size_t i = 0; i < n; i++) dst[i] = zf_bf16_to_f32(((const uint16_t *)src)[i]); break;
    case ZF_F8_E4M3: for (size_t i = 0; i < n; i++) dst[i] = zf_f8e4m3_to_f32(((const uint8_t *)src)[i]); break;
    case ZF_F8_E5M2: for (size_t i = 0; i < n; i++) dst[i] = zf_f8e5m2_to_f32(((const uint8_t *)src)[i]); break;
    case ZF_I64: for (size_t i = 0; i < n; i++) dst[i] = (double)((const int64_t *)src)[i]; break;
    case ZF_I32: for (size_t i = 0; i < n; i++) dst[i] = ((const int32_t *)src)[i]; break;
    case ZF_I16: for (size_t i = 0; i < n; i++) dst[i] = ((const int16_t *)src)[i]; break;
    case ZF_I8: for (size_t i = 0; i < n; i++) dst[i] = ((const int8_t *)src)[i]; break;
    case ZF_U8: for (size_t i = 0; i < n; i++) dst[i] = ((const uint8_t *)src)[i]; break;
    case ZF_BOOL: for (size_t i = 0; i < n; i++) dst[i] = ((const uint8_t *)src)[i] != 0; break;
    default: break;
    }
}

void zf_convert_from_f64(zf_dtype dst_t, const double *src, void *dst, size_t n) {
    switch (dst_t) {
    case ZF_F64: copy_bytes(dst, src, n * sizeof(double)); break;
    /* double -> float rounds once (to nearest even in the default mode) */
    case ZF_F32: for (size_t i = 0; i < n; i++) ((float *)dst)[i] = (float)src[i]; break;
    case ZF_F16: for (size_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = zf_f64_to_f16(src[i]); break;
    case ZF_BF16: for (size_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = zf_f64_to_bf16(src[i]); break;
    case ZF_F8_E4M3: for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = zf_f64_to_f8e4m3(src[i]); break;
    case ZF_F8_E5M2: for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = zf_f64_to_f8e5m2(src[i]); break;
    case ZF_I64: case ZF_I32: case ZF_I16: case ZF_I8: case ZF_U8: f64_to_ints(dst_t, src, dst, n); break;
    case ZF_BOOL: for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = src[i] != 0; break;
    default: break;
    }
}

void zf_convert_to_i64(zf_dtype src_t, const void *src, int64_t *dst, size_t n) {
    const int64_t lo = INT64_MIN, hi = INT64_MAX;
    switch (src_t) {
    case ZF_F64: for (size_t i = 0; i < n; i++) dst[i] = f64_to_int_sat(((const double *)src)[i], lo, hi); break;
    case ZF_F32: for (size_t i = 0; i < n; i++) dst[i] = f64_to_int_sat(((const float *)src)[i], lo, hi); break;
    case ZF_F16: for (size_t i = 0; i < n; i++) dst[i] = f64_to_int_sat(zf_f16_to_f32(((const uint16_t *)src)[i]), lo, hi); break;
    case ZF_BF16: for (size_t i = 0; i < n; i++) dst[i] = f64_to_int_sat(zf_bf16_to_f32(((const uint16_t *)src)[i]), lo, hi); break;
    case ZF_F8_E4M3: for (size_t i = 0; i < n; i++) dst[i] = f64_to_int_sat(zf_f8e4m3_to_f32(((const uint8_t *)src)[i]), lo, hi); break;
    case ZF_F8_E5M2: for (size_t i = 0; i < n; i++) dst[i] = f64_to_int_sat(zf_f8e5m2_to_f32(((const uint8_t *)src)[i]), lo, hi); break;
    case ZF_I64: copy_bytes(dst, src, n * sizeof(int64_t)); break;
    case ZF_I32: for (size_t i = 0; i < n; i++) dst[i] = ((const int32_t *)src)[i]; break;
    case ZF_I16: for (size_t i = 0; i < n; i++) dst[i] = ((const int16_t *)src)[i]; break;
    case ZF_I8: for (size_t i = 0; i < n; i++) dst[i] = ((const int8_t *)src)[i]; break;
    case ZF_U8: for (size_t i = 0; i < n; i++) dst[i] = ((const uint8_t *)src)[i]; break;
    case ZF_BOOL: for (size_t i = 0; i < n; i++) dst[i] = ((const uint8_t *)src)[i] != 0; break;
    default: break;
    }
}

void zf_convert_from_i64(zf_dtype dst_t, const int64_t *src, void *dst, size_t n) {
    switch (dst_t) {
    case ZF_F64: for (size_t i = 0; i < n; i++) ((double *)dst)[i] = (double)src[i]; break;
    case ZF_F32: for (size_t i = 0; i < n; i++) ((float *)dst)[i] = (float)src[i]; break;
    case ZF_F16: for (size_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = (uint16_t)narrow_from_i64(&k_f16, src[i]); break;
    case ZF_BF16: for (size_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = (uint16_t)narrow_from_i64(&k_bf16, src[i]); break;
    case ZF_F8_E4M3: for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = (uint8_t)narrow_from_i64(&k_e4m3, src[i]); break;
    case ZF_F8_E5M2: for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = (uint8_t)narrow_from_i64(&k_e5m2, src[i]); break;
    case ZF_I64: case ZF_I32: case ZF_I16: case ZF_I8: case ZF_U8: case ZF_BOOL: store_ints(dst_t, dst, src, n); break;
    default: break;
    }
}

/* Any scalar dtype to any other. Routes keep every result singly rounded:
 * f16/bf16/f8 widen exactly to f32 first, ints and bool exactly to int64, and
 * f32/f64 sources convert directly. */
void zf_convert(zf_dtype dst_t, void *dst, zf_dtype src_t, const void *src, size_t n) {
    if ((unsigned)dst_t >= ZF_DTYPE_SCALAR_COUNT || (unsigned)src_t >= ZF_DTYPE_SCALAR_COUNT) return;
    if (dst_t == src_t && src_t != ZF_BOOL) {
        copy_bytes(dst, src, n * zf_dtype_size(src_t));
        return;
    }
    if (src_t == ZF_F32) { zf_convert_from_f32(dst_t, src, dst, n); return; }
    if (src_t == ZF_F64) { zf_convert_from_f64(dst_t, src, dst, n); return; }
    if (dst_t == ZF_F32) { zf_convert_to_f32(src_t, src, dst, n); return; }
    if (dst_t == ZF_F64) { zf_convert_to_f64(src_t, src, dst, n); return; }
    if (src_t == ZF_I64) { zf_convert_from_i64(dst_t, src, dst, n); return; }
    if (dst_t == ZF_I64) { zf_convert_to_i64(src_t, src, dst, n); return; }

    size_t ssz = zf_dtype_size(src_t), dsz = zf_dtype_size(dst_t);
    const char *s = src;
    char *d = dst;
    if (zf_dtype_is_float(src_t)) {
        float tile[TILE];
        for (size_t i0 = 0; i0 < n; i0 += TILE) {
            size_t m = n - i0 < TILE ? n - i0 : TILE;
            zf_convert_to_f32(src_t, s + i0 * ssz, tile, m);
            zf_convert_from_f32(dst_t, tile, d + i0 * dsz, m);
        }
    } else {
        int64_t tile[TILE];
        for (size_t i0 = 0; i0 < n; i0 += TILE) {
            size_t m = n - i0 < TILE ? n - i0 : TILE;
            zf_convert_to_i64(src_t, s + i0 * ssz, tile, m);
            zf_convert_from_i64(dst_t, tile, d + i0 * dsz, m);
        }
    }
}
