/*
** replay.c — run a fuzz target without libFuzzer: feed every file named on
** the command line, and every file of every folder named there (in byte
** order of their names; dot files left out, such as the .keep that keeps
** an empty folder in git), to LLVMFuzzerTestOneInput() once. Linked with
** fuzz_scan.c or fuzz_compile.c by any compiler, so that
** every build replays the seed corpus and each input a fuzzer ever crashed
** on. Prints TAP; a broken invariant aborts inside the target.
**
** Usage: replay_TARGET PATH...
*/
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read a whole file into a buffer of exactly its size (ASan sees overreads). */
static int read_all(const char *path, uint8_t **data, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    struct stat st;
    uint8_t *buf;
    size_t got;

    if (!fp)
        return -1;
    if (fstat(fileno(fp), &st) != 0 || st.st_size < 0) {
        fclose(fp);
        return -1;
    }
    buf = malloc((size_t)st.st_size ? (size_t)st.st_size : 1);
    if (!buf) {
        fclose(fp);
        return -1;
    }
    got = fread(buf, 1, (size_t)st.st_size, fp);
    if (got != (size_t)st.st_size || fgetc(fp) != EOF || ferror(fp)) {
        free(buf);
        fclose(fp);
        return -1;
    }
    if (fclose(fp) != 0) {
        free(buf);
        return -1;
    }
    *data = buf;
    *size = got;
    return 0;
}

static void replay_file(struct tap *t, const char *path)
{
    uint8_t *data;
    size_t size;

    if (read_all(path, &data, &size) != 0) {
        int e = errno;
        tap_ok(t, 0, "%s is readable", path);
        tap_diag("%s", strerror(e));
        return;
    }
    /* On stderr first: if the target aborts, the log says on which input. */
    fprintf(stderr, "replay: %s\n", path);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    tap_ok(t, 1, "%s (%zu bytes): every invariant held", path, size);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_folder(struct tap *t, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL, path[4096];
    size_t n = 0, cap = 0, i;

    if (!d) {
        tap_ok(t, 0, "%s: can be listed (%s)", dir, strerror(errno));
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **grown;
            cap = cap ? cap * 2 : 64;
            grown = realloc(names, cap * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        names[n] = strdup(e->d_name);
        if (!names[n])
            break;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, by_name);
    if (n == 0)
        tap_ok(t, 1, "%s holds no input # SKIP nothing to replay", dir);
    for (i = 0; i < n; i++) {
        int len = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (len < 0 || (size_t)len >= sizeof path)
            tap_ok(t, 0, "%s/%s: path fits", dir, names[i]);
        else
            replay_file(t, path);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    struct tap t = { 0, 0 };
    struct stat st;
    int i;

    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH...\n", argv[0]);
        return 2;
    }
    for (i = 1; i < argc; i++) {
        if (stat(argv[i], &st) != 0)
            tap_ok(&t, 0, "%s exists", argv[i]);
        else if (S_ISDIR(st.st_mode))
            replay_folder(&t, argv[i]);
        else
            replay_file(&t, argv[i]);
    }
    return tap_done(&t);
}
