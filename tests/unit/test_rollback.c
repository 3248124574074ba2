/*
** test_rollback.c — sqlmig_rollback() on real database files, in both
** journal modes: the down parts of tests/fixtures/reversible (compiled by
** the build), newest first, each in its own transaction with its ledger
** row; the schema and rows of the version before; the plan checked before
** anything runs; a failing down part, a foreign key it breaks, a dry run,
** and the database migrated up again. Prints TAP.
*/
#include "reversible_set.h"
#include "sqlmig.h"
#include "tap.h"
#include "setup.h"
#include "dbq.h"
#include "logcap.h"
#include "dbfiles.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct tap T;
#define OK(cond, ...) tap_ok(&T, (cond), __VA_ARGS__)

static struct dbfiles files;

static sqlite3 *fresh(int wal)
{
    sqlite3 *db = dbfiles_open(&files);

    setup_exec(db, wal ? "PRAGMA journal_mode=WAL" : "PRAGMA journal_mode=DELETE");
    return db;
}

static int migrate_to(sqlite3 *db, const struct sqlmig_set *set, int64_t target, sqlmig_result *r)
{
    sqlmig_options o;
    memset(&o, 0, sizeof o);
    o.target = target;
    o.flags = SQLMIG_REPLAY; /* migration by migration, as a program upgraded release by release */
    return sqlmig_migrate(db, set, &o, r);
}

static int rollback(sqlite3 *db, const struct sqlmig_set *set, int64_t target, unsigned flags, struct log *l,
                    sqlmig_result *r)
{
    sqlmig_options o;
    memset(&o, 0, sizeof o);
    memset(l, 0, sizeof *l);
    o.flags = flags;
    o.log = on_log;
    o.log_ctx = l;
    return sqlmig_rollback(db, set, &o, target, r);
}

/* The schema as sqlmig compares it: each object's fingerprint, in order. */
static void schema_of(sqlite3 *db, char *out, size_t size)
{
    sqlite3_stmt *st;
    size_t n = 0;

    out[0] = '\0';
    if (sqlite3_prepare_v2(db, "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT GLOB "
                           "'sqlite_*' AND name <> 'schema_migrations' ORDER BY type, lower(name)", -1, &st, NULL)
        != SQLITE_OK) {
        snprintf(out, size, "(error)");
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW && n < size)
        n += (size_t)snprintf(out + n, size - n, "%s %s %016llx; ", sqlite3_column_text(st, 0),
                              sqlite3_column_text(st, 1),
                              (unsigned long long)sqlmig_fingerprint((const char *)sqlite3_column_text(st, 0),
                                                                     (const char *)sqlite3_column_text(st, 2)));
    sqlite3_finalize(st);
}

/* The schema of a fresh database migrated to version v. */
static void schema_at(int64_t v, char *out, size_t size)
{
    sqlmig_result r;
    sqlite3 *db = fresh(0);

    if (v && migrate_to(db, &reversible_set, v, &r) != SQLMIG_OK) {
        tap_diag("setup: migrate to %lld: %s", (long long)v, r.message);
        exit(2);
    }
    schema_of(db, out, size);
    setup_close(db);
}

static void test_round_trip(int wal)
{
    const char *mode = wal ? "wal" : "rollback journal";
    char want[4096], got[4096];
    sqlmig_result r;
    struct log l;
    sqlite3 *db = fresh(wal);
    int rc;

    migrate_to(db, &reversible_set, 0, &r);
    setup_exec(db, "INSERT INTO accounts (email, name) VALUES ('ada@example.com', 'Ada');"
                   "INSERT INTO orders (account_id, total) VALUES (2, 30)");
    rc = rollback(db, &reversible_set, 3, SQLMIG_DRY_RUN, &l, &r);
    OK(rc == SQLMIG_OK && r.applied == 3 && l.n == 3 && strstr(l.lines[0], "would roll back 0006_account_totals.down.sql")
       && strstr(l.lines[2], "0004_ops_account.down.sql") && qint(db, "SELECT max(version) FROM schema_migrations") == 6,
       "%s: a dry run logs the plan, newest first, and changes nothing", mode);
    rc = rollback(db, &reversible_set, 3, 0, &l, &r);
    OK(rc == SQLMIG_OK && r.applied == 3 && r.from_version == 6 && r.to_version == 3
       && logged(&l, "rolled back 0005_orders_total_check.down.sql (version 5)"),
       "%s: rolled back from 6 to 3, three down parts (%s)", mode, r.message);
    schema_at(3, want, sizeof want);
    schema_of(db, got, sizeof got);
    OK(strcmp(want, got) == 0, "%s: the schema is that of version 3", mode);
    OK(qint(db, "SELECT max(version) FROM schema_migrations") == 3
       && qint(db, "SELECT count(*) FROM accounts") == 1 && qint(db, "SELECT total FROM orders") == 30,
       "%s: the ledger ends at 3; the rows of tables that were there are kept, the seeded one gone", mode);
    OK(qint(db, "PRAGMA integrity_check = 1") != -999 && qint(db, "SELECT count(*) FROM pragma_foreign_key_check") == 0,
       "%s: no foreign key left dangling", mode);
    rc = sqlmig_migrate(db, &reversible_set, NULL, &r);
    OK(rc == SQLMIG_OK && r.applied == 3 && sqlmig_verify(db, &reversible_set, NULL, &r) == SQLMIG_OK,
       "%s: migrated up again, verify finds no drift (%s)", mode, r.message);
    rc = rollback(db, &reversible_set, 0, 0, &l, &r);
    OK(rc == SQLMIG_OK && r.applied == 6 && qint(db, "SELECT count(*) FROM sqlite_schema WHERE name <> "
                                                   "'schema_migrations'") == 0
       && qint(db, "SELECT count(*) FROM schema_migrations") == 0, "%s: target 0 undoes everything", mode);
    rc = rollback(db, &reversible_set, 0, 0, &l, &r);
    OK(rc == SQLMIG_OK && r.applied == 0, "%s: nothing left to roll back: OK, none", mode);
    setup_close(db);
}

static void test_refusals(void)
{
    struct sqlmig_migration copy[16];
    struct sqlmig_set set = reversible_set;
    sqlmig_result r;
    struct log l;
    sqlite3 *db = fresh(0);
    int rc;

    memcpy(copy, reversible_set.migrations, reversible_set.count * sizeof copy[0]);
    set.migrations = copy;
    migrate_to(db, &reversible_set, 0, &r);

    rc = rollback(db, &reversible_set, 4242, 0, &l, &r);
    OK(rc == SQLMIG_TARGET, "a target that is no version: refused (%s)", r.message);
    copy[3].down_sql = NULL;
    copy[3].down_len = 0;
    rc = rollback(db, &set, 2, 0, &l, &r);
    OK(rc == SQLMIG_IRREVERSIBLE && r.version == 4 && strstr(r.message, "0004_ops_account.up.sql")
       && strstr(r.message, "has no down part") && qint(db, "SELECT max(version) FROM schema_migrations") == 6,
       "a migration without a down part stops the plan before anything runs (%s)", r.message);
    copy[3] = reversible_set.migrations[3];
    copy[4].flags |= SQLMIG_ONE_WAY;
    rc = rollback(db, &set, 2, 0, &l, &r);
    OK(rc == SQLMIG_IRREVERSIBLE && r.version == 5 && strstr(r.message, "irreversible")
       && qint(db, "SELECT max(version) FROM schema_migrations") == 6, "so does one that says it is irreversible");
    copy[4] = reversible_set.migrations[4];

    /* A down part that fails: the ones before it stay rolled back, it is rolled back whole. */
    copy[4].down_sql = "DELETE FROM orders;\nDROP TABLE nosuch;\n";
    copy[4].down_len = strlen(copy[4].down_sql);
    rc = rollback(db, &set, 3, 0, &l, &r);
    OK(rc == SQLMIG_MIGRATION && r.file && strcmp(r.file, "0005_orders_total_check.down.sql") == 0 && r.line == 2
       && strstr(r.message, "no such table: nosuch") && strstr(r.message, "rolled back: the database stays at version 5")
       && qint(db, "SELECT max(version) FROM schema_migrations") == 5 && has_table(db, "orders")
       && r.applied == 1, "a failing down part: named at file:line, rolled back alone, the database at 5 (%s)",
       r.message);
    copy[4] = reversible_set.migrations[4];

    /* A down part that leaves a dangling reference. */
    setup_exec(db, "INSERT INTO accounts (email) VALUES ('b@example.com'); INSERT INTO orders (account_id, total) "
                   "VALUES (2, 1)");
    copy[3].down_sql = "DELETE FROM accounts;\n";
    copy[3].down_len = strlen(copy[3].down_sql);
    rc = rollback(db, &set, 3, 0, &l, &r);
    OK(rc == SQLMIG_FOREIGN_KEY && strstr(r.message, "refers to a missing row of table accounts")
       && qint(db, "SELECT count(*) FROM accounts") == 2, "a down part that breaks a foreign key: refused (%s)",
       r.message);
    setup_close(db);
}

/* An older build (versions 1 to 3 of the history) on a database a newer one migrated. */
static void test_older_build(void)
{
    static const struct sqlmig_object old_objects[] = {
        { "index", "orders_account", "CREATE INDEX orders_account ON orders (account_id)" },
        { "table", "accounts", "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT)" },
        { "table", "orders", "CREATE TABLE orders (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES "
                             "accounts (id), total INTEGER NOT NULL)" },
    };
    struct sqlmig_set older = { reversible_set.migrations, 3, old_objects, 3, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
    sqlmig_options o;
    sqlmig_result r;
    sqlite3 *db = fresh(0);
    int rc;

    memset(&o, 0, sizeof o);
    migrate_to(db, &reversible_set, 0, &r);
    rc = sqlmig_migrate(db, &older, NULL, &r);
    OK(rc == SQLMIG_UNKNOWN && r.version == 4, "older build, newer database: refused by default (%s)", r.message);
    o.flags = SQLMIG_ALLOW_UNKNOWN;
    rc = sqlmig_migrate(db, &older, &o, &r);
    OK(rc == SQLMIG_OK && r.to_version == 6, "with SQLMIG_ALLOW_UNKNOWN: runs, as the database keeps its schema (%s)",
       r.message);
    rc = sqlmig_verify(db, &older, &o, &r);
    OK(rc == SQLMIG_OK && strstr(r.message, "keeps every table, column"), "verify says what it compared (%s)",
       r.message);
    setup_exec(db, "DROP VIEW account_totals; ALTER TABLE accounts DROP COLUMN name");
    rc = sqlmig_migrate(db, &older, &o, &r);
    OK(rc == SQLMIG_UNKNOWN && strstr(r.message, "no longer has column name of table accounts")
       && strstr(r.message, "at version 6"), "a newer schema without one of its columns: refused, naming it (%s)",
       r.message);
    rc = sqlmig_verify(db, &older, &o, &r);
    OK(rc == SQLMIG_UNKNOWN && strstr(r.message, "column name of table accounts"), "verify reports it too");
    setup_exec(db, "DROP INDEX orders_account");
    rc = sqlmig_migrate(db, &older, &o, &r);
    OK(rc == SQLMIG_UNKNOWN && strstr(r.message, "no longer has index orders_account"), "and a missing index (%s)",
       r.message);
    setup_close(db);
}

int main(void)
{
    dbfiles_start(&files, "rollback");
    test_round_trip(0);
    test_round_trip(1);
    test_refusals();
    test_older_build();
    dbfiles_end(&files);
    return tap_done(&T);
}
