/*
** dbsame — compare two SQLite databases as dbsame.h defines it.
**
**   dbsame A.db B.db [LEDGER]
**
** Exits 0 when they are the same, 1 with the first difference on stderr, 2
** on a usage error. The benchmark uses it to check that every fresh database
** it created from a snapshot equals the one replaying the history gave.
*/
#include "dbsame.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    sqlite3 *a = NULL, *b = NULL;
    struct dbsame d;
    int rc;

    if (argc < 3 || argc > 4) {
        fputs("usage: dbsame A.db B.db [LEDGER]\n", stderr);
        return 2;
    }
    if (sqlite3_open_v2(argv[1], &a, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK
        || sqlite3_open_v2(argv[2], &b, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "dbsame: cannot open: %s\n", sqlite3_errmsg(b ? b : a));
        sqlite3_close(a);
        sqlite3_close(b);
        return 2;
    }
    rc = dbsame_compare(a, b, argc == 4 ? argv[3] : "schema_migrations", &d);
    if (rc)
        fprintf(stderr, "dbsame: %s and %s differ: %s\n", argv[1], argv[2], d.what);
    sqlite3_close(a);
    sqlite3_close(b);
    return rc;
}
