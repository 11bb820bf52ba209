/* Tokenizer internals shared by the files of src/tokenizer (not public).
 *
 * Id space: ids [0, n_vocab) are the vocabulary. For byte-level BPE, strings
 * that appear in tokenizer.ggml.merges but are not tokens get extra ids
 * [n_vocab, n_ids) so that merges can work on ids alone, exactly as
 * llama.cpp's merges work on strings; symbols left with such an id at the
 * end fall back to byte lookups like any non-token string. */
#ifndef ZF_TOKENIZER_INTERNAL_H
#define ZF_TOKENIZER_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tok_hash.h"
#include "zerfoo/tokenizer.h"

/* Token attribute bits, derived from the GGUF token type (as llama.cpp's
 * llama_token_attr does). A token of undefined or unknown type has none. */
enum {
    ZF_TA_NORMAL = 1u << 0,
    ZF_TA_UNKNOWN = 1u << 1,
    ZF_TA_CONTROL = 1u << 2,
    ZF_TA_USER_DEFINED = 1u << 3,
    ZF_TA_UNUSED = 1u << 4,
    ZF_TA_BYTE = 1u << 5,
};

/* Pre-tokenizers (llama.cpp llama_vocab_pre_type, the ones zerfoo has). */
typedef enum zf_pretok {
    ZF_PRE_NONE = 0,  /* SentencePiece: no pre-tokenizer */
    ZF_PRE_DEFAULT,   /* punctuation runs | GPT-2 rule | number runs | digit triples */
    ZF_PRE_GPT2,      /* GPT-2 rule */
    ZF_PRE_LLAMA3,    /* Llama 3 rule, numbers in groups of up to 3 digits */
    ZF_PRE_QWEN2,     /* Llama 3 rule, numbers one digit at a time */
    ZF_PRE_STARCODER, /* each digit alone, then GPT-2 rule (starcoder, smollm, ...) */
} zf_pretok;

/* Growable array: data, n used, cap allocated (elements). */
#define ZF_VEC(T) \
    struct {      \
        T *v;     \
        size_t n, cap; \
    }

/* Ensures room for `need` elements of size `elem` in *p (capacity *cap). */
zf_status zf_tok_reserve(void **p, size_t *cap, size_t need, size_t elem);
#define ZF_VEC_RESERVE(vec, need) zf_tok_reserve((void **)&(vec).v, &(vec).cap, (need), sizeof *(vec).v)

typedef ZF_VEC(size_t) zf_tok_segs;

typedef struct zf_tok_symbol {
    int32_t prev, next; /* neighbours in the chain, -1 at the ends */
    uint32_t off, len;  /* bytes in the working text; len 0 once merged away */
    int32_t id;         /* BPE: id of the current string, -1 if none */
} zf_tok_symbol;

typedef struct zf_tok_bigram {
    int32_t left, right; /* symbol indices */
    float score;         /* SPM: score of the merged piece (higher first) */
    int32_t rank;        /* BPE: merge rank (lower first) */
    uint32_t size;       /* SPM: bytes of the merged piece */
    int32_t id_left, id_right; /* BPE: ids when queued */
} zf_tok_bigram;

typedef struct zf_tok_match {
    int32_t id;
    size_t pos, len;
} zf_tok_match;

/* A piece of the input after special-token matching: raw text or one token. */
typedef struct zf_tok_frag {
    size_t off, len; /* raw text when id < 0 */
    int32_t id;
} zf_tok_frag;

/* Working memory of one encode; kept in the tokenizer and reused. */
typedef struct zf_tok_scratch {
    ZF_VEC(zf_tok_match) matches;
    ZF_VEC(zf_tok_frag) frags;
    ZF_VEC(unsigned char) claimed;
    ZF_VEC(char) text;       /* SPM: escaped fragment; BPE: byte-encoded word */
    ZF_VEC(zf_tok_symbol) syms;
    ZF_VEC(zf_tok_bigram) heap;
    ZF_VEC(uint32_t) cps;    /* BPE: code points of the fragment */
    zf_tok_segs seg_a;       /* BPE: word lengths (code points), two buffers */
    zf_tok_segs seg_b;
} zf_tok_scratch;

void zf_tok_scratch_free(zf_tok_scratch *s);

struct zf_tokenizer {
    zf_tokenizer_kind kind;
    zf_pretok pre;
    char pre_name[64];
    bool ignore_merges; /* BPE: a word that is a whole token is kept (llama3 family) */

    int32_t n_vocab, n_ids;
    ZF_VEC(char) text;  /* token texts (then extra strings), back to back */
    uint32_t *off, *len; /* per id in [0, n_ids) */
    size_t ids_cap;
    float *score;       /* per vocab id */
    uint8_t *type;      /* per vocab id: zf_token_type as stored */
    uint8_t *attr;      /* per vocab id: ZF_TA_* */
    zf_strmap32 vocab;  /* text -> id, over all n_ids strings */

    /* decoded pieces (special = true form), per vocab id */
    char *piece;
    uint32_t *piece_off, *piece_len;

    /* BPE */
    zf_u64map merges;     /* (left id << 32 | right id) -> (rank << 32 | merged id) */
    int32_t byte_sym[256]; /* id of the GPT-2 code point standing for each byte, -1 if none */
    /* SPM byte fallback: "<0xNN>" (or the single byte as a token), -1 if none */
    int32_t byte_tok[256];

    /* special tokens: control, unknown and user-defined, by precedence */
    int32_t n_special;
    uint32_t special_max_len;
    zf_u64map trie;        /* (node << 8 | byte) -> child node; node 0 is the root */
    int32_t *trie_tok;     /* per node: special token ending there, or -1 */
    int32_t n_trie;
    uint8_t special_first[256]; /* 1 if some special token starts with this byte */

    int32_t bos, eos, eot, unk, pad;
    bool add_bos, add_eos, add_space_prefix;

    atomic_flag scratch_busy;
    zf_tok_scratch scratch;
};

/* tok_special.c */
zf_status zf_tok_build_specials(zf_tokenizer *t);
/* Cuts text into raw fragments and special tokens (s->frags). */
zf_status zf_tok_partition(const zf_tokenizer *t, const char *text, size_t len, bool parse_special,
                           zf_tok_scratch *s);

/* tok_spm.c: appends the SentencePiece ids of raw text (already with '▁'). */
zf_status zf_tok_spm_encode(const zf_tokenizer *t, zf_tok_scratch *s, zf_tokens *out);
/* tok_bpe.c: appends the byte-level BPE ids of raw text[0..len). */
zf_status zf_tok_bpe_encode(const zf_tokenizer *t, const char *text, size_t len, zf_tok_scratch *s,
                            zf_tokens *out);
/* GPT-2 bytes_to_unicode: the code point standing for byte b, and back
 * (-1 for code points that stand for no byte). */
uint32_t zf_gpt2_byte_to_cp(unsigned char b);
int zf_gpt2_cp_to_byte(uint32_t cp);

/* pretok.c: word lengths (in code points) of cps[0..n) for `pre`; the result
 * is in *words (one of s->seg_a / s->seg_b). */
zf_status zf_pretok_split(zf_pretok pre, const uint32_t *cps, size_t n, zf_tok_scratch *s, const size_t **words,
                          size_t *n_words);

/* tok_decode.c: fills piece / piece_off / piece_len. */
zf_status zf_tok_build_pieces(zf_tokenizer *t);

/* Output helper. */
zf_status zf_tokens_push(zf_tokens *v, int32_t id);

#endif
