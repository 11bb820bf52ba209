/* Evaluation: mean cross-entropy and accuracy over a dataset, in eval mode
 * and without gradients. */
#include <math.h>

#include "train/train_internal.h"
#include "zerfoo/autograd.h"
#include "zerfoo/error.h"
#include "zerfoo/loss.h"

int64_t zf_count_correct(zf_ctx *scratch, zf_tensor *logits, const zf_tensor *y) {
    if (!logits || !y || logits->ndim != 2 || y->ndim != 1 || y->dtype != ZF_I64 || logits->shape[0] != y->shape[0] ||
        (logits->dtype != ZF_F32 && logits->dtype != ZF_F64)) {
        zf_set_error(ZF_ERR_SHAPE, "accuracy needs f32/f64 logits [B, C] and i64 labels [B]");
        return -1;
    }
    bool prev = zf_set_grad_enabled(false);
    zf_tensor *c = zf_contiguous(scratch, logits);
    zf_set_grad_enabled(prev);
    if (!c) return -1;
    int64_t rows = c->shape[0], cols = c->shape[1], correct = 0;
    const int64_t *lab = zf_data(y);
    for (int64_t r = 0; r < rows; r++) {
        /* first maximum, as torch.argmax; a NaN row counts as wrong */
        int64_t best = 0;
        if (c->dtype == ZF_F32) {
            const float *row = (const float *)zf_data(c) + r * cols;
            for (int64_t k = 1; k < cols; k++)
                if (row[k] > row[best]) best = k;
        } else {
            const double *row = (const double *)zf_data(c) + r * cols;
            for (int64_t k = 1; k < cols; k++)
                if (row[k] > row[best]) best = k;
        }
        correct += best == lab[r];
    }
    return correct;
}

zf_status zf_evaluate_in(zf_module *model, const zf_dataset *ds, int64_t batch_size, zf_ctx *scratch,
                         double *loss, double *accuracy) {
    if (!model || !ds || !scratch) return zf_set_error(ZF_ERR_INVALID_ARG, "zf_evaluate: NULL argument");
    zf_loader_opts o = {.batch_size = batch_size > 0 ? batch_size : 1000, .shuffle = false};
    zf_loader *l = zf_loader_new(ds, &o);
    if (!l) return zf_last_status();
    zf_loader_set_epoch(l, 0);
    bool was_training = zf_module_is_training(model);
    zf_module_train(model, false);
    bool prev = zf_set_grad_enabled(false);
    double total = 0;
    int64_t correct = 0;
    zf_status st = ZF_OK;
    for (int64_t b = 0; b < zf_loader_num_batches(l) && st == ZF_OK; b++) {
        zf_ctx_reset(scratch);
        zf_tensor *x, *y;
        st = zf_loader_batch(l, b, scratch, &x, &y);
        if (st != ZF_OK) break;
        zf_tensor *logits = zf_module_forward(model, scratch, x);
        zf_tensor *sum = zf_cross_entropy(scratch, logits, y, 0.0, ZF_REDUCTION_SUM);
        if (!sum) {
            st = zf_last_status();
            break;
        }
        total += zf_item(sum);
        int64_t c = zf_count_correct(scratch, logits, y);
        if (c < 0) st = zf_last_status();
        correct += c;
    }
    zf_ctx_reset(scratch);
    zf_set_grad_enabled(prev);
    zf_module_train(model, was_training);
    zf_loader_free(l);
    if (st != ZF_OK) return st;
    if (loss) *loss = total / (double)ds->n;
    if (accuracy) *accuracy = (double)correct / (double)ds->n;
    return ZF_OK;
}

zf_status zf_evaluate(zf_module *model, const zf_dataset *ds, int64_t batch_size, zf_engine *engine,
                      double *loss, double *accuracy) {
    zf_ctx *scratch = zf_ctx_new(engine);
    if (!scratch) return zf_last_status();
    zf_status st = zf_evaluate_in(model, ds, batch_size, scratch, loss, accuracy);
    zf_ctx_free(scratch);
    return st;
}
