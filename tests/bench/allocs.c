/*
** bench_allocs — how many heap allocations sqlmig_migrate() makes on an
** up-to-date database, compared with the queries it stands for.
**
**   bench_allocs [--wal] DATABASE
**
** DATABASE must already be at the newest version of the embedded set.
** Every allocation SQLite makes goes through the wrappers installed here
** with SQLITE_CONFIG_MALLOC (lookaside is switched off, so that none is
** served from a connection's private pool and missed). Allocations that
** sqlmig would make itself through libc are not seen here: `nm -u` of the
** runtime object shows whether it calls any allocator at all (run.sh checks
** both). After one warm-up query (the first statement on a connection loads
** the schema), the program measures, each on the same open connection:
**
**   bare     the baseline's query: SELECT version, checksum … stepped to the end
**   same     the one query sqlmig's no-op path runs, by hand, stepped to the end
**   migrate  sqlmig_migrate(db, &bench_history, NULL, &res)
**
** and prints one line per measure: "NAME mallocs=A reallocs=R frees=F bytes=B".
** The last line is "own=N": the allocations (mallocs + reallocs) of migrate
** beyond those of `same`, that is the ones sqlmig itself caused. Exit 0 when
** own is 0 or less (and the database was up to date), 1 otherwise.
*/
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "bench_history.h"

static sqlite3_mem_methods real;
static long long n_malloc, n_realloc, n_free, n_bytes;

static void *count_malloc(int n)
{
    n_malloc++;
    n_bytes += n;
    return real.xMalloc(n);
}

static void count_free(void *p)
{
    if (p)
        n_free++;
    real.xFree(p);
}

static void *count_realloc(void *p, int n)
{
    n_realloc++;
    n_bytes += n;
    return real.xRealloc(p, n);
}

struct counts {
    long long mallocs, reallocs, frees, bytes;
};

static void reset(void)
{
    n_malloc = n_realloc = n_free = n_bytes = 0;
}

static struct counts take(void)
{
    return (struct counts){ n_malloc, n_realloc, n_free, n_bytes };
}

static void show(const char *name, struct counts c)
{
    printf("%-8s mallocs=%lld reallocs=%lld frees=%lld bytes=%lld\n",
           name, c.mallocs, c.reallocs, c.frees, c.bytes);
}

/* Prepare sql, step it to the end reading every column as its own type
** (an integer read as text would allocate its conversion), finalize. */
static int query(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            for (int i = 0; i < sqlite3_column_count(st); i++) {
                if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
                    (void)sqlite3_column_int64(st, i);
                else
                    (void)sqlite3_column_text(st, i);
            }
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        fprintf(stderr, "bench_allocs: %s: %s\n", sql, sqlite3_errmsg(db));
    return rc == SQLITE_DONE ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[argc - 1] : NULL;
    int wal = argc == 3 && strcmp(argv[1], "--wal") == 0;
    if (!path || path[0] == '-' || argc > 3 || (argc == 3 && !wal)) {
        fprintf(stderr, "usage: bench_allocs [--wal] DATABASE\n");
        return 2;
    }

    sqlite3_mem_methods mine;
    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real) != SQLITE_OK)
        return 1;
    mine = real;
    mine.xMalloc = count_malloc;
    mine.xFree = count_free;
    mine.xRealloc = count_realloc;
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mine) != SQLITE_OK
        || sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0) != SQLITE_OK
        || sqlite3_initialize() != SQLITE_OK) {
        fprintf(stderr, "bench_allocs: cannot install the counting allocator\n");
        return 1;
    }

    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK
        || (wal && sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK)) {
        fprintf(stderr, "bench_allocs: %s: %s\n", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return 1;
    }
    static const char bare[] = "SELECT version, checksum FROM schema_migrations ORDER BY version";
    /* What runtime/sqlmig.c (walk) prepares on the no-op path. */
    static const char same[] = "SELECT version, checksum, execution_ms, name, applied_at "
                               "FROM main.\"schema_migrations\" ORDER BY version";
    struct counts b, s, m;
    sqlmig_result res;
    int bad = query(db, bare); /* warm-up: loads the schema */

    reset();
    bad |= query(db, bare);
    b = take();
    reset();
    bad |= query(db, same);
    s = take();
    reset();
    int rc = sqlmig_migrate(db, &bench_history, NULL, &res);
    m = take();
    if (rc != SQLMIG_OK || res.applied != 0) {
        fprintf(stderr, "bench_allocs: %s: not an up-to-date database: %s (%zu applied) %s\n",
                path, sqlmig_errname(rc), res.applied, res.message);
        bad = 1;
    }
    sqlite3_close(db);

    show("bare", b);
    show("same", s);
    show("migrate", m);
    long long own = (m.mallocs + m.reallocs) - (s.mallocs + s.reallocs);
    printf("own=%lld\n", own);
    return bad || own > 0 ? 1 : 0;
}
