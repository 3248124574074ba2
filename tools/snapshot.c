/*
** snapshot.c — the final state of the replay as SQL, proven by replaying it
** (see snapshot.h).
**
** Order matters twice. Objects are created in sqlite_schema's rowid order,
** so the new sqlite_schema lists them as the replayed one does (a view may
** name a table created after it: SQLite resolves names when the view is
** used). Rows go in right after their table's CREATE TABLE, before any index
** (cheaper) and before any trigger on the table (which must not fire).
*/
#include "snapshot.h"

#include "diag.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Rows per INSERT: well under SQLite's limit of 500 terms in a VALUES list. */
#define ROWS_PER_INSERT 100

/* Name of the table created and dropped to make sqlite_sequence at its place. */
#define SEQUENCE_MAKER "sqlmig_snapshot_sequence"

struct snap {
    sqlite3 *db;       /* the replayed database */
    struct buf *out;
    char *why;         /* why there is no snapshot */
    size_t whylen;
    int sequence;      /* sqlite_sequence exists */
};

static int DIAG_PRINTF(2, 3) cannot(struct snap *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, s->whylen, fmt, ap);
    va_end(ap);
    return 1;
}

static int failed(sqlite3 *db, const char *what)
{
    diag_fatal("the snapshot of the replayed database: %s: %s", what, sqlite3_errmsg(db));
    return -1;
}

static void put_ident(struct buf *b, const char *name)
{
    buf_putc(b, '"');
    for (; *name; name++) {
        if (*name == '"')
            buf_putc(b, '"');
        buf_putc(b, *name);
    }
    buf_putc(b, '"');
}

/* Prepare the text of `b`, which is then emptied. */
static int prepare_buf(sqlite3 *db, struct buf *b, sqlite3_stmt **st)
{
    int rc = b->failed ? SQLITE_NOMEM
                       : sqlite3_prepare_v2(db, b->data, (int)b->len, st, NULL);
    buf_free(b);
    return rc;
}

/*
** A name by which SQL can reach table t's rowid: rowid, _rowid_ or oid,
** whichever no column of t takes. Empty when t is WITHOUT ROWID; 1 when all
** three are columns; -1 on failure.
*/
static int rowid_name(sqlite3 *db, const char *t, char name[8])
{
    static const char *const names[] = { "rowid", "_rowid_", "oid" };
    sqlite3_stmt *st;
    int rc, i, taken[3] = { 0, 0, 0 }, wr = 0;

    if (sqlite3_prepare_v2(db, "SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return failed(db, "pragma_table_list");
    sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        wr = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return failed(db, "pragma_table_list");
    name[0] = '\0';
    if (wr)
        return 0;
    if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_xinfo(?1, 'main')", -1, &st, NULL)
        != SQLITE_OK)
        return failed(db, "pragma_table_xinfo");
    sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        for (i = 0; i < 3; i++)
            if (sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), names[i]) == 0)
                taken[i] = 1;
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return failed(db, "pragma_table_xinfo");
    for (i = 0; i < 3; i++)
        if (!taken[i]) {
            strcpy(name, names[i]);
            return 0;
        }
    return 1;
}

/*
** Select column c as a literal: SQLite's quote() (a REAL gets as many digits
** as it takes to read it back), but for the infinities, which it writes as
** Inf and -Inf, names that SQL does not know.
*/
static void put_literal(struct buf *q, const char *c)
{
    buf_puts(q, "iif(typeof(");
    put_ident(q, c);
    buf_puts(q, ") = 'real' AND abs(");
    put_ident(q, c);
    buf_puts(q, ") > 1.7976931348623157e308, iif(");
    put_ident(q, c);
    buf_puts(q, " > 0, '9e999', '-9e999'), quote(");
    put_ident(q, c);
    buf_puts(q, "))");
}

/*
** INSERT the rows of table t as literals, ROWS_PER_INSERT at a time, in
** rowid order with their rowids. Generated columns are left to SQLite.
*/
static int dump_rows(struct snap *s, const char *t)
{
    struct buf q, head;
    sqlite3_stmt *st = NULL;
    char rowid[8];
    int rc, i, n, rows = 0;

    if ((rc = rowid_name(s->db, t, rowid)) != 0)
        return rc < 0 ? rc : cannot(s, "the table \"%s\" has columns named rowid, _rowid_ and oid: "
                                    "its rowids cannot be read", t);
    buf_init(&q);
    buf_init(&head);
    buf_puts(&head, "INSERT INTO main.");
    put_ident(&head, t);
    buf_puts(&head, "(");
    buf_puts(&q, "SELECT ");
    if (rowid[0]) {
        buf_printf(&head, "%s, ", rowid);
        buf_printf(&q, "quote(%s), ", rowid);
    }
    /* The column list, from a query that builds it in SQL. */
    if (sqlite3_prepare_v2(s->db, "SELECT name FROM pragma_table_xinfo(?1, 'main') WHERE hidden = 0 "
                           "ORDER BY cid", -1, &st, NULL) != SQLITE_OK) {
        buf_free(&q);
        buf_free(&head);
        return failed(s->db, "pragma_table_xinfo");
    }
    sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
    for (n = 0; (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        if (n) {
            buf_puts(&head, ", ");
            buf_puts(&q, ", ");
        }
        put_ident(&head, c ? c : "");
        put_literal(&q, c ? c : "");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        buf_free(&q);
        buf_free(&head);
        return failed(s->db, "pragma_table_xinfo");
    }
    buf_puts(&head, ") VALUES\n");
    buf_puts(&q, " FROM main.");
    put_ident(&q, t);
    if (rowid[0])
        buf_printf(&q, " ORDER BY %s", rowid);
    if (prepare_buf(s->db, &q, &st) != SQLITE_OK) {
        buf_free(&head);
        return failed(s->db, "reading a table");
    }
    n = sqlite3_column_count(st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (rows % ROWS_PER_INSERT == 0)
            buf_append(s->out, head.data, head.len);
        buf_putc(s->out, '(');
        for (i = 0; i < n; i++) {
            if (i)
                buf_puts(s->out, ", ");
            buf_append(s->out, sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
        }
        rows++;
        buf_puts(s->out, rows % ROWS_PER_INSERT == 0 ? ");\n" : "),\n");
    }
    sqlite3_finalize(st);
    buf_free(&head);
    if (rc != SQLITE_DONE)
        return failed(s->db, "reading a table");
    if (rows % ROWS_PER_INSERT != 0 && !s->out->failed) { /* end the last INSERT: "),\n" becomes ");\n" */
        s->out->len -= 3;
        buf_puts(s->out, ");\n");
    }
    return 0;
}

/* What the replayed state holds that SQL cannot recreate exactly. */
static int refuse(struct snap *s)
{
    static const char sql[] =
        "SELECT name, sql LIKE 'CREATE VIRTUAL TABLE%' FROM main.sqlite_schema "
        "WHERE name LIKE 'sqlite\\_stat%' ESCAPE '\\' OR sql LIKE 'CREATE VIRTUAL TABLE%' "
        "ORDER BY rowid LIMIT 1";
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return failed(s->db, "sqlite_schema");
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        rc = sqlite3_column_int(st, 1)
             ? cannot(s, "the history creates the virtual table \"%s\", whose module keeps "
                      "tables of its own", (const char *)sqlite3_column_text(st, 0))
             : cannot(s, "the history runs ANALYZE: its statistics (%s) are not part of a "
                      "snapshot", (const char *)sqlite3_column_text(st, 0));
    else if (rc == SQLITE_DONE)
        rc = 0;
    else
        rc = failed(s->db, "sqlite_schema");
    sqlite3_finalize(st);
    return rc;
}

/* The objects in sqlite_schema order, each table followed by its rows. */
static int dump_schema(struct snap *s)
{
    sqlite3_stmt *st;
    int rc, made = 0; /* a CREATE TABLE so far made sqlite_sequence */

    if (sqlite3_prepare_v2(s->db, "SELECT type, name, sql, sql LIKE '%AUTOINCREMENT%' "
                           "FROM main.sqlite_schema ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
        return failed(s->db, "sqlite_schema");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *sql = (const char *)sqlite3_column_text(st, 2);

        if (!type || !name)
            break;
        if (strcmp(name, "sqlite_sequence") == 0) {
            /* SQLite makes it with the first AUTOINCREMENT table. If that
            ** one is gone, a stand-in makes it here. */
            if (!made)
                buf_puts(s->out, "CREATE TABLE " SEQUENCE_MAKER "(x INTEGER PRIMARY KEY AUTOINCREMENT);\n"
                                 "DROP TABLE " SEQUENCE_MAKER ";\n");
            s->sequence = 1;
            continue;
        }
        if (!sql) /* an automatic index, made with its table */
            continue;
        buf_puts(s->out, sql);
        buf_puts(s->out, ";\n");
        if (strcmp(type, "table") == 0) {
            made |= sqlite3_column_int(st, 3);
            if ((rc = dump_rows(s, name)) != 0) {
                sqlite3_finalize(st);
                return rc;
            }
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : failed(s->db, "sqlite_schema");
}

/* sqlite_sequence as it is (inserting rowids moved it), then the header values. */
static int dump_rest(struct snap *s, const struct purity *p)
{
    static const char *const header[] = { "user_version", "application_id" };
    sqlite3_stmt *st;
    char sql[64];
    int rc, i, rows = 0;

    if (s->sequence) {
        if (sqlite3_prepare_v2(s->db, "SELECT rowid, quote(name), quote(seq) FROM main.sqlite_sequence "
                               "ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
            return failed(s->db, "sqlite_sequence");
        buf_puts(s->out, "DELETE FROM main.sqlite_sequence;\n");
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            buf_printf(s->out, "%s(%lld, %s, %s)",
                       rows++ ? ",\n" : "INSERT INTO main.sqlite_sequence(rowid, name, seq) VALUES\n",
                       (long long)sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                       (const char *)sqlite3_column_text(st, 2));
        if (rows)
            buf_puts(s->out, ";\n");
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return failed(s->db, "sqlite_sequence");
    }
    for (i = 0; i < 2; i++) {
        if (!(i == 0 ? p->sets_user_version : p->sets_application_id))
            continue;
        snprintf(sql, sizeof sql, "PRAGMA main.%s", header[i]);
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK
            || sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_finalize(st);
            return failed(s->db, sql);
        }
        buf_printf(s->out, "PRAGMA main.%s = %lld;\n", header[i], (long long)sqlite3_column_int64(st, 0));
        sqlite3_finalize(st);
    }
    return 0;
}

/* ---- the proof ---------------------------------------------------------- */

/* Are two values the same, type and bytes? */
static int same_value(sqlite3_stmt *a, sqlite3_stmt *b, int i)
{
    int t = sqlite3_column_type(a, i);
    double x, y;

    if (t != sqlite3_column_type(b, i))
        return 0;
    switch (t) {
    case SQLITE_INTEGER:
        return sqlite3_column_int64(a, i) == sqlite3_column_int64(b, i);
    case SQLITE_FLOAT:
        x = sqlite3_column_double(a, i);
        y = sqlite3_column_double(b, i);
        return memcmp(&x, &y, sizeof x) == 0;
    case SQLITE_NULL:
        return 1;
    default: {
        const void *p = t == SQLITE_TEXT ? (const void *)sqlite3_column_text(a, i) : sqlite3_column_blob(a, i);
        const void *q = t == SQLITE_TEXT ? (const void *)sqlite3_column_text(b, i) : sqlite3_column_blob(b, i);
        int n = sqlite3_column_bytes(a, i);
        return n == sqlite3_column_bytes(b, i) && (n == 0 || memcmp(p, q, (size_t)n) == 0);
    }
    }
}

/*
** Run `sql` in both databases and compare every row. 0: the same; 1: not
** (`what` goes into the reason); -1: a failure.
*/
static int same_rows(struct snap *s, sqlite3 *copy, const char *sql, const char *what)
{
    sqlite3_stmt *a = NULL, *b = NULL;
    int ra, rb, i, n, row, rc = 0;

    if (sqlite3_prepare_v2(s->db, sql, -1, &a, NULL) != SQLITE_OK)
        return failed(s->db, what);
    if (sqlite3_prepare_v2(copy, sql, -1, &b, NULL) != SQLITE_OK) {
        rc = cannot(s, "the snapshot does not recreate %s: %s", what, sqlite3_errmsg(copy));
        sqlite3_finalize(a);
        return rc;
    }
    n = sqlite3_column_count(a);
    for (row = 1;; row++) {
        ra = sqlite3_step(a);
        rb = sqlite3_step(b);
        if (ra != SQLITE_ROW || rb != SQLITE_ROW)
            break;
        for (i = 0; i < n && same_value(a, b, i); i++) {}
        if (i < n) {
            rc = cannot(s, "the snapshot does not recreate %s exactly: row %d, column %d differs",
                        what, row, i + 1);
            break;
        }
    }
    if (rc != 0)
        ;
    else if (ra != SQLITE_ROW && ra != SQLITE_DONE)
        rc = failed(s->db, what);
    else if (rb != SQLITE_ROW && rb != SQLITE_DONE)
        rc = cannot(s, "the snapshot does not recreate %s: %s", what, sqlite3_errmsg(copy));
    else if (ra != rb)
        rc = cannot(s, "the snapshot does not recreate %s exactly: it has %s rows", what,
                    ra == SQLITE_ROW ? "fewer" : "more");
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    return rc;
}

/* Compare every table of the replayed database with its copy. */
static int same_tables(struct snap *s, sqlite3 *copy)
{
    sqlite3_stmt *st;
    struct buf q, what;
    char rowid[8];
    int rc = 0, r, n, i;

    if (sqlite3_prepare_v2(s->db, "SELECT name FROM main.sqlite_schema WHERE type = 'table' ORDER BY rowid",
                           -1, &st, NULL) != SQLITE_OK)
        return failed(s->db, "sqlite_schema");
    buf_init(&q);
    buf_init(&what);
    while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        sqlite3_stmt *cols = NULL;

        if (!t)
            break;
        buf_puts(&what, "the rows of table ");
        put_ident(&what, t);
        buf_putc(&what, '\0');
        if (strcmp(t, "sqlite_sequence") == 0) {
            buf_puts(&q, "SELECT rowid, name, seq FROM main.sqlite_sequence ORDER BY rowid");
        } else if ((rc = rowid_name(s->db, t, rowid)) != 0) {
            break; /* dump_rows() said so already */
        } else {
            /* Every column, and the rowid when there is one; in rowid order, or
            ** for WITHOUT ROWID in the order of all columns. */
            buf_printf(&q, "SELECT %s%s* FROM main.", rowid, rowid[0] ? ", " : "");
            put_ident(&q, t);
            if (rowid[0]) {
                buf_printf(&q, " ORDER BY %s", rowid);
            } else {
                buf_putc(&q, '\0');
                if (q.failed || sqlite3_prepare_v2(s->db, q.data, -1, &cols, NULL) != SQLITE_OK) {
                    rc = failed(s->db, what.data ? what.data : "a table");
                    break;
                }
                n = sqlite3_column_count(cols);
                sqlite3_finalize(cols);
                q.len--;
                for (i = 1; i <= n; i++)
                    buf_printf(&q, "%s%d", i == 1 ? " ORDER BY " : ", ", i);
            }
        }
        buf_putc(&q, '\0');
        if (q.failed || what.failed) {
            diag_fatal("out of memory");
            rc = -1;
            break;
        }
        rc = same_rows(s, copy, q.data, what.data);
        buf_free(&q);
        buf_free(&what);
    }
    sqlite3_finalize(st);
    buf_free(&q);
    buf_free(&what);
    return rc;
}

/* Run the snapshot in a new database as the runtime does, and compare. */
static int prove(struct snap *s)
{
    static const char *const checks[][2] = {
        { "SELECT type, name, tbl_name, sql FROM main.sqlite_schema ORDER BY rowid", "sqlite_schema" },
        { "PRAGMA main.user_version", "user_version" },
        { "PRAGMA main.application_id", "application_id" },
        { "PRAGMA main.auto_vacuum", "auto_vacuum" },
    };
    sqlite3 *copy = NULL;
    sqlite3_stmt *st = NULL;
    const char *p, *end, *tail;
    size_t i;
    int rc;

    if (sqlite3_open_v2(":memory:", &copy, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        sqlite3_close(copy);
        diag_fatal("cannot open an in-memory SQLite database");
        return -1;
    }
    rc = sqlite3_exec(copy, "PRAGMA foreign_keys = OFF; BEGIN", NULL, NULL, NULL);
    /* Statement by statement, as the runtime runs it: the length given counts
    ** the NUL after the text, or SQLite would copy the rest of the snapshot
    ** before every statement (quadratic). An empty final state (a history
    ** that drops all it made) has no text at all. */
    for (p = s->out->data, end = s->out->len ? p + s->out->len : p; rc == SQLITE_OK && p < end; p = tail) {
        rc = sqlite3_prepare_v2(copy, p, (int)(end - p) + 1, &st, &tail);
        if (rc == SQLITE_OK && st) {
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
            rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        }
        sqlite3_finalize(st);
        st = NULL;
        if (tail <= p)
            break;
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(copy, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rc = cannot(s, "the snapshot does not run: %s", sqlite3_errmsg(copy));
        sqlite3_close(copy);
        return rc;
    }
    for (i = 0, rc = 0; rc == 0 && i < sizeof checks / sizeof checks[0]; i++)
        rc = same_rows(s, copy, checks[i][0], checks[i][1]);
    if (rc == 0)
        rc = same_tables(s, copy);
    if (rc == 0) {
        if (sqlite3_prepare_v2(copy, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK
            || sqlite3_step(st) != SQLITE_ROW)
            rc = cannot(s, "PRAGMA integrity_check fails on the snapshot: %s", sqlite3_errmsg(copy));
        else if (strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
            rc = cannot(s, "PRAGMA integrity_check of the snapshot says: %.200s",
                        (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_close(copy);
    return rc;
}

int snapshot_take(sqlite3 *db, const struct purity *p, struct buf *out, char *why, size_t whylen)
{
    struct snap s;
    int rc;

    s.db = db;
    s.out = out;
    s.why = why;
    s.whylen = whylen;
    s.sequence = 0;
    why[0] = '\0';
    rc = refuse(&s);
    if (rc == 0)
        rc = dump_schema(&s);
    if (rc == 0)
        rc = dump_rest(&s, p);
    if (rc == 0 && out->len >= INT_MAX) /* SQLite takes an int length */
        rc = cannot(&s, "the snapshot would take %zu bytes, more than SQLite can prepare at once", out->len);
    /* A NUL after the text, outside `len`, for prove(). */
    if (rc == 0 && buf_putc(out, '\0') == 0)
        out->len--;
    if (rc == 0 && out->failed) {
        diag_fatal("out of memory");
        rc = -1;
    }
    if (rc == 0)
        rc = prove(&s);
    if (rc != 0)
        buf_free(out);
    return rc;
}
