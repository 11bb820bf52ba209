/* View cases: RESHAPE (zf_reshape, zf_view, zf_flatten, zf_squeeze,
 * zf_unsqueeze), PERMUTE (zf_permute, zf_transpose), SLICE (zf_slice,
 * zf_narrow), EXPAND (zf_expand), for every scalar dtype.
 *
 * Each checks the logical values read through the result's strides against
 * an index mapping computed here, exactly; views must share the input's
 * storage (no copy), except a reshape the strides cannot express, which
 * must copy through the COPY kernel. Gradients: finite differences through
 * each view, including the reshape-that-copies path. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

enum {
    V_RESHAPE, /* i[1] = ndim, i[2..] = shape (may hold -1) */
    V_VIEW,
    V_FLATTEN,   /* i[1] = start, i[2] = end */
    V_SQUEEZE,   /* i[1] = dim */
    V_UNSQUEEZE, /* i[1] = dim */
    V_PERMUTE,   /* i[1] = ndim, i[2..] = dims */
    V_TRANSPOSE, /* i[1], i[2] = dims */
    V_SLICE,     /* i[1] = dim, i[2] = start, i[3] = end, i[4] = step */
    V_NARROW,    /* i[1] = dim, i[2] = start, i[3] = length */
    V_EXPAND,    /* i[1] = ndim, i[2..] = shape (may hold -1) */
    V_T_RESHAPE, /* transpose(-1,-2) then reshape to i[1] dims i[2..]: the copying path */
};

static int run_view(zf_ctx *ctx, zf_tensor *const *in, const h_case *c, zf_tensor **out) {
    zf_tensor *a = in[0];
    const int64_t *p = &c->i[1];
    int64_t shape[ZF_MAX_DIMS];
    int dims[ZF_MAX_DIMS];
    for (int k = 0; k < 6; k++) {
        shape[k] = p[1 + k];
        dims[k] = (int)p[1 + k];
    }
    switch (c->i[0]) {
    case V_RESHAPE: return h_one(out, zf_reshape(ctx, a, (int)p[0], shape));
    case V_VIEW: return h_one(out, zf_view(ctx, a, (int)p[0], shape));
    case V_FLATTEN: return h_one(out, zf_flatten(ctx, a, (int)p[0], (int)p[1]));
    case V_SQUEEZE: return h_one(out, zf_squeeze(ctx, a, (int)p[0]));
    case V_UNSQUEEZE: return h_one(out, zf_unsqueeze(ctx, a, (int)p[0]));
    case V_PERMUTE: return h_one(out, zf_permute(ctx, a, a->ndim ? dims : NULL));
    case V_TRANSPOSE: return h_one(out, zf_transpose(ctx, a, (int)p[0], (int)p[1]));
    case V_SLICE: return h_one(out, zf_slice(ctx, a, (int)p[0], p[1], p[2], p[3]));
    case V_NARROW: return h_one(out, zf_narrow(ctx, a, (int)p[0], p[1], p[2]));
    case V_EXPAND: return h_one(out, zf_expand(ctx, a, (int)p[0], shape));
    case V_T_RESHAPE: return h_one(out, zf_reshape(ctx, zf_transpose(ctx, a, -1, -2), (int)p[0], shape));
    default: return 0;
    }
}

static int norm(int64_t d, int ndim) { return (int)(d < 0 ? d + ndim : d); }

/* Copies element k of a into element o of out (same dtype). */
static void put(h_arr *out, int64_t o, const h_arr *a, int64_t k) {
    out->v[o] = a->v[k];
    if (out->iv) out->iv[o] = a->iv[k];
}

/* Row-major order is kept: same values, new shape. */
static void ref_same_order(const h_arr *a, int nd, const int64_t *shape, h_arr *out) {
    int64_t sh[ZF_MAX_DIMS], known = 1;
    int infer = -1;
    for (int k = 0; k < nd; k++) {
        sh[k] = shape[k];
        if (sh[k] == -1) infer = k;
        else known *= sh[k];
    }
    if (infer >= 0) sh[infer] = known ? a->n / known : 0;
    h_arr_alloc(out, a->dtype, nd, sh);
    for (int64_t i = 0; i < a->n && i < out->n; i++) put(out, i, a, i);
}

static void ref_view(const h_case *c, const h_arr *in, h_arr *out) {
    const h_arr *a = &in[0];
    const int64_t *p = &c->i[1];
    int64_t sh[ZF_MAX_DIMS], idx[ZF_MAX_DIMS], j[ZF_MAX_DIMS];
    int nd = 0;
    switch (c->i[0]) {
    case V_RESHAPE:
    case V_VIEW:
    case V_T_RESHAPE:
        if (c->i[0] == V_T_RESHAPE) { /* logical transpose first, then row-major order */
            h_arr t;
            int64_t ts[ZF_MAX_DIMS];
            memcpy(ts, a->shape, sizeof ts);
            ts[a->ndim - 1] = a->shape[a->ndim - 2];
            ts[a->ndim - 2] = a->shape[a->ndim - 1];
            h_arr_alloc(&t, a->dtype, a->ndim, ts);
            for (int64_t i = 0; i < t.n; i++) {
                h_unravel(i, t.ndim, t.shape, idx);
                int64_t x = idx[a->ndim - 1];
                idx[a->ndim - 1] = idx[a->ndim - 2];
                idx[a->ndim - 2] = x;
                put(&t, i, a, h_ravel(a->ndim, a->shape, idx));
            }
            ref_same_order(&t, (int)p[0], &p[1], out);
            h_arr_free(&t);
        } else {
            ref_same_order(a, (int)p[0], &p[1], out);
        }
        return;
    case V_FLATTEN: {
        int s = norm(p[0], a->ndim), e = norm(p[1], a->ndim);
        int64_t m = 1;
        for (int k = 0; k < s; k++) sh[nd++] = a->shape[k];
        for (int k = s; k <= e; k++) m *= a->shape[k];
        sh[nd++] = m;
        for (int k = e + 1; k < a->ndim; k++) sh[nd++] = a->shape[k];
        ref_same_order(a, nd, sh, out);
        return;
    }
    case V_SQUEEZE:
        for (int k = 0; k < a->ndim; k++)
            if (k != norm(p[0], a->ndim) || a->shape[k] != 1) sh[nd++] = a->shape[k];
        ref_same_order(a, nd, sh, out);
        return;
    case V_UNSQUEEZE: {
        int d = norm(p[0], a->ndim + 1);
        for (int k = 0, m = 0; k <= a->ndim; k++) sh[nd++] = k == d ? 1 : a->shape[m++];
        ref_same_order(a, nd, sh, out);
        return;
    }
    case V_PERMUTE:
    case V_TRANSPOSE: {
        int perm[ZF_MAX_DIMS];
        for (int k = 0; k < a->ndim; k++) perm[k] = c->i[0] == V_PERMUTE ? norm(p[1 + k], a->ndim) : k;
        if (c->i[0] == V_TRANSPOSE) {
            int d0 = norm(p[0], a->ndim), d1 = norm(p[1], a->ndim);
            perm[d0] = d1;
            perm[d1] = d0;
        }
        for (int k = 0; k < a->ndim; k++) sh[k] = a->shape[perm[k]];
        h_arr_alloc(out, a->dtype, a->ndim, sh);
        for (int64_t i = 0; i < out->n; i++) {
            h_unravel(i, a->ndim, sh, idx);
            for (int k = 0; k < a->ndim; k++) j[perm[k]] = idx[k];
            put(out, i, a, h_ravel(a->ndim, a->shape, j));
        }
        return;
    }
    case V_SLICE:
    case V_NARROW: {
        /* Python slicing: negative start/end count from the end, clamped */
        int d = norm(p[0], a->ndim);
        int64_t n = a->shape[d], start = p[1], end = c->i[0] == V_NARROW ? p[1] + p[2] : p[2];
        int64_t step = c->i[0] == V_NARROW ? 1 : p[3];
        if (start < 0) start += n;
        if (end < 0) end += n;
        start = start < 0 ? 0 : (start > n ? n : start);
        end = end > n ? n : (end < start ? start : end);
        memcpy(sh, a->shape, sizeof sh);
        sh[d] = (end - start + step - 1) / step;
        h_arr_alloc(out, a->dtype, a->ndim, sh);
        for (int64_t i = 0; i < out->n; i++) {
            h_unravel(i, a->ndim, sh, idx);
            idx[d] = start + idx[d] * step;
            put(out, i, a, h_ravel(a->ndim, a->shape, idx));
        }
        return;
    }
    case V_EXPAND: {
        nd = (int)p[0];
        for (int k = 0; k < nd; k++) {
            int ak = k - (nd - a->ndim);
            sh[k] = p[1 + k] == -1 ? a->shape[ak] : p[1 + k];
        }
        h_arr_alloc(out, a->dtype, nd, sh);
        for (int64_t i = 0; i < out->n; i++) {
            h_unravel(i, nd, sh, idx);
            put(out, i, a, h_bcast_index(a, nd, idx));
        }
        return;
    }
    default: return;
    }
}

typedef struct {
    zf_op op;
    int variant;
    int64_t p[6];
    int ndim;
    int64_t shape[3];
    h_layout layout;
    bool copies; /* the result is a copy (COPY kernel), not a view */
    bool large;
    const char *what;
} view_case;

#define C H_L_CONTIG
#define T H_L_TRANS
#define S H_L_STRIDED
static const view_case k_views[] = {
    {ZF_OP_RESHAPE, V_RESHAPE, {2, 12, 5}, 3, {3, 4, 5}, C, false, false, "reshape [12,5]"},
    {ZF_OP_RESHAPE, V_RESHAPE, {2, -1, 10}, 3, {3, 4, 5}, C, false, false, "reshape [-1,10]"},
    {ZF_OP_RESHAPE, V_RESHAPE, {1, 20}, 2, {4, 5}, T, true, false, "reshape [20] (copies)"},
    {ZF_OP_RESHAPE, V_VIEW, {2, 6, 4}, 3, {2, 3, 4}, S, false, false, "view [6,4]"},
    {ZF_OP_RESHAPE, V_RESHAPE, {2, 1, 1}, 0, {0}, C, false, false, "reshape 0-dim [1,1]"},
    {ZF_OP_RESHAPE, V_RESHAPE, {0}, 2, {1, 1}, C, false, false, "reshape [1,1] to 0-dim"},
    {ZF_OP_RESHAPE, V_FLATTEN, {1, 2}, 3, {2, 3, 4}, C, false, false, "flatten(1,2)"},
    {ZF_OP_RESHAPE, V_SQUEEZE, {1}, 3, {3, 1, 5}, S, false, false, "squeeze(1)"},
    {ZF_OP_RESHAPE, V_UNSQUEEZE, {-1}, 2, {4, 5}, T, false, false, "unsqueeze(-1)"},
    {ZF_OP_RESHAPE, V_RESHAPE, {1, 120000}, 2, {300, 400}, T, true, true, "reshape [120000] (copies)"},
    {ZF_OP_PERMUTE, V_PERMUTE, {3, 2, 0, 1}, 3, {2, 3, 4}, C, false, false, "permute(2,0,1)"},
    {ZF_OP_PERMUTE, V_PERMUTE, {3, -1, 1, 0}, 3, {2, 3, 4}, S, false, false, "permute(-1,1,0)"},
    {ZF_OP_PERMUTE, V_TRANSPOSE, {0, 1}, 2, {4, 5}, T, false, false, "transpose(0,1)"},
    {ZF_OP_PERMUTE, V_PERMUTE, {0}, 0, {0}, C, false, false, "permute 0-dim"},
    {ZF_OP_PERMUTE, V_TRANSPOSE, {0, 1}, 2, {300, 400}, C, false, true, "transpose(0,1)"},
    {ZF_OP_SLICE, V_SLICE, {1, 1, 5, 2}, 2, {5, 6}, C, false, false, "slice(1,1:5:2)"},
    {ZF_OP_SLICE, V_SLICE, {0, -3, 100, 1}, 2, {5, 6}, T, false, false, "slice(0,-3:)"},
    {ZF_OP_SLICE, V_SLICE, {-1, 0, 9, 3}, 3, {2, 3, 9}, S, false, false, "slice(-1,::3)"},
    {ZF_OP_SLICE, V_SLICE, {0, 4, 2, 1}, 2, {5, 6}, C, false, false, "slice(0,4:2) empty"},
    {ZF_OP_SLICE, V_NARROW, {1, 2, 3}, 2, {4, 6}, C, false, false, "narrow(1,2,3)"},
    {ZF_OP_SLICE, V_SLICE, {1, 1, 400, 2}, 2, {600, 400}, C, false, true, "slice(1,1::2)"},
    {ZF_OP_EXPAND, V_EXPAND, {3, 2, 3, 4}, 2, {3, 1}, C, false, false, "expand [2,3,4]"},
    {ZF_OP_EXPAND, V_EXPAND, {2, -1, 5}, 2, {4, 1}, T, false, false, "expand [-1,5]"},
    {ZF_OP_EXPAND, V_EXPAND, {2, 2, 3}, 0, {0}, C, false, false, "expand 0-dim [2,3]"},
    {ZF_OP_EXPAND, V_EXPAND, {2, 300, 400}, 2, {1, 400}, C, false, true, "expand [300,400]"},
};

static void add_view_cases(h_suite *s) {
    for (size_t v = 0; v < sizeof k_views / sizeof k_views[0]; v++) {
        const view_case *vc = &k_views[v];
        for (int t = 0; t <= ZF_BOOL; t++) {
            if (vc->large && !h_large_dtype((zf_dtype)t)) continue;
            h_case c = {0};
            c.op = vc->op;
            c.trace_op = vc->copies ? ZF_OP_COPY : ZF_OP_COUNT;
            c.dtype = (zf_dtype)t;
            c.n_in = 1;
            c.in[0] = h_in(c.dtype, vc->ndim, vc->shape, H_V_SIGNED, vc->layout);
            c.run = run_view;
            c.ref = ref_view;
            c.i[0] = vc->variant;
            memcpy(&c.i[1], vc->p, sizeof vc->p);
            c.flags = H_EXACT | (vc->copies ? 0 : H_SHARES) | (vc->large ? H_LARGE : 0);
            h_label(&c, vc->what);
            h_add(s, &c);
        }
    }
}

/* Finite differences through each view (leaves are contiguous f64). */
static void add_grad_cases(h_suite *s) {
    static const view_case g[] = {
        {ZF_OP_RESHAPE, V_RESHAPE, {2, 3, 2}, 2, {2, 3}, C, false, false, "grad reshape"},
        {ZF_OP_RESHAPE, V_T_RESHAPE, {1, 6}, 2, {2, 3}, C, true, false, "grad transpose+reshape (copies)"},
        {ZF_OP_PERMUTE, V_PERMUTE, {3, 2, 0, 1}, 3, {2, 3, 2}, C, false, false, "grad permute"},
        {ZF_OP_SLICE, V_SLICE, {1, 1, 5, 2}, 2, {3, 6}, C, false, false, "grad slice"},
        {ZF_OP_EXPAND, V_EXPAND, {3, 2, 3, 4}, 2, {3, 1}, C, false, false, "grad expand"},
    };
    for (size_t v = 0; v < sizeof g / sizeof g[0]; v++) {
        h_case c = {0};
        c.op = g[v].op;
        c.dtype = ZF_F64;
        c.n_in = 1;
        c.in[0] = h_in(ZF_F64, g[v].ndim, g[v].shape, H_V_SIGNED, C);
        c.run = run_view;
        c.i[0] = g[v].variant;
        memcpy(&c.i[1], g[v].p, sizeof g[v].p);
        c.flags = H_GRAD;
        h_label(&c, g[v].what);
        h_add(s, &c);
    }
}

void h_cases_views(h_suite *s) {
    add_view_cases(s);
    add_grad_cases(s);
}
