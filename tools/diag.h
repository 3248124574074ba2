/*
** diag.h — diagnostics in the compilers' format, on stderr:
**   path:line:col: error: message
**   path: error: message            (when no position inside the file applies)
** so that editors and CI annotate the migration itself. Each is one line:
** a control character in a message is printed as \n, \r or \xNN.
*/
#ifndef SQLMIG_DIAG_H
#define SQLMIG_DIAG_H

#include <stddef.h>

#if defined(__GNUC__)
#define DIAG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DIAG_PRINTF(f, a)
#endif

/* Report an error at `line`:`col` of `path` (line 0: the whole file). */
void diag_error(const char *path, unsigned line, unsigned col, const char *fmt, ...)
    DIAG_PRINTF(4, 5);

/* The same for a remark that does not fail the command. */
void diag_note(const char *path, unsigned line, unsigned col, const char *fmt, ...)
    DIAG_PRINTF(4, 5);
/* A problem that does not fail the command, but that the author should see. */
void diag_warning(const char *path, unsigned line, unsigned col, const char *fmt, ...)
    DIAG_PRINTF(4, 5);

/* Report an error that concerns no file (a bad option, a failed write). */
void diag_fatal(const char *fmt, ...) DIAG_PRINTF(1, 2);

/* Turn a byte offset inside `text` into a 1-based line and column. */
void diag_position(const char *text, size_t offset, unsigned first_line,
                   unsigned *line, unsigned *col);

#endif
