/* libFuzzer target for the GGUF reader: parse the input with
 * zf_gguf_open_memory, then read every metadata value (nested arrays and
 * string arrays included) and every byte of every tensor through the public
 * API. Built and run by tests/fuzz/run_fuzz.sh (clang, ASan + UBSan). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zerfoo/gguf.h"
#include "zerfoo/quant.h"

static uint64_t g_sink;

static void walk_val(const zf_gguf_val *v);

static void walk_arr(const zf_gguf_val *v) {
    zf_gguf_type et = zf_gguf_arr_type(v);
    uint64_t n = zf_gguf_arr_len(v);
    const unsigned char *raw = zf_gguf_arr_data(v);
    if (raw && n) g_sink += raw[0] + raw[n * zf_gguf_type_size(et) - 1];
    for (uint64_t i = 0; i < n; i++) {
        uint64_t u;
        int64_t s;
        double d;
        bool b;
        zf_gguf_str str;
        if (zf_gguf_arr_str(v, i, &str) == ZF_OK && str.len) g_sink += (unsigned char)str.ptr[str.len - 1];
        if (et == ZF_GGUF_ARRAY) walk_val(zf_gguf_arr_arr(v, i));
        if (zf_gguf_arr_u64(v, i, &u) == ZF_OK) g_sink += u;
        if (zf_gguf_arr_i64(v, i, &s) == ZF_OK) g_sink += (uint64_t)s;
        if (zf_gguf_arr_f64(v, i, &d) == ZF_OK) g_sink += d == d;
        if (zf_gguf_arr_bool(v, i, &b) == ZF_OK) g_sink += b;
    }
    (void)zf_gguf_arr_arr(v, n); /* out of range: must fail cleanly */
}

static void walk_val(const zf_gguf_val *v) {
    uint64_t u;
    int64_t s;
    double d;
    bool b;
    zf_gguf_str str;
    if (zf_gguf_val_type(v) == ZF_GGUF_ARRAY) {
        walk_arr(v);
        return;
    }
    if (zf_gguf_val_u64(v, &u) == ZF_OK) g_sink += u;
    if (zf_gguf_val_i64(v, &s) == ZF_OK) g_sink += (uint64_t)s;
    if (zf_gguf_val_f64(v, &d) == ZF_OK) g_sink += d == d;
    if (zf_gguf_val_bool(v, &b) == ZF_OK) g_sink += b;
    if (zf_gguf_val_str(v, &str) == ZF_OK && str.len) g_sink += (unsigned char)str.ptr[0] + (unsigned char)str.ptr[str.len - 1];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    zf_gguf *g = zf_gguf_open_memory(data, size);
    if (!g) return 0;
    for (int64_t i = 0; i < zf_gguf_n_kv(g); i++) {
        const char *key = zf_gguf_kv_key(g, i);
        walk_val(zf_gguf_kv_val(g, i));
        g_sink += zf_gguf_find_key(g, key) == i;
        uint32_t u32;
        float f;
        zf_gguf_get_u32(g, key, &u32);
        zf_gguf_get_f32(g, key, &f);
    }
    for (int64_t i = 0; i < zf_gguf_n_tensors(g); i++) {
        const zf_gguf_tensor_info *t = zf_gguf_tensor(g, i);
        const unsigned char *p = zf_gguf_tensor_raw(g, i);
        for (uint64_t j = 0; j < t->size; j++) g_sink += p[j];
        g_sink += zf_gguf_find_tensor(g, t->name) == i;
        /* dequantize the first row of supported types */
        const void *d = zf_gguf_tensor_data(g, i);
        if (d && zf_quant_supported(t->dtype) && t->ne[0] > 0 && t->ne[0] <= 4096 && t->n_elements > 0) {
            float *row = malloc((size_t)t->ne[0] * sizeof *row);
            if (row && zf_dequantize(t->dtype, d, row, t->ne[0]) == ZF_OK) g_sink += row[0] == row[0];
            free(row);
        }
    }
    zf_gguf_close(g);
    return 0;
}
