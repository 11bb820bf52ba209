/* Dumps what tests/parity/test_train_parity.py compares with PyTorch: a
 * model's initial weights, the training batches, and for each step the loss
 * and every gradient, plus the parameters after the first update.
 *
 * usage: train_dump --model mlp|lenet5 --optimizer sgd|adam|adamw --steps K --out DIR
 *                   [--lr X] [--batch-size B] [--seed S] [--data-dir DIR] [--grad-steps G]
 *                   [--param-steps P] [--dtype f32|f64]
 *
 * Writes DIR/init.safetensors (the state dict before training, PyTorch names)
 * and DIR/run.safetensors with
 *   x.<k> [B, 1, 28, 28] f32, y.<k> [B] i64    the batch of step k (k < K)
 *   losses [K] f64                              the loss of each step
 *   grad.<k>.<param>                            gradients of step k (k < G, default 2)
 *   param.<k>.<param>                           parameters after k updates, the
 *                                               ones step k runs with (1 <= k <= P,
 *                                               default 1)
 * Batches come from Fashion-MNIST's training set in the trainer's epoch-0
 * order for the seed; SGD uses momentum 0.9, AdamW weight decay 0.01. With
 * --dtype f64 the model, its gradients and the optimizer run in f64 (the
 * batches are cast from the loader's f32; x.<k> stays f32). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zerfoo/zerfoo.h"

static int usage(void) {
    fprintf(stderr, "usage: train_dump --model mlp|lenet5 --optimizer sgd|adam|adamw --steps K --out DIR "
                    "[--lr X] [--batch-size B] [--seed S] [--data-dir DIR] [--grad-steps G] [--param-steps P] "
                    "[--dtype f32|f64]\n");
    return 2;
}

static zf_status push_copy(zf_ctx *ctx, zf_named_tensors *l, const char *name, zf_tensor *t) {
    zf_tensor *c = zf_clone(ctx, zf_detach(ctx, t));
    return c ? zf_named_push(ctx, l, name, c) : zf_last_status();
}

int main(int argc, char **argv) {
    const char *model_name = NULL, *opt_name = NULL, *out = NULL, *data_dir = NULL, *dtype = "f32";
    long steps = 0, batch = 64, grad_steps = 2, param_steps = 1;
    unsigned long long seed = 1;
    double lr = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *f = argv[i], *v = argv[i + 1];
        if (strcmp(f, "--model") == 0) model_name = v;
        else if (strcmp(f, "--optimizer") == 0) opt_name = v;
        else if (strcmp(f, "--out") == 0) out = v;
        else if (strcmp(f, "--data-dir") == 0) data_dir = v;
        else if (strcmp(f, "--steps") == 0) steps = atol(v);
        else if (strcmp(f, "--grad-steps") == 0) grad_steps = atol(v);
        else if (strcmp(f, "--param-steps") == 0) param_steps = atol(v);
        else if (strcmp(f, "--dtype") == 0) dtype = v;
        else if (strcmp(f, "--batch-size") == 0) batch = atol(v);
        else if (strcmp(f, "--seed") == 0) seed = strtoull(v, NULL, 10);
        else if (strcmp(f, "--lr") == 0) lr = atof(v);
        else return usage();
    }
    bool f64 = strcmp(dtype, "f64") == 0;
    if (argc % 2 == 0 || !model_name || !opt_name || !out || steps < 1 || batch < 1 || (!f64 && strcmp(dtype, "f32")))
        return usage();
    if (grad_steps > steps) grad_steps = steps;

    zf_ctx *data = zf_ctx_new(NULL), *params = zf_ctx_new(NULL), *dump = zf_ctx_new(NULL), *step = zf_ctx_new(NULL);
    zf_optimizer *opt = NULL;
    zf_loader *loader = NULL;
    zf_dataset train;
    char path[4096];
    if (!data || !params || !dump || !step) goto fail;
    if (zf_fashion_mnist_load(data, data_dir, ZF_SPLIT_TRAIN, NULL, &train) != ZF_OK) goto fail;
    zf_nn nn = zf_nn_init(params, f64 ? ZF_F64 : ZF_F32, seed);
    zf_module *model = zf_model_build(&nn, model_name);
    if (!model) goto fail;
    zf_named_tensors *plist = zf_module_named_parameters(model, params);
    if (!plist) goto fail;
    if (strcmp(opt_name, "sgd") == 0) {
        zf_sgd_params p = {.lr = lr > 0 ? lr : 0.01, .momentum = 0.9};
        opt = zf_sgd_new(plist, &p);
    } else if (strcmp(opt_name, "adam") == 0 || strcmp(opt_name, "adamw") == 0) {
        bool w = opt_name[4] == 'w';
        zf_adam_params p = w ? zf_adamw_defaults() : zf_adam_defaults();
        if (lr > 0) p.lr = lr;
        opt = w ? zf_adamw_new(plist, &p) : zf_adam_new(plist, &p);
    } else {
        return usage();
    }
    if (!opt) goto fail;

    snprintf(path, sizeof path, "%s/init.safetensors", out);
    zf_named_tensors *sd = zf_module_state_dict(model, dump);
    if (!sd || zf_safetensors_save(path, sd, 0, NULL, NULL) != ZF_OK) goto fail;

    zf_loader_opts lo = {.batch_size = batch, .shuffle = true, .seed = seed};
    loader = zf_loader_new(&train, &lo);
    if (!loader || zf_loader_set_epoch(loader, 0) != ZF_OK) goto fail;
    if (steps > zf_loader_num_batches(loader)) steps = (long)zf_loader_num_batches(loader);
    if (param_steps > steps) param_steps = steps;
    int cap = (int)(2 * steps + (grad_steps + param_steps) * plist->n + 1);
    zf_named_tensors *res = zf_named_new(dump, cap);
    zf_tensor *losses = zf_zeros(dump, ZF_F64, 1, (int64_t[]){steps});
    if (!res || !losses) goto fail;
    char name[256];
    for (long k = 0; k < steps; k++) {
        zf_ctx_reset(step);
        zf_tensor *x, *y;
        if (zf_loader_batch(loader, k, step, &x, &y) != ZF_OK) goto fail;
        snprintf(name, sizeof name, "x.%ld", k);
        if (push_copy(dump, res, name, x) != ZF_OK) goto fail;
        snprintf(name, sizeof name, "y.%ld", k);
        if (push_copy(dump, res, name, y) != ZF_OK) goto fail;
        if (f64 && !(x = zf_cast(step, x, ZF_F64))) goto fail;
        zf_tensor *loss = zf_cross_entropy(step, zf_module_forward(model, step, x), y, 0.0, ZF_REDUCTION_MEAN);
        if (!loss) goto fail;
        ((double *)zf_data(losses))[k] = zf_item(loss);
        zf_optim_zero_grad(opt);
        if (zf_backward(step, loss, NULL) != ZF_OK) goto fail;
        for (int p = 0; k < grad_steps && p < plist->n; p++) {
            snprintf(name, sizeof name, "grad.%ld.%s", k, plist->names[p]);
            if (push_copy(dump, res, name, plist->tensors[p]->grad) != ZF_OK) goto fail;
        }
        if (zf_optim_step(opt) != ZF_OK) goto fail;
        for (int p = 0; k < param_steps && p < plist->n; p++) {
            snprintf(name, sizeof name, "param.%ld.%s", k + 1, plist->names[p]);
            if (push_copy(dump, res, name, plist->tensors[p]) != ZF_OK) goto fail;
        }
    }
    if (zf_named_push(dump, res, "losses", losses) != ZF_OK) goto fail;
    snprintf(path, sizeof path, "%s/run.safetensors", out);
    if (zf_safetensors_save(path, res, 0, NULL, NULL) != ZF_OK) goto fail;
    printf("train_dump: %s/%s, %ld steps of batch %ld -> %s\n", model_name, opt_name, steps, batch, out);
    zf_loader_free(loader);
    zf_optim_free(opt);
    zf_ctx_free(step);
    zf_ctx_free(dump);
    zf_ctx_free(params);
    zf_ctx_free(data);
    return 0;
fail:
    fprintf(stderr, "train_dump: %s\n", zf_last_error());
    zf_loader_free(loader);
    zf_optim_free(opt);
    zf_ctx_free(step);
    zf_ctx_free(dump);
    zf_ctx_free(params);
    zf_ctx_free(data);
    return 1;
}
