/* zerfoo train: trains an image classifier (mlp, lenet5) on Fashion-MNIST
 * with the library's trainer.
 *
 * stdout: a header line, then one JSON object as the last line; progress and
 * per-epoch lines go to stderr. Exit 0 ok, 1 failure, 2 usage error. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tools/zerfoo/commands.h"
#include "tools/zerfoo/train_common.h"
#include "zerfoo/zerfoo.h"

static void train_usage(FILE *f) {
    fprintf(f,
            "usage: zerfoo train --model mlp|lenet5 [options]\n\n"
            "Trains an image classifier on Fashion-MNIST (cross-entropy), evaluates it on the 10k test set\n"
            "(or a validation split) after every epoch and prints one JSON object as the last line of stdout.\n\n"
            "options:\n"
            "  --model NAME          mlp (784-128-10, 101,770 parameters) or lenet5 (44,426 parameters)\n"
            "  --dataset NAME        fashion-mnist (default)\n"
            "  --data-dir DIR        where the IDX files are (default: $ZF_FASHION_MNIST_DIR or\n"
            "                        /usr/share/datasets/fashion-mnist, Debian's dataset-fashion-mnist)\n"
            "  --epochs N            total epochs (default 10; on resume, counting those already done)\n"
            "  --batch-size B        training batch size (default 64)\n"
            "  --optimizer NAME      sgd, adam (default) or adamw\n"
            "  --lr X                learning rate (default 0.001; 0.01 for sgd)\n"
            "  --momentum M          sgd momentum (default 0)\n"
            "  --weight-decay W      (default 0; 0.01 for adamw)\n"
            "  --schedule NAME       learning-rate schedule: constant (default), cosine (from --lr\n"
            "                        down to 0 over all epochs' steps) or warmup-cosine (linear from 0\n"
            "                        to --lr over --warmup-epochs, then cosine down to 0)\n"
            "  --warmup-epochs X     warmup length for warmup-cosine, in epochs (default 1; may be a\n"
            "                        fraction)\n"
            "  --label-smoothing X   cross-entropy label smoothing in [0, 1) (default 0)\n"
            "  --init NAME           torch (PyTorch's default init, the default) or he (Kaiming uniform\n"
            "                        for ReLU, zero biases)\n"
            "  --augment LIST        training-image augmentation, comma-separated (default none):\n"
            "                        hflip or flip (mirror left-right with probability 1/2), shift (translate\n"
            "                        by up to 2 pixels each way, blank pixels shifted in; shift:N for N)\n"
            "  --hflip               the same as --augment hflip\n"
            "  --ema D               keep an exponential moving average of the weights, updated after every\n"
            "                        step as avg = D*avg + (1-D)*weights, D in [0, 1) (e.g. 0.999); each\n"
            "                        epoch is evaluated with the average, which the checkpoint keeps next to\n"
            "                        the weights (zerfoo eval uses it by default). 0: off (the default; on\n"
            "                        resume the checkpoint's decay unless given)\n"
            "  --norm NAME           mean-std (default: (pixel/255 - 0.2860)/0.3530) or unit (pixel/255)\n"
            "  --seed S              initialization, data order and dropout (default 0; on resume the\n"
            "                        checkpoint's seed unless given)\n"
            "  --out FILE            checkpoint (safetensors) written after every epoch\n"
            "                        (default with --resume: the resumed file)\n"
            "  --resume FILE         continue from a checkpoint written by --out\n"
            "  --log FILE            append one JSON line of metrics per epoch\n"
            "  --threads N           CPU threads (default: $ZF_NUM_THREADS or all CPUs)\n"
            "  --progress MODE       auto (bar on a terminal, else lines), bar, lines or none\n"
            "  --limit-train N       train on the first N samples only (quick runs)\n"
            "  --limit-test N        evaluate on the first N test samples only\n"
            "  --validation N        hold out the last N training images: train on the others and evaluate\n"
            "                        on these instead of the test set (to choose a recipe without it)\n");
}

typedef struct {
    const char *model, *dataset, *data_dir, *optimizer, *out, *resume, *log, *schedule;
    zf_image_norm norm;
    double label_smoothing;
    bool he_init;
    zf_augment augment;
    int64_t epochs, batch_size, limit_train, limit_test, validation;
    double lr, momentum, weight_decay, warmup_epochs, ema;
    bool lr_set, wd_set, seed_set, ema_set;
    uint64_t seed;
    zf_progress_mode progress;
} train_args;

/* --augment LIST: "none" or comma-separated hflip, shift, shift:N (0..8).
 * Adds to *aug (so --hflip --augment shift is both). */
static bool parse_augment(const char *v, zf_augment *aug) {
    if (strcmp(v, "none") == 0) {
        *aug = (zf_augment){0};
        return true;
    }
    char buf[256];
    if (!*v || strlen(v) >= sizeof buf) return false;
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int64_t n;
        if (strcmp(t, "hflip") == 0 || strcmp(t, "flip") == 0) aug->hflip = true;
        else if (strcmp(t, "shift") == 0) aug->max_shift = 2;
        else if (strncmp(t, "shift:", 6) == 0 && zf_parse_i64(t + 6, &n) && n >= 0 && n <= 8) aug->max_shift = (int32_t)n;
        else return false;
    }
    return v[strlen(v) - 1] != ',' && v[0] != ',';
}

/* Parses argv into a; returns -1 to go on, else the exit status. */
static int parse_train_args(int argc, char **argv, train_args *a) {
    *a = (train_args){.dataset = "fashion-mnist", .optimizer = "adam", .schedule = "constant", .epochs = 10, .warmup_epochs = 1,
                      .batch_size = 64};
    zf_cli_parse_norm("mean-std", &a->norm);
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            train_usage(stdout);
            return 0;
        }
        if (strcmp(f, "--hflip") == 0) {
            a->augment.hflip = true;
            continue;
        }
        if (strncmp(f, "--", 2) != 0) {
            fprintf(stderr, "zerfoo train: unexpected argument '%s' (see zerfoo train --help)\n", f);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "zerfoo train: %s needs a value (see zerfoo train --help)\n", f);
            return 2;
        }
        const char *v = argv[++i];
        int64_t n;
        bool ok = true;
        if (strcmp(f, "--model") == 0) a->model = v;
        else if (strcmp(f, "--dataset") == 0) a->dataset = v;
        else if (strcmp(f, "--data-dir") == 0) a->data_dir = v;
        else if (strcmp(f, "--optimizer") == 0) a->optimizer = v;
        else if (strcmp(f, "--out") == 0) a->out = v;
        else if (strcmp(f, "--resume") == 0) a->resume = v;
        else if (strcmp(f, "--log") == 0) a->log = v;
        else if (strcmp(f, "--schedule") == 0) {
            ok = strcmp(v, "constant") == 0 || strcmp(v, "cosine") == 0 || strcmp(v, "warmup-cosine") == 0;
            a->schedule = v;
        }
        else if (strcmp(f, "--norm") == 0) ok = zf_cli_parse_norm(v, &a->norm);
        else if (strcmp(f, "--augment") == 0) ok = parse_augment(v, &a->augment);
        else if (strcmp(f, "--init") == 0) {
            ok = strcmp(v, "torch") == 0 || strcmp(v, "he") == 0;
            a->he_init = strcmp(v, "he") == 0;
        }
        else if (strcmp(f, "--warmup-epochs") == 0)
            ok = zf_parse_f64(v, &a->warmup_epochs) && a->warmup_epochs >= 0 && a->warmup_epochs <= 100000;
        else if (strcmp(f, "--label-smoothing") == 0)
            ok = zf_parse_f64(v, &a->label_smoothing) && a->label_smoothing >= 0 && a->label_smoothing < 1;
        else if (strcmp(f, "--epochs") == 0) ok = zf_parse_i64(v, &a->epochs) && a->epochs >= 0 && a->epochs <= 100000;
        else if (strcmp(f, "--batch-size") == 0)
            ok = zf_parse_i64(v, &a->batch_size) && a->batch_size >= 1 && a->batch_size <= 1000000;
        else if (strcmp(f, "--limit-train") == 0) ok = zf_parse_i64(v, &a->limit_train) && a->limit_train >= 1;
        else if (strcmp(f, "--limit-test") == 0) ok = zf_parse_i64(v, &a->limit_test) && a->limit_test >= 1;
        else if (strcmp(f, "--validation") == 0) ok = zf_parse_i64(v, &a->validation) && a->validation >= 1;
        else if (strcmp(f, "--ema") == 0) {
            if (!zf_parse_f64(v, &a->ema) || !(a->ema >= 0 && a->ema < 1)) {
                fprintf(stderr, "zerfoo train: --ema needs a decay in [0, 1) (e.g. 0.999), not '%s'\n", v);
                return 2;
            }
            a->ema_set = true;
        }
        else if (strcmp(f, "--lr") == 0) ok = (a->lr_set = zf_parse_f64(v, &a->lr)) && a->lr > 0;
        else if (strcmp(f, "--momentum") == 0) ok = zf_parse_f64(v, &a->momentum) && a->momentum >= 0 && a->momentum < 1;
        else if (strcmp(f, "--weight-decay") == 0) ok = (a->wd_set = zf_parse_f64(v, &a->weight_decay)) && a->weight_decay >= 0;
        else if (strcmp(f, "--seed") == 0) {
            ok = zf_parse_i64(v, &n) && n >= 0;
            a->seed = (uint64_t)n;
            a->seed_set = true;
        } else if (strcmp(f, "--threads") == 0) {
            if (!zf_cli_set_threads("train", v)) return 2;
        } else if (strcmp(f, "--progress") == 0) {
            if (strcmp(v, "auto") == 0) a->progress = ZF_PROGRESS_AUTO;
            else if (strcmp(v, "bar") == 0) a->progress = ZF_PROGRESS_BAR;
            else if (strcmp(v, "lines") == 0) a->progress = ZF_PROGRESS_LINES;
            else if (strcmp(v, "none") == 0) a->progress = ZF_PROGRESS_NONE;
            else ok = false;
        } else {
            fprintf(stderr, "zerfoo train: unknown option '%s' (see zerfoo train --help)\n", f);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "zerfoo train: bad value '%s' for %s (see zerfoo train --help)\n", v, f);
            return 2;
        }
    }
    if (!a->model) {
        fprintf(stderr, "zerfoo train: --model is required (mlp or lenet5)\n");
        return 2;
    }
    bool known = false;
    for (const char *const *m = zf_model_names(); *m; m++) known |= strcmp(*m, a->model) == 0;
    if (!known) {
        fprintf(stderr, "zerfoo train: unknown model '%s' (mlp or lenet5)\n", a->model);
        return 2;
    }
    if (!zf_cli_dataset_known(a->dataset)) {
        fprintf(stderr, "zerfoo train: unknown dataset '%s' (fashion-mnist)\n", a->dataset);
        return 2;
    }
    if (strcmp(a->optimizer, "sgd") != 0 && strcmp(a->optimizer, "adam") != 0 && strcmp(a->optimizer, "adamw") != 0) {
        fprintf(stderr, "zerfoo train: unknown optimizer '%s' (sgd, adam or adamw)\n", a->optimizer);
        return 2;
    }
    if (a->momentum > 0 && strcmp(a->optimizer, "sgd") != 0) {
        fprintf(stderr, "zerfoo train: --momentum is for sgd only\n");
        return 2;
    }
    if (!a->out && a->resume) a->out = a->resume;
    return -1;
}

static zf_optimizer *make_optimizer(const train_args *a, const zf_named_tensors *params) {
    if (strcmp(a->optimizer, "sgd") == 0) {
        zf_sgd_params p = {.lr = a->lr_set ? a->lr : 0.01, .momentum = a->momentum,
                           .weight_decay = a->wd_set ? a->weight_decay : 0};
        return zf_sgd_new(params, &p);
    }
    bool w = strcmp(a->optimizer, "adamw") == 0;
    zf_adam_params p = w ? zf_adamw_defaults() : zf_adam_defaults();
    if (a->lr_set) p.lr = a->lr;
    if (a->wd_set) p.weight_decay = a->weight_decay;
    return w ? zf_adamw_new(params, &p) : zf_adam_new(params, &p);
}

/* The seed and EMA decay (0: none) a checkpoint was trained with (loads it
 * into the model, which the trainer's resume overwrites again). */
static zf_status checkpoint_settings(const char *path, zf_module *model, const char *model_name, zf_ctx *ctx,
                                     uint64_t *seed, double *ema) {
    zf_checkpoint_meta meta;
    memset(&meta, 0, sizeof meta);
    snprintf(meta.model, sizeof meta.model, "%s", model_name);
    zf_named_tensors *state = zf_module_state_dict(model, ctx);
    if (!state) return zf_last_status();
    zf_status st = zf_checkpoint_load(path, state, NULL, &meta);
    if (st != ZF_OK) return st;
    const char *s = zf_checkpoint_meta_get(&meta, "seed");
    int64_t v;
    if (!s || !zf_parse_i64(s, &v) || v < 0)
        return zf_set_error(ZF_ERR_FORMAT, "%s: no seed in the checkpoint metadata", path);
    *seed = (uint64_t)v;
    *ema = isnan(meta.ema_decay) ? 0 : meta.ema_decay;
    return ZF_OK;
}

/* The training set, and the set each epoch is evaluated on: the test set, or
 * with --validation N the last N training images (the rest is trained on). */
static zf_status load_data(zf_ctx *ctx, const train_args *a, zf_dataset *train, zf_dataset *eval) {
    if (!a->validation) {
        zf_status st = zf_cli_load_dataset(ctx, a->dataset, a->data_dir, ZF_SPLIT_TRAIN, &a->norm, a->limit_train, train);
        if (st != ZF_OK) return st;
        return zf_cli_load_dataset(ctx, a->dataset, a->data_dir, ZF_SPLIT_TEST, &a->norm, a->limit_test, eval);
    }
    zf_dataset all;
    zf_status st = zf_cli_load_dataset(ctx, a->dataset, a->data_dir, ZF_SPLIT_TRAIN, &a->norm, 0, &all);
    if (st != ZF_OK) return st;
    int64_t n = all.n - a->validation;
    if (n < 1)
        return zf_set_error(ZF_ERR_INVALID_ARG, "--validation %lld leaves no training images (the training set has %lld)",
                            (long long)a->validation, (long long)all.n);
    int64_t n_train = a->limit_train > 0 && a->limit_train < n ? a->limit_train : n;
    int64_t n_eval = a->limit_test > 0 && a->limit_test < a->validation ? a->limit_test : a->validation;
    zf_tensor *tx = zf_narrow(ctx, all.x, 0, 0, n_train), *ty = zf_narrow(ctx, all.y, 0, 0, n_train);
    zf_tensor *vx = zf_narrow(ctx, all.x, 0, n, n_eval), *vy = zf_narrow(ctx, all.y, 0, n, n_eval);
    if (!tx || !ty || !vx || !vy) return zf_last_status();
    st = zf_dataset_from_tensors(train, tx, ty, all.num_classes);
    return st != ZF_OK ? st : zf_dataset_from_tensors(eval, vx, vy, all.num_classes);
}

int zf_cmd_train(int argc, char **argv) {
    train_args a;
    int rc = parse_train_args(argc, argv, &a);
    if (rc >= 0) return rc;

    zf_ctx *data = zf_ctx_new(NULL), *params = zf_ctx_new(NULL);
    zf_optimizer *opt = NULL;
    zf_dataset train, test;
    if (!data || !params) goto fail;
    if (load_data(data, &a, &train, &test) != ZF_OK) goto fail;
    zf_nn nn = zf_nn_init(params, ZF_F32, a.seed);
    zf_module *model = zf_model_build(&nn, a.model);
    if (!model || (a.he_init && zf_model_init_he(model, &nn) != ZF_OK)) goto fail;
    if (a.resume && (!a.seed_set || !a.ema_set)) {
        uint64_t seed = 0;
        double ema = 0;
        if (checkpoint_settings(a.resume, model, a.model, data, &seed, &ema) != ZF_OK) goto fail;
        if (!a.seed_set) a.seed = seed;
        if (!a.ema_set) a.ema = ema;
    }
    zf_named_tensors *plist = zf_module_named_parameters(model, params);
    if (!plist || !(opt = make_optimizer(&a, plist))) goto fail;

    char nbuf[32];
    char ema[32] = "";
    if (a.ema > 0) snprintf(ema, sizeof ema, ", EMA %g", a.ema);
    printf("zerfoo train: %s (%s parameters) on %s: %lld train / %lld %s samples, %s lr %g (%s), batch %lld, "
           "%lld epochs%s, seed %" PRIu64 ", %d threads\n",
           a.model, zf_cli_thousands(zf_module_num_parameters(model), nbuf, sizeof nbuf), a.dataset,
           (long long)train.n, (long long)test.n, a.validation ? "validation" : "test", a.optimizer, zf_optim_lr(opt),
           a.schedule, (long long)a.batch_size, (long long)a.epochs, ema, a.seed, zf_cli_threads());
    fflush(stdout);

    zf_trainer_config cfg = zf_trainer_defaults();
    cfg.model_name = a.model;
    cfg.epochs = a.epochs;
    cfg.batch_size = a.batch_size;
    cfg.seed = a.seed;
    cfg.checkpoint_path = a.out;
    cfg.resume_path = a.resume;
    cfg.log_path = a.log;
    cfg.eval_name = a.validation ? "val" : "test";
    cfg.progress = stderr;
    cfg.progress_mode = a.progress;
    cfg.label_smoothing = a.label_smoothing;
    cfg.ema_decay = a.ema;
    cfg.augment = a.augment;
    cfg.augment.fill = zf_image_norm_blank(&a.norm);
    zf_lr_schedule sched = {.kind = ZF_LR_COSINE, .base_lr = zf_optim_lr(opt), .min_lr = 0};
    if (strcmp(a.schedule, "constant") != 0) {
        int64_t per_epoch = a.batch_size > 0 ? (train.n + a.batch_size - 1) / a.batch_size : 1;
        sched.total_steps = a.epochs * per_epoch > 0 ? a.epochs * per_epoch : 1;
        if (strcmp(a.schedule, "warmup-cosine") == 0) {
            sched.kind = ZF_LR_WARMUP_COSINE;
            double w = a.warmup_epochs * (double)per_epoch;
            sched.warmup_steps = w < (double)sched.total_steps ? (int64_t)llround(w) : sched.total_steps;
            sched.warmup_start = 0;
        }
        cfg.schedule = &sched;
    }
    zf_train_result r;
    zf_status st = zf_train(model, opt, &train, &test, &cfg, &r);
    if (st != ZF_OK) goto fail;
    if (r.start_epoch > 0)
        fprintf(stderr, "resumed from %s after epoch %lld\n", a.resume, (long long)r.start_epoch);
    printf("{\"model\":\"%s\",\"params\":%lld,\"optimizer\":\"%s\",\"batch_size\":%lld,\"seed\":%" PRIu64
           ",\"threads\":%d,\"epochs\":%lld,\"steps\":%lld",
           a.model, (long long)zf_module_num_parameters(model), a.optimizer, (long long)a.batch_size, a.seed,
           zf_cli_threads(), (long long)r.epochs, (long long)r.steps);
    zf_cli_json_num("lr", zf_optim_lr(opt));
    zf_cli_json_num("train_loss", r.last.train_loss);
    zf_cli_json_num("train_accuracy", r.last.train_accuracy);
    zf_cli_json_num("test_loss", r.last.test_loss);
    zf_cli_json_num("test_accuracy", r.last.test_accuracy);
    printf(",\"eval_set\":\"%s\",\"weights\":\"%s\"", a.validation ? "validation" : "test", r.last.ema ? "ema" : "train");
    if (a.ema > 0) zf_cli_json_num("ema_decay", a.ema);
    zf_cli_json_num("train_samples_per_sec", r.train_samples_per_sec);
    zf_cli_json_num("seconds", r.seconds);
    printf("}\n");
    zf_optim_free(opt);
    zf_ctx_free(params);
    zf_ctx_free(data);
    return 0;
fail:
    fprintf(stderr, "zerfoo train: %s\n", zf_last_error());
    zf_optim_free(opt);
    zf_ctx_free(params);
    zf_ctx_free(data);
    return 1;
}
