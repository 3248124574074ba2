/*
** env_faults.c — faults of the environment rather than of single calls:
** a full disk (PRAGMA max_page_count), a read-only database file, a
** read-only folder, a database opened with SQLITE_OPEN_READONLY, a database
** that another process keeps locked past the busy timeout, and files that
** are not databases (text, random bytes). Each case runs in journal_mode
** DELETE and WAL where the mode means anything, and checks the sqlmig code,
** SQLite's code, a message that says what happened and what to do, and that
** the database file's bytes are unchanged with no journal or WAL left. The
** permission cases run in a child process as uid/gid 65534 when the test
** runs as root (root ignores permission bits). Prints TAP.
*/
#define _DEFAULT_SOURCE /* setgroups() */
#include "sqlmig.h"
#include "tap.h"
#include "setup.h"
#include "dbq.h"
#include "history.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct tap T;
#define OK(cond, ...) tap_ok(&T, (cond), __VA_ARGS__)

#define NOBODY 65534
#define HALF 8

static const struct sqlmig_set set = { history, H_COUNT, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };
static const struct sqlmig_set set_half = { history, HALF, NULL, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL };

static char dir[] = "/tmp/sqlmig-env-XXXXXX";
static int ndb;




static sqlite3 *open_db(const char *path, int flags)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        tap_diag("cannot open %s: %s", path, sqlite3_errmsg(db));
        exit(2);
    }
    return db;
}

static int migrate(sqlite3 *db, const struct sqlmig_set *s, int busy_ms, sqlmig_result *r)
{
    sqlmig_options o;
    memset(&o, 0, sizeof o);
    o.busy_timeout_ms = busy_ms;
    return sqlmig_migrate(db, s, &o, r);
}

/* Content hash (FNV-1a) and size of a file; 0 and -1 when it cannot be read. */
static uint64_t hash_file(const char *path, long *size)
{
    FILE *f = fopen(path, "rb");
    uint64_t h = 1469598103934665603u;
    int ch;
    long n = 0;

    *size = -1;
    if (!f)
        return 0;
    while ((ch = getc(f)) != EOF) {
        h = (h ^ (unsigned char)ch) * 1099511628211u;
        n++;
    }
    fclose(f);
    *size = n;
    return h;
}

static int exists(const char *path, const char *suffix)
{
    char name[512];
    snprintf(name, sizeof name, "%s%s", path, suffix);
    return access(name, F_OK) == 0;
}

/* No -journal and no -wal next to it. */
static int no_journal(const char *path)
{
    return !exists(path, "-journal") && !exists(path, "-wal");
}

/*
** No -journal; in WAL mode a -wal file may remain, empty: a read-only
** connection cannot checkpoint it away.
*/
static int no_journal_or_empty(const char *path, int wal)
{
    char name[512];
    struct stat st;

    snprintf(name, sizeof name, "%s-wal", path);
    if (!wal || stat(name, &st) != 0)
        return no_journal(path);
    return !exists(path, "-journal") && st.st_size == 0;
}

/* A database at version HALF in its own folder dir/N/, journal mode DELETE or WAL. */
static void build(int wal, char *path, size_t size, char *folder, size_t fsize)
{
    sqlmig_result r;
    sqlite3 *db;

    snprintf(folder, fsize, "%s/%d", dir, ++ndb);
    if (mkdir(folder, 0755) != 0)
        setup_die(folder);
    snprintf(path, size, "%s/t.db", folder);
    db = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (wal)
        setup_exec(db, "PRAGMA journal_mode=WAL");
    if (sqlmig_migrate(db, &set_half, NULL, &r) != SQLMIG_OK) {
        tap_diag("setup migrate: %s", r.message);
        exit(2);
    }
    setup_close(db);
}

static const char *mode(int wal)
{
    return wal ? "wal" : "delete";
}

/* ---- disk full ----------------------------------------------------------- */

/* A page limit is a setting of the connection: sqlmig's own gets it from
** options.connect, as an application would give it any setting. */
static int limit_pages(void *ctx, sqlite3 *conn)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", *(long long *)ctx);
    return sqlite3_exec(conn, sql, NULL, NULL, NULL);
}

static void disk_full(int wal)
{
    char path[300], folder[300];
    sqlmig_result r;
    sqlite3 *db;
    uint64_t before, after;
    long sb, sa;
    long long pages;
    sqlmig_options o;
    char sql[64];
    int rc;

    build(wal, path, sizeof path, folder, sizeof folder);
    before = hash_file(path, &sb);
    db = open_db(path, SQLITE_OPEN_READWRITE);
    /* Room for one more page: the rebuild of users (9) needs many. */
    pages = (long long)qint(db, "PRAGMA page_count") + 1;
    memset(&o, 0, sizeof o);
    o.connect = limit_pages;
    o.hook_ctx = &pages;
    rc = sqlmig_migrate(db, &set, &o, &r);
    OK(rc == SQLMIG_MIGRATION && r.version == 9 && r.sqlite_code == SQLITE_FULL && r.line > 0,
       "%s, disk full: SQLMIG_MIGRATION at 0009 with SQLITE_FULL (%s, %d): %s", mode(wal), sqlmig_errname(rc),
       r.sqlite_code, r.message);
    OK(strstr(r.message, "0009_rebuild_users.sql:") && strstr(r.message, "database or disk is full")
       && strstr(r.message, "free disk space") && strstr(r.message, "(rolled back: the database stays at version 8)"),
       "%s, disk full: the message says where, what, what to do and what it left", mode(wal));
    OK(r.to_version == HALF && sqlite3_get_autocommit(db) && qint(db, "SELECT max(version) FROM schema_migrations") == HALF,
       "%s, disk full: still at version 8, connection in autocommit", mode(wal));
    setup_close(db);
    after = hash_file(path, &sa);
    OK(after == before && sa == sb && no_journal(path), "%s, disk full: the file is byte for byte as before, "
       "no journal or WAL left", mode(wal));
    db = open_db(path, SQLITE_OPEN_READWRITE);
    rc = migrate(db, &set, 0, &r);
    OK(rc == SQLMIG_OK && r.to_version == H_COUNT && strcmp(qtext(db, "PRAGMA integrity_check", sql, sizeof sql), "ok") == 0,
       "%s, disk full: with room again the next run reaches 16 (%s)", mode(wal), r.message);
    setup_close(db);
}

/* ---- permissions --------------------------------------------------------- */

/* What a child reports through a pipe. */
struct report {
    int rc, sqlite_code, readonly, to_version, opened;
    char message[1024];
};

/*
** In a child, as uid/gid NOBODY when running as root: open path with
** flags, migrate to the set s, report. Returns 1 when the report came.
*/
static int as_nobody(const char *path, int flags, const struct sqlmig_set *s, struct report *out)
{
    int fd[2], status;
    pid_t pid;
    ssize_t n;

    memset(out, 0, sizeof *out);
    if (pipe(fd) != 0)
        setup_die("pipe");
    fflush(stdout);
    pid = fork();
    if (pid < 0)
        setup_die("fork");
    if (pid == 0) {
        struct report rep;
        sqlmig_result r;
        sqlite3 *db = NULL;

        close(fd[0]);
        memset(&rep, 0, sizeof rep);
        if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
            _exit(3);
        rep.opened = sqlite3_open_v2(path, &db, flags, NULL) == SQLITE_OK;
        if (rep.opened) {
            rep.readonly = sqlite3_db_readonly(db, "main");
            rep.rc = migrate(db, s, 0, &r);
            rep.sqlite_code = r.sqlite_code;
            rep.to_version = (int)r.to_version;
            snprintf(rep.message, sizeof rep.message, "%s", r.message);
        } else {
            snprintf(rep.message, sizeof rep.message, "%s", sqlite3_errmsg(db));
        }
        setup_close(db);
        _exit(write(fd[1], &rep, sizeof rep) == (ssize_t)sizeof rep ? 0 : 4);
    }
    close(fd[1]);
    n = read(fd[0], out, sizeof *out);
    close(fd[0]);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 0;
    return n == (ssize_t)sizeof *out;
}

static void read_only_file(int wal)
{
    char path[300], folder[300];
    struct report rep;
    uint64_t before, after;
    long sb, sa;
    int got;

    build(wal, path, sizeof path, folder, sizeof folder);
    /* The folder is the user's, the file is not writable by anyone but root. */
    if (chown(folder, NOBODY, NOBODY) != 0 && geteuid() == 0)
        setup_die("chown");
    if (chmod(path, 0444) != 0)
        setup_die("chmod");
    before = hash_file(path, &sb);
    got = as_nobody(path, SQLITE_OPEN_READWRITE, &set, &rep);
    OK(got && rep.opened && rep.readonly == 1 && rep.rc == SQLMIG_READONLY,
       "%s, read-only file opened read-write: SQLite opens it read-only, sqlmig says SQLMIG_READONLY (%s): %s",
       mode(wal), sqlmig_errname(rep.rc), rep.message);
    OK(strstr(rep.message, "read-only") && strstr(rep.message, "migrations are pending")
       && strstr(rep.message, "may write the file and its folder"),
       "%s, read-only file: the message says what and what to do", mode(wal));
    got = as_nobody(path, SQLITE_OPEN_READWRITE, &set_half, &rep);
    OK(got && rep.rc == SQLMIG_OK && rep.to_version == HALF, "%s, read-only file, nothing pending: OK at 8 (%s)",
       mode(wal), rep.message);
    after = hash_file(path, &sa);
    OK(after == before && sa == sb && no_journal_or_empty(path, wal), "%s, read-only file: unchanged, no journal%s",
       mode(wal), wal ? ", an empty WAL (a read-only connection cannot remove it)" : "");
}

static void read_only_folder(int wal)
{
    char path[300], folder[300];
    struct report rep;
    uint64_t before, after;
    long sb, sa;
    int got;

    build(wal, path, sizeof path, folder, sizeof folder);
    /* The file may be written by anyone, but no file may be created next to it. */
    if (chmod(path, 0666) != 0 || chmod(folder, 0555) != 0)
        setup_die("chmod");
    before = hash_file(path, &sb);
    got = as_nobody(path, SQLITE_OPEN_READWRITE, &set, &rep);
    OK(got && rep.opened && rep.readonly == 0 && rep.rc == SQLMIG_READONLY
       && rep.sqlite_code == SQLITE_READONLY_DIRECTORY,
       "%s, read-only folder: SQLMIG_READONLY with SQLITE_READONLY_DIRECTORY (%s, %d): %s", mode(wal),
       sqlmig_errname(rep.rc), rep.sqlite_code, rep.message);
    if (!wal) /* the journal is created by the first write of 9 */
        OK(strstr(rep.message, "0009_rebuild_users.sql:1:1: ") && strstr(rep.message, "folder is read-only")
           && strstr(rep.message, "(rolled back: the database stays at version 8)"),
           "%s, read-only folder: the message names the migration, the folder and what it left", mode(wal));
    else /* a WAL database cannot even be read without creating its -shm file */
        OK(rep.to_version == 0 && strstr(rep.message, "read the ledger: ")
           && strstr(rep.message, "folder is read-only"),
           "%s, read-only folder: the message says the ledger could not be read, and why", mode(wal));
    after = hash_file(path, &sa);
    OK(after == before && sa == sb && no_journal(path), "%s, read-only folder: unchanged, no journal or WAL",
       mode(wal));
    if (chmod(folder, 0755) != 0)
        setup_die("chmod");
}

static void open_read_only(int wal)
{
    char path[300], folder[300];
    sqlmig_result r;
    sqlite3 *db;
    uint64_t before, after;
    long sb, sa;
    int rc;

    build(wal, path, sizeof path, folder, sizeof folder);
    before = hash_file(path, &sb);
    db = open_db(path, SQLITE_OPEN_READONLY);
    rc = migrate(db, &set, 0, &r);
    OK(rc == SQLMIG_READONLY && r.to_version == HALF && strstr(r.message, "read-only")
       && strstr(r.message, "SQLITE_OPEN_READWRITE"),
       "%s, SQLITE_OPEN_READONLY: SQLMIG_READONLY, says to open it read-write (%s)", mode(wal), r.message);
    setup_close(db);
    after = hash_file(path, &sa);
    OK(after == before && sa == sb && no_journal_or_empty(path, wal), "%s, SQLITE_OPEN_READONLY: unchanged, no "
       "journal%s", mode(wal), wal ? ", an empty WAL (a read-only connection cannot remove it)" : "");
}

/* ---- locked by another process -------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void held_lock(int wal)
{
    char path[300], folder[300], ok[8];
    sqlmig_result r;
    sqlite3 *db;
    uint64_t before, after;
    long sb, sa;
    int held[2], release[2], rc, status;
    pid_t pid;
    char c = 0;
    double t0, waited;

    build(wal, path, sizeof path, folder, sizeof folder);
    before = hash_file(path, &sb);
    if (pipe(held) != 0 || pipe(release) != 0)
        setup_die("pipe");
    fflush(stdout);
    pid = fork();
    if (pid < 0)
        setup_die("fork");
    if (pid == 0) { /* holds the database until told to let go */
        sqlite3 *other = NULL;
        close(held[0]);
        close(release[1]);
        if (sqlite3_open_v2(path, &other, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK
            || sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK)
            _exit(3);
        if (write(held[1], "x", 1) != 1 || read(release[0], &c, 1) != 1)
            _exit(4);
        sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(other);
        _exit(0);
    }
    close(held[1]);
    close(release[0]);
    if (read(held[0], &c, 1) != 1)
        setup_die("the lock holder did not start");
    db = open_db(path, SQLITE_OPEN_READWRITE);
    t0 = now_s();
    rc = migrate(db, &set, 300, &r);
    waited = now_s() - t0;
    OK(rc == SQLMIG_BUSY && (r.sqlite_code & 0xff) == SQLITE_BUSY && waited >= 0.29 && waited < 10,
       "%s, BEGIN EXCLUSIVE in another process: SQLMIG_BUSY after the busy timeout (%.2f s): %s", mode(wal),
       waited, r.message);
    OK(strstr(r.message, "database is locked") && strstr(r.message, "busy timeout of 300 ms")
       && strstr(r.message, "raise busy_timeout_ms"),
       "%s, locked: the message says what and what to do", mode(wal));
    /* In DELETE mode the lock keeps sqlmig from reading even the ledger. */
    OK(sqlite3_get_autocommit(db) && r.to_version == (wal ? HALF : 0) && r.version == (wal ? 9 : 0),
       "%s, locked: nothing open; %s", mode(wal), wal ? "9 not started, at 8" : "the ledger could not be read");
    if (write(release[1], "x", 1) != 1)
        setup_die("release");
    close(release[1]);
    close(held[0]);
    OK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "%s, locked: the holder let go", mode(wal));
    setup_close(db);
    after = hash_file(path, &sa);
    OK(after == before && sa == sb && no_journal(path), "%s, locked: unchanged, no journal or WAL", mode(wal));
    db = open_db(path, SQLITE_OPEN_READWRITE);
    rc = migrate(db, &set, 300, &r);
    OK(rc == SQLMIG_OK && r.to_version == H_COUNT && strcmp(qtext(db, "PRAGMA integrity_check", ok, sizeof ok), "ok") == 0,
       "%s, locked: once released, the next run reaches 16 (%s)", mode(wal), r.message);
    setup_close(db);
}

/* ---- not a database -------------------------------------------------------- */

static void not_a_database(int random)
{
    char path[300];
    sqlmig_result r;
    sqlite3 *db;
    uint64_t before, after, x = 0x9e3779b97f4a7c15u;
    long sb, sa;
    FILE *f;
    int i, rc;
    const char *what = random ? "random bytes" : "a text file";

    snprintf(path, sizeof path, "%s/%d.db", dir, ++ndb);
    f = fopen(path, "wb");
    for (i = 0; f && i < 8192; i++) {
        if (random) { /* xorshift64: the same bytes on every run */
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            putc((int)(x & 0xff), f);
        } else {
            putc("a configuration file, not a database\n"[i % 37], f);
        }
    }
    if (!f || fclose(f) != 0)
        setup_die(path);
    before = hash_file(path, &sb);
    db = open_db(path, SQLITE_OPEN_READWRITE);
    rc = migrate(db, &set, 0, &r);
    OK(rc == SQLMIG_SQLITE && r.sqlite_code == SQLITE_NOTADB && r.version == 0,
       "%s: SQLMIG_SQLITE with SQLITE_NOTADB (%s, %d): %s", what, sqlmig_errname(rc), r.sqlite_code, r.message);
    OK(strstr(r.message, "read the ledger: file is not a database") && strstr(r.message, "check the path"),
       "%s: the message says what and what to do", what);
    setup_close(db);
    after = hash_file(path, &sa);
    OK(after == before && sa == sb && no_journal(path), "%s: unchanged, no journal or WAL", what);
}

/* Remove what the cases made: dir/N/t.db* with dir/N, or dir/N.db. */
static void cleanup(void)
{
    static const char *const suffix[] = { "", "-journal", "-wal", "-shm" };
    char name[320];
    int n;
    size_t i;

    for (n = 1; n <= ndb; n++) {
        for (i = 0; i < 4; i++) {
            snprintf(name, sizeof name, "%s/%d/t.db%s", dir, n, suffix[i]);
            (void)unlink(name); /* most do not exist */
        }
        snprintf(name, sizeof name, "%s/%d", dir, n);
        if (rmdir(name) != 0 && errno != ENOENT && errno != ENOTDIR)
            tap_diag("could not remove %s: %s", name, strerror(errno));
        snprintf(name, sizeof name, "%s/%d.db", dir, n);
        (void)unlink(name);
    }
    if (rmdir(dir) != 0)
        tap_diag("could not remove %s: %s", dir, strerror(errno));
}

int main(void)
{
    int wal;

    if (!mkdtemp(dir) || chmod(dir, 0755) != 0) /* nobody must reach the folders inside */
        setup_die("mkdtemp");
    tap_diag("SQLite %s; files in %s; %s", sqlite3_libversion(), dir,
             geteuid() == 0 ? "root: permission cases run as uid 65534" : "not root");
    for (wal = 0; wal <= 1; wal++) {
        disk_full(wal);
        read_only_file(wal);
        read_only_folder(wal);
        open_read_only(wal);
        held_lock(wal);
    }
    not_a_database(0);
    not_a_database(1);
    cleanup();
    return tap_done(&T);
}
