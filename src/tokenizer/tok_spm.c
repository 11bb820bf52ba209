/* SentencePiece-style BPE (tokenizer.ggml.model = "llama"), as llama.cpp's
 * llm_tokenizer_spm_session does it (src/llama-vocab.cpp; after the
 * SentencePiece BPE model): the text, spaces already turned into U+2581, is
 * split into UTF-8 characters (by lead byte, without validation); the
 * adjacent pair whose concatenation is the best-scoring vocabulary entry is
 * merged, repeatedly; a final piece that is not a token is written as byte
 * tokens ("<0xNN>"). */
#include <string.h>

#include "tokenizer/tok_heap.h"
#include "tokenizer/unicode.h"

static bool spm_before(const zf_tok_bigram *a, const zf_tok_bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static zf_status try_pair(const zf_tokenizer *t, zf_tok_scratch *s, int32_t l, int32_t r) {
    if (l < 0 || r < 0) return ZF_OK;
    const zf_tok_symbol *a = &s->syms.v[l], *b = &s->syms.v[r];
    uint32_t size = a->len + b->len;
    int32_t id = zf_tokenizer_find(t, s->text.v + a->off, size);
    if (id < 0) return ZF_OK;
    zf_tok_bigram g = {.left = l, .right = r, .score = t->score[id], .size = size};
    return zf_heap_push(s, g, spm_before);
}

zf_status zf_tok_spm_encode(const zf_tokenizer *t, zf_tok_scratch *s, zf_tokens *out) {
    const char *text = s->text.v;
    size_t n = s->text.n;
    if (n == 0) return ZF_OK;
    if (n > INT32_MAX) return zf_set_error(ZF_ERR_OVERFLOW, "tokenizer: text longer than 2 GiB");
    zf_status st = ZF_VEC_RESERVE(s->syms, n);
    if (st) return st;
    s->syms.n = 0;
    for (size_t off = 0; off < n;) {
        size_t k = zf_utf8_len((unsigned char)text[off]);
        if (k > n - off) k = n - off;
        int32_t i = (int32_t)s->syms.n;
        s->syms.v[s->syms.n++] = (zf_tok_symbol){i - 1, off + k == n ? -1 : i + 1, (uint32_t)off, (uint32_t)k, -1};
        off += k;
    }
    s->heap.n = 0;
    for (int32_t i = 1; i < (int32_t)s->syms.n; i++)
        if ((st = try_pair(t, s, i - 1, i))) return st;
    while (s->heap.n) {
        zf_tok_bigram g = zf_heap_pop(s, spm_before);
        zf_tok_symbol *a = &s->syms.v[g.left], *b = &s->syms.v[g.right];
        /* stale when either side changed since the pair was queued */
        if (a->len == 0 || b->len == 0 || a->len + b->len != g.size) continue;
        a->len += b->len;
        b->len = 0;
        a->next = b->next;
        if (b->next >= 0) s->syms.v[b->next].prev = g.left;
        if ((st = try_pair(t, s, a->prev, g.left)) || (st = try_pair(t, s, g.left, s->syms.v[g.left].next)))
            return st;
    }
    for (int32_t i = 0; i != -1; i = s->syms.v[i].next) {
        const zf_tok_symbol *y = &s->syms.v[i];
        int32_t id = zf_tokenizer_find(t, text + y->off, y->len);
        if (id >= 0) {
            if ((st = zf_tokens_push(out, id))) return st;
            continue;
        }
        for (uint32_t k = 0; k < y->len; k++) { /* byte fallback */
            unsigned char c = (unsigned char)text[y->off + k];
            int32_t b = t->byte_tok[c];
            if (b < 0) b = t->unk;
            if (b < 0)
                return zf_set_error(ZF_ERR_UNSUPPORTED,
                                    "tokenizer: byte 0x%02X has no token (no <0x%02X> and no unknown token)", c, c);
            if ((st = zf_tokens_push(out, b))) return st;
        }
    }
    return ZF_OK;
}
