/* zerfoo command-line tool. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        printf("usage: zerfoo COMMAND [ARGS]\n");
        return argc < 2 ? 1 : 0;
    }
    fprintf(stderr, "zerfoo: unknown command '%s' (see zerfoo --help)\n", argv[1]);
    return 2;
}
