/*
** test_hostile.c — databases whose ledger sqlmig did not write: another
** tool's ledger under the same name, missing columns, NULLs, repeated or
** negative versions, values of the wrong type, a view or an index in the
** ledger's place, a version newer than the program, an edited checksum.
**
** Each database is built in a file, its bytes hashed, and then
** sqlmig_migrate() (and its dry run), sqlmig_status() and sqlmig_verify()
** run on it. Each call must return the expected code with a message that
** names what was found and what to do, and afterwards the file must hold the
** same bytes, with no journal left beside it. A few shapes that sqlmig
** accepts (extra columns with defaults, WITHOUT ROWID, another name in the
** name column, a trigger named like the ledger) are checked to work.
** Prints TAP.
*/
#include "sqlmig.h"
#include "tap.h"
#include "setup.h"
#include "dbq.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct tap T;
#define OK(cond, ...) tap_ok(&T, (cond), __VA_ARGS__)

/* ---- the program's migrations ----------------------------------------- */

#define CK(d) d d d d d d d d d d d d d d d d /* 16 x 4 hex digits */
#define MIG(v, name, file, sql, ck, flags) { v, name, file, sql, sizeof sql - 1, 1, NULL, 0, ck, flags, NULL, 0 }

#define S1 "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);\n"
#define S2 "CREATE TABLE posts(id INTEGER PRIMARY KEY, body TEXT);\n"
#define S3 "CREATE INDEX posts_body ON posts(body);\n"
#define S4 "-- sqlmig:no-transaction\nPRAGMA user_version = 4;\n"
static const struct sqlmig_migration migrations[] = {
    MIG(1, "users", "0001_users.sql", S1, CK("a001"), 0),
    MIG(2, "posts", "0002_posts.sql", S2, CK("a002"), 0),
    MIG(3, "posts_body", "0003_posts_body.sql", S3, CK("a003"), 0),
    MIG(4, "user_version", "0004_user_version.sql", S4, CK("a004"), SQLMIG_NO_TRANSACTION),
};
static const struct sqlmig_object objects[] = {
    { "index", "posts_body", "CREATE INDEX posts_body ON posts(body)" },
    { "table", "posts", "CREATE TABLE posts(id INTEGER PRIMARY KEY, body TEXT)" },
    { "table", "users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)" },
};
static const struct sqlmig_set set = { migrations, 4, objects, 3, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };

/* What the migrations build, for databases that claim to have them all. */
#define SCHEMA S1 S2 S3 "PRAGMA user_version = 4;\n"
#define LEDGER "CREATE TABLE schema_migrations(" \
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, " \
    "applied_at TEXT NOT NULL, execution_ms INTEGER NOT NULL);\n"
/* The same columns without any constraint, so that bad values get in. */
#define LEDGER_NO_ROWID "CREATE TABLE schema_migrations(" \
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, " \
    "applied_at TEXT NOT NULL, execution_ms INTEGER NOT NULL) WITHOUT ROWID;\n"
#define LOOSE "CREATE TABLE schema_migrations(version, name, checksum, applied_at, execution_ms);\n"
#define AT "'2024-05-01T12:00:00.000Z'"
#define ROW1 "(1, 'users', '" CK("a001") "', " AT ", 3)"
#define ROW2 "(2, 'posts', '" CK("a002") "', " AT ", 2)"
#define ROW3 "(3, 'posts_body', '" CK("a003") "', " AT ", 1)"
#define ROW4 "(4, 'user_version', '" CK("a004") "', " AT ", 0)"
#define ALL ROW1 ", " ROW2 ", " ROW3 ", " ROW4

/* The advice every refused ledger ends with. */
#define OWN "give sqlmig its own table with sqlmig_options.table"
#define ROW_ADVICE "correct or delete that row, or " OWN

/* ---- the hostile databases --------------------------------------------- */

struct hostile {
    const char *title;
    const char *table;   /* options.table; NULL: the default */
    const char *setup;   /* SQL that builds the database */
    int migrate;         /* expected code of sqlmig_migrate() and of its dry run */
    int status;          /* expected code of sqlmig_status() */
    int verify;          /* expected code of sqlmig_verify() */
    const char *says[5]; /* in the message of every call that returns the migrate code */
    int64_t row_version; /* when status is OK: the row to look at (0: none) */
    int row_state;       /* and the state status must give it */
};

static const struct hostile cases[] = {
    /* ---- another tool's ledger under the same name ---- */
    { "dbmate's ledger", NULL,
      "CREATE TABLE IF NOT EXISTS \"schema_migrations\" (version varchar(128) primary key);\n"
      "INSERT INTO schema_migrations(version) VALUES ('20240101120000');\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "the table \"schema_migrations\" has columns (version varchar(128) PRIMARY KEY)",
        "looks like dbmate's ledger, not sqlmig's", OWN }, 0, 0 },
    { "dbmate's ledger, empty", NULL,
      "CREATE TABLE IF NOT EXISTS \"schema_migrations\" (version varchar(128) primary key);\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "has columns (version varchar(128) PRIMARY KEY)", "looks like dbmate's ledger", OWN }, 0, 0 },
    { "golang-migrate's ledger", NULL,
      "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);\n"
      "CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);\n"
      "INSERT INTO schema_migrations VALUES (3, 0);\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "has columns (version uint64, dirty bool)", "looks like golang-migrate's ledger, not sqlmig's", OWN }, 0, 0 },
    { "goose's ledger given as the ledger name", "goose_db_version",
      "CREATE TABLE goose_db_version (\n\tid INTEGER PRIMARY KEY AUTOINCREMENT,\n\tversion_id INTEGER NOT NULL,\n"
      "\tis_applied INTEGER NOT NULL,\n\ttstamp TIMESTAMP DEFAULT (datetime('now'))\n);\n"
      "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (1, 1);\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "the table \"goose_db_version\" has columns (id INTEGER PRIMARY KEY, version_id INTEGER NOT NULL, "
        "is_applied INTEGER NOT NULL, tstamp TIMESTAMP)", "looks like goose's ledger", OWN }, 0, 0 },
    { "Flyway's ledger given as the ledger name", "flyway_schema_history",
      "CREATE TABLE \"main\".\"flyway_schema_history\" (\n"
      "    \"installed_rank\" INT NOT NULL PRIMARY KEY,\n    \"version\" VARCHAR(50),\n"
      "    \"description\" VARCHAR(200) NOT NULL,\n    \"type\" VARCHAR(20) NOT NULL,\n"
      "    \"script\" VARCHAR(1000) NOT NULL,\n    \"checksum\" INT,\n    \"installed_by\" VARCHAR(100) NOT NULL,\n"
      "    \"installed_on\" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')),\n"
      "    \"execution_time\" INT NOT NULL,\n    \"success\" BOOLEAN NOT NULL\n);\n"
      "CREATE INDEX \"main\".\"flyway_schema_history_s_idx\" ON \"flyway_schema_history\" (\"success\");\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "has columns (installed_rank INT PRIMARY KEY NOT NULL, version VARCHAR(50), ",
        "looks like Flyway's ledger, not sqlmig's", OWN }, 0, 0 },
    { "sqlx's ledger given as the ledger name", "_sqlx_migrations",
      "CREATE TABLE IF NOT EXISTS _sqlx_migrations (\n    version BIGINT PRIMARY KEY,\n"
      "    description TEXT NOT NULL,\n    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n"
      "    success BOOLEAN NOT NULL,\n    checksum BLOB NOT NULL,\n    execution_time BIGINT NOT NULL\n);\n"
      "INSERT INTO _sqlx_migrations(version, description, success, checksum, execution_time) "
      "VALUES (1, 'init', 1, x'0011', 5);\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "the table \"_sqlx_migrations\" has columns (version BIGINT PRIMARY KEY, description TEXT NOT NULL",
        "looks like sqlx's ledger, not sqlmig's", OWN }, 0, 0 },
    { "a ledger of the same name that matches no known tool", NULL,
      "CREATE TABLE schema_migrations (version varchar NOT NULL PRIMARY KEY);\n"
      "INSERT INTO schema_migrations VALUES ('20240101120000');\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "has columns (version varchar PRIMARY KEY NOT NULL) and is not a sqlmig ledger, which is a table "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL, "
        "execution_ms INTEGER NOT NULL): " OWN }, 0, 0 },
    { "another tool's ledger under a quoted custom name", "app \"ledger\"",
      "CREATE TABLE \"app \"\"ledger\"\"\" (version uint64,dirty bool);\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "the table \"app \"\"ledger\"\"\" has columns (version uint64, dirty bool)", "golang-migrate's", OWN },
      0, 0 },

    { "an application table given as the ledger name", "users",
      S1 "INSERT INTO users(name) VALUES ('ada');\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "the table \"users\" has columns (id INTEGER PRIMARY KEY, name TEXT) and is not a sqlmig ledger", OWN },
      0, 0 },

    /* ---- something else in the ledger's place ---- */
    { "an index named like the ledger", NULL,
      "CREATE TABLE t(x);\nCREATE INDEX schema_migrations ON t(x);\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "the index \"schema_migrations\" has the definition (CREATE INDEX schema_migrations ON t(x)) "
        "and is not a sqlmig ledger, which is a table (version INTEGER PRIMARY KEY", OWN }, 0, 0 },
    { "a view named like the ledger, with a migration pending", NULL,
      "CREATE TABLE history(version INTEGER PRIMARY KEY, name TEXT, checksum TEXT, applied_at TEXT, "
      "execution_ms INTEGER);\n"
      "INSERT INTO history VALUES " ROW1 ", " ROW2 ";\n"
      "CREATE VIEW schema_migrations AS SELECT * FROM history;\n",
      SQLMIG_LEDGER, SQLMIG_OK, SQLMIG_LEDGER,
      { "the view \"schema_migrations\" has columns (version INTEGER, name TEXT, checksum TEXT, applied_at TEXT, "
        "execution_ms INTEGER) and is not a sqlmig ledger, which is a table (version INTEGER PRIMARY KEY", OWN },
      2, SQLMIG_APPLIED },

    /* ---- the right names, the wrong shape ---- */
    { "a ledger without execution_ms", NULL,
      "CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, "
      "applied_at TEXT NOT NULL);\n"
      "INSERT INTO schema_migrations VALUES (1, 'users', '" CK("a001") "', " AT ");\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "the table \"schema_migrations\" has columns (version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum "
        "TEXT NOT NULL, applied_at TEXT NOT NULL) and is not a sqlmig ledger", OWN }, 0, 0 },
    { "an empty ledger whose version is TEXT", NULL,
      "CREATE TABLE schema_migrations(version TEXT PRIMARY KEY, name TEXT, checksum TEXT, applied_at TEXT, "
      "execution_ms INTEGER);\n",
      SQLMIG_LEDGER, SQLMIG_OK, SQLMIG_LEDGER,
      { "has columns (version TEXT PRIMARY KEY, name TEXT, checksum TEXT, applied_at TEXT, execution_ms INTEGER) "
        "and is not a sqlmig ledger", OWN }, 1, SQLMIG_PENDING },
    { "an empty ledger whose version is REAL", NULL,
      "CREATE TABLE schema_migrations(version REAL PRIMARY KEY, name TEXT, checksum TEXT, applied_at TEXT, "
      "execution_ms INTEGER);\n",
      SQLMIG_LEDGER, SQLMIG_OK, SQLMIG_LEDGER,
      { "has columns (version REAL PRIMARY KEY,", "is not a sqlmig ledger", OWN }, 1, SQLMIG_PENDING },
    { "an empty ledger whose name is INTEGER", NULL,
      "CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, name INTEGER, checksum TEXT, applied_at TEXT, "
      "execution_ms INTEGER);\n",
      SQLMIG_LEDGER, SQLMIG_OK, SQLMIG_LEDGER,
      { "name INTEGER,", "is not a sqlmig ledger", OWN }, 1, SQLMIG_PENDING },
    { "an empty ledger without types", NULL, LOOSE,
      SQLMIG_LEDGER, SQLMIG_OK, SQLMIG_LEDGER,
      { "has columns (version, name, checksum, applied_at, execution_ms) and is not a sqlmig ledger", OWN },
      1, SQLMIG_PENDING },
    { "an empty ledger without a primary key", NULL,
      "CREATE TABLE schema_migrations(version INTEGER, name TEXT, checksum TEXT, applied_at TEXT, "
      "execution_ms INTEGER);\n",
      SQLMIG_LEDGER, SQLMIG_OK, SQLMIG_LEDGER,
      { "has columns (version INTEGER, name TEXT,", "is not a sqlmig ledger", OWN }, 1, SQLMIG_PENDING },
    { "an empty ledger keyed by version and name", NULL,
      "CREATE TABLE schema_migrations(version INTEGER, name TEXT, checksum TEXT, applied_at TEXT, "
      "execution_ms INTEGER, PRIMARY KEY(version, name));\n",
      SQLMIG_LEDGER, SQLMIG_OK, SQLMIG_LEDGER,
      { "(version INTEGER PRIMARY KEY, name TEXT PRIMARY KEY,", "is not a sqlmig ledger", OWN }, 1, SQLMIG_PENDING },
    { "a ledger with an extra NOT NULL column without a default", NULL,
      "CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, "
      "applied_at TEXT NOT NULL, execution_ms INTEGER NOT NULL, who TEXT NOT NULL);\n"
      "INSERT INTO schema_migrations VALUES (1, 'users', '" CK("a001") "', " AT ", 3, 'ops');\n" S1,
      SQLMIG_LEDGER, SQLMIG_OK, SQLMIG_LEDGER,
      { "execution_ms INTEGER NOT NULL, who TEXT NOT NULL) and is not a sqlmig ledger", OWN }, 1, SQLMIG_APPLIED },

    /* ---- rows that sqlmig did not write ---- */
    { "a NULL name", NULL,
      LOOSE "INSERT INTO schema_migrations VALUES (1, NULL, '" CK("a001") "', " AT ", 3);\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "the ledger table \"schema_migrations\" has a row that sqlmig did not write (version 1): its name is "
        "NULL, where sqlmig writes TEXT; " ROW_ADVICE }, 0, 0 },
    { "a NULL checksum", NULL,
      LOOSE "INSERT INTO schema_migrations VALUES " ROW1 ", (2, 'posts', NULL, " AT ", 2);\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "(version 2): its checksum is NULL, where sqlmig writes TEXT; " ROW_ADVICE }, 0, 0 },
    { "a NULL applied_at", NULL,
      LOOSE "INSERT INTO schema_migrations VALUES (1, 'users', '" CK("a001") "', NULL, 3);\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "(version 1): its applied_at is NULL, where sqlmig writes TEXT", ROW_ADVICE }, 0, 0 },
    { "a NULL execution_ms", NULL,
      LOOSE "INSERT INTO schema_migrations VALUES (1, 'users', '" CK("a001") "', " AT ", NULL);\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "(version 1): its execution_ms is NULL, where sqlmig writes an INTEGER of at least -2", ROW_ADVICE }, 0, 0 },
    { "a NULL version", NULL,
      "CREATE TABLE schema_migrations(version INT PRIMARY KEY, name TEXT, checksum TEXT, applied_at TEXT, "
      "execution_ms INTEGER);\n"
      "INSERT INTO schema_migrations VALUES " ROW1 ", (NULL, 'posts', '" CK("a002") "', " AT ", 2);\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "has a row that sqlmig did not write (version NULL): its version is NULL, where sqlmig writes each version "
        "once, as an INTEGER of at least 1",
        ROW_ADVICE }, 0, 0 },
    { "a version twice", NULL,
      LOOSE "INSERT INTO schema_migrations VALUES " ROW1 ", " ROW2 ", " ROW2 ";\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "(version 2): its version is INTEGER 2, where sqlmig writes each version once", ROW_ADVICE }, 0, 0 },
    { "a negative version", NULL,
      LEDGER "INSERT INTO schema_migrations VALUES (-1, 'users', '" CK("a001") "', " AT ", 3);\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "(version -1): its version is INTEGER -1, where sqlmig writes each version once, as an INTEGER of at least "
        "1", ROW_ADVICE }, 0, 0 },
    { "version 0", NULL,
      LEDGER "INSERT INTO schema_migrations VALUES (0, 'users', '" CK("a001") "', " AT ", 3);\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "(version 0): its version is INTEGER 0, where sqlmig writes each version once, as an INTEGER of at least 1",
        ROW_ADVICE }, 0, 0 },
    { "a TEXT version '1'", NULL,
      "CREATE TABLE schema_migrations(version TEXT PRIMARY KEY, name TEXT, checksum TEXT, applied_at TEXT, "
      "execution_ms INTEGER);\n"
      "INSERT INTO schema_migrations VALUES " ROW1 ";\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "(version 1): its version is TEXT '1', where sqlmig writes each version once, as an INTEGER of at least 1",
        ROW_ADVICE }, 0, 0 },
    { "a REAL version", NULL,
      "CREATE TABLE schema_migrations(version REAL PRIMARY KEY, name TEXT, checksum TEXT, applied_at TEXT, "
      "execution_ms INTEGER);\n"
      "INSERT INTO schema_migrations VALUES " ROW1 ";\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "(version 1.0): its version is REAL 1.0, where sqlmig writes each version once, as an INTEGER of at "
        "least 1", ROW_ADVICE }, 0, 0 },
    { "execution_ms below -1", NULL,
      LEDGER "INSERT INTO schema_migrations VALUES (1, 'users', '" CK("a001") "', " AT ", -5);\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "(version 1): its execution_ms is INTEGER -5, where sqlmig writes an INTEGER of at least -2",
        ROW_ADVICE }, 0, 0 },
    { "a TEXT execution_ms", NULL,
      LOOSE "INSERT INTO schema_migrations VALUES (1, 'users', '" CK("a001") "', " AT ", 'fast');\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "its execution_ms is TEXT 'fast', where sqlmig writes an INTEGER of at least -2", ROW_ADVICE }, 0, 0 },
    { "an INTEGER applied_at (Unix time)", NULL,
      LOOSE "INSERT INTO schema_migrations VALUES (1, 'users', '" CK("a001") "', 1714564800, 3);\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "(version 1): its applied_at is INTEGER 1714564800, where sqlmig writes TEXT", ROW_ADVICE }, 0, 0 },
    { "a BLOB checksum", NULL,
      LOOSE "INSERT INTO schema_migrations VALUES (1, 'users', x'00ff', " AT ", 3);\n",
      SQLMIG_LEDGER, SQLMIG_LEDGER, SQLMIG_LEDGER,
      { "(version 1): its checksum is BLOB, where sqlmig writes TEXT", ROW_ADVICE }, 0, 0 },

    /* ---- rows that tell of another history ---- */
    { "a version newer than the program", NULL,
      SCHEMA LEDGER "INSERT INTO schema_migrations VALUES " ALL ", (9, 'future', '" CK("a009") "', " AT ", 4);\n",
      SQLMIG_UNKNOWN, SQLMIG_OK, SQLMIG_UNKNOWN,
      { "version 9 (future) is applied but is not a migration of this program", "SQLMIG_ALLOW_UNKNOWN" },
      9, SQLMIG_NOT_IN_SET },
    { "an edited checksum", NULL,
      S1 S2 LEDGER "INSERT INTO schema_migrations VALUES " ROW1 ", (2, 'posts', '" CK("beef") "', " AT ", 2);\n",
      SQLMIG_CHECKSUM, SQLMIG_OK, SQLMIG_CHECKSUM,
      { "version 2 posts (0002_posts.sql) was applied with checksum " CK("beef"),
        "but the embedded migration has checksum " CK("a002") ": an applied migration was edited; restore the file "
        "as it was applied and put the change in a new migration; if what ran was the embedded migration, "
        "UPDATE \"schema_migrations\" SET checksum = '" CK("a002") "' WHERE version = 2" },
      2, SQLMIG_CHANGED },
    { "a checksum of the wrong length", NULL,
      S1 S2 LEDGER "INSERT INTO schema_migrations VALUES " ROW1 ", (2, 'posts', 'abc', " AT ", 2);\n",
      SQLMIG_CHECKSUM, SQLMIG_OK, SQLMIG_CHECKSUM,
      { "version 2 posts (0002_posts.sql) was applied with checksum abc, but the embedded migration has checksum "
        CK("a002") ": the stored one is not a SHA-256 (64 lowercase hex digits), so the ledger row was edited; "
        "if what ran was the embedded migration, UPDATE \"schema_migrations\" SET checksum = '" CK("a002")
        "' WHERE version = 2" },
      2, SQLMIG_CHANGED },
    { "a checksum in upper case", NULL,
      S1 S2 LEDGER "INSERT INTO schema_migrations VALUES " ROW1 ", (2, 'posts', '" CK("A002") "', " AT ", 2);\n",
      SQLMIG_CHECKSUM, SQLMIG_OK, SQLMIG_CHECKSUM,
      { "was applied with checksum " CK("A002") ",", "not a SHA-256 (64 lowercase hex digits)",
        "SET checksum = '" CK("a002") "' WHERE version = 2" }, 2, SQLMIG_CHANGED },
    { "a started row for a migration that runs in a transaction", NULL,
      S1 LEDGER "INSERT INTO schema_migrations VALUES " ROW1 ", (2, 'posts', '" CK("a002") "', " AT ", -1);\n",
      SQLMIG_INTERRUPTED, SQLMIG_OK, SQLMIG_INTERRUPTED,
      { "version 2 (0002_posts.sql) was started outside a transaction and has not finished",
        "sqlmig_resolve()", "UPDATE \"schema_migrations\" SET execution_ms = 0 WHERE version = 2",
        "DELETE FROM \"schema_migrations\" WHERE version = 2" }, 2, SQLMIG_STARTED },
};

/* ---- helpers ----------------------------------------------------------- */

static char dir[] = "/tmp/sqlmig-hostile-XXXXXX";
static int ndb;


/* A new database file built by `sql`, closed again; its path in path. */
static void build(const char *sql, char *path, size_t size)
{
    sqlite3 *db = NULL;

    snprintf(path, size, "%s/%d.db", dir, ++ndb);
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        tap_diag("cannot create %s: %s", path, sqlite3_errmsg(db));
        exit(2);
    }
    setup_exec(db, sql);
    if (sqlite3_close(db) != SQLITE_OK) {
        tap_diag("cannot close %s", path);
        exit(2);
    }
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        tap_diag("cannot open %s: %s", path, sqlite3_errmsg(db));
        exit(2);
    }
    return db;
}

/* FNV-1a of the file's bytes, and its size; sets *size to -1 if unreadable. */
static uint64_t hash_file(const char *path, long *size)
{
    uint64_t h = 14695981039346656037u;
    FILE *f = fopen(path, "rb");
    int ch;

    *size = -1;
    if (!f)
        return 0;
    *size = 0;
    while ((ch = getc(f)) != EOF) {
        h = (h ^ (uint64_t)ch) * 1099511628211u;
        ++*size;
    }
    if (ferror(f))
        *size = -1;
    fclose(f);
    return h;
}

/* 1 when neither a rollback journal nor a WAL file is left beside path. */
static int no_journal(const char *path)
{
    char extra[160];
    snprintf(extra, sizeof extra, "%s-journal", path);
    if (access(extra, F_OK) == 0)
        return 0;
    snprintf(extra, sizeof extra, "%s-wal", path);
    return access(extra, F_OK) != 0;
}

/* Every phrase of h->says is in msg. */
static int says_all(const struct hostile *h, const char *msg)
{
    size_t i;
    for (i = 0; i < sizeof h->says / sizeof h->says[0] && h->says[i]; i++)
        if (!strstr(msg, h->says[i])) {
            tap_diag("missing \"%s\"", h->says[i]);
            return 0;
        }
    return 1;
}

struct seen {
    int n;
    int64_t version;  /* the row to look for */
    int state;        /* its state, -1 if not seen */
    char name[64];    /* and its name */
};

static int on_row(void *ctx, const struct sqlmig_status_row *row)
{
    struct seen *s = ctx;
    s->n++;
    if (row->version == s->version) {
        s->state = row->state;
        snprintf(s->name, sizeof s->name, "%s", row->name ? row->name : "(null)");
    }
    return 0;
}

static const char *state_name(int state)
{
    static const char *const names[] = { "pending", "applied", "changed", "started", "not in set" };
    return state >= 0 && state <= SQLMIG_NOT_IN_SET ? names[state] : "none";
}

/* ---- tests -------------------------------------------------------------- */

static void refused(const struct hostile *h)
{
    char path[128];
    sqlite3 *db;
    sqlmig_options o;
    sqlmig_result r;
    struct seen s;
    uint64_t before, after;
    long size_before, size_after;
    int rc;

    build(h->setup, path, sizeof path);
    before = hash_file(path, &size_before);
    memset(&o, 0, sizeof o);
    o.table = h->table;
    o.busy_timeout_ms = 100; /* the started row: waited for this long */
    db = open_db(path);

    rc = sqlmig_migrate(db, &set, &o, &r);
    OK(rc == h->migrate && r.code == rc && r.applied == 0, "%s: migrate returns %s (%s): %s", h->title,
       sqlmig_errname(h->migrate), sqlmig_errname(rc), r.message);
    OK(says_all(h, r.message), "%s: migrate says what was found and what to do", h->title);
    OK(sqlite3_get_autocommit(db), "%s: migrate leaves no transaction open", h->title);

    o.flags = SQLMIG_DRY_RUN;
    rc = sqlmig_migrate(db, &set, &o, &r);
    OK(rc == h->migrate && says_all(h, r.message), "%s: the dry run says the same (%s): %s", h->title,
       sqlmig_errname(rc), r.message);
    o.flags = 0;

    memset(&s, 0, sizeof s);
    s.version = h->row_version;
    s.state = -1;
    rc = sqlmig_status(db, &set, &o, on_row, &s, &r);
    if (h->status == SQLMIG_OK)
        OK(rc == SQLMIG_OK && s.state == h->row_state, "%s: status lists version %lld as %s (%s, %s): %s", h->title,
           (long long)h->row_version, state_name(h->row_state), sqlmig_errname(rc), state_name(s.state), r.message);
    else
        OK(rc == h->status && says_all(h, r.message), "%s: status returns %s (%s): %s", h->title,
           sqlmig_errname(h->status), sqlmig_errname(rc), r.message);

    rc = sqlmig_verify(db, &set, &o, &r);
    OK(rc == h->verify && (rc != h->migrate || says_all(h, r.message)), "%s: verify returns %s (%s): %s", h->title,
       sqlmig_errname(h->verify), sqlmig_errname(rc), r.message);

    OK(sqlite3_close(db) == SQLITE_OK, "%s: closed", h->title);
    after = hash_file(path, &size_after);
    OK(size_before > 0 && size_after == size_before && after == before, "%s: the file's %ld bytes are unchanged",
       h->title, size_before);
    OK(no_journal(path), "%s: no journal left", h->title);
}

/*
** A view that holds every version: nothing is pending, so nothing is written
** and the view is only read. It is refused as soon as a migration has to be
** written, and by verify.
*/
static void view_up_to_date(void)
{
    char path[128];
    sqlite3 *db;
    sqlmig_result r;
    uint64_t before, after;
    long size_before, size_after;

    build(SCHEMA "CREATE TABLE history(version INTEGER PRIMARY KEY, name TEXT, checksum TEXT, applied_at TEXT, "
          "execution_ms INTEGER);\nINSERT INTO history VALUES " ALL ";\n"
          "CREATE VIEW schema_migrations AS SELECT * FROM history;\n", path, sizeof path);
    before = hash_file(path, &size_before);
    db = open_db(path);
    OK(sqlmig_migrate(db, &set, NULL, &r) == SQLMIG_OK && r.applied == 0 && r.to_version == 4,
       "a view holding every version: read, nothing to write (%s)", r.message);
    OK(sqlmig_verify(db, &set, NULL, &r) == SQLMIG_LEDGER && strstr(r.message, "the view \"schema_migrations\""),
       "a view holding every version: verify refuses it (%s)", r.message);
    sqlite3_close(db);
    after = hash_file(path, &size_after);
    OK(size_after == size_before && after == before && no_journal(path), "a view holding every version: unchanged");
}

/* A trigger on the ledger names a table that is gone: SQLite's own error. */
static void broken_trigger(void)
{
    char path[128];
    sqlite3 *db;
    sqlmig_result r;
    uint64_t before, after;
    long size_before, size_after;
    int rc;

    build(LEDGER "CREATE TABLE audit(v);\n"
          "CREATE TRIGGER ledger_audit AFTER INSERT ON schema_migrations BEGIN INSERT INTO audit VALUES(new.version); "
          "END;\nDROP TABLE audit;\n", path, sizeof path);
    before = hash_file(path, &size_before);
    db = open_db(path);
    rc = sqlmig_migrate(db, &set, NULL, &r);
    OK(rc == SQLMIG_SQLITE && r.sqlite_code == SQLITE_ERROR
       && strcmp(r.message, "write the ledger: no such table: main.audit (rolled back: the database stays at "
                            "version 0)") == 0, "a trigger on the ledger names a dropped table: SQLite's message, "
       "not another shape (%s): %s", sqlmig_errname(rc), r.message);
    OK(!has_table(db, "users") && sqlite3_get_autocommit(db), "a trigger on the ledger: migration 1 rolled back");
    sqlite3_close(db);
    after = hash_file(path, &size_after);
    OK(size_after == size_before && after == before && no_journal(path), "a trigger on the ledger: unchanged");
}

/*
** Shapes that sqlmig accepts: each is migrated to the end, is then up to
** date, and verify returns `verify` (SQLMIG_DRIFT where the setup made a
** table of its own).
*/
static void accepted(const char *title, const char *setup, int verify, const char *check)
{
    char path[128];
    sqlite3 *db;
    sqlmig_result r;
    int rc;

    build(setup, path, sizeof path);
    db = open_db(path);
    rc = sqlmig_migrate(db, &set, NULL, &r);
    OK(rc == SQLMIG_OK && r.to_version == 4, "%s: accepted, migrated to version 4 (%s)", title, r.message);
    rc = sqlmig_migrate(db, &set, NULL, &r);
    OK(rc == SQLMIG_OK && r.applied == 0, "%s: then up to date (%s)", title, r.message);
    rc = sqlmig_verify(db, &set, NULL, &r);
    OK(rc == verify, "%s: verify returns %s (%s): %s", title, sqlmig_errname(verify), sqlmig_errname(rc), r.message);
    OK(!check || qint(db, check) == 1, "%s: %s", title, check ? check : "");
    sqlite3_close(db);
}

/* Not a database at all: SQLite's own error, and the file left alone. */
static void not_a_database(void)
{
    char path[128];
    sqlite3 *db;
    sqlmig_result r;
    uint64_t before, after;
    long size_before, size_after;
    FILE *f;
    int i, rc;

    snprintf(path, sizeof path, "%s/%d.db", dir, ++ndb);
    f = fopen(path, "wb");
    for (i = 0; f && i < 200; i++)
        fputs("this is a text file, not a database\n", f);
    if (!f || fclose(f) != 0) {
        tap_diag("cannot write %s", path);
        exit(2);
    }
    before = hash_file(path, &size_before);
    db = open_db(path);
    rc = sqlmig_migrate(db, &set, NULL, &r);
    OK(rc == SQLMIG_SQLITE && r.sqlite_code == SQLITE_NOTADB && strstr(r.message, "file is not a database"),
       "not a database: SQLMIG_SQLITE with SQLITE_NOTADB (%s): %s", sqlmig_errname(rc), r.message);
    sqlite3_close(db);
    after = hash_file(path, &size_after);
    OK(size_after == size_before && after == before && no_journal(path), "not a database: unchanged");
}

/* The name column is informational: a row with another name is not an edit. */
static void renamed(void)
{
    char path[128];
    sqlite3 *db;
    sqlmig_result r;
    struct seen s;
    uint64_t before, after;
    long size_before, size_after;

    build(SCHEMA LEDGER "INSERT INTO schema_migrations VALUES " ALL ";\n"
          "UPDATE schema_migrations SET name = 'create_users' WHERE version = 1;\n", path, sizeof path);
    before = hash_file(path, &size_before);
    db = open_db(path);
    OK(sqlmig_migrate(db, &set, NULL, &r) == SQLMIG_OK && r.applied == 0 && r.to_version == 4,
       "another name in the ledger: up to date (%s)", r.message);
    OK(sqlmig_verify(db, &set, NULL, &r) == SQLMIG_OK, "another name in the ledger: verify OK (%s)", r.message);
    memset(&s, 0, sizeof s);
    s.version = 1;
    s.state = -1;
    OK(sqlmig_status(db, &set, NULL, on_row, &s, &r) == SQLMIG_OK && s.state == SQLMIG_APPLIED
       && strcmp(s.name, "users") == 0, "another name in the ledger: status says applied, with the embedded name "
       "(%s)", s.name);
    sqlite3_close(db);
    after = hash_file(path, &size_after);
    OK(size_after == size_before && after == before && no_journal(path), "another name in the ledger: unchanged");
}

int main(void)
{
    char path[160];
    size_t i;
    int n;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        refused(&cases[i]);
    view_up_to_date();
    broken_trigger();
    renamed();
    not_a_database();
    accepted("extra columns with a default or NULL",
             "CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, "
             "applied_at TEXT NOT NULL, execution_ms INTEGER NOT NULL, applied_by TEXT NOT NULL DEFAULT 'deploy', "
             "note TEXT);\n", SQLMIG_OK,
             "SELECT count(*) = 4 AND min(applied_by) = 'deploy' FROM schema_migrations");
    accepted("other types of the same affinity (BIGINT, VARCHAR, CHAR(64), INT)",
             "CREATE TABLE schema_migrations(version BIGINT PRIMARY KEY, name VARCHAR(200), checksum CHAR(64), "
             "applied_at CLOB, execution_ms INT);\n", SQLMIG_OK,
             "SELECT count(*) = 4 FROM schema_migrations WHERE typeof(version) = 'integer'");
    accepted("a WITHOUT ROWID ledger", LEDGER_NO_ROWID, SQLMIG_OK,
             "SELECT count(*) = 4 FROM schema_migrations");
    accepted("a STRICT ledger",
             "CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, "
             "applied_at TEXT NOT NULL, execution_ms INTEGER NOT NULL) STRICT;\n", SQLMIG_OK,
             "SELECT count(*) = 4 FROM schema_migrations");
    accepted("a trigger named like the ledger",
             "CREATE TABLE t(x);\nCREATE TRIGGER schema_migrations AFTER INSERT ON t BEGIN SELECT 1; END;\n", SQLMIG_DRIFT,
             "SELECT count(*) = 4 FROM schema_migrations");
    accepted("the ledger's name in another case",
             "CREATE TABLE Schema_Migrations(version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, "
             "applied_at TEXT NOT NULL, execution_ms INTEGER NOT NULL);\n", SQLMIG_OK,
             "SELECT (SELECT count(*) FROM schema_migrations) = 4 AND (SELECT group_concat(name) FROM sqlite_schema "
             "WHERE type = 'table' AND name LIKE 'schema_migrations') = 'Schema_Migrations'");

    for (n = 1; n <= ndb; n++) {
        static const char *const suffix[] = { "", "-journal", "-wal", "-shm" };
        size_t k;
        for (k = 0; k < sizeof suffix / sizeof suffix[0]; k++) {
            snprintf(path, sizeof path, "%s/%d.db%s", dir, n, suffix[k]);
            remove(path);
        }
    }
    if (rmdir(dir) != 0)
        perror("rmdir");
    return tap_done(&T);
}
