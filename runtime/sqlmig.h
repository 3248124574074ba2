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
** Migrations never run on the caller's connection. sqlmig_migrate() reads the
** ledger there with one statement (and, when that read finds the ledger
** refused, once more to say the version the database is at); if anything is
** to be done, sqlmig
** opens a connection of its own to the same database (same file, same VFS,
** same URI parameters; a private copy for an in-memory database), sets it to
** a fixed baseline, and does everything there. So what a migration does
** depends on the database and its SQL only, never on what the caller's
** connection holds (attached databases, temp objects, settings, authorizer,
** functions), and whatever a migration sets or creates on its connection
** stays there: the caller's connection is as it was. The build-time replay of
** `sqlmig compile` runs every migration through this same code.
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
#define SQLMIG_FORMAT 4

/* Bits of sqlmig_migration.flags. */
#define SQLMIG_NO_TRANSACTION 0x1u /* file says `-- sqlmig:no-transaction` */
#define SQLMIG_ATTACH         0x2u /* file says `-- sqlmig:attach`: it may ATTACH a file */
#define SQLMIG_WRAPPED        0x4u /* a golang-migrate file that wraps itself in BEGIN ... COMMIT */
#define SQLMIG_ONE_WAY        0x8u /* file says `-- sqlmig:irreversible`: never rolled back */
#define SQLMIG_DOWN_WRAPPED   0x10u /* its down part wraps itself in BEGIN ... COMMIT (golang-migrate) */

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
** down_sql is NULL (and down_len 0) when the migration has no down part;
** down_file and down_line say where it is (the up file itself for a file
** with sections), for sqlmig_rollback()'s messages.
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
    unsigned flags;       /* SQLMIG_NO_TRANSACTION, SQLMIG_ATTACH, SQLMIG_WRAPPED, SQLMIG_ONE_WAY */
    const char *down_file;
    unsigned down_line;
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
** One change a migration made to the schema, as the build-time replay saw
** it: after migration number `step` (1 for the first of the set; count + 1
** for the repeatable migrations, taken together), the object (type, name)
** has the fingerprint `fingerprint` (see sqlmig_fingerprint()), or is gone
** when it is 0. The schema at any version is the last change of each object
** up to that version's step: what sqlmig_adopt() compares a database with.
*/
struct sqlmig_change {
    size_t step;
    const char *type;
    const char *name;
    uint64_t fingerprint;
};

/*
** A whole history: the migrations sorted by version (strictly increasing),
** and the final schema sorted by (type, name) in byte order. Either array
** may be empty (NULL with a count of 0).
**
** snapshot_sql: the state that the build-time replay of the whole history
** reached, as SQL that recreates it on an empty database: every table,
** index, view and trigger in the order of sqlite_schema, each table's rows
** (rowids included) before its indexes and triggers, sqlite_sequence, and
** user_version and application_id when the history sets them. A value that
** both replays of the build stored as the clock of the moment they ran
** (a CURRENT_TIMESTAMP default filled by a seed row) is written as that
** clock, in the same format, read when the snapshot runs. `sqlmig compile`
** embeds it only when two replays under different conditions (clock, time
** zone, random seed, row order, page size) gave the same database and the
** snapshot, run by this runtime, gives that database again. A fresh
** database (one with nothing in it) is then created from it in one
** transaction, with every ledger row, instead of by running each migration.
** Like up_sql it is followed by a NUL. When there is no snapshot,
** snapshot_sql is NULL and snapshot_note says why: the first migration whose
** result differed between the two replays, and where ("0005_seed.sql: the
** rows of table \"tags\" differ ..."), or `--no-snapshot`.
**
** repeatables: the history's repeatable migrations (Flyway's R__ files),
** sorted by name in byte order, each with version 0: once the database is
** at the last version of the set, each one that has never run, or whose
** checksum differs from the one stored when it last ran, runs again, in
** name order, each in its own transaction (see sqlmig_migrate()). The
** snapshot and the final schema include what they did.
**
** layout: the name of the folder layout the set was compiled from (NULL in a set
** built by hand). toolsums: when not NULL, for each migration the
** checksum that layout's own tool stores in its ledger (sqlx: the SHA-384
** of the file, Drizzle: its SHA-256, both in hex; Flyway: the CRC-32 of its
** lines, as a signed decimal), which sqlmig_adopt() compares with that
** tool's ledger.
**
** snapshot_auto_vacuum, snapshot_wal: the file settings the history
** leaves, which the snapshot then gives the file too: auto_vacuum plus one
** (1 none, 2 full, 3 incremental; 0: the history sets none), and WAL mode.
** The snapshot is used only on a database whose file can take them, and
** only in UTF-8, the encoding it was proven in. (A page size set by the
** history would be one more, but the build never finds one set the same
** way on every file: such a history gets no snapshot.)
*/
struct sqlmig_set {
    const struct sqlmig_migration *migrations;
    size_t count;
    const struct sqlmig_object *objects;
    size_t object_count;
    const char *snapshot_sql;
    size_t snapshot_len;
    const char *snapshot_note;
    unsigned snapshot_auto_vacuum;
    unsigned snapshot_wal;
    const struct sqlmig_migration *repeatables;
    size_t repeatable_count;
    const struct sqlmig_change *changes; /* sorted by step; none (NULL, 0) in a set built by hand */
    size_t change_count;
    const char *layout;                  /* the folder's layout: "plain", "sqlx", "flyway", ... */
    const char *const *toolsums;         /* NULL, or per migration the checksum its layout's own tool
                                            stores (sqlx, Drizzle, Flyway), for sqlmig_adopt() */
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
    X(DRIFT,       10, "the live schema differs from the embedded one it should have") \
    X(BUSY,        11, "the database stayed locked longer than the busy timeout")     \
    X(READONLY,    12, "the database cannot be written")                              \
    X(TARGET,      13, "the target version is not a version of the set")             \
    X(ABORTED,     14, "the caller's callback stopped the operation")                 \
    X(UNADOPTED,   15, "the database was made without sqlmig: adopt it first")        \
    X(IRREVERSIBLE, 16, "a migration to roll back has no down part, or says it cannot be undone")

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
#define SQLMIG_TERMINAL           0x20u /* sqlmig_main(): stdout is a terminal (progress lines, colour) */

/* Levels passed to the log callback. */
#define SQLMIG_LOG_ERROR 0 /* the failure a call returns, or a problem verify found */
#define SQLMIG_LOG_INFO  1 /* progress: applied, planned, waiting, resolved */
#define SQLMIG_LOG_WARN  2 /* a problem that does not stop the call (foreign key violations already there) */

/*
** Options of every call. A zeroed struct, or a NULL pointer, means: ledger
** table "schema_migrations", migrate to the newest version, one transaction
** per migration, a busy timeout of 5000 ms, no logging.
**
** table: the ledger lives in the "main" schema of the database; the name
** is quoted, so any name of 1 to 200 bytes without control characters
** works, except those starting with "sqlite_", which SQLite reserves.
** Another tool's ledger of the same name is refused (SQLMIG_LEDGER, see
** sqlmig_migrate()): give sqlmig a name of its own. A migration that
** creates a table of this name is refused as SQLMIG_MISUSE: the option,
** not the migration, is at fault.
**
** target: migrations up to this version are applied. A database already
** past it stays as it is (nothing is ever undone).
**
** busy_timeout_ms: how long sqlmig's own connection waits for a lock that
** another connection holds (0: 5000 ms; negative: it does not wait). The
** caller's connection is never given a busy handler, nor has its own
** changed: sqlmig_migrate()'s one read there waits as that handler says.
** The same timeout bounds how long sqlmig waits for a migration that
** another process is running outside a transaction, and how long such a
** migration's own statements are retried when another connection holds the
** write lock.
**
** log: called with one complete line of text (no trailing newline, no
** control character: one from the database is shown as '?'): at
** SQLMIG_LOG_INFO for every migration applied, planned, started outside a
** transaction or waited for, and for a resolve; at SQLMIG_LOG_WARN for
** foreign key violations that were already in the database (see
** sqlmig_migrate()); at SQLMIG_LOG_ERROR for the failure a call returns and
** for every problem verify finds. In batch mode "applied" lines say "to be
** committed with the batch": if the batch then fails, the error line says
** it was rolled back. The text is only valid during the call.
**
** connect: called with sqlmig's own connection once it is open and set to
** its baseline, before any of sqlmig's statements run on it: register the
** application's SQL functions and collations here (a migration can call
** only what this connection has), or give an encryption key. Functions,
** collations and keys stay for the whole call; the baseline's PRAGMAs and
** the busy timeout are sqlmig's, and are set again after any migration that
** changes a setting. A non-zero return stops the call with SQLMIG_ABORTED.
**
** applied: called after each migration that sqlmig runs (not for a
** database created from the snapshot), inside its transaction, after its
** checks and its ledger row, with sqlmig's connection. It may read the
** database, and must not change it. A non-zero return stops the call with
** SQLMIG_ABORTED, and the migration is rolled back.
*/
typedef struct sqlmig_options {
    const char *table;         /* ledger table name; NULL: "schema_migrations" */
    int64_t target;            /* newest version to apply; 0: the last of the set */
    unsigned flags;            /* SQLMIG_DRY_RUN | SQLMIG_BATCH | SQLMIG_ALLOW_… */
    int busy_timeout_ms;       /* 0: 5000; < 0: no waiting */
    void (*log)(void *log_ctx, int level, const char *message);
    void *log_ctx;
    int (*connect)(void *hook_ctx, sqlite3 *conn);
    int (*applied)(void *hook_ctx, sqlite3 *conn, const struct sqlmig_migration *m);
    void *hook_ctx;            /* passed to connect and applied */
} sqlmig_options;

/*
** What a call did, or where it failed. On failure `code` is the returned
** code, and whatever is known is filled in: `version`, `name` and `file` of
** the migration concerned (0 and NULL when none), `line` and `column` of the
** failing statement inside that file (1-based, 0 when not known),
** `sqlite_code` (SQLite's extended result code, 0 when SQLite did not fail)
** and `message`, a complete human-readable sentence such as
**   "0007_add_index.sql:12:5: no such table: usr (rolled back: the database
**   stays at version 6)".
** message[cause_at] onwards, cause_len bytes, is the cause alone ("no such
** table: usr"), without the file, the position or what the failure left.
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
    size_t cause_at;
    size_t cause_len;
    char message[1024];
} sqlmig_result;

/*
** sqlmig_migrate(): bring a database up to date
**
** Bring `db` to the newest version of `set` (or to options->target).
**
** When the database is already up to date the call runs one query on `db`
** (the ledger read, with the connection's own busy handler; a second one
** reads the table of repeatable migrations when the set has any) and
** allocates no memory of its own; only a database that also holds versions
** of a newer build (SQLMIG_ALLOW_UNKNOWN) is looked at further, on
** sqlmig's own connection (see "a database that a newer build migrated").
** Anything more runs on sqlmig's own connection (see the top of this
** file), which is closed before the call returns. With
** anything pending, `db` must be outside a transaction, with no statement
** running, and not in locking_mode=EXCLUSIVE (SQLMIG_MISUSE otherwise):
** sqlmig's connection could not write past it.
*/

/*
** Migrating: the checks before anything is written
**
** Before anything is applied the ledger is checked: an applied migration
** whose stored checksum differs from the embedded one is SQLMIG_CHECKSUM; an
** applied version the set does not contain is SQLMIG_UNKNOWN (unless
** SQLMIG_ALLOW_UNKNOWN: see the next paragraph); a pending version older than the newest applied one
** is SQLMIG_OUT_OF_ORDER (unless SQLMIG_ALLOW_OUT_OF_ORDER); a migration that
** was started outside a transaction and never finished is
** SQLMIG_INTERRUPTED (see sqlmig_resolve()).
*/

/*
** Migrating: a database that a newer build migrated
**
** An older program facing a database that a newer build migrated is
** refused (SQLMIG_UNKNOWN) unless it passes SQLMIG_ALLOW_UNKNOWN; then it
** goes on only if the database still has everything of its own final
** schema (set->objects): every table with every column, every index, view
** and trigger, by name, which is what its queries were written for.
** Otherwise it is SQLMIG_UNKNOWN naming the first thing that is gone, and
** the advice to run the newer build or to roll the database back with it.
*/

/*
** Migrating: a database made without sqlmig
**
** A database that holds objects but no ledger, one of them an object of
** the set's history (set->changes: a table that a migration creates, say),
** was made without sqlmig: running the first migration there would fail,
** or worse. It is refused with SQLMIG_UNADOPTED before anything is written,
** with what was found ("it holds table projects, which
** 0001_create_projects.sql creates"), the version its schema is at (or the
** closest, or the versions that share it) and what to do: sqlmig_adopt().
** Objects of the program's own, which no migration makes, are no reason.
*/

/*
** Migrating: the ledger must be sqlmig's
**
** The ledger must be sqlmig's: every row it reads must hold what sqlmig
** writes (an INTEGER version of at least 1, once; TEXT name, checksum and
** applied_at; an INTEGER execution_ms of at least -2: -1 marks a migration
** started, -2 one adopted, not run), and before writing
** (and in a dry run) the table must give back what sqlmig writes (version and execution_ms of
** INTEGER affinity, version alone the primary key, the other three of TEXT
** affinity, any other column nullable or with a default; a view or an index
** will not do). Otherwise the call returns SQLMIG_LEDGER before anything is
** changed, with a message that says what was found (the columns of another
** tool's table, and the tool when they are exactly its own; the row and the
** value) and what to do. A stored checksum that is not 64 lowercase hex
** digits is SQLMIG_CHECKSUM like any other difference, and the message says
** the row, not the file, was edited.
*/

/*
** Migrating: how each migration runs
**
** Each migration runs inside BEGIN IMMEDIATE … COMMIT, together with the
** insert of its ledger row, so that after any failure or crash the database
** is at some earlier whole version. Before each migration sqlmig's
** connection is at its baseline: SQLite's documented defaults for every
** setting that changes what SQL does (foreign_keys, recursive_triggers,
** case_sensitive_like, legacy_alter_table, reverse_unordered_selects,
** query_only, ignore_check_constraints, defer_foreign_keys, writable_schema
** off; trusted_schema, automatic_index and double-quoted string literals on;
** locking_mode normal), no temp object, nothing attached and
** last_insert_rowid() 0. A migration may change any of these for itself;
** sqlmig puts them back after it. A statement that would end the
** transaction (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE), switch
** the journal to OFF or MEMORY, or ATTACH a file without `-- sqlmig:attach`
** is refused before it runs. A migration that may attach runs in a
** transaction of its own, and what it attached is detached after it.
*/

/*
** Migrating: foreign keys
**
** Foreign keys are off while a migration runs (SQLite's table rebuild needs
** it), and before COMMIT sqlmig checks the rows the migration could have
** broken: those of the tables it wrote, altered or dropped, and of the
** tables that refer to them. A violation it added fails it
** (SQLMIG_FOREIGN_KEY, rolled back). A violation that was already in the
** database (SQLite enforces none unless asked, so applications make them)
** does not: the migration is applied and a SQLMIG_LOG_WARN line says how
** many there are and names the first. The ledger is read again under the
** write lock, so processes that start together apply every migration
** exactly once: the others wait and find nothing to do.
*/

/*
** Migrating: batches
**
** With SQLMIG_BATCH all pending migrations share one transaction, each
** checked as above. A fresh database (nothing in it, not even a ledger) is
** always migrated that way, as there is nothing to keep: all or nothing. A
** no-transaction migration, or one that may attach, cannot join it: the
** batch commits what came before, runs it, and goes on after it.
*/

/*
** Migrating: no-transaction migrations
**
** A migration marked SQLMIG_NO_TRANSACTION runs statement by statement in
** autocommit mode, also with foreign keys off: its ledger row is first
** committed with execution_ms = -1 ("started"), then completed when it
** finishes and its foreign key check is clean. If it fails, SQLMIG_MIGRATION
** does not mean "at the version before it": the statements that ran stay,
** and so does the started row. Another process that finds such a row waits
** (up to the busy timeout) for it to complete; after that, or after a
** crash, the migration is SQLMIG_INTERRUPTED.
*/

/*
** Migrating: repeatable migrations
**
** Repeatable migrations (set->repeatables) run once the database is at the
** last version of the set, and only in a call that goes there (no target,
** or the last version): each one that never ran, or whose checksum differs
** from the one it last ran with, runs in name order in a transaction of its
** own (in the batch, with SQLMIG_BATCH or on a fresh database), checked
** like any migration, and its row in the table "<ledger>_repeatable" (name
** TEXT PRIMARY KEY, checksum, applied_at, execution_ms) is written or
** replaced with it. They do not change the version; `applied` counts them.
** A migration may not write that table either.
*/

/*
** Migrating: fresh databases, from the snapshot
**
** A fresh database is created from set->snapshot_sql when the set has one,
** the target is its last version, SQLMIG_REPLAY is not set, the database is
** UTF-8, and its file can take the settings the history leaves (a page size
** or auto_vacuum only while the file is still empty; WAL is switched on
** first): the snapshot and every ledger row (execution_ms 0) in one
** BEGIN IMMEDIATE … COMMIT, with the foreign key check, logged as one INFO
** line "created version N from the snapshot …". Otherwise its migrations
** run, as one batch. If the snapshot fails (a SQLite that lacks something
** the build's had), the message names "snapshot:LINE:COL", the transaction
** is rolled back and SQLMIG_REPLAY runs the migrations instead.
*/

/*
** Migrating: what a failure says
**
** After a failure the message ends by saying what it left: "(rolled back:
** the database stays at version N)", "(not started: …)" when its BEGIN
** failed, or, for a no-transaction migration, that its work stays and it
** is marked started. A failure while a migration is being applied names it
** (`version`, `file`, the file in the message), also when its BEGIN, its
** ledger row or its COMMIT failed rather than one of its statements; a
** statement that finds the database locked or read-only gives SQLMIG_BUSY
** or SQLMIG_READONLY, not SQLMIG_MIGRATION. An I/O error in COMMIT can come
** after the commit point: sqlmig then reads the ledger and says "(yet the
** COMMIT had reached the database: it is applied …)", with `to_version` and
** `applied` to match; if it cannot tell (the ledger cannot be read, or in
** WAL mode, where SQLite may recover the commit from the WAL later), the
** message gives both versions and says "the next run tells which". Causes
** outside the SQL (a full disk, an I/O error, a read-only folder, a file
** that is not a database) come with what to do. With SQLMIG_DRY_RUN nothing
** is written or locked. Returns SQLMIG_OK or an error code; `res` may be
** NULL.
*/
int sqlmig_migrate(sqlite3 *db, const struct sqlmig_set *set,
                   const sqlmig_options *options, sqlmig_result *res);

/* The state of one migration, as sqlmig_status() reports it. */
#define SQLMIG_PENDING     0 /* in the set, not applied */
#define SQLMIG_APPLIED     1 /* applied, checksum matches */
#define SQLMIG_CHANGED     2 /* applied, but the stored checksum differs */
#define SQLMIG_STARTED     3 /* no-transaction migration started, not finished */
#define SQLMIG_NOT_IN_SET  4 /* applied, but the set does not contain it */
#define SQLMIG_OUTDATED    5 /* repeatable, applied, changed since: it runs again */

/*
** One row of sqlmig_status(). `migration` is NULL for SQLMIG_NOT_IN_SET;
** then `version` and `name` come from the ledger. A repeatable migration's
** row has version 0 (SQLMIG_PENDING, SQLMIG_APPLIED, SQLMIG_OUTDATED, or
** SQLMIG_NOT_IN_SET for one the set no longer has). `applied_at` (ISO 8601 UTC,
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
** contain; then once per repeatable migration, in name order. Read-only: a database without a ledger reports everything
** pending. A non-zero return from the callback stops the walk with
** SQLMIG_ABORTED; a ledger that is not sqlmig's, or a row sqlmig did not
** write, stops it with SQLMIG_LEDGER (rows before it have been passed). It
** does not judge the table's column types: an empty ledger of the wrong
** shape lists everything pending, and sqlmig_verify() refuses it.
** On success, when the database has nothing in it yet, `res->message` says
** how sqlmig_migrate() will create it: "a fresh database: sqlmig_migrate()
** creates version N from the snapshot, in one transaction", or that it
** applies the migrations in one transaction (split before and after each
** no-transaction or attaching one), followed by why not the snapshot
** (set->snapshot_note, or what the database lacks); it is empty
** for any other database. Like sqlmig_verify() and sqlmig_resolve(), it
** runs on sqlmig's own connection, which waits busy_timeout_ms for a lock.
*/
int sqlmig_status(sqlite3 *db, const struct sqlmig_set *set,
                  const sqlmig_options *options,
                  int (*callback)(void *ctx, const struct sqlmig_status_row *row),
                  void *ctx, sqlmig_result *res);

/*
** Check, without changing anything, that the database agrees with the set:
** the ledger (as sqlmig_migrate() checks it before writing), checksums,
** repeatable migrations to run again (pending, like a pending migration),
** versions the set does not know, interrupted migrations and, when every
** migration of the set is applied, drift: each schema object that is
** missing, extra or defined differently from the embedded final schema
** (with a set that records its history, the schema after the last
** migration and the repeatable ones, each definition read as
** sqlmig_fingerprint() reads it, names without regard to case).
** Each problem is passed to the log callback as one line naming the
** object or version; `res->message` names the first and the count.
** SQLMIG_ALLOW_UNKNOWN is honoured; a started row is reported at once,
** without waiting. While migrations are pending, or versions the set does
** not know are applied (SQLMIG_ALLOW_UNKNOWN: a newer build's objects are
** expected), drift is not checked and `res->message` says so (the code is
** still SQLMIG_OK); in the second case the database must still keep this
** program's own schema, as sqlmig_migrate() requires. Foreign key violations in the database are not a
** problem of the set: they are counted in a SQLMIG_LOG_WARN line. Returns
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

/*
** Roll the database back to version `target` (0: before the first
** migration): the down part of every applied migration above it, newest
** first, each in a transaction of its own (BEGIN IMMEDIATE ... COMMIT)
** with the removal of its ledger row, so that after any failure or crash
** the database is at a whole version. Down parts run as migrations do: on
** sqlmig's own connection at its baseline, under the same guard, foreign
** keys off and the rows they could have broken checked before COMMIT, a
** golang-migrate file's own BEGIN ... COMMIT recognised.
**
** The whole plan is checked first, and nothing runs unless every step can:
** a migration above the target without a down part, or that says
** '-- sqlmig:irreversible', is SQLMIG_IRREVERSIBLE naming it; an applied
** version the set does not have (its down part is unknown) SQLMIG_UNKNOWN;
** a changed checksum SQLMIG_CHECKSUM; a started no-transaction migration
** SQLMIG_INTERRUPTED; a target that is neither 0 nor a version of the set
** SQLMIG_TARGET. Each step is checked again under the lock, as another
** process may have moved the database meanwhile. Repeatable migrations are
** not undone; their rows are cleared, so that they run again when the
** database is back at the last version.
**
** With SQLMIG_DRY_RUN, the plan is logged ("would roll back
** 0007_seed.down.sql (version 7)", newest first) and nothing is written.
** `res->applied` counts the migrations rolled back (or to be);
** `from_version` and `to_version` are the newest applied version before
** and after; a failure names the down file at `file:line:col` and ends
** with what it left, as sqlmig_migrate()'s do. The `applied` callback is
** not called. Returns SQLMIG_OK or an error code; `res` may be NULL.
*/
int sqlmig_rollback(sqlite3 *db, const struct sqlmig_set *set, const sqlmig_options *options,
                    int64_t target, sqlmig_result *res);

/*
** How sqlmig_adopt() decides which version a database is at. A zeroed
** struct, or NULL, means: find it from the schema.
**
** version: the database is at this version of the set.
**
** from, from_table: the database was migrated by another tool, whose
** ledger says which migrations ran: "dbmate" (table schema_migrations),
** "golang-migrate" (schema_migrations), "goose" (goose_db_version), "sqlx"
** (_sqlx_migrations), "diesel" (__diesel_schema_migrations), "drizzle"
** (__drizzle_migrations) or "flyway" (flyway_schema_history). The versions
** it records are matched to the set's as the layouts read them
** (docs/layouts.md): they must be the set's first ones, in order. Where the
** tool keeps a checksum (sqlx, Drizzle, Flyway) it must equal the one the
** build computed from the same file (set->toolsums), else SQLMIG_CHECKSUM;
** a dirty golang-migrate state, a failed sqlx or Flyway row, or a Flyway
** undo is refused (SQLMIG_LEDGER) with what to do first; a version the set
** does not have is SQLMIG_UNKNOWN. The other tool's table is left as it
** is, so that the deployment can still go back to that tool. dbmate and
** golang-migrate name their table as sqlmig names its ledger by default:
** give sqlmig's another name (sqlmig_options.table), in every call.
**
** user_versions, user_version_pairs: the database says its version with
** PRAGMA user_version, as the program's old startup code set it:
** user_versions[2k] is a user_version value, user_versions[2k + 1] the
** version of the set it means. A value the table does not hold is an error
** that names it.
*/
struct sqlmig_adoption {
    int64_t version;
    const int64_t *user_versions;
    size_t user_version_pairs;
    const char *from;        /* another tool's ledger to import (see sqlmig_adopt()), or NULL */
    const char *from_table;  /* its table; NULL: the name that tool gives it */
};

/*
** Adopt a database that was made without sqlmig (by the program's old
** startup code, or by hand): record in a new ledger the migrations up to the
** version it is at as applied (execution_ms -2: adopted, not run), so that
** sqlmig_migrate() applies only those after it. sqlmig_migrate() refuses
** such a database with SQLMIG_UNADOPTED (see below) until this is done.
**
** The version is the one `how` gives, or the one whose schema the database
** has. Either way the database's schema must be that of the version, as the
** build recorded it (set->changes): the same tables, indexes, views and
** triggers, each defined the same way. "The same way" reads each
** definition as SQLite does: case, blanks, comments and identifier quotes
** do not count (see sqlmig_fingerprint()). Objects a repeatable migration
** makes are not compared (it runs again after the adoption), nor are the
** ledger's, nor SQLite's own. Otherwise nothing changes, the call returns
** SQLMIG_DRIFT, each difference is logged at SQLMIG_LOG_ERROR ("table
** projects differs from the schema at version 3", "is missing", "is not in
** ..."), and the message names the first and the count. When the version
** is to be found, a schema that no version has is SQLMIG_DRIFT naming the
** differences from the closest one; a schema that several versions share
** (those between change data only) is SQLMIG_TARGET naming them: adopt at
** one of them with `how->version`, as only the program's history can tell
** which data migrations ran.
**
** Everything happens in one BEGIN IMMEDIATE ... COMMIT on sqlmig's own
** connection: processes that start together adopt once, and a database
** that has a ledger when the lock is taken is left alone (SQLMIG_OK, with
** `res->message` saying it was adopted already; `applied` is 0). A
** database with nothing in it is SQLMIG_TARGET: sqlmig_migrate() creates
** it. A set without recorded changes (built by hand) is SQLMIG_MISUSE.
** `res->to_version` is the version adopted and `res->applied` the number
** of migrations marked. With SQLMIG_DRY_RUN the version is found and
** checked, and nothing is written.
*/
int sqlmig_adopt(sqlite3 *db, const struct sqlmig_set *set, const sqlmig_options *options,
                 const struct sqlmig_adoption *how, sqlmig_result *res);

/*
** A command line over the database, for a host program that wants one:
**
**     if (argc > 1 && strcmp(argv[1], "migrate") == 0)
**         return sqlmig_main(db, &app_migrations, NULL, argc - 2, argv + 2);
**
** gives `app migrate status|up|down|verify|adopt|resolve|repair ...` with
** the output of the `sqlmig` command of the same names (which calls this
** function): argv[0] is the command, then its options (`--help` for each;
** `--json` for status and verify; `--dry-run` for up, down and adopt;
** `--to V`; `adopt --version V | --user-version U=V | --from TOOL`;
** `resolve VERSION applied|retry`; `repair VERSION [--yes]`). Results go to
** stdout, problems to stderr. `options` gives the ledger's name, the busy
** timeout and the connect callback; SQLMIG_TERMINAL in its flags (the
** caller knows: isatty()) adds a progress line per migration and colour;
** its own log callback is replaced. Returns an exit status: 0 done, 1 the
** runtime refused (the SQLMIG_ code name and the message are printed), 2 a
** usage error (one line, and where help is).
*/
int sqlmig_main(sqlite3 *db, const struct sqlmig_set *set, const sqlmig_options *options, int argc, char **argv);

/*
** The fingerprint of one schema object as sqlmig compares schemas: a 64-bit
** hash (never 0) of its type and of the tokens of its SQL as SQLite reads
** them, without blanks and comments, keywords and identifiers in lower case
** and without their quotes ("Users", [users] and users are one name),
** string literals and numbers as written. `sql` is the text of
** sqlite_schema.sql; `type` is "table", "index", "view" or "trigger".
*/
uint64_t sqlmig_fingerprint(const char *type, const char *sql);

#ifdef __cplusplus
}
#endif

#endif /* SQLMIG_H */
