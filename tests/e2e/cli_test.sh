#!/usr/bin/env bash
# The sqlmig command over live database files: status (text and JSON), up,
# down, verify (text and JSON), repair, adopt (found from the schema, from
# user_version), resolve, reset, dry runs, exit codes, one-line usage errors and
# --help per command. Output is not a terminal here: no progress lines, no
# colour.
# Usage: cli_test.sh SQLMIG SOURCE_ROOT   (prints TAP)
set -u
sqlmig=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$2
rev=$src/tests/fixtures/reversible/migrations
adopt=$src/tests/fixtures/adopt/migrations
demo=$src/migrations
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2

. "$src/tests/helpers/tap.sh"

run() { # expected-status command...: stdout in out, stderr in err
    local want=$1
    shift
    "$sqlmig" "$@" > out 2> err
    got=$?
    [ "$got" = "$want" ]
}
q() { python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$@"; }

run 1 status a.db --dir "$rev" && grep -q "no such file; \`sqlmig up\` creates it" err
ok $? "status of a missing file: exit 1, and what to do: $(cat err)"
run 0 up a.db --dir "$rev" && [ "$(cat out)" = "version 0 -> 6, 6 applied" ]
ok $? "up creates and migrates: $(cat out)"
run 0 status a.db --dir "$rev" && [ "$(grep -c '^applied ' out)" = 6 ] && tail -n 1 out | grep -q "^version 6, 0 pending"
ok $? "status lists every migration applied: $(tail -n 1 out)"
run 0 status a.db --dir "$rev" --json &&
    python3 -c 'import json, sys; d = json.load(open("out")); sys.exit(not (d["version"] == 6 and d["pending"] == 0 and len(d["migrations"]) == 6 and d["migrations"][5]["state"] == "applied" and d["ok"]))'
ok $? "status --json: valid JSON with version, pending and every migration"
run 0 verify a.db --dir "$rev" && grep -q "^version 6, verified" out
ok $? "verify: exit 0: $(cat out)"

run 0 down a.db --dir "$rev" && [ "$(cat out)" = "version 6 -> 5, 1 rolled back" ]
ok $? "down without --to rolls back the newest one: $(cat out)"
run 0 down a.db --dir "$rev" --to 2 --dry-run && [ "$(cat out)" = "version 5 -> 2, 3 to roll back (dry run)" ] &&
    [ "$(q a.db 'SELECT max(version) FROM schema_migrations')" = 5 ]
ok $? "down --dry-run says the plan and changes nothing: $(cat out)"
run 0 down a.db --dir "$rev" --to 2 && [ "$(q a.db 'SELECT max(version) FROM schema_migrations')" = 2 ]
ok $? "down --to 2: $(cat out)"
run 0 up a.db --dir "$rev" && run 0 verify a.db --dir "$rev"
ok $? "up again, verified"

# An edited migration: verify fails; repair shows both checksums, stores with --yes.
python3 -c 'import sqlite3; c = sqlite3.connect("a.db"); c.execute("UPDATE schema_migrations SET checksum = ? WHERE version = 1", ("0" * 64,)); c.commit()'
run 1 verify a.db --dir "$rev" && grep -q "SQLMIG_CHECKSUM" err
ok $? "verify of a changed checksum: exit 1, SQLMIG_CHECKSUM"
run 1 verify a.db --dir "$rev" --json &&
    python3 -c 'import json, sys; d = json.load(open("out")); sys.exit(not (d["ok"] is False and d["code"] == "SQLMIG_CHECKSUM"))'
ok $? "verify --json of it: ok false, the code"
run 1 repair a.db 1 --dir "$rev" && grep -q "stored checksum:   0000" out && grep -q "embedded checksum: " out &&
    grep -q -- "--yes" out
ok $? "repair without --yes shows both checksums and changes nothing"
run 0 repair a.db 1 --dir "$rev" --yes && run 0 verify a.db --dir "$rev"
ok $? "repair --yes stores the embedded one; verify passes"

# A database made by an application's old startup code: adopted.
python3 -c 'import sqlite3; c = sqlite3.connect("old.db"); c.executescript("create table notes (id integer primary key, body text not null); alter table notes add column created_at text;"); c.commit()'
run 1 up old.db --dir "$adopt" && grep -q "SQLMIG_UNADOPTED" err && grep -q "its schema is that of version 2" err
ok $? "up on a database made without sqlmig: exit 1, SQLMIG_UNADOPTED, its version"
run 0 adopt old.db --dir "$adopt" --dry-run && [ "$(q old.db "SELECT count(*) FROM sqlite_schema WHERE name = 'schema_migrations'")" = 0 ]
ok $? "adopt --dry-run writes nothing: $(cat out)"
run 0 adopt old.db --dir "$adopt" && grep -q "adopted at version 2 (2 migrations" out && run 0 up old.db --dir "$adopt" &&
    grep -q "version 2 -> 5, 3 applied" out && run 0 verify old.db --dir "$adopt"
ok $? "adopt finds version 2; up applies the rest; verified"
python3 -c 'import sqlite3; c = sqlite3.connect("uv.db"); c.executescript("create table notes (id integer primary key, body text not null); alter table notes add column created_at text; create table tags (id integer primary key, name text not null unique); create table note_tags (note_id integer not null references notes (id) on delete cascade, tag_id integer not null references tags (id), primary key (note_id, tag_id)); pragma user_version = 3;"); c.commit()'
run 0 adopt uv.db --dir "$adopt" --user-version 1=1 --user-version 3=4 && grep -q "adopted at version 4" out
ok $? "adopt --user-version 3=4: $(cat out)"

# An interrupted no-transaction migration, settled.
run 0 up d.db --dir "$demo" --to 9 &&
    python3 -c 'import sqlite3; c = sqlite3.connect("d.db"); c.execute("INSERT INTO schema_migrations VALUES (10, ?, ?, ?, -1)", ("enable_wal", "0" * 64, "2026-01-01T00:00:00.000Z")); c.commit()'
run 1 up d.db --dir "$demo" && grep -q "SQLMIG_INTERRUPTED" err
ok $? "a started row: up says SQLMIG_INTERRUPTED"
run 0 resolve d.db 10 retry && run 0 up d.db --dir "$demo" && grep -q "version 9 -> 11" out
ok $? "resolve retry, then up: $(cat out)"

# reset: nothing without --yes; with it, the host's own table goes too and up runs.
run 0 up r.db --dir "$rev" && python3 -c 'import sqlite3; c = sqlite3.connect("r.db"); c.execute("CREATE TABLE mine(x)"); c.execute("INSERT INTO mine VALUES (1)"); c.commit()'
objects=$(q r.db "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite%'")
run 1 reset r.db --dir "$rev" && grep -q "deletes the $objects schema objects of r.db" out && grep -q -- "add --yes" out &&
    [ "$(q r.db 'SELECT count(*) FROM mine')" = 1 ]
ok $? "reset without --yes says what it would delete and does nothing: $(head -n 1 out)"
run 0 reset r.db --dir "$rev" --yes --dry-run && grep -q "nothing done: a dry run" out &&
    [ "$(q r.db 'SELECT count(*) FROM mine')" = 1 ]
ok $? "reset --yes --dry-run says what it would delete and does nothing: $(tail -n 1 out)"
run 0 reset r.db --dir "$rev" --yes && [ "$(sed -n 1p out)" = "reset: $objects schema objects deleted" ] &&
    [ "$(sed -n 2p out)" = "version 0 -> 6, 6 applied" ] &&
    [ "$(q r.db "SELECT count(*) FROM sqlite_schema WHERE name = 'mine'")" = 0 ] && run 0 verify r.db --dir "$rev"
ok $? "reset --yes empties the database and applies every migration again; verified"
# Another connection writes until the file "release" appears.
python3 -c 'import os, sqlite3, time
c = sqlite3.connect("r.db", isolation_level=None); c.execute("BEGIN IMMEDIATE"); c.execute("CREATE TABLE z(x)")
open("held", "w").close()
while not os.path.exists("release"): time.sleep(0.02)
c.execute("ROLLBACK")' &
holder=$!
while [ ! -e held ]; do sleep 0.02; done
run 1 reset r.db --dir "$rev" --yes && grep -q "another connection uses the database" err
ok $? "reset while another connection writes: refused at once: $(cat err)"
touch release
wait "$holder"
[ "$(q r.db "SELECT count(*) FROM accounts")" -ge 0 ] && run 0 verify r.db --dir "$rev"
ok $? "the refused reset left the database as it was"

# Usage: one line, exit 2; help per command.
for args in "up" "up a.db" "up a.db --dir $rev --frob" "down a.db --dir $rev --to x" "resolve a.db 3 maybe" "frob"; do
    run 2 $args && [ "$(wc -l < err)" = 1 ] && grep -q -- "--help says more" err
    ok $? "usage error, one line: sqlmig $args: $(cat err)"
done
for c in status up down verify adopt resolve repair reset compile check new; do
    run 0 "$c" --help && grep -q "^usage: sqlmig $c" out
    ok $? "$c --help"
done

finish
