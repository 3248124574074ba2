/*
** main.c — the `sqlmig` command: argument parsing and sub-command dispatch.
**
**   sqlmig compile DIR --symbol NAME --output-c NAME.c --output-h NAME.h
**                      [--depfile NAME.d [--stamp FILE]] [--schema schema.sql]
**                      [--no-snapshot | --snapshot-max BYTES]
**                      [--layout NAME] [--load-extension FILE[:ENTRY]]...
**                      [--placeholder NAME=VALUE]...
**   sqlmig check DIR [--layout NAME] [--load-extension FILE[:ENTRY]]...
**                    [--placeholder NAME=VALUE]...
**   sqlmig new DIR NAME [--down]   create the next migration of DIR (new.c)
**   sqlmig status|up|down|verify|adopt|resolve|repair|reset ...   over a live database (live.c)
**   sqlmig --version | --help
*/
/* realpath() */
#define _XOPEN_SOURCE 700

#include "args.h"
#include "buf.h"
#include "diag.h"
#include "emit.h"
#include "folder.h"
#include "layout.h"
#include "live.h"
#include "new.h"
#include "replay.h"
#include "scan.h"
#include "sqlmig.h"

#include <sqlite3.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char compile_help[] =
    "usage: sqlmig compile DIR --symbol NAME --output-c FILE.c --output-h FILE.h\n"
    "                      [--depfile FILE.d [--stamp FILE]] [--schema FILE.sql]\n"
    "                      [--no-snapshot | --snapshot-max BYTES]\n"
    "                      [--layout NAME] [--load-extension FILE[:ENTRY]]...\n"
    "                      [--placeholder NAME=VALUE]...\n"
    "Read the migrations in DIR, apply them to an in-memory SQLite database, and\n"
    "write C that embeds them as `const struct sqlmig_set NAME` (see sqlmig.h).\n"
    "Outputs are rewritten only when they change. Unless --no-snapshot is given,\n"
    "or the history's result depends on when or where it runs (a note then says\n"
    "why), the set also embeds the final state, from which fresh databases are\n"
    "created at once; by default only while it takes at most four times the\n"
    "migrations' SQL plus 1 MiB. --layout reads DIR as plain, sqlx, golang-migrate,\n"
    "goose, dbmate, diesel, drizzle or flyway (default: recognised from the\n"
    "folder); --load-extension gives the replay the application's SQL functions;\n"
    "--placeholder gives a Flyway ${NAME} its value. --stamp FILE is touched after\n"
    "every run and is the depfile's target: the rule's target for make, which,\n"
    "unlike Ninja, cannot see that an output kept its time on purpose.\n";
static const char check_help[] =
    "usage: sqlmig check DIR [--layout NAME] [--load-extension FILE[:ENTRY]]...\n"
    "                        [--placeholder NAME=VALUE]...\n"
    "The reading and the replay of compile, without writing anything; prints the\n"
    "layout it read, what it replayed, and the down parts it proved.\n";
static const char new_help[] =
    "usage: sqlmig new DIR NAME [--down] [--layout NAME]\n"
    "Create the next migration of DIR as the folder's own tool names it: in its\n"
    "layout, numbered after the newest (a UTC timestamp where the folder uses\n"
    "them, else the next number, padded alike), with a down part where the\n"
    "layout always has one, or the folder pairs its files, or --down asks. NAME\n"
    "is letters, digits, '_' and '-'. The file holds a placeholder statement\n"
    "that compiles, with a warning at its line until it is replaced.\n";
static const char usage_text[] =
    "usage: sqlmig compile DIR --symbol NAME --output-c FILE.c --output-h FILE.h [...]\n"
    "       sqlmig check DIR [...]\n"
    "       sqlmig new DIR NAME [--down]\n"
    "       sqlmig status|up|down|verify|adopt|repair|reset DB --dir DIR [...]\n"
    "       sqlmig resolve DB VERSION applied|retry\n"
    "       sqlmig --version\n"
    "\n"
    "compile  embed the migrations of DIR in C, after replaying them\n"
    "check    replay them, write nothing\n"
    "new      create the next migration file\n"
    "status   every migration and its state in DB      up       apply what is pending\n"
    "down     roll back with down parts               verify   check DB against DIR\n"
    "adopt    take over a database made without sqlmig, or by another tool\n"
    "repair   accept an applied migration edited on purpose\n"
    "resolve  settle an interrupted no-transaction migration\n"
    "reset    delete everything in a development database, then up\n"
    "\n"
    "`sqlmig COMMAND --help` says more about each.\n";

/* `sqlmig COMMAND --help` for the commands of this file: 1 when asked. */
static int asked_help(int argc, char **argv, const char *text)
{
    int i;

    for (i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(text, stdout);
            return 1;
        }
    return 0;
}

struct compile_args {
    struct reading r;            /* the folder and how to read it */
    const char *symbol;
    const char *output_c;
    const char *output_h;
    const char *depfile;
    const char *stamp;
    const char *schema;
    int no_snapshot;
    const char *snapshot_max;
};

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Remove every output named on the command line: a failed run leaves none. */
static void remove_outputs(const struct compile_args *a)
{
    const char *outputs[5];
    size_t i;

    outputs[0] = a->output_c;
    outputs[1] = a->output_h;
    outputs[2] = a->depfile;
    outputs[3] = a->schema;
    outputs[4] = a->stamp;
    for (i = 0; i < 5; i++)
        if (outputs[i] && unlink(outputs[i]) != 0 && errno != ENOENT)
            diag_fatal("cannot remove %s: %s", outputs[i], strerror(errno));
}

/* Render one output into `b` and write it if it changed; 0 on success. */
static int write_output(const char *path, struct buf *b)
{
    char err[512];

    if (write_if_changed(path, b, err, sizeof err) != 0) {
        diag_fatal("%s", err);
        return -1;
    }
    return 0;
}

/*
** The stamp: an empty file whose time is now after every run that worked.
** The outputs keep their time when their bytes do not change, so that
** Ninja (restat) relinks nothing; make has no restat, and takes the stamp
** as the rule's target instead, so that it settles after one run.
*/
static int touch_stamp(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666), ok;

    ok = fd >= 0 && futimens(fd, NULL) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (!ok)
        diag_fatal("cannot write the stamp %s: %s", path, strerror(errno));
    return ok ? 0 : -1;
}

static int emit_all(const struct compile_args *a, const struct tool_folder *f)
{
    struct buf b;
    char err[512] = "";
    int rc = -1;

    buf_init(&b);

    if (emit_c(f, a->symbol, base_name(a->output_h), &b, err, sizeof err) != 0 ||
        write_output(a->output_c, &b) != 0)
        goto done;
    buf_free(&b);
    if (emit_h(a->symbol, &b, err, sizeof err) != 0 || write_output(a->output_h, &b) != 0)
        goto done;
    if (a->schema) {
        buf_free(&b);
        if (emit_schema(f, &b, err, sizeof err) != 0 || write_output(a->schema, &b) != 0)
            goto done;
    }
    /* Last, and always: Ninja reads a missing depfile as "no dependencies". */
    if (a->depfile) {
        buf_free(&b);
        if (emit_depfile(f, a->stamp ? a->stamp : a->output_c, &b, err, sizeof err) != 0 ||
            write_output(a->depfile, &b) != 0)
            goto done;
    }
    if (a->stamp && touch_stamp(a->stamp) != 0)
        goto done;
    rc = 0;
done:
    if (rc != 0 && err[0])
        diag_fatal("%s", err);
    buf_free(&b);
    return rc;
}

/*
** The canonical name of a path that may not exist yet: its folder resolved,
** then its last part. NULL when the folder cannot be resolved.
*/
static char *canonical(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path + (slash == path))) : strdup(".");
    char *real = dir ? realpath(dir, NULL) : NULL, *out = NULL;
    const char *base = slash ? slash + 1 : path;

    if (real && (out = malloc(strlen(real) + strlen(base) + 2)) != NULL)
        sprintf(out, "%s/%s", real, base);
    free(dir);
    free(real);
    return out;
}

/* Do two paths name the same file, existing or to be created? */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    char *ca, *cb;
    int same;

    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    ca = canonical(a);
    cb = canonical(b);
    same = ca && cb ? strcmp(ca, cb) == 0 : strcmp(a, b) == 0;
    free(ca);
    free(cb);
    return same;
}

/*
** No output may be an input, or another output: writing one would destroy
** a migration, and a failed run removes its outputs.
*/
static int outputs_apart(const struct compile_args *a, const struct tool_folder *f)
{
    const char *out[5] = { a->output_c, a->output_h, a->depfile, a->schema, a->stamp };
    static const char *const flag[5] = { "--output-c", "--output-h", "--depfile", "--schema", "--stamp" };
    size_t i, k;

    for (i = 0; i < 5; i++) {
        for (k = 0; out[i] && k < f->input_count; k++)
            if (same_file(out[i], f->inputs[k])) {
                diag_error(f->inputs[k], 0, 0, "%s %s would overwrite this migration: write the outputs elsewhere",
                           flag[i], out[i]);
                return 1;
            }
        for (k = i + 1; out[i] && k < 5; k++)
            if (out[k] && same_file(out[i], out[k])) {
                diag_fatal("%s and %s name the same file (%s): each output needs a file of its own", flag[i],
                           flag[k], out[i]);
                return 1;
            }
    }
    return 0;
}

static int cmd_compile(int argc, char **argv)
{
    struct compile_args a;
    struct tool_folder f;
    unsigned long long max = 0;
    int i, rc;

    memset(&a, 0, sizeof a);
    reading_init(&a.r);
    for (i = 0; i < argc; i++) {
        const char **slot = NULL;
        int status = 2, r = reading_option(&a.r, "compile", argc, argv, &i, &status);
        if (r < 0)
            return status;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--symbol") == 0)
            slot = &a.symbol;
        else if (strcmp(argv[i], "--output-c") == 0)
            slot = &a.output_c;
        else if (strcmp(argv[i], "--output-h") == 0)
            slot = &a.output_h;
        else if (strcmp(argv[i], "--depfile") == 0)
            slot = &a.depfile;
        else if (strcmp(argv[i], "--schema") == 0)
            slot = &a.schema;
        else if (strcmp(argv[i], "--stamp") == 0)
            slot = &a.stamp;
        else if (strcmp(argv[i], "--snapshot-max") == 0)
            slot = &a.snapshot_max;
        else if (strcmp(argv[i], "--no-snapshot") == 0)
            a.no_snapshot = 1;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return usage_error("compile", "unknown option '%s'", argv[i]);
        else if (a.r.dir)
            return usage_error("compile", "more than one folder given ('%s')", argv[i]);
        else
            a.r.dir = argv[i];
        if (slot) {
            if (i + 1 >= argc)
                return usage_error("compile", "%s needs a value", argv[i]);
            *slot = argv[++i];
        }
    }
    if (!a.r.dir)
        return usage_error("compile", "%s", "no migrations folder given");
    if (!a.symbol || !a.output_c || !a.output_h)
        return usage_error("compile", "%s", "--symbol, --output-c and --output-h are required");
    if (!emit_valid_symbol(a.symbol))
        return usage_error("compile", "--symbol '%s' is not a C identifier that a program "
                           "may define ([A-Za-z][A-Za-z0-9_]*; not a keyword, not ending in _t, "
                           "not starting with sqlmig_, sqlite3_ or their upper-case forms)",
                           a.symbol);

    if (a.snapshot_max) {
        char *end = NULL;
        errno = 0;
        max = strtoull(a.snapshot_max, &end, 10);
        if (errno || end == a.snapshot_max || *end || a.snapshot_max[0] == '-' || max == 0 || max > SIZE_MAX)
            return usage_error("compile", "--snapshot-max '%s' is not a number of bytes (1 or more)",
                               a.snapshot_max);
        if (a.no_snapshot)
            return usage_error("compile", "%s", "--no-snapshot and --snapshot-max exclude each other");
    }

    rc = read_folder(&a.r, &f);
    if (rc == 0 && outputs_apart(&a, &f) != 0) {
        tool_folder_free(&f); /* nothing written, nothing removed */
        return 1;
    }
    if (rc == 0)
        rc = replay_folder(&f, !a.no_snapshot, (size_t)max);
    if (rc == 0 && a.no_snapshot && f.count > 0 && !(f.snapshot_note = strdup("compiled with --no-snapshot"))) {
        diag_fatal("out of memory");
        rc = 1;
    }
    if (rc == 0)
        rc = emit_all(&a, &f) != 0;
    if (rc != 0)
        remove_outputs(&a);
    tool_folder_free(&f);
    return rc ? 1 : 0;
}

static int cmd_check(int argc, char **argv)
{
    struct compile_args a;
    struct tool_folder f;
    int i, rc;

    memset(&a, 0, sizeof a);
    reading_init(&a.r);
    for (i = 0; i < argc; i++) {
        int status = 2, r = reading_option(&a.r, "check", argc, argv, &i, &status);
        if (r < 0)
            return status;
        if (r > 0)
            continue;
        if ((argv[i][0] == '-' && argv[i][1] != '\0'))
            return usage_error("check", "unknown option '%s'", argv[i]);
        if (a.r.dir)
            return usage_error("check", "more than one folder given ('%s')", argv[i]);
        a.r.dir = argv[i];
    }
    if (!a.r.dir)
        return usage_error("check", "%s", "no migrations folder given");
    rc = read_folder(&a.r, &f);
    if (rc == 0)
        rc = replay_folder(&f, 1, 0);
    if (rc == 0)
        printf("%s: %s layout (%s); %zu migration%s%s%.0zu%s replayed, %zu schema object%s, %s\n", a.r.dir,
               layout_name((enum scan_layout)f.layout), f.layout_why, f.count, f.count == 1 ? "" : "s",
               f.repeatable_count ? " and " : "", f.repeatable_count, f.repeatable_count == 1 ? " repeatable one"
               : f.repeatable_count ? " repeatable ones" : "", f.object_count, f.object_count == 1 ? "" : "s",
               f.snapshot ? "a snapshot for fresh databases" : "no snapshot");
    if (rc == 0 && f.reversible)
        printf("%s: %zu down part%s proven to undo %s up part%s\n", a.r.dir, f.reversible,
               f.reversible == 1 ? "" : "s", f.reversible == 1 ? "its" : "their", f.reversible == 1 ? "" : "s");
    tool_folder_free(&f);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    /* No URI in a migration may name a VFS that reaches the machine's files. */
    if (sqlite3_config(SQLITE_CONFIG_URI, 0) != SQLITE_OK) {
        diag_fatal("cannot configure SQLite");
        return 1;
    }
    if (argc < 2)
        return usage_error(NULL, "%s", "no command given");
    if (strcmp(argv[1], "--version") == 0) {
        printf("sqlmig %s\n", SQLMIG_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(argv[1], "compile") == 0)
        return asked_help(argc - 2, argv + 2, compile_help) ? 0 : cmd_compile(argc - 2, argv + 2);
    if (strcmp(argv[1], "check") == 0)
        return asked_help(argc - 2, argv + 2, check_help) ? 0 : cmd_check(argc - 2, argv + 2);
    if (strcmp(argv[1], "new") == 0)
        return asked_help(argc - 2, argv + 2, new_help) ? 0 : new_command(argc - 2, argv + 2);
    if (live_is_command(argv[1]))
        return live_command(argv[1], argc - 2, argv + 2);
    return usage_error(NULL, "unknown command '%s'", argv[1]);
}
