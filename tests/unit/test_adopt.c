/*
** test_adopt.c — databases made without sqlmig: the old startup code of a
** notes application, emulated at several past versions (each written the
** way such code is: lower case, IF NOT EXISTS, quotes, other blanks,
** ALTER TABLE in place of a new CREATE), refused by sqlmig_migrate() with
** SQLMIG_UNADOPTED, then adopted by sqlmig_adopt() at the version found
** from the schema, given, or mapped from PRAGMA user_version, and migrated
** on; schemas no version has, and versions that share one, refused with
** each difference named. The set is tests/fixtures/adopt, compiled by the
** build. Prints TAP.
*/
#include "adopt_set.h"
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
#include <sys/wait.h>
#include <unistd.h>

static struct tap T;
#define OK(cond, ...) tap_ok(&T, (cond), __VA_ARGS__)

/* The old startup code, release by release. */
#define OLD_V1 "create table if not exists notes ( id integer primary key, body text not null );" \
               "insert into notes(body) values ('first');"
#define OLD_V2 OLD_V1 "alter table notes add column created_at text;"
#define OLD_V4 OLD_V2                                                                                  \
    "CREATE TABLE IF NOT EXISTS \"tags\"(id integer primary key,name text not null unique);"          \
    "create table if not exists [note_tags] ( /* which note has which tag */ note_id integer not null " \
    "references notes(id) on delete cascade, tag_id integer not null references tags(id), "          \
    "primary key(note_id, tag_id));"                                                                  \
    "insert or ignore into tags(name) values ('inbox');"
#define OLD_V5 OLD_V4                                                                                  \
    "create index if not exists notes_created_at on notes(created_at);"                               \
    "create view if not exists tagged_notes as select n.id, n.body, t.name as tag from notes as n "    \
    "join note_tags as nt on nt.note_id = n.id join tags as t on t.id = nt.tag_id;"                   \
    "create trigger if not exists notes_stamp after insert on notes when new.created_at is null "      \
    "begin update notes set created_at = '2000-01-01' where id = new.id; end;"

static struct dbfiles files;

/* A new database file that the old startup code made. */
static sqlite3 *made_by(const char *old_code)
{
    sqlite3 *db = dbfiles_open(&files);

    if (old_code)
        setup_exec(db, old_code);
    return db;
}

static int adopt(sqlite3 *db, const struct sqlmig_adoption *how, unsigned flags, struct log *l, sqlmig_result *r)
{
    sqlmig_options o;
    memset(&o, 0, sizeof o);
    memset(l, 0, sizeof *l);
    o.flags = flags;
    o.log = on_log;
    o.log_ctx = l;
    return sqlmig_adopt(db, &adopt_set, &o, how, r);
}

static void test_found_from_the_schema(void)
{
    static const struct { const char *code; int64_t version; } shapes[] = {
        { OLD_V1, 1 }, { OLD_V2, 2 }, { OLD_V5, 5 },
    };
    sqlmig_result r;
    struct log l;
    size_t i;
    int rc;

    for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        sqlite3 *db = made_by(shapes[i].code);
        rc = sqlmig_migrate(db, &adopt_set, NULL, &r);
        OK(rc == SQLMIG_UNADOPTED && strstr(r.message, "holds table notes, which 0001_notes.sql creates"),
           "old release at version %lld: sqlmig_migrate() refuses it, naming what it found (%s)",
           (long long)shapes[i].version, r.message);
        OK(!has_table(db, "schema_migrations") && qint(db, "SELECT count(*) FROM notes") == 1,
           "  and changes nothing");
        rc = adopt(db, NULL, 0, &l, &r);
        OK(rc == SQLMIG_OK && r.to_version == shapes[i].version && r.applied == (size_t)shapes[i].version
           && qint(db, "SELECT count(*) FROM schema_migrations WHERE execution_ms = -2") == shapes[i].version,
           "  adopted at version %lld, found from its schema: rows marked adopted (%s)",
           (long long)shapes[i].version, r.message);
        rc = sqlmig_migrate(db, &adopt_set, NULL, &r);
        OK(rc == SQLMIG_OK && r.from_version == shapes[i].version && r.to_version == 5
           && r.applied == (size_t)(5 - shapes[i].version), "  then migrated from there to version 5 (%s)",
           r.message);
        rc = sqlmig_verify(db, &adopt_set, NULL, &r);
        OK(rc == SQLMIG_OK && qint(db, "SELECT count(*) FROM notes WHERE body = 'first'") == 1
           && qint(db, "SELECT count(*) FROM tags WHERE name = 'inbox'") == 1,
           "  verify finds no drift; its rows kept, the later data migration ran (%s)", r.message);
        setup_close(db);
    }
}

static void test_given_or_mapped(void)
{
    static const int64_t map[] = { 1, 1, 2, 2, 3, 4 };
    struct sqlmig_adoption how;
    sqlmig_result r;
    struct log l;
    sqlite3 *db = made_by(OLD_V4);
    int rc;

    /* Versions 3 and 4 have one schema: only the program knows whether 4 ran. */
    rc = sqlmig_migrate(db, &adopt_set, NULL, &r);
    OK(rc == SQLMIG_UNADOPTED && strstr(r.message, "versions 3 to 4"), "migrate names both candidates (%s)",
       r.message);
    rc = adopt(db, NULL, 0, &l, &r);
    OK(rc == SQLMIG_TARGET && strstr(r.message, "versions 3 to 4") && !has_table(db, "schema_migrations"),
       "found from the schema: two versions share it, refused, nothing written (%s)", r.message);
    memset(&how, 0, sizeof how);
    how.version = 4;
    rc = adopt(db, &how, SQLMIG_DRY_RUN, &l, &r);
    OK(rc == SQLMIG_OK && r.to_version == 4 && !has_table(db, "schema_migrations")
       && logged(&l, "would adopt version 4"), "a dry run checks and writes nothing (%s)", r.message);
    rc = adopt(db, &how, 0, &l, &r);
    OK(rc == SQLMIG_OK && r.to_version == 4 && qint(db, "SELECT max(version) FROM schema_migrations") == 4,
       "given version 4: adopted (%s)", r.message);
    rc = adopt(db, &how, 0, &l, &r);
    OK(rc == SQLMIG_OK && r.applied == 0 && strstr(r.message, "has a ledger already, at version 4"),
       "adopting again: nothing to do, said so (%s)", r.message);
    setup_close(db);

    /* user_version as the old code kept it: 3 meant what is now version 4. */
    db = made_by(OLD_V4 "PRAGMA user_version = 3;");
    how.version = 0;
    how.user_versions = map;
    how.user_version_pairs = 3;
    rc = adopt(db, &how, 0, &l, &r);
    OK(rc == SQLMIG_OK && r.to_version == 4, "user_version 3 mapped to version 4: adopted (%s)", r.message);
    setup_close(db);
    db = made_by(OLD_V2 "PRAGMA user_version = 7;");
    rc = adopt(db, &how, 0, &l, &r);
    OK(rc == SQLMIG_TARGET && strstr(r.message, "user_version is 7"), "an unmapped user_version is named (%s)",
       r.message);
    setup_exec(db, "PRAGMA user_version = 1");
    rc = adopt(db, &how, 0, &l, &r);
    OK(rc == SQLMIG_DRIFT && strstr(r.message, "table notes differs from the schema at version 1")
       && !has_table(db, "schema_migrations"), "a user_version that does not match the schema: refused (%s)",
       r.message);
    setup_close(db);
}

static void test_differences_named(void)
{
    struct sqlmig_adoption how;
    sqlmig_result r;
    struct log l;
    sqlite3 *db = made_by(OLD_V2 "create index notes_body on notes(body);");
    int rc;

    rc = sqlmig_migrate(db, &adopt_set, NULL, &r);
    OK(rc == SQLMIG_UNADOPTED && strstr(r.message, "no version's: the closest is version 2, with 1 difference"),
       "migrate: a schema no version has, and the closest (%s)", r.message);
    rc = adopt(db, NULL, 0, &l, &r);
    OK(rc == SQLMIG_DRIFT && strstr(r.message, "index notes_body is not in the schema at version 2")
       && strstr(r.message, "version 2 is the closest") && !has_table(db, "schema_migrations"),
       "adopt: the extra index named, nothing written (%s)", r.message);
    memset(&how, 0, sizeof how);
    how.version = 5;
    rc = adopt(db, &how, 0, &l, &r);
    OK(rc == SQLMIG_DRIFT && strstr(r.message, "(6 differences in all)")
       && logged(&l, "table tags is missing from the schema at version 5")
       && logged(&l, "view tagged_notes is missing from the schema at version 5")
       && logged(&l, "index notes_body is not in the schema at version 5"),
       "at a version given: every difference logged, the count in the message (%s)", r.message);
    setup_close(db);

    /* A column of another type is a redefinition, however it is spelled. */
    db = made_by("CREATE TABLE notes(id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
    how.version = 1;
    rc = adopt(db, &how, 0, &l, &r);
    OK(rc == SQLMIG_DRIFT && strstr(r.message, "table notes differs from the schema at version 1"),
       "another column type: differs (%s)", r.message);
    setup_close(db);
}

static void test_not_adopted(void)
{
    sqlmig_result r;
    struct log l;
    sqlite3 *db = made_by("CREATE TABLE app_settings(k TEXT PRIMARY KEY, v TEXT)");
    int rc;

    rc = sqlmig_migrate(db, &adopt_set, NULL, &r);
    OK(rc == SQLMIG_OK && r.applied == 5, "tables of the host's own only: migrated as before, not refused (%s)",
       r.message);
    setup_close(db);
    db = made_by(NULL);
    rc = adopt(db, NULL, 0, &l, &r);
    OK(rc == SQLMIG_TARGET && strstr(r.message, "nothing to adopt"), "an empty database: nothing to adopt (%s)",
       r.message);
    OK(sqlmig_adopt(db, &(struct sqlmig_set){ adopt_set.migrations, adopt_set.count, NULL, 0, NULL, 0, NULL, 0, 0,
                                              NULL, 0, NULL, 0, NULL, NULL }, NULL, NULL, &r) == SQLMIG_MISUSE,
       "a set without recorded changes cannot adopt: misuse");
    OK(sqlmig_fingerprint("table", "CREATE TABLE \"Notes\" ( id  integer /* key */ primary key )")
       == sqlmig_fingerprint("table", "create table notes(ID INTEGER PRIMARY KEY)")
       && sqlmig_fingerprint("table", "CREATE TABLE t(x DEFAULT 'a')")
       != sqlmig_fingerprint("table", "CREATE TABLE t(x DEFAULT 'A')")
       && sqlmig_fingerprint("table", "CREATE TABLE t(x)") != sqlmig_fingerprint("index", "CREATE TABLE t(x)"),
       "fingerprints: case, blanks, comments and quotes of names do not count; strings and the type do");
    setup_close(db);
}

/* Processes that start together on a database made without sqlmig: each
** one adopts, then migrates, as docs/adopting.md's startup code does. */
static void test_concurrent_starters(void)
{
    char path[128];
    sqlite3 *db = made_by(OLD_V2);
    pid_t pid[4];
    int i, status, good = 0;

    dbfiles_path(&files, files.count, path, sizeof path);
    setup_close(db);
    for (i = 0; i < 4; i++) {
        if ((pid[i] = fork()) < 0)
            setup_die("fork");
        if (pid[i] == 0) {
            sqlmig_options o;
            sqlmig_result r;
            int rc;
            memset(&o, 0, sizeof o);
            o.busy_timeout_ms = 10000;
            if (sqlite3_open(path, &db) != SQLITE_OK)
                _exit(3);
            rc = sqlmig_migrate(db, &adopt_set, &o, &r);
            if (rc == SQLMIG_UNADOPTED && (rc = sqlmig_adopt(db, &adopt_set, &o, NULL, &r)) == SQLMIG_OK)
                rc = sqlmig_migrate(db, &adopt_set, &o, &r);
            sqlite3_close(db);
            _exit(rc == SQLMIG_OK && r.to_version == 5 ? 0 : 1);
        }
    }
    for (i = 0; i < 4; i++)
        good += waitpid(pid[i], &status, 0) == pid[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        setup_die("open");
    OK(good == 4 && qint(db, "SELECT count(*) FROM schema_migrations") == 5
       && qint(db, "SELECT count(*) FROM schema_migrations WHERE execution_ms = -2") == 2
       && qint(db, "SELECT count(*) FROM tags WHERE name = 'inbox'") == 1,
       "four processes starting together: adopted once at version 2, versions 3 to 5 applied once (%d of 4 ok)", good);
    setup_close(db);
}

int main(void)
{
    dbfiles_start(&files, "adopt");
    test_found_from_the_schema();
    test_given_or_mapped();
    test_differences_named();
    test_not_adopted();
    test_concurrent_starters();
    dbfiles_end(&files);
    return tap_done(&T);
}
