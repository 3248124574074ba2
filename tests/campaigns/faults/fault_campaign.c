/*
** fault_campaign.c — I/O faults while sqlmig applies a history.
**
** For each configuration (journal mode DELETE or WAL; a fresh database or
** one already at version 8; one transaction per migration or SQLMIG_BATCH)
** the campaign first counts the write, sync, lock and shm-map calls of a
** whole fault-free run through faultvfs (the counts must repeat exactly),
** then, for every k from 1 to that count, runs the same apply again with
** call k of the class failing, once (transient) or from k on (persistent).
** After each fault it heals the I/O and checks, through a new connection on
** the default VFS:
**   - the call returned OK only if SQLite absorbed the fault (then the
**     database is at the newest version), else an error that names the
**     migration (version, file in the message) and the cause (sqlite_code
**     and SQLite's text in the message);
**   - a failure that names no migration is a failure to read the ledger
**     before anything was done, and the database is as it was;
**   - the error agrees with the database: the version it names is not
**     applied, unless the message says its COMMIT reached the database, or
**     gives both versions ("the next run tells which") and the database is
**     at one of them; "stays at version N" is the version found, to_version
**     too;
**   - the connection is back in autocommit mode with foreign_keys restored;
**   - integrity_check is ok; the ledger is exactly versions 1..V (plus, after
**     a fault inside no-transaction migration 11, its started row); schema
**     and every row equal those of a reference database at V (or at one of
**     the states that 11's statements leave, statement by statement);
**   - the next run (after sqlmig_resolve() for a started 11) reaches version
**     16 with every row and object of the reference, and sqlmig_verify() is
**     clean.
** Transient faults retry on the same connection (a program that tries
** again); persistent faults close it while the disk still fails, and the
** next run uses a new one (a program that died and restarts). A failed
** unlock keeps its lock, as in the unix VFS, until the connection closes:
** after one, the connection is closed before anything else looks.
**
** Usage: fault_campaign [all | stride=S | k=K] [mode=delete|wal]
**                       [start=fresh|half] [batch=0|1] [class=write|sync|lock|busy|map]
**                       [kind=transient|persistent] [-v]
** Without "all" or stride=: every k where the fixed defects were found (see
** everywhere()), every 16th elsewhere (the default of `meson test`, one
** test per journal mode). "all" is every k of every sweep. Prints TAP: one
** line per sweep, a table of outcomes, and each failing trial by the
** arguments that repeat it alone (with -v, every trial's outcome).
*/
#include "sqlmig.h"
#include "tap.h"
#include "setup.h"
#include "dbq.h"
#include "faultvfs.h"
#include "history.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct tap T;
#define OK(cond, ...) tap_ok(&T, (cond), __VA_ARGS__)

#define VFS "faultvfs"
#define HALF 8 /* the half-migrated start: versions 1..8 applied */
#define CLS_BUSY FV_NCLASS /* the lock class, with xLock failing as SQLITE_BUSY */

static const struct sqlmig_set set = { history, H_COUNT, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
static struct sqlmig_set full;            /* set with the final schema, for verify */
static struct sqlmig_object objects[64];

struct config {
    int wal, half, batch;
};

/* What the command line asks for; -1: all. */
static struct {
    long k, stride;
    int wal, half, batch, cls, persistent, verbose;
} A = { -1, 0, -1, -1, -1, -1, -1, 0 };

/* The default run (no "all", no stride=): see everywhere(). */
#define DEFAULT_STRIDE 16
static unsigned sweeps; /* sweeps so far, to move the default's offset */

static char dir[256];
static char path[300];
static unsigned char *template_db; /* the database at HALF, per mode */
static size_t template_len;

/* ---- reference states ------------------------------------------------- */

/* Fingerprints of the content at each version (ledger excluded), and of the
** states migration 11 leaves after each of its statements. */
static uint64_t ref[H_COUNT + 1];
static uint64_t ref_notx[H_NOTX_STEPS + 1];
static int64_t ref_rows[H_COUNT + 1]; /* rows of all tables, for messages */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n--)
        h = (h ^ *b++) * 1099511628211u;
    return h;
}

/*
** Hash sqlite_schema (type, name, tbl_name, sql) and every row of every
** table in it, except the ledger; NULL, integers, reals, text and blobs are
** told apart. 0 when a query fails.
*/
static uint64_t fingerprint(sqlite3 *db, int64_t *rows)
{
    sqlite3_stmt *st = NULL, *t = NULL;
    uint64_t h = 1469598103934665603u;
    char sql[256];
    int rc, i, n, type;
    int64_t count = 0;

    rc = sqlite3_prepare_v2(db, "SELECT type, name, tbl_name, ifnull(sql, '') FROM sqlite_schema "
                            "WHERE tbl_name <> 'schema_migrations' ORDER BY type, name", -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (i = 0; i < 4; i++)
            h = fnv(h, sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i) + 1);
        if (strcmp((const char *)sqlite3_column_text(st, 0), "table") != 0)
            rc = SQLITE_OK;
        else {
            /* Every table here has a unique first column. */
            snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY 1", sqlite3_column_text(st, 1));
            rc = sqlite3_prepare_v2(db, sql, -1, &t, NULL);
            n = sqlite3_column_count(t);
            while (rc == SQLITE_OK && (rc = sqlite3_step(t)) == SQLITE_ROW) {
                rc = SQLITE_OK;
                count++;
                for (i = 0; i < n; i++) {
                    type = sqlite3_column_type(t, i);
                    h = fnv(h, &type, sizeof type);
                    if (type == SQLITE_INTEGER) {
                        int64_t v = sqlite3_column_int64(t, i);
                        h = fnv(h, &v, sizeof v);
                    } else if (type == SQLITE_FLOAT) {
                        double v = sqlite3_column_double(t, i);
                        h = fnv(h, &v, sizeof v);
                    } else if (type != SQLITE_NULL) {
                        h = fnv(h, sqlite3_column_blob(t, i), (size_t)sqlite3_column_bytes(t, i));
                    }
                }
            }
            sqlite3_finalize(t);
            rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        }
    }
    sqlite3_finalize(st);
    if (rows)
        *rows = count;
    return rc == SQLITE_DONE ? h : 0;
}

/* ---- files ------------------------------------------------------------ */



static void remove_db(const char *p)
{
    static const char *const suffix[] = { "", "-journal", "-wal", "-shm" };
    char name[320];
    size_t i;

    for (i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "%s%s", p, suffix[i]);
        if (unlink(name) != 0 && errno != ENOENT)
            setup_die(name);
    }
}

static unsigned char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    unsigned char *buf;
    long n;

    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        setup_die(p);
    buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        setup_die(p);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void spill(const char *p, const unsigned char *buf, size_t len)
{
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
        setup_die(p);
}

static sqlite3 *open_at(const char *p, const char *vfs)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) != SQLITE_OK) {
        tap_diag("cannot open %s: %s", p, sqlite3_errmsg(db));
        exit(2);
    }
    return db;
}


/* The database file of a trial, at its start: empty or at HALF. */
static void prepare(const struct config *cf)
{
    sqlite3 *db;

    remove_db(path);
    if (cf->half) {
        spill(path, template_db, template_len);
        return;
    }
    if (cf->wal) { /* WAL is a property of the file: set before the run */
        db = open_at(path, NULL);
        setup_exec(db, "PRAGMA journal_mode=WAL");
        setup_close(db);
    }
}

static int migrate_to(sqlite3 *db, int64_t target, unsigned flags, sqlmig_result *r)
{
    sqlmig_options o;
    memset(&o, 0, sizeof o);
    o.target = target;
    o.flags = flags;
    /* Short: the next run waits this long on a started row before it says
    ** SQLMIG_INTERRUPTED; SQLite's own waits go through faultvfs's sleep. */
    o.busy_timeout_ms = 200;
    return sqlmig_migrate(db, &set, &o, r);
}

/* Reference fingerprints and the HALF template for one journal mode. */
static void build_references(int wal)
{
    struct config cf = { wal, 0, 0 };
    sqlmig_result r;
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    int64_t v;
    size_t i, n = 0;
    char p2[320];

    prepare(&cf);
    db = open_at(path, NULL);
    ref[0] = fingerprint(db, &ref_rows[0]);
    for (v = 1; v <= H_COUNT; v++) {
        if (migrate_to(db, v, 0, &r) != SQLMIG_OK) {
            tap_diag("reference run to %lld failed: %s", (long long)v, r.message);
            exit(2);
        }
        ref[v] = fingerprint(db, &ref_rows[v]);
        if (v == HALF) { /* closing checkpoints a WAL: the file alone is the database */
            setup_close(db);
            free(template_db);
            template_db = slurp(path, &template_len);
            db = open_at(path, NULL);
        }
    }
    /* The final schema, as `sqlmig compile` would embed it. */
    if (sqlite3_prepare_v2(db, "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL "
                           "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND tbl_name <> 'schema_migrations' "
                           "ORDER BY type, name", -1, &st, NULL) != SQLITE_OK)
        setup_die("read the final schema");
    for (i = 0; i < full.object_count; i++) {
        free((void *)objects[i].type);
        free((void *)objects[i].name);
        free((void *)objects[i].sql);
    }
    while (sqlite3_step(st) == SQLITE_ROW && n < sizeof objects / sizeof objects[0]) {
        objects[n].type = strdup((const char *)sqlite3_column_text(st, 0));
        objects[n].name = strdup((const char *)sqlite3_column_text(st, 1));
        objects[n].sql = strdup((const char *)sqlite3_column_text(st, 2));
        n++;
    }
    sqlite3_finalize(st);
    full.migrations = history;
    full.count = H_COUNT;
    full.objects = objects;
    full.object_count = n;
    setup_close(db);

    /* 11's statements one at a time, from a copy at version 10. */
    snprintf(p2, sizeof p2, "%s.notx", path);
    remove_db(p2);
    if (wal) {
        db = open_at(p2, NULL);
        setup_exec(db, "PRAGMA journal_mode=WAL");
        setup_close(db);
    }
    db = open_at(p2, NULL);
    if (migrate_to(db, H_NOTX_VERSION - 1, 0, &r) != SQLMIG_OK)
        setup_die("reference run to 10");
    ref_notx[0] = fingerprint(db, NULL);
    for (i = 0; i < H_NOTX_STEPS; i++) {
        setup_exec(db, history_notx_steps[i]);
        ref_notx[i + 1] = fingerprint(db, NULL);
    }
    setup_close(db);
    remove_db(p2);
}

/* ---- the state of a database after a fault ---------------------------- */

struct state {
    int integrity;     /* integrity_check said ok */
    int ledger;        /* the ledger is a whole prefix of the set */
    int64_t top;       /* its newest complete version */
    int64_t started;   /* a started row's version, or 0 */
    int content;       /* fingerprint equals the reference for top (and started) */
    int notx_step;     /* with a started row: how many of 11's statements ran, or -1 */
    char why[256];
};

static void read_state(sqlite3 *db, struct state *s)
{
    sqlite3_stmt *st = NULL;
    char buf[64];
    int64_t i = 0, ms;
    uint64_t h;
    int rc, j;

    memset(s, 0, sizeof *s);
    s->notx_step = -1;
    s->integrity = strcmp(qtext(db, "PRAGMA integrity_check", buf, sizeof buf), "ok") == 0;
    if (!s->integrity)
        snprintf(s->why, sizeof s->why, "integrity_check: %s", buf);
    s->ledger = 1;
    if (has_table(db, "schema_migrations")) {
        rc = sqlite3_prepare_v2(db, "SELECT version, name, checksum, execution_ms FROM schema_migrations "
                                "ORDER BY version", -1, &st, NULL);
        while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            const struct sqlmig_migration *m = i < H_COUNT ? &history[i] : NULL;
            ms = sqlite3_column_int64(st, 3);
            if (!m || s->started || sqlite3_column_int64(st, 0) != m->version
                || strcmp((const char *)sqlite3_column_text(st, 1), m->name) != 0
                || strcmp((const char *)sqlite3_column_text(st, 2), m->checksum) != 0
                || (ms < 0 && !(ms == -1 && (m->flags & SQLMIG_NO_TRANSACTION)))) {
                s->ledger = 0;
                snprintf(s->why, sizeof s->why, "ledger row %lld is not version %lld complete",
                         (long long)sqlite3_column_int64(st, 0), (long long)(i + 1));
                break;
            }
            if (ms == -1)
                s->started = m->version;
            else
                s->top = m->version;
            i++;
            rc = SQLITE_OK;
        }
        if (s->ledger && rc != SQLITE_DONE) {
            s->ledger = 0;
            snprintf(s->why, sizeof s->why, "ledger: %s", sqlite3_errmsg(db));
        }
        sqlite3_finalize(st);
    }
    h = fingerprint(db, NULL);
    if (s->started) {
        for (j = 0; j <= H_NOTX_STEPS; j++)
            if (h == ref_notx[j])
                s->notx_step = j;
        s->content = s->notx_step >= 0;
    } else {
        s->content = h != 0 && h == ref[s->top];
    }
    if (s->ledger && !s->content)
        snprintf(s->why, sizeof s->why, "content differs from the reference at version %lld%s",
                 (long long)s->top, s->started ? " plus a started 11" : "");
}

/* ---- outcomes ----------------------------------------------------------- */

/* Tally of what the faulted calls returned, for the report. */
struct tally {
    unsigned long trials, injected, ok, errors, committed, uncertain, started, failed;
    unsigned long by_code[SQLMIG_CODE_END];
    unsigned long by_sqlite[32]; /* primary SQLite code of errors */
};

static struct tally total;

static void add_tally(struct tally *to, const struct tally *from)
{
    size_t i;
    to->trials += from->trials;
    to->injected += from->injected;
    to->ok += from->ok;
    to->errors += from->errors;
    to->committed += from->committed;
    to->uncertain += from->uncertain;
    to->started += from->started;
    to->failed += from->failed;
    for (i = 0; i < SQLMIG_CODE_END; i++)
        to->by_code[i] += from->by_code[i];
    for (i = 0; i < 32; i++)
        to->by_sqlite[i] += from->by_sqlite[i];
}

static void print_tally(const char *title, const struct tally *t)
{
    char line[512];
    size_t i, n;

    n = (size_t)snprintf(line, sizeof line, "%s: %lu trials, %lu faults injected; OK (absorbed) %lu;", title,
                         t->trials, t->injected, t->ok);
    for (i = 1; i < SQLMIG_CODE_END; i++)
        if (t->by_code[i] && n < sizeof line)
            n += (size_t)snprintf(line + n, sizeof line - n, " %s %lu;", sqlmig_errname((int)i), t->by_code[i]);
    tap_diag("%s", line);
    n = (size_t)snprintf(line, sizeof line, "  causes:");
    for (i = 0; i < 32; i++)
        if (t->by_sqlite[i] && n < sizeof line)
            n += (size_t)snprintf(line + n, sizeof line - n, " %s %lu;", sqlite3_errstr((int)i), t->by_sqlite[i]);
    if (n < sizeof line)
        snprintf(line + n, sizeof line - n, " the failed migration committed after all %lu; COMMIT outcome "
                 "unknown to sqlmig %lu; 11 left started %lu", t->committed, t->uncertain, t->started);
    tap_diag("%s", line);
}

/* "... stays at version N ...": N, or -1 when the message says no such thing. */
static int64_t stays_at(const char *msg)
{
    const char *p = strstr(msg, "stays at version ");
    return p ? strtoll(p + 17, NULL, 10) : -1;
}

/* ---- one trial ------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void say(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

static const char *mode_name(const struct config *cf)
{
    return cf->wal ? "wal" : "delete";
}

/*
** Run the apply with call k of class cls failing; 0 if every check held,
** else 1 with the reason in why. Adds to the tally.
*/
static int trial(const struct config *cf, int cls, int persistent, unsigned long k, struct tally *t,
                 char *why, size_t size)
{
    int64_t start = cf->half ? HALF : 0, stays;
    sqlite3 *db, *check;
    sqlmig_result r, next;
    struct state s;
    int rc, rc2, autocommit, fk, cause, named, unlock_failed;
    unsigned long injected;

    why[0] = '\0';
    prepare(cf);
    db = open_at(path, VFS);
    setup_exec(db, "PRAGMA foreign_keys=ON"); /* sqlmig must restore it */
    faultvfs_busy(cls == CLS_BUSY);
    faultvfs_reset();
    faultvfs_arm(cls == CLS_BUSY ? FV_LOCK : cls, k, persistent);
    rc = migrate_to(db, 0, cf->batch ? SQLMIG_BATCH : 0, &r);
    injected = faultvfs_injected();
    autocommit = sqlite3_get_autocommit(db);
    fk = (int)qint(db, "PRAGMA foreign_keys");
    unlock_failed = faultvfs_unlock_failed();
    if (persistent) { /* the program dies while the disk still fails */
        setup_close(db);
        db = NULL;
    }
    faultvfs_heal();
    faultvfs_busy(0);
    /* A lock whose release failed stays held, by the real VFS too, until
    ** the connection is closed: another connection could wait on it forever. */
    if (db && unlock_failed) {
        setup_close(db);
        db = NULL;
    }

    t->trials++;
    t->injected += injected;
    if (rc >= 0 && rc < SQLMIG_CODE_END)
        t->by_code[rc]++;
    if (rc == SQLMIG_OK)
        t->ok++;
    else
        t->errors++, t->by_sqlite[r.sqlite_code & 0x1f]++;

    check = open_at(path, NULL);
    read_state(check, &s);
    if (s.started)
        t->started++;
    if (rc != SQLMIG_OK && r.version && s.top >= r.version)
        t->committed++;
    if (rc != SQLMIG_OK && strstr(r.message, "the next run tells which"))
        t->uncertain++;

    if (A.verbose)
        tap_diag("%s k=%lu first=%s rc=%s v=%lld top=%lld started=%lld: %s", faultvfs_class_name(cls == CLS_BUSY ? FV_LOCK : cls),
                 k, faultvfs_first(), sqlmig_errname(rc), (long long)r.version, (long long)s.top,
                 (long long)s.started, r.message);

#define CHECK(cond, ...) do { if (!(cond)) { say(why, size, __VA_ARGS__); goto out; } } while (0)
    CHECK(injected >= 1, "no fault was injected (the run has fewer calls than the measured one)");
    CHECK(autocommit, "the connection was left inside a transaction");
    CHECK(fk == 1, "foreign_keys was not restored (%d)", fk);
    CHECK(s.integrity, "%s", s.why);
    CHECK(s.ledger, "%s", s.why);
    CHECK(s.content, "%s", s.why);
    CHECK(s.top >= start, "the database went back from %lld to %lld", (long long)start, (long long)s.top);
    CHECK(r.code == rc, "res.code %d, returned %d", r.code, rc);
    if (rc == SQLMIG_OK) {
        CHECK(s.top == H_COUNT && !s.started && r.to_version == H_COUNT
              && r.applied == (size_t)(H_COUNT - start),
              "OK, but the database is at %lld (to_version %lld, applied %zu)", (long long)s.top,
              (long long)r.to_version, r.applied);
    } else {
        cause = r.sqlite_code != 0 && strstr(r.message, sqlite3_errstr(r.sqlite_code)) != NULL;
        named = r.version > start && r.version <= H_COUNT && r.file
                && strcmp(r.file, history[r.version - 1].file) == 0 && strstr(r.message, r.file) != NULL;
        stays = stays_at(r.message);
        CHECK(rc == SQLMIG_MIGRATION || rc == SQLMIG_SQLITE || rc == SQLMIG_BUSY,
              "unexpected code %s: %s", sqlmig_errname(rc), r.message);
        CHECK(cause, "the message does not give the cause (sqlite_code %d): %s", r.sqlite_code, r.message);
        /* Only a failure to read the ledger before anything else names no migration. */
        CHECK(named || (r.version == 0 && rc != SQLMIG_MIGRATION && r.applied == 0 && s.top == start
                        && strncmp(r.message, "read ", 5) == 0),
              "the message does not name the migration (version %lld): %s", (long long)r.version, r.message);
        CHECK(stays < 0 || stays == s.top, "the message says version %lld, the database is at %lld: %s",
              (long long)stays, (long long)s.top, r.message);
        if (r.version == 0) {
            CHECK(r.to_version == 0 || r.to_version == s.top, "to_version %lld, the database is at %lld: %s",
                  (long long)r.to_version, (long long)s.top, r.message);
        } else if (strstr(r.message, "the next run tells which")) {
            /* The COMMIT failed and the ledger could not be read: either is right. */
            CHECK((s.top == r.to_version && !s.started) || (!strstr(r.message, "started row") && s.top == r.version)
                  || (strstr(r.message, "records it as complete") && s.started == r.version)
                  || (strstr(r.message, "started row") && s.top == r.to_version && s.started == r.version),
                  "the message says %lld or %lld, the database is at %lld%s: %s", (long long)r.to_version,
                  (long long)r.version, (long long)s.top, s.started ? " with 11 started" : "", r.message);
        } else if (s.top >= r.version) { /* committed after all: the message must say so */
            CHECK(r.to_version == s.top && strstr(r.message, "COMMIT had reached the database"),
                  "version %lld is applied, but the message does not say so: %s", (long long)r.version,
                  r.message);
        } else if (s.started) {
            CHECK(r.version == s.started && strstr(r.message, "sqlmig_resolve"),
                  "11 is left started, but the message does not say so: %s", r.message);
        } else {
            /* A fresh database is migrated as one batch (split at 11), an older one migration by migration. */
            CHECK(r.to_version == s.top && stays == s.top && (cf->batch || !cf->half || s.top == r.version - 1),
                  "version %lld failed, the database is at %lld, to_version %lld: %s", (long long)r.version,
                  (long long)s.top, (long long)r.to_version, r.message);
        }
    }

    /* The next run: the same connection when it survived, else a new one. */
    if (!db)
        db = open_at(path, NULL);
    /* A started 11 makes the next run wait out its busy timeout first: once
    ** per sweep is proof enough, the other trials ask verify, which does not wait. */
    if (s.started && t->started > 1)
        rc2 = SQLMIG_INTERRUPTED, next.version = H_NOTX_VERSION;
    else
        rc2 = migrate_to(db, 0, 0, &next);
    if (s.started) {
        CHECK(rc2 == SQLMIG_INTERRUPTED && next.version == H_NOTX_VERSION,
              "next run after a started 11: %s (%s)", sqlmig_errname(rc2), next.message);
        rc2 = sqlmig_verify(check, &full, NULL, &next);
        CHECK(rc2 == SQLMIG_INTERRUPTED && next.version == H_NOTX_VERSION,
              "verify after a started 11: %s (%s)", sqlmig_errname(rc2), next.message);
        /* The operator's check: did all of 11 run? (it is idempotent: retry is always safe) */
        rc2 = sqlmig_resolve(db, NULL, H_NOTX_VERSION,
                             s.notx_step == H_NOTX_STEPS ? SQLMIG_RESOLVE_APPLIED : SQLMIG_RESOLVE_RETRY, &next);
        CHECK(rc2 == SQLMIG_OK, "resolve: %s", next.message);
        rc2 = migrate_to(db, 0, 0, &next);
    }
    CHECK(rc2 == SQLMIG_OK && next.to_version == H_COUNT, "next run: %s (%s)", sqlmig_errname(rc2),
          next.message);
    read_state(check, &s);
    CHECK(s.integrity && s.ledger && s.content && s.top == H_COUNT && !s.started, "after the next run: %s",
          s.why[0] ? s.why : "not at the newest version");
    rc2 = sqlmig_verify(check, &full, NULL, &next);
    CHECK(rc2 == SQLMIG_OK, "verify after the next run: %s", next.message);
#undef CHECK
out:
    if (db)
        setup_close(db);
    setup_close(check);
    if (why[0])
        t->failed++;
    return why[0] != '\0';
}

/* ---- sweeps ------------------------------------------------------------- */

/* Calls of a whole fault-free run, per class; the two runs must agree. */
static int measure(const struct config *cf, unsigned long n[FV_NCLASS])
{
    unsigned long again[FV_NCLASS] = { 0 };
    sqlmig_result r;
    sqlite3 *db;
    int pass, rc, i;

    for (pass = 0; pass < 2; pass++) {
        prepare(cf);
        db = open_at(path, VFS);
        faultvfs_reset();
        rc = migrate_to(db, 0, cf->batch ? SQLMIG_BATCH : 0, &r);
        /* Before the close: a trial heals before it closes. */
        for (i = 0; i < FV_NCLASS; i++)
            (pass ? again : n)[i] = faultvfs_calls(i);
        setup_close(db);
        if (rc != SQLMIG_OK) {
            tap_diag("fault-free run failed: %s", r.message);
            return 0;
        }
    }
    for (i = 0; i < FV_NCLASS; i++)
        if (n[i] != again[i])
            return 0;
    return 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
** Where the default run tries every k: the lock and sync calls of a
** half-migrated database, one transaction per migration. They hold the
** faults that found sqlmig's defects: an unlock that fails after the commit
** point (journal mode), a WAL sync that fails after the commit frame was
** written, the commits of migration 11's started and completed rows.
*/
static int everywhere(const struct config *cf, int cls)
{
    return cf->half && !cf->batch && (cls == FV_LOCK || cls == FV_SYNC);
}

static void sweep(const struct config *cf)
{
    static const int classes[] = { FV_WRITE, FV_SYNC, FV_LOCK, CLS_BUSY, FV_MAP };
    unsigned long n[FV_NCLASS], k, from, to, step;
    struct tally t;
    char title[128], why[1024];
    size_t c;
    int persistent, cls, shown;
    double t0 = now_s(), t1;
    int measured;

    snprintf(title, sizeof title, "%s, %s database%s", mode_name(cf), cf->half ? "half-migrated (at 8)" : "fresh",
             cf->batch ? ", SQLMIG_BATCH" : "");
    measured = measure(cf, n);
    if (!OK(measured, "%s: a fault-free run applies everything, with the same calls twice "
            "(write %lu, sync %lu, lock %lu, map %lu)", title, n[FV_WRITE], n[FV_SYNC], n[FV_LOCK], n[FV_MAP]))
        return;
    for (c = 0; c < sizeof classes / sizeof classes[0]; c++) {
        cls = classes[c];
        if (A.cls >= 0 && A.cls != cls)
            continue;
        for (persistent = 0; persistent <= 1; persistent++) {
            if (A.persistent >= 0 && A.persistent != persistent)
                continue;
            to = n[cls == CLS_BUSY ? FV_LOCK : cls];
            if (to == 0)
                continue;
            /* By default: every k where the fixed defects were found (see
            ** everywhere()), elsewhere every DEFAULT_STRIDE-th, from an offset
            ** that moves from sweep to sweep so that together they reach more. */
            step = A.stride > 0 ? (unsigned long)A.stride : everywhere(cf, cls) ? 1 : DEFAULT_STRIDE;
            from = 1 + (step > 1 ? (sweeps * 5) % step : 0);
            sweeps++;
            if (A.k > 0)
                from = to = (unsigned long)A.k, step = 1;
            memset(&t, 0, sizeof t);
            shown = 0;
            t1 = now_s();
            for (k = from; k <= to; k += step) {
                if (trial(cf, cls, persistent, k, &t, why, sizeof why) && shown++ < 5)
                    tap_diag("FAILED: %s: mode=%s start=%s batch=%d class=%s kind=%s k=%lu",
                             why, mode_name(cf), cf->half ? "half" : "fresh", cf->batch,
                             cls == CLS_BUSY ? "busy" : faultvfs_class_name(cls),
                             persistent ? "persistent" : "transient", k);
            }
            OK(t.failed == 0, "%s: %s %s faults, k from %lu to %lu by %lu (%lu trials): each gives OK at 16, or "
               "an error naming the migration and the cause that agrees with a database at a whole version; the "
               "next run reaches 16", title, persistent ? "persistent" : "transient",
               cls == CLS_BUSY ? "lock-busy" : faultvfs_class_name(cls), from, to, step, t.trials);
            snprintf(why, sizeof why, "  %s %s (%.1f s)", persistent ? "persistent" : "transient",
                     cls == CLS_BUSY ? "lock-busy" : faultvfs_class_name(cls), now_s() - t1);
            print_tally(why, &t);
            add_tally(&total, &t);
        }
    }
    tap_diag("%s: %.1f s", title, now_s() - t0);
}

static int parse(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "all") == 0)
            A.stride = 1;
        else if (strncmp(a, "stride=", 7) == 0 && atol(a + 7) > 0)
            A.stride = atol(a + 7);
        else if (strncmp(a, "k=", 2) == 0 && atol(a + 2) > 0)
            A.k = atol(a + 2);
        else if (strcmp(a, "mode=delete") == 0 || strcmp(a, "mode=wal") == 0)
            A.wal = a[5] == 'w';
        else if (strcmp(a, "start=fresh") == 0 || strcmp(a, "start=half") == 0)
            A.half = a[6] == 'h';
        else if (strcmp(a, "batch=0") == 0 || strcmp(a, "batch=1") == 0)
            A.batch = a[6] == '1';
        else if (strcmp(a, "kind=transient") == 0 || strcmp(a, "kind=persistent") == 0)
            A.persistent = a[5] == 'p';
        else if (strcmp(a, "class=busy") == 0)
            A.cls = CLS_BUSY;
        else if (strncmp(a, "class=", 6) == 0) {
            for (A.cls = 0; A.cls < FV_ALL && strcmp(a + 6, faultvfs_class_name(A.cls)) != 0; A.cls++) {}
            if (A.cls == FV_ALL)
                return 0;
        } else if (strcmp(a, "-v") == 0)
            A.verbose = 1;
        else
            return 0;
    }
    return 1;
}

static const char *tmp_root(void)
{
    const char *t = getenv("TMPDIR");
    struct stat sb;
    if (t && *t)
        return t;
    /* Memory-backed when there is one: the sweep syncs thousands of times. */
    return stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

int main(int argc, char **argv)
{
    struct config cf;
    struct tally before;
    int wal, half, batch;
    double t0 = now_s();

    if (!parse(argc, argv)) {
        fprintf(stderr, "usage: fault_campaign [all | stride=S | k=K] [mode=delete|wal] [start=fresh|half] "
                "[batch=0|1] [class=write|sync|lock|busy|map] [kind=transient|persistent] [-v]\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s/sqlmig-faults-XXXXXX", tmp_root());
    if (!mkdtemp(dir))
        setup_die("mkdtemp");
    snprintf(path, sizeof path, "%s/f.db", dir);
    if (faultvfs_register(VFS) != SQLITE_OK)
        setup_die("faultvfs_register");
    faultvfs_fast_sleep(1);
    tap_diag("SQLite %s; files in %s", sqlite3_libversion(), dir);

    for (wal = 0; wal <= 1; wal++) {
        if (A.wal >= 0 && A.wal != wal)
            continue;
        before = total;
        build_references(wal);
        OK(ref_rows[H_COUNT] == 400 + 100 + 300 + 100 + 1 + 200 + 400 + 2,
           "%s: the reference history ends with every row counted (%lld)", wal ? "wal" : "delete",
           (long long)ref_rows[H_COUNT]);
        for (half = 0; half <= 1; half++) {
            if (A.half >= 0 && A.half != half)
                continue;
            for (batch = 0; batch <= 1; batch++) {
                if (A.batch >= 0 && A.batch != batch)
                    continue;
                cf.wal = wal;
                cf.half = half;
                cf.batch = batch;
                sweep(&cf);
            }
        }
        /* The faults behind the fixed defects must still be met (unless the
        ** command line narrowed the run): an unlock failing after the commit
        ** point in journal mode, a WAL sync failing after the commit frame. */
        if (A.k < 0 && A.cls < 0 && A.persistent < 0 && A.half < 0 && A.batch < 0) {
            if (!wal)
                OK(total.committed > before.committed, "delete: some faults came after the commit point, and "
                   "sqlmig said the migration was applied (%lu)", total.committed - before.committed);
            else
                OK(total.uncertain > before.uncertain, "wal: some COMMIT faults left the outcome to WAL recovery, "
                   "and sqlmig said it could go either way (%lu)", total.uncertain - before.uncertain);
        }
    }
    print_tally("all sweeps", &total);
    tap_diag("%.1f s in all", now_s() - t0);
    remove_db(path);
    if (rmdir(dir) != 0)
        tap_diag("could not remove %s: %s", dir, strerror(errno));
    return tap_done(&T);
}
