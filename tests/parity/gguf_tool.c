/* gguf_tool — a small command-line front to zerfoo's GGUF reader/writer and
 * quantizers, driven by tests/parity/test_gguf_parity.py.
 *
 *   gguf_tool dump FILE                 metadata + tensor infos as JSON on stdout
 *   gguf_tool dequant FILE OUTDIR       each tensor zerfoo can dequantize -> OUTDIR/<index>.f32
 *   gguf_tool quant TYPE IN OUT         raw f32 file -> raw blocks of TYPE (zf_dtype name: q4_0, q6_k, ...)
 *   gguf_tool dequantraw TYPE IN OUT    raw blocks of TYPE -> raw f32 file
 *   gguf_tool roundtrip IN OUT          read IN, write every kv and tensor to OUT
 *
 * JSON strings escape every byte outside printable ASCII as \u00XX, so the
 * reader can recover the exact bytes (decode, then encode as latin-1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zerfoo/gguf.h"
#include "zerfoo/quant.h"

static int fail(const char *what) {
    fprintf(stderr, "gguf_tool: %s: %s\n", what, zf_last_error());
    return 1;
}

static void json_str(const char *p, uint64_t n) {
    putchar('"');
    for (uint64_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

static void json_f64(double d) {
    if (d != d) printf("NaN");
    else if (d > 1.7976931348623157e308) printf("Infinity");
    else if (d < -1.7976931348623157e308) printf("-Infinity");
    else {
        char buf[40];
        snprintf(buf, sizeof buf, "%.17g", d);
        /* keep it a JSON float ("-0" would parse as the integer 0) */
        printf("%s%s", buf, strpbrk(buf, ".en") ? "" : ".0");
    }
}

/* A value as {"type": ..., "value": ...}; arrays nest as {"type": elem, "items": [...]}. */
static void json_val(const zf_gguf_val *v);

static void json_arr(const zf_gguf_val *v) {
    zf_gguf_type et = zf_gguf_arr_type(v);
    uint64_t n = zf_gguf_arr_len(v);
    printf("{\"type\":\"%s\",\"items\":[", zf_gguf_type_name(et));
    for (uint64_t i = 0; i < n; i++) {
        if (i) putchar(',');
        if (et == ZF_GGUF_STRING) {
            zf_gguf_str s;
            zf_gguf_arr_str(v, i, &s);
            json_str(s.ptr, s.len);
        } else if (et == ZF_GGUF_ARRAY) {
            json_arr(zf_gguf_arr_arr(v, i));
        } else if (et == ZF_GGUF_BOOL) {
            bool b;
            zf_gguf_arr_bool(v, i, &b);
            printf(b ? "true" : "false");
        } else if (et == ZF_GGUF_FLOAT32 || et == ZF_GGUF_FLOAT64) {
            double d;
            zf_gguf_arr_f64(v, i, &d);
            json_f64(d);
        } else if (et == ZF_GGUF_INT8 || et == ZF_GGUF_INT16 || et == ZF_GGUF_INT32 || et == ZF_GGUF_INT64) {
            int64_t x;
            zf_gguf_arr_i64(v, i, &x);
            printf("%lld", (long long)x);
        } else {
            uint64_t x;
            zf_gguf_arr_u64(v, i, &x);
            printf("%llu", (unsigned long long)x);
        }
    }
    printf("]}");
}

static void json_val(const zf_gguf_val *v) {
    zf_gguf_type t = zf_gguf_val_type(v);
    printf("{\"type\":\"%s\",\"value\":", zf_gguf_type_name(t));
    if (t == ZF_GGUF_STRING) {
        zf_gguf_str s;
        zf_gguf_val_str(v, &s);
        json_str(s.ptr, s.len);
    } else if (t == ZF_GGUF_ARRAY) {
        json_arr(v);
    } else if (t == ZF_GGUF_BOOL) {
        bool b;
        zf_gguf_val_bool(v, &b);
        printf(b ? "true" : "false");
    } else if (t == ZF_GGUF_FLOAT32 || t == ZF_GGUF_FLOAT64) {
        double d;
        zf_gguf_val_f64(v, &d);
        json_f64(d);
    } else if (t == ZF_GGUF_INT8 || t == ZF_GGUF_INT16 || t == ZF_GGUF_INT32 || t == ZF_GGUF_INT64) {
        int64_t x;
        zf_gguf_val_i64(v, &x);
        printf("%lld", (long long)x);
    } else {
        uint64_t x;
        zf_gguf_val_u64(v, &x);
        printf("%llu", (unsigned long long)x);
    }
    putchar('}');
}

static int cmd_dump(const char *path) {
    zf_gguf *g = zf_gguf_open(path);
    if (!g) return fail("open");
    printf("{\"version\":%u,\"alignment\":%llu,\"data_offset\":%llu,\"kv\":[", zf_gguf_version(g),
           (unsigned long long)zf_gguf_alignment(g), (unsigned long long)zf_gguf_data_offset(g));
    for (int64_t i = 0; i < zf_gguf_n_kv(g); i++) {
        if (i) putchar(',');
        printf("{\"key\":");
        const char *k = zf_gguf_kv_key(g, i);
        json_str(k, strlen(k));
        printf(",\"val\":");
        json_val(zf_gguf_kv_val(g, i));
        putchar('}');
    }
    printf("],\"tensors\":[");
    for (int64_t i = 0; i < zf_gguf_n_tensors(g); i++) {
        const zf_gguf_tensor_info *t = zf_gguf_tensor(g, i);
        if (i) putchar(',');
        printf("{\"name\":");
        json_str(t->name, strlen(t->name));
        printf(",\"ggml_type\":%u,\"dtype\":\"%s\",\"ne\":[", t->ggml_type,
               t->dtype == ZF_DTYPE_COUNT ? "none" : zf_dtype_name(t->dtype));
        for (uint32_t d = 0; d < t->n_dims; d++) printf("%s%lld", d ? "," : "", (long long)t->ne[d]);
        printf("],\"offset\":%llu,\"size\":%llu}", (unsigned long long)t->offset, (unsigned long long)t->size);
    }
    printf("]}\n");
    zf_gguf_close(g);
    return 0;
}

static int write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        if (f) fclose(f);
        fprintf(stderr, "gguf_tool: cannot write %s\n", path);
        return 1;
    }
    return fclose(f) != 0;
}

static void *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(len > 0 ? (size_t)len : 1);
    if (p && len > 0 && fread(p, 1, (size_t)len, f) != (size_t)len) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *n = len > 0 ? (size_t)len : 0;
    return p;
}

static int cmd_dequant(const char *path, const char *outdir) {
    zf_gguf *g = zf_gguf_open(path);
    if (!g) return fail("open");
    int rc = 0, count = 0;
    for (int64_t i = 0; i < zf_gguf_n_tensors(g) && rc == 0; i++) {
        const zf_gguf_tensor_info *t = zf_gguf_tensor(g, i);
        if (!zf_quant_supported(t->dtype)) continue;
        const void *src = zf_gguf_tensor_data(g, i);
        float *dst = malloc((size_t)(t->n_elements ? t->n_elements : 1) * sizeof(float));
        if (!src || !dst || zf_dequantize(t->dtype, src, dst, t->n_elements)) {
            rc = fail(t->name);
        } else {
            char out[4096];
            snprintf(out, sizeof out, "%s/%lld.f32", outdir, (long long)i);
            rc = write_file(out, dst, (size_t)t->n_elements * sizeof(float));
            count++;
        }
        free(dst);
    }
    zf_gguf_close(g);
    if (rc == 0) printf("dequantized %d tensors\n", count);
    return rc;
}

static int cmd_quant(const char *type, const char *in, const char *out, bool to_blocks) {
    zf_dtype t = zf_dtype_from_name(type);
    if (!zf_quant_supported(t)) {
        fprintf(stderr, "gguf_tool: unsupported type '%s'\n", type);
        return 1;
    }
    size_t n;
    void *src = read_file(in, &n);
    if (!src) {
        fprintf(stderr, "gguf_tool: cannot read %s\n", in);
        return 1;
    }
    int rc;
    int64_t blk = zf_dtype_block(t), bs = (int64_t)zf_dtype_size(t);
    int64_t n_el = to_blocks ? (int64_t)(n / 4) : (int64_t)(n / (size_t)bs) * blk;
    size_t qbytes = zf_quant_row_size(t, n_el);
    if (n_el > 0 && qbytes == 0) {
        free(src);
        return fail("size");
    }
    void *dst = malloc(to_blocks ? (qbytes ? qbytes : 1) : (size_t)(n_el ? n_el : 1) * 4);
    zf_status s = to_blocks ? zf_quantize(t, src, dst, n_el) : zf_dequantize(t, src, dst, n_el);
    if (s) rc = fail(to_blocks ? "quantize" : "dequantize");
    else rc = write_file(out, dst, to_blocks ? qbytes : (size_t)n_el * 4);
    free(src);
    free(dst);
    return rc;
}

static int cmd_roundtrip(const char *in, const char *out) {
    zf_gguf *g = zf_gguf_open(in);
    if (!g) return fail("open");
    zf_gguf_writer *w = zf_gguf_writer_new();
    int rc = w ? 0 : fail("writer");
    for (int64_t i = 0; rc == 0 && i < zf_gguf_n_kv(g); i++)
        if (zf_gguf_writer_set_val(w, zf_gguf_kv_key(g, i), zf_gguf_kv_val(g, i))) rc = fail("set_val");
    for (int64_t i = 0; rc == 0 && i < zf_gguf_n_tensors(g); i++) {
        const zf_gguf_tensor_info *t = zf_gguf_tensor(g, i);
        if (zf_gguf_writer_add_tensor_raw(w, t->name, t->ggml_type, t->n_dims, t->ne, zf_gguf_tensor_raw(g, i),
                                          t->size))
            rc = fail("add_tensor");
    }
    if (rc == 0 && zf_gguf_writer_write(w, out)) rc = fail("write");
    zf_gguf_writer_free(w);
    zf_gguf_close(g);
    return rc;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "dump") == 0) return cmd_dump(argv[2]);
    if (argc == 4 && strcmp(argv[1], "dequant") == 0) return cmd_dequant(argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "quant") == 0) return cmd_quant(argv[2], argv[3], argv[4], true);
    if (argc == 5 && strcmp(argv[1], "dequantraw") == 0) return cmd_quant(argv[2], argv[3], argv[4], false);
    if (argc == 4 && strcmp(argv[1], "roundtrip") == 0) return cmd_roundtrip(argv[2], argv[3]);
    fprintf(stderr,
            "usage: gguf_tool dump FILE | dequant FILE OUTDIR | quant TYPE IN OUT | dequantraw TYPE IN OUT |"
            " roundtrip IN OUT\n");
    return 2;
}
