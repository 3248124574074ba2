/*
** scan.h — the lexical part of reading a migrations folder: which file names
** are migrations, and which comments of a migration are sqlmig directives.
** Implemented in scan.re (re2c); generated/scan.c is its committed output.
*/
#ifndef SQLMIG_SCAN_H
#define SQLMIG_SCAN_H

#include <stddef.h>
#include <stdint.h>

/*
** The folder layouts sqlmig reads: its own, and those of the tools a team
** may come from. Each names its migrations and marks their parts its own
** way; docs/layouts.md describes them.
*/
enum scan_layout {
    LAYOUT_PLAIN,          /* <version>_<name>.sql, .up.sql/.down.sql pairs */
    LAYOUT_SQLX,           /* the same names; first line `-- no-transaction` */
    LAYOUT_GOLANG_MIGRATE, /* <version>_<name>.up.<ext> / .down.<ext>, paired by version */
    LAYOUT_GOOSE,          /* <version>_<name>.sql with `-- +goose Up` / `Down` sections */
    LAYOUT_DBMATE,         /* <version>[_<name>].sql with `-- migrate:up` / `down` sections */
    LAYOUT_DIESEL,         /* <version>_<name>/up.sql and down.sql folders */
    LAYOUT_DRIZZLE,        /* <tag>.sql files in the order of meta/_journal.json */
    LAYOUT_FLYWAY,         /* V<version>__<desc>.sql, U<version>__<desc>.sql, R__<desc>.sql */
    LAYOUT_COUNT
};

/* What a directory entry is, by its name alone. */
enum scan_name_kind {
    SCAN_IGNORED,   /* not a migration: README, dot file, editor backup */
    SCAN_PLAIN,     /* <version>_<name>.sql: the up part only */
    SCAN_UP,        /* <version>_<name>.up.sql */
    SCAN_DOWN,      /* <version>_<name>.down.sql */
    SCAN_SECTIONS,  /* goose, dbmate: one file holds the up and the down section */
    SCAN_REPEATABLE, /* Flyway's R__<desc>.sql: no version, runs again when it changes */
    SCAN_MALFORMED  /* looks like a migration but breaks the layout's naming rules */
};

struct scan_name {
    enum scan_name_kind kind;
    int64_t version;       /* every kind but SCAN_IGNORED and SCAN_MALFORMED */
    size_t version_start;  /* the version as written: name[version_start, version_end) */
    size_t version_end;
    size_t name_start;     /* the <name> part: name[name_start, name_end), maybe empty */
    size_t name_end;
    const char *problem;   /* SCAN_MALFORMED: why, as a sentence fragment */
};

/*
** Classify a file name of the plain layout (NUL-terminated, no directory
** part). A version that does not fit a signed 64-bit integer, or is 0,
** makes the name SCAN_MALFORMED with its own problem text.
*/
void scan_file_name(const char *name, struct scan_name *out);

/*
** The same for any layout. For LAYOUT_DIESEL `name` is a sub-folder's name
** (<version>_<name>, the version's dashes dropped); for LAYOUT_FLYWAY the
** version is not computed here (dotted versions need the whole folder, see
** layout.c) and `version` is 0; LAYOUT_DRIZZLE takes its names from the
** journal, and every name is SCAN_IGNORED.
*/
void scan_layout_name(enum scan_layout layout, const char *name, struct scan_name *out);

/* What a stretch of SQL holds, beyond comments, blanks and semicolons. */
struct scan_stats {
    int statements;        /* there is SQL outside comments, blanks and semicolons */
    int reshapes;          /* a word that can drop or reshape objects: DROP, ALTER, VACUUM, writable_schema */
};

/* A section of a goose or dbmate file, from its marker line to the next one. */
enum scan_section_kind { SECTION_UP, SECTION_DOWN };

struct scan_section {
    enum scan_section_kind kind;
    size_t marker;         /* offset of the marker line */
    size_t body;           /* offset of the line after it: the section's SQL */
    size_t end;            /* offset of the next marker line, or the text's length */
    unsigned flags;        /* dbmate `transaction:false`, and the `-- sqlmig:` directives in it */
    struct scan_stats stats;
};

#define SCAN_SECTION_MAX 2   /* an up section, then a down section */

/* What scan_sql() found in a migration's text. */
struct scan_sql {
    unsigned flags;        /* SQLMIG_NO_TRANSACTION, SQLMIG_ATTACH: the directives there (before */
                           /* the first section; goose's NO TRANSACTION, which is the file's) */
    int statements;        /* stats of the whole text (of what precedes the */
    int reshapes;          /* first section, for a file with sections) */
    size_t preamble_at;    /* where that SQL starts, when `statements` is set */
    struct scan_section sections[SCAN_SECTION_MAX];
    int section_count;     /* goose and dbmate only */
    int wraps;             /* a statement starts with BEGIN: the text wraps itself in a transaction */
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

/*
** The same for a file of `layout`, which also reads that layout's markers:
** sqlx's first line `-- no-transaction`; goose's `-- +goose Up`, `Down`,
** `StatementBegin`, `StatementEnd` and `NO TRANSACTION` (case-insensitive,
** at the very start of a line); dbmate's `-- migrate:up` and
** `-- migrate:down` with `transaction:false`. Another layout's markers are
** a problem: run whole, such a file would apply its down part right after
** its up part.
*/
void scan_sql_layout(enum scan_layout layout, const char *text, size_t len, struct scan_sql *out);

/* One entry of a Drizzle journal (meta/_journal.json). */
struct scan_journal_entry {
    char *tag;             /* "0000_init_tables": the file is <tag>.sql */
    int64_t when;          /* milliseconds, which Drizzle's ledger keeps as created_at */
    unsigned line;         /* of the entry in the journal */
};

struct scan_journal {
    struct scan_journal_entry *entries;   /* in the journal's order */
    size_t count;
};

/*
** Read a Drizzle journal: JSON whose "entries" array lists the migrations in
** order, each with "tag" and "when". `text` must have a NUL at text[len].
** Returns 0, or -1 with *problem and *error_offset set (a journal for
** another dialect than SQLite is a problem too).
*/
int scan_journal(const char *text, size_t len, struct scan_journal *out, size_t *error_offset,
                 const char **problem);
void scan_journal_free(struct scan_journal *j);

/*
** The value of `key = true|false` in a TOML text such as diesel's
** metadata.toml: 1 for true or when the key is absent, 0 for false, -1 for
** another value. `text` must have a NUL at text[len].
*/
int scan_toml_bool(const char *text, size_t len, const char *key);

#endif
