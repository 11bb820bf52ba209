/* GGUF reader; see include/zerfoo/gguf.h for the format and the contract.
 *
 * Safety: the parser walks the image with a cursor that checks every read
 * against the bytes left, in 64-bit arithmetic written so it cannot overflow
 * (compare a count with remaining/size, never count*size with remaining).
 * Before allocating per-element bookkeeping for n items it checks that the
 * file holds at least n minimal encodings of them, so allocations stay within
 * a small multiple of the file size. */
#define _POSIX_C_SOURCE 200809L
#include "formats/gguf_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char *key; /* NUL-terminated, into names (fixed up after parsing) */
    zf_gguf_val val;
} kv_entry;

struct zf_gguf {
    const uint8_t *base; /* file image */
    uint64_t size;
    void *map; /* non-NULL when we mmapped base */
    size_t map_len;
    uint32_t version;
    uint64_t alignment;
    uint64_t data_offset;
    int64_t n_kv;
    kv_entry *kv;
    int64_t n_tensors;
    zf_gguf_tensor_info *tensors;
    char *names; /* keys and tensor names, each NUL-terminated */
    zf_strmap key_map, tensor_map;
};

/* ---- cursor ---- */

typedef struct {
    const uint8_t *base;
    uint64_t size, pos;
    char *names; /* growing buffer of NUL-terminated names */
    size_t names_len, names_cap;
} parser;

static uint64_t left(const parser *ps) { return ps->size - ps->pos; }

static zf_status need(parser *ps, uint64_t n, const char *what) {
    if (n > left(ps))
        return zf_set_error(ZF_ERR_FORMAT,
                            "gguf: truncated file: %s needs %llu bytes at offset %llu, only %llu left",
                            what, (unsigned long long)n, (unsigned long long)ps->pos,
                            (unsigned long long)left(ps));
    return ZF_OK;
}

static zf_status rd_u32(parser *ps, uint32_t *out, const char *what) {
    zf_status s = need(ps, 4, what);
    if (s) return s;
    memcpy(out, ps->base + ps->pos, 4);
    ps->pos += 4;
    return ZF_OK;
}

static zf_status rd_u64(parser *ps, uint64_t *out, const char *what) {
    zf_status s = need(ps, 8, what);
    if (s) return s;
    memcpy(out, ps->base + ps->pos, 8);
    ps->pos += 8;
    return ZF_OK;
}

/* A GGUF string: u64 length, then that many bytes. */
static zf_status rd_str(parser *ps, const uint8_t **ptr, uint64_t *len, const char *what) {
    zf_status s = rd_u64(ps, len, what);
    if (s) return s;
    if (*len > left(ps))
        return zf_set_error(ZF_ERR_FORMAT,
                            "gguf: %s: string length %llu at offset %llu runs past the end of the file (%llu bytes left)",
                            what, (unsigned long long)*len, (unsigned long long)(ps->pos - 8),
                            (unsigned long long)left(ps));
    *ptr = ps->base + ps->pos;
    ps->pos += *len;
    return ZF_OK;
}

/* Copies a name into the names buffer; returns its offset there via *off.
 * Names are bounded by the file size, so the buffer is too. */
static zf_status save_name(parser *ps, const uint8_t *p, uint64_t len, size_t *off, const char *what) {
    if (memchr(p, 0, (size_t)len))
        return zf_set_error(ZF_ERR_FORMAT, "gguf: %s contains a NUL byte", what);
    size_t need_cap = ps->names_len + (size_t)len + 1;
    if (need_cap > ps->names_cap) {
        size_t cap = ps->names_cap ? ps->names_cap : 256;
        while (cap < need_cap) cap *= 2;
        char *n = realloc(ps->names, cap);
        if (!n) return zf_set_error(ZF_ERR_OOM, "gguf: out of memory storing names (%zu bytes)", cap);
        ps->names = n;
        ps->names_cap = cap;
    }
    memcpy(ps->names + ps->names_len, p, (size_t)len);
    ps->names[ps->names_len + len] = '\0';
    *off = ps->names_len;
    ps->names_len += (size_t)len + 1;
    return ZF_OK;
}

/* ---- values ---- */

static void val_free(zf_gguf_val *v) {
    if (v->kids) {
        for (uint64_t i = 0; i < v->n; i++) val_free(&v->kids[i]);
        free(v->kids);
    }
    free(v->str_off);
    v->kids = NULL;
    v->str_off = NULL;
}

/* Parses one value of `type` at the cursor into *v (zeroed by the caller).
 * `key` names the entry for messages. */
static zf_status parse_value(parser *ps, zf_gguf_val *v, uint32_t type, int depth, const char *key) {
    zf_status s;
    v->type = type;
    v->raw = ps->base + ps->pos;
    size_t fixed = zf_gguf_type_size_raw(type);
    if (fixed) {
        if ((s = need(ps, fixed, key))) return s;
        v->p = ps->base + ps->pos;
        ps->pos += fixed;
    } else if (type == ZF_GGUF_STRING) {
        if ((s = rd_str(ps, &v->p, &v->n, key))) return s;
    } else if (type == ZF_GGUF_ARRAY) {
        uint32_t et;
        if (depth >= ZF_GGUF_MAX_DEPTH) /* depth 0: the kv's own value */
            return zf_set_error(ZF_ERR_FORMAT, "gguf: key '%s': arrays nested deeper than %d",
                                key, ZF_GGUF_MAX_DEPTH);
        uint64_t n;
        if ((s = rd_u32(ps, &et, key))) return s;
        if (et >= ZF_GGUF_TYPE_COUNT)
            return zf_set_error(ZF_ERR_FORMAT, "gguf: key '%s': unknown array element type %u", key, et);
        if ((s = rd_u64(ps, &n, key))) return s;
        v->elem_type = et;
        v->n = n;
        v->p = ps->base + ps->pos;
        /* smallest encoding of one element: its fixed size, a string's u64
         * length, or a nested array's u32 type + u64 count */
        size_t esize = zf_gguf_type_size_raw(et);
        uint64_t min_elem = esize ? esize : (et == ZF_GGUF_STRING ? 8 : 12);
        if (n > left(ps) / min_elem)
            return zf_set_error(ZF_ERR_FORMAT,
                                "gguf: key '%s': array of %llu %s elements cannot fit in the %llu bytes left",
                                key, (unsigned long long)n, zf_gguf_type_name((zf_gguf_type)et),
                                (unsigned long long)left(ps));
        if (esize) {
            ps->pos += n * esize;
        } else if (et == ZF_GGUF_STRING) {
            v->str_off = malloc((size_t)(n ? n : 1) * sizeof *v->str_off);
            if (!v->str_off) return zf_set_error(ZF_ERR_OOM, "gguf: key '%s': out of memory", key);
            for (uint64_t i = 0; i < n; i++) {
                const uint8_t *sp;
                uint64_t sl;
                v->str_off[i] = (uint64_t)(ps->base + ps->pos - v->p);
                if ((s = rd_str(ps, &sp, &sl, key))) return s;
            }
        } else {
            v->kids = calloc((size_t)(n ? n : 1), sizeof *v->kids);
            if (!v->kids) return zf_set_error(ZF_ERR_OOM, "gguf: key '%s': out of memory", key);
            for (uint64_t i = 0; i < n; i++)
                if ((s = parse_value(ps, &v->kids[i], ZF_GGUF_ARRAY, depth + 1, key))) return s;
        }
    } else {
        return zf_set_error(ZF_ERR_FORMAT, "gguf: key '%s': unknown value type %u", key, type);
    }
    v->raw_len = (uint64_t)(ps->base + ps->pos - v->raw);
    return ZF_OK;
}

/* ---- open ---- */

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

static zf_status parse_tensor_info(parser *ps, zf_gguf *g, int64_t i, size_t *name_off) {
    zf_status s;
    zf_gguf_tensor_info *t = &g->tensors[i];
    const uint8_t *np;
    uint64_t nl;
    char what[64];
    snprintf(what, sizeof what, "tensor %lld name", (long long)i);
    if ((s = rd_str(ps, &np, &nl, what))) return s;
    if ((s = save_name(ps, np, nl, name_off, what))) return s;
    const char *name = ps->names + *name_off; /* valid until the next save_name */
    if ((s = rd_u32(ps, &t->n_dims, name))) return s;
    if (t->n_dims > ZF_GGUF_MAX_DIMS)
        return zf_set_error(ZF_ERR_FORMAT, "gguf: tensor '%s': %u dimensions, at most %d allowed",
                            name, t->n_dims, ZF_GGUF_MAX_DIMS);
    int64_t n_el = 1;
    bool overflow = false;
    for (int d = 0; d < ZF_GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t ne;
        if ((s = rd_u64(ps, &ne, name))) return s;
        if (ne > (uint64_t)INT64_MAX)
            return zf_set_error(ZF_ERR_FORMAT, "gguf: tensor '%s': dimension %u is %llu, larger than INT64_MAX",
                                name, d, (unsigned long long)ne);
        t->ne[d] = (int64_t)ne;
        if (ne != 0 && n_el > INT64_MAX / (int64_t)ne) overflow = true;
        else n_el *= (int64_t)ne;
    }
    /* a zero dim makes the product 0 however large the others are */
    for (uint32_t d = 0; d < t->n_dims; d++)
        if (t->ne[d] == 0) { overflow = false; n_el = 0; }
    if (overflow)
        return zf_set_error(ZF_ERR_FORMAT, "gguf: tensor '%s': element count overflows int64", name);
    t->n_elements = n_el;
    if ((s = rd_u32(ps, &t->ggml_type, name))) return s;
    if (!zf_ggml_type_known(t->ggml_type))
        return zf_set_error(ZF_ERR_FORMAT, "gguf: tensor '%s': unknown ggml type %u", name, t->ggml_type);
    t->dtype = zf_ggml_to_dtype(t->ggml_type);
    int64_t blk = zf_ggml_block_size(t->ggml_type);
    if (t->ne[0] % blk != 0)
        return zf_set_error(ZF_ERR_FORMAT, "gguf: tensor '%s': ne[0] = %lld is not a multiple of the %s block size %lld",
                            name, (long long)t->ne[0], zf_ggml_type_name(t->ggml_type), (long long)blk);
    uint64_t blocks = (uint64_t)n_el / (uint64_t)blk;
    uint64_t bsize = zf_ggml_type_size(t->ggml_type);
    if (blocks > UINT64_MAX / bsize)
        return zf_set_error(ZF_ERR_FORMAT, "gguf: tensor '%s': byte size overflows", name);
    t->size = blocks * bsize;
    if ((s = rd_u64(ps, &t->offset, name))) return s;
    return ZF_OK;
}

static zf_status find_alignment(zf_gguf *g) {
    g->alignment = ZF_GGUF_DEFAULT_ALIGNMENT;
    int64_t i = zf_strmap_get(&g->key_map, "general.alignment", strlen("general.alignment"));
    if (i < 0) return ZF_OK;
    const zf_gguf_val *v = &g->kv[i].val;
    if (v->type != ZF_GGUF_UINT32)
        return zf_set_error(ZF_ERR_FORMAT, "gguf: general.alignment must be a u32, found %s",
                            zf_gguf_type_name((zf_gguf_type)v->type));
    uint32_t a;
    memcpy(&a, v->p, 4);
    if (a == 0 || (a & (a - 1)) != 0)
        return zf_set_error(ZF_ERR_FORMAT, "gguf: general.alignment = %u is not a power of two", a);
    g->alignment = a;
    return ZF_OK;
}

static zf_status parse(zf_gguf *g) {
    parser ps = {.base = g->base, .size = g->size};
    zf_status s;
    size_t *kv_off = NULL, *t_off = NULL;
    uint32_t magic;
    if ((s = rd_u32(&ps, &magic, "magic"))) goto done;
    if (memcmp(g->base, "GGUF", 4) != 0) {
        s = zf_set_error(ZF_ERR_FORMAT, "gguf: bad magic %02x %02x %02x %02x, expected \"GGUF\"",
                         g->base[0], g->base[1], g->base[2], g->base[3]);
        goto done;
    }
    if ((s = rd_u32(&ps, &g->version, "version"))) goto done;
    if (g->version == 1) {
        s = zf_set_error(ZF_ERR_UNSUPPORTED, "gguf: version 1 files are not supported (only 2 and 3)");
        goto done;
    }
    if (g->version != 2 && g->version != 3) {
        uint32_t v = g->version;
        uint32_t sw = (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
        if (sw == 2 || sw == 3)
            s = zf_set_error(ZF_ERR_UNSUPPORTED, "gguf: big-endian files are not supported");
        else
            s = zf_set_error(ZF_ERR_FORMAT, "gguf: unknown version %u", v);
        goto done;
    }
    uint64_t n_tensors, n_kv;
    if ((s = rd_u64(&ps, &n_tensors, "tensor count"))) goto done;
    if ((s = rd_u64(&ps, &n_kv, "metadata count"))) goto done;
    /* smallest kv: u64 key length + u32 type + 1-byte value = 13 bytes;
     * smallest tensor info: u64 name length + u32 n_dims + u32 type + u64 offset = 24 */
    if (n_kv > left(&ps) / 13) {
        s = zf_set_error(ZF_ERR_FORMAT, "gguf: %llu metadata entries cannot fit in a %llu-byte file",
                         (unsigned long long)n_kv, (unsigned long long)g->size);
        goto done;
    }
    if (n_tensors > left(&ps) / 24) {
        s = zf_set_error(ZF_ERR_FORMAT, "gguf: %llu tensors cannot fit in a %llu-byte file",
                         (unsigned long long)n_tensors, (unsigned long long)g->size);
        goto done;
    }
    g->kv = calloc((size_t)(n_kv ? n_kv : 1), sizeof *g->kv);
    kv_off = calloc((size_t)(n_kv ? n_kv : 1), sizeof *kv_off);
    g->tensors = calloc((size_t)(n_tensors ? n_tensors : 1), sizeof *g->tensors);
    t_off = calloc((size_t)(n_tensors ? n_tensors : 1), sizeof *t_off);
    if (!g->kv || !kv_off || !g->tensors || !t_off) {
        s = zf_set_error(ZF_ERR_OOM, "gguf: out of memory for %llu entries and %llu tensors",
                         (unsigned long long)n_kv, (unsigned long long)n_tensors);
        goto done;
    }

    for (uint64_t i = 0; i < n_kv; i++) {
        const uint8_t *kp;
        uint64_t kl;
        uint32_t type;
        char what[48];
        snprintf(what, sizeof what, "metadata key %llu", (unsigned long long)i);
        if ((s = rd_str(&ps, &kp, &kl, what))) goto done;
        if ((s = save_name(&ps, kp, kl, &kv_off[i], what))) goto done;
        g->n_kv = (int64_t)i + 1; /* entry i now owns what parse_value allocates */
        const char *key = ps.names + kv_off[i];
        if ((s = rd_u32(&ps, &type, key))) goto done;
        if ((s = parse_value(&ps, &g->kv[i].val, type, 0, key))) goto done;
    }
    for (uint64_t i = 0; i < n_tensors; i++) {
        g->n_tensors = (int64_t)i + 1;
        if ((s = parse_tensor_info(&ps, g, (int64_t)i, &t_off[i]))) goto done;
    }

    /* names are final: point into the buffer and index them */
    g->names = ps.names;
    ps.names = NULL;
    for (int64_t i = 0; i < g->n_kv; i++) {
        g->kv[i].key = g->names + kv_off[i];
        s = zf_strmap_put(&g->key_map, g->kv[i].key, strlen(g->kv[i].key), i);
        if (s == ZF_ERR_INDEX) s = zf_set_error(ZF_ERR_FORMAT, "gguf: duplicate metadata key '%s'", g->kv[i].key);
        if (s) goto done;
    }
    for (int64_t i = 0; i < g->n_tensors; i++) {
        g->tensors[i].name = g->names + t_off[i];
        s = zf_strmap_put(&g->tensor_map, g->tensors[i].name, strlen(g->tensors[i].name), i);
        if (s == ZF_ERR_INDEX) s = zf_set_error(ZF_ERR_FORMAT, "gguf: duplicate tensor name '%s'", g->tensors[i].name);
        if (s) goto done;
    }

    if ((s = find_alignment(g))) goto done;
    if (ps.pos > UINT64_MAX - g->alignment) {
        s = zf_set_error(ZF_ERR_FORMAT, "gguf: data offset overflows");
        goto done;
    }
    g->data_offset = align_up(ps.pos, g->alignment);
    for (int64_t i = 0; i < g->n_tensors; i++) {
        const zf_gguf_tensor_info *t = &g->tensors[i];
        if (t->offset % g->alignment != 0) {
            s = zf_set_error(ZF_ERR_FORMAT, "gguf: tensor '%s': offset %llu is not a multiple of the alignment %llu",
                             t->name, (unsigned long long)t->offset, (unsigned long long)g->alignment);
            goto done;
        }
        /* data_offset + offset + size <= file size, without overflow */
        uint64_t room = g->data_offset <= g->size ? g->size - g->data_offset : 0;
        if (g->data_offset > g->size || t->offset > room || t->size > room - t->offset) {
            s = zf_set_error(ZF_ERR_FORMAT,
                             "gguf: tensor '%s': data [%llu, +%llu) past the end of the data section (%llu bytes)",
                             t->name, (unsigned long long)t->offset, (unsigned long long)t->size,
                             (unsigned long long)room);
            goto done;
        }
    }
    s = ZF_OK;
done:
    free(ps.names);
    free(kv_off);
    free(t_off);
    return s;
}

zf_gguf *zf_gguf_open_memory(const void *data, size_t size) {
    if (!data && size) {
        zf_set_error(ZF_ERR_INVALID_ARG, "gguf: NULL buffer");
        return NULL;
    }
    zf_gguf *g = calloc(1, sizeof *g);
    if (!g) {
        zf_set_error(ZF_ERR_OOM, "gguf: out of memory");
        return NULL;
    }
    g->base = data ? data : (const uint8_t *)"";
    g->size = size;
    if (parse(g)) {
        zf_gguf_close(g);
        return NULL;
    }
    return g;
}

zf_gguf *zf_gguf_open(const char *path) {
    if (!path) {
        zf_set_error(ZF_ERR_INVALID_ARG, "gguf: NULL path");
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        zf_set_error(ZF_ERR_IO, "gguf: cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        zf_set_error(ZF_ERR_IO, "gguf: '%s' is not a regular file", path);
        close(fd);
        return NULL;
    }
    if (st.st_size == 0) {
        zf_set_error(ZF_ERR_FORMAT, "gguf: '%s' is empty", path);
        close(fd);
        return NULL;
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        zf_set_error(ZF_ERR_IO, "gguf: '%s' is too large to map", path);
        close(fd);
        return NULL;
    }
    size_t len = (size_t)st.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    int map_errno = errno;
    close(fd); /* the mapping keeps the file alive */
    if (map == MAP_FAILED) {
        zf_set_error(ZF_ERR_IO, "gguf: cannot map '%s': %s", path, strerror(map_errno));
        return NULL;
    }
    zf_gguf *g = calloc(1, sizeof *g);
    if (!g) {
        munmap(map, len);
        zf_set_error(ZF_ERR_OOM, "gguf: out of memory");
        return NULL;
    }
    g->base = map;
    g->size = len;
    g->map = map;
    g->map_len = len;
    if (parse(g)) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", zf_last_error());
        zf_status st2 = zf_last_status();
        zf_gguf_close(g);
        zf_set_error(st2, "%s (file '%s')", msg, path);
        return NULL;
    }
    return g;
}

void zf_gguf_close(zf_gguf *g) {
    if (!g) return;
    if (g->kv)
        for (int64_t i = 0; i < g->n_kv; i++) val_free(&g->kv[i].val);
    free(g->kv);
    free(g->tensors);
    free(g->names);
    zf_strmap_free(&g->key_map);
    zf_strmap_free(&g->tensor_map);
    if (g->map) munmap(g->map, g->map_len);
    free(g);
}

/* ---- accessors ---- */

uint32_t zf_gguf_version(const zf_gguf *g) { return g->version; }
uint64_t zf_gguf_alignment(const zf_gguf *g) { return g->alignment; }
uint64_t zf_gguf_data_offset(const zf_gguf *g) { return g->data_offset; }
uint64_t zf_gguf_file_size(const zf_gguf *g) { return g->size; }
int64_t zf_gguf_n_kv(const zf_gguf *g) { return g->n_kv; }
int64_t zf_gguf_n_tensors(const zf_gguf *g) { return g->n_tensors; }

const char *zf_gguf_kv_key(const zf_gguf *g, int64_t i) {
    if (i < 0 || i >= g->n_kv) {
        zf_set_error(ZF_ERR_INDEX, "gguf: metadata index %lld out of range [0, %lld)", (long long)i, (long long)g->n_kv);
        return NULL;
    }
    return g->kv[i].key;
}

const zf_gguf_val *zf_gguf_kv_val(const zf_gguf *g, int64_t i) {
    if (i < 0 || i >= g->n_kv) {
        zf_set_error(ZF_ERR_INDEX, "gguf: metadata index %lld out of range [0, %lld)", (long long)i, (long long)g->n_kv);
        return NULL;
    }
    return &g->kv[i].val;
}

int64_t zf_gguf_find_key(const zf_gguf *g, const char *key) {
    return key ? zf_strmap_get(&g->key_map, key, strlen(key)) : -1;
}

const zf_gguf_val *zf_gguf_get(const zf_gguf *g, const char *key) {
    int64_t i = zf_gguf_find_key(g, key);
    if (i < 0) {
        zf_set_error(ZF_ERR_INDEX, "gguf: no metadata key '%s'", key ? key : "(null)");
        return NULL;
    }
    return &g->kv[i].val;
}

int64_t zf_gguf_find_tensor(const zf_gguf *g, const char *name) {
    return name ? zf_strmap_get(&g->tensor_map, name, strlen(name)) : -1;
}

const zf_gguf_tensor_info *zf_gguf_tensor(const zf_gguf *g, int64_t i) {
    if (i < 0 || i >= g->n_tensors) {
        zf_set_error(ZF_ERR_INDEX, "gguf: tensor index %lld out of range [0, %lld)", (long long)i, (long long)g->n_tensors);
        return NULL;
    }
    return &g->tensors[i];
}

const void *zf_gguf_tensor_raw(const zf_gguf *g, int64_t i) {
    const zf_gguf_tensor_info *t = zf_gguf_tensor(g, i);
    return t ? g->base + g->data_offset + t->offset : NULL;
}

const void *zf_gguf_tensor_data(const zf_gguf *g, int64_t i) {
    const zf_gguf_tensor_info *t = zf_gguf_tensor(g, i);
    if (!t) return NULL;
    if (t->dtype == ZF_DTYPE_COUNT) {
        zf_set_error(ZF_ERR_UNSUPPORTED, "gguf: tensor '%s' has ggml type %s, which zerfoo does not support",
                     t->name, zf_ggml_type_name(t->ggml_type));
        return NULL;
    }
    return g->base + g->data_offset + t->offset;
}

/* ---- value getters ---- */

zf_gguf_type zf_gguf_val_type(const zf_gguf_val *v) { return v ? (zf_gguf_type)v->type : ZF_GGUF_TYPE_COUNT; }

static zf_status type_error(const zf_gguf_val *v, const char *want) {
    if (!v) return zf_set_error(ZF_ERR_INVALID_ARG, "gguf: NULL value");
    return zf_set_error(ZF_ERR_DTYPE, "gguf: value is %s, not %s", zf_gguf_type_name((zf_gguf_type)v->type), want);
}

/* Reads an integer of any width at p. False when `type` is not an integer
 * type; else *neg tells whether it is negative, and the value is in *u when
 * it is not, in *sv when it is (*sv is also set for non-negative signed). */
static bool read_int(uint32_t type, const uint8_t *p, bool *neg, uint64_t *u, int64_t *sv) {
    uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32;
    switch (type) {
    case ZF_GGUF_UINT8: memcpy(&u8, p, 1); *u = u8; *neg = false; return true;
    case ZF_GGUF_UINT16: memcpy(&u16, p, 2); *u = u16; *neg = false; return true;
    case ZF_GGUF_UINT32: memcpy(&u32, p, 4); *u = u32; *neg = false; return true;
    case ZF_GGUF_UINT64: memcpy(u, p, 8); *neg = false; return true;
    case ZF_GGUF_INT8: memcpy(&i8, p, 1); *sv = i8; break;
    case ZF_GGUF_INT16: memcpy(&i16, p, 2); *sv = i16; break;
    case ZF_GGUF_INT32: memcpy(&i32, p, 4); *sv = i32; break;
    case ZF_GGUF_INT64: memcpy(sv, p, 8); break;
    default: return false;
    }
    *neg = *sv < 0;
    if (!*neg) *u = (uint64_t)*sv;
    return true;
}

static zf_status scalar_u64(uint32_t type, const uint8_t *p, uint64_t *out) {
    bool neg;
    uint64_t u = 0;
    int64_t sv = 0;
    if (!read_int(type, p, &neg, &u, &sv))
        return zf_set_error(ZF_ERR_DTYPE, "gguf: value is %s, not an integer", zf_gguf_type_name((zf_gguf_type)type));
    if (neg) return zf_set_error(ZF_ERR_OVERFLOW, "gguf: value %lld is negative, wanted unsigned", (long long)sv);
    *out = u;
    return ZF_OK;
}

static zf_status scalar_i64(uint32_t type, const uint8_t *p, int64_t *out) {
    bool neg;
    uint64_t u = 0;
    int64_t sv = 0;
    if (!read_int(type, p, &neg, &u, &sv))
        return zf_set_error(ZF_ERR_DTYPE, "gguf: value is %s, not an integer", zf_gguf_type_name((zf_gguf_type)type));
    if (neg) { *out = sv; return ZF_OK; }
    if (u > (uint64_t)INT64_MAX)
        return zf_set_error(ZF_ERR_OVERFLOW, "gguf: value %llu does not fit int64", (unsigned long long)u);
    *out = (int64_t)u;
    return ZF_OK;
}

static zf_status scalar_f64(uint32_t type, const uint8_t *p, double *out) {
    if (type == ZF_GGUF_FLOAT32) { float f; memcpy(&f, p, 4); *out = f; return ZF_OK; }
    if (type == ZF_GGUF_FLOAT64) { memcpy(out, p, 8); return ZF_OK; }
    return zf_set_error(ZF_ERR_DTYPE, "gguf: value is %s, not a float", zf_gguf_type_name((zf_gguf_type)type));
}

static zf_status scalar_bool(uint32_t type, const uint8_t *p, bool *out) {
    if (type != ZF_GGUF_BOOL)
        return zf_set_error(ZF_ERR_DTYPE, "gguf: value is %s, not bool", zf_gguf_type_name((zf_gguf_type)type));
    *out = p[0] != 0;
    return ZF_OK;
}

zf_status zf_gguf_val_u64(const zf_gguf_val *v, uint64_t *out) {
    return v && out ? scalar_u64(v->type, v->p, out) : type_error(v, "u64");
}
zf_status zf_gguf_val_i64(const zf_gguf_val *v, int64_t *out) {
    return v && out ? scalar_i64(v->type, v->p, out) : type_error(v, "i64");
}
zf_status zf_gguf_val_f64(const zf_gguf_val *v, double *out) {
    return v && out ? scalar_f64(v->type, v->p, out) : type_error(v, "f64");
}
zf_status zf_gguf_val_bool(const zf_gguf_val *v, bool *out) {
    return v && out ? scalar_bool(v->type, v->p, out) : type_error(v, "bool");
}
zf_status zf_gguf_val_str(const zf_gguf_val *v, zf_gguf_str *out) {
    if (!v || !out || v->type != ZF_GGUF_STRING) return type_error(v, "string");
    out->ptr = (const char *)v->p;
    out->len = v->n;
    return ZF_OK;
}

zf_gguf_type zf_gguf_arr_type(const zf_gguf_val *v) {
    if (!v || v->type != ZF_GGUF_ARRAY) {
        type_error(v, "array");
        return ZF_GGUF_TYPE_COUNT;
    }
    return (zf_gguf_type)v->elem_type;
}

uint64_t zf_gguf_arr_len(const zf_gguf_val *v) { return v && v->type == ZF_GGUF_ARRAY ? v->n : 0; }

const void *zf_gguf_arr_data(const zf_gguf_val *v) {
    if (!v || v->type != ZF_GGUF_ARRAY || !zf_gguf_type_size_raw(v->elem_type)) return NULL;
    return v->p;
}

/* Element i of a fixed-size array, or NULL with an error. */
static const uint8_t *arr_elem(const zf_gguf_val *v, uint64_t i) {
    if (!v || v->type != ZF_GGUF_ARRAY) {
        type_error(v, "array");
        return NULL;
    }
    if (i >= v->n) {
        zf_set_error(ZF_ERR_INDEX, "gguf: array index %llu out of range [0, %llu)", (unsigned long long)i,
                     (unsigned long long)v->n);
        return NULL;
    }
    size_t es = zf_gguf_type_size_raw(v->elem_type);
    if (!es) {
        zf_set_error(ZF_ERR_DTYPE, "gguf: array of %s, not of scalars", zf_gguf_type_name((zf_gguf_type)v->elem_type));
        return NULL;
    }
    return v->p + i * es;
}

zf_status zf_gguf_arr_u64(const zf_gguf_val *v, uint64_t i, uint64_t *out) {
    const uint8_t *p = arr_elem(v, i);
    return p ? scalar_u64(v->elem_type, p, out) : zf_last_status();
}
zf_status zf_gguf_arr_i64(const zf_gguf_val *v, uint64_t i, int64_t *out) {
    const uint8_t *p = arr_elem(v, i);
    return p ? scalar_i64(v->elem_type, p, out) : zf_last_status();
}
zf_status zf_gguf_arr_f64(const zf_gguf_val *v, uint64_t i, double *out) {
    const uint8_t *p = arr_elem(v, i);
    return p ? scalar_f64(v->elem_type, p, out) : zf_last_status();
}
zf_status zf_gguf_arr_bool(const zf_gguf_val *v, uint64_t i, bool *out) {
    const uint8_t *p = arr_elem(v, i);
    return p ? scalar_bool(v->elem_type, p, out) : zf_last_status();
}

zf_status zf_gguf_arr_str(const zf_gguf_val *v, uint64_t i, zf_gguf_str *out) {
    if (!v || v->type != ZF_GGUF_ARRAY) return type_error(v, "array");
    if (v->elem_type != ZF_GGUF_STRING)
        return zf_set_error(ZF_ERR_DTYPE, "gguf: array of %s, not of strings",
                            zf_gguf_type_name((zf_gguf_type)v->elem_type));
    if (i >= v->n)
        return zf_set_error(ZF_ERR_INDEX, "gguf: array index %llu out of range [0, %llu)", (unsigned long long)i,
                            (unsigned long long)v->n);
    const uint8_t *p = v->p + v->str_off[i];
    memcpy(&out->len, p, 8); /* checked against the file when parsed */
    out->ptr = (const char *)p + 8;
    return ZF_OK;
}

const zf_gguf_val *zf_gguf_arr_arr(const zf_gguf_val *v, uint64_t i) {
    if (!v || v->type != ZF_GGUF_ARRAY) {
        type_error(v, "array");
        return NULL;
    }
    if (v->elem_type != ZF_GGUF_ARRAY) {
        zf_set_error(ZF_ERR_DTYPE, "gguf: array of %s, not of arrays", zf_gguf_type_name((zf_gguf_type)v->elem_type));
        return NULL;
    }
    if (i >= v->n) {
        zf_set_error(ZF_ERR_INDEX, "gguf: array index %llu out of range [0, %llu)", (unsigned long long)i,
                     (unsigned long long)v->n);
        return NULL;
    }
    return &v->kids[i];
}

/* ---- getters by key ---- */

zf_status zf_gguf_get_u64(const zf_gguf *g, const char *key, uint64_t *out) {
    const zf_gguf_val *v = zf_gguf_get(g, key);
    return v ? zf_gguf_val_u64(v, out) : zf_last_status();
}

zf_status zf_gguf_get_i64(const zf_gguf *g, const char *key, int64_t *out) {
    const zf_gguf_val *v = zf_gguf_get(g, key);
    return v ? zf_gguf_val_i64(v, out) : zf_last_status();
}

zf_status zf_gguf_get_u32(const zf_gguf *g, const char *key, uint32_t *out) {
    uint64_t u;
    zf_status s = zf_gguf_get_u64(g, key, &u);
    if (s) return s;
    if (u > UINT32_MAX)
        return zf_set_error(ZF_ERR_OVERFLOW, "gguf: '%s' = %llu does not fit u32", key, (unsigned long long)u);
    *out = (uint32_t)u;
    return ZF_OK;
}

zf_status zf_gguf_get_i32(const zf_gguf *g, const char *key, int32_t *out) {
    int64_t x;
    zf_status s = zf_gguf_get_i64(g, key, &x);
    if (s) return s;
    if (x < INT32_MIN || x > INT32_MAX)
        return zf_set_error(ZF_ERR_OVERFLOW, "gguf: '%s' = %lld does not fit i32", key, (long long)x);
    *out = (int32_t)x;
    return ZF_OK;
}

zf_status zf_gguf_get_f64(const zf_gguf *g, const char *key, double *out) {
    const zf_gguf_val *v = zf_gguf_get(g, key);
    return v ? zf_gguf_val_f64(v, out) : zf_last_status();
}

zf_status zf_gguf_get_f32(const zf_gguf *g, const char *key, float *out) {
    double d;
    zf_status s = zf_gguf_get_f64(g, key, &d);
    if (s) return s;
    *out = (float)d; /* exact for f32 values; f64 values round to nearest */
    return ZF_OK;
}

zf_status zf_gguf_get_bool(const zf_gguf *g, const char *key, bool *out) {
    const zf_gguf_val *v = zf_gguf_get(g, key);
    return v ? zf_gguf_val_bool(v, out) : zf_last_status();
}

zf_status zf_gguf_get_str(const zf_gguf *g, const char *key, zf_gguf_str *out) {
    const zf_gguf_val *v = zf_gguf_get(g, key);
    return v ? zf_gguf_val_str(v, out) : zf_last_status();
}
