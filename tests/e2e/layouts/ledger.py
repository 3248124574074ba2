#!/usr/bin/env python3
"""Write into DB the ledger that LAYOUT's own tool leaves after migrating DIR,
in the shape that tool gives it in SQLite (docs/adopting.md describes each):
used where the tool itself does not install here. dbmate and Drizzle, when
they ran for real, left theirs already; it is kept.

Usage: ledger.py LAYOUT DIR DB [--placeholder NAME=VALUE ...]"""
import hashlib
import json
import os
import re
import sqlite3
import sys
import zlib

layout, folder, path = sys.argv[1:4]
db = sqlite3.connect(path, isolation_level=None)


def has(table):
    return db.execute("SELECT count(*) FROM sqlite_schema WHERE name = ?", (table,)).fetchone()[0] > 0


def data(name):
    with open(os.path.join(folder, name), "rb") as f:
        return f.read()


def flyway_crc(raw):
    """CRC-32 of the lines without their ends, BOM left out, as a signed int."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    crc = 0
    for line in re.split(rb"\r\n|\r|\n", raw):
        crc = zlib.crc32(line, crc)
    return crc - (1 << 32) if crc >= 1 << 31 else crc


names = sorted(os.listdir(folder))
if layout == "sqlx":
    db.execute("CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, "
               "installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, "
               "checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)")
    for n in names:
        m = re.match(r"^(\d+)_(.*?)(\.up)?\.sql$", n)
        if m and not n.endswith(".down.sql"):
            db.execute("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) "
                       "VALUES (?, ?, 1, ?, 7)", (int(m.group(1)), m.group(2).replace("_", " "),
                                                  hashlib.sha384(data(n)).digest()))
elif layout == "golang-migrate":
    versions = [int(re.match(r"^(\d+)_", n).group(1)) for n in names if re.match(r"^\d+_.*\.up\.", n)]
    db.execute("CREATE TABLE schema_migrations (version uint64, dirty bool)")
    db.execute("CREATE UNIQUE INDEX version_unique ON schema_migrations (version)")
    db.execute("INSERT INTO schema_migrations VALUES (?, 0)", (max(versions),))
elif layout == "goose":
    db.execute("CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, "
               "is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')))")
    db.execute("INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1)")
    for n in names:
        m = re.match(r"^(\d+)_.*\.sql$", n)
        if m:
            db.execute("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)", (int(m.group(1)),))
elif layout == "diesel":
    db.execute("CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, "
               "run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)")
    for n in names:
        m = re.match(r"^([0-9][0-9-]*)(_.*)?$", n)
        if m and os.path.isfile(os.path.join(folder, n, "up.sql")):
            db.execute("INSERT INTO __diesel_schema_migrations (version) VALUES (?)", (m.group(1).replace("-", ""),))
elif layout == "dbmate" and not has("schema_migrations"):
    db.execute("CREATE TABLE schema_migrations (version varchar(128) primary key)")
    for n in names:
        m = re.match(r"^(\d+).*\.sql$", n)
        if m:
            db.execute("INSERT INTO schema_migrations VALUES (?)", (m.group(1),))
elif layout == "drizzle" and not has("__drizzle_migrations"):
    db.execute("CREATE TABLE __drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)")
    with open(os.path.join(folder, "meta", "_journal.json")) as f:
        for e in json.load(f)["entries"]:
            db.execute("INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)",
                       (hashlib.sha256(data(e["tag"] + ".sql")).hexdigest(), e["when"]))
elif layout == "flyway":
    db.execute("CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), "
               "description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, "
               "checksum INT, installed_by VARCHAR(100) NOT NULL, installed_on TEXT NOT NULL DEFAULT "
               "(strftime('%Y-%m-%d %H:%M:%f','now')), execution_time INT NOT NULL, success BOOLEAN NOT NULL)")
    db.execute("CREATE INDEX flyway_schema_history_s_idx ON flyway_schema_history (success)")
    scripts = []
    for top, dirs, files in os.walk(folder):
        for n in files:
            scripts.append(os.path.relpath(os.path.join(top, n), folder))

    def parts(script):
        v = re.match(r"^V([0-9._]+)__", os.path.basename(script)).group(1)
        p = [int(x) for x in re.split(r"[._]", v)]
        while len(p) > 1 and p[-1] == 0:
            p.pop()
        return p
    versioned = sorted((s for s in scripts if re.match(r"^V[0-9._]+__.*\.sql$", os.path.basename(s))), key=parts)
    repeatable = sorted(s for s in scripts if re.match(r"^R__.*\.sql$", os.path.basename(s)))
    for rank, s in enumerate(versioned + repeatable, 1):
        base = os.path.basename(s)
        m = re.match(r"^V([0-9._]+)__(.*)\.sql$", base)
        version, desc = (m.group(1).replace("_", "."), m.group(2)) if m else (None, base[3:-4])
        db.execute("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, "
                   "installed_by, execution_time, success) VALUES (?, ?, ?, 'SQL', ?, ?, 'app', 3, 1)",
                   (rank, version, desc.replace("_", " "), s, flyway_crc(data(s))))
db.close()
