/* Harness utilities: random numbers, dtype codecs written from the format
 * definitions (IEEE 754 binary16/bfloat16, OCP FP8 E4M3FN/E5M2), reference
 * arrays, input tensors in several layouts, and raw output reads. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ---- random numbers ---- */
uint64_t h_rng_next(h_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
double h_rng_uniform(h_rng *r) { return (double)(h_rng_next(r) >> 11) * 0x1p-53; }
double h_rng_range(h_rng *r, double lo, double hi) { return lo + (hi - lo) * h_rng_uniform(r); }
int64_t h_rng_int(h_rng *r, int64_t lo, int64_t hi) {
    return lo + (int64_t)(h_rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* ---- small float formats ----
 * ebits/mbits: exponent and mantissa field widths. ieee: the all-ones
 * exponent encodes inf/NaN; otherwise (E4M3FN) only S.1111.111 is NaN and
 * there is no inf. */
typedef struct {
    int ebits, mbits, bias;
    bool ieee;
} fp_fmt;

static const fp_fmt *fmt_of(zf_dtype t) {
    static const fp_fmt f16 = {5, 10, 15, true}, bf16 = {8, 7, 127, true}, e4m3 = {4, 3, 7, false},
                        e5m2 = {5, 2, 15, true};
    switch (t) {
    case ZF_F16: return &f16;
    case ZF_BF16: return &bf16;
    case ZF_F8_E4M3: return &e4m3;
    case ZF_F8_E5M2: return &e5m2;
    default: return NULL;
    }
}

static double fp_max(const fp_fmt *f) {
    int emax_field = f->ieee ? (1 << f->ebits) - 2 : (1 << f->ebits) - 1;
    /* E4M3FN: the top mantissa pattern of the top binade is NaN */
    double top = f->ieee ? 2.0 - ldexp(1.0, -f->mbits) : 2.0 - ldexp(1.0, 1 - f->mbits);
    return top * ldexp(1.0, emax_field - f->bias);
}

static uint32_t fp_encode(const fp_fmt *f, double x) {
    uint32_t sign = signbit(x) ? 1u << (f->ebits + f->mbits) : 0;
    uint32_t inf_bits = ((1u << f->ebits) - 1) << f->mbits;
    uint32_t nan_bits = f->ieee ? inf_bits | (1u << (f->mbits - 1)) : (1u << (f->ebits + f->mbits)) - 1;
    if (isnan(x)) return sign | nan_bits;
    double a = fabs(x);
    if (isinf(a)) return sign | (f->ieee ? inf_bits : nan_bits);
    if (a == 0) return sign;
    int emin = 1 - f->bias, e;
    frexp(a, &e);
    e -= 1; /* a in [2^e, 2^(e+1)) */
    if (e < emin) e = emin;
    double q = ldexp(1.0, e - f->mbits); /* spacing of representable values here */
    double r = nearbyint(a / q) * q;     /* round to nearest, ties to even */
    if (r > fp_max(f)) return sign | (f->ieee ? inf_bits : nan_bits);
    if (r < ldexp(1.0, emin)) return sign | (uint32_t)(r / ldexp(1.0, emin - f->mbits)); /* subnormal */
    frexp(r, &e);
    e -= 1;
    uint32_t mant = (uint32_t)(ldexp(r, f->mbits - e) - ldexp(1.0, f->mbits));
    return sign | (uint32_t)(e + f->bias) << f->mbits | mant;
}

static double fp_decode(const fp_fmt *f, uint32_t b) {
    uint32_t emask = (1u << f->ebits) - 1, mmask = (1u << f->mbits) - 1;
    bool neg = (b >> (f->ebits + f->mbits)) & 1;
    uint32_t e = (b >> f->mbits) & emask, m = b & mmask;
    double v;
    if (f->ieee && e == emask)
        v = m ? NAN : INFINITY;
    else if (!f->ieee && e == emask && m == mmask)
        v = NAN;
    else if (e == 0)
        v = ldexp((double)m, 1 - f->bias - f->mbits);
    else
        v = ldexp((double)(m | (1u << f->mbits)), (int)e - f->bias - f->mbits);
    return neg ? -v : v;
}

bool h_is_float(zf_dtype t) { return t <= ZF_F8_E5M2; }
bool h_is_intlike(zf_dtype t) { return t >= ZF_I64 && t <= ZF_BOOL; }
bool h_large_dtype(zf_dtype t) { return t == ZF_F64 || t == ZF_F32 || t == ZF_BF16 || t == ZF_I32; }

const char *h_dtype_short(zf_dtype t) {
    static const char *names[] = {"f64", "f32", "f16", "bf16", "e4m3", "e5m2", "i64", "i32", "i16", "i8", "u8", "bool"};
    return t <= ZF_BOOL ? names[t] : zf_dtype_name(t);
}

double h_dtype_max(zf_dtype t) {
    if (t == ZF_F64) return 1.7976931348623157e308;
    if (t == ZF_F32) return 3.4028234663852886e38;
    return fmt_of(t) ? fp_max(fmt_of(t)) : 0;
}

double h_dtype_ulp(zf_dtype t) {
    if (t == ZF_F64) return 0x1p-52;
    if (t == ZF_F32) return 0x1p-23;
    return fmt_of(t) ? ldexp(1.0, -fmt_of(t)->mbits) : 0;
}

int64_t h_wrap_int(zf_dtype t, int64_t x) {
    switch (t) {
    case ZF_I64: return x;
    case ZF_I32: return (int32_t)(uint32_t)(uint64_t)x;
    case ZF_I16: return (int16_t)(uint16_t)(uint64_t)x;
    case ZF_I8: return (int8_t)(uint8_t)(uint64_t)x;
    case ZF_U8: return (uint8_t)(uint64_t)x;
    case ZF_BOOL: return x != 0;
    default: return x;
    }
}

void h_encode_int(zf_dtype t, int64_t x, void *dst) {
    int64_t w = h_wrap_int(t, x);
    switch (t) {
    case ZF_I64: memcpy(dst, &w, 8); break;
    case ZF_I32: { int32_t v = (int32_t)w; memcpy(dst, &v, 4); break; }
    case ZF_I16: { int16_t v = (int16_t)w; memcpy(dst, &v, 2); break; }
    case ZF_I8: { int8_t v = (int8_t)w; memcpy(dst, &v, 1); break; }
    case ZF_U8:
    case ZF_BOOL: { uint8_t v = (uint8_t)w; memcpy(dst, &v, 1); break; }
    default: h_encode(t, (double)x, dst); break;
    }
}

/* Float -> int: truncate toward zero, saturate, NaN -> 0. */
static int64_t float_to_int(zf_dtype t, double x) {
    if (isnan(x)) return 0;
    double lo, hi;
    switch (t) {
    case ZF_I64: lo = -0x1p63, hi = 0x1p63; break;
    case ZF_I32: lo = -2147483648.0, hi = 2147483648.0; break;
    case ZF_I16: lo = -32768.0, hi = 32768.0; break;
    case ZF_I8: lo = -128.0, hi = 128.0; break;
    default: lo = 0.0, hi = 256.0; break; /* u8 */
    }
    double r = trunc(x);
    if (r >= hi) return t == ZF_I64 ? INT64_MAX : (int64_t)hi - 1;
    if (r < lo) return t == ZF_I64 ? INT64_MIN : (int64_t)lo;
    return (int64_t)r;
}

void h_encode(zf_dtype t, double x, void *dst) {
    if (t == ZF_F64) {
        memcpy(dst, &x, 8);
    } else if (t == ZF_F32) {
        float f = (float)x;
        memcpy(dst, &f, 4);
    } else if (t == ZF_F16 || t == ZF_BF16) {
        uint16_t b = (uint16_t)fp_encode(fmt_of(t), x);
        memcpy(dst, &b, 2);
    } else if (t == ZF_F8_E4M3 || t == ZF_F8_E5M2) {
        uint8_t b = (uint8_t)fp_encode(fmt_of(t), x);
        memcpy(dst, &b, 1);
    } else if (t == ZF_BOOL) {
        uint8_t b = x != 0;
        memcpy(dst, &b, 1);
    } else {
        h_encode_int(t, float_to_int(t, x), dst);
    }
}

int64_t h_decode_int(zf_dtype t, const void *src) {
    switch (t) {
    case ZF_I64: { int64_t v; memcpy(&v, src, 8); return v; }
    case ZF_I32: { int32_t v; memcpy(&v, src, 4); return v; }
    case ZF_I16: { int16_t v; memcpy(&v, src, 2); return v; }
    case ZF_I8: { int8_t v; memcpy(&v, src, 1); return v; }
    case ZF_U8:
    case ZF_BOOL: { uint8_t v; memcpy(&v, src, 1); return v; } /* bool: raw byte, so 0xFF poison shows */
    default: return (int64_t)h_decode(t, src);
    }
}

double h_decode(zf_dtype t, const void *src) {
    if (t == ZF_F64) {
        double v;
        memcpy(&v, src, 8);
        return v;
    }
    if (t == ZF_F32) {
        float v;
        memcpy(&v, src, 4);
        return v;
    }
    if (t == ZF_F16 || t == ZF_BF16) {
        uint16_t b;
        memcpy(&b, src, 2);
        return fp_decode(fmt_of(t), b);
    }
    if (t == ZF_F8_E4M3 || t == ZF_F8_E5M2) return fp_decode(fmt_of(t), *(const uint8_t *)src);
    return (double)h_decode_int(t, src);
}

double h_quantize(zf_dtype t, double x) {
    unsigned char b[8];
    h_encode(t, x, b);
    return h_decode(t, b);
}

void h_convert(const h_arr *src, int64_t i, h_arr *out, int64_t o) {
    zf_dtype dst = out->dtype;
    if (h_is_intlike(dst)) {
        if (src->iv) {
            h_arr_set_int(out, o, src->iv[i]);
        } else {
            unsigned char b[8];
            h_encode(dst, src->v[i], b);
            h_arr_set_int(out, o, h_decode_int(dst, b));
        }
    } else if (src->iv) {
        /* int -> float rounds once from the exact integer */
        out->v[o] = dst == ZF_F32 ? (double)(float)src->iv[i] : h_quantize(dst, (double)src->iv[i]);
    } else {
        out->v[o] = h_quantize(dst, src->v[i]);
    }
}

/* ---- arrays ---- */
int64_t h_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

static void *xcalloc(size_t n, size_t sz) {
    void *p = calloc(n ? n : 1, sz);
    if (!p) {
        fprintf(stderr, "harness: out of memory\n");
        exit(2);
    }
    return p;
}

void h_arr_alloc(h_arr *a, zf_dtype dtype, int ndim, const int64_t *shape) {
    memset(a, 0, sizeof *a);
    a->dtype = dtype;
    a->ndim = ndim;
    for (int i = 0; i < ndim; i++) a->shape[i] = shape[i];
    a->n = h_numel(ndim, shape);
    a->v = xcalloc((size_t)a->n, sizeof(double));
    if (h_is_intlike(dtype)) a->iv = xcalloc((size_t)a->n, sizeof(int64_t));
}

void h_arr_want_mag(h_arr *a) {
    if (!a->mag) a->mag = xcalloc((size_t)a->n, sizeof(double));
}

void h_arr_free(h_arr *a) {
    free(a->v);
    free(a->iv);
    free(a->mag);
    memset(a, 0, sizeof *a);
}

void h_arr_set(h_arr *a, int64_t i, double x) {
    if (a->iv) { /* int/bool dtypes: x is an exact integer (bool: any nonzero) */
        int64_t w = a->dtype == ZF_BOOL ? x != 0 : h_wrap_int(a->dtype, (int64_t)x);
        a->iv[i] = w;
        a->v[i] = (double)w;
    } else {
        a->v[i] = x;
    }
}

void h_arr_set_int(h_arr *a, int64_t i, int64_t x) {
    if (a->iv) {
        a->iv[i] = h_wrap_int(a->dtype, x);
        a->v[i] = (double)a->iv[i];
    } else {
        a->v[i] = (double)x;
    }
}

void h_unravel(int64_t i, int ndim, const int64_t *shape, int64_t *idx) {
    for (int d = ndim - 1; d >= 0; d--) {
        idx[d] = shape[d] ? i % shape[d] : 0;
        i = shape[d] ? i / shape[d] : 0;
    }
}

int64_t h_ravel(int ndim, const int64_t *shape, const int64_t *idx) {
    int64_t k = 0;
    for (int d = 0; d < ndim; d++) k = k * shape[d] + idx[d];
    return k;
}

int64_t h_bcast_index(const h_arr *a, int ondim, const int64_t *oidx) {
    int64_t k = 0;
    for (int d = 0; d < a->ndim; d++) {
        int od = d + ondim - a->ndim;
        k = k * a->shape[d] + (a->shape[d] == 1 ? 0 : oidx[od]);
    }
    return k;
}

bool h_broadcast(int na, const int64_t *sa, int nb, const int64_t *sb, int *nout, int64_t *out) {
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int ia = i - (n - na), ib = i - (n - nb);
        int64_t x = ia >= 0 ? sa[ia] : 1, y = ib >= 0 ? sb[ib] : 1;
        if (x != y && x != 1 && y != 1) return false;
        out[i] = x == 1 ? y : x;
    }
    *nout = n;
    return true;
}

const char *h_shape_str(int ndim, const int64_t *shape, char *buf, size_t n) {
    size_t u = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && u < n; i++) u += (size_t)snprintf(buf + u, n - u, "%s%lld", i ? "," : "", (long long)shape[i]);
    if (u < n) snprintf(buf + u, n - u, "]");
    return buf;
}

/* ---- cases ---- */
void h_add(h_suite *s, const h_case *c) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        h_case *p = realloc(s->cases, s->cap * sizeof *p);
        if (!p) {
            fprintf(stderr, "harness: out of memory\n");
            exit(2);
        }
        s->cases = p;
    }
    s->cases[s->n++] = *c;
}

h_input h_in(zf_dtype dtype, int ndim, const int64_t *shape, h_kind kind, h_layout layout) {
    h_input in;
    memset(&in, 0, sizeof in);
    in.dtype = dtype;
    in.ndim = ndim;
    for (int i = 0; i < ndim; i++) in.shape[i] = shape[i];
    in.kind = kind;
    in.layout = ndim >= 2 || layout != H_L_TRANS ? layout : H_L_CONTIG;
    if (ndim == 0) in.layout = H_L_CONTIG;
    return in;
}

h_input h_in_index(zf_dtype dtype, int ndim, const int64_t *shape, int64_t hi) {
    h_input in = h_in(dtype, ndim, shape, H_V_INDEX, H_L_CONTIG);
    in.hi = hi;
    in.nograd = true;
    return in;
}

void h_label(h_case *c, const char *what) {
    size_t u = (size_t)snprintf(c->label, sizeof c->label, "%s %s", what, h_dtype_short(c->dtype));
    for (int k = 0; k < c->n_in && u < sizeof c->label; k++) {
        char b[64];
        const h_input *in = &c->in[k];
        u += (size_t)snprintf(c->label + u, sizeof c->label - u, "%s%s%s%s", k ? " " : " ",
                              h_shape_str(in->ndim, in->shape, b, sizeof b),
                              in->layout == H_L_TRANS ? "T" : (in->layout == H_L_STRIDED ? "S" : ""),
                              in->dtype != c->dtype ? h_dtype_short(in->dtype) : "");
    }
}

/* ---- inputs ---- */
static double draw_float(const h_input *s, h_rng *r, int64_t i) {
    static const double disc[] = {0.25, 0.5, 1.0, 1.5, 2.0};
    double sign = (h_rng_next(r) & 1) ? -1.0 : 1.0;
    switch (s->kind) {
    case H_V_POS: return h_rng_range(r, 0.1, 2.0);
    case H_V_DISCRETE: return sign * disc[h_rng_next(r) % 5];
    case H_V_BOOLISH: return h_rng_next(r) % 3 == 0 ? 0.0 : sign * h_rng_range(r, 0.1, 2.0);
    case H_V_PROD: return sign * h_rng_range(r, 0.5, 1.5);
    case H_V_LOG1P: return sign > 0 ? h_rng_range(r, 0.1, 2.0) : -h_rng_range(r, 0.1, 0.9);
    case H_V_INDEX: return (double)h_rng_int(r, 0, s->hi - 1);
    case H_V_LIST: return s->list[i % s->nlist];
    default: return sign * h_rng_range(r, 0.1, 2.0);
    }
}

static int64_t draw_int(const h_input *s, h_rng *r, int64_t i) {
    bool u8 = s->dtype == ZF_U8;
    if (s->dtype == ZF_BOOL) {
        if (s->kind == H_V_LIST) return s->ilist ? s->ilist[i % s->nlist] != 0 : s->list[i % s->nlist] != 0;
        return (int64_t)(h_rng_next(r) & 1);
    }
    switch (s->kind) {
    case H_V_POS: return h_rng_int(r, 1, 9);
    case H_V_DISCRETE: return u8 ? h_rng_int(r, 1, 3) : ((h_rng_next(r) & 1) ? 1 : -1) * h_rng_int(r, 1, 3);
    case H_V_BOOLISH: return h_rng_next(r) % 3 == 0 ? 0 : h_rng_int(r, 1, 9);
    case H_V_PROD: { /* mostly +-1, a quarter +-2: products of 60 stay far below 2^31 */
        int64_t m = h_rng_next(r) % 4 == 0 ? 2 : 1;
        return u8 ? m : ((h_rng_next(r) & 1) ? m : -m);
    }
    case H_V_INDEX: return h_rng_int(r, 0, s->hi - 1);
    case H_V_LIST: return s->ilist ? s->ilist[i % s->nlist] : (int64_t)s->list[i % s->nlist];
    default: {
        if (u8) return h_rng_int(r, 1, 18);
        int64_t v = h_rng_int(r, 1, 9);
        return (h_rng_next(r) & 1) ? -v : v;
    }
    }
}

/* Storage geometry for a layout: shape of the contiguous buffer and the
 * buffer position of logical element idx. */
static void layout_storage(const h_input *s, int64_t *sshape) {
    for (int i = 0; i < s->ndim; i++) sshape[i] = s->shape[i];
    if (s->layout == H_L_TRANS) {
        sshape[s->ndim - 1] = s->shape[s->ndim - 2];
        sshape[s->ndim - 2] = s->shape[s->ndim - 1];
    } else if (s->layout == H_L_STRIDED) {
        sshape[s->ndim - 1] = 2 * s->shape[s->ndim - 1] + 1;
    }
}

static int64_t layout_pos(const h_input *s, const int64_t *sshape, const int64_t *idx) {
    int64_t j[ZF_MAX_DIMS];
    for (int i = 0; i < s->ndim; i++) j[i] = idx[i];
    if (s->layout == H_L_TRANS) {
        j[s->ndim - 1] = idx[s->ndim - 2];
        j[s->ndim - 2] = idx[s->ndim - 1];
    } else if (s->layout == H_L_STRIDED) {
        j[s->ndim - 1] = 1 + 2 * idx[s->ndim - 1];
    }
    return h_ravel(s->ndim, sshape, j);
}

zf_tensor *h_make_input(zf_ctx *ctx, const h_input *s, h_rng *rng, h_arr *ref) {
    h_arr_alloc(ref, s->dtype, s->ndim, s->shape);
    int64_t sshape[ZF_MAX_DIMS];
    layout_storage(s, sshape);
    int64_t sn = h_numel(s->ndim, sshape);
    size_t es = zf_dtype_size(s->dtype);
    unsigned char *buf = xcalloc((size_t)sn, es);
    /* Filler for the storage gaps of strided layouts: values of the same kind. */
    for (int64_t k = 0; k < sn; k++) {
        if (h_is_float(s->dtype))
            h_encode(s->dtype, draw_float(s, rng, k), buf + k * (int64_t)es);
        else
            h_encode_int(s->dtype, draw_int(s, rng, k), buf + k * (int64_t)es);
    }
    int64_t idx[ZF_MAX_DIMS];
    for (int64_t i = 0; i < ref->n; i++) {
        h_unravel(i, s->ndim, s->shape, idx);
        unsigned char *p = buf + layout_pos(s, sshape, idx) * (int64_t)es;
        if (h_is_float(s->dtype)) {
            h_encode(s->dtype, draw_float(s, rng, i), p);
            ref->v[i] = h_decode(s->dtype, p);
        } else {
            h_encode_int(s->dtype, draw_int(s, rng, i), p);
            ref->iv[i] = h_decode_int(s->dtype, p);
            ref->v[i] = (double)ref->iv[i];
        }
    }
    zf_tensor *t = zf_from_data(ctx, s->dtype, s->ndim, sshape, buf);
    free(buf);
    if (!t) return NULL;
    if (s->layout == H_L_TRANS) return zf_transpose(ctx, t, -1, -2);
    if (s->layout == H_L_STRIDED) return zf_slice(ctx, t, -1, 1, sshape[s->ndim - 1], 2);
    return t;
}

zf_tensor *h_make_tensor(zf_ctx *ctx, zf_dtype dtype, const h_arr *vals) {
    size_t es = zf_dtype_size(dtype);
    unsigned char *buf = xcalloc((size_t)vals->n, es);
    for (int64_t i = 0; i < vals->n; i++) {
        if (vals->iv && h_is_intlike(dtype))
            h_encode_int(dtype, vals->iv[i], buf + i * (int64_t)es);
        else
            h_encode(dtype, vals->v[i], buf + i * (int64_t)es);
    }
    zf_tensor *t = zf_from_data(ctx, dtype, vals->ndim, vals->shape, buf);
    free(buf);
    return t;
}

/* ---- reading outputs through their strides ---- */
static const unsigned char *elem_ptr(const zf_tensor *t, const int64_t *idx) {
    int64_t off = t->offset;
    for (int d = 0; d < t->ndim; d++) off += idx[d] * t->stride[d];
    return (const unsigned char *)t->storage->data + off * (int64_t)zf_dtype_size(t->dtype);
}

void h_read_tensor(const zf_tensor *t, h_arr *a) {
    h_arr_alloc(a, t->dtype, t->ndim, t->shape);
    int64_t idx[ZF_MAX_DIMS];
    for (int64_t i = 0; i < a->n; i++) {
        h_unravel(i, t->ndim, t->shape, idx);
        const unsigned char *p = elem_ptr(t, idx);
        if (a->iv) {
            a->iv[i] = h_decode_int(t->dtype, p);
            a->v[i] = (double)a->iv[i];
        } else {
            a->v[i] = h_decode(t->dtype, p);
        }
    }
}

unsigned char *h_read_bytes(const zf_tensor *t, size_t *nbytes) {
    size_t es = zf_dtype_size(t->dtype);
    int64_t n = zf_numel(t);
    unsigned char *b = xcalloc((size_t)n, es);
    int64_t idx[ZF_MAX_DIMS];
    for (int64_t i = 0; i < n; i++) {
        h_unravel(i, t->ndim, t->shape, idx);
        memcpy(b + i * (int64_t)es, elem_ptr(t, idx), es);
    }
    *nbytes = (size_t)n * es;
    return b;
}
