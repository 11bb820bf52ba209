/* The model's tokenizer (zerfoo/tokenizer.h, built from the GGUF metadata)
 * behind the zf_llm_* token functions. */
#include <stdbool.h>
#include <string.h>

#include "llm/llm_internal.h"
#include "zerfoo/tokenizer.h"

zf_status llm_tokenizer_load(zf_llm_model *m) {
    m->tok = zf_tokenizer_from_gguf(m->gguf);
    if (!m->tok) return zf_last_status() != ZF_OK ? zf_last_status() : ZF_ERR_FORMAT;
    if (zf_tokenizer_n_vocab(m->tok) > m->hp.n_vocab)
        return zf_set_error(ZF_ERR_FORMAT, "the tokenizer has %d tokens but token_embd only %lld rows",
                            zf_tokenizer_n_vocab(m->tok), (long long)m->hp.n_vocab);
    return ZF_OK;
}

void llm_tokenizer_free(zf_llm_model *m) {
    zf_tokenizer_free(m->tok);
    m->tok = NULL;
}

int64_t zf_llm_tokenize(const zf_llm_model *m, const char *text, size_t len, bool add_special, int32_t *out,
                        int64_t cap) {
    if (!m || (!text && len > 0) || cap < 0 || (!out && cap > 0)) {
        zf_set_error(ZF_ERR_INVALID_ARG, "zf_llm_tokenize: bad arguments");
        return -1;
    }
    zf_tokens v = {0};
    unsigned flags = ZF_TOK_PARSE_SPECIAL | (add_special ? ZF_TOK_ADD_SPECIAL : 0);
    if (zf_tokenizer_encode(m->tok, text ? text : "", len, flags, &v) != ZF_OK) {
        zf_tokens_free(&v);
        return -1;
    }
    int64_t n = v.n;
    if (n > 0 && cap > 0) memcpy(out, v.ids, (size_t)(n < cap ? n : cap) * sizeof *out);
    zf_tokens_free(&v);
    return n;
}

const char *zf_llm_token_text(const zf_llm_model *m, int32_t tok, size_t *len) {
    size_t n = 0;
    const char *p = m ? zf_tokenizer_piece(m->tok, tok, false, &n) : NULL;
    if (len) *len = p ? n : 0;
    return p ? p : "";
}

int32_t zf_llm_token_bos(const zf_llm_model *m) { return m ? zf_tokenizer_bos(m->tok) : -1; }

bool zf_llm_token_is_eog(const zf_llm_model *m, int32_t tok) {
    if (!m) return false;
    if (zf_tokenizer_is_eog(m->tok, tok)) return true;
    /* Turn-end markers the metadata may not name as EOT/EOS. */
    static const char *const k_eog[] = {"<end_of_turn>", "<|im_end|>", "<|eot_id|>", "<|end|>", "<|endoftext|>"};
    size_t n = 0;
    const char *t = zf_tokenizer_token_text(m->tok, tok, &n);
    if (!t || zf_tokenizer_token_type(m->tok, tok) != ZF_TOKEN_CONTROL) return false;
    for (size_t i = 0; i < sizeof k_eog / sizeof k_eog[0]; i++)
        if (strlen(k_eog[i]) == n && memcmp(k_eog[i], t, n) == 0) return true;
    return false;
}

bool llm_adds_bos(const zf_llm_model *m) { return m && zf_tokenizer_adds_bos(m->tok); }
