/* LLM runtime on tiny random-weight models: hyperparameters, the KV cache
 * (batched prefill == token-by-token decode, rings of sliding-window
 * layers across every wrap case, f16 vs f32 cache), quantized vs f32
 * weights, context limits, truncation, generation and streaming. */
#include "llm/llm_internal.h" /* the session's step context */
#include "llm_fixture.h"
#include "zf_test.h"

/* Max |a - b| over n floats, relative to max |b|. */
static double rel_err(const float *a, const float *b, int64_t n) {
    double m = 0, s = 1e-12;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m) m = d;
        if (fabs(b[i]) > s) s = fabs(b[i]);
    }
    return m / s;
}

/* Logits of the last of n tokens, fed in pieces of the given sizes. */
static bool run_pieces(zf_llm_session *s, const int32_t *ids, const int *pieces, float *out, int64_t V) {
    zf_llm_session_reset(s);
    const float *lg = NULL;
    int64_t at = 0;
    for (int i = 0; pieces[i]; i++) {
        if (zf_llm_eval(s, ids + at, pieces[i], false, &lg) != ZF_OK) return false;
        at += pieces[i];
    }
    memcpy(out, lg, (size_t)V * sizeof *out);
    return true;
}

static void test_cache_consistency(const char *arch, int64_t window, zf_dtype kv) {
    fx_cfg c = fx_default(arch);
    c.window = window;
    if (strcmp(arch, "gemma3") == 0) c.L = 6; /* 5 window layers + 1 global */
    if (strcmp(arch, "phi3") == 0) c.Hkv = c.H;
    zf_llm_model *m = fx_load(&c, false);
    CHECK(m != NULL);
    if (!m) return;
    const zf_llm_hparams *hp = zf_llm_hparams_of(m);
    CHECK(hp->n_layer == c.L && hp->n_embd == c.E && hp->n_vocab == FX_VOCAB && hp->sliding_window == window);
    zf_llm_session_params sp = zf_llm_session_defaults();
    sp.n_ctx = 64;
    sp.kv_type = kv;
    sp.n_batch = 64;
    zf_llm_session *s = zf_llm_session_new(m, &sp);
    CHECK(s != NULL);
    int32_t ids[24];
    for (int i = 0; i < 24; i++) ids[i] = 3 + (i * 37) % 256;
    int64_t V = FX_VOCAB;
    float *ref = malloc(V * sizeof *ref), *got = malloc(V * sizeof *got);
    /* reference: one token at a time (every ring write lands before the read) */
    int ones[25];
    for (int i = 0; i < 24; i++) ones[i] = 1;
    ones[24] = 0;
    CHECK(run_pieces(s, ids, ones, ref, V));
    /* one batch; a batch after a partial fill; several wrapping batches */
    const int splits[][6] = {{24, 0}, {5, 19, 0}, {3, 7, 9, 5, 0}, {20, 1, 1, 2, 0}, {11, 13, 0}};
    /* f16 caches: a batch that wraps a ring reads its own keys in f32, the
     * token-by-token run reads them back rounded to f16 */
    double tol = kv == ZF_F16 ? 3e-3 : 1e-4;
    for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
        CHECK(run_pieces(s, ids, splits[k], got, V));
        double e = rel_err(got, ref, V);
        if (e > tol) fprintf(stderr, "%s window %lld split %zu: rel err %g\n", arch, (long long)window, k, e);
        CHECK(e <= tol);
    }
    /* all_logits rows equal the last-token logits of each prefix */
    zf_llm_session_reset(s);
    const float *all;
    CHECK(zf_llm_eval(s, ids, 24, true, &all) == ZF_OK);
    CHECK(rel_err(all + 23 * V, ref, V) <= tol);
    CHECK(zf_llm_session_n_past(s) == 24);
    free(ref);
    free(got);
    zf_llm_session_free(s);
    zf_llm_free(m);
}

static void test_kv_types_and_quant(void) {
    fx_cfg c = fx_default("llama");
    c.E = 64;
    c.q8 = true;
    zf_llm_model *mq = fx_load(&c, false), *mf = fx_load(&c, true);
    CHECK(mq && mf);
    if (!mq || !mf) return;
    CHECK(zf_llm_extra_weight_bytes(mq) == 0);  /* Q8_0 matrices used in place */
    CHECK(zf_llm_extra_weight_bytes(mf) > 0);   /* dequantized copies */
    zf_llm_session_params sp = zf_llm_session_defaults();
    sp.n_ctx = 32;
    zf_llm_session *s16 = zf_llm_session_new(mq, &sp);
    sp.kv_type = ZF_F32;
    zf_llm_session *s32 = zf_llm_session_new(mq, &sp), *sf = zf_llm_session_new(mf, &sp);
    CHECK(s16 && s32 && sf);
    CHECK(zf_llm_session_kv_bytes(s32) == 2 * zf_llm_session_kv_bytes(s16));
    CHECK(zf_llm_session_kv_bytes(s16) == (uint64_t)(2 * c.L * 32 * c.Hkv * c.D * 2));
    int32_t ids[10] = {1, 50, 60, 70, 80, 90, 100, 110, 120, 130};
    const float *a, *b, *f;
    float *ca = malloc(FX_VOCAB * sizeof *ca), *cb = malloc(FX_VOCAB * sizeof *cb);
    CHECK(zf_llm_eval(s16, ids, 10, false, &a) == ZF_OK);
    memcpy(ca, a, FX_VOCAB * sizeof *ca);
    CHECK(zf_llm_eval(s32, ids, 10, false, &b) == ZF_OK);
    memcpy(cb, b, FX_VOCAB * sizeof *cb);
    CHECK(zf_llm_eval(sf, ids, 10, false, &f) == ZF_OK);
    CHECK(rel_err(ca, cb, FX_VOCAB) < 5e-2);  /* f16 cache rounding */
    CHECK(rel_err(cb, f, FX_VOCAB) < 5e-2);   /* 8-bit activations against f32 */
    free(ca);
    free(cb);
    zf_llm_session_free(s16);
    zf_llm_session_free(s32);
    zf_llm_session_free(sf);
    zf_llm_free(mq);
    zf_llm_free(mf);
}

static int count_cb(void *user, const char *text, size_t len) {
    (void)text;
    size_t *n = user;
    *n += len;
    return 0;
}

static int stop_first_cb(void *user, const char *text, size_t len) {
    (void)text, (void)len;
    (*(int *)user)++;
    return 1;
}

static void test_context_and_generation(void) {
    fx_cfg c = fx_default("llama");
    zf_llm_model *m = fx_load(&c, false);
    CHECK(m != NULL);
    if (!m) return;
    zf_llm_session_params sp = zf_llm_session_defaults();
    sp.n_ctx = 16;
    sp.n_batch = 4;
    zf_llm_session *s = zf_llm_session_new(m, &sp);
    CHECK(s && zf_llm_session_n_ctx(s) == 16);
    int32_t ids[20];
    for (int i = 0; i < 20; i++) ids[i] = 3 + i * 11;
    /* a prompt longer than the context: clear error, nothing evaluated */
    CHECK(zf_llm_eval(s, ids, 17, false, NULL) == ZF_ERR_INVALID_ARG);
    CHECK(strstr(zf_last_error(), "context") != NULL);
    CHECK(zf_llm_session_n_past(s) == 0);
    zf_llm_gen_params gp = zf_llm_gen_defaults();
    zf_llm_gen_stats st;
    CHECK(zf_llm_generate_tokens(s, ids, 20, &gp, NULL, 0, &st) == ZF_ERR_INVALID_ARG);
    /* bad token ids */
    int32_t bad = FX_VOCAB + 5;
    CHECK(zf_llm_eval(s, &bad, 1, false, NULL) == ZF_ERR_INDEX);
    /* greedy generation is deterministic; prefix reuse gives the same tokens */
    gp.max_tokens = 6;
    gp.sampling.temperature = 0;
    gp.ignore_eog = true;
    int32_t out1[8], out2[8];
    size_t bytes = 0;
    gp.on_text = count_cb;
    gp.user = &bytes;
    CHECK(zf_llm_generate_tokens(s, ids, 8, &gp, out1, 8, &st) == ZF_OK);
    CHECK(st.n_gen == 6 && st.n_prompt == 8 && st.stop == ZF_STOP_LENGTH && bytes == 6);
    CHECK(zf_llm_session_n_past(s) == 13); /* 8 prompt + 5 fed back */
    CHECK(zf_llm_generate_tokens(s, ids, 8, &gp, out2, 8, &st) == ZF_OK);
    CHECK(st.n_prompt == 1); /* cached prefix reused, the last token re-run */
    CHECK(memcmp(out1, out2, sizeof(int32_t) * 6) == 0);
    /* the context fills up: generation stops with ZF_STOP_CONTEXT */
    gp.max_tokens = 0;
    CHECK(zf_llm_generate_tokens(s, ids, 12, &gp, NULL, 0, &st) == ZF_OK);
    CHECK(st.stop == ZF_STOP_CONTEXT && zf_llm_session_n_past(s) == 16);
    /* the callback stops generation */
    int calls = 0;
    gp.max_tokens = 6;
    gp.on_text = stop_first_cb;
    gp.user = &calls;
    zf_llm_session_reset(s);
    CHECK(zf_llm_generate_tokens(s, ids, 4, &gp, NULL, 0, &st) == ZF_OK);
    CHECK(st.stop == ZF_STOP_CALLBACK && calls == 1 && st.n_gen == 1);
    /* truncation */
    CHECK(zf_llm_session_truncate(s, 2) == ZF_OK && zf_llm_session_n_past(s) == 2);
    CHECK(zf_llm_session_truncate(s, 3) == ZF_ERR_INVALID_ARG);
    /* perplexity runs and is finite and > 1 */
    int64_t scored = 0;
    double ppl = zf_llm_perplexity(s, ids, 20, 8, &scored);
    CHECK(isfinite(ppl) && ppl > 1.0 && scored == 2 * 3);
    CHECK(isnan(zf_llm_perplexity(s, ids, 20, 32, &scored)));
    zf_llm_session_free(s);
    zf_llm_free(m);
}

/* Stop strings: the text of the 3rd generated token, found by a first run,
 * ends a second run before it is emitted. */
typedef struct sink {
    char buf[256];
    size_t n;
} sink;

static int sink_cb(void *user, const char *text, size_t len) {
    sink *s = user;
    if (s->n + len < sizeof s->buf) {
        memcpy(s->buf + s->n, text, len);
        s->n += len;
        s->buf[s->n] = '\0';
    }
    return 0;
}

static void test_stop_strings(void) {
    fx_cfg c = fx_default("llama");
    zf_llm_model *m = fx_load(&c, false);
    zf_llm_session *s = m ? zf_llm_session_new(m, NULL) : NULL;
    CHECK(s != NULL);
    if (!s) {
        zf_llm_free(m);
        return;
    }
    int32_t ids[4] = {1, 72, 105, 33};
    zf_llm_gen_params gp = zf_llm_gen_defaults();
    gp.max_tokens = 8;
    gp.sampling.temperature = 0;
    gp.ignore_eog = true;
    int32_t out[8];
    zf_llm_gen_stats st;
    CHECK(zf_llm_generate_tokens(s, ids, 4, &gp, out, 8, &st) == ZF_OK);
    /* pick a generated byte token whose byte did not appear before it */
    int k = -1;
    for (int i = 1; i < (int)st.n_gen && k < 0; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++) seen |= out[j] == out[i];
        if (!seen && out[i] >= 3 + 32 && out[i] < 3 + 127) k = i;
    }
    if (k > 0) {
        char stop[2] = {(char)(out[k] - 3), 0};
        const char *stops[1] = {stop};
        sink sk = {.n = 0};
        gp.stop = stops;
        gp.n_stop = 1;
        gp.on_text = sink_cb;
        gp.user = &sk;
        zf_llm_session_reset(s);
        CHECK(zf_llm_generate_tokens(s, ids, 4, &gp, NULL, 0, &st) == ZF_OK);
        CHECK(st.stop == ZF_STOP_STRING);
        /* the text before the stop string, and nothing after it */
        char want[64];
        size_t wn = 0;
        for (int i = 0; i < k; i++) {
            size_t len;
            const char *t = zf_llm_token_text(m, out[i], &len);
            memcpy(want + wn, t, len);
            wn += len;
        }
        CHECK(sk.n == wn && memcmp(sk.buf, want, wn) == 0);
    }
    zf_llm_session_free(s);
    zf_llm_free(m);
}

/* Decode steps reuse the step context's memory: after a warm-up, further
 * tokens (past the sliding window too) take nothing new from the system. */
static void test_decode_memory(void) {
    fx_cfg c = fx_default("gemma3");
    c.L = 6;
    c.window = 4;
    zf_llm_model *m = fx_load(&c, false);
    zf_llm_session_params sp = zf_llm_session_defaults();
    sp.n_ctx = 128;
    zf_llm_session *s = m ? zf_llm_session_new(m, &sp) : NULL;
    CHECK(s != NULL);
    if (!s) {
        zf_llm_free(m);
        return;
    }
    int32_t ids[8] = {1, 40, 41, 42, 43, 44, 45, 46};
    CHECK(zf_llm_eval(s, ids, 8, false, NULL) == ZF_OK);
    int32_t t = 50;
    for (int i = 0; i < 8; i++) CHECK(zf_llm_eval(s, &t, 1, false, NULL) == ZF_OK);
    size_t warm = zf_ctx_reserved_bytes(s->step);
    for (int i = 0; i < 64; i++) CHECK(zf_llm_eval(s, &t, 1, false, NULL) == ZF_OK);
    CHECK(zf_ctx_reserved_bytes(s->step) == warm);
    zf_llm_session_free(s);
    zf_llm_free(m);
}

int main(void) {
    test_decode_memory();
    test_cache_consistency("llama", 0, ZF_F32);
    test_cache_consistency("llama", 0, ZF_F16);
    test_cache_consistency("qwen2", 0, ZF_F32);
    test_cache_consistency("qwen3", 0, ZF_F32);
    test_cache_consistency("phi3", 6, ZF_F32);
    test_cache_consistency("mistral", 5, ZF_F32);
    test_cache_consistency("gemma3", 4, ZF_F32);
    test_cache_consistency("gemma3", 7, ZF_F16);
    test_kv_types_and_quant();
    test_context_and_generation();
    test_stop_strings();
    ZF_TEST_MAIN_END();
}
