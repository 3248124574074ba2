/*
** A complete host program: bring the database up to date, then work.
** `app DB migrate status|up|down|verify|...` gives the sqlmig commands over
** the same database (sqlmig_main()).
*/
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>

#include "app_migrations.h"

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "app.db";
    sqlite3 *db = NULL;
    sqlmig_result res;
    int rc;

    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "app: %s: %s\n", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return 1;
    }
    if (argc > 2 && strcmp(argv[2], "migrate") == 0) {
        rc = sqlmig_main(db, &app_migrations, NULL, argc - 3, argv + 3);
        return sqlite3_close(db) == SQLITE_OK ? rc : 1;
    }
    rc = sqlmig_migrate(db, &app_migrations, NULL, &res);
    if (rc != SQLMIG_OK) {
        fprintf(stderr, "app: %s: %s\n", sqlmig_errname(rc), res.message);
        sqlite3_close(db);
        return 1;
    }
    printf("app: %s is at version %lld (%zu applied)\n", path,
           (long long)res.to_version, res.applied);
    /* ... the program's own work on db ... */
    return sqlite3_close(db) == SQLITE_OK ? 0 : 1;
}
