#!/usr/bin/env bash
# Every layout's fixture, read unchanged: for each tests/fixtures/layouts/L,
#   - `sqlmig check` names the layout L;
#   - `sqlmig compile` embeds it, and a program applies it to a fresh
#     database twice: from the snapshot, and migration by migration;
#   - the layout's own tool (or, where it does not install from Debian or
#     npm, the sqlite3 CLI running the files in that tool's documented
#     order) builds a reference database;
#   - the three have the same schema and the same rows (ledgers aside);
#   - the reference, with the ledger its tool leaves (the real one from
#     dbmate and Drizzle, else tests/e2e/layouts/ledger.py writes it in that
#     tool's shape), is adopted by sqlmig_adopt() importing that ledger,
#     after which nothing is left to apply; and a tampered checksum, a
#     dirty or failed state is refused.
# dbmate and Drizzle are the real tools when SQLMIG_LAYOUT_TOOLS names an
# npm prefix holding dbmate, drizzle-orm and sql.js (tools/dev test installs
# them there); otherwise they too are SQLite running the files, and say so.
# Usage: layouts.sh SQLMIG SOURCE_ROOT CC...   (prints TAP)
set -u
sqlmig=$1
src=$2
cc=("${@:3}")
fixtures=$src/tests/fixtures/layouts
here=$src/tests/e2e/layouts
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tools=${SQLMIG_LAYOUT_TOOLS:-}

. "$src/tests/helpers/tap.sh"

# Run each file given, byte for byte (the sqlite3 CLI would drop the CR of
# CR LF line endings, which SQLite itself keeps in the schema), on database
# $1 in the order given: Python's sqlite3 module, a script per file.
cli_apply() {
    python3 - "$@" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
for path in sys.argv[2:]:
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    try:
        db.executescript(text)
    except sqlite3.Error as e:
        print(f"# {path}: {e}")
        sys.exit(1)
PY
}

# The lines of a section-marked file between its up marker and its down
# marker (awk, not sqlmig's scanner): goose's or dbmate's, bytes kept.
up_section() {
    awk -v up="$2" -v down="$3" 'BEGIN { ORS = "" }
        { line = $0; sub(/\r$/, "", line); low = tolower(line) }
        low ~ up { on = 1; next }
        low ~ down { on = 0 }
        on { print $0 "\n" }' "$1"
}

reference() {
    local layout=$1 dir=$2 db=$3 f
    case $layout in
    plain|sqlx)
        # Numeric version order; the up part of a pair.
        cli_apply "$db" $(cd "$dir" && ls | grep -E '^[0-9]+.*\.sql$' | grep -v '\.down\.sql$' |
                          sort -t_ -k1,1n | sed "s|^|$dir/|") ;;
    golang-migrate)
        # Each up file whole: its own BEGIN ... COMMIT runs as written.
        cli_apply "$db" $(cd "$dir" && ls | grep -E '^[0-9]+_.*\.up\.' | sort -t_ -k1,1n | sed "s|^|$dir/|") ;;
    goose)
        for f in $(cd "$dir" && ls | grep -E '^[0-9]+_.*\.sql$' | sort -t_ -k1,1n); do
            up_section "$dir/$f" '^-- \+goose up' '^-- \+goose down' > "$work/section.sql"
            cli_apply "$db" "$work/section.sql" || return 1
        done ;;
    dbmate)
        if [ -n "$tools" ]; then
            "$tools/node_modules/.bin/dbmate" --url "sqlite:$db" --migrations-dir "$dir" --no-dump-schema \
                up > "$work/dbmate.log" 2>&1 || { sed 's/^/# /' "$work/dbmate.log"; return 1; }
        else
            for f in $(cd "$dir" && ls | grep -E '^[0-9]+.*\.sql$' | sort); do
                up_section "$dir/$f" '^-- *migrate:up' '^-- *migrate:down' > "$work/section.sql"
                cli_apply "$db" "$work/section.sql" || return 1
            done
        fi ;;
    diesel)
        cli_apply "$db" $(cd "$dir" && ls -d [0-9]*/ | sort | sed "s|^|$dir/|; s|/\$|/up.sql|") ;;
    drizzle)
        if [ -n "$tools" ]; then
            node "$here/drizzle_migrate.cjs" "$tools" "$dir" "$db" 2> "$work/drizzle.log" ||
                { sed 's/^/# /' "$work/drizzle.log"; return 1; }
        else
            for f in $(python3 -c 'import json,sys; [print(e["tag"]) for e in json.load(open(sys.argv[1]))["entries"]]' \
                       "$dir/meta/_journal.json"); do
                cli_apply "$db" "$dir/$f.sql" || return 1
            done
        fi ;;
    flyway)
        # Versions compared part by part, '.' and '_' alike; each file with
        # its placeholders replaced (the fixture's args give their values).
        mkdir -p "$work/flyway-files"
        for f in $(cd "$dir" && find . -name 'V*__*.sql' -o -name 'R__*.sql' | sed 's|^\./||'); do
            python3 - "$dir/$f" "$work/flyway-files/$(basename "$f")" $(cat "$dir/../args") <<'PY'
import os, re, sys
src, dst, args = sys.argv[1], sys.argv[2], sys.argv[3:]
values = {"flyway:filename": os.path.basename(src)}
for i, a in enumerate(args):
    if a == "--placeholder":
        name, value = args[i + 1].split("=", 1)
        values[name] = value
text = open(src, "rb").read().decode("utf-8")
text = re.sub(r"\$\{([A-Za-z0-9_.:-]+)\}", lambda m: values[m.group(1)], text)
open(dst, "wb").write(text.encode("utf-8"))
PY
        done
        # Flyway reads sub-folders too; all versions are ordered together.
        cli_apply "$db" $(cd "$work/flyway-files" && ls V*__*.sql | python3 -c '
import re, sys
names = sys.stdin.read().split()
def key(n):
    parts = [int(p) for p in re.split(r"[._]", n[1:n.index("__")])]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return parts
print("\n".join(sorted(names, key=key)))' | sed "s|^|$work/flyway-files/|") || return 1
        # Then the repeatable ones, by description.
        cli_apply "$db" $(cd "$work/flyway-files" && ls R__*.sql 2>/dev/null | LC_ALL=C sort |
                          sed "s|^|$work/flyway-files/|") ;;
    esac
}

# Schema and rows of every table but the ledgers, as text.
fingerprint() {
    local db=$1 t
    local skip="'schema_migrations', 'schema_migrations_repeatable', '__drizzle_migrations', 'sqlite_sequence'"
    sqlite3 "$db" "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE tbl_name NOT IN ($skip) ORDER BY type, name"
    for t in $(sqlite3 "$db" "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT IN ($skip) ORDER BY name"); do
        echo "== $t"
        sqlite3 -cmd '.mode quote' "$db" "SELECT * FROM \"$t\" ORDER BY rowid"
    done
}

for case_dir in "$fixtures"/*/; do
    layout=$(basename "$case_dir")
    dir=${case_dir}migrations
    w=$work/$layout
    mkdir -p "$w"

    # A fixture's args file holds the options its folder needs (placeholders).
    args=()
    [ -f "$case_dir/args" ] && read -r -a args < "$case_dir/args"
    out=$("$sqlmig" check "$dir" "${args[@]}" 2> "$w/check.err")
    ok $([ $? -eq 0 ] && case $out in "$dir: $layout layout ("*) true ;; *) false ;; esac; echo $?) \
        "$layout: check reads the folder as $layout: $out"
    [ -s "$w/check.err" ] && sed 's/^/# /' "$w/check.err"

    if ! "$sqlmig" compile "$dir" "${args[@]}" --symbol m --output-c "$w/m.c" --output-h "$w/m.h" 2> "$w/compile.err" ||
       ! "${cc[@]}" -std=c11 -I"$src/runtime" -I"$w" "$here/apply.c" "$w/m.c" "$src/runtime/sqlmig.c" -lsqlite3 \
            -o "$w/apply" 2>> "$w/compile.err"; then
        ok 1 "$layout: compiles and builds"
        sed 's/^/# /' "$w/compile.err"
        continue
    fi
    ok 0 "$layout: compiles and builds"
    "$w/apply" "$w/fresh.db" > "$w/apply.err" 2>&1
    ok $? "$layout: applies to a fresh database (snapshot)"
    "$w/apply" "$w/replay.db" replay >> "$w/apply.err" 2>&1
    ok $? "$layout: applies migration by migration"
    [ -s "$w/apply.err" ] && sed 's/^/# /' "$w/apply.err"

    who="SQLite running the files in $layout's order"
    case $layout in dbmate|drizzle) [ -n "$tools" ] && who="$layout itself" ;; esac
    reference "$layout" "$dir" "$w/ref.db"
    ok $? "$layout: $who builds the reference"
    fingerprint "$w/ref.db" > "$w/ref.txt"
    for db in fresh replay; do
        fingerprint "$w/$db.db" > "$w/$db.txt"
        if cmp -s "$w/ref.txt" "$w/$db.txt" && [ -s "$w/ref.txt" ]; then
            ok 0 "$layout: $db database equals what $who gives"
        else
            ok 1 "$layout: $db database equals what $who gives"
            diff "$w/ref.txt" "$w/$db.txt" | head -n 20 | sed 's/^/# /'
        fi
    done
    case $layout in dbmate|drizzle) [ -z "$tools" ] &&
        ok 0 "$layout: compared with its own tool # SKIP SQLMIG_LAYOUT_TOOLS not set (tools/dev test sets it)" ;;
    esac

    # The reference as that tool leaves it, ledger and all: adopted.
    tool=$layout
    [ "$layout" = plain ] && tool=last
    cp "$w/ref.db" "$w/adopt.db"
    python3 "$here/ledger.py" "$layout" "$dir" "$w/adopt.db"
    t=$(sqlite3 "$w/adopt.db" "SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN ('schema_migrations',
          'goose_db_version', '_sqlx_migrations', '__diesel_schema_migrations', '__drizzle_migrations',
          'flyway_schema_history')")
    [ -n "$t" ] && sqlite3 "$w/adopt.db" "SELECT * FROM \"$t\" ORDER BY 1, 2" > "$w/tool-before.txt"
    "$w/apply" "$w/adopt.db" adopt "$tool" > "$w/adopt.err" 2>&1
    ok $? "$layout: a database $who migrated, with its ledger ($tool), adopted; nothing left to apply"
    [ -s "$w/adopt.err" ] && sed 's/^/# /' "$w/adopt.err"
    if [ "$tool" != last ]; then
        # The tool's own table stays as it was: the deployment can go back to that tool.
        [ -n "$t" ] && sqlite3 "$w/adopt.db" "SELECT * FROM \"$t\" ORDER BY 1, 2" | cmp -s - "$w/tool-before.txt"
        ok $? "$layout: its ledger ($t) is left as it was"
    fi

    # What the tool's ledger says against adopting.
    tamper=
    case $layout in
    sqlx) tamper="UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = (SELECT max(version) FROM _sqlx_migrations)"
          want=SQLMIG_CHECKSUM ;;
    flyway) tamper="UPDATE flyway_schema_history SET success = 0 WHERE installed_rank = 2"; want=SQLMIG_LEDGER ;;
    golang-migrate) tamper="UPDATE schema_migrations SET dirty = 1"; want=SQLMIG_LEDGER ;;
    drizzle) tamper="UPDATE __drizzle_migrations SET hash = 'x' WHERE created_at = (SELECT min(created_at) FROM __drizzle_migrations)"
             want=SQLMIG_CHECKSUM ;;
    goose) tamper="INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, 1)"; want=SQLMIG_UNKNOWN ;;
    esac
    if [ -n "$tamper" ]; then
        cp "$w/ref.db" "$w/tampered.db"
        python3 "$here/ledger.py" "$layout" "$dir" "$w/tampered.db" && sqlite3 "$w/tampered.db" "$tamper" &&
            ! "$w/apply" "$w/tampered.db" adopt "$tool" > "$w/tampered.err" 2>&1 && grep -q "adopt: $want" "$w/tampered.err" &&
            [ "$(sqlite3 "$w/tampered.db" "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlmig_migrations'")" = 0 ]
        ok $? "$layout: its ledger altered ($tamper): $want, nothing adopted: $(head -c 300 "$w/tampered.err")"
    fi
done

finish
