/*
** setup.h — setup steps of the runtime tests that cannot fail unless the
** machine or the test itself is broken: each stops the test with exit
** status 2 and a TAP diagnostic that says what failed, so that a broken
** setup is never read as a result. Include after tap.h.
*/
#ifndef SQLMIG_SETUP_H
#define SQLMIG_SETUP_H

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* A system call failed (errno says why). */
static inline _Noreturn void setup_die(const char *what)
{
    tap_diag("setup failed: %s: %s", what, strerror(errno));
    exit(2);
}

/* Run setup SQL that must succeed. */
static inline void setup_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        tap_diag("setup SQL failed: %s: %s", sql, err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        exit(2);
    }
}

/* Every statement is finalized before a close, so anything but OK is a bug here. */
static inline void setup_close(sqlite3 *db)
{
    if (sqlite3_close(db) != SQLITE_OK) {
        tap_diag("sqlite3_close: %s", sqlite3_errmsg(db));
        exit(2);
    }
}

#endif
