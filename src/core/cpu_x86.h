/* x86 CPU feature checks that not every compiler's __builtin_cpu_supports
 * knows: clang before 15 rejects "f16c" (a compile error), so F16C is read
 * from CPUID directly. Callers check "avx2" / "avx512f" with the builtin,
 * which includes the OS (XCR0) support that F16C also needs. */
#ifndef ZF_CORE_CPU_X86_H
#define ZF_CORE_CPU_X86_H

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <stdbool.h>

/* F16C is CPUID.1:ECX bit 29 (Intel SDM vol. 2, CPUID). */
static inline bool zf_cpu_has_f16c(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    return (c >> 29) & 1;
}
#endif

#endif
