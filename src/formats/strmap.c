/* String -> index hash map used for GGUF keys and tensor names
 * (open addressing, linear probing, FNV-1a hash). */
#include "formats/gguf_internal.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 14695981039346656037ull; /* FNV-1a 64-bit offset basis */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull; /* FNV prime */
    }
    return h;
}

void zf_strmap_free(zf_strmap *m) {
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}

int64_t zf_strmap_get(const zf_strmap *m, const char *key, size_t len) {
    if (m->cap == 0) return -1;
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)hash_bytes(key, len) & mask;; i = (i + 1) & mask) {
        const zf_strmap_slot *s = &m->slots[i];
        if (!s->key) return -1;
        if (s->len == len && memcmp(s->key, key, len) == 0) return s->idx;
    }
}

static void insert_slot(zf_strmap_slot *slots, size_t cap, zf_strmap_slot s) {
    size_t mask = cap - 1;
    size_t i = (size_t)hash_bytes(s.key, s.len) & mask;
    while (slots[i].key) i = (i + 1) & mask;
    slots[i] = s;
}

zf_status zf_strmap_put(zf_strmap *m, const char *key, size_t len, int64_t idx) {
    if (zf_strmap_get(m, key, len) >= 0) return ZF_ERR_INDEX;
    if ((m->count + 1) * 2 > m->cap) { /* keep the load factor at most 1/2 */
        size_t cap = m->cap ? m->cap * 2 : 16;
        if (cap < m->cap || cap > SIZE_MAX / sizeof(zf_strmap_slot))
            return zf_set_error(ZF_ERR_OOM, "hash map too large");
        zf_strmap_slot *slots = calloc(cap, sizeof *slots);
        if (!slots) return zf_set_error(ZF_ERR_OOM, "out of memory growing a hash map to %zu slots", cap);
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].key) insert_slot(slots, cap, m->slots[i]);
        free(m->slots);
        m->slots = slots;
        m->cap = cap;
    }
    insert_slot(m->slots, m->cap, (zf_strmap_slot){key, len, idx});
    m->count++;
    return ZF_OK;
}
