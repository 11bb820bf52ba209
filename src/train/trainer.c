/* The training loop: epochs of shuffled batches, cross-entropy, backward,
 * optimizer step; evaluation, JSONL log, progress and a checkpoint after
 * each epoch; resume from a checkpoint. See include/zerfoo/trainer.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/train_internal.h"
#include "zerfoo/autograd.h"
#include "zerfoo/checkpoint.h"
#include "zerfoo/error.h"
#include "zerfoo/loss.h"

zf_trainer_config zf_trainer_defaults(void) {
    zf_trainer_config c;
    memset(&c, 0, sizeof c);
    c.epochs = 10;
    c.batch_size = 64;
    c.eval_batch_size = 1000;
    c.progress_mode = ZF_PROGRESS_AUTO;
    return c;
}

/* ---- checkpoint metadata: the run's settings and the last metrics ---- */

static zf_status meta_set_num(zf_checkpoint_meta *m, const char *key, double v) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", v); /* round-trips every double */
    return zf_checkpoint_meta_set(m, key, buf);
}

static zf_status meta_set_u64(zf_checkpoint_meta *m, const char *key, uint64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return zf_checkpoint_meta_set(m, key, buf);
}

static bool meta_get_num(const zf_checkpoint_meta *m, const char *key, double *out) {
    const char *s = zf_checkpoint_meta_get(m, key);
    if (!s) return false;
    char *end;
    *out = strtod(s, &end); /* "nan" and "inf" parse too */
    return end != s && *end == '\0';
}

static bool meta_get_u64(const zf_checkpoint_meta *m, const char *key, uint64_t *out) {
    const char *s = zf_checkpoint_meta_get(m, key);
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

static const struct {
    const char *key;
    size_t offset;
} k_metric_keys[] = {
    {"train_loss", offsetof(zf_epoch_metrics, train_loss)},
    {"train_accuracy", offsetof(zf_epoch_metrics, train_accuracy)},
    {"test_loss", offsetof(zf_epoch_metrics, test_loss)},
    {"test_accuracy", offsetof(zf_epoch_metrics, test_accuracy)},
    {"epoch_lr", offsetof(zf_epoch_metrics, lr)},
    {"samples_per_sec", offsetof(zf_epoch_metrics, samples_per_sec)},
    {"seconds", offsetof(zf_epoch_metrics, seconds)},
};

/* The augmentation as stored in checkpoints: "hflip=0,shift=2". */
static void augment_string(const zf_trainer_config *cfg, char *buf, size_t n) {
    snprintf(buf, n, "hflip=%d,shift=%d", (cfg->augment.hflip || cfg->hflip) ? 1 : 0, (int)cfg->augment.max_shift);
}

static zf_status save_checkpoint(const zf_trainer_config *cfg, zf_module *model, zf_optimizer *opt,
                                 int64_t n_train, const zf_epoch_metrics *m, zf_ctx *scratch) {
    zf_checkpoint_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.step = m->step;
    meta.epoch = m->epoch;
    if (cfg->model_name) snprintf(meta.model, sizeof meta.model, "%s", cfg->model_name);
    zf_status st = meta_set_u64(&meta, "seed", cfg->seed);
    if (st == ZF_OK) st = meta_set_u64(&meta, "batch_size", (uint64_t)cfg->batch_size);
    if (st == ZF_OK) st = zf_checkpoint_meta_set(&meta, "drop_last", cfg->drop_last ? "1" : "0");
    if (st == ZF_OK) st = meta_set_u64(&meta, "train_samples", (uint64_t)n_train);
    char aug[64];
    augment_string(cfg, aug, sizeof aug);
    if (st == ZF_OK) st = zf_checkpoint_meta_set(&meta, "augment", aug);
    for (size_t i = 0; i < sizeof k_metric_keys / sizeof k_metric_keys[0] && st == ZF_OK; i++)
        st = meta_set_num(&meta, k_metric_keys[i].key, *(const double *)((const char *)m + k_metric_keys[i].offset));
    if (st != ZF_OK) return st;
    zf_named_tensors *state = zf_module_state_dict(model, scratch);
    if (!state) return zf_last_status();
    return zf_checkpoint_save(cfg->checkpoint_path, state, opt, &meta);
}

/* Loads a checkpoint into model and opt; fills the last epoch's metrics. */
static zf_status resume(const zf_trainer_config *cfg, zf_module *model, zf_optimizer *opt, int64_t n_train,
                        zf_ctx *scratch, zf_epoch_metrics *last) {
    zf_checkpoint_meta meta;
    memset(&meta, 0, sizeof meta);
    if (cfg->model_name) snprintf(meta.model, sizeof meta.model, "%s", cfg->model_name);
    zf_named_tensors *state = zf_module_state_dict(model, scratch);
    if (!state) return zf_last_status();
    zf_status st = zf_checkpoint_load(cfg->resume_path, state, opt, &meta);
    if (st != ZF_OK) return st;
    /* zf_checkpoint_load checked that both average or neither does */
    if (zf_optim_has_ema(opt) && meta.ema_decay != zf_optim_ema_decay(opt))
        return zf_set_error(ZF_ERR_INVALID_ARG,
                            "%s was trained with EMA decay %g, this run asks for %g (resuming needs the same)",
                            cfg->resume_path, meta.ema_decay, zf_optim_ema_decay(opt));
    uint64_t seed, batch;
    if (!meta_get_u64(&meta, "seed", &seed) || !meta_get_u64(&meta, "batch_size", &batch))
        return zf_set_error(ZF_ERR_FORMAT, "%s: not a zerfoo trainer checkpoint (no seed/batch_size metadata)",
                            cfg->resume_path);
    if (seed != cfg->seed)
        return zf_set_error(ZF_ERR_INVALID_ARG,
                            "%s was trained with seed %" PRIu64 ", this run asks for seed %" PRIu64
                            " (resuming needs the same seed)",
                            cfg->resume_path, seed, cfg->seed);
    if ((int64_t)batch != cfg->batch_size)
        return zf_set_error(ZF_ERR_INVALID_ARG,
                            "%s was trained with batch size %" PRIu64 ", this run asks for %lld (resuming needs the same)",
                            cfg->resume_path, batch, (long long)cfg->batch_size);
    /* the sample order depends on the number of samples; older checkpoints do not say */
    uint64_t saved_n;
    if (meta_get_u64(&meta, "train_samples", &saved_n) && (int64_t)saved_n != n_train)
        return zf_set_error(ZF_ERR_INVALID_ARG,
                            "%s was trained on %" PRIu64 " samples, this run has %lld (resuming needs the same data)",
                            cfg->resume_path, saved_n, (long long)n_train);
    /* checkpoints from before augmentation existed have no key: no augmentation */
    const char *saved_aug = zf_checkpoint_meta_get(&meta, "augment");
    char aug[64];
    augment_string(cfg, aug, sizeof aug);
    if (strcmp(saved_aug ? saved_aug : "hflip=0,shift=0", aug) != 0)
        return zf_set_error(ZF_ERR_INVALID_ARG,
                            "%s was trained with augmentation %s, this run asks for %s (resuming needs the same)",
                            cfg->resume_path, saved_aug ? saved_aug : "none", aug);
    if (meta.epoch < 0 || meta.step < 0)
        return zf_set_error(ZF_ERR_FORMAT, "%s: negative epoch or step in the metadata", cfg->resume_path);
    memset(last, 0, sizeof *last);
    last->ema = zf_optim_has_ema(opt);
    last->epoch = meta.epoch;
    last->step = meta.step;
    for (size_t i = 0; i < sizeof k_metric_keys / sizeof k_metric_keys[0]; i++) {
        double *dst = (double *)((char *)last + k_metric_keys[i].offset);
        if (!meta_get_num(&meta, k_metric_keys[i].key, dst)) *dst = NAN;
    }
    zf_optim_set_steps(opt, meta.step);
    return ZF_OK;
}

/* ---- the loop ---- */

typedef struct {
    const zf_trainer_config *cfg;
    zf_module *model;
    zf_optimizer *opt;
    const zf_named_tensors *params;
    zf_loader *loader;
    zf_ctx *step_ctx;
    zf_progress progress;
    int64_t step;      /* optimizer steps taken */
    bool have_ckpt;    /* a checkpoint of a completed epoch exists at checkpoint_path */
    int64_t ckpt_epoch;
} run_state;

/* One epoch of training; fills the train_* fields, lr and samples_per_sec. */
static zf_status train_epoch(run_state *rs, int64_t epoch, zf_epoch_metrics *m) {
    const zf_trainer_config *cfg = rs->cfg;
    zf_status st = zf_loader_set_epoch(rs->loader, epoch);
    if (st != ZF_OK) return st;
    zf_module_train(rs->model, true);
    int64_t nb = zf_loader_num_batches(rs->loader), seen = 0, correct = 0;
    double loss_sum = 0, t0 = zf_now_seconds();
    for (int64_t b = 0; b < nb; b++) {
        zf_ctx_reset(rs->step_ctx);
        zf_tensor *x, *y;
        st = zf_loader_batch(rs->loader, b, rs->step_ctx, &x, &y);
        if (st != ZF_OK) return st;
        if (cfg->on_batch && (st = cfg->on_batch(cfg->user, rs->step, x, y)) != ZF_OK) return st;
        zf_tensor *logits = zf_module_forward(rs->model, rs->step_ctx, x);
        zf_tensor *loss = zf_cross_entropy(rs->step_ctx, logits, y, cfg->label_smoothing, ZF_REDUCTION_MEAN);
        if (!loss) return zf_last_status();
        double lv = zf_item(loss);
        if (!isfinite(lv)) {
            zf_progress_abort(&rs->progress);
            char kept[600];
            if (rs->have_ckpt)
                snprintf(kept, sizeof kept, "the checkpoint of epoch %lld is kept at %s", (long long)rs->ckpt_epoch,
                         cfg->checkpoint_path);
            else
                snprintf(kept, sizeof kept, "no checkpoint was written");
            return zf_set_error(ZF_ERR_NUMERIC,
                                "loss is %s at step %lld (epoch %lld, batch %lld of %lld); training stopped before "
                                "that step's update, %s",
                                isnan(lv) ? "NaN" : "infinite", (long long)(rs->step + 1), (long long)(epoch + 1),
                                (long long)(b + 1), (long long)nb, kept);
        }
        int64_t c = zf_count_correct(rs->step_ctx, logits, y);
        if (c < 0) return zf_last_status();
        zf_optim_zero_grad(rs->opt);
        if ((st = zf_backward(rs->step_ctx, loss, NULL)) != ZF_OK) return st;
        if (cfg->clip_grad_norm > 0 &&
            (st = zf_clip_grad_norm(rs->step_ctx, rs->params, cfg->clip_grad_norm, NULL)) != ZF_OK)
            return st;
        if (cfg->schedule) {
            double lr = zf_lr_at(cfg->schedule, rs->step);
            if (!isfinite(lr)) return zf_last_status() != ZF_OK ? zf_last_status() : ZF_ERR_INVALID_ARG;
            zf_optim_set_lr(rs->opt, lr);
        }
        if ((st = zf_optim_step(rs->opt)) != ZF_OK) return st;
        rs->step++;
        int64_t rows = y->shape[0];
        seen += rows;
        correct += c;
        loss_sum += lv * (double)rows;
        if (rs->progress.bar)
            zf_progress_batch(&rs->progress, epoch + 1, b + 1, loss_sum / (double)seen,
                              (double)correct / (double)seen, (double)seen / (zf_now_seconds() - t0));
    }
    zf_ctx_reset(rs->step_ctx);
    double dt = zf_now_seconds() - t0;
    m->epoch = epoch + 1;
    m->step = rs->step;
    m->train_loss = loss_sum / (double)seen;
    m->train_accuracy = (double)correct / (double)seen;
    m->lr = zf_optim_lr(rs->opt);
    m->samples_per_sec = dt > 0 ? (double)seen / dt : 0;
    return ZF_OK;
}

/* The epoch's test metrics, with the EMA averages when the optimizer keeps
 * them (swapped into the parameters for the evaluation, then back). */
static zf_status evaluate(run_state *rs, const zf_dataset *test, zf_epoch_metrics *m) {
    zf_status st = m->ema ? zf_optim_swap_ema(rs->opt) : ZF_OK;
    if (st != ZF_OK) return st;
    st = zf_evaluate_in(rs->model, test, rs->cfg->eval_batch_size, rs->step_ctx, &m->test_loss, &m->test_accuracy);
    zf_status back = m->ema ? zf_optim_swap_ema(rs->opt) : ZF_OK;
    return st != ZF_OK ? st : back;
}

static zf_status check_config(const zf_trainer_config *cfg, const zf_module *model, const zf_optimizer *opt,
                              const zf_dataset *train) {
    if (!cfg || !model || !opt || !train) return zf_set_error(ZF_ERR_INVALID_ARG, "zf_train: NULL argument");
    if (cfg->epochs < 0) return zf_set_error(ZF_ERR_INVALID_ARG, "epochs must be >= 0");
    if (cfg->batch_size < 1) return zf_set_error(ZF_ERR_INVALID_ARG, "batch size must be >= 1");
    if (cfg->eval_batch_size < 0) return zf_set_error(ZF_ERR_INVALID_ARG, "eval batch size must be >= 0");
    if (!(cfg->clip_grad_norm >= 0)) return zf_set_error(ZF_ERR_INVALID_ARG, "clip_grad_norm must be >= 0");
    if (!(cfg->label_smoothing >= 0 && cfg->label_smoothing <= 1))
        return zf_set_error(ZF_ERR_INVALID_ARG, "label smoothing must be in [0, 1]");
    if (!(cfg->ema_decay >= 0 && cfg->ema_decay < 1))
        return zf_set_error(ZF_ERR_INVALID_ARG, "EMA decay must be in [0, 1), got %g", cfg->ema_decay);
    if (cfg->schedule && zf_lr_check(cfg->schedule) != ZF_OK) return zf_last_status();
    return ZF_OK;
}

zf_status zf_train(zf_module *model, zf_optimizer *opt, const zf_dataset *train, const zf_dataset *test,
                   const zf_trainer_config *cfg, zf_train_result *result) {
    if (result) memset(result, 0, sizeof *result);
    zf_status st = check_config(cfg, model, opt, train);
    if (st == ZF_OK && cfg->ema_decay > 0) st = zf_optim_set_ema(opt, cfg->ema_decay);
    if (st != ZF_OK) return st;
    double t_start = zf_now_seconds();
    run_state rs;
    memset(&rs, 0, sizeof rs);
    rs.cfg = cfg;
    rs.model = model;
    rs.opt = opt;
    FILE *log = NULL;
    zf_ctx *keep = zf_ctx_new(cfg->engine);   /* lives for the call: parameter list */
    rs.step_ctx = zf_ctx_new(cfg->engine);
    zf_loader_opts lo = {.batch_size = cfg->batch_size, .shuffle = true, .drop_last = cfg->drop_last,
                         .seed = cfg->seed, .augment = cfg->augment};
    lo.augment.hflip |= cfg->hflip;
    rs.loader = zf_loader_new(train, &lo);
    if (!keep || !rs.step_ctx || !rs.loader) goto fail;
    rs.params = zf_module_named_parameters(model, keep);
    if (!rs.params) goto fail;

    zf_epoch_metrics last;
    memset(&last, 0, sizeof last);
    last.train_loss = last.train_accuracy = last.test_loss = last.test_accuracy = NAN;
    last.lr = zf_optim_lr(opt);
    int64_t start_epoch = 0;
    if (cfg->resume_path) {
        if ((st = resume(cfg, model, opt, train->n, rs.step_ctx, &last)) != ZF_OK) goto fail_st;
        zf_ctx_reset(rs.step_ctx);
        start_epoch = last.epoch;
        rs.step = last.step;
        if (cfg->checkpoint_path && strcmp(cfg->checkpoint_path, cfg->resume_path) == 0) {
            rs.have_ckpt = true;
            rs.ckpt_epoch = start_epoch;
        }
    }
    zf_module_set_rng(model, cfg->seed, (uint64_t)rs.step);
    if (cfg->log_path && !(log = fopen(cfg->log_path, "a"))) {
        st = zf_set_error(ZF_ERR_IO, "%s: cannot open the log: %s", cfg->log_path, strerror(errno));
        goto fail_st;
    }
    zf_progress_init(&rs.progress, cfg->progress, cfg->progress_mode, cfg->epochs, zf_loader_num_batches(rs.loader));
    if (cfg->eval_name && cfg->eval_name[0]) rs.progress.eval_name = cfg->eval_name;

    double train_seconds = 0;
    int64_t train_samples = 0;
    for (int64_t e = start_epoch; e < cfg->epochs; e++) {
        double te = zf_now_seconds();
        zf_epoch_metrics m;
        memset(&m, 0, sizeof m);
        if ((st = train_epoch(&rs, e, &m)) != ZF_OK) {
            if (st == ZF_ERR_NUMERIC && result) result->nan_step = rs.step + 1;
            goto fail_st;
        }
        int64_t n = zf_loader_num_samples(rs.loader);
        train_samples += n;
        train_seconds += m.samples_per_sec > 0 ? (double)n / m.samples_per_sec : 0;
        m.test_loss = m.test_accuracy = NAN;
        m.ema = zf_optim_has_ema(opt);
        if (test && (st = evaluate(&rs, test, &m)) != ZF_OK) goto fail_st;
        m.seconds = zf_now_seconds() - te;
        if (cfg->checkpoint_path) {
            if ((st = save_checkpoint(cfg, model, opt, train->n, &m, rs.step_ctx)) != ZF_OK) goto fail_st;
            zf_ctx_reset(rs.step_ctx);
            rs.have_ckpt = true;
            rs.ckpt_epoch = m.epoch;
        }
        if (log) {
            zf_epoch_metrics_write_json(log, &m);
            fputc('\n', log);
            if (fflush(log) != 0) {
                st = zf_set_error(ZF_ERR_IO, "%s: cannot write the log: %s", cfg->log_path, strerror(errno));
                goto fail_st;
            }
        }
        zf_progress_epoch(&rs.progress, &m);
        if (cfg->on_epoch) cfg->on_epoch(cfg->user, &m);
        last = m;
    }
    if (result) {
        result->start_epoch = start_epoch;
        result->epochs = last.epoch;
        result->steps = rs.step;
        result->last = last;
        result->train_samples_per_sec = train_seconds > 0 ? (double)train_samples / train_seconds : 0;
        result->seconds = zf_now_seconds() - t_start;
    }
    if (log) fclose(log);
    zf_loader_free(rs.loader);
    zf_ctx_free(rs.step_ctx);
    zf_ctx_free(keep);
    return ZF_OK;

fail:
    st = zf_last_status() != ZF_OK ? zf_last_status() : ZF_ERR_INTERNAL;
fail_st:
    if (log) fclose(log);
    zf_loader_free(rs.loader);
    zf_ctx_free(rs.step_ctx);
    zf_ctx_free(keep);
    return st;
}
