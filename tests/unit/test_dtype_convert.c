/* Unit tests for src/core/dtype_convert.c and dtype_convert_simd.c.
 *
 * Hand-checked cases (expected encodings worked out from the format
 * definitions quoted in dtype_convert.c), then bulk == scalar on random data,
 * then every vector kernel == scalar: exhaustively on the 65536 f16 and bf16
 * patterns, and on several million f32 inputs chosen around the rounding
 * points. ZF_DTYPE_EXHAUSTIVE=1 also sweeps all 2^32 f32 patterns through
 * the f32 -> f16 / bf16 kernels (a few minutes).
 *
 * The exhaustive comparison against ml_dtypes / numpy lives in
 * tests/parity/test_dtype_parity.py. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dtype_convert_simd.h"
#include "zerfoo/dtype.h"

static int g_pass, g_fail;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            g_pass++;                                                      \
        } else {                                                           \
            g_fail++;                                                      \
            if (g_fail <= 60) {                                            \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);       \
                fprintf(stderr, __VA_ARGS__);                              \
                fputc('\n', stderr);                                       \
            }                                                              \
        }                                                                  \
    } while (0)

static uint32_t b32(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static uint64_t b64(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}
static double f64(uint64_t u) {
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* splitmix64: deterministic test data */
static uint64_t g_rng = 0x243f6a8885a308d3ull;
static uint64_t rnd(void) {
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A float with random sign, exponent in [elo, ehi] and random fraction. */
static float rnd_f32_in(int elo, int ehi) {
    uint64_t r = rnd();
    int e = elo + (int)(r % (uint64_t)(ehi - elo + 1));
    uint32_t u = (uint32_t)(r >> 32) & 0x807fffffu;
    if (e < -126) return f32(u & 0x807fffffu); /* subnormal */
    return f32(u | ((uint32_t)(e + 127) << 23));
}

/* ---- hand-checked scalar cases ------------------------------------------- */

typedef struct {
    uint32_t in;
    uint32_t out;
} case32;

static void test_f16(void) {
    static const case32 to16[] = {
        {0x3f800000, 0x3c00}, /* 1 */
        {0xc0000000, 0xc000}, /* -2 */
        {0x477fe000, 0x7bff}, /* 65504 = max */
        {0x477fefff, 0x7bff}, /* just below 65520 */
        {0x477ff000, 0x7c00}, /* 65520: tie, max is odd -> inf */
        {0x4e6e6b28, 0x7c00}, /* 1e9 */
        {0x7f7fffff, 0x7c00}, /* FLT_MAX */
        {0x7f800000, 0x7c00}, {0xff800000, 0xfc00},
        {0x38800000, 0x0400}, /* 2^-14, min normal */
        {0x33800000, 0x0001}, /* 2^-24, min subnormal */
        {0x33000000, 0x0000}, /* 2^-25: tie -> even 0 */
        {0xb3000000, 0x8000}, /* -2^-25 -> -0 */
        {0x33000001, 0x0001}, /* just above 2^-25 */
        {0x33c00000, 0x0002}, /* 3 * 2^-25: tie 1|2 -> 2 */
        {0x34200000, 0x0002}, /* 5 * 2^-25: tie 2|3 -> 2 */
        {0x32800000, 0x0000}, /* 2^-26 */
        {0xb2800000, 0x8000},
        {0x80000000, 0x8000}, {0x00000000, 0x0000},
        {0x00000001, 0x0000}, {0x80000001, 0x8000}, /* f32 subnormals */
        {0x3f801000, 0x3c00}, /* 1 + 2^-11: tie -> even */
        {0x3f803000, 0x3c02}, /* 1 + 3*2^-11: tie -> even */
        {0x3f801001, 0x3c01}, /* 1 + 2^-11 + 2^-23 */
        {0x3f800fff, 0x3c00},
        {0x387fc000, 0x03ff}, /* max subnormal 1023 * 2^-24 */
        {0x387fe000, 0x0400}, /* 1023.5 * 2^-24: tie -> 0x400 (min normal) */
        {0x387fdfff, 0x03ff},
        {0x7fc00000, 0x7e00}, {0xffc00000, 0xfe00}, /* NaN keeps its sign */
        {0x7f800001, 0x7e00}, /* sNaN -> quiet */
        {0x7fa00000, 0x7f00}, /* payload kept */
        {0x7f802000, 0x7e01}, {0xffffffff, 0xffff},
    };
    for (size_t i = 0; i < sizeof to16 / sizeof *to16; i++) {
        uint16_t h = zf_f32_to_f16(f32(to16[i].in));
        CHECK(h == to16[i].out, "f32 %08x -> f16 %04x, want %04x", to16[i].in, h, to16[i].out);
    }
    static const case32 from16[] = {
        {0x3c00, 0x3f800000}, {0x7bff, 0x477fe000}, {0x0400, 0x38800000},
        {0x0001, 0x33800000}, {0x03ff, 0x387fc000}, {0x8001, 0xb3800000},
        {0x0200, 0x38000000}, {0x8000, 0x80000000}, {0x0000, 0x00000000},
        {0x7c00, 0x7f800000}, {0xfc00, 0xff800000},
        {0x7e00, 0x7fc00000}, {0x7c01, 0x7fc02000}, {0xfd55, 0xffeaa000}, /* NaN: quiet, payload */
        {0xc000, 0xc0000000}, {0x3555, 0x3eaaa000},
    };
    for (size_t i = 0; i < sizeof from16 / sizeof *from16; i++) {
        uint32_t u = b32(zf_f16_to_f32((uint16_t)from16[i].in));
        CHECK(u == from16[i].out, "f16 %04x -> f32 %08x, want %08x", from16[i].in, u, from16[i].out);
    }
}

static void test_bf16(void) {
    static const case32 to[] = {
        {0x3f800000, 0x3f80}, {0x3f808000, 0x3f80}, /* 1 + 2^-8: tie -> even */
        {0x3f818000, 0x3f82}, {0x3f808001, 0x3f81}, {0x3f807fff, 0x3f80},
        {0x7f7f7fff, 0x7f7f}, {0x7f7f8000, 0x7f80}, /* tie above max (odd) -> inf */
        {0x7f7fffff, 0x7f80}, {0x7f800000, 0x7f80}, {0xff800000, 0xff80},
        {0x00000001, 0x0000}, {0x00008000, 0x0000}, {0x00008001, 0x0001}, /* subnormals */
        {0x00018000, 0x0002}, {0x80008001, 0x8001}, {0x80000001, 0x8000},
        {0x007fffff, 0x0080}, {0x80000000, 0x8000},
        {0x7fc00000, 0x7fc0}, {0xff800001, 0xffc0}, {0x7fffffff, 0x7fc0}, /* NaN -> canonical */
        {0x7f800001, 0x7fc0}, {0xffc12345, 0xffc0},
    };
    for (size_t i = 0; i < sizeof to / sizeof *to; i++) {
        uint16_t h = zf_f32_to_bf16(f32(to[i].in));
        CHECK(h == to[i].out, "f32 %08x -> bf16 %04x, want %04x", to[i].in, h, to[i].out);
    }
    static const uint16_t from[] = {0x3f80, 0x7f81, 0xff81, 0x0001, 0x8000, 0x7f80, 0x7f7f};
    for (size_t i = 0; i < sizeof from / sizeof *from; i++) {
        uint32_t u = b32(zf_bf16_to_f32(from[i]));
        CHECK(u == (uint32_t)from[i] << 16, "bf16 %04x -> f32 %08x", from[i], u);
    }
}

static void test_f8(void) {
    static const case32 e4[] = {
        {0x43e00000, 0x7e}, /* 448 = max */
        {0x43e80000, 0x7e}, /* 464: tie between 448 (even) and 480 -> 448 */
        {0x43e80001, 0x7f}, /* just above 464 -> NaN */
        {0xc3e80000, 0xfe}, {0xc3e80001, 0xff},
        {0x43f00000, 0x7f}, /* 480 */
        {0x49742400, 0x7f}, /* 1e6 */
        {0x7f800000, 0x7f}, {0xff800000, 0xff}, /* inf -> NaN with sign */
        {0x7fc00000, 0x7f}, {0xffc00000, 0xff}, {0x7f800001, 0x7f},
        {0x3f800000, 0x38}, {0x3c800000, 0x08}, /* 2^-6 min normal */
        {0x3b000000, 0x01}, /* 2^-9 min subnormal */
        {0x3a800000, 0x00}, /* 2^-10: tie -> 0 */
        {0x3a800001, 0x01}, {0x3b400000, 0x02}, /* 3 * 2^-10: tie 1|2 -> 2 */
        {0xba800000, 0x80}, {0x80000000, 0x80}, {0x00000001, 0x00},
        {0x3f880000, 0x38}, /* 1 + 2^-4: tie -> even */
        {0x3f980000, 0x3a}, /* 1 + 3*2^-4 */
        {0x3f880001, 0x39},
        {0x3c600000, 0x07}, /* 7 * 2^-9, max subnormal */
        {0x3c700000, 0x08}, /* 7.5 * 2^-9: tie -> min normal */
        {0x43700000, 0x77}, /* 240 */
    };
    for (size_t i = 0; i < sizeof e4 / sizeof *e4; i++) {
        uint8_t b = zf_f32_to_f8e4m3(f32(e4[i].in));
        CHECK(b == e4[i].out, "f32 %08x -> e4m3 %02x, want %02x", e4[i].in, b, e4[i].out);
    }
    static const case32 e4f[] = {
        {0x7e, 0x43e00000}, {0x7f, 0x7fc00000}, {0xff, 0xffc00000}, {0x01, 0x3b000000},
        {0x07, 0x3c600000}, {0x08, 0x3c800000}, {0x80, 0x80000000}, {0x38, 0x3f800000},
        {0x77, 0x43700000}, {0x78, 0x43800000}, {0x02, 0x3b800000}, {0x86, 0xbc400000},
    };
    for (size_t i = 0; i < sizeof e4f / sizeof *e4f; i++) {
        uint32_t u = b32(zf_f8e4m3_to_f32((uint8_t)e4f[i].in));
        CHECK(u == e4f[i].out, "e4m3 %02x -> f32 %08x, want %08x", e4f[i].in, u, e4f[i].out);
    }
    static const case32 e5[] = {
        {0x47600000, 0x7b}, /* 57344 = max */
        {0x476fff00, 0x7b}, /* 61439 */
        {0x47700000, 0x7c}, /* 61440: tie, max is odd -> inf */
        {0x47800000, 0x7c}, {0x7f800000, 0x7c}, {0xff800000, 0xfc},
        {0x7fc00000, 0x7e}, {0xffc00000, 0xfe}, {0x7f800001, 0x7e},
        {0x37800000, 0x01}, /* 2^-16 min subnormal */
        {0x37000000, 0x00}, /* 2^-17: tie -> 0 */
        {0x37c00000, 0x02}, /* 3 * 2^-17 -> 2 */
        {0x38800000, 0x04}, /* 2^-14 min normal */
        {0x3f800000, 0x3c}, {0x3f900000, 0x3c}, /* 1.125: tie -> even */
        {0x3fb00000, 0x3e}, /* 1.375 */
        {0x80000000, 0x80}, {0xb7000000, 0x80},
    };
    for (size_t i = 0; i < sizeof e5 / sizeof *e5; i++) {
        uint8_t b = zf_f32_to_f8e5m2(f32(e5[i].in));
        CHECK(b == e5[i].out, "f32 %08x -> e5m2 %02x, want %02x", e5[i].in, b, e5[i].out);
    }
    static const case32 e5f[] = {
        {0x7b, 0x47600000}, {0x7c, 0x7f800000}, {0xfc, 0xff800000}, {0x7d, 0x7fc00000},
        {0x7f, 0x7fc00000}, {0xfe, 0xffc00000}, {0x01, 0x37800000}, {0x03, 0x38400000},
        {0x04, 0x38800000}, {0x3c, 0x3f800000}, {0x80, 0x80000000},
    };
    for (size_t i = 0; i < sizeof e5f / sizeof *e5f; i++) {
        uint32_t u = b32(zf_f8e5m2_to_f32((uint8_t)e5f[i].in));
        CHECK(u == e5f[i].out, "e5m2 %02x -> f32 %08x, want %08x", e5f[i].in, u, e5f[i].out);
    }
    /* Every f8 pattern survives f8 -> f32 -> f8 (NaN: to the canonical NaN). */
    for (int b = 0; b < 256; b++) {
        uint8_t r4 = zf_f32_to_f8e4m3(zf_f8e4m3_to_f32((uint8_t)b));
        uint8_t r5 = zf_f32_to_f8e5m2(zf_f8e5m2_to_f32((uint8_t)b));
        bool nan5 = (b & 0x7c) == 0x7c && (b & 3);
        CHECK(r4 == b, "e4m3 %02x round trip -> %02x", b, r4);
        CHECK(r5 == (nan5 ? ((b & 0x80) | 0x7e) : b), "e5m2 %02x round trip -> %02x", b, r5);
    }
}

/* f64 sources round once: each "+ tiny" below is lost by a trip through f32,
 * which would then see an exact tie and round to even. */
typedef struct {
    double in;
    uint32_t f16, bf16, e4, e5; /* 0xffffffff: not checked */
} case64;

#define NC 0xffffffffu

static void test_f64(void) {
    const double tiny = 0x1p-40;
    const case64 cs[] = {
        {1 + 0x1p-11 + tiny, 0x3c01, 0x3f80, 0x38, 0x3c},
        {1 + 0x1p-11, 0x3c00, NC, NC, NC},
        {1 + 0x1p-8 + 0x1p-30, 0x3c04, 0x3f81, 0x38, 0x3c},
        {1 + 0x1p-8, 0x3c04, 0x3f80, NC, NC},
        {1 + 0x1p-4 + tiny, 0x3c40, 0x3f88, 0x39, 0x3c},
        {1 + 0x1p-3 + tiny, 0x3c80, 0x3f90, 0x39, 0x3d},
        {1 + 0x1p-3, NC, NC, NC, 0x3c},
        {-(1 + 0x1p-3 + tiny), 0xbc80, 0xbf90, 0xb9, 0xbd},
        {464, 0x5f40, 0x43e8, 0x7e, NC},
        {464 + 0x1p-40, 0x5f40, 0x43e8, 0x7f, NC},
        {61440, 0x7b80, 0x4770, 0x7f, 0x7c},
        {61440 - 0x1p-30, 0x7b80, 0x4770, 0x7f, 0x7b},
        {65520, 0x7c00, NC, NC, NC},
        {65520 - 0x1p-30, 0x7bff, NC, NC, NC},
        {0x1.fep127, NC, 0x7f7f, NC, NC},                /* bf16 max */
        {0x1.ffp127, NC, 0x7f80, NC, NC},                /* tie above it -> inf */
        {0x1.ffp127 - 0x1p80, NC, 0x7f7f, NC, NC},
        {0x1.fffffe0000001p127, 0x7c00, 0x7f80, 0x7f, 0x7c}, /* > FLT_MAX */
        {1e300, 0x7c00, 0x7f80, 0x7f, 0x7c},
        {-1e300, 0xfc00, 0xff80, 0xff, 0xfc},
        {1e-300, 0x0000, 0x0000, 0x00, 0x00},
        {-1e-300, 0x8000, 0x8000, 0x80, 0x80},
        {0x1p-1074, 0x0000, 0x0000, 0x00, 0x00},         /* f64 subnormal */
        {-0x1p-1074, 0x8000, 0x8000, 0x80, 0x80},
        {0x1p-25, 0x0000, NC, NC, NC},
        {0x1p-25 + 0x1p-60, 0x0001, NC, NC, NC},
        {0x1p-133, NC, 0x0001, NC, NC},
        {0x1p-134, NC, 0x0000, NC, NC},                  /* tie -> 0 */
        {0x1p-134 + 0x1p-170, NC, 0x0001, NC, NC},       /* below f32's subnormal grain */
        {0x1p-10, NC, NC, 0x00, NC},
        {0x1p-10 + 0x1p-60, NC, NC, 0x01, NC},
        {0x1p-17, NC, NC, NC, 0x00},
        {0x1p-17 + 0x1p-60, NC, NC, NC, 0x01},
        {0.0, 0x0000, 0x0000, 0x00, 0x00},
        {-0.0, 0x8000, 0x8000, 0x80, 0x80},
        {INFINITY, 0x7c00, 0x7f80, 0x7f, 0x7c},
        {-INFINITY, 0xfc00, 0xff80, 0xff, 0xfc},
    };
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
        const case64 *c = &cs[i];
        uint32_t h = zf_f64_to_f16(c->in), bf = zf_f64_to_bf16(c->in);
        uint32_t e4 = zf_f64_to_f8e4m3(c->in), e5 = zf_f64_to_f8e5m2(c->in);
        CHECK(c->f16 == NC || h == c->f16, "f64 %a -> f16 %04x, want %04x", c->in, h, c->f16);
        CHECK(c->bf16 == NC || bf == c->bf16, "f64 %a -> bf16 %04x, want %04x", c->in, bf, c->bf16);
        CHECK(c->e4 == NC || e4 == c->e4, "f64 %a -> e4m3 %02x, want %02x", c->in, e4, c->e4);
        CHECK(c->e5 == NC || e5 == c->e5, "f64 %a -> e5m2 %02x, want %02x", c->in, e5, c->e5);
    }
    /* NaNs */
    static const struct {
        uint64_t in;
        uint16_t f16, bf16;
        uint8_t e4, e5;
    } nans[] = {
        {0x7ff8000000000000ull, 0x7e00, 0x7fc0, 0x7f, 0x7e},
        {0xfff8000000000000ull, 0xfe00, 0xffc0, 0xff, 0xfe},
        {0x7ff0000000000001ull, 0x7e00, 0x7fc0, 0x7f, 0x7e},
        {0xfff4000000000000ull, 0xff00, 0xffc0, 0xff, 0xfe},
    };
    for (size_t i = 0; i < sizeof nans / sizeof *nans; i++) {
        double d = f64(nans[i].in);
        CHECK(zf_f64_to_f16(d) == nans[i].f16, "f64 NaN %016llx -> f16 %04x", (unsigned long long)nans[i].in,
              zf_f64_to_f16(d));
        CHECK(zf_f64_to_bf16(d) == nans[i].bf16, "f64 NaN -> bf16 %04x", zf_f64_to_bf16(d));
        CHECK(zf_f64_to_f8e4m3(d) == nans[i].e4, "f64 NaN -> e4m3 %02x", zf_f64_to_f8e4m3(d));
        CHECK(zf_f64_to_f8e5m2(d) == nans[i].e5, "f64 NaN -> e5m2 %02x", zf_f64_to_f8e5m2(d));
    }
    /* An f64 holding an f32 value narrows exactly like that f32. */
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        float x = (i & 1) ? rnd_f32_in(-140, 20) : f32((uint32_t)rnd());
        double d = x;
        if (isnan(x)) continue;
        bad += zf_f64_to_f16(d) != zf_f32_to_f16(x);
        bad += zf_f64_to_bf16(d) != zf_f32_to_bf16(x);
        bad += zf_f64_to_f8e4m3(d) != zf_f32_to_f8e4m3(x);
        bad += zf_f64_to_f8e5m2(d) != zf_f32_to_f8e5m2(x);
    }
    CHECK(bad == 0, "f64 (holding f32) narrowing differs from f32 narrowing: %d", bad);
}

/* ---- int, bool and the bulk entry points -------------------------------- */

static void test_float_to_int(void) {
    const float xs[] = {3.7f, -3.7f, NAN, 1e10f, -1e10f, INFINITY, -INFINITY,
                        2147483520.0f, 2147483648.0f, -2147483648.0f, -0.5f, 0.99f};
    const int32_t want32[] = {3, -3, 0, INT32_MAX, INT32_MIN, INT32_MAX, INT32_MIN,
                              2147483520, INT32_MAX, INT32_MIN, 0, 0};
    int32_t o32[12];
    zf_convert_from_f32(ZF_I32, xs, o32, 12);
    for (int i = 0; i < 12; i++) CHECK(o32[i] == want32[i], "f32 %g -> i32 %d, want %d", xs[i], o32[i], want32[i]);

    const float x8[] = {3.7f, 127.9f, 128.0f, -128.9f, -129.0f, 300.0f, NAN, -0.9f};
    const int8_t want8[] = {3, 127, 127, -128, -128, 127, 0, 0};
    int8_t o8[8];
    zf_convert_from_f32(ZF_I8, x8, o8, 8);
    for (int i = 0; i < 8; i++) CHECK(o8[i] == want8[i], "f32 %g -> i8 %d, want %d", x8[i], o8[i], want8[i]);

    const float xu[] = {-5.0f, -0.9f, 255.9f, 256.0f, 1e30f, NAN, 77.7f, -INFINITY};
    const uint8_t wantu[] = {0, 0, 255, 255, 255, 0, 77, 0};
    uint8_t ou[8];
    zf_convert_from_f32(ZF_U8, xu, ou, 8);
    for (int i = 0; i < 8; i++) CHECK(ou[i] == wantu[i], "f32 %g -> u8 %u, want %u", xu[i], ou[i], wantu[i]);

    const float x16[] = {32767.5f, 40000.0f, -40000.0f, -32768.9f};
    const int16_t want16[] = {32767, 32767, -32768, -32768};
    int16_t o16[4];
    zf_convert_from_f32(ZF_I16, x16, o16, 4);
    for (int i = 0; i < 4; i++) CHECK(o16[i] == want16[i], "f32 %g -> i16 %d", x16[i], o16[i]);

    const double d64[] = {9.3e18, 0x1p63, 0x1.fffffffffffffp62, -0x1p63, -1e19, NAN, -INFINITY, 1e300, -7.9};
    const int64_t want64[] = {INT64_MAX, INT64_MAX, 9223372036854774784LL, INT64_MIN, INT64_MIN,
                              0, INT64_MIN, INT64_MAX, -7};
    int64_t o64[9];
    zf_convert_from_f64(ZF_I64, d64, o64, 9);
    for (int i = 0; i < 9; i++)
        CHECK(o64[i] == want64[i], "f64 %a -> i64 %lld", d64[i], (long long)o64[i]);
    int64_t o64b[9];
    zf_convert_to_i64(ZF_F64, d64, o64b, 9);
    CHECK(memcmp(o64, o64b, sizeof o64) == 0, "zf_convert_to_i64(f64) != zf_convert_from_f64(i64)");

    const float f64s[] = {0x1p63f, 0x1.fffffep62f, -0x1p63f};
    const int64_t wantf64[] = {INT64_MAX, 9223371487098961920LL, INT64_MIN};
    zf_convert_from_f32(ZF_I64, f64s, o64, 3);
    for (int i = 0; i < 3; i++) CHECK(o64[i] == wantf64[i], "f32 %a -> i64 %lld", f64s[i], (long long)o64[i]);

    const double d32[] = {2147483647.9, 2147483648.0, -2147483648.9, -2147483649.0};
    const int32_t wd32[] = {INT32_MAX, INT32_MAX, INT32_MIN, INT32_MIN};
    zf_convert_from_f64(ZF_I32, d32, o32, 4);
    for (int i = 0; i < 4; i++) CHECK(o32[i] == wd32[i], "f64 %.17g -> i32 %d", d32[i], o32[i]);

    /* narrow float sources, through zf_convert */
    const uint16_t h[] = {0x7c00, 0xfc00, 0x7e00, 0x3e00, 0xbe00, 0x7bff};
    const int16_t wh16[] = {32767, -32768, 0, 1, -1, 32767};
    const int32_t wh32[] = {INT32_MAX, INT32_MIN, 0, 1, -1, 65504};
    int16_t oh16[6];
    zf_convert(ZF_I16, oh16, ZF_F16, h, 4);
    zf_convert(ZF_I16, oh16 + 4, ZF_F16, h + 4, 2);
    for (int i = 0; i < 6; i++) CHECK(oh16[i] == wh16[i], "f16 %04x -> i16 %d", h[i], oh16[i]);
    int32_t oh32[6];
    zf_convert(ZF_I32, oh32, ZF_F16, h, 6);
    for (int i = 0; i < 6; i++) CHECK(oh32[i] == wh32[i], "f16 %04x -> i32 %d", h[i], oh32[i]);
    const uint16_t bh[] = {0x7fc0, 0xbf80, 0x4380, 0x4300};
    const uint8_t wbu[] = {0, 0, 255, 128};
    zf_convert(ZF_U8, ou, ZF_BF16, bh, 4);
    for (int i = 0; i < 4; i++) CHECK(ou[i] == wbu[i], "bf16 %04x -> u8 %u", bh[i], ou[i]);
    const uint8_t e4[] = {0x7e, 0xfe, 0x7f, 0xb9};
    const int8_t we4[] = {127, -128, 0, -1};
    zf_convert(ZF_I8, o8, ZF_F8_E4M3, e4, 4);
    for (int i = 0; i < 4; i++) CHECK(o8[i] == we4[i], "e4m3 %02x -> i8 %d", e4[i], o8[i]);
    const uint8_t e5[] = {0x7b, 0x7c, 0x7d};
    const int64_t we5[] = {57344, INT64_MAX, 0};
    zf_convert_to_i64(ZF_F8_E5M2, e5, o64, 3);
    for (int i = 0; i < 3; i++) CHECK(o64[i] == we5[i], "e5m2 %02x -> i64 %lld", e5[i], (long long)o64[i]);
}

static void test_int_to_int(void) {
    const int64_t v[] = {300, -1, 65541, INT64_MIN, INT64_MAX};
    int8_t o8[5];
    uint8_t ou[5];
    int16_t o16[5];
    int32_t o32[5];
    zf_convert_from_i64(ZF_I8, v, o8, 5);
    zf_convert(ZF_U8, ou, ZF_I64, v, 5);
    zf_convert(ZF_I16, o16, ZF_I64, v, 5);
    zf_convert(ZF_I32, o32, ZF_I64, v, 5);
    const int8_t w8[] = {44, -1, 5, 0, -1};
    const uint8_t wu[] = {44, 255, 5, 0, 255};
    const int16_t w16[] = {300, -1, 5, 0, -1};
    const int32_t w32[] = {300, -1, 65541, 0, -1};
    for (int i = 0; i < 5; i++) {
        CHECK(o8[i] == w8[i], "i64 %lld -> i8 %d", (long long)v[i], o8[i]);
        CHECK(ou[i] == wu[i], "i64 %lld -> u8 %u", (long long)v[i], ou[i]);
        CHECK(o16[i] == w16[i], "i64 %lld -> i16 %d", (long long)v[i], o16[i]);
        CHECK(o32[i] == w32[i], "i64 %lld -> i32 %d", (long long)v[i], o32[i]);
    }
    const uint8_t u[] = {200, 255, 0};
    zf_convert(ZF_I8, o8, ZF_U8, u, 3);
    CHECK(o8[0] == -56 && o8[1] == -1 && o8[2] == 0, "u8 -> i8: %d %d %d", o8[0], o8[1], o8[2]);
    int64_t o64[3];
    zf_convert(ZF_I64, o64, ZF_U8, u, 3);
    CHECK(o64[0] == 200 && o64[1] == 255 && o64[2] == 0, "u8 -> i64");
    const int32_t s[] = {-1, INT32_MIN, 70000};
    zf_convert(ZF_I64, o64, ZF_I32, s, 3);
    CHECK(o64[0] == -1 && o64[1] == INT32_MIN && o64[2] == 70000, "i32 -> i64");
    zf_convert(ZF_U8, ou, ZF_I32, s, 3);
    CHECK(ou[0] == 255 && ou[1] == 0 && ou[2] == 112, "i32 -> u8: %u %u %u", ou[0], ou[1], ou[2]);
    zf_convert(ZF_I16, o16, ZF_I32, s, 3);
    CHECK(o16[0] == -1 && o16[1] == 0 && o16[2] == 4464, "i32 -> i16: %d %d %d", o16[0], o16[1], o16[2]);
    const int8_t s8[] = {-128, 127};
    zf_convert(ZF_U8, ou, ZF_I8, s8, 2);
    CHECK(ou[0] == 128 && ou[1] == 127, "i8 -> u8");
    zf_convert(ZF_I32, o32, ZF_I8, s8, 2);
    CHECK(o32[0] == -128 && o32[1] == 127, "i8 -> i32");
}

static void test_int_to_float(void) {
    const int64_t big[] = {(1LL << 60) + (1LL << 52) + 1, (1LL << 60) + (1LL << 52), INT64_MIN, INT64_MAX};
    uint16_t o[8];
    zf_convert_from_i64(ZF_BF16, big, o, 4);
    /* the first is just above a tie: int64 -> f64 -> bf16 would round it down */
    const uint16_t wb[] = {0x5d81, 0x5d80, 0xdf00, 0x5f00};
    for (int i = 0; i < 4; i++) CHECK(o[i] == wb[i], "i64 %lld -> bf16 %04x, want %04x", (long long)big[i], o[i], wb[i]);

    const int64_t h[] = {65504, 65519, 65520, INT64_MIN, -1, 2049, 2051, 0};
    const uint16_t wh[] = {0x7bff, 0x7bff, 0x7c00, 0xfc00, 0xbc00, 0x6800, 0x6802, 0x0000};
    zf_convert(ZF_F16, o, ZF_I64, h, 8);
    for (int i = 0; i < 8; i++) CHECK(o[i] == wh[i], "i64 %lld -> f16 %04x, want %04x", (long long)h[i], o[i], wh[i]);

    const int64_t e[] = {1000, 464, 465, -3, 17, 0};
    const uint8_t we4[] = {0x7f, 0x7e, 0x7f, 0xc4, 0x58, 0x00};
    uint8_t ob[6];
    zf_convert_from_i64(ZF_F8_E4M3, e, ob, 6);
    for (int i = 0; i < 6; i++) CHECK(ob[i] == we4[i], "i64 %lld -> e4m3 %02x, want %02x", (long long)e[i], ob[i], we4[i]);
    const int64_t e5[] = {57344, 61440, 100000, 5};
    const uint8_t we5[] = {0x7b, 0x7c, 0x7c, 0x45};
    zf_convert_from_i64(ZF_F8_E5M2, e5, ob, 4);
    for (int i = 0; i < 4; i++) CHECK(ob[i] == we5[i], "i64 %lld -> e5m2 %02x", (long long)e5[i], ob[i]);

    const int64_t f[] = {16777217, 16777219, INT64_MAX};
    float of[3];
    zf_convert_to_f32(ZF_I64, f, of, 3);
    CHECK(of[0] == 16777216.0f && of[1] == 16777220.0f && of[2] == 0x1p63f, "i64 -> f32");
    const int64_t d[] = {(1LL << 53) + 1};
    double od[1];
    zf_convert_to_f64(ZF_I64, d, od, 1);
    CHECK(od[0] == 0x1p53, "i64 -> f64");
    const int32_t i32[] = {65520, 3, -2};
    zf_convert(ZF_F16, o, ZF_I32, i32, 3);
    CHECK(o[0] == 0x7c00 && o[1] == 0x4200 && o[2] == 0xc000, "i32 -> f16: %04x %04x %04x", o[0], o[1], o[2]);
    const uint8_t u8[] = {255};
    zf_convert(ZF_BF16, o, ZF_U8, u8, 1);
    CHECK(o[0] == 0x437f, "u8 -> bf16 %04x", o[0]);

    /* int -> narrow float equals f64 -> narrow float where the int is exact in f64 */
    int bad = 0;
    enum { N = 4000 };
    int64_t v[N];
    double vd[N];
    for (int i = 0; i < N; i++) {
        int sh = 1 + (int)(rnd() % 53); /* |v| < 2^53 */
        v[i] = (int64_t)(rnd() >> (64 - sh)) * ((rnd() & 1) ? -1 : 1);
        vd[i] = (double)v[i];
    }
    const zf_dtype ts[] = {ZF_F16, ZF_BF16, ZF_F8_E4M3, ZF_F8_E5M2};
    for (int k = 0; k < 4; k++) {
        uint16_t a[N], b[N];
        memset(a, 0, sizeof a);
        memset(b, 0, sizeof b);
        zf_convert_from_i64(ts[k], v, a, N);
        zf_convert_from_f64(ts[k], vd, b, N);
        bad += memcmp(a, b, sizeof a) != 0;
    }
    CHECK(bad == 0, "i64 -> narrow float differs from f64 -> narrow float on exact values");
}

static void test_bool(void) {
    const float xs[] = {0.0f, -0.0f, 0.5f, NAN, -INFINITY, 1e-45f};
    uint8_t o[6];
    zf_convert_from_f32(ZF_BOOL, xs, o, 6);
    const uint8_t w[] = {0, 0, 1, 1, 1, 1};
    for (int i = 0; i < 6; i++) CHECK(o[i] == w[i], "f32 %g -> bool %u", xs[i], o[i]);

    const uint8_t bs[] = {0, 1, 2, 255};
    float of[4];
    int8_t o8[4];
    uint8_t ob[4];
    uint16_t oh[4];
    double od[4];
    int64_t o64[4];
    zf_convert_to_f32(ZF_BOOL, bs, of, 4);
    zf_convert(ZF_I8, o8, ZF_BOOL, bs, 4);
    zf_convert(ZF_BOOL, ob, ZF_BOOL, bs, 4);
    zf_convert(ZF_F16, oh, ZF_BOOL, bs, 4);
    zf_convert_to_f64(ZF_BOOL, bs, od, 4);
    zf_convert_to_i64(ZF_BOOL, bs, o64, 4);
    for (int i = 0; i < 4; i++) {
        int want = bs[i] != 0;
        CHECK(of[i] == want && o8[i] == want && ob[i] == want && od[i] == want && o64[i] == want,
              "bool byte %u -> %g %d %u %g %lld", bs[i], of[i], o8[i], ob[i], od[i], (long long)o64[i]);
        CHECK(oh[i] == (want ? 0x3c00 : 0), "bool %u -> f16 %04x", bs[i], oh[i]);
    }
    const int32_t is[] = {0, -5, 7};
    zf_convert(ZF_BOOL, ob, ZF_I32, is, 3);
    CHECK(ob[0] == 0 && ob[1] == 1 && ob[2] == 1, "i32 -> bool");
    const int64_t i64s[] = {0, INT64_MIN, 256};
    zf_convert_from_i64(ZF_BOOL, i64s, ob, 3);
    CHECK(ob[0] == 0 && ob[1] == 1 && ob[2] == 1, "i64 -> bool (not wrapped)");
    const uint16_t hs[] = {0x8000, 0x0001, 0x7e00};
    zf_convert(ZF_BOOL, ob, ZF_F16, hs, 3);
    CHECK(ob[0] == 0 && ob[1] == 1 && ob[2] == 1, "f16 -> bool");
    const uint16_t bfs[] = {0x8000, 0x0001, 0xffc0};
    zf_convert(ZF_BOOL, ob, ZF_BF16, bfs, 3);
    CHECK(ob[0] == 0 && ob[1] == 1 && ob[2] == 1, "bf16 -> bool");
    const uint8_t e4[] = {0x80, 0x01};
    zf_convert(ZF_BOOL, ob, ZF_F8_E4M3, e4, 2);
    CHECK(ob[0] == 0 && ob[1] == 1, "e4m3 -> bool");
    const double ds[] = {-0.0, 1e-320, NAN};
    zf_convert_from_f64(ZF_BOOL, ds, ob, 3);
    CHECK(ob[0] == 0 && ob[1] == 1 && ob[2] == 1, "f64 -> bool");
}

static void test_convert_cross(void) {
    uint16_t h = 0x3c01, bf = 0;
    zf_convert(ZF_BF16, &bf, ZF_F16, &h, 1);
    CHECK(bf == 0x3f80, "f16 3c01 -> bf16 %04x", bf);
    bf = 0x3f81;
    zf_convert(ZF_F16, &h, ZF_BF16, &bf, 1);
    CHECK(h == 0x3c08, "bf16 3f81 -> f16 %04x", h);
    uint8_t e = 0x7e;
    zf_convert(ZF_F16, &h, ZF_F8_E4M3, &e, 1);
    CHECK(h == 0x5f00, "e4m3 7e -> f16 %04x", h);
    h = 0x7bff;
    zf_convert(ZF_F8_E4M3, &e, ZF_F16, &h, 1);
    CHECK(e == 0x7f, "f16 65504 -> e4m3 %02x", e);
    h = 0x5f40;
    zf_convert(ZF_F8_E4M3, &e, ZF_F16, &h, 1);
    CHECK(e == 0x7e, "f16 464 -> e4m3 %02x", e);
    e = 0x7b;
    zf_convert(ZF_BF16, &bf, ZF_F8_E5M2, &e, 1);
    CHECK(bf == 0x4760, "e5m2 7b -> bf16 %04x", bf);
    uint8_t e5 = 0;
    e = 0x7f;
    zf_convert(ZF_F8_E5M2, &e5, ZF_F8_E4M3, &e, 1);
    CHECK(e5 == 0x7e, "e4m3 NaN -> e5m2 %02x", e5);
    const double d[] = {1e10, -3.5};
    int8_t o8[2];
    zf_convert(ZF_I8, o8, ZF_F64, d, 2);
    CHECK(o8[0] == 127 && o8[1] == -3, "f64 -> i8");
    float f[2];
    zf_convert(ZF_F32, f, ZF_F64, d, 2);
    CHECK(f[0] == 1e10f && f[1] == -3.5f, "f64 -> f32");
    const uint16_t hs[3] = {1, 2, 3};
    uint16_t hd[3] = {0};
    zf_convert(ZF_F16, hd, ZF_F16, hs, 3);
    CHECK(memcmp(hs, hd, sizeof hs) == 0, "same-type copy");
    zf_convert(ZF_F16, NULL, ZF_F32, NULL, 0); /* n = 0 touches nothing */
    zf_convert(ZF_F32, NULL, ZF_F32, NULL, 0);
    CHECK(1, "n = 0");

    /* Longer than one internal tile, mixed routes: f16 -> e5m2 == scalar chain. */
    enum { N = 1000 };
    uint16_t src[N];
    uint8_t out[N];
    for (int i = 0; i < N; i++) src[i] = (uint16_t)rnd();
    zf_convert(ZF_F8_E5M2, out, ZF_F16, src, N);
    int bad = 0;
    for (int i = 0; i < N; i++) bad += out[i] != zf_f32_to_f8e5m2(zf_f16_to_f32(src[i]));
    CHECK(bad == 0, "f16 -> e5m2 over %d elements: %d differ", N, bad);
    int16_t i16[N];
    zf_convert(ZF_I16, i16, ZF_BF16, src, N);
    int64_t i64[N];
    zf_convert_to_i64(ZF_BF16, src, i64, N);
    bad = 0;
    for (int i = 0; i < N; i++) {
        int64_t w = i64[i] > INT16_MAX ? INT16_MAX : i64[i] < INT16_MIN ? INT16_MIN : i64[i];
        bad += i16[i] != w;
    }
    CHECK(bad == 0, "bf16 -> i16 over %d elements: %d differ", N, bad);
}

/* Bulk entry points == scalar functions, element by element, random data. */
static void test_bulk_vs_scalar(void) {
    enum { N = 1237 }; /* not a multiple of any vector width */
    static float xf[N], of[N];
    static double xd[N], od[N];
    static uint16_t xh[N], oh[N];
    static uint8_t xb[N], ob[N];
    for (int i = 0; i < N; i++) {
        xf[i] = (i % 3 == 0) ? f32((uint32_t)rnd()) : rnd_f32_in(-30, 20);
        xd[i] = (i % 3 == 0) ? f64(rnd()) : (double)rnd_f32_in(-30, 20) * (1 + (double)(rnd() >> 11) * 0x1p-60);
        xh[i] = (uint16_t)rnd();
        xb[i] = (uint8_t)rnd();
    }
    int bad;
#define SAME_BITS_F32(x, y) (b32(x) == b32(y))
    zf_convert_to_f32(ZF_F16, xh, of, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += !SAME_BITS_F32(of[i], zf_f16_to_f32(xh[i]));
    CHECK(bad == 0, "to_f32(f16): %d differ", bad);
    zf_convert_to_f32(ZF_BF16, xh, of, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += !SAME_BITS_F32(of[i], zf_bf16_to_f32(xh[i]));
    CHECK(bad == 0, "to_f32(bf16): %d differ", bad);
    zf_convert_to_f32(ZF_F8_E4M3, xb, of, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += !SAME_BITS_F32(of[i], zf_f8e4m3_to_f32(xb[i]));
    CHECK(bad == 0, "to_f32(e4m3): %d differ", bad);
    zf_convert_to_f32(ZF_F8_E5M2, xb, of, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += !SAME_BITS_F32(of[i], zf_f8e5m2_to_f32(xb[i]));
    CHECK(bad == 0, "to_f32(e5m2): %d differ", bad);

    zf_convert_from_f32(ZF_F16, xf, oh, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += oh[i] != zf_f32_to_f16(xf[i]);
    CHECK(bad == 0, "from_f32(f16): %d differ", bad);
    zf_convert_from_f32(ZF_BF16, xf, oh, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += oh[i] != zf_f32_to_bf16(xf[i]);
    CHECK(bad == 0, "from_f32(bf16): %d differ", bad);
    zf_convert_from_f32(ZF_F8_E4M3, xf, ob, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += ob[i] != zf_f32_to_f8e4m3(xf[i]);
    CHECK(bad == 0, "from_f32(e4m3): %d differ", bad);
    zf_convert_from_f32(ZF_F8_E5M2, xf, ob, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += ob[i] != zf_f32_to_f8e5m2(xf[i]);
    CHECK(bad == 0, "from_f32(e5m2): %d differ", bad);

    zf_convert_from_f64(ZF_F16, xd, oh, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += oh[i] != zf_f64_to_f16(xd[i]);
    CHECK(bad == 0, "from_f64(f16): %d differ", bad);
    zf_convert_from_f64(ZF_BF16, xd, oh, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += oh[i] != zf_f64_to_bf16(xd[i]);
    CHECK(bad == 0, "from_f64(bf16): %d differ", bad);
    zf_convert_from_f64(ZF_F8_E4M3, xd, ob, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += ob[i] != zf_f64_to_f8e4m3(xd[i]);
    CHECK(bad == 0, "from_f64(e4m3): %d differ", bad);
    zf_convert_from_f64(ZF_F8_E5M2, xd, ob, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += ob[i] != zf_f64_to_f8e5m2(xd[i]);
    CHECK(bad == 0, "from_f64(e5m2): %d differ", bad);

    zf_convert_to_f64(ZF_F16, xh, od, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += b64(od[i]) != b64((double)zf_f16_to_f32(xh[i]));
    CHECK(bad == 0, "to_f64(f16): %d differ", bad);
    zf_convert_to_f64(ZF_BF16, xh, od, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += b64(od[i]) != b64((double)zf_bf16_to_f32(xh[i]));
    CHECK(bad == 0, "to_f64(bf16): %d differ", bad);
    zf_convert_to_f64(ZF_F8_E4M3, xb, od, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += b64(od[i]) != b64((double)zf_f8e4m3_to_f32(xb[i]));
    CHECK(bad == 0, "to_f64(e4m3): %d differ", bad);
    zf_convert_to_f64(ZF_F8_E5M2, xb, od, N);
    bad = 0;
    for (int i = 0; i < N; i++) bad += b64(od[i]) != b64((double)zf_f8e5m2_to_f32(xb[i]));
    CHECK(bad == 0, "to_f64(e5m2): %d differ", bad);
    zf_convert_to_f64(ZF_F32, xf, od, N);
    zf_convert_from_f64(ZF_F32, od, of, N);
    CHECK(memcmp(of, xf, sizeof of) == 0, "f32 -> f64 -> f32 is not the identity");

    /* zf_convert routes to the same kernels */
    uint16_t oh2[N];
    zf_convert(ZF_F16, oh2, ZF_F32, xf, N);
    zf_convert_from_f32(ZF_F16, xf, oh, N);
    CHECK(memcmp(oh, oh2, sizeof oh) == 0, "zf_convert(f16 <- f32) != zf_convert_from_f32");
    zf_convert(ZF_BF16, oh2, ZF_F64, xd, N);
    zf_convert_from_f64(ZF_BF16, xd, oh, N);
    CHECK(memcmp(oh, oh2, sizeof oh) == 0, "zf_convert(bf16 <- f64) != zf_convert_from_f64");
}

/* ---- vector kernels == scalar ------------------------------------------- */

static size_t count_f32_mismatch(const float *a, const float *b, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += b32(a[i]) != b32(b[i]);
    return bad;
}

static size_t count_u16_mismatch(const uint16_t *a, const uint16_t *b, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += a[i] != b[i];
    return bad;
}

static void test_kernels_exhaustive16(void) {
    static uint16_t all[65536];
    static float ref_h[65536], ref_b[65536], out[65536];
    for (int i = 0; i < 65536; i++) {
        all[i] = (uint16_t)i;
        ref_h[i] = zf_f16_to_f32((uint16_t)i);
        ref_b[i] = zf_bf16_to_f32((uint16_t)i);
    }
    for (int isa = 0; isa < ZF_CVT_ISA_COUNT; isa++) {
        if (!zf_cvt_isa_available((zf_cvt_isa)isa)) continue;
        const char *name = zf_cvt_isa_name((zf_cvt_isa)isa);
        zf_cvt_f16_to_f32_isa((zf_cvt_isa)isa, all, out, 65536);
        size_t bad = count_f32_mismatch(out, ref_h, 65536);
        CHECK(bad == 0, "[%s] f16 -> f32, all 65536 patterns: %zu differ", name, bad);
        zf_cvt_bf16_to_f32_isa((zf_cvt_isa)isa, all, out, 65536);
        bad = count_f32_mismatch(out, ref_b, 65536);
        CHECK(bad == 0, "[%s] bf16 -> f32, all 65536 patterns: %zu differ", name, bad);
    }
}

/* f32 inputs around the rounding points of f16 (low 13 bits) and bf16 (low 16
 * bits), for every sign/exponent/kept-fraction pattern, plus random and a
 * strided sweep of all patterns. */
static size_t make_f32_inputs(float **out) {
    static const uint32_t lo16[] = {0, 1, 0xfff, 0x1000, 0x1001, 0x1fff};
    static const uint32_t lobf[] = {0, 1, 0x7fff, 0x8000, 0x8001, 0xffff};
    const size_t n16 = (size_t)6 << 19, nbf = (size_t)6 << 16, nrand = 1 << 20, nstride = 1 << 20;
    size_t n = n16 + nbf + nrand + nstride;
    float *x = malloc(n * sizeof *x);
    if (!x) return 0;
    size_t k = 0;
    for (uint32_t hi = 0; hi < (1u << 19); hi++)
        for (int j = 0; j < 6; j++) x[k++] = f32((hi << 13) | lo16[j]);
    for (uint32_t hi = 0; hi < (1u << 16); hi++)
        for (int j = 0; j < 6; j++) x[k++] = f32((hi << 16) | lobf[j]);
    for (size_t i = 0; i < nrand; i++) x[k++] = f32((uint32_t)rnd());
    for (size_t i = 0; i < nstride; i++) x[k++] = f32((uint32_t)(i * 4093u + 17u));
    *out = x;
    return k;
}

static void test_kernels_f32(void) {
    float *x = NULL;
    size_t n = make_f32_inputs(&x);
    CHECK(n > 0, "out of memory");
    if (!n) return;
    uint16_t *ref16 = malloc(n * 2), *refbf = malloc(n * 2), *out = malloc(n * 2);
    if (!ref16 || !refbf || !out) {
        CHECK(0, "out of memory");
        free(x), free(ref16), free(refbf), free(out);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        ref16[i] = zf_f32_to_f16(x[i]);
        refbf[i] = zf_f32_to_bf16(x[i]);
    }
    for (int isa = 0; isa < ZF_CVT_ISA_COUNT; isa++) {
        if (!zf_cvt_isa_available((zf_cvt_isa)isa)) continue;
        const char *name = zf_cvt_isa_name((zf_cvt_isa)isa);
        zf_cvt_f32_to_f16_isa((zf_cvt_isa)isa, x, out, n);
        size_t bad = count_u16_mismatch(out, ref16, n);
        CHECK(bad == 0, "[%s] f32 -> f16 on %zu inputs: %zu differ", name, n, bad);
        zf_cvt_f32_to_bf16_isa((zf_cvt_isa)isa, x, out, n);
        bad = count_u16_mismatch(out, refbf, n);
        CHECK(bad == 0, "[%s] f32 -> bf16 on %zu inputs: %zu differ", name, n, bad);
    }
    free(x), free(ref16), free(refbf), free(out);
}

/* Lengths 0..80 at odd offsets: tails right, nothing written past n. */
static void test_kernels_tails(void) {
    enum { M = 80, PAD = 8 };
    float xf[M + 1], of[M + 1 + PAD];
    uint16_t xh[M + 1], oh[M + 1 + PAD];
    for (int i = 0; i <= M; i++) {
        xf[i] = rnd_f32_in(-30, 20);
        xh[i] = (uint16_t)rnd();
    }
    int bad = 0;
    for (int isa = 0; isa < ZF_CVT_ISA_COUNT; isa++) {
        if (!zf_cvt_isa_available((zf_cvt_isa)isa)) continue;
        for (size_t n = 0; n <= M; n++) {
            memset(of, 0xee, sizeof of);
            zf_cvt_f16_to_f32_isa((zf_cvt_isa)isa, xh + 1, of + 1, n);
            for (size_t i = 0; i < n; i++) bad += b32(of[1 + i]) != b32(zf_f16_to_f32(xh[1 + i]));
            for (size_t i = n + 1; i < M + 1 + PAD; i++) bad += b32(of[i]) != 0xeeeeeeeeu;
            bad += b32(of[0]) != 0xeeeeeeeeu;
            memset(of, 0xee, sizeof of);
            zf_cvt_bf16_to_f32_isa((zf_cvt_isa)isa, xh + 1, of + 1, n);
            for (size_t i = 0; i < n; i++) bad += b32(of[1 + i]) != b32(zf_bf16_to_f32(xh[1 + i]));
            for (size_t i = n + 1; i < M + 1 + PAD; i++) bad += b32(of[i]) != 0xeeeeeeeeu;
            memset(oh, 0xee, sizeof oh);
            zf_cvt_f32_to_f16_isa((zf_cvt_isa)isa, xf + 1, oh + 1, n);
            for (size_t i = 0; i < n; i++) bad += oh[1 + i] != zf_f32_to_f16(xf[1 + i]);
            for (size_t i = n + 1; i < M + 1 + PAD; i++) bad += oh[i] != 0xeeee;
            bad += oh[0] != 0xeeee;
            memset(oh, 0xee, sizeof oh);
            zf_cvt_f32_to_bf16_isa((zf_cvt_isa)isa, xf + 1, oh + 1, n);
            for (size_t i = 0; i < n; i++) bad += oh[1 + i] != zf_f32_to_bf16(xf[1 + i]);
            for (size_t i = n + 1; i < M + 1 + PAD; i++) bad += oh[i] != 0xeeee;
        }
    }
    CHECK(bad == 0, "kernel tails / misaligned pointers: %d wrong elements", bad);
}

/* All 2^32 f32 patterns, in chunks, every level against scalar. */
static void test_kernels_all_f32(void) {
    enum { CH = 1 << 20 };
    float *x = malloc(CH * sizeof *x);
    uint16_t *r16 = malloc(CH * 2), *rbf = malloc(CH * 2), *o = malloc(CH * 2);
    if (!x || !r16 || !rbf || !o) {
        CHECK(0, "out of memory");
        free(x), free(r16), free(rbf), free(o);
        return;
    }
    size_t bad[ZF_CVT_ISA_COUNT][2] = {{0}};
    for (uint64_t base = 0; base < (UINT64_C(1) << 32); base += CH) {
        for (size_t i = 0; i < CH; i++) {
            x[i] = f32((uint32_t)(base + i));
            r16[i] = zf_f32_to_f16(x[i]);
            rbf[i] = zf_f32_to_bf16(x[i]);
        }
        for (int isa = 1; isa < ZF_CVT_ISA_COUNT; isa++) {
            if (!zf_cvt_isa_available((zf_cvt_isa)isa)) continue;
            zf_cvt_f32_to_f16_isa((zf_cvt_isa)isa, x, o, CH);
            bad[isa][0] += count_u16_mismatch(o, r16, CH);
            zf_cvt_f32_to_bf16_isa((zf_cvt_isa)isa, x, o, CH);
            bad[isa][1] += count_u16_mismatch(o, rbf, CH);
        }
    }
    for (int isa = 1; isa < ZF_CVT_ISA_COUNT; isa++) {
        if (!zf_cvt_isa_available((zf_cvt_isa)isa)) continue;
        const char *name = zf_cvt_isa_name((zf_cvt_isa)isa);
        CHECK(bad[isa][0] == 0, "[%s] f32 -> f16, all 2^32: %zu differ", name, bad[isa][0]);
        CHECK(bad[isa][1] == 0, "[%s] f32 -> bf16, all 2^32: %zu differ", name, bad[isa][1]);
        printf("exhaustive f32 -> f16/bf16 [%s]: %zu / %zu differ\n", name, bad[isa][0], bad[isa][1]);
    }
    free(x), free(r16), free(rbf), free(o);
}

int main(void) {
    test_f16();
    test_bf16();
    test_f8();
    test_f64();
    test_float_to_int();
    test_int_to_int();
    test_int_to_float();
    test_bool();
    test_convert_cross();
    test_bulk_vs_scalar();
    test_kernels_exhaustive16();
    test_kernels_f32();
    test_kernels_tails();
    const char *ex = getenv("ZF_DTYPE_EXHAUSTIVE");
    if (ex && *ex && strcmp(ex, "0") != 0) test_kernels_all_f32();

    printf("vector levels:");
    for (int isa = 0; isa < ZF_CVT_ISA_COUNT; isa++)
        if (zf_cvt_isa_available((zf_cvt_isa)isa)) printf(" %s", zf_cvt_isa_name((zf_cvt_isa)isa));
    printf(" (best: %s)\n", zf_cvt_isa_name(zf_cvt_isa_best()));
    printf("test_dtype_convert: %d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
