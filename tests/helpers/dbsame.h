/*
** dbsame.h — are two SQLite databases the same? Used to show that a database
** created from the snapshot equals one created by replaying every migration.
** Written apart from tools/snapshot.c on purpose: the check must not share
** the code it checks.
**
** The same means: sqlite_schema lists the same rows (type, name, tbl_name,
** sql) in the same order (rootpage aside: pages are placed as they come);
** every table holds the same rows, each value of the same type and bytes,
** rowids included; the ledger the same versions, names and checksums
** (applied_at and execution_ms tell when, not what); the same user_version,
** application_id, auto_vacuum, journal_mode, page_size and encoding; and
** PRAGMA integrity_check says ok for both.
*/
#ifndef DBSAME_H
#define DBSAME_H

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* Where the two first differ, or why the comparison failed. */
struct dbsame {
    char what[512];
};

static int dbsame_fail(struct dbsame *d, const char *fmt, const char *a, const char *b)
{
    snprintf(d->what, sizeof d->what, fmt, a, b);
    return 1;
}

/* Same type and bytes in column i? */
static int dbsame_value(sqlite3_stmt *a, sqlite3_stmt *b, int i)
{
    int t = sqlite3_column_type(a, i), n;
    double x, y;

    if (t != sqlite3_column_type(b, i))
        return 0;
    if (t == SQLITE_INTEGER)
        return sqlite3_column_int64(a, i) == sqlite3_column_int64(b, i);
    if (t == SQLITE_FLOAT) {
        x = sqlite3_column_double(a, i);
        y = sqlite3_column_double(b, i);
        return memcmp(&x, &y, sizeof x) == 0;
    }
    if (t == SQLITE_NULL)
        return 1;
    n = sqlite3_column_bytes(a, i);
    return n == sqlite3_column_bytes(b, i)
           && (n == 0 || memcmp(sqlite3_column_blob(a, i), sqlite3_column_blob(b, i), (size_t)n) == 0);
}

/* Run sql in both and compare every row; `label` names it in d->what. */
static int dbsame_query(struct dbsame *d, sqlite3 *da, sqlite3 *db, const char *sql, const char *label)
{
    sqlite3_stmt *a = NULL, *b = NULL;
    int ra = SQLITE_OK, rb = SQLITE_OK, i, n, rc = 0;
    long row = 0;
    char where[64];

    if (sqlite3_prepare_v2(da, sql, -1, &a, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(db, sql, -1, &b, NULL) != SQLITE_OK) {
        rc = dbsame_fail(d, "%s: cannot prepare: %s", label,
                         sqlite3_errmsg(a ? db : da));
        goto done;
    }
    n = sqlite3_column_count(a);
    for (;;) {
        ra = sqlite3_step(a);
        rb = sqlite3_step(b);
        row++;
        if (ra != SQLITE_ROW || rb != SQLITE_ROW)
            break;
        for (i = 0; i < n; i++)
            if (!dbsame_value(a, b, i)) {
                snprintf(where, sizeof where, "row %ld, column %d", row, i + 1);
                rc = dbsame_fail(d, "%s differs at %s", label, where);
                goto done;
            }
    }
    if (ra != rb)
        rc = dbsame_fail(d, "%s: one database has more rows (%s)", label,
                         ra == SQLITE_ROW || rb == SQLITE_ROW ? "row count" : "an error");
    else if (ra != SQLITE_DONE)
        rc = dbsame_fail(d, "%s: %s", label, sqlite3_errmsg(da));
done:
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    return rc;
}

/* Append "name" to buf, quoted for SQL. */
static void dbsame_ident(char *buf, size_t size, const char *name)
{
    size_t n = strlen(buf);
    if (n + 1 < size)
        buf[n++] = '"';
    for (; *name && n + 3 < size; name++) {
        if (*name == '"')
            buf[n++] = '"';
        buf[n++] = *name;
    }
    buf[n++] = '"';
    buf[n] = '\0';
}

/* The SELECT that lists every row of table t in a fixed order. */
static int dbsame_table_sql(sqlite3 *db, const char *t, const char *ledger, char *sql, size_t size)
{
    static const char *const names[] = { "rowid", "_rowid_", "oid" };
    sqlite3_stmt *st = NULL;
    int wr = 0, taken[3] = { 0, 0, 0 }, i, n = 0;
    const char *alias = NULL;

    if (ledger && strcmp(t, ledger) == 0) {
        snprintf(sql, size, "SELECT version, name, checksum FROM ");
        dbsame_ident(sql, size, t);
        strncat(sql, " ORDER BY version", size - strlen(sql) - 1);
        return 0;
    }
    if (sqlite3_prepare_v2(db, "SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return 1;
    sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        wr = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_xinfo(?1, 'main')", -1, &st, NULL) != SQLITE_OK)
        return 1;
    sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        n++;
        for (i = 0; i < 3; i++)
            if (sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), names[i]) == 0)
                taken[i] = 1;
    }
    sqlite3_finalize(st);
    for (i = 0; !wr && i < 3 && !alias; i++)
        if (!taken[i])
            alias = names[i];
    snprintf(sql, size, "SELECT %s%s* FROM main.", alias ? alias : "", alias ? ", " : "");
    dbsame_ident(sql, size, t);
    if (alias) {
        snprintf(sql + strlen(sql), size - strlen(sql), " ORDER BY %s", alias);
    } else { /* WITHOUT ROWID: by every column */
        for (i = 1; i <= n; i++)
            snprintf(sql + strlen(sql), size - strlen(sql), "%s%d", i == 1 ? " ORDER BY " : ", ", i);
    }
    return 0;
}

/*
** 0 when a and b hold the same (see above), 1 otherwise with d->what set.
** `ledger` is the ledger's table name (NULL: none is expected).
*/
static int dbsame_compare(sqlite3 *a, sqlite3 *b, const char *ledger, struct dbsame *d)
{
    static const char *const pragmas[] = {
        "PRAGMA main.user_version", "PRAGMA main.application_id", "PRAGMA main.auto_vacuum",
        "PRAGMA main.journal_mode", "PRAGMA main.page_size", "PRAGMA main.encoding",
    };
    sqlite3 *both[2];
    sqlite3_stmt *st = NULL;
    char sql[2048];
    size_t i;
    int rc;

    d->what[0] = '\0';
    if (dbsame_query(d, a, b, "SELECT type, name, tbl_name, sql FROM main.sqlite_schema ORDER BY rowid",
                     "sqlite_schema"))
        return 1;
    for (i = 0; i < sizeof pragmas / sizeof pragmas[0]; i++)
        if (dbsame_query(d, a, b, pragmas[i], pragmas[i]))
            return 1;
    both[0] = a;
    both[1] = b;
    for (i = 0; i < 2; i++) {
        rc = sqlite3_prepare_v2(both[i], "PRAGMA main.integrity_check", -1, &st, NULL) != SQLITE_OK
             || sqlite3_step(st) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0;
        sqlite3_finalize(st);
        if (rc)
            return dbsame_fail(d, "PRAGMA integrity_check is not ok in database %s%s", i ? "b" : "a", "");
    }
    if (sqlite3_prepare_v2(a, "SELECT name FROM main.sqlite_schema WHERE type = 'table' ORDER BY rowid", -1,
                           &st, NULL) != SQLITE_OK)
        return dbsame_fail(d, "%s%s", "cannot list the tables: ", sqlite3_errmsg(a));
    rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (dbsame_table_sql(a, t, ledger, sql, sizeof sql) != 0)
            rc = dbsame_fail(d, "cannot read the columns of %s: %s", t, sqlite3_errmsg(a));
        else
            rc = dbsame_query(d, a, b, sql, t);
    }
    sqlite3_finalize(st);
    return rc;
}

#endif
