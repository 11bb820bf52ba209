/* Unit tests of the block-quantized formats (include/zerfoo/quant.h):
 * argument and size errors, f16/bf16 conversion edge cases, hand-built blocks
 * with known values (layouts), quantize -> dequantize error bounds on
 * Gaussian data, exact cases, non-finite inputs, unaligned buffers.
 * Bit-exact parity with gguf-py lives in tests/parity/test_gguf_parity.py. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zerfoo/quant.h"

static int g_pass, g_fail;
#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (cond) g_pass++;                                                              \
        else {                                                                           \
            g_fail++;                                                                    \
            fprintf(stderr, "%s:%d: CHECK(%s) failed [%s]\n", __FILE__, __LINE__, #cond, \
                    zf_last_error());                                                    \
        }                                                                                \
    } while (0)

static const zf_dtype k_types[] = {ZF_F32,  ZF_F16,  ZF_BF16, ZF_Q4_0, ZF_Q4_1, ZF_Q5_0, ZF_Q5_1,
                                   ZF_Q8_0, ZF_Q2_K, ZF_Q3_K, ZF_Q4_K, ZF_Q5_K, ZF_Q6_K};
#define N_TYPES (sizeof k_types / sizeof *k_types)

/* Relative RMSE bound of dequantize(quantize(x)) for x ~ N(0, 1): roughly
 * 1.3x what the reference algorithms reach here (Q4_0 0.085, Q8_0 0.0053,
 * Q4_K 0.071, Q6_K 0.018). */
static double rmse_bound(zf_dtype t) {
    switch (t) {
    case ZF_F32: return 0;
    case ZF_F16: return 3e-4;
    case ZF_BF16: return 2.2e-3;
    case ZF_Q4_0: return 0.11;
    case ZF_Q4_1: return 0.10;
    case ZF_Q5_0: return 0.055;
    case ZF_Q5_1: return 0.05;
    case ZF_Q8_0: return 0.007;
    case ZF_Q2_K: return 0.39;
    case ZF_Q3_K: return 0.20;
    case ZF_Q4_K: return 0.093;
    case ZF_Q5_K: return 0.047;
    case ZF_Q6_K: return 0.023;
    default: return 0;
    }
}

/* deterministic N(0, 1) (xorshift64 + Box-Muller) */
static uint64_t g_rng = 0x2545f4914f6cdd1dull;
static double uniform(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return ((g_rng >> 11) + 0.5) / 9007199254740992.0;
}
static float gauss(void) { return (float)(sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform())); }

static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void test_args(void) {
    float x[512] = {0}, y[512];
    unsigned char q[512 * 4];
    CHECK(zf_quant_supported(ZF_Q4_K) && zf_quant_supported(ZF_F16) && !zf_quant_supported(ZF_I32) &&
          !zf_quant_supported(ZF_F64) && !zf_quant_supported((zf_dtype)99));
    CHECK(zf_quant_row_size(ZF_Q4_0, 64) == 36);
    CHECK(zf_quant_row_size(ZF_Q6_K, 512) == 420);
    CHECK(zf_quant_row_size(ZF_BF16, 3) == 6);
    CHECK(zf_quant_row_size(ZF_Q4_0, 33) == 0 && zf_last_status() == ZF_ERR_SHAPE);
    CHECK(zf_quant_row_size(ZF_Q4_0, -32) == 0 && zf_last_status() == ZF_ERR_SHAPE);
    CHECK(zf_quant_row_size(ZF_I8, 32) == 0 && zf_last_status() == ZF_ERR_DTYPE);
    CHECK(zf_quant_row_size(ZF_F32, INT64_MAX) == 0 && zf_last_status() == ZF_ERR_OVERFLOW);
    for (size_t i = 0; i < N_TYPES; i++) {
        zf_dtype t = k_types[i];
        int64_t blk = zf_dtype_block(t);
        CHECK(zf_quantize(t, x, q, 0) == ZF_OK && zf_dequantize(t, q, y, 0) == ZF_OK);
        CHECK(zf_quantize(t, NULL, q, blk) == ZF_ERR_INVALID_ARG);
        CHECK(zf_dequantize(t, q, NULL, blk) == ZF_ERR_INVALID_ARG);
        if (blk > 1) {
            CHECK(zf_quantize(t, x, q, blk + 1) == ZF_ERR_SHAPE);
            CHECK(zf_dequantize(t, q, y, blk - 1) == ZF_ERR_SHAPE);
            CHECK(strstr(zf_last_error(), "block size") != NULL);
        }
        CHECK(zf_quantize(t, x, q, -blk) == ZF_ERR_SHAPE);
    }
    CHECK(zf_quantize(ZF_I32, x, q, 32) == ZF_ERR_DTYPE);
    CHECK(zf_dequantize(ZF_BOOL, q, y, 32) == ZF_ERR_DTYPE);
    CHECK(zf_dequantize(ZF_BOOL, q, y, 0) == ZF_ERR_DTYPE);
}

static void test_half(void) {
    /* f16 <- f32, round to nearest even, through zf_quantize(ZF_F16) */
    struct {
        float f;
        uint16_t h;
    } cases[] = {
        {0.0f, 0x0000},           {-0.0f, 0x8000},         {1.0f, 0x3c00},
        {65504.0f, 0x7bff},       {65519.99f, 0x7bff},     {65520.0f, 0x7c00},
        {1e10f, 0x7c00},          {-1e10f, 0xfc00},        {5.9604645e-8f, 0x0001}, /* 2^-24 */
        {2.9802322e-8f, 0x0000},  /* 2^-25: tie -> even 0 */
        {4.4703484e-8f, 0x0001},  /* 1.5 * 2^-25 */
        {8.940697e-8f, 0x0002},   /* 1.5 * 2^-24: tie -> even 2 */
        {6.097555e-5f, 0x3ff},    /* largest subnormal */
        {6.1035156e-5f, 0x0400},  /* 2^-14 smallest normal */
        {1.00048828125f, 0x3c00}, /* 1 + 2^-11: tie -> even */
        {1.00146484375f, 0x3c02}, /* 1 + 3 * 2^-11: tie -> even (up) */
        {INFINITY, 0x7c00},       {-INFINITY, 0xfc00},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint16_t h = 0;
        CHECK(zf_quantize(ZF_F16, &cases[i].f, &h, 1) == ZF_OK);
        if (h != cases[i].h) fprintf(stderr, "f16(%.9g) = 0x%04x, wanted 0x%04x\n", cases[i].f, h, cases[i].h);
        CHECK(h == cases[i].h);
    }
    float nan = from_bits(0x7fc00001u), y;
    uint16_t h;
    CHECK(zf_quantize(ZF_F16, &nan, &h, 1) == ZF_OK && (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0);
    /* every f16 -> f32 -> f16 is the identity (NaNs stay NaN) */
    int bad = 0;
    for (uint32_t u = 0; u < 65536; u++) {
        uint16_t a = (uint16_t)u, b;
        zf_dequantize(ZF_F16, &a, &y, 1);
        zf_quantize(ZF_F16, &y, &b, 1);
        bool is_nan = (a & 0x7c00) == 0x7c00 && (a & 0x3ff);
        if (is_nan ? !(y != y) : a != b) bad++;
    }
    CHECK(bad == 0);
    /* bf16 */
    struct {
        uint32_t f;
        uint16_t h;
    } bc[] = {{0x3f800000u, 0x3f80}, {0x3f808000u, 0x3f80}, {0x3f818000u, 0x3f82}, {0x3f808001u, 0x3f81},
              {0x7f7fffffu, 0x7f80}, {0xff800000u, 0xff80}, {0x7f800001u, 0x7fc0}, {0x80000000u, 0x8000}};
    for (size_t i = 0; i < sizeof bc / sizeof *bc; i++) {
        float f = from_bits(bc[i].f);
        CHECK(zf_quantize(ZF_BF16, &f, &h, 1) == ZF_OK && h == bc[i].h);
        CHECK(zf_dequantize(ZF_BF16, &bc[i].h, &y, 1) == ZF_OK && bits(y) == (uint32_t)bc[i].h << 16);
    }
}

/* Blocks built by hand: checks field offsets and element order. */
static void test_layouts(void) {
    float y[256];
    /* Q4_0: d = 2 (f16 0x4000), qs[j] = j | (15 - j) << 4 -> x[j] = 2 (j - 8), x[j+16] = 2 (7 - j) */
    unsigned char q40[18] = {0x00, 0x40};
    for (int j = 0; j < 16; j++) q40[2 + j] = (unsigned char)(j | ((15 - j) << 4));
    CHECK(zf_dequantize(ZF_Q4_0, q40, y, 32) == ZF_OK);
    bool ok = true;
    for (int j = 0; j < 16; j++) ok &= y[j] == 2.0f * (float)(j - 8) && y[j + 16] == 2.0f * (float)(7 - j);
    CHECK(ok);
    /* Q5_1: d = 1, m = -16 (0xcc00), element j = j (qs low/high nibble + qh bit 4) -> x = j - 16 */
    unsigned char q51[24] = {0x00, 0x3c, 0x00, 0xcc};
    uint32_t qh = 0;
    for (int j = 0; j < 32; j++) qh |= (uint32_t)((j >> 4) & 1) << j;
    memcpy(q51 + 4, &qh, 4);
    for (int j = 0; j < 16; j++) q51[8 + j] = (unsigned char)((j & 15) | (((j + 16) & 15) << 4));
    CHECK(zf_dequantize(ZF_Q5_1, q51, y, 32) == ZF_OK);
    ok = true;
    for (int j = 0; j < 32; j++) ok &= y[j] == (float)(j - 16);
    CHECK(ok);
    /* Q8_0: d = 0.5 (0x3800), qs = -16..15 */
    unsigned char q80[34] = {0x00, 0x38};
    for (int j = 0; j < 32; j++) q80[2 + j] = (unsigned char)(int8_t)(j - 16);
    CHECK(zf_dequantize(ZF_Q8_0, q80, y, 32) == ZF_OK);
    ok = true;
    for (int j = 0; j < 32; j++) ok &= y[j] == 0.5f * (float)(j - 16);
    CHECK(ok);
    /* Q4_K: d = 1, dmin = 1, sub-block s has scale s+1 and min s (s < 4 direct,
     * s >= 4 split), all q = 5 -> x = 5 (s + 1) - s */
    unsigned char q4k[144] = {0x00, 0x3c, 0x00, 0x3c};
    unsigned char *sc = q4k + 4;
    for (int s = 0; s < 8; s++) {
        int ls = s + 1, lm = s;
        if (s < 4) {
            sc[s] = (unsigned char)ls;
            sc[s + 4] = (unsigned char)lm;
        } else {
            sc[s + 4] = (unsigned char)((ls & 15) | ((lm & 15) << 4));
            sc[s - 4] |= (unsigned char)((ls >> 4) << 6);
            sc[s] |= (unsigned char)((lm >> 4) << 6);
        }
    }
    memset(q4k + 16, 0x55, 128);
    CHECK(zf_dequantize(ZF_Q4_K, q4k, y, 256) == ZF_OK);
    ok = true;
    for (int i = 0; i < 256; i++) ok &= y[i] == (float)(5 * (i / 32 + 1) - i / 32);
    CHECK(ok);
    /* Q6_K: d = 1, scales[s] = s - 8, every 6-bit q = 33 (-> 1): x = s - 8 */
    unsigned char q6k[210] = {0};
    memset(q6k, 0x11, 128);      /* low nibbles 1 */
    memset(q6k + 128, 0xaa, 64); /* top bits 2 -> q = 1 | 2 << 4 = 33 */
    for (int s = 0; s < 16; s++) q6k[192 + s] = (unsigned char)(int8_t)(s - 8);
    q6k[209] = 0x3c;
    CHECK(zf_dequantize(ZF_Q6_K, q6k, y, 256) == ZF_OK);
    ok = true;
    for (int i = 0; i < 256; i++) ok &= y[i] == (float)(i / 16 - 8);
    CHECK(ok);
    /* Q3_K: d = 1, every scale 32 + 1 (-> 1), low bits 2, hmask set -> q = 2 */
    unsigned char q3k[110] = {0};
    memset(q3k, 0xff, 32);
    memset(q3k + 32, 0xaa, 64);
    for (int j = 0; j < 8; j++) q3k[96 + j] = 0x11; /* low nibbles 1 */
    for (int j = 0; j < 4; j++) q3k[104 + j] = 0xaa; /* top bits 2 -> 1 | 2 << 4 = 33 */
    q3k[109] = 0x3c;
    CHECK(zf_dequantize(ZF_Q3_K, q3k, y, 256) == ZF_OK);
    ok = true;
    for (int i = 0; i < 256; i++) ok &= y[i] == 2.0f;
    CHECK(ok);
    q3k[0] = 0xfe; /* element 0's high bit clear -> q = 2 - 4 */
    CHECK(zf_dequantize(ZF_Q3_K, q3k, y, 256) == ZF_OK && y[0] == -2.0f && y[1] == 2.0f && y[32] == 2.0f);
    /* Q2_K: d = 1, dmin = 0.5, scales[s] = (s & 15) | 2 << 4, q = 3 -> x = 3 (s & 15) - 1 */
    unsigned char q2k[84] = {0};
    for (int s = 0; s < 16; s++) q2k[s] = (unsigned char)(s | (2 << 4));
    memset(q2k + 16, 0xff, 64);
    q2k[81] = 0x3c;
    q2k[83] = 0x38;
    CHECK(zf_dequantize(ZF_Q2_K, q2k, y, 256) == ZF_OK);
    ok = true;
    for (int i = 0; i < 256; i++) ok &= y[i] == (float)(3 * (i / 16)) - 1.0f;
    CHECK(ok);
}

static void test_round_trips(void) {
    enum { N = 256 * 64 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    unsigned char *q = malloc(N * 4 + 1);
    for (int i = 0; i < N; i++) x[i] = gauss();
    for (size_t k = 0; k < N_TYPES; k++) {
        zf_dtype t = k_types[k];
        CHECK(zf_quantize(t, x, q, N) == ZF_OK);
        CHECK(zf_dequantize(t, q, y, N) == ZF_OK);
        double se = 0, sx = 0;
        for (int i = 0; i < N; i++) {
            se += (double)(y[i] - x[i]) * (y[i] - x[i]);
            sx += (double)x[i] * x[i];
        }
        double rel = sqrt(se / sx);
        printf("  %-5s relative RMSE %.5f (bound %.4f)\n", zf_dtype_name(t), rel, rmse_bound(t));
        CHECK(rel <= rmse_bound(t));
        /* unaligned buffers on both sides give the same bytes and values */
        float *xu = (float *)malloc(N * sizeof(float) + 4);
        unsigned char *qu = malloc(N * 4 + 1);
        memcpy((unsigned char *)xu, x, 4);
        CHECK(zf_quantize(t, x, qu + 1, N) == ZF_OK && memcmp(qu + 1, q, zf_quant_row_size(t, N)) == 0);
        CHECK(zf_dequantize(t, qu + 1, xu, N) == ZF_OK && memcmp(xu, y, N * sizeof(float)) == 0);
        free(xu);
        free(qu);
        /* all zeros -> all zeros; block-wise exact cases */
        memset(y, 0xff, 256 * sizeof *y);
        float zeros[256] = {0};
        CHECK(zf_quantize(t, zeros, q, 256) == ZF_OK && zf_dequantize(t, q, y, 256) == ZF_OK);
        bool ok = true;
        for (int i = 0; i < 256; i++) ok &= y[i] == 0.0f;
        CHECK(ok);
    }
    /* Q8_0 is exact on integer blocks whose largest magnitude is 127 */
    float ints[32];
    for (int j = 0; j < 32; j++) ints[j] = (float)(j * 8 - 127);
    ints[31] = 127;
    CHECK(zf_quantize(ZF_Q8_0, ints, q, 32) == ZF_OK && zf_dequantize(ZF_Q8_0, q, y, 32) == ZF_OK);
    CHECK(memcmp(ints, y, sizeof ints) == 0);
    /* Q4_0 is exact on multiples of d with the extreme at -8 d */
    for (int j = 0; j < 32; j++) ints[j] = (float)((j % 16) - 8) * 0.25f;
    CHECK(zf_quantize(ZF_Q4_0, ints, q, 32) == ZF_OK && zf_dequantize(ZF_Q4_0, q, y, 32) == ZF_OK);
    CHECK(memcmp(ints, y, sizeof ints) == 0);
    /* Q4_1: 16 evenly spaced levels from min to max */
    for (int j = 0; j < 32; j++) ints[j] = 1.0f + (float)(j % 16);
    CHECK(zf_quantize(ZF_Q4_1, ints, q, 32) == ZF_OK && zf_dequantize(ZF_Q4_1, q, y, 32) == ZF_OK);
    CHECK(memcmp(ints, y, sizeof ints) == 0);
    free(x);
    free(y);
    free(q);
}

/* NaN, inf, huge and tiny inputs must not trip UBSan or crash. */
static void test_non_finite(void) {
    float x[512], y[512];
    unsigned char q[2048];
    const float specials[] = {NAN, INFINITY, -INFINITY, 3e38f, -3e38f, 1e-45f, 0.0f};
    for (size_t k = 0; k < N_TYPES; k++) {
        for (size_t s = 0; s < sizeof specials / sizeof *specials; s++) {
            for (int i = 0; i < 512; i++) x[i] = (i % 7 == 0) ? specials[s] : gauss();
            CHECK(zf_quantize(k_types[k], x, q, 512) == ZF_OK);
            CHECK(zf_dequantize(k_types[k], q, y, 512) == ZF_OK);
            for (int i = 0; i < 512; i++) x[i] = specials[s];
            CHECK(zf_quantize(k_types[k], x, q, 512) == ZF_OK);
            CHECK(zf_dequantize(k_types[k], q, y, 512) == ZF_OK);
        }
    }
    /* random bytes dequantize to something, always */
    for (int i = 0; i < 2048; i++) q[i] = (unsigned char)(uniform() * 256);
    for (size_t k = 0; k < N_TYPES; k++) CHECK(zf_dequantize(k_types[k], q, y, 256) == ZF_OK);
}

int main(void) {
    test_args();
    test_half();
    test_layouts();
    test_round_trips();
    test_non_finite();
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
