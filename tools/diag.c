/*
** diag.c — print diagnostics in the compilers' format (see diag.h).
*/
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    if (line > 0 && col > 0)
        fprintf(stderr, "%s:%u:%u: %s: ", path, line, col, kind);
    else if (line > 0)
        fprintf(stderr, "%s:%u: %s: ", path, line, kind);
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

struct diag_item {
    enum diag_kind kind;
    char *path;
    unsigned line, col;
    char *text;
    int printed;
};

void diag_add(struct diag_list *l, enum diag_kind kind, const char *path, unsigned line, unsigned col,
              const char *fmt, ...)
{
    struct diag_item *it;
    va_list ap;
    int n;

    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct diag_item *grown = realloc(l->items, cap * sizeof *grown);
        if (!grown) {
            l->lost++;
            return;
        }
        l->items = grown;
        l->cap = cap;
    }
    it = &l->items[l->count];
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    it->text = n >= 0 ? malloc((size_t)n + 1) : NULL;
    it->path = strdup(path);
    if (!it->text || !it->path) {
        free(it->text);
        free(it->path);
        l->lost++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(it->text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    it->kind = kind;
    it->line = line;
    it->col = col;
    it->printed = 0;
    l->count++;
}

static int by_place(const void *pa, const void *pb)
{
    const struct diag_item *a = pa, *b = pb;
    int c = strcmp(a->path, b->path);

    if (c)
        return c;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return strcmp(a->text, b->text);
}

/* Print through report(), which takes a va_list. */
static void report_item(const char *kind, const struct diag_item *it, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(kind, it->path, it->line, it->col, fmt, ap);
    va_end(ap);
}

size_t diag_flush(struct diag_list *l)
{
    static const char *const kinds[] = { "error", "warning", "note" };
    size_t i, k, errors = 0;

    if (l->count > 1)
        qsort(l->items, l->count, sizeof *l->items, by_place);
    for (i = 0; i < l->count; i++) {
        struct diag_item *it = &l->items[i];
        char more[400] = "";
        size_t same = 0, len = 0, dir = strrchr(it->path, '/') ? (size_t)(strrchr(it->path, '/') - it->path) + 1 : 0;

        errors += it->kind == DIAG_ERROR;
        if (it->printed || (l->errors_only && it->kind != DIAG_ERROR))
            continue;
        for (k = i + 1; k < l->count; k++) {
            struct diag_item *o = &l->items[k];
            if (o->printed || o->kind != it->kind || strcmp(o->text, it->text) != 0 || strcmp(o->path, it->path) == 0)
                continue;
            o->printed = 1;
            /* Files of the same folder by their names alone. */
            if (same++ < 3 && len < sizeof more)
                len += (size_t)snprintf(more + len, sizeof more - len, "%s%s", same > 1 ? ", " : "",
                                        strncmp(o->path, it->path, dir) == 0 ? o->path + dir : o->path);
        }
        if (same == 0)
            report_item(kinds[it->kind], it, "%s", it->text);
        else
            report_item(kinds[it->kind], it, "%s (the same in %zu more file%s: %s%s)", it->text, same,
                        same == 1 ? "" : "s", more, same > 3 ? ", ..." : "");
    }
    if (l->lost) {
        diag_fatal("out of memory: %d more messages lost", l->lost);
        errors++;
    }
    for (i = 0; i < l->count; i++) {
        free(l->items[i].path);
        free(l->items[i].text);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
    return errors;
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
