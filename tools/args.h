/*
** args.h — what every command that reads a migrations folder takes on its
** command line (the folder, --layout, --load-extension, --placeholder), and
** the one-line usage error all commands print.
*/
#ifndef SQLMIG_ARGS_H
#define SQLMIG_ARGS_H

#include "model.h"

#include <stddef.h>

#define MAX_EXTENSIONS 16
#define MAX_PLACEHOLDERS 64

struct reading {
    const char *dir;
    int layout;                  /* enum scan_layout; LAYOUT_COUNT: recognise */
    const char *ext_files[MAX_EXTENSIONS];
    const char *ext_entries[MAX_EXTENSIONS];
    size_t ext_count;
    const char *placeholders[MAX_PLACEHOLDERS];
    size_t placeholder_count;
};

/* A struct reading with nothing given yet. */
void reading_init(struct reading *r);

/*
** "sqlmig: error: <command>: <message>" and where help is, on one line
** each, to stderr; returns 2, the exit status of a usage error. `command`
** may be NULL.
*/
int usage_error(const char *command, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/*
** --layout NAME, --load-extension FILE[:ENTRY] and --placeholder NAME=VALUE
** at argv[*i]: 1 when it was one (and *i moved past its value), 0 when it is
** another argument, -1 after a usage error (printed; *status holds 2).
*/
int reading_option(struct reading *r, const char *command, int argc, char **argv, int *i, int *status);

/* Read r->dir as the options say, into *f (diagnostics printed); 0 on success. */
int read_folder(const struct reading *r, struct tool_folder *f);

#endif
