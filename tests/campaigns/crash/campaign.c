/*
** campaign.c — the crash campaign. A child process migrates a fresh database
** file and is killed with SIGKILL at a random instant. With a connection of
** its own, the campaign then checks what the kill left:
**   - PRAGMA integrity_check is "ok" (and the journal mode is the one set);
**   - the ledger holds versions 1..V of the set exactly, with their names and
**     checksums, every one complete, plus at most one started row (execution_ms
**     -1) right after them, and only for a no-transaction migration;
**   - the schema (type, name, tbl_name and sql of every sqlite_schema row but
**     the ledger's) and the rows of every table (a count and, for histories
**     whose values do not come from the clock, a digest of their contents)
**     equal those of a fresh database migrated with options.target = V; after
**     a kill inside a no-transaction migration, those of V or V + 1;
**   - a rerun returns SQLMIG_OK at the newest version; or, after a kill inside
**     a no-transaction migration, SQLMIG_INTERRUPTED naming it, then
**     sqlmig_resolve(SQLMIG_RESOLVE_RETRY) and a rerun that returns SQLMIG_OK;
**   - after the rerun: integrity, the whole ledger, the final schema and rows,
**     and sqlmig_verify() finding no drift.
**
** Start: odd trials start from an empty file, the path of a fresh database
** (one transaction up to the first no-transaction migration, or the
** snapshot); even trials from a database the child first brings to a version
** drawn at random (options.target), so that the kill lands among the
** per-migration commits of a database that is behind.
**
** Histories: "demo" (migrations/, whose 0010 switches to WAL outside a
** transaction) and "generated" (60 migrations written by tests/helpers/gen_history.py
** at build time: table rebuilds, triggers, bulk data migrations, and a
** no-transaction CREATE INDEX + VACUUM at 40). Journal modes: "rollback"
** (journal_mode=DELETE) and "wal", set by the child before sqlmig_migrate().
**
** Rollbacks: on the "reversible" history (tests/fixtures/reversible: a table
** rebuild, a column dropped, data, a view and a trigger, each with its down
** part) the child first migrates to the last version, then is killed inside
** sqlmig_rollback() to a version drawn at random. The same checks hold, the
** ledger at some version between the target and the last, the schema
** compared as SQLite reads it (a rebuild's RENAME quotes the name); the
** rerun is the rollback again, which must reach the target, then a migrate
** back up and sqlmig_verify().
**
** The kill instant: before the trials of each history and mode, three full
** runs from each kind of start (empty, and version 1) measure how long
** sqlmig_migrate() takes in the child (it writes a byte on a pipe just
** before the call and one just after), and one more every 25 trials, as the
** load of the machine changes; each kill then lands after a delay drawn
** uniformly from 0 to 103% of the median of the last three, counted from the
** first byte (for a start at version s of V, that of version 1 scaled by
** (V - s) / (V - 1)). Each trial is classified by what it left: before any
** commit of this run, mid-history, inside the no-transaction migration (with
** or without its work done, when that shows in the schema), or after the
** last commit (the child may even have finished first).
**
** usage: crash_campaign [--trials N] [--mode rollback|wal|both]
**                       [--history demo|generated|reversible|all] [--seed S]
**                       [--dir DIR] [--keep]
**   --trials N   trials per history and journal mode (default 20)
**   --seed S     seed of the delays (default: from the clock); printed first,
**                so that a run can be repeated (the timing will differ)
**   --dir DIR    where the temporary folder goes (default /dev/shm when it
**                can be written, else $TMPDIR or /tmp)
**   --keep       keep the temporary folder. After a failed trial it is kept
**                anyway, with a copy of the files as the kill left them.
** Prints TAP: one line per trial, and one summary line per history and mode.
**
** The full campaign (500 trials in each mode, on both histories):
**   build/tests/campaigns/crash/crash_campaign --trials 500
*/
#include "sqlmig.h"
#include "tap.h"

#include "demo_migrations.h"
#include "crash_history.h"
#include "reversible_set.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct tap T;

#define LEDGER "schema_migrations"

/* ---- small helpers ----------------------------------------------------- */

static void die(const char *fmt, const char *arg)
{
    fputs("crash_campaign: ", stderr);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

static double now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        die("clock_gettime: %s", strerror(errno));
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(double ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ms / 1e3);
    ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1e3) * 1e6);
    while (nanosleep(&ts, &ts) != 0)
        if (errno != EINTR)
            die("nanosleep: %s", strerror(errno));
}

/* splitmix64: small, and the same sequence everywhere for a given seed. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit(void)
{
    return (double)(rng_next() >> 11) / 9007199254740992.0;
}

/* A growing string. */
struct str {
    char *p;
    size_t n, cap;
};

static void str_add(struct str *s, const void *data, size_t n)
{
    if (s->n + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        char *p;
        while (cap < s->n + n + 1)
            cap *= 2;
        if (!(p = realloc(s->p, cap)))
            die("%s", "out of memory");
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->n, data, n);
    s->n += n;
    s->p[s->n] = '\0';
}

static void str_puts(struct str *s, const char *text)
{
    str_add(s, text ? text : "NULL", strlen(text ? text : "NULL"));
}

static char *str_take(struct str *s)
{
    char *p = s->p;
    if (!p)
        p = strdup("");
    if (!p)
        die("%s", "out of memory");
    memset(s, 0, sizeof *s);
    return p;
}

/* ---- histories --------------------------------------------------------- */

/* What the database holds after the first n migrations of a history. */
struct level {
    int known;
    char *schema;   /* sqlite_schema rows, sorted, the ledger left out */
    char *rows;     /* per table: name, count and (exact histories) a digest */
};

struct history {
    const char *name;
    const struct sqlmig_set *set;
    int exact;          /* every value is reproducible: digest the rows too */
    int keeps_mode;     /* no migration changes the journal mode */
    int rolls_back;     /* the child is killed inside sqlmig_rollback() */
    struct level *levels; /* set->count + 1, filled on first use */
};

static struct history histories[] = {
    /* The demo's rows carry strftime('now') defaults: counts only. */
    { "demo", &demo_migrations, 0, 0, 0, NULL },
    { "generated", &crash_history, 1, 1, 0, NULL },
    { "reversible", &reversible_set, 1, 1, 1, NULL },
};
#define NHISTORIES (sizeof histories / sizeof histories[0])

static const struct history *history_named(const char *name)
{
    size_t i;
    for (i = 0; i < NHISTORIES; i++)
        if (strcmp(histories[i].name, name) == 0)
            return &histories[i];
    return NULL;
}

/* ---- reading a database ------------------------------------------------ */

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        die("cannot open %s", path);
    return db;
}

static void close_db(sqlite3 *db)
{
    if (sqlite3_close(db) != SQLITE_OK)
        die("%s", "sqlite3_close failed: a statement was left open");
}

/* Every row of `sql`, columns separated by '|', rows ended by '\n'; 0 on error. */
static char *query_all(sqlite3 *db, const char *sql)
{
    struct str s = { NULL, 0, 0 };
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL), i;

    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (i = 0; i < sqlite3_column_count(st); i++) {
            if (i)
                str_add(&s, "|", 1);
            str_puts(&s, (const char *)sqlite3_column_text(st, i));
        }
        str_add(&s, "\n", 1);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(s.p);
        return NULL;
    }
    return str_take(&s);
}

static int is_ok(const char *text)
{
    return text && strcmp(text, "ok\n") == 0;
}

static void fn_fingerprint(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    sqlite3_result_int64(cx, (sqlite3_int64)sqlmig_fingerprint((const char *)sqlite3_value_text(argv[0]),
                                                               (const char *)sqlite3_value_text(argv[1])));
}

/* The schema without the ledger, in a stable order; after a rollback, as
** SQLite reads each definition (sqlmig_fingerprint()). */
static char *read_schema(sqlite3 *db, int as_read)
{
    if (!as_read)
        return query_all(db, "SELECT type, name, tbl_name, sql FROM sqlite_schema "
                             "WHERE name <> '" LEDGER "' ORDER BY type, name");
    if (sqlite3_create_function(db, "sqlmig_fingerprint", 2, SQLITE_UTF8, NULL, fn_fingerprint, NULL, NULL)
        != SQLITE_OK)
        return NULL;
    return query_all(db, "SELECT type, lower(name), lower(tbl_name), sqlmig_fingerprint(type, sql) FROM "
                         "sqlite_schema WHERE name <> '" LEDGER "' ORDER BY type, lower(name)");
}

/* FNV-1a over one value, its type first. */
static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
    while (n--) {
        h ^= *p++;
        h *= 0x100000001B3u;
    }
    return h;
}

/* One line per table but the ledger: its name, its row count and, when
** `exact`, the sum of a hash of each row (so the order of rows is free). */
static char *read_rows(sqlite3 *db, int exact)
{
    struct str s = { NULL, 0, 0 };
    sqlite3_stmt *tables = NULL, *st = NULL;
    char sql[512], line[512];
    int rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'table' "
                                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '" LEDGER "' "
                                "ORDER BY name", -1, &tables, NULL);

    while (rc == SQLITE_OK && (rc = sqlite3_step(tables)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        uint64_t count = 0, sum = 0, h;
        unsigned char type;
        int i, n;

        snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", name);
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            count++;
            h = 0xCBF29CE484222325u;
            for (i = 0; exact && i < sqlite3_column_count(st); i++) {
                type = (unsigned char)sqlite3_column_type(st, i);
                h = fnv(h, &type, 1);
                /* Text of numbers too: SQLite prints a double exactly enough. */
                if (type == SQLITE_BLOB) {
                    n = sqlite3_column_bytes(st, i);
                    h = fnv(h, sqlite3_column_blob(st, i), (size_t)n);
                } else if (type != SQLITE_NULL) {
                    const unsigned char *t = sqlite3_column_text(st, i);
                    h = fnv(h, t, (size_t)sqlite3_column_bytes(st, i));
                }
            }
            sum += exact ? h : 0;
            rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
        st = NULL;
        if (rc != SQLITE_DONE)
            break;
        snprintf(line, sizeof line, "%s %llu %016llx\n", name, (unsigned long long)count,
                 (unsigned long long)sum);
        str_puts(&s, line);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(tables);
    if (rc != SQLITE_DONE) {
        free(s.p);
        return NULL;
    }
    return str_take(&s);
}

/* The first line where a and b differ, for a diagnostic. */
static void diag_diff(const char *what, const char *a, const char *b)
{
    size_t i = 0, start = 0;

    if (!a || !b) {
        tap_diag("  %s: could not be read", what);
        return;
    }
    if (strcmp(a, b) == 0)
        return;
    while (a[i] && a[i] == b[i]) {
        if (a[i] == '\n')
            start = i + 1;
        i++;
    }
    tap_diag("  %s, first difference: %.*s", what, (int)strcspn(a + start, "\n"), a + start);
    tap_diag("  where the reference has: %.*s", (int)strcspn(b + start, "\n"), b + start);
}

/* out = a followed by b; a path that does not fit is an error, never cut. */
static void join(char *out, size_t size, const char *a, const char *b)
{
    int n = snprintf(out, size, "%s%s", a, b);
    if (n < 0 || (size_t)n >= size)
        die("path too long: %s", a);
}

/* ---- files ------------------------------------------------------------- */

static const char *const suffixes[] = { "", "-journal", "-wal", "-shm" };

static void remove_db(const char *path)
{
    char name[600];
    size_t i;
    for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        join(name, sizeof name, path, suffixes[i]);
        if (unlink(name) != 0 && errno != ENOENT)
            die("cannot remove %s", name);
    }
}

static void copy_file(const char *from, const char *to)
{
    char buf[65536];
    ssize_t n;
    int in = open(from, O_RDONLY), out;

    if (in < 0) {
        if (errno == ENOENT)
            return;
        die("cannot open %s", from);
    }
    if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
        die("cannot create %s", to);
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            die("cannot write %s", to);
    if (n < 0 || close(out) != 0 || close(in) != 0)
        die("cannot copy %s", from);
}

/* Copy the database and its journal files as the kill left them. */
static void snapshot(const char *path, const char *to)
{
    char a[600], b[600];
    size_t i;

    remove_db(to);
    for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        join(a, sizeof a, path, suffixes[i]);
        join(b, sizeof b, to, suffixes[i]);
        copy_file(a, b);
    }
}

/* ---- the child: the process that gets killed ---------------------------- */

/* Set the journal mode the way an application does, before migrating. */
static int set_mode(sqlite3 *db, const char *mode)
{
    char sql[64], *got;
    int ok;

    snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s", strcmp(mode, "wal") == 0 ? "WAL" : "DELETE");
    got = query_all(db, sql);
    ok = got && strcmp(got, strcmp(mode, "wal") == 0 ? "wal\n" : "delete\n") == 0;
    free(got);
    return ok;
}

static int child_main(const char *path, const char *hname, const char *mode, const char *start_text,
                      const char *fd_text)
{
    const struct history *h = history_named(hname);
    sqlmig_options o;
    sqlmig_result res;
    sqlite3 *db = NULL;
    int fd = atoi(fd_text), rc;
    size_t start = (size_t)strtoul(start_text, NULL, 10);

    if (!h)
        die("unknown history %s", hname);
    if (start >= h->set->count)
        die("no migration after start %s", start_text);
    if (sqlite3_open(path, &db) != SQLITE_OK || !set_mode(db, mode)) {
        fprintf(stderr, "crash_campaign child: cannot open %s in %s mode: %s\n", path, mode, sqlite3_errmsg(db));
        return 3;
    }
    /* A rollback: the database at the last version first, then back to the start. */
    if (h->rolls_back) {
        rc = sqlmig_migrate(db, h->set, NULL, &res);
        if (rc != SQLMIG_OK || write(fd, "r", 1) != 1) {
            fprintf(stderr, "crash_campaign child: migrate: %s: %s\n", sqlmig_errname(rc), res.message);
            return 4;
        }
        rc = sqlmig_rollback(db, h->set, NULL, start ? h->set->migrations[start - 1].version : 0, &res);
        if (rc != SQLMIG_OK) {
            fprintf(stderr, "crash_campaign child: rollback: %s: %s\n", sqlmig_errname(rc), res.message);
            return 4;
        }
        if (write(fd, "d", 1) != 1 || close(fd) != 0)
            return 3;
        return sqlite3_close(db) == SQLITE_OK ? 0 : 5;
    }
    /* Bring the database to the start version first: not part of the run the kill aims at. */
    if (start > 0) {
        memset(&o, 0, sizeof o);
        o.target = h->set->migrations[start - 1].version;
        rc = sqlmig_migrate(db, h->set, &o, &res);
        if (rc != SQLMIG_OK || res.applied != start) {
            fprintf(stderr, "crash_campaign child: to version %s: %s: %s\n", start_text, sqlmig_errname(rc),
                    res.message);
            return 4;
        }
    }
    /* The parent's clock starts at the first byte; the second one tells a
    ** calibration run how long sqlmig_migrate() took. */
    if (write(fd, "r", 1) != 1)
        return 3;
    rc = sqlmig_migrate(db, h->set, NULL, &res);
    if (rc != SQLMIG_OK) {
        fprintf(stderr, "crash_campaign child: %s: %s\n", sqlmig_errname(rc), res.message);
        return 4;
    }
    if (write(fd, "d", 1) != 1 || close(fd) != 0)
        return 3;
    return sqlite3_close(db) == SQLITE_OK ? 0 : 5;
}

/* ---- the campaign ------------------------------------------------------ */

static char self[4096];

/* Start a child on `path`; returns its pid once it is about to migrate, with
** the pipe on which it writes a byte when done in *fd, or -1 if it died
** before (its exit status in *status). */
static pid_t spawn(const char *path, const struct history *h, const char *mode, size_t start, int *fd,
                   int *status)
{
    char fd_text[16], start_text[24];
    int p[2];
    pid_t pid;
    char c;
    ssize_t n;

    if (pipe(p) != 0 || fcntl(p[0], F_SETFD, FD_CLOEXEC) != 0)
        die("pipe: %s", strerror(errno));
    snprintf(fd_text, sizeof fd_text, "%d", p[1]);
    snprintf(start_text, sizeof start_text, "%zu", start);
    if ((pid = fork()) < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        execl(self, self, "--child", path, h->name, mode, start_text, fd_text, (char *)NULL);
        _exit(127);
    }
    if (close(p[1]) != 0)
        die("close: %s", strerror(errno));
    while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR) {}
    if (n == 1) {
        *fd = p[0];
        return pid;
    }
    if (close(p[0]) != 0)
        die("close: %s", strerror(errno));
    if (waitpid(pid, status, 0) != pid)
        die("waitpid: %s", strerror(errno));
    return -1;
}

/* Wait for a child, then close its pipe (kept open so that it can write). */
static void reap(pid_t pid, int fd, int *status)
{
    if (waitpid(pid, status, 0) != pid)
        die("waitpid: %s", strerror(errno));
    if (close(fd) != 0)
        die("close: %s", strerror(errno));
}

/* Schema and rows after the first n migrations: migrate a fresh database
** with options.target, once per n. */
static const struct level *reference(struct history *h, size_t n, const char *dir)
{
    struct level *lv;
    char path[600];
    sqlmig_options o;
    sqlmig_result r;
    sqlite3 *db;
    int rc;

    if (!h->levels && !(h->levels = calloc(h->set->count + 1, sizeof *h->levels)))
        die("%s", "out of memory");
    lv = &h->levels[n];
    if (lv->known)
        return lv;
    join(path, sizeof path, dir, "/reference.db");
    remove_db(path);
    db = open_db(path);
    if (n > 0) {
        memset(&o, 0, sizeof o);
        o.target = h->set->migrations[n - 1].version;
        if ((rc = sqlmig_migrate(db, h->set, &o, &r)) != SQLMIG_OK || r.applied != n)
            die("reference: %s", r.message);
    }
    lv->schema = read_schema(db, h->rolls_back);
    lv->rows = read_rows(db, h->exact);
    if (!lv->schema || !lv->rows)
        die("reference: %s", sqlite3_errmsg(db));
    close_db(db);
    remove_db(path);
    lv->known = 1;
    return lv;
}

/* Phases a kill can land in. */
enum { BEFORE, MID, NOTX, AFTER, NPHASES };
static const char *const phase_names[] = { "before any commit", "mid-history", "inside no-tx", "after the last commit" };

struct tally {
    int trials, failed, completed, ahead;
    int phase[NPHASES];
};

/* What one check found; `failed` counts the failed checks of a trial. */
struct trial {
    struct history *h;
    const char *mode;
    const char *dir;
    int failed;
    size_t level;     /* complete ledger rows */
    size_t want;      /* where the rerun takes the database: the last version, or the rollback's target */
    int started;      /* a started row follows them */
    int ahead;        /* and the started migration's work is all there */
};

/* A failed check: one diagnostic line per line of text, at most five. */
static void check(struct trial *t, int cond, const char *fmt, const char *arg)
{
    char text[2048];
    const char *p = text;
    int lines = 0, len;

    if (cond)
        return;
    t->failed++;
    snprintf(text, sizeof text, fmt, arg);
    while (*p) {
        len = (int)strcspn(p, "\n");
        if (++lines <= 5)
            printf("#   %.*s\n", len, p);
        p += len + (p[len] == '\n');
    }
    if (lines > 5)
        printf("#   ... and %d more lines\n", lines - 5);
    fflush(stdout);
}

/* The ledger is versions 1..V, with an optional started row after them. */
static void check_ledger(struct trial *t, sqlite3 *db, int require)
{
    const struct sqlmig_set *set = t->h->set;
    sqlite3_stmt *st = NULL;
    int rc, bad = 0;
    char why[256] = "";

    t->level = 0;
    t->started = 0;
    rc = sqlite3_prepare_v2(db, "SELECT version, name, checksum, execution_ms FROM " LEDGER
                            " ORDER BY version", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        /* No ledger at all: nothing was committed yet. */
        check(t, !require && sqlite3_errcode(db) == SQLITE_ERROR
              && strstr(sqlite3_errmsg(db), "no such table"), "ledger unreadable: %s", sqlite3_errmsg(db));
        return;
    }
    while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t i = t->level + (size_t)t->started;
        const struct sqlmig_migration *m = i < set->count ? &set->migrations[i] : NULL;
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *sum = (const char *)sqlite3_column_text(st, 2);
        int64_t ms = sqlite3_column_int64(st, 3);

        if (!m || t->started || sqlite3_column_int64(st, 0) != m->version || !name
            || strcmp(name, m->name) != 0 || !sum || strcmp(sum, m->checksum) != 0) {
            snprintf(why, sizeof why, "row %zu is not version %lld %s with its checksum, or follows a "
                     "started row", i + 1, m ? (long long)m->version : -1LL, m ? m->name : "(none)");
            bad = 1;
        } else if (ms == -1 && (m->flags & SQLMIG_NO_TRANSACTION)) {
            t->started = 1;
        } else if (ms < 0) {
            snprintf(why, sizeof why, "version %lld has execution_ms %lld", (long long)m->version, (long long)ms);
            bad = 1;
        } else {
            t->level++;
        }
    }
    if (!bad && rc != SQLITE_DONE)
        snprintf(why, sizeof why, "reading it failed: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    check(t, why[0] == '\0', "ledger: %s", why);
}

/* Integrity, journal mode, ledger, schema and rows of the file at `path`. */
static void check_state(struct trial *t, const char *path, int final)
{
    const struct level *a, *b = NULL;
    char *text, *schema, *rows;
    sqlite3 *db = open_db(path);

    text = query_all(db, "PRAGMA integrity_check");
    check(t, is_ok(text), "integrity_check: %s", text ? text : sqlite3_errmsg(db));
    free(text);
    if (t->h->keeps_mode) {
        text = query_all(db, "PRAGMA journal_mode");
        check(t, text && strcmp(text, strcmp(t->mode, "wal") == 0 ? "wal\n" : "delete\n") == 0,
              "journal mode is %s", text ? text : "(unreadable)");
        free(text);
    }
    check_ledger(t, db, final);
    if (final)
        check(t, t->level == t->want && !t->started, "%s", "the ledger is not at the version the rerun goes to");
    schema = read_schema(db, t->h->rolls_back);
    rows = read_rows(db, t->h->exact);
    a = reference(t->h, t->level, t->dir);
    /* Killed inside a no-transaction migration: its statements may have run. */
    if (t->started && t->level < t->h->set->count)
        b = reference(t->h, t->level + 1, t->dir);
    t->ahead = !(schema && rows && strcmp(schema, a->schema) == 0 && strcmp(rows, a->rows) == 0);
    if (t->ahead && !(b && schema && rows && strcmp(schema, b->schema) == 0 && strcmp(rows, b->rows) == 0)) {
        char what[64];
        snprintf(what, sizeof what, "schema or rows not those of %zu migrations", t->level);
        check(t, 0, "%s", what);
        diag_diff("schemas", schema, a->schema);
        diag_diff("rows", rows, a->rows);
    }
    free(schema);
    free(rows);
    close_db(db);
}

/* After a rerun of a rollback: up again to the last version, and verify. */
static void up_again(struct trial *t, const char *path)
{
    const struct sqlmig_set *set = t->h->set;
    sqlmig_result r;
    sqlite3 *db = open_db(path);
    char msg[1200];
    int rc = sqlmig_migrate(db, set, NULL, &r);

    snprintf(msg, sizeof msg, "up again after the rollback: %s: %s", sqlmig_errname(rc), r.message);
    check(t, rc == SQLMIG_OK && r.applied == set->count - t->want, "%s", msg);
    rc = sqlmig_verify(db, set, NULL, &r);
    check(t, rc == SQLMIG_OK, "sqlmig_verify after going up again: %s", r.message);
    close_db(db);
}

/* Rerun as the same program would, and check it reaches the newest version
** (or, after a kill inside a rollback, the rollback's target). */
static void rerun(struct trial *t, const char *path)
{
    const struct sqlmig_set *set = t->h->set;
    const struct sqlmig_migration *m;
    sqlmig_options o;
    sqlmig_result r;
    sqlite3 *db = open_db(path);
    char msg[1200];
    int rc;

    memset(&o, 0, sizeof o);
    o.busy_timeout_ms = 20; /* nobody else runs: a started row is an interrupted one */
    check(t, set_mode(db, t->mode), "%s", "cannot set the journal mode for the rerun");
    if (t->h->rolls_back) {
        rc = sqlmig_rollback(db, set, &o, t->want ? set->migrations[t->want - 1].version : 0, &r);
        snprintf(msg, sizeof msg, "rerun of the rollback: %s: %s", sqlmig_errname(rc), r.message);
        check(t, rc == SQLMIG_OK && r.applied == t->level - t->want
              && r.to_version == (t->want ? set->migrations[t->want - 1].version : 0), "%s", msg);
        close_db(db);
        return;
    }
    rc = sqlmig_migrate(db, set, &o, &r);
    if (t->started) {
        m = &set->migrations[t->level];
        snprintf(msg, sizeof msg, "rerun after a kill inside %s: %s: %s", m->file, sqlmig_errname(rc), r.message);
        check(t, rc == SQLMIG_INTERRUPTED && r.version == m->version && r.applied == 0, "%s", msg);
        rc = sqlmig_resolve(db, &o, m->version, SQLMIG_RESOLVE_RETRY, &r);
        check(t, rc == SQLMIG_OK, "sqlmig_resolve: %s", r.message);
        rc = sqlmig_migrate(db, set, &o, &r);
    }
    snprintf(msg, sizeof msg, "rerun: %s: %s", sqlmig_errname(rc), r.message);
    check(t, rc == SQLMIG_OK && r.applied == set->count - t->level
          && r.to_version == set->migrations[set->count - 1].version, "%s", msg);
    rc = sqlmig_verify(db, set, &o, &r);
    check(t, rc == SQLMIG_OK, "sqlmig_verify after the rerun: %s", r.message);
    close_db(db);
}

/* One full run of the child: how long sqlmig_migrate() takes in it, from
** the byte the child writes before the call to the one after. */
static double measure(struct history *h, const char *mode, const char *path, size_t start)
{
    double t;
    int fd, status;
    char c;
    pid_t pid;

    remove_db(path);
    if ((pid = spawn(path, h, mode, start, &fd, &status)) < 0)
        die("calibration: the child died before migrating (%s)", h->name);
    t = now_ms();
    if (read(fd, &c, 1) != 1)
        die("calibration: the child failed on the %s history", h->name);
    t = now_ms() - t;
    reap(pid, fd, &status);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("calibration: the child failed on the %s history", h->name);
    return t;
}

/* The median of three measurements. */
static double median3(const double *t)
{
    double lo = t[0] < t[1] ? t[0] : t[1], hi = t[0] < t[1] ? t[1] : t[0];
    return t[2] < lo ? lo : t[2] > hi ? hi : t[2];
}

static void campaign(struct history *h, const char *mode, int trials, const char *dir, struct tally *all)
{
    struct tally tl;
    char path[600], keep[600];
    double runs[3], steps[3], full = 0, stepped = 0, span, delay, t0, start = now_ms();
    int i, fd = -1, status, phase, killed, started;
    size_t level, from, count = h->set->count;
    pid_t pid;

    memset(&tl, 0, sizeof tl);
    join(path, sizeof path, dir, "/trial.db");
    for (i = 0; i < 3; i++) {
        runs[i] = measure(h, mode, path, 0);
        steps[i] = measure(h, mode, path, 1);
    }
    for (i = 1; i <= trials; i++) {
        struct trial t;

        /* The machine's load changes: measure again now and then. */
        if (i > 1 && i % 25 == 1) {
            runs[i / 25 % 3] = measure(h, mode, path, 0);
            steps[i / 25 % 3] = measure(h, mode, path, 1);
        }
        if (i % 25 == 1) {
            full = median3(runs);
            stepped = median3(steps);
            tap_diag("%s/%s: a full run takes %.1f ms from an empty file, %.1f ms from version 1", h->name,
                     mode, full, stepped);
        }

        memset(&t, 0, sizeof t);
        t.h = h;
        t.mode = mode;
        t.dir = dir;
        remove_db(path);
        /* Odd trials from an empty file, even ones from a version drawn at random
        ** (for a rollback: to nothing, or to that version). */
        from = i % 2 || count < 2 ? 0 : 1 + (size_t)(rng_unit() * (double)(count - 1));
        t.want = h->rolls_back ? from : count;
        span = from == 0 ? full : stepped * (double)(count - from) / (double)(count - 1);
        /* A little past the end, so that some kills come after the last commit. */
        delay = rng_unit() * span * 1.03;
        if ((pid = spawn(path, h, mode, from, &fd, &status)) < 0) {
            killed = 0;
            check(&t, 0, "%s", "the child died before migrating");
        } else {
            t0 = now_ms();
            sleep_ms(delay);
            if (kill(pid, SIGKILL) != 0)
                die("kill: %s", strerror(errno));
            delay = now_ms() - t0;
            reap(pid, fd, &status);
            killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
            check(&t, killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0),
                  "%s", "the child failed before it was killed");
        }
        join(keep, sizeof keep, dir, "/kill.db");
        snapshot(path, keep);
        check_state(&t, path, 0);
        level = t.level;
        started = t.started;
        if (h->rolls_back)
            phase = level == count ? BEFORE : level == from ? AFTER : MID;
        else
            phase = started ? NOTX : level == from ? BEFORE : level == count ? AFTER : MID;
        tl.phase[phase]++;
        tl.completed += !killed;
        tl.ahead += started && t.ahead;
        rerun(&t, path);
        check_state(&t, path, 1);
        if (h->rolls_back)
            up_again(&t, path);
        tl.trials++;
        tl.failed += t.failed > 0;
        tap_ok(&T, t.failed == 0, "%s/%s #%d: %s %zu, %s at %.1f ms, %zu of %zu applied%s (%s): state, "
               "rerun and final state checked", h->name, mode, i, h->rolls_back ? "rollback to" : "from", from,
               killed ? "killed" : "finished before the kill", delay, level, count,
               started ? " + 1 started" : "", phase_names[phase]);
        if (t.failed) {
            char name[128];
            snprintf(name, sizeof name, "/failed-%.20s-%.10s-%d.db", h->name, mode, i);
            join(path, sizeof path, dir, name);
            snapshot(keep, path);
            tap_diag("the files as the kill left them: %s", path);
            join(path, sizeof path, dir, "/trial.db");
        }
    }
    remove_db(keep);
    remove_db(path);
    tap_diag("%s/%s: %d trials, %d failed, %.1f s; kills %s %d, %s %d, %s %d (%d with its work done), "
             "%s %d (%d finished first)", h->name, mode, tl.trials, tl.failed, (now_ms() - start) / 1e3,
             phase_names[BEFORE], tl.phase[BEFORE], phase_names[MID], tl.phase[MID], phase_names[NOTX],
             tl.phase[NOTX], tl.ahead, phase_names[AFTER], tl.phase[AFTER], tl.completed);
    all->trials += tl.trials;
    all->ahead += tl.ahead;
    all->failed += tl.failed;
    all->completed += tl.completed;
    for (i = 0; i < NPHASES; i++)
        all->phase[i] += tl.phase[i];
}

/* A SIGKILL loses nothing the kernel holds, so files in RAM show the same
** as files on disk, only without the wait for fsync(). */
static const char *default_parent(void)
{
    const char *t = getenv("TMPDIR");

    if (access("/dev/shm", W_OK | X_OK) == 0)
        return "/dev/shm";
    return t && *t ? t : "/tmp";
}

static void usage(void)
{
    fputs("usage: crash_campaign [--trials N] [--mode rollback|wal|both]\n"
          "                      [--history demo|generated|reversible|all]\n"
          "                      [--seed S] [--dir DIR] [--keep]\n", stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *mode = "both", *hist = "all", *parent = NULL;
    static const char *const modes[] = { "rollback", "wal" };
    char dir[600];
    struct tally all;
    uint64_t seed = (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
    long trials = 20;
    int i, keep = 0, failed_dir;
    size_t m, k;
    ssize_t n;
    double start = now_ms();

    if (argc == 7 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2], argv[3], argv[4], argv[5], argv[6]);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
        if (strcmp(a, "--keep") == 0) {
            keep = 1;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (strcmp(a, "--trials") == 0) {
            trials = strtol(v, &end, 10);
            if (*end || trials < 1 || trials > 1000000)
                usage();
        } else if (strcmp(a, "--seed") == 0) {
            seed = strtoull(v, &end, 10);
            if (*end || !*v)
                usage();
        } else if (strcmp(a, "--mode") == 0 && (!strcmp(v, "rollback") || !strcmp(v, "wal") || !strcmp(v, "both"))) {
            mode = v;
        } else if (strcmp(a, "--history") == 0 && (history_named(v) || !strcmp(v, "all"))) {
            hist = v;
        } else if (strcmp(a, "--dir") == 0) {
            parent = v;
        } else {
            usage();
        }
    }
    if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0)
        self[n] = '\0';
    else
        snprintf(self, sizeof self, "%s", argv[0]);
    if (!parent)
        parent = default_parent();
    join(dir, sizeof dir, parent, "/sqlmig-crash-XXXXXX");
    if (!mkdtemp(dir))
        die("mkdtemp: %s", strerror(errno));
    rng_state = seed;
    printf("# seed %llu (repeat with --seed %llu); files in %s\n", (unsigned long long)seed,
           (unsigned long long)seed, dir);
    memset(&all, 0, sizeof all);
    for (k = 0; k < NHISTORIES; k++) {
        if (strcmp(hist, "all") != 0 && strcmp(hist, histories[k].name) != 0)
            continue;
        for (m = 0; m < 2; m++)
            if (strcmp(mode, "both") == 0 || strcmp(mode, modes[m]) == 0)
                campaign(&histories[k], modes[m], (int)trials, dir, &all);
    }
    printf("# crash campaign: %d trials, %d failed, %.1f s; kills %s %d, %s %d, %s %d (%d with its work "
           "done), %s %d (%d finished first); seed %llu\n", all.trials, all.failed, (now_ms() - start) / 1e3,
           phase_names[BEFORE], all.phase[BEFORE], phase_names[MID], all.phase[MID], phase_names[NOTX],
           all.phase[NOTX], all.ahead, phase_names[AFTER], all.phase[AFTER], all.completed,
           (unsigned long long)seed);
    failed_dir = all.failed > 0;
    if (!keep && !failed_dir && rmdir(dir) != 0)
        die("cannot remove %s (not empty?)", dir);
    if (failed_dir || keep)
        printf("# kept %s\n", dir);
    for (k = 0; k < NHISTORIES; k++) {
        for (m = 0; histories[k].levels && m <= histories[k].set->count; m++) {
            free(histories[k].levels[m].schema);
            free(histories[k].levels[m].rows);
        }
        free(histories[k].levels);
    }
    return tap_done(&T);
}
