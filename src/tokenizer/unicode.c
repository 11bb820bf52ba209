/* Unicode category lookup and lenient UTF-8 coding for the tokenizers. */
#include "tokenizer/unicode.h"

uint8_t zf_ucat(uint32_t cp) {
    if (cp < 256) return zf_ucat_latin1[cp];
    if (cp >= ZF_UNICODE_MAX) return ZF_UCAT_UNDEFINED;
    /* last run whose start <= cp */
    size_t lo = 0, hi = zf_ucat_n_ranges;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if ((zf_ucat_ranges[mid] >> 8) <= cp)
            lo = mid;
        else
            hi = mid;
    }
    return (uint8_t)(zf_ucat_ranges[lo] & 0xFF);
}

bool zf_uspace(uint32_t cp) {
    if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
    size_t lo = 0, hi = zf_uwhite_space_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (zf_uwhite_space[mid] == cp) return true;
        if (zf_uwhite_space[mid] < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

uint32_t zf_utf8_decode(const unsigned char *s, size_t n, size_t *adv) {
    unsigned char c = s[0];
    *adv = 1;
    if (c < 0x80) return c;
    size_t len;
    uint32_t cp;
    if (c < 0xC0) return ZF_UNICODE_REPLACEMENT; /* stray continuation byte */
    if (c < 0xE0) {
        len = 2;
        cp = c & 0x1Fu;
    } else if (c < 0xF0) {
        len = 3;
        cp = c & 0x0Fu;
    } else if (c < 0xF8) {
        len = 4;
        cp = c & 0x07u;
    } else {
        return ZF_UNICODE_REPLACEMENT;
    }
    if (len > n) return ZF_UNICODE_REPLACEMENT;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return ZF_UNICODE_REPLACEMENT;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp >= ZF_UNICODE_MAX) return ZF_UNICODE_REPLACEMENT;
    *adv = len;
    return cp;
}

size_t zf_utf8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}
