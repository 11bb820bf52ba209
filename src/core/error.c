/* Thread-local error state; see include/zerfoo/error.h. */
#include "zerfoo/error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char tl_message[512];
static _Thread_local zf_status tl_status = ZF_OK;

const char *zf_last_error(void) { return tl_message; }
zf_status zf_last_status(void) { return tl_status; }

void zf_clear_error(void) {
    tl_message[0] = '\0';
    tl_status = ZF_OK;
}

const char *zf_status_name(zf_status s) {
    static const char *const names[ZF_STATUS_COUNT] = {
        [ZF_OK] = "ok",
        [ZF_ERR_INVALID_ARG] = "invalid argument",
        [ZF_ERR_SHAPE] = "shape error",
        [ZF_ERR_DTYPE] = "dtype error",
        [ZF_ERR_INDEX] = "index error",
        [ZF_ERR_OVERFLOW] = "size overflow",
        [ZF_ERR_OOM] = "out of memory",
        [ZF_ERR_IO] = "I/O error",
        [ZF_ERR_FORMAT] = "format error",
        [ZF_ERR_UNSUPPORTED] = "unsupported",
        [ZF_ERR_INTERNAL] = "internal error",
        [ZF_ERR_NUMERIC] = "numerical error",
    };
    if ((unsigned)s >= ZF_STATUS_COUNT) return "unknown status";
    return names[s];
}

zf_status zf_set_error(zf_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tl_message, sizeof tl_message, fmt, ap);
    va_end(ap);
    tl_status = s;
    return s;
}
