/*
** snapshot.h — the state a replay reached, as SQL that recreates it on an
** empty database (snapshot_dump()), and the comparison of two databases,
** schema row by schema row, table row by table row (snapshot_compare()).
** The replay uses the comparison twice: between its two replays, to prove
** that the history gives the same database under other conditions, and
** between a replay and the database the runtime creates from the snapshot.
*/
#ifndef SQLMIG_SNAPSHOT_H
#define SQLMIG_SNAPSHOT_H

#include "buf.h"

#include <sqlite3.h>
#include <stddef.h>

/*
** The clock of a replay, rendered in each form a migration may store it:
** CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_TIME, ISO 8601 with and without
** milliseconds, Unix seconds as text and as an integer, milliseconds, a
** Julian day. A stored value that is the replay's clock in form k, in both
** replays, is the moment the row was written: the snapshot writes it as
** clock_expression[k], which reads the clock when the snapshot runs.
*/
#define CLOCK_FORMS 11

struct clock {
    sqlite3_value *value[CLOCK_FORMS];
};

extern const char *const clock_expression[CLOCK_FORMS];

/* Read db's clock ('now' of its VFS) in every form. SQLITE_OK or the error. */
int clock_read(sqlite3 *db, struct clock *c);
void clock_free(struct clock *c);

/* A database to dump or compare: its connection, the name of its ledger
** (which neither the snapshot nor a comparison includes: the runtime writes
** its own), and its clock (NULL: values are compared as they are). */
struct snap_db {
    sqlite3 *db;
    const char *ledger;
    const struct clock *clock;
};

/*
** Write into `out` the SQL that recreates the main database of a->db: every
** object in sqlite_schema order, each table's rows (rowids included) right
** after its CREATE TABLE, then sqlite_sequence, then user_version and
** application_id when `header` says the history sets them (bit 0 and bit
** 1). A value that is a's clock is written as the expression that reads the
** clock in its form. The text is followed by a NUL outside out->len.
**
** Returns 0; 1 when there can be no snapshot (a virtual table, ANALYZE
** statistics, a value SQL text cannot carry, more than `max` bytes), with
** the reason in why[] and `out` emptied; -1 when SQLite or memory failed,
** after printing a diagnostic.
*/
int snapshot_dump(const struct snap_db *a, unsigned header, size_t max, struct buf *out, char *why,
                  size_t whylen);

/* How snapshot_compare() compares. */
#define SAME_HEADER 0x1u /* user_version and application_id too */
#define SAME_CLOCK  0x2u /* a value that is each side's clock, in the same form, is the same value */
#define SAME_AS_READ 0x4u /* the schema as SQLite reads it (sqlmig_fingerprint(), which both
                            ** connections must have as a SQL function), in (type, name) order;
                            ** rows by their columns, rowids that are no column aside */

/*
** Compare the main databases of a and b: sqlite_schema in rowid order (but
** for the ledgers), every table's rows with their rowids (type and bytes of
** each value), sqlite_sequence. 0 when they are the same; 1 when they are
** not, with the first difference in why[] ("the rows of table "t": row 3,
** column created_at"); -1 when SQLite failed, after printing a diagnostic.
*/
int snapshot_compare(const struct snap_db *a, const struct snap_db *b, unsigned how, char *why, size_t whylen);

/*
** Is `name` (in any case) the ledger `ledger`, or its table of repeatable
** migrations ("<ledger>_repeatable")? Neither belongs to a snapshot.
*/
int snapshot_is_ledger(const char *ledger, const char *name);

/*
** A name by which SQL can reach table t's rowid: rowid, _rowid_ or oid,
** whichever no column of t takes. Empty when t is WITHOUT ROWID; 1 when all
** three are columns; -1 on failure (printed).
*/
int snapshot_rowid_name(sqlite3 *db, const char *t, char name[8]);

#endif
