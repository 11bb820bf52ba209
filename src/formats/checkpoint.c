/* Training checkpoints as safetensors (zerfoo/checkpoint.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "zerfoo/checkpoint.h"
#include "zerfoo/safetensors.h"

#define FORMAT_NAME "zerfoo-checkpoint"
#define OPTIM_PREFIX "optim."

static const char *const k_reserved[] = {"format", "format_version", "step",     "epoch",
                                         "model",  "optimizer",      "lr",       "ema_decay"};
#define N_RESERVED (int)(sizeof k_reserved / sizeof k_reserved[0])

static bool reserved(const char *k) {
    for (int i = 0; i < N_RESERVED; i++)
        if (strcmp(k, k_reserved[i]) == 0) return true;
    return false;
}

zf_status zf_checkpoint_meta_set(zf_checkpoint_meta *m, const char *key, const char *value) {
    if (!m || !key || !value || !*key) return zf_set_error(ZF_ERR_INVALID_ARG, "checkpoint_meta_set: bad argument");
    if (reserved(key)) return zf_set_error(ZF_ERR_INVALID_ARG, "checkpoint_meta_set: '%s' is a reserved key", key);
    if (strlen(key) >= sizeof m->extra_key[0] || strlen(value) >= sizeof m->extra_value[0])
        return zf_set_error(ZF_ERR_INVALID_ARG, "checkpoint_meta_set: key or value too long");
    int i = 0;
    while (i < m->n_extra && strcmp(m->extra_key[i], key) != 0) i++;
    if (i == m->n_extra) {
        if (m->n_extra >= ZF_CHECKPOINT_MAX_EXTRA)
            return zf_set_error(ZF_ERR_INVALID_ARG, "checkpoint_meta_set: more than %d extra keys",
                                ZF_CHECKPOINT_MAX_EXTRA);
        m->n_extra++;
    }
    snprintf(m->extra_key[i], sizeof m->extra_key[i], "%s", key);
    snprintf(m->extra_value[i], sizeof m->extra_value[i], "%s", value);
    return ZF_OK;
}

const char *zf_checkpoint_meta_get(const zf_checkpoint_meta *m, const char *key) {
    for (int i = 0; m && key && i < m->n_extra; i++)
        if (strcmp(m->extra_key[i], key) == 0) return m->extra_value[i];
    return NULL;
}

zf_status zf_checkpoint_save(const char *path, const zf_named_tensors *state, const zf_optimizer *opt,
                             const zf_checkpoint_meta *meta) {
    if (!path || !state) return zf_set_error(ZF_ERR_INVALID_ARG, "checkpoint_save: NULL argument");
    zf_ctx *tmp = zf_ctx_new(NULL);
    if (!tmp) return zf_last_status();
    zf_status st = ZF_OK;
    zf_named_tensors *os = opt ? zf_optim_state(opt, tmp) : NULL;
    zf_named_tensors *all = (!opt || os) ? zf_named_new(tmp, state->n + (os ? os->n : 0)) : NULL;
    if (!all) {
        st = zf_last_status();
        goto out;
    }
    for (int i = 0; i < state->n && !st; i++) {
        if (state->names[i] && strncmp(state->names[i], OPTIM_PREFIX, strlen(OPTIM_PREFIX)) == 0)
            st = zf_set_error(ZF_ERR_INVALID_ARG, "checkpoint_save: model entry '%s' uses the reserved prefix 'optim.'",
                              state->names[i]);
        else
            st = zf_named_push(tmp, all, state->names[i] ? state->names[i] : "", state->tensors[i]);
    }
    for (int i = 0; os && i < os->n && !st; i++) {
        char name[400];
        snprintf(name, sizeof name, OPTIM_PREFIX "%s", os->names[i]);
        st = zf_named_push(tmp, all, name, os->tensors[i]);
    }
    if (st) goto out;
    const char *keys[N_RESERVED + ZF_CHECKPOINT_MAX_EXTRA], *vals[N_RESERVED + ZF_CHECKPOINT_MAX_EXTRA];
    char step[32], epoch[32], lr[40], ver[16], ema[40];
    snprintf(step, sizeof step, "%lld", (long long)(meta ? meta->step : (opt ? zf_optim_steps(opt) : 0)));
    snprintf(epoch, sizeof epoch, "%lld", (long long)(meta ? meta->epoch : 0));
    snprintf(lr, sizeof lr, "%.17g", opt ? zf_optim_lr(opt) : (meta ? meta->lr : 0.0));
    snprintf(ver, sizeof ver, "%d", ZF_CHECKPOINT_VERSION);
    snprintf(ema, sizeof ema, "%.17g", zf_optim_ema_decay(opt));
    const char *v[N_RESERVED] = {FORMAT_NAME, ver, step, epoch, meta ? meta->model : "", opt ? zf_optim_name(opt) : "",
                                 lr, ema};
    int nm = 0;
    for (int i = 0; i < N_RESERVED; i++) {
        if (strcmp(k_reserved[i], "ema_decay") == 0 && !zf_optim_has_ema(opt)) continue;
        keys[nm] = k_reserved[i], vals[nm++] = v[i];
    }
    for (int i = 0; meta && i < meta->n_extra && i < ZF_CHECKPOINT_MAX_EXTRA; i++) {
        if (reserved(meta->extra_key[i])) continue;
        keys[nm] = meta->extra_key[i], vals[nm++] = meta->extra_value[i];
    }
    st = zf_safetensors_save(path, all, nm, keys, vals);
out:
    zf_ctx_free(tmp);
    return st;
}

/* A decimal integer filling the whole string, in range. */
static bool parse_i64(const char *s, int64_t *v) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (*end || errno == ERANGE) return false;
    *v = x;
    return true;
}

/* A finite decimal number filling the whole string. */
static bool parse_f64(const char *s, double *v) {
    if (!s || !*s) return false;
    char *end;
    double x = strtod(s, &end);
    if (*end || !isfinite(x)) return false;
    *v = x;
    return true;
}

/* The name of the entry that fills state entry `name`: its EMA average
 * (written to buf) when `ema` and the checkpoint has one, else `name`. */
static const char *source_name(const zf_safetensors *f, const char *name, bool ema, char *buf, size_t n) {
    if (!ema) return name;
    snprintf(buf, n, OPTIM_PREFIX "%s.ema", name);
    return zf_safetensors_find(f, buf) >= 0 ? buf : name;
}

/* zf_checkpoint_load (ema false) and zf_checkpoint_load_ema (opt NULL). */
static zf_status load(const char *path, const zf_named_tensors *state, zf_optimizer *opt, zf_checkpoint_meta *meta,
                      bool ema) {
    if (!path || !state) return zf_set_error(ZF_ERR_INVALID_ARG, "checkpoint_load: NULL argument");
    zf_safetensors *f = zf_safetensors_open(path);
    if (!f) return zf_last_status();
    zf_ctx *tmp = zf_ctx_new(NULL);
    zf_status st = tmp ? ZF_OK : zf_last_status();
    char a[64], b[64];
    zf_checkpoint_meta m;
    memset(&m, 0, sizeof m);
    const char *fmt = zf_safetensors_meta_get(f, "format");
    int64_t ver = 0;
    if (!st && (!fmt || strcmp(fmt, FORMAT_NAME) != 0))
        st = zf_set_error(ZF_ERR_FORMAT, "%s: not a zerfoo checkpoint (no format=" FORMAT_NAME " metadata)", path);
    if (!st && (!parse_i64(zf_safetensors_meta_get(f, "format_version"), &ver) || ver < 1 ||
                ver > ZF_CHECKPOINT_VERSION))
        st = zf_set_error(ZF_ERR_FORMAT, "%s: unsupported checkpoint version '%s' (this build reads up to %d)", path,
                          zf_safetensors_meta_get(f, "format_version") ? zf_safetensors_meta_get(f, "format_version")
                                                                       : "(none)",
                          ZF_CHECKPOINT_VERSION);
    if (!st && (!parse_i64(zf_safetensors_meta_get(f, "step"), &m.step) ||
                !parse_i64(zf_safetensors_meta_get(f, "epoch"), &m.epoch) || m.step < 0 || m.epoch < 0))
        st = zf_set_error(ZF_ERR_FORMAT, "%s: bad step or epoch in the checkpoint metadata", path);
    if (st) goto out;
    m.version = (int)ver;
    snprintf(m.model, sizeof m.model, "%s", zf_safetensors_meta_get(f, "model") ? zf_safetensors_meta_get(f, "model") : "");
    snprintf(m.optimizer, sizeof m.optimizer, "%s",
             zf_safetensors_meta_get(f, "optimizer") ? zf_safetensors_meta_get(f, "optimizer") : "");
    const char *lrs = zf_safetensors_meta_get(f, "lr"), *emas = zf_safetensors_meta_get(f, "ema_decay");
    /* lr becomes the optimizer's and the decay tells whether there are EMA
     * averages: a value that is not a number (or NaN, inf, a negative lr, a
     * decay outside [0, 1)) is a corrupt file, not a default. */
    m.lr = 0.0;
    m.ema_decay = NAN;
    if ((lrs || opt) && (!parse_f64(lrs, &m.lr) || m.lr < 0)) {
        st = zf_set_error(ZF_ERR_FORMAT, "%s: bad lr '%s' in the checkpoint metadata (a finite number >= 0)", path,
                          lrs ? lrs : "(none)");
        goto out;
    }
    if (emas && (!parse_f64(emas, &m.ema_decay) || m.ema_decay < 0 || m.ema_decay >= 1)) {
        st = zf_set_error(ZF_ERR_FORMAT, "%s: bad ema_decay '%s' in the checkpoint metadata (a number in [0, 1))",
                          path, emas);
        goto out;
    }
    for (int i = 0; i < zf_safetensors_meta_count(f); i++) {
        const char *k = zf_safetensors_meta_key(f, i);
        if (!reserved(k) && zf_checkpoint_meta_set(&m, k, zf_safetensors_meta_get(f, k)) != ZF_OK) zf_clear_error();
    }
    if (meta && meta->model[0] && strcmp(meta->model, m.model) != 0) {
        st = zf_set_error(ZF_ERR_FORMAT, "%s: checkpoint is for model '%s', not '%s'", path, m.model, meta->model);
        goto out;
    }
    /* Model entries (and with `ema` their averages): every one present with
       the same shape; nothing extra. */
    int n_ema = 0;
    char src_buf[400];
    for (int i = 0; i < state->n && !st; i++) {
        if (!zf_safetensors_info(f, zf_safetensors_find(f, state->names[i]))) {
            st = zf_set_error(ZF_ERR_FORMAT, "%s: checkpoint has no '%s' (a checkpoint of another model?)", path,
                              state->names[i]);
            break;
        }
        const char *src = source_name(f, state->names[i], ema, src_buf, sizeof src_buf);
        n_ema += src != state->names[i];
        const zf_st_info *t = zf_safetensors_info(f, zf_safetensors_find(f, src));
        zf_tensor probe = {.ndim = t->ndim};
        memcpy(probe.shape, t->shape, sizeof probe.shape);
        if (!zf_same_shape(&probe, state->tensors[i]))
            st = zf_set_error(ZF_ERR_SHAPE, "%s: '%s' has shape %s in the checkpoint, the model has %s", path, src,
                              zf_shape_str(&probe, a, sizeof a), zf_shape_str(state->tensors[i], b, sizeof b));
        else if (t->dtype == ZF_DTYPE_COUNT)
            st = zf_set_error(ZF_ERR_UNSUPPORTED, "%s: '%s' has unsupported dtype %s", path, src, t->dtype_name);
    }
    if (!st && ema && n_ema == 0)
        st = zf_set_error(ZF_ERR_INVALID_ARG, "%s: checkpoint has no EMA weights (it was trained without EMA)", path);
    size_t plen = strlen(OPTIM_PREFIX);
    for (int i = 0; i < zf_safetensors_count(f) && !st; i++) {
        const char *name = zf_safetensors_info(f, i)->name;
        if (strncmp(name, OPTIM_PREFIX, plen) != 0 && !zf_named_find(state, name))
            st = zf_set_error(ZF_ERR_FORMAT, "%s: checkpoint has '%s', which the model does not have", path, name);
    }
    if (st) goto out;
    if (opt) {
        if (strcmp(m.optimizer, zf_optim_name(opt)) != 0) {
            st = zf_set_error(ZF_ERR_FORMAT, "%s: checkpoint optimizer is '%s', not '%s'", path,
                              m.optimizer[0] ? m.optimizer : "(none)", zf_optim_name(opt));
            goto out;
        }
        if (zf_optim_has_ema(opt) != !isnan(m.ema_decay)) {
            st = zf_optim_has_ema(opt)
                     ? zf_set_error(ZF_ERR_FORMAT, "%s: checkpoint has no EMA weights, but this optimizer averages them",
                                    path)
                     : zf_set_error(ZF_ERR_FORMAT, "%s: checkpoint has EMA weights (decay %g), but this optimizer "
                                                   "has EMA off",
                                    path, m.ema_decay);
            goto out;
        }
        zf_named_tensors *os = zf_named_new(tmp, zf_safetensors_count(f));
        for (int i = 0; os && i < zf_safetensors_count(f) && !st; i++) {
            const char *name = zf_safetensors_info(f, i)->name;
            if (strncmp(name, OPTIM_PREFIX, plen) != 0) continue;
            zf_tensor *t = zf_safetensors_load(f, tmp, name);
            st = t ? zf_named_push(tmp, os, name + plen, t) : zf_last_status();
        }
        if (!os) st = zf_last_status();
        if (!st) st = zf_optim_load_state(opt, os); /* validates before writing */
        if (st) goto out;
        zf_optim_set_lr(opt, m.lr);
        zf_optim_set_steps(opt, m.step);
    }
    for (int i = 0; i < state->n && !st; i++) {
        zf_tensor *t = zf_safetensors_load(f, tmp, source_name(f, state->names[i], ema, src_buf, sizeof src_buf));
        st = t ? zf_copy_(state->tensors[i], t) : zf_last_status();
    }
    if (!st && meta) *meta = m;
out:
    zf_ctx_free(tmp);
    zf_safetensors_close(f);
    return st;
}

zf_status zf_checkpoint_load(const char *path, const zf_named_tensors *state, zf_optimizer *opt,
                             zf_checkpoint_meta *meta) {
    return load(path, state, opt, meta, false);
}

zf_status zf_checkpoint_load_ema(const char *path, const zf_named_tensors *state, zf_checkpoint_meta *meta) {
    return load(path, state, NULL, meta, true);
}
