/*
** fuzz_compile.c — a libFuzzer target for the whole of `sqlmig compile`,
** run in-process: folder_read(), replay_folder(), then emit_c(), emit_h(),
** emit_depfile() and emit_schema() into memory.
**
** Input format (so that seeds can be written by hand, see seed.sh): the
** input is cut at every line that reads "%%" (the bytes LF % % LF); in each
** chunk, the first line is a file name and the rest are the file's bytes.
**   - a name that ends in '/' makes an (empty) sub-folder of that name;
**   - '/' and NUL bytes elsewhere in a name are read as '_', and a name is
**     cut after NAME_LIMIT bytes;
**   - an empty name, ".", ".." and a name already used are skipped;
**   - at most MAX_FILES chunks are used.
** The files are written to a folder made once with mkdtemp() and emptied
** after every input.
**
** What must hold, beyond "no crash, no leak, no undefined behaviour":
**   - a failure is reported in the compilers' format, naming a file of the
**     folder first, at a line and column that exist in it; a success
**     prints nothing;
**   - folder_read() succeeds exactly when the names and texts allow it, as
**     computed here from scan_file_name() and scan_sql() (which fuzz_scan.c
**     checks on their own), and then holds every file byte for byte, with
**     its version, name, flags and checksum;
**   - after a successful replay every emitter succeeds (the depfile only
**     when no path holds a tab or CR), the C is printable ASCII with no
**     "??" in it, and it holds the escaped bytes of every migration;
**   - nothing is added to the migrations folder.
**
** The replay runs arbitrary SQL, so SQLite is fenced for the fuzzer: a VFS
** that opens no named file (ATTACH and VACUUM INTO cannot write anywhere),
** a budget of virtual-machine steps per input (a recursive CTE cannot hang
** the fuzzer) and a heap limit. A statement stopped by them just fails.
*/
#include "buf.h"
#include "replay.h"
#include "diag.h"
#include "emit.h"
#include "folder.h"
#include "scan.h"
#include "sha256.h"
#include "sqlmig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILES 24
#define NAME_LIMIT 200
/* The progress handler runs every 1000 VM steps: 10 million steps per input. */
#define PROGRESS_LIMIT 10000

struct file {
    char name[NAME_LIMIT + 1];
    const char *data;          /* points into the fuzzer's input */
    size_t len;
    int is_dir;
    struct scan_name sn;
    struct scan_sql ss;        /* regular files only */
};

static char folder[4096];      /* ROOT/m: the migrations folder */
static char root[4096];        /* from mkdtemp() */
static sqlite3_vfs *base_vfs;
static sqlite3_vfs fenced_vfs;
static unsigned long progress_calls;
static FILE *said_file;        /* what the pipeline prints on stderr, per input */

/* The harness itself failed (not the code under test): stop loudly. */
static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_compile: %s: %s\n", what, detail);
    abort();
}

/* dir/name into out, which holds cap bytes. */
static void join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= cap)
        die("path too long", name);
}

/* A promise of the code under test broke: crash so the input is kept. */
static void fail(const char *what, const char *file)
{
    fprintf(stderr, "fuzz_compile: %s%s%s\n", what, file ? ": " : "", file ? file : "");
    abort();
}

static int fenced_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
                       int *out_flags)
{
    (void)vfs;
    /* Only SQLite's own nameless temporary files: no path from the SQL. */
    if (name != NULL)
        return SQLITE_CANTOPEN;
    return base_vfs->xOpen(base_vfs, name, file, flags, out_flags);
}

static int fenced_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    (void)name;
    (void)sync_dir;
    return SQLITE_IOERR_DELETE;
}

static int progress(void *ctx)
{
    (void)ctx;
    return ++progress_calls > PROGRESS_LIMIT;
}

/* Run by SQLite on every new connection, i.e. check_replay()'s :memory:. */
static int on_open(sqlite3 *db, char **err, const sqlite3_api_routines *api)
{
    (void)err;
    (void)api;
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1 << 20);
    sqlite3_progress_handler(db, 1000, progress, NULL);
    return SQLITE_OK;
}

/* Remove everything in the folder; return how many entries there were. */
static size_t empty_folder(const char *dir)
{
    char path[4096 + 256];
    struct dirent *e;
    size_t n = 0;
    DIR *d = opendir(dir);

    if (!d)
        die("cannot list", dir);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        join(path, sizeof path, dir, e->d_name);
        if (unlink(path) != 0 && rmdir(path) != 0)
            die("cannot remove", path);
        n++;
    }
    if (closedir(d) != 0)
        die("cannot close", dir);
    return n;
}

static void remove_root(void)
{
    empty_folder(folder);
    if (rmdir(folder) != 0 || rmdir(root) != 0)
        fprintf(stderr, "fuzz_compile: cannot remove %s\n", root);
}

static void init_once(void)
{
    static int done;
    const char *tmp = getenv("TMPDIR");
    int n;

    if (done)
        return;
    done = 1;
    n = snprintf(root, sizeof root, "%s/sqlmig_fuzz.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (n < 0 || (size_t)n >= sizeof root - 8)
        die("TMPDIR too long", tmp);
    if (!mkdtemp(root))
        die("mkdtemp", strerror(errno));
    join(folder, sizeof folder, root, "m");
    if (mkdir(folder, 0777) != 0)
        die("mkdir", strerror(errno));
    /* The depfile check below assumes the folder's own path is plain. */
    if (strpbrk(folder, "\t\r\n") || atexit(remove_root) != 0)
        die("unusable temporary folder", folder);

    said_file = tmpfile();
    if (!said_file)
        die("tmpfile", strerror(errno));
    /* As sqlmig's main() does, before SQLite initializes. */
    if (sqlite3_config(SQLITE_CONFIG_URI, 0) != SQLITE_OK)
        die("sqlite3_config", "cannot turn URI file names off");
    base_vfs = sqlite3_vfs_find(NULL);
    if (!base_vfs)
        die("sqlite3_vfs_find", "no default VFS");
    fenced_vfs = *base_vfs;
    fenced_vfs.zName = "sqlmig-fuzz-fenced";
    fenced_vfs.xOpen = fenced_open;
    fenced_vfs.xDelete = fenced_delete;
    if (sqlite3_vfs_register(&fenced_vfs, 1) != SQLITE_OK ||
        sqlite3_auto_extension((void (*)(void))on_open) != SQLITE_OK)
        die("sqlite3 setup", "cannot register the fences");
}

/* Offset of "\n%%\n" in s[0..len), or len. */
static size_t find_separator(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i + 4 <= len; i++) {
        if (s[i] == '\n' && s[i + 1] == '%' && s[i + 2] == '%' && s[i + 3] == '\n')
            return i;
    }
    return len;
}

/* Turn one chunk into files[*n] unless its name is unusable or taken. */
static void add_chunk(const char *chunk, size_t len, struct file *files, size_t *n)
{
    struct file *f = &files[*n];
    const char *lf = memchr(chunk, '\n', len);
    size_t name_len = lf ? (size_t)(lf - chunk) : len, i;

    f->data = lf ? lf + 1 : chunk + len;
    f->len = lf ? len - name_len - 1 : 0;
    f->is_dir = name_len > 0 && chunk[name_len - 1] == '/';
    if (f->is_dir)
        name_len--;
    if (name_len > NAME_LIMIT)
        name_len = NAME_LIMIT;
    for (i = 0; i < name_len; i++)
        f->name[i] = chunk[i] == '/' || chunk[i] == '\0' ? '_' : chunk[i];
    f->name[name_len] = '\0';
    if (name_len == 0 || strcmp(f->name, ".") == 0 || strcmp(f->name, "..") == 0)
        return;
    for (i = 0; i < *n; i++) {
        if (strcmp(files[i].name, f->name) == 0)
            return;
    }
    scan_file_name(f->name, &f->sn);
    if (!f->is_dir) {
        /* scan_sql() needs a NUL after the text. */
        char *copy = malloc(f->len + 1);
        if (!copy)
            die("out of memory", f->name);
        memcpy(copy, f->data, f->len);
        copy[f->len] = '\0';
        scan_sql(copy, f->len, &f->ss);
        free(copy);
    }
    (*n)++;
}

static size_t split_input(const char *in, size_t len, struct file *files)
{
    size_t pos = 0, n = 0;

    memset(files, 0, MAX_FILES * sizeof *files);
    while (n < MAX_FILES) {
        size_t end = pos + find_separator(in + pos, len - pos);
        add_chunk(in + pos, end - pos, files, &n);
        if (end == len)
            break;
        pos = end + 4;
    }
    return n;
}

static void write_files(const struct file *files, size_t n)
{
    char path[4096 + NAME_LIMIT + 2];
    size_t i;

    for (i = 0; i < n; i++) {
        const struct file *f = &files[i];
        const char *p = f->data;
        size_t left = f->len;
        int fd;

        join(path, sizeof path, folder, f->name);
        if (f->is_dir) {
            if (mkdir(path, 0777) != 0)
                die("mkdir", path);
            continue;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0)
            die("cannot create", path);
        while (left > 0) {
            ssize_t w = write(fd, p, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                die("cannot write", path);
            p += w;
            left -= (size_t)w;
        }
        if (close(fd) != 0)
            die("cannot close", path);
    }
}

static int is_migration(const struct file *f)
{
    return f->sn.kind == SCAN_PLAIN || f->sn.kind == SCAN_UP || f->sn.kind == SCAN_DOWN;
}

static int same_name_part(const struct file *a, const struct file *b)
{
    size_t la = a->sn.name_end - a->sn.name_start, lb = b->sn.name_end - b->sn.name_start;
    return la == lb && memcmp(a->name + a->sn.name_start, b->name + b->sn.name_start, la) == 0;
}

/*
** Should folder_read() accept these files (read in the plain layout)? Every
** name that is not ignored must be a regular file and a well-formed
** migration name; each version must belong to one plain file, one up file,
** or an up file and a down file of the same name; no migration text may
** have a problem, and every up part needs a statement. A folder without a
** migration must not hold a sub-folder or a name with ".sql" in it.
*/
static int folder_should_read(const struct file *files, size_t n)
{
    size_t i, j, migrations = 0, unplaced = 0;

    for (i = 0; i < n; i++) {
        migrations += is_migration(&files[i]);
        unplaced += files[i].name[0] != '.' &&
                    (files[i].is_dir || strstr(files[i].name, ".sql") || strstr(files[i].name, ".SQL"));
    }
    if (migrations == 0 && unplaced > 0)
        return 0;
    for (i = 0; i < n; i++) {
        const struct file *f = &files[i];
        size_t plain = 0, up = 0, down = 0;
        const struct file *u = NULL, *d = NULL;

        if (f->sn.kind == SCAN_IGNORED)
            continue;
        if (f->is_dir || f->sn.kind == SCAN_MALFORMED || f->ss.problem ||
            (f->sn.kind != SCAN_DOWN && !f->ss.statements))
            return 0;
        for (j = 0; j < n; j++) {
            const struct file *g = &files[j];
            if (!is_migration(g) || g->sn.version != f->sn.version)
                continue;
            plain += g->sn.kind == SCAN_PLAIN;
            if (g->sn.kind == SCAN_UP)
                up++, u = g;
            if (g->sn.kind == SCAN_DOWN)
                down++, d = g;
        }
        if (plain + up + down == 1 && down == 0)
            continue;
        if (plain == 0 && up == 1 && down == 1 && same_name_part(u, d))
            continue;
        return 0;
    }
    return 1;
}

static const struct file *find_file(const struct file *files, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (!files[i].is_dir && strcmp(files[i].name, name) == 0)
            return &files[i];
    }
    return NULL;
}

/* SHA-256 of the bytes with CR LF read as LF, written out independently. */
static void reference_checksum(const char *p, size_t len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    struct sha256 c;
    unsigned char d[32];
    char *copy = malloc(len ? len : 1);
    size_t i, n = 0;

    if (!copy)
        die("out of memory", "checksum");
    for (i = 0; i < len; i++) {
        if (!(p[i] == '\r' && i + 1 < len && p[i + 1] == '\n'))
            copy[n++] = p[i];
    }
    sha256_init(&c);
    sha256_update(&c, copy, n);
    sha256_final(&c, d);
    free(copy);
    for (i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

/* The folder as read must be exactly the files written. */
static void check_model(const struct tool_folder *tf, const struct file *files, size_t n)
{
    size_t i, ups = 0, downs = 0;
    char sum[65];

    for (i = 0; i < n; i++) {
        ups += files[i].sn.kind == SCAN_PLAIN || files[i].sn.kind == SCAN_UP;
        downs += files[i].sn.kind == SCAN_DOWN;
    }
    if (tf->count != ups || tf->input_count != ups + downs || strcmp(tf->dir, folder) != 0)
        fail("folder_read: wrong number of migrations or inputs", NULL);
    for (i = 0; i < tf->count; i++) {
        const struct tool_migration *m = &tf->items[i];
        const struct file *f = find_file(files, n, m->file), *d;
        size_t name_len = strlen(m->name);

        if (!f || (f->sn.kind != SCAN_PLAIN && f->sn.kind != SCAN_UP))
            fail("folder_read: a migration that is no up or plain file", m->file);
        if (m->version != f->sn.version || (i > 0 && tf->items[i - 1].version >= m->version))
            fail("folder_read: version wrong or out of order", m->file);
        if (name_len != f->sn.name_end - f->sn.name_start ||
            memcmp(m->name, f->name + f->sn.name_start, name_len) != 0)
            fail("folder_read: wrong name", m->file);
        if (m->up_len != f->len || (f->len && memcmp(m->up, f->data, f->len) != 0) ||
            !m->up || m->up[m->up_len] != '\0')
            fail("folder_read: the up bytes differ from the file", m->file);
        if (m->flags != f->ss.flags || m->up_line != 1)
            fail("folder_read: wrong flags or first line", m->file);
        reference_checksum(f->data, f->len, sum);
        if (strcmp(sum, m->checksum) != 0)
            fail("folder_read: wrong checksum", m->file);
        if (m->down_file) {
            d = find_file(files, n, m->down_file);
            if (!d || d->sn.kind != SCAN_DOWN || d->sn.version != m->version)
                fail("folder_read: a down part that is no down file", m->down_file);
            if (m->down_len != d->len || (d->len && memcmp(m->down, d->data, d->len) != 0))
                fail("folder_read: the down bytes differ from the file", m->down_file);
        } else if (m->down) {
            fail("folder_read: a down text without a down file", m->file);
        }
    }
}

/* Is needle[0..nlen) inside hay[0..hlen)? */
static int contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    size_t i;

    for (i = 0; nlen <= hlen && i <= hlen - nlen; i++) {
        if (memcmp(hay + i, needle, nlen) == 0)
            return 1;
    }
    return 0;
}

static void check_c(const struct tool_folder *tf, const struct buf *c)
{
    struct buf lit;
    size_t i;

    for (i = 0; i < c->len; i++) {
        unsigned char ch = (unsigned char)c->data[i];
        if ((ch < 0x20 || ch > 0x7e) && ch != '\n')
            fail("emit_c: a byte that is not printable ASCII in the C", NULL);
        if (ch == '?' && i + 1 < c->len && c->data[i + 1] == '?')
            fail("emit_c: two question marks in a row (a trigraph could form)", NULL);
    }
    for (i = 0; i < tf->count; i++) {
        const struct tool_migration *m = &tf->items[i];
        buf_init(&lit);
        if (emit_literal(&lit, m->up, m->up_len, "    ") != 0)
            die("out of memory", "emit_literal");
        if (!contains(c->data, c->len, lit.data, lit.len))
            fail("emit_c: a migration's literal is missing", m->file);
        buf_free(&lit);
    }
}

/* Read "<digits>" at *p as an unsigned; 0 when there are none or too many. */
static unsigned long read_decimal(const char **p)
{
    unsigned long v = 0;
    int n = 0;

    while (**p >= '0' && **p <= '9' && n < 12) {
        v = v * 10 + (unsigned long)(**p - '0');
        (*p)++;
        n++;
    }
    return n > 0 && n < 12 ? v : 0;
}

/* Does line:col (1-based, col in bytes) exist in f's text? */
static int position_exists(const struct file *f, unsigned long line, unsigned long col)
{
    size_t i = 0, start = 0, end;
    unsigned long l = 1;

    for (; l < line && i < f->len; i++) {
        if (f->data[i] == '\n') {
            l++;
            start = i + 1;
        }
    }
    if (l != line)
        return 0;
    for (end = start; end < f->len && f->data[end] != '\n'; end++)
        ;
    return col >= 1 && col - 1 <= end - start;
}

/*
** Does the diagnostic at out name a file of the folder, in the compilers'
** format: "<folder>/<file>: <kind>: " for the whole file, or
** "<folder>/<file>:<line>:<col>: <kind>: " at a position inside it?
*/
static int names_a_file(const char *out, const char *kind, const struct file *files, size_t n)
{
    char tail[32];
    size_t flen = strlen(folder), i;

    snprintf(tail, sizeof tail, ": %s: ", kind);
    if (strncmp(out, folder, flen) != 0 || out[flen] != '/')
        return 0;
    out += flen + 1;
    for (i = 0; i < n; i++) {
        const char *p = out + strlen(files[i].name);
        unsigned long line, col;

        if (strncmp(out, files[i].name, strlen(files[i].name)) != 0)
            continue;
        if (strncmp(p, tail, strlen(tail)) == 0)
            return 1;
        if (*p++ != ':' || (line = read_decimal(&p)) == 0 || *p++ != ':' ||
            (col = read_decimal(&p)) == 0 || strncmp(p, tail, strlen(tail)) != 0)
            continue;
        /* A position is only given inside a migration's text. */
        if (!files[i].is_dir && position_exists(&files[i], line, col))
            return 1;
    }
    return 0;
}

static int any_input_has(const struct tool_folder *tf, const char *bytes)
{
    size_t i;

    for (i = 0; i < tf->input_count; i++) {
        if (strpbrk(tf->inputs[i], bytes))
            return 1;
    }
    return 0;
}

static void check_emitters(const struct tool_folder *tf)
{
    struct buf b;
    char err[512];
    size_t i, lines;
    int rc;

    buf_init(&b);
    if (emit_c(tf, "fz", "fz.h", &b, err, sizeof err) != 0)
        fail("emit_c failed after a successful replay", err);
    check_c(tf, &b);
    buf_free(&b);

    if (emit_h("fz", &b, err, sizeof err) != 0)
        fail("emit_h failed", err);
    buf_free(&b);

    rc = emit_depfile(tf, "fz.c", &b, err, sizeof err);
    if ((rc == 0) == any_input_has(tf, "\t\r\n"))
        fail("emit_depfile: refused a plain path or took a tab or CR", err);
    if (rc == 0) {
        for (lines = 0, i = 0; i + 2 < b.len; i++)
            lines += b.data[i] == ' ' && b.data[i + 1] == '\\' && b.data[i + 2] == '\n';
        if (lines != tf->input_count || b.len == 0 || b.data[b.len - 1] != '\n')
            fail("emit_depfile: not one line per input", NULL);
    }
    buf_free(&b);

    if (emit_schema(tf, &b, err, sizeof err) != 0)
        fail("emit_schema failed", err);
    if (b.len < tf->schema_len ||
        (tf->schema_len && memcmp(b.data + b.len - tf->schema_len, tf->schema_sql, tf->schema_len) != 0))
        fail("emit_schema: the schema text is not at the end", NULL);
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The first line of text that is not a warning or a note about a file
** (those of earlier migrations may come before the error: an empty down
** part's note, say). */
static const char *first_error(const char *text, const struct file *files, size_t n)
{
    const char *lf;

    while ((lf = strchr(text, '\n')) != NULL
           && (names_a_file(text, "warning", files, n) || names_a_file(text, "note", files, n)))
        text = lf + 1;
    return text;
}

/* Is every line of text a warning about a file, or a note about a file or
** the folder, with exactly one note if noted? */
static int only_notes_and_warnings(const char *text, int noted, const struct file *files, size_t n)
{
    const char *line, *lf;
    size_t flen = strlen(folder);
    int notes = 0;

    for (line = text; *line; line = lf + 1) {
        if (!(lf = strchr(line, '\n')))
            return 0;
        if (names_a_file(line, "note", files, n)
            || (strncmp(line, folder, flen) == 0 && strncmp(line + flen, ": note: ", 8) == 0))
            notes++;
        else if (!names_a_file(line, "warning", files, n))
            return 0;
    }
    return notes == (noted ? 1 : 0);
}

/* Point stderr (fd 2) at the emptied said_file; returns the real stderr. */
static int capture_stderr(void)
{
    int saved;

    fflush(stderr);
    saved = dup(2);
    if (saved < 0 || ftruncate(fileno(said_file), 0) != 0 ||
        lseek(fileno(said_file), 0, SEEK_SET) != 0 || dup2(fileno(said_file), 2) < 0)
        die("capturing stderr", strerror(errno));
    return saved;
}

/* Put stderr back; return what was written meanwhile, NUL-terminated. */
static char *restore_stderr(int saved, size_t *len)
{
    off_t end;
    char *text;

    fflush(stderr);
    if (dup2(saved, 2) < 0 || close(saved) != 0)
        die("restoring stderr", strerror(errno));
    end = lseek(fileno(said_file), 0, SEEK_END);
    if (end < 0 || lseek(fileno(said_file), 0, SEEK_SET) != 0)
        die("reading what was printed", strerror(errno));
    text = malloc((size_t)end + 1);
    if (!text)
        die("malloc", "out of memory");
    if (end > 0 && read(fileno(said_file), text, (size_t)end) != (ssize_t)end)
        die("reading what was printed", strerror(errno));
    text[end] = '\0';
    *len = (size_t)end;
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct file files[MAX_FILES];
    struct tool_folder tf;
    size_t n, said_len = 0;
    int problems, expected, noted = 0;
    char *said;
    int saved_stderr;

    init_once();
    progress_calls = 0;
    /* A PRAGMA may have changed these process-wide limits: reset them. */
    sqlite3_hard_heap_limit64(256 << 20);
    sqlite3_soft_heap_limit64(0);

    n = split_input((const char *)data, size, files);
    write_files(files, n);
    expected = folder_should_read(files, n);

    /* Keep what the pipeline says on stderr, to check how it says it. */
    saved_stderr = capture_stderr();
    memset(&tf, 0, sizeof tf);
    problems = folder_read(folder, LAYOUT_PLAIN, 0, &tf);
    if (problems < 0 || (problems == 0) != expected)
        fail(expected ? "folder_read refused a good folder" : "folder_read took a bad folder",
             NULL);
    if (problems == 0) {
        check_model(&tf, files, n);
        problems = replay_folder(&tf, 1, 0);
        if (problems == 0)
            check_emitters(&tf);
        /* A replayed history has a snapshot or a note saying why not. */
        if (problems == 0 && tf.count > 0 && (tf.snapshot == NULL) == (tf.snapshot_note == NULL))
            fail("a replayed history has both or neither of a snapshot and a note", NULL);
        /* The one note: why there is no snapshot, or that the set is empty. */
        noted = problems == 0 && (tf.snapshot_note != NULL || tf.count == 0);
    }
    tool_folder_free(&tf);
    said = restore_stderr(saved_stderr, &said_len);
    /* Success prints nothing but warnings and the one note that says why
    ** there is no snapshot, each on a line of its own. */
    if (problems == 0 && !only_notes_and_warnings(said, noted, files, n))
        fail("a successful compile printed something other than its warnings and note", said);
    /* A folder that holds no migration but SQL-looking names is blamed as a
    ** whole: the folder itself is named. */
    if (problems != 0 && !names_a_file(first_error(said, files, n), "error", files, n) &&
        !(strncmp(first_error(said, files, n), folder, strlen(folder)) == 0 &&
          strncmp(first_error(said, files, n) + strlen(folder), ": error: no migration found, ", 29) == 0))
        fail("a failure whose first error does not name a file of the folder", said);
    free(said);

    if (empty_folder(folder) != n)
        fail("the pipeline changed the migrations folder", NULL);
    return 0;
}
