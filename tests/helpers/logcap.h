/*
** logcap.h — the lines a call passes to sqlmig_options.log, kept for the
** runtime tests to look for: up to 40, each as "LEVEL message".
*/
#ifndef SQLMIG_LOGCAP_H
#define SQLMIG_LOGCAP_H

#include <stdio.h>
#include <string.h>

struct log {
    int n;
    char lines[40][512];
};

/* sqlmig_options.log, with log_ctx a struct log. */
static inline void on_log(void *ctx, int level, const char *msg)
{
    struct log *l = ctx;
    if (l->n < 40)
        snprintf(l->lines[l->n++], sizeof l->lines[0], "%d %s", level, msg);
}

/* How many kept lines contain `needle`. */
static inline int logged(const struct log *l, const char *needle)
{
    int i, n = 0;
    for (i = 0; i < l->n; i++)
        n += strstr(l->lines[i], needle) != NULL;
    return n;
}

#endif
