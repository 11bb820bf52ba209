/* Open-addressing hash maps for the tokenizers: see tok_hash.h. */
#include "tokenizer/tok_hash.h"

#include <stdlib.h>
#include <string.h>

static inline uint64_t mix64(uint64_t x) {
    /* a 64-bit finalizer (xor-shift / multiply rounds) */
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    return x;
}

uint64_t zf_hash_bytes(const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ mix64(w)) * 0x9e3779b97f4a7c15ull;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++) w |= (uint64_t)s[i] << (8 * i);
    h = (h ^ mix64(w + n)) * 0x9e3779b97f4a7c15ull;
    return mix64(h);
}

/* ---- string -> int32 ---- */

void zf_strmap32_free(zf_strmap32 *m) {
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}

static zf_status strmap_grow(zf_strmap32 *m, size_t want) {
    size_t cap = m->cap ? m->cap : 16;
    while (cap / 2 < want) {
        if (cap > SIZE_MAX / 2 / sizeof(zf_strmap32_slot)) return zf_set_error(ZF_ERR_OOM, "hash map too large");
        cap *= 2;
    }
    if (cap == m->cap) return ZF_OK;
    zf_strmap32_slot *slots = malloc(cap * sizeof *slots);
    if (!slots) return zf_set_error(ZF_ERR_OOM, "out of memory growing a hash map to %zu slots", cap);
    for (size_t i = 0; i < cap; i++) slots[i].val = -1;
    size_t mask = cap - 1;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].val < 0) continue;
        size_t j = m->slots[i].hash & mask;
        while (slots[j].val >= 0) j = (j + 1) & mask;
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return ZF_OK;
}

zf_status zf_strmap32_reserve(zf_strmap32 *m, size_t n) { return strmap_grow(m, n); }

int32_t zf_strmap32_get(const zf_strmap32 *m, const char *base, const char *key, size_t len) {
    if (m->cap == 0) return -1;
    uint32_t h = (uint32_t)zf_hash_bytes(key, len);
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const zf_strmap32_slot *s = &m->slots[i];
        if (s->val < 0) return -1;
        if (s->hash == h && s->len == len && memcmp(base + s->off, key, len) == 0) return s->val;
    }
}

zf_status zf_strmap32_put(zf_strmap32 *m, const char *base, uint32_t off, uint32_t len, int32_t val,
                          int32_t *old) {
    *old = -1;
    zf_status st = strmap_grow(m, m->count + 1);
    if (st) return st;
    const char *key = base + off;
    uint32_t h = (uint32_t)zf_hash_bytes(key, len);
    size_t mask = m->cap - 1;
    size_t i = h & mask;
    for (;; i = (i + 1) & mask) {
        zf_strmap32_slot *s = &m->slots[i];
        if (s->val < 0) break;
        if (s->hash == h && s->len == len && memcmp(base + s->off, key, len) == 0) {
            *old = s->val;
            return ZF_OK;
        }
    }
    m->slots[i] = (zf_strmap32_slot){off, len, h, val};
    m->count++;
    return ZF_OK;
}

/* ---- u64 -> u64 ---- */

void zf_u64map_free(zf_u64map *m) {
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}

static zf_status u64map_grow(zf_u64map *m, size_t want) {
    size_t cap = m->cap ? m->cap : 16;
    while (cap / 2 < want) {
        if (cap > SIZE_MAX / 2 / sizeof(zf_u64map_slot)) return zf_set_error(ZF_ERR_OOM, "hash map too large");
        cap *= 2;
    }
    if (cap == m->cap) return ZF_OK;
    zf_u64map_slot *slots = malloc(cap * sizeof *slots);
    if (!slots) return zf_set_error(ZF_ERR_OOM, "out of memory growing a hash map to %zu slots", cap);
    for (size_t i = 0; i < cap; i++) slots[i].key = ZF_U64MAP_EMPTY;
    size_t mask = cap - 1;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key == ZF_U64MAP_EMPTY) continue;
        size_t j = mix64(m->slots[i].key) & mask;
        while (slots[j].key != ZF_U64MAP_EMPTY) j = (j + 1) & mask;
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return ZF_OK;
}

zf_status zf_u64map_reserve(zf_u64map *m, size_t n) { return u64map_grow(m, n); }

bool zf_u64map_get(const zf_u64map *m, uint64_t key, uint64_t *val) {
    if (m->cap == 0) return false;
    size_t mask = m->cap - 1;
    for (size_t i = mix64(key) & mask;; i = (i + 1) & mask) {
        const zf_u64map_slot *s = &m->slots[i];
        if (s->key == key) {
            *val = s->val;
            return true;
        }
        if (s->key == ZF_U64MAP_EMPTY) return false;
    }
}

zf_status zf_u64map_put(zf_u64map *m, uint64_t key, uint64_t val, bool *inserted) {
    *inserted = false;
    if (key == ZF_U64MAP_EMPTY) return zf_set_error(ZF_ERR_INTERNAL, "reserved hash map key");
    zf_status st = u64map_grow(m, m->count + 1);
    if (st) return st;
    size_t mask = m->cap - 1;
    size_t i = mix64(key) & mask;
    for (;; i = (i + 1) & mask) {
        zf_u64map_slot *s = &m->slots[i];
        if (s->key == key) return ZF_OK;
        if (s->key == ZF_U64MAP_EMPTY) break;
    }
    m->slots[i] = (zf_u64map_slot){key, val};
    m->count++;
    *inserted = true;
    return ZF_OK;
}
