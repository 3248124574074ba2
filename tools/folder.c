/*
** folder.c — read a migrations folder (see folder.h).
**
** The order of readdir() is unspecified, so entries are sorted by numeric
** version (then kind, then name) before anything is paired or emitted: the
** output never depends on the file system.
*/
#include "folder.h"

#include "diag.h"
#include "scan.h"
#include "sha256.h"
#include "sqlmig.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A directory entry that is named like a migration. */
struct entry {
    int64_t version;
    enum scan_name_kind kind;
    char *file;
    char *name;
};

static char *dup_range(const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

static char *join_path(const char *dir, const char *file)
{
    size_t dl = strlen(dir), fl = strlen(file);
    int slash = dl > 0 && dir[dl - 1] != '/';
    char *p = malloc(dl + (size_t)slash + fl + 1);
    if (p) {
        memcpy(p, dir, dl);
        if (slash)
            p[dl] = '/';
        memcpy(p + dl + (size_t)slash, file, fl + 1);
    }
    return p;
}

/* Read a whole file into a NUL-terminated heap buffer (the scanner's sentinel). */
static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, first = 4096;
    struct stat st;

    if (!fp) {
        diag_error(path, 0, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    /* Sized to the file, so that a thousand small migrations do not each
    ** take (and touch) a large block; a file that grows meanwhile still fits. */
    if (fstat(fileno(fp), &st) == 0 && st.st_size > 0 && (uintmax_t)st.st_size < SIZE_MAX / 4)
        first = (size_t)st.st_size + 1;
    for (;;) {
        size_t got;
        if (cap == n) {
            char *grown;
            cap = cap ? cap * 2 : first;
            grown = realloc(buf, cap + 1);
            if (!grown) {
                diag_error(path, 0, 0, "out of memory reading the file");
                goto fail;
            }
            buf = grown;
        }
        got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        diag_error(path, 0, 0, "cannot read: %s", strerror(errno));
        goto fail;
    }
    /* sqlite3_prepare_v2() takes an int length, and check.c passes the
    ** text with its NUL: n + 1 must fit an int. */
    if (n >= INT_MAX) {
        diag_error(path, 0, 0, "the file is larger than 2 GiB, which SQLite cannot prepare");
        goto fail;
    }
    fclose(fp);
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    fclose(fp);
    free(buf);
    return NULL;
}

static int compare_entries(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    if (a->version != b->version)
        return a->version < b->version ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    return strcmp(a->file, b->file);
}

/* List the migration-like entries of `dir`; report malformed names. */
static int list_entries(const char *dir, struct entry **out, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    struct entry *list = NULL;
    size_t n = 0, cap = 0;
    int errors = 0;

    if (!d) {
        diag_error(dir, 0, 0, "cannot open the migrations folder: %s", strerror(errno));
        return 1;
    }
    while ((errno = 0, de = readdir(d)) != NULL) {
        struct scan_name sn;
        struct stat st;
        char *path;

        scan_file_name(de->d_name, &sn);
        if (sn.kind == SCAN_IGNORED)
            continue;
        path = join_path(dir, de->d_name);
        if (!path) {
            errors++;
            diag_fatal("out of memory");
            break;
        }
        if (stat(path, &st) != 0) {
            diag_error(path, 0, 0, "cannot stat: %s", strerror(errno));
            errors++;
            free(path);
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            /* A folder or device named like a migration is a mistake, not noise. */
            diag_error(path, 0, 0, "named like a migration but is not a regular file");
            errors++;
            free(path);
            continue;
        }
        if (sn.kind == SCAN_MALFORMED) {
            diag_error(path, 0, 0, "malformed migration file name: %s", sn.problem);
            errors++;
            free(path);
            continue;
        }
        free(path);
        if (n == cap) {
            struct entry *grown;
            cap = cap ? cap * 2 : 64;
            grown = realloc(list, cap * sizeof *list);
            if (!grown) {
                errors++;
                diag_fatal("out of memory");
                break;
            }
            list = grown;
        }
        list[n].version = sn.version;
        list[n].kind = sn.kind;
        list[n].file = strdup(de->d_name);
        list[n].name = dup_range(de->d_name + sn.name_start, sn.name_end - sn.name_start);
        if (!list[n].file || !list[n].name) {
            free(list[n].file);
            free(list[n].name);
            errors++;
            diag_fatal("out of memory");
            break;
        }
        n++;
    }
    if (errno != 0 && !errors) {
        diag_error(dir, 0, 0, "cannot list the folder: %s", strerror(errno));
        errors++;
    }
    closedir(d);
    if (n > 1)
        qsort(list, n, sizeof *list, compare_entries);
    *out = list;
    *count = n;
    return errors;
}

static int add_input(struct tool_folder *f, const char *path)
{
    char *copy = strdup(path);
    char **grown = copy ? realloc(f->inputs, (f->input_count + 1) * sizeof *grown) : NULL;

    if (!grown) {
        free(copy);
        return -1;
    }
    f->inputs = grown;
    f->inputs[f->input_count++] = copy;
    return 0;
}

/* Read one migration text, record it as an input, and scan it for directives. */
static int load_text(struct tool_folder *f, const char *path, char **text,
                     size_t *len, struct scan_sql *scanned)
{
    struct scan_sql ss;

    memset(scanned, 0, sizeof *scanned);
    *text = read_file(path, len);
    if (!*text)
        return 1;
    if (add_input(f, path) != 0) {
        diag_fatal("out of memory");
        return 1;
    }
    scan_sql(*text, *len, &ss);
    if (ss.problem) {
        unsigned line, col;
        diag_position(*text, ss.error_offset, 1, &line, &col);
        diag_error(path, line, col, "%s", ss.problem);
        return 1;
    }
    *scanned = ss;
    return 0;
}

/*
** Turn the sorted entries into migrations: one plain file, or an up file
** with an optional down file of the same version and name.
*/
static int build_migrations(struct tool_folder *f, struct entry *list, size_t n)
{
    size_t i = 0;
    int errors = 0;

    f->items = calloc(n ? n : 1, sizeof *f->items);
    if (!f->items) {
        diag_fatal("out of memory");
        return 1;
    }
    while (i < n) {
        struct entry *e = &list[i];
        struct tool_migration *m;
        size_t j = i + 1;
        struct scan_sql up, down;

        /* Every entry of one version: at most an up file and its down file. */
        while (j < n && list[j].version == e->version)
            j++;
        if (e->kind == SCAN_DOWN) {
            char *path = join_path(f->dir, e->file);
            diag_error(path ? path : e->file, 0, 0,
                       "down migration without its up migration (expected %.*s.up.sql)",
                       (int)(strlen(e->file) - 9), e->file);
            free(path);
            errors++;
            i = j;
            continue;
        }
        if (j - i > 2 || (j - i == 2 && !(e->kind == SCAN_UP && list[i + 1].kind == SCAN_DOWN))) {
            size_t k;
            char *path = join_path(f->dir, list[i + 1].file);
            fprintf(stderr, "%s: error: version %" PRId64 " is used by %zu files:",
                    path ? path : list[i + 1].file, e->version, j - i);
            for (k = i; k < j; k++)
                fprintf(stderr, "%s %s", k == i ? "" : ",", list[k].file);
            fprintf(stderr, " (one migration per version)\n");
            free(path);
            errors++;
            i = j;
            continue;
        }
        if (j - i == 2 && strcmp(e->name, list[i + 1].name) != 0) {
            char *path = join_path(f->dir, list[i + 1].file);
            diag_error(path ? path : list[i + 1].file, 0, 0,
                       "down migration is named '%s' but its up migration %s is named '%s'",
                       list[i + 1].name, e->file, e->name);
            free(path);
            errors++;
            i = j;
            continue;
        }

        m = &f->items[f->count++];
        m->version = e->version;
        m->up_line = 1;
        m->name = e->name;
        m->file = e->file;
        e->name = e->file = NULL;
        m->path = join_path(f->dir, m->file);
        if (!m->path) {
            diag_fatal("out of memory");
            return errors + 1;
        }
        if (load_text(f, m->path, &m->up, &m->up_len, &up) != 0) {
            errors++;
        } else {
            m->flags = up.flags;
            m->statements = up.statements;
            m->reshapes = up.reshapes;
            sqlmig_checksum(m->up, m->up_len, m->checksum);
        }
        if (j - i == 2) {
            m->down_file = list[i + 1].file;
            list[i + 1].file = NULL;
            m->down_path = join_path(f->dir, m->down_file);
            if (!m->down_path) {
                diag_fatal("out of memory");
                return errors + 1;
            }
            if (load_text(f, m->down_path, &m->down, &m->down_len, &down) != 0)
                errors++;
        }
        i = j;
    }
    return errors;
}

int folder_read(const char *dir, struct tool_folder *f)
{
    struct entry *list = NULL;
    size_t n = 0, i;
    int errors;

    f->dir = strdup(dir);
    if (!f->dir) {
        diag_fatal("out of memory");
        return 1;
    }
    /* Keep going after a bad name, so one run reports every problem. */
    errors = list_entries(dir, &list, &n);
    errors += build_migrations(f, list, n);
    for (i = 0; i < n; i++) {
        free(list[i].file);
        free(list[i].name);
    }
    free(list);
    return errors;
}

void tool_folder_free(struct tool_folder *f)
{
    size_t i;

    for (i = 0; i < f->count; i++) {
        struct tool_migration *m = &f->items[i];
        free(m->name);
        free(m->file);
        free(m->path);
        free(m->up);
        free(m->down_file);
        free(m->down_path);
        free(m->down);
    }
    free(f->items);
    for (i = 0; i < f->input_count; i++)
        free(f->inputs[i]);
    free(f->inputs);
    for (i = 0; i < f->object_count; i++) {
        free(f->objects[i].type);
        free(f->objects[i].name);
        free(f->objects[i].sql);
    }
    free(f->objects);
    free(f->schema_sql);
    free(f->snapshot);
    free(f->snapshot_note);
    free(f->dir);
    memset(f, 0, sizeof *f);
}
