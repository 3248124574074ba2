/*
** test_concurrent.c — the concurrency campaign. Many callers, each with its
** own connection, call sqlmig_migrate() on one database file at the same
** moment: 32 processes, or 8 threads of one process. Every round starts from
** a fresh database or from one migrated halfway (options.target), in
** rollback-journal or WAL mode, and must end with:
**   - every caller returning SQLMIG_OK, none having seen SQLITE_BUSY;
**   - the ledger holding versions 1..N exactly once, none left started;
**   - one row per data migration (a second application would add one);
**   - the callers' applied counts summing to the number of pending migrations;
**   - PRAGMA integrity_check ok and the expected journal mode;
**   - every caller's busy timeout as it was before the call (what sqlmig
**     used meanwhile is read from its log callback).
**
** Histories: "tx" (every migration in its own transaction, one of them slow so
** that the others queue), "notx" (the same with a no-transaction data
** migration that the others must wait for), and "switch" (a no-transaction
** migration switches a rollback-journal database to WAL; rollback only).
** Callers pick, from the seed, the busy timeout they set on their connection
** before the call and whether they use SQLMIG_BATCH.
**
** Usage: test_concurrent [-r ROUNDS] [-p PROCESSES | -t THREADS]
**                        [-j rollback|wal|both] [-s fresh|half|both]
**                        [-H tx|notx|switch|all] [-S SEED] [-b BUSY_MS] [-d DIR]
** Defaults: 3 rounds of each combination, 32 processes, both journal modes,
** both start states, all histories, seed 1, -b 0 (sqlmig's default busy
** timeout of 5000 ms), the database in a new folder under /tmp (-d: under
** DIR). Round i uses seed S + i, so -S S+i-1 -r 1 (with the same -H, -j
** and -s) repeats it. Prints TAP; each round prints one line of figures,
** each combination a summary, and the run its slowest caller.
**
** `meson test --suite concurrency` runs -r 3 -p 32 and -r 3 -t 8 (in a
** sanitizer build -r 1 -p 32, and -b 20000 for both). The full campaign,
** 50 rounds of every combination in both modes:
**   build/tests/campaigns/concurrency/test_concurrent -r 50 -p 32
**   build/tests/campaigns/concurrency/test_concurrent -r 50 -t 8
*/
#include "sqlmig.h"
#include "tap.h"
#include "dbq.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct tap T;
#define OK(cond, ...) tap_ok(&T, (cond), __VA_ARGS__)

#define CK(d) d d d d d d d d d d d d d d d d
#define MIG(v, name, sql, ck, flags) { v, name, "00" #v "_" name ".sql", sql, sizeof sql - 1, 1, NULL, 0, ck, flags, NULL, 0 }
#define NOTX SQLMIG_NO_TRANSACTION

/* ---- histories --------------------------------------------------------- */

/* Rows of `bulk`, written by one statement: slow enough that others queue. */
#define BULK 20000
#define STR_(x) #x
#define STR(x) STR_(x)

/* `once` has no key on purpose: a data migration applied twice leaves two rows. */
#define SCHEMA "CREATE TABLE once(version INTEGER NOT NULL, note TEXT);\n" \
               "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
#define POSTS "CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), body TEXT);\n" \
              "CREATE INDEX posts_user ON posts(user_id);\n"
#define SLOW "CREATE TABLE bulk(n INTEGER NOT NULL);\n"                                                 \
             "INSERT INTO bulk(n) WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < " \
             STR(BULK) ") SELECT i FROM c;\n"                                                               \
             "CREATE INDEX bulk_n ON bulk(n);\n"
#define EMAIL "ALTER TABLE users ADD COLUMN email TEXT;\n" \
              "CREATE UNIQUE INDEX users_email ON users(email);\n"
/* A no-transaction migration that takes a while after its row is started. */
#define SPIN "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) SELECT count(*) FROM n;\n"

static const struct sqlmig_migration tx_migrations[] = {
    MIG(1, "schema", SCHEMA, CK("a001"), 0),
    MIG(2, "seed", "INSERT INTO once VALUES(2, 'seed');\n", CK("a002"), 0),
    MIG(3, "posts", POSTS, CK("a003"), 0),
    MIG(4, "more", "INSERT INTO once VALUES(4, 'more');\n", CK("a004"), 0),
    MIG(5, "bulk", SLOW, CK("a005"), 0),
    MIG(6, "again", "INSERT INTO once VALUES(6, 'again');\n", CK("a006"), 0),
    MIG(7, "email", EMAIL, CK("a007"), 0),
    MIG(8, "last", "INSERT INTO once VALUES(8, 'last');\n", CK("a008"), 0),
};

static const struct sqlmig_migration notx_migrations[] = {
    MIG(1, "schema", SCHEMA, CK("b001"), 0),
    MIG(2, "seed", "INSERT INTO once VALUES(2, 'seed');\n", CK("b002"), 0),
    MIG(3, "posts", POSTS, CK("b003"), 0),
    MIG(4, "more", "INSERT INTO once VALUES(4, 'more');\n", CK("b004"), 0),
    MIG(5, "bulk", SLOW, CK("b005"), 0),
    MIG(6, "outside", "-- sqlmig:no-transaction\nINSERT INTO once VALUES(6, 'outside');\n" SPIN, CK("b006"), NOTX),
    MIG(7, "email", EMAIL, CK("b007"), 0),
    MIG(8, "last", "INSERT INTO once VALUES(8, 'last');\n", CK("b008"), 0),
};

static const struct sqlmig_migration switch_migrations[] = {
    MIG(1, "schema", SCHEMA, CK("c001"), 0),
    MIG(2, "seed", "INSERT INTO once VALUES(2, 'seed');\n", CK("c002"), 0),
    MIG(3, "posts", POSTS, CK("c003"), 0),
    MIG(4, "wal", "-- sqlmig:no-transaction\nPRAGMA journal_mode=WAL;\n" SPIN, CK("c004"), NOTX),
    MIG(5, "more", "INSERT INTO once VALUES(5, 'more');\n", CK("c005"), 0),
    MIG(6, "bulk", SLOW, CK("c006"), 0),
    MIG(7, "email", EMAIL, CK("c007"), 0),
};

#define COUNT(a) (sizeof a / sizeof a[0])

struct history {
    const char *name;
    struct sqlmig_set set;
    int64_t half;       /* the target of a half-migrated start */
    int data_rows;      /* rows of `once` when all is applied */
    int waits;          /* has a no-transaction migration the others wait for */
    int rollback_only;  /* it switches the database to WAL */
};

static const struct history histories[] = {
    { "tx", { tx_migrations, COUNT(tx_migrations), NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL }, 4, 4, 0, 0 },
    { "notx", { notx_migrations, COUNT(notx_migrations), NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL }, 4, 4, 1, 0 },
    { "switch", { switch_migrations, COUNT(switch_migrations), NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL }, 3, 2, 1, 1 },
};

/* ---- one caller -------------------------------------------------------- */

/* Busy timeouts a caller may have set on its connection before the call. */
static const int own_timeouts[] = { 0, 250, 60000 };

/* What one caller reports; sent whole through a pipe (below PIPE_BUF). */
struct report {
    int idx;
    int started;        /* got past the barrier */
    int rc;
    int sqlite_code;
    unsigned flags;     /* options.flags it used */
    int own_timeout;    /* busy timeout it set before the call */
    int timeout_during; /* PRAGMA busy_timeout from inside the log callback; -1: no line */
    int timeout_after;  /* PRAGMA busy_timeout after the call */
    int timeout_sqlmig; /* that of sqlmig's own connection, read in options.connect; -1: none opened */
    int waited;         /* "waiting for" lines */
    int64_t applied, from, to;
    int64_t us;         /* wall time inside sqlmig_migrate() */
    char message[256];
};

struct round {
    const struct history *h;
    char path[300];
    int busy_ms;        /* options.busy_timeout_ms */
    uint64_t seed;
    /* thread mode: the barrier */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready, go;
};

/* splitmix64: a caller's choices depend only on the seed and its index. */
static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15u;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    return x ^ (x >> 31);
}

static int64_t now_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct logctx {
    sqlite3 *db;
    struct report *rep;
};

/* Count the waits, and read the busy timeout sqlmig has set meanwhile
** (the connection is idle between statements when sqlmig logs). */
static void on_log(void *ctx, int level, const char *msg)
{
    struct logctx *l = ctx;
    int64_t t;

    if (level != SQLMIG_LOG_INFO)
        return;
    if (strstr(msg, "waiting for"))
        l->rep->waited++;
    /* The first value seen; -2 if a later line saw another one. */
    t = qint(l->db, "PRAGMA busy_timeout");
    if (l->rep->timeout_during == -1)
        l->rep->timeout_during = (int)t;
    else if (t != l->rep->timeout_during)
        l->rep->timeout_during = -2;
}

/* sqlmig's own connection, as options.connect sees it. */
static int on_connect(void *ctx, sqlite3 *conn)
{
    struct report *rep = ctx;
    rep->timeout_sqlmig = (int)qint(conn, "PRAGMA busy_timeout");
    return 0;
}

/* Open the caller's connection and set it up as its program would. */
static sqlite3 *prepare(const struct round *rd, int idx, struct report *rep)
{
    uint64_t r = mix(rd->seed * 1000003u + (uint64_t)idx);
    sqlite3 *db = NULL;

    memset(rep, 0, sizeof *rep);
    rep->idx = idx;
    rep->rc = -1;
    rep->timeout_during = -1;
    rep->timeout_after = -1;
    rep->timeout_sqlmig = -1;
    rep->own_timeout = own_timeouts[r % COUNT(own_timeouts)];
    rep->flags = (r >> 8) % 4 == 0 ? SQLMIG_BATCH : 0;
    if (sqlite3_open_v2(rd->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK
        || sqlite3_busy_timeout(db, rep->own_timeout) != SQLITE_OK) {
        snprintf(rep->message, sizeof rep->message, "open: %s", db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* Past the barrier: migrate, time it, and look at the connection after. */
static void migrate(const struct round *rd, sqlite3 *db, struct report *rep)
{
    struct logctx l = { db, rep };
    sqlmig_options o;
    sqlmig_result r;
    int64_t t;

    rep->started = 1;
    memset(&o, 0, sizeof o);
    o.busy_timeout_ms = rd->busy_ms;
    o.flags = rep->flags;
    o.log = on_log;
    o.log_ctx = &l;
    o.connect = on_connect;
    o.hook_ctx = rep;
    t = now_us();
    rep->rc = sqlmig_migrate(db, &rd->h->set, &o, &r);
    rep->us = now_us() - t;
    rep->sqlite_code = r.sqlite_code;
    rep->applied = (int64_t)r.applied;
    rep->from = r.from_version;
    rep->to = r.to_version;
    snprintf(rep->message, sizeof rep->message, "%.255s", r.message);
    rep->timeout_after = (int)qint(db, "PRAGMA busy_timeout");
    if (sqlite3_close(db) != SQLITE_OK && rep->rc == SQLMIG_OK) {
        rep->rc = -2;
        snprintf(rep->message, sizeof rep->message, "sqlite3_close failed");
    }
}

/* ---- processes --------------------------------------------------------- */

static int write_all(int fd, const void *p, size_t n)
{
    return write(fd, p, n) == (ssize_t)n;
}

/* 1: a whole report; 0: end of file; a short read is an error (exit). */
static int read_report(int fd, struct report *rep)
{
    size_t got = 0;
    ssize_t n;

    while (got < sizeof *rep) {
        n = read(fd, (char *)rep + got, sizeof *rep - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got != 0 && got != sizeof *rep) {
        tap_diag("a report was cut short (%zu bytes)", got);
        exit(2);
    }
    return got == sizeof *rep;
}

static void child(const struct round *rd, int idx, int ready, int go, int out)
{
    struct report rep;
    sqlite3 *db = prepare(rd, idx, &rep);
    char c = 'r';

    /* Say "ready" (a failed open too, or the parent would wait for it),
    ** then block until the parent closes the pipe. */
    if (!write_all(ready, &c, 1) || close(ready) != 0)
        _exit(3);
    if (db) {
        while (read(go, &c, 1) > 0) {}
        migrate(rd, db, &rep);
    }
    /* One write below PIPE_BUF is atomic: reports never interleave. */
    _exit(write_all(out, &rep, sizeof rep) ? 0 : 3);
}

/* Fork n callers, start them together, collect their reports; returns how many reported. */
static int run_processes(const struct round *rd, int n, struct report *reps, int *clean)
{
    int ready[2], go[2], out[2], i, got = 0, status;
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    char c;

    if (!pids || pipe(ready) != 0 || pipe(go) != 0 || pipe(out) != 0) {
        perror("pipe");
        exit(2);
    }
    fflush(stdout); /* or the children would print the parent's buffer again */
    for (i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] < 0) {
            perror("fork");
            exit(2);
        }
        if (pids[i] == 0) {
            close(ready[0]);
            close(go[1]);
            close(out[0]);
            child(rd, i, ready[1], go[0], out[1]);
        }
    }
    close(ready[1]);
    close(go[0]);
    close(out[1]);
    /* Every child has opened its connection (or failed and reported). */
    for (i = 0; i < n && read(ready[0], &c, 1) == 1; i++) {}
    close(ready[0]);
    close(go[1]); /* go */
    while (got < n && read_report(out[0], &reps[got]))
        got++;
    close(out[0]);
    *clean = 1;
    for (i = 0; i < n; i++)
        if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            *clean = 0;
    free(pids);
    return got;
}

/* ---- threads ----------------------------------------------------------- */

struct thread_arg {
    struct round *rd;
    struct report *rep;
    int idx;
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    struct round *rd = a->rd;
    sqlite3 *db = prepare(rd, a->idx, a->rep);

    /* Count in even after a failed open, or the barrier would never open. */
    if (pthread_mutex_lock(&rd->mu) != 0)
        abort();
    rd->ready++;
    if (pthread_cond_broadcast(&rd->cv) != 0)
        abort();
    while (!rd->go)
        if (pthread_cond_wait(&rd->cv, &rd->mu) != 0)
            abort();
    if (pthread_mutex_unlock(&rd->mu) != 0)
        abort();
    if (db)
        migrate(rd, db, a->rep);
    return NULL;
}

static int run_threads(struct round *rd, int n, struct report *reps, int *clean)
{
    pthread_t *tids = calloc((size_t)n, sizeof *tids);
    struct thread_arg *args = calloc((size_t)n, sizeof *args);
    int i;

    if (!tids || !args || pthread_mutex_init(&rd->mu, NULL) != 0 || pthread_cond_init(&rd->cv, NULL) != 0) {
        tap_diag("cannot set up the threads");
        exit(2);
    }
    rd->ready = rd->go = 0;
    for (i = 0; i < n; i++) {
        args[i].rd = rd;
        args[i].rep = &reps[i];
        args[i].idx = i;
        if (pthread_create(&tids[i], NULL, thread_main, &args[i]) != 0) {
            tap_diag("pthread_create failed");
            exit(2);
        }
    }
    if (pthread_mutex_lock(&rd->mu) != 0)
        abort();
    while (rd->ready < n)
        if (pthread_cond_wait(&rd->cv, &rd->mu) != 0)
            abort();
    rd->go = 1; /* go */
    if (pthread_cond_broadcast(&rd->cv) != 0 || pthread_mutex_unlock(&rd->mu) != 0)
        abort();
    *clean = 1;
    for (i = 0; i < n; i++)
        if (pthread_join(tids[i], NULL) != 0)
            *clean = 0;
    if (pthread_cond_destroy(&rd->cv) != 0 || pthread_mutex_destroy(&rd->mu) != 0)
        *clean = 0;
    free(tids);
    free(args);
    return n;
}

/* ---- rounds ------------------------------------------------------------ */

struct config {
    int rounds, callers, threads, busy_ms;
    unsigned journals, starts, histories; /* bit masks */
    uint64_t seed;
};

/* Figures of one combination of mode, journal, start and history. */
struct figures {
    int rounds, failed, waits;
    int64_t max_us, total_us;
    int appliers, idle;
};

static struct {
    int rounds, failed;
    int64_t max_us;
    char max_where[160];
} overall;

static void remove_files(const char *path)
{
    static const char *const suffix[] = { "", "-journal", "-wal", "-shm" };
    char p[320];
    size_t i;

    for (i = 0; i < COUNT(suffix); i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        if (remove(p) != 0 && errno != ENOENT)
            perror(p);
    }
}

/* Fresh: no file at all in rollback mode, an empty WAL file in WAL mode.
** Half: migrated to h->half by one connection. Returns 0 on success. */
static int set_up(const struct round *rd, int wal, int half, char *why, size_t size)
{
    sqlite3 *db = NULL;
    sqlmig_options o;
    sqlmig_result r;
    char buf[32];
    int rc = 0;

    remove_files(rd->path);
    if (!wal && !half)
        return 0;
    if (sqlite3_open(rd->path, &db) != SQLITE_OK) {
        snprintf(why, size, "open: %s", sqlite3_errmsg(db));
        sqlite3_close(db);
        return 1;
    }
    if (wal && strcmp(qtext(db, "PRAGMA journal_mode=WAL", buf, sizeof buf), "wal") != 0) {
        snprintf(why, size, "PRAGMA journal_mode=WAL gave %s", buf);
        rc = 1;
    }
    if (rc == 0 && half) {
        memset(&o, 0, sizeof o);
        o.target = rd->h->half;
        if ((rc = sqlmig_migrate(db, &rd->h->set, &o, &r)) != SQLMIG_OK || r.to_version != rd->h->half)
            snprintf(why, size, "migrate to %lld: %s %.300s", (long long)rd->h->half, sqlmig_errname(rc),
                     r.message);
    }
    if (sqlite3_close(db) != SQLITE_OK && rc == 0) {
        snprintf(why, size, "close failed");
        rc = 1;
    }
    return rc;
}

static void run_round(const struct config *cf, struct round *rd, int wal, int half, int round,
                      const char *label, struct figures *fig)
{
    const struct history *h = rd->h;
    int64_t n = (int64_t)h->set.count, start = half ? h->half : 0, applied = 0, max_us = 0, t;
    int got, clean = 0, i, ok_rc = 1, no_busy = 1, versions_ok = 1, timeouts_ok = 1, appliers = 0, waits = 0;
    int during = rd->busy_ms > 0 ? rd->busy_ms : 5000, failed = T.failed, shown = 0;
    struct report *reps = calloc((size_t)cf->callers, sizeof *reps);
    char why[512] = "", buf[64], spread[256] = "";
    const char *mode = wal || h->rollback_only ? "wal" : "delete";
    sqlite3 *db = NULL;
    size_t len;

    if (!reps) {
        tap_diag("out of memory");
        exit(2);
    }
    if (!OK(set_up(rd, wal, half, why, sizeof why) == 0, "%s round %d: set up (%s)", label, round,
            why[0] ? why : "ok")) {
        free(reps);
        fig->failed++;
        return;
    }
    t = now_us();
    got = cf->threads ? run_threads(rd, cf->callers, reps, &clean) : run_processes(rd, cf->callers, reps, &clean);
    t = now_us() - t;

    for (i = 0; i < got; i++) {
        struct report *p = &reps[i];
        int busy = p->rc == SQLMIG_BUSY || (p->sqlite_code & 0xff) == SQLITE_BUSY;
        if (!p->started || p->rc != SQLMIG_OK) {
            ok_rc = 0;
            tap_diag("%s round %d: caller %d (flags %u, own timeout %d) returned %s after %lld ms: %s", label,
                     round, p->idx, p->flags, p->own_timeout, p->rc >= 0 ? sqlmig_errname(p->rc) : "(no call)",
                     (long long)(p->us / 1000), p->message);
        }
        no_busy &= !busy;
        if (p->to != n || p->from < start || p->from > n) {
            versions_ok = 0;
            if (shown++ < 5)
                    tap_diag("%s round %d: caller %d went from %lld to %lld", label, round, p->idx,
                         (long long)p->from, (long long)p->to);
        }
        /* sqlmig's connection: the option's timeout; the caller's: its own throughout. */
        if (p->timeout_after != p->own_timeout || (p->timeout_during != -1 && p->timeout_during != p->own_timeout)
            || (p->timeout_sqlmig != -1 && p->timeout_sqlmig != during)) {
            timeouts_ok = 0;
            if (shown++ < 5)
                tap_diag("%s round %d: caller %d set %d ms, saw %d during and %d after; sqlmig used %d", label,
                         round, p->idx, p->own_timeout, p->timeout_during, p->timeout_after, p->timeout_sqlmig);
        }
        applied += p->applied;
        waits += p->waited;
        if (p->applied > 0) {
            appliers++;
            len = strlen(spread);
            snprintf(spread + len, sizeof spread - len, "%s%lld", appliers > 1 ? "+" : "", (long long)p->applied);
        }
        if (p->us > max_us)
            max_us = p->us;
    }

    OK(got == cf->callers && clean && ok_rc, "%s round %d: all %d callers returned SQLMIG_OK", label, round,
       cf->callers);
    OK(no_busy, "%s round %d: no caller saw SQLITE_BUSY", label, round);
    OK(applied == n - start && versions_ok, "%s round %d: %lld pending migrations applied once in all (%lld), "
       "every caller at version %lld", label, round, (long long)(n - start), (long long)applied, (long long)n);
    OK(timeouts_ok, "%s round %d: sqlmig's connection waited up to %d ms, each caller's kept its own", label, round,
       during);

    if (sqlite3_open_v2(rd->path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        tap_diag("cannot open %s: %s", rd->path, sqlite3_errmsg(db));
        exit(2);
    }
    OK(qint(db, "SELECT count(*) FROM schema_migrations") == n
       && qint(db, "SELECT count(DISTINCT version) FROM schema_migrations") == n
       && qint(db, "SELECT min(version) FROM schema_migrations") == 1
       && qint(db, "SELECT max(version) FROM schema_migrations") == n
       && qint(db, "SELECT count(*) FROM schema_migrations WHERE execution_ms < 0") == 0,
       "%s round %d: the ledger holds versions 1..%lld once each, none started", label, round, (long long)n);
    OK(qint(db, "SELECT count(*) FROM once") == h->data_rows
       && qint(db, "SELECT count(DISTINCT version) FROM once") == h->data_rows
       && qint(db, "SELECT count(*) FROM bulk") == BULK,
       "%s round %d: one row per data migration (%d) and %d bulk rows", label, round, h->data_rows, BULK);
    OK(strcmp(qtext(db, "PRAGMA integrity_check", buf, sizeof buf), "ok") == 0, "%s round %d: integrity_check %s",
       label, round, buf);
    OK(strcmp(qtext(db, "PRAGMA journal_mode", buf, sizeof buf), mode) == 0, "%s round %d: journal_mode %s", label,
       round, buf);
    if (sqlite3_close(db) != SQLITE_OK) {
        tap_diag("close failed");
        exit(2);
    }
    remove_files(rd->path);

    tap_diag("%s round %d (seed %llu): %.0f ms, slowest caller %.0f ms; %d applied (%s), %d found nothing; "
             "%d waits", label, round, (unsigned long long)rd->seed, t / 1000.0, max_us / 1000.0, appliers,
             spread, got - appliers, waits);
    fig->rounds++;
    fig->failed += T.failed != failed;
    fig->waits += waits;
    fig->total_us += t;
    fig->appliers += appliers;
    fig->idle += got - appliers;
    if (max_us > fig->max_us)
        fig->max_us = max_us;
    overall.rounds++;
    overall.failed += T.failed != failed;
    if (max_us > overall.max_us) {
        overall.max_us = max_us;
        snprintf(overall.max_where, sizeof overall.max_where, "%s round %d", label, round);
    }
    free(reps);
}

static void campaign(const struct config *cf, const char *dir)
{
    static const char *const journal_names[] = { "rollback", "wal" };
    static const char *const start_names[] = { "fresh", "half" };
    struct round rd;
    struct figures fig;
    char label[128];
    size_t h;
    int wal, half, i;

    for (h = 0; h < COUNT(histories); h++) {
        if (!(cf->histories & 1u << h))
            continue;
        for (wal = 0; wal < 2; wal++) {
            if (!(cf->journals & 1u << wal) || (wal && histories[h].rollback_only))
                continue;
            for (half = 0; half < 2; half++) {
                if (!(cf->starts & 1u << half))
                    continue;
                snprintf(label, sizeof label, "%d %s, %s, %s, %s", cf->callers, cf->threads ? "threads" : "processes",
                         journal_names[wal], start_names[half], histories[h].name);
                memset(&fig, 0, sizeof fig);
                memset(&rd, 0, sizeof rd);
                rd.h = &histories[h];
                rd.busy_ms = cf->busy_ms;
                snprintf(rd.path, sizeof rd.path, "%s/campaign.db", dir);
                for (i = 1; i <= cf->rounds; i++) {
                    rd.seed = cf->seed + (uint64_t)i;
                    alarm(600); /* a stuck round (a deadlock) ends the run instead of hanging it */
                    run_round(cf, &rd, wal, half, i, label, &fig);
                    alarm(0);
                }
                if (histories[h].waits)
                    OK(fig.waits > 0, "%s: callers waited for the no-transaction migration (%d times)", label,
                       fig.waits);
                tap_diag("%s: %d rounds, %d failed, %.1f s, %.0f ms per round, slowest caller %.0f ms; "
                         "callers that applied / found nothing: %d / %d", label, fig.rounds, fig.failed,
                         fig.total_us / 1e6, fig.rounds ? fig.total_us / 1000.0 / fig.rounds : 0.0,
                         fig.max_us / 1000.0, fig.appliers, fig.idle);
            }
        }
    }
}

/* ---- main -------------------------------------------------------------- */

static void on_alarm(int sig)
{
    static const char msg[] = "Bail out! a round did not end within 600 s\n";
    (void)sig;
    (void)!write(1, msg, sizeof msg - 1);
    _exit(2);
}

static unsigned choice(const char *arg, const char *a, const char *b, const char *all)
{
    if (strcmp(arg, a) == 0)
        return 1;
    if (strcmp(arg, b) == 0)
        return 2;
    if (strcmp(arg, all) == 0)
        return 3;
    fprintf(stderr, "test_concurrent: '%s' is not %s, %s or %s\n", arg, a, b, all);
    exit(2);
}

/* A bit per entry of histories[]; "all" for every one. */
static unsigned history_mask(const char *arg)
{
    size_t i;

    if (strcmp(arg, "all") == 0)
        return (1u << COUNT(histories)) - 1;
    for (i = 0; i < COUNT(histories); i++)
        if (strcmp(arg, histories[i].name) == 0)
            return 1u << i;
    fprintf(stderr, "test_concurrent: '%s' is not tx, notx, switch or all\n", arg);
    exit(2);
}

static int number(const char *arg, int min, int max)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (*arg == '\0' || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "test_concurrent: '%s' is not a number from %d to %d\n", arg, min, max);
        exit(2);
    }
    return (int)v;
}

static void usage(void)
{
    fprintf(stderr, "usage: test_concurrent [-r ROUNDS] [-p PROCESSES | -t THREADS] [-j rollback|wal|both]\n"
                    "                       [-s fresh|half|both] [-H tx|notx|switch|all] [-S SEED] [-b BUSY_MS]\n"
                    "                       [-d DIR]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct config cf = { .rounds = 3, .callers = 32, .threads = 0, .busy_ms = 0,
                         .journals = 3, .starts = 3, .histories = (1u << COUNT(histories)) - 1, .seed = 1 };
    const char *parent = "/tmp";
    char dir[256];
    int64_t t = now_us();
    int opt;

    while ((opt = getopt(argc, argv, "r:p:t:j:s:H:S:b:d:")) != -1) {
        switch (opt) {
        case 'r': cf.rounds = number(optarg, 1, 1000000); break;
        case 'p': cf.callers = number(optarg, 1, 512); cf.threads = 0; break;
        case 't': cf.callers = number(optarg, 1, 512); cf.threads = 1; break;
        case 'j': cf.journals = choice(optarg, "rollback", "wal", "both"); break;
        case 's': cf.starts = choice(optarg, "fresh", "half", "both"); break;
        case 'H': cf.histories = history_mask(optarg); break;
        case 'S': cf.seed = (uint64_t)number(optarg, 0, 2147483647); break;
        /* sqlmig's own default is 0 (5000 ms); a negative value would leave
        ** the callers' own short timeouts in force, which is not this test. */
        case 'b': cf.busy_ms = number(optarg, 0, 3600000); break;
        case 'd': parent = optarg; break;
        default: usage();
        }
    }
    if (optind != argc)
        usage();
    if (cf.threads && !sqlite3_threadsafe()) {
        printf("1..0 # SKIP SQLite was built without thread support\n");
        return 0;
    }
    if (snprintf(dir, sizeof dir, "%s/sqlmig-concurrent-XXXXXX", parent) >= (int)sizeof dir) {
        fprintf(stderr, "test_concurrent: %s: too long\n", parent);
        return 2;
    }
    if (signal(SIGALRM, on_alarm) == SIG_ERR || !mkdtemp(dir)) {
        perror("test_concurrent");
        return 2;
    }
    tap_diag("SQLite %s, threadsafe %d; %d %s, %d rounds of each combination, seed %llu, busy_timeout_ms %d",
             sqlite3_libversion(), sqlite3_threadsafe(), cf.callers, cf.threads ? "threads" : "processes",
             cf.rounds, (unsigned long long)cf.seed, cf.busy_ms);
    campaign(&cf, dir);
    if (rmdir(dir) != 0)
        perror("rmdir");
    tap_diag("campaign: %d rounds, %d failed, %.1f s; slowest caller %.0f ms (%s)", overall.rounds, overall.failed,
             (now_us() - t) / 1e6, overall.max_us / 1000.0, overall.max_where);
    return tap_done(&T);
}
