/* zerfoo — errors as values.
 *
 * Functions that can fail on user input return a zf_status (or NULL) and record
 * a message in thread-local storage, readable with zf_last_error(). Nothing in
 * the library aborts or exits on bad input; assert() guards internal
 * invariants only. */
#ifndef ZERFOO_ERROR_H
#define ZERFOO_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum zf_status {
    ZF_OK = 0,
    ZF_ERR_INVALID_ARG,  /* a bad argument: NULL, negative size, bad flag */
    ZF_ERR_SHAPE,        /* shapes do not match or cannot broadcast */
    ZF_ERR_DTYPE,        /* dtype not supported by the op, or mismatched */
    ZF_ERR_INDEX,        /* dim or index out of range */
    ZF_ERR_OVERFLOW,     /* a size computation would overflow */
    ZF_ERR_OOM,          /* allocation failed */
    ZF_ERR_IO,           /* file system error */
    ZF_ERR_FORMAT,       /* malformed file or data */
    ZF_ERR_UNSUPPORTED,  /* valid request the engine/build cannot do */
    ZF_ERR_INTERNAL,     /* a bug: an invariant did not hold */
    ZF_ERR_NUMERIC,      /* a non-finite result where a finite one is needed (NaN loss) */
    ZF_STATUS_COUNT
} zf_status;

/* Message of the last error on this thread ("" when none). Valid until the next
 * failing call on the same thread. */
const char *zf_last_error(void);
/* Status of the last error on this thread (ZF_OK when none). */
zf_status zf_last_status(void);
void zf_clear_error(void);
const char *zf_status_name(zf_status s);

/* Records an error (printf-style message) and returns `s`, so a failing
 * function can `return zf_set_error(ZF_ERR_SHAPE, "...", ...)`. */
zf_status zf_set_error(zf_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
