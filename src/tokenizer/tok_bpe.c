/* Byte-level BPE (tokenizer.ggml.model = "gpt2"), as llama.cpp's
 * llm_tokenizer_bpe_session does it (src/llama-vocab.cpp): the text is read as
 * code points (undecodable bytes as U+FFFD), cut into words by the
 * pre-tokenizer, each word's UTF-8 bytes are mapped to GPT-2's printable code
 * points (bytes_to_unicode in OpenAI's gpt-2 encoder.py), and the adjacent
 * pair with the lowest merge rank is merged, repeatedly. A final piece that is
 * not a token is looked up byte by byte (and dropped where that fails, as in
 * llama.cpp). */
#include <string.h>

#include "tokenizer/tok_heap.h"
#include "tokenizer/unicode.h"

/* GPT-2 bytes_to_unicode: printable Latin-1 bytes ('!'..'~', U+00A1..U+00AC,
 * U+00AE..U+00FF) stand for themselves; the other 68 bytes, in increasing
 * order, get U+0100.. U+0143. */
static bool gpt2_self(unsigned b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE); }

uint32_t zf_gpt2_byte_to_cp(unsigned char b) {
    if (gpt2_self(b)) return b;
    if (b <= 0x20) return 0x100u + b;              /* 0x00..0x20: 33 bytes */
    if (b <= 0xA0) return 0x100u + 33 + (b - 0x7F); /* 0x7F..0xA0: 34 bytes */
    return 0x100u + 67;                             /* 0xAD */
}

int zf_gpt2_cp_to_byte(uint32_t cp) {
    if (cp < 0x100) return gpt2_self(cp) ? (int)cp : -1;
    if (cp < 0x100 + 33) return (int)(cp - 0x100);
    if (cp < 0x100 + 67) return (int)(cp - 0x100 - 33 + 0x7F);
    if (cp == 0x100 + 67) return 0xAD;
    return -1;
}

static bool bpe_before(const zf_tok_bigram *a, const zf_tok_bigram *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static zf_status try_pair(const zf_tokenizer *t, zf_tok_scratch *s, int32_t l, int32_t r) {
    if (l < 0 || r < 0) return ZF_OK;
    int32_t a = s->syms.v[l].id, b = s->syms.v[r].id;
    uint64_t v;
    if (a < 0 || b < 0 || !zf_u64map_get(&t->merges, (uint64_t)(uint32_t)a << 32 | (uint32_t)b, &v)) return ZF_OK;
    zf_tok_bigram g = {.left = l, .right = r, .rank = (int32_t)(v >> 32), .id_left = a, .id_right = b};
    return zf_heap_push(s, g, bpe_before);
}

/* Merges the symbols of one byte-encoded word s->text[0..n) and appends ids. */
static zf_status merge_word(const zf_tokenizer *t, zf_tok_scratch *s, zf_tokens *out) {
    zf_status st;
    s->heap.n = 0;
    for (int32_t i = 1; i < (int32_t)s->syms.n; i++)
        if ((st = try_pair(t, s, i - 1, i))) return st;
    while (s->heap.n) {
        zf_tok_bigram g = zf_heap_pop(s, bpe_before);
        zf_tok_symbol *a = &s->syms.v[g.left], *b = &s->syms.v[g.right];
        /* stale when either side changed since the pair was queued */
        if (a->len == 0 || b->len == 0 || a->id != g.id_left || b->id != g.id_right) continue;
        uint64_t v;
        zf_u64map_get(&t->merges, (uint64_t)(uint32_t)a->id << 32 | (uint32_t)b->id, &v);
        a->id = (int32_t)(uint32_t)v;
        a->len += b->len;
        b->len = 0;
        a->next = b->next;
        if (b->next >= 0) s->syms.v[b->next].prev = g.left;
        if ((st = try_pair(t, s, a->prev, g.left)) || (st = try_pair(t, s, g.left, s->syms.v[g.left].next)))
            return st;
    }
    for (int32_t i = 0; i != -1; i = s->syms.v[i].next) {
        const zf_tok_symbol *y = &s->syms.v[i];
        if (y->id >= 0 && y->id < t->n_vocab) {
            if ((st = zf_tokens_push(out, y->id))) return st;
            continue;
        }
        for (uint32_t k = 0; k < y->len; k++) {
            int32_t id = zf_tokenizer_find(t, s->text.v + y->off + k, 1);
            if (id >= 0 && (st = zf_tokens_push(out, id))) return st;
        }
    }
    return ZF_OK;
}

zf_status zf_tok_bpe_encode(const zf_tokenizer *t, const char *text, size_t len, zf_tok_scratch *s,
                            zf_tokens *out) {
    const unsigned char *u = (const unsigned char *)text;
    zf_status st = ZF_VEC_RESERVE(s->cps, len + 1);
    if (st) return st;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t adv;
        s->cps.v[n++] = zf_utf8_decode(u + i, len - i, &adv);
        i += adv;
    }
    const size_t *words;
    size_t n_words;
    if ((st = zf_pretok_split(t->pre, s->cps.v, n, s, &words, &n_words))) return st;
    size_t a = 0;
    for (size_t w = 0; w < n_words; a += words[w], w++) {
        /* the word's UTF-8 bytes, each as its GPT-2 code point (1 or 2 bytes) */
        size_t nb = 0;
        char buf[4];
        for (size_t i = a; i < a + words[w]; i++) nb += zf_utf8_encode(s->cps.v[i], buf);
        if (nb > INT32_MAX / 2) return zf_set_error(ZF_ERR_OVERFLOW, "tokenizer: word too long");
        if ((st = ZF_VEC_RESERVE(s->text, 2 * nb)) || (st = ZF_VEC_RESERVE(s->syms, nb))) return st;
        size_t o = 0;
        s->syms.n = 0;
        for (size_t i = a; i < a + words[w]; i++) {
            size_t k = zf_utf8_encode(s->cps.v[i], buf);
            for (size_t j = 0; j < k; j++) {
                unsigned char b = (unsigned char)buf[j];
                char e[4];
                size_t m = zf_utf8_encode(zf_gpt2_byte_to_cp(b), e);
                memcpy(s->text.v + o, e, m);
                int32_t idx = (int32_t)s->syms.n;
                s->syms.v[s->syms.n++] = (zf_tok_symbol){idx - 1, idx + 1, (uint32_t)o, (uint32_t)m, t->byte_sym[b]};
                o += m;
            }
        }
        s->text.n = o;
        if (s->syms.n == 0) continue;
        s->syms.v[s->syms.n - 1].next = -1;
        if (t->ignore_merges) { /* a word that is a whole token stays whole (llama3 family) */
            int32_t id = zf_tokenizer_find(t, s->text.v, o);
            if (id >= 0) {
                if ((st = zf_tokens_push(out, id))) return st;
                continue;
            }
        }
        if ((st = merge_word(t, s, out))) return st;
    }
    return ZF_OK;
}
