#!/usr/bin/env bash
# run.sh — fuzz one target for a while and say what came of it.
#
# Usage: tests/campaigns/fuzz/run.sh TARGET SECONDS [JOBS]
#   TARGET   a libFuzzer executable: BUILD/tests/fuzz/fuzz_scan or fuzz_compile
#   SECONDS  wall-clock time of the run
#   JOBS     processes fuzzing at once (default 1); CPU time = SECONDS x JOBS
#
# Next to TARGET it keeps, from one run to the next:
#   TARGET.corpus/     the corpus the runs grow (seeded from corpus_*/ and
#                      regressions/ here, which are only read), merged down
#                      to the inputs that matter after each clean run
#   TARGET.artifacts/  crash-*, leak-*, timeout-*, oom-* inputs
#   TARGET.logs/       libFuzzer's log of each job of the last run
#   TARGET.history     one line per run: date, jobs, seconds, executions,
#                      corpus size, crashes; the script ends by adding them up
# Exit status: 0 when nothing was found, else libFuzzer's (1, or 70 for a
# timeout). A finding goes to regressions/NAME/ as a test (see README.md).
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    sed -n '3,8p' "$0" >&2
    exit 2
fi
target=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
seconds=$2
jobs=${3:-1}
here=$(cd "$(dirname "$0")" && pwd)
name=$(basename "$target")
short=${name#fuzz_}

corpus=$target.corpus
artifacts=$target.artifacts
logs=$target.logs
history=$target.history
# fuzz_compile writes its folders here; a killed job leaves one behind.
tmp=$target.tmp
mkdir -p "$corpus" "$artifacts" "$logs" "$tmp"
rm -f "$logs"/fuzz-*.log
rm -rf "${tmp:?}"/*

inputs=("$here/corpus_$short" "$here/regressions/$short")
options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=2
         -print_final_stats=1 -artifact_prefix="$artifacts/")
[ -f "$here/$short.dict" ] && options+=(-dict="$here/$short.dict")

before=$(ls "$artifacts" | grep -c -E '^(crash|leak|timeout|oom)-' || true)
echo "run.sh: $name, $jobs job(s) x $seconds s, corpus $corpus"
status=0
# -jobs runs each job as its own process with its log in fuzz-N.log (in the
# current folder); the jobs share the corpus folder and pick up each
# other's finds.
(cd "$logs" && TMPDIR=$tmp UBSAN_OPTIONS=print_stacktrace=1 \
    "$target" -jobs="$jobs" -workers="$jobs" "${options[@]}" "$corpus" "${inputs[@]}") \
    > "$logs/driver.log" 2>&1 || status=$?
rm -rf "${tmp:?}"/*

# Keep the corpus small for the next run: the inputs that cover the same
# features with fewer bytes (libFuzzer's merge), unless something was found.
if [ "$status" -eq 0 ]; then
    rm -rf "$corpus.min"
    mkdir "$corpus.min"
    if (cd "$logs" && TMPDIR=$tmp "$target" -merge=1 -close_fd_mask=2 -timeout=10 \
            "$corpus.min" "$corpus") > "$logs/merge.log" 2>&1; then
        rm -rf "$corpus"
        mv "$corpus.min" "$corpus"
    else
        echo "run.sh: the corpus merge failed (see $logs/merge.log); corpus kept as it was" >&2
        rm -rf "$corpus.min"
    fi
    rm -rf "${tmp:?}"/*
fi

execs=0
for log in "$logs"/fuzz-*.log; do
    [ -f "$log" ] || continue
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    execs=$((execs + ${n:-0}))
    # The end of each log: the final statistics, or the report of a finding.
    echo "--- $(basename "$log") (last lines)"
    tail -n 12 "$log"
done
after=$(ls "$artifacts" | grep -c -E '^(crash|leak|timeout|oom)-' || true)
found=$((after - before))
size=$(ls "$corpus" | wc -l)
line="$(date -u +%Y-%m-%dT%H:%M:%SZ) jobs=$jobs seconds=$seconds executions=$execs corpus=$size crashes=$found status=$status"
echo "$line" >> "$history"
echo "run.sh: $line"
awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
       cpu += v["jobs"] * v["seconds"]; ex += v["executions"]; cr += v["crashes"]; runs++ }
     END { printf "run.sh: all runs of this target so far: %d run(s), %d CPU-seconds, %d executions, %d crashes\n", runs, cpu, ex, cr }' \
    "$history"
if [ "$found" -gt 0 ] || [ "$status" -ne 0 ]; then
    echo "run.sh: FOUND something: see $artifacts and $logs" >&2
    ls -t "$artifacts" | head -n 5 >&2
    [ "$status" -ne 0 ] || status=1
fi
exit "$status"
