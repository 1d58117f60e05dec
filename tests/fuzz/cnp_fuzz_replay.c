/* tests/fuzz/cnp_fuzz_replay.c - main() for a fuzz target built without
 * libFuzzer: every file given (or every file in a folder given) goes through
 * LLVMFuzzerTestOneInput once, in name order. A crash, a sanitizer report or
 * an abort() of the target ends the process with a failure status.
 *
 * Usage: replay_<target> NAME PATH...   prints "PASS: fuzz replay NAME (N inputs)"
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cnp_fuzz.h"

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "FAIL: cannot read %s\n", path);
        return -1;
    }
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *p = realloc(buf, cap *= 2);
            if (!p)
                free(buf);
            buf = p;
        }
    }
    fclose(f);
    if (!buf)
        return -1;
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file directly in `dir`, in name order; -1 on failure. */
static long replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **p = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *p);
            if (!p)
                break;
            names = p;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    long count = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && replay_file(path) == 0)
            count++;
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fputs("usage: replay_TARGET NAME PATH...\n", stderr);
        return 2;
    }
    long total = 0;
    for (int i = 2; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "FAIL: fuzz replay %s: no %s\n", argv[1], argv[i]);
            return 1;
        }
        const long n = S_ISDIR(sb.st_mode) ? replay_dir(argv[i])
                                           : (replay_file(argv[i]) == 0 ? 1 : -1);
        if (n < 0) {
            fprintf(stderr, "FAIL: fuzz replay %s: cannot read %s\n", argv[1], argv[i]);
            return 1;
        }
        total += n;
    }
    printf("PASS: fuzz replay %s (%ld inputs)\n", argv[1], total);
    return 0;
}
