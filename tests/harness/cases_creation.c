/* Creation cases: FILL (zf_full, zf_zeros, zf_ones, zf_scalar), ARANGE
 * (zf_arange with positive, fractional and negative steps, zf_linspace),
 * EYE (square, wide, tall), for every dtype each claims, in small, 0-dim and
 * > 100k-element shapes (multi-threaded generation).
 *
 * RAND / RANDN have no exact values to compare with; their check asserts:
 * the same (seed, stream) gives identical numbers, a different seed or
 * stream gives different ones, rand lies in [0, 1) in the output dtype,
 * and the moments (mean, variance, and for randn the mass within one sigma)
 * are those of U[0,1) / N(0,1). The runner's bit-for-bit comparison between
 * engines adds: same numbers whatever the thread count. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

enum { C_FULL, C_ZEROS, C_ONES, C_SCALAR, C_ARANGE, C_LINSPACE, C_EYE, C_RAND, C_RANDN };

/* c->i[0]: variant; c->i[1] = ndim, c->i[2..3] = shape (eye: n, m;
 * linspace: count); c->f: value / start, end, step. */
static int run_create(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    (void)in;
    zf_dtype t = c->dtype;
    int nd = (int)c->i[1];
    const int64_t *sh = &c->i[2];
    switch (c->i[0]) {
    case C_FULL: return h_one(out, zf_full(ctx, t, nd, sh, c->f[0]));
    case C_ZEROS: return h_one(out, zf_zeros(ctx, t, nd, sh));
    case C_ONES: return h_one(out, zf_ones(ctx, t, nd, sh));
    case C_SCALAR: return h_one(out, zf_scalar(ctx, t, c->f[0]));
    case C_ARANGE: return h_one(out, zf_arange(ctx, t, c->f[0], c->f[1], c->f[2]));
    case C_LINSPACE: return h_one(out, zf_linspace(ctx, t, c->f[0], c->f[1], sh[0]));
    case C_EYE: return h_one(out, zf_eye(ctx, t, sh[0], sh[1]));
    case C_RAND:
    case C_RANDN: {
        zf_tensor *(*fn)(zf_ctx *, zf_dtype, int, const int64_t *, uint64_t, uint64_t) =
            c->i[0] == C_RAND ? zf_rand : zf_randn;
        out[0] = fn(ctx, t, nd, sh, 42, 0);
        out[1] = fn(ctx, t, nd, sh, 42, 0); /* same seed and stream */
        out[2] = fn(ctx, t, nd, sh, 43, 0); /* another seed */
        out[3] = fn(ctx, t, nd, sh, 42, 1); /* another stream */
        return (out[0] && out[1] && out[2] && out[3]) ? 4 : 0;
    }
    default: return 0;
    }
}

/* Value x as stored in the case dtype (a cast from f64). */
static void put_value(h_arr *out, int64_t i, double x) {
    h_arr f = {0};
    h_arr_alloc(&f, ZF_F64, 0, NULL);
    f.v[0] = x;
    h_convert(&f, 0, out, i);
    h_arr_free(&f);
}

static void ref_create(const h_case *c, const h_arr *in, h_arr *out) {
    (void)in;
    int64_t n;
    switch (c->i[0]) {
    case C_FULL:
    case C_ZEROS:
    case C_ONES:
    case C_SCALAR: {
        double v = c->i[0] == C_ZEROS ? 0.0 : (c->i[0] == C_ONES ? 1.0 : c->f[0]);
        int nd = c->i[0] == C_SCALAR ? 0 : (int)c->i[1];
        h_arr_alloc(out, c->dtype, nd, &c->i[2]);
        for (int64_t i = 0; i < out->n; i++) put_value(out, i, v);
        return;
    }
    case C_ARANGE: /* start + i * step for i < ceil((end - start) / step) */
        n = (int64_t)ceil((c->f[1] - c->f[0]) / c->f[2]);
        h_arr_alloc(out, c->dtype, 1, (int64_t[]){n < 0 ? 0 : n});
        for (int64_t i = 0; i < out->n; i++) put_value(out, i, c->f[0] + (double)i * c->f[2]);
        return;
    case C_LINSPACE: /* n points from start to end inclusive, evenly spaced */
        n = c->i[2];
        h_arr_alloc(out, c->dtype, 1, &n);
        for (int64_t i = 0; i < n; i++)
            put_value(out, i, n == 1 ? c->f[0] : c->f[0] + (c->f[1] - c->f[0]) * (double)i / (double)(n - 1));
        return;
    case C_EYE: {
        int64_t rows = c->i[2], cols = c->i[3];
        h_arr_alloc(out, c->dtype, 2, (int64_t[]){rows, cols});
        for (int64_t i = 0; i < out->n; i++) put_value(out, i, i / cols == i % cols ? 1.0 : 0.0);
        return;
    }
    default: return;
    }
}

/* Random outputs: see the file comment for what is asserted. */
static bool check_random(const h_case *c, const h_arr *out, int n_out, char *msg, size_t msz) {
    bool uniform = c->i[0] == C_RAND;
    const h_arr *a = &out[0];
    if (n_out != 4 || a->dtype != c->dtype || a->ndim != (int)c->i[1]) {
        snprintf(msg, msz, "wrong outputs (dtype %s, %d dims)", zf_dtype_name(a->dtype), a->ndim);
        return false;
    }
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != c->i[2 + d]) {
            snprintf(msg, msz, "wrong shape");
            return false;
        }
    int64_t differ_seed = 0, differ_stream = 0, inside = 0;
    double sum = 0, sum2 = 0, xmax = 0;
    for (int64_t i = 0; i < a->n; i++) {
        double x = a->v[i];
        if (isnan(x) || (uniform && !(x >= 0 && x < 1))) {
            snprintf(msg, msz, "value %.9g at %lld is outside %s", x, (long long)i, uniform ? "[0, 1)" : "the reals");
            return false;
        }
        if (!(x == out[1].v[i])) {
            snprintf(msg, msz, "same seed and stream, different value at %lld: %g vs %g", (long long)i, x, out[1].v[i]);
            return false;
        }
        differ_seed += x != out[2].v[i];
        differ_stream += x != out[3].v[i];
        inside += fabs(x) < 1;
        sum += x;
        sum2 += x * x;
        xmax = fmax(xmax, fabs(x));
    }
    int64_t n = a->n;
    /* a narrow dtype has few levels: ask that a third of the values differ */
    if (n >= 16 && (differ_seed < n / 3 || differ_stream < n / 3)) {
        snprintf(msg, msz, "another seed/stream changed only %lld/%lld of %lld values", (long long)differ_seed,
                 (long long)differ_stream, (long long)n);
        return false;
    }
    if (n < 10000) return true; /* moments need many samples */
    double mean = sum / (double)n, var = sum2 / (double)n - mean * mean;
    bool narrow = c->dtype == ZF_F8_E4M3 || c->dtype == ZF_F8_E5M2;
    /* 120k samples: the standard error of the mean is ~0.003 (randn), 0.0008 (rand) */
    double want_m = uniform ? 0.5 : 0.0, want_v = uniform ? 1.0 / 12 : 1.0;
    double tol_m = uniform ? 0.005 : 0.015, tol_v = uniform ? 0.003 : 0.03;
    if (narrow) tol_m *= 2, tol_v *= 2;
    if (fabs(mean - want_m) > tol_m || fabs(var - want_v) > tol_v) {
        snprintf(msg, msz, "mean %.5f, variance %.5f; expected %.5f, %.5f", mean, var, want_m, want_v);
        return false;
    }
    /* normal shape: P(|x| < 1) = 0.6827; no absurd tails */
    if (!uniform && !narrow && (fabs((double)inside / (double)n - 0.6827) > 0.01 || xmax > 7)) {
        snprintf(msg, msz, "P(|x| < 1) = %.4f (expected 0.6827), max |x| = %.3g", (double)inside / (double)n, xmax);
        return false;
    }
    return true;
}

static void add(h_suite *s, zf_op op, zf_dtype t, int variant, int nd, const int64_t *shape, const double *f,
                bool large, const char *what) {
    h_case c = {0};
    c.op = c.trace_op = op;
    c.dtype = t;
    c.run = run_create;
    if (variant == C_RAND || variant == C_RANDN) {
        c.check = check_random;
        c.n_out = 4;
    } else {
        c.ref = ref_create;
    }
    c.i[0] = variant;
    c.i[1] = nd;
    for (int k = 0; k < nd && k < 2; k++) c.i[2 + k] = shape[k];
    for (int k = 0; k < 3 && f; k++) c.f[k] = f[k];
    c.flags = large ? H_LARGE : 0;
    h_label(&c, what);
    if (variant != C_ARANGE && variant != C_LINSPACE) { /* the shape (arange's follows from its range) */
        char b[64];
        size_t u = strlen(c.label);
        snprintf(c.label + u, sizeof c.label - u, " %s", h_shape_str(variant == C_SCALAR ? 0 : nd, shape, b, sizeof b));
    }
    h_add(s, &c);
}

void h_cases_creation(h_suite *s) {
    static const int64_t m45[2] = {4, 5}, big[2] = {300, 400};
    for (int ti = 0; ti <= ZF_BOOL; ti++) {
        zf_dtype t = (zf_dtype)ti;
        bool fl = h_is_float(t), large = h_large_dtype(t);
        /* fill: a value each dtype must round (floats) or hold (ints) */
        double v = fl ? 0.1 : (t == ZF_BOOL ? 1 : (t == ZF_U8 ? 200 : -7));
        add(s, ZF_OP_FILL, t, C_FULL, 2, m45, (double[]){v, 0, 0}, false, "full");
        add(s, ZF_OP_FILL, t, C_FULL, 0, m45, (double[]){v, 0, 0}, false, "full");
        add(s, ZF_OP_FILL, t, C_ZEROS, 2, m45, NULL, false, "zeros");
        add(s, ZF_OP_FILL, t, C_ONES, 2, m45, NULL, false, "ones");
        add(s, ZF_OP_FILL, t, C_SCALAR, 0, m45, (double[]){fl ? -2.75 : 3, 0, 0}, false, "scalar");
        if (large) add(s, ZF_OP_FILL, t, C_FULL, 2, big, (double[]){v, 0, 0}, true, "full");
        /* eye: square, wide, tall */
        add(s, ZF_OP_EYE, t, C_EYE, 2, (int64_t[]){3, 3}, NULL, false, "eye");
        add(s, ZF_OP_EYE, t, C_EYE, 2, (int64_t[]){3, 5}, NULL, false, "eye");
        add(s, ZF_OP_EYE, t, C_EYE, 2, (int64_t[]){5, 2}, NULL, false, "eye");
        if (large) add(s, ZF_OP_EYE, t, C_EYE, 2, (int64_t[]){400, 300}, NULL, true, "eye");
        if (t == ZF_BOOL) continue;
        /* arange / linspace */
        if (fl) {
            add(s, ZF_OP_ARANGE, t, C_ARANGE, 0, NULL, (double[]){0, 5, 0.5}, false, "arange(0,5,0.5)");
            add(s, ZF_OP_ARANGE, t, C_ARANGE, 0, NULL, (double[]){-1.5, 2.3, 0.25}, false, "arange(-1.5,2.3,0.25)");
            add(s, ZF_OP_ARANGE, t, C_ARANGE, 0, NULL, (double[]){10, 0, -1.5}, false, "arange(10,0,-1.5)");
            add(s, ZF_OP_ARANGE, t, C_LINSPACE, 1, (int64_t[]){11}, (double[]){0, 1, 0}, false, "linspace(0,1)");
            add(s, ZF_OP_ARANGE, t, C_LINSPACE, 1, (int64_t[]){7}, (double[]){2, -1, 0}, false, "linspace(2,-1)");
            if (large) add(s, ZF_OP_ARANGE, t, C_ARANGE, 0, NULL, (double[]){-3, 117000, 1}, true, "arange(-3,117000)");
            /* random */
            add(s, ZF_OP_RAND, t, C_RAND, 2, m45, NULL, false, "rand");
            add(s, ZF_OP_RAND, t, C_RAND, 0, m45, NULL, false, "rand");
            add(s, ZF_OP_RAND, t, C_RAND, 2, big, NULL, true, "rand");
            add(s, ZF_OP_RANDN, t, C_RANDN, 2, m45, NULL, false, "randn");
            add(s, ZF_OP_RANDN, t, C_RANDN, 0, m45, NULL, false, "randn");
            add(s, ZF_OP_RANDN, t, C_RANDN, 2, big, NULL, true, "randn");
        } else {
            bool u8 = t == ZF_U8;
            add(s, ZF_OP_ARANGE, t, C_ARANGE, 0, NULL, (double[]){u8 ? 1 : -5, 20, 3}, false, "arange(.,20,3)");
            add(s, ZF_OP_ARANGE, t, C_ARANGE, 0, NULL, (double[]){12, 0, -2}, false, "arange(12,0,-2)");
            add(s, ZF_OP_ARANGE, t, C_LINSPACE, 1, (int64_t[]){6}, (double[]){0, 10, 0}, false, "linspace(0,10)");
            if (large) add(s, ZF_OP_ARANGE, t, C_ARANGE, 0, NULL, (double[]){-3, 117000, 1}, true, "arange(-3,117000)");
        }
    }
}
