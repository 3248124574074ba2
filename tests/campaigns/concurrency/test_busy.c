/*
** test_busy.c — the one busy-timeout rule. The caller's connection keeps its
** own busy handler, untouched, during and after every call (a handler of
** sqlite3_busy_handler() included): sqlmig_migrate()'s one read there waits
** as that handler says. Everything else runs on sqlmig's own connection,
** which waits options.busy_timeout_ms for a lock (0: 5000 ms; negative: not
** at all). The caller's timeout is read from inside the log and status
** callbacks and after each call; sqlmig's from options.connect; and both are
** checked by holding a lock on another connection. Last, a no-transaction
** migration's PRAGMA journal_mode=WAL must wait for a write lock held
** elsewhere instead of failing with SQLITE_BUSY. Prints TAP.
*/
#include "sqlmig.h"
#include "tap.h"
#include "setup.h"
#include "dbq.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct tap T;
#define OK(cond, ...) tap_ok(&T, (cond), __VA_ARGS__)

#define CK(d) d d d d d d d d d d d d d d d d
#define MIG(v, name, sql, ck, flags) { v, name, "000" #v "_" name ".sql", sql, sizeof sql - 1, 1, NULL, 0, ck, flags, NULL, 0 }

static const struct sqlmig_migration migrations[] = {
    MIG(1, "a", "CREATE TABLE a(x);\n", CK("e001"), 0),
    MIG(2, "b", "-- sqlmig:no-transaction\nCREATE TABLE b(x);\n", CK("e002"), SQLMIG_NO_TRANSACTION),
    MIG(3, "c", "CREATE TABLE c(x);\n", CK("e003"), 0),
};
static const struct sqlmig_set set1 = { migrations, 1, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
static const struct sqlmig_set set3 = { migrations, 3, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };

static char dir[] = "/tmp/sqlmig-busy-XXXXXX";
static int ndb;

static sqlite3 *open_path(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        tap_diag("cannot open %s: %s", path, sqlite3_errmsg(db));
        exit(2);
    }
    return db;
}

/* A new database file; its path in path. */
static sqlite3 *fresh(char *path, size_t size)
{
    snprintf(path, size, "%s/%d.db", dir, ++ndb);
    return open_path(path);
}


static void set_timeout(sqlite3 *db, int ms)
{
    if (sqlite3_busy_timeout(db, ms) != SQLITE_OK) {
        tap_diag("sqlite3_busy_timeout failed");
        exit(2);
    }
}

static int64_t timeout_of(sqlite3 *db)
{
    return qint(db, "PRAGMA busy_timeout");
}

static int64_t now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The caller's busy timeout when sqlmig called back: -1 if it never did,
** -2 if two callbacks saw different values; and that of sqlmig's own
** connection (-1: none opened). */
struct seen {
    sqlite3 *db;
    int64_t during;
    int64_t sqlmig;
};

static void note(struct seen *s)
{
    int64_t t = timeout_of(s->db);
    s->during = s->during == -1 ? t : s->during == t ? t : -2;
}

static void on_log(void *ctx, int level, const char *msg)
{
    (void)msg;
    if (level == SQLMIG_LOG_INFO)
        note(ctx);
}

static int on_row(void *ctx, const struct sqlmig_status_row *row)
{
    (void)row;
    note(ctx);
    return 0;
}

static int on_connect(void *ctx, sqlite3 *conn)
{
    struct seen *s = ctx;
    s->sqlmig = qint(conn, "PRAGMA busy_timeout");
    return 0;
}

static sqlmig_options options(int busy_ms, struct seen *s)
{
    sqlmig_options o;
    memset(&o, 0, sizeof o);
    o.busy_timeout_ms = busy_ms;
    o.log = on_log;
    o.log_ctx = s;
    o.connect = on_connect;
    o.hook_ctx = s;
    s->during = s->sqlmig = -1;
    return o;
}

/* Migrate a fresh database from a connection whose own timeout is `own`. */
static void during_and_after(int own, int busy_ms, int64_t expect_sqlmig, const char *label)
{
    char path[128];
    sqlite3 *db = fresh(path, sizeof path);
    struct seen s = { db, -1, -1 };
    sqlmig_options o = options(busy_ms, &s);
    sqlmig_result r;
    int rc;

    set_timeout(db, own);
    rc = sqlmig_migrate(db, &set3, &o, &r);
    OK(rc == SQLMIG_OK && r.applied == 3, "%s: migrated (%s)", label, r.message);
    OK(s.sqlmig == expect_sqlmig, "%s: sqlmig's connection waits %lld ms (%lld)", label, (long long)expect_sqlmig,
       (long long)s.sqlmig);
    OK(s.during == own && timeout_of(db) == own, "%s: the caller's own %d ms during (%lld) and after (%lld)",
       label, own, (long long)s.during, (long long)timeout_of(db));
    o = options(busy_ms, &s);
    rc = sqlmig_migrate(db, &set3, &o, &r);
    OK(rc == SQLMIG_OK && r.applied == 0 && timeout_of(db) == own && s.sqlmig == -1,
       "%s: up to date, no connection of sqlmig's, still %d ms after", label, own);
    sqlite3_close(db);
}

/* ---- a custom handler ---------------------------------------------------- */

static int handler_calls;

static int give_up_after_two(void *ctx, int n)
{
    (void)ctx;
    handler_calls++;
    return n < 2;
}

/* 1 if db's own handler runs when another connection holds the lock. */
static int handler_runs(sqlite3 *db, const char *path)
{
    sqlite3 *other = open_path(path);
    int rc;

    setup_exec(other, "BEGIN EXCLUSIVE");
    handler_calls = 0;
    rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
    setup_exec(other, "ROLLBACK");
    sqlite3_close(other);
    return rc == SQLITE_BUSY && handler_calls == 3;
}

static void custom_handler(void)
{
    char path[128];
    sqlite3 *db = fresh(path, sizeof path);
    struct seen s = { db, -1, -1 };
    sqlmig_options o = options(0, &s);
    sqlmig_result r;
    int rc;

    if (sqlite3_busy_handler(db, give_up_after_two, NULL) != SQLITE_OK)
        exit(2);
    OK(handler_runs(db, path), "custom handler: runs on contention before any call");
    rc = sqlmig_migrate(db, &set1, &o, &r);
    OK(rc == SQLMIG_OK && r.applied == 1 && s.sqlmig == 5000, "custom handler: migrated, sqlmig's connection "
       "with 5000 ms (%s)", r.message);
    OK(handler_runs(db, path), "custom handler: still the connection's handler after a call that applied");
    o = options(0, &s);
    rc = sqlmig_migrate(db, &set3, &o, &r);
    OK(rc == SQLMIG_OK && r.applied == 2 && handler_runs(db, path), "custom handler: and after another (%s)",
       r.message);
    sqlite3_close(db);
}

/* ---- waiting ----------------------------------------------------------- */

/* Another connection that holds a lock for hold_ms, in a thread. */
struct holder {
    char path[128];
    const char *begin; /* BEGIN EXCLUSIVE or BEGIN IMMEDIATE */
    int hold_ms;
    int locked[2]; /* a pipe: one byte once the lock is held */
    int rc;
};

static void *hold(void *p)
{
    struct holder *h = p;
    sqlite3 *db = open_path(h->path);
    char c = 'x';

    h->rc = sqlite3_exec(db, h->begin, NULL, NULL, NULL);
    if (write(h->locked[1], &c, 1) != 1)
        h->rc = -1;
    sqlite3_sleep(h->hold_ms);
    /* Its COMMIT waits, as an application's would, for the moment a reader
    ** of sqlmig's (retrying a statement the lock made busy) holds. */
    sqlite3_busy_timeout(db, 2000);
    if (h->rc == SQLITE_OK)
        h->rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (sqlite3_close(db) != SQLITE_OK && h->rc == SQLITE_OK)
        h->rc = -1;
    return NULL;
}

static void start_holder(struct holder *h, pthread_t *tid, const char *path, const char *begin, int hold_ms)
{
    char c;

    snprintf(h->path, sizeof h->path, "%s", path);
    h->begin = begin;
    h->hold_ms = hold_ms;
    h->rc = -1;
    if (pipe(h->locked) != 0 || pthread_create(tid, NULL, hold, h) != 0 || read(h->locked[0], &c, 1) != 1) {
        tap_diag("cannot start the lock holder");
        exit(2);
    }
}

static int stop_holder(struct holder *h, pthread_t tid)
{
    int ok = pthread_join(tid, NULL) == 0;
    close(h->locked[0]);
    close(h->locked[1]);
    return ok && h->rc == SQLITE_OK;
}

static void waiting(void)
{
    char path[128];
    sqlite3 *db = fresh(path, sizeof path), *other;
    struct seen s = { db, -1, -1 };
    sqlmig_options o = options(0, &s);
    sqlmig_result r;
    struct holder h;
    pthread_t tid;
    int64_t t;
    int rc;

    /* No handler of its own: sqlmig's 5000 ms outlast a lock held 600 ms. */
    set_timeout(db, 0);
    start_holder(&h, &tid, path, "BEGIN EXCLUSIVE", 600);
    t = now_ms();
    rc = sqlmig_migrate(db, &set1, &o, &r);
    t = now_ms() - t;
    OK(stop_holder(&h, tid), "waiting: the other connection held its lock and committed");
    OK(rc == SQLMIG_OK && r.applied == 1 && t >= 400, "waiting: a lock held 600 ms is waited for with the "
       "default timeout (%s after %lld ms)", sqlmig_errname(rc), (long long)t);
    OK(timeout_of(db) == 0, "waiting: no handler again after");

    /* Own 60 s, option 300 ms: sqlmig gives up after about 300 ms. The
    ** other connection holds the write lock only, so that the first read,
    ** made with the connection's own handler, goes through. */
    set_timeout(db, 60000);
    o = options(300, &s);
    other = open_path(path);
    setup_exec(other, "BEGIN IMMEDIATE");
    t = now_ms();
    rc = sqlmig_migrate(db, &set3, &o, &r);
    t = now_ms() - t;
    OK(rc == SQLMIG_BUSY && (r.sqlite_code & 0xff) == SQLITE_BUSY && t >= 250 && t < 5000,
       "waiting: busy_timeout_ms 300 is what a failing call waits, not the connection's 60000 "
       "(%s after %lld ms)", sqlmig_errname(rc), (long long)t);
    OK(strstr(r.message, "busy timeout of 300 ms") != NULL, "waiting: the message names 300 ms: %s", r.message);
    OK(timeout_of(db) == 60000, "waiting: the connection's 60000 ms untouched by the failure (%lld)",
       (long long)timeout_of(db));

    /* Negative: sqlmig's connection does not wait at all. */
    o = options(-1, &s);
    t = now_ms();
    rc = sqlmig_migrate(db, &set3, &o, &r);
    t = now_ms() - t;
    OK(rc == SQLMIG_BUSY && t < 250 && timeout_of(db) == 60000, "waiting: busy_timeout_ms -1 does not wait "
       "(%s after %lld ms)", sqlmig_errname(rc), (long long)t);
    setup_exec(other, "ROLLBACK");

    /* After the call, the caller's own 400 ms are in force, not sqlmig's 5000. */
    set_timeout(db, 400);
    o = options(0, &s);
    rc = sqlmig_migrate(db, &set3, &o, &r);
    OK(rc == SQLMIG_OK && r.applied == 2, "waiting: migrated once the lock was gone (%s)", r.message);
    setup_exec(other, "BEGIN EXCLUSIVE");
    t = now_ms();
    rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    t = now_ms() - t;
    OK(rc == SQLITE_BUSY && t >= 350 && t < 4000, "waiting: after the call a lock is waited for the caller's "
       "own 400 ms (SQLITE_BUSY after %lld ms)", (long long)t);
    setup_exec(other, "ROLLBACK");
    sqlite3_close(other);
    sqlite3_close(db);
}

/* ---- the up-to-date path ------------------------------------------------- */

static int on_stmt(unsigned type, void *ctx, void *p, void *x)
{
    (void)type;
    (void)p;
    (void)x;
    ++*(int *)ctx;
    return 0;
}

/* sqlmig_migrate() to set3, with the statements it runs counted in *n. */
static int traced(sqlite3 *db, const sqlmig_options *o, sqlmig_result *r, int *n)
{
    int rc;

    *n = 0;
    if (sqlite3_trace_v2(db, SQLITE_TRACE_STMT, on_stmt, n) != SQLITE_OK)
        exit(2);
    rc = sqlmig_migrate(db, &set3, o, r);
    if (sqlite3_trace_v2(db, 0, NULL, NULL) != SQLITE_OK)
        exit(2);
    return rc;
}

/*
** Up to date, sqlmig_migrate() runs its one read with the connection's own
** handler and leaves it as it was, a handler of sqlite3_busy_handler()
** included. When that read meets a lock, it reads again on its own
** connection, which waits with sqlmig's timeout.
*/
static void up_to_date(void)
{
    char path[128];
    sqlite3 *db = fresh(path, sizeof path);
    struct seen s = { db, -1, -1 };
    sqlmig_options o = options(0, &s);
    sqlmig_result r;
    struct holder h;
    pthread_t tid;
    int64_t t;
    int n, rc;

    set_timeout(db, 30000);
    rc = traced(db, &o, &r, &n);
    OK(rc == SQLMIG_OK && r.applied == 3 && s.sqlmig == 5000 && s.during == 30000 && timeout_of(db) == 30000,
       "applied by sqlmig's connection with 5000 ms (%lld), the caller's 30000 ms throughout (%lld, %lld)",
       (long long)s.sqlmig, (long long)s.during, (long long)timeout_of(db));
    rc = traced(db, &o, &r, &n);
    OK(rc == SQLMIG_OK && r.applied == 0 && n == 1 && timeout_of(db) == 30000,
       "up to date: one statement (%d), the connection's 30000 ms untouched", n);

    /* A handler that SQLite cannot report, which a call that sets a
    ** timeout would replace: up to date, it is still there. */
    if (sqlite3_busy_handler(db, give_up_after_two, NULL) != SQLITE_OK)
        exit(2);
    rc = traced(db, &o, &r, &n);
    OK(rc == SQLMIG_OK && r.applied == 0 && n == 1, "up to date, custom handler: one statement (%d: %s)", n,
       r.message);
    OK(handler_runs(db, path), "up to date, custom handler: still the connection's handler after");

    /* No handler, and the first read meets an exclusive lock held 200 ms:
    ** sqlmig waits with its own timeout, and leaves no handler behind. */
    set_timeout(db, 0);
    setup_exec(db, "CREATE TABLE held(x)");
    start_holder(&h, &tid, path, "BEGIN EXCLUSIVE; INSERT INTO held VALUES(1)", 200);
    t = now_ms();
    rc = traced(db, &o, &r, &n);
    t = now_ms() - t;
    OK(stop_holder(&h, tid), "locked read: the other connection held an exclusive lock, wrote and committed");
    OK(rc == SQLMIG_OK && r.applied == 0 && r.to_version == 3 && r.from_version == 3 && t >= 150,
       "locked read: read again on sqlmig's connection, which waited for the lock (%s after %lld ms, %d "
       "statements: %s)", sqlmig_errname(rc), (long long)t, n, r.message);
    OK(timeout_of(db) == 0 && qint(db, "SELECT count(*) FROM held") == 1, "locked read: still no handler after");
    sqlite3_close(db);
}

/* ---- a write lock taken while a no-transaction migration runs ---------- */

/*
** PRAGMA journal_mode=WAL reads the database before it writes; when another
** connection holds the write lock at that moment, SQLite returns
** SQLITE_BUSY at once instead of calling the busy handler. Processes that
** wait for a no-transaction migration take the write lock briefly to read
** the ledger, so this happened to the campaign's "switch" history: the
** migration failed and stayed started, and everyone else stopped with
** SQLMIG_INTERRUPTED. Here the log line "running ... outside a transaction"
** makes another connection take the write lock (BEGIN IMMEDIATE) for 300 ms
** just before the PRAGMA runs.
*/
static const struct sqlmig_migration to_wal[] = {
    MIG(1, "a", "CREATE TABLE a(x);\n", CK("f001"), 0),
    MIG(2, "wal", "-- sqlmig:no-transaction\nPRAGMA journal_mode=WAL;\nINSERT INTO a VALUES(2);\n", CK("f002"),
        SQLMIG_NO_TRANSACTION),
    MIG(3, "c", "CREATE TABLE c(x);\n", CK("f003"), 0),
};
static const struct sqlmig_set set_wal = { to_wal, 3, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };

struct grab {
    const char *path;
    struct holder h;
    pthread_t tid;
    int started;
};

static void grab_on_outside(void *ctx, int level, const char *msg)
{
    struct grab *g = ctx;
    (void)level;
    if (!g->started && strstr(msg, "outside a transaction")) {
        g->started = 1;
        start_holder(&g->h, &g->tid, g->path, "BEGIN IMMEDIATE", 300);
    }
}

static void lock_during_no_transaction(void)
{
    char path[128], buf[32];
    sqlite3 *db = fresh(path, sizeof path);
    struct grab g;
    sqlmig_options o;
    sqlmig_result r;
    int64_t t;
    int rc;

    memset(&g, 0, sizeof g);
    g.path = path;
    memset(&o, 0, sizeof o);
    o.log = grab_on_outside;
    o.log_ctx = &g;
    t = now_ms();
    rc = sqlmig_migrate(db, &set_wal, &o, &r);
    t = now_ms() - t;
    OK(g.started && stop_holder(&g.h, g.tid), "no-transaction: another connection held the write lock as "
       "PRAGMA journal_mode=WAL ran");
    OK(rc == SQLMIG_OK && r.applied == 3, "no-transaction: the PRAGMA waited for the lock instead of failing "
       "with SQLITE_BUSY (%s after %lld ms: %s)", sqlmig_errname(rc), (long long)t, r.message);
    OK(t >= 250, "no-transaction: it waited for the 300 ms lock (%lld ms)", (long long)t);
    /* Read from a new connection: the caller's has not looked at the file
    ** since sqlmig's connection switched it, and still says "delete". */
    sqlite3_close(db);
    db = open_path(path);
    OK(strcmp(qtext(db, "PRAGMA journal_mode", buf, sizeof buf), "wal") == 0
       && qint(db, "SELECT count(*) FROM a") == 1
       && qint(db, "SELECT count(*) FROM schema_migrations WHERE execution_ms >= 0") == 3,
       "no-transaction: WAL, its insert once, all three applied (%s, %lld, %lld)", buf, (long long)qint(db, "SELECT count(*) FROM a"), (long long)qint(db, "SELECT count(*) FROM schema_migrations WHERE execution_ms >= 0"));
    sqlite3_close(db);
}

/* ---- the other calls --------------------------------------------------- */

static void other_calls(void)
{
    char path[128];
    sqlite3 *db = fresh(path, sizeof path);
    struct seen s = { db, -1, -1 };
    sqlmig_options o = options(0, &s);
    sqlmig_result r;
    int rc;

    set_timeout(db, 777);
    rc = sqlmig_status(db, &set3, &o, on_row, &s, &r);
    OK(rc == SQLMIG_OK && s.sqlmig == 5000 && s.during == 777 && timeout_of(db) == 777,
       "status: sqlmig's connection with 5000 ms (%lld), the caller's 777 ms during (%lld) and after",
       (long long)s.sqlmig, (long long)s.during);
    rc = sqlmig_verify(db, &set3, NULL, &r);
    OK(rc == SQLMIG_OK && timeout_of(db) == 777, "verify: the connection's 777 ms after (%s)", sqlmig_errname(rc));

    /* Leave version 2 started, as a process killed inside it would. */
    OK(sqlmig_migrate(db, &set1, NULL, &r) == SQLMIG_OK && timeout_of(db) == 777, "migrate with NULL options: "
       "777 ms after");
    setup_exec(db, "INSERT INTO schema_migrations VALUES(2, 'b', '" CK("e002") "', '2026-01-01T00:00:00.000Z', -1)");
    o = options(100, &s);
    rc = sqlmig_migrate(db, &set3, &o, &r);
    OK(rc == SQLMIG_INTERRUPTED && timeout_of(db) == 777, "interrupted: the connection's 777 ms after (%s)",
       sqlmig_errname(rc));
    o = options(0, &s);
    rc = sqlmig_resolve(db, &o, 2, SQLMIG_RESOLVE_RETRY, &r);
    OK(rc == SQLMIG_OK && s.sqlmig == 5000 && s.during == 777 && timeout_of(db) == 777,
       "resolve: sqlmig's connection with 5000 ms (%lld), the caller's 777 ms during (%lld) and after",
       (long long)s.sqlmig, (long long)s.during);

    /* Refused before anything else: nothing touched. */
    set_timeout(db, 888);
    rc = sqlmig_migrate(db, NULL, NULL, &r);
    OK(rc == SQLMIG_MISUSE && timeout_of(db) == 888, "misuse (NULL set): the connection's 888 ms untouched");
    setup_exec(db, "BEGIN");
    rc = sqlmig_migrate(db, &set3, NULL, &r);
    OK(rc == SQLMIG_MISUSE && timeout_of(db) == 888, "misuse (inside a transaction): 888 ms after (%s)",
       sqlmig_errname(rc));
    setup_exec(db, "ROLLBACK");
    rc = sqlmig_migrate(db, &set3, NULL, &r);
    OK(rc == SQLMIG_OK && r.applied == 2 && timeout_of(db) == 888, "then migrated, 888 ms after (%s)", r.message);
    sqlite3_close(db);
}

static void remove_all(void)
{
    static const char *const suffix[] = { "", "-journal", "-wal", "-shm" };
    char path[160];
    int i;
    size_t k;

    for (i = 1; i <= ndb; i++)
        for (k = 0; k < sizeof suffix / sizeof suffix[0]; k++) {
            snprintf(path, sizeof path, "%s/%d.db%s", dir, i, suffix[k]);
            remove(path); /* most of them do not exist */
        }
    if (rmdir(dir) != 0)
        perror(dir);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    during_and_after(0, 0, 5000, "no handler, busy_timeout_ms 0");
    during_and_after(30000, 0, 5000, "own 30000 ms, busy_timeout_ms 0");
    during_and_after(30000, 1234, 1234, "own 30000 ms, busy_timeout_ms 1234");
    during_and_after(30000, -1, 0, "own 30000 ms, busy_timeout_ms -1");
    custom_handler();
    waiting();
    up_to_date();
    lock_during_no_transaction();
    other_calls();
    remove_all();
    return tap_done(&T);
}
