/* Learning-rate schedules (pure functions of the step) and gradient
 * clipping by global L2 norm (zerfoo/optim.h). */
#include <math.h>

#include "core/internal.h"
#include "zerfoo/autograd.h"
#include "zerfoo/ops.h"
#include "zerfoo/optim.h"

zf_status zf_lr_check(const zf_lr_schedule *s) {
    if (!s) return zf_set_error(ZF_ERR_INVALID_ARG, "lr schedule: NULL");
    if (!(s->base_lr >= 0) || !isfinite(s->base_lr))
        return zf_set_error(ZF_ERR_INVALID_ARG, "lr schedule: base_lr must be finite and >= 0");
    switch (s->kind) {
    case ZF_LR_CONSTANT: return ZF_OK;
    case ZF_LR_STEP:
        if (s->step_size < 1 || !(s->gamma >= 0))
            return zf_set_error(ZF_ERR_INVALID_ARG, "lr schedule: step needs step_size >= 1 and gamma >= 0");
        return ZF_OK;
    case ZF_LR_COSINE:
    case ZF_LR_WARMUP_COSINE:
        if (s->total_steps < 1 || !(s->min_lr >= 0) || !isfinite(s->min_lr))
            return zf_set_error(ZF_ERR_INVALID_ARG, "lr schedule: cosine needs total_steps >= 1 and min_lr >= 0");
        if (s->kind == ZF_LR_COSINE) return ZF_OK;
        __attribute__((fallthrough)); /* warmup checks */
    case ZF_LR_WARMUP:
        if (s->warmup_steps < 0 || !(s->warmup_start >= 0 && s->warmup_start <= 1))
            return zf_set_error(ZF_ERR_INVALID_ARG,
                                "lr schedule: warmup needs warmup_steps >= 0 and warmup_start in [0, 1]");
        if (s->kind == ZF_LR_WARMUP_COSINE && s->warmup_steps >= s->total_steps)
            return zf_set_error(ZF_ERR_INVALID_ARG, "lr schedule: warmup_steps (%lld) must be < total_steps (%lld)",
                                (long long)s->warmup_steps, (long long)s->total_steps);
        return ZF_OK;
    }
    return zf_set_error(ZF_ERR_INVALID_ARG, "lr schedule: unknown kind %d", (int)s->kind);
}

static double cosine(double base, double min, int64_t t, int64_t T) {
    if (t > T) t = T;
    return min + (base - min) * (1.0 + cos(M_PI * (double)t / (double)T)) / 2.0;
}

static double warmup(const zf_lr_schedule *s, int64_t step) {
    if (s->warmup_steps == 0 || step >= s->warmup_steps) return s->base_lr;
    double f = s->warmup_start + (1.0 - s->warmup_start) * (double)step / (double)s->warmup_steps;
    return s->base_lr * f;
}

double zf_lr_at(const zf_lr_schedule *s, int64_t step) {
    if (zf_lr_check(s)) return NAN;
    if (step < 0) step = 0;
    switch (s->kind) {
    case ZF_LR_STEP: return s->base_lr * pow(s->gamma, (double)(step / s->step_size));
    case ZF_LR_COSINE: return cosine(s->base_lr, s->min_lr, step, s->total_steps);
    case ZF_LR_WARMUP: return warmup(s, step);
    case ZF_LR_WARMUP_COSINE:
        if (step < s->warmup_steps) return warmup(s, step);
        return cosine(s->base_lr, s->min_lr, step - s->warmup_steps, s->total_steps - s->warmup_steps);
    case ZF_LR_CONSTANT:
    default: return s->base_lr;
    }
}

/* sum of squares of g (the reduction accumulates in double) */
static zf_status sum_sq(zf_ctx *scratch, zf_tensor *g, double *out) {
    zf_tensor *s = zf_sum(scratch, zf_mul(scratch, g, g), 0, NULL, false);
    if (!s) return zf_last_status();
    *out = zf_item(s);
    return ZF_OK;
}

zf_status zf_clip_grad_norm(zf_ctx *scratch, const zf_named_tensors *params, double max_norm, double *total_norm) {
    if (!scratch || !params) return zf_set_error(ZF_ERR_INVALID_ARG, "clip_grad_norm: NULL argument");
    if (!(max_norm >= 0)) return zf_set_error(ZF_ERR_INVALID_ARG, "clip_grad_norm: max_norm must be >= 0");
    bool prev = zf_set_grad_enabled(false);
    zf_status st = ZF_OK;
    double total = 0;
    for (int i = 0; i < params->n && !st; i++) {
        zf_tensor *p = params->tensors[i];
        if (!p || !p->grad) continue;
        double s = 0;
        st = sum_sq(scratch, p->grad, &s);
        total += s;
    }
    total = sqrt(total);
    if (total_norm) *total_norm = total;
    double coef = max_norm / (total + 1e-6);
    for (int i = 0; i < params->n && !st && isfinite(total) && coef < 1.0; i++) {
        zf_tensor *p = params->tensors[i];
        if (!p || !p->grad) continue;
        zf_tensor *c = zf_scalar(scratch, p->grad->dtype, coef);
        const zf_tensor *in[2] = {p->grad, c};
        st = c ? zf_dispatch(p->grad->ctx, ZF_OP_MUL, p->grad, 2, in, NULL) : zf_last_status();
    }
    zf_set_grad_enabled(prev);
    return st;
}
