/* dtype traits table; see include/zerfoo/dtype.h. Block sizes of the GGUF
 * formats follow ggml's type traits (QK4_0 = 32, QK_K = 256). */
#include "zerfoo/dtype.h"

#include <string.h>

typedef struct {
    const char *name;
    size_t size;   /* bytes per block */
    int64_t block; /* elements per block */
    unsigned char is_float, is_int, is_quant;
} dtype_traits;

static const dtype_traits k_traits[ZF_DTYPE_COUNT] = {
    [ZF_F64] = {"f64", 8, 1, 1, 0, 0},
    [ZF_F32] = {"f32", 4, 1, 1, 0, 0},
    [ZF_F16] = {"f16", 2, 1, 1, 0, 0},
    [ZF_BF16] = {"bf16", 2, 1, 1, 0, 0},
    [ZF_F8_E4M3] = {"f8_e4m3", 1, 1, 1, 0, 0},
    [ZF_F8_E5M2] = {"f8_e5m2", 1, 1, 1, 0, 0},
    [ZF_I64] = {"i64", 8, 1, 0, 1, 0},
    [ZF_I32] = {"i32", 4, 1, 0, 1, 0},
    [ZF_I16] = {"i16", 2, 1, 0, 1, 0},
    [ZF_I8] = {"i8", 1, 1, 0, 1, 0},
    [ZF_U8] = {"u8", 1, 1, 0, 1, 0},
    [ZF_BOOL] = {"bool", 1, 1, 0, 0, 0},
    [ZF_Q4_0] = {"q4_0", 18, 32, 0, 0, 1},
    [ZF_Q4_1] = {"q4_1", 20, 32, 0, 0, 1},
    [ZF_Q5_0] = {"q5_0", 22, 32, 0, 0, 1},
    [ZF_Q5_1] = {"q5_1", 24, 32, 0, 0, 1},
    [ZF_Q8_0] = {"q8_0", 34, 32, 0, 0, 1},
    [ZF_Q2_K] = {"q2_k", 84, 256, 0, 0, 1},
    [ZF_Q3_K] = {"q3_k", 110, 256, 0, 0, 1},
    [ZF_Q4_K] = {"q4_k", 144, 256, 0, 0, 1},
    [ZF_Q5_K] = {"q5_k", 176, 256, 0, 0, 1},
    [ZF_Q6_K] = {"q6_k", 210, 256, 0, 0, 1},
};

bool zf_dtype_valid(zf_dtype t) { return (unsigned)t < ZF_DTYPE_COUNT; }
const char *zf_dtype_name(zf_dtype t) { return zf_dtype_valid(t) ? k_traits[t].name : "invalid"; }
size_t zf_dtype_size(zf_dtype t) { return zf_dtype_valid(t) ? k_traits[t].size : 0; }
int64_t zf_dtype_block(zf_dtype t) { return zf_dtype_valid(t) ? k_traits[t].block : 0; }
bool zf_dtype_is_float(zf_dtype t) { return zf_dtype_valid(t) && k_traits[t].is_float; }
bool zf_dtype_is_int(zf_dtype t) { return zf_dtype_valid(t) && k_traits[t].is_int; }
bool zf_dtype_is_quant(zf_dtype t) { return zf_dtype_valid(t) && k_traits[t].is_quant; }

zf_dtype zf_dtype_from_name(const char *name) {
    if (!name) return ZF_DTYPE_COUNT;
    for (int t = 0; t < ZF_DTYPE_COUNT; t++)
        if (strcmp(name, k_traits[t].name) == 0) return (zf_dtype)t;
    return ZF_DTYPE_COUNT;
}
