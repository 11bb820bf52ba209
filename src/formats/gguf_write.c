/* GGUF writer; see include/zerfoo/gguf.h.
 *
 * Metadata values are kept serialized (the bytes that follow the u32 type tag
 * in the file), so scalars, strings, arrays built element by element and
 * values copied from a reader are all stored the same way. Tensor data is
 * borrowed and only read during zf_gguf_writer_write.
 *
 * Output layout (GGUF v3, as gguf-py's GGUFWriter writes it): header, kvs,
 * tensor infos with offsets = running sum of sizes padded to the alignment,
 * zero padding to the alignment, then each tensor's data followed by zero
 * padding to the alignment (the last one too). */
#define _POSIX_C_SOURCE 200809L
#include "formats/gguf_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    uint8_t *p;
    size_t len, cap;
} bytes;

static zf_status bytes_add(bytes *b, const void *src, size_t n) {
    if (n > SIZE_MAX - b->len) return zf_set_error(ZF_ERR_OVERFLOW, "gguf writer: value too large");
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n) {
            if (cap > SIZE_MAX / 2) { cap = b->len + n; break; }
            cap *= 2;
        }
        uint8_t *p = realloc(b->p, cap);
        if (!p) return zf_set_error(ZF_ERR_OOM, "gguf writer: out of memory (%zu bytes)", cap);
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, src, n);
    b->len += n;
    return ZF_OK;
}

typedef struct {
    char *key;
    uint32_t type;
    bytes val; /* serialized value after the type tag */
} wkv;

typedef struct {
    char *name;
    uint32_t ggml_type;
    uint32_t n_dims;
    int64_t ne[ZF_GGUF_MAX_DIMS];
    const void *data; /* borrowed */
    uint64_t nbytes;
} wtensor;

typedef struct {
    size_t count_pos; /* where the u64 element count goes in arr */
    uint32_t elem_type;
    uint64_t count;
} wframe;

struct zf_gguf_writer {
    wkv *kv;
    size_t n_kv, cap_kv;
    zf_strmap kv_map;
    wtensor *t;
    size_t n_t, cap_t;
    zf_strmap t_map;
    /* array under construction (depth > 0) */
    int depth;
    wframe stack[ZF_GGUF_MAX_DEPTH];
    char *arr_key;
    bytes arr;
};

zf_gguf_writer *zf_gguf_writer_new(void) {
    zf_gguf_writer *w = calloc(1, sizeof *w);
    if (!w) zf_set_error(ZF_ERR_OOM, "gguf writer: out of memory");
    return w;
}

void zf_gguf_writer_free(zf_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].val.p);
    }
    for (size_t i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->kv);
    free(w->t);
    zf_strmap_free(&w->kv_map);
    zf_strmap_free(&w->t_map);
    free(w->arr_key);
    free(w->arr.p);
    free(w);
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Stores `val` (ownership taken, also on failure) under key. */
static zf_status commit_kv(zf_gguf_writer *w, const char *key, uint32_t type, bytes val) {
    int64_t i = zf_strmap_get(&w->kv_map, key, strlen(key));
    if (i >= 0) { /* replace in place, keeping the key's position */
        free(w->kv[i].val.p);
        w->kv[i].type = type;
        w->kv[i].val = val;
        return ZF_OK;
    }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 16;
        wkv *kv = realloc(w->kv, cap * sizeof *kv);
        if (!kv) {
            free(val.p);
            return zf_set_error(ZF_ERR_OOM, "gguf writer: out of memory");
        }
        w->kv = kv;
        w->cap_kv = cap;
    }
    char *k = dup_str(key);
    if (!k) {
        free(val.p);
        return zf_set_error(ZF_ERR_OOM, "gguf writer: out of memory");
    }
    zf_status s = zf_strmap_put(&w->kv_map, k, strlen(k), (int64_t)w->n_kv);
    if (s) {
        free(k);
        free(val.p);
        return s;
    }
    w->kv[w->n_kv++] = (wkv){k, type, val};
    return ZF_OK;
}

static zf_status check_set(zf_gguf_writer *w, const char *key) {
    if (!w || !key) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: NULL writer or key");
    if (w->depth > 0)
        return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: cannot set '%s' while array '%s' is open",
                            key, w->arr_key);
    return ZF_OK;
}

static zf_status set_raw(zf_gguf_writer *w, const char *key, uint32_t type, const void *payload, size_t len) {
    zf_status s = check_set(w, key);
    if (s) return s;
    bytes b = {0};
    if ((s = bytes_add(&b, payload, len))) {
        free(b.p);
        return s;
    }
    return commit_kv(w, key, type, b);
}

zf_status zf_gguf_writer_set_u8(zf_gguf_writer *w, const char *key, uint8_t v) { return set_raw(w, key, ZF_GGUF_UINT8, &v, 1); }
zf_status zf_gguf_writer_set_i8(zf_gguf_writer *w, const char *key, int8_t v) { return set_raw(w, key, ZF_GGUF_INT8, &v, 1); }
zf_status zf_gguf_writer_set_u16(zf_gguf_writer *w, const char *key, uint16_t v) { return set_raw(w, key, ZF_GGUF_UINT16, &v, 2); }
zf_status zf_gguf_writer_set_i16(zf_gguf_writer *w, const char *key, int16_t v) { return set_raw(w, key, ZF_GGUF_INT16, &v, 2); }
zf_status zf_gguf_writer_set_u32(zf_gguf_writer *w, const char *key, uint32_t v) { return set_raw(w, key, ZF_GGUF_UINT32, &v, 4); }
zf_status zf_gguf_writer_set_i32(zf_gguf_writer *w, const char *key, int32_t v) { return set_raw(w, key, ZF_GGUF_INT32, &v, 4); }
zf_status zf_gguf_writer_set_u64(zf_gguf_writer *w, const char *key, uint64_t v) { return set_raw(w, key, ZF_GGUF_UINT64, &v, 8); }
zf_status zf_gguf_writer_set_i64(zf_gguf_writer *w, const char *key, int64_t v) { return set_raw(w, key, ZF_GGUF_INT64, &v, 8); }
zf_status zf_gguf_writer_set_f32(zf_gguf_writer *w, const char *key, float v) { return set_raw(w, key, ZF_GGUF_FLOAT32, &v, 4); }
zf_status zf_gguf_writer_set_f64(zf_gguf_writer *w, const char *key, double v) { return set_raw(w, key, ZF_GGUF_FLOAT64, &v, 8); }

zf_status zf_gguf_writer_set_bool(zf_gguf_writer *w, const char *key, bool v) {
    uint8_t b = v ? 1 : 0;
    return set_raw(w, key, ZF_GGUF_BOOL, &b, 1);
}

zf_status zf_gguf_writer_set_strn(zf_gguf_writer *w, const char *key, const char *s, uint64_t len) {
    zf_status st = check_set(w, key);
    if (st) return st;
    if (!s && len) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: '%s': NULL string", key);
    bytes b = {0};
    if ((st = bytes_add(&b, &len, 8)) || (st = bytes_add(&b, s, (size_t)len))) {
        free(b.p);
        return st;
    }
    return commit_kv(w, key, ZF_GGUF_STRING, b);
}

zf_status zf_gguf_writer_set_str(zf_gguf_writer *w, const char *key, const char *s) {
    if (!s) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: NULL string");
    return zf_gguf_writer_set_strn(w, key, s, strlen(s));
}

zf_status zf_gguf_writer_set_val(zf_gguf_writer *w, const char *key, const zf_gguf_val *v) {
    if (!v) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: NULL value");
    return set_raw(w, key, v->type, v->raw, (size_t)v->raw_len);
}

/* ---- arrays ---- */

zf_status zf_gguf_writer_arr_begin(zf_gguf_writer *w, const char *key, zf_gguf_type elem_type) {
    if (!w) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: NULL writer");
    if ((unsigned)elem_type >= ZF_GGUF_TYPE_COUNT)
        return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: invalid array element type %d", (int)elem_type);
    if (w->depth == 0) {
        if (!key) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: a top-level array needs a key");
        char *k = dup_str(key);
        if (!k) return zf_set_error(ZF_ERR_OOM, "gguf writer: out of memory");
        free(w->arr_key);
        w->arr_key = k;
        w->arr.len = 0;
    } else {
        wframe *top = &w->stack[w->depth - 1];
        if (key) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: a nested array takes no key");
        if (top->elem_type != ZF_GGUF_ARRAY)
            return zf_set_error(ZF_ERR_DTYPE, "gguf writer: array '%s' holds %s, not arrays", w->arr_key,
                                zf_gguf_type_name((zf_gguf_type)top->elem_type));
        if (w->depth >= ZF_GGUF_MAX_DEPTH)
            return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: arrays nested deeper than %d", ZF_GGUF_MAX_DEPTH);
    }
    uint32_t et = (uint32_t)elem_type;
    uint64_t zero = 0;
    size_t count_pos = w->arr.len + 4;
    zf_status s;
    if ((s = bytes_add(&w->arr, &et, 4)) || (s = bytes_add(&w->arr, &zero, 8))) return s;
    if (w->depth > 0) w->stack[w->depth - 1].count++;
    w->stack[w->depth++] = (wframe){count_pos, et, 0};
    return ZF_OK;
}

zf_status zf_gguf_writer_arr_push(zf_gguf_writer *w, const void *elems, uint64_t n) {
    if (!w || w->depth == 0) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: no open array");
    wframe *top = &w->stack[w->depth - 1];
    size_t es = zf_gguf_type_size_raw(top->elem_type);
    if (!es)
        return zf_set_error(ZF_ERR_DTYPE, "gguf writer: array '%s' holds %s; use arr_push_str or arr_begin",
                            w->arr_key, zf_gguf_type_name((zf_gguf_type)top->elem_type));
    if (n > SIZE_MAX / es) return zf_set_error(ZF_ERR_OVERFLOW, "gguf writer: array too large");
    if (!elems && n) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: NULL elements");
    zf_status s = bytes_add(&w->arr, elems, (size_t)n * es);
    if (s) return s;
    top->count += n;
    return ZF_OK;
}

zf_status zf_gguf_writer_arr_push_str(zf_gguf_writer *w, const char *str, uint64_t len) {
    if (!w || w->depth == 0) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: no open array");
    wframe *top = &w->stack[w->depth - 1];
    if (top->elem_type != ZF_GGUF_STRING)
        return zf_set_error(ZF_ERR_DTYPE, "gguf writer: array '%s' holds %s, not strings", w->arr_key,
                            zf_gguf_type_name((zf_gguf_type)top->elem_type));
    if (!str && len) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: NULL string");
    zf_status s;
    if ((s = bytes_add(&w->arr, &len, 8)) || (s = bytes_add(&w->arr, str, (size_t)len))) return s;
    top->count++;
    return ZF_OK;
}

zf_status zf_gguf_writer_arr_end(zf_gguf_writer *w) {
    if (!w || w->depth == 0) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: no open array");
    wframe *top = &w->stack[--w->depth];
    memcpy(w->arr.p + top->count_pos, &top->count, 8);
    if (w->depth > 0) return ZF_OK;
    bytes val = w->arr; /* hand the buffer to the kv entry */
    w->arr = (bytes){0};
    zf_status s = commit_kv(w, w->arr_key, ZF_GGUF_ARRAY, val);
    free(w->arr_key);
    w->arr_key = NULL;
    return s;
}

zf_status zf_gguf_writer_set_arr(zf_gguf_writer *w, const char *key, zf_gguf_type elem_type, const void *data,
                                 uint64_t n) {
    zf_status s = check_set(w, key);
    if (s) return s;
    if (!zf_gguf_type_size(elem_type))
        return zf_set_error(ZF_ERR_DTYPE, "gguf writer: '%s': set_arr needs a fixed-size element type, not %s",
                            key, zf_gguf_type_name(elem_type));
    if ((s = zf_gguf_writer_arr_begin(w, key, elem_type)) || (s = zf_gguf_writer_arr_push(w, data, n))) {
        w->depth = 0;
        return s;
    }
    return zf_gguf_writer_arr_end(w);
}

zf_status zf_gguf_writer_set_arr_str(zf_gguf_writer *w, const char *key, const char *const *strs, uint64_t n) {
    zf_status s = check_set(w, key);
    if (s) return s;
    if (!strs && n) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: '%s': NULL strings", key);
    if ((s = zf_gguf_writer_arr_begin(w, key, ZF_GGUF_STRING))) return s;
    for (uint64_t i = 0; i < n; i++) {
        if (!strs[i]) s = zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: '%s': string %llu is NULL", key,
                                       (unsigned long long)i);
        else s = zf_gguf_writer_arr_push_str(w, strs[i], strlen(strs[i]));
        if (s) {
            w->depth = 0;
            return s;
        }
    }
    return zf_gguf_writer_arr_end(w);
}

/* ---- tensors ---- */

zf_status zf_gguf_writer_add_tensor_raw(zf_gguf_writer *w, const char *name, uint32_t ggml_type, uint32_t n_dims,
                                        const int64_t *ne, const void *data, uint64_t nbytes) {
    if (!w || !name) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: NULL writer or tensor name");
    if (!zf_ggml_type_known(ggml_type))
        return zf_set_error(ZF_ERR_DTYPE, "gguf writer: tensor '%s': unknown ggml type %u", name, ggml_type);
    if (n_dims > ZF_GGUF_MAX_DIMS)
        return zf_set_error(ZF_ERR_SHAPE, "gguf writer: tensor '%s': %u dims, at most %d", name, n_dims,
                            ZF_GGUF_MAX_DIMS);
    if (n_dims && !ne) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: tensor '%s': NULL shape", name);
    if (zf_strmap_get(&w->t_map, name, strlen(name)) >= 0)
        return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: duplicate tensor name '%s'", name);
    wtensor t = {.ggml_type = ggml_type, .n_dims = n_dims, .data = data, .nbytes = nbytes};
    int64_t n_el = 1;
    for (int d = 0; d < ZF_GGUF_MAX_DIMS; d++) t.ne[d] = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] < 0) return zf_set_error(ZF_ERR_SHAPE, "gguf writer: tensor '%s': negative dim", name);
        t.ne[d] = ne[d];
    }
    for (uint32_t d = 0; d < n_dims; d++) {
        if (t.ne[d] == 0) { n_el = 0; break; }
        if (n_el > INT64_MAX / t.ne[d])
            return zf_set_error(ZF_ERR_OVERFLOW, "gguf writer: tensor '%s': element count overflows", name);
        n_el *= t.ne[d];
    }
    int64_t blk = zf_ggml_block_size(ggml_type);
    if (t.ne[0] % blk)
        return zf_set_error(ZF_ERR_SHAPE, "gguf writer: tensor '%s': ne[0] = %lld is not a multiple of the %s block size %lld",
                            name, (long long)t.ne[0], zf_ggml_type_name(ggml_type), (long long)blk);
    uint64_t blocks = (uint64_t)(n_el / blk), bs = zf_ggml_type_size(ggml_type);
    if (blocks > UINT64_MAX / bs)
        return zf_set_error(ZF_ERR_OVERFLOW, "gguf writer: tensor '%s': byte size overflows", name);
    if (blocks * bs != nbytes)
        return zf_set_error(ZF_ERR_SHAPE, "gguf writer: tensor '%s': %llu bytes given, the shape needs %llu", name,
                            (unsigned long long)nbytes, (unsigned long long)(blocks * bs));
    if (nbytes && !data) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: tensor '%s': NULL data", name);
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? w->cap_t * 2 : 16;
        wtensor *tt = realloc(w->t, cap * sizeof *tt);
        if (!tt) return zf_set_error(ZF_ERR_OOM, "gguf writer: out of memory");
        w->t = tt;
        w->cap_t = cap;
    }
    if (!(t.name = dup_str(name))) return zf_set_error(ZF_ERR_OOM, "gguf writer: out of memory");
    zf_status s = zf_strmap_put(&w->t_map, t.name, strlen(t.name), (int64_t)w->n_t);
    if (s) {
        free(t.name);
        return s;
    }
    w->t[w->n_t++] = t;
    return ZF_OK;
}

zf_status zf_gguf_writer_add_tensor(zf_gguf_writer *w, const char *name, zf_dtype dtype, uint32_t n_dims,
                                    const int64_t *ne, const void *data) {
    int32_t gt = zf_ggml_from_dtype(dtype);
    if (gt < 0)
        return zf_set_error(ZF_ERR_DTYPE, "gguf writer: tensor '%s': dtype %s has no GGUF type", name ? name : "?",
                            zf_dtype_name(dtype));
    if (n_dims > ZF_GGUF_MAX_DIMS || (n_dims && !ne))
        return zf_gguf_writer_add_tensor_raw(w, name, (uint32_t)gt, n_dims, ne, data, 0); /* reports it */
    /* size from the shape; add_tensor_raw re-checks everything */
    uint64_t n_el = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] <= 0 || n_el > (uint64_t)INT64_MAX / (uint64_t)ne[d]) { n_el = 0; break; }
        n_el *= (uint64_t)ne[d];
    }
    uint64_t blk = (uint64_t)zf_ggml_block_size((uint32_t)gt);
    uint64_t nbytes = n_el / blk * zf_ggml_type_size((uint32_t)gt);
    return zf_gguf_writer_add_tensor_raw(w, name, (uint32_t)gt, n_dims, ne, data, nbytes);
}

/* ---- output ---- */

typedef struct {
    FILE *f;
    uint64_t pos;
    bool failed;
} out;

static void put(out *o, const void *p, size_t n) {
    if (o->failed || n == 0) return;
    if (fwrite(p, 1, n, o->f) != n) o->failed = true;
    o->pos += n;
}
static void put_u32(out *o, uint32_t v) { put(o, &v, 4); }
static void put_u64(out *o, uint64_t v) { put(o, &v, 8); }

static void put_zeros(out *o, uint64_t n) {
    static const uint8_t zeros[4096];
    while (n > 0 && !o->failed) {
        size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        put(o, zeros, k);
        n -= k;
    }
}

static uint64_t pad_to(uint64_t x, uint64_t a) { return (a - x % a) % a; }

static zf_status writer_alignment(const zf_gguf_writer *w, uint64_t *align) {
    *align = ZF_GGUF_DEFAULT_ALIGNMENT;
    int64_t i = zf_strmap_get(&w->kv_map, "general.alignment", strlen("general.alignment"));
    if (i < 0) return ZF_OK;
    const wkv *e = &w->kv[i];
    if (e->type != ZF_GGUF_UINT32)
        return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: general.alignment must be a u32, not %s",
                            zf_gguf_type_name((zf_gguf_type)e->type));
    uint32_t a;
    memcpy(&a, e->val.p, 4);
    if (a == 0 || (a & (a - 1)))
        return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: general.alignment = %u is not a power of two", a);
    *align = a;
    return ZF_OK;
}

static void write_body(const zf_gguf_writer *w, out *o, uint64_t align) {
    put(o, "GGUF", 4);
    put_u32(o, 3);
    put_u64(o, (uint64_t)w->n_t);
    put_u64(o, (uint64_t)w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        const wkv *e = &w->kv[i];
        uint64_t kl = strlen(e->key);
        put_u64(o, kl);
        put(o, e->key, (size_t)kl);
        put_u32(o, e->type);
        put(o, e->val.p, e->val.len);
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        uint64_t nl = strlen(t->name);
        put_u64(o, nl);
        put(o, t->name, (size_t)nl);
        put_u32(o, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) put_u64(o, (uint64_t)t->ne[d]);
        put_u32(o, t->ggml_type);
        put_u64(o, offset);
        offset += t->nbytes + pad_to(t->nbytes, align);
    }
    put_zeros(o, pad_to(o->pos, align));
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        put(o, t->data, (size_t)t->nbytes);
        put_zeros(o, pad_to(t->nbytes, align));
    }
}

/* fsync the directory holding path so the rename is durable (best effort). */
static void sync_parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir) snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else return;
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

zf_status zf_gguf_writer_write(zf_gguf_writer *w, const char *path) {
    if (!w || !path) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: NULL writer or path");
    if (w->depth > 0)
        return zf_set_error(ZF_ERR_INVALID_ARG, "gguf writer: array '%s' is still open", w->arr_key);
    uint64_t align;
    zf_status s = writer_alignment(w, &align);
    if (s) return s;
    /* the offsets must fit u64 */
    uint64_t total = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        uint64_t sz = w->t[i].nbytes + pad_to(w->t[i].nbytes, align);
        if (sz < w->t[i].nbytes || total > UINT64_MAX - sz)
            return zf_set_error(ZF_ERR_OVERFLOW, "gguf writer: tensor data too large");
        total += sz;
    }

    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) return zf_set_error(ZF_ERR_OOM, "gguf writer: out of memory");
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        s = zf_set_error(ZF_ERR_IO, "gguf writer: cannot create a temporary file next to '%s': %s", path,
                         strerror(errno));
        free(tmp);
        return s;
    }
    (void)fchmod(fd, 0644);
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        s = zf_set_error(ZF_ERR_IO, "gguf writer: fdopen failed: %s", strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return s;
    }
    out o = {f, 0, false};
    write_body(w, &o, align);
    int err = 0;
    if (o.failed || fflush(f) != 0) err = errno ? errno : EIO;
    if (!err && fsync(fileno(f)) != 0) err = errno;
    if (fclose(f) != 0 && !err) err = errno;
    if (!err && rename(tmp, path) != 0) err = errno;
    if (err) {
        unlink(tmp);
        s = zf_set_error(ZF_ERR_IO, "gguf writer: writing '%s' failed: %s", path, strerror(err));
        free(tmp);
        return s;
    }
    free(tmp);
    sync_parent_dir(path);
    return ZF_OK;
}
