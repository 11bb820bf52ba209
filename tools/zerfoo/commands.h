/* zerfoo CLI subcommands. Each gets argv starting at its own name and
 * returns the process exit status (0 ok, 1 failure, 2 usage error). */
#ifndef ZF_TOOLS_COMMANDS_H
#define ZF_TOOLS_COMMANDS_H

typedef struct {
    const char *name;
    const char *help;
    int (*run)(int argc, char **argv);
} zf_command;

int zf_cmd_demo(int argc, char **argv);
int zf_cmd_ops(int argc, char **argv);
int zf_cmd_tokenize(int argc, char **argv);
int zf_cmd_version(int argc, char **argv);
int zf_cmd_train(int argc, char **argv);
int zf_cmd_eval(int argc, char **argv);
int zf_cmd_run(int argc, char **argv);
int zf_cmd_chat(int argc, char **argv);
int zf_cmd_info(int argc, char **argv);
int zf_cmd_perplexity(int argc, char **argv);

/* Parses a whole decimal integer / number; false on junk or overflow. */
#include <stdbool.h>
#include <stdint.h>
bool zf_parse_i64(const char *s, int64_t *out);
bool zf_parse_f64(const char *s, double *out);


/* Model arguments (model_cache.c): a .gguf path, or a short name looked up
 * in the model cache and installed from PyPI when missing. Writes the file
 * path to `path`; false (message on stderr) on failure. */
#include <stddef.h>
#include <stdio.h>
bool zf_resolve_model(const char *arg, char *path, size_t n);
/* The cache folder: $ZF_MODEL_DIR or ~/.cache/zerfoo/models. */
bool zf_model_dir(char *out, size_t n);
/* "  name  description" lines for the known short names. */
void zf_models_list(FILE *f);

#endif
