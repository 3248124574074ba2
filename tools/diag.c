/*
** diag.c — print diagnostics in the compilers' format (see diag.h).
*/
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>

static void report(const char *kind, const char *path, unsigned line, unsigned col,
                   const char *fmt, va_list ap)
{
    if (line > 0)
        fprintf(stderr, "%s:%u:%u: %s: ", path, line, col, kind);
    else
        fprintf(stderr, "%s: %s: ", path, kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void diag_error(const char *path, unsigned line, unsigned col, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report("error", path, line, col, fmt, ap);
    va_end(ap);
}

void diag_note(const char *path, unsigned line, unsigned col, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report("note", path, line, col, fmt, ap);
    va_end(ap);
}

void diag_warning(const char *path, unsigned line, unsigned col, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report("warning", path, line, col, fmt, ap);
    va_end(ap);
}

void diag_fatal(const char *fmt, ...)
{
    va_list ap;

    fputs("sqlmig: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void diag_position(const char *text, size_t offset, unsigned first_line,
                   unsigned *line, unsigned *col)
{
    size_t i, line_start = 0;
    unsigned l = first_line;

    for (i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            l++;
            line_start = i + 1;
        }
    }
    *line = l;
    *col = (unsigned)(offset - line_start) + 1;
}
