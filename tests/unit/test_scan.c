/*
** test_scan.c — the re2c lexers: which names are migrations, and which
** comments are directives.
*/
#include "scan.h"
#include "sqlmig.h"
#include "tap.h"

#include <string.h>

static void name_case(struct tap *t, const char *file, enum scan_name_kind kind,
                      int64_t version, const char *name)
{
    struct scan_name sn;
    int ok;

    scan_file_name(file, &sn);
    ok = sn.kind == kind;
    if (ok && name) {
        size_t n = strlen(name);
        ok = sn.version == version && sn.name_end - sn.name_start == n &&
             memcmp(file + sn.name_start, name, n) == 0;
    }
    tap_ok(t, ok, "file name '%s' is kind %d version %lld name '%s'", file, (int)kind,
           (long long)version, name ? name : "-");
    if (!ok)
        tap_diag("got kind %d version %lld problem %s", (int)sn.kind, (long long)sn.version,
                 sn.problem ? sn.problem : "-");
}

static void malformed_case(struct tap *t, const char *file, const char *problem_part)
{
    struct scan_name sn;

    scan_file_name(file, &sn);
    tap_ok(t, sn.kind == SCAN_MALFORMED && sn.problem && strstr(sn.problem, problem_part),
           "'%s' is malformed: ...%s...", file, problem_part);
    if (sn.kind == SCAN_MALFORMED && sn.problem && !strstr(sn.problem, problem_part))
        tap_diag("problem was: %s", sn.problem);
}

static void layout_case(struct tap *t, enum scan_layout layout, const char *file, enum scan_name_kind kind,
                        int64_t version, const char *version_text, const char *name, const char *problem_part)
{
    struct scan_name sn;
    size_t n = name ? strlen(name) : 0, v = version_text ? strlen(version_text) : 0;
    int ok;

    scan_layout_name(layout, file, &sn);
    ok = sn.kind == kind;
    if (ok && kind == SCAN_MALFORMED)
        ok = sn.problem && strstr(sn.problem, problem_part);
    else if (ok && kind != SCAN_IGNORED)
        ok = sn.version == version && sn.name_end - sn.name_start == n && memcmp(file + sn.name_start, name, n) == 0 &&
             (!version_text || (sn.version_end - sn.version_start == v &&
                                memcmp(file + sn.version_start, version_text, v) == 0));
    tap_ok(t, ok, "layout %d: '%s' is kind %d version %lld name '%s'", (int)layout, file, (int)kind,
           (long long)version, name ? name : "-");
    if (!ok)
        tap_diag("got kind %d version %lld problem %s", (int)sn.kind, (long long)sn.version,
                 sn.problem ? sn.problem : "-");
}

/* A file with sections: their count, the up section's SQL, the flags. */
static void sections_case(struct tap *t, enum scan_layout layout, const char *sql, int count, const char *up,
                          unsigned flags, const char *problem_part)
{
    struct scan_sql ss;
    int ok;

    scan_sql_layout(layout, sql, strlen(sql), &ss);
    if (problem_part) {
        ok = ss.problem && strstr(ss.problem, problem_part);
    } else {
        ok = !ss.problem && ss.section_count == count && (ss.flags | (count ? ss.sections[0].flags : 0)) == flags;
        if (ok && up)
            ok = ss.sections[0].end - ss.sections[0].body == strlen(up) &&
                 memcmp(sql + ss.sections[0].body, up, strlen(up)) == 0;
    }
    tap_ok(t, ok, "layout %d: %d sections, flags %u, %s", (int)layout, count, flags,
           problem_part ? problem_part : "no problem");
    if (!ok)
        tap_diag("got %d sections, flags %u, problem %s", ss.section_count, ss.flags,
                 ss.problem ? ss.problem : "-");
}

static void sql_case(struct tap *t, const char *sql, unsigned flags, const char *problem_part,
                     size_t offset)
{
    struct scan_sql ss;

    scan_sql(sql, strlen(sql), &ss);
    if (problem_part)
        tap_ok(t, ss.problem && strstr(ss.problem, problem_part) && ss.error_offset == offset,
               "problem '%s' at offset %zu", problem_part, offset);
    else
        tap_ok(t, !ss.problem && ss.flags == flags, "flags %u, no problem", flags);
    if (ss.problem && !problem_part)
        tap_diag("unexpected problem: %s", ss.problem);
}

static void journal_case(struct tap *t, const char *json, size_t count, const char *problem_part)
{
    struct scan_journal j;
    const char *problem = NULL;
    size_t at = 0;
    int rc = scan_journal(json, strlen(json), &j, &at, &problem);

    if (problem_part)
        tap_ok(t, rc != 0 && problem && strstr(problem, problem_part), "journal refused: %s", problem_part);
    else
        tap_ok(t, rc == 0 && j.count == count, "journal with %zu entries", count);
    if ((rc != 0) != (problem_part != NULL))
        tap_diag("got rc %d, problem %s at %zu", rc, problem ? problem : "-", at);
    if (rc == 0)
        scan_journal_free(&j);
}

static void journal_cases(struct tap *t)
{
    static const char good[] =
        "{\n  \"version\": \"7\",\n  \"dialect\": \"sqlite\",\n  \"entries\": [\n"
        "    {\"idx\": 0, \"version\": \"6\", \"when\": 1716377234576, \"tag\": \"0000_init_tables\", "
        "\"breakpoints\": true},\n"
        "    {\"idx\": 1, \"version\": \"6\", \"when\": 1716377299999, \"tag\": \"0001_add\", "
        "\"breakpoints\": true, \"extra\": {\"a\": [1, 2.5e3, null, \"\\u00e9\"]}}\n  ]\n}\n";
    struct scan_journal j;
    const char *problem = NULL;
    size_t at = 0;

    tap_ok(t, scan_journal(good, sizeof good - 1, &j, &at, &problem) == 0 && j.count == 2 &&
               strcmp(j.entries[0].tag, "0000_init_tables") == 0 && j.entries[0].when == 1716377234576 &&
               j.entries[0].line == 5 && strcmp(j.entries[1].tag, "0001_add") == 0,
           "a drizzle-kit journal: tags, times and lines in order");
    if (!problem)
        scan_journal_free(&j);
    journal_case(t, "{\"dialect\":\"sqlite\",\"entries\":[]}", 0, NULL);
    journal_case(t, "{\"dialect\":\"postgresql\",\"entries\":[]}", 0, "another dialect");
    journal_case(t, "{\"entries\":[{\"tag\":\"a\"}]}", 0, "without its 'tag' or 'when'");
    journal_case(t, "{\"entries\":[{\"tag\":\"../x\",\"when\":1}]}", 0, "cannot name a file");
    journal_case(t, "{\"entries\":[{\"tag\":\"a\",\"when\":1.5}]}", 0, "whole number");
    journal_case(t, "{\"entries\":[]} x", 0, "goes on after");
    journal_case(t, "{\"entries\":[}", 0, "entry must be an object");
    journal_case(t, "[]", 0, "JSON object");
    journal_case(t, "{\"version\":\"7\"}", 0, "no 'entries'");
}

int main(void)
{
    struct tap t = { 0, 0 };
    static const char with_nul[] = "SELECT 1;\n-- x\0 SELECT 2;";
    struct scan_sql ss;

    name_case(&t, "0001_create_users.sql", SCAN_PLAIN, 1, "create_users");
    name_case(&t, "1_a.sql", SCAN_PLAIN, 1, "a");
    name_case(&t, "20240501120000_add.index.sql", SCAN_PLAIN, 20240501120000, "add.index");
    name_case(&t, "0002_users.up.sql", SCAN_UP, 2, "users");
    name_case(&t, "0002_users.down.sql", SCAN_DOWN, 2, "users");
    name_case(&t, "9223372036854775807_max.sql", SCAN_PLAIN, INT64_C(9223372036854775807), "max");
    name_case(&t, "0003_with space.sql", SCAN_PLAIN, 3, "with space");
    name_case(&t, "README.md", SCAN_IGNORED, 0, NULL);
    name_case(&t, ".gitkeep", SCAN_IGNORED, 0, NULL);
    name_case(&t, ".0001_x.sql.swp", SCAN_IGNORED, 0, NULL);
    name_case(&t, ".#0001_x.sql", SCAN_IGNORED, 0, NULL);
    name_case(&t, "0001_x.sql~", SCAN_IGNORED, 0, NULL);
    name_case(&t, "notes.txt", SCAN_IGNORED, 0, NULL);
    name_case(&t, "0001_x.sql.orig", SCAN_IGNORED, 0, NULL);
    name_case(&t, "0001_abcsql", SCAN_IGNORED, 0, NULL);
    name_case(&t, "0001sql", SCAN_IGNORED, 0, NULL);

    malformed_case(&t, "9223372036854775808_over.sql", "64-bit");
    malformed_case(&t, "99999999999999999999999_over.sql", "64-bit");
    malformed_case(&t, "0_zero.sql", "version 0 is reserved");
    malformed_case(&t, "0001-create.sql", "must be followed by '_'");
    name_case(&t, "0001.sql", SCAN_PLAIN, 1, "");
    name_case(&t, "0002.up.sql", SCAN_UP, 2, "");
    malformed_case(&t, "0001_.sql", "is empty");
    malformed_case(&t, "0001_.up.sql", "is empty");
    malformed_case(&t, "0001_.hidden.sql", "must not start with '.'");
    malformed_case(&t, "0001.create.sql", "must be followed by '_'");
    malformed_case(&t, "0001_X.SQL", "lower case");
    malformed_case(&t, "0002_t.DOWN.sql", "'.up.sql' or '.down.sql' in lower case");
    malformed_case(&t, "0002_t.Up.sql", "'.up.sql' or '.down.sql' in lower case");
    malformed_case(&t, "create_users.sql", "starts with its version");
    malformed_case(&t, "V1__init.sql", "starts with its version");
    malformed_case(&t, "schema.SQL", "starts with its version");

    sql_case(&t, "CREATE TABLE t(x);\n", 0, NULL, 0);
    sql_case(&t, "-- sqlmig:no-transaction\nVACUUM;\n", SQLMIG_NO_TRANSACTION, NULL, 0);
    sql_case(&t, "  \t-- sqlmig:no-transaction \r\nVACUUM;\r\n", SQLMIG_NO_TRANSACTION, NULL, 0);
    sql_case(&t, "--sqlmig: no-transaction\nVACUUM;\n", SQLMIG_NO_TRANSACTION, NULL, 0);
    sql_case(&t, "SELECT 1;\n-- sqlmig:no-transaction\n", SQLMIG_NO_TRANSACTION, NULL, 0);
    /* Not at the start of a line: an ordinary comment. */
    sql_case(&t, "SELECT 1; -- sqlmig:no-transaction\n", 0, NULL, 0);
    /* Inside a string literal, quoted identifier or block comment: not directives. */
    sql_case(&t, "SELECT '\n-- sqlmig:no-transaction\n';\n", 0, NULL, 0);
    sql_case(&t, "SELECT 'it''s\n-- sqlmig:no-transaction\n';\n", 0, NULL, 0);
    sql_case(&t, "SELECT \"a\n-- sqlmig:no-transaction\n\" FROM t;\n", 0, NULL, 0);
    sql_case(&t, "SELECT [a\n-- sqlmig:no-transaction\n] FROM t;\n", 0, NULL, 0);
    sql_case(&t, "SELECT `a\n-- sqlmig:no-transaction\n` FROM t;\n", 0, NULL, 0);
    sql_case(&t, "/* start\n-- sqlmig:no-transaction\n*/ SELECT 1;\n", 0, NULL, 0);
    sql_case(&t, "/* unterminated\n-- sqlmig:no-transaction\n", 0, NULL, 0);
    /* After a block comment closes, a directive counts again. */
    sql_case(&t, "/* a */\n-- sqlmig:no-transaction\n", SQLMIG_NO_TRANSACTION, NULL, 0);
    sql_case(&t, "SELECT 'a';\n-- sqlmig:no-transaction\n", SQLMIG_NO_TRANSACTION, NULL, 0);
    /* Unknown directives are typos, never ignored. */
    sql_case(&t, "SELECT 1;\n-- sqlmig:no-transactions\n", 0, "unknown sqlmig directive", 20);
    sql_case(&t, "-- SQLMIG:notx\n", 0, "unknown sqlmig directive", 10);
    /* Other tools' section markers would run the down part as up: refused. */
    sql_case(&t, "-- +goose Up\nCREATE TABLE t(x);\n-- +goose Down\nDROP TABLE t;\n", 0,
             "another tool's section marker", 0);
    sql_case(&t, "CREATE TABLE t(x);\n-- migrate:down\nDROP TABLE t;\n", 0,
             "another tool's section marker", 19);
    sql_case(&t, "-- migrate: the users table moves\nCREATE TABLE t(x);\n", 0, NULL, 0);
    sql_case(&t, "SELECT '\n-- +goose Down\n';\n", 0, NULL, 0);
    /* Other layouts' names. */
    layout_case(&t, LAYOUT_GOLANG_MIGRATE, "000001_create_users.up.sql", SCAN_UP, 1, "000001", "create_users", NULL);
    layout_case(&t, LAYOUT_GOLANG_MIGRATE, "1_flags..up.sql", SCAN_UP, 1, NULL, "flags.", NULL);
    layout_case(&t, LAYOUT_GOLANG_MIGRATE, "1_a.up.b.down.sql", SCAN_DOWN, 1, NULL, "a.up.b", NULL);
    layout_case(&t, LAYOUT_GOLANG_MIGRATE, "2_x.up.txt", SCAN_UP, 2, NULL, "x", NULL);
    layout_case(&t, LAYOUT_GOLANG_MIGRATE, "1_init.sql", SCAN_MALFORMED, 0, NULL, NULL, "golang-migrate");
    layout_case(&t, LAYOUT_GOOSE, "00001_create.sql", SCAN_SECTIONS, 1, "00001", "create", NULL);
    layout_case(&t, LAYOUT_GOOSE, "00002_seed.go", SCAN_MALFORMED, 0, NULL, NULL, "Go");
    layout_case(&t, LAYOUT_GOOSE, "0003.sql", SCAN_MALFORMED, 0, NULL, NULL, "goose");
    layout_case(&t, LAYOUT_GOOSE, "0_x.sql", SCAN_MALFORMED, 0, NULL, NULL, "version 0");
    layout_case(&t, LAYOUT_DBMATE, "20151129054053_test_migration.sql", SCAN_SECTIONS, 20151129054053, NULL,
                "test_migration", NULL);
    layout_case(&t, LAYOUT_DBMATE, "001.sql", SCAN_SECTIONS, 1, NULL, "", NULL);
    layout_case(&t, LAYOUT_DBMATE, "schema.sql", SCAN_MALFORMED, 0, NULL, NULL, "dbmate");
    layout_case(&t, LAYOUT_DIESEL, "2020-01-01-000000_init", SCAN_PLAIN, 20200101000000, "2020-01-01-000000",
                "init", NULL);
    layout_case(&t, LAYOUT_DIESEL, "00000000000000_diesel_initial_setup", SCAN_MALFORMED, 0, NULL, NULL,
                "version 0");
    layout_case(&t, LAYOUT_DIESEL, "target", SCAN_IGNORED, 0, NULL, NULL, NULL);
    layout_case(&t, LAYOUT_FLYWAY, "V1__init.sql", SCAN_PLAIN, 0, "1", "init", NULL);
    layout_case(&t, LAYOUT_FLYWAY, "V1_2__x.sql", SCAN_PLAIN, 0, "1_2", "x", NULL);
    layout_case(&t, LAYOUT_FLYWAY, "V1.2.10__add_users.sql", SCAN_PLAIN, 0, "1.2.10", "add_users", NULL);
    layout_case(&t, LAYOUT_FLYWAY, "V2__3rd_try.sql", SCAN_PLAIN, 0, "2", "3rd_try", NULL);
    layout_case(&t, LAYOUT_FLYWAY, "U3__undo.sql", SCAN_DOWN, 0, "3", "undo", NULL);
    layout_case(&t, LAYOUT_FLYWAY, "R__views.sql", SCAN_REPEATABLE, 0, NULL, "views", NULL);
    layout_case(&t, LAYOUT_FLYWAY, "R__.sql", SCAN_MALFORMED, 0, NULL, NULL, "V<version>__");
    layout_case(&t, LAYOUT_FLYWAY, "V1.2.sql", SCAN_MALFORMED, 0, NULL, NULL, "Flyway");
    layout_case(&t, LAYOUT_FLYWAY, "afterMigrate.sql", SCAN_MALFORMED, 0, NULL, NULL, "callback");
    layout_case(&t, LAYOUT_FLYWAY, "beforeEachMigrate__log.sql", SCAN_MALFORMED, 0, NULL, NULL, "callback");
    layout_case(&t, LAYOUT_FLYWAY, "V1__x.sql.conf", SCAN_IGNORED, 0, NULL, NULL, NULL);

    /* goose sections and annotations. */
    sections_case(&t, LAYOUT_GOOSE, "-- +goose Up\nCREATE TABLE t(x);\n-- +goose Down\nDROP TABLE t;\n", 2,
                  "CREATE TABLE t(x);\n", 0, NULL);
    sections_case(&t, LAYOUT_GOOSE, "-- +goose up\r\nSELECT 1;\r\n", 1, "SELECT 1;\r\n", 0, NULL);
    sections_case(&t, LAYOUT_GOOSE, "-- +goose NO TRANSACTION\n-- +goose Up\nVACUUM;\n", 1, "VACUUM;\n",
                  SQLMIG_NO_TRANSACTION, NULL);
    sections_case(&t, LAYOUT_GOOSE,
                  "-- +goose Up\n-- +goose StatementBegin\nCREATE TRIGGER r AFTER INSERT ON t BEGIN\n"
                  "  SELECT CASE WHEN 1 THEN 2 END;\nEND;\n-- +goose StatementEnd\n", 1, NULL, 0, NULL);
    sections_case(&t, LAYOUT_GOOSE, "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n", 1, NULL, 0,
                  "not closed");
    sections_case(&t, LAYOUT_GOOSE, "-- +goose Up\n-- +goose StatementEnd\n", 1, NULL, 0, "without");
    sections_case(&t, LAYOUT_GOOSE, "-- +goose Down\nDROP TABLE t;\n-- +goose Up\n", 0, NULL, 0,
                  "before the up section");
    sections_case(&t, LAYOUT_GOOSE, "-- +goose Up\nSELECT 1;\n-- +goose Up\n", 0, NULL, 0, "second up");
    sections_case(&t, LAYOUT_GOOSE, "-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;\n-- +goose Up\nSELECT 3;\n", 0,
                  NULL, 0, "second up");
    sections_case(&t, LAYOUT_DBMATE, "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n-- migrate:down\n", 0, NULL,
                  0, "second down");
    sections_case(&t, LAYOUT_GOOSE, " -- +goose Up\nSELECT 1;\n", 0, NULL, 0, "must start its line");
    sections_case(&t, LAYOUT_GOOSE, "-- +goose Upp\n", 0, NULL, 0, "unknown goose annotation");
    sections_case(&t, LAYOUT_GOOSE, "-- +goose ENVSUB ON\n-- +goose Up\n", 0, NULL, 0, "ENVSUB");
    sections_case(&t, LAYOUT_GOOSE, "-- +goose Up\nSELECT '\n-- +goose Down\n';\n", 1, NULL, 0, NULL);
    sections_case(&t, LAYOUT_GOOSE, "-- migrate:up\nSELECT 1;\n", 0, NULL, 0, "another tool's section marker");
    /* dbmate. */
    sections_case(&t, LAYOUT_DBMATE, "-- migrate:up\nCREATE TABLE t(x);\n\n-- migrate:down\nDROP TABLE t;\n", 2,
                  "CREATE TABLE t(x);\n\n", 0, NULL);
    sections_case(&t, LAYOUT_DBMATE, "-- migrate:up transaction:false\nVACUUM;\n-- migrate:down\n", 2, "VACUUM;\n",
                  SQLMIG_NO_TRANSACTION, NULL);
    sections_case(&t, LAYOUT_DBMATE, "-- migrate:up transaction:maybe\n", 0, NULL, 0, "unknown dbmate option");
    /* A directive belongs to its section: the down part's does not move the up part. */
    sections_case(&t, LAYOUT_DBMATE, "-- migrate:up\nCREATE TABLE t(x);\n-- migrate:down\n-- sqlmig:no-transaction\n"
                  "VACUUM;\n", 2, "CREATE TABLE t(x);\n", 0, NULL);
    sections_case(&t, LAYOUT_DBMATE, "-- migrate:upgrade the table\nSELECT 1;\n", 0, NULL, 0, NULL);
    sections_case(&t, LAYOUT_DBMATE, "-- +goose Up\n", 0, NULL, 0, "another tool's section marker");
    /* sqlx: only a first line of its own. */
    sections_case(&t, LAYOUT_SQLX, "-- no-transaction\nVACUUM;\n", 0, NULL, SQLMIG_NO_TRANSACTION, NULL);
    sections_case(&t, LAYOUT_SQLX, "\n-- no-transaction\nVACUUM;\n", 0, NULL, 0, NULL);
    sections_case(&t, LAYOUT_PLAIN, "-- no-transaction\nVACUUM;\n", 0, NULL, 0, NULL);
    /* A statement that starts with BEGIN wraps the file; a trigger's does not. */
    {
        static const char wrapped[] = "PRAGMA foreign_keys=OFF;\nBEGIN;\nCREATE TABLE t(x);\nCOMMIT;\n";
        static const char trigger[] = "CREATE TRIGGER r AFTER INSERT ON t BEGIN SELECT 1; END;";
        scan_sql(wrapped, sizeof wrapped - 1, &ss);
        tap_ok(&t, ss.wraps, "BEGIN after a ';' wraps the file");
        scan_sql(trigger, sizeof trigger - 1, &ss);
        tap_ok(&t, !ss.wraps, "a trigger's BEGIN does not");
    }

    /* A NUL byte is reported where it is, wherever it is. */
    scan_sql(with_nul, sizeof with_nul - 1, &ss);
    tap_ok(&t, ss.problem && strstr(ss.problem, "NUL byte") && ss.error_offset == 14,
           "NUL inside a comment is reported at its offset");
    scan_sql("SELECT '\0';", 11, &ss);
    tap_ok(&t, ss.problem && strstr(ss.problem, "NUL byte") && ss.error_offset == 8,
           "NUL inside a string literal is reported at its offset");
    scan_sql("", 0, &ss);
    tap_ok(&t, !ss.problem && ss.flags == 0, "empty text scans clean");

    journal_cases(&t);
    tap_ok(&t, scan_toml_bool("run_in_transaction = false\n", 27, "run_in_transaction") == 0,
           "metadata.toml: run_in_transaction = false");
    tap_ok(&t, scan_toml_bool("# x\nrun_in_transaction=true # y\r\n", 33, "run_in_transaction") == 1,
           "metadata.toml: true, with comments and CR LF");
    tap_ok(&t, scan_toml_bool("other = false\n", 14, "run_in_transaction") == 1, "metadata.toml: absent is true");
    tap_ok(&t, scan_toml_bool("run_in_transaction = \"no\"\n", 26, "run_in_transaction") == -1,
           "metadata.toml: another value is a problem");
    return tap_done(&t);
}
