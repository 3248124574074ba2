/*
** test_interrupt.c — a process dies inside a no-transaction migration: a
** child migrates, and its log callback kills it with SIGKILL when sqlmig
** says it is about to run migration 3 "outside a transaction". The next
** start must refuse with SQLMIG_INTERRUPTED and say how to resolve it, and
** each way of resolving it must lead to the newest version. Prints TAP.
*/
#include "sqlmig.h"
#include "tap.h"
#include "dbq.h"

#include <signal.h>
#include <sqlite3.h>
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
#define MIG(v, name, file, sql, ck, flags) { v, name, file, sql, sizeof sql - 1, 1, NULL, 0, ck, flags, NULL, 0 }

static const struct sqlmig_migration migrations[] = {
    MIG(1, "a", "0001_a.sql", "CREATE TABLE a(x);\n", CK("d001"), 0),
    MIG(2, "b", "0002_b.sql", "CREATE TABLE b(x);\n", CK("d002"), 0),
    MIG(3, "c", "0003_c.sql", "-- sqlmig:no-transaction\nCREATE TABLE c(x);\nPRAGMA user_version = 3;\n", CK("d003"),
        SQLMIG_NO_TRANSACTION),
    MIG(4, "d", "0004_d.sql", "CREATE TABLE d(x);\n", CK("d004"), 0),
};
static const struct sqlmig_set set = { migrations, 4, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };

static void kill_on_outside(void *ctx, int level, const char *msg)
{
    (void)ctx;
    (void)level;
    if (strstr(msg, "outside a transaction"))
        raise(SIGKILL);
}

/* Migrate in a child that dies at the no-transaction migration; 1 if it did. */
static int die_in_migration_3(const char *path)
{
    pid_t pid = fork();
    int status;

    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        sqlite3 *db = NULL;
        sqlmig_options o;
        memset(&o, 0, sizeof o);
        o.log = kill_on_outside;
        if (sqlite3_open(path, &db) == SQLITE_OK)
            sqlmig_migrate(db, &set, &o, NULL);
        _exit(0); /* not killed: the test fails */
    }
    return waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

static int state_of_3;

static int on_row(void *ctx, const struct sqlmig_status_row *row)
{
    (void)ctx;
    if (row->version == 3)
        state_of_3 = row->state;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Kill a child in migration 3, then check what the next start sees. */
static sqlite3 *interrupted(const char *path, const char *label)
{
    sqlite3 *db = NULL;
    sqlmig_options o;
    sqlmig_result r;
    double t;
    int rc;

    OK(die_in_migration_3(path), "%s: the child was killed at the no-transaction migration", label);
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        tap_diag("cannot open %s", path);
        exit(2);
    }
    OK(qint(db, "SELECT max(version) FROM schema_migrations WHERE execution_ms >= 0") == 2
       && qint(db, "SELECT execution_ms FROM schema_migrations WHERE version = 3") == -1 && !has_table(db, "c"),
       "%s: 1 and 2 applied, 3 recorded as started and not run", label);

    memset(&o, 0, sizeof o);
    o.busy_timeout_ms = 200;
    t = now_s();
    rc = sqlmig_migrate(db, &set, &o, &r);
    t = now_s() - t;
    OK(rc == SQLMIG_INTERRUPTED && r.code == SQLMIG_INTERRUPTED, "%s: next start is SQLMIG_INTERRUPTED (%s)", label,
       sqlmig_errname(rc));
    OK(r.version == 3 && r.file && strcmp(r.file, "0003_c.sql") == 0, "%s: result names version 3", label);
    OK(strstr(r.message, "sqlmig_resolve") && strstr(r.message, "SQLMIG_RESOLVE_RETRY")
       && strstr(r.message, "UPDATE \"schema_migrations\" SET execution_ms = 0 WHERE version = 3")
       && strstr(r.message, "DELETE FROM \"schema_migrations\" WHERE version = 3"),
       "%s: message says how to resolve: %s", label, r.message);
    OK(t >= 0.15, "%s: waited for the busy timeout first (%.3f s)", label, t);
    OK(!has_table(db, "d") && qint(db, "SELECT count(*) FROM schema_migrations") == 3, "%s: nothing else applied", label);
    state_of_3 = -1;
    OK(sqlmig_status(db, &set, NULL, on_row, NULL, &r) == SQLMIG_OK && state_of_3 == SQLMIG_STARTED,
       "%s: status reports SQLMIG_STARTED", label);
    return db;
}

int main(void)
{
    char dir[] = "/tmp/sqlmig-interrupt-XXXXXX", path[128], path2[128];
    sqlmig_result r;
    sqlite3 *db;
    int rc;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(path, sizeof path, "%s/retry.db", dir);
    snprintf(path2, sizeof path2, "%s/applied.db", dir);

    /* Resolved by running it again. */
    db = interrupted(path, "retry");
    OK(sqlmig_resolve(db, NULL, 3, SQLMIG_RESOLVE_RETRY, &r) == SQLMIG_OK, "retry: resolved (%s)", r.message);
    rc = sqlmig_migrate(db, &set, NULL, &r);
    OK(rc == SQLMIG_OK && r.applied == 2 && r.to_version == 4, "retry: migrate applies 3 and 4 (%s)", r.message);
    OK(has_table(db, "c") && has_table(db, "d") && qint(db, "PRAGMA user_version") == 3
       && qint(db, "SELECT count(*) FROM schema_migrations WHERE execution_ms >= 0") == 4,
       "retry: migration 3 ran, every row complete");
    sqlite3_close(db);

    /* Resolved by the operator, who finished it by hand. */
    db = interrupted(path2, "applied");
    rc = sqlite3_exec(db, "CREATE TABLE c(x); PRAGMA user_version = 3", NULL, NULL, NULL);
    OK(rc == SQLITE_OK && sqlmig_resolve(db, NULL, 3, SQLMIG_RESOLVE_APPLIED, &r) == SQLMIG_OK,
       "applied: finished by hand and resolved (%s)", r.message);
    OK(qint(db, "SELECT execution_ms FROM schema_migrations WHERE version = 3") == 0, "applied: execution_ms 0");
    rc = sqlmig_migrate(db, &set, NULL, &r);
    OK(rc == SQLMIG_OK && r.applied == 1 && r.to_version == 4 && has_table(db, "d"),
       "applied: migrate applies only 4 (%s)", r.message);
    sqlite3_close(db);

    remove(path);
    remove(path2);
    if (rmdir(dir) != 0)
        perror("rmdir");
    return tap_done(&T);
}
