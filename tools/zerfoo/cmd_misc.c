/* zerfoo version / ops, and argument parsing helpers. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/zerfoo/commands.h"
#include "zerfoo/zerfoo.h"

bool zf_parse_i64(const char *s, int64_t *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

bool zf_parse_f64(const char *s, double *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v)) return false;
    *out = v;
    return true;
}

int zf_cmd_version(int argc, char **argv) {
    (void)argc, (void)argv;
    printf("zerfoo %s\n", ZERFOO_VERSION);
    return 0;
}

int zf_cmd_ops(int argc, char **argv) {
    if (argc > 1) {
        if (strcmp(argv[1], "--help") == 0) {
            printf("usage: zerfoo ops\n\nLists every op with its kernels on the cpu and blas engines and whether it "
                   "has a backward rule.\n");
            return 0;
        }
        fprintf(stderr, "zerfoo ops: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    zf_engine *cpu = zf_cpu_engine();
    zf_engine *blas = zf_blas_engine_new(1);
    if (!cpu) {
        fprintf(stderr, "zerfoo: %s\n", zf_last_error());
        return 1;
    }
    printf("%-14s %-6s %-6s %-8s\n", "op", "cpu", "blas", "backward");
    for (int op = 0; op < ZF_OP_COUNT; op++) {
        bool kernel = zf_op_needs_kernel((zf_op)op);
        printf("%-14s %-6s %-6s %-8s\n", zf_op_name((zf_op)op), !kernel ? "view" : cpu->kernels[op] ? "yes" : "NO",
               !blas ? "-" : !kernel ? "view" : blas->kernels[op] ? "yes" : "NO",
               zf_op_has_backward((zf_op)op) ? "yes" : "-");
    }
    if (blas) zf_engine_free(blas);
    return 0;
}
