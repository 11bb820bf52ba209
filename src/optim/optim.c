/* SGD, Adam and AdamW (zerfoo/optim.h). State tensors are allocated once,
 * when the optimizer is made, in a context it owns; a step runs one fused
 * in-place update op per parameter (ZF_OP_SGD_UPDATE / ZF_OP_ADAM_UPDATE,
 * then ZF_OP_EMA_UPDATE when averaging) and allocates nothing. PyTorch
 * creates state lazily at the first step; we mirror that with `started`
 * flags, so exported state has the same entries. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "zerfoo/autograd.h"
#include "zerfoo/ops.h"
#include "zerfoo/optim.h"

typedef enum { OPT_SGD, OPT_ADAM, OPT_ADAMW } opt_kind;

struct zf_optimizer {
    opt_kind kind;
    zf_ctx *ctx;          /* owns everything below */
    int n;
    const char **names;
    zf_tensor **params;   /* not owned */
    zf_tensor **m, **v;   /* SGD: m = momentum buffer; Adam: exp_avg, exp_avg_sq */
    zf_tensor **step_t;   /* Adam: f64 0-dim, filled when state is exported */
    int64_t *steps;       /* per-parameter step count (Adam) */
    bool *started;        /* the parameter has state (SGD buffer / Adam moments) */
    zf_sgd_params sgd;
    zf_adam_params adam;
    double lr;
    int64_t nsteps;
    zf_tensor **ema;      /* EMA averages (NULL: EMA off), in ctx */
    double ema_decay;
    bool ema_swapped;     /* the parameters hold the averages */
    zf_ctx *swap_ctx;     /* the swap's temporaries, reset per swap */
};

zf_adam_params zf_adam_defaults(void) {
    zf_adam_params p = {1e-3, 0.9, 0.999, 1e-8, 0.0};
    return p;
}
zf_adam_params zf_adamw_defaults(void) {
    zf_adam_params p = {1e-3, 0.9, 0.999, 1e-8, 1e-2};
    return p;
}

static zf_optimizer *make(opt_kind kind, const zf_named_tensors *params) {
    const char *who = kind == OPT_SGD ? "sgd" : kind == OPT_ADAM ? "adam" : "adamw";
    if (!params || params->n < 1 || !params->names || !params->tensors) {
        zf_set_error(ZF_ERR_INVALID_ARG, "%s: empty parameter list", who);
        return NULL;
    }
    for (int i = 0; i < params->n; i++) {
        zf_tensor *p = params->tensors[i];
        if (!p || !params->names[i]) {
            zf_set_error(ZF_ERR_INVALID_ARG, "%s: parameter %d is NULL", who, i);
            return NULL;
        }
        if ((p->dtype != ZF_F32 && p->dtype != ZF_F64) || !zf_is_contiguous(p)) {
            zf_set_error(ZF_ERR_DTYPE, "%s: parameter '%s' must be a contiguous f32/f64 tensor", who, params->names[i]);
            return NULL;
        }
    }
    zf_ctx *ctx = zf_ctx_new(zf_ctx_engine(params->tensors[0]->ctx));
    if (!ctx) return NULL;
    zf_optimizer *o = zf_ctx_alloc_zeroed(ctx, sizeof *o);
    int n = params->n;
    if (!o) goto fail;
    o->kind = kind;
    o->ctx = ctx;
    o->n = n;
    o->names = zf_ctx_alloc_zeroed(ctx, sizeof(char *) * (size_t)n);
    o->params = zf_ctx_alloc_zeroed(ctx, sizeof(zf_tensor *) * (size_t)n);
    o->m = zf_ctx_alloc_zeroed(ctx, sizeof(zf_tensor *) * (size_t)n);
    o->v = zf_ctx_alloc_zeroed(ctx, sizeof(zf_tensor *) * (size_t)n);
    o->step_t = zf_ctx_alloc_zeroed(ctx, sizeof(zf_tensor *) * (size_t)n);
    o->steps = zf_ctx_alloc_zeroed(ctx, sizeof(int64_t) * (size_t)n);
    o->started = zf_ctx_alloc_zeroed(ctx, sizeof(bool) * (size_t)n);
    if (!o->names || !o->params || !o->m || !o->v || !o->step_t || !o->steps || !o->started) goto fail;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(params->names[i]) + 1;
        char *s = zf_ctx_alloc(ctx, len);
        if (!s) goto fail;
        memcpy(s, params->names[i], len);
        o->names[i] = s;
        zf_tensor *p = o->params[i] = params->tensors[i];
        for (int k = 0; k < i; k++)
            if (o->params[k] == p || strcmp(o->names[k], s) == 0) {
                zf_set_error(ZF_ERR_INVALID_ARG, "%s: parameter '%s' is listed twice", who, s);
                goto fail;
            }
        o->m[i] = zf_zeros(ctx, p->dtype, p->ndim, p->shape);
        if (!o->m[i]) goto fail;
        if (kind != OPT_SGD) {
            o->v[i] = zf_zeros(ctx, p->dtype, p->ndim, p->shape);
            o->step_t[i] = zf_zeros(ctx, ZF_F64, 0, NULL);
            if (!o->v[i] || !o->step_t[i]) goto fail;
        }
    }
    return o;
fail:
    zf_ctx_free(ctx);
    return NULL;
}

zf_optimizer *zf_sgd_new(const zf_named_tensors *params, const zf_sgd_params *p) {
    if (!p) {
        zf_set_error(ZF_ERR_INVALID_ARG, "sgd: NULL hyperparameters (lr has no default)");
        return NULL;
    }
    if (!(p->lr >= 0) || !(p->momentum >= 0) || !(p->weight_decay >= 0) || !isfinite(p->dampening)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "sgd: lr, momentum and weight_decay must be >= 0");
        return NULL;
    }
    if (p->nesterov && (p->momentum <= 0 || p->dampening != 0)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "sgd: nesterov momentum requires a momentum and zero dampening");
        return NULL;
    }
    zf_optimizer *o = make(OPT_SGD, params);
    if (o) o->sgd = *p, o->lr = p->lr;
    return o;
}

static zf_optimizer *adam_new(opt_kind kind, const zf_named_tensors *params, const zf_adam_params *p) {
    const char *who = kind == OPT_ADAM ? "adam" : "adamw";
    if (!p) {
        zf_set_error(ZF_ERR_INVALID_ARG, "%s: NULL hyperparameters (use zf_%s_defaults())", who, who);
        return NULL;
    }
    if (!(p->lr >= 0) || !(p->eps >= 0) || !(p->weight_decay >= 0) || !(p->beta1 >= 0 && p->beta1 < 1) ||
        !(p->beta2 >= 0 && p->beta2 < 1)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "%s: need lr, eps, weight_decay >= 0 and betas in [0, 1)", who);
        return NULL;
    }
    zf_optimizer *o = make(kind, params);
    if (o) o->adam = *p, o->lr = p->lr;
    return o;
}
zf_optimizer *zf_adam_new(const zf_named_tensors *params, const zf_adam_params *p) {
    return adam_new(OPT_ADAM, params, p);
}
zf_optimizer *zf_adamw_new(const zf_named_tensors *params, const zf_adam_params *p) {
    return adam_new(OPT_ADAMW, params, p);
}

void zf_optim_free(zf_optimizer *opt) {
    if (!opt) return;
    zf_ctx_free(opt->swap_ctx);
    zf_ctx_free(opt->ctx);
}

static zf_status ema_update(zf_optimizer *o) {
    zf_op_params q;
    memset(&q, 0, sizeof q);
    q.f[0] = o->ema_decay;
    for (int i = 0; i < o->n; i++) {
        const zf_tensor *in[2] = {o->ema[i], o->params[i]};
        zf_status st = zf_dispatch(o->ctx, ZF_OP_EMA_UPDATE, o->ema[i], 2, in, &q);
        if (st) return st;
    }
    return ZF_OK;
}

zf_status zf_optim_step(zf_optimizer *o) {
    if (!o) return zf_set_error(ZF_ERR_INVALID_ARG, "optim_step: NULL optimizer");
    if (o->ema_swapped)
        return zf_set_error(ZF_ERR_INVALID_ARG,
                            "optim_step: the parameters hold the EMA averages; zf_optim_swap_ema back before training");
    for (int i = 0; i < o->n; i++) {
        zf_tensor *p = o->params[i], *g = p->grad;
        if (!g) continue;
        if (g->dtype != p->dtype || !zf_is_contiguous(g) || !zf_same_shape(g, p))
            return zf_set_error(ZF_ERR_INVALID_ARG, "optim_step: gradient of '%s' is not a contiguous tensor like it",
                                o->names[i]);
        zf_op_params q;
        memset(&q, 0, sizeof q);
        zf_status st;
        if (o->kind == OPT_SGD) {
            q.f[0] = o->lr, q.f[1] = o->sgd.momentum, q.f[2] = o->sgd.dampening, q.f[3] = o->sgd.weight_decay;
            q.i[0] = o->sgd.nesterov, q.i[1] = !o->started[i];
            const zf_tensor *in[3] = {p, g, o->m[i]};
            st = zf_dispatch(p->ctx, ZF_OP_SGD_UPDATE, p, o->sgd.momentum != 0 ? 3 : 2, in, &q);
            if (!st && o->sgd.momentum != 0) o->started[i] = true;
        } else {
            int64_t t = o->steps[i] + 1;
            q.f[0] = o->lr, q.f[1] = o->adam.beta1, q.f[2] = o->adam.beta2, q.f[3] = o->adam.eps;
            q.f[4] = o->adam.weight_decay;
            q.f[5] = 1.0 - pow(o->adam.beta1, (double)t);
            q.f[6] = 1.0 - pow(o->adam.beta2, (double)t);
            q.i[0] = o->kind == OPT_ADAMW;
            const zf_tensor *in[4] = {p, g, o->m[i], o->v[i]};
            st = zf_dispatch(p->ctx, ZF_OP_ADAM_UPDATE, p, 4, in, &q);
            if (!st) o->steps[i] = t, o->started[i] = true;
        }
        if (st) return st;
    }
    if (o->ema) {
        zf_status st = ema_update(o);
        if (st) return st;
    }
    o->nsteps++;
    return ZF_OK;
}

void zf_optim_zero_grad(zf_optimizer *o) {
    if (!o) return;
    for (int i = 0; i < o->n; i++) zf_zero_grad(o->params[i]);
}
double zf_optim_lr(const zf_optimizer *o) { return o ? o->lr : NAN; }
void zf_optim_set_lr(zf_optimizer *o, double lr) {
    if (o) o->lr = lr;
}
int64_t zf_optim_steps(const zf_optimizer *o) { return o ? o->nsteps : 0; }
void zf_optim_set_steps(zf_optimizer *o, int64_t steps) {
    if (o) o->nsteps = steps;
}
const char *zf_optim_name(const zf_optimizer *o) {
    if (!o) return NULL;
    return o->kind == OPT_SGD ? "sgd" : o->kind == OPT_ADAM ? "adam" : "adamw";
}

/* ---- EMA ---- */
zf_status zf_optim_set_ema(zf_optimizer *o, double decay) {
    if (!o) return zf_set_error(ZF_ERR_INVALID_ARG, "optim_set_ema: NULL optimizer");
    if (!(decay >= 0 && decay < 1))
        return zf_set_error(ZF_ERR_INVALID_ARG, "optim_set_ema: the decay must be in [0, 1), got %g", decay);
    if (!o->ema) {
        zf_tensor **ema = zf_ctx_alloc_zeroed(o->ctx, sizeof(zf_tensor *) * (size_t)o->n);
        if (!ema) return zf_last_status();
        for (int i = 0; i < o->n; i++) {
            zf_tensor *p = o->params[i];
            ema[i] = zf_empty(o->ctx, p->dtype, p->ndim, p->shape);
            if (!ema[i]) return zf_last_status();
            zf_status st = zf_copy_(ema[i], p);
            if (st) return st;
        }
        o->ema = ema;
    }
    o->ema_decay = decay;
    return ZF_OK;
}
double zf_optim_ema_decay(const zf_optimizer *o) { return o && o->ema ? o->ema_decay : NAN; }
bool zf_optim_has_ema(const zf_optimizer *o) { return o && o->ema; }
bool zf_optim_ema_swapped(const zf_optimizer *o) { return o && o->ema_swapped; }

zf_status zf_optim_swap_ema(zf_optimizer *o) {
    if (!o || !o->ema) return zf_set_error(ZF_ERR_INVALID_ARG, "optim_swap_ema: EMA is off (zf_optim_set_ema)");
    if (!o->swap_ctx && !(o->swap_ctx = zf_ctx_new(zf_ctx_engine(o->ctx)))) return zf_last_status();
    /* one parameter at a time through a temporary; the context keeps its
       memory across resets, so after the first swap nothing is allocated */
    for (int i = 0; i < o->n; i++) {
        zf_tensor *p = o->params[i], *a = o->ema[i];
        zf_ctx_reset(o->swap_ctx);
        zf_tensor *t = zf_empty(o->swap_ctx, p->dtype, p->ndim, p->shape);
        zf_status st = t ? zf_copy_(t, p) : zf_last_status();
        if (!st) st = zf_copy_(p, a);
        if (!st) st = zf_copy_(a, t);
        if (st) return st; /* copies of one dtype do not fail on valid tensors */
    }
    zf_ctx_reset(o->swap_ctx);
    o->ema_swapped = !o->ema_swapped;
    return ZF_OK;
}

/* ---- state ---- */
static zf_status zero(zf_tensor *t) {
    zf_op_params p = {.f = {0}};
    return zf_dispatch(t->ctx, ZF_OP_FILL, t, 0, NULL, &p);
}

static const char *const k_sgd_slots[] = {"momentum_buffer"};
static const char *const k_adam_slots[] = {"exp_avg", "exp_avg_sq", "step"};

static int n_slots(const zf_optimizer *o) { return o->kind == OPT_SGD ? 1 : 3; }
static const char *slot_name(const zf_optimizer *o, int s) {
    return o->kind == OPT_SGD ? k_sgd_slots[s] : k_adam_slots[s];
}
static zf_tensor *slot_tensor(const zf_optimizer *o, int i, int s) {
    if (o->kind == OPT_SGD) return o->m[i];
    return s == 0 ? o->m[i] : s == 1 ? o->v[i] : o->step_t[i];
}

zf_named_tensors *zf_optim_state(const zf_optimizer *o, zf_ctx *ctx) {
    if (!o || !ctx) {
        zf_set_error(ZF_ERR_INVALID_ARG, "optim_state: NULL argument");
        return NULL;
    }
    if (o->ema_swapped) {
        zf_set_error(ZF_ERR_INVALID_ARG, "optim_state: the parameters hold the EMA averages; swap back first");
        return NULL;
    }
    zf_named_tensors *l = zf_named_new(ctx, o->n * (n_slots(o) + 1));
    if (!l) return NULL;
    for (int i = 0; i < o->n; i++) {
        if (!o->started[i]) continue;
        if (o->kind != OPT_SGD) {
            zf_op_params q = {.f = {(double)o->steps[i]}};
            if (zf_dispatch(o->ctx, ZF_OP_FILL, o->step_t[i], 0, NULL, &q) != ZF_OK) return NULL;
        }
        for (int s = 0; s < n_slots(o); s++) {
            char name[320];
            snprintf(name, sizeof name, "%s.%s", o->names[i], slot_name(o, s));
            if (zf_named_push(ctx, l, name, slot_tensor(o, i, s))) return NULL;
        }
    }
    for (int i = 0; o->ema && i < o->n; i++) {
        char name[320];
        snprintf(name, sizeof name, "%s.ema", o->names[i]);
        if (zf_named_push(ctx, l, name, o->ema[i])) return NULL;
    }
    return l;
}

/* A state entry `name` that is to be copied into dst: same shape (a
 * 1-element step count may be any shape), a numeric dtype. */
static zf_status check_entry(const char *name, const zf_tensor *src, const zf_tensor *dst, bool step_count) {
    char a[64], b[64];
    bool scalar_ok = step_count && zf_numel(src) == 1;
    if (!scalar_ok && !zf_same_shape(src, dst))
        return zf_set_error(ZF_ERR_SHAPE, "optimizer state '%s' has shape %s, expected %s", name,
                            zf_shape_str(src, a, sizeof a), zf_shape_str(dst, b, sizeof b));
    if (zf_dtype_is_quant(src->dtype) || src->dtype == ZF_BOOL)
        return zf_set_error(ZF_ERR_DTYPE, "optimizer state '%s' has dtype %s", name, zf_dtype_name(src->dtype));
    if (scalar_ok && !(zf_item(src) >= 0 && zf_item(src) < 9e15))
        return zf_set_error(ZF_ERR_FORMAT, "optimizer state '%s' is not a valid step count", name);
    return ZF_OK;
}

/* Checks the "<param>.ema" entries of state against o; *n gets their count. */
static zf_status check_ema_entries(const zf_optimizer *o, const zf_named_tensors *state, int *n) {
    char name[320];
    *n = 0;
    for (int i = 0; i < o->n; i++) {
        snprintf(name, sizeof name, "%s.ema", o->names[i]);
        zf_tensor *src = zf_named_find(state, name);
        if (!src) continue;
        if (!o->ema)
            return zf_set_error(ZF_ERR_FORMAT,
                                "optimizer state has EMA averages ('%s') but EMA is off on this %s (zf_optim_set_ema)",
                                name, zf_optim_name(o));
        zf_status st = check_entry(name, src, o->params[i], false);
        if (st) return st;
        ++*n;
    }
    if (o->ema && *n != o->n)
        return zf_set_error(ZF_ERR_FORMAT,
                            "optimizer state has EMA averages for %d of %d parameters (EMA is on; turn it on after "
                            "loading state saved without it)",
                            *n, o->n);
    return ZF_OK;
}

zf_status zf_optim_load_state(zf_optimizer *o, const zf_named_tensors *state) {
    if (!o || !state) return zf_set_error(ZF_ERR_INVALID_ARG, "optim_load_state: NULL argument");
    if (o->ema_swapped)
        return zf_set_error(ZF_ERR_INVALID_ARG, "optim_load_state: the parameters hold the EMA averages; swap back first");
    char name[320];
    /* Check: per parameter all slots or none, right shapes, no strays. */
    int found_total = 0;
    for (int i = 0; i < o->n; i++) {
        int found = 0;
        for (int s = 0; s < n_slots(o); s++) {
            snprintf(name, sizeof name, "%s.%s", o->names[i], slot_name(o, s));
            zf_tensor *src = zf_named_find(state, name);
            if (!src) continue;
            found++;
            zf_status st = check_entry(name, src, slot_tensor(o, i, s), o->kind != OPT_SGD && s == 2);
            if (st) return st;
        }
        if (found && found != n_slots(o))
            return zf_set_error(ZF_ERR_FORMAT, "optimizer state of '%s' is incomplete (%d of %d slots)", o->names[i],
                                found, n_slots(o));
        found_total += found;
    }
    int n_ema;
    zf_status st = check_ema_entries(o, state, &n_ema);
    if (st) return st;
    if (found_total + n_ema != state->n)
        return zf_set_error(ZF_ERR_FORMAT, "optimizer state has %d entries that match no parameter of this %s",
                            state->n - found_total - n_ema, zf_optim_name(o));
    for (int i = 0; i < o->n; i++) {
        snprintf(name, sizeof name, "%s.%s", o->names[i], slot_name(o, 0));
        bool have = zf_named_find(state, name) != NULL;
        o->started[i] = have;
        o->steps[i] = 0;
        for (int s = 0; s < n_slots(o); s++) {
            snprintf(name, sizeof name, "%s.%s", o->names[i], slot_name(o, s));
            zf_tensor *src = zf_named_find(state, name), *dst = slot_tensor(o, i, s);
            if (o->kind != OPT_SGD && s == 2) {
                o->steps[i] = have ? (int64_t)zf_item(src) : 0;
                continue;
            }
            st = have ? zf_copy_(dst, src) : zero(dst);
            if (st) return st;
        }
        if (o->ema) {
            snprintf(name, sizeof name, "%s.ema", o->names[i]);
            if ((st = zf_copy_(o->ema[i], zf_named_find(state, name))) != ZF_OK) return st;
        }
    }
    return ZF_OK;
}
