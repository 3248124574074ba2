/*
** check.c — replay the migrations into :memory: before anything is emitted
** (see check.h).
**
** Each migration runs the way the runtime runs it: foreign keys off, inside
** BEGIN … COMMIT unless it says `-- sqlmig:no-transaction`, one statement at a
** time with sqlite3_prepare_v2() and its tail pointer, then PRAGMA
** foreign_key_check. An authorizer catches, at prepare time, what cannot run
** inside that transaction: transaction control and journal-mode changes.
** Meanwhile purity.c watches for what would make the result differ at run
** time; when nothing does, snapshot.c captures the final state.
*/
#include "check.h"

#include "buf.h"
#include "diag.h"
#include "purity.h"
#include "snapshot.h"
#include "sqlmig.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the authorizer refused while one statement was prepared. */
struct guard {
    const char *refused;   /* NULL: nothing */
    struct purity *purity; /* told of every PRAGMA that sets a value */
};

static int guard_authorizer(void *ctx, int action, const char *a, const char *b,
                            const char *db, const char *trigger)
{
    struct guard *g = ctx;
    (void)db;
    (void)trigger;
    if (action == SQLITE_PRAGMA)
        purity_pragma(g->purity, a, b);
    if (action == SQLITE_TRANSACTION || action == SQLITE_SAVEPOINT) {
        g->refused = "is transaction control, in a migration that runs in a transaction "
                     "(sqlmig wraps each migration in BEGIN IMMEDIATE ... COMMIT): remove it, "
                     "or make the first line '-- sqlmig:no-transaction'";
        return SQLITE_DENY;
    }
    if (action == SQLITE_PRAGMA && b && sqlite3_stricmp(a, "journal_mode") == 0) {
        g->refused = "journal_mode cannot change the journal inside a transaction: put it in a "
                     "migration whose first line is '-- sqlmig:no-transaction'";
        return SQLITE_DENY;
    }
    return SQLITE_OK;
}

/* Offset of the first token at or after `p`, skipping blanks, comments and
** empty statements as sqlite3_prepare_v2() does. */
static size_t first_token(const char *text, size_t p, size_t len)
{
    while (p < len) {
        unsigned char c = (unsigned char)text[p];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == ';') {
            p++;
        } else if (c == '-' && p + 1 < len && text[p + 1] == '-') {
            while (p < len && text[p] != '\n')
                p++;
        } else if (c == '/' && p + 1 < len && text[p + 1] == '*') {
            p += 2;
            while (p < len && !(text[p] == '*' && p + 1 < len && text[p + 1] == '/'))
                p++;
            p = p + 2 < len ? p + 2 : len;
        } else {
            break;
        }
    }
    return p;
}

static int starts_with_word(const char *text, size_t p, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len - p < n || sqlite3_strnicmp(text + p, word, (int)n) != 0)
        return 0;
    return len - p == n || !(text[p + n] == '_' || (text[p + n] >= 'a' && text[p + n] <= 'z') ||
                             (text[p + n] >= 'A' && text[p + n] <= 'Z') ||
                             (text[p + n] >= '0' && text[p + n] <= '9'));
}

/* Print `message` at byte `offset` of migration `m`. */
static void report(const struct tool_migration *m, size_t offset, const char *message)
{
    unsigned line, col;
    diag_position(m->up, offset, m->up_line, &line, &col);
    diag_error(m->path, line, col, "%s", message);
}

/* Print "WORD <why>" at `start`, WORD being the statement's first keyword. */
static void report_refused(const struct tool_migration *m, size_t start, const char *why)
{
    char message[512];
    int n = 0;

    while (start + (size_t)n < m->up_len && n < 24 &&
           ((m->up[start + n] >= 'A' && m->up[start + n] <= 'Z') ||
            (m->up[start + n] >= 'a' && m->up[start + n] <= 'z')))
        n++;
    snprintf(message, sizeof message, "%.*s %s", n, m->up + start, why);
    report(m, start, message);
}

/* Run one of the statements the replay wraps around migration `m`. */
static int exec_simple(sqlite3 *db, const struct tool_migration *m, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        /* Only what the migrations did can make these fail: name the file. */
        diag_error(m->path, 0, 0, "the replay's %s failed around this migration: %s", sql,
                   err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

/* Column i as text, never NULL (SQLite gives NULL when out of memory). */
static const char *column_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "?";
}

/*
** Report rows that violate a foreign key after migration `m`, as the runtime
** would refuse to commit them.
*/
static int check_foreign_keys(sqlite3 *db, const struct tool_migration *m)
{
    sqlite3_stmt *st;
    int rc, problems = 0;

    /*
    ** The check itself fails when a foreign key is malformed (its parent
    ** key is neither the primary key nor UNIQUE): the runtime's check would
    ** fail the same way, so this migration is named as the culprit.
    */
    if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK) {
        diag_error(m->path, 0, 0, "PRAGMA foreign_key_check fails after this migration: %s",
                   sqlite3_errmsg(db));
        return 1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (problems++ > 0)
            continue;
        if (sqlite3_column_type(st, 1) == SQLITE_NULL) /* a WITHOUT ROWID table */
            diag_error(m->path, 0, 0,
                       "leaves a row of table '%s' whose foreign key to '%s' matches no row: "
                       "PRAGMA foreign_key_check must be clean before commit",
                       column_text(st, 0), column_text(st, 2));
        else
            diag_error(m->path, 0, 0,
                       "leaves a row of table '%s' (rowid %lld) whose foreign key to '%s' "
                       "matches no row: PRAGMA foreign_key_check must be clean before commit",
                       column_text(st, 0), (long long)sqlite3_column_int64(st, 1),
                       column_text(st, 2));
    }
    if (rc != SQLITE_DONE && problems == 0) {
        diag_error(m->path, 0, 0, "PRAGMA foreign_key_check fails after this migration: %s",
                   sqlite3_errmsg(db));
        problems++;
    }
    sqlite3_finalize(st);
    return problems ? 1 : 0;
}

/* Run one migration statement by statement; 0 on success. */
static int replay_one(sqlite3 *db, const struct tool_migration *m, struct purity *p)
{
    int in_tx = !(m->flags & SQLMIG_NO_TRANSACTION);
    size_t pos = 0, statements = 0;
    struct guard g = { NULL, p };

    /* As the runtime does before every migration: a no-transaction migration
    ** earlier in the history may have switched them on. */
    if (exec_simple(db, m, "PRAGMA foreign_keys = OFF") != 0)
        return 1;
    if (in_tx && exec_simple(db, m, "BEGIN") != 0)
        return 1;
    purity_begin(p, db, m);
    while (pos < m->up_len) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        size_t start = first_token(m->up, pos, m->up_len);
        int rc;

        g.refused = NULL;
        purity_statement(p, start);
        if (in_tx)
            sqlite3_set_authorizer(db, guard_authorizer, &g);
        /* Count the NUL after the text: SQLite then parses in place instead of
        ** copying the rest of the migration for every statement. */
        rc = sqlite3_prepare_v2(db, m->up + pos, (int)(m->up_len - pos) + 1, &st, &tail);
        sqlite3_set_authorizer(db, NULL, NULL);
        if (rc != SQLITE_OK) {
            int off = sqlite3_error_offset(db);
            if (g.refused)
                report_refused(m, start, g.refused);
            else
                report(m, off >= 0 ? pos + (size_t)off : start, sqlite3_errmsg(db));
            return 1;
        }
        if (!st) /* only blanks, comments or semicolons were left */
            break;
        statements++;
        if (in_tx && starts_with_word(m->up, start, m->up_len, "VACUUM")) {
            sqlite3_finalize(st);
            report_refused(m, start, "cannot run inside a transaction: put it in a "
                                     "migration whose first line is '-- sqlmig:no-transaction'");
            return 1;
        }
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        if (rc != SQLITE_DONE) {
            int off = sqlite3_error_offset(db);
            report(m, off >= 0 ? pos + (size_t)off : start, sqlite3_errmsg(db));
            sqlite3_finalize(st);
            return 1;
        }
        sqlite3_finalize(st);
        pos = (size_t)(tail - m->up);
    }
    if (statements == 0) {
        diag_error(m->path, 0, 0, "empty migration: the file has no SQL statement "
                                  "(only blanks and comments)");
        return 1;
    }
    /* In a transaction the migration must still be inside it, and outside
       one it must not leave one open. */
    if (sqlite3_get_autocommit(db) == in_tx) {
        diag_error(m->path, 0, 0, in_tx ? "the migration ended the transaction sqlmig runs it in"
                                        : "the migration leaves a transaction open");
        return 1;
    }
    if (check_foreign_keys(db, m) != 0)
        return 1;
    if (in_tx && exec_simple(db, m, "COMMIT") != 0)
        return 1;
    return 0;
}

/*
** A copy of column i, or NULL when out of memory: the query leaves out
** NULLs, so a NULL from SQLite means that it ran out of memory.
*/
static char *copy_column(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

/* Read the final schema: objects sorted for the runtime, text for schema.sql. */
static int collect_schema(sqlite3 *db, struct tool_folder *f)
{
    static const char objects_sql[] =
        "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND "
        "name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name";
    /* Tables first, each group in creation order, so schema.sql can be run. */
    static const char text_sql[] =
        "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND "
        "name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type <> 'table', rowid";
    sqlite3_stmt *st;
    size_t cap = 0, len = 0;
    int rc;

    if (sqlite3_prepare_v2(db, objects_sql, -1, &st, NULL) != SQLITE_OK)
        goto sqlite_fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct tool_object *o;
        char *type, *name, *sql;
        if (f->object_count == cap) {
            struct tool_object *grown;
            cap = cap ? cap * 2 : 32;
            grown = realloc(f->objects, cap * sizeof *grown);
            if (!grown)
                goto oom;
            f->objects = grown;
        }
        type = copy_column(st, 0);
        name = copy_column(st, 1);
        sql = copy_column(st, 2);
        if (!type || !name || !sql) {
            free(type);
            free(name);
            free(sql);
            goto oom;
        }
        o = &f->objects[f->object_count++];
        o->type = type;
        o->name = name;
        o->sql = sql;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto sqlite_fail;

    if (sqlite3_prepare_v2(db, text_sql, -1, &st, NULL) != SQLITE_OK)
        goto sqlite_fail;
    cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *sql = (const char *)sqlite3_column_text(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (!sql)
            goto oom;
        if (len + n + 4 > cap) {
            char *grown;
            cap = (len + n + 4) * 2;
            grown = realloc(f->schema_sql, cap);
            if (!grown)
                goto oom;
            f->schema_sql = grown;
        }
        memcpy(f->schema_sql + len, sql, n);
        memcpy(f->schema_sql + len + n, ";\n\n", 3);
        len += n + 3;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto sqlite_fail;
    f->schema_len = len;
    return 0;

oom:
    sqlite3_finalize(st);
    diag_fatal("out of memory");
    return 1;
sqlite_fail:
    /* Only the migrations can have spoilt the schema (writable_schema): name the last. */
    diag_error(f->count ? f->items[f->count - 1].path : f->dir, 0, 0,
               "the schema after this migration cannot be read: %s", sqlite3_errmsg(db));
    return 1;
}

/* Keep why there is no snapshot, and say it. */
static int keep_note(struct tool_folder *f, const struct purity *p)
{
    const struct tool_migration *m = p->where;
    size_t n = strlen(p->why) + (m ? strlen(m->file) + 32 : 0) + 1;

    if (!(f->snapshot_note = malloc(n))) {
        diag_fatal("out of memory");
        return 1;
    }
    if (!m)
        snprintf(f->snapshot_note, n, "%s", p->why);
    else if (p->line)
        snprintf(f->snapshot_note, n, "%s:%u:%u: %s", m->file, p->line, p->col, p->why);
    else
        snprintf(f->snapshot_note, n, "%s: %s", m->file, p->why);
    diag_note(m ? m->path : f->dir, p->line, p->col,
              "%s; a fresh database will run every migration instead of the snapshot", p->why);
    return 0;
}

/* The snapshot of the final state, or the reason there is none. */
static int take_snapshot(sqlite3 *db, struct tool_folder *f, struct purity *p, size_t max)
{
    struct buf b;
    size_t i, sql = 0;
    int rc;

    p->m = NULL; /* what follows is not a migration's doing */
    if (f->count == 0)
        return 0; /* nothing to apply, nothing to say */
    if (p->why[0])
        return keep_note(f, p);
    buf_init(&b);
    rc = snapshot_take(db, p, &b, p->why, sizeof p->why);
    if (rc < 0)
        return 1;
    if (rc > 0) {
        p->where = NULL;
        p->line = p->col = 0;
        return keep_note(f, p);
    }
    /* Rows that SQL generated (a calendar, a bulk backfill) can make the
    ** snapshot far bigger than the history: by default it may take four
    ** times the migrations' SQL plus 1 MiB in the program, no more. */
    for (i = 0; i < f->count; i++)
        sql += f->items[i].up_len;
    if (max == 0)
        max = sql * 4 + ((size_t)1 << 20);
    if (b.len > max) {
        snprintf(p->why, sizeof p->why, "the snapshot would take %zu bytes, more than the %zu that "
                 "%s (--snapshot-max BYTES sets another limit)", b.len, max,
                 max == sql * 4 + ((size_t)1 << 20) ? "four times the migrations' SQL plus 1 MiB allow"
                                                      : "--snapshot-max allows");
        buf_free(&b);
        p->where = NULL;
        p->line = p->col = 0;
        return keep_note(f, p);
    }
    /* Like every embedded string, it is followed by a NUL. */
    if (buf_putc(&b, '\0') != 0) {
        buf_free(&b);
        diag_fatal("out of memory");
        return 1;
    }
    f->snapshot = b.data;
    f->snapshot_len = b.len - 1;
    return 0;
}

int check_replay(struct tool_folder *f, int snapshot, size_t snapshot_max)
{
    struct purity p;
    sqlite3 *db = NULL;
    size_t i;
    int problems = 0;

    memset(&p, 0, sizeof p);
    if (purity_open(&p, &db) != SQLITE_OK) {
        diag_fatal("cannot open an in-memory SQLite database: %s",
                   db ? sqlite3_errmsg(db) : "out of memory");
        purity_close(&p, db);
        return 1;
    }
    for (i = 0; !problems && i < f->count; i++)
        problems = replay_one(db, &f->items[i], &p);
    if (!problems)
        problems = collect_schema(db, f);
    if (!problems && snapshot)
        problems = take_snapshot(db, f, &p, snapshot_max);
    purity_close(&p, db);
    return problems;
}
