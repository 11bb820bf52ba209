/* Trains LeNet-5 on Fashion-MNIST with the library's trainer: shuffled
 * batches, Adam, evaluation after every epoch, a JSONL log and a checkpoint
 * (lenet5.safetensors) that `zerfoo eval --model lenet5 --checkpoint ...`
 * or PyTorch's load_state_dict can read.
 *   usage: train_lenet5 [EPOCHS]   (default 1; data from dataset-fashion-mnist)
 * Build against an installed zerfoo:
 *   cc train_lenet5.c $(pkg-config --cflags --libs zerfoo) -o train_lenet5 */
#include <stdio.h>
#include <stdlib.h>

#include <zerfoo/zerfoo.h>

int main(int argc, char **argv) {
    zf_ctx *data = zf_ctx_new(NULL), *params = zf_ctx_new(NULL);
    zf_optimizer *opt = NULL;
    zf_dataset train, test;
    if (!data || !params) goto fail;
    if (zf_fashion_mnist_load(data, NULL, ZF_SPLIT_TRAIN, NULL, &train) != ZF_OK ||
        zf_fashion_mnist_load(data, NULL, ZF_SPLIT_TEST, NULL, &test) != ZF_OK)
        goto fail;

    /* conv(1->6, 5x5)-ReLU-maxpool2, conv(6->16, 5x5)-ReLU-maxpool2, 256-120-84-10 (models.h) */
    zf_nn nn = zf_nn_init(params, ZF_F32, /*seed*/ 1);
    zf_module *model = zf_model_lenet5(&nn);
    if (!model) goto fail;
    zf_module_print(model, stdout);
    zf_adam_params ap = zf_adam_defaults();
    opt = zf_adam_new(zf_module_named_parameters(model, params), &ap);
    if (!opt) goto fail;

    zf_trainer_config cfg = zf_trainer_defaults(); /* batch 64, progress on stderr */
    cfg.model_name = "lenet5";
    cfg.epochs = argc > 1 ? atoi(argv[1]) : 1;
    cfg.seed = 1;
    cfg.checkpoint_path = "lenet5.safetensors";
    cfg.log_path = "lenet5.jsonl";
    zf_train_result r;
    if (zf_train(model, opt, &train, &test, &cfg, &r) != ZF_OK) goto fail;
    printf("after %lld epochs: test accuracy %.4f, %.0f training samples/s\n", (long long)r.epochs,
           r.last.test_accuracy, r.train_samples_per_sec);
    zf_optim_free(opt);
    zf_ctx_free(params);
    zf_ctx_free(data);
    return 0;
fail:
    fprintf(stderr, "train_lenet5: %s\n", zf_last_error());
    zf_optim_free(opt);
    zf_ctx_free(params);
    zf_ctx_free(data);
    return 1;
}
