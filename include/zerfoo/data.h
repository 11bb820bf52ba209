/* zerfoo — datasets and loaders.
 *
 * IDX files (the format of MNIST and Fashion-MNIST, http://yann.lecun.com/exdb/mnist/):
 * two zero bytes, a type code, the number of dims, then one big-endian u32 per
 * dim and the elements, big-endian, row-major. Files may be gzip-compressed;
 * the reader detects that from the gzip magic (1f 8b), not from the name.
 *
 * A dataset is a pair of tensors held by the caller's context: features x
 * [N, ...] f32 and class labels y [N] i64. A loader walks a dataset in batches
 * in a seeded order; the order of epoch e depends only on (seed, e), so it is
 * the same whatever the thread count, and any batch of any epoch can be
 * fetched directly (which is how a resumed run continues mid-way). */
#ifndef ZERFOO_DATA_H
#define ZERFOO_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "zerfoo/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- IDX ---- */

/* Reads an IDX file (plain or gzip) into a new contiguous tensor in ctx (a
 * host engine's context), elements in host byte order. Type codes: 0x08 u8,
 * 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64. Checks the magic, the type,
 * 1 <= ndim <= ZF_MAX_DIMS, that no dim is 0 and the size does not overflow,
 * that the file holds exactly the bytes the header promises (ZF_ERR_FORMAT
 * for truncated or trailing data) and, for gzip, the stream's integrity (CRC).
 * NULL + zf_last_error() on failure (ZF_ERR_IO when the file cannot be read). */
zf_tensor *zf_idx_load(zf_ctx *ctx, const char *path);

/* Writes t (u8, i8, i16, i32, f32 or f64; any layout, 1..ZF_MAX_DIMS dims,
 * each < 2^32) as an IDX file, gzip-compressed when `gzip`. Used to make
 * fixtures and to export datasets. */
zf_status zf_idx_save(const char *path, const zf_tensor *t, bool gzip);

/* ---- datasets ---- */

typedef struct zf_dataset {
    zf_tensor *x;         /* [N, ...] f32 features, contiguous */
    zf_tensor *y;         /* [N] i64 labels in [0, num_classes) */
    int64_t n;            /* N */
    int64_t num_classes;
} zf_dataset;

/* Image normalization: x = (pixel / 255 - mean) / std, in f32 (as PyTorch's
 * ToTensor followed by Normalize). mean 0, std 1 gives pixel / 255. */
typedef struct zf_image_norm {
    float mean;
    float std;
} zf_image_norm;

/* Fashion-MNIST training-set statistics of pixel/255 (as used in PyTorch
 * examples): zerfoo's default normalization for this dataset. */
#define ZF_FASHION_MNIST_MEAN 0.2860f
#define ZF_FASHION_MNIST_STD 0.3530f

/* Checks and wraps tensors that already live in a context: x f32 contiguous
 * with ndim >= 1, y i64 [N] with labels in [0, num_classes). */
zf_status zf_dataset_from_tensors(zf_dataset *ds, zf_tensor *x, zf_tensor *y, int64_t num_classes);

/* Loads an image dataset from two IDX files: images u8 [N, H, W] (becoming
 * x [N, 1, H, W] f32 normalized by `norm`, NULL = pixel/255) and labels u8
 * [N] (becoming y i64, each checked < num_classes). The tensors live in ctx. */
zf_status zf_dataset_load_idx(zf_ctx *ctx, const char *images_path, const char *labels_path,
                              const zf_image_norm *norm, int64_t num_classes, zf_dataset *out);

typedef enum zf_data_split { ZF_SPLIT_TRAIN = 0, ZF_SPLIT_TEST } zf_data_split;

/* Directory with the Fashion-MNIST files: $ZF_FASHION_MNIST_DIR when set,
 * otherwise where Debian's dataset-fashion-mnist puts them,
 * /usr/share/datasets/fashion-mnist. */
const char *zf_fashion_mnist_dir(void);

/* Loads Fashion-MNIST's train (60,000) or test (10,000) split from `dir`
 * (NULL: zf_fashion_mnist_dir()), files {train,t10k}-{images-idx3,labels-idx1}-ubyte
 * with or without .gz. Images must be 28x28 and labels in [0, 10). norm NULL:
 * the default (ZF_FASHION_MNIST_MEAN, ZF_FASHION_MNIST_STD). */
zf_status zf_fashion_mnist_load(zf_ctx *ctx, const char *dir, zf_data_split split, const zf_image_norm *norm,
                                zf_dataset *out);

/* ---- loaders ---- */

typedef struct zf_loader zf_loader;

/* Data augmentation of image samples [C, H, W] (x of the dataset [N, C, H, W]),
 * applied as batches are copied out. Each sample's draws are a pure function
 * of (seed, epoch, sample index) — Philox, no state — so they do not depend on
 * the batch size's split of the epoch, the thread count, or where a resumed run
 * starts. A sample is first mirrored, then shifted. All zero: no augmentation. */
typedef struct zf_augment {
    bool hflip;          /* mirror left-right with probability 1/2 */
    int32_t max_shift;   /* >= 0: translate by (dy, dx), each uniform in [-max_shift, max_shift]
                            (torchvision's RandomCrop(H, padding=max_shift) on the padded image);
                            pixels shifted in take the value `fill` */
    float fill;          /* the value of a blank pixel in the normalized data; for images
                            normalized by zf_image_norm, zf_image_norm_blank() */
} zf_augment;

/* The normalized value of pixel 0 (black) under norm (NULL: pixel / 255):
 * -mean / std, the fill for shifts. */
float zf_image_norm_blank(const zf_image_norm *norm);

/* Applies the augmentation of sample `index` in `epoch` to one image: dst =
 * shift(flip(src)), both [C, H, W] contiguous f32, dst != src. Exposed for
 * tests and for callers with their own loaders. */
void zf_augment_image(const zf_augment *aug, uint64_t seed, int64_t epoch, int64_t index, const float *src,
                      float *dst, int64_t C, int64_t H, int64_t W);

typedef struct zf_loader_opts {
    int64_t batch_size;  /* >= 1 */
    bool shuffle;        /* a fresh seeded permutation each epoch */
    bool drop_last;      /* drop a final partial batch (PyTorch's drop_last) */
    uint64_t seed;
    zf_augment augment;  /* zero: none; needs x [N, C, H, W] otherwise */
} zf_loader_opts;

/* The loader keeps a pointer to ds (which must outlive it) and owns one
 * index buffer of N entries. NULL + zf_last_error() on bad options. */
zf_loader *zf_loader_new(const zf_dataset *ds, const zf_loader_opts *opts);
void zf_loader_free(zf_loader *l);
int64_t zf_loader_num_batches(const zf_loader *l);
/* Samples per epoch (N, or N rounded down to whole batches with drop_last). */
int64_t zf_loader_num_samples(const zf_loader *l);

/* Fixes the sample order of epoch `epoch` (>= 0): the identity without
 * shuffle, else a Fisher-Yates permutation drawn from Philox keyed by
 * (seed, epoch). Allocates nothing. */
zf_status zf_loader_set_epoch(zf_loader *l, int64_t epoch);
/* The current order (N sample indices). */
const int64_t *zf_loader_order(const zf_loader *l);

/* Batch b (0 <= b < num_batches) of the current epoch, copied into new
 * contiguous tensors made in ctx (a step context, reset by the caller):
 * x [B, ...] f32 and y [B] i64, B = batch_size except maybe the last batch.
 * With opts.augment, each image is augmented as zf_augment_image does for
 * (opts.seed, current epoch, its index in the dataset); labels are unchanged. */
zf_status zf_loader_batch(zf_loader *l, int64_t b, zf_ctx *ctx, zf_tensor **x, zf_tensor **y);

#ifdef __cplusplus
}
#endif
#endif
