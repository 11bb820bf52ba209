/* CPU optimizer updates, in place: SGD_UPDATE (param, grad, momentum
 * buffer), ADAM_UPDATE (param, grad, exp_avg, exp_avg_sq) and EMA_UPDATE
 * (average, param). out is in[0] (the parameter, or the average); SGD
 * without momentum has no buffer operand. Every operand is contiguous, of
 * one shape and of the output's dtype (f32 or f64); arithmetic is in that
 * dtype, in the order of PyTorch's single-tensor implementations
 * (torch/optim/sgd.py, adam.py, adamw.py in 1.13), with the scalar factors
 * computed in double. EMA: a = decay * a + (1 - decay) * p, as
 * torch.optim.swa_utils.AveragedModel's EMA (or timm's ModelEmaV2) writes
 * it, both factors rounded to the dtype once. */
#include <math.h>

#include "engine/cpu/cpu.h"

typedef struct {
    const zf_op_call *c;
    char *p, *m, *v; /* the output (parameter or EMA average), operands 2 and 3 */
    const char *g;   /* operand 1: the gradient (the parameter for EMA) */
} upd_job;

/* The Adam update loop with the (AdamW-decayed) parameter PD and the
 * (L2-decayed) gradient GD of element i; ADAM_LOOP picks one loop per mode. */
#define ADAM_BODY(T, SQRT, PD, GD)                                                           \
    for (int64_t i = 0; i < n; i++) {                                                        \
        T pi = (PD), d = (GD);                                                               \
        T mi = m[i] * b1 + c1 * d;                                                           \
        T vi = v[i] * b2 + c2 * d * d;                                                       \
        m[i] = mi;                                                                           \
        v[i] = vi;                                                                           \
        T denom = SQRT(vi) / bc2_sqrt + eps;                                                 \
        p[i] = pi + (-step_size) * (mi / denom);                                             \
    }
#define ADAM_LOOP(T, SQRT)                                                                   \
    if (mode == 2) {                                                                         \
        ADAM_BODY(T, SQRT, p[i] * decay, g[i])                                               \
    } else if (mode == 1) {                                                                  \
        ADAM_BODY(T, SQRT, p[i], g[i] + wd * p[i])                                           \
    } else {                                                                                 \
        ADAM_BODY(T, SQRT, p[i], g[i])                                                       \
    }

#define DEFINE_UPDATES(T, SQRT)                                                              \
    static void sgd_##T(const zf_op_params *q, T *p, const T *g, T *buf, int64_t n) {        \
        const T lr = (T)q->f[0], mom = (T)q->f[1], damp1 = (T)(1.0 - q->f[2]);               \
        const T wd = (T)q->f[3];                                                             \
        const bool nesterov = q->i[0] != 0, first = q->i[1] != 0, use_mom = q->f[1] != 0;    \
        for (int64_t i = 0; i < n; i++) {                                                    \
            T d = g[i];                                                                      \
            if (wd != 0) d = d + wd * p[i];                                                  \
            if (use_mom) {                                                                   \
                T b = first ? d : buf[i] * mom + damp1 * d;                                  \
                buf[i] = b;                                                                  \
                d = nesterov ? d + mom * b : b;                                              \
            }                                                                                \
            p[i] = p[i] + (-lr) * d;                                                         \
        }                                                                                    \
    }                                                                                        \
    /* One loop per weight-decay mode, so each is branch-free and vectorizes */              \
    static void adam_##T(const zf_op_params *q, T *p, const T *g, T *m, T *v, int64_t n) {   \
        const double lr = q->f[0], wd_d = q->f[4];                                           \
        const T b1 = (T)q->f[1], b2 = (T)q->f[2], eps = (T)q->f[3];                          \
        const T c1 = (T)(1.0 - q->f[1]), c2 = (T)(1.0 - q->f[2]);                            \
        const T wd = (T)wd_d, decay = (T)(1.0 - lr * wd_d);                                  \
        const T step_size = (T)(lr / q->f[5]), bc2_sqrt = (T)sqrt(q->f[6]);                  \
        const int mode = q->i[0] ? 2 : wd_d != 0 ? 1 : 0; /* 2 AdamW, 1 L2 decay, 0 none */   \
        ADAM_LOOP(T, SQRT)                                                                   \
    }                                                                                        \
    static void ema_##T(const zf_op_params *q, T *a, const T *p, int64_t n) {                 \
        const T d = (T)q->f[0], c = (T)(1.0 - q->f[0]);                                      \
        for (int64_t i = 0; i < n; i++) a[i] = d * a[i] + c * p[i];                          \
    }
DEFINE_UPDATES(float, sqrtf)
DEFINE_UPDATES(double, sqrt)

static void upd_chunk(void *arg, int64_t b, int64_t e) {
    const upd_job *j = arg;
    const zf_op_call *c = j->c;
    bool f64 = c->out->dtype == ZF_F64;
    size_t es = f64 ? 8 : 4, o = (size_t)b * es;
    if (c->op == ZF_OP_EMA_UPDATE) {
        if (f64)
            ema_double(&c->p, (double *)(j->p + o), (const double *)(j->g + o), e - b);
        else
            ema_float(&c->p, (float *)(j->p + o), (const float *)(j->g + o), e - b);
    } else if (c->op == ZF_OP_SGD_UPDATE) {
        if (f64)
            sgd_double(&c->p, (double *)(j->p + o), (const double *)(j->g + o), (double *)(j->m + o), e - b);
        else
            sgd_float(&c->p, (float *)(j->p + o), (const float *)(j->g + o), (float *)(j->m + o), e - b);
    } else {
        if (f64)
            adam_double(&c->p, (double *)(j->p + o), (const double *)(j->g + o), (double *)(j->m + o),
                        (double *)(j->v + o), e - b);
        else
            adam_float(&c->p, (float *)(j->p + o), (const float *)(j->g + o), (float *)(j->m + o),
                       (float *)(j->v + o), e - b);
    }
}

static zf_status k_update(zf_engine *e, const zf_op_call *c) {
    const zf_tensor *p = c->out;
    int need = c->op == ZF_OP_ADAM_UPDATE ? 4 : c->op == ZF_OP_SGD_UPDATE ? 3 : 2;
    if (c->op == ZF_OP_SGD_UPDATE && c->p.f[1] == 0) need = 2; /* no momentum buffer */
    if (p->dtype != ZF_F32 && p->dtype != ZF_F64)
        return zf_set_error(ZF_ERR_DTYPE, "%s: f32/f64 parameters only, got %s", zf_op_name(c->op),
                            zf_dtype_name(p->dtype));
    if (c->n_in != need || zf_ptr(c->in[0]) != zf_ptr(p) || !zf_is_contiguous(p))
        return zf_set_error(ZF_ERR_INTERNAL, "%s kernel: the output must be input 0, contiguous", zf_op_name(c->op));
    for (int k = 1; k < need; k++) {
        if (!c->in[k] || c->in[k]->dtype != p->dtype || !zf_is_contiguous(c->in[k]) || !zf_same_shape(c->in[k], p))
            return zf_set_error(ZF_ERR_INTERNAL, "%s kernel: operand %d must be contiguous like the parameter",
                                zf_op_name(c->op), k);
    }
    upd_job j = {.c = c, .p = zf_ptr(p), .g = zf_ptr(c->in[1]), .m = need > 2 ? zf_ptr(c->in[2]) : NULL};
    if (need == 4) j.v = zf_ptr(c->in[3]);
    zf_parallel_for(e->pool, zf_numel(p), 1 << 15, upd_chunk, &j);
    return ZF_OK;
}

void zf_cpu_register_optim(zf_kernel_fn *k) {
    k[ZF_OP_SGD_UPDATE] = k_update;
    k[ZF_OP_ADAM_UPDATE] = k_update;
    k[ZF_OP_EMA_UPDATE] = k_update;
}
