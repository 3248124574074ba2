#!/usr/bin/env bash
# seed.sh — rewrite the seed corpora from the test fixtures and the demo's
# migrations: tests/campaigns/fuzz/corpus_scan/ and tests/campaigns/fuzz/corpus_compile/.
#   corpus_scan/name-*   a file name (README examples)
#   corpus_scan/file-*   a fixture's file name, a NUL byte, then its text
#   corpus_compile/*     one folder each, in fuzz_compile.c's input format:
#                        chunks "NAME\nBYTES" joined by the line "%%"
# Corpus files are named by a hash of their content, so a rerun on
# unchanged fixtures rewrites nothing.
# Usage: tests/campaigns/fuzz/seed.sh   (from anywhere)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
scan=$here/corpus_scan
compile=$here/corpus_compile

rm -rf "$scan" "$compile"
mkdir -p "$scan" "$compile"

# Write stdin to DIR/PREFIX-<hash of the bytes>.
put() {
    local dir=$1 prefix=$2 tmp hash
    tmp=$(mktemp)
    cat > "$tmp"
    hash=$(sha1sum < "$tmp" | cut -c1-16)
    mv "$tmp" "$dir/$prefix-$hash"
}

# Names docs/folder.md gives as examples, good and bad, beyond the fixtures'.
names=(
    0001_create_users.sql 1_a.sql 20240501120000_x.sql 0003_seed_roles.up.sql
    0003_seed_roles.down.sql 0001-create.sql 0001_.sql 0001_x.SQL create_users.sql
    0002_x.DOWN.sql .#x.sql .x.sql.swp x.sql~ README.md 0_zero.sql 1_sql
    9223372036854775807_last.sql 9223372036854775808_over.sql 0001_.up.sql
    0001.sql 0001_.hidden.sql 0001_a.Up.sql
)
for n in "${names[@]}"; do
    printf '%s' "$n" | put "$scan" name
done

# Every fixture folder and the demo's history.
folders=("$root"/tests/fixtures/good/*/migrations "$root"/tests/fixtures/bad/*/migrations
         "$root/migrations")
for dir in "${folders[@]}"; do
    case $dir in
    "$root/migrations") label=demo ;;
    *) label=$(basename "$(dirname "$(dirname "$dir")")")-$(basename "$(dirname "$dir")") ;;
    esac
    first=1
    # LC_ALL=C: the same order on every machine.
    while IFS= read -r -d '' entry; do
        base=${entry##*/}
        if [ -d "$entry" ]; then
            chunk_name="$base/"
        else
            chunk_name=$base
            # The demo's texts are only in the folder seed: a few dozen is enough.
            [ "$label" = demo ] || { printf '%s\0' "$base"; cat "$entry"; } | put "$scan" file
        fi
        {
            [ $first -eq 1 ] || printf '\n%%%%\n'
            printf '%s\n' "$chunk_name"
            [ -d "$entry" ] || cat "$entry"
        } >> "$compile/$label.tmp"
        first=0
    done < <(find "$dir" -mindepth 1 -maxdepth 1 -print0 | LC_ALL=C sort -z)
    if [ -f "$compile/$label.tmp" ]; then
        put "$compile" "$label" < "$compile/$label.tmp"
        rm "$compile/$label.tmp"
    fi
done

echo "seed.sh: $(ls "$scan" | wc -l) scanner seeds, $(ls "$compile" | wc -l) folder seeds"
