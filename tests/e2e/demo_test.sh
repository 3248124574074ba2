#!/usr/bin/env bash
# The demo end to end: a fresh database reaches the newest version, a second
# run applies nothing, and the 12-step rebuild of the parent table `projects`
# keeps the child rows of `tasks` (ON DELETE CASCADE) that a real user had
# entered before it ran.
# `demo migrate ...` (sqlmig_main()) prints what the sqlmig command prints.
# Usage: demo_test.sh DEMO SQLMIG   (prints TAP)
set -u
demo=$1
sqlmig=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/../helpers/tap.sh"
q() { sqlite3 "$1" "$2"; }

# One migration per version: the plain and .up.sql files of migrations/.
names=$(ls "$(dirname "$0")/../../migrations" | grep '^[0-9][0-9]*_.*\.sql$' | grep -v '\.down\.sql$')
latest=$(echo "$names" | wc -l | tr -d ' ')
latest_version=$(echo "$names" | sed 's/^0*\([0-9]*\)_.*/\1/' | sort -n | tail -n 1)

db=$work/fresh.db
out=$("$demo" "$db" 2> "$work/log1")
ok $? "demo migrates a fresh database"
ok $(echo "$out" | grep -qx "migrated $db from version 0 to $latest_version ($latest applied)"; echo $?) \
    "it reports: migrated from version 0 to $latest_version ($latest applied)"
ok $(echo "$out" | grep -qx "schema: matches the embedded schema"; echo $?) "the schema matches the embedded one"
applied_rows=$(echo "$out" | grep -c ' applied ')
ok $([ "$applied_rows" -eq "$latest" ]; echo $?) "the status table shows $latest applied rows ($applied_rows)"
ok $([ "$(q "$db" 'PRAGMA journal_mode')" = wal ]; echo $?) "the no-transaction migration switched the database to WAL"
ok $([ "$(q "$db" 'SELECT count(*) FROM schema_migrations WHERE execution_ms >= 0')" = "$latest" ]; echo $?) \
    "the ledger has one finished row per migration"

out=$("$demo" "$db" 2> "$work/log2")
ok $? "a second run succeeds"
ok $(echo "$out" | grep -qx "$db is up to date at version $latest_version"; echo $?) "and applies nothing"
ok $([ ! -s "$work/log2" ] || ! grep -q 'apply' "$work/log2"; echo $?) "and logs no migration"

# Child rows survive the rebuild of their parent table.
db=$work/cascade.db
"$demo" --target 7 "$db" > /dev/null 2>&1
ok $? "demo --target 7 stops before the rebuild"
q "$db" "INSERT INTO projects (id, name) VALUES (10, 'Home'), (11, 'Work');
         INSERT INTO tasks (project_id, title) VALUES (10, 'paint'), (10, 'fix sink'), (11, 'report');
         INSERT INTO tags (id, name) VALUES (1, 'urgent');
         INSERT INTO task_tags (task_id, tag_id) SELECT id, 1 FROM tasks;"
before=$(q "$db" "SELECT count(*) FROM tasks")/$(q "$db" "SELECT count(*) FROM task_tags")
"$demo" "$db" > "$work/cascade.out" 2>&1
ok $? "the rest of the history applies on top of user data"
after=$(q "$db" "SELECT count(*) FROM tasks")/$(q "$db" "SELECT count(*) FROM task_tags")
ok $([ "$before" = "$after" ] && [ "$before" = 3/3 ]; echo $?) "tasks and task_tags rows survive the rebuild of projects ($before -> $after)"
ok $([ -z "$(q "$db" 'PRAGMA foreign_key_check')" ]; echo $?) "foreign_key_check is clean afterwards"
ok $([ "$(q "$db" 'PRAGMA integrity_check')" = ok ]; echo $?) "integrity_check is ok"

# The host's command line in two lines: the same output as the sqlmig command.
migrations=$(cd "$(dirname "$0")/../../migrations" && pwd)
for cmd in "up --to 5" "status" "down" "status --json" "verify" "up" "down --to 3 --dry-run"; do
    DEMO_DB=$work/host.db "$demo" migrate $cmd > "$work/host.out" 2>&1
    a=$?
    "$sqlmig" ${cmd%% *} "$work/cli.db" --dir "$migrations" ${cmd#${cmd%% *}} > "$work/cli.out" 2>&1
    b=$?
    # When each ran, and how long it took, differ; the rest may not.
    sed -i -E 's/[0-9-]*T[0-9:.]*Z//g; s/"execution_ms": [0-9-]*/"execution_ms": _/g' "$work/host.out" "$work/cli.out"
    ok $([ $a = $b ] && cmp -s "$work/host.out" "$work/cli.out"; echo $?) \
        "demo migrate $cmd: exit $a and output as sqlmig $cmd (exit $b)"
    cmp -s "$work/host.out" "$work/cli.out" || diff "$work/cli.out" "$work/host.out" | head -n 6 | sed 's/^/# /'
done
DEMO_DB=$work/host.db "$demo" migrate frob > /dev/null 2> "$work/frob.err"
ok $([ $? = 2 ] && [ "$(wc -l < "$work/frob.err")" = 1 ]; echo $?) "demo migrate frob: a one-line usage error"

finish
