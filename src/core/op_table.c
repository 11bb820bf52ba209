/* Op names, arities and kinds from the X-macro list in op_table.h. */
#include <stdbool.h>
#include <string.h>

#include "zerfoo/op_table.h"

typedef struct {
    const char *name;
    int arity;
    char kind;
} op_info;

static const op_info k_ops[ZF_OP_COUNT] = {
#define ZF_OP_INFO(e, nm, n, k) [ZF_OP_##e] = {nm, n, (#k)[0]},
    ZF_OP_LIST(ZF_OP_INFO)
#undef ZF_OP_INFO
};

const char *zf_op_name(zf_op op) { return (unsigned)op < ZF_OP_COUNT ? k_ops[op].name : "invalid"; }
int zf_op_arity(zf_op op) { return (unsigned)op < ZF_OP_COUNT ? k_ops[op].arity : 0; }
bool zf_op_needs_kernel(zf_op op) { return (unsigned)op < ZF_OP_COUNT && k_ops[op].kind == 'K'; }

zf_op zf_op_from_name(const char *name) {
    if (!name) return ZF_OP_COUNT;
    for (int i = 0; i < ZF_OP_COUNT; i++)
        if (strcmp(k_ops[i].name, name) == 0) return (zf_op)i;
    return ZF_OP_COUNT;
}
