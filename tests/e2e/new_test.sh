#!/usr/bin/env bash
# `sqlmig new`: in every layout it writes, the next migration is named and
# numbered as the folder's own tool would, its template compiles (with a
# warning at the placeholder's line), and the file is read back as the next
# version; a name that cannot be a file name is refused with its reason and
# nothing is written.
# Usage: new_test.sh SQLMIG SOURCE_ROOT   (prints TAP)
set -u
sqlmig=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2

. "$src/tests/helpers/tap.sh"

stamp='20[0-9]{12}'
# layout, the two files the first `new` writes (regular expressions), and the
# first file's line where the placeholder is.
while read -r layout first second line; do
    mkdir "$layout"
    "$sqlmig" new "$layout" create_users --layout "$layout" > out 2> err
    got=$?
    [ "$got" = 0 ] && [ ! -s err ] && grep -Eqx "$layout/$first" <(sed -n 1p out) &&
        { [ "$second" = - ] || grep -Eqx "$layout/$second" <(sed -n 2p out); }
    ok $? "$layout: new writes $(tr '\n' ' ' < out)"
    made=$(sed -n 1p out)
    "$sqlmig" check "$layout" --layout "$layout" > out 2> err
    ok $? "$layout: the template compiles: $(cat out)"
    # The same warning in an up and a down file is printed once, naming both.
    grep -q "^$layout/.*:$line:1: warning: the placeholder of \`sqlmig new\` is still here" err &&
        grep -qF "$(basename "$made")" err
    ok $? "$layout: a warning at the placeholder: $(head -n 1 err)"
    "$sqlmig" new "$layout" add_email --layout "$layout" > out 2>&1 &&
        "$sqlmig" check "$layout" --layout "$layout" > check.out 2>/dev/null &&
        grep -q "2 migrations replayed" check.out && [ "$(sed -n 1p out)" \> "$made" ]
    ok $? "$layout: the next one sorts after it and is read as the second: $(sed -n 1p out)"
done <<EOF
plain 0001_create_users\\.sql - 3
sqlx ${stamp}_create_users\\.sql - 3
golang-migrate ${stamp}_create_users\\.up\\.sql ${stamp}_create_users\\.down\\.sql 3
goose ${stamp}_create_users\\.sql - 2
dbmate ${stamp}_create_users\\.sql - 2
diesel 20[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{6}_create_users/up\\.sql 20[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{6}_create_users/down\\.sql 3
flyway V1__create_users\\.sql - 3
EOF

# The placeholder replaced: no warning, and the migration does what it says.
sed -i "s/^SELECT 'replace this statement with the migration';$/CREATE TABLE users (id INTEGER PRIMARY KEY);/" plain/0001_create_users.sql
rm plain/0002_add_email.sql
"$sqlmig" check plain > out 2> err && [ ! -s err ] && grep -q "1 migration replayed, 1 schema object" out
ok $? "plain: once the placeholder is replaced, no warning: $(cat out)"

# The folder's own convention.
mkdir seq && echo 'CREATE TABLE a (x);' > seq/001_a.sql
"$sqlmig" new seq b > out && [ "$(cat out)" = seq/002_b.sql ]
ok $? "numbered as the folder numbers, padded alike: $(cat out)"
mkdir pairs && echo 'CREATE TABLE a (x);' > pairs/1_a.up.sql && echo 'DROP TABLE a;' > pairs/1_a.down.sql
"$sqlmig" new pairs b > out && [ "$(tr '\n' ' ' < out)" = "pairs/2_b.up.sql pairs/2_b.down.sql " ] &&
    "$sqlmig" check pairs > check.out 2>/dev/null && grep -q "2 down parts proven" check.out
ok $? "a folder of up and down files gets both, and the build proves the pair: $(tr '\n' ' ' < out)"
mkdir down && "$sqlmig" new down a --down > out && [ "$(tr '\n' ' ' < out)" = "down/0001_a.up.sql down/0001_a.down.sql " ]
ok $? "--down asks for a down file: $(tr '\n' ' ' < out)"
mkdir ts && echo 'CREATE TABLE a (x);' > ts/20240101000000_a.sql
"$sqlmig" new ts b > out && grep -Eqx "ts/${stamp}_b\\.sql" out && [ "$(cat out)" \> ts/20240101000000_a.sql ]
ok $? "a folder of timestamps gets the time now, in UTC: $(cat out)"
mkdir future && echo 'CREATE TABLE a (x);' > future/29991231235959_a.sql
"$sqlmig" new future b > out && [ "$(cat out)" = future/29991231235960_b.sql ]
ok $? "a clock behind the newest timestamp still gives a later version: $(cat out)"
mkdir fw && echo 'CREATE TABLE a (x);' > fw/V1.2__a.sql
"$sqlmig" new fw b > out && [ "$(cat out)" = fw/V2__b.sql ]
ok $? "Flyway: after V1.2 comes V2: $(cat out)"
mkdir gm && echo 'CREATE TABLE a (x);' > gm/000001_a.up.cql && echo 'DROP TABLE a;' > gm/000001_a.down.cql
"$sqlmig" new gm b --layout golang-migrate > out && [ "$(tr '\n' ' ' < out)" = "gm/000002_b.up.cql gm/000002_b.down.cql " ]
ok $? "golang-migrate keeps the folder's extension: $(tr '\n' ' ' < out)"
mkdir drizzle
"$sqlmig" new drizzle b --layout drizzle > out 2> err
[ $? = 1 ] && grep -q "drizzle-kit generate --custom --name b" err && [ -z "$(ls drizzle)" ]
ok $? "Drizzle: refused, with the drizzle-kit command that makes it: $(cat err)"

# Names that cannot be a migration's: exit 2, one line, the reason, nothing written.
mkdir names
while IFS='|' read -r name reason; do
    "$sqlmig" new names "$name" > out 2> err
    [ $? = 2 ] && [ "$(wc -l < err)" = 1 ] && grep -qF "$reason" err && [ -z "$(ls names)" ]
    ok $? "name '$name' refused: $(cat err)"
done <<'EOF'
x.sql|ends in .sql: give the name alone
add users|holds a blank
a/b|holds '/'
a.b|holds '.'
|the name is empty
EOF
"$sqlmig" new names "$(printf 'a\tb')" > out 2> err
[ $? = 2 ] && [ "$(wc -l < err)" = 1 ] && grep -q "holds a blank" err
ok $? "a tab is a blank too, and the message stays one line: $(cat err)"

finish
