#!/usr/bin/env bash
# A cross build for aarch64 (cross/aarch64-linux-gnu.ini): the tool is built
# for the build machine and runs there during the build, the runtime and
# the demo are built for the target; the demo runs under qemu, and the
# native tool verifies the database it made.
# Usage: cross_test.sh SOURCE_ROOT   (prints TAP)
set -u
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. "$(dirname "$0")/../helpers/tap.sh"

for need in aarch64-linux-gnu-gcc qemu-aarch64; do
    command -v "$need" > /dev/null || { ok 1 "$need is installed (tools/dev test installs it)"; finish; }
done
[ -e /usr/lib/aarch64-linux-gnu/pkgconfig/sqlite3.pc ]
ok $? "the target's libsqlite3-dev:arm64 is installed"

meson setup "$work/build" "$src" --cross-file "$src/tests/e2e/cross/aarch64-linux-gnu.ini" > "$work/setup.log" 2>&1 &&
    ninja -C "$work/build" > "$work/build.log" 2>&1
status=$?
ok $status "meson setup --cross-file and ninja"
[ $status -eq 0 ] || { tail -n 20 "$work/setup.log" "$work/build.log" | sed 's/^/# /'; finish; }

machine() { readelf -h "$1" | sed -n 's/^ *Machine: *//p'; }
[ "$(machine "$work/build/demo")" = AArch64 ] && [ "$(machine "$work/build/sqlmig")" = "$(machine /bin/sh)" ]
ok $? "the demo is built for $(machine "$work/build/demo"), the tool for $(machine "$work/build/sqlmig")"

db=$work/cross.db
latest=$(ls "$src/migrations" | grep '^[0-9][0-9]*_.*\.sql$' | grep -vc '\.down\.sql$')
out=$(qemu-aarch64 "$work/build/demo" "$db" 2>&1)
echo "$out" | grep -qx "migrated $db from version 0 to [0-9]* ($latest applied)"
ok $? "the demo migrates under qemu: $(echo "$out" | grep '^migrated')"
out=$(qemu-aarch64 "$work/build/demo" "$db" 2>&1)
echo "$out" | grep -qx "$db is up to date at version [0-9]*"
ok $? "a second run applies nothing: $(echo "$out" | head -n 1)"

"$work/build/sqlmig" verify "$db" --dir "$src/migrations" > "$work/verify.out" 2>&1
ok $? "the native tool verifies the database made on the target: $(tail -n 1 "$work/verify.out")"
DEMO_DB=$db qemu-aarch64 "$work/build/demo" migrate status > "$work/target.out" 2>&1 &&
    "$work/build/sqlmig" status "$db" --dir "$src/migrations" > "$work/native.out" 2>&1 &&
    cmp -s "$work/target.out" "$work/native.out"
ok $? "demo migrate status on the target prints what sqlmig status prints natively"

finish
