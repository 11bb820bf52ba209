/* zerfoo — safetensors files (src/formats/safetensors.c).
 *
 * Format (https://github.com/huggingface/safetensors): 8 bytes little-endian
 * header length N, N bytes of UTF-8 JSON, then the data buffer. The JSON is
 * an object mapping tensor names to {"dtype": "F32", "shape": [2, 3],
 * "data_offsets": [begin, end]} (byte offsets into the data buffer), plus an
 * optional "__metadata__" object of string -> string.
 *
 * The reader treats the file as hostile: the header length must fit in the
 * file (and be at most 100 MB), the JSON is parsed with bounds and depth
 * checks, every dtype must be known, shapes non-negative with no overflow,
 * end - begin must equal numel * element size, and the tensors must tile the
 * data buffer exactly (no overlaps, no gaps, nothing past the end), as the
 * reference implementation requires. Any violation is ZF_ERR_FORMAT with a
 * message naming the file and the tensor.
 *
 * dtypes: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL F8_E4M3 F8_E5M2. Others
 * (U16, U32, U64, F8_E8M0 ...) are ZF_ERR_UNSUPPORTED when a tensor of them
 * is loaded; the file can still be opened and listed. */
#ifndef ZERFOO_SAFETENSORS_H
#define ZERFOO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "zerfoo/named_tensors.h"
#include "zerfoo/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zf_safetensors zf_safetensors;

typedef struct zf_st_info {
    const char *name;
    const char *dtype_name; /* as in the file: "F32", "U32" ... */
    zf_dtype dtype;         /* ZF_DTYPE_COUNT when zerfoo has no such dtype */
    int ndim;
    int64_t shape[ZF_MAX_DIMS];
    uint64_t begin, end;    /* byte offsets into the data buffer */
} zf_st_info;

/* Opens and validates a file (mapped read-only). NULL + error on failure. */
zf_safetensors *zf_safetensors_open(const char *path);
/* Same from memory (not copied; must outlive the handle); `what` names it
 * in messages. */
zf_safetensors *zf_safetensors_open_memory(const void *data, size_t size, const char *what);
void zf_safetensors_close(zf_safetensors *st);

/* Tensors in file order (the header's order). */
int zf_safetensors_count(const zf_safetensors *st);
const zf_st_info *zf_safetensors_info(const zf_safetensors *st, int i);
/* Index of the tensor named `name`, or -1. */
int zf_safetensors_find(const zf_safetensors *st, const char *name);
/* Raw little-endian bytes of tensor i (valid until close). */
const void *zf_safetensors_bytes(const zf_safetensors *st, int i);
/* A contiguous copy of tensor `name` in ctx; NULL + ZF_ERR_INDEX if absent. */
zf_tensor *zf_safetensors_load(const zf_safetensors *st, zf_ctx *ctx, const char *name);
/* Every tensor, copied into ctx, in file order. */
zf_named_tensors *zf_safetensors_load_all(const zf_safetensors *st, zf_ctx *ctx);

/* __metadata__ entries; the value of `key` or NULL. */
int zf_safetensors_meta_count(const zf_safetensors *st);
const char *zf_safetensors_meta_key(const zf_safetensors *st, int i);
const char *zf_safetensors_meta_get(const zf_safetensors *st, const char *key);

/* Writes tensors (any strides, any device; copied to host as needed) and
 * optional metadata (n_meta key/value strings) to `path` atomically: the
 * bytes go to a temporary file in the same directory, which is fsynced,
 * renamed over `path`, and the directory fsynced, so a crash leaves either
 * the old file or the new one, never a torn file. Names must be unique and
 * non-empty; "__metadata__" is reserved. Tensor order is kept; the header is
 * padded with spaces to a multiple of 8 bytes. */
zf_status zf_safetensors_save(const char *path, const zf_named_tensors *tensors, int n_meta,
                              const char *const *meta_keys, const char *const *meta_values);

/* "F32" etc. for a dtype zerfoo can store (NULL for quantized types), and
 * the reverse (ZF_DTYPE_COUNT when unknown). */
const char *zf_safetensors_dtype_name(zf_dtype t);
zf_dtype zf_safetensors_dtype_from_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif
