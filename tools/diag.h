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

/*
** Diagnostics held back until a whole folder is read, then printed sorted by
** file (then line and column), each distinct message once: the same
** message in several files is printed at the first of them, with the count
** and the next few names. A folder of 248 misnamed files gives one line.
*/
struct diag_item;
struct diag_list {
    struct diag_item *items;
    size_t count, cap;
    int lost;              /* messages dropped for want of memory */
    int errors_only;       /* diag_flush() prints the errors alone */
};

enum diag_kind { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

void diag_add(struct diag_list *l, enum diag_kind kind, const char *path, unsigned line, unsigned col,
              const char *fmt, ...) DIAG_PRINTF(6, 7);

/* Print and empty the list; returns the number of errors it held. */
size_t diag_flush(struct diag_list *l);

/* Turn a byte offset inside `text` into a 1-based line and column. */
void diag_position(const char *text, size_t offset, unsigned first_line,
                   unsigned *line, unsigned *col);

#endif
