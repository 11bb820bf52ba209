/* Chat templates, hand-written per family (no Jinja engine): the family is
 * recognized from markers in tokenizer.chat_template, or from the
 * architecture when the file has no template. Each formatter reproduces what
 * the family's official template renders for plain system/user/assistant
 * messages with add_generation_prompt. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "llm/llm_internal.h"

static bool has(const zf_gguf_str *s, const char *marker) {
    size_t m = strlen(marker);
    if (s->len < m) return false;
    for (uint64_t i = 0; i + m <= s->len; i++)
        if (memcmp(s->ptr + i, marker, m) == 0) return true;
    return false;
}

zf_chat_template zf_chat_template_detect(const zf_llm_model *m) {
    if (!m) return ZF_CHAT_NONE;
    zf_gguf_str t;
    if (zf_gguf_find_key(m->gguf, "tokenizer.chat_template") >= 0 &&
        zf_gguf_get_str(m->gguf, "tokenizer.chat_template", &t) == ZF_OK) {
        if (has(&t, "<start_of_turn>")) return ZF_CHAT_GEMMA;
        if (has(&t, "<|im_start|>")) return ZF_CHAT_CHATML;
        if (has(&t, "<|start_header_id|>")) return ZF_CHAT_LLAMA3;
        if (has(&t, "<|assistant|>") && has(&t, "<|end|>")) return ZF_CHAT_PHI3;
        if (has(&t, "[INST]")) return ZF_CHAT_MISTRAL;
    }
    const char *a = m->arch->name;
    if (strcmp(a, "gemma3") == 0) return ZF_CHAT_GEMMA;
    if (strcmp(a, "qwen2") == 0 || strcmp(a, "qwen3") == 0) return ZF_CHAT_CHATML;
    if (strcmp(a, "phi3") == 0) return ZF_CHAT_PHI3;
    if (strcmp(a, "mistral") == 0) return ZF_CHAT_MISTRAL;
    /* llama: Llama 3 files have <|start_header_id|> in the vocabulary. */
    if (zf_llm_tokenize(m, "<|start_header_id|>", 19, false, NULL, 0) == 1) return ZF_CHAT_LLAMA3;
    if (zf_llm_tokenize(m, "<|im_start|>", 12, false, NULL, 0) == 1) return ZF_CHAT_CHATML;
    return ZF_CHAT_NONE;
}

const char *zf_chat_template_name(zf_chat_template t) {
    switch (t) {
    case ZF_CHAT_CHATML: return "chatml";
    case ZF_CHAT_GEMMA: return "gemma";
    case ZF_CHAT_LLAMA3: return "llama3";
    case ZF_CHAT_PHI3: return "phi3";
    case ZF_CHAT_MISTRAL: return "mistral";
    case ZF_CHAT_NONE: break;
    }
    return "none";
}

/* Output buffer that counts what does not fit. */
typedef struct out {
    char *buf;
    size_t cap, len;
} out;

static void put(out *o, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) o->len += (size_t)n;
}

static const char *role_of(const zf_chat_msg *m) { return m->role ? m->role : "user"; }
static const char *text_of(const zf_chat_msg *m) { return m->content ? m->content : ""; }

/* The text without leading and trailing white space, as llama.cpp's trim():
 * *len bytes from the result. */
static const char *trimmed(const zf_chat_msg *m, int *len) {
    const char *a = text_of(m), *e = a + strlen(a);
    while (a < e && isspace((unsigned char)*a)) a++;
    while (e > a && isspace((unsigned char)e[-1])) e--;
    *len = (int)(e - a);
    return a;
}

/* Gemma: no system role; a system message is prepended to the first user
 * turn (followed by a blank line), "assistant" is called "model". Texts are
 * trimmed, as llama.cpp's template and Gemma's own (`| trim`) do: a reply
 * that ended in a newline goes back into the history without it. */
static void fmt_gemma(out *o, const zf_chat_msg *msgs, int n, bool gen) {
    const char *sys = NULL;
    int start = 0, ns = 0, nt;
    if (n > 0 && strcmp(role_of(&msgs[0]), "system") == 0) {
        sys = trimmed(&msgs[0], &ns);
        start = 1;
    }
    for (int i = start; i < n; i++) {
        const char *r = role_of(&msgs[i]);
        bool model = strcmp(r, "assistant") == 0 || strcmp(r, "model") == 0;
        put(o, "<start_of_turn>%s\n", model ? "model" : "user");
        if (sys && i == start) put(o, "%.*s\n\n", ns, sys);
        const char *t = trimmed(&msgs[i], &nt);
        put(o, "%.*s<end_of_turn>\n", nt, t);
    }
    if (gen) put(o, "<start_of_turn>model\n");
}

/* ChatML. SmolLM2's template adds a default system prompt when the first
 * message is not a system one; that text comes from the file's own template,
 * so it is not added here (callers pass their own system message). */
static void fmt_chatml(out *o, const zf_chat_msg *msgs, int n, bool gen) {
    for (int i = 0; i < n; i++) put(o, "<|im_start|>%s\n%s<|im_end|>\n", role_of(&msgs[i]), text_of(&msgs[i]));
    if (gen) put(o, "<|im_start|>assistant\n");
}

static void fmt_llama3(out *o, const zf_chat_msg *msgs, int n, bool gen) {
    for (int i = 0; i < n; i++) { /* trimmed, as llama.cpp's template */
        int nt;
        const char *t = trimmed(&msgs[i], &nt);
        put(o, "<|start_header_id|>%s<|end_header_id|>\n\n%.*s<|eot_id|>", role_of(&msgs[i]), nt, t);
    }
    if (gen) put(o, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

static void fmt_phi3(out *o, const zf_chat_msg *msgs, int n, bool gen) {
    for (int i = 0; i < n; i++) put(o, "<|%s|>\n%s<|end|>\n", role_of(&msgs[i]), text_of(&msgs[i]));
    if (gen) put(o, "<|assistant|>\n");
}

/* Mistral v0.x: the system message joins the first user message. */
static void fmt_mistral(out *o, const zf_chat_msg *msgs, int n, bool gen) {
    (void)gen; /* the assistant turn follows [/INST] directly */
    const char *sys = NULL;
    int start = 0;
    if (n > 0 && strcmp(role_of(&msgs[0]), "system") == 0) {
        sys = text_of(&msgs[0]);
        start = 1;
    }
    for (int i = start; i < n; i++) {
        if (strcmp(role_of(&msgs[i]), "assistant") == 0) {
            put(o, "%s</s>", text_of(&msgs[i]));
        } else if (sys && i == start) {
            put(o, "[INST] %s\n\n%s [/INST]", sys, text_of(&msgs[i]));
        } else {
            put(o, "[INST] %s [/INST]", text_of(&msgs[i]));
        }
    }
}

static void fmt_none(out *o, const zf_chat_msg *msgs, int n, bool gen) {
    for (int i = 0; i < n; i++) put(o, "%s: %s\n", role_of(&msgs[i]), text_of(&msgs[i]));
    if (gen) put(o, "assistant:");
}

size_t zf_chat_format(zf_chat_template t, const zf_chat_msg *msgs, int n_msgs, bool add_assistant, char *buf,
                      size_t cap) {
    out o = {.buf = buf, .cap = cap, .len = 0};
    if (cap > 0) buf[0] = '\0';
    if (n_msgs < 0 || (!msgs && n_msgs > 0)) return 0;
    switch (t) {
    case ZF_CHAT_GEMMA: fmt_gemma(&o, msgs, n_msgs, add_assistant); break;
    case ZF_CHAT_CHATML: fmt_chatml(&o, msgs, n_msgs, add_assistant); break;
    case ZF_CHAT_LLAMA3: fmt_llama3(&o, msgs, n_msgs, add_assistant); break;
    case ZF_CHAT_PHI3: fmt_phi3(&o, msgs, n_msgs, add_assistant); break;
    case ZF_CHAT_MISTRAL: fmt_mistral(&o, msgs, n_msgs, add_assistant); break;
    case ZF_CHAT_NONE: fmt_none(&o, msgs, n_msgs, add_assistant); break;
    }
    return o.len;
}
