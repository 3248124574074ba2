#!/usr/bin/env bash
# When `sqlmig compile` embeds a snapshot of the final state, and when it
# says why not: each history below is one or two small migrations; a pure one
# gets a snapshot and prints nothing, an impure one gets a note naming the
# file, line and column of the first thing that makes its result depend on
# when or where it runs, on stderr and in the generated C.
# Usage: snapshot_notes.sh SQLMIG RUNTIME_INCLUDE CC [CC_ARGS…]
set -u
sqlmig=$1 runtime=$2
shift 2
cc=("$@")
work=$(mktemp -d)
trap "rm -rf \"$work\"" EXIT
. "$(dirname "$0")/tap.sh"

cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -I"$runtime")
n_case=0

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

# compile NAME [ARGS…]: compile it; stderr in NAME/stderr, C in NAME/set.c.
compile() {
    local dir=$work/$1
    shift
    "$sqlmig" compile "$dir/m" --symbol set --output-c "$dir/set.c" --output-h "$dir/set.h" "$@" \
        2> "$dir/stderr"
}

# pure NAME WHAT: it compiles silently, with a snapshot, into C that compiles.
pure() {
    local dir=$work/$1
    compile "$1"
    ok $? "$2: compiles"
    ok $([ ! -s "$dir/stderr" ]; echo $?) "$2: prints nothing $(head -c 300 "$dir/stderr")"
    ok $(grep -q '^    .snapshot_sql = set_snapshot,$' "$dir/set.c" &&
         grep -q '^    .snapshot_note = NULL,$' "$dir/set.c"; echo $?) "$2: the set has a snapshot"
    "${cc[@]}" "${cflags[@]}" -c "$dir/set.c" -o "$dir/set.o"
    ok $? "$2: its C compiles"
}

# impure NAME WHERE WHY WHAT: compiles with one note at WHERE (path:line:col
# inside the folder) saying WHY, and the same note (file name only) in the C.
impure() {
    local dir=$work/$1 where=$2 why=$3
    compile "$1"
    ok $? "$4: compiles"
    ok $(grep -qF "$dir/m/$where: note: $why" "$dir/stderr" && [ "$(wc -l < "$dir/stderr")" -eq 1 ]
         echo $?) "$4: one note at $where: $(head -c 300 "$dir/stderr")"
    ok $(grep -q '^    .snapshot_sql = NULL,$' "$dir/set.c" &&
         grep -qF ".snapshot_note = \"$where: $why" "$dir/set.c"; echo $?) "$4: the set has no snapshot, and the note"
}

history pure 0001_a.sql "CREATE TABLE a (id INTEGER PRIMARY KEY, made TEXT DEFAULT CURRENT_TIMESTAMP,
    day TEXT);
INSERT INTO a (id, made, day) VALUES (1, '2020-01-01', date('2020-01-01', '+1 day'));" \
    0002_b.sql "INSERT INTO a (id, made) VALUES (2, 'x');
UPDATE a SET day = last_insert_rowid() || ':' || changes() WHERE id = 2;"
pure pure "a CURRENT_TIMESTAMP default never used, a fixed date, last_insert_rowid() after an insert"
grep -qF 'INSERT INTO main.\"a\"(rowid, \"id\", \"made\", \"day\") VALUES' "$work/pure/set.c"
ok $? "the snapshot inserts the rows with their rowids"

history empty 0001_a.sql "CREATE TABLE a (x);" 0002_b.sql "DROP TABLE a;"
pure empty "a history that drops all it made: an empty snapshot"
ok $(grep -qF 'static const char set_snapshot[] =' "$work/empty/set.c" &&
     grep -qF '.snapshot_len = sizeof set_snapshot - 1,' "$work/empty/set.c"; echo $?) "the empty snapshot is embedded"

history random 0001_a.sql "CREATE TABLE a (x);" 0002_b.sql "INSERT INTO a VALUES (1);
INSERT INTO a VALUES (random());"
impure random 0002_b.sql:2:1 "calls random() or randomblob()" "random()"

history blob 0001_a.sql "CREATE TABLE a (x);
  INSERT INTO a SELECT hex(randomblob(4));"
impure blob 0001_a.sql:2:3 "calls random() or randomblob()" "randomblob()"

history now 0001_a.sql "CREATE TABLE a (x);
INSERT INTO a VALUES (datetime('now'));"
impure now 0001_a.sql:2:1 "reads the clock" "datetime('now')"

history dflt 0001_a.sql "CREATE TABLE a (x, made TEXT DEFAULT CURRENT_TIMESTAMP);" \
    0002_b.sql "-- a seed row: its made column takes the default

INSERT INTO a (x) VALUES (1);"
impure dflt 0002_b.sql:3:1 "reads the clock" "a CURRENT_TIMESTAMP default evaluated by an INSERT"

history trig 0001_a.sql "CREATE TABLE a (x); CREATE TABLE log (at);
CREATE TRIGGER a_log AFTER INSERT ON a BEGIN INSERT INTO log VALUES (julianday()); END;" \
    0002_b.sql "INSERT INTO a VALUES (1);"
impure trig 0002_b.sql:1:1 "reads the clock" "the clock read by a trigger that an INSERT fires"

history zone 0001_a.sql "CREATE TABLE a (x);
INSERT INTO a VALUES (datetime('2020-01-01 12:00', 'LocalTime'));"
impure zone 0001_a.sql:2:52 "uses the 'localtime' or 'utc' modifier" "the 'localtime' modifier"

history rowid 0001_a.sql "CREATE TABLE a (x);
INSERT INTO a VALUES (1);" 0002_b.sql "CREATE TABLE b (y);
INSERT INTO b VALUES (last_insert_rowid());"
impure rowid 0002_b.sql:2:1 "reads last_insert_rowid() before inserting a row itself" \
    "last_insert_rowid() before the migration's own insert"

history changes 0001_a.sql "CREATE TABLE a (x);
INSERT INTO a VALUES (1);" 0002_b.sql "CREATE TABLE b (y);
INSERT INTO b VALUES (changes());"
impure changes 0002_b.sql:2:1 "reads changes() or total_changes()" "changes() before the migration's own change"

history version 0001_a.sql "CREATE TABLE a (x);
INSERT INTO a VALUES (sqlite_version());"
impure version 0001_a.sql:2:1 "asks which SQLite runs it" "sqlite_version()"

history page 0001_a.sql "PRAGMA page_size = 8192;
CREATE TABLE a (x);"
impure page 0001_a.sql:1:1 "sets PRAGMA page_size" "PRAGMA page_size"

history notx 0001_a.sql "CREATE TABLE a (x);" 0002_b.sql "-- sqlmig:no-transaction
VACUUM;"
impure notx 0002_b.sql "runs outside a transaction" "a no-transaction migration"

history analyze 0001_a.sql "CREATE TABLE a (x); CREATE INDEX a_x ON a (x);
INSERT INTO a VALUES (1), (2);
ANALYZE;"
compile analyze
ok $(grep -qF "$work/analyze/m: note: the history runs ANALYZE" "$work/analyze/stderr"; echo $?) \
    "ANALYZE: the note names the folder and sqlite_stat1 $(head -c 300 "$work/analyze/stderr")"

# What SQL text cannot carry: the comparison finds it and says so.
history nul 0001_a.sql "CREATE TABLE a (x);
INSERT INTO a VALUES (CAST(X'610062' AS TEXT));"
compile nul
ok $(grep -qF "$work/nul/m: note: the snapshot does not recreate the rows of table \"a\" exactly: row 1, column 2 differs" \
     "$work/nul/stderr"; echo $?) "a NUL inside a text value: the proof fails, no snapshot $(head -c 300 "$work/nul/stderr")"
history rowids 0001_a.sql "CREATE TABLE a (rowid, _rowid_, oid);
INSERT INTO a VALUES (1, 2, 3);"
compile rowids
ok $(grep -qF 'note: the table "a" has columns named rowid, _rowid_ and oid' "$work/rowids/stderr"; echo $?) \
    "a table whose rowid has no name left: no snapshot $(head -c 300 "$work/rowids/stderr")"
history vtab 0001_a.sql "CREATE VIRTUAL TABLE docs USING fts5(body);
INSERT INTO docs VALUES ('hello');"
compile vtab
ok $(grep -qF 'note: the history creates the virtual table "docs"' "$work/vtab/stderr"; echo $?) \
    "a virtual table: no snapshot $(head -c 300 "$work/vtab/stderr")"

history uv 0001_a.sql "CREATE TABLE a (x);
PRAGMA user_version = 7;
PRAGMA application_id = 1234;"
pure uv "user_version and application_id set by a migration"
ok $(grep -qF 'PRAGMA main.user_version = 7;' "$work/uv/set.c" &&
     grep -qF 'PRAGMA main.application_id = 1234;' "$work/uv/set.c"; echo $?) "the snapshot sets both"

# The options.
compile pure --no-snapshot
ok $(grep -qF '.snapshot_note = "compiled with --no-snapshot"' "$work/pure/set.c" &&
     [ ! -s "$work/pure/stderr" ]; echo $?) "--no-snapshot: no snapshot, the note says why, nothing printed"
compile pure --snapshot-max 10
ok $(grep -qF "$work/pure/m: note: the snapshot would take" "$work/pure/stderr" &&
     grep -qF 'more than the 10 that --snapshot-max allows' "$work/pure/set.c"; echo $?) \
    "--snapshot-max 10: too big, and the note says how big"
for bad in 0 -1 10x ""; do
    compile pure --snapshot-max "$bad"
    ok $([ $? -eq 2 ]; echo $?) "--snapshot-max '$bad' is a usage error"
done
compile pure --no-snapshot --snapshot-max 100
ok $([ $? -eq 2 ]; echo $?) "--no-snapshot and --snapshot-max together are a usage error"

# check says it too.
out=$("$sqlmig" check "$work/pure/m")
ok $([ "$out" = "$work/pure/m: 2 migrations replayed, 1 schema object, a snapshot for fresh databases" ]
     echo $?) "check: $out"
out=$("$sqlmig" check "$work/random/m" 2>&1 >/dev/null)
ok $(case $out in *"0002_b.sql:2:1: note: calls random()"*) echo 0;; *) echo 1;; esac) "check prints the note"
finish
