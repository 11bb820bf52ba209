/* Binary heap of merge candidates (internal), ordered by `before`:
 * SentencePiece pops the highest score first, byte-level BPE the lowest rank,
 * both breaking ties by the leftmost pair (llama.cpp llm_bigram_spm /
 * llm_bigram_bpe comparators). */
#ifndef ZF_TOKENIZER_TOK_HEAP_H
#define ZF_TOKENIZER_TOK_HEAP_H

#include "tokenizer/tokenizer_internal.h"

typedef bool (*zf_bigram_before)(const zf_tok_bigram *a, const zf_tok_bigram *b);

static inline zf_status zf_heap_push(zf_tok_scratch *s, zf_tok_bigram b, zf_bigram_before before) {
    zf_status st = ZF_VEC_RESERVE(s->heap, s->heap.n + 1);
    if (st) return st;
    zf_tok_bigram *h = s->heap.v;
    size_t i = s->heap.n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&b, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = b;
    return ZF_OK;
}

static inline zf_tok_bigram zf_heap_pop(zf_tok_scratch *s, zf_bigram_before before) {
    zf_tok_bigram *h = s->heap.v, top = h[0], last = h[--s->heap.n];
    size_t n = s->heap.n, i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(&h[c + 1], &h[c])) c++;
        if (!before(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    if (n) h[i] = last;
    return top;
}

#endif
