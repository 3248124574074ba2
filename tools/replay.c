/*
** replay.c — replay the migrations through the runtime before anything is
** emitted, and prove the snapshot (see replay.h).
**
** Each replay is one sqlmig_migrate() on a fresh database of its own
** in-memory VFS, as a program's first start would be: the runtime opens its
** own connection, sets its baseline, runs every statement through its
** runner and checks foreign keys, exactly as it will at run time. The tool
** watches through the options' hooks: `connect` installs the replay's
** conditions on the runtime's connection, and `applied`, called after each
** migration inside its transaction, records what the migration wrote: the
** rows the update hook saw, each hashed as it is after the migration. The
** second replay compares its record with the first's migration by
** migration, and stops at the first that differs, which the note names.
*/
#include "replay.h"

#include "buf.h"
#include "dangling.h"
#include "diag.h"
#include "history.h"
#include "memvfs.h"
#include "scan.h"
#include "snapshot.h"
#include "sqlmig.h"

#include <sqlite3.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* The replays' ledgers: names no history gives a table of its own. */
#define LEDGER "sqlmig_replay_ledger"
#define LEDGER_OTHER "sqlmig_replay_ledger_b"

/* The conditions of one replay. */
struct conditions {
    const char *vfs;       /* the in-memory VFS's name */
    const char *path;      /* the database's name in it */
    int64_t clock_ms;      /* what 'now' reads, Unix milliseconds */
    uint64_t seed;         /* random(), randomblob(), SQLite's own random numbers */
    const char *tz;        /* for 'localtime' and 'utc' */
    const char *ledger;
    const char *file;      /* the file's settings, given before the runtime opens it */
    int other;             /* another SQLite version, unordered rows reversed, changes() not 0 */
};

/* The replay the output comes from: fixed, so every compile gives the same bytes. */
static const struct conditions FIRST = {
    "sqlmig-replay", "/replay/history.db", INT64_C(1305208049617) /* 2011-05-12 13:47:29.617 */,
    UINT64_C(0x5EED0A11CE5EED01), "UTC0", LEDGER,
    "PRAGMA page_size=4096;PRAGMA auto_vacuum=NONE", 0
};
/* Another place and time, which must give the same database. */
static const struct conditions OTHER = {
    "sqlmig-replay-other", "/other/place/history-b.db", INT64_C(2040099718382) /* 2034-08-25 06:21:58.382 */,
    UINT64_C(0x0B0B5EED0B0B5EED), "<+0530>-5:30", LEDGER_OTHER,
    "PRAGMA page_size=1024;PRAGMA auto_vacuum=FULL;PRAGMA journal_mode=WAL;PRAGMA user_version=5921370;"
    "PRAGMA application_id=1263420;CREATE TABLE sqlmig_shift(x);DROP TABLE sqlmig_shift", 1
};
/* The snapshot, run by the runtime as a fresh database would be created. */
static const struct conditions PROOF = {
    "sqlmig-replay-proof", "/replay/snapshot.db", INT64_C(1305208049617), UINT64_C(0x5EED0A11CE5EED01), "UTC0",
    LEDGER, "PRAGMA page_size=4096;PRAGMA auto_vacuum=NONE", 0
};

/* Up then down then up again, for the reversibility proof. */
static const struct conditions REVERSE = {
    "sqlmig-replay-reverse", "/replay/reverse.db", INT64_C(1305208049617), UINT64_C(0x5EED0A11CE5EED01), "UTC0",
    LEDGER, "PRAGMA page_size=4096;PRAGMA auto_vacuum=NONE", 0
};

/* One row a migration wrote, as it is after the migration. */
struct sig {
    const char *table;   /* interned: the same pointer for the same name */
    int64_t rowid;       /* INT64_MIN: the whole of a table without rowids */
    uint64_t hash;       /* 0: no such row any more */
};

struct touched {
    const char *table;
    int64_t rowid;
};

/* A table name, once per replay: its text is compared by address. */
struct name {
    unsigned gen; /* see struct replay */
    char text[];
};

struct replay {
    const struct conditions *cond;
    struct tool_folder *f;
    const struct sqlmig_set *set;
    struct memvfs vfs;
    sqlite3 *db;                  /* the tool's connection */
    struct clock clock;           /* read on the runtime's connection */
    uint64_t prng;                /* random() and randomblob() */
    /* What each migration wrote. */
    struct touched *touched;
    size_t ntouched, captouched;
    sqlite3_int64 changes_at;     /* total_changes() when the migration began */
    size_t hooked;                /* changes the update hook reported since */
    struct sig *sigs;
    size_t nsig, capsig;
    size_t *start;                /* start[i]: the first signature of migration i */
    size_t recorded;              /* migrations recorded */
    /* Interned table names: an open-addressing set. */
    struct name **names;
    size_t nnames, capnames;
    unsigned gen;                 /* of the last look at the schema: names then present have gen + 1 */
    sqlite3_int64 schema_version;
    /* The second replay compares itself with the first. */
    const struct replay *against;
    size_t differs;               /* 1 + the first migration that differs; 0: none */
    char why[480];
    struct dangling *dangling;    /* the first replay warns of dangling references */
    struct history *history;      /* and records the schema after each migration */
    int trouble;                  /* a hook ran out of memory or met an error: stop */
    int from_snapshot;            /* the runtime said it created the database from the snapshot */
    int said_extension;           /* a failed --load-extension was reported */
};

/* ---- interned names --------------------------------------------------- */

/* FNV-1a over bytes; eight at a time for long values (a blob may be 600 MB). */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t w;
    size_t i = 0;

    for (; n - i >= 8; i += 8) {
        memcpy(&w, s + i, 8);
        h = (h ^ w) * UINT64_C(0x100000001B3);
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ s[i]) * UINT64_C(0x100000001B3);
    return h;
}

#define FNV_START UINT64_C(0xCBF29CE484222325)

static struct name *intern_name(struct replay *r, const char *name)
{
    size_t i, n = strlen(name), k;
    struct name **grown;

    if (r->nnames * 2 >= r->capnames) { /* rehash into twice the room */
        size_t cap = r->capnames ? r->capnames * 2 : 64;
        if (!(grown = calloc(cap, sizeof *grown)))
            return NULL;
        for (i = 0; i < r->capnames; i++)
            if (r->names[i]) {
                k = fnv(FNV_START, r->names[i]->text, strlen(r->names[i]->text)) % cap;
                for (; grown[k]; k = (k + 1) % cap) {}
                grown[k] = r->names[i];
            }
        free(r->names);
        r->names = grown;
        r->capnames = cap;
    }
    for (k = fnv(FNV_START, name, n) % r->capnames; r->names[k]; k = (k + 1) % r->capnames)
        if (strcmp(r->names[k]->text, name) == 0)
            return r->names[k];
    if (!(r->names[k] = calloc(1, sizeof **grown + n + 1)))
        return NULL;
    memcpy(r->names[k]->text, name, n + 1);
    r->nnames++;
    return r->names[k];
}

static const char *intern(struct replay *r, const char *name)
{
    struct name *e = intern_name(r, name);
    return e ? e->text : NULL;
}

/* ---- the conditions on the runtime's connection ------------------------- */

static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void fn_random(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    struct replay *r = sqlite3_user_data(cx);

    (void)argc;
    (void)argv;
    sqlite3_result_int64(cx, (sqlite3_int64)next_random(&r->prng));
}

static void fn_randomblob(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    struct replay *r = sqlite3_user_data(cx);
    sqlite3_int64 n = sqlite3_value_int64(argv[0]), i;
    unsigned char *b;
    uint64_t x = 0;

    (void)argc;
    if (n < 1)
        n = 1;
    if (n > sqlite3_limit(sqlite3_context_db_handle(cx), SQLITE_LIMIT_LENGTH, -1)) {
        sqlite3_result_error_toobig(cx);
        return;
    }
    if (!(b = sqlite3_malloc64((sqlite3_uint64)n))) {
        sqlite3_result_error_nomem(cx);
        return;
    }
    for (i = 0; i < n; i++) {
        if (i % 8 == 0)
            x = next_random(&r->prng);
        b[i] = (unsigned char)(x >> (8 * (i % 8)));
    }
    sqlite3_result_blob64(cx, b, (sqlite3_uint64)n, sqlite3_free);
}

/* Another SQLite, for the second replay: what asks which one runs gets another answer. */
static void fn_other_text(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_text(cx, (const char *)sqlite3_user_data(cx), -1, SQLITE_STATIC);
}

static void fn_other_none(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_int(cx, 0);
}

static void on_update(void *ctx, int op, const char *db, const char *table, sqlite3_int64 rowid)
{
    struct replay *r = ctx;
    struct touched *grown;
    const char *t;

    (void)op;
    r->hooked++;
    if (strcmp(db, "main") != 0 || r->trouble)
        return;
    if (r->ntouched == r->captouched) {
        size_t cap = r->captouched ? r->captouched * 2 : 256;
        if (!(grown = realloc(r->touched, cap * sizeof *grown))) {
            r->trouble = 1;
            return;
        }
        r->touched = grown;
        r->captouched = cap;
    }
    if (!(t = intern(r, table))) {
        r->trouble = 1;
        return;
    }
    r->touched[r->ntouched].table = t;
    r->touched[r->ntouched++].rowid = rowid;
}

/*
** Before the next migration of the second replay: its rows come out of
** unordered SELECTs in reverse, and changes() and total_changes() say what
** a connection that did more before would say.
*/
static int shift_connection(sqlite3 *conn)
{
    return sqlite3_exec(conn, "PRAGMA reverse_unordered_selects=ON;"
                              "CREATE TEMP TABLE IF NOT EXISTS sqlmig_shift(x);"
                              "INSERT INTO temp.sqlmig_shift VALUES (1), (2), (3)", NULL, NULL, NULL);
}

/*
** The application's SQL functions: each --load-extension FILE[:ENTRY], with
** loading enabled for the C API only (a migration's load_extension() stays
** refused) and only while these load.
*/
static int load_extensions(struct replay *r, sqlite3 *conn)
{
    size_t i;
    struct stat st;
    int rc = sqlite3_db_config(conn, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, NULL);

    for (i = 0; rc == SQLITE_OK && i < r->f->extension_count; i++) {
        const char *file = r->f->extensions[i];
        char *err = NULL;

        /* SQLite's own message would be about FILE.so, its second try. */
        if (stat(file, &st) != 0) {
            if (!r->said_extension)
                diag_error(file, 0, 0, "cannot load the extension: %s", strerror(errno));
            r->said_extension = 1;
            rc = SQLITE_ERROR;
            break;
        }
        rc = sqlite3_load_extension(conn, file, r->f->extension_entries[i], &err);
        if (rc != SQLITE_OK && !r->said_extension) {
            diag_error(file, 0, 0, "cannot load the extension: %s", err ? err : sqlite3_errstr(rc));
            r->said_extension = 1;
        }
        sqlite3_free(err);
    }
    if (sqlite3_db_config(conn, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL) != SQLITE_OK)
        rc = SQLITE_ERROR;
    return rc;
}

static int on_connect(void *ctx, sqlite3 *conn)
{
    struct replay *r = ctx;
    int rc = r->f->extension_count ? load_extensions(r, conn) : SQLITE_OK;

    if (rc != SQLITE_OK) {
        r->trouble = 1;
        return 1;
    }

    if (sqlite3_create_function(conn, "random", 0, SQLITE_UTF8, r, fn_random, NULL, NULL) != SQLITE_OK
        || sqlite3_create_function(conn, "randomblob", 1, SQLITE_UTF8, r, fn_randomblob, NULL, NULL) != SQLITE_OK)
        rc = SQLITE_ERROR;
    if (rc == SQLITE_OK && r->cond->other
        && (sqlite3_create_function(conn, "sqlite_version", 0, SQLITE_UTF8 | SQLITE_DETERMINISTIC, "3.99.1",
                                    fn_other_text, NULL, NULL) != SQLITE_OK
            || sqlite3_create_function(conn, "sqlite_source_id", 0, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                       "another SQLite", fn_other_text, NULL, NULL) != SQLITE_OK
            || sqlite3_create_function(conn, "sqlite_compileoption_used", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                       NULL, fn_other_none, NULL, NULL) != SQLITE_OK
            || shift_connection(conn) != SQLITE_OK))
        rc = SQLITE_ERROR;
    /* Each call of the runtime opens a connection: the clock read last is kept. */
    clock_free(&r->clock);
    if (rc == SQLITE_OK && (rc = clock_read(conn, &r->clock)) == SQLITE_OK) {
        sqlite3_update_hook(conn, on_update, r);
        r->changes_at = sqlite3_total_changes64(conn);
        r->hooked = 0;
    }
    if (rc != SQLITE_OK)
        r->trouble = 1;
    return rc != SQLITE_OK;
}

/* ---- what each migration wrote ------------------------------------------ */

static int by_table_and_rowid(const void *pa, const void *pb)
{
    const struct touched *a = pa, *b = pb;
    int d = a->table == b->table ? 0 : strcmp(a->table, b->table);
    return d ? d : a->rowid < b->rowid ? -1 : a->rowid > b->rowid;
}

static int add_sig(struct replay *r, const char *table, int64_t rowid, uint64_t hash)
{
    struct sig *grown;

    if (r->nsig == r->capsig) {
        size_t cap = r->capsig ? r->capsig * 2 : 1024;
        if (!(grown = realloc(r->sigs, cap * sizeof *grown)))
            return -1;
        r->sigs = grown;
        r->capsig = cap;
    }
    r->sigs[r->nsig].table = table;
    r->sigs[r->nsig].rowid = rowid;
    r->sigs[r->nsig++].hash = hash;
    return 0;
}

/* Mix the current row of st into h; a value that is the clock counts as its form. */
static uint64_t hash_row(const struct replay *r, sqlite3_stmt *st, uint64_t h)
{
    int i, n = sqlite3_column_count(st), t, k;
    sqlite3_int64 x;
    double d;

    for (i = 0; i < n; i++) {
        sqlite3_value *v = sqlite3_column_value(st, i);
        unsigned char tag;
        for (k = 0; k < CLOCK_FORMS; k++)
            if (r->clock.value[k] && sqlite3_value_type(v) == sqlite3_value_type(r->clock.value[k])) {
                sqlite3_value *c = r->clock.value[k];
                t = sqlite3_value_type(v);
                if ((t == SQLITE_INTEGER && sqlite3_value_int64(v) == sqlite3_value_int64(c))
                    || (t == SQLITE_FLOAT && sqlite3_value_double(v) == sqlite3_value_double(c))
                    || (t == SQLITE_TEXT && sqlite3_value_bytes(v) == sqlite3_value_bytes(c)
                        && memcmp(sqlite3_value_text(v), sqlite3_value_text(c), (size_t)sqlite3_value_bytes(c)) == 0))
                    break;
            }
        t = sqlite3_value_type(v);
        tag = (unsigned char)(k < CLOCK_FORMS ? 0x40 + k : t);
        h = fnv(h, &tag, 1);
        if (k < CLOCK_FORMS)
            continue;
        if (t == SQLITE_INTEGER) {
            x = sqlite3_value_int64(v);
            h = fnv(h, &x, sizeof x);
        } else if (t == SQLITE_FLOAT) {
            d = sqlite3_value_double(v);
            h = fnv(h, &d, sizeof d);
        } else if (t != SQLITE_NULL) {
            x = sqlite3_value_bytes(v);
            h = fnv(fnv(h, &x, sizeof x), t == SQLITE_TEXT ? (const void *)sqlite3_value_text(v)
                                                          : sqlite3_value_blob(v), (size_t)x);
        }
    }
    return h;
}

/* The rows of table t, rowids included when it has them, as one hash,
** whatever order they come in. */
static int hash_table(struct replay *r, sqlite3 *conn, const char *t)
{
    char *sql, rowid[8];
    sqlite3_stmt *st = NULL;
    uint64_t h = FNV_START, x;
    int rc = snapshot_rowid_name(conn, t, rowid);

    if (rc < 0)
        return -1;
    sql = sqlite3_mprintf("SELECT %s%s* FROM main.\"%w\"", rc ? "" : rowid, rc || !rowid[0] ? "" : ", ", t);
    rc = sql ? sqlite3_prepare_v2(conn, sql, -1, &st, NULL) : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            x = hash_row(r, st, FNV_START); /* mixed, then summed: the order does not count */
            x = (x ^ (x >> 29)) * UINT64_C(0xBF58476D1CE4E5B9);
            h += x ^ (x >> 32);
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE && add_sig(r, intern(r, t), INT64_MIN, h) == 0 ? 0 : -1;
}

/* Record the tables that were not there at the last look at the schema. */
static int new_tables(struct replay *r, sqlite3 *conn)
{
    sqlite3_stmt *st = NULL;
    sqlite3_int64 version = 0;
    struct name *e;
    int rc = sqlite3_prepare_v2(conn, "PRAGMA main.schema_version", -1, &st, NULL);

    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_OK)
        return -1;
    if (version == r->schema_version)
        return 0;
    r->schema_version = version;
    if (sqlite3_prepare_v2(conn, "SELECT name FROM main.sqlite_schema WHERE type = 'table' "
                           "AND name NOT GLOB 'sqlite_*' ORDER BY name", -1, &st, NULL) != SQLITE_OK)
        return -1;
    rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        if (!(e = intern_name(r, (const char *)sqlite3_column_text(st, 0))))
            rc = -1;
        else if (e->gen != r->gen && !snapshot_is_ledger(r->cond->ledger, e->text))
            rc = hash_table(r, conn, e->text);
        if (rc == 0)
            e->gen = r->gen + 1;
    }
    sqlite3_finalize(st);
    r->gen++;
    return rc;
}

/*
** Record migration i: each row the update hook saw it write, as the row is
** now; and when total_changes() moved more than the hook saw (tables
** without rowids, which the hook does not report), every such table whole.
*/
static int record(struct replay *r, sqlite3 *conn, size_t i)
{
    sqlite3_stmt *st = NULL, *tables;
    const char *table = NULL;
    char *sql, rowid[8];
    size_t k;
    int rc = 0;

    r->start[i] = r->nsig;
    if (r->ntouched > 1)
        qsort(r->touched, r->ntouched, sizeof *r->touched, by_table_and_rowid);
    for (k = 0; k < r->ntouched && rc == 0; k++) {
        struct touched *t = &r->touched[k];
        if (k && t->table == t[-1].table && t->rowid == t[-1].rowid)
            continue;
        if (snapshot_is_ledger(r->cond->ledger, t->table))
            continue;
        if (t->table != table) {
            sqlite3_finalize(st);
            st = NULL;
            table = t->table;
            if ((rc = snapshot_rowid_name(conn, table, rowid)) > 0) {
                rc = hash_table(r, conn, table); /* no name left for its rowid: the table whole */
                continue;
            }
            sql = rc < 0 || !rowid[0] ? NULL : sqlite3_mprintf("SELECT * FROM main.\"%w\" WHERE %s = ?1", table, rowid);
            if (!sql || sqlite3_prepare_v2(conn, sql, -1, &st, NULL) != SQLITE_OK)
                st = NULL; /* dropped since, or rebuilt without rowids: gone */
            sqlite3_free(sql);
            rc = 0;
        }
        if (!st && k && t->table == t[-1].table && table == t->table && !rowid[0])
            continue; /* the rest of a table recorded whole */
        if (st) {
            sqlite3_reset(st);
            sqlite3_bind_int64(st, 1, t->rowid);
            rc = sqlite3_step(st);
            rc = add_sig(r, table, t->rowid, rc == SQLITE_ROW ? hash_row(r, st, FNV_START) | 1 : 0) == 0
                 && (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : -1;
        } else {
            rc = add_sig(r, table, t->rowid, 0);
        }
    }
    sqlite3_finalize(st);
    /* A table the migration made whole (CREATE TABLE ... AS SELECT: no
    ** update hook sees its rows) is recorded whole. */
    if (rc == 0 && (rc = new_tables(r, conn)) == 0
        && (size_t)(sqlite3_total_changes64(conn) - r->changes_at) > r->hooked) {
        if (sqlite3_prepare_v2(conn, "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' "
                               "AND wr ORDER BY name", -1, &tables, NULL) != SQLITE_OK)
            return -1;
        while (rc == 0 && sqlite3_step(tables) == SQLITE_ROW)
            rc = hash_table(r, conn, (const char *)sqlite3_column_text(tables, 0));
        sqlite3_finalize(tables);
    }
    r->start[i + 1] = r->nsig;
    r->recorded = i + 1;
    return rc;
}

/* Does migration i write the same here as in the first replay? Else say where not. */
static int same_as_first(struct replay *r, size_t i)
{
    const struct replay *a = r->against;
    size_t x = a->start[i], xe = a->start[i + 1];
    size_t y = r->start[i], ye = r->start[i + 1];
    const struct sig *d;

    /* Indices, not pointers: a replay that recorded nothing has no array. */
    for (; x < xe && y < ye; x++, y++)
        if (strcmp(a->sigs[x].table, r->sigs[y].table) || a->sigs[x].rowid != r->sigs[y].rowid
            || a->sigs[x].hash != r->sigs[y].hash)
            break;
    if (x == xe && y == ye)
        return 1;
    d = x < xe ? &a->sigs[x] : &r->sigs[y];
    if (d->rowid == INT64_MIN)
        snprintf(r->why, sizeof r->why, "the rows of table \"%s\"", d->table);
    else if (x < xe && y < ye && strcmp(a->sigs[x].table, r->sigs[y].table) == 0
             && a->sigs[x].rowid == r->sigs[y].rowid)
        snprintf(r->why, sizeof r->why, "row %lld of table \"%s\"", (long long)d->rowid, d->table);
    else
        snprintf(r->why, sizeof r->why, "which rows of table \"%s\" it writes (rowid %lld in one replay only)",
                 d->table, (long long)d->rowid);
    return 0;
}

/* The position of m in the replay's order: the migrations, then the repeatable ones. */
static size_t index_of(const struct replay *r, const struct sqlmig_migration *m)
{
    return m->version ? (size_t)(m - r->set->migrations) : r->set->count + (size_t)(m - r->set->repeatables);
}

/* The folder's migration at position i of that order. */
static struct tool_migration *tool_at(struct tool_folder *f, size_t i)
{
    return i < f->count ? &f->items[i] : &f->repeatables[i - f->count];
}

static int on_applied(void *ctx, sqlite3 *conn, const struct sqlmig_migration *m)
{
    struct replay *r = ctx;
    size_t i = index_of(r, m);

    if (r->trouble || record(r, conn, i) != 0) {
        r->trouble = 1;
        return 1;
    }
    if (r->against && !same_as_first(r, i)) {
        r->differs = i + 1;
        return 1; /* enough: the rest of this replay cannot change the verdict */
    }
    if (r->dangling)
        dangling_check(r->dangling, conn, tool_at(r->f, i));
    if (r->history && history_step(r->history, conn, r->cond->ledger, i < r->f->count ? i + 1 : r->f->count + 1,
                                   r->f) != 0) {
        r->trouble = 1;
        return 1;
    }
    if (r->cond->other && shift_connection(conn) != SQLITE_OK) {
        r->trouble = 1;
        return 1;
    }
    r->ntouched = 0;
    r->hooked = 0;
    r->changes_at = sqlite3_total_changes64(conn);
    return 0;
}

static void on_log(void *ctx, int level, const char *message)
{
    struct replay *r = ctx;

    if (level == SQLMIG_LOG_INFO && strncmp(message, "created version ", 16) == 0 && strstr(message, "from the snapshot"))
        r->from_snapshot = 1;
}

/* ---- one replay ------------------------------------------------------------ */

static void replay_close(struct replay *r)
{
    size_t i;

    sqlite3_close(r->db);
    r->db = NULL;
    memvfs_close(&r->vfs);
    clock_free(&r->clock);
    free(r->touched);
    free(r->sigs);
    free(r->start);
    for (i = 0; i < r->capnames; i++)
        free(r->names[i]);
    free(r->names);
    r->names = NULL;
    dangling_free(r->dangling);
    history_free(r->history);
    r->history = NULL;
}

/*
** Create the database under r's conditions, and the options of the
** runtime's calls on it (*o). 0, or -1 after printing why not.
*/
static int replay_open(struct replay *r, const struct sqlmig_set *set, sqlmig_options *o)
{
    const struct conditions *c = r->cond;

    r->set = set;
    r->gen = 1;
    if (!(r->start = calloc(set->count + set->repeatable_count + 1, sizeof *r->start))) {
        diag_fatal("out of memory");
        return -1;
    }
    /* Time zone and SQLite's own random numbers are the process's. */
    if (setenv("TZ", c->tz, 1) != 0) {
        diag_fatal("cannot set TZ for the replay");
        return -1;
    }
    tzset();
    sqlite3_test_control(SQLITE_TESTCTRL_PRNG_SEED, (int)(c->seed & 0x7fffffff), NULL);
    r->prng = c->seed;
    if (memvfs_open(&r->vfs, c->vfs, c->clock_ms, c->seed) != SQLITE_OK
        || (r->vfs.libraries = r->f->extensions, r->vfs.library_count = r->f->extension_count, 0)
        || sqlite3_open_v2(c->path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, c->vfs) != SQLITE_OK
        || sqlite3_exec(r->db, c->file, NULL, NULL, NULL) != SQLITE_OK) {
        diag_fatal("cannot open the replay's in-memory database: %s", r->db ? sqlite3_errmsg(r->db) : "out of memory");
        return -1;
    }
    memset(o, 0, sizeof *o);
    o->table = c->ledger;
    o->connect = on_connect;
    o->applied = on_applied;
    o->hook_ctx = r;
    o->log = on_log;
    o->log_ctx = r;
    return 0;
}

/*
** Create the database under r's conditions and migrate it with `set`: every
** migration (flags SQLMIG_REPLAY), or, for the proof, from the snapshot.
** The runtime's result is in *res; -1 when the replay itself could not run.
*/
static int replay_run(struct replay *r, const struct sqlmig_set *set, unsigned flags, sqlmig_result *res)
{
    sqlmig_options o;
    int rc;

    if (replay_open(r, set, &o) != 0)
        return -1;
    o.flags = flags;
    rc = sqlmig_migrate(r->db, set, &o, res);
    if (r->said_extension) /* already said, naming the file */
        return -1;
    if (r->trouble && !r->differs) {
        diag_fatal("the replay failed: %s", rc ? res->message : "out of memory");
        return -1;
    }
    return rc;
}

/* The migration of version v, or NULL (0 is none); for a repeatable one
** (version 0), the one of that file. */
static const struct tool_migration *by_version(const struct tool_folder *f, int64_t v, const char *file)
{
    size_t i;

    for (i = 0; v && i < f->count; i++)
        if (f->items[i].version == v)
            return &f->items[i];
    for (i = 0; !v && file && i < f->repeatable_count; i++)
        if (strcmp(f->repeatables[i].file, file) == 0)
            return &f->repeatables[i];
    return NULL;
}

/* Print the failure of the first replay where the compilers put errors. */
static void print_failure(const struct tool_folder *f, const sqlmig_result *res)
{
    const struct tool_migration *m = res->file ? by_version(f, res->version, res->file) : NULL;

    if (!m) {
        diag_fatal("%s", res->message);
        return;
    }
    /* A function the application registers at run time is missing here. */
    diag_error(m->path, (unsigned)res->line, (unsigned)res->column, "%.*s%s", (int)res->cause_len,
               res->message + res->cause_at,
               strncmp(res->message + res->cause_at, "no such function: ", 18) == 0
               ? " (if the program registers it, give the replay the same function: "
                 "sqlmig compile --load-extension FILE[:ENTRY])" : "");
}

/* ---- what the replay reached ------------------------------------------------ */

/*
** A copy of column i, or NULL when out of memory: the query leaves out
** NULLs, so a NULL from SQLite means that it ran out of memory.
*/
static char *copy_column(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

/* Read the final schema: objects sorted for the runtime, text for schema.sql. */
static int collect_schema(sqlite3 *db, struct tool_folder *f)
{
    static const char objects_sql[] =
        "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT GLOB 'sqlite_*' "
        "AND name NOT IN ('" LEDGER "', '" LEDGER "_repeatable') "
        "AND tbl_name NOT IN ('" LEDGER "', '" LEDGER "_repeatable') ORDER BY type, name";
    /* Tables first, each group in creation order, so schema.sql can be run. */
    static const char text_sql[] =
        "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT GLOB 'sqlite_*' "
        "AND name NOT IN ('" LEDGER "', '" LEDGER "_repeatable') "
        "AND tbl_name NOT IN ('" LEDGER "', '" LEDGER "_repeatable') ORDER BY type <> 'table', rowid";
    sqlite3_stmt *st;
    size_t cap = 0, len = 0;
    int rc;

    if (sqlite3_prepare_v2(db, objects_sql, -1, &st, NULL) != SQLITE_OK)
        goto sqlite_fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct tool_object *o;
        char *type, *name, *sql;
        if (f->object_count == cap) {
            struct tool_object *grown;
            cap = cap ? cap * 2 : 32;
            grown = realloc(f->objects, cap * sizeof *grown);
            if (!grown)
                goto oom;
            f->objects = grown;
        }
        type = copy_column(st, 0);
        name = copy_column(st, 1);
        sql = copy_column(st, 2);
        if (!type || !name || !sql) {
            free(type);
            free(name);
            free(sql);
            goto oom;
        }
        o = &f->objects[f->object_count++];
        o->type = type;
        o->name = name;
        o->sql = sql;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto sqlite_fail;

    if (sqlite3_prepare_v2(db, text_sql, -1, &st, NULL) != SQLITE_OK)
        goto sqlite_fail;
    cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *sql = (const char *)sqlite3_column_text(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (!sql)
            goto oom;
        if (len + n + 4 > cap) {
            char *grown;
            cap = (len + n + 4) * 2;
            grown = realloc(f->schema_sql, cap);
            if (!grown)
                goto oom;
            f->schema_sql = grown;
        }
        memcpy(f->schema_sql + len, sql, n);
        memcpy(f->schema_sql + len + n, ";\n\n", 3);
        len += n + 3;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto sqlite_fail;
    f->schema_len = len;
    return 0;

oom:
    sqlite3_finalize(st);
    diag_fatal("out of memory");
    return 1;
sqlite_fail:
    /* Only the migrations can have spoilt the schema (writable_schema): name the last. */
    diag_error(f->count ? f->items[f->count - 1].path : f->dir, 0, 0,
               "the schema after this migration cannot be read: %s", sqlite3_errmsg(db));
    return 1;
}

/* The file settings and header values a replay's database ended with. */
struct settings {
    int64_t page_size, auto_vacuum, user_version, application_id;
    char journal[16];
};

static int read_settings(sqlite3 *db, struct settings *s)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT page_size, auto_vacuum, user_version, application_id, journal_mode "
                                "FROM pragma_page_size, pragma_auto_vacuum, pragma_user_version, "
                                "pragma_application_id, pragma_journal_mode", -1, &st, NULL);

    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        s->page_size = sqlite3_column_int64(st, 0);
        s->auto_vacuum = sqlite3_column_int64(st, 1);
        s->user_version = sqlite3_column_int64(st, 2);
        s->application_id = sqlite3_column_int64(st, 3);
        snprintf(s->journal, sizeof s->journal, "%s", sqlite3_column_text(st, 4));
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        diag_fatal("the replayed database's settings: %s", sqlite3_errmsg(db));
    return rc == SQLITE_OK ? 0 : -1;
}

/*
** A setting is the history's when both replays end with the same value
** although they began with different ones; the file's own when each ends as
** it began; otherwise it depends on the file (1).
*/
static int whose(int64_t a0, int64_t a, int64_t b0, int64_t b, int *set)
{
    *set = a == b && (a != a0 || b != b0);
    return !*set && !(a == a0 && b == b0);
}

/*
** From the settings both replays began and ended with: those the history
** gives the file, for the set and the snapshot's header; or, in why[], the
** one that depends on the file the history runs on.
*/
static int history_settings(struct tool_folder *f, const struct settings *a, const struct settings *b,
                            unsigned *header, char *why, size_t whylen)
{
    static const struct settings a0 = { 4096, 0, 0, 0, "delete" }, b0 = { 1024, 1, 5921370, 1263420, "wal" };
    int ps, av, uv, ai, wal = strcmp(a->journal, "wal") == 0 && strcmp(b->journal, "wal") == 0;
    const char *what = NULL;

    /* A page size set the same way on every file would be the history's; the
    ** runtime's snapshot does not give one (a WAL file never takes one). */
    if (whose(a0.page_size, a->page_size, b0.page_size, b->page_size, &ps) || ps)
        what = "page_size";
    else if (whose(a0.auto_vacuum, a->auto_vacuum, b0.auto_vacuum, b->auto_vacuum, &av))
        what = "auto_vacuum";
    else if (whose(a0.user_version, a->user_version, b0.user_version, b->user_version, &uv))
        what = "user_version";
    else if (whose(a0.application_id, a->application_id, b0.application_id, b->application_id, &ai))
        what = "application_id";
    /* The journal: left as each began, or switched to WAL in both. The
    ** snapshot can switch a file to WAL, not out of it. */
    else if (!wal && !(strcmp(a->journal, a0.journal) == 0 && strcmp(b->journal, b0.journal) == 0))
        what = "journal_mode";
    if (what) {
        snprintf(why, whylen, "PRAGMA %s, which it leaves as it is only on some files or sets to a value a "
                 "snapshot does not give", what);
        return 1;
    }
    f->snapshot_auto_vacuum = av ? (unsigned)a->auto_vacuum + 1 : 0;
    f->snapshot_wal = (unsigned)wal;
    *header = (uv ? 1u : 0u) | (ai ? 2u : 0u);
    return 0;
}

/* ---- the notes ---------------------------------------------------------------- */

/* Keep why there is no snapshot (naming migration m, if any), and say it. */
static int keep_note(struct tool_folder *f, const struct tool_migration *m, const char *why)
{
    size_t n = strlen(why) + (m ? strlen(m->file) + 2 : 0) + 1;

    if (!(f->snapshot_note = malloc(n))) {
        diag_fatal("out of memory");
        return 1;
    }
    snprintf(f->snapshot_note, n, "%s%s%s", m ? m->file : "", m ? ": " : "", why);
    diag_note(m ? m->path : f->dir, 0, 0, "%s; a fresh database will run every migration instead of the snapshot",
              why);
    return 0;
}

/*
** The second replay: under other conditions, must the history give the
** same database? 0: it does; 1: not, with a note kept; -1: a failure.
*/
static int replay_other(struct tool_folder *f, struct replay *a, const struct sqlmig_set *set,
                        struct settings *sa, unsigned *header)
{
    static const char conditions[] = "another clock, time zone, random seed, order of unordered rows, page size, "
                                     "journal mode and SQLite version";
    struct replay b;
    struct settings sb;
    struct snap_db da, db;
    sqlmig_result res;
    char why[640], diff[400];
    int rc;

    memset(&b, 0, sizeof b);
    b.cond = &OTHER;
    b.f = f;
    b.against = a;
    rc = replay_run(&b, set, SQLMIG_REPLAY, &res);
    if (rc < 0) {
        replay_close(&b);
        return -1;
    }
    if (b.differs) {
        snprintf(why, sizeof why, "its result depends on when or where it runs: replayed under other conditions "
                 "(%s), it leaves other values in %.300s", conditions, b.why);
        rc = keep_note(f, tool_at(f, b.differs - 1), why);
        replay_close(&b);
        return rc ? -1 : 1;
    }
    if (rc != SQLMIG_OK) {
        snprintf(why, sizeof why, "its result depends on when or where it runs: replayed under other conditions "
                 "(%s), it fails: %.*s", conditions, (int)res.cause_len, res.message + res.cause_at);
        rc = keep_note(f, by_version(f, res.version, res.file), why);
        replay_close(&b);
        return rc ? -1 : 1;
    }
    da.db = a->db;
    da.ledger = LEDGER;
    da.clock = &a->clock;
    db.db = b.db;
    db.ledger = LEDGER_OTHER;
    db.clock = &b.clock;
    rc = snapshot_compare(&da, &db, SAME_CLOCK, diff, sizeof diff);
    if (rc == 0 && (rc = read_settings(a->db, sa)) == 0 && (rc = read_settings(b.db, &sb)) == 0)
        rc = history_settings(f, sa, &sb, header, diff, sizeof diff);
    if (rc == 1) {
        snprintf(why, sizeof why, "its result depends on when or where it runs: replayed under other conditions "
                 "(%s), the history ends with other values in %s", conditions, diff);
        rc = keep_note(f, NULL, why) ? -1 : 1;
    }
    replay_close(&b);
    return rc;
}

/*
** The snapshot of the first replay's database, run by the runtime as a
** fresh database would be created: it must give that database again.
*/
static int prove(struct tool_folder *f, struct replay *a, const struct sqlmig_set *set, const struct settings *sa,
                 const struct buf *snap)
{
    struct replay c;
    struct sqlmig_set with = *set;
    struct settings sc;
    struct snap_db da, dc;
    sqlmig_result res;
    char diff[400], why[600], ok[8] = "";
    int rc;

    with.snapshot_sql = snap->data;
    with.snapshot_len = snap->len;
    with.snapshot_auto_vacuum = f->snapshot_auto_vacuum;
    with.snapshot_wal = f->snapshot_wal;
    memset(&c, 0, sizeof c);
    c.cond = &PROOF;
    c.f = f;
    rc = replay_run(&c, &with, 0, &res);
    if (rc < 0) {
        replay_close(&c);
        return -1;
    }
    diff[0] = '\0';
    if (rc != SQLMIG_OK)
        snprintf(diff, sizeof diff, "the runtime fails to run it: %.300s", res.message);
    else if (!c.from_snapshot)
        snprintf(diff, sizeof diff, "the runtime would not create a fresh database from it");
    else {
        da.db = a->db;
        da.ledger = LEDGER;
        da.clock = NULL;
        dc.db = c.db;
        dc.ledger = LEDGER;
        dc.clock = NULL;
        rc = snapshot_compare(&da, &dc, SAME_HEADER, diff, sizeof diff);
        if (rc < 0 || (rc == 0 && read_settings(c.db, &sc) != 0)) {
            replay_close(&c);
            return -1;
        }
        if (rc == 0 && (sc.page_size != sa->page_size || sc.auto_vacuum != sa->auto_vacuum
                        || strcmp(sc.journal, sa->journal) != 0))
            snprintf(diff, sizeof diff, "the file settings (page_size %lld, auto_vacuum %lld, journal %s; the replay's "
                     "%lld, %lld, %s)", (long long)sc.page_size, (long long)sc.auto_vacuum, sc.journal,
                     (long long)sa->page_size, (long long)sa->auto_vacuum, sa->journal);
        if (!diff[0]) {
            sqlite3_stmt *st = NULL;
            if (sqlite3_prepare_v2(c.db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK
                && sqlite3_step(st) == SQLITE_ROW)
                snprintf(ok, sizeof ok, "%s", sqlite3_column_text(st, 0));
            sqlite3_finalize(st);
            if (strcmp(ok, "ok") != 0)
                snprintf(diff, sizeof diff, "PRAGMA integrity_check of the database it creates fails");
        }
    }
    replay_close(&c);
    if (!diff[0])
        return 0;
    snprintf(why, sizeof why, "the snapshot does not recreate the replayed database: %s", diff);
    return keep_note(f, NULL, why) ? -1 : 1;
}

/* ---- reversibility ------------------------------------------------------------ */

static void fn_fingerprint(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    sqlite3_result_int64(cx, (sqlite3_int64)sqlmig_fingerprint((const char *)sqlite3_value_text(argv[0]),
                                                               (const char *)sqlite3_value_text(argv[1])));
}

/* What snapshot_compare() needs to read a schema as SQLite does. */
static int add_fingerprint(sqlite3 *db)
{
    return sqlite3_create_function(db, "sqlmig_fingerprint", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                   fn_fingerprint, NULL, NULL);
}

/*
** A migration that up then down does not give back: an error in sqlmig's
** own layout, whose down parts are written for sqlmig; in another tool's
** folder, read unchanged, a warning, and the migration is marked
** SQLMIG_ONE_WAY, so that sqlmig_rollback() refuses to cross it. 1 for an
** error, else 0.
*/
static int not_reversible(struct tool_folder *f, struct sqlmig_migration *m, struct tool_migration *t,
                          const char *path, unsigned line, unsigned col, const char *why)
{
    if (f->layout == LAYOUT_PLAIN) {
        diag_error(path, line, col, "%s (a migration that cannot be undone says '-- sqlmig:irreversible')", why);
        return 1;
    }
    diag_warning(path, line, col, "%s: sqlmig_rollback() will refuse to undo it", why);
    m->flags |= SQLMIG_ONE_WAY;
    t->flags |= SQLMIG_ONE_WAY;
    return 0;
}

/* The same for a failure of the runtime, at the file it names. */
static int reverse_failure(struct tool_folder *f, struct sqlmig_migration *m, struct tool_migration *t,
                           const sqlmig_result *res, const char *what)
{
    int down = res->file && t->down_file && strcmp(res->file, t->down_file) == 0 && strcmp(t->down_file, t->file);
    char why[700];

    snprintf(why, sizeof why, "%s: %.*s", what, (int)res->cause_len, res->message + res->cause_at);
    return not_reversible(f, m, t, down ? t->down_path : t->path, (unsigned)res->line, (unsigned)res->column, why);
}

/*
** Every migration with a down part (and no '-- sqlmig:irreversible'), run
** up, then down, through the runtime, must give back the database it
** started from (the schema as SQLite reads it, and the rows of every
** table), and then up again must succeed. A replay of its own, under the
** first one's conditions. Returns the number of problems printed.
*/
static int prove_reversible(struct tool_folder *f, const struct sqlmig_set *set, struct sqlmig_migration *ms)
{
    struct replay r;
    struct snap_db da, db;
    sqlmig_options o;
    sqlmig_result res;
    sqlite3 *before = NULL;
    sqlite3_backup *copy;
    char why[400], text[600];
    size_t i;
    int problems = 0, rc;

    for (i = 0; i < set->count && (!set->migrations[i].down_sql || set->migrations[i].flags & SQLMIG_ONE_WAY); i++) {}
    if (i == set->count)
        return 0;
    memset(&r, 0, sizeof r);
    r.cond = &REVERSE;
    r.f = f;
    if (replay_open(&r, set, &o) != 0 || sqlite3_open(":memory:", &before) != SQLITE_OK
        || add_fingerprint(r.db) != SQLITE_OK || add_fingerprint(before) != SQLITE_OK) {
        diag_fatal("cannot open the databases of the reversibility proof");
        problems = 1;
        goto done;
    }
    o.applied = NULL;
    o.flags = SQLMIG_REPLAY;
    da.db = before;
    db.db = r.db;
    da.ledger = db.ledger = LEDGER;
    da.clock = db.clock = NULL;
    for (; i < set->count && problems == 0; i++) {
        struct sqlmig_migration *m = &ms[i];
        struct tool_migration *t = &f->items[i];
        int64_t prev = i ? m[-1].version : 0;

        if (!m->down_sql || m->flags & SQLMIG_ONE_WAY)
            continue;
        /* The version before it, and a copy of that database. */
        o.target = prev;
        if (prev && (rc = sqlmig_migrate(r.db, set, &o, &res)) != SQLMIG_OK) {
            print_failure(f, &res);
            problems++;
            break;
        }
        copy = sqlite3_backup_init(before, "main", r.db, "main");
        rc = copy ? sqlite3_backup_step(copy, -1) : SQLITE_NOMEM;
        if (sqlite3_backup_finish(copy) != SQLITE_OK || rc != SQLITE_DONE) {
            diag_fatal("cannot copy the replay's database: %s", sqlite3_errmsg(before));
            problems++;
            break;
        }
        o.target = m->version;
        if ((rc = sqlmig_migrate(r.db, set, &o, &res)) != SQLMIG_OK) {
            print_failure(f, &res);
            problems++;
        } else if ((rc = sqlmig_rollback(r.db, set, &o, prev, &res)) != SQLMIG_OK) {
            problems += reverse_failure(f, m, t, &res, "its down part fails after its up part");
        } else if ((rc = snapshot_compare(&da, &db, SAME_AS_READ, why, sizeof why)) != 0) {
            snprintf(text, sizeof text, "up then down does not give back the database of version %lld: %s",
                     (long long)prev, why);
            problems += rc < 0 || not_reversible(f, m, t, t->down_file ? t->down_path : t->path, 0, 0, text);
        } else if ((rc = sqlmig_migrate(r.db, set, &o, &res)) != SQLMIG_OK) {
            problems += reverse_failure(f, m, t, &res, "up again, after its down part, fails");
        } else {
            f->reversible++;
        }
    }
done:
    sqlite3_close(before);
    replay_close(&r);
    return problems;
}

int replay_folder(struct tool_folder *f, int snapshot, size_t snapshot_max)
{
    struct sqlmig_migration *ms = NULL;
    struct sqlmig_set set;
    struct replay a;
    struct settings sa;
    struct snap_db da;
    struct buf b;
    sqlmig_result res;
    const char *tz = getenv("TZ");
    char *saved_tz = tz ? strdup(tz) : NULL, why[400];
    unsigned header = 0;
    size_t i, sql = 0;
    int problems = 0, rc;

    memset(&set, 0, sizeof set);
    memset(&a, 0, sizeof a);
    buf_init(&b);
    /* One entry at least, so that an empty folder needs no case of its own. */
    if (!(ms = calloc(f->count + f->repeatable_count + 1, sizeof *ms))) {
        diag_fatal("out of memory");
        return 1;
    }
    for (i = 0; i < f->count + f->repeatable_count; i++) {
        struct tool_migration *m = tool_at(f, i);
        ms[i].version = m->version;
        ms[i].name = m->name;
        ms[i].file = m->file;
        ms[i].up_sql = m->up;
        ms[i].up_len = m->up_len;
        ms[i].up_line = m->up_line;
        ms[i].checksum = m->checksum;
        ms[i].flags = m->flags;
        ms[i].down_sql = m->down;
        ms[i].down_len = m->down_len;
        ms[i].down_file = m->down_file;
        ms[i].down_line = m->down_line;
        sql += m->up_len;
    }
    set.migrations = f->count ? ms : NULL;
    set.count = f->count;
    set.repeatables = f->repeatable_count ? ms + f->count : NULL;
    set.repeatable_count = f->repeatable_count;
    /* The runtime creates a database from a snapshot only at a version. */
    snapshot = snapshot && f->count;
    if (problems || (f->count == 0 && f->repeatable_count == 0))
        goto done;

    a.cond = &FIRST;
    a.f = f;
    if (!(a.dangling = dangling_new(f)) || !(a.history = history_new())) {
        diag_fatal("out of memory");
        problems++;
        goto done;
    }
    rc = replay_run(&a, &set, SQLMIG_REPLAY, &res);
    if (rc != SQLMIG_OK) {
        if (rc > 0)
            print_failure(f, &res);
        problems++;
        goto done;
    }
    if ((problems = collect_schema(a.db, f)) != 0 || (problems = prove_reversible(f, &set, ms)) != 0 || !snapshot)
        goto done;

    /* The snapshot: only what two replays agree on, proven by the runtime. */
    rc = replay_other(f, &a, &set, &sa, &header);
    if (rc == 0) {
        da.db = a.db;
        da.ledger = LEDGER;
        da.clock = &a.clock;
        if (snapshot_max == 0)
            snapshot_max = sql * 4 + ((size_t)1 << 20);
        rc = snapshot_dump(&da, header, snapshot_max, &b, why, sizeof why);
        if (rc == 1 && strstr(why, "more than"))
            snprintf(why + strlen(why), sizeof why - strlen(why), " (--snapshot-max BYTES sets the limit)");
        if (rc == 1)
            rc = keep_note(f, NULL, why) ? -1 : 1;
    }
    if (rc == 0)
        rc = prove(f, &a, &set, &sa, &b);
    if (rc == 0) {
        f->snapshot = b.data;
        f->snapshot_len = b.len;
        buf_init(&b);
    }
    if (rc != 0) {
        f->snapshot_auto_vacuum = f->snapshot_wal = 0;
        problems += rc < 0;
    }
done:
    replay_close(&a);
    buf_free(&b);
    free(ms);
    if (saved_tz)
        setenv("TZ", saved_tz, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved_tz);
    return problems;
}
