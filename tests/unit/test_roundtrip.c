/*
** test_roundtrip.c — the proof that the embedded bytes are the file's bytes.
**
** Usage: test_roundtrip RUNTIME_INCLUDE_DIR CC [CC_ARGS...]
**
** Builds a struct tool_folder in memory whose SQL and names hold every byte
** value 1..255 in every neighbourhood (each byte followed by each byte and by
** each digit), all nine trigraphs, quotes and backslashes, a line longer than
** 64 KiB and a 5 MiB migration; emits the .c and .h into a temporary
** directory with a small main.c that writes every string of the set back to
** files; compiles them with the given C compiler under -std=c11 -Wall
** -Wextra -Wpedantic -Werror; runs the program; and compares every file with
** the input, byte for byte. An empty folder's output is compiled and run the
** same way, and both headers are compiled as C++17 when a C++ compiler ($CXX,
** else c++) is there. Prints TAP.
*/
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork, execvp, waitpid */
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emit.h"
#include "sha256.h"
#include "spawn.h"
#include "tap.h"

#define NMIG 7
#define NOBJ 3

/* Everything the test allocates, so that it can all be freed at the end. */
struct fixture {
    struct tool_migration m[NMIG];
    struct tool_object o[NOBJ];
    struct tool_folder f;
};

/* The program compiled from the generated file: it writes every string of
** the set into DIR as m<i>.up, m<i>.down, m<i>.name, m<i>.file, m<i>.sum,
** o<i>.type, o<i>.name, o<i>.sql, and one line per entry in DIR/meta. */
static const char dumper_c[] =
    "#include <stdio.h>\n"
    "#include <string.h>\n"
    "#include \"gen.h\"\n"
    "\n"
    "static int put(const char *dir, char kind, size_t i, const char *ext,\n"
    "               const char *p, size_t n)\n"
    "{\n"
    "    char path[4096];\n"
    "    FILE *fp;\n"
    "    int ok;\n"
    "\n"
    "    snprintf(path, sizeof path, \"%s/%c%zu.%s\", dir, kind, i, ext);\n"
    "    fp = fopen(path, \"wb\");\n"
    "    if (fp == NULL)\n"
    "        return 1;\n"
    "    ok = fwrite(p, 1, n, fp) == n;\n"
    "    return (fclose(fp) != 0 || !ok) ? 1 : 0;\n"
    "}\n"
    "\n"
    "int main(int argc, char **argv)\n"
    "{\n"
    "    const struct sqlmig_set *s = &gen;\n"
    "    char path[4096];\n"
    "    FILE *meta;\n"
    "    size_t i;\n"
    "    int bad = 0;\n"
    "\n"
    "    if (argc != 2)\n"
    "        return 2;\n"
    "    snprintf(path, sizeof path, \"%s/meta\", argv[1]);\n"
    "    meta = fopen(path, \"w\");\n"
    "    if (meta == NULL)\n"
    "        return 1;\n"
    "    fprintf(meta, \"%zu %zu\\n\", s->count, s->object_count);\n"
    "    for (i = 0; i < s->count; i++) {\n"
    "        const struct sqlmig_migration *m = &s->migrations[i];\n"
    "        fprintf(meta, \"%lld %u %u %d %zu\\n\", (long long)m->version, m->up_line,\n"
    "                m->flags, m->down_sql != NULL, m->down_len);\n"
    "        bad |= put(argv[1], 'm', i, \"up\", m->up_sql, m->up_len);\n"
    "        if (m->down_sql != NULL)\n"
    "            bad |= put(argv[1], 'm', i, \"down\", m->down_sql, m->down_len);\n"
    "        bad |= put(argv[1], 'm', i, \"name\", m->name, strlen(m->name));\n"
    "        bad |= put(argv[1], 'm', i, \"file\", m->file, strlen(m->file));\n"
    "        bad |= put(argv[1], 'm', i, \"sum\", m->checksum, strlen(m->checksum));\n"
    "    }\n"
    "    for (i = 0; i < s->object_count; i++) {\n"
    "        const struct sqlmig_object *o = &s->objects[i];\n"
    "        fprintf(meta, \"%d\\n\", o->sql != NULL);\n"
    "        bad |= put(argv[1], 'o', i, \"type\", o->type, strlen(o->type));\n"
    "        bad |= put(argv[1], 'o', i, \"name\", o->name, strlen(o->name));\n"
    "        if (o->sql != NULL)\n"
    "            bad |= put(argv[1], 'o', i, \"sql\", o->sql, strlen(o->sql));\n"
    "    }\n"
    "    return (fclose(meta) != 0 || bad) ? 1 : 0;\n"
    "}\n";

/* The empty folder's program: it only checks the set is empty and valid. */
static const char empty_main_c[] =
    "#include \"empty_set.h\"\n"
    "\n"
    "int main(void)\n"
    "{\n"
    "    return empty_set.count != 0 || empty_set.migrations != NULL\n"
    "        || empty_set.object_count != 0 || empty_set.objects != NULL;\n"
    "}\n";

/* Both headers, seen by a C++ compiler. */
static const char header_cpp[] =
    "#include \"gen.h\"\n"
    "#include \"empty_set.h\"\n"
    "\n"
    "int main()\n"
    "{\n"
    "    return static_cast<int>(gen.count + empty_set.count) == 0;\n"
    "}\n";

/* malloc that ends the test on failure: there is nothing to test without memory. */
static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL) {
        fputs("out of memory\n", stderr);
        exit(99);
    }
    return p;
}

/* A heap copy of len bytes plus a NUL. */
static char *dup_bytes(const void *p, size_t len)
{
    char *s = xmalloc(len + 1);

    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

/* Set m's up (and down when down != NULL) and its checksum. */
static void set_sql(struct tool_migration *m, char *up, size_t up_len, char *down, size_t down_len)
{
    m->up = up;
    m->up_len = up_len;
    m->down = down;
    m->down_len = down_len;
    if (down != NULL)
        m->down_file = dup_bytes(m->file, strlen(m->file)); /* one file with sections */
    sqlmig_checksum(up, up_len, m->checksum);
}

static void build_fixture(struct fixture *x)
{
    static const char trigraphs[] = "=/'()!<>-";
    static const char followers[] = "0123456789abcdefABCDEF?\"\\\n";
    char name[600];
    char *p;
    size_t i, j, n;
    struct tool_migration *m = x->m;

    memset(x, 0, sizeof *x);

    /* 0: every byte 1..255 once, up; and every ordered pair of them, down. */
    for (n = 0, i = 1; i < 256; i++) {
        if (i != '/')
            name[n++] = (char)i;
    }
    m[0].version = 1;
    m[0].name = dup_bytes(name, n);                 /* all bytes but NUL and '/' */
    memcpy(name + n, ".sql", 4);
    m[0].file = dup_bytes(name, n + 4);
    m[0].up_line = 1;
    p = xmalloc(255);
    for (i = 1; i < 256; i++)
        p[i - 1] = (char)i;
    n = 255 * 255 * 2;
    {
        char *d = xmalloc(n);
        size_t k = 0;
        for (i = 1; i < 256; i++) {
            for (j = 1; j < 256; j++) {
                d[k++] = (char)i;
                d[k++] = (char)j;
            }
        }
        set_sql(&m[0], p, 255, d, n);
    }

    /* 1: each byte followed by each digit, hex digit, '?', quote, backslash, LF. */
    m[1].version = 2;
    m[1].name = dup_bytes("digits", 6);
    m[1].file = dup_bytes("0002_digits.sql", 15);
    m[1].up_line = 3;
    m[1].flags = 1;
    n = 255 * (sizeof followers - 1) * 2;
    p = xmalloc(n);
    for (n = 0, i = 1; i < 256; i++) {
        for (j = 0; j < sizeof followers - 1; j++) {
            p[n++] = (char)i;
            p[n++] = followers[j];
        }
    }
    set_sql(&m[1], p, n, NULL, 0);

    /* 2: the nine trigraphs in every context, quotes, backslashes, comments. */
    m[2].version = 10;
    m[2].name = dup_bytes("trigraphs ?\?= */ \\", 18);
    m[2].file = dup_bytes("0010_?\?=*.sql", 13);
    m[2].up_line = 7;
    p = xmalloc(4096);
    n = 0;
    for (i = 0; i < sizeof trigraphs - 1; i++) {
        n += (size_t)sprintf(p + n, "SELECT '?\?%c';\n??%c\n???%c\\?\?%c\"?\?%c\"\\\n",
                             trigraphs[i], trigraphs[i], trigraphs[i], trigraphs[i], trigraphs[i]);
    }
    n += (size_t)sprintf(p + n, "\"\\\"\\\\ */ /* // ?\n??\n???\n\\\n\\");
    set_sql(&m[2], p, n, dup_bytes("?\?/\n", 4), 4);

    /* 3: a line over 64 KiB, with escapes at every offset near a cut. */
    m[3].version = INT64_C(20240501120000);
    m[3].name = dup_bytes("long_line", 9);
    m[3].file = dup_bytes("20240501120000_long_line.sql", 28);
    m[3].up_line = 1;
    n = 70000;
    p = xmalloc(n);
    for (i = 0; i < n; i++)
        p[i] = (i % 997 == 0) ? '\001' : (i % 1999 == 0) ? '?' : (i % 3001 == 0) ? '\377' : 'x';
    set_sql(&m[3], p, n, NULL, 0);

    /* 4: 5 MiB of SQL-like lines, some non-ASCII. */
    m[4].version = INT64_C(20240501120001);
    m[4].name = dup_bytes("big", 3);
    m[4].file = dup_bytes("20240501120001_big.sql", 22);
    m[4].up_line = 2;
    n = 5u * 1024 * 1024;
    p = xmalloc(n);
    for (i = 0; i < n; i++) {
        j = i % 81;
        p[i] = j == 80 ? '\n' : (i / 81) % 7 == 3 && j == 40 ? (char)0xe9 : (char)('a' + (i + j) % 26);
    }
    set_sql(&m[4], p, n, NULL, 0);

    /* 5: an empty up and an empty down part. */
    m[5].version = INT64_C(20240501120002);
    m[5].name = dup_bytes("empty\\", 6);
    m[5].file = dup_bytes("20240501120002_empty\\.sql", 25);
    set_sql(&m[5], dup_bytes("", 0), 0, dup_bytes("", 0), 0);

    /* 6: the largest version; names ending in '*' and '?'. */
    m[6].version = INT64_MAX;
    m[6].name = dup_bytes("last*", 5);
    m[6].file = dup_bytes("9223372036854775807_last?*", 26);
    m[6].up_line = 4000000000u;
    m[6].flags = 1;
    set_sql(&m[6], dup_bytes("SELECT 1", 8), 8, NULL, 0);

    /* Objects: strange names and SQL, and one without SQL. */
    for (n = 0, i = 1; i < 256; i++)
        name[n++] = (char)i;
    x->o[0].type = dup_bytes("index", 5);
    x->o[0].name = dup_bytes("i?\?=", 4);
    x->o[0].sql = NULL;
    x->o[1].type = dup_bytes("table", 5);
    x->o[1].name = dup_bytes(name + 1, n - 1);     /* bytes 2..255 */
    x->o[1].sql = dup_bytes(name, n);              /* bytes 1..255 */
    x->o[2].type = dup_bytes("table", 5);
    x->o[2].name = dup_bytes("\xff\xfe", 2);
    x->o[2].sql = dup_bytes("CREATE TABLE \"\xff\xfe\" (\n  x TEXT DEFAULT '?\?!'\n)", 38);

    x->f.dir = dup_bytes("/some/abs/path/migrations", 25);
    x->f.items = x->m;
    x->f.count = NMIG;
    x->f.objects = x->o;
    x->f.object_count = NOBJ;
}

static void free_fixture(struct fixture *x)
{
    size_t i;

    for (i = 0; i < NMIG; i++) {
        free(x->m[i].name);
        free(x->m[i].file);
        free(x->m[i].up);
        free(x->m[i].down);
        free(x->m[i].down_file);
    }
    for (i = 0; i < NOBJ; i++) {
        free(x->o[i].type);
        free(x->o[i].name);
        free(x->o[i].sql);
    }
    free(x->f.dir);
}

/* Compile with the test's compiler: cc_words, then the flags, then extra. */
static int compile(char **cc_words, int ncc, const char *const *extra, int nextra)
{
    static const char *const flags[] = {
        "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"
    };
    char **argv = xmalloc(sizeof(char *) * (size_t)(ncc + 5 + nextra + 1));
    int i, n = 0, rc;

    for (i = 0; i < ncc; i++)
        argv[n++] = cc_words[i];
    for (i = 0; i < 5; i++)
        argv[n++] = (char *)flags[i];
    for (i = 0; i < nextra; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    rc = spawn_wait(argv, 0);
    free(argv);
    return rc;
}

/* dir/name into out; a path that does not fit ends the test. */
static const char *join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "path too long: %s/%s\n", dir, name);
        exit(99);
    }
    return out;
}

/* Write a string to dir/name with write_if_changed(). */
static int put_file(const char *dir, const char *name, const char *text, size_t len)
{
    char path[4096], err[512];
    struct buf b;
    int rc;

    buf_init(&b);
    buf_append(&b, text, len);
    rc = write_if_changed(join(path, sizeof path, dir, name), &b, err, sizeof err);
    if (rc != 0)
        tap_diag("%s", err);
    buf_free(&b);
    return rc;
}

/* 1 if dir/name holds exactly len bytes of want. */
static int file_is(const char *dir, const char *name, const char *want, size_t len)
{
    char path[4096];
    FILE *fp;
    char *got;
    size_t n;
    int same;

    fp = fopen(join(path, sizeof path, dir, name), "rb");
    if (fp == NULL)
        return 0;
    got = xmalloc(len + 1);
    n = fread(got, 1, len + 1, fp); /* one more, to notice a longer file */
    same = n == len && memcmp(got, want, len) == 0;
    free(got);
    if (fclose(fp) != 0)
        same = 0;
    return same;
}

/* Compare every dumped string with the fixture. */
static void compare(struct tap *t, const char *out, const struct fixture *x)
{
    char name[64], meta[8192], line[128], path[4200];
    const struct tool_migration *m;
    const struct tool_object *o;
    size_t i, n;
    int ok;

    n = (size_t)snprintf(meta, sizeof meta, "%d %d\n", NMIG, NOBJ);
    for (i = 0; i < NMIG; i++) {
        m = &x->m[i];
        snprintf(line, sizeof line, "%" PRId64 " %u %u %d %zu\n", m->version, m->up_line,
                 m->flags, m->down != NULL, m->down_len);
        n += (size_t)snprintf(meta + n, sizeof meta - n, "%s", line);
    }
    for (i = 0; i < NOBJ; i++)
        n += (size_t)snprintf(meta + n, sizeof meta - n, "%d\n", x->o[i].sql != NULL);
    tap_ok(t, file_is(out, "meta", meta, n), "versions, lines, flags and counts survive");

    for (i = 0; i < NMIG; i++) {
        m = &x->m[i];
        snprintf(name, sizeof name, "m%zu.up", i);
        ok = file_is(out, name, m->up, m->up_len);
        snprintf(name, sizeof name, "m%zu.down", i);
        if (m->down != NULL)
            ok = ok && file_is(out, name, m->down, m->down_len);
        else
            ok = ok && access(join(path, sizeof path, out, name), F_OK) != 0;
        tap_ok(t, ok, "migration %zu: up (%zu bytes) and down (%s) are byte-identical", i,
               m->up_len, m->down != NULL ? "present" : "NULL");
        snprintf(name, sizeof name, "m%zu.name", i);
        ok = file_is(out, name, m->name, strlen(m->name));
        snprintf(name, sizeof name, "m%zu.file", i);
        ok = ok && file_is(out, name, m->file, strlen(m->file));
        snprintf(name, sizeof name, "m%zu.sum", i);
        ok = ok && file_is(out, name, m->checksum, 64);
        tap_ok(t, ok, "migration %zu: name, file name and checksum are byte-identical", i);
    }
    for (i = 0; i < NOBJ; i++) {
        o = &x->o[i];
        snprintf(name, sizeof name, "o%zu.type", i);
        ok = file_is(out, name, o->type, strlen(o->type));
        snprintf(name, sizeof name, "o%zu.name", i);
        ok = ok && file_is(out, name, o->name, strlen(o->name));
        snprintf(name, sizeof name, "o%zu.sql", i);
        if (o->sql != NULL)
            ok = ok && file_is(out, name, o->sql, strlen(o->sql));
        tap_ok(t, ok, "object %zu: type, name and SQL are byte-identical", i);
    }
}

/* Remove the temporary directory and everything in it (one level deep). */
static void remove_tree(const char *dir)
{
    char path[4096];
    DIR *d;
    struct dirent *e;

    d = opendir(dir);
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        join(path, sizeof path, dir, e->d_name);
        if (unlink(path) != 0)
            remove_tree(path), (void)rmdir(path);
    }
    (void)closedir(d);
    (void)rmdir(dir);
}

/* Compile both headers as C++17, if a C++ compiler can be run. */
static void check_cxx(struct tap *t, const char *dir, const char *runtime)
{
    char inc1[4200], inc2[4200], src[4200];
    const char *cxx = getenv("CXX");
    char *probe[3], *argv[16];
    int n = 0;

    if (cxx == NULL || cxx[0] == '\0')
        cxx = "c++";
    probe[0] = (char *)cxx;
    probe[1] = "--version";
    probe[2] = NULL;
    if (spawn_wait(probe, 1) != 0) {
        tap_ok(t, 1, "headers compile as C++17 # SKIP no C++ compiler (%s)", cxx);
        return;
    }
    if (put_file(dir, "hdr.cpp", header_cpp, sizeof header_cpp - 1) != 0) {
        tap_ok(t, 0, "write hdr.cpp");
        return;
    }
    snprintf(inc1, sizeof inc1, "-I%s", dir);
    snprintf(inc2, sizeof inc2, "-I%s", runtime);
    join(src, sizeof src, dir, "hdr.cpp");
    argv[n++] = (char *)cxx;
    argv[n++] = "-std=c++17";
    argv[n++] = "-Wall";
    argv[n++] = "-Wextra";
    argv[n++] = "-Wpedantic";
    argv[n++] = "-Werror";
    argv[n++] = "-fsyntax-only";
    argv[n++] = inc1;
    argv[n++] = inc2;
    argv[n++] = src;
    argv[n] = NULL;
    tap_ok(t, spawn_wait(argv, 0) == 0, "headers compile as C++17 with %s", cxx);
}

int main(int argc, char **argv)
{
    struct tap t = {0, 0};
    struct fixture *x;
    struct tool_folder empty;
    struct buf b;
    char dir[4096], out[4200], prog[4200], src1[4200], src2[4200], src3[4200], inc1[4200],
        inc2[4200], err[512];
    const char *tmp = getenv("TMPDIR");
    const char *extra[10];
    char *runargv[3];
    int rc;

    if (argc < 3) {
        fprintf(stderr, "usage: %s RUNTIME_INCLUDE_DIR CC [CC_ARGS...]\n", argv[0]);
        return 2;
    }
    snprintf(dir, sizeof dir, "%s/sqlmig_roundtrip.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(inc1, sizeof inc1, "-I%s", dir);
    snprintf(inc2, sizeof inc2, "-I%s", argv[1]);

    x = xmalloc(sizeof *x);
    build_fixture(x);
    buf_init(&b);

    /* The full folder. */
    rc = emit_c(&x->f, "gen", "gen.h", &b, err, sizeof err);
    if (tap_ok(&t, rc == 0, "emit_c on the torture folder (%zu bytes of C)", b.len)
        && tap_ok(&t, put_file(dir, "gen.c", b.data, b.len) == 0, "write gen.c")) {
        buf_free(&b);
        tap_ok(&t, emit_h("gen", &b, err, sizeof err) == 0 && put_file(dir, "gen.h", b.data, b.len) == 0,
               "emit_h and write gen.h");
        tap_ok(&t, put_file(dir, "main.c", dumper_c, sizeof dumper_c - 1) == 0, "write main.c");
        extra[0] = inc1;
        extra[1] = inc2;
        extra[2] = join(src1, sizeof src1, dir, "gen.c");
        extra[3] = join(src2, sizeof src2, dir, "main.c");
        extra[4] = "-o";
        extra[5] = join(prog, sizeof prog, dir, "dump");
        if (tap_ok(&t, compile(argv + 2, argc - 2, extra, 6) == 0,
                   "the generated C compiles with -std=c11 -Wall -Wextra -Wpedantic -Werror")) {
            join(out, sizeof out, dir, "out");
            if (mkdir(out, 0777) != 0)
                tap_diag("mkdir %s failed", out);
            runargv[0] = prog;
            runargv[1] = out;
            runargv[2] = NULL;
            if (tap_ok(&t, spawn_wait(runargv, 0) == 0, "the program runs and writes every string"))
                compare(&t, out, x);
        }
    } else {
        tap_diag("%s", err);
    }
    buf_free(&b);

    /* The empty folder: valid C, and the set is empty. */
    memset(&empty, 0, sizeof empty);
    empty.dir = "migrations";
    tap_ok(&t, emit_c(&empty, "empty_set", "empty_set.h", &b, err, sizeof err) == 0
                   && put_file(dir, "empty_set.c", b.data, b.len) == 0,
           "emit_c on an empty folder");
    buf_free(&b);
    tap_ok(&t, emit_h("empty_set", &b, err, sizeof err) == 0
                   && put_file(dir, "empty_set.h", b.data, b.len) == 0,
           "emit_h for the empty folder");
    buf_free(&b);
    tap_ok(&t, put_file(dir, "empty_main.c", empty_main_c, sizeof empty_main_c - 1) == 0,
           "write empty_main.c");
    extra[0] = inc1;
    extra[1] = inc2;
    extra[2] = join(src1, sizeof src1, dir, "empty_set.c");
    extra[3] = join(src3, sizeof src3, dir, "empty_main.c");
    extra[4] = "-o";
    extra[5] = join(prog, sizeof prog, dir, "empty");
    if (tap_ok(&t, compile(argv + 2, argc - 2, extra, 6) == 0, "the empty folder's C compiles")) {
        runargv[0] = prog;
        runargv[1] = NULL;
        tap_ok(&t, spawn_wait(runargv, 0) == 0, "and its set has no migration and no object");
    }

    check_cxx(&t, dir, argv[1]);

    remove_tree(dir);
    free_fixture(x);
    free(x);
    return tap_done(&t);
}
