/* libFuzzer target for the safetensors reader: parse the input with
 * zf_safetensors_open_memory, walk every tensor entry and metadata entry
 * through the public API, read every tensor's bytes, and copy every tensor
 * into a context (zf_safetensors_load_all). Built and run by
 * tests/fuzz/run_fuzz.sh safetensors (clang, ASan + UBSan). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "zerfoo/safetensors.h"
#include "zerfoo/tensor.h"

static uint64_t g_sink;
static zf_ctx *g_ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_ctx && !(g_ctx = zf_ctx_new(NULL))) __builtin_trap();
    zf_safetensors *st = zf_safetensors_open_memory(data, size, "fuzz");
    if (!st) return 0;
    for (int i = 0; i < zf_safetensors_count(st); i++) {
        const zf_st_info *t = zf_safetensors_info(st, i);
        const unsigned char *p = zf_safetensors_bytes(st, i);
        for (uint64_t j = t->begin; j < t->end; j++) g_sink += p[j - t->begin];
        if (zf_safetensors_find(st, t->name) != i) __builtin_trap(); /* names are unique */
        g_sink += strlen(t->dtype_name) + (unsigned)t->ndim;
        zf_tensor *x = zf_safetensors_load(st, g_ctx, t->name);
        if (x) {
            if ((uint64_t)zf_nbytes(x) != t->end - t->begin) __builtin_trap();
            if (zf_nbytes(x) && memcmp(zf_data(x), p, zf_nbytes(x)) != 0) __builtin_trap();
        }
    }
    for (int i = 0; i < zf_safetensors_meta_count(st); i++) {
        const char *k = zf_safetensors_meta_key(st, i), *v = zf_safetensors_meta_get(st, k);
        if (!v) __builtin_trap();
        g_sink += strlen(k) + strlen(v);
    }
    zf_named_tensors *all = zf_safetensors_load_all(st, g_ctx);
    g_sink += all ? (uint64_t)all->n : 0;
    zf_safetensors_close(st);
    zf_ctx_reset(g_ctx);
    return 0;
}
