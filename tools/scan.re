/*
** scan.re — re2c lexers for migration file names and for the directives
** inside migrations. generated/scan.c is the committed output of
**   re2c -W -Werror --no-generation-date --no-version -i -o scan.c scan.re
** and builds the tool where re2c is not installed.
*/
#include "scan.h"

#include "sqlmig.h"

#include <string.h>

/* Read the leading decimal digits of `s` into *out; 0 when they overflow int64. */
static int parse_version(const unsigned char *s, int64_t *out)
{
    int64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        int d = *s - '0';
        if (v > (INT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

static void malformed(struct scan_name *out, const char *problem)
{
    out->kind = SCAN_MALFORMED;
    out->problem = problem;
}

void scan_file_name(const char *name, struct scan_name *out)
{
    const unsigned char *cur = (const unsigned char *)name;
    size_t suffix;

    memset(out, 0, sizeof *out);
    /*!re2c
        re2c:define:YYCTYPE = "unsigned char";
        re2c:define:YYCURSOR = cur;
        re2c:yyfill:enable = 0;

        end    = "\x00";
        any    = [^\x00];
        digits = [0-9]+;
        name   = [^\x00.] any*;

        "." any* end      { out->kind = SCAN_IGNORED; return; }
        any* "~" end      { out->kind = SCAN_IGNORED; return; }

        digits "_" name ".up.sql" end   { out->kind = SCAN_UP; suffix = 7; goto split; }
        digits "_" name ".down.sql" end { out->kind = SCAN_DOWN; suffix = 9; goto split; }
        digits "_" name ('.up.sql' | '.down.sql') end {
            malformed(out, "the suffix must be '.up.sql' or '.down.sql' in lower case");
            return;
        }
        digits "_" name ".sql" end      { out->kind = SCAN_PLAIN; suffix = 4; goto split; }

        digits "_" name '.sql' end {
            malformed(out, "the extension must be '.sql' in lower case");
            return;
        }
        digits "_" "."? 'up.sql' end | digits "_" "."? 'down.sql' end | digits "_" "."? 'sql' end {
            malformed(out, "the name after the version and '_' is empty");
            return;
        }
        digits "_" "." any* '.sql' end {
            malformed(out, "the name after the version and '_' must not start with '.'");
            return;
        }
        digits '.sql' end | digits "." any* '.sql' end {
            malformed(out, "the version must be followed by '_' and a name: <version>_<name>.sql");
            return;
        }
        digits [^_.\x00] any* '.sql' end {
            malformed(out, "the version (decimal digits) must be followed by '_', as in 0001_create_users.sql");
            return;
        }
        any* '.sql' [ \t\r\n.]+ end {
            malformed(out, "blanks or dots after '.sql': the name must end in '.sql'");
            return;
        }
        any* '.sql' end {
            malformed(out, "a migration file name starts with its version: <version>_<name>.sql");
            return;
        }
        any* end { out->kind = SCAN_IGNORED; return; }
    */

split:
    if (!parse_version((const unsigned char *)name, &out->version)) {
        malformed(out, "the version does not fit a signed 64-bit integer");
        return;
    }
    if (out->version == 0) {
        malformed(out, "version 0 is reserved for the empty database; start at 1");
        return;
    }
    out->name_start = strspn(name, "0123456789") + 1;
    out->name_end = strlen(name) - suffix;
}

/* Skip to the byte that closes a quoted token; stop early at a NUL. */
static const unsigned char *skip_to(const unsigned char *p, const unsigned char *lim,
                                    unsigned char close)
{
    while (p < lim && *p != close && *p != 0)
        p++;
    return p < lim && *p == close ? p + 1 : p;
}

/* Skip a block comment body up to and including its closing star-slash. */
static const unsigned char *skip_block_comment(const unsigned char *p,
                                               const unsigned char *lim)
{
    for (; p < lim && *p != 0; p++)
        if (*p == '*' && p + 1 < lim && p[1] == '/')
            return p + 2;
    return p;
}

/* Does the token at `tok` start a line (only blanks before it on its line)? */
static int at_line_start(const unsigned char *start, const unsigned char *tok)
{
    while (tok > start && (tok[-1] == ' ' || tok[-1] == '\t'))
        tok--;
    return tok == start || tok[-1] == '\n';
}

/* Handle `-- sqlmig:<word>` spanning [tok, end): set a flag or a problem. */
static void directive(const unsigned char *tok, const unsigned char *end,
                      const unsigned char *start, struct scan_sql *out)
{
    static const struct {
        const char *word;
        unsigned flag;
    } known[] = { { "no-transaction", SQLMIG_NO_TRANSACTION }, { "attach", SQLMIG_ATTACH } };
    const unsigned char *w = (const unsigned char *)memchr(tok, ':', (size_t)(end - tok)) + 1;
    size_t i;

    while (w < end && (*w == ' ' || *w == '\t'))
        w++;
    while (end > w && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    for (i = 0; i < sizeof known / sizeof known[0]; i++)
        if ((size_t)(end - w) == strlen(known[i].word) && memcmp(w, known[i].word, (size_t)(end - w)) == 0) {
            out->flags |= known[i].flag;
            return;
        }
    if (!out->problem) {
        out->problem = "unknown sqlmig directive (the known ones are '-- sqlmig:no-transaction' and "
                       "'-- sqlmig:attach')";
        out->error_offset = (size_t)(w - start);
    }
}

/* A word of SQL: the text has a statement; some words reshape the schema. */
static void word(const unsigned char *tok, const unsigned char *end, struct scan_sql *out)
{
    static const char *const reshaping[] = { "drop", "alter", "vacuum", "writable_schema" };
    size_t i, n = (size_t)(end - tok), k;

    out->statements = 1;
    for (i = 0; i < sizeof reshaping / sizeof reshaping[0]; i++) {
        if (strlen(reshaping[i]) != n)
            continue;
        for (k = 0; k < n && (tok[k] | 0x20) == reshaping[i][k]; k++) {}
        if (k == n)
            out->reshapes = 1;
    }
}

/*
** Another tool's section marker: running both sections as one migration
** would apply the down part right after the up part, so it is refused.
*/
static void foreign_marker(const unsigned char *tok, const unsigned char *start,
                           struct scan_sql *out)
{
    if (out->problem)
        return;
    out->problem = "another tool's section marker (goose '-- +goose', dbmate '-- migrate:'): "
                   "sqlmig does not read sections; put the up part in <version>_<name>.up.sql "
                   "and the down part in <version>_<name>.down.sql";
    out->error_offset = (size_t)(tok - start);
}

void scan_sql(const char *text, size_t len, struct scan_sql *out)
{
    const unsigned char *start = (const unsigned char *)text;
    const unsigned char *cur = start, *lim = start + len, *tok;

    memset(out, 0, sizeof *out);
    for (;;) {
        tok = cur;
        /*!re2c
            re2c:define:YYCTYPE = "unsigned char";
            re2c:define:YYCURSOR = cur;
                re2c:define:YYLIMIT = lim;
            re2c:yyfill:enable = 0;
            re2c:eof = 0;

            $ { return; }

            "\x00" {
                if (!out->problem) {
                    out->problem = "NUL byte in a migration (SQLite would stop reading here)";
                    out->error_offset = (size_t)(tok - start);
                }
                return;
            }

            "--" [ \t]* 'sqlmig:' [^\n\x00]* {
                if (at_line_start(start, tok))
                    directive(tok, cur, start, out);
                continue;
            }
            "--" [ \t]* "+goose" [ \t] [^\n\x00]* {
                if (at_line_start(start, tok))
                    foreign_marker(tok, start, out);
                continue;
            }
            "--" [ \t]* "migrate:" ("up" | "down") [^\n\x00]* {
                if (at_line_start(start, tok))
                    foreign_marker(tok, start, out);
                continue;
            }
            "--" [^\n\x00]*   { continue; }
            "/*"              { cur = skip_block_comment(cur, lim); continue; }
            ['"`]             { out->statements = 1; cur = skip_to(cur, lim, *tok); continue; }
            "["               { out->statements = 1; cur = skip_to(cur, lim, ']'); continue; }
            [a-zA-Z_\x80-\xff] [a-zA-Z0-9_$\x80-\xff]* { word(tok, cur, out); continue; }
            [ \t\r\n\f\v;]    { continue; }
            *                 { out->statements = 1; continue; }
        */
    }
}
