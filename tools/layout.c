/*
** layout.c — recognise a folder's layout and place its entries (see
** layout.h). The tools' own rules, and where sqlmig departs from them, are
** in docs/layouts.md.
*/
#include "layout.h"

#include "sqlmig.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const names[LAYOUT_COUNT] = {
    "plain", "sqlx", "golang-migrate", "goose", "dbmate", "diesel", "drizzle", "flyway",
};

const char *layout_name(enum scan_layout layout)
{
    return layout < LAYOUT_COUNT ? names[layout] : NULL;
}

enum scan_layout layout_by_name(const char *name)
{
    int i;

    for (i = 0; i < LAYOUT_COUNT; i++)
        if (strcmp(name, names[i]) == 0)
            return (enum scan_layout)i;
    return LAYOUT_COUNT;
}

char *layout_join(const char *dir, const char *file)
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

char *layout_read_file(const char *path, size_t *len, struct diag_list *d)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, first = 4096;
    struct stat st;

    if (!fp) {
        diag_add(d, DIAG_ERROR, path, 0, 0, "cannot open: %s", strerror(errno));
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
                diag_add(d, DIAG_ERROR, path, 0, 0, "out of memory reading the file");
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
        diag_add(d, DIAG_ERROR, path, 0, 0, "cannot read: %s", strerror(errno));
        goto fail;
    }
    /* sqlite3_prepare_v2() takes an int length, and the runner passes the
    ** text with its NUL: n + 1 must fit an int. */
    if (n >= INT_MAX) {
        diag_add(d, DIAG_ERROR, path, 0, 0, "the file is larger than 2 GiB, which SQLite cannot prepare");
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

/* The part of a relative path after its last '/'. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Does the name end in ".sql" in any case? */
static int ends_sql(const char *name)
{
    size_t n = strlen(name);
    return n >= 4 && (name[n - 4] == '.') && (name[n - 3] | 0x20) == 's' && (name[n - 2] | 0x20) == 'q' &&
           (name[n - 1] | 0x20) == 'l';
}

/* The entry's text, read on first use; NULL after a problem (reported). */
static const char *text_of(const char *dir, struct layout_entry *e, struct diag_list *d)
{
    char *path;

    if (e->text || !e->is_file)
        return e->text;
    path = layout_join(dir, e->name);
    if (!path) {
        diag_add(d, DIAG_ERROR, dir, 0, 0, "out of memory");
        return NULL;
    }
    e->text = layout_read_file(path, &e->len, d);
    free(path);
    return e->text;
}

static int is_file_at(const char *dir, const char *rel)
{
    char *path = layout_join(dir, rel);
    struct stat st;
    int yes = path && stat(path, &st) == 0 && S_ISREG(st.st_mode);

    free(path);
    return yes;
}

/*
** Recognise the layout by the marks only its tool leaves: a journal, a
** folder per migration, Flyway's prefixes, goose's or dbmate's markers,
** sqlx's first line, golang-migrate's self-wrapping files or free
** extensions. A folder without any mark is plain.
*/
static enum scan_layout detect(const char *dir, struct layout_entry *es, size_t n, char *why, size_t cap,
                               struct diag_list *d)
{
    const char *goose = NULL, *dbmate = NULL, *sqlx = NULL, *wrapped = NULL, *migrate = NULL;
    struct scan_name sn;
    struct scan_sql ss;
    size_t i;

    if (is_file_at(dir, "meta/_journal.json")) {
        snprintf(why, cap, "meta/_journal.json is a Drizzle journal");
        return LAYOUT_DRIZZLE;
    }
    for (i = 0; i < n; i++) {
        char rel[600];
        if (!es[i].is_dir)
            continue;
        scan_layout_name(LAYOUT_DIESEL, es[i].name, &sn);
        snprintf(rel, sizeof rel, "%s/up.sql", es[i].name);
        if (sn.kind != SCAN_IGNORED && is_file_at(dir, rel)) {
            snprintf(why, cap, "%.200s is a diesel migration folder", rel);
            return LAYOUT_DIESEL;
        }
    }
    for (i = 0; i < n; i++) {
        scan_layout_name(LAYOUT_FLYWAY, es[i].name, &sn);
        if (es[i].is_file && (sn.kind == SCAN_PLAIN || sn.kind == SCAN_DOWN ||
                              strncmp(es[i].name, "R__", 3) == 0)) {
            snprintf(why, cap, "%.200s is named as Flyway names its migrations", es[i].name);
            return LAYOUT_FLYWAY;
        }
    }
    for (i = 0; i < n; i++) {
        const char *text;
        if (!es[i].is_file || es[i].name[0] == '.')
            continue;
        scan_layout_name(LAYOUT_GOLANG_MIGRATE, es[i].name, &sn);
        if (!migrate && (sn.kind == SCAN_UP || sn.kind == SCAN_DOWN) && !ends_sql(es[i].name))
            migrate = es[i].name;
        if (!ends_sql(es[i].name) || !(text = text_of(dir, &es[i], d)))
            continue;
        scan_sql_layout(LAYOUT_GOOSE, text, es[i].len, &ss);
        if (!goose && ss.section_count)
            goose = es[i].name;
        scan_sql_layout(LAYOUT_DBMATE, text, es[i].len, &ss);
        if (!dbmate && ss.section_count)
            dbmate = es[i].name;
        scan_sql_layout(LAYOUT_SQLX, text, es[i].len, &ss);
        if (!sqlx && ss.flags & SQLMIG_NO_TRANSACTION && strncmp(text, "-- no-transaction", 17) == 0)
            sqlx = es[i].name;
        /* Only golang-migrate reads up and down files that wrap themselves. */
        if (!wrapped && ss.wraps && (sn.kind == SCAN_UP || sn.kind == SCAN_DOWN))
            wrapped = es[i].name;
    }
    if (goose && dbmate) {
        diag_add(d, DIAG_ERROR, dir, 0, 0, "%s has goose annotations and %s has dbmate markers: give the "
                 "folder's layout with --layout goose or --layout dbmate", goose, dbmate);
        return LAYOUT_COUNT;
    }
    if (goose) {
        snprintf(why, cap, "%.200s has '-- +goose' annotations", goose);
        return LAYOUT_GOOSE;
    }
    if (dbmate) {
        snprintf(why, cap, "%.200s has '-- migrate:' markers", dbmate);
        return LAYOUT_DBMATE;
    }
    if (sqlx) {
        snprintf(why, cap, "%.200s starts with sqlx's '-- no-transaction'", sqlx);
        return LAYOUT_SQLX;
    }
    if (migrate || wrapped) {
        snprintf(why, cap, migrate ? "%.200s has golang-migrate's free extension"
                                   : "%.200s wraps itself in BEGIN ... COMMIT, as golang-migrate files do",
                 migrate ? migrate : wrapped);
        return LAYOUT_GOLANG_MIGRATE;
    }
    snprintf(why, cap, "no other tool's mark");
    return LAYOUT_PLAIN;
}

static int add_piece(struct layout_plan *p, int64_t version, enum scan_name_kind kind, const char *file,
                     const char *name, size_t name_len, unsigned flags)
{
    struct layout_piece *grown = realloc(p->pieces, (p->count + 1) * sizeof *grown), *pc;

    if (!grown)
        return -1;
    p->pieces = grown;
    pc = &p->pieces[p->count];
    pc->version = version;
    pc->kind = kind;
    pc->flags = flags;
    pc->file = strdup(file);
    pc->name = malloc(name_len + 1);
    if (!pc->file || !pc->name) {
        free(pc->file);
        free(pc->name);
        return -1;
    }
    memcpy(pc->name, name, name_len);
    pc->name[name_len] = '\0';
    p->count++;
    return 0;
}

static int add_input(struct layout_plan *p, const char *path)
{
    char *copy = strdup(path);
    char **grown = copy ? realloc(p->extra_inputs, (p->extra_count + 1) * sizeof *grown) : NULL;

    if (!grown) {
        free(copy);
        return -1;
    }
    p->extra_inputs = grown;
    p->extra_inputs[p->extra_count++] = copy;
    return 0;
}

/*
** Flyway versions: parts separated by '.' or '_', compared part by part as
** numbers, trailing zero parts not counting (1.2 is 1.2.0). Each becomes one
** int64 whose order is the same: six slots of three decimal digits
** (1.2.10 is 1002010000000000), the first slot up to 9222. A folder whose
** versions are all whole numbers too large for that (timestamps) keeps them
** as they are. Returns 0 and sets *problem when a version does not fit.
*/
static int flyway_parts(const char *v, size_t len, uint64_t parts[6], int *count)
{
    size_t i = 0;

    *count = 0;
    while (i < len) {
        uint64_t x = 0;
        if (*count == 6)
            return 0;
        for (; i < len && v[i] >= '0' && v[i] <= '9'; i++) {
            if (x > (UINT64_MAX - 9) / 10)
                return 0;
            x = x * 10 + (uint64_t)(v[i] - '0');
        }
        parts[(*count)++] = x;
        i++; /* the separator */
    }
    while (*count > 1 && parts[*count - 1] == 0)
        (*count)--;
    return 1;
}

/*
** A tool's file beside a migration that may run it outside a transaction:
** Flyway's <script>.conf (executeInTransaction=false), diesel's
** metadata.toml (run_in_transaction = false). SQLMIG_NO_TRANSACTION, or 0;
** the file, when there is one, is an input.
*/
static unsigned sidecar_flags(const char *dir, const char *rel, const char *key, struct layout_plan *p,
                              struct diag_list *d)
{
    char *path, *text;
    size_t len;
    unsigned flags = 0;
    int value;

    if (!is_file_at(dir, rel))
        return 0;
    path = layout_join(dir, rel);
    text = path ? layout_read_file(path, &len, d) : NULL;
    if (text && add_input(p, path) == 0) {
        value = scan_toml_bool(text, len, key);
        if (value == 0)
            flags = SQLMIG_NO_TRANSACTION;
        else if (value < 0)
            diag_add(d, DIAG_ERROR, path, 0, 0, "%s must be true or false", key);
    }
    free(text);
    free(path);
    return flags;
}

static void flyway_versions(const char *dir, struct layout_plan *p, struct layout_entry *es, size_t n,
                            struct diag_list *d)
{
    int all_whole = 1, any_large = 0, whole, k, count;
    uint64_t parts[6];
    size_t i;
    struct scan_name sn;

    /* Whole numbers as they are only when one of them cannot take the first slot. */
    for (i = 0; i < n; i++) {
        const char *base = base_name(es[i].name);
        scan_layout_name(LAYOUT_FLYWAY, base, &sn);
        if (sn.kind != SCAN_PLAIN && sn.kind != SCAN_DOWN)
            continue;
        if (!flyway_parts(base + sn.version_start, sn.version_end - sn.version_start, parts, &count))
            continue;
        all_whole &= count == 1;
        any_large |= parts[0] > 9222;
    }
    whole = all_whole && any_large;
    for (i = 0; i < n; i++) {
        const char *base = base_name(es[i].name);
        uint64_t v = 0;
        char *path, conf[600];
        scan_layout_name(LAYOUT_FLYWAY, base, &sn);
        if (sn.kind != SCAN_PLAIN && sn.kind != SCAN_DOWN)
            continue;
        path = layout_join(dir, es[i].name);
        if (!flyway_parts(base + sn.version_start, sn.version_end - sn.version_start, parts, &count) ||
            count > 6) {
            diag_add(d, DIAG_ERROR, path ? path : es[i].name, 0, 0,
                     "a Flyway version of more than six parts, or a part too large");
        } else if (whole) {
            if (parts[0] > INT64_MAX || parts[0] == 0)
                diag_add(d, DIAG_ERROR, path ? path : es[i].name, 0, 0,
                         "the version is 0 or does not fit a signed 64-bit integer");
            else
                v = parts[0];
        } else {
            for (k = 0; k < 6 && (k == 0 ? parts[0] <= 9222 : k >= count || parts[k] <= 999); k++)
                v = v * 1000 + (k < count ? parts[k] : 0);
            if (k < 6)
                diag_add(d, DIAG_ERROR, path ? path : es[i].name, 0, 0,
                         "a dotted Flyway version takes at most 9222 as its first part and 999 as the others, "
                         "so that one 64-bit number keeps Flyway's order (docs/layouts.md)");
            else if (v == 0)
                diag_add(d, DIAG_ERROR, path ? path : es[i].name, 0, 0,
                         "version 0 is reserved for the empty database; start at 1");
        }
        snprintf(conf, sizeof conf, "%s.conf", es[i].name);
        if (v > 0 && add_piece(p, (int64_t)v, sn.kind, es[i].name, base + sn.name_start, sn.name_end - sn.name_start,
                               sidecar_flags(dir, conf, "executeInTransaction", p, d)) != 0)
            diag_add(d, DIAG_ERROR, dir, 0, 0, "out of memory");
        free(path);
    }
}

static void place_diesel(const char *dir, struct layout_plan *p, struct layout_entry *es, size_t n,
                         struct diag_list *d)
{
    struct scan_name sn;
    size_t i;

    for (i = 0; i < n; i++) {
        char rel[600];
        char *path = layout_join(dir, es[i].name);
        unsigned flags;

        if (es[i].is_file && ends_sql(es[i].name))
            diag_add(d, DIAG_ERROR, path ? path : es[i].name, 0, 0,
                     "a .sql file outside a migration folder: diesel reads <version>_<name>/up.sql");
        if (!es[i].is_dir) {
            free(path);
            continue;
        }
        scan_layout_name(LAYOUT_DIESEL, es[i].name, &sn);
        snprintf(rel, sizeof rel, "%s/up.sql", es[i].name);
        if (sn.kind == SCAN_IGNORED && es[i].name[0] != '.' && is_file_at(dir, rel)) {
            /* diesel runs every folder with an up.sql, whatever its name. */
            diag_add(d, DIAG_ERROR, path ? path : es[i].name, 0, 0,
                     "diesel runs this folder as a migration, but its version (the name before '_') is not "
                     "decimal digits and dashes, which sqlmig orders by: rename it <version>_<name>");
        } else if (sn.kind == SCAN_MALFORMED) {
            diag_add(d, DIAG_ERROR, path ? path : es[i].name, 0, 0, "%s", sn.problem);
        } else if (sn.kind != SCAN_IGNORED && !is_file_at(dir, rel)) {
            diag_add(d, DIAG_ERROR, path ? path : es[i].name, 0, 0,
                     "a migration folder without up.sql (diesel needs one, even if it only holds a comment)");
        } else if (sn.kind != SCAN_IGNORED) {
            /* Its mtime changes when down.sql or metadata.toml comes or goes. */
            if (!path || add_input(p, path) != 0)
                diag_add(d, DIAG_ERROR, dir, 0, 0, "out of memory");
            snprintf(rel, sizeof rel, "%s/metadata.toml", es[i].name);
            flags = sidecar_flags(dir, rel, "run_in_transaction", p, d);
            snprintf(rel, sizeof rel, "%s/up.sql", es[i].name);
            if (add_piece(p, sn.version, SCAN_UP, rel, es[i].name + sn.name_start, sn.name_end - sn.name_start,
                          flags) != 0)
                diag_add(d, DIAG_ERROR, dir, 0, 0, "out of memory");
            snprintf(rel, sizeof rel, "%s/down.sql", es[i].name);
            if (is_file_at(dir, rel) &&
                add_piece(p, sn.version, SCAN_DOWN, rel, es[i].name + sn.name_start,
                          sn.name_end - sn.name_start, flags) != 0)
                diag_add(d, DIAG_ERROR, dir, 0, 0, "out of memory");
        }
        free(path);
    }
}

/* Drizzle: the journal gives the order, the tag the file, `when` the version. */
static void place_drizzle(const char *dir, struct layout_plan *p, struct layout_entry *es, size_t n,
                          struct diag_list *d)
{
    struct scan_journal j;
    const char *problem = NULL;
    size_t at = 0;
    unsigned line, col;
    char *path = layout_join(dir, "meta/_journal.json"), *text;
    size_t len, i, k;

    if (!path) {
        diag_add(d, DIAG_ERROR, dir, 0, 0, "out of memory");
        return;
    }
    text = layout_read_file(path, &len, d);
    if (!text || add_input(p, path) != 0) {
        free(text);
        free(path);
        return;
    }
    memset(&j, 0, sizeof j);
    if (scan_journal(text, len, &j, &at, &problem) != 0) {
        diag_position(text, at, 1, &line, &col);
        diag_add(d, DIAG_ERROR, path, line, col, "%s", problem);
    } else {
        for (i = 0; i < j.count; i++) {
            char file[600];
            snprintf(file, sizeof file, "%s.sql", j.entries[i].tag);
            if (!is_file_at(dir, file)) {
                diag_add(d, DIAG_ERROR, path, j.entries[i].line, 1,
                         "the journal names %s, which is not in the folder", file);
                continue;
            }
            if (i > 0 && j.entries[i].when <= j.entries[i - 1].when) {
                diag_add(d, DIAG_ERROR, path, j.entries[i].line, 1,
                         "entry %s has 'when' %" PRId64 ", not after the entry before it (%" PRId64 "): the "
                         "journal's order and its times disagree", j.entries[i].tag, j.entries[i].when,
                         j.entries[i - 1].when);
                continue;
            }
            if (j.entries[i].when <= 0) {
                diag_add(d, DIAG_ERROR, path, j.entries[i].line, 1, "entry %s has no positive 'when'",
                         j.entries[i].tag);
                continue;
            }
            if (add_piece(p, j.entries[i].when, SCAN_PLAIN, file, j.entries[i].tag, strlen(j.entries[i].tag),
                          0) != 0)
                diag_add(d, DIAG_ERROR, dir, 0, 0, "out of memory");
        }
        /* Every .sql file of the folder must be in the journal. */
        for (k = 0; k < n; k++) {
            int listed = 0;
            if (!es[k].is_file || !ends_sql(es[k].name))
                continue;
            for (i = 0; i < j.count && !listed; i++)
                listed = strncmp(es[k].name, j.entries[i].tag, strlen(j.entries[i].tag)) == 0 &&
                         strcmp(es[k].name + strlen(j.entries[i].tag), ".sql") == 0;
            if (!listed) {
                char *fp = layout_join(dir, es[k].name);
                diag_add(d, DIAG_ERROR, fp ? fp : es[k].name, 0, 0,
                         "not in meta/_journal.json: Drizzle would never run it");
                free(fp);
            }
        }
    }
    scan_journal_free(&j);
    free(text);
    free(path);
}

/*
** Flyway reads its location and every sub-folder in it (not hidden ones):
** the files of `dir`/`rel`, as paths relative to `dir`, added to *list.
*/
static void flyway_collect(const char *dir, const char *rel, struct layout_entry **list, size_t *n, size_t *cap,
                           int depth, struct diag_list *d)
{
    char *at = rel[0] ? layout_join(dir, rel) : strdup(dir);
    DIR *dh = at ? opendir(at) : NULL;
    struct dirent *de;

    if (!dh) {
        diag_add(d, DIAG_ERROR, at ? at : dir, 0, 0, "cannot open the folder: %s", at ? strerror(errno) : "out of memory");
        free(at);
        return;
    }
    while ((de = readdir(dh)) != NULL) {
        char *name, *path;
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        name = rel[0] ? layout_join(rel, de->d_name) : strdup(de->d_name);
        path = name ? layout_join(dir, name) : NULL;
        if (!path || stat(path, &st) != 0) {
            free(name);
            free(path);
            continue;
        }
        free(path);
        if (S_ISDIR(st.st_mode) && depth < 16) {
            flyway_collect(dir, name, list, n, cap, depth + 1, d);
            free(name);
            continue;
        }
        if (*n == *cap) {
            struct layout_entry *grown = realloc(*list, (*cap = *cap ? *cap * 2 : 64) * sizeof *grown);
            if (!grown) {
                free(name);
                diag_add(d, DIAG_ERROR, dir, 0, 0, "out of memory");
                break;
            }
            *list = grown;
        }
        memset(&(*list)[*n], 0, sizeof **list);
        (*list)[*n].name = name;
        (*list)[(*n)++].is_file = S_ISREG(st.st_mode);
    }
    closedir(dh);
    free(at);
}

static int by_entry_name(const void *a, const void *b)
{
    return strcmp(((const struct layout_entry *)a)->name, ((const struct layout_entry *)b)->name);
}

/* Flyway: the location's files and its sub-folders', names checked, versions encoded. */
static void place_flyway(const char *dir, struct layout_plan *p, struct diag_list *d)
{
    struct layout_entry *list = NULL;
    struct scan_name sn;
    size_t n = 0, cap = 0, i;

    flyway_collect(dir, "", &list, &n, &cap, 0, d);
    if (n > 1)
        qsort(list, n, sizeof *list, by_entry_name);
    for (i = 0; i < n; i++) {
        char *path;
        scan_layout_name(LAYOUT_FLYWAY, base_name(list[i].name), &sn);
        if (sn.kind == SCAN_IGNORED || (list[i].is_file && sn.kind != SCAN_MALFORMED))
            continue;
        path = layout_join(dir, list[i].name);
        diag_add(d, DIAG_ERROR, path ? path : list[i].name, 0, 0, list[i].is_file
                 ? "malformed migration file name: %s" : "named like a migration but is not a regular file%s",
                 list[i].is_file ? sn.problem : "");
        free(path);
    }
    flyway_versions(dir, p, list, n, d);
    for (i = 0; i < n; i++) {
        const char *base = base_name(list[i].name);
        char conf[600];
        scan_layout_name(LAYOUT_FLYWAY, base, &sn);
        if (sn.kind != SCAN_REPEATABLE || !list[i].is_file)
            continue;
        snprintf(conf, sizeof conf, "%s.conf", list[i].name);
        if (add_piece(p, 0, SCAN_REPEATABLE, list[i].name, base + sn.name_start, sn.name_end - sn.name_start,
                      sidecar_flags(dir, conf, "executeInTransaction", p, d)) != 0)
            diag_add(d, DIAG_ERROR, dir, 0, 0, "out of memory");
    }
    for (i = 0; i < n; i++)
        free(list[i].name);
    free(list);
}

/* The layouts of one folder of files, each named by its version. */
static void place_files(const char *dir, enum scan_layout layout, struct layout_plan *p,
                        struct layout_entry *es, size_t n, struct diag_list *d)
{
    struct scan_name sn;
    size_t i;

    for (i = 0; i < n; i++) {
        char *path;
        scan_layout_name(layout, es[i].name, &sn);
        if (sn.kind == SCAN_IGNORED)
            continue;
        path = layout_join(dir, es[i].name);
        if (!es[i].is_file) {
            /* A folder or device named like a migration is a mistake, not noise. */
            diag_add(d, DIAG_ERROR, path ? path : es[i].name, 0, 0,
                     "named like a migration but is not a regular file");
        } else if (sn.kind == SCAN_MALFORMED) {
            diag_add(d, DIAG_ERROR, path ? path : es[i].name, 0, 0, "malformed migration file name: %s",
                     sn.problem);
        } else if (add_piece(p, sn.version, sn.kind, es[i].name, es[i].name + sn.name_start,
                             sn.name_end - sn.name_start, 0) != 0) {
            diag_add(d, DIAG_ERROR, dir, 0, 0, "out of memory");
        }
        free(path);
    }
}

int layout_plan(const char *dir, struct layout_entry *es, size_t n, enum scan_layout forced,
                struct layout_plan *p, struct diag_list *d)
{
    size_t before = d->count;

    if (forced != LAYOUT_COUNT) {
        p->layout = forced;
        snprintf(p->why, sizeof p->why, "given with --layout");
    } else {
        p->layout = detect(dir, es, n, p->why, sizeof p->why, d);
        if (p->layout == LAYOUT_COUNT)
            return 1;
    }
    switch (p->layout) {
    case LAYOUT_DIESEL:
        place_diesel(dir, p, es, n, d);
        break;
    case LAYOUT_DRIZZLE:
        place_drizzle(dir, p, es, n, d);
        break;
    case LAYOUT_FLYWAY:
        place_flyway(dir, p, d);
        break;
    default:
        place_files(dir, p->layout, p, es, n, d);
        break;
    }
    return d->count > before;
}

/* The value of placeholder [name, name + n), or NULL. */
static const char *placeholder_value(const char *name, size_t n, const char *file, const char *const *defs,
                                     size_t ndefs)
{
    size_t i;

    for (i = 0; i < ndefs; i++)
        if (strncmp(defs[i], name, n) == 0 && defs[i][n] == '=')
            return defs[i] + n + 1;
    if (n == 15 && strncmp(name, "flyway:filename", 15) == 0)
        return file;
    if (n == 20 && strncmp(name, "flyway:defaultSchema", 20) == 0)
        return "main";
    return NULL;
}

char *layout_placeholders(char *text, size_t *len, const char *path, const char *file,
                          const char *const *defs, size_t ndefs, struct diag_list *d)
{
    static const char name_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-";
    size_t i, out_len = 0, cap = *len + 1;
    char *out;
    int problems = 0;

    if (!strstr(text, "${"))
        return text;
    if (!(out = malloc(cap))) {
        diag_add(d, DIAG_ERROR, path, 0, 0, "out of memory");
        free(text);
        return NULL;
    }
    for (i = 0; i < *len; i++) {
        const char *value = NULL;
        size_t n = 0, vlen;
        if (text[i] == '$' && text[i + 1] == '{') { /* text[*len] is a NUL */
            n = strspn(text + i + 2, name_chars);
            if (n > 0 && text[i + 2 + n] == '}') {
                value = placeholder_value(text + i + 2, n, file, defs, ndefs);
                if (!value) {
                    unsigned line, col;
                    diag_position(text, i, 1, &line, &col);
                    diag_add(d, DIAG_ERROR, path, line, col,
                             "placeholder ${%.*s} has no value: give it with --placeholder %.*s=VALUE",
                             (int)n, text + i + 2, (int)n, text + i + 2);
                    problems++;
                }
            }
        }
        vlen = value ? strlen(value) : 1;
        if (out_len + vlen + 1 > cap) {
            char *grown = realloc(out, cap = (out_len + vlen + 1) * 2);
            if (!grown) {
                diag_add(d, DIAG_ERROR, path, 0, 0, "out of memory");
                free(out);
                free(text);
                return NULL;
            }
            out = grown;
        }
        if (value) {
            memcpy(out + out_len, value, vlen);
            out_len += vlen;
            i += n + 2; /* past "${name}" */
        } else {
            out[out_len++] = text[i];
        }
    }
    free(text);
    if (problems) {
        free(out);
        return NULL;
    }
    out[out_len] = '\0';
    *len = out_len;
    return out;
}

void layout_plan_free(struct layout_plan *p)
{
    size_t i;

    for (i = 0; i < p->count; i++) {
        free(p->pieces[i].file);
        free(p->pieces[i].name);
    }
    free(p->pieces);
    for (i = 0; i < p->extra_count; i++)
        free(p->extra_inputs[i]);
    free(p->extra_inputs);
    memset(p, 0, sizeof *p);
}
