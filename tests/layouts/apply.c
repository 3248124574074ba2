/*
** apply.c — apply a compiled set (m.c, m.h from `sqlmig compile --symbol m`)
** to a database file, as a program would: `apply DB` (the default path: a
** fresh database from the snapshot) or `apply DB replay` (every migration).
** Prints the runtime's message and exits 1 on failure.
*/
#include "m.h"
#include "sqlmig.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    sqlite3 *db = NULL;
    sqlmig_options o;
    sqlmig_result r;
    int rc;

    if (argc < 2)
        return 2;
    memset(&o, 0, sizeof o);
    if (argc > 2 && strcmp(argv[2], "replay") == 0)
        o.flags = SQLMIG_REPLAY;
    if (sqlite3_open(argv[1], &db) != SQLITE_OK) {
        fprintf(stderr, "apply: cannot open %s\n", argv[1]);
        return 1;
    }
    rc = sqlmig_migrate(db, &m, &o, &r);
    if (rc != SQLMIG_OK)
        fprintf(stderr, "apply: %s: %s\n", sqlmig_errname(rc), r.message);
    sqlite3_close(db);
    return rc == SQLMIG_OK ? 0 : 1;
}
