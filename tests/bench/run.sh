#!/usr/bin/env bash
# run.sh — sqlmig's benchmarks (see README.md in this folder). Meson's
# `bench` run target calls it; by hand:
#
#   tests/bench/run.sh SRCDIR WORKDIR SQLMIG LIBSQLMIG BARE CC [CC ARGS...]
#
#   SRCDIR     the source tree (runtime/, tests/helpers/gen_history.py, tests/bench/)
#   WORKDIR    where histories, programs, databases, hyperfine's JSON and
#              results.md go; it must be on a real disk, not tmpfs
#   SQLMIG     the built `sqlmig` tool
#   LIBSQLMIG  the built runtime library (libsqlmig.a)
#   BARE       the built bench_bare program (bare.c)
#   CC ...     the C compiler, as Meson runs it
#
# Environment:
#   BENCH_SIZES      history sizes (default "100 1000 10000")
#   BENCH_MODES      journal modes (default "rollback wal")
#   BENCH_RUNS       hyperfine runs of each timed command (default 5)
#   BENCH_BIG_RUNS   runs for sizes >= BENCH_BIG (default 2), where one
#                    compile or fresh apply takes minutes
#   BENCH_BIG        (default 10000)
#   BENCH_FAST_RUNS  runs of the millisecond figures: no-op start, gcc (30)
#   BENCH_FIGURES    which figures (default "1 2 4 5 6"; 2 includes 3)
#   BENCH_FRESH_MAX  largest size of figures 2 and 3 (default 1000): one
#                    fresh apply of 10000 migrations takes minutes of CPU in
#                    SQLite, and those figures time five such commands
#   BENCH_SNAPSHOT_MAX  --snapshot-max of the second host of figure 3, whose
#                    set embeds a snapshot whatever its size (default 1 GiB)
#   BENCH_COMPILE_ARGS  more arguments of the `sqlmig compile` that makes the
#                    hosts' sets (not of the one figure 4 times), e.g.
#                    --no-snapshot; default none
#   BENCH_SEED       gen_history.py --seed (default 7)
#   BENCH_BULK_ROWS  gen_history.py --bulk-rows (default 20: seed-sized data
#                    migrations, as tests/meson.build's bench_100 and
#                    bench_1000, whose snapshots the suite proves equal to
#                    the replay; 2000 makes data-heavy histories)
#
# Every command that hyperfine times must exit 0: a benchmark that breaks
# stops the run instead of timing an error message.
set -euo pipefail

if [ $# -lt 6 ]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2
    exit 2
fi
src=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(cd "$2" && pwd)
sqlmig=$3 lib=$4 bare=$5
shift 5
cc=("$@")

sizes=${BENCH_SIZES:-100 1000 10000}
modes=${BENCH_MODES:-rollback wal}
runs=${BENCH_RUNS:-5}
big_runs=${BENCH_BIG_RUNS:-2}
big=${BENCH_BIG:-10000}
fast_runs=${BENCH_FAST_RUNS:-30}
fresh_max=${BENCH_FRESH_MAX:-1000}
snap_max=${BENCH_SNAPSHOT_MAX:-1073741824}
compile_args=${BENCH_COMPILE_ARGS:-}
figures=" ${BENCH_FIGURES:-1 2 4 5 6} "
seed=${BENCH_SEED:-7}
bulk=${BENCH_BULK_ROWS:-20}
bench=$src/tests/bench
rows=$work/rows.jsonl
json=$work/json
dbs=$work/db
report=(python3 "$bench/report.py")
sqlite_libs=$(pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)

for tool in hyperfine sqlite3 python3 size nm; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (tools/dev bench installs it)" >&2; exit 1; }
done
mkdir -p "$json" "$dbs"
rm -f "$rows" "$work"/allocs-*.txt "$work/sqlmig-Os.o" "$work/sqlmig-Os.undefined"
fstype=$(stat -f -c %T "$dbs")
if [ "$fstype" = tmpfs ] || [ "$fstype" = ramfs ]; then
    echo "run.sh: $dbs is on $fstype: fsync would cost nothing there; give a WORKDIR on a disk" >&2
    exit 1
fi

has() { [[ $figures == *" $1 "* ]]; }
runs_for() { if [ "$1" -ge "$big" ]; then echo "$big_runs"; else echo "$runs"; fi; }
say() { printf '\n== %s\n' "$*"; }
started=$(date +%s)

# hyperfine NAME JSON RUNS [hyperfine options] -- name1 'command1' name2 'command2' ...
# Commands are run without a shell (-N); --prepare may be given before --.
timeit() {
    local out=$1 n=$2
    shift 2
    local opts=()
    while [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
    local args=()
    while [ $# -gt 0 ]; do args+=(--command-name "$1" "$2"); shift 2; done
    hyperfine -N --style basic --runs "$n" --export-json "$out" "${opts[@]}" "${args[@]}"
}

# The same, one run of each command per round, so that a slow moment of the
# disk falls on every command alike instead of on whichever ran then; the
# rounds' JSON files are merged into one, as hyperfine would have written it.
# timeit_interleaved NAME ROUNDS RUNS_PER_ROUND [options] -- commands...
timeit_interleaved() {
    local out=$1 n=$2 per=$3 i
    shift 3
    for ((i = 1; i <= n; i++)); do
        timeit "$out.$i" "$per" "$@"
    done
    python3 - "$out" "$n" <<'PY'
import json, statistics, sys
out, n = sys.argv[1], int(sys.argv[2])
rounds = [json.load(open("%s.%d" % (out, i))) for i in range(1, n + 1)]
merged = []
for k, first in enumerate(rounds[0]["results"]):
    rs = [r["results"][k] for r in rounds]
    times = [t for r in rs for t in r["times"]]
    merged.append(dict(first, times=times, median=statistics.median(times), mean=statistics.mean(times),
                       min=min(times), max=max(times),
                       stddev=statistics.stdev(times) if len(times) > 1 else 0.0,
                       user=statistics.mean(r["user"] for r in rs),
                       system=statistics.mean(r["system"] for r in rs)))
json.dump({"results": merged}, open(out, "w"), indent=1)
PY
}

# What a generated set embeds for fresh databases, in a few words.
snapshot_of() {
    local note
    if grep -q '^ *\.snapshot_sql = [A-Za-z_]' "$1" && ! grep -q '^ *\.snapshot_sql = NULL' "$1"; then
        echo "set has a snapshot"
    elif grep -q snapshot_len "$1"; then
        note=$(sed -n 's/^ *\.snapshot_note = "\(.*\)"$/\1/p' "$1" | head -1)
        echo "set has no snapshot: ${note:0:90}"
    else
        echo "set has no snapshot field (format 1)"
    fi
}

# The files of one database.
dbfiles() { echo "$1" "$1-journal" "$1-wal" "$1-shm"; }

# The schema and rows of a database, without the ledger's times, to compare.
dump() {
    sqlite3 "$1" "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name;
                  SELECT version, name, checksum FROM schema_migrations ORDER BY version;"
}

"${cc[@]}" -O2 -std=c11 -I"$src/tests/helpers" "$src/tests/helpers/dbsame.c" $sqlite_libs -o "$work/dbsame"

for n in $sizes; do
    h=$work/h$n c=$work/cli$n b=$work/b$n
    r=$(runs_for "$n")
    say "N=$n: history, CLI scripts"
    python3 "$src/tests/helpers/gen_history.py" --out "$h" --count "$n" --seed "$seed" --bulk-rows "$bulk"
    python3 "$bench/cli_scripts.py" "$h" "$c"
    cat "$c/sizes"
    mkdir -p "$b"
    compile=("$sqlmig" compile "$h" --symbol bench_history
             --output-c "$b/bench_history.c" --output-h "$b/bench_history.h")

    # ---- 4: sqlmig compile vs one replay by the CLI into :memory: ----------
    if has 4; then
        say "N=$n: figure 4, sqlmig compile ($r runs)"
        warm=(--warmup 1); [ "$n" -ge "$big" ] && warm=()
        timeit "$json/compile-$n.json" "$r" "${warm[@]}" -- \
            sqlmig-compile "${compile[*]}" \
            cli-memory "sqlite3 -bail :memory: '.read $c/concat.sql'"
        "${report[@]}" ratio "$rows" --json "$json/compile-$n.json" --sqlmig sqlmig-compile \
            --baseline cli-memory --figure "4 compile vs CLI replay into :memory:" --n "$n" \
            --mode memory --goal le:1.5
    fi
    # The hosts' set: figure 4's output, unless BENCH_COMPILE_ARGS asks for
    # another (--no-snapshot, when the snapshot makes compile too slow).
    if [ -n "$compile_args" ] || [ ! -f "$b/bench_history.c" ]; then
        t0=$SECONDS
        "${compile[@]}" $compile_args
        echo "sqlmig compile $compile_args: $(( SECONDS - t0 )) s"
    fi

    say "N=$n: host and allocation counter (cc -O2)"
    for p in host allocs; do
        "${cc[@]}" -O2 -std=c11 -I"$src/runtime" -I"$b" "$bench/$p.c" "$b/bench_history.c" \
            "$lib" $sqlite_libs -o "$b/$p"
    done
    snap_note=$(snapshot_of "$b/bench_history.c")
    # The default limit refuses a snapshot much bigger than the history's SQL
    # (bulk rows): a second host whose set has one whatever its size shows
    # what the snapshot path costs.
    if has 2 && [ "$n" -le "$fresh_max" ]; then
        mkdir -p "$b/snap"
        "$sqlmig" compile "$h" --symbol bench_history --snapshot-max "$snap_max" \
            --output-c "$b/snap/bench_history.c" --output-h "$b/snap/bench_history.h"
        "${cc[@]}" -O2 -std=c11 -I"$src/runtime" -I"$b/snap" "$bench/host.c" \
            "$b/snap/bench_history.c" "$lib" $sqlite_libs -o "$b/snap/host"
        snap_forced=$(snapshot_of "$b/snap/bench_history.c")
    fi

    for mode in $modes; do
        wal=(); sfx=
        [ "$mode" = wal ] && wal=(--wal) && sfx=_wal
        w=${wal[*]:-}

        # ---- 2 and 3: a fresh database --------------------------------------
        if has 2 && [ "$n" -le "$fresh_max" ]; then
            say "N=$n $mode: figures 2 and 3, fresh database ($r runs)"
            d=$dbs/fresh-$n-$mode
            # Each command starts from a disk that has written back what the
            # previous run left (sync), and from no database at all, or (the
            # two *-each) from the database at version 1 that first.sql makes:
            # a fresh database is migrated in one transaction, so one
            # transaction per migration is what an upgrade does.
            prep=()
            for k in cli-each host-each; do
                prep+=(--prepare "sh -c 'rm -f $(dbfiles "$d-$k.db") && sqlite3 $d-$k.db \
                    \".read $c/first$sfx.sql\" >/dev/null && sync'")
            done
            for k in cli-batch host-batch host-default host-snapshot; do
                prep+=(--prepare "sh -c 'rm -f $(dbfiles "$d-$k.db") && sync'")
            done
            timeit_interleaved "$json/fresh-$n-$mode.json" "$r" 1 "${prep[@]}" -- \
                cli-each "sqlite3 -bail $d-cli-each.db '.read $c/rest.sql'" \
                host-each "$b/host $w $d-host-each.db" \
                cli-batch "sqlite3 -bail $d-cli-batch.db '.read $c/batch$sfx.sql'" \
                host-batch "$b/host $w --replay $d-host-batch.db" \
                host-default "$b/host $w $d-host-default.db" \
                host-snapshot "$b/snap/host $w $d-host-snapshot.db"
            # Each did the same work: the same schema, rows and ledger.
            dump "$d-cli-each.db" >"$d.expect"
            for k in host-each cli-batch host-batch host-default host-snapshot; do
                dump "$d-$k.db" | cmp -s - "$d.expect" || {
                    echo "run.sh: $d-$k.db differs from $d-cli-each.db" >&2; exit 1; }
            done
            # And the one the snapshot made is the replay's, as dbsame.h defines it.
            "$work/dbsame" "$d-host-default.db" "$d-host-batch.db" || exit 1
            if [ "$mode" = wal ]; then
                for k in host-each host-batch; do
                    [ "$(sqlite3 "$d-$k.db" 'PRAGMA journal_mode')" = wal ] || {
                        echo "run.sh: $d-$k.db is not in WAL mode" >&2; exit 1; }
                done
            fi
            f=$json/fresh-$n-$mode.json
            "${report[@]}" ratio "$rows" --json "$f" --sqlmig host-each --baseline cli-each \
                --figure "2 upgrade from version 1, one transaction per migration" --n "$n" --mode "$mode" \
                --goal le:1.10
            "${report[@]}" ratio "$rows" --json "$f" --sqlmig host-batch --baseline cli-batch \
                --figure "2 fresh apply, batch" --n "$n" --mode "$mode" --goal le:1.10
            info=(); [ "$n" = 1000 ] || info=(--info)
            "${report[@]}" ratio "$rows" --json "$f" --sqlmig host-default --baseline host-each \
                --figure "3 default path vs per-migration upgrade from version 1" --n "$n" --mode "$mode" \
                --goal ge:20 --note "$snap_note" "${info[@]}"
            "${report[@]}" ratio "$rows" --json "$f" --sqlmig host-default --baseline host-batch \
                --figure "3 default path vs batch replay" --n "$n" --mode "$mode" --goal ge:5 \
                --note "$snap_note" "${info[@]}"
            "${report[@]}" ratio "$rows" --json "$f" --sqlmig host-snapshot --baseline host-each \
                --figure "3b snapshot forced (--snapshot-max $snap_max) vs per-migration upgrade" \
                --n "$n" --mode "$mode" --goal ge:20 --note "$snap_forced" "${info[@]}"
            "${report[@]}" ratio "$rows" --json "$f" --sqlmig host-snapshot --baseline host-batch \
                --figure "3b snapshot forced vs batch replay" \
                --n "$n" --mode "$mode" --goal ge:5 --note "$snap_forced" "${info[@]}"
        fi

        # ---- 1: no-op start --------------------------------------------------
        if has 1 || has 6; then
            d=$dbs/noop-$n-$mode.db
            rm -f $(dbfiles "$d")
            "$b/host" $w "$d"
            "$bare" $w --expect "$n" "$d"
        fi
        if has 1; then
            say "N=$n $mode: figure 1, no-op start ($fast_runs runs)"
            # Rounds of 5 runs each, alternating: the first comparison, run
            # in two blocks, showed 1.35x that rounds of 10 brought to 1.02x.
            timeit_interleaved "$json/noop-$n-$mode.json" $(( (fast_runs + 4) / 5 )) 5 --warmup 2 -- \
                bare "$bare $w $d" \
                host "$b/host $w $d"
            "${report[@]}" ratio "$rows" --json "$json/noop-$n-$mode.json" --sqlmig host --baseline bare \
                --figure "1 no-op start vs bare ledger read" --n "$n" --mode "$mode" --goal le:1.10
        fi
        if has 6; then
            say "N=$n $mode: figure 6, allocations on the no-op path"
            "$b/allocs" $w "$d" | tee "$work/allocs-$n-$mode.txt" || true
            own=$(sed -n 's/^own=//p' "$work/allocs-$n-$mode.txt")
            same=$(sed -n 's/^same *mallocs=\([0-9]*\).*/\1/p' "$work/allocs-$n-$mode.txt")
            "${report[@]}" value "$rows" --figure "6 allocations by sqlmig on the no-op path" \
                --n "$n" --mode "$mode" --value "${own:-999}" --unit allocations --goal le:0 \
                --note "SQLite's own for the one ledger query: $same mallocs"
        fi
    done
done

# ---- 5: gcc -O2 over the C of a ~10 MiB history ------------------------------
if has 5; then
    say "figure 5, cc -O2 -c of a ~10 MiB history ($(( fast_runs < 10 ? fast_runs : 10 )) runs)"
    g=$work/big
    python3 "$bench/gen_big.py" --out "$g/migrations" --mib 10
    "$sqlmig" compile "$g/migrations" --symbol bench_history \
        --output-c "$g/bench_history.c" --output-h "$g/bench_history.h"
    sql_bytes=$(cat "$g"/migrations/*.sql | wc -c)
    c_bytes=$(wc -c <"$g/bench_history.c")
    nfiles=$(ls "$g"/migrations/*.sql | wc -l)
    r5=$(( fast_runs < 10 ? fast_runs : 10 ))
    timeit "$json/gcc-big.json" "$r5" --warmup 1 -- \
        cc-O2 "${cc[*]} -O2 -std=c11 -I$src/runtime -I$g -c $g/bench_history.c -o $g/bench_history.o"
    "${report[@]}" value "$rows" --json "$json/gcc-big.json" --sqlmig cc-O2 \
        --figure "5 cc -O2 -c of the generated C" --goal le:2 \
        --note "$nfiles migrations, SQL $sql_bytes bytes ($(awk "BEGIN{printf \"%.1f\", $sql_bytes/1048576}") MiB), .c $c_bytes bytes"
fi

# ---- 6: runtime .text at -Os, and allocator calls ----------------------------
if has 6; then
    say "figure 6, runtime .text at -Os"
    o=$work/sqlmig-Os.o
    rm -f "$o"
    if ! "${cc[@]}" -Os -std=c11 -I"$src/runtime" -c "$src/runtime/sqlmig.c" -o "$o"; then
        # runtime/sqlmig.c is edited while this runs: say so, measure the rest.
        "${report[@]}" value "$rows" --figure "6 runtime .text at -Os" --goal le:8192 \
            --error "runtime/sqlmig.c did not compile"
    fi
fi
if has 6 && [ -f "$work/sqlmig-Os.o" ]; then
    o=$work/sqlmig-Os.o
    size -A "$o" | tee "$work/sqlmig-Os.size"
    text=$(awk '$1 == ".text" { print $2 }' "$work/sqlmig-Os.size")
    "${report[@]}" value "$rows" --figure "6 runtime .text at -Os" --value "$text" --unit bytes \
        --goal le:8192 --note "${cc[*]} -Os -std=c11, size -A"
    # What a host that calls only sqlmig_migrate() carries: the runtime in a
    # section per function, and the linker keeping what that call reaches.
    og=$work/sqlmig-Os-sections.o
    printf '#include "sqlmig.h"\nint main(void) { static const struct sqlmig_set s; return sqlmig_migrate(0, &s, 0, 0); }\n' \
        >"$work/migrate_only.c"
    if "${cc[@]}" -Os -std=c11 -ffunction-sections -fdata-sections -I"$src/runtime" -c "$src/runtime/sqlmig.c" -o "$og" &&
       "${cc[@]}" -Os -std=c11 -I"$src/runtime" "$work/migrate_only.c" "$og" -lsqlite3 -Wl,--gc-sections \
           -Wl,-Map="$work/migrate_only.map" -o "$work/migrate_only"; then
        kept=$(python3 - "$work/migrate_only.map" "$og" <<'PY'
import sys
# The sizes of the .text sections of the object that the link kept (the
# memory map; discarded ones are listed before it).
path, obj = sys.argv[1], sys.argv[2]
total, on, section = 0, False, None
for line in open(path):
    if line.startswith("Linker script and memory map"):
        on = True
        continue
    if not on:
        continue
    f = line.split()
    if f and f[0].startswith(".text"):
        section = f[0]
        f = f[1:]
    elif not (f and f[0].startswith("0x")):
        section = None
    if section and len(f) == 3 and f[0].startswith("0x") and f[2] == obj:
        total += int(f[1], 16)
print(total)
PY
)
        "${report[@]}" value "$rows" --figure "6 runtime .text kept for a host that calls only sqlmig_migrate()" \
            --value "$kept" --unit bytes --goal le:8192 --info \
            --note "-Os -ffunction-sections, linked with --gc-sections"
    fi
    nm -u "$o" | awk '{ print $NF }' >"$work/sqlmig-Os.undefined"
    allocators=$(grep -Ec '^(malloc|calloc|realloc|reallocarray|free|strdup|strndup|aligned_alloc|posix_memalign|sqlite3_(malloc|malloc64|realloc|realloc64|mprintf|vmprintf|str_new|free))$' \
                 "$work/sqlmig-Os.undefined" || true)
    echo "allocator symbols in nm -u: $allocators"
    "${report[@]}" value "$rows" --figure "6 allocator symbols in nm -u of the runtime" \
        --value "$allocators" --unit symbols --goal le:0
fi

# ---- results.md ----------------------------------------------------------------
elapsed=$(( $(date +%s) - started ))
{
    echo "# sqlmig benchmarks"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); whole run: ${elapsed} s"
    echo "- machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1), Linux $(uname -r)"
    echo "- bench folder: $work ($(df -T "$dbs" | awk 'NR == 2 { print $2 " on " $1 }'))"
    echo "- tools: $(hyperfine --version), sqlite3 CLI $(sqlite3 --version | cut -d' ' -f1), $("${cc[@]}" --version | head -1)"
    echo "- sizes: $sizes (fresh apply, figures 2 and 3: up to $fresh_max); modes: $modes"
    echo "- runs: $runs (sizes >= $big: $big_runs); no-op start: $fast_runs; cc -O2: $(( fast_runs < 10 ? fast_runs : 10 ))"
    echo "- times are medians of whole processes; ratio = sqlmig median / baseline median"
    echo
    "${report[@]}" markdown "$rows" -
    if [ -f "$work/sqlmig-Os.undefined" ]; then
        echo
        echo "Undefined symbols of runtime/sqlmig.c at -Os (nm -u): no allocator among them:"
        echo
        echo "    $(tr '\n' ' ' <"$work/sqlmig-Os.undefined" | sed 's/ $//')"
    fi
    if ls "$work"/allocs-*.txt >/dev/null 2>&1; then
        echo
        echo "SQLite's allocations (SQLITE_CONFIG_MALLOC wrappers, lookaside off), bench_allocs:"
        echo "bare = the baseline's query, same = the query sqlmig runs, by hand,"
        echo "migrate = sqlmig_migrate() on the up-to-date database:"
        for f in "$work"/allocs-*.txt; do
            echo
            echo "    ${f##*/allocs-}" | sed 's/\.txt$//'
            sed 's/^/    /' "$f"
        done
    fi
} >"$work/results.md"
say "results ($work/results.md)"
cat "$work/results.md"
