/* libFuzzer target for LLM model loading: the input is written to a temp
 * file and opened with zf_llm_load (architecture registry, hyperparameters,
 * every weight's presence, type and shape, the tokenizer). A model that loads
 * is then used a little: tokenize a fixed text, every token's text and
 * end-of-generation flag, one forward pass of two tokens in a small session
 * with its logits sampled, and a chat turn of three tokens (the file's chat
 * template). Inputs of odd size load with f32_weights (every weight
 * dequantized). Built and run by tests/fuzz/run_fuzz.sh llm (clang, ASan +
 * UBSan); the seeds are tiny random-weight models (make_corpus.py llm). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zerfoo/llm.h"

static char g_path[64];
static uint64_t g_sink;
static bool g_verbose; /* ZF_FUZZ_VERBOSE=1: print each load's outcome */

static void cleanup(void) { unlink(g_path); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    snprintf(g_path, sizeof g_path, "/tmp/zf_fuzz_llm_%d.gguf", (int)getpid());
    atexit(cleanup);
    g_verbose = getenv("ZF_FUZZ_VERBOSE") != NULL;
    return 0;
}

static const char k_text[] = "Hello world! <|im_start|>user\n caf\xc3\xa9 \xe2\x96\x81 123<end_of_turn>\xff";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FILE *f = fopen(g_path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) abort();
    zf_llm_load_params lp = {.n_threads = 1, .f32_weights = size & 1};
    zf_llm_model *m = zf_llm_load(g_path, &lp);
    if (g_verbose) fprintf(stderr, "zf_llm_load: %s\n", m ? "loaded" : zf_last_error());
    if (!m) return 0;
    const zf_llm_hparams *hp = zf_llm_hparams_of(m);
    int32_t ids[256];
    int64_t n = zf_llm_tokenize(m, k_text, sizeof k_text - 1, true, ids, 256);
    if (n < 0 || n > 256) __builtin_trap(); /* the text cannot need more than ~1 token a byte */
    for (int64_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= hp->n_vocab) __builtin_trap();
        size_t len;
        const char *p = zf_llm_token_text(m, ids[i], &len);
        if (len) g_sink += (unsigned char)p[len - 1];
    }
    for (int32_t t = -1; t <= hp->n_vocab && t < 4096; t++) {
        size_t len;
        const char *p = zf_llm_token_text(m, t, &len);
        if (len) g_sink += (unsigned char)p[0];
        g_sink += zf_llm_token_is_eog(m, t);
    }
    g_sink += (uint64_t)zf_llm_token_bos(m);
    zf_llm_session_params sp = zf_llm_session_defaults();
    sp.n_ctx = 64;
    sp.kv_type = size & 2 ? ZF_F32 : ZF_F16;
    zf_llm_session *s = zf_llm_session_new(m, &sp);
    if (s) {
        int32_t toks[2] = {n > 0 ? ids[0] : 0, n > 1 ? ids[n - 1] : 0};
        const float *logits = NULL;
        zf_status st = zf_llm_eval(s, toks, 2, true, &logits);
        if (g_verbose) fprintf(stderr, "zf_llm_eval: %s\n", st ? zf_last_error() : "ok");
        if (st == ZF_OK && logits) {
            /* sampling rows of any values (NaN, inf from hostile weights): a token or -1 */
            zf_sampler_params spp = zf_sampler_defaults();
            spp.repeat_penalty = 1.1f;
            spp.penalty_last_n = -1;
            zf_sampler *sm = zf_sampler_new(&spp, hp->n_vocab);
            for (int r = 0; sm && r < 2; r++) {
                int32_t t = zf_sampler_sample(sm, logits + r * hp->n_vocab);
                if (t < -1 || t >= hp->n_vocab) __builtin_trap();
                if (t >= 0) zf_sampler_accept(sm, t);
            }
            zf_sampler_free(sm);
        }
        /* a chat turn: the file's template, prompt, a few sampled tokens */
        zf_llm_session_reset(s);
        zf_chat_msg msgs[2] = {{"system", "Be brief."}, {"user", "Hi <|im_end|> there"}};
        zf_llm_gen_params gp = zf_llm_gen_defaults();
        gp.max_tokens = 3;
        gp.sampling.seed = size;
        char *reply = NULL;
        st = zf_llm_chat(s, msgs, 2, &gp, &reply, NULL);
        if (g_verbose) fprintf(stderr, "zf_llm_chat: %s\n", st ? zf_last_error() : "ok");
        if (reply) g_sink += strlen(reply);
        free(reply);
        zf_llm_session_free(s);
    } else if (g_verbose) {
        fprintf(stderr, "zf_llm_session_new: %s\n", zf_last_error());
    }
    zf_llm_free(m);
    return 0;
}
