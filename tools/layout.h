/*
** layout.h — which tool's layout a migrations folder follows, and what each
** of its entries is in that layout. folder.c reads the files; this part
** knows the tools' conventions: names, versions, sub-folders, journals.
** docs/layouts.md describes every layout.
*/
#ifndef SQLMIG_LAYOUT_H
#define SQLMIG_LAYOUT_H

#include "diag.h"
#include "scan.h"

#include <stddef.h>
#include <stdint.h>

/* An entry of the folder, with its text once read. */
struct layout_entry {
    char *name;
    int is_dir;
    int is_file;             /* a regular file */
    char *text;              /* NULL until read; NUL-terminated */
    size_t len;
};

/* A file that holds SQL of one migration, as the layout places it. */
struct layout_piece {
    int64_t version;
    enum scan_name_kind kind;  /* SCAN_PLAIN (up only), SCAN_UP, SCAN_DOWN, SCAN_SECTIONS */
    char *file;                /* relative to the folder: "0001_a.sql", "2020-01-01-000000_a/up.sql" */
    char *name;                /* the migration's name in the ledger */
    unsigned flags;            /* what the layout says beyond the text (diesel metadata.toml) */
};

struct layout_plan {
    enum scan_layout layout;
    char why[300];             /* how the layout was recognised, for `sqlmig check` */
    struct layout_piece *pieces;
    size_t count;
    char **extra_inputs;       /* files read besides migrations (journal, metadata.toml) */
    size_t extra_count;
};

/* "plain", "sqlx", "golang-migrate", ...; NULL past the end. */
const char *layout_name(enum scan_layout layout);

/* The layout a --layout argument names; LAYOUT_COUNT when none. */
enum scan_layout layout_by_name(const char *name);

/*
** Decide the layout of the folder `dir` from its entries (sorted by name),
** reading texts into them as needed; `forced` (LAYOUT_COUNT: none) is taken
** as given. Then place every entry: plan->pieces, in no particular order.
** Problems go to `d`; returns the number of errors added.
*/
int layout_plan(const char *dir, struct layout_entry *entries, size_t n, enum scan_layout forced,
                struct layout_plan *plan, struct diag_list *d);

void layout_plan_free(struct layout_plan *plan);

/*
** Flyway's placeholders: each ${name} in `text` (comments and strings too,
** as Flyway does) replaced by its value from `defs` ("name=value"), or by
** a built-in one (flyway:filename, flyway:defaultSchema). Takes `text`
** (*len bytes, NUL-terminated) and returns the new text, or NULL after a
** problem, reported at its place in `path`: a placeholder without a value.
*/
char *layout_placeholders(char *text, size_t *len, const char *path, const char *file,
                          const char *const *defs, size_t ndefs, struct diag_list *d);

/* Read a whole file into a NUL-terminated buffer; problems go to `d`. */
char *layout_read_file(const char *path, size_t *len, struct diag_list *d);

/* dir/file, or NULL when out of memory. */
char *layout_join(const char *dir, const char *file);

#endif
