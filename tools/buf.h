/*
** buf.h — a growable byte buffer, in which the emitter builds each output
** completely before anything is written to disk.
**
** Allocation failure is sticky, like SQLite's sqlite3_str: every append
** returns 0 or -1, and after a failure `failed` stays set and later appends
** do nothing. A writer can therefore append a whole file and check `failed`
** once at the end instead of after every piece. The content is not
** NUL-terminated (it may contain NUL bytes); `len` is its length.
*/
#ifndef SQLMIG_BUF_H
#define SQLMIG_BUF_H

#include <stddef.h>

#if defined(__GNUC__)
#define BUF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define BUF_PRINTF(f, a)
#endif

struct buf {
    char *data;   /* NULL until the first append */
    size_t len;   /* bytes in use */
    size_t cap;   /* bytes allocated */
    int failed;   /* an allocation failed: the content is incomplete */
};

/* A zeroed struct buf is an empty buffer; buf_init() just does that. */
void buf_init(struct buf *b);

/* Release the memory; the buffer is empty (and not failed) again. */
void buf_free(struct buf *b);

/* Append `len` bytes (`data` may be NULL when `len` is 0). 0, or -1 on failure. */
int buf_append(struct buf *b, const void *data, size_t len);

/* Append a NUL-terminated string, without its NUL. */
int buf_puts(struct buf *b, const char *s);

/* Append one byte (`c` is converted to unsigned char). */
int buf_putc(struct buf *b, int c);

/* Append printf-formatted text. -1 also when the format itself fails. */
int buf_printf(struct buf *b, const char *fmt, ...) BUF_PRINTF(2, 3);

#endif
