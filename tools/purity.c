/*
** purity.c — notice, during the build-time replay, what makes a history's
** result depend on more than its SQL (see purity.h).
**
** SQLite's own functions keep running wherever possible, so that the replay
** behaves exactly as before: the clock is watched from below, through a VFS
** that forwards to the default one; only functions whose result cannot be
** the same at build time and at run time are replaced, by ones that compute
** what SQLite's would and take a note.
*/
#include "purity.h"

#include "diag.h"
#include "sqlmig.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* last_insert_rowid() at the start of each migration, so that a read before
** the migration's own first insert shows. */
#define ROWID_UNSET (INT64_MIN + 0x53514C4D)

static const char why_clock[] =
    "reads the clock ('now', CURRENT_TIMESTAMP or CURRENT_DATE or CURRENT_TIME, a "
    "date function without a time value): what it writes depends on when it runs";
static const char why_random[] =
    "calls random() or randomblob(): what it writes differs on every run";
static const char why_zone[] =
    "uses the 'localtime' or 'utc' modifier: what it writes depends on the time zone "
    "of the machine it runs on";
static const char why_rowid[] =
    "reads last_insert_rowid() before inserting a row itself: at run time that is "
    "the rowid of the insert before it on the connection, such as a ledger row";
static const char why_changes[] =
    "reads changes() or total_changes() before changing a row itself: at run time "
    "that counts what the connection did before it";
static const char why_version[] =
    "asks which SQLite runs it (sqlite_version(), sqlite_source_id(), "
    "sqlite_compileoption_*()): the program may run with another one";
static const char why_notx[] =
    "runs outside a transaction (-- sqlmig:no-transaction): VACUUM, journal_mode "
    "and the like act on the file, which a snapshot created in one transaction cannot "
    "repeat";

void purity_note(struct purity *p, const struct tool_migration *m, size_t at, const char *why)
{
    if (p->why[0])
        return;
    snprintf(p->why, sizeof p->why, "%s", why);
    p->where = m;
    p->line = p->col = 0;
    if (m && at != (size_t)-1)
        diag_position(m->up, at < m->up_len ? at : m->up_len, m->up_line, &p->line, &p->col);
}

static struct purity *of_vfs(sqlite3_vfs *vfs)
{
    return (struct purity *)(void *)((char *)vfs - offsetof(struct purity, vfs));
}

static struct purity *of_context(sqlite3_context *cx)
{
    return sqlite3_user_data(cx);
}

/* While a migration runs, reading the clock is a note. */
static void clock_read(struct purity *p)
{
    if (p->m)
        purity_note(p, p->m, p->at, why_clock);
}

static int clock_int64(sqlite3_vfs *vfs, sqlite3_int64 *t)
{
    sqlite3_vfs *real = sqlite3_vfs_find(NULL);
    clock_read(of_vfs(vfs));
    return real->xCurrentTimeInt64(real, t);
}

static int clock_double(sqlite3_vfs *vfs, double *t)
{
    sqlite3_vfs *real = sqlite3_vfs_find(NULL);
    clock_read(of_vfs(vfs));
    return real->xCurrentTime(real, t);
}

static void fn_random(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    sqlite3_int64 r;
    struct purity *p = of_context(cx);

    (void)argc;
    (void)argv;
    purity_note(p, p->m, p->at, why_random);
    sqlite3_randomness(sizeof r, &r);
    sqlite3_result_int64(cx, r);
}

static void fn_randomblob(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    struct purity *p = of_context(cx);
    sqlite3_int64 n = sqlite3_value_int64(argv[0]);
    unsigned char *b;

    (void)argc;
    purity_note(p, p->m, p->at, why_random);
    if (n < 1)
        n = 1;
    if (n > sqlite3_limit(sqlite3_context_db_handle(cx), SQLITE_LIMIT_LENGTH, -1)) {
        sqlite3_result_error_toobig(cx);
        return;
    }
    if (!(b = sqlite3_malloc64((sqlite3_uint64)n))) {
        sqlite3_result_error_nomem(cx);
        return;
    }
    sqlite3_randomness((int)n, b);
    sqlite3_result_blob64(cx, b, (sqlite3_uint64)n, sqlite3_free);
}

static void fn_last_insert_rowid(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    struct purity *p = of_context(cx);
    sqlite3_int64 v = sqlite3_last_insert_rowid(sqlite3_context_db_handle(cx));

    (void)argc;
    (void)argv;
    if (v == ROWID_UNSET) {
        purity_note(p, p->m, p->at, why_rowid);
        v = p->rowid_before; /* what SQLite's own would have said */
    }
    sqlite3_result_int64(cx, v);
}

static void fn_changes(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    struct purity *p = of_context(cx);
    sqlite3 *db = sqlite3_context_db_handle(cx);

    (void)argc;
    (void)argv;
    if (sqlite3_total_changes64(db) == p->changes_at_start)
        purity_note(p, p->m, p->at, why_changes);
    sqlite3_result_int64(cx, sqlite3_changes64(db));
}

static void fn_total_changes(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    struct purity *p = of_context(cx);

    (void)argc;
    (void)argv;
    purity_note(p, p->m, p->at, why_changes);
    sqlite3_result_int64(cx, sqlite3_total_changes64(sqlite3_context_db_handle(cx)));
}

static void fn_sqlite_version(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    struct purity *p = of_context(cx);

    (void)argc;
    (void)argv;
    purity_note(p, p->m, p->at, why_version);
    sqlite3_result_text(cx, sqlite3_libversion(), -1, SQLITE_STATIC);
}

static void fn_sqlite_source_id(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    struct purity *p = of_context(cx);

    (void)argc;
    (void)argv;
    purity_note(p, p->m, p->at, why_version);
    sqlite3_result_text(cx, sqlite3_sourceid(), -1, SQLITE_STATIC);
}

static void fn_compileoption_used(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    struct purity *p = of_context(cx);
    const char *name = (const char *)sqlite3_value_text(argv[0]);

    (void)argc;
    purity_note(p, p->m, p->at, why_version);
    if (name)
        sqlite3_result_int(cx, sqlite3_compileoption_used(name));
}

static void fn_compileoption_get(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    struct purity *p = of_context(cx);
    const char *opt = sqlite3_compileoption_get(sqlite3_value_int(argv[0]));

    (void)argc;
    purity_note(p, p->m, p->at, why_version);
    if (opt)
        sqlite3_result_text(cx, opt, -1, SQLITE_STATIC);
}

/* The replaced functions, with SQLite's own argument counts and flags. */
static const struct {
    const char *name;
    int args;
    int flags;
    void (*fn)(sqlite3_context *, int, sqlite3_value **);
} replaced[] = {
    { "random", 0, 0, fn_random },
    { "randomblob", 1, 0, fn_randomblob },
    { "last_insert_rowid", 0, 0, fn_last_insert_rowid },
    { "changes", 0, 0, fn_changes },
    { "total_changes", 0, 0, fn_total_changes },
    { "sqlite_version", 0, SQLITE_DETERMINISTIC, fn_sqlite_version },
    { "sqlite_source_id", 0, SQLITE_DETERMINISTIC, fn_sqlite_source_id },
    { "sqlite_compileoption_used", 1, SQLITE_DETERMINISTIC, fn_compileoption_used },
    { "sqlite_compileoption_get", 1, SQLITE_DETERMINISTIC, fn_compileoption_get },
};

int purity_open(struct purity *p, sqlite3 **db)
{
    sqlite3_vfs *real = sqlite3_vfs_find(NULL);
    size_t i;

    *db = NULL;
    if (!real || real->iVersion < 2 || !real->xCurrentTimeInt64)
        return SQLITE_ERROR;
    p->vfs = *real;
    p->vfs.zName = "sqlmig-purity";
    p->vfs.pNext = NULL;
    p->vfs.xCurrentTime = clock_double;
    p->vfs.xCurrentTimeInt64 = clock_int64;
    if (sqlite3_vfs_register(&p->vfs, 0) != SQLITE_OK)
        return SQLITE_ERROR;
    p->registered = 1;
    if (sqlite3_open_v2(":memory:", db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, p->vfs.zName)
        != SQLITE_OK)
        return SQLITE_ERROR;
    for (i = 0; i < sizeof replaced / sizeof replaced[0]; i++)
        if (sqlite3_create_function(*db, replaced[i].name, replaced[i].args,
                                    SQLITE_UTF8 | replaced[i].flags, p, replaced[i].fn, NULL,
                                    NULL) != SQLITE_OK)
            return SQLITE_ERROR;
    return SQLITE_OK;
}

void purity_close(struct purity *p, sqlite3 *db)
{
    sqlite3_close(db);
    if (p->registered)
        sqlite3_vfs_unregister(&p->vfs);
    p->registered = 0;
}

/* Is `word` (lower case) at text[i], between two quotes of the same kind? */
static int quoted_word(const char *text, size_t len, size_t i, const char *word)
{
    size_t n = strlen(word);
    char q = text[i];

    return i + n + 1 < len && sqlite3_strnicmp(text + i + 1, word, (int)n) == 0
           && text[i + n + 1] == q;
}

void purity_begin(struct purity *p, sqlite3 *db, const struct tool_migration *m)
{
    size_t i;

    p->m = m;
    p->at = 0;
    if (m->flags & SQLMIG_NO_TRANSACTION)
        purity_note(p, m, (size_t)-1, why_notx);
    /* A modifier can only come as a string: look for it in the text. */
    for (i = 0; i < m->up_len && !p->why[0]; i++)
        if ((m->up[i] == '\'' || m->up[i] == '"')
            && (quoted_word(m->up, m->up_len, i, "localtime") || quoted_word(m->up, m->up_len, i, "utc")))
            purity_note(p, m, i, why_zone);
    if (sqlite3_last_insert_rowid(db) != ROWID_UNSET) /* else no insert since */
        p->rowid_before = sqlite3_last_insert_rowid(db);
    sqlite3_set_last_insert_rowid(db, ROWID_UNSET);
    p->changes_at_start = sqlite3_total_changes64(db);
}

void purity_statement(struct purity *p, size_t at)
{
    p->at = at;
}

void purity_pragma(struct purity *p, const char *name, const char *value)
{
    /* Settings kept in the file's header or layout rather than in its schema. */
    static const char *const shaping[] = { "page_size", "encoding", "auto_vacuum",
                                           "writable_schema", "schema_version",
                                           "legacy_file_format" };
    char why[200];
    size_t i;

    if (!name || !value)
        return;
    if (sqlite3_stricmp(name, "user_version") == 0)
        p->sets_user_version = 1;
    else if (sqlite3_stricmp(name, "application_id") == 0)
        p->sets_application_id = 1;
    for (i = 0; i < sizeof shaping / sizeof shaping[0]; i++)
        if (sqlite3_stricmp(name, shaping[i]) == 0) {
            snprintf(why, sizeof why, "sets PRAGMA %s, which shapes the file rather than its "
                     "schema and rows: a snapshot does not carry it", shaping[i]);
            purity_note(p, p->m, p->at, why);
        }
}
