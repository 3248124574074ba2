#!/usr/bin/env bash
# A real host project (examples/) that consumes sqlmig as a Meson subproject
# with the four statements of the README: it configures, builds and runs;
# after a new migration file is added, a plain `ninja` regenerates and the
# binary applies it; an unrelated touch relinks nothing; the host's
# `meson test` runs none of sqlmig's tests; the host needs no re2c.
# Usage: host_test.sh SQLMIG_SOURCE_ROOT   (prints TAP)
set -u
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. "$(dirname "$0")/../helpers/tap.sh"

host=$work/host
cp -R "$src/examples" "$host"
rm -rf "$host/build"
mkdir -p "$host/subprojects/sqlmig"
# The subproject is sqlmig's source as a host would get it: the files a
# release carries, not a build folder.
for p in meson.build meson_options.txt runtime tools generated migrations; do
    cp -R "$src/$p" "$host/subprojects/sqlmig/"
done

# No re2c on the PATH: the host must build from generated/scan.c.
mkdir -p "$work/bin"
IFS=: read -r -a path_dirs <<< "$PATH"
for d in "${path_dirs[@]}"; do
    for p in "$d"/*; do
        b=$(basename "$p")
        [ "$b" = re2c ] || [ -e "$work/bin/$b" ] || ln -s "$p" "$work/bin/$b"
    done
done
export PATH="$work/bin"
command -v re2c > /dev/null && { ok 1 "re2c hidden from the host build"; finish; }

cd "$host"
meson setup build > "$work/setup.log" 2>&1
status=$?
ok $status "meson setup of the host succeeds with no re2c installed"
[ $status -eq 0 ] || { sed 's/^/# /' "$work/setup.log"; finish; }
ninja -C build > "$work/build.log" 2>&1
status=$?
ok $status "ninja builds the host"
[ $status -eq 0 ] || { sed 's/^/# /' "$work/build.log"; finish; }

out=$(./build/app "$work/app.db" 2>&1)
ok $([ "$out" = "app: $work/app.db is at version 2 (2 applied)" ]; echo $?) "first run applies both migrations: $out"
out=$(./build/app "$work/app.db" 2>&1)
ok $([ "$out" = "app: $work/app.db is at version 2 (0 applied)" ]; echo $?) "second run applies nothing: $out"

ninja -C build -n > "$work/noop.log" 2>&1
ok $(grep -q "no work to do" "$work/noop.log"; echo $?) "a second ninja has no work to do"

# Touching a migration without changing it reruns sqlmig but relinks nothing.
before=$(stat -c %Y.%N build/app 2>/dev/null || stat -c %Y build/app)
sleep 1
touch migrations/0001_create_items.sql
ninja -C build > "$work/touch.log" 2>&1
after=$(stat -c %Y.%N build/app 2>/dev/null || stat -c %Y build/app)
ok $([ "$before" = "$after" ] && ! grep -q "Linking" "$work/touch.log"; echo $?) "an unchanged migration relinks nothing"

# A new migration file: a plain ninja regenerates and the binary applies it.
cat > migrations/0003_add_done.sql <<'SQL'
ALTER TABLE items ADD COLUMN done INTEGER NOT NULL DEFAULT 0;
SQL
ninja -C build > "$work/add.log" 2>&1
ok $? "ninja after adding 0003_add_done.sql succeeds"
ok $(grep -q "0003_add_done.sql" build/app_migrations.c; echo $?) "the generated file now embeds 0003_add_done.sql"
out=$(./build/app "$work/app.db" 2>&1)
ok $([ "$out" = "app: $work/app.db is at version 3 (1 applied)" ]; echo $?) "the rebuilt binary applies the new migration: $out"
col=$(sqlite3 "$work/app.db" "SELECT count(*) FROM pragma_table_info('items') WHERE name = 'done'" 2>/dev/null || echo 0)
ok $([ "$col" = 1 ]; echo $?) "the database has the new column"

# Deleting it regenerates too (the depfile names the folder).
rm migrations/0003_add_done.sql
ninja -C build > "$work/del.log" 2>&1
ok $([ $? -eq 0 ] && ! grep -q "0003_add_done.sql" build/app_migrations.c; echo $?) "deleting a migration regenerates without it"
out=$(./build/app "$work/app.db" 2>&1)
ok $(echo "$out" | grep -q "SQLMIG_UNKNOWN"; echo $?) "the older binary refuses the newer database: $out"

# A broken migration stops the host build with the file, line and column.
printf 'CREATE TABLE broken (\n  id INTEGER PRIMARY KEY,\n  ref INTEGER REFERENCES nowhere(id)\n);\nINSERT INTO nope VALUES (1);\n' > migrations/0004_broken.sql
ninja -C build > "$work/broken.log" 2>&1
status=$?
ok $([ $status -ne 0 ] && grep -q "^$host/migrations/0004_broken.sql:5:1: error: no such table: nope$" "$work/broken.log"; echo $?) \
    "a failing migration fails the host build with file:line:col"
rm migrations/0004_broken.sql

meson test -C build --list > "$work/tests.log" 2>&1
ok $(grep -qx "No tests defined." "$work/tests.log"; echo $?) "the host's meson test lists none of sqlmig's tests"

# The same four statements against a system install: no subproject, the
# runtime found through sqlmig.pc and the tool on PATH.
prefix=$work/prefix
meson setup "$work/sqlmig-build" "$src" --prefix="$prefix" --libdir=lib -Dre2c=disabled -Dtests=false \
    > "$work/install.log" 2>&1 &&
    ninja -C "$work/sqlmig-build" >> "$work/install.log" 2>&1 &&
    meson install -C "$work/sqlmig-build" --no-rebuild >> "$work/install.log" 2>&1
status=$?
ok $status "sqlmig installs into a prefix"
[ $status -eq 0 ] || { sed 's/^/# /' "$work/install.log" | tail -n 20; finish; }
ok $([ -x "$prefix/bin/sqlmig" ] && [ -f "$prefix/include/sqlmig.h" ] && [ -f "$prefix/lib/libsqlmig.a" ] &&
     grep -qx 'sqlmig=${bindir}/sqlmig' "$prefix/lib/pkgconfig/sqlmig.pc"; echo $?) \
    "the install has the tool, the header, the library and sqlmig.pc with its sqlmig variable"
rm -rf "$host/subprojects" "$host/build"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" PATH="$prefix/bin:$PATH" \
    meson setup build --wrap-mode=nofallback > "$work/system.log" 2>&1 &&
    PATH="$prefix/bin:$PATH" ninja -C build >> "$work/system.log" 2>&1
status=$?
ok $status "the host builds against the installed sqlmig with the same meson.build"
[ $status -eq 0 ] || { sed 's/^/# /' "$work/system.log" | tail -n 20; finish; }
ok $(grep -q "Run-time dependency sqlmig found: YES 0.1.0" "$work/system.log" &&
     grep -qF "Program sqlmig found: YES 0.1.0 ($prefix/bin/sqlmig)" "$work/system.log"; echo $?) \
    "dependency('sqlmig') came from pkg-config and find_program('sqlmig') from PATH"
out=$(./build/app "$work/system.db" 2>&1)
ok $([ "$out" = "app: $work/system.db is at version 2 (2 applied)" ]; echo $?) "the system-install host migrates: $out"

finish
