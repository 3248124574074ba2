/*
** replay.h — the build-time replay of `sqlmig compile`: every migration, in
** order, through the runtime itself (sqlmig_migrate() on a database of an
** in-memory VFS, with the ledger, the baseline and the checks a program
** gets), the schema it reaches, and the proof that the snapshot of that
** state is what every database would reach.
**
** The proof replays the history a second time under conditions that must
** not matter (another clock, time zone, random seed, order of unordered
** rows, page size, auto_vacuum, journal mode, header values, file name,
** ledger name and SQLite version string), compares the two databases
** migration by migration, and runs the snapshot through the runtime into a
** third database, which must equal the first.
*/
#ifndef SQLMIG_REPLAY_H
#define SQLMIG_REPLAY_H

#include "model.h"

#include <stddef.h>

/*
** Replay f->items. The first failure is printed as `path:line:col: error:
** message` and stops the replay (later migrations would only fail because
** of it); references that a migration leaves dangling are printed as
** warnings. On success f->objects, f->object_count and f->schema_sql are
** filled, and, when `snapshot` is non-zero, either f->snapshot and its file
** settings, or f->snapshot_note (why there is none, also printed as a
** note). A snapshot longer than `snapshot_max` bytes is not kept; 0 means
** four times the migrations' SQL plus 1 MiB. Returns the number of problems
** (0 on success).
*/
int replay_folder(struct tool_folder *f, int snapshot, size_t snapshot_max);

#endif
