/* The op harness runner: forward checks on every engine, finite-difference
 * gradient checks, and the coverage table.
 *
 * Usage: test_op_harness [op-name-substring]. With a filter, only matching
 * cases run and missing coverage is not reported. Environment:
 * ZF_HARNESS_SEED (default 1) changes every random input;
 * ZF_HARNESS_SKIP_LARGE=1 skips the > 100k-element cases (reported);
 * ZF_HARNESS_DTYPES=f32,i32,... runs only cases of those dtypes;
 * ZF_HARNESS_VERBOSE=1 prints every failure (default: 4 per op). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ---- engines ---- */
typedef struct {
    const char *name;
    zf_engine *e;
    bool trace;   /* check that the trace recorded the op */
    bool bitwise; /* outputs must equal the cpu engine's bit for bit */
    bool owned;
    zf_ctx *ctx;  /* poisoned output context */
} h_engine;

#define H_MAX_ENGINES 4
static h_engine g_eng[H_MAX_ENGINES];
static int g_neng;

/* ---- per-op tallies ---- */
typedef struct {
    unsigned dtypes;
    int fwd_pass, fwd_total;
    int bw_pass, bw_total;
    int shown; /* failure lines printed */
} h_stat;

static h_stat g_stat[ZF_OP_COUNT];
static int g_pass, g_fail, g_skipped;
static uint64_t g_seed = 1;
static int g_show_per_op = 4;

static void report(const h_case *c, const char *engine, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(const h_case *c, const char *engine, const char *fmt, ...) {
    h_stat *st = &g_stat[c->op];
    if (st->shown++ >= g_show_per_op) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("FAIL %-12s %-44s %-5s %s\n", zf_op_name(c->op), c->label, engine, msg);
}

/* ---- tolerances ----
 * |got - ref| <= atol + rtol * (|ref| + mag). f64/f32 bound the compute
 * error; the narrow formats allow one unit in the last place of the output
 * (correct rounding is half of that, the rest covers compute in f32 landing
 * on the other side of a rounding boundary) plus a subnormal step. */
static void tolerance(zf_dtype t, double *rtol, double *atol) {
    switch (t) {
    case ZF_F64: *rtol = 1e-12, *atol = 1e-14; break;
    case ZF_F32: *rtol = 1e-5, *atol = 1e-6; break;
    case ZF_F16: *rtol = 0x1p-10 + 1e-5, *atol = 0x1p-24 + 1e-6; break;
    case ZF_BF16: *rtol = 0x1p-7 + 1e-5, *atol = 1e-6; break;
    case ZF_F8_E4M3: *rtol = 0x1p-3, *atol = 0x1p-9; break;
    case ZF_F8_E5M2: *rtol = 0x1p-2, *atol = 0x1p-16; break;
    default: *rtol = 0, *atol = 0; break;
    }
}

/* Compares decoded output got with the reference: dtype, shape, then every
 * value (ints and bools exactly, floats within tolerance, NaN only where the
 * reference is NaN). */
static bool compare(const h_case *c, const h_arr *ref, const h_arr *got, char *msg, size_t msz) {
    char b1[96], b2[96];
    if (got->dtype != ref->dtype) {
        snprintf(msg, msz, "dtype %s, expected %s", zf_dtype_name(got->dtype), zf_dtype_name(ref->dtype));
        return false;
    }
    bool same = got->ndim == ref->ndim;
    for (int d = 0; same && d < got->ndim; d++) same = got->shape[d] == ref->shape[d];
    if (!same) {
        snprintf(msg, msz, "shape %s, expected %s", h_shape_str(got->ndim, got->shape, b1, sizeof b1),
                 h_shape_str(ref->ndim, ref->shape, b2, sizeof b2));
        return false;
    }
    double rtol, atol;
    tolerance(ref->dtype, &rtol, &atol);
    double scale = c->tol_scale > 0 ? c->tol_scale : 1.0;
    int64_t bad = 0, first = -1;
    double worst = 0;
    for (int64_t i = 0; i < ref->n; i++) {
        bool ok;
        double err = 0;
        if (ref->iv) {
            ok = got->iv[i] == ref->iv[i];
        } else {
            double r = ref->v[i], g = got->v[i];
            if (isnan(r) || isnan(g)) {
                ok = isnan(r) && isnan(g);
            } else if (isinf(r) || isinf(g)) {
                ok = r == g;
            } else {
                double lim = (atol + rtol * (fabs(r) + (ref->mag ? ref->mag[i] : 0))) * scale;
                if (c->flags & H_EXACT) lim = 0;
                err = fabs(g - r);
                ok = err <= lim;
                if (!ok) worst = fmax(worst, lim > 0 ? err / lim : INFINITY);
            }
        }
        if (!ok) {
            if (first < 0) first = i;
            bad++;
        }
    }
    if (bad) {
        int64_t idx[ZF_MAX_DIMS];
        h_unravel(first, ref->ndim, ref->shape, idx);
        const char *why = worst > 0 ? " (beyond tolerance)" : "";
        if (!ref->iv && isnan(got->v[first]) && !isnan(ref->v[first])) why = " (NaN: never written, or computed)";
        snprintf(msg, msz, "%lld/%lld wrong; first at %s: got %.9g, expected %.9g%s", (long long)bad,
                 (long long)ref->n, h_shape_str(ref->ndim, idx, b1, sizeof b1), got->v[first], ref->v[first], why);
        return false;
    }
    return true;
}

static bool trace_has(const zf_engine *e, zf_op op) {
    for (size_t k = 0; k < zf_trace_count(e); k++) {
        const zf_trace_record *r = zf_trace_get(e, k);
        if (r->op == op && r->status == ZF_OK) return true;
    }
    return false;
}

static int n_outputs(const h_case *c) { return c->n_out > 0 ? c->n_out : 1; }

/* ---- forward ---- */
static void run_forward(const h_case *c, uint64_t case_seed, zf_ctx *in_ctx) {
    h_stat *st = &g_stat[c->op];
    st->dtypes |= H_DT(c->dtype);
    h_rng rng = {case_seed};
    h_arr in_ref[H_MAX_IN] = {{0}};
    zf_tensor *in[H_MAX_IN] = {0};
    bool inputs_ok = true;
    for (int k = 0; k < c->n_in; k++) {
        in[k] = h_make_input(in_ctx, &c->in[k], &rng, &in_ref[k]);
        if (!in[k]) inputs_ok = false;
    }
    int n_out = n_outputs(c);
    h_arr ref[H_MAX_OUT] = {{0}};
    if (inputs_ok && c->ref) c->ref(c, in_ref, ref);

    unsigned char *cpu_bytes[H_MAX_OUT] = {0};
    size_t cpu_nbytes[H_MAX_OUT] = {0};
    for (int ei = 0; ei < g_neng; ei++) {
        h_engine *E = &g_eng[ei];
        st->fwd_total++;
        bool ok = true;
        char msg[400] = "";
        zf_ctx_reset(E->ctx);
        if (E->trace) zf_trace_clear(E->e);
        zf_clear_error();
        zf_tensor *out[H_MAX_OUT] = {0};
        int got_n = inputs_ok ? c->run(E->ctx, in, c, out) : 0;
        if (!inputs_ok) {
            ok = false;
            snprintf(msg, sizeof msg, "could not make inputs: %s", zf_last_error());
        } else if (got_n != n_out) {
            ok = false;
            snprintf(msg, sizeof msg, "%s (%d outputs, expected %d)",
                     zf_last_error()[0] ? zf_last_error() : "op failed", got_n, n_out);
        }
        for (int k = 0; ok && k < n_out; k++) {
            if (!out[k]) {
                ok = false;
                snprintf(msg, sizeof msg, "output %d is NULL: %s", k, zf_last_error());
                break;
            }
            if (!c->check) { /* (a check hook sees all outputs at once, below) */
                h_arr got;
                h_read_tensor(out[k], &got);
                ok = compare(c, &ref[k], &got, msg, sizeof msg);
                h_arr_free(&got);
            }
            /* Views must not copy. */
            if (ok && (c->flags & H_SHARES) && out[k]->storage != in[0]->storage) {
                ok = false;
                snprintf(msg, sizeof msg, "output %d is a copy, expected a view of input 0", k);
            }
            /* Same inputs, same bits, whatever the engine and thread count. */
            size_t nb;
            unsigned char *bytes = h_read_bytes(out[k], &nb);
            if (ei == 0) {
                cpu_bytes[k] = bytes;
                cpu_nbytes[k] = nb;
            } else {
                if (ok && E->bitwise && cpu_bytes[k] &&
                    (nb != cpu_nbytes[k] || memcmp(bytes, cpu_bytes[k], nb) != 0)) {
                    ok = false;
                    snprintf(msg, sizeof msg, "output %d differs bitwise from engine cpu (determinism)", k);
                }
                free(bytes);
            }
        }
        if (ok && c->check) {
            h_arr got[H_MAX_OUT];
            for (int k = 0; k < n_out; k++) h_read_tensor(out[k], &got[k]);
            ok = c->check(c, got, n_out, msg, sizeof msg);
            for (int k = 0; k < n_out; k++) h_arr_free(&got[k]);
        }
        if (ok && E->trace && c->trace_op != ZF_OP_COUNT && !trace_has(E->e, c->trace_op)) {
            ok = false;
            snprintf(msg, sizeof msg, "the trace engine recorded no %s", zf_op_name(c->trace_op));
        }
        if (ok) {
            st->fwd_pass++;
            g_pass++;
        } else {
            g_fail++;
            report(c, E->name, "%s", msg);
        }
    }
    for (int k = 0; k < H_MAX_OUT; k++) {
        free(cpu_bytes[k]);
        h_arr_free(&ref[k]);
    }
    for (int k = 0; k < c->n_in; k++) h_arr_free(&in_ref[k]);
    zf_ctx_reset(in_ctx);
}

/* ---- gradients ----
 * loss = sum_k sum(out_k * w_k) with fixed random weights w_k. zf_backward
 * (grad_root = w_k) gives dloss/dx for every float leaf; central differences
 * (loss(x + e) - loss(x - e)) / 2e in f64 must agree per element. */
#define FD_EPS 1e-6

typedef struct {
    zf_ctx *leaves, *fwd, *tmp;
} grad_ctxs;

/* loss with grad mode off; NAN when the op fails. */
static double fd_loss(const h_case *c, zf_tensor **in, const h_arr *w, int n_out, zf_ctx *ctx) {
    zf_ctx_reset(ctx);
    bool prev = zf_set_grad_enabled(false);
    zf_tensor *out[H_MAX_OUT] = {0};
    int n = c->run(ctx, in, c, out);
    zf_set_grad_enabled(prev);
    if (n != n_out) return NAN;
    double L = 0;
    for (int k = 0; k < n_out; k++) {
        h_arr o;
        h_read_tensor(out[k], &o);
        for (int64_t i = 0; i < o.n && i < w[k].n; i++) L += o.v[i] * w[k].v[i];
        h_arr_free(&o);
    }
    return L;
}

/* Builds the leaves: float inputs as contiguous `fdt` tensors (requires_grad
 * unless nograd), other inputs as specified. */
static bool make_leaves(const h_case *c, const h_arr *vals, zf_dtype fdt, zf_ctx *ctx, zf_tensor **in) {
    for (int k = 0; k < c->n_in; k++) {
        bool fl = h_is_float(c->in[k].dtype);
        in[k] = h_make_tensor(ctx, fl ? fdt : c->in[k].dtype, &vals[k]);
        if (!in[k]) return false;
        if (fl && !c->in[k].nograd && zf_requires_grad(in[k], true) != ZF_OK) return false;
    }
    return true;
}

/* Runs forward + backward; returns false with msg on failure. */
static bool autograd(const h_case *c, zf_tensor **in, h_arr *w, int n_out, grad_ctxs *g, char *msg, size_t msz) {
    zf_ctx_reset(g->fwd);
    zf_ctx_reset(g->tmp);
    zf_tensor *out[H_MAX_OUT] = {0};
    zf_clear_error();
    int n = c->run(g->fwd, in, c, out);
    if (n != n_out) {
        snprintf(msg, msz, "forward failed: %s", zf_last_error());
        return false;
    }
    for (int k = 0; k < n_out; k++) {
        if (!w[k].v) {
            /* weights: +-U[0.5, 1.5], fixed per case */
            h_rng r = {0x5EEDull + (uint64_t)k};
            h_arr_alloc(&w[k], ZF_F64, out[k]->ndim, out[k]->shape);
            for (int64_t i = 0; i < w[k].n; i++)
                w[k].v[i] = ((h_rng_next(&r) & 1) ? -1 : 1) * h_rng_range(&r, 0.5, 1.5);
        }
        zf_tensor *wt = h_make_tensor(g->fwd, out[k]->dtype, &w[k]);
        if (!wt || !out[k]->requires_grad || zf_backward(g->tmp, out[k], wt) != ZF_OK) {
            snprintf(msg, msz, "backward failed: %s", out[k]->requires_grad ? zf_last_error() : "output has no grad_fn");
            return false;
        }
    }
    return true;
}

/* Central differences for every element of leaf k against its autograd
 * gradient: 1e-6 relative, with a floor relative to the largest component
 * (the rounding error of a difference quotient scales with the loss, not
 * with the element). */
static bool fd_compare(const h_case *c, zf_tensor **in, int k, const h_arr *w, int n_out, grad_ctxs *g, char *msg,
                       size_t msz) {
    if (!in[k]->grad) {
        snprintf(msg, msz, "input %d got no gradient", k);
        return false;
    }
    h_arr ad;
    h_read_tensor(in[k]->grad, &ad);
    int64_t n = zf_numel(in[k]);
    bool ok = ad.dtype == ZF_F64 && ad.n == n;
    if (!ok)
        snprintf(msg, msz, "input %d: gradient is %s with %lld elements, expected f64 with %lld", k,
                 zf_dtype_name(ad.dtype), (long long)ad.n, (long long)n);
    double *x = zf_data(in[k]);
    double *fd = calloc((size_t)n + 1, sizeof *fd);
    double gmax = 0;
    for (int64_t i = 0; ok && i < n; i++) {
        double x0 = x[i];
        x[i] = x0 + FD_EPS;
        double lp = fd_loss(c, in, w, n_out, g->tmp);
        x[i] = x0 - FD_EPS;
        double lm = fd_loss(c, in, w, n_out, g->tmp);
        x[i] = x0;
        fd[i] = (lp - lm) / (2 * FD_EPS);
        gmax = fmax(gmax, fabs(fd[i]));
    }
    for (int64_t i = 0; ok && i < n; i++) {
        double lim = 1e-6 * fabs(fd[i]) + 1e-7 * gmax + 1e-9;
        if (!(fabs(ad.v[i] - fd[i]) <= lim)) {
            ok = false;
            int64_t idx[ZF_MAX_DIMS];
            char b[96];
            h_unravel(i, in[k]->ndim, in[k]->shape, idx);
            snprintf(msg, msz, "input %d at %s: autograd %.12g, finite difference %.12g", k,
                     h_shape_str(in[k]->ndim, idx, b, sizeof b), ad.v[i], fd[i]);
        }
    }
    free(fd);
    h_arr_free(&ad);
    return ok;
}

/* The same op on f32 leaves: every gradient must come back in f32 and agree
 * with the f64 autograd gradient to f32 compute accuracy. */
static bool f32_grads(const h_case *c, const h_arr *vals, zf_tensor **in64, h_arr *w, int n_out, grad_ctxs *g,
                      char *msg, size_t msz) {
    zf_ctx *l32 = zf_ctx_new(NULL);
    zf_tensor *in[H_MAX_IN] = {0};
    bool ok = make_leaves(c, vals, ZF_F32, l32, in);
    if (!ok) snprintf(msg, msz, "could not make f32 leaves: %s", zf_last_error());
    if (ok) ok = autograd(c, in, w, n_out, g, msg, msz);
    for (int k = 0; ok && k < c->n_in; k++) {
        if (!in[k]->requires_grad) continue;
        if (!in[k]->grad || in[k]->grad->dtype != ZF_F32) {
            snprintf(msg, msz, "f32 input %d: gradient is %s, expected f32", k,
                     in[k]->grad ? zf_dtype_name(in[k]->grad->dtype) : "missing");
            ok = false;
            break;
        }
        h_arr g32, g64;
        h_read_tensor(in[k]->grad, &g32);
        h_read_tensor(in64[k]->grad, &g64);
        double gmax = 0;
        for (int64_t i = 0; i < g64.n; i++) gmax = fmax(gmax, fabs(g64.v[i]));
        for (int64_t i = 0; ok && i < g64.n; i++) {
            if (!(fabs(g32.v[i] - g64.v[i]) <= 1e-4 * (fabs(g64.v[i]) + gmax) + 1e-6)) {
                ok = false;
                snprintf(msg, msz, "f32 input %d element %lld: gradient %.9g, f64 gives %.9g", k, (long long)i,
                         g32.v[i], g64.v[i]);
            }
        }
        h_arr_free(&g32);
        h_arr_free(&g64);
    }
    zf_ctx_free(l32);
    return ok;
}

/* Returns false when the op has no backward rule (n/a). */
static bool run_grad(const h_case *c, uint64_t case_seed, grad_ctxs *g) {
    h_stat *st = &g_stat[c->op];
    st->dtypes |= H_DT(ZF_F64);
    if (!zf_op_has_backward(c->op)) return false;
    st->bw_total++;
    char msg[400] = "";
    bool ok = true;
    h_rng rng = {case_seed};
    h_arr vals[H_MAX_IN] = {{0}}, w[H_MAX_OUT] = {{0}};
    zf_tensor *in[H_MAX_IN] = {0};
    int n_out = n_outputs(c);
    /* values: float inputs drawn as f64, contiguous */
    zf_ctx_reset(g->leaves);
    for (int k = 0; k < c->n_in; k++) {
        h_input spec = c->in[k];
        spec.layout = H_L_CONTIG;
        if (h_is_float(spec.dtype)) spec.dtype = ZF_F64;
        if (!h_make_input(g->leaves, &spec, &rng, &vals[k])) ok = false;
    }
    zf_ctx_reset(g->leaves);
    if (ok && !make_leaves(c, vals, ZF_F64, g->leaves, in)) {
        ok = false;
        snprintf(msg, sizeof msg, "could not make leaves: %s", zf_last_error());
    }
    if (ok) ok = autograd(c, in, w, n_out, g, msg, sizeof msg);
    for (int k = 0; ok && k < c->n_in; k++)
        if (in[k]->requires_grad) ok = fd_compare(c, in, k, w, n_out, g, msg, sizeof msg);
    if (ok) ok = f32_grads(c, vals, in, w, n_out, g, msg, sizeof msg);
    if (ok) {
        st->bw_pass++;
        g_pass++;
    } else {
        g_fail++;
        report(c, "grad", "%s", msg);
    }
    for (int k = 0; k < H_MAX_IN; k++) h_arr_free(&vals[k]);
    for (int k = 0; k < H_MAX_OUT; k++) h_arr_free(&w[k]);
    return true;
}

/* ---- coverage table ---- */
static void dtype_list(unsigned mask, char *buf, size_t n) {
    size_t u = 0;
    buf[0] = '\0';
    if ((mask & H_ALL) == H_ALL) {
        snprintf(buf, n, "all scalar (12)");
        return;
    }
    for (int t = 0; t <= ZF_BOOL && u < n; t++)
        if (mask & H_DT(t)) u += (size_t)snprintf(buf + u, n - u, "%s%s", u ? "," : "", h_dtype_short((zf_dtype)t));
}

static void print_table(bool filtered) {
    printf("\n%-13s | %-48s | %-16s | %s\n", "op", "dtypes tested", "forward", "backward");
    printf("--------------+--------------------------------------------------+------------------+-----------\n");
    for (int op = 0; op < ZF_OP_COUNT; op++) {
        h_stat *st = &g_stat[op];
        if (filtered && st->fwd_total == 0 && st->bw_total == 0) continue;
        char dts[160], fwd[48], bwd[48];
        dtype_list(st->dtypes, dts, sizeof dts);
        bool missing = st->fwd_total == 0;
        if (missing) {
            snprintf(fwd, sizeof fwd, "MISSING");
            if (!filtered) g_fail++;
        } else {
            snprintf(fwd, sizeof fwd, "%s%d/%d", st->fwd_pass == st->fwd_total ? "" : "FAIL ", st->fwd_pass,
                     st->fwd_total);
        }
        if (!zf_op_has_backward((zf_op)op)) {
            snprintf(bwd, sizeof bwd, "n/a");
        } else if (st->bw_total == 0) {
            snprintf(bwd, sizeof bwd, "MISSING");
            if (!filtered) g_fail++;
        } else {
            snprintf(bwd, sizeof bwd, "%s %d/%d", st->bw_pass == st->bw_total ? "ok" : "FAIL", st->bw_pass,
                     st->bw_total);
        }
        printf("%-13s | %-48s | %-16s | %s\n", zf_op_name((zf_op)op), missing ? "-" : dts, fwd, bwd);
    }
}

/* ---- main ---- */
static void add_engine(const char *name, zf_engine *e, bool trace, bool bitwise, bool owned) {
    if (!e) return;
    h_engine *E = &g_eng[g_neng++];
    E->name = name;
    E->e = e;
    E->trace = trace;
    E->bitwise = bitwise;
    E->owned = owned;
    E->ctx = zf_ctx_new(e);
    zf_ctx_set_poison(E->ctx, true);
}

int main(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : NULL;
    const char *seed_env = getenv("ZF_HARNESS_SEED");
    if (seed_env) g_seed = strtoull(seed_env, NULL, 10);
    const char *skip_env = getenv("ZF_HARNESS_SKIP_LARGE");
    bool skip_large = skip_env && skip_env[0] == '1';
    const char *verbose_env = getenv("ZF_HARNESS_VERBOSE");
    if (verbose_env && verbose_env[0] == '1') g_show_per_op = 1 << 30;
    unsigned dtype_mask = H_ALL;
    const char *dt_env = getenv("ZF_HARNESS_DTYPES");
    if (dt_env) {
        dtype_mask = 0;
        char buf[256];
        snprintf(buf, sizeof buf, "%s", dt_env);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            zf_dtype t = zf_dtype_from_name(tok);
            for (int k = 0; k <= ZF_BOOL; k++)
                if (strcmp(tok, h_dtype_short((zf_dtype)k)) == 0) t = (zf_dtype)k;
            if (t <= ZF_BOOL) dtype_mask |= H_DT(t);
        }
    }
    bool filtered = filter != NULL || dtype_mask != H_ALL;

    add_engine("cpu", zf_cpu_engine(), false, false, false);
    add_engine("trace", zf_trace_engine_new(zf_cpu_engine()), true, true, true);
    add_engine("cpu1", zf_cpu_engine_new(1), false, true, true);
    zf_engine *blas = zf_blas_engine_new(0); /* NULL when no OpenBLAS is installed */
    add_engine("blas", blas, false, false, true);
    printf("op harness: engines");
    for (int i = 0; i < g_neng; i++) printf(" %s", g_eng[i].name);
    printf("%s; seed %llu\n", blas ? "" : " (blas engine absent)", (unsigned long long)g_seed);

    h_suite s = {0};
    h_cases_creation(&s);
    h_cases_views(&s);
    h_cases_copy(&s);
    h_cases_elementwise(&s);
    h_cases_reduce(&s);
    h_cases_linalg(&s);
    h_cases_index(&s);
    h_cases_nn(&s);
    h_cases_llm(&s);

    zf_ctx *in_ctx = zf_ctx_new(NULL);
    grad_ctxs g = {zf_ctx_new(NULL), zf_ctx_new(NULL), zf_ctx_new(NULL)};
    size_t n_grad = 0, n_grad_na = 0, n_fwd = 0;
    for (size_t i = 0; i < s.n; i++) {
        const h_case *c = &s.cases[i];
        if (filter && !strstr(zf_op_name(c->op), filter)) continue;
        if (!(dtype_mask & H_DT(c->dtype))) continue;
        uint64_t case_seed = g_seed * 0x9E3779B97F4A7C15ull + i;
        if ((c->flags & H_LARGE) && skip_large) {
            g_skipped++;
            continue;
        }
        if (c->flags & H_GRAD) {
            if (run_grad(c, case_seed, &g)) n_grad++;
            else n_grad_na++;
        } else {
            run_forward(c, case_seed, in_ctx);
            n_fwd++;
        }
    }
    print_table(filtered);
    printf("\n%zu forward cases x %d engines; %zu gradient cases (+%zu n/a: op without a backward rule)\n", n_fwd,
           g_neng, n_grad, n_grad_na);
    if (g_skipped)
        printf("SKIPPED %d large (> 100k element) cases (ZF_HARNESS_SKIP_LARGE=1); not counted as passes\n",
               g_skipped);
    printf("%d passed, %d failed\n", g_pass, g_fail);

    zf_ctx_free(in_ctx);
    zf_ctx_free(g.leaves);
    zf_ctx_free(g.fwd);
    zf_ctx_free(g.tmp);
    for (int i = 0; i < g_neng; i++) {
        zf_ctx_free(g_eng[i].ctx);
        if (g_eng[i].owned) zf_engine_free(g_eng[i].e);
    }
    free(s.cases);
    return g_fail ? 1 : 0;
}
