#!/usr/bin/env python3
# cli_scripts.py — the sqlite3 CLI baselines of the benchmarks, written from
# a migrations folder (the same files `sqlmig compile` embeds):
#
#   cli_scripts.py DIR OUTDIR
#
# writes into OUTDIR:
#   each.sql      the ledger created as sqlmig creates it (CREATE_LEDGER in
#                 runtime/sqlmig.c), then per migration, in version order:
#                 BEGIN IMMEDIATE; <its SQL>; INSERT INTO schema_migrations
#                 (… the row sqlmig writes, INSERT_ROW …); COMMIT;
#   batch.sql     the same in one BEGIN IMMEDIATE … COMMIT
#   first.sql     the ledger and the first migration only, as in each.sql:
#                 the database at version 1 that an upgrade starts from
#   rest.sql      the other migrations as in each.sql (the upgrade)
#   each_wal.sql, batch_wal.sql, first_wal.sql   the same after
#                 PRAGMA journal_mode=WAL (rest.sql finds WAL in the file)
#   concat.sql    the files alone, concatenated in version order (the replay
#                 that `sqlmig compile` does, into :memory:)
#   sizes         "files=N bytes=B": the number of migrations and of SQL bytes
#
# The checksum column holds what sqlmig stores: the SHA-256 of the file with
# every CRLF read as LF. execution_ms is 0 (the CLI does not time each one).
# Python 3, standard library only.

import hashlib
import os
import re
import sys

LEDGER = ('CREATE TABLE IF NOT EXISTS main."schema_migrations"(version INTEGER PRIMARY KEY, '
          'name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL, '
          'execution_ms INTEGER NOT NULL);\n')
NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
NAME = re.compile(r"^([0-9]+)_(.+?)(\.up)?\.sql$")


def migrations(folder):
    found = []
    for entry in os.listdir(folder):
        m = NAME.match(entry)
        if m and not entry.endswith(".down.sql"):
            found.append((int(m.group(1)), m.group(2), entry))
    found.sort()
    for version, name, entry in found:
        with open(os.path.join(folder, entry), "rb") as f:
            data = f.read()
        yield version, name, data


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: cli_scripts.py DIR OUTDIR\n")
        return 2
    folder, out = argv
    os.makedirs(out, exist_ok=True)
    each, batch, concat = [LEDGER], [LEDGER, "BEGIN IMMEDIATE;\n"], []
    first = None
    count = size = 0
    for version, name, data in migrations(folder):
        text = data.decode("utf-8")
        checksum = hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest()
        row = ("INSERT INTO main.\"schema_migrations\"(version, execution_ms, name, checksum, "
               "applied_at) VALUES(%d, 0, '%s', '%s', %s);\n"
               % (version, name.replace("'", "''"), checksum, NOW))
        # A last line that is a comment must not swallow what follows.
        body = text if text.endswith("\n") else text + "\n"
        each += ["BEGIN IMMEDIATE;\n", body, ";\n", row, "COMMIT;\n"]
        if first is None:
            first = len(each)
        batch += [body, ";\n", row]
        concat += [body]
        count += 1
        size += len(data)
    batch.append("COMMIT;\n")
    scripts = {"each.sql": each, "batch.sql": batch, "concat.sql": concat,
               "first.sql": each[:first], "rest.sql": each[first:],
               "first_wal.sql": ["PRAGMA journal_mode=WAL;\n"] + each[:first],
               "each_wal.sql": ["PRAGMA journal_mode=WAL;\n"] + each,
               "batch_wal.sql": ["PRAGMA journal_mode=WAL;\n"] + batch}
    for name, parts in scripts.items():
        with open(os.path.join(out, name), "w", encoding="utf-8", newline="") as f:
            f.write("".join(parts))
    with open(os.path.join(out, "sizes"), "w") as f:
        f.write("files=%d bytes=%d\n" % (count, size))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
