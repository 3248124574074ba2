/*
** snapshot.h — write the state that the build-time replay reached as SQL that
** recreates it on an empty database, then prove it: run that SQL in a second
** database and compare the two, schema row by schema row, table row by table
** row, header value by header value.
*/
#ifndef SQLMIG_SNAPSHOT_H
#define SQLMIG_SNAPSHOT_H

#include "buf.h"
#include "purity.h"

#include <sqlite3.h>

/*
** Write into `out` the SQL that recreates the main database of `db`: every
** object in sqlite_schema order, each table's rows (rowids included) right
** after its CREATE TABLE, then sqlite_sequence, then user_version and
** application_id where `p` saw the history set them. Then replay it into a
** new in-memory database and compare.
**
** Returns 0 when the snapshot recreates the state exactly; 1 when it cannot
** (a virtual table, ANALYZE statistics, a difference found by the
** comparison), with the reason in why[] and `out` emptied; -1 when SQLite
** or memory failed, after printing a diagnostic.
*/
int snapshot_take(sqlite3 *db, const struct purity *p, struct buf *out, char *why, size_t whylen);

#endif
