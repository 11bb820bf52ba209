/* Open-addressing hash maps for the tokenizers (internal).
 *
 * zf_strmap32: byte string -> int32. Keys are not stored: a slot keeps the
 *   key's offset and length in a caller-owned byte arena (which may move as it
 *   grows, since only offsets are kept) plus the key's hash, so the table can
 *   grow without the arena. Lookups take the arena's current base pointer.
 * zf_u64map: uint64 key -> uint64 value (UINT64_MAX is reserved as "empty").
 *
 * Both use linear probing with a power-of-two capacity kept at most half
 * full; there is no removal. */
#ifndef ZF_TOKENIZER_TOK_HASH_H
#define ZF_TOKENIZER_TOK_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zerfoo/error.h"

uint64_t zf_hash_bytes(const void *p, size_t n);

typedef struct zf_strmap32_slot {
    uint32_t off, len; /* key bytes: base[off .. off+len) */
    uint32_t hash;     /* low 32 bits of zf_hash_bytes */
    int32_t val;       /* -1: empty slot */
} zf_strmap32_slot;

typedef struct zf_strmap32 {
    zf_strmap32_slot *slots;
    size_t cap, count;
} zf_strmap32;

void zf_strmap32_free(zf_strmap32 *m);
/* Makes room for n keys in total without growing again. */
zf_status zf_strmap32_reserve(zf_strmap32 *m, size_t n);
/* Value of key[0..len), or -1. */
int32_t zf_strmap32_get(const zf_strmap32 *m, const char *base, const char *key, size_t len);
/* Inserts base[off..off+len) -> val (val >= 0) unless the key is present;
 * *old receives the present value or -1. */
zf_status zf_strmap32_put(zf_strmap32 *m, const char *base, uint32_t off, uint32_t len, int32_t val,
                          int32_t *old);

typedef struct zf_u64map_slot {
    uint64_t key, val;
} zf_u64map_slot;

typedef struct zf_u64map {
    zf_u64map_slot *slots;
    size_t cap, count;
} zf_u64map;

#define ZF_U64MAP_EMPTY UINT64_MAX

void zf_u64map_free(zf_u64map *m);
zf_status zf_u64map_reserve(zf_u64map *m, size_t n);
/* true + *val when key is present. */
bool zf_u64map_get(const zf_u64map *m, uint64_t key, uint64_t *val);
/* Inserts key -> val unless present (then *inserted = false, value kept). */
zf_status zf_u64map_put(zf_u64map *m, uint64_t key, uint64_t val, bool *inserted);

#endif
