/*
** test_runtime.c — unit tests of the sqlmig runtime (runtime/sqlmig.c)
** against real database files in a temporary directory. The migration sets
** are written by hand here; their checksums are arbitrary but distinct.
** Prints TAP.
*/
#include "sqlmig.h"
#include "tap.h"
#include "setup.h"
#include "dbq.h"
#include "logcap.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct tap T;
#define OK(cond, ...) tap_ok(&T, (cond), __VA_ARGS__)

/* ---- migration sets ---------------------------------------------------- */

#define CK(d) d d d d d d d d d d d d d d d d /* 16 x 4 hex digits */
#define MIG(v, name, file, sql, line, ck, flags) \
    { v, name, file, sql, sizeof sql - 1, line, NULL, 0, ck, flags, NULL, 0 }
#define NOTX SQLMIG_NO_TRANSACTION

#define S1 "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
#define S2 "CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), body TEXT);\n" \
           "CREATE INDEX posts_user ON posts(user_id);\n"
#define S3 "INSERT INTO users(name) VALUES('ada');\n-- and another one\nINSERT INTO users(name) VALUES('bob');\n"
#define S4 "CREATE TABLE tags(id INTEGER PRIMARY KEY, label TEXT UNIQUE);\n"
#define M1 MIG(1, "users", "0001_users.sql", S1, 1, CK("0001"), 0)
#define M2 MIG(2, "posts", "0002_posts.sql", S2, 1, CK("0002"), 0)
#define M3 MIG(3, "seed", "0003_seed.sql", S3, 1, CK("0003"), 0)
#define M4 MIG(4, "tags", "0004_tags.sql", S4, 1, CK("0004"), 0)

static const struct sqlmig_migration base[] = { M1, M2, M3, M4 };
static const struct sqlmig_object base_objects[] = {
    { "index", "posts_user", "CREATE INDEX posts_user ON posts(user_id)" },
    { "table", "posts", "CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), body TEXT)" },
    { "table", "tags", "CREATE TABLE tags(id INTEGER PRIMARY KEY, label TEXT UNIQUE)" },
    { "table", "users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL)" },
};
static const struct sqlmig_set set4 = { base, 4, base_objects, 4, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
static const struct sqlmig_set set2 = { base, 2, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
static const struct sqlmig_set set3 = { base, 3, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };

/* The 3rd statement, on line 4, names a missing table. */
static const struct sqlmig_migration bad[] = {
    M1, M2,
    MIG(3, "bad", "0003_bad.sql",
        "CREATE TABLE audit(id INTEGER PRIMARY KEY);\n"
        "INSERT INTO audit DEFAULT VALUES;\n"
        "\n"
        "  INSERT INTO usr(name) VALUES('x');\n", 1, CK("00b3"), 0),
};
static const struct sqlmig_set set_bad = { bad, 3, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };

/* up_sql starts on line 3 of its file; SQLite names the token `nme`. */
static const struct sqlmig_migration badidx[] = {
    M1,
    MIG(2, "idx", "0002_idx.sql", "-- adds an index\nCREATE INDEX users_nme\n    ON users(nme);\n", 3, CK("00b2"), 0),
};
static const struct sqlmig_set set_badidx = { badidx, 2, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };

/* Fails when stepped (no token): the position is the statement's first token. */
static const struct sqlmig_migration dups[] = {
    M1, M2, M3, M4,
    MIG(5, "dup", "0005_dup.sql",
        "INSERT INTO tags(label) VALUES('a');\n  /* again */ INSERT INTO tags(label) VALUES('a');\n", 7,
        CK("00b5"), 0),
};
static const struct sqlmig_set set_dup = { dups, 5, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };

static const struct sqlmig_migration gap[] = { M1, M2, M4 };
static const struct sqlmig_set set_gap = { gap, 3, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
/* Fills the gap under 4, then 5 fails at its second statement. */
static const struct sqlmig_migration gap_bad[] = {
    M1, M2, M3, M4,
    MIG(5, "fail", "0005_fail.sql", "INSERT INTO users(name) VALUES('x');\nINSERT INTO nope VALUES(1);\n",
        1, CK("0f05"), 0),
};
static const struct sqlmig_set set_gap_bad = { gap_bad, 5, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
/* A migration that takes the ledger away. */
static const struct sqlmig_migration drops[] = {
    M1, MIG(2, "drop", "0002_drop.sql", "DROP TABLE schema_migrations;\n", 1, CK("0d02"), 0),
};
static const struct sqlmig_set set_drops = { drops, 2, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
static const struct sqlmig_set set_drops1 = { drops, 1, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };

#define F1 "CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT);\n"                                  \
           "CREATE TABLE child(id INTEGER PRIMARY KEY,\n"                                              \
           "    parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE);\n"                         \
           "INSERT INTO parent VALUES(1, 'a'), (2, 'b');\n"                                            \
           "INSERT INTO child VALUES(10, 1), (11, 2), (12, 2);\n"
/* SQLite's 12-step table rebuild: with foreign keys on, DROP TABLE parent
** would delete every child row through ON DELETE CASCADE. */
#define F2 "CREATE TABLE parent_new(id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '', born TEXT);\n" \
           "INSERT INTO parent_new(id, name) SELECT id, name FROM parent;\n"                           \
           "DROP TABLE parent;\n"                                                                      \
           "ALTER TABLE parent_new RENAME TO parent;\n"
#define F3 "INSERT INTO child VALUES(20, 99);\n"
static const struct sqlmig_migration fk[] = {
    MIG(1, "family", "0001_family.sql", F1, 1, CK("00f1"), 0),
    MIG(2, "rebuild", "0002_rebuild.sql", F2, 1, CK("00f2"), 0),
    MIG(3, "orphan", "0003_orphan.sql", F3, 1, CK("00f3"), 0),
};
static const struct sqlmig_set set_fk2 = { fk, 2, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
static const struct sqlmig_set set_fk3 = { fk, 3, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };

static const struct sqlmig_migration commits[] = {
    M1,
    MIG(2, "commit", "0002_commit.sql", "CREATE TABLE t1(x);\nCOMMIT;\nCREATE TABLE t2(y);\n", 1, CK("00c2"), 0),
};
static const struct sqlmig_set set_commit = { commits, 2, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
static const struct sqlmig_migration ends[] = {
    M1,
    MIG(2, "end", "0002_end.sql", "CREATE TABLE t1(x);\n  end transaction;\nCREATE TABLE t2(y);\n", 1, CK("00e2"), 0),
};
static const struct sqlmig_set set_end = { ends, 2, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };

static const struct sqlmig_migration notx[] = {
    M1,
    MIG(2, "user_version", "0002_user_version.sql", "-- sqlmig:no-transaction\nPRAGMA user_version = 7;\n", 1,
        CK("00a2"), NOTX),
    MIG(3, "later", "0003_later.sql", "CREATE TABLE later(x);\n", 1, CK("00a3"), 0),
};
static const struct sqlmig_set set_notx = { notx, 3, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
/* A fresh database: {1, 2} in one transaction, 3 on its own, {4, 5} in one. */
static const struct sqlmig_migration notx_split[] = {
    M1,
    M2,
    MIG(3, "user_version", "0003_user_version.sql", "-- sqlmig:no-transaction\nPRAGMA user_version = 7;\n", 1,
        CK("00b3"), NOTX),
    MIG(4, "later", "0004_later.sql", "CREATE TABLE later(x);\n", 1, CK("00b4"), 0),
    MIG(5, "latest", "0005_latest.sql", "CREATE TABLE latest(x);\n", 1, CK("00b5"), 0),
};
static const struct sqlmig_set set_notx_split = { notx_split, 5, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0,
                                                  NULL, NULL };
static const struct sqlmig_migration notx_bad[] = {
    M1,
    MIG(2, "ntbad", "0002_ntbad.sql", "CREATE TABLE nt1(x);\nINSERT INTO nope VALUES(1);\n", 1, CK("00a4"), NOTX),
};
static const struct sqlmig_set set_notx_bad = { notx_bad, 2, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
/* Fails inside a BEGIN of its own, on data only production has. */
static const struct sqlmig_migration notx_own_tx[] = {
    M1,
    MIG(2, "own_tx", "0002_own_tx.sql",
        "-- sqlmig:no-transaction\nBEGIN;\nCREATE TABLE u(x);\nINSERT INTO users(id, name) VALUES(1, 'dup');\nCOMMIT;\n",
        1, CK("00a5"), NOTX),
};
static const struct sqlmig_set set_notx_own_tx = { notx_own_tx, 2, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
/* A COMMIT behind an empty statement (";COMMIT") is still transaction control. */
static const struct sqlmig_migration semi_commit[] = {
    M1,
    MIG(2, "semi", "0002_semi.sql", "CREATE TABLE t1(x);\n;COMMIT;\nCREATE TABLE t2(y);\n", 1, CK("00c3"), 0),
};
static const struct sqlmig_set set_semi_commit = { semi_commit, 2, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
static const struct sqlmig_migration notx_open[] = {
    M1,
    MIG(2, "ntopen", "0002_ntopen.sql", "BEGIN;\nCREATE TABLE nt2(x);\n", 1, CK("00a5"), NOTX),
};
static const struct sqlmig_set set_notx_open = { notx_open, 2, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };

static const struct sqlmig_migration status_mig[] = {
    M1, M2, M3, M4,
    MIG(5, "wal", "0005_wal.sql", "PRAGMA journal_mode=WAL;\n", 1, CK("00a6"), NOTX),
};
static const struct sqlmig_set set_status = { status_mig, 5, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };

static const struct sqlmig_migration unsorted[] = { M2, M1 };
static const struct sqlmig_set set_unsorted = { unsorted, 2, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };

/* ---- helpers ----------------------------------------------------------- */

static char dir[] = "/tmp/sqlmig-test-XXXXXX";
static int ndb;

static void db_path(int n, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%d.db", dir, n);
}

static sqlite3 *open_db(int n, int flags)
{
    char path[128];
    sqlite3 *db = NULL;

    db_path(n, path, sizeof path);
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        tap_diag("cannot open %s: %s", path, sqlite3_errmsg(db));
        exit(2);
    }
    return db;
}

/* A new, empty database file. */
static sqlite3 *fresh(void)
{
    return open_db(++ndb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
}

/* A database the application has used already: migrations apply one by
** one there (a fresh one gets them all in one transaction). */
static sqlite3 *existing(void)
{
    sqlite3 *db = fresh();
    setup_exec(db, "CREATE TABLE app_settings(k TEXT PRIMARY KEY, v TEXT)");
    return db;
}


/* The schema, the default ledger and the users rows, as one string. */
static void snap(sqlite3 *db, char *buf, size_t size)
{
    char a[4096], b[2048], c[512];
    qtext(db, "SELECT group_concat(type || ' ' || name || ' ' || ifnull(sql, ''), ' | ') FROM "
              "(SELECT * FROM sqlite_schema ORDER BY type, name)", a, sizeof a);
    qtext(db, "SELECT group_concat(version || ',' || name || ',' || checksum || ',' || applied_at || ',' "
              "|| execution_ms, ' | ') FROM (SELECT * FROM schema_migrations ORDER BY version)", b, sizeof b);
    qtext(db, "SELECT group_concat(name) FROM users", c, sizeof c);
    snprintf(buf, size, "%s // %s // %s", a, b, c);
}

static int64_t ledger_max(sqlite3 *db)
{
    return qint(db, "SELECT max(version) FROM schema_migrations");
}

static int on_commit(void *ctx)
{
    ++*(int *)ctx;
    return 0;
}

/* Counts the statements a connection runs, sqlmig's ledger queries and its
** write transactions. */
struct trace {
    int all, full, partial, begins;
};

static int on_stmt(unsigned type, void *ctx, void *p, void *x)
{
    struct trace *t = ctx;
    const char *sql = x;
    (void)type;
    (void)p;
    t->all++;
    t->begins += strcmp(sql, "BEGIN IMMEDIATE") == 0;
    if (strncmp(sql, "SELECT version, checksum, execution_ms", 38) == 0) {
        if (strstr(sql, "WHERE"))
            t->partial++;
        else
            t->full++;
    }
    return 0;
}

/* What sqlmig's own connection does, seen through options.connect. */
struct watch {
    struct trace t;
    int commits;
    int opened;
};

static int watch_conn(void *ctx, sqlite3 *conn)
{
    struct watch *w = ctx;
    w->opened++;
    sqlite3_trace_v2(conn, SQLITE_TRACE_STMT, on_stmt, &w->t);
    sqlite3_commit_hook(conn, on_commit, &w->commits);
    return 0;
}

static int migrate_watched(sqlite3 *db, const struct sqlmig_set *set, unsigned flags, struct watch *w,
                           sqlmig_result *res)
{
    sqlmig_options o;
    memset(&o, 0, sizeof o);
    memset(w, 0, sizeof *w);
    o.flags = flags;
    o.busy_timeout_ms = 100;
    o.connect = watch_conn;
    o.hook_ctx = w;
    return sqlmig_migrate(db, set, &o, res);
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int migrate(sqlite3 *db, const struct sqlmig_set *set, unsigned flags, sqlmig_result *res)
{
    sqlmig_options o;
    memset(&o, 0, sizeof o);
    o.flags = flags;
    o.busy_timeout_ms = 100;
    return sqlmig_migrate(db, set, &o, res);
}

/* ---- tests -------------------------------------------------------------- */

static void test_fresh_and_rerun(void)
{
    sqlite3 *db = fresh();
    sqlmig_result r;
    struct trace t = { 0, 0, 0, 0 };
    struct watch w;
    char before[8192], after[8192], buf[128];
    int n = 0, rc;

    sqlite3_trace_v2(db, SQLITE_TRACE_STMT, on_stmt, &t);
    rc = migrate_watched(db, &set4, 0, &w, &r);
    sqlite3_trace_v2(db, 0, NULL, NULL);
    OK(rc == SQLMIG_OK && r.code == SQLMIG_OK, "fresh: migrate returns OK (%s)", r.message);
    /* No ledger to read on the caller's connection; on sqlmig's, one full
    ** read under the lock, then only past what this call applied. */
    OK(t.full == 0 && w.opened == 1 && w.t.full == 1 && w.t.partial == 3,
       "fresh: the whole ledger read once, not per migration (%d full, %d partial)", w.t.full, w.t.partial);
    OK(w.commits == 1, "fresh: one transaction for a database that had nothing in it (%d commits)", w.commits);
    OK(r.applied == 4 && r.from_version == 0 && r.to_version == 4, "fresh: applied 4, from 0 to 4");
    OK(qint(db, "SELECT count(*) FROM schema_migrations") == 4 && ledger_max(db) == 4, "fresh: 4 ledger rows, max 4");
    OK(has_table(db, "users") && has_table(db, "posts") && has_table(db, "tags") && has_table(db, "posts_user"),
       "fresh: every table and index exists");
    OK(qint(db, "SELECT count(*) FROM users") == 2, "fresh: the data migration ran once");
    OK(strcmp(qtext(db, "SELECT name || ' ' || checksum FROM schema_migrations WHERE version = 2", buf, sizeof buf),
              "posts " CK("0002")) == 0, "fresh: ledger row has name and checksum");
    OK(qint(db, "SELECT count(*) FROM schema_migrations WHERE applied_at GLOB "
                "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z' "
                "AND execution_ms >= 0") == 4, "fresh: applied_at is ISO 8601 UTC, execution_ms >= 0");
    OK(qint(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'schema_migrations' AND sql LIKE "
                "'%version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, "
                "applied_at TEXT NOT NULL, execution_ms INTEGER NOT NULL%'") == 1, "fresh: ledger has the documented shape");

    snap(db, before, sizeof before);
    sqlite3_commit_hook(db, on_commit, &n);
    memset(&t, 0, sizeof t);
    sqlite3_trace_v2(db, SQLITE_TRACE_STMT, on_stmt, &t);
    rc = migrate_watched(db, &set4, 0, &w, &r);
    sqlite3_trace_v2(db, 0, NULL, NULL);
    sqlite3_commit_hook(db, NULL, NULL);
    snap(db, after, sizeof after);
    OK(rc == SQLMIG_OK && r.applied == 0 && r.from_version == 4 && r.to_version == 4, "rerun: OK, nothing applied");
    OK(t.all == 1 && t.full == 1 && w.opened == 0, "rerun: exactly one query, no connection of sqlmig's (%d "
       "statements)", t.all);
    OK(strcmp(before, after) == 0 && n == 0, "rerun: ledger and schema unchanged, no commit");
    OK(sqlmig_migrate(db, &set4, NULL, NULL) == SQLMIG_OK, "rerun: res may be NULL");
    sqlite3_close(db);
}

static void test_older_version(void)
{
    sqlite3 *db = fresh();
    sqlmig_result r;
    struct trace t = { 0, 0, 0, 0 };
    struct watch w;

    OK(sqlmig_migrate(db, &set2, NULL, &r) == SQLMIG_OK && r.applied == 2, "older: set of 2 applied");
    sqlite3_trace_v2(db, SQLITE_TRACE_STMT, on_stmt, &t);
    OK(migrate_watched(db, &set4, 0, &w, &r) == SQLMIG_OK, "older: full set OK");
    sqlite3_trace_v2(db, 0, NULL, NULL);
    OK(t.full == 1 && w.t.full == 1 && w.t.partial == 1, "older: ledger read in full without and under the lock, "
       "then past 3 only (%d full, %d partial)", t.full + w.t.full, w.t.partial);
    OK(r.applied == 2 && r.from_version == 2 && r.to_version == 4, "older: only 3 and 4 applied (from 2 to 4)");
    OK(w.commits == 2, "older: one transaction per migration (%d commits)", w.commits);
    OK(qint(db, "SELECT count(*) FROM schema_migrations") == 4, "older: 4 ledger rows");
    sqlite3_close(db);
}

static void test_failing_migration(void)
{
    sqlite3 *db = existing();
    sqlmig_result r;
    int rc;

    rc = sqlmig_migrate(db, &set_bad, NULL, &r);
    OK(rc == SQLMIG_MIGRATION && r.code == SQLMIG_MIGRATION, "failing: SQLMIG_MIGRATION (%s)", sqlmig_errname(rc));
    OK(r.version == 3 && r.name && strcmp(r.name, "bad") == 0 && r.file && strcmp(r.file, "0003_bad.sql") == 0,
       "failing: version, name and file of the failing migration");
    /* SQLite 3.40 names no token for "no such table": the statement's first token. */
    OK(r.line == 4 && r.column == 3, "failing: line 4, column 3 (got %d:%d)", r.line, r.column);
    OK(r.sqlite_code == SQLITE_ERROR, "failing: sqlite_code SQLITE_ERROR (%d)", r.sqlite_code);
    OK(strcmp(r.message, "0003_bad.sql:4:3: no such table: usr (rolled back: the database stays at version 2)") == 0,
       "failing: message \"%s\"", r.message);
    OK(r.applied == 2 && r.to_version == 2, "failing: the two before it were applied");
    OK(ledger_max(db) == 2 && !has_table(db, "audit"), "failing: database at version 2, no table from the failed one");
    OK(sqlite3_get_autocommit(db) == 1, "failing: no transaction left open");
    OK(r.cause_at == strlen("0003_bad.sql:4:3: ") && r.cause_len == strlen("no such table: usr")
       && strncmp(r.message + r.cause_at, "no such table: usr", r.cause_len) == 0,
       "failing: cause_at and cause_len mark SQLite's message alone");
    sqlite3_close(db);

    /* A database with nothing in it: all or nothing, in one transaction. */
    db = fresh();
    rc = sqlmig_migrate(db, &set_bad, NULL, &r);
    OK(rc == SQLMIG_MIGRATION && r.version == 3 && r.applied == 0 && r.to_version == 0
       && strstr(r.message, "(rolled back with the rest of its batch: the database stays at version 0)"),
       "failing on a fresh database: the whole batch rolled back (%s)", r.message);
    OK(qint(db, "SELECT count(*) FROM sqlite_schema") == 0, "failing on a fresh database: nothing left, no ledger");
    sqlite3_close(db);

    db = existing();
    rc = sqlmig_migrate(db, &set_badidx, NULL, &r);
    OK(rc == SQLMIG_MIGRATION && r.line == 5 && r.column == 14, "token offset + up_line 3: 0002_idx.sql:5:14 (got %d:%d)",
       r.line, r.column);
    OK(starts_with(r.message, "0002_idx.sql:5:14: ") && strstr(r.message, "no such column: nme"),
       "token offset: message \"%s\"", r.message);
    OK(ledger_max(db) == 1 && !has_table(db, "users_nme"), "token offset: database at version 1");
    sqlite3_close(db);

    db = existing();
    rc = sqlmig_migrate(db, &set_dup, NULL, &r);
    OK(rc == SQLMIG_MIGRATION && r.version == 5 && r.line == 8 && r.column == 15,
       "step error: 0005_dup.sql:8:15 after a comment (got %d:%d)", r.line, r.column);
    OK(r.sqlite_code == SQLITE_CONSTRAINT_UNIQUE && starts_with(r.message, "0005_dup.sql:8:15: UNIQUE constraint failed"),
       "step error: extended code and message \"%s\"", r.message);
    OK(ledger_max(db) == 4 && qint(db, "SELECT count(*) FROM tags") == 0, "step error: first insert rolled back");
    sqlite3_close(db);
}

static void test_checksum(void)
{
    sqlite3 *db = fresh();
    sqlmig_result r;
    char before[8192], after[8192];
    int rc;

    OK(sqlmig_migrate(db, &set3, NULL, &r) == SQLMIG_OK, "checksum: setup at version 3");
    setup_exec(db, "UPDATE schema_migrations SET checksum = '" CK("dead") "' WHERE version = 2");
    snap(db, before, sizeof before);
    rc = sqlmig_migrate(db, &set4, NULL, &r);
    snap(db, after, sizeof after);
    OK(rc == SQLMIG_CHECKSUM && r.version == 2 && r.file && strcmp(r.file, "0002_posts.sql") == 0,
       "checksum: SQLMIG_CHECKSUM for version 2 (%s)", sqlmig_errname(rc));
    OK(strstr(r.message, CK("dead")) && strstr(r.message, CK("0002")) && strstr(r.message, "posts"),
       "checksum: message has name, stored and embedded checksums");
    OK(strcmp(before, after) == 0 && !has_table(db, "tags") && r.applied == 0,
       "checksum: nothing changed, version 4 not applied");
    OK(r.from_version == 3 && r.to_version == 3, "checksum: from/to still say version 3 (%lld, %lld)",
       (long long)r.from_version, (long long)r.to_version);
    sqlite3_close(db);
}

static void test_unknown(void)
{
    sqlite3 *db = fresh();
    sqlmig_result r;
    char before[8192], after[8192];
    int rc;

    sqlmig_migrate(db, &set4, NULL, &r);
    snap(db, before, sizeof before);
    rc = sqlmig_migrate(db, &set3, NULL, &r);
    OK(rc == SQLMIG_UNKNOWN && r.version == 4 && strstr(r.message, "version 4"), "unknown: refused (%s)", r.message);
    rc = migrate(db, &set3, SQLMIG_ALLOW_UNKNOWN, &r);
    OK(rc == SQLMIG_OK && r.applied == 0 && r.to_version == 4, "unknown: allowed with SQLMIG_ALLOW_UNKNOWN");
    snap(db, after, sizeof after);
    OK(strcmp(before, after) == 0, "unknown: nothing changed");
    sqlite3_close(db);
}

static void test_out_of_order(void)
{
    sqlite3 *db = fresh();
    sqlmig_result r;
    char before[8192], after[8192];
    int rc;

    OK(sqlmig_migrate(db, &set_gap, NULL, &r) == SQLMIG_OK && r.to_version == 4, "out of order: setup 1, 2, 4");
    snap(db, before, sizeof before);
    rc = sqlmig_migrate(db, &set4, NULL, &r);
    snap(db, after, sizeof after);
    OK(rc == SQLMIG_OUT_OF_ORDER && r.version == 3 && strstr(r.message, "version 4"),
       "out of order: version 3 refused (%s)", r.message);
    OK(strcmp(before, after) == 0, "out of order: nothing changed");
    rc = migrate(db, &set4, SQLMIG_ALLOW_OUT_OF_ORDER, &r);
    OK(rc == SQLMIG_OK && r.applied == 1 && r.from_version == 4 && r.to_version == 4,
       "out of order: allowed with the flag, one applied");
    OK(qint(db, "SELECT count(*) FROM schema_migrations WHERE version = 3") == 1
       && qint(db, "SELECT count(*) FROM users") == 2, "out of order: version 3 ran");
    sqlite3_close(db);

    /* A failure below the newest applied version is still rolled back, and
    ** said to be: version 4 in the ledger is no sign that our COMMIT landed. */
    db = fresh();
    OK(sqlmig_migrate(db, &set_gap, NULL, &r) == SQLMIG_OK, "out of order, failing: setup 1, 2, 4");
    snap(db, before, sizeof before);
    rc = migrate(db, &set_gap_bad, SQLMIG_ALLOW_OUT_OF_ORDER | SQLMIG_BATCH, &r);
    snap(db, after, sizeof after);
    OK(rc == SQLMIG_MIGRATION && r.version == 5 && r.applied == 0 && r.to_version == 4
       && strstr(r.message, "rolled back") && !strstr(r.message, "reached the database"),
       "out of order, failing: 3 and 5 rolled back, and said to be (%s)", r.message);
    OK(strcmp(before, after) == 0, "out of order, failing: nothing changed");
    sqlite3_close(db);

    /* A migration that drops the ledger is named, and rolled back. */
    db = fresh();
    OK(sqlmig_migrate(db, &set_drops1, NULL, &r) == SQLMIG_OK, "ledger dropped: setup 1");
    rc = migrate(db, &set_drops, 0, &r);
    OK(rc == SQLMIG_MIGRATION && r.version == 2 && r.file && strcmp(r.file, "0002_drop.sql") == 0
       && r.line == 1 && strstr(r.message, "changes the ledger table") && strstr(r.message, "rolled back"),
       "ledger dropped: refused before it runs, the migration named (%s)", r.message);
    OK(qint(db, "SELECT count(*) FROM schema_migrations") == 1, "ledger dropped: rolled back, the ledger stays");
    sqlite3_close(db);
}

static void test_target(void)
{
    sqlite3 *db = fresh();
    sqlmig_options o;
    sqlmig_result r;
    int rc;

    memset(&o, 0, sizeof o);
    o.target = 2;
    rc = sqlmig_migrate(db, &set4, &o, &r);
    OK(rc == SQLMIG_OK && r.applied == 2 && r.to_version == 2 && ledger_max(db) == 2 && !has_table(db, "tags"),
       "target 2: stops at version 2");
    o.target = 7;
    rc = sqlmig_migrate(db, &set4, &o, &r);
    OK(rc == SQLMIG_TARGET && ledger_max(db) == 2, "target 7: SQLMIG_TARGET (%s)", r.message);
    o.target = 0;
    rc = sqlmig_migrate(db, &set4, &o, &r);
    OK(rc == SQLMIG_OK && r.applied == 2 && r.to_version == 4, "target 0: the rest");
    o.target = 3;
    rc = sqlmig_migrate(db, &set4, &o, &r);
    OK(rc == SQLMIG_OK && r.applied == 0 && r.to_version == 4, "target below the applied: nothing to do");
    sqlite3_close(db);
}

static void test_dry_run(void)
{
    sqlite3 *db = fresh();
    sqlmig_options o;
    sqlmig_result r;
    struct log l;
    char before[8192], after[8192];
    int rc, n = 0;

    memset(&o, 0, sizeof o);
    memset(&l, 0, sizeof l);
    o.flags = SQLMIG_DRY_RUN;
    o.log = on_log;
    o.log_ctx = &l;
    rc = sqlmig_migrate(db, &set4, &o, &r);
    OK(rc == SQLMIG_OK && r.applied == 4 && qint(db, "SELECT count(*) FROM sqlite_schema") == 0,
       "dry run, fresh: counts 4, creates nothing (not even the ledger)");

    sqlmig_migrate(db, &set2, NULL, &r);
    snap(db, before, sizeof before);
    memset(&l, 0, sizeof l);
    sqlite3_commit_hook(db, on_commit, &n);
    rc = sqlmig_migrate(db, &set4, &o, &r);
    sqlite3_commit_hook(db, NULL, NULL);
    snap(db, after, sizeof after);
    OK(rc == SQLMIG_OK && r.applied == 2 && r.from_version == 2 && r.to_version == 2, "dry run: would apply 2");
    OK(strcmp(before, after) == 0 && n == 0, "dry run: schema and ledger unchanged, no commit");
    OK(l.n == 2 && logged(&l, "would apply 0003_seed.sql") == 1 && logged(&l, "would apply 0004_tags.sql") == 1,
       "dry run: one INFO line per planned migration");
    sqlite3_close(db);
}

static void test_batch(void)
{
    sqlite3 *db = existing();
    sqlmig_result r;
    struct watch w;
    int rc;

    rc = migrate_watched(db, &set4, SQLMIG_BATCH, &w, &r);
    OK(rc == SQLMIG_OK && r.applied == 4 && r.to_version == 4, "batch: 4 applied");
    OK(w.commits == 1 && qint(db, "SELECT count(*) FROM schema_migrations") == 4, "batch: one transaction (%d commits)",
       w.commits);
    sqlite3_close(db);

    db = fresh();
    sqlmig_migrate(db, &set2, NULL, &r);
    rc = migrate(db, &set_dup, SQLMIG_BATCH, &r);
    OK(rc == SQLMIG_MIGRATION && r.version == 5 && r.applied == 0 && r.to_version == 2,
       "batch failure: SQLMIG_MIGRATION at 5, nothing counted");
    OK(strstr(r.message, "(rolled back with the rest of its batch: the database stays at version 2)") != NULL,
       "batch failure: the message says the batch was rolled back (%s)", r.message);
    OK(ledger_max(db) == 2 && !has_table(db, "tags") && qint(db, "SELECT count(*) FROM users") == 0,
       "batch failure: database at the version before the batch");
    sqlite3_close(db);

    db = fresh();
    rc = migrate(db, &set_notx, SQLMIG_BATCH, &r);
    OK(rc == SQLMIG_OK && r.applied == 3 && qint(db, "PRAGMA user_version") == 7 && has_table(db, "later")
       && qint(db, "SELECT count(*) FROM schema_migrations WHERE execution_ms >= 0") == 3,
       "batch split by a no-transaction migration: all 3 applied");
    sqlite3_close(db);

    /* A fresh database is one transaction, split only around the
    ** no-transaction migration: {1, 2}, its started row, its completed row,
    ** {4, 5}; one transaction per migration would be six. */
    db = fresh();
    rc = migrate_watched(db, &set_notx_split, 0, &w, &r);
    OK(rc == SQLMIG_OK && r.applied == 5 && qint(db, "PRAGMA user_version") == 7 && has_table(db, "latest"),
       "fresh, split: all 5 applied (%s)", r.message);
    OK(w.t.begins == 4, "fresh, split: one write transaction before the no-transaction migration and one after it, "
       "besides its two ledger rows (%d)", w.t.begins);
    sqlite3_close(db);
}

static void test_foreign_keys(void)
{
    sqlite3 *db = fresh();
    sqlmig_result r;
    int rc;

    setup_exec(db, "PRAGMA foreign_keys = ON");
    rc = sqlmig_migrate(db, &set_fk2, NULL, &r);
    OK(rc == SQLMIG_OK && r.applied == 2, "fk: table rebuild applied (%s)", r.message);
    OK(qint(db, "SELECT count(*) FROM child") == 3, "fk: child rows kept through the rebuild");
    OK(qint(db, "SELECT count(*) FROM pragma_table_info('parent') WHERE name = 'born'") == 1, "fk: parent rebuilt");
    OK(qint(db, "PRAGMA foreign_keys") == 1, "fk: foreign_keys is ON again");

    rc = sqlmig_migrate(db, &set_fk3, NULL, &r);
    OK(rc == SQLMIG_FOREIGN_KEY && r.version == 3 && strstr(r.message, "child") && strstr(r.message, "parent"),
       "fk: violation refused, naming the table (%s)", r.message);
    OK(strstr(r.message, "(rolled back: the database stays at version 2)") != NULL,
       "fk: the message says it was rolled back, not a batch");
    OK(ledger_max(db) == 2 && qint(db, "SELECT count(*) FROM child") == 3, "fk: violating migration rolled back");
    OK(qint(db, "PRAGMA foreign_keys") == 1, "fk: foreign_keys is ON again after the failure");
    sqlite3_close(db);

    /* Control: the same rebuild with foreign keys on loses the child rows. */
    db = fresh();
    setup_exec(db, "PRAGMA foreign_keys = ON");
    setup_exec(db, F1 F2);
    OK(qint(db, "SELECT count(*) FROM child") == 0, "fk control: without sqlmig the cascade deletes the children");
    sqlite3_close(db);

    db = fresh();
    OK(sqlmig_migrate(db, &set_fk2, NULL, &r) == SQLMIG_OK && qint(db, "PRAGMA foreign_keys") == 0,
       "fk: foreign_keys left OFF when it was OFF");
    sqlite3_close(db);
}

static void test_commit_inside(void)
{
    sqlite3 *db = existing();
    sqlmig_result r;
    int rc;

    rc = sqlmig_migrate(db, &set_commit, NULL, &r);
    OK(rc == SQLMIG_MIGRATION && r.version == 2 && r.line == 2 && r.column == 1 && strstr(r.message, "transaction"),
       "COMMIT inside: refused at 2:1 (%s)", r.message);
    OK(!has_table(db, "t1") && !has_table(db, "t2") && ledger_max(db) == 1 && sqlite3_get_autocommit(db),
       "COMMIT inside: nothing half-applied");
    sqlite3_close(db);

    db = existing();
    rc = sqlmig_migrate(db, &set_end, NULL, &r);
    OK(rc == SQLMIG_MIGRATION && r.line == 2 && r.column == 3 && !has_table(db, "t1"),
       "END TRANSACTION inside: refused at 2:3, nothing half-applied");
    sqlite3_close(db);

    db = existing();
    rc = sqlmig_migrate(db, &set_semi_commit, NULL, &r);
    OK(rc == SQLMIG_MIGRATION && r.line == 2 && r.column == 2 && !has_table(db, "t1") && ledger_max(db) == 1,
       "';COMMIT' inside: refused before it runs, at 2:2, nothing half-applied (%s)", r.message);
    sqlite3_close(db);
}

static void test_no_transaction(void)
{
    sqlite3 *db = fresh();
    sqlmig_result r;
    sqlmig_options o;
    struct log l;
    int rc;

    memset(&o, 0, sizeof o);
    memset(&l, 0, sizeof l);
    o.log = on_log;
    o.log_ctx = &l;
    rc = sqlmig_migrate(db, &set_notx, &o, &r);
    OK(rc == SQLMIG_OK && r.applied == 3 && qint(db, "PRAGMA user_version") == 7, "no-tx: applied");
    OK(qint(db, "SELECT execution_ms FROM schema_migrations WHERE version = 2") >= 0, "no-tx: row completed");
    OK(logged(&l, "running 0002_user_version.sql (version 2) outside a transaction") == 1,
       "no-tx: logged before it ran");
    sqlite3_close(db);

    /* A failure inside the migration's own BEGIN: the caller gets its
    ** connection back in autocommit mode, with foreign keys as they were. */
    db = fresh();
    setup_exec(db, "PRAGMA foreign_keys = ON");
    rc = sqlmig_migrate(db, &(struct sqlmig_set){ notx_own_tx, 1, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL }, NULL, &r);
    setup_exec(db, "INSERT INTO users(id, name) VALUES(1, 'ada');");
    rc = sqlmig_migrate(db, &set_notx_own_tx, NULL, &r);
    OK(rc == SQLMIG_MIGRATION && r.line == 4 && strstr(r.message, "UNIQUE"),
       "no-tx failure inside its own BEGIN: reported at line 4 (%s)", r.message);
    OK(sqlite3_get_autocommit(db) == 1 && qint(db, "PRAGMA foreign_keys") == 1 && !has_table(db, "u"),
       "no-tx failure inside its own BEGIN: rolled back, autocommit and foreign_keys restored");
    sqlite3_close(db);

    db = fresh();
    rc = sqlmig_migrate(db, &set_notx_bad, NULL, &r);
    OK(rc == SQLMIG_MIGRATION && r.line == 2 && r.column == 1 && strstr(r.message, "no such table: nope"),
       "no-tx failure: SQLMIG_MIGRATION at 2:1 (%s)", r.message);
    OK(strstr(r.message, "what it did before failing stays, and it stays marked started") != NULL,
       "no-tx failure: the message says its work stays and it is marked started");
    OK(qint(db, "SELECT execution_ms FROM schema_migrations WHERE version = 2") == -1 && has_table(db, "nt1"),
       "no-tx failure: row stays started, earlier statement kept");
    rc = migrate(db, &set_notx_bad, 0, &r);
    OK(rc == SQLMIG_INTERRUPTED && r.version == 2 && strstr(r.message, "sqlmig_resolve"),
       "no-tx failure: next run is SQLMIG_INTERRUPTED");
    sqlite3_close(db);

    db = fresh();
    rc = sqlmig_migrate(db, &set_notx_open, NULL, &r);
    OK(rc == SQLMIG_MIGRATION && strstr(r.message, "transaction open") && sqlite3_get_autocommit(db)
       && !has_table(db, "nt2"), "no-tx leaving a transaction open: refused and rolled back (%s)", r.message);
    sqlite3_close(db);
}

static void test_ledger_shape(void)
{
    sqlite3 *db = fresh();
    sqlmig_options o;
    sqlmig_result r;
    char before[8192], after[8192];
    int rc;

    setup_exec(db, "CREATE TABLE schema_migrations(version varchar(128) primary key);"
             "INSERT INTO schema_migrations VALUES('20240101120000')");
    snap(db, before, sizeof before);
    rc = sqlmig_migrate(db, &set4, NULL, &r);
    snap(db, after, sizeof after);
    OK(rc == SQLMIG_LEDGER && strstr(r.message, "varchar(128)") && strstr(r.message, "options.table"),
       "dbmate ledger: SQLMIG_LEDGER (%s)", r.message);
    OK(strcmp(before, after) == 0 && !has_table(db, "users"), "dbmate ledger: nothing changed");

    memset(&o, 0, sizeof o);
    o.table = "app \"ledger\"";
    rc = sqlmig_migrate(db, &set4, &o, &r);
    OK(rc == SQLMIG_OK && r.applied == 4, "custom table name: applied (%s)", r.message);
    OK(qint(db, "SELECT count(*) FROM \"app \"\"ledger\"\"\"") == 4
       && qint(db, "SELECT count(*) FROM schema_migrations") == 1, "custom table name: rows there, other table untouched");
    OK(sqlmig_migrate(db, &set4, &o, &r) == SQLMIG_OK && r.applied == 0, "custom table name: rerun is a no-op");
    sqlite3_close(db);

    db = fresh();
    setup_exec(db, "CREATE TABLE schema_migrations(version bigint not null primary key, dirty boolean not null)");
    OK(sqlmig_migrate(db, &set4, NULL, &r) == SQLMIG_LEDGER && strstr(r.message, "dirty"),
       "golang-migrate ledger: SQLMIG_LEDGER");
    sqlite3_close(db);

    db = fresh();
    setup_exec(db, "CREATE TABLE schema_migrations(version TEXT, name TEXT, checksum TEXT, applied_at TEXT, execution_ms INT);"
             "INSERT INTO schema_migrations VALUES('v1', 'a', 'b', 'c', 0)");
    OK(sqlmig_migrate(db, &set4, NULL, &r) == SQLMIG_LEDGER && strstr(r.message, "v1"),
       "ledger with a text version: SQLMIG_LEDGER (%s)", r.message);
    sqlite3_close(db);

    db = fresh();
    memset(&o, 0, sizeof o);
    o.table = "";
    OK(sqlmig_migrate(db, &set4, &o, &r) == SQLMIG_MISUSE, "empty table name: SQLMIG_MISUSE");
    {
        char longname[202];
        memset(longname, 'x', 201);
        longname[201] = '\0';
        o.table = longname;
        OK(sqlmig_migrate(db, &set4, &o, &r) == SQLMIG_MISUSE, "201-byte table name: SQLMIG_MISUSE");
        longname[200] = '\0';
        OK(sqlmig_migrate(db, &set4, &o, &r) == SQLMIG_OK, "200-byte table name: OK");
        memset(longname, '"', 200);
        sqlite3_close(db);
        db = fresh();
        OK(sqlmig_migrate(db, &set4, &o, &r) == SQLMIG_OK && r.applied == 4
           && sqlmig_migrate(db, &set4, &o, &r) == SQLMIG_OK && r.applied == 0,
           "200 double quotes as the table name: OK (%s)", r.message);
    }
    sqlite3_close(db);
}

struct rows {
    int n;
    int state[10];
    int64_t version[10];
    char name[10][32];
    int has_migration[10];
    int has_applied_at[10];
    int64_t ms[10];
    int stop_after;
};

static int on_row(void *ctx, const struct sqlmig_status_row *row)
{
    struct rows *s = ctx;
    if (s->n < 10) {
        s->state[s->n] = row->state;
        s->version[s->n] = row->version;
        snprintf(s->name[s->n], sizeof s->name[0], "%s", row->name ? row->name : "(null)");
        s->has_migration[s->n] = row->migration != NULL;
        s->has_applied_at[s->n] = row->applied_at != NULL;
        s->ms[s->n] = row->execution_ms;
        s->n++;
    }
    return s->stop_after && s->n >= s->stop_after;
}

static void test_status(void)
{
    static const int want[] = { SQLMIG_APPLIED, SQLMIG_CHANGED, SQLMIG_APPLIED, SQLMIG_PENDING,
                                SQLMIG_STARTED, SQLMIG_NOT_IN_SET };
    static const int64_t want_v[] = { 1, 2, 3, 4, 5, 9 };
    sqlite3 *db = fresh();
    sqlmig_result r;
    struct rows s;
    int rc, i, same = 1;

    memset(&s, 0, sizeof s);
    rc = sqlmig_status(db, &set4, NULL, on_row, &s, &r);
    OK(rc == SQLMIG_OK && s.n == 4 && s.state[0] == SQLMIG_PENDING && s.state[3] == SQLMIG_PENDING
       && !has_table(db, "schema_migrations"), "status, fresh: 4 pending, no ledger created");

    sqlmig_migrate(db, &set3, NULL, &r);
    setup_exec(db, "UPDATE schema_migrations SET checksum = 'x' WHERE version = 2;"
             "INSERT INTO schema_migrations VALUES(5, 'wal', '" CK("00a6") "', '2024-01-01T00:00:00.000Z', -1);"
             "INSERT INTO schema_migrations VALUES(9, 'future', 'y', '2024-01-01T00:00:00.000Z', 3)");
    memset(&s, 0, sizeof s);
    rc = sqlmig_status(db, &set_status, NULL, on_row, &s, &r);
    OK(rc == SQLMIG_OK && s.n == 6, "status: 6 rows (%d)", s.n);
    for (i = 0; i < 6; i++)
        same &= s.state[i] == want[i] && s.version[i] == want_v[i];
    OK(same, "status: applied, changed, applied, pending, started, not in set, in version order");
    OK(strcmp(s.name[5], "future") == 0 && !s.has_migration[5] && s.ms[5] == 3, "status: unknown row from the ledger");
    OK(strcmp(s.name[3], "tags") == 0 && s.has_migration[3] && !s.has_applied_at[3] && s.ms[3] == -1,
       "status: pending row has no applied_at, execution_ms -1");
    OK(s.has_applied_at[0] && s.ms[0] >= 0 && s.ms[4] == -1, "status: applied and started rows");
    OK(r.from_version == 9 && r.to_version == 9, "status: newest version 9");

    memset(&s, 0, sizeof s);
    s.stop_after = 2;
    rc = sqlmig_status(db, &set_status, NULL, on_row, &s, &r);
    OK(rc == SQLMIG_ABORTED && s.n == 2 && r.version == 2, "status: callback stops the walk with SQLMIG_ABORTED");
    OK(sqlmig_status(db, &set_status, NULL, NULL, NULL, NULL) == SQLMIG_MISUSE, "status: NULL callback is misuse");
    sqlite3_close(db);
}

static void test_verify(void)
{
    sqlite3 *db = fresh();
    sqlmig_options o;
    sqlmig_result r;
    struct log l;
    int rc;

    memset(&o, 0, sizeof o);
    o.log = on_log;
    o.log_ctx = &l;
    sqlmig_migrate(db, &set2, NULL, &r);
    setup_exec(db, "CREATE TABLE scratch(x)");
    memset(&l, 0, sizeof l);
    OK(sqlmig_verify(db, &set4, &o, &r) == SQLMIG_OK && l.n == 0
       && strstr(r.message, "2 migration(s) pending") != NULL, "verify: pending migrations, schema not compared, said so");
    setup_exec(db, "DROP TABLE scratch");

    sqlmig_migrate(db, &set4, NULL, &r);
    memset(&l, 0, sizeof l);
    rc = sqlmig_verify(db, &set4, &o, &r);
    OK(rc == SQLMIG_OK && l.n == 0 && r.to_version == 4, "verify: clean database OK (%s)", r.message);

    setup_exec(db, "CREATE INDEX tags_label ON tags(label)");
    memset(&l, 0, sizeof l);
    rc = sqlmig_verify(db, &set4, &o, &r);
    OK(rc == SQLMIG_DRIFT && strstr(r.message, "index tags_label"), "verify: index made by hand (%s)", r.message);
    OK(l.n == 1 && logged(&l, "drift: index tags_label is not in the embedded schema"), "verify: logged %s",
       l.n ? l.lines[0] : "nothing");
    setup_exec(db, "DROP INDEX tags_label");

    setup_exec(db, "DROP INDEX posts_user");
    memset(&l, 0, sizeof l);
    rc = sqlmig_verify(db, &set4, &o, &r);
    OK(rc == SQLMIG_DRIFT && strstr(r.message, "index posts_user is missing")
       && logged(&l, "drift: index posts_user is missing") == 1, "verify: dropped index (%s)", r.message);
    setup_exec(db, "CREATE INDEX posts_user ON posts(user_id)");

    setup_exec(db, "DROP TABLE tags; CREATE TABLE tags(id INTEGER PRIMARY KEY, label TEXT)");
    memset(&l, 0, sizeof l);
    rc = sqlmig_verify(db, &set4, &o, &r);
    OK(rc == SQLMIG_DRIFT && logged(&l, "drift: table tags differs from the embedded schema") == 1,
       "verify: changed definition (%s)", r.message);

    setup_exec(db, "CREATE VIEW v AS SELECT 1");
    memset(&l, 0, sizeof l);
    rc = sqlmig_verify(db, &set4, &o, &r);
    OK(rc == SQLMIG_DRIFT && l.n == 2 && logged(&l, "drift: view v is not in the embedded schema") == 1
       && strstr(r.message, "table tags") && strstr(r.message, "(2 problems in all)"), "verify: first problem and count (%s)",
       r.message);
    setup_exec(db, "DROP VIEW v; DROP TABLE tags; CREATE TABLE tags(id INTEGER PRIMARY KEY, label TEXT UNIQUE)");
    OK(sqlmig_verify(db, &set4, &o, &r) == SQLMIG_OK, "verify: OK again after repair");

    setup_exec(db, "UPDATE schema_migrations SET checksum = 'z' WHERE version = 1");
    memset(&l, 0, sizeof l);
    rc = sqlmig_verify(db, &set4, &o, &r);
    OK(rc == SQLMIG_CHECKSUM && r.version == 1 && logged(&l, "checksum") == 1, "verify: checksum (%s)", r.message);
    setup_exec(db, "UPDATE schema_migrations SET checksum = '" CK("0001") "' WHERE version = 1");
    setup_exec(db, "INSERT INTO schema_migrations VALUES(8, 'x', 'y', 'z', 1)");
    OK(sqlmig_verify(db, &set4, &o, &r) == SQLMIG_UNKNOWN && r.version == 8, "verify: unknown version");
    o.flags = SQLMIG_ALLOW_UNKNOWN;
    OK(sqlmig_verify(db, &set4, &o, &r) == SQLMIG_OK, "verify: unknown version allowed with the flag");
    sqlite3_close(db);

    /* The ledger is excluded by its name, whatever it is. */
    db = fresh();
    o.flags = 0;
    o.table = "my_ledger";
    setup_exec(db, "CREATE TABLE schema_migrations(version varchar(128) primary key)");
    sqlmig_migrate(db, &set4, &o, &r);
    memset(&l, 0, sizeof l);
    rc = sqlmig_verify(db, &set4, &o, &r);
    OK(rc == SQLMIG_DRIFT && l.n == 1 && logged(&l, "table schema_migrations is not in the embedded schema"),
       "verify: custom ledger excluded, other tables reported");
    sqlite3_close(db);
}

static void test_resolve(void)
{
    sqlite3 *db = fresh();
    sqlmig_result r;
    int rc;

    OK(sqlmig_resolve(db, NULL, 3, SQLMIG_RESOLVE_RETRY, &r) == SQLMIG_TARGET, "resolve without a ledger: TARGET");
    sqlmig_migrate(db, &set2, NULL, &r);
    setup_exec(db, "INSERT INTO schema_migrations VALUES(3, 'seed', '" CK("0003") "', '2024-01-01T00:00:00.000Z', -1)");
    rc = migrate(db, &set4, 0, &r);
    OK(rc == SQLMIG_INTERRUPTED && r.version == 3, "resolve: started row is SQLMIG_INTERRUPTED");
    OK(sqlmig_resolve(db, NULL, 2, SQLMIG_RESOLVE_RETRY, &r) == SQLMIG_TARGET, "resolve: finished row is TARGET");
    OK(sqlmig_resolve(db, NULL, 3, 0, &r) == SQLMIG_MISUSE, "resolve: bad `how` is misuse");
    rc = sqlmig_resolve(db, NULL, 3, SQLMIG_RESOLVE_RETRY, &r);
    OK(rc == SQLMIG_OK && qint(db, "SELECT count(*) FROM schema_migrations WHERE version = 3") == 0,
       "resolve retry: row deleted");
    rc = sqlmig_migrate(db, &set4, NULL, &r);
    OK(rc == SQLMIG_OK && r.applied == 2 && qint(db, "SELECT count(*) FROM users") == 2, "resolve retry: 3 ran again");
    sqlite3_close(db);

    db = fresh();
    sqlmig_migrate(db, &set2, NULL, &r);
    setup_exec(db, "INSERT INTO schema_migrations VALUES(3, 'seed', '" CK("0003") "', '2024-01-01T00:00:00.000Z', -1)");
    rc = sqlmig_resolve(db, NULL, 3, SQLMIG_RESOLVE_APPLIED, &r);
    OK(rc == SQLMIG_OK && qint(db, "SELECT execution_ms FROM schema_migrations WHERE version = 3") == 0,
       "resolve applied: execution_ms 0");
    rc = sqlmig_migrate(db, &set4, NULL, &r);
    OK(rc == SQLMIG_OK && r.applied == 1 && qint(db, "SELECT count(*) FROM users") == 0,
       "resolve applied: 3 not run again, 4 applied");
    OK(sqlmig_resolve(db, NULL, 3, SQLMIG_RESOLVE_APPLIED, &r) == SQLMIG_TARGET, "resolve twice: TARGET");
    sqlite3_close(db);
}

static void test_names(void)
{
    OK(strcmp(sqlmig_errname(SQLMIG_CHECKSUM), "SQLMIG_CHECKSUM") == 0
       && strcmp(sqlmig_errname(SQLMIG_OK), "SQLMIG_OK") == 0
       && strcmp(sqlmig_errname(SQLMIG_ABORTED), "SQLMIG_ABORTED") == 0, "errname");
    OK(strcmp(sqlmig_errname(99), "SQLMIG_UNKNOWN_CODE") == 0 && strcmp(sqlmig_errname(-1), "SQLMIG_UNKNOWN_CODE") == 0,
       "errname of an unknown code");
    OK(strcmp(sqlmig_errstr(SQLMIG_OK), "success") == 0
       && strcmp(sqlmig_errstr(SQLMIG_DRIFT), "the live schema differs from the embedded one it should have") == 0,
       "errstr");
    OK(sqlmig_errstr(1000) != NULL && sqlmig_errstr(-5) != NULL, "errstr of an unknown code is not NULL");
    OK(strcmp(sqlmig_libversion(), SQLMIG_VERSION) == 0, "libversion");
}

static void test_misuse(void)
{
    sqlite3 *db = fresh();
    sqlmig_result r;

    OK(sqlmig_migrate(NULL, &set4, NULL, &r) == SQLMIG_MISUSE && r.code == SQLMIG_MISUSE, "NULL db: misuse");
    OK(sqlmig_migrate(db, NULL, NULL, &r) == SQLMIG_MISUSE, "NULL set: misuse");
    OK(sqlmig_migrate(db, &set_unsorted, NULL, &r) == SQLMIG_MISUSE && !has_table(db, "schema_migrations"),
       "unsorted set: misuse");
    OK(sqlmig_verify(NULL, &set4, NULL, NULL) == SQLMIG_MISUSE, "verify NULL db: misuse");
    {
        sqlmig_options o;
        memset(&o, 0, sizeof o);
        o.table = "sqlite_ledger";
        OK(sqlmig_migrate(db, &set4, &o, &r) == SQLMIG_MISUSE && strstr(r.message, "reserved by SQLite"),
           "a ledger name starting with sqlite_ is refused (%s)", r.message);
    }
    /* Inside the caller's transaction nothing can be applied: said plainly. */
    setup_exec(db, "BEGIN");
    OK(sqlmig_migrate(db, &set4, NULL, &r) == SQLMIG_MISUSE && strstr(r.message, "outside a transaction")
       && !sqlite3_get_autocommit(db), "called inside a transaction: misuse, the caller's transaction untouched");
    setup_exec(db, "ROLLBACK");
    sqlite3_close(db);
}

static void test_readonly(void)
{
    sqlite3 *db = fresh(), *ro;
    int n = ndb;
    sqlmig_result r;
    char before[8192], after[8192];
    int rc;

    sqlmig_migrate(db, &set2, NULL, &r);
    snap(db, before, sizeof before);
    ro = open_db(n, SQLITE_OPEN_READONLY);
    rc = sqlmig_migrate(ro, &set4, NULL, &r);
    OK(rc == SQLMIG_READONLY, "read-only with pending: SQLMIG_READONLY (%s)", r.message);
    rc = sqlmig_migrate(ro, &set2, NULL, &r);
    OK(rc == SQLMIG_OK && r.applied == 0, "read-only and up to date: OK");
    sqlite3_close(ro);
    snap(db, after, sizeof after);
    OK(strcmp(before, after) == 0, "read-only: nothing changed");
    sqlite3_close(db);
}

static void test_busy(void)
{
    sqlite3 *db = fresh(), *other;
    int n = ndb;
    sqlmig_result r;
    char before[8192], after[8192];
    int rc;

    sqlmig_migrate(db, &set2, NULL, &r);
    setup_exec(db, "PRAGMA foreign_keys = ON");
    snap(db, before, sizeof before);
    other = open_db(n, SQLITE_OPEN_READWRITE);
    setup_exec(other, "BEGIN EXCLUSIVE");
    rc = migrate(db, &set4, 0, &r);
    OK(rc == SQLMIG_BUSY && (r.sqlite_code & 0xff) == SQLITE_BUSY, "BEGIN EXCLUSIVE elsewhere: SQLMIG_BUSY (%s)",
       r.message);
    setup_exec(other, "ROLLBACK");
    setup_exec(other, "BEGIN IMMEDIATE");
    rc = migrate(db, &set4, 0, &r);
    OK(rc == SQLMIG_BUSY && strstr(r.message, "BEGIN IMMEDIATE"), "BEGIN IMMEDIATE elsewhere: SQLMIG_BUSY (%s)",
       r.message);
    {
        /* A negative timeout: sqlmig's connection does not wait at all. */
        sqlmig_options o;
        int64_t t0;
        memset(&o, 0, sizeof o);
        o.busy_timeout_ms = -1;
        sqlite3_busy_timeout(db, 1234);
        t0 = (int64_t)time(NULL);
        rc = sqlmig_migrate(db, &set4, &o, &r);
        OK(rc == SQLMIG_BUSY && strstr(r.message, "busy timeout of 0 ms") && (int64_t)time(NULL) - t0 < 2,
           "busy, negative timeout: no wait (%s)", r.message);
        OK(qint(db, "PRAGMA busy_timeout") == 1234, "busy: the caller's own timeout is untouched");
    }
    setup_exec(other, "ROLLBACK");
    sqlite3_close(other);
    snap(db, after, sizeof after);
    OK(strcmp(before, after) == 0 && qint(db, "PRAGMA foreign_keys") == 1,
       "busy: nothing changed, foreign_keys restored");
    OK(migrate(db, &set4, 0, &r) == SQLMIG_OK && r.applied == 2, "busy: works once the lock is gone");
    sqlite3_close(db);
}

/*
** Another process creates the ledger between sqlmig's failed prepare of the
** ledger query and its look into sqlite_schema: it must read the new ledger,
** not call it foreign. A trace callback runs the other connection exactly
** there (a statement is traced before it takes its read lock).
*/
struct race {
    sqlite3 *other;
    int fired;
};

static int on_trace(unsigned type, void *ctx, void *p, void *x)
{
    struct race *race = ctx;
    (void)type;
    (void)p;
    if (!race->fired && strstr((const char *)x, "sqlite_schema")) {
        race->fired = 1;
        sqlmig_migrate(race->other, &set4, NULL, NULL);
    }
    return 0;
}

static int race_conn(void *ctx, sqlite3 *conn)
{
    sqlite3_trace_v2(conn, SQLITE_TRACE_STMT, on_trace, ctx);
    return 0;
}

static void test_ledger_race(void)
{
    sqlite3 *db = fresh();
    struct race race;
    struct rows rows;
    sqlmig_options o;
    sqlmig_result r;
    int rc;

    race.other = open_db(ndb, SQLITE_OPEN_READWRITE);
    race.fired = 0;
    memset(&o, 0, sizeof o);
    memset(&rows, 0, sizeof rows);
    o.connect = race_conn;
    o.hook_ctx = &race;
    rc = sqlmig_status(db, &set4, &o, on_row, &rows, &r);
    OK(race.fired && rc == SQLMIG_OK && rows.n == 4 && rows.state[3] == SQLMIG_APPLIED && r.to_version == 4,
       "ledger created by another process meanwhile: read, not refused (%s)", r.message);
    sqlite3_close(race.other);
    sqlite3_close(db);
}

int main(void)
{
    char path[128], extra[160];
    int i;
    static const char *const suffix[] = { "", "-journal", "-wal", "-shm" };

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_fresh_and_rerun();
    test_older_version();
    test_failing_migration();
    test_checksum();
    test_unknown();
    test_out_of_order();
    test_target();
    test_dry_run();
    test_batch();
    test_foreign_keys();
    test_commit_inside();
    test_no_transaction();
    test_ledger_shape();
    test_ledger_race();
    test_status();
    test_verify();
    test_resolve();
    test_names();
    test_misuse();
    test_readonly();
    test_busy();

    for (i = 1; i <= ndb; i++) {
        size_t k;
        db_path(i, path, sizeof path);
        for (k = 0; k < sizeof suffix / sizeof suffix[0]; k++) {
            snprintf(extra, sizeof extra, "%s%s", path, suffix[k]);
            remove(extra);
        }
    }
    if (rmdir(dir) != 0)
        perror("rmdir");
    return tap_done(&T);
}
