/*
** dbfiles.h — the numbered database files of a runtime test, in a folder of
** their own under /tmp: made by dbfiles_start(), named by dbfiles_path(),
** and removed, with their journal, WAL and shm files, by dbfiles_end().
** Include after tap.h and setup.h.
*/
#ifndef SQLMIG_DBFILES_H
#define SQLMIG_DBFILES_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct dbfiles {
    char dir[64];   /* /tmp/sqlmig-NAME-XXXXXX */
    int count;      /* files handed out: 1..count */
};

/* The folder, or exit status 2 when it cannot be made. */
static inline void dbfiles_start(struct dbfiles *d, const char *name)
{
    snprintf(d->dir, sizeof d->dir, "/tmp/sqlmig-%.20s-XXXXXX", name);
    d->count = 0;
    if (!mkdtemp(d->dir))
        setup_die("mkdtemp");
}

/* The path of file n (1-based). */
static inline void dbfiles_path(const struct dbfiles *d, int n, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%d.db", d->dir, n);
}

/* The path of a new file, not created yet. */
static inline void dbfiles_next(struct dbfiles *d, char *buf, size_t size)
{
    dbfiles_path(d, ++d->count, buf, size);
}

/* A connection to a new file, or exit status 2. */
static inline sqlite3 *dbfiles_open(struct dbfiles *d)
{
    char path[128];
    sqlite3 *db = NULL;

    dbfiles_next(d, path, sizeof path);
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        tap_diag("cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        exit(2);
    }
    return db;
}

/* Every file handed out, and the folder, removed. */
static inline void dbfiles_end(const struct dbfiles *d)
{
    static const char *const suffix[] = { "", "-journal", "-wal", "-shm" };
    char path[128], extra[160];
    size_t k;
    int i;

    for (i = 1; i <= d->count; i++) {
        dbfiles_path(d, i, path, sizeof path);
        for (k = 0; k < sizeof suffix / sizeof suffix[0]; k++) {
            snprintf(extra, sizeof extra, "%s%s", path, suffix[k]);
            remove(extra);
        }
    }
    if (rmdir(d->dir) != 0)
        perror("rmdir");
}

#endif
