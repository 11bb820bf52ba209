/* Minimal test helpers: CHECK records a failure with file:line and goes on;
 * ZF_TEST_MAIN_END prints "N passed, M failed" and returns the status. */
#ifndef ZF_TEST_H
#define ZF_TEST_H

#include <math.h>
#include <stdio.h>

#include "zerfoo/zerfoo.h"

static int zf_test_pass, zf_test_fail;

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (cond) {                                                                          \
            zf_test_pass++;                                                                  \
        } else {                                                                             \
            zf_test_fail++;                                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, \
                    #cond, zf_last_error());                                                 \
        }                                                                                    \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                       \
    do {                                                                                            \
        double zf_a_ = (a), zf_b_ = (b);                                                            \
        if (fabs(zf_a_ - zf_b_) <= (tol) * (1.0 + fabs(zf_b_))) {                                   \
            zf_test_pass++;                                                                         \
        } else {                                                                                    \
            zf_test_fail++;                                                                         \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.17g, %s = %.17g\n", __FILE__, __LINE__, \
                    #a, zf_a_, #b, zf_b_);                                                          \
        }                                                                                           \
    } while (0)

#define ZF_TEST_MAIN_END()                                                     \
    do {                                                                       \
        printf("%d passed, %d failed\n", zf_test_pass, zf_test_fail);          \
        return zf_test_fail ? 1 : 0;                                           \
    } while (0)

#endif
