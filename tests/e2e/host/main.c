/* A complete host program: bring the database up to date, then work. */
#include <stdio.h>
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
    rc = sqlmig_migrate(db, &app_migrations, NULL, &res);
    if (rc != SQLMIG_OK) {
        fprintf(stderr, "app: %s: %s\n", sqlmig_errname(rc), res.message);
        sqlite3_close(db);
        return 1;
    }
    printf("app: %s is at version %lld (%zu applied)\n", path,
           (long long)res.to_version, res.applied);
    return sqlite3_close(db) == SQLITE_OK ? 0 : 1;
}
