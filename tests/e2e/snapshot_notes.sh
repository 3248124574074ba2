#!/usr/bin/env bash
# When `sqlmig compile` embeds a snapshot of the final state, and when it
# says why not: each history below is one to three small migrations; one
# whose result is the same under other conditions gets a snapshot and
# prints nothing; one whose result differs gets a note naming the first
# migration that shows it and the row, on stderr and in the generated C.
# Usage: snapshot_notes.sh SQLMIG RUNTIME_INCLUDE CC [CC_ARGS…]
set -u
sqlmig=$1 runtime=$2
shift 2
cc=("$@")
work=$(mktemp -d)
trap "rm -rf \"$work\"" EXIT
. "$(dirname "$0")/../helpers/tap.sh"

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

# impure NAME WHERE WHY WHAT: compiles with one note at WHERE (a file of the
# folder, or the folder itself when WHERE is empty) saying WHY, and the same
# note (with the file name only) in the C.
impure() {
    local dir=$work/$1 where=$2 why=$3 at head
    at=$dir/m${where:+/$where}
    head=${why%%\"*} # in C, a quote is escaped: compare up to the first one
    compile "$1"
    ok $? "$4: compiles"
    ok $(grep -qF "$at: note: $why" "$dir/stderr" && [ "$(wc -l < "$dir/stderr")" -eq 1 ]
         echo $?) "$4: one note at ${where:-the folder}: $(head -c 400 "$dir/stderr")"
    ok $(grep -q '^    .snapshot_sql = NULL,$' "$dir/set.c" &&
         grep -qF ".snapshot_note = \"${where:+$where: }$head" "$dir/set.c"; echo $?) \
        "$4: the set has no snapshot, and the note"
}

depends="its result depends on when or where it runs: replayed under other conditions (another clock, time zone, random seed, order of unordered rows, page size, journal mode and SQLite version)"

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

# The clock, stored as it is read: the snapshot reads it when it runs.
history now 0001_a.sql "CREATE TABLE a (x, y, z);
INSERT INTO a VALUES (datetime('now'), CURRENT_DATE, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));"
pure now "datetime('now'), CURRENT_DATE, ISO 8601 with milliseconds"
grep -qF "(1, datetime('now'), date('now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))" "$work/now/set.c"
ok $? "the snapshot writes each as the clock, in its form"
history dflt 0001_a.sql "CREATE TABLE a (x, made TEXT DEFAULT CURRENT_TIMESTAMP);" \
    0002_b.sql "-- a seed row: its made column takes the default

INSERT INTO a (x) VALUES (1);"
pure dflt "a CURRENT_TIMESTAMP default evaluated by an INSERT"
history trig 0001_a.sql "CREATE TABLE a (x); CREATE TABLE log (at, epoch);
CREATE TRIGGER a_log AFTER INSERT ON a BEGIN INSERT INTO log VALUES (julianday(), unixepoch()); END;" \
    0002_b.sql "INSERT INTO a VALUES (1);"
pure trig "the clock read by a trigger that an INSERT fires, as a Julian day and Unix seconds"
history later 0001_a.sql "CREATE TABLE a (x);
INSERT INTO a VALUES (datetime('now', '+1 day'));"
impure later 0001_a.sql "$depends, it leaves other values in row 1 of table \"a\"" "a time computed from the clock"

# What differs between the two replays: the first migration it shows in.
history random 0001_a.sql "CREATE TABLE a (x);" 0002_b.sql "INSERT INTO a VALUES (1);
INSERT INTO a VALUES (random());"
impure random 0002_b.sql "$depends, it leaves other values in row 2 of table \"a\"" "random()"
history blob 0001_a.sql "CREATE TABLE a (x);
  INSERT INTO a SELECT hex(randomblob(4));"
impure blob 0001_a.sql "$depends, it leaves other values in row 1 of table \"a\"" "randomblob()"
history zone 0001_a.sql "CREATE TABLE a (x);
INSERT INTO a VALUES (datetime('2020-01-01 12:00', 'LocalTime'));"
impure zone 0001_a.sql "$depends, it leaves other values in row 1 of table \"a\"" "the 'localtime' modifier"
history zone2 0001_a.sql "CREATE TABLE a (x);" 0002_b.sql "INSERT INTO a VALUES (datetime('2020-01-01 12:00', 'local' || 'time'));"
impure zone2 0002_b.sql "$depends, it leaves other values in row 1 of table \"a\"" "a time-zone modifier computed in SQL"
history utc 0001_a.sql "-- stored in UTC: 'utc' and 'localtime' in a comment are words
CREATE TABLE a (utc TEXT DEFAULT (datetime('2020-01-01', 'localtime')), \"localtime\" INTEGER);
INSERT INTO a (\"localtime\") VALUES (1);
UPDATE a SET utc = 'UTC';"
pure utc "'UTC' in comments, names, strings and a default that no INSERT uses"
history changes 0001_a.sql "CREATE TABLE a (x);
INSERT INTO a VALUES (1);" 0002_b.sql "CREATE TABLE b (y);
INSERT INTO b VALUES (changes());"
impure changes 0002_b.sql "$depends, it leaves other values in row 1 of table \"b\"" \
    "changes() before the migration's own change"
history rowid 0001_a.sql "CREATE TABLE a (x);
INSERT INTO a VALUES (1);" 0002_b.sql "CREATE TABLE b (y);
INSERT INTO b VALUES (last_insert_rowid());"
pure rowid "last_insert_rowid() before the migration's own insert (0 on every path)"
grep -A1 -F 'INSERT INTO main.\"b\"(rowid, \"y\") VALUES\n' "$work/rowid/set.c" | grep -qF '"(1, 0);\n"'
ok $? "it reads 0 before the migration's own first insert"
history version 0001_a.sql "CREATE TABLE a (x);
INSERT INTO a VALUES (sqlite_version());"
impure version 0001_a.sql "$depends, it leaves other values in row 1 of table \"a\"" "sqlite_version()"
history unordered 0001_a.sql "CREATE TABLE a (x); INSERT INTO a VALUES (3), (1), (2);" \
    0002_b.sql "CREATE TABLE b (y);
INSERT INTO b SELECT x FROM a;"
impure unordered 0002_b.sql "$depends, it leaves other values in row 1 of table \"b\"" \
    "INSERT ... SELECT without ORDER BY"
history ordered 0001_a.sql "CREATE TABLE a (x); INSERT INTO a VALUES (3), (1), (2);" \
    0002_b.sql "CREATE TABLE b (y);
INSERT INTO b SELECT x FROM a ORDER BY x;
CREATE TABLE c AS SELECT x FROM a ORDER BY x DESC;"
pure ordered "INSERT ... SELECT and CREATE TABLE ... AS with ORDER BY"
history ctas 0001_a.sql "CREATE TABLE a (x); INSERT INTO a VALUES (3), (1), (2);" \
    0002_b.sql "CREATE TABLE c AS SELECT x FROM a;"
impure ctas 0002_b.sql "$depends, it leaves other values in the rows of table \"c\"" \
    "CREATE TABLE ... AS SELECT without ORDER BY"
# A row at the largest rowid: SQLite picks the next one at random.
history maxrow 0001_a.sql "CREATE TABLE a (x);
INSERT INTO a (rowid, x) VALUES (9223372036854775807, 1);" 0002_b.sql "INSERT INTO a (x) VALUES (2);"
impure maxrow 0002_b.sql "$depends, it leaves other values in which rows of table \"a\" it writes" \
    "a row after rowid 2^63-1"
cp "$work/maxrow/set.c" "$work/maxrow/first.c"
compile maxrow
ok $(cmp -s "$work/maxrow/set.c" "$work/maxrow/first.c"; echo $?) "and two compiles give the same bytes"

# The file's settings: what the history sets, the snapshot sets too.
history wal 0001_a.sql "CREATE TABLE a (x);" 0002_b.sql "-- sqlmig:no-transaction
PRAGMA journal_mode = WAL;" 0003_c.sql "INSERT INTO a VALUES (1);"
pure wal "a no-transaction migration that switches to WAL"
grep -qF '.snapshot_wal = 1u' "$work/wal/set.c"
ok $? "the snapshot switches the file to WAL"
history notx 0001_a.sql "CREATE TABLE a (x);" 0002_b.sql "-- sqlmig:no-transaction
VACUUM;"
pure notx "a no-transaction migration that runs VACUUM"
history fkon 0001_p.sql "CREATE TABLE p (id INTEGER PRIMARY KEY);" 0002_fk.sql "-- sqlmig:no-transaction
PRAGMA foreign_keys = ON;" 0003_c.sql "CREATE TABLE c (p INTEGER REFERENCES p (id));
INSERT INTO p VALUES (1);
INSERT INTO c VALUES (1);"
pure fkon "a no-transaction migration that only switches foreign_keys on"
history page 0001_a.sql "PRAGMA page_size = 8192;
CREATE TABLE a (x);"
pure page "PRAGMA page_size in a transaction, where it changes nothing"
ok $([ "$(grep -c 'page_size' "$work/page/set.c")" -eq 1 ]; echo $?) "and the snapshot leaves the page size to the file"
history vacuumed 0001_a.sql "CREATE TABLE a (x);" 0002_b.sql "-- sqlmig:no-transaction
PRAGMA page_size = 8192;
VACUUM;"
impure vacuumed "" "$depends, the history ends with other values in PRAGMA page_size, which it leaves as it is only on some files or sets to a value a snapshot does not give" \
    "PRAGMA page_size and VACUUM, which a WAL file does not take"
history uv 0001_a.sql "CREATE TABLE a (x);
PRAGMA user_version = 7;
PRAGMA application_id = 1234;"
pure uv "user_version and application_id set by a migration"
ok $(grep -qF 'PRAGMA main.user_version = 7;' "$work/uv/set.c" &&
     grep -qF 'PRAGMA main.application_id = 1234;' "$work/uv/set.c"; echo $?) "the snapshot sets both"
grep -q 'user_version' "$work/pure/set.c"
ok $([ $? -ne 0 ]; echo $?) "and a history that does not set them leaves them to the file"

history analyze 0001_a.sql "CREATE TABLE a (x); CREATE INDEX a_x ON a (x);
INSERT INTO a VALUES (1), (2);
ANALYZE;"
impure analyze "" "the history runs ANALYZE: its statistics (sqlite_stat1) are not part of a snapshot" "ANALYZE"

# What SQL text cannot carry: the proof finds it and says so.
history nul 0001_a.sql "CREATE TABLE a (x);
INSERT INTO a VALUES (CAST(X'610062' AS TEXT));"
impure nul "" "the snapshot does not recreate the replayed database: the rows of table \"a\": row 1 (1), column x" \
    "a NUL inside a text value"
history rowids 0001_a.sql "CREATE TABLE a (rowid, _rowid_, oid);
INSERT INTO a VALUES (1, 2, 3);"
impure rowids "" 'the table "a" has columns named rowid, _rowid_ and oid: its rowids cannot be read' \
    "a table whose rowid has no name left"
history vtab 0001_a.sql "CREATE VIRTUAL TABLE docs USING fts5(body);
INSERT INTO docs VALUES ('hello');"
impure vtab "" 'the history creates the virtual table "docs", whose module keeps tables of its own' "a virtual table"

# The options.
compile pure --no-snapshot
ok $(grep -qF '.snapshot_note = "compiled with --no-snapshot"' "$work/pure/set.c" &&
     [ ! -s "$work/pure/stderr" ]; echo $?) "--no-snapshot: no snapshot, the note says why, nothing printed"
compile pure --snapshot-max 10
ok $(grep -qF "$work/pure/m: note: the snapshot would take more than 10 bytes (--snapshot-max BYTES sets the limit)" \
     "$work/pure/stderr" && grep -qF 'more than 10 bytes' "$work/pure/set.c"; echo $?) \
    "--snapshot-max 10: too big, and the note says the limit"
for bad in 0 -1 10x ""; do
    compile pure --snapshot-max "$bad"
    ok $([ $? -eq 2 ]; echo $?) "--snapshot-max '$bad' is a usage error"
done
compile pure --no-snapshot --snapshot-max 100
ok $([ $? -eq 2 ]; echo $?) "--no-snapshot and --snapshot-max together are a usage error"

# check says it too.
out=$("$sqlmig" check "$work/pure/m")
ok $([ "$out" = "$work/pure/m: plain layout (no other tool's mark); 2 migrations replayed, 1 schema object, a snapshot for fresh databases" ]
     echo $?) "check: $out"
out=$("$sqlmig" check "$work/random/m" 2>&1 >/dev/null)
ok $(case $out in *"0002_b.sql: note: $depends"*) echo 0;; *) echo 1;; esac) "check prints the note"
finish
