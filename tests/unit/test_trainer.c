/* The trainer on a tiny synthetic dataset: determinism (run after run, 1 vs
 * 2 threads), resume after epoch 2 equal to an uninterrupted run (also with
 * the EMA of the weights), evaluation with the EMA averages, a NaN loss
 * stopping the run with the last checkpoint intact, the JSONL log, progress
 * output, resume errors, and steady-state steps not growing the step context. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zf_test.h"

static char g_dir[256];

static const char *path_in(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

/* 4 classes of noisy 1x12x12 images: class c has bright pixels in quadrant
 * c. Big enough that the engine's kernels split work over 2 threads. */
#define N_TRAIN 320
#define N_TEST 100
#define SIDE 12
#define BATCH 64

static zf_status make_data(zf_ctx *ctx, int64_t n, uint64_t seed, zf_dataset *ds) {
    zf_tensor *x = zf_randn(ctx, ZF_F32, 4, (int64_t[]){n, 1, SIDE, SIDE}, seed, 1);
    zf_tensor *y = zf_zeros(ctx, ZF_I64, 1, (int64_t[]){n});
    if (!x || !y) return zf_last_status();
    float *xd = zf_data(x);
    int64_t *yd = zf_data(y);
    for (int64_t i = 0; i < n; i++) {
        int64_t c = i % 4;
        yd[i] = c;
        for (int r = 0; r < SIDE / 2; r++)
            for (int q = 0; q < SIDE / 2; q++) {
                int row = r + (int)(c / 2) * SIDE / 2, col = q + (int)(c % 2) * SIDE / 2;
                xd[i * SIDE * SIDE + row * SIDE + col] += 1.5f;
            }
    }
    return zf_dataset_from_tensors(ds, x, y, 4);
}

/* A small model touching every layer kind the real models use, plus dropout
 * (whose RNG position a resume must restore): conv, relu, max pool, flatten,
 * linear. `hidden` changes the shape for the wrong-shape tests. */
static zf_module *make_model(zf_nn *nn, int64_t hidden) {
    const zf_pool2d_params pool = {.kernel = {2, 2}};
    zf_module *layers[] = {
        zf_nn_conv2d(nn, 1, 4, 3, 3, NULL, true), /* [N, 4, 10, 10] */
        zf_nn_relu(nn),
        zf_nn_max_pool2d(nn, &pool),              /* [N, 4, 5, 5] */
        zf_nn_flatten(nn, 1, -1),                 /* [N, 100] */
        zf_nn_linear(nn, 100, hidden, true),
        zf_nn_relu(nn),
        zf_nn_dropout(nn, 0.2),
        zf_nn_linear(nn, hidden, 4, true),
    };
    return zf_nn_sequential(nn, (int)(sizeof layers / sizeof layers[0]), layers);
}

#define MAX_EPOCHS 8

typedef struct {
    /* inputs */
    int threads;
    int64_t epochs;
    uint64_t init_seed;
    int64_t hidden;
    const char *model_name;
    const char *ckpt, *resume, *log;
    bool sgd;
    bool hflip;
    int32_t shift;            /* augment.max_shift */
    double ema;               /* cfg.ema_decay */
    int64_t n_train;          /* training samples (0: N_TRAIN) */
    int64_t nan_at_step;      /* poison this 0-based step's batch (0: never) */
    zf_progress_mode progress;
    FILE *progress_file;
    /* outputs */
    zf_status status;
    char error[600];
    zf_train_result result;
    zf_epoch_metrics metrics[MAX_EPOCHS];
    int n_metrics;
    unsigned char params[65536];
    size_t params_bytes;
    size_t reserved_first, reserved_last; /* step ctx bytes at the 2nd and last step */
    float first_batch[BATCH * SIDE * SIDE]; /* x of step 0 as the model saw it */
    unsigned char *ckpt_copy;             /* the checkpoint file after epoch 2 */
    size_t ckpt_copy_len;
} run_spec;

static zf_status batch_hook(void *user, int64_t step, zf_tensor *x, zf_tensor *y) {
    run_spec *r = user;
    (void)y;
    size_t reserved = zf_ctx_reserved_bytes(x->ctx);
    if (r->reserved_first == 0 && step >= 1) r->reserved_first = reserved;
    r->reserved_last = reserved;
    if (step == 0 && zf_numel(x) == BATCH * SIDE * SIDE) memcpy(r->first_batch, zf_data(x), sizeof r->first_batch);
    if (r->nan_at_step > 0 && step == r->nan_at_step) ((float *)zf_data(x))[5] = NAN;
    return ZF_OK;
}

static unsigned char *read_file(const char *p, size_t *len) {
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    *len = b ? fread(b, 1, (size_t)n, f) : 0;
    fclose(f);
    return b;
}

static void epoch_hook(void *user, const zf_epoch_metrics *m) {
    run_spec *r = user;
    if (r->n_metrics < MAX_EPOCHS) r->metrics[r->n_metrics++] = *m;
    if (m->epoch == 2 && r->ckpt) {
        free(r->ckpt_copy);
        r->ckpt_copy = read_file(r->ckpt, &r->ckpt_copy_len);
    }
}

/* Runs the spec; the outputs start afresh (a spec copied from another run
 * keeps only its inputs). */
static void run(run_spec *r) {
    r->n_metrics = 0;
    r->reserved_first = r->reserved_last = 0;
    r->ckpt_copy = NULL;
    r->ckpt_copy_len = 0;
    zf_engine *eng = zf_cpu_engine_new(r->threads);
    zf_ctx *data = zf_ctx_new(eng), *params = zf_ctx_new(eng);
    zf_dataset train, test;
    r->status = make_data(data, r->n_train ? r->n_train : N_TRAIN, 11, &train);
    if (r->status == ZF_OK) r->status = make_data(data, N_TEST, 12, &test);
    zf_nn nn = zf_nn_init(params, ZF_F32, r->init_seed);
    zf_module *model = make_model(&nn, r->hidden ? r->hidden : 32);
    zf_named_tensors *plist = model ? zf_module_named_parameters(model, params) : NULL;
    zf_optimizer *opt = NULL;
    if (plist) {
        if (r->sgd) {
            zf_sgd_params sp = {.lr = 0.05, .momentum = 0.9};
            opt = zf_sgd_new(plist, &sp);
        } else {
            zf_adam_params ap = zf_adam_defaults();
            ap.lr = 0.01;
            opt = zf_adam_new(plist, &ap);
        }
    }
    if (!opt) {
        r->status = zf_last_status();
        snprintf(r->error, sizeof r->error, "%s", zf_last_error());
        goto out;
    }
    zf_trainer_config cfg = zf_trainer_defaults();
    cfg.model_name = r->model_name ? r->model_name : "tiny";
    cfg.epochs = r->epochs;
    cfg.batch_size = BATCH;
    cfg.eval_batch_size = 64;
    cfg.seed = 7;
    cfg.engine = eng;
    cfg.checkpoint_path = r->ckpt;
    cfg.resume_path = r->resume;
    cfg.log_path = r->log;
    cfg.progress = r->progress_file;
    cfg.progress_mode = r->progress_file ? r->progress : ZF_PROGRESS_NONE;
    cfg.hflip = r->hflip;
    cfg.augment.max_shift = r->shift;
    cfg.augment.fill = -0.5f;
    cfg.ema_decay = r->ema;
    cfg.on_batch = batch_hook;
    cfg.on_epoch = epoch_hook;
    cfg.user = r;
    r->status = zf_train(model, opt, &train, &test, &cfg, &r->result);
    snprintf(r->error, sizeof r->error, "%s", r->status == ZF_OK ? "" : zf_last_error());
    /* parameters, concatenated in state-dict order */
    zf_named_tensors *sd = zf_module_state_dict(model, params);
    r->params_bytes = 0;
    for (int i = 0; sd && i < sd->n; i++) {
        size_t nb = zf_nbytes(sd->tensors[i]);
        if (r->params_bytes + nb > sizeof r->params) break;
        memcpy(r->params + r->params_bytes, zf_data(sd->tensors[i]), nb);
        r->params_bytes += nb;
    }
out:
    zf_optim_free(opt);
    zf_ctx_free(params);
    zf_ctx_free(data);
    zf_engine_free(eng);
}

static bool same_curve(const run_spec *a, const run_spec *b) {
    if (a->n_metrics != b->n_metrics) return false;
    for (int i = 0; i < a->n_metrics; i++) {
        const zf_epoch_metrics *x = &a->metrics[i], *y = &b->metrics[i];
        if (x->epoch != y->epoch || x->step != y->step || memcmp(&x->train_loss, &y->train_loss, 8) ||
            memcmp(&x->train_accuracy, &y->train_accuracy, 8) || memcmp(&x->test_loss, &y->test_loss, 8) ||
            memcmp(&x->test_accuracy, &y->test_accuracy, 8))
            return false;
    }
    return true;
}

static bool same_params(const run_spec *a, const run_spec *b) {
    return a->params_bytes > 0 && a->params_bytes == b->params_bytes && memcmp(a->params, b->params, a->params_bytes) == 0;
}

static void test_determinism_and_learning(void) {
    run_spec a = {.threads = 1, .epochs = 4, .init_seed = 3};
    run_spec b = a, c = a;
    c.threads = 2;
    run(&a);
    run(&b);
    run(&c);
    CHECK(a.status == ZF_OK);
    if (a.status != ZF_OK) fprintf(stderr, "train failed: %s\n", a.error);
    CHECK(a.n_metrics == 4 && a.result.epochs == 4 && a.result.steps == 4 * (N_TRAIN / BATCH));
    /* it learns the quadrants */
    CHECK(a.n_metrics == 4 && a.metrics[3].test_accuracy > 0.9 && a.metrics[3].train_loss < a.metrics[0].train_loss);
    CHECK(a.result.train_samples_per_sec > 0);
    CHECK(same_curve(&a, &b) && same_params(&a, &b));
    CHECK(c.status == ZF_OK);
    CHECK(same_curve(&a, &c));
    CHECK(same_params(&a, &c));
    /* the step context stops growing after the first step */
    CHECK(a.reserved_first > 0 && a.reserved_last == a.reserved_first);
}

static void test_resume(bool sgd, double ema) {
    remove(path_in("ckpt.safetensors"));
    /* the SGD run also augments (flips and shifts): the draws of a resumed
       epoch must be those of the uninterrupted run */
    run_spec full = {.threads = 1, .epochs = 4, .init_seed = 3, .sgd = sgd, .hflip = sgd, .shift = sgd ? 2 : 0,
                     .ema = ema};
    run(&full);
    run_spec first = full;
    first.epochs = 2;
    first.ckpt = path_in("ckpt.safetensors");
    run(&first);
    CHECK(first.status == ZF_OK && first.result.epochs == 2);
    /* a fresh process would build the model from any seed: the checkpoint wins */
    run_spec second = full;
    second.init_seed = 99;
    second.ckpt = path_in("ckpt.safetensors");
    second.resume = path_in("ckpt.safetensors");
    second.threads = 2;
    run(&second);
    CHECK(second.status == ZF_OK);
    if (second.status != ZF_OK) fprintf(stderr, "resume failed: %s\n", second.error);
    CHECK(second.result.start_epoch == 2 && second.result.epochs == 4 && second.result.steps == full.result.steps);
    CHECK(same_params(&full, &second));
    CHECK(second.n_metrics == 2 && full.n_metrics == 4);
    if (second.n_metrics == 2 && full.n_metrics == 4) {
        run_spec tail = full;
        tail.n_metrics = 2;
        memmove(tail.metrics, full.metrics + 2, 2 * sizeof full.metrics[0]);
        CHECK(same_curve(&tail, &second));
    }
    /* resuming a finished run trains nothing and reports the saved metrics */
    run_spec again = second;
    again.n_metrics = 0;
    run(&again);
    CHECK(again.status == ZF_OK && again.n_metrics == 0 && again.result.epochs == 4);
    CHECK(memcmp(&again.result.last.test_accuracy, &full.metrics[3].test_accuracy, 8) == 0);
    CHECK(again.result.last.ema == (ema > 0) && full.metrics[3].ema == (ema > 0));
    CHECK(same_params(&again, &full));
    free(first.ckpt_copy);
}

/* EMA changes what is evaluated, not what is trained: the same training
 * curve and final weights, other test metrics. */
static void test_ema_evaluation(void) {
    run_spec plain = {.threads = 1, .epochs = 3, .init_seed = 3};
    run_spec avg = plain;
    avg.ema = 0.9;
    run(&plain);
    run(&avg);
    CHECK(plain.status == ZF_OK && avg.status == ZF_OK && avg.n_metrics == 3);
    CHECK(same_params(&plain, &avg));
    bool same_train = plain.n_metrics == avg.n_metrics, other_test = false;
    for (int i = 0; same_train && i < plain.n_metrics; i++) {
        same_train = memcmp(&plain.metrics[i].train_loss, &avg.metrics[i].train_loss, 8) == 0 &&
                     memcmp(&plain.metrics[i].train_accuracy, &avg.metrics[i].train_accuracy, 8) == 0;
        other_test |= plain.metrics[i].test_loss != avg.metrics[i].test_loss;
        CHECK(avg.metrics[i].ema && !plain.metrics[i].ema);
    }
    CHECK(same_train && other_test);
    /* a decay outside [0, 1) */
    run_spec bad = plain;
    bad.ema = 1.0;
    run(&bad);
    CHECK(bad.status == ZF_ERR_INVALID_ARG && strstr(bad.error, "EMA decay") && bad.n_metrics == 0);
}

/* With hflip, each image of a batch is the loader's image or its mirror,
 * and both happen. */
static void test_hflip(void) {
    run_spec plain = {.threads = 1, .epochs = 1, .init_seed = 3};
    run_spec flip = plain;
    flip.hflip = true;
    run(&plain);
    run(&flip);
    CHECK(plain.status == ZF_OK && flip.status == ZF_OK);
    int same = 0, mirrored = 0;
    for (int b = 0; b < BATCH; b++) {
        const float *p = plain.first_batch + b * SIDE * SIDE, *f = flip.first_batch + b * SIDE * SIDE;
        bool eq = memcmp(p, f, SIDE * SIDE * sizeof(float)) == 0, mir = true;
        for (int r = 0; r < SIDE; r++)
            for (int c = 0; c < SIDE; c++) mir &= f[r * SIDE + c] == p[r * SIDE + SIDE - 1 - c];
        same += eq;
        mirrored += mir && !eq;
    }
    CHECK(same + mirrored == BATCH && same > BATCH / 5 && mirrored > BATCH / 5);
    /* the same seed flips the same images, with 1 or 2 threads */
    run_spec again = flip;
    again.threads = 2;
    run(&again);
    CHECK(memcmp(again.first_batch, flip.first_batch, sizeof flip.first_batch) == 0 && same_curve(&again, &flip) &&
          same_params(&again, &flip));
    /* flips and shifts: deterministic, 1 vs 2 threads, and the images change */
    run_spec sh = plain;
    sh.hflip = true;
    sh.shift = 2;
    sh.epochs = 2;
    run_spec sh2 = sh;
    sh2.threads = 2;
    run(&sh);
    run(&sh2);
    CHECK(sh.status == ZF_OK && sh2.status == ZF_OK && same_curve(&sh, &sh2) && same_params(&sh, &sh2));
    CHECK(memcmp(sh.first_batch, flip.first_batch, sizeof flip.first_batch) != 0);
}

static void test_resume_errors(void) {
    const char *ck = path_in("ckpt_err.safetensors");
    run_spec base = {.threads = 1, .epochs = 1, .init_seed = 3, .ckpt = ck};
    run(&base);
    CHECK(base.status == ZF_OK);
    /* another model name */
    run_spec other = {.threads = 1, .epochs = 2, .init_seed = 3, .resume = ck, .model_name = "other"};
    run(&other);
    CHECK(other.status != ZF_OK && other.n_metrics == 0);
    /* another shape: nothing is loaded */
    run_spec shape = {.threads = 1, .epochs = 2, .init_seed = 3, .resume = ck, .hidden = 24};
    run(&shape);
    CHECK(shape.status != ZF_OK && shape.n_metrics == 0);
    /* another optimizer */
    run_spec sgd = {.threads = 1, .epochs = 2, .init_seed = 3, .resume = ck, .sgd = true};
    run(&sgd);
    CHECK(sgd.status != ZF_OK && sgd.n_metrics == 0);
    /* truncated file */
    size_t len = 0;
    unsigned char *b = read_file(ck, &len);
    CHECK(b && len > 100);
    const char *cut = path_in("cut.safetensors");
    FILE *f = fopen(cut, "wb");
    if (f && b) {
        fwrite(b, 1, len - 37, f);
        fclose(f);
    }
    run_spec trunc = {.threads = 1, .epochs = 2, .init_seed = 3, .resume = cut};
    run(&trunc);
    CHECK(trunc.status != ZF_OK && trunc.n_metrics == 0 && trunc.error[0] != '\0');
    /* missing file */
    run_spec aug = {.threads = 1, .epochs = 2, .init_seed = 3, .resume = ck, .shift = 1};
    run(&aug);
    CHECK(aug.status == ZF_ERR_INVALID_ARG && strstr(aug.error, "augmentation") != NULL);
    /* other training data */
    run_spec fewer = {.threads = 1, .epochs = 2, .init_seed = 3, .resume = ck, .n_train = N_TRAIN - 10};
    run(&fewer);
    CHECK(fewer.status == ZF_ERR_INVALID_ARG && strstr(fewer.error, "trained on 320 samples, this run has 310") &&
          fewer.n_metrics == 0);
    /* EMA on one side only, or another decay */
    run_spec ema_on = {.threads = 1, .epochs = 2, .init_seed = 3, .resume = ck, .ema = 0.9};
    run(&ema_on);
    CHECK(ema_on.status == ZF_ERR_FORMAT && strstr(ema_on.error, "no EMA weights") && ema_on.n_metrics == 0);
    const char *ck_ema = path_in("ckpt_err_ema.safetensors");
    run_spec base_ema = {.threads = 1, .epochs = 1, .init_seed = 3, .ckpt = ck_ema, .ema = 0.9};
    run(&base_ema);
    CHECK(base_ema.status == ZF_OK);
    run_spec ema_off = {.threads = 1, .epochs = 2, .init_seed = 3, .resume = ck_ema};
    run(&ema_off);
    CHECK(ema_off.status == ZF_ERR_FORMAT && strstr(ema_off.error, "EMA weights (decay 0.9)") && ema_off.n_metrics == 0);
    run_spec ema_other = {.threads = 1, .epochs = 2, .init_seed = 3, .resume = ck_ema, .ema = 0.99};
    run(&ema_other);
    CHECK(ema_other.status == ZF_ERR_INVALID_ARG && strstr(ema_other.error, "EMA decay 0.9") &&
          ema_other.n_metrics == 0);
    run_spec missing = {.threads = 1, .epochs = 2, .init_seed = 3, .resume = path_in("nope.safetensors")};
    run(&missing);
    CHECK(missing.status != ZF_OK);
    free(b);
}

static void test_nan_stop(void) {
    const char *ck = path_in("ckpt_nan.safetensors");
    remove(ck);
    run_spec r = {.threads = 1, .epochs = 4, .init_seed = 3, .ckpt = ck, .nan_at_step = 12}; /* epoch 3, batch 3 */
    run(&r);
    CHECK(r.status == ZF_ERR_NUMERIC);
    CHECK(strstr(r.error, "step 13") != NULL && strstr(r.error, "epoch 3") != NULL);
    CHECK(strstr(r.error, "checkpoint of epoch 2") != NULL);
    CHECK(r.result.nan_step == 13);
    CHECK(r.n_metrics == 2);
    /* the checkpoint of epoch 2 is still there, byte for byte */
    size_t len = 0;
    unsigned char *now = read_file(ck, &len);
    CHECK(now && r.ckpt_copy && len == r.ckpt_copy_len && memcmp(now, r.ckpt_copy, len) == 0);
    free(now);
    free(r.ckpt_copy);
    /* and it resumes */
    run_spec res = {.threads = 1, .epochs = 3, .init_seed = 3, .resume = ck};
    run(&res);
    CHECK(res.status == ZF_OK && res.result.epochs == 3);
}

/* ---- a minimal JSON check for the flat objects of the log ---- */
static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

/* Parses {"key":number|null|"string",...}; stores up to 16 keys. */
static bool parse_flat_json(const char *s, char keys[16][32], int *nkeys) {
    const char *p = skip_ws(s);
    *nkeys = 0;
    if (*p++ != '{') return false;
    for (;;) {
        p = skip_ws(p);
        if (*p++ != '"') return false;
        const char *k = p;
        while (*p && *p != '"') p++;
        if (*p != '"' || p - k >= 32 || *nkeys >= 16) return false;
        memcpy(keys[*nkeys], k, (size_t)(p - k));
        keys[(*nkeys)++][p - k] = '\0';
        p = skip_ws(p + 1);
        if (*p++ != ':') return false;
        p = skip_ws(p);
        if (strncmp(p, "null", 4) == 0) {
            p += 4;
        } else if (*p == '"') {
            const char *e = strchr(p + 1, '"');
            if (!e) return false;
            p = e + 1;
        } else {
            char *end;
            strtod(p, &end);
            if (end == p) return false;
            p = end;
        }
        p = skip_ws(p);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p++ != '}') return false;
        p = skip_ws(p);
        return *p == '\0' || *p == '\n';
    }
}

static void test_log_and_progress(void) {
    const char *log = path_in("log.jsonl");
    remove(log);
    FILE *prog = tmpfile();
    run_spec r = {.threads = 1, .epochs = 3, .init_seed = 3, .log = log, .progress = ZF_PROGRESS_LINES,
                  .progress_file = prog};
    run(&r);
    CHECK(r.status == ZF_OK);
    FILE *f = fopen(log, "r");
    CHECK(f != NULL);
    char line[2048];
    int n = 0;
    bool ok = true;
    const char *want[] = {"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy",
                          "weights", "lr", "samples_per_sec", "seconds"};
    while (f && fgets(line, sizeof line, f)) {
        char keys[16][32];
        int nk;
        ok &= parse_flat_json(line, keys, &nk);
        for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
            bool found = false;
            for (int k = 0; k < nk; k++) found |= strcmp(keys[k], want[w]) == 0;
            ok &= found;
        }
        n++;
    }
    if (f) fclose(f);
    CHECK(ok && n == 3);
    /* progress: one summary line per epoch */
    rewind(prog);
    int lines = 0;
    while (fgets(line, sizeof line, prog)) lines += strncmp(line, "epoch ", 6) == 0;
    CHECK(lines == 3);
    fclose(prog);
    /* bar mode redraws with \r */
    prog = tmpfile();
    run_spec b = {.threads = 1, .epochs = 1, .init_seed = 3, .progress = ZF_PROGRESS_BAR, .progress_file = prog};
    run(&b);
    rewind(prog);
    size_t nread = fread(line, 1, sizeof line - 1, prog);
    line[nread] = '\0';
    CHECK(b.status == ZF_OK && strchr(line, '\r') != NULL && strstr(line, "epoch 1/1") != NULL);
    fclose(prog);
    /* an unwritable log is an error before any training */
    run_spec bad = {.threads = 1, .epochs = 1, .init_seed = 3, .log = path_in("no/such/dir/log.jsonl")};
    run(&bad);
    CHECK(bad.status == ZF_ERR_IO && bad.n_metrics == 0);
}

static void test_evaluate_and_config(void) {
    zf_ctx *ctx = zf_ctx_new(NULL);
    zf_dataset ds;
    CHECK(make_data(ctx, 50, 5, &ds) == ZF_OK);
    zf_nn nn = zf_nn_init(ctx, ZF_F32, 1);
    zf_module *m = make_model(&nn, 8);
    double loss = NAN, acc = NAN;
    CHECK(zf_evaluate(m, &ds, 16, NULL, &loss, &acc) == ZF_OK);
    CHECK(isfinite(loss) && loss > 0 && acc >= 0 && acc <= 1);
    /* eval mode leaves the module's training flag as it was */
    CHECK(zf_module_is_training(m));
    zf_optimizer *opt = zf_adam_new(zf_module_named_parameters(m, ctx), &(zf_adam_params){.lr = 1e-3, .beta1 = 0.9,
                                                                                             .beta2 = 0.999, .eps = 1e-8});
    zf_trainer_config cfg = zf_trainer_defaults();
    cfg.progress_mode = ZF_PROGRESS_NONE;
    cfg.batch_size = 0;
    CHECK(zf_train(m, opt, &ds, NULL, &cfg, NULL) == ZF_ERR_INVALID_ARG);
    cfg.batch_size = 8;
    cfg.epochs = -1;
    CHECK(zf_train(m, opt, &ds, NULL, &cfg, NULL) == ZF_ERR_INVALID_ARG);
    CHECK(zf_train(NULL, opt, &ds, NULL, &cfg, NULL) == ZF_ERR_INVALID_ARG);
    cfg.epochs = 1;
    zf_train_result r;
    CHECK(zf_train(m, opt, &ds, NULL, &cfg, &r) == ZF_OK && isnan(r.last.test_accuracy) && r.steps == 7);
    zf_optim_free(opt);
    zf_ctx_free(ctx);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/zf_test_trainer_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_determinism_and_learning();
    test_resume(false, 0);
    test_resume(true, 0);
    test_resume(false, 0.9);
    test_resume(true, 0.8);
    test_ema_evaluation();
    test_hflip();
    test_resume_errors();
    test_nan_stop();
    test_log_and_progress();
    test_evaluate_and_config();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    ZF_TEST_MAIN_END();
}
