/*
** check.h — the build-time replay: apply every migration, in order and
** statement by statement, to an in-memory SQLite database, exactly as the
** runtime will, and keep the schema it reaches.
*/
#ifndef SQLMIG_CHECK_H
#define SQLMIG_CHECK_H

#include "model.h"

/*
** Replay f->items into a fresh in-memory database. The first failure is
** printed as `path:line:col: error: message` and stops the replay (later
** migrations would only fail because of it). On success f->objects,
** f->object_count and f->schema_sql are filled, and, when `snapshot` is
** non-zero, either f->snapshot (the final state as SQL, see snapshot.h) or
** f->snapshot_note (why there is none, also printed as a note). A snapshot
** longer than `snapshot_max` bytes is not kept; 0 means four times the
** migrations' SQL plus 1 MiB. Returns the number of problems (0 on success).
*/
int check_replay(struct tool_folder *f, int snapshot, size_t snapshot_max);

#endif
