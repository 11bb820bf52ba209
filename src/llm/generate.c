/* Generation: prefill (reusing the cached prefix), then decode one token at
 * a time, sampling, streaming text with stop strings and partial UTF-8
 * held back until they resolve. Chat turns and perplexity build on it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llm/llm_internal.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

zf_llm_gen_params zf_llm_gen_defaults(void) {
    return (zf_llm_gen_params){.max_tokens = 256, .sampling = zf_sampler_defaults()};
}

/* ---- streamed text with stop strings ---- */

typedef struct stream {
    const zf_llm_gen_params *p;
    char *text;
    size_t len, cap, sent; /* text[0..sent) went to the callback */
    bool stopped_by_string, stopped_by_callback;
} stream;

/* Bytes at the end of t[0..n) that start an incomplete UTF-8 sequence. */
static size_t utf8_partial_tail(const char *t, size_t n) {
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned char c = (unsigned char)t[n - back];
        if ((c & 0xC0) == 0x80) continue; /* continuation byte */
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return need > back ? back : 0;
    }
    return 0;
}

static bool emit(stream *st, size_t upto) {
    if (upto <= st->sent) return true;
    if (st->p->on_text && st->p->on_text(st->p->user, st->text + st->sent, upto - st->sent) != 0) {
        st->sent = upto;
        st->stopped_by_callback = true;
        return false;
    }
    st->sent = upto;
    return true;
}

/* Appends a piece; emits what can no longer become a stop string. Returns
 * false when generation must stop (stop string or callback). */
static bool stream_add(stream *st, const char *piece, size_t n, zf_status *err) {
    if (st->len + n + 1 > st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 256;
        while (cap < st->len + n + 1) cap *= 2;
        char *t = realloc(st->text, cap);
        if (!t) {
            *err = zf_set_error(ZF_ERR_OOM, "out of memory for the generated text");
            return false;
        }
        st->text = t;
        st->cap = cap;
    }
    size_t old = st->len;
    memcpy(st->text + st->len, piece, n);
    st->len += n;
    st->text[st->len] = '\0';
    /* A stop string that ends in the new bytes. */
    size_t hold = 0;
    for (int i = 0; i < st->p->n_stop; i++) {
        const char *s = st->p->stop[i];
        size_t m = s ? strlen(s) : 0;
        if (m == 0) continue;
        size_t from = old >= m ? old - m + 1 : 0;
        for (size_t j = from; j + m <= st->len; j++)
            if (memcmp(st->text + j, s, m) == 0) {
                st->len = j;
                st->text[j] = '\0';
                st->stopped_by_string = true;
                emit(st, j);
                return false;
            }
        /* longest suffix that is a prefix of s */
        for (size_t k = m - 1; k > hold; k--)
            if (k <= st->len && memcmp(st->text + st->len - k, s, k) == 0) {
                hold = k;
                break;
            }
    }
    size_t partial = utf8_partial_tail(st->text, st->len);
    if (partial > hold) hold = partial;
    return emit(st, st->len - hold);
}

/* ---- generation ---- */

static int64_t common_prefix(const int32_t *a, int64_t na, const int32_t *b, int64_t nb) {
    int64_t i = 0;
    while (i < na && i < nb && a[i] == b[i]) i++;
    return i;
}

zf_status zf_llm_generate_tokens(zf_llm_session *s, const int32_t *prompt, int64_t n_prompt,
                                 const zf_llm_gen_params *params, int32_t *out_tokens, int64_t out_cap,
                                 zf_llm_gen_stats *stats) {
    zf_llm_gen_stats dummy;
    if (!stats) stats = &dummy;
    memset(stats, 0, sizeof *stats);
    if (!s || !prompt || n_prompt < 1)
        return zf_set_error(ZF_ERR_INVALID_ARG, "generate: need a session and at least one prompt token");
    zf_llm_gen_params p = params ? *params : zf_llm_gen_defaults();
    const zf_llm_model *m = s->m;
    if (n_prompt > s->n_ctx)
        return zf_set_error(ZF_ERR_INVALID_ARG,
                            "the prompt has %lld tokens but the context holds %lld (raise the context length)",
                            (long long)n_prompt, (long long)s->n_ctx);
    /* Reuse the cached prefix; the last prompt token is always evaluated
     * again so that its logits are fresh. */
    int64_t keep = common_prefix(s->tokens, s->n_past, prompt, n_prompt);
    if (keep >= n_prompt) keep = n_prompt - 1;
    zf_status st = zf_llm_session_truncate(s, keep);
    if (st != ZF_OK) return st;
    keep = s->n_past;
    zf_sampler *smp = zf_sampler_new(&p.sampling, m->hp.n_vocab);
    if (!smp) return zf_last_status();
    zf_sampler_set_draws(smp, s->sample_draws);
    int64_t first_hist = p.sampling.penalty_last_n > 0 && n_prompt > p.sampling.penalty_last_n
                             ? n_prompt - p.sampling.penalty_last_n
                             : 0;
    for (int64_t i = first_hist; i < n_prompt; i++) zf_sampler_accept(smp, prompt[i]);
    double t0 = now_s();
    const float *logits = NULL;
    st = zf_llm_eval(s, prompt + keep, n_prompt - keep, false, &logits);
    stats->n_prompt = n_prompt - keep;
    stats->prompt_s = now_s() - t0;
    stream str = {.p = &p};
    t0 = now_s();
    stats->stop = ZF_STOP_LENGTH;
    for (int64_t i = 0; st == ZF_OK && (p.max_tokens <= 0 || i < p.max_tokens); i++) {
        int32_t tok = zf_sampler_sample(smp, logits);
        if (tok < 0) {
            st = zf_last_status();
            break;
        }
        zf_sampler_accept(smp, tok);
        if (!p.ignore_eog && zf_llm_token_is_eog(m, tok)) {
            stats->stop = ZF_STOP_EOG;
            break;
        }
        if (out_tokens && stats->n_gen < out_cap) out_tokens[stats->n_gen] = tok;
        stats->n_gen++;
        size_t n = 0;
        const char *piece = zf_llm_token_text(m, tok, &n);
        if (!stream_add(&str, piece, n, &st)) {
            if (str.stopped_by_string) stats->stop = ZF_STOP_STRING;
            if (str.stopped_by_callback) stats->stop = ZF_STOP_CALLBACK;
            break;
        }
        if (p.max_tokens > 0 && i + 1 >= p.max_tokens) break;
        if (s->n_past >= s->n_ctx) {
            stats->stop = ZF_STOP_CONTEXT;
            break;
        }
        st = zf_llm_eval(s, &tok, 1, false, &logits);
    }
    if (st == ZF_OK && !str.stopped_by_callback && !str.stopped_by_string) emit(&str, str.len);
    stats->gen_s = now_s() - t0;
    s->sample_draws = zf_sampler_draws(smp);
    free(str.text);
    zf_sampler_free(smp);
    return st;
}

/* Tokenizes text with the model's BOS rule into a malloc'd array. */
static int32_t *tokenize_alloc(const zf_llm_model *m, const char *text, int64_t *n_out) {
    size_t len = strlen(text);
    int64_t n = zf_llm_tokenize(m, text, len, true, NULL, 0);
    if (n < 0) return NULL;
    int32_t *ids = malloc((size_t)(n > 0 ? n : 1) * sizeof *ids);
    if (!ids) {
        zf_set_error(ZF_ERR_OOM, "out of memory for %lld tokens", (long long)n);
        return NULL;
    }
    if (zf_llm_tokenize(m, text, len, true, ids, n) != n) {
        free(ids);
        zf_set_error(ZF_ERR_INTERNAL, "tokenizer gave different counts for the same text");
        return NULL;
    }
    *n_out = n;
    return ids;
}

zf_status zf_llm_generate(zf_llm_session *s, const char *prompt, const zf_llm_gen_params *p,
                          zf_llm_gen_stats *stats) {
    if (!s || !prompt) return zf_set_error(ZF_ERR_INVALID_ARG, "generate: NULL argument");
    int64_t n = 0;
    int32_t *ids = tokenize_alloc(s->m, prompt, &n);
    if (!ids) return zf_last_status();
    if (n == 0) {
        free(ids);
        return zf_set_error(ZF_ERR_INVALID_ARG, "generate: the prompt is empty and the model adds no BOS");
    }
    zf_status st = zf_llm_generate_tokens(s, ids, n, p, NULL, 0, stats);
    free(ids);
    return st;
}

/* Collects the streamed reply and forwards it to the caller's callback. */
typedef struct reply_sink {
    const zf_llm_gen_params *outer;
    char *buf;
    size_t len, cap;
    bool oom;
} reply_sink;

static int reply_cb(void *user, const char *text, size_t len) {
    reply_sink *r = user;
    if (r->len + len + 1 > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        while (cap < r->len + len + 1) cap *= 2;
        char *b = realloc(r->buf, cap);
        if (!b) {
            r->oom = true;
            return 1;
        }
        r->buf = b;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, text, len);
    r->len += len;
    r->buf[r->len] = '\0';
    return r->outer->on_text ? r->outer->on_text(r->outer->user, text, len) : 0;
}

zf_status zf_llm_chat(zf_llm_session *s, const zf_chat_msg *msgs, int n_msgs, const zf_llm_gen_params *params,
                      char **reply, zf_llm_gen_stats *stats) {
    if (reply) *reply = NULL;
    if (!s || !msgs || n_msgs < 1) return zf_set_error(ZF_ERR_INVALID_ARG, "chat: need at least one message");
    zf_chat_template t = zf_chat_template_detect(s->m);
    size_t need = zf_chat_format(t, msgs, n_msgs, true, NULL, 0);
    char *text = malloc(need + 1);
    if (!text) return zf_set_error(ZF_ERR_OOM, "out of memory for the chat prompt");
    zf_chat_format(t, msgs, n_msgs, true, text, need + 1);
    int64_t n = 0;
    int32_t *ids = tokenize_alloc(s->m, text, &n);
    free(text);
    if (!ids) return zf_last_status();
    zf_llm_gen_params p = params ? *params : zf_llm_gen_defaults();
    reply_sink sink = {.outer = params ? params : &p};
    zf_llm_gen_params inner = p;
    inner.on_text = reply_cb;
    inner.user = &sink;
    zf_status st = zf_llm_generate_tokens(s, ids, n, &inner, NULL, 0, stats);
    free(ids);
    if (st == ZF_OK && sink.oom) st = zf_set_error(ZF_ERR_OOM, "out of memory for the reply");
    if (st == ZF_OK && reply) {
        *reply = sink.buf ? sink.buf : calloc(1, 1);
        sink.buf = NULL;
    }
    free(sink.buf);
    return st;
}

/* ---- perplexity ---- */

double zf_llm_perplexity(zf_llm_session *s, const int32_t *tokens, int64_t n, int64_t n_ctx, int64_t *n_scored) {
    if (n_scored) *n_scored = 0;
    if (!s || !tokens || n_ctx < 2 || n_ctx > s->n_ctx) {
        zf_set_error(ZF_ERR_INVALID_ARG, "perplexity: need 2 <= n_ctx <= the session's context (%lld)",
                     s ? (long long)s->n_ctx : 0LL);
        return NAN;
    }
    int64_t n_chunk = n / n_ctx;
    if (n_chunk < 1) {
        zf_set_error(ZF_ERR_INVALID_ARG, "perplexity: %lld tokens are fewer than one window of %lld", (long long)n,
                     (long long)n_ctx);
        return NAN;
    }
    int64_t V = s->m->hp.n_vocab, first = n_ctx / 2, count = 0;
    int32_t bos = llm_adds_bos(s->m) ? zf_llm_token_bos(s->m) : -1;
    int32_t *win = malloc((size_t)n_ctx * sizeof *win);
    if (!win) {
        zf_set_error(ZF_ERR_OOM, "out of memory");
        return NAN;
    }
    double nll = 0;
    for (int64_t c = 0; c < n_chunk; c++) {
        memcpy(win, tokens + c * n_ctx, (size_t)n_ctx * sizeof *win);
        if (bos >= 0) win[0] = bos; /* as llama.cpp's perplexity tool */
        zf_llm_session_reset(s);
        const float *lg;
        if (zf_llm_eval(s, win, n_ctx, true, &lg) != ZF_OK) {
            free(win);
            return NAN;
        }
        for (int64_t j = first; j < n_ctx - 1; j++) {
            const float *row = lg + j * V;
            double mx = row[0], z = 0;
            for (int64_t v = 1; v < V; v++)
                if (row[v] > mx) mx = row[v];
            for (int64_t v = 0; v < V; v++) z += exp((double)row[v] - mx);
            nll += -((double)row[tokens[c * n_ctx + j + 1]] - mx - log(z));
            count++;
        }
    }
    free(win);
    zf_llm_session_reset(s);
    if (n_scored) *n_scored = count;
    return exp(nll / (double)count);
}
