/*
** bench_host — the sqlmig side of the benchmarks: a demo-style host that
** opens a database, brings it up to date with the embedded set and closes it.
**
**   bench_host [--wal] [--replay] [--batch] DATABASE
**
**   --wal     PRAGMA journal_mode=WAL right after opening, before migrating
**             (the baselines do the same)
**   --replay  options.flags |= SQLMIG_REPLAY: run every migration, also on a
**             fresh database (instead of the embedded snapshot, once there)
**   --batch   options.flags |= SQLMIG_BATCH: all pending in one transaction
**
** No flag is the default path a real host takes. Prints nothing on success;
** exits 1 with SQLite's or sqlmig's message on any failure, so that a
** benchmark that stops working stops being timed (hyperfine fails on it).
** The set is `bench_history`, from `sqlmig compile … --symbol bench_history`.
*/
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "bench_history.h"

int main(int argc, char **argv)
{
    sqlmig_options opts = { .table = NULL };
    const char *path = NULL;
    int wal = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--wal") == 0)
            wal = 1;
        else if (strcmp(argv[i], "--replay") == 0)
            opts.flags |= SQLMIG_REPLAY;
        else if (strcmp(argv[i], "--batch") == 0)
            opts.flags |= SQLMIG_BATCH;
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else {
            fprintf(stderr, "usage: bench_host [--wal] [--replay] [--batch] DATABASE\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: bench_host [--wal] [--replay] [--batch] DATABASE\n");
        return 2;
    }

    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_host: %s: %s\n", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return 1;
    }
    if (wal && sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_host: %s: %s\n", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return 1;
    }
    sqlmig_result res;
    int rc = sqlmig_migrate(db, &bench_history, &opts, &res);
    if (rc != SQLMIG_OK) {
        fprintf(stderr, "bench_host: %s: %s\n", sqlmig_errname(rc), res.message);
        sqlite3_close(db);
        return 1;
    }
    return sqlite3_close(db) == SQLITE_OK ? 0 : 1;
}
