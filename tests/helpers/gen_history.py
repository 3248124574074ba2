#!/usr/bin/env python3
# gen_history.py — write a deterministic, realistic history of SQLite
# migrations, for the crash campaign (tests/campaigns/crash/) and for benchmarks.
#
# usage: gen_history.py --out DIR [--count N] [--seed S]
#                       [--no-transaction-at K] [--bulk-rows R]
#
#   --out DIR              folder to write (created when missing). Every file
#                          named like a migration (digits, '_', name, '.sql')
#                          that is not part of the new history is removed, so
#                          a folder can be regenerated in place; nothing else
#                          in it is touched. The folder's time stamp is renewed
#                          at the end, so that build tools see it as rewritten.
#   --count N              number of migrations, versions 1..N (default 60),
#                          written as NNNN_name.sql with at least four digits.
#   --seed S               seed of the PRNG (an integer, default 1). The same
#                          arguments give the same bytes on every machine.
#   --no-transaction-at K  make migration K (1..N) a `-- sqlmig:no-transaction`
#                          one: CREATE INDEX IF NOT EXISTS over the table with
#                          the most rows, then VACUUM. It never changes the
#                          journal mode, and it can run again after an
#                          interruption (so a retry resolves one). Default:
#                          none, every migration runs in a transaction.
#   --bulk-rows R          the largest data migrations insert R rows through a
#                          recursive CTE (each draws R/4 to R; default 2000).
#
# The history is that of a growing business application. Migration 1 creates
# an audit log; the others create tables of 5 to 10 columns (some with
# foreign keys, unique codes, CHECK constraints), add columns with ALTER
# TABLE (and backfill them), create and drop indexes (plain, composite,
# partial, expression, unique), triggers with BEGIN ... END (audit, revision
# counters, validation with RAISE), views (filters, aggregates, joins), link
# tables WITHOUT ROWID, insert seed rows and bulk rows, update and delete
# rows, rename and drop columns, drop tables, and rebuild tables with the
# 12-step procedure of sqlite.org/lang_altertable.html (new table, copy,
# drop, rename, then the indexes, triggers and views again).
#
# Every migration is valid against the state the previous ones produce: the
# generator keeps a model of the schema (tables, their columns and what
# refers to each column) and only does what the model allows. Every value
# is computed from a row's id, never from the clock or randomblob(), so two
# databases that applied the same migrations hold the same rows. Work is
# linear in N: each step touches only the objects it changes.
#
# Python 3, standard library only.

import argparse
import datetime
import os
import random
import re
import sys

TABLE_WORDS = [
    "accounts", "customers", "orders", "invoices", "payments", "shipments",
    "products", "suppliers", "warehouses", "employees", "departments",
    "projects", "tasks", "tickets", "messages", "documents", "events",
    "sessions", "devices", "locations", "subscriptions", "coupons", "reviews",
    "categories", "vendors", "contracts", "assets", "budgets", "campaigns",
    "leads", "notes", "reports", "schedules", "teams", "articles", "payouts",
    "refunds", "carts", "regions", "licenses",
]

# Column kinds and the names a column of that kind may take.
COLUMN_WORDS = {
    "text": ["title", "label", "description", "summary", "email", "city",
             "country", "reference", "comment", "display_name", "address"],
    "int": ["quantity", "priority", "score", "rank", "weight", "capacity",
            "position", "level", "attempts", "views"],
    "real": ["amount", "price", "balance", "ratio", "latitude", "longitude",
             "discount", "rate"],
    "flag": ["active", "archived", "verified", "paid", "visible", "flagged"],
    "date": ["created_on", "due_on", "starts_on", "ends_on", "renewed_on",
             "shipped_on"],
    "status": ["status", "state", "stage"],
    "code": ["code", "sku", "slug", "handle", "number"],
    "blob": ["payload", "thumbnail", "signature"],
}
CREATE_KINDS = ["text", "text", "int", "int", "real", "flag", "date", "status", "blob"]
ADD_KINDS = ["text", "int", "real", "flag", "date", "status", "blob"]
PRIMES = [31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101]
DATE_CHECK = "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"
STATUSES = ("new", "active", "done")


class Column:
    def __init__(self, name, kind, rng, notnull=True, parent=None):
        self.name = name
        self.kind = kind
        self.notnull = notnull
        self.parent = parent            # fk: the table it refers to
        self.refs = 0                   # indexes, triggers, views using it
        self.mod = rng.choice([97, 1000, 10007, 65521])
        self.prime = rng.choice(PRIMES)
        self.word = name.replace("_", " ")
        self.on_delete = rng.choice(["CASCADE", "SET NULL"])

    def decl(self):
        """The column's definition, as in CREATE TABLE."""
        n, k = self.name, self.kind
        if k == "id":
            return "INTEGER PRIMARY KEY"
        if k == "int":
            return ("INTEGER NOT NULL DEFAULT 0 CHECK (%s >= 0)" % n) if self.notnull else "INTEGER"
        if k == "real":
            return "REAL NOT NULL DEFAULT 0" if self.notnull else "REAL"
        if k == "text":
            return "TEXT NOT NULL DEFAULT ''" if self.notnull else "TEXT"
        if k == "flag":
            return "INTEGER NOT NULL DEFAULT 0 CHECK (%s IN (0, 1))" % n
        if k == "date":
            nn = " NOT NULL DEFAULT '2021-01-01'" if self.notnull else ""
            return "TEXT%s CHECK (%s GLOB %s)" % (nn, n, DATE_CHECK)
        if k == "status":
            return "TEXT NOT NULL DEFAULT 'new' CHECK (%s IN ('new', 'active', 'done'))" % n
        if k == "code":
            return "TEXT NOT NULL UNIQUE"
        if k == "blob":
            return "BLOB"
        if k == "fk":
            return "INTEGER REFERENCES %s (id) ON DELETE %s" % (self.parent.name, self.on_delete)
        if k == "revision":
            return "INTEGER NOT NULL DEFAULT 0"
        raise ValueError(k)

    def default(self):
        """The value a NOT NULL version of this column defaults to."""
        return {"int": "0", "real": "0", "text": "''", "date": "'2021-01-01'"}[self.kind]

    def expr(self, k):
        """SQL for this column's value in the row whose id is the SQL `k`."""
        kind = self.kind
        if kind == "int":
            return "(%s * %d) %% %d" % (k, self.prime, self.mod)
        if kind == "real":
            return "round((%s * %d) %% %d / 100.0, 2)" % (k, self.prime, self.mod)
        if kind == "text":
            return "'%s ' || %s" % (self.word, k)
        if kind == "flag":
            return "(%s %% %d = 0)" % (k, self.prime % 5 + 2)
        if kind == "date":
            return "date('2021-01-01', '+' || (%s %% 1000) || ' days')" % k
        if kind == "status":
            return "CASE %s %% 3 WHEN 0 THEN 'new' WHEN 1 THEN 'active' ELSE 'done' END" % k
        if kind == "code":
            return "'%s-' || %s" % (self.word.upper()[:3], k)
        if kind == "blob":
            return "zeroblob(%s %% 16)" % k
        if kind == "fk":
            return ("(SELECT p.id FROM %s AS p WHERE p.id <= %s ORDER BY p.id DESC LIMIT 1)"
                    % (self.parent.name, k))
        raise ValueError(kind)

    def literal(self, k):
        """The same kind of value as expr(), written as a literal for row k."""
        kind = self.kind
        if kind == "int":
            return str(k * self.prime % self.mod)
        if kind == "real":
            return "%.2f" % (k * self.prime % self.mod / 100.0)
        if kind == "text":
            return "'%s %d'" % (self.word.replace("'", "''"), k)
        if kind == "flag":
            return "1" if k % (self.prime % 5 + 2) == 0 else "0"
        if kind == "date":
            d = datetime.date(2021, 1, 1) + datetime.timedelta(days=k % 1000)
            return "'%s'" % d.isoformat()
        if kind == "status":
            return "'%s'" % STATUSES[k % 3]
        if kind == "code":
            return "'%s-%d'" % (self.word.upper()[:3], k)
        if kind == "blob":
            return "x'%08x'" % k
        if kind == "fk":
            return self.expr(str(k))
        raise ValueError(kind)


class Table:
    def __init__(self, name, kind):
        self.name = name
        self.kind = kind            # "entity", "log" or "link"
        self.columns = []           # in table order
        self.by_name = {}
        self.checks = []            # table constraints, SQL text
        self.indexes = {}           # name -> (CREATE INDEX text, columns, body)
        self.index_bodies = {}      # "table (terms) WHERE ..." -> name
        self.triggers = {}          # name -> (CREATE TRIGGER text, columns)
        self.trigger_kinds = {}     # "revision", "audit insert", ... -> name
        self.views = []             # View objects that read this table
        self.children = 0           # foreign keys of other tables to this one
        self.next_id = 1
        self.rows = 0               # rows inserted (an upper bound)
        self.without_rowid = False
        self.pk = None              # link tables: PRIMARY KEY (a, b)
        self.has_fk = False         # a column refers to another table

    def add(self, col):
        self.columns.append(col)
        self.by_name[col.name] = col
        self.has_fk = self.has_fk or col.kind == "fk"

    def create_sql(self, name=None):
        cols = self.columns
        width = max(len(c.name) for c in cols)
        lines = ["    %-*s %s" % (width, c.name, c.decl()) for c in cols]
        lines += ["    " + ck for ck in self.checks]
        if self.pk:
            lines.append("    PRIMARY KEY (%s)" % self.pk)
        tail = " WITHOUT ROWID" if self.without_rowid else ""
        return "CREATE TABLE %s (\n%s\n)%s;" % (name or self.name, ",\n".join(lines), tail)


class View:
    def __init__(self, name, sql, tables, columns):
        self.name = name
        self.sql = sql
        self.tables = tables        # Table objects read
        self.columns = columns      # Column objects used


class Pool:
    """Objects to pick from at random: add, remove and pick are O(1), so
    that a long history costs no more per migration than a short one."""

    def __init__(self):
        self.items = []

    def __len__(self):
        return len(self.items)

    def add(self, x):
        x.slot = len(self.items)
        self.items.append(x)

    def remove(self, x):
        last = self.items.pop()
        if last is not x:
            self.items[x.slot] = last
            last.slot = x.slot

    def pick(self, rng, want=None, tries=24):
        """A random item for which want(item) holds, or None after `tries`
        draws that all missed (the caller then does something else)."""
        for _ in range(tries if self.items else 0):
            x = rng.choice(self.items)
            if want is None or want(x):
                return x
        return None


class History:
    def __init__(self, rng, bulk_rows):
        self.rng = rng
        self.bulk_rows = bulk_rows
        self.ents = Pool()          # entity tables
        self.links = Pool()         # link tables
        self.views = Pool()
        self.names = {}             # every name ever used -> next suffix
        self.audit = None
        self.biggest = None         # the table with the most rows inserted

    # ---- names ----------------------------------------------------------

    def unique(self, base):
        """A schema name never used before: base, else base_2, base_3, ..."""
        if base not in self.names:
            self.names[base] = 2
            return base
        while True:
            n = self.names[base]
            self.names[base] = n + 1
            name = "%s_%d" % (base, n)
            if name not in self.names:
                self.names[name] = 2
                return name

    def column_name(self, table, kind):
        base = self.rng.choice(COLUMN_WORDS[kind])
        name, n = base, 2
        while name in table.by_name:
            name = "%s_%d" % (base, n)
            n += 1
        return name

    # ---- picking --------------------------------------------------------

    def entity(self, want=None):
        return self.ents.pick(self.rng, want)

    def free_columns(self, t):
        """Columns that nothing refers to and that carry no key."""
        return [c for c in t.columns
                if c.refs == 0 and c.kind not in ("id", "code", "fk", "revision")]

    # ---- pieces of SQL --------------------------------------------------

    def grew(self, t, count):
        t.rows += count
        if self.biggest is None or t.rows > self.biggest.rows:
            self.biggest = t

    def insert_rows(self, t, count):
        """A seed INSERT of `count` literal rows; returns the SQL."""
        cols = [c for c in t.columns if c.kind != "revision"]
        rows = []
        for _ in range(count):
            k = t.next_id
            t.next_id += 1
            vals = [str(k) if c.kind == "id" else c.literal(k) for c in cols]
            rows.append("    (%s)" % ", ".join(vals))
        self.grew(t, count)
        return "INSERT INTO %s (%s) VALUES\n%s;" % (
            t.name, ", ".join(c.name for c in cols), ",\n".join(rows))

    def bulk_insert(self, t, count):
        cols = [c for c in t.columns if c.kind != "revision"]
        first = t.next_id
        last = first + count - 1
        t.next_id = last + 1
        self.grew(t, count)
        exprs = ["k" if c.kind == "id" else c.expr("k") for c in cols]
        return ("WITH RECURSIVE seq(k) AS (\n"
                "    SELECT %d\n"
                "    UNION ALL\n"
                "    SELECT k + 1 FROM seq WHERE k < %d\n"
                ")\n"
                "INSERT INTO %s (%s)\n"
                "SELECT %s\n"
                "  FROM seq;" % (first, last, t.name, ", ".join(c.name for c in cols),
                                 ",\n       ".join(exprs)))

    def add_index(self, t, cols, unique=False, where=None, exprs=None, also=()):
        """Create and record an index over cols (Column objects), whose
        WHERE clause may use the columns `also`; returns (name, SQL)."""
        terms = exprs or [c.name for c in cols]
        body = "%s (%s)%s" % (t.name, ", ".join(terms), " WHERE " + where if where else "")
        if body in t.index_bodies:
            return None     # the same index under another name helps nobody
        name = self.unique("%s_%s" % (t.name, "_".join(c.name for c in cols)))
        sql = "CREATE %sINDEX %s ON %s;" % ("UNIQUE " if unique else "", name, body)
        used = list(cols) + list(also)
        for c in used:
            c.refs += 1
        t.indexes[name] = (sql, used, body)
        t.index_bodies[body] = name
        return name, sql

    def index_for(self, t):
        """A realistic index on t as (name, SQL), or None when t has
        nothing to index."""
        rng = self.rng
        cand = [c for c in t.columns if c.kind in ("int", "real", "date", "status", "fk", "flag", "text")]
        if not cand:
            return None
        c = rng.choice(cand)
        r = rng.random()
        if c.kind == "date" and r < 0.4:
            return self.add_index(t, [c], where="%s IS NOT NULL" % c.name)
        if c.kind == "text" and r < 0.5:
            return self.add_index(t, [c], exprs=["lower(%s)" % c.name])
        if c.kind == "status" and r < 0.6:
            other = [d for d in cand if d.kind in ("date", "int", "real") and d is not c]
            if other:
                return self.add_index(t, [c, rng.choice(other)])
        flags = [d for d in t.columns if d.kind == "flag" and d is not c]
        if flags and r < 0.3:
            f = rng.choice(flags)
            return self.add_index(t, [c], where="%s = 1" % f.name, also=[f])
        codes = [d for d in t.columns if d.kind == "code"]
        if codes and r > 0.85:
            d = codes[0]
            return self.add_index(t, [d], unique=True, exprs=["lower(%s)" % d.name])
        return self.add_index(t, [c])

    def drop_views_of(self, t, out):
        """DROP VIEW every view that reads t; returns them for re-creation."""
        views = list(t.views)
        for v in views:
            out.append("DROP VIEW %s;" % v.name)
        return views

    def forget_view(self, v):
        self.views.remove(v)
        for t in v.tables:
            t.views.remove(v)
        for c in v.columns:
            c.refs -= 1

    # ---- operations: each returns (name, comment, statements) or None ----

    def op_audit_log(self):
        t = Table(self.unique("audit_log"), "log")
        rng = self.rng
        t.add(Column("id", "id", rng))
        t.add(Column("table_name", "text", rng))
        t.add(Column("row_id", "int", rng, notnull=False))
        t.add(Column("action", "text", rng))
        t.add(Column("note", "text", rng, notnull=False))
        self.audit = t
        sql = ("CREATE TABLE %s (\n"
               "    id         INTEGER PRIMARY KEY,\n"
               "    table_name TEXT NOT NULL,\n"
               "    row_id     INTEGER,\n"
               "    action     TEXT NOT NULL CHECK (action IN ('insert', 'update', 'delete')),\n"
               "    note       TEXT\n"
               ");" % t.name)
        idx = self.add_index(t, [t.by_name["table_name"], t.by_name["row_id"]])[1]
        return ("create_" + t.name,
                "Every change the triggers of later migrations record lands in one log.",
                [sql, idx])

    def op_create_table(self):
        rng = self.rng
        base = rng.choice(TABLE_WORDS)
        t = Table(self.unique(base), "entity")
        t.add(Column("id", "id", rng))
        ncols = rng.randint(5, 10)
        if rng.random() < 0.5:
            t.add(Column(self.column_name(t, "code"), "code", rng))
        p = self.entity() if rng.random() < 0.5 else None
        if p:
            c = Column(p.name + "_id", "fk", rng, notnull=False, parent=p)
            c.refs += 1         # a foreign key: kept through every change
            t.add(c)
            p.children += 1
        while len(t.columns) < ncols:
            kind = rng.choice(CREATE_KINDS)
            t.add(Column(self.column_name(t, kind), kind, rng, notnull=rng.random() < 0.7))
        self.ents.add(t)
        stmts = [t.create_sql()]
        if rng.random() < 0.6:
            idx = self.index_for(t)
            if idx:
                stmts.append(idx[1])
        if rng.random() < 0.4:
            stmts.append(self.insert_rows(t, rng.randint(2, 6)))
        return ("create_" + t.name, "%s: the application's %s." % (t.name.capitalize(), t.name.replace("_", " ")),
                stmts)

    def op_add_column(self):
        rng = self.rng
        t = self.entity()
        if not t:
            return None
        kind = rng.choice(ADD_KINDS)
        # A foreign key goes only on small tables: PRAGMA foreign_key_check
        # reads every child row at each commit.
        p = self.entity(lambda x: x is not t) if t.rows <= 200 and rng.random() < 0.2 else None
        if p:
            name = p.name + "_id"
            if name not in t.by_name:
                c = Column(name, "fk", rng, notnull=False, parent=p)
                c.on_delete = "SET NULL"
                c.refs += 1
                t.add(c)
                p.children += 1
                stmts = ["ALTER TABLE %s ADD COLUMN %s %s;" % (t.name, c.name, c.decl())]
                if t.rows:
                    stmts.append("UPDATE %s SET %s = %s WHERE %s IS NULL;"
                                 % (t.name, c.name, c.expr(t.name + ".id"), c.name))
                return ("add_%s_to_%s" % (c.name, t.name),
                        "Each row of %s may point at a row of %s." % (t.name, p.name), stmts)
        c = Column(self.column_name(t, kind), kind, rng, notnull=rng.random() < 0.5)
        t.add(c)
        stmts = ["ALTER TABLE %s ADD COLUMN %s %s;" % (t.name, c.name, c.decl())]
        if t.rows and rng.random() < 0.7:
            nullable = "NOT NULL" not in c.decl()
            stmts.append("UPDATE %s SET %s = %s%s;" % (t.name, c.name, c.expr("id"),
                         " WHERE %s IS NULL" % c.name if nullable else ""))
        if rng.random() < 0.3 and kind != "blob":
            stmts.append(self.add_index(t, [c])[1])     # a new column: never indexed yet
        return ("add_%s_to_%s" % (c.name, t.name),
                "%s gets a %s column%s." % (t.name.capitalize(), c.name,
                                            ", backfilled from existing rows" if len(stmts) > 1 else ""),
                stmts)

    def op_create_index(self):
        t = self.entity()
        idx = self.index_for(t) if t else None
        if not idx:
            return None
        return ("index_" + idx[0], "Queries on %s filter by these columns." % t.name, [idx[1]])

    def op_seed(self):
        t = self.entity()
        if not t:
            return None
        return ("seed_" + t.name, "Reference rows every installation needs.",
                [self.insert_rows(t, self.rng.randint(3, 8))])

    def op_bulk(self):
        # Only tables without foreign keys: their rows cost nothing at commit.
        t = self.entity(lambda x: not x.has_fk)
        if not t:
            return None
        n = self.rng.randint(max(1, self.bulk_rows // 4), max(1, self.bulk_rows))
        return ("load_" + t.name, "Import %d historical rows into %s." % (n, t.name),
                [self.bulk_insert(t, n)])

    def op_update(self):
        rng = self.rng
        t = self.entity(lambda x: x.rows > 0)
        if not t:
            return None
        cols = [c for c in t.columns if c.kind in ("int", "real", "text", "flag", "date", "status", "fk")]
        if not cols:
            return None
        c = rng.choice(cols)
        m = rng.randint(2, 9)
        sql = "UPDATE %s SET %s = %s WHERE id %% %d = %d;" % (
            t.name, c.name, c.expr("(%s.id + %d)" % (t.name, rng.randint(1, 99))), m, rng.randrange(m))
        return ("update_%s_%s" % (t.name, c.name), "Correct %s in part of %s." % (c.name, t.name), [sql])

    def op_delete(self):
        t = self.entity(lambda x: x.rows > 0 and x.children == 0)
        if not t:
            return None
        m = self.rng.randint(7, 19)
        return ("purge_" + t.name, "Remove obsolete rows of %s." % t.name,
                ["DELETE FROM %s WHERE id %% %d = %d;" % (t.name, m, self.rng.randrange(m))])

    def op_trigger(self):
        rng = self.rng
        t = self.entity()
        if not t:
            return None
        kinds = [k for k in ("audit insert", "audit delete", "revision") if k not in t.trigger_kinds]
        kinds += ["check " + c.name for c in t.columns
                  if c.kind == "int" and "check " + c.name not in t.trigger_kinds]
        if not kinds:
            return None
        kind = rng.choice(kinds)
        stmts = []
        if kind.startswith("audit"):
            action = kind.split()[1]
            row = "NEW" if action == "insert" else "OLD"
            name = self.unique("%s_audit_%s" % (t.name, action))
            sql = ("CREATE TRIGGER %s\n"
                   "AFTER %s ON %s\n"
                   "FOR EACH ROW\n"
                   "BEGIN\n"
                   "    INSERT INTO %s (table_name, row_id, action)\n"
                   "    VALUES ('%s', %s.id, '%s');\n"
                   "END;" % (name, action.upper(), t.name, self.audit.name, t.name, row, action))
            used = [t.by_name["id"]]
            comment = "Record every %s on %s in the audit log." % (action, t.name)
        elif kind == "revision":
            rev = t.by_name.get("revision")
            if rev is None:
                rev = Column("revision", "revision", rng)
                t.add(rev)
                stmts.append("ALTER TABLE %s ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;" % t.name)
            name = self.unique("%s_bump_revision" % t.name)
            sql = ("CREATE TRIGGER %s\n"
                   "AFTER UPDATE ON %s\n"
                   "FOR EACH ROW WHEN NEW.revision = OLD.revision\n"
                   "BEGIN\n"
                   "    UPDATE %s SET revision = OLD.revision + 1 WHERE id = NEW.id;\n"
                   "END;" % (name, t.name, t.name))
            used = [t.by_name["id"], rev]
            comment = "Count the changes to each row of %s, for optimistic locking." % t.name
        else:
            c = t.by_name[kind.split()[1]]
            name = self.unique("%s_check_%s" % (t.name, c.name))
            sql = ("CREATE TRIGGER %s\n"
                   "BEFORE INSERT ON %s\n"
                   "FOR EACH ROW WHEN NEW.%s >= %d\n"
                   "BEGIN\n"
                   "    SELECT RAISE(ABORT, '%s: %s out of range');\n"
                   "END;" % (name, t.name, c.name, c.mod, t.name, c.name))
            used = [c]
            comment = "Refuse out-of-range %s values in %s." % (c.name, t.name)
        for c in used:
            c.refs += 1
        t.triggers[name] = (sql, used)
        t.trigger_kinds[kind] = name
        stmts.append(sql)
        return (name, comment, stmts)

    def op_view(self):
        rng = self.rng
        t = self.entity()
        if not t:
            return None
        fks = [c for c in t.columns if c.kind == "fk"]
        plain = [c for c in t.columns if c.kind in ("text", "int", "real", "date", "status", "code")]
        if fks and plain and rng.random() < 0.5:
            fk = rng.choice(fks)
            p = fk.parent
            pcols = [c for c in p.columns if c.kind in ("text", "code", "status", "date")] or [p.by_name["id"]]
            pc = rng.choice(pcols)
            c = rng.choice(plain)
            name = self.unique("%s_with_%s" % (t.name, p.name))
            sql = ("CREATE VIEW %s AS\n"
                   "SELECT c.id AS id,\n"
                   "       c.%s AS %s,\n"
                   "       p.%s AS %s_%s\n"
                   "  FROM %s AS c\n"
                   "  LEFT JOIN %s AS p ON p.id = c.%s;"
                   % (name, c.name, c.name, pc.name, p.name, pc.name, t.name, p.name, fk.name))
            v = View(name, sql, [t, p], [t.by_name["id"], c, fk, pc, p.by_name["id"]])
            comment = "%s with the %s of their %s row." % (t.name.capitalize(), pc.name, p.name)
        else:
            statuses = [c for c in t.columns if c.kind in ("status", "flag")]
            nums = [c for c in t.columns if c.kind in ("int", "real")]
            if statuses and nums and rng.random() < 0.5:
                s, n = rng.choice(statuses), rng.choice(nums)
                name = self.unique("%s_by_%s" % (t.name, s.name))
                sql = ("CREATE VIEW %s AS\n"
                       "SELECT %s, count(*) AS n, sum(%s) AS total_%s\n"
                       "  FROM %s\n"
                       " GROUP BY %s;" % (name, s.name, n.name, n.name, t.name, s.name))
                v = View(name, sql, [t], [s, n])
                comment = "Totals of %s per %s, for the dashboard." % (t.name, s.name)
            else:
                cols = [t.by_name["id"]] + rng.sample(plain, min(len(plain), 3)) if plain else [t.by_name["id"]]
                name = self.unique("recent_%s" % t.name)
                sql = ("CREATE VIEW %s AS\n"
                       "SELECT %s\n"
                       "  FROM %s\n"
                       " WHERE id > 0\n"
                       " ORDER BY id DESC\n"
                       " LIMIT 100;" % (name, ", ".join(c.name for c in cols), t.name))
                v = View(name, sql, [t], cols)
                comment = "The latest %s first." % t.name
        self.views.add(v)
        for x in v.tables:
            x.views.append(v)
        for c in v.columns:
            c.refs += 1
        return (name, comment, [sql])

    def op_link(self):
        rng = self.rng
        a = self.entity()
        b = self.entity(lambda x: x is not a) if a else None
        if not b:
            return None
        t = Table(self.unique("%s_%s" % (a.name, b.name)), "link")
        ca = Column(a.name + "_id", "fk", rng, parent=a)
        cb = Column(b.name + "_id", "fk", rng, parent=b)
        ca.on_delete = cb.on_delete = "CASCADE"
        for c in (ca, cb):
            c.refs += 1
            t.add(c)
        a.children += 1
        b.children += 1
        t.pk = "%s, %s" % (ca.name, cb.name)
        t.without_rowid = True
        self.links.add(t)
        # decl() of a NOT NULL foreign key
        sql = ("CREATE TABLE %s (\n"
               "    %s INTEGER NOT NULL REFERENCES %s (id) ON DELETE CASCADE,\n"
               "    %s INTEGER NOT NULL REFERENCES %s (id) ON DELETE CASCADE,\n"
               "    PRIMARY KEY (%s, %s)\n"
               ") WITHOUT ROWID;" % (t.name, ca.name, a.name, cb.name, b.name, ca.name, cb.name))
        idx = self.add_index(t, [cb])[1]
        fill = ("INSERT OR IGNORE INTO %s (%s, %s)\n"
                "SELECT x.id, y.id\n"
                "  FROM (SELECT id FROM %s ORDER BY id LIMIT 20) AS x\n"
                "  JOIN (SELECT id FROM %s ORDER BY id LIMIT 20) AS y ON (x.id + y.id) %% 3 = 0;"
                % (t.name, ca.name, cb.name, a.name, b.name))
        t.rows = 400
        return ("link_%s_%s" % (a.name, b.name),
                "Many-to-many between %s and %s, filled from the first rows of each." % (a.name, b.name),
                [sql, idx, fill])

    def op_drop_column(self):
        t = self.entity(self.free_columns)
        if not t:
            return None
        c = self.rng.choice(self.free_columns(t))
        t.columns.remove(c)
        del t.by_name[c.name]
        return ("drop_%s_from_%s" % (c.name, t.name), "Nothing reads %s.%s any more." % (t.name, c.name),
                ["ALTER TABLE %s DROP COLUMN %s;" % (t.name, c.name)])

    def op_rename_column(self):
        t = self.entity(self.free_columns)
        if not t:
            return None
        c = self.rng.choice(self.free_columns(t))
        old = c.name
        new = self.column_name(t, c.kind) if c.kind in COLUMN_WORDS else old + "_v2"
        while new in t.by_name:
            new += "_v2"
        del t.by_name[old]
        c.name = new
        t.by_name[new] = c
        return ("rename_%s_%s" % (t.name, old), "%s.%s is called %s from now on." % (t.name, old, new),
                ["ALTER TABLE %s RENAME COLUMN %s TO %s;" % (t.name, old, new)])

    def op_drop_index(self):
        t = self.entity(lambda x: x.indexes)
        if not t:
            return None
        name = self.rng.choice(list(t.indexes))
        sql, cols, body = t.indexes.pop(name)
        del t.index_bodies[body]
        for c in cols:
            c.refs -= 1
        return ("drop_" + name, "No query uses %s any more." % name, ["DROP INDEX %s;" % name])

    def op_drop_view(self):
        v = self.views.pick(self.rng)
        if not v:
            return None
        self.forget_view(v)
        return ("drop_" + v.name, "The %s view is no longer used." % v.name, ["DROP VIEW %s;" % v.name])

    def op_drop_table(self):
        pool = self.links if self.rng.random() < 0.3 else self.ents
        t = pool.pick(self.rng, lambda x: x.children == 0)
        if not t:
            return None
        stmts = []
        for v in self.drop_views_of(t, stmts):
            self.forget_view(v)
        for c in t.columns:
            if c.kind == "fk":
                c.parent.children -= 1
        pool.remove(t)
        if self.biggest is t:
            self.biggest = None     # the next insert names another one
        stmts.append("DROP TABLE %s;" % t.name)
        return ("drop_" + t.name, "%s is retired." % t.name.capitalize(), stmts)

    def op_rebuild(self):
        """SQLite's 12-step table rebuild, for changes ALTER TABLE cannot make."""
        rng = self.rng
        t = self.entity()
        if not t:
            return None
        changes = []
        free = self.free_columns(t)
        if free and rng.random() < 0.4:
            c = rng.choice(free)
            t.columns.remove(c)
            del t.by_name[c.name]
            changes.append("drop %s" % c.name)
        loose = [c for c in t.columns if not c.notnull and c.kind in ("int", "real", "text", "date")]
        copy = {}
        if loose and rng.random() < 0.6:
            c = rng.choice(loose)
            c.notnull = True
            copy[c.name] = "coalesce(%s, %s)" % (c.name, c.default())
            changes.append("make %s NOT NULL" % c.name)
        ints = [c for c in t.columns if c.kind == "int" and c.notnull]
        if ints and rng.random() < 0.4:
            c = rng.choice(ints)
            ck = "CHECK (%s < %d)" % (c.name, c.mod)
            if ck not in t.checks:
                t.checks.append(ck)
                c.refs += 1
                changes.append("bound %s" % c.name)
        if not changes or rng.random() < 0.3:
            c = Column(self.column_name(t, "code"), "code", rng)
            copy[c.name] = c.expr("id")
            t.add(c)
            changes.append("add the unique %s" % c.name)
        new = "new_" + t.name
        stmts = []
        views = self.drop_views_of(t, stmts)
        stmts.append(t.create_sql(new))
        cols = [c for c in t.columns]
        stmts.append("INSERT INTO %s (%s)\nSELECT %s\n  FROM %s;" % (
            new, ", ".join(c.name for c in cols),
            ", ".join(copy.get(c.name, c.name) for c in cols), t.name))
        stmts.append("DROP TABLE %s;" % t.name)
        stmts.append("ALTER TABLE %s RENAME TO %s;" % (new, t.name))
        stmts += [x[0] for x in t.indexes.values()]
        stmts += [x[0] for x in t.triggers.values()]
        stmts += [v.sql for v in views]
        return ("rebuild_" + t.name,
                "%s: %s.\n"
                "-- ALTER TABLE cannot do this, so the table is rebuilt with SQLite's 12-step\n"
                "-- procedure: new table, copy, drop, rename, then its indexes, triggers and\n"
                "-- views again." % (t.name.capitalize(), ", ".join(changes)),
                stmts)

    def op_no_transaction(self):
        """CREATE INDEX over the biggest table, then VACUUM: both may run again."""
        t = self.biggest or self.entity() or self.audit
        if not t:
            # Nothing to index yet: the audit log comes first then, created
            # so that a second run finds it there.
            op = self.op_audit_log()
            sql = op[2][0].replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1)
            idx = op[2][1].replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1)
            return (op[0], op[1], [sql, idx, "VACUUM;"])
        cols = [c for c in t.columns if c.kind in ("int", "real", "date", "status", "text")] or [t.by_name["id"]]
        self.rng.shuffle(cols)
        for c in cols:
            idx = self.add_index(t, [c, t.by_name["id"]])
            if idx:
                break
        if not idx:
            idx = self.add_index(t, [t.by_name["id"]], exprs=["-id"])
        name, sql = idx
        return ("index_%s_and_vacuum" % name,
                "Built outside a transaction: the index covers %d+ rows of %s, and VACUUM\n"
                "-- afterwards gives back the pages the earlier rebuilds freed. Both may run\n"
                "-- again after an interruption (IF NOT EXISTS)." % (t.rows, t.name),
                [sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1), "VACUUM;"])


OPS = [
    ("create_table", 14), ("add_column", 13), ("create_index", 11), ("seed", 9),
    ("bulk", 9), ("update", 8), ("trigger", 9), ("view", 7), ("rebuild", 7),
    ("drop_column", 3), ("rename_column", 3), ("delete", 3), ("link", 3),
    ("drop_index", 2), ("drop_view", 2), ("drop_table", 2),
]


def generate(count, seed, notx_at, bulk_rows):
    """The history as a list of (file name, text)."""
    rng = random.Random(seed)
    h = History(rng, bulk_rows)
    names = [n for n, _ in OPS]
    weights = [w for _, w in OPS]
    width = max(4, len(str(count)))
    files = []
    for v in range(1, count + 1):
        if v == notx_at:
            op = h.op_no_transaction()
            head = "-- sqlmig:no-transaction\n"
        elif v == 1:
            op = h.op_audit_log()
            head = ""
        else:
            op = None
            if len(h.ents) < 2:
                op = h.op_create_table()
            while op is None:
                op = getattr(h, "op_" + rng.choices(names, weights)[0])()
            head = ""
        name, comment, stmts = op
        slug = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")[:60] or "change"
        text = "%s-- %s\n\n%s\n" % (head, comment, "\n\n".join(stmts))
        files.append(("%0*d_%s.sql" % (width, v, slug), text))
    return files


def write(out, files):
    os.makedirs(out, exist_ok=True)
    keep = {name for name, _ in files}
    pattern = re.compile(r"^[0-9]+_.+\.sql$")
    for entry in sorted(os.listdir(out)):
        if pattern.match(entry) and entry not in keep:
            os.remove(os.path.join(out, entry))
    for name, text in files:
        path = os.path.join(out, name)
        data = text.encode("ascii")
        try:
            with open(path, "rb") as f:
                if f.read() == data:
                    continue
        except FileNotFoundError:
            pass
        with open(path, "wb") as f:
            f.write(data)
    os.utime(out)


def main(argv):
    ap = argparse.ArgumentParser(description="Write a deterministic history of SQLite migrations.")
    ap.add_argument("--out", required=True, help="folder to write")
    ap.add_argument("--count", type=int, default=60, help="number of migrations (default 60)")
    ap.add_argument("--seed", type=int, default=1, help="PRNG seed (default 1)")
    ap.add_argument("--no-transaction-at", type=int, default=0, metavar="K",
                    help="make migration K a no-transaction one (default: none)")
    ap.add_argument("--bulk-rows", type=int, default=2000, metavar="R",
                    help="rows of the largest data migrations (default 2000)")
    a = ap.parse_args(argv)
    if a.count < 1:
        ap.error("--count must be at least 1")
    if a.no_transaction_at and not 1 <= a.no_transaction_at <= a.count:
        ap.error("--no-transaction-at must be between 1 and --count")
    if a.bulk_rows < 1:
        ap.error("--bulk-rows must be at least 1")
    write(a.out, generate(a.count, a.seed, a.no_transaction_at, a.bulk_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
