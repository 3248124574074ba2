/*
** test_concurrent.c — 8 processes start sqlmig_migrate() at the same moment
** on one fresh database file. Each migration must be applied exactly once,
** every process must return SQLMIG_OK, and one migration runs outside a
** transaction (it switches the file to WAL) while the others wait for it.
**
** Usage: test_concurrent [rounds]   (default 3). Prints TAP.
*/
#include "sqlmig.h"
#include "tap.h"
#include "dbq.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 8

static struct tap T;
#define OK(cond, ...) tap_ok(&T, (cond), __VA_ARGS__)

#define CK(d) d d d d d d d d d d d d d d d d
#define MIG(v, name, file, sql, ck, flags) { v, name, file, sql, sizeof sql - 1, 1, NULL, 0, ck, flags }

static const struct sqlmig_migration migrations[] = {
    MIG(1, "users", "0001_users.sql",
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
        "CREATE TABLE seeded(id INTEGER PRIMARY KEY, note TEXT);\n", CK("c001"), 0),
    MIG(2, "posts", "0002_posts.sql",
        "CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), body TEXT);\n"
        "CREATE INDEX posts_user ON posts(user_id);\n", CK("c002"), 0),
    /* A data migration: run twice, it would leave two rows. */
    MIG(3, "seed", "0003_seed.sql", "INSERT INTO seeded(note) VALUES('exactly once');\n", CK("c003"), 0),
    /* Slow on purpose, so that the other processes find it started and wait. */
    MIG(4, "wal", "0004_wal.sql", "-- sqlmig:no-transaction\nPRAGMA journal_mode=WAL;\n"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) SELECT count(*) FROM n;\n",
        CK("c004"), SQLMIG_NO_TRANSACTION),
    MIG(5, "tags", "0005_tags.sql", "CREATE TABLE tags(id INTEGER PRIMARY KEY, label TEXT UNIQUE);\n", CK("c005"), 0),
    MIG(6, "email", "0006_email.sql", "ALTER TABLE users ADD COLUMN email TEXT;\n"
        "UPDATE users SET email = name || '@example.org';\n", CK("c006"), 0),
    MIG(7, "email_index", "0007_email_index.sql", "CREATE UNIQUE INDEX users_email ON users(email);\n", CK("c007"), 0),
};
static const struct sqlmig_set set = { migrations, sizeof migrations / sizeof migrations[0], NULL, 0 };

struct report {
    int started; /* 1 once the child got past the barrier */
    int rc;
    int applied;
    int waited; /* log lines saying it waited for the no-transaction migration */
    char message[200];
};

static void on_log(void *ctx, int level, const char *msg)
{
    (void)level;
    if (strstr(msg, "waiting for"))
        ++*(int *)ctx;
}

static void child(const char *path, int barrier, int out)
{
    struct report rep;
    sqlmig_options o;
    sqlmig_result r;
    sqlite3 *db = NULL;
    char c;

    memset(&rep, 0, sizeof rep);
    memset(&o, 0, sizeof o);
    o.busy_timeout_ms = 20000; /* generous: sanitizers and valgrind are slow */
    o.log = on_log;
    o.log_ctx = &rep.waited;
    rep.rc = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) == SQLITE_OK) {
        /* Block until the parent closes the pipe: everyone starts together. */
        while (read(barrier, &c, 1) > 0) {}
        rep.started = 1;
        rep.rc = sqlmig_migrate(db, &set, &o, &r);
        rep.applied = (int)r.applied;
        snprintf(rep.message, sizeof rep.message, "%.199s", r.message);
    }
    sqlite3_close(db);
    /* One write below PIPE_BUF is atomic, so the reports do not interleave. */
    _exit(write(out, &rep, sizeof rep) == (ssize_t)sizeof rep ? 0 : 3);
}

static int total_waited;

static void run_round(const char *dir, int round)
{
    char path[128], buf[64], extra[160];
    int barrier[2], out[2], i, status, all_ok = 1, exits_ok = 1, applied = 0, reports = 0, waited = 0;
    pid_t pids[CHILDREN];
    struct report rep;
    sqlite3 *db;
    static const char *const suffix[] = { "", "-journal", "-wal", "-shm" };

    snprintf(path, sizeof path, "%s/round%d.db", dir, round);
    if (pipe(barrier) != 0 || pipe(out) != 0) {
        perror("pipe");
        exit(2);
    }
    for (i = 0; i < CHILDREN; i++) {
        pids[i] = fork();
        if (pids[i] < 0) {
            perror("fork");
            exit(2);
        }
        if (pids[i] == 0) {
            close(barrier[1]);
            close(out[0]);
            child(path, barrier[0], out[1]);
        }
    }
    close(barrier[0]);
    close(out[1]);
    sqlite3_sleep(100); /* let every child reach read() */
    close(barrier[1]);  /* go */
    char spread[64] = "";
    while (read(out[0], &rep, sizeof rep) == (ssize_t)sizeof rep) {
        size_t len = strlen(spread);
        snprintf(spread + len, sizeof spread - len, " %d", rep.applied);
        reports++;
        applied += rep.applied;
        waited += rep.waited;
        total_waited += rep.waited;
        if (!rep.started || rep.rc != SQLMIG_OK) {
            all_ok = 0;
            tap_diag("round %d: a child returned %s: %s", round, sqlmig_errname(rep.rc), rep.message);
        }
    }
    close(out[0]);
    tap_diag("round %d: migrations applied by each process:%s; %d waited for 0004_wal.sql", round, spread, waited);
    for (i = 0; i < CHILDREN; i++)
        if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            exits_ok = 0;

    OK(reports == CHILDREN && all_ok && exits_ok, "round %d: all %d processes returned SQLMIG_OK", round, CHILDREN);
    OK(applied == (int)set.count, "round %d: %d migrations applied in all (%d)", round, (int)set.count, applied);

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        tap_diag("cannot open %s", path);
        exit(2);
    }
    OK(qint(db, "SELECT count(*) FROM schema_migrations") == (int64_t)set.count
       && qint(db, "SELECT count(DISTINCT version) FROM schema_migrations WHERE version BETWEEN 1 AND 7") == 7,
       "round %d: each version has exactly one ledger row", round);
    OK(qint(db, "SELECT count(*) FROM schema_migrations WHERE execution_ms < 0") == 0,
       "round %d: no migration left started", round);
    OK(qint(db, "SELECT count(*) FROM seeded") == 1, "round %d: the data migration inserted one row", round);
    OK(strcmp(qtext(db, "PRAGMA integrity_check", buf, sizeof buf), "ok") == 0, "round %d: integrity_check %s", round,
       buf);
    OK(strcmp(qtext(db, "PRAGMA journal_mode", buf, sizeof buf), "wal") == 0, "round %d: journal_mode %s", round, buf);
    sqlite3_close(db);
    for (i = 0; i < 4; i++) {
        snprintf(extra, sizeof extra, "%s%s", path, suffix[i]);
        remove(extra);
    }
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/sqlmig-concurrent-XXXXXX";
    int rounds = argc > 1 ? atoi(argv[1]) : 3, i;

    if (rounds < 1)
        rounds = 1;
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    for (i = 1; i <= rounds; i++)
        run_round(dir, i);
    /* Proves the test exercised the wait for a started migration. */
    OK(total_waited > 0, "processes waited for the no-transaction migration (%d times)", total_waited);
    if (rmdir(dir) != 0)
        perror("rmdir");
    return tap_done(&T);
}
