/* zerfoo command-line tool: dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "tools/zerfoo/commands.h"
#include "zerfoo/zerfoo.h"

static const zf_command k_commands[] = {
    {"run", "generate text with an LLM from a GGUF file (one completion)", zf_cmd_run},
    {"chat", "chat with an LLM interactively (lines from stdin)", zf_cmd_chat},
    {"info", "print a GGUF file's metadata and tensors", zf_cmd_info},
    {"perplexity", "perplexity of a text file under an LLM", zf_cmd_perplexity},
    {"demo", "train a small MLP on sin(x) with autograd", zf_cmd_demo},
    {"train", "train mlp or lenet5 on Fashion-MNIST: checkpoints, resume, EMA weights, JSONL log", zf_cmd_train},
    {"eval", "evaluate a training checkpoint (its EMA or last weights) on Fashion-MNIST", zf_cmd_eval},
    {"ops", "list the op table: kernels per engine and backward rules", zf_cmd_ops},
    {"tokenize", "print the token ids of a text under a GGUF model's tokenizer", zf_cmd_tokenize},
    {"version", "print the version", zf_cmd_version},
};

static void usage(FILE *f) {
    fprintf(f,
            "zerfoo %s — a machine-learning framework in C\n\n"
            "usage: zerfoo COMMAND [ARGS]\n\ncommands:\n",
            ZERFOO_VERSION);
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        fprintf(f, "  %-10s %s\n", k_commands[i].name, k_commands[i].help);
    fprintf(f,
            "\nenvironment:\n  ZF_NUM_THREADS  threads of the CPU engine (default: online CPUs)\n"
            "\nRun 'zerfoo COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) return zf_cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        if (strcmp(argv[1], k_commands[i].name) == 0) return k_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "zerfoo: unknown command '%s' (see zerfoo --help)\n", argv[1]);
    return 2;
}
