/* zerfoo — training checkpoints (src/formats/checkpoint.c).
 *
 * A checkpoint is one safetensors file, written atomically:
 *   - the model's state dict under its own names ("0.weight", "fc1.bias",
 *     "bn.running_mean" ...), loadable by PyTorch's load_state_dict;
 *   - optimizer state under "optim.<param name>.<slot>" (see optim.h),
 *     with the EMA averages (zf_optim_set_ema) as "optim.<param name>.ema";
 *   - __metadata__: "format" = "zerfoo-checkpoint", "format_version" = "1",
 *     "step", "epoch", "model", "optimizer", "lr", "ema_decay" (only when
 *     the optimizer averages), plus caller extras.
 * Loading checks everything before writing anything: a checkpoint of another
 * model, another shape or another optimizer, a truncated or corrupt file is
 * a clear error and leaves the model and optimizer untouched. */
#ifndef ZERFOO_CHECKPOINT_H
#define ZERFOO_CHECKPOINT_H

#include <stdint.h>

#include "zerfoo/named_tensors.h"
#include "zerfoo/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZF_CHECKPOINT_VERSION 1
#define ZF_CHECKPOINT_MAX_EXTRA 16

typedef struct zf_checkpoint_meta {
    int64_t step;           /* optimizer steps taken */
    int64_t epoch;          /* completed epochs */
    char model[64];         /* e.g. "lenet5"; "" = unchecked on load */
    char optimizer[16];     /* filled from the optimizer on save */
    double lr;              /* filled from the optimizer on save */
    double ema_decay;       /* filled from the optimizer on save; on load NaN when the
                               checkpoint has no EMA averages */
    int version;            /* filled on load */
    /* Free-form extras (seed, best accuracy ...), strings. */
    int n_extra;
    char extra_key[ZF_CHECKPOINT_MAX_EXTRA][64];
    char extra_value[ZF_CHECKPOINT_MAX_EXTRA][256];
} zf_checkpoint_meta;

/* Sets (or replaces) an extra key; ZF_ERR_INVALID_ARG when full or too long. */
zf_status zf_checkpoint_meta_set(zf_checkpoint_meta *m, const char *key, const char *value);
/* Value of an extra key or NULL. */
const char *zf_checkpoint_meta_get(const zf_checkpoint_meta *m, const char *key);

/* state: the model's state dict (zf_module_state_dict); opt may be NULL. */
zf_status zf_checkpoint_save(const char *path, const zf_named_tensors *state, const zf_optimizer *opt,
                             const zf_checkpoint_meta *meta);

/* Loads into `state` (every entry must be present with the same shape;
 * dtype converted) and, when opt is not NULL, the optimizer state (the
 * checkpoint's optimizer name must match zf_optim_name(opt), and it must have
 * EMA averages exactly when opt has EMA on; the decay is not checked). When
 * meta->model is non-empty on entry it must equal the checkpoint's model.
 * On success fills *meta (may be NULL) and sets the optimizer's lr and step
 * count from the checkpoint. */
zf_status zf_checkpoint_load(const char *path, const zf_named_tensors *state, zf_optimizer *opt,
                             zf_checkpoint_meta *meta);

/* zf_checkpoint_load without an optimizer, except that every entry of
 * `state` with an EMA average in the checkpoint ("optim.<name>.ema": the
 * parameters) gets the average instead of the training value; buffers get
 * their saved values. ZF_ERR_INVALID_ARG when the checkpoint has no EMA
 * averages (trained without EMA); nothing is written then. */
zf_status zf_checkpoint_load_ema(const char *path, const zf_named_tensors *state, zf_checkpoint_meta *meta);

#ifdef __cplusplus
}
#endif
#endif
