/*
** tap.h — the few lines of TAP (Test Anything Protocol) the C tests print,
** so that `meson test` counts every assertion. Each test file defines
** TAP_STATE once by including this header; no global state is shared
** between files.
*/
#ifndef SQLMIG_TAP_H
#define SQLMIG_TAP_H

#include <stdarg.h>
#include <stdio.h>

struct tap {
    int run;
    int failed;
};

/* Print "ok N - what" or "not ok N - what"; return cond so callers can chain. */
static int tap_ok(struct tap *t, int cond, const char *fmt, ...)
{
    va_list ap;
    t->run++;
    if (!cond)
        t->failed++;
    printf("%sok %d - ", cond ? "" : "not ", t->run);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    return cond;
}

/* Print a diagnostic line that TAP consumers show next to a failure. */
static void tap_diag(const char *fmt, ...)
{
    va_list ap;
    fputs("# ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* Print the plan and return the process exit status. */
static int tap_done(struct tap *t)
{
    printf("1..%d\n", t->run);
    return t->failed ? 1 : 0;
}

#endif
