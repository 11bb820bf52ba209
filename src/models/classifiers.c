/* The MLP and LeNet-5 image classifiers of models.h. Layer order and
 * indices match torch.nn.Sequential, so state-dict names ("1.weight" ...)
 * are PyTorch's. */
#include <string.h>

#include "zerfoo/error.h"
#include "zerfoo/models.h"

zf_module *zf_model_mlp(zf_nn *nn) {
    zf_module *layers[] = {
        zf_nn_flatten(nn, 1, -1),          /* [N, 1, 28, 28] -> [N, 784] */
        zf_nn_linear(nn, 784, 128, true),
        zf_nn_relu(nn),
        zf_nn_linear(nn, 128, 10, true),   /* logits [N, 10] */
    };
    return zf_nn_sequential(nn, (int)(sizeof layers / sizeof layers[0]), layers);
}

zf_module *zf_model_lenet5(zf_nn *nn) {
    const zf_pool2d_params pool = {.kernel = {2, 2}};
    zf_module *layers[] = {
        zf_nn_conv2d(nn, 1, 6, 5, 5, NULL, true),   /* [N, 6, 24, 24] */
        zf_nn_relu(nn),
        zf_nn_max_pool2d(nn, &pool),                /* [N, 6, 12, 12] */
        zf_nn_conv2d(nn, 6, 16, 5, 5, NULL, true),  /* [N, 16, 8, 8] */
        zf_nn_relu(nn),
        zf_nn_max_pool2d(nn, &pool),                /* [N, 16, 4, 4] */
        zf_nn_flatten(nn, 1, -1),                   /* [N, 256] */
        zf_nn_linear(nn, 256, 120, true),
        zf_nn_relu(nn),
        zf_nn_linear(nn, 120, 84, true),
        zf_nn_relu(nn),
        zf_nn_linear(nn, 84, 10, true),             /* logits [N, 10] */
    };
    return zf_nn_sequential(nn, (int)(sizeof layers / sizeof layers[0]), layers);
}

zf_status zf_model_init_he(zf_module *m, zf_nn *nn) {
    if (!m || !nn) return zf_set_error(ZF_ERR_INVALID_ARG, "zf_model_init_he: NULL argument");
    zf_ctx *tmp = zf_ctx_new(NULL);
    if (!tmp) return zf_last_status();
    zf_named_tensors *ps = zf_module_named_parameters(m, tmp);
    zf_status st = ps ? ZF_OK : zf_last_status();
    for (int i = 0; ps && i < ps->n && st == ZF_OK; i++) {
        zf_tensor *t = ps->tensors[i];
        st = t->ndim >= 2 ? zf_init_kaiming_uniform(t, 0.0, ZF_FAN_IN, ZF_NL_RELU, &nn->rng) : zf_init_zeros(t);
    }
    zf_ctx_free(tmp);
    return st;
}

static const char *const k_names[] = {"mlp", "lenet5", NULL};

const char *const *zf_model_names(void) { return k_names; }

zf_module *zf_model_build(zf_nn *nn, const char *name) {
    if (!nn || !name) {
        zf_set_error(ZF_ERR_INVALID_ARG, "zf_model_build: NULL argument");
        return NULL;
    }
    if (strcmp(name, "mlp") == 0) return zf_model_mlp(nn);
    if (strcmp(name, "lenet5") == 0) return zf_model_lenet5(nn);
    zf_set_error(ZF_ERR_INVALID_ARG, "unknown model '%s' (known: mlp, lenet5)", name);
    return NULL;
}
