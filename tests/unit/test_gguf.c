/* Unit tests of the GGUF reader and writer (include/zerfoo/gguf.h): files
 * written with the writer into a temporary directory and read back, exact
 * round trips, and a battery of truncated, bit-flipped and hand-crafted
 * hostile files, each of which must open cleanly or fail with an error —
 * never crash (run under ASan+UBSan in CI). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zerfoo/gguf.h"

static int g_pass, g_fail;
#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (cond) g_pass++;                                                              \
        else {                                                                           \
            g_fail++;                                                                    \
            fprintf(stderr, "%s:%d: CHECK(%s) failed [%s]\n", __FILE__, __LINE__, #cond, \
                    zf_last_error());                                                    \
        }                                                                                \
    } while (0)

static char g_dir[64];

static const char *tmp_path(const char *name) {
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(len > 0 ? (size_t)len : 1);
    if (len > 0 && fread(p, 1, (size_t)len, f) != (size_t)len) len = -1;
    fclose(f);
    *n = len > 0 ? (size_t)len : 0;
    return p;
}

static bool str_is(zf_gguf_str s, const char *want) {
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* Reads every value and every tensor byte of g through the public API (what
 * the fuzzer does); returns a checksum so nothing is optimized away. */
static uint64_t walk_val(const zf_gguf_val *v, int depth);

static uint64_t walk_arr(const zf_gguf_val *v, int depth) {
    uint64_t h = 0, n = zf_gguf_arr_len(v);
    zf_gguf_type et = zf_gguf_arr_type(v);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t u;
        int64_t s;
        double d;
        bool b;
        zf_gguf_str str;
        if (et == ZF_GGUF_STRING && zf_gguf_arr_str(v, i, &str) == ZF_OK) {
            for (uint64_t j = 0; j < str.len; j++) h += (unsigned char)str.ptr[j];
        } else if (et == ZF_GGUF_ARRAY) {
            h += walk_val(zf_gguf_arr_arr(v, i), depth + 1);
        } else {
            if (zf_gguf_arr_u64(v, i, &u) == ZF_OK) h += u;
            if (zf_gguf_arr_i64(v, i, &s) == ZF_OK) h += (uint64_t)s;
            if (zf_gguf_arr_f64(v, i, &d) == ZF_OK) h += d == d;
            if (zf_gguf_arr_bool(v, i, &b) == ZF_OK) h += b;
        }
    }
    return h;
}

static uint64_t walk_val(const zf_gguf_val *v, int depth) {
    uint64_t h = 0, u;
    int64_t s;
    double d;
    bool b;
    zf_gguf_str str;
    if (zf_gguf_val_type(v) == ZF_GGUF_ARRAY) return walk_arr(v, depth);
    if (zf_gguf_val_u64(v, &u) == ZF_OK) h += u;
    if (zf_gguf_val_i64(v, &s) == ZF_OK) h += (uint64_t)s;
    if (zf_gguf_val_f64(v, &d) == ZF_OK) h += d == d;
    if (zf_gguf_val_bool(v, &b) == ZF_OK) h += b;
    if (zf_gguf_val_str(v, &str) == ZF_OK)
        for (uint64_t j = 0; j < str.len; j++) h += (unsigned char)str.ptr[j];
    return h;
}

static uint64_t walk(const zf_gguf *g) {
    uint64_t h = zf_gguf_version(g) + zf_gguf_alignment(g) + zf_gguf_data_offset(g);
    for (int64_t i = 0; i < zf_gguf_n_kv(g); i++) {
        h += strlen(zf_gguf_kv_key(g, i));
        h += walk_val(zf_gguf_kv_val(g, i), 0);
        h += zf_gguf_find_key(g, zf_gguf_kv_key(g, i)) == i;
    }
    for (int64_t i = 0; i < zf_gguf_n_tensors(g); i++) {
        const zf_gguf_tensor_info *t = zf_gguf_tensor(g, i);
        const unsigned char *p = zf_gguf_tensor_raw(g, i);
        for (uint64_t j = 0; j < t->size; j++) h += p[j];
        h += zf_gguf_find_tensor(g, t->name) == i;
        h += (uint64_t)t->n_elements;
    }
    return h;
}

/* ---- a full file through the writer ---- */

static float g_f32[12] = {1, -2, 3.5f, 0, 1e-3f, -7, 8, 9, 10, 11, 12, 13};
static uint16_t g_f16[6] = {0x3c00, 0xc000, 0x0001, 0x7bff, 0x8000, 0x3555};
static unsigned char g_q4[2][18];
static int32_t g_i32[5] = {-5, 0, 5, INT32_MAX, INT32_MIN};
static unsigned char g_iq4nl[18];

static zf_gguf_writer *make_writer(uint32_t alignment) {
    zf_gguf_writer *w = zf_gguf_writer_new();
    CHECK(w != NULL);
    CHECK(zf_gguf_writer_set_str(w, "general.architecture", "test") == ZF_OK);
    if (alignment) CHECK(zf_gguf_writer_set_u32(w, "general.alignment", alignment) == ZF_OK);
    CHECK(zf_gguf_writer_set_u8(w, "s.u8", 200) == ZF_OK);
    CHECK(zf_gguf_writer_set_i8(w, "s.i8", -100) == ZF_OK);
    CHECK(zf_gguf_writer_set_u16(w, "s.u16", 60000) == ZF_OK);
    CHECK(zf_gguf_writer_set_i16(w, "s.i16", -30000) == ZF_OK);
    CHECK(zf_gguf_writer_set_u32(w, "s.u32", 4000000000u) == ZF_OK);
    CHECK(zf_gguf_writer_set_i32(w, "s.i32", -2000000000) == ZF_OK);
    CHECK(zf_gguf_writer_set_u64(w, "s.u64", UINT64_MAX) == ZF_OK);
    CHECK(zf_gguf_writer_set_i64(w, "s.i64", INT64_MIN) == ZF_OK);
    CHECK(zf_gguf_writer_set_f32(w, "s.f32", 0.1f) == ZF_OK);
    CHECK(zf_gguf_writer_set_f64(w, "s.f64", 0.1) == ZF_OK);
    CHECK(zf_gguf_writer_set_bool(w, "s.bool", true) == ZF_OK);
    CHECK(zf_gguf_writer_set_str(w, "s.str", "hello") == ZF_OK);
    CHECK(zf_gguf_writer_set_strn(w, "s.str.nul", "a\0b", 3) == ZF_OK);
    CHECK(zf_gguf_writer_set_str(w, "s.str.empty", "") == ZF_OK);
    CHECK(zf_gguf_writer_set_u8(w, "s.replaced", 1) == ZF_OK);
    CHECK(zf_gguf_writer_set_str(w, "s.replaced", "now a string") == ZF_OK); /* keeps its place */
    int16_t i16s[3] = {-1, 2, -3};
    CHECK(zf_gguf_writer_set_arr(w, "a.i16", ZF_GGUF_INT16, i16s, 3) == ZF_OK);
    CHECK(zf_gguf_writer_set_arr(w, "a.f32", ZF_GGUF_FLOAT32, g_f32, 12) == ZF_OK);
    CHECK(zf_gguf_writer_set_arr(w, "a.empty", ZF_GGUF_UINT8, NULL, 0) == ZF_OK);
    const char *toks[4] = {"<s>", "", "hello", "wörld"};
    CHECK(zf_gguf_writer_set_arr_str(w, "a.str", toks, 4) == ZF_OK);
    /* [[1, 2], [], [[...]] is not allowed (mixed)], so: [[1,2],[3]] and [[["x"]], []] */
    CHECK(zf_gguf_writer_arr_begin(w, "a.nested", ZF_GGUF_ARRAY) == ZF_OK);
    CHECK(zf_gguf_writer_arr_begin(w, NULL, ZF_GGUF_INT32) == ZF_OK);
    CHECK(zf_gguf_writer_arr_push(w, (int32_t[]){1, 2}, 2) == ZF_OK);
    CHECK(zf_gguf_writer_set_u8(w, "not.now", 1) != ZF_OK); /* array open */
    CHECK(zf_gguf_writer_arr_push_str(w, "x", 1) == ZF_ERR_DTYPE);
    CHECK(zf_gguf_writer_arr_end(w) == ZF_OK);
    CHECK(zf_gguf_writer_arr_begin(w, NULL, ZF_GGUF_INT32) == ZF_OK);
    CHECK(zf_gguf_writer_arr_push(w, (int32_t[]){3}, 1) == ZF_OK);
    CHECK(zf_gguf_writer_arr_end(w) == ZF_OK);
    CHECK(zf_gguf_writer_arr_end(w) == ZF_OK);
    CHECK(zf_gguf_writer_arr_begin(w, "a.nested3", ZF_GGUF_ARRAY) == ZF_OK);
    CHECK(zf_gguf_writer_arr_begin(w, NULL, ZF_GGUF_ARRAY) == ZF_OK);
    CHECK(zf_gguf_writer_arr_begin(w, NULL, ZF_GGUF_STRING) == ZF_OK);
    CHECK(zf_gguf_writer_arr_push_str(w, "deep", 4) == ZF_OK);
    CHECK(zf_gguf_writer_arr_end(w) == ZF_OK);
    CHECK(zf_gguf_writer_arr_end(w) == ZF_OK);
    CHECK(zf_gguf_writer_arr_begin(w, NULL, ZF_GGUF_ARRAY) == ZF_OK);
    CHECK(zf_gguf_writer_arr_end(w) == ZF_OK);
    CHECK(zf_gguf_writer_arr_end(w) == ZF_OK);
    CHECK(zf_gguf_writer_arr_end(w) != ZF_OK); /* nothing open */

    for (int b = 0; b < 2; b++) {
        g_q4[b][0] = 0x00;
        g_q4[b][1] = 0x3c; /* d = 1.0 (f16) */
        for (int j = 0; j < 16; j++) g_q4[b][2 + j] = (unsigned char)(j * 17 + b);
    }
    for (int j = 0; j < 18; j++) g_iq4nl[j] = (unsigned char)(j * 31);
    CHECK(zf_gguf_writer_add_tensor(w, "w.f32", ZF_F32, 2, (int64_t[]){4, 3}, g_f32) == ZF_OK);
    CHECK(zf_gguf_writer_add_tensor(w, "w.f16", ZF_F16, 1, (int64_t[]){6}, g_f16) == ZF_OK);
    CHECK(zf_gguf_writer_add_tensor(w, "w.q4_0", ZF_Q4_0, 2, (int64_t[]){32, 2}, g_q4) == ZF_OK);
    CHECK(zf_gguf_writer_add_tensor(w, "w.i32", ZF_I32, 1, (int64_t[]){5}, g_i32) == ZF_OK);
    CHECK(zf_gguf_writer_add_tensor(w, "w.scalar", ZF_F32, 0, NULL, g_f32) == ZF_OK);
    CHECK(zf_gguf_writer_add_tensor(w, "w.empty", ZF_F32, 2, (int64_t[]){0, 5}, NULL) == ZF_OK);
    CHECK(zf_gguf_writer_add_tensor_raw(w, "w.iq4_nl", 20, 1, (int64_t[]){32}, g_iq4nl, 18) == ZF_OK);
    /* writer-side validation */
    CHECK(zf_gguf_writer_add_tensor(w, "w.f32", ZF_F32, 1, (int64_t[]){1}, g_f32) == ZF_ERR_INVALID_ARG);
    CHECK(zf_gguf_writer_add_tensor(w, "bad.q", ZF_Q4_0, 1, (int64_t[]){31}, g_q4) == ZF_ERR_SHAPE);
    CHECK(zf_gguf_writer_add_tensor(w, "bad.dims", ZF_F32, 5, (int64_t[]){1, 1, 1, 1, 1}, g_f32) == ZF_ERR_SHAPE);
    CHECK(zf_gguf_writer_add_tensor(w, "bad.dtype", ZF_F8_E4M3, 1, (int64_t[]){1}, g_f32) == ZF_ERR_DTYPE);
    CHECK(zf_gguf_writer_add_tensor_raw(w, "bad.size", 0, 1, (int64_t[]){4}, g_f32, 15) == ZF_ERR_SHAPE);
    CHECK(zf_gguf_writer_add_tensor_raw(w, "bad.type", 4, 1, (int64_t[]){4}, g_f32, 16) == ZF_ERR_DTYPE);
    CHECK(zf_gguf_writer_add_tensor_raw(w, "bad.neg", 0, 1, (int64_t[]){-4}, g_f32, 0) == ZF_ERR_SHAPE);
    CHECK(zf_gguf_writer_add_tensor_raw(w, "bad.ovf", 0, 2, (int64_t[]){INT64_MAX, 2}, g_f32, 0) ==
          ZF_ERR_OVERFLOW);
    return w;
}

static void check_contents(const zf_gguf *g, uint32_t alignment, bool mapped) {
    CHECK(zf_gguf_version(g) == 3);
    CHECK(zf_gguf_alignment(g) == (alignment ? alignment : 32));
    CHECK(zf_gguf_data_offset(g) % zf_gguf_alignment(g) == 0);
    CHECK(strcmp(zf_gguf_kv_key(g, 0), "general.architecture") == 0);
    CHECK(zf_gguf_kv_key(g, zf_gguf_n_kv(g)) == NULL && zf_last_status() == ZF_ERR_INDEX);
    CHECK(zf_gguf_kv_val(g, -1) == NULL);
    uint32_t u32;
    int32_t i32;
    uint64_t u64;
    int64_t i64;
    float f;
    double d;
    bool b;
    zf_gguf_str s;
    CHECK(zf_gguf_get_u32(g, "s.u8", &u32) == ZF_OK && u32 == 200);
    CHECK(zf_gguf_get_i32(g, "s.i8", &i32) == ZF_OK && i32 == -100);
    CHECK(zf_gguf_get_u32(g, "s.u16", &u32) == ZF_OK && u32 == 60000);
    CHECK(zf_gguf_get_i32(g, "s.i16", &i32) == ZF_OK && i32 == -30000);
    CHECK(zf_gguf_get_u32(g, "s.u32", &u32) == ZF_OK && u32 == 4000000000u);
    CHECK(zf_gguf_get_i32(g, "s.u32", &i32) == ZF_ERR_OVERFLOW);
    CHECK(zf_gguf_get_i32(g, "s.i32", &i32) == ZF_OK && i32 == -2000000000);
    CHECK(zf_gguf_get_u32(g, "s.i32", &u32) == ZF_ERR_OVERFLOW);
    CHECK(zf_gguf_get_u64(g, "s.u64", &u64) == ZF_OK && u64 == UINT64_MAX);
    CHECK(zf_gguf_get_i64(g, "s.u64", &i64) == ZF_ERR_OVERFLOW);
    CHECK(zf_gguf_get_i64(g, "s.i64", &i64) == ZF_OK && i64 == INT64_MIN);
    CHECK(zf_gguf_get_f32(g, "s.f32", &f) == ZF_OK && f == 0.1f);
    CHECK(zf_gguf_get_f64(g, "s.f64", &d) == ZF_OK && d == 0.1);
    CHECK(zf_gguf_get_f64(g, "s.f32", &d) == ZF_OK && d == (double)0.1f);
    CHECK(zf_gguf_get_f32(g, "s.u8", &f) == ZF_ERR_DTYPE);
    CHECK(zf_gguf_get_bool(g, "s.bool", &b) == ZF_OK && b);
    CHECK(zf_gguf_get_bool(g, "s.u8", &b) == ZF_ERR_DTYPE);
    CHECK(zf_gguf_get_str(g, "s.str", &s) == ZF_OK && str_is(s, "hello"));
    CHECK(zf_gguf_get_str(g, "s.str.nul", &s) == ZF_OK && s.len == 3 && memcmp(s.ptr, "a\0b", 3) == 0);
    CHECK(zf_gguf_get_str(g, "s.str.empty", &s) == ZF_OK && s.len == 0);
    CHECK(zf_gguf_get_str(g, "s.replaced", &s) == ZF_OK && str_is(s, "now a string"));
    CHECK(zf_gguf_find_key(g, "s.replaced") == zf_gguf_find_key(g, "s.str.empty") + 1);
    CHECK(zf_gguf_get_u32(g, "s.str", &u32) == ZF_ERR_DTYPE);
    CHECK(zf_gguf_get_u32(g, "no.such.key", &u32) == ZF_ERR_INDEX);
    CHECK(zf_gguf_find_key(g, "no.such.key") == -1);
    CHECK(zf_gguf_get(g, "no.such.key") == NULL);

    const zf_gguf_val *v = zf_gguf_get(g, "a.i16");
    CHECK(v && zf_gguf_val_type(v) == ZF_GGUF_ARRAY && zf_gguf_arr_type(v) == ZF_GGUF_INT16);
    CHECK(zf_gguf_arr_len(v) == 3);
    CHECK(zf_gguf_arr_i64(v, 2, &i64) == ZF_OK && i64 == -3);
    CHECK(zf_gguf_arr_u64(v, 1, &u64) == ZF_OK && u64 == 2);
    CHECK(zf_gguf_arr_u64(v, 0, &u64) == ZF_ERR_OVERFLOW);
    CHECK(zf_gguf_arr_i64(v, 3, &i64) == ZF_ERR_INDEX);
    CHECK(zf_gguf_arr_str(v, 0, &s) == ZF_ERR_DTYPE);
    CHECK(zf_gguf_arr_arr(v, 0) == NULL);
    CHECK(zf_gguf_val_u64(v, &u64) == ZF_ERR_DTYPE);
    v = zf_gguf_get(g, "a.f32");
    CHECK(v && zf_gguf_arr_len(v) == 12 && zf_gguf_arr_data(v) && memcmp(zf_gguf_arr_data(v), g_f32, 48) == 0);
    CHECK(zf_gguf_arr_f64(v, 4, &d) == ZF_OK && d == (double)1e-3f);
    v = zf_gguf_get(g, "a.empty");
    CHECK(v && zf_gguf_arr_len(v) == 0 && zf_gguf_arr_type(v) == ZF_GGUF_UINT8);
    v = zf_gguf_get(g, "a.str");
    CHECK(v && zf_gguf_arr_type(v) == ZF_GGUF_STRING && zf_gguf_arr_len(v) == 4 && !zf_gguf_arr_data(v));
    CHECK(zf_gguf_arr_str(v, 0, &s) == ZF_OK && str_is(s, "<s>"));
    CHECK(zf_gguf_arr_str(v, 1, &s) == ZF_OK && s.len == 0);
    CHECK(zf_gguf_arr_str(v, 3, &s) == ZF_OK && str_is(s, "wörld"));
    CHECK(zf_gguf_arr_str(v, 4, &s) == ZF_ERR_INDEX);
    v = zf_gguf_get(g, "a.nested");
    CHECK(v && zf_gguf_arr_type(v) == ZF_GGUF_ARRAY && zf_gguf_arr_len(v) == 2);
    const zf_gguf_val *in = zf_gguf_arr_arr(v, 0);
    CHECK(in && zf_gguf_arr_len(in) == 2 && zf_gguf_arr_i64(in, 1, &i64) == ZF_OK && i64 == 2);
    in = zf_gguf_arr_arr(v, 1);
    CHECK(in && zf_gguf_arr_len(in) == 1 && zf_gguf_arr_i64(in, 0, &i64) == ZF_OK && i64 == 3);
    CHECK(zf_gguf_arr_arr(v, 2) == NULL && zf_last_status() == ZF_ERR_INDEX);
    v = zf_gguf_get(g, "a.nested3");
    in = zf_gguf_arr_arr(zf_gguf_arr_arr(v, 0), 0);
    CHECK(in && zf_gguf_arr_str(in, 0, &s) == ZF_OK && str_is(s, "deep"));
    CHECK(zf_gguf_arr_len(zf_gguf_arr_arr(v, 1)) == 0);

    CHECK(zf_gguf_n_tensors(g) == 7);
    int64_t i = zf_gguf_find_tensor(g, "w.f32");
    const zf_gguf_tensor_info *t = zf_gguf_tensor(g, i);
    CHECK(t && t->dtype == ZF_F32 && t->ggml_type == 0 && t->n_dims == 2 && t->ne[0] == 4 && t->ne[1] == 3 &&
          t->ne[2] == 1 && t->n_elements == 12 && t->size == 48 && t->offset == 0);
    const void *data = zf_gguf_tensor_data(g, i);
    CHECK(data && memcmp(data, g_f32, 48) == 0);
    CHECK(!mapped || (uintptr_t)data % zf_gguf_alignment(g) == 0); /* mmap is page-aligned */
    t = zf_gguf_tensor(g, zf_gguf_find_tensor(g, "w.f16"));
    CHECK(t && t->dtype == ZF_F16 && t->size == 12 && t->offset == 64);
    t = zf_gguf_tensor(g, i = zf_gguf_find_tensor(g, "w.q4_0"));
    CHECK(t && t->dtype == ZF_Q4_0 && t->ggml_type == 2 && t->ne[0] == 32 && t->ne[1] == 2 && t->size == 36);
    CHECK(memcmp(zf_gguf_tensor_data(g, i), g_q4, 36) == 0);
    t = zf_gguf_tensor(g, i = zf_gguf_find_tensor(g, "w.scalar"));
    CHECK(t && t->n_dims == 0 && t->n_elements == 1 && t->size == 4);
    t = zf_gguf_tensor(g, i = zf_gguf_find_tensor(g, "w.empty"));
    CHECK(t && t->n_dims == 2 && t->n_elements == 0 && t->size == 0);
    i = zf_gguf_find_tensor(g, "w.iq4_nl");
    t = zf_gguf_tensor(g, i);
    CHECK(t && t->ggml_type == 20 && t->dtype == ZF_DTYPE_COUNT && t->size == 18);
    CHECK(zf_gguf_tensor_data(g, i) == NULL && zf_last_status() == ZF_ERR_UNSUPPORTED);
    CHECK(zf_gguf_tensor_raw(g, i) && memcmp(zf_gguf_tensor_raw(g, i), g_iq4nl, 18) == 0);
    CHECK(zf_gguf_find_tensor(g, "nope") == -1 && zf_gguf_tensor(g, 7) == NULL);
}

/* read -> write -> bytes equal */
static void roundtrip(const char *in, const char *out) {
    zf_gguf *g = zf_gguf_open(in);
    CHECK(g != NULL);
    if (!g) return;
    zf_gguf_writer *w = zf_gguf_writer_new();
    for (int64_t i = 0; i < zf_gguf_n_kv(g); i++)
        CHECK(zf_gguf_writer_set_val(w, zf_gguf_kv_key(g, i), zf_gguf_kv_val(g, i)) == ZF_OK);
    for (int64_t i = 0; i < zf_gguf_n_tensors(g); i++) {
        const zf_gguf_tensor_info *t = zf_gguf_tensor(g, i);
        CHECK(zf_gguf_writer_add_tensor_raw(w, t->name, t->ggml_type, t->n_dims, t->ne, zf_gguf_tensor_raw(g, i),
                                            t->size) == ZF_OK);
    }
    CHECK(zf_gguf_writer_write(w, out) == ZF_OK);
    zf_gguf_writer_free(w);
    zf_gguf_close(g);
    size_t na, nb;
    unsigned char *a = slurp(in, &na), *b = slurp(out, &nb);
    CHECK(a && b && na == nb && memcmp(a, b, na) == 0);
    free(a);
    free(b);
}

static void test_write_read(void) {
    for (int k = 0; k < 2; k++) {
        uint32_t align = k ? 64 : 0;
        zf_gguf_writer *w = make_writer(align);
        const char *path = tmp_path(k ? "a64.gguf" : "a32.gguf");
        CHECK(zf_gguf_writer_write(w, path) == ZF_OK);
        zf_gguf_writer_free(w);
        zf_gguf *g = zf_gguf_open(path);
        CHECK(g != NULL);
        if (g) {
            check_contents(g, align, true);
            walk(g);
            zf_gguf_close(g);
        }
        /* the same image from memory */
        size_t n;
        unsigned char *buf = slurp(path, &n);
        g = zf_gguf_open_memory(buf, n);
        CHECK(g != NULL);
        if (g) {
            check_contents(g, align, false);
            zf_gguf_close(g);
        }
        free(buf);
        roundtrip(path, tmp_path("rt.gguf"));
    }
    /* an empty writer makes a valid file */
    zf_gguf_writer *w = zf_gguf_writer_new();
    CHECK(zf_gguf_writer_write(w, tmp_path("empty.gguf")) == ZF_OK);
    zf_gguf_writer_free(w);
    zf_gguf *g = zf_gguf_open(tmp_path("empty.gguf"));
    CHECK(g && zf_gguf_n_kv(g) == 0 && zf_gguf_n_tensors(g) == 0 && zf_gguf_file_size(g) == 32);
    zf_gguf_close(g);
}

static void test_writer_errors(void) {
    zf_gguf_writer *w = zf_gguf_writer_new();
    CHECK(zf_gguf_writer_set_u32(w, NULL, 1) == ZF_ERR_INVALID_ARG);
    CHECK(zf_gguf_writer_set_str(w, "k", NULL) == ZF_ERR_INVALID_ARG);
    CHECK(zf_gguf_writer_set_arr(w, "k", ZF_GGUF_STRING, "x", 1) == ZF_ERR_DTYPE);
    CHECK(zf_gguf_writer_arr_push(w, "x", 1) == ZF_ERR_INVALID_ARG);
    CHECK(zf_gguf_writer_arr_begin(w, NULL, ZF_GGUF_UINT8) == ZF_ERR_INVALID_ARG);
    CHECK(zf_gguf_writer_arr_begin(w, "k", (zf_gguf_type)99) == ZF_ERR_INVALID_ARG);
    CHECK(zf_gguf_writer_arr_begin(w, "k", ZF_GGUF_UINT8) == ZF_OK);
    CHECK(zf_gguf_writer_arr_begin(w, NULL, ZF_GGUF_UINT8) == ZF_ERR_DTYPE);
    CHECK(zf_gguf_writer_write(w, tmp_path("open.gguf")) == ZF_ERR_INVALID_ARG);
    CHECK(zf_gguf_writer_arr_end(w) == ZF_OK);
    /* too-deep nesting is refused by the writer as by the reader */
    CHECK(zf_gguf_writer_arr_begin(w, "deep", ZF_GGUF_ARRAY) == ZF_OK);
    zf_status s = ZF_OK;
    for (int d = 1; d < ZF_GGUF_MAX_DEPTH + 2 && s == ZF_OK; d++) s = zf_gguf_writer_arr_begin(w, NULL, ZF_GGUF_ARRAY);
    CHECK(s == ZF_ERR_INVALID_ARG);
    while (zf_gguf_writer_arr_end(w) == ZF_OK) {}
    CHECK(zf_gguf_writer_set_f32(w, "general.alignment", 32.0f) == ZF_OK);
    CHECK(zf_gguf_writer_write(w, tmp_path("badalign.gguf")) == ZF_ERR_INVALID_ARG);
    CHECK(zf_gguf_writer_set_u32(w, "general.alignment", 48) == ZF_OK);
    CHECK(zf_gguf_writer_write(w, tmp_path("badalign.gguf")) == ZF_ERR_INVALID_ARG);
    CHECK(zf_gguf_writer_set_u32(w, "general.alignment", 16) == ZF_OK);
    CHECK(zf_gguf_writer_write(w, "/nonexistent-dir/x.gguf") == ZF_ERR_IO);
    CHECK(zf_gguf_writer_write(w, tmp_path("ok.gguf")) == ZF_OK);
    zf_gguf_writer_free(w);
    zf_gguf *g = zf_gguf_open(tmp_path("ok.gguf"));
    CHECK(g && zf_gguf_alignment(g) == 16 && zf_gguf_n_kv(g) == 3);
    zf_gguf_close(g);
    zf_gguf_writer_free(NULL);
    zf_gguf_close(NULL);
}

/* ---- hostile files ---- */

typedef struct {
    unsigned char b[4096];
    size_t n;
} img;

static void put(img *m, const void *p, size_t n) {
    memcpy(m->b + m->n, p, n);
    m->n += n;
}
static void p32(img *m, uint32_t v) { put(m, &v, 4); }
static void p64(img *m, uint64_t v) { put(m, &v, 8); }
static void pstr(img *m, const char *s) {
    p64(m, strlen(s));
    put(m, s, strlen(s));
}
static void header(img *m, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    m->n = 0;
    put(m, "GGUF", 4);
    p32(m, version);
    p64(m, n_tensors);
    p64(m, n_kv);
}

/* Opens m from an exact-size heap copy (so ASan sees any over-read); expects
 * failure with status `want` (ZF_OK: expects success). */
static void expect(const img *m, zf_status want, const char *msg_part, int line) {
    unsigned char *copy = malloc(m->n ? m->n : 1);
    memcpy(copy, m->b, m->n);
    zf_clear_error();
    zf_gguf *g = zf_gguf_open_memory(copy, m->n);
    bool ok = want == ZF_OK ? g != NULL : (g == NULL && zf_last_status() == want);
    if (ok && msg_part && !strstr(zf_last_error(), msg_part)) ok = false;
    if (ok) g_pass++;
    else {
        g_fail++;
        fprintf(stderr, "%s:%d: hostile case: got %s [%s], wanted %s%s%s\n", __FILE__, line,
                g ? "success" : zf_status_name(zf_last_status()), zf_last_error(), zf_status_name(want),
                msg_part ? " containing " : "", msg_part ? msg_part : "");
    }
    if (g) walk(g);
    zf_gguf_close(g);
    free(copy);
}
#define EXPECT(m, want, part) expect(&(m), want, part, __LINE__)

/* A valid one-tensor image: kv "k" = u32 7, tensor "t" f32 [4] at offset 0. */
static void small_valid(img *m, uint32_t ggml_type, uint64_t ne0, uint64_t offset) {
    header(m, 3, 1, 1);
    pstr(m, "k");
    p32(m, ZF_GGUF_UINT32);
    p32(m, 7);
    pstr(m, "t");
    p32(m, 1);
    p64(m, ne0);
    p32(m, ggml_type);
    p64(m, offset);
    while (m->n % 32) m->b[m->n++] = 0;
    for (int i = 0; i < 64; i++) m->b[m->n++] = (unsigned char)i;
}

static void test_hostile(void) {
    img m;
    small_valid(&m, 0, 4, 0);
    EXPECT(m, ZF_OK, NULL);

    header(&m, 3, 0, 0);
    EXPECT(m, ZF_OK, NULL);
    m.n = 0;
    EXPECT(m, ZF_ERR_FORMAT, "truncated");
    header(&m, 3, 0, 0);
    memcpy(m.b, "GGUG", 4);
    EXPECT(m, ZF_ERR_FORMAT, "magic");
    header(&m, 1, 0, 0);
    EXPECT(m, ZF_ERR_UNSUPPORTED, "version 1");
    header(&m, 2, 0, 0);
    EXPECT(m, ZF_OK, NULL);
    header(&m, 4, 0, 0);
    EXPECT(m, ZF_ERR_FORMAT, "version");
    header(&m, 0x03000000u, 0, 0);
    EXPECT(m, ZF_ERR_UNSUPPORTED, "big-endian");
    header(&m, 3, 0, UINT64_MAX);
    EXPECT(m, ZF_ERR_FORMAT, "metadata entries");
    header(&m, 3, UINT64_MAX / 2, 0);
    EXPECT(m, ZF_ERR_FORMAT, "tensors cannot fit");
    header(&m, 3, 0, 1);
    p64(&m, UINT64_MAX);
    p64(&m, 0);
    p64(&m, 0);
    EXPECT(m, ZF_ERR_FORMAT, "string length");
    header(&m, 3, 0, 1);
    p64(&m, 100); /* longer than the 20 bytes left */
    put(&m, "abcdefghijklmnopqrst", 20);
    EXPECT(m, ZF_ERR_FORMAT, "string length");
    header(&m, 3, 0, 1);
    pstr(&m, "a");
    m.b[m.n - 1] = 0; /* key "\0" */
    p32(&m, ZF_GGUF_UINT8);
    m.b[m.n++] = 1;
    EXPECT(m, ZF_ERR_FORMAT, "NUL");
    header(&m, 3, 0, 1);
    pstr(&m, "k");
    p32(&m, 13);
    p32(&m, 0);
    EXPECT(m, ZF_ERR_FORMAT, "unknown value type");
    header(&m, 3, 0, 1);
    pstr(&m, "k");
    p32(&m, ZF_GGUF_ARRAY);
    p32(&m, 77);
    p64(&m, 0);
    EXPECT(m, ZF_ERR_FORMAT, "element type");
    header(&m, 3, 0, 1);
    pstr(&m, "k");
    p32(&m, ZF_GGUF_ARRAY);
    p32(&m, ZF_GGUF_UINT64);
    p64(&m, UINT64_MAX / 4);
    EXPECT(m, ZF_ERR_FORMAT, "cannot fit");
    header(&m, 3, 0, 1);
    pstr(&m, "k");
    p32(&m, ZF_GGUF_ARRAY);
    p32(&m, ZF_GGUF_STRING);
    p64(&m, 1u << 30);
    p64(&m, 0);
    EXPECT(m, ZF_ERR_FORMAT, "cannot fit");
    header(&m, 3, 0, 1);
    pstr(&m, "k");
    p32(&m, ZF_GGUF_ARRAY);
    p32(&m, ZF_GGUF_STRING);
    p64(&m, 2);
    pstr(&m, "ok");
    p64(&m, 1000);
    EXPECT(m, ZF_ERR_FORMAT, "string length");
    /* nesting deeper than ZF_GGUF_MAX_DEPTH */
    header(&m, 3, 0, 1);
    pstr(&m, "k");
    p32(&m, ZF_GGUF_ARRAY);
    for (int d = 0; d < 100; d++) {
        p32(&m, ZF_GGUF_ARRAY);
        p64(&m, 1);
    }
    EXPECT(m, ZF_ERR_FORMAT, "nested");
    /* nesting within the limit */
    header(&m, 3, 0, 1);
    pstr(&m, "k");
    p32(&m, ZF_GGUF_ARRAY);
    for (int d = 0; d < ZF_GGUF_MAX_DEPTH - 1; d++) {
        p32(&m, ZF_GGUF_ARRAY);
        p64(&m, 1);
    }
    p32(&m, ZF_GGUF_UINT8);
    p64(&m, 0);
    EXPECT(m, ZF_OK, NULL);
    /* duplicate keys */
    header(&m, 3, 0, 2);
    for (int k = 0; k < 2; k++) {
        pstr(&m, "dup");
        p32(&m, ZF_GGUF_BOOL);
        m.b[m.n++] = 1;
    }
    EXPECT(m, ZF_ERR_FORMAT, "duplicate metadata key");
    /* alignment */
    for (int k = 0; k < 3; k++) {
        header(&m, 3, 0, 1);
        pstr(&m, "general.alignment");
        p32(&m, k == 2 ? ZF_GGUF_UINT64 : ZF_GGUF_UINT32);
        if (k == 2) p64(&m, 32);
        else p32(&m, k == 0 ? 0 : 24);
        EXPECT(m, ZF_ERR_FORMAT, "alignment");
    }
    /* tensor infos */
    small_valid(&m, 0, 4, 32);
    EXPECT(m, ZF_OK, NULL);
    small_valid(&m, 0, 4, 64);
    EXPECT(m, ZF_ERR_FORMAT, "past the end");
    small_valid(&m, 0, 4, 16);
    EXPECT(m, ZF_ERR_FORMAT, "not a multiple of the alignment");
    small_valid(&m, 0, 4, UINT64_MAX - 31);
    EXPECT(m, ZF_ERR_FORMAT, "past the end");
    small_valid(&m, 0, 17, 0);
    EXPECT(m, ZF_ERR_FORMAT, "past the end");
    small_valid(&m, 0, (uint64_t)1 << 62, 0);
    EXPECT(m, ZF_ERR_FORMAT, "byte size overflows");
    small_valid(&m, 0, (uint64_t)INT64_MAX + 1, 0);
    EXPECT(m, ZF_ERR_FORMAT, "INT64_MAX");
    small_valid(&m, 4, 4, 0);
    EXPECT(m, ZF_ERR_FORMAT, "unknown ggml type");
    small_valid(&m, 99, 4, 0);
    EXPECT(m, ZF_ERR_FORMAT, "unknown ggml type");
    small_valid(&m, 2, 16, 0);
    EXPECT(m, ZF_ERR_FORMAT, "block size");
    small_valid(&m, 20, 32, 0); /* iq4_nl: known, carried */
    EXPECT(m, ZF_OK, NULL);
    /* 5 dims, and dims whose product overflows */
    header(&m, 3, 1, 0);
    pstr(&m, "t");
    p32(&m, 5);
    for (int d = 0; d < 5; d++) p64(&m, 1);
    p32(&m, 0);
    p64(&m, 0);
    EXPECT(m, ZF_ERR_FORMAT, "dimensions");
    header(&m, 3, 1, 0);
    pstr(&m, "t");
    p32(&m, 3);
    p64(&m, (uint64_t)1 << 32);
    p64(&m, (uint64_t)1 << 32);
    p64(&m, 0);
    p32(&m, 0);
    p64(&m, 0);
    while (m.n % 32) m.b[m.n++] = 0;
    EXPECT(m, ZF_OK, NULL); /* a zero dim: 0 elements, however large the others */
    header(&m, 3, 1, 0);
    pstr(&m, "t");
    p32(&m, 2);
    p64(&m, (uint64_t)1 << 32);
    p64(&m, (uint64_t)1 << 32);
    p32(&m, 0);
    p64(&m, 0);
    EXPECT(m, ZF_ERR_FORMAT, "overflows");
    /* duplicate tensor names */
    header(&m, 3, 2, 0);
    for (int k = 0; k < 2; k++) {
        pstr(&m, "same");
        p32(&m, 1);
        p64(&m, 1);
        p32(&m, 0);
        p64(&m, 0);
    }
    while (m.n % 32) m.b[m.n++] = 0;
    p32(&m, 0);
    EXPECT(m, ZF_ERR_FORMAT, "duplicate tensor name");
    /* tensor name with NUL */
    header(&m, 3, 1, 0);
    p64(&m, 2);
    put(&m, "a\0", 2);
    p32(&m, 1);
    p64(&m, 1);
    p32(&m, 0);
    p64(&m, 0);
    EXPECT(m, ZF_ERR_FORMAT, "NUL");

    /* NULL / bad arguments */
    CHECK(zf_gguf_open_memory(NULL, 10) == NULL && zf_last_status() == ZF_ERR_INVALID_ARG);
    CHECK(zf_gguf_open_memory(NULL, 0) == NULL);
    CHECK(zf_gguf_open(NULL) == NULL);
    CHECK(zf_gguf_open(tmp_path("does-not-exist.gguf")) == NULL && zf_last_status() == ZF_ERR_IO);
    CHECK(zf_gguf_open(g_dir) == NULL && zf_last_status() == ZF_ERR_IO);
    FILE *f = fopen(tmp_path("zero.gguf"), "wb");
    fclose(f);
    CHECK(zf_gguf_open(tmp_path("zero.gguf")) == NULL && zf_last_status() == ZF_ERR_FORMAT);
    f = fopen(tmp_path("junk.gguf"), "wb");
    fputs("GGUF\x03\0\0\0garbage", f);
    fclose(f);
    CHECK(zf_gguf_open(tmp_path("junk.gguf")) == NULL && strstr(zf_last_error(), "junk.gguf"));
}

/* Every prefix of a real file, and every single-bit flip of its first bytes,
 * must open or fail cleanly. */
static void test_truncations_and_flips(void) {
    size_t n;
    unsigned char *full = slurp(tmp_path("a32.gguf"), &n);
    CHECK(full != NULL && n > 0);
    if (!full) return;
    int opened = 0, failed = 0;
    for (size_t len = 0; len <= n; len++) {
        unsigned char *copy = malloc(len ? len : 1);
        memcpy(copy, full, len);
        zf_gguf *g = zf_gguf_open_memory(copy, len);
        if (g) {
            opened++;
            walk(g);
        } else {
            failed++;
            if (!zf_last_error()[0]) failed += 1000000; /* failure without a message */
        }
        zf_gguf_close(g);
        free(copy);
    }
    /* only cuts inside the trailing data/padding of the last tensors can open */
    CHECK(opened >= 1 && failed > 0 && failed < 1000000);
    size_t header_bytes = 0;
    {
        zf_gguf *g = zf_gguf_open_memory(full, n);
        header_bytes = g ? (size_t)zf_gguf_data_offset(g) : 0;
        zf_gguf_close(g);
    }
    CHECK(header_bytes > 0);
    unsigned char *copy = malloc(n);
    int flips = 0;
    for (size_t i = 0; i < header_bytes; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, full, n);
            copy[i] ^= (unsigned char)(1u << bit);
            zf_gguf *g = zf_gguf_open_memory(copy, n);
            if (g) walk(g);
            else CHECK(zf_last_error()[0] != '\0');
            zf_gguf_close(g);
            flips++;
        }
    }
    /* random multi-byte corruption: overwrite a byte with 0x00 / 0xff / random */
    uint64_t r = 0x9e3779b97f4a7c15ull;
    for (int k = 0; k < 20000; k++) {
        memcpy(copy, full, n);
        for (int j = 0; j < 3; j++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            copy[r % header_bytes] = (unsigned char)(r >> 40);
        }
        zf_gguf *g = zf_gguf_open_memory(copy, n);
        if (g) walk(g);
        zf_gguf_close(g);
    }
    CHECK(flips == (int)header_bytes * 8);
    free(copy);
    free(full);
}

static void cleanup(void) {
    const char *names[] = {"a32.gguf", "a64.gguf", "rt.gguf", "empty.gguf", "ok.gguf", "zero.gguf", "junk.gguf"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) unlink(tmp_path(names[i]));
    rmdir(g_dir);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/zf_test_gguf_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_write_read();
    test_writer_errors();
    test_hostile();
    test_truncations_and_flips();
    cleanup();
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
