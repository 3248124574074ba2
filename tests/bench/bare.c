/*
** bench_bare — the baseline of the no-op start: what any program that keeps
** a ledger must do at the least. Open the database, read `version, checksum`
** of every ledger row, close.
**
**   bench_bare [--wal] [--expect N] DATABASE
**
**   --wal       PRAGMA journal_mode=WAL right after opening, as bench_host
**   --expect N  fail unless the ledger has exactly N rows
**
** Opens the database exactly as bench_host does (READWRITE | CREATE), and
** reads both columns of every row (sqlite3_column_int64/_text), so that
** SQLite does the same work for each row that sqlmig's read asks of it.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

int main(int argc, char **argv)
{
    const char *path = NULL;
    long long expect = -1;
    int wal = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--wal") == 0)
            wal = 1;
        else if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc)
            expect = atoll(argv[++i]);
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else
            path = NULL, i = argc;
    }
    if (!path) {
        fprintf(stderr, "usage: bench_bare [--wal] [--expect N] DATABASE\n");
        return 2;
    }

    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK
        || (wal && sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK)
        || sqlite3_prepare_v2(db, "SELECT version, checksum FROM schema_migrations ORDER BY version",
                              -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_bare: %s: %s\n", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return 1;
    }
    long long rows = 0, last = 0;
    size_t bytes = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long v = sqlite3_column_int64(st, 0);
        const unsigned char *sum = sqlite3_column_text(st, 1);
        if (v <= last || !sum) {
            fprintf(stderr, "bench_bare: %s: unexpected ledger row %lld\n", path, v);
            rc = SQLITE_CORRUPT;
            break;
        }
        bytes += (size_t)sqlite3_column_bytes(st, 1);
        last = v;
        rows++;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_CORRUPT)
        fprintf(stderr, "bench_bare: %s: %s\n", path, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (sqlite3_close(db) != SQLITE_OK || rc != SQLITE_DONE)
        return 1;
    if (expect >= 0 && rows != expect) {
        fprintf(stderr, "bench_bare: %s: %lld ledger rows, expected %lld\n", path, rows, expect);
        return 1;
    }
    return bytes == (size_t)rows * 64 ? 0 : 1;
}
