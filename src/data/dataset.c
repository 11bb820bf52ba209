/* Datasets: labelled tensors checked once at load time, image datasets from
 * IDX files, and Fashion-MNIST where Debian's dataset-fashion-mnist puts it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zerfoo/data.h"
#include "zerfoo/error.h"

zf_status zf_dataset_from_tensors(zf_dataset *ds, zf_tensor *x, zf_tensor *y, int64_t num_classes) {
    if (!ds || !x || !y) return zf_set_error(ZF_ERR_INVALID_ARG, "zf_dataset_from_tensors: NULL argument");
    if (x->dtype != ZF_F32 || x->ndim < 1 || !zf_is_contiguous(x))
        return zf_set_error(ZF_ERR_DTYPE, "dataset features must be a contiguous f32 tensor [N, ...]");
    if (y->dtype != ZF_I64 || y->ndim != 1 || !zf_is_contiguous(y))
        return zf_set_error(ZF_ERR_DTYPE, "dataset labels must be a contiguous i64 tensor [N]");
    if (y->shape[0] != x->shape[0])
        return zf_set_error(ZF_ERR_SHAPE, "dataset has %lld samples but %lld labels", (long long)x->shape[0],
                            (long long)y->shape[0]);
    if (x->shape[0] < 1) return zf_set_error(ZF_ERR_SHAPE, "dataset is empty");
    if (num_classes < 1) return zf_set_error(ZF_ERR_INVALID_ARG, "num_classes must be >= 1");
    const int64_t *lab = zf_data(y);
    for (int64_t i = 0; i < y->shape[0]; i++)
        if (lab[i] < 0 || lab[i] >= num_classes)
            return zf_set_error(ZF_ERR_FORMAT, "label %lld of sample %lld is outside [0, %lld)", (long long)lab[i],
                                (long long)i, (long long)num_classes);
    ds->x = x;
    ds->y = y;
    ds->n = x->shape[0];
    ds->num_classes = num_classes;
    return ZF_OK;
}

zf_status zf_dataset_load_idx(zf_ctx *ctx, const char *images_path, const char *labels_path,
                              const zf_image_norm *norm, int64_t num_classes, zf_dataset *out) {
    if (!ctx || !images_path || !labels_path || !out)
        return zf_set_error(ZF_ERR_INVALID_ARG, "zf_dataset_load_idx: NULL argument");
    zf_image_norm nm = norm ? *norm : (zf_image_norm){0.0f, 1.0f};
    if (!(nm.std > 0.0f) || nm.mean != nm.mean)
        return zf_set_error(ZF_ERR_INVALID_ARG, "image normalization needs std > 0 (got mean %g, std %g)",
                            (double)nm.mean, (double)nm.std);
    zf_tensor *img = zf_idx_load(ctx, images_path);
    if (!img) return zf_last_status();
    zf_tensor *lab = zf_idx_load(ctx, labels_path);
    if (!lab) return zf_last_status();
    if (img->dtype != ZF_U8 || img->ndim != 3)
        return zf_set_error(ZF_ERR_FORMAT, "%s: expected u8 images [N, H, W], got %s with %d dims", images_path,
                            zf_dtype_name(img->dtype), img->ndim);
    if (lab->dtype != ZF_U8 || lab->ndim != 1)
        return zf_set_error(ZF_ERR_FORMAT, "%s: expected u8 labels [N], got %s with %d dims", labels_path,
                            zf_dtype_name(lab->dtype), lab->ndim);
    int64_t n = img->shape[0], h = img->shape[1], w = img->shape[2];
    if (lab->shape[0] != n)
        return zf_set_error(ZF_ERR_FORMAT, "%s has %lld images but %s has %lld labels", images_path, (long long)n,
                            labels_path, (long long)lab->shape[0]);
    zf_tensor *x = zf_empty(ctx, ZF_F32, 4, (int64_t[]){n, 1, h, w});
    zf_tensor *y = zf_empty(ctx, ZF_I64, 1, (int64_t[]){n});
    if (!x || !y) return zf_last_status();
    /* Same arithmetic as torchvision: (p / 255 - mean) / std, each in f32. */
    const uint8_t *src = zf_data(img);
    float *dst = zf_data(x);
    float table[256];
    for (int p = 0; p < 256; p++) table[p] = ((float)p / 255.0f - nm.mean) / nm.std;
    for (int64_t i = 0; i < n * h * w; i++) dst[i] = table[src[i]];
    const uint8_t *ls = zf_data(lab);
    int64_t *ld = zf_data(y);
    for (int64_t i = 0; i < n; i++) {
        if (ls[i] >= num_classes)
            return zf_set_error(ZF_ERR_FORMAT, "%s: label %d of sample %lld is outside [0, %lld)", labels_path,
                                ls[i], (long long)i, (long long)num_classes);
        ld[i] = ls[i];
    }
    return zf_dataset_from_tensors(out, x, y, num_classes);
}

float zf_image_norm_blank(const zf_image_norm *norm) {
    zf_image_norm nm = norm ? *norm : (zf_image_norm){0.0f, 1.0f};
    return (0.0f - nm.mean) / nm.std; /* the same arithmetic as the pixel table above */
}

const char *zf_fashion_mnist_dir(void) {
    const char *env = getenv("ZF_FASHION_MNIST_DIR");
    return env && *env ? env : "/usr/share/datasets/fashion-mnist";
}

/* dir/stem.gz when it exists, else dir/stem (the error then names that). */
static void pick_file(char *buf, size_t n, const char *dir, const char *stem) {
    snprintf(buf, n, "%s/%s.gz", dir, stem);
    if (access(buf, F_OK) == 0) return;
    snprintf(buf, n, "%s/%s", dir, stem);
    if (access(buf, F_OK) == 0) return;
    snprintf(buf, n, "%s/%s.gz", dir, stem);
}

zf_status zf_fashion_mnist_load(zf_ctx *ctx, const char *dir, zf_data_split split, const zf_image_norm *norm,
                                zf_dataset *out) {
    if (split != ZF_SPLIT_TRAIN && split != ZF_SPLIT_TEST)
        return zf_set_error(ZF_ERR_INVALID_ARG, "zf_fashion_mnist_load: unknown split %d", (int)split);
    if (!dir) dir = zf_fashion_mnist_dir();
    const char *prefix = split == ZF_SPLIT_TRAIN ? "train" : "t10k";
    char stem[64], images[4096], labels[4096];
    snprintf(stem, sizeof stem, "%s-images-idx3-ubyte", prefix);
    pick_file(images, sizeof images, dir, stem);
    snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", prefix);
    pick_file(labels, sizeof labels, dir, stem);
    if (access(images, R_OK) != 0 || access(labels, R_OK) != 0)
        return zf_set_error(ZF_ERR_IO,
                            "Fashion-MNIST not found: %s is missing (install Debian's dataset-fashion-mnist "
                            "or set ZF_FASHION_MNIST_DIR)",
                            access(images, R_OK) != 0 ? images : labels);
    zf_image_norm nm = norm ? *norm : (zf_image_norm){ZF_FASHION_MNIST_MEAN, ZF_FASHION_MNIST_STD};
    zf_status st = zf_dataset_load_idx(ctx, images, labels, &nm, 10, out);
    if (st != ZF_OK) return st;
    if (out->x->shape[2] != 28 || out->x->shape[3] != 28)
        return zf_set_error(ZF_ERR_FORMAT, "%s: Fashion-MNIST images are 28x28, this file has %lldx%lld", images,
                            (long long)out->x->shape[2], (long long)out->x->shape[3]);
    return ZF_OK;
}
