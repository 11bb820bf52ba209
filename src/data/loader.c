/* Batch loader with a seeded, counter-based shuffle.
 *
 * Epoch e's order is a Fisher-Yates shuffle whose i-th draw is Philox keyed
 * by the seed at counter (i, stream DATA_STREAM + e): no RNG state is carried
 * from one epoch to the next, so the order depends on (seed, epoch) only and
 * a resumed run recomputes it exactly. Augmentation draws are Philox keyed
 * by the seed at counter (sample index, stream AUG_STREAM + e), one block per
 * sample: word 0 the flip, words 1 and 2 the vertical and horizontal shift. */
#include <stdlib.h>
#include <string.h>

#include "core/philox.h"
#include "zerfoo/data.h"
#include "zerfoo/error.h"

/* Keeps the loader's draws apart from other users of the same seed
 * (parameter init, dropout). */
#define DATA_STREAM 0x6C6F616465720000ull /* "loader" */
#define AUG_STREAM 0x6175676D656E7400ull  /* "augment" */

struct zf_loader {
    const zf_dataset *ds;
    zf_loader_opts opts;
    int64_t *order;         /* [N] */
    int64_t sample_numel;   /* elements of one x sample */
    int64_t num_batches;
    int64_t epoch;          /* the last zf_loader_set_epoch */
    bool augment;           /* opts.augment does something */
};

void zf_augment_image(const zf_augment *aug, uint64_t seed, int64_t epoch, int64_t index, const float *src,
                      float *dst, int64_t C, int64_t H, int64_t W) {
    bool flip = false;
    int64_t dy = 0, dx = 0;
    if (aug && (aug->hflip || aug->max_shift > 0)) {
        zf_philox_out o = zf_philox4x32(seed, (uint64_t)index, AUG_STREAM + (uint64_t)epoch);
        flip = aug->hflip && (o.v[0] >> 31) != 0;
        if (aug->max_shift > 0) {
            uint64_t span = 2 * (uint64_t)aug->max_shift + 1; /* uniform in [0, span): (u32 * span) >> 32 */
            dy = (int64_t)(((uint64_t)o.v[1] * span) >> 32) - aug->max_shift;
            dx = (int64_t)(((uint64_t)o.v[2] * span) >> 32) - aug->max_shift;
        }
    }
    float fill = aug ? aug->fill : 0.0f;
    for (int64_t c = 0; c < C; c++) {
        const float *sp = src + c * H * W;
        float *dp = dst + c * H * W;
        for (int64_t i = 0; i < H; i++) {
            int64_t si = i - dy; /* dst(i, j) = flipped src(i - dy, j - dx) */
            float *drow = dp + i * W;
            if (si < 0 || si >= H) {
                for (int64_t j = 0; j < W; j++) drow[j] = fill;
                continue;
            }
            const float *srow = sp + si * W;
            for (int64_t j = 0; j < W; j++) {
                int64_t sj = j - dx;
                drow[j] = sj < 0 || sj >= W ? fill : srow[flip ? W - 1 - sj : sj];
            }
        }
    }
}

zf_loader *zf_loader_new(const zf_dataset *ds, const zf_loader_opts *opts) {
    if (!ds || !opts || !ds->x || !ds->y) {
        zf_set_error(ZF_ERR_INVALID_ARG, "zf_loader_new: NULL argument");
        return NULL;
    }
    if (opts->batch_size < 1) {
        zf_set_error(ZF_ERR_INVALID_ARG, "batch size must be >= 1 (got %lld)", (long long)opts->batch_size);
        return NULL;
    }
    int64_t nb = opts->drop_last ? ds->n / opts->batch_size : (ds->n + opts->batch_size - 1) / opts->batch_size;
    if (nb < 1) {
        zf_set_error(ZF_ERR_INVALID_ARG, "batch size %lld is larger than the %lld samples with drop_last",
                     (long long)opts->batch_size, (long long)ds->n);
        return NULL;
    }
    const zf_augment *aug = &opts->augment;
    bool augment = aug->hflip || aug->max_shift != 0;
    if (augment && (ds->x->ndim != 4 || aug->max_shift < 0 || aug->max_shift > ds->x->shape[2] ||
                    aug->max_shift > ds->x->shape[3] || !(aug->fill == aug->fill))) {
        zf_set_error(ZF_ERR_INVALID_ARG,
                     "augmentation needs images [N, C, H, W] and a shift in [0, min(H, W)] (got %d dims, shift %d)",
                     ds->x->ndim, (int)aug->max_shift);
        return NULL;
    }
    zf_loader *l = calloc(1, sizeof *l);
    int64_t *order = malloc((size_t)ds->n * sizeof *order);
    if (!l || !order) {
        free(l);
        free(order);
        zf_set_error(ZF_ERR_OOM, "zf_loader_new: out of memory");
        return NULL;
    }
    l->ds = ds;
    l->opts = *opts;
    l->order = order;
    l->num_batches = nb;
    l->sample_numel = zf_numel(ds->x) / ds->n;
    l->augment = augment;
    for (int64_t i = 0; i < ds->n; i++) order[i] = i;
    return l;
}

void zf_loader_free(zf_loader *l) {
    if (!l) return;
    free(l->order);
    free(l);
}

int64_t zf_loader_num_batches(const zf_loader *l) { return l ? l->num_batches : 0; }

int64_t zf_loader_num_samples(const zf_loader *l) {
    if (!l) return 0;
    return l->opts.drop_last ? l->num_batches * l->opts.batch_size : l->ds->n;
}

const int64_t *zf_loader_order(const zf_loader *l) { return l ? l->order : NULL; }

zf_status zf_loader_set_epoch(zf_loader *l, int64_t epoch) {
    if (!l || epoch < 0) return zf_set_error(ZF_ERR_INVALID_ARG, "zf_loader_set_epoch: bad argument");
    int64_t n = l->ds->n;
    l->epoch = epoch;
    for (int64_t i = 0; i < n; i++) l->order[i] = i;
    if (!l->opts.shuffle) return ZF_OK;
    uint64_t stream = DATA_STREAM + (uint64_t)epoch;
    for (int64_t i = n - 1; i > 0; i--) {
        /* j uniform in [0, i]: 53-bit uniform scaled (bias < 2^-20 for N < 2^33). */
        uint64_t j = (uint64_t)(zf_rng_uniform(l->opts.seed, stream, (uint64_t)i) * (double)(i + 1));
        if (j > (uint64_t)i) j = (uint64_t)i;
        int64_t t = l->order[i];
        l->order[i] = l->order[j];
        l->order[j] = t;
    }
    return ZF_OK;
}

zf_status zf_loader_batch(zf_loader *l, int64_t b, zf_ctx *ctx, zf_tensor **x, zf_tensor **y) {
    if (!l || !ctx || !x || !y) return zf_set_error(ZF_ERR_INVALID_ARG, "zf_loader_batch: NULL argument");
    if (b < 0 || b >= l->num_batches)
        return zf_set_error(ZF_ERR_INDEX, "batch %lld is outside [0, %lld)", (long long)b,
                            (long long)l->num_batches);
    int64_t start = b * l->opts.batch_size;
    int64_t rows = l->ds->n - start < l->opts.batch_size ? l->ds->n - start : l->opts.batch_size;
    const zf_tensor *sx = l->ds->x;
    int64_t shape[ZF_MAX_DIMS];
    memcpy(shape, sx->shape, sizeof shape);
    shape[0] = rows;
    zf_tensor *bx = zf_empty(ctx, ZF_F32, sx->ndim, shape);
    zf_tensor *by = zf_empty(ctx, ZF_I64, 1, (int64_t[]){rows});
    if (!bx || !by) return zf_last_status();
    const float *xs = zf_data(sx);
    const int64_t *ys = zf_data(l->ds->y);
    float *xd = zf_data(bx);
    int64_t *yd = zf_data(by);
    size_t row_bytes = (size_t)l->sample_numel * sizeof(float);
    for (int64_t r = 0; r < rows; r++) {
        int64_t s = l->order[start + r];
        if (l->augment)
            zf_augment_image(&l->opts.augment, l->opts.seed, l->epoch, s, xs + s * l->sample_numel,
                             xd + r * l->sample_numel, sx->shape[1], sx->shape[2], sx->shape[3]);
        else
            memcpy(xd + r * l->sample_numel, xs + s * l->sample_numel, row_bytes);
        yd[r] = ys[s];
    }
    *x = bx;
    *y = by;
    return ZF_OK;
}
