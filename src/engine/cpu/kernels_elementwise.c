/* CPU elementwise kernels: binary (broadcasting), unary, where.
 *
 * Each op is three contiguous array loops, one per compute class (f32, f64,
 * i64). Rows whose operands are all contiguous and already in the compute
 * dtype run the loop in place; other rows are converted through small stack
 * tiles. The f32 loops are cloned for AVX-512/AVX2 and picked at load time. */
#include <math.h>
#include <string.h>

#include "engine/cpu/cpu.h"
#include "engine/cpu/vmath.h"

#define TILE 256

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define ZF_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ZF_CLONES
#endif

/* ---------- binary ---------- */
typedef void (*bin_f32_fn)(int64_t, float *restrict, const float *restrict, const float *restrict);
typedef void (*bin_f64_fn)(int64_t, double *restrict, const double *restrict, const double *restrict);
typedef void (*bin_i64_fn)(int64_t, int64_t *restrict, const int64_t *restrict, const int64_t *restrict);

#define BIN_LOOPS_FP(name, EXPR_F)                                                                         \
    ZF_CLONES static void name##_f32(int64_t n, float *restrict o, const float *restrict pa,               \
                                     const float *restrict pb) {                                           \
        for (int64_t i = 0; i < n; i++) {                                                                  \
            float a = pa[i], b = pb[i];                                                                    \
            o[i] = (EXPR_F);                                                                               \
        }                                                                                                  \
    }                                                                                                      \
    static void name##_f64(int64_t n, double *restrict o, const double *restrict pa,                       \
                           const double *restrict pb) {                                                    \
        for (int64_t i = 0; i < n; i++) {                                                                  \
            double a = pa[i], b = pb[i];                                                                   \
            o[i] = (EXPR_F);                                                                               \
        }                                                                                                  \
    }
#define BIN_LOOPS(name, EXPR_F, EXPR_I)                                                                    \
    BIN_LOOPS_FP(name, EXPR_F)                                                                             \
    static void name##_i64(int64_t n, int64_t *restrict o, const int64_t *restrict pa,                     \
                           const int64_t *restrict pb) {                                                   \
        for (int64_t i = 0; i < n; i++) {                                                                  \
            int64_t a = pa[i], b = pb[i];                                                                  \
            o[i] = (EXPR_I);                                                                               \
        }                                                                                                  \
    }

/* Integer add/sub/mul wrap like two's complement (computed unsigned). */
BIN_LOOPS(add, a + b, (int64_t)((uint64_t)a + (uint64_t)b))
BIN_LOOPS(sub, a - b, (int64_t)((uint64_t)a - (uint64_t)b))
BIN_LOOPS(mul, a * b, (int64_t)((uint64_t)a * (uint64_t)b))
BIN_LOOPS_FP(div, a / b) /* integer division is rejected: cast to float */
/* maximum/minimum propagate NaN, as torch.maximum does */
BIN_LOOPS(maximum, (a != a || b != b) ? a + b : (a > b ? a : b), a > b ? a : b)
BIN_LOOPS(minimum, (a != a || b != b) ? a + b : (a < b ? a : b), a < b ? a : b)
BIN_LOOPS(eq, a == b, a == b)
BIN_LOOPS(ne, a != b, a != b)
BIN_LOOPS(lt, a < b, a < b)
BIN_LOOPS(le, a <= b, a <= b)
BIN_LOOPS(gt, a > b, a > b)
BIN_LOOPS(ge, a >= b, a >= b)
BIN_LOOPS(land, (a != 0) && (b != 0), (a != 0) && (b != 0))
BIN_LOOPS(lor, (a != 0) || (b != 0), (a != 0) || (b != 0))

static void pow_f32(int64_t n, float *restrict o, const float *restrict a, const float *restrict b) {
    for (int64_t i = 0; i < n; i++) o[i] = powf(a[i], b[i]);
}
static void pow_f64(int64_t n, double *restrict o, const double *restrict a, const double *restrict b) {
    for (int64_t i = 0; i < n; i++) o[i] = pow(a[i], b[i]);
}

typedef struct {
    bin_f32_fn f32;
    bin_f64_fn f64;
    bin_i64_fn i64; /* NULL: integer inputs are rejected */
    bool out_bool;
} bin_impl;

static const bin_impl k_bin[ZF_OP_COUNT] = {
    [ZF_OP_ADD] = {add_f32, add_f64, add_i64, false},
    [ZF_OP_SUB] = {sub_f32, sub_f64, sub_i64, false},
    [ZF_OP_MUL] = {mul_f32, mul_f64, mul_i64, false},
    [ZF_OP_DIV] = {div_f32, div_f64, NULL, false},

    [ZF_OP_POW] = {pow_f32, pow_f64, NULL, false},
    [ZF_OP_MAXIMUM] = {maximum_f32, maximum_f64, maximum_i64, false},
    [ZF_OP_MINIMUM] = {minimum_f32, minimum_f64, minimum_i64, false},
    [ZF_OP_EQ] = {eq_f32, eq_f64, eq_i64, true},
    [ZF_OP_NE] = {ne_f32, ne_f64, ne_i64, true},
    [ZF_OP_LT] = {lt_f32, lt_f64, lt_i64, true},
    [ZF_OP_LE] = {le_f32, le_f64, le_i64, true},
    [ZF_OP_GT] = {gt_f32, gt_f64, gt_i64, true},
    [ZF_OP_GE] = {ge_f32, ge_f64, ge_i64, true},
    [ZF_OP_LOGICAL_AND] = {land_f32, land_f64, land_i64, true},
    [ZF_OP_LOGICAL_OR] = {lor_f32, lor_f64, lor_i64, true},
};

typedef struct {
    const bin_impl *impl;
    zf_dtype to, ta, tb;
    zf_compute_class cc;
} bin_job;

static void bin_row(void *arg, char **p, const int64_t *s, int64_t n) {
    const bin_job *j = arg;
    if (j->cc == ZF_CC_F32) {
        if (j->to == ZF_F32 && j->ta == ZF_F32 && j->tb == ZF_F32 && s[0] == 4 && s[1] == 4 && s[2] == 4) {
            j->impl->f32(n, (float *)p[0], (const float *)p[1], (const float *)p[2]);
            return;
        }
        float a[TILE], b[TILE], o[TILE];
        for (int64_t off = 0; off < n; off += TILE) {
            int64_t m = n - off < TILE ? n - off : TILE;
            zf_load_f32(j->ta, p[1] + off * s[1], s[1], a, m);
            zf_load_f32(j->tb, p[2] + off * s[2], s[2], b, m);
            j->impl->f32(m, o, a, b);
            zf_store_f32(j->to, p[0] + off * s[0], s[0], o, m);
        }
    } else if (j->cc == ZF_CC_F64) {
        if (j->to == ZF_F64 && s[0] == 8 && s[1] == 8 && s[2] == 8) {
            j->impl->f64(n, (double *)p[0], (const double *)p[1], (const double *)p[2]);
            return;
        }
        double a[TILE], b[TILE], o[TILE];
        for (int64_t off = 0; off < n; off += TILE) {
            int64_t m = n - off < TILE ? n - off : TILE;
            zf_load_f64(j->ta, p[1] + off * s[1], s[1], a, m);
            zf_load_f64(j->tb, p[2] + off * s[2], s[2], b, m);
            j->impl->f64(m, o, a, b);
            zf_store_f64(j->to, p[0] + off * s[0], s[0], o, m);
        }
    } else {
        int64_t a[TILE], b[TILE], o[TILE];
        for (int64_t off = 0; off < n; off += TILE) {
            int64_t m = n - off < TILE ? n - off : TILE;
            zf_load_i64(j->ta, p[1] + off * s[1], s[1], a, m);
            zf_load_i64(j->tb, p[2] + off * s[2], s[2], b, m);
            j->impl->i64(m, o, a, b);
            zf_store_i64(j->to, p[0] + off * s[0], s[0], o, m);
        }
    }
}

static zf_status k_binary(zf_engine *e, const zf_op_call *c) {
    const bin_impl *impl = &k_bin[c->op];
    const zf_tensor *a = c->in[0], *b = c->in[1];
    bin_job j = {impl, c->out->dtype, a->dtype, b->dtype, zf_compute_class_of(a->dtype)};
    if (j.cc == ZF_CC_I64 && !impl->i64)
        return zf_set_error(ZF_ERR_DTYPE, "%s: integer dtype %s is not supported (cast to a float dtype)",
                            zf_op_name(c->op), zf_dtype_name(a->dtype));
    const zf_tensor *ops[3] = {c->out, a, b};
    zf_iter it;
    zf_iter_init(&it, c->out->ndim, c->out->shape, 3, ops);
    zf_iter_parallel(e, &it, 1 << 14, bin_row, &j);
    return ZF_OK;
}

/* ---------- unary ---------- */
typedef void (*un_f32_fn)(int64_t, float *restrict, const float *restrict, const double *prm);
typedef void (*un_f64_fn)(int64_t, double *restrict, const double *restrict, const double *prm);
typedef void (*un_i64_fn)(int64_t, int64_t *restrict, const int64_t *restrict, const double *prm);

#define UN_F32(name, EXPR)                                                                                 \
    ZF_CLONES static void name##_f32(int64_t n, float *restrict o, const float *restrict px,               \
                                     const double *prm) {                                                  \
        (void)prm;                                                                                         \
        for (int64_t i = 0; i < n; i++) {                                                                  \
            float x = px[i];                                                                               \
            o[i] = (EXPR);                                                                                 \
        }                                                                                                  \
    }
#define UN_F64(name, EXPR)                                                                                 \
    static void name##_f64(int64_t n, double *restrict o, const double *restrict px, const double *prm) {  \
        (void)prm;                                                                                         \
        for (int64_t i = 0; i < n; i++) {                                                                  \
            double x = px[i];                                                                              \
            o[i] = (EXPR);                                                                                 \
        }                                                                                                  \
    }
#define UN_I64(name, EXPR)                                                                                 \
    static void name##_i64(int64_t n, int64_t *restrict o, const int64_t *restrict px,                     \
                           const double *prm) {                                                            \
        (void)prm;                                                                                         \
        for (int64_t i = 0; i < n; i++) {                                                                  \
            int64_t x = px[i];                                                                             \
            o[i] = (EXPR);                                                                                 \
        }                                                                                                  \
    }

#define SQRT_1_2 0.70710678118654752440
#define SQRT_2_PI 0.79788456080286535588

UN_F32(neg, -x) UN_F64(neg, -x) UN_I64(neg, (int64_t)(0 - (uint64_t)x))
UN_F32(abs, fabsf(x)) UN_F64(abs, fabs(x)) UN_I64(abs, x < 0 ? (int64_t)(0 - (uint64_t)x) : x)
UN_F32(sign, x > 0 ? 1.0f : (x < 0 ? -1.0f : x)) UN_F64(sign, x > 0 ? 1.0 : (x < 0 ? -1.0 : x))
UN_I64(sign, (x > 0) - (x < 0))
UN_F32(exp, zf_vexpf(x)) UN_F64(exp, exp(x))
UN_F32(log, logf(x)) UN_F64(log, log(x))
UN_F32(log1p, log1pf(x)) UN_F64(log1p, log1p(x))
UN_F32(erf, erff(x)) UN_F64(erf, erf(x))
UN_F32(sqrt, sqrtf(x)) UN_F64(sqrt, sqrt(x))
UN_F32(rsqrt, 1.0f / sqrtf(x)) UN_F64(rsqrt, 1.0 / sqrt(x))
UN_F32(sin, sinf(x)) UN_F64(sin, sin(x))
UN_F32(cos, cosf(x)) UN_F64(cos, cos(x))
UN_F32(tanh, zf_vtanhf(x)) UN_F64(tanh, tanh(x))
UN_F32(sigmoid, zf_vsigmoidf(x)) UN_F64(sigmoid, 1.0 / (1.0 + exp(-x)))
UN_F32(relu, x > 0 ? x : (x != x ? x : 0.0f)) UN_F64(relu, x > 0 ? x : (x != x ? x : 0.0))
UN_I64(relu, x > 0 ? x : 0)
UN_F32(leaky, x > 0 ? x : x * (float)prm[0]) UN_F64(leaky, x > 0 ? x : x * prm[0])
UN_F32(gelu, 0.5f * x * (1.0f + erff(x * (float)SQRT_1_2))) UN_F64(gelu, 0.5 * x * (1.0 + erf(x * SQRT_1_2)))
UN_F32(gelu_tanh, 0.5f * x * (1.0f + zf_vtanhf((float)SQRT_2_PI * (x + 0.044715f * x * x * x))))
UN_F64(gelu_tanh, 0.5 * x * (1.0 + tanh(SQRT_2_PI * (x + 0.044715 * x * x * x))))
UN_F32(silu, x * zf_vsigmoidf(x)) UN_F64(silu, x / (1.0 + exp(-x)))
/* softplus: log1p(exp(beta*x))/beta, x itself once beta*x > threshold */
UN_F32(softplus, x * (float)prm[0] > (float)prm[1] ? x : log1pf(expf(x * (float)prm[0])) / (float)prm[0])
UN_F64(softplus, x * prm[0] > prm[1] ? x : log1p(exp(x * prm[0])) / prm[0])
/* clamp: prm[0]=min, prm[1]=max; a NaN bound is no bound; NaN x stays NaN */
UN_F32(clamp, x < (float)prm[0] ? (float)prm[0] : (x > (float)prm[1] ? (float)prm[1] : x))
UN_F64(clamp, x < prm[0] ? prm[0] : (x > prm[1] ? prm[1] : x))
UN_I64(clamp, (double)x < prm[0] ? (int64_t)prm[0] : ((double)x > prm[1] ? (int64_t)prm[1] : x))
UN_F32(lnot, x == 0) UN_F64(lnot, x == 0) UN_I64(lnot, x == 0)

typedef struct {
    un_f32_fn f32;
    un_f64_fn f64;
    un_i64_fn i64;
    bool out_bool;
} un_impl;

static const un_impl k_un[ZF_OP_COUNT] = {
    [ZF_OP_NEG] = {neg_f32, neg_f64, neg_i64, false},
    [ZF_OP_ABS] = {abs_f32, abs_f64, abs_i64, false},
    [ZF_OP_SIGN] = {sign_f32, sign_f64, sign_i64, false},
    [ZF_OP_EXP] = {exp_f32, exp_f64, NULL, false},
    [ZF_OP_LOG] = {log_f32, log_f64, NULL, false},
    [ZF_OP_LOG1P] = {log1p_f32, log1p_f64, NULL, false},
    [ZF_OP_ERF] = {erf_f32, erf_f64, NULL, false},
    [ZF_OP_SQRT] = {sqrt_f32, sqrt_f64, NULL, false},
    [ZF_OP_RSQRT] = {rsqrt_f32, rsqrt_f64, NULL, false},
    [ZF_OP_SIN] = {sin_f32, sin_f64, NULL, false},
    [ZF_OP_COS] = {cos_f32, cos_f64, NULL, false},
    [ZF_OP_TANH] = {tanh_f32, tanh_f64, NULL, false},
    [ZF_OP_SIGMOID] = {sigmoid_f32, sigmoid_f64, NULL, false},
    [ZF_OP_RELU] = {relu_f32, relu_f64, relu_i64, false},
    [ZF_OP_LEAKY_RELU] = {leaky_f32, leaky_f64, NULL, false},
    [ZF_OP_GELU] = {gelu_f32, gelu_f64, NULL, false},
    [ZF_OP_GELU_TANH] = {gelu_tanh_f32, gelu_tanh_f64, NULL, false},
    [ZF_OP_SILU] = {silu_f32, silu_f64, NULL, false},
    [ZF_OP_SOFTPLUS] = {softplus_f32, softplus_f64, NULL, false},
    [ZF_OP_CLAMP] = {clamp_f32, clamp_f64, clamp_i64, false},
    [ZF_OP_LOGICAL_NOT] = {lnot_f32, lnot_f64, lnot_i64, true},
};

typedef struct {
    const un_impl *impl;
    zf_dtype to, ta;
    zf_compute_class cc;
    double prm[4];
} un_job;

static void un_row(void *arg, char **p, const int64_t *s, int64_t n) {
    const un_job *j = arg;
    if (j->cc == ZF_CC_F32) {
        if (j->to == ZF_F32 && j->ta == ZF_F32 && s[0] == 4 && s[1] == 4) {
            j->impl->f32(n, (float *)p[0], (const float *)p[1], j->prm);
            return;
        }
        float a[TILE], o[TILE];
        for (int64_t off = 0; off < n; off += TILE) {
            int64_t m = n - off < TILE ? n - off : TILE;
            zf_load_f32(j->ta, p[1] + off * s[1], s[1], a, m);
            j->impl->f32(m, o, a, j->prm);
            zf_store_f32(j->to, p[0] + off * s[0], s[0], o, m);
        }
    } else if (j->cc == ZF_CC_F64) {
        if (j->to == ZF_F64 && s[0] == 8 && s[1] == 8) {
            j->impl->f64(n, (double *)p[0], (const double *)p[1], j->prm);
            return;
        }
        double a[TILE], o[TILE];
        for (int64_t off = 0; off < n; off += TILE) {
            int64_t m = n - off < TILE ? n - off : TILE;
            zf_load_f64(j->ta, p[1] + off * s[1], s[1], a, m);
            j->impl->f64(m, o, a, j->prm);
            zf_store_f64(j->to, p[0] + off * s[0], s[0], o, m);
        }
    } else {
        int64_t a[TILE], o[TILE];
        for (int64_t off = 0; off < n; off += TILE) {
            int64_t m = n - off < TILE ? n - off : TILE;
            zf_load_i64(j->ta, p[1] + off * s[1], s[1], a, m);
            j->impl->i64(m, o, a, j->prm);
            zf_store_i64(j->to, p[0] + off * s[0], s[0], o, m);
        }
    }
}

static zf_status k_unary(zf_engine *e, const zf_op_call *c) {
    const un_impl *impl = &k_un[c->op];
    const zf_tensor *a = c->in[0];
    un_job j = {impl, c->out->dtype, a->dtype, zf_compute_class_of(a->dtype), {0}};
    if (j.cc == ZF_CC_I64 && !impl->i64)
        return zf_set_error(ZF_ERR_DTYPE, "%s: integer dtype %s is not supported (cast to a float dtype)",
                            zf_op_name(c->op), zf_dtype_name(a->dtype));
    memcpy(j.prm, c->p.f, sizeof j.prm);
    if (c->op == ZF_OP_CLAMP) {
        if (j.prm[0] != j.prm[0]) j.prm[0] = -INFINITY;
        if (j.prm[1] != j.prm[1]) j.prm[1] = INFINITY;
    }
    const zf_tensor *ops[2] = {c->out, a};
    zf_iter it;
    zf_iter_init(&it, c->out->ndim, c->out->shape, 2, ops);
    zf_iter_parallel(e, &it, 1 << 13, un_row, &j);
    return ZF_OK;
}

/* ---------- where(cond, a, b) ---------- */
typedef struct {
    zf_dtype to, tc, ta, tb;
    zf_compute_class cc;
} where_job;

/* Fast rows: bool condition, f32 operands and output, each operand
 * contiguous or broadcast (stride 0). The select is done on the bits with a
 * mask, so the loop has no branch and vectorizes. */
ZF_CLONES static void where_f32(int64_t n, uint32_t *restrict o, const uint8_t *restrict c, int64_t sc,
                                const uint32_t *restrict a, int64_t sa, const uint32_t *restrict b, int64_t sb) {
    if (sc == 1 && sa == 1 && sb == 0) {
        const uint32_t bv = b[0];
        for (int64_t i = 0; i < n; i++) {
            uint32_t m = 0u - (uint32_t)(c[i] != 0);
            o[i] = (a[i] & m) | (bv & ~m);
        }
    } else if (sc == 1 && sa == 1 && sb == 1) {
        for (int64_t i = 0; i < n; i++) {
            uint32_t m = 0u - (uint32_t)(c[i] != 0);
            o[i] = (a[i] & m) | (b[i] & ~m);
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            uint32_t m = 0u - (uint32_t)(c[i * sc] != 0);
            o[i] = (a[i * sa] & m) | (b[i * sb] & ~m);
        }
    }
}

static void where_row(void *arg, char **p, const int64_t *s, int64_t n) {
    const where_job *j = arg;
    if (j->tc == ZF_BOOL && j->to == ZF_F32 && j->ta == ZF_F32 && j->tb == ZF_F32 && s[0] == 4 && s[1] <= 1 &&
        s[1] >= 0 && (s[2] == 4 || s[2] == 0) && (s[3] == 4 || s[3] == 0)) {
        where_f32(n, (uint32_t *)p[0], (const uint8_t *)p[1], s[1], (const uint32_t *)p[2], s[2] / 4,
                  (const uint32_t *)p[3], s[3] / 4);
        return;
    }
    int64_t cnd[TILE];
    for (int64_t off = 0; off < n; off += TILE) {
        int64_t m = n - off < TILE ? n - off : TILE;
        zf_load_i64(j->tc, p[1] + off * s[1], s[1], cnd, m);
        if (j->cc == ZF_CC_F64 || j->cc == ZF_CC_F32) {
            double a[TILE], b[TILE];
            zf_load_f64(j->ta, p[2] + off * s[2], s[2], a, m);
            zf_load_f64(j->tb, p[3] + off * s[3], s[3], b, m);
            for (int64_t i = 0; i < m; i++) a[i] = cnd[i] ? a[i] : b[i];
            zf_store_f64(j->to, p[0] + off * s[0], s[0], a, m);
        } else {
            int64_t a[TILE], b[TILE];
            zf_load_i64(j->ta, p[2] + off * s[2], s[2], a, m);
            zf_load_i64(j->tb, p[3] + off * s[3], s[3], b, m);
            for (int64_t i = 0; i < m; i++) a[i] = cnd[i] ? a[i] : b[i];
            zf_store_i64(j->to, p[0] + off * s[0], s[0], a, m);
        }
    }
}

static zf_status k_where(zf_engine *e, const zf_op_call *c) {
    where_job j = {c->out->dtype, c->in[0]->dtype, c->in[1]->dtype, c->in[2]->dtype,
                   zf_compute_class_of(c->in[1]->dtype)};
    const zf_tensor *ops[4] = {c->out, c->in[0], c->in[1], c->in[2]};
    zf_iter it;
    zf_iter_init(&it, c->out->ndim, c->out->shape, 4, ops);
    zf_iter_parallel(e, &it, 1 << 14, where_row, &j);
    return ZF_OK;
}

void zf_cpu_register_elementwise(zf_kernel_fn *k) {
    for (int op = 0; op < ZF_OP_COUNT; op++) {
        if (k_bin[op].f32) k[op] = k_binary;
        if (k_un[op].f32) k[op] = k_unary;
    }
    k[ZF_OP_WHERE] = k_where;
}
