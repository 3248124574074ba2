/*
** purity.h — during the build-time replay, notice what makes the state a
** history reaches depend on more than its SQL: the clock, random numbers,
** the time zone, what the connection did before a migration, the version of
** SQLite, settings that shape the file. A history with none of these ends in
** the same state wherever and whenever it runs, so a snapshot of that state
** can stand in for replaying it (snapshot.h). The first such thing found is
** kept as a note naming the file, line and column.
*/
#ifndef SQLMIG_PURITY_H
#define SQLMIG_PURITY_H

#include "model.h"

#include <sqlite3.h>

struct purity {
    /* The first reason the history is not pure: why[0] is 0 when none. The
    ** place is a migration (NULL: the whole history) and a line and column in
    ** its file (0: the whole file). */
    char why[400];
    const struct tool_migration *where;
    unsigned line, col;
    int sets_user_version;    /* a migration sets PRAGMA user_version */
    int sets_application_id;  /* ... PRAGMA application_id */
    /* Where the replay is: the migration and the start of its statement. */
    const struct tool_migration *m;
    size_t at;
    sqlite3_int64 changes_at_start; /* total_changes() when the migration began */
    sqlite3_int64 rowid_before;     /* last_insert_rowid() then */
    sqlite3_vfs vfs;      /* the default VFS, with a clock that takes notes */
    int registered;
};

/*
** Open an in-memory database whose clock, random(), randomblob(),
** last_insert_rowid(), changes(), total_changes() and sqlite_version() family
** report to `p`, with the results SQLite's own would give. 0 on success; on
** failure *db may still need sqlite3_close(). purity_close() closes it.
*/
int purity_open(struct purity *p, sqlite3 **db);
void purity_close(struct purity *p, sqlite3 *db);

/* Before migration m runs: notes what its text alone shows. */
void purity_begin(struct purity *p, sqlite3 *db, const struct tool_migration *m);

/* Before the statement at byte `at` of the current migration runs. */
void purity_statement(struct purity *p, size_t at);

/* From the replay's authorizer: PRAGMA name = value is being prepared. */
void purity_pragma(struct purity *p, const char *name, const char *value);

/* Record `why` at byte `at` of migration m (NULL: the whole history, `at`
** ignored), unless a reason is already kept. */
void purity_note(struct purity *p, const struct tool_migration *m, size_t at, const char *why);

#endif
