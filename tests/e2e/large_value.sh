#!/usr/bin/env bash
# A value larger than SQL text can carry (a 600 MB blob: quote() would make
# 1.2 GB of hex, over SQLite's length limit) is a reason for no snapshot,
# not a failed build; and the bound is applied before the value is quoted.
# Usage: large_value.sh SQLMIG   (prints TAP)
set -u
sqlmig=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/../helpers/tap.sh"

mkdir -p "$work/m"
printf 'CREATE TABLE a (id INTEGER PRIMARY KEY, payload BLOB);\n' > "$work/m/0001_a.sql"
printf 'INSERT INTO a (payload) VALUES (zeroblob(600000000));\n' > "$work/m/0002_big.sql"
"$sqlmig" compile "$work/m" --symbol m --output-c "$work/m.c" --output-h "$work/m.h" 2> "$work/err"
ok $? "a 600 MB blob compiles: $(head -c 300 "$work/err")"
ok $(grep -qF "$work/m: note: a value of table \"a\" is longer than the " "$work/err" &&
     grep -q '^    .snapshot_sql = NULL,$' "$work/m.c"; echo $?) "no snapshot, and the note says why"
"$sqlmig" compile "$work/m" --symbol m --output-c "$work/m.c" --output-h "$work/m.h" --snapshot-max 2000000000 \
    2> "$work/err"
ok $(grep -qF "note: a value of table \"a\" is too large to be written as SQL text" "$work/err"; echo $?) \
    "with --snapshot-max above it, SQLite's own limit says no: $(head -c 300 "$work/err")"
finish
