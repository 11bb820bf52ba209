/* Special tokens written in the text: control, unknown and user-defined
 * tokens are cut out of the input before normal tokenization.
 *
 * llama.cpp (llama_vocab::impl::tokenizer_st_partition) takes the special
 * tokens longest first and, for each one in turn, splits every still-raw piece
 * of text at each of its non-overlapping occurrences, left to right. So a
 * longer token wins over a shorter one wherever they overlap, even when the
 * shorter one starts earlier. We get the same result without a pass per
 * token: a trie over the special texts finds candidates; for each token
 * length, longest first, the candidates of that length that lie in unclaimed
 * text are taken in (token id, position) order and claim their bytes. Ties
 * between different tokens of the same length are broken by id (llama.cpp
 * leaves that order to std::sort; it only matters when two such tokens
 * overlap in the text). */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

static bool is_special(uint8_t attr) { return (attr & (ZF_TA_CONTROL | ZF_TA_UNKNOWN | ZF_TA_USER_DEFINED)) != 0; }

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

zf_status zf_tok_build_specials(zf_tokenizer *t) {
    size_t n = 0, bytes = 0;
    for (int32_t i = 0; i < t->n_vocab; i++)
        if (is_special(t->attr[i])) n++, bytes += t->len[i];
    if (bytes >= INT32_MAX) return zf_set_error(ZF_ERR_OVERFLOW, "tokenizer: special tokens too long");
    /* sort keys: (~length << 32 | id), so longer first, then lower id */
    uint64_t *keys = malloc((n ? n : 1) * sizeof *keys);
    t->trie_tok = malloc((bytes + 1) * sizeof *t->trie_tok);
    if (!keys || !t->trie_tok) {
        free(keys);
        return zf_set_error(ZF_ERR_OOM, "out of memory building the special-token table");
    }
    n = 0;
    for (int32_t i = 0; i < t->n_vocab; i++)
        if (is_special(t->attr[i])) keys[n++] = (uint64_t)(UINT32_MAX - t->len[i]) << 32 | (uint32_t)i;
    qsort(keys, n, sizeof *keys, cmp_u64);
    t->n_special = (int32_t)n;
    t->special_max_len = 0;
    zf_status st = zf_u64map_reserve(&t->trie, bytes);
    t->n_trie = 1;
    t->trie_tok[0] = -1;
    memset(t->special_first, 0, sizeof t->special_first);
    for (size_t k = 0; k < n && !st; k++) {
        int32_t id = (int32_t)(uint32_t)keys[k];
        const unsigned char *s = (const unsigned char *)t->text.v + t->off[id];
        if (t->len[id] > t->special_max_len) t->special_max_len = t->len[id];
        t->special_first[s[0]] = 1;
        uint64_t node = 0;
        for (uint32_t j = 0; j < t->len[id]; j++) {
            uint64_t key = node << 8 | s[j], child;
            if (!zf_u64map_get(&t->trie, key, &child)) {
                child = (uint64_t)t->n_trie;
                t->trie_tok[t->n_trie++] = -1;
                bool ins;
                if ((st = zf_u64map_put(&t->trie, key, child, &ins))) break;
            }
            node = child;
        }
        if (!st) t->trie_tok[node] = id; /* token texts are unique */
    }
    free(keys);
    return st;
}

static int cmp_cand(const void *a, const void *b) {
    const zf_tok_match *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static int cmp_pos(const void *a, const void *b) {
    const zf_tok_match *x = a, *y = b;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static bool eligible(const zf_tokenizer *t, int32_t id, bool parse_special) {
    /* without parse_special only user-defined tokens are matched (llama.cpp) */
    return id >= 0 && (parse_special || (t->attr[id] & ZF_TA_USER_DEFINED));
}

zf_status zf_tok_partition(const zf_tokenizer *t, const char *text, size_t len, bool parse_special,
                           zf_tok_scratch *s) {
    const unsigned char *u = (const unsigned char *)text;
    s->frags.n = 0;
    s->matches.n = 0;
    zf_status st;
    if (t->n_special > 0 && len > 0) {
        if ((st = ZF_VEC_RESERVE(s->claimed, len))) return st;
        memset(s->claimed.v, 0, len);
        unsigned char *claimed = s->claimed.v;
        /* survey: which lengths occur (s->text as flags indexed by length) */
        size_t max_len = t->special_max_len;
        if ((st = ZF_VEC_RESERVE(s->text, max_len + 1))) return st;
        memset(s->text.v, 0, max_len + 1);
        for (size_t p = 0; p < len; p++) {
            if (!t->special_first[u[p]]) continue;
            uint64_t node = 0;
            for (size_t q = p; q < len; q++) {
                uint64_t child;
                if (!zf_u64map_get(&t->trie, node << 8 | u[q], &child)) break;
                node = child;
                if (eligible(t, t->trie_tok[node], parse_special)) s->text.v[q - p + 1] = 1;
            }
        }
        size_t n_acc = 0; /* accepted matches, kept at the front of s->matches */
        for (size_t L = max_len; L >= 1; L--) {
            if (!s->text.v[L]) continue;
            size_t n_cand0 = n_acc;
            s->matches.n = n_acc;
            for (size_t p = 0; p + L <= len; p++) {
                if (claimed[p] || !t->special_first[u[p]]) continue;
                uint64_t node = 0;
                size_t q = p;
                for (; q < p + L && !claimed[q]; q++) {
                    uint64_t child;
                    if (!zf_u64map_get(&t->trie, node << 8 | u[q], &child)) break;
                    node = child;
                }
                if (q != p + L) continue;
                int32_t id = t->trie_tok[node];
                if (!eligible(t, id, parse_special)) continue;
                if ((st = ZF_VEC_RESERVE(s->matches, s->matches.n + 1))) return st;
                s->matches.v[s->matches.n++] = (zf_tok_match){id, p, L};
            }
            size_t n_cand = s->matches.n - n_cand0;
            if (n_cand > 1) qsort(s->matches.v + n_cand0, n_cand, sizeof *s->matches.v, cmp_cand);
            for (size_t k = n_cand0; k < n_cand0 + n_cand; k++) {
                zf_tok_match m = s->matches.v[k];
                bool free_span = true;
                for (size_t q = m.pos; q < m.pos + m.len && free_span; q++) free_span = !claimed[q];
                if (!free_span) continue;
                memset(claimed + m.pos, 1, m.len);
                s->matches.v[n_acc++] = m;
            }
            s->matches.n = n_acc;
        }
        if (n_acc > 1) qsort(s->matches.v, n_acc, sizeof *s->matches.v, cmp_pos);
    }
    /* fragments: raw gaps and the accepted tokens, in text order */
    size_t at = 0;
    for (size_t k = 0; k <= s->matches.n; k++) {
        size_t end = k < s->matches.n ? s->matches.v[k].pos : len;
        if (end > at) {
            if ((st = ZF_VEC_RESERVE(s->frags, s->frags.n + 1))) return st;
            s->frags.v[s->frags.n++] = (zf_tok_frag){at, end - at, -1};
        }
        if (k == s->matches.n) break;
        if ((st = ZF_VEC_RESERVE(s->frags, s->frags.n + 1))) return st;
        s->frags.v[s->frags.n++] = (zf_tok_frag){s->matches.v[k].pos, s->matches.v[k].len, s->matches.v[k].id};
        at = s->matches.v[k].pos + s->matches.v[k].len;
    }
    return ZF_OK;
}
