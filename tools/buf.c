/*
** buf.c — the growable byte buffer of buf.h.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void buf_init(struct buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = 0;
}

void buf_free(struct buf *b)
{
    free(b->data);
    buf_init(b);
}

/* Make room for `more` bytes after `len`. 0, or -1 (and `failed`) if not. */
static int buf_reserve(struct buf *b, size_t more)
{
    size_t want, cap;
    char *p;

    if (b->failed)
        return -1;
    if (more > (size_t)-1 - b->len) {
        b->failed = 1; /* the size itself would overflow */
        return -1;
    }
    want = b->len + more;
    if (want <= b->cap)
        return 0;
    /* Double, so that n appends cost O(n) copying in total. */
    cap = b->cap ? b->cap : 256;
    while (cap < want)
        cap = cap > (size_t)-1 / 2 ? want : cap * 2;
    p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
    if (buf_reserve(b, len) != 0)
        return -1;
    if (len > 0) {
        memcpy(b->data + b->len, data, len);
        b->len += len;
    }
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_putc(struct buf *b, int c)
{
    if (buf_reserve(b, 1) != 0)
        return -1;
    b->data[b->len++] = (char)(unsigned char)c;
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed)
        return -1;
    /* First pass measures, second pass writes (vsnprintf also writes a NUL,
    ** which the reserve below leaves room for but `len` does not count). */
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return -1;
    }
    if (buf_reserve(b, (size_t)n + 1) != 0)
        return -1;
    va_start(ap, fmt);
    n = vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return -1;
    }
    b->len += (size_t)n;
    return 0;
}
