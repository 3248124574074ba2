#!/usr/bin/env bash
# A system install and the hosts that use it: `meson setup -Dtests=false`
# builds no test and warns of nothing; `meson install` puts the tool, the
# header, the static and shared runtime, sqlmig.pc (naming the tool) and
# the man pages in place; examples/Makefile (GNU make) and
# examples/CMakeLists.txt (CMake, Makefile and Ninja generators) build the
# example host against that install, regenerate after a migration is
# touched, added or deleted, and then settle: a second build does nothing.
# Usage: install_test.sh SOURCE_ROOT   (prints TAP)
set -u
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. "$(dirname "$0")/../helpers/tap.sh"

prefix=$work/prefix
meson setup "$work/build" "$src" --prefix="$prefix" -Dtests=false > "$work/setup.log" 2>&1
status=$?
ok $status "meson setup -Dtests=false"
[ $status -eq 0 ] || { sed 's/^/# /' "$work/setup.log"; finish; }
! grep -Eq "WARNING|DEPRECATION" "$work/setup.log"
ok $? "the setup prints no warning: $(grep -E 'WARNING|DEPRECATION' "$work/setup.log" | head -n 1)"
! ninja -C "$work/build" -t targets all | grep -Eq "test_runtime|crash_campaign|tests/"
ok $? "no test is part of the build"
meson install -C "$work/build" > "$work/install.log" 2>&1
status=$?
ok $status "meson install"
[ $status -eq 0 ] || { sed 's/^/# /' "$work/install.log"; finish; }

pc=$(find "$prefix" -name sqlmig.pc)
libdir=$(dirname "$(dirname "$pc")")
missing=
for f in bin/sqlmig include/sqlmig.h share/man/man1/sqlmig.1 share/man/man3/sqlmig.3; do
    [ -e "$prefix/$f" ] || missing="$missing $f"
done
for f in libsqlmig.a libsqlmig.so libsqlmig.so.0; do
    [ -e "$libdir/$f" ] || missing="$missing $f"
done
[ -n "$pc" ] && [ -z "$missing" ]
ok $? "installed: the tool, the header, libsqlmig.a, libsqlmig.so.0, sqlmig.pc, sqlmig(1), sqlmig(3)${missing:+; missing:$missing}"
export PKG_CONFIG_PATH=$(dirname "$pc")
export LD_LIBRARY_PATH=$libdir
[ "$(pkg-config --variable=sqlmig sqlmig)" = "$prefix/bin/sqlmig" ] && "$(pkg-config --variable=sqlmig sqlmig)" --version > /dev/null
ok $? "pkg-config --variable=sqlmig sqlmig names the installed tool: $(pkg-config --variable=sqlmig sqlmig)"
if command -v groff > /dev/null; then
    warnings=$(groff -man -ww -z "$prefix/share/man/man1/sqlmig.1" "$prefix/share/man/man3/sqlmig.3" 2>&1)
    [ -z "$warnings" ]
    ok $? "the man pages format without a warning: $warnings"
fi

# build DIR COMMAND...: run a build, its output in DIR/log; did it run sqlmig?
build() {
    local dir=$1
    shift
    (cd "$dir" && "$@") > "$dir/log" 2>&1
}
ran_sqlmig() { grep -Eq "sqlmig compile" "$1/log"; }
compiled() { grep -Eq "\-c -o|Building C|Linking" "$1/log"; }

# host NAME BUILD-COMMAND...: the example host, through every change.
host() {
    local name=$1 h=$work/${1//[^A-Za-z0-9]/-}
    shift
    cp -R "$src/examples" "$h"
    build "$h" "$@"
    ok $? "$name: builds against the installed copy"
    out=$("$h/app" "$h/app.db" 2>&1)
    [ "$out" = "app: $h/app.db is at version 2 (2 applied)" ]
    ok $? "$name: the program migrates: $out"
    build "$h" "$@" && ! ran_sqlmig "$h" && ! compiled "$h"
    ok $? "$name: a second build does nothing"
    sleep 1
    touch "$h/migrations/0001_create_items.sql"
    build "$h" "$@" && ran_sqlmig "$h"
    ok $? "$name: a touched migration runs sqlmig again"
    build "$h" "$@" && ! ran_sqlmig "$h" && ! compiled "$h"
    ok $? "$name: then the build settles"
    printf 'CREATE TABLE notes (id INTEGER PRIMARY KEY);\n' > "$h/migrations/0003_notes.sql"
    build "$h" "$@" && out=$("$h/app" "$h/app.db" 2>&1) && [ "$out" = "app: $h/app.db is at version 3 (1 applied)" ]
    ok $? "$name: a new migration is built in and applied: $out"
    build "$h" "$@" && ! ran_sqlmig "$h"
    ok $? "$name: and the build settles again"
    rm "$h/migrations/0003_notes.sql"
    build "$h" "$@" && ran_sqlmig "$h"
    ok $? "$name: a deleted migration rebuilds, with no 'No rule to make target': $(grep -m1 'No rule' "$h/log")"
}

host "GNU make" make
build "$work/GNU-make" make && ! ran_sqlmig "$work/GNU-make"
ok $? "GNU make: settles after the deletion too"

if command -v cmake > /dev/null; then
    cmake_build() { cmake -S . -B b -G "$generator" -DCMAKE_PREFIX_PATH="$prefix" > /dev/null && cmake --build b && cp b/app app; }
    generator=Ninja
    host "CMake (Ninja)" cmake_build
    build "$work/CMake--Ninja-" cmake_build && ! ran_sqlmig "$work/CMake--Ninja-"
    ok $? "CMake (Ninja): settles after the deletion too"
    # The Makefile generators keep every dependency a depfile ever named
    # (CMake 3.25): after a deletion they rerun sqlmig until a clean build;
    # everything else settles as with Ninja.
    generator="Unix Makefiles"
    host "CMake (Unix Makefiles)" cmake_build
else
    ok 1 "cmake is not installed"
fi

finish
