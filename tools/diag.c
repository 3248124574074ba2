/*
** diag.c — print diagnostics in the compilers' format (see diag.h).
*/
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Print a message on one line: a control character that came with an
** identifier or an SQLite message is written as an escape. */
static void put_message(const char *fmt, va_list ap)
{
    char small[512], *text = small;
    va_list again;
    int n;

    va_copy(again, ap);
    n = vsnprintf(small, sizeof small, fmt, ap);
    if (n >= (int)sizeof small && (text = malloc((size_t)n + 1)) != NULL)
        vsnprintf(text, (size_t)n + 1, fmt, again);
    va_end(again);
    if (n < 0 || !text) {
        fputs("(message lost: out of memory)", stderr);
        return;
    }
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '\n')
            fputs("\\n", stderr);
        else if (*c == '\r')
            fputs("\\r", stderr);
        else if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
            fprintf(stderr, "\\x%02x", *c);
        else
            fputc(*c, stderr);
    }
    if (text != small)
        free(text);
}

static void report(const char *kind, const char *path, unsigned line, unsigned col,
                   const char *fmt, va_list ap)
{
    if (line > 0)
        fprintf(stderr, "%s:%u:%u: %s: ", path, line, col, kind);
    else
        fprintf(stderr, "%s: %s: ", path, kind);
    put_message(fmt, ap);
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
    put_message(fmt, ap);
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
