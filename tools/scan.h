/*
** scan.h — the lexical part of reading a migrations folder: which file names
** are migrations, and which comments of a migration are sqlmig directives.
** Implemented in scan.re (re2c); generated/scan.c is its committed output.
*/
#ifndef SQLMIG_SCAN_H
#define SQLMIG_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* What a directory entry is, by its name alone. */
enum scan_name_kind {
    SCAN_IGNORED,   /* not a migration: README, dot file, editor backup */
    SCAN_PLAIN,     /* <version>_<name>.sql */
    SCAN_UP,        /* <version>_<name>.up.sql */
    SCAN_DOWN,      /* <version>_<name>.down.sql */
    SCAN_MALFORMED  /* ends in .sql but is not a migration name */
};

struct scan_name {
    enum scan_name_kind kind;
    int64_t version;       /* SCAN_PLAIN, SCAN_UP, SCAN_DOWN */
    size_t name_start;     /* the <name> part: name[name_start, name_end) */
    size_t name_end;
    const char *problem;   /* SCAN_MALFORMED: why, as a sentence fragment */
};

/*
** Classify a file name (NUL-terminated, no directory part). A version that
** does not fit a signed 64-bit integer, or is 0, makes the name
** SCAN_MALFORMED with its own problem text.
*/
void scan_file_name(const char *name, struct scan_name *out);

/* What scan_sql() found in a migration's text. */
struct scan_sql {
    unsigned flags;        /* SQLMIG_NO_TRANSACTION, SQLMIG_ATTACH: the directives there */
    int statements;        /* there is SQL outside comments, blanks and semicolons */
    int reshapes;          /* a word that can drop or reshape objects: DROP, ALTER, VACUUM, writable_schema */
    size_t error_offset;   /* byte offset of the first problem, if any */
    const char *problem;   /* NULL when the text is fine */
};

/*
** Scan SQL text for sqlmig directives: a line comment that starts a line
** (after optional blanks) and reads `-- sqlmig:<word>`. Comments, string
** literals and quoted identifiers are skipped as SQLite's tokenizer would, so
** a directive inside a string or a block comment is not one. An unknown
** `-- sqlmig:` word and a NUL byte are problems. `text` must have a NUL at
** text[len] (the sentinel the scanner stops at); NUL bytes before it are
** reported.
*/
void scan_sql(const char *text, size_t len, struct scan_sql *out);

#endif
