/* IDX reader and writer (plain and gzip, through zlib).
 *
 * Layout (LeCun, http://yann.lecun.com/exdb/mnist/): bytes 0-1 are zero,
 * byte 2 the element type, byte 3 the number of dims; then one big-endian u32
 * per dim, then the elements, big-endian, row-major. The reader never trusts
 * the header: sizes are checked for overflow and against what the file can
 * hold before anything is allocated. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "zerfoo/data.h"
#include "zerfoo/error.h"
#include "zerfoo/tensor.h"

/* Deflate cannot compress better than about 1032:1 (zlib's technical
 * details), so a gzip file of S bytes holds at most ~1032*S bytes. */
#define DEFLATE_MAX_RATIO 1032

static const struct {
    uint8_t code;
    zf_dtype dtype;
} k_types[] = {
    {0x08, ZF_U8}, {0x09, ZF_I8}, {0x0B, ZF_I16}, {0x0C, ZF_I32}, {0x0D, ZF_F32}, {0x0E, ZF_F64},
};

static zf_dtype dtype_of_code(uint8_t code) {
    for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++)
        if (k_types[i].code == code) return k_types[i].dtype;
    return ZF_DTYPE_COUNT;
}

static int code_of_dtype(zf_dtype t) {
    for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++)
        if (k_types[i].dtype == t) return k_types[i].code;
    return -1;
}

static bool host_is_little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* Reverses the bytes of each of n elements of `size` bytes (big <-> little). */
static void swap_elements(void *data, size_t n, size_t size) {
    if (size == 1) return;
    uint8_t *p = data;
    for (size_t i = 0; i < n; i++, p += size)
        for (size_t a = 0, b = size - 1; a < b; a++, b--) {
            uint8_t t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* A file read either through stdio (plain) or zlib (gzip). */
typedef struct {
    const char *path;
    FILE *f;
    gzFile gz;
    uint64_t file_size; /* bytes on disk */
} idx_src;

static zf_status src_open(idx_src *s, const char *path) {
    memset(s, 0, sizeof *s);
    s->path = path;
    s->f = fopen(path, "rb");
    if (!s->f) return zf_set_error(ZF_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(s->f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(s->f);
        s->f = NULL;
        return zf_set_error(ZF_ERR_IO, "%s: not a regular file", path);
    }
    s->file_size = (uint64_t)st.st_size;
    uint8_t magic[2] = {0, 0};
    size_t got = fread(magic, 1, 2, s->f);
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        fclose(s->f);
        s->f = NULL;
        s->gz = gzopen(path, "rb");
        if (!s->gz) return zf_set_error(ZF_ERR_IO, "%s: cannot open as gzip", path);
        gzbuffer(s->gz, 1 << 17);
        return ZF_OK;
    }
    rewind(s->f);
    return ZF_OK;
}

static void src_close(idx_src *s) {
    if (s->f) fclose(s->f);
    if (s->gz) gzclose(s->gz);
    s->f = NULL;
    s->gz = NULL;
}

/* Reads up to n bytes; returns how many were read, or sets the error and
 * returns SIZE_MAX when the gzip stream is corrupt or cut short. */
static size_t src_read(idx_src *s, void *buf, size_t n) {
    if (s->f) return fread(buf, 1, n, s->f);
    size_t done = 0;
    while (done < n) {
        size_t want = n - done > (1u << 30) ? (1u << 30) : n - done;
        int r = gzread(s->gz, (uint8_t *)buf + done, (unsigned)want);
        if (r < 0) break;
        if (r == 0) break;
        done += (size_t)r;
    }
    int errnum = Z_OK;
    const char *msg = gzerror(s->gz, &errnum);
    if (errnum == Z_OK) return done;
    if (errnum == Z_BUF_ERROR)
        zf_set_error(ZF_ERR_FORMAT, "%s: truncated gzip stream (%s)", s->path, msg);
    else if (errnum == Z_MEM_ERROR)
        zf_set_error(ZF_ERR_OOM, "%s: zlib out of memory", s->path);
    else if (errnum == Z_ERRNO)
        zf_set_error(ZF_ERR_IO, "%s: read error: %s", s->path, strerror(errno));
    else
        zf_set_error(ZF_ERR_FORMAT, "%s: corrupt gzip data (%s)", s->path, msg);
    return SIZE_MAX;
}

zf_tensor *zf_idx_load(zf_ctx *ctx, const char *path) {
    if (!ctx || !path) {
        zf_set_error(ZF_ERR_INVALID_ARG, "zf_idx_load: NULL argument");
        return NULL;
    }
    idx_src s;
    if (src_open(&s, path) != ZF_OK) return NULL;
    zf_tensor *t = NULL;
    uint8_t head[4];
    size_t got = src_read(&s, head, 4);
    if (got == SIZE_MAX) goto done;
    if (got < 4) {
        zf_set_error(ZF_ERR_FORMAT, "%s: too short for an IDX header (%zu bytes)", path, got);
        goto done;
    }
    if (head[0] != 0 || head[1] != 0) {
        zf_set_error(ZF_ERR_FORMAT, "%s: not an IDX file (magic %02x %02x %02x %02x)", path, head[0], head[1],
                     head[2], head[3]);
        goto done;
    }
    zf_dtype dtype = dtype_of_code(head[2]);
    if (dtype == ZF_DTYPE_COUNT) {
        zf_set_error(ZF_ERR_FORMAT, "%s: unknown IDX element type 0x%02x", path, head[2]);
        goto done;
    }
    int ndim = head[3];
    if (ndim < 1 || ndim > ZF_MAX_DIMS) {
        zf_set_error(ZF_ERR_FORMAT, "%s: IDX file has %d dims (zerfoo reads 1 to %d)", path, ndim, ZF_MAX_DIMS);
        goto done;
    }
    uint8_t dimbuf[4 * ZF_MAX_DIMS];
    got = src_read(&s, dimbuf, 4 * (size_t)ndim);
    if (got == SIZE_MAX) goto done;
    if (got < 4 * (size_t)ndim) {
        zf_set_error(ZF_ERR_FORMAT, "%s: truncated IDX header (%d dims, %zu of %d dim bytes)", path, ndim, got,
                     4 * ndim);
        goto done;
    }
    int64_t shape[ZF_MAX_DIMS];
    size_t esize = zf_dtype_size(dtype);
    uint64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        const uint8_t *b = dimbuf + 4 * d;
        uint64_t v = (uint64_t)b[0] << 24 | (uint64_t)b[1] << 16 | (uint64_t)b[2] << 8 | b[3];
        if (v == 0) {
            zf_set_error(ZF_ERR_FORMAT, "%s: IDX dim %d is 0", path, d);
            goto done;
        }
        if (numel > (UINT64_MAX / 16) / v) {
            zf_set_error(ZF_ERR_OVERFLOW, "%s: IDX dims overflow", path);
            goto done;
        }
        numel *= v;
        shape[d] = (int64_t)v;
    }
    uint64_t header = 4 + 4 * (uint64_t)ndim;
    uint64_t nbytes = numel * esize;
    if (nbytes > (uint64_t)SIZE_MAX / 2) {
        zf_set_error(ZF_ERR_OVERFLOW, "%s: IDX data of %llu bytes is too large", path, (unsigned long long)nbytes);
        goto done;
    }
    /* Check the size before allocating: exact for plain files, an upper
     * bound from the compressed size for gzip. */
    if (s.f && s.file_size != header + nbytes) {
        zf_set_error(ZF_ERR_FORMAT, "%s: %s: header promises %llu data bytes but the file has %llu", path,
                     s.file_size < header + nbytes ? "truncated" : "trailing data",
                     (unsigned long long)nbytes, (unsigned long long)(s.file_size - header));
        goto done;
    }
    if (s.gz && (header + nbytes) / DEFLATE_MAX_RATIO > s.file_size) {
        zf_set_error(ZF_ERR_FORMAT, "%s: truncated: header promises %llu data bytes, more than a %llu-byte gzip file can hold",
                     path, (unsigned long long)nbytes, (unsigned long long)s.file_size);
        goto done;
    }
    zf_tensor *out = zf_empty(ctx, dtype, ndim, shape);
    if (!out) goto done;
    got = src_read(&s, zf_data(out), (size_t)nbytes);
    if (got == SIZE_MAX) goto done;
    if (got < nbytes) {
        zf_set_error(ZF_ERR_FORMAT, "%s: truncated: header promises %llu data bytes, got %zu", path,
                     (unsigned long long)nbytes, got);
        goto done;
    }
    if (s.gz) {
        /* Reading past the end makes zlib check the CRC and length trailer. */
        uint8_t extra;
        got = src_read(&s, &extra, 1);
        if (got == SIZE_MAX) goto done;
        if (got != 0) {
            zf_set_error(ZF_ERR_FORMAT, "%s: trailing data after the %llu bytes the header promises", path,
                         (unsigned long long)nbytes);
            goto done;
        }
    }
    if (host_is_little_endian()) swap_elements(zf_data(out), (size_t)numel, esize);
    t = out;
done:
    src_close(&s);
    return t;
}

/* ---- writer ---- */

static zf_status write_all(FILE *f, gzFile gz, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n > 0) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : n;
        if (gz) {
            if (gzwrite(gz, b, (unsigned)chunk) != (int)chunk) return ZF_ERR_IO;
        } else if (fwrite(b, 1, chunk, f) != chunk) {
            return ZF_ERR_IO;
        }
        b += chunk;
        n -= chunk;
    }
    return ZF_OK;
}

zf_status zf_idx_save(const char *path, const zf_tensor *t, bool gzip) {
    if (!path || !t) return zf_set_error(ZF_ERR_INVALID_ARG, "zf_idx_save: NULL argument");
    int code = code_of_dtype(t->dtype);
    if (code < 0)
        return zf_set_error(ZF_ERR_DTYPE, "zf_idx_save: IDX cannot hold %s (u8 i8 i16 i32 f32 f64)",
                            zf_dtype_name(t->dtype));
    if (t->ndim < 1)
        return zf_set_error(ZF_ERR_SHAPE, "zf_idx_save: IDX needs at least one dim");
    uint8_t header[4 + 4 * ZF_MAX_DIMS] = {0, 0, (uint8_t)code, (uint8_t)t->ndim};
    for (int d = 0; d < t->ndim; d++) {
        int64_t v = t->shape[d];
        if (v < 1 || v > (int64_t)UINT32_MAX)
            return zf_set_error(ZF_ERR_SHAPE, "zf_idx_save: dim %d of size %lld does not fit IDX", d, (long long)v);
        uint8_t *b = header + 4 + 4 * d;
        b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8), b[3] = (uint8_t)v;
    }
    /* A big-endian copy of the elements in row-major order. */
    size_t n = (size_t)zf_numel(t), esize = zf_dtype_size(t->dtype);
    zf_ctx *tmp = zf_ctx_new(NULL);
    if (!tmp) return zf_last_status();
    zf_tensor *c = zf_clone(tmp, (zf_tensor *)t);
    if (!c) {
        zf_status st = zf_last_status();
        zf_ctx_free(tmp);
        return st;
    }
    if (host_is_little_endian()) swap_elements(zf_data(c), n, esize);

    /* Write to a temporary name, then rename: a reader never sees half a file. */
    size_t plen = strlen(path);
    char *tmp_path = malloc(plen + 8);
    if (!tmp_path) {
        zf_ctx_free(tmp);
        return zf_set_error(ZF_ERR_OOM, "zf_idx_save: out of memory");
    }
    memcpy(tmp_path, path, plen);
    memcpy(tmp_path + plen, ".tmp", 5);
    FILE *f = NULL;
    gzFile gz = NULL;
    zf_status st = ZF_OK;
    if (gzip)
        gz = gzopen(tmp_path, "wb6");
    else
        f = fopen(tmp_path, "wb");
    if (!f && !gz) {
        st = zf_set_error(ZF_ERR_IO, "%s: cannot create: %s", tmp_path, strerror(errno));
        goto out;
    }
    st = write_all(f, gz, header, 4 + 4 * (size_t)t->ndim);
    if (st == ZF_OK) st = write_all(f, gz, zf_data(c), n * esize);
    int close_err = gz ? gzclose(gz) != Z_OK : fclose(f) != 0;
    if (st != ZF_OK || close_err) {
        st = zf_set_error(ZF_ERR_IO, "%s: write failed", tmp_path);
        remove(tmp_path);
        goto out;
    }
    if (rename(tmp_path, path) != 0) {
        st = zf_set_error(ZF_ERR_IO, "%s: cannot rename into place: %s", path, strerror(errno));
        remove(tmp_path);
    }
out:
    free(tmp_path);
    zf_ctx_free(tmp);
    return st;
}
