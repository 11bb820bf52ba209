/* Type tables for GGUF: metadata value types (GGUF spec) and ggml tensor
 * types. Block sizes and bytes per block follow ggml's type traits
 * (ggml.c type_traits; the same numbers as gguf-py's GGML_QUANT_SIZES).
 * Values absent here (4, 5, 31-33, 36-38) were removed from ggml and are
 * treated as unknown. */
#include "formats/gguf_internal.h"

typedef struct {
    const char *name; /* NULL: unknown */
    int64_t block;    /* elements per block */
    size_t size;      /* bytes per block */
    zf_dtype dtype;   /* ZF_DTYPE_COUNT: no zerfoo dtype */
} ggml_traits;

#define NODT ZF_DTYPE_COUNT
static const ggml_traits k_ggml[ZF_GGML_TYPE_COUNT] = {
    [0] = {"f32", 1, 4, ZF_F32},
    [1] = {"f16", 1, 2, ZF_F16},
    [2] = {"q4_0", 32, 18, ZF_Q4_0},
    [3] = {"q4_1", 32, 20, ZF_Q4_1},
    [6] = {"q5_0", 32, 22, ZF_Q5_0},
    [7] = {"q5_1", 32, 24, ZF_Q5_1},
    [8] = {"q8_0", 32, 34, ZF_Q8_0},
    [9] = {"q8_1", 32, 36, NODT},
    [10] = {"q2_K", 256, 84, ZF_Q2_K},
    [11] = {"q3_K", 256, 110, ZF_Q3_K},
    [12] = {"q4_K", 256, 144, ZF_Q4_K},
    [13] = {"q5_K", 256, 176, ZF_Q5_K},
    [14] = {"q6_K", 256, 210, ZF_Q6_K},
    [15] = {"q8_K", 256, 292, NODT},
    [16] = {"iq2_xxs", 256, 66, NODT},
    [17] = {"iq2_xs", 256, 74, NODT},
    [18] = {"iq3_xxs", 256, 98, NODT},
    [19] = {"iq1_s", 256, 50, NODT},
    [20] = {"iq4_nl", 32, 18, NODT},
    [21] = {"iq3_s", 256, 110, NODT},
    [22] = {"iq2_s", 256, 82, NODT},
    [23] = {"iq4_xs", 256, 136, NODT},
    [24] = {"i8", 1, 1, ZF_I8},
    [25] = {"i16", 1, 2, ZF_I16},
    [26] = {"i32", 1, 4, ZF_I32},
    [27] = {"i64", 1, 8, ZF_I64},
    [28] = {"f64", 1, 8, ZF_F64},
    [29] = {"iq1_m", 256, 56, NODT},
    [30] = {"bf16", 1, 2, ZF_BF16},
    [34] = {"tq1_0", 256, 54, NODT},
    [35] = {"tq2_0", 256, 66, NODT},
    [39] = {"mxfp4", 32, 17, NODT},
    [40] = {"nvfp4", 64, 36, NODT},
    [41] = {"q1_0", 128, 18, NODT},
};
#undef NODT

bool zf_ggml_type_known(uint32_t t) { return t < ZF_GGML_TYPE_COUNT && k_ggml[t].name != NULL; }
const char *zf_ggml_type_name(uint32_t t) { return zf_ggml_type_known(t) ? k_ggml[t].name : "unknown"; }
int64_t zf_ggml_block_size(uint32_t t) { return zf_ggml_type_known(t) ? k_ggml[t].block : 0; }
size_t zf_ggml_type_size(uint32_t t) { return zf_ggml_type_known(t) ? k_ggml[t].size : 0; }
zf_dtype zf_ggml_to_dtype(uint32_t t) { return zf_ggml_type_known(t) ? k_ggml[t].dtype : ZF_DTYPE_COUNT; }

int32_t zf_ggml_from_dtype(zf_dtype t) {
    if (!zf_dtype_valid(t)) return -1;
    for (uint32_t i = 0; i < ZF_GGML_TYPE_COUNT; i++)
        if (k_ggml[i].name && k_ggml[i].dtype == t) return (int32_t)i;
    return -1;
}

static const struct {
    const char *name;
    size_t size;
} k_gguf[ZF_GGUF_TYPE_COUNT] = {
    [ZF_GGUF_UINT8] = {"u8", 1},    [ZF_GGUF_INT8] = {"i8", 1},       [ZF_GGUF_UINT16] = {"u16", 2},
    [ZF_GGUF_INT16] = {"i16", 2},   [ZF_GGUF_UINT32] = {"u32", 4},    [ZF_GGUF_INT32] = {"i32", 4},
    [ZF_GGUF_FLOAT32] = {"f32", 4}, [ZF_GGUF_BOOL] = {"bool", 1},     [ZF_GGUF_STRING] = {"string", 0},
    [ZF_GGUF_ARRAY] = {"array", 0}, [ZF_GGUF_UINT64] = {"u64", 8},    [ZF_GGUF_INT64] = {"i64", 8},
    [ZF_GGUF_FLOAT64] = {"f64", 8},
};

const char *zf_gguf_type_name(zf_gguf_type t) {
    return (unsigned)t < ZF_GGUF_TYPE_COUNT ? k_gguf[t].name : "invalid";
}
size_t zf_gguf_type_size_raw(uint32_t t) { return t < ZF_GGUF_TYPE_COUNT ? k_gguf[t].size : 0; }
size_t zf_gguf_type_size(zf_gguf_type t) { return zf_gguf_type_size_raw((uint32_t)t); }
