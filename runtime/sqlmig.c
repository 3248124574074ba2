/*
** sqlmig.c — the sqlmig runtime: applies the migrations embedded in a program
** (a struct sqlmig_set written by `sqlmig compile`) to a SQLite database,
** records them in a ledger table, and reports status, drift and interrupted
** migrations. sqlmig.h is the manual.
**
** Depends on C11 and SQLite only. No global mutable state, nothing printed,
** no heap allocation of its own: SQL text and messages are built in stack
** buffers. The ledger and the embedded set are both sorted by version, so
** every check is one merge walk over one query (walk()).
*/
#include "sqlmig.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#if defined(__GNUC__)
#define PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF(f, a)
#endif

/* Internal results of a walk visitor, never returned to the caller. */
#define WAIT (-1) /* a migration is running outside a transaction elsewhere */
#define STOP (-2) /* found the next pending migration */
#define FOUND (-3) /* missing(): the table exists after all */
#define USABLE (-4) /* ledger(): a table sqlmig can use is there */

/* How ledger() looks at what has the ledger's name. */
#define PEEK 0  /* a read without the lock failed: it may have just been created */
#define FINAL 1 /* a statement on it failed: say what is there */
#define CHECK 2 /* before writing: it must be a table that sqlmig can use */

/* Statements on the ledger: exec() puts its quoted name in place of '@'. */
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

/* The fields used most come first: a short offset away in the machine code. */
struct ctx {
    sqlite3 *db;
    const struct sqlmig_set *set;
    const sqlmig_options *o;
    sqlmig_result *res;
    /* The migration being applied, or next to be: sqlfail() names it. */
    const struct sqlmig_migration *cur;
    const struct sqlmig_migration *started; /* no-transaction migration under way */
    const struct sqlmig_migration *last;    /* the last one applied in the open transaction */
    /* What the last walk found. */
    size_t first, pending, left; /* left: pending at the last full walk, minus ours */
    int64_t newest;
    size_t next, done; /* next to look at; applied in the open transaction */
    int in_tx, committing; /* committing: a COMMIT of ours was issued and has not succeeded */
    int partial, plan;
    int wait_ms;        /* how long to wait for a started migration */
    int own_busy;       /* the connection's busy timeout before the call; -1: not changed */
    int stale;          /* another connection committed since our last transaction */
    int snap;           /* a fresh database may be created from the snapshot */
    const struct sqlmig_migration *wait;
    int (*visit)(struct ctx *, const struct sqlmig_status_row *);
    const char *table;  /* ledger name as given */
    int64_t target;     /* newest version to apply */
    /* Apply state: foreign_keys as found (-1: untouched), data_version of
    ** our last transaction, newest version this call applied. */
    int64_t fk, dv, top;
    int64_t fresh;      /* the main database had nothing in it under our lock */
    struct sqlmig_migration whole; /* the snapshot, as a migration that run() can run */
    int (*cb)(void *, const struct sqlmig_status_row *);
    void *cb_ctx;
    /* sqlmig_verify(): problems found, the first one, whether logged. */
    int problems, logged;
    sqlmig_result *first_problem;
    char qt[404];       /* the ledger name, quoted: "name" with " doubled */
};

static int PRINTF(4, 5)
fail(struct ctx *c, int code, const struct sqlmig_migration *m, const char *fmt, ...)
{
    sqlmig_result *r = c->res;
    va_list ap;

    r->code = code;
    r->version = m ? m->version : 0;
    r->name = m ? m->name : NULL;
    r->file = m ? m->file : NULL;
    r->line = r->column = r->sqlite_code = 0;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    return code;
}

/* Add to the message already in res (a consequence, a piece of advice). */
static void PRINTF(2, 3) append(struct ctx *c, const char *fmt, ...)
{
    size_t n = strlen(c->res->message);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->res->message + n, sizeof c->res->message - n, fmt, ap);
    va_end(ap);
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

/* A SQLite error outside any migration's SQL; `what` names the operation. */
static int sqlfail(struct ctx *c, int rc, const char *what)
{
    int code = code_of(rc, SQLMIG_SQLITE);

    /* While applying, name the migration: its BEGIN, ledger row or COMMIT failed. */
    fail(c, code, c->cur, "%s%s%s: %s", c->cur ? c->cur->file : "", c->cur ? ": " : "", what,
         sqlite3_errmsg(c->db));
    c->res->sqlite_code = sqlite3_extended_errcode(c->db);
    if (code == SQLMIG_BUSY && c->o->busy_timeout_ms < 0)
        append(c, " (another connection held it, and the connection's own busy handler gave up: "
               "retry, or give it a longer timeout)");
    else if (code == SQLMIG_BUSY)
        append(c, " (another connection held it longer than the busy timeout of %d ms: "
               "retry, or raise busy_timeout_ms)", c->wait_ms);
    else
        append(c, "%s", advice(c->res->sqlite_code));
    return code;
}

static void PRINTF(3, 4) say(struct ctx *c, int level, const char *fmt, ...)
{
    char line[1280];
    va_list ap;

    if (!c->o->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->o->log(c->o->log_ctx, level, line);
}

static const char *col(sqlite3_stmt *st, int i)
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
    "WHEN lower(name) IN ('version', 'execution_ms') THEN type LIKE '%INT%' "                     \
    "AND pk = (lower(name) = 'version') "                                                         \
    "WHEN lower(name) IN ('name', 'checksum', 'applied_at') THEN pk = 0 AND type NOT LIKE "       \
    "'%INT%' AND (type LIKE '%CHAR%' OR type LIKE '%CLOB%' OR type LIKE '%TEXT%') "               \
    "ELSE pk = 0 AND (dflt_value IS NOT NULL OR NOT \"notnull\") END) "                           \
    "FROM pragma_table_info(?1, 'main')) AS ok "                                                  \
    "FROM main.sqlite_schema AS s WHERE s.name = ?1 COLLATE NOCASE AND s.type <> 'trigger')"

/*
** Look at what has the ledger's name (a trigger's name is another
** namespace). Returns 0 when nothing has it; FOUND when something does and
** `how` is PEEK; for a table sqlmig can use, 0 under CHECK and USABLE under
** FINAL; otherwise SQLMIG_LEDGER, with a message that says what is there.
*/
static int ledger(struct ctx *c, int how)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, SHAPE, -1, &st, NULL);

    if (rc == SQLITE_OK && (rc = sqlite3_bind_text(st, 1, c->table, -1, SQLITE_STATIC)) == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc != SQLITE_ROW)
        rc = sqlfail(c, rc, "read the ledger");
    else if (how == PEEK)
        rc = FOUND;
    else if (sqlite3_column_int(st, 0))
        rc = how == CHECK ? 0 : USABLE;
    else
        rc = fail(c, SQLMIG_LEDGER, NULL, "%s", col(st, 1));
    sqlite3_finalize(st);
    return rc;
}

/*
** A statement on the ledger did not prepare. Either nothing has its name (a
** fresh database: return 0), or something sqlmig cannot use does (another
** tool's ledger: SQLMIG_LEDGER), or SQLite failed on a table that sqlmig can
** use (a trigger on it that names a dropped table, say: SQLite's message).
** Decided by looking in sqlite_schema, never by parsing SQLite's message.
** Unless `final`, whatever is found is only FOUND: another process may have
** just created the ledger.
*/
static int missing(struct ctx *c, int rc, const char *what, int final)
{
    char err[256];
    int x = sqlite3_extended_errcode(c->db);

    if (rc != SQLITE_ERROR)
        return sqlfail(c, rc, what);
    snprintf(err, sizeof err, "%s", sqlite3_errmsg(c->db));
    if ((rc = ledger(c, final ? FINAL : PEEK)) != USABLE)
        return rc;
    fail(c, SQLMIG_SQLITE, NULL, "%s: %s", what, err);
    c->res->sqlite_code = x;
    return SQLMIG_SQLITE;
}

/* Prepare tmpl with the quoted ledger name in place of its '@', if any. */
static int prepare(struct ctx *c, const char *tmpl, sqlite3_stmt **st)
{
    const char *at = strchr(tmpl, '@');
    char sql[768];

    if (at) {
        snprintf(sql, sizeof sql, "%.*s%s%s", (int)(at - tmpl), tmpl, c->qt, at + 1);
        tmpl = sql;
    }
    return sqlite3_prepare_v2(c->db, tmpl, -1, st, NULL);
}

/*
** Run one statement of ours to its end, binding ?1 v, ?2 ms, ?3 m's name and
** ?4 m's checksum where present. A query (out given) stores the first column
** of its first row in *out (unchanged if no row) and reports any failure as
** it is; a statement that does not prepare asks missing() whether the
** ledger is gone.
*/
static int exec(struct ctx *c, const char *what, const char *tmpl, int64_t v,
                int64_t ms, const struct sqlmig_migration *m, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(c, tmpl, &st), i, n;

    if (rc != SQLITE_OK && !out) {
        /* Only sqlmig_resolve() can find no ledger, unless a migration
        ** dropped or renamed it. */
        if ((rc = missing(c, rc, what, 1)) != 0)
            return rc;
        if (c->cur)
            return fail(c, SQLMIG_MIGRATION, c->cur, "%s dropped or renamed the ledger table %s, "
                        "which migrations must leave alone", c->cur->file, c->qt);
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
    rc = rc == SQLITE_DONE ? 0 : sqlfail(c, rc, what);
    sqlite3_finalize(st);
    return rc;
}

static int simple(struct ctx *c, const char *sql)
{
    return exec(c, sql, sql, 0, 0, NULL, NULL);
}

/* The first column of the first row of sql (with ?1 bound to v, if any);
** *out is unchanged if there is no row. */
static int query_int(struct ctx *c, const char *sql, int64_t v, int64_t *out)
{
    return exec(c, sql, sql, v, 0, NULL, out);
}

/* ---- the ledger walk --------------------------------------------------- */

/*
** Step the ledger query (version, checksum, execution_ms, name, applied_at).
** A row must hold what sqlmig writes: INTEGER in version and execution_ms,
** TEXT in the other three; a version of at least 1 and above the previous
** row's (*v on entry, 0 before the first row: ORDER BY leaves a repeat as
** the only way not to be), an execution_ms of at least -1.
*/
static int step_row(struct ctx *c, sqlite3_stmt *st, int64_t *v, int *row)
{
    static const char *const field[] = { "version", "checksum", "execution_ms", "name", "applied_at" };
    static const char *const want[] = { "each version once, as an INTEGER of at least 1", "TEXT",
                                        "an INTEGER of at least -1", "TEXT", "TEXT" };
    /* What a value of each type looks like in the message: TEXT '1', NULL. */
    static const char *const type[] = { "", "INTEGER ", "REAL ", "TEXT '", "BLOB", "NULL" };
    int rc = sqlite3_step(st), i, t = 0;
    int64_t x;

    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return sqlfail(c, rc, "read the ledger");
    for (i = 0; i < 5; i++) {
        t = sqlite3_column_type(st, i); /* before any conversion */
        if (t != (i == 0 || i == 2 ? SQLITE_INTEGER : SQLITE_TEXT)
            || (t == SQLITE_INTEGER && ((x = sqlite3_column_int64(st, i)) < -1 || (i == 0 && x <= *v))))
            break;
    }
    if (i == 5) {
        *v = sqlite3_column_int64(st, 0);
        return 0;
    }
    return fail(c, SQLMIG_LEDGER, NULL, "the ledger table %s has a row that sqlmig did not write (version "
                "%.20s): its %s is %s%.80s%s, where sqlmig writes %s; correct or delete that row, or " OWN_TABLE,
                c->qt, col(st, 0), field[i], type[t], t < SQLITE_BLOB ? col(st, i) : "",
                t == SQLITE_TEXT ? "'" : "", want[i]);
}

/*
** Merge the ledger with the set from index `from`, both in version order,
** and pass each migration and each ledger row to c->visit() as a status row.
** A partial walk reads only versions >= the one at `from`. Without a ledger
** every migration is pending. Returns the first non-zero visit result.
*/
static int walk(struct ctx *c, size_t from)
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
    if (c->partial && m == end)
        return 0;
    /* Without a lock, the ledger may appear between two statements: if it is
    ** there after a failed prepare, prepare once more before judging it. */
    for (i = 0; (rc = prepare(c, c->partial ? READ_LEDGER " WHERE version >= ?1 ORDER BY version"
                                            : READ_LEDGER " ORDER BY version", &st)) != SQLITE_OK; i++)
        if ((rc = missing(c, rc, "read the ledger", i)) != FOUND)
            break;
    if (rc == 0 && st) { /* else no ledger: everything is pending */
        if (c->partial && sqlite3_bind_int64(st, 1, m->version) != SQLITE_OK)
            rc = sqlfail(c, SQLITE_ERROR, "read the ledger");
        else
            rc = step_row(c, st, &v, &row);
    }
    while (rc == 0 && (row || m < end)) {
        memset(&r, 0, sizeof r);
        r.execution_ms = -1;
        in_ledger = row && (m == end || m->version >= v); /* else m is pending */
        if (in_ledger) {
            r.version = v;
            r.checksum = col(st, 1);
            r.execution_ms = sqlite3_column_int64(st, 2);
            r.name = col(st, 3);
            r.applied_at = col(st, 4);
            r.state = SQLMIG_NOT_IN_SET;
            if (v > c->newest && r.execution_ms != -1)
                c->newest = v;
        }
        if (m < end && (!in_ledger || m->version == v)) {
            r.version = m->version;
            r.name = m->name;
            r.migration = m;
            r.state = !in_ledger ? SQLMIG_PENDING : r.execution_ms == -1 ? SQLMIG_STARTED
                    : strcmp(r.checksum, m->checksum) ? SQLMIG_CHANGED : SQLMIG_APPLIED;
            m++;
        }
        if ((rc = c->visit(c, &r)) == 0 && in_ledger)
            rc = step_row(c, st, &v, &row);
    }
    sqlite3_finalize(st);
    return rc;
}

static int interrupted(struct ctx *c, const struct sqlmig_migration *m)
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
static int judge(struct ctx *c, const struct sqlmig_status_row *r)
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
        fail(c, SQLMIG_UNKNOWN, NULL, "version %lld (%s) is applied but is not a migration of this "
             "program, probably applied by a newer build of it; SQLMIG_ALLOW_UNKNOWN accepts it",
             v, r->name);
        c->res->version = r->version;
        return SQLMIG_UNKNOWN;
    }
    return 0;
}

/* sqlmig_migrate()'s visitor: validate, and find what is pending. */
static int check_row(struct ctx *c, const struct sqlmig_status_row *r)
{
    if (r->state == SQLMIG_STARTED) {
        c->wait = r->migration;
        return WAIT;
    }
    if (r->state != SQLMIG_PENDING)
        return judge(c, r);
    if (r->version > c->target) /* and so are all the later ones */
        return c->partial ? STOP : 0;
    if (c->plan)
        say(c, SQLMIG_LOG_INFO, "would apply %s (version %lld)", r->migration->file, (long long)r->version);
    if (c->pending++ == 0)
        c->first = (size_t)(r->migration - c->set->migrations);
    return c->partial ? STOP : 0;
}

/* ---- applying ---------------------------------------------------------- */

/*
** Save the connection's busy timeout, which finish() sets again, and set
** busy_timeout_ms instead; once per call, and never when it is negative.
** The saved value is 0 when the connection has no handler, and also when
** its handler came from sqlite3_busy_handler(), which SQLite cannot report.
*/
static int own(struct ctx *c)
{
    int64_t t = 0;
    int rc;

    if (c->own_busy >= 0 || c->o->busy_timeout_ms < 0)
        return 0;
    if ((rc = query_int(c, "PRAGMA busy_timeout", 0, &t)) != 0)
        return rc;
    if ((rc = sqlite3_busy_timeout(c->db, c->wait_ms)) != SQLITE_OK)
        return sqlfail(c, rc, "sqlite3_busy_timeout");
    c->own_busy = (int)t;
    return 0;
}

/*
** Foreign keys off (a no-op inside a transaction, so first), BEGIN
** IMMEDIATE, and PRAGMA data_version: if another connection committed since
** our previous transaction, the ledger must be walked again.
*/
static int lock(struct ctx *c)
{
    int64_t dv = 0;
    int rc = simple(c, "PRAGMA foreign_keys=OFF");

    if (rc == 0 && (rc = simple(c, "BEGIN IMMEDIATE")) == 0) {
        c->in_tx = 1;
        rc = query_int(c, "PRAGMA data_version", 0, &dv);
    }
    if (rc)
        return rc;
    c->stale |= dv != c->dv;
    c->dv = dv;
    /* Nothing in the database yet (not even a ledger): the snapshot may do. */
    if (c->stale && c->snap && (rc = query_int(c, "SELECT count(*) = 0 FROM main.sqlite_schema", 0, &c->fresh)))
        return rc;
    /* A ledger found here may have any shape: before writing, make sure it
    ** is a table whose columns give back what sqlmig writes. */
    if (c->stale && (rc = exec(c, "create the ledger", CREATE_LEDGER, 0, 0, NULL, NULL)) == 0)
        rc = ledger(c, CHECK);
    return rc;
}

/*
** Walk the whole ledger, under the lock if one is held. While another
** connection runs a migration outside a transaction, release the lock, sleep
** and look again, for up to the busy timeout.
*/
static int look(struct ctx *c)
{
    const struct sqlmig_migration *m;
    int rc, locked = c->in_tx;
    int64_t start = -1;

    for (;;) {
        c->pending = 0;
        c->newest = 0;
        if ((rc = walk(c, 0)) != WAIT)
            break;
        /* Real time: the busy handler may also have waited inside walk(). */
        if (start >= 0 && since(start) >= c->wait_ms)
            return interrupted(c, c->wait);
        if (start < 0) {
            if ((rc = own(c)) != 0) /* waiting is more than a read: our timeout */
                return rc;
            start = now_ms();
            say(c, SQLMIG_LOG_INFO, "waiting for version %lld (%s), which another connection is applying",
                (long long)c->wait->version, c->wait->file);
        }
        if (locked) {
            if ((rc = simple(c, "ROLLBACK")) != 0)
                return rc;
            c->in_tx = 0;
        }
        sqlite3_sleep(50);
        if (locked && (rc = lock(c)) != 0)
            return rc;
    }
    if (rc)
        return rc;
    c->stale = 0;
    c->left = c->pending;
    if (c->newest > c->res->to_version)
        c->res->to_version = c->newest;
    m = c->pending ? c->set->migrations + c->first : NULL;
    if (m && m->version < c->newest && !(c->o->flags & SQLMIG_ALLOW_OUT_OF_ORDER))
        return fail(c, SQLMIG_OUT_OF_ORDER, m, "version %lld (%s) is pending but version %lld is already "
                    "applied; SQLMIG_ALLOW_OUT_OF_ORDER applies it anyway",
                    (long long)m->version, m->file, (long long)c->newest);
    return 0;
}

/* Nobody else committed since our last transaction: look past what we did. */
static int more(struct ctx *c)
{
    int rc;

    c->pending = 0;
    c->partial = 1;
    rc = walk(c, c->next);
    c->partial = 0;
    return rc == STOP ? 0 : rc;
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

/* Does the statement at p begin with the word BEGIN, COMMIT, END or
** ROLLBACK? A word ends at a character that cannot be part of an identifier
** (the NUL after up_sql included). */
static int ends_tx(const char *p, const char *end)
{
    static const char *const words[] = { "BEGIN", "COMMIT", "END", "ROLLBACK" };
    size_t i, n;

    for (i = 0; i < sizeof words / sizeof words[0]; i++) {
        n = strlen(words[i]);
        if ((size_t)(end - p) >= n && sqlite3_strnicmp(p, words[i], (int)n) == 0 && (unsigned char)p[n] < 0x80
            && !(p[n] && strchr("_$0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", p[n])))
            return 1;
    }
    return 0;
}

/* Fail m at `at` (a position in its up-SQL), as "file:line:col: msg". */
static int located(struct ctx *c, const struct sqlmig_migration *m, const char *at,
                   int sqlite_code, const char *msg)
{
    const char *p;
    int line = m->up_line ? (int)m->up_line : 1, column = 1, code;

    for (p = m->up_sql; p < at; p++) {
        if (*p == '\n')
            line++, column = 1;
        else
            column++;
    }
    code = code_of(sqlite_code, SQLMIG_MIGRATION);
    fail(c, code, m, "%s:%d:%d: %s%s", m->file, line, column, msg, advice(sqlite_code));
    c->res->line = line;
    c->res->column = column;
    c->res->sqlite_code = sqlite_code;
    return code;
}

/*
** Run m's up-SQL statement by statement. Each prepare gets the remaining
** length counting the NUL that ends every generated literal: given a length
** without it, SQLite would copy the rest of the migration for every
** statement, which is quadratic in its size. Inside our transaction no
** statement may end it: that would commit half a migration without its
** ledger row.
*/
static int run(struct ctx *c, const struct sqlmig_migration *m, int in_tx)
{
    const char *p = m->up_sql, *end = p + m->up_len, *tail, *at, *refused;
    sqlite3_stmt *st;
    int64_t t;
    int rc, off;

    while (p < end) {
        st = NULL;
        tail = end;
        at = skip(p, end);
        rc = sqlite3_prepare_v2(c->db, p, (int)(end - p) + 1, &st, &tail);
        if (rc == SQLITE_OK && !st) { /* only whitespace and comments */
            if (tail <= p)
                break;
            p = tail;
            continue;
        }
        refused = rc == SQLITE_OK && in_tx && ends_tx(at, end)
                ? "transaction control is not allowed in a migration that runs in a transaction (mark it -- "
                  "sqlmig:no-transaction)" : NULL;
        /* Outside a transaction, a statement that reads before it writes
        ** (PRAGMA journal_mode=WAL) gets SQLITE_BUSY at once, without the
        ** busy handler, if another connection holds the write lock for a
        ** moment, as processes waiting for this migration do. It changed
        ** nothing: run it again, for up to the busy timeout. */
        for (t = now_ms(); rc == SQLITE_OK && !refused;) {
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
            if (off >= 0 && off < end - p)
                at = p + off;
            rc = located(c, m, at, sqlite3_extended_errcode(c->db), sqlite3_errmsg(c->db));
        } else if (refused || (in_tx && sqlite3_get_autocommit(c->db))) {
            rc = located(c, m, at, 0, refused ? refused : "this statement ended the migration's transaction");
        }
        sqlite3_finalize(st);
        if (rc)
            return rc;
        p = tail;
    }
    return 0;
}

/* PRAGMA foreign_key_check must find nothing before a migration commits. */
static int fk_check(struct ctx *c, const struct sqlmig_migration *m)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA foreign_key_check", -1, &st, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = fail(c, SQLMIG_FOREIGN_KEY, m, "%s: foreign key violation: row %s of table %s refers to "
                  "a missing row of table %s", m ? m->file : "batch", col(st, 1), col(st, 0), col(st, 2));
    else
        rc = rc == SQLITE_DONE ? 0 : sqlfail(c, rc, "PRAGMA foreign_key_check");
    sqlite3_finalize(st);
    return rc;
}

/* m is done in the open transaction (not yet committed). */
static void applied(struct ctx *c, const struct sqlmig_migration *m, int64_t ms)
{
    c->done++;
    c->left--;
    c->last = m;
    if (m->version > c->top)
        c->top = m->version;
    c->next = (size_t)(m - c->set->migrations) + 1;
    say(c, SQLMIG_LOG_INFO, "applied %s (version %lld) in %lld ms%s", m->file, (long long)m->version,
        (long long)ms, c->o->flags & SQLMIG_BATCH && !(m->flags & SQLMIG_NO_TRANSACTION)
        ? ", to be committed with the batch" : "");
}

static int commit(struct ctx *c)
{
    int rc;

    if (c->done) /* a failure from here on is the commit of the last one applied (of a batch) */
        c->cur = c->last;
    if ((rc = c->done ? fk_check(c, c->done == 1 ? c->last : NULL) : 0) != 0)
        return rc;
    c->committing = 1; /* until it succeeds: finish() then asks whether it took effect */
    if ((rc = simple(c, "COMMIT")) != 0)
        return rc;
    c->committing = 0;
    c->in_tx = 0;
    c->res->applied += c->done;
    if (c->done) /* the one after it comes next, unless another process applied it */
        c->cur = c->next < c->set->count ? c->set->migrations + c->next : NULL;
    c->done = 0;
    if (c->top > c->res->to_version)
        c->res->to_version = c->top;
    return 0;
}

/* Apply m inside the open transaction, with the insert of its ledger row. */
static int inside(struct ctx *c, const struct sqlmig_migration *m)
{
    int64_t t = now_ms(), ms;
    int rc = run(c, m, 1);

    if (rc || (rc = exec(c, "write the ledger", INSERT_ROW, m->version, ms = since(t), m, NULL)) != 0)
        return rc;
    applied(c, m, ms);
    return c->o->flags & SQLMIG_BATCH ? 0 : commit(c);
}

/*
** A fresh database: run the snapshot (the state the whole history reaches,
** proven equal to it when the set was compiled), then write every ledger
** row with one prepared insert, in the transaction lock() opened.
*/
static int snapshot(struct ctx *c)
{
    const struct sqlmig_set *s = c->set;
    const struct sqlmig_migration *m;
    sqlite3_stmt *st = NULL;
    int64_t t = now_ms();
    int rc;

    c->whole.name = c->whole.file = "snapshot";
    c->whole.up_sql = s->snapshot_sql;
    c->whole.up_len = s->snapshot_len;
    c->whole.up_line = 1;
    c->cur = &c->whole;
    if ((rc = run(c, &c->whole, 1)) != 0)
        return rc;
    rc = prepare(c, INSERT_ROW, &st);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, 0);
    for (m = s->migrations; rc == SQLITE_OK && m < s->migrations + s->count; m++)
        if ((rc = sqlite3_bind_int64(st, 1, m->version)) == SQLITE_OK
            && (rc = sqlite3_bind_text(st, 3, m->name, -1, SQLITE_STATIC)) == SQLITE_OK
            && (rc = sqlite3_bind_text(st, 4, m->checksum, -1, SQLITE_STATIC)) == SQLITE_OK
            && (rc = sqlite3_step(st)) == SQLITE_DONE)
            rc = sqlite3_reset(st);
    if (rc != SQLITE_OK)
        rc = sqlfail(c, rc, "write the ledger");
    sqlite3_finalize(st);
    if (rc)
        return rc;
    c->done = c->next = s->count;
    c->left = 0;
    c->last = m - 1;
    c->top = c->last->version;
    say(c, SQLMIG_LOG_INFO, "created version %lld from the snapshot: %zu migrations in one transaction, "
        "in %lld ms", (long long)c->top, s->count, (long long)since(t));
    return commit(c);
}

/*
** A no-transaction migration: commit its ledger row as started (-1), run it
** in autocommit mode, then complete the row. If it fails or the process
** dies, the row stays started and the next run reports SQLMIG_INTERRUPTED.
*/
static int outside(struct ctx *c, const struct sqlmig_migration *m)
{
    int64_t t, ms;
    int rc = exec(c, "write the ledger", INSERT_ROW, m->version, -1, m, NULL);

    if (rc || (rc = commit(c)) != 0)
        return rc;
    c->started = m; /* from here on a failure leaves its work and its started row */
    say(c, SQLMIG_LOG_INFO, "running %s (version %lld) outside a transaction", m->file, (long long)m->version);
    t = now_ms();
    /* It may BEGIN a transaction of its own: if it fails inside it, or
    ** leaves it open, finish() rolls it back, so that the caller gets its
    ** connection back in autocommit mode. */
    c->in_tx = 1;
    if ((rc = run(c, m, 0)) != 0)
        return rc;
    if (!sqlite3_get_autocommit(c->db))
        return fail(c, SQLMIG_MIGRATION, m, "%s: the migration left a transaction open", m->file);
    ms = since(t);
    if ((rc = lock(c)) != 0 || (rc = exec(c, "write the ledger", UPDATE_ROW, m->version, ms, m, NULL)) != 0)
        return rc;
    /* Someone resolved the row while it ran: never complete a row we did not start. */
    if (sqlite3_changes(c->db) != 1) {
        c->started = NULL; /* its row is gone: the message below says all there is */
        return fail(c, SQLMIG_INTERRUPTED, m, "version %lld (%s) ran, but its started row was removed "
                    "from the ledger %s meanwhile (sqlmig_resolve() while it was running?): "
                    "check the database before running it again", (long long)m->version, m->file, c->qt);
    }
    applied(c, m, ms);
    if ((rc = commit(c)) == 0)
        c->started = NULL;
    return rc;
}

static int apply(struct ctx *c)
{
    const struct sqlmig_migration *m;
    size_t i;
    int rc, x;

    c->target = c->o->target ? c->o->target : INT64_MAX;
    for (i = 0; c->o->target && i < c->set->count && c->set->migrations[i].version != c->o->target; i++) {}
    if (c->o->target && i == c->set->count)
        return fail(c, SQLMIG_TARGET, NULL, "the target version %lld is not a version of the set",
                    (long long)c->o->target);
    /*
    ** No lock, no write, and the caller's own busy handler: up to date, this
    ** read is the call's only statement. Anything more (a lock to wait for,
    ** a migration to apply or to wait for) runs under busy_timeout_ms.
    */
    rc = look(c);
    x = c->res->sqlite_code & 0xff;
    if (rc && (x == SQLITE_BUSY || x == SQLITE_LOCKED) && c->own_busy < 0 && c->o->busy_timeout_ms >= 0) {
        memset(c->res, 0, sizeof *c->res);
        if ((rc = own(c)) == 0)
            rc = look(c);
    }
    c->res->from_version = c->res->to_version;
    if (rc || c->pending == 0 || (rc = own(c)) != 0)
        return rc;
    if (c->o->flags & SQLMIG_DRY_RUN) {
        if ((rc = ledger(c, CHECK)) != 0) /* what the real run would refuse under its lock */
            return rc;
        c->plan = 1;
        rc = look(c);
        c->res->applied = c->pending;
        return rc;
    }
    if (!sqlite3_get_autocommit(c->db))
        return fail(c, SQLMIG_MISUSE, NULL, "sqlmig_migrate() must be called outside a transaction, and "
                    "%zu migration(s) are pending: COMMIT or ROLLBACK first", c->pending);
    /* BEGIN IMMEDIATE succeeds on a read-only connection: ask first. */
    if (sqlite3_db_readonly(c->db, "main") == 1)
        return fail(c, SQLMIG_READONLY, NULL, "the database is read-only and %zu migration(s) are "
                    "pending: open it read-write (SQLITE_OPEN_READWRITE), as a user that may write the file and its "
                    "folder, to apply them", c->pending);
    if ((rc = query_int(c, "PRAGMA foreign_keys", 0, &c->fk)) != 0)
        return rc;
    /* The snapshot holds the state after the last migration, no other. */
    c->snap = c->set->snapshot_sql && !(c->o->flags & SQLMIG_REPLAY)
              && c->target >= c->set->migrations[c->set->count - 1].version;
    c->cur = c->set->migrations + c->first;
    for (;;) {
        /* Others can only apply what we see pending: none left, no more locks. */
        if (c->left == 0)
            return c->in_tx ? commit(c) : 0;
        if (!c->in_tx && (rc = lock(c)) != 0)
            return rc;
        if ((rc = c->stale ? look(c) : more(c)) != 0)
            return rc;
        if (c->pending == 0)
            return commit(c);
        m = c->set->migrations + c->first;
        c->cur = m;
        if (c->fresh && c->pending == c->set->count)
            rc = snapshot(c);
        else if (!(m->flags & SQLMIG_NO_TRANSACTION))
            rc = inside(c, m);
        else /* it ends a batch; it gets transactions of its own */
            rc = c->done ? commit(c) : outside(c, m);
        if (rc)
            return rc;
    }
}

/* ---- the public functions ---------------------------------------------- */

static int init(struct ctx *c, sqlite3 *db, const struct sqlmig_set *set,
                const sqlmig_options *o, sqlmig_result *res)
{
    static const sqlmig_options defaults;
    const struct sqlmig_migration *m;
    size_t i, n;
    int ms;

    memset(c, 0, sizeof *c);
    memset(res, 0, sizeof *res);
    c->db = db;
    c->set = set;
    c->o = o ? o : &defaults;
    c->res = res;
    c->fk = c->dv = -1;
    c->own_busy = -1;
    c->table = c->o->table ? c->o->table : "schema_migrations";
    n = strlen(c->table);
    if (!db || !set || (set->count && !set->migrations) || (set->object_count && !set->objects)
        || set->snapshot_len >= INT_MAX)
        return fail(c, SQLMIG_MISUSE, NULL, "the database handle or the set is NULL, or the set has "
                    "a count but no array, or a snapshot over 2 GiB");
    if (n == 0 || n > 200 || sqlite3_strnicmp(c->table, "sqlite_", 7) == 0)
        return fail(c, SQLMIG_MISUSE, NULL, "the ledger table name must have 1 to 200 bytes and not "
                    "start with sqlite_ (reserved by SQLite)");
    sqlite3_snprintf(sizeof c->qt, c->qt, "\"%w\"", c->table); /* %w doubles each " */
    for (i = 0; i < set->count; i++) {
        m = set->migrations + i;
        if (!m->name || !m->file || !m->up_sql || !m->checksum || m->up_len >= INT_MAX
            || (i && m->version <= m[-1].version))
            return fail(c, SQLMIG_MISUSE, m, "migration %zu of the set (version %lld) has a NULL field, "
                        "is too long, or is out of order", i, (long long)m->version);
    }
    ms = c->o->busy_timeout_ms;
    c->wait_ms = ms > 0 ? ms : 5000;
    return 0; /* the busy timeout is own()'s */
}

/*
** Roll back what is still open, restore foreign_keys, log the error. After a
** failure that came before the ledger was read to its end, read the newest
** applied version, so that from_version and to_version still say where the
** database is; errors while cleaning up never hide the first one.
*/
static int finish(struct ctx *c, int rc)
{
    sqlmig_result scratch, *keep = c->res;
    const struct sqlmig_migration *cur = c->cur;
    int64_t v = 0, row = 0, wal = 0;
    /* open: a transaction of ours was open when it failed (SQLite may have
    ** ended it already); rolled: it is still open, and rolled back here;
    ** solo: it was a no-transaction migration's own, with no batch before it. */
    int r = 0, open = c->in_tx, rolled = open && !sqlite3_get_autocommit(c->db);
    int solo = !c->done && cur && (cur->flags & SQLMIG_NO_TRANSACTION);
    int known = 0, committed = 0, uncertain = 0, r2;

    if (rc)
        c->res = &scratch; /* an error while cleaning up must not hide the first one */
    if (rolled)
        r = simple(c, "ROLLBACK");
    if (c->fk >= 0 && r == 0)
        r = simple(c, c->fk ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF");
    /* After a failure in our transaction the ledger says where the database
    ** is: an I/O error in COMMIT may come after its commit point. A ledger
    ** that is not sqlmig's says nothing about versions, and one still locked
    ** would only make us wait again. */
    if (rc && r == 0 && rc != SQLMIG_MISUSE && rc != SQLMIG_LEDGER
        && (open || (keep->to_version == 0 && rc != SQLMIG_BUSY))) {
        r2 = query_int(c, "SELECT max(version) FROM main.@ WHERE execution_ms >= 0", 0, &v);
        known = r2 == 0 || (r2 == SQLMIG_SQLITE && ledger(c, PEEK) == 0); /* no ledger: version 0 */
        if (known && v > 0) {
            keep->to_version = v;
            if (keep->applied == 0 && !open)
                keep->from_version = v;
        }
        /* Committed when the last row of our transaction is there (not
        ** max(version): out of order, a newer version may be older news);
        ** likewise a no-transaction migration's started row. */
        if (known && open && (c->done || (c->committing && solo))
            && query_int(c, "SELECT CASE WHEN execution_ms >= 0 THEN 1 WHEN execution_ms = -1 THEN -1 END "
                         "FROM main.@ WHERE version = ?1", (solo ? cur : c->last)->version, &row) == 0) {
            committed = c->done && row == 1;
            if (solo && row == -1)
                c->started = cur;
        }
        if (committed)
            keep->applied += c->done;
    }
    /*
    ** SQLite ended a failed COMMIT of ours by itself: unless the ledger could
    ** be read and the database is not in WAL mode, it may yet be committed
    ** (a WAL whose sync failed can hold the whole transaction, which SQLite
    ** recovers once every connection has closed it).
    */
    if (rc && open && c->committing && !rolled && !committed && (c->done || (!c->started && solo)))
        uncertain = !known || query_int(c, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'",
                                        0, &wal) != 0 || wal > 0;
    /* After the statements above, which may wait for a lock: the
    ** connection's own busy timeout again, if own() set ours. */
    if (c->own_busy >= 0 && sqlite3_busy_timeout(c->db, c->own_busy) != SQLITE_OK && r == 0)
        r = sqlfail(c, SQLITE_MISUSE, "sqlite3_busy_timeout");
    c->res = keep;
    /* Say what the failure left behind, so that the operator knows where the database is. */
    if (rc == 0)
        rc = r;
    else if (committed) /* before started: the row that completes one may be what got committed */
        append(c, " (yet the COMMIT had reached the database: it is applied, and the database is at "
               "version %lld)", (long long)v);
    else if (c->started) /* uncertain: the COMMIT that completes its row failed */
        append(c, uncertain ? ". Version %lld ran outside a transaction, but the COMMIT that records it as "
               "complete failed: if that COMMIT reached the disk it is applied, otherwise it stays marked "
               "started; the next run tells which, and sqlmig_resolve() settles a started one"
               : ". Version %lld runs without a transaction: what it did before failing stays, "
               "and it stays marked started; inspect the database, then call sqlmig_resolve()",
               (long long)c->started->version);
    else if (rc == SQLMIG_LEDGER) /* a refused ledger: nothing ran, nothing to add */
        ;
    else if (uncertain)
        append(c, solo ? " (the COMMIT of its started row failed: the database is at version %lld, and if "
               "that COMMIT reached the disk, version %lld is marked started; the next run tells which)"
               : " (the COMMIT failed: the database is at version %lld, or at %lld if the COMMIT reached "
               "the disk; the next run tells which)", (long long)keep->to_version,
               (long long)(solo ? cur : c->last)->version);
    else if (open || cur) /* rolled back here or by SQLite after an I/O error, or not begun */
        append(c, !open ? " (not started: the database stays at version %lld)"
               : c->o->flags & SQLMIG_BATCH
               ? " (rolled back with the rest of its batch: the database stays at version %lld)"
               : " (rolled back: the database stays at version %lld)", (long long)keep->to_version);
    c->res->code = rc;
    if (rc && !c->logged)
        say(c, SQLMIG_LOG_ERROR, "%s", c->res->message);
    return rc;
}

int sqlmig_migrate(sqlite3 *db, const struct sqlmig_set *set, const sqlmig_options *options,
                   sqlmig_result *res)
{
    struct ctx c;
    sqlmig_result local;
    int rc = init(&c, db, set, options, res ? res : &local);

    if (rc == 0) {
        c.visit = check_row;
        rc = apply(&c);
    }
    return finish(&c, rc);
}

static int status_row(struct ctx *c, const struct sqlmig_status_row *r)
{
    if (c->cb(c->cb_ctx, r) == 0)
        return 0;
    fail(c, SQLMIG_ABORTED, r->migration, "the status callback stopped at version %lld", (long long)r->version);
    c->res->version = r->version;
    return SQLMIG_ABORTED;
}

int sqlmig_status(sqlite3 *db, const struct sqlmig_set *set, const sqlmig_options *options,
                  int (*callback)(void *ctx, const struct sqlmig_status_row *row),
                  void *ctx, sqlmig_result *res)
{
    struct ctx c;
    sqlmig_result local;
    int rc = init(&c, db, set, options, res ? res : &local);

    if (rc == 0 && !callback)
        rc = fail(&c, SQLMIG_MISUSE, NULL, "the status callback is NULL");
    if (rc == 0 && (rc = own(&c)) == 0) {
        c.visit = status_row;
        c.cb = callback;
        c.cb_ctx = ctx;
        rc = walk(&c, 0);
    }
    /* On a database with nothing in it, say how sqlmig_migrate() would create it. */
    if (rc == 0 && set->count && (rc = query_int(&c, "SELECT count(*) = 0 FROM main.sqlite_schema", 0, &c.fresh)) == 0
        && c.fresh) {
        if (set->snapshot_sql)
            snprintf(c.res->message, sizeof c.res->message, "a fresh database: sqlmig_migrate() creates version "
                     "%lld from the snapshot, in one transaction", (long long)set->migrations[set->count - 1].version);
        else
            snprintf(c.res->message, sizeof c.res->message, "a fresh database: sqlmig_migrate() applies the %zu "
                     "migrations one by one, as the set has no snapshot: %s", set->count,
                     set->snapshot_note ? set->snapshot_note : "it was compiled without one");
    }
    c.res->from_version = c.res->to_version = c.newest;
    return finish(&c, rc);
}

/* sqlmig_verify(): log a problem now in res; keep the first. */
static void note(struct ctx *c)
{
    say(c, SQLMIG_LOG_ERROR, "%s", c->res->message);
    if (c->problems++ == 0)
        *c->first_problem = *c->res;
}

static int verify_row(struct ctx *c, const struct sqlmig_status_row *r)
{
    if (r->state == SQLMIG_PENDING)
        c->pending++;
    else if (judge(c, r))
        note(c);
    return 0;
}

static int objcmp(const char *type1, const char *name1, const char *type2, const char *name2)
{
    int d = strcmp(type1, type2);
    return d ? d : strcmp(name1, name2);
}

/* Merge sqlite_schema (without SQLite's and the ledger's objects) with the
** embedded final schema; both are sorted by type, then name, bytewise. */
static int drift(struct ctx *c)
{
    static const char *const verdict[] = { "is missing", "differs from the embedded schema",
                                           "is not in the embedded schema" };
    const struct sqlmig_object *o = c->set->objects;
    const struct sqlmig_object *end = o ? o + c->set->object_count : o;
    sqlite3_stmt *st = NULL;
    int rc, d;

    rc = sqlite3_prepare_v2(c->db, "SELECT type, name, sql FROM main.sqlite_schema "
                            "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                            "AND name <> ?1 COLLATE NOCASE AND tbl_name <> ?1 COLLATE NOCASE "
                            "ORDER BY type, name", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_bind_text(st, 1, c->table, -1, SQLITE_STATIC)) == SQLITE_OK)
        rc = sqlite3_step(st);
    while (rc == SQLITE_ROW || (rc == SQLITE_DONE && o < end)) {
        /* d < 0: only embedded; d > 0: only live; 0: both, compare the SQL */
        d = rc != SQLITE_ROW ? -1 : o == end ? 1 : objcmp(o->type, o->name, col(st, 0), col(st, 1));
        d = d < 0 ? -1 : d > 0;
        if (d != 0 || strcmp(o->sql, col(st, 2)) != 0) {
            fail(c, SQLMIG_DRIFT, NULL, "drift: %s %s %s", d < 0 ? o->type : col(st, 0),
                 d < 0 ? o->name : col(st, 1), verdict[d + 1]);
            note(c);
        }
        if (d <= 0)
            o++;
        if (d >= 0)
            rc = sqlite3_step(st);
    }
    rc = rc == SQLITE_DONE ? 0 : sqlfail(c, rc, "read sqlite_schema");
    sqlite3_finalize(st);
    return rc;
}

int sqlmig_verify(sqlite3 *db, const struct sqlmig_set *set, const sqlmig_options *options,
                  sqlmig_result *res)
{
    struct ctx c;
    sqlmig_result local, first;
    size_t i;
    int rc = init(&c, db, set, options, res ? res : &local);
    const struct sqlmig_object *o = set ? set->objects : NULL;

    for (i = 0; rc == 0 && i < set->object_count; i++)
        if (!o[i].type || !o[i].name || !o[i].sql
            || (i && objcmp(o[i - 1].type, o[i - 1].name, o[i].type, o[i].name) >= 0))
            rc = fail(&c, SQLMIG_MISUSE, NULL, "object %zu of the set has a NULL field or is out of order", i);
    if (rc == 0 && (rc = own(&c)) == 0) {
        c.visit = verify_row;
        c.first_problem = &first;
        rc = walk(&c, 0);
        if (rc == 0) /* a table that a migration would refuse to write */
            rc = ledger(&c, CHECK);
        if (rc == 0 && c.pending == 0)
            rc = drift(&c);
        else if (rc == 0 && !c.problems)
            snprintf(c.res->message, sizeof c.res->message, "%zu migration(s) pending: the schema is "
                     "compared with the embedded one only once all are applied", c.pending);
        if (rc == 0 && c.problems) {
            *c.res = first;
            if (c.problems > 1)
                append(&c, " (%d problems in all)", c.problems);
            rc = first.code;
            c.logged = 1; /* note() did, one line per problem */
        }
    }
    c.res->from_version = c.res->to_version = c.newest;
    return finish(&c, rc);
}

int sqlmig_resolve(sqlite3 *db, const sqlmig_options *options, int64_t version, int how,
                   sqlmig_result *res)
{
    static const struct sqlmig_set none;
    struct ctx c;
    sqlmig_result local;
    int rc = init(&c, db, &none, options, res ? res : &local);

    if (rc == 0 && how != SQLMIG_RESOLVE_APPLIED && how != SQLMIG_RESOLVE_RETRY)
        rc = fail(&c, SQLMIG_MISUSE, NULL, "`how` must be SQLMIG_RESOLVE_APPLIED or SQLMIG_RESOLVE_RETRY");
    if (rc == 0 && (rc = own(&c)) == 0)
        rc = exec(&c, "resolve", how == SQLMIG_RESOLVE_APPLIED
                  ? "UPDATE main.@ SET execution_ms = 0 WHERE version = ?1 AND execution_ms = -1"
                  : "DELETE FROM main.@ WHERE version = ?1 AND execution_ms = -1", version, 0, NULL, NULL);
    if (rc == 0 && sqlite3_changes(db) != 1)
        rc = fail(&c, SQLMIG_TARGET, NULL, "version %lld has no started row in the ledger %s",
                  (long long)version, c.qt);
    if (rc == 0)
        say(&c, SQLMIG_LOG_INFO, "version %lld resolved: %s", (long long)version,
            how == SQLMIG_RESOLVE_APPLIED ? "marked applied" : "will run again");
    c.res->version = version;
    return finish(&c, rc);
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
