/*
** history.h — the schema after every migration of the first replay, kept
** as the changes from one migration to the next: for each object that a
** migration created, redefined or dropped, its fingerprint after it (see
** sqlmig_fingerprint() in sqlmig.h; 0: dropped). `sqlmig compile` embeds
** them (struct sqlmig_change), so that the runtime can tell which version
** a database made without sqlmig is at, and name what differs.
*/
#ifndef SQLMIG_HISTORY_H
#define SQLMIG_HISTORY_H

#include "model.h"

#include <sqlite3.h>
#include <stddef.h>

struct history;

/* A history with an empty schema before step 1; NULL when out of memory. */
struct history *history_new(void);

/*
** After step `step` (1 + the migration's index; count + 1 for the
** repeatable migrations), read db's schema, leaving out SQLite's objects
** and those of the ledger `ledger` (and its table of repeatable
** migrations), and append what changed since the last step to f->changes.
** Reads nothing when PRAGMA schema_version has not moved. 0, or -1 after
** printing a diagnostic.
*/
int history_step(struct history *h, sqlite3 *db, const char *ledger, size_t step, struct tool_folder *f);

void history_free(struct history *h);

#endif
