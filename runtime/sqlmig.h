/*
** sqlmig.h — apply SQL migrations embedded in the program to a SQLite database.
**
** A build step (`sqlmig compile`) turns a folder of migration files into a C
** file that defines one `const struct sqlmig_set`. At startup the program
** opens its database and calls sqlmig_migrate() with that set: every
** migration the database has not seen yet is applied, in version order, each
** in its own transaction together with its row in the ledger table. The
** runtime reads no file but the database and prints nothing unless the caller
** installs a log callback.
**
** Every function returns an int code from the SQLMIG_OK… table below and, when
** given a struct sqlmig_result, fills it with the details of a failure: the
** migration, its file, the line and column inside that file, SQLite's error
** code and a complete message.
*/
#ifndef SQLMIG_H
#define SQLMIG_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
** Version of this library. SQLMIG_VERSION_NUMBER is major*1000000 +
** minor*1000 + patch; sqlmig_libversion() returns the version of the code
** actually linked, which may differ from the header a program was built with.
*/
#define SQLMIG_VERSION        "0.1.0"
#define SQLMIG_VERSION_NUMBER 1000
const char *sqlmig_libversion(void);

/*
** Layout version of the generated code. A file written by `sqlmig compile`
** checks it with #if/#error, so a generated file and a runtime that disagree
** on the structs below fail at compile time instead of at run time.
*/
#define SQLMIG_FORMAT 2

/* Bits of sqlmig_migration.flags. */
#define SQLMIG_NO_TRANSACTION 0x1u /* file says `-- sqlmig:no-transaction` */

/*
** One migration, as `sqlmig compile` embeds it. All strings are static data
** in the generated file.
**
** up_sql/up_len are the bytes of the migration exactly as they are in the
** file (or in its up section), line endings included; there is no NUL
** inside, and up_sql[up_len] is the NUL that ends the string literal (SQLite
** then parses each statement in place instead of copying the rest of the
** migration). up_line is the line of the file on which
** up_sql starts, so that an error position inside up_sql maps to the file.
** down_sql is NULL (and down_len 0) when the migration has no down part.
** checksum is the SHA-256 of the up-SQL with every CRLF read as LF, as 64
** lowercase hex digits.
*/
struct sqlmig_migration {
    int64_t version;
    const char *name;     /* "create_users" */
    const char *file;     /* "0001_create_users.sql", a name inside the folder */
    const char *up_sql;
    size_t up_len;
    unsigned up_line;
    const char *down_sql;
    size_t down_len;
    const char *checksum;
    unsigned flags;       /* SQLMIG_NO_TRANSACTION */
};

/*
** One object of the schema that the build-time replay of all migrations
** reached: a row of sqlite_schema (type "table", "index", "view" or
** "trigger"), without SQLite's internal objects. Used to detect drift.
*/
struct sqlmig_object {
    const char *type;
    const char *name;
    const char *sql;
};

/*
** A whole history: the migrations sorted by version (strictly increasing),
** and the final schema sorted by (type, name) in byte order. Either array
** may be empty (NULL with a count of 0).
**
** snapshot_sql is the state that the build-time replay of the whole history
** reached, as SQL that recreates it on an empty database: every table,
** index, view and trigger in the order of sqlite_schema, each table's rows
** (rowids included) before its indexes and triggers, sqlite_sequence, and
** user_version and application_id when the history sets them. `sqlmig
** compile` replays this SQL into a second database and embeds it only when
** both hold the same schema, rows and header values. A fresh database (one
** with nothing in it) is then created from it in one transaction, with every
** ledger row, instead of by running each migration. Like up_sql it is
** followed by a NUL. When there is no snapshot, snapshot_sql is NULL and
** snapshot_note says why: the first thing in the history whose result
** depends on when or where it runs ("0005_seed.sql:3:1: random() ..."), a
** migration that runs outside a transaction, or `--no-snapshot`.
*/
struct sqlmig_set {
    const struct sqlmig_migration *migrations;
    size_t count;
    const struct sqlmig_object *objects;
    size_t object_count;
    const char *snapshot_sql;
    size_t snapshot_len;
    const char *snapshot_note;
};

/*
** Result codes: one table gives each code its name and its message.
** sqlmig_errname(SQLMIG_CHECKSUM) is "SQLMIG_CHECKSUM"; sqlmig_errstr() gives
** the one-line description. Codes are stable; new ones are only appended.
*/
#define SQLMIG_ERRORS(X)                                                              \
    X(OK,           0, "success")                                                     \
    X(MISUSE,       1, "invalid argument or set (NULL pointer, unsorted set)")        \
    X(SQLITE,       2, "SQLite reported an error outside any migration")              \
    X(MIGRATION,    3, "a migration failed; the message says what was rolled back")     \
    X(LEDGER,       4, "the ledger has a shape or a row that sqlmig did not write")   \
    X(CHECKSUM,     5, "an applied migration differs from the embedded one")          \
    X(UNKNOWN,      6, "the database has a version that this program does not know")  \
    X(OUT_OF_ORDER, 7, "a pending migration is older than the newest applied one")    \
    X(INTERRUPTED,  8, "a migration that runs outside a transaction did not finish")  \
    X(FOREIGN_KEY,  9, "a migration left rows that violate a foreign key")            \
    X(DRIFT,       10, "the live schema differs from the embedded final schema")      \
    X(BUSY,        11, "the database stayed locked longer than the busy timeout")     \
    X(READONLY,    12, "the database cannot be written")                              \
    X(TARGET,      13, "the target version is not a version of the set")             \
    X(ABORTED,     14, "the caller's callback stopped the operation")

enum sqlmig_code {
#define SQLMIG_X_ENUM(name, value, text) SQLMIG_##name = value,
    SQLMIG_ERRORS(SQLMIG_X_ENUM)
#undef SQLMIG_X_ENUM
    SQLMIG_CODE_END
};

/* "SQLMIG_CHECKSUM" for SQLMIG_CHECKSUM; "SQLMIG_UNKNOWN_CODE" for others. */
const char *sqlmig_errname(int code);
/* The one-line description of a code; never NULL. */
const char *sqlmig_errstr(int code);

/* Bits of sqlmig_options.flags. */
#define SQLMIG_DRY_RUN            0x01u /* report the plan, change nothing */
#define SQLMIG_BATCH              0x02u /* all pending in one transaction */
#define SQLMIG_ALLOW_UNKNOWN      0x04u /* tolerate applied versions not in the set */
#define SQLMIG_ALLOW_OUT_OF_ORDER 0x08u /* apply pending versions older than the newest applied */
#define SQLMIG_REPLAY             0x10u /* a fresh database too: run every migration, not the snapshot */

/* Levels passed to the log callback. */
#define SQLMIG_LOG_ERROR 0 /* the failure a call returns, or a problem verify found */
#define SQLMIG_LOG_INFO  1 /* progress: applied, planned, waiting, resolved */

/*
** Options of every call. A zeroed struct, or a NULL pointer, means: ledger
** table "schema_migrations", migrate to the newest version, one transaction
** per migration, a busy timeout of 5000 ms, no logging.
**
** table: the ledger lives in the "main" schema of the connection, whatever
** else is attached; the name is quoted, so any name of 1 to 200 bytes works
** except those starting with "sqlite_", which SQLite reserves. Another
** tool's ledger of the same name is refused (SQLMIG_LEDGER, see
** sqlmig_migrate()): give sqlmig a name of its own.
**
** target: migrations up to this version are applied. A database already
** past it stays as it is (nothing is ever undone).
**
** busy_timeout_ms: how long a call waits for a lock that another connection
** holds; 0 means 5000 ms. sqlmig_migrate() first reads the ledger with the
** connection's busy handler as it is (that read waits as the handler says):
** if the database is up to date, that read is the call's only statement and
** the handler is left untouched, one from sqlite3_busy_handler() included.
** When there is more to do (a migration pending, one that another process
** is running outside a transaction, or a first read that failed with
** SQLITE_BUSY or SQLITE_LOCKED, which is then repeated), and from the start
** in sqlmig_status(), sqlmig_verify() and sqlmig_resolve(), sqlmig reads the
** connection's own timeout (PRAGMA busy_timeout), calls
** sqlite3_busy_timeout(db, busy_timeout_ms), and sets the connection's own
** timeout again when it returns, after a failure too (0: no busy handler).
** SQLite cannot report a handler installed with sqlite3_busy_handler()
** (PRAGMA busy_timeout reads 0), so such a call replaces it and leaves the
** connection without one. A negative value leaves the connection's busy
** handler untouched throughout: pass one to keep such a handler. The same
** timeout (5000 ms when it is negative) bounds how long sqlmig waits for a
** migration that another process is running outside a transaction, and how
** long such a migration's own statements are retried when another
** connection holds the write lock.
**
** log: called with one complete line of text (no trailing newline): at
** SQLMIG_LOG_INFO for every migration applied, planned, started outside a
** transaction or waited for, and for a resolve; at SQLMIG_LOG_ERROR for the
** failure a call returns and for every problem verify finds. In batch mode
** "applied" lines say "to be committed with the batch": if the batch then
** fails, the error line says it was rolled back. The text is only valid
** during the call.
*/
typedef struct sqlmig_options {
    const char *table;         /* ledger table name; NULL: "schema_migrations" */
    int64_t target;            /* newest version to apply; 0: the last of the set */
    unsigned flags;            /* SQLMIG_DRY_RUN | SQLMIG_BATCH | SQLMIG_ALLOW_… */
    int busy_timeout_ms;       /* 0: 5000; < 0: leave the handler alone */
    void (*log)(void *log_ctx, int level, const char *message);
    void *log_ctx;
} sqlmig_options;

/*
** What a call did, or where it failed. On failure `code` is the returned
** code, and whatever is known is filled in: `version`, `name` and `file` of
** the migration concerned (0 and NULL when none), `line` and `column` of the
** failing statement inside that file (1-based, 0 when not known),
** `sqlite_code` (SQLite's extended result code, 0 when SQLite did not fail)
** and `message`, a complete human-readable sentence such as
**   "0007_add_index.sql:12:5: no such table: usr".
** `from_version` and `to_version` are the newest applied version before and
** after the call (after a failure too, as far as the ledger can be read);
** `applied` counts the migrations applied (or, in a dry run, that would be
** applied). The struct holds no pointer that must be freed:
** `name` and `file` point into the set.
*/
typedef struct sqlmig_result {
    int code;
    int64_t version;
    const char *name;
    const char *file;
    int line;
    int column;
    int sqlite_code;
    int64_t from_version;
    int64_t to_version;
    size_t applied;
    char message[1024];
} sqlmig_result;

/*
** Bring `db` to the newest version of `set` (or to options->target).
**
** Before anything is applied the ledger is checked: an applied migration
** whose stored checksum differs from the embedded one is SQLMIG_CHECKSUM; an
** applied version the set does not contain is SQLMIG_UNKNOWN (unless
** SQLMIG_ALLOW_UNKNOWN); a pending version older than the newest applied one
** is SQLMIG_OUT_OF_ORDER (unless SQLMIG_ALLOW_OUT_OF_ORDER); a migration that
** was started outside a transaction and never finished is
** SQLMIG_INTERRUPTED (see sqlmig_resolve()).
**
** The ledger must be sqlmig's: every row it reads must hold what sqlmig
** writes (an INTEGER version of at least 1, once; TEXT name, checksum and
** applied_at; an INTEGER execution_ms of at least -1), and before writing
** (and in a dry run) the table must give back what sqlmig writes (version and execution_ms of
** INTEGER affinity, version alone the primary key, the other three of TEXT
** affinity, any other column nullable or with a default; a view or an index
** will not do). Otherwise the call returns SQLMIG_LEDGER before anything is
** changed, with a message that says what was found (the columns of another
** tool's table, and the tool when they are exactly its own; the row and the
** value) and what to do. A stored checksum that is not 64 lowercase hex
** digits is SQLMIG_CHECKSUM like any other difference, and the message says
** the row, not the file, was edited.
**
** Each migration runs inside BEGIN IMMEDIATE … COMMIT, together with the
** insert of its ledger row, so that after any failure or crash the database
** is at some earlier whole version. A statement of the migration that would
** end that transaction (BEGIN, COMMIT, END, ROLLBACK) is refused before it
** runs. PRAGMA foreign_keys is switched off before that transaction, PRAGMA
** foreign_key_check must find nothing before COMMIT, and the connection's
** setting is restored when the call returns. The ledger is read again under
** the write lock, so processes that start together apply every migration
** exactly once: the others wait and find nothing to do.
**
** With SQLMIG_BATCH all pending migrations share one transaction and one
** foreign_key_check at its end (a violation there names no single
** migration: `version` is 0). A no-transaction migration cannot join it:
** the batch commits what came before, runs it, and goes on after it.
**
** A migration marked SQLMIG_NO_TRANSACTION runs statement by statement in
** autocommit mode, also with foreign keys off: its ledger row is first
** committed with execution_ms = -1 ("started"), then completed when it
** finishes and foreign_key_check is clean. If it fails, SQLMIG_MIGRATION
** does not mean "at the version before it": the statements that ran stay,
** and so does the started row. Another process that finds such a row waits
** (up to the busy timeout) for it to complete; after that, or after a
** crash, the migration is SQLMIG_INTERRUPTED.
**
** A fresh database, one with nothing in it (no table, not even a ledger),
** is created from set->snapshot_sql when the set has one, the target is its
** last version and SQLMIG_REPLAY is not set: the snapshot and every ledger
** row (execution_ms 0) in one BEGIN IMMEDIATE … COMMIT, checked like a batch
** (foreign_key_check before COMMIT), logged as one INFO line "created
** version N from the snapshot …". If the snapshot fails (a SQLite that lacks
** something the build's had), the message names "snapshot:LINE:COL", the
** transaction is rolled back and SQLMIG_REPLAY runs the migrations instead.
**
** When the database is already up to date the call runs one query, with
** the connection's own busy handler (see busy_timeout_ms), and allocates no
** memory of its own. It must be called outside a transaction
** when anything is pending (SQLMIG_MISUSE otherwise). After a failure the
** message ends by saying what it left: "(rolled back: the database stays at
** version N)", "(not started: …)" when its BEGIN failed, or, for a
** no-transaction migration, that its work stays and it is marked started.
** A failure while a migration is being applied names it (`version`, `file`,
** the file in the message), also when its BEGIN, its ledger row or its
** COMMIT failed rather than one of its statements; a statement that finds
** the database locked or read-only gives SQLMIG_BUSY or SQLMIG_READONLY, not
** SQLMIG_MIGRATION. An I/O error in COMMIT can come after the commit point:
** sqlmig then reads the ledger and says "(yet the COMMIT had reached the
** database: it is applied …)", with `to_version` and `applied` to match; if
** it cannot tell (the ledger cannot be read, or in WAL mode, where SQLite
** may recover the commit from the WAL later), the message gives both
** versions and says "the next run tells which". Causes outside the SQL (a
** full disk, an I/O error, a read-only folder, a file that is not a
** database) come with what to do. With SQLMIG_DRY_RUN nothing is written or locked.
** Returns SQLMIG_OK or an error code; `res` may be NULL.
*/
int sqlmig_migrate(sqlite3 *db, const struct sqlmig_set *set,
                   const sqlmig_options *options, sqlmig_result *res);

/* The state of one migration, as sqlmig_status() reports it. */
#define SQLMIG_PENDING     0 /* in the set, not applied */
#define SQLMIG_APPLIED     1 /* applied, checksum matches */
#define SQLMIG_CHANGED     2 /* applied, but the stored checksum differs */
#define SQLMIG_STARTED     3 /* no-transaction migration started, not finished */
#define SQLMIG_NOT_IN_SET  4 /* applied, but the set does not contain it */

/*
** One row of sqlmig_status(). `migration` is NULL for SQLMIG_NOT_IN_SET;
** then `version` and `name` come from the ledger. `applied_at` (ISO 8601 UTC,
** as stored) is NULL for a pending migration, and `execution_ms` is -1. The
** strings are only valid during the callback.
*/
struct sqlmig_status_row {
    int state;
    int64_t version;
    const char *name;
    const struct sqlmig_migration *migration;
    const char *checksum;      /* as stored in the ledger, or NULL */
    const char *applied_at;
    int64_t execution_ms;
};

/*
** Call `callback` once per migration, in version order, with its state:
** every migration of the set and every ledger row that the set does not
** contain. Read-only: a database without a ledger reports everything
** pending. A non-zero return from the callback stops the walk with
** SQLMIG_ABORTED; a ledger that is not sqlmig's, or a row sqlmig did not
** write, stops it with SQLMIG_LEDGER (rows before it have been passed). It
** does not judge the table's column types: an empty ledger of the wrong
** shape lists everything pending, and sqlmig_verify() refuses it.
** On success, when the database has nothing in it yet, `res->message` says
** how sqlmig_migrate() will create it: "a fresh database: sqlmig_migrate()
** creates version N from the snapshot, in one transaction", or that it
** applies the migrations one by one, followed by set->snapshot_note; it is
** empty for any other database.
*/
int sqlmig_status(sqlite3 *db, const struct sqlmig_set *set,
                  const sqlmig_options *options,
                  int (*callback)(void *ctx, const struct sqlmig_status_row *row),
                  void *ctx, sqlmig_result *res);

/*
** Check, without changing anything, that the database agrees with the set:
** the ledger (as sqlmig_migrate() checks it before writing), checksums,
** versions the set does not know, interrupted migrations and, when every
** migration of the set is applied, drift: each schema object that is
** missing, extra or defined differently from the embedded final schema.
** Each problem is passed to the log callback as one line naming the
** object or version; `res->message` names the first and the count.
** SQLMIG_ALLOW_UNKNOWN is honoured; a started row is reported at once,
** without waiting. While migrations are pending, drift is not checked and
** `res->message` says so (the code is still SQLMIG_OK). Returns
** SQLMIG_OK, or the code of the first problem (SQLMIG_LEDGER,
** SQLMIG_CHECKSUM, SQLMIG_UNKNOWN, SQLMIG_INTERRUPTED, SQLMIG_DRIFT, …).
*/
int sqlmig_verify(sqlite3 *db, const struct sqlmig_set *set,
                  const sqlmig_options *options, sqlmig_result *res);

/* How sqlmig_resolve() settles an interrupted migration. */
#define SQLMIG_RESOLVE_APPLIED 1 /* it did complete: keep its row as applied */
#define SQLMIG_RESOLVE_RETRY   2 /* it did not: drop its row, run it again */

/*
** Settle a no-transaction migration that was interrupted (state
** SQLMIG_STARTED). An operator first inspects the database, then either
** declares it applied (its row gets execution_ms 0) or asks for a retry (its
** row is deleted, so the next sqlmig_migrate() runs it again). The same can
** be done in SQL: `UPDATE schema_migrations SET execution_ms = 0 WHERE
** version = V` or `DELETE FROM schema_migrations WHERE version = V`. Returns
** SQLMIG_TARGET when `version` has no started row.
*/
int sqlmig_resolve(sqlite3 *db, const sqlmig_options *options, int64_t version,
                   int how, sqlmig_result *res);

#ifdef __cplusplus
}
#endif

#endif /* SQLMIG_H */
