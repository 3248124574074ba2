/*
** new.c — `sqlmig new DIR NAME [--down] [--layout NAME]`.
**
** The folder is read first, as compile reads it, so that the new file
** follows the folder's own tool: its layout, its numbering (a sequence
** padded as the existing files are, or a UTC timestamp where the folder
** already uses them), its up and down convention. The template holds
** NEW_PLACEHOLDER, which compiles (with a warning) until it is replaced.
*/
#include "new.h"

#include "args.h"
#include "diag.h"
#include "folder.h"
#include "layout.h"
#include "model.h"
#include "scan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The most files one migration takes (an up and a down file). */
#define NEW_FILES 2

struct new_file {
    char rel[600];           /* relative to DIR */
    const char *text;
};

/*
** Why `name` cannot be a migration's name, or NULL when it can: letters,
** digits, '_' and '-' (and any byte of a UTF-8 sequence), so that every
** layout reads the name back whole.
*/
static const char *name_problem(const char *name, char *why, size_t cap)
{
    size_t i, len = strlen(name);

    if (len == 0)
        return "the name is empty";
    if (len > 200)
        return "the name is longer than 200 bytes";
    if (len > 4 && strcmp(name + len - 4, ".sql") == 0) {
        snprintf(why, cap, "'%s' ends in .sql: give the name alone; sqlmig new adds the extension", name);
        return why;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 0x80 || c == '_' || c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
            || (c >= 'A' && c <= 'Z'))
            continue;
        if (c == ' ' || c == '\t')
            snprintf(why, cap, "'%s' holds a blank, which a migration's file name should not: "
                     "write words with '_' (add_users)", name);
        else if (c < 0x20 || c == 0x7f)
            snprintf(why, cap, "the name holds the control character \\x%02x", c);
        else
            snprintf(why, cap, "'%s' holds '%c': a name is letters, digits, '_' and '-'", name, c);
        return why;
    }
    return NULL;
}

/* The digits of the newest migration's version as its file writes them. */
static size_t version_digits(const struct tool_migration *m, enum scan_layout layout, char *out, size_t cap)
{
    const char *s = m->file, *slash = strrchr(s, '/');
    size_t n = 0;

    if (layout == LAYOUT_FLYWAY)
        s = (slash ? slash + 1 : s) + 1;        /* after the V */
    for (; *s && n + 1 < cap; s++) {
        if (*s >= '0' && *s <= '9')
            out[n++] = *s;
        else if (!(layout == LAYOUT_DIESEL && *s == '-'))
            break;
    }
    out[n] = '\0';
    return n;
}

/* A version that reads as a UTC time YYYYMMDDhhmmss. */
static int is_timestamp(const char *digits)
{
    return strlen(digits) == 14 && (strncmp(digits, "19", 2) == 0 || strncmp(digits, "20", 2) == 0);
}

/* What the layout numbers its first migration with when the folder has none. */
static int starts_with_timestamp(enum scan_layout layout)
{
    return layout != LAYOUT_PLAIN && layout != LAYOUT_FLYWAY;
}

/*
** The next version, written into `out` as the file name will hold it
** (diesel's with its dashes); 0 when none is left.
*/
static int next_version(const struct tool_folder *f, enum scan_layout layout, char *out, size_t cap)
{
    char newest[64] = "";
    size_t width = layout == LAYOUT_PLAIN || layout == LAYOUT_SQLX ? 4 : layout == LAYOUT_GOOSE ? 5
                   : layout == LAYOUT_GOLANG_MIGRATE ? 6 : 1;
    int64_t last = 0;
    size_t i;

    for (i = 0; i < f->count; i++) {
        char d[64];
        size_t n = version_digits(&f->items[i], layout, d, sizeof d);
        if (i == 0 || n > width)
            width = n;
        if (i + 1 == f->count)
            memcpy(newest, d, n + 1);
    }
    if (f->count > 0) {
        errno = 0;
        last = strtoll(newest, NULL, 10);
        if (errno != 0 || last == INT64_MAX)
            return 0;
    }
    if (layout == LAYOUT_DIESEL || (f->count > 0 ? is_timestamp(newest) : starts_with_timestamp(layout))) {
        time_t now = time(NULL);
        struct tm tm;
        char stamp[32];
        if (gmtime_r(&now, &tm) == NULL || strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm) != 14)
            return 0;
        /* Never before the newest, whatever the clock says. */
        if (strtoll(stamp, NULL, 10) <= last)
            snprintf(stamp, sizeof stamp, "%014" PRId64, last + 1);
        if (layout == LAYOUT_DIESEL)
            snprintf(out, cap, "%.4s-%.2s-%.2s-%.6s", stamp, stamp + 4, stamp + 6, stamp + 8);
        else
            snprintf(out, cap, "%s", stamp);
        return 1;
    }
    snprintf(out, cap, "%0*" PRId64, (int)width, last + 1);
    return 1;
}

/* The newest migration is an .up.sql file with a .down.sql beside it. */
static int folder_pairs(const struct tool_folder *f)
{
    const char *file = f->count ? f->items[f->count - 1].file : "";
    size_t n = strlen(file);

    return n > 7 && strcmp(file + n - 7, ".up.sql") == 0;
}

/* golang-migrate's extension: the newest up file's (".sql" when none). */
static const char *migrate_extension(const struct tool_folder *f)
{
    const char *file = f->count ? f->items[f->count - 1].file : "", *up = strstr(file, ".up.");

    return up ? up + 4 : "sql";
}

#define BODY NEW_PLACEHOLDER "\n"
static const char plain_up[] =
    "-- Runs once, in one transaction, when the program starts; once applied\n"
    "-- anywhere, it is never edited: the next change is a new migration.\n" BODY;
static const char plain_down[] =
    "-- Undoes the up part: the build proves that up, down and up again give the\n"
    "-- same schema and rows.\n" BODY;
static const char goose_text[] =
    "-- +goose Up\n" BODY "\n-- +goose Down\n" BODY;
static const char dbmate_text[] =
    "-- migrate:up\n" BODY "\n-- migrate:down\n" BODY;

/*
** The files of the new migration, relative to the folder; returns how many,
** or 0 when the layout's own tool makes them.
*/
static size_t plan_files(const struct tool_folder *f, enum scan_layout layout, const char *version, const char *name,
                         int down, struct new_file *out)
{
    switch (layout) {
    case LAYOUT_PLAIN:
    case LAYOUT_SQLX:
        if (!down && !folder_pairs(f)) {
            snprintf(out[0].rel, sizeof out[0].rel, "%s_%s.sql", version, name);
            out[0].text = plain_up;
            return 1;
        }
        snprintf(out[0].rel, sizeof out[0].rel, "%s_%s.up.sql", version, name);
        snprintf(out[1].rel, sizeof out[1].rel, "%s_%s.down.sql", version, name);
        out[0].text = plain_up;
        out[1].text = plain_down;
        return 2;
    case LAYOUT_GOLANG_MIGRATE:
        snprintf(out[0].rel, sizeof out[0].rel, "%s_%s.up.%s", version, name, migrate_extension(f));
        snprintf(out[1].rel, sizeof out[1].rel, "%s_%s.down.%s", version, name, migrate_extension(f));
        out[0].text = plain_up;
        out[1].text = plain_down;
        return 2;
    case LAYOUT_GOOSE:
        snprintf(out[0].rel, sizeof out[0].rel, "%s_%s.sql", version, name);
        out[0].text = goose_text;
        return 1;
    case LAYOUT_DBMATE:
        snprintf(out[0].rel, sizeof out[0].rel, "%s_%s.sql", version, name);
        out[0].text = dbmate_text;
        return 1;
    case LAYOUT_DIESEL:
        snprintf(out[0].rel, sizeof out[0].rel, "%s_%s/up.sql", version, name);
        snprintf(out[1].rel, sizeof out[1].rel, "%s_%s/down.sql", version, name);
        out[0].text = plain_up;
        out[1].text = plain_down;
        return 2;
    case LAYOUT_FLYWAY:
        snprintf(out[0].rel, sizeof out[0].rel, "V%s__%s.sql", version, name);
        out[0].text = plain_up;
        if (!down)
            return 1;
        snprintf(out[1].rel, sizeof out[1].rel, "U%s__%s.sql", version, name);
        out[1].text = plain_down;
        return 2;
    case LAYOUT_DRIZZLE:
    case LAYOUT_COUNT:
        break;
    }
    return 0;
}

/* Drizzle's journal lists its migrations, and drizzle-kit writes both. */
static int drizzle_refused(const char *dir, const char *name)
{
    diag_error(dir, 0, 0, "drizzle-kit writes Drizzle's migrations and their journal: "
               "create this one with `drizzle-kit generate --custom --name %s`", name);
    return 1;
}

/* Create `path` holding `text`; never over an existing file. */
static int write_new(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wx");
    int ok = fp && fputs(text, fp) >= 0;

    if (fp && fclose(fp) != 0) /* closed whether or not the write worked */
        ok = 0;
    if (!ok) {
        diag_error(path, 0, 0, "cannot create: %s", strerror(errno));
        if (fp)
            (void)remove(path);
    }
    return ok;
}

int new_command(int argc, char **argv)
{
    struct reading r;
    struct tool_folder f;
    struct new_file files[NEW_FILES];
    const char *name = NULL, *problem;
    char why[400], version[64], rel[600], *path, *sub = NULL;
    size_t count, i, made = 0;
    enum scan_layout layout;
    int down = 0, status;

    reading_init(&r);
    for (int a = 0; a < argc; a++) {
        int got = reading_option(&r, "new", argc, argv, &a, &status);
        if (got < 0)
            return status;
        if (got > 0)
            continue;
        if (strcmp(argv[a], "--down") == 0)
            down = 1;
        else if (argv[a][0] == '-' && argv[a][1] != '\0')
            return usage_error("new", "unknown option '%s'", argv[a]);
        else if (!r.dir)
            r.dir = argv[a];
        else if (!name)
            name = argv[a];
        else
            return usage_error("new", "more than a folder and a name given ('%s')", argv[a]);
    }
    if (!r.dir || !name)
        return usage_error("new", "%s", !r.dir ? "no folder given" : "no name given");
    if ((problem = name_problem(name, why, sizeof why)) != NULL)
        return usage_error("new", "%s", problem);

    if (r.layout == LAYOUT_DRIZZLE)
        return drizzle_refused(r.dir, name);
    memset(&f, 0, sizeof f);
    if (folder_read(r.dir, r.layout, 1, &f) != 0) {
        tool_folder_free(&f);
        return 1;
    }
    layout = (enum scan_layout)f.layout;
    if (layout == LAYOUT_DRIZZLE) {
        tool_folder_free(&f);
        return drizzle_refused(r.dir, name);
    }
    if (down && (layout == LAYOUT_GOOSE || layout == LAYOUT_DBMATE || layout == LAYOUT_DIESEL
                 || layout == LAYOUT_GOLANG_MIGRATE))
        down = 0; /* their templates always hold a down part */
    if (!next_version(&f, layout, version, sizeof version)) {
        diag_error(f.count ? f.items[f.count - 1].path : r.dir, 0, 0, "no version is left after this one");
        tool_folder_free(&f);
        return 1;
    }
    count = plan_files(&f, layout, version, name, down, files);
    tool_folder_free(&f);

    if (layout == LAYOUT_DIESEL) {
        snprintf(rel, sizeof rel, "%s_%s", version, name);
        if (!(sub = layout_join(r.dir, rel))) {
            diag_fatal("out of memory");
            return 1;
        }
        if (mkdir(sub, 0777) != 0) {
            diag_error(sub, 0, 0, "cannot create the folder: %s", strerror(errno));
            free(sub);
            return 1;
        }
    }
    for (i = 0; i < count; i++) {
        int ok = (path = layout_join(r.dir, files[i].rel)) != NULL && write_new(path, files[i].text);
        if (!path)
            diag_fatal("out of memory");
        free(path);
        if (!ok)
            break;
        made++;
    }
    /* All or nothing: an up file without its down would read otherwise. */
    for (i = made < count ? made : 0; i-- > 0;) {
        if ((path = layout_join(r.dir, files[i].rel)) != NULL)
            (void)remove(path);
        free(path);
    }
    if (sub && made < count)
        (void)rmdir(sub);
    free(sub);
    if (made < count)
        return 1;
    for (i = 0; i < count; i++)
        printf("%s%s%s\n", r.dir, r.dir[0] && r.dir[strlen(r.dir) - 1] == '/' ? "" : "/", files[i].rel);
    return 0;
}
