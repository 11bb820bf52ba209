/* Driver for the LLM parity tests (test_llm_parity.py): loads a model once
 * and answers requests read from stdin, one per line, so that many prompts
 * cost one load.
 *
 *   llm_tool gen MODEL N [CTX]     each line: prompt token ids -> a line with N greedy ids
 *                                   (end-of-generation tokens do not stop it)
 *   llm_tool logits MODEL [CTX] [SPLIT]
 *                                  each line: token ids -> a line with every logit of
 *                                  the last position (%.7g); the last SPLIT tokens
 *                                  are decoded one at a time after a batched prefill
 *   llm_tool tokenize MODEL        each line: text (\n written as \\n) -> its ids with BOS
 *
 * Options after the mode: ZF_LLM_F32=1 in the environment loads f32 weights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zerfoo/llm.h"

#define MAX_TOK 8192

static int parse_ids(char *line, int32_t *ids) {
    int n = 0;
    for (char *tok = strtok(line, " \t\r\n"); tok && n < MAX_TOK; tok = strtok(NULL, " \t\r\n"))
        ids[n++] = (int32_t)strtol(tok, NULL, 10);
    return n;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: llm_tool gen|logits|tokenize MODEL [N] [CTX]\n");
        return 2;
    }
    const char *mode = argv[1];
    int64_t n_gen = argc > 3 ? strtoll(argv[3], NULL, 10) : 32;
    int64_t n_ctx = strcmp(mode, "gen") == 0 ? (argc > 4 ? strtoll(argv[4], NULL, 10) : 1024)
                                              : (argc > 3 ? strtoll(argv[3], NULL, 10) : 1024);
    const char *f32 = getenv("ZF_LLM_F32");
    zf_llm_load_params lp = {.n_threads = 0, .f32_weights = f32 && *f32 == '1'};
    zf_llm_model *m = zf_llm_load(argv[2], &lp);
    if (!m) {
        fprintf(stderr, "llm_tool: %s\n", zf_last_error());
        return 1;
    }
    zf_llm_session_params sp = zf_llm_session_defaults();
    sp.n_ctx = n_ctx;
    zf_llm_session *s = zf_llm_session_new(m, &sp);
    if (!s) {
        fprintf(stderr, "llm_tool: %s\n", zf_last_error());
        return 1;
    }
    static char line[1 << 20];
    static int32_t ids[MAX_TOK], out[MAX_TOK];
    int64_t V = zf_llm_hparams_of(m)->n_vocab;
    int rc = 0;
    while (fgets(line, sizeof line, stdin)) {
        if (strcmp(mode, "tokenize") == 0) {
            size_t len = strlen(line);
            if (len && line[len - 1] == '\n') line[--len] = '\0';
            /* unescape \n and \\ */
            size_t w = 0;
            for (size_t r = 0; r < len; r++) {
                if (line[r] == '\\' && r + 1 < len && (line[r + 1] == 'n' || line[r + 1] == '\\')) {
                    line[w++] = line[r + 1] == 'n' ? '\n' : '\\';
                    r++;
                } else {
                    line[w++] = line[r];
                }
            }
            int64_t n = zf_llm_tokenize(m, line, w, true, ids, MAX_TOK);
            for (int64_t i = 0; i < n && i < MAX_TOK; i++) printf("%s%d", i ? " " : "", ids[i]);
            printf("\n");
            fflush(stdout);
            continue;
        }
        int n = parse_ids(line, ids);
        if (n == 0) {
            printf("\n");
            continue;
        }
        zf_llm_session_reset(s);
        if (strcmp(mode, "gen") == 0) {
            zf_llm_gen_params gp = zf_llm_gen_defaults();
            gp.max_tokens = n_gen;
            gp.sampling.temperature = 0;
            gp.ignore_eog = true;
            zf_llm_gen_stats st;
            if (zf_llm_generate_tokens(s, ids, n, &gp, out, MAX_TOK, &st) != ZF_OK) {
                fprintf(stderr, "llm_tool: %s\n", zf_last_error());
                rc = 1;
                break;
            }
            for (int64_t i = 0; i < st.n_gen; i++) printf("%s%d", i ? " " : "", out[i]);
            printf("\n");
        } else {
            const float *lg;
            int split = argc > 4 ? atoi(argv[4]) : 0;
            if (split < 0 || split >= n) split = 0;
            zf_status st = zf_llm_eval(s, ids, n - split, false, &lg);
            for (int i = n - split; st == ZF_OK && i < n; i++) st = zf_llm_eval(s, ids + i, 1, false, &lg);
            if (st != ZF_OK) {
                fprintf(stderr, "llm_tool: %s\n", zf_last_error());
                rc = 1;
                break;
            }
            for (int64_t v = 0; v < V; v++) printf("%s%.7g", v ? " " : "", lg[v]);
            printf("\n");
        }
        fflush(stdout);
    }
    zf_llm_session_free(s);
    zf_llm_free(m);
    return rc;
}
