#!/usr/bin/env bash
# What `sqlmig compile` writes for good folders: C that compiles warning-free
# (an empty folder too), the same bytes wherever the folder lives and however
# often it runs, outputs left untouched when nothing changed, a depfile that
# names the folder and every file read (Make-escaped), CRLF read as LF in
# checksums, plus the `check` and `--version` commands.
# Usage: compile_outputs.sh SQLMIG FIXTURES_DIR RUNTIME_INCLUDE CC [CC_ARGS…]
set -u
sqlmig=$1 fixtures=$2 runtime=$3
shift 3
cc=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. "$(dirname "$0")/../helpers/tap.sh"
compile() { # DIR OUTDIR [extra args]
    local dir=$1 out=$2
    shift 2
    mkdir -p "$out"
    "$sqlmig" compile "$dir" --symbol app_migrations --output-c "$out/app_migrations.c" \
        --output-h "$out/app_migrations.h" --depfile "$out/app_migrations.d" \
        --schema "$out/schema.sql" "$@" 2> "$out/stderr"
}
cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -I"$runtime")

features=$fixtures/good/features/migrations
compile "$features" "$work/a"
ok $? "the features folder compiles"
"${cc[@]}" "${cflags[@]}" -c "$work/a/app_migrations.c" -o "$work/a.o" 2> "$work/a/cc.log"
ok $? "its C compiles with ${cflags[*]}"
grep -q '^#if !defined(SQLMIG_FORMAT) || SQLMIG_FORMAT != 4' "$work/a/app_migrations.c" || \
    grep -q 'SQLMIG_FORMAT != 4' "$work/a/app_migrations.c"
ok $? "the C checks SQLMIG_FORMAT"
ok $(grep -q 'Woverlength-strings' "$work/a/app_migrations.c"; echo $?) "the C silences -Woverlength-strings around its literals"

# Same bytes from another absolute path (Meson passes absolute paths).
mkdir -p "$work/elsewhere/deeper"
cp -R "$features" "$work/elsewhere/deeper/migrations"
compile "$work/elsewhere/deeper/migrations" "$work/b"
same=0
for f in app_migrations.c app_migrations.h schema.sql; do
    cmp -s "$work/a/$f" "$work/b/$f" || same=1
done
ok $same "outputs are byte-identical when the folder moves"
ok $(! grep -q "$work" "$work/a/app_migrations.c" "$work/a/app_migrations.h" "$work/a/schema.sql"; echo $?) \
    "no absolute path in the outputs"

# Unchanged outputs keep their timestamps (Ninja's restat relinks nothing).
before=$(stat -c '%i %Y' "$work/a/app_migrations.c" "$work/a/app_migrations.h" "$work/a/schema.sql")
sleep 1
compile "$features" "$work/a"
after=$(stat -c '%i %Y' "$work/a/app_migrations.c" "$work/a/app_migrations.h" "$work/a/schema.sql")
ok $([ "$before" = "$after" ]; echo $?) "a second run leaves unchanged outputs untouched"

# The depfile: target, the folder, every file read, escaped for Make.
dep=$(cat "$work/a/app_migrations.d")
ok $(case $dep in "$work/a/app_migrations.c: $features "*) echo 0;; *) echo 1;; esac) \
    "the depfile's target is the C file and its first input the folder"
ok $(grep -qF '0003_crlf\ index.sql' "$work/a/app_migrations.d"; echo $?) "a space in a file name is escaped"
ok $(grep -qF '_$$view\#1.sql' "$work/a/app_migrations.d"; echo $?) "\$ and # in a file name are escaped"
inputs=$(sed '/^$/q' "$work/a/app_migrations.d" | grep -o '\.sql' | wc -l)
ok $([ "$inputs" -eq 6 ]; echo $?) "the depfile names all 6 migration files (up and down) ($inputs)"
rules=$(grep -c '^[^ ].*\.sql:$' "$work/a/app_migrations.d")
ok $([ "$rules" -eq 6 ] && grep -qx "$features:" "$work/a/app_migrations.d"; echo $?) \
    "then an empty rule for the folder and each of them, as gcc -MP writes ($rules)"
ok $(! grep -q README "$work/a/app_migrations.d"; echo $?) "ignored files are not inputs"

# CRLF is read as LF in the checksum, not in the embedded bytes.
mkdir -p "$work/lf" "$work/crlf"
printf 'CREATE TABLE t (\n  x INTEGER\n);\n' > "$work/lf/0001_t.sql"
printf 'CREATE TABLE t (\r\n  x INTEGER\r\n);\r\n' > "$work/crlf/0001_t.sql"
compile "$work/lf" "$work/lf-out"
compile "$work/crlf" "$work/crlf-out"
sum_lf=$(grep -o '"[0-9a-f]\{64\}"' "$work/lf-out/app_migrations.c")
sum_crlf=$(grep -o '"[0-9a-f]\{64\}"' "$work/crlf-out/app_migrations.c")
expected=\"$(printf 'CREATE TABLE t (\n  x INTEGER\n);\n' | sha256sum | cut -d' ' -f1)\"
ok $([ "$sum_lf" = "$expected" ]; echo $?) "the checksum is the SHA-256 of the file ($sum_lf)"
ok $([ "$sum_lf" = "$sum_crlf" ]; echo $?) "a CRLF checkout has the same checksum"
ok $(grep -q '\\r\\n' "$work/crlf-out/app_migrations.c" || grep -q '\\015\\n' "$work/crlf-out/app_migrations.c"; echo $?) \
    "the CRLF bytes themselves are embedded"

# An empty folder is valid C too.
mkdir -p "$work/empty"
compile "$work/empty" "$work/e"
ok $? "an empty folder compiles"
"${cc[@]}" "${cflags[@]}" -c "$work/e/app_migrations.c" -o "$work/e.o" 2> "$work/e/cc.log"
ok $? "the empty set is valid C11 under -Wpedantic -Werror"

# Foreign keys are off for every migration of the replay, as at run time,
# even after a no-transaction migration switched them on.
out=$("$sqlmig" check "$fixtures/good/fk-after-no-transaction/migrations" 2>&1)
ok $? "a rebuild after 'PRAGMA foreign_keys = ON' replays with foreign keys off: ${out//$'\n'/ }"

# A down part that cannot give the data back compiles once the migration
# says so; its flag is in the generated C.
mkdir -p "$work/oneway"
cp "$fixtures"/bad/down-loses-data/migrations/* "$work/oneway/"
{ printf -- '-- sqlmig:irreversible\n-- the dropped notes cannot come back\n'; cat "$fixtures/bad/down-loses-data/migrations/0002_drop_note.up.sql"; } \
    > "$work/oneway/0002_drop_note.up.sql"
compile "$work/oneway" "$work/oneway-out"
ok $? "a lossy down part compiles once its migration says '-- sqlmig:irreversible': $(head -c 200 "$work/oneway-out/stderr")"
grep -q '\.flags = SQLMIG_ONE_WAY,' "$work/oneway-out/app_migrations.c"
ok $? "  and the migration is marked SQLMIG_ONE_WAY, which sqlmig_rollback() refuses to cross"

# check, --version (new: new_test.sh).
out=$("$sqlmig" check "$features" 2>/dev/null)
ok $([ "$out" = "$features: plain layout (no other tool's mark); 5 migrations replayed, 4 schema objects, a snapshot for fresh databases
$features: 1 down part proven to undo its up part" ]; echo $?) "check reports what it replayed and proved: ${out//$'\n'/ | }"
ok $([ "$("$sqlmig" --version)" = "sqlmig 0.1.0" ]; echo $?) "--version prints a version Meson can parse"

finish
