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

/* Parses a whole decimal integer / number; false on junk or overflow. */
#include <stdbool.h>
#include <stdint.h>
bool zf_parse_i64(const char *s, int64_t *out);
bool zf_parse_f64(const char *s, double *out);

#endif
