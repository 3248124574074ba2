/*
** demo — the example application of sqlmig.
**
**   demo [--dry-run] [--batch] [--target N] [DATABASE]
**   demo migrate status|up|down|verify|adopt|resolve|repair [...]
**
** Opens DATABASE (default: DEMO_DATABASE, which the build sets to demo.db in
** the build folder), brings it to
** the newest schema embedded in the program (migrations/, compiled at build
** time into demo_migrations), then prints the state of every migration and
** whether the live schema matches the embedded one. Exits 0 when all is
** well, 1 on any failure, 2 on a usage error. `demo migrate ...` is the
** runtime's own command line (sqlmig_main()) on DEMO_DB, or DEMO_DATABASE:
** the same commands and output as `sqlmig status|up|... DB --dir migrations`.
*/
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "demo_migrations.h"

#ifndef DEMO_DATABASE
#define DEMO_DATABASE "demo.db"
#endif

#define NCOLS 5

struct args {
    const char *path;
    unsigned flags;   /* SQLMIG_DRY_RUN | SQLMIG_BATCH */
    int64_t target;   /* 0: the newest version */
};

/* Column widths, measured in a first walk over the status, then printed. */
struct table {
    int width[NCOLS];
    size_t pending;
};

/* The text of one row of the status table. */
struct cells {
    char version[24];
    char ms[24];
    const char *text[NCOLS];
};

static const char *const headers[NCOLS] = {
    "VERSION", "NAME", "STATE", "APPLIED AT", "MS"
};

static void usage(FILE *out)
{
    fputs("usage: demo [--dry-run] [--batch] [--target N] [DATABASE]\n"
          "  DATABASE     SQLite file to migrate (default: " DEMO_DATABASE ")\n"
          "  --dry-run    print the plan, change nothing\n"
          "  --batch      apply all pending migrations in one transaction\n"
          "  --target N   migrate up to version N only\n",
          out);
}

/* Returns 0, or the exit status for a usage error (or -1 after --help). */
static int parse_args(int argc, char **argv, struct args *a)
{
    *a = (struct args){ .path = DEMO_DATABASE };
    int have_path = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--dry-run") == 0) {
            a->flags |= SQLMIG_DRY_RUN;
        } else if (strcmp(arg, "--batch") == 0) {
            a->flags |= SQLMIG_BATCH;
        } else if (strcmp(arg, "--target") == 0) {
            if (++i == argc) {
                fputs("demo: --target needs a version\n", stderr);
                return 2;
            }
            char *end = NULL;
            errno = 0;
            long long v = strtoll(argv[i], &end, 10);
            if (errno != 0 || end == argv[i] || *end != '\0' || v <= 0) {
                fprintf(stderr, "demo: --target: not a version: %s\n", argv[i]);
                return 2;
            }
            a->target = (int64_t)v;
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return -1;
        } else if (arg[0] == '-' || have_path) {
            fprintf(stderr, "demo: unexpected argument: %s\n", arg);
            usage(stderr);
            return 2;
        } else {
            a->path = arg;
            have_path = 1;
        }
    }
    return 0;
}

static void log_line(void *ctx, int level, const char *message)
{
    (void)ctx;
    (void)level;
    fprintf(stderr, "sqlmig: %s\n", message);
}

static int fail(int code, const sqlmig_result *res)
{
    fprintf(stderr, "demo: %s: %s\n", sqlmig_errname(code),
            res->message[0] != '\0' ? res->message : sqlmig_errstr(code));
    return 1;
}

static const char *state_name(int state)
{
    switch (state) {
    case SQLMIG_PENDING:    return "pending";
    case SQLMIG_APPLIED:    return "applied";
    case SQLMIG_CHANGED:    return "changed";
    case SQLMIG_STARTED:    return "started";
    case SQLMIG_NOT_IN_SET: return "not in set";
    default:                return "?";
    }
}

static void make_cells(const struct sqlmig_status_row *row, struct cells *c)
{
    snprintf(c->version, sizeof c->version, "%" PRId64, row->version);
    if (row->execution_ms >= 0)
        snprintf(c->ms, sizeof c->ms, "%" PRId64, row->execution_ms);
    else
        snprintf(c->ms, sizeof c->ms, "-");
    c->text[0] = c->version;
    c->text[1] = row->name != NULL ? row->name : "";
    c->text[2] = state_name(row->state);
    c->text[3] = row->applied_at != NULL ? row->applied_at : "-";
    c->text[4] = c->ms;
}

static int measure_row(void *ctx, const struct sqlmig_status_row *row)
{
    struct table *t = ctx;
    struct cells c;
    make_cells(row, &c);
    for (int i = 0; i < NCOLS; i++) {
        size_t len = strlen(c.text[i]);
        if (len > (size_t)t->width[i])
            t->width[i] = len > 200 ? 200 : (int)len;
    }
    if (row->state == SQLMIG_PENDING)
        t->pending++;
    return 0;
}

/* Numbers right-aligned, text left-aligned. */
static void print_cells(const struct table *t, const char *const text[NCOLS])
{
    printf("%*s  %-*s  %-*s  %-*s  %*s\n",
           t->width[0], text[0], t->width[1], text[1], t->width[2], text[2],
           t->width[3], text[3], t->width[4], text[4]);
}

static int print_row(void *ctx, const struct sqlmig_status_row *row)
{
    struct cells c;
    make_cells(row, &c);
    print_cells(ctx, c.text);
    return 0;
}

static int print_status(sqlite3 *db, const sqlmig_options *opts,
                        struct table *t, sqlmig_result *res)
{
    *t = (struct table){ .pending = 0 };
    for (int i = 0; i < NCOLS; i++)
        t->width[i] = (int)strlen(headers[i]);
    int rc = sqlmig_status(db, &demo_migrations, opts, measure_row, t, res);
    if (rc != SQLMIG_OK)
        return rc;
    printf("\n");
    print_cells(t, headers);
    return sqlmig_status(db, &demo_migrations, opts, print_row, t, res);
}

static int run(sqlite3 *db, const struct args *a)
{
    if (sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "demo: %s: %s\n", a->path, sqlite3_errmsg(db));
        return 1;
    }

    const sqlmig_options opts = {
        .target = a->target,
        .flags = a->flags,
        .log = log_line,
    };
    sqlmig_result res = { .code = SQLMIG_OK };
    int rc = sqlmig_migrate(db, &demo_migrations, &opts, &res);
    if (rc != SQLMIG_OK)
        return fail(rc, &res);

    if (res.applied == 0)
        printf("%s is up to date at version %" PRId64 "\n", a->path, res.to_version);
    else if (a->flags & SQLMIG_DRY_RUN)
        printf("dry run: %s is at version %" PRId64 ", %zu migration(s) would be applied\n",
               a->path, res.from_version, res.applied);
    else
        printf("migrated %s from version %" PRId64 " to %" PRId64 " (%zu applied)\n",
               a->path, res.from_version, res.to_version, res.applied);

    struct table table;
    rc = print_status(db, &opts, &table, &res);
    if (rc != SQLMIG_OK)
        return fail(rc, &res);

    rc = sqlmig_verify(db, &demo_migrations, &opts, &res);
    if (rc != SQLMIG_OK) {
        printf("schema: %s: %s\n", sqlmig_errname(rc),
               res.message[0] != '\0' ? res.message : sqlmig_errstr(rc));
        return 1;
    }
    if (table.pending == 0)
        printf("schema: matches the embedded schema\n");
    else
        printf("schema: not compared, %zu migration(s) pending\n", table.pending);
    return 0;
}

int main(int argc, char **argv)
{
    struct args a;
    int status;

    if (argc > 1 && strcmp(argv[1], "migrate") == 0) {
        const char *path = getenv("DEMO_DB") ? getenv("DEMO_DB") : DEMO_DATABASE;
        sqlite3 *db = NULL;
        status = sqlite3_open(path, &db) == SQLITE_OK ? sqlmig_main(db, &demo_migrations, NULL, argc - 2, argv + 2) : 1;
        return sqlite3_close(db) == SQLITE_OK ? status : 1;
    }
    status = parse_args(argc, argv, &a);
    if (status != 0)
        return status < 0 ? 0 : status;

    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(a.path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "demo: cannot open %s: %s\n", a.path,
                db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        (void)sqlite3_close(db);
        return 1;
    }

    status = run(db, &a);

    if (sqlite3_close(db) != SQLITE_OK) {
        fprintf(stderr, "demo: closing %s: %s\n", a.path, sqlite3_errmsg(db));
        status = 1;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "demo: error writing to standard output\n");
        status = 1;
    }
    return status;
}
