/*
** emit.h — write what `sqlmig compile` produces: the C file that embeds the
** migrations, its header, the Make-style depfile and the schema snapshot,
** and replace an output on disk only when its bytes change.
**
** Every emit_* function appends one whole output to a struct buf and returns
** 0, or -1 with a one-line message in err[errlen] (no file name, no trailing
** newline). On failure `out` may hold a partial output: do not write it.
** The output depends only on the arguments: no date, user, absolute path or
** locale ever reaches it.
*/
#ifndef SQLMIG_EMIT_H
#define SQLMIG_EMIT_H

#include <stddef.h>

#include "buf.h"
#include "model.h"

/*
** 1 if `symbol` can name the exported struct sqlmig_set, else 0: an
** identifier [A-Za-z][A-Za-z0-9_]* that is not reserved in C or C++ (no
** leading underscore: C reserves all of those at file scope; no double
** underscore anywhere: C++ reserves those), and is not a C or C++ keyword
** (the header is also compiled as C++) nor "main".
*/
int emit_valid_symbol(const char *symbol);

/*
** Append the C source of a string literal holding exactly `len` bytes of
** `data` (any byte values, NUL included). The literal is split into pieces:
** a piece ends right after each LF byte and before its text between the
** quotes would exceed 4000 characters (never inside an escape). The first
** piece starts where the buffer ends; each further piece goes on a new line
** after `indent`. `"` `\` and every `?` are escaped, LF and TAB are written
** \n and \t, and every other byte below 0x20, 0x7F and every byte from 0x80
** up is a three-digit octal escape. No byte is ever written as \x.
** An empty string is "". Returns -1 only when out of memory.
*/
int emit_literal(struct buf *out, const void *data, size_t len, const char *indent);

/* The longest text between the quotes of one literal piece. */
#define EMIT_PIECE_MAX 4000

/*
** The C file that defines `const struct sqlmig_set <symbol>` from `f`.
** `header` is the path (or the name) of the header emit_h() writes; the C
** file includes it by its base name, which must consist of letters, digits
** and . _ + - only. The migrations must be sorted by strictly increasing
** version and the objects by (type, name) in byte order: the runtime relies
** on both, so unsorted input is refused rather than emitted.
*/
int emit_c(const struct tool_folder *f, const char *symbol, const char *header,
           struct buf *out, char *err, size_t errlen);

/* The header that declares `extern const struct sqlmig_set <symbol>`. */
int emit_h(const char *symbol, struct buf *out, char *err, size_t errlen);

/*
** The depfile: "<target>: <f->dir> <every f->inputs[i]>", one path per line
** joined by " \" continuations, escaped for Make and Ninja (a space as "\ "
** with the backslashes before it doubled, "#" as "\#", "$" as "$$"); then
** an empty rule "<path>:" for each of them, as gcc -MP writes.
** A path that no depfile can express (a newline, CR or tab in it, or one
** that ends in a backslash or a colon) is refused.
*/
int emit_depfile(const struct tool_folder *f, const char *target,
                 struct buf *out, char *err, size_t errlen);

/*
** The schema snapshot: a comment line naming the folder (by its base name),
** then f->schema_sql byte for byte (nothing when NULL).
*/
int emit_schema(const struct tool_folder *f, struct buf *out, char *err, size_t errlen);

/*
** Make the file at `path` hold exactly the bytes of `b`. When it already
** does, it is not touched at all (same inode, same mtime), so that Ninja's
** `restat = 1` skips everything that depends on it. Otherwise the bytes go
** to a new file in the same directory, which then rename()s over `path`:
** a reader never sees a half-written output. The new file gets mode
** 0666 minus the umask, like any file the build creates.
** Returns 0, or -1 with "path: reason" in err.
*/
int write_if_changed(const char *path, const struct buf *b, char *err, size_t errlen);

#endif
