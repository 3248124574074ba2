/*
** sqlmig.c — the sqlmig runtime: applies the migrations embedded in a program
** (a struct sqlmig_set written by `sqlmig compile`) to a SQLite database,
** records them in a ledger table, and reports status, drift and interrupted
** migrations. sqlmig.h is the manual.
**
** Depends on C11 and SQLite only. No global mutable state, nothing printed,
** no heap allocation of its own: SQL text and messages are built in stack
** buffers. Every call but the up-to-date one works on a connection of its
** own (open_own()), so nothing of the caller's connection reaches a
** migration and nothing of a migration reaches it. The ledger and the set
** are both sorted by version, so every check is one merge walk over one
** query (walk()). In this file, in order: messages; statements of ours;
** sqlmig's connection; the ledger; the statement runner (every migration,
** and the snapshot, runs through run()); sqlmig_migrate(); the other calls.
*/
#include "sqlmig.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__GNUC__)
#define PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF(f, a)
#endif

/* Statements on the ledger: prepare() puts its quoted name in place of '@'. */
#define NOW "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
#define LEDGER_COLUMNS                                                        \
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, " \
    "applied_at TEXT NOT NULL, execution_ms INTEGER NOT NULL"
#define CREATE_LEDGER "CREATE TABLE IF NOT EXISTS main.@(" LEDGER_COLUMNS ")"
#define OWN_TABLE "give sqlmig its own table with sqlmig_options.table"
#define HEX "0123456789abcdef"
/* exec() binds ?1 version, ?2 execution_ms, ?3 name, ?4 checksum. */
#define INSERT_ROW                                                            \
    "INSERT INTO main.@(version, execution_ms, name, checksum, applied_at) " \
    "VALUES(?1, ?2, ?3, ?4, " NOW ")"
#define READ_LEDGER "SELECT version, checksum, execution_ms, name, applied_at FROM main.@"
#define UPDATE_ROW                                                            \
    "UPDATE main.@ SET execution_ms = ?2, applied_at = " NOW " WHERE version = ?1"

/*
** The table of repeatable migrations, "<ledger>_repeatable": one row per
** name, the checksum it last ran with. '#' is its quoted name.
*/
#define REPEATABLE_COLUMNS                                                     \
    "name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL, " \
    "execution_ms INTEGER NOT NULL"
#define CREATE_REPEATABLE "CREATE TABLE IF NOT EXISTS main.#(" REPEATABLE_COLUMNS ")"
#define READ_REPEATABLE "SELECT name, checksum, execution_ms, applied_at FROM main.# ORDER BY name"
#define WRITE_REPEATABLE                                                        \
    "INSERT OR REPLACE INTO main.#(name, checksum, applied_at, execution_ms) " \
    "VALUES(?3, ?4, " NOW ", ?2)"

/*
** sqlmig's connection before every migration: SQLite's documented defaults
** for each setting that changes what SQL does, whatever this SQLite was
** compiled with and whatever the migration before set.
*/
#define BASELINE                                                                          \
    "PRAGMA foreign_keys=0;PRAGMA recursive_triggers=0;PRAGMA case_sensitive_like=0;"     \
    "PRAGMA legacy_alter_table=0;PRAGMA reverse_unordered_selects=0;PRAGMA query_only=0;" \
    "PRAGMA ignore_check_constraints=0;PRAGMA defer_foreign_keys=0;"                      \
    "PRAGMA writable_schema=0;PRAGMA trusted_schema=1;PRAGMA automatic_index=1;"           \
    "PRAGMA locking_mode=NORMAL"

/* What every call has: the connections, the options, where results go. */
struct call {
    sqlite3 *db;    /* the connection in use: sqlmig's own once open_own() ran */
    sqlite3 *host;  /* the caller's */
    const struct sqlmig_set *set;
    const sqlmig_options *o;
    sqlmig_result *res;
    const char *table; /* the ledger's name as given */
    const struct sqlmig_migration *cur; /* being applied, or next: a failure names it */
    int wait_ms;       /* busy timeout of sqlmig's connection */
    int copy;          /* db is a private copy of the caller's in-memory database */
    int wrote;         /* a COMMIT of ours succeeded (on a copy: copy it back) */
    int logged;        /* the error was logged already */
    int host_error;    /* HOST_CANNOT_READ: the SQLite code of that read */
    char qt[404];      /* the ledger's name, quoted: "name" with " doubled */
    char rtable[212];  /* the table of repeatable migrations: "<table>_repeatable" */
    char qr[428];      /* its name, quoted */
};

/*
** Internal states: what one function of this file tells another, below
** every SQLMIG_ result code (all >= 0), so that none is mistaken for one or
** reaches a caller.
*/
enum {
    LEDGER_APPEARED = -1, /* missing(): the ledger is there now; prepare again */
    HOST_CANNOT_READ = -2 /* the caller's connection could not read sqlmig's tables
                          ** (none yet, or a lock): sqlmig's own connection will */
};

/* ---- messages ------------------------------------------------------------ */

/*
** Fill res with a failure about migration m (NULL: none). The message is
** the cause, after "file: " when at is 0, or "file:line:col: " when at is a
** line (the column in res->column); append() may add to it.
*/
static int PRINTF(5, 6)
fail_at(struct call *c, int code, const struct sqlmig_migration *m, int at, const char *fmt, ...)
{
    sqlmig_result *r = c->res;
    size_t n = 0;
    va_list ap;

    r->code = code;
    r->version = m ? m->version : 0;
    r->name = m ? m->name : NULL;
    r->file = m ? m->file : NULL;
    r->line = at > 0 ? at : 0;
    if (at <= 0)
        r->column = 0;
    r->sqlite_code = 0;
    if (m && at >= 0)
        n = (size_t)(at ? snprintf(r->message, 320, "%.280s:%d:%d: ", m->file, at, r->column)
                        : snprintf(r->message, 320, "%.280s: ", m->file));
    va_start(ap, fmt);
    vsnprintf(r->message + n, sizeof r->message - n, fmt, ap);
    va_end(ap);
    r->cause_at = n;
    r->cause_len = strlen(r->message + n);
    return code;
}

/* A failure whose message is the cause alone. */
#define fail(c, code, m, ...) fail_at(c, code, m, -1, __VA_ARGS__)

/* Add to the message already in res (a consequence, a piece of advice). */
static void PRINTF(2, 3) append(struct call *c, const char *fmt, ...)
{
    size_t n = strlen(c->res->message);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->res->message + n, sizeof c->res->message - n, fmt, ap);
    va_end(ap);
}

/* Names from the database or the options may hold anything: a control
** character must not start a line of its own in a log. */
static void printable(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

static void PRINTF(3, 4) log_line(struct call *c, int level, const char *fmt, ...)
{
    char line[1280];
    va_list ap;

    if (!c->o->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printable(line);
    c->o->log(c->o->log_ctx, level, line);
}

/* What to do about a cause that lies in the environment, not in the SQL:
** an extended code first, then primary codes. */
static const struct {
    int code;
    const char *text;
} advices[] = {
    { SQLITE_READONLY_DIRECTORY, " (SQLite must create a file next to the database, its journal or its WAL "
                                 "index, and that folder is read-only: make it writable by this process)" },
    { SQLITE_FULL, " (free disk space, or raise PRAGMA max_page_count, then run again)" },
    { SQLITE_IOERR, " (the disk or file system failed: check it, then run again)" },
    { SQLITE_READONLY, " (make the database file and its folder writable by this process, and open it read-write)" },
    { SQLITE_CANTOPEN, " (check that the database's folder exists and that this process may create files in it)" },
    { SQLITE_NOTADB, " (it is not a SQLite database, or it is encrypted: check the path)" },
    { SQLITE_CORRUPT, " (the database file is damaged: restore it from a backup)" },
};

static const char *advice(int sqlite_code)
{
    size_t i;

    for (i = 0; i < sizeof advices / sizeof advices[0]; i++)
        if (advices[i].code == sqlite_code || advices[i].code == (sqlite_code & 0xff))
            return advices[i].text;
    return "";
}

/* A locked or read-only database is nobody's fault: say so in the code. */
static int code_of(int sqlite_code, int otherwise)
{
    return (sqlite_code & 0xff) == SQLITE_BUSY       ? SQLMIG_BUSY
         : (sqlite_code & 0xff) == SQLITE_READONLY   ? SQLMIG_READONLY
                                                     : otherwise;
}

/*
** A SQLite error outside any migration's SQL; `what` names the operation.
** While a migration is being applied, the message names it: its BEGIN, its
** ledger row or its COMMIT failed.
*/
static int sqlite_failed(struct call *c, int rc, const char *what)
{
    const struct sqlmig_migration *m = c->cur;
    int code = code_of(rc, SQLMIG_SQLITE);

    fail_at(c, code, m, 0, "%s: %s", what, sqlite3_errmsg(c->db));
    c->res->sqlite_code = sqlite3_extended_errcode(c->db);
    if (code == SQLMIG_BUSY)
        append(c, " (another connection held it longer than the busy timeout of %d ms: "
               "retry, or raise busy_timeout_ms)", c->wait_ms);
    else
        append(c, "%s", advice(c->res->sqlite_code));
    return code;
}

/*
** A read of sqlmig's tables failed. On the caller's connection a table
** that is not there yet (SQLITE_ERROR) or a lock is no failure: the call
** goes on to its own connection, which looks closer.
*/
static int read_failed(struct call *c, int rc, const char *what)
{
    int x = sqlite3_extended_errcode(c->db);

    if (c->db != c->host || ((x & 0xff) != SQLITE_ERROR && (x & 0xff) != SQLITE_BUSY && (x & 0xff) != SQLITE_LOCKED))
        return sqlite_failed(c, rc, what);
    c->host_error = x;
    return HOST_CANNOT_READ;
}

static const char *text_of(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "NULL";
}

static int64_t now_ms(void)
{
    struct timespec ts;
    if (!timespec_get(&ts, TIME_UTC))
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Never negative: -1 in the ledger means "started, not finished". */
static int64_t since(int64_t t)
{
    int64_t ms = now_ms() - t;
    return ms < 0 ? 0 : ms;
}

/* ---- statements of ours ---------------------------------------------------- */

/* Prepare sql with the quoted ledger name in place of its '@', or that of
** the table of repeatable migrations in place of its '#', if any. */
static int prepare(struct call *c, const char *sql, sqlite3_stmt **st)
{
    const char *at = strchr(sql, '@'), *name = c->qt;
    char buf[768];

    if (!at && (at = strchr(sql, '#')) != NULL)
        name = c->qr;
    if (at) {
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - sql), sql, name, at + 1);
        sql = buf;
    }
    return sqlite3_prepare_v2(c->db, sql, -1, st, NULL);
}

static int missing(struct call *c, int rc, const char *what, int final);

/*
** Run one statement of ours to its end, binding ?1 v, ?2 ms, ?3 m's name and
** ?4 m's checksum where present. A query (out given) stores the first column
** of its first row in *out (unchanged if no row). A statement on the ledger
** that does not prepare asks missing() whether the ledger is gone.
*/
static int exec(struct call *c, const struct sqlmig_migration *m, const char *what, const char *sql,
                int64_t v, int64_t ms, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(c, sql, &st), i, n;

    if (rc != SQLITE_OK && !out) {
        if ((rc = missing(c, rc, what, 1)) != 0)
            return rc;
        /* Only sqlmig_resolve() finds no ledger: a migration cannot drop it. */
        return fail(c, SQLMIG_TARGET, NULL, "there is no ledger table %s", c->qt);
    }
    n = rc == SQLITE_OK ? sqlite3_bind_parameter_count(st) : 0;
    for (i = 1; i <= n && rc == SQLITE_OK; i++) /* ?3 and ?4 only in statements that have m */
        rc = i <= 2 ? sqlite3_bind_int64(st, i, i == 1 ? v : ms)
           : m      ? sqlite3_bind_text(st, i, i == 3 ? m->name : m->checksum, -1, SQLITE_STATIC)
                    : SQLITE_MISUSE;
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && out) {
            *out = sqlite3_column_int64(st, 0);
            out = NULL; /* the first row only */
        }
    }
    rc = rc == SQLITE_DONE ? 0 : sqlite_failed(c, rc, what);
    sqlite3_finalize(st);
    return rc;
}

static int simple(struct call *c, const char *sql)
{
    return exec(c, NULL, sql, sql, 0, 0, NULL);
}

/* The first column of the first row of sql (with ?1 bound to v, if any). */
static int query_int(struct call *c, const char *sql, int64_t v, int64_t *out)
{
    return exec(c, NULL, sql, sql, v, 0, out);
}

/*
** Run, one at a time, the statements that the query `gen` writes (the first
** column of its first row), until it writes none: the DROPs or DETACHes of
** what a migration left. One at a time, since a schema cannot change under
** the query that reads it.
*/
static int drain(struct call *c, const char *gen)
{
    sqlite3_stmt *st;
    char sql[640];
    int rc, n;

    for (;;) {
        st = NULL;
        if ((rc = sqlite3_prepare_v2(c->db, gen, -1, &st, NULL)) == SQLITE_OK)
            rc = sqlite3_step(st);
        n = rc == SQLITE_ROW ? snprintf(sql, sizeof sql, "%s", text_of(st, 0)) : 0;
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            return 0;
        if (rc != SQLITE_ROW)
            return sqlite_failed(c, rc, "clean up after a migration");
        if ((size_t)n >= sizeof sql)
            return fail(c, SQLMIG_MISUSE, NULL, "a migration left an object whose name is too long to drop: %.80s", sql);
        /* Not through prepare(): the name may hold an '@' or a '#'. */
        if ((rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL)) != SQLITE_OK)
            return sqlite_failed(c, rc, "clean up after a migration");
    }
}

/* ---- sqlmig's connection ---------------------------------------------------- */

/* Append `sep` (unless 0), then s with what a URI would read in it escaped,
** to the URI of 1024 bytes being built in uri[*n]. */
static void uri_put(char *uri, size_t *n, char sep, const char *s)
{
    if (sep && *n + 4 < 1024)
        uri[(*n)++] = sep;
    for (; *s && *n + 4 < 1024; s++)
        *n += (size_t)snprintf(uri + *n, 1024 - *n, strchr("%?#&=", *s) ? "%%%02X" : "%c", (unsigned char)*s);
    uri[*n] = '\0';
}

/* Copy the main database of `from` over that of `to` (an in-memory one). */
static int copy(sqlite3 *to, sqlite3 *from)
{
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    int rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(to);

    return sqlite3_backup_finish(b) == SQLITE_OK && rc == SQLITE_DONE ? SQLITE_OK : rc ? rc : SQLITE_ERROR;
}

static int baseline(struct call *c)
{
    int rc = sqlite3_exec(c->db, BASELINE, NULL, NULL, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(c->db, c->wait_ms);
    return rc == SQLITE_OK ? 0 : sqlite_failed(c, rc, "set sqlmig's connection to its baseline");
}

/*
** Open sqlmig's connection to the caller's main database: the same file
** through the same VFS, with the same URI parameters (a cipher's key, a
** VFS's options); or, for an in-memory or temporary database, which no
** other connection can open, a private in-memory copy that close_own()
** copies back. Then its baseline, and options->connect.
*/
static int open_own(struct call *c)
{
    sqlite3_vfs *vfs = NULL;
    sqlite3 *own = NULL;
    const char *f = sqlite3_db_filename(c->host, "main"), *name = f, *k;
    char uri[1024];
    size_t n = 0;
    /* CREATE as sqlite3_open() gives it: a migration may ATTACH a new file. */
    int i, rc, flags = SQLITE_OPEN_EXRESCODE | (sqlite3_db_readonly(c->host, "main") == 1
                                                ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);

    if (sqlite3_file_control(c->host, "main", SQLITE_FCNTL_VFS_POINTER, &vfs) != SQLITE_OK || !vfs
        || sqlite3_vfs_find(vfs->zName) != vfs)
        return fail(c, SQLMIG_MISUSE, NULL, "the connection's VFS is not a registered one (sqlite3_vfs_register), "
                    "so sqlmig cannot open its own connection to the database");
    c->copy = !f || !*f;
    if (c->copy) {
        name = ":memory:";
        flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_EXRESCODE;
    } else if (sqlite3_uri_key(f, 0)) { /* file:PATH?k=v&k=v */
        memcpy(uri, "file:", 6);
        n = 5;
        uri_put(uri, &n, 0, f);
        for (i = 0; (k = sqlite3_uri_key(f, i)) != NULL; i++) {
            uri_put(uri, &n, i ? '&' : '?', k);
            uri_put(uri, &n, '=', sqlite3_uri_parameter(f, k));
        }
        if (n + 4 >= sizeof uri)
            return fail(c, SQLMIG_MISUSE, NULL, "the database's name and URI parameters are too long for sqlmig "
                        "to open its own connection (%zu bytes or more)", n);
        name = uri;
        flags |= SQLITE_OPEN_URI;
    }
    rc = sqlite3_open_v2(name, &own, flags, c->copy ? NULL : vfs->zName);
    if (rc != SQLITE_OK) {
        fail(c, code_of(rc, SQLMIG_SQLITE), NULL, "sqlmig cannot open its own connection to the database: %s",
             own ? sqlite3_errmsg(own) : "out of memory");
        c->res->sqlite_code = rc;
        append(c, "%s", advice(rc));
        sqlite3_close(own);
        return code_of(rc, SQLMIG_SQLITE);
    }
    c->db = own;
    /* Double-quoted strings as in SQLite's default build: a history relies on them. */
    sqlite3_db_config(own, SQLITE_DBCONFIG_DQS_DDL, 1, (int *)NULL);
    sqlite3_db_config(own, SQLITE_DBCONFIG_DQS_DML, 1, (int *)NULL);
    if ((rc = baseline(c)) != 0)
        return rc;
    if (c->copy && (rc = copy(own, c->host)) != SQLITE_OK)
        return sqlite_failed(c, rc, "copy the in-memory database to sqlmig's connection");
    if (c->o->connect && c->o->connect(c->o->hook_ctx, own) != 0)
        return fail(c, SQLMIG_ABORTED, NULL, "the connect callback refused sqlmig's connection");
    return 0;
}

/* Close sqlmig's connection, copying an in-memory database back first. */
static int close_own(struct call *c, int rc)
{
    int r;

    if (c->db == c->host)
        return rc;
    if (c->copy && c->wrote) {
        r = copy(c->host, c->db);
        if (r != SQLITE_OK && rc == 0) {
            fail(c, SQLMIG_SQLITE, NULL, "copy the migrated in-memory database back to the caller's connection: %s",
                 sqlite3_errstr(r));
            rc = SQLMIG_SQLITE;
        }
    }
    sqlite3_close_v2(c->db);
    c->db = c->host;
    return rc;
}

/* Every call ends here: sqlmig's connection closed, the error said once. */
static int end_call(struct call *c, int rc)
{
    rc = close_own(c, rc);
    c->res->code = rc;
    printable(c->res->message);
    if (rc && !c->logged)
        log_line(c, SQLMIG_LOG_ERROR, "%s", c->res->message);
    return rc;
}

/* ---- the ledger ------------------------------------------------------------- */

/*
** What has the ledger's name, in one query. The inner SELECT gives its type;
** its columns as declared (for an index, its SQL); and whether sqlmig can
** use it: a table whose version and execution_ms have INTEGER affinity
** (their type contains INT) and whose name, checksum and applied_at have
** TEXT affinity (CHAR, CLOB or TEXT, no INT), so that what sqlmig writes
** reads back the same; version alone is the primary key; any other column
** can be left out of sqlmig's insert (nullable or with a default, not in the
** key). The outer SELECT says what it is, and names another tool only when
** the columns are that tool's own in SQLite (for Flyway, its first three).
*/
#define SHAPE                                                                                  \
    "SELECT ok, 'the ' || type || ' \"' || replace(?1, '\"', '\"\"') || '\" has ' || "           \
    "substr(d, 1, 500) || ' and ' || coalesce('looks like ' || CASE "                            \
    "WHEN d = 'columns (version varchar(128) PRIMARY KEY)' THEN 'dbmate' "                       \
    "WHEN d = 'columns (version uint64, dirty bool)' THEN 'golang-migrate' "                     \
    "WHEN d = 'columns (id INTEGER PRIMARY KEY, version_id INTEGER NOT NULL, is_applied INTEGER " \
    "NOT NULL, tstamp TIMESTAMP)' THEN 'goose' "                                                 \
    "WHEN d GLOB 'columns (installed_rank INT PRIMARY KEY NOT NULL, version VARCHAR(50), "       \
    "description VARCHAR(200) NOT NULL,*' THEN 'Flyway' "                                         \
    "WHEN d = 'columns (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on "     \
    "TIMESTAMP NOT NULL, success BOOLEAN NOT NULL, checksum BLOB NOT NULL, execution_time "      \
    "BIGINT NOT NULL)' THEN 'sqlx' END || '''s ledger, not sqlmig''s', "                          \
    "'is not a sqlmig ledger, which is a table (" LEDGER_COLUMNS ")') || ': " OWN_TABLE "' "    \
    "FROM (SELECT s.type AS type, coalesce('columns (' || (SELECT group_concat(name || "          \
    "iif(type <> '', ' ' || type, '') || iif(pk, ' PRIMARY KEY', '') || iif(\"notnull\", "      \
    "' NOT NULL', ''), ', ') FROM pragma_table_info(?1, 'main')) || ')', "                       \
    "'the definition (' || s.sql || ')') AS d, "                                                 \
    "s.type = 'table' AND (SELECT sum(lower(name) IN ('version', 'execution_ms', 'name', "        \
    "'checksum', 'applied_at')) = 5 AND min(CASE "                                                \
    "WHEN lower(name) IN ('version', 'execution_ms') THEN instr(upper(type), 'INT') > 0 "         \
    "AND pk = (lower(name) = 'version') "                                                         \
    "WHEN lower(name) IN ('name', 'checksum', 'applied_at') THEN pk = 0 AND "                     \
    "instr(upper(type), 'INT') = 0 AND (instr(upper(type), 'CHAR') OR instr(upper(type), 'CLOB') " \
    "OR instr(upper(type), 'TEXT')) "                                                             \
    "ELSE pk = 0 AND (dflt_value IS NOT NULL OR NOT \"notnull\") END) "                           \
    "FROM pragma_table_info(?1, 'main')) AS ok "                                                  \
    "FROM main.sqlite_schema AS s WHERE s.name = ?1 COLLATE NOCASE AND s.type <> 'trigger')"

/* What check_shape() makes of a table it finds: only found (another
** process may be creating it), or one that sqlmig must be able to use. */
enum shape_rule { SHAPE_FOUND, SHAPE_USABLE };

/*
** Look at what has the name of one of sqlmig's tables (a trigger's name is
** another namespace) with `sql`, SHAPE or REPEATABLE_SHAPE, which gives a
** row (usable, what it is) when something has it. *found: 0 nothing has
** it; 1 something does; 2 a table sqlmig can use. Under SHAPE_FOUND anything
** found is only found (another process may have just created the ledger);
** otherwise one sqlmig cannot use is SQLMIG_LEDGER, with a message that
** says what is there.
*/
static int check_shape(struct call *c, const char *sql, const char *name, enum shape_rule rule, int *found)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);

    *found = 0;
    if (rc == SQLITE_OK && (rc = sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC)) == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc != SQLITE_ROW)
        rc = sqlite_failed(c, rc, "read the ledger");
    else if ((*found = 1 + sqlite3_column_int(st, 0)) == 2 || rule == SHAPE_FOUND)
        rc = 0;
    else
        rc = fail(c, SQLMIG_LEDGER, NULL, "%s", text_of(st, 1));
    sqlite3_finalize(st);
    return rc;
}

static int ledger_shape(struct call *c, enum shape_rule rule, int *found)
{
    return check_shape(c, SHAPE, c->table, rule, found);
}

/*
** A statement on the ledger did not prepare. Either nothing has its name (a
** fresh database: return 0), or something sqlmig cannot use does (another
** tool's ledger: SQLMIG_LEDGER), or SQLite failed on a table that sqlmig can
** use (a trigger on it that names a dropped table, say: SQLite's message).
** Decided by looking in sqlite_schema, never by parsing SQLite's message.
** Unless `final`, a ledger that turns up is only *found: another process
** may have just created it, and the caller prepares again.
*/
static int missing(struct call *c, int rc, const char *what, int final)
{
    char err[256];
    int x = sqlite3_extended_errcode(c->db), found;

    if (rc != SQLITE_ERROR)
        return sqlite_failed(c, rc, what);
    snprintf(err, sizeof err, "%s", sqlite3_errmsg(c->db));
    if ((rc = ledger_shape(c, final ? SHAPE_USABLE : SHAPE_FOUND, &found)) != 0 || found == 0)
        return rc;
    if (!final)
        return LEDGER_APPEARED;
    fail(c, SQLMIG_SQLITE, NULL, "%s: %s", what, err);
    c->res->sqlite_code = x;
    return SQLMIG_SQLITE;
}

/* What a walk of the ledger found. */
struct survey {
    size_t pending, first; /* pending up to the target, and the index of the first */
    int64_t newest;        /* newest applied version */
    size_t unknown;        /* applied versions the set does not have (allowed) */
    const struct sqlmig_migration *started; /* marked started: being waited for */
    size_t repeat, repeat_first; /* repeatable migrations to run, and the index of the first */
    int stop;              /* a visitor has seen enough */
};

typedef int visit_fn(void *job, struct survey *w, const struct sqlmig_status_row *r);

/*
** Step the ledger query (version, checksum, execution_ms, name, applied_at).
** A row must hold what sqlmig writes: INTEGER in version and execution_ms,
** TEXT in the other three; a version of at least 1 and above the previous
** row's (*v on entry, 0 before the first row: ORDER BY leaves a repeat as
** the only way not to be), an execution_ms of at least -1.
*/
static int step_row(struct call *c, sqlite3_stmt *st, int64_t *v, int *row)
{
    static const char *const field[] = { "version", "checksum", "execution_ms", "name", "applied_at" };
    static const char *const want[] = { "each version once, as an INTEGER of at least 1", "TEXT",
                                        "an INTEGER of at least -2", "TEXT", "TEXT" };
    /* What a value of each type looks like in the message: TEXT '1', NULL. */
    static const char *const type[] = { "", "INTEGER ", "REAL ", "TEXT '", "BLOB", "NULL" };
    int rc = sqlite3_step(st), i, t = 0;
    int64_t x;

    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return read_failed(c, rc, "read the ledger");
    for (i = 0; i < 5; i++) {
        t = sqlite3_column_type(st, i); /* before any conversion */
        if (t != (i == 0 || i == 2 ? SQLITE_INTEGER : SQLITE_TEXT)
            || (t == SQLITE_INTEGER && ((x = sqlite3_column_int64(st, i)) < -2 || (i == 0 && x <= *v))))
            break;
    }
    if (i == 5) {
        *v = sqlite3_column_int64(st, 0);
        return 0;
    }
    return fail(c, SQLMIG_LEDGER, NULL, "the ledger table %s has a row that sqlmig did not write (version "
                "%.20s): its %s is %s%.80s%s, where sqlmig writes %s; correct or delete that row, or " OWN_TABLE,
                c->qt, text_of(st, 0), field[i], type[t], t < SQLITE_BLOB ? text_of(st, i) : "",
                t == SQLITE_TEXT ? "'" : "", want[i]);
}

/*
** Merge the ledger with the set from index `from`, both in version order,
** and pass each migration and each ledger row to visit() as a status row,
** until it returns an error or sets w->stop. A partial walk reads only
** versions >= the one at `from`. Without a ledger every migration is
** pending. On the caller's connection a statement that does not prepare is
** only an error: sqlmig's connection will look closer.
*/
static int walk(struct call *c, struct survey *w, size_t from, int partial, visit_fn *visit, void *job)
{
    const struct sqlmig_migration *m = c->set->migrations, *end = m;
    struct sqlmig_status_row r;
    sqlite3_stmt *st = NULL;
    int64_t v = 0; /* below every valid version: see step_row() */
    int rc, i, row = 0, in_ledger;

    if (c->set->count) { /* no arithmetic on a NULL array */
        m += from;
        end += c->set->count;
    }
    w->stop = 0;
    if (partial && m == end)
        return 0;
    /* Without a lock, the ledger may appear between two statements: if it is
    ** there after a failed prepare, prepare once more before judging it. */
    for (i = 0; (rc = prepare(c, partial ? READ_LEDGER " WHERE version >= ?1 ORDER BY version"
                                         : READ_LEDGER " ORDER BY version", &st)) != SQLITE_OK; i++) {
        if (c->db == c->host)
            return read_failed(c, rc, "read the ledger");
        if ((rc = missing(c, rc, "read the ledger", i)) != LEDGER_APPEARED)
            break;
    }
    if (rc == 0 && st) { /* else no ledger: everything is pending */
        if (partial && sqlite3_bind_int64(st, 1, m->version) != SQLITE_OK)
            rc = sqlite_failed(c, SQLITE_ERROR, "read the ledger");
        else
            rc = step_row(c, st, &v, &row);
    }
    while (rc == 0 && !w->stop && (row || m < end)) {
        memset(&r, 0, sizeof r);
        r.execution_ms = -1;
        in_ledger = row && (m == end || m->version >= v); /* else m is pending */
        if (in_ledger) {
            r.version = v;
            r.checksum = text_of(st, 1);
            r.execution_ms = sqlite3_column_int64(st, 2);
            r.name = text_of(st, 3);
            r.applied_at = text_of(st, 4);
            r.state = SQLMIG_NOT_IN_SET;
            if (v > w->newest && r.execution_ms != -1)
                w->newest = v;
        }
        if (m < end && (!in_ledger || m->version == v)) {
            r.version = m->version;
            r.name = m->name;
            r.migration = m;
            r.state = !in_ledger ? SQLMIG_PENDING : r.execution_ms == -1 ? SQLMIG_STARTED
                    : strcmp(r.checksum, m->checksum) ? SQLMIG_CHANGED : SQLMIG_APPLIED;
            m++;
        }
        if ((rc = visit(job, w, &r)) == 0 && in_ledger && !w->stop)
            rc = step_row(c, st, &v, &row);
    }
    sqlite3_finalize(st);
    return rc;
}

/*
** The table of repeatable migrations, for check_shape(): usable when it is a
** table with name alone the primary key; name, checksum and applied_at of
** TEXT affinity, execution_ms of INTEGER affinity; any other column
** nullable or with a default.
*/
#define REPEATABLE_SHAPE                                                                            \
    "SELECT s.type = 'table' AND (SELECT sum(lower(name) IN ('name', 'checksum', 'applied_at', "     \
    "'execution_ms')) = 4 AND min(CASE WHEN lower(name) = 'execution_ms' THEN pk = 0 AND "            \
    "instr(upper(type), 'INT') > 0 WHEN lower(name) IN ('name', 'checksum', 'applied_at') THEN "      \
    "pk = (lower(name) = 'name') AND instr(upper(type), 'INT') = 0 AND (instr(upper(type), 'CHAR') "   \
    "OR instr(upper(type), 'CLOB') OR instr(upper(type), 'TEXT')) ELSE pk = 0 AND "                   \
    "(dflt_value IS NOT NULL OR NOT \"notnull\") END) FROM pragma_table_info(?1, 'main')), "          \
    "'the ' || s.type || ' \"' || replace(?1, '\"', '\"\"') || '\" is not sqlmig''s table of repeatable " \
    "migrations, which is a table (" REPEATABLE_COLUMNS "): " OWN_TABLE "' "                         \
    "FROM main.sqlite_schema AS s WHERE s.name = ?1 COLLATE NOCASE AND s.type <> 'trigger'"

static int repeatable_shape(struct call *c, int *found)
{
    return check_shape(c, REPEATABLE_SHAPE, c->rtable, SHAPE_USABLE, found);
}

/* Step READ_REPEATABLE: a row must hold what sqlmig writes. */
static int step_repeatable(struct call *c, sqlite3_stmt *st, int *row)
{
    static const char *const field[] = { "name", "checksum", "execution_ms", "applied_at" };
    int rc = sqlite3_step(st), i;

    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return read_failed(c, rc, "read the table of repeatable migrations");
    for (i = 0; i < 4; i++)
        if (sqlite3_column_type(st, i) != (i == 2 ? SQLITE_INTEGER : SQLITE_TEXT)
            || (i == 2 && sqlite3_column_int64(st, i) < 0))
            break;
    if (i == 4)
        return 0;
    return fail(c, SQLMIG_LEDGER, NULL, "the table %s has a row that sqlmig did not write (name %.80s): its %s "
                "is not %s, as sqlmig writes it; correct or delete that row", c->qr, text_of(st, 0), field[i],
                i == 2 ? "an INTEGER of at least 0" : "TEXT");
}

/*
** Merge the table of repeatable migrations with the set's, both in name
** order, and pass each to visit() as a status row of version 0: PENDING
** when it never ran, OUTDATED when it last ran with another checksum,
** APPLIED, or NOT_IN_SET for a row of one the set no longer has. Without
** the table every one is pending; on the caller's connection a statement
** that does not prepare is only an error, as in walk().
*/
static int walk_repeatables(struct call *c, struct survey *w, visit_fn *visit, void *job)
{
    const struct sqlmig_migration *m = c->set->repeatables, *end = m;
    struct sqlmig_status_row r;
    sqlite3_stmt *st = NULL;
    int rc, i, d, row = 0, found;

    w->stop = 0;
    if (!c->set->repeatable_count)
        return 0;
    end += c->set->repeatable_count;
    /* As in walk(): a table that turns up after a failed prepare is read. */
    for (i = 0; (rc = prepare(c, READ_REPEATABLE, &st)) != SQLITE_OK; i++) {
        if (c->db == c->host || rc != SQLITE_ERROR || i)
            return read_failed(c, rc, "read the table of repeatable migrations");
        if ((rc = repeatable_shape(c, &found)) != 0 || !found)
            break;
    }
    if (rc == 0 && st)
        rc = step_repeatable(c, st, &row);
    while (rc == 0 && !w->stop && (row || m < end)) {
        memset(&r, 0, sizeof r);
        r.execution_ms = -1;
        d = !row ? -1 : m == end ? 1 : strcmp(m->name, text_of(st, 0));
        if (d >= 0) {
            r.name = text_of(st, 0);
            r.checksum = text_of(st, 1);
            r.execution_ms = sqlite3_column_int64(st, 2);
            r.applied_at = text_of(st, 3);
            r.state = SQLMIG_NOT_IN_SET;
        }
        if (d <= 0) {
            r.name = m->name;
            r.migration = m;
            r.state = d < 0 ? SQLMIG_PENDING : strcmp(r.checksum, m->checksum) ? SQLMIG_OUTDATED : SQLMIG_APPLIED;
            m++;
        }
        if ((rc = visit(job, w, &r)) == 0 && d >= 0 && !w->stop)
            rc = step_repeatable(c, st, &row);
    }
    sqlite3_finalize(st);
    return rc;
}

static int interrupted(struct call *c, const struct sqlmig_migration *m)
{
    long long v = m->version;
    return fail(c, SQLMIG_INTERRUPTED, m,
                "version %lld (%s) was started outside a transaction and has not finished: it is either "
                "still running in another process or was interrupted. Once no process is running "
                "it, check the database, then call sqlmig_resolve() with SQLMIG_RESOLVE_APPLIED "
                "if it completed or SQLMIG_RESOLVE_RETRY to run it again; in SQL: "
                "UPDATE %s SET execution_ms = 0 WHERE version = %lld, or "
                "DELETE FROM %s WHERE version = %lld", v, m->file, c->qt, v, c->qt, v);
}

/* An applied row that stops a migration: edited, unknown or unfinished. */
static int judge(struct call *c, struct survey *w, const struct sqlmig_status_row *r)
{
    const struct sqlmig_migration *m = r->migration;
    long long v = r->version;
    int sha;

    if (r->state == SQLMIG_CHANGED) {
        /* A stored value that is no SHA-256 was not written by sqlmig: the row was edited, not the file. */
        sha = strspn(r->checksum, HEX) == 64 && !r->checksum[64];
        return fail(c, SQLMIG_CHECKSUM, m, "version %lld %s (%s) was applied with checksum %.80s, but the "
                    "embedded migration has checksum %s: %s; if what ran was the embedded migration, "
                    "UPDATE %s SET checksum = '%s' WHERE version = %lld", v, m->name, m->file, r->checksum,
                    m->checksum, sha ? "an applied migration was edited; restore the file as it was applied and "
                                       "put the change in a new migration"
                    : "the stored one is not a SHA-256 (64 lowercase hex digits), so the ledger row was edited",
                    c->qt, m->checksum, v);
    }
    if (r->state == SQLMIG_STARTED)
        return interrupted(c, m);
    if (r->state == SQLMIG_NOT_IN_SET && !(c->o->flags & SQLMIG_ALLOW_UNKNOWN)) {
        fail(c, SQLMIG_UNKNOWN, NULL, "version %lld (%.200s) is applied but is not a migration of this "
             "program, probably applied by a newer build of it; SQLMIG_ALLOW_UNKNOWN accepts it",
             v, r->name);
        c->res->version = r->version;
        return SQLMIG_UNKNOWN;
    }
    w->unknown += r->state == SQLMIG_NOT_IN_SET;
    return 0;
}

/* ---- the schema at every version ------------------------------------------ */

/* FNV-1a, 64 bits: one byte into the hash. */
static uint64_t mix(uint64_t h, unsigned char b)
{
    return (h ^ b) * UINT64_C(0x100000001b3);
}

static int word_char(unsigned char ch)
{
    return ch >= 0x80 || ch == '_' || ch == '$' || (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z');
}

static unsigned char lower(unsigned char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch | 0x20) : ch;
}

uint64_t sqlmig_fingerprint(const char *type, const char *sql)
{
    const unsigned char *p = (const unsigned char *)(type ? type : "");
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    unsigned char close;

    while (*p)
        h = mix(h, *p++);
    for (p = (const unsigned char *)(sql ? sql : ""); *p;) {
        if (*p <= ' ') {
            p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++) {}
            p += *p ? 2 : 0;
        } else if (*p == '\'') { /* a string as written, '' included */
            h = mix(mix(h, 0), *p++);
            while (*p && !(*p == '\'' && p[1] != '\'')) {
                if (*p == '\'')
                    h = mix(h, *p++);
                h = mix(h, *p++);
            }
            if (*p)
                h = mix(h, *p++);
        } else if (*p == '"' || *p == '`' || *p == '[') { /* a quoted name: the name itself */
            close = *p == '[' ? ']' : *p;
            h = mix(mix(h, 0), 'w');
            for (p++; *p && !(*p == close && (close == ']' || p[1] != close)); p++) {
                if (*p == close)
                    p++; /* doubled: one of it */
                h = mix(h, lower(*p));
            }
            p += *p ? 1 : 0;
        } else if (word_char(*p)) { /* a keyword, a name or a number */
            h = mix(mix(h, 0), 'w');
            while (word_char(*p))
                h = mix(h, lower(*p++));
        } else {
            h = mix(mix(mix(h, 0), 'p'), *p++);
        }
    }
    return h ? h : 1;
}

static void fn_fingerprint(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    sqlite3_result_int64(cx, (sqlite3_int64)sqlmig_fingerprint((const char *)sqlite3_value_text(argv[0]),
                                                               (const char *)sqlite3_value_text(argv[1])));
}

/*
** The set's history and the live schema, side by side in two temp tables of
** sqlmig's connection, so that SQLite does the comparing (and sqlmig
** allocates nothing): sqlmig_change holds set->changes; sqlmig_live each
** object of the database (not SQLite's, not the ledger's, not one that a
** repeatable migration makes) with its fingerprint. Names compare as SQLite
** compares them, without regard to case.
*/
#define HISTORY_TABLES                                                                               \
    "CREATE TEMP TABLE sqlmig_change(step INTEGER, type TEXT, name TEXT COLLATE NOCASE, fp INTEGER);" \
    "CREATE TEMP TABLE sqlmig_live(type TEXT, name TEXT COLLATE NOCASE, fp INTEGER)"
#define FILL_LIVE                                                                                    \
    "INSERT INTO temp.sqlmig_live SELECT s.type, s.name, sqlmig_fingerprint(s.type, s.sql) "          \
    "FROM main.sqlite_schema AS s WHERE s.sql IS NOT NULL AND s.name NOT GLOB 'sqlite_*' "            \
    "AND s.tbl_name COLLATE NOCASE NOT IN (?1, ?2, ?4) AND NOT EXISTS (SELECT 1 FROM "               \
    "temp.sqlmig_change AS r WHERE r.step > ?3 AND r.type = s.type AND r.name = s.name) "             \
    "AND NOT (s.tbl_name COLLATE NOCASE IN (" OTHER_LEDGERS ") AND NOT EXISTS (SELECT 1 FROM "       \
    "temp.sqlmig_change AS x WHERE x.name = s.tbl_name))"
/* Other tools' ledgers, which no migration makes: never part of a schema compared. */
#define OTHER_LEDGERS                                                                                \
    "'schema_migrations', 'goose_db_version', '_sqlx_migrations', '__diesel_schema_migrations', "     \
    "'__drizzle_migrations', 'flyway_schema_history'"

/* Each object's changes, each valid from its step until the next one, up to
** step ?1 (set->count; count + 1 with the repeatable migrations). */
#define HISTORY                                                                                      \
    "WITH h AS (SELECT step, type, name, fp, lead(step, 1, ?1 + 1) OVER (PARTITION BY type, name "   \
    "ORDER BY step) AS until FROM temp.sqlmig_change AS c WHERE step <= ?1 AND NOT EXISTS (SELECT 1 " \
    "FROM temp.sqlmig_change AS r WHERE r.step > ?1 AND r.type = c.type AND r.name = c.name)) "
/* Where the size of the schema and the live objects it holds change, by step. */
#define HISTORY_EVENTS                                                                               \
    HISTORY ", m AS (SELECT h.step, h.until FROM h JOIN temp.sqlmig_live AS l ON l.type = h.type "    \
    "AND l.name = h.name AND l.fp = h.fp), e(at, size, hit) AS (SELECT step, 1, 0 FROM h WHERE "      \
    "fp <> 0 UNION ALL SELECT until, -1, 0 FROM h WHERE fp <> 0 UNION ALL SELECT step, 0, 1 FROM m "  \
    "UNION ALL SELECT until, 0, -1 FROM m) SELECT at, sum(size), sum(hit) FROM e GROUP BY at ORDER BY at"
/* The differences between the live schema and the schema after step ?2. */
#define HISTORY_DIFF                                                                                 \
    HISTORY ", a AS (SELECT type, name, fp FROM h WHERE step <= ?2 AND ?2 < until AND fp <> 0) "      \
    "SELECT l.type, l.name, 1 FROM temp.sqlmig_live AS l JOIN a ON a.type = l.type AND "             \
    "a.name = l.name WHERE a.fp <> l.fp UNION ALL SELECT l.type, l.name, 2 FROM temp.sqlmig_live "   \
    "AS l WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.type = l.type AND a.name = l.name) UNION ALL "   \
    "SELECT a.type, a.name, 0 FROM a WHERE NOT EXISTS (SELECT 1 FROM temp.sqlmig_live AS l WHERE "   \
    "l.type = a.type AND l.name = a.name) ORDER BY 1, 2"

/* Where the live schema stands in the history (find_step()). */
struct standing {
    int64_t live;     /* objects compared */
    size_t best;      /* the step with the fewest differences (the latest of them) */
    int64_t best_diff;
    size_t same;      /* steps whose schema is the live one */
    size_t first, last; /* the first and last of them */
};

/* The version after step k: 0 before the first migration. */
static int64_t version_at(const struct sqlmig_set *s, size_t k)
{
    return k ? s->migrations[k - 1].version : 0;
}

/*
** Load the history up to step `last` (count, or count + 1 to take in what
** the repeatable migrations make) and the live schema.
*/
static int history_load(struct call *c, size_t last, const char *also)
{
    const struct sqlmig_change *x;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_create_function(c->db, "sqlmig_fingerprint", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                     fn_fingerprint, NULL, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_exec(c->db, HISTORY_TABLES, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(c->db, "INSERT INTO temp.sqlmig_change VALUES(?1, ?2, ?3, ?4)", -1, &st, NULL);
    for (x = c->set->changes; rc == SQLITE_OK && x < c->set->changes + c->set->change_count; x++) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)x->step);
        sqlite3_bind_text(st, 2, x->type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, x->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)x->fingerprint);
        rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_reset(st) : sqlite3_errcode(c->db);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == SQLITE_OK && (rc = prepare(c, FILL_LIVE, &st)) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, c->table, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->rtable, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)last);
        sqlite3_bind_text(st, 4, also ? also : c->table, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(c->db);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : sqlite_failed(c, rc, "read the schema");
}

/* Leave sqlmig's connection as a migration must find it. */
static int history_drop(struct call *c)
{
    int rc = sqlite3_exec(c->db, "DROP TABLE temp.sqlmig_change; DROP TABLE temp.sqlmig_live", NULL, NULL, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(c->db, "sqlmig_fingerprint", 2, SQLITE_UTF8, NULL, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sqlite_failed(c, rc, "clean up after reading the schema");
}

/* Steps k to `to` (not included) differ in `diff` objects from the live schema. */
static void stand(struct standing *w, size_t k, size_t to, int64_t diff)
{
    if (k >= to)
        return;
    if (diff <= w->best_diff) {
        w->best_diff = diff;
        w->best = to - 1;
    }
    if (diff == 0) {
        if (!w->same)
            w->first = k;
        w->last = to - 1;
        w->same += to - k;
    }
}

/*
** For every step 0..count, how many objects differ between the live schema
** and the schema after that step: the live objects, plus the step's
** objects, minus twice those in both. Read as the points where those
** numbers change, in one query.
*/
static int find_step(struct call *c, struct standing *w)
{
    sqlite3_stmt *st = NULL;
    int64_t size = 0, hit = 0, at;
    size_t k = 0, n = c->set->count;
    int rc;

    memset(w, 0, sizeof *w);
    w->best_diff = INT64_MAX;
    if ((rc = query_int(c, "SELECT count(*) FROM temp.sqlmig_live", 0, &w->live)) != 0)
        return rc;
    rc = prepare(c, HISTORY_EVENTS, &st);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)n);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        at = sqlite3_column_int64(st, 0);
        stand(w, k, at > (int64_t)n ? n + 1 : (size_t)at, w->live + size - 2 * hit);
        k = at > (int64_t)n ? n + 1 : (size_t)at;
        size += sqlite3_column_int64(st, 1);
        hit += sqlite3_column_int64(st, 2);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return sqlite_failed(c, rc, "compare the schema with the set's history");
    stand(w, k, n + 1, w->live + size - 2 * hit);
    return 0;
}

/* Each difference, its message in c->res, as one of sqlmig's calls wants it. */
typedef void difference_fn(void *ctx, struct call *c);

/*
** The differences between the live schema and the schema after step k of
** the history loaded up to step `last`, in (type, name) order: each one
** passed to each(), worded for sqlmig_verify() (drift) or sqlmig_adopt()
** (the version). *n counts them.
*/
static int differences(struct call *c, size_t k, size_t last, int drift, difference_fn *each, void *ctx, int64_t *n)
{
    static const char *const verdict[2][3] = {
        { "is missing from", "differs from", "is not in" },
        { "is missing", "differs from the embedded schema", "is not in the embedded schema" },
    };
    sqlite3_stmt *st = NULL;
    int64_t v = version_at(c->set, k < c->set->count ? k : c->set->count);
    int rc = prepare(c, HISTORY_DIFF, &st), d;

    *n = 0;
    if (rc == SQLITE_OK && (rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)last)) == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, (sqlite3_int64)k);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        d = sqlite3_column_int(st, 2);
        if (drift)
            fail(c, SQLMIG_DRIFT, NULL, "drift: %s %s %s", text_of(st, 0), text_of(st, 1), verdict[1][d]);
        else
            fail(c, SQLMIG_DRIFT, NULL, "%s %s %s the schema at version %lld", text_of(st, 0), text_of(st, 1),
                 verdict[0][d], (long long)v);
        each(ctx, c);
        ++*n;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sqlite_failed(c, rc, "compare the schema with the set's history");
}

/* sqlmig_adopt()'s differences: each logged, the first kept. */
static void adopt_difference(void *ctx, struct call *c)
{
    sqlmig_result *first = ctx;

    log_line(c, SQLMIG_LOG_ERROR, "%s", c->res->message);
    if (!first->code)
        *first = *c->res;
}

/*
** Name each difference between the live schema and the schema after step
** k in a log line, the first in the message; SQLMIG_DRIFT when there is
** one, else 0.
*/
static int name_differences(struct call *c, size_t k)
{
    sqlmig_result first;
    int64_t n = 0;
    int rc;

    first.code = 0;
    if ((rc = differences(c, k, c->set->count, 0, adopt_difference, &first, &n)) != 0 || n == 0)
        return rc;
    *c->res = first;
    if (n > 1)
        append(c, " (%lld differences in all)", (long long)n);
    c->logged = 1;
    return SQLMIG_DRIFT;
}

/* Say where the live schema stands: ", and its schema is that of version 3". */
static void append_standing(struct call *c, const struct standing *w)
{
    const struct sqlmig_set *s = c->set;

    if (w->same == 1)
        append(c, "; its schema is that of version %lld", (long long)version_at(s, w->first));
    else if (w->same)
        append(c, "; its schema is that of versions %lld to %lld, which change only data: which of them ran, "
               "only the program's history can tell", (long long)version_at(s, w->first),
               (long long)version_at(s, w->last));
    else
        append(c, "; its schema is no version's: the closest is version %lld, with %lld difference(s)",
               (long long)version_at(s, w->best), (long long)w->best_diff);
}

/*
** sqlmig_migrate() on a database that holds objects but no ledger: if one
** of them is an object of the set's history, the database was made
** without sqlmig, and running the first migration on it would fail or do
** harm: SQLMIG_UNADOPTED, with what was found and what to do. Objects of
** the host's own are no reason.
*/
static int unadopted(struct call *c)
{
    struct standing w;
    sqlite3_stmt *st = NULL;
    int64_t known = 0;
    char what[400] = "";
    int rc, r2;

    if (!c->set->change_count)
        return 0;
    if ((rc = history_load(c, c->set->count, NULL)) != 0)
        return rc;
    rc = sqlite3_prepare_v2(c->db, "SELECT l.type, l.name, min(c.step), count(*) OVER () FROM temp.sqlmig_live AS l "
                            "JOIN temp.sqlmig_change AS c ON c.type = l.type AND c.name = l.name WHERE c.fp <> 0 "
                            "AND c.step <= ?1 GROUP BY l.type, l.name ORDER BY 3, 1, 2 LIMIT 1", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)c->set->count)) == SQLITE_OK
        && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        known = sqlite3_column_int64(st, 3);
        snprintf(what, sizeof what, "%.20s %.200s, which %.150s creates", text_of(st, 0), text_of(st, 1),
                 c->set->migrations[sqlite3_column_int64(st, 2) - 1].file);
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return sqlite_failed(c, rc, "read the schema");
    if (!known)
        return history_drop(c);
    if ((r2 = find_step(c, &w)) != 0)
        return r2;
    fail(c, SQLMIG_UNADOPTED, NULL, "the database has no ledger %s, but it holds %s%s%.0lld%s: it was made "
         "without sqlmig, and migrating it from version 1 would fail or harm it", c->qt, what,
         known > 1 ? " (and " : "", (long long)(known - 1), known > 1 ? " more of the set's objects)" : "");
    append_standing(c, &w);
    /* Another tool's ledger says more than the schema can. */
    rc = sqlite3_prepare_v2(c->db, "SELECT CASE lower(s.name) WHEN 'schema_migrations' THEN iif(EXISTS (SELECT 1 "
                            "FROM pragma_table_info(s.name, 'main') AS p WHERE p.name = 'dirty'), 'golang-migrate', "
                            "'dbmate') WHEN 'goose_db_version' THEN 'goose' WHEN '_sqlx_migrations' THEN 'sqlx' "
                            "WHEN '__diesel_schema_migrations' THEN 'diesel' WHEN '__drizzle_migrations' THEN 'drizzle' "
                            "ELSE 'flyway' END, s.name FROM main.sqlite_schema AS s WHERE s.type = 'table' AND s.name "
                            "COLLATE NOCASE IN (" OTHER_LEDGERS ") LIMIT 1", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        append(c, ". It has %s's ledger (table %.200s): sqlmig_adopt() with sqlmig_adoption.from = \"%s\" imports "
               "its history, then migrate", text_of(st, 0), text_of(st, 1), text_of(st, 0));
    else
        append(c, ". Adopt it with sqlmig_adopt(), which records the versions up to the one its schema is at "
               "as applied, then migrate");
    sqlite3_finalize(st);
    return SQLMIG_UNADOPTED;
}

/* The count that `sql` gives with ?1 = a and ?2 = b, in *n; SQLite's result code. */
static int count_of(sqlite3 *db, const char *sql, const char *a, const char *b, int *n)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

    if (rc == SQLITE_OK && (rc = sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC)) == SQLITE_OK
        && (!b || (rc = sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC)) == SQLITE_OK)
        && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *n = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/*
** An older program on a newer database (SQLMIG_ALLOW_UNKNOWN, and versions
** it does not know are applied) may go on only if the database still has
** what its own final schema has, which its queries are written for: every
** table with every one of its columns, and every index, view and trigger,
** by name. The columns of its tables are read by creating them in a
** private in-memory database. SQLMIG_UNKNOWN naming the first that is
** gone, else 0.
*/
static int keeps_own_schema(struct call *c, int64_t newest)
{
    const struct sqlmig_object *o = c->set->objects, *end = o ? o + c->set->object_count : o;
    sqlite3 *old = NULL;
    sqlite3_stmt *cols = NULL;
    char what[300] = "";
    int rc = sqlite3_open_v2(":memory:", &old, SQLITE_OPEN_READWRITE, NULL), n = 0;

    for (; rc == SQLITE_OK && !what[0] && o < end; o++) {
        rc = count_of(c->db, "SELECT count(*) FROM main.sqlite_schema WHERE type = ?1 AND name = ?2 COLLATE NOCASE",
                      o->type, o->name, &n);
        if (rc == SQLITE_OK && !n)
            snprintf(what, sizeof what, "%.20s %.200s", o->type, o->name);
        if (rc != SQLITE_OK || what[0] || strcmp(o->type, "table") != 0)
            continue;
        if ((rc = sqlite3_exec(old, o->sql, NULL, NULL, NULL)) == SQLITE_OK
            && (rc = sqlite3_prepare_v2(old, "SELECT name FROM pragma_table_info(?1)", -1, &cols, NULL)) == SQLITE_OK
            && (rc = sqlite3_bind_text(cols, 1, o->name, -1, SQLITE_STATIC)) == SQLITE_OK) {
            while (rc == SQLITE_OK && !what[0] && (rc = sqlite3_step(cols)) == SQLITE_ROW) {
                rc = count_of(c->db, "SELECT count(*) FROM pragma_table_info(?1, 'main') WHERE name = ?2 "
                              "COLLATE NOCASE", o->name, (const char *)sqlite3_column_text(cols, 0), &n);
                if (rc == SQLITE_OK && !n)
                    snprintf(what, sizeof what, "column %.100s of table %.100s", text_of(cols, 0), o->name);
            }
            rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        }
        sqlite3_finalize(cols);
        cols = NULL;
    }
    if (rc != SQLITE_OK)
        fail(c, SQLMIG_SQLITE, NULL, "compare the database with this program's schema: %s",
             old ? sqlite3_errmsg(old) : "out of memory");
    sqlite3_close(old);
    if (rc != SQLITE_OK)
        return SQLMIG_SQLITE;
    if (!what[0])
        return 0;
    fail(c, SQLMIG_UNKNOWN, NULL, "the database is at version %lld, which a newer build of this program applied, "
         "and no longer has %s, which this program's schema has: run the newer build, or roll the database "
         "back with it (sqlmig_rollback()) to a version this program knows", (long long)newest, what);
    c->res->version = newest;
    return SQLMIG_UNKNOWN;
}

/* ---- sqlmig_migrate() ---------------------------------------------------------- */

/* What the guard saw a running migration do (struct migrate's `seen`). */
#define SEEN_SETTING 0x01u /* set a PRAGMA: the baseline must come back */
#define SEEN_TEMP    0x02u /* created a temp object: drop what is left */
#define SEEN_ATTACH  0x04u /* attached a database */
#define SEEN_TRANSACTION 0x08u /* a no-transaction migration's own BEGIN, COMMIT or SAVEPOINT */
#define FK_ALL       0x10u /* more tables than written[] holds: check them all */

#define NAMES 8

/* The state of one sqlmig_migrate() call. */
struct migrate {
    struct call c; /* first: the helpers above take &j->c */
    struct survey w;
    int64_t target;     /* newest version to apply */
    int64_t dv;         /* PRAGMA data_version of our last transaction */
    int64_t top;        /* newest version this call applied */
    size_t next;        /* index of the migration after the last one applied */
    size_t done;        /* applied in the open transaction */
    size_t left;        /* pending at the last full walk, minus ours */
    int in_tx;          /* a transaction of ours is open (SQLite may have ended it) */
    int committing;     /* a COMMIT of ours was issued and has not succeeded */
    int stale;          /* another connection committed since our last transaction */
    int batch;          /* commit only at the end, or before a migration that needs its own */
    int fresh;          /* the database had nothing in it under our lock */
    int snap;           /* the snapshot may create it */
    int prepared;       /* the file was given the snapshot's settings */
    int plan;           /* a dry run: log what would be applied */
    int reach;          /* the call goes to the last version: repeatable migrations run */
    size_t repeated;    /* repeatable migrations run in the open transaction */
    const struct sqlmig_migration *started; /* a no-transaction migration under way */
    const struct sqlmig_migration *last;    /* the last one applied in the open transaction */
    /* The runner: what guard() judges and notes while a migration runs. */
    const struct sqlmig_migration *running; /* NULL: statements of ours */
    int running_in_tx;
    int wrap;          /* SQLMIG_WRAPPED: 0 before its BEGIN, 1 inside, 2 after its COMMIT */
    int skip;          /* the statement just prepared is that BEGIN or COMMIT */
    const char *begin_at; /* where that BEGIN is */
    unsigned seen;
    /* The violations already in the database: not kept aside (the migration
    ** can run twice), to be kept before it writes, or kept. */
    enum { KEEP_NONE, KEEP_PENDING, KEEP_DONE } keep;
    const char *refused;
    int refused_code;
    int refused_word;  /* the message follows the statement's first word */
    int names;
    char written[NAMES][64]; /* tables it wrote, altered or dropped */
    char violation[320];     /* the first foreign key violation found */
    struct sqlmig_migration whole; /* the snapshot, as a migration that run() can run */
};

/* guard() refuses a statement: the message says why (after its first word). */
static int refuse(struct migrate *j, int code, int word, const char *why)
{
    j->refused = why;
    j->refused_code = code;
    j->refused_word = word;
    return SQLITE_DENY;
}

static void note_table(struct migrate *j, const char *t)
{
    int i;

    for (i = 0; i < j->names; i++)
        if (sqlite3_stricmp(j->written[i], t) == 0)
            return;
    if (i == NAMES || strlen(t) >= sizeof j->written[0])
        j->seen |= FK_ALL;
    else
        strcpy(j->written[j->names++], t);
}

/* Is s a non-empty prefix of word, in any case (as SQLite reads a journal mode)? */
static int prefix_of(const char *s, const char *word)
{
    size_t n = strlen(s);

    return n > 0 && n <= strlen(word) && sqlite3_strnicmp(s, word, (int)n) == 0;
}

/* Is t one of sqlmig's tables: the ledger, or the table of repeatable migrations? */
static int ours(const struct call *c, const char *t)
{
    return sqlite3_stricmp(t, c->table) == 0 || (c->set->repeatable_count && sqlite3_stricmp(t, c->rtable) == 0);
}

/*
** The authorizer of sqlmig's connection, while a migration's statements are
** prepared and run (SQLite's own statements inside them included, such as
** VACUUM's). It refuses what would break the transaction or reach outside
** the database, and notes what must be put back or checked afterwards.
*/
static int guard(void *p, int action, const char *a, const char *b, const char *db, const char *trigger)
{
    struct migrate *j = p;
    const struct sqlmig_migration *m = j->running;
    const char *t;

    (void)trigger;
    if (!m)
        return SQLITE_OK;
    /* CREATE TABLE temp.x is SQLITE_CREATE_TABLE on "temp", not a *_TEMP_* code. */
    if (db && strcmp(db, "temp") == 0)
        j->seen |= SEEN_TEMP;
    switch (action) {
    case SQLITE_TRANSACTION:
        /* A golang-migrate file's own BEGIN ... COMMIT, once: sqlmig's
        ** transaction takes its place. */
        if (m->flags & SQLMIG_WRAPPED && j->running_in_tx && a && j->wrap < 2 &&
            strcmp(a, j->wrap ? "COMMIT" : "BEGIN") == 0) {
            j->wrap++;
            j->skip = 1;
            return SQLITE_OK;
        }
        if (m->flags & SQLMIG_WRAPPED && j->running_in_tx)
            return refuse(j, SQLMIG_MIGRATION, 1, "is transaction control beyond the one BEGIN ... COMMIT that "
                          "wraps the file, which sqlmig's own transaction replaces: split the file into one "
                          "migration per transaction");
        /* fall through */
    case SQLITE_SAVEPOINT:
        if (!j->running_in_tx) {
            j->seen |= SEEN_TRANSACTION;
            return SQLITE_OK;
        }
        return refuse(j, SQLMIG_MIGRATION, 1, "is transaction control, in a migration that runs in a "
                      "transaction (sqlmig wraps each migration in BEGIN IMMEDIATE ... COMMIT): remove it, or "
                      "make the first line '-- sqlmig:no-transaction'");
    case SQLITE_ATTACH: /* VACUUM, outside a transaction, attaches '' for itself */
        j->seen |= SEEN_ATTACH;
        /* a is NULL for a file name computed by an expression: refused too. */
        return m->flags & SQLMIG_ATTACH || (!j->running_in_tx && a && (!*a || strcmp(a, ":memory:") == 0))
               ? SQLITE_OK
               : refuse(j, SQLMIG_MIGRATION, 0, "ATTACH is refused unless the migration declares '-- sqlmig:attach': "
                        "it would reach outside the database, or leave a database attached for the next one");
    case SQLITE_PRAGMA:
        if (b)
            j->seen |= SEEN_SETTING;
        /* SQLite takes any prefix of a mode's name: "o" is OFF. */
        return b && sqlite3_stricmp(a, "journal_mode") == 0
               && (j->running_in_tx || prefix_of(b, "off") || prefix_of(b, "memory"))
               ? refuse(j, SQLMIG_MIGRATION, 1, j->running_in_tx
                        ? "journal_mode cannot change the journal inside a transaction: put it in a migration "
                          "whose first line is '-- sqlmig:no-transaction'"
                        : "journal_mode OFF or MEMORY would leave later migrations without a rollback journal")
               : SQLITE_OK;
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
        j->seen |= SEEN_TEMP;
        return SQLITE_OK;
    case SQLITE_ALTER_TABLE: /* a is the database, b the table */
        db = a;
        t = b;
        break;
    case SQLITE_CREATE_INDEX: /* a is the index or trigger, b its table */
    case SQLITE_CREATE_TRIGGER:
        return db && strcmp(db, "main") == 0 && b && ours(&j->c, b)
               ? refuse(j, SQLMIG_MIGRATION, 0, "it changes the ledger table, which migrations must leave alone")
               : SQLITE_OK;
    case SQLITE_CREATE_TABLE:
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
    case SQLITE_DROP_TABLE:
        t = a;
        break;
    default:
        return SQLITE_OK;
    }
    if (!t || !db || strcmp(db, "main") != 0 || sqlite3_strnicmp(t, "sqlite_", 7) == 0)
        return SQLITE_OK;
    if (ours(&j->c, t))
        return action == SQLITE_CREATE_TABLE
               ? refuse(j, SQLMIG_MISUSE, 0, "it creates a table of the name that sqlmig_options.table gives the "
                        "ledger: give the ledger another name")
               : refuse(j, SQLMIG_MIGRATION, 0, "it changes the ledger table, which migrations must leave alone");
    if (action != SQLITE_CREATE_TABLE)
        note_table(j, t);
    return SQLITE_OK;
}

/* Skip whitespace, comments and empty statements, to the first token of a
** statement, as sqlite3_prepare_v2() does. */
static const char *skip(const char *p, const char *end)
{
    while (p < end) {
        if (*p && strchr(" \t\n\r\f\v;", *p)) {
            p++;
        } else if (end - p > 1 && p[0] == '-' && p[1] == '-') {
            while (p < end && *p != '\n')
                p++;
        } else if (end - p > 1 && p[0] == '/' && p[1] == '*') {
            for (p += 2; end - p > 1 && !(p[0] == '*' && p[1] == '/'); p++) {}
            p = end - p > 1 ? p + 2 : end;
        } else {
            break;
        }
    }
    return p;
}

/* Fail m at `at` (a position in its up-SQL) as "file:line:col: cause". */
static int located(struct migrate *j, const struct sqlmig_migration *m, const char *at, int sqlite_code)
{
    struct call *c = &j->c;
    const char *p, *msg = j->refused ? j->refused : sqlite3_errmsg(c->db);
    int line = m->up_line ? (int)m->up_line : 1, column = 1;
    int code = j->refused ? j->refused_code : code_of(sqlite_code, SQLMIG_MIGRATION);

    for (p = m->up_sql; p < at; p++) {
        if (*p == '\n')
            line++, column = 1;
        else
            column++;
    }
    c->res->column = column;
    for (p = at; j->refused_word && (size_t)(p - at) < 24 && ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'); p++) {}
    fail_at(c, code, m, line, "%.*s%s%s%s", (int)(p - at), at, p > at ? " " : "", msg,
            !j->refused && j->running_in_tx && sqlite3_strglob("*within a transaction*", msg) == 0
            ? " (sqlmig runs each migration in a transaction: make its first line '-- sqlmig:no-transaction')" : "");
    c->res->sqlite_code = j->refused ? 0 : sqlite_code;
    append(c, "%s", j->refused ? "" : advice(sqlite_code));
    return code;
}

static int keep_violations(struct migrate *j);

/*
** Run m's up-SQL statement by statement, under guard(). Each prepare gets
** the remaining length counting the NUL that ends every generated literal:
** given a length without it, SQLite would copy the rest of the migration
** for every statement, which is quadratic in its size.
*/
static int run(struct migrate *j, const struct sqlmig_migration *m, int in_tx)
{
    struct call *c = &j->c;
    const char *p = m->up_sql, *end = p + m->up_len, *tail, *at;
    sqlite3_stmt *st;
    int64_t t;
    int rc = 0, off;

    sqlite3_set_last_insert_rowid(c->db, 0);
    j->running = m;
    j->running_in_tx = in_tx;
    j->wrap = 0;
    while (rc == 0 && p < end) {
        st = NULL;
        tail = end;
        j->refused = NULL;
        j->refused_word = 0;
        j->skip = 0;
        at = skip(p, end);
        rc = sqlite3_prepare_v2(c->db, p, (int)(end - p) + 1, &st, &tail);
        if (rc == SQLITE_OK && j->skip) { /* the file's own BEGIN or COMMIT */
            if (j->wrap == 1)
                j->begin_at = at;
            sqlite3_finalize(st);
            st = NULL;
        }
        if (rc == SQLITE_OK && st && j->keep == KEEP_PENDING && (j->names || j->seen & (FK_ALL | SEEN_TRANSACTION))
            && (rc = keep_violations(j)) != 0) {
            sqlite3_finalize(st);
            break;
        }
        /* Outside a transaction, a statement that reads before it writes
        ** (PRAGMA journal_mode=WAL) gets SQLITE_BUSY at once, without the
        ** busy handler, if another connection holds the write lock for a
        ** moment, as processes waiting for this migration do. It changed
        ** nothing: run it again, for up to the busy timeout. */
        for (t = now_ms(); rc == SQLITE_OK && st;) {
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
            if (rc == SQLITE_DONE)
                rc = SQLITE_OK;
            if ((rc & 0xff) != SQLITE_BUSY || in_tx || !sqlite3_get_autocommit(c->db) || since(t) >= c->wait_ms)
                break;
            (void)sqlite3_reset(st); /* returns the same SQLITE_BUSY */
            sqlite3_sleep(10);
            rc = SQLITE_OK;
        }
        if (rc != SQLITE_OK) {
            off = sqlite3_error_offset(c->db);
            if (!j->refused && off >= 0 && off < end - p)
                at = p + off;
            rc = located(j, m, at, sqlite3_extended_errcode(c->db));
        } else if (in_tx && sqlite3_get_autocommit(c->db)) { /* ON CONFLICT ROLLBACK */
            refuse(j, SQLMIG_MIGRATION, 0, "this statement ended the migration's transaction");
            rc = located(j, m, at, 0);
        }
        sqlite3_finalize(st);
        if (tail <= p)
            break;
        p = tail;
    }
    if (rc == 0 && j->wrap == 1) {
        refuse(j, SQLMIG_MIGRATION, 0, "this BEGIN has no COMMIT: sqlmig runs the file in its own transaction "
               "and skips the file's BEGIN ... COMMIT only as a pair");
        rc = located(j, m, j->begin_at, 0);
    }
    j->running = NULL;
    return rc;
}

/* The baseline again, if the migration changed a setting. */
static int restore_settings(struct migrate *j)
{
    int rc = j->seen & SEEN_SETTING ? baseline(&j->c) : 0;

    j->seen &= ~SEEN_SETTING;
    return rc;
}

/* No temp object of a migration outlives it. */
static int drop_temp(struct migrate *j)
{
    int rc = j->seen & SEEN_TEMP
             ? drain(&j->c, "SELECT 'DROP ' || type || ' IF EXISTS temp.\"' || replace(name, '\"', '\"\"') || '\"' "
                            "FROM temp.sqlite_schema WHERE type IN ('trigger', 'view', 'table') "
                            "AND name NOT GLOB 'sqlite_*' ORDER BY type = 'table' LIMIT 1")
             : 0;

    j->seen &= ~SEEN_TEMP;
    return rc;
}

/*
** The foreign key violations a migration could have made: in the tables it
** wrote, altered or dropped, and in the tables that refer to one of them
** (any write may delete: INSERT OR REPLACE does); in all tables when there
** were more than written[] holds (?9). fk_query() puts the tables' test in
** place of the '@': the written names are ?1…?n, and a table is asked for
** its foreign keys only if its SQL holds one of the names (LIKE ?11…), as
** the clause that names a parent does; a name holding a quote may be
** written doubled there, and its pattern matches every table.
*/
#define FK_CHECK                                                                                  \
    "SELECT k.\"table\", k.rowid, k.parent FROM main.sqlite_schema AS s, "                         \
    "pragma_foreign_key_check(s.name, 'main') AS k WHERE s.type = 'table' AND (?9 OR @)"
#define FK_KEEP "CREATE TEMP TABLE sqlmig_fk AS " FK_CHECK
/* The new ones: those not kept; in a WITHOUT ROWID table (no rowid to tell
** rows apart) more than were kept. */
#define FK_NEW                                                                                     \
    "WITH n(t, r, p) AS (" FK_CHECK ") SELECT * FROM n WHERE r IS NOT NULL "                        \
    "EXCEPT SELECT * FROM temp.sqlmig_fk UNION ALL SELECT t, NULL, p FROM n AS x WHERE r IS NULL "  \
    "GROUP BY t, p HAVING count(*) > (SELECT count(*) FROM temp.sqlmig_fk AS o "                    \
    "WHERE o.rowid IS NULL AND o.\"table\" = x.t AND o.parent = x.p)"

/* Append to sql[*n] one `form` per written table: its parameter's number
** from `first`, then ", " unless it is the last. */
static void fk_list(const struct migrate *j, char *sql, size_t *n, size_t size, const char *form, int first)
{
    int i;

    for (i = 0; i < j->names; i++)
        *n += (size_t)snprintf(sql + *n, size - *n, form, first + i, i + 1 < j->names ? ", " : "");
}

/*
** Run one of the FK_* statements for what the running migration noted
** (all: every table). *found says whether it gave a row; the first one is
** described in j->violation.
*/
static int fk_query(struct migrate *j, const char *form, int all, int *found)
{
    struct call *c = &j->c;
    sqlite3_stmt *st = NULL;
    const char *at = strchr(form, '@');
    /* The longest form (FK_NEW) is about 440 bytes, its test with NAMES
    ** names about 350. */
    char sql[1600], like[NAMES][sizeof j->written[0] + 2];
    size_t n = (size_t)(at - form);
    int rc, i;

    memcpy(sql, form, n);
    n += (size_t)snprintf(sql + n, sizeof sql - n, "s.name COLLATE NOCASE IN (");
    fk_list(j, sql, &n, sizeof sql, "?%d%s", 1);
    n += (size_t)snprintf(sql + n, sizeof sql - n, ") OR (0");
    fk_list(j, sql, &n, sizeof sql, " OR s.sql LIKE ?%d%.0s", 11);
    n += (size_t)snprintf(sql + n, sizeof sql - n, ") AND EXISTS (SELECT 1 FROM pragma_foreign_key_list(s.name, "
                          "'main') AS f WHERE f.\"table\" COLLATE NOCASE IN (");
    fk_list(j, sql, &n, sizeof sql, "?%d%s", 1);
    snprintf(sql + n, sizeof sql - n, "))%s", at + 1);
    rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    for (i = 0; rc == SQLITE_OK && i < j->names; i++) {
        snprintf(like[i], sizeof like[i], "%%%s%%", strpbrk(j->written[i], "\"'`") ? "" : j->written[i]);
        if ((rc = sqlite3_bind_text(st, i + 1, j->written[i], -1, SQLITE_STATIC)) == SQLITE_OK)
            rc = sqlite3_bind_text(st, i + 11, like[i], -1, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK && (rc = sqlite3_bind_int(st, 9, all || j->seen & FK_ALL)) == SQLITE_OK)
        rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found)
        snprintf(j->violation, sizeof j->violation, "%s%s of table %.100s refers to a missing row of table %.100s",
                 sqlite3_column_type(st, 1) == SQLITE_NULL ? "a row" : "row ", /* WITHOUT ROWID: none */
                 sqlite3_column_type(st, 1) == SQLITE_NULL ? "" : text_of(st, 1), text_of(st, 0), text_of(st, 2));
    /* A malformed foreign key (its parent key neither PRIMARY KEY nor UNIQUE)
    ** makes the check itself fail: the migration that made it is named. */
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sqlite_failed(c, rc, "check foreign keys");
    sqlite3_finalize(st);
    return rc;
}

/*
** Keep aside, in temp.sqlmig_fk, the foreign key violations already in the
** database, for a migration that cannot run twice (no-transaction, or one
** that attaches). run() does it just before the migration's first statement
** that writes a table or begins a transaction, when the database is still
** as the migration found it, so that one that writes nothing (a journal
** mode, VACUUM, a foreign_keys switch) checks nothing. The statements are
** sqlmig's, not the migration's: the guard lets them be, and the
** migration's last_insert_rowid() stays as it was.
*/
static int keep_violations(struct migrate *j)
{
    const struct sqlmig_migration *m = j->running;
    sqlite3_int64 rowid = sqlite3_last_insert_rowid(j->c.db);
    int rc, found;

    j->keep = KEEP_DONE;
    j->running = NULL;
    rc = fk_query(j, FK_KEEP, 1, &found);
    j->running = m;
    sqlite3_set_last_insert_rowid(j->c.db, rowid);
    return rc;
}

/*
** Run m and check it: its statements, then the connection's settings back,
** then, in a transaction, the foreign keys it could have broken. If one is
** broken, m runs once more, from the savepoint before it, now with the
** violations that were there before it kept aside, so that only those it
** added fail it. A no-transaction migration cannot run twice: for it they
** are kept aside before it writes. Last, its temp objects are dropped.
*/
static int run_checked(struct migrate *j, const struct sqlmig_migration *m, int in_tx)
{
    struct call *c = &j->c;
    int64_t before = 0;
    int rc, found = 0, kept, touched, unused;

    j->seen = 0;
    j->names = 0;
    j->violation[0] = '\0';
    /* A migration that attaches cannot run twice (its ATTACH would find the
    ** name taken): like a no-transaction one, it keeps the violations first,
    ** before it writes (keep_violations()). A table is noted when a
    ** statement is prepared, so one it touched was kept before it ran. */
    j->keep = !in_tx || m->flags & SQLMIG_ATTACH ? KEEP_PENDING : KEEP_NONE;
    if ((rc = run(j, m, in_tx)) == 0)
        rc = restore_settings(j);
    touched = j->names || j->seen & FK_ALL;
    kept = j->keep == KEEP_DONE;
    if (rc == 0 && touched && (rc = fk_query(j, FK_CHECK, 0, &found)) == 0 && found && j->keep == KEEP_NONE) {
        kept = 1;
        if ((rc = simple(c, "ROLLBACK TO sqlmig")) == 0 && (rc = fk_query(j, FK_KEEP, 0, &unused)) == 0
            && (rc = run(j, m, in_tx)) == 0)
            rc = restore_settings(j);
    }
    if (rc == 0 && kept) {
        if (touched && found && (rc = fk_query(j, FK_NEW, 0, &found)) == 0 && found) {
            rc = fail_at(c, SQLMIG_FOREIGN_KEY, m, 0, "foreign key violation: %s", j->violation);
        } else if (rc == 0 && touched && (rc = query_int(c, "SELECT count(*) FROM temp.sqlmig_fk", 0, &before)) == 0
                   && before) {
            log_line(c, SQLMIG_LOG_WARN, "%s: %lld foreign key violation(s) that were already in the database "
                     "remain, and it added none%s%s%s", m->file, (long long)before, *j->violation ? " (one: " : "",
                     j->violation, *j->violation ? ")" : "");
        }
        if (rc == 0)
            rc = simple(c, "DROP TABLE temp.sqlmig_fk");
    }
    return rc ? rc : drop_temp(j);
}

/* m is done in the open transaction (not yet committed). */
static void applied(struct migrate *j, const struct sqlmig_migration *m, int64_t ms)
{
    j->left--;
    if (m->version) {
        j->done++;
        j->last = m;
        if (m->version > j->top)
            j->top = m->version;
        j->next = (size_t)(m - j->c.set->migrations) + 1;
    } else {
        j->repeated++; /* a repeatable migration: no version */
    }
    log_line(&j->c, SQLMIG_LOG_INFO, "applied %s (%s%.0lld) in %lld ms%s", m->file,
             m->version ? "version " : "repeatable", (long long)m->version, (long long)ms,
             j->batch && !(m->flags & (SQLMIG_NO_TRANSACTION | SQLMIG_ATTACH)) ? ", to be committed with the batch"
                                                                               : "");
}

/* Tell the caller's applied callback, inside the transaction. */
static int tell(struct migrate *j, const struct sqlmig_migration *m)
{
    const sqlmig_options *o = j->c.o;

    if (!o->applied || o->applied(o->hook_ctx, j->c.db, m) == 0)
        return 0;
    fail(&j->c, SQLMIG_ABORTED, m, "the applied callback stopped the call at %s", m->file);
    return SQLMIG_ABORTED;
}

static int commit(struct migrate *j)
{
    struct call *c = &j->c;
    int rc;

    if (j->done) /* a failure from here on is the commit of the last one applied (of a batch) */
        j->c.cur = j->last;
    j->committing = 1; /* until it succeeds: finish() then asks whether it took effect */
    if ((rc = simple(c, "COMMIT")) != 0)
        return rc;
    j->committing = 0;
    j->in_tx = 0;
    c->wrote = 1;
    c->res->applied += j->done + j->repeated;
    j->repeated = 0;
    if (j->done) /* the one after it comes next, unless another process applied it */
        j->c.cur = j->next < c->set->count ? c->set->migrations + j->next : NULL;
    j->done = 0;
    if (j->top > c->res->to_version)
        c->res->to_version = j->top;
    return 0;
}

/* What a migration attached is detached once its transaction is over. */
static int detach_all(struct migrate *j)
{
    return drain(&j->c, "SELECT 'DETACH \"' || replace(name, '\"', '\"\"') || '\"' FROM pragma_database_list "
                        "WHERE seq > 1 LIMIT 1");
}

/*
** Apply m inside the open transaction, with the insert of its ledger row;
** for a repeatable migration (version 0: one that never ran, or changed
** since it last ran), with its row in the table of repeatable migrations.
*/
static int apply_in_transaction(struct migrate *j, const struct sqlmig_migration *m)
{
    struct call *c = &j->c;
    int64_t t = now_ms(), ms = 0;
    int rc = 0, found;

    /* Like the ledger: a table found here must take what sqlmig writes. */
    if (!m->version && (rc = repeatable_shape(c, &found)) == 0 && !found)
        rc = exec(c, m, "create the table of repeatable migrations", CREATE_REPEATABLE, 0, 0, NULL);
    if (rc == 0)
        rc = simple(c, "SAVEPOINT sqlmig");
    if (rc == 0)
        rc = run_checked(j, m, 1);
    if (rc == 0)
        rc = m->version ? exec(c, m, "write the ledger", INSERT_ROW, m->version, ms = since(t), NULL)
                        : exec(c, m, "write the table of repeatable migrations", WRITE_REPEATABLE, 0,
                               ms = since(t), NULL);
    if (rc == 0)
        rc = tell(j, m);
    if (rc == 0)
        rc = simple(c, "RELEASE sqlmig");
    if (rc)
        return rc;
    applied(j, m, ms);
    if (j->batch && !(m->flags & SQLMIG_ATTACH))
        return 0;
    rc = commit(j);
    return rc == 0 && j->seen & SEEN_ATTACH ? detach_all(j) : rc;
}

/*
** A no-transaction migration: commit its ledger row as started (-1), run it
** in autocommit mode, then complete the row. If it fails or the process
** dies, the row stays started and the next run reports SQLMIG_INTERRUPTED.
*/
static int begin_write(struct migrate *j);

static int apply_without_transaction(struct migrate *j, const struct sqlmig_migration *m)
{
    struct call *c = &j->c;
    int64_t t, ms;
    int rc = exec(c, m, "write the ledger", INSERT_ROW, m->version, -1, NULL);

    if (rc || (rc = commit(j)) != 0)
        return rc;
    j->started = m; /* from here on a failure leaves its work and its started row */
    log_line(c, SQLMIG_LOG_INFO, "running %s (version %lld) outside a transaction", m->file, (long long)m->version);
    t = now_ms();
    /* It may BEGIN a transaction of its own: if it fails inside it, or
    ** leaves it open, finish() rolls it back. */
    j->in_tx = 1;
    if ((rc = run_checked(j, m, 0)) != 0)
        return rc;
    if (!sqlite3_get_autocommit(c->db))
        return fail(c, SQLMIG_MIGRATION, m, "%s: the migration left a transaction open", m->file);
    j->in_tx = 0;
    if (j->seen & SEEN_ATTACH && (rc = detach_all(j)) != 0)
        return rc;
    ms = since(t);
    if ((rc = begin_write(j)) != 0 || (rc = exec(c, m, "write the ledger", UPDATE_ROW, m->version, ms, NULL)) != 0)
        return rc;
    /* Someone resolved the row while it ran: never complete a row we did not start. */
    if (sqlite3_changes(c->db) != 1) {
        j->started = NULL; /* its row is gone: the message below says all there is */
        return fail(c, SQLMIG_INTERRUPTED, m, "version %lld (%s) ran, but its started row was removed "
                    "from the ledger %s meanwhile (sqlmig_resolve() while it was running?): "
                    "check the database before running it again", (long long)m->version, m->file, c->qt);
    }
    if ((rc = tell(j, m)) != 0)
        return rc;
    applied(j, m, ms);
    if ((rc = commit(j)) == 0)
        j->started = NULL;
    return rc;
}

/*
** A fresh database: run the snapshot (the state the whole history reaches,
** proven equal to it when the set was compiled), then write every ledger
** row with one prepared insert, in the transaction begin_write() opened.
*/
static int create_from_snapshot(struct migrate *j)
{
    struct call *c = &j->c;
    const struct sqlmig_set *s = c->set;
    const struct sqlmig_migration *m;
    int64_t t = now_ms();
    size_t i;
    int rc, found = 0;

    j->whole.name = j->whole.file = "snapshot";
    j->whole.up_sql = s->snapshot_sql;
    j->whole.up_len = s->snapshot_len;
    j->whole.up_line = 1;
    j->c.cur = &j->whole;
    j->seen = 0;
    j->keep = KEEP_NONE; /* one transaction, checked whole below */
    if ((rc = run(j, &j->whole, 1)) != 0 || (rc = fk_query(j, FK_CHECK, 1, &found)) != 0)
        return rc;
    if (found) {
        fail_at(c, SQLMIG_FOREIGN_KEY, &j->whole, 0, "foreign key violation: %s", j->violation);
        return SQLMIG_FOREIGN_KEY;
    }
    if ((rc = restore_settings(j)) != 0 || (rc = drop_temp(j)) != 0)
        return rc;
    for (m = s->migrations; rc == 0 && m < s->migrations + s->count; m++)
        rc = exec(c, m, "write the ledger", INSERT_ROW, m->version, 0, NULL);
    /* What the repeatable migrations did is in the snapshot too. */
    if (rc == 0 && s->repeatable_count)
        rc = exec(c, NULL, "create the table of repeatable migrations", CREATE_REPEATABLE, 0, 0, NULL);
    for (i = 0; rc == 0 && i < s->repeatable_count; i++)
        rc = exec(c, s->repeatables + i, "write the table of repeatable migrations", WRITE_REPEATABLE, 0, 0, NULL);
    if (rc)
        return rc;
    j->done = j->next = s->count;
    j->left = 0;
    j->last = m - 1;
    j->top = j->last->version;
    log_line(c, SQLMIG_LOG_INFO, "created version %lld from the snapshot: %zu migrations in one transaction, "
             "in %lld ms", (long long)j->top, s->count, (long long)since(t));
    return commit(j);
}

/* Run one statement of ours outside a transaction, again while it meets a
** lock without the busy handler (see run()). */
static int exec_retrying(struct call *c, const char *sql)
{
    int64_t t = now_ms();
    int rc;

    while ((rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL)) != SQLITE_OK
           && (rc & 0xff) == SQLITE_BUSY && since(t) < c->wait_ms)
        sqlite3_sleep(10);
    return rc == SQLITE_OK ? 0 : sqlite_failed(c, rc, sql);
}

/*
** A fresh database, in our transaction: can the snapshot create it? Only in
** UTF-8, the encoding it was proven in, and only if the file has, or can
** still take, the settings the history leaves: auto_vacuum only while the
** file has no page, WAL only outside a transaction. *again: they were
** missing and are now set; the transaction must begin again.
*/
static int snapshot_fits(struct migrate *j, int *again)
{
    const struct sqlmig_set *s = j->c.set;
    sqlite3_stmt *st = NULL;
    char sql[80];
    int rc = sqlite3_prepare_v2(j->c.db, "SELECT encoding = 'UTF-8', auto_vacuum + 1, journal_mode = 'wal', "
                                "page_count FROM pragma_encoding, pragma_auto_vacuum, pragma_journal_mode, "
                                "pragma_page_count", -1, &st, NULL);
    int need_av = 0, need_wal = 0, pages = 0;

    *again = 0;
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        j->snap = sqlite3_column_int(st, 0);
        need_av = s->snapshot_auto_vacuum && (unsigned)sqlite3_column_int(st, 1) != s->snapshot_auto_vacuum;
        need_wal = s->snapshot_wal && !sqlite3_column_int(st, 2);
        pages = sqlite3_column_int(st, 3);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return sqlite_failed(&j->c, rc, "read the database's settings");
    if (!j->snap || !(need_av || need_wal))
        return 0;
    if (j->prepared || (need_av && pages)) {
        j->snap = 0; /* the replay gives the file what the history gives it */
        return 0;
    }
    if ((rc = simple(&j->c, "ROLLBACK")) != 0)
        return rc;
    j->in_tx = 0;
    j->prepared = *again = 1;
    pages = need_av ? snprintf(sql, sizeof sql, "PRAGMA auto_vacuum=%u;", s->snapshot_auto_vacuum - 1) : 0;
    snprintf(sql + pages, sizeof sql - (size_t)pages, "%s", need_wal ? "PRAGMA journal_mode=WAL" : "");
    return exec_retrying(&j->c, sql);
}

/*
** BEGIN IMMEDIATE and PRAGMA data_version: if another connection committed
** since our previous transaction, the ledger must be walked again, and
** whether the database is fresh looked at again.
*/
static int begin_write(struct migrate *j)
{
    struct call *c = &j->c;
    int64_t dv = 0, fresh = 0;
    int rc, again, found;

    do {
        if ((rc = simple(c, "BEGIN IMMEDIATE")) != 0)
            return rc;
        j->in_tx = 1;
        if ((rc = query_int(c, "PRAGMA data_version", 0, &dv)) != 0)
            return rc;
        j->stale |= dv != j->dv;
        j->dv = dv;
        if (!j->stale)
            return 0;
        /* Nothing in the database yet (not even a ledger): nothing to keep. */
        if ((rc = query_int(c, "SELECT count(*) = 0 FROM main.sqlite_schema", 0, &fresh)) != 0)
            return rc;
        j->fresh = (int)fresh;
        j->batch |= j->fresh;
        again = 0;
        if (j->fresh && j->snap && (rc = snapshot_fits(j, &again)) != 0)
            return rc;
    } while (again);
    /* Objects but no ledger: a database made without sqlmig? */
    if (!j->fresh && c->set->change_count && (rc = ledger_shape(c, SHAPE_FOUND, &found)) == 0 && !found)
        rc = unadopted(c);
    if (rc)
        return rc;
    /* A ledger found here may have any shape: before writing, make sure it
    ** is a table whose columns give back what sqlmig writes. */
    if ((rc = exec(c, NULL, "create the ledger", CREATE_LEDGER, 0, 0, NULL)) == 0)
        rc = ledger_shape(c, SHAPE_USABLE, &found);
    return rc;
}

/* sqlmig_migrate()'s visitor: validate, and find what is pending. */
static int check_row(void *job, struct survey *w, const struct sqlmig_status_row *r)
{
    struct migrate *j = job;

    if (r->state == SQLMIG_STARTED) {
        w->started = r->migration;
        w->stop = 1;
        return 0;
    }
    if (r->state != SQLMIG_PENDING)
        return judge(&j->c, w, r);
    if (r->version > j->target) { /* and so are all the later ones */
        w->stop = 1;
        return 0;
    }
    if (j->plan)
        log_line(&j->c, SQLMIG_LOG_INFO, "would apply %s (version %lld)", r->migration->file, (long long)r->version);
    if (w->pending++ == 0)
        w->first = (size_t)(r->migration - j->c.set->migrations);
    return 0;
}

/* sqlmig_migrate()'s visitor of repeatable migrations: find those to run. */
static int repeat_row(void *job, struct survey *w, const struct sqlmig_status_row *r)
{
    struct migrate *j = job;

    if (r->state != SQLMIG_PENDING && r->state != SQLMIG_OUTDATED)
        return 0;
    if (j->plan)
        log_line(&j->c, SQLMIG_LOG_INFO, "would apply %s (repeatable, %s)", r->migration->file,
                 r->state == SQLMIG_PENDING ? "never applied" : "changed since it was applied");
    if (w->repeat++ == 0)
        w->repeat_first = (size_t)(r->migration - j->c.set->repeatables);
    return 0;
}

/*
** Once nothing versioned is pending (in a dry run: always), which
** repeatable migrations are to run? Only for a call that goes to the last
** version: they are written for the schema the whole history gives.
*/
static int repeat_survey(struct migrate *j)
{
    j->w.repeat = 0;
    if (!j->reach || j->w.started || (j->w.pending && !j->plan))
        return 0;
    return walk_repeatables(&j->c, &j->w, repeat_row, j);
}

/*
** Walk the whole ledger. While another connection runs a migration outside
** a transaction, release our lock, sleep and look again, for up to the busy
** timeout. Then check the order.
*/
static int survey(struct migrate *j)
{
    struct call *c = &j->c;
    const struct sqlmig_migration *m;
    int rc, locked = j->in_tx;
    int64_t start = -1;

    for (;;) {
        memset(&j->w, 0, sizeof j->w);
        if ((rc = walk(c, &j->w, 0, 0, check_row, j)) != 0 || (rc = repeat_survey(j)) != 0 || !j->w.started
            || c->db == c->host)
            break;
        /* Real time: the busy handler may also have waited inside walk(). */
        if (start >= 0 && since(start) >= c->wait_ms)
            return interrupted(c, j->w.started);
        if (start < 0) {
            start = now_ms();
            log_line(c, SQLMIG_LOG_INFO, "waiting for version %lld (%s), which another connection is applying",
                     (long long)j->w.started->version, j->w.started->file);
        }
        if (locked) {
            if ((rc = simple(c, "ROLLBACK")) != 0)
                return rc;
            j->in_tx = 0;
        }
        sqlite3_sleep(50);
        if (locked && (rc = begin_write(j)) != 0)
            return rc;
    }
    if (rc)
        return rc;
    j->stale = 0;
    /* At most: a repeatable migration may have to run after the pending ones. */
    j->left = j->w.pending + (j->reach ? j->w.pending ? c->set->repeatable_count : j->w.repeat : 0);
    if (j->w.newest > c->res->to_version)
        c->res->to_version = j->w.newest;
    m = j->w.pending ? c->set->migrations + j->w.first : NULL;
    if (m && m->version < j->w.newest && !(c->o->flags & SQLMIG_ALLOW_OUT_OF_ORDER))
        return fail(c, SQLMIG_OUT_OF_ORDER, m, "version %lld (%s) is pending but version %lld is already "
                    "applied; SQLMIG_ALLOW_OUT_OF_ORDER applies it anyway",
                    (long long)m->version, m->file, (long long)j->w.newest);
    return 0;
}

/* Nobody else committed since our last transaction: find the next pending
** one past what we did, reading only that part of the ledger. */
static int next_pending(struct migrate *j)
{
    int rc;

    memset(&j->w, 0, sizeof j->w);
    if ((rc = walk(&j->c, &j->w, j->next, 1, check_row, j)) != 0)
        return rc;
    return repeat_survey(j);
}

/* The text of a one-row PRAGMA on the caller's connection, in out[16]; the
** SQLite result code. */
static int host_pragma(struct call *c, const char *sql, char *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->host, sql, -1, &st, NULL);

    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        snprintf(out, 16, "%s", text_of(st, 0));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? SQLITE_OK : rc ? rc : SQLITE_ERROR;
}

/*
** With anything pending, sqlmig's connection must be able to write past the
** caller's: no transaction, no running statement, no exclusive lock. A file
** that is still empty takes the page size, encoding and auto_vacuum the
** caller set on its connection, as it would have had the caller created it
** (those two are read only then: reading them needs the file, which another
** process may be creating, and then its settings win).
*/
static int check_host(struct migrate *j)
{
    struct call *c = &j->c;
    sqlite3_stmt *st = NULL;
    char mode[16], size[16], value[16], sql[128];
    int64_t pages = 1;
    int rc;

    while ((st = sqlite3_next_stmt(c->host, st)) != NULL && !sqlite3_stmt_busy(st)) {}
    if (!sqlite3_get_autocommit(c->host) || st)
        return fail(c, SQLMIG_MISUSE, NULL, "sqlmig_migrate() must be called outside a transaction, with no "
                    "statement of the connection running, when migrations are pending: COMMIT or ROLLBACK, "
                    "and reset or finalize every statement, first");
    if (sqlite3_db_readonly(c->host, "main") == 1)
        return fail(c, SQLMIG_READONLY, NULL, "the database is read-only and migrations are pending: open it "
                    "read-write (SQLITE_OPEN_READWRITE), as a user that may write the file and its folder, to "
                    "apply them");
    /* Neither needs the file; an in-memory database is always exclusive, and copied. */
    if ((rc = host_pragma(c, "PRAGMA main.locking_mode", mode)) != SQLITE_OK
        || (rc = host_pragma(c, "PRAGMA main.page_size", size)) != SQLITE_OK)
        return sqlite_failed(c, rc, "read the connection's settings");
    if (strcmp(mode, "exclusive") == 0 && sqlite3_db_filename(c->host, "main")[0])
        return fail(c, SQLMIG_MISUSE, NULL, "the connection holds the database in locking_mode=EXCLUSIVE, which "
                    "keeps every other connection out, sqlmig's own included, and migrations are pending: "
                    "call sqlmig_migrate() before setting it");
    if ((rc = open_own(c)) != 0 || c->copy
        || (rc = exec(c, NULL, "read the file's size", "PRAGMA page_count", 0, 0, &pages)) != 0 || pages)
        return rc;
    rc = snprintf(sql, sizeof sql, "PRAGMA page_size=%s;", size);
    if (host_pragma(c, "PRAGMA main.encoding", value) == SQLITE_OK)
        rc += snprintf(sql + rc, sizeof sql - (size_t)rc, "PRAGMA encoding='%s';", value);
    if (host_pragma(c, "PRAGMA main.auto_vacuum", value) == SQLITE_OK)
        snprintf(sql + rc, sizeof sql - (size_t)rc, "PRAGMA auto_vacuum=%s", value);
    rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sqlite_failed(c, rc, "give the new file the connection's settings");
}

static int migrate(struct migrate *j)
{
    struct call *c = &j->c;
    const struct sqlmig_set *s = c->set;
    const struct sqlmig_migration *m;
    size_t i;
    int rc, x;

    j->target = c->o->target ? c->o->target : INT64_MAX;
    for (i = 0; c->o->target && i < s->count && s->migrations[i].version != c->o->target; i++) {}
    if (c->o->target && i == s->count)
        return fail(c, SQLMIG_TARGET, NULL, "the target version %lld is not a version of the set",
                    (long long)c->o->target);
    j->reach = s->repeatable_count && (!s->count || j->target >= s->migrations[s->count - 1].version);
    /*
    ** No lock, no write, and the caller's own busy handler: up to date, this
    ** read on the caller's connection is the call's only statement. Anything
    ** more (a failed read included) happens on sqlmig's own connection.
    */
    rc = survey(j);
    /* No ledger, or a lock: read again on sqlmig's connection. */
    x = rc == HOST_CANNOT_READ;
    if (x) {
        /* The read did not prepare: no ledger yet, every migration pending
        ** (until sqlmig's connection looks closer). Else no answer at all. */
        j->w.pending = c->host_error == SQLITE_ERROR ? s->count : 0;
        j->w.first = 0;
        rc = 0;
    }
    c->res->from_version = c->res->to_version;
    if (!x && (rc || (j->w.pending == 0 && !j->w.started && j->w.repeat == 0))) {
        /* Up to date with versions of a newer build: only over a schema that keeps this one's. */
        if (rc == 0 && j->w.unknown && s->object_count && (rc = open_own(c)) == 0)
            rc = keeps_own_schema(c, j->w.newest);
        return rc;
    }
    if (c->o->flags & SQLMIG_DRY_RUN) {
        int found;
        int64_t fresh = 0;
        if ((rc = open_own(c)) != 0 || (rc = ledger_shape(c, SHAPE_USABLE, &found)) != 0)
            return rc;
        if (!found && (rc = query_int(c, "SELECT count(*) = 0 FROM main.sqlite_schema", 0, &fresh)) == 0 && !fresh)
            rc = unadopted(c);
        if (rc)
            return rc;
        j->plan = 1;
        rc = survey(j);
        c->res->applied = j->w.pending + j->w.repeat;
        c->res->from_version = c->res->to_version;
        return rc;
    }
    j->c.cur = j->w.pending ? s->migrations + j->w.first : NULL;
    if ((rc = check_host(j)) != 0)
        return rc;
    sqlite3_set_authorizer(c->db, guard, j);
    j->batch = (c->o->flags & SQLMIG_BATCH) != 0;
    j->dv = -1;
    j->stale = 1;
    /* The snapshot holds the state after the last migration, no other. */
    j->snap = s->snapshot_sql && !(c->o->flags & SQLMIG_REPLAY) && j->target >= s->migrations[s->count - 1].version;
    j->left = (size_t)-1;
    for (;;) {
        /* Others can only apply what we see pending: none left, no more locks. */
        if (j->left == 0)
            return j->in_tx ? commit(j) : 0;
        if (!j->in_tx && (rc = begin_write(j)) != 0)
            return rc;
        if ((rc = j->stale ? survey(j) : next_pending(j)) != 0)
            return rc;
        if (x) { /* the caller's connection could not say where the database was */
            c->res->from_version = c->res->to_version;
            x = 0;
        }
        if (j->w.pending == 0 && j->w.repeat == 0)
            return commit(j);
        if (j->w.pending == 0) {
            j->c.cur = s->repeatables + j->w.repeat_first;
            if ((rc = apply_in_transaction(j, j->c.cur)) != 0)
                return rc;
            continue;
        }
        m = s->migrations + j->w.first;
        j->c.cur = m;
        if (j->fresh && j->snap && j->w.pending == s->count)
            rc = create_from_snapshot(j);
        else if (!(m->flags & (SQLMIG_NO_TRANSACTION | SQLMIG_ATTACH)) || !j->done)
            rc = m->flags & SQLMIG_NO_TRANSACTION ? apply_without_transaction(j, m) : apply_in_transaction(j, m);
        else /* it needs a transaction of its own: commit the batch first */
            rc = commit(j);
        if (rc)
            return rc;
    }
}

/*
** Roll back what is still open, log the error. After a failure that came
** before the ledger was read to its end, read the newest applied version,
** so that from_version and to_version still say where the database is;
** errors while cleaning up never hide the first one.
*/
static int finish(struct migrate *j, int rc)
{
    struct call *c = &j->c;
    sqlmig_result scratch, *keep = c->res;
    const struct sqlmig_migration *cur = j->c.cur;
    int64_t v = 0, row = 0, wal = 0;
    /* open: a transaction of ours was open when it failed (SQLite may have
    ** ended it already); rolled: it is still open, and rolled back here;
    ** solo: it was a no-transaction migration's own, with no batch before it. */
    int r = 0, open = j->in_tx && c->db != c->host, rolled = open && !sqlite3_get_autocommit(c->db);
    int solo = !j->done && cur && (cur->flags & SQLMIG_NO_TRANSACTION);
    int known = 0, committed = 0, uncertain = 0, r2, found;

    if (rc)
        c->res = &scratch; /* an error while cleaning up must not hide the first one */
    if (rolled)
        r = simple(c, "ROLLBACK");
    /* After a failure in our transaction the ledger says where the database
    ** is: an I/O error in COMMIT may come after its commit point. A ledger
    ** that is not sqlmig's says nothing about versions, and one still locked
    ** would only make us wait again. */
    if (rc && r == 0 && rc != SQLMIG_MISUSE && rc != SQLMIG_LEDGER
        && (open || (keep->to_version == 0 && rc != SQLMIG_BUSY))) {
        r2 = query_int(c, "SELECT max(version) FROM main.@ WHERE execution_ms <> -1", 0, &v);
        known = r2 == 0 || (r2 == SQLMIG_SQLITE && ledger_shape(c, SHAPE_FOUND, &found) == 0 && !found);
        if (known && v > 0) {
            keep->to_version = v;
            if (keep->applied == 0 && !open)
                keep->from_version = v;
        }
        /* Committed when the last row of our transaction is there (not
        ** max(version): out of order, a newer version may be older news);
        ** likewise a no-transaction migration's started row. */
        if (known && open && (j->done || (j->committing && solo))
            && query_int(c, "SELECT CASE WHEN execution_ms >= 0 THEN 1 WHEN execution_ms = -1 THEN -1 END "
                         "FROM main.@ WHERE version = ?1", (solo ? cur : j->last)->version, &row) == 0) {
            committed = j->done && row == 1;
            if (solo && row == -1)
                j->started = cur;
        }
        if (committed) {
            keep->applied += j->done;
            c->wrote = 1;
        }
    }
    /*
    ** SQLite ended a failed COMMIT of ours by itself: unless the ledger could
    ** be read and the database is not in WAL mode, it may yet be committed
    ** (a WAL whose sync failed can hold the whole transaction, which SQLite
    ** recovers once every connection has closed it).
    */
    if (rc && open && j->committing && !rolled && !committed && (j->done || (!j->started && solo)))
        uncertain = !known || query_int(c, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'",
                                        0, &wal) != 0 || wal > 0;
    c->res = keep;
    /* Say what the failure left behind, so that the operator knows where the database is. */
    if (rc == 0)
        rc = r;
    else if (committed) /* before started: the row that completes one may be what got committed */
        append(c, " (yet the COMMIT had reached the database: it is applied, and the database is at "
               "version %lld)", (long long)v);
    else if (j->started) /* uncertain: the COMMIT that completes its row failed */
        append(c, uncertain ? ". Version %lld ran outside a transaction, but the COMMIT that records it as "
               "complete failed: if that COMMIT reached the disk it is applied, otherwise it stays marked "
               "started; the next run tells which, and sqlmig_resolve() settles a started one"
               : ". Version %lld runs without a transaction: what it did before failing stays, "
               "and it stays marked started; inspect the database, then call sqlmig_resolve()",
               (long long)j->started->version);
    else if (rc == SQLMIG_LEDGER || rc == SQLMIG_UNADOPTED || c->db == c->host) /* nothing ran: nothing to add */
        ;
    else if (uncertain)
        append(c, solo ? " (the COMMIT of its started row failed: the database is at version %lld, and if "
               "that COMMIT reached the disk, version %lld is marked started; the next run tells which)"
               : " (the COMMIT failed: the database is at version %lld, or at %lld if the COMMIT reached "
               "the disk; the next run tells which)", (long long)keep->to_version,
               (long long)(solo ? cur : j->last)->version);
    else if (open || cur) /* rolled back here or by SQLite after an I/O error, or not begun */
        append(c, !open ? " (not started: the database stays at version %lld)"
               : j->batch && cur != &j->whole ? " (rolled back with the rest of its batch: the database stays at "
                                                "version %lld)"
               : " (rolled back: the database stays at version %lld)", (long long)keep->to_version);
    return end_call(c, rc);
}

/* ---- the public functions ------------------------------------------------------- */

static int init(struct call *c, sqlite3 *db, const struct sqlmig_set *set,
                const sqlmig_options *o, sqlmig_result *res)
{
    static const sqlmig_options defaults;
    const struct sqlmig_migration *m;
    const char *t;
    size_t i, n;

    memset(c, 0, sizeof *c);
    memset(res, 0, sizeof *res);
    c->db = c->host = db;
    c->set = set;
    c->o = o ? o : &defaults;
    c->res = res;
    c->table = t = c->o->table ? c->o->table : "schema_migrations";
    n = strlen(t);
    if (!db || !set || (set->count && !set->migrations) || (set->object_count && !set->objects)
        || set->snapshot_len >= INT_MAX || (!set->count && set->snapshot_sql))
        return fail(c, SQLMIG_MISUSE, NULL, "the database handle or the set is NULL, or the set has "
                    "a count but no array, a snapshot but no migration, or a snapshot over 2 GiB");
    while (*t && (unsigned char)*t >= 0x20 && *t != 0x7f)
        t++;
    if (n == 0 || n > 200 || *t || sqlite3_strnicmp(c->table, "sqlite_", 7) == 0)
        return fail(c, SQLMIG_MISUSE, NULL, "the ledger table name must have 1 to 200 bytes, no control "
                    "character, and not start with sqlite_ (reserved by SQLite)");
    sqlite3_snprintf(sizeof c->qt, c->qt, "\"%w\"", c->table); /* %w doubles each " */
    snprintf(c->rtable, sizeof c->rtable, "%s_repeatable", c->table);
    sqlite3_snprintf(sizeof c->qr, c->qr, "\"%w\"", c->rtable);
    for (i = 0; i < set->count; i++) {
        m = set->migrations + i;
        if (!m->name || !m->file || !m->up_sql || !m->checksum || m->up_len >= INT_MAX
            || (i && m->version <= m[-1].version))
            return fail(c, SQLMIG_MISUSE, m, "migration %zu of the set (version %lld) has a NULL field, "
                        "is too long, or is out of order", i, (long long)m->version);
    }
    if (set->repeatable_count && !set->repeatables)
        return fail(c, SQLMIG_MISUSE, NULL, "the set has a count of repeatable migrations but no array");
    for (i = 0; i < set->repeatable_count; i++) {
        m = set->repeatables + i;
        if (!m->name || !m->file || !m->up_sql || !m->checksum || m->up_len >= INT_MAX || m->version
            || m->flags & (SQLMIG_NO_TRANSACTION | SQLMIG_ATTACH) || (i && strcmp(m->name, m[-1].name) <= 0))
            return fail(c, SQLMIG_MISUSE, m, "repeatable migration %zu of the set has a NULL field, a version, "
                        "is too long, runs outside a transaction or attaches, or is out of name order", i);
    }
    c->wait_ms = c->o->busy_timeout_ms > 0 ? c->o->busy_timeout_ms : c->o->busy_timeout_ms ? 0 : 5000;
    return 0;
}

int sqlmig_migrate(sqlite3 *db, const struct sqlmig_set *set, const sqlmig_options *options,
                   sqlmig_result *res)
{
    struct migrate j;
    sqlmig_result local;
    int rc;

    memset(&j, 0, sizeof j);
    rc = init(&j.c, db, set, options, res ? res : &local);
    return finish(&j, rc ? rc : migrate(&j));
}

/* The state of one sqlmig_status() call. */
struct status {
    struct call c;
    int (*callback)(void *, const struct sqlmig_status_row *);
    void *ctx;
};

static int status_row(void *job, struct survey *w, const struct sqlmig_status_row *r)
{
    struct status *j = job;

    (void)w;
    if (j->callback(j->ctx, r) == 0)
        return 0;
    fail(&j->c, SQLMIG_ABORTED, r->migration, "the status callback stopped at %s %.200s",
         r->version ? "version" : "repeatable migration", r->name);
    j->c.res->version = r->version;
    return SQLMIG_ABORTED;
}

int sqlmig_status(sqlite3 *db, const struct sqlmig_set *set, const sqlmig_options *options,
                  int (*callback)(void *ctx, const struct sqlmig_status_row *row),
                  void *ctx, sqlmig_result *res)
{
    struct status j;
    struct survey w;
    sqlmig_result local;
    const struct sqlmig_migration *m;
    size_t own = 0;
    int64_t fresh = 0;
    int rc = init(&j.c, db, set, options, res ? res : &local);

    memset(&w, 0, sizeof w);
    j.callback = callback;
    j.ctx = ctx;
    if (rc == 0 && !callback)
        rc = fail(&j.c, SQLMIG_MISUSE, NULL, "the status callback is NULL");
    if (rc == 0 && (rc = open_own(&j.c)) == 0 && (rc = walk(&j.c, &w, 0, 0, status_row, &j)) == 0)
        rc = walk_repeatables(&j.c, &w, status_row, &j);
    /* On a database with nothing in it, say how sqlmig_migrate() would create it. */
    if (rc == 0 && set->count && (rc = query_int(&j.c, "SELECT count(*) = 0 FROM main.sqlite_schema", 0, &fresh)) == 0
        && fresh) {
        if (set->snapshot_sql)
            snprintf(j.c.res->message, sizeof j.c.res->message, "a fresh database: sqlmig_migrate() creates version "
                     "%lld from the snapshot, in one transaction", (long long)set->migrations[set->count - 1].version);
        else {
            for (m = set->migrations; m < set->migrations + set->count; m++)
                own += (m->flags & (SQLMIG_NO_TRANSACTION | SQLMIG_ATTACH)) != 0;
            snprintf(j.c.res->message, sizeof j.c.res->message, "a fresh database: sqlmig_migrate() applies the %zu "
                     "migrations in one transaction%s%.0zu%s, as the set has no snapshot: %s", set->count,
                     own ? ", split before and after each no-transaction or attaching one (" : "", own,
                     own ? " of them)" : "",
                     set->snapshot_note ? set->snapshot_note : "it was compiled without one");
        }
    }
    j.c.res->from_version = j.c.res->to_version = w.newest;
    return end_call(&j.c, rc);
}

/* The state of one sqlmig_verify() call. */
struct verify {
    struct call c;
    int problems;
    sqlmig_result first; /* the first problem */
};

/* Log a problem now in res; keep the first. */
static void problem(struct verify *j)
{
    printable(j->c.res->message);
    log_line(&j->c, SQLMIG_LOG_ERROR, "%s", j->c.res->message);
    if (j->problems++ == 0)
        j->first = *j->c.res;
}

static int verify_row(void *job, struct survey *w, const struct sqlmig_status_row *r)
{
    struct verify *j = job;

    if (r->state == SQLMIG_PENDING)
        w->pending++;
    else if (judge(&j->c, w, r))
        problem(j);
    return 0;
}

/* A repeatable migration to run is pending like any other; one the set
** no longer has is no problem: it stays as it last ran. */
static int verify_repeat(void *job, struct survey *w, const struct sqlmig_status_row *r)
{
    (void)job;
    w->pending += r->state == SQLMIG_PENDING || r->state == SQLMIG_OUTDATED;
    return 0;
}

static int objcmp(const char *type1, const char *name1, const char *type2, const char *name2)
{
    int d = strcmp(type1, type2);
    return d ? d : strcmp(name1, name2);
}

/* Merge sqlite_schema (without SQLite's and the ledger's objects) with the
** embedded final schema; both are sorted by type, then name, bytewise. */
static int drift(struct verify *j)
{
    static const char *const verdict[] = { "is missing", "differs from the embedded schema",
                                           "is not in the embedded schema" };
    struct call *c = &j->c;
    const struct sqlmig_object *o = c->set->objects;
    const struct sqlmig_object *end = o ? o + c->set->object_count : o;
    sqlite3_stmt *st = NULL;
    int rc, d;

    rc = sqlite3_prepare_v2(c->db, "SELECT type, name, sql FROM main.sqlite_schema "
                            "WHERE sql IS NOT NULL AND name NOT GLOB 'sqlite_*' "
                            "AND name <> ?1 COLLATE NOCASE AND tbl_name <> ?1 COLLATE NOCASE "
                            "AND name <> ?2 COLLATE NOCASE AND tbl_name <> ?2 COLLATE NOCASE "
                            "ORDER BY type, name", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_bind_text(st, 1, c->table, -1, SQLITE_STATIC)) == SQLITE_OK
        && (rc = sqlite3_bind_text(st, 2, c->set->repeatable_count ? c->rtable : c->table, -1, SQLITE_STATIC))
               == SQLITE_OK)
        rc = sqlite3_step(st);
    while (rc == SQLITE_ROW || (rc == SQLITE_DONE && o < end)) {
        /* d < 0: only embedded; d > 0: only live; 0: both, compare the SQL */
        d = rc != SQLITE_ROW ? -1 : o == end ? 1 : objcmp(o->type, o->name, text_of(st, 0), text_of(st, 1));
        d = d < 0 ? -1 : d > 0;
        if (d != 0 || strcmp(o->sql, text_of(st, 2)) != 0) {
            fail(c, SQLMIG_DRIFT, NULL, "drift: %s %s %s", d < 0 ? o->type : text_of(st, 0),
                 d < 0 ? o->name : text_of(st, 1), verdict[d + 1]);
            problem(j);
        }
        if (d <= 0)
            o++;
        if (d >= 0)
            rc = sqlite3_step(st);
    }
    rc = rc == SQLITE_DONE ? 0 : sqlite_failed(c, rc, "read sqlite_schema");
    sqlite3_finalize(st);
    return rc;
}

static void verify_difference(void *ctx, struct call *c)
{
    (void)c;
    problem(ctx);
}

/*
** Drift, when the set records its history: the live schema against the
** schema after every migration and repeatable migration, each object read
** as SQLite reads it (sqlmig_fingerprint()), names without regard to case.
*/
static int drift_history(struct verify *j)
{
    int64_t n;
    size_t last = j->c.set->count + 1;
    int rc = history_load(&j->c, last, NULL);

    return rc ? rc : differences(&j->c, last, last, 1, verify_difference, j, &n);
}

int sqlmig_verify(sqlite3 *db, const struct sqlmig_set *set, const sqlmig_options *options,
                  sqlmig_result *res)
{
    struct verify j;
    struct survey w;
    sqlmig_result local;
    size_t i;
    int64_t broken = 0;
    int found, rc = init(&j.c, db, set, options, res ? res : &local);
    const struct sqlmig_object *o = set ? set->objects : NULL;

    memset(&w, 0, sizeof w);
    j.problems = 0;
    for (i = 0; rc == 0 && i < set->object_count; i++)
        if (!o[i].type || !o[i].name || !o[i].sql
            || (i && objcmp(o[i - 1].type, o[i - 1].name, o[i].type, o[i].name) >= 0))
            rc = fail(&j.c, SQLMIG_MISUSE, NULL, "object %zu of the set has a NULL field or is out of order", i);
    if (rc == 0 && (rc = open_own(&j.c)) == 0) {
        rc = walk(&j.c, &w, 0, 0, verify_row, &j);
        if (rc == 0)
            rc = walk_repeatables(&j.c, &w, verify_repeat, &j);
        if (rc == 0) /* a table that a migration would refuse to write */
            rc = ledger_shape(&j.c, SHAPE_USABLE, &found);
        if (rc == 0 && w.pending == 0 && w.unknown == 0)
            rc = set->change_count ? drift_history(&j) : drift(&j);
        else if (rc == 0 && w.pending == 0 && set->object_count && keeps_own_schema(&j.c, w.newest))
            problem(&j);
        else if (rc == 0 && !j.problems)
            snprintf(j.c.res->message, sizeof j.c.res->message, w.pending
                     ? "%zu migration(s) pending: the schema is compared with the embedded one only once all are applied"
                     : "%zu version(s) of a newer build applied: the database keeps every table, column, index, "
                       "view and trigger of this program's schema; the rest is not compared",
                     w.pending ? w.pending : w.unknown);
        if (rc == 0 && query_int(&j.c, "SELECT count(*) FROM main.sqlite_schema AS s, "
                                 "pragma_foreign_key_check(s.name, 'main') WHERE s.type = 'table'", 0, &broken) == 0
            && broken)
            log_line(&j.c, SQLMIG_LOG_WARN, "the database holds %lld foreign key violation(s) "
                     "(PRAGMA foreign_key_check lists them)", (long long)broken);
        if (rc == 0 && j.problems) {
            *j.c.res = j.first;
            if (j.problems > 1)
                append(&j.c, " (%d problems in all)", j.problems);
            rc = j.first.code;
            j.c.logged = 1; /* problem() did, one line per problem */
        }
    }
    j.c.res->from_version = j.c.res->to_version = w.newest;
    return end_call(&j.c, rc);
}

int sqlmig_resolve(sqlite3 *db, const sqlmig_options *options, int64_t version, int how,
                   sqlmig_result *res)
{
    static const struct sqlmig_set none;
    struct call c;
    sqlmig_result local;
    int rc = init(&c, db, &none, options, res ? res : &local);

    if (rc == 0 && how != SQLMIG_RESOLVE_APPLIED && how != SQLMIG_RESOLVE_RETRY)
        rc = fail(&c, SQLMIG_MISUSE, NULL, "`how` must be SQLMIG_RESOLVE_APPLIED or SQLMIG_RESOLVE_RETRY");
    if (rc == 0 && !sqlite3_get_autocommit(db))
        rc = fail(&c, SQLMIG_MISUSE, NULL, "sqlmig_resolve() must be called outside a transaction: COMMIT or "
                  "ROLLBACK first");
    if (rc == 0 && (rc = open_own(&c)) == 0)
        rc = exec(&c, NULL, "resolve", how == SQLMIG_RESOLVE_APPLIED
                  ? "UPDATE main.@ SET execution_ms = 0 WHERE version = ?1 AND execution_ms = -1"
                  : "DELETE FROM main.@ WHERE version = ?1 AND execution_ms = -1", version, 0, NULL);
    if (rc == 0 && sqlite3_changes(c.db) != 1)
        rc = fail(&c, SQLMIG_TARGET, NULL, "version %lld has no started row in the ledger %s",
                  (long long)version, c.qt);
    if (rc == 0) {
        c.wrote = 1;
        log_line(&c, SQLMIG_LOG_INFO, "version %lld resolved: %s", (long long)version,
                 how == SQLMIG_RESOLVE_APPLIED ? "marked applied" : "will run again");
    }
    c.res->version = version;
    return end_call(&c, rc);
}

/* ---- sqlmig_rollback() ------------------------------------------------------------ */

/* The migration of version v in the set, or NULL (a binary search: the set is sorted). */
static const struct sqlmig_migration *in_set(const struct sqlmig_set *s, int64_t v)
{
    size_t lo = 0, hi = s->count, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (s->migrations[mid].version == v)
            return s->migrations + mid;
        if (s->migrations[mid].version < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Can applied migration m (NULL: not in the set) be rolled back? Else the error. */
static int undoable(struct call *c, const struct sqlmig_migration *m, int64_t v, const char *name)
{
    if (!m)
        return fail(c, SQLMIG_UNKNOWN, NULL, "version %lld (%.200s) is applied but is not a migration of this "
                    "program, so its down part is unknown: roll it back with the build that applied it",
                    (long long)v, name);
    if (!m->down_sql || m->flags & SQLMIG_ONE_WAY)
        return fail(c, SQLMIG_IRREVERSIBLE, m, "version %lld (%s) %s: nothing was rolled back", (long long)v,
                    m->file, m->down_sql ? "says '-- sqlmig:irreversible'" : "has no down part");
    return 0;
}

/* The plan's visitor: every applied migration above the target must be undoable. */
static int plan_row(void *job, struct survey *w, const struct sqlmig_status_row *r)
{
    struct migrate *j = job;
    int rc;

    if (r->version <= j->target || r->state == SQLMIG_PENDING)
        return 0;
    if (r->state == SQLMIG_CHANGED || r->state == SQLMIG_STARTED)
        return judge(&j->c, w, r);
    if ((rc = undoable(&j->c, r->migration, r->version, r->name)) != 0)
        return rc;
    w->pending++;
    return 0;
}

/* Run m's down part as a migration of its own, in the open transaction. */
static int run_down(struct migrate *j, const struct sqlmig_migration *m)
{
    struct sqlmig_migration *d = &j->whole;

    *d = *m;
    d->up_sql = m->down_sql;
    d->up_len = m->down_len;
    d->up_line = m->down_line ? m->down_line : 1;
    d->file = m->down_file ? m->down_file : m->file;
    d->flags = (m->flags & SQLMIG_ATTACH) | (m->flags & SQLMIG_DOWN_WRAPPED ? SQLMIG_WRAPPED : 0);
    j->c.cur = d;
    return run_checked(j, d, 1);
}

/*
** Roll back the newest applied migration above the target, in a
** transaction of its own with the removal of its ledger row. *done is 0
** when there was none left.
*/
static int roll_back_one(struct migrate *j, int *done)
{
    struct call *c = &j->c;
    const struct sqlmig_migration *m;
    sqlite3_stmt *st = NULL;
    int64_t v = 0, t = now_ms(), below = 0;
    char name[256] = "", checksum[80] = "";
    int rc, state = 0, found;

    *done = 0;
    if ((rc = simple(c, "BEGIN IMMEDIATE")) != 0)
        return rc;
    j->in_tx = 1;
    /* Under the lock: another process may have rolled back, or migrated, meanwhile. */
    rc = prepare(c, "SELECT version, name, checksum, execution_ms FROM main.@ WHERE version > ?1 "
                    "ORDER BY version DESC LIMIT 1", &st);
    if (rc == SQLITE_OK && (rc = sqlite3_bind_int64(st, 1, j->target)) == SQLITE_OK
        && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
        snprintf(name, sizeof name, "%s", text_of(st, 1));
        snprintf(checksum, sizeof checksum, "%s", text_of(st, 2));
        state = sqlite3_column_int64(st, 3) == -1;
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return sqlite_failed(c, rc, "read the ledger");
    if (v == 0)
        return commit(j);
    m = in_set(c->set, v);
    c->cur = m;
    if (m && state)
        return interrupted(c, m);
    if ((rc = undoable(c, m, v, name)) != 0)
        return rc;
    if (strcmp(checksum, m->checksum) != 0)
        return fail(c, SQLMIG_CHECKSUM, m, "version %lld %s (%s) was applied with checksum %.80s, but the "
                    "embedded migration has checksum %s: its down part may not undo what ran", (long long)v,
                    m->name, m->file, checksum, m->checksum);
    if ((rc = simple(c, "SAVEPOINT sqlmig")) != 0 || (rc = run_down(j, m)) != 0
        || (rc = exec(c, m, "write the ledger", "DELETE FROM main.@ WHERE version = ?1", v, 0, NULL)) != 0)
        return rc;
    /* Repeatable migrations run again when the database is back at the last version. */
    if (c->set->repeatable_count && (rc = repeatable_shape(c, &found)) == 0 && found)
        rc = exec(c, NULL, "write the table of repeatable migrations", "DELETE FROM main.#", 0, 0, NULL);
    if (rc || (rc = simple(c, "RELEASE sqlmig")) != 0
        || (rc = query_int(c, "SELECT max(version) FROM main.@ WHERE execution_ms <> -1", 0, &below)) != 0)
        return rc;
    j->committing = 1;
    if ((rc = simple(c, "COMMIT")) != 0)
        return rc;
    j->committing = j->in_tx = 0;
    c->wrote = 1;
    c->res->applied++;
    c->res->to_version = below;
    *done = 1;
    log_line(c, SQLMIG_LOG_INFO, "rolled back %s (version %lld) in %lld ms", m->down_file ? m->down_file : m->file,
             (long long)v, (long long)since(t));
    return 0;
}

int sqlmig_rollback(sqlite3 *db, const struct sqlmig_set *set, const sqlmig_options *options, int64_t target,
                    sqlmig_result *res)
{
    struct migrate j;
    struct call *c = &j.c;
    sqlmig_result local, keep;
    sqlite3_stmt *st = NULL;
    const struct sqlmig_migration *m;
    int64_t v = 0;
    int rc, done = 1;

    memset(&j, 0, sizeof j);
    rc = init(c, db, set, options, res ? res : &local);
    j.target = target;
    if (rc == 0 && target && !in_set(set, target))
        rc = fail(c, SQLMIG_TARGET, NULL, "the target version %lld is not a version of the set (0 rolls back "
                  "every migration)", (long long)target);
    if (rc == 0 && !sqlite3_get_autocommit(db))
        rc = fail(c, SQLMIG_MISUSE, NULL, "sqlmig_rollback() must be called outside a transaction: COMMIT or "
                  "ROLLBACK first");
    /* The whole plan first: nothing runs unless every step can. */
    if (rc == 0 && (rc = open_own(c)) == 0 && (rc = walk(c, &j.w, 0, 0, plan_row, &j)) == 0) {
        c->res->from_version = c->res->to_version = j.w.newest;
        if (c->o->flags & SQLMIG_DRY_RUN) {
            rc = prepare(c, "SELECT version FROM main.@ WHERE version > ?1 ORDER BY version DESC", &st);
            if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(st, 1, target);
            while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                v = sqlite3_column_int64(st, 0);
                m = in_set(set, v);
                log_line(c, SQLMIG_LOG_INFO, "would roll back %s (version %lld)",
                         m && m->down_file ? m->down_file : m ? m->file : "?", (long long)v);
                rc = SQLITE_OK;
            }
            sqlite3_finalize(st);
            rc = rc == SQLITE_DONE || (rc == SQLITE_ERROR && !j.w.newest) ? 0 : sqlite_failed(c, rc, "read the ledger");
            c->res->applied = j.w.pending;
            return end_call(c, rc);
        }
        sqlite3_set_authorizer(c->db, guard, &j);
    }
    while (rc == 0 && done && j.w.pending)
        rc = roll_back_one(&j, &done);
    if (rc && j.in_tx) {
        keep = *c->res;
        if (!sqlite3_get_autocommit(c->db))
            simple(c, "ROLLBACK");
        *c->res = keep;
        append(c, j.committing ? " (the COMMIT failed: the database is at version %lld, or below if that COMMIT "
               "reached the disk; the next run tells which)" : " (rolled back: the database stays at version %lld)",
               (long long)c->res->to_version);
    }
    return end_call(c, rc);
}

/*
** Other tools' ledgers, as sqlmig_adopt() reads them: the tool's default
** table, and a query giving one row per applied migration: its version (or,
** for Flyway, NULL and its script), the tool's checksum of it, whether the
** tool marks it failed (1), dirty (2) or undone (3), and whether every
** migration up to it counts as applied (golang-migrate keeps one row;
** Flyway's baseline). '%w' is the table.
*/
static const struct {
    const char *tool, *table, *query;
} ledgers[] = {
    { "dbmate", "schema_migrations", "SELECT CAST(version AS INTEGER), NULL, NULL, 0, 0 FROM main.\"%w\" ORDER BY 1" },
    { "golang-migrate", "schema_migrations", "SELECT version, NULL, NULL, 2 * (dirty <> 0), 1 FROM main.\"%w\"" },
    { "goose", "goose_db_version", "SELECT version_id, NULL, NULL, 0, 0 FROM main.\"%w\" AS g WHERE version_id > 0 "
      "AND is_applied AND id = (SELECT max(id) FROM main.\"%w\" WHERE version_id = g.version_id) ORDER BY 1" },
    { "sqlx", "_sqlx_migrations", "SELECT version, NULL, lower(hex(checksum)), success = 0, 0 FROM main.\"%w\" "
      "ORDER BY 1" },
    { "diesel", "__diesel_schema_migrations", "SELECT CAST(replace(version, '-', '') AS INTEGER), NULL, NULL, 0, 0 "
      "FROM main.\"%w\" ORDER BY 1" },
    { "drizzle", "__drizzle_migrations", "SELECT CAST(created_at AS INTEGER), NULL, hash, 0, 0 FROM main.\"%w\" "
      "ORDER BY 1" },
    { "flyway", "flyway_schema_history", "SELECT NULL, CASE type WHEN 'BASELINE' THEN version ELSE script END, "
      "CAST(checksum AS TEXT), CASE WHEN type = 'UNDO_SQL' THEN 3 ELSE success = 0 END, type = 'BASELINE' "
      "FROM main.\"%w\" WHERE version IS NOT NULL AND type IN ('SQL', 'BASELINE', 'UNDO_SQL') "
      "ORDER BY installed_rank" },
};

/* Does Flyway's `key` (a script, or a baseline's version) name migration m? */
static int flyway_names(const struct sqlmig_migration *m, const char *key, int baseline)
{
    const char *base = strrchr(m->file, '/'), *a, *b;

    base = base ? base + 1 : m->file;
    if (!baseline)
        return strcmp(key, m->file) == 0 || strcmp(key, base) == 0;
    /* V<version>__: its parts split at '.' or '_' alike. */
    for (a = base + 1, b = key; *a && *b && !(a[0] == '_' && a[1] == '_'); a++, b++)
        if (*a != *b && !((*a == '.' || *a == '_') && (*b == '.' || *b == '_')))
            return 0;
    return *b == '\0' && a[0] == '_' && a[1] == '_';
}

/*
** Read another tool's ledger: *k, the number of the set's first migrations
** it records as applied, with every check of sqlmig_adopt().
*/
static int import_ledger(struct call *c, const char *tool, const char *table, size_t *k)
{
    static const char *const bad[] = { "", "records %s as failed", "is dirty at %s (a migration failed half-way)",
                                       "records %s as undone" };
    const struct sqlmig_set *s = c->set;
    const struct sqlmig_migration *m = NULL;
    sqlite3_stmt *st = NULL;
    char sql[700], key[300];
    size_t i, t;
    int rc, err = 0, n = 0, state;

    for (t = 0; t < sizeof ledgers / sizeof ledgers[0] && strcmp(ledgers[t].tool, tool) != 0; t++) {}
    if (t == sizeof ledgers / sizeof ledgers[0])
        return fail(c, SQLMIG_MISUSE, NULL, "sqlmig_adoption.from names no tool sqlmig reads the ledger of (%.80s): "
                    "dbmate, golang-migrate, goose, sqlx, diesel, drizzle or flyway", tool);
    table = table ? table : ledgers[t].table;
    if (sqlite3_stricmp(table, c->table) == 0)
        return fail(c, SQLMIG_MISUSE, NULL, "%s's ledger is the table \"%.200s\", the name sqlmig's ledger has: give "
                    "sqlmig's another name with sqlmig_options.table, in this call and every later one", tool, table);
    if ((rc = count_of(c->db, "SELECT count(*) FROM main.sqlite_schema WHERE type = 'table' AND name = ?1 "
                       "COLLATE NOCASE", table, NULL, &n)) != SQLITE_OK)
        return sqlite_failed(c, rc, "read the schema");
    if (!n)
        return fail(c, SQLMIG_TARGET, NULL, "there is no %s ledger in the database (no table \"%.200s\")", tool, table);
    sqlite3_snprintf(sizeof sql, sql, ledgers[t].query, table, table);
    if ((rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL)) != SQLITE_OK) {
        fail(c, SQLMIG_LEDGER, NULL, "the table \"%.200s\" is not %s's ledger as sqlmig knows it: %s", table, tool,
             sqlite3_errmsg(c->db));
        sqlite3_finalize(st);
        return SQLMIG_LEDGER;
    }
    *k = 0;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        snprintf(key, sizeof key, "%s", sqlite3_column_type(st, 1) == SQLITE_NULL ? "" : text_of(st, 1));
        if (key[0]) {
            for (i = 0; i < s->count && !flyway_names(s->migrations + i, key, sqlite3_column_int(st, 4)); i++) {}
            m = i < s->count ? s->migrations + i : NULL;
        } else {
            m = in_set(s, sqlite3_column_int64(st, 0));
            snprintf(key, sizeof key, "version %s", text_of(st, 0));
        }
        state = sqlite3_column_int(st, 3);
        if (state) {
            char said[400];
            snprintf(said, sizeof said, bad[state & 3], key);
            err = fail(c, SQLMIG_LEDGER, m, "%s's ledger %s: settle it with %s first (the database may be half-way "
                       "through that migration), then adopt", tool, said, tool);
            continue;
        }
        if (!m) {
            err = fail(c, SQLMIG_UNKNOWN, NULL, "%s's ledger records %.200s, which is not a migration of this set: "
                      "the folder sqlmig compiled is not the one %s applied", tool, key, tool);
            continue;
        }
        i = (size_t)(m - s->migrations);
        if (sqlite3_column_int(st, 4)) { /* everything up to it */
            *k = i + 1 > *k ? i + 1 : *k;
            continue;
        }
        if (i != *k) {
            err = fail(c, SQLMIG_TARGET, m, "%s's ledger records %s, but not %s before it: sqlmig adopts the set's "
                      "first migrations, in order; apply the missing one with %s first", tool, m->file,
                      i > *k ? s->migrations[*k].file : "each migration once", tool);
            continue;
        }
        if (s->toolsums && s->toolsums[i] && s->toolsums[i][0] && sqlite3_column_type(st, 2) != SQLITE_NULL
            && sqlite3_stricmp(text_of(st, 2), s->toolsums[i]) != 0) {
            err = fail(c, SQLMIG_CHECKSUM, m, "%s's ledger has checksum %.100s for %s, but the file sqlmig embeds has "
                      "%s: it was edited after %s applied it; restore it as it was", tool, text_of(st, 2), m->file,
                      s->toolsums[i], tool);
            continue;
        }
        *k = i + 1;
    }
    if (!err && rc != SQLITE_DONE)
        err = sqlite_failed(c, rc, "read the other tool's ledger");
    sqlite3_finalize(st);
    if (err == 0)
        log_line(c, SQLMIG_LOG_INFO, "%s's ledger (table %.200s) records the set's first %zu migration(s)%s", tool,
                 table, *k, s->toolsums ? ", checksums verified" : "");
    return err;
}

/* Which step a database is at, for sqlmig_adopt(): given, mapped or found. */
static int adoption_step(struct call *c, const struct sqlmig_adoption *how, size_t *k)
{
    const struct sqlmig_set *s = c->set;
    struct standing w;
    int64_t v = how->version, uv = 0;
    size_t i;
    int rc;

    if (how->from) {
        if ((rc = import_ledger(c, how->from, how->from_table, k)) != 0)
            return rc;
        if (v && v != version_at(s, *k))
            return fail(c, SQLMIG_TARGET, NULL, "%s's ledger says version %lld, not the version %lld given",
                        how->from, (long long)version_at(s, *k), (long long)v);
        return 0;
    }
    if (how->user_version_pairs) {
        if ((rc = query_int(c, "PRAGMA user_version", 0, &uv)) != 0)
            return rc;
        for (i = 0; i < how->user_version_pairs && how->user_versions[2 * i] != uv; i++) {}
        if (i == how->user_version_pairs)
            return fail(c, SQLMIG_TARGET, NULL, "the database's user_version is %lld, which the table of "
                        "user_version values given to sqlmig_adopt() does not hold", (long long)uv);
        v = how->user_versions[2 * i + 1];
    }
    if (v || how->user_version_pairs) {
        for (i = 0; v && i < s->count && s->migrations[i].version != v; i++) {}
        if (v && i == s->count)
            return fail(c, SQLMIG_TARGET, NULL, "version %lld%s is not a version of the set", (long long)v,
                        how->user_version_pairs ? " (the database's user_version, mapped)" : "");
        *k = v ? i + 1 : 0;
        return 0;
    }
    if ((rc = find_step(c, &w)) != 0)
        return rc;
    if (w.same == 1) {
        *k = w.first;
        return 0;
    }
    if (w.same == 0) {
        if ((rc = name_differences(c, w.best)) == SQLMIG_DRIFT)
            append(c, "; no version of the set has the database's schema, and version %lld is the closest",
                   (long long)version_at(s, w.best));
        return rc ? rc : fail(c, SQLMIG_DRIFT, NULL, "no version of the set has the database's schema");
    }
    fail(c, SQLMIG_TARGET, NULL, "versions %lld to %lld all have the database's schema (%zu of them: those after "
         "the first change only data), and only the program's history can tell which of them ran: adopt at one "
         "of them with sqlmig_adoption.version", (long long)version_at(s, w.first), (long long)version_at(s, w.last),
         w.same);
    return SQLMIG_TARGET;
}

int sqlmig_adopt(sqlite3 *db, const struct sqlmig_set *set, const sqlmig_options *options,
                 const struct sqlmig_adoption *how, sqlmig_result *res)
{
    static const struct sqlmig_adoption find;
    struct call c;
    sqlmig_result local;
    int64_t rows = 0, objects = 0;
    size_t k = 0, i;
    int found = 0, dry, rc = init(&c, db, set, options, res ? res : &local);

    how = how ? how : &find;
    dry = (c.o->flags & SQLMIG_DRY_RUN) != 0;
    if (rc == 0 && (!set->change_count || !set->changes || (how->user_version_pairs && !how->user_versions)))
        rc = fail(&c, SQLMIG_MISUSE, NULL, "the set records no schema changes (a set that `sqlmig compile` did "
                  "not write), or the table of user_version values is NULL");
    if (rc == 0 && !sqlite3_get_autocommit(db))
        rc = fail(&c, SQLMIG_MISUSE, NULL, "sqlmig_adopt() must be called outside a transaction: COMMIT or "
                  "ROLLBACK first");
    if (rc == 0 && (rc = open_own(&c)) == 0)
        rc = simple(&c, dry ? "BEGIN" : "BEGIN IMMEDIATE");
    /* A ledger with rows: adopted already, or migrated by sqlmig. */
    if (rc == 0 && (rc = ledger_shape(&c, SHAPE_USABLE, &found)) == 0 && found
        && (rc = query_int(&c, "SELECT count(*) FROM main.@", 0, &rows)) == 0 && rows) {
        rc = query_int(&c, "SELECT max(version) FROM main.@ WHERE execution_ms <> -1", 0, &c.res->to_version);
        c.res->from_version = c.res->to_version;
        snprintf(c.res->message, sizeof c.res->message, "the database has a ledger already, at version %lld: "
                 "nothing to adopt", (long long)c.res->to_version);
        return end_call(&c, rc);
    }
    if (rc == 0 && (rc = history_load(&c, set->count, how->from_table)) == 0
        && (rc = query_int(&c, "SELECT count(*) FROM temp.sqlmig_live", 0, &objects)) == 0 && objects == 0)
        rc = fail(&c, SQLMIG_TARGET, NULL, "the database holds no table, index, view or trigger: there is nothing "
                  "to adopt, and sqlmig_migrate() creates it");
    if (rc == 0 && (rc = adoption_step(&c, how, &k)) == 0)
        rc = name_differences(&c, k);
    if (rc == 0 && !dry && (rc = exec(&c, NULL, "create the ledger", CREATE_LEDGER, 0, 0, NULL)) == 0)
        rc = ledger_shape(&c, SHAPE_USABLE, &found);
    for (i = 0; rc == 0 && !dry && i < k; i++)
        rc = exec(&c, set->migrations + i, "write the ledger", INSERT_ROW, set->migrations[i].version, -2, NULL);
    if (rc == 0 && !dry && (rc = simple(&c, "COMMIT")) == 0)
        c.wrote = 1;
    if (rc == 0) {
        c.res->to_version = version_at(set, k);
        c.res->applied = k;
        log_line(&c, SQLMIG_LOG_INFO, "%s version %lld: %zu migration(s) %s applied, not run, as its schema is "
                 "theirs", dry ? "would adopt" : "adopted", (long long)c.res->to_version, k,
                 dry ? "to be marked" : "marked");
    }
    return end_call(&c, rc);
}

/* ---- sqlmig_main(): a command line over the database ---------------------------- */

/* What one command line asks (see sqlmig_main()). */
struct cli {
    const char *command;
    const sqlmig_options *o;
    int json, dry_run, yes, terminal;
    int64_t to, version;
    int has_to;
    const char *from, *from_table, *how;
    int64_t pairs[2 * 32]; /* --user-version U=V */
    size_t npairs;
};

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* The runtime's lines: progress on a terminal only, problems always (stderr). */
static void cli_log(void *ctx, int level, const char *message)
{
    const struct cli *l = ctx;

    if (level == SQLMIG_LOG_INFO) {
        if (l->terminal && !l->json)
            printf("  %s\n", message);
    } else if (!l->json) {
        fprintf(stderr, "%s%s\n", level == SQLMIG_LOG_WARN ? "warning: " : "", message);
    }
}

/* A failure of the runtime: "CODE: message" on stderr, or the JSON object; 1. */
static int cli_failed(const struct cli *l, int rc, const sqlmig_result *res)
{
    if (l->json) {
        printf("{\"version\": %lld, \"ok\": false, \"code\": \"%s\", \"message\": ", (long long)res->to_version,
               sqlmig_errname(rc));
        json_string(stdout, res->message);
        printf("}\n");
    } else {
        fprintf(stderr, "%s: %s\n", sqlmig_errname(rc), res->message);
    }
    return 1;
}

static int cli_usage(const char *command, const char *what, const char *arg)
{
    fprintf(stderr, "error: %s: %s%s%s%s (%s --help says more)\n", command, what, arg ? " '" : "", arg ? arg : "",
            arg ? "'" : "", command);
    return 2;
}

static const char *state_name(int state)
{
    static const char *const names[] = { "pending", "applied", "changed", "started", "not in set", "outdated" };
    return state >= 0 && state <= SQLMIG_OUTDATED ? names[state] : "?";
}

struct cli_rows {
    const struct cli *l;
    size_t n, pending;
    int64_t newest, before; /* the newest applied version of the set, and the one before it */
};

static int cli_row(void *ctx, const struct sqlmig_status_row *row)
{
    struct cli_rows *s = ctx;
    const char *file = row->migration ? row->migration->file : row->name;
    /* Colour on a terminal: pending yellow, a problem red. */
    const char *on = !s->l->terminal ? "" : row->state == SQLMIG_PENDING || row->state == SQLMIG_OUTDATED
                   ? "\033[33m" : row->state == SQLMIG_APPLIED ? "" : "\033[31m";
    char version[24];

    s->pending += row->state == SQLMIG_PENDING || row->state == SQLMIG_OUTDATED;
    if (row->migration && row->version && (row->state == SQLMIG_APPLIED || row->state == SQLMIG_CHANGED)) {
        s->before = s->newest;
        s->newest = row->version;
    }
    if (!s->l->command) /* only counting */
        return 0;
    if (s->l->json) {
        printf("%s\n    {\"version\": %lld, \"name\": ", s->n ? "," : "", (long long)row->version);
        json_string(stdout, row->name);
        printf(", \"file\": ");
        json_string(stdout, row->migration ? row->migration->file : NULL);
        printf(", \"state\": \"%s\", \"applied_at\": ", state_name(row->state));
        if (row->applied_at)
            json_string(stdout, row->applied_at);
        else
            printf("null");
        printf(", \"execution_ms\": %lld}", (long long)row->execution_ms);
    } else {
        snprintf(version, sizeof version, row->version ? "%lld" : "repeatable", (long long)row->version);
        printf("%s%-10s%s %14s  %s%s%s\n", on, state_name(row->state), *on ? "\033[0m" : "", version,
               file ? file : "?", row->applied_at ? "  " : "", row->applied_at ? row->applied_at : "");
    }
    s->n++;
    return 0;
}

/*
** repair VERSION: show the stored and the embedded checksum of an applied
** migration; with --yes, store the embedded one (an edit on purpose).
*/
static int cli_repair(struct cli *l, sqlite3 *db, const struct sqlmig_set *set)
{
    const struct sqlmig_migration *m = in_set(set, l->version);
    struct call c;
    sqlmig_result res;
    int64_t found = 0;
    char stored[80] = "";
    sqlite3_stmt *st = NULL;
    int rc;

    if (!m)
        return cli_usage(l->command, "no migration of the set has that version", NULL);
    if ((rc = init(&c, db, set, l->o, &res)) == 0 && (rc = open_own(&c)) == 0
        && (rc = prepare(&c, "SELECT checksum FROM main.@ WHERE version = ?1", &st)) != SQLITE_OK)
        rc = sqlite_failed(&c, rc, "read the ledger");
    if (rc) {
        sqlite3_finalize(st);
        return cli_failed(l, end_call(&c, rc), &res);
    }
    if (sqlite3_bind_int64(st, 1, l->version) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        snprintf(stored, sizeof stored, "%.70s", text_of(st, 0));
        found = 1;
    }
    sqlite3_finalize(st);
    if (!found) {
        fail(&c, SQLMIG_TARGET, m, "version %lld is not in the ledger %s: nothing to repair", (long long)l->version,
             c.qt);
        return cli_failed(l, end_call(&c, SQLMIG_TARGET), &res);
    }
    printf("version %lld (%s)\n  stored checksum:   %s\n  embedded checksum: %s\n", (long long)l->version, m->file,
           stored, m->checksum);
    if (strcmp(stored, m->checksum) == 0 || !l->yes) {
        printf(strcmp(stored, m->checksum) == 0 ? "they are the same: nothing to repair\n"
               : "nothing changed; if the edit is deliberate, and the database holds what the file now says, "
                 "run again with --yes\n");
        end_call(&c, 0);
        return strcmp(stored, m->checksum) == 0 ? 0 : 1;
    }
    if ((rc = exec(&c, m, "write the ledger", "UPDATE main.@ SET checksum = ?4 WHERE version = ?1", l->version, 0,
                   NULL)) == 0)
        c.wrote = 1;
    if ((rc = end_call(&c, rc)) != 0)
        return cli_failed(l, rc, &res);
    printf("version %lld now has the embedded checksum\n", (long long)l->version);
    return 0;
}

/* One command, its arguments parsed. */
static int cli_run(struct cli *l, sqlite3 *db, const struct sqlmig_set *set)
{
    struct sqlmig_adoption how;
    struct cli_rows rows;
    sqlmig_options o = *l->o;
    sqlmig_result res;
    const char *c = l->command;
    int64_t target;
    int rc;

    o.log = cli_log;
    o.log_ctx = l;
    o.flags = (o.flags & ~SQLMIG_TERMINAL) | (l->dry_run ? SQLMIG_DRY_RUN : 0);
    memset(&rows, 0, sizeof rows);
    rows.l = l;
    if (strcmp(c, "status") == 0) {
        if (l->json)
            printf("{\"migrations\": [");
        rc = sqlmig_status(db, set, &o, cli_row, &rows, &res);
        if (l->json) {
            printf("\n  ], \"version\": %lld, \"pending\": %zu, \"ok\": %s, \"code\": \"%s\", \"message\": ",
                   (long long)res.to_version, rows.pending, rc ? "false" : "true", sqlmig_errname(rc));
            json_string(stdout, res.message);
            printf("}\n");
            return rc ? 1 : 0;
        }
        if (rc)
            return cli_failed(l, rc, &res);
        printf("version %lld, %zu pending%s%s\n", (long long)res.to_version, rows.pending, res.message[0] ? "; " : "",
               res.message);
        return 0;
    }
    if (strcmp(c, "verify") == 0) {
        rc = sqlmig_verify(db, set, &o, &res);
        if (l->json) {
            printf("{\"version\": %lld, \"ok\": %s, \"code\": \"%s\", \"message\": ", (long long)res.to_version,
                   rc ? "false" : "true", sqlmig_errname(rc));
            json_string(stdout, res.message);
            printf("}\n");
            return rc ? 1 : 0;
        }
        if (rc)
            return cli_failed(l, rc, &res);
        printf("version %lld, verified%s%s\n", (long long)res.to_version, res.message[0] ? ": " : "", res.message);
        return 0;
    }
    if (strcmp(c, "up") == 0) {
        o.target = l->has_to ? l->to : 0;
        if ((rc = sqlmig_migrate(db, set, &o, &res)) != 0)
            return cli_failed(l, rc, &res);
        target = l->has_to ? l->to : set->count ? set->migrations[set->count - 1].version : 0;
        printf("version %lld -> %lld, %zu %s\n", (long long)res.from_version,
               (long long)(l->dry_run ? target : res.to_version), res.applied,
               l->dry_run ? "to apply (dry run)" : "applied");
        return 0;
    }
    if (strcmp(c, "down") == 0) {
        target = l->to;
        if (!l->has_to) { /* the newest applied one only, as dbmate and goose do */
            rows.l = &(struct cli){ NULL, NULL, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, { 0 }, 0 };
            if ((rc = sqlmig_status(db, set, &o, cli_row, &rows, &res)) != 0)
                return cli_failed(l, rc, &res);
            target = rows.before;
        }
        if ((rc = sqlmig_rollback(db, set, &o, target, &res)) != 0)
            return cli_failed(l, rc, &res);
        printf("version %lld -> %lld, %zu %s\n", (long long)res.from_version,
               (long long)(l->dry_run ? target : res.to_version), res.applied,
               l->dry_run ? "to roll back (dry run)" : "rolled back");
        return 0;
    }
    if (strcmp(c, "adopt") == 0) {
        memset(&how, 0, sizeof how);
        how.version = l->version;
        how.user_versions = l->npairs ? l->pairs : NULL;
        how.user_version_pairs = l->npairs;
        how.from = l->from;
        how.from_table = l->from_table;
        if ((rc = sqlmig_adopt(db, set, &o, &how, &res)) != 0)
            return cli_failed(l, rc, &res);
        if (res.message[0])
            printf("%s\n", res.message);
        else
            printf("%s version %lld (%zu migrations marked applied, not run)\n",
                   l->dry_run ? "would adopt at" : "adopted at", (long long)res.to_version, res.applied);
        return 0;
    }
    if (strcmp(c, "resolve") == 0) {
        rc = sqlmig_resolve(db, &o, l->version, strcmp(l->how, "applied") == 0 ? SQLMIG_RESOLVE_APPLIED
                                                                                : SQLMIG_RESOLVE_RETRY, &res);
        if (rc)
            return cli_failed(l, rc, &res);
        printf("version %lld %s\n", (long long)l->version,
               strcmp(l->how, "applied") == 0 ? "marked applied" : "will run again");
        return 0;
    }
    return cli_repair(l, db, set);
}

static const struct {
    const char *command, *synopsis, *text;
} cli_helps[] = {
    { "status", "status [--json]", "every migration and ledger row, with its state (applied, pending, changed,\n"
                                   "started, not in set, outdated) and when it was applied" },
    { "up", "up [--to VERSION] [--dry-run]", "apply what is pending" },
    { "down", "down [--to VERSION] [--dry-run]", "roll back the newest migration, or every one above VERSION (0: "
                                                 "all),\nwith their down parts" },
    { "verify", "verify [--json]", "check the ledger, the checksums and, once all is applied, the schema" },
    { "adopt", "adopt [--version V | --user-version U=V... | --from TOOL [--from-table NAME]] [--dry-run]",
      "record in a new ledger the migrations a database made without sqlmig is at:\n"
      "found from its schema, given, mapped from PRAGMA user_version, or read from the\n"
      "ledger of TOOL (dbmate, golang-migrate, goose, sqlx, diesel, drizzle, flyway)" },
    { "resolve", "resolve VERSION applied|retry", "settle a no-transaction migration that was interrupted" },
    { "repair", "repair VERSION [--yes]", "show the stored and the embedded checksum of an applied migration;\n"
                                          "with --yes, store the embedded one (a migration edited on purpose)" },
};

int sqlmig_main(sqlite3 *db, const struct sqlmig_set *set, const sqlmig_options *options, int argc, char **argv)
{
    static const sqlmig_options defaults;
    struct cli l;
    char pair[64], *eq, *end;
    size_t k;
    int i, positional = 0;

    memset(&l, 0, sizeof l);
    l.o = options ? options : &defaults;
    l.terminal = (l.o->flags & SQLMIG_TERMINAL) != 0;
    if (argc < 1 || !argv || !argv[0]) {
        fputs("usage: status|up|down|verify|adopt|resolve|repair [options] (COMMAND --help says more)\n", stderr);
        return 2;
    }
    for (k = 0; k < sizeof cli_helps / sizeof cli_helps[0] && strcmp(argv[0], cli_helps[k].command) != 0; k++) {}
    if (k == sizeof cli_helps / sizeof cli_helps[0]) {
        if (strcmp(argv[0], "--help") != 0 && strcmp(argv[0], "help") != 0)
            return cli_usage(argv[0], "no such command: status, up, down, verify, adopt, resolve or repair", NULL);
        for (k = 0; k < sizeof cli_helps / sizeof cli_helps[0]; k++)
            printf("%-9s %s\n", cli_helps[k].command, cli_helps[k].synopsis + strlen(cli_helps[k].command));
        return 0;
    }
    l.command = cli_helps[k].command;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t *slot = NULL;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: %s\n%s\n", cli_helps[k].synopsis, cli_helps[k].text);
            return 0;
        } else if (strcmp(a, "--json") == 0 && (k == 0 || k == 3)) {
            l.json = 1;
        } else if (strcmp(a, "--dry-run") == 0 && (k == 1 || k == 2 || k == 4)) {
            l.dry_run = 1;
        } else if (strcmp(a, "--yes") == 0 && k == 6) {
            l.yes = 1;
        } else if ((strcmp(a, "--to") == 0 && (k == 1 || k == 2)) || (strcmp(a, "--version") == 0 && k == 4)) {
            slot = a[2] == 't' ? (l.has_to = 1, &l.to) : &l.version;
        } else if ((strcmp(a, "--from") == 0 || strcmp(a, "--from-table") == 0) && k == 4 && v) {
            *(a[6] ? &l.from_table : &l.from) = argv[++i];
        } else if (strcmp(a, "--user-version") == 0 && k == 4 && v) {
            snprintf(pair, sizeof pair, "%s", argv[++i]);
            if (!(eq = strchr(pair, '=')) || l.npairs == 32)
                return cli_usage(l.command, "--user-version is U=V (a user_version, the version it means), at most "
                                 "32 times:", argv[i]);
            *eq = '\0';
            l.pairs[2 * l.npairs] = strtoll(pair, &end, 10);
            if (end == pair || *end || (l.pairs[2 * l.npairs + 1] = strtoll(eq + 1, &end, 10), end == eq + 1) || *end)
                return cli_usage(l.command, "--user-version is U=V, two numbers:", argv[i]);
            l.npairs++;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage(l.command, "unknown option, or one without its value:", a);
        } else if (positional == 0 && (k == 5 || k == 6)) {
            l.version = strtoll(a, &end, 10);
            if (end == a || *end)
                return cli_usage(l.command, "VERSION is a number, not", a);
            positional++;
        } else if (positional == 1 && k == 5 && (strcmp(a, "applied") == 0 || strcmp(a, "retry") == 0)) {
            l.how = a;
            positional++;
        } else {
            return cli_usage(l.command, "unexpected argument", a);
        }
        if (slot) {
            if (!v || (*slot = strtoll(v, &end, 10), end == v) || *end)
                return cli_usage(l.command, v ? "a version is a number, not" : "a version is needed after", v ? v : a);
            i++;
        }
    }
    if ((k == 5 && positional < 2) || (k == 6 && positional < 1))
        return cli_usage(l.command, k == 5 ? "expected VERSION applied|retry" : "expected VERSION", NULL);
    if (!db || !set) {
        fprintf(stderr, "SQLMIG_MISUSE: sqlmig_main() needs the database and the set\n");
        return 1;
    }
    return cli_run(&l, db, set);
}

const char *sqlmig_errname(int code)
{
    static const char *const names[] = {
#define SQLMIG_X_NAME(name, value, text) [value] = "SQLMIG_" #name,
        SQLMIG_ERRORS(SQLMIG_X_NAME)
#undef SQLMIG_X_NAME
    };
    return code >= 0 && code < SQLMIG_CODE_END && names[code] ? names[code] : "SQLMIG_UNKNOWN_CODE";
}

const char *sqlmig_errstr(int code)
{
    static const char *const texts[] = {
#define SQLMIG_X_TEXT(name, value, text) [value] = text,
        SQLMIG_ERRORS(SQLMIG_X_TEXT)
#undef SQLMIG_X_TEXT
    };
    return code >= 0 && code < SQLMIG_CODE_END && texts[code] ? texts[code] : "unknown result code";
}

const char *sqlmig_libversion(void)
{
    return SQLMIG_VERSION;
}
