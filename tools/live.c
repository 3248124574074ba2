/*
** live.c — the `sqlmig` commands over a live database: status, up, down,
** verify, adopt, resolve, repair and reset DB --dir DIR. Each reads the folder and
** replays it as `sqlmig compile` does, builds in memory the very set a
** compiled program would embed, and runs the runtime's own function on the
** database file; nothing here decides what a migration does.
*/
#include "live.h"

#include "args.h"
#include "diag.h"
#include "replay.h"
#include "sqlmig.h"

#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The set a compiled program would embed, built from the folder. */
struct owned {
    struct sqlmig_set set;
    struct sqlmig_migration *ms;
    struct sqlmig_object *objects;
    struct sqlmig_change *changes;
    const char **toolsums;
};

static void owned_free(struct owned *o)
{
    free(o->ms);
    free(o->objects);
    free(o->changes);
    free((void *)o->toolsums);
    memset(o, 0, sizeof *o);
}

static void migration_of(struct sqlmig_migration *m, const struct tool_migration *t)
{
    m->version = t->version;
    m->name = t->name;
    m->file = t->file;
    m->up_sql = t->up;
    m->up_len = t->up_len;
    m->up_line = t->up_line;
    m->down_sql = t->down;
    m->down_len = t->down_len;
    m->down_file = t->down_file;
    m->down_line = t->down_line;
    m->checksum = t->checksum;
    m->flags = t->flags;
}

/* The set from a folder read and replayed; its strings stay f's. 0, or 1 when out of memory. */
static int build_set(const struct tool_folder *f, struct owned *o)
{
    size_t n = f->count + f->repeatable_count, i;

    memset(o, 0, sizeof *o);
    o->ms = calloc(n ? n : 1, sizeof *o->ms);
    o->objects = calloc(f->object_count ? f->object_count : 1, sizeof *o->objects);
    o->changes = calloc(f->change_count ? f->change_count : 1, sizeof *o->changes);
    o->toolsums = calloc(f->count ? f->count : 1, sizeof *o->toolsums);
    if (!o->ms || !o->objects || !o->changes || !o->toolsums) {
        owned_free(o);
        diag_fatal("out of memory");
        return 1;
    }
    for (i = 0; i < f->count; i++) {
        migration_of(&o->ms[i], &f->items[i]);
        o->toolsums[i] = f->items[i].toolsum;
    }
    for (i = 0; i < f->repeatable_count; i++)
        migration_of(&o->ms[f->count + i], &f->repeatables[i]);
    for (i = 0; i < f->object_count; i++) {
        o->objects[i].type = f->objects[i].type;
        o->objects[i].name = f->objects[i].name;
        o->objects[i].sql = f->objects[i].sql;
    }
    for (i = 0; i < f->change_count; i++) {
        o->changes[i].step = f->changes[i].step;
        o->changes[i].type = f->changes[i].type;
        o->changes[i].name = f->changes[i].name;
        o->changes[i].fingerprint = f->changes[i].fp;
    }
    o->set.migrations = f->count ? o->ms : NULL;
    o->set.count = f->count;
    o->set.repeatables = f->repeatable_count ? o->ms + f->count : NULL;
    o->set.repeatable_count = f->repeatable_count;
    o->set.objects = f->object_count ? o->objects : NULL;
    o->set.object_count = f->object_count;
    o->set.changes = f->change_count ? o->changes : NULL;
    o->set.change_count = f->change_count;
    o->set.layout = f->layout_label;
    o->set.toolsums = f->count && f->items[0].toolsum[0] ? o->toolsums : NULL;
    o->set.snapshot_note = "the sqlmig command replays every migration";
    return 0;
}

/*
** `sqlmig reset`: every object of the database and its rows gone, before up
** applies the whole folder again. For development databases only: it is
** not one of sqlmig_main()'s commands, so no program ships it; it does
** nothing without --yes; and it waits for no other connection (VACUUM
** fails at once while another one uses the file).
*/
static int reset_database(sqlite3 *db, const char *path, size_t migrations, int yes, int dry_run)
{
    sqlite3_stmt *st = NULL;
    int objects = -1, rc;

    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                           -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        objects = sqlite3_column_int(st, 0);
    if (sqlite3_finalize(st) != SQLITE_OK || objects < 0) {
        fprintf(stderr, "sqlmig: %s: cannot read the schema: %s\n", path, sqlite3_errmsg(db));
        return 1;
    }
    if (!yes || dry_run) {
        printf("reset deletes the %d schema object%s of %s and every row, then applies the %zu migration%s again\n"
               "nothing done: %s\n", objects, objects == 1 ? "" : "s", path, migrations, migrations == 1 ? "" : "s",
               dry_run ? "a dry run" : "add --yes to reset (a development database only)");
        return dry_run ? -1 : 1;
    }
    rc = sqlite3_db_config(db, SQLITE_DBCONFIG_RESET_DATABASE, 1, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "VACUUM", NULL, NULL, NULL);
    /* Switched off whatever happened: it is a setting of this connection. */
    if (sqlite3_db_config(db, SQLITE_DBCONFIG_RESET_DATABASE, 0, NULL) != SQLITE_OK && rc == SQLITE_OK)
        rc = SQLITE_ERROR;
    if (rc != SQLITE_OK) {
        fprintf(stderr, "sqlmig: %s: cannot reset: %s%s\n", path, sqlite3_errmsg(db),
                rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? " (another connection uses the database)" : "");
        return 1;
    }
    printf("reset: %d schema object%s deleted\n", objects, objects == 1 ? "" : "s");
    return 0;
}

/* ---- the command line ---------------------------------------------------- */

static const char *const commands[] = { "status", "up", "down", "verify", "adopt", "resolve", "repair", "reset" };

int live_is_command(const char *command)
{
    size_t i;

    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(command, commands[i]) == 0)
            return 1;
    return 0;
}

/* Options of the commands (sqlmig_main()) that take a value. */
static int takes_value(const char *a)
{
    return strcmp(a, "--to") == 0 || strcmp(a, "--version") == 0 || strcmp(a, "--from") == 0
           || strcmp(a, "--from-table") == 0 || strcmp(a, "--user-version") == 0;
}

int live_command(const char *command, int argc, char **argv)
{
    struct reading r;
    struct tool_folder f;
    struct owned o;
    sqlmig_options opt;
    sqlite3 *db = NULL;
    const char *path = NULL, *table = NULL;
    char **rest = calloc((size_t)argc + 2, sizeof *rest);
    int i, n = 0, rc, status, help = 0, yes = 0, dry_run = 0, resolve = strcmp(command, "resolve") == 0,
        reset = strcmp(command, "reset") == 0;

    if (!rest) {
        diag_fatal("out of memory");
        return 1;
    }
    /* sqlmig's own options here; the command's go to sqlmig_main(). */
    reading_init(&r);
    rest[n++] = reset ? "up" : (char *)command;
    for (i = 0; i < argc; i++) {
        int got = reading_option(&r, command, argc, argv, &i, &status);
        if (got < 0) {
            free(rest);
            return status;
        }
        if (got > 0)
            continue;
        if ((strcmp(argv[i], "--dir") == 0 || strcmp(argv[i], "--table") == 0) && i + 1 < argc) {
            *(argv[i][2] == 'd' ? &r.dir : &table) = argv[i + 1];
            i++;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help = 1;
        } else if (reset && strcmp(argv[i], "--yes") == 0) {
            yes = 1;
        } else if (reset && strcmp(argv[i], "--dry-run") == 0) {
            dry_run = 1; /* not passed on: up would run after a real reset */
        } else if (!path && argv[i][0] != '-') {
            path = argv[i];
        } else {
            rest[n++] = argv[i];
            if (takes_value(argv[i]) && i + 1 < argc)
                rest[n++] = argv[++i];
        }
    }
    if (help && reset) {
        printf("usage: sqlmig reset DB --dir DIR --yes|--dry-run [--to VERSION] [--table NAME] [--layout NAME] ...\n"
               "Delete every table, view, index and trigger of DB and every row, then apply\n"
               "every migration of DIR, as `up` does. For development databases: without\n"
               "--yes it says what it would delete and does nothing; it fails at once while\n"
               "another connection uses DB; programs do not get it through sqlmig_main().\n"
               "Exit status: 0 done; 1 refused or nothing done; 2 a usage error.\n");
        free(rest);
        return 0;
    }
    if (help) {
        printf("usage: sqlmig %s DB%s [--table NAME] [--layout NAME] [--load-extension FILE[:ENTRY]]...\n"
               "                [--placeholder NAME=VALUE]...; then, of %s:\n", command, resolve ? "" : " --dir DIR",
               command);
        rest[1] = "--help";
        rc = sqlmig_main(NULL, NULL, NULL, 2, rest);
        printf("Exit status: 0 done; 1 the database, the folder or a migration refused (the SQLMIG_ code is\n"
               "printed); 2 a usage error.\n");
        free(rest);
        return rc;
    }
    if (!path || (!r.dir && !resolve)) {
        free(rest);
        return usage_error(command, "%s", !path ? "no database given" : "no migrations folder given (--dir DIR)");
    }
    memset(&f, 0, sizeof f);
    memset(&o, 0, sizeof o);
    if (r.dir && ((rc = read_folder(&r, &f)) != 0 || (rc = replay_folder(&f, 0, 0)) != 0
                  || (rc = build_set(&f, &o)) != 0)) {
        tool_folder_free(&f);
        free(rest);
        return 1;
    }
    /* The file must exist for all but up, which creates it as a program would. */
    rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | (strcmp(command, "up") == 0 ? SQLITE_OPEN_CREATE : 0),
                         NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "sqlmig: %s: cannot open the database: %s%s\n", path, db ? sqlite3_errmsg(db) : "out of memory",
                access(path, F_OK) != 0 ? " (there is no such file; `sqlmig up` creates it)" : "");
        rc = 1;
    } else {
        memset(&opt, 0, sizeof opt);
        opt.table = table;
        opt.flags = isatty(STDOUT_FILENO) ? SQLMIG_TERMINAL : 0;
        rc = reset ? reset_database(db, path, f.count, yes, dry_run) : 0;
        if (rc == 0)
            rc = sqlmig_main(db, &o.set, &opt, n, rest);
        else if (rc < 0) /* a dry run of reset: said, and done */
            rc = 0;
    }
    if (db && sqlite3_close(db) != SQLITE_OK && rc == 0) {
        fprintf(stderr, "sqlmig: %s: cannot close the database\n", path);
        rc = 1;
    }
    owned_free(&o);
    tool_folder_free(&f);
    free(rest);
    return rc;
}
