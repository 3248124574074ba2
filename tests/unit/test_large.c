/*
** test_large.c — a migration of 10,000 statements (1 MiB) is parsed in
** place, by the build-time replay and by the runtime alike. Were the text
** handed to sqlite3_prepare_v2() without its terminating NUL, SQLite would
** copy the rest of the migration for every statement: gigabytes here. The
** bytes SQLite allocates are counted through SQLITE_CONFIG_MALLOC, which is
** deterministic, unlike a timing. Prints TAP.
*/
#include "replay.h"
#include "sqlmig.h"
#include "tap.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATEMENTS 10000

/* SQLite's allocator, wrapped to add up what is asked of it. xMalloc gets
** no context pointer, so the counter has to live at file scope. */
static sqlite3_mem_methods real;
static unsigned long long allocated;

static void *count_malloc(int n)
{
    allocated += (unsigned long long)n;
    return real.xMalloc(n);
}

static void *count_realloc(void *p, int n)
{
    allocated += (unsigned long long)n;
    return real.xRealloc(p, n);
}

static char *make_sql(size_t *len)
{
    size_t cap = (size_t)STATEMENTS * 128, n = 0;
    char *sql = malloc(cap);
    int i;

    if (!sql)
        return NULL;
    n += (size_t)snprintf(sql, cap, "CREATE TABLE big (id INTEGER PRIMARY KEY, note TEXT);\n");
    for (i = 0; i < STATEMENTS; i++)
        n += (size_t)snprintf(sql + n, cap - n,
                              "INSERT INTO big (id, note) VALUES (%d, 'row %d, padded to look like "
                              "real seed data .........');\n", i, i);
    *len = n;
    return sql;
}

int main(void)
{
    struct tap t = { 0, 0 };
    sqlite3_mem_methods counting;
    struct tool_migration m;
    struct tool_folder f;
    struct sqlmig_migration rm;
    struct sqlmig_set set;
    sqlmig_result res;
    sqlite3 *db = NULL;
    size_t len = 0;
    char *sql = make_sql(&len);
    unsigned long long limit;
    int rc;

    if (!sql || sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real) != SQLITE_OK)
        return 99;
    counting = real;
    counting.xMalloc = count_malloc;
    counting.xRealloc = count_realloc;
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &counting) != SQLITE_OK)
        return 99;
    /* Linear work allocates a few KiB per statement (the build replays the
    ** history twice, and runs its snapshot once); one copy of the rest of the
    ** text per statement would be about STATEMENTS * len / 2 per replay. */
    limit = (unsigned long long)STATEMENTS * 3 * 16384;
    tap_diag("migration: %zu bytes, %d statements; limit %llu bytes", len, STATEMENTS + 1, limit);

    /* The build-time replay. */
    memset(&m, 0, sizeof m);
    memset(&f, 0, sizeof f);
    m.version = 1;
    m.name = "big";
    m.file = "0001_big.sql";
    m.path = "big/0001_big.sql";
    m.statements = 1;
    strcpy(m.checksum, "0000000000000000000000000000000000000000000000000000000000000001");
    m.up = sql;
    m.up_len = len;
    m.up_line = 1;
    f.items = &m;
    f.count = 1;
    f.dir = "big";
    allocated = 0;
    rc = replay_folder(&f, 1, 0);
    tap_ok(&t, rc == 0, "the replay applies the %d statements", STATEMENTS + 1);
    tap_ok(&t, allocated < limit, "the replay allocates %llu bytes, linear in the statements", allocated);
    f.items = NULL; /* m's strings are not the folder's to free */
    m.name = m.file = NULL;
    f.count = 0;
    f.dir = NULL;
    tool_folder_free(&f);

    /* The runtime. */
    memset(&rm, 0, sizeof rm);
    rm.version = 1;
    rm.name = "big";
    rm.file = "0001_big.sql";
    rm.up_sql = sql; /* sql[len] is the NUL, as in a generated literal */
    rm.up_len = len;
    rm.up_line = 1;
    rm.checksum = "0000000000000000000000000000000000000000000000000000000000000000";
    memset(&set, 0, sizeof set);
    set.migrations = &rm;
    set.count = 1;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        return 99;
    allocated = 0;
    rc = sqlmig_migrate(db, &set, NULL, &res);
    tap_ok(&t, rc == SQLMIG_OK && res.applied == 1, "the runtime applies it (%s)", res.message);
    tap_ok(&t, allocated < limit, "the runtime allocates %llu bytes, linear in the statements", allocated);
    sqlite3_close(db);
    free(sql);
    return tap_done(&t);
}
