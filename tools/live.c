/*
** live.c — the `sqlmig` commands over a live database: status, up, down,
** verify, adopt, resolve and repair DB --dir DIR. Each reads the folder and
** replays it as `sqlmig compile` does, builds in memory the very set a
** compiled program would embed, and runs the runtime's own function on the
** database file; nothing here decides what a migration does.
*/
#include "live.h"

#include "args.h"
#include "diag.h"
#include "replay.h"
#include "sqlmig.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the command line of one command gave. */
struct live {
    const char *command;
    struct reading r;
    const char *db;
    const char *table;
    int json, dry_run, yes;
    int64_t to;            /* --to V */
    int has_to;
    int64_t version;       /* adopt --version, resolve and repair VERSION */
    const char *from, *from_table;
    int64_t pairs[2 * 64]; /* adopt --user-version U=V */
    size_t npairs;
    const char *how;       /* resolve: applied | retry */
    int tty;               /* stdout is a terminal: progress lines and colour */
};

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

/* ---- output -------------------------------------------------------------- */

static void json_string(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

/* The runtime's lines: progress on a terminal only, problems always. */
static void on_log(void *ctx, int level, const char *message)
{
    const struct live *l = ctx;

    if (level == SQLMIG_LOG_INFO) {
        if (l->tty && !l->json)
            printf("  %s\n", message);
    } else if (!l->json) {
        fprintf(stderr, "%s%s\n", level == SQLMIG_LOG_WARN ? "warning: " : "", message);
    }
}

/* A failure of the runtime: "sqlmig: DB: SQLMIG_CODE: message"; exit status 1. */
static int failed(const struct live *l, int rc, const sqlmig_result *res)
{
    if (l->json) {
        printf("{\"database\": ");
        json_string(l->db);
        printf(", \"ok\": false, \"code\": \"%s\", \"message\": ", sqlmig_errname(rc));
        json_string(res->message);
        printf("}\n");
    } else {
        fprintf(stderr, "sqlmig: %s: %s: %s\n", l->db, sqlmig_errname(rc), res->message);
    }
    return 1;
}

static const char *state_name(int state)
{
    static const char *const names[] = { "pending", "applied", "changed", "started", "not in set", "outdated" };
    return state >= 0 && state <= SQLMIG_OUTDATED ? names[state] : "?";
}

struct rows {
    const struct live *l;
    int first;
    size_t pending;
};

static int status_row(void *ctx, const struct sqlmig_status_row *row)
{
    struct rows *s = ctx;
    const char *file = row->migration ? row->migration->file : row->name;
    /* Colour on a terminal: pending yellow, a problem red. */
    const char *on = !s->l->tty ? "" : row->state == SQLMIG_PENDING || row->state == SQLMIG_OUTDATED ? "\033[33m"
                   : row->state == SQLMIG_APPLIED ? "" : "\033[31m";

    s->pending += row->state == SQLMIG_PENDING || row->state == SQLMIG_OUTDATED;
    if (s->l->json) {
        printf("%s\n    {\"version\": %" PRId64 ", \"name\": ", s->first ? "" : ",", row->version);
        json_string(row->name);
        printf(", \"file\": ");
        json_string(row->migration ? row->migration->file : NULL);
        printf(", \"state\": \"%s\", \"applied_at\": ", state_name(row->state));
        if (row->applied_at)
            json_string(row->applied_at);
        else
            printf("null");
        printf(", \"execution_ms\": %" PRId64 "}", row->execution_ms);
    } else {
        char version[24];
        snprintf(version, sizeof version, row->version ? "%" PRId64 : "repeatable", row->version);
        printf("%s%-10s%s %14s  %s%s%s\n", on, state_name(row->state), *on ? "\033[0m" : "", version,
               file ? file : "?", row->applied_at ? "  " : "", row->applied_at ? row->applied_at : "");
    }
    s->first = 0;
    return 0;
}

/* ---- the commands -------------------------------------------------------- */

/* The newest applied migration of the set, and the one before it. */
struct newest {
    int64_t version, before;
};

static int newest_row(void *ctx, const struct sqlmig_status_row *row)
{
    struct newest *n = ctx;

    if (row->migration && row->version && (row->state == SQLMIG_APPLIED || row->state == SQLMIG_CHANGED)) {
        n->before = n->version;
        n->version = row->version;
    }
    return 0;
}

static int run(struct live *l, const struct sqlmig_set *set, sqlite3 *db)
{
    struct sqlmig_adoption how;
    sqlmig_options o;
    sqlmig_result res;
    struct rows rows;
    int rc;

    memset(&o, 0, sizeof o);
    o.table = l->table;
    o.log = on_log;
    o.log_ctx = l;
    o.flags = l->dry_run ? SQLMIG_DRY_RUN : 0;
    if (strcmp(l->command, "status") == 0) {
        memset(&rows, 0, sizeof rows);
        rows.l = l;
        rows.first = 1;
        if (l->json) {
            printf("{\"database\": ");
            json_string(l->db);
            printf(", \"migrations\": [");
        }
        rc = sqlmig_status(db, set, &o, status_row, &rows, &res);
        if (l->json) {
            printf("\n  ], \"version\": %" PRId64 ", \"pending\": %zu, \"ok\": %s, \"code\": \"%s\", \"message\": ",
                   res.to_version, rows.pending, rc ? "false" : "true", sqlmig_errname(rc));
            json_string(res.message);
            printf("}\n");
            return rc ? 1 : 0;
        }
        if (rc)
            return failed(l, rc, &res);
        printf("%s: version %" PRId64 ", %zu pending%s%s\n", l->db, res.to_version, rows.pending,
               res.message[0] ? "; " : "", res.message);
        return 0;
    }
    if (strcmp(l->command, "verify") == 0) {
        rc = sqlmig_verify(db, set, &o, &res);
        if (l->json) {
            printf("{\"database\": ");
            json_string(l->db);
            printf(", \"version\": %" PRId64 ", \"ok\": %s, \"code\": \"%s\", \"message\": ", res.to_version,
                   rc ? "false" : "true", sqlmig_errname(rc));
            json_string(res.message);
            printf("}\n");
            return rc ? 1 : 0;
        }
        if (rc)
            return failed(l, rc, &res);
        printf("%s: version %" PRId64 ", verified%s%s\n", l->db, res.to_version, res.message[0] ? ": " : "",
               res.message);
        return 0;
    }
    if (strcmp(l->command, "up") == 0) {
        o.target = l->has_to ? l->to : 0;
        if ((rc = sqlmig_migrate(db, set, &o, &res)) != 0)
            return failed(l, rc, &res);
        printf("%s: version %" PRId64 " -> %" PRId64 ", %zu %s\n", l->db, res.from_version,
               !l->dry_run ? res.to_version : l->has_to ? l->to : set->count ? set->migrations[set->count - 1].version
                                                                             : 0,
               res.applied, l->dry_run ? "to apply (dry run)" : "applied");
        return 0;
    }
    if (strcmp(l->command, "down") == 0) {
        int64_t target = l->to;
        if (!l->has_to) { /* the newest applied one only, as dbmate and goose do */
            struct newest n = { 0, 0 };
            if ((rc = sqlmig_status(db, set, &o, newest_row, &n, &res)) != 0)
                return failed(l, rc, &res);
            target = n.before;
        }
        if ((rc = sqlmig_rollback(db, set, &o, target, &res)) != 0)
            return failed(l, rc, &res);
        printf("%s: version %" PRId64 " -> %" PRId64 ", %zu %s\n", l->db, res.from_version,
               l->dry_run ? target : res.to_version, res.applied,
               l->dry_run ? "to roll back (dry run)" : "rolled back");
        return 0;
    }
    if (strcmp(l->command, "adopt") == 0) {
        memset(&how, 0, sizeof how);
        how.version = l->version;
        how.user_versions = l->npairs ? l->pairs : NULL;
        how.user_version_pairs = l->npairs;
        how.from = l->from;
        how.from_table = l->from_table;
        if ((rc = sqlmig_adopt(db, set, &o, &how, &res)) != 0)
            return failed(l, rc, &res);
        printf("%s: %s%s version %" PRId64 " (%zu migrations marked applied, not run)\n", l->db,
               res.message[0] ? res.message : "", res.message[0] ? "; at" : l->dry_run ? "would adopt at" : "adopted at",
               res.to_version, res.applied);
        return 0;
    }
    if (strcmp(l->command, "resolve") == 0) {
        rc = sqlmig_resolve(db, &o, l->version, strcmp(l->how, "applied") == 0 ? SQLMIG_RESOLVE_APPLIED
                                                                                : SQLMIG_RESOLVE_RETRY, &res);
        if (rc)
            return failed(l, rc, &res);
        printf("%s: version %" PRId64 " %s\n", l->db, l->version,
               strcmp(l->how, "applied") == 0 ? "marked applied" : "will run again");
        return 0;
    }
    return usage_error(l->command, "%s", "no such command");
}

/*
** repair DB VERSION: a migration edited on purpose after it was applied.
** Show the stored and the embedded checksum; with --yes, store the
** embedded one, so that the runtime accepts the file as it now is.
*/
static int repair(struct live *l, const struct sqlmig_set *set, sqlite3 *db)
{
    const struct sqlmig_migration *m = NULL;
    sqlite3_stmt *st = NULL;
    char sql[512], stored[200] = "";
    size_t i;
    int rc;

    for (i = 0; i < set->count; i++)
        if (set->migrations[i].version == l->version)
            m = &set->migrations[i];
    if (!m)
        return usage_error("repair", "version %" PRId64 " is not a migration of %s", l->version, l->r.dir);
    sqlite3_snprintf(sizeof sql, sql, "SELECT checksum FROM main.\"%w\" WHERE version = ?1",
                     l->table ? l->table : "schema_migrations");
    if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) == SQLITE_OK && sqlite3_bind_int64(st, 1, l->version) == SQLITE_OK
        && (rc = sqlite3_step(st)) == SQLITE_ROW)
        snprintf(stored, sizeof stored, "%s", sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0)
                                                                          : "NULL");
    sqlite3_finalize(st);
    if (!stored[0]) {
        fprintf(stderr, "sqlmig: %s: version %" PRId64 " is not in the ledger: %s\n", l->db, l->version,
                rc == SQLITE_DONE ? "nothing to repair" : sqlite3_errmsg(db));
        return 1;
    }
    printf("%s: version %" PRId64 " (%s)\n  stored checksum:   %s\n  embedded checksum: %s\n", l->db, l->version,
           m->file, stored, m->checksum);
    if (strcmp(stored, m->checksum) == 0) {
        printf("%s: they are the same: nothing to repair\n", l->db);
        return 0;
    }
    if (!l->yes) {
        printf("%s: nothing changed; if the edit is deliberate, and what the database holds is what the file now "
               "says, run again with --yes\n", l->db);
        return 1;
    }
    sqlite3_snprintf(sizeof sql, sql, "UPDATE main.\"%w\" SET checksum = ?1 WHERE version = ?2",
                     l->table ? l->table : "schema_migrations");
    sqlite3_busy_timeout(db, 5000);
    if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) == SQLITE_OK
        && sqlite3_bind_text(st, 1, m->checksum, -1, SQLITE_STATIC) == SQLITE_OK
        && sqlite3_bind_int64(st, 2, l->version) == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "sqlmig: %s: cannot store the checksum: %s\n", l->db, sqlite3_errmsg(db));
        return 1;
    }
    printf("%s: version %" PRId64 " now has the embedded checksum\n", l->db, l->version);
    return 0;
}

/* ---- the command line ---------------------------------------------------- */

static int number(const char *command, const char *what, const char *text, int64_t *out)
{
    char *end = NULL;

    errno = 0;
    *out = strtoll(text, &end, 10);
    if (errno || end == text || *end)
        return usage_error(command, "%s '%s' is not a number", what, text);
    return 0;
}

static const struct {
    const char *command, *text;
} helps[] = {
    { "status", "usage: sqlmig status DB --dir DIR [--json] [--table NAME]\n"
                "Every migration of DIR and every row of DB's ledger, with its state (applied, pending,\n"
                "changed, started, not in set, outdated) and when it was applied.\n" },
    { "up", "usage: sqlmig up DB --dir DIR [--to VERSION] [--dry-run] [--table NAME]\n"
            "Apply what is pending, as a program that embeds DIR would (DB is created if missing).\n" },
    { "down", "usage: sqlmig down DB --dir DIR [--to VERSION] [--dry-run] [--table NAME]\n"
              "Roll back the newest migration, or every one above VERSION (0: all), with their down parts.\n" },
    { "verify", "usage: sqlmig verify DB --dir DIR [--json] [--table NAME]\n"
                "Check the ledger, the checksums and, once all is applied, the schema against DIR's.\n" },
    { "adopt", "usage: sqlmig adopt DB --dir DIR [--version V | --user-version U=V... | --from TOOL\n"
               "                    [--from-table NAME]] [--dry-run] [--table NAME]\n"
               "Record in a new ledger the migrations a database made without sqlmig is at: found from\n"
               "its schema, given, mapped from PRAGMA user_version, or read from the ledger of TOOL\n"
               "(dbmate, golang-migrate, goose, sqlx, diesel, drizzle, flyway).\n" },
    { "resolve", "usage: sqlmig resolve DB VERSION applied|retry [--table NAME]\n"
                 "Settle a no-transaction migration that was interrupted.\n" },
    { "repair", "usage: sqlmig repair DB VERSION --dir DIR [--yes] [--table NAME]\n"
                "Show the stored and the embedded checksum of an applied migration; with --yes, store the\n"
                "embedded one (a migration edited on purpose).\n" },
};

int live_help(const char *command)
{
    size_t i;

    for (i = 0; i < sizeof helps / sizeof helps[0]; i++)
        if (strcmp(command, helps[i].command) == 0) {
            fputs(helps[i].text, stdout);
            fputs("Also --layout NAME, --load-extension FILE[:ENTRY], --placeholder NAME=VALUE, as for compile.\n"
                  "Exit status: 0 done; 1 the database, the folder or a migration refused (the SQLMIG_ code\n"
                  "is printed); 2 a usage error.\n", stdout);
            return 0;
        }
    return 2;
}

int live_command(const char *command, int argc, char **argv)
{
    struct live l;
    struct tool_folder f;
    struct owned o;
    sqlite3 *db = NULL;
    int i, rc, positional = 0, status;
    int is_resolve = strcmp(command, "resolve") == 0, is_repair = strcmp(command, "repair") == 0;

    memset(&l, 0, sizeof l);
    l.command = command;
    reading_init(&l.r);
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int r = reading_option(&l.r, command, argc, argv, &i, &status);
        if (r < 0)
            return status;
        if (r > 0)
            continue;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return live_help(command);
        if (strcmp(a, "--json") == 0 && (!strcmp(command, "status") || !strcmp(command, "verify")))
            l.json = 1;
        else if (strcmp(a, "--dry-run") == 0 && (!strcmp(command, "up") || !strcmp(command, "down")
                                                  || !strcmp(command, "adopt")))
            l.dry_run = 1;
        else if (strcmp(a, "--yes") == 0 && is_repair)
            l.yes = 1;
        else if (a[0] == '-' && a[1] && !v && strcmp(a, "-") != 0)
            return usage_error(command, "%s needs a value, or is not an option of %s", a, command);
        else if (strcmp(a, "--dir") == 0)
            l.r.dir = argv[++i];
        else if (strcmp(a, "--table") == 0)
            l.table = argv[++i];
        else if (strcmp(a, "--to") == 0 && (!strcmp(command, "up") || !strcmp(command, "down"))) {
            if (number(command, "--to", argv[++i], &l.to))
                return 2;
            l.has_to = 1;
        } else if (strcmp(a, "--version") == 0 && !strcmp(command, "adopt")) {
            if (number(command, "--version", argv[++i], &l.version))
                return 2;
        } else if (strcmp(a, "--from") == 0 && !strcmp(command, "adopt"))
            l.from = argv[++i];
        else if (strcmp(a, "--from-table") == 0 && !strcmp(command, "adopt"))
            l.from_table = argv[++i];
        else if (strcmp(a, "--user-version") == 0 && !strcmp(command, "adopt")) {
            char pair[64], *eq;
            snprintf(pair, sizeof pair, "%s", argv[++i]);
            if (!(eq = strchr(pair, '=')) || l.npairs == 64)
                return usage_error(command, "--user-version '%s' is not U=V (a user_version, the version it means)",
                                   argv[i]);
            *eq = '\0';
            if (number(command, "--user-version", pair, &l.pairs[2 * l.npairs])
                || number(command, "--user-version", eq + 1, &l.pairs[2 * l.npairs + 1]))
                return 2;
            l.npairs++;
        } else if (a[0] == '-' && a[1])
            return usage_error(command, "unknown option '%s'", a);
        else if (positional == 0 && ++positional)
            l.db = a;
        else if (positional == 1 && (is_resolve || is_repair) && ++positional) {
            if (number(command, "VERSION", a, &l.version))
                return 2;
        } else if (positional == 2 && is_resolve && ++positional) {
            if (strcmp(a, "applied") && strcmp(a, "retry"))
                return usage_error(command, "'%s' is neither applied nor retry", a);
            l.how = a;
        } else
            return usage_error(command, "unexpected argument '%s'", a);
    }
    if (!l.db)
        return usage_error(command, "%s", "no database given");
    if (is_resolve && !l.how)
        return usage_error(command, "%s", "expected DB VERSION applied|retry");
    if (is_repair && positional < 2)
        return usage_error(command, "%s", "expected DB VERSION");
    if (!l.r.dir && !is_resolve)
        return usage_error(command, "%s", "no migrations folder given (--dir DIR)");
    l.tty = isatty(STDOUT_FILENO);

    memset(&f, 0, sizeof f);
    memset(&o, 0, sizeof o);
    if (!is_resolve && ((rc = read_folder(&l.r, &f)) != 0 || (rc = replay_folder(&f, 0, 0)) != 0
                        || (rc = build_set(&f, &o)) != 0)) {
        tool_folder_free(&f);
        return 1;
    }
    /* The file must exist for all but up, which creates it as a program would. */
    rc = sqlite3_open_v2(l.db, &db, SQLITE_OPEN_READWRITE | (!strcmp(command, "up") && !l.dry_run
                                                             ? SQLITE_OPEN_CREATE : 0), NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "sqlmig: %s: cannot open the database: %s%s\n", l.db, db ? sqlite3_errmsg(db) : "out of memory",
                access(l.db, F_OK) != 0 ? " (there is no such file; `sqlmig up` creates it)" : "");
        rc = 1;
    } else {
        rc = is_repair ? repair(&l, &o.set, db) : run(&l, &o.set, db);
    }
    if (db && sqlite3_close(db) != SQLITE_OK && rc == 0) {
        fprintf(stderr, "sqlmig: %s: cannot close the database\n", l.db);
        rc = 1;
    }
    owned_free(&o);
    tool_folder_free(&f);
    return rc;
}

int live_is_command(const char *command)
{
    static const char *const names[] = { "status", "up", "down", "verify", "adopt", "resolve", "repair" };
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(command, names[i]) == 0)
            return 1;
    return 0;
}
