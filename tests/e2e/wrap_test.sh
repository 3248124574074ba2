#!/usr/bin/env bash
# The wrap file as the README prints it (docs/building.md prints the same):
# examples/ takes sqlmig through it, with only its URL replaced by a git
# repository of this source, and builds and runs.
# Usage: wrap_test.sh SOURCE_ROOT   (prints TAP)
set -u
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. "$(dirname "$0")/../helpers/tap.sh"

# The ```ini block that follows the first line naming subprojects/sqlmig.wrap.
wrap_of() {
    awk '/subprojects\/sqlmig\.wrap/ { seen = 1 } seen && /^```ini$/ { inside = 1; next }
         inside && /^```$/ { exit } inside { print }' "$1"
}
wrap_of "$src/README.md" > "$work/readme.wrap"
wrap_of "$src/docs/building.md" > "$work/building.wrap"
[ -s "$work/readme.wrap" ] && cmp -s "$work/readme.wrap" "$work/building.wrap"
ok $? "the README and docs/building.md print the same wrap file"
grep -q '^\[wrap-git\]$' "$work/readme.wrap" && grep -q '^url = ' "$work/readme.wrap" &&
    grep -q '^dependency_names = sqlmig$' "$work/readme.wrap" && grep -q '^program_names = sqlmig$' "$work/readme.wrap"
ok $? "it is a git wrap that provides the dependency and the program"

# A repository of the source as it is released, on a branch named main.
origin=$work/origin
mkdir "$origin"
for p in meson.build meson_options.txt LICENSE runtime tools generated migrations docs; do
    cp -R "$src/$p" "$origin/"
done
(cd "$origin" && git init -q && git checkout -q -b main && git add -A &&
    git -c user.name=sqlmig -c user.email=sqlmig@localhost commit -qm release) > "$work/git.log" 2>&1
ok $? "a git repository of the source"

host=$work/host
cp -R "$src/examples" "$host"
mkdir -p "$host/subprojects"
sed "s|^url = .*|url = file://$origin|" "$work/readme.wrap" > "$host/subprojects/sqlmig.wrap"
(cd "$host" && meson setup build && ninja -C build) > "$work/build.log" 2>&1
status=$?
ok $status "meson setup and ninja fetch sqlmig through the wrap and build the host"
[ $status -eq 0 ] || { tail -n 20 "$work/build.log" | sed 's/^/# /'; finish; }
out=$("$host/build/app" "$work/app.db" 2>&1)
[ "$out" = "app: $work/app.db is at version 2 (2 applied)" ]
ok $? "the host migrates: $out"

finish
