/* zerfoo — tokenizers built from GGUF metadata.
 *
 * Two families, chosen by `tokenizer.ggml.model` (GGUF spec, ggml docs/gguf.md,
 * "Tokenizer" section; behaviour follows llama.cpp's src/llama-vocab.cpp):
 *
 *   "llama"  SentencePiece-style BPE (Llama 2, Gemma): spaces become U+2581
 *            '▁', an optional space is put in front of the text, adjacent
 *            pieces are merged by best vocabulary score, and characters with
 *            no piece fall back to byte tokens "<0xNN>".
 *   "gpt2"   byte-level BPE (GPT-2, Llama 3, Qwen 2, SmolLM2): the text is cut
 *            into words by the pre-tokenizer named in `tokenizer.ggml.pre`,
 *            each byte is mapped to a printable code point (GPT-2's
 *            bytes_to_unicode), and words are merged by `tokenizer.ggml.merges`
 *            rank.
 *
 * Keys read: tokenizer.ggml.{model, pre, tokens, scores, token_type, merges,
 * bos_token_id, eos_token_id, unknown_token_id, padding_token_id,
 * eot_token_id, add_bos_token, add_eos_token, add_space_prefix}.
 * Pre-tokenizers: "default" (also when the key is absent), "gpt-2" family,
 * "llama3"/"llama-bpe" family, "qwen2" family, and the "starcoder"/"smollm"
 * family (digits split one by one, then GPT-2's rule).
 *
 * Special tokens: with ZF_TOK_PARSE_SPECIAL, the text of every control,
 * unknown and user-defined token found in the input is emitted as that token
 * before the rest is tokenized (longest tokens take precedence); without it,
 * only user-defined tokens are matched, as in llama.cpp.
 *
 * Invalid UTF-8 in the input never fails: the SentencePiece path falls back to
 * byte tokens; the byte-level path reads each undecodable byte as U+FFFD, as
 * llama.cpp does.
 *
 * Ownership and threads: a zf_tokenizer copies what it needs from the GGUF
 * (the zf_gguf may be closed afterwards) and is read-only after loading, so
 * any thread may use it at any time; each encode reuses an internal scratch
 * buffer when it is free and makes its own otherwise. */
#ifndef ZERFOO_TOKENIZER_H
#define ZERFOO_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zerfoo/error.h"
#include "zerfoo/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zf_tokenizer zf_tokenizer;

typedef enum zf_tokenizer_kind {
    ZF_TOKENIZER_SPM = 0, /* "llama": SentencePiece-style, scores */
    ZF_TOKENIZER_BPE = 1, /* "gpt2": byte-level BPE, merges */
} zf_tokenizer_kind;

/* tokenizer.ggml.token_type values (llama.cpp enum llama_token_type). */
typedef enum zf_token_type {
    ZF_TOKEN_UNDEFINED = 0,
    ZF_TOKEN_NORMAL = 1,
    ZF_TOKEN_UNKNOWN = 2,
    ZF_TOKEN_CONTROL = 3,
    ZF_TOKEN_USER_DEFINED = 4,
    ZF_TOKEN_UNUSED = 5,
    ZF_TOKEN_BYTE = 6,
} zf_token_type;

/* Builds the tokenizer described by g's metadata. NULL + error (ZF_ERR_FORMAT
 * for missing or inconsistent metadata, ZF_ERR_UNSUPPORTED for an unknown
 * model or pre-tokenizer) on failure. */
zf_tokenizer *zf_tokenizer_from_gguf(const zf_gguf *g);
/* zf_gguf_open + zf_tokenizer_from_gguf + zf_gguf_close. */
zf_tokenizer *zf_tokenizer_load(const char *gguf_path);
void zf_tokenizer_free(zf_tokenizer *t); /* NULL is fine */

zf_tokenizer_kind zf_tokenizer_get_kind(const zf_tokenizer *t);
/* The pre-tokenizer name as stored ("default" when absent; "" for SPM). */
const char *zf_tokenizer_pre_name(const zf_tokenizer *t);
int32_t zf_tokenizer_n_vocab(const zf_tokenizer *t);

/* Special ids, -1 when the model has none. */
int32_t zf_tokenizer_bos(const zf_tokenizer *t);
int32_t zf_tokenizer_eos(const zf_tokenizer *t);
int32_t zf_tokenizer_eot(const zf_tokenizer *t); /* end of turn: <end_of_turn>, <|im_end|>, <|eot_id|> ... */
int32_t zf_tokenizer_unk(const zf_tokenizer *t);
int32_t zf_tokenizer_pad(const zf_tokenizer *t);
bool zf_tokenizer_adds_bos(const zf_tokenizer *t);
bool zf_tokenizer_adds_eos(const zf_tokenizer *t);
bool zf_tokenizer_adds_space_prefix(const zf_tokenizer *t);
/* True for tokens that end generation (eos, eot). */
bool zf_tokenizer_is_eog(const zf_tokenizer *t, int32_t id);

/* Token text as stored in the vocabulary (not NUL-terminated); NULL when id
 * is out of range. */
const char *zf_tokenizer_token_text(const zf_tokenizer *t, int32_t id, size_t *len);
zf_token_type zf_tokenizer_token_type(const zf_tokenizer *t, int32_t id); /* UNDEFINED when out of range */
/* Id of the token whose text is exactly text[0..len), or -1. */
int32_t zf_tokenizer_find(const zf_tokenizer *t, const char *text, size_t len);

/* A growable list of token ids owned by the caller. Start from {0} and free
 * with zf_tokens_free; encode appends, so one list can be reused across calls
 * (set n = 0) without new allocations once it is large enough. */
typedef struct zf_tokens {
    int32_t *ids;
    int64_t n, cap;
} zf_tokens;
void zf_tokens_free(zf_tokens *v);

enum {
    ZF_TOK_ADD_SPECIAL = 1u << 0,   /* add BOS / EOS as the model asks (add_bos_token, add_eos_token) */
    ZF_TOK_PARSE_SPECIAL = 1u << 1, /* match control and unknown tokens written in the text */
};

/* Appends the ids of text[0..len) to out. The text need not be
 * NUL-terminated nor valid UTF-8. ZF_OK, or an error (ZF_ERR_OOM, or
 * ZF_ERR_INVALID_ARG for bad arguments); on error out->n is unchanged. */
zf_status zf_tokenizer_encode(const zf_tokenizer *t, const char *text, size_t len, unsigned flags, zf_tokens *out);

enum {
    ZF_TOK_DECODE_SPECIAL = 1u << 0,      /* write the text of control/unknown tokens (else they decode to "") */
    ZF_TOK_DECODE_STRIP_PREFIX = 1u << 1, /* undo the encoder's space prefix: for models with add_space_prefix,
                                             drop one leading space at the start and after each special token */
};

/* The bytes one token decodes to: '▁' becomes ' ', byte tokens become their
 * byte, byte-level tokens are mapped back to raw bytes. Owned by t; *len set.
 * Control and unknown tokens give their text when `special`, else "".
 * NULL + ZF_ERR_INDEX when id is out of range. */
const char *zf_tokenizer_piece(const zf_tokenizer *t, int32_t id, bool special, size_t *len);

/* Decodes ids[0..n) to bytes: the pieces one after the other. Writes at most
 * cap bytes to out (no NUL) and returns the full length, so a call with cap 0
 * measures; -1 + ZF_ERR_INDEX when an id is out of range.
 * Round trip: decode(encode(x)) == x byte for byte for valid UTF-8 x, with
 * ZF_TOK_DECODE_STRIP_PREFIX, BOS/EOS left out (or hidden), and
 * ZF_TOK_DECODE_SPECIAL when x holds special-token text that was parsed. */
int64_t zf_tokenizer_decode(const zf_tokenizer *t, const int32_t *ids, int64_t n, unsigned flags, char *out,
                            size_t cap);

#ifdef __cplusplus
}
#endif
#endif
