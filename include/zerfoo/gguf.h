/* zerfoo — GGUF files (llama.cpp / ggml model format), read and write.
 *
 * Format (GGUF spec, ggml docs/gguf.md; versions 2 and 3, little-endian):
 *
 *   u32 magic "GGUF" · u32 version · u64 n_tensors · u64 n_kv
 *   n_kv × { string key · u32 value_type · value }
 *   n_tensors × { string name · u32 n_dims · u64 ne[n_dims] · u32 ggml_type · u64 offset }
 *   zero padding up to `general.alignment` (u32, default 32)
 *   tensor data; each tensor at data_start + offset, offset a multiple of the alignment
 *
 * where string = u64 length + bytes (UTF-8, no terminating NUL) and an array
 * value = u32 element type + u64 count + elements (arrays may nest).
 * Version 1 (u32 counts) and big-endian files are rejected with a clear error.
 *
 * Reading: zf_gguf_open maps the file read-only; tensor data is used in place
 * and stays valid until zf_gguf_close. Every count, length, size and offset is
 * checked against the file size (overflow-safe) before use; a malformed or
 * hostile file gives NULL and an error message, never a crash, and no
 * allocation is larger than a small multiple of the file size.
 *
 * Shapes follow ggml: ne[0] is the fastest-varying dimension (a row of a
 * matrix), the reverse of numpy/zf_tensor order; dims past n_dims are 1.
 *
 * Ownership: every pointer returned by a zf_gguf_* getter (names, values,
 * string bytes, tensor data) is owned by the zf_gguf and valid until
 * zf_gguf_close. Strings from the file are NOT NUL-terminated (zf_gguf_str
 * carries the length); keys and tensor names are returned as NUL-terminated
 * copies (the reader rejects embedded NUL bytes in them).
 * Multi-byte values are little-endian in the file; zerfoo assumes a
 * little-endian host. */
#ifndef ZERFOO_GGUF_H
#define ZERFOO_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zerfoo/dtype.h"
#include "zerfoo/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZF_GGUF_DEFAULT_ALIGNMENT 32 /* GGUF spec: when general.alignment is absent */
#define ZF_GGUF_MAX_DIMS 4           /* GGML_MAX_DIMS */
#define ZF_GGUF_MAX_DEPTH 8          /* levels of arrays in one value, the outer one included (zerfoo limit) */

/* Metadata value types, numbered as gguf_metadata_value_type in the spec. */
typedef enum zf_gguf_type {
    ZF_GGUF_UINT8 = 0,
    ZF_GGUF_INT8 = 1,
    ZF_GGUF_UINT16 = 2,
    ZF_GGUF_INT16 = 3,
    ZF_GGUF_UINT32 = 4,
    ZF_GGUF_INT32 = 5,
    ZF_GGUF_FLOAT32 = 6,
    ZF_GGUF_BOOL = 7, /* one byte, 0 or 1 */
    ZF_GGUF_STRING = 8,
    ZF_GGUF_ARRAY = 9,
    ZF_GGUF_UINT64 = 10,
    ZF_GGUF_INT64 = 11,
    ZF_GGUF_FLOAT64 = 12,
    ZF_GGUF_TYPE_COUNT
} zf_gguf_type;

/* "u8", "i8", ..., "string", "array", ...; "invalid" when out of range. */
const char *zf_gguf_type_name(zf_gguf_type t);
/* Bytes of one value of a fixed-size type; 0 for string, array and invalid. */
size_t zf_gguf_type_size(zf_gguf_type t);

/* ---- ggml tensor types (ggml.h enum ggml_type) ----
 * Known types have a block size and bytes per block; types that zerfoo can
 * compute on map to a zf_dtype (F32 F16 BF16 F64 I8 I16 I32 I64 and
 * Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K..Q6_K). Others (Q8_1, Q8_K, IQ*, TQ*, MXFP4,
 * ...) are known, so files holding them open and copy fine, but have no dtype. */
typedef enum zf_ggml_type {
    ZF_GGML_F32 = 0,
    ZF_GGML_F16 = 1,
    ZF_GGML_Q4_0 = 2,
    ZF_GGML_Q4_1 = 3,
    ZF_GGML_Q5_0 = 6,
    ZF_GGML_Q5_1 = 7,
    ZF_GGML_Q8_0 = 8,
    ZF_GGML_Q8_1 = 9,
    ZF_GGML_Q2_K = 10,
    ZF_GGML_Q3_K = 11,
    ZF_GGML_Q4_K = 12,
    ZF_GGML_Q5_K = 13,
    ZF_GGML_Q6_K = 14,
    ZF_GGML_Q8_K = 15,
    ZF_GGML_I8 = 24,
    ZF_GGML_I16 = 25,
    ZF_GGML_I32 = 26,
    ZF_GGML_I64 = 27,
    ZF_GGML_F64 = 28,
    ZF_GGML_BF16 = 30,
    ZF_GGML_TYPE_COUNT = 42 /* one past the largest known value */
} zf_ggml_type;

bool zf_ggml_type_known(uint32_t t);
/* "f32", "q4_K", ... as ggml names them; "unknown" when not known. */
const char *zf_ggml_type_name(uint32_t t);
/* Elements per block and bytes per block; 0 when unknown. */
int64_t zf_ggml_block_size(uint32_t t);
size_t zf_ggml_type_size(uint32_t t);
/* The zf_dtype of a ggml type, or ZF_DTYPE_COUNT when zerfoo has none. */
zf_dtype zf_ggml_to_dtype(uint32_t t);
/* The ggml type of a zf_dtype, or -1 when GGUF has none (f8, u8, bool). */
int32_t zf_ggml_from_dtype(zf_dtype t);

/* ---- reader ---- */

typedef struct zf_gguf zf_gguf;
/* A metadata value inside a zf_gguf (opaque, owned by it). */
typedef struct zf_gguf_val zf_gguf_val;

/* Bytes of a string in the file: ptr[0..len), not NUL-terminated. */
typedef struct zf_gguf_str {
    const char *ptr;
    uint64_t len;
} zf_gguf_str;

typedef struct zf_gguf_tensor_info {
    const char *name;      /* NUL-terminated, owned by the zf_gguf */
    uint32_t ggml_type;    /* as stored (zf_ggml_type numbering) */
    zf_dtype dtype;        /* ZF_DTYPE_COUNT when zerfoo cannot compute on it */
    uint32_t n_dims;       /* 0..ZF_GGUF_MAX_DIMS */
    int64_t ne[ZF_GGUF_MAX_DIMS]; /* ne[0] fastest-varying; 1 past n_dims */
    int64_t n_elements;    /* product of ne */
    uint64_t offset;       /* from the start of the data section */
    uint64_t size;         /* bytes */
} zf_gguf_tensor_info;

/* Maps `path` read-only and parses it. NULL + error on failure. */
zf_gguf *zf_gguf_open(const char *path);
/* Parses a GGUF image in memory. The buffer is borrowed, not copied: it must
 * stay valid and unchanged until zf_gguf_close. Tensor data pointers are
 * aligned only as well as `data` is. */
zf_gguf *zf_gguf_open_memory(const void *data, size_t size);
void zf_gguf_close(zf_gguf *g); /* NULL is fine */

uint32_t zf_gguf_version(const zf_gguf *g);     /* 2 or 3 */
uint64_t zf_gguf_alignment(const zf_gguf *g);   /* power of two */
uint64_t zf_gguf_data_offset(const zf_gguf *g); /* file offset of the data section */
uint64_t zf_gguf_file_size(const zf_gguf *g);

/* Metadata, in file order: i in [0, n_kv). */
int64_t zf_gguf_n_kv(const zf_gguf *g);
const char *zf_gguf_kv_key(const zf_gguf *g, int64_t i);          /* NULL + error if out of range */
const zf_gguf_val *zf_gguf_kv_val(const zf_gguf *g, int64_t i);   /* NULL + error if out of range */
/* Index of `key`, or -1 when absent (no error recorded). */
int64_t zf_gguf_find_key(const zf_gguf *g, const char *key);
/* Value of `key`; NULL + ZF_ERR_INDEX when absent. */
const zf_gguf_val *zf_gguf_get(const zf_gguf *g, const char *key);

zf_gguf_type zf_gguf_val_type(const zf_gguf_val *v);
/* Scalar getters. Integer getters accept any integer type (u8 … i64) and fail
 * with ZF_ERR_OVERFLOW when the value does not fit the target; float getters
 * accept f32 and f64; bool and string getters need exactly that type.
 * A type mismatch gives ZF_ERR_DTYPE. */
zf_status zf_gguf_val_u64(const zf_gguf_val *v, uint64_t *out);
zf_status zf_gguf_val_i64(const zf_gguf_val *v, int64_t *out);
zf_status zf_gguf_val_f64(const zf_gguf_val *v, double *out);
zf_status zf_gguf_val_bool(const zf_gguf_val *v, bool *out);
zf_status zf_gguf_val_str(const zf_gguf_val *v, zf_gguf_str *out);

/* Arrays. Element getters follow the scalar rules above; i in [0, len). */
zf_gguf_type zf_gguf_arr_type(const zf_gguf_val *v); /* ZF_GGUF_TYPE_COUNT + error if not an array */
uint64_t zf_gguf_arr_len(const zf_gguf_val *v);      /* 0 if not an array */
/* Elements of a fixed-size type packed little-endian (possibly unaligned;
 * zero readable bytes when len is 0); NULL for arrays of strings or arrays. */
const void *zf_gguf_arr_data(const zf_gguf_val *v);
zf_status zf_gguf_arr_u64(const zf_gguf_val *v, uint64_t i, uint64_t *out);
zf_status zf_gguf_arr_i64(const zf_gguf_val *v, uint64_t i, int64_t *out);
zf_status zf_gguf_arr_f64(const zf_gguf_val *v, uint64_t i, double *out);
zf_status zf_gguf_arr_bool(const zf_gguf_val *v, uint64_t i, bool *out);
zf_status zf_gguf_arr_str(const zf_gguf_val *v, uint64_t i, zf_gguf_str *out); /* O(1) */
const zf_gguf_val *zf_gguf_arr_arr(const zf_gguf_val *v, uint64_t i);         /* nested array */

/* Getters by key: zf_gguf_get + the value getter, narrowing with range checks. */
zf_status zf_gguf_get_u32(const zf_gguf *g, const char *key, uint32_t *out);
zf_status zf_gguf_get_i32(const zf_gguf *g, const char *key, int32_t *out);
zf_status zf_gguf_get_u64(const zf_gguf *g, const char *key, uint64_t *out);
zf_status zf_gguf_get_i64(const zf_gguf *g, const char *key, int64_t *out);
zf_status zf_gguf_get_f32(const zf_gguf *g, const char *key, float *out);
zf_status zf_gguf_get_f64(const zf_gguf *g, const char *key, double *out);
zf_status zf_gguf_get_bool(const zf_gguf *g, const char *key, bool *out);
zf_status zf_gguf_get_str(const zf_gguf *g, const char *key, zf_gguf_str *out);

/* Tensors, in file order: i in [0, n_tensors). */
int64_t zf_gguf_n_tensors(const zf_gguf *g);
/* Index of tensor `name`, or -1 when absent (no error recorded). */
int64_t zf_gguf_find_tensor(const zf_gguf *g, const char *name);
const zf_gguf_tensor_info *zf_gguf_tensor(const zf_gguf *g, int64_t i); /* NULL + error if out of range */
/* Tensor data in place (info->size bytes). Fails with ZF_ERR_UNSUPPORTED for
 * ggml types without a zf_dtype. */
const void *zf_gguf_tensor_data(const zf_gguf *g, int64_t i);
/* The stored bytes whatever the type, for copying files (e.g. the writer). */
const void *zf_gguf_tensor_raw(const zf_gguf *g, int64_t i);

/* ---- writer ----
 * Collects metadata and tensors, then writes a GGUF v3 file in one go:
 * metadata in insertion order (setting an existing key replaces its value in
 * place), tensors in insertion order, each tensor's data padded with zeros to
 * the alignment, the alignment taken from a u32 "general.alignment" entry when
 * one is set (else 32). Files written by the `gguf` Python package read and
 * written back come out byte-identical. */
typedef struct zf_gguf_writer zf_gguf_writer;

zf_gguf_writer *zf_gguf_writer_new(void);
void zf_gguf_writer_free(zf_gguf_writer *w); /* NULL is fine */

/* Scalars. Keys are NUL-terminated; they are copied. */
zf_status zf_gguf_writer_set_u8(zf_gguf_writer *w, const char *key, uint8_t v);
zf_status zf_gguf_writer_set_i8(zf_gguf_writer *w, const char *key, int8_t v);
zf_status zf_gguf_writer_set_u16(zf_gguf_writer *w, const char *key, uint16_t v);
zf_status zf_gguf_writer_set_i16(zf_gguf_writer *w, const char *key, int16_t v);
zf_status zf_gguf_writer_set_u32(zf_gguf_writer *w, const char *key, uint32_t v);
zf_status zf_gguf_writer_set_i32(zf_gguf_writer *w, const char *key, int32_t v);
zf_status zf_gguf_writer_set_u64(zf_gguf_writer *w, const char *key, uint64_t v);
zf_status zf_gguf_writer_set_i64(zf_gguf_writer *w, const char *key, int64_t v);
zf_status zf_gguf_writer_set_f32(zf_gguf_writer *w, const char *key, float v);
zf_status zf_gguf_writer_set_f64(zf_gguf_writer *w, const char *key, double v);
zf_status zf_gguf_writer_set_bool(zf_gguf_writer *w, const char *key, bool v);
zf_status zf_gguf_writer_set_str(zf_gguf_writer *w, const char *key, const char *s); /* NUL-terminated */
zf_status zf_gguf_writer_set_strn(zf_gguf_writer *w, const char *key, const char *s, uint64_t len);
/* Arrays of a fixed-size type from `n` packed little-endian elements, and
 * arrays of NUL-terminated strings. */
zf_status zf_gguf_writer_set_arr(zf_gguf_writer *w, const char *key, zf_gguf_type elem_type,
                                 const void *data, uint64_t n);
zf_status zf_gguf_writer_set_arr_str(zf_gguf_writer *w, const char *key, const char *const *strs,
                                     uint64_t n);
/* Any value (nested arrays too) copied from a reader. */
zf_status zf_gguf_writer_set_val(zf_gguf_writer *w, const char *key, const zf_gguf_val *v);

/* Building arrays element by element, nested arrays included:
 *   arr_begin(w, "key", ZF_GGUF_ARRAY)      -- top level: key given
 *     arr_begin(w, NULL, ZF_GGUF_INT32)      -- nested: key NULL
 *       arr_push(w, ints, 3)
 *     arr_end(w)
 *   arr_end(w)                               -- stores the value under "key"
 * arr_push appends n packed elements of the current fixed-size element type;
 * arr_push_str appends one string. Other set calls fail while an array is
 * open. */
zf_status zf_gguf_writer_arr_begin(zf_gguf_writer *w, const char *key, zf_gguf_type elem_type);
zf_status zf_gguf_writer_arr_push(zf_gguf_writer *w, const void *elems, uint64_t n);
zf_status zf_gguf_writer_arr_push_str(zf_gguf_writer *w, const char *s, uint64_t len);
zf_status zf_gguf_writer_arr_end(zf_gguf_writer *w);

/* Tensors. `ne` has n_dims entries in ggml order (ne[0] fastest-varying);
 * ne[0] must be a multiple of the type's block size. `data` is borrowed, not
 * copied: it must stay valid until zf_gguf_writer_write returns (or the
 * writer is freed). Names must be unique. */
zf_status zf_gguf_writer_add_tensor(zf_gguf_writer *w, const char *name, zf_dtype dtype,
                                    uint32_t n_dims, const int64_t *ne, const void *data);
/* Same with a raw ggml type (any known one); nbytes must equal the size the
 * type and shape imply. */
zf_status zf_gguf_writer_add_tensor_raw(zf_gguf_writer *w, const char *name, uint32_t ggml_type,
                                        uint32_t n_dims, const int64_t *ne, const void *data,
                                        uint64_t nbytes);

/* Writes the file atomically: a temporary file in the same directory,
 * fsync, then rename over `path`. On failure `path` is untouched. */
zf_status zf_gguf_writer_write(zf_gguf_writer *w, const char *path);

#ifdef __cplusplus
}
#endif
#endif
