/* Dataset loading, thread setup and number formatting for train/eval. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/zerfoo/commands.h"
#include "tools/zerfoo/train_common.h"
#include "zerfoo/zerfoo.h"

bool zf_cli_dataset_known(const char *name) { return name && strcmp(name, "fashion-mnist") == 0; }

zf_status zf_cli_load_dataset(zf_ctx *ctx, const char *name, const char *dir, zf_data_split split,
                              const zf_image_norm *norm, int64_t limit, zf_dataset *out) {
    if (!zf_cli_dataset_known(name))
        return zf_set_error(ZF_ERR_INVALID_ARG, "unknown dataset '%s' (known: fashion-mnist)", name ? name : "");
    zf_status st = zf_fashion_mnist_load(ctx, dir, split, norm, out);
    if (st != ZF_OK || limit <= 0 || limit >= out->n) return st;
    /* The first `limit` samples: views of the leading rows (still contiguous). */
    zf_tensor *x = zf_narrow(ctx, out->x, 0, 0, limit);
    zf_tensor *y = zf_narrow(ctx, out->y, 0, 0, limit);
    if (!x || !y) return zf_last_status();
    return zf_dataset_from_tensors(out, x, y, out->num_classes);
}

bool zf_cli_parse_norm(const char *name, zf_image_norm *out) {
    if (name && strcmp(name, "mean-std") == 0) {
        *out = (zf_image_norm){ZF_FASHION_MNIST_MEAN, ZF_FASHION_MNIST_STD};
        return true;
    }
    if (name && strcmp(name, "unit") == 0) {
        *out = (zf_image_norm){0.0f, 1.0f};
        return true;
    }
    return false;
}

bool zf_cli_set_threads(const char *cmd, const char *arg) {
    int64_t n;
    if (!zf_parse_i64(arg, &n) || n < 1 || n > 1024) {
        fprintf(stderr, "zerfoo %s: --threads needs an integer from 1 to 1024, not '%s'\n", cmd, arg ? arg : "");
        return false;
    }
    char buf[16];
    snprintf(buf, sizeof buf, "%lld", (long long)n);
    setenv("ZF_NUM_THREADS", buf, 1);
    return true;
}

int zf_cli_threads(void) {
    zf_threadpool *pool = zf_default_threadpool();
    return pool ? zf_threadpool_size(pool) : 1;
}

const char *zf_cli_thousands(int64_t v, char *buf, size_t n) {
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%lld", (long long)(v < 0 ? -v : v));
    size_t o = 0;
    if (v < 0 && o + 1 < n) buf[o++] = '-';
    for (int i = 0; i < len && o + 1 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0 && o + 1 < n) buf[o++] = ',';
        if (o + 1 < n) buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

void zf_cli_json_num(const char *key, double v) {
    if (isfinite(v))
        printf(",\"%s\":%.6g", key, v);
    else
        printf(",\"%s\":null", key);
}

void zf_cli_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}
