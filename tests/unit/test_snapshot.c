/*
** test_snapshot.c — a fresh database created from the snapshot is the
** database that replaying every migration creates.
**
** For each history (the fixture of tricky final states, the demo, a
** generated history of 300 migrations, and the benchmark's histories of 100
** and, with --large, 1000), and for a rollback journal, WAL, and a database whose host set
** page_size and auto_vacuum before migrating: create one database with the
** default path and one with SQLMIG_REPLAY, and compare them with dbsame.h
** (sqlite_schema in order, every row of every table with its rowid, the
** ledger's versions and checksums, user_version, application_id,
** auto_vacuum, journal_mode, page_size, encoding, integrity_check). Then the
** cases where the snapshot must not be used, what the status API says, and
** a snapshot that fails.
*/
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dbq.h"
#include "dbsame.h"
#include "sqlmig.h"
#include "tap.h"

#include "bench_100.h"
#include "bench_1000.h"
#include "demo_migrations.h"
#include "generated_300.h"
#include "snapshot_fixture.h"

static const struct {
    const char *name;
    const struct sqlmig_set *set;
    int large; /* compared only with --large, which compares nothing else */
} histories[] = {
    { "snapshot fixture", &snapshot_fixture, 0 },
    { "demo", &demo_migrations, 0 },
    { "generated 300", &generated_300, 0 },
    { "bench 100", &bench_100, 0 },
    { "bench 1000", &bench_1000, 1 },
};

/* How the host prepares the database before sqlmig_migrate(). */
static const struct {
    const char *name;
    const char *sql;
    int utf16; /* the snapshot was proven in UTF-8: such a file replays */
} variants[] = {
    { "rollback journal", "PRAGMA journal_mode = DELETE", 0 },
    { "WAL", "PRAGMA journal_mode = WAL", 0 },
    { "page_size 8192 and auto_vacuum FULL", "PRAGMA page_size = 8192; PRAGMA auto_vacuum = FULL", 0 },
    { "UTF-16le", "PRAGMA encoding = 'UTF-16le'", 1 },
};

static char dir[] = "/tmp/sqlmig-snapshot-XXXXXX";
static int files;

/*
** The clock of every database of this test: the default VFS with 'now'
** fixed, so that a row a migration stamps with the time of day reads the
** same whether the replay or the snapshot wrote it. sqlmig's own connection
** opens the file through the caller's VFS, and so reads this clock too.
*/
static sqlite3_vfs fixed_clock;

static int fixed_time64(sqlite3_vfs *vfs, sqlite3_int64 *t)
{
    (void)vfs;
    *t = INT64_C(212500000000000) + 123; /* 2021-10-29T05:33:20.123Z */
    return SQLITE_OK;
}

static int fixed_time(sqlite3_vfs *vfs, double *t)
{
    sqlite3_int64 x;
    fixed_time64(vfs, &x);
    *t = (double)x / 86400000.0;
    return SQLITE_OK;
}

static void use_fixed_clock(void)
{
    fixed_clock = *sqlite3_vfs_find(NULL);
    fixed_clock.zName = "fixed-clock";
    fixed_clock.xCurrentTime = fixed_time;
    fixed_clock.xCurrentTimeInt64 = fixed_time64;
    if (sqlite3_vfs_register(&fixed_clock, 1) != SQLITE_OK) {
        fprintf(stderr, "cannot register the fixed clock\n");
        exit(1);
    }
}

/* Every INFO line a call logged, one after another. */
struct log {
    char text[8192];
};

static void keep_log(void *ctx, int level, const char *message)
{
    struct log *l = ctx;
    size_t n = strlen(l->text);
    (void)level;
    snprintf(l->text + n, sizeof l->text - n, "%s\n", message);
}

/* A new database file, prepared by the host's statements. */
static sqlite3 *open_new(const char *prepare, char *path, size_t size)
{
    sqlite3 *db = NULL;
    snprintf(path, size, "%s/%d.db", dir, files++);
    if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, prepare, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s: %s\n", path, sqlite3_errmsg(db));
        exit(1);
    }
    return db;
}

static int last_version_is(const struct sqlmig_set *set, const sqlmig_result *r)
{
    return r->to_version == set->migrations[set->count - 1].version;
}

static void equivalence(struct tap *t, const char *name, const struct sqlmig_set *set, size_t v)
{
    sqlmig_options fast = { 0 }, replay = { 0 };
    sqlmig_result ra, rb;
    struct log la, lb;
    struct dbsame d;
    char pa[512], pb[512];
    sqlite3 *a = open_new(variants[v].sql, pa, sizeof pa);
    sqlite3 *b = open_new(variants[v].sql, pb, sizeof pb);
    int snap = set->snapshot_sql != NULL && !variants[v].utf16;

    la.text[0] = lb.text[0] = '\0';
    fast.log = keep_log;
    fast.log_ctx = &la;
    replay.log = keep_log;
    replay.log_ctx = &lb;
    /* Per migration, as a fresh database replays by default; the largest
    ** in one batch, to keep the suite short (the same SQL in the same order). */
    replay.flags = SQLMIG_REPLAY | (set->count > 200 ? SQLMIG_BATCH : 0);

    tap_ok(t, sqlmig_migrate(a, set, &fast, &ra) == SQLMIG_OK && ra.applied == set->count && last_version_is(set, &ra),
           "%s, %s: the default path applies all %zu (%s)", name, variants[v].name, set->count, ra.message);
    tap_ok(t, (strstr(la.text, "from the snapshot") != NULL) == snap,
           "%s, %s: %s", name, variants[v].name, snap ? "created from the snapshot" : "replayed: no snapshot for this set or this file");
    tap_ok(t, sqlmig_migrate(b, set, &replay, &rb) == SQLMIG_OK && rb.applied == set->count
              && last_version_is(set, &rb) && strstr(lb.text, "snapshot") == NULL,
           "%s, %s: SQLMIG_REPLAY runs every migration (%s)", name, variants[v].name, rb.message);
    /* The clock is fixed: two replays are the same too. */
    if (!tap_ok(t, dbsame_compare(a, b, "schema_migrations", &d) == 0,
                "%s, %s: the two databases are the same", name, variants[v].name))
        tap_diag("%s", d.what);
    tap_ok(t, sqlmig_verify(a, set, NULL, &ra) == SQLMIG_OK, "%s, %s: verify finds no drift (%s)", name,
           variants[v].name, ra.message);
    tap_ok(t, sqlmig_migrate(a, set, NULL, &ra) == SQLMIG_OK && ra.applied == 0,
           "%s, %s: the next start has nothing to do", name, variants[v].name);
    sqlite3_close(a);
    sqlite3_close(b);
}

static int count_rows(void *ctx, const struct sqlmig_status_row *row)
{
    (void)row;
    ++*(size_t *)ctx;
    return 0;
}

/* What sqlmig_status() says of a fresh database, and of one that is not. */
static void status(struct tap *t)
{
    sqlmig_result r;
    size_t n = 0;
    char path[512];
    sqlite3 *db = open_new("", path, sizeof path);

    tap_ok(t, sqlmig_status(db, &snapshot_fixture, NULL, count_rows, &n, &r) == SQLMIG_OK
              && n == snapshot_fixture.count
              && strcmp(r.message, "a fresh database: sqlmig_migrate() creates version 7 from the snapshot, "
                                   "in one transaction") == 0,
           "status of a fresh database: %s", r.message);
    {
        struct sqlmig_set without = demo_migrations;
        without.snapshot_sql = NULL;
        without.snapshot_len = 0;
        without.snapshot_note = "0007_seed.sql: its result depends on when or where it runs";
        tap_ok(t, sqlmig_status(db, &without, NULL, count_rows, &n, &r) == SQLMIG_OK
                  && strstr(r.message, "applies the 11 migrations in one transaction, split before and after each "
                                       "no-transaction or attaching one (1 of them), as the set has no snapshot: "
                                       "0007_seed.sql: its result depends") != NULL,
               "status of a fresh database, without a snapshot: the reason: %s", r.message);
    }
    tap_ok(t, sqlite3_exec(db, "CREATE TABLE mine (x)", NULL, NULL, NULL) == SQLITE_OK
              && sqlmig_status(db, &snapshot_fixture, NULL, count_rows, &n, &r) == SQLMIG_OK && r.message[0] == '\0',
           "status of a database that is not fresh says nothing of it: '%s'", r.message);
    sqlite3_close(db);
}

/* Where the snapshot must not be used, the migrations run one by one. */
static void not_fresh(struct tap *t)
{
    const struct sqlmig_set *set = &snapshot_fixture;
    sqlmig_options o = { 0 };
    sqlmig_result r;
    struct log l;
    char path[512];
    sqlite3 *db;

    o.log = keep_log;
    o.log_ctx = &l;

    l.text[0] = '\0';
    db = open_new("CREATE TABLE host_owned (x); INSERT INTO host_owned VALUES (1)", path, sizeof path);
    tap_ok(t, sqlmig_migrate(db, set, &o, &r) == SQLMIG_OK && r.applied == set->count
              && strstr(l.text, "snapshot") == NULL && qint(db, "SELECT count(*) FROM host_owned") == 1,
           "a database with a table of the host's: every migration runs, the table stays");
    sqlite3_close(db);

    l.text[0] = '\0';
    o.target = 3;
    db = open_new("", path, sizeof path);
    tap_ok(t, sqlmig_migrate(db, set, &o, &r) == SQLMIG_OK && r.applied == 3 && r.to_version == 3
              && strstr(l.text, "snapshot") == NULL,
           "a target before the last version: migrations 1 to 3 run (%s)", r.message);
    l.text[0] = '\0';
    o.target = 0;
    tap_ok(t, sqlmig_migrate(db, set, &o, &r) == SQLMIG_OK && r.applied == set->count - 3
              && strstr(l.text, "snapshot") == NULL,
           "then the rest, one by one: the database is no longer fresh");
    sqlite3_close(db);

    l.text[0] = '\0';
    o.flags = SQLMIG_DRY_RUN;
    db = open_new("", path, sizeof path);
    tap_ok(t, sqlmig_migrate(db, set, &o, &r) == SQLMIG_OK && r.applied == set->count
              && qint(db, "SELECT count(*) FROM sqlite_schema") == 0,
           "a dry run on a fresh database writes nothing");
    sqlite3_close(db);
}

/* A snapshot that fails at run time (a SQLite without a feature the build
** had, say) names the snapshot's line (SQLite gives no column for "no such
** table": the statement's first) and leaves the database empty. */
static void failing(struct tap *t)
{
    static const struct sqlmig_migration one[] = {
        { 1, "a", "0001_a.sql", "CREATE TABLE a(x);\n", 18, 1, NULL, 0,
          "0000000000000000000000000000000000000000000000000000000000000001", 0, NULL, 0 },
    };
    static const char bad[] = "CREATE TABLE a(x);\nINSERT INTO a VALUES (1);\n  INSERT INTO nosuch VALUES (1);\n";
    static const struct sqlmig_set set = { one, 1, NULL, 0, bad, sizeof bad - 1, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
    sqlmig_result r;
    char path[512];
    sqlite3 *db = open_new("", path, sizeof path);

    tap_ok(t, sqlmig_migrate(db, &set, NULL, &r) == SQLMIG_MIGRATION && r.line == 3 && r.column == 3
              && strcmp(r.file, "snapshot") == 0
              && strstr(r.message, "snapshot:3:3: no such table: nosuch") == r.message
              && strstr(r.message, "(rolled back: the database stays at version 0)") != NULL,
           "a failing snapshot: %s", r.message);
    tap_ok(t, qint(db, "SELECT count(*) FROM sqlite_schema") == 0, "and nothing is left of it, no ledger either");
    tap_ok(t, sqlmig_migrate(db, &set, &(sqlmig_options){ .flags = SQLMIG_REPLAY }, &r) == SQLMIG_OK
              && qint(db, "SELECT count(*) FROM a") == 0,
           "SQLMIG_REPLAY then runs the migrations instead (%s)", r.message);
    sqlite3_close(db);

    /* A history that drops all it made has an empty snapshot: only the ledger. */
    {
        static const struct sqlmig_set empty = { one, 1, NULL, 0, "", 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
        db = open_new("", path, sizeof path);
        tap_ok(t, sqlmig_migrate(db, &empty, NULL, &r) == SQLMIG_OK && r.applied == 1
                  && qint(db, "SELECT count(*) FROM sqlite_schema") == 1
                  && qint(db, "SELECT count(*) FROM schema_migrations WHERE version = 1") == 1,
               "an empty snapshot leaves the ledger and its row (%s)", r.message);
        sqlite3_close(db);
    }
}

/* Processes that start together on one fresh file: one creates it from the
** snapshot, the others wait for its lock and find nothing to do. */
static void together(struct tap *t)
{
    enum { N = 6 };
    const struct sqlmig_set *set = &bench_100;
    char path[512], replayed[512];
    sqlite3 *db = open_new("", path, sizeof path), *b;
    pid_t pid[N];
    int i, ok = 0, status;
    struct dbsame d;

    sqlite3_close(db);
    d.what[0] = '\0';
    for (i = 0; i < N; i++) {
        if ((pid[i] = fork()) == 0) {
            sqlmig_result r;
            sqlite3 *own = NULL;
            int rc = sqlite3_open(path, &own) == SQLITE_OK ? sqlmig_migrate(own, set, NULL, &r) : -1;
            sqlite3_close(own);
            _exit(rc == SQLMIG_OK ? 0 : 1);
        }
    }
    for (i = 0; i < N; i++)
        ok += pid[i] > 0 && waitpid(pid[i], &status, 0) == pid[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    tap_ok(t, ok == N, "%d processes at once on a fresh file: all succeed (%d did)", N, ok);
    db = NULL;
    b = open_new("", replayed, sizeof replayed);
    tap_ok(t, sqlite3_open(path, &db) == SQLITE_OK
              && qint(db, "SELECT count(*) FROM schema_migrations") == (int64_t)set->count
              && sqlmig_migrate(b, set, &(sqlmig_options){ .flags = SQLMIG_REPLAY | SQLMIG_BATCH }, NULL) == SQLMIG_OK
              && dbsame_compare(db, b, "schema_migrations", &d) == 0,
           "and the file holds every ledger row once and the replay's state%s%s", d.what[0] ? ": " : "", d.what);
    sqlite3_close(db);
    sqlite3_close(b);
}

int main(int argc, char **argv)
{
    struct tap t = { 0, 0 };
    size_t h, v;
    char cmd[600];
    int large = argc > 1 && strcmp(argv[1], "--large") == 0;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    use_fixed_clock();
    for (h = 0; h < sizeof histories / sizeof histories[0]; h++) {
        if (histories[h].large != large)
            continue;
        tap_ok(&t, histories[h].set->snapshot_sql != NULL,
               "%s: %s", histories[h].name, histories[h].set->snapshot_sql ? "has a snapshot"
               : histories[h].set->snapshot_note);
        for (v = 0; v < sizeof variants / sizeof variants[0]; v++)
            equivalence(&t, histories[h].name, histories[h].set, v);
    }
    if (!large) {
        status(&t);
        together(&t);
        not_fresh(&t);
        failing(&t);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
    return tap_done(&t);
}
