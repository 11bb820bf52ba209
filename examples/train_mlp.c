/* Trains a 784-128-10 MLP on Fashion-MNIST with a hand-written loop:
 * loader -> forward -> cross-entropy -> backward -> Adam step, one step
 * context reset per batch. (train_lenet5.c shows the same with zf_train.)
 *   usage: train_mlp [EPOCHS]      (default 1; data from dataset-fashion-mnist)
 * Build against an installed zerfoo:
 *   cc train_mlp.c $(pkg-config --cflags --libs zerfoo) -o train_mlp */
#include <stdio.h>
#include <stdlib.h>

#include <zerfoo/zerfoo.h>

int main(int argc, char **argv) {
    int epochs = argc > 1 ? atoi(argv[1]) : 1;
    zf_ctx *data = zf_ctx_new(NULL), *params = zf_ctx_new(NULL), *step = zf_ctx_new(NULL);
    zf_dataset train, test;
    zf_loader *loader = NULL;
    zf_optimizer *opt = NULL;
    if (!data || !params || !step) goto fail;
    if (zf_fashion_mnist_load(data, NULL, ZF_SPLIT_TRAIN, NULL, &train) != ZF_OK ||
        zf_fashion_mnist_load(data, NULL, ZF_SPLIT_TEST, NULL, &test) != ZF_OK)
        goto fail;

    /* The model graph: layers live in `params`, named like torch.nn.Sequential. */
    zf_nn nn = zf_nn_init(params, ZF_F32, /*seed*/ 1);
    zf_module *model = zf_nn_sequential(&nn, 4, (zf_module *[]){
        zf_nn_flatten(&nn, 1, -1),          /* [B, 1, 28, 28] -> [B, 784] */
        zf_nn_linear(&nn, 784, 128, true),
        zf_nn_relu(&nn),
        zf_nn_linear(&nn, 128, 10, true),   /* logits [B, 10] */
    });
    if (!model) goto fail;
    printf("MLP with %lld parameters\n", (long long)zf_module_num_parameters(model));
    zf_adam_params ap = zf_adam_defaults(); /* lr 1e-3 */
    opt = zf_adam_new(zf_module_named_parameters(model, params), &ap);
    loader = zf_loader_new(&train, &(zf_loader_opts){.batch_size = 64, .shuffle = true, .seed = 1});
    if (!opt || !loader) goto fail;

    for (int e = 0; e < epochs; e++) {
        zf_loader_set_epoch(loader, e);
        double sum = 0;
        for (int64_t b = 0; b < zf_loader_num_batches(loader); b++) {
            zf_ctx_reset(step); /* activations of the previous step go away */
            zf_tensor *x, *y;
            if (zf_loader_batch(loader, b, step, &x, &y) != ZF_OK) goto fail;
            zf_tensor *loss = zf_cross_entropy(step, zf_module_forward(model, step, x), y, 0.0, ZF_REDUCTION_MEAN);
            if (!loss) goto fail;
            zf_optim_zero_grad(opt);
            if (zf_backward(step, loss, NULL) != ZF_OK || zf_optim_step(opt) != ZF_OK) goto fail;
            sum += zf_item(loss);
        }
        double test_loss, test_acc;
        if (zf_evaluate(model, &test, 1000, NULL, &test_loss, &test_acc) != ZF_OK) goto fail;
        printf("epoch %d: train loss %.4f, test loss %.4f, test accuracy %.4f\n", e + 1,
               sum / (double)zf_loader_num_batches(loader), test_loss, test_acc);
    }
    zf_loader_free(loader);
    zf_optim_free(opt);
    zf_ctx_free(step);
    zf_ctx_free(params);
    zf_ctx_free(data);
    return 0;
fail:
    fprintf(stderr, "train_mlp: %s\n", zf_last_error());
    zf_loader_free(loader);
    zf_optim_free(opt);
    zf_ctx_free(step);
    zf_ctx_free(params);
    zf_ctx_free(data);
    return 1;
}
