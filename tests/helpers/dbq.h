/*
** dbq.h — one-value queries for the runtime tests, which compare what is in
** a database with what they expect. Sentinels instead of error codes keep
** each assertion on one line: a failed query never equals a real answer.
*/
#ifndef SQLMIG_DBQ_H
#define SQLMIG_DBQ_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

/* First column of the first row; -999 on error, -998 when no row. */
static inline int64_t qint(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -999;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -999;
    switch (sqlite3_step(st)) {
    case SQLITE_ROW: v = sqlite3_column_int64(st, 0); break;
    case SQLITE_DONE: v = -998; break;
    }
    sqlite3_finalize(st);
    return v;
}

/* First column of the first row as text in buf: "(error)", "(none)" or "(null)" otherwise. */
static inline const char *qtext(sqlite3 *db, const char *sql, char *buf, size_t size)
{
    sqlite3_stmt *st;
    snprintf(buf, size, "(error)");
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return buf;
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(buf, size, "%s", sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "(null)");
    else
        snprintf(buf, size, "(none)");
    sqlite3_finalize(st);
    return buf;
}

/* 1 when a table (or other schema object) of that name exists. */
static inline int has_table(sqlite3 *db, const char *name)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_schema WHERE name = '%s'", name);
    return qint(db, sql) == 1;
}

#endif
