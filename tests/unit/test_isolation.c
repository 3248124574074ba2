/*
** test_isolation.c — a migration's effect is a function of the database and
** its text only, and it leaves nothing on the caller's connection.
**
** Each case sets up what a real host does (an attached database, a setting,
** a temp table, an authorizer) and checks that the migration neither sees it nor leaves
** anything behind; that one call and one call per release give the same
** database; that a foreign key violation the host's data already had does
** not block a migration (one the migration adds still does); and the smaller
** defects of the same family: a ledger name that a migration creates, control
** characters in names that reach a message, verify with newer versions; and
** the corners of the guard and of the foreign key check: temp.x, REPLACE,
** WITHOUT ROWID, a journal mode given as a prefix, a computed ATTACH file
** name, a trigger on the ledger.
** Prints TAP.
*/
#define _POSIX_C_SOURCE 200809L
#include "sqlmig.h"
#include "tap.h"
#include "setup.h"
#include "dbq.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct tap T;
#define OK(cond, ...) tap_ok(&T, (cond), __VA_ARGS__)

#define CK(d) d d d d d d d d d d d d d d d d
#define MIG(v, sql, ck) { v, "m" #v, "000" #v "_m" #v ".sql", sql, sizeof sql - 1, 1, NULL, 0, ck, 0, NULL, 0 }
#define MIG_NOTX(v, sql, ck) { v, "m" #v, "000" #v "_m" #v ".sql", sql, sizeof sql - 1, 1, NULL, 0, ck, SQLMIG_NO_TRANSACTION, NULL, 0 }
#define SET(a) { .migrations = a, .count = sizeof a / sizeof a[0] }
#define SET_N(a, n) { .migrations = a, .count = n }

static char dir[] = "/tmp/sqlmig-isolation-XXXXXX";
static int ndb;

static sqlite3 *open_path(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        tap_diag("cannot open %s: %s", path, sqlite3_errmsg(db));
        exit(2);
    }
    return db;
}

static sqlite3 *fresh(char *path, size_t size)
{
    snprintf(path, size, "%s/%d.db", dir, ++ndb);
    return open_path(path);
}

static int migrate(sqlite3 *db, const struct sqlmig_set *set, sqlmig_result *res)
{
    return sqlmig_migrate(db, set, NULL, res);
}

/* ---- the caller's connection does not reach migrations ------------------ */

static const struct sqlmig_migration drop_sessions[] = {
    MIG(1, "DROP TABLE IF EXISTS sessions;\nCREATE TABLE sessions(id INTEGER PRIMARY KEY, token TEXT);\n", CK("a001")),
};
static const struct sqlmig_set set_drop_sessions = SET(drop_sessions);

static void test_attached_database(void)
{
    char path[256], other[256];
    sqlmig_result res;
    sqlite3 *db, *side;
    int rc;

    snprintf(other, sizeof other, "%s/attached.db", dir);
    side = open_path(other);
    setup_exec(side, "CREATE TABLE sessions(id INTEGER PRIMARY KEY, token TEXT); "
                     "INSERT INTO sessions(token) VALUES('keep me');");
    setup_close(side);
    db = fresh(path, sizeof path);
    {
        char sql[400];
        snprintf(sql, sizeof sql, "ATTACH '%s' AS cache", other);
        setup_exec(db, sql);
    }
    rc = migrate(db, &set_drop_sessions, &res);
    OK(rc == SQLMIG_OK, "an attached database of the caller: migrated (%s: %s)", sqlmig_errname(rc), res.message);
    OK(qint(db, "SELECT count(*) FROM cache.sessions WHERE token = 'keep me'") == 1,
       "DROP TABLE IF EXISTS sessions did not reach the caller's attached database");
    OK(qint(db, "SELECT count(*) FROM main.sqlite_schema WHERE name = 'sessions'") == 1,
       "the migration's table is in main");
    OK(qint(db, "SELECT count(*) FROM pragma_database_list WHERE name = 'cache'") == 1,
       "the caller's database is still attached");
    setup_close(db);
}

/*
** Settings of the caller's connection: with case_sensitive_like and
** recursive_triggers on, a migration would count other rows; it must count
** what it counts on a connection with SQLite's defaults.
*/
static const struct sqlmig_migration settings_sensitive[] = {
    MIG(1, "CREATE TABLE words(w TEXT);\n"
           "INSERT INTO words VALUES ('Apple'), ('apple'), ('banana');\n"
           "CREATE TABLE counts(what TEXT, n INTEGER);\n"
           "INSERT INTO counts SELECT 'like', count(*) FROM words WHERE w LIKE 'a%';\n"
           "CREATE TABLE hops(n INTEGER);\n"
           "CREATE TRIGGER hop AFTER INSERT ON hops WHEN NEW.n < 5 BEGIN INSERT INTO hops VALUES (NEW.n + 1); END;\n"
           "INSERT INTO hops VALUES (1);\n"
           "INSERT INTO counts SELECT 'hops', count(*) FROM hops;\n", CK("a002")),
};
static const struct sqlmig_set set_settings = SET(settings_sensitive);

static void test_caller_settings(void)
{
    char path[256];
    sqlmig_result res;
    sqlite3 *db = fresh(path, sizeof path);
    int rc;

    setup_exec(db, "PRAGMA case_sensitive_like = ON; PRAGMA recursive_triggers = ON; "
                   "PRAGMA reverse_unordered_selects = ON; PRAGMA legacy_alter_table = ON");
    rc = migrate(db, &set_settings, &res);
    OK(rc == SQLMIG_OK, "settings of the caller's connection: migrated (%s: %s)", sqlmig_errname(rc), res.message);
    OK(qint(db, "SELECT n FROM counts WHERE what = 'like'") == 2,
       "LIKE in the migration is SQLite's default, case-insensitive (2 rows, not 1)");
    OK(qint(db, "SELECT n FROM counts WHERE what = 'hops'") == 2,
       "recursive_triggers is off while the migration runs (2 rows, not 5)");
    OK(qint(db, "PRAGMA recursive_triggers") == 1 && qint(db, "PRAGMA reverse_unordered_selects") == 1
       && qint(db, "PRAGMA legacy_alter_table") == 1,
       "the caller's settings are as the caller left them");
    setup_close(db);
}

/* The caller's temp table of a main table's name, and its authorizer. */
static const struct sqlmig_migration items[] = {
    MIG(1, "CREATE TABLE items(x);\nINSERT INTO items VALUES (1);\nDELETE FROM items WHERE x = 0;\n", CK("a021")),
};
static const struct sqlmig_set set_items = SET(items);

/* An authorizer that counts the calls that name the table items (the
** migration's statements all do; sqlmig's own reads never), and denies
** every CREATE TABLE. */
static int deny_create(void *ctx, int action, const char *a, const char *b, const char *d, const char *t)
{
    (void)d, (void)t;
    *(int *)ctx += (a && strcmp(a, "items") == 0) || (b && strcmp(b, "items") == 0);
    return action == SQLITE_CREATE_TABLE ? SQLITE_DENY : SQLITE_OK;
}

static void test_caller_temp_and_authorizer(void)
{
    char path[256];
    sqlmig_result res;
    sqlite3 *db = fresh(path, sizeof path);
    int rc, calls = 0;

    setup_exec(db, "CREATE TEMP TABLE items(x); INSERT INTO temp.items VALUES (0)");
    sqlite3_set_authorizer(db, deny_create, &calls);
    rc = migrate(db, &set_items, &res);
    OK(rc == SQLMIG_OK, "a caller with a temp table and an authorizer: migrated (%s: %s)", sqlmig_errname(rc),
       res.message);
    OK(calls == 0, "the caller's authorizer saw none of the migration's statements (%d calls)", calls);
    OK(qint(db, "SELECT count(*) FROM temp.items WHERE x = 0") == 1 && qint(db, "SELECT count(*) FROM temp.items") == 1,
       "the caller's temp table is not what the migration's unqualified names reached");
    OK(qint(db, "SELECT count(*) FROM main.items WHERE x = 1") == 1, "the migration wrote the main table");
    OK(sqlite3_exec(db, "CREATE TABLE mine(x)", NULL, NULL, NULL) == SQLITE_AUTH,
       "the caller's authorizer is still in place afterwards");
    sqlite3_set_authorizer(db, NULL, NULL);
    setup_close(db);
}

/* ---- a migration leaves nothing on the caller's connection --------------- */

static const struct sqlmig_migration leaves_temp[] = {
    MIG(1, "CREATE TABLE notes(x TEXT);\nCREATE TEMP TABLE notes(x TEXT);\nCREATE TEMP VIEW recent AS SELECT 1;\n",
        CK("a003")),
};
static const struct sqlmig_set set_leaves_temp = SET(leaves_temp);
static const struct sqlmig_migration leaves_settings[] = {
    MIG(1, "PRAGMA legacy_alter_table = ON;\nPRAGMA case_sensitive_like = ON;\nPRAGMA recursive_triggers = ON;\n"
           "CREATE TABLE two(x);\n", CK("a004")),
    MIG(2, "CREATE TABLE three(x);\nPRAGMA query_only = ON;\n", CK("a015")),
};
static const struct sqlmig_set set_leaves_settings = SET(leaves_settings);
static const struct sqlmig_migration locks_out[] = {
    MIG_NOTX(1, "-- sqlmig:no-transaction\nPRAGMA locking_mode = EXCLUSIVE;\nCREATE TABLE locked(x);\n", CK("a005")),
};
static const struct sqlmig_set set_locks_out = SET(locks_out);

/* 1 when sql runs on db. */
static int runs(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

static void test_leaves_nothing(void)
{
    char path[256], buf[64];
    sqlmig_result res;
    sqlite3 *db = fresh(path, sizeof path), *other;
    int rc = migrate(db, &set_leaves_temp, &res);

    OK(rc == SQLMIG_OK, "a migration that leaves temp objects: migrated (%s: %s)", sqlmig_errname(rc), res.message);
    OK(qint(db, "SELECT count(*) FROM temp.sqlite_schema") == 0, "no temp object of it is on the caller's connection");
    OK(runs(db, "INSERT INTO notes VALUES ('kept')"), "the caller inserts into notes");
    other = open_path(path);
    OK(qint(other, "SELECT count(*) FROM notes") == 1, "and the row went to the main table, not a temp one");
    setup_close(other);
    setup_close(db);

    db = fresh(path, sizeof path);
    rc = migrate(db, &set_leaves_settings, &res);
    OK(rc == SQLMIG_OK, "migrations that set query_only, legacy_alter_table, case_sensitive_like: migrated (%s: %s)",
       sqlmig_errname(rc), res.message);
    OK(qint(db, "PRAGMA query_only") == 0 && runs(db, "CREATE TABLE mine(x)"), "the caller's connection can write");
    OK(qint(db, "PRAGMA legacy_alter_table") == 0 && qint(db, "PRAGMA recursive_triggers") == 0,
       "legacy_alter_table and recursive_triggers are the caller's (off)");
    OK(qint(db, "SELECT 'a' LIKE 'A'") == 1, "LIKE on the caller's connection is still case-insensitive");
    rc = migrate(db, &set_leaves_settings, &res);
    OK(rc == SQLMIG_OK && res.applied == 0, "the next start finds it up to date (%s: %s)", sqlmig_errname(rc),
       res.message);
    setup_close(db);

    db = fresh(path, sizeof path);
    rc = migrate(db, &set_locks_out, &res);
    OK(rc == SQLMIG_OK, "a migration that sets locking_mode = EXCLUSIVE: migrated (%s: %s)", sqlmig_errname(rc), res.message);
    OK(strcmp(qtext(db, "PRAGMA locking_mode", buf, sizeof buf), "normal") == 0, "the caller's locking_mode is normal (%s)", buf);
    other = open_path(path);
    OK(qint(other, "SELECT count(*) FROM locked") == 0 && runs(other, "INSERT INTO locked VALUES (1)"),
       "another connection can read and write the database afterwards");
    setup_close(other);
    setup_close(db);
}

/*
** A setting one migration makes does not carry into the next: one call that
** applies both gives what one call per release gives.
*/
static const struct sqlmig_migration carries[] = {
    MIG(1, "CREATE TABLE t(x TEXT);\nINSERT INTO t VALUES ('a'), ('A');\nPRAGMA case_sensitive_like = ON;\n"
           "PRAGMA recursive_triggers = ON;\n", CK("a006")),
    MIG(2, "CREATE TABLE n(k TEXT, v INTEGER);\n"
           "INSERT INTO n SELECT 'like', count(*) FROM t WHERE x LIKE 'a';\n"
           "CREATE TABLE r(i INTEGER);\n"
           "CREATE TRIGGER rr AFTER INSERT ON r WHEN NEW.i < 3 BEGIN INSERT INTO r VALUES (NEW.i + 1); END;\n"
           "INSERT INTO r VALUES (1);\nINSERT INTO n SELECT 'r', count(*) FROM r;\n", CK("a007")),
};
static const struct sqlmig_set set_carries = SET(carries);
static const struct sqlmig_set set_carries1 = SET_N(carries, 1);

static void test_one_call_or_two(void)
{
    char path[256], one[128], two[128];
    sqlmig_result res;
    sqlite3 *db = fresh(path, sizeof path);
    int rc = migrate(db, &set_carries, &res);

    OK(rc == SQLMIG_OK, "both migrations in one call (%s: %s)", sqlmig_errname(rc), res.message);
    qtext(db, "SELECT group_concat(k || '=' || v) FROM n", one, sizeof one);
    setup_close(db);
    db = fresh(path, sizeof path);
    rc = migrate(db, &set_carries1, &res);
    setup_close(db);
    db = open_path(path);
    if (rc == SQLMIG_OK)
        rc = migrate(db, &set_carries, &res);
    OK(rc == SQLMIG_OK, "one call per release (%s: %s)", sqlmig_errname(rc), res.message);
    qtext(db, "SELECT group_concat(k || '=' || v) FROM n", two, sizeof two);
    OK(strcmp(one, two) == 0 && strcmp(one, "like=2,r=2") == 0,
       "the same result either way, that of SQLite's defaults (%s, %s)", one, two);
    setup_close(db);
}

/* ---- foreign keys ------------------------------------------------------- */

#define FK1 MIG(1, "CREATE TABLE owners(id INTEGER PRIMARY KEY);\n" \
                  "CREATE TABLE pets(id INTEGER PRIMARY KEY, owner INTEGER REFERENCES owners(id));\n", CK("a008"))
#define FK2 MIG(2, "CREATE VIEW pet_count AS SELECT count(*) AS n FROM pets;\n", CK("a009"))
static const struct sqlmig_migration fk_base[] = {
    FK1,
    FK2,
    MIG(3, "INSERT INTO pets(owner) VALUES (99);\n", CK("a010")),
};
static const struct sqlmig_set set_fk1 = SET_N(fk_base, 1);
static const struct sqlmig_set set_fk2 = SET_N(fk_base, 2);
static const struct sqlmig_set set_fk3 = SET_N(fk_base, 3);
/* Touches pets, where the bad row already is: still not its doing. */
static const struct sqlmig_migration fk_touch[] = {
    FK1, FK2,
    MIG(3, "UPDATE pets SET id = id;\nINSERT INTO owners(id) VALUES (1);\nINSERT INTO pets(owner) VALUES (1);\n", CK("a011")),
};
static const struct sqlmig_set set_fk_touch = SET(fk_touch);

static void on_log(void *ctx, int level, const char *msg)
{
    char *seen = ctx;
    size_t n = strlen(seen);
    if (n + strlen(msg) + 3 < 4096)
        snprintf(seen + n, 4096 - n, "%d:%s\n", level, msg);
}

/* A database at version 1 whose pets already refer to a missing owner, as
** an application that ran with foreign keys off (SQLite's default) makes. */
static sqlite3 *with_old_violation(void)
{
    char path[256];
    sqlmig_result res;
    sqlite3 *db = fresh(path, sizeof path);

    migrate(db, &set_fk1, &res);
    setup_exec(db, "INSERT INTO pets(owner) VALUES (42)");
    return db;
}

static void test_foreign_keys_already_broken(void)
{
    char path[256], seen[4096] = "";
    sqlmig_result res;
    sqlmig_options o;
    sqlite3 *db = with_old_violation();
    int rc;

    memset(&o, 0, sizeof o);
    o.log = on_log;
    o.log_ctx = seen;
    rc = sqlmig_migrate(db, &set_fk2, &o, &res);
    OK(rc == SQLMIG_OK, "a violation already in the database does not block a migration that only creates a view "
       "(%s: %s)", sqlmig_errname(rc), res.message);
    rc = sqlmig_migrate(db, &set_fk_touch, &o, &res);
    OK(rc == SQLMIG_OK, "nor one that rewrites the table where it is (%s: %s)", sqlmig_errname(rc), res.message);
    OK(strstr(seen, "foreign key") != NULL && strstr(seen, "pets") != NULL,
       "the violation it found is reported in the log");
    seen[0] = '\0';
    /* A hand-made set has no embedded schema: verify calls every table
    ** drift, and says how many violations there are besides. */
    sqlmig_verify(db, &set_fk_touch, &o, &res);
    OK(strstr(seen, "the database holds 1 foreign key violation(s)") != NULL,
       "sqlmig_verify() reports it too");
    setup_close(db);

    db = fresh(path, sizeof path);
    rc = migrate(db, &set_fk2, &res);
    setup_exec(db, "INSERT INTO pets(owner) VALUES (42)");
    rc = migrate(db, &set_fk3, &res);
    OK(rc == SQLMIG_FOREIGN_KEY && res.version == 3, "a violation the migration adds still fails it (%s: %s)",
       sqlmig_errname(rc), res.message);
    OK(qint(db, "SELECT count(*) FROM pets") == 1 && qint(db, "SELECT max(version) FROM schema_migrations") == 2,
       "and it is rolled back");
    setup_close(db);
}

/* No-transaction migrations on a database that already holds a violation:
** the violations are kept aside before the first write, or not at all. */
static const struct sqlmig_migration fk_notx_touch[] = {
    FK1,
    MIG_NOTX(2, "-- sqlmig:no-transaction\nUPDATE pets SET id = id;\nINSERT INTO owners(id) VALUES (1);\n", CK("a012")),
};
static const struct sqlmig_set set_fk_notx_touch = SET(fk_notx_touch);
static const struct sqlmig_migration fk_notx_adds[] = {
    FK1,
    MIG_NOTX(2, "-- sqlmig:no-transaction\nPRAGMA user_version = 2;\nBEGIN;\nINSERT INTO pets(owner) VALUES (77);\n"
                "COMMIT;\n", CK("a013")),
};
static const struct sqlmig_set set_fk_notx_adds = SET(fk_notx_adds);
static const struct sqlmig_migration fk_notx_nothing[] = {
    FK1,
    MIG_NOTX(2, "-- sqlmig:no-transaction\nPRAGMA user_version = 3;\n", CK("a014")),
};
static const struct sqlmig_set set_fk_notx_nothing = SET(fk_notx_nothing);

/* Counts sqlmig's statements that keep violations aside. */
static int on_keep(unsigned type, void *ctx, void *p, void *x)
{
    (void)type, (void)p;
    *(int *)ctx += strncmp(x, "CREATE TEMP TABLE sqlmig_fk", 27) == 0;
    return 0;
}

static int trace_keeps(void *ctx, sqlite3 *conn)
{
    sqlite3_trace_v2(conn, SQLITE_TRACE_STMT, on_keep, ctx);
    return 0;
}

static void test_foreign_keys_no_transaction(void)
{
    char seen[4096] = "";
    sqlmig_result res;
    sqlmig_options o;
    sqlite3 *db;
    int rc, keeps = 0;

    memset(&o, 0, sizeof o);
    o.log = on_log;
    o.log_ctx = seen;
    o.connect = trace_keeps;
    o.hook_ctx = &keeps;

    db = with_old_violation();
    rc = sqlmig_migrate(db, &set_fk_notx_touch, &o, &res);
    OK(rc == SQLMIG_OK && keeps == 1 && strstr(seen, "already in the database") != NULL,
       "a no-transaction migration that writes where a violation already is: applied, the violation kept aside "
       "once and reported (%s: %s)", sqlmig_errname(rc), res.message);
    setup_close(db);

    db = with_old_violation();
    keeps = 0;
    rc = sqlmig_migrate(db, &set_fk_notx_adds, &o, &res);
    OK(rc == SQLMIG_FOREIGN_KEY && keeps == 1 && strstr(res.message, "table pets") != NULL,
       "one that adds a violation inside its own BEGIN ... COMMIT fails (%s: %s)", sqlmig_errname(rc), res.message);
    setup_close(db);

    db = with_old_violation();
    keeps = 0;
    rc = sqlmig_migrate(db, &set_fk_notx_nothing, &o, &res);
    OK(rc == SQLMIG_OK && keeps == 0 && qint(db, "PRAGMA user_version") == 3,
       "one that writes no table checks no foreign key (%d kept)", keeps);
    setup_close(db);
}

/* An INSERT OR REPLACE that deletes a parent row is checked like a DELETE. */
static const struct sqlmig_migration fk_replace[] = {
    MIG(1, "CREATE TABLE p(id INTEGER PRIMARY KEY, code TEXT UNIQUE);\n"
           "CREATE TABLE c(pcode TEXT REFERENCES p(code));\n"
           "INSERT INTO p VALUES (1, 'a');\nINSERT INTO c VALUES ('a');\n", CK("c001")),
    MIG(2, "REPLACE INTO p VALUES (1, 'b');\n", CK("c002")),
};
static const struct sqlmig_set set_fk_replace1 = SET_N(fk_replace, 1);
static const struct sqlmig_set set_fk_replace2 = SET_N(fk_replace, 2);

/* A WITHOUT ROWID table has no rowid to tell its violations apart. */
static const struct sqlmig_migration fk_norowid[] = {
    MIG(1, "CREATE TABLE p(id INTEGER PRIMARY KEY);\n"
           "CREATE TABLE c(k INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id)) WITHOUT ROWID;\n", CK("c003")),
    MIG(2, "INSERT INTO p VALUES (1);\nINSERT INTO c VALUES (2, 1);\n", CK("c004")),
    MIG(3, "INSERT INTO c VALUES (3, 98);\n", CK("c005")),
};
static const struct sqlmig_set set_fk_norowid1 = SET_N(fk_norowid, 1);
static const struct sqlmig_set set_fk_norowid2 = SET_N(fk_norowid, 2);
static const struct sqlmig_set set_fk_norowid3 = SET_N(fk_norowid, 3);

/* Children found by the text of their SQL: in another case, and with a
** quote doubled in the parent's name. */
static const struct sqlmig_migration fk_case[] = {
    MIG(1, "CREATE TABLE Parent(id INTEGER PRIMARY KEY);\nCREATE TABLE c(pid INTEGER REFERENCES parent(id));\n"
           "INSERT INTO Parent VALUES (1);\nINSERT INTO c VALUES (1);\n", CK("c010")),
    MIG(2, "DELETE FROM PARENT;\n", CK("c011")),
};
static const struct sqlmig_set set_fk_case1 = SET_N(fk_case, 1);
static const struct sqlmig_set set_fk_case2 = SET_N(fk_case, 2);
static const struct sqlmig_migration fk_quote[] = {
    MIG(1, "CREATE TABLE \"p\"\"q\"(id INTEGER PRIMARY KEY);\n"
           "CREATE TABLE c(pid INTEGER REFERENCES \"p\"\"q\"(id));\n"
           "INSERT INTO \"p\"\"q\" VALUES (1);\nINSERT INTO c VALUES (1);\n", CK("c012")),
    MIG(2, "DELETE FROM \"p\"\"q\";\n", CK("c013")),
};
static const struct sqlmig_set set_fk_quote1 = SET_N(fk_quote, 1);
static const struct sqlmig_set set_fk_quote2 = SET_N(fk_quote, 2);

/* A migration that attaches and writes a table with an old violation. */
static const struct sqlmig_migration fk_attach[] = {
    MIG(1, "CREATE TABLE p(id INTEGER PRIMARY KEY);\nCREATE TABLE c(pid INTEGER REFERENCES p(id));\n", CK("c006")),
    { 2, "m2", "0002_m2.sql", "-- sqlmig:attach\nATTACH ':memory:' AS o;\nINSERT INTO c VALUES (NULL);\n",
      sizeof "-- sqlmig:attach\nATTACH ':memory:' AS o;\nINSERT INTO c VALUES (NULL);\n" - 1, 1, NULL, 0,
      CK("c007"), SQLMIG_ATTACH, NULL, 0 },
};
static const struct sqlmig_set set_fk_attach1 = SET_N(fk_attach, 1);
static const struct sqlmig_set set_fk_attach2 = SET_N(fk_attach, 2);

static void test_foreign_keys_written_otherwise(void)
{
    char path[256];
    sqlmig_result res;
    sqlite3 *db = fresh(path, sizeof path);
    int rc = migrate(db, &set_fk_case1, &res);

    rc = migrate(db, &set_fk_case2, &res);
    OK(rc == SQLMIG_FOREIGN_KEY && res.version == 2, "a child that names its parent in another case is checked "
       "(%s: %s)", sqlmig_errname(rc), res.message);
    setup_close(db);
    db = fresh(path, sizeof path);
    rc = migrate(db, &set_fk_quote1, &res);
    rc = migrate(db, &set_fk_quote2, &res);
    OK(rc == SQLMIG_FOREIGN_KEY && res.version == 2, "a child of a parent with a quote in its name is checked "
       "(%s: %s)", sqlmig_errname(rc), res.message);
    setup_close(db);

    db = fresh(path, sizeof path);
    rc = migrate(db, &set_fk_replace1, &res);

    rc = migrate(db, &set_fk_replace2, &res);
    OK(rc == SQLMIG_FOREIGN_KEY && res.version == 2, "REPLACE INTO that deletes a row a child refers to fails its "
       "migration (%s: %s)", sqlmig_errname(rc), res.message);
    OK(qint(db, "SELECT count(*) FROM p WHERE code = 'a'") == 1, "and it is rolled back");
    setup_close(db);

    db = fresh(path, sizeof path);
    rc = migrate(db, &set_fk_norowid1, &res);
    setup_exec(db, "INSERT INTO c VALUES (1, 99)");
    rc = migrate(db, &set_fk_norowid2, &res);
    OK(rc == SQLMIG_OK, "a WITHOUT ROWID table's old violation does not block a migration that writes it (%s: %s)",
       sqlmig_errname(rc), res.message);
    rc = migrate(db, &set_fk_norowid3, &res);
    OK(rc == SQLMIG_FOREIGN_KEY && res.version == 3, "nor hide one the next migration adds there (%s: %s)",
       sqlmig_errname(rc), res.message);
    OK(qint(db, "SELECT count(*) FROM c") == 2, "which is rolled back");
    setup_close(db);

    db = fresh(path, sizeof path);
    rc = migrate(db, &set_fk_attach1, &res);
    setup_exec(db, "INSERT INTO c VALUES (7)");
    rc = migrate(db, &set_fk_attach2, &res);
    OK(rc == SQLMIG_OK && qint(db, "SELECT count(*) FROM c") == 2, "a migration that attaches, writing a table "
       "with an old violation, runs once and passes (%s: %s)", sqlmig_errname(rc), res.message);
    setup_close(db);
}

/* ---- the smaller defects ------------------------------------------------- */

static const struct sqlmig_migration makes_ledger[] = {
    MIG(1, "CREATE TABLE audit(x);\n", CK("a012")),
};
static const struct sqlmig_set set_makes_ledger = SET(makes_ledger);

static void test_ledger_named_like_a_table(void)
{
    char path[256];
    sqlmig_result res;
    sqlmig_options o;
    sqlite3 *db = fresh(path, sizeof path);
    int rc;

    memset(&o, 0, sizeof o);
    o.table = "audit";
    rc = sqlmig_migrate(db, &set_makes_ledger, &o, &res);
    OK(rc == SQLMIG_MISUSE, "options.table names a table the migration creates: SQLMIG_MISUSE, the option is "
       "at fault (%s: %s)", sqlmig_errname(rc), res.message);
    OK(strstr(res.message, "sqlmig_options.table") != NULL && strstr(res.message, "0001_m1.sql") != NULL,
       "the message names the option and the migration");
    OK(qint(db, "SELECT count(*) FROM sqlite_schema") == 0, "nothing was created");
    setup_close(db);
}

static void count_lines(void *ctx, int level, const char *msg)
{
    int *bad = ctx;
    (void)level;
    for (; *msg; msg++)
        if ((unsigned char)*msg < 0x20 || *msg == 0x7f)
            ++*bad;
}

static void test_control_characters(void)
{
    char path[256];
    sqlmig_result res;
    sqlmig_options o;
    sqlite3 *db = fresh(path, sizeof path);
    int rc, bad = 0;
    size_t i;

    memset(&o, 0, sizeof o);
    o.table = "ledger\nsqlmig: ERROR forged";
    rc = sqlmig_migrate(db, &set_makes_ledger, &o, &res);
    OK(rc == SQLMIG_MISUSE, "a ledger name with a line break is refused (%s)", sqlmig_errname(rc));
    o.table = NULL;
    o.log = count_lines;
    o.log_ctx = &bad;
    rc = sqlmig_migrate(db, &set_makes_ledger, &o, &res);
    setup_exec(db, "INSERT INTO schema_migrations VALUES (7, 'x\nsqlmig: applied 9999_fake.sql\x1b[2J', "
                   "'" CK("0000") "', '2026-01-01T00:00:00.000Z', 0)");
    rc = sqlmig_migrate(db, &set_makes_ledger, &o, &res);
    OK(rc == SQLMIG_UNKNOWN, "a ledger row of a newer build (%s)", sqlmig_errname(rc));
    for (i = 0; res.message[i]; i++)
        if ((unsigned char)res.message[i] < 0x20 || res.message[i] == 0x7f)
            bad++;
    OK(bad == 0, "its name from the database reaches neither the message nor the log with a control "
       "character (%d found): %s", bad, res.message);
    setup_close(db);
}

static const struct sqlmig_migration newer[] = {
    MIG(1, "CREATE TABLE a(x);\n", CK("a013")),
    MIG(2, "CREATE TABLE b(x);\nCREATE INDEX a_x ON a(x);\n", CK("a014")),
};
static const struct sqlmig_object older_objects[] = {
    { "table", "a", "CREATE TABLE a(x)" },
};
static const struct sqlmig_set set_newer = SET(newer);
static const struct sqlmig_set set_older = { .migrations = newer, .count = 1, .objects = older_objects, .object_count = 1 };

static void test_verify_newer_build(void)
{
    char path[256];
    sqlmig_result res;
    sqlmig_options o;
    sqlite3 *db = fresh(path, sizeof path);
    int rc = migrate(db, &set_newer, &res);

    memset(&o, 0, sizeof o);
    o.flags = SQLMIG_ALLOW_UNKNOWN;
    rc = sqlmig_verify(db, &set_older, &o, &res);
    OK(rc == SQLMIG_OK, "verify with SQLMIG_ALLOW_UNKNOWN on a database a newer build migrated: no drift "
       "reported for its objects (%s: %s)", sqlmig_errname(rc), res.message);
    setup_close(db);
}

/* ---- the caller's connection as it may be ------------------------------- */

static const struct sqlmig_migration two[] = {
    MIG(1, "CREATE TABLE a(x);\nINSERT INTO a VALUES (1);\n", CK("b001")),
    MIG(2, "CREATE TABLE b(y);\n", CK("b002")),
};
static const struct sqlmig_set set_two = SET(two);
static const struct sqlmig_migration two_bad[] = {
    MIG(1, "CREATE TABLE a(x);\nINSERT INTO a VALUES (1);\n", CK("b001")),
    MIG(2, "CREATE TABLE b(y);\nINSERT INTO nope VALUES (1);\n", CK("b003")),
};
static const struct sqlmig_set set_two_bad = SET(two_bad);

static void test_in_memory(void)
{
    sqlmig_result res;
    sqlite3 *db = NULL;
    int rc;

    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        setup_die("sqlite3_open");
    setup_exec(db, "ATTACH ':memory:' AS side; CREATE TABLE side.a(z)");
    rc = migrate(db, &set_two, &res);
    OK(rc == SQLMIG_OK && res.applied == 2, "an in-memory database: migrated (%s: %s)", sqlmig_errname(rc), res.message);
    OK(qint(db, "SELECT count(*) FROM main.a") == 1 && qint(db, "SELECT count(*) FROM main.schema_migrations") == 2
       && qint(db, "SELECT count(*) FROM side.a") == 0,
       "the caller's connection sees the migrated database, its attached one untouched");
    rc = migrate(db, &set_two, &res);
    OK(rc == SQLMIG_OK && res.applied == 0, "the next call finds it up to date");
    setup_close(db);

    /* A failure after a commit: what was committed is the caller's too. */
    if (sqlite3_open("", &db) != SQLITE_OK) /* a temporary database: no other connection can open it either */
        setup_die("sqlite3_open");
    setup_exec(db, "CREATE TABLE app(k)"); /* not fresh: one transaction per migration */
    rc = migrate(db, &set_two_bad, &res);
    OK(rc == SQLMIG_MIGRATION && res.to_version == 1 && qint(db, "SELECT max(version) FROM schema_migrations") == 1
       && qint(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'b'") == 0,
       "a temporary database: version 1 committed, 2 rolled back, as on a file (%s)", res.message);
    setup_close(db);
}

static void test_uri_parameters(void)
{
    char path[256], uri[400];
    sqlmig_result res;
    sqlite3 *db = NULL;
    int rc;

    snprintf(path, sizeof path, "%s/uri #1?.db", dir);
    snprintf(uri, sizeof uri, "file:%s/uri%%20%%231%%3F.db?cache=private&psow=1", dir);
    if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, NULL) != SQLITE_OK)
        setup_die("sqlite3_open_v2 with a URI");
    rc = migrate(db, &set_two, &res);
    OK(rc == SQLMIG_OK && res.applied == 2, "a database opened by a URI with parameters, its name with ' #?': "
       "migrated (%s: %s)", sqlmig_errname(rc), res.message);
    setup_close(db);
    db = open_path(path);
    OK(qint(db, "SELECT count(*) FROM schema_migrations") == 2, "the file the URI names holds the ledger");
    setup_close(db);
}

static void test_caller_state_refused(void)
{
    char path[256], buf[32];
    sqlmig_result res;
    sqlite3 *db = fresh(path, sizeof path), *other;
    sqlite3_stmt *st = NULL;
    int rc;

    setup_exec(db, "CREATE TABLE app(k); INSERT INTO app VALUES (1), (2)");
    if (sqlite3_prepare_v2(db, "SELECT k FROM app", -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
        setup_die("a running statement");
    rc = migrate(db, &set_two, &res);
    OK(rc == SQLMIG_MISUSE && strstr(res.message, "no statement of the connection running"),
       "a statement of the caller still running: SQLMIG_MISUSE (%s)", res.message);
    sqlite3_finalize(st);

    setup_exec(db, "PRAGMA locking_mode = EXCLUSIVE; SELECT count(*) FROM app");
    rc = migrate(db, &set_two, &res);
    OK(rc == SQLMIG_MISUSE && strstr(res.message, "locking_mode=EXCLUSIVE"),
       "the caller in locking_mode=EXCLUSIVE: SQLMIG_MISUSE, at once (%s)", res.message);
    OK(strcmp(qtext(db, "PRAGMA locking_mode", buf, sizeof buf), "exclusive") == 0, "and its mode is as it was");
    setup_exec(db, "PRAGMA locking_mode = NORMAL; SELECT count(*) FROM app");
    rc = migrate(db, &set_two, &res);
    OK(rc == SQLMIG_OK && res.applied == 2, "in normal mode again: migrated (%s)", res.message);
    other = open_path(path);
    OK(qint(other, "SELECT count(*) FROM b") == 0, "another connection reads the result");
    setup_close(other);
    setup_close(db);
}

/* The application's SQL function, which a migration calls. */
static void fn_slug(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    char out[64];
    const unsigned char *s = sqlite3_value_text(argv[0]);
    size_t i;

    (void)argc;
    for (i = 0; s && s[i] && i + 1 < sizeof out; i++)
        out[i] = s[i] == ' ' ? '-' : (char)(s[i] | 0x20);
    out[i] = '\0';
    sqlite3_result_text(cx, out, -1, SQLITE_TRANSIENT);
}

struct hooks {
    int connects, applied, stop_at;
    char seen[128];
};

static int on_connect(void *ctx, sqlite3 *conn)
{
    struct hooks *h = ctx;
    h->connects++;
    return sqlite3_create_function(conn, "slug", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, fn_slug, NULL, NULL);
}

static int on_applied(void *ctx, sqlite3 *conn, const struct sqlmig_migration *m)
{
    struct hooks *h = ctx;
    size_t n = strlen(h->seen);
    h->applied++;
    snprintf(h->seen + n, sizeof h->seen - n, "%lld:%lld ", (long long)m->version,
             (long long)qint(conn, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"));
    return h->stop_at && m->version == h->stop_at;
}

static const struct sqlmig_migration uses_app_function[] = {
    MIG(1, "CREATE TABLE posts(title TEXT, slug TEXT);\n"
           "INSERT INTO posts(title) VALUES ('Hello World');\nUPDATE posts SET slug = slug(title);\n", CK("b004")),
    MIG(2, "CREATE TABLE tags(t);\n", CK("b005")),
    MIG(3, "CREATE TABLE more(t);\n", CK("b006")),
};
static const struct sqlmig_set set_app_function = SET(uses_app_function);

static void test_hooks(void)
{
    char path[256], buf[64];
    struct hooks h;
    sqlmig_options o;
    sqlmig_result res;
    sqlite3 *db = fresh(path, sizeof path);
    int rc;

    rc = migrate(db, &set_app_function, &res);
    OK(rc == SQLMIG_MIGRATION && strstr(res.message, "no such function: slug"),
       "a migration that calls the application's function, without options.connect: no such function (%s)",
       res.message);
    memset(&h, 0, sizeof h);
    memset(&o, 0, sizeof o);
    o.connect = on_connect;
    o.applied = on_applied;
    o.hook_ctx = &h;
    h.stop_at = 2;
    setup_exec(db, "CREATE TABLE app(k)"); /* one transaction per migration */
    rc = sqlmig_migrate(db, &set_app_function, &o, &res);
    OK(rc == SQLMIG_ABORTED && res.version == 2 && res.to_version == 1 && h.connects == 1,
       "options.connect registers it on sqlmig's connection; applied stops the call at 2 (%s)", res.message);
    OK(strcmp(h.seen, "1:3 2:4 ") == 0, "applied is called after each migration, inside its transaction (%s)", h.seen);
    OK(strcmp(qtext(db, "SELECT slug FROM posts", buf, sizeof buf), "hello-world") == 0
       && qint(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'tags'") == 0,
       "1 is applied with the function's result, 2 rolled back");
    h.stop_at = 0;
    rc = sqlmig_migrate(db, &set_app_function, &o, &res);
    OK(rc == SQLMIG_OK && res.applied == 2, "then the rest (%s)", res.message);
    OK(qint(db, "SELECT count(*) FROM pragma_function_list WHERE name = 'slug'") == 0,
       "the function is not on the caller's connection");
    setup_close(db);
}

static void test_encoding(void)
{
    char path[256], buf[32];
    sqlmig_result res;
    sqlite3 *db = fresh(path, sizeof path), *other;
    int rc;

    setup_exec(db, "PRAGMA encoding = 'UTF-16le'; PRAGMA page_size = 8192");
    rc = migrate(db, &set_two, &res);
    OK(rc == SQLMIG_OK, "a new file the caller wants in UTF-16 with 8 KiB pages: migrated (%s)", res.message);
    other = open_path(path);
    OK(strcmp(qtext(other, "PRAGMA encoding", buf, sizeof buf), "UTF-16le") == 0
       && qint(other, "PRAGMA page_size") == 8192, "the file has the caller's encoding (%s) and page size", buf);
    setup_close(other);
    setup_close(db);
}

/* A migration that declares it attaches: it does, in a transaction of its own, and nothing stays attached. */
static const struct sqlmig_migration attaching[] = {
    MIG(1, "CREATE TABLE a(x);\n", CK("b007")),
    { 2, "m2", "0002_m2.sql", "-- sqlmig:attach\nATTACH ':memory:' AS scratch;\nCREATE TABLE scratch.t(y);\n"
      "INSERT INTO scratch.t VALUES (5);\nINSERT INTO a SELECT y FROM scratch.t;\n",
      sizeof "-- sqlmig:attach\nATTACH ':memory:' AS scratch;\nCREATE TABLE scratch.t(y);\n"
             "INSERT INTO scratch.t VALUES (5);\nINSERT INTO a SELECT y FROM scratch.t;\n" - 1,
      1, NULL, 0, CK("b008"), SQLMIG_ATTACH, NULL, 0 },
    MIG(3, "CREATE TABLE after(t);\nINSERT INTO after SELECT count(*) FROM pragma_database_list WHERE seq > 1;\n",
        CK("b009")),
};
static const struct sqlmig_set set_attaching = SET(attaching);
static const struct sqlmig_migration attaching_undeclared[] = {
    MIG(1, "CREATE TABLE a(x);\nATTACH ':memory:' AS scratch;\n", CK("b010")),
};
static const struct sqlmig_set set_attaching_undeclared = SET(attaching_undeclared);

static void test_attach(void)
{
    char path[256];
    sqlmig_result res;
    sqlite3 *db = fresh(path, sizeof path);
    int rc = migrate(db, &set_attaching, &res);

    OK(rc == SQLMIG_OK && qint(db, "SELECT x FROM a") == 5, "a migration that declares -- sqlmig:attach attaches "
       "(%s)", res.message);
    OK(qint(db, "SELECT * FROM after") == 0, "and the next migration sees no attached database (%lld)", (long long)qint(db, "SELECT * FROM after"));
    setup_close(db);
    db = fresh(path, sizeof path);
    rc = migrate(db, &set_attaching_undeclared, &res);
    OK(rc == SQLMIG_MIGRATION && res.line == 2 && strstr(res.message, "-- sqlmig:attach"),
       "one that does not declare it: refused where it attaches (%s)", res.message);
    setup_close(db);
}

/* A temp table created as temp.x does not outlive its migration either. */
static const struct sqlmig_migration temp_qualified[] = {
    MIG(1, "CREATE TABLE temp.staging(a);\nCREATE VIEW temp.v AS SELECT 1;\n", CK("c008")),
    MIG(2, "CREATE TABLE staging(a);\nINSERT INTO staging VALUES (1);\n", CK("c009")),
};
static const struct sqlmig_set set_temp_qualified = SET(temp_qualified);

/* Ways around the guard that SQLite's grammar allows. */
static const struct sqlmig_migration journal_prefix[] = {
    MIG_NOTX(1, "PRAGMA journal_mode=o;\n", CK("c010")),
};
static const struct sqlmig_set set_journal_prefix = SET(journal_prefix);
static const struct sqlmig_migration ledger_trigger[] = {
    MIG(1, "CREATE TABLE t(x);\n", CK("c011")),
    MIG(2, "CREATE TRIGGER stamp AFTER INSERT ON schema_migrations BEGIN SELECT 1; END;\n", CK("c012")),
};
static const struct sqlmig_set set_ledger_trigger1 = SET_N(ledger_trigger, 1);
static const struct sqlmig_set set_ledger_trigger2 = SET_N(ledger_trigger, 2);

static void test_guard_corners(void)
{
    char path[256], sql[600], file[300];
    struct sqlmig_migration computed = { 1, "m1", "0001_m1.sql", NULL, 0, 1, NULL, 0, CK("c013"),
                                         SQLMIG_NO_TRANSACTION, NULL, 0 };
    struct sqlmig_set set_computed = { .migrations = &computed, .count = 1 };
    static const char snap[] = "CREATE TABLE t(x);";
    struct sqlmig_set no_migration = { .snapshot_sql = snap, .snapshot_len = sizeof snap - 1 };
    sqlmig_result res;
    sqlite3 *db = fresh(path, sizeof path);
    int rc = migrate(db, &set_temp_qualified, &res);

    OK(rc == SQLMIG_OK && qint(db, "SELECT count(*) FROM main.staging") == 1,
       "a table created as temp.staging is gone before the next migration creates staging and fills it (%s: %s)",
       sqlmig_errname(rc), res.message);
    setup_close(db);

    db = fresh(path, sizeof path);
    rc = migrate(db, &set_journal_prefix, &res);
    OK(rc == SQLMIG_MIGRATION && strstr(res.message, "journal_mode"), "PRAGMA journal_mode=o (a prefix of OFF) is "
       "refused (%s: %s)", sqlmig_errname(rc), res.message);
    setup_close(db);

    snprintf(file, sizeof file, "%s/computed.db", dir);
    snprintf(sql, sizeof sql, "ATTACH '%s/' || 'computed.db' AS o;\n", dir);
    computed.up_sql = sql;
    computed.up_len = strlen(sql);
    db = fresh(path, sizeof path);
    rc = sqlmig_migrate(db, &set_computed, NULL, &res);
    OK(rc == SQLMIG_MIGRATION && strstr(res.message, "ATTACH") && access(file, F_OK) != 0,
       "an ATTACH whose file name is an expression is refused too, and no file is made (%s: %s)",
       sqlmig_errname(rc), res.message);
    setup_close(db);

    db = fresh(path, sizeof path);
    rc = migrate(db, &set_ledger_trigger1, &res);
    rc = migrate(db, &set_ledger_trigger2, &res);
    OK(rc == SQLMIG_MIGRATION && strstr(res.message, "ledger"), "a trigger on the ledger is refused (%s: %s)",
       sqlmig_errname(rc), res.message);

    setup_exec(db, "BEGIN");
    rc = sqlmig_resolve(db, NULL, 1, SQLMIG_RESOLVE_RETRY, &res);
    OK(rc == SQLMIG_MISUSE, "sqlmig_resolve() inside the caller's transaction is refused (%s: %s)",
       sqlmig_errname(rc), res.message);
    setup_exec(db, "ROLLBACK");
    rc = migrate(db, &no_migration, &res);
    OK(rc == SQLMIG_MISUSE, "a set with a snapshot and no migration is refused (%s: %s)", sqlmig_errname(rc),
       res.message);
    setup_close(db);
}

int main(void)
{
    if (!mkdtemp(dir))
        setup_die("mkdtemp");
    test_attached_database();
    test_caller_settings();
    test_caller_temp_and_authorizer();
    test_leaves_nothing();
    test_one_call_or_two();
    test_foreign_keys_already_broken();
    test_foreign_keys_no_transaction();
    test_ledger_named_like_a_table();
    test_control_characters();
    test_verify_newer_build();
    test_in_memory();
    test_uri_parameters();
    test_caller_state_refused();
    test_hooks();
    test_encoding();
    test_attach();
    test_foreign_keys_written_otherwise();
    test_guard_corners();
    {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            tap_diag("could not remove %s", dir);
    }
    return tap_done(&T);
}
