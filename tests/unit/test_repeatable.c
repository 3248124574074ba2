/*
** test_repeatable.c — repeatable migrations (Flyway's R__ files) in the
** runtime: run once the database is at the last version, again only when
** their checksum changes, in name order, each in its own transaction with
** its row in "<ledger>_repeatable"; seen by status and verify; refused
** when their table or its rows are not sqlmig's. Real database files in a
** temporary directory. Prints TAP.
*/
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

#define CK(d) d d d d d d d d d d d d d d d d /* 16 x 4 hex digits */
#define MIG(v, name, file, sql, ck) { v, name, file, sql, sizeof sql - 1, 1, NULL, 0, ck, 0, NULL, 0 }

#define S1 "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n" \
           "INSERT INTO users(name) VALUES('ada'), ('bob');\n"
#define S2 "CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id));\n"
static const struct sqlmig_migration versioned[] = {
    MIG(1, "users", "V1__users.sql", S1, CK("0001")),
    MIG(2, "posts", "V2__posts.sql", S2, CK("0002")),
};

/* Two repeatable migrations, and the first one edited. */
#define VIEW1 "DROP VIEW IF EXISTS user_names;\nCREATE VIEW user_names AS SELECT name FROM users;\n"
#define VIEW2 "DROP VIEW IF EXISTS user_names;\nCREATE VIEW user_names AS SELECT upper(name) AS name FROM users;\n"
#define TRIG "DROP TRIGGER IF EXISTS users_post;\n" \
             "CREATE TRIGGER users_post AFTER INSERT ON users BEGIN INSERT INTO posts(user_id) VALUES(NEW.id); END;\n"
#define BROKEN "DROP VIEW IF EXISTS user_names;\n\nINSERT INTO usr(name) VALUES('x');\n"
#define WRITES "INSERT INTO schema_migrations_repeatable VALUES('x', 'y', 'z', 0);\n"
static const struct sqlmig_migration rep_v1[] = {
    MIG(0, "a_user_names", "R__a_user_names.sql", VIEW1, CK("00a1")),
    MIG(0, "b_users_post", "R__b_users_post.sql", TRIG, CK("00b1")),
};
static const struct sqlmig_migration rep_v2[] = {
    MIG(0, "a_user_names", "R__a_user_names.sql", VIEW2, CK("00a2")),
    MIG(0, "b_users_post", "R__b_users_post.sql", TRIG, CK("00b1")),
};
static const struct sqlmig_migration rep_broken[] = {
    MIG(0, "a_user_names", "R__a_user_names.sql", BROKEN, CK("00a3")),
    MIG(0, "b_users_post", "R__b_users_post.sql", TRIG, CK("00b2")),
};
static const struct sqlmig_migration rep_writes[] = {
    MIG(0, "a_sneaky", "R__a_sneaky.sql", WRITES, CK("00c1")),
};
static const struct sqlmig_migration rep_unsorted[] = {
    MIG(0, "b_users_post", "R__b_users_post.sql", TRIG, CK("00b1")),
    MIG(0, "a_user_names", "R__a_user_names.sql", VIEW1, CK("00a1")),
};

#define SET(reps) { versioned, 2, NULL, 0, NULL, 0, NULL, 0, 0, reps, sizeof reps / sizeof reps[0], NULL, 0, NULL, NULL }
static const struct sqlmig_set set_v1 = SET(rep_v1);
static const struct sqlmig_set set_v2 = SET(rep_v2);
static const struct sqlmig_set set_broken = SET(rep_broken);
static const struct sqlmig_set set_writes = SET(rep_writes);
static const struct sqlmig_set set_unsorted = SET(rep_unsorted);
/* The set of an older build: version 1 and no repeatable migration. */
static const struct sqlmig_set set_old = { versioned, 1, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
/* The final schema of set_v2, for verify. */
static const struct sqlmig_object objects_v2[] = {
    { "table", "app_settings", "CREATE TABLE app_settings(k TEXT PRIMARY KEY, v TEXT)" },
    { "table", "posts", "CREATE TABLE posts(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id))" },
    { "table", "users", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL)" },
    { "trigger", "users_post", "CREATE TRIGGER users_post AFTER INSERT ON users BEGIN INSERT INTO "
                               "posts(user_id) VALUES(NEW.id); END" },
    { "view", "user_names", "CREATE VIEW user_names AS SELECT upper(name) AS name FROM users" },
};
static const struct sqlmig_set set_v2_objects = {
    versioned, 2, objects_v2, 5, NULL, 0, NULL, 0, 0, rep_v2, 2, NULL, 0, NULL, NULL
};

/* ---- helpers ------------------------------------------------------------- */

static struct dbfiles files;

/* A database the application has used already (not fresh: no batch). */
static sqlite3 *existing(void)
{
    sqlite3 *db = dbfiles_open(&files);

    setup_exec(db, "CREATE TABLE app_settings(k TEXT PRIMARY KEY, v TEXT)");
    return db;
}

/* Counts the statements run on the caller's connection. */
static int on_stmt(unsigned type, void *ctx, void *p, void *x)
{
    (void)type;
    (void)p;
    (void)x;
    ++*(int *)ctx;
    return 0;
}

static int migrate(sqlite3 *db, const struct sqlmig_set *set, unsigned flags, int64_t target, struct log *l,
                   sqlmig_result *r)
{
    sqlmig_options o;
    memset(&o, 0, sizeof o);
    o.flags = flags;
    o.target = target;
    o.busy_timeout_ms = 100;
    if (l) {
        memset(l, 0, sizeof *l);
        o.log = on_log;
        o.log_ctx = l;
    }
    return sqlmig_migrate(db, set, &o, r);
}

/* The stored checksum of one repeatable migration, or "(none)". */
static const char *stored(sqlite3 *db, const char *name, char *buf, size_t size)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT checksum FROM schema_migrations_repeatable WHERE name = '%s'", name);
    return qtext(db, sql, buf, size);
}

struct rows {
    int n;
    int state[8];
    int64_t version[8];
    char name[8][32];
};

static int on_row(void *ctx, const struct sqlmig_status_row *row)
{
    struct rows *s = ctx;
    if (s->n < 8) {
        s->state[s->n] = row->state;
        s->version[s->n] = row->version;
        snprintf(s->name[s->n], sizeof s->name[0], "%s", row->name);
        s->n++;
    }
    return 0;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_run_and_rerun(void)
{
    sqlite3 *db = existing();
    sqlmig_result r;
    struct log l;
    char a[128], b[128];
    int rc, stmts = 0;

    rc = migrate(db, &set_v1, 0, 0, &l, &r);
    OK(rc == SQLMIG_OK && r.applied == 4 && r.to_version == 2, "the versioned migrations, then both repeatable "
       "ones: 4 applied, version 2 (%s)", r.message);
    OK(qint(db, "SELECT count(*) FROM user_names") == 2 && qint(db, "SELECT count(*) FROM schema_migrations") == 2
       && qint(db, "SELECT count(*) FROM schema_migrations_repeatable") == 2,
       "the view exists, the ledger has 2 versions, the table of repeatable migrations 2 rows");
    OK(strcmp(stored(db, "a_user_names", a, sizeof a), CK("00a1")) == 0
       && strcmp(stored(db, "b_users_post", b, sizeof b), CK("00b1")) == 0, "each row holds its checksum");
    OK(logged(&l, "applied R__a_user_names.sql (repeatable)") == 1 && logged(&l, "applied R__b_users_post.sql") == 1
       && strstr(l.lines[2], "R__a_user_names") && strstr(l.lines[3], "R__b_users_post"),
       "they run after the versioned ones, in name order");

    /* Unchanged: nothing runs, and the caller's connection sees two reads. */
    sqlite3_trace_v2(db, SQLITE_TRACE_STMT, on_stmt, &stmts);
    rc = migrate(db, &set_v1, 0, 0, &l, &r);
    sqlite3_trace_v2(db, 0, NULL, NULL);
    OK(rc == SQLMIG_OK && r.applied == 0 && l.n == 0, "unchanged: nothing runs again");
    OK(stmts == 2, "up to date: one read of the ledger, one of the table of repeatable migrations (%d)", stmts);

    /* Edited: only that one runs again. */
    rc = migrate(db, &set_v2, 0, 0, &l, &r);
    OK(rc == SQLMIG_OK && r.applied == 1 && logged(&l, "applied R__a_user_names.sql") == 1
       && logged(&l, "R__b_users_post") == 0, "edited: only the changed one runs again (%s)", r.message);
    OK(strcmp(qtext(db, "SELECT group_concat(name) FROM user_names", a, sizeof a), "ADA,BOB") == 0
       && strcmp(stored(db, "a_user_names", b, sizeof b), CK("00a2")) == 0,
       "its new text is in effect, its row holds the new checksum");
    OK(qint(db, "SELECT count(*) FROM schema_migrations") == 2, "the version did not move");

    /* A failure in a repeatable migration: named, rolled back, row kept. */
    rc = migrate(db, &set_broken, 0, 0, &l, &r);
    OK(rc == SQLMIG_MIGRATION && r.file && strcmp(r.file, "R__a_user_names.sql") == 0 && r.line == 3
       && r.version == 0 && strstr(r.message, "R__a_user_names.sql:3:") && strstr(r.message, "no such table: usr")
       && strstr(r.message, "rolled back"), "a failing one is named at file:line:col and rolled back (%s)",
       r.message);
    OK(strcmp(qtext(db, "SELECT group_concat(name) FROM user_names", a, sizeof a), "ADA,BOB") == 0
       && strcmp(stored(db, "a_user_names", b, sizeof b), CK("00a2")) == 0,
       "after it, the view and the row are those of the last run");
    setup_close(db);
}

static void test_target_and_batch(void)
{
    sqlite3 *db = existing();
    sqlmig_result r;
    struct log l;
    int rc;

    rc = migrate(db, &set_v1, 0, 1, &l, &r);
    OK(rc == SQLMIG_OK && r.applied == 1 && !has_table(db, "schema_migrations_repeatable")
       && !has_table(db, "user_names"), "a target below the last version runs no repeatable migration");
    rc = migrate(db, &set_v1, SQLMIG_DRY_RUN, 0, &l, &r);
    OK(rc == SQLMIG_OK && r.applied == 3 && logged(&l, "would apply V2__posts.sql") == 1
       && logged(&l, "would apply R__a_user_names.sql (repeatable, never applied)") == 1
       && !has_table(db, "posts") && !has_table(db, "schema_migrations_repeatable"),
       "a dry run plans the pending version and both repeatable ones, and writes nothing");
    rc = migrate(db, &set_v1, SQLMIG_BATCH, 0, &l, &r);
    OK(rc == SQLMIG_OK && r.applied == 3 && logged(&l, "to be committed with the batch") == 3,
       "in a batch they share its transaction (%s)", r.message);
    rc = migrate(db, &set_v2, SQLMIG_DRY_RUN, 0, &l, &r);
    OK(rc == SQLMIG_OK && r.applied == 1 && logged(&l, "(repeatable, changed since it was applied)") == 1,
       "a dry run says which one changed");
    setup_close(db);

    /* A fresh database: everything in one transaction; with a failing
    ** repeatable migration, nothing at all. */
    db = existing();
    setup_exec(db, "DROP TABLE app_settings");
    rc = migrate(db, &set_broken, 0, 0, &l, &r);
    OK(rc == SQLMIG_MIGRATION && !has_table(db, "users") && !has_table(db, "schema_migrations"),
       "fresh: a failing repeatable migration rolls back the whole batch (%s)", r.message);
    rc = migrate(db, &set_v1, 0, 0, &l, &r);
    OK(rc == SQLMIG_OK && r.applied == 4 && qint(db, "SELECT count(*) FROM schema_migrations_repeatable") == 2,
       "fresh: all four in one go");
    setup_close(db);
}

static void test_status_and_verify(void)
{
    sqlite3 *db = existing();
    sqlmig_result r;
    sqlmig_options o;
    struct rows s;
    struct log l;
    int rc;

    memset(&s, 0, sizeof s);
    rc = sqlmig_status(db, &set_v1, NULL, on_row, &s, &r);
    OK(rc == SQLMIG_OK && s.n == 4 && s.state[2] == SQLMIG_PENDING && s.version[2] == 0
       && strcmp(s.name[2], "a_user_names") == 0 && s.state[3] == SQLMIG_PENDING,
       "status before: the versions, then the repeatable ones with version 0, pending");
    migrate(db, &set_v1, 0, 0, NULL, &r);
    memset(&s, 0, sizeof s);
    rc = sqlmig_status(db, &set_v2, NULL, on_row, &s, &r);
    OK(rc == SQLMIG_OK && s.n == 4 && s.state[2] == SQLMIG_OUTDATED && s.state[3] == SQLMIG_APPLIED,
       "status after an edit: the edited one outdated, the other applied");

    memset(&o, 0, sizeof o);
    memset(&l, 0, sizeof l);
    o.log = on_log;
    o.log_ctx = &l;
    rc = sqlmig_verify(db, &set_v2_objects, &o, &r);
    OK(rc == SQLMIG_OK && strstr(r.message, "1 migration(s) pending"), "verify: an outdated one is pending, "
       "and the schema is not compared yet (%s)", r.message);
    migrate(db, &set_v2, 0, 0, NULL, &r);
    rc = sqlmig_verify(db, &set_v2_objects, &o, &r);
    OK(rc == SQLMIG_OK && r.message[0] == '\0', "verify after: no drift, the table of repeatable migrations aside (%s)",
       r.message);

    /* An older build, without them: its rows stay, reported as not in the set. */
    memset(&s, 0, sizeof s);
    rc = sqlmig_status(db, &(struct sqlmig_set){ versioned, 2, NULL, 0, NULL, 0, NULL, 0, 0, rep_v2, 1, NULL, 0, NULL, NULL }, NULL,
                       on_row, &s, &r);
    OK(rc == SQLMIG_OK && s.n == 4 && s.state[3] == SQLMIG_NOT_IN_SET && strcmp(s.name[3], "b_users_post") == 0,
       "status: a row of a repeatable migration the set no longer has is not in the set");
    rc = migrate(db, &set_old, SQLMIG_ALLOW_UNKNOWN, 0, NULL, &r);
    OK(rc == SQLMIG_OK && r.applied == 0, "a set without repeatable migrations leaves their table alone");
    setup_close(db);
}

static void test_refusals(void)
{
    sqlite3 *db = existing();
    sqlmig_result r;
    int rc;

    rc = migrate(db, &set_writes, 0, 0, NULL, &r);
    OK(rc == SQLMIG_MIGRATION && strstr(r.message, "R__a_sneaky.sql:1:") && strstr(r.message, "ledger table"),
       "a migration may not write the table of repeatable migrations (%s)", r.message);
    setup_close(db);

    db = existing();
    setup_exec(db, "CREATE TABLE schema_migrations_repeatable(name TEXT, checksum TEXT)");
    rc = migrate(db, &set_v1, 0, 0, NULL, &r);
    OK(rc == SQLMIG_LEDGER && strstr(r.message, "is not sqlmig's table of repeatable migrations")
       && !has_table(db, "user_names"), "a table of that name with another shape is refused (%s)", r.message);
    setup_exec(db, "DROP TABLE schema_migrations_repeatable;"
                   "CREATE TABLE schema_migrations_repeatable(name TEXT PRIMARY KEY, checksum TEXT NOT NULL, "
                   "applied_at TEXT NOT NULL, execution_ms INTEGER NOT NULL);"
                   "INSERT INTO schema_migrations_repeatable VALUES('a_user_names', x'00', 'now', 0)");
    rc = migrate(db, &set_v1, 0, 0, NULL, &r);
    OK(rc == SQLMIG_LEDGER && strstr(r.message, "name a_user_names") && strstr(r.message, "its checksum is not TEXT"),
       "a row sqlmig did not write is refused, named (%s)", r.message);
    rc = sqlmig_migrate(db, &set_unsorted, NULL, &r);
    OK(rc == SQLMIG_MISUSE && strstr(r.message, "name order"), "repeatable migrations out of name order: misuse");
    setup_close(db);
}

int main(void)
{
    dbfiles_start(&files, "repeatable");
    test_run_and_rerun();
    test_target_and_batch();
    test_status_and_verify();
    test_refusals();
    dbfiles_end(&files);
    return tap_done(&T);
}
