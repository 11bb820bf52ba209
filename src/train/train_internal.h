/* Pieces of the trainer shared between its files (not public). */
#ifndef ZF_TRAIN_INTERNAL_H
#define ZF_TRAIN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "zerfoo/trainer.h"

/* ---- progress.c ---- */
typedef struct zf_progress {
    FILE *f;
    bool bar;            /* redraw one line with \r */
    bool quiet;
    int64_t epochs;      /* total */
    int64_t batches;     /* per epoch */
    double last_draw;    /* monotonic seconds of the last redraw */
    const char *eval_name; /* "test", or the config's eval_name */
} zf_progress;

double zf_now_seconds(void); /* monotonic */
void zf_progress_init(zf_progress *p, FILE *f, zf_progress_mode mode, int64_t epochs, int64_t batches);
/* During an epoch: after `batch` (1-based) batches, running mean loss and
 * accuracy, samples/s so far. Redraws at most 10 times a second (bar only). */
void zf_progress_batch(zf_progress *p, int64_t epoch, int64_t batch, double loss, double acc, double sps);
/* The end-of-epoch summary line (both modes). */
void zf_progress_epoch(zf_progress *p, const zf_epoch_metrics *m);
/* Ends a half-drawn bar line before an error message. */
void zf_progress_abort(zf_progress *p);

/* ---- evaluate.c ---- */
/* zf_evaluate with the caller's scratch context (reset per batch). */
zf_status zf_evaluate_in(zf_module *model, const zf_dataset *ds, int64_t batch_size, zf_ctx *scratch,
                         double *loss, double *accuracy);
/* Number of rows of logits [B, C] (f32 or f64) whose first maximum is at
 * the label y [B] (i64). -1 + error on a bad layout. */
int64_t zf_count_correct(zf_ctx *scratch, zf_tensor *logits, const zf_tensor *y);

#endif
