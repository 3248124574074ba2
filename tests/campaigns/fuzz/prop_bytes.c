/*
** prop_bytes.c — a property of `sqlmig compile` as a whole: whatever bytes a
** migration file holds (every value but NUL), the program built from the
** generated C gives back exactly the file's bytes, its name, and the SHA-256
** of the file with CR LF read as LF.
**
** Random strings come from a seeded generator (PROP_SEED, default 1, printed
** first; PROP_COUNT strings, default 2000): lengths from 0 to 80,000 bytes,
** bytes uniform over 1..255 or drawn from the ones the escaper treats
** specially. Each string is made valid SQL in one of five ways, and the
** file compared is the whole wrapped text:
**   a block comment before SELECT 1 (a slash right after a star becomes '|'),
**   SELECT 'string';      (every ' doubled)
**   SELECT 1 AS "string"; (every " doubled)
**   SELECT 1; then each line of the string as a line comment "--x<line>",
**   CREATE TABLE "t<version>_string" (x); whose name and SQL must come
**   back too, from the schema objects the C embeds,
** some with CR LF line ends and some with a no-transaction directive. The
** strings go PER_FOLDER to a folder under random file names, so that the
** real `sqlmig compile` and the C compiler (with -std=c11 -Wall -Wextra
** -Wpedantic -Werror) run a few times, not thousands. On a failure the
** temporary folder is kept and named.
**
** Usage: prop_bytes SQLMIG RUNTIME_INCLUDE_DIR CC [CC_ARGS...]
*/
#include "sha256.h"
#include "spawn.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PER_FOLDER 500

enum form { FORM_BLOCK, FORM_STRING, FORM_IDENT, FORM_LINES, FORM_TABLE, FORM_COUNT };
static const char *const form_names[] = { "block comment", "string literal",
                                          "quoted identifier", "line comments", "table name" };

/* One migration file of a folder, as generated. */
struct item {
    char file[64];
    size_t name_start, name_len;  /* the <name> part inside file */
    int64_t version;
    unsigned flags;
    enum form form;
    char *text;                   /* the whole file */
    size_t len;
    char *table;                  /* FORM_TABLE: the table's name, else NULL */
    char *table_sql;              /* and its CREATE statement as SQLite keeps it */
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "prop_bytes: out of memory\n");
        exit(99);
    }
    return p;
}

/* splitmix64: small, fast, and the same sequence everywhere for a seed. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A number in [lo, hi]. */
static size_t between(size_t lo, size_t hi)
{
    return lo + (size_t)(rnd() % (uint64_t)(hi - lo + 1));
}

/* Mostly short strings, some past a literal piece (4000) and past 64 KiB. */
static size_t random_length(void)
{
    unsigned r = (unsigned)(rnd() % 100);

    if (r < 60)
        return between(0, 64);
    if (r < 90)
        return between(65, 1000);
    if (r < 98)
        return between(1001, 9000);
    return between(9001, 80000);
}

/* Bytes the escaper and the scanners treat specially, and their neighbours. */
static const char special[] = "?\?\?\\\"'`[]\n\r\t */-;:=()!<>01234567abcdefxX\177\200\377\001";

/* Fill s[0..n) with bytes 1..255: uniform, special, or a mix of both. */
static void random_bytes(char *s, size_t n)
{
    unsigned mode = (unsigned)(rnd() % 3);
    size_t i;

    for (i = 0; i < n; i++) {
        if (mode == 0 || (mode == 2 && rnd() % 2))
            s[i] = (char)between(1, 255);
        else
            s[i] = special[rnd() % (sizeof special - 1)];
    }
}

static void append(char **p, const char *s, size_t n)
{
    memcpy(*p, s, n);
    *p += n;
}

/* Wrap the random bytes into SQL that the build-time replay accepts. */
static void make_text(struct item *it, const char *s, size_t n)
{
    const char *eol = rnd() % 8 == 0 ? "\r\n" : "\n";
    size_t el = strlen(eol), i, head;
    char *out = xmalloc(6 * n + 128), *p = out, *q;

    it->table = it->table_sql = NULL;
    it->form = (enum form)(rnd() % FORM_COUNT);
    it->flags = rnd() % 10 == 0;
    if (it->flags) {
        append(&p, "-- sqlmig:no-transaction", 24);
        append(&p, eol, el);
    }
    switch (it->form) {
    case FORM_BLOCK:
        append(&p, "/*", 2);
        for (i = 0; i < n; i++)
            *p++ = s[i] == '/' && i > 0 && s[i - 1] == '*' ? '|' : s[i];
        append(&p, "*/", 2);
        append(&p, eol, el);
        append(&p, "SELECT 1;", 9);
        append(&p, eol, el);
        break;
    case FORM_STRING:
    case FORM_IDENT:
        if (it->form == FORM_STRING)
            append(&p, "SELECT '", 8);
        else
            append(&p, "SELECT 1 AS \"", 13);
        for (i = 0; i < n; i++) {
            if (s[i] == (it->form == FORM_STRING ? '\'' : '"'))
                *p++ = s[i];
            *p++ = s[i];
        }
        *p++ = it->form == FORM_STRING ? '\'' : '"';
        *p++ = ';';
        append(&p, eol, el);
        break;
    case FORM_TABLE:
        /* The prefix keeps names unique (SQLite ignores ASCII case) and away
        ** from the reserved sqlite_ ones. */
        q = p;
        append(&p, "CREATE TABLE \"", 14);
        head = (size_t)sprintf(p, "t%" PRId64 "_", it->version);
        it->table = xmalloc(head + n + 1);
        memcpy(it->table, p, head);
        memcpy(it->table + head, s, n);
        it->table[head + n] = '\0';
        p += head;
        for (i = 0; i < n; i++) {
            if (s[i] == '"')
                *p++ = s[i];
            *p++ = s[i];
        }
        append(&p, "\" (x)", 5);
        it->table_sql = xmalloc((size_t)(p - q) + 1);
        memcpy(it->table_sql, q, (size_t)(p - q));
        it->table_sql[p - q] = '\0';
        *p++ = ';';
        append(&p, eol, el);
        break;
    default:
        /* The statement first, so the file may end inside a comment. */
        append(&p, "SELECT 1;", 9);
        append(&p, eol, el);
        append(&p, "--x", 3);
        for (i = 0; i < n; i++) {
            *p++ = s[i];
            if (s[i] == '\n')
                append(&p, "--x", 3);
        }
        break;
    }
    it->text = out;
    it->len = (size_t)(p - out);
}

/* <version, zero-padded>_s<random bytes>_.sql: never .up/.down, never a dot first. */
static void make_name(struct item *it, int64_t version)
{
    char name[40];
    size_t n = between(0, 30), i;
    int width = (int)between(1, 6), head;

    for (i = 0; i < n; i++) {
        do
            name[i] = (char)between(1, 255);
        while (name[i] == '/');
    }
    it->version = version;
    head = snprintf(it->file, sizeof it->file, "%0*" PRId64 "_", width, version);
    it->name_start = (size_t)head;
    it->file[head] = 's';
    memcpy(it->file + head + 1, name, n);
    it->file[head + 1 + n] = '_';
    it->name_len = n + 2;
    memcpy(it->file + head + 1 + n + 1, ".sql", 5);
}

/* SHA-256 of the bytes with every CR LF read as LF, in lowercase hex. */
static void checksum(const char *p, size_t len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    struct sha256 c;
    unsigned char d[32];
    size_t i, start = 0;

    sha256_init(&c);
    for (i = 0; i < len; i++) {
        if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n') {
            sha256_update(&c, p + start, i - start);
            start = i + 1;
        }
    }
    sha256_update(&c, p + start, len - start);
    sha256_final(&c, d);
    for (i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

static const char *path_in(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "prop_bytes: path too long: %s/%s\n", dir, name);
        exit(99);
    }
    return out;
}

static int write_file(const char *path, const char *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    int ok;

    if (!fp)
        return -1;
    ok = fwrite(data, 1, len, fp) == len;
    return fclose(fp) == 0 && ok ? 0 : -1;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, got;

    if (!fp)
        return NULL;
    do {
        if (cap - n < 65536) {
            cap = cap ? 2 * cap : 1 << 20;
            buf = realloc(buf, cap);
            if (!buf) {
                fclose(fp);
                return NULL;
            }
        }
        got = fread(buf + n, 1, cap - n, fp);
        n += got;
    } while (got > 0);
    if (ferror(fp) || fclose(fp) != 0) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* The program built from the generated C: it writes every migration out. */
static const char dumper_c[] =
    "#include <stdio.h>\n"
    "#include <string.h>\n"
    "#include \"prop.h\"\n"
    "\n"
    "static int put(FILE *fp, const char *s, size_t n)\n"
    "{\n"
    "    return fprintf(fp, \"%zu\\n\", n) < 0 || fwrite(s, 1, n, fp) != n;\n"
    "}\n"
    "\n"
    "int main(int argc, char **argv)\n"
    "{\n"
    "    FILE *fp;\n"
    "    size_t i;\n"
    "    int bad = 0;\n"
    "\n"
    "    if (argc != 2 || (fp = fopen(argv[1], \"wb\")) == NULL)\n"
    "        return 2;\n"
    "    fprintf(fp, \"%zu\\n\", prop.count);\n"
    "    for (i = 0; i < prop.count; i++) {\n"
    "        const struct sqlmig_migration *m = &prop.migrations[i];\n"
    "        fprintf(fp, \"%lld %u\\n\", (long long)m->version, m->flags);\n"
    "        bad |= put(fp, m->name, strlen(m->name));\n"
    "        bad |= put(fp, m->file, strlen(m->file));\n"
    "        bad |= put(fp, m->up_sql, m->up_len);\n"
    "        bad |= m->up_sql[m->up_len] != '\\0';\n"
    "        bad |= put(fp, m->checksum, strlen(m->checksum));\n"
    "    }\n"
    "    fprintf(fp, \"%zu\\n\", prop.object_count);\n"
    "    for (i = 0; i < prop.object_count; i++) {\n"
    "        const struct sqlmig_object *o = &prop.objects[i];\n"
    "        bad |= put(fp, o->type, strlen(o->type));\n"
    "        bad |= put(fp, o->name, strlen(o->name));\n"
    "        bad |= o->sql == NULL || put(fp, o->sql, strlen(o->sql));\n"
    "    }\n"
    "    return (fclose(fp) != 0 || bad) ? 1 : 0;\n"
    "}\n";

/* A cursor over the dump: numbers end with a space or LF, strings are counted. */
struct reader {
    const char *p, *end;
};

static int read_number(struct reader *r, long long *out)
{
    char *stop;

    if (r->p >= r->end)
        return -1;
    errno = 0;
    *out = strtoll(r->p, &stop, 10);
    if (errno || stop == r->p || stop >= r->end || (*stop != ' ' && *stop != '\n'))
        return -1;
    r->p = stop + 1;
    return 0;
}

static int read_string(struct reader *r, const char **s, size_t *n)
{
    long long len;

    if (read_number(r, &len) != 0 || len < 0 || (size_t)len > (size_t)(r->end - r->p))
        return -1;
    *s = r->p;
    *n = (size_t)len;
    r->p += len;
    return 0;
}

static int same(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && memcmp(a, b, an) == 0;
}

static int by_table_name(const void *a, const void *b)
{
    return strcmp((*(const struct item *const *)a)->table, (*(const struct item *const *)b)->table);
}

/*
** The objects that follow the migrations in the dump: the tables, sorted by
** name in byte order as the set requires, each with its CREATE statement.
*/
static void compare_tables(struct tap *t, int k, struct reader *r, const struct item *items,
                           size_t n)
{
    const struct item **tables = xmalloc(n * sizeof *tables);
    size_t count = 0, i, bad = n, tl, nl, sl;
    long long objects = -1;
    const char *type, *name, *sql;
    int parsed;

    for (i = 0; i < n; i++) {
        if (items[i].table)
            tables[count++] = &items[i];
    }
    qsort(tables, count, sizeof *tables, by_table_name);
    parsed = read_number(r, &objects) == 0 && objects == (long long)count;
    for (i = 0; parsed && i < count; i++) {
        if (read_string(r, &type, &tl) || read_string(r, &name, &nl) ||
            read_string(r, &sql, &sl)) {
            parsed = 0;
            break;
        }
        if (!(same(type, tl, "table", 5) &&
              same(name, nl, tables[i]->table, strlen(tables[i]->table)) &&
              same(sql, sl, tables[i]->table_sql, strlen(tables[i]->table_sql))) && bad == n)
            bad = i;
    }
    tap_ok(t, parsed && r->p == r->end, "folder %d: the program lists all %zu tables, in order",
           k, count);
    tap_ok(t, parsed && bad == n,
           "folder %d: every table name and CREATE statement comes back byte for byte", k);
    if (parsed && bad < count)
        tap_diag("first differing table: %s", tables[bad]->file);
    free(tables);
}

/* Compare the dump with the items; report the first difference of each kind. */
static void compare(struct tap *t, int k, const char *dump, size_t dump_len,
                    const struct item *items, size_t n)
{
    struct reader r = { dump, dump + dump_len };
    long long count = -1, version, flags;
    size_t i, bad_meta = n, bad_name = n, bad_text = n, bad_sum = n, sl;
    const char *s;
    char sum[65];
    int parsed = read_number(&r, &count) == 0 && count == (long long)n;

    for (i = 0; parsed && i < n; i++) {
        const struct item *it = &items[i];
        const char *name, *file, *text;
        size_t name_len, file_len, text_len;

        if (read_number(&r, &version) || read_number(&r, &flags) ||
            read_string(&r, &name, &name_len) || read_string(&r, &file, &file_len) ||
            read_string(&r, &text, &text_len) || read_string(&r, &s, &sl)) {
            parsed = 0;
            break;
        }
        if ((version != it->version || flags != (long long)it->flags) && bad_meta == n)
            bad_meta = i;
        if (!(same(name, name_len, it->file + it->name_start, it->name_len) &&
              same(file, file_len, it->file, strlen(it->file))) && bad_name == n)
            bad_name = i;
        if (!same(text, text_len, it->text, it->len) && bad_text == n)
            bad_text = i;
        checksum(it->text, it->len, sum);
        if (!same(s, sl, sum, 64) && bad_sum == n)
            bad_sum = i;
    }
    tap_ok(t, parsed, "folder %d: the program lists all %zu migrations", k, n);
    if (!parsed)
        return;
    compare_tables(t, k, &r, items, n);
    tap_ok(t, bad_meta == n, "folder %d: every version and no-transaction flag is kept", k);
    tap_ok(t, bad_name == n, "folder %d: every name and file name comes back byte for byte", k);
    tap_ok(t, bad_text == n, "folder %d: every file comes back byte for byte", k);
    tap_ok(t, bad_sum == n, "folder %d: every checksum is SHA-256 of the file, CR LF read as LF",
           k);
    if (bad_text < n)
        tap_diag("first differing file: #%zu %s (%zu bytes, %s)", bad_text,
                 items[bad_text].file, items[bad_text].len, form_names[items[bad_text].form]);
    if (bad_name < n)
        tap_diag("first differing name: #%zu", bad_name);
}

/* Remove a folder and what it holds, two levels deep. */
static void remove_tree(const char *dir)
{
    char path[4096];
    struct dirent *e;
    DIR *d = opendir(dir);

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        path_in(path, sizeof path, dir, e->d_name);
        if (unlink(path) != 0)
            remove_tree(path);
    }
    /* Only a temporary folder: what cannot be removed is left to the OS. */
    (void)closedir(d);
    (void)rmdir(dir);
}

/*
** One folder: write the items, compile it with sqlmig, build the dumper with
** the C compiler, run it, compare. 0 when every step passed.
*/
static int one_folder(struct tap *t, int k, const char *top, const struct item *items, size_t n,
                      char **argv, int argc)
{
    char dir[4096], mig[4096], path[4096], c_file[4096], h_file[4096], main_file[4096],
        prog[4096], dump_file[4096], inc1[4200], inc2[4200];
    char *cmd[32 + 64];
    size_t i, dump_len = 0;
    int c, failed = t->failed;
    char *dump;

    snprintf(path, sizeof path, "f%d", k);
    path_in(dir, sizeof dir, top, path);
    path_in(mig, sizeof mig, dir, "migrations");
    if (mkdir(dir, 0777) != 0 || mkdir(mig, 0777) != 0) {
        tap_ok(t, 0, "folder %d: mkdir %s: %s", k, mig, strerror(errno));
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (write_file(path_in(path, sizeof path, mig, items[i].file), items[i].text,
                       items[i].len) != 0) {
            tap_ok(t, 0, "folder %d: write %s: %s", k, items[i].file, strerror(errno));
            return -1;
        }
    }

    cmd[0] = argv[1];
    cmd[1] = "compile";
    cmd[2] = mig;
    cmd[3] = "--symbol";
    cmd[4] = "prop";
    cmd[5] = "--output-c";
    cmd[6] = (char *)path_in(c_file, sizeof c_file, dir, "prop.c");
    cmd[7] = "--output-h";
    cmd[8] = (char *)path_in(h_file, sizeof h_file, dir, "prop.h");
    cmd[9] = NULL;
    if (!tap_ok(t, spawn_wait(cmd, 0) == 0, "folder %d: sqlmig compile accepts %zu migrations", k, n))
        return -1;

    if (write_file(path_in(main_file, sizeof main_file, dir, "main.c"), dumper_c,
                   sizeof dumper_c - 1) != 0) {
        tap_ok(t, 0, "folder %d: write main.c", k);
        return -1;
    }
    /* Both fit: dir is shorter than 4096 and so must the runtime path be. */
    if (snprintf(inc1, sizeof inc1, "-I%s", dir) >= (int)sizeof inc1 ||
        snprintf(inc2, sizeof inc2, "-I%s", argv[2]) >= (int)sizeof inc2) {
        tap_ok(t, 0, "folder %d: include paths fit", k);
        return -1;
    }
    c = 0;
    for (i = 3; i < (size_t)argc && c < 32; i++)
        cmd[c++] = argv[i];
    cmd[c++] = "-std=c11";
    cmd[c++] = "-Wall";
    cmd[c++] = "-Wextra";
    cmd[c++] = "-Wpedantic";
    cmd[c++] = "-Werror";
    cmd[c++] = inc1;
    cmd[c++] = inc2;
    cmd[c++] = c_file;
    cmd[c++] = main_file;
    cmd[c++] = "-o";
    cmd[c++] = (char *)path_in(prog, sizeof prog, dir, "dump");
    cmd[c] = NULL;
    if (!tap_ok(t, spawn_wait(cmd, 0) == 0,
                "folder %d: the generated C compiles with -std=c11 -Wall -Wextra -Wpedantic -Werror",
                k))
        return -1;

    cmd[0] = prog;
    cmd[1] = (char *)path_in(dump_file, sizeof dump_file, dir, "dump.out");
    cmd[2] = NULL;
    if (!tap_ok(t, spawn_wait(cmd, 0) == 0, "folder %d: the program runs", k))
        return -1;
    dump = read_file(dump_file, &dump_len);
    if (!tap_ok(t, dump != NULL, "folder %d: read what the program wrote", k))
        return -1;
    compare(t, k, dump, dump_len, items, n);
    free(dump);
    return t->failed == failed ? 0 : -1;
}

static unsigned long long env_number(const char *name, unsigned long long fallback)
{
    const char *v = getenv(name);
    char *end;
    unsigned long long n;

    if (!v || !v[0])
        return fallback;
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno || *end) {
        fprintf(stderr, "prop_bytes: %s must be a decimal number\n", name);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    struct tap t = { 0, 0 };
    unsigned long long seed = env_number("PROP_SEED", 1), count = env_number("PROP_COUNT", 2000);
    const char *tmp = getenv("TMPDIR");
    char top[4096];
    struct item *items = xmalloc(PER_FOLDER * sizeof *items);
    char *s = xmalloc(80000);
    unsigned long long done = 0, bytes = 0;
    int k, ok = 1;

    if (argc < 4) {
        fprintf(stderr, "usage: %s SQLMIG RUNTIME_INCLUDE_DIR CC [CC_ARGS...]\n", argv[0]);
        return 2;
    }
    tap_diag("seed %llu, %llu strings (PROP_SEED=%llu PROP_COUNT=%llu repeats this run)", seed,
             count, seed, count);
    rng_state = seed;
    if (snprintf(top, sizeof top, "%s/sqlmig_prop.XXXXXX", tmp && tmp[0] ? tmp : "/tmp") >=
            (int)sizeof top - 100 || !mkdtemp(top)) {
        perror("mkdtemp");
        return 1;
    }
    for (k = 0; done < count; k++) {
        size_t n = count - done < PER_FOLDER ? (size_t)(count - done) : PER_FOLDER, i;

        for (i = 0; i < n; i++) {
            size_t len = random_length();
            random_bytes(s, len);
            make_name(&items[i], (int64_t)i + 1);
            make_text(&items[i], s, len);
            bytes += items[i].len;
        }
        if (one_folder(&t, k, top, items, n, argv, argc) != 0)
            ok = 0;
        for (i = 0; i < n; i++) {
            free(items[i].text);
            free(items[i].table);
            free(items[i].table_sql);
        }
        done += n;
    }
    tap_diag("%llu files, %llu bytes in %d folder(s)", done, bytes, k);
    if (ok)
        remove_tree(top);
    else
        tap_diag("the files are kept in %s", top);
    free(items);
    free(s);
    return tap_done(&t);
}
