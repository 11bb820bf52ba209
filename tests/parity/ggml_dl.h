/* Opening the ggml that PyPI llama-cpp-python built (site-packages/
 * llama_cpp/lib) for the parity programs that compare zerfoo's kernels with
 * ggml's own (llm_opcheck, ggml_qmm_oracle). Each program declares the few
 * ggml functions it uses and looks them up with dlsym in the two handles. */
#ifndef ZF_TESTS_GGML_DL_H
#define ZF_TESTS_GGML_DL_H

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The ggml library directory: `arg` when given, else the installed
 * llama_cpp package's lib/ as python3 reports it; NULL when there is none.
 * The result is `arg` or a static buffer. */
static const char *ggml_dl_dir(const char *arg) {
    static char dir[4096];
    if (arg && arg[0]) return arg;
    FILE *p = popen("python3 -c 'import llama_cpp, os; print(os.path.join(os.path.dirname(llama_cpp.__file__), "
                    "\"lib\"))' 2>/dev/null",
                    "r");
    if (!p) return NULL;
    char *s = fgets(dir, sizeof dir, p);
    pclose(p);
    if (!s) return NULL;
    dir[strcspn(dir, "\n")] = 0;
    return dir[0] ? dir : NULL;
}

/* dlopen()s DIR/libggml-base.so and DIR/libggml-cpu.so (RTLD_GLOBAL: the CPU
 * backend resolves against the base). False, with dlerror() on stdout
 * prefixed by `who`, when either is missing. */
static bool ggml_dl_open(const char *dir, const char *who, void **base, void **cpu) {
    char path[4400];
    snprintf(path, sizeof path, "%s/libggml-base.so", dir);
    *base = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    snprintf(path, sizeof path, "%s/libggml-cpu.so", dir);
    *cpu = *base ? dlopen(path, RTLD_NOW | RTLD_GLOBAL) : NULL;
    if (!*base || !*cpu) {
        printf("%s: cannot load the ggml libraries from %s: %s\n", who, dir, dlerror());
        return false;
    }
    return true;
}

#endif
