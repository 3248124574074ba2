/* A host program whose migrations call its own SQL function, normalize(). */
#include <stdio.h>
#include <sqlite3.h>

#include "app_migrations.h"

int sqlite3_normalize_init(sqlite3 *db, char **err, const sqlite3_api_routines *api);

/* sqlmig's connection gets the function before any migration runs. */
static int connect(void *ctx, sqlite3 *conn)
{
    (void)ctx;
    return sqlite3_normalize_init(conn, NULL, NULL) != SQLITE_OK;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "app.db";
    sqlite3 *db = NULL;
    sqlmig_options o = { 0 };
    sqlmig_result res;
    int rc;

    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "app: %s: %s\n", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return 1;
    }
    o.connect = connect;
    rc = sqlmig_migrate(db, &app_migrations, &o, &res);
    if (rc != SQLMIG_OK) {
        fprintf(stderr, "app: %s: %s\n", sqlmig_errname(rc), res.message);
        sqlite3_close(db);
        return 1;
    }
    printf("app: %s is at version %lld (%zu applied)\n", path, (long long)res.to_version, res.applied);
    return sqlite3_close(db) == SQLITE_OK ? 0 : 1;
}
