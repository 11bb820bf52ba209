/* Writes zerfoo's narrow-float conversions of a large deterministic input set
 * to raw little-endian files, for tests/parity/test_dtype_parity.py to
 * compare with ml_dtypes and numpy.
 *
 *   dtype_dump DIR                           the standard set (below)
 *   dtype_dump DIR --f32-range START COUNT   f32 patterns START..START+COUNT-1
 *
 * Standard set, every file a flat array (name.u32 = uint32 etc.):
 *   widening, every pattern: f16_f32, bf16_f32 (65536 x u32, the f32 bits),
 *     e4m3_f32, e5m2_f32 (256 x u32); scalar functions, and *_bulk from
 *     zf_convert_to_f32.
 *   f32_in.u32, then f32_{f16,bf16}.u16 and f32_{e4m3,e5m2}.u8 from the
 *     scalar functions and f32_*_bulk from zf_convert_from_f32.
 *   f64_in.u64, then f64_* likewise (zf_convert_from_f64 for *_bulk).
 * Range mode writes r_{f16,bf16}.u16 and r_{e4m3,e5m2}.u8 (bulk entry points).
 *
 * The f32 inputs: every f32 whose low 13 bits are one of {0, 1, half-1, half,
 * half+1, max} around f16's rounding point, for all 2^19 high patterns; the
 * same around each format's rounding point at every exponent (this moves the
 * point up through the subnormal range); thresholds of every format with
 * their neighbours; NaNs with assorted payloads; random patterns. The f64
 * inputs do the same around each format's rounding points and add offsets
 * from each tie that are finer than f32 can hold (these expose rounding twice
 * through f32), plus a few values at every f64 exponent and random ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zerfoo/dtype.h"

typedef struct {
    void *p;
    size_t n, cap, elem;
} vec;

static void vec_push(vec *v, const void *x) {
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 1 << 16;
        v->p = realloc(v->p, v->cap * v->elem);
        if (!v->p) {
            fprintf(stderr, "dtype_dump: out of memory\n");
            exit(2);
        }
    }
    memcpy((char *)v->p + v->n * v->elem, x, v->elem);
    v->n++;
}

static void push32(vec *v, uint32_t u) { vec_push(v, &u); }
static void push64(vec *v, uint64_t u) { vec_push(v, &u); }

static uint64_t g_rng = 0x6a09e667f3bcc909ull;
static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t b32(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static uint64_t b64(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static const char *g_dir;

static void write_file(const char *name, const void *p, size_t bytes) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (bytes && fwrite(p, 1, bytes, f) != bytes) || fclose(f) != 0) {
        fprintf(stderr, "dtype_dump: cannot write %s\n", path);
        exit(2);
    }
}

/* The narrow formats' rounding geometry: fraction bits and smallest normal
 * exponent, as in src/core/dtype_convert.c. */
typedef struct {
    int mant, emin, emax;
} geom;
static const geom k_geoms[4] = {{10, -14, 15}, {7, -126, 127}, {3, -6, 8}, {2, -14, 15}};

/* Values every format cares about: its max, the overflow tie, min normal,
 * min subnormal and half of it, and a tie in the subnormals. */
static const double k_points[] = {
    65504, 65520, 65536, 0x1p-14, 0x1p-24, 0x1p-25, 0x1.8p-24,                 /* f16 */
    0x1.fep127, 0x1.ffp127, 0x1p-126, 0x1p-133, 0x1p-134, 0x1.8p-133,          /* bf16 */
    448, 464, 480, 0x1p-6, 0x1p-9, 0x1p-10, 0x1.8p-9,                         /* e4m3 */
    57344, 61440, 0x1p-16, 0x1p-17, 0x1.8p-16,                                  /* e5m2 */
    1.0, 0.5, 2.0, 3.0, 240, 0x1.fffffep127, 0x1p-149, 0x1p-126, 0x1.fffffcp-127, /* f32 */
};

static void gen_f32(vec *v) {
    /* specials and NaN payloads */
    static const uint32_t sp[] = {0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000,
                                  0xffc00000, 0x7f800001, 0xff800001, 0x7fa00000, 0x7fffffff,
                                  0xffffffff, 0x7f802000, 0x7fc00001, 0xffc12345, 0x7f801fff,
                                  0x00000001, 0x80000001, 0x007fffff, 0x00800000, 0x7f7fffff};
    for (size_t i = 0; i < sizeof sp / sizeof *sp; i++) push32(v, sp[i]);
    for (size_t i = 0; i < sizeof k_points / sizeof *k_points; i++) {
        uint32_t u = b32((float)k_points[i]);
        for (int d = -3; d <= 3; d++)
            for (uint32_t s = 0; s < 2; s++) push32(v, (s << 31) | (uint32_t)((int64_t)u + d));
    }
    /* f16's rounding point (low 13 bits) under every sign/exponent/fraction */
    static const uint32_t lo16[] = {0, 1, 0xfff, 0x1000, 0x1001, 0x1fff};
    for (uint32_t hi = 0; hi < (1u << 19); hi++)
        for (int j = 0; j < 6; j++) push32(v, (hi << 13) | lo16[j]);
    /* each format's rounding point at each exponent (f16 normals done above) */
    for (int g = 0; g < 4; g++) {
        const geom *gm = &k_geoms[g];
        for (uint32_t s = 0; s < 2; s++)
            for (int ex = 0; ex < 255; ex++) {
                int e = ex ? ex - 127 : -126; /* f32 subnormals sit at 2^-126's grain */
                int k = gm->mant - (gm->emin > e ? gm->emin - e : 0); /* fraction bits kept */
                if (g == 0 && k == gm->mant) continue;
                uint32_t top = (s << 31) | ((uint32_t)ex << 23);
                if (k < 0) { /* at or below half the smallest subnormal */
                    static const uint32_t fr[] = {0, 1, 0x400000, 0x3fffff, 0x400001, 0x7fffff};
                    for (int j = 0; j < 6; j++) push32(v, top | fr[j]);
                    continue;
                }
                int c = 23 - k; /* bits rounded away */
                uint32_t half = 1u << (c - 1);
                uint32_t lows[6] = {0, 1, half - 1, half, half + 1, 2 * half - 1};
                for (uint32_t hi = 0; hi < (1u << k); hi++)
                    for (int j = 0; j < 6; j++) push32(v, top | (hi << c) | lows[j]);
            }
    }
    /* random: any pattern; values in the narrow formats' range; bf16's range */
    for (int i = 0; i < 1 << 20; i++) push32(v, (uint32_t)rnd());
    for (int i = 0; i < 1 << 19; i++) {
        uint64_t r = rnd();
        int e = -30 + (int)(r % 48);
        push32(v, ((uint32_t)(r >> 32) & 0x807fffffu) | ((uint32_t)(e + 127) << 23));
    }
    for (int i = 0; i < 1 << 18; i++) {
        uint64_t r = rnd();
        int ex = (int)(r % 255);
        push32(v, ((uint32_t)(r >> 32) & 0x807fffffu) | ((uint32_t)ex << 23));
    }
}

static void gen_f64(vec *v) {
    static const uint64_t sp[] = {
        0x0000000000000000ull, 0x8000000000000000ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
        0x7ff8000000000000ull, 0xfff8000000000000ull, 0x7ff0000000000001ull, 0xfff0000000000001ull,
        0x7ff4000000000000ull, 0x7ff0000020000000ull, 0x7ff0040000000000ull, 0x7fffffffffffffffull,
        0xffffffffffffffffull, 0x0000000000000001ull, 0x8000000000000001ull, 0x000fffffffffffffull,
        0x0010000000000000ull, 0x7fefffffffffffffull, 0xffefffffffffffffull,
    };
    for (size_t i = 0; i < sizeof sp / sizeof *sp; i++) push64(v, sp[i]);
    /* thresholds: neighbours at f64 and at f32 spacing, and offsets below f32's grain */
    for (size_t i = 0; i < sizeof k_points / sizeof *k_points; i++) {
        uint64_t u = b64(k_points[i]);
        static const int64_t d[] = {0, 1, -1, 2, -2, 1 << 20, -(1 << 20), (1 << 28) - 1, -((1 << 28) - 1),
                                    1 << 28, -(1 << 28), 1 << 29, -(1 << 29)};
        for (size_t j = 0; j < sizeof d / sizeof *d; j++)
            for (uint64_t s = 0; s < 2; s++) push64(v, (s << 63) | (uint64_t)((int64_t)u + d[j]));
    }
    /* each format's rounding point at each exponent near its range */
    static const int js[] = {8, 16, 24, 27, 28, 29, 30, 32, 36, 40, 44, 48};
    for (int g = 0; g < 4; g++) {
        const geom *gm = &k_geoms[g];
        for (uint64_t s = 0; s < 2; s++)
            for (int e = gm->emin - gm->mant - 3; e <= gm->emax + 2; e++) {
                int k = gm->mant - (gm->emin > e ? gm->emin - e : 0);
                uint64_t top = (s << 63) | ((uint64_t)(e + 1023) << 52);
                if (k < 0) {
                    const uint64_t fr[] = {0, 1, 1ull << 51, (1ull << 51) - 1, (1ull << 51) + 1,
                                           (1ull << 52) - 1, (1ull << 28), (1ull << 29) - 1};
                    for (int j = 0; j < 8; j++) push64(v, top | fr[j]);
                    continue;
                }
                int c = 52 - k;
                uint64_t half = 1ull << (c - 1);
                uint64_t lows[6 + 4 * 12];
                int nl = 0;
                lows[nl++] = 0, lows[nl++] = 1, lows[nl++] = half - 1, lows[nl++] = half;
                lows[nl++] = half + 1, lows[nl++] = 2 * half - 1;
                for (int j = 0; j < 12; j++) {
                    uint64_t dd = 1ull << js[j];
                    if (dd >= half) continue;
                    lows[nl++] = half + dd, lows[nl++] = half - dd;
                    lows[nl++] = half + dd - 1, lows[nl++] = half - dd + 1;
                }
                /* up to 32 kept-fraction patterns: the ends and random ones */
                uint64_t nhi = 1ull << k;
                for (uint64_t t = 0; t < (nhi < 32 ? nhi : 32); t++) {
                    uint64_t hi = nhi <= 32 ? t : t < 2 ? t : t < 4 ? nhi - 1 - (t - 2) : rnd() % nhi;
                    for (int j = 0; j < nl; j++) push64(v, top | (hi << c) | lows[j]);
                }
            }
    }
    /* a few values at every exponent: overflow and underflow everywhere */
    for (uint64_t s = 0; s < 2; s++)
        for (uint64_t ex = 0; ex < 2047; ex++) {
            const uint64_t fr[] = {0, 1, 1ull << 51, (1ull << 52) - 1, rnd() & ((1ull << 52) - 1)};
            for (int j = 0; j < 5; j++) push64(v, (s << 63) | (ex << 52) | fr[j]);
        }
    /* random */
    for (int i = 0; i < 1 << 19; i++) push64(v, rnd());
    for (int i = 0; i < 1 << 19; i++) {
        uint64_t r = rnd();
        int e = -30 + (int)(r % 48);
        push64(v, (rnd() & 0x800fffffffffffffull) | ((uint64_t)(e + 1023) << 52));
    }
    for (int i = 0; i < 1 << 18; i++) {
        uint64_t r = rnd();
        int e = -150 + (int)(r % 282);
        push64(v, (rnd() & 0x800fffffffffffffull) | ((uint64_t)(e + 1023) << 52));
    }
}

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "dtype_dump: out of memory\n");
        exit(2);
    }
    return p;
}

static void dump_widening(void) {
    uint16_t *h = xmalloc(65536 * 2);
    uint32_t *o = xmalloc(65536 * 4);
    float *of = xmalloc(65536 * 4);
    for (uint32_t i = 0; i < 65536; i++) h[i] = (uint16_t)i;
    for (uint32_t i = 0; i < 65536; i++) o[i] = b32(zf_f16_to_f32(h[i]));
    write_file("f16_f32.u32", o, 65536 * 4);
    zf_convert_to_f32(ZF_F16, h, of, 65536);
    write_file("f16_f32_bulk.u32", of, 65536 * 4);
    for (uint32_t i = 0; i < 65536; i++) o[i] = b32(zf_bf16_to_f32(h[i]));
    write_file("bf16_f32.u32", o, 65536 * 4);
    zf_convert_to_f32(ZF_BF16, h, of, 65536);
    write_file("bf16_f32_bulk.u32", of, 65536 * 4);

    uint8_t b[256];
    for (int i = 0; i < 256; i++) b[i] = (uint8_t)i;
    for (int i = 0; i < 256; i++) o[i] = b32(zf_f8e4m3_to_f32(b[i]));
    write_file("e4m3_f32.u32", o, 256 * 4);
    zf_convert_to_f32(ZF_F8_E4M3, b, of, 256);
    write_file("e4m3_f32_bulk.u32", of, 256 * 4);
    for (int i = 0; i < 256; i++) o[i] = b32(zf_f8e5m2_to_f32(b[i]));
    write_file("e5m2_f32.u32", o, 256 * 4);
    zf_convert_to_f32(ZF_F8_E5M2, b, of, 256);
    write_file("e5m2_f32_bulk.u32", of, 256 * 4);
    free(h), free(o), free(of);
}

static void dump_f32(void) {
    vec v = {.elem = 4};
    gen_f32(&v);
    size_t n = v.n;
    const float *x = v.p;
    uint16_t *o16 = xmalloc(n * 2);
    uint8_t *o8 = xmalloc(n);
    write_file("f32_in.u32", x, n * 4);

    for (size_t i = 0; i < n; i++) o16[i] = zf_f32_to_f16(x[i]);
    write_file("f32_f16.u16", o16, n * 2);
    zf_convert_from_f32(ZF_F16, x, o16, n);
    write_file("f32_f16_bulk.u16", o16, n * 2);
    for (size_t i = 0; i < n; i++) o16[i] = zf_f32_to_bf16(x[i]);
    write_file("f32_bf16.u16", o16, n * 2);
    zf_convert_from_f32(ZF_BF16, x, o16, n);
    write_file("f32_bf16_bulk.u16", o16, n * 2);
    for (size_t i = 0; i < n; i++) o8[i] = zf_f32_to_f8e4m3(x[i]);
    write_file("f32_e4m3.u8", o8, n);
    zf_convert_from_f32(ZF_F8_E4M3, x, o8, n);
    write_file("f32_e4m3_bulk.u8", o8, n);
    for (size_t i = 0; i < n; i++) o8[i] = zf_f32_to_f8e5m2(x[i]);
    write_file("f32_e5m2.u8", o8, n);
    zf_convert_from_f32(ZF_F8_E5M2, x, o8, n);
    write_file("f32_e5m2_bulk.u8", o8, n);
    free(v.p), free(o16), free(o8);
}

static void dump_f64(void) {
    vec v = {.elem = 8};
    gen_f64(&v);
    size_t n = v.n;
    const double *x = v.p;
    uint16_t *o16 = xmalloc(n * 2);
    uint8_t *o8 = xmalloc(n);
    write_file("f64_in.u64", x, n * 8);

    for (size_t i = 0; i < n; i++) o16[i] = zf_f64_to_f16(x[i]);
    write_file("f64_f16.u16", o16, n * 2);
    zf_convert_from_f64(ZF_F16, x, o16, n);
    write_file("f64_f16_bulk.u16", o16, n * 2);
    for (size_t i = 0; i < n; i++) o16[i] = zf_f64_to_bf16(x[i]);
    write_file("f64_bf16.u16", o16, n * 2);
    zf_convert_from_f64(ZF_BF16, x, o16, n);
    write_file("f64_bf16_bulk.u16", o16, n * 2);
    for (size_t i = 0; i < n; i++) o8[i] = zf_f64_to_f8e4m3(x[i]);
    write_file("f64_e4m3.u8", o8, n);
    zf_convert_from_f64(ZF_F8_E4M3, x, o8, n);
    write_file("f64_e4m3_bulk.u8", o8, n);
    for (size_t i = 0; i < n; i++) o8[i] = zf_f64_to_f8e5m2(x[i]);
    write_file("f64_e5m2.u8", o8, n);
    zf_convert_from_f64(ZF_F8_E5M2, x, o8, n);
    write_file("f64_e5m2_bulk.u8", o8, n);
    free(v.p), free(o16), free(o8);
}

static void dump_range(uint64_t start, uint64_t count) {
    float *x = xmalloc(count * 4);
    uint16_t *o16 = xmalloc(count * 2);
    uint8_t *o8 = xmalloc(count);
    for (uint64_t i = 0; i < count; i++) {
        uint32_t u = (uint32_t)(start + i);
        memcpy(&x[i], &u, 4);
    }
    zf_convert_from_f32(ZF_F16, x, o16, count);
    write_file("r_f16.u16", o16, count * 2);
    zf_convert_from_f32(ZF_BF16, x, o16, count);
    write_file("r_bf16.u16", o16, count * 2);
    zf_convert_from_f32(ZF_F8_E4M3, x, o8, count);
    write_file("r_e4m3.u8", o8, count);
    zf_convert_from_f32(ZF_F8_E5M2, x, o8, count);
    write_file("r_e5m2.u8", o8, count);
    free(x), free(o16), free(o8);
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[2], "--f32-range") == 0) {
        g_dir = argv[1];
        uint64_t start = strtoull(argv[3], NULL, 0), count = strtoull(argv[4], NULL, 0);
        if (count == 0 || start + count > (UINT64_C(1) << 32)) {
            fprintf(stderr, "dtype_dump: bad range\n");
            return 2;
        }
        dump_range(start, count);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: dtype_dump DIR [--f32-range START COUNT]\n");
        return 2;
    }
    g_dir = argv[1];
    dump_widening();
    dump_f32();
    dump_f64();
    return 0;
}
