/*
** scan.re — re2c lexers for migration file names and for the directives
** inside migrations. generated/scan.c is the committed output of
**   re2c -W -Werror --no-generation-date --no-version -i -o scan.c scan.re
** and builds the tool where re2c is not installed.
*/
#include "scan.h"

#include "sqlmig.h"

#include <stdlib.h>
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

/*
** The version, and the name between the first '_' after the version and the
** suffix (empty without '_'). Returns 0 after marking a bad version.
*/
static int name_parts(const char *name, size_t suffix, struct scan_name *out)
{
    size_t digits = strspn(name, "0123456789"), len = strlen(name);

    out->version_start = 0;
    out->version_end = digits;
    if (!parse_version((const unsigned char *)name, &out->version)) {
        malformed(out, "the version does not fit a signed 64-bit integer");
        return 0;
    }
    if (out->version == 0) {
        malformed(out, "version 0 is reserved for the empty database; start at 1");
        return 0;
    }
    out->name_start = name[digits] == '_' ? digits + 1 : digits;
    out->name_end = len - suffix > out->name_start ? len - suffix : out->name_start;
    return 1;
}

/* diesel: a folder <version>[_<name>], the version's dashes dropped. */
static void diesel_name(const char *name, struct scan_name *out)
{
    char digits[64];
    size_t n = 0, i;

    out->kind = SCAN_PLAIN;
    for (i = 0; name[i] && name[i] != '_'; i++)
        if (name[i] != '-' && n + 1 < sizeof digits)
            digits[n++] = name[i];
    digits[n] = '\0';
    out->version_end = i;
    out->name_start = name[i] == '_' ? i + 1 : i;
    out->name_end = strlen(name);
    if (n + 1 >= sizeof digits || !parse_version((const unsigned char *)digits, &out->version))
        malformed(out, "the version does not fit a signed 64-bit integer");
    else if (out->version == 0)
        malformed(out, "version 0 is reserved for the empty database; start at 1");
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
        digits ".up.sql" end            { out->kind = SCAN_UP; suffix = 7; goto split; }
        digits ".down.sql" end          { out->kind = SCAN_DOWN; suffix = 9; goto split; }
        digits "_" name ('.up.sql' | '.down.sql') end | digits ('.up.sql' | '.down.sql') end {
            malformed(out, "the suffix must be '.up.sql' or '.down.sql' in lower case");
            return;
        }
        digits "_" name ".sql" end      { out->kind = SCAN_PLAIN; suffix = 4; goto split; }
        digits ".sql" end               { out->kind = SCAN_PLAIN; suffix = 4; goto split; }

        digits "_" name '.sql' end | digits '.sql' end {
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
        digits "." any* '.sql' end {
            malformed(out, "the version must be followed by '_' and a name, or by '.sql' alone: "
                           "<version>_<name>.sql or <version>.sql");
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
    (void)name_parts(name, suffix, out);
}

/*
** golang-migrate: ^([0-9]+)_(.*)\.(down|up)\.(.*)$, whose greedy name ends
** at the last ".up." or ".down.".
*/
static void migrate_name(const char *name, struct scan_name *out)
{
    const char *p, *cut = NULL;
    size_t len = strlen(name);

    for (p = name + len; p > name && !cut; p--) {
        if (p[-1] != '.')
            continue;
        if (strncmp(p, "up.", 3) == 0)
            cut = p - 1, out->kind = SCAN_UP;
        else if (strncmp(p, "down.", 5) == 0)
            cut = p - 1, out->kind = SCAN_DOWN;
    }
    if (name_parts(name, 0, out))
        out->name_end = (size_t)(cut - name);
}

/* goose, dbmate: the leading digits are the version; sqlx, plain: as above. */
void scan_layout_name(enum scan_layout layout, const char *name, struct scan_name *out)
{
    const unsigned char *cur = (const unsigned char *)name;
    size_t len = strlen(name);

    if (layout == LAYOUT_PLAIN || layout == LAYOUT_SQLX) {
        scan_file_name(name, out);
        return;
    }
    memset(out, 0, sizeof *out);
    if (layout == LAYOUT_DRIZZLE) {
        out->kind = SCAN_IGNORED;
        return;
    }
    if (layout == LAYOUT_GOLANG_MIGRATE) {
        /*!re2c
            re2c:define:YYCTYPE = "unsigned char";
            re2c:define:YYCURSOR = cur;
            re2c:yyfill:enable = 0;

            "." any* end | any* "~" end  { out->kind = SCAN_IGNORED; return; }
            digits "_" any* "." ("up" | "down") "." any* end { migrate_name(name, out); return; }
            any* '.sql' end {
                malformed(out, "a golang-migrate file is named <version>_<name>.up.sql or <version>_<name>.down.sql");
                return;
            }
            any* end { out->kind = SCAN_IGNORED; return; }
        */
    }
    if (layout == LAYOUT_GOOSE) {
        /*!re2c
            re2c:define:YYCTYPE = "unsigned char";
            re2c:define:YYCURSOR = cur;
            re2c:yyfill:enable = 0;

            "." any* end | any* "~" end  { out->kind = SCAN_IGNORED; return; }
            digits "_" any* ".sql" end {
                out->kind = SCAN_SECTIONS;
                (void)name_parts(name, 4, out);
                return;
            }
            digits "_" any* ".go" end {
                malformed(out, "a goose migration written in Go: sqlmig runs SQL only (rewrite it as a .sql "
                               "migration of the same version)");
                return;
            }
            any* '.sql' end {
                malformed(out, "a goose file is named <version>_<name>.sql (a positive version, then '_')");
                return;
            }
            any* end { out->kind = SCAN_IGNORED; return; }
        */
    }
    if (layout == LAYOUT_DBMATE) {
        /*!re2c
            re2c:define:YYCTYPE = "unsigned char";
            re2c:define:YYCURSOR = cur;
            re2c:yyfill:enable = 0;

            "." any* end | any* "~" end  { out->kind = SCAN_IGNORED; return; }
            digits any* ".sql" end {
                out->kind = SCAN_SECTIONS;
                (void)name_parts(name, 4, out);
                return;
            }
            any* '.sql' end {
                malformed(out, "a dbmate file name starts with its version: <version>_<name>.sql");
                return;
            }
            any* end { out->kind = SCAN_IGNORED; return; }
        */
    }
    if (layout == LAYOUT_DIESEL) {
        /*!re2c
            re2c:define:YYCTYPE = "unsigned char";
            re2c:define:YYCURSOR = cur;
            re2c:yyfill:enable = 0;

            "." any* end  { out->kind = SCAN_IGNORED; return; }
            [0-9] [0-9-]* ("_" any*)? end { diesel_name(name, out); return; }
            any* end { out->kind = SCAN_IGNORED; return; }
        */
    }
    /* LAYOUT_FLYWAY */
    /*!re2c
        re2c:define:YYCTYPE = "unsigned char";
        re2c:define:YYCURSOR = cur;
        re2c:yyfill:enable = 0;

        fversion = [0-9]+ ([._] [0-9]+)*;

        "." any* end | any* "~" end  { out->kind = SCAN_IGNORED; return; }
        "V" fversion "__" any* ".sql" end { out->kind = SCAN_PLAIN; goto flyway; }
        "U" fversion "__" any* ".sql" end { out->kind = SCAN_DOWN; goto flyway; }
        "R__" any+ ".sql" end {
            out->kind = SCAN_REPEATABLE;
            out->name_start = 3;
            out->name_end = len - 4;
            return;
        }
        ("before" | "after") [A-Z] [A-Za-z]* ("__" any*)? ".sql" end {
            malformed(out, "a Flyway callback script, which Flyway runs around its commands: sqlmig runs "
                           "migrations only; move what it does into a versioned migration");
            return;
        }
        any* '.sql' end {
            malformed(out, "a Flyway file is named V<version>__<description>.sql (or U for undo), the version "
                           "digits separated by '.' or '_'");
            return;
        }
        any* end { out->kind = SCAN_IGNORED; return; }
    */
flyway:
    /* fversion holds no "__": the first one ends the version. */
    out->version_start = 1;
    out->version_end = (size_t)(strstr(name + 1, "__") - name);
    out->name_start = out->version_end + 2;
    out->name_end = len - 4;
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
                      const unsigned char *start, unsigned *flags, struct scan_sql *out)
{
    static const struct {
        const char *word;
        unsigned flag;
    } known[] = { { "no-transaction", SQLMIG_NO_TRANSACTION }, { "attach", SQLMIG_ATTACH },
                  { "irreversible", SQLMIG_ONE_WAY } };
    const unsigned char *w = (const unsigned char *)memchr(tok, ':', (size_t)(end - tok)) + 1;
    size_t i;

    while (w < end && (*w == ' ' || *w == '\t'))
        w++;
    while (end > w && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    for (i = 0; i < sizeof known / sizeof known[0]; i++)
        if ((size_t)(end - w) == strlen(known[i].word) && memcmp(w, known[i].word, (size_t)(end - w)) == 0) {
            *flags |= known[i].flag;
            return;
        }
    if (!out->problem) {
        out->problem = "unknown sqlmig directive (the known ones are '-- sqlmig:no-transaction', "
                       "'-- sqlmig:attach' and '-- sqlmig:irreversible')";
        out->error_offset = (size_t)(w - start);
    }
}

/* The counts that the text at hand goes to: the preamble's or a section's. */
static struct scan_stats *stats_of(struct scan_sql *out, struct scan_stats *pre, const unsigned char *tok,
                                   const unsigned char *start)
{
    if (out->section_count)
        return &out->sections[out->section_count - 1].stats;
    if (!pre->statements) /* where SQL before any section starts */
        out->preamble_at = (size_t)(tok - start);
    return pre;
}

/* A word of SQL: the text has a statement; some words reshape the schema. */
static void word(const unsigned char *tok, const unsigned char *end, struct scan_stats *st)
{
    static const char *const reshaping[] = { "drop", "alter", "vacuum", "writable_schema" };
    size_t i, n = (size_t)(end - tok), k;

    st->statements = 1;
    for (i = 0; i < sizeof reshaping / sizeof reshaping[0]; i++) {
        if (strlen(reshaping[i]) != n)
            continue;
        for (k = 0; k < n && (tok[k] | 0x20) == reshaping[i][k]; k++) {}
        if (k == n)
            st->reshapes = 1;
    }
}

static void problem(struct scan_sql *out, const unsigned char *at, const unsigned char *start, const char *what)
{
    if (!out->problem) {
        out->problem = what;
        out->error_offset = (size_t)(at - start);
    }
}

/* Does [p, end) read `word` in any case, followed by a blank or the end? */
static const unsigned char *word_at(const unsigned char *p, const unsigned char *end, const char *word)
{
    size_t n = strlen(word), k;

    if ((size_t)(end - p) < n)
        return NULL;
    for (k = 0; k < n; k++)
        if ((p[k] | 0x20) != word[k])
            return NULL;
    return p + n == end || p[n] == ' ' || p[n] == '\t' || p[n] == '\r' ? p + n : NULL;
}

static const unsigned char *blanks(const unsigned char *p, const unsigned char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p;
}

/* Open a section at the marker line [tok, cur); its SQL starts on the next line. */
static void open_section(struct scan_sql *out, enum scan_section_kind kind, const unsigned char *tok,
                         const unsigned char *cur, const unsigned char *start, const unsigned char *lim)
{
    struct scan_section *sec;

    /* One up section, then at most one down section: SQL after a third
    ** marker would belong to neither part. */
    if (out->section_count >= 2 || (out->section_count && kind == SECTION_UP)) {
        problem(out, tok, start, kind == SECTION_UP ? "a second up section in one file (one up section, then "
                                                      "one down section)"
                                                    : "a second down section in one file");
        return;
    }
    if (out->section_count == 0 && kind == SECTION_DOWN) {
        problem(out, tok, start, "the down section comes before the up section: the up section comes first");
        return;
    }
    if (out->section_count)
        out->sections[out->section_count - 1].end = (size_t)(tok - start);
    sec = &out->sections[out->section_count++];
    memset(sec, 0, sizeof *sec);
    sec->kind = kind;
    sec->marker = (size_t)(tok - start);
    sec->body = (size_t)(cur - start) + (cur < lim);   /* past the line's LF */
    sec->end = (size_t)(lim - start);
}

/*
** goose: `-- +goose <annotation>` at the very start of a line, read in any
** case. `open` tracks StatementBegin ... StatementEnd.
*/
static void goose_marker(const unsigned char *tok, const unsigned char *cur, const unsigned char *start,
                         const unsigned char *lim, struct scan_sql *out, int *open)
{
    const unsigned char *w = blanks(tok + 2, cur), *end = cur;

    w = blanks(w + 6, cur); /* past "+goose" */

    while (end > w && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    if (word_at(w, end, "up") == end) {
        if (*open)
            problem(out, tok, start, "'-- +goose StatementBegin' is not closed by '-- +goose StatementEnd' before this");
        open_section(out, SECTION_UP, tok, cur, start, lim);
    } else if (word_at(w, end, "down") == end) {
        if (*open)
            problem(out, tok, start, "'-- +goose StatementBegin' is not closed by '-- +goose StatementEnd' before this");
        open_section(out, SECTION_DOWN, tok, cur, start, lim);
    } else if (word_at(w, end, "statementbegin") == end) {
        if (*open)
            problem(out, tok, start, "a second '-- +goose StatementBegin' before '-- +goose StatementEnd'");
        *open = 1;
    } else if (word_at(w, end, "statementend") == end) {
        if (!*open)
            problem(out, tok, start, "'-- +goose StatementEnd' without '-- +goose StatementBegin'");
        *open = 0;
    } else if (word_at(w, end, "no") && word_at(blanks(word_at(w, end, "no"), end), end, "transaction") == end) {
        out->flags |= SQLMIG_NO_TRANSACTION;
    } else if (word_at(w, end, "envsub")) {
        problem(out, tok, start, "'-- +goose ENVSUB' substitutes environment variables when goose runs; sqlmig "
                                 "embeds the SQL at build time: write the values into the file");
    } else {
        problem(out, tok, start, "unknown goose annotation (goose knows Up, Down, StatementBegin, StatementEnd, "
                                 "NO TRANSACTION)");
    }
}

/* dbmate: `-- migrate:up` or `-- migrate:down`, then options such as transaction:false. */
static void dbmate_marker(const unsigned char *tok, const unsigned char *cur, const unsigned char *start,
                          const unsigned char *lim, struct scan_sql *out)
{
    const unsigned char *w = (const unsigned char *)memchr(tok, ':', (size_t)(cur - tok)) + 1, *o;
    enum scan_section_kind kind = *w == 'u' ? SECTION_UP : SECTION_DOWN;
    int before = out->section_count;

    open_section(out, kind, tok, cur, start, lim);
    if (out->section_count == before)
        return;
    for (o = blanks(w + (kind == SECTION_UP ? 2 : 4), cur); o < cur; o = blanks(o, cur)) {
        const unsigned char *e = o;
        while (e < cur && *e != ' ' && *e != '\t' && *e != '\r')
            e++;
        if ((size_t)(e - o) == 17 && memcmp(o, "transaction:false", 17) == 0)
            out->sections[out->section_count - 1].flags |= SQLMIG_NO_TRANSACTION;
        else if (!((size_t)(e - o) == 16 && memcmp(o, "transaction:true", 16) == 0))
            problem(out, o, start, "unknown dbmate option (dbmate knows transaction:false and transaction:true)");
        o = e;
    }
}

/*
** A section marker of another layout's tool: running both sections as one
** migration would apply the down part right after the up part.
*/
static void foreign_marker(const unsigned char *tok, const unsigned char *start, struct scan_sql *out)
{
    problem(out, tok, start,
            "another tool's section marker (goose '-- +goose', dbmate '-- migrate:') in a folder of another "
            "layout: run whole, the file would apply its down part right after its up part; give the folder's "
            "layout with --layout goose or --layout dbmate, or split the file into <version>_<name>.up.sql "
            "and <version>_<name>.down.sql");
}

void scan_sql(const char *text, size_t len, struct scan_sql *out)
{
    scan_sql_layout(LAYOUT_PLAIN, text, len, out);
}

void scan_sql_layout(enum scan_layout layout, const char *text, size_t len, struct scan_sql *out)
{
    const unsigned char *start = (const unsigned char *)text;
    const unsigned char *cur = start, *lim = start + len, *tok;
    struct scan_stats pre = { 0, 0 };
    int open = 0, at_start = 1; /* at_start: no token since the last ';' */

    memset(out, 0, sizeof *out);
    for (;;) {
        tok = cur;
        /*!re2c
            re2c:define:YYCTYPE = "unsigned char";
            re2c:define:YYCURSOR = cur;
            re2c:define:YYLIMIT = lim;
            re2c:yyfill:enable = 0;
            re2c:eof = 0;

            $ { break; }

            "\x00" {
                problem(out, tok, start, "NUL byte in a migration (SQLite would stop reading here)");
                break;
            }

            "--" [ \t]* 'sqlmig:' [^\n\x00]* {
                /* In a file with sections, a directive is its section's. */
                if (at_line_start(start, tok))
                    directive(tok, cur, start, out->section_count ? &out->sections[out->section_count - 1].flags
                                                                  : &out->flags, out);
                continue;
            }
            "-- no-transaction" [^\n\x00]* {
                if (layout == LAYOUT_SQLX && tok == start)
                    out->flags |= SQLMIG_NO_TRANSACTION;
                continue;
            }
            "--" [ \t]* "+" 'goose' [ \t] [^\n\x00]* {
                if (layout == LAYOUT_GOOSE && (tok == start || tok[-1] == '\n'))
                    goose_marker(tok, cur, start, lim, out, &open);
                else if (layout == LAYOUT_GOOSE && at_line_start(start, tok))
                    problem(out, tok, start, "a goose annotation must start its line: goose reads this one as a "
                                             "plain comment");
                else if (at_line_start(start, tok))
                    foreign_marker(tok, start, out);
                continue;
            }
            "--" [ \t]* "migrate:" ("up" | "down") ([ \t\r] [^\n\x00]*)? {
                if (layout == LAYOUT_DBMATE && (tok == start || tok[-1] == '\n'))
                    dbmate_marker(tok, cur, start, lim, out);
                else if (layout == LAYOUT_DBMATE && at_line_start(start, tok))
                    problem(out, tok, start, "a dbmate marker must start its line: dbmate reads this one as a "
                                             "plain comment");
                else if (at_line_start(start, tok))
                    foreign_marker(tok, start, out);
                continue;
            }
            "--" [^\n\x00]*   { continue; }
            "/*"              { cur = skip_block_comment(cur, lim); continue; }
            ['"`]             { stats_of(out, &pre, tok, start)->statements = 1; at_start = 0; cur = skip_to(cur, lim, *tok); continue; }
            "["               { stats_of(out, &pre, tok, start)->statements = 1; at_start = 0; cur = skip_to(cur, lim, ']'); continue; }
            [a-zA-Z_\x80-\xff] [a-zA-Z0-9_$\x80-\xff]* {
                /* BEGIN opens a statement only as transaction control: a
                ** trigger's BEGIN follows its header, not a ';'. */
                if (at_start && word_at(tok, cur, "begin") == cur)
                    out->wraps = 1;
                at_start = 0;
                word(tok, cur, stats_of(out, &pre, tok, start));
                continue;
            }
            ";"               { at_start = 1; continue; }
            [ \t\r\n\f\v]     { continue; }
            *                 { stats_of(out, &pre, tok, start)->statements = 1; at_start = 0; continue; }
        */
    }
    if (open)
        problem(out, lim, start, "'-- +goose StatementBegin' is not closed by '-- +goose StatementEnd'");
    out->statements = pre.statements;
    out->reshapes = pre.reshapes;
}

/* ---- Drizzle's journal: just enough JSON ------------------------------- */

enum json_token { J_END, J_ERROR, J_OPEN, J_CLOSE, J_LIST, J_UNLIST, J_COLON, J_COMMA, J_STRING, J_NUMBER,
                  J_LITERAL };

struct json {
    const unsigned char *start, *cur, *lim, *tok;
    enum json_token t;
    const char *problem;
};

static void json_next(struct json *j)
{
    const unsigned char *YYMARKER;

    for (;;) {
        j->tok = j->cur;
        /*!re2c
            re2c:define:YYCTYPE = "unsigned char";
            re2c:define:YYCURSOR = j->cur;
            re2c:define:YYLIMIT = j->lim;
            re2c:yyfill:enable = 0;
            re2c:eof = 0;

            $                     { j->t = J_END; return; }
            [ \t\r\n]+            { continue; }
            "{"                   { j->t = J_OPEN; return; }
            "}"                   { j->t = J_CLOSE; return; }
            "["                   { j->t = J_LIST; return; }
            "]"                   { j->t = J_UNLIST; return; }
            ":"                   { j->t = J_COLON; return; }
            ","                   { j->t = J_COMMA; return; }
            ["] ([^"\\\x00-\x1f] | "\\" ["\\/bfnrt] | "\\u" [0-9a-fA-F]{4})* ["] { j->t = J_STRING; return; }
            "-"? ("0" | [1-9][0-9]*) ("." [0-9]+)? ([eE] [+-]? [0-9]+)? { j->t = J_NUMBER; return; }
            "true" | "false" | "null" { j->t = J_LITERAL; return; }
            *                     { j->t = J_ERROR; return; }
        */
    }
}

static int json_fail(struct json *j, const char *problem)
{
    if (!j->problem)
        j->problem = problem;
    return -1;
}

/* Is the current string token exactly "word" (no escapes needed)? */
static int json_is(const struct json *j, const char *word)
{
    size_t n = strlen(word);
    return j->t == J_STRING && (size_t)(j->cur - j->tok) == n + 2 && memcmp(j->tok + 1, word, n) == 0;
}

/* Skip one value, nested up to a depth that no journal needs. */
static int json_skip(struct json *j, int depth)
{
    enum json_token close;

    if (depth > 64)
        return json_fail(j, "the journal nests too deep");
    if (j->t == J_STRING || j->t == J_NUMBER || j->t == J_LITERAL) {
        json_next(j);
        return 0;
    }
    if (j->t != J_OPEN && j->t != J_LIST)
        return json_fail(j, "the journal is not valid JSON here");
    close = j->t == J_OPEN ? J_CLOSE : J_UNLIST;
    json_next(j);
    if (j->t == close) {
        json_next(j);
        return 0;
    }
    for (;;) {
        if (close == J_CLOSE) {
            if (j->t != J_STRING)
                return json_fail(j, "the journal is not valid JSON here: a key was expected");
            json_next(j);
            if (j->t != J_COLON)
                return json_fail(j, "the journal is not valid JSON here: ':' was expected");
            json_next(j);
        }
        if (json_skip(j, depth + 1) != 0)
            return -1;
        if (j->t == close) {
            json_next(j);
            return 0;
        }
        if (j->t != J_COMMA)
            return json_fail(j, "the journal is not valid JSON here: ',' was expected");
        json_next(j);
    }
}

/* A tag: plain characters only, as drizzle-kit writes them. */
static char *json_tag(struct json *j)
{
    const unsigned char *p;
    char *tag;

    for (p = j->tok + 1; p < j->cur - 1; p++)
        if (*p == '\\' || *p == '/' || *p < 0x20)
            return json_fail(j, "a tag with '\\', '/' or a control character cannot name a file of the folder"),
                   NULL;
    if (j->cur - j->tok == 2)
        return json_fail(j, "an empty tag"), NULL;
    tag = malloc((size_t)(j->cur - j->tok) - 1);
    if (!tag)
        return json_fail(j, "out of memory"), NULL;
    memcpy(tag, j->tok + 1, (size_t)(j->cur - j->tok) - 2);
    tag[j->cur - j->tok - 2] = '\0';
    return tag;
}

static int json_entry(struct json *j, struct scan_journal_entry *e)
{
    const unsigned char *at = j->tok, *p;

    e->line = 1;
    for (p = j->start; p < at; p++)
        e->line += *p == '\n';
    e->when = -1;
    if (j->t != J_OPEN)
        return json_fail(j, "a journal entry must be an object");
    json_next(j);
    while (j->t == J_STRING) {
        int is_tag = json_is(j, "tag"), is_when = json_is(j, "when");
        json_next(j);
        if (j->t != J_COLON)
            return json_fail(j, "the journal is not valid JSON here: ':' was expected");
        json_next(j);
        if (is_tag && j->t == J_STRING) {
            free(e->tag);
            if (!(e->tag = json_tag(j)))
                return -1;
            json_next(j);
        } else if (is_when && j->t == J_NUMBER) {
            int64_t v = 0;
            for (p = j->tok; p < j->cur; p++) {
                if (*p < '0' || *p > '9')
                    return json_fail(j, "'when' must be a whole number of milliseconds");
                if (v > (INT64_MAX - 9) / 10)
                    return json_fail(j, "'when' does not fit a signed 64-bit integer");
                v = v * 10 + (*p - '0');
            }
            e->when = v;
            json_next(j);
        } else if (is_tag || is_when) {
            return json_fail(j, is_tag ? "'tag' must be a string" : "'when' must be a number");
        } else if (json_skip(j, 2) != 0) {
            return -1;
        }
        if (j->t != J_COMMA)
            break;
        json_next(j);
    }
    if (j->t != J_CLOSE)
        return json_fail(j, "the journal is not valid JSON here: '}' was expected");
    if (!e->tag || e->when < 0) {
        j->tok = at;
        return json_fail(j, "a journal entry without its 'tag' or 'when'");
    }
    json_next(j);
    return 0;
}

static int json_entries(struct json *j, struct scan_journal *out)
{
    if (j->t != J_LIST)
        return json_fail(j, "'entries' must be a list");
    json_next(j);
    if (j->t == J_UNLIST) {
        json_next(j);
        return 0;
    }
    for (;;) {
        struct scan_journal_entry *grown = realloc(out->entries, (out->count + 1) * sizeof *grown);
        if (!grown)
            return json_fail(j, "out of memory");
        out->entries = grown;
        memset(&out->entries[out->count], 0, sizeof *grown);
        out->count++;
        if (json_entry(j, &out->entries[out->count - 1]) != 0)
            return -1;
        if (j->t == J_UNLIST) {
            json_next(j);
            return 0;
        }
        if (j->t != J_COMMA)
            return json_fail(j, "the journal is not valid JSON here: ',' was expected");
        json_next(j);
    }
}

int scan_journal(const char *text, size_t len, struct scan_journal *out, size_t *error_offset,
                 const char **problem)
{
    struct json j;
    int entries = 0, rc = 0;

    memset(out, 0, sizeof *out);
    memset(&j, 0, sizeof j);
    j.start = j.cur = (const unsigned char *)text;
    j.lim = j.start + len;
    json_next(&j);
    if (j.t != J_OPEN) {
        rc = json_fail(&j, "a Drizzle journal is a JSON object");
    } else {
        json_next(&j);
        while (rc == 0 && j.t == J_STRING) {
            int is_entries = json_is(&j, "entries"), is_dialect = json_is(&j, "dialect");
            json_next(&j);
            if (j.t != J_COLON) {
                rc = json_fail(&j, "the journal is not valid JSON here: ':' was expected");
                break;
            }
            json_next(&j);
            if (is_dialect && j.t == J_STRING && !json_is(&j, "sqlite") && !json_is(&j, "turso"))
                rc = json_fail(&j, "a Drizzle journal for another dialect than SQLite");
            else if (is_entries)
                rc = json_entries(&j, out), entries = 1;
            else
                rc = json_skip(&j, 1);
            if (rc == 0 && j.t == J_COMMA)
                json_next(&j);
            else
                break;
        }
        if (rc == 0 && j.t != J_CLOSE)
            rc = json_fail(&j, "the journal is not valid JSON here: '}' was expected");
        if (rc == 0 && (json_next(&j), j.t != J_END))
            rc = json_fail(&j, "the journal goes on after its closing '}'");
        if (rc == 0 && !entries)
            rc = json_fail(&j, "the journal has no 'entries' list");
    }
    if (rc != 0) {
        *problem = j.problem;
        *error_offset = (size_t)(j.tok - j.start);
        scan_journal_free(out);
    }
    return rc;
}

void scan_journal_free(struct scan_journal *j)
{
    size_t i;

    for (i = 0; i < j->count; i++)
        free(j->entries[i].tag);
    free(j->entries);
    memset(j, 0, sizeof *j);
}

/* ---- diesel's metadata.toml: one boolean key --------------------------- */

/* Read `true` or `false` then only blanks or a comment: 1, 0, or -1. */
static int toml_value(const unsigned char *p, const unsigned char *end)
{
    int v;

    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) >= 4 && memcmp(p, "true", 4) == 0)
        v = 1, p += 4;
    else if ((size_t)(end - p) >= 5 && memcmp(p, "false", 5) == 0)
        v = 0, p += 5;
    else
        return -1;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p == end || *p == '#' ? v : -1;
}

int scan_toml_bool(const char *text, size_t len, const char *key)
{
    const unsigned char *start = (const unsigned char *)text, *cur = start, *lim = start + len, *tok;
    size_t n = strlen(key);
    int value = 1;

    for (;;) {
        tok = cur;
        /*!re2c
            re2c:define:YYCTYPE = "unsigned char";
            re2c:define:YYCURSOR = cur;
            re2c:define:YYLIMIT = lim;
            re2c:yyfill:enable = 0;
            re2c:eof = 0;

            blank = [ \t];

            $ { return value; }
            blank* [A-Za-z0-9_-]+ blank* "=" [^\n\x00]* {
                while (*tok == ' ' || *tok == '\t')
                    tok++;
                if ((size_t)(cur - tok) > n && memcmp(tok, key, n) == 0 &&
                    (tok[n] == ' ' || tok[n] == '\t' || tok[n] == '='))
                    value = toml_value((const unsigned char *)memchr(tok, '=', (size_t)(cur - tok)) + 1, cur);
                continue;
            }
            [^\n\x00]+ | "\n" | "\x00" { continue; }
        */
    }
}
