#!/usr/bin/env bash
# A host whose migrations call its own SQL function (tests/e2e/host_ext): Meson
# builds the function as a loadable extension for the build machine, the
# recipe gives it to `sqlmig compile --load-extension`, and the program
# registers the same function on sqlmig's connection. It configures, builds
# and runs; the rows hold what the function made of them; and rebuilding the
# extension re-runs the compile step (the depfile names it).
# Usage: host_ext_test.sh SQLMIG_SOURCE_ROOT   (prints TAP)
set -u
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. "$(dirname "$0")/../helpers/tap.sh"

host=$work/host
cp -R "$src/tests/e2e/host_ext" "$host"
rm -rf "$host/build"
mkdir -p "$host/subprojects/sqlmig"
for p in meson.build meson_options.txt runtime tools generated migrations; do
    cp -R "$src/$p" "$host/subprojects/sqlmig/"
done

cd "$host"
meson setup build > "$work/setup.log" 2>&1
status=$?
ok $status "meson setup of the host succeeds"
[ $status -eq 0 ] || { sed 's/^/# /' "$work/setup.log"; finish; }
ninja -C build > "$work/build.log" 2>&1
status=$?
ok $status "ninja builds the extension, compiles the migrations with it, and builds the host"
[ $status -eq 0 ] || { sed 's/^/# /' "$work/build.log"; finish; }

out=$(./build/app "$work/app.db" 2>&1)
ok $([ "$out" = "app: $work/app.db is at version 2 (2 applied)" ]; echo $?) "the program applies both: $out"
rows=$(sqlite3 "$work/app.db" "SELECT group_concat(name, ',') FROM (SELECT name FROM tags ORDER BY name)")
ok $([ "$rows" = "later,urgent" ]; echo $?) "the rows are what normalize() made of them: $rows"
out=$(./build/app "$work/app.db" 2>&1)
ok $([ "$out" = "app: $work/app.db is at version 2 (0 applied)" ]; echo $?) "a second run applies nothing: $out"

# Ninja keeps what a depfile said in its own log, and deletes the file.
ninja -C build -t deps app_migrations.c | grep -q '/normalize.so$'
ok $? "the depfile names the extension"
sleep 1
touch normalize.c
ninja -C build > "$work/rebuild.log" 2>&1
ok $(grep -q 'Generating app_migrations' "$work/rebuild.log"; echo $?) \
    "a rebuilt extension re-runs sqlmig compile"

finish
