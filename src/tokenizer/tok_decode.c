/* Token -> bytes ("pieces") and decoding, as llama.cpp's
 * llama_vocab::impl::token_to_piece does it (src/llama-vocab.cpp):
 *   control, unknown, user-defined  the token text as is (control and
 *                                   unknown only when special tokens are shown)
 *   normal, SentencePiece           the text with U+2581 turned into ' '
 *   normal, byte-level BPE          each code point mapped back to its byte
 *                                   (GPT-2 bytes_to_unicode, inverted); a code
 *                                   point that stands for no byte gives
 *                                   "[UNK_BYTE_0x<hex of it><token text>]"
 *   byte "<0xNN>"                   the byte NN
 *   unused, undefined               nothing
 * All pieces are built once at load time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"

#define SPECIAL_ATTRS (ZF_TA_CONTROL | ZF_TA_UNKNOWN | ZF_TA_USER_DEFINED)

typedef ZF_VEC(char) byte_vec;

static zf_status put(byte_vec *v, const void *p, size_t n) {
    zf_status st = ZF_VEC_RESERVE(*v, v->n + n);
    if (st) return st;
    memcpy(v->v + v->n, p, n);
    v->n += n;
    return ZF_OK;
}

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 0;
}

static zf_status piece_of(const zf_tokenizer *t, int32_t id, byte_vec *v) {
    const char *s = t->text.v + t->off[id];
    size_t n = t->len[id];
    uint8_t a = t->attr[id];
    if (a & SPECIAL_ATTRS) return put(v, s, n);
    if (a & ZF_TA_NORMAL) {
        if (t->kind == ZF_TOKENIZER_SPM) {
            zf_status st = ZF_OK;
            for (size_t i = 0; i < n && !st;) {
                if (n - i >= 3 && memcmp(s + i, "\xe2\x96\x81", 3) == 0) {
                    st = put(v, " ", 1);
                    i += 3;
                } else {
                    st = put(v, s + i, 1);
                    i++;
                }
            }
            return st;
        }
        zf_status st = ZF_OK;
        for (size_t i = 0; i < n && !st;) {
            size_t adv;
            uint32_t cp = zf_utf8_decode((const unsigned char *)s + i, n - i, &adv);
            i += adv;
            int b = zf_gpt2_cp_to_byte(cp);
            if (b >= 0) {
                char c = (char)b;
                st = put(v, &c, 1);
                continue;
            }
            char u[4], hex[16];
            size_t k = zf_utf8_encode(cp, u);
            st = put(v, "[UNK_BYTE_0x", 12);
            for (size_t j = 0; j < k && !st; j++) {
                snprintf(hex, sizeof hex, "%02x", (unsigned char)u[j]);
                st = put(v, hex, 2);
            }
            if (!st) st = put(v, s, n);
            if (!st) st = put(v, "]", 1);
        }
        return st;
    }
    if (a & ZF_TA_BYTE) { /* "<0xNN>", checked at load */
        char c = (char)(hexval(s[3]) * 16 + hexval(s[4]));
        return put(v, &c, 1);
    }
    return ZF_OK;
}

zf_status zf_tok_build_pieces(zf_tokenizer *t) {
    byte_vec v = {0};
    size_t n = (size_t)t->n_vocab;
    t->piece_off = malloc(n * sizeof *t->piece_off);
    t->piece_len = malloc(n * sizeof *t->piece_len);
    if (!t->piece_off || !t->piece_len) return zf_set_error(ZF_ERR_OOM, "out of memory building token pieces");
    zf_status st = ZF_VEC_RESERVE(v, t->text.n + 16);
    for (size_t i = 0; i < n && !st; i++) {
        size_t before = v.n;
        st = piece_of(t, (int32_t)i, &v);
        if (!st && v.n > UINT32_MAX) st = zf_set_error(ZF_ERR_OVERFLOW, "tokenizer: pieces over 4 GiB");
        t->piece_off[i] = (uint32_t)before;
        t->piece_len[i] = (uint32_t)(v.n - before);
    }
    if (st) {
        free(v.v);
        return st;
    }
    t->piece = v.v;
    return ZF_OK;
}

const char *zf_tokenizer_piece(const zf_tokenizer *t, int32_t id, bool special, size_t *len) {
    if (id < 0 || id >= t->n_vocab) {
        if (len) *len = 0;
        zf_set_error(ZF_ERR_INDEX, "token id %d outside the vocabulary (%d tokens)", (int)id, (int)t->n_vocab);
        return NULL;
    }
    bool hidden = !special && (t->attr[id] & (ZF_TA_CONTROL | ZF_TA_UNKNOWN));
    if (len) *len = hidden ? 0 : t->piece_len[id];
    return t->piece + t->piece_off[id];
}

int64_t zf_tokenizer_decode(const zf_tokenizer *t, const int32_t *ids, int64_t n, unsigned flags, char *out,
                            size_t cap) {
    if (!t || n < 0 || (n > 0 && !ids) || (cap > 0 && !out)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "zf_tokenizer_decode: bad arguments");
        return -1;
    }
    bool special = (flags & ZF_TOK_DECODE_SPECIAL) != 0;
    bool strip = (flags & ZF_TOK_DECODE_STRIP_PREFIX) && t->add_space_prefix;
    bool pending = strip; /* the encoder put a space before the text and after each special token */
    size_t total = 0;
    for (int64_t i = 0; i < n; i++) {
        size_t len;
        const char *p = zf_tokenizer_piece(t, ids[i], special, &len);
        if (!p) return -1;
        if (t->attr[ids[i]] & SPECIAL_ATTRS) {
            pending = strip;
        } else if (len > 0) {
            if (pending && p[0] == ' ') p++, len--;
            pending = false;
        }
        if (total < cap) memcpy(out + total, p, len < cap - total ? len : cap - total);
        total += len;
    }
    return (int64_t)total;
}
