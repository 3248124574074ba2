/*
** apply.c — apply a compiled set (m.c, m.h from `sqlmig compile --symbol m`)
** to a database file, as a program would: `apply DB` (the default path: a
** fresh database from the snapshot), `apply DB replay` (every migration),
** or `apply DB adopt TOOL` (a database another tool migrated: import that
** tool's ledger with sqlmig_adopt(), TOOL "last" for none but the set's
** last version, into a ledger named
** sqlmig_migrations; then migrate and verify, which must find nothing to
** do but the repeatable migrations). Prints the runtime's message and
** exits 1 on failure.
*/
#include "m.h"
#include "sqlmig.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static void say(int level, const char *text)
{
    if (level != SQLMIG_LOG_INFO)
        fprintf(stderr, "apply: %s\n", text);
}

static void on_log(void *ctx, int level, const char *message)
{
    (void)ctx;
    say(level, message);
}

int main(int argc, char **argv)
{
    struct sqlmig_adoption how;
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
    if (argc > 3 && strcmp(argv[2], "adopt") == 0) {
        memset(&how, 0, sizeof how);
        how.from = strcmp(argv[3], "last") ? argv[3] : NULL;
        how.version = how.from ? 0 : m.migrations[m.count - 1].version;
        o.table = "sqlmig_migrations";
        rc = sqlmig_migrate(db, &m, &o, &r);
        o.log = on_log;
        if (rc != SQLMIG_UNADOPTED)
            fprintf(stderr, "apply: before adopting, migrate says %s, not SQLMIG_UNADOPTED: %s\n", sqlmig_errname(rc),
                    r.message);
        else if ((rc = sqlmig_adopt(db, &m, &o, &how, &r)) != SQLMIG_OK)
            fprintf(stderr, "apply: adopt: %s: %s\n", sqlmig_errname(rc), r.message);
        else if (r.to_version != m.migrations[m.count - 1].version)
            fprintf(stderr, "apply: adopted at version %lld, not the last\n", (long long)r.to_version), rc = 1;
        else if ((rc = sqlmig_migrate(db, &m, &o, &r)) != SQLMIG_OK || r.applied != m.repeatable_count)
            fprintf(stderr, "apply: after adopting, migrate: %s: %s (%zu applied)\n", sqlmig_errname(rc), r.message,
                    r.applied), rc = rc ? rc : 1;
        else if ((rc = sqlmig_verify(db, &m, &o, &r)) != SQLMIG_OK)
            fprintf(stderr, "apply: verify after adopting: %s: %s\n", sqlmig_errname(rc), r.message);
    } else {
        rc = sqlmig_migrate(db, &m, &o, &r);
        if (rc != SQLMIG_OK)
            fprintf(stderr, "apply: %s: %s\n", sqlmig_errname(rc), r.message);
    }
    sqlite3_close(db);
    return rc == SQLMIG_OK ? 0 : 1;
}
