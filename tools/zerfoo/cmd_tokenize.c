/* zerfoo tokenize MODEL TEXT: the token ids of TEXT, on one line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/zerfoo/commands.h"
#include "zerfoo/tokenizer.h"

static void tokenize_usage(FILE *f) {
    fprintf(f,
            "usage: zerfoo tokenize [OPTIONS] MODEL TEXT\n\n"
            "Prints the token ids of TEXT under MODEL's tokenizer (a GGUF file) on one line,\n"
            "separated by spaces, with BOS/EOS added as the model asks. Special-token text\n"
            "such as <start_of_turn> or <|im_start|> becomes that token.\n\n"
            "options:\n"
            "  --no-special        do not add BOS/EOS\n"
            "  --no-parse-special  treat control-token text as plain text\n"
            "  --pieces            print id:piece pairs instead of bare ids\n"
            "  TEXT '-'            read the text from standard input\n");
}

static char *read_stdin(size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        if (n == cap) {
            char *b = realloc(buf, cap *= 2);
            if (!b) {
                free(buf);
                return NULL;
            }
            buf = b;
        }
        size_t k = fread(buf + n, 1, cap - n, stdin);
        if (k == 0) break;
        n += k;
    }
    *len = n;
    return buf;
}

int zf_cmd_tokenize(int argc, char **argv) {
    unsigned flags = ZF_TOK_ADD_SPECIAL | ZF_TOK_PARSE_SPECIAL;
    bool pieces = false;
    const char *pos[2];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            tokenize_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--no-special") == 0) {
            flags &= ~(unsigned)ZF_TOK_ADD_SPECIAL;
        } else if (strcmp(argv[i], "--no-parse-special") == 0) {
            flags &= ~(unsigned)ZF_TOK_PARSE_SPECIAL;
        } else if (strcmp(argv[i], "--pieces") == 0) {
            pieces = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "zerfoo tokenize: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (npos < 2) {
            pos[npos++] = argv[i];
        } else {
            fprintf(stderr, "zerfoo tokenize: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (npos != 2) {
        tokenize_usage(stderr);
        return 2;
    }
    zf_tokenizer *tok = zf_tokenizer_load(pos[0]);
    if (!tok) {
        fprintf(stderr, "zerfoo tokenize: %s: %s\n", pos[0], zf_last_error());
        return 1;
    }
    size_t len;
    char *owned = NULL;
    const char *text = pos[1];
    if (strcmp(text, "-") == 0) {
        text = owned = read_stdin(&len);
        if (!owned) {
            fprintf(stderr, "zerfoo tokenize: cannot read standard input\n");
            zf_tokenizer_free(tok);
            return 1;
        }
    } else {
        len = strlen(text);
    }
    zf_tokens ids = {0};
    int rc = 0;
    if (zf_tokenizer_encode(tok, text, len, flags, &ids) != ZF_OK) {
        fprintf(stderr, "zerfoo tokenize: %s\n", zf_last_error());
        rc = 1;
    } else {
        for (int64_t i = 0; i < ids.n; i++) {
            if (i) putchar(' ');
            printf("%d", (int)ids.ids[i]);
            if (pieces) {
                size_t n;
                const char *p = zf_tokenizer_piece(tok, ids.ids[i], true, &n);
                printf(":'%.*s'", (int)n, p);
            }
        }
        putchar('\n');
    }
    zf_tokens_free(&ids);
    free(owned);
    zf_tokenizer_free(tok);
    return rc;
}
