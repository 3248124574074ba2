#!/usr/bin/env bash
# What the build-time replay promises beyond what it accepts: it never
# reaches a file of the build machine; its output is the same bytes in any
# time zone, locale and working directory; it warns of references that a
# migration leaves dangling; and no output may overwrite an input.
# Usage: replay_cases.sh SQLMIG DEMO_MIGRATIONS   (prints TAP)
set -u
sqlmig=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
demo=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/../helpers/tap.sh"

# history NAME FILE SQL [FILE SQL]…: write a folder of migrations.
history() {
    local dir=$work/$1
    shift
    mkdir -p "$dir/m"
    while [ $# -gt 0 ]; do
        printf '%s\n' "$2" > "$dir/m/$1"
        shift 2
    done
}

# ---- the build machine's files ---------------------------------------------

# A migration that declares it attaches a file, by a name relative to the
# working directory: the replay gives it a file of its in-memory VFS.
history attach 0001_a.sql "CREATE TABLE a (x);" 0002_b.sql "-- sqlmig:attach
ATTACH 'side.db' AS side;
CREATE TABLE side.t (y);
INSERT INTO side.t VALUES (7);
INSERT INTO a SELECT y FROM side.t;" 0003_c.sql "-- sqlmig:no-transaction
-- sqlmig:attach
ATTACH 'other.db' AS other;
CREATE TABLE other.u (z);
VACUUM INTO 'copy.db';
DETACH other;"
mkdir -p "$work/cwd"
echo 'keep me' > "$work/cwd/side.db"
(cd "$work/cwd" && "$sqlmig" check ../attach/m > ../attach/out 2>&1)
ok $? "a history that attaches files and runs VACUUM INTO replays: $(tr '\n' ' ' < "$work/attach/out")"
ok $([ "$(cat "$work/cwd/side.db")" = "keep me" ] && [ ! -e "$work/cwd/other.db" ] && [ ! -e "$work/cwd/copy.db" ]
     echo $?) "no file of the working directory was written or made: $(ls "$work/cwd" | tr '\n' ' ')"
(cd "$work/cwd" && "$sqlmig" check "file:$work/cwd/side.db?vfs=unix" > /dev/null 2>&1)
ok $([ "$(cat "$work/cwd/side.db")" = "keep me" ]; echo $?) "a URI naming a real VFS reaches nothing either"
history attach_uri 0001_a.sql "-- sqlmig:no-transaction
-- sqlmig:attach
ATTACH 'file:$work/cwd/side.db?vfs=unix' AS side;
CREATE TABLE side.t (y);
DETACH side;"
(cd "$work/cwd" && "$sqlmig" check ../attach_uri/m > /dev/null 2>&1)
ok $([ "$(cat "$work/cwd/side.db")" = "keep me" ] && [ "$(ls "$work/cwd" | wc -l)" -eq 1 ]; echo $?) \
    "ATTACH of a file: URI with vfs=unix: the replay's VFS still, no file of the machine"

# ---- the same bytes anywhere -----------------------------------------------

# The demo stores the clock and switches to WAL: its snapshot is the same
# bytes in another time zone, locale and working directory.
compile_demo() {
    "$sqlmig" compile "$demo" --symbol demo --output-c "$1.c" --output-h "$1.h" --schema "$1.sql" 2> "$1.err"
}
mkdir -p "$work/here" "$work/there"
(cd "$work/here" && TZ=UTC LC_ALL=C compile_demo "$work/here/out")
ok $? "the demo compiles"
(cd "$work/there" && TZ=Pacific/Chatham LC_ALL=C.UTF-8 LANG=de_DE.UTF-8 compile_demo "$work/there/out")
ok $? "the demo compiles in another time zone, locale and folder"
ok $(cmp -s "$work/here/out.c" "$work/there/out.c" && cmp -s "$work/here/out.h" "$work/there/out.h" &&
     cmp -s "$work/here/out.sql" "$work/there/out.sql"; echo $?) "byte for byte the same outputs"
ok $(grep -qF '.snapshot_sql = demo_snapshot,' "$work/here/out.c" && [ ! -s "$work/here/out.err" ]; echo $?) \
    "the demo has its snapshot, and nothing to say"

# ---- dangling references -----------------------------------------------------

history dangling 0001_a.sql "CREATE TABLE parent (id INTEGER PRIMARY KEY);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));
CREATE VIEW parent_ids AS SELECT id FROM parent;
CREATE TABLE log (what);
CREATE TRIGGER child_log AFTER INSERT ON child BEGIN INSERT INTO log SELECT 'child of ' || id FROM parent WHERE id = NEW.parent_id; END;" \
    0002_b.sql "-- the parent goes; what refers to it stays
CREATE TABLE keep (k);
DROP TABLE parent;" \
    0003_c.sql "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customers (id));"
"$sqlmig" check "$work/dangling/m" > "$work/dangling/out" 2> "$work/dangling/err"
ok $? "dangling references do not fail the build"
err=$work/dangling/err
ok $(grep -qF "$work/dangling/m/0002_b.sql:3:12: warning: after this migration the table \"child\" has a foreign key to the table \"parent\", which does not exist" "$err"
     echo $?) "a foreign key to a dropped table, at the DROP: $(head -c 300 "$err")"
ok $(grep -qF "$work/dangling/m/0002_b.sql:3:12: warning: after this migration the view \"parent_ids\" refers to what does not exist: no such table: main.parent" "$err"
     echo $?) "a view of a dropped table"
ok $(grep -qF "$work/dangling/m/0002_b.sql:3:12: warning: after this migration the trigger \"child_log\" refers to what does not exist: no such table: main.parent" "$err"
     echo $?) "a trigger that reads a dropped table"
ok $(grep -qF "$work/dangling/m/0003_c.sql:1:74: warning: after this migration the table \"orders\" has a foreign key to the table \"customers\", which does not exist" "$err"
     echo $?) "a new foreign key to a table that never was"
ok $([ "$(wc -l < "$err")" -eq 4 ]; echo $?) "each said once ($(wc -l < "$err") lines)"

# SQLite's ALTER TABLE ... RENAME rewrites the foreign keys that name the
# table: renaming the old table before the rebuild leaves them on it.
history rename 0001_a.sql "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, author INTEGER REFERENCES users (id));" \
    0002_b.sql "ALTER TABLE users RENAME TO users_old;
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');
INSERT INTO users SELECT id, coalesce(name, '') FROM users_old;
DROP TABLE users_old;"
"$sqlmig" check "$work/rename/m" > /dev/null 2> "$work/rename/err"
ok $(grep -qF "$work/rename/m/0002_b.sql:1:29: warning: after this migration the table \"posts\" has a foreign key to the table \"users_old\", which does not exist" \
     "$work/rename/err"; echo $?) "a rebuild that renames the old table first: the foreign key followed the rename $(head -c 300 "$work/rename/err")"
history rebuild 0001_a.sql "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, author INTEGER REFERENCES users (id));" \
    0002_b.sql "CREATE TABLE users_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');
INSERT INTO users_new SELECT id, coalesce(name, '') FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;"
"$sqlmig" check "$work/rebuild/m" > /dev/null 2> "$work/rebuild/err"
ok $([ ! -s "$work/rebuild/err" ]; echo $?) "SQLite's own 12-step order leaves nothing dangling $(head -c 300 "$work/rebuild/err")"

# ---- outputs that would destroy an input -------------------------------------

history outputs 0001_a.sql "CREATE TABLE a (x);" 0002_b.sql "CREATE TABLE b (y);"
cp -p "$work/outputs/m/0001_a.sql" "$work/outputs/kept.sql"
"$sqlmig" compile "$work/outputs/m" --symbol m --output-c "$work/outputs/m.c" --output-h "$work/outputs/m.h" \
    --schema "$work/outputs/m/0001_a.sql" 2> "$work/outputs/err"
status=$?
ok $([ $status -eq 1 ] && grep -qF "$work/outputs/m/0001_a.sql: error: --schema $work/outputs/m/0001_a.sql would overwrite this migration" "$work/outputs/err"
     echo $?) "an output that is a migration: refused ($(head -c 200 "$work/outputs/err"))"
ok $(cmp -s "$work/outputs/kept.sql" "$work/outputs/m/0001_a.sql" && [ ! -e "$work/outputs/m.c" ]; echo $?) \
    "the migration is untouched, nothing written"
(cd "$work/outputs/m" && "$sqlmig" compile . --symbol m --output-c ../m.c --output-h ../m.h --depfile ./0002_b.sql \
    2> ../err2)
ok $([ $? -eq 1 ] && [ -s "$work/outputs/m/0002_b.sql" ] && grep -q 'would overwrite this migration' "$work/outputs/err2"
     echo $?) "the same under another spelling of its path"
"$sqlmig" compile "$work/outputs/m" --symbol m --output-c "$work/outputs/same" --output-h "$work/outputs/./same" \
    2> "$work/outputs/err3"
ok $([ $? -eq 1 ] && grep -qF -- "--output-c and --output-h name the same file" "$work/outputs/err3" &&
     [ ! -e "$work/outputs/same" ]; echo $?) "two outputs in one file: refused ($(head -c 200 "$work/outputs/err3"))"

finish
