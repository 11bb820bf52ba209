/* libFuzzer target for checkpoint loading: the input is written to a temp
 * file, which is loaded with zf_checkpoint_load into a small model's state
 * dict with an Adam optimizer (EMA on), with SGD (momentum, no EMA), with no
 * optimizer, and with zf_checkpoint_load_ema. Built and run by
 * tests/fuzz/run_fuzz.sh checkpoint (clang, ASan + UBSan).
 *
 * ZF_FUZZ_WRITE_SEEDS=DIR makes the binary write its seed checkpoints (this
 * model after one step of each optimizer) into DIR and exit:
 *   ZF_FUZZ_WRITE_SEEDS=tests/fuzz/corpus_checkpoint build-fuzz/fuzz_checkpoint */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zerfoo/autograd.h"
#include "zerfoo/checkpoint.h"
#include "zerfoo/optim.h"
#include "zerfoo/tensor.h"

static zf_ctx *g_ctx;
static zf_named_tensors *g_state, *g_params;
static zf_optimizer *g_adam, *g_sgd;
static char g_path[64];

#define NEED(x) \
    do {        \
        if (!(x)) { \
            fprintf(stderr, "fuzz_checkpoint setup: %s: %s\n", #x, zf_last_error()); \
            abort(); \
        }       \
    } while (0)

/* fc: Linear(4, 3); bn: running statistics (buffers, not parameters). */
static void make_model(void) {
    NEED(g_ctx = zf_ctx_new(NULL));
    zf_tensor *w = zf_randn(g_ctx, ZF_F32, 2, (int64_t[]){3, 4}, 1, 0);
    zf_tensor *b = zf_zeros(g_ctx, ZF_F32, 1, (int64_t[]){3});
    zf_tensor *rm = zf_zeros(g_ctx, ZF_F32, 1, (int64_t[]){3});
    zf_tensor *nb = zf_zeros(g_ctx, ZF_I64, 0, NULL);
    NEED(w && b && rm && nb);
    zf_requires_grad(w, true);
    zf_requires_grad(b, true);
    NEED(g_state = zf_named_new(g_ctx, 4));
    NEED(g_params = zf_named_new(g_ctx, 2));
    NEED(!zf_named_push(g_ctx, g_state, "fc.weight", w) && !zf_named_push(g_ctx, g_state, "fc.bias", b) &&
         !zf_named_push(g_ctx, g_state, "bn.running_mean", rm) &&
         !zf_named_push(g_ctx, g_state, "bn.num_batches_tracked", nb));
    NEED(!zf_named_push(g_ctx, g_params, "fc.weight", w) && !zf_named_push(g_ctx, g_params, "fc.bias", b));
    zf_adam_params ap = zf_adam_defaults();
    NEED(g_adam = zf_adam_new(g_params, &ap));
    NEED(!zf_optim_set_ema(g_adam, 0.9));
    zf_sgd_params sp = {.lr = 0.1, .momentum = 0.9};
    NEED(g_sgd = zf_sgd_new(g_params, &sp));
}

static void write_seeds(const char *dir) {
    for (int i = 0; i < g_params->n; i++) {
        zf_tensor *p = g_params->tensors[i];
        NEED(p->grad = zf_full(g_ctx, p->dtype, p->ndim, p->shape, 0.25));
    }
    NEED(!zf_optim_step(g_adam) && !zf_optim_step(g_sgd));
    char path[512];
    zf_checkpoint_meta meta = {.step = 1, .epoch = 0};
    snprintf(meta.model, sizeof meta.model, "fuzz");
    NEED(!zf_checkpoint_meta_set(&meta, "seed", "7"));
    snprintf(path, sizeof path, "%s/adam_ema.safetensors", dir);
    NEED(!zf_checkpoint_save(path, g_state, g_adam, &meta));
    snprintf(path, sizeof path, "%s/sgd.safetensors", dir);
    NEED(!zf_checkpoint_save(path, g_state, g_sgd, &meta));
    snprintf(path, sizeof path, "%s/no_optim.safetensors", dir);
    NEED(!zf_checkpoint_save(path, g_state, NULL, NULL));
}

static void cleanup(void) { unlink(g_path); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    make_model();
    const char *seeds = getenv("ZF_FUZZ_WRITE_SEEDS");
    if (seeds) {
        write_seeds(seeds);
        exit(0);
    }
    snprintf(g_path, sizeof g_path, "/tmp/zf_fuzz_ckpt_%d.safetensors", (int)getpid());
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FILE *f = fopen(g_path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) abort();
    zf_checkpoint_meta meta;
    memset(&meta, 0, sizeof meta);
    /* a loaded learning rate is a usable one */
    if (zf_checkpoint_load(g_path, g_state, g_adam, &meta) == ZF_OK && !(zf_optim_lr(g_adam) >= 0 && isfinite(zf_optim_lr(g_adam))))
        __builtin_trap();
    snprintf(meta.model, sizeof meta.model, "fuzz");
    if (zf_checkpoint_load(g_path, g_state, g_sgd, &meta) == ZF_OK && !(zf_optim_lr(g_sgd) >= 0 && isfinite(zf_optim_lr(g_sgd))))
        __builtin_trap();
    zf_checkpoint_load(g_path, g_state, NULL, NULL);
    zf_checkpoint_load_ema(g_path, g_state, &meta);
    return 0;
}
