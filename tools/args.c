/*
** args.c — the command-line options of every command that reads a
** migrations folder, and the one-line usage error (args.h).
*/
#include "args.h"

#include "diag.h"
#include "folder.h"
#include "layout.h"
#include "scan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void reading_init(struct reading *r)
{
    memset(r, 0, sizeof *r);
    r->layout = LAYOUT_COUNT;
}

int usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "sqlmig: error: %s%s", command ? command : "", command ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (sqlmig %s%s--help says more)\n", command ? command : "", command ? " " : "");
    return 2;
}

int reading_option(struct reading *r, const char *command, int argc, char **argv, int *i, int *status)
{
    char *v, *colon;

    if (strcmp(argv[*i], "--layout") != 0 && strcmp(argv[*i], "--load-extension") != 0 &&
        strcmp(argv[*i], "--placeholder") != 0)
        return 0;
    if (*i + 1 >= argc) {
        *status = usage_error(command, "%s needs a value", argv[*i]);
        return -1;
    }
    v = argv[++*i];
    if (strcmp(argv[*i - 1], "--layout") == 0) {
        r->layout = (int)layout_by_name(v);
        if (r->layout == LAYOUT_COUNT) {
            *status = usage_error(command, "--layout '%s' is not one of plain, sqlx, golang-migrate, goose, dbmate, "
                                  "diesel, drizzle, flyway", v);
            return -1;
        }
        return 1;
    }
    if (strcmp(argv[*i - 1], "--placeholder") == 0) {
        size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-");
        if (n == 0 || v[n] != '=' || strpbrk(v + n, "\r\n")) {
            *status = usage_error(command, "--placeholder '%s' is not NAME=VALUE (a name of letters, digits, '_', "
                                  "'.', ':' or '-'; a value on one line)", v);
            return -1;
        }
        if (r->placeholder_count == MAX_PLACEHOLDERS) {
            *status = usage_error(command, "more than %d --placeholder (at '%s')", MAX_PLACEHOLDERS, v);
            return -1;
        }
        r->placeholders[r->placeholder_count++] = v;
        return 1;
    }
    if (r->ext_count == MAX_EXTENSIONS) {
        *status = usage_error(command, "more than %d --load-extension (at '%s')", MAX_EXTENSIONS, v);
        return -1;
    }
    /* FILE:ENTRY when what follows the last ':' is a C name, not a path;
    ** the argument is cut there, in place. */
    colon = strrchr(v, ':');
    if (colon && colon[1] && colon != v && strspn(colon + 1, "abcdefghijklmnopqrstuvwxyz"
                                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(colon + 1)) {
        *colon = '\0';
        r->ext_entries[r->ext_count] = colon + 1;
    }
    r->ext_files[r->ext_count++] = v;
    return 1;
}

int read_folder(const struct reading *r, struct tool_folder *f)
{
    int rc;

    memset(f, 0, sizeof *f);
    f->extensions = r->ext_files;
    f->extension_entries = r->ext_entries;
    f->extension_count = r->ext_count;
    f->placeholders = r->placeholders;
    f->placeholder_count = r->placeholder_count;
    rc = folder_read(r->dir, r->layout, 0, f);
    if (rc == 0 && r->placeholder_count && f->layout != LAYOUT_FLYWAY) {
        diag_error(r->dir, 0, 0, "--placeholder is for Flyway folders, and this one is read as %s",
                   layout_name((enum scan_layout)f->layout));
        rc = 1;
    }
    return rc;
}
