/*
** dangling.c — references that point at nothing after a migration (see
** dangling.h).
**
** A reference can only start to dangle where it is made (a new view,
** trigger or foreign key) or where what it names goes away (DROP, ALTER,
** VACUUM). So after a migration that only creates, the check looks at the
** objects it created (their rows come after every older one in
** sqlite_schema); after one whose text drops or alters, at every foreign
** key, and at the views and triggers that mention a name that is gone or
** whose text changed. A view is checked by preparing a SELECT from it, a
** trigger by preparing the INSERT, UPDATE and DELETE that would fire it:
** SQLite resolves their names then, and says what it cannot find.
*/
#include "dangling.h"

#include "diag.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An object of the schema, as the last look saw it. */
struct object {
    char *name;
    uint64_t sql; /* a hash of its SQL: a rewrite shows */
};

struct dangling {
    const struct tool_folder *f;
    sqlite3_int64 schema_version;
    sqlite3_int64 max_rowid;  /* of sqlite_schema at the last look */
    struct object *objects;   /* every object, at the last full look */
    size_t count;
    int sorted;               /* objects are in name order (any case) */
    char **said;              /* warnings given, each once */
    size_t nsaid;
};

static uint64_t hash(const char *s)
{
    uint64_t h = UINT64_C(0xCBF29CE484222325);
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001B3);
    return h;
}

struct dangling *dangling_new(const struct tool_folder *f)
{
    struct dangling *d = calloc(1, sizeof *d);

    if (d)
        d->f = f;
    return d;
}

static void free_objects(struct object *o, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(o[i].name);
    free(o);
}

void dangling_free(struct dangling *d)
{
    size_t i;

    if (!d)
        return;
    free_objects(d->objects, d->count);
    for (i = 0; i < d->nsaid; i++)
        free(d->said[i]);
    free(d->said);
    free(d);
}

static int word_char(char c)
{
    return c == '_' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (unsigned char)c >= 0x80;
}

/* Where m's SQL first names `what` (any case, a whole word, not in a
** comment), as a line and column; 0 when nowhere. */
static void place(const struct tool_migration *m, const char *what, unsigned *line, unsigned *col)
{
    const char *t = m->up;
    size_t i, n = strlen(what), len = m->up_len;

    *line = *col = 0;
    for (i = 0; n && i + n <= len; i++) {
        if (t[i] == '-' && i + 1 < len && t[i + 1] == '-') {
            while (i < len && t[i] != '\n')
                i++;
        } else if (t[i] == '/' && i + 1 < len && t[i + 1] == '*') {
            for (i += 2; i + 1 < len && !(t[i] == '*' && t[i + 1] == '/'); i++) {}
            i++;
        } else if (sqlite3_strnicmp(t + i, what, (int)n) == 0 && (i == 0 || !word_char(t[i - 1]))
                   && (i + n == len || !word_char(t[i + n]))) {
            diag_position(t, i, m->up_line, line, col);
            return;
        }
    }
}

/* Warn once: `what` is what is missing, which places the warning in m's text. */
static void warn(struct dangling *d, const struct tool_migration *m, const char *what, const char *text)
{
    unsigned line, col;
    char **grown;
    size_t i;

    for (i = 0; i < d->nsaid; i++)
        if (strcmp(d->said[i], text) == 0)
            return;
    if ((grown = realloc(d->said, (d->nsaid + 1) * sizeof *grown)) != NULL) {
        d->said = grown;
        if ((d->said[d->nsaid] = strdup(text)) != NULL)
            d->nsaid++;
    }
    place(m, what, &line, &col);
    diag_warning(m->path, line, col, "%s", text);
}

/* The name in SQLite's "no such table: main.x" (or column, function): x. */
static const char *missing_name(const char *msg)
{
    const char *p = strstr(msg, "no such ");

    if (!p || !(p = strchr(p, ':')))
        return "";
    p += 2;
    return strncmp(p, "main.", 5) == 0 ? p + 5 : p;
}

/* Prepare sql; when it fails on a name it cannot find, warn. */
static void try(struct dangling *d, sqlite3 *conn, const struct tool_migration *m, const char *type,
                const char *name, const char *sql)
{
    sqlite3_stmt *st = NULL;
    char text[600];

    if (sql && sqlite3_prepare_v2(conn, sql, -1, &st, NULL) != SQLITE_OK && strstr(sqlite3_errmsg(conn), "no such ")) {
        snprintf(text, sizeof text, "after this migration the %s \"%s\" refers to what does not exist: %s", type,
                 name, sqlite3_errmsg(conn));
        warn(d, m, missing_name(sqlite3_errmsg(conn)), text);
    }
    sqlite3_finalize(st);
}

/* A view: SELECT from it. A trigger: every statement on its table that fires one. */
static void check_object(struct dangling *d, sqlite3 *conn, const struct tool_migration *m, const char *type,
                         const char *name, const char *table)
{
    sqlite3_stmt *st = NULL;
    sqlite3_str *update;
    char *sql;
    int columns = 0;

    if (strcmp(type, "view") == 0) {
        sql = sqlite3_mprintf("SELECT * FROM main.\"%w\"", name);
        try(d, conn, m, type, name, sql);
        sqlite3_free(sql);
        return;
    }
    sql = sqlite3_mprintf("INSERT INTO main.\"%w\" DEFAULT VALUES", table);
    try(d, conn, m, type, name, sql);
    sqlite3_free(sql);
    sql = sqlite3_mprintf("DELETE FROM main.\"%w\"", table);
    try(d, conn, m, type, name, sql);
    sqlite3_free(sql);
    /* UPDATE of every column, so that every UPDATE OF trigger is coded too. */
    update = sqlite3_str_new(conn);
    sqlite3_str_appendf(update, "UPDATE main.\"%w\" SET ", table);
    if (sqlite3_prepare_v2(conn, "SELECT name FROM pragma_table_xinfo(?1, 'main') WHERE hidden = 0", -1, &st, NULL)
        == SQLITE_OK) {
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW)
            sqlite3_str_appendf(update, "%s\"%w\" = \"%w\"", columns++ ? ", " : "", sqlite3_column_text(st, 0),
                                sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sql = sqlite3_str_finish(update);
    if (columns)
        try(d, conn, m, type, name, sql);
    sqlite3_free(sql);
}

/*
** Foreign keys whose parent table, or parent column, does not exist: of the
** tables made after sqlite_schema's rowid `after` (0: of all of them).
*/
static void check_foreign_keys(struct dangling *d, sqlite3 *conn, const struct tool_migration *m,
                               sqlite3_int64 after)
{
    static const char sql[] =
        "SELECT s.name, f.\"table\", f.\"to\", NOT EXISTS (SELECT 1 FROM main.sqlite_schema AS p "
        "WHERE p.type = 'table' AND p.name = f.\"table\" COLLATE NOCASE) "
        "FROM main.sqlite_schema AS s, pragma_foreign_key_list(s.name, 'main') AS f "
        "WHERE s.type = 'table' AND s.rowid > ?1 AND (NOT EXISTS (SELECT 1 FROM main.sqlite_schema AS p "
        "WHERE p.type = 'table' AND p.name = f.\"table\" COLLATE NOCASE) OR (f.\"to\" IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM pragma_table_info(f.\"table\", 'main') AS c WHERE c.name = f.\"to\" COLLATE NOCASE)))";
    sqlite3_stmt *st = NULL;
    char text[600];

    if (sqlite3_prepare_v2(conn, sql, -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, after);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *child = (const char *)sqlite3_column_text(st, 0);
        const char *parent = (const char *)sqlite3_column_text(st, 1);
        const char *column = (const char *)sqlite3_column_text(st, 2);
        if (sqlite3_column_int(st, 3))
            snprintf(text, sizeof text, "after this migration the table \"%s\" has a foreign key to the table "
                     "\"%s\", which does not exist", child, parent);
        else
            snprintf(text, sizeof text, "after this migration the table \"%s\" has a foreign key to the column "
                     "\"%s\" of \"%s\", which has no such column", child, column ? column : "", parent);
        warn(d, m, parent, text);
    }
    sqlite3_finalize(st);
}

static int by_name(const void *a, const void *b)
{
    return sqlite3_stricmp(((const struct object *)a)->name, ((const struct object *)b)->name);
}

/* Is `name` among the n objects, sorted by name (any case)? Its index, or -1:
** a binary search, since a history of thousands of tables asks often. */
static long find(const struct object *o, size_t n, const char *name)
{
    struct object key;
    const struct object *hit;

    key.name = (char *)name;
    hit = n ? bsearch(&key, o, n, sizeof *o, by_name) : NULL;
    return hit ? (long)(hit - o) : -1;
}

void dangling_check(struct dangling *d, sqlite3 *conn, const struct tool_migration *m)
{
    sqlite3_stmt *st = NULL;
    sqlite3_int64 version = 0, after = d->max_rowid, max = 0;
    struct object *now = NULL, *grown;
    size_t n = 0, cap = 0, i;
    long was;

    if (sqlite3_prepare_v2(conn, "PRAGMA main.schema_version", -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (version == d->schema_version)
        return; /* no statement of it touched the schema */
    d->schema_version = version;
    if (m->reshapes && !d->sorted) {
        if (d->count > 1)
            qsort(d->objects, d->count, sizeof *d->objects, by_name);
        d->sorted = 1;
    }
    if (sqlite3_prepare_v2(conn, "SELECT rowid, type, name, tbl_name, sql FROM main.sqlite_schema "
                           "WHERE rowid > ?1 ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
        return;
    /* What only adds is seen past the last row; what reshapes, whole. */
    sqlite3_bind_int64(st, 1, m->reshapes ? 0 : after);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 1);
        const char *name = (const char *)sqlite3_column_text(st, 2);
        const char *table = (const char *)sqlite3_column_text(st, 3);
        const char *sql = (const char *)sqlite3_column_text(st, 4);
        if (!type || !name || !table)
            continue;
        if (sqlite3_column_int64(st, 0) > max)
            max = sqlite3_column_int64(st, 0);
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            if (!(grown = realloc(now, cap * sizeof *grown)))
                break;
            now = grown;
        }
        if (!(now[n].name = strdup(name)))
            break;
        now[n++].sql = hash(sql);
        /* New, or rewritten (ALTER TABLE ... RENAME rewrites what refers to the table). */
        was = m->reshapes ? find(d->objects, d->count, name) : -1;
        if ((strcmp(type, "view") == 0 || strcmp(type, "trigger") == 0)
            && (!m->reshapes || was < 0 || d->objects[was].sql != now[n - 1].sql || sqlite3_column_int64(st, 0) > after))
            check_object(d, conn, m, type, name, table);
    }
    sqlite3_finalize(st);
    if (!m->reshapes) { /* the new objects join those of the last full look */
        check_foreign_keys(d, conn, m, after);
        if (max > d->max_rowid)
            d->max_rowid = max;
        if (n && (grown = realloc(d->objects, (d->count + n) * sizeof *grown)) != NULL) {
            d->objects = grown;
            memcpy(d->objects + d->count, now, n * sizeof *now);
            d->count += n;
            d->sorted = 0;
            free(now);
        } else {
            free_objects(now, n);
        }
        return;
    }
    /* Gone: every view and trigger that mentions it, and every foreign key. */
    if (n > 1)
        qsort(now, n, sizeof *now, by_name);
    check_foreign_keys(d, conn, m, 0);
    for (i = 0; i < d->count; i++) {
        if (find(now, n, d->objects[i].name) >= 0)
            continue;
        if (sqlite3_prepare_v2(conn, "SELECT type, name, tbl_name FROM main.sqlite_schema WHERE type IN ('view', "
                               "'trigger') AND instr(lower(sql), lower(?1))", -1, &st, NULL) != SQLITE_OK)
            continue;
        sqlite3_bind_text(st, 1, d->objects[i].name, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW)
            check_object(d, conn, m, (const char *)sqlite3_column_text(st, 0),
                         (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2));
        sqlite3_finalize(st);
    }
    free_objects(d->objects, d->count);
    d->objects = now;
    d->count = n;
    d->sorted = 1;
    d->max_rowid = max;
}
