/* safetensors reader (zerfoo/safetensors.h). The file is mapped read-only;
 * the JSON header is parsed by a small strict parser written for it (bounds
 * checked at every byte, nesting limited) and every tensor entry is
 * validated before the handle is returned. All strings and tables are
 * malloc'd and freed by zf_safetensors_close. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "zerfoo/safetensors.h"

#define MAX_HEADER (100u << 20) /* as the reference implementation */
#define MAX_DEPTH 64

struct zf_safetensors {
    const unsigned char *map; /* whole file */
    size_t size;
    bool mapped;
    const unsigned char *data; /* data buffer (after the header) */
    uint64_t data_size;
    zf_st_info *t;
    int n, cap;
    char **meta_k, **meta_v;
    int n_meta, cap_meta;
    char what[256];
};

/* ---- dtypes ---- */
static const struct {
    const char *name;
    zf_dtype dt;
    unsigned size;
} k_dtypes[] = {
    {"F64", ZF_F64, 8},          {"F32", ZF_F32, 4},          {"F16", ZF_F16, 2},   {"BF16", ZF_BF16, 2},
    {"I64", ZF_I64, 8},          {"I32", ZF_I32, 4},          {"I16", ZF_I16, 2},   {"I8", ZF_I8, 1},
    {"U8", ZF_U8, 1},            {"BOOL", ZF_BOOL, 1},        {"F8_E4M3", ZF_F8_E4M3, 1},
    {"F8_E5M2", ZF_F8_E5M2, 1},
    /* valid in the format, no zerfoo dtype: listed, not loadable */
    {"U16", ZF_DTYPE_COUNT, 2},  {"U32", ZF_DTYPE_COUNT, 4},  {"U64", ZF_DTYPE_COUNT, 8},
    {"F8_E8M0", ZF_DTYPE_COUNT, 1},
};
#define N_DTYPES (int)(sizeof k_dtypes / sizeof k_dtypes[0])

const char *zf_safetensors_dtype_name(zf_dtype t) {
    for (int i = 0; i < N_DTYPES; i++)
        if (k_dtypes[i].dt == t && t != ZF_DTYPE_COUNT) return k_dtypes[i].name;
    return NULL;
}
zf_dtype zf_safetensors_dtype_from_name(const char *name) {
    for (int i = 0; name && i < N_DTYPES; i++)
        if (strcmp(k_dtypes[i].name, name) == 0) return k_dtypes[i].dt;
    return ZF_DTYPE_COUNT;
}

/* ---- JSON ---- */
typedef struct {
    const char *s;
    size_t n, i;
    zf_safetensors *st;
    zf_status err;
} jp;

static zf_status jerr(jp *p, const char *msg) {
    if (!p->err)
        p->err = zf_set_error(ZF_ERR_FORMAT, "%s: bad safetensors header at byte %zu: %s", p->st->what, p->i, msg);
    return p->err;
}
static void ws(jp *p) {
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}
static bool eat(jp *p, char c) {
    ws(p);
    if (p->i < p->n && p->s[p->i] == c) {
        p->i++;
        return true;
    }
    return false;
}
static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
static bool hex4(jp *p, unsigned *u) {
    if (p->n - p->i < 4) return false;
    *u = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(p->s[p->i++]);
        if (h < 0) return false;
        *u = *u << 4 | (unsigned)h;
    }
    return true;
}
/* Parses a string into a malloc'd, NUL-terminated UTF-8 copy (embedded NULs
 * rejected). */
static char *jstring(jp *p) {
    if (!eat(p, '"')) return jerr(p, "expected a string"), NULL;
    size_t cap = 16;
    char *out = malloc(cap);
    size_t len = 0;
    if (!out) return jerr(p, "out of memory"), NULL;
    for (;;) {
        if (p->i >= p->n) goto bad;
        unsigned char c = (unsigned char)p->s[p->i++];
        unsigned cp;
        char enc[4];
        int ne = 0;
        if (c == '"') break;
        if (c < 0x20) goto bad;
        if (c != '\\') {
            enc[ne++] = (char)c;
        } else {
            if (p->i >= p->n) goto bad;
            char e = p->s[p->i++];
            switch (e) {
            case '"': case '\\': case '/': enc[ne++] = e; break;
            case 'b': enc[ne++] = '\b'; break;
            case 'f': enc[ne++] = '\f'; break;
            case 'n': enc[ne++] = '\n'; break;
            case 'r': enc[ne++] = '\r'; break;
            case 't': enc[ne++] = '\t'; break;
            case 'u':
                if (!hex4(p, &cp)) goto bad;
                if (cp >= 0xD800 && cp < 0xDC00) { /* surrogate pair */
                    unsigned lo;
                    if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') goto bad;
                    p->i += 2;
                    if (!hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF) goto bad;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp < 0xE000) {
                    goto bad;
                }
                if (cp == 0) goto bad;
                if (cp < 0x80) {
                    enc[ne++] = (char)cp;
                } else if (cp < 0x800) {
                    enc[ne++] = (char)(0xC0 | cp >> 6), enc[ne++] = (char)(0x80 | (cp & 0x3F));
                } else if (cp < 0x10000) {
                    enc[ne++] = (char)(0xE0 | cp >> 12), enc[ne++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    enc[ne++] = (char)(0x80 | (cp & 0x3F));
                } else {
                    enc[ne++] = (char)(0xF0 | cp >> 18), enc[ne++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                    enc[ne++] = (char)(0x80 | ((cp >> 6) & 0x3F)), enc[ne++] = (char)(0x80 | (cp & 0x3F));
                }
                break;
            default: goto bad;
            }
        }
        if (len + (size_t)ne + 1 > cap) {
            cap = cap * 2 + (size_t)ne;
            char *nb = realloc(out, cap);
            if (!nb) goto bad;
            out = nb;
        }
        memcpy(out + len, enc, (size_t)ne);
        len += (size_t)ne;
    }
    out[len] = 0;
    return out;
bad:
    free(out);
    jerr(p, "malformed string");
    return NULL;
}
/* A non-negative integer without sign, fraction or exponent. */
static bool juint(jp *p, uint64_t *v) {
    ws(p);
    if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') return jerr(p, "expected a non-negative integer"), false;
    if (p->s[p->i] == '0' && p->i + 1 < p->n && p->s[p->i + 1] >= '0' && p->s[p->i + 1] <= '9')
        return jerr(p, "leading zeros"), false;
    uint64_t x = 0;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
        unsigned d = (unsigned)(p->s[p->i++] - '0');
        if (x > (UINT64_MAX - d) / 10) return jerr(p, "integer too large"), false;
        x = x * 10 + d;
    }
    if (p->i < p->n && (p->s[p->i] == '.' || p->s[p->i] == 'e' || p->s[p->i] == 'E'))
        return jerr(p, "expected an integer"), false;
    *v = x;
    return true;
}
/* Skips any JSON value (unknown keys), depth-limited. */
static bool jskip(jp *p, int depth) {
    if (depth > MAX_DEPTH) return jerr(p, "nesting too deep"), false;
    ws(p);
    if (p->i >= p->n) return jerr(p, "unexpected end"), false;
    char c = p->s[p->i];
    if (c == '"') {
        char *s = jstring(p);
        free(s);
        return s != NULL;
    }
    if (c == '{' || c == '[') {
        p->i++;
        char close = c == '{' ? '}' : ']';
        if (eat(p, close)) return true;
        do {
            if (c == '{') {
                char *k = jstring(p);
                free(k);
                if (!k || !eat(p, ':')) return jerr(p, "expected ':'"), false;
            }
            if (!jskip(p, depth + 1)) return false;
        } while (eat(p, ','));
        return eat(p, close) ? true : (jerr(p, "unterminated object or array"), false);
    }
    static const char *const lits[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t l = strlen(lits[k]);
        if (p->n - p->i >= l && memcmp(p->s + p->i, lits[k], l) == 0) {
            p->i += l;
            return true;
        }
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        p->i++;
        while (p->i < p->n && strchr("0123456789.eE+-", p->s[p->i])) p->i++;
        return true;
    }
    return jerr(p, "unexpected character"), false;
}

static bool grow(void **a, int n, int *cap, size_t sz) {
    if (n < *cap) return true;
    int nc = *cap ? *cap * 2 : 16;
    void *na = realloc(*a, (size_t)nc * sz);
    if (!na) return false;
    *a = na;
    *cap = nc;
    return true;
}

static bool parse_metadata(jp *p) {
    if (!eat(p, '{')) return jerr(p, "__metadata__ must be an object"), false;
    if (eat(p, '}')) return true;
    zf_safetensors *st = p->st;
    do {
        char *k = jstring(p);
        if (!k) return false;
        char *v = NULL;
        if (!eat(p, ':') || !(v = jstring(p))) {
            free(k);
            return jerr(p, "__metadata__ values must be strings"), false;
        }
        if (st->n_meta == st->cap_meta) {
            int nc = st->cap_meta ? st->cap_meta * 2 : 8;
            char **nk = realloc(st->meta_k, sizeof(char *) * (size_t)nc);
            if (nk) st->meta_k = nk;
            char **nv = nk ? realloc(st->meta_v, sizeof(char *) * (size_t)nc) : NULL;
            if (nv) st->meta_v = nv;
            if (!nk || !nv) {
                free(k), free(v);
                return jerr(p, "out of memory"), false;
            }
            st->cap_meta = nc;
        }
        for (int i = 0; i < st->n_meta; i++)
            if (strcmp(st->meta_k[i], k) == 0) {
                free(k), free(v);
                return jerr(p, "duplicate __metadata__ key"), false;
            }
        st->meta_k[st->n_meta] = k;
        st->meta_v[st->n_meta++] = v;
    } while (eat(p, ','));
    return eat(p, '}') ? true : (jerr(p, "unterminated __metadata__"), false);
}

static bool parse_tensor(jp *p, zf_st_info *t) {
    if (!eat(p, '{')) return jerr(p, "a tensor entry must be an object"), false;
    bool have_dt = false, have_shape = false, have_off = false;
    if (!eat(p, '}')) {
        do {
            char *k = jstring(p);
            if (!k) return false;
            bool ok = eat(p, ':');
            if (ok && strcmp(k, "dtype") == 0 && !have_dt) {
                char *d = jstring(p);
                ok = d != NULL;
                int found = -1;
                for (int i = 0; ok && i < N_DTYPES; i++)
                    if (strcmp(d, k_dtypes[i].name) == 0) found = i;
                free(d);
                if (ok && found < 0) ok = (jerr(p, "unknown dtype"), false);
                if (ok) t->dtype_name = k_dtypes[found].name, t->dtype = k_dtypes[found].dt, have_dt = true;
            } else if (ok && strcmp(k, "shape") == 0 && !have_shape) {
                ok = eat(p, '[');
                if (!ok) jerr(p, "shape must be an array");
                t->ndim = 0;
                if (ok && !eat(p, ']')) {
                    do {
                        uint64_t v;
                        if (t->ndim >= ZF_MAX_DIMS) ok = (jerr(p, "more than 8 dims"), false);
                        if (ok) ok = juint(p, &v);
                        if (ok && v > (uint64_t)INT64_MAX / 16) ok = (jerr(p, "dimension too large"), false);
                        if (ok) t->shape[t->ndim++] = (int64_t)v;
                    } while (ok && eat(p, ','));
                    if (ok && !eat(p, ']')) ok = (jerr(p, "unterminated shape"), false);
                }
                have_shape = ok;
            } else if (ok && strcmp(k, "data_offsets") == 0 && !have_off) {
                ok = eat(p, '[') && juint(p, &t->begin) && eat(p, ',') && juint(p, &t->end) && eat(p, ']');
                if (!ok) jerr(p, "data_offsets must be [begin, end]");
                have_off = ok;
            } else if (ok && (strcmp(k, "dtype") == 0 || strcmp(k, "shape") == 0 || strcmp(k, "data_offsets") == 0)) {
                ok = (jerr(p, "duplicate key in a tensor entry"), false);
            } else if (ok) {
                ok = jskip(p, 1);
            } else {
                jerr(p, "expected ':'");
            }
            free(k);
            if (!ok) return false;
        } while (eat(p, ','));
        if (!eat(p, '}')) return jerr(p, "unterminated tensor entry"), false;
    }
    if (!have_dt || !have_shape || !have_off) return jerr(p, "a tensor entry needs dtype, shape and data_offsets"), false;
    return true;
}

static unsigned dtype_size_by_name(const char *name) {
    for (int i = 0; i < N_DTYPES; i++)
        if (strcmp(k_dtypes[i].name, name) == 0) return k_dtypes[i].size;
    return 0;
}

static int cmp_begin(const void *a, const void *b) {
    const zf_st_info *x = *(zf_st_info *const *)a, *y = *(zf_st_info *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Checks sizes and that the tensors tile the data buffer exactly. */
static zf_status validate(zf_safetensors *st) {
    for (int i = 0; i < st->n; i++) {
        zf_st_info *t = &st->t[i];
        /* span: bytes with the 0 sizes taken as 1, which the strides of a
         * tensor of this shape reach ([0, 2^40, 2^40] is empty but too large) */
        uint64_t bytes = dtype_size_by_name(t->dtype_name), span = bytes;
        for (int d = 0; d < t->ndim; d++) {
            uint64_t v = (uint64_t)t->shape[d];
            if (v && span > (uint64_t)INT64_MAX / 16 / v)
                return zf_set_error(ZF_ERR_FORMAT, "%s: tensor '%s' is too large", st->what, t->name);
            span *= v ? v : 1;
            bytes *= v;
        }
        if (t->end < t->begin || t->end - t->begin != bytes)
            return zf_set_error(ZF_ERR_FORMAT,
                                "%s: tensor '%s' has data_offsets [%llu, %llu] but its dtype and shape need %llu bytes",
                                st->what, t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
                                (unsigned long long)bytes);
        if (t->end > st->data_size)
            return zf_set_error(ZF_ERR_FORMAT, "%s: tensor '%s' ends at byte %llu, past the %llu bytes of data (truncated file?)",
                                st->what, t->name, (unsigned long long)t->end, (unsigned long long)st->data_size);
    }
    size_t nord = st->n > 0 ? (size_t)st->n : 1;
    zf_st_info **ord = malloc(sizeof *ord * nord);
    if (!ord) return zf_set_error(ZF_ERR_OOM, "%s: out of memory", st->what);
    for (int i = 0; i < st->n; i++) ord[i] = &st->t[i];
    qsort(ord, (size_t)st->n, sizeof *ord, cmp_begin);
    uint64_t pos = 0;
    zf_status s = ZF_OK;
    for (int i = 0; i < st->n && !s; i++) {
        if (ord[i]->begin != pos)
            s = zf_set_error(ZF_ERR_FORMAT, "%s: tensor '%s' starts at byte %llu, expected %llu (%s)", st->what,
                             ord[i]->name, (unsigned long long)ord[i]->begin, (unsigned long long)pos,
                             ord[i]->begin < pos ? "overlaps another tensor" : "gap in the data");
        pos = ord[i]->end;
    }
    if (!s && pos != st->data_size)
        s = zf_set_error(ZF_ERR_FORMAT, "%s: tensors cover %llu bytes of a %llu-byte data buffer", st->what,
                         (unsigned long long)pos, (unsigned long long)st->data_size);
    free(ord);
    return s;
}

static zf_status parse_header(zf_safetensors *st, const char *h, size_t n) {
    jp p = {h, n, 0, st, ZF_OK};
    if (!eat(&p, '{')) return jerr(&p, "the header must be a JSON object");
    bool seen_meta = false;
    if (!eat(&p, '}')) {
        do {
            char *k = jstring(&p);
            if (!k) return p.err;
            if (!eat(&p, ':')) {
                free(k);
                return jerr(&p, "expected ':'");
            }
            if (strcmp(k, "__metadata__") == 0) {
                free(k);
                if (seen_meta) return jerr(&p, "two __metadata__ entries");
                seen_meta = true;
                if (!parse_metadata(&p)) return p.err;
                continue;
            }
            if (!*k) {
                free(k);
                return jerr(&p, "empty tensor name");
            }
            for (int i = 0; i < st->n; i++)
                if (strcmp(st->t[i].name, k) == 0) {
                    free(k);
                    return jerr(&p, "duplicate tensor name");
                }
            if (!grow((void **)&st->t, st->n, &st->cap, sizeof *st->t)) {
                free(k);
                return jerr(&p, "out of memory");
            }
            zf_st_info *t = &st->t[st->n++];
            memset(t, 0, sizeof *t);
            t->name = k;
            if (!parse_tensor(&p, t)) return p.err;
        } while (eat(&p, ','));
        if (!eat(&p, '}')) return jerr(&p, "expected ',' or '}'");
    }
    ws(&p);
    if (p.i != n) return jerr(&p, "trailing bytes after the header object");
    return ZF_OK;
}

static zf_safetensors *open_bytes(const unsigned char *buf, size_t size, const char *what, bool mapped) {
    zf_safetensors *st = calloc(1, sizeof *st);
    if (!st) {
        zf_set_error(ZF_ERR_OOM, "safetensors: out of memory");
        return NULL;
    }
    st->map = buf, st->size = size, st->mapped = mapped;
    snprintf(st->what, sizeof st->what, "%s", what ? what : "safetensors");
    uint64_t hl = 0;
    if (size < 8) {
        zf_set_error(ZF_ERR_FORMAT, "%s: file of %zu bytes is too small for a safetensors header", st->what, size);
        goto fail;
    }
    for (int k = 7; k >= 0; k--) hl = hl << 8 | buf[k];
    if (hl > size - 8 || hl > MAX_HEADER) {
        zf_set_error(ZF_ERR_FORMAT, "%s: header length %llu does not fit the %zu-byte file (truncated or not safetensors)",
                     st->what, (unsigned long long)hl, size);
        goto fail;
    }
    st->data = buf + 8 + hl;
    st->data_size = size - 8 - hl;
    if (parse_header(st, (const char *)buf + 8, (size_t)hl) || validate(st)) goto fail;
    return st;
fail:
    zf_safetensors_close(st);
    return NULL;
}

zf_safetensors *zf_safetensors_open_memory(const void *data, size_t size, const char *what) {
    if (!data && size) {
        zf_set_error(ZF_ERR_INVALID_ARG, "safetensors_open_memory: NULL data");
        return NULL;
    }
    return open_bytes(data, size, what, false);
}

zf_safetensors *zf_safetensors_open(const char *path) {
    if (!path) {
        zf_set_error(ZF_ERR_INVALID_ARG, "safetensors_open: NULL path");
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        zf_set_error(ZF_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        zf_set_error(ZF_ERR_IO, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    size_t size = (size_t)sb.st_size;
    void *m = NULL;
    if (size > 0) {
        m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            zf_set_error(ZF_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
            close(fd);
            return NULL;
        }
    }
    close(fd);
    zf_safetensors *st = open_bytes(m, size, path, size > 0);
    if (!st && m) munmap(m, size);
    return st;
}

void zf_safetensors_close(zf_safetensors *st) {
    if (!st) return;
    for (int i = 0; i < st->n; i++) free((char *)st->t[i].name);
    for (int i = 0; i < st->n_meta; i++) free(st->meta_k[i]), free(st->meta_v[i]);
    free(st->t);
    free(st->meta_k);
    free(st->meta_v);
    if (st->mapped && st->map) munmap((void *)st->map, st->size);
    free(st);
}

int zf_safetensors_count(const zf_safetensors *st) { return st ? st->n : 0; }
const zf_st_info *zf_safetensors_info(const zf_safetensors *st, int i) {
    return st && i >= 0 && i < st->n ? &st->t[i] : NULL;
}
int zf_safetensors_find(const zf_safetensors *st, const char *name) {
    for (int i = 0; st && name && i < st->n; i++)
        if (strcmp(st->t[i].name, name) == 0) return i;
    return -1;
}
const void *zf_safetensors_bytes(const zf_safetensors *st, int i) {
    return st && i >= 0 && i < st->n ? st->data + st->t[i].begin : NULL;
}

zf_tensor *zf_safetensors_load(const zf_safetensors *st, zf_ctx *ctx, const char *name) {
    if (!st || !ctx || !name) {
        zf_set_error(ZF_ERR_INVALID_ARG, "safetensors_load: NULL argument");
        return NULL;
    }
    int i = zf_safetensors_find(st, name);
    if (i < 0) {
        zf_set_error(ZF_ERR_INDEX, "%s: no tensor named '%s'", st->what, name);
        return NULL;
    }
    const zf_st_info *t = &st->t[i];
    if (t->dtype == ZF_DTYPE_COUNT) {
        zf_set_error(ZF_ERR_UNSUPPORTED, "%s: tensor '%s' has dtype %s, which zerfoo does not support", st->what, name,
                     t->dtype_name);
        return NULL;
    }
    return zf_from_data(ctx, t->dtype, t->ndim, t->shape, st->data + t->begin);
}

zf_named_tensors *zf_safetensors_load_all(const zf_safetensors *st, zf_ctx *ctx) {
    if (!st || !ctx) {
        zf_set_error(ZF_ERR_INVALID_ARG, "safetensors_load_all: NULL argument");
        return NULL;
    }
    zf_named_tensors *l = zf_named_new(ctx, st->n);
    for (int i = 0; l && i < st->n; i++) {
        zf_tensor *t = zf_safetensors_load(st, ctx, st->t[i].name);
        if (!t || zf_named_push(ctx, l, st->t[i].name, t)) return NULL;
    }
    return l;
}

int zf_safetensors_meta_count(const zf_safetensors *st) { return st ? st->n_meta : 0; }
const char *zf_safetensors_meta_key(const zf_safetensors *st, int i) {
    return st && i >= 0 && i < st->n_meta ? st->meta_k[i] : NULL;
}
const char *zf_safetensors_meta_get(const zf_safetensors *st, const char *key) {
    for (int i = 0; st && key && i < st->n_meta; i++)
        if (strcmp(st->meta_k[i], key) == 0) return st->meta_v[i];
    return NULL;
}
