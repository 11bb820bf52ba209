/* Joining, splitting and indexing ops (cat, stack, split, chunk, gather,
 * scatter_add, index_select, index_add, embedding, tril, triu):
 *   - every op against a scalar f64 reference on random data, every scalar
 *     dtype, contiguous / permuted / strided inputs, size-0 dims, single
 *     elements and 0-dim tensors;
 *   - bad inputs (status and message);
 *   - multi-threaded runs on a 4-thread engine, scatter_add bitwise equal to
 *     a 1-thread engine, no write before the index check;
 *   - gradients against central finite differences in f64. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zf_test.h"

/* ---------- random numbers (xorshift64, fixed seed) ---------- */
static uint64_t g_rng = 0x853c49e6748fea9bULL;
static uint64_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}
static int64_t rnd_int(int64_t n) { return n > 0 ? (int64_t)(rnd() % (uint64_t)n) : 0; }
static double rnd_unif(void) { return (double)(rnd() >> 11) * 0x1p-53; }

static const zf_dtype k_all_dtypes[] = {ZF_F64, ZF_F32, ZF_F16, ZF_BF16, ZF_F8_E4M3, ZF_F8_E5M2,
                                        ZF_I64, ZF_I32, ZF_I16, ZF_I8,   ZF_U8,      ZF_BOOL};
#define N_DTYPES ((int)(sizeof k_all_dtypes / sizeof k_all_dtypes[0]))

/* ---------- row-major helpers ---------- */
static int64_t numel_of(int nd, const int64_t *sh) {
    int64_t n = 1;
    for (int i = 0; i < nd; i++) n *= sh[i];
    return n;
}
static void unravel(int64_t lin, int nd, const int64_t *sh, int64_t *c) {
    for (int i = nd - 1; i >= 0; i--) {
        c[i] = sh[i] ? lin % sh[i] : 0;
        lin = sh[i] ? lin / sh[i] : 0;
    }
}
static int64_t ravel(int nd, const int64_t *sh, const int64_t *c) {
    int64_t l = 0;
    for (int i = 0; i < nd; i++) l = l * sh[i] + c[i];
    return l;
}
static double *alloc_f64(int64_t n) { return calloc((size_t)(n > 0 ? n : 1), sizeof(double)); }

/* All values of t in row-major order (caller frees); NULL t gives NULL. */
static double *values_of(const zf_tensor *t) {
    if (!t) return NULL;
    double *v = alloc_f64(zf_numel(t));
    if (zf_to_f64_buffer(t, v) != ZF_OK) {
        free(v);
        return NULL;
    }
    return v;
}

/* ---------- test tensors ---------- */
/* vals (row-major) as dtype dt, laid out as: 0 contiguous; 1 reversed
 * strides (a permuted copy viewed back); 2 every other element along the last
 * dim of a wider buffer, at offset 1. 1-d tensors use 2 for 1. */
static zf_tensor *make_tensor(zf_ctx *ctx, zf_dtype dt, int nd, const int64_t *sh, const double *vals, int layout) {
    zf_tensor *c = zf_cast(ctx, zf_from_data(ctx, ZF_F64, nd, sh, vals), dt);
    if (!c || nd == 0 || layout == 0) return c;
    if (layout == 1 && nd >= 2) {
        int perm[ZF_MAX_DIMS];
        for (int i = 0; i < nd; i++) perm[i] = nd - 1 - i;
        return zf_permute(ctx, zf_contiguous(ctx, zf_permute(ctx, c, perm)), perm);
    }
    int64_t wsh[ZF_MAX_DIMS];
    memcpy(wsh, sh, sizeof(int64_t) * (size_t)nd);
    wsh[nd - 1] = 2 * sh[nd - 1] + 1;
    zf_tensor *w = zf_full(ctx, dt, nd, wsh, 3);
    zf_tensor *v = zf_slice(ctx, w, nd - 1, 1, wsh[nd - 1], 2);
    if (!v || zf_copy_(v, c) != ZF_OK) return NULL;
    return v;
}

static double rnd_value(zf_dtype dt) {
    if (dt == ZF_BOOL) return (double)rnd_int(2);
    if (dt == ZF_U8) return (double)rnd_int(10);
    if (zf_dtype_is_int(dt)) return (double)(rnd_int(19) - 9);
    double v = rnd_unif() * 4 - 2;
    return v == 0 ? 0.5 : v;
}

static zf_tensor *rand_tensor(zf_ctx *ctx, zf_dtype dt, int nd, const int64_t *sh, int layout) {
    int64_t n = numel_of(nd, sh);
    double *v = alloc_f64(n);
    for (int64_t i = 0; i < n; i++) v[i] = rnd_value(dt);
    zf_tensor *t = make_tensor(ctx, dt, nd, sh, v, layout);
    free(v);
    return t;
}

/* Index tensor of dtype it with values in [0, bound). */
static zf_tensor *rand_index(zf_ctx *ctx, zf_dtype it, int nd, const int64_t *sh, int64_t bound, int layout) {
    int64_t n = numel_of(nd, sh);
    double *v = alloc_f64(n);
    for (int64_t i = 0; i < n; i++) v[i] = (double)rnd_int(bound);
    zf_tensor *t = make_tensor(ctx, it, nd, sh, v, layout);
    free(v);
    return t;
}

static void rand_shape(int nd, int64_t lo, int64_t hi, int64_t *sh) {
    for (int i = 0; i < nd; i++) sh[i] = lo + rnd_int(hi - lo + 1);
}

/* Tolerance of accumulating ops (rounded to dt after each add). */
static double acc_tol(zf_dtype dt) {
    switch (dt) {
    case ZF_F64: return 1e-12;
    case ZF_F32: return 1e-5;
    case ZF_F16: return 1e-2;
    case ZF_BF16: return 3e-2;
    case ZF_F8_E4M3: return 0.3;
    case ZF_F8_E5M2: return 0.5;
    default: return 0;
    }
}

/* One CHECK: out has shape (nd, sh) and values within tol of ref (relative
 * as CHECK_NEAR; NaN matches NaN). */
static void check_out(zf_tensor *out, int nd, const int64_t *sh, const double *ref, double tol, const char *fmt, ...) {
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    bool ok = out && out->ndim == nd;
    for (int i = 0; ok && i < nd; i++) ok = out->shape[i] == sh[i];
    if (!ok) {
        fprintf(stderr, "%s: wrong result (%s)\n", what, out ? "shape" : zf_last_error());
        CHECK(ok);
        return;
    }
    double *got = values_of(out);
    int64_t n = numel_of(nd, sh), bad = -1;
    for (int64_t k = 0; got && k < n && bad < 0; k++) {
        bool same = fabs(got[k] - ref[k]) <= tol * (1 + fabs(ref[k])) || (isnan(got[k]) && isnan(ref[k]));
        if (!same) bad = k;
    }
    if (bad >= 0)
        fprintf(stderr, "%s: element %lld is %.17g, expected %.17g\n", what, (long long)bad, got[bad], ref[bad]);
    CHECK(got && bad < 0);
    free(got);
}

/* The call failed with status st and a message containing msg. */
static void check_err(const void *result, zf_status st, const char *msg, const char *what) {
    bool ok = result == NULL && zf_last_status() == st && strstr(zf_last_error(), msg) != NULL;
    if (!ok)
        fprintf(stderr, "%s: expected %s containing \"%s\", got %s \"%s\"\n", what, zf_status_name(st), msg,
                zf_status_name(zf_last_status()), zf_last_error());
    CHECK(ok);
    zf_clear_error();
}
static void check_err_int(int result, zf_status st, const char *msg, const char *what) {
    check_err(result < 0 ? NULL : (void *)&result, st, msg, what);
}

/* ---------- gather ---------- */
static void gather_case(zf_ctx *ctx, zf_dtype dt, zf_dtype it, int nd, const int64_t *ash, int dim, const int64_t *ish,
                        int la, int li) {
    int d = dim < 0 ? dim + (nd ? nd : 1) : dim;
    zf_tensor *a = rand_tensor(ctx, dt, nd, ash, la);
    zf_tensor *ix = rand_index(ctx, it, nd, ish, nd ? ash[d] : 1, li);
    zf_tensor *out = zf_gather(ctx, a, dim, ix);
    double *av = values_of(a), *iv = values_of(ix), *ref = alloc_f64(numel_of(nd, ish));
    int64_t c[ZF_MAX_DIMS] = {0};
    for (int64_t l = 0; av && iv && l < numel_of(nd, ish); l++) { /* out[c] = a[c with c[d] = index[c]] */
        unravel(l, nd, ish, c);
        c[d] = (int64_t)iv[l];
        ref[l] = av[ravel(nd, ash, c)];
    }
    check_out(out, nd, ish, ref, 0, "gather %s/%s nd=%d dim=%d layouts %d/%d", zf_dtype_name(dt), zf_dtype_name(it),
              nd, dim, la, li);
    free(av), free(iv), free(ref);
}

static void test_gather(zf_ctx *ctx) {
    for (int r = 0; r < 60; r++) {
        zf_dtype dt = k_all_dtypes[r % N_DTYPES], it = r % 2 ? ZF_I32 : ZF_I64;
        int nd = 1 + (int)rnd_int(3), dim = (int)rnd_int(2 * nd) - nd;
        int d = dim < 0 ? dim + nd : dim;
        int64_t ash[ZF_MAX_DIMS], ish[ZF_MAX_DIMS];
        rand_shape(nd, 1, 5, ash);
        for (int k = 0; k < nd; k++) ish[k] = k == d ? 1 + rnd_int(6) : 1 + rnd_int(ash[k]);
        gather_case(ctx, dt, it, nd, ash, dim, ish, (int)rnd_int(3), (int)rnd_int(3));
    }
    /* edges: empty index, single element, 0-dim, input empty along another dim */
    gather_case(ctx, ZF_F32, ZF_I64, 2, (int64_t[]){3, 4}, 1, (int64_t[]){0, 2}, 0, 0);
    gather_case(ctx, ZF_F32, ZF_I64, 2, (int64_t[]){3, 4}, 0, (int64_t[]){2, 0}, 1, 0);
    gather_case(ctx, ZF_F32, ZF_I64, 2, (int64_t[]){0, 4}, 1, (int64_t[]){0, 3}, 0, 0);
    gather_case(ctx, ZF_F64, ZF_I32, 1, (int64_t[]){1}, 0, (int64_t[]){1}, 0, 0);
    gather_case(ctx, ZF_F64, ZF_I64, 0, NULL, 0, NULL, 0, 0);
    gather_case(ctx, ZF_I16, ZF_I64, 0, NULL, -1, NULL, 0, 0);
    /* 0-dim input with a [1] index (PyTorch counts 0-dim as 1-d here) */
    zf_tensor *s = zf_scalar(ctx, ZF_F32, 2.5);
    zf_tensor *g = zf_gather(ctx, s, 0, zf_zeros(ctx, ZF_I64, 1, (int64_t[]){1}));
    CHECK(g && g->ndim == 1 && g->shape[0] == 1 && zf_item(g) == 2.5);
    /* the index may repeat values and be longer than the input along dim */
    zf_tensor *a = zf_from_data(ctx, ZF_F32, 1, (int64_t[]){3}, (float[]){10, 20, 30});
    zf_tensor *i = zf_from_data(ctx, ZF_I64, 1, (int64_t[]){5}, (int64_t[]){2, 2, 0, 1, 2});
    check_out(zf_gather(ctx, a, -1, i), 1, (int64_t[]){5}, (double[]){30, 30, 10, 20, 30}, 0, "gather repeat");
}

/* ---------- scatter_add ---------- */
static void scatter_case(zf_ctx *ctx, zf_dtype dt, zf_dtype it, int nd, const int64_t *ssh, int dim,
                         const int64_t *ish, const int64_t *rsh, int ls, int li, int lr) {
    int d = dim < 0 ? dim + (nd ? nd : 1) : dim;
    zf_tensor *self = rand_tensor(ctx, dt, nd, ssh, ls);
    zf_tensor *ix = rand_index(ctx, it, nd, ish, nd ? ssh[d] : 1, li);
    zf_tensor *src = rand_tensor(ctx, dt, nd, rsh, lr);
    zf_tensor *out = zf_scatter_add(ctx, self, dim, ix, src);
    double *sv = values_of(self), *iv = values_of(ix), *rv = values_of(src);
    double *ref = values_of(self);
    int64_t c[ZF_MAX_DIMS] = {0};
    for (int64_t l = 0; sv && iv && rv && l < numel_of(nd, ish); l++) { /* out[c with c[d] = index[c]] += src[c] */
        unravel(l, nd, ish, c);
        double x = rv[ravel(nd, rsh, c)];
        c[d] = (int64_t)iv[l];
        ref[ravel(nd, ssh, c)] += x;
    }
    if (dt == ZF_BOOL)
        for (int64_t k = 0; ref && k < numel_of(nd, ssh); k++) ref[k] = ref[k] != 0;
    check_out(out, nd, ssh, ref, acc_tol(dt), "scatter_add %s/%s nd=%d dim=%d layouts %d/%d/%d", zf_dtype_name(dt),
              zf_dtype_name(it), nd, dim, ls, li, lr);
    free(sv), free(iv), free(rv), free(ref);
}

static void test_scatter_add(zf_ctx *ctx) {
    for (int r = 0; r < 60; r++) {
        zf_dtype dt = k_all_dtypes[r % N_DTYPES], it = r % 2 ? ZF_I64 : ZF_I32;
        int nd = 1 + (int)rnd_int(3), dim = (int)rnd_int(2 * nd) - nd;
        int d = dim < 0 ? dim + nd : dim;
        int64_t ssh[ZF_MAX_DIMS], ish[ZF_MAX_DIMS], rsh[ZF_MAX_DIMS];
        rand_shape(nd, 1, 5, ssh);
        for (int k = 0; k < nd; k++) {
            ish[k] = k == d ? rnd_int(7) : 1 + rnd_int(ssh[k]);
            rsh[k] = ish[k] + rnd_int(2); /* src may be larger than index */
        }
        scatter_case(ctx, dt, it, nd, ssh, dim, ish, rsh, (int)rnd_int(3), (int)rnd_int(3), (int)rnd_int(3));
    }
    scatter_case(ctx, ZF_F32, ZF_I64, 2, (int64_t[]){3, 4}, 0, (int64_t[]){0, 4}, (int64_t[]){0, 4}, 0, 0, 0);
    scatter_case(ctx, ZF_F32, ZF_I64, 2, (int64_t[]){0, 4}, 1, (int64_t[]){0, 4}, (int64_t[]){0, 4}, 0, 0, 0);
    scatter_case(ctx, ZF_F64, ZF_I64, 1, (int64_t[]){1}, 0, (int64_t[]){1}, (int64_t[]){1}, 0, 0, 0);
    scatter_case(ctx, ZF_F64, ZF_I64, 0, NULL, 0, NULL, NULL, 0, 0, 0);
    /* many additions to one entry */
    zf_tensor *self = zf_zeros(ctx, ZF_I32, 1, (int64_t[]){2});
    zf_tensor *ix = zf_zeros(ctx, ZF_I64, 1, (int64_t[]){100});
    zf_tensor *src = zf_ones(ctx, ZF_I32, 1, (int64_t[]){100});
    check_out(zf_scatter_add(ctx, self, 0, ix, src), 1, (int64_t[]){2}, (double[]){100, 0}, 0, "scatter_add hits");
}

/* ---------- index_select ---------- */
static void index_select_case(zf_ctx *ctx, zf_dtype dt, zf_dtype it, int nd, const int64_t *ash, int dim, int64_t k,
                              int la, int li, bool index_0d) {
    int d = dim < 0 ? dim + (nd ? nd : 1) : dim;
    zf_tensor *a = rand_tensor(ctx, dt, nd, ash, la);
    zf_tensor *ix = rand_index(ctx, it, index_0d ? 0 : 1, &k, nd ? ash[d] : 1, li);
    zf_tensor *out = zf_index_select(ctx, a, dim, ix);
    int64_t osh[ZF_MAX_DIMS];
    for (int i = 0; i < nd; i++) osh[i] = i == d ? k : ash[i];
    double *av = values_of(a), *iv = values_of(ix), *ref = alloc_f64(numel_of(nd, osh));
    int64_t c[ZF_MAX_DIMS] = {0};
    for (int64_t l = 0; av && iv && l < numel_of(nd, osh); l++) { /* out[c] = a[c with c[d] = index[c[d]]] */
        unravel(l, nd, osh, c);
        c[d] = (int64_t)iv[c[d]];
        ref[l] = av[ravel(nd, ash, c)];
    }
    check_out(out, nd, osh, ref, 0, "index_select %s/%s nd=%d dim=%d k=%lld layouts %d/%d", zf_dtype_name(dt),
              zf_dtype_name(it), nd, dim, (long long)k, la, li);
    free(av), free(iv), free(ref);
}

static void test_index_select(zf_ctx *ctx) {
    for (int r = 0; r < 60; r++) {
        zf_dtype dt = k_all_dtypes[r % N_DTYPES], it = r % 2 ? ZF_I32 : ZF_I64;
        int nd = 1 + (int)rnd_int(3), dim = (int)rnd_int(2 * nd) - nd;
        int64_t ash[ZF_MAX_DIMS];
        rand_shape(nd, 1, 5, ash);
        index_select_case(ctx, dt, it, nd, ash, dim, rnd_int(7), (int)rnd_int(3), (int)rnd_int(3), false);
    }
    index_select_case(ctx, ZF_F32, ZF_I64, 2, (int64_t[]){3, 4}, 1, 0, 0, 0, false);
    index_select_case(ctx, ZF_F32, ZF_I64, 2, (int64_t[]){0, 4}, 1, 3, 0, 0, false);
    index_select_case(ctx, ZF_F32, ZF_I64, 2, (int64_t[]){3, 4}, 0, 1, 1, 0, true); /* 0-dim index */
    index_select_case(ctx, ZF_BF16, ZF_I32, 0, NULL, 0, 1, 0, 0, false);         /* 0-dim input */
    index_select_case(ctx, ZF_U8, ZF_I32, 1, (int64_t[]){1}, 0, 1, 0, 0, false);
}

/* ---------- index_add ---------- */
static void index_add_case(zf_ctx *ctx, zf_dtype dt, zf_dtype it, int nd, const int64_t *ssh, int dim, int64_t k,
                           int ls, int li, int lr) {
    int d = dim < 0 ? dim + (nd ? nd : 1) : dim;
    int64_t rsh[ZF_MAX_DIMS];
    for (int i = 0; i < nd; i++) rsh[i] = i == d ? k : ssh[i];
    zf_tensor *self = rand_tensor(ctx, dt, nd, ssh, ls);
    zf_tensor *ix = rand_index(ctx, it, 1, &k, nd ? ssh[d] : 1, li);
    zf_tensor *src = rand_tensor(ctx, dt, nd, rsh, lr);
    zf_tensor *out = zf_index_add(ctx, self, dim, ix, src);
    double *iv = values_of(ix), *rv = values_of(src), *ref = values_of(self);
    int64_t c[ZF_MAX_DIMS] = {0};
    for (int64_t l = 0; ref && iv && rv && l < numel_of(nd, rsh); l++) { /* out[c with c[d] = index[c[d]]] += src[c] */
        unravel(l, nd, rsh, c);
        c[d] = (int64_t)iv[c[d]];
        ref[ravel(nd, ssh, c)] += rv[l];
    }
    if (dt == ZF_BOOL)
        for (int64_t q = 0; ref && q < numel_of(nd, ssh); q++) ref[q] = ref[q] != 0;
    check_out(out, nd, ssh, ref, acc_tol(dt), "index_add %s/%s nd=%d dim=%d k=%lld layouts %d/%d/%d",
              zf_dtype_name(dt), zf_dtype_name(it), nd, dim, (long long)k, ls, li, lr);
    free(iv), free(rv), free(ref);
}

static void test_index_add(zf_ctx *ctx) {
    for (int r = 0; r < 60; r++) {
        zf_dtype dt = k_all_dtypes[r % N_DTYPES], it = r % 2 ? ZF_I64 : ZF_I32;
        int nd = 1 + (int)rnd_int(3), dim = (int)rnd_int(2 * nd) - nd;
        int64_t ssh[ZF_MAX_DIMS];
        rand_shape(nd, 1, 5, ssh);
        index_add_case(ctx, dt, it, nd, ssh, dim, rnd_int(7), (int)rnd_int(3), (int)rnd_int(3), (int)rnd_int(3));
    }
    index_add_case(ctx, ZF_F32, ZF_I64, 2, (int64_t[]){3, 4}, 0, 0, 0, 0, 0);
    index_add_case(ctx, ZF_F32, ZF_I64, 2, (int64_t[]){3, 0}, 0, 4, 0, 0, 0);
    index_add_case(ctx, ZF_F64, ZF_I64, 0, NULL, 0, 1, 0, 0, 0);
    index_add_case(ctx, ZF_I8, ZF_I32, 1, (int64_t[]){1}, 0, 5, 0, 2, 0);
}

/* ---------- embedding ---------- */
static void embedding_case(zf_ctx *ctx, zf_dtype dt, zf_dtype it, int64_t V, int64_t D, int nd, const int64_t *ish,
                           int lw, int li) {
    zf_tensor *w = rand_tensor(ctx, dt, 2, (int64_t[]){V, D}, lw);
    zf_tensor *ids = rand_index(ctx, it, nd, ish, V, li);
    zf_tensor *out = zf_embedding(ctx, w, ids);
    int64_t osh[ZF_MAX_DIMS], n = numel_of(nd, ish);
    for (int i = 0; i < nd; i++) osh[i] = ish[i];
    osh[nd] = D;
    double *wv = values_of(w), *iv = values_of(ids), *ref = alloc_f64(n * D);
    for (int64_t r = 0; wv && iv && r < n; r++) /* out[r, :] = w[ids[r], :] */
        for (int64_t c = 0; c < D; c++) ref[r * D + c] = wv[(int64_t)iv[r] * D + c];
    check_out(out, nd + 1, osh, ref, 0, "embedding %s/%s V=%lld D=%lld nd=%d layouts %d/%d", zf_dtype_name(dt),
              zf_dtype_name(it), (long long)V, (long long)D, nd, lw, li);
    free(wv), free(iv), free(ref);
}

static void test_embedding(zf_ctx *ctx) {
    for (int r = 0; r < 40; r++) {
        int nd = (int)rnd_int(4);
        int64_t ish[ZF_MAX_DIMS];
        rand_shape(nd, 1, 4, ish);
        embedding_case(ctx, k_all_dtypes[r % N_DTYPES], r % 2 ? ZF_I32 : ZF_I64, 1 + rnd_int(8), 1 + rnd_int(9), nd,
                       ish, (int)rnd_int(3), (int)rnd_int(3));
    }
    embedding_case(ctx, ZF_F32, ZF_I64, 5, 3, 1, (int64_t[]){0}, 0, 0);
    embedding_case(ctx, ZF_F32, ZF_I64, 5, 0, 2, (int64_t[]){2, 3}, 0, 0);
    embedding_case(ctx, ZF_F32, ZF_I64, 1, 1, 0, NULL, 0, 0);
}

/* ---------- tril / triu ---------- */
static void triangle_case(zf_ctx *ctx, bool upper, zf_dtype dt, int nd, const int64_t *sh, int64_t k, int layout) {
    zf_tensor *a = rand_tensor(ctx, dt, nd, sh, layout);
    zf_tensor *out = upper ? zf_triu(ctx, a, k) : zf_tril(ctx, a, k);
    double *av = values_of(a), *ref = alloc_f64(numel_of(nd, sh));
    int64_t c[ZF_MAX_DIMS];
    for (int64_t l = 0; av && l < numel_of(nd, sh); l++) {
        unravel(l, nd, sh, c);
        double diff = (double)c[nd - 1] - (double)c[nd - 2]; /* j - i, in double: k may be huge */
        bool keep = upper ? diff >= (double)k : diff <= (double)k;
        ref[l] = keep ? av[l] : 0;
    }
    check_out(out, nd, sh, ref, 0, "%s %s nd=%d k=%lld layout %d", upper ? "triu" : "tril", zf_dtype_name(dt), nd,
              (long long)k, layout);
    free(av), free(ref);
}

static void test_triangle(zf_ctx *ctx) {
    for (int r = 0; r < 48; r++) {
        int nd = 2 + (int)rnd_int(3);
        int64_t sh[ZF_MAX_DIMS];
        rand_shape(nd, 1, 6, sh);
        triangle_case(ctx, r % 2, k_all_dtypes[(r / 2) % N_DTYPES], nd, sh, rnd_int(11) - 5, (int)rnd_int(3));
    }
    const int64_t ks[] = {INT64_MAX, INT64_MIN, 0};
    for (int i = 0; i < 3; i++) {
        triangle_case(ctx, false, ZF_F32, 2, (int64_t[]){3, 4}, ks[i], 0);
        triangle_case(ctx, true, ZF_F32, 2, (int64_t[]){3, 4}, ks[i], 2);
    }
    triangle_case(ctx, false, ZF_F32, 3, (int64_t[]){2, 0, 3}, 0, 0);
    triangle_case(ctx, true, ZF_F64, 2, (int64_t[]){1, 1}, 0, 0);
    triangle_case(ctx, true, ZF_F64, 2, (int64_t[]){1, 1}, 1, 0);
}

/* ---------- cat / stack ---------- */
/* Reference cat of n row-major inputs, all of rank nd, along d. */
static double *ref_cat(int n, double *const *vals, int64_t (*shapes)[ZF_MAX_DIMS], int nd, int d, int64_t *osh) {
    memcpy(osh, shapes[0], sizeof(int64_t) * (size_t)nd);
    osh[d] = 0;
    for (int i = 0; i < n; i++) osh[d] += shapes[i][d];
    double *ref = alloc_f64(numel_of(nd, osh));
    int64_t c[ZF_MAX_DIMS];
    for (int64_t l = 0; l < numel_of(nd, osh); l++) {
        unravel(l, nd, osh, c);
        int i = 0;
        while (c[d] >= shapes[i][d]) c[d] -= shapes[i++][d];
        ref[l] = vals[i][ravel(nd, shapes[i], c)];
    }
    return ref;
}

static void cat_case(zf_ctx *ctx, zf_dtype dt, int n, int nd, int dim, bool stack) {
    int64_t shapes[4][ZF_MAX_DIMS], base[ZF_MAX_DIMS];
    int d = dim < 0 ? dim + nd + (stack ? 1 : 0) : dim;
    rand_shape(nd, 0, 4, base);
    zf_tensor *ts[4];
    double *vals[4];
    for (int i = 0; i < n; i++) {
        memcpy(shapes[i], base, sizeof base);
        if (!stack) shapes[i][d] = rnd_int(4);
        ts[i] = rand_tensor(ctx, dt, nd, shapes[i], (int)rnd_int(3));
        vals[i] = values_of(ts[i]);
    }
    zf_tensor *out = stack ? zf_stack(ctx, n, ts, dim) : zf_cat(ctx, n, ts, dim);
    int64_t osh[ZF_MAX_DIMS];
    double *ref;
    if (stack) { /* stack = cat of the inputs with a size-1 dim inserted at d */
        int64_t ush[4][ZF_MAX_DIMS];
        for (int i = 0; i < n; i++)
            for (int k = 0, j = 0; k <= nd; k++) ush[i][k] = k == d ? 1 : shapes[i][j++];
        ref = ref_cat(n, vals, ush, nd + 1, d, osh);
    } else {
        ref = ref_cat(n, vals, shapes, nd, d, osh);
    }
    check_out(out, nd + (stack ? 1 : 0), osh, ref, 0, "%s %s n=%d nd=%d dim=%d", stack ? "stack" : "cat",
              zf_dtype_name(dt), n, nd, dim);
    for (int i = 0; i < n; i++) free(vals[i]);
    free(ref);
}

static void test_cat_stack(zf_ctx *ctx) {
    for (int r = 0; r < 48; r++) {
        int nd = 1 + (int)rnd_int(3), n = 1 + (int)rnd_int(4);
        bool stack = r % 2;
        int span = nd + (stack ? 1 : 0);
        cat_case(ctx, k_all_dtypes[(r / 2) % N_DTYPES], n, nd, (int)rnd_int(2 * span) - span, stack);
    }
    /* a 1-d [0] tensor is skipped by cat whatever the other shapes */
    zf_tensor *a = zf_ones(ctx, ZF_F32, 2, (int64_t[]){2, 3}), *e = zf_zeros(ctx, ZF_F32, 1, (int64_t[]){0});
    zf_tensor *ts[3] = {e, a, e};
    zf_tensor *c = zf_cat(ctx, 3, ts, 1);
    CHECK(c && c->ndim == 2 && c->shape[0] == 2 && c->shape[1] == 3);
    zf_tensor *ee[2] = {e, e};
    zf_tensor *c2 = zf_cat(ctx, 2, ee, 0);
    CHECK(c2 && c2->ndim == 1 && c2->shape[0] == 0);
    /* stack of 0-dim tensors -> 1-d */
    zf_tensor *s[3] = {zf_scalar(ctx, ZF_I64, 1), zf_scalar(ctx, ZF_I64, 2), zf_scalar(ctx, ZF_I64, 3)};
    check_out(zf_stack(ctx, 3, s, 0), 1, (int64_t[]){3}, (double[]){1, 2, 3}, 0, "stack of scalars");
    check_out(zf_stack(ctx, 3, s, -1), 1, (int64_t[]){3}, (double[]){1, 2, 3}, 0, "stack of scalars, dim -1");
}

/* ---------- split / chunk ---------- */
/* pieces are views of a along d with the expected sizes and values. */
static void check_pieces(zf_tensor *a, int d, int n, zf_tensor **p, const int64_t *sizes, const char *what) {
    double *av = values_of(a);
    int64_t off = 0;
    bool ok = av != NULL;
    for (int i = 0; ok && i < n; i++) {
        ok = p[i] && p[i]->storage == a->storage && p[i]->ndim == a->ndim && p[i]->shape[d] == sizes[i];
        double *pv = ok ? values_of(p[i]) : NULL;
        int64_t c[ZF_MAX_DIMS];
        for (int64_t l = 0; pv && l < zf_numel(p[i]); l++) {
            unravel(l, p[i]->ndim, p[i]->shape, c);
            c[d] += off;
            ok = ok && pv[l] == av[ravel(a->ndim, a->shape, c)];
        }
        free(pv);
        off += sizes[i];
    }
    if (!ok) fprintf(stderr, "%s: wrong pieces\n", what);
    CHECK(ok);
    free(av);
}

static void test_split_chunk(zf_ctx *ctx) {
    zf_tensor *a = rand_tensor(ctx, ZF_F32, 3, (int64_t[]){4, 7, 3}, 1);
    zf_tensor *p[8];
    CHECK(zf_split(ctx, a, 3, 1, p, 8) == 3);
    check_pieces(a, 1, 3, p, (int64_t[]){3, 3, 1}, "split 3");
    CHECK(zf_split(ctx, a, 2, -3, p, 8) == 2);
    check_pieces(a, 0, 2, p, (int64_t[]){2, 2}, "split dim -3");
    CHECK(zf_split(ctx, a, 100, 2, p, 8) == 1);
    check_pieces(a, 2, 1, p, (int64_t[]){3}, "split larger than dim");
    CHECK(zf_split(ctx, a, 1, 1, NULL, 0) == 7); /* count only */
    CHECK(zf_chunk(ctx, a, 3, 1, p, 8) == 3);
    check_pieces(a, 1, 3, p, (int64_t[]){3, 3, 1}, "chunk 3");
    CHECK(zf_chunk(ctx, a, 4, 0, p, 8) == 4);
    check_pieces(a, 0, 4, p, (int64_t[]){1, 1, 1, 1}, "chunk 4");
    /* torch.chunk(6 elements, 4) gives 3 pieces of 2 */
    zf_tensor *b = zf_arange(ctx, ZF_I32, 0, 6, 1);
    CHECK(zf_chunk(ctx, b, 4, 0, p, 8) == 3);
    check_pieces(b, 0, 3, p, (int64_t[]){2, 2, 2}, "chunk 6/4");
    CHECK(zf_chunk(ctx, b, 10, 0, p, 8) == 6);
    /* empty dims: split gives one empty piece, chunk gives n empty pieces */
    zf_tensor *z = zf_zeros(ctx, ZF_F32, 2, (int64_t[]){0, 2});
    CHECK(zf_split(ctx, z, 2, 0, p, 8) == 1);
    check_pieces(z, 0, 1, p, (int64_t[]){0}, "split empty");
    CHECK(zf_split(ctx, z, 0, 0, p, 8) == 1);
    CHECK(zf_chunk(ctx, z, 3, 0, p, 8) == 3);
    check_pieces(z, 0, 3, p, (int64_t[]){0, 0, 0}, "chunk empty");
    zf_tensor *one = zf_ones(ctx, ZF_F64, 1, (int64_t[]){1});
    CHECK(zf_chunk(ctx, one, 2, 0, p, 8) == 1);
    check_pieces(one, 0, 1, p, (int64_t[]){1}, "chunk single");
}

/* ---------- bad inputs ---------- */
static void test_bad_inputs(zf_ctx *ctx) {
    zf_tensor *a = zf_ones(ctx, ZF_F32, 2, (int64_t[]){3, 4});
    zf_tensor *b = zf_ones(ctx, ZF_F32, 2, (int64_t[]){3, 5});
    zf_tensor *ad = zf_ones(ctx, ZF_F64, 2, (int64_t[]){3, 4});
    zf_tensor *a3 = zf_ones(ctx, ZF_F32, 3, (int64_t[]){3, 4, 1});
    zf_tensor *s = zf_scalar(ctx, ZF_F32, 1);
    zf_tensor *ab[2] = {a, b}, *aad[2] = {a, ad}, *aa3[2] = {a, a3}, *an[2] = {a, NULL}, *ss[2] = {s, s};
    zf_clear_error();
    /* cat / stack */
    check_err(zf_cat(ctx, 0, ab, 0), ZF_ERR_INVALID_ARG, "non-empty list", "cat n=0");
    check_err(zf_cat(ctx, 2, NULL, 0), ZF_ERR_INVALID_ARG, "non-empty list", "cat NULL list");
    check_err(zf_cat(NULL, 2, ab, 1), ZF_ERR_INVALID_ARG, "NULL context", "cat NULL ctx");
    check_err(zf_cat(ctx, 2, an, 0), ZF_ERR_INVALID_ARG, "input 1 is NULL", "cat NULL input");
    check_err(zf_cat(ctx, 2, ab, 0), ZF_ERR_SHAPE, "sizes must match except in dim 0", "cat sizes");
    check_err(zf_cat(ctx, 2, aad, 0), ZF_ERR_DTYPE, "dtypes differ", "cat dtypes");
    check_err(zf_cat(ctx, 2, aa3, 0), ZF_ERR_SHAPE, "tensor 1 has 3 dims, expected 2", "cat ndim");
    check_err(zf_cat(ctx, 2, ab, 2), ZF_ERR_INDEX, "dim 2 is out of range", "cat dim");
    check_err(zf_cat(ctx, 2, ab, -3), ZF_ERR_INDEX, "dim -3 is out of range", "cat dim -3");
    check_err(zf_cat(ctx, 2, ss, 0), ZF_ERR_SHAPE, "zero-dimensional", "cat 0-dim");
    check_err(zf_stack(ctx, 0, ab, 0), ZF_ERR_INVALID_ARG, "non-empty list", "stack n=0");
    check_err(zf_stack(ctx, 2, ab, 0), ZF_ERR_SHAPE, "same shape", "stack shapes");
    check_err(zf_stack(ctx, 2, aad, 0), ZF_ERR_DTYPE, "dtypes differ", "stack dtypes");
    zf_tensor *aa[2] = {a, a};
    check_err(zf_stack(ctx, 2, aa, 3), ZF_ERR_INDEX, "dim 3 is out of range", "stack dim");
    CHECK(zf_stack(ctx, 2, aa, 2) != NULL && zf_stack(ctx, 2, aa, -3) != NULL);
    /* split / chunk */
    zf_tensor *p[4];
    check_err_int(zf_split(ctx, a, 0, 0, p, 4), ZF_ERR_INVALID_ARG, "split_size must be positive", "split 0");
    check_err_int(zf_split(ctx, a, -2, 0, p, 4), ZF_ERR_INVALID_ARG, "split_size must be positive", "split -2");
    check_err_int(zf_split(ctx, a, 1, 1, p, 3), ZF_ERR_INVALID_ARG, "4 pieces do not fit in max_out = 3", "split max");
    check_err_int(zf_split(ctx, a, 1, 2, p, 4), ZF_ERR_INDEX, "dim 2 is out of range", "split dim");
    check_err_int(zf_split(ctx, s, 1, 0, p, 4), ZF_ERR_SHAPE, "at least a 1-dimensional", "split 0-dim");
    check_err_int(zf_split(ctx, a, 1, 0, NULL, 4), ZF_ERR_INVALID_ARG, "bad output array", "split NULL out");
    check_err_int(zf_split(ctx, NULL, 1, 0, p, 4), ZF_ERR_INVALID_ARG, "input 0 is NULL", "split NULL");
    check_err_int(zf_chunk(ctx, a, 0, 0, p, 4), ZF_ERR_INVALID_ARG, "n_chunks must be positive", "chunk 0");
    check_err_int(zf_chunk(ctx, a, 4, 1, p, 2), ZF_ERR_INVALID_ARG, "do not fit in max_out", "chunk max");
    /* gather */
    zf_tensor *i2 = zf_zeros(ctx, ZF_I64, 2, (int64_t[]){2, 2});
    zf_tensor *i1 = zf_zeros(ctx, ZF_I64, 1, (int64_t[]){2});
    zf_tensor *if32 = zf_zeros(ctx, ZF_F32, 2, (int64_t[]){2, 2});
    zf_tensor *i16 = zf_zeros(ctx, ZF_I16, 1, (int64_t[]){2});
    zf_tensor *wide = zf_zeros(ctx, ZF_I64, 2, (int64_t[]){2, 5});
    zf_tensor *bad7 = zf_from_data(ctx, ZF_I64, 2, (int64_t[]){2, 2}, (int64_t[]){0, 1, 2, 7});
    zf_tensor *neg = zf_from_data(ctx, ZF_I32, 2, (int64_t[]){2, 2}, (int32_t[]){0, -1, 2, 3});
    check_err(zf_gather(ctx, a, 0, if32), ZF_ERR_DTYPE, "index must be i64 or i32, got f32", "gather f32 index");
    check_err(zf_gather(ctx, a, 0, i1), ZF_ERR_SHAPE, "same number of dims", "gather index ndim");
    check_err(zf_gather(ctx, a, 0, wide), ZF_ERR_SHAPE, "index size 5 at dim 1 exceeds the input size 4",
              "gather index size");
    check_err(zf_gather(ctx, a, 2, i2), ZF_ERR_INDEX, "dim 2 is out of range", "gather dim");
    check_err(zf_gather(ctx, a, 1, bad7), ZF_ERR_INDEX, "index 7 is out of range for dim 1 of size 4",
              "gather index value");
    check_err(zf_gather(ctx, a, 1, neg), ZF_ERR_INDEX, "index -1 is out of range", "gather negative index");
    check_err(zf_gather(ctx, NULL, 1, i2), ZF_ERR_INVALID_ARG, "input 0 is NULL", "gather NULL");
    check_err(zf_gather(ctx, zf_gather(ctx, a, 1, bad7), 1, i2), ZF_ERR_INDEX, "index 7", "gather keeps 1st error");
    /* scatter_add */
    check_err(zf_scatter_add(ctx, a, 0, i2, ad), ZF_ERR_DTYPE, "dtypes differ", "scatter_add dtypes");
    check_err(zf_scatter_add(ctx, a, 0, i16, a), ZF_ERR_DTYPE, "got i16", "scatter_add i16 index");
    check_err(zf_scatter_add(ctx, a, 0, wide, a), ZF_ERR_SHAPE, "index size 5 at dim 1 exceeds the src size 4",
              "scatter_add index > src");
    zf_tensor *tall = zf_zeros(ctx, ZF_I64, 2, (int64_t[]){5, 2});
    zf_tensor *src54 = zf_ones(ctx, ZF_F32, 2, (int64_t[]){5, 4});
    CHECK(zf_scatter_add(ctx, a, 0, tall, src54) != NULL); /* index may be longer than self along dim */
    check_err(zf_scatter_add(ctx, a, 1, tall, src54), ZF_ERR_SHAPE, "index size 5 at dim 0 exceeds the self size 3",
              "scatter_add index > self");
    check_err(zf_scatter_add(ctx, a, 0, i1, a), ZF_ERR_SHAPE, "same number of dims", "scatter_add index ndim");
    check_err(zf_scatter_add(ctx, a, 0, bad7, a), ZF_ERR_INDEX, "index 7 is out of range for dim 0 of size 3",
              "scatter_add index value");
    zf_tensor *e04 = zf_zeros(ctx, ZF_F32, 2, (int64_t[]){0, 4});
    check_err(zf_scatter_add(ctx, e04, 0, i2, a), ZF_ERR_INDEX, "index 0 is out of range for dim 0 of size 0",
              "scatter_add into empty");
    /* index_select */
    check_err(zf_index_select(ctx, a, 0, i2), ZF_ERR_SHAPE, "index must be 1-d", "index_select 2-d index");
    check_err(zf_index_select(ctx, a, 0, zf_zeros(ctx, ZF_BOOL, 1, (int64_t[]){2})), ZF_ERR_DTYPE, "got bool",
              "index_select bool index");
    zf_tensor *big = zf_from_data(ctx, ZF_I32, 1, (int64_t[]){3}, (int32_t[]){1, 4, 0});
    check_err(zf_index_select(ctx, a, 1, zf_from_data(ctx, ZF_I32, 1, (int64_t[]){3}, (int32_t[]){1, 5, 9})),
              ZF_ERR_INDEX, "index 5 is out of range for dim 1 of size 4", "index_select value");
    check_err(zf_index_select(ctx, a, 0, big), ZF_ERR_INDEX, "index 4 is out of range for dim 0 of size 3",
              "index_select value dim 0");
    check_err(zf_index_select(ctx, a, -3, i1), ZF_ERR_INDEX, "dim -3 is out of range", "index_select dim");
    check_err(zf_index_select(ctx, s, 0, i1), ZF_ERR_SHAPE, "must have 1 value", "index_select 0-dim");
    zf_tensor *e02 = zf_index_select(ctx, e04, 1, zf_zeros(ctx, ZF_I64, 1, (int64_t[]){2}));
    CHECK(e02 && e02->shape[0] == 0 && e02->shape[1] == 2);
    zf_tensor *e04_bad = zf_index_select(ctx, e04, 1, big);
    check_err(e04_bad, ZF_ERR_INDEX, "index 4 is out of range", "index_select empty rows, bad index");
    /* index_add */
    zf_tensor *src32 = zf_ones(ctx, ZF_F32, 2, (int64_t[]){3, 2});
    CHECK(zf_index_add(ctx, a, 1, i1, src32) != NULL);
    check_err(zf_index_add(ctx, a, 1, i1, a), ZF_ERR_SHAPE, "src size 4 at dim 1 should be 2 (the number of indices)",
              "index_add count");
    check_err(zf_index_add(ctx, a, 0, i1, src32), ZF_ERR_SHAPE, "src size 3 at dim 0 should be 2", "index_add shape");
    check_err(zf_index_add(ctx, a, 1, i1, zf_ones(ctx, ZF_F64, 2, (int64_t[]){3, 2})), ZF_ERR_DTYPE, "dtypes differ",
              "index_add dtypes");
    check_err(zf_index_add(ctx, a, 1, i2, src32), ZF_ERR_SHAPE, "index must be 1-d", "index_add 2-d index");
    check_err(zf_index_add(ctx, a, 1, i1, zf_ones(ctx, ZF_F32, 1, (int64_t[]){2})), ZF_ERR_SHAPE,
              "same number of dims", "index_add src ndim");
    zf_tensor *i_far = zf_from_data(ctx, ZF_I64, 1, (int64_t[]){2}, (int64_t[]){3, 4});
    check_err(zf_index_add(ctx, a, 1, i_far, src32), ZF_ERR_INDEX, "index 4 is out of range for dim 1 of size 4",
              "index_add value");
    /* embedding */
    zf_tensor *w = zf_ones(ctx, ZF_F32, 2, (int64_t[]){5, 3});
    zf_tensor *ids_bad = zf_from_data(ctx, ZF_I64, 2, (int64_t[]){1, 3}, (int64_t[]){0, 4, 5});
    check_err(zf_embedding(ctx, zf_ones(ctx, ZF_F32, 1, (int64_t[]){5}), i1), ZF_ERR_SHAPE, "weight must be 2-d",
              "embedding 1-d weight");
    check_err(zf_embedding(ctx, w, if32), ZF_ERR_DTYPE, "must be i64 or i32", "embedding float ids");
    check_err(zf_embedding(ctx, w, ids_bad), ZF_ERR_INDEX, "index 5 is out of range for dim 0 of size 5",
              "embedding id");
    check_err(zf_embedding(ctx, w, neg), ZF_ERR_INDEX, "index -1", "embedding negative id");
    zf_tensor *ids8 = zf_zeros(ctx, ZF_I64, 8, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1});
    check_err(zf_embedding(ctx, w, ids8), ZF_ERR_SHAPE, "at most 7 fit", "embedding ids rank");
    /* block-quantized tables: rows come out in f32; bad tables are refused */
    zf_tensor *wq = zf_empty(ctx, ZF_Q8_0, 2, (int64_t[]){5, 64});
    zf_tensor *wf = zf_zeros(ctx, ZF_F32, 2, (int64_t[]){5, 64});
    float *wfp = zf_data(wf);
    for (int k = 0; k < 5 * 64; k++) wfp[k] = k % 32 == 0 ? -127.0f : (float)(k % 64) - 32.0f; /* each block's amax 127: scale 1, exact */
    CHECK(wq && zf_copy_(wq, wf) == ZF_OK);
    zf_tensor *qids = zf_from_data(ctx, ZF_I32, 1, (int64_t[]){2}, (int32_t[]){4, 1});
    zf_tensor *qrows = zf_embedding(ctx, wq, qids);
    CHECK(qrows && qrows->dtype == ZF_F32 && qrows->shape[0] == 2 && qrows->shape[1] == 64);
    if (qrows)
        for (int k = 0; k < 64; k++) CHECK(((float *)zf_data(qrows))[k] == (k % 32 == 0 ? -127.0f : (float)k - 32.0f));
    check_err(zf_embedding(ctx, zf_transpose(ctx, zf_empty(ctx, ZF_Q8_0, 2, (int64_t[]){64, 64}), 0, 1), qids),
              ZF_ERR_SHAPE, "contiguous 2-d", "embedding strided q8_0 table");
    check_err(zf_embedding(ctx, zf_empty(ctx, ZF_Q4_K, 2, (int64_t[]){5, 256}), ids_bad), ZF_ERR_INDEX, "index 5",
              "embedding q4_k id");
    check_err(zf_embedding(ctx, wq, NULL), ZF_ERR_INVALID_ARG, "input 1 is NULL", "embedding NULL ids");
    /* tril / triu */
    check_err(zf_tril(ctx, i1, 0), ZF_ERR_SHAPE, "at least 2 dims", "tril 1-d");
    check_err(zf_triu(ctx, s, 0), ZF_ERR_SHAPE, "at least 2 dims", "triu 0-dim");
    check_err(zf_triu(NULL, a, 0), ZF_ERR_INVALID_ARG, "NULL context", "triu NULL ctx");
}

/* The kernels check every index before they write: called directly with a
 * bad last index, the output keeps its contents. */
static void test_no_write_before_check(zf_ctx *ctx) {
    zf_engine *e = zf_cpu_engine();
    zf_tensor *self = zf_ones(ctx, ZF_F32, 2, (int64_t[]){4, 3});
    zf_tensor *src = zf_ones(ctx, ZF_F32, 2, (int64_t[]){4, 3});
    zf_tensor *ix = zf_zeros(ctx, ZF_I64, 2, (int64_t[]){4, 3});
    int64_t last[2] = {3, 2};
    zf_set(ix, last, 4);
    zf_op_call calls[2] = {
        {.op = ZF_OP_SCATTER_ADD, .n_in = 3, .in = {self, ix, src}, .p = {.i = {0}}},
        {.op = ZF_OP_GATHER, .n_in = 2, .in = {self, ix}, .p = {.i = {0}}},
    };
    for (int k = 0; k < 2; k++) {
        zf_tensor *out = zf_full(ctx, ZF_F32, 2, (int64_t[]){4, 3}, -7);
        calls[k].out = out;
        zf_status st = zf_engine_run(e, &calls[k]);
        CHECK(st == ZF_ERR_INDEX && strstr(zf_last_error(), "index 4 is out of range for dim 0 of size 4"));
        const float *o = zf_data(out);
        bool untouched = true;
        for (int i = 0; i < 12; i++) untouched &= o[i] == -7;
        CHECK(untouched);
    }
    zf_clear_error();
}

/* ---------- many threads, big inputs ---------- */
static void test_threads(void) {
    zf_engine *e4 = zf_cpu_engine_new(4), *e1 = zf_cpu_engine_new(1);
    zf_ctx *c4 = zf_ctx_new(e4), *c1 = zf_ctx_new(e1);
    CHECK(e4 && e1 && c4 && c1);
    if (!c4 || !c1) goto done;
    zf_ctx_set_poison(c4, true);
    embedding_case(c4, ZF_F32, ZF_I64, 300, 96, 2, (int64_t[]){16, 64}, 0, 0);
    embedding_case(c4, ZF_F32, ZF_I32, 300, 96, 2, (int64_t[]){16, 64}, 1, 2);
    embedding_case(c4, ZF_BF16, ZF_I64, 50, 7, 1, (int64_t[]){5000}, 2, 0);
    index_select_case(c4, ZF_F32, ZF_I64, 3, (int64_t[]){8, 200, 40}, 1, 300, 0, 0, false);
    index_select_case(c4, ZF_F64, ZF_I32, 2, (int64_t[]){300, 70}, -1, 500, 1, 2, false);
    gather_case(c4, ZF_F32, ZF_I64, 2, (int64_t[]){300, 200}, 1, (int64_t[]){300, 150}, 1, 0);
    gather_case(c4, ZF_F16, ZF_I32, 3, (int64_t[]){40, 30, 50}, 0, (int64_t[]){60, 30, 50}, 0, 1);
    scatter_case(c4, ZF_F32, ZF_I64, 2, (int64_t[]){50, 300}, 0, (int64_t[]){400, 300}, (int64_t[]){400, 300}, 0, 0, 1);
    scatter_case(c4, ZF_F64, ZF_I32, 2, (int64_t[]){300, 40}, 1, (int64_t[]){300, 90}, (int64_t[]){300, 90}, 1, 2, 0);
    index_add_case(c4, ZF_F32, ZF_I64, 2, (int64_t[]){100, 256}, 0, 3000, 0, 0, 0);
    index_add_case(c4, ZF_I32, ZF_I32, 3, (int64_t[]){30, 20, 40}, 1, 200, 1, 2, 1);
    triangle_case(c4, false, ZF_F32, 3, (int64_t[]){4, 300, 200}, 3, 0);
    triangle_case(c4, true, ZF_F16, 3, (int64_t[]){4, 200, 300}, -7, 1);
    /* scatter_add with many collisions is bitwise the same on 1 and 4 threads */
    int64_t ssh[2] = {20, 600}, ish[2] = {2000, 600};
    zf_tensor *self = rand_tensor(c1, ZF_F32, 2, ssh, 0), *src = rand_tensor(c1, ZF_F32, 2, ish, 0);
    zf_tensor *ix = rand_index(c1, ZF_I64, 2, ish, 20, 0);
    zf_tensor *r1 = zf_scatter_add(c1, self, 0, ix, src), *r4 = zf_scatter_add(c4, self, 0, ix, src);
    /* index_add along dim 0: 2000 rows of src onto 20 rows of self */
    zf_tensor *ixf = zf_reshape(c1, zf_narrow(c1, ix, 1, 0, 1), 1, (int64_t[]){2000});
    zf_tensor *a1 = zf_index_add(c1, self, 0, ixf, src), *a4 = zf_index_add(c4, self, 0, ixf, src);
    CHECK(a1 && a4 && memcmp(zf_data(a1), zf_data(a4), (size_t)zf_nbytes(a1)) == 0);
    CHECK(r1 && r4 && memcmp(zf_data(r1), zf_data(r4), (size_t)zf_nbytes(r1)) == 0);
done:
    zf_ctx_free(c4);
    zf_ctx_free(c1);
    zf_engine_free(e4);
    zf_engine_free(e1);
}

/* ---------- gradients ---------- */
typedef zf_tensor *(*fwd_fn)(zf_ctx *ctx, zf_tensor *const *x, const void *arg);

static double weighted_sum(const zf_tensor *out, const double *w) {
    double *v = values_of(out), s = 0;
    if (!v) return NAN;
    for (int64_t i = 0; i < zf_numel(out); i++) s += v[i] * w[i];
    free(v);
    return s;
}

/* d(sum(f(x) * w))/dx for every element of every leaf x[i] (contiguous f64)
 * against central differences with step 1e-6. */
static void gradcheck(const char *name, int nx, zf_tensor *const *x, fwd_fn f, const void *arg) {
    zf_ctx *ctx = zf_ctx_new(NULL), *tmp = zf_ctx_new(NULL), *scratch = zf_ctx_new(NULL);
    zf_tensor *out = f(ctx, x, arg);
    CHECK(out != NULL);
    if (!out) {
        fprintf(stderr, "%s: forward failed: %s\n", name, zf_last_error());
        goto done;
    }
    int64_t n = zf_numel(out);
    double *w = alloc_f64(n);
    for (int64_t i = 0; i < n; i++) w[i] = rnd_unif() * 2 - 1;
    zf_tensor *wt = zf_from_data(ctx, ZF_F64, out->ndim, out->shape, w);
    zf_tensor *loss = zf_sum(ctx, zf_mul(ctx, out, wt), 0, NULL, false);
    zf_status st = loss ? zf_backward(tmp, loss, NULL) : zf_last_status();
    if (st != ZF_OK) fprintf(stderr, "%s: backward failed: %s\n", name, zf_last_error());
    CHECK(st == ZF_OK);
    bool prev = zf_set_grad_enabled(false);
    const double h = 1e-6;
    for (int i = 0; i < nx && st == ZF_OK; i++) {
        double *p = zf_data(x[i]);
        double *g = x[i]->grad ? values_of(x[i]->grad) : alloc_f64(zf_numel(x[i]));
        double worst = 0;
        int64_t worst_k = -1;
        for (int64_t k = 0; g && k < zf_numel(x[i]); k++) {
            double save = p[k];
            p[k] = save + h;
            double lp = weighted_sum(f(scratch, x, arg), w);
            zf_ctx_reset(scratch);
            p[k] = save - h;
            double lm = weighted_sum(f(scratch, x, arg), w);
            zf_ctx_reset(scratch);
            p[k] = save;
            double num = (lp - lm) / (2 * h), err = fabs(num - g[k]) / (1 + fabs(num));
            if (!(err <= worst)) worst = err, worst_k = k;
        }
        if (!(worst <= 1e-6))
            fprintf(stderr, "%s: input %d element %lld: analytic %.12g, numeric differs by %.3g\n", name, i,
                    (long long)worst_k, g ? g[worst_k] : NAN, worst);
        CHECK(g && worst <= 1e-6);
        free(g);
    }
    zf_set_grad_enabled(prev);
    free(w);
done:
    zf_ctx_free(scratch);
    zf_ctx_free(tmp);
    zf_ctx_free(ctx);
}

static zf_tensor *leaf(zf_ctx *ctx, int nd, const int64_t *sh) {
    zf_tensor *t = rand_tensor(ctx, ZF_F64, nd, sh, 0);
    if (t) zf_requires_grad(t, true);
    return t;
}

static zf_tensor *f_cat(zf_ctx *ctx, zf_tensor *const *x, const void *arg) {
    (void)arg; /* [2,3] ++ [4,2]^T ++ [2,1] ++ skipped [0] along -1 -> [2, 8] */
    zf_tensor *ts[4] = {x[0], zf_transpose(ctx, x[1], 0, 1), x[2], x[3]};
    return zf_cat(ctx, 4, ts, -1);
}
static zf_tensor *f_stack(zf_ctx *ctx, zf_tensor *const *x, const void *arg) {
    (void)arg; /* three [3,2] -> [3,3,2] */
    return zf_stack(ctx, 3, x, 1);
}
static zf_tensor *f_split(zf_ctx *ctx, zf_tensor *const *x, const void *arg) {
    (void)arg; /* [5,4] in pieces of 2 rows, put back in reverse order */
    zf_tensor *p[3];
    if (zf_split(ctx, x[0], 2, 0, p, 3) != 3) return NULL;
    zf_tensor *r[3] = {p[2], p[1], p[0]};
    return zf_cat(ctx, 3, r, 0);
}
static zf_tensor *f_chunk(zf_ctx *ctx, zf_tensor *const *x, const void *arg) {
    (void)arg; /* [3,7] in 3 chunks (3, 3, 1 columns); the middle one dropped */
    zf_tensor *p[3];
    if (zf_chunk(ctx, x[0], 3, -1, p, 3) != 3) return NULL;
    zf_tensor *r[2] = {p[2], p[0]};
    return zf_cat(ctx, 2, r, 1);
}
static zf_tensor *f_gather(zf_ctx *ctx, zf_tensor *const *x, const void *arg) {
    /* a: [5,3]^T = [3,5]; index [3,4] along dim 1 with repeats */
    return zf_gather(ctx, zf_transpose(ctx, x[0], 0, 1), 1, (zf_tensor *)arg);
}
static zf_tensor *f_scatter_add(zf_ctx *ctx, zf_tensor *const *x, const void *arg) {
    /* self [4,5], index [3,4] along dim 0, src [4,6] (only its [3,4] corner is used) */
    return zf_scatter_add(ctx, x[0], 0, (zf_tensor *)arg, x[1]);
}
static zf_tensor *f_index_select(zf_ctx *ctx, zf_tensor *const *x, const void *arg) {
    /* a [4,3,2], index [5] along dim 1 with repeats */
    return zf_index_select(ctx, x[0], -2, (zf_tensor *)arg);
}
static zf_tensor *f_index_add(zf_ctx *ctx, zf_tensor *const *x, const void *arg) {
    /* self [3,4], src [5,3]^T = [3,5], index [5] along dim 1 with repeats */
    return zf_index_add(ctx, x[0], 1, (zf_tensor *)arg, zf_transpose(ctx, x[1], 0, 1));
}
static zf_tensor *f_embedding(zf_ctx *ctx, zf_tensor *const *x, const void *arg) {
    return zf_embedding(ctx, x[0], (zf_tensor *)arg); /* weight [6,4], ids [2,3] with repeats */
}
static zf_tensor *f_tril(zf_ctx *ctx, zf_tensor *const *x, const void *arg) {
    (void)arg;
    return zf_tril(ctx, x[0], 1); /* [2,3,4] */
}
static zf_tensor *f_triu(zf_ctx *ctx, zf_tensor *const *x, const void *arg) {
    (void)arg;
    return zf_triu(ctx, zf_transpose(ctx, x[0], 0, 1), -1); /* [4,3]^T */
}

/* 0-dim inputs (counted as [1] by PyTorch): x0, x1 scalars -> [3] */
static zf_tensor *f_scalars(zf_ctx *ctx, zf_tensor *const *x, const void *arg) {
    (void)arg;
    zf_tensor *i0 = zf_zeros(ctx, ZF_I64, 0, NULL), *i1 = zf_zeros(ctx, ZF_I32, 1, (int64_t[]){1});
    zf_tensor *r[3] = {zf_gather(ctx, x[0], 0, i0), zf_index_select(ctx, x[0], -1, i1),
                       zf_index_add(ctx, x[0], 0, i1, x[1])};
    return zf_stack(ctx, 3, r, 0);
}

static void test_gradients(zf_ctx *ctx) {
    zf_tensor *x[4];
    x[0] = leaf(ctx, 2, (int64_t[]){2, 3});
    x[1] = leaf(ctx, 2, (int64_t[]){4, 2});
    x[2] = leaf(ctx, 2, (int64_t[]){2, 1});
    x[3] = leaf(ctx, 1, (int64_t[]){0});
    gradcheck("cat", 4, x, f_cat, NULL);
    for (int i = 0; i < 3; i++) x[i] = leaf(ctx, 2, (int64_t[]){3, 2});
    gradcheck("stack", 3, x, f_stack, NULL);
    x[0] = leaf(ctx, 2, (int64_t[]){5, 4});
    gradcheck("split", 1, x, f_split, NULL);
    x[0] = leaf(ctx, 2, (int64_t[]){3, 7});
    gradcheck("chunk", 1, x, f_chunk, NULL);
    x[0] = leaf(ctx, 2, (int64_t[]){5, 3});
    gradcheck("gather", 1, x, f_gather, rand_index(ctx, ZF_I64, 2, (int64_t[]){3, 4}, 5, 1));
    x[0] = leaf(ctx, 2, (int64_t[]){4, 5});
    x[1] = leaf(ctx, 2, (int64_t[]){4, 6});
    gradcheck("scatter_add", 2, x, f_scatter_add, rand_index(ctx, ZF_I32, 2, (int64_t[]){3, 4}, 4, 2));
    x[0] = leaf(ctx, 3, (int64_t[]){4, 3, 2});
    gradcheck("index_select", 1, x, f_index_select, rand_index(ctx, ZF_I64, 1, (int64_t[]){5}, 3, 2));
    x[0] = leaf(ctx, 2, (int64_t[]){3, 4});
    x[1] = leaf(ctx, 2, (int64_t[]){5, 3});
    gradcheck("index_add", 2, x, f_index_add, rand_index(ctx, ZF_I32, 1, (int64_t[]){5}, 4, 0));
    x[0] = leaf(ctx, 2, (int64_t[]){6, 4});
    gradcheck("embedding", 1, x, f_embedding, rand_index(ctx, ZF_I64, 2, (int64_t[]){2, 3}, 6, 1));
    x[0] = leaf(ctx, 3, (int64_t[]){2, 3, 4});
    gradcheck("tril", 1, x, f_tril, NULL);
    x[0] = leaf(ctx, 2, (int64_t[]){4, 3});
    gradcheck("triu", 1, x, f_triu, NULL);
    x[0] = leaf(ctx, 0, NULL);
    x[1] = leaf(ctx, 0, NULL);
    gradcheck("0-dim gather/index_select/index_add", 2, x, f_scalars, NULL);
}

int main(void) {
    zf_ctx *ctx = zf_ctx_new(NULL);
    zf_ctx_set_poison(ctx, true);
    test_gather(ctx);
    test_scatter_add(ctx);
    test_index_select(ctx);
    test_index_add(ctx);
    test_embedding(ctx);
    test_triangle(ctx);
    test_cat_stack(ctx);
    test_split_chunk(ctx);
    test_bad_inputs(ctx);
    test_no_write_before_check(ctx);
    test_threads();
    test_gradients(ctx);
    zf_ctx_free(ctx);
    ZF_TEST_MAIN_END();
}
