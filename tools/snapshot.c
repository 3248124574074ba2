/*
** snapshot.c — the final state of a replay as SQL, and the comparison of two
** databases (see snapshot.h).
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

const char *const clock_expression[CLOCK_FORMS] = {
    "datetime('now')",
    "date('now')",
    "time('now')",
    "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    "strftime('%Y-%m-%d %H:%M:%f', 'now')",
    "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
    "strftime('%Y-%m-%dT%H:%M:%S', 'now')",
    "strftime('%s', 'now')",
    "CAST(strftime('%s', 'now') AS INTEGER)",
    "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
    "julianday('now')",
};

int clock_read(sqlite3 *db, struct clock *c)
{
    char sql[600];
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    int i, rc;

    memset(c, 0, sizeof *c);
    n = (size_t)snprintf(sql, sizeof sql, "SELECT ");
    for (i = 0; i < CLOCK_FORMS; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s%s", i ? ", " : "", clock_expression[i]);
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = SQLITE_OK;
        for (i = 0; i < CLOCK_FORMS && rc == SQLITE_OK; i++)
            if (!(c->value[i] = sqlite3_value_dup(sqlite3_column_value(st, i))))
                rc = SQLITE_NOMEM;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        clock_free(c);
    return rc;
}

void clock_free(struct clock *c)
{
    int i;

    for (i = 0; i < CLOCK_FORMS; i++)
        sqlite3_value_free(c->value[i]);
    memset(c, 0, sizeof *c);
}

/* Are two values the same, type and bytes? */
static int same_value(sqlite3_value *a, sqlite3_value *b)
{
    int t = sqlite3_value_type(a), n;
    double x, y;

    if (t != sqlite3_value_type(b))
        return 0;
    switch (t) {
    case SQLITE_INTEGER:
        return sqlite3_value_int64(a) == sqlite3_value_int64(b);
    case SQLITE_FLOAT:
        x = sqlite3_value_double(a);
        y = sqlite3_value_double(b);
        return memcmp(&x, &y, sizeof x) == 0;
    case SQLITE_NULL:
        return 1;
    case SQLITE_TEXT:
        n = sqlite3_value_bytes(a);
        return n == sqlite3_value_bytes(b)
               && (n == 0 || memcmp(sqlite3_value_text(a), sqlite3_value_text(b), (size_t)n) == 0);
    default:
        n = sqlite3_value_bytes(a);
        return n == sqlite3_value_bytes(b)
               && (n == 0 || memcmp(sqlite3_value_blob(a), sqlite3_value_blob(b), (size_t)n) == 0);
    }
}

/* The form in which v is the clock c, or -1. */
static int clock_form(const struct clock *c, sqlite3_value *v)
{
    int i;

    for (i = 0; c && i < CLOCK_FORMS; i++)
        if (c->value[i] && same_value(c->value[i], v))
            return i;
    return -1;
}

/* ---- shared helpers ------------------------------------------------------- */

struct snap {
    const struct snap_db *d; /* the database dumped, or the first compared */
    struct buf *out;
    char *why;               /* why there is no snapshot, or what differs */
    size_t whylen;
    size_t max;
    int sequence;            /* sqlite_sequence exists */
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
    diag_fatal("the replayed database: %s: %s", what, sqlite3_errmsg(db));
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

/* Prepare the text of `b` (NUL-terminated here), which is then emptied. */
static int prepare_buf(sqlite3 *db, struct buf *b, sqlite3_stmt **st)
{
    int rc = buf_putc(b, '\0') != 0 || b->failed ? SQLITE_NOMEM
                                                 : sqlite3_prepare_v2(db, b->data, -1, st, NULL);
    buf_free(b);
    return rc;
}

int snapshot_is_ledger(const char *ledger, const char *name)
{
    size_t n = ledger ? strlen(ledger) : 0;

    return ledger && name && sqlite3_strnicmp(name, ledger, (int)n) == 0
           && (!name[n] || sqlite3_stricmp(name + n, "_repeatable") == 0);
}

/* Is `name` one of the ledger's tables, or of an object on one? */
static int is_ledger(const struct snap_db *d, const char *name)
{
    return snapshot_is_ledger(d->ledger, name);
}

/*
** A name by which SQL can reach table t's rowid: rowid, _rowid_ or oid,
** whichever no column of t takes. Empty when t is WITHOUT ROWID; 1 when all
** three are columns; -1 on failure.
*/
int snapshot_rowid_name(sqlite3 *db, const char *t, char name[8])
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
    if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_xinfo(?1, 'main')", -1, &st, NULL) != SQLITE_OK)
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

/* ---- the dump ------------------------------------------------------------ */

/*
** Select column c as SQL text: the clock expression when it is the clock
** (?1… bound to its forms), else SQLite's quote() (a REAL gets as many
** digits as it takes to read it back), but for the infinities, which it
** writes as Inf and -Inf, names that SQL does not know.
*/
static void put_literal(struct buf *q, const char *c)
{
    const char *e;
    int i;

    /* A value longer than the snapshot may be is not quoted at all (NULL). */
    buf_puts(q, "CASE WHEN length(CAST(");
    put_ident(q, c);
    buf_printf(q, " AS BLOB)) > ?%d THEN NULL", CLOCK_FORMS + 1);
    for (i = 0; i < CLOCK_FORMS; i++) {
        buf_puts(q, " WHEN typeof(");
        put_ident(q, c);
        buf_printf(q, ") = typeof(?%d) AND ", i + 1);
        put_ident(q, c);
        buf_printf(q, " = ?%d COLLATE BINARY THEN '", i + 1);
        for (e = clock_expression[i]; *e; e++) { /* a string literal: its quotes doubled */
            if (*e == '\'')
                buf_putc(q, '\'');
            buf_putc(q, *e);
        }
        buf_putc(q, '\'');
    }
    buf_puts(q, " WHEN typeof(");
    put_ident(q, c);
    buf_puts(q, ") = 'real' AND abs(");
    put_ident(q, c);
    buf_puts(q, ") > 1.7976931348623157e308 THEN iif(");
    put_ident(q, c);
    buf_puts(q, " > 0, '9e999', '-9e999') ELSE quote(");
    put_ident(q, c);
    buf_puts(q, ") END");
}

static int bind_clock(sqlite3_stmt *st, const struct clock *c)
{
    int i, rc = SQLITE_OK;

    for (i = 0; c && i < CLOCK_FORMS && rc == SQLITE_OK; i++)
        rc = sqlite3_bind_value(st, i + 1, c->value[i]);
    return rc;
}

/*
** INSERT the rows of table t as literals, ROWS_PER_INSERT at a time, in
** rowid order with their rowids. Generated columns are left to SQLite.
*/
static int dump_rows(struct snap *s, const char *t)
{
    sqlite3 *db = s->d->db;
    struct buf q, head;
    sqlite3_stmt *st = NULL;
    char rowid[8];
    int rc, i, n, rows = 0;

    if ((rc = snapshot_rowid_name(db, t, rowid)) != 0)
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
    if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_xinfo(?1, 'main') WHERE hidden = 0 ORDER BY cid",
                           -1, &st, NULL) != SQLITE_OK) {
        buf_free(&q);
        buf_free(&head);
        return failed(db, "pragma_table_xinfo");
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
        return failed(db, "pragma_table_xinfo");
    }
    buf_puts(&head, ") VALUES\n");
    buf_puts(&q, " FROM main.");
    put_ident(&q, t);
    if (rowid[0])
        buf_printf(&q, " ORDER BY %s", rowid);
    if (prepare_buf(db, &q, &st) != SQLITE_OK || bind_clock(st, s->d->clock) != SQLITE_OK
        || sqlite3_bind_int64(st, CLOCK_FORMS + 1, (sqlite3_int64)s->max) != SQLITE_OK) {
        sqlite3_finalize(st);
        buf_free(&head);
        return failed(db, "reading a table");
    }
    n = sqlite3_column_count(st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (rows % ROWS_PER_INSERT == 0)
            buf_append(s->out, head.data, head.len);
        buf_putc(s->out, '(');
        for (i = 0; i < n; i++) {
            if (sqlite3_column_type(st, i) == SQLITE_NULL) { /* the value alone is over the bound */
                sqlite3_finalize(st);
                buf_free(&head);
                return cannot(s, "a value of table \"%s\" is longer than the %zu bytes the snapshot may take", t,
                              s->max);
            }
            if (i)
                buf_puts(s->out, ", ");
            buf_append(s->out, sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
        }
        rows++;
        buf_puts(s->out, rows % ROWS_PER_INSERT == 0 ? ");\n" : "),\n");
        /* The bound counts while the snapshot is written, not after. */
        if (s->out->len > s->max)
            break;
    }
    sqlite3_finalize(st);
    buf_free(&head);
    if (s->out->len > s->max)
        return cannot(s, "the snapshot would take more than %zu bytes", s->max);
    if (rc == SQLITE_TOOBIG || rc == SQLITE_NOMEM)
        return cannot(s, "a value of table \"%s\" is too large to be written as SQL text (%s)", t,
                      sqlite3_errstr(rc));
    if (rc != SQLITE_DONE)
        return failed(db, "reading a table");
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
    sqlite3 *db = s->d->db;
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return failed(db, "sqlite_schema");
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        rc = sqlite3_column_int(st, 1)
             ? cannot(s, "the history creates the virtual table \"%s\", whose module keeps "
                      "tables of its own", (const char *)sqlite3_column_text(st, 0))
             : cannot(s, "the history runs ANALYZE: its statistics (%s) are not part of a "
                      "snapshot", (const char *)sqlite3_column_text(st, 0));
    else if (rc == SQLITE_DONE)
        rc = 0;
    else
        rc = failed(db, "sqlite_schema");
    sqlite3_finalize(st);
    return rc;
}

/* The objects in sqlite_schema order, each table followed by its rows. */
static int dump_schema(struct snap *s)
{
    sqlite3 *db = s->d->db;
    sqlite3_stmt *st;
    int rc, made = 0; /* a CREATE TABLE so far made sqlite_sequence */

    if (sqlite3_prepare_v2(db, "SELECT type, name, sql, sql LIKE '%AUTOINCREMENT%', tbl_name "
                           "FROM main.sqlite_schema ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
        return failed(db, "sqlite_schema");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *sql = (const char *)sqlite3_column_text(st, 2);

        if (!type || !name)
            break;
        if (is_ledger(s->d, name) || is_ledger(s->d, (const char *)sqlite3_column_text(st, 4)))
            continue; /* the runtime makes its own */
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
    return rc == SQLITE_DONE ? 0 : failed(db, "sqlite_schema");
}

/* sqlite_sequence as it is (inserting rowids moved it), then the header values. */
static int dump_rest(struct snap *s, unsigned header)
{
    static const char *const fields[] = { "user_version", "application_id" };
    sqlite3 *db = s->d->db;
    sqlite3_stmt *st;
    char sql[64];
    int rc, i, rows = 0;

    if (s->sequence) {
        if (sqlite3_prepare_v2(db, "SELECT rowid, quote(name), quote(seq) FROM main.sqlite_sequence "
                               "ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
            return failed(db, "sqlite_sequence");
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
            return failed(db, "sqlite_sequence");
    }
    for (i = 0; i < 2; i++) {
        if (!(header & (1u << i)))
            continue;
        snprintf(sql, sizeof sql, "PRAGMA main.%s", fields[i]);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_finalize(st);
            return failed(db, sql);
        }
        buf_printf(s->out, "PRAGMA main.%s = %lld;\n", fields[i], (long long)sqlite3_column_int64(st, 0));
        sqlite3_finalize(st);
    }
    return 0;
}

int snapshot_dump(const struct snap_db *a, unsigned header, size_t max, struct buf *out, char *why,
                  size_t whylen)
{
    struct snap s;
    int rc;

    memset(&s, 0, sizeof s);
    s.d = a;
    s.out = out;
    s.why = why;
    s.whylen = whylen;
    s.max = max < INT_MAX - 1 ? max : INT_MAX - 1; /* SQLite takes an int length */
    why[0] = '\0';
    rc = refuse(&s);
    if (rc == 0)
        rc = dump_schema(&s);
    if (rc == 0)
        rc = dump_rest(&s, header);
    if (rc == 0 && out->len > s.max)
        rc = cannot(&s, "the snapshot would take more than %zu bytes", s.max);
    /* A NUL after the text, outside `len`, as after every embedded string. */
    if (rc == 0 && buf_putc(out, '\0') == 0)
        out->len--;
    if (rc == 0 && out->failed) {
        diag_fatal("out of memory");
        rc = -1;
    }
    if (rc != 0)
        buf_free(out);
    return rc;
}

/* ---- the comparison --------------------------------------------------------- */

/*
** Run `sql` in both databases and compare every row. 0: the same; 1: not
** (`what` and the row's first column, its rowid when it has one, go into
** the reason); -1: a failure.
*/
static int same_rows(struct snap *s, const struct snap_db *b, unsigned how, const char *sql, const char *what)
{
    const struct snap_db *a = s->d;
    sqlite3_stmt *x = NULL, *y = NULL;
    sqlite3_value *u, *v;
    int rx, ry, i, n, row, rc = 0, fu;

    if (sqlite3_prepare_v2(a->db, sql, -1, &x, NULL) != SQLITE_OK)
        return failed(a->db, what);
    if (sqlite3_prepare_v2(b->db, sql, -1, &y, NULL) != SQLITE_OK) {
        rc = cannot(s, "%s: %s", what, sqlite3_errmsg(b->db));
        sqlite3_finalize(x);
        return rc;
    }
    n = sqlite3_column_count(x);
    for (row = 1;; row++) {
        rx = sqlite3_step(x);
        ry = sqlite3_step(y);
        if (rx != SQLITE_ROW || ry != SQLITE_ROW)
            break;
        for (i = 0; i < n; i++) {
            u = sqlite3_column_value(x, i);
            v = sqlite3_column_value(y, i);
            fu = how & SAME_CLOCK ? clock_form(a->clock, u) : -1;
            if (!(fu >= 0 ? fu == clock_form(b->clock, v) : same_value(u, v)))
                break;
        }
        if (i < n) {
            rc = cannot(s, "%s: row %d (%.40s), column %.60s", what, row, (const char *)sqlite3_column_text(x, 0),
                        sqlite3_column_name(x, i));
            break;
        }
    }
    if (rc != 0)
        ;
    else if (rx != SQLITE_ROW && rx != SQLITE_DONE)
        rc = failed(a->db, what);
    else if (ry != SQLITE_ROW && ry != SQLITE_DONE)
        rc = cannot(s, "%s: %s", what, sqlite3_errmsg(b->db));
    else if (rx != ry)
        rc = cannot(s, "%s: one has %s rows", what, rx == SQLITE_ROW ? "more" : "fewer");
    sqlite3_finalize(x);
    sqlite3_finalize(y);
    return rc;
}

/* Compare every table but the ledger. */
static int same_tables(struct snap *s, const struct snap_db *b, unsigned how)
{
    sqlite3 *db = s->d->db;
    sqlite3_stmt *st, *cols = NULL;
    struct buf q, what;
    char rowid[8];
    int rc = 0, r, n, i;

    if (sqlite3_prepare_v2(db, "SELECT name FROM main.sqlite_schema WHERE type = 'table' ORDER BY rowid",
                           -1, &st, NULL) != SQLITE_OK)
        return failed(db, "sqlite_schema");
    buf_init(&q);
    buf_init(&what);
    while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);

        if (!t)
            break;
        if (is_ledger(s->d, t))
            continue;
        buf_puts(&what, "the rows of table ");
        put_ident(&what, t);
        buf_putc(&what, '\0');
        if (strcmp(t, "sqlite_sequence") == 0) {
            buf_puts(&q, "SELECT name, seq FROM main.sqlite_sequence ORDER BY name, seq");
        } else if ((rc = snapshot_rowid_name(db, t, rowid)) < 0) {
            break;
        } else {
            /* No name left for its rowid, or rowids that may differ (a
            ** rebuild renumbers them): compared by its columns alone. */
            if (rc > 0 || how & SAME_AS_READ)
                rowid[0] = '\0';
            rc = 0;
            /* Every column, and the rowid when there is one; in rowid order, or
            ** for WITHOUT ROWID in the order of all columns. */
            buf_printf(&q, "SELECT %s%s* FROM main.", rowid, rowid[0] ? ", " : "");
            put_ident(&q, t);
            if (rowid[0]) {
                buf_printf(&q, " ORDER BY %s", rowid);
            } else {
                buf_putc(&q, '\0');
                if (q.failed || sqlite3_prepare_v2(db, q.data, -1, &cols, NULL) != SQLITE_OK) {
                    rc = failed(db, what.data ? what.data : "a table");
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
        rc = same_rows(s, b, how, q.data, what.data);
        buf_free(&q);
        buf_free(&what);
    }
    sqlite3_finalize(st);
    buf_free(&q);
    buf_free(&what);
    return rc;
}

int snapshot_compare(const struct snap_db *a, const struct snap_db *b, unsigned how, char *why, size_t whylen)
{
    struct snap s;
    struct buf q;
    int rc;

    memset(&s, 0, sizeof s);
    s.d = a;
    s.why = why;
    s.whylen = whylen;
    why[0] = '\0';
    /* Each side leaves out its own ledger, whose name may differ. */
    buf_init(&q);
    buf_puts(&q, how & SAME_AS_READ ? "SELECT type || ' ' || lower(name) AS object, sqlmig_fingerprint(type, sql) "
                                      "AS definition FROM main.sqlite_schema WHERE sql IS NOT NULL AND name NOT IN ("
                                    : "SELECT type, name, tbl_name, sql FROM main.sqlite_schema WHERE name NOT IN (");
    buf_printf(&q, "'%s', '%s', '%s_repeatable', '%s_repeatable') AND tbl_name NOT IN ('%s', '%s', "
               "'%s_repeatable', '%s_repeatable') ORDER BY %s", a->ledger ? a->ledger : "",
               b->ledger ? b->ledger : "", a->ledger ? a->ledger : "", b->ledger ? b->ledger : "",
               a->ledger ? a->ledger : "", b->ledger ? b->ledger : "", a->ledger ? a->ledger : "",
               b->ledger ? b->ledger : "", how & SAME_AS_READ ? "type, lower(name)" : "rowid");
    buf_putc(&q, '\0');
    rc = q.failed ? (diag_fatal("out of memory"), -1)
                  : same_rows(&s, b, 0, q.data, how & SAME_AS_READ ? "the schema" : "sqlite_schema");
    buf_free(&q);
    if (rc == 0 && how & SAME_HEADER)
        rc = same_rows(&s, b, 0, "SELECT * FROM pragma_user_version, pragma_application_id",
                       "user_version and application_id");
    if (rc == 0)
        rc = same_tables(&s, b, how);
    return rc;
}
