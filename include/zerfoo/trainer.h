/* zerfoo — a trainer for classifiers (src/train/trainer.c).
 *
 * zf_train runs epochs of minibatch training with cross-entropy loss on a
 * zf_dataset, evaluates on a test set after each epoch, appends one JSON
 * object per epoch to a log, shows progress, writes a checkpoint after each
 * epoch and can resume from one.
 *
 * Reproducibility. Everything random is counter-based: the sample order of
 * epoch e depends on (seed, e) only (data.h), augmentation on (seed, e,
 * sample index), dropout masks on (seed, global step). A checkpoint holds
 * the parameters, the optimizer state (with the EMA averages), the number of
 * completed epochs and steps, the seed, the number of training samples and
 * the augmentation, so stopping after epoch k and
 * resuming gives bit for bit the same parameters and metrics as a run that
 * never stopped. With the same seed, the loss curve is the same run after
 * run (and with 1 or 2 threads where the engine's kernels are
 * thread-count invariant, which the tests check).
 *
 * Lifetimes. The model's parameters and the optimizer are the caller's;
 * zf_train makes one step context (reset after every step, so steady-state
 * steps allocate nothing from the system) and frees it before returning.
 *
 * Failure. Errors are returned as values. A loss that is not finite stops
 * the run with ZF_ERR_NUMERIC and a message naming the step (and epoch and
 * batch); the parameters are not updated with that step, and no checkpoint
 * is written, so the checkpoint of the last completed epoch stays intact. */
#ifndef ZERFOO_TRAINER_H
#define ZERFOO_TRAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "zerfoo/data.h"
#include "zerfoo/nn.h"
#include "zerfoo/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum zf_progress_mode {
    ZF_PROGRESS_AUTO = 0, /* a bar when the stream is a terminal, else lines */
    ZF_PROGRESS_BAR,      /* one line redrawn with \r, finished by a summary */
    ZF_PROGRESS_LINES,    /* one summary line per epoch */
    ZF_PROGRESS_NONE,
} zf_progress_mode;

/* What one epoch did (also one line of the JSONL log). */
typedef struct zf_epoch_metrics {
    int64_t epoch;          /* 1-based */
    int64_t step;           /* optimizer steps taken at the end of this epoch */
    double train_loss;      /* mean cross-entropy over the epoch's samples, each batch
                               weighted by its size, at the parameters of its forward */
    double train_accuracy;  /* fraction of the epoch's samples whose forward (before that
                               step's update) put the largest logit on the label */
    double test_loss;       /* mean over the test set after the epoch (NaN: no test set) */
    double test_accuracy;
    bool ema;               /* the test metrics are those of the EMA averages of the weights */
    double lr;              /* learning rate of the epoch's last step */
    double samples_per_sec; /* training samples / training seconds (evaluation excluded) */
    double seconds;         /* wall time of the epoch, evaluation included */
} zf_epoch_metrics;

/* Called with each training batch (in the step context) before the forward;
 * may change x and y in place (augmentation, tests). `step` is the 0-based
 * global step. A status other than ZF_OK stops the run with that status. */
typedef zf_status (*zf_batch_hook)(void *user, int64_t step, zf_tensor *x, zf_tensor *y);
/* Called after each epoch's metrics are final (checkpoint already written). */
typedef void (*zf_epoch_hook)(void *user, const zf_epoch_metrics *m);

typedef struct zf_trainer_config {
    const char *model_name;      /* stored in checkpoints and checked on resume ("" or NULL: unchecked) */
    int64_t epochs;              /* total, counting the epochs a resumed checkpoint already did */
    int64_t batch_size;
    int64_t eval_batch_size;     /* 0: 1000 */
    uint64_t seed;               /* data order and dropout */
    bool drop_last;              /* drop the last partial training batch */
    const zf_lr_schedule *schedule; /* NULL: the optimizer's lr throughout */
    double clip_grad_norm;       /* > 0: clip the global gradient norm to this */
    double label_smoothing;      /* cross-entropy label smoothing, 0 = off */
    zf_augment augment;          /* augmentation of the training images in the loader (data.h):
                                    random flips and shifts drawn from (seed, epoch, sample) */
    double ema_decay;            /* > 0: turn on the optimizer's EMA of the weights with this decay,
                                    in [0, 1) (zf_optim_set_ema); 0: leave the optimizer as it is.
                                    When the optimizer averages, each epoch's evaluation uses the
                                    averages (swapped in and back out); checkpoints keep them and
                                    a resume needs the same decay */
    bool hflip;                  /* shorthand for augment.hflip */
    zf_engine *engine;           /* engine of the step context; NULL: the default CPU engine */
    const char *checkpoint_path; /* written atomically after every epoch; NULL: none */
    const char *resume_path;     /* checkpoint to continue from; NULL: from scratch */
    const char *log_path;        /* JSONL metrics appended, one object per epoch; NULL: none */
    const char *eval_name;       /* what the progress lines call the evaluation set (its loss and
                                    accuracy: "<name>_loss", "<name>_acc"); NULL: "test". The JSON
                                    keys stay test_loss/test_accuracy */
    FILE *progress;              /* NULL: stderr */
    zf_progress_mode progress_mode;
    zf_batch_hook on_batch;
    zf_epoch_hook on_epoch;
    void *user;                  /* passed to the hooks */
} zf_trainer_config;

typedef struct zf_train_result {
    int64_t start_epoch;            /* epochs done by the resumed checkpoint (0 when fresh) */
    int64_t epochs;                 /* epochs completed in total */
    int64_t steps;                  /* optimizer steps in total */
    zf_epoch_metrics last;          /* the last completed epoch (restored from the checkpoint
                                       when a resumed run had nothing left to do) */
    double train_samples_per_sec;   /* over the epochs this call trained (0 when none) */
    double seconds;                 /* wall time of this call */
    int64_t nan_step;               /* 1-based step whose loss was not finite, or 0 */
} zf_train_result;

/* Defaults: batch 64, eval batch 1000, 10 epochs, seed 0, automatic
 * progress to stderr, everything else off. */
zf_trainer_config zf_trainer_defaults(void);

/* Trains `model` with `opt` (built over the model's named parameters) on
 * `train`; evaluates on `test` (may be NULL) after each epoch. result may be
 * NULL. See the top of this file for resume and failure behaviour. */
zf_status zf_train(zf_module *model, zf_optimizer *opt, const zf_dataset *train, const zf_dataset *test,
                   const zf_trainer_config *cfg, zf_train_result *result);

/* Mean cross-entropy and accuracy of `model` (switched to eval mode and back,
 * no gradients) over ds in batches of batch_size (0: 1000). engine NULL: the
 * default CPU engine. */
zf_status zf_evaluate(zf_module *model, const zf_dataset *ds, int64_t batch_size, zf_engine *engine,
                      double *loss, double *accuracy);

/* Writes m as one JSON object (no newline): epoch, step, train_loss,
 * train_accuracy, test_loss, test_accuracy, weights ("train" or "ema": which
 * weights the test metrics are of), lr, samples_per_sec, seconds; non-finite
 * numbers as null. */
void zf_epoch_metrics_write_json(FILE *f, const zf_epoch_metrics *m);

#ifdef __cplusplus
}
#endif
#endif
