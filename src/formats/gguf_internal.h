/* Internals shared by the GGUF reader and writer (not a public header). */
#ifndef ZF_FORMATS_GGUF_INTERNAL_H
#define ZF_FORMATS_GGUF_INTERNAL_H

#include "zerfoo/gguf.h"

#include <stddef.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "zerfoo's GGUF code assumes a little-endian host (GGUF files are little-endian)"
#endif

/* A parsed metadata value. All pointers point into the file image, except
 * str_off and kids, which the reader allocates. */
struct zf_gguf_val {
    uint32_t type;      /* zf_gguf_type */
    uint32_t elem_type; /* arrays: element type */
    uint64_t n;         /* strings: byte length; arrays: element count */
    const uint8_t *p;   /* scalar bytes, string bytes, or the first array element */
    /* The serialized value after its u32 type tag (for strings the u64 length
     * too; for arrays the element type and count too): what the writer copies. */
    const uint8_t *raw;
    uint64_t raw_len;
    uint64_t *str_off;         /* arrays of strings: offset from p of element i's length */
    struct zf_gguf_val *kids;  /* arrays of arrays: n parsed elements */
};

/* Open-addressing map from a string key to an index (no deletions). Keys are
 * borrowed: they must outlive the map. */
typedef struct zf_strmap_slot {
    const char *key; /* NULL: empty slot */
    size_t len;
    int64_t idx;
} zf_strmap_slot;

typedef struct zf_strmap {
    zf_strmap_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t count;
} zf_strmap;

void zf_strmap_free(zf_strmap *m);
/* Index stored for key, or -1. */
int64_t zf_strmap_get(const zf_strmap *m, const char *key, size_t len);
/* Inserts key -> idx. Returns ZF_OK, or ZF_ERR_INDEX (without setting an
 * error message) when the key is already present, or ZF_ERR_OOM. */
zf_status zf_strmap_put(zf_strmap *m, const char *key, size_t len, int64_t idx);

/* Bytes of an element of a fixed-size gguf type, 0 otherwise (as
 * zf_gguf_type_size, usable on raw u32 tags from a file). */
size_t zf_gguf_type_size_raw(uint32_t t);

#endif
