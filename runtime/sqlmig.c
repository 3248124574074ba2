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

/* Statements on the ledger: exec() puts its quoted name in place of '@'. */
#define NOW "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
#define CREATE_LEDGER                                                         \
    "CREATE TABLE IF NOT EXISTS main.@(version INTEGER PRIMARY KEY, "        \
    "name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL, "  \
    "execution_ms INTEGER NOT NULL)"
/* exec() binds ?1 version, ?2 execution_ms, ?3 name, ?4 checksum. */
#define INSERT_ROW                                                            \
    "INSERT INTO main.@(version, execution_ms, name, checksum, applied_at) " \
    "VALUES(?1, ?2, ?3, ?4, " NOW ")"
#define UPDATE_ROW                                                            \
    "UPDATE main.@ SET execution_ms = ?2, applied_at = " NOW " WHERE version = ?1"

struct ctx {
    sqlite3 *db;
    const struct sqlmig_set *set;
    const sqlmig_options *o;
    sqlmig_result *res;
    const char *table;  /* ledger name as given */
    char qt[404];       /* the same, quoted: "name" with " doubled */
    int64_t target;     /* newest version to apply */
    int wait_ms;        /* how long to wait for a started migration */
    int (*visit)(struct ctx *, const struct sqlmig_status_row *);
    int (*cb)(void *, const struct sqlmig_status_row *);
    void *cb_ctx;
    /* What the last walk found. */
    int partial, plan;
    size_t first, pending, left; /* left: pending at the last full walk, minus ours */
    int64_t newest;
    const struct sqlmig_migration *wait;
    /* Apply state: foreign_keys as found (-1: untouched), data_version of
    ** our last transaction, migrations applied in the open transaction. */
    int64_t fk, dv, top;
    int stale, in_tx;
    const struct sqlmig_migration *started; /* no-transaction migration under way */
    size_t next, done;
    const struct sqlmig_migration *last;
    /* sqlmig_verify(): problems found, the first one, whether logged. */
    int problems, logged;
    sqlmig_result *first_problem;
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

/* A SQLite error outside any migration; `what` names the operation. */
static int sqlfail(struct ctx *c, int rc, const char *what)
{
    int code = (rc & 0xff) == SQLITE_BUSY       ? SQLMIG_BUSY
             : (rc & 0xff) == SQLITE_READONLY   ? SQLMIG_READONLY
                                                : SQLMIG_SQLITE;
    fail(c, code, NULL, "%s: %s", what, sqlite3_errmsg(c->db));
    c->res->sqlite_code = sqlite3_extended_errcode(c->db);
    if (code == SQLMIG_BUSY)
        append(c, " (another connection held it longer than the busy timeout of %d ms: "
               "retry, or raise busy_timeout_ms)", c->wait_ms);
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
** A statement that reads the ledger did not prepare. Either the table does
** not exist (a fresh database: return 0), or something else of that name is
** there (another tool's ledger), or SQLite failed. Decided by looking in
** sqlite_schema, never by parsing SQLite's message. Unless `final`, a table
** found there is only FOUND: another process may have just created it.
*/
static int missing(struct ctx *c, int rc, const char *what, int final)
{
    sqlite3_stmt *st = NULL;

    if (rc != SQLITE_ERROR)
        return sqlfail(c, rc, what);
    rc = sqlite3_prepare_v2(c->db, "SELECT sql FROM main.sqlite_schema "
                            "WHERE name = ?1 COLLATE NOCASE", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_bind_text(st, 1, c->table, -1, SQLITE_STATIC)) == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = !final ? FOUND : fail(c, SQLMIG_LEDGER, NULL, "the table %s is not a sqlmig ledger (found: %s); "
                  "choose another ledger table name with options.table", c->qt, col(st, 0));
    else
        rc = rc == SQLITE_DONE ? 0 : sqlfail(c, rc, "read sqlite_schema");
    sqlite3_finalize(st);
    return rc;
}

/*
** Run one statement of ours, with the quoted ledger name in place of '@',
** binding ?1 version, ?2 execution_ms, ?3 name and ?4 checksum of m where
** present.
*/
static int exec(struct ctx *c, const char *what, const char *tmpl, int64_t v,
                int64_t ms, const struct sqlmig_migration *m)
{
    const char *at = strchr(tmpl, '@');
    char sql[768];
    sqlite3_stmt *st = NULL;
    int rc, n;

    if (at)
        snprintf(sql, sizeof sql, "%.*s%s%s", (int)(at - tmpl), tmpl, c->qt, at + 1);
    else
        snprintf(sql, sizeof sql, "%s", tmpl);
    rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        /* Only sqlmig_resolve() can find no ledger: the others create it. */
        rc = missing(c, rc, what, 1);
        return rc ? rc : fail(c, SQLMIG_TARGET, NULL, "there is no ledger table %s", c->qt);
    }
    n = sqlite3_bind_parameter_count(st);
    if (n >= 1)
        rc = sqlite3_bind_int64(st, 1, v);
    if (n >= 2 && rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, ms);
    if (n >= 3 && rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 3, m->name, -1, SQLITE_STATIC);
    if (n >= 4 && rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 4, m->checksum, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK || rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? 0 : sqlfail(c, rc, what);
    sqlite3_finalize(st);
    return rc;
}

static int simple(struct ctx *c, const char *sql)
{
    return exec(c, sql, sql, 0, 0, NULL);
}


/* The first column of the first row of sql; *out is unchanged if no row. */
static int query_int(struct ctx *c, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sqlfail(c, rc, sql);
    sqlite3_finalize(st);
    return rc;
}

/* ---- the ledger walk --------------------------------------------------- */

/* Step the ledger query; a row must have the types and order of a ledger. */
static int step_row(struct ctx *c, sqlite3_stmt *st, int64_t *v, int *row)
{
    int64_t prev = *v;
    int rc = sqlite3_step(st);

    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return sqlfail(c, rc, "read the ledger");
    *v = sqlite3_column_int64(st, 0);
    if (sqlite3_column_type(st, 0) != SQLITE_INTEGER || sqlite3_column_type(st, 1) != SQLITE_TEXT
        || sqlite3_column_type(st, 2) != SQLITE_INTEGER || *v <= prev)
        return fail(c, SQLMIG_LEDGER, NULL, "the ledger table %s has a malformed row (version %s): "
                    "it needs unique integer versions, text checksums and integer execution_ms; "
                    "choose another ledger table name with options.table", c->qt, col(st, 0));
    return 0;
}

/*
** Merge the ledger with the set from index `from`, both in version order,
** and pass each migration and each ledger row to c->visit() as a status row.
** A partial walk reads only versions >= the one at `from`. Without a ledger
** every migration is pending. Returns the first non-zero visit result.
*/
static int walk(struct ctx *c, size_t from)
{
    const struct sqlmig_migration *m = NULL, *end = NULL;
    struct sqlmig_status_row r;
    sqlite3_stmt *st = NULL;
    char sql[600];
    int64_t v = INT64_MIN;
    int rc, i, row = 0;

    if (c->set->count) { /* no arithmetic on a NULL array */
        m = c->set->migrations + from;
        end = c->set->migrations + c->set->count;
    }
    if (c->partial && m == end)
        return 0;
    snprintf(sql, sizeof sql, "SELECT version, checksum, execution_ms, name, applied_at "
             "FROM main.%s%s ORDER BY version", c->qt, c->partial ? " WHERE version >= ?1" : "");
    /* Without a lock, the ledger may appear between two statements: if it is
    ** there after a failed prepare, prepare once more before judging it. */
    for (i = 0; (rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL)) != SQLITE_OK; i++)
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
        if (!row || (m < end && m->version < v)) {
            r.state = SQLMIG_PENDING;
            r.version = m->version;
            r.name = m->name;
            r.migration = m++;
            rc = c->visit(c, &r);
            continue;
        }
        r.version = v;
        r.checksum = col(st, 1);
        r.execution_ms = sqlite3_column_int64(st, 2);
        r.name = col(st, 3);
        r.applied_at = col(st, 4);
        r.state = SQLMIG_NOT_IN_SET;
        if (m < end && m->version == v) {
            r.migration = m;
            r.name = m->name;
            r.state = r.execution_ms == -1 ? SQLMIG_STARTED
                    : strcmp(r.checksum, m->checksum) ? SQLMIG_CHANGED : SQLMIG_APPLIED;
            m++;
        }
        if (v > c->newest && r.execution_ms != -1)
            c->newest = v;
        if ((rc = c->visit(c, &r)) == 0)
            rc = step_row(c, st, &v, &row);
    }
    sqlite3_finalize(st);
    return rc;
}

static int interrupted(struct ctx *c, const struct sqlmig_migration *m)
{
    long long v = m->version;
    return fail(c, SQLMIG_INTERRUPTED, m,
                "version %lld (%s) runs without a transaction and has not finished: it is either "
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

    if (r->state == SQLMIG_CHANGED)
        return fail(c, SQLMIG_CHECKSUM, m, "version %lld %s (%s) was applied with checksum %s, "
                    "but the embedded migration has checksum %s: an applied migration was edited; restore "
                    "the file as it was applied and put the change in a new migration",
                    (long long)m->version, m->name, m->file, r->checksum, m->checksum);
    if (r->state == SQLMIG_STARTED)
        return interrupted(c, m);
    if (r->state == SQLMIG_NOT_IN_SET && !(c->o->flags & SQLMIG_ALLOW_UNKNOWN)) {
        fail(c, SQLMIG_UNKNOWN, NULL, "version %lld (%s) is applied but is not a migration of this "
             "program, probably applied by a newer build of it; SQLMIG_ALLOW_UNKNOWN accepts it",
             (long long)r->version, r->name);
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
        rc = query_int(c, "PRAGMA data_version", &dv);
    }
    if (rc)
        return rc;
    c->stale |= dv != c->dv;
    c->dv = dv;
    return c->stale ? exec(c, "create the ledger", CREATE_LEDGER, 0, 0, NULL) : 0;
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

/* Does the statement at p begin with BEGIN, COMMIT, END or ROLLBACK? */
static int ends_tx(const char *p, const char *end)
{
    static const char *const words[] = { "BEGIN", "COMMIT", "END", "ROLLBACK" };
    size_t i, n;
    unsigned char ch;

    for (i = 0; i < sizeof words / sizeof words[0]; i++) {
        for (n = 0; words[i][n] && p + n < end && (p[n] & 0xDF) == words[i][n]; n++) {}
        if (words[i][n])
            continue;
        ch = p + n < end ? (unsigned char)p[n] : ' ';
        if (!(ch >= 0x80 || ch == '_' || ch == '$' || (ch >= '0' && ch <= '9')
              || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')))
            return 1;
    }
    return 0;
}

/* Fail m at `at` (a position in its up-SQL), as "file:line:col: msg". */
static int located(struct ctx *c, const struct sqlmig_migration *m, const char *at,
                   int sqlite_code, const char *msg)
{
    const char *p;
    int line = m->up_line ? (int)m->up_line : 1, column = 1;

    for (p = m->up_sql; p < at; p++) {
        if (*p == '\n')
            line++, column = 1;
        else
            column++;
    }
    fail(c, SQLMIG_MIGRATION, m, "%s:%d:%d: %s", m->file, line, column, msg);
    c->res->line = line;
    c->res->column = column;
    c->res->sqlite_code = sqlite_code;
    return SQLMIG_MIGRATION;
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
    const char *p = m->up_sql, *end = p + m->up_len, *tail, *at;
    sqlite3_stmt *st;
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
        if (rc == SQLITE_OK && in_tx && ends_tx(at, end)) {
            sqlite3_finalize(st);
            return located(c, m, at, 0, "transaction control is not allowed in a migration that runs "
                           "in a transaction (mark it -- sqlmig:no-transaction)");
        }
        if (rc == SQLITE_OK) {
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
            if (rc == SQLITE_DONE)
                rc = SQLITE_OK;
        }
        if (rc != SQLITE_OK) {
            off = sqlite3_error_offset(c->db);
            if (off >= 0 && off < end - p)
                at = p + off;
            rc = located(c, m, at, sqlite3_extended_errcode(c->db), sqlite3_errmsg(c->db));
            sqlite3_finalize(st);
            return rc;
        }
        sqlite3_finalize(st);
        if (in_tx && sqlite3_get_autocommit(c->db))
            return located(c, m, at, 0, "this statement ended the migration's transaction");
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
    int rc = c->done ? fk_check(c, c->done == 1 ? c->last : NULL) : 0;

    if (rc || (rc = simple(c, "COMMIT")) != 0)
        return rc;
    c->in_tx = 0;
    c->res->applied += c->done;
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

    if (rc || (rc = exec(c, "write the ledger", INSERT_ROW, m->version, ms = since(t), m)) != 0)
        return rc;
    applied(c, m, ms);
    return c->o->flags & SQLMIG_BATCH ? 0 : commit(c);
}

/*
** A no-transaction migration: commit its ledger row as started (-1), run it
** in autocommit mode, then complete the row. If it fails or the process
** dies, the row stays started and the next run reports SQLMIG_INTERRUPTED.
*/
static int outside(struct ctx *c, const struct sqlmig_migration *m)
{
    int64_t t, ms;
    int rc = exec(c, "write the ledger", INSERT_ROW, m->version, -1, m);

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
    if ((rc = lock(c)) != 0 || (rc = exec(c, "write the ledger", UPDATE_ROW, m->version, ms, m)) != 0)
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
    int rc;

    c->target = c->o->target ? c->o->target : INT64_MAX;
    for (i = 0; c->o->target && i < c->set->count && c->set->migrations[i].version != c->o->target; i++) {}
    if (c->o->target && i == c->set->count)
        return fail(c, SQLMIG_TARGET, NULL, "the target version %lld is not a version of the set",
                    (long long)c->o->target);
    rc = look(c); /* no lock, no write: the up-to-date path ends here */
    c->res->from_version = c->res->to_version;
    if (rc || c->pending == 0)
        return rc;
    if (c->o->flags & SQLMIG_DRY_RUN) {
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
                    "pending: open it read-write to apply them", c->pending);
    if ((rc = query_int(c, "PRAGMA foreign_keys", &c->fk)) != 0)
        return rc;
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
        if (!(m->flags & SQLMIG_NO_TRANSACTION))
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
    const char *t;
    char *q;
    size_t i, n;
    int ms, rc;

    memset(c, 0, sizeof *c);
    memset(res, 0, sizeof *res);
    c->db = db;
    c->set = set;
    c->o = o ? o : &defaults;
    c->res = res;
    c->fk = c->dv = -1;
    c->table = c->o->table ? c->o->table : "schema_migrations";
    n = strlen(c->table);
    if (!db || !set || (set->count && !set->migrations) || (set->object_count && !set->objects))
        return fail(c, SQLMIG_MISUSE, NULL, "the database handle or the set is NULL, or the set has "
                    "a count but no array");
    if (n == 0 || n > 200 || sqlite3_strnicmp(c->table, "sqlite_", 7) == 0)
        return fail(c, SQLMIG_MISUSE, NULL, "the ledger table name must have 1 to 200 bytes and not "
                    "start with sqlite_ (reserved by SQLite)");
    q = c->qt;
    *q++ = '"';
    for (t = c->table; *t; t++) {
        if (*t == '"')
            *q++ = '"';
        *q++ = *t;
    }
    *q++ = '"';
    *q = '\0';
    for (i = 0; i < set->count; i++) {
        m = set->migrations + i;
        if (!m->name || !m->file || !m->up_sql || !m->checksum || m->up_len >= INT_MAX
            || (i && m->version <= m[-1].version))
            return fail(c, SQLMIG_MISUSE, m, "migration %zu of the set (version %lld) has a NULL field, "
                        "is too long, or is out of order", i, (long long)m->version);
    }
    ms = c->o->busy_timeout_ms;
    c->wait_ms = ms > 0 ? ms : 5000;
    if (ms >= 0 && (rc = sqlite3_busy_timeout(db, c->wait_ms)) != SQLITE_OK)
        return sqlfail(c, rc, "sqlite3_busy_timeout");
    return 0;
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
    char sql[512];
    int64_t v = 0;
    int r = 0, rolled = c->in_tx && !sqlite3_get_autocommit(c->db);

    if (rc)
        c->res = &scratch; /* an error while cleaning up must not hide the first one */
    if (rolled)
        r = simple(c, "ROLLBACK");
    if (c->fk >= 0 && r == 0)
        r = simple(c, c->fk ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF");
    if (rc && rc != SQLMIG_MISUSE && keep->to_version == 0) {
        snprintf(sql, sizeof sql, "SELECT max(version) FROM main.%s WHERE execution_ms >= 0", c->qt);
        if (query_int(c, sql, &v) == 0 && v > 0) {
            keep->to_version = v;
            if (keep->applied == 0)
                keep->from_version = v;
        }
    }
    c->res = keep;
    /* Say what the failure left behind, so that the operator knows where the database is. */
    if (rc && c->started)
        append(c, ". Version %lld runs without a transaction: what it did before failing stays, "
               "and it stays marked started; inspect the database, then call sqlmig_resolve()",
               (long long)c->started->version);
    else if (rc && rolled && (c->o->flags & SQLMIG_BATCH))
        append(c, " (rolled back with the rest of its batch: the database stays at version %lld)",
               (long long)keep->to_version);
    else if (rc && rolled)
        append(c, " (rolled back: the database stays at version %lld)", (long long)keep->to_version);
    if (rc == 0)
        rc = r;
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
    if (rc == 0) {
        c.visit = status_row;
        c.cb = callback;
        c.cb_ctx = ctx;
        rc = walk(&c, 0);
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
    size_t i, n;
    int rc = init(&c, db, set, options, res ? res : &local);
    const struct sqlmig_object *o = set ? set->objects : NULL;

    for (i = 0; rc == 0 && i < set->object_count; i++)
        if (!o[i].type || !o[i].name || !o[i].sql
            || (i && objcmp(o[i - 1].type, o[i - 1].name, o[i].type, o[i].name) >= 0))
            rc = fail(&c, SQLMIG_MISUSE, NULL, "object %zu of the set has a NULL field or is out of order", i);
    if (rc == 0) {
        c.visit = verify_row;
        c.first_problem = &first;
        rc = walk(&c, 0);
        if (rc == 0 && c.pending == 0)
            rc = drift(&c);
        else if (rc == 0 && !c.problems)
            snprintf(c.res->message, sizeof c.res->message, "%zu migration(s) pending: the schema is "
                     "compared with the embedded one only once all are applied", c.pending);
        if (rc == 0 && c.problems) {
            *c.res = first;
            n = strlen(first.message);
            if (c.problems > 1)
                snprintf(c.res->message + n, sizeof c.res->message - n, " (%d problems in all)", c.problems);
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
    if (rc == 0)
        rc = exec(&c, "resolve", how == SQLMIG_RESOLVE_APPLIED
                  ? "UPDATE main.@ SET execution_ms = 0 WHERE version = ?1 AND execution_ms = -1"
                  : "DELETE FROM main.@ WHERE version = ?1 AND execution_ms = -1", version, 0, NULL);
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
