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
    malformed_case(&t, "0001.sql", "must be followed by '_'");
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
    /* A NUL byte is reported where it is, wherever it is. */
    scan_sql(with_nul, sizeof with_nul - 1, &ss);
    tap_ok(&t, ss.problem && strstr(ss.problem, "NUL byte") && ss.error_offset == 14,
           "NUL inside a comment is reported at its offset");
    scan_sql("SELECT '\0';", 11, &ss);
    tap_ok(&t, ss.problem && strstr(ss.problem, "NUL byte") && ss.error_offset == 8,
           "NUL inside a string literal is reported at its offset");
    scan_sql("", 0, &ss);
    tap_ok(&t, !ss.problem && ss.flags == 0, "empty text scans clean");
    return tap_done(&t);
}
