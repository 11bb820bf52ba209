/* zerfoo run / chat: one completion, or an interactive conversation, with
 * a GGUF model. stdout carries only the generated text; model information,
 * speeds and errors go to stderr. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/zerfoo/commands.h"
#include "zerfoo/llm.h"

#define MAX_STOP 8

typedef struct llm_opts {
    const char *model;
    const char *prompt;
    const char *system;
    int64_t n_predict, n_ctx, threads;
    bool raw, verbose, ignore_eos;
    zf_dtype kv_type;
    zf_sampler_params sp;
    const char *stop[MAX_STOP];
    int n_stop;
} llm_opts;

static void usage(FILE *f, bool chat) {
    if (chat)
        fprintf(f, "usage: zerfoo chat MODEL [options]\n\n"
                   "Talks with MODEL: each line read from stdin is a user message, the reply streams to\n"
                   "stdout. Lines '/reset' (forget the conversation) and '/quit' are commands.\n");
    else
        fprintf(f, "usage: zerfoo run MODEL [PROMPT] [options]\n\n"
                   "Generates a reply to PROMPT (read from stdin when absent) and writes only the\n"
                   "generated text to stdout. The prompt is wrapped in the model's chat template\n"
                   "unless --raw is given.\n");
    fprintf(f, "\nMODEL is a .gguf path or a short name, installed into the model cache on first use:\n");
    zf_models_list(f);
    fprintf(f, "\noptions:\n"
               "  -n, --n-predict N       tokens to generate at most (default 256; 0: until the end of turn)\n"
               "  --temp T                temperature (default 0.8; 0 = greedy)\n"
               "  --top-k K               keep the K most likely tokens (default 40; 0 = off)\n"
               "  --top-p P               nucleus sampling (default 0.95; 1 = off)\n"
               "  --min-p P               drop tokens below P times the best (default 0.05; 0 = off)\n"
               "  --repeat-penalty R      penalize repeated tokens (default 1 = off)\n"
               "  --repeat-last-n N       tokens the penalties look back on (default 64)\n"
               "  --presence-penalty P    (default 0)\n"
               "  --frequency-penalty P   (default 0)\n"
               "  --seed S                random seed (default 0)\n"
               "  --stop STR              stop when STR is generated (repeatable)\n"
               "  --system STR            system message\n"
               "  --raw                   no chat template: PROMPT is continued as is\n"
               "  -c, --ctx-size N        context length in tokens (default min(model's, 4096))\n"
               "  --kv-type f16|f32       KV cache element type (default f16)\n"
               "  -t, --threads N         CPU threads (default ZF_NUM_THREADS or all CPUs)\n"
               "  --ignore-eos            keep generating past end-of-turn tokens (benchmarks)\n"
               "  -v, --verbose           model details and memory use on stderr\n"
               "\nenvironment: ZF_MODEL_DIR (model cache), PYTHON (pip for installs)\n");
}

static bool parse_f(const char *s, float *out) {
    double v;
    if (!zf_parse_f64(s, &v)) return false;
    *out = (float)v;
    return true;
}

/* 0 ok, 2 usage error, -1 help printed. */
static int parse_opts(int argc, char **argv, bool chat, llm_opts *o) {
    memset(o, 0, sizeof *o);
    o->n_predict = 256;
    o->kv_type = ZF_F16;
    o->sp = zf_sampler_defaults();
    const char *cmd = chat ? "chat" : "run";
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true, takes = true;
        int64_t iv;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout, chat);
            return -1;
        } else if (strcmp(a, "-n") == 0 || strcmp(a, "--n-predict") == 0) {
            ok = zf_parse_i64(v, &o->n_predict) && o->n_predict >= 0;
        } else if (strcmp(a, "--temp") == 0) {
            ok = parse_f(v, &o->sp.temperature) && o->sp.temperature >= 0;
        } else if (strcmp(a, "--top-k") == 0) {
            ok = zf_parse_i64(v, &iv) && iv >= 0 && iv <= INT32_MAX;
            o->sp.top_k = (int32_t)iv;
        } else if (strcmp(a, "--top-p") == 0) {
            ok = parse_f(v, &o->sp.top_p) && o->sp.top_p > 0 && o->sp.top_p <= 1;
        } else if (strcmp(a, "--min-p") == 0) {
            ok = parse_f(v, &o->sp.min_p) && o->sp.min_p >= 0 && o->sp.min_p <= 1;
        } else if (strcmp(a, "--repeat-penalty") == 0) {
            ok = parse_f(v, &o->sp.repeat_penalty) && o->sp.repeat_penalty > 0;
        } else if (strcmp(a, "--repeat-last-n") == 0) {
            ok = zf_parse_i64(v, &iv) && iv >= -1 && iv <= INT32_MAX;
            o->sp.penalty_last_n = (int32_t)iv;
        } else if (strcmp(a, "--presence-penalty") == 0) {
            ok = parse_f(v, &o->sp.presence_penalty);
        } else if (strcmp(a, "--frequency-penalty") == 0) {
            ok = parse_f(v, &o->sp.frequency_penalty);
        } else if (strcmp(a, "--seed") == 0) {
            ok = zf_parse_i64(v, &iv);
            o->sp.seed = (uint64_t)iv;
        } else if (strcmp(a, "--stop") == 0) {
            ok = v && o->n_stop < MAX_STOP && *v;
            if (ok) o->stop[o->n_stop++] = v;
        } else if (strcmp(a, "--system") == 0) {
            ok = v != NULL;
            o->system = v;
        } else if (strcmp(a, "-c") == 0 || strcmp(a, "--ctx-size") == 0) {
            ok = zf_parse_i64(v, &o->n_ctx) && o->n_ctx >= 1;
        } else if (strcmp(a, "--kv-type") == 0) {
            ok = v && (strcmp(v, "f16") == 0 || strcmp(v, "f32") == 0);
            if (ok) o->kv_type = strcmp(v, "f16") == 0 ? ZF_F16 : ZF_F32;
        } else if (strcmp(a, "-t") == 0 || strcmp(a, "--threads") == 0) {
            ok = zf_parse_i64(v, &o->threads) && o->threads >= 1 && o->threads <= 1024;
        } else if (strcmp(a, "--raw") == 0) {
            takes = false;
            o->raw = true;
        } else if (strcmp(a, "--ignore-eos") == 0) {
            takes = false;
            o->ignore_eos = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            takes = false;
            o->verbose = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "zerfoo %s: unknown option '%s' (see --help)\n", cmd, a);
            return 2;
        } else {
            takes = false;
            if (npos == 0) o->model = a;
            else if (npos == 1 && !chat) o->prompt = a;
            else {
                fprintf(stderr, "zerfoo %s: unexpected argument '%s'\n", cmd, a);
                return 2;
            }
            npos++;
        }
        if (takes && (!v || !ok)) {
            fprintf(stderr, "zerfoo %s: bad or missing value for %s\n", cmd, a);
            return 2;
        }
        if (takes) i++;
    }
    if (!o->model) {
        usage(stderr, chat);
        return 2;
    }
    return 0;
}

/* Resident set size of this process in MiB (Linux /proc), -1 when unknown. */
static double rss_mib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    double kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = strtod(line + 6, NULL);
    fclose(f);
    return kb < 0 ? -1 : kb / 1024.0;
}

/* Loads the model and opens a session; prints a one-line summary. */
static bool open_model(const llm_opts *o, zf_llm_model **m, zf_llm_session **s) {
    char path[4096];
    if (!zf_resolve_model(o->model, path, sizeof path)) return false;
    zf_llm_load_params lp = {.n_threads = (int)o->threads};
    *m = zf_llm_load(path, &lp);
    if (!*m) {
        fprintf(stderr, "zerfoo: %s\n", zf_last_error());
        return false;
    }
    zf_llm_session_params sp = zf_llm_session_defaults();
    sp.n_ctx = o->n_ctx;
    sp.kv_type = o->kv_type;
    *s = zf_llm_session_new(*m, &sp);
    if (!*s) {
        fprintf(stderr, "zerfoo: %s\n", zf_last_error());
        zf_llm_free(*m);
        return false;
    }
    const zf_llm_hparams *hp = zf_llm_hparams_of(*m);
    if (o->verbose) {
        fprintf(stderr,
                "zerfoo: %s (%s): %lld layers, d_model %lld, %lld heads (%lld kv), vocab %lld, template %s\n"
                "zerfoo: file %.1f MiB, KV cache %.1f MiB (%s, %lld tokens), dequantized weights %.1f MiB\n",
                hp->name[0] ? hp->name : path, hp->arch, (long long)hp->n_layer, (long long)hp->n_embd,
                (long long)hp->n_head, (long long)hp->n_head_kv, (long long)hp->n_vocab,
                zf_chat_template_name(zf_chat_template_detect(*m)), zf_llm_file_bytes(*m) / 1048576.0,
                zf_llm_session_kv_bytes(*s) / 1048576.0, zf_dtype_name(o->kv_type),
                (long long)zf_llm_session_n_ctx(*s), zf_llm_extra_weight_bytes(*m) / 1048576.0);
        fprintf(stderr, "zerfoo: resident memory after load %.1f MiB (mapped weights count once touched)\n",
                rss_mib());
    }
    return true;
}

static int print_piece(void *user, const char *text, size_t len) {
    (void)user;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return 0;
}

static void print_speed(const zf_llm_gen_stats *st) {
    fprintf(stderr, "\nzerfoo: prompt %lld tokens in %.2f s (%.1f tok/s), generated %lld tokens in %.2f s (%.1f tok/s)\n",
            (long long)st->n_prompt, st->prompt_s, st->prompt_s > 0 ? st->n_prompt / st->prompt_s : 0.0,
            (long long)st->n_gen, st->gen_s, st->gen_s > 0 ? st->n_gen / st->gen_s : 0.0);
}

static zf_llm_gen_params gen_params(const llm_opts *o) {
    zf_llm_gen_params gp = zf_llm_gen_defaults();
    gp.max_tokens = o->n_predict;
    gp.sampling = o->sp;
    gp.stop = o->stop;
    gp.n_stop = o->n_stop;
    gp.on_text = print_piece;
    gp.ignore_eog = o->ignore_eos;
    return gp;
}

/* Reads all of stdin (NUL-terminated, malloc'd). */
static char *read_stdin(void) {
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                return NULL;
            }
            buf = b;
            cap *= 2;
        }
    }
    if (buf) buf[len] = '\0';
    return buf;
}

int zf_cmd_run(int argc, char **argv) {
    llm_opts o;
    int rc = parse_opts(argc, argv, false, &o);
    if (rc) return rc < 0 ? 0 : rc;
    char *owned = NULL;
    if (!o.prompt) {
        owned = read_stdin();
        if (!owned) {
            fprintf(stderr, "zerfoo run: cannot read the prompt from stdin\n");
            return 1;
        }
        o.prompt = owned;
    }
    zf_llm_model *m;
    zf_llm_session *s;
    if (!open_model(&o, &m, &s)) {
        free(owned);
        return 1;
    }
    zf_llm_gen_params gp = gen_params(&o);
    zf_llm_gen_stats st;
    zf_status status;
    if (o.raw) {
        status = zf_llm_generate(s, o.prompt, &gp, &st);
    } else {
        zf_chat_msg msgs[2];
        int n = 0;
        if (o.system) msgs[n++] = (zf_chat_msg){"system", o.system};
        msgs[n++] = (zf_chat_msg){"user", o.prompt};
        status = zf_llm_chat(s, msgs, n, &gp, NULL, &st);
    }
    if (status == ZF_OK) {
        printf("\n");
        print_speed(&st);
        if (o.verbose) fprintf(stderr, "zerfoo: resident memory after generation %.1f MiB\n", rss_mib());
    } else {
        fprintf(stderr, "zerfoo run: %s\n", zf_last_error());
    }
    zf_llm_session_free(s);
    zf_llm_free(m);
    free(owned);
    return status == ZF_OK ? 0 : 1;
}

/* ---- chat ---- */

typedef struct history {
    zf_chat_msg *msgs;
    char **owned;
    int n, cap;
} history;

static bool history_add(history *h, const char *role, char *text) {
    if (h->n == h->cap) {
        int cap = h->cap ? h->cap * 2 : 16;
        zf_chat_msg *m = realloc(h->msgs, (size_t)cap * sizeof *m);
        if (!m) return false;
        h->msgs = m;
        char **o = realloc(h->owned, (size_t)cap * sizeof *o);
        if (!o) return false;
        h->owned = o;
        h->cap = cap;
    }
    h->msgs[h->n] = (zf_chat_msg){role, text};
    h->owned[h->n++] = text;
    return true;
}

static void history_clear(history *h, int keep) {
    for (int i = keep; i < h->n; i++) free(h->owned[i]);
    h->n = keep;
}

int zf_cmd_chat(int argc, char **argv) {
    llm_opts o;
    int rc = parse_opts(argc, argv, true, &o);
    if (rc) return rc < 0 ? 0 : rc;
    if (o.n_predict == 256) o.n_predict = 512;
    zf_llm_model *m;
    zf_llm_session *s;
    if (!open_model(&o, &m, &s)) return 1;
    bool tty = isatty(0);
    history h = {0};
    int keep = 0;
    if (o.system) {
        char *sys = strdup(o.system);
        if (!sys || !history_add(&h, "system", sys)) {
            free(sys);
            fprintf(stderr, "zerfoo chat: out of memory\n");
            return 1;
        }
        keep = 1;
    }
    if (tty)
        fprintf(stderr, "zerfoo chat: %s — type a message, /reset to start over, /quit or Ctrl-D to leave\n",
                zf_llm_hparams_of(m)->name);
    zf_llm_gen_params gp = gen_params(&o);
    char line[8192];
    int status = 0, turn = 0;
    zf_llm_gen_stats total = {0};
    for (;;) {
        if (tty) fprintf(stderr, "\n> ");
        if (!fgets(line, sizeof line, stdin)) break;
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len == 0) continue;
        if (strcmp(line, "/quit") == 0 || strcmp(line, "/exit") == 0) break;
        if (strcmp(line, "/reset") == 0) {
            history_clear(&h, keep);
            zf_llm_session_reset(s);
            continue;
        }
        char *msg = strdup(line);
        if (!msg || !history_add(&h, "user", msg)) {
            free(msg);
            status = 1;
            break;
        }
        if (!tty) printf("> %s\n", line);
        char *reply = NULL;
        zf_llm_gen_stats st;
        gp.sampling.seed = o.sp.seed + (uint64_t)turn++; /* a fresh random stream per reply */
        if (zf_llm_chat(s, h.msgs, h.n, &gp, &reply, &st) != ZF_OK) {
            fprintf(stderr, "zerfoo chat: %s\n", zf_last_error());
            if (zf_last_status() == ZF_ERR_INVALID_ARG) { /* context full: start over */
                fprintf(stderr, "zerfoo chat: starting a new conversation\n");
                history_clear(&h, keep);
                zf_llm_session_reset(s);
                continue;
            }
            status = 1;
            break;
        }
        printf("\n");
        fflush(stdout);
        total.n_prompt += st.n_prompt;
        total.prompt_s += st.prompt_s;
        total.n_gen += st.n_gen;
        total.gen_s += st.gen_s;
        if (tty || o.verbose) print_speed(&st);
        if (!history_add(&h, "assistant", reply)) {
            free(reply);
            status = 1;
            break;
        }
    }
    if (total.n_gen > 0) print_speed(&total);
    history_clear(&h, 0);
    free(h.msgs);
    free(h.owned);
    zf_llm_session_free(s);
    zf_llm_free(m);
    return status;
}
