#!/usr/bin/env bash
# Every rejection of `sqlmig compile`, each with its own message: for each
# tests/fixtures/bad/CASE, compile CASE/migrations and compare stderr with
# CASE/expected (where @DIR@ stands for the folder as given), check the exit
# status is 1, and check that no output file is left behind, not even one
# from an earlier successful run.
# Usage: compile_errors.sh SQLMIG FIXTURES_DIR   (prints TAP)
set -u
sqlmig=$1
fixtures=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. "$(dirname "$0")/../helpers/tap.sh"

for case_dir in "$fixtures"/bad/*/; do
    name=$(basename "$case_dir")
    dir=${case_dir}migrations
    out=$work/$name
    mkdir -p "$out"
    # Stale outputs from an earlier good build must not survive a failure.
    for f in m.c m.h m.d schema.sql; do echo stale > "$out/$f"; done
    "$sqlmig" compile "$dir" --symbol m --output-c "$out/m.c" --output-h "$out/m.h" \
        --depfile "$out/m.d" --schema "$out/schema.sql" 2> "$out/stderr"
    status=$?
    ok $([ $status -eq 1 ]; echo $?) "$name: exit status 1 (got $status)"
    sed "s|@DIR@|$dir|g" "$case_dir/expected" > "$out/expected"
    if cmp -s "$out/expected" "$out/stderr"; then
        ok 0 "$name: message is exactly $(head -c 120 "$out/expected" | head -n 1)"
    else
        ok 1 "$name: message"
        echo "# expected:"; sed 's/^/#   /' "$out/expected"
        echo "# got:"; sed 's/^/#   /' "$out/stderr"
    fi
    left=$(ls "$out" | grep -v -e '^stderr$' -e '^expected$' | tr '\n' ' ')
    ok $([ -z "$left" ]; echo $?) "$name: no output left behind ${left:+(found: $left)}"
done

# A bad symbol is a usage error (exit 2) that names the symbol.
"$sqlmig" compile "$fixtures/good/features/migrations" --symbol 2bad --output-c "$work/x.c" \
    --output-h "$work/x.h" 2> "$work/sym.err"
ok $([ $? -eq 2 ] && grep -q "'2bad' is not a C identifier" "$work/sym.err"; echo $?) \
    "a symbol that is not a C identifier is refused"
"$sqlmig" compile "$fixtures/good/features/migrations" --symbol __x --output-c "$work/x.c" \
    --output-h "$work/x.h" 2> "$work/sym.err"
ok $([ $? -eq 2 ]; echo $?) "a reserved identifier is refused as a symbol"
"$sqlmig" compile "$work/no-such-folder" --symbol m --output-c "$work/x.c" \
    --output-h "$work/x.h" 2> "$work/nofolder.err"
ok $([ $? -eq 1 ] && grep -q "^$work/no-such-folder: error: cannot open the migrations folder: No such file or directory$" "$work/nofolder.err"; echo $?) \
    "a missing folder is named with the cause"

# --layout: an unknown name is a usage error; a forced layout is read as
# given, so a goose folder read as plain has its markers refused.
"$sqlmig" check "$fixtures/good/features/migrations" --layout liquibase 2> "$work/layout.err"
ok $([ $? -eq 2 ] && grep -q "^sqlmig: error: check: --layout 'liquibase' is not one of plain, sqlx" "$work/layout.err"; echo $?) \
    "an unknown --layout is a usage error naming it"
goose=$(dirname "$fixtures")/fixtures/layouts/goose/migrations
"$sqlmig" check "$goose" --layout plain 2> "$work/forced.err"
ok $([ $? -eq 1 ] && grep -q "^$goose/00001_create_posts.sql:1:1: error: another tool's section marker" "$work/forced.err"; echo $?) \
    "a goose folder forced to the plain layout has its markers refused"
# --load-extension: a file that is not there is named, once.
"$sqlmig" check "$fixtures/bad/app-function/migrations" --load-extension "$work/none.so:init" 2> "$work/ext.err"
ok $([ $? -eq 1 ] && [ "$(cat "$work/ext.err")" = "$work/none.so: error: cannot load the extension: No such file or directory" ]; echo $?) \
    "a missing extension is named with the cause, on one line"
# An empty folder compiles, with a note that says so.
mkdir -p "$work/no-migrations"
"$sqlmig" check "$work/no-migrations" > /dev/null 2> "$work/empty.err"
ok $([ $? -eq 0 ] && [ "$(cat "$work/empty.err")" = "$work/no-migrations: note: no migration in this folder: the set is empty" ]; echo $?) \
    "an empty folder gives a note, not silence"

finish
