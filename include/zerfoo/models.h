/* zerfoo — ready-made models (src/models/).
 *
 * Image classifiers for [N, 1, 28, 28] inputs and 10 classes (MNIST,
 * Fashion-MNIST), built from nn.h modules with PyTorch's default
 * initialization, so their state dicts have the same names and shapes as the
 * equivalent torch.nn.Sequential:
 *
 *   mlp     Flatten, Linear(784, 128), ReLU, Linear(128, 10)       101,770 parameters
 *   lenet5  Conv2d(1, 6, 5), ReLU, MaxPool2d(2),
 *           Conv2d(6, 16, 5), ReLU, MaxPool2d(2), Flatten,
 *           Linear(256, 120), ReLU, Linear(120, 84), ReLU,
 *           Linear(84, 10)                                           44,426 parameters
 *
 * Every constructor takes the builder (where parameters live, their dtype,
 * the init seed) and returns NULL + zf_last_error() on failure. */
#ifndef ZERFOO_MODELS_H
#define ZERFOO_MODELS_H

#include "zerfoo/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

zf_module *zf_model_mlp(zf_nn *nn);
zf_module *zf_model_lenet5(zf_nn *nn);

/* Re-initializes every weight (parameters with >= 2 dims) with He/Kaiming
 * uniform for ReLU, U(-sqrt(6/fan_in), +sqrt(6/fan_in)), and every bias
 * (1-dim parameters) with zeros, drawing from nn->rng. (The constructors use
 * PyTorch's defaults, kaiming_uniform(a=sqrt(5)), about 2.4 times smaller.) */
zf_status zf_model_init_he(zf_module *m, zf_nn *nn);

/* By name: "mlp" or "lenet5" (ZF_ERR_INVALID_ARG for anything else). */
zf_module *zf_model_build(zf_nn *nn, const char *name);
/* The names zf_model_build knows, NULL-terminated. */
const char *const *zf_model_names(void);

#ifdef __cplusplus
}
#endif
#endif
