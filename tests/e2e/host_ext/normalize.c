/*
** normalize.c — an application SQL function, normalize(text): blanks at
** both ends dropped, ASCII letters in lower case. Built twice: as a
** loadable extension that `sqlmig compile --load-extension` gives the
** build-time replay, and into the program (with -DSQLITE_CORE), which
** registers it on sqlmig's connection from sqlmig_options.connect.
*/
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include <stdlib.h>
#include <string.h>

static void normalize(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    const unsigned char *s = sqlite3_value_text(argv[0]);
    size_t n, i;
    char *out;

    (void)argc;
    if (!s) {
        sqlite3_result_null(cx);
        return;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen((const char *)s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (!(out = malloc(n + 1))) {
        sqlite3_result_error_nomem(cx);
        return;
    }
    for (i = 0; i < n; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    sqlite3_result_text(cx, out, (int)n, free);
}

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_normalize_init(sqlite3 *db, char **err, const sqlite3_api_routines *api);

int sqlite3_normalize_init(sqlite3 *db, char **err, const sqlite3_api_routines *api)
{
    (void)err;
    SQLITE_EXTENSION_INIT2(api);
    return sqlite3_create_function(db, "normalize", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, normalize,
                                   NULL, NULL);
}
