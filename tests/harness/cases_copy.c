/* CAST (zf_cast) and COPY (zf_copy_) between every pair of scalar dtypes.
 *
 * The expected value of every element comes from the harness's own codecs
 * (h_convert): floats round once to nearest even, float -> int truncates and
 * saturates with NaN -> 0, int -> int wraps like a C cast, bool is x != 0,
 * and the result must match exactly. Main cases use values every pair can
 * hold without saturating or wrapping (fractions, so truncation shows);
 * "cast-edge" cases add each source dtype's extremes: NaN, +-inf,
 * out-of-range values, int limits, an i64 that double rounding would get
 * wrong, subnormals, -0.
 *
 * zf_copy_ writes through a strided destination view of a poisoned buffer,
 * broadcasting its source: the view must hold the converted values and the
 * gaps between its elements must still hold the poison bytes. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* Values for main cases: within [-100, 127] so every signed target holds
 * their truncation; filtered to >= 0 when either side is unsigned/bool. */
static const double k_fvals[] = {0.5, -1.75, 3.25, -7.5, 12.0, 100.75, -99.5, 127.0, 0.3125, -0.3,
                                 42.0, 1.0, -1.0, 2.5, -2.5, 6.0, 9.875, -64.0, 0.125, 17.5};
static const int64_t k_ivals[] = {1, -2, 3, 7, -8, 100, -100, 127, 0, 42, -1, 5, 64, -64, 9, 13, 2, -128, 120, 11};
#define N_MAIN 20

/* Edge values per source kind (quantized/wrapped into the source dtype). */
static const double k_fedge[] = {NAN, INFINITY, -INFINITY, 1e6, -1e6, 300.5, -200.7, 70000.0, 500.0, -0.0,
                                 1e-8, 3e38, 1e300, -129.5, 255.9, 65504.0, 2147483648.0, -2147483904.0, 1e19,
                                 -1e19};
static const int64_t k_iedge[] = {INT64_MAX, INT64_MIN, (1LL << 62) + (1LL << 38) + 1, (1LL << 40) + 1, -2147483648LL,
                                  2147483647LL, 65535, 65536, 256, -129, 255, -1, 0, 32768, 16777217, -32769};
#define N_FEDGE (sizeof k_fedge / sizeof k_fedge[0])
#define N_IEDGE (sizeof k_iedge / sizeof k_iedge[0])

static bool unsigned_like(zf_dtype t) { return t == ZF_U8 || t == ZF_BOOL; }

/* ---- run / reference ---- */
/* c->i[0]: target dtype. */
static int run_cast(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    return h_one(out, zf_cast(ctx, in[0], (zf_dtype)c->i[0]));
}

static void ref_cast(const h_case *c, const h_arr *in, h_arr *out) {
    h_arr_alloc(out, (zf_dtype)c->i[0], in[0].ndim, in[0].shape);
    for (int64_t i = 0; i < out->n; i++) h_convert(&in[0], i, out, i);
}

/* Destination [R, L]: a fresh poisoned [R, 2L+1] buffer, viewed at columns
 * 1, 3, ..., 2L-1. Outputs: the view, then the whole buffer. */
static int run_copy(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    int64_t R = c->i[1], L = c->i[2];
    zf_tensor *buf = zf_empty(ctx, (zf_dtype)c->i[0], 2, (int64_t[]){R, 2 * L + 1});
    zf_tensor *dst = zf_slice(ctx, buf, 1, 1, 2 * L + 1, 2);
    if (!dst || zf_copy_(dst, in[0]) != ZF_OK) return 0;
    out[0] = dst;
    out[1] = buf;
    return 2;
}

static void ref_copy(const h_case *c, const h_arr *in, h_arr *out) {
    zf_dtype dt = (zf_dtype)c->i[0];
    int64_t R = c->i[1], L = c->i[2], idx[2];
    h_arr_alloc(&out[0], dt, 2, (int64_t[]){R, L});
    h_arr_alloc(&out[1], dt, 2, (int64_t[]){R, 2 * L + 1});
    /* poison: every byte 0xFF (NaN for floats, -1 / 255 for ints, raw 255 for bool) */
    unsigned char ff[8];
    memset(ff, 0xFF, sizeof ff);
    for (int64_t i = 0; i < out[1].n; i++) {
        out[1].v[i] = h_decode(dt, ff);
        if (out[1].iv) out[1].iv[i] = h_decode_int(dt, ff);
    }
    for (int64_t i = 0; i < out[0].n; i++) {
        h_unravel(i, 2, out[0].shape, idx);
        h_convert(&in[0], h_bcast_index(&in[0], 2, idx), &out[0], i);
        out[1].v[idx[0] * (2 * L + 1) + 1 + 2 * idx[1]] = out[0].v[i];
        if (out[1].iv) out[1].iv[idx[0] * (2 * L + 1) + 1 + 2 * idx[1]] = out[0].iv[i];
    }
}

/* ---- value lists ---- */
/* Main-case values for (src, dst): an int list for int/bool sources, else
 * floats; negatives dropped when either side cannot hold them. Written into
 * caller storage (N_MAIN entries max); returns the count. */
static int64_t main_values(zf_dtype src, zf_dtype dst, double *fv, int64_t *iv) {
    bool nonneg = unsigned_like(src) || unsigned_like(dst);
    int64_t n = 0;
    for (int k = 0; k < N_MAIN; k++) {
        if (h_is_intlike(src)) {
            int64_t x = k_ivals[k];
            if (nonneg && x < 0) continue;
            if (src == ZF_BOOL) x = x & 1;
            iv[n++] = x;
        } else {
            double x = k_fvals[k];
            if (nonneg && x < 0) continue;
            fv[n++] = x;
        }
    }
    return n;
}

static void set_list(h_input *in, const double *fv, const int64_t *iv, int64_t n) {
    in->kind = H_V_LIST;
    in->list = h_is_intlike(in->dtype) ? NULL : fv;
    in->ilist = h_is_intlike(in->dtype) ? iv : NULL;
    in->nlist = n;
}

/* Lists must outlive the suite: one slot per (src, dst) pair. */
static double g_fv[ZF_BOOL + 1][ZF_BOOL + 1][N_MAIN];
static int64_t g_iv[ZF_BOOL + 1][ZF_BOOL + 1][N_MAIN];

static void add_cast_cases(h_suite *s) {
    static const int64_t m45[2] = {4, 5}, big[2] = {300, 400};
    for (int src = 0; src <= ZF_BOOL; src++) {
        for (int dst = 0; dst <= ZF_BOOL; dst++) {
            double *fv = g_fv[src][dst];
            int64_t *iv = g_iv[src][dst];
            int64_t n = main_values((zf_dtype)src, (zf_dtype)dst, fv, iv);
            for (int k = 0; k < 4; k++) {
                /* [4,5], [4,5] transposed, 0-dim, and edges; large for a few pairs */
                h_case c = {0};
                c.op = ZF_OP_CAST;
                c.trace_op = ZF_OP_COPY;
                c.dtype = (zf_dtype)src;
                c.n_in = 1;
                c.in[0] = h_in((zf_dtype)src, k == 2 ? 0 : 2, m45, H_V_LIST, k == 1 ? H_L_TRANS : H_L_CONTIG);
                set_list(&c.in[0], fv, iv, n);
                if (k == 3) {
                    c.in[0] = h_in((zf_dtype)src, 1, (int64_t[]){h_is_intlike((zf_dtype)src) ? (int64_t)N_IEDGE : (int64_t)N_FEDGE},
                                   H_V_LIST, H_L_CONTIG);
                    set_list(&c.in[0], k_fedge, k_iedge, h_is_intlike((zf_dtype)src) ? (int64_t)N_IEDGE : (int64_t)N_FEDGE);
                }
                c.run = run_cast;
                c.ref = ref_cast;
                c.i[0] = dst;
                c.flags = H_EXACT;
                char what[48];
                snprintf(what, sizeof what, "%s->%s", k == 3 ? "cast-edge " : "cast ", h_dtype_short((zf_dtype)dst));
                h_label(&c, what);
                h_add(s, &c);
            }
            /* > 100k elements: the multi-threaded copy loop and its tiles */
            bool large = (src == ZF_F32 && (dst == ZF_F16 || dst == ZF_BF16 || dst == ZF_I32 || dst == ZF_F64)) ||
                         (dst == ZF_F32 && (src == ZF_F16 || src == ZF_BF16 || src == ZF_U8 || src == ZF_F8_E4M3)) ||
                         (src == ZF_I64 && dst == ZF_F64);
            if (large) {
                h_case c = {0};
                c.op = ZF_OP_CAST;
                c.trace_op = ZF_OP_COPY;
                c.dtype = (zf_dtype)src;
                c.n_in = 1;
                c.in[0] = h_in((zf_dtype)src, 2, big, H_V_SIGNED, H_L_TRANS);
                c.run = run_cast;
                c.ref = ref_cast;
                c.i[0] = dst;
                c.flags = H_EXACT | H_LARGE;
                char what[48];
                snprintf(what, sizeof what, "cast ->%s", h_dtype_short((zf_dtype)dst));
                h_label(&c, what);
                h_add(s, &c);
            }
        }
    }
}

static void add_copy_cases(h_suite *s) {
    for (int src = 0; src <= ZF_BOOL; src++) {
        for (int dst = 0; dst <= ZF_BOOL; dst++) {
            double *fv = g_fv[src][dst];
            int64_t *iv = g_iv[src][dst];
            int64_t n = main_values((zf_dtype)src, (zf_dtype)dst, fv, iv);
            /* a broadcast row [5]; a transposed [4,5] for same-dtype copies */
            for (int k = 0; k < (src == dst ? 2 : 1); k++) {
                h_case c = {0};
                c.op = c.trace_op = ZF_OP_COPY;
                c.dtype = (zf_dtype)src;
                c.n_in = 1;
                c.in[0] = k ? h_in((zf_dtype)src, 2, (int64_t[]){4, 5}, H_V_LIST, H_L_TRANS)
                            : h_in((zf_dtype)src, 1, (int64_t[]){5}, H_V_LIST, H_L_CONTIG);
                set_list(&c.in[0], fv, iv, n);
                c.run = run_copy;
                c.ref = ref_copy;
                c.n_out = 2;
                c.i[0] = dst;
                c.i[1] = 4;
                c.i[2] = 5;
                c.flags = H_EXACT;
                char what[48];
                snprintf(what, sizeof what, "copy_ ->%s strided", h_dtype_short((zf_dtype)dst));
                h_label(&c, what);
                h_add(s, &c);
            }
        }
    }
    /* large strided copy: [300, 400] transposed into a strided view */
    zf_dtype pairs[3][2] = {{ZF_F32, ZF_F32}, {ZF_F32, ZF_F16}, {ZF_I32, ZF_I64}};
    for (int k = 0; k < 3; k++) {
        h_case c = {0};
        c.op = c.trace_op = ZF_OP_COPY;
        c.dtype = pairs[k][0];
        c.n_in = 1;
        c.in[0] = h_in(pairs[k][0], 2, (int64_t[]){300, 400}, H_V_SIGNED, H_L_TRANS);
        c.run = run_copy;
        c.ref = ref_copy;
        c.n_out = 2;
        c.i[0] = pairs[k][1];
        c.i[1] = 300;
        c.i[2] = 400;
        c.flags = H_EXACT | H_LARGE;
        char what[48];
        snprintf(what, sizeof what, "copy_ ->%s strided", h_dtype_short(pairs[k][1]));
        h_label(&c, what);
        h_add(s, &c);
    }
}

/* CAST's gradient is the identity cast back: f64 -> f64 here; the f32
 * pass of the checker covers f32 leaves cast up to f64. */
static int run_cast_f64(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    (void)c;
    return h_one(out, zf_mul(ctx, zf_cast(ctx, in[0], ZF_F64), zf_cast(ctx, in[0], ZF_F64)));
}

static void add_grad_cases(h_suite *s) {
    h_case c = {0};
    c.op = ZF_OP_CAST;
    c.dtype = ZF_F64;
    c.n_in = 1;
    c.in[0] = h_in(ZF_F64, 2, (int64_t[]){2, 3}, H_V_SIGNED, H_L_CONTIG);
    c.run = run_cast_f64;
    c.flags = H_GRAD;
    h_label(&c, "grad cast(x)*cast(x)");
    h_add(s, &c);
}

void h_cases_copy(h_suite *s) {
    add_cast_cases(s);
    add_copy_cases(s);
    add_grad_cases(s);
}
